/*
 * risk_margin.c - margin and accounting arithmetic against hand-computed
 * values (docs/risk.md): long, short, partially closed and flipped positions,
 * realized and unrealized PnL, maker/taker fees with a rebate and their
 * rounding, requirements of open orders (the worse side), several instruments
 * cross-margined, leverage caps, maintenance flags, withdrawals.
 *
 * Test instruments: multiplier 1.0, so qty x price is the notional in USD.
 * Rates: initial 10 %, maintenance 5 %, maker -0.01 %, taker 0.05 %.
 */
#include <criterion/criterion.h>

#include "support/risk_fixture.h"

enum { A = 1, B = 2, C = 3 };

static rfx X;
static void init(void)
{
    rfx_init(&X, NULL, 0, NULL);
    rfx_deposit(&X, A, 10000);
    rfx_deposit(&X, B, 10000);
    rfx_deposit(&X, C, 10000);
}
static void fini(void) { rfx_fini(&X); }
TestSuite(risk_margin, .init = init, .fini = fini);

static uint64_t next_cl = 5000;

/* maker rests qty at ticks on sec, taker crosses it in full */
static void trade_on(uint32_t sec, uint32_t maker, uint32_t taker, uint8_t taker_side, int64_t ticks, int64_t qty)
{
    dtx_command m = fx_limit(maker, ++next_cl, taker_side == FX_BUY ? FX_SELL : FX_BUY, ticks, qty);
    m.security_id = sec;
    fx_rest(&X.f, m);
    dtx_command t = fx_limit(taker, ++next_cl, taker_side, ticks, qty);
    t.security_id = sec;
    fx_send(&X.f, t);
    cr_assert_eq(fx_count_type(&X.f, DTX_EV_FILL), 2, "no trade:\n%s", fx_dump(&X.f));
    rfx_check(&X);
}

Test(risk_margin, taker_buy_opens_a_long_and_the_maker_a_short)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 10); /* 1000 USD */
    dtx_risk_position_view a = rfx_position(&X, A, FX_SEC);
    cr_assert_eq(a.qty, 10);
    cr_assert_eq(a.entry_cost, USD(1000));
    cr_assert_eq(a.avg_entry_price, FX_PX(100));
    cr_assert_eq(a.fees, 500000); /* 0.05 % of 1000 */
    cr_assert_eq(a.realized_pnl, 0);
    dtx_risk_position_view b = rfx_position(&X, B, FX_SEC);
    cr_assert_eq(b.qty, -10);
    cr_assert_eq(b.entry_cost, -USD(1000));
    cr_assert_eq(b.avg_entry_price, FX_PX(100));
    cr_assert_eq(b.fees, -100000); /* rebate 0.01 % */

    dtx_risk_account_view va = rfx_account(&X, A);
    cr_assert_eq(va.collateral, USD(10000) - 500000);
    cr_assert_eq(va.unrealized_pnl, 0); /* reference = last trade 100 */
    cr_assert_eq(va.equity, USD(10000) - 500000);
    cr_assert_eq(va.initial_margin, USD(100));
    cr_assert_eq(va.order_margin, 0);
    cr_assert_eq(va.maint_margin, USD(50));
    cr_assert_eq(va.available, USD(9900) - 500000);
    cr_assert_eq(va.margin_ratio, 199990000000); /* 9999.5 / 50 */
    cr_assert_eq(va.below_maintenance, 0);
    cr_assert_eq(rfx_account(&X, B).collateral, USD(10000) + 100000);

    dtx_risk_totals t;
    dtx_risk_get_totals(X.r, &t);
    cr_assert_eq(t.fee_balance, 400000);
    cr_assert_eq(t.collateral, USD(30000) - 400000);
    cr_assert_eq(t.entry_cost, 0);
    cr_assert_eq(t.net_deposits, USD(30000));
    cr_assert_eq(t.fills, 2);
}

