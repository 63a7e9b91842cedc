/*
 * session_negotiate.c - Negotiate and Establish with secp256k1 credentials.
 *
 * Every bad credential is rejected with the code PROTOCOL.md names, the
 * connection is closed, and no session state changes: the same SessionId
 * can be negotiated (or established) right after with good credentials.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dtx/fixp_2748.h"
#include "support/fixp_harness.h"

static fixp_harness H;
static char last_reason[256];

/* Reason (var data after a 25-byte root block) of a reject. */
static void last_reason_of(const dtx_frame *f)
{
    last_reason[0] = 0;
    if (f->body_len >= 27) {
        uint16_t n = dtx_sbe_load_u16(f->body + 25);
        if (n < sizeof last_reason && 27u + n <= f->body_len) {
            memcpy(last_reason, f->body + 27, n);
            last_reason[n] = 0;
        }
    }
}

static void setup(void) { fh_init(&H, NULL); }
static void teardown(void) { fh_fini(&H); }

TestSuite(session_negotiate, .init = setup, .fini = teardown);

#define NOW (FH_T0 + 1000)

/* Sends a Negotiate on a fresh conn 0; returns the answer's template, and
 * the reject code through *code. */
static uint16_t negotiate(uint8_t b, uint64_t ts, int key, int mode, uint8_t flow, uint8_t *code)
{
    uint8_t buf[4096], uuid[16];
    fh_uuid(uuid, b);
    if (dtx_session_conn_state(H.s, 0) == DTX_CONN_FREE)
        cr_assert_eq(dtx_session_open(H.s, 0, NOW), DTX_OK);
    size_t n = fh_negotiate(&H, buf, uuid, ts, key, mode, flow);
    cr_assert_eq(fh_send(&H, 0, buf, n, NOW), n);
    dtx_frame f;
    cr_assert(fh_next(&H, 0, &f));
    cr_expect(memcmp(f.body, uuid, 16) == 0, "SessionId echoed");
    cr_expect_eq(dtx_sbe_load_u64(f.body + 16), ts, "RequestTimestamp echoed");
    *code = f.body[24];
    last_reason_of(&f);
    return f.template_id;
}

static void expect_negotiation_reject(uint8_t b, uint64_t ts, int key, int mode, uint8_t flow,
                                      uint8_t want)
{
    dtx_session_stats before;
    dtx_session_stats_get(H.s, &before);
    uint8_t code;
    cr_assert_eq(negotiate(b, ts, key, mode, flow, &code), DTX_FIXP_NEGOTIATION_REJECT_TEMPLATE_ID);
    cr_expect_eq(code, want);
    cr_expect_eq(H.closed[0], 1, "closed after NegotiationReject");
    cr_expect_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_FREE);
    dtx_session_stats after;
    dtx_session_stats_get(H.s, &after);
    cr_expect_eq(after.sessions_held, before.sessions_held, "no session created");
    cr_expect_eq(after.negotiate_rejects, before.negotiate_rejects + 1);
    H.closed[0] = 0;
}

Test(session_negotiate, good_negotiate_is_answered_with_recoverable_server_flow)
{
    uint8_t code;
    cr_assert_eq(negotiate(0xA1, NOW, FH_KEY_TRADER, FH_CRED_GOOD, DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                           &code),
                 DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID);
    cr_expect_eq(code, DTX_FIXP_FLOW_TYPE_RECOVERABLE, "ServerFlow");
    dtx_frame f;
    /* re-read the frame: Credentials empty */
    H.out_read[0] = 0;
    cr_assert(fh_next(&H, 0, &f));
    cr_expect_eq(f.body_len, 25 + 2);
    cr_expect_eq(dtx_sbe_load_u16(f.body + 25), 0);
    cr_expect_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_NEGOTIATED);
    cr_expect_eq(H.closed[0], 0);
}

Test(session_negotiate, unknown_key_is_rejected_credentials_and_changes_nothing)
{
    expect_negotiation_reject(0xA1, NOW, FH_KEY_UNKNOWN, FH_CRED_GOOD,
                              DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                              DTX_FIXP_NEGOTIATION_REJECT_CODE_CREDENTIALS);
    cr_expect_str_eq(last_reason, "unknown key");
    uint8_t code;
    cr_expect_eq(negotiate(0xA1, NOW, FH_KEY_TRADER, FH_CRED_GOOD, DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                           &code),
                 DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID, "the SessionId is still free");
}

