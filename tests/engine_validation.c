/*
 * engine_validation.c - every reject reason of NewOrderSingle, in the
 * documented validation order (docs/order-semantics.md "NewOrderSingle",
 * PROTOCOL.md "Validation order"): the first failure wins, so most reasons are
 * tested twice, alone and paired with a fault that is checked later. Also the
 * capacities (TooManyOpenOrders for max_orders, max_stops per book side and
 * max_timed, and recovery once a slot is free), the pre-trade gate seam
 * (dtx_engine_set_gate: its reason, and where it sits in the order), and that
 * a rejected order gets no OrderID and changes nothing but the ExecID counter.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <string.h>

#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void setup(void) { fx_init(&F, NULL); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_validation, .init = setup, .fini = teardown);

/* Sends c and asserts exactly one REJECT with reason; name says which case. */
static void rejected_as(const char *name, dtx_command c, uint16_t reason)
{
    fx_send(&F, c);
    cr_assert(fx_count(&F) == 1 && fx_ev(&F, 0)->type == DTX_EV_REJECT &&
                  fx_ev(&F, 0)->reject_reason == reason,
              "%s: want one REJECT %s, got:\n%s", name, dtx_reject_reason_name(reason), fx_dump(&F));
    fx_expect_reject(&F, 0, &c, reason);
}

static dtx_command on(dtx_command c, uint32_t security_id)
{
    c.security_id = security_id;
    return c;
}

/* ---- InvalidField ----------------------------------------------------------------- */

typedef struct bad_case {
    const char *name;
    dtx_command c;
} bad_case;

/* Every InvalidField case listed in docs/order-semantics.md. */
static size_t invalid_field_cases(bad_case *out, uint64_t now)
{
    size_t n = 0;
    dtx_command c;
#define CASE(label, expr)                                                                          \
    do {                                                                                           \
        c = (expr);                                                                                \
        out[n].name = label;                                                                       \
        out[n].c = c;                                                                              \
        n++;                                                                                       \
    } while (0)
#define WITH(base, stmt)                                                                           \
    ({                                                                                             \
        dtx_command _c = (base);                                                                   \
        stmt;                                                                                      \
        _c;                                                                                        \
    })
    CASE("side 0", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.side = 0));
    CASE("side 3", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.side = 3));
    CASE("ord_type 0", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.ord_type = 0));
    CASE("ord_type 5", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.ord_type = 5));
    CASE("tif 2", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.tif = 2));
    CASE("tif 5", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.tif = 5));
    CASE("tif 7", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.tif = 7));
    CASE("exec_inst bit 2", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.exec_inst = 0x04));
    CASE("exec_inst bit 7", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.exec_inst = 0x81));
    CASE("stp 4", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.stp = 4));
    CASE("limit with a null price", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.price = DTX_PRICE_NULL));
    CASE("stop limit with a null price",
         WITH(fx_stop_limit(A, 1, FX_BUY, 120, 121, 5), _c.price = DTX_PRICE_NULL));
    CASE("market with a price", WITH(fx_market(A, 1, FX_BUY, 5), _c.price = FX_PX(100)));
    CASE("stop with a price", WITH(fx_stop(A, 1, FX_BUY, 120, 5), _c.price = FX_PX(121)));
    CASE("stop with a null stop_px", WITH(fx_stop(A, 1, FX_BUY, 120, 5), _c.stop_px = DTX_PRICE_NULL));
    CASE("stop limit with a null stop_px",
         WITH(fx_stop_limit(A, 1, FX_BUY, 120, 121, 5), _c.stop_px = DTX_PRICE_NULL));
    CASE("market with a stop_px", WITH(fx_market(A, 1, FX_BUY, 5), _c.stop_px = FX_PX(100)));
    CASE("limit with a stop_px", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.stop_px = FX_PX(100)));
    CASE("price 0", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.price = 0));
    CASE("negative price", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.price = -FX_PX(100)));
    CASE("stop_px 0", WITH(fx_stop(A, 1, FX_BUY, 120, 5), _c.stop_px = 0));
    CASE("negative stop_px", WITH(fx_stop_limit(A, 1, FX_SELL, 120, 121, 5), _c.stop_px = -FX_PX(1)));
    CASE("expire_time on a GTC order", WITH(fx_limit(A, 1, FX_BUY, 100, 5), _c.expire_time = now + FX_S));
    CASE("expire_time on a Day order", WITH(fx_day(A, 1, FX_BUY, 100, 5), _c.expire_time = now + FX_S));
    CASE("GTD with expire_time 0", fx_gtd(A, 1, FX_BUY, 100, 5, 0));
    CASE("GTD expiring at the command's ts", fx_gtd(A, 1, FX_BUY, 100, 5, now));
    CASE("GTD expired before the command's ts", fx_gtd(A, 1, FX_BUY, 100, 5, now - 1));
    CASE("market GTC", WITH(fx_market(A, 1, FX_BUY, 5), _c.tif = DTX_TIF_GTC));
    CASE("market Day", WITH(fx_market(A, 1, FX_BUY, 5), _c.tif = DTX_TIF_DAY));
    CASE("market GTD", WITH(fx_market(A, 1, FX_BUY, 5), (_c.tif = DTX_TIF_GTD, _c.expire_time = now + FX_S)));
    CASE("stop IOC", WITH(fx_stop(A, 1, FX_BUY, 120, 5), _c.tif = DTX_TIF_IOC));
    CASE("stop FOK", WITH(fx_stop(A, 1, FX_BUY, 120, 5), _c.tif = DTX_TIF_FOK));
    CASE("post-only market", WITH(fx_market(A, 1, FX_BUY, 5), _c.exec_inst = DTX_EXEC_POST_ONLY));
    CASE("post-only stop", WITH(fx_stop(A, 1, FX_BUY, 120, 5), _c.exec_inst = DTX_EXEC_POST_ONLY));
    CASE("post-only stop limit",
         WITH(fx_stop_limit(A, 1, FX_BUY, 120, 121, 5), _c.exec_inst = DTX_EXEC_POST_ONLY));
    CASE("post-only IOC", WITH(fx_ioc(A, 1, FX_BUY, 100, 5), _c.exec_inst = DTX_EXEC_POST_ONLY));
    CASE("post-only FOK", WITH(fx_fok(A, 1, FX_BUY, 100, 5), _c.exec_inst = DTX_EXEC_POST_ONLY));
    CASE("display_qty on a market", WITH(fx_market(A, 1, FX_BUY, 5), _c.display_qty = 1));
    CASE("display_qty on a stop", WITH(fx_stop(A, 1, FX_BUY, 120, 5), _c.display_qty = 1));
    CASE("display_qty on an IOC", WITH(fx_ioc(A, 1, FX_BUY, 100, 5), _c.display_qty = 1));
    CASE("display_qty on a FOK", WITH(fx_fok(A, 1, FX_BUY, 100, 5), _c.display_qty = 1));
    CASE("negative display_qty", fx_iceberg(A, 1, FX_BUY, 100, 5, -1));
    CASE("display_qty above order_qty", fx_iceberg(A, 1, FX_BUY, 100, 5, 6));
