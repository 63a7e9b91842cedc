/*
 * session_sequence.c - the Idempotent client flow and the Recoverable
 * server flow's numbering, keepalive and cancel-on-disconnect.
 *
 * A gap is answered NotApplied before anything about the message after it; a
 * message numbered below the expected one is dropped, never applied twice;
 * each server application message takes one number, with Sequence first
 * after Establish.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dtx/fixp_2748.h"
#include "dtx/sbe_7001.h"
#include "support/fixp_harness.h"

static fixp_harness H;
static void setup(void) { fh_init(&H, NULL); }
static void teardown(void) { fh_fini(&H); }
TestSuite(session_sequence, .init = setup, .fini = teardown);

#define NOW (FH_T0 + 1000)
#define MS 1000000ull

static void send_seq(uint32_t conn, uint64_t next, uint64_t now)
{
    uint8_t buf[64];
    size_t n = fh_sequence(buf, next);
    cr_assert_eq(fh_send(&H, conn, buf, n, now), n);
}

static void send_order(uint32_t conn, uint64_t clordid, uint64_t now)
{
    uint8_t buf[256];
    size_t n = fh_new_order(buf, clordid);
    cr_assert_eq(fh_send(&H, conn, buf, n, now), n);
}

static dtx_frame expect_frame(uint32_t conn, uint16_t tid)
{
    dtx_frame f;
    cr_assert(fh_next(&H, conn, &f), "expected template %u, got nothing", tid);
    cr_assert_eq(f.template_id, tid, "template %u, expected %u", f.template_id, tid);
    return f;
}

Test(session_sequence, order_in_sequence_is_submitted_with_session_and_account)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    send_order(0, 501, NOW);
    cr_assert_eq(H.ncmds, 1);
    cr_expect_eq(H.cmds[0].type, DTX_CMD_NEW_ORDER);
    cr_expect_eq(H.cmds[0].clordid, 501);
    cr_expect_eq(H.cmds[0].session, si);
    cr_expect_eq(H.cmds[0].account, 7);
    cr_expect_eq(H.cmds[0].seq, 0, "the sequencer stamps seq");
    uint64_t ns, nc;
    cr_assert_eq(dtx_session_seq(H.s, (uint32_t)si, &ns, &nc), DTX_OK);
    cr_expect_eq(nc, 2);
    cr_expect_eq(ns, 1);
    cr_expect_eq(fh_pending(&H, 0), 0, "nothing sent until the core reports");
}

Test(session_sequence, gap_is_answered_not_applied_before_the_message_is_reported)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    send_seq(0, 5, NOW);
    send_order(0, 505, NOW);
    cr_assert_eq(H.ncmds, 1, "message 5 is applied");
    /* Sequence(1) first after Establish, then NotApplied(1, 4) as number 1 */
    dtx_frame f = expect_frame(0, DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 1);
    f = expect_frame(0, DTX_FIXP_NOT_APPLIED_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 1, "FromSeqNo = expected");
    cr_expect_eq(dtx_sbe_load_u32(f.body + 8), 4, "Count = N - E");
    dtx_event ev = fh_event_new(si, 505, 1);
    cr_assert_eq(dtx_session_on_event(H.s, &ev, NOW), DTX_OK);
    f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 505);
    uint64_t ns, nc;
    dtx_session_seq(H.s, (uint32_t)si, &ns, &nc);
    cr_expect_eq(nc, 6);
    cr_expect_eq(ns, 3, "NotApplied took 1, the report 2");
}

Test(session_sequence, resent_message_is_dropped_never_applied_twice)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    send_order(0, 1, NOW);
    send_order(0, 2, NOW);
    cr_assert_eq(H.ncmds, 2);
    send_seq(0, 1, NOW); /* the client resends 1 and 2 */
    send_order(0, 1, NOW);
    send_order(0, 2, NOW);
    cr_expect_eq(H.ncmds, 2);
    send_order(0, 3, NOW); /* numbered 3: new */
    cr_assert_eq(H.ncmds, 3);
    cr_expect_eq(H.cmds[2].clordid, 3);
    dtx_session_stats st;
    dtx_session_stats_get(H.s, &st);
    cr_expect_eq(st.app_dropped_dup, 2);
    cr_expect_eq(fh_pending(&H, 0), 0, "a drop is silent");
}

