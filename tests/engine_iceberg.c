/*
 * engine_iceberg.c - icebergs (DisplayQty > 0): rest showing DisplayQty; when
 * the shown part is used up and hidden quantity remains, min(DisplayQty, open)
 * is shown again at the back of the level with ADDED (flag REFILL); the same
 * incoming order trades with it again after the orders now ahead of it
 * (docs/order-semantics.md, "Matching").
 *
 * Assumed order of a refill's events: the maker's FILL, the taker's FILL, then
 * ADDED REFILL (the FILL pair of a trade stays together).
 */
#include <criterion/criterion.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_iceberg, .init = setup, .fini = teardown);

static dtx_event refill(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side, int64_t ticks,
                        int64_t shown, int64_t leaves)
{
    return (dtx_event){.type = DTX_EV_ADDED, .account = acct, .security_id = FX_SEC, .order_id = id,
                       .clordid = clordid, .side = side, .price = FX_PX(ticks), .last_qty = shown,
                       .leaves_qty = leaves, .flags = DTX_EVF_REFILL};
}

Test(engine_iceberg, iceberg_rests_showing_its_display_qty_with_the_total_open)
{
    dtx_command c = fx_iceberg(B, 201, FX_SELL, 100, 10, 3);
    fx_send(&F, c);
    fx_expect_count(&F, 1); /* NEW with flag ADDED: shows 3 (LastQty) of 10 open */
    uint64_t id = fx_expect_new_rested(&F, 0, &c);
    cr_assert_eq(fx_ev(&F, 0)->order_qty, 10);
    cr_assert_eq(fx_ev(&F, 0)->leaves_qty, 10);
    cr_assert_eq(fx_ev(&F, 0)->last_qty, 3);
    cr_assert_eq(fx_ev(&F, 0)->flags, DTX_EVF_ADDED);
    dtx_order_view v = fx_order(&F, id);
    cr_assert_eq(v.shown_qty, 3);
    cr_assert_eq(v.display_qty, 3);
    cr_assert_eq(v.leaves_qty, 10);
    cr_assert_eq(v.order_qty, 10);
}

Test(engine_iceberg, partial_fill_of_the_shown_part_keeps_its_place_without_refill)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 10, 3));
    uint64_t behind = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 5));
    dtx_command t = fx_limit(A, 101, FX_BUY, 100, 2);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 2, 1,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 10,
                               .leaves_qty = 8, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2});
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){ice, behind});
    dtx_order_view v = fx_order(&F, ice);
    cr_assert_eq(v.shown_qty, 1);
    cr_assert_eq(v.leaves_qty, 8);
}

Test(engine_iceberg, shown_part_used_up_is_replenished_to_the_back_of_its_level)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 10, 3));
    uint64_t behind = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 5));
    dtx_command t = fx_limit(A, 101, FX_BUY, 100, 3);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 3, 1,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 10,
                               .leaves_qty = 7, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3});
    fx_expect(&F, 3, refill(B, ice, 201, FX_SELL, 100, 3, 7));
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){behind, ice});

    /* The next buyer meets C first. */
    dtx_command t2 = fx_limit(A, 102, FX_BUY, 100, 5);
    fx_send(&F, t2);
    fx_expect_count(&F, 3);
    uint64_t t2id = fx_expect_new(&F, 0, &t2);
    fx_expect_trade(&F, 1, FX_BUY, 100, 5, 2,
                    (fx_party){.account = C, .order_id = behind, .clordid = 301, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5},
                    (fx_party){.account = A, .order_id = t2id, .clordid = 102, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
}

Test(engine_iceberg, same_incoming_order_trades_the_iceberg_again_after_the_orders_ahead)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 10, 3));
    uint64_t c = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 2));
    dtx_command t = fx_limit(A, 101, FX_BUY, 100, 8);
    fx_send(&F, t);
    fx_expect_count(&F, 9);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 3, 1,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 10,
                               .leaves_qty = 7, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 8,
                               .leaves_qty = 5, .cum_qty = 3});
    fx_expect(&F, 3, refill(B, ice, 201, FX_SELL, 100, 3, 7));
    fx_expect_trade(&F, 4, FX_BUY, 100, 2, 2,
                    (fx_party){.account = C, .order_id = c, .clordid = 301, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 8,
                               .leaves_qty = 3, .cum_qty = 5});
    fx_expect_trade(&F, 6, FX_BUY, 100, 3, 3,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 10,
                               .leaves_qty = 4, .cum_qty = 6},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 8,
                               .leaves_qty = 0, .cum_qty = 8});
    fx_expect(&F, 8, refill(B, ice, 201, FX_SELL, 100, 3, 4));
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){ice});
}

