/*
 * engine_stops.c - Stop and StopLimit orders: acknowledged with NEW and held in
 * the stop queue; triggered by the book's last trade price (buy: last >=
 * StopPx, sell: last <= StopPx); the trigger loop (buy stops lowest StopPx
 * first, then sell stops highest first, earliest accepted first among equals,
 * last price re-read after each: cascades); immediate trigger at entry; a
 * triggered Stop meeting an empty side or a triggered FOK StopLimit that is
 * not fillable is canceled Unfilled (docs/order-semantics.md, "Stops and the
 * trigger loop").
 */
#include <criterion/criterion.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3, M = 8, N = 9 };

static fx F;
static uint64_t next_cl = 9000;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_stops, .init = setup, .fini = teardown);

/* Makes one trade of 1 at ticks between M (resting sell) and N (buy), so the
 * book's last price becomes ticks; the book is left as it was. */
static void trade_at(int64_t ticks)
{
    fx_rest(&F, fx_limit(M, next_cl++, FX_SELL, ticks, 1));
    fx_send(&F, fx_limit(N, next_cl++, FX_BUY, ticks, 1));
    cr_assert_eq(fx_count_type(&F, DTX_EV_FILL), 2, "no trade at %lld:\n%s", (long long)ticks,
                 fx_dump(&F));
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), FX_PX(ticks));
}

static dtx_event triggered(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side,
                           int64_t stop_ticks, uint8_t as_type, int64_t price)
{
    return (dtx_event){.type = DTX_EV_TRIGGERED, .account = acct, .security_id = FX_SEC,
                       .order_id = id, .clordid = clordid, .side = side,
                       .stop_px = FX_PX(stop_ticks), .ord_type = as_type, .price = price};
}

static dtx_event unfilled(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side, int64_t price,
                          int64_t qty, int64_t leaves, int64_t cum)
{
    return (dtx_event){.type = DTX_EV_CANCELED, .account = acct, .security_id = FX_SEC,
                       .order_id = id, .clordid = clordid, .side = side,
                       .cancel_reason = DTX_CANCEL_UNFILLED, .orig_clordid = 0, .cum_qty = cum,
                       .leaves_qty = leaves, .price = price, .order_qty = qty, .flags = 0};
}

static dtx_event added(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side, int64_t ticks,
                       int64_t shown, int64_t leaves)
{
    return (dtx_event){.type = DTX_EV_ADDED, .account = acct, .security_id = FX_SEC, .order_id = id,
                       .clordid = clordid, .side = side, .price = FX_PX(ticks), .last_qty = shown,
                       .leaves_qty = leaves, .flags = 0};
}

Test(engine_stops, stop_is_acknowledged_with_new_and_waits_off_the_book)
{
    dtx_command c = fx_stop(A, 101, FX_BUY, 105, 5);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    uint64_t id = fx_expect_new(&F, 0, &c);
    cr_assert_eq(fx_ev(&F, 0)->price, DTX_PRICE_NULL);
    cr_assert_eq(fx_ev(&F, 0)->stop_px, FX_PX(105));
    cr_assert_eq(fx_ev(&F, 0)->ord_type, DTX_ORD_STOP);
    dtx_order_view v = fx_order(&F, id);
    cr_assert_eq(v.pending_stop, 1);
    cr_assert_eq(v.stop_px, FX_PX(105));
    cr_assert_eq(v.price, DTX_PRICE_NULL);
    cr_assert_eq(v.leaves_qty, 5);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
}

Test(engine_stops, stop_limit_is_acknowledged_with_its_price_and_stop_px)
{
    dtx_command c = fx_stop_limit(A, 101, FX_SELL, 95, 94, 5);
    uint64_t id = fx_pend(&F, c);
    cr_assert_eq(fx_ev(&F, 0)->price, FX_PX(94));
    dtx_order_view v = fx_order(&F, id);
    cr_assert_eq(v.pending_stop, 1);
    cr_assert_eq(v.price, FX_PX(94));
    cr_assert_eq(v.stop_px, FX_PX(95));
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
}

