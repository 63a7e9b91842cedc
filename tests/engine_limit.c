/*
 * engine_limit.c - limit orders: resting, price-time priority, partial fills
 * across levels, the FILL pair of each trade (maker first, same TradeID),
 * leaves/cum/OrdStatus, and the ExecID/TradeID counters
 * (docs/order-semantics.md, "Matching" and "Numbers and identities").
 */
#include <criterion/criterion.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_limit, .init = setup, .fini = teardown);

Test(engine_limit, buy_into_empty_book_is_acknowledged_then_rests)
{
    dtx_command c = fx_limit(A, 101, FX_BUY, 100, 10);
    fx_send(&F, c);
    fx_expect_count(&F, 1); /* NEW says it rests: flag ADDED, LastQty shown; no ADDED */
    uint64_t id = fx_expect_new_rested(&F, 0, &c);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_NEW, .account = A, .security_id = FX_SEC, .order_id = id,
                          .clordid = 101, .side = FX_BUY, .ord_type = DTX_ORD_LIMIT, .tif = DTX_TIF_GTC,
                          .price = FX_PX(100), .stop_px = DTX_PRICE_NULL, .order_qty = 10,
                          .leaves_qty = 10, .flags = DTX_EVF_ADDED, .last_qty = 10});

    int64_t bid, ask;
    dtx_engine_best(F.e, FX_SEC, &bid, &ask);
    cr_assert_eq(bid, FX_PX(100));
    cr_assert_eq(ask, DTX_PRICE_NULL);
    dtx_order_view v = fx_order(&F, id);
    cr_assert_eq(v.clordid, 101);
    cr_assert_eq(v.account, A);
    cr_assert_eq(v.session, A);
    cr_assert_eq(v.security_id, FX_SEC);
    cr_assert_eq(v.side, FX_BUY);
    cr_assert_eq(v.ord_type, DTX_ORD_LIMIT);
    cr_assert_eq(v.tif, DTX_TIF_GTC);
    cr_assert_eq(v.price, FX_PX(100));
    cr_assert_eq(v.order_qty, 10);
    cr_assert_eq(v.leaves_qty, 10);
    cr_assert_eq(v.cum_qty, 0);
    cr_assert_eq(v.shown_qty, 10);
    cr_assert_eq(v.display_qty, 0);
    cr_assert_eq(v.pending_stop, 0);
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), DTX_PRICE_NULL);
}

Test(engine_limit, sell_into_empty_book_rests_on_the_ask)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 7, FX_SELL, 250, 3));
    int64_t bid, ask;
    dtx_engine_best(F.e, FX_SEC, &bid, &ask);
    cr_assert_eq(bid, DTX_PRICE_NULL);
    cr_assert_eq(ask, FX_PX(250));
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){id});
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
}

Test(engine_limit, day_and_gtd_orders_are_acknowledged_with_their_tif_and_rest)
{
    uint64_t d = fx_rest(&F, fx_day(A, 1, FX_BUY, 90, 5));
    uint64_t g = fx_rest(&F, fx_gtd(A, 2, FX_BUY, 91, 5, FX_T0 + 60 * FX_S));
    cr_assert_eq(fx_order(&F, d).tif, DTX_TIF_DAY);
    cr_assert_eq(fx_order(&F, g).tif, DTX_TIF_GTD);
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){g, d});
}

Test(engine_limit, orders_that_do_not_cross_rest_on_both_sides_without_trading)
{
    uint64_t b = fx_rest(&F, fx_limit(A, 1, FX_BUY, 99, 5));
    uint64_t s = fx_rest(&F, fx_limit(B, 1, FX_SELL, 100, 5));
    int64_t bid, ask;
    dtx_engine_best(F.e, FX_SEC, &bid, &ask);
    cr_assert_eq(bid, FX_PX(99));
    cr_assert_eq(ask, FX_PX(100));
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){b});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){s});
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), DTX_PRICE_NULL);
}