#undef CASE
#undef WITH
    return n;
}

#define MAX_CASES 64

Test(engine_validation, every_documented_invalid_field_case_is_rejected_invalid_field)
{
    bad_case cases[MAX_CASES];
    size_t n = invalid_field_cases(cases, F.now);
    cr_assert_geq(n, 40);
    for (size_t i = 0; i < n; i++) {
        cases[i].c.clordid = 1000 + i;
        rejected_as(cases[i].name, cases[i].c, DTX_REJ_INVALID_FIELD);
    }
    dtx_engine_stats st;
    dtx_engine_get_stats(F.e, &st);
    cr_assert_eq(st.working_orders, 0);
    cr_assert_eq(st.rejects, n);
}

Test(engine_validation, invalid_field_wins_over_every_later_fault)
{
    /* each case again, on an unknown instrument with an off-range quantity
     * (when the case is not about the quantity): still InvalidField */
    bad_case cases[MAX_CASES];
    size_t n = invalid_field_cases(cases, F.now);
    for (size_t i = 0; i < n; i++) {
        dtx_command c = on(cases[i].c, FX_SEC_UNKNOWN);
        c.clordid = 2000 + i;
        rejected_as(cases[i].name, c, DTX_REJ_INVALID_FIELD);
    }
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_HALTED));
    for (size_t i = 0; i < n; i++) {
        dtx_command c = cases[i].c;
        c.clordid = 3000 + i;
        rejected_as(cases[i].name, c, DTX_REJ_INVALID_FIELD);
    }
}

Test(engine_validation, the_valid_counterparts_of_the_invalid_field_cases_are_accepted)
{
    fx_rest(&F, fx_limit(B, 1, FX_SELL, 105, 100));
    fx_rest(&F, fx_gtd(A, 2, FX_BUY, 100, 5, F.now + 1)); /* expires 1 ns after its ts */
    fx_rest(&F, fx_day(A, 3, FX_BUY, 100, 5));
    fx_rest(&F, fx_iceberg(A, 4, FX_BUY, 100, 5, 5)); /* DisplayQty = OrderQty */
    fx_rest(&F, fx_post_only(A, 5, FX_BUY, 104, 5));
    dtx_command ro = fx_limit(A, 6, FX_BUY, 100, 5);
    ro.exec_inst = DTX_EXEC_POST_ONLY | DTX_EXEC_REDUCE_ONLY;
    fx_rest(&F, ro);
    fx_rest(&F, fx_limit(A, 7, FX_BUY, FX_MIN_TICKS, 5)); /* lowest price */
    fx_pend(&F, fx_stop(A, 8, FX_BUY, 120, 5));
    fx_pend(&F, fx_stop_limit(A, 9, FX_BUY, 120, 121, 5));
    dtx_command day_stop = fx_stop(A, 10, FX_SELL, 90, 5);
    day_stop.tif = DTX_TIF_DAY;
    fx_pend(&F, day_stop);
    dtx_command sl = fx_stop_limit(A, 11, FX_SELL, 90, 89, 5);
    sl.tif = DTX_TIF_IOC; /* a StopLimit may be IOC or FOK */
    fx_pend(&F, sl);
    for (uint8_t stp = 0; stp <= DTX_STP_DECREMENT_AND_CANCEL; stp++) {
        dtx_command c = fx_limit(A, 20 + stp, FX_BUY, 90, 1);
        c.stp = stp;
        fx_rest(&F, c);
    }
    /* Market IOC and FOK, limit IOC and FOK */
    fx_send(&F, fx_market(C, 30, FX_BUY, 1));
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_NEW, "%s", fx_dump(&F));
    dtx_command mf = fx_market(C, 31, FX_BUY, 1);
    mf.tif = DTX_TIF_FOK;
    fx_send(&F, mf);
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_NEW, "%s", fx_dump(&F));
    fx_send(&F, fx_ioc(C, 32, FX_BUY, 105, 1));
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_NEW, "%s", fx_dump(&F));
    fx_send(&F, fx_fok(C, 33, FX_BUY, 105, 1));
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_NEW, "%s", fx_dump(&F));
}