Test(engine_stops, nothing_triggers_before_the_first_trade)
{
    uint64_t s1 = fx_pend(&F, fx_stop(A, 101, FX_BUY, 1, 5));
    uint64_t s2 = fx_pend(&F, fx_stop(A, 102, FX_SELL, FX_MAX_TICKS, 5));
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    fx_rest(&F, fx_limit(B, 202, FX_BUY, 90, 5));
    cr_assert_eq(fx_order(&F, s1).pending_stop, 1);
    cr_assert_eq(fx_order(&F, s2).pending_stop, 1);
}

Test(engine_stops, buy_stop_triggers_when_the_last_price_reaches_its_stop_px)
{
    uint64_t stop = fx_pend(&F, fx_stop(A, 101, FX_BUY, 105, 2));
    uint64_t m1 = fx_rest(&F, fx_limit(M, 801, FX_SELL, 105, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(M, 802, FX_SELL, 106, 5));
    dtx_command t = fx_limit(C, 301, FX_BUY, 105, 1);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 105, 1, 1,
                    (fx_party){.account = M, .order_id = m1, .clordid = 801, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = C, .order_id = tid, .clordid = 301, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1});
    fx_expect(&F, 3, triggered(A, stop, 101, FX_BUY, 105, DTX_ORD_MARKET, DTX_PRICE_NULL));
    fx_expect_trade(&F, 4, FX_BUY, 106, 2, 2,
                    (fx_party){.account = M, .order_id = m2, .clordid = 802, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = stop, .clordid = 101, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2});
    fx_expect_gone(&F, stop);
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), FX_PX(106));
}

Test(engine_stops, buy_stop_does_not_trigger_below_its_stop_px)
{
    uint64_t stop = fx_pend(&F, fx_stop(A, 101, FX_BUY, 105, 2));
    trade_at(104);
    fx_expect_count(&F, 3);
    cr_assert_eq(fx_order(&F, stop).pending_stop, 1);
}

Test(engine_stops, sell_stop_triggers_when_the_last_price_falls_to_its_stop_px)
{
    uint64_t stop = fx_pend(&F, fx_stop(A, 101, FX_SELL, 95, 3));
    uint64_t m1 = fx_rest(&F, fx_limit(M, 801, FX_BUY, 95, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(M, 802, FX_BUY, 94, 5));
    dtx_command t = fx_limit(C, 301, FX_SELL, 95, 1);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_SELL, 95, 1, 1,
                    (fx_party){.account = M, .order_id = m1, .clordid = 801, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = C, .order_id = tid, .clordid = 301, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1});
    fx_expect(&F, 3, triggered(A, stop, 101, FX_SELL, 95, DTX_ORD_MARKET, DTX_PRICE_NULL));
    fx_expect_trade(&F, 4, FX_SELL, 94, 3, 2,
                    (fx_party){.account = M, .order_id = m2, .clordid = 802, .order_qty = 5,
                               .leaves_qty = 2, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = stop, .clordid = 101, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3});
}

Test(engine_stops, sell_stop_does_not_trigger_above_its_stop_px)
{
    uint64_t stop = fx_pend(&F, fx_stop(A, 101, FX_SELL, 95, 2));
    trade_at(96);
    fx_expect_count(&F, 3);
    cr_assert_eq(fx_order(&F, stop).pending_stop, 1);
}

Test(engine_stops, triggered_stop_limit_trades_to_its_limit_and_rests_the_remainder)
{
    uint64_t stop = fx_pend(&F, fx_stop_limit(A, 101, FX_BUY, 105, 106, 5));
    uint64_t m1 = fx_rest(&F, fx_limit(M, 801, FX_SELL, 105, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(M, 802, FX_SELL, 106, 2));
    uint64_t m3 = fx_rest(&F, fx_limit(M, 803, FX_SELL, 107, 5));
    dtx_command t = fx_limit(C, 301, FX_BUY, 105, 1);
    fx_send(&F, t);
    fx_expect_count(&F, 7);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 105, 1, 1,
                    (fx_party){.account = M, .order_id = m1, .clordid = 801, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = C, .order_id = tid, .clordid = 301, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1});
    fx_expect(&F, 3, triggered(A, stop, 101, FX_BUY, 105, DTX_ORD_LIMIT, FX_PX(106)));
    fx_expect_trade(&F, 4, FX_BUY, 106, 2, 2,
                    (fx_party){.account = M, .order_id = m2, .clordid = 802, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = stop, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2});
    fx_expect(&F, 6, added(A, stop, 101, FX_BUY, 106, 3, 3));
    dtx_order_view v = fx_order(&F, stop);
    cr_assert_eq(v.pending_stop, 0);
    cr_assert_eq(v.price, FX_PX(106));
    cr_assert_eq(v.leaves_qty, 3);
    cr_assert_eq(v.cum_qty, 2);
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){stop});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){m3});
}

