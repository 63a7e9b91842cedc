/*
 * risk_gate.c - the pre-trade gate through a real engine: each check and its
 * reject reason (include/dtx/risk.h, dtx_risk_gate), the order in which they
 * apply, replaces, and that a rejected order changes nothing in the risk state.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/risk_fixture.h"

enum { A = 1, B = 2, C = 3, POOR = 4 };

static rfx X;
static void fini(void) { rfx_fini(&X); }

static void init_with(const dtx_risk_limits *lim)
{
    rfx_init(&X, NULL, 0, lim);
    rfx_deposit(&X, A, 10000);
    rfx_deposit(&X, B, 10000);
    rfx_deposit(&X, C, 10000);
    rfx_deposit(&X, POOR, 100);
}
static void init(void) { init_with(NULL); }

TestSuite(risk_gate, .init = init, .fini = fini);

/* The risk state an order may not change. */
typedef struct snapshot {
    dtx_risk_account_view acct[5];
    dtx_risk_position_view pos[5];
    dtx_risk_totals totals;
} snapshot;

static snapshot snap(void)
{
    snapshot s;
    memset(&s, 0, sizeof s);
    for (uint32_t a = 0; a < 5; a++) {
        s.acct[a] = rfx_account(&X, a);
        s.pos[a] = rfx_position(&X, a, FX_SEC);
    }
    dtx_risk_get_totals(X.r, &s.totals);
    return s;
}

static void expect_same(const snapshot *before)
{
    snapshot after = snap();
    cr_assert(memcmp(before, &after, sizeof after) == 0, "a rejected order changed the risk state");
    rfx_check(&X);
}

Test(risk_gate, accepted_limit_order_is_counted_in_open_totals)
{
    fx_rest(&X.f, fx_limit(A, 1, FX_BUY, 100, 10));
    dtx_risk_account_view v = rfx_account(&X, A);
    cr_assert_eq(v.open_orders, 1);
    /* no reference price yet: the bid is valued at its own price:
     * 10% of 1000 + taker fee 0.05% of 1000 */
    cr_assert_eq(v.initial_margin, USD(100) + 500000);
    cr_assert_eq(v.order_margin, v.initial_margin);
    dtx_risk_position_view p = rfx_position(&X, A, FX_SEC);
    cr_assert_eq(p.open_buy_qty, 10);
    cr_assert_eq(p.open_sell_qty, 0);
    cr_assert_eq(p.qty, 0);
    rfx_check(&X);
}

Test(risk_gate, instrument_without_risk_parameters_is_unknown_instrument)
{
    rfx_fini(&X);
    uint32_t n;
    const dtx_risk_instrument_config *ins = rfx_instruments(&n);
    rfx_init(&X, ins, 2, NULL); /* FX_SEC and FX_SEC_LOT only */
    rfx_deposit(&X, A, 10000);
    dtx_command c = fx_limit(A, 1, FX_BUY, 100, 10);
    c.security_id = FX_SEC_B;
    fx_rejected(&X.f, c, DTX_REJ_UNKNOWN_INSTRUMENT);
    fx_rest(&X.f, fx_limit(A, 2, FX_BUY, 100, 10));
}

Test(risk_gate, dated_future_at_expiry_is_halted)
{
    rfx_fini(&X);
    uint32_t n;
    dtx_risk_instrument_config ins[3];
    memcpy(ins, rfx_instruments(&n), sizeof ins);
    ins[1].expiry = FX_T0 + 2 * FX_TS_STEP; /* FX_SEC_LOT */
    rfx_init(&X, ins, 3, NULL);
    rfx_deposit(&X, A, 10000);
    dtx_command c = fx_limit(A, 1, FX_BUY, 100, 10);
    c.security_id = FX_SEC_LOT;
    fx_rest(&X.f, c); /* ts FX_T0 */
    c.clordid = 2;
    fx_rest(&X.f, c); /* ts FX_T0 + 1 step */
    c.clordid = 3;
    fx_rejected(&X.f, c, DTX_REJ_INSTRUMENT_HALTED); /* at expiry */
    fx_rest(&X.f, fx_limit(A, 4, FX_BUY, 100, 10));   /* the perpetual trades on */
}