/* ---- UnknownInstrument, InstrumentHalted ---------------------------------------------- */

Test(engine_validation, unknown_instrument_is_rejected_unknown_instrument)
{
    fx_rejected(&F, on(fx_limit(A, 1, FX_BUY, 100, 5), FX_SEC_UNKNOWN), DTX_REJ_UNKNOWN_INSTRUMENT);
    fx_rejected(&F, on(fx_limit(A, 1, FX_BUY, 100, 5), 0), DTX_REJ_UNKNOWN_INSTRUMENT);
    fx_rejected(&F, on(fx_stop(A, 1, FX_BUY, 100, 5), FX_SEC_UNKNOWN), DTX_REJ_UNKNOWN_INSTRUMENT);
}

Test(engine_validation, unknown_instrument_wins_over_quantity_tick_and_band_faults)
{
    dtx_command c = on(fx_limit(A, 1, FX_BUY, 100, 0), FX_SEC_UNKNOWN);
    c.price += 3; /* off tick too */
    fx_rejected(&F, c, DTX_REJ_UNKNOWN_INSTRUMENT);
    fx_rejected(&F, on(fx_limit(A, 1, FX_BUY, FX_MAX_TICKS + 1, 5), FX_SEC_UNKNOWN),
                DTX_REJ_UNKNOWN_INSTRUMENT);
}

Test(engine_validation, halted_or_closed_instrument_rejects_new_orders_instrument_halted)
{
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_HALTED));
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, 100, 5), DTX_REJ_INSTRUMENT_HALTED);
    fx_rejected(&F, fx_stop(A, 2, FX_BUY, 120, 5), DTX_REJ_INSTRUMENT_HALTED);
    fx_rejected(&F, fx_market(A, 3, FX_BUY, 5), DTX_REJ_INSTRUMENT_HALTED);
    /* other instruments trade on */
    fx_rest(&F, on(fx_limit(A, 4, FX_BUY, 100, 5), FX_SEC_B));
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_CLOSED));
    fx_rejected(&F, fx_limit(A, 5, FX_BUY, 100, 5), DTX_REJ_INSTRUMENT_HALTED);
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_OPEN));
    fx_rest(&F, fx_limit(A, 6, FX_BUY, 100, 5));
}

Test(engine_validation, instrument_halted_wins_over_quantity_tick_duplicate_and_band_faults)
{
    fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    fx_send(&F, fx_status(FX_SEC, DTX_TRADING_HALTED));
    fx_rejected(&F, fx_limit(A, 2, FX_BUY, 100, FX_MAX_QTY + 1), DTX_REJ_INSTRUMENT_HALTED);
    dtx_command c = fx_limit(A, 2, FX_BUY, 100, 5);
    c.price += 1;
    fx_rejected(&F, c, DTX_REJ_INSTRUMENT_HALTED);
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, 100, 5), DTX_REJ_INSTRUMENT_HALTED);
    fx_rejected(&F, fx_limit(A, 2, FX_BUY, FX_MAX_TICKS + 1, 5), DTX_REJ_INSTRUMENT_HALTED);
}

/* ---- QtyOutOfRange ---------------------------------------------------------------------- */

