/*
 * core_fixture.h - the harness of the core suites (tests/admin_core.c,
 * tests/audit_core_refusal.c, tests/core_burst.c): a dtx_core over the embedded default
 * instruments with a dtx_risk (16 accounts) as its gate and observer, its
 * command and event rings, and an injected clock and audit sink.
 */
#ifndef DTX_TESTS_CORE_FIXTURE_H
#define DTX_TESTS_CORE_FIXTURE_H

#include <stdint.h>

#include "dtx/core.h"
#include "dtx/ring.h"

/* The injected clock: cfx_clock() (for cfx_opts.clock) reads cfx_now, which
 * starts at CFX_T0, 2027-01-15T08:00:00Z, and which a test may move. */
#define CFX_T0 1800000000000000000ull
extern uint64_t cfx_now;
uint64_t cfx_clock(void *ctx);

typedef struct cfx_opts {
    uint32_t command_ring, event_ring; /* ring capacities (powers of two) */
    dtx_clock_fn clock;
    dtx_audit_fn audit;                /* may be NULL */
    dtx_audit_reserve_fn audit_reserve; /* may be NULL */
    void *audit_ctx;
    int prefetch;                      /* dtx_engine_config.prefetch (0: auto) */
} cfx_opts;

/* Creates the risk context, the rings and the core (engine: max_orders 4096,
 * max_timed 1024, max_stops 64) and installs the gate; fails the test on
 * error. The caller destroys them (core first). */
dtx_core *cfx_core_create(const cfx_opts *o, dtx_risk **risk, dtx_ring **cmds, dtx_ring **evs);

/* A GTC limit order of account (from session 10 + account) on security_id
 * at price (PRICE9), seq and ts left for the core to stamp. */
dtx_command cfx_limit_order(uint32_t account, uint64_t clordid, uint32_t security_id, uint8_t side, int64_t price,
                            int64_t qty);

#endif /* DTX_TESTS_CORE_FIXTURE_H */
