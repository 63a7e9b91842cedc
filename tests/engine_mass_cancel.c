/*
 * engine_mass_cancel.c - OrderMassCancelRequest and the operator's instrument
 * status commands (docs/order-semantics.md "OrderMassCancelRequest",
 * "Instrument status"). A mass cancel takes every working order of the
 * account that passes its filters (instrument, side), pending stops included,
 * in the documented order, then reports how many; other accounts are never
 * touched. Halted rejects new orders and replaces but lets cancels through;
 * Closed also cancels every working order of the instrument; Open resumes.
 */
#include <criterion/criterion.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_mass_cancel, .init = setup, .fini = teardown);

/* An unsolicited CANCELED of a working order (mass cancel, close). */
static dtx_event gone(uint8_t reason, uint32_t acct, uint32_t sec, uint64_t id, uint64_t clordid, uint8_t side,
                      int64_t price, int64_t qty, int64_t leaves, int64_t cum, uint8_t flags)
{
    return (dtx_event){.type = DTX_EV_CANCELED, .account = acct, .security_id = sec, .order_id = id,
                       .clordid = clordid, .side = side, .cancel_reason = reason, .orig_clordid = 0,
                       .cum_qty = cum, .leaves_qty = leaves, .price = price, .order_qty = qty,
                       .flags = flags};
}

static dtx_event report(const dtx_command *m, uint64_t total)
{
    return (dtx_event){.type = DTX_EV_MASS_CANCEL_REPORT, .account = m->account, .session = m->session,
                       .security_id = m->security_id, .clordid = m->clordid, .side = m->side,
                       .total_affected = total};
}

static dtx_event status_ev(uint32_t sec, uint8_t status)
{
    return (dtx_event){.type = DTX_EV_STATUS, .security_id = sec, .status = status};
}

static dtx_command on(dtx_command c, uint32_t security_id)
{
    c.security_id = security_id;
    return c;
}

static uint32_t working(void)
{
    dtx_engine_stats st;
    dtx_engine_get_stats(F.e, &st);
    return st.working_orders;
}

/* The orders of populate(), by name. */
typedef struct orders {
    uint64_t a1, a2, a3, a4, a5, a6, a7, a8, a9, a10; /* account A */
    uint64_t b1, b2, b3;                               /* account B */
} orders;

/*
 * FX_SEC:     bids a2 101x5, b1 101x5, a1 100x5; asks a3 105x5 (2 filled by C),
 *             b2 105x5, a4 106 iceberg 10/2; buy stops a6 115 (limit 116),
 *             b3 118, a5 120; sell stop a7 90 (Day)
 * FX_SEC_LOT: bid a8 50x10
 * FX_SEC_B:   bid a10 99x5 (Day), ask a9 200x5
 */
static orders populate(void)
{
    orders o;
    o.a1 = fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    o.a2 = fx_rest(&F, fx_limit(A, 2, FX_BUY, 101, 5));
    o.b1 = fx_rest(&F, fx_limit(B, 1, FX_BUY, 101, 5));
    o.a3 = fx_rest(&F, fx_limit(A, 3, FX_SELL, 105, 5));
    o.b2 = fx_rest(&F, fx_limit(B, 2, FX_SELL, 105, 5));
    o.a4 = fx_rest(&F, fx_iceberg(A, 4, FX_SELL, 106, 10, 2));
    fx_send(&F, fx_ioc(C, 1, FX_BUY, 105, 2));
    fx_expect_count(&F, 3); /* NEW, 2 FILL: takes 2 of a3, last price 105 */
    o.a5 = fx_pend(&F, fx_stop(A, 5, FX_BUY, 120, 5));
    o.a6 = fx_pend(&F, fx_stop_limit(A, 6, FX_BUY, 115, 116, 5));
    dtx_command s = fx_stop(A, 7, FX_SELL, 90, 5);
    s.tif = DTX_TIF_DAY;
    o.a7 = fx_pend(&F, s);
    o.b3 = fx_pend(&F, fx_stop(B, 3, FX_BUY, 118, 5));
    o.a8 = fx_rest(&F, on(fx_limit(A, 8, FX_BUY, 50, 10), FX_SEC_LOT));
    o.a9 = fx_rest(&F, on(fx_limit(A, 9, FX_SELL, 200, 5), FX_SEC_B));
    o.a10 = fx_rest(&F, on(fx_day(A, 10, FX_BUY, 99, 5), FX_SEC_B));
    cr_assert_eq(working(), 13);
    return o;
}