Test(engine_validation, quantity_below_min_above_max_or_off_lot_is_rejected_qty_out_of_range)
{
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, 100, 0), DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, 100, -5), DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, 100, FX_MAX_QTY + 1), DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rejected(&F, fx_market(A, 1, FX_BUY, FX_MAX_QTY + 1), DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rejected(&F, fx_stop(A, 1, FX_BUY, 120, 0), DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rejected(&F, on(fx_limit(A, 1, FX_BUY, 100, 15), FX_SEC_LOT), DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rejected(&F, on(fx_limit(A, 1, FX_BUY, 100, 5), FX_SEC_LOT), DTX_REJ_QTY_OUT_OF_RANGE);
    /* the bounds themselves are accepted */
    fx_rest(&F, fx_limit(A, 2, FX_BUY, 100, FX_MIN_QTY));
    fx_rest(&F, fx_limit(A, 3, FX_BUY, 100, FX_MAX_QTY));
    fx_rest(&F, on(fx_limit(A, 4, FX_BUY, 100, 10), FX_SEC_LOT));
    fx_rest(&F, on(fx_limit(A, 5, FX_BUY, 100, FX_MAX_QTY), FX_SEC_LOT));
}

Test(engine_validation, display_qty_off_the_lot_is_rejected_qty_out_of_range)
{
    fx_rejected(&F, on(fx_iceberg(A, 1, FX_BUY, 100, 40, 5), FX_SEC_LOT), DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rejected(&F, on(fx_iceberg(A, 1, FX_BUY, 100, 40, 15), FX_SEC_LOT), DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rest(&F, on(fx_iceberg(A, 1, FX_BUY, 100, 40, 10), FX_SEC_LOT));
}

Test(engine_validation, qty_out_of_range_wins_over_tick_duplicate_band_and_book_faults)
{
    fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    fx_rest(&F, fx_limit(B, 2, FX_SELL, 105, 5));
    dtx_command c = fx_limit(A, 2, FX_BUY, 100, 0);
    c.price += 1;
    fx_rejected(&F, c, DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, 100, FX_MAX_QTY + 1), DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rejected(&F, fx_limit(A, 2, FX_BUY, FX_MAX_TICKS + 1, 0), DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rejected(&F, fx_post_only(A, 2, FX_BUY, 105, 0), DTX_REJ_QTY_OUT_OF_RANGE);
    fx_rejected(&F, fx_fok(A, 2, FX_BUY, 105, FX_MAX_QTY + 1), DTX_REJ_QTY_OUT_OF_RANGE);
}

/* ---- PriceNotOnTick --------------------------------------------------------------------- */

Test(engine_validation, price_or_stop_px_off_the_tick_is_rejected_price_not_on_tick)
{
    dtx_command c = fx_limit(A, 1, FX_BUY, 100, 5);
    c.price += FX_TICK / 2;
    fx_rejected(&F, c, DTX_REJ_PRICE_NOT_ON_TICK);
    c = fx_stop(A, 1, FX_BUY, 120, 5);
    c.stop_px -= 1;
    fx_rejected(&F, c, DTX_REJ_PRICE_NOT_ON_TICK);
    c = fx_stop_limit(A, 1, FX_BUY, 120, 121, 5);
    c.stop_px += 1; /* price on tick, stop_px off */
    fx_rejected(&F, c, DTX_REJ_PRICE_NOT_ON_TICK);
    c = fx_stop_limit(A, 1, FX_BUY, 120, 121, 5);
    c.price += 1; /* stop_px on tick, price off */
    fx_rejected(&F, c, DTX_REJ_PRICE_NOT_ON_TICK);
    c = fx_limit(A, 1, FX_BUY, 0, 5);
    c.price = 1; /* 1e-9: positive, below one tick */
    fx_rejected(&F, c, DTX_REJ_PRICE_NOT_ON_TICK);
}

Test(engine_validation, price_not_on_tick_wins_over_duplicate_band_and_book_faults)
{
    fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    fx_rest(&F, fx_limit(B, 2, FX_SELL, 105, 5));
    dtx_command c = fx_limit(A, 1, FX_BUY, 100, 5);
    c.price += 1;
    fx_rejected(&F, c, DTX_REJ_PRICE_NOT_ON_TICK);
    c = fx_limit(A, 2, FX_BUY, FX_MAX_TICKS + 1, 5);
    c.price += 1;
    fx_rejected(&F, c, DTX_REJ_PRICE_NOT_ON_TICK);
    c = fx_post_only(A, 2, FX_BUY, 106, 5);
    c.price += 1;
    fx_rejected(&F, c, DTX_REJ_PRICE_NOT_ON_TICK);
}

/* ---- DuplicateClOrdID ------------------------------------------------------------------- */

Test(engine_validation, clordid_of_a_resting_order_is_rejected_duplicate_clordid)
{
    fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    fx_rejected(&F, fx_limit(A, 1, FX_SELL, 110, 5), DTX_REJ_DUPLICATE_CLORDID);
    fx_rejected(&F, on(fx_limit(A, 1, FX_BUY, 100, 5), FX_SEC_B), DTX_REJ_DUPLICATE_CLORDID);
    fx_rejected(&F, fx_market(A, 1, FX_SELL, 1), DTX_REJ_DUPLICATE_CLORDID);
    /* the same ClOrdID of another account is a different name */
    fx_rest(&F, fx_limit(B, 1, FX_BUY, 100, 5));
}

Test(engine_validation, clordid_of_a_pending_stop_is_rejected_duplicate_clordid)
{
    fx_pend(&F, fx_stop(A, 1, FX_BUY, 120, 5));
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, 100, 5), DTX_REJ_DUPLICATE_CLORDID);
    fx_rejected(&F, fx_stop_limit(A, 1, FX_SELL, 90, 90, 5), DTX_REJ_DUPLICATE_CLORDID);
}

Test(engine_validation, clordid_of_a_partially_filled_order_is_rejected_duplicate_clordid)
{
    fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    fx_send(&F, fx_limit(B, 2, FX_SELL, 100, 2));
    fx_expect_count(&F, 3);
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, 99, 5), DTX_REJ_DUPLICATE_CLORDID);
}

Test(engine_validation, clordid_is_reusable_after_fill_cancel_ioc_reject_and_expiry)
{
    /* filled */
    fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    fx_send(&F, fx_limit(B, 2, FX_SELL, 100, 5));
    fx_expect_count(&F, 3);
    uint64_t x = fx_rest(&F, fx_limit(A, 1, FX_BUY, 99, 5));
    /* canceled */
    fx_send(&F, fx_cancel(A, 50, x));
    fx_expect_count(&F, 1);
    uint64_t y = fx_rest(&F, fx_limit(A, 1, FX_BUY, 98, 5));
    fx_send(&F, fx_cancel(A, 51, y));
    /* an IOC never rests */
    fx_send(&F, fx_ioc(A, 1, FX_BUY, 50, 5));
    fx_expect_count(&F, 2);
    /* a rejected order never was working */
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, 50, 0), DTX_REJ_QTY_OUT_OF_RANGE);
    /* a pending stop that triggered and filled */
    uint64_t s = fx_pend(&F, fx_stop(A, 1, FX_BUY, 101, 1)); /* last trade 100: pending */
    fx_rest(&F, fx_limit(C, 3, FX_SELL, 101, 2));
    fx_send(&F, fx_limit(B, 4, FX_BUY, 101, 1)); /* a trade at 101 triggers the stop */
    cr_assert_geq(fx_find(&F, DTX_EV_TRIGGERED, s, 0), 0, "%s", fx_dump(&F));
    fx_expect_gone(&F, s);
    /* expired */
    fx_rest(&F, fx_gtd(A, 1, FX_BUY, 90, 5, F.now + 10 * FX_S));
    fx_time(&F, F.now + 20 * FX_S);
    fx_expect_count(&F, 1);
    fx_rest(&F, fx_limit(A, 1, FX_BUY, 90, 5));
}