Test(engine_limit, bids_are_kept_best_price_first_then_time)
{
    uint64_t b1 = fx_rest(&F, fx_limit(A, 1, FX_BUY, 98, 1));
    uint64_t b2 = fx_rest(&F, fx_limit(A, 2, FX_BUY, 100, 1));
    uint64_t b3 = fx_rest(&F, fx_limit(A, 3, FX_BUY, 99, 1));
    uint64_t b4 = fx_rest(&F, fx_limit(B, 4, FX_BUY, 100, 1));
    fx_expect_book(&F, FX_SEC, FX_BUY, 4, (uint64_t[]){b2, b4, b3, b1});
    uint64_t s1 = fx_rest(&F, fx_limit(A, 5, FX_SELL, 103, 1));
    uint64_t s2 = fx_rest(&F, fx_limit(A, 6, FX_SELL, 101, 1));
    uint64_t s3 = fx_rest(&F, fx_limit(B, 7, FX_SELL, 101, 1));
    fx_expect_book(&F, FX_SEC, FX_SELL, 3, (uint64_t[]){s2, s3, s1});
}

Test(engine_limit, better_priced_level_fills_before_an_earlier_worse_one)
{
    uint64_t worse = fx_rest(&F, fx_limit(B, 201, FX_SELL, 102, 5));
    uint64_t better = fx_rest(&F, fx_limit(C, 301, FX_SELL, 101, 5));
    dtx_command t = fx_limit(A, 101, FX_BUY, 102, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 101, 5, 1,
                    (fx_party){.account = C, .order_id = better, .clordid = 301, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
    fx_expect_gone(&F, better);
    fx_expect_gone(&F, tid);
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){worse});
    cr_assert_eq(fx_order(&F, worse).leaves_qty, 5);
}

Test(engine_limit, earlier_order_at_a_level_fills_before_a_later_one)
{
    uint64_t first = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    uint64_t second = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 5));
    dtx_command t = fx_limit(A, 101, FX_BUY, 100, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 5, 1,
                    (fx_party){.account = B, .order_id = first, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){second});
    dtx_order_view v = fx_order(&F, second);
    cr_assert_eq(v.leaves_qty, 5);
    cr_assert_eq(v.cum_qty, 0);
}

Test(engine_limit, buy_sweeps_levels_within_its_limit_then_rests_the_remainder)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 3));
    uint64_t m2 = fx_rest(&F, fx_limit(C, 301, FX_SELL, 101, 4));
    uint64_t m3 = fx_rest(&F, fx_limit(B, 202, FX_SELL, 102, 5));
    dtx_command t = fx_limit(A, 101, FX_BUY, 101, 10);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 3, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 10,
                               .leaves_qty = 7, .cum_qty = 3});
    fx_expect_trade(&F, 3, FX_BUY, 101, 4, 2,
                    (fx_party){.account = C, .order_id = m2, .clordid = 301, .order_qty = 4,
                               .leaves_qty = 0, .cum_qty = 4},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 10,
                               .leaves_qty = 3, .cum_qty = 7});
    fx_expect(&F, 5,
              (dtx_event){.type = DTX_EV_ADDED, .account = A, .security_id = FX_SEC, .order_id = tid,
                          .clordid = 101, .side = FX_BUY, .price = FX_PX(101), .last_qty = 3,
                          .leaves_qty = 3, .flags = 0});
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){tid});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){m3});
    dtx_order_view v = fx_order(&F, tid);
    cr_assert_eq(v.leaves_qty, 3);
    cr_assert_eq(v.cum_qty, 7);
    cr_assert_eq(v.order_qty, 10);
    cr_assert_eq(v.shown_qty, 3);
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), FX_PX(101));
}

Test(engine_limit, sell_trades_at_each_resting_bid_price_best_first)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_BUY, 98, 2));
    uint64_t m2 = fx_rest(&F, fx_limit(C, 301, FX_BUY, 100, 2));
    dtx_command t = fx_limit(A, 101, FX_SELL, 97, 4);
    fx_send(&F, t);
    fx_expect_count(&F, 5);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_SELL, 100, 2, 1,
                    (fx_party){.account = C, .order_id = m2, .clordid = 301, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 4,
                               .leaves_qty = 2, .cum_qty = 2});
    fx_expect_trade(&F, 3, FX_SELL, 98, 2, 2,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 4,
                               .leaves_qty = 0, .cum_qty = 4});
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), FX_PX(98));
}

Test(engine_limit, limit_never_trades_through_its_price)
{
    uint64_t ask = fx_rest(&F, fx_limit(B, 201, FX_SELL, 101, 5));
    uint64_t bid = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){ask});
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){bid});
}

Test(engine_limit, trade_price_is_the_resting_orders_price)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 1));
    dtx_command t = fx_limit(A, 101, FX_BUY, 150, 1);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 1, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1});
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), FX_PX(100));
}

