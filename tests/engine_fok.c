/*
 * engine_fok.c - fill-or-kill: the fillability walk before NEW (level by level
 * within the limit, displayed quantity of other accounts in time priority, an
 * own-account order met before the quantity refuses, icebergs' hidden quantity
 * counted after the level's queue), the exact fill, and a refusal that emits
 * one REJECT FOKNotFillable and leaves the book as it was
 * (docs/order-semantics.md, "FOK").
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_fok, .init = setup, .fini = teardown);

static dtx_event refill(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side, int64_t ticks,
                        int64_t shown, int64_t leaves)
{
    return (dtx_event){.type = DTX_EV_ADDED, .account = acct, .security_id = FX_SEC, .order_id = id,
                       .clordid = clordid, .side = side, .price = FX_PX(ticks), .last_qty = shown,
                       .leaves_qty = leaves, .flags = DTX_EVF_REFILL};
}

/* A snapshot of both sides of FX_SEC for "the book is unchanged" checks. */
typedef struct snap {
    dtx_order_view bids[64], asks[64];
    size_t nb, na;
} snap;

static void take(snap *s)
{
    memset(s, 0, sizeof *s);
    s->nb = fx_book(&F, FX_SEC, FX_BUY, s->bids, 64);
    s->na = fx_book(&F, FX_SEC, FX_SELL, s->asks, 64);
}

static int same_view(const dtx_order_view *a, const dtx_order_view *b)
{
    return a->order_id == b->order_id && a->clordid == b->clordid && a->account == b->account &&
           a->price == b->price && a->order_qty == b->order_qty && a->leaves_qty == b->leaves_qty &&
           a->cum_qty == b->cum_qty && a->shown_qty == b->shown_qty &&
           a->display_qty == b->display_qty;
}

static void expect_same(const snap *before)
{
    snap now;
    take(&now);
    cr_assert_eq(now.nb, before->nb, "bid count changed:\n%s", fx_dump_book(&F, FX_SEC));
    cr_assert_eq(now.na, before->na, "ask count changed:\n%s", fx_dump_book(&F, FX_SEC));
    for (size_t i = 0; i < now.nb && i < 64; i++)
        cr_assert(same_view(&now.bids[i], &before->bids[i]), "bid %zu changed:\n%s", i,
                  fx_dump_book(&F, FX_SEC));
    for (size_t i = 0; i < now.na && i < 64; i++)
        cr_assert(same_view(&now.asks[i], &before->asks[i]), "ask %zu changed:\n%s", i,
                  fx_dump_book(&F, FX_SEC));
}

Test(engine_fok, fok_exactly_fillable_across_levels_fills_in_full_without_cancel)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 3));
    uint64_t m2 = fx_rest(&F, fx_limit(C, 301, FX_SELL, 101, 2));
    uint64_t m3 = fx_rest(&F, fx_limit(C, 302, FX_SELL, 101, 4));
    dtx_command t = fx_fok(A, 101, FX_BUY, 101, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 5);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 3, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 2, .cum_qty = 3});
    fx_expect_trade(&F, 3, FX_BUY, 101, 2, 2,
                    (fx_party){.account = C, .order_id = m2, .clordid = 301, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
    fx_expect_gone(&F, tid);
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){m3});
}

Test(engine_fok, fok_not_fillable_emits_only_reject_and_leaves_the_book_unchanged)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 3));
    fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 1));
    fx_rest(&F, fx_limit(C, 302, FX_BUY, 90, 1));
    snap before;
    take(&before);
    uint64_t trades_before;
    {
        dtx_engine_stats st;
        dtx_engine_get_stats(F.e, &st);
        trades_before = st.trades;
    }
    fx_rejected(&F, fx_fok(A, 101, FX_BUY, 100, 5), DTX_REJ_FOK_NOT_FILLABLE);
    expect_same(&before);
    dtx_engine_stats st;
    dtx_engine_get_stats(F.e, &st);
    cr_assert_eq(st.trades, trades_before);
    cr_assert_eq(dtx_engine_last_price(F.e, FX_SEC), DTX_PRICE_NULL);
}

Test(engine_fok, fok_counts_only_levels_within_its_limit)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 3));
    fx_rest(&F, fx_limit(B, 202, FX_SELL, 102, 5));
    snap before;
    take(&before);
    fx_rejected(&F, fx_fok(A, 101, FX_BUY, 101, 5), DTX_REJ_FOK_NOT_FILLABLE);
    expect_same(&before);
}

