/*
 * engine_stp.c - self-trade prevention, decided by the incoming order's mode
 * when the next resting order belongs to its account: CancelNewest,
 * CancelOldest, CancelBoth and DecrementAndCancel (icebergs, equal quantities)
 * (docs/order-semantics.md, "Self-trade prevention").
 */
#include <criterion/criterion.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_stp, .init = setup, .fini = teardown);

static dtx_command with_stp(dtx_command c, uint8_t stp)
{
    c.stp = stp;
    return c;
}

/* CANCELED SelfTradePrevention. */
static dtx_event stp_cancel(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side, int64_t price,
                            int64_t qty, int64_t leaves, int64_t cum, uint8_t flags)
{
    return (dtx_event){.type = DTX_EV_CANCELED, .account = acct, .security_id = FX_SEC,
                       .order_id = id, .clordid = clordid, .side = side,
                       .cancel_reason = DTX_CANCEL_SELF_TRADE, .orig_clordid = 0, .cum_qty = cum,
                       .leaves_qty = leaves, .price = price, .order_qty = qty, .flags = flags};
}

/* REPLACED of a self-trade decrement: ClOrdID = OrigClOrdID = the order's. */
static dtx_event stp_decrement(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side,
                               int64_t price, int64_t qty, int64_t leaves, int64_t cum, uint8_t flags)
{
    return (dtx_event){.type = DTX_EV_REPLACED, .account = acct, .security_id = FX_SEC,
                       .order_id = id, .clordid = clordid, .side = side, .orig_clordid = clordid,
                       .price = price, .order_qty = qty, .leaves_qty = leaves, .cum_qty = cum,
                       .flags = flags};
}

static dtx_event added(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side, int64_t ticks,
                       int64_t shown, int64_t leaves, uint8_t flags)
{
    return (dtx_event){.type = DTX_EV_ADDED, .account = acct, .security_id = FX_SEC, .order_id = id,
                       .clordid = clordid, .side = side, .price = FX_PX(ticks), .last_qty = shown,
                       .leaves_qty = leaves, .flags = flags};
}

/* ---- CancelNewest -------------------------------------------------------------- */

Test(engine_stp, cancel_newest_cancels_the_incoming_order_and_leaves_the_resting_one)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 5));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 3), DTX_STP_CANCEL_NEWEST);
    fx_send(&F, t);
    fx_expect_count(&F, 2);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 3, 3, 0, 0));
    fx_expect_gone(&F, tid);
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){own});
    cr_assert_eq(fx_order(&F, own).leaves_qty, 5);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
}

Test(engine_stp, cancel_newest_after_a_partial_fill_cancels_only_the_remainder_and_stops_matching)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 2));
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 5));
    uint64_t later = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 5));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 101, 6), DTX_STP_CANCEL_NEWEST);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 2, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 4, .cum_qty = 2});
    fx_expect(&F, 3, stp_cancel(A, tid, 101, FX_BUY, FX_PX(101), 6, 4, 2, 0));
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){own, later});
    cr_assert_eq(fx_order(&F, later).leaves_qty, 5);
}

Test(engine_stp, cancel_newest_market_order_is_canceled_self_trade_not_unfilled)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 5));
    dtx_command t = with_stp(fx_market(A, 101, FX_BUY, 3), DTX_STP_CANCEL_NEWEST);
    fx_send(&F, t);
    fx_expect_count(&F, 2);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, tid, 101, FX_BUY, DTX_PRICE_NULL, 3, 3, 0, 0));
    cr_assert_eq(fx_order(&F, own).leaves_qty, 5);
}

Test(engine_stp, other_accounts_orders_trade_normally_whatever_the_mode)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 5), DTX_STP_CANCEL_BOTH);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 5, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
}

Test(engine_stp, same_account_from_another_session_is_still_a_self_trade)
{
    dtx_command r = fx_limit(A, 1, FX_SELL, 100, 5);
    r.session = 77;
    uint64_t own = fx_rest(&F, r);
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 3), DTX_STP_CANCEL_NEWEST);
    fx_send(&F, t);
    fx_expect_count(&F, 2);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 3, 3, 0, 0));
    cr_assert_eq(fx_order(&F, own).leaves_qty, 5);
}

Test(engine_stp, the_incoming_orders_mode_decides_not_the_resting_orders)
{
    uint64_t own = fx_rest(&F, with_stp(fx_limit(A, 1, FX_SELL, 100, 5), DTX_STP_CANCEL_BOTH));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 3), DTX_STP_CANCEL_NEWEST);
    fx_send(&F, t);
    fx_expect_count(&F, 2);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 3, 3, 0, 0));
    cr_assert_eq(fx_order(&F, own).leaves_qty, 5);
}

