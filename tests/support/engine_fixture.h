/*
 * engine_fixture.h - the harness of the engine's unit suites (tests/engine_*.c).
 *
 * An fx holds one engine over small test instruments and a sink that records
 * every event the engine emits, in order, for the life of the engine. Commands
 * are built by the fx_* builders below and submitted with fx_send(), which
 * stamps a monotonically increasing seq and ts; the events of the last command
 * are then read with fx_count()/fx_ev() and checked with fx_expect() and its
 * short forms. Every expectation failure prints the events of the command (or
 * the whole book) in readable form.
 *
 * Conventions shared by the suites:
 *   - prices are given in ticks of the test instruments (tick 1.00 USD, so
 *     FX_PX(100) is 100 USD in PRICE9);
 *   - an account's session has the same number (account 1 uses session 1);
 *   - new orders default to SecurityID FX_SEC, GTC, SelfTradePrevention
 *     CancelNewest, no ExecInst.
 *
 * The checks follow docs/order-semantics.md and include/dtx/event.h: fx_expect
 * compares every field event.h defines for the event's type (see fx_expect).
 */
#ifndef DTX_TESTS_ENGINE_FIXTURE_H
#define DTX_TESTS_ENGINE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/engine.h"

/* ---- test instruments (fx_default_instruments, in this configuration order) */
#define FX_SEC 10u     /* TEST: tick 1.00, prices 1..10000, qty 1..1000000, lot 1, band 5 */
#define FX_SEC_LOT 20u /* LOT10: tick 1.00, prices 10..10000, qty 10..1000000, lot 10, band 5 */
#define FX_SEC_B 3u    /* TEST-B: as TEST; configured last although its id is the lowest */
#define FX_N_INSTRUMENTS 3u
#define FX_SEC_UNKNOWN 99u

#define FX_TICK ((int64_t)1000000000) /* 1.00 in PRICE9 */
#define FX_PX(ticks) ((int64_t)(ticks) * FX_TICK)
#define FX_MIN_TICKS 1
#define FX_MAX_TICKS 10000
#define FX_LOT_MIN_TICKS 10 /* lowest price of FX_SEC_LOT */
#define FX_MIN_QTY 1
#define FX_MAX_QTY 1000000
#define FX_BAND 5 /* market_band_ticks */

/* Replace: keep the price (Price null). */
#define FX_KEEP INT64_MIN

/* ---- sides --------------------------------------------------------------------- */
#define FX_BUY ((uint8_t)DTX_SIDE_BUY)
#define FX_SELL ((uint8_t)DTX_SIDE_SELL)

/* ---- time -------------------------------------------------------------------- */
#define FX_S 1000000000ull /* one second in ns */
#define FX_DAY_NS (86400ull * FX_S)
#define FX_DAY0 1767571200000000000ull            /* 2026-01-05 00:00:00 UTC */
#define FX_T0 (FX_DAY0 + 3600ull * FX_S)     /* ts of the first command */
#define FX_TS_STEP 1000ull                        /* ts advance per command */

/* ---- default capacities -------------------------------------------------------- */
#define FX_DEFAULT_MAX_ORDERS 4096u
#define FX_DEFAULT_MAX_TIMED 4096u
#define FX_DEFAULT_MAX_STOPS 256u

typedef struct fx_opts {
    const dtx_instrument_config *instruments; /* NULL: fx_default_instruments() */
    uint32_t n_instruments;
    uint32_t max_orders; /* 0: FX_DEFAULT_MAX_ORDERS */
    uint32_t max_timed;  /* 0: FX_DEFAULT_MAX_TIMED */
    uint32_t max_stops;  /* 0: FX_DEFAULT_MAX_STOPS */
    uint32_t max_icebergs; /* 0: the engine's default (max_orders / 16 + 1) */
    uint64_t day_offset_ns;
} fx_opts;

typedef struct fx {
    dtx_engine *e;
    dtx_event *ev; /* every event since dtx_engine_create, in order */
    size_t n, cap;
    size_t first;       /* index in ev of the first event of the last command */
    size_t sink_calls;  /* number of sink batches received */
    uint64_t seq;       /* seq of the last command stamped */
    uint64_t now;       /* ts the next stamped command gets */
    dtx_command last;   /* the last command submitted */
} fx;

