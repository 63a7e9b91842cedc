/*
 * e2e_rejects.c - every reject reason a trader can reach from the wire, over
 * real sockets against the real dtx-engine, through the client library:
 * the order's ExecutionReportReject (204), a cancel's or replace's
 * OrderCancelReject (205) and a mass cancel's BusinessMessageReject (207),
 * each with its RejectReason and Text, and nothing applied (a barrier round
 * trip shows no other report follows).
 *
 * Not reachable by a trader key of the default set-up, so not here:
 * InstrumentHalted, AccountDisabled (operator and risk messages do not exist
 * yet), NotAuthorized (the demo keys are all traders), MaxOrderQty,
 * MaxNotional, PositionLimit (no limits in the default risk configuration).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dtx/types.h"
#include "support/e2e_engine.h"

static e2e_engine eng;

static void teardown(void) { e2e_cleanup(&eng); }

TestSuite(e2e_rejects, .fini = teardown, .timeout = 120);

/* Sends m and expects ExecutionReportReject with reason (and its name as
 * Text), echoing ClOrdID, SecurityID and Side. */
static void expect_order_reject(e2e_client *cl, const dtx_sbe_new_order_single *m, uint16_t reason)
{
    e2e_send(cl, m);
    const e2e_report *r = e2e_next(cl);
    cr_assert_eq(r->r.template_id, DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID,
                 "clordid %llu: template %u came, a reject %s expected",
                 (unsigned long long)m->cl_ord_id, r->r.template_id, dtx_reject_reason_name(reason));
    cr_assert_eq(r->r.u.reject.reject_reason, reason, "clordid %llu: %s, %s expected",
                 (unsigned long long)m->cl_ord_id,
                 dtx_reject_reason_name(r->r.u.reject.reject_reason),
                 dtx_reject_reason_name(reason));
    cr_assert_eq(r->r.u.reject.cl_ord_id, m->cl_ord_id);
    cr_assert_eq(r->r.u.reject.security_id, m->security_id);
    cr_assert_eq(r->r.u.reject.side, m->side);
    cr_assert_str_eq(r->text, dtx_reject_reason_name(reason));
}