Test(session_sequence, numbers_reported_not_applied_are_dropped_when_resent)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    send_seq(0, 4, NOW);
    send_order(0, 4, NOW); /* NotApplied(1, 3) */
    send_seq(0, 2, NOW);
    send_order(0, 2, NOW);
    send_order(0, 3, NOW);
    cr_expect_eq(H.ncmds, 1);
    send_order(0, 4, NOW); /* number 4 again */
    cr_expect_eq(H.ncmds, 1);
    send_order(0, 5, NOW);
    cr_expect_eq(H.ncmds, 2);
}

Test(session_sequence, client_numbers_carry_over_a_reconnect)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    send_order(0, 1, NOW);
    send_order(0, 2, NOW);
    dtx_session_on_closed(H.s, 0, NOW);
    fh_reconnect(&H, 1, 1, FH_KEY_TRADER, NOW + 10);
    send_seq(1, 2, NOW + 10);
    send_order(1, 2, NOW + 10); /* already applied as 2 */
    send_order(1, 3, NOW + 10);
    /* the harness recorded the cancel-on-disconnect of key 0 between */
    cr_assert_eq(H.ncmds, 4);
    cr_expect_eq(H.cmds[2].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_expect_eq(H.cmds[3].clordid, 3);
    uint64_t nc;
    dtx_session_seq(H.s, (uint32_t)si, NULL, &nc);
    cr_expect_eq(nc, 4);
}

Test(session_sequence, each_report_takes_the_next_number_after_one_sequence)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    for (uint64_t i = 1; i <= 3; i++) {
        dtx_event ev = fh_event_new(si, i, i);
        dtx_session_on_event(H.s, &ev, NOW);
    }
    dtx_frame f = expect_frame(0, DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 1);
    for (uint64_t i = 1; i <= 3; i++) {
        f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
        cr_expect_eq(dtx_sbe_load_u64(f.body + DTX_SBE_EXECUTION_REPORT_NEW_EXEC_ID_OFFSET), i);
    }
    cr_expect_eq(fh_pending(&H, 0), 0);
}

Test(session_sequence, events_of_book_only_types_are_not_reports)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    dtx_event ev = fh_event_new(si, 1, 1);
    ev.type = DTX_EV_ADDED;
    cr_expect_eq(dtx_session_on_event(H.s, &ev, NOW), DTX_EINVAL);
    ev = fh_event_new(15, 1, 1); /* a free session slot */
    cr_expect_eq(dtx_session_on_event(H.s, &ev, NOW), DTX_EINVAL);
    cr_expect_eq(fh_pending(&H, 0), 0);
}

Test(session_sequence, idle_server_sends_sequence_after_one_interval)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    dtx_session_tick(H.s, NOW + 999 * MS);
    cr_expect_eq(fh_pending(&H, 0), 0);
    send_seq(0, 1, NOW + 999 * MS); /* client keepalive: heard */
    dtx_session_tick(H.s, NOW + 1000 * MS);
    dtx_frame f = expect_frame(0, DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 1);
    dtx_session_tick(H.s, NOW + 1500 * MS);
    cr_expect_eq(fh_pending(&H, 0), 0, "one per idle interval");
}

