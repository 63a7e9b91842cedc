/*
 * risk_fee_once.c - dtx_risk_on_events_fee(): the fee written into each FILL
 * (the Fee of ExecutionReportTrade 201) is the fee the accounting charged,
 * computed once, and applying a batch that way leaves the same state as
 * dtx_risk_on_events().
 *
 * The events come from a real engine with a risk gate (the risk fixture); a
 * second risk context replays them through dtx_risk_on_events_fee(). The last
 * test fuses it into the engine's sink, as the core does, and follows the
 * fees through iceberg refills, a self-trade decrement and a triggered stop
 * (whose gate flushes the events mid-command).
 * Instruments of the fixture: multiplier 1.0, maker -0.01 %, taker 0.05 %.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "support/risk_fixture.h"

enum { A = 1, B = 2, C = 3 };

static rfx X;
static dtx_risk *twin; /* fed the same events through dtx_risk_on_events_fee */

static void init(void)
{
    rfx_init(&X, NULL, 0, NULL);
    dtx_risk_config rc = {.n_accounts = RFX_ACCOUNTS, .max_orders = FX_DEFAULT_MAX_ORDERS};
    rc.instruments = rfx_instruments(&rc.n_instruments);
    twin = dtx_risk_create(&rc);
    cr_assert(twin != NULL, "%s", dtx_error_message());
    for (uint32_t a = A; a <= C; a++) {
        rfx_deposit(&X, a, 10000);
        cr_assert_eq(dtx_risk_deposit(twin, a, USD(10000)), DTX_OK);
    }
}
static void fini(void)
{
    dtx_risk_destroy(twin);
    rfx_fini(&X);
}
TestSuite(risk_fee_once, .init = init, .fini = fini);

/* Replays every event the fixture recorded from index `from` into the twin
 * (in one batch, as the core does), returning the writable copy. */
static dtx_event *replay(size_t from, size_t *n)
{
    *n = X.f.n - from;
    dtx_event *ev = malloc(*n * sizeof *ev);
    cr_assert(ev != NULL);
    memcpy(ev, X.f.ev + from, *n * sizeof *ev);
    dtx_risk_on_events_fee(twin, ev, *n);
    return ev;
}

Test(risk_fee_once, each_fill_carries_the_fee_charged_and_the_state_matches_plain_accounting)
{
    size_t from = X.f.n;
    rfx_trade(&X, B, A, FX_BUY, 100, 10);  /* 1000 USD: taker A 0.50, maker B -0.10 */
    rfx_trade(&X, A, C, FX_SELL, 101, 4);  /* 404 USD: taker C 0.202, maker A -0.0404 */
    size_t n;
    dtx_event *ev = replay(from, &n);

    int64_t want[4] = {-100000, 500000, -40400, 202000}; /* maker first, then taker */
    uint32_t who[4] = {B, A, A, C};
    size_t fills = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].type != DTX_EV_FILL) {
            cr_assert_eq(memcmp(&ev[i], &X.f.ev[from + i], sizeof ev[i]), 0, "event %zu (not a FILL) changed", i);
            continue;
        }
        cr_assert(fills < 4);
        cr_assert_eq(ev[i].account, who[fills]);
        cr_assert_eq(ev[i].fee, want[fills], "fill %zu: fee %lld", fills, (long long)ev[i].fee);
        cr_assert_eq(ev[i].fee, dtx_risk_fill_fee(X.r, &X.f.ev[from + i]), "the same as dtx_risk_fill_fee");
        fills++;
    }
    cr_assert_eq(fills, 4);

    /* the fees charged add up to the fees reported */
    dtx_risk_position_view pa, pb, pc;
    cr_assert_eq(dtx_risk_position(twin, A, FX_SEC, &pa), DTX_OK);
    cr_assert_eq(dtx_risk_position(twin, B, FX_SEC, &pb), DTX_OK);
    cr_assert_eq(dtx_risk_position(twin, C, FX_SEC, &pc), DTX_OK);
    cr_assert_eq(pa.fees, 500000 - 40400);
    cr_assert_eq(pb.fees, -100000);
    cr_assert_eq(pc.fees, 202000);

    /* and the state is the one plain dtx_risk_on_events() built */
    cr_assert_eq(dtx_risk_digest(twin), dtx_risk_digest(X.r));
    cr_assert_eq(dtx_risk_check(twin), DTX_OK, "%s", dtx_error_message());
    free(ev);
}

Test(risk_fee_once, fills_of_unknown_accounts_are_skipped_and_keep_their_fee_field)
{
    size_t from = X.f.n;
    rfx_trade(&X, B, A, FX_BUY, 100, 1);
    size_t n = X.f.n - from;
    dtx_event *ev = malloc(n * sizeof *ev);
    cr_assert(ev != NULL);
    memcpy(ev, X.f.ev + from, n * sizeof *ev);
    uint64_t applied = 0; /* events the accounting looks at */
    for (size_t i = 0; i < n; i++) {
        ev[i].account = RFX_ACCOUNTS + 5; /* no such account in the twin */
        ev[i].fee = 0;
        applied += ev[i].type == DTX_EV_NEW || ev[i].type == DTX_EV_FILL || ev[i].type == DTX_EV_CANCELED ||
                   ev[i].type == DTX_EV_REPLACED;
    }
    dtx_risk_totals before, after;
    dtx_risk_get_totals(twin, &before);
    dtx_risk_on_events_fee(twin, ev, n);
    dtx_risk_get_totals(twin, &after);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(ev[i].fee, 0);
    cr_assert_eq(after.fills, before.fills);
    cr_assert_eq(after.fee_balance, before.fee_balance);
    cr_assert_eq(applied, 4, "two NEWs and two FILLs");
    cr_assert_eq(after.skipped, before.skipped + applied);
    free(ev);
}