static uint64_t rest(e2e_client *cl, uint64_t clordid, uint8_t side, int64_t px, int64_t qty)
{
    dtx_sbe_new_order_single m = e2e_limit(clordid, side, px, qty);
    e2e_send(cl, &m);
    const e2e_report *r = e2e_expect(cl, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    return r->r.u.er_new.order_id;
}

Test(e2e_rejects, new_order_rejects_in_validation_order)
{
    e2e_start(&eng, NULL);
    e2e_client *a = e2e_login(&eng, 1), *b = e2e_login(&eng, 2);
    dtx_sbe_new_order_single m;

    m = e2e_limit(1, DTX_SIDE_BUY, PX(65000), 1);
    m.exec_inst = 0x04; /* not a defined ExecInst bit */
    expect_order_reject(a, &m, DTX_REJ_INVALID_FIELD);
    m = e2e_limit(2, DTX_SIDE_BUY, PX(65000), 1);
    m.reserved[3] = 1; /* reserved bytes must be zero (answered by the gateway) */
    expect_order_reject(a, &m, DTX_REJ_INVALID_FIELD);
    m = e2e_limit(3, DTX_SIDE_BUY, PX(65000), 1);
    m.stop_px = PX(64000); /* StopPx on a Limit order */
    expect_order_reject(a, &m, DTX_REJ_INVALID_FIELD);
    m = e2e_limit(4, DTX_SIDE_BUY, PX(65000), 1);
    m.security_id = 99;
    expect_order_reject(a, &m, DTX_REJ_UNKNOWN_INSTRUMENT);
    m = e2e_limit(5, DTX_SIDE_BUY, PX(65000), 1000001); /* above MaxQty */
    expect_order_reject(a, &m, DTX_REJ_QTY_OUT_OF_RANGE);
    m = e2e_limit(6, DTX_SIDE_BUY, PX(65000.25), 1); /* tick 0.5 */
    expect_order_reject(a, &m, DTX_REJ_PRICE_NOT_ON_TICK);

    rest(a, 7, DTX_SIDE_BUY, PX(60000), 1);
    m = e2e_limit(7, DTX_SIDE_BUY, PX(59000), 1);
    expect_order_reject(a, &m, DTX_REJ_DUPLICATE_CLORDID);
    m = e2e_limit(8, DTX_SIDE_SELL, PX(65000), 1);
    m.exec_inst = DTX_EXEC_REDUCE_ONLY; /* no position to reduce */
    expect_order_reject(a, &m, DTX_REJ_REDUCE_ONLY_WOULD_INCREASE);
    m = e2e_limit(9, DTX_SIDE_BUY, PX(50000), 1000000); /* 500k margin over 100k */
    expect_order_reject(a, &m, DTX_REJ_INSUFFICIENT_MARGIN);

    rest(b, 1, DTX_SIDE_SELL, PX(61000), 2);
    m = e2e_limit(10, DTX_SIDE_BUY, PX(61000), 1);
    m.exec_inst = DTX_EXEC_POST_ONLY;
    expect_order_reject(a, &m, DTX_REJ_POST_ONLY_WOULD_TRADE);
    m = e2e_limit(11, DTX_SIDE_BUY, PX(61000), 3);
    m.time_in_force = DTX_TIF_FOK; /* 2 available */
    expect_order_reject(a, &m, DTX_REJ_FOK_NOT_FILLABLE);
    e2e_barrier(a);
    e2e_barrier(b); /* b's order did not trade */
    e2e_client_free(a);
    e2e_client_free(b);
    e2e_stop(&eng);
}

Test(e2e_rejects, market_orders_without_reference_price_or_liquidity)
{
    e2e_start(&eng, NULL);
    e2e_client *a = e2e_login(&eng, 1), *b = e2e_login(&eng, 2);
    dtx_sbe_new_order_single m = e2e_limit(1, DTX_SIDE_BUY, DTX_PRICE_NULL, 1);
    m.security_id = 2;
    m.ord_type = DTX_ORD_MARKET;
    m.time_in_force = DTX_TIF_IOC;
    /* ETH-PERP has never traded and has no mark: no reference price. */
    expect_order_reject(a, &m, DTX_REJ_PRICE_OUTSIDE_BAND);

    /* A trade gives it one; then a market buy meets an empty ask side. */
    dtx_sbe_new_order_single s = e2e_limit(2, DTX_SIDE_SELL, PX(3000), 1);
    s.security_id = 2;
    e2e_send(b, &s);
    e2e_expect(b, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    dtx_sbe_new_order_single t = s;
    t.cl_ord_id = 3;
    t.side = DTX_SIDE_BUY;
    e2e_send(a, &t);
    e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    e2e_expect(a, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    e2e_expect(b, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    m.cl_ord_id = 4;
    expect_order_reject(a, &m, DTX_REJ_NO_LIQUIDITY);
    e2e_barrier(a);
    e2e_barrier(b);
    e2e_client_free(a);
    e2e_client_free(b);
    e2e_stop(&eng);
}

Test(e2e_rejects, cancel_replace_and_mass_cancel_rejects)
{
    e2e_start(&eng, NULL);
    e2e_client *a = e2e_login(&eng, 1), *b = e2e_login(&eng, 2);
    uint64_t oid = rest(a, 1, DTX_SIDE_BUY, PX(60000), 2);
    dtx_sbe_new_order_single po = e2e_limit(2, DTX_SIDE_BUY, PX(59000), 1);
    po.exec_inst = DTX_EXEC_POST_ONLY;
    e2e_send(a, &po);
    e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    rest(b, 1, DTX_SIDE_SELL, PX(61000), 1);
    const e2e_report *r;

    /* Another account's order: UnknownOrder. */
    dtx_sbe_order_cancel_request c = {.cl_ord_id = 5, .order_id = oid};
    cr_assert_eq(dtx_client_cancel(b->c, &c, NULL), DTX_OK);
    r = e2e_expect(b, DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.cancel_reject.reject_reason, DTX_REJ_UNKNOWN_ORDER);
    /* The right order, the wrong side: UnknownOrder. */
    c = (dtx_sbe_order_cancel_request){.cl_ord_id = 6, .order_id = oid, .side = DTX_SIDE_SELL};
    cr_assert_eq(dtx_client_cancel(a->c, &c, NULL), DTX_OK);
    r = e2e_expect(a, DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.cancel_reject.reject_reason, DTX_REJ_UNKNOWN_ORDER);
    cr_assert_eq(r->r.u.cancel_reject.cxl_rej_response_to, 1);
    /* Reserved bytes of a cancel: InvalidField, from the gateway. */
    c = (dtx_sbe_order_cancel_request){.cl_ord_id = 7, .order_id = oid, .reserved = {0, 1, 0}};
    cr_assert_eq(dtx_client_cancel(a->c, &c, NULL), DTX_OK);
    r = e2e_expect(a, DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.cancel_reject.reject_reason, DTX_REJ_INVALID_FIELD);
    cr_assert_eq(r->r.u.cancel_reject.order_id, oid);

    /* Replace to a ClOrdID another working order has: DuplicateClOrdID. */
    dtx_sbe_order_cancel_replace_request q = {.cl_ord_id = 2, .orig_cl_ord_id = 1,
                                              .price = DTX_PRICE_NULL, .order_qty = 1};
    cr_assert_eq(dtx_client_replace(a->c, &q, NULL), DTX_OK);
    r = e2e_expect(a, DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.cancel_reject.reject_reason, DTX_REJ_DUPLICATE_CLORDID);
    cr_assert_eq(r->r.u.cancel_reject.cxl_rej_response_to, 2);
    /* Replace off the tick: PriceNotOnTick. */
    q = (dtx_sbe_order_cancel_replace_request){.cl_ord_id = 8, .orig_cl_ord_id = 1,
                                               .price = PX(60000.1), .order_qty = 2};
    cr_assert_eq(dtx_client_replace(a->c, &q, NULL), DTX_OK);
    r = e2e_expect(a, DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.cancel_reject.reject_reason, DTX_REJ_PRICE_NOT_ON_TICK);
    /* A post-only order replaced to a crossing price: PostOnlyWouldTrade, unchanged. */
    q = (dtx_sbe_order_cancel_replace_request){.cl_ord_id = 9, .orig_cl_ord_id = 2,
                                               .price = PX(61000), .order_qty = 1};
    cr_assert_eq(dtx_client_replace(a->c, &q, NULL), DTX_OK);
    r = e2e_expect(a, DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.cancel_reject.reject_reason, DTX_REJ_POST_ONLY_WOULD_TRADE);
    cr_assert_str_eq(r->text, "PostOnlyWouldTrade");

    /* Mass cancel: unknown side, reserved bytes. */
    uint64_t seq;
    dtx_sbe_order_mass_cancel_request mc = {.cl_ord_id = 10, .side = 3};
    cr_assert_eq(dtx_client_mass_cancel(a->c, &mc, &seq), DTX_OK);
    r = e2e_expect(a, DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.business_reject.ref_template_id, 103);
    cr_assert_eq(r->r.u.business_reject.ref_seq_num, seq);
    mc = (dtx_sbe_order_mass_cancel_request){.cl_ord_id = 11, .reserved = {1, 0, 0}};
    cr_assert_eq(dtx_client_mass_cancel(a->c, &mc, &seq), DTX_OK);
    r = e2e_expect(a, DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.business_reject.reject_reason, DTX_REJ_INVALID_FIELD);
    cr_assert_eq(r->r.u.business_reject.ref_seq_num, seq);

    /* Nothing was canceled or changed: both orders still cancel normally. */
    c = (dtx_sbe_order_cancel_request){.cl_ord_id = 12, .orig_cl_ord_id = 1};
    cr_assert_eq(dtx_client_cancel(a->c, &c, NULL), DTX_OK);
    r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
    cr_assert_eq(r->r.u.canceled.order_id, oid);
    c = (dtx_sbe_order_cancel_request){.cl_ord_id = 13, .orig_cl_ord_id = 2};
    cr_assert_eq(dtx_client_cancel(a->c, &c, NULL), DTX_OK);
    e2e_expect(a, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
    e2e_barrier(a);
    e2e_barrier(b);
    e2e_client_free(a);
    e2e_client_free(b);
    e2e_stop(&eng);
}

Test(e2e_rejects, too_many_open_orders_then_throttled)
{
    /* Two working orders at most; a bucket of 4 messages refilled at 1/s. */
    e2e_start(&eng, "[core]\nmax_orders = 2\n[session]\nthrottle_rate = 1\nthrottle_burst = 4\n");
    e2e_client *a = e2e_login(&eng, 1);
    for (int i = 0; i < 5; i++) {
        dtx_sbe_new_order_single m = e2e_limit(1 + (uint64_t)i, DTX_SIDE_BUY, PX(60000 - i), 1);
        e2e_send(a, &m); /* all five at once: well within one second */
    }
    /* The gateway answers Throttled itself, so that reject may overtake the
     * core's reports of earlier orders: sort the answers by ClOrdID. */
    uint16_t got[6] = {0};
    for (int i = 0; i < 5; i++) {
        const e2e_report *r = e2e_next(a);
        if (r->r.template_id == DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID) {
            cr_assert_leq(r->r.u.er_new.cl_ord_id, 5);
            got[r->r.u.er_new.cl_ord_id] = 0xFFFF;
        } else {
            cr_assert_eq(r->r.template_id, DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID);
            cr_assert_leq(r->r.u.reject.cl_ord_id, 5);
            got[r->r.u.reject.cl_ord_id] = r->r.u.reject.reject_reason;
        }
    }
    cr_assert_eq(got[1], 0xFFFF, "order 1 accepted");
    cr_assert_eq(got[2], 0xFFFF, "order 2 accepted");
    cr_assert_eq(got[3], DTX_REJ_TOO_MANY_OPEN_ORDERS, "order 3: %s", dtx_reject_reason_name(got[3]));
    cr_assert_eq(got[4], DTX_REJ_TOO_MANY_OPEN_ORDERS, "order 4: %s", dtx_reject_reason_name(got[4]));
    cr_assert_eq(got[5], DTX_REJ_THROTTLED, "order 5: %s", dtx_reject_reason_name(got[5]));
    e2e_client_free(a);
    e2e_stop(&eng);
}