Test(risk_margin, mark_price_moves_unrealized_pnl_and_margin_of_both_sides)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 10);
    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(110)), DTX_PRICE_NULL);
    dtx_risk_account_view a = rfx_account(&X, A), b = rfx_account(&X, B);
    cr_assert_eq(a.unrealized_pnl, USD(100));
    cr_assert_eq(a.equity, USD(10100) - 500000);
    cr_assert_eq(a.initial_margin, USD(110));
    cr_assert_eq(a.maint_margin, USD(55));
    cr_assert_eq(b.unrealized_pnl, -USD(100));
    cr_assert_eq(b.equity, USD(9900) + 100000);
    cr_assert_eq(b.initial_margin, USD(110));
    /* the collateral does not move with the mark */
    cr_assert_eq(a.collateral, USD(10000) - 500000);
    rfx_check(&X);
}

Test(risk_margin, partial_close_realizes_the_pnl_of_the_closed_part)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 10);
    rfx_trade(&X, C, A, FX_SELL, 110, 4); /* A sells 4 @ 110 to C */
    dtx_risk_position_view a = rfx_position(&X, A, FX_SEC);
    cr_assert_eq(a.qty, 6);
    cr_assert_eq(a.entry_cost, USD(600));
    cr_assert_eq(a.avg_entry_price, FX_PX(100));
    cr_assert_eq(a.realized_pnl, USD(40));    /* 440 - 400 */
    cr_assert_eq(a.fees, 500000 + 220000);     /* 0.05 % of 1000 and of 440 */
    cr_assert_eq(a.unrealized_pnl, USD(60));   /* 6 x 110 - 600 */
    cr_assert_eq(rfx_account(&X, A).collateral, USD(10000) + USD(40) - 720000);
    dtx_risk_position_view c = rfx_position(&X, C, FX_SEC);
    cr_assert_eq(c.qty, 4);
    cr_assert_eq(c.entry_cost, USD(440));
    cr_assert_eq(c.fees, -44000);
    cr_assert_eq(rfx_position(&X, B, FX_SEC).unrealized_pnl, -USD(100));
}

Test(risk_margin, fill_through_zero_flips_the_position)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 10);
    rfx_trade(&X, C, A, FX_SELL, 105, 15); /* closes 10, opens 5 short */
    dtx_risk_position_view a = rfx_position(&X, A, FX_SEC);
    cr_assert_eq(a.qty, -5);
    cr_assert_eq(a.entry_cost, -USD(525));
    cr_assert_eq(a.avg_entry_price, FX_PX(105));
    cr_assert_eq(a.realized_pnl, USD(50)); /* 1050 - 1000 */
    cr_assert_eq(a.fees, 500000 + 787500);  /* 0.05 % of 1575 */
    cr_assert_eq(rfx_account(&X, A).collateral, USD(10050) - 1287500);
    cr_assert_eq(rfx_account(&X, A).initial_margin, USD(525) / 10);
}

Test(risk_margin, short_closed_at_a_loss)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 10); /* B short 10 @ 100 (maker) */
    rfx_trade(&X, C, B, FX_BUY, 104, 10); /* B buys back @ 104 (taker) */
    dtx_risk_position_view b = rfx_position(&X, B, FX_SEC);
    cr_assert_eq(b.qty, 0);
    cr_assert_eq(b.entry_cost, 0);
    cr_assert_eq(b.avg_entry_price, 0);
    cr_assert_eq(b.realized_pnl, -USD(40));
    cr_assert_eq(b.fees, -100000 + 520000);
    dtx_risk_account_view v = rfx_account(&X, B);
    cr_assert_eq(v.collateral, USD(10000) - USD(40) + 100000 - 520000);
    cr_assert_eq(v.initial_margin, 0);
    cr_assert_eq(v.maint_margin, 0);
    cr_assert_eq(v.unrealized_pnl, 0);
}