Test(session_negotiate, stale_timestamp_is_rejected_credentials)
{
    expect_negotiation_reject(0xA2, NOW - 5000000001ull, FH_KEY_TRADER, FH_CRED_GOOD,
                              DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                              DTX_FIXP_NEGOTIATION_REJECT_CODE_CREDENTIALS);
    cr_expect_str_eq(last_reason, "timestamp outside the clock window");
    expect_negotiation_reject(0xA2, NOW + 5000000001ull, FH_KEY_TRADER, FH_CRED_GOOD,
                              DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                              DTX_FIXP_NEGOTIATION_REJECT_CODE_CREDENTIALS);
    uint8_t code;
    cr_expect_eq(negotiate(0xA2, NOW - 5000000000ull, FH_KEY_TRADER, FH_CRED_GOOD,
                           DTX_FIXP_FLOW_TYPE_IDEMPOTENT, &code),
                 DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID, "exactly 5 s is accepted");
}

Test(session_negotiate, bad_signature_is_rejected_credentials)
{
    expect_negotiation_reject(0xA3, NOW, FH_KEY_TRADER, FH_CRED_BAD_SIG,
                              DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                              DTX_FIXP_NEGOTIATION_REJECT_CODE_CREDENTIALS);
    cr_expect_str_eq(last_reason, "bad signature");
}

Test(session_negotiate, high_s_signature_is_rejected_never_normalised)
{
    expect_negotiation_reject(0xA4, NOW, FH_KEY_TRADER, FH_CRED_HIGH_S,
                              DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                              DTX_FIXP_NEGOTIATION_REJECT_CODE_CREDENTIALS);
    cr_expect_str_eq(last_reason, "high-S signature");
}

Test(session_negotiate, credentials_of_96_bytes_are_rejected)
{
    expect_negotiation_reject(0xA5, NOW, FH_KEY_TRADER, FH_CRED_SHORT,
                              DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                              DTX_FIXP_NEGOTIATION_REJECT_CODE_CREDENTIALS);
}

Test(session_negotiate, client_flow_other_than_idempotent_is_flow_type_not_supported)
{
    expect_negotiation_reject(0xA6, NOW, FH_KEY_TRADER, FH_CRED_GOOD,
                              DTX_FIXP_FLOW_TYPE_RECOVERABLE,
                              DTX_FIXP_NEGOTIATION_REJECT_CODE_FLOW_TYPE_NOT_SUPPORTED);
    expect_negotiation_reject(0xA6, NOW, FH_KEY_TRADER, FH_CRED_GOOD,
                              DTX_FIXP_FLOW_TYPE_UNSEQUENCED,
                              DTX_FIXP_NEGOTIATION_REJECT_CODE_FLOW_TYPE_NOT_SUPPORTED);
}

Test(session_negotiate, reused_session_id_is_duplicate_id)
{
    uint8_t code;
    cr_assert_eq(negotiate(0xA7, NOW, FH_KEY_TRADER, FH_CRED_GOOD, DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                           &code),
                 DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID);
    dtx_session_on_closed(H.s, 0, NOW);
    H.out_read[0] = H.out_len[0];
    /* even signed by another registered key, and later */
    expect_negotiation_reject(0xA7, NOW + 1, FH_KEY_TRADER2, FH_CRED_GOOD,
                              DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                              DTX_FIXP_NEGOTIATION_REJECT_CODE_DUPLICATE_ID);
}

/* ---- Establish ---------------------------------------------------------------- */

static void negotiated(uint8_t b, int key)
{
    uint8_t code;
    cr_assert_eq(negotiate(b, NOW, key, FH_CRED_GOOD, DTX_FIXP_FLOW_TYPE_IDEMPOTENT, &code),
                 DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID);
}

static uint16_t establish(uint32_t conn, uint8_t b, uint64_t ts, int key, int mode, uint32_t ka,
                          uint8_t *code)
{
    uint8_t buf[4096], uuid[16];
    fh_uuid(uuid, b);
    if (dtx_session_conn_state(H.s, conn) == DTX_CONN_FREE)
        cr_assert_eq(dtx_session_open(H.s, conn, NOW), DTX_OK);
    size_t n = fh_establish(&H, buf, uuid, ts, key, mode, ka);
    cr_assert_eq(fh_send(&H, conn, buf, n, NOW), n);
    dtx_frame f;
    cr_assert(fh_next(&H, conn, &f));
    cr_expect(memcmp(f.body, uuid, 16) == 0);
    cr_expect_eq(dtx_sbe_load_u64(f.body + 16), ts);
    *code = f.body[24];
    last_reason_of(&f);
    return f.template_id;
}

static void expect_establishment_reject(uint32_t conn, uint8_t b, uint64_t ts, int key, int mode,
                                        uint32_t ka, uint8_t want)
{
    uint8_t code;
    cr_assert_eq(establish(conn, b, ts, key, mode, ka, &code),
                 DTX_FIXP_ESTABLISHMENT_REJECT_TEMPLATE_ID);
    cr_expect_eq(code, want, "code %u, want %u", code, want);
    cr_expect_eq(H.closed[conn], 1, "closed after EstablishmentReject");
    cr_expect_eq(dtx_session_conn_state(H.s, conn), DTX_CONN_FREE);
    H.closed[conn] = 0;
}

