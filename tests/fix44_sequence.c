/*
 * fix44_sequence.c - FIX 4.4 MsgSeqNum handling: heartbeats and test
 * requests, an inbound gap answered by ResendRequest and not applied, a
 * ResendRequest answered with PossDup application messages and
 * SequenceReset-GapFill over session messages, numbers carried across
 * reconnects unless ResetSeqNumFlag, Logout.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/fix44_harness.h"

static fix44_harness H;
static void setup(void) { xh_init(&H, NULL); }
static void teardown(void) { xh_fini(&H); }
TestSuite(fix44_sequence, .init = setup, .fini = teardown);

#define NOW (XH_T0 + 1000)
#define ORDER "11=A1|55=BTC-PERP|54=1|38=10|40=2|44=100|59=1|"

Test(fix44_sequence, test_request_is_answered_with_heartbeat_echoing_its_id)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    xh_send(&H, 0, "1", "112=ping-1|", NOW);
    fix_msg m = xh_expect(&H, 0, "0");
    cr_expect_str_eq(xh_get(&m, 112), "ping-1");
    cr_expect_str_eq(xh_get(&m, 34), "2");
}

Test(fix44_sequence, idle_server_sends_heartbeat_then_test_request_then_logs_out)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    dtx_fix44_tick(H.f, NOW + 29 * XH_S);
    cr_expect_eq(xh_pending(&H, 0), 0);
    dtx_fix44_tick(H.f, NOW + 30 * XH_S);
    xh_expect(&H, 0, "0");
    dtx_fix44_tick(H.f, NOW + 45 * XH_S);
    fix_msg m = xh_expect(&H, 0, "1");
    cr_expect_str_neq(xh_get(&m, 112), "");
    dtx_fix44_tick(H.f, NOW + 90 * XH_S);
    m = xh_expect(&H, 0, "5");
    cr_expect_str_eq(xh_get(&m, 58), "heartbeat timeout");
    cr_expect_eq(H.closed[0], 1);
}

Test(fix44_sequence, inbound_gap_sends_resend_request_and_applies_nothing_until_filled)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    H.next_seq[0] = 4; /* messages 2 and 3 lost */
    xh_send(&H, 0, "D", ORDER, NOW);
    cr_expect_eq(H.ncmds, 0, "not applied");
    fix_msg m = xh_expect(&H, 0, "2");
    cr_expect_str_eq(xh_get(&m, 7), "2");
    cr_expect_str_eq(xh_get(&m, 16), "0");
    H.next_seq[0] = 5;
    xh_send(&H, 0, "D", "11=A2|55=BTC-PERP|54=1|38=10|40=2|44=100|", NOW);
    cr_expect_eq(xh_pending(&H, 0), 0, "one ResendRequest per gap");
    /* the client resends: 2 as gap fill, 3 and 4 as orders, then 5 */
    char buf[512];
    size_t n = xh_build(buf, sizeof buf, "4", "FIRM7", 2, NOW, "43=Y|123=Y|36=3|");
    xh_feed(&H, 0, buf, n, NOW);
    n = xh_build(buf, sizeof buf, "D", "FIRM7", 3, NOW, "43=Y|" ORDER);
    xh_feed(&H, 0, buf, n, NOW);
    n = xh_build(buf, sizeof buf, "D", "FIRM7", 4, NOW, "43=Y|11=A3|55=BTC-PERP|54=1|38=1|40=2|44=100|");
    xh_feed(&H, 0, buf, n, NOW);
    n = xh_build(buf, sizeof buf, "D", "FIRM7", 5, NOW, "11=A2|55=BTC-PERP|54=1|38=10|40=2|44=100|");
    xh_feed(&H, 0, buf, n, NOW);
    cr_assert_eq(H.ncmds, 3);
    uint64_t in;
    dtx_fix44_seq(H.f, XH_BASE, NULL, &in);
    cr_expect_eq(in, 6);
    /* a possible duplicate below the expected number is ignored */
    n = xh_build(buf, sizeof buf, "D", "FIRM7", 3, NOW, "43=Y|" ORDER);
    xh_feed(&H, 0, buf, n, NOW);
    cr_expect_eq(H.ncmds, 3, "never applied twice");
    cr_expect_eq(H.closed[0], 0);
}

Test(fix44_sequence, too_low_without_possdup_logs_out)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    H.next_seq[0] = 1;
    xh_send(&H, 0, "0", NULL, NOW);
    fix_msg m = xh_expect(&H, 0, "5");
    cr_expect_str_eq(xh_get(&m, 58), "MsgSeqNum too low, expecting 2 but received 1");
    cr_expect_eq(H.closed[0], 1);
}

