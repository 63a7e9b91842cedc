/*
 * engine_replace.c - OrderCancelReplaceRequest: the priority rules of
 * PROTOCOL.md "Replace" and docs/order-semantics.md
 * "OrderCancelReplaceRequest". A replace that changes nothing, or only lowers
 * the quantity at the same price, keeps time priority; a higher quantity, a new
 * price or a new DisplayQty loses it, and a new price is an arrival that may
 * trade. Also: OrderQty at or below CumQty cancels, post-only re-pricing that
 * would trade is rejected, ClOrdID chaining, the reject reasons and their
 * order, pending stops, halts, the gate, and every field of REPLACED.
 */
#include <criterion/criterion.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_replace, .init = setup, .fini = teardown);

/* REPLACED answering the replace request r of order id (named orig before). */
static dtx_event replaced(const dtx_command *r, uint64_t id, uint64_t orig, uint8_t side, int64_t price,
                          int64_t qty, int64_t leaves, int64_t cum, uint8_t flags)
{
    return (dtx_event){.type = DTX_EV_REPLACED, .account = r->account, .session = r->session,
                       .security_id = FX_SEC, .order_id = id, .clordid = r->clordid,
                       .orig_clordid = orig, .side = side, .price = price, .order_qty = qty,
                       .leaves_qty = leaves, .cum_qty = cum, .flags = flags};
}

static dtx_event added(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side, int64_t ticks,
                       int64_t shown, int64_t leaves)
{
    return (dtx_event){.type = DTX_EV_ADDED, .account = acct, .security_id = FX_SEC, .order_id = id,
                       .clordid = clordid, .side = side, .price = FX_PX(ticks), .last_qty = shown,
                       .leaves_qty = leaves, .flags = 0};
}

/* ev (a REPLACED) also saying that the order rests straight away, showing
 * shown: flag ADDED, no ADDED event after it */
static dtx_event rests(dtx_event ev, int64_t shown)
{
    ev.flags |= DTX_EVF_ADDED;
    ev.last_qty = shown;
    return ev;
}

#define KEPT (DTX_EVF_ON_BOOK | DTX_EVF_PRIORITY_KEPT)
#define LOST DTX_EVF_ON_BOOK

/* Sends the replace r and expects exactly one CANCEL_REJECT with reason. */
static void replace_rejected(dtx_command r, uint16_t reason)
{
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &r, reason);
}

/* Asserts that order id is exactly as it was: ClOrdID, price, quantities. */
static void expect_order(uint64_t id, uint64_t clordid, int64_t ticks, int64_t qty, int64_t leaves,
                         int64_t shown)
{
    dtx_order_view v = fx_order(&F, id);
    cr_assert_eq(v.clordid, clordid, "clordid: want %lu, got %lu", (unsigned long)clordid,
                 (unsigned long)v.clordid);
    cr_assert_eq(v.price, FX_PX(ticks), "price: want %ld ticks, got %ld", (long)ticks,
                 (long)(v.price / FX_TICK));
    cr_assert_eq(v.order_qty, qty, "order_qty: want %ld, got %ld", (long)qty, (long)v.order_qty);
    cr_assert_eq(v.leaves_qty, leaves, "leaves: want %ld, got %ld", (long)leaves, (long)v.leaves_qty);
    cr_assert_eq(v.shown_qty, shown, "shown: want %ld, got %ld", (long)shown, (long)v.shown_qty);
}

/* ---- priority kept --------------------------------------------------------------- */

Test(engine_replace, replace_that_changes_nothing_is_accepted_and_keeps_priority)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    uint64_t y = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    dtx_command r = fx_replace(A, 102, x, 100, 5);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_BUY, FX_PX(100), 5, 5, 0, KEPT));
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){x, y});
}

Test(engine_replace, replace_with_a_null_price_and_the_same_quantity_keeps_priority)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_SELL, 100, 5));
    uint64_t y = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command r = fx_replace_clordid(A, 102, 101, FX_KEEP, 5);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_SELL, FX_PX(100), 5, 5, 0, KEPT));
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){x, y});
}

Test(engine_replace, lower_quantity_at_the_same_price_keeps_priority_and_fills_first)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    uint64_t y = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    dtx_command r = fx_replace(A, 102, x, 100, 4);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_BUY, FX_PX(100), 4, 4, 0, KEPT));
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){x, y});
    expect_order(x, 102, 100, 4, 4, 4);

    /* a later sell meets x first, then y */
    dtx_command s = fx_limit(C, 301, FX_SELL, 100, 6);
    fx_send(&F, s);
    fx_expect_count(&F, 5);
    uint64_t sid = fx_expect_new(&F, 0, &s);
    fx_expect_trade(&F, 1, FX_SELL, 100, 4, 1,
                    (fx_party){.account = A, .order_id = x, .clordid = 102, .order_qty = 4,
                               .leaves_qty = 0, .cum_qty = 4},
                    (fx_party){.account = C, .order_id = sid, .clordid = 301, .order_qty = 6,
                               .leaves_qty = 2, .cum_qty = 4});
    fx_expect_trade(&F, 3, FX_SELL, 100, 2, 2,
                    (fx_party){.account = B, .order_id = y, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2},
                    (fx_party){.account = C, .order_id = sid, .clordid = 301, .order_qty = 6,
                               .leaves_qty = 0, .cum_qty = 6});
}