Test(engine_stops, triggered_stop_into_an_empty_side_is_canceled_unfilled)
{
    uint64_t stop = fx_pend(&F, fx_stop(A, 101, FX_SELL, 100, 3));
    uint64_t m = fx_rest(&F, fx_limit(M, 801, FX_BUY, 100, 1));
    dtx_command t = fx_limit(C, 301, FX_SELL, 100, 1);
    fx_send(&F, t);
    fx_expect_count(&F, 5);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_SELL, 100, 1, 1,
                    (fx_party){.account = M, .order_id = m, .clordid = 801, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = C, .order_id = tid, .clordid = 301, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1});
    fx_expect(&F, 3, triggered(A, stop, 101, FX_SELL, 100, DTX_ORD_MARKET, DTX_PRICE_NULL));
    fx_expect(&F, 4, unfilled(A, stop, 101, FX_SELL, DTX_PRICE_NULL, 3, 3, 0));
    fx_expect_gone(&F, stop);
    cr_assert_eq(fx_count_type(&F, DTX_EV_REJECT), 0);
}

Test(engine_stops, triggered_stop_remainder_beyond_the_band_is_canceled_unfilled)
{
    uint64_t stop = fx_pend(&F, fx_stop(A, 101, FX_BUY, 100, 4));
    uint64_t m1 = fx_rest(&F, fx_limit(M, 801, FX_SELL, 100, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(M, 802, FX_SELL, 101, 1));
    uint64_t far = fx_rest(&F, fx_limit(M, 803, FX_SELL, 101 + FX_BAND + 1, 9));
    dtx_command t = fx_limit(C, 301, FX_BUY, 100, 1);
    fx_send(&F, t);
    fx_expect_count(&F, 7);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 1, 1,
                    (fx_party){.account = M, .order_id = m1, .clordid = 801, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = C, .order_id = tid, .clordid = 301, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1});
    fx_expect(&F, 3, triggered(A, stop, 101, FX_BUY, 100, DTX_ORD_MARKET, DTX_PRICE_NULL));
    fx_expect_trade(&F, 4, FX_BUY, 101, 1, 2,
                    (fx_party){.account = M, .order_id = m2, .clordid = 802, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = stop, .clordid = 101, .order_qty = 4,
                               .leaves_qty = 3, .cum_qty = 1});
    fx_expect(&F, 6, unfilled(A, stop, 101, FX_BUY, DTX_PRICE_NULL, 4, 3, 1));
    cr_assert_eq(fx_order(&F, far).leaves_qty, 9);
}

Test(engine_stops, reports_of_a_triggered_order_keep_its_stop_ord_type)
{
    /* Only NEW and REJECT define ord_type; where another report carries it,
     * it must be the order's own (Stop), never Market. */
    uint64_t stop = fx_pend(&F, fx_stop(A, 101, FX_BUY, 100, 4));
    fx_rest(&F, fx_limit(M, 801, FX_SELL, 100, 1));
    fx_rest(&F, fx_limit(M, 802, FX_SELL, 101, 1));
    fx_send(&F, fx_limit(C, 301, FX_BUY, 100, 1));
    fx_expect_count(&F, 7);
    for (size_t i = 4; i < 7; i++) {
        const dtx_event *ev = fx_ev(&F, i);
        if (ev->order_id != stop || ev->type == DTX_EV_TRIGGERED)
            continue;
        cr_assert(ev->ord_type == 0 || ev->ord_type == DTX_ORD_STOP,
                  "event [%zu] of the triggered Stop carries ord_type %u:\n%s", i,
                  (unsigned)ev->ord_type, fx_dump(&F));
    }
}

