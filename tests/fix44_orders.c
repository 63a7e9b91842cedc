/*
 * fix44_orders.c - FIX 4.4 application messages: D, F, G and q become the
 * same commands as their SBE twins (Symbol -> SecurityID, exact PRICE9,
 * enums, ExecInst, tag 7928, ClOrdID strings -> u64 per session); events
 * come back as ExecutionReport (ExecType, OrdStatus, AvgPx in integers),
 * OrderCancelReject, OrderMassCancelReport and BusinessMessageReject with
 * `reason=<n> <name>` texts.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dtx/types.h"
#include "support/fix44_harness.h"

static fix44_harness H;
static int S;
#define NOW (XH_T0 + 1000)
static void setup(void)
{
    xh_init(&H, NULL);
    S = xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
}
static void teardown(void) { xh_fini(&H); }
TestSuite(fix44_orders, .init = setup, .fini = teardown);

Test(fix44_orders, new_order_single_maps_every_field)
{
    xh_send(&H, 0, "D",
            "11=ord-1|55=ETH-PERP|54=2|38=25|40=4|44=3000.25|99=3001.5|59=6|"
            "126=20260102-00:00:00|18=6 E|111=5|7928=3|60=20260101-00:00:00|",
            NOW);
    cr_assert_eq(H.ncmds, 1);
    dtx_command c = H.cmds[0];
    cr_expect_eq(c.type, DTX_CMD_NEW_ORDER);
    cr_expect_eq(c.session, XH_BASE);
    cr_expect_eq(c.account, 7);
    cr_expect_eq(c.security_id, 2);
    cr_expect_eq(c.side, DTX_SIDE_SELL);
    cr_expect_eq(c.ord_type, DTX_ORD_STOP_LIMIT);
    cr_expect_eq(c.tif, DTX_TIF_GTD);
    cr_expect_eq(c.exec_inst, DTX_EXEC_POST_ONLY | DTX_EXEC_REDUCE_ONLY);
    cr_expect_eq(c.stp, DTX_STP_DECREMENT_AND_CANCEL);
    cr_expect_eq(c.price, 3000250000000);
    cr_expect_eq(c.stop_px, 3001500000000);
    cr_expect_eq(c.qty, 25);
    cr_expect_eq(c.display_qty, 5);
    cr_expect_eq(c.expire_time, XH_T0 + 86400 * XH_S);
    cr_expect_eq(c.clordid, (1ull << 63) | 1, "first ClOrdID of slot 0");
}

Test(fix44_orders, absent_optional_fields_take_wire_defaults)
{
    xh_send(&H, 0, "D", "11=m|55=BTC-PERP|54=1|38=1|40=1|", NOW);
    cr_assert_eq(H.ncmds, 1);
    cr_expect_eq(H.cmds[0].price, DTX_PRICE_NULL);
    cr_expect_eq(H.cmds[0].stop_px, DTX_PRICE_NULL);
    cr_expect_eq(H.cmds[0].tif, DTX_TIF_DAY, "FIX's default TimeInForce");
    cr_expect_eq(H.cmds[0].stp, DTX_STP_CANCEL_NEWEST);
    cr_expect_eq(H.cmds[0].exec_inst, 0);
    cr_expect_eq(H.cmds[0].display_qty, 0);
    cr_expect_eq(H.cmds[0].expire_time, 0);
}

Test(fix44_orders, clordid_strings_map_to_stable_numbers)
{
    xh_send(&H, 0, "D", "11=X|55=BTC-PERP|54=1|38=1|40=2|44=1|", NOW);
    xh_send(&H, 0, "D", "11=Y|55=BTC-PERP|54=1|38=1|40=2|44=1|", NOW);
    xh_send(&H, 0, "F", "11=Z|41=X|55=BTC-PERP|54=1|", NOW);
    xh_send(&H, 0, "G", "11=W|41=Y|37=55|55=BTC-PERP|54=1|38=3|44=2.5|111=1|", NOW);
    cr_assert_eq(H.ncmds, 4);
    uint64_t x = H.cmds[0].clordid, y = H.cmds[1].clordid;
    cr_expect_neq(x, y);
    cr_expect_eq(H.cmds[2].type, DTX_CMD_CANCEL);
    cr_expect_eq(H.cmds[2].orig_clordid, x);
    cr_expect_eq(H.cmds[2].order_id, 0);
    cr_expect_eq(H.cmds[2].security_id, 1);
    cr_expect_eq(H.cmds[2].side, 1);
    cr_expect_eq(H.cmds[3].type, DTX_CMD_REPLACE);
    cr_expect_eq(H.cmds[3].orig_clordid, y);
    cr_expect_eq(H.cmds[3].order_id, 55);
    cr_expect_eq(H.cmds[3].qty, 3);
    cr_expect_eq(H.cmds[3].price, 2500000000);
    cr_expect_eq(H.cmds[3].display_qty, 1);
    /* the same string again is the same number */
    xh_send(&H, 0, "D", "11=X|55=BTC-PERP|54=1|38=1|40=2|44=1|", NOW);
    cr_expect_eq(H.cmds[4].clordid, x);
}

