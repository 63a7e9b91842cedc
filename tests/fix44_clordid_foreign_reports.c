/*
 * fix44_clordid_foreign_reports.c - a FIX 4.4 session may cancel or replace
 * (by OrderID 37) an order its account entered over FIXP; the engine sends
 * the CANCELED / REPLACED to the order's session (docs/order-semantics.md:
 * "the order stays with the session that entered it: its events carry that
 * session"), a FIXP session number, which dtx-engine's h_event never hands
 * to the FIX layer. The request's ClOrdID entry, held since 1f5b84b until
 * the report that ends it, is then never released: every such request leaks
 * one entry, and after max_clordids of them the session can send nothing
 * ("ClOrdID table full") until the process restarts.
 *
 * Fails on 1f5b84b..d8f1fbf (clordids_live stays 1). The fix:
 * dtx_fix44_on_event(), for a report of a session it does not own, runs only
 * the ClOrdID release step (ids of the event's account only), stores and
 * writes nothing, and still returns DTX_EINVAL; h_event() in
 * apps/dtx_engine.c hands it every event.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dtx/types.h"
#include "support/fix44_harness.h"

static fix44_harness H;
static int S;
#define NOW (XH_T0 + 1000)
#define FIXP_SESSION 3u /* below XH_BASE: a FIXP session of the same account */

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
TestSuite(fix44_clordid_foreign_reports, .init = start, .fini = teardown);

static uint32_t live(void)
{
    dtx_fix44_stats st;
    dtx_fix44_stats_get(H.f, &st);
    return st.clordids_live;
}

/* What dtx-engine's h_event does with a FIXP session's report, once fixed. */
static void fixp_report(uint8_t type, uint64_t clordid, uint64_t orig, int64_t leaves)
{
    static uint64_t exec_id = 1;
    dtx_event ev = xh_event(type, FIXP_SESSION, clordid, 500, exec_id++);
    ev.orig_clordid = orig;
    ev.leaves_qty = leaves;
    if (type == DTX_EV_FILL) {
        ev.last_qty = 10 - leaves;
        ev.cum_qty = 10 - leaves;
        ev.ord_status = leaves ? DTX_STATUS_PARTIALLY_FILLED : DTX_STATUS_FILLED;
    }
    (void)dtx_fix44_on_event(H.f, &ev, NOW);
}

Test(fix44_clordid_foreign_reports, canceling_a_fixp_order_frees_the_requests_entry)
{
    xh_send(&H, 0, "F", "11=X|37=500|55=BTC-PERP|54=1|", NOW);
    cr_assert_eq(H.ncmds, 1);
    cr_assert_eq(live(), 1);
    fixp_report(DTX_EV_CANCELED, H.cmds[0].clordid, 42 /* the FIXP order's */, 0);
    cr_expect_eq(live(), 0, "the request is answered: its entry is free");
    cr_expect_eq(xh_pending(&H, 0), 0, "nothing is written to the FIX session");
}

Test(fix44_clordid_foreign_reports, replacing_a_fixp_order_holds_the_new_name_until_it_ends)
{
    xh_send(&H, 0, "G", "11=N|37=500|55=BTC-PERP|54=1|38=10|44=101|", NOW);
    cr_assert_eq(H.ncmds, 1);
    uint64_t n = H.cmds[0].clordid;
    fixp_report(DTX_EV_REPLACED, n, 42, 10);
    cr_expect_eq(live(), 1, "the order now works under N");
    fixp_report(DTX_EV_FILL, n, 0, 0);
    cr_expect_eq(live(), 0, "its fill ends it");
    cr_expect_eq(xh_pending(&H, 0), 0);
}

Test(fix44_clordid_foreign_reports, another_accounts_report_naming_the_same_number_frees_nothing)
{
    xh_send(&H, 0, "F", "11=X|37=500|55=BTC-PERP|54=1|", NOW);
    cr_assert_eq(H.ncmds, 1);
    /* a FIXP client of account 8 whose ClOrdID has the top bit set */
    dtx_event ev = xh_event(DTX_EV_CANCELED, FIXP_SESSION, H.cmds[0].clordid, 600, 99);
    ev.account = 8;
    cr_expect_eq(dtx_fix44_on_event(H.f, &ev, NOW), DTX_EINVAL);
    cr_expect_eq(live(), 1, "X is still in flight");
    fixp_report(DTX_EV_CANCELED, H.cmds[0].clordid, 42, 0);
    cr_expect_eq(live(), 0);
}

Test(fix44_clordid_foreign_reports, canceling_by_41_a_fixp_order_renamed_over_fix_frees_every_entry)
{
    xh_send(&H, 0, "G", "11=N|37=500|55=BTC-PERP|54=1|38=10|44=101|", NOW);
    uint64_t n = H.cmds[0].clordid;
    fixp_report(DTX_EV_REPLACED, n, 42, 10);
    xh_send(&H, 0, "F", "11=X|41=N|55=BTC-PERP|54=1|", NOW);
    cr_assert_eq(H.ncmds, 2);
    cr_assert_eq(H.cmds[1].orig_clordid, n);
    cr_expect_eq(live(), 2);
    fixp_report(DTX_EV_CANCELED, H.cmds[1].clordid, n, 0);
    cr_expect_eq(live(), 0, "X answered, N's order done, the hold on N gone");
    cr_expect_eq(xh_pending(&H, 0), 0);
}
