/*
 * session_scale.c - 1,000 connections, each its own session, on one
 * dtx_sessions: every one negotiates, establishes, sends an order and gets
 * its report back on its own connection; ticks and closes touch each once.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/fixp_2748.h"
#include "dtx/sbe_7001.h"
#include "support/fixp_harness.h"

#define NCONN 1000

static fixp_harness H; /* for its keys and frame builders */
static struct {
    uint16_t last_tid[NCONN];
    uint32_t frames[NCONN];
    uint32_t closes;
    dtx_command *cmds;
    size_t ncmds;
} S;

static size_t w(void *ctx, uint32_t conn, const uint8_t *d, size_t len)
{
    (void)ctx;
    cr_assert_lt(conn, NCONN);
    size_t at = 0;
    while (at < len) {
        dtx_frame f;
        char why[DTX_SOFH_REASON_MAX];
        int rc = dtx_sofh_decode(d + at, len - at, &f, why);
        cr_assert_gt(rc, 0, "conn %u: %s", conn, why);
        S.last_tid[conn] = f.template_id;
        S.frames[conn]++;
        at += (size_t)rc;
    }
    return len;
}

static int sub(void *ctx, const dtx_command *c)
{
    (void)ctx;
    S.cmds[S.ncmds++] = *c;
    return 0;
}

static void cl(void *ctx, uint32_t conn)
{
    (void)ctx;
    (void)conn;
    S.closes++;
}

Test(session_scale, a_thousand_sessions_on_one_table)
{
    fh_init(&H, NULL);
    S.cmds = calloc(4 * NCONN, sizeof *S.cmds);
    dtx_session_config cfg = {.max_connections = NCONN, .max_sessions = NCONN,
                              .store_depth = 16, .send_buffer_bytes = 8192};
    dtx_session_callbacks cb = {.write = w, .submit = sub, .close = cl};
    dtx_sessions *s = dtx_sessions_create(&cfg, &cb);
    cr_assert(s, "%s", dtx_error_message());
    cr_assert_eq(dtx_session_add_key(s, H.pubkey[FH_KEY_TRADER2], 8, DTX_ROLE_TRADER,
                                     DTX_KEY_CANCEL_ON_DISCONNECT), DTX_OK);
    uint64_t now = FH_T0;
    static uint8_t buf[8192];
    for (uint32_t c = 0; c < NCONN; c++) {
        uint8_t uuid[16];
        memset(uuid, 0, 16);
        memcpy(uuid, &c, sizeof c);
        cr_assert_eq(dtx_session_open(s, c, now), DTX_OK);
        size_t n = fh_negotiate(&H, buf, uuid, now, FH_KEY_TRADER2, FH_CRED_GOOD,
                                DTX_FIXP_FLOW_TYPE_IDEMPOTENT);
        n += fh_establish(&H, buf + n, uuid, now + 1, FH_KEY_TRADER2, FH_CRED_GOOD, 1000);
        n += fh_sequence(buf + n, 1);
        n += fh_new_order(buf + n, 1000 + c);
        cr_assert_eq(dtx_session_on_bytes(s, c, buf, n, now), n);
        cr_assert_eq(dtx_session_conn_state(s, c), DTX_CONN_ESTABLISHED, "conn %u", c);
        cr_assert_eq(S.last_tid[c], DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
    }
    cr_assert_eq(S.ncmds, NCONN);
    dtx_session_stats st;
    dtx_session_stats_get(s, &st);
    cr_expect_eq(st.sessions_held, NCONN);
    cr_expect_eq(st.connections_open, NCONN);
    /* the core answers each order; each report reaches its own connection */
    for (size_t i = 0; i < S.ncmds; i++) {
        dtx_event ev = fh_event_new(S.cmds[i].session, S.cmds[i].clordid, i + 1);
        cr_assert_eq(dtx_session_on_event(s, &ev, now), DTX_OK);
    }
    for (uint32_t c = 0; c < NCONN; c++) {
        cr_assert_eq(S.last_tid[c], DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID, "conn %u", c);
        cr_assert_eq(S.frames[c], 4, "NegotiationResponse, EstablishmentAck, Sequence, report");
        cr_assert_eq(dtx_session_of_conn(s, c), (int32_t)S.cmds[c].session);
    }
    /* one idle interval: a keepalive Sequence each */
    dtx_session_tick(s, now + 1000000000ull);
    for (uint32_t c = 0; c < NCONN; c++)
        cr_assert_eq(S.last_tid[c], DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    /* every connection ends: cancel-on-disconnect for each session */
    for (uint32_t c = 0; c < NCONN; c++)
        dtx_session_on_closed(s, c, now + 2);
    cr_expect_eq(S.ncmds, 2 * NCONN);
    cr_expect_eq(S.cmds[NCONN].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_expect_eq(S.closes, 0);
    dtx_session_stats_get(s, &st);
    cr_expect_eq(st.connections_open, 0);
    dtx_sessions_destroy(s);
    free(S.cmds);
    fh_fini(&H);
}