Test(engine_stops, buy_stop_is_triggered_at_entry_when_the_last_price_is_already_at_or_above)
{
    trade_at(100);
    uint64_t m = fx_rest(&F, fx_limit(M, 801, FX_SELL, 101, 5));
    dtx_command c = fx_stop(A, 101, FX_BUY, 100, 2);
    fx_send(&F, c);
    fx_expect_count(&F, 4);
    uint64_t id = fx_expect_new(&F, 0, &c);
    fx_expect(&F, 1, triggered(A, id, 101, FX_BUY, 100, DTX_ORD_MARKET, DTX_PRICE_NULL));
    fx_expect_trade(&F, 2, FX_BUY, 101, 2, 2,
                    (fx_party){.account = M, .order_id = m, .clordid = 801, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = id, .clordid = 101, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2});
}

Test(engine_stops, sell_stop_limit_is_triggered_at_entry_and_rests_when_it_cannot_trade)
{
    trade_at(100);
    dtx_command c = fx_stop_limit(A, 101, FX_SELL, 105, 110, 2);
    fx_send(&F, c);
    fx_expect_count(&F, 3);
    uint64_t id = fx_expect_new(&F, 0, &c);
    fx_expect(&F, 1, triggered(A, id, 101, FX_SELL, 105, DTX_ORD_LIMIT, FX_PX(110)));
    fx_expect(&F, 2, added(A, id, 101, FX_SELL, 110, 2, 2));
    cr_assert_eq(fx_order(&F, id).pending_stop, 0);
}

Test(engine_stops, stop_whose_condition_does_not_hold_at_entry_waits)
{
    trade_at(100);
    uint64_t b = fx_pend(&F, fx_stop(A, 101, FX_BUY, 101, 2));
    uint64_t s = fx_pend(&F, fx_stop(A, 102, FX_SELL, 99, 2));
    cr_assert_eq(fx_order(&F, b).pending_stop, 1);
    cr_assert_eq(fx_order(&F, s).pending_stop, 1);
}

Test(engine_stops, triggered_stop_at_entry_into_an_empty_side_is_canceled_unfilled)
{
    trade_at(100);
    dtx_command c = fx_stop(A, 101, FX_SELL, 100, 2);
    fx_send(&F, c);
    fx_expect_count(&F, 3);
    uint64_t id = fx_expect_new(&F, 0, &c);
    fx_expect(&F, 1, triggered(A, id, 101, FX_SELL, 100, DTX_ORD_MARKET, DTX_PRICE_NULL));
    fx_expect(&F, 2, unfilled(A, id, 101, FX_SELL, DTX_PRICE_NULL, 2, 2, 0));
}

Test(engine_stops, buy_stops_trigger_lowest_stop_px_first_then_earliest_among_equals)
{
    /* Stop-limits priced far below the market rest without trading, so the
     * trigger order shows in the events. */
    uint64_t s103 = fx_pend(&F, fx_stop_limit(A, 1, FX_BUY, 103, 50, 1));
    uint64_t s102a = fx_pend(&F, fx_stop_limit(A, 2, FX_BUY, 102, 51, 1));
    uint64_t s101 = fx_pend(&F, fx_stop_limit(A, 3, FX_BUY, 101, 52, 1));
    uint64_t s102b = fx_pend(&F, fx_stop_limit(A, 4, FX_BUY, 102, 53, 1));
    uint64_t s105 = fx_pend(&F, fx_stop_limit(A, 5, FX_BUY, 105, 54, 1));
    trade_at(104);
    fx_expect_count(&F, 3 + 4 * 2);
    fx_expect(&F, 3, triggered(A, s101, 3, FX_BUY, 101, DTX_ORD_LIMIT, FX_PX(52)));
    fx_expect(&F, 4, added(A, s101, 3, FX_BUY, 52, 1, 1));
    fx_expect(&F, 5, triggered(A, s102a, 2, FX_BUY, 102, DTX_ORD_LIMIT, FX_PX(51)));
    fx_expect(&F, 6, added(A, s102a, 2, FX_BUY, 51, 1, 1));
    fx_expect(&F, 7, triggered(A, s102b, 4, FX_BUY, 102, DTX_ORD_LIMIT, FX_PX(53)));
    fx_expect(&F, 8, added(A, s102b, 4, FX_BUY, 53, 1, 1));
    fx_expect(&F, 9, triggered(A, s103, 1, FX_BUY, 103, DTX_ORD_LIMIT, FX_PX(50)));
    fx_expect(&F, 10, added(A, s103, 1, FX_BUY, 50, 1, 1));
    cr_assert_eq(fx_order(&F, s105).pending_stop, 1);
}

