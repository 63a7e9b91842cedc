/*
 * bench_book.c - throughput and latency of the matching engine on two order
 * flows, in the manner of exchange-core's perf tests.
 *
 *   hot    one instrument, 2,000 accounts, about 1,000 resting orders
 *   large  10 instruments, 100,000 accounts, about 1,000,000 resting orders
 *
 * Both send the exchange-core single-pair mix: 9% GTC limit orders, 3% IOC,
 * 6% cancels and 82% moves (cancel-replace to a new price, by OrderID, with a
 * fresh ClOrdID); prices drift toward the last trade and about 6% of the
 * messages trade.
 *
 * How it works. The whole command stream (pre-fill of the books, warm-up, timed
 * part) is generated first, untimed, by driving a shadow engine: its events tell
 * the generator which OrderID each order got, what rests where and the last
 * trade price. The engine is deterministic (engine.h), so a fresh engine fed the
 * same array assigns the same OrderIDs, and every measured pass replays the array
 * on a fresh engine: pre-fill and warm-up untimed, then the timed part.
 *   pass 1 (per-op timed): lfence;rdtsc / rdtscp;lfence around each
 *          dtx_engine_submit(), recorded into log-linear histograms (fixed
 *          arrays, one per message kind); its ops/s includes the timer overhead.
 *   pass 2.. (batch timed): no per-op timer, one rdtsc per 64Ki commands; the
 *          ops/s reported is the median over these passes.
 * Every pass must produce the same event counts and checksum as the generator's
 * engine did over the timed range; the table says whether they did.
 * The event sink only counts events by type and folds a few fields into a
 * checksum: no printing, no allocation.
 *
 * Run: build-bench/bench_book [--profile hot|large|both] [--ops N] [--seed S]
 *      [--cpu C] [--runs R] [--warmup N] [--record] [--results FILE]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#else
#error "bench_book times with rdtsc: x86 only"
#endif

#include "dtx/command.h"
#include "dtx/engine.h"
#include "dtx/event.h"
#include "dtx/types.h"

/* ---- constants ------------------------------------------------------------ */

#define BENCH_TICK 1                  /* tick size, PRICE9 units */
#define BENCH_P0 1000000              /* start price of every instrument, ticks */
#define BENCH_HALF_RANGE 4096         /* book range: P0 - 4096 .. P0 + 4095 */
#define BENCH_TS0 1767225600000000000ULL /* 2026-01-01 UTC, sequencer clock */
#define BENCH_BATCH 65536u            /* commands per rdtsc in the batch passes */
#define SLOT_BITS 24                  /* ClOrdID = serial << 24 | generator slot */
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
/* Move/new-order aggressiveness controller: probability that a move or a GTC
 * order is priced through the opposite best, PA0 at the resting target, plus
 * PA_GAIN per unit of relative excess. The balance of the mix puts the
 * equilibrium near 0.03 (see gen_step). */
#define PA0 0.03
#define PA_GAIN 0.5
#define PA_INT_GAIN 1e-4
/* The market price leans back to the start price: P(up) = 1/2 - offset/(2 R). */
#define MARKET_REVERT 1024
#define PA_MAX 0.3

enum { KIND_GTC, KIND_IOC, KIND_CANCEL, KIND_MOVE, KIND_COUNT };
static const char *const kind_names[KIND_COUNT] = {"GTC", "IOC", "cancel", "move"};

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

static const profile_def profiles[] = {
    {"hot", 1, 2000, 1000, 10000000, 1000000, 5, 16, 200},
    {"large", 10, 100000, 100000, 5000000, 1000000, 3, 600, 200},
};

