/*
 * engine_cancel.c - OrderCancelRequest: the order is named by OrderID when
 * non-zero, else by (account, OrigClOrdID); it must be a working order of the
 * command's account, and SecurityID/Side when given must match, else
 * CANCEL_REJECT UnknownOrder (InvalidField for a bad side first). Also
 * cancel-on-disconnect (docs/order-semantics.md, "OrderCancelRequest",
 * "Cancel on disconnect").
 */
#include <criterion/criterion.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_cancel, .init = setup, .fini = teardown);

/* CANCELED answering a cancel request c. */
static dtx_event canceled(const dtx_command *c, uint64_t id, uint64_t order_clordid, uint8_t side,
                          int64_t price, int64_t qty, int64_t leaves, int64_t cum, uint8_t flags)
{
    return (dtx_event){.type = DTX_EV_CANCELED, .account = c->account, .session = c->session,
                       .security_id = FX_SEC, .order_id = id, .clordid = c->clordid, .side = side,
                       .cancel_reason = DTX_CANCEL_CLIENT_REQUEST, .orig_clordid = order_clordid,
                       .cum_qty = cum, .leaves_qty = leaves, .price = price, .order_qty = qty,
                       .flags = flags};
}

Test(engine_cancel, cancel_by_order_id_cancels_the_resting_order)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    dtx_command c = fx_cancel(A, 102, id);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, canceled(&c, id, 101, FX_BUY, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
    fx_expect_gone(&F, id);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
}

Test(engine_cancel, cancel_by_orig_clordid_cancels_the_accounts_order)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_SELL, 100, 5));
    dtx_command c = fx_cancel_clordid(A, 102, 101);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, canceled(&c, id, 101, FX_SELL, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
    fx_expect_gone(&F, id);
}

Test(engine_cancel, order_id_takes_precedence_over_orig_clordid)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    uint64_t y = fx_rest(&F, fx_limit(A, 102, FX_BUY, 99, 5));
    dtx_command c = fx_cancel(A, 103, x);
    c.orig_clordid = 102;
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, canceled(&c, x, 101, FX_BUY, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
    cr_assert_eq(fx_order(&F, y).leaves_qty, 5);
}

Test(engine_cancel, cancel_of_a_partially_filled_order_reports_cum_and_the_canceled_quantity)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_SELL, 100, 10));
    fx_send(&F, fx_limit(B, 201, FX_BUY, 100, 4));
    fx_expect_count(&F, 3);
    dtx_command c = fx_cancel(A, 102, id);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, canceled(&c, id, 101, FX_SELL, FX_PX(100), 10, 6, 4, DTX_EVF_ON_BOOK));
}

Test(engine_cancel, cancel_of_an_iceberg_cancels_its_hidden_quantity_too)
{
    uint64_t id = fx_rest(&F, fx_iceberg(A, 101, FX_SELL, 100, 10, 2));
    dtx_command c = fx_cancel(A, 102, id);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, canceled(&c, id, 101, FX_SELL, FX_PX(100), 10, 10, 0, DTX_EVF_ON_BOOK));
}

Test(engine_cancel, cancel_of_a_pending_stop_has_no_on_book_flag_and_a_null_price)
{
    uint64_t id = fx_pend(&F, fx_stop(A, 101, FX_BUY, 120, 5));
    dtx_command c = fx_cancel(A, 102, id);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, canceled(&c, id, 101, FX_BUY, DTX_PRICE_NULL, 5, 5, 0, 0));
    fx_expect_gone(&F, id);
}

Test(engine_cancel, cancel_of_a_pending_stop_limit_reports_its_limit_price)
{
    uint64_t id = fx_pend(&F, fx_stop_limit(A, 101, FX_SELL, 90, 88, 5));
    dtx_command c = fx_cancel_clordid(A, 102, 101);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, canceled(&c, id, 101, FX_SELL, FX_PX(88), 5, 5, 0, 0));
}

Test(engine_cancel, cancel_with_matching_security_id_and_side_is_accepted)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    dtx_command c = fx_cancel(A, 102, id);
    c.security_id = FX_SEC;
    c.side = FX_BUY;
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, canceled(&c, id, 101, FX_BUY, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
}

Test(engine_cancel, unknown_order_id_is_rejected_unknown_order)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    dtx_command c = fx_cancel(A, 102, id ^ 0x5a5a5a5a00000000ull);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &c, DTX_REJ_UNKNOWN_ORDER);
    cr_assert_eq(fx_order(&F, id).leaves_qty, 5);
}