Test(fix44_orders, replace_without_price_keeps_it)
{
    xh_send(&H, 0, "G", "11=W|37=9|38=3|54=1|40=2|", NOW);
    cr_assert_eq(H.ncmds, 1);
    cr_expect_eq(H.cmds[0].price, DTX_PRICE_NULL);
    cr_expect_eq(H.cmds[0].orig_clordid, 0);
    cr_expect_eq(H.cmds[0].order_id, 9);
}

Test(fix44_orders, mass_cancel_by_symbol_and_all)
{
    xh_send(&H, 0, "q", "11=mc1|530=1|55=ETH-PERP|54=2|", NOW);
    xh_send(&H, 0, "q", "11=mc2|530=7|", NOW);
    cr_assert_eq(H.ncmds, 2);
    cr_expect_eq(H.cmds[0].type, DTX_CMD_MASS_CANCEL);
    cr_expect_eq(H.cmds[0].security_id, 2);
    cr_expect_eq(H.cmds[0].side, 2);
    cr_expect_eq(H.cmds[1].security_id, 0);
    cr_expect_eq(H.cmds[1].side, 0);
    dtx_event ev = xh_event(DTX_EV_MASS_CANCEL_REPORT, (uint32_t)S, H.cmds[0].clordid, 0, 900);
    ev.total_affected = 3;
    ev.security_id = 2;
    ev.side = 2;
    dtx_fix44_on_event(H.f, &ev, NOW);
    fix_msg m = xh_expect(&H, 0, "r");
    cr_expect_str_eq(xh_get(&m, 11), "mc1");
    cr_expect_str_eq(xh_get(&m, 530), "1");
    cr_expect_str_eq(xh_get(&m, 531), "1");
    cr_expect_str_eq(xh_get(&m, 533), "3");
    cr_expect_str_eq(xh_get(&m, 37), "MC900");
    ev = xh_event(DTX_EV_MASS_CANCEL_REPORT, (uint32_t)S, H.cmds[1].clordid, 0, 901);
    ev.total_affected = 0;
    dtx_fix44_on_event(H.f, &ev, NOW);
    m = xh_expect(&H, 0, "r");
    cr_expect_str_eq(xh_get(&m, 530), "7");
    cr_expect_str_eq(xh_get(&m, 531), "7");
    cr_expect_str_eq(xh_get(&m, 533), "0");
}

Test(fix44_orders, mass_cancel_of_unknown_symbol_or_type_is_reported_rejected)
{
    xh_send(&H, 0, "q", "11=mc1|530=1|55=DOGE|", NOW);
    xh_send(&H, 0, "q", "11=mc2|530=3|", NOW);
    cr_expect_eq(H.ncmds, 0);
    fix_msg m = xh_expect(&H, 0, "r");
    cr_expect_str_eq(xh_get(&m, 531), "0");
    cr_expect_str_eq(xh_get(&m, 532), "1");
    m = xh_expect(&H, 0, "r");
    cr_expect_str_eq(xh_get(&m, 530), "3");
    cr_expect_str_eq(xh_get(&m, 531), "0");
    cr_expect_str_eq(xh_get(&m, 532), "0");
}