Test(risk_gate, kill_switch_and_unknown_account_are_account_disabled)
{
    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_ACCOUNT_ENABLED, A, 0, 0), 1);
    fx_rejected(&X.f, fx_limit(A, 1, FX_BUY, 100, 1), DTX_REJ_ACCOUNT_DISABLED);
    fx_rejected(&X.f, fx_limit(RFX_ACCOUNTS, 1, FX_BUY, 100, 1), DTX_REJ_ACCOUNT_DISABLED);
    fx_rest(&X.f, fx_limit(B, 1, FX_BUY, 100, 1));
    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_ACCOUNT_ENABLED, A, 0, 1), 0);
    fx_rest(&X.f, fx_limit(A, 2, FX_BUY, 100, 1));
}

Test(risk_gate, max_order_qty_default_instrument_default_and_account_override)
{
    rfx_fini(&X);
    dtx_risk_limits lim = {.max_order_qty = 100};
    init_with(&lim);
    fx_rejected(&X.f, fx_limit(A, 1, FX_BUY, 10, 101), DTX_REJ_MAX_ORDER_QTY);
    fx_rest(&X.f, fx_limit(A, 2, FX_BUY, 10, 100));
    /* the instrument's default replaces the config default */
    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_MAX_ORDER_QTY, DTX_RISK_DEFAULT_ACCOUNT, FX_SEC, 50), 0);
    fx_rejected(&X.f, fx_limit(B, 3, FX_BUY, 10, 51), DTX_REJ_MAX_ORDER_QTY);
    /* an account's own limit replaces both */
    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_MAX_ORDER_QTY, A, FX_SEC, 200), 0);
    fx_rest(&X.f, fx_limit(A, 4, FX_BUY, 10, 200));
    fx_rejected(&X.f, fx_limit(A, 5, FX_BUY, 10, 201), DTX_REJ_MAX_ORDER_QTY);
    fx_rest(&X.f, fx_limit(B, 6, FX_BUY, 10, 50));
}

Test(risk_gate, max_notional_counts_qty_times_price_times_multiplier)
{
    rfx_set(&X, DTX_RISK_PARAM_MAX_NOTIONAL, DTX_RISK_DEFAULT_ACCOUNT, 0, USD(5000));
    fx_rejected(&X.f, fx_limit(A, 1, FX_BUY, 100, 51), DTX_REJ_MAX_NOTIONAL); /* 5100 */
    fx_rest(&X.f, fx_limit(A, 2, FX_BUY, 100, 50));                          /* 5000 */
    rfx_set(&X, DTX_RISK_PARAM_MAX_NOTIONAL, B, 0, USD(6000));
    fx_rest(&X.f, fx_limit(B, 3, FX_SELL, 120, 50)); /* 6000 */
}

Test(risk_gate, limit_price_outside_band_around_mark_is_rejected)
{
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(100));
    fx_rejected(&X.f, fx_limit(A, 1, FX_BUY, 111, 1), DTX_REJ_PRICE_OUTSIDE_BAND);
    fx_rejected(&X.f, fx_limit(A, 2, FX_SELL, 89, 1), DTX_REJ_PRICE_OUTSIDE_BAND);
    /* exactly at the band's edges */
    fx_rest(&X.f, fx_limit(A, 3, FX_BUY, 90, 1));
    fx_rest(&X.f, fx_limit(B, 4, FX_SELL, 110, 1));
    /* a stop's trigger and a stop-limit's limit are not banded */
    fx_pend(&X.f, fx_stop_limit(A, 6, FX_BUY, 150, 151, 1));
}

Test(risk_gate, market_order_without_any_reference_price_is_outside_band)
{
    fx_rest(&X.f, fx_limit(B, 1, FX_SELL, 100, 5));
    fx_rejected(&X.f, fx_market(A, 2, FX_BUY, 5), DTX_REJ_PRICE_OUTSIDE_BAND);
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(100));
    fx_send(&X.f, fx_market(A, 3, FX_BUY, 5));
    cr_assert_eq(fx_count_type(&X.f, DTX_EV_FILL), 2);
    cr_assert_eq(rfx_position(&X, A, FX_SEC).qty, 5);
    rfx_check(&X);
}

