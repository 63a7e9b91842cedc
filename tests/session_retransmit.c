/*
 * session_retransmit.c - the Recoverable server flow across reconnects:
 * RetransmitRequest answered by Retransmission and exactly the messages
 * asked for, or RetransmitReject with the first code of PROTOCOL.md's order
 * that applies; a second request while one is answered terminates
 * ReRequestInProgress; a reader too slow for the store is cut off and
 * recovers by retransmission.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dtx/fixp_2748.h"
#include "dtx/sbe_7001.h"
#include "support/fixp_harness.h"

static fixp_harness H;
static void setup(void) { fh_init(&H, NULL); }
static void teardown(void) { fh_fini(&H); }
TestSuite(session_retransmit, .init = setup, .fini = teardown);

#define NOW (FH_T0 + 1000)
#define UUID_B 0x31

static dtx_frame expect_frame(uint32_t conn, uint16_t tid)
{
    dtx_frame f;
    cr_assert(fh_next(&H, conn, &f), "expected template %u, got nothing", tid);
    cr_assert_eq(f.template_id, tid, "template %u, expected %u", f.template_id, tid);
    return f;
}

static void events(int si, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i <= to; i++) {
        dtx_event ev = fh_event_new(si, i, i);
        cr_assert_eq(dtx_session_on_event(H.s, &ev, NOW), DTX_OK);
    }
}

static void request(uint32_t conn, uint8_t uuid_b, uint64_t from, uint32_t count)
{
    uint8_t buf[128], uuid[16];
    fh_uuid(uuid, uuid_b);
    size_t n = fh_retransmit_request(buf, uuid, NOW + 77, from, count);
    cr_assert_eq(fh_send(&H, conn, buf, n, NOW), n);
}

static void skip_all(uint32_t conn) { H.out_read[conn] = H.out_len[conn]; }

static uint8_t expect_reject(uint32_t conn)
{
    dtx_frame f = expect_frame(conn, DTX_FIXP_RESTRANSMIT_REJECT_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body + 16), NOW + 77, "RequestTimestamp");
    return f.body[24];
}

Test(session_retransmit, request_is_answered_with_exactly_those_messages)
{
    int si = fh_connect(&H, 0, UUID_B, FH_KEY_TRADER, NOW);
    events(si, 1, 5);
    skip_all(0);
    request(0, UUID_B, 2, 3);
    dtx_frame f = expect_frame(0, DTX_FIXP_RETRANSMISSION_TEMPLATE_ID);
    uint8_t uuid[16];
    fh_uuid(uuid, UUID_B);
    cr_expect(memcmp(f.body, uuid, 16) == 0);
    cr_expect_eq(dtx_sbe_load_u64(f.body + 16), NOW + 77);
    cr_expect_eq(dtx_sbe_load_u64(f.body + 24), 2, "NextSeqNo = FromSeqNo");
    cr_expect_eq(dtx_sbe_load_u32(f.body + 32), 3);
    for (uint64_t i = 2; i <= 4; i++) {
        f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
        cr_expect_eq(dtx_sbe_load_u64(f.body), i, "ClOrdID of message %lu", (unsigned long)i);
    }
    cr_expect_eq(fh_pending(&H, 0), 0);
    /* the next real-time message is preceded by Sequence */
    events(si, 6, 6);
    f = expect_frame(0, DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 6);
    f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 6);
}

Test(session_retransmit, messages_sent_while_away_are_kept_across_a_reconnect)
{
    int si = fh_connect(&H, 0, UUID_B, FH_KEY_TRADER2, NOW);
    events(si, 1, 2);
    dtx_session_on_closed(H.s, 0, NOW);
    events(si, 3, 4); /* session detached: stored, numbered */
    uint64_t next = fh_reconnect(&H, 1, UUID_B, FH_KEY_TRADER2, NOW + 5);
    cr_expect_eq(next, 5, "EstablishmentAck.NextSeqNo is the server flow's next number");
    request(1, UUID_B, 1, 4);
    dtx_frame f = expect_frame(1, DTX_FIXP_RETRANSMISSION_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u32(f.body + 32), 4);
    for (uint64_t i = 1; i <= 4; i++) {
        f = expect_frame(1, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
        cr_expect_eq(dtx_sbe_load_u64(f.body), i);
    }
}

Test(session_retransmit, another_sessions_id_is_invalid_session_first)
{
    int si = fh_connect(&H, 0, UUID_B, FH_KEY_TRADER, NOW);
    events(si, 1, 2);
    skip_all(0);
    request(0, 0x99, 0, 20000); /* every other check would fail too */
    cr_expect_eq(expect_reject(0), DTX_FIXP_RETRANSMIT_REJECT_CODE_INVALID_SESSION);
    cr_expect_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_ESTABLISHED);
}