Test(fix44_orders, new_trade_and_fill_reports_carry_exec_type_status_and_integer_avg_px)
{
    xh_send(&H, 0, "D", "11=B1|55=BTC-PERP|54=1|38=10|40=2|44=101|59=1|", NOW);
    uint64_t cl = H.cmds[0].clordid;
    dtx_event ev = xh_event(DTX_EV_NEW, (uint32_t)S, cl, 42, 100);
    ev.price = 101000000000;
    dtx_fix44_on_event(H.f, &ev, NOW);
    fix_msg m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 150), "0");
    cr_expect_str_eq(xh_get(&m, 39), "0");
    cr_expect_str_eq(xh_get(&m, 37), "42");
    cr_expect_str_eq(xh_get(&m, 11), "B1");
    cr_expect_str_eq(xh_get(&m, 17), "100");
    cr_expect_str_eq(xh_get(&m, 55), "BTC-PERP");
    cr_expect_str_eq(xh_get(&m, 54), "1");
    cr_expect_str_eq(xh_get(&m, 40), "2");
    cr_expect_str_eq(xh_get(&m, 44), "101");
    cr_expect_str_eq(xh_get(&m, 38), "10");
    cr_expect_str_eq(xh_get(&m, 151), "10");
    cr_expect_str_eq(xh_get(&m, 14), "0");
    cr_expect_str_eq(xh_get(&m, 6), "0");
    cr_expect_str_eq(xh_get(&m, 60), "20260101-00:00:00.005");
    /* 3 @ 100, then 4 @ 100.5: AvgPx = 701/7 = 100.285714285714... -> 100.285714286 */
    ev = xh_event(DTX_EV_FILL, (uint32_t)S, cl, 42, 101);
    ev.price = 100000000000;
    ev.last_qty = 3;
    ev.cum_qty = 3;
    ev.leaves_qty = 7;
    ev.ord_status = DTX_STATUS_PARTIALLY_FILLED;
    dtx_fix44_on_event(H.f, &ev, NOW);
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 150), "F");
    cr_expect_str_eq(xh_get(&m, 39), "1");
    cr_expect_str_eq(xh_get(&m, 31), "100");
    cr_expect_str_eq(xh_get(&m, 32), "3");
    cr_expect_str_eq(xh_get(&m, 151), "7");
    cr_expect_str_eq(xh_get(&m, 14), "3");
    cr_expect_str_eq(xh_get(&m, 6), "100");
    ev = xh_event(DTX_EV_FILL, (uint32_t)S, cl, 42, 102);
    ev.price = 100500000000;
    ev.last_qty = 4;
    ev.cum_qty = 7;
    ev.leaves_qty = 3;
    ev.ord_status = DTX_STATUS_PARTIALLY_FILLED;
    dtx_fix44_on_event(H.f, &ev, NOW);
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 6), "100.285714286");
    /* a replace of the partly filled order reports OrdStatus 1 */
    ev = xh_event(DTX_EV_REPLACED, (uint32_t)S, cl, 42, 103);
    ev.orig_clordid = cl;
    ev.cum_qty = 7;
    ev.leaves_qty = 5;
    ev.order_qty = 12;
    dtx_fix44_on_event(H.f, &ev, NOW);
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 150), "5");
    cr_expect_str_eq(xh_get(&m, 39), "1");
    cr_expect_str_eq(xh_get(&m, 41), "B1");
    cr_expect_str_eq(xh_get(&m, 6), "100.285714286");
    /* the last 5 @ 101 fill it: 1207/12 = 100.58333... -> 100.583333333 */
    ev = xh_event(DTX_EV_FILL, (uint32_t)S, cl, 42, 104);
    ev.price = 101000000000;
    ev.last_qty = 5;
    ev.cum_qty = 12;
    ev.leaves_qty = 0;
    ev.ord_status = DTX_STATUS_FILLED;
    dtx_fix44_on_event(H.f, &ev, NOW);
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 39), "2");
    cr_expect_str_eq(xh_get(&m, 6), "100.583333333");
    cr_expect_str_eq(xh_get(&m, 151), "0");
    cr_expect_str_eq(xh_get(&m, 14), "12");
}

Test(fix44_orders, cancel_and_expiry_reports)
{
    xh_send(&H, 0, "D", "11=C1|55=BTC-PERP|54=1|38=10|40=2|44=100|", NOW);
    xh_send(&H, 0, "F", "11=C2|41=C1|55=BTC-PERP|54=1|", NOW);
    dtx_event ev = xh_event(DTX_EV_CANCELED, (uint32_t)S, H.cmds[1].clordid, 43, 200);
    ev.orig_clordid = H.cmds[0].clordid;
    ev.cancel_reason = DTX_CANCEL_CLIENT_REQUEST;
    dtx_fix44_on_event(H.f, &ev, NOW);
    fix_msg m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 150), "4");
    cr_expect_str_eq(xh_get(&m, 39), "4");
    cr_expect_str_eq(xh_get(&m, 11), "C2");
    cr_expect_str_eq(xh_get(&m, 41), "C1");
    cr_expect_str_eq(xh_get(&m, 151), "0");
    cr_expect_str_eq(xh_get(&m, 58), "cancel_reason=0 ClientRequest");
    ev = xh_event(DTX_EV_CANCELED, (uint32_t)S, H.cmds[0].clordid, 44, 201);
    ev.cancel_reason = DTX_CANCEL_EXPIRED;
    dtx_fix44_on_event(H.f, &ev, NOW);
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 150), "C");
    cr_expect_str_eq(xh_get(&m, 39), "C");
    cr_expect_str_eq(xh_get(&m, 41), "", "unsolicited: no OrigClOrdID");
}