Test(risk_gate, too_many_open_orders_per_account)
{
    rfx_set(&X, DTX_RISK_PARAM_MAX_OPEN_ORDERS, DTX_RISK_DEFAULT_ACCOUNT, 0, 2);
    uint64_t id = fx_rest(&X.f, fx_limit(A, 1, FX_BUY, 100, 1));
    fx_rest(&X.f, fx_limit(A, 2, FX_BUY, 99, 1));
    fx_rejected(&X.f, fx_limit(A, 3, FX_BUY, 98, 1), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    fx_rest(&X.f, fx_limit(B, 4, FX_BUY, 98, 1));
    /* a replace does not add an order */
    fx_send(&X.f, fx_replace(A, 5, id, 97, 2));
    cr_assert_eq(fx_ev(&X.f, 0)->type, DTX_EV_REPLACED, "%s", fx_dump(&X.f));
    fx_send(&X.f, fx_cancel(A, 6, id));
    cr_assert_eq(rfx_account(&X, A).open_orders, 1);
    fx_rest(&X.f, fx_limit(A, 7, FX_BUY, 98, 1));
    rfx_check(&X);
}

Test(risk_gate, position_limit_counts_position_and_open_orders_of_the_side)
{
    rfx_set(&X, DTX_RISK_PARAM_MAX_POSITION, DTX_RISK_DEFAULT_ACCOUNT, FX_SEC, 10);
    rfx_trade(&X, B, A, FX_BUY, 100, 3); /* A long 3 */
    fx_rest(&X.f, fx_limit(A, 1, FX_BUY, 99, 4));
    fx_rejected(&X.f, fx_limit(A, 2, FX_BUY, 99, 4), DTX_REJ_POSITION_LIMIT); /* 3 + 4 + 4 */
    fx_rest(&X.f, fx_limit(A, 3, FX_BUY, 99, 3));                            /* 3 + 4 + 3 */
    /* selling: 3 - 13 = -10 is within the limit, one more is not */
    fx_rest(&X.f, fx_limit(A, 4, FX_SELL, 105, 13));
    fx_rejected(&X.f, fx_limit(A, 5, FX_SELL, 105, 1), DTX_REJ_POSITION_LIMIT);
    /* the short side is at its limit: B (short 3) may sell 7 more, not 8 */
    fx_rejected(&X.f, fx_limit(B, 6, FX_SELL, 106, 8), DTX_REJ_POSITION_LIMIT);
    fx_rest(&X.f, fx_limit(B, 7, FX_SELL, 106, 7));
}

Test(risk_gate, reduce_only_may_not_take_the_position_past_zero)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 5); /* A long 5 */
    dtx_command ro = fx_limit(A, 1, FX_BUY, 95, 1);
    ro.exec_inst = DTX_EXEC_REDUCE_ONLY;
    fx_rejected(&X.f, ro, DTX_REJ_REDUCE_ONLY_WOULD_INCREASE);
    ro = fx_limit(A, 2, FX_SELL, 105, 3);
    ro.exec_inst = DTX_EXEC_REDUCE_ONLY;
    uint64_t id = fx_rest(&X.f, ro);
    ro = fx_limit(A, 3, FX_SELL, 105, 3); /* 5 - 3 - 3 < 0 */
    ro.exec_inst = DTX_EXEC_REDUCE_ONLY;
    fx_rejected(&X.f, ro, DTX_REJ_REDUCE_ONLY_WOULD_INCREASE);
    ro.qty = 2;
    fx_rest(&X.f, ro);
    /* a replace of a reduce-only order is checked too */
    fx_send(&X.f, fx_replace(A, 4, id, FX_KEEP, 4));
    fx_expect_cancel_reject(&X.f, 0, &X.f.last, DTX_REJ_REDUCE_ONLY_WOULD_INCREASE);
    /* B is short 5: a reduce-only buy of 5 is fine */
    ro = fx_limit(B, 5, FX_BUY, 95, 5);
    ro.exec_inst = DTX_EXEC_REDUCE_ONLY;
    fx_rest(&X.f, ro);
}