Test(session_negotiate, establish_is_acked_with_keepalive_echoed_and_next_seq_no)
{
    negotiated(0xB1, FH_KEY_TRADER);
    uint8_t buf[4096], uuid[16];
    fh_uuid(uuid, 0xB1);
    size_t n = fh_establish(&H, buf, uuid, NOW + 1, FH_KEY_TRADER, FH_CRED_GOOD, 250);
    cr_assert_eq(fh_send(&H, 0, buf, n, NOW), n);
    dtx_frame f;
    cr_assert(fh_next(&H, 0, &f));
    cr_assert_eq(f.template_id, DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
    cr_expect_eq(dtx_sbe_load_u64(f.body + 16), NOW + 1);
    cr_expect_eq(dtx_sbe_load_u32(f.body + 24), 250);
    cr_expect_eq(dtx_sbe_load_u64(f.body + 28), 1, "a new session's first server number");
    cr_expect_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_ESTABLISHED);
    cr_expect_eq(dtx_session_of_conn(H.s, 0), 0);
}

Test(session_negotiate, establish_of_a_session_never_negotiated_is_unnegotiated)
{
    expect_establishment_reject(1, 0xB2, NOW, FH_KEY_TRADER, FH_CRED_GOOD, 1000,
                                DTX_FIXP_ESTABLISHMENT_REJECT_CODE_UNNEGOTIATED);
}

Test(session_negotiate, establish_signed_by_another_key_is_credentials)
{
    negotiated(0xB3, FH_KEY_TRADER);
    expect_establishment_reject(1, 0xB3, NOW + 1, FH_KEY_TRADER2, FH_CRED_GOOD, 1000,
                                DTX_FIXP_ESTABLISHMENT_REJECT_CODE_CREDENTIALS);
    uint8_t code;
    cr_expect_eq(establish(1, 0xB3, NOW + 2, FH_KEY_TRADER, FH_CRED_GOOD, 1000, &code),
                 DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID, "nothing changed by the reject");
}

