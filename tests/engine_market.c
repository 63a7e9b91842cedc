/*
 * engine_market.c - market orders: NEW with a null price, the protection band
 * (best opposite price at arrival +/- market_band_ticks, clamped to the
 * instrument's range), NoLiquidity into an empty side, and the remainder
 * canceled Unfilled (docs/order-semantics.md, "Matching", "NewOrderSingle").
 */
#include <criterion/criterion.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_market, .init = setup, .fini = teardown);

static dtx_event unfilled(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side, int64_t qty,
                          int64_t leaves, int64_t cum)
{
    return (dtx_event){.type = DTX_EV_CANCELED, .account = acct, .security_id = FX_SEC,
                       .order_id = id, .clordid = clordid, .side = side,
                       .cancel_reason = DTX_CANCEL_UNFILLED, .orig_clordid = 0, .cum_qty = cum,
                       .leaves_qty = leaves, .price = DTX_PRICE_NULL, .order_qty = qty, .flags = 0};
}

Test(engine_market, new_of_a_market_order_carries_a_null_price)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command t = fx_market(A, 101, FX_BUY, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    fx_expect_new(&F, 0, &t);
    cr_assert_eq(fx_ev(&F, 0)->price, DTX_PRICE_NULL);
    cr_assert_eq(fx_ev(&F, 0)->ord_type, DTX_ORD_MARKET);
    cr_assert_eq(fx_ev(&F, 0)->tif, DTX_TIF_IOC);
}

Test(engine_market, market_buy_filled_in_full_emits_no_cancel)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command t = fx_market(A, 101, FX_BUY, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 5, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
    fx_expect_gone(&F, tid);
}

Test(engine_market, market_into_an_empty_book_is_rejected_no_liquidity)
{
    dtx_command t = fx_market(A, 101, FX_BUY, 5);
    fx_rejected(&F, t, DTX_REJ_NO_LIQUIDITY);
    cr_assert_eq(fx_ev(&F, 0)->price, DTX_PRICE_NULL);
    cr_assert_eq(fx_ev(&F, 0)->order_id, 0);
}

Test(engine_market, market_sell_against_an_empty_bid_side_is_rejected_even_with_asks)
{
    uint64_t ask = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    fx_rejected(&F, fx_market(A, 101, FX_SELL, 5), DTX_REJ_NO_LIQUIDITY);
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){ask});
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
}

Test(engine_market, market_into_a_thin_book_fills_what_is_there_and_cancels_the_rest_unfilled)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 3));
    dtx_command t = fx_market(A, 101, FX_BUY, 10);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 3, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 10,
                               .leaves_qty = 7, .cum_qty = 3});
    fx_expect(&F, 3, unfilled(A, tid, 101, FX_BUY, 10, 7, 3));
    fx_expect_gone(&F, tid);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
}

Test(engine_market, market_buy_trades_up_to_the_band_above_the_best_ask_and_no_further)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(B, 202, FX_SELL, 100 + FX_BAND, 1));
    uint64_t m3 = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100 + FX_BAND + 1, 1));
    dtx_command t = fx_market(A, 101, FX_BUY, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 1, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 4, .cum_qty = 1});
    fx_expect_trade(&F, 3, FX_BUY, 100 + FX_BAND, 1, 2,
                    (fx_party){.account = B, .order_id = m2, .clordid = 202, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2});
    fx_expect(&F, 5, unfilled(A, tid, 101, FX_BUY, 5, 3, 2));
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){m3});
    cr_assert_eq(fx_order(&F, m3).leaves_qty, 1);
}

Test(engine_market, market_sell_trades_down_to_the_band_below_the_best_bid_and_no_further)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 2));
    uint64_t m2 = fx_rest(&F, fx_limit(C, 301, FX_BUY, 100 - FX_BAND, 2));
    uint64_t m3 = fx_rest(&F, fx_limit(B, 202, FX_BUY, 100 - FX_BAND - 1, 2));
    dtx_command t = fx_market(A, 101, FX_SELL, 6);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_SELL, 100, 2, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 4, .cum_qty = 2});
    fx_expect_trade(&F, 3, FX_SELL, 100 - FX_BAND, 2, 2,
                    (fx_party){.account = C, .order_id = m2, .clordid = 301, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 2, .cum_qty = 4});
    fx_expect(&F, 5, unfilled(A, tid, 101, FX_SELL, 6, 2, 4));
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){m3});
}

