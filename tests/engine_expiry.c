/*
 * engine_expiry.c - Day and GTD orders expire on a Time command whose ts has
 * reached their expire time: CANCELED reason Expired, earliest expire time
 * first, earliest accepted first among equals; a Day order expires at the
 * first day boundary (day_offset_ns past UTC midnight) after the command that
 * entered it; nothing is emitted when nothing expires; expiry happens only on
 * a Time command; GTD with an ExpireTime at or before the command's ts is
 * InvalidField (docs/order-semantics.md, "Time" and check 1).
 */
#include <criterion/criterion.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_expiry, .init = setup, .fini = teardown);

#define NEXT_MIDNIGHT (FX_DAY0 + FX_DAY_NS)

static dtx_event expired(uint32_t acct, uint64_t id, uint64_t clordid, uint8_t side, int64_t price,
                         int64_t qty, int64_t leaves, int64_t cum, uint8_t flags)
{
    return (dtx_event){.type = DTX_EV_CANCELED, .account = acct, .security_id = FX_SEC,
                       .order_id = id, .clordid = clordid, .side = side,
                       .cancel_reason = DTX_CANCEL_EXPIRED, .orig_clordid = 0, .cum_qty = cum,
                       .leaves_qty = leaves, .price = price, .order_qty = qty, .flags = flags};
}