Test(engine_replace, lower_quantity_with_the_price_repeated_explicitly_keeps_priority)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_SELL, 100, 10));
    uint64_t y = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command r = fx_replace(A, 102, x, 100, 9);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_SELL, FX_PX(100), 9, 9, 0, KEPT));
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){x, y});
}

Test(engine_replace, lower_quantity_of_an_iceberg_takes_hidden_quantity_first_and_keeps_priority)
{
    uint64_t x = fx_rest(&F, fx_iceberg(A, 101, FX_BUY, 100, 10, 4));
    uint64_t y = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 6);
    r.display_qty = 4;
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_BUY, FX_PX(100), 6, 6, 0, KEPT));
    expect_order(x, 102, 100, 6, 6, 4); /* hidden 6 -> 2, shown untouched */
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){x, y});
}

Test(engine_replace, lower_quantity_below_an_icebergs_shown_part_shrinks_it_and_keeps_priority)
{
    uint64_t x = fx_rest(&F, fx_iceberg(A, 101, FX_SELL, 100, 10, 4));
    fx_send(&F, fx_limit(B, 201, FX_BUY, 100, 4)); /* shown part taken, refilled: 4 shown */
    fx_expect_count(&F, 4);
    uint64_t y = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 5));
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 6);
    r.display_qty = 4;
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_SELL, FX_PX(100), 6, 2, 4, KEPT));
    expect_order(x, 102, 100, 6, 2, 2);
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){x, y});
}

Test(engine_replace, lower_quantity_after_a_partial_fill_keeps_priority_and_reports_cum)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_SELL, 100, 10));
    fx_send(&F, fx_limit(B, 201, FX_BUY, 100, 3));
    fx_expect_count(&F, 3);
    uint64_t y = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 5));
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 8);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    /* OrderQty is the new total, filled included: leaves = 8 - 3 */
    fx_expect(&F, 0, replaced(&r, x, 101, FX_SELL, FX_PX(100), 8, 5, 3, KEPT));
    expect_order(x, 102, 100, 8, 5, 5);
    cr_assert_eq(fx_order(&F, x).cum_qty, 3);
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){x, y});
}

/* ---- priority lost ----------------------------------------------------------------- */

Test(engine_replace, higher_quantity_loses_priority_and_goes_to_the_back_of_its_level)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    uint64_t y = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 8);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, rests(replaced(&r, x, 101, FX_BUY, FX_PX(100), 8, 8, 0, LOST), 8));
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){y, x});

    /* a later sell meets y first */
    dtx_command s = fx_limit(C, 301, FX_SELL, 100, 6);
    fx_send(&F, s);
    fx_expect_count(&F, 5);
    uint64_t sid = fx_expect_new(&F, 0, &s);
    fx_expect_trade(&F, 1, FX_SELL, 100, 5, 1,
                    (fx_party){.account = B, .order_id = y, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5},
                    (fx_party){.account = C, .order_id = sid, .clordid = 301, .order_qty = 6,
                               .leaves_qty = 1, .cum_qty = 5});
    fx_expect_trade(&F, 3, FX_SELL, 100, 1, 2,
                    (fx_party){.account = A, .order_id = x, .clordid = 102, .order_qty = 8,
                               .leaves_qty = 7, .cum_qty = 1},
                    (fx_party){.account = C, .order_id = sid, .clordid = 301, .order_qty = 6,
                               .leaves_qty = 0, .cum_qty = 6});
}

Test(engine_replace, higher_quantity_after_a_partial_fill_reports_leaves_as_new_total_minus_cum)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_SELL, 100, 10));
    fx_send(&F, fx_limit(B, 201, FX_BUY, 100, 3));
    fx_expect_count(&F, 3);
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 12);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, rests(replaced(&r, x, 101, FX_SELL, FX_PX(100), 12, 9, 3, LOST), 9));
    cr_assert_eq(fx_order(&F, x).cum_qty, 3);
}

Test(engine_replace, new_price_on_the_same_side_loses_priority_even_when_it_comes_back)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    uint64_t y = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    dtx_command r = fx_replace(A, 102, x, 99, 5);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, rests(replaced(&r, x, 101, FX_BUY, FX_PX(99), 5, 5, 0, LOST), 5));
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){y, x});

    dtx_command r2 = fx_replace(A, 103, x, 100, 4); /* even with a lower quantity */
    fx_send(&F, r2);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, rests(replaced(&r2, x, 102, FX_BUY, FX_PX(100), 4, 4, 0, LOST), 4));
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){y, x});
}

Test(engine_replace, new_price_joins_the_back_of_an_existing_level)
{
    uint64_t y = fx_rest(&F, fx_limit(B, 201, FX_SELL, 105, 5));
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_SELL, 106, 5));
    dtx_command r = fx_replace(A, 102, x, 105, 5);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, rests(replaced(&r, x, 101, FX_SELL, FX_PX(105), 5, 5, 0, LOST), 5));
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){y, x});
    int64_t bid, ask;
    dtx_engine_best(F.e, FX_SEC, &bid, &ask);
    cr_assert_eq(ask, FX_PX(105));
    cr_assert_eq(bid, DTX_PRICE_NULL);
}