/* Expects the CANCELED events of populate()'s account-A orders selected by
 * sec (0 all) and side (0 both), from event index *i on, in the documented
 * order; reason and flags as given. Returns how many. */
static uint64_t expect_a_canceled(const orders *o, uint8_t reason, uint32_t sec, uint8_t side, size_t *i)
{
    uint64_t n = 0;
#define EXPECT_IF(s_, sd_, ...)                                                                   \
    do {                                                                                           \
        if ((!sec || sec == (s_)) && (!side || side == (sd_))) {                                   \
            fx_expect(&F, (*i)++, gone(reason, A, (s_), __VA_ARGS__));                             \
            n++;                                                                                   \
        }                                                                                          \
    } while (0)
    const uint8_t ON = DTX_EVF_ON_BOOK;
    /* FX_SEC: bids best first, asks best first, buy stops, sell stops */
    EXPECT_IF(FX_SEC, FX_BUY, o->a2, 2, FX_BUY, FX_PX(101), 5, 5, 0, ON);
    EXPECT_IF(FX_SEC, FX_BUY, o->a1, 1, FX_BUY, FX_PX(100), 5, 5, 0, ON);
    EXPECT_IF(FX_SEC, FX_SELL, o->a3, 3, FX_SELL, FX_PX(105), 5, 3, 2, ON);
    EXPECT_IF(FX_SEC, FX_SELL, o->a4, 4, FX_SELL, FX_PX(106), 10, 10, 0, ON);
    EXPECT_IF(FX_SEC, FX_BUY, o->a6, 6, FX_BUY, FX_PX(116), 5, 5, 0, 0);
    EXPECT_IF(FX_SEC, FX_BUY, o->a5, 5, FX_BUY, DTX_PRICE_NULL, 5, 5, 0, 0);
    EXPECT_IF(FX_SEC, FX_SELL, o->a7, 7, FX_SELL, DTX_PRICE_NULL, 5, 5, 0, 0);
    /* then FX_SEC_LOT, then FX_SEC_B (configuration order, not SecurityID order) */
    EXPECT_IF(FX_SEC_LOT, FX_BUY, o->a8, 8, FX_BUY, FX_PX(50), 10, 10, 0, ON);
    EXPECT_IF(FX_SEC_B, FX_BUY, o->a10, 10, FX_BUY, FX_PX(99), 5, 5, 0, ON);
    EXPECT_IF(FX_SEC_B, FX_SELL, o->a9, 9, FX_SELL, FX_PX(200), 5, 5, 0, ON);
#undef EXPECT_IF
    return n;
}

static void expect_b_untouched(const orders *o)
{
    dtx_order_view v = fx_order(&F, o->b3);
    cr_assert_eq(v.pending_stop, 1);
    cr_assert_eq(fx_order(&F, o->b1).leaves_qty, 5);
    cr_assert_eq(fx_order(&F, o->b2).leaves_qty, 5);
}

/* ---- filters --------------------------------------------------------------------- */

Test(engine_mass_cancel, all_instruments_both_sides_cancels_every_working_order_of_the_account_in_order)
{
    orders o = populate();
    dtx_command m = fx_mass_cancel(A, 900, 0, 0);
    fx_send(&F, m);
    size_t i = 0;
    uint64_t n = expect_a_canceled(&o, DTX_CANCEL_MASS_CANCEL, 0, 0, &i);
    cr_assert_eq(n, 10);
    fx_expect(&F, i++, report(&m, 10));
    fx_expect_count(&F, i);
    expect_b_untouched(&o);
    cr_assert_eq(working(), 3);
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){o.b1});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){o.b2});
    fx_expect_book(&F, FX_SEC_LOT, FX_BUY, 0, NULL);
    fx_expect_book(&F, FX_SEC_B, FX_BUY, 0, NULL);
    fx_expect_book(&F, FX_SEC_B, FX_SELL, 0, NULL);
}