Test(engine_limit, partially_filled_maker_keeps_its_place_and_reports_leaves_and_cum)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 10));
    uint64_t behind = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 10));

    dtx_command t1 = fx_limit(A, 101, FX_BUY, 100, 4);
    fx_send(&F, t1);
    fx_expect_count(&F, 3);
    uint64_t t1id = fx_expect_new(&F, 0, &t1);
    fx_expect_trade(&F, 1, FX_BUY, 100, 4, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 10,
                               .leaves_qty = 6, .cum_qty = 4},
                    (fx_party){.account = A, .order_id = t1id, .clordid = 101, .order_qty = 4,
                               .leaves_qty = 0, .cum_qty = 4});
    cr_assert_eq(fx_ev(&F, 1)->ord_status, DTX_STATUS_PARTIALLY_FILLED);
    cr_assert_eq(fx_ev(&F, 2)->ord_status, DTX_STATUS_FILLED);
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){m, behind});
    dtx_order_view v = fx_order(&F, m);
    cr_assert_eq(v.leaves_qty, 6);
    cr_assert_eq(v.cum_qty, 4);
    cr_assert_eq(v.shown_qty, 6);

    dtx_command t2 = fx_limit(A, 102, FX_BUY, 100, 6);
    fx_send(&F, t2);
    fx_expect_count(&F, 3);
    uint64_t t2id = fx_expect_new(&F, 0, &t2);
    fx_expect_trade(&F, 1, FX_BUY, 100, 6, 2,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 10,
                               .leaves_qty = 0, .cum_qty = 10},
                    (fx_party){.account = A, .order_id = t2id, .clordid = 102, .order_qty = 6,
                               .leaves_qty = 0, .cum_qty = 6});
    fx_expect_gone(&F, m);
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){behind});
}

Test(engine_limit, one_taker_against_several_makers_at_one_level_in_time_order)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 2));
    uint64_t m2 = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 3));
    uint64_t m3 = fx_rest(&F, fx_limit(B, 202, FX_SELL, 100, 4));
    dtx_command t = fx_limit(A, 101, FX_BUY, 100, 6);
    fx_send(&F, t);
    fx_expect_count(&F, 7);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 2, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 4, .cum_qty = 2});
    fx_expect_trade(&F, 3, FX_BUY, 100, 3, 2,
                    (fx_party){.account = C, .order_id = m2, .clordid = 301, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 1, .cum_qty = 5});
    fx_expect_trade(&F, 5, FX_BUY, 100, 1, 3,
                    (fx_party){.account = B, .order_id = m3, .clordid = 202, .order_qty = 4,
                               .leaves_qty = 3, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 0, .cum_qty = 6});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){m3});
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
}

Test(engine_limit, fully_filled_taker_emits_no_added_and_no_canceled)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    fx_send(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    fx_expect_count(&F, 3);
    cr_assert_eq(fx_count_type(&F, DTX_EV_ADDED), 0);
    cr_assert_eq(fx_count_type(&F, DTX_EV_CANCELED), 0);
    cr_assert_eq(fx_count_type(&F, DTX_EV_FILL), 2);
}

Test(engine_limit, exec_ids_count_every_event_from_one_and_trade_ids_every_trade_from_one)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 1));   /* event 1 (NEW, flag ADDED) */
    fx_rest(&F, fx_limit(B, 202, FX_SELL, 101, 1));   /* 2 */
    fx_send(&F, fx_limit(A, 101, FX_BUY, 90, 1));     /* 3 */
    fx_expect_count(&F, 1);
    fx_send(&F, fx_limit(A, 102, FX_BUY, 101, 3));    /* NEW, 2 trades, ADDED: 4-9 */
    fx_expect_count(&F, 6);
    fx_send(&F, fx_limit(C, 301, FX_SELL, 90, 2));    /* NEW, 2 trades: 10-14 */
    fx_expect_count(&F, 5);
    cr_assert_eq(F.n, 14);
    for (size_t i = 0; i < F.n; i++)
        cr_assert_eq(F.ev[i].exec_id, i + 1, "event %zu has ExecID %llu:\n%s", i,
                     (unsigned long long)F.ev[i].exec_id, fx_dump_range(&F, 0, F.n));
    uint64_t want_trade[] = {1, 1, 2, 2, 3, 3, 4, 4};
    size_t k = 0;
    for (size_t i = 0; i < F.n; i++)
        if (F.ev[i].type == DTX_EV_FILL) {
            cr_assert(k < 8);
            cr_assert_eq(F.ev[i].trade_id, want_trade[k], "fill %zu has TradeID %llu", k,
                         (unsigned long long)F.ev[i].trade_id);
            k++;
        }
    cr_assert_eq(k, 8);
}