/* ---- small helpers ----------------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_book: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *xalloc(size_t bytes)
{
    void *p = NULL;
    size_t rounded = (bytes + 4095) & ~(size_t)4095;
    if (rounded == 0)
        rounded = 4096;
    if (posix_memalign(&p, 4096, rounded) != 0)
        die("out of memory (%zu bytes)", bytes);
    memset(p, 0, rounded);
    return p;
}

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias negligible here). */
static uint64_t rng_below(rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Uniform in [0, 1). */
static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Distance >= 0 with mean about m, dense near 0, at most 4m: the product of
 * two uniforms (density -ln x), which needs no libm. */
static int64_t rng_depth(rng *r, int64_t m)
{
    uint64_t span = (uint64_t)(2 * m);
    if (span == 0)
        return 0;
    return (int64_t)(rng_below(r, span) * rng_below(r, span) / (uint64_t)m);
}

/* ---- time --------------------------------------------------------------------- */

static inline uint64_t tsc_begin(void)
{
    _mm_lfence();
    return __rdtsc();
}

static inline uint64_t tsc_end(void)
{
    unsigned aux;
    uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    return t;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* TSC cycles per ns, measured once against CLOCK_MONOTONIC over 200 ms. */
static double tsc_calibrate(void)
{
    uint64_t n0 = mono_ns(), c0 = __rdtsc();
    struct timespec d = {0, 200000000L};
    while (nanosleep(&d, &d) != 0 && errno == EINTR) {
    }
    uint64_t n1 = mono_ns(), c1 = __rdtsc();
    return (double)(c1 - c0) / (double)(n1 - n0);
}

/* ---- histogram: log-linear buckets of cycles (HdrHistogram-like) ---------------- */

/* Values below 128 have a bucket each; above, each power of two is split into
 * 64 buckets, so a bucket is at most 1/64 (1.6%) of its value wide. */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_HALF (HIST_SUB / 2)
#define HIST_BUCKETS (HIST_SUB + HIST_HALF * (64 - HIST_SUB_BITS))

typedef struct hist {
    uint64_t n;
    uint64_t max;
    uint64_t count[HIST_BUCKETS];
} hist;

static inline unsigned hist_index(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - (HIST_SUB_BITS - 1);
    return shift * HIST_HALF + (unsigned)(v >> shift);
}

/* Highest value that falls into bucket i. */
static uint64_t hist_bucket_top(unsigned i)
{
    if (i < HIST_SUB)
        return i;
    unsigned shift = i / HIST_HALF - 1;
    uint64_t sub = i - shift * HIST_HALF;
    return ((sub + 1) << shift) - 1;
}

static inline void hist_add(hist *h, uint64_t v)
{
    h->count[hist_index(v)]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

static void hist_merge(hist *into, const hist *h)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->count[i] += h->count[i];
    into->n += h->n;
    if (h->max > into->max)
        into->max = h->max;
}

/* The value at quantile q: the top of the bucket holding the ceil(q n)-th
 * sample, at most the exact maximum. */
static uint64_t hist_quantile(const hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n);
    if ((double)rank < q * (double)h->n)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t cum = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        cum += h->count[i];
        if (cum >= rank) {
            uint64_t top = hist_bucket_top(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}

/* ---- the event sink of the measured passes -------------------------------------- */

typedef struct bench_sink {
    uint64_t by_type[32];
    uint64_t checksum;
} bench_sink;

static inline uint64_t event_fold(uint64_t ck, const dtx_event *ev)
{
    uint64_t x = ev->exec_id + ev->order_id * 0x9e3779b97f4a7c15ULL +
                 (uint64_t)ev->price + ((uint64_t)ev->leaves_qty << 32) + ev->type;
    return (ck ^ x) * 0x100000001b3ULL;
}

static void bench_sink_fn(void *ctx, const dtx_event *events, size_t n)
{
    bench_sink *s = ctx;
    uint64_t ck = s->checksum;
    for (size_t i = 0; i < n; i++) {
        s->by_type[events[i].type & 31]++;
        ck = event_fold(ck, &events[i]);
    }
    s->checksum = ck;
}

static uint64_t sink_events(const bench_sink *s)
{
    uint64_t n = 0;
    for (int i = 0; i < 32; i++)
        n += s->by_type[i];
    return n;
}

static int sink_equal(const bench_sink *a, const bench_sink *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

/* ---- the profile's engine configuration ----------------------------------------------- */

typedef struct setup {
    const profile_def *p;
    dtx_instrument_config *instr;
    dtx_engine_config cfg;
    uint32_t resting_target; /* all books */
} setup;

static void setup_init(setup *s, const profile_def *p)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->resting_target = p->resting_per_instr * p->n_instr;
    s->instr = xalloc(sizeof(dtx_instrument_config) * p->n_instr);
    for (uint32_t i = 0; i < p->n_instr; i++) {
        dtx_instrument_config *ic = &s->instr[i];
        ic->security_id = i + 1;
        snprintf(ic->symbol, sizeof ic->symbol, "BENCH-%u", (i + 1) & 0xffffu);
        ic->type = DTX_INSTR_PERPETUAL;
        ic->tick_size = BENCH_TICK;
        ic->contract_multiplier = 1000000;
        ic->min_price = (int64_t)(BENCH_P0 - BENCH_HALF_RANGE) * BENCH_TICK;
        ic->max_price = (int64_t)(BENCH_P0 + BENCH_HALF_RANGE - 1) * BENCH_TICK;
        ic->min_qty = 1;
        ic->max_qty = 1000000;
        ic->lot_size = 1;
        ic->market_band_ticks = 100;
        ic->expiry = 0;
    }
    s->cfg.instruments = s->instr;
    s->cfg.n_instruments = p->n_instr;
    /* ~1.1x the resting target plus slack; the generator holds the count
     * within a few percent of the target. */
    s->cfg.max_orders = s->resting_target + s->resting_target / 10 + 1024;
    s->cfg.max_timed = 16;
    s->cfg.max_stops = 16;
    s->cfg.day_offset_ns = 0;
}

static dtx_engine *setup_engine(const setup *s, dtx_event_sink_fn fn, void *ctx)
{
    dtx_engine_config cfg = s->cfg;
    cfg.sink = fn;
    cfg.sink_ctx = ctx;
    dtx_engine *e = dtx_engine_create(&cfg);
    if (!e)
        die("dtx_engine_create (%s): %s", s->p->name, dtx_error_message());
    return e;
}

/* ---- the generator ------------------------------------------------------------------- */

/* What the generator knows of one order it sent. Slots are its own handles,
 * carried in the low bits of every ClOrdID of the order's requests, so every
 * event names its slot whatever the event type. */
typedef struct gen_slot {
    uint64_t order_id;
    uint64_t clordid;   /* current */
    int64_t price;      /* ticks */
    int64_t order_qty;
    int64_t leaves;
    uint32_t account;
    int32_t live_pos;   /* index in its book's live list; -1: not resting */
    uint16_t book;
    uint8_t side;
    uint8_t active;
} gen_slot;

typedef struct gen_book {
    uint32_t *live; /* slots of resting orders */
    uint32_t n_live;
    double pa_int;  /* integral term of the aggressiveness controller */
    int64_t market; /* market price, ticks (see gen_step) */
} gen_book;

typedef struct gen {
    const setup *su;
    const profile_def *p;
    rng r;
    dtx_engine *shadow;
    dtx_command *cmds;
    uint64_t n_cmds, cap_cmds;
    gen_slot *slots;
    uint32_t n_slots;
    uint32_t *free_list;
    uint32_t n_free;
    gen_book *books;
    uint64_t serial;
    uint64_t seq;
    int64_t min_px, max_px;
    /* per command, set by the sink */
    int traded;
    /* over the timed range */
    int in_timed;
    uint64_t kind_count[KIND_COUNT];
    uint64_t traded_msgs;
    int64_t last_min, last_max;
    bench_sink timed_sink;
    /* anomalies over the whole stream */
    uint64_t rejects, cancel_rejects, business_rejects;
    uint64_t no_slot;
} gen;

static uint64_t gen_clordid(gen *g, uint32_t slot)
{
    return (++g->serial << SLOT_BITS) | slot;
}

static void gen_live_add(gen *g, uint32_t slot)
{
    gen_slot *s = &g->slots[slot];
    if (s->live_pos >= 0)
        return;
    gen_book *b = &g->books[s->book];
    s->live_pos = (int32_t)b->n_live;
    b->live[b->n_live++] = slot;
}

static void gen_live_remove(gen *g, uint32_t slot)
{
    gen_slot *s = &g->slots[slot];
    if (s->live_pos < 0)
        return;
    gen_book *b = &g->books[s->book];
    uint32_t last = b->live[--b->n_live];
    b->live[s->live_pos] = last;
    g->slots[last].live_pos = s->live_pos;
    s->live_pos = -1;
}

static void gen_release(gen *g, uint32_t slot)
{
    gen_slot *s = &g->slots[slot];
    if (!s->active)
        return;
    gen_live_remove(g, slot);
    s->active = 0;
    g->free_list[g->n_free++] = slot;
}

/* The shadow engine's sink: keeps the generator's view of the books. */
static void gen_sink_fn(void *ctx, const dtx_event *events, size_t n)
{
    gen *g = ctx;
    if (g->in_timed)
        bench_sink_fn(&g->timed_sink, events, n);
    for (size_t i = 0; i < n; i++) {
        const dtx_event *ev = &events[i];
        uint32_t slot = (uint32_t)(ev->clordid & SLOT_MASK);
        if (slot >= g->n_slots)
            continue;
        gen_slot *s = &g->slots[slot];
        switch (ev->type) {
        case DTX_EV_NEW:
            s->order_id = ev->order_id;
            s->order_qty = ev->order_qty;
            s->leaves = ev->leaves_qty;
            break;
        case DTX_EV_ADDED:
            s->price = ev->price / BENCH_TICK;
            s->leaves = ev->leaves_qty;
            gen_live_add(g, slot);
            break;
        case DTX_EV_FILL:
            g->traded = 1;
            s->leaves = ev->leaves_qty;
            if (ev->leaves_qty == 0)
                gen_release(g, slot);
            break;
        case DTX_EV_CANCELED:
            gen_release(g, slot);
            break;
        case DTX_EV_REPLACED:
            s->clordid = ev->clordid;
            s->order_qty = ev->order_qty;
            s->leaves = ev->leaves_qty;
            s->price = ev->price / BENCH_TICK;
            break;
        case DTX_EV_REJECT:
            g->rejects++;
            gen_release(g, slot);
            break;
        case DTX_EV_CANCEL_REJECT:
            g->cancel_rejects++;
            break;
        case DTX_EV_BUSINESS_REJECT:
            g->business_rejects++;
            break;
        default:
            break;
        }
    }
}

static dtx_command *gen_cmd(gen *g, uint16_t type)
{
    if (g->n_cmds == g->cap_cmds)
        die("command array full (%" PRIu64 ")", g->cap_cmds);
    dtx_command *c = &g->cmds[g->n_cmds++];
    *c = dtx_command_blank(type);
    c->seq = ++g->seq;
    c->ts = BENCH_TS0 + g->seq * 100; /* a message every 100 ns */
    return c;
}

static void gen_submit(gen *g, const dtx_command *c)
{
    g->traded = 0;
    dtx_engine_submit(g->shadow, c);
    if (g->in_timed)
        g->traded_msgs += (uint64_t)g->traded;
}

static int64_t gen_clamp(const gen *g, int64_t px)
{
    return px < g->min_px ? g->min_px : px > g->max_px ? g->max_px : px;
}

/* Last trade price in ticks, INT64_MIN before the first trade. */
static int64_t gen_last(const gen *g, uint32_t bi)
{
    int64_t last = dtx_engine_last_price(g->shadow, bi + 1);
    return last == DTX_PRICE_NULL ? INT64_MIN : last / BENCH_TICK;
}

/* Best bid and ask in ticks; INT64_MIN / INT64_MAX when a side is empty. */
static void gen_best(const gen *g, uint32_t bi, int64_t *bid, int64_t *ask)
{
    int64_t b, a;
    dtx_engine_best(g->shadow, bi + 1, &b, &a);
    *bid = b == DTX_PRICE_NULL ? INT64_MIN : b / BENCH_TICK;
    *ask = a == DTX_PRICE_NULL ? INT64_MAX : a / BENCH_TICK;
}

static int gen_first_visit(void *ctx, const dtx_order_view *o)
{
    *(int64_t *)ctx = o->shown_qty;
    return 1;
}

/* Displayed quantity of the first order in time priority at the best level of
 * side; 0 when the side is empty. */
static int64_t gen_first_maker(const gen *g, uint32_t bi, uint8_t side)
{
    int64_t q = 0;
    dtx_engine_visit_book(g->shadow, bi + 1, side, gen_first_visit, &q);
    return q;
}

/* Passive price at distance d >= 0 behind the market price m (bids at m - d,
 * asks at m + 1 + d), kept off the opposite best and inside the range. */
static int64_t gen_passive(const gen *g, uint8_t side, int64_t m, int64_t d, int64_t bid, int64_t ask)
{
    int64_t px;
    if (side == DTX_SIDE_BUY) {
        px = m - d;
        if (ask != INT64_MAX && px >= ask)
            px = ask - 1;
    } else {
        px = m + 1 + d;
        if (bid != INT64_MIN && px <= bid)
            px = bid + 1;
    }
    return gen_clamp(g, px);
}

/* Aggressive price: the opposite best; with sweep, now and then a tick or two
 * through it. */
static int64_t gen_through(gen *g, uint8_t side, int64_t bid, int64_t ask, int sweep)
{
    int64_t extra = sweep && rng_below(&g->r, 8) == 0 ? 1 + (int64_t)rng_below(&g->r, 2) : 0;
    return gen_clamp(g, side == DTX_SIDE_BUY ? ask + extra : bid - extra);
}

/* Probability of pricing through the opposite side, from this book's resting
 * count against its target (proportional-integral controller). */
static double gen_aggression(gen *g, uint32_t bi)
{
    gen_book *b = &g->books[bi];
    double target = (double)g->p->resting_per_instr;
    double err = ((double)b->n_live - target) / target;
    b->pa_int += PA_INT_GAIN * err;
    if (b->pa_int < -PA0)
        b->pa_int = -PA0;
    else if (b->pa_int > PA_MAX)
        b->pa_int = PA_MAX;
    double pa = PA0 + b->pa_int + PA_GAIN * err;
    return pa < 0 ? 0 : pa > PA_MAX ? PA_MAX : pa;
}

/* The market price takes a step of one tick now and then, leaning back toward
 * the start price (mean reversion keeps it well inside the book's range). */
static void gen_market_step(gen *g, gen_book *b)
{
    if (rng_below(&g->r, g->p->market_every) != 0)
        return;
    double pup = 0.5 - (double)(b->market - BENCH_P0) / (2.0 * MARKET_REVERT);
    pup = pup < 0.1 ? 0.1 : pup > 0.9 ? 0.9 : pup;
    b->market += rng_unit(&g->r) < pup ? 1 : -1;
    b->market = gen_clamp(g, b->market);
}

static void gen_new_order(gen *g, uint32_t bi, uint8_t side, uint8_t tif, int64_t px, int64_t qty)
{
    if (g->n_free == 0) {
        g->no_slot++;
        return;
    }
    uint32_t slot = g->free_list[--g->n_free];
    gen_slot *s = &g->slots[slot];
    memset(s, 0, sizeof *s);
    s->active = 1;
    s->live_pos = -1;
    s->book = (uint16_t)bi;
    s->side = side;
    s->account = 1 + (uint32_t)rng_below(&g->r, g->p->n_accounts);
    s->clordid = gen_clordid(g, slot);
    s->price = px;
    dtx_command *c = gen_cmd(g, DTX_CMD_NEW_ORDER);
    c->session = (uint16_t)(1 + s->account % 64);
    c->account = s->account;
    c->security_id = bi + 1;
    c->side = side;
    c->ord_type = DTX_ORD_LIMIT;
    c->tif = tif;
    c->clordid = s->clordid;
    c->price = px * BENCH_TICK;
    c->qty = qty;
    gen_submit(g, c);
}

static void gen_cancel(gen *g, uint32_t slot)
{
    gen_slot *s = &g->slots[slot];
    dtx_command *c = gen_cmd(g, DTX_CMD_CANCEL);
    c->session = (uint16_t)(1 + s->account % 64);
    c->account = s->account;
    c->security_id = s->book + 1u;
    c->side = s->side;
    c->clordid = gen_clordid(g, slot);
    c->orig_clordid = s->clordid;
    c->order_id = s->order_id;
    gen_submit(g, c);
}

static void gen_move(gen *g, uint32_t slot, int64_t px)
{
    gen_slot *s = &g->slots[slot];
    dtx_command *c = gen_cmd(g, DTX_CMD_REPLACE);
    c->session = (uint16_t)(1 + s->account % 64);
    c->account = s->account;
    c->security_id = s->book + 1u;
    c->side = s->side;
    c->ord_type = DTX_ORD_LIMIT;
    c->tif = DTX_TIF_GTC;
    c->clordid = gen_clordid(g, slot);
    c->orig_clordid = s->clordid;
    c->order_id = s->order_id;
    c->price = px * BENCH_TICK;
    c->qty = s->order_qty; /* unchanged: OrderQty is the total, filled included */
    gen_submit(g, c);
}

/* Maker size: 5..86 lots, mean 25. Takers (IOC) take 1..3 lots. */
static int64_t gen_gtc_qty(gen *g)
{
    return 5 + (int64_t)(rng_below(&g->r, 10) * rng_below(&g->r, 10));
}

static uint8_t gen_random_side(gen *g)
{
    return (rng_next(&g->r) >> 63) ? DTX_SIDE_BUY : DTX_SIDE_SELL;
}

/*
 * One message of the mix.
 *
 * Prices. Each book has a market price m, a slow random walk (one tick every
 * market_every messages of the book on average, mean-reverting to the start
 * price). Passive orders rest behind it (bids at m - d, asks at m + 1 + d) and
 * moves drift them toward it: 70% of moves halve (at random, up to) their
 * distance, 30% step back by a random depth; an order left on the wrong side of
 * a moving m is re-quoted just behind it. Aggressive orders (priced at the
 * opposite best) lean with the market: buys while the last trade is below m,
 * sells while it is above m + 1, either side when it is at m or m + 1. So
 * quotes follow m, trades happen at the touch and the last trade follows m.
 *
 * Resting count. With probability pa (gen_aggression) a move or a GTC order
 * is priced through the opposite best and trades. Each such trade uses up at
 * least one resting order (the maker, or the moved order itself when smaller),
 * IOCs seldom do (1..3 lots against 5..86), GTCs add one and cancels remove
 * one: the count balances near pa = 0.02-0.03. With this mix and a steady count
 * at most 9% - 6% = 3% of the messages can use up an order, so at most ~6% of
 * the messages can trade (3% IOC + 3%); aggressive movers are chosen smaller
 * than the first maker they meet, so that a trade uses up one order, not a
 * sweep, which puts the share near 5%. Cancels take the farther from m of two
 * random orders, which keeps the book compact.
 */
static void gen_step(gen *g)
{
    uint32_t bi = g->p->n_instr == 1 ? 0 : (uint32_t)rng_below(&g->r, g->p->n_instr);
    gen_book *b = &g->books[bi];
    gen_market_step(g, b);
    uint64_t r = rng_below(&g->r, 100);
    int kind = r < 9 ? KIND_GTC : r < 12 ? KIND_IOC : r < 18 ? KIND_CANCEL : KIND_MOVE;
    if (b->n_live == 0 && kind >= KIND_CANCEL)
        kind = KIND_GTC;
    int64_t m = b->market, last = gen_last(g, bi), bid, ask;
    gen_best(g, bi, &bid, &ask);
    uint8_t lean = last == INT64_MIN ? 0 : last < m ? DTX_SIDE_BUY : last > m + 1 ? DTX_SIDE_SELL : 0;
    double pa = gen_aggression(g, bi);
    if (g->in_timed) {
        g->kind_count[kind]++;
        if (last != INT64_MIN && last < g->last_min)
            g->last_min = last;
        if (last > g->last_max)
            g->last_max = last;
    }

    switch (kind) {
    case KIND_GTC: {
        int64_t qty = gen_gtc_qty(g);
        if (rng_unit(&g->r) < pa) {
            /* A marketable limit order, smaller than the first maker when it
             * can be (as for moves). */
            uint8_t side = lean ? lean : gen_random_side(g);
            uint8_t opp_side = side == DTX_SIDE_BUY ? DTX_SIDE_SELL : DTX_SIDE_BUY;
            int64_t m1 = gen_first_maker(g, bi, opp_side);
            if (m1 > 0) {
                if (m1 > 1 && qty >= m1)
                    qty = 1 + (int64_t)rng_below(&g->r, (uint64_t)(m1 - 1));
                gen_new_order(g, bi, side, DTX_TIF_GTC, gen_through(g, side, bid, ask, 0), qty);
                break;
            }
        }
        uint8_t side = gen_random_side(g);
        gen_new_order(g, bi, side, DTX_TIF_GTC,
                      gen_passive(g, side, m, rng_depth(&g->r, g->p->depth), bid, ask), qty);
        break;
    }
    case KIND_IOC: {
        uint8_t side = lean ? lean : gen_random_side(g);
        int64_t opp = side == DTX_SIDE_BUY ? ask : bid;
        int64_t px = (opp == INT64_MIN || opp == INT64_MAX) ? gen_clamp(g, m)
                                                            : gen_through(g, side, bid, ask, 1);
        gen_new_order(g, bi, side, DTX_TIF_IOC, px, 1 + (int64_t)rng_below(&g->r, 3));
        break;
    }
    case KIND_CANCEL: {
        uint32_t a = b->live[rng_below(&g->r, b->n_live)];
        uint32_t c = b->live[rng_below(&g->r, b->n_live)];
        int64_t da = g->slots[a].price - m, dc = g->slots[c].price - m;
        if (da < 0)
            da = -da;
        if (dc < 0)
            dc = -dc;
        gen_cancel(g, dc > da ? c : a);
        break;
    }
    default: {
        uint32_t slot = b->live[rng_below(&g->r, b->n_live)];
        int aggressive = 0;
        if (rng_unit(&g->r) < pa) {
            /* Of up to eight random orders, the first on the side of the lean
             * and smaller than the maker it would meet first takes. */
            int64_t first_bid = gen_first_maker(g, bi, DTX_SIDE_BUY);
            int64_t first_ask = gen_first_maker(g, bi, DTX_SIDE_SELL);
            uint32_t fallback = UINT32_MAX;
            for (int k = 0; k < 8 && !aggressive; k++) {
                uint32_t cand = k ? b->live[rng_below(&g->r, b->n_live)] : slot;
                const gen_slot *c = &g->slots[cand];
                int64_t m1 = c->side == DTX_SIDE_BUY ? first_ask : first_bid;
                if ((lean && c->side != lean) || m1 == 0)
                    continue;
                if (fallback == UINT32_MAX)
                    fallback = cand;
                if (c->leaves < m1) {
                    slot = cand;
                    aggressive = 1;
                }
            }
            if (!aggressive && fallback != UINT32_MAX) {
                slot = fallback;
                aggressive = 1;
            }
        }
        gen_slot *s = &g->slots[slot];
        int buy = s->side == DTX_SIDE_BUY;
        int64_t px;
        if (aggressive) {
            px = gen_through(g, s->side, bid, ask, 0);
        } else {
            int64_t d = buy ? m - s->price : s->price - (m + 1);
            if (d < 0)
                d = (int64_t)rng_below(&g->r, 3);
            else if (rng_below(&g->r, 10) < 7)
                d -= (d * (int64_t)rng_below(&g->r, 512) + 1023) / 1024;
            else
                d += 1 + rng_depth(&g->r, g->p->depth / 2);
            px = gen_passive(g, s->side, m, d, bid, ask);
        }
        if (px == s->price) {
            /* A move always changes the price: one tick back from the touch,
             * or forward at the edge of the range. */
            int64_t step = buy ? -1 : 1;
            px = gen_clamp(g, s->price + step);
            if (px == s->price)
                px = s->price - step;
        }
        gen_move(g, slot, px);
        break;
    }
    }
}

/* Pre-fill: the resting target per book, half each side, passive around the
 * start price (bids below, asks above, so nothing trades). */
static void gen_prefill(gen *g)
{
    const profile_def *p = g->p;
    for (uint32_t k = 0; k < p->resting_per_instr; k++) {
        for (uint32_t bi = 0; bi < p->n_instr; bi++) {
            uint8_t side = (k & 1) ? DTX_SIDE_SELL : DTX_SIDE_BUY;
            int64_t d = rng_depth(&g->r, p->depth);
            int64_t px = gen_clamp(g, side == DTX_SIDE_BUY ? BENCH_P0 - d : BENCH_P0 + 1 + d);
            gen_new_order(g, bi, side, DTX_TIF_GTC, px, gen_gtc_qty(g));
        }
    }
}

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
    double gen_seconds;
} stream;

typedef struct shape_ctx {
    int64_t price;
    uint64_t levels, top, orders;
} shape_ctx;

static int shape_visit(void *ctx, const dtx_order_view *o)
{
    shape_ctx *c = ctx;
    if (c->orders == 0 || o->price != c->price) {
        c->levels++;
        c->price = o->price;
    }
    if (c->levels == 1)
        c->top++;
    c->orders++;
    return 0;
}

static void generate(const setup *su, uint64_t seed, uint64_t warmup, uint64_t ops, stream *out)
{
    const profile_def *p = su->p;
    gen g;
    memset(&g, 0, sizeof g);
    uint64_t t0 = mono_ns();
    g.su = su;
    g.p = p;
    rng_seed(&g.r, seed ^ ((uint64_t)p->n_instr << 32));
    g.min_px = BENCH_P0 - BENCH_HALF_RANGE;
    g.max_px = BENCH_P0 + BENCH_HALF_RANGE - 1;
    g.cap_cmds = (uint64_t)su->resting_target + warmup + ops;
    size_t bytes = (size_t)g.cap_cmds * sizeof(dtx_command);
    g.cmds = xalloc(bytes);
#ifdef MADV_HUGEPAGE
    madvise(g.cmds, bytes, MADV_HUGEPAGE); /* a hint; fewer TLB misses streaming it */
#endif
    g.n_slots = su->cfg.max_orders + 64;
    if (g.n_slots > SLOT_MASK)
        die("too many orders for the ClOrdID encoding");
    g.slots = xalloc(sizeof(gen_slot) * g.n_slots);
    g.free_list = xalloc(sizeof(uint32_t) * g.n_slots);
    for (uint32_t i = 0; i < g.n_slots; i++)
        g.free_list[i] = g.n_slots - 1 - i;
    g.n_free = g.n_slots;
    g.books = xalloc(sizeof(gen_book) * p->n_instr);
    for (uint32_t i = 0; i < p->n_instr; i++) {
        g.books[i].live = xalloc(sizeof(uint32_t) * g.n_slots);
        g.books[i].market = BENCH_P0;
    }
    g.last_min = INT64_MAX;
    g.last_max = INT64_MIN;
    g.shadow = setup_engine(su, gen_sink_fn, &g);

    gen_prefill(&g);
    out->n_prefill = g.n_cmds;
    while (g.n_cmds < out->n_prefill + warmup)
        gen_step(&g);
    out->n_warmup = g.n_cmds - out->n_prefill;
    g.in_timed = 1;
    while (g.n_cmds < out->n_prefill + out->n_warmup + ops)
        gen_step(&g);
    out->n_timed = g.n_cmds - out->n_prefill - out->n_warmup;

    out->cmds = g.cmds;
    memcpy(out->kind_count, g.kind_count, sizeof g.kind_count);
    out->traded_msgs = g.traded_msgs;
    out->expect = g.timed_sink;
    out->rejects = g.rejects;
    out->cancel_rejects = g.cancel_rejects;
    out->business_rejects = g.business_rejects;
    out->no_slot = g.no_slot;
    out->anomalies = g.rejects + g.cancel_rejects + g.business_rejects;
    out->last_min = g.last_min;
    out->last_max = g.last_max;
    for (int side = 0; side < 2; side++) {
        shape_ctx sc;
        memset(&sc, 0, sizeof sc);
        dtx_engine_visit_book(g.shadow, 1, (uint8_t)(side + 1), shape_visit, &sc);
        out->levels[side] = sc.levels;
        out->top_orders[side] = sc.top;
        out->book_orders[side] = sc.orders;
    }
    dtx_engine_destroy(g.shadow);
    for (uint32_t i = 0; i < p->n_instr; i++)
        free(g.books[i].live);
    free(g.books);
    free(g.free_list);
    free(g.slots);
    out->gen_seconds = (double)(mono_ns() - t0) * 1e-9;
}

/* ---- measured passes --------------------------------------------------------------------- */

static inline unsigned cmd_kind(const dtx_command *c)
{
    if (c->type == DTX_CMD_REPLACE)
        return KIND_MOVE;
    if (c->type == DTX_CMD_CANCEL)
        return KIND_CANCEL;
    return c->tif == DTX_TIF_IOC ? KIND_IOC : KIND_GTC;
}

static void replay_untimed(dtx_engine *e, const dtx_command *cmds, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        dtx_engine_submit(e, &cmds[i]);
}

typedef struct per_op_result {
    hist *h;            /* KIND_COUNT histograms, cycles */
    uint64_t cycles;    /* whole timed loop, timers included */
    uint64_t traded;
    bench_sink sink;
    dtx_engine_stats stats;
} per_op_result;

static void pass_per_op(const setup *su, const stream *st, per_op_result *out)
{
    bench_sink sink;
    memset(&sink, 0, sizeof sink);
    dtx_engine *e = setup_engine(su, bench_sink_fn, &sink);
    replay_untimed(e, st->cmds, st->n_prefill + st->n_warmup);
    memset(&sink, 0, sizeof sink);
    memset(out->h, 0, sizeof(hist) * KIND_COUNT);

    const dtx_command *c = st->cmds + st->n_prefill + st->n_warmup;
    const dtx_command *end = c + st->n_timed;
    hist *h = out->h;
    uint64_t traded = 0, prev_fills = 0;
    uint64_t start = tsc_begin();
    for (; c != end; c++) {
        uint64_t t0 = tsc_begin();
        dtx_engine_submit(e, c);
        uint64_t t1 = tsc_end();
        hist_add(&h[cmd_kind(c)], t1 - t0);
        uint64_t fills = sink.by_type[DTX_EV_FILL];
        traded += fills != prev_fills;
        prev_fills = fills;
    }
    out->cycles = tsc_end() - start;
    out->traded = traded;
    out->sink = sink;
    dtx_engine_get_stats(e, &out->stats);
    dtx_engine_destroy(e);
}

/* Commands per dtx_engine_submit_burst() call in the batch-timed passes, as
 * the core thread takes them from its ring; 0 = one dtx_engine_submit() per
 * command (--burst). */
static size_t g_burst = 64;

/* The batch-timed loop, a function of its own so that a profiler can collect
 * exactly the timed submits: valgrind --tool=callgrind
 * --toggle-collect=bench_timed_batch. One TSC read per BENCH_BATCH commands;
 * the cycles of batch i go to batch_cycles[i]. Returns the cycles of all. */
__attribute__((noinline)) static uint64_t bench_timed_batch(dtx_engine *e, const dtx_command *c,
                                                            const dtx_command *end,
                                                            uint64_t *batch_cycles)
{
    uint64_t start = tsc_begin(), prev = start;
    while (c != end) {
        const dtx_command *stop = (uint64_t)(end - c) > BENCH_BATCH ? c + BENCH_BATCH : end;
        if (g_burst) {
            /* as the core thread does: bursts taken from its ring */
            for (; c != stop; c += g_burst) {
                size_t n = (size_t)(stop - c) < g_burst ? (size_t)(stop - c) : g_burst;
                dtx_engine_submit_burst(e, c, n);
                if (n < g_burst)
                    break;
            }
            c = stop;
        } else {
            for (; c != stop; c++)
                dtx_engine_submit(e, c);
        }
        uint64_t now = __rdtsc();
        *batch_cycles++ = now - prev;
        prev = now;
    }
    return tsc_end() - start;
}

typedef struct batch_result {
    uint64_t cycles;
    uint64_t *batch_cycles; /* one per BENCH_BATCH commands, caller's array */
    bench_sink sink;
} batch_result;

static void pass_batch(const setup *su, const stream *st, batch_result *out)
{
    bench_sink sink;
    memset(&sink, 0, sizeof sink);
    dtx_engine *e = setup_engine(su, bench_sink_fn, &sink);
    replay_untimed(e, st->cmds, st->n_prefill + st->n_warmup);
    memset(&sink, 0, sizeof sink);

    const dtx_command *c = st->cmds + st->n_prefill + st->n_warmup;
    out->cycles = bench_timed_batch(e, c, c + st->n_timed, out->batch_cycles);
    out->sink = sink;
    dtx_engine_destroy(e);
}

/* Median cost of an empty lfence;rdtsc .. rdtscp;lfence pair, cycles. */
static uint64_t timer_overhead(hist *scratch)
{
    memset(scratch, 0, sizeof *scratch);
    for (int i = 0; i < 200000; i++) {
        uint64_t t0 = tsc_begin();
        uint64_t t1 = tsc_end();
        hist_add(scratch, t1 - t0);
    }
    return hist_quantile(scratch, 0.5);
}

/* ---- report ----------------------------------------------------------------------------- */

typedef struct report {
    char buf[32768];
    size_t len;
} report;

static void rep(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rep(report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->buf + r->len, sizeof r->buf - r->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        r->len += (size_t)n < sizeof r->buf - r->len ? (size_t)n : sizeof r->buf - r->len - 1;
}

typedef struct machine {
    char cpu[128];
    long nproc;
    char kernel[256];
} machine;

static void machine_read(machine *m)
{
    snprintf(m->cpu, sizeof m->cpu, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *v = strchr(line, ':');
                if (v) {
                    v++;
                    while (*v == ' ' || *v == '\t')
                        v++;
                    snprintf(m->cpu, sizeof m->cpu, "%s", v);
                    m->cpu[strcspn(m->cpu, "\n")] = 0;
                }
                break;
            }
        }
        fclose(f);
    }
    m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    else
        snprintf(m->kernel, sizeof m->kernel, "unknown kernel");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* 12345678 -> "12.35M" */
static const char *fmt_rate(char *buf, size_t n, double v)
{
    if (v >= 1e6)
        snprintf(buf, n, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, n, "%.1fk", v / 1e3);
    else
        snprintf(buf, n, "%.0f", v);
    return buf;
}

typedef struct options {
    int profile_mask; /* 1 hot, 2 large */
    uint64_t ops;     /* 0: the profile's default */
    uint64_t warmup;  /* UINT64_MAX: the profile's default */
    uint64_t seed;
    int cpu;
    uint32_t runs;    /* 0: the profile's default */
    int record;
    const char *results;
} options;

static void run_profile(const profile_def *p, const options *o, const machine *m, double cyc_per_ns,
                        uint64_t overhead_cyc, report *out)
{
    setup su;
    setup_init(&su, p);
    uint64_t ops = o->ops ? o->ops : p->default_ops;
    uint64_t warmup = o->warmup != UINT64_MAX ? o->warmup : p->default_warmup;
    uint32_t runs = o->runs ? o->runs : p->default_runs;

    fprintf(stderr, "[%s] generating %" PRIu64 " + %" PRIu64 " + %" PRIu64 " commands...\n",
            p->name, (uint64_t)su.resting_target, warmup, ops);
    stream st;
    memset(&st, 0, sizeof st);
    generate(&su, o->seed, warmup, ops, &st);
    fprintf(stderr, "[%s] generated in %.1f s; per-op timed pass...\n", p->name, st.gen_seconds);

    per_op_result po;
    memset(&po, 0, sizeof po);
    po.h = xalloc(sizeof(hist) * KIND_COUNT);
    pass_per_op(&su, &st, &po);

    double *rates = xalloc(sizeof(double) * runs);
    uint64_t n_batches = (st.n_timed + BENCH_BATCH - 1) / BENCH_BATCH;
    uint64_t *batch_cycles = xalloc(sizeof(uint64_t) * n_batches);
    double *batch_rates = xalloc(sizeof(double) * n_batches * runs);
    uint64_t n_full = 0; /* full batches over all passes */
    int same = sink_equal(&po.sink, &st.expect);
    for (uint32_t i = 0; i < runs; i++) {
        fprintf(stderr, "[%s] batch-timed pass %u/%u...\n", p->name, i + 1, runs);
        batch_result br;
        br.batch_cycles = batch_cycles;
        pass_batch(&su, &st, &br);
        rates[i] = (double)st.n_timed / ((double)br.cycles / cyc_per_ns * 1e-9);
        same = same && sink_equal(&br.sink, &st.expect);
        for (uint64_t k = 0; k < st.n_timed / BENCH_BATCH; k++)
            batch_rates[n_full++] = (double)BENCH_BATCH / ((double)batch_cycles[k] / cyc_per_ns * 1e-9);
    }
    double batch_median = 0;
    if (n_full) {
        qsort(batch_rates, n_full, sizeof(double), cmp_double);
        batch_median = batch_rates[n_full / 2];
    }
    double *sorted = xalloc(sizeof(double) * runs);
    memcpy(sorted, rates, sizeof(double) * runs);
    qsort(sorted, runs, sizeof(double), cmp_double);
    double median = runs % 2 ? sorted[runs / 2] : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;

    hist *all = xalloc(sizeof(hist));
    for (int k = 0; k < KIND_COUNT; k++)
        hist_merge(all, &po.h[k]);
    double per_op_rate = (double)st.n_timed / ((double)po.cycles / cyc_per_ns * 1e-9);
    uint64_t events = sink_events(&po.sink);
    uint64_t rejects = po.sink.by_type[DTX_EV_REJECT] + po.sink.by_type[DTX_EV_CANCEL_REJECT] +
                       po.sink.by_type[DTX_EV_BUSINESS_REJECT];
    double n = (double)st.n_timed;
#define NS(c) ((double)(c) / cyc_per_ns)
    char r1[32], r2[32], r3[32];

    rep(out, "### %s: %u instrument%s, %u accounts, target %u resting orders\n\n", p->name,
        p->n_instr, p->n_instr > 1 ? "s" : "", p->n_accounts, su.resting_target);
    rep(out, "machine: %s, nproc %ld, %s; pinned to cpu %d; TSC %.3f GHz\n", m->cpu, m->nproc,
        m->kernel, o->cpu, cyc_per_ns);
    rep(out, "stream: seed %" PRIu64 ", %" PRIu64 " pre-fill + %" PRIu64 " warm-up (untimed) + %" PRIu64
        " timed commands; max_orders %u\n",
        o->seed, st.n_prefill, st.n_warmup, st.n_timed, su.cfg.max_orders);
    rep(out, "book %s at the end: bids %" PRIu64 " orders on %" PRIu64 " levels (%" PRIu64
        " at the best), asks %" PRIu64 " on %" PRIu64 " (%" PRIu64 "); last trade ranged %+" PRId64
        "..%+" PRId64 " ticks around the start price\n\n",
        su.instr[0].symbol, st.book_orders[0], st.levels[0], st.top_orders[0], st.book_orders[1],
        st.levels[1], st.top_orders[1], st.last_min - BENCH_P0, st.last_max - BENCH_P0);
    rep(out, "| profile | ops | ops/s batch-timed (median of %u) | ops/s per-op-timed | p50 ns | "
        "p99 ns | p99.9 ns | max ns | events/op | trades %% | resting end | B/resting | B/order slot |\n",
        runs);
    rep(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    double b_rest = po.stats.working_orders ? (double)po.stats.reserved_bytes / po.stats.working_orders : 0;
    double b_slot = po.stats.max_orders ? (double)po.stats.order_bytes / po.stats.max_orders : 0;
    rep(out, "| %s | %" PRIu64 " | %s | %s | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %u | %.0f | %.1f |\n\n",
        p->name, st.n_timed, fmt_rate(r1, sizeof r1, median), fmt_rate(r2, sizeof r2, per_op_rate),
        NS(hist_quantile(all, 0.5)), NS(hist_quantile(all, 0.99)), NS(hist_quantile(all, 0.999)),
        NS(all->max), (double)events / n, 100.0 * (double)po.traded / n, po.stats.working_orders,
        b_rest, b_slot);

    rep(out, "batch-timed ops/s per pass:");
    for (uint32_t i = 0; i < runs; i++)
        rep(out, " %s", fmt_rate(r1, sizeof r1, rates[i]));
    if (n_full)
        rep(out, "; of %" PRIu64 "-command batches: median %s, slowest %s, fastest %s",
            (uint64_t)BENCH_BATCH, fmt_rate(r1, sizeof r1, batch_median),
            fmt_rate(r2, sizeof r2, batch_rates[0]), fmt_rate(r3, sizeof r3, batch_rates[n_full - 1]));
    rep(out, "\nper-op timer overhead %.1f ns a sample (included in the latencies, not subtracted)\n",
        NS(overhead_cyc));
    rep(out, "latency by kind (ns):");
    for (int k = 0; k < KIND_COUNT; k++)
        rep(out, " %s %.1f%% p50 %.0f p99 %.0f p99.9 %.0f;", kind_names[k],
            100.0 * (double)po.h[k].n / n, NS(hist_quantile(&po.h[k], 0.5)),
            NS(hist_quantile(&po.h[k], 0.99)), NS(hist_quantile(&po.h[k], 0.999)));
    rep(out, "\nevents/op by type:");
    for (unsigned t = 1; t < DTX_EV_TYPE_COUNT; t++)
        if (po.sink.by_type[t])
            rep(out, " %s %.3f", dtx_event_type_name(t), (double)po.sink.by_type[t] / n);
    rep(out, "\nmemory: reserved %.1f MiB, order_bytes %.1f MiB, max_orders %u, working %u\n",
        (double)po.stats.reserved_bytes / 1048576.0, (double)po.stats.order_bytes / 1048576.0,
        po.stats.max_orders, po.stats.working_orders);
    rep(out, "checks: rejects in timed range %" PRIu64 ", in whole stream %" PRIu64
        " (reject %" PRIu64 ", cancel-reject %" PRIu64 ", business %" PRIu64 ")%s; "
        "event counts and checksum %s\n\n",
        rejects, st.anomalies, st.rejects, st.cancel_rejects, st.business_rejects,
        st.no_slot ? ", generator ran out of slots" : "",
        same ? "identical in every pass and the generator (deterministic)"
             : "DIFFER between passes (engine not deterministic?)");
#undef NS
    if (st.anomalies || !same)
        fprintf(stderr, "[%s] WARNING: %s\n", p->name,
                !same ? "passes disagree" : "the engine rejected commands the generator meant to be valid");

    free(sorted);
    free(rates);
    free(batch_rates);
    free(batch_cycles);
    free(all);
    free(po.h);
    free(st.cmds);
    free(su.instr);
}

/* ---- results file --------------------------------------------------------------------------- */

/* Directory of this source file (perf/), from __FILE__, which CMake passes as an
 * absolute path. */
static void source_dir(char *buf, size_t n)
{
    snprintf(buf, n, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(buf, n, ".");
}

static void git_commit(const char *perf_dir, char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    if (strchr(perf_dir, '\'') != NULL)
        return;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse --short HEAD 2>/dev/null", perf_dir);
    FILE *f = popen(cmd, "r");
    if (!f)
        return;
    char line[64] = "";
    if (fgets(line, sizeof line, f) && line[0] && line[0] != '\n') {
        line[strcspn(line, "\n")] = 0;
        snprintf(buf, n, "%s", line);
    }
    pclose(f);
    snprintf(cmd, sizeof cmd,
             "git -C '%s' status --porcelain --untracked-files=no 2>/dev/null | head -1", perf_dir);
    f = popen(cmd, "r");
    if (f) {
        if (fgets(line, sizeof line, f) && line[0]) {
            size_t len = strlen(buf);
            snprintf(buf + len, n - len, "-dirty");
        }
        pclose(f);
    }
}

static const char results_header[] =
    "# bench_book results\n"
    "\n"
    "Appended by `bench_book --record` (perf/bench_book.c). Profiles: **hot** = one\n"
    "instrument, 2,000 accounts, ~1,000 resting orders; **large** = 10 instruments,\n"
    "100,000 accounts, ~1,000,000 resting orders. Mix: 9% GTC, 3% IOC, 6% cancel,\n"
    "82% move (cancel-replace by OrderID), ~6% of messages trade. Commands are\n"
    "pre-generated; books pre-filled and warmed up untimed; one thread pinned to one core.\n"
    "\n"
    "Columns:\n"
    "- **ops**: timed commands (one dtx_engine_submit each).\n"
    "- **ops/s batch-timed**: no per-op timer, one rdtsc per 64Ki commands; median over\n"
    "  several passes, each on a fresh engine replaying the same stream. The throughput figure.\n"
    "- **ops/s per-op-timed**: the pass with rdtsc around every submit (timer and histogram\n"
    "  cost included), from which the latencies come.\n"
    "- **p50/p99/p99.9/max ns**: per-submit latency, lfence;rdtsc .. rdtscp;lfence, timer\n"
    "  overhead included (not subtracted); log-linear histogram, bucket tops (<1.6% wide).\n"
    "- **events/op**: events emitted per command. **trades %**: commands that produced a fill.\n"
    "- **resting end**: working orders at the end (dtx_engine_get_stats).\n"
    "- **B/resting**: reserved_bytes / working orders. **B/order slot**: order_bytes / max_orders.\n"
    "\n"
    "Targets: hot >= 30M ops/s (median) with p99 <= 200 ns; large >= 8M ops/s with\n"
    "p99 <= 1 us; <= 64 bytes per resting order.\n";

static void record_results(const char *path, const char *perf_dir, const machine *m, int argc,
                           char **argv, const report *r)
{
    FILE *probe = fopen(path, "r");
    int exists = probe != NULL;
    if (probe)
        fclose(probe);
    FILE *f = fopen(path, "a");
    if (!f) {
        fprintf(stderr, "bench_book: cannot open %s: %s\n", path, strerror(errno));
        return;
    }
    if (!exists)
        fputs(results_header, f);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm);
    char commit[96];
    git_commit(perf_dir, commit, sizeof commit);
    fprintf(f, "\n## %s, commit %s\n\n", date, commit);
    fprintf(f, "machine: %s, nproc %ld, %s\n\ncommand: `", m->cpu, m->nproc, m->kernel);
    for (int i = 0; i < argc; i++)
        fprintf(f, "%s%s", i ? " " : "", argv[i]);
    fprintf(f, "`\n\n%.*s", (int)r->len, r->buf);
    fclose(f);
    fprintf(stderr, "bench_book: appended to %s\n", path);
}

/* ---- main ----------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_book [options]\n"
            "  --profile hot|large|both  order flow to run (default both)\n"
            "  --ops N                   timed commands per profile (default hot %" PRIu64
            ", large %" PRIu64 ")\n"
            "  --warmup N                untimed commands after the pre-fill (default %" PRIu64 ")\n"
            "  --runs R                  batch-timed passes, median reported (default hot %u, large %u)\n"
            "  --seed S                  generator seed (default 1)\n"
            "  --cpu C                   core to pin to (default 1)\n"
            "  --burst N                 batch-timed passes submit bursts of N commands\n"
            "                            with dtx_engine_submit_burst (default 64; 0 = one\n"
            "                            dtx_engine_submit per command)\n"
            "  --record                  append the result to perf/RESULTS.md\n"
            "  --results FILE            results file for --record\n",
            profiles[0].default_ops, profiles[1].default_ops, profiles[0].default_warmup,
            profiles[0].default_runs, profiles[1].default_runs);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        die("%s: not a number: '%s'", opt, s);
    return v;
}

int main(int argc, char **argv)
{
    options o = {.profile_mask = 3, .warmup = UINT64_MAX, .seed = 1, .cpu = 1};
    static const struct option longopts[] = {
        {"profile", required_argument, NULL, 'p'}, {"ops", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},  {"runs", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, 's'},    {"cpu", required_argument, NULL, 'c'},
        {"record", no_argument, NULL, 'R'},        {"results", required_argument, NULL, 'o'},
        {"burst", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            g_burst = (size_t)strtoull(optarg, NULL, 10);
            break;
        case 'p':
            if (strcmp(optarg, "hot") == 0)
                o.profile_mask = 1;
            else if (strcmp(optarg, "large") == 0)
                o.profile_mask = 2;
            else if (strcmp(optarg, "both") == 0)
                o.profile_mask = 3;
            else
                die("--profile: hot, large or both, not '%s'", optarg);
            break;
        case 'n':
            o.ops = parse_u64("--ops", optarg);
            if (o.ops == 0)
                die("--ops must be > 0");
            break;
        case 'w':
            o.warmup = parse_u64("--warmup", optarg);
            break;
        case 'r':
            o.runs = (uint32_t)parse_u64("--runs", optarg);
            if (o.runs == 0 || o.runs > 1000)
                die("--runs: 1..1000");
            break;
        case 's':
            o.seed = parse_u64("--seed", optarg);
            break;
        case 'c':
            o.cpu = (int)parse_u64("--cpu", optarg);
            break;
        case 'R':
            o.record = 1;
            break;
        case 'o':
            o.results = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }

    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(o.cpu, &set);
    if (o.cpu < 0 || o.cpu >= CPU_SETSIZE || sched_setaffinity(0, sizeof set, &set) != 0)
        die("cannot pin to cpu %d: %s", o.cpu, strerror(errno));

    machine m;
    machine_read(&m);
    double cyc_per_ns = tsc_calibrate();
    hist *scratch = xalloc(sizeof(hist));
    uint64_t overhead = timer_overhead(scratch);
    free(scratch);

    report *r = xalloc(sizeof(report));
    for (int i = 0; i < 2; i++)
        if (o.profile_mask & (1 << i))
            run_profile(&profiles[i], &o, &m, cyc_per_ns, overhead, r);
    fwrite(r->buf, 1, r->len, stdout);
    fflush(stdout);

    if (o.record) {
        char dir[1024], path[1100];
        source_dir(dir, sizeof dir);
        if (o.results)
            snprintf(path, sizeof path, "%s", o.results);
        else
            snprintf(path, sizeof path, "%s/RESULTS.md", dir);
        record_results(path, dir, &m, argc, argv, r);
    }
    free(r);
    return 0;
}