Test(engine_fok, fok_sell_walks_bids_down_to_its_limit)
{
    uint64_t m1 = fx_rest(&F, fx_limit(B, 201, FX_BUY, 100, 2));
    uint64_t m2 = fx_rest(&F, fx_limit(C, 301, FX_BUY, 99, 2));
    dtx_command t = fx_fok(A, 101, FX_SELL, 99, 4);
    fx_send(&F, t);
    fx_expect_count(&F, 5);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_SELL, 100, 2, 1,
                    (fx_party){.account = B, .order_id = m1, .clordid = 201, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 4,
                               .leaves_qty = 2, .cum_qty = 2});
    fx_expect_trade(&F, 3, FX_SELL, 99, 2, 2,
                    (fx_party){.account = C, .order_id = m2, .clordid = 301, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 4,
                               .leaves_qty = 0, .cum_qty = 4});
}

Test(engine_fok, fok_into_an_empty_book_is_rejected_fok_not_fillable)
{
    fx_rejected(&F, fx_fok(A, 101, FX_BUY, 100, 1), DTX_REJ_FOK_NOT_FILLABLE);
}

Test(engine_fok, own_account_order_met_before_the_quantity_refuses_the_fok)
{
    /* B's order alone could fill it, but A's own order comes first. */
    fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 5));
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 10));
    snap before;
    take(&before);
    fx_rejected(&F, fx_fok(A, 101, FX_BUY, 100, 5), DTX_REJ_FOK_NOT_FILLABLE);
    cr_assert_eq(fx_count_type(&F, DTX_EV_CANCELED), 0);
    expect_same(&before);
}

Test(engine_fok, own_account_order_met_partway_refuses_the_fok)
{
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 3));
    fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 1));
    fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 5));
    snap before;
    take(&before);
    fx_rejected(&F, fx_fok(A, 101, FX_BUY, 100, 5), DTX_REJ_FOK_NOT_FILLABLE);
    expect_same(&before);
}

Test(engine_fok, own_account_order_on_a_better_level_refuses_the_fok)
{
    fx_rest(&F, fx_limit(A, 1, FX_SELL, 99, 1));
    fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 10));
    snap before;
    take(&before);
    fx_rejected(&F, fx_fok(A, 101, FX_BUY, 100, 5), DTX_REJ_FOK_NOT_FILLABLE);
    expect_same(&before);
}

Test(engine_fok, own_account_order_behind_the_reached_quantity_does_not_refuse_the_fok)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 5));
    dtx_command t = fx_fok(A, 101, FX_BUY, 100, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 5, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){own});
}

Test(engine_fok, own_account_order_on_a_level_beyond_the_limit_does_not_refuse_the_fok)
{
    uint64_t m = fx_rest(&F, fx_limit(B, 201, FX_SELL, 100, 5));
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 101, 5));
    dtx_command t = fx_fok(A, 101, FX_BUY, 100, 5);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 5, 1,
                    (fx_party){.account = B, .order_id = m, .clordid = 201, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){own});
}

Test(engine_fok, fok_with_only_own_orders_opposite_is_refused_without_self_trade_cancels)
{
    dtx_command own = fx_limit(A, 1, FX_SELL, 100, 5);
    uint64_t oid = fx_rest(&F, own);
    dtx_command t = fx_fok(A, 101, FX_BUY, 100, 5);
    t.stp = DTX_STP_CANCEL_OLDEST;
    fx_rejected(&F, t, DTX_REJ_FOK_NOT_FILLABLE);
    cr_assert_eq(fx_order(&F, oid).leaves_qty, 5);
}

Test(engine_fok, iceberg_hidden_quantity_counts_and_is_traded_after_the_levels_queue)
{
    /* Level 100: B iceberg 10 showing 2, then C 3. FOK 9: walk counts 2 + 3,
     * then B's hidden 8. Matching: B 2 (refill to the back), C 3, B 2 (refill),
     * B 2 (refill). */
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 10, 2));
    uint64_t c = fx_rest(&F, fx_limit(C, 301, FX_SELL, 100, 3));
    dtx_command t = fx_fok(A, 101, FX_BUY, 100, 9);
    fx_send(&F, t);
    fx_expect_count(&F, 12);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 2, 1,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 10,
                               .leaves_qty = 8, .cum_qty = 2},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 9,
                               .leaves_qty = 7, .cum_qty = 2});
    fx_expect(&F, 3, refill(B, ice, 201, FX_SELL, 100, 2, 8));
    fx_expect_trade(&F, 4, FX_BUY, 100, 3, 2,
                    (fx_party){.account = C, .order_id = c, .clordid = 301, .order_qty = 3,
                               .leaves_qty = 0, .cum_qty = 3},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 9,
                               .leaves_qty = 4, .cum_qty = 5});
    fx_expect_trade(&F, 6, FX_BUY, 100, 2, 3,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 10,
                               .leaves_qty = 6, .cum_qty = 4},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 9,
                               .leaves_qty = 2, .cum_qty = 7});
    fx_expect(&F, 8, refill(B, ice, 201, FX_SELL, 100, 2, 6));
    fx_expect_trade(&F, 9, FX_BUY, 100, 2, 4,
                    (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 10,
                               .leaves_qty = 4, .cum_qty = 6},
                    (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 9,
                               .leaves_qty = 0, .cum_qty = 9});
    fx_expect(&F, 11, refill(B, ice, 201, FX_SELL, 100, 2, 4));
    dtx_order_view v = fx_order(&F, ice);
    cr_assert_eq(v.leaves_qty, 4);
    cr_assert_eq(v.shown_qty, 2);
    cr_assert_eq(v.cum_qty, 6);
}