Test(engine_replace, new_price_through_the_opposite_side_trades_across_levels_then_rests)
{
    uint64_t s1 = fx_rest(&F, fx_limit(B, 201, FX_SELL, 101, 3));
    uint64_t s2 = fx_rest(&F, fx_limit(C, 301, FX_SELL, 102, 4));
    uint64_t s3 = fx_rest(&F, fx_limit(C, 302, FX_SELL, 103, 4));
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 99, 10));
    dtx_command r = fx_replace(A, 102, x, 102, 10);
    fx_send(&F, r);
    fx_expect_count(&F, 6);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_BUY, FX_PX(102), 10, 10, 0, LOST));
    fx_expect_trade(&F, 1, FX_BUY, 101, 3, 1,
                    (fx_party){.account = B, .order_id = s1, .clordid = 201, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = x, .clordid = 102, .order_qty = 10,
                               .leaves_qty = 7, .cum_qty = 3});
    fx_expect_trade(&F, 3, FX_BUY, 102, 4, 2,
                    (fx_party){.account = C, .order_id = s2, .clordid = 301, .order_qty = 4,
                               .leaves_qty = 0, .cum_qty = 4},
                    (fx_party){.account = A, .order_id = x, .clordid = 102, .order_qty = 10,
                               .leaves_qty = 3, .cum_qty = 7});
    fx_expect(&F, 5, added(A, x, 102, FX_BUY, 102, 3, 3));
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){x});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){s3});
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), FX_PX(102));
}

Test(engine_replace, new_price_that_fills_completely_leaves_no_resting_order)
{
    uint64_t s1 = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 8));
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_SELL, 103, 5));
    dtx_command r = fx_replace(A, 102, x, 100, 5);
    fx_send(&F, r);
    fx_expect_count(&F, 3);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_SELL, FX_PX(100), 5, 5, 0, LOST));
    fx_expect_trade(&F, 1, FX_SELL, 100, 5, 1,
                    (fx_party){.account = B, .order_id = s1, .clordid = 201, .order_qty = 8,
                               .leaves_qty = 3, .cum_qty = 5},
                    (fx_party){.account = A, .order_id = x, .clordid = 102, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
    fx_expect_gone(&F, x);
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
    /* the ClOrdID is free again once the order is gone */
    fx_rest(&F, fx_limit(A, 102, FX_SELL, 105, 1));
}

Test(engine_replace, re_priced_order_meeting_its_own_account_applies_its_stp_mode)
{
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 101, 5));
    dtx_command n = fx_limit(A, 101, FX_BUY, 99, 5);
    n.stp = DTX_STP_CANCEL_NEWEST;
    uint64_t x = fx_rest(&F, n);
    dtx_command r = fx_replace(A, 102, x, 101, 5);
    fx_send(&F, r);
    fx_expect_count(&F, 2);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_BUY, FX_PX(101), 5, 5, 0, LOST));
    fx_expect(&F, 1,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC, .order_id = x,
                          .clordid = 102, .side = FX_BUY, .cancel_reason = DTX_CANCEL_SELF_TRADE,
                          .orig_clordid = 0, .cum_qty = 0, .leaves_qty = 5, .price = FX_PX(101),
                          .order_qty = 5, .flags = 0});
    fx_expect_gone(&F, x);
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){own});
}

Test(engine_replace, display_qty_change_loses_priority)
{
    uint64_t x = fx_rest(&F, fx_iceberg(A, 101, FX_BUY, 100, 10, 2));
    uint64_t y = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 10);
    r.display_qty = 5;
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, rests(replaced(&r, x, 101, FX_BUY, FX_PX(100), 10, 10, 0, LOST), 5));
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){y, x});
    expect_order(x, 102, 100, 10, 10, 5);
}

Test(engine_replace, display_qty_zero_on_an_iceberg_shows_all_and_loses_priority)
{
    uint64_t x = fx_rest(&F, fx_iceberg(A, 101, FX_SELL, 100, 10, 2));
    uint64_t y = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 9); /* DisplayQty 0: all shown */
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, rests(replaced(&r, x, 101, FX_SELL, FX_PX(100), 9, 9, 0, LOST), 9));
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){y, x});
}

Test(engine_replace, display_qty_on_a_plain_order_makes_it_an_iceberg_and_loses_priority)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    uint64_t y = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 10);
    r.display_qty = 3;
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, rests(replaced(&r, x, 101, FX_BUY, FX_PX(100), 10, 10, 0, LOST), 3));
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){y, x});
    cr_assert_eq(fx_order(&F, x).display_qty, 3);
}

/* ---- OrderQty at or below CumQty ------------------------------------------------------- */

Test(engine_replace, quantity_equal_to_cum_cancels_the_order_client_request)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_SELL, 100, 10));
    fx_send(&F, fx_limit(B, 201, FX_BUY, 100, 4));
    fx_expect_count(&F, 3);
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 4);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC, .order_id = x,
                          .clordid = 102, .orig_clordid = 101, .side = FX_SELL,
                          .cancel_reason = DTX_CANCEL_CLIENT_REQUEST, .cum_qty = 4, .leaves_qty = 6,
                          .price = FX_PX(100), .order_qty = 10, .flags = DTX_EVF_ON_BOOK});
    fx_expect_gone(&F, x);
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
}

Test(engine_replace, quantity_below_cum_cancels_the_order_even_with_a_new_price)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_SELL, 100, 10));
    fx_send(&F, fx_limit(B, 201, FX_BUY, 100, 4));
    fx_expect_count(&F, 3);
    dtx_command r = fx_replace(A, 102, x, 90, 2);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC, .order_id = x,
                          .clordid = 102, .orig_clordid = 101, .side = FX_SELL,
                          .cancel_reason = DTX_CANCEL_CLIENT_REQUEST, .cum_qty = 4, .leaves_qty = 6,
                          .price = FX_PX(100), .order_qty = 10, .flags = DTX_EVF_ON_BOOK});
    fx_expect_gone(&F, x);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL); /* nothing traded at 90 */
}