Test(engine_validation, duplicate_clordid_wins_over_band_capacity_and_book_faults)
{
    fx_fini(&F);
    fx_opts o = {.max_orders = 2};
    fx_init(&F, &o);
    fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    fx_rest(&F, fx_limit(B, 2, FX_SELL, 105, 5));
    /* the pool is full: a duplicate is still a duplicate */
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, FX_MAX_TICKS + 1, 5), DTX_REJ_DUPLICATE_CLORDID);
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, 99, 5), DTX_REJ_DUPLICATE_CLORDID);
    fx_rejected(&F, fx_post_only(A, 1, FX_BUY, 105, 5), DTX_REJ_DUPLICATE_CLORDID);
    fx_rejected(&F, fx_limit(A, 3, FX_BUY, 99, 5), DTX_REJ_TOO_MANY_OPEN_ORDERS);
}

/* ---- PriceOutsideBand ------------------------------------------------------------------- */

Test(engine_validation, price_or_stop_px_outside_the_instruments_range_is_rejected_price_outside_band)
{
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, FX_MAX_TICKS + 1, 5), DTX_REJ_PRICE_OUTSIDE_BAND);
    fx_rejected(&F, fx_limit(A, 1, FX_SELL, 1000000000, 5), DTX_REJ_PRICE_OUTSIDE_BAND);
    fx_rejected(&F, on(fx_limit(A, 1, FX_BUY, FX_LOT_MIN_TICKS - 1, 10), FX_SEC_LOT),
                DTX_REJ_PRICE_OUTSIDE_BAND);
    fx_rejected(&F, fx_stop(A, 1, FX_BUY, FX_MAX_TICKS + 1, 5), DTX_REJ_PRICE_OUTSIDE_BAND);
    fx_rejected(&F, fx_stop_limit(A, 1, FX_BUY, FX_MAX_TICKS + 1, 100, 5), DTX_REJ_PRICE_OUTSIDE_BAND);
    fx_rejected(&F, fx_stop_limit(A, 1, FX_BUY, 100, FX_MAX_TICKS + 1, 5), DTX_REJ_PRICE_OUTSIDE_BAND);
    fx_rejected(&F, on(fx_stop(A, 1, FX_SELL, FX_LOT_MIN_TICKS - 1, 10), FX_SEC_LOT),
                DTX_REJ_PRICE_OUTSIDE_BAND);
    /* the ends of the range are accepted */
    fx_rest(&F, fx_limit(A, 2, FX_BUY, FX_MIN_TICKS, 5));
    fx_rest(&F, fx_limit(A, 3, FX_SELL, FX_MAX_TICKS, 5));
    fx_rest(&F, on(fx_limit(A, 4, FX_BUY, FX_LOT_MIN_TICKS, 10), FX_SEC_LOT));
}

Test(engine_validation, price_outside_band_wins_over_capacity_and_book_faults)
{
    fx_fini(&F);
    fx_opts o = {.max_orders = 1};
    fx_init(&F, &o);
    fx_rest(&F, fx_limit(B, 1, FX_SELL, 105, 5));
    fx_rejected(&F, fx_limit(A, 2, FX_BUY, FX_MAX_TICKS + 1, 5), DTX_REJ_PRICE_OUTSIDE_BAND);
    fx_rejected(&F, fx_limit(A, 2, FX_BUY, 104, 5), DTX_REJ_TOO_MANY_OPEN_ORDERS);
}

/* ---- TooManyOpenOrders ------------------------------------------------------------------- */