Test(risk_gate, insufficient_margin_against_equity)
{
    /* POOR has 100 USD: 10 @ 100 needs 100 + fee 0.5 */
    fx_rejected(&X.f, fx_limit(POOR, 1, FX_BUY, 100, 10), DTX_REJ_INSUFFICIENT_MARGIN);
    fx_rest(&X.f, fx_limit(POOR, 2, FX_BUY, 100, 9)); /* 90 + 0.45 */
    /* the ask side now needs more than the bids: it is the one counted */
    fx_rest(&X.f, fx_limit(POOR, 3, FX_SELL, 105, 9));
    fx_rejected(&X.f, fx_limit(POOR, 4, FX_SELL, 105, 1), DTX_REJ_INSUFFICIENT_MARGIN);
    dtx_risk_account_view v = rfx_account(&X, POOR);
    cr_assert_eq(v.initial_margin, USD(94) + 972500); /* asks: 94.5 + 0.05% of 945 */
    rfx_check(&X);
}

Test(risk_gate, order_that_lowers_the_requirement_passes_when_under_margined)
{
    rfx_deposit(&X, 5, 200);
    rfx_trade(&X, B, 5, FX_BUY, 100, 10); /* account 5 long 10, IM 100 */
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(85));
    dtx_risk_account_view v = rfx_account(&X, 5);
    cr_assert_eq(v.equity, USD(200) - 500000 - USD(150));
    cr_assert_eq(v.initial_margin, USD(85));
    cr_assert(v.available < 0);
    /* equity 49.5 < initial 85: a new bid is refused, a closing ask accepted */
    fx_rejected(&X.f, fx_limit(5, 1, FX_BUY, 85, 1), DTX_REJ_INSUFFICIENT_MARGIN);
    fx_rest(&X.f, fx_limit(5, 2, FX_SELL, 90, 10));
    cr_assert_eq(rfx_account(&X, 5).initial_margin, USD(85));
    rfx_check(&X);
}

Test(risk_gate, first_failing_check_names_the_reason)
{
    rfx_set(&X, DTX_RISK_PARAM_MAX_ORDER_QTY, DTX_RISK_DEFAULT_ACCOUNT, FX_SEC, 5);
    rfx_set(&X, DTX_RISK_PARAM_MAX_NOTIONAL, DTX_RISK_DEFAULT_ACCOUNT, 0, USD(100));
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(100));
    rfx_set(&X, DTX_RISK_PARAM_ACCOUNT_ENABLED, C, 0, 0);
    /* disabled, too big, too much notional, off band, short of margin: */
    fx_rejected(&X.f, fx_limit(C, 1, FX_BUY, 200, 100), DTX_REJ_ACCOUNT_DISABLED);
    fx_rejected(&X.f, fx_limit(POOR, 2, FX_BUY, 200, 100), DTX_REJ_MAX_ORDER_QTY);
    fx_rejected(&X.f, fx_limit(POOR, 3, FX_BUY, 200, 5), DTX_REJ_MAX_NOTIONAL);
    rfx_set(&X, DTX_RISK_PARAM_MAX_NOTIONAL, DTX_RISK_DEFAULT_ACCOUNT, 0, 0);
    fx_rejected(&X.f, fx_limit(POOR, 4, FX_BUY, 200, 5), DTX_REJ_PRICE_OUTSIDE_BAND);
    rfx_set(&X, DTX_RISK_PARAM_MAX_ORDER_QTY, DTX_RISK_DEFAULT_ACCOUNT, FX_SEC, 0);
    fx_rejected(&X.f, fx_limit(POOR, 5, FX_BUY, 100, 11), DTX_REJ_INSUFFICIENT_MARGIN);
}