Test(engine_replace, quantity_zero_on_an_unfilled_order_cancels_it_before_the_qty_range_check)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 0);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC, .order_id = x,
                          .clordid = 102, .orig_clordid = 101, .side = FX_BUY,
                          .cancel_reason = DTX_CANCEL_CLIENT_REQUEST, .cum_qty = 0, .leaves_qty = 10,
                          .price = FX_PX(100), .order_qty = 10, .flags = DTX_EVF_ON_BOOK});
    fx_expect_gone(&F, x);
}

Test(engine_replace, quantity_at_cum_cancels_a_pending_stop_without_on_book)
{
    uint64_t s = fx_pend(&F, fx_stop_limit(A, 101, FX_BUY, 120, 121, 5));
    dtx_command r = fx_replace(A, 102, s, FX_KEEP, 0);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC, .order_id = s,
                          .clordid = 102, .orig_clordid = 101, .side = FX_BUY,
                          .cancel_reason = DTX_CANCEL_CLIENT_REQUEST, .cum_qty = 0, .leaves_qty = 5,
                          .price = FX_PX(121), .order_qty = 5, .flags = 0});
    fx_expect_gone(&F, s);
}

/* ---- post-only ------------------------------------------------------------------------- */

Test(engine_replace, post_only_replace_that_would_trade_is_rejected_and_the_order_stays_unchanged)
{
    uint64_t ask = fx_rest(&F, fx_limit(B, 201, FX_SELL, 105, 5));
    uint64_t x = fx_rest(&F, fx_post_only(A, 101, FX_BUY, 100, 5));
    uint64_t y = fx_rest(&F, fx_limit(C, 301, FX_BUY, 100, 5));
    replace_rejected(fx_replace(A, 102, x, 105, 5), DTX_REJ_POST_ONLY_WOULD_TRADE);
    replace_rejected(fx_replace(A, 102, x, 106, 3), DTX_REJ_POST_ONLY_WOULD_TRADE);
    expect_order(x, 101, 100, 5, 5, 5);
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){x, y});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){ask});
    /* the old ClOrdID still names it, the rejected new one names nothing */
    replace_rejected(fx_replace_clordid(A, 103, 102, FX_KEEP, 4), DTX_REJ_UNKNOWN_ORDER);
    dtx_command r = fx_replace_clordid(A, 103, 101, FX_KEEP, 4);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_BUY, FX_PX(100), 4, 4, 0, KEPT));
}

Test(engine_replace, post_only_replace_to_a_price_that_does_not_trade_is_accepted)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 105, 5));
    uint64_t x = fx_rest(&F, fx_post_only(A, 101, FX_BUY, 100, 5));
    dtx_command r = fx_replace(A, 102, x, 104, 5);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, rests(replaced(&r, x, 101, FX_BUY, FX_PX(104), 5, 5, 0, LOST), 5));
    cr_assert_eq(fx_order(&F, x).exec_inst, DTX_EXEC_POST_ONLY);
}

Test(engine_replace, post_only_replace_that_would_meet_the_accounts_own_order_is_rejected)
{
    fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    uint64_t x = fx_rest(&F, fx_post_only(A, 101, FX_SELL, 103, 5));
    replace_rejected(fx_replace(A, 102, x, 100, 5), DTX_REJ_POST_ONLY_WOULD_TRADE);
    expect_order(x, 101, 103, 5, 5, 5);
}

/* ---- ClOrdID chaining ------------------------------------------------------------------ */

Test(engine_replace, after_a_replace_the_new_clordid_names_the_order_and_the_old_one_is_free)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    dtx_command r = fx_replace_clordid(A, 102, 101, FX_KEEP, 9);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_BUY, FX_PX(100), 9, 9, 0, KEPT));
    cr_assert_eq(fx_order(&F, x).clordid, 102);
    cr_assert_eq(fx_order(&F, x).order_id, x, "the OrderID never changes");

    /* the old ClOrdID no longer names it */
    dtx_command c = fx_cancel_clordid(A, 103, 101);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &c, DTX_REJ_UNKNOWN_ORDER);
    replace_rejected(fx_replace_clordid(A, 103, 101, FX_KEEP, 8), DTX_REJ_UNKNOWN_ORDER);

    /* chaining on: 102 -> 103 */
    dtx_command r2 = fx_replace_clordid(A, 103, 102, FX_KEEP, 8);
    fx_send(&F, r2);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r2, x, 102, FX_BUY, FX_PX(100), 8, 8, 0, KEPT));

    /* the freed ClOrdID 101 may be used by a new order */
    uint64_t z = fx_rest(&F, fx_limit(A, 101, FX_BUY, 99, 1));
    cr_assert_neq(z, x);

    /* and the order is cancelled by its latest ClOrdID */
    dtx_command c2 = fx_cancel_clordid(A, 104, 103);
    fx_send(&F, c2);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC, .order_id = x,
                          .clordid = 104, .orig_clordid = 103, .side = FX_BUY,
                          .cancel_reason = DTX_CANCEL_CLIENT_REQUEST, .cum_qty = 0, .leaves_qty = 8,
                          .price = FX_PX(100), .order_qty = 8, .flags = DTX_EVF_ON_BOOK});
}