/* The three test instruments, in configuration order: FX_SEC, FX_SEC_LOT, FX_SEC_B. */
const dtx_instrument_config *fx_default_instruments(uint32_t *n);

/* A TEST-like instrument (tick 1.00, 1..10000, qty 1..1000000, lot 1, band 5). */
dtx_instrument_config fx_test_instrument(uint32_t security_id);

/* The recording sink (ctx is the fx). Exposed for suites that build configs. */
void fx_sink(void *ctx, const dtx_event *events, size_t n);

/* A config with the fixture's defaults, the sink pointing at f (not created). */
dtx_engine_config fx_config(fx *f, const fx_opts *o);

/* Creates the engine (o NULL: defaults); fails the test if creation fails. */
void fx_init(fx *f, const fx_opts *o);
void fx_fini(fx *f);

/* ---- submitting -------------------------------------------------------------- */

/* Stamps c with the next seq and the current ts (then advances ts by
 * FX_TS_STEP), submits it and returns the number of events it produced. */
size_t fx_send(fx *f, dtx_command c);

/* Submits c exactly as given (seq/ts untouched). Returns its event count. */
size_t fx_submit_raw(fx *f, const dtx_command *c);

/* Sets the ts of the next command (must not go backwards). */
void fx_set_now(fx *f, uint64_t ts);

/* Sends a TIME command stamped with ts; returns its event count. */
size_t fx_time(fx *f, uint64_t ts);

/* ---- command builders (unstamped: fx_send stamps seq and ts) ------------------ */
dtx_command fx_limit(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty);
dtx_command fx_market(uint32_t acct, uint64_t clordid, uint8_t side, int64_t qty); /* IOC */
dtx_command fx_ioc(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty);
dtx_command fx_fok(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty);
dtx_command fx_post_only(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty);
dtx_command fx_iceberg(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty,
                       int64_t display);
dtx_command fx_day(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty);
dtx_command fx_gtd(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty,
                   uint64_t expire_time);
dtx_command fx_stop(uint32_t acct, uint64_t clordid, uint8_t side, int64_t stop_ticks, int64_t qty);
dtx_command fx_stop_limit(uint32_t acct, uint64_t clordid, uint8_t side, int64_t stop_ticks,
                          int64_t ticks, int64_t qty);
/* Cancel naming the order by OrderID / by OrigClOrdID (OrderID 0). */
dtx_command fx_cancel(uint32_t acct, uint64_t clordid, uint64_t order_id);
dtx_command fx_cancel_clordid(uint32_t acct, uint64_t clordid, uint64_t orig_clordid);
/* Replace by OrderID / by OrigClOrdID; ticks FX_KEEP keeps the price. */
dtx_command fx_replace(uint32_t acct, uint64_t clordid, uint64_t order_id, int64_t ticks, int64_t qty);
dtx_command fx_replace_clordid(uint32_t acct, uint64_t clordid, uint64_t orig_clordid, int64_t ticks,
                               int64_t qty);
dtx_command fx_mass_cancel(uint32_t acct, uint64_t clordid, uint32_t security_id, uint8_t side);
dtx_command fx_time_cmd(void);
dtx_command fx_status(uint32_t security_id, uint8_t status);
dtx_command fx_cod(uint32_t acct, uint16_t session);

/* ---- the events of the last command ------------------------------------------ */
size_t fx_count(const fx *f);
/* The i-th event of the last command; fails the test if there is none. */
const dtx_event *fx_ev(const fx *f, size_t i);
/* Index in the last command's events of the first event of this type (and
 * order_id when non-zero) at or after from; -1 when none. */
long fx_find(const fx *f, uint8_t type, uint64_t order_id, size_t from);
/* Number of events of a type among the last command's events. */
size_t fx_count_type(const fx *f, uint8_t type);

/* Asserts the last command produced exactly n events. */
void fx_expect_count(const fx *f, size_t n);