Test(engine_expiry, day_order_expires_at_the_next_day_boundary_and_not_before)
{
    uint64_t id = fx_rest(&F, fx_day(A, 101, FX_BUY, 100, 5));
    fx_time(&F, NEXT_MIDNIGHT - 1);
    fx_expect_count(&F, 0);
    cr_assert_eq(fx_order(&F, id).leaves_qty, 5);
    fx_time(&F, NEXT_MIDNIGHT);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, expired(A, id, 101, FX_BUY, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
    fx_expect_gone(&F, id);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
}

Test(engine_expiry, gtd_order_expires_when_the_time_reaches_its_expire_time)
{
    uint64_t exp = FX_T0 + 10 * FX_S;
    uint64_t id = fx_rest(&F, fx_gtd(A, 101, FX_SELL, 100, 5, exp));
    fx_time(&F, exp - 1);
    fx_expect_count(&F, 0);
    fx_time(&F, exp);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, expired(A, id, 101, FX_SELL, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
    fx_expect_gone(&F, id);
}

Test(engine_expiry, time_well_past_the_expire_time_expires_the_order_once)
{
    uint64_t id = fx_rest(&F, fx_gtd(A, 101, FX_SELL, 100, 5, FX_T0 + FX_S));
    fx_time(&F, FX_T0 + 3 * FX_DAY_NS);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, expired(A, id, 101, FX_SELL, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
    fx_time(&F, FX_T0 + 4 * FX_DAY_NS);
    fx_expect_count(&F, 0);
}

Test(engine_expiry, orders_expire_earliest_expire_time_first_then_earliest_accepted)
{
    uint64_t a = fx_rest(&F, fx_gtd(A, 1, FX_BUY, 100, 1, FX_T0 + 30 * FX_S));
    uint64_t b = fx_rest(&F, fx_gtd(B, 2, FX_BUY, 101, 1, FX_T0 + 20 * FX_S));
    uint64_t c = fx_rest(&F, fx_gtd(C, 3, FX_SELL, 200, 1, FX_T0 + 20 * FX_S));
    uint64_t d = fx_rest(&F, fx_gtd(A, 4, FX_SELL, 201, 1, FX_T0 + 10 * FX_S));
    uint64_t keep = fx_rest(&F, fx_gtd(A, 5, FX_SELL, 202, 1, FX_T0 + 50 * FX_S));
    fx_time(&F, FX_T0 + 40 * FX_S);
    fx_expect_count(&F, 4);
    fx_expect(&F, 0, expired(A, d, 4, FX_SELL, FX_PX(201), 1, 1, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 1, expired(B, b, 2, FX_BUY, FX_PX(101), 1, 1, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, expired(C, c, 3, FX_SELL, FX_PX(200), 1, 1, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 3, expired(A, a, 1, FX_BUY, FX_PX(100), 1, 1, 0, DTX_EVF_ON_BOOK));
    cr_assert_eq(fx_order(&F, keep).leaves_qty, 1);
}

Test(engine_expiry, day_and_gtd_orders_share_one_expiry_order)
{
    uint64_t day = fx_rest(&F, fx_day(A, 1, FX_BUY, 100, 1)); /* expires at NEXT_MIDNIGHT */
    uint64_t g1 = fx_rest(&F, fx_gtd(A, 2, FX_BUY, 99, 1, NEXT_MIDNIGHT));
    uint64_t g0 = fx_rest(&F, fx_gtd(A, 3, FX_BUY, 98, 1, NEXT_MIDNIGHT - 1));
    fx_time(&F, NEXT_MIDNIGHT);
    fx_expect_count(&F, 3);
    fx_expect(&F, 0, expired(A, g0, 3, FX_BUY, FX_PX(98), 1, 1, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 1, expired(A, day, 1, FX_BUY, FX_PX(100), 1, 1, 0, DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, expired(A, g1, 2, FX_BUY, FX_PX(99), 1, 1, 0, DTX_EVF_ON_BOOK));
}

Test(engine_expiry, day_order_entered_exactly_on_a_boundary_expires_at_the_following_one)
{
    fx_set_now(&F, NEXT_MIDNIGHT);
    uint64_t id = fx_rest(&F, fx_day(A, 101, FX_BUY, 100, 5));
    fx_time(&F, NEXT_MIDNIGHT + FX_DAY_NS - 1);
    fx_expect_count(&F, 0);
    fx_time(&F, NEXT_MIDNIGHT + FX_DAY_NS);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, expired(A, id, 101, FX_BUY, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
}

Test(engine_expiry, day_boundary_is_day_offset_past_utc_midnight)
{
    fx_fini(&F);
    fx_opts o = {.day_offset_ns = 8 * 3600 * FX_S};
    fx_init(&F, &o);
    /* Entered at 01:00 UTC: expires at 08:00 the same day. */
    uint64_t early = fx_rest(&F, fx_day(A, 1, FX_BUY, 100, 1));
    fx_time(&F, FX_DAY0 + 8 * 3600 * FX_S - 1);
    fx_expect_count(&F, 0);
    fx_time(&F, FX_DAY0 + 8 * 3600 * FX_S);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, expired(A, early, 1, FX_BUY, FX_PX(100), 1, 1, 0, DTX_EVF_ON_BOOK));
    /* Entered at 09:00 UTC: expires at 08:00 the next day. */
    fx_set_now(&F, FX_DAY0 + 9 * 3600 * FX_S);
    uint64_t late = fx_rest(&F, fx_day(A, 2, FX_BUY, 100, 1));
    fx_time(&F, NEXT_MIDNIGHT + 8 * 3600 * FX_S - 1);
    fx_expect_count(&F, 0);
    fx_time(&F, NEXT_MIDNIGHT + 8 * 3600 * FX_S);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, expired(A, late, 2, FX_BUY, FX_PX(100), 1, 1, 0, DTX_EVF_ON_BOOK));
}

Test(engine_expiry, partially_filled_order_expires_with_its_cum_and_open_quantity)
{
    uint64_t id = fx_rest(&F, fx_day(A, 101, FX_SELL, 100, 5));
    fx_send(&F, fx_limit(B, 201, FX_BUY, 100, 2));
    fx_expect_count(&F, 3);
    fx_time(&F, NEXT_MIDNIGHT);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, expired(A, id, 101, FX_SELL, FX_PX(100), 5, 3, 2, DTX_EVF_ON_BOOK));
}

Test(engine_expiry, expired_iceberg_reports_its_whole_open_quantity)
{
    dtx_command c = fx_gtd(A, 101, FX_SELL, 100, 10, FX_T0 + FX_S);
    c.display_qty = 3;
    uint64_t ice = fx_rest(&F, c);
    fx_time(&F, FX_T0 + FX_S);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, expired(A, ice, 101, FX_SELL, FX_PX(100), 10, 10, 0, DTX_EVF_ON_BOOK));
}

Test(engine_expiry, gtc_orders_never_expire)
{
    uint64_t id = fx_rest(&F, fx_limit(A, 101, FX_BUY, 100, 5));
    fx_time(&F, FX_T0 + 400 * FX_DAY_NS);
    fx_expect_count(&F, 0);
    cr_assert_eq(fx_order(&F, id).leaves_qty, 5);
}

Test(engine_expiry, time_with_nothing_to_expire_emits_nothing)
{
    fx_time(&F, FX_T0 + FX_DAY_NS);
    fx_expect_count(&F, 0);
    cr_assert_eq(F.n, 0);
}

Test(engine_expiry, canceled_and_filled_timed_orders_do_not_expire_later)
{
    uint64_t a = fx_rest(&F, fx_day(A, 1, FX_BUY, 100, 5));
    fx_rest(&F, fx_gtd(A, 2, FX_SELL, 110, 5, FX_T0 + FX_S));
    fx_send(&F, fx_cancel(A, 3, a));
    fx_expect_count(&F, 1);
    fx_send(&F, fx_limit(B, 201, FX_BUY, 110, 5));
    fx_expect_count(&F, 3);
    fx_time(&F, NEXT_MIDNIGHT + FX_DAY_NS);
    fx_expect_count(&F, 0);
}

Test(engine_expiry, expiry_happens_only_on_a_time_command)
{
    /* Past its expire time but no Time command yet: the GTD order still rests
     * and trades. */
    uint64_t exp = FX_T0 + FX_S;
    uint64_t id = fx_rest(&F, fx_gtd(A, 101, FX_SELL, 100, 5, exp));
    fx_set_now(&F, exp + 5 * FX_S);
    dtx_command t = fx_limit(B, 201, FX_BUY, 100, 2);
    fx_send(&F, t);
    fx_expect_count(&F, 3);
    uint64_t tid = fx_expect_new(&F, 0, &t);
    fx_expect_trade(&F, 1, FX_BUY, 100, 2, 1,
                    (fx_party){.account = A, .order_id = id, .clordid = 101, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2},
                    (fx_party){.account = B, .order_id = tid, .clordid = 201, .order_qty = 2,
                               .leaves_qty = 0, .cum_qty = 2});
    fx_time(&F, exp + 6 * FX_S);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, expired(A, id, 101, FX_SELL, FX_PX(100), 5, 3, 2, DTX_EVF_ON_BOOK));
}

Test(engine_expiry, pending_gtd_stop_expires_without_the_on_book_flag)
{
    uint64_t exp = FX_T0 + FX_S;
    dtx_command c = fx_stop(A, 101, FX_BUY, 150, 5);
    c.tif = DTX_TIF_GTD;
    c.expire_time = exp;
    uint64_t id = fx_pend(&F, c);
    fx_time(&F, exp);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, expired(A, id, 101, FX_BUY, DTX_PRICE_NULL, 5, 5, 0, 0));
    fx_expect_gone(&F, id);
}

Test(engine_expiry, pending_day_stop_limit_expires_with_its_price)
{
    dtx_command c = fx_stop_limit(A, 101, FX_SELL, 90, 89, 5);
    c.tif = DTX_TIF_DAY;
    uint64_t id = fx_pend(&F, c);
    fx_time(&F, NEXT_MIDNIGHT);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, expired(A, id, 101, FX_SELL, FX_PX(89), 5, 5, 0, 0));
}

Test(engine_expiry, expired_clordid_can_be_used_again)
{
    fx_rest(&F, fx_gtd(A, 101, FX_SELL, 100, 5, FX_T0 + FX_S));
    fx_time(&F, FX_T0 + FX_S);
    fx_expect_count(&F, 1);
    fx_rest(&F, fx_limit(A, 101, FX_SELL, 100, 5));
}

Test(engine_expiry, expiry_events_carry_the_time_commands_seq_and_ts)
{
    fx_rest(&F, fx_gtd(A, 101, FX_SELL, 100, 5, FX_T0 + FX_S));
    fx_time(&F, FX_T0 + 2 * FX_S);
    fx_expect_count(&F, 1);
    cr_assert_eq(fx_ev(&F, 0)->seq, 2);
    cr_assert_eq(fx_ev(&F, 0)->ts, FX_T0 + 2 * FX_S);
    cr_assert_eq(fx_ev(&F, 0)->account, A);
    cr_assert_eq(fx_ev(&F, 0)->session, A);
}

Test(engine_expiry, gtd_with_expire_time_equal_to_the_commands_ts_is_rejected_invalid_field)
{
    fx_rejected(&F, fx_gtd(A, 101, FX_BUY, 100, 5, FX_T0), DTX_REJ_INVALID_FIELD);
}

Test(engine_expiry, gtd_with_an_expire_time_in_the_past_is_rejected_invalid_field)
{
    fx_rejected(&F, fx_gtd(A, 101, FX_BUY, 100, 5, FX_T0 - FX_S), DTX_REJ_INVALID_FIELD);
}

Test(engine_expiry, gtd_with_expire_time_zero_is_rejected_invalid_field)
{
    fx_rejected(&F, fx_gtd(A, 101, FX_BUY, 100, 5, 0), DTX_REJ_INVALID_FIELD);
}

Test(engine_expiry, gtd_expiring_one_nanosecond_after_the_command_is_accepted)
{
    fx_rest(&F, fx_gtd(A, 101, FX_BUY, 100, 5, FX_T0 + 1));
}

Test(engine_expiry, expire_time_on_a_gtc_or_day_order_is_rejected_invalid_field)
{
    dtx_command c = fx_limit(A, 101, FX_BUY, 100, 5);
    c.expire_time = FX_T0 + FX_S;
    fx_rejected(&F, c, DTX_REJ_INVALID_FIELD);
    dtx_command d = fx_day(A, 102, FX_BUY, 100, 5);
    d.expire_time = FX_T0 + FX_S;
    fx_rejected(&F, d, DTX_REJ_INVALID_FIELD);
}