Test(engine_mass_cancel, one_instrument_cancels_only_that_books_orders)
{
    orders o = populate();
    dtx_command m = fx_mass_cancel(A, 900, FX_SEC_B, 0);
    fx_send(&F, m);
    size_t i = 0;
    cr_assert_eq(expect_a_canceled(&o, DTX_CANCEL_MASS_CANCEL, FX_SEC_B, 0, &i), 2);
    fx_expect(&F, i++, report(&m, 2));
    fx_expect_count(&F, i);
    cr_assert_eq(working(), 11);
    fx_expect_book(&F, FX_SEC, FX_BUY, 3, (uint64_t[]){o.a2, o.b1, o.a1});
    fx_expect_book(&F, FX_SEC_LOT, FX_BUY, 1, (uint64_t[]){o.a8});
    cr_assert_eq(fx_order(&F, o.a5).pending_stop, 1);
}

Test(engine_mass_cancel, one_instrument_with_pending_stops_cancels_them_in_trigger_order)
{
    orders o = populate();
    dtx_command m = fx_mass_cancel(A, 900, FX_SEC, 0);
    fx_send(&F, m);
    size_t i = 0;
    cr_assert_eq(expect_a_canceled(&o, DTX_CANCEL_MASS_CANCEL, FX_SEC, 0, &i), 7);
    fx_expect(&F, i++, report(&m, 7));
    fx_expect_count(&F, i);
    expect_b_untouched(&o);
    fx_expect_book(&F, FX_SEC_LOT, FX_BUY, 1, (uint64_t[]){o.a8});
    fx_expect_book(&F, FX_SEC_B, FX_SELL, 1, (uint64_t[]){o.a9});
}

Test(engine_mass_cancel, one_side_cancels_that_sides_resting_orders_and_stops_on_every_instrument)
{
    orders o = populate();
    dtx_command m = fx_mass_cancel(A, 900, 0, FX_SELL);
    fx_send(&F, m);
    size_t i = 0;
    cr_assert_eq(expect_a_canceled(&o, DTX_CANCEL_MASS_CANCEL, 0, FX_SELL, &i), 4);
    fx_expect(&F, i++, report(&m, 4));
    fx_expect_count(&F, i);
    fx_expect_book(&F, FX_SEC, FX_BUY, 3, (uint64_t[]){o.a2, o.b1, o.a1});
    fx_expect_book(&F, FX_SEC, FX_SELL, 1, (uint64_t[]){o.b2});
    cr_assert_eq(fx_order(&F, o.a5).pending_stop, 1);
    cr_assert_eq(fx_order(&F, o.a6).pending_stop, 1);
    fx_expect_gone(&F, o.a7);
    fx_expect_book(&F, FX_SEC_B, FX_BUY, 1, (uint64_t[]){o.a10});
}

Test(engine_mass_cancel, one_instrument_and_one_side_combine)
{
    orders o = populate();
    dtx_command m = fx_mass_cancel(A, 900, FX_SEC, FX_BUY);
    fx_send(&F, m);
    size_t i = 0;
    cr_assert_eq(expect_a_canceled(&o, DTX_CANCEL_MASS_CANCEL, FX_SEC, FX_BUY, &i), 4);
    fx_expect(&F, i++, report(&m, 4));
    fx_expect_count(&F, i);
    fx_expect_book(&F, FX_SEC, FX_BUY, 1, (uint64_t[]){o.b1});
    fx_expect_book(&F, FX_SEC, FX_SELL, 3, (uint64_t[]){o.a3, o.b2, o.a4});
    cr_assert_eq(fx_order(&F, o.a7).pending_stop, 1);
    fx_expect_book(&F, FX_SEC_LOT, FX_BUY, 1, (uint64_t[]){o.a8});
}