Test(fix44_sequence, resend_request_replays_reports_with_possdup_and_gap_fills_session_messages)
{
    int s = xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW); /* out 1: Logon */
    xh_send(&H, 0, "D", ORDER, NOW);
    uint64_t cl = H.cmds[0].clordid;
    dtx_event ev = xh_event(DTX_EV_NEW, (uint32_t)s, cl, 77, 501);
    cr_assert_eq(dtx_fix44_on_event(H.f, &ev, NOW), DTX_OK); /* out 2 */
    xh_send(&H, 0, "1", "112=t|", NOW);                       /* out 3: Heartbeat */
    ev = xh_event(DTX_EV_CANCELED, (uint32_t)s, cl, 77, 502);
    cr_assert_eq(dtx_fix44_on_event(H.f, &ev, NOW), DTX_OK); /* out 4 */
    xh_expect(&H, 0, "8");
    xh_expect(&H, 0, "0");
    xh_expect(&H, 0, "8");
    xh_send(&H, 0, "2", "7=1|16=0|", NOW + XH_MS);
    fix_msg m = xh_expect(&H, 0, "4");
    cr_expect_str_eq(xh_get(&m, 34), "1");
    cr_expect_str_eq(xh_get(&m, 123), "Y");
    cr_expect_str_eq(xh_get(&m, 36), "2");
    cr_expect_str_eq(xh_get(&m, 43), "Y");
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 34), "2");
    cr_expect_str_eq(xh_get(&m, 43), "Y");
    cr_expect_str_eq(xh_get(&m, 122), "20260101-00:00:00.000");
    cr_expect_str_eq(xh_get(&m, 52), "20260101-00:00:00.001");
    cr_expect_str_eq(xh_get(&m, 150), "0");
    cr_expect_str_eq(xh_get(&m, 11), "A1");
    m = xh_expect(&H, 0, "4");
    cr_expect_str_eq(xh_get(&m, 34), "3");
    cr_expect_str_eq(xh_get(&m, 36), "4");
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 34), "4");
    cr_expect_str_eq(xh_get(&m, 150), "4");
    cr_expect_eq(xh_pending(&H, 0), 0);
    /* live numbering goes on after the replay */
    xh_send(&H, 0, "1", "112=u|", NOW + XH_MS);
    m = xh_expect(&H, 0, "0");
    cr_expect_str_eq(xh_get(&m, 34), "5");
}

Test(fix44_sequence, numbers_carry_over_a_reconnect_and_missed_reports_are_resent)
{
    int s = xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    xh_send(&H, 0, "D", ORDER, NOW);
    uint64_t cl = H.cmds[0].clordid;
    dtx_fix44_on_closed(H.f, 0, NOW);
    dtx_event ev = xh_event(DTX_EV_NEW, (uint32_t)s, cl, 77, 501); /* out 2, while away */
    cr_assert_eq(dtx_fix44_on_event(H.f, &ev, NOW), DTX_OK);
    cr_expect_eq(xh_pending(&H, 0), 0);
    char buf[1024];
    cr_assert_eq(dtx_fix44_open(H.f, 1, NOW + XH_S), DTX_OK);
    size_t n = xh_logon_msg(&H, buf, sizeof buf, XH_KEY_TRADER, "FIRM7", 3, NOW + XH_S, 30, 0, NULL);
    xh_feed(&H, 1, buf, n, NOW + XH_S);
    fix_msg m = xh_expect(&H, 1, "A");
    cr_expect_str_eq(xh_get(&m, 34), "3", "the Logon shows the client the gap");
    cr_expect_eq(xh_pending(&H, 1), 0);
    H.next_seq[1] = 4;
    xh_send(&H, 1, "2", "7=2|16=0|", NOW + XH_S);
    m = xh_expect(&H, 1, "8");
    cr_expect_str_eq(xh_get(&m, 34), "2");
    cr_expect_str_eq(xh_get(&m, 43), "Y");
    cr_expect_str_eq(xh_get(&m, 37), "77");
    /* the clordid string survived the reconnect */
    cr_expect_str_eq(xh_get(&m, 11), "A1");
}

Test(fix44_sequence, reset_seq_num_flag_resets_both_sides_to_one)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    xh_send(&H, 0, "0", NULL, NOW);
    xh_send(&H, 0, "0", NULL, NOW);
    dtx_fix44_on_closed(H.f, 0, NOW);
    char buf[1024];
    cr_assert_eq(dtx_fix44_open(H.f, 1, NOW + XH_S), DTX_OK);
    size_t n = xh_logon_msg(&H, buf, sizeof buf, XH_KEY_TRADER, "FIRM7", 1, NOW + XH_S, 30, 0, "141=Y|");
    xh_feed(&H, 1, buf, n, NOW + XH_S);
    fix_msg m = xh_expect(&H, 1, "A");
    cr_expect_str_eq(xh_get(&m, 34), "1");
    cr_expect_str_eq(xh_get(&m, 141), "Y");
    uint64_t out, in;
    dtx_fix44_seq(H.f, XH_BASE, &out, &in);
    cr_expect_eq(out, 2);
    cr_expect_eq(in, 2);
}

Test(fix44_sequence, sequence_reset_moves_the_expected_number)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    xh_send(&H, 0, "4", "36=10|", NOW);
    uint64_t in;
    dtx_fix44_seq(H.f, XH_BASE, NULL, &in);
    cr_expect_eq(in, 10);
    H.next_seq[0] = 10;
    xh_send(&H, 0, "4", "43=Y|123=Y|36=20|", NOW);
    dtx_fix44_seq(H.f, XH_BASE, NULL, &in);
    cr_expect_eq(in, 20);
    cr_expect_eq(xh_pending(&H, 0), 0);
}

