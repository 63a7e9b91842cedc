/*
 * engine_ioc.c - immediate-or-cancel limit orders: trade what is there within
 * the limit, then the remainder is canceled Unfilled, even when nothing traded;
 * an IOC never rests (docs/order-semantics.md, "NewOrderSingle").
 */
#include <criterion/criterion.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_ioc, .init = setup, .fini = teardown);

static dtx_event unfilled(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side, int64_t ticks,
                          int64_t qty, int64_t leaves, int64_t cum)
{
    return (dtx_event){.type = DTX_EV_CANCELED, .account = acct, .security_id = FX_SEC,
                       .order_id = id, .clordid = clordid, .side = side,
                       .cancel_reason = DTX_CANCEL_UNFILLED, .orig_clordid = 0, .cum_qty = cum,
                       .leaves_qty = leaves, .price = FX_PX(ticks), .order_qty = qty, .flags = 0};
}

Test(engine_ioc, ioc_fills_what_it_can_and_cancels_the_remainder_unfilled)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 3));
    dtx_command t = fx_ioc(A, 101, FX_BUY, 100, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 3, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 2, .cum_qty = 3});
    fx_expect(&F, 3, unfilled(A, tid, 101, FX_BUY, 100, 5, 2, 3));
    fx_expect_gone(&F, tid);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
}

Test(engine_ioc, ioc_into_an_empty_book_is_acknowledged_then_canceled_unfilled)
{
    dtx_command t = fx_ioc(A, 101, FX_BUY, 100, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 2);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, unfilled(A, tid, 101, FX_BUY, 100, 5, 5, 0));
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
}

Test(engine_ioc, ioc_that_does_not_reach_the_best_price_is_canceled_unfilled_without_trading)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 101, 3));
    dtx_command t = fx_ioc(A, 101, FX_BUY, 100, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 2);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 1, unfilled(A, tid, 101, FX_BUY, 100, 5, 5, 0));
    cr_assert_eq(fx_order(&F, m).leaves_qty, 3);
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), DTX_PRICE_NULL);
}

Test(engine_ioc, ioc_filled_in_full_emits_no_cancel)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 8));
    dtx_command t = fx_ioc(A, 101, FX_BUY, 100, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 5, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 8,
                               .leaves_qty = 3, .cum_qty = 5},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
}

Test(engine_ioc, ioc_respects_its_limit_and_leaves_worse_levels_untouched)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 2));
    uint64_t m2 = fx_rest(&F, fx_limit(C, 301, FX_SELL, 101, 2));
    dtx_command t = fx_ioc(A, 101, FX_BUY, 100, 4);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 2, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 4,
                               .leaves_qty = 2, .cum_qty = 2});
    fx_expect(&F, 3, unfilled(A, tid, 101, FX_BUY, 100, 4, 2, 2));
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){m2});
    cr_assert_eq(fx_order(&F, m2).leaves_qty, 2);
}

Test(engine_ioc, ioc_sell_sweeps_bids_down_to_its_limit)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 1));
    uint64_t m2 = fx_rest(&F, fx_limit(C, 301, FX_BUY, 99, 1));
    uint64_t m3 = fx_rest(&F, fx_limit(C, 302, FX_BUY, 98, 1));
    dtx_command t = fx_ioc(A, 101, FX_SELL, 99, 3);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_SELL, 100, 1, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 3,
                               .leaves_qty = 2, .cum_qty = 1});
    fx_expect_trade(&F, 3, FX_SELL, 99, 1, 2,
                    (fx_party){.account = C, .order_id = m2, .clordid = 301, .order_qty = 1,
                               .leaves_qty = 0, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 3,
                               .leaves_qty = 1, .cum_qty = 2});
    fx_expect(&F, 5, unfilled(A, tid, 101, FX_SELL, 99, 3, 1, 2));
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){m3});
}

Test(engine_ioc, ioc_clordid_is_free_again_after_its_cancel)
{
    dtx_command t = fx_ioc(A, 101, FX_BUY, 100, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 2);
    fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
}

Test(engine_ioc, ioc_with_display_qty_is_rejected_invalid_field)
{
    dtx_command t = fx_ioc(A, 101, FX_BUY, 100, 5);
    t.display_qty = 1;
    fx_rejected(&F, t, DTX_REJ_INVALID_FIELD);
}

Test(engine_ioc, ioc_with_post_only_is_rejected_invalid_field)
{
    dtx_command t = fx_ioc(A, 101, FX_BUY, 100, 5);
    t.exec_inst = DTX_EXEC_POST_ONLY;
    fx_rejected(&F, t, DTX_REJ_INVALID_FIELD);
}
