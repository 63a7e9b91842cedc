/*
 * cmdgen.h - seeded random command streams for the differential test.
 *
 * One seed fixes everything: the instruments (a small custom set with narrow
 * price ranges so that orders cross often, plus edge values), the capacities,
 * the day offset, the accounts and sessions, and every command. The generator
 * follows the book through the events it is shown (cmdgen_observe), so that
 * cancels and replaces mostly name working orders and replaces can aim at the
 * interesting cases (lower quantity, higher quantity, new price, at or below
 * CumQty). The same seed gives the same stream as long as it is shown the same
 * events, which is the case up to the first mismatch of a differential run.
 *
 * The profile is seed % CMDGEN_PROFILES:
 *   0 mixed       large capacities, every command type, 1-6 instruments
 *   1 small-cap   capacities of a few orders: TooManyOpenOrders is frequent
 *   2 dense       1-2 instruments, 2-3 accounts: self-trade, icebergs, stops
 *   3 lifecycle   more Time (day boundaries), halts, mass cancels, disconnects
 *
 * Orders named by OrderID: the engine's OrderIDs are opaque, so a generated
 * command names an order by the index of the command that created it
 * (cmdgen_cmd.oid_ref); the harness writes each implementation's own OrderID
 * of that order into cmd.order_id.
 */
#ifndef DTX_TESTS_CMDGEN_H
#define DTX_TESTS_CMDGEN_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/command.h"
#include "dtx/engine.h"
#include "dtx/event.h"

#define CMDGEN_PROFILES 4
#define CMDGEN_MAX_INSTRUMENTS 8

/* An OrderID no implementation assigns (the top bit set): "unknown order". */
#define CMDGEN_BOGUS_OID_BASE 0xB0B0000000000000ull

typedef struct cmdgen_cmd {
    dtx_command cmd;
    /* >= 0: cmd.order_id is to be the OrderID of the order accepted by command
     * number oid_ref of the stream (0-based); -1: cmd.order_id is used as is. */
    int64_t oid_ref;
} cmdgen_cmd;

typedef struct cmdgen_setup {
    dtx_instrument_config instruments[CMDGEN_MAX_INSTRUMENTS];
    uint32_t n_instruments;
    uint32_t max_orders, max_timed, max_stops, max_icebergs; /* max_icebergs 0: the engine's default */
    uint64_t day_offset_ns;
    unsigned profile;
    const char *profile_name;
} cmdgen_setup;

typedef struct cmdgen cmdgen;

/* A generator for seed. Aborts when memory runs out (a test helper). */
cmdgen *cmdgen_create(uint64_t seed);
void cmdgen_destroy(cmdgen *g);

/* Instruments, capacities and day offset chosen by the seed. */
const cmdgen_setup *cmdgen_get_setup(const cmdgen *g);

/* An engine configuration from a setup (sink and ctx added). */
dtx_engine_config cmdgen_engine_config(const cmdgen_setup *s, dtx_event_sink_fn sink, void *ctx);

/* The next command of the stream (seq and ts stamped). */
void cmdgen_next(cmdgen *g, cmdgen_cmd *out);

/*
 * Shows the generator the events of the command it generated last, with
 * OrderIDs normalised to ordinals (1, 2, 3... in order of their NEW events;
 * order_id and contra_order_id). Must be called once per command, before the
 * next cmdgen_next.
 */
void cmdgen_observe(cmdgen *g, const dtx_event *ev, size_t n);

/* Working orders as the generator believes them to be (a self-check). */
uint32_t cmdgen_working(const cmdgen *g);

#endif /* DTX_TESTS_CMDGEN_H */