Test(session_negotiate, establish_bad_high_s_or_stale_is_credentials)
{
    negotiated(0xB4, FH_KEY_TRADER);
    expect_establishment_reject(1, 0xB4, NOW + 1, FH_KEY_TRADER, FH_CRED_BAD_SIG, 1000,
                                DTX_FIXP_ESTABLISHMENT_REJECT_CODE_CREDENTIALS);
    expect_establishment_reject(1, 0xB4, NOW + 1, FH_KEY_TRADER, FH_CRED_HIGH_S, 1000,
                                DTX_FIXP_ESTABLISHMENT_REJECT_CODE_CREDENTIALS);
    cr_expect_str_eq(last_reason, "high-S signature");
    expect_establishment_reject(1, 0xB4, NOW - 6000000000ull, FH_KEY_TRADER, FH_CRED_GOOD, 1000,
                                DTX_FIXP_ESTABLISHMENT_REJECT_CODE_CREDENTIALS);
    uint8_t code;
    cr_expect_eq(establish(1, 0xB4, NOW + 1, FH_KEY_TRADER, FH_CRED_GOOD, 1000, &code),
                 DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
}

Test(session_negotiate, replayed_establish_is_credentials)
{
    negotiated(0xB5, FH_KEY_TRADER);
    uint8_t code;
    cr_assert_eq(establish(1, 0xB5, NOW + 10, FH_KEY_TRADER, FH_CRED_GOOD, 1000, &code),
                 DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
    dtx_session_on_closed(H.s, 1, NOW);
    /* the captured Establish (same Timestamp) and an older one */
    expect_establishment_reject(1, 0xB5, NOW + 10, FH_KEY_TRADER, FH_CRED_GOOD, 1000,
                                DTX_FIXP_ESTABLISHMENT_REJECT_CODE_CREDENTIALS);
    cr_expect_str_eq(last_reason, "Timestamp not after the last Establish");
    expect_establishment_reject(1, 0xB5, NOW + 9, FH_KEY_TRADER, FH_CRED_GOOD, 1000,
                                DTX_FIXP_ESTABLISHMENT_REJECT_CODE_CREDENTIALS);
    cr_expect_eq(establish(1, 0xB5, NOW + 11, FH_KEY_TRADER, FH_CRED_GOOD, 1000, &code),
                 DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
}

Test(session_negotiate, keepalive_outside_100_to_60000_ms_is_keepalive_interval)
{
    negotiated(0xB6, FH_KEY_TRADER);
    expect_establishment_reject(1, 0xB6, NOW + 1, FH_KEY_TRADER, FH_CRED_GOOD, 99,
                                DTX_FIXP_ESTABLISHMENT_REJECT_CODE_KEEPALIVE_INTERVAL);
    expect_establishment_reject(1, 0xB6, NOW + 2, FH_KEY_TRADER, FH_CRED_GOOD, 60001,
                                DTX_FIXP_ESTABLISHMENT_REJECT_CODE_KEEPALIVE_INTERVAL);
    uint8_t code;
    cr_expect_eq(establish(1, 0xB6, NOW + 1, FH_KEY_TRADER, FH_CRED_GOOD, 60000, &code),
                 DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID,
                 "the rejected Timestamps were not recorded");
}

Test(session_negotiate, blocked_account_is_session_blocked)
{
    negotiated(0xB7, FH_KEY_TRADER);
    dtx_session_set_account_blocked(H.s, 7, 1);
    expect_establishment_reject(1, 0xB7, NOW + 1, FH_KEY_TRADER, FH_CRED_GOOD, 1000,
                                DTX_FIXP_ESTABLISHMENT_REJECT_CODE_SESSION_BLOCKED);
    dtx_session_set_account_blocked(H.s, 7, 0);
    uint8_t code;
    cr_expect_eq(establish(1, 0xB7, NOW + 1, FH_KEY_TRADER, FH_CRED_GOOD, 1000, &code),
                 DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
}

Test(session_negotiate, second_connection_is_already_established_and_first_stays)
{
    negotiated(0xB8, FH_KEY_TRADER);
    uint8_t code;
    cr_assert_eq(establish(0, 0xB8, NOW + 1, FH_KEY_TRADER, FH_CRED_GOOD, 1000, &code),
                 DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
    expect_establishment_reject(1, 0xB8, NOW + 2, FH_KEY_TRADER, FH_CRED_GOOD, 1000,
                                DTX_FIXP_ESTABLISHMENT_REJECT_CODE_ALREADY_ESTABLISHED);
    cr_expect_eq(dtx_session_conn_state(H.s, 0), DTX_CONN_ESTABLISHED);
    cr_expect_eq(H.closed[0], 0);
}

Test(session_negotiate, session_past_retention_is_unnegotiated)
{
    dtx_session_config cfg = {.max_connections = FH_CONNS, .max_sessions = 4, .store_depth = 16,
                              .send_buffer_bytes = 16384, .retention_ns = 60 * 1000000000ull};
    fh_fini(&H);
    fh_init(&H, &cfg);
    negotiated(0xB9, FH_KEY_TRADER);
    uint8_t code;
    cr_assert_eq(establish(0, 0xB9, NOW + 1, FH_KEY_TRADER, FH_CRED_GOOD, 1000, &code),
                 DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
    dtx_session_on_closed(H.s, 0, NOW);
    uint64_t later = NOW + 61 * 1000000000ull;
    uint8_t buf[4096], uuid[16];
    fh_uuid(uuid, 0xB9);
    cr_assert_eq(dtx_session_open(H.s, 1, later), DTX_OK);
    size_t n = fh_establish(&H, buf, uuid, later, FH_KEY_TRADER, FH_CRED_GOOD, 1000);
    fh_send(&H, 1, buf, n, later);
    dtx_frame f;
    cr_assert(fh_next(&H, 1, &f));
    cr_expect_eq(f.template_id, DTX_FIXP_ESTABLISHMENT_REJECT_TEMPLATE_ID);
    cr_expect_eq(f.body[24], DTX_FIXP_ESTABLISHMENT_REJECT_CODE_UNNEGOTIATED);
}

Test(session_negotiate, negotiate_and_establish_may_use_separate_connections)
{
    negotiated(0xBA, FH_KEY_TRADER2);
    dtx_session_on_closed(H.s, 0, NOW);
    uint8_t code;
    cr_expect_eq(establish(2, 0xBA, NOW + 1, FH_KEY_TRADER2, FH_CRED_GOOD, 1000, &code),
                 DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
}

Test(session_negotiate, one_key_may_hold_a_bounded_number_of_sessions)
{
    dtx_session_config cfg = {.max_connections = FH_CONNS, .max_sessions = 8, .store_depth = 16,
                              .send_buffer_bytes = 16384, .max_sessions_per_key = 2};
    fh_fini(&H);
    fh_init(&H, &cfg);
    negotiated(0xC1, FH_KEY_TRADER);
    dtx_session_on_closed(H.s, 0, NOW);
    negotiated(0xC2, FH_KEY_TRADER);
    dtx_session_on_closed(H.s, 0, NOW);
    expect_negotiation_reject(0xC3, NOW, FH_KEY_TRADER, FH_CRED_GOOD,
                              DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                              DTX_FIXP_NEGOTIATION_REJECT_CODE_UNSPECIFIED);
    cr_expect_str_eq(last_reason, "too many sessions for this key");
    negotiated(0xC3, FH_KEY_TRADER2); /* another key is not affected */
}