Test(engine_mass_cancel, account_with_no_matching_orders_gets_a_report_of_zero)
{
    orders o = populate();
    dtx_command m = fx_mass_cancel(C, 900, 0, 0);
    fx_send(&F, m);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, report(&m, 0));
    dtx_command m2 = fx_mass_cancel(B, 901, FX_SEC_LOT, FX_SELL);
    fx_send(&F, m2);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, report(&m2, 0));
    cr_assert_eq(working(), 13);
    expect_b_untouched(&o);
}

Test(engine_mass_cancel, other_accounts_orders_are_never_touched)
{
    orders o = populate();
    dtx_command m = fx_mass_cancel(B, 900, 0, 0);
    fx_send(&F, m);
    fx_expect_count(&F, 4);
    fx_expect(&F, 0, gone(DTX_CANCEL_MASS_CANCEL, B, FX_SEC, o.b1, 1, FX_BUY, FX_PX(101), 5, 5, 0,
                          DTX_EVF_ON_BOOK));
    fx_expect(&F, 1, gone(DTX_CANCEL_MASS_CANCEL, B, FX_SEC, o.b2, 2, FX_SELL, FX_PX(105), 5, 5, 0,
                          DTX_EVF_ON_BOOK));
    fx_expect(&F, 2, gone(DTX_CANCEL_MASS_CANCEL, B, FX_SEC, o.b3, 3, FX_BUY, DTX_PRICE_NULL, 5, 5, 0, 0));
    fx_expect(&F, 3, report(&m, 3));
    fx_expect_book(&F, FX_SEC, FX_BUY, 2, (uint64_t[]){o.a2, o.a1});
    fx_expect_book(&F, FX_SEC, FX_SELL, 2, (uint64_t[]){o.a3, o.a4});
    cr_assert_eq(working(), 10);
}

Test(engine_mass_cancel, orders_of_every_session_of_the_account_are_canceled)
{
    dtx_command c1 = fx_limit(A, 1, FX_BUY, 100, 5);
    dtx_command c2 = fx_limit(A, 2, FX_BUY, 99, 5);
    c2.session = 7;
    uint64_t x = fx_rest(&F, c1);
    uint64_t y = fx_rest(&F, c2);
    dtx_command m = fx_mass_cancel(A, 900, FX_SEC, 0);
    fx_send(&F, m);
    fx_expect_count(&F, 3);
    fx_expect(&F, 0, gone(DTX_CANCEL_MASS_CANCEL, A, FX_SEC, x, 1, FX_BUY, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
    dtx_event w = gone(DTX_CANCEL_MASS_CANCEL, A, FX_SEC, y, 2, FX_BUY, FX_PX(99), 5, 5, 0, DTX_EVF_ON_BOOK);
    w.session = 7; /* the order's owner session */
    fx_expect(&F, 1, w);
    fx_expect(&F, 2, report(&m, 2));
}

Test(engine_mass_cancel, mass_canceled_clordids_are_free_and_timed_orders_do_not_expire_later)
{
    orders o = populate();
    fx_send(&F, fx_mass_cancel(A, 900, 0, 0));
    fx_rest(&F, fx_limit(A, 2, FX_BUY, 100, 5));
    fx_pend(&F, fx_stop(A, 5, FX_BUY, 120, 5));
    fx_time(&F, FX_DAY0 + 2 * FX_DAY_NS); /* a10 and a7 were Day orders */
    fx_expect_count(&F, 0);
    expect_b_untouched(&o);
}

/* ---- rejects --------------------------------------------------------------------- */

Test(engine_mass_cancel, unknown_instrument_or_invalid_side_is_a_business_reject_that_cancels_nothing)
{
    populate();
    dtx_command m = fx_mass_cancel(A, 900, FX_SEC_UNKNOWN, 0);
    fx_send(&F, m);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_BUSINESS_REJECT, .account = A, .clordid = 900,
                          .side = 0, .reject_reason = DTX_REJ_UNKNOWN_INSTRUMENT,
                          .ref_cmd_type = DTX_CMD_MASS_CANCEL});
    m = fx_mass_cancel(A, 901, FX_SEC, 3);
    fx_send(&F, m);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_BUSINESS_REJECT, .account = A, .clordid = 901,
                          .side = 3, .reject_reason = DTX_REJ_INVALID_FIELD,
                          .ref_cmd_type = DTX_CMD_MASS_CANCEL});
    /* both faults: the side is checked first */
    m = fx_mass_cancel(A, 902, FX_SEC_UNKNOWN, 255);
    fx_send(&F, m);
    fx_expect_count(&F, 1);
    cr_assert_eq(fx_ev(&F, 0)->reject_reason, DTX_REJ_INVALID_FIELD);
    cr_assert_eq(working(), 13);
}