Test(fix44_orders, engine_reject_is_execution_report_with_reason_text)
{
    xh_send(&H, 0, "D", "11=R1|55=BTC-PERP|54=1|38=10|40=2|44=100.3|", NOW);
    dtx_event ev = xh_event(DTX_EV_REJECT, (uint32_t)S, H.cmds[0].clordid, 0, 300);
    ev.reject_reason = DTX_REJ_PRICE_NOT_ON_TICK;
    dtx_fix44_on_event(H.f, &ev, NOW);
    fix_msg m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 150), "8");
    cr_expect_str_eq(xh_get(&m, 39), "8");
    cr_expect_str_eq(xh_get(&m, 103), "99");
    cr_expect_str_eq(xh_get(&m, 58), "reason=2 PriceNotOnTick");
    cr_expect_str_eq(xh_get(&m, 37), "NONE");
    cr_expect_str_eq(xh_get(&m, 11), "R1");
}

Test(fix44_orders, cancel_reject_echoes_ids_and_reason)
{
    xh_send(&H, 0, "F", "11=K2|41=K1|37=99|54=1|", NOW);
    cr_assert_eq(H.ncmds, 1);
    dtx_event ev = xh_event(DTX_EV_CANCEL_REJECT, (uint32_t)S, H.cmds[0].clordid, 99, 400);
    ev.orig_clordid = 0;
    ev.response_to = DTX_CXL_REJ_CANCEL;
    ev.reject_reason = DTX_REJ_UNKNOWN_ORDER;
    dtx_fix44_on_event(H.f, &ev, NOW);
    fix_msg m = xh_expect(&H, 0, "9");
    cr_expect_str_eq(xh_get(&m, 37), "99");
    cr_expect_str_eq(xh_get(&m, 11), "K2");
    cr_expect_str_eq(xh_get(&m, 39), "8");
    cr_expect_str_eq(xh_get(&m, 434), "1");
    cr_expect_str_eq(xh_get(&m, 102), "99");
    cr_expect_str_eq(xh_get(&m, 58), "reason=12 UnknownOrder");
}

Test(fix44_orders, unknown_symbol_and_off_grid_price_are_rejected_by_the_gateway)
{
    xh_send(&H, 0, "D", "11=U1|55=DOGE-PERP|54=1|38=1|40=2|44=1|", NOW);
    xh_send(&H, 0, "D", "11=U2|55=BTC-PERP|54=1|38=1|40=2|44=1.0000000001|", NOW);
    xh_send(&H, 0, "D", "11=U3|55=BTC-PERP|54=7|38=1|40=2|44=1|", NOW);
    xh_send(&H, 0, "F", "11=U4|41=never-sent|54=1|", NOW);
    cr_expect_eq(H.ncmds, 0);
    fix_msg m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 58), "reason=1 UnknownInstrument");
    cr_expect_str_eq(xh_get(&m, 55), "DOGE-PERP");
    cr_expect_str_eq(xh_get(&m, 11), "U1");
    cr_expect_str_eq(xh_get(&m, 17), "L0-2");
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 58), "reason=2 PriceNotOnTick");
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 58), "reason=19 InvalidField");
    m = xh_expect(&H, 0, "9");
    cr_expect_str_eq(xh_get(&m, 58), "reason=12 UnknownOrder");
    cr_expect_str_eq(xh_get(&m, 41), "never-sent", "OrigClOrdID as sent");
}