Test(engine_limit, every_event_carries_seq_and_ts_of_its_command)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 1));
    fx_send(&F, fx_limit(A, 101, FX_BUY, 100, 2));
    fx_expect_count(&F, 4);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(fx_ev(&F, i)->seq, 2);
        cr_assert_eq(fx_ev(&F, i)->ts, FX_T0 + FX_TS_STEP);
    }
}

Test(engine_limit, order_ids_are_non_zero_and_distinct)
{
    uint64_t ids[20];
    for (int i = 0; i < 20; i++) {
        ids[i] = fx_rest(&F, fx_limit(A, (uint64_t)(1000 + i), FX_BUY, 50 + i % 3, 1));
        cr_assert_neq(ids[i], 0);
        for (int j = 0; j < i; j++)
            cr_assert_neq(ids[i], ids[j]);
    }
}

Test(engine_limit, a_rejected_order_gets_no_order_id_and_a_later_order_still_does)
{
    dtx_command bad = fx_limit(A, 1, FX_BUY, 100, 0);
    fx_rejected(&F, bad, DTX_REJ_QTY_OUT_OF_RANGE);
    uint64_t id = fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 1));
    cr_assert_neq(id, 0);
}

Test(engine_limit, two_instruments_keep_separate_books)
{
    dtx_command s = fx_limit(B, 201, FX_SELL, 100, 5);
    s.security_id = FX_SEC_B;
    uint64_t other = fx_rest(&F, s);
    uint64_t bid = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){bid});
    fx_expect_book(&F, FX_SEC_B, FX_SELL, 1, (uint64_t[]){other});
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), DTX_PRICE_NULL);
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC_B), DTX_PRICE_NULL);
}

Test(engine_limit, same_account_on_both_sides_without_crossing_is_no_self_trade)
{
    uint64_t b = fx_rest(&F, fx_limit(A, 1, FX_BUY, 99, 5));
    uint64_t s = fx_rest(&F, fx_limit(A, 2, FX_SELL, 100, 5));
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){b});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){s});
}

Test(engine_limit, stats_count_commands_events_trades_and_working_orders)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    fx_send(&F, fx_limit(A, 101, FX_BUY, 100, 2));
    fx_rejected(&F, fx_limit(A, 102, FX_BUY, 100, 0), DTX_REJ_QTY_OUT_OF_RANGE);
    dtx_engine_stats st;
    dtx_engine_get_stats(F.e, &st);
    cr_assert_eq(st.commands, 3);
    cr_assert_eq(st.events, F.n);
    cr_assert_eq(st.trades, 1);
    cr_assert_eq(st.rejects, 1);
    cr_assert_eq(st.working_orders, 1);
    cr_assert_eq(st.max_orders, FX_DEFAULT_MAX_ORDERS);
}

Test(engine_limit, an_instrument_priced_near_int64_max_is_accepted_and_trades_at_its_top_level)
{
    /* engine.h bounds an instrument's range by its level count only; the
     * engine once refused max_price above INT64_MAX / 4 (found by the
     * differential test, tests/engine_differential.c). */
    dtx_instrument_config huge = fx_test_instrument(FX_SEC);
    huge.tick_size = 1000000000000000LL;   /* 1e15 */
    huge.min_price = 9200000000000000000LL; /* 9.2e18 */
    huge.max_price = 9210000000000000000LL; /* 9.21e18: 10001 levels */
    fx_fini(&F);
    fx_init(&F, &(fx_opts){.instruments = &huge, .n_instruments = 1});

    const int64_t top = 9210000000000000000LL; /* FX_PX(9210000000) */
    dtx_command s = fx_limit(B, 201, FX_SELL, 9210000000LL, 5);
    cr_assert_eq(s.price, top);
    uint64_t m = fx_rest(&F, s);
    dtx_command t = fx_limit(A, 101, FX_BUY, 9210000000LL, 3);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 9210000000LL, 3, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 2, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3});
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), top);
    int64_t bid, ask;
    dtx_engine_best(F.e, FX_SEC, &bid, &ask);
    cr_assert_eq(bid, DTX_PRICE_NULL);
    cr_assert_eq(ask, top);
    /* one tick above the range is outside it, not an overflow */
    fx_rejected(&F, fx_limit(A, 102, FX_BUY, 9211000000LL, 1), DTX_REJ_PRICE_OUTSIDE_BAND);
}