Test(engine_iceberg, two_icebergs_at_one_level_alternate_as_they_refill)
{
    uint64_t i1 = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 4, 2));
    uint64_t i2 = fx_rest(&F, fx_iceberg(C, 301, FX_SELL, 100, 4, 2));
    dtx_command t = fx_limit(A, 101, FX_BUY, 100, 6);
    fx_send(&F, t);
    fx_expect_count(&F, 1 + 3 + 3 + 2);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 2, 1,
                    (fx_party){.account = B, .order_id = i1, .clordid = 201, .order_qty = 4,
                               .leaves_qty = 2, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 4, .cum_qty = 2});
    fx_expect(&F, 3, refill(B, i1, 201, FX_SELL, 100, 2, 2));
    fx_expect_trade(&F, 4, FX_BUY, 100, 2, 2,
                    (fx_party){.account = C, .order_id = i2, .clordid = 301, .order_qty = 4,
                               .leaves_qty = 2, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 2, .cum_qty = 4});
    fx_expect(&F, 6, refill(C, i2, 301, FX_SELL, 100, 2, 2));
    fx_expect_trade(&F, 7, FX_BUY, 100, 2, 3,
                    (fx_party){.account = B, .order_id = i1, .clordid = 201, .order_qty = 4,
                               .leaves_qty = 0, .cum_qty = 4},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 0, .cum_qty = 6});
    fx_expect_gone(&F, i1);
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){i2});
}

Test(engine_iceberg, last_refill_shows_only_what_is_left)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 7, 3));
    dtx_command t = fx_limit(A, 101, FX_BUY, 100, 6);
    fx_send(&F, t);
    fx_expect_count(&F, 7);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 3, 1,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 7,
                               .leaves_qty = 4, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 3, .cum_qty = 3});
    fx_expect(&F, 3, refill(B, ice, 201, FX_SELL, 100, 3, 4));
    fx_expect_trade(&F, 4, FX_BUY, 100, 3, 2,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 7,
                               .leaves_qty = 1, .cum_qty = 6},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 0, .cum_qty = 6});
    fx_expect(&F, 6, refill(B, ice, 201, FX_SELL, 100, 1, 1));
    dtx_order_view v = fx_order(&F, ice);
    cr_assert_eq(v.shown_qty, 1);
    cr_assert_eq(v.leaves_qty, 1);
}

Test(engine_iceberg, iceberg_used_up_completely_has_no_refill_after_its_last_fill)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 6, 3));
    dtx_command t = fx_limit(A, 101, FX_BUY, 100, 6);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 3, 1,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 6,
                               .leaves_qty = 3, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 3, .cum_qty = 3});
    fx_expect(&F, 3, refill(B, ice, 201, FX_SELL, 100, 3, 3));
    fx_expect_trade(&F, 4, FX_BUY, 100, 3, 2,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 6,
                               .leaves_qty = 0, .cum_qty = 6},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                               .leaves_qty = 0, .cum_qty = 6});
    fx_expect_gone(&F, ice);
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
}