/* ---- CancelOldest --------------------------------------------------------------- */

Test(engine_stp, cancel_oldest_cancels_the_resting_order_and_matching_goes_on)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 5));
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 5), DTX_STP_CANCEL_OLDEST);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, own, 1, FX_SELL, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
    fx_expect_trade(&F, 2, FX_BUY, 100, 5, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
    fx_expect_gone(&F, own);
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
}

Test(engine_stp, cancel_oldest_cancels_a_partially_filled_resting_order_reporting_its_cum)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 5));
    fx_send(&F, fx_limit(B, 201, FX_BUY, 100, 2));
    fx_expect_count(&F, 3);
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 4), DTX_STP_CANCEL_OLDEST);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, own, 1, FX_SELL, FX_PX(100), 5, 3, 2, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, added(A, tid, 101, FX_BUY, 100, 4, 4, 0));
}

Test(engine_stp, cancel_oldest_cancels_the_whole_iceberg_hidden_quantity_included)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(A, 1, FX_SELL, 100, 10, 2));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 3), DTX_STP_CANCEL_OLDEST);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, ice, 1, FX_SELL, FX_PX(100), 10, 10, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, added(A, tid, 101, FX_BUY, 100, 3, 3, 0));
    fx_expect_gone(&F, ice);
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
}

Test(engine_stp, cancel_oldest_cancels_several_own_orders_across_levels)
{
    uint64_t o1 = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 1));
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 1));
    uint64_t o2 = fx_rest(&F, fx_limit(A, 2, FX_SELL, 101, 1));
    dtx_command t = with_stp(fx_ioc(A, 101, FX_BUY, 101, 3), DTX_STP_CANCEL_OLDEST);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, o1, 1, FX_SELL, FX_PX(100), 1, 1, 0, DTX_EVF_ON_BOOK));
    fx_expect_trade(&F, 2, FX_BUY, 100, 1, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 3,
                               .leaves_qty = 2, .cum_qty = 1});
    fx_expect(&F, 4, stp_cancel(A, o2, 2, FX_SELL, FX_PX(101), 1, 1, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 5,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC,
                          .order_id = tid, .clordid = 101, .side = FX_BUY,
                          .cancel_reason = DTX_CANCEL_UNFILLED, .orig_clordid = 0, .cum_qty = 1,
                          .leaves_qty = 2, .price = FX_PX(101), .order_qty = 3, .flags = 0});
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
}

/* ---- CancelBoth ------------------------------------------------------------------ */

Test(engine_stp, cancel_both_cancels_the_resting_order_then_the_incoming_and_stops)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 5));
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 3), DTX_STP_CANCEL_BOTH);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, own, 1, FX_SELL, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 3, 3, 0, 0));
    fx_expect_gone(&F, own);
    fx_expect_gone(&F, tid);
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){m});
    cr_assert_eq(fx_order(&F, m).leaves_qty, 5);
}

Test(engine_stp, cancel_both_after_a_partial_fill_reports_the_incoming_cum)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 1));
    uint64_t own = fx_rest(&F, fx_iceberg(A, 1, FX_SELL, 100, 6, 2));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 4), DTX_STP_CANCEL_BOTH);
    fx_send(&F, t);
    fx_expect_count(&F, 5);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 1, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 4,
                               .leaves_qty = 3, .cum_qty = 1});
    fx_expect(&F, 3, stp_cancel(A, own, 1, FX_SELL, FX_PX(100), 6, 6, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 4, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 4, 3, 1, 0));
}

/* ---- DecrementAndCancel ------------------------------------------------------------ */

Test(engine_stp, decrement_smaller_incoming_decrements_the_resting_order_keeping_priority)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 5));
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 3), DTX_STP_DECREMENT_AND_CANCEL);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1,
              stp_decrement(A, own, 1, FX_SELL, FX_PX(100), 2, 2, 0,
                            DTX_EVF_SELF_TRADE | DTX_EVF_ON_BOOK | DTX_EVF_PRIORITY_KEPT));
    fx_expect(&F, 2, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 3, 3, 0, 0));
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){own, m});
    dtx_order_view v = fx_order(&F, own);
    cr_assert_eq(v.order_qty, 2);
    cr_assert_eq(v.leaves_qty, 2);
    cr_assert_eq(v.shown_qty, 2);
    cr_assert_eq(v.cum_qty, 0);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), DTX_PRICE_NULL);
}