Test(risk_margin, released_entry_cost_rounds_up_so_realized_pnl_rounds_down)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 1);
    rfx_trade(&X, B, A, FX_BUY, 101, 2); /* cost 302 for 3 */
    cr_assert_eq(rfx_position(&X, A, FX_SEC).avg_entry_price, 100666666666);
    rfx_trade(&X, C, A, FX_SELL, 101, 1);
    dtx_risk_position_view a = rfx_position(&X, A, FX_SEC);
    cr_assert_eq(a.qty, 2);
    cr_assert_eq(a.entry_cost, 201333333);    /* 302 - ceil(302 / 3) */
    cr_assert_eq(a.realized_pnl, 333333);     /* 101 - 100.666667 */
    cr_assert_eq(a.avg_entry_price, 100666666500);
    /* B, short 3 at cost -302, buys 1 back: released -100.666666 (toward +inf) */
    rfx_trade(&X, C, B, FX_BUY, 101, 1);
    dtx_risk_position_view b = rfx_position(&X, B, FX_SEC);
    cr_assert_eq(b.entry_cost, -201333334);
    cr_assert_eq(b.realized_pnl, -333334); /* 100.666666 - 101 */
}

Test(risk_margin, fees_round_up_and_rebates_round_down)
{
    rfx_set(&X, DTX_RISK_PARAM_TAKER_FEE, 0, FX_SEC, 123457);
    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_MAKER_FEE, 0, FX_SEC, -123457), RFX_MAKER);
    rfx_trade(&X, B, A, FX_BUY, 1, 7); /* 7 USD: 864.199 micro */
    cr_assert_eq(rfx_position(&X, A, FX_SEC).fees, 865);
    cr_assert_eq(rfx_position(&X, B, FX_SEC).fees, -864);
    dtx_risk_totals t;
    dtx_risk_get_totals(X.r, &t);
    cr_assert_eq(t.fee_balance, 1);
}

Test(risk_margin, open_orders_count_the_worse_of_all_bids_and_all_asks)
{
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(100));
    fx_rest(&X.f, fx_limit(A, 1, FX_BUY, 95, 10));
    fx_rest(&X.f, fx_limit(A, 2, FX_SELL, 108, 5));
    /* bids: 10% of 10 x 100 + fee on 950 = 100.475; asks: 50 + fee on 540 */
    dtx_risk_account_view v = rfx_account(&X, A);
    cr_assert_eq(v.initial_margin, 100475000);
    cr_assert_eq(v.order_margin, 100475000);
    cr_assert_eq(v.maint_margin, 0);
    /* a bid above the mark adds its loss against the mark: 10 x (105 - 100) */
    fx_rest(&X.f, fx_limit(B, 3, FX_BUY, 105, 10));
    cr_assert_eq(rfx_account(&X, B).initial_margin, USD(100) + USD(50) + 525000);
    rfx_check(&X);
}

Test(risk_margin, orders_against_the_position_do_not_add_margin)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 10);
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(100));
    fx_rest(&X.f, fx_limit(A, 1, FX_SELL, 105, 5));
    dtx_risk_account_view v = rfx_account(&X, A);
    cr_assert_eq(v.initial_margin, USD(100)); /* all bids (none): 10 long */
    cr_assert_eq(v.order_margin, 0);
    /* asks of 25 would leave 15 short: 150 + fee on 5 x 105 + 20 x 104 */
    fx_rest(&X.f, fx_limit(A, 2, FX_SELL, 104, 20));
    cr_assert_eq(rfx_account(&X, A).initial_margin, USD(150) + 1302500);
}

