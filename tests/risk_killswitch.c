/*
 * risk_killswitch.c - the kill switch (DTX_RISK_PARAM_ACCOUNT_ENABLED and
 * dtx_risk_kill_command): disabling an account blocks its new orders and
 * replaces (AccountDisabled), the mass cancel the core issues removes every
 * working order of the account and only of that account, positions stay, and
 * enabling it again lets orders through; also under a random stream of orders.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>

#include "support/risk_fixture.h"

enum { A = 1, B = 2, C = 3 };

static rfx X;
static void init(void)
{
    rfx_init(&X, NULL, 0, NULL);
    for (uint32_t a = 0; a < 6; a++)
        rfx_deposit(&X, a, 100000);
}
static void fini(void) { rfx_fini(&X); }
TestSuite(risk_killswitch, .init = init, .fini = fini);

Test(risk_killswitch, kill_command_is_a_mass_cancel_of_every_order_of_the_account)
{
    dtx_command c = dtx_risk_kill_command(7, 99, 1234, 5678);
    cr_assert_eq(c.type, DTX_CMD_MASS_CANCEL);
    cr_assert_eq(c.account, 7);
    cr_assert_eq(c.clordid, 99);
    cr_assert_eq(c.seq, 1234);
    cr_assert_eq(c.ts, 5678);
    cr_assert_eq(c.security_id, 0);
    cr_assert_eq(c.side, 0);
    cr_assert_eq(c.price, DTX_PRICE_NULL);
}

Test(risk_killswitch, kill_cancels_every_order_blocks_new_ones_and_keeps_the_position)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 4); /* A long 4 */
    uint64_t a1 = fx_rest(&X.f, fx_limit(A, 1, FX_BUY, 99, 5));
    dtx_command other = fx_limit(A, 2, FX_SELL, 40, 3);
    other.security_id = FX_SEC_B;
    fx_rest(&X.f, other);
    fx_pend(&X.f, fx_stop(A, 3, FX_SELL, 95, 2));
    uint64_t b1 = fx_rest(&X.f, fx_limit(B, 4, FX_BUY, 98, 7));
    cr_assert_eq(rfx_account(&X, A).open_orders, 3);

    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_ACCOUNT_ENABLED, A, 0, 0), 1);
    fx_send(&X.f, dtx_risk_kill_command(A, 50, 0, 0));
    cr_assert_eq(fx_count_type(&X.f, DTX_EV_CANCELED), 3, "%s", fx_dump(&X.f));
    long r = fx_find(&X.f, DTX_EV_MASS_CANCEL_REPORT, 0, 0);
    cr_assert_geq(r, 0);
    cr_assert_eq(fx_ev(&X.f, (size_t)r)->total_affected, 3);
    fx_expect_gone(&X.f, a1);
    cr_assert_eq(fx_order(&X.f, b1).leaves_qty, 7);

    dtx_risk_account_view v = rfx_account(&X, A);
    cr_assert_eq(v.enabled, 0);
    cr_assert_eq(v.open_orders, 0);
    cr_assert_eq(v.order_margin, 0);
    dtx_risk_position_view p = rfx_position(&X, A, FX_SEC);
    cr_assert_eq(p.qty, 4);
    cr_assert_eq(p.open_buy_qty, 0);
    cr_assert_eq(p.open_sell_qty, 0);
    cr_assert_eq(rfx_account(&X, B).open_orders, 1);

    /* new orders of every kind are refused, reduce-only and market included */
    fx_rejected(&X.f, fx_limit(A, 5, FX_BUY, 99, 1), DTX_REJ_ACCOUNT_DISABLED);
    dtx_command ro = fx_limit(A, 6, FX_SELL, 101, 4);
    ro.exec_inst = DTX_EXEC_REDUCE_ONLY;
    fx_rejected(&X.f, ro, DTX_REJ_ACCOUNT_DISABLED);
    fx_rejected(&X.f, fx_market(A, 7, FX_SELL, 1), DTX_REJ_ACCOUNT_DISABLED);
    /* a cancel is not gated: it finds nothing */
    fx_send(&X.f, fx_cancel(A, 8, a1));
    fx_expect_cancel_reject(&X.f, 0, &X.f.last, DTX_REJ_UNKNOWN_ORDER);
    rfx_check(&X);

    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_ACCOUNT_ENABLED, A, 0, 1), 0);
    fx_rest(&X.f, fx_limit(A, 9, FX_BUY, 99, 1));
    cr_assert_eq(rfx_account(&X, A).enabled, 1);
}