Test(risk_gate, rejected_orders_change_nothing)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 5);
    fx_rest(&X.f, fx_limit(A, 1, FX_BUY, 99, 5));
    fx_rest(&X.f, fx_limit(POOR, 2, FX_SELL, 101, 1));
    rfx_set(&X, DTX_RISK_PARAM_MAX_OPEN_ORDERS, POOR, 0, 1);
    rfx_set(&X, DTX_RISK_PARAM_MAX_POSITION, A, FX_SEC, 12);
    rfx_set(&X, DTX_RISK_PARAM_MAX_ORDER_QTY, B, FX_SEC, 3);
    rfx_set(&X, DTX_RISK_PARAM_ACCOUNT_ENABLED, C, 0, 0);
    snapshot before = snap();
    fx_rejected(&X.f, fx_limit(C, 10, FX_BUY, 100, 1), DTX_REJ_ACCOUNT_DISABLED);
    fx_rejected(&X.f, fx_limit(B, 11, FX_BUY, 100, 4), DTX_REJ_MAX_ORDER_QTY);
    fx_rejected(&X.f, fx_limit(A, 12, FX_BUY, 111, 1), DTX_REJ_PRICE_OUTSIDE_BAND);
    fx_rejected(&X.f, fx_limit(POOR, 13, FX_SELL, 101, 1), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    fx_rejected(&X.f, fx_limit(A, 14, FX_BUY, 99, 3), DTX_REJ_POSITION_LIMIT);
    dtx_command ro = fx_limit(A, 15, FX_BUY, 99, 1);
    ro.exec_inst = DTX_EXEC_REDUCE_ONLY;
    fx_rejected(&X.f, ro, DTX_REJ_REDUCE_ONLY_WOULD_INCREASE);
    rfx_set(&X, DTX_RISK_PARAM_MAX_OPEN_ORDERS, POOR, 0, 0);
    fx_rejected(&X.f, fx_limit(POOR, 16, FX_BUY, 100, 10), DTX_REJ_INSUFFICIENT_MARGIN);
    expect_same(&before);
}

Test(risk_gate, replace_is_checked_with_its_old_quantity_taken_out)
{
    /* POOR: 100 USD. A bid of 9 @ 100 uses 90.45 */
    uint64_t id = fx_rest(&X.f, fx_limit(POOR, 1, FX_BUY, 100, 9));
    snapshot before = snap();
    fx_send(&X.f, fx_replace(POOR, 2, id, FX_KEEP, 10));
    fx_expect_cancel_reject(&X.f, 0, &X.f.last, DTX_REJ_INSUFFICIENT_MARGIN);
    expect_same(&before);
    cr_assert_eq(fx_order(&X.f, id).leaves_qty, 9);
    /* the same 9 at a lower price fit: only the difference counts */
    fx_send(&X.f, fx_replace(POOR, 3, id, 95, 9));
    cr_assert_eq(fx_ev(&X.f, 0)->type, DTX_EV_REPLACED, "%s", fx_dump(&X.f));
    cr_assert_eq(rfx_account(&X, POOR).initial_margin, USD(855) / 10 + 427500);
    rfx_check(&X);
}

Test(risk_gate, replace_back_to_an_unchanged_price_is_not_banded_again)
{
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(100));
    uint64_t id = fx_rest(&X.f, fx_limit(A, 1, FX_BUY, 91, 10));
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(110));
    /* 91 is now 17% under the mark, but a quantity cut keeps the price */
    fx_send(&X.f, fx_replace(A, 2, id, FX_KEEP, 5));
    cr_assert_eq(fx_ev(&X.f, 0)->type, DTX_EV_REPLACED, "%s", fx_dump(&X.f));
    fx_send(&X.f, fx_replace(A, 3, id, 92, 5));
    fx_expect_cancel_reject(&X.f, 0, &X.f.last, DTX_REJ_PRICE_OUTSIDE_BAND);
}

Test(risk_gate, create_refuses_inconsistent_parameters_naming_the_field)
{
    uint32_t n;
    dtx_risk_instrument_config ins[3];
    memcpy(ins, rfx_instruments(&n), sizeof ins);
    dtx_risk_config rc = {.instruments = ins, .n_instruments = 3, .n_accounts = 4, .max_orders = 16};
    ins[1].maint_margin_rate = ins[1].initial_margin_rate;
    cr_assert_null(dtx_risk_create(&rc));
    cr_assert(strstr(dtx_error_message(), "instruments[1].maint_margin_rate") != NULL, "%s", dtx_error_message());
    memcpy(ins, rfx_instruments(&n), sizeof ins);
    ins[2].maker_fee_rate = -ins[2].taker_fee_rate - 1; /* rebate above the taker fee */
    cr_assert_null(dtx_risk_create(&rc));
    memcpy(ins, rfx_instruments(&n), sizeof ins);
    ins[2].security_id = ins[0].security_id;
    cr_assert_null(dtx_risk_create(&rc));
    cr_assert(strstr(dtx_error_message(), "duplicate") != NULL, "%s", dtx_error_message());
    memcpy(ins, rfx_instruments(&n), sizeof ins);
    rc.n_accounts = 0;
    cr_assert_null(dtx_risk_create(&rc));
    rc.n_accounts = 4;
    dtx_risk *r = dtx_risk_create(&rc);
    cr_assert_not_null(r);
    dtx_risk_destroy(r);
}