Test(risk_margin, instruments_are_cross_margined)
{
    rfx_deposit(&X, 5, 300);
    trade_on(FX_SEC, B, 5, FX_BUY, 100, 10);  /* IM 100, fee 0.5 */
    trade_on(FX_SEC_B, B, 5, FX_SELL, 50, 20); /* IM 100, fee 0.5 */
    dtx_risk_account_view v = rfx_account(&X, 5);
    cr_assert_eq(v.collateral, USD(299));
    cr_assert_eq(v.initial_margin, USD(200));
    cr_assert_eq(v.maint_margin, USD(100));
    /* 9 more on FX_SEC: 190 + 0.45 + 100 = 290.45 <= 299 */
    fx_rest(&X.f, fx_limit(5, 1, FX_BUY, 100, 9));
    /* one more: 200.5 alone would fit 299, but not with FX_SEC_B's 100 */
    fx_rejected(&X.f, fx_limit(5, 2, FX_BUY, 100, 1), DTX_REJ_INSUFFICIENT_MARGIN);
    /* marks on both: 10 x (90 - 100) + 20 x (50 - 55) */
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(90));
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC_B, FX_PX(55));
    v = rfx_account(&X, 5);
    cr_assert_eq(v.unrealized_pnl, -USD(200));
    cr_assert_eq(v.equity, USD(99));
    cr_assert_eq(v.maint_margin, USD(45) + USD(55));
    cr_assert_eq(v.below_maintenance, 1);
    rfx_check(&X);
}

Test(risk_margin, leverage_caps_raise_the_initial_rate)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 10);
    cr_assert_eq(rfx_account(&X, A).initial_margin, USD(100));
    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_MAX_LEVERAGE, 0, FX_SEC, 5), 0); /* 20 % */
    cr_assert_eq(rfx_account(&X, A).initial_margin, USD(200));
    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE, A, 0, 4), 0); /* 25 % */
    cr_assert_eq(rfx_account(&X, A).initial_margin, USD(250));
    cr_assert_eq(rfx_account(&X, B).initial_margin, USD(200));
    /* a looser account cap than the instrument's changes nothing */
    rfx_set(&X, DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE, A, 0, 50);
    cr_assert_eq(rfx_account(&X, A).initial_margin, USD(200));
    /* the maintenance rate is not affected */
    cr_assert_eq(rfx_account(&X, A).maint_margin, USD(50));
    rfx_check(&X);
}

Test(risk_margin, margin_rate_changes_apply_to_every_account_lazily)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 10);
    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_INITIAL_MARGIN, 0, FX_SEC, RATE_PCT(20)), RFX_IM);
    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_MAINT_MARGIN, 0, FX_SEC, RATE_PCT(8)), RFX_MM);
    cr_assert_eq(rfx_account(&X, A).initial_margin, USD(200));
    cr_assert_eq(rfx_account(&X, B).maint_margin, USD(80));
    /* maintenance must stay below initial */
    dtx_risk_change ch = {.param = DTX_RISK_PARAM_MAINT_MARGIN, .security_id = FX_SEC, .new_value = RATE_PCT(20)};
    cr_assert_eq(dtx_risk_apply(X.r, &ch), DTX_EINVAL);
    ch = (dtx_risk_change){.param = DTX_RISK_PARAM_MAINT_MARGIN, .security_id = FX_SEC};
    cr_assert_eq(dtx_risk_read(X.r, &ch), DTX_OK);
    cr_assert_eq(ch.old_value, RATE_PCT(8));
    rfx_check(&X);
}

Test(risk_margin, accounts_below_maintenance_are_flagged_and_listed_nearest_first)
{
    rfx_deposit(&X, 5, 200);
    rfx_deposit(&X, 6, 300);
    rfx_trade(&X, B, 5, FX_BUY, 100, 10); /* 5: collateral 199.5 */
    rfx_trade(&X, B, 6, FX_BUY, 100, 10); /* 6: collateral 299.5 */
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(85));
    /* 5: equity 199.5 - 150 = 49.5 >= maintenance 42.5 */
    cr_assert_eq(dtx_risk_scan(X.r), 0);
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(84));
    /* 5: equity 39.5 < 42 */
    cr_assert_eq(dtx_risk_scan(X.r), 1);
    dtx_risk_account_view out[3];
    size_t n = dtx_risk_nearest_maintenance(X.r, out, 3);
    cr_assert_eq(n, 3);
    cr_assert_eq(out[0].account, 5);
    cr_assert_eq(out[0].below_maintenance, 1);
    cr_assert_eq(out[0].equity, 39500000);
    cr_assert_eq(out[0].maint_margin, USD(42));
    cr_assert_eq(out[0].margin_ratio, 940476190); /* 39.5 / 42 */
    cr_assert_eq(out[1].account, 6);
    cr_assert_eq(out[1].margin_ratio, 3321428571); /* 139.5 / 42 */
    cr_assert_eq(out[2].account, B);                /* short 20: profit */
    cr_assert_eq(out[2].below_maintenance, 0);
    /* one asked: the nearest */
    cr_assert_eq(dtx_risk_nearest_maintenance(X.r, out, 1), 1);
    cr_assert_eq(out[0].account, 5);
}

