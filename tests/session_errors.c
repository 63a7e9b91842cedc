/*
 * session_errors.c - protocol errors, rejects the gateway answers itself,
 * the throttle and the Terminate handshake.
 *
 * A protocol error is answered Terminate UnspecifiedError with a reason and
 * nothing the client sent after it is applied; an unknown application
 * template is answered BusinessMessageReject; a session over its rate gets
 * Throttled rejects of the kind that fits the message.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dtx/fixp_2748.h"
#include "dtx/sbe_7001.h"
#include "dtx/types.h"
#include "support/fixp_harness.h"

static fixp_harness H;
static void setup(void) { fh_init(&H, NULL); }
static void teardown(void) { fh_fini(&H); }
TestSuite(session_errors, .init = setup, .fini = teardown);

#define NOW (FH_T0 + 1000)
#define MS 1000000ull

static dtx_frame expect_frame(uint32_t conn, uint16_t tid)
{
    dtx_frame f;
    cr_assert(fh_next(&H, conn, &f), "expected template %u, got nothing", tid);
    cr_assert_eq(f.template_id, tid, "template %u, expected %u", f.template_id, tid);
    return f;
}

/* Expects Terminate(UnspecifiedError, reason) next on conn. */
static void expect_terminate(uint32_t conn, uint8_t code, const char *reason)
{
    dtx_frame f = expect_frame(conn, DTX_FIXP_TERMINATE_TEMPLATE_ID);
    cr_expect_eq(f.body[16], code);
    uint16_t n = dtx_sbe_load_u16(f.body + 17);
    char got[256] = {0};
    memcpy(got, f.body + 19, n < 255 ? n : 255);
    cr_expect_str_eq(got, reason);
}

static void skip_all(uint32_t conn) { H.out_read[conn] = H.out_len[conn]; }

Test(session_errors, malformed_frame_terminates_and_nothing_after_it_is_applied)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    uint8_t buf[1024];
    size_t n = fh_new_order(buf, 1);
    uint8_t *bad = buf + n;
    memcpy(bad, (const uint8_t[]){0, 0, 0, 10, 0xEB, 0x50}, 6); /* length 10 */
    n += 6;
    n += fh_new_order(buf + n, 2);
    cr_expect_eq(fh_send(&H, 0, buf, n, NOW), n);
    cr_assert_eq(H.ncmds, 1, "only the order before the error");
    cr_expect_eq(H.cmds[0].clordid, 1);
    expect_terminate(0, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR, "frame length 10 under 14");
    cr_expect_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_TERMINATING);
    /* a later read is ignored too */
    n = fh_new_order(buf, 3);
    fh_send(&H, 0, buf, n, NOW);
    cr_expect_eq(H.ncmds, 1);
    dtx_session_stats st;
    dtx_session_stats_get(H.s, &st);
    cr_expect_eq(st.protocol_errors, 1);
}

Test(session_errors, protocol_error_then_orders_in_the_same_read_are_ignored_until_terminate)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    uint8_t buf[1024], uuid[16], body[8] = {0};
    fh_uuid(uuid, 1);
    size_t n = fh_raw(buf, 0, 10, 2748, 0, NULL, 0); /* UnsequencedHeartbeat: unused */
    n += fh_new_order(buf + n, 2);
    n += fh_terminate(buf + n, uuid, DTX_FIXP_TERMINATION_CODE_FINISHED);
    (void)body;
    fh_send(&H, 0, buf, n, NOW);
    cr_expect_eq(H.ncmds, 1, "only cancel-on-disconnect");
    cr_expect_eq(H.cmds[0].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    expect_terminate(0, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR,
                     "template 10 is not used by dtx");
    cr_expect_eq(H.closed[0], 1, "the client's Terminate answered ours: we close");
}

Test(session_errors, every_unused_session_template_is_a_protocol_error)
{
    static const uint16_t unused[] = {4, 9, 10, 15, 16, 17, 19};
    static uint8_t body[64];
    for (size_t i = 0; i < sizeof unused / sizeof unused[0]; i++) {
        fh_connect(&H, 0, (uint8_t)(10 + i), FH_KEY_TRADER2, NOW);
        uint8_t buf[256];
        int root = unused[i] == 4 ? 21 : unused[i] == 9 ? 24 : unused[i] == 10 ? 0
                 : unused[i] == 15 ? 24 : unused[i] == 16 ? 16 : 12;
        size_t extra = unused[i] == 4 ? 2 : unused[i] == 19 ? 4 : 0; /* empty var data */
        size_t n = fh_raw(buf, (uint16_t)root, unused[i], 2748, 0, body, (size_t)root + extra);
        fh_send(&H, 0, buf, n, NOW);
        char why[64];
        snprintf(why, sizeof why, "template %u is not used by dtx", unused[i]);
        expect_terminate(0, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR, why);
        dtx_session_on_closed(H.s, 0, NOW);
        skip_all(0);
    }
}