Test(fix44_sequence, logout_is_answered_with_logout_and_the_connection_ends)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    xh_send(&H, 0, "5", NULL, NOW);
    fix_msg m = xh_expect(&H, 0, "5");
    cr_expect_str_eq(xh_get(&m, 34), "2");
    cr_expect_eq(H.closed[0], 1);
    cr_expect_eq(dtx_fix44_conn_state_get(H.f, 0), DTX_FIX44_FREE);
    uint64_t out, in;
    dtx_fix44_seq(H.f, XH_BASE, &out, &in);
    cr_expect_eq(out, 3);
    cr_expect_eq(in, 3);
}

Test(fix44_sequence, garbled_message_is_dropped_and_counted_then_the_gap_is_requested)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    char buf[512];
    size_t n = xh_build(buf, sizeof buf, "D", "FIRM7", 2, NOW, ORDER);
    buf[n - 3] = buf[n - 3] == '9' ? '0' : (char)(buf[n - 3] + 1); /* CheckSum */
    cr_assert_eq(xh_feed(&H, 0, buf, n, NOW), n);
    dtx_fix44_stats st;
    dtx_fix44_stats_get(H.f, &st);
    cr_expect_eq(st.garbled, 1);
    cr_expect_eq(H.ncmds, 0);
    cr_expect_eq(xh_pending(&H, 0), 0);
    n = xh_build(buf, sizeof buf, "0", "FIRM7", 3, NOW, NULL);
    xh_feed(&H, 0, buf, n, NOW);
    fix_msg m = xh_expect(&H, 0, "2");
    cr_expect_str_eq(xh_get(&m, 7), "2");
}

Test(fix44_sequence, messages_split_byte_by_byte_are_read_whole)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    char buf[1024];
    size_t n = xh_build(buf, sizeof buf, "D", "FIRM7", 2, NOW, ORDER);
    n += xh_build(buf + n, sizeof buf - n, "1", "FIRM7", 3, NOW, "112=z|");
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(xh_feed(&H, 0, buf + i, 1, NOW), 1);
    cr_expect_eq(H.ncmds, 1);
    fix_msg m = xh_expect(&H, 0, "0");
    cr_expect_str_eq(xh_get(&m, 112), "z");
}

Test(fix44_sequence, full_ring_consumes_nothing_and_the_retry_applies_once)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    char buf[512];
    size_t n = xh_build(buf, sizeof buf, "D", "FIRM7", 2, NOW, ORDER);
    H.submit_full = 1;
    cr_expect_eq(xh_feed(&H, 0, buf, n, NOW), 0);
    cr_expect_eq(H.ncmds, 0);
    H.submit_full = 0;
    cr_expect_eq(xh_feed(&H, 0, buf, n, NOW), n);
    cr_expect_eq(H.ncmds, 1);
    uint64_t in;
    dtx_fix44_seq(H.f, XH_BASE, NULL, &in);
    cr_expect_eq(in, 3);
}

Test(fix44_sequence, connection_end_submits_cancel_on_disconnect_for_a_flagged_key)
{
    int s = xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    xh_send(&H, 0, "D", ORDER, NOW);
    H.submit_full = 1;
    dtx_fix44_on_closed(H.f, 0, NOW);
    cr_expect_eq(H.ncmds, 1, "ring full: owed");
    H.submit_full = 0;
    dtx_fix44_tick(H.f, NOW + XH_MS);
    cr_assert_eq(H.ncmds, 2);
    cr_expect_eq(H.cmds[1].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_expect_eq(H.cmds[1].session, s);
    cr_expect_eq(H.cmds[1].account, 7);
    dtx_fix44_tick(H.f, NOW + 2 * XH_MS);
    cr_expect_eq(H.ncmds, 2, "once");
    /* a key without the flag: nothing */
    xh_logon(&H, 1, XH_KEY_TRADER2, "FIRM8", NOW);
    dtx_fix44_on_closed(H.f, 1, NOW);
    cr_expect_eq(H.ncmds, 2);
}

Test(fix44_sequence, owed_cancel_on_disconnect_goes_before_the_next_order)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    H.submit_full = 1;
    dtx_fix44_on_closed(H.f, 0, NOW);
    H.submit_full = 0;
    char buf[1024];
    cr_assert_eq(dtx_fix44_open(H.f, 1, NOW + XH_S), DTX_OK);
    size_t n = xh_logon_msg(&H, buf, sizeof buf, XH_KEY_TRADER, "FIRM7", 2, NOW + XH_S, 30, 0, NULL);
    xh_feed(&H, 1, buf, n, NOW + XH_S);
    xh_expect(&H, 1, "A");
    H.next_seq[1] = 3;
    xh_send(&H, 1, "D", ORDER, NOW + XH_S);
    cr_assert_eq(H.ncmds, 2);
    cr_expect_eq(H.cmds[0].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_expect_eq(H.cmds[1].type, DTX_CMD_NEW_ORDER);
}
