/*
 * difftest.h - the differential harness: the engine against the reference book.
 *
 * One run takes one seed: cmdgen builds the instruments, capacities and the
 * command stream; every command goes to a dtx_engine and to a ref_book; their
 * events are compared record by record after normalising OrderIDs (order_id,
 * and contra_order_id of FILL) to ordinals of first appearance, since the
 * engine's are opaque. After each command the working-order counts, best
 * prices and last trade prices are compared too, and every few hundred
 * commands every working order (book order, shown quantity, pending stops).
 *
 * On the first mismatch the report names the seed, the command index, the
 * command, both event lists in readable form and the first differing field;
 * then, when asked, the stream is shrunk to a short sequence that still
 * mismatches, and that sequence is printed too (as dtx-replay text lines).
 * Used by tests/engine_differential.c and tests/tools/difftest_long.c.
 */
#ifndef DTX_TESTS_DIFFTEST_H
#define DTX_TESTS_DIFFTEST_H

#include <stdint.h>
#include <stdio.h>

#include "dtx/event.h"
#include "dtx/types.h"

typedef struct difftest_opts {
    uint64_t seed;
    uint64_t n_commands;
    FILE *out;                 /* mismatch reports; NULL = stderr */
    unsigned book_check_every; /* full book comparison period; 0 = 512 */
    int minimize;              /* shrink a failing stream and print it */
    double minimize_seconds;   /* time budget of the shrinking; 0 = 20 s */
    int trace;                 /* print each command before submitting it */
    int strict;                /* compare every field of each event record, also
                                  those event.h does not list for its type
                                  (which it says are zero) */
    /* called every progress_every commands (0 = never) */
    void (*progress)(void *ctx, uint64_t done);
    void *progress_ctx;
    uint64_t progress_every;
    /* Test hook for the harness's own suite: when non-zero, the first event
     * the engine emits at or after command number corrupt_at (1-based) has
     * its clordid flipped before the comparison, so the run must report a
     * mismatch there. 0 in every real run. */
    uint64_t corrupt_at;
} difftest_opts;

/* Coverage of one or more runs, counted on the reference's events. */
typedef struct difftest_stats {
    uint64_t commands;
    uint64_t events;
    uint64_t by_event[DTX_EV_TYPE_COUNT];
    uint64_t by_reject[DTX_REJ_MAX + 1];      /* REJECT, CANCEL_REJECT, BUSINESS_REJECT */
    uint64_t by_cancel[DTX_CANCEL_INSTRUMENT_HALTED + 1];
    uint64_t refills, self_trade_replaced, priority_kept;
    uint64_t added_in_report; /* NEW or REPLACED with flag ADDED */
} difftest_stats;

/*
 * Runs one seed. Returns 0 when both sides agreed on every command, 1 on a
 * mismatch (reported to opts->out), -1 when an engine could not be created
 * (reported too). Adds to *stats when stats is not NULL.
 */
int difftest_run(const difftest_opts *opts, difftest_stats *stats);

/* Adds b into a. */
void difftest_stats_add(difftest_stats *a, const difftest_stats *b);

/* Writes a one-paragraph coverage summary of stats. */
void difftest_stats_print(FILE *f, const difftest_stats *stats);

/* Parses a seed: decimal or 0x-hexadecimal. Returns 0 on success. */
int difftest_parse_u64(const char *s, uint64_t *out);

#endif /* DTX_TESTS_DIFFTEST_H */