Test(engine_fok, iceberg_hidden_quantity_is_counted_only_after_the_levels_queue)
{
    /* Level 100: B iceberg 10 showing 2, then A's own 1. The hidden 8 would
     * suffice, but the walk meets A's order (after 2) before the hidden part. */
    fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 10, 2));
    fx_rest(&F, fx_limit(A, 1, FX_SELL, 100, 1));
    snap before;
    take(&before);
    fx_rejected(&F, fx_fok(A, 101, FX_BUY, 100, 5), DTX_REJ_FOK_NOT_FILLABLE);
    expect_same(&before);
}

Test(engine_fok, iceberg_hidden_quantity_of_a_better_level_counts_before_the_next_level)
{
    /* Level 100: B iceberg 10 showing 2; level 101: A's own 1. The walk reaches
     * 6 in level 100 (2 shown + 8 hidden) before it gets to 101. */
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 10, 2));
    uint64_t own = fx_rest(&F, fx_limit(A, 1, FX_SELL, 101, 1));
    dtx_command t = fx_fok(A, 101, FX_BUY, 101, 6);
    fx_send(&F, t);
    fx_expect_count(&F, 10);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    for (int k = 0; k < 3; k++) {
        size_t i = 1 + (size_t)k * 3;
        fx_expect_trade(&F, i, FX_BUY, 100, 2, (uint64_t)k + 1,
                        (fx_party){.account = B, .order_id = ice, .clordid = 201, .order_qty = 10,
                                   .leaves_qty = 8 - 2 * k, .cum_qty = 2 + 2 * k},
                        (fx_party){.account = A, .order_id = tid, .clordid = 101, .order_qty = 6,
                                   .leaves_qty = 4 - 2 * k, .cum_qty = 2 + 2 * k});
        fx_expect(&F, i + 2, refill(B, ice, 201, FX_SELL, 100, 2, 8 - 2 * k));
    }
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){ice, own});
}

Test(engine_fok, hidden_quantity_reaching_the_fok_before_an_own_order_on_the_next_level_fills)
{
    /* As above, but the own order sits at the FOK's limit level and the FOK
     * needs only the first level: quantity reached, own order never met. */
    uint64_t ice = fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 4, 1));
    fx_rest(&F, fx_limit(A, 1, FX_SELL, 101, 1));
    dtx_command t = fx_fok(A, 101, FX_BUY, 101, 4);
    fx_send(&F, t);
    /* 4 trades of 1; refills after the first three. */
    fx_expect_count(&F, 1 + 3 * 3 + 2);
    fx_expect_new(&F, 0, &t);
    fx_expect_gone(&F, ice);
}

Test(engine_fok, fok_larger_than_everything_on_the_side_is_refused)
{
    fx_rest(&F, fx_iceberg(B, 201, FX_SELL, 100, 10, 2));
    fx_rest(&F, fx_limit(C, 301, FX_SELL, 101, 3));
    snap before;
    take(&before);
    fx_rejected(&F, fx_fok(A, 101, FX_BUY, 200, 14), DTX_REJ_FOK_NOT_FILLABLE);
    expect_same(&before);
}

Test(engine_fok, fok_reject_does_not_assign_an_order_id_and_frees_its_clordid)
{
    fx_rejected(&F, fx_fok(A, 101, FX_BUY, 100, 1), DTX_REJ_FOK_NOT_FILLABLE);
    cr_assert_eq(fx_ev(&F, 0)->order_id, 0);
    fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 1));
}

Test(engine_fok, fok_with_display_qty_is_rejected_invalid_field)
{
    dtx_command t = fx_fok(A, 101, FX_BUY, 100, 5);
    t.display_qty = 2;
    fx_rejected(&F, t, DTX_REJ_INVALID_FIELD);
}

Test(engine_fok, fok_with_post_only_is_rejected_invalid_field)
{
    dtx_command t = fx_fok(A, 101, FX_BUY, 100, 5);
    t.exec_inst = DTX_EXEC_POST_ONLY;
    fx_rejected(&F, t, DTX_REJ_INVALID_FIELD);
}