/* ---- instrument status ------------------------------------------------------------- */

Test(engine_mass_cancel, mass_cancel_is_accepted_while_the_instrument_is_halted)
{
    orders o = populate();
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_HALTED));
    dtx_command m = fx_mass_cancel(A, 900, FX_SEC, 0);
    fx_send(&F, m);
    size_t i = 0;
    cr_assert_eq(expect_a_canceled(&o, DTX_CANCEL_MASS_CANCEL, FX_SEC, 0, &i), 7);
    fx_expect(&F, i++, report(&m, 7));
    fx_expect_count(&F, i);
}

Test(engine_mass_cancel, halt_keeps_the_book_rejects_orders_and_replaces_and_lets_cancels_through)
{
    orders o = populate();
    dtx_command h = fx_status(FX_SEC, DTX_TRADING_HALTED);
    fx_send(&F, h);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, status_ev(FX_SEC, DTX_TRADING_HALTED));
    cr_assert_eq(working(), 13);
    fx_expect_book(&F, FX_SEC, FX_BUY, 3, (uint64_t[]){o.a2, o.b1, o.a1});

    fx_rejected(&F, fx_limit(C, 1, FX_SELL, 100, 5), DTX_REJ_INSTRUMENT_HALTED);
    fx_rejected(&F, fx_market(C, 2, FX_BUY, 5), DTX_REJ_INSTRUMENT_HALTED);
    dtx_command r = fx_replace(A, 50, o.a1, 102, 5);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &r, DTX_REJ_INSTRUMENT_HALTED);

    dtx_command c = fx_cancel(A, 51, o.a1);
    fx_send(&F, c);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0,
              (dtx_event){.type = DTX_EV_CANCELED, .account = A, .security_id = FX_SEC, .order_id = o.a1,
                          .clordid = 51, .orig_clordid = 1, .side = FX_BUY,
                          .cancel_reason = DTX_CANCEL_CLIENT_REQUEST, .leaves_qty = 5,
                          .price = FX_PX(100), .order_qty = 5, .flags = DTX_EVF_ON_BOOK});
    dtx_command cs = fx_cancel(A, 52, o.a5);
    fx_send(&F, cs);
    fx_expect_count(&F, 1);
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_CANCELED);

    /* other instruments trade on */
    fx_send(&F, on(fx_limit(C, 3, FX_BUY, 200, 5), FX_SEC_B));
    cr_assert_eq(fx_count_type(&F, DTX_EV_FILL), 2, "%s", fx_dump(&F));

    /* resume: the book is as it was, and trades */
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_OPEN));
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, status_ev(FX_SEC, DTX_TRADING_OPEN));
    dtx_command s = fx_limit(C, 4, FX_SELL, 101, 7);
    fx_send(&F, s);
    uint64_t sid = fx_expect_new(&F, 0, &s);
    fx_expect_trade(&F, 1, FX_SELL, 101, 5, 3,
                    (fx_party){.account = A, .order_id = o.a2, .clordid = 2, .order_qty = 5,
                               .leaves_qty = 0, .cum_qty = 5},
                    (fx_party){.account = C, .order_id = sid, .clordid = 4, .order_qty = 7,
                               .leaves_qty = 2, .cum_qty = 5});
    fx_expect_trade(&F, 3, FX_SELL, 101, 2, 4,
                    (fx_party){.account = B, .order_id = o.b1, .clordid = 1, .order_qty = 5,
                               .leaves_qty = 3, .cum_qty = 2},
                    (fx_party){.account = C, .order_id = sid, .clordid = 4, .order_qty = 7,
                               .leaves_qty = 0, .cum_qty = 7});
    fx_expect_count(&F, 5);
}