Test(risk_margin, withdrawal_may_not_leave_equity_below_initial_margin)
{
    rfx_trade(&X, B, A, FX_BUY, 100, 10);
    /* equity 9999.5, initial 100 */
    cr_assert_eq(dtx_risk_withdraw(X.r, A, USD(9899) + 500001), DTX_REJ_INSUFFICIENT_MARGIN);
    cr_assert_eq(rfx_account(&X, A).collateral, USD(10000) - 500000);
    cr_assert_eq(dtx_risk_withdraw(X.r, A, USD(9899) + 500000), DTX_REJ_NONE);
    cr_assert_eq(rfx_account(&X, A).collateral, USD(100));
    cr_assert_eq(rfx_account(&X, A).available, 0);
    cr_assert_eq(dtx_risk_withdraw(X.r, A, 1), DTX_REJ_INSUFFICIENT_MARGIN);
    /* unrealized profit is not withdrawable beyond the collateral */
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(200));
    cr_assert_eq(dtx_risk_withdraw(X.r, A, USD(100) + 1), DTX_REJ_INSUFFICIENT_MARGIN);
    cr_assert_eq(dtx_risk_withdraw(X.r, A, 0), DTX_REJ_INVALID_FIELD);
    cr_assert_eq(dtx_risk_deposit(X.r, A, -5), DTX_EINVAL);
    dtx_risk_totals t;
    dtx_risk_get_totals(X.r, &t);
    cr_assert_eq(t.net_deposits, USD(30000) - USD(9899) - 500000);
    rfx_check(&X);
}

Test(risk_margin, orders_without_a_price_are_valued_at_the_band_edge)
{
    rfx_set(&X, DTX_RISK_PARAM_MARK_PRICE, 0, FX_SEC, FX_PX(100)); /* band 10 %: edges 90 and 110 */
    fx_pend(&X.f, fx_stop(A, 1, FX_BUY, 105, 10));
    /* 10% of 10 x 100, loss 10 x (110 - 100), taker fee on 10 x 110 */
    dtx_risk_account_view v = rfx_account(&X, A);
    cr_assert_eq(v.initial_margin, USD(200) + 550000);
    dtx_risk_position_view p = rfx_position(&X, A, FX_SEC);
    cr_assert_eq(p.open_buy_qty, 10);
    cr_assert_eq(p.open_buy_notional, 0); /* no price of its own */
    /* sells: 50 + 5 x (100 - 90) + fee on 5 x 90 = 100.225 < 200.55 */
    fx_pend(&X.f, fx_stop(A, 2, FX_SELL, 95, 5));
    cr_assert_eq(rfx_account(&X, A).initial_margin, USD(200) + 550000);
    /* a wider band widens the edge: 20 % -> 10 x 100 + 10 x 20 + fee on 1200 */
    cr_assert_eq(rfx_set(&X, DTX_RISK_PARAM_PRICE_BAND, 0, FX_SEC, RATE_PCT(20)), RFX_BAND);
    cr_assert_eq(rfx_account(&X, A).initial_margin, USD(300) + 600000);
    rfx_check(&X);
}