Test(engine_cancel, unknown_orig_clordid_is_rejected_unknown_order)
{
    fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    dtx_command c = fx_cancel_clordid(A, 102, 999);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &c, DTX_REJ_UNKNOWN_ORDER);
}

Test(engine_cancel, cancel_naming_neither_order_id_nor_a_known_clordid_is_rejected_unknown_order)
{
    dtx_command c = fx_cancel(A, 102, 0);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &c, DTX_REJ_UNKNOWN_ORDER);
}

Test(engine_cancel, another_accounts_order_id_is_rejected_unknown_order)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    dtx_command c = fx_cancel(B, 201, id);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &c, DTX_REJ_UNKNOWN_ORDER);
    cr_assert_eq(fx_order(&F, id).leaves_qty, 5);
}

Test(engine_cancel, another_accounts_clordid_is_rejected_unknown_order)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    dtx_command c = fx_cancel_clordid(B, 201, 101);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &c, DTX_REJ_UNKNOWN_ORDER);
    cr_assert_eq(fx_order(&F, id).leaves_qty, 5);
}

Test(engine_cancel, same_clordid_in_two_accounts_names_each_accounts_own_order)
{
    uint64_t a = fx_rest(&F, fx_limit(A, 7, FX_BUY, 100, 5));
    uint64_t b = fx_rest(&F, fx_limit(B, 7, FX_BUY, 99, 3));
    dtx_command c = fx_cancel_clordid(B, 8, 7);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, canceled(&c, b, 7, FX_BUY, FX_PX(99), 3, 3, 0, DTX_EVF_ON_BOOK));
    cr_assert_eq(fx_order(&F, a).leaves_qty, 5);
}

Test(engine_cancel, security_id_mismatch_is_rejected_unknown_order)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    dtx_command c = fx_cancel(A, 102, id);
    c.security_id = FX_SEC_B;
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &c, DTX_REJ_UNKNOWN_ORDER);
    cr_assert_eq(fx_order(&F, id).leaves_qty, 5);
}

Test(engine_cancel, unconfigured_security_id_is_rejected_unknown_order)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    dtx_command c = fx_cancel_clordid(A, 102, 101);
    c.security_id = FX_SEC_UNKNOWN;
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &c, DTX_REJ_UNKNOWN_ORDER);
    cr_assert_eq(fx_order(&F, id).leaves_qty, 5);
}

Test(engine_cancel, side_mismatch_is_rejected_unknown_order)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    dtx_command c = fx_cancel_clordid(A, 102, 101);
    c.side = FX_SELL;
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &c, DTX_REJ_UNKNOWN_ORDER);
    cr_assert_eq(fx_order(&F, id).leaves_qty, 5);
}

Test(engine_cancel, invalid_side_is_rejected_invalid_field_before_the_order_is_looked_up)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    dtx_command c = fx_cancel(A, 102, id);
    c.side = 3;
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &c, DTX_REJ_INVALID_FIELD);
    dtx_command u = fx_cancel(A, 103, 0);
    u.orig_clordid = 999;
    u.side = 7;
    fx_send(&F, u);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &u, DTX_REJ_INVALID_FIELD);
    cr_assert_eq(fx_order(&F, id).leaves_qty, 5);
}

Test(engine_cancel, cancel_of_an_already_canceled_order_is_rejected_unknown_order)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    fx_send(&F, fx_cancel(A, 102, id));
    fx_expect_count(&F, 1);
    dtx_command again = fx_cancel(A, 103, id);
    fx_send(&F, again);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &again, DTX_REJ_UNKNOWN_ORDER);
    dtx_command by_cl = fx_cancel_clordid(A, 104, 101);
    fx_send(&F, by_cl);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &by_cl, DTX_REJ_UNKNOWN_ORDER);
}

Test(engine_cancel, cancel_of_a_filled_order_is_rejected_unknown_order)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_SELL, 100, 5));
    fx_send(&F, fx_limit(B, 201, FX_BUY, 100, 5));
    fx_expect_count(&F, 3);
    dtx_command c = fx_cancel(A, 102, id);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &c, DTX_REJ_UNKNOWN_ORDER);
}

Test(engine_cancel, canceled_orders_clordid_can_be_used_again)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    fx_send(&F, fx_cancel(A, 102, id));
    uint64_t again = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    cr_assert_neq(again, id);
}