Test(engine_stops, sell_stops_trigger_highest_stop_px_first_then_earliest_among_equals)
{
    uint64_t s97 = fx_pend(&F, fx_stop_limit(A, 1, FX_SELL, 97, 150, 1));
    uint64_t s98a = fx_pend(&F, fx_stop_limit(A, 2, FX_SELL, 98, 151, 1));
    uint64_t s99 = fx_pend(&F, fx_stop_limit(A, 3, FX_SELL, 99, 152, 1));
    uint64_t s98b = fx_pend(&F, fx_stop_limit(A, 4, FX_SELL, 98, 153, 1));
    uint64_t s95 = fx_pend(&F, fx_stop_limit(A, 5, FX_SELL, 95, 154, 1));
    trade_at(96);
    fx_expect_count(&F, 3 + 4 * 2);
    fx_expect(&F, 3, triggered(A, s99, 3, FX_SELL, 99, DTX_ORD_LIMIT, FX_PX(152)));
    fx_expect(&F, 5, triggered(A, s98a, 2, FX_SELL, 98, DTX_ORD_LIMIT, FX_PX(151)));
    fx_expect(&F, 7, triggered(A, s98b, 4, FX_SELL, 98, DTX_ORD_LIMIT, FX_PX(153)));
    fx_expect(&F, 9, triggered(A, s97, 1, FX_SELL, 97, DTX_ORD_LIMIT, FX_PX(150)));
    fx_expect(&F, 10, added(A, s97, 1, FX_SELL, 150, 1, 1));
    cr_assert_eq(fx_order(&F, s95).pending_stop, 1);
}

Test(engine_stops, triggered_buy_stops_go_before_triggered_sell_stops)
{
    uint64_t sell = fx_pend(&F, fx_stop_limit(A, 1, FX_SELL, 100, 150, 1));
    uint64_t buy = fx_pend(&F, fx_stop_limit(B, 2, FX_BUY, 100, 50, 1));
    trade_at(100);
    fx_expect_count(&F, 3 + 2 * 2);
    fx_expect(&F, 3, triggered(B, buy, 2, FX_BUY, 100, DTX_ORD_LIMIT, FX_PX(50)));
    fx_expect(&F, 4, added(B, buy, 2, FX_BUY, 50, 1, 1));
    fx_expect(&F, 5, triggered(A, sell, 1, FX_SELL, 100, DTX_ORD_LIMIT, FX_PX(150)));
    fx_expect(&F, 6, added(A, sell, 1, FX_SELL, 150, 1, 1));
}

Test(engine_stops, a_triggered_stops_trade_triggers_the_next_stop_in_a_cascade)
{
    uint64_t sa = fx_pend(&F, fx_stop(A, 101, FX_BUY, 101, 1));
    uint64_t sb = fx_pend(&F, fx_stop(B, 201, FX_BUY, 102, 1));
    uint64_t m1 = fx_rest(&F, fx_limit(M, 801, FX_SELL, 101, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(M, 802, FX_SELL, 102, 1));
    uint64_t m3 = fx_rest(&F, fx_limit(M, 803, FX_SELL, 103, 1));
    dtx_command t = fx_limit(C, 301, FX_BUY, 101, 1);
    fx_send(&F, t);
    fx_expect_count(&F, 9);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 101, 1, 1,
                    (fx_party){.account = M, .order_id = m1, .clordid = 801, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = C, .order_id = tid, .clordid = 301, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1});
    fx_expect(&F, 3, triggered(A, sa, 101, FX_BUY, 101, DTX_ORD_MARKET, DTX_PRICE_NULL));
    fx_expect_trade(&F, 4, FX_BUY, 102, 1, 2,
                    (fx_party){.account = M, .order_id = m2, .clordid = 802, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = sa, .clordid = 101, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1});
    fx_expect(&F, 6, triggered(B, sb, 201, FX_BUY, 102, DTX_ORD_MARKET, DTX_PRICE_NULL));
    fx_expect_trade(&F, 7, FX_BUY, 103, 1, 3,
                    (fx_party){.account = M, .order_id = m3, .clordid = 803, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = B, .order_id = sb, .clordid = 201, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1});
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), FX_PX(103));
}