Test(session_sequence, three_silent_peer_intervals_terminate_with_keepalive)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    dtx_session_tick(H.s, NOW + 2999 * MS);
    H.out_read[0] = H.out_len[0];
    cr_expect_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_ESTABLISHED);
    dtx_session_tick(H.s, NOW + 3000 * MS);
    dtx_frame f = expect_frame(0, DTX_FIXP_TERMINATE_TEMPLATE_ID);
    cr_expect_eq(f.body[16], DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR);
    cr_expect_eq(dtx_sbe_load_u16(f.body + 17), 9);
    cr_expect(memcmp(f.body + 19, "keepalive", 9) == 0);
    /* no answer: closed when the terminate wait ends; cancel-on-disconnect */
    dtx_session_tick(H.s, NOW + 4000 * MS);
    cr_expect_eq(H.closed[0], 1);
    cr_assert_eq(H.ncmds, 1);
    cr_expect_eq(H.cmds[0].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_expect_eq(H.cmds[0].session, si);
    cr_expect_eq(H.cmds[0].account, 7);
}

Test(session_sequence, cancel_on_disconnect_only_where_configured)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER2, NOW);
    dtx_session_on_closed(H.s, 0, NOW);
    cr_expect_eq(H.ncmds, 0);
    cr_expect_eq(H.closed[0], 0, "the transport closed it: no close() back");
}

Test(session_sequence, cancel_on_disconnect_waits_for_ring_room)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    H.submit_full = 1;
    dtx_session_on_closed(H.s, 0, NOW);
    cr_expect_eq(H.ncmds, 0);
    H.submit_full = 0;
    dtx_session_tick(H.s, NOW + 1);
    cr_assert_eq(H.ncmds, 1);
    cr_expect_eq(H.cmds[0].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_expect_eq(H.cmds[0].session, si);
    dtx_session_tick(H.s, NOW + 2);
    cr_expect_eq(H.ncmds, 1, "once");
}

Test(session_sequence, owed_cancel_on_disconnect_goes_before_the_next_order)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    H.submit_full = 1;
    dtx_session_on_closed(H.s, 0, NOW);
    H.submit_full = 0;
    fh_reconnect(&H, 1, 1, FH_KEY_TRADER, NOW + 5);
    send_seq(1, 1, NOW + 5);
    send_order(1, 8, NOW + 5);
    cr_assert_eq(H.ncmds, 2);
    cr_expect_eq(H.cmds[0].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_expect_eq(H.cmds[0].session, si);
    cr_expect_eq(H.cmds[1].type, DTX_CMD_NEW_ORDER);
    dtx_session_tick(H.s, NOW + 6);
    cr_expect_eq(H.ncmds, 2, "not twice");
}

Test(session_sequence, full_ring_leaves_the_message_unconsumed_and_unchanged)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    uint8_t buf[512];
    size_t n1 = fh_new_order(buf, 1);
    size_t n2 = fh_new_order(buf + n1, 2);
    H.submit_full = 1;
    size_t took = fh_send(&H, 0, buf, n1 + n2, NOW);
    cr_expect_eq(took, 0);
    uint64_t nc;
    dtx_session_seq(H.s, (uint32_t)si, NULL, &nc);
    cr_expect_eq(nc, 1);
    H.submit_full = 0;
    took = fh_send(&H, 0, buf, n1 + n2, NOW);
    cr_expect_eq(took, n1 + n2);
    cr_assert_eq(H.ncmds, 2);
    cr_expect_eq(H.cmds[0].clordid, 1);
    cr_expect_eq(H.cmds[1].clordid, 2);
}

Test(session_sequence, full_ring_mid_partial_frame_keeps_the_stream_intact)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    uint8_t buf[512];
    size_t n1 = fh_new_order(buf, 1);
    size_t n2 = fh_new_order(buf + n1, 2);
    cr_assert_eq(fh_send(&H, 0, buf, n1 + 10, NOW), n1 + 10);
    cr_assert_eq(H.ncmds, 1);
    H.submit_full = 1;
    cr_expect_eq(fh_send(&H, 0, buf + n1 + 10, n2 - 10, NOW), 0);
    H.submit_full = 0;
    cr_expect_eq(fh_send(&H, 0, buf + n1 + 10, n2 - 10, NOW), n2 - 10);
    cr_assert_eq(H.ncmds, 2);
    cr_expect_eq(H.cmds[1].clordid, 2);
}