Test(session_errors, application_message_before_establish_is_a_protocol_error)
{
    cr_assert_eq(dtx_session_open(H.s, 0, NOW), DTX_OK);
    uint8_t buf[256];
    size_t n = fh_new_order(buf, 1);
    fh_send(&H, 0, buf, n, NOW);
    cr_expect_eq(H.ncmds, 0);
    expect_terminate(0, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR,
                     "application message before Establish");
}

Test(session_errors, application_message_before_the_first_sequence_is_a_protocol_error)
{
    uint8_t buf[4096], uuid[16];
    fh_uuid(uuid, 5);
    cr_assert_eq(dtx_session_open(H.s, 0, NOW), DTX_OK);
    size_t n = fh_negotiate(&H, buf, uuid, NOW, FH_KEY_TRADER2, FH_CRED_GOOD,
                            DTX_FIXP_FLOW_TYPE_IDEMPOTENT);
    n += fh_establish(&H, buf + n, uuid, NOW + 1, FH_KEY_TRADER2, FH_CRED_GOOD, 1000);
    n += fh_new_order(buf + n, 1);
    fh_send(&H, 0, buf, n, NOW);
    cr_expect_eq(H.ncmds, 0);
    expect_frame(0, DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID);
    expect_frame(0, DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
    expect_terminate(0, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR,
                     "application message before the first Sequence");
}

Test(session_errors, server_templates_sent_by_a_client_are_protocol_errors)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER2, NOW);
    uint8_t buf[256], body[12] = {0};
    size_t n = fh_raw(buf, 12, 18, 2748, 0, body, 12); /* NotApplied */
    fh_send(&H, 0, buf, n, NOW);
    expect_terminate(0, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR,
                     "template 18 is not sent by a client");
}

Test(session_errors, unknown_schema_terminates_with_its_reason)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER2, NOW);
    uint8_t buf[256], body[8] = {0};
    size_t n = fh_raw(buf, 8, 1, 4242, 0, body, 8);
    fh_send(&H, 0, buf, n, NOW);
    expect_terminate(0, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR,
                     "unknown schema 4242 (template 1)");
}

Test(session_errors, unknown_application_template_gets_business_message_reject)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    uint8_t buf[256], body[24] = {0};
    size_t n = fh_new_order(buf, 1);                       /* number 1 */
    n += fh_raw(buf + n, 24, 999, 7001, 1, body, 24);       /* number 2 */
    n += fh_new_order(buf + n, 3);                          /* number 3 */
    fh_send(&H, 0, buf, n, NOW);
    cr_assert_eq(H.ncmds, 2);
    expect_frame(0, DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    dtx_frame f = expect_frame(0, DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 2, "RefSeqNum");
    cr_expect_eq(dtx_sbe_load_u16(f.body + 8), 999, "RefTemplateID");
    cr_expect_eq(dtx_sbe_load_u16(f.body + 10), DTX_REJ_INVALID_FIELD);
    uint64_t ns, nc;
    dtx_session_seq(H.s, (uint32_t)si, &ns, &nc);
    cr_expect_eq(nc, 4);
    cr_expect_eq(ns, 2);
    cr_expect_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_ESTABLISHED);
}

Test(session_errors, reserved_byte_set_is_rejected_invalid_field_without_the_core)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    uint8_t buf[256];
    size_t n = fh_new_order(buf, 41);
    buf[14 + 17] = 0xFF;
    fh_send(&H, 0, buf, n, NOW);
    cr_expect_eq(H.ncmds, 0);
    expect_frame(0, DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    dtx_frame f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 41);
    cr_expect_eq(dtx_sbe_load_u16(f.body + 14), DTX_REJ_INVALID_FIELD);
    cr_expect_eq(dtx_sbe_load_u64(f.body + 16), NOW, "TransactTime");
}