/* The fixture's engine again, its sink fused as the core's is when risk is its
 * observer: dtx_risk_on_events_fee() charges and writes each fee before the
 * batch is recorded; the gate reads the same risk. */
static void fused_sink(void *ctx, const dtx_event *ev, size_t n)
{
    (void)ctx;
    dtx_risk_on_events_fee(X.r, (dtx_event *)(uintptr_t)ev, n);
    fx_sink(&X.f, ev, n);
}

static int64_t reported_fees(uint32_t account, size_t *fills)
{
    int64_t sum = 0;
    for (size_t i = 0; i < X.f.n; i++)
        if (X.f.ev[i].type == DTX_EV_FILL && X.f.ev[i].account == account) {
            cr_assert_eq(X.f.ev[i].fee, dtx_risk_fill_fee(X.r, &X.f.ev[i]), "event %zu", i);
            sum += X.f.ev[i].fee;
            (*fills)++;
        }
    return sum;
}

Test(risk_fee_once, fees_reported_equal_fees_charged_through_icebergs_self_trade_decrements_and_stop_cascades)
{
    dtx_engine_destroy(X.f.e);
    X.f.n = X.f.first = 0;
    dtx_engine_config cfg = fx_config(&X.f, NULL);
    cfg.sink = fused_sink;
    X.f.e = dtx_engine_create(&cfg);
    cr_assert(X.f.e != NULL, "%s", dtx_error_message());
    dtx_engine_set_gate(X.f.e, dtx_risk_gate, X.r);

    /* an iceberg maker: A's buy of 12 takes 5 + 5 + 2 with two refills */
    fx_rest(&X.f, fx_iceberg(B, 1, FX_SELL, 100, 12, 5));
    fx_send(&X.f, fx_limit(A, 1, FX_BUY, 100, 12));
    /* a fill, then a self-trade decrement in one command: C's bid trades,
     * then A's sell meets A's own bid */
    fx_rest(&X.f, fx_limit(C, 1, FX_BUY, 99, 3));
    dtx_command own = fx_limit(A, 2, FX_BUY, 99, 10);
    own.stp = DTX_STP_DECREMENT_AND_CANCEL;
    fx_rest(&X.f, own);
    dtx_command sell = fx_limit(A, 3, FX_SELL, 99, 7);
    sell.stp = DTX_STP_DECREMENT_AND_CANCEL;
    fx_send(&X.f, sell);
    /* a stop cascade: B's trade at 101 triggers C's stop, which buys at 102
     * (its events reach the sink in a batch of their own, the gate's flush) */
    uint64_t stop = fx_pend(&X.f, fx_stop(C, 2, FX_BUY, 101, 2));
    fx_rest(&X.f, fx_limit(B, 2, FX_SELL, 102, 2));
    fx_rest(&X.f, fx_limit(B, 3, FX_SELL, 101, 1));
    size_t batches = X.f.sink_calls;
    fx_send(&X.f, fx_limit(A, 4, FX_BUY, 101, 1));
    cr_assert_geq(X.f.sink_calls - batches, 2, "the trigger flushed mid-command:\n%s", fx_dump(&X.f));

    size_t refills = 0, decrements = 0;
    for (size_t i = 0; i < X.f.n; i++) {
        refills += X.f.ev[i].type == DTX_EV_ADDED && (X.f.ev[i].flags & DTX_EVF_REFILL);
        decrements += X.f.ev[i].type == DTX_EV_REPLACED && (X.f.ev[i].flags & DTX_EVF_SELF_TRADE);
    }
    cr_assert_eq(refills, 2, "%s", fx_dump(&X.f));
    cr_assert_geq(decrements, 1, "%s", fx_dump(&X.f));
    long trig = fx_find(&X.f, DTX_EV_TRIGGERED, stop, 0);
    cr_assert(trig >= 0 && fx_find(&X.f, DTX_EV_FILL, stop, (size_t)trig) > trig, "%s", fx_dump(&X.f));

    int64_t total = 0;
    size_t fills = 0;
    for (uint32_t a = A; a <= C; a++) {
        int64_t sum = reported_fees(a, &fills);
        cr_assert_eq(sum, rfx_position(&X, a, FX_SEC).fees, "account %u: reported %lld", a, (long long)sum);
        total += sum;
    }
    /* trades: 3 with the iceberg, 1 with C's bid, 1 at 101, 1 by the stop */
    cr_assert_eq(fills, 2 * 6);
    dtx_risk_totals t;
    dtx_risk_get_totals(X.r, &t);
    cr_assert_eq(total, t.fee_balance);
    rfx_check(&X);
}