Test(risk_killswitch, replace_of_an_order_left_working_is_refused_while_disabled)
{
    uint64_t id = fx_rest(&X.f, fx_limit(A, 1, FX_BUY, 99, 5));
    rfx_set(&X, DTX_RISK_PARAM_ACCOUNT_ENABLED, A, 0, 0);
    /* before the core's mass cancel arrives */
    fx_send(&X.f, fx_replace(A, 2, id, 98, 5));
    fx_expect_cancel_reject(&X.f, 0, &X.f.last, DTX_REJ_ACCOUNT_DISABLED);
    cr_assert_eq(fx_order(&X.f, id).price, FX_PX(99));
    /* the order may still trade as a maker until it is canceled */
    fx_send(&X.f, fx_limit(B, 3, FX_SELL, 99, 2));
    cr_assert_eq(fx_count_type(&X.f, DTX_EV_FILL), 2);
    cr_assert_eq(rfx_position(&X, A, FX_SEC).qty, 2);
    rfx_check(&X);
}

Test(risk_killswitch, kill_switch_needs_an_account)
{
    dtx_risk_change ch = {.param = DTX_RISK_PARAM_ACCOUNT_ENABLED, .account = DTX_RISK_DEFAULT_ACCOUNT};
    cr_assert_eq(dtx_risk_apply(X.r, &ch), DTX_EINVAL);
    ch = (dtx_risk_change){.param = DTX_RISK_PARAM_ACCOUNT_ENABLED, .account = RFX_ACCOUNTS, .new_value = 0};
    cr_assert_eq(dtx_risk_apply(X.r, &ch), DTX_EINVAL);
    ch = (dtx_risk_change){.param = DTX_RISK_PARAM_ACCOUNT_ENABLED, .account = A, .new_value = 2};
    cr_assert_eq(dtx_risk_apply(X.r, &ch), DTX_EINVAL);
    cr_assert_eq(rfx_account(&X, A).enabled, 1);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

Test(risk_killswitch, killed_account_gets_nothing_through_a_stream_of_orders)
{
    const uint32_t victim = 2;
    uint64_t seed = rng;
    fprintf(stderr, "risk_killswitch: stream seed %" PRIu64 "\n", seed);
    uint64_t cl[6] = {0};
    uint64_t victim_orders = 0;
    for (int step = 0; step < 3000; step++) {
        if (step == 1000) {
            rfx_set(&X, DTX_RISK_PARAM_ACCOUNT_ENABLED, victim, 0, 0);
            fx_send(&X.f, dtx_risk_kill_command(victim, ++cl[victim], 0, 0));
            cr_assert_eq(fx_ev(&X.f, fx_count(&X.f) - 1)->total_affected, victim_orders, "%s", fx_dump(&X.f));
            cr_assert_eq(rfx_account(&X, victim).open_orders, 0);
        }
        if (step == 2000)
            rfx_set(&X, DTX_RISK_PARAM_ACCOUNT_ENABLED, victim, 0, 1);
        uint32_t a = (uint32_t)(rnd() % 6);
        uint8_t side = rnd() & 1 ? FX_BUY : FX_SELL;
        int64_t px = 95 + (int64_t)(rnd() % 11);
        uint64_t prev = cl[a] - rnd() % 4; /* a recent ClOrdID of the account */
        ++cl[a];
        dtx_command c = rnd() % 4 ? fx_limit(a, cl[a], side, px, 1 + (int64_t)(rnd() % 9))
                                  : fx_replace_clordid(a, cl[a], prev, px, 1 + (int64_t)(rnd() % 9));
        fx_send(&X.f, c);
        int killed = step >= 1000 && step < 2000;
        for (size_t i = 0; i < fx_count(&X.f); i++) {
            const dtx_event *ev = fx_ev(&X.f, i);
            if (ev->account != victim && ev->contra_account != victim)
                continue;
            if (killed) {
                cr_assert(ev->type == DTX_EV_REJECT || ev->type == DTX_EV_CANCEL_REJECT,
                          "step %d: the killed account got %s", step, dtx_event_type_name(ev->type));
                if (c.type == DTX_CMD_NEW_ORDER || ev->reject_reason != DTX_REJ_UNKNOWN_ORDER)
                    cr_assert_eq(ev->reject_reason, DTX_REJ_ACCOUNT_DISABLED);
            }
        }
        dtx_risk_account_view v = rfx_account(&X, victim);
        if (killed)
            cr_assert_eq(v.open_orders, 0);
        victim_orders = v.open_orders;
        cr_assert_eq(dtx_risk_check(X.r), DTX_OK, "step %d: %s", step, dtx_error_message());
    }
    cr_assert_gt(victim_orders + rfx_position(&X, victim, FX_SEC).open_buy_qty, 0,
                 "the account did not trade again after it was enabled");
}