Test(session_errors, drop_copy_key_sending_an_order_gets_not_authorized)
{
    fh_connect(&H, 0, 1, FH_KEY_DROPCOPY, NOW);
    uint8_t buf[256];
    size_t n = fh_new_order(buf, 5);
    fh_send(&H, 0, buf, n, NOW);
    cr_expect_eq(H.ncmds, 0);
    expect_frame(0, DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    dtx_frame f = expect_frame(0, DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 1);
    cr_expect_eq(dtx_sbe_load_u16(f.body + 8), 100);
    cr_expect_eq(dtx_sbe_load_u16(f.body + 10), DTX_REJ_NOT_AUTHORIZED);
}

Test(session_errors, throttle_rejects_each_message_kind_as_fits)
{
    dtx_session_config cfg = {.max_connections = FH_CONNS, .max_sessions = 4, .store_depth = 64,
                              .send_buffer_bytes = 16384, .throttle_rate = 10,
                              .throttle_burst = 2};
    fh_fini(&H);
    fh_init(&H, &cfg);
    fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    uint8_t buf[1024];
    size_t n = fh_new_order(buf, 1);
    n += fh_new_order(buf + n, 2);
    n += fh_new_order(buf + n, 3);       /* over the burst */
    n += fh_cancel(buf + n, 4, 77);
    n += fh_mass_cancel(buf + n, 5);
    fh_send(&H, 0, buf, n, NOW);
    cr_assert_eq(H.ncmds, 2);
    expect_frame(0, DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    dtx_frame f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 3);
    cr_expect_eq(dtx_sbe_load_u16(f.body + 14), DTX_REJ_THROTTLED);
    f = expect_frame(0, DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 4);
    cr_expect_eq(dtx_sbe_load_u64(f.body + 16), 77, "OrderID echoed");
    cr_expect_eq(dtx_sbe_load_u16(f.body + 24), DTX_REJ_THROTTLED);
    cr_expect_eq(f.body[26], 1, "CxlRejResponseTo cancel");
    f = expect_frame(0, DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 5, "RefSeqNum");
    cr_expect_eq(dtx_sbe_load_u16(f.body + 8), 103);
    cr_expect_eq(dtx_sbe_load_u16(f.body + 10), DTX_REJ_THROTTLED);
    /* 100 ms later one token is back */
    n = fh_new_order(buf, 6);
    n += fh_new_order(buf + n, 7);
    fh_send(&H, 0, buf, n, NOW + 100 * MS);
    cr_assert_eq(H.ncmds, 3);
    cr_expect_eq(H.cmds[2].clordid, 6);
    f = expect_frame(0, DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 7);
    dtx_session_stats st;
    dtx_session_stats_get(H.s, &st);
    cr_expect_eq(st.throttled, 4);
}

Test(session_errors, client_terminate_is_answered_and_cancel_on_disconnect_fires)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    uint8_t buf[256], uuid[16];
    fh_uuid(uuid, 1);
    size_t n = fh_terminate(buf, uuid, DTX_FIXP_TERMINATION_CODE_FINISHED);
    fh_send(&H, 0, buf, n, NOW);
    expect_terminate(0, DTX_FIXP_TERMINATION_CODE_FINISHED, "");
    cr_expect_eq(H.closed[0], 0, "the client sent the first one: it closes");
    n = fh_new_order(buf, 9);
    fh_send(&H, 0, buf, n, NOW);
    cr_expect_eq(H.ncmds, 0);
    dtx_session_on_closed(H.s, 0, NOW + 1);
    cr_assert_eq(H.ncmds, 1);
    cr_expect_eq(H.cmds[0].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_expect_eq(H.cmds[0].session, si);
    cr_expect_eq(H.cmds[0].account, 7);
}

Test(session_errors, unanswered_terminate_closes_after_the_wait)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER2, NOW);
    uint8_t buf[256], body[8] = {0};
    size_t n = fh_raw(buf, 8, 9, 2748, 0, body, 8); /* Context: 24 bytes, short block */
    fh_send(&H, 0, buf, n, NOW);
    cr_expect_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_TERMINATING);
    dtx_session_tick(H.s, NOW + 999 * MS);
    cr_expect_eq(H.closed[0], 0);
    dtx_session_tick(H.s, NOW + 1000 * MS);
    cr_expect_eq(H.closed[0], 1);
    cr_expect_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_FREE);
}

Test(session_errors, connection_that_never_establishes_is_closed_after_the_handshake_timeout)
{
    cr_assert_eq(dtx_session_open(H.s, 0, NOW), DTX_OK);
    dtx_session_tick(H.s, NOW + 4999 * MS);
    cr_expect_eq(H.closed[0], 0);
    dtx_session_tick(H.s, NOW + 5000 * MS);
    cr_expect_eq(H.closed[0], 1);
}

Test(session_errors, establish_twice_on_one_connection_is_a_protocol_error)
{
    fh_connect(&H, 0, 1, FH_KEY_TRADER2, NOW);
    uint8_t buf[4096], uuid[16];
    fh_uuid(uuid, 1);
    size_t n = fh_establish(&H, buf, uuid, NOW + 5, FH_KEY_TRADER2, FH_CRED_GOOD, 1000);
    fh_send(&H, 0, buf, n, NOW);
    expect_terminate(0, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR,
                     "Establish on an established connection");
}