Test(engine_replace, new_clordid_naming_another_working_order_is_rejected_duplicate)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    fx_rest(&F, fx_limit(A, 102, FX_BUY, 99, 10));
    fx_pend(&F, fx_stop(A, 103, FX_BUY, 120, 1));
    replace_rejected(fx_replace(A, 102, x, FX_KEEP, 9), DTX_REJ_DUPLICATE_CLORDID);
    replace_rejected(fx_replace(A, 103, x, FX_KEEP, 9), DTX_REJ_DUPLICATE_CLORDID);
    expect_order(x, 101, 100, 10, 10, 10);
}

Test(engine_replace, new_clordid_equal_to_the_orders_own_is_rejected_duplicate)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    replace_rejected(fx_replace(A, 101, x, FX_KEEP, 9), DTX_REJ_DUPLICATE_CLORDID);
    expect_order(x, 101, 100, 10, 10, 10);
}

Test(engine_replace, new_clordid_of_another_accounts_working_order_is_accepted)
{
    fx_rest(&F, fx_limit(B, 102, FX_BUY, 99, 10));
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 9);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_BUY, FX_PX(100), 9, 9, 0, KEPT));
}

/* ---- unknown orders ----------------------------------------------------------------------- */

Test(engine_replace, replace_of_an_unknown_order_is_rejected_unknown_order)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    replace_rejected(fx_replace(A, 102, x ^ 0x5a5a5a5a00000000ull, 100, 5), DTX_REJ_UNKNOWN_ORDER);
    replace_rejected(fx_replace(A, 102, x + 1, 100, 5), DTX_REJ_UNKNOWN_ORDER);
    replace_rejected(fx_replace_clordid(A, 102, 999, 100, 5), DTX_REJ_UNKNOWN_ORDER);
    replace_rejected(fx_replace(A, 102, 0xffffffffffffffffull, 100, 5), DTX_REJ_UNKNOWN_ORDER);
    expect_order(x, 101, 100, 10, 10, 10);
}

Test(engine_replace, replace_of_another_accounts_order_is_rejected_unknown_order)
{
    uint64_t x = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 10));
    replace_rejected(fx_replace(A, 102, x, 100, 5), DTX_REJ_UNKNOWN_ORDER);
    replace_rejected(fx_replace_clordid(A, 102, 201, 100, 5), DTX_REJ_UNKNOWN_ORDER);
    expect_order(x, 201, 100, 10, 10, 10);
}

Test(engine_replace, replace_of_a_filled_or_canceled_order_is_rejected_unknown_order)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    fx_send(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    fx_expect_count(&F, 3);
    replace_rejected(fx_replace(A, 102, x, 100, 8), DTX_REJ_UNKNOWN_ORDER);
    uint64_t y = fx_rest(&F, fx_limit(A, 103, FX_BUY, 100, 5));
    fx_send(&F, fx_cancel(A, 104, y));
    fx_expect_count(&F, 1);
    replace_rejected(fx_replace(A, 105, y, 100, 8), DTX_REJ_UNKNOWN_ORDER);
    replace_rejected(fx_replace_clordid(A, 105, 103, 100, 8), DTX_REJ_UNKNOWN_ORDER);
}

Test(engine_replace, security_id_or_side_that_do_not_match_the_order_are_unknown_order)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    dtx_command r = fx_replace(A, 102, x, 100, 5);
    r.security_id = FX_SEC_B;
    replace_rejected(r, DTX_REJ_UNKNOWN_ORDER);
    r = fx_replace(A, 102, x, 100, 5);
    r.side = FX_SELL;
    replace_rejected(r, DTX_REJ_UNKNOWN_ORDER);
    r = fx_replace(A, 102, x, 100, 5);
    r.security_id = FX_SEC;
    r.side = FX_BUY;
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_BUY, FX_PX(100), 5, 5, 0, KEPT));
}

/* ---- reject reasons and their order -------------------------------------------------------- */

Test(engine_replace, invalid_fields_are_rejected_invalid_field_before_the_order_is_looked_up)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    dtx_command r = fx_replace(A, 102, x, 100, 5);
    r.side = 3;
    replace_rejected(r, DTX_REJ_INVALID_FIELD);
    replace_rejected(fx_replace(A, 102, x, 100, -1), DTX_REJ_INVALID_FIELD);
    r = fx_replace(A, 102, x, 100, 5);
    r.display_qty = -1;
    replace_rejected(r, DTX_REJ_INVALID_FIELD);
    r = fx_replace(A, 102, x, 100, 5);
    r.display_qty = 6;
    replace_rejected(r, DTX_REJ_INVALID_FIELD);
    replace_rejected(fx_replace(A, 102, x, 0, 5), DTX_REJ_INVALID_FIELD);
    replace_rejected(fx_replace(A, 102, x, -3, 5), DTX_REJ_INVALID_FIELD);
    /* InvalidField wins over UnknownOrder */
    replace_rejected(fx_replace(A, 102, 777, 0, 5), DTX_REJ_INVALID_FIELD);
    expect_order(x, 101, 100, 10, 10, 10);
}

Test(engine_replace, price_off_the_tick_is_rejected_price_not_on_tick)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    dtx_command r = fx_replace(A, 102, x, 100, 5);
    r.price = FX_PX(101) + 1;
    replace_rejected(r, DTX_REJ_PRICE_NOT_ON_TICK);
    expect_order(x, 101, 100, 10, 10, 10);
}

