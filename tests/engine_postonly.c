/*
 * engine_postonly.c - post-only limit orders: rest when they would not trade;
 * rejected PostOnlyWouldTrade (one REJECT, nothing else) when the price reaches
 * the best opposite price, the account's own orders included; PostOnly on
 * Market/IOC/FOK/Stop/StopLimit is InvalidField (docs/order-semantics.md,
 * "NewOrderSingle" checks 1 and 10).
 */
#include <criterion/criterion.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_postonly, .init = setup, .fini = teardown);

Test(engine_postonly, post_only_into_an_empty_book_rests_with_exec_inst_in_new)
{
    dtx_command c = fx_post_only(A, 101, FX_BUY, 100, 5);
    uint64_t id = fx_rest(&F, c);
    cr_assert_eq(fx_order(&F, id).exec_inst, DTX_EXEC_POST_ONLY);
}

Test(engine_postonly, post_only_buy_below_the_best_ask_rests)
{
    uint64_t ask = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    uint64_t id = fx_rest(&F, fx_post_only(A, 101, FX_BUY, 99, 5));
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){id});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){ask});
}

Test(engine_postonly, post_only_buy_at_the_best_ask_is_rejected_post_only_would_trade)
{
    uint64_t ask = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    fx_rejected(&F, fx_post_only(A, 101, FX_BUY, 100, 5), DTX_REJ_POST_ONLY_WOULD_TRADE);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){ask});
    cr_assert_eq(fx_order(&F, ask).leaves_qty, 5);
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), DTX_PRICE_NULL);
}

Test(engine_postonly, post_only_buy_through_the_best_ask_is_rejected_post_only_would_trade)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    fx_rejected(&F, fx_post_only(A, 101, FX_BUY, 105, 5), DTX_REJ_POST_ONLY_WOULD_TRADE);
}

Test(engine_postonly, post_only_sell_above_the_best_bid_rests)
{
    fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    fx_rest(&F, fx_post_only(A, 101, FX_SELL, 101, 5));
}

Test(engine_postonly, post_only_sell_at_the_best_bid_is_rejected_post_only_would_trade)
{
    uint64_t bid = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    fx_rejected(&F, fx_post_only(A, 101, FX_SELL, 100, 5), DTX_REJ_POST_ONLY_WOULD_TRADE);
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){bid});
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
}

Test(engine_postonly, post_only_sell_below_the_best_bid_is_rejected_post_only_would_trade)
{
    fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    fx_rejected(&F, fx_post_only(A, 101, FX_SELL, 90, 5), DTX_REJ_POST_ONLY_WOULD_TRADE);
}

Test(engine_postonly, post_only_that_would_meet_the_accounts_own_order_is_rejected_too)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 5));
    fx_rejected(&F, fx_post_only(A, 101, FX_BUY, 100, 5), DTX_REJ_POST_ONLY_WOULD_TRADE);
    cr_assert_eq(fx_order(&F, own).leaves_qty, 5);
}

Test(engine_postonly, post_only_at_the_price_of_a_same_side_level_joins_it)
{
    uint64_t first = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    uint64_t po = fx_rest(&F, fx_post_only(A, 101, FX_BUY, 100, 5));
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){first, po});
}

Test(engine_postonly, resting_post_only_order_trades_as_a_maker)
{
    dtx_command c = fx_post_only(A, 101, FX_BUY, 100, 5);
    uint64_t po = fx_rest(&F, c);
    dtx_command t = fx_limit(B, 201, FX_SELL, 100, 2);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_SELL, 100, 2, 1,
                    (fx_party){.account = A, .order_id = po, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2},
                    (fx_party){.account = B, .order_id = tid, .clordid = 201, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2});
}

Test(engine_postonly, post_only_iceberg_rests)
{
    dtx_command c = fx_post_only(A, 101, FX_BUY, 100, 10);
    c.display_qty = 2;
    uint64_t id = fx_rest(&F, c);
    cr_assert_eq(fx_order(&F, id).shown_qty, 2);
}

Test(engine_postonly, post_only_reject_frees_the_clordid)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    fx_rejected(&F, fx_post_only(A, 101, FX_BUY, 100, 5), DTX_REJ_POST_ONLY_WOULD_TRADE);
    fx_rest(&F, fx_post_only(A, 101, FX_BUY, 99, 5));
}

Test(engine_postonly, post_only_on_a_market_order_is_rejected_invalid_field)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command c = fx_market(A, 101, FX_BUY, 5);
    c.exec_inst = DTX_EXEC_POST_ONLY;
    fx_rejected(&F, c, DTX_REJ_INVALID_FIELD);
}

Test(engine_postonly, post_only_on_an_ioc_is_rejected_invalid_field)
{
    dtx_command c = fx_ioc(A, 101, FX_BUY, 100, 5);
    c.exec_inst = DTX_EXEC_POST_ONLY;
    fx_rejected(&F, c, DTX_REJ_INVALID_FIELD);
}

Test(engine_postonly, post_only_on_a_fok_is_rejected_invalid_field)
{
    dtx_command c = fx_fok(A, 101, FX_BUY, 100, 5);
    c.exec_inst = DTX_EXEC_POST_ONLY;
    fx_rejected(&F, c, DTX_REJ_INVALID_FIELD);
}

Test(engine_postonly, post_only_on_a_stop_is_rejected_invalid_field)
{
    dtx_command c = fx_stop(A, 101, FX_BUY, 100, 5);
    c.exec_inst = DTX_EXEC_POST_ONLY;
    fx_rejected(&F, c, DTX_REJ_INVALID_FIELD);
}

Test(engine_postonly, post_only_on_a_stop_limit_is_rejected_invalid_field)
{
    dtx_command c = fx_stop_limit(A, 101, FX_BUY, 100, 101, 5);
    c.exec_inst = DTX_EXEC_POST_ONLY;
    fx_rejected(&F, c, DTX_REJ_INVALID_FIELD);
}

Test(engine_postonly, post_only_day_and_gtd_orders_are_allowed)
{
    dtx_command d = fx_day(A, 101, FX_BUY, 100, 5);
    d.exec_inst = DTX_EXEC_POST_ONLY;
    fx_rest(&F, d);
    dtx_command g = fx_gtd(A, 102, FX_BUY, 100, 5, FX_T0 + FX_S);
    g.exec_inst = DTX_EXEC_POST_ONLY;
    fx_rest(&F, g);
}