Test(engine_iceberg, incoming_order_larger_than_the_iceberg_takes_all_of_it_then_the_next_level)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 4, 2));
    uint64_t next = fx_rest(&F, fx_limit(C, 301, FX_SELL, 101, 5));
    dtx_command t = fx_limit(A, 101, FX_BUY, 101, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 8);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 2, 1,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 4,
                               .leaves_qty = 2, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2});
    fx_expect(&F, 3, refill(B, ice, 201, FX_SELL, 100, 2, 2));
    fx_expect_trade(&F, 4, FX_BUY, 100, 2, 2,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 4,
                               .leaves_qty = 0, .cum_qty = 4},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 1, .cum_qty = 4});
    fx_expect_trade(&F, 6, FX_BUY, 101, 1, 3,
                    (fx_party){.account = C, .order_id = next, .clordid = 301, .order_qty = 5,
                               .leaves_qty = 4, .cum_qty = 1},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
}

Test(engine_iceberg, incoming_iceberg_trades_its_whole_quantity_then_rests_showing_display_qty)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command t = fx_iceberg(A, 101, FX_BUY, 100, 10, 2);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 5, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 10,
                               .leaves_qty = 5, .cum_qty = 5});
    fx_expect(&F, 3,
              (dtx_event){.type = DTX_EV_ADDED, .account = A, .security_id = FX_SEC, .order_id = tid,
                          .clordid = 101, .side = FX_BUY, .price = FX_PX(100), .last_qty = 2,
                          .leaves_qty = 5, .flags = 0});
    dtx_order_view v = fx_order(&F, tid);
    cr_assert_eq(v.shown_qty, 2);
    cr_assert_eq(v.leaves_qty, 5);
    cr_assert_eq(v.cum_qty, 5);
}

Test(engine_iceberg, incoming_iceberg_with_less_left_than_its_display_shows_what_is_left)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 9));
    dtx_command t = fx_iceberg(A, 101, FX_BUY, 100, 10, 4);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect(&F, 3,
              (dtx_event){.type = DTX_EV_ADDED, .account = A, .security_id = FX_SEC, .order_id = tid,
                          .clordid = 101, .side = FX_BUY, .price = FX_PX(100), .last_qty = 1,
                          .leaves_qty = 1, .flags = 0});
}

Test(engine_iceberg, iceberg_with_display_equal_to_its_quantity_behaves_as_a_plain_order)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 5, 5));
    dtx_command t = fx_limit(A, 101, FX_BUY, 100, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    cr_assert_eq(fx_count_type(&F, DTX_EV_ADDED), 0);
    fx_expect_gone(&F, ice);
}

Test(engine_iceberg, sell_aggressor_against_a_bid_iceberg_refills_it_behind_later_bids)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_BUY, 100, 5, 2));
    uint64_t later = fx_rest(&F, fx_limit(C, 301, FX_BUY, 100, 1));
    dtx_command t = fx_limit(A, 101, FX_SELL, 100, 2);
    fx_send(&F, t);
    fx_expect_count(&F, 4);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_SELL, 100, 2, 1,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2});
    fx_expect(&F, 3, refill(B, ice, 201, FX_BUY, 100, 2, 3));
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){later, ice});
}

Test(engine_iceberg, market_order_against_an_iceberg_trades_its_hidden_quantity)
{
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 4, 2));
    dtx_command t = fx_market(A, 101, FX_BUY, 4);
    fx_send(&F, t);
    fx_expect_count(&F, 6);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 2, 1,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 4,
                               .leaves_qty = 2, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 4,
                               .leaves_qty = 2, .cum_qty = 2});
    fx_expect(&F, 3, refill(B, ice, 201, FX_SELL, 100, 2, 2));
    fx_expect_trade(&F, 4, FX_BUY, 100, 2, 2,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 4,
                               .leaves_qty = 0, .cum_qty = 4},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 4,
                               .leaves_qty = 0, .cum_qty = 4});
}

Test(engine_iceberg, stop_limit_iceberg_is_accepted)
{
    dtx_command c = fx_stop_limit(A, 101, FX_BUY, 100, 101, 10);
    c.display_qty = 2;
    uint64_t id = fx_pend(&F, c);
    dtx_order_view v = fx_order(&F, id);
    cr_assert_eq(v.pending_stop, 1);
    cr_assert_eq(v.display_qty, 2);
}
