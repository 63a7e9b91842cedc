/*
 * session_dropcopy.c - drop-copy sessions receive copies of their account's
 * reports 200-206, sequenced on their own server flow, and nothing else.
 */
#include <criterion/criterion.h>

#include "dtx/fixp_2748.h"
#include "dtx/sbe_7001.h"
#include "support/fixp_harness.h"

static fixp_harness H;
static void setup(void) { fh_init(&H, NULL); }
static void teardown(void) { fh_fini(&H); }
TestSuite(session_dropcopy, .init = setup, .fini = teardown);

#define NOW (FH_T0 + 1000)

static dtx_frame expect_frame(uint32_t conn, uint16_t tid)
{
    dtx_frame f;
    cr_assert(fh_next(&H, conn, &f), "expected template %u, got nothing", tid);
    cr_assert_eq(f.template_id, tid, "template %u, expected %u", f.template_id, tid);
    return f;
}

Test(session_dropcopy, reports_of_the_account_are_copied_on_the_drop_copy_flow)
{
    int trader = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    int dc = fh_connect(&H, 1, 2, FH_KEY_DROPCOPY, NOW); /* account 9 */
    dtx_event ev = fh_event_new(trader, 31, 1);
    ev.account = 9;
    cr_assert_eq(dtx_session_on_event(H.s, &ev, NOW), DTX_OK);
    expect_frame(0, DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    dtx_frame f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 31);
    f = expect_frame(1, DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 1);
    f = expect_frame(1, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 31);
    uint64_t next;
    dtx_session_seq(H.s, (uint32_t)dc, &next, NULL);
    cr_expect_eq(next, 2);
}

Test(session_dropcopy, other_accounts_and_business_rejects_are_not_copied)
{
    int trader = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    fh_connect(&H, 1, 2, FH_KEY_DROPCOPY, NOW);
    dtx_event ev = fh_event_new(trader, 31, 1); /* account 7 */
    dtx_session_on_event(H.s, &ev, NOW);
    ev.account = 9;
    ev.type = DTX_EV_BUSINESS_REJECT;
    dtx_session_on_event(H.s, &ev, NOW);
    cr_expect_eq(fh_pending(&H, 1), 0);
    cr_expect_eq(fh_pending(&H, 0), 3);
}

Test(session_dropcopy, copies_wait_for_a_drop_copy_session_that_is_away)
{
    int trader = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    fh_connect(&H, 1, 2, FH_KEY_DROPCOPY, NOW);
    dtx_session_on_closed(H.s, 1, NOW);
    dtx_event ev = fh_event_new(trader, 32, 1);
    ev.account = 9;
    dtx_session_on_event(H.s, &ev, NOW);
    uint64_t next = fh_reconnect(&H, 2, 2, FH_KEY_DROPCOPY, NOW + 5);
    cr_expect_eq(next, 2, "the copy took number 1 while away");
}