Test(engine_replace, price_outside_the_instruments_range_is_rejected_price_outside_band)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    replace_rejected(fx_replace(A, 102, x, FX_MAX_TICKS + 1, 5), DTX_REJ_PRICE_OUTSIDE_BAND);
    uint64_t y = fx_rest(&F, fx_limit(A, 201, FX_SELL, 200, 10));
    replace_rejected(fx_replace(A, 202, y, 1000000, 5), DTX_REJ_PRICE_OUTSIDE_BAND);
    expect_order(x, 101, 100, 10, 10, 10);
    expect_order(y, 201, 200, 10, 10, 10);
}

Test(engine_replace, price_below_the_lowest_level_is_rejected_price_outside_band)
{
    dtx_command n = fx_limit(A, 101, FX_BUY, 50, 20);
    n.security_id = FX_SEC_LOT;
    fx_send(&F, n);
    fx_expect_count(&F, 1);
    uint64_t x = fx_expect_new_rested(&F, 0, &n);
    replace_rejected(fx_replace(A, 102, x, FX_LOT_MIN_TICKS - 1, 20), DTX_REJ_PRICE_OUTSIDE_BAND);
}

Test(engine_replace, quantity_out_of_range_is_rejected_qty_out_of_range)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    replace_rejected(fx_replace(A, 102, x, FX_KEEP, FX_MAX_QTY + 1), DTX_REJ_QTY_OUT_OF_RANGE);
    expect_order(x, 101, 100, 10, 10, 10);

    dtx_command n = fx_limit(A, 201, FX_BUY, 50, 20);
    n.security_id = FX_SEC_LOT;
    fx_send(&F, n);
    fx_expect_count(&F, 1);
    uint64_t l = fx_expect_new_rested(&F, 0, &n);
    replace_rejected(fx_replace(A, 202, l, FX_KEEP, 15), DTX_REJ_QTY_OUT_OF_RANGE); /* off lot */
    dtx_command r = fx_replace(A, 202, l, FX_KEEP, 40);
    r.display_qty = 5; /* DisplayQty off lot */
    replace_rejected(r, DTX_REJ_QTY_OUT_OF_RANGE);
    r.display_qty = 10;
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_REPLACED);
    cr_assert_eq(fx_ev(&F, 0)->flags, DTX_EVF_ON_BOOK | DTX_EVF_ADDED);
    cr_assert_eq(fx_ev(&F, 0)->last_qty, 10);
    cr_assert_eq(fx_order(&F, l).shown_qty, 10);
}

Test(engine_replace, first_failure_wins_when_a_replace_has_two_faults)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    fx_rest(&F, fx_limit(A, 500, FX_BUY, 90, 1));
    /* QtyOutOfRange before PriceNotOnTick */
    dtx_command r = fx_replace(A, 102, x, 100, FX_MAX_QTY + 1);
    r.price += 7;
    replace_rejected(r, DTX_REJ_QTY_OUT_OF_RANGE);
    /* PriceNotOnTick before DuplicateClOrdID */
    r = fx_replace(A, 500, x, 100, 5);
    r.price += 7;
    replace_rejected(r, DTX_REJ_PRICE_NOT_ON_TICK);
    /* DuplicateClOrdID before PriceOutsideBand */
    replace_rejected(fx_replace(A, 500, x, FX_MAX_TICKS + 1, 5), DTX_REJ_DUPLICATE_CLORDID);
    /* UnknownOrder before anything that needs the order */
    replace_rejected(fx_replace(A, 500, 777, FX_MAX_TICKS + 1, FX_MAX_QTY + 1), DTX_REJ_UNKNOWN_ORDER);
    /* OrderQty at or below CumQty cancels before QtyOutOfRange / PriceNotOnTick */
    r = fx_replace(A, 103, x, 100, 0);
    r.price += 7;
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_CANCELED);
    cr_assert_eq(fx_ev(&F, 0)->cancel_reason, DTX_CANCEL_CLIENT_REQUEST);
}

/* ---- pending stops ----------------------------------------------------------------------- */

Test(engine_replace, replace_of_a_pending_stop_limit_changes_it_and_keeps_it_pending)
{
    uint64_t s = fx_pend(&F, fx_stop_limit(A, 101, FX_BUY, 120, 121, 5));
    dtx_command r = fx_replace(A, 102, s, FX_KEEP, 3);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    /* lower quantity, same price: PRIORITY_KEPT, never ON_BOOK */
    fx_expect(&F, 0, replaced(&r, s, 101, FX_BUY, FX_PX(121), 3, 3, 0, DTX_EVF_PRIORITY_KEPT));

    dtx_command r2 = fx_replace(A, 103, s, 125, 6);
    fx_send(&F, r2);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r2, s, 102, FX_BUY, FX_PX(125), 6, 6, 0, 0));
    dtx_order_view v = fx_order(&F, s);
    cr_assert_eq(v.pending_stop, 1);
    cr_assert_eq(v.stop_px, FX_PX(120));
    cr_assert_eq(v.price, FX_PX(125));
    cr_assert_eq(v.clordid, 103);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
    /* the stop's earlier ClOrdIDs are free, its latest is not */
    fx_rest(&F, fx_limit(A, 101, FX_BUY, 90, 1));
    fx_rest(&F, fx_limit(A, 102, FX_BUY, 90, 1));
    fx_rejected(&F, fx_limit(A, 103, FX_BUY, 90, 1), DTX_REJ_DUPLICATE_CLORDID);
}

