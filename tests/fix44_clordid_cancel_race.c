/*
 * fix44_clordid_cancel_race.c - a cancel that crosses the fill of its order
 * is answered with an OrderCancelReject that echoes the OrigClOrdID (41)
 * string the client sent, although the order's ClOrdID entry was reclaimed
 * (net/fix44_session.c, 1f5b84b) before the engine's answer arrived.
 *
 * Fails on 1f5b84b..d8f1fbf: 41 was written as the internal u64
 * (9223372036854775809), since store_out() resolved the OrigClOrdID string
 * from an entry that the fill had already freed. The fix (net/fix44_app.c):
 * the request's own entry (held until its answer) keeps the 41 string as
 * sent (fclord.orig, copied by build_command() for F and G), and an engine
 * CANCEL_REJECT echoes it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dtx/types.h"
#include "support/fix44_harness.h"

static fix44_harness H;
static int S;
#define NOW (XH_T0 + 1000)

static void start(void)
{
    dtx_fix44_config c = {.max_connections = XH_CONNS, .max_sessions = 4,
                          .session_base = XH_BASE, .store_depth = 64,
                          .max_clordids = 16, .max_orders = 256,
                          .send_buffer_bytes = 65536, .throttle_rate = 10000000,
                          .throttle_burst = 10000000};
    xh_init(&H, &c);
    S = xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
}
static void teardown(void) { xh_fini(&H); }
TestSuite(fix44_clordid_cancel_race, .init = start, .fini = teardown);

static uint32_t live(void)
{
    dtx_fix44_stats st;
    dtx_fix44_stats_get(H.f, &st);
    return st.clordids_live;
}

static void event(uint8_t type, uint64_t clordid, uint64_t orig, uint64_t order_id,
                  int64_t leaves)
{
    static uint64_t exec_id = 1;
    dtx_event ev = xh_event(type, (uint32_t)S, clordid, order_id, exec_id++);
    ev.orig_clordid = orig;
    ev.leaves_qty = leaves;
    if (type == DTX_EV_FILL) {
        ev.last_qty = 10 - leaves;
        ev.cum_qty = 10 - leaves;
        ev.ord_status = leaves ? DTX_STATUS_PARTIALLY_FILLED : DTX_STATUS_FILLED;
    }
    if (type == DTX_EV_CANCEL_REJECT) {
        ev.reject_reason = DTX_REJ_UNKNOWN_ORDER;
        ev.response_to = DTX_CXL_REJ_CANCEL;
    }
    cr_assert_eq(dtx_fix44_on_event(H.f, &ev, NOW), DTX_OK);
}

/* D "A", acknowledged as order 77; returns its u64 ClOrdID. */
static uint64_t working_order_a(void)
{
    xh_send(&H, 0, "D", "11=A|55=BTC-PERP|54=1|38=10|40=2|44=100|", NOW);
    cr_assert_eq(H.ncmds, 1);
    uint64_t a = H.cmds[0].clordid;
    event(DTX_EV_NEW, a, 0, 77, 10);
    fix_msg m = xh_expect(&H, 0, "8");
    cr_assert_str_eq(xh_get(&m, 150), "0");
    return a;
}

Test(fix44_clordid_cancel_race, a_cancel_in_flight_when_its_order_fills_is_rejected_naming_A)
{
    uint64_t a = working_order_a();
    xh_send(&H, 0, "F", "11=X|41=A|55=BTC-PERP|54=1|", NOW);
    cr_assert_eq(H.ncmds, 2, "the cancel is submitted while A works");
    cr_assert_eq(H.cmds[1].orig_clordid, a);
    uint64_t x = H.cmds[1].clordid;
    /* the engine fills A before it reads the cancel ... */
    event(DTX_EV_FILL, a, 0, 77, 0);
    fix_msg m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 39), "2");
    /* ... and answers the cancel: too late, the order is gone */
    event(DTX_EV_CANCEL_REJECT, x, a, 0, 0);
    m = xh_expect(&H, 0, "9");
    cr_expect_str_eq(xh_get(&m, 11), "X");
    cr_expect_str_eq(xh_get(&m, 41), "A", "OrigClOrdID as the client sent it, not %s",
                     xh_get(&m, 41));
    cr_expect_str_eq(xh_get(&m, 39), "2", "the order is filled, not %s", xh_get(&m, 39));
    cr_expect_eq(live(), 0, "both entries free once the cancel is answered");
}

Test(fix44_clordid_cancel_race, a_replace_that_crosses_a_partial_fill_is_rejected_with_status_1)
{
    uint64_t a = working_order_a();
    xh_send(&H, 0, "G", "11=Y|41=A|55=BTC-PERP|54=1|38=10|44=101|", NOW);
    cr_assert_eq(H.ncmds, 2);
    uint64_t y = H.cmds[1].clordid;
    event(DTX_EV_FILL, a, 0, 77, 4);
    fix_msg m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 39), "1");
    dtx_event ev = xh_event(DTX_EV_CANCEL_REJECT, (uint32_t)S, y, 0, 900);
    ev.orig_clordid = a;
    ev.reject_reason = DTX_REJ_QTY_OUT_OF_RANGE;
    ev.response_to = DTX_CXL_REJ_REPLACE;
    cr_assert_eq(dtx_fix44_on_event(H.f, &ev, NOW), DTX_OK);
    m = xh_expect(&H, 0, "9");
    cr_expect_str_eq(xh_get(&m, 41), "A");
    cr_expect_str_eq(xh_get(&m, 39), "1", "partially filled and working, not %s",
                     xh_get(&m, 39));
    cr_expect_eq(live(), 1, "A works on");
}

Test(fix44_clordid_cancel_race, a_local_reject_of_a_cancel_by_name_reports_the_orders_status)
{
    working_order_a();
    xh_send(&H, 0, "F", "11=Z|41=A|55=BTC-PERP|54=7|", NOW);
    cr_expect_eq(H.ncmds, 1, "answered by the gateway");
    fix_msg m = xh_expect(&H, 0, "9");
    cr_expect_str_eq(xh_get(&m, 58), "reason=19 InvalidField");
    cr_expect_str_eq(xh_get(&m, 39), "0", "A is New, not %s", xh_get(&m, 39));
    cr_expect_eq(live(), 1);
}
