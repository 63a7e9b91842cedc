/*
 * risk_stop_trigger.c - the gate again when a pending stop triggers
 * (docs/risk.md, "Stops"): a stop that would make the position larger is
 * canceled (CancelReason Risk) when the account can no longer afford it; a
 * stop loss always enters; a reduce-only stop whose position is gone is
 * canceled; nothing of a canceled stop reaches the accounting but its cancel.
 *
 * Risk fixture: multiplier 1.0, initial 10 %, band 10 %, taker 0.05 %.
 */
#include <criterion/criterion.h>

#include "support/risk_fixture.h"

enum { A = 1, B = 2, C = 3 };

static rfx X;
static void init(void)
{
    rfx_init(&X, NULL, 0, NULL);
    rfx_deposit(&X, B, 10000);
    rfx_deposit(&X, C, 10000);
}
static void fini(void) { rfx_fini(&X); }
TestSuite(risk_stop_trigger, .init = init, .fini = fini);

/* B sells 1 to C at ticks: the last price becomes ticks. */
static void print_last(int64_t ticks, uint64_t cl)
{
    fx_rest(&X.f, fx_limit(C, cl, FX_BUY, ticks, 1));
    fx_send(&X.f, fx_limit(B, cl + 1, FX_SELL, ticks, 1));
}

static size_t fills_of(uint64_t order_id, int64_t *qty)
{
    size_t n = 0;
    *qty = 0;
    for (size_t i = 0; i < fx_count(&X.f); i++) {
        const dtx_event *e = fx_ev(&X.f, i);
        if (e->type == DTX_EV_FILL && e->order_id == order_id) {
            n++;
            *qty += e->last_qty;
        }
    }
    return n;
}

Test(risk_stop_trigger, stop_that_opens_is_canceled_when_the_account_can_no_longer_afford_it)
{
    rfx_deposit(&X, A, 210);
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(100));
    /* 10 x 100 x 10 % + 10 x 10 (band edge 110) + 1100 x 0.05 % = 200.55 USD <= 210 */
    uint64_t stop = fx_pend(&X.f, fx_stop(A, 1, FX_BUY, 102, 10));
    cr_assert_eq(rfx_account(&X, A).initial_margin, 200550000);
    fx_rest(&X.f, fx_limit(C, 2, FX_SELL, 103, 10)); /* what the stop would buy */

    rfx_set(&X, DTX_RISK_PARAM_INITIAL_MARGIN, 0, FX_SEC, RATE_PCT(20)); /* now 300.55 > 210 */
    size_t from = fx_count(&X.f);
    print_last(102, 10);

    long trig = fx_find(&X.f, DTX_EV_TRIGGERED, stop, from);
    cr_assert(trig >= 0, "the stop did not trigger:\n%s", fx_dump(&X.f));
    long canc = fx_find(&X.f, DTX_EV_CANCELED, stop, (size_t)trig);
    cr_assert_eq(canc, trig + 1, "no CANCELED right after TRIGGERED:\n%s", fx_dump(&X.f));
    cr_assert_eq(fx_ev(&X.f, (size_t)canc)->cancel_reason, DTX_CANCEL_RISK);
    cr_assert_eq(fx_ev(&X.f, (size_t)canc)->account, A);
    int64_t q;
    cr_assert_eq(fills_of(stop, &q), 0);

    dtx_risk_position_view p = rfx_position(&X, A, FX_SEC);
    cr_assert_eq(p.qty, 0);
    cr_assert_eq(p.open_buy_qty, 0);
    dtx_risk_account_view v = rfx_account(&X, A);
    cr_assert_eq(v.open_orders, 0);
    cr_assert_eq(v.initial_margin, 0);
    cr_assert_eq(v.collateral, USD(210));
    dtx_order_view ov;
    cr_assert_eq(dtx_engine_find_order(X.f.e, stop, &ov), 0, "the stop is gone from the engine");
    /* C's offer is untouched */
    cr_assert_eq(rfx_position(&X, C, FX_SEC).open_sell_qty, 10);
    rfx_check(&X);
}

Test(risk_stop_trigger, stop_that_opens_enters_when_the_account_still_affords_it)
{
    rfx_deposit(&X, A, 400);
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(100));
    uint64_t stop = fx_pend(&X.f, fx_stop(A, 1, FX_BUY, 102, 10));
    fx_rest(&X.f, fx_limit(C, 2, FX_SELL, 103, 10));
    rfx_set(&X, DTX_RISK_PARAM_INITIAL_MARGIN, 0, FX_SEC, RATE_PCT(20)); /* 300.55 <= 400 */
    print_last(102, 10);
    int64_t q;
    cr_assert_eq(fills_of(stop, &q), 1, "%s", fx_dump(&X.f));
    cr_assert_eq(q, 10);
    cr_assert_eq(rfx_position(&X, A, FX_SEC).qty, 10);
    cr_assert_eq(fx_find(&X.f, DTX_EV_CANCELED, stop, 0), -1);
    rfx_check(&X);
}