Test(engine_stp, decrement_smaller_resting_cancels_it_decrements_the_incoming_and_matching_goes_on)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 2));
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 5), DTX_STP_DECREMENT_AND_CANCEL);
    fx_send(&F, t);
    fx_expect_count(&F, 5);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, own, 1, FX_SELL, FX_PX(100), 2, 2, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, stp_decrement(A, tid, 101, FX_BUY, FX_PX(100), 3, 3, 0, DTX_EVF_SELF_TRADE));
    fx_expect_trade(&F, 3, FX_BUY, 100, 3, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 2, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3});
    fx_expect_gone(&F, own);
    fx_expect_gone(&F, tid);
}

Test(engine_stp, decrement_smaller_resting_then_the_incoming_rests_what_is_left)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 2));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 5), DTX_STP_DECREMENT_AND_CANCEL);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, own, 1, FX_SELL, FX_PX(100), 2, 2, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, stp_decrement(A, tid, 101, FX_BUY, FX_PX(100), 3, 3, 0, DTX_EVF_SELF_TRADE));
    fx_expect(&F, 3, added(A, tid, 101, FX_BUY, 100, 3, 3, 0));
    dtx_order_view v = fx_order(&F, tid);
    cr_assert_eq(v.order_qty, 3);
    cr_assert_eq(v.leaves_qty, 3);
}

Test(engine_stp, decrement_equal_quantities_cancels_both_resting_first)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 4));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 4), DTX_STP_DECREMENT_AND_CANCEL);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, own, 1, FX_SELL, FX_PX(100), 4, 4, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 4, 4, 0, 0));
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
}

Test(engine_stp, decrement_equal_to_an_icebergs_total_cancels_both)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(A, 1, FX_SELL, 100, 6, 2));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 6), DTX_STP_DECREMENT_AND_CANCEL);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, ice, 1, FX_SELL, FX_PX(100), 6, 6, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 6, 6, 0, 0));
}

Test(engine_stp, decrement_after_a_partial_fill_cancels_the_incoming_with_its_cum_and_order_qty)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 2));
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 5));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 4), DTX_STP_DECREMENT_AND_CANCEL);
    fx_send(&F, t);
    fx_expect_count(&F, 5);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 2, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 4,
                               .leaves_qty = 2, .cum_qty = 2});
    fx_expect(&F, 3,
              stp_decrement(A, own, 1, FX_SELL, FX_PX(100), 3, 3, 0,
                            DTX_EVF_SELF_TRADE | DTX_EVF_ON_BOOK | DTX_EVF_PRIORITY_KEPT));
    fx_expect(&F, 4, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 4, 2, 2, 0));
}

Test(engine_stp, decrement_of_a_partially_filled_resting_order_keeps_its_cum)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 6));
    fx_send(&F, fx_limit(B, 201, FX_BUY, 100, 1));
    fx_expect_count(&F, 3);
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 2), DTX_STP_DECREMENT_AND_CANCEL);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    /* open 5 - 2 = 3; order_qty 6 - 2 = 4; cum 1 unchanged */
    fx_expect(&F, 1,
              stp_decrement(A, own, 1, FX_SELL, FX_PX(100), 4, 3, 1,
                            DTX_EVF_SELF_TRADE | DTX_EVF_ON_BOOK | DTX_EVF_PRIORITY_KEPT));
    fx_expect(&F, 2, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 2, 2, 0, 0));
    dtx_order_view v = fx_order(&F, own);
    cr_assert_eq(v.order_qty, 4);
    cr_assert_eq(v.leaves_qty, 3);
    cr_assert_eq(v.cum_qty, 1);
}

Test(engine_stp, decrement_iceberg_loses_displayed_quantity_first_and_keeps_priority)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(A, 1, FX_SELL, 100, 10, 4));
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 3), DTX_STP_DECREMENT_AND_CANCEL);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1,
              stp_decrement(A, ice, 1, FX_SELL, FX_PX(100), 7, 7, 0,
                            DTX_EVF_SELF_TRADE | DTX_EVF_ON_BOOK | DTX_EVF_PRIORITY_KEPT));
    fx_expect(&F, 2, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 3, 3, 0, 0));
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){ice, m});
    dtx_order_view v = fx_order(&F, ice);
    cr_assert_eq(v.shown_qty, 1);
    cr_assert_eq(v.leaves_qty, 7);
    cr_assert_eq(v.order_qty, 7);
}