Test(engine_validation, full_order_pool_rejects_too_many_open_orders_until_a_slot_is_freed)
{
    fx_fini(&F);
    fx_opts o = {.max_orders = 3};
    fx_init(&F, &o);
    uint64_t x = fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    fx_rest(&F, fx_limit(A, 2, FX_BUY, 99, 5));
    fx_pend(&F, fx_stop(A, 3, FX_BUY, 120, 5)); /* pending stops count */
    fx_rejected(&F, fx_limit(A, 4, FX_BUY, 98, 5), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    fx_rejected(&F, fx_limit(B, 5, FX_SELL, 100, 5), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    fx_rejected(&F, fx_market(B, 6, FX_SELL, 1), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    fx_rejected(&F, on(fx_limit(B, 7, FX_SELL, 100, 5), FX_SEC_B), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    /* the engine still works: cancels, replaces */
    dtx_command r = fx_replace(A, 11, x, FX_KEEP, 4);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_REPLACED);
    fx_send(&F, fx_cancel(A, 12, x));
    fx_expect_count(&F, 1);
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_CANCELED);
    /* a freed slot lets the next order in, and it trades */
    dtx_command s = fx_limit(B, 8, FX_SELL, 99, 5);
    fx_send(&F, s);
    fx_expect_count(&F, 3);
    fx_expect_new(&F, 0, &s);
    cr_assert_eq(fx_ev(&F, 1)->type, DTX_EV_FILL);
    /* the fill freed two slots */
    fx_rest(&F, fx_limit(A, 9, FX_BUY, 98, 5));
    fx_rest(&F, fx_limit(A, 10, FX_BUY, 97, 5));
    fx_rejected(&F, fx_limit(A, 13, FX_BUY, 96, 5), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    dtx_engine_stats st;
    dtx_engine_get_stats(F.e, &st);
    cr_assert_eq(st.working_orders, 3);
    cr_assert_eq(st.max_orders, 3);
}

Test(engine_validation, full_stop_queue_of_one_book_side_rejects_only_that_side)
{
    fx_fini(&F);
    fx_opts o = {.max_stops = 2};
    fx_init(&F, &o);
    uint64_t s1 = fx_pend(&F, fx_stop(A, 1, FX_BUY, 120, 5));
    fx_pend(&F, fx_stop_limit(B, 2, FX_BUY, 125, 126, 5));
    fx_rejected(&F, fx_stop(C, 3, FX_BUY, 130, 5), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    fx_rejected(&F, fx_stop_limit(C, 3, FX_BUY, 130, 131, 5), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    /* the sell side, another book, and non-stop orders are not affected */
    fx_pend(&F, fx_stop(C, 4, FX_SELL, 90, 5));
    fx_pend(&F, on(fx_stop(C, 5, FX_BUY, 120, 5), FX_SEC_B));
    fx_rest(&F, fx_limit(C, 6, FX_BUY, 100, 5));
    /* a cancel frees the place */
    fx_send(&F, fx_cancel(A, 7, s1));
    fx_expect_count(&F, 1);
    fx_pend(&F, fx_stop(C, 3, FX_BUY, 130, 5));
    fx_rejected(&F, fx_stop(C, 8, FX_BUY, 131, 5), DTX_REJ_TOO_MANY_OPEN_ORDERS);
}

Test(engine_validation, full_expiry_queue_rejects_day_and_gtd_orders_only)
{
    fx_fini(&F);
    fx_opts o = {.max_timed = 2};
    fx_init(&F, &o);
    uint64_t d1 = fx_rest(&F, fx_day(A, 1, FX_BUY, 100, 5));
    fx_rest(&F, fx_gtd(A, 2, FX_BUY, 99, 5, F.now + FX_S));
    fx_rejected(&F, fx_day(A, 3, FX_BUY, 98, 5), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    fx_rejected(&F, fx_gtd(A, 3, FX_BUY, 98, 5, F.now + FX_S), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    dtx_command ds = fx_stop(A, 3, FX_BUY, 120, 5);
    ds.tif = DTX_TIF_DAY;
    fx_rejected(&F, ds, DTX_REJ_TOO_MANY_OPEN_ORDERS);
    /* GTC orders and stops are not timed */
    fx_rest(&F, fx_limit(A, 4, FX_BUY, 97, 5));
    fx_pend(&F, fx_stop(A, 5, FX_BUY, 120, 5));
    /* a canceled timed order's place is reclaimed */
    fx_send(&F, fx_cancel(A, 6, d1));
    fx_expect_count(&F, 1);
    fx_rest(&F, fx_day(A, 3, FX_BUY, 98, 5));
    fx_rejected(&F, fx_day(A, 7, FX_BUY, 96, 5), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    /* so is a filled one's */
    fx_send(&F, fx_market(B, 8, FX_SELL, 5));
    cr_assert_eq(fx_count_type(&F, DTX_EV_FILL), 2, "%s", fx_dump(&F));
    fx_rest(&F, fx_day(A, 7, FX_BUY, 96, 5));
}

/* ---- the gate ---------------------------------------------------------------------------- */

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

Test(engine_validation, gate_reject_is_the_orders_reject_reason)
{
    gate_log g = {.answer = DTX_REJ_INSUFFICIENT_MARGIN};
    dtx_engine_set_gate(F.e, gate, &g);
    dtx_command c = fx_limit(A, 1, FX_BUY, 100, 5);
    fx_rejected(&F, c, DTX_REJ_INSUFFICIENT_MARGIN);
    cr_assert_eq(g.calls, 1);
    cr_assert_eq(g.last.side, FX_BUY);
    cr_assert_eq(g.last.ord_type, DTX_ORD_LIMIT);
    cr_assert_eq(g.last.price, FX_PX(100));
    cr_assert_eq(g.last.order_qty, 5);
    cr_assert_eq(g.last.leaves_qty, 5);
    cr_assert_eq(g.last.old_leaves, 0);
    cr_assert_eq(g.last.old_price, DTX_PRICE_NULL);
    cr_assert_eq(g.last_cmd.clordid, 1);
    cr_assert_eq(g.last_cmd.account, A);
    g.answer = DTX_REJ_ACCOUNT_DISABLED;
    fx_rejected(&F, fx_market(A, 2, FX_SELL, 5), DTX_REJ_ACCOUNT_DISABLED);
    cr_assert_eq(g.last.price, DTX_PRICE_NULL);
    g.answer = DTX_REJ_POSITION_LIMIT;
    fx_rejected(&F, fx_stop(A, 3, FX_SELL, 90, 5), DTX_REJ_POSITION_LIMIT);
    cr_assert_eq(g.calls, 3);
    fx_expect_book(&F, FX_SEC, FX_BUY, 0, NULL);
    /* a gate that lets it through; then none at all */
    g.answer = DTX_REJ_NONE;
    fx_rest(&F, c);
    cr_assert_eq(g.calls, 4);
    dtx_engine_set_gate(F.e, NULL, NULL);
    fx_rest(&F, fx_limit(A, 4, FX_BUY, 99, 5));
    cr_assert_eq(g.calls, 4);
}

Test(engine_validation, gate_is_not_called_when_an_engine_check_up_to_the_capacities_fails)
{
    fx_fini(&F);
    fx_opts o = {.max_orders = 2};
    fx_init(&F, &o);
    gate_log g = {.answer = DTX_REJ_MAX_NOTIONAL};
    fx_rest(&F, fx_limit(A, 1, FX_BUY, 100, 5));
    dtx_engine_set_gate(F.e, gate, &g);
    fx_rejected(&F, fx_limit(A, 2, 3, 100, 5), DTX_REJ_INVALID_FIELD);
    fx_rejected(&F, on(fx_limit(A, 2, FX_BUY, 100, 5), FX_SEC_UNKNOWN), DTX_REJ_UNKNOWN_INSTRUMENT);
    fx_rejected(&F, fx_limit(A, 2, FX_BUY, 100, 0), DTX_REJ_QTY_OUT_OF_RANGE);
    dtx_command c = fx_limit(A, 2, FX_BUY, 100, 5);
    c.price += 1;
    fx_rejected(&F, c, DTX_REJ_PRICE_NOT_ON_TICK);
    fx_rejected(&F, fx_limit(A, 1, FX_BUY, 100, 5), DTX_REJ_DUPLICATE_CLORDID);
    fx_rejected(&F, fx_limit(A, 2, FX_BUY, 0x7fffffff, 5), DTX_REJ_PRICE_OUTSIDE_BAND);
    cr_assert_eq(g.calls, 0);
    /* after DuplicateClOrdID (and the band and capacity checks): the gate */
    fx_rejected(&F, fx_limit(A, 2, FX_BUY, 100, 5), DTX_REJ_MAX_NOTIONAL);
    cr_assert_eq(g.calls, 1);
    dtx_engine_set_gate(F.e, NULL, NULL);
    fx_rest(&F, fx_limit(A, 2, FX_BUY, 100, 5));
    dtx_engine_set_gate(F.e, gate, &g);
    fx_rejected(&F, fx_limit(A, 3, FX_BUY, 100, 5), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    cr_assert_eq(g.calls, 1);
}

Test(engine_validation, gate_comes_before_the_books_checks)
{
    fx_rest(&F, fx_limit(B, 1, FX_SELL, 105, 5));
    gate_log g = {.answer = DTX_REJ_MAX_ORDER_QTY};
    dtx_engine_set_gate(F.e, gate, &g);
    fx_rejected(&F, fx_post_only(A, 2, FX_BUY, 105, 5), DTX_REJ_MAX_ORDER_QTY);
    fx_rejected(&F, fx_fok(A, 2, FX_BUY, 105, 50), DTX_REJ_MAX_ORDER_QTY);
    fx_rejected(&F, fx_market(A, 2, FX_BUY, 5), DTX_REJ_MAX_ORDER_QTY); /* opposite side not empty */
    fx_rejected(&F, fx_market(A, 2, FX_SELL, 5), DTX_REJ_MAX_ORDER_QTY); /* opposite side empty */
    cr_assert_eq(g.calls, 4);
    /* with the gate passing, the book's reasons */
    g.answer = DTX_REJ_NONE;
    fx_rejected(&F, fx_post_only(A, 2, FX_BUY, 105, 5), DTX_REJ_POST_ONLY_WOULD_TRADE);
    fx_rejected(&F, fx_fok(A, 2, FX_BUY, 105, 50), DTX_REJ_FOK_NOT_FILLABLE);
    fx_rejected(&F, fx_market(A, 2, FX_SELL, 5), DTX_REJ_NO_LIQUIDITY);
    cr_assert_eq(g.calls, 7);
}

/* ---- a rejected order changes nothing ------------------------------------------------------ */

static uint16_t gate_by_clordid(void *ctx, const dtx_gate_request *req)
{
    (void)ctx;
    return req->cmd->clordid == 666 ? DTX_REJ_INSUFFICIENT_MARGIN : DTX_REJ_NONE;
}

/* Sends c to both engines and checks that their digests agree. */
static void both(fx *f, fx *g, dtx_command c)
{
    fx_send(f, c);
    fx_send(g, c);
    cr_assert_eq(dtx_engine_digest(f->e), dtx_engine_digest(g->e));
}

Test(engine_validation, a_rejected_order_gets_no_order_id_and_changes_nothing_but_the_exec_id)
{
    /*
     * The digest covers the ExecID counter, which every event (a REJECT
     * too) advances. So the twin engine G gets, in place of each rejected
     * order, a cancel of an unknown order: one CANCEL_REJECT, nothing else.
     * Equal digests after each step mean the reject changed no book, no
     * queue, no counter but the ExecID; equal OrderIDs of the next accepted
     * order mean it took none.
     */
    fx G;
    fx_init(&G, NULL);
    dtx_engine_set_gate(F.e, gate_by_clordid, NULL);
    both(&F, &G, fx_limit(A, 1, FX_BUY, 100, 5));
    both(&F, &G, fx_iceberg(B, 2, FX_SELL, 105, 10, 2));
    both(&F, &G, fx_stop(A, 3, FX_BUY, 120, 5));
    both(&F, &G, fx_day(A, 4, FX_SELL, 110, 5));
    both(&F, &G, fx_status(FX_SEC_B, DTX_TRADING_HALTED));
    uint64_t d0 = dtx_engine_digest(F.e);

    dtx_command bad[] = {
        fx_limit(A, 10, 7, 100, 5),                            /* InvalidField */
        on(fx_limit(A, 11, FX_BUY, 100, 5), FX_SEC_UNKNOWN),   /* UnknownInstrument */
        on(fx_limit(A, 12, FX_BUY, 100, 5), FX_SEC_B),         /* InstrumentHalted */
        fx_day(A, 13, FX_BUY, 100, 0),                         /* QtyOutOfRange */
        fx_stop_limit(A, 14, FX_BUY, 120, 121, 5),             /* PriceNotOnTick (below) */
        fx_limit(A, 1, FX_BUY, 99, 5),                         /* DuplicateClOrdID */
        fx_gtd(A, 15, FX_BUY, FX_MAX_TICKS + 1, 5, F.now + FX_DAY_NS), /* PriceOutsideBand */
        fx_day(A, 666, FX_BUY, 101, 5),                        /* the gate */
        fx_post_only(A, 16, FX_BUY, 105, 5),                   /* PostOnlyWouldTrade */
        fx_fok(A, 17, FX_BUY, 105, 11),                        /* FOKNotFillable */
    };
    bad[4].stop_px += 1;
    const uint16_t want[] = {DTX_REJ_INVALID_FIELD, DTX_REJ_UNKNOWN_INSTRUMENT, DTX_REJ_INSTRUMENT_HALTED,
                             DTX_REJ_QTY_OUT_OF_RANGE, DTX_REJ_PRICE_NOT_ON_TICK, DTX_REJ_DUPLICATE_CLORDID,
                             DTX_REJ_PRICE_OUTSIDE_BAND, DTX_REJ_INSUFFICIENT_MARGIN,
                             DTX_REJ_POST_ONLY_WOULD_TRADE, DTX_REJ_FOK_NOT_FILLABLE};
    size_t nwant = sizeof want / sizeof want[0];
    for (size_t i = 0; i < nwant; i++) {
        fx_send(&F, bad[i]);
        fx_expect_count(&F, 1);
        fx_expect_reject(&F, 0, &bad[i], want[i]);
        fx_send(&G, fx_cancel(C, 900 + i, 0x7777));
        fx_expect_count(&G, 1);
        cr_assert_eq(dtx_engine_digest(F.e), dtx_engine_digest(G.e), "reject %s changed the state",
                     dtx_reject_reason_name(want[i]));
    }
    cr_assert_neq(dtx_engine_digest(F.e), d0, "the ExecID counter moved");

    /* NoLiquidity: a market sell on FX_SEC_LOT, whose bid side is empty */
    dtx_command m = on(fx_market(B, 18, FX_SELL, 10), FX_SEC_LOT);
    fx_send(&F, m);
    fx_expect_count(&F, 1);
    fx_expect_reject(&F, 0, &m, DTX_REJ_NO_LIQUIDITY);
    fx_send(&G, fx_cancel(C, 999, 0x7777));
    cr_assert_eq(dtx_engine_digest(F.e), dtx_engine_digest(G.e));

    /* the next accepted order gets the same OrderID in both */
    dtx_command n = fx_limit(C, 30, FX_BUY, 90, 1);
    fx_send(&F, n);
    fx_send(&G, n);
    cr_assert_eq(fx_ev(&F, 0)->order_id, fx_ev(&G, 0)->order_id);
    cr_assert_eq(fx_ev(&F, 0)->exec_id, fx_ev(&G, 0)->exec_id);
    cr_assert_eq(dtx_engine_digest(F.e), dtx_engine_digest(G.e));
    dtx_engine_stats sf, sg;
    dtx_engine_get_stats(F.e, &sf);
    dtx_engine_get_stats(G.e, &sg);
    cr_assert_eq(sf.working_orders, sg.working_orders);
    cr_assert_eq(sf.working_orders, 5);
    fx_fini(&G);
}

Test(engine_validation, a_rejected_timed_order_changes_nothing_even_when_the_expiry_queue_was_compacted)
{
    /*
     * The expiry queue is full of entries of orders that are gone: a Day
     * order passes the capacity check by dropping them, then the gate
     * rejects it. The digest (over the live entries) is that of a twin
     * that never saw the order.
     */
    fx_fini(&F);
    fx_opts o = {.max_timed = 4};
    fx_init(&F, &o);
    fx G;
    fx_init(&G, &o);
    dtx_engine_set_gate(F.e, gate_by_clordid, NULL);
    /* expiring after 1, 5, 2 and 6 s: the queue's array is [1 5 2 6]; with the
     * first gone, what is left in array order is no longer a heap */
    static const uint64_t after_s[4] = {1, 5, 2, 6};
    uint64_t id[4];
    for (int i = 0; i < 4; i++) {
        dtx_command c = fx_gtd(A, 1 + (uint64_t)i, FX_BUY, 100 + i, 5, F.now + after_s[i] * FX_S);
        both(&F, &G, c);
        id[i] = fx_ev(&F, 0)->order_id;
    }
    both(&F, &G, fx_cancel(A, 10, id[0]));
    dtx_command bad = fx_day(A, 666, FX_BUY, 90, 5);
    fx_send(&F, bad);
    fx_expect_count(&F, 1);
    fx_expect_reject(&F, 0, &bad, DTX_REJ_INSUFFICIENT_MARGIN);
    fx_send(&G, fx_cancel(C, 900, 0x7777));
    cr_assert_eq(dtx_engine_digest(F.e), dtx_engine_digest(G.e));
    /* and both expire the same orders in the same order */
    fx_time(&F, FX_T0 + 10 * FX_S);
    fx_time(&G, FX_T0 + 10 * FX_S);
    fx_expect_count(&F, 3);
    cr_assert_eq(fx_ev(&F, 0)->order_id, id[2]);
    cr_assert_eq(fx_ev(&F, 1)->order_id, id[1]);
    cr_assert_eq(fx_ev(&F, 2)->order_id, id[3]);
    cr_assert_eq(fx_count(&G), 3);
    cr_assert_eq(dtx_engine_digest(F.e), dtx_engine_digest(G.e));
    fx_fini(&G);
}