Test(session_retransmit, count_above_10000_is_request_limit_exceeded_before_out_of_range)
{
    int si = fh_connect(&H, 0, UUID_B, FH_KEY_TRADER, NOW);
    events(si, 1, 2);
    skip_all(0);
    request(0, UUID_B, 0, 10001);
    cr_expect_eq(expect_reject(0), DTX_FIXP_RETRANSMIT_REJECT_CODE_REQUEST_LIMIT_EXCEEDED);
}

Test(session_retransmit, zero_count_zero_from_or_beyond_next_is_out_of_range)
{
    int si = fh_connect(&H, 0, UUID_B, FH_KEY_TRADER, NOW);
    events(si, 1, 3); /* next server number 4 */
    skip_all(0);
    request(0, UUID_B, 1, 0);
    cr_expect_eq(expect_reject(0), DTX_FIXP_RETRANSMIT_REJECT_CODE_OUT_OF_RANGE);
    request(0, UUID_B, 0, 1);
    cr_expect_eq(expect_reject(0), DTX_FIXP_RETRANSMIT_REJECT_CODE_OUT_OF_RANGE);
    request(0, UUID_B, 2, 3); /* 2 + 3 = 5 > 4 */
    cr_expect_eq(expect_reject(0), DTX_FIXP_RETRANSMIT_REJECT_CODE_OUT_OF_RANGE);
    request(0, UUID_B, UINT64_MAX, 2);
    cr_expect_eq(expect_reject(0), DTX_FIXP_RETRANSMIT_REJECT_CODE_OUT_OF_RANGE);
    request(0, UUID_B, 2, 2); /* 2 + 2 = 4: the last two */
    expect_frame(0, DTX_FIXP_RETRANSMISSION_TEMPLATE_ID);
}

Test(session_retransmit, messages_older_than_the_store_are_out_of_range)
{
    int si = fh_connect(&H, 0, UUID_B, FH_KEY_TRADER, NOW);
    events(si, 1, 70); /* store depth 64: 7..70 kept */
    skip_all(0);
    request(0, UUID_B, 6, 2);
    cr_expect_eq(expect_reject(0), DTX_FIXP_RETRANSMIT_REJECT_CODE_OUT_OF_RANGE);
    request(0, UUID_B, 7, 64);
    expect_frame(0, DTX_FIXP_RETRANSMISSION_TEMPLATE_ID);
    dtx_frame f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 7);
}

Test(session_retransmit, second_request_while_one_is_answered_terminates_re_request_in_progress)
{
    dtx_session_config cfg = {.max_connections = FH_CONNS, .max_sessions = 4, .store_depth = 256,
                              .send_buffer_bytes = 8192};
    fh_fini(&H);
    fh_init(&H, &cfg);
    int si = fh_connect(&H, 0, UUID_B, FH_KEY_TRADER, NOW);
    events(si, 1, 150);
    skip_all(0);
    H.write_blocked = 1; /* the client reads nothing: the batch waits for room */
    request(0, UUID_B, 1, 150);
    request(0, UUID_B, 1, 1);
    H.write_blocked = 0;
    dtx_session_on_writable(H.s, 0, NOW);
    dtx_frame f;
    int terminate = 0;
    while (fh_next(&H, 0, &f))
        if (f.schema_id == DTX_SCHEMA_FIXP && f.template_id == DTX_FIXP_TERMINATE_TEMPLATE_ID) {
            terminate = 1;
            cr_expect_eq(f.body[16], DTX_FIXP_TERMINATION_CODE_RE_REQUEST_IN_PROGRESS);
        }
    cr_expect(terminate);
    cr_expect_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_TERMINATING);
}