Test(engine_market, band_is_measured_from_the_best_price_at_arrival_not_from_each_fill)
{
    /* Levels 100, 104, 108: 108 is within 5 of 104 but not of 100. */
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(B, 202, FX_SELL, 104, 1));
    uint64_t m3 = fx_rest(&F, fx_limit(B, 203, FX_SELL, 108, 1));
    dtx_command t = fx_market(A, 101, FX_BUY, 3);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 1, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 3,
                               .leaves_qty = 2, .cum_qty = 1});
    fx_expect_trade(&F, 3, FX_BUY, 104, 1, 2,
                    (fx_party){.account = B, .order_id = m2, .clordid = 202, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 3,
                               .leaves_qty = 1, .cum_qty = 2});
    fx_expect(&F, 5, unfilled(A, tid, 101, FX_BUY, 3, 1, 2));
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){m3});
}

Test(engine_market, market_whose_whole_opposite_side_is_beyond_the_band_still_trades_the_best_level)
{
    /* The band is anchored at the best opposite price, so the best level is
     * always within it. */
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_SELL, 500, 2));
    dtx_command t = fx_market(A, 101, FX_BUY, 2);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 500, 2, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2});
}

Test(engine_market, band_is_clamped_to_the_top_of_the_price_range)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_SELL, FX_MAX_TICKS - 2, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(B, 202, FX_SELL, FX_MAX_TICKS, 1));
    dtx_command t = fx_market(A, 101, FX_BUY, 3);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, FX_MAX_TICKS - 2, 1, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 3,
                               .leaves_qty = 2, .cum_qty = 1});
    fx_expect_trade(&F, 3, FX_BUY, FX_MAX_TICKS, 1, 2,
                    (fx_party){.account = B, .order_id = m2, .clordid = 202, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 3,
                               .leaves_qty = 1, .cum_qty = 2});
    fx_expect(&F, 5, unfilled(A, tid, 101, FX_BUY, 3, 1, 2));
}

Test(engine_market, band_is_clamped_to_the_bottom_of_the_price_range)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_BUY, FX_MIN_TICKS + 2, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(B, 202, FX_BUY, FX_MIN_TICKS, 1));
    dtx_command t = fx_market(A, 101, FX_SELL, 2);
    fx_send(&F, t);
    fx_expect_count(&F, 5);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_SELL, FX_MIN_TICKS + 2, 1, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 2,
                               .leaves_qty = 1, .cum_qty = 1});
    fx_expect_trade(&F, 3, FX_SELL, FX_MIN_TICKS, 1, 2,
                    (fx_party){.account = B, .order_id = m2, .clordid = 202, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2});
}

Test(engine_market, market_order_never_rests)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 1));
    dtx_command t = fx_market(A, 101, FX_BUY, 4);
    fx_send(&F, t);
    cr_assert_eq(fx_count_type(&F, DTX_EV_ADDED), 0, "a market order rested:\n%s", fx_dump(&F));
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
}

Test(engine_market, market_fok_filled_within_the_band)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 2));
    uint64_t m2 = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100 + FX_BAND, 3));
    dtx_command t = fx_market(A, 101, FX_BUY, 5);
    t.tif = DTX_TIF_FOK;
    fx_send(&F, t);
    fx_expect_count(&F, 5);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 2, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2});
    fx_expect_trade(&F, 3, FX_BUY, 100 + FX_BAND, 3, 2,
                    (fx_party){.account = C, .order_id = m2, .clordid = 301, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
}

Test(engine_market, market_fok_needing_liquidity_beyond_the_band_is_rejected_fok_not_fillable)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 2));
    uint64_t m2 = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100 + FX_BAND + 1, 3));
    dtx_command t = fx_market(A, 101, FX_BUY, 5);
    t.tif = DTX_TIF_FOK;
    fx_rejected(&F, t, DTX_REJ_FOK_NOT_FILLABLE);
    cr_assert_eq(fx_order(&F, m1).leaves_qty, 2);
    cr_assert_eq(fx_order(&F, m2).leaves_qty, 3);
}

Test(engine_market, market_fok_into_an_empty_book_is_rejected_fok_not_fillable_not_no_liquidity)
{
    dtx_command t = fx_market(A, 101, FX_BUY, 5);
    t.tif = DTX_TIF_FOK;
    fx_rejected(&F, t, DTX_REJ_FOK_NOT_FILLABLE);
}

Test(engine_market, market_trade_sets_the_last_price)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 1));
    fx_rest(&F, fx_limit(B, 202, FX_SELL, 102, 1));
    fx_send(&F, fx_market(A, 101, FX_BUY, 2));
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), FX_PX(102));
}