Test(engine_replace, replaced_pending_stop_keeps_its_place_in_the_trigger_order)
{
    uint64_t s1 = fx_pend(&F, fx_stop_limit(A, 101, FX_BUY, 120, 125, 5));
    uint64_t s2 = fx_pend(&F, fx_stop_limit(A, 102, FX_BUY, 120, 125, 5));
    dtx_command r = fx_replace(A, 103, s1, 126, 9); /* higher quantity, new price */
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, s1, 101, FX_BUY, FX_PX(126), 9, 9, 0, 0));
    /* a trade at 120 triggers both: s1 (accepted first) is still first */
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 120, 1));
    fx_send(&F, fx_limit(C, 301, FX_BUY, 120, 1));
    long t1 = fx_find(&F, DTX_EV_TRIGGERED, s1, 0), t2 = fx_find(&F, DTX_EV_TRIGGERED, s2, 0);
    cr_assert(t1 >= 0 && t2 >= 0 && t1 < t2, "want s1 triggered before s2:\n%s", fx_dump(&F));
    cr_assert_eq(fx_ev(&F, (size_t)t1)->price, FX_PX(126));
}

Test(engine_replace, replace_of_a_pending_stop_market_changes_only_its_quantity)
{
    uint64_t s = fx_pend(&F, fx_stop(A, 101, FX_SELL, 90, 5));
    dtx_command r = fx_replace(A, 102, s, FX_KEEP, 7);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, s, 101, FX_SELL, DTX_PRICE_NULL, 7, 7, 0, 0));
    /* a Price or a DisplayQty on a Stop order is InvalidField */
    replace_rejected(fx_replace(A, 103, s, 90, 7), DTX_REJ_INVALID_FIELD);
    dtx_command r2 = fx_replace(A, 103, s, FX_KEEP, 7);
    r2.display_qty = 1;
    replace_rejected(r2, DTX_REJ_INVALID_FIELD);
    cr_assert_eq(fx_order(&F, s).order_qty, 7);
    cr_assert_eq(fx_order(&F, s).clordid, 102);
}

/* ---- expiry -------------------------------------------------------------------------------- */

Test(engine_replace, a_replaced_day_order_keeps_its_expire_time_whether_or_not_it_keeps_priority)
{
    uint64_t x = fx_rest(&F, fx_day(A, 101, FX_BUY, 100, 10));
    uint64_t y = fx_rest(&F, fx_gtd(A, 201, FX_SELL, 110, 10, F.now + 60 * FX_S));
    fx_send(&F, fx_replace(A, 102, x, FX_KEEP, 5)); /* priority kept */
    fx_expect_count(&F, 1);
    fx_send(&F, fx_replace(A, 103, x, 99, 8)); /* re-priced: leaves and comes back */
    fx_expect_count(&F, 1);                      /* REPLACED, flag ADDED */
    fx_send(&F, fx_replace(A, 202, y, 111, 10));
    fx_expect_count(&F, 1);
    fx_time(&F, FX_T0 + 61 * FX_S); /* y's ExpireTime has passed; x's day has not ended */
    fx_expect_count(&F, 1);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC, .order_id = y,
                          .clordid = 202, .side = FX_SELL, .cancel_reason = DTX_CANCEL_EXPIRED,
                          .leaves_qty = 10, .price = FX_PX(111), .order_qty = 10, .flags = DTX_EVF_ON_BOOK});
    fx_time(&F, FX_DAY0 + FX_DAY_NS);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC, .order_id = x,
                          .clordid = 103, .side = FX_BUY, .cancel_reason = DTX_CANCEL_EXPIRED,
                          .leaves_qty = 8, .price = FX_PX(99), .order_qty = 8, .flags = DTX_EVF_ON_BOOK});
}

Test(engine_replace, order_id_names_the_order_when_orig_clordid_names_another)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    uint64_t y = fx_rest(&F, fx_limit(A, 201, FX_BUY, 99, 10));
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 9);
    r.orig_clordid = 201;
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_BUY, FX_PX(100), 9, 9, 0, KEPT));
    cr_assert_eq(fx_order(&F, y).order_qty, 10);
}

Test(engine_replace, quantity_at_cum_cancels_even_when_the_new_clordid_is_a_duplicate)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    fx_rest(&F, fx_limit(A, 201, FX_BUY, 99, 10));
    dtx_command r = fx_replace(A, 201, x, FX_KEEP, 0);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC, .order_id = x,
                          .clordid = 201, .orig_clordid = 101, .side = FX_BUY,
                          .cancel_reason = DTX_CANCEL_CLIENT_REQUEST, .leaves_qty = 10,
                          .price = FX_PX(100), .order_qty = 10, .flags = DTX_EVF_ON_BOOK});
    fx_expect_gone(&F, x);
}

Test(engine_replace, replace_from_another_session_of_the_account_leaves_the_order_with_its_session)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    dtx_command r = fx_replace(A, 102, x, 99, 8);
    r.session = 7;
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    /* the events of an order carry its owner's session: the one that entered it */
    dtx_event w = rests(replaced(&r, x, 101, FX_BUY, FX_PX(99), 8, 8, 0, LOST), 8);
    w.session = A;
    fx_expect(&F, 0, w);
    cr_assert_eq(fx_order(&F, x).session, A);
    fx_send(&F, fx_cod(A, 7));
    fx_expect_count(&F, 0);
    fx_send(&F, fx_cod(A, A));
    fx_expect_count(&F, 1);
    cr_assert_eq(fx_ev(&F, 0)->order_id, x);
    cr_assert_eq(fx_ev(&F, 0)->cancel_reason, DTX_CANCEL_ON_DISCONNECT);
}

/* ---- halted instrument ---------------------------------------------------------------------- */