Test(engine_stops, the_last_price_is_re_read_after_each_triggered_stop)
{
    /* Trade at 101 triggers the 101 stop, which trades at 103: the 105 stop
     * stays pending, the 103 stop (placed first) triggers next. */
    uint64_t s105 = fx_pend(&F, fx_stop(A, 1, FX_BUY, 105, 1));
    uint64_t s103 = fx_pend(&F, fx_stop_limit(A, 2, FX_BUY, 103, 50, 1));
    uint64_t s101 = fx_pend(&F, fx_stop(A, 3, FX_BUY, 101, 1));
    fx_rest(&F, fx_limit(M, 801, FX_SELL, 101, 1));
    fx_rest(&F, fx_limit(M, 802, FX_SELL, 103, 1));
    fx_rest(&F, fx_limit(M, 803, FX_SELL, 107, 1));
    fx_send(&F, fx_limit(C, 301, FX_BUY, 101, 1));
    fx_expect_count(&F, 3 + 3 + 2);
    fx_expect(&F, 3, triggered(A, s101, 3, FX_BUY, 101, DTX_ORD_MARKET, DTX_PRICE_NULL));
    cr_assert_eq(fx_ev(&F, 4)->type, DTX_EV_FILL);
    cr_assert_eq(fx_ev(&F, 4)->price, FX_PX(103));
    fx_expect(&F, 6, triggered(A, s103, 2, FX_BUY, 103, DTX_ORD_LIMIT, FX_PX(50)));
    fx_expect(&F, 7, added(A, s103, 2, FX_BUY, 50, 1, 1));
    cr_assert_eq(fx_order(&F, s105).pending_stop, 1);
}

Test(engine_stops, trigger_loop_runs_after_the_incoming_order_has_rested)
{
    uint64_t stop = fx_pend(&F, fx_stop(A, 101, FX_BUY, 101, 2));
    uint64_t m = fx_rest(&F, fx_limit(M, 801, FX_SELL, 101, 1));
    dtx_command t = fx_limit(C, 301, FX_BUY, 101, 2);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 101, 1, 1,
                    (fx_party){.account = M, .order_id = m, .clordid = 801, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = C, .order_id = tid, .clordid = 301, .order_qty = 2,
                               .leaves_qty = 1, .cum_qty = 1});
    fx_expect(&F, 3, added(C, tid, 301, FX_BUY, 101, 1, 1));
    fx_expect(&F, 4, triggered(A, stop, 101, FX_BUY, 101, DTX_ORD_MARKET, DTX_PRICE_NULL));
    fx_expect(&F, 5, unfilled(A, stop, 101, FX_BUY, DTX_PRICE_NULL, 2, 2, 0));
}

Test(engine_stops, trigger_loop_runs_after_an_ioc_remainder_is_canceled)
{
    uint64_t stop = fx_pend(&F, fx_stop(A, 101, FX_SELL, 100, 1));
    uint64_t m = fx_rest(&F, fx_limit(M, 801, FX_BUY, 100, 1));
    dtx_command t = fx_ioc(C, 301, FX_SELL, 100, 2);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_SELL, 100, 1, 1,
                    (fx_party){.account = M, .order_id = m, .clordid = 801, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = C, .order_id = tid, .clordid = 301, .order_qty = 2,
                               .leaves_qty = 1, .cum_qty = 1});
    fx_expect(&F, 3, unfilled(C, tid, 301, FX_SELL, FX_PX(100), 2, 1, 1));
    fx_expect(&F, 4, triggered(A, stop, 101, FX_SELL, 100, DTX_ORD_MARKET, DTX_PRICE_NULL));
    fx_expect(&F, 5, unfilled(A, stop, 101, FX_SELL, DTX_PRICE_NULL, 1, 1, 0));
}

Test(engine_stops, triggered_fok_stop_limit_that_is_not_fillable_is_canceled_unfilled)
{
    dtx_command c = fx_stop_limit(A, 101, FX_BUY, 101, 102, 5);
    c.tif = DTX_TIF_FOK;
    uint64_t stop = fx_pend(&F, c);
    uint64_t m1 = fx_rest(&F, fx_limit(M, 801, FX_SELL, 101, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(M, 802, FX_SELL, 102, 2));
    dtx_command t = fx_limit(C, 301, FX_BUY, 101, 1);
    fx_send(&F, t);
    fx_expect_count(&F, 5);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 101, 1, 1,
                    (fx_party){.account = M, .order_id = m1, .clordid = 801, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = C, .order_id = tid, .clordid = 301, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1});
    fx_expect(&F, 3, triggered(A, stop, 101, FX_BUY, 101, DTX_ORD_LIMIT, FX_PX(102)));
    fx_expect(&F, 4, unfilled(A, stop, 101, FX_BUY, FX_PX(102), 5, 5, 0));
    cr_assert_eq(fx_order(&F, m2).leaves_qty, 2);
}