Test(fix44_orders, unsupported_message_and_missing_clordid_get_business_message_reject)
{
    xh_send(&H, 0, "H", "11=S|", NOW);
    fix_msg m = xh_expect(&H, 0, "j");
    cr_expect_str_eq(xh_get(&m, 45), "2");
    cr_expect_str_eq(xh_get(&m, 372), "H");
    cr_expect_str_eq(xh_get(&m, 380), "3");
    xh_send(&H, 0, "D", "55=BTC-PERP|54=1|38=1|40=2|", NOW);
    m = xh_expect(&H, 0, "j");
    cr_expect_str_eq(xh_get(&m, 45), "3");
    cr_expect_str_eq(xh_get(&m, 372), "D");
    cr_expect_str_eq(xh_get(&m, 380), "5");
    cr_expect_str_eq(xh_get(&m, 58), "ClOrdID (11) missing");
    xh_send(&H, 0, "D", "11=123456789012345678901|55=BTC-PERP|54=1|38=1|40=2|", NOW);
    m = xh_expect(&H, 0, "j");
    cr_expect_str_eq(xh_get(&m, 58), "ClOrdID (11) longer than 20");
    cr_expect_eq(H.ncmds, 0);
}

Test(fix44_orders, drop_copy_key_may_log_on_but_not_order)
{
    int s = xh_logon(&H, 1, XH_KEY_DROPCOPY, "COPY9", NOW);
    cr_expect_eq(s, (int)XH_BASE + 1);
    char buf[512];
    size_t n = xh_build(buf, sizeof buf, "D", "COPY9", 2, NOW, "11=d|55=BTC-PERP|54=1|38=1|40=2|44=1|");
    xh_feed(&H, 1, buf, n, NOW);
    cr_expect_eq(H.ncmds, 0);
    fix_msg m = xh_expect(&H, 1, "j");
    cr_expect_str_eq(xh_get(&m, 380), "6");
    cr_expect_str_eq(xh_get(&m, 58), "reason=20 NotAuthorized");
}

Test(fix44_orders, events_of_other_layers_are_not_taken)
{
    dtx_event ev = xh_event(DTX_EV_NEW, 5, 1, 1, 1);
    cr_expect_eq(dtx_fix44_on_event(H.f, &ev, NOW), DTX_EINVAL);
    ev = xh_event(DTX_EV_ADDED, (uint32_t)S, 1, 1, 1);
    cr_expect_eq(dtx_fix44_on_event(H.f, &ev, NOW), DTX_EINVAL);
    cr_expect_eq(xh_pending(&H, 0), 0);
}

Test(fix44_orders, new_order_without_side_gets_business_message_reject_required_field)
{
    xh_send(&H, 0, "D", "11=n|55=BTC-PERP|38=1|40=2|44=1|", NOW);
    cr_expect_eq(H.ncmds, 0);
    fix_msg m = xh_expect(&H, 0, "j");
    cr_expect_str_eq(xh_get(&m, 380), "5");
    cr_expect_str_eq(xh_get(&m, 58),
                     "Symbol (55), Side (54), OrderQty (38) and OrdType (40) are required");
}

Test(fix44_orders, orders_beyond_the_burst_are_rejected_throttled_and_refill_with_time)
{
    fix44_harness *h = &H;
    xh_fini(h);
    dtx_fix44_config c = {.max_connections = XH_CONNS, .max_sessions = 4,
                          .session_base = XH_BASE, .store_depth = 64, .max_clordids = 256,
                          .max_orders = 256, .send_buffer_bytes = 65536, .throttle_rate = 10,
                          .throttle_burst = 2};
    xh_init(h, &c);
    xh_logon(h, 0, XH_KEY_TRADER, "FIRM7", NOW);
    xh_send(h, 0, "D", "11=t1|55=BTC-PERP|54=1|38=1|40=2|44=1|", NOW);
    xh_send(h, 0, "D", "11=t2|55=BTC-PERP|54=1|38=1|40=2|44=1|", NOW);
    xh_send(h, 0, "D", "11=t3|55=BTC-PERP|54=1|38=1|40=2|44=1|", NOW);
    cr_expect_eq(h->ncmds, 2);
    fix_msg m = xh_expect(h, 0, "8");
    cr_expect_str_eq(xh_get(&m, 11), "t3");
    cr_expect_str_eq(xh_get(&m, 58), "reason=13 Throttled");
    cr_expect_str_eq(xh_get(&m, 55), "BTC-PERP");
    xh_send(h, 0, "F", "11=t4|41=t1|54=1|", NOW + 100 * XH_MS);
    cr_expect_eq(h->ncmds, 3, "one token back after 100 ms at 10/s");
}