Test(engine_mass_cancel, close_cancels_every_working_order_of_the_instrument_instrument_halted)
{
    orders o = populate();
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_CLOSED));
    fx_expect(&F, 0, status_ev(FX_SEC, DTX_TRADING_CLOSED));
    /* every account's orders, in the mass-cancel order */
    const uint8_t R = DTX_CANCEL_INSTRUMENT_HALTED, ON = DTX_EVF_ON_BOOK;
    size_t i = 1;
    fx_expect(&F, i++, gone(R, A, FX_SEC, o.a2, 2, FX_BUY, FX_PX(101), 5, 5, 0, ON));
    fx_expect(&F, i++, gone(R, B, FX_SEC, o.b1, 1, FX_BUY, FX_PX(101), 5, 5, 0, ON));
    fx_expect(&F, i++, gone(R, A, FX_SEC, o.a1, 1, FX_BUY, FX_PX(100), 5, 5, 0, ON));
    fx_expect(&F, i++, gone(R, A, FX_SEC, o.a3, 3, FX_SELL, FX_PX(105), 5, 3, 2, ON));
    fx_expect(&F, i++, gone(R, B, FX_SEC, o.b2, 2, FX_SELL, FX_PX(105), 5, 5, 0, ON));
    fx_expect(&F, i++, gone(R, A, FX_SEC, o.a4, 4, FX_SELL, FX_PX(106), 10, 10, 0, ON));
    fx_expect(&F, i++, gone(R, A, FX_SEC, o.a6, 6, FX_BUY, FX_PX(116), 5, 5, 0, 0));
    fx_expect(&F, i++, gone(R, B, FX_SEC, o.b3, 3, FX_BUY, DTX_PRICE_NULL, 5, 5, 0, 0));
    fx_expect(&F, i++, gone(R, A, FX_SEC, o.a5, 5, FX_BUY, DTX_PRICE_NULL, 5, 5, 0, 0));
    fx_expect(&F, i++, gone(R, A, FX_SEC, o.a7, 7, FX_SELL, DTX_PRICE_NULL, 5, 5, 0, 0));
    fx_expect_count(&F, i);
    cr_assert_eq(working(), 3);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
    fx_expect_book(&F, FX_SEC, FX_SELL, 0, NULL);
    fx_expect_book(&F, FX_SEC_LOT, FX_BUY, 1, (uint64_t[]){o.a8});

    /* closed: new orders and replaces are rejected */
    fx_rejected(&F, fx_limit(C, 1, FX_SELL, 100, 5), DTX_REJ_INSTRUMENT_HALTED);
    /* reopened: an empty book that accepts orders again */
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_OPEN));
    fx_expect_count(&F, 1);
    fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
}

Test(engine_mass_cancel, close_of_a_halted_instrument_cancels_its_orders_too)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_HALTED));
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_CLOSED));
    fx_expect_count(&F, 2);
    fx_expect(&F, 0, status_ev(FX_SEC, DTX_TRADING_CLOSED));
    fx_expect(&F, 1, gone(DTX_CANCEL_INSTRUMENT_HALTED, A, FX_SEC, x, 1, FX_BUY, FX_PX(100), 5, 5, 0,
                          DTX_EVF_ON_BOOK));
    /* closed -> halted: still rejects orders */
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_HALTED));
    fx_expect_count(&F, 1);
    fx_rejected(&F, fx_limit(A, 2, FX_BUY, 100, 5), DTX_REJ_INSTRUMENT_HALTED);
}

