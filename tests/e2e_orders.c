/*
 * e2e_orders.c - every application message (100-103) and every report
 * (200-207) over real sockets: the real dtx-engine, driven by the client
 * library (dtx/client.h). New, trade (both sides, same TradeID), cancel,
 * replace (priority kept, price change, quantity at CumQty cancels), mass
 * cancel, IOC remainder, and the rejects of each request type.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dtx/types.h"
#include "support/e2e_engine.h"

static e2e_engine eng;

static void teardown(void) { e2e_cleanup(&eng); }

TestSuite(e2e_orders, .fini = teardown, .timeout = 120);

Test(e2e_orders, new_order_is_acknowledged_with_its_fields_and_rests)
{
    e2e_start(&eng, NULL);
    e2e_client *a = e2e_login(&eng, 1);
    dtx_sbe_new_order_single m = e2e_limit(7, DTX_SIDE_BUY, PX(65000.5), 3);
    uint64_t seq = e2e_send(a, &m);
    cr_assert_eq(seq, 1, "the first application message of a session is number 1");
    const e2e_report *r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_assert_eq(r->r.seq, 1);
    cr_assert_eq(r->r.retransmitted, 0);
    cr_assert_eq(r->r.u.er_new.cl_ord_id, 7);
    cr_assert_neq(r->r.u.er_new.order_id, 0);
    cr_assert_eq(r->r.u.er_new.security_id, 1);
    cr_assert_eq(r->r.u.er_new.side, DTX_SIDE_BUY);
    cr_assert_eq(r->r.u.er_new.ord_type, DTX_ORD_LIMIT);
    cr_assert_eq(r->r.u.er_new.time_in_force, DTX_TIF_GTC);
    cr_assert_eq(r->r.u.er_new.price, PX(65000.5));
    cr_assert_eq(r->r.u.er_new.order_qty, 3);
    cr_assert_eq(r->r.u.er_new.leaves_qty, 3);
    cr_assert_eq(r->r.u.er_new.stop_px, DTX_PRICE_NULL);
    e2e_barrier(a);
    cr_assert_eq(dtx_client_terminate_wait(a->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    const e2e_event *t = e2e_wait_event(a, DTX_CLIENT_EV_TERMINATED, NULL);
    cr_assert_eq(t->e.code, 0, "the server answers Terminate with Finished");
    cr_assert_eq(t->e.by_peer, 0);
    e2e_client_free(a);
    e2e_stop(&eng);
}

Test(e2e_orders, a_cross_reports_trades_to_both_sides_with_one_trade_id)
{
    e2e_start(&eng, NULL);
    e2e_client *a = e2e_login(&eng, 1), *b = e2e_login(&eng, 2);
    dtx_sbe_new_order_single ma = e2e_limit(10, DTX_SIDE_SELL, PX(65000), 5);
    e2e_send(a, &ma);
    uint64_t oid = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID)->r.u.er_new.order_id;
    dtx_sbe_new_order_single mb = e2e_limit(20, DTX_SIDE_BUY, PX(65100), 2);
    e2e_send(b, &mb);
    e2e_expect(b, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    const e2e_report *tb = e2e_expect(b, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    cr_assert_eq(tb->r.u.trade.cl_ord_id, 20);
    cr_assert_eq(tb->r.u.trade.last_px, PX(65000), "the trade is at the resting price");
    cr_assert_eq(tb->r.u.trade.last_qty, 2);
    cr_assert_eq(tb->r.u.trade.leaves_qty, 0);
    cr_assert_eq(tb->r.u.trade.cum_qty, 2);
    cr_assert_eq(tb->r.u.trade.ord_status, DTX_STATUS_FILLED);
    cr_assert_eq(tb->r.u.trade.aggressor_indicator, 1);
    const e2e_report *ta = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    cr_assert_eq(ta->r.u.trade.cl_ord_id, 10);
    cr_assert_eq(ta->r.u.trade.order_id, oid);
    cr_assert_eq(ta->r.u.trade.leaves_qty, 3);
    cr_assert_eq(ta->r.u.trade.ord_status, DTX_STATUS_PARTIALLY_FILLED);
    cr_assert_eq(ta->r.u.trade.aggressor_indicator, 0);
    cr_assert_eq(ta->r.u.trade.trade_id, tb->r.u.trade.trade_id);
    cr_assert_neq(ta->r.u.trade.exec_id, tb->r.u.trade.exec_id);
    e2e_barrier(a);
    e2e_barrier(b);
    e2e_client_free(a);
    e2e_client_free(b);
    e2e_stop(&eng);
}

Test(e2e_orders, cancel_by_orig_clordid_and_by_order_id)
{
    e2e_start(&eng, NULL);
    e2e_client *a = e2e_login(&eng, 1);
    dtx_sbe_new_order_single m1 = e2e_limit(1, DTX_SIDE_BUY, PX(60000), 1);
    dtx_sbe_new_order_single m2 = e2e_limit(2, DTX_SIDE_BUY, PX(60000), 1);
    e2e_send(a, &m1);
    e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    e2e_send(a, &m2);
    uint64_t oid2 = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID)->r.u.er_new.order_id;

    dtx_sbe_order_cancel_request c1 = {.cl_ord_id = 3, .orig_cl_ord_id = 1};
    cr_assert_eq(dtx_client_cancel(a->c, &c1, NULL), DTX_OK);
    const e2e_report *r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
    cr_assert_eq(r->r.u.canceled.cl_ord_id, 3);
    cr_assert_eq(r->r.u.canceled.orig_cl_ord_id, 1);
    cr_assert_eq(r->r.u.canceled.cancel_reason, DTX_CANCEL_CLIENT_REQUEST);
    cr_assert_eq(r->r.u.canceled.cum_qty, 0);

    dtx_sbe_order_cancel_request c2 = {.cl_ord_id = 4, .order_id = oid2, .security_id = 1,
                                       .side = DTX_SIDE_BUY};
    cr_assert_eq(dtx_client_cancel(a->c, &c2, NULL), DTX_OK);
    r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
    cr_assert_eq(r->r.u.canceled.order_id, oid2);
    cr_assert_eq(r->r.u.canceled.cl_ord_id, 4);

    /* The same order again: it is gone. */
    cr_assert_eq(dtx_client_cancel(a->c, &c2, NULL), DTX_OK);
    r = e2e_expect(a, DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.cancel_reject.reject_reason, DTX_REJ_UNKNOWN_ORDER);
    cr_assert_eq(r->r.u.cancel_reject.cxl_rej_response_to, 1);
    cr_assert_eq(r->r.u.cancel_reject.order_id, oid2, "the reject echoes the OrderID");
    cr_assert_str_eq(r->text, "UnknownOrder");
    e2e_barrier(a);
    e2e_client_free(a);
    e2e_stop(&eng);
}