/*
 * Asserts that event i of the last command matches want on every field that
 * include/dtx/event.h defines for want.type:
 *   common:   type, account, session, security_id, seq, ts, exec_id, order_id,
 *             clordid
 *   NEW       side, ord_type, tif, exec_inst, stp, price, stop_px, order_qty,
 *             leaves_qty, flags; last_qty when flags has DTX_EVF_ADDED
 *   FILL      side, price, last_qty, leaves_qty, cum_qty, order_qty, trade_id,
 *             ord_status, aggressor, contra_account, contra_session,
 *             contra_order_id
 *   CANCELED  side, cancel_reason, orig_clordid, cum_qty, leaves_qty, price,
 *             order_qty, flags
 *   REPLACED  side, orig_clordid, price, order_qty, leaves_qty, cum_qty, flags;
 *             last_qty when flags has DTX_EVF_ADDED
 *   REJECT    side, ord_type, price, order_qty, reject_reason
 *   CANCEL_REJECT reject_reason, orig_clordid, response_to (not security_id)
 *   MASS_CANCEL_REPORT total_affected, side
 *   BUSINESS_REJECT reject_reason, ref_cmd_type (not security_id)
 *   ADDED     side, price, last_qty, leaves_qty, flags
 *   TRIGGERED side, stop_px, ord_type, price
 *   STATUS    status
 * Filled in by the check, not read from want: seq and ts (the last command's),
 * exec_id (the event's position in the engine's whole stream + 1). A session
 * of 0 in want means "the account's number", likewise contra_session.
 */
void fx_expect(const fx *f, size_t i, dtx_event want);

/* NEW for the order c (as built, before stamping is irrelevant), flags 0 (it
 * does not rest straight away): returns its OrderID (asserted non-zero). */
uint64_t fx_expect_new(const fx *f, size_t i, const dtx_command *c);
/* NEW with flag ADDED for the order c, which rests straight away showing
 * DisplayQty or its quantity (no ADDED event follows): returns its OrderID. */
uint64_t fx_expect_new_rested(const fx *f, size_t i, const dtx_command *c);
/* REJECT of c with this reason (order_id 0). */
void fx_expect_reject(const fx *f, size_t i, const dtx_command *c, uint16_t reason);
/* CANCEL_REJECT of the cancel/replace c with this reason. */
void fx_expect_cancel_reject(const fx *f, size_t i, const dtx_command *c, uint16_t reason);

/* One side of a trade as it stands after the trade. session 0: the account. */
typedef struct fx_party {
    uint32_t account;
    uint16_t session;
    uint64_t order_id;
    uint64_t clordid;
    int64_t order_qty;
    int64_t leaves_qty;
    int64_t cum_qty;
} fx_party;

/* Events i (maker) and i+1 (taker) form one trade on FX_SEC at price ticks:
 * maker side is the opposite of taker_side, ord_status from leaves_qty. */
void fx_expect_trade(const fx *f, size_t i, uint8_t taker_side, int64_t ticks, int64_t qty,
                     uint64_t trade_id, fx_party maker, fx_party taker);

/* Sends c, expects exactly one NEW with flag ADDED (displayed = DisplayQty or
 * the quantity) and returns the OrderID. For setting up resting orders. */
uint64_t fx_rest(fx *f, dtx_command c);
/* Sends c, expects exactly NEW (a pending stop) and returns the OrderID. */
uint64_t fx_pend(fx *f, dtx_command c);
/* Sends c, expects exactly one REJECT of c with this reason. */
void fx_rejected(fx *f, dtx_command c, uint16_t reason);

/* ---- books --------------------------------------------------------------------- */
/* Resting orders of one side in priority order; returns how many (all of them,
 * even beyond max). */
size_t fx_book(const fx *f, uint32_t security_id, uint8_t side, dtx_order_view *out, size_t max);
/* Asserts the resting orders of one side are exactly ids[0..n) in priority order. */
void fx_expect_book(const fx *f, uint32_t security_id, uint8_t side, size_t n, const uint64_t *ids);
/* The working order order_id; fails the test if there is none. */
dtx_order_view fx_order(const fx *f, uint64_t order_id);
/* Asserts order_id is no longer a working order. */
void fx_expect_gone(const fx *f, uint64_t order_id);

/* ---- readable output ----------------------------------------------------------- */
/* One event on one line. */
void fx_format_event(const dtx_event *ev, char *buf, size_t size);
/* The events of the last command, one a line (a static buffer). */
const char *fx_dump(const fx *f);
/* Events [from, to) of the whole stream (a static buffer). */
const char *fx_dump_range(const fx *f, size_t from, size_t to);
/* Both sides of one book (a static buffer). */
const char *fx_dump_book(const fx *f, uint32_t security_id);

#endif /* DTX_TESTS_ENGINE_FIXTURE_H */