Test(session_retransmit, batch_paused_by_a_slow_reader_goes_on_when_writable)
{
    int si = fh_connect(&H, 0, UUID_B, FH_KEY_TRADER, NOW);
    events(si, 1, 60);
    skip_all(0);
    H.write_blocked = 1;
    request(0, UUID_B, 1, 60); /* written into the send buffer, sent when writable */
    H.write_blocked = 0;
    dtx_session_on_writable(H.s, 0, NOW);
    dtx_frame f = expect_frame(0, DTX_FIXP_RETRANSMISSION_TEMPLATE_ID);
    for (uint64_t i = 1; i <= 60; i++) {
        f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
        cr_assert_eq(dtx_sbe_load_u64(f.body), i);
    }
}

Test(session_retransmit, live_messages_during_a_batch_follow_it_after_a_sequence)
{
    dtx_session_config cfg = {.max_connections = FH_CONNS, .max_sessions = 4, .store_depth = 256,
                              .send_buffer_bytes = 8192};
    fh_fini(&H);
    fh_init(&H, &cfg);
    int si = fh_connect(&H, 0, UUID_B, FH_KEY_TRADER, NOW);
    events(si, 1, 150);
    skip_all(0);
    H.write_blocked = 1;
    request(0, UUID_B, 1, 150); /* 150 x 86 bytes: more than 8 KiB, the batch pauses */
    events(si, 151, 152);       /* live, during the batch */
    for (int i = 0; i < 10; i++) {
        H.write_blocked = 0;
        dtx_session_on_writable(H.s, 0, NOW);
    }
    expect_frame(0, DTX_FIXP_RETRANSMISSION_TEMPLATE_ID);
    for (uint64_t i = 1; i <= 150; i++) {
        dtx_frame f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
        cr_assert_eq(dtx_sbe_load_u64(f.body), i);
    }
    dtx_frame f = expect_frame(0, DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 151);
    f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 151);
    f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 152);
}

Test(session_retransmit, reader_too_slow_for_the_store_is_cut_off_and_recovers)
{
    dtx_session_config cfg = {.max_connections = FH_CONNS, .max_sessions = 4, .store_depth = 16,
                              .send_buffer_bytes = 8192};
    fh_fini(&H);
    fh_init(&H, &cfg);
    int si = fh_connect(&H, 0, UUID_B, FH_KEY_TRADER2, NOW);
    H.write_blocked = 1;
    /* 8 KiB of send buffer hold ~95 reports; then the backlog waits in the
     * 16-message store; the 17th waiting message ends the connection */
    uint64_t i = 1;
    while (dtx_session_conn_state(H.s, 0) != DTX_CONN_FREE && i < 1000) {
        dtx_event ev = fh_event_new(si, i, i);
        dtx_session_on_event(H.s, &ev, NOW);
        i++;
    }
    cr_assert_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_FREE);
    cr_expect_eq(H.closed[0], 1);
    dtx_session_stats st;
    dtx_session_stats_get(H.s, &st);
    cr_expect_eq(st.send_overflows, 1);
    H.write_blocked = 0;
    uint64_t next = fh_reconnect(&H, 1, UUID_B, FH_KEY_TRADER2, NOW + 2);
    cr_expect_eq(next, i);
    request(1, UUID_B, next - 16, 16);
    expect_frame(1, DTX_FIXP_RETRANSMISSION_TEMPLATE_ID);
    for (uint64_t k = next - 16; k < next; k++) {
        dtx_frame f = expect_frame(1, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
        cr_assert_eq(dtx_sbe_load_u64(f.body), k);
    }
}

Test(session_retransmit, retransmit_request_before_establish_is_a_protocol_error)
{
    cr_assert_eq(dtx_session_open(H.s, 0, NOW), DTX_OK);
    request(0, UUID_B, 1, 1);
    dtx_frame f = expect_frame(0, DTX_FIXP_TERMINATE_TEMPLATE_ID);
    cr_expect_eq(f.body[16], DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR);
}