Test(risk_gate, parameter_reads_and_refused_changes)
{
    dtx_risk_change ch = {.param = DTX_RISK_PARAM_MARK_PRICE, .security_id = FX_SEC};
    cr_assert_eq(dtx_risk_read(X.r, &ch), DTX_OK);
    cr_assert_eq(ch.old_value, DTX_PRICE_NULL);
    ch = (dtx_risk_change){.param = DTX_RISK_PARAM_TAKER_FEE, .security_id = FX_SEC_B};
    cr_assert_eq(dtx_risk_read(X.r, &ch), DTX_OK);
    cr_assert_eq(ch.old_value, RFX_TAKER);
    ch = (dtx_risk_change){.param = DTX_RISK_PARAM_INITIAL_MARGIN, .security_id = FX_SEC_UNKNOWN,
                           .new_value = RATE_PCT(20)};
    cr_assert_eq(dtx_risk_apply(X.r, &ch), DTX_EINVAL);
    ch = (dtx_risk_change){.param = 99, .account = A, .new_value = 1};
    cr_assert_eq(dtx_risk_apply(X.r, &ch), DTX_EINVAL);
    ch = (dtx_risk_change){.param = DTX_RISK_PARAM_MAX_NOTIONAL, .account = RFX_ACCOUNTS, .new_value = 1};
    cr_assert_eq(dtx_risk_apply(X.r, &ch), DTX_EINVAL);
    ch = (dtx_risk_change){.param = DTX_RISK_PARAM_MARK_PRICE, .security_id = FX_SEC, .new_value = 0};
    cr_assert_eq(dtx_risk_apply(X.r, &ch), DTX_EINVAL);
    ch = (dtx_risk_change){.param = DTX_RISK_PARAM_MAKER_FEE, .security_id = FX_SEC, .new_value = -RFX_TAKER - 1};
    cr_assert_eq(dtx_risk_apply(X.r, &ch), DTX_EINVAL);
    /* a refused change changed nothing */
    ch = (dtx_risk_change){.param = DTX_RISK_PARAM_MAKER_FEE, .security_id = FX_SEC};
    cr_assert_eq(dtx_risk_read(X.r, &ch), DTX_OK);
    cr_assert_eq(ch.old_value, RFX_MAKER);
    /* an accepted one reports old and new */
    ch = (dtx_risk_change){.param = DTX_RISK_PARAM_MAX_OPEN_ORDERS, .account = B, .new_value = 7};
    cr_assert_eq(dtx_risk_apply(X.r, &ch), DTX_OK);
    cr_assert_eq(ch.old_value, 0);
    cr_assert_eq(ch.new_value, 7);
}

Test(risk_gate, replace_that_does_not_add_quantity_passes_a_lowered_position_limit)
{
    uint64_t id = fx_rest(&X.f, fx_limit(A, 1, FX_BUY, 99, 10));
    rfx_set(&X, DTX_RISK_PARAM_MAX_POSITION, A, FX_SEC, 5);
    fx_send(&X.f, fx_replace(A, 2, id, FX_KEEP, 12));
    fx_expect_cancel_reject(&X.f, 0, &X.f.last, DTX_REJ_POSITION_LIMIT);
    fx_send(&X.f, fx_replace(A, 3, id, 98, 8)); /* less, at a new price */
    cr_assert_eq(fx_ev(&X.f, 0)->type, DTX_EV_REPLACED, "%s", fx_dump(&X.f));
    fx_rejected(&X.f, fx_limit(A, 4, FX_BUY, 97, 1), DTX_REJ_POSITION_LIMIT);
    rfx_check(&X);
}