Test(engine_mass_cancel, repeating_the_current_status_emits_status_again_and_changes_nothing)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_OPEN));
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, status_ev(FX_SEC, DTX_TRADING_OPEN));
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_HALTED));
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_HALTED));
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, status_ev(FX_SEC, DTX_TRADING_HALTED));
    cr_assert_eq(fx_order(&F, x).leaves_qty, 5);
}

Test(engine_mass_cancel, timed_orders_expire_on_a_halted_instrument)
{
    uint64_t x = fx_rest(&F, fx_day(A, 1, FX_BUY, 100, 5));
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_HALTED));
    fx_time(&F, FX_DAY0 + FX_DAY_NS);
    fx_expect_count(&F, 1);
    fx_expect(&F, 0, gone(DTX_CANCEL_EXPIRED, A, FX_SEC, x, 1, FX_BUY, FX_PX(100), 5, 5, 0, DTX_EVF_ON_BOOK));
}

Test(engine_mass_cancel, status_of_an_unknown_instrument_or_an_invalid_status_is_a_business_reject)
{
    uint64_t x = fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    const struct {
        uint32_t sec;
        uint8_t status;
        uint16_t reason;
    } cases[] = {
        {FX_SEC_UNKNOWN, DTX_TRADING_HALTED, DTX_REJ_UNKNOWN_INSTRUMENT},
        {0, DTX_TRADING_HALTED, DTX_REJ_UNKNOWN_INSTRUMENT},
        {FX_SEC, 0, DTX_REJ_INVALID_FIELD},
        {FX_SEC, 4, DTX_REJ_INVALID_FIELD},
        {FX_SEC_UNKNOWN, 9, DTX_REJ_UNKNOWN_INSTRUMENT}, /* the instrument is checked first */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fx_send(&F, fx_status(cases[k].sec, cases[k].status));
        fx_expect_count(&F, 1);
        fx_expect(&F, 0,
                  (dtx_event){.type = DTX_EV_BUSINESS_REJECT, .reject_reason = cases[k].reason,
                              .ref_cmd_type = DTX_CMD_INSTRUMENT_STATUS});
    }
    /* nothing changed: FX_SEC is open and trades */
    fx_send(&F, fx_limit(B, 2, FX_SELL, 100, 5));
    cr_assert_eq(fx_count_type(&F, DTX_EV_FILL), 2, "%s", fx_dump(&F));
    fx_expect_gone(&F, x);
}

Test(engine_mass_cancel, pending_stops_go_in_trigger_order_earliest_first_among_equal_stop_px)
{
    uint64_t b1 = fx_pend(&F, fx_stop(A, 1, FX_BUY, 120, 1));
    uint64_t b2 = fx_pend(&F, fx_stop(A, 2, FX_BUY, 110, 1));
    uint64_t b3 = fx_pend(&F, fx_stop(A, 3, FX_BUY, 120, 1));
    uint64_t b4 = fx_pend(&F, fx_stop(A, 4, FX_BUY, 110, 1));
    uint64_t s1 = fx_pend(&F, fx_stop(A, 5, FX_SELL, 90, 1));
    uint64_t s2 = fx_pend(&F, fx_stop(A, 6, FX_SELL, 95, 1));
    uint64_t s3 = fx_pend(&F, fx_stop(A, 7, FX_SELL, 90, 1));
    fx_send(&F, fx_cancel(A, 8, b3)); /* a hole in the buy heap */
    fx_expect_count(&F, 1);
    dtx_command m = fx_mass_cancel(A, 900, 0, 0);
    fx_send(&F, m);
    const uint64_t want[] = {b2, b4, b1, s2, s1, s3};
    fx_expect_count(&F, 7);
    for (size_t i = 0; i < 6; i++)
        cr_assert_eq(fx_ev(&F, i)->order_id, want[i], "cancel [%zu]:\n%s", i, fx_dump(&F));
    fx_expect(&F, 6, report(&m, 6));
}