Test(engine_stp, decrement_iceberg_whose_displayed_part_hits_zero_is_refilled_to_the_back)
{
    /* d = 4: displayed 3 -> 0 and hidden 7 -> 6; replenished to 3 shown, back of
     * the level behind B; REPLACED without PRIORITY_KEPT, then ADDED REFILL. */
    uint64_t ice = fx_rest(&F, fx_iceberg(A, 1, FX_SELL, 100, 10, 3));
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 4), DTX_STP_DECREMENT_AND_CANCEL);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1,
              stp_decrement(A, ice, 1, FX_SELL, FX_PX(100), 6, 6, 0,
                            DTX_EVF_SELF_TRADE | DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, added(A, ice, 1, FX_SELL, 100, 3, 6, DTX_EVF_REFILL));
    fx_expect(&F, 3, stp_cancel(A, tid, 101, FX_BUY, FX_PX(100), 4, 4, 0, 0));
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){m, ice});
    dtx_order_view v = fx_order(&F, ice);
    cr_assert_eq(v.shown_qty, 3);
    cr_assert_eq(v.leaves_qty, 6);
}

Test(engine_stp, decrement_incoming_larger_than_the_icebergs_total_cancels_the_whole_iceberg)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(A, 1, FX_SELL, 100, 6, 2));
    dtx_command t = with_stp(fx_limit(A, 101, FX_BUY, 100, 8), DTX_STP_DECREMENT_AND_CANCEL);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, ice, 1, FX_SELL, FX_PX(100), 6, 6, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, stp_decrement(A, tid, 101, FX_BUY, FX_PX(100), 2, 2, 0, DTX_EVF_SELF_TRADE));
    fx_expect(&F, 3, added(A, tid, 101, FX_BUY, 100, 2, 2, 0));
    fx_expect_gone(&F, ice);
}

Test(engine_stp, decrement_incoming_iceberg_against_a_smaller_resting_order)
{
    /* The incoming iceberg (10, display 4) loses d = 3 of its total; it rests
     * with 7 open, 4 shown. */
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 3));
    dtx_command t = fx_iceberg(A, 101, FX_BUY, 100, 10, 4);
    t.stp = DTX_STP_DECREMENT_AND_CANCEL;
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, own, 1, FX_SELL, FX_PX(100), 3, 3, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, stp_decrement(A, tid, 101, FX_BUY, FX_PX(100), 7, 7, 0, DTX_EVF_SELF_TRADE));
    fx_expect(&F, 3, added(A, tid, 101, FX_BUY, 100, 4, 7, 0));
}

Test(engine_stp, decrement_with_an_ioc_incoming_cancels_what_is_left_unfilled)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 2));
    dtx_command t = with_stp(fx_ioc(A, 101, FX_BUY, 100, 5), DTX_STP_DECREMENT_AND_CANCEL);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, stp_cancel(A, own, 1, FX_SELL, FX_PX(100), 2, 2, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, stp_decrement(A, tid, 101, FX_BUY, FX_PX(100), 3, 3, 0, DTX_EVF_SELF_TRADE));
    fx_expect(&F, 3,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC,
                          .order_id = tid, .clordid = 101, .side = FX_BUY,
                          .cancel_reason = DTX_CANCEL_UNFILLED, .orig_clordid = 0, .cum_qty = 0,
                          .leaves_qty = 3, .price = FX_PX(100), .order_qty = 3, .flags = 0});
}

Test(engine_stp, a_repriced_order_uses_the_mode_it_was_entered_with)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 101, 5));
    uint64_t bid = fx_rest(&F, with_stp(fx_limit(A, 2, FX_BUY, 99, 3), DTX_STP_CANCEL_OLDEST));
    dtx_command r = fx_replace(A, 3, bid, 101, 3);
    fx_send(&F, r);
    fx_expect_count(&F, 3);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_REPLACED, .account = A, .security_id = FX_SEC,
                          .order_id = bid, .clordid = 3, .side = FX_BUY, .orig_clordid = 2,
                          .price = FX_PX(101), .order_qty = 3, .leaves_qty = 3, .cum_qty = 0,
                          .flags = DTX_EVF_ON_BOOK});
    fx_expect(&F, 1, stp_cancel(A, own, 1, FX_SELL, FX_PX(101), 5, 5, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, added(A, bid, 3, FX_BUY, 101, 3, 3, 0));
}