Test(risk_stop_trigger, stop_loss_enters_even_below_initial_margin)
{
    rfx_deposit(&X, A, 300);
    rfx_trade(&X, B, A, FX_BUY, 100, 10); /* A long 10 at 100, reference 100 */
    /* asks: 0 position + 10 x 10 below the reference + 900 x 0.05 % = 100.45 */
    uint64_t stop = fx_pend(&X.f, fx_stop(A, 1, FX_SELL, 95, 10));
    fx_rest(&X.f, fx_limit(C, 2, FX_BUY, 94, 10)); /* what the stop sells to */

    rfx_set(&X, DTX_RISK_PARAM_INITIAL_MARGIN, 0, FX_SEC, RATE_PCT(50));
    dtx_risk_account_view v = rfx_account(&X, A);
    cr_assert(v.equity < v.initial_margin, "A must be below initial margin (equity %lld, initial %lld)",
              (long long)v.equity, (long long)v.initial_margin);

    print_last(95, 10);
    int64_t q;
    cr_assert(fills_of(stop, &q) >= 1, "%s", fx_dump(&X.f));
    cr_assert_eq(q, 10);
    cr_assert_eq(fx_find(&X.f, DTX_EV_CANCELED, stop, 0), -1);
    dtx_risk_position_view p = rfx_position(&X, A, FX_SEC);
    cr_assert_eq(p.qty, 0);
    cr_assert_eq(p.open_sell_qty, 0);
    rfx_check(&X);
}

Test(risk_stop_trigger, reduce_only_stop_whose_position_is_gone_is_canceled)
{
    rfx_deposit(&X, A, 1000);
    rfx_trade(&X, B, A, FX_BUY, 100, 10); /* A long 10 */
    dtx_command s = fx_stop(A, 1, FX_SELL, 95, 10);
    s.exec_inst = DTX_EXEC_REDUCE_ONLY;
    uint64_t stop = fx_pend(&X.f, s);
    /* A closes the long by itself */
    fx_rest(&X.f, fx_limit(C, 2, FX_BUY, 99, 10));
    fx_send(&X.f, fx_limit(A, 3, FX_SELL, 99, 10));
    cr_assert_eq(rfx_position(&X, A, FX_SEC).qty, 0);

    fx_rest(&X.f, fx_limit(C, 4, FX_BUY, 94, 10));
    size_t from = fx_count(&X.f);
    print_last(95, 10);
    long canc = fx_find(&X.f, DTX_EV_CANCELED, stop, from);
    cr_assert(canc >= 0, "%s", fx_dump(&X.f));
    cr_assert_eq(fx_ev(&X.f, (size_t)canc)->cancel_reason, DTX_CANCEL_RISK);
    int64_t q;
    cr_assert_eq(fills_of(stop, &q), 0);
    cr_assert_eq(rfx_position(&X, A, FX_SEC).qty, 0, "no short opened by a reduce-only stop");
    rfx_check(&X);
}

/* A cascade: D's stop fills and moves the last price to A's stop level; A's
 * stop, no longer affordable, is canceled right after its TRIGGERED, and its
 * reserved margin and open quantity leave the accounting; the offer it would
 * have bought stays. */
Test(risk_stop_trigger, stop_triggered_by_another_stops_fill_is_canceled_and_releases_its_margin)
{
    enum { D = 4 };
    rfx_deposit(&X, A, 210);
    rfx_deposit(&X, D, 10000);
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(100));
    uint64_t sa = fx_pend(&X.f, fx_stop(A, 1, FX_BUY, 103, 10));
    uint64_t sd = fx_pend(&X.f, fx_stop(D, 1, FX_BUY, 102, 5));
    cr_assert_eq(rfx_account(&X, A).initial_margin, 200550000);
    fx_rest(&X.f, fx_limit(C, 10, FX_SELL, 103, 5));  /* what D's stop buys */
    fx_rest(&X.f, fx_limit(C, 11, FX_SELL, 104, 10)); /* what A's stop would buy */
    rfx_set(&X, DTX_RISK_PARAM_INITIAL_MARGIN, 0, FX_SEC, RATE_PCT(20));

    size_t from = fx_count(&X.f);
    print_last(102, 20);

    long td = fx_find(&X.f, DTX_EV_TRIGGERED, sd, from), ta = fx_find(&X.f, DTX_EV_TRIGGERED, sa, from);
    cr_assert(td >= 0 && ta > td, "D's stop, then A's:\n%s", fx_dump(&X.f));
    int64_t q;
    cr_assert_eq(fills_of(sd, &q), 1, "%s", fx_dump(&X.f));
    cr_assert_eq(q, 5);
    cr_assert(fx_find(&X.f, DTX_EV_FILL, sd, (size_t)td) < ta, "D traded before A's stop triggered");
    long ca = fx_find(&X.f, DTX_EV_CANCELED, sa, (size_t)ta);
    cr_assert_eq(ca, ta + 1, "%s", fx_dump(&X.f));
    cr_assert_eq(fx_ev(&X.f, (size_t)ca)->cancel_reason, DTX_CANCEL_RISK);
    cr_assert_eq(fx_ev(&X.f, (size_t)ca)->leaves_qty, 10);
    cr_assert_eq(fills_of(sa, &q), 0);
    cr_assert_eq((long)fx_count(&X.f), ca + 1, "nothing after A's cancel:\n%s", fx_dump(&X.f));

    dtx_risk_account_view va = rfx_account(&X, A);
    cr_assert_eq(va.open_orders, 0);
    cr_assert_eq(va.initial_margin, 0);
    cr_assert_eq(va.collateral, USD(210));
    dtx_risk_position_view pa = rfx_position(&X, A, FX_SEC);
    cr_assert_eq(pa.qty, 0);
    cr_assert_eq(pa.open_buy_qty, 0);
    cr_assert_eq(rfx_position(&X, D, FX_SEC).qty, 5);
    cr_assert_eq(rfx_position(&X, C, FX_SEC).open_sell_qty, 10, "the 104 offer is untouched");
    rfx_check(&X);
}