Test(e2e_orders, replace_changes_quantity_and_price_and_at_cum_qty_cancels)
{
    e2e_start(&eng, NULL);
    e2e_client *a = e2e_login(&eng, 1), *b = e2e_login(&eng, 2);
    dtx_sbe_new_order_single m = e2e_limit(100, DTX_SIDE_SELL, PX(70000), 10);
    e2e_send(a, &m);
    uint64_t oid = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID)->r.u.er_new.order_id;

    /* Lower quantity, same price. */
    dtx_sbe_order_cancel_replace_request q = {.cl_ord_id = 101, .orig_cl_ord_id = 100,
                                              .price = DTX_PRICE_NULL, .order_qty = 8};
    cr_assert_eq(dtx_client_replace(a->c, &q, NULL), DTX_OK);
    const e2e_report *r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_REPLACED_TEMPLATE_ID);
    cr_assert_eq(r->r.u.replaced.cl_ord_id, 101);
    cr_assert_eq(r->r.u.replaced.orig_cl_ord_id, 100);
    cr_assert_eq(r->r.u.replaced.order_id, oid, "the OrderID never changes");
    cr_assert_eq(r->r.u.replaced.price, PX(70000));
    cr_assert_eq(r->r.u.replaced.order_qty, 8);
    cr_assert_eq(r->r.u.replaced.leaves_qty, 8);

    /* New price, named by the chained ClOrdID. */
    dtx_sbe_order_cancel_replace_request p = {.cl_ord_id = 102, .orig_cl_ord_id = 101,
                                              .price = PX(69000), .order_qty = 8};
    cr_assert_eq(dtx_client_replace(a->c, &p, NULL), DTX_OK);
    r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_REPLACED_TEMPLATE_ID);
    cr_assert_eq(r->r.u.replaced.price, PX(69000));

    /* B takes 3; then a replace to 3 (= CumQty) cancels the order. */
    dtx_sbe_new_order_single t = e2e_limit(200, DTX_SIDE_BUY, PX(69000), 3);
    e2e_send(b, &t);
    e2e_expect(b, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    e2e_expect(b, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    cr_assert_eq(r->r.u.trade.cl_ord_id, 102);
    cr_assert_eq(r->r.u.trade.cum_qty, 3);
    dtx_sbe_order_cancel_replace_request z = {.cl_ord_id = 103, .orig_cl_ord_id = 102,
                                              .price = DTX_PRICE_NULL, .order_qty = 3};
    cr_assert_eq(dtx_client_replace(a->c, &z, NULL), DTX_OK);
    r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
    cr_assert_eq(r->r.u.canceled.cancel_reason, DTX_CANCEL_CLIENT_REQUEST);
    cr_assert_eq(r->r.u.canceled.cum_qty, 3);

    /* A replace of an order that is gone: OrderCancelReject, response to replace. */
    cr_assert_eq(dtx_client_replace(a->c, &z, NULL), DTX_OK);
    r = e2e_expect(a, DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.cancel_reject.cxl_rej_response_to, 2);
    cr_assert_eq(r->r.u.cancel_reject.reject_reason, DTX_REJ_UNKNOWN_ORDER);
    cr_assert_eq(r->r.u.cancel_reject.orig_cl_ord_id, 102);
    e2e_barrier(a);
    e2e_barrier(b);
    e2e_client_free(a);
    e2e_client_free(b);
    e2e_stop(&eng);
}

Test(e2e_orders, mass_cancel_cancels_the_accounts_orders_and_reports_the_count)
{
    e2e_start(&eng, NULL);
    e2e_client *a = e2e_login(&eng, 1), *b = e2e_login(&eng, 2);
    for (uint64_t i = 0; i < 3; i++) {
        dtx_sbe_new_order_single m = e2e_limit(10 + i, DTX_SIDE_BUY, PX(60000 - (double)i), 1);
        e2e_send(a, &m);
        e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    }
    dtx_sbe_new_order_single eth = e2e_limit(20, DTX_SIDE_SELL, PX(3000), 1);
    eth.security_id = 2;
    e2e_send(a, &eth);
    e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    dtx_sbe_new_order_single other = e2e_limit(30, DTX_SIDE_BUY, PX(60000), 1);
    e2e_send(b, &other);
    e2e_expect(b, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);

    dtx_sbe_order_mass_cancel_request mc = {.cl_ord_id = 50, .security_id = 1};
    cr_assert_eq(dtx_client_mass_cancel(a->c, &mc, NULL), DTX_OK);
    for (int i = 0; i < 3; i++) {
        const e2e_report *r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
        cr_assert_eq(r->r.u.canceled.cancel_reason, DTX_CANCEL_MASS_CANCEL);
        cr_assert_eq(r->r.u.canceled.orig_cl_ord_id, 0, "unsolicited: OrigClOrdID 0");
        cr_assert_eq(r->r.u.canceled.security_id, 1);
    }
    const e2e_report *r = e2e_expect(a, DTX_SBE_ORDER_MASS_CANCEL_REPORT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.mass_cancel.cl_ord_id, 50);
    cr_assert_eq(r->r.u.mass_cancel.total_affected_orders, 3, "ETH-PERP and account 2 untouched");
    e2e_barrier(a);
    e2e_barrier(b); /* b heard nothing */

    /* An unknown instrument: BusinessMessageReject naming template 103. */
    dtx_sbe_order_mass_cancel_request bad = {.cl_ord_id = 51, .security_id = 99};
    uint64_t seq;
    cr_assert_eq(dtx_client_mass_cancel(a->c, &bad, &seq), DTX_OK);
    r = e2e_expect(a, DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.business_reject.ref_template_id, 103);
    cr_assert_eq(r->r.u.business_reject.ref_seq_num, seq);
    e2e_barrier(a);
    e2e_client_free(a);
    e2e_client_free(b);
    e2e_stop(&eng);
}

Test(e2e_orders, ioc_remainder_is_canceled_unfilled_and_unknown_template_gets_business_reject)
{
    e2e_start(&eng, NULL);
    e2e_client *a = e2e_login(&eng, 1), *b = e2e_login(&eng, 2);
    dtx_sbe_new_order_single rest = e2e_limit(1, DTX_SIDE_SELL, PX(65000), 2);
    e2e_send(a, &rest);
    e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    dtx_sbe_new_order_single ioc = e2e_limit(2, DTX_SIDE_BUY, PX(65000), 5);
    ioc.time_in_force = DTX_TIF_IOC;
    e2e_send(b, &ioc);
    e2e_expect(b, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_assert_eq(e2e_expect(b, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID)->r.u.trade.last_qty, 2);
    const e2e_report *r = e2e_expect(b, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
    cr_assert_eq(r->r.u.canceled.cancel_reason, DTX_CANCEL_UNFILLED);
    cr_assert_eq(r->r.u.canceled.cum_qty, 2);

    /* Template 199 of schema 7001 is not assigned (role messages stop at 186). */
    uint8_t body[16] = {0};
    uint64_t seq;
    cr_assert_eq(dtx_client_send_app(b->c, 199, sizeof body, body, sizeof body, &seq), DTX_OK);
    r = e2e_expect(b, DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.business_reject.ref_template_id, 199);
    cr_assert_eq(r->r.u.business_reject.ref_seq_num, seq);
    cr_assert_eq(r->r.u.business_reject.reject_reason, DTX_REJ_INVALID_FIELD);
    e2e_barrier(b);
    e2e_client_free(a);
    e2e_client_free(b);
    e2e_stop(&eng);
}

Test(e2e_orders, batched_output_goes_out_at_flush_in_order)
{
    e2e_start(&eng, NULL);
    dtx_client_config cfg = e2e_config(&eng, 1, NULL);
    cfg.batch_output = 1;
    e2e_client *a = e2e_client_new(&eng, &cfg);
    cr_assert_eq(dtx_client_connect_wait(a->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    for (uint64_t i = 1; i <= 5; i++) { /* a quote ladder */
        dtx_sbe_new_order_single m = e2e_limit(i, DTX_SIDE_BUY, PX(60000 - (double)i), 1);
        cr_assert_eq(e2e_send(a, &m), i);
    }
    cr_assert_eq(dtx_client_flush(a->c), DTX_OK);
    for (uint64_t i = 1; i <= 5; i++) {
        const e2e_report *r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
        cr_assert_eq(r->r.u.er_new.cl_ord_id, i);
        cr_assert_eq(r->r.seq, i);
    }
    e2e_barrier(a); /* dtx_client_wait flushes too */
    e2e_client_free(a);
    e2e_stop(&eng);
}