Test(engine_replace, replace_on_a_halted_instrument_is_rejected_and_cancel_still_works)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 10));
    uint64_t s = fx_pend(&F, fx_stop(A, 102, FX_BUY, 120, 5));
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_HALTED));
    fx_expect_count(&F, 1);
    replace_rejected(fx_replace(A, 103, x, FX_KEEP, 5), DTX_REJ_INSTRUMENT_HALTED);
    replace_rejected(fx_replace(A, 103, x, 101, 10), DTX_REJ_INSTRUMENT_HALTED);
    replace_rejected(fx_replace(A, 103, s, FX_KEEP, 4), DTX_REJ_INSTRUMENT_HALTED);
    /* even a replace that would cancel (qty at cum) is rejected while halted */
    replace_rejected(fx_replace(A, 103, x, FX_KEEP, 0), DTX_REJ_INSTRUMENT_HALTED);
    /* UnknownOrder comes first */
    replace_rejected(fx_replace(A, 103, 777, FX_KEEP, 5), DTX_REJ_UNKNOWN_ORDER);
    expect_order(x, 101, 100, 10, 10, 10);

    fx_send(&F, fx_cancel(A, 104, x));
    fx_expect_count(&F, 1);
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_CANCELED);
    fx_expect_gone(&F, x);

    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_OPEN));
    fx_expect_count(&F, 1);
    dtx_command r = fx_replace(A, 105, s, FX_KEEP, 4);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, s, 102, FX_BUY, DTX_PRICE_NULL, 4, 4, 0, DTX_EVF_PRIORITY_KEPT));
}

/* ---- the gate --------------------------------------------------------------------------------- */

typedef struct gate_log {
    int calls;
    dtx_gate_request last;
    dtx_command last_cmd;
    uint16_t answer;
} gate_log;

static uint16_t gate(void *ctx, const dtx_gate_request *req)
{
    gate_log *g = ctx;
    g->calls++;
    g->last = *req;
    g->last_cmd = *req->cmd;
    return g->answer;
}

Test(engine_replace, gate_sees_the_order_after_the_replace_and_its_reject_leaves_it_unchanged)
{
    fx_send(&F, fx_limit(B, 201, FX_BUY, 100, 3));
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_SELL, 103, 10));
    fx_send(&F, fx_limit(B, 202, FX_BUY, 103, 4));
    fx_expect_count(&F, 3);
    gate_log g = {.answer = DTX_REJ_INSUFFICIENT_MARGIN};
    dtx_engine_set_gate(F.e, gate, &g);
    replace_rejected(fx_replace(A, 102, x, 101, 12), DTX_REJ_INSUFFICIENT_MARGIN);
    cr_assert_eq(g.calls, 1);
    cr_assert_eq(g.last.side, FX_SELL);
    cr_assert_eq(g.last.ord_type, DTX_ORD_LIMIT);
    cr_assert_eq(g.last.price, FX_PX(101));
    cr_assert_eq(g.last.order_qty, 12);
    cr_assert_eq(g.last.leaves_qty, 8);
    cr_assert_eq(g.last.old_leaves, 6);
    cr_assert_eq(g.last.old_price, FX_PX(103));
    cr_assert_eq(g.last_cmd.clordid, 102);
    expect_order(x, 101, 103, 10, 6, 6);

    /* not called when an earlier check fails, nor for a cancel-by-replace */
    replace_rejected(fx_replace(A, 102, x, FX_MAX_TICKS + 1, 12), DTX_REJ_PRICE_OUTSIDE_BAND);
    cr_assert_eq(g.calls, 1);

    g.answer = DTX_REJ_NONE;
    dtx_command r = fx_replace(A, 102, x, FX_KEEP, 9);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_SELL, FX_PX(103), 9, 5, 4, KEPT));
    cr_assert_eq(g.calls, 2);
    fx_send(&F, fx_replace(A, 103, x, FX_KEEP, 4));
    fx_expect_count(&F, 1);
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_CANCELED);
    cr_assert_eq(g.calls, 2);
}

/* ---- REPLACED and the trigger loop -------------------------------------------------------------- */

Test(engine_replace, re_priced_replace_that_trades_runs_the_trigger_loop)
{
    uint64_t stop = fx_pend(&F, fx_stop_limit(C, 301, FX_BUY, 101, 110, 2));
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 101, 1));
    uint64_t more = fx_rest(&F, fx_limit(B, 202, FX_SELL, 102, 5));
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 99, 1));
    dtx_command r = fx_replace(A, 102, x, 101, 1);
    fx_send(&F, r);
    fx_expect(&F, 0, replaced(&r, x, 101, FX_BUY, FX_PX(101), 1, 1, 0, LOST));
    cr_assert_eq(fx_ev(&F, 1)->type, DTX_EV_FILL);
    cr_assert_eq(fx_ev(&F, 2)->type, DTX_EV_FILL);
    fx_expect(&F, 3,
              (dtx_event){.type = DTX_EV_TRIGGERED, .account = C, .security_id = FX_SEC, .order_id = stop,
                          .clordid = 301, .side = FX_BUY, .stop_px = FX_PX(101),
                          .ord_type = DTX_ORD_LIMIT, .price = FX_PX(110)});
    fx_expect_count(&F, 6); /* the stop then takes 2 of `more` */
    fx_expect_gone(&F, x);
    fx_expect_gone(&F, stop);
    cr_assert_eq(fx_order(&F, more).leaves_qty, 3);
}
