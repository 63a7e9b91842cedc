/*
 * perf/book_gen.h - what bench_book.c and book_gen.c share: the order-flow
 * profiles, the engine set-up of a profile, the event sink of the passes and
 * the generated command stream. Internal to perf/ (bench_book only).
 *
 *   book_gen.c    the order-stream generator: profiles, rng, the market price
 *                 walk, the message mix, driving a shadow engine to build the
 *                 whole stream (pre-fill, warm-up, timed part) before any
 *                 timing; also the small helpers both files use;
 *   bench_book.c  the measured passes over that stream (per-op and batch
 *                 timed, into perf/hist.h's histograms), the report and
 *                 --record.
 *
 * The symbols shared across the two files carry the bench_ prefix.
 */
#ifndef DTX_PERF_BOOK_GEN_H
#define DTX_PERF_BOOK_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/command.h"
#include "dtx/engine.h"
#include "dtx/event.h"
#include "dtx/types.h"

#define BENCH_TICK 1                  /* tick size, PRICE9 units */
#define BENCH_P0 1000000              /* start price of every instrument, ticks */
#define BENCH_HALF_RANGE 4096         /* book range: P0 - 4096 .. P0 + 4095 */

/* Message kinds of the mix (kind_count, the per-kind histograms). */
enum { KIND_GTC, KIND_IOC, KIND_CANCEL, KIND_MOVE, KIND_COUNT };

typedef struct profile_def {
    const char *name;
    uint32_t n_instr;
    uint32_t n_accounts;
    uint32_t resting_per_instr; /* target */
    uint64_t default_ops;
    uint64_t default_warmup;
    uint32_t default_runs;      /* batch-timed passes */
    int64_t depth;              /* mean distance of new orders behind the market, ticks */
    uint64_t market_every;      /* messages of a book per market price step, on average */
} profile_def;

/* hot, large */
extern const profile_def bench_profiles[2];

/* ---- small helpers ----------------------------------------------------------- */

/* Prints "bench_book: <message>" to stderr and exits 1. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Zeroed, page-aligned memory (free() it); dies when out of memory. */
void *bench_xalloc(size_t bytes);

/* ---- the event sink of the measured passes ----------------------------------- */

/* Counts events by type and folds a few fields into a checksum: no printing,
 * no allocation. The generator folds the timed range's events of its shadow
 * engine with the same function (stream.expect); every pass must match it. */
typedef struct bench_sink {
    uint64_t by_type[32];
    uint64_t checksum;
} bench_sink;

void bench_sink_fn(void *ctx, const dtx_event *events, size_t n);

/* ---- the profile's engine configuration -------------------------------------- */

typedef struct setup {
    const profile_def *p;
    dtx_instrument_config *instr;
    dtx_engine_config cfg;
    uint32_t resting_target; /* all books */
} setup;

/* Fills s for profile p (s->instr is allocated: free it). */
void bench_setup_init(setup *s, const profile_def *p);

/* A fresh engine of s's configuration with sink fn(ctx); dies on failure. */
dtx_engine *bench_setup_engine(const setup *s, dtx_event_sink_fn fn, void *ctx);

/* ---- the generated stream ------------------------------------------------------ */

typedef struct stream {
    dtx_command *cmds;
    uint64_t n_prefill, n_warmup, n_timed; /* consecutive ranges of cmds */
    uint64_t kind_count[KIND_COUNT];
    uint64_t traded_msgs;
    bench_sink expect;   /* the generator engine's events over the timed range */
    uint64_t anomalies;  /* rejects of any kind over the whole stream */
    uint64_t rejects, cancel_rejects, business_rejects, no_slot;
    int64_t last_min, last_max; /* range of the last trade price over the timed part */
    uint64_t levels[2], top_orders[2], book_orders[2]; /* book 1 at the end */
} stream;

/* Generates the whole command stream of su's profile from seed: the pre-fill
 * (the resting target), warmup commands, then ops timed commands, by driving
 * a shadow engine (see book_gen.c). out->cmds is allocated: free it. */
void bench_generate(const setup *su, uint64_t seed, uint64_t warmup, uint64_t ops, stream *out);

#endif