Test(engine_stops, triggered_fok_stop_limit_that_is_fillable_fills_in_full)
{
    dtx_command c = fx_stop_limit(A, 101, FX_BUY, 101, 102, 2);
    c.tif = DTX_TIF_FOK;
    uint64_t stop = fx_pend(&F, c);
    fx_rest(&F, fx_limit(M, 801, FX_SELL, 101, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(M, 802, FX_SELL, 102, 2));
    fx_send(&F, fx_limit(C, 301, FX_BUY, 101, 1));
    fx_expect_count(&F, 6);
    fx_expect(&F, 3, triggered(A, stop, 101, FX_BUY, 101, DTX_ORD_LIMIT, FX_PX(102)));
    fx_expect_trade(&F, 4, FX_BUY, 102, 2, 2,
                    (fx_party){.account = M, .order_id = m2, .clordid = 802, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = stop, .clordid = 101, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2});
}

Test(engine_stops, triggered_ioc_stop_limit_cancels_its_remainder_unfilled)
{
    dtx_command c = fx_stop_limit(A, 101, FX_BUY, 101, 102, 5);
    c.tif = DTX_TIF_IOC;
    uint64_t stop = fx_pend(&F, c);
    fx_rest(&F, fx_limit(M, 801, FX_SELL, 101, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(M, 802, FX_SELL, 102, 2));
    fx_send(&F, fx_limit(C, 301, FX_BUY, 101, 1));
    fx_expect_count(&F, 7);
    fx_expect(&F, 3, triggered(A, stop, 101, FX_BUY, 101, DTX_ORD_LIMIT, FX_PX(102)));
    fx_expect_trade(&F, 4, FX_BUY, 102, 2, 2,
                    (fx_party){.account = M, .order_id = m2, .clordid = 802, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = stop, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2});
    fx_expect(&F, 6, unfilled(A, stop, 101, FX_BUY, FX_PX(102), 5, 3, 2));
}

Test(engine_stops, fok_stop_limit_gets_no_fillability_check_at_entry)
{
    dtx_command c = fx_stop_limit(A, 101, FX_BUY, 101, 102, 5);
    c.tif = DTX_TIF_FOK;
    fx_pend(&F, c);
}

Test(engine_stops, stop_market_with_ioc_or_fok_is_rejected_invalid_field)
{
    dtx_command c = fx_stop(A, 101, FX_BUY, 101, 5);
    c.tif = DTX_TIF_IOC;
    fx_rejected(&F, c, DTX_REJ_INVALID_FIELD);
    c.tif = DTX_TIF_FOK;
    fx_rejected(&F, c, DTX_REJ_INVALID_FIELD);
}

Test(engine_stops, stops_of_one_instrument_ignore_trades_of_another)
{
    uint64_t stop = fx_pend(&F, fx_stop(A, 101, FX_BUY, 100, 1));
    dtx_command s = fx_limit(M, 801, FX_SELL, 100, 1);
    s.security_id = FX_SEC_B;
    fx_rest(&F, s);
    dtx_command b = fx_limit(N, 901, FX_BUY, 100, 1);
    b.security_id = FX_SEC_B;
    fx_send(&F, b);
    fx_expect_count(&F, 3);
    cr_assert_eq(fx_order(&F, stop).pending_stop, 1);
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), DTX_PRICE_NULL);
}

Test(engine_stops, a_triggered_stop_frees_its_clordid_once_done)
{
    fx_pend(&F, fx_stop(A, 101, FX_BUY, 100, 1));
    trade_at(100);
    fx_expect_count(&F, 5); /* NEW, FILL, FILL, TRIGGERED, CANCELED Unfilled */
    fx_pend(&F, fx_stop(A, 101, FX_BUY, 200, 1));
}