Test(engine_cancel, canceled_order_leaves_the_rest_of_its_level_in_order)
{
    uint64_t o1 = fx_rest(&F, fx_limit(B, 1, FX_BUY, 100, 1));
    uint64_t o2 = fx_rest(&F, fx_limit(A, 2, FX_BUY, 100, 1));
    uint64_t o3 = fx_rest(&F, fx_limit(C, 3, FX_BUY, 100, 1));
    fx_send(&F, fx_cancel(A, 4, o2));
    fx_expect_count(&F, 1);
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){o1, o3});
}

Test(engine_cancel, cancel_of_the_last_order_at_the_best_price_moves_the_best)
{
    uint64_t best = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 1));
    fx_rest(&F, fx_limit(A, 2, FX_SELL, 103, 1));
    fx_send(&F, fx_cancel(A, 3, best));
    int64_t bid, ask;
    dtx_engine_best(F.e, FX_SEC, &bid, &ask);
    cr_assert_eq(ask, FX_PX(103));
    cr_assert_eq(bid, DTX_PRICE_NULL);
}

/* ---- cancel on disconnect --------------------------------------------------------------- */

static dtx_event cod_cancel(uint32_t acct, uint16_t session, uint32_t sec, uint64_t id,
                            uint64_t clordid, uint8_t side, int64_t price, int64_t qty, uint8_t flags)
{
    return (dtx_event){.type = DTX_EV_CANCELED, .account = acct, .session = session,
                       .security_id = sec, .order_id = id, .clordid = clordid, .side = side,
                       .cancel_reason = DTX_CANCEL_ON_DISCONNECT, .orig_clordid = 0, .cum_qty = 0,
                       .leaves_qty = qty, .price = price, .order_qty = qty, .flags = flags};
}

Test(engine_cancel, cancel_on_disconnect_cancels_only_the_sessions_orders_in_mass_cancel_order)
{
    /* Account A trades through sessions 1 and 5; only session 5 disconnects. */
    dtx_command s1 = fx_limit(A, 1, FX_BUY, 100, 1);
    uint64_t keep = fx_rest(&F, s1);
    dtx_command b_other = fx_limit(A, 2, FX_BUY, 101, 1);
    b_other.security_id = FX_SEC_B;
    b_other.session = 5;
    uint64_t o_b = fx_rest(&F, b_other);
    dtx_command bid_lo = fx_limit(A, 3, FX_BUY, 99, 1);
    bid_lo.session = 5;
    uint64_t o_bid_lo = fx_rest(&F, bid_lo);
    dtx_command bid_hi = fx_limit(A, 4, FX_BUY, 100, 1);
    bid_hi.session = 5;
    uint64_t o_bid_hi = fx_rest(&F, bid_hi);
    dtx_command ask = fx_limit(A, 5, FX_SELL, 110, 1);
    ask.session = 5;
    uint64_t o_ask = fx_rest(&F, ask);
    dtx_command stop = fx_stop(A, 6, FX_BUY, 120, 1);
    stop.session = 5;
    uint64_t o_stop = fx_pend(&F, stop);
    dtx_command other = fx_limit(B, 7, FX_BUY, 100, 1);
    other.session = 5; /* another account on a session numbered 5 */
    uint64_t o_other = fx_rest(&F, other);

    fx_send(&F, fx_cod(A, 5));
    fx_expect_count(&F, 5);
    fx_expect(&F, 0, cod_cancel(A, 5, FX_SEC, o_bid_hi, 4, FX_BUY, FX_PX(100), 1, DTX_EVF_ON_BOOK));
    fx_expect(&F, 1, cod_cancel(A, 5, FX_SEC, o_bid_lo, 3, FX_BUY, FX_PX(99), 1, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, cod_cancel(A, 5, FX_SEC, o_ask, 5, FX_SELL, FX_PX(110), 1, DTX_EVF_ON_BOOK));
    fx_expect(&F, 3, cod_cancel(A, 5, FX_SEC, o_stop, 6, FX_BUY, DTX_PRICE_NULL, 1, 0));
    fx_expect(&F, 4,
              cod_cancel(A, 5, FX_SEC_B, o_b, 2, FX_BUY, FX_PX(101), 1, DTX_EVF_ON_BOOK));
    cr_assert_eq(fx_order(&F, keep).leaves_qty, 1);
    cr_assert_eq(fx_order(&F, o_other).leaves_qty, 1);
}

Test(engine_cancel, cancel_on_disconnect_with_nothing_working_emits_nothing)
{
    fx_rest(&F, fx_limit(B, 1, FX_BUY, 100, 1));
    fx_send(&F, fx_cod(A, A));
    fx_expect_count(&F, 0);
}
