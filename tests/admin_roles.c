/*
 * admin_roles.c - role messages 150-165 in the FIXP session layer: each is
 * decoded into its sequenced command only for the one role that owns it;
 * every other role (traders, drop-copy, the other admin roles) is answered
 * BusinessMessageReject NotAuthorized and nothing reaches the core; the
 * operator's session list is answered by the gateway; admin answers go to
 * the requesting session only; an acknowledged kill switch blocks Establish
 * for the account until it is undone; random bodies and answer events are
 * handled without harm.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtx/admin.h"
#include "dtx/fixp_2748.h"
#include "dtx/risk.h"
#include "dtx/sbe_7001.h"
#include "dtx/types.h"
#include "support/fixp_harness.h"

static fixp_harness H;
static void teardown(void) { fh_fini(&H); }
TestSuite(admin_roles, .fini = teardown);

#define NOW (FH_T0 + 1000)
#define ADMIN_ACCOUNT 0

/* Creates the harness and registers the unused key 3 with role (0: none). */
static void init_with(dtx_session_role role)
{
    fh_init(&H, NULL);
    if (role)
        cr_assert_eq(dtx_session_add_key(H.s, H.pubkey[FH_KEY_UNKNOWN], ADMIN_ACCOUNT, role, 0),
                     DTX_OK);
}

/* The next frame on conn that is not a Sequence. */
static dtx_frame next_app(uint32_t conn)
{
    dtx_frame f;
    do
        cr_assert(fh_next(&H, conn, &f), "expected an application message, got nothing");
    while (f.schema_id == DTX_SCHEMA_FIXP && f.template_id == DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    return f;
}

#define FRAME(SNAKE, UPPER, M)                                                                    \
    do {                                                                                         \
        ptrdiff_t n_ = dtx_sbe_##SNAKE##_encode(buf + DTX_FRAME_MIN, 512, &(M));                  \
        cr_assert_gt(n_, 0);                                                                     \
        return dtx_sofh_put_headers(buf, (uint32_t)n_, DTX_SBE_##UPPER##_BLOCK_LENGTH,             \
                                    DTX_SBE_##UPPER##_TEMPLATE_ID, DTX_SCHEMA_APP,                 \
                                    DTX_SBE_SCHEMA_VERSION);                                     \
    } while (0)

/* Root block length of a role message template. */
static int app_root_len(uint16_t tid)
{
    switch (tid) {
#define X(ID, NAME, SNAKE, UPPER, BL, SINCE, VARS)                                                \
    case ID:                                                                                     \
        return BL;
        DTX_SBE_MESSAGES(X)
#undef X
    default:
        return 0;
    }
}

/* A valid message of template tid with RequestID request. */
static size_t role_message(uint8_t *buf, uint16_t tid, uint64_t request)
{
    switch (tid) {
    case DTX_SBE_SET_ACCOUNT_LIMIT_TEMPLATE_ID: {
        dtx_sbe_set_account_limit m = {.request_id = request, .account = 7, .security_id = 1,
                                       .limit_type = DTX_RISK_PARAM_MAX_ORDER_QTY, .value = 25};
        FRAME(set_account_limit, SET_ACCOUNT_LIMIT, m);
    }
    case DTX_SBE_SET_INSTRUMENT_RISK_PARAM_TEMPLATE_ID: {
        dtx_sbe_set_instrument_risk_param m = {.request_id = request, .security_id = 2,
                                               .risk_param = DTX_RISK_PARAM_TAKER_FEE,
                                               .value = 400000};
        FRAME(set_instrument_risk_param, SET_INSTRUMENT_RISK_PARAM, m);
    }
    case DTX_SBE_KILL_SWITCH_TEMPLATE_ID: {
        dtx_sbe_kill_switch m = {.request_id = request, .account = 7, .kill_switch_on = 1};
        FRAME(kill_switch, KILL_SWITCH, m);
    }
    case DTX_SBE_DEPOSIT_TEMPLATE_ID: {
        dtx_sbe_deposit m = {.request_id = request, .account = 8, .amount = 5000000};
        FRAME(deposit, DEPOSIT, m);
    }
    case DTX_SBE_WITHDRAW_TEMPLATE_ID: {
        dtx_sbe_withdraw m = {.request_id = request, .account = 8, .amount = 3000000};
        FRAME(withdraw, WITHDRAW, m);
    }
    case DTX_SBE_ACCOUNT_QUERY_TEMPLATE_ID: {
        dtx_sbe_account_query m = {.request_id = request, .account = 7};
        FRAME(account_query, ACCOUNT_QUERY, m);
    }
    case DTX_SBE_MARGIN_WATCH_QUERY_TEMPLATE_ID: {
        dtx_sbe_margin_watch_query m = {.request_id = request, .max_accounts = 12};
        FRAME(margin_watch_query, MARGIN_WATCH_QUERY, m);
    }
    case DTX_SBE_LIMIT_QUERY_TEMPLATE_ID: {
        dtx_sbe_limit_query m = {.request_id = request, .account = 7, .security_id = 1};
        FRAME(limit_query, LIMIT_QUERY, m);
    }
    case DTX_SBE_INSTRUMENT_STATUS_REQUEST_TEMPLATE_ID: {
        dtx_sbe_instrument_status_request m = {.request_id = request, .security_id = 2,
                                               .trading_status = DTX_TRADING_HALTED};
        FRAME(instrument_status_request, INSTRUMENT_STATUS_REQUEST, m);
    }
    case DTX_SBE_SESSION_LIST_REQUEST_TEMPLATE_ID: {
        dtx_sbe_session_list_request m = {.request_id = request};
        FRAME(session_list_request, SESSION_LIST_REQUEST, m);
    }
    case DTX_SBE_SET_MARK_PRICE_TEMPLATE_ID: {
        dtx_sbe_set_mark_price m = {.request_id = request, .security_id = 1,
                                    .mark_px = 100000000000000LL, .index_px = INT64_MIN};
        FRAME(set_mark_price, SET_MARK_PRICE, m);
    }
    default:
        cr_assert_fail("template %u", tid);
        return 0;
    }
}

static const struct {
    uint16_t tid;
    dtx_session_role role;
    uint16_t cmd_type; /* DTX_CMD_NONE: answered by the gateway */
} MESSAGES[] = {
    {DTX_SBE_SET_ACCOUNT_LIMIT_TEMPLATE_ID, DTX_ROLE_RISK, DTX_CMD_RISK_SET},
    {DTX_SBE_SET_INSTRUMENT_RISK_PARAM_TEMPLATE_ID, DTX_ROLE_RISK, DTX_CMD_RISK_SET},
    {DTX_SBE_KILL_SWITCH_TEMPLATE_ID, DTX_ROLE_RISK, DTX_CMD_KILL_SWITCH},
    {DTX_SBE_DEPOSIT_TEMPLATE_ID, DTX_ROLE_RISK, DTX_CMD_DEPOSIT},
    {DTX_SBE_WITHDRAW_TEMPLATE_ID, DTX_ROLE_RISK, DTX_CMD_WITHDRAW},
    {DTX_SBE_ACCOUNT_QUERY_TEMPLATE_ID, DTX_ROLE_RISK, DTX_CMD_ACCOUNT_QUERY},
    {DTX_SBE_MARGIN_WATCH_QUERY_TEMPLATE_ID, DTX_ROLE_RISK, DTX_CMD_MARGIN_WATCH},
    {DTX_SBE_LIMIT_QUERY_TEMPLATE_ID, DTX_ROLE_RISK, DTX_CMD_LIMIT_QUERY},
    {DTX_SBE_INSTRUMENT_STATUS_REQUEST_TEMPLATE_ID, DTX_ROLE_OPERATOR, DTX_CMD_ADMIN_STATUS},
    {DTX_SBE_SESSION_LIST_REQUEST_TEMPLATE_ID, DTX_ROLE_OPERATOR, DTX_CMD_NONE},
    {DTX_SBE_SET_MARK_PRICE_TEMPLATE_ID, DTX_ROLE_ORACLE, DTX_CMD_MARK_PRICE},
};
#define N_MESSAGES (sizeof MESSAGES / sizeof MESSAGES[0])

/* Sends every role message from a session of role (key), and checks that
 * exactly those of the role reach the core and the rest are NotAuthorized. */
static void check_role(dtx_session_role role, int key)
{
    int si = fh_connect(&H, 0, 1, key, NOW);
    uint8_t buf[600];
    for (size_t i = 0; i < N_MESSAGES; i++) {
        size_t before = H.ncmds;
        uint64_t client_seq = i + 1;
        size_t n = role_message(buf, MESSAGES[i].tid, 1000 + i);
        fh_send(&H, 0, buf, n, NOW);
        if (MESSAGES[i].role != role) {
            cr_assert_eq(H.ncmds, before, "template %u reached the core from role %d",
                         MESSAGES[i].tid, role);
            dtx_frame f = next_app(0);
            cr_assert_eq(f.template_id, DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID);
            dtx_sbe_business_message_reject r;
            cr_assert_gt(dtx_sbe_business_message_reject_decode(f.body, f.body_len,
                                                                f.block_length, f.version, &r),
                         0);
            cr_assert_eq(r.reject_reason, DTX_REJ_NOT_AUTHORIZED);
            cr_assert_eq(r.ref_template_id, MESSAGES[i].tid);
            cr_assert_eq(r.ref_seq_num, client_seq);
            continue;
        }
        if (MESSAGES[i].cmd_type == DTX_CMD_NONE) {
            /* the session list: one report per session, then the ack */
            cr_assert_eq(H.ncmds, before);
            dtx_frame f = next_app(0);
            cr_assert_eq(f.template_id, DTX_SBE_SESSION_REPORT_TEMPLATE_ID);
            dtx_sbe_session_report sr;
            cr_assert_gt(dtx_sbe_session_report_decode(f.body, f.body_len, f.block_length,
                                                       f.version, &sr),
                         0);
            cr_assert_eq(sr.request_id, 1000 + i);
            cr_assert_eq(sr.session_slot, si);
            cr_assert_eq(sr.role, role);
            cr_assert_eq(sr.connection_state, DTX_CONN_ESTABLISHED);
            cr_assert_eq(sr.session_id[0], 1);
            f = next_app(0);
            cr_assert_eq(f.template_id, DTX_SBE_ADMIN_ACK_TEMPLATE_ID);
            dtx_sbe_admin_ack a;
            cr_assert_gt(dtx_sbe_admin_ack_decode(f.body, f.body_len, f.block_length, f.version, &a),
                         0);
            cr_assert_eq(a.count, 1);
            cr_assert_eq(a.ref_template_id, DTX_SBE_SESSION_LIST_REQUEST_TEMPLATE_ID);
            continue;
        }
        cr_assert_eq(H.ncmds, before + 1, "template %u did not reach the core", MESSAGES[i].tid);
        const dtx_command *c = &H.cmds[before];
        cr_assert_eq(c->type, MESSAGES[i].cmd_type);
        cr_assert_eq(c->clordid, 1000 + i);
        cr_assert_eq(c->session, si);
        cr_assert_eq(c->account, ADMIN_ACCOUNT);
        const uint8_t *pub = H.pubkey[key];
        cr_assert_eq(c->key_id, (uint32_t)pub[1] << 24 | (uint32_t)pub[2] << 16 |
                                    (uint32_t)pub[3] << 8 | pub[4]);
        dtx_frame g;
        while (fh_next(&H, 0, &g))
            cr_assert(g.schema_id == DTX_SCHEMA_FIXP, "answered %u before the core did",
                      g.template_id);
    }
}

Test(admin_roles, risk_messages_are_accepted_only_from_the_risk_role)
{
    init_with(DTX_ROLE_RISK);
    check_role(DTX_ROLE_RISK, FH_KEY_UNKNOWN);
}

Test(admin_roles, operator_messages_are_accepted_only_from_the_operator_role)
{
    init_with(DTX_ROLE_OPERATOR);
    check_role(DTX_ROLE_OPERATOR, FH_KEY_UNKNOWN);
}

Test(admin_roles, mark_price_is_accepted_only_from_the_oracle_role)
{
    init_with(DTX_ROLE_ORACLE);
    check_role(DTX_ROLE_ORACLE, FH_KEY_UNKNOWN);
}

Test(admin_roles, traders_and_drop_copy_get_not_authorized_for_every_role_message)
{
    init_with(0);
    check_role(DTX_ROLE_TRADER, FH_KEY_TRADER); /* matches no role message */
    fh_fini(&H);
    init_with(0);
    check_role(DTX_ROLE_DROP_COPY, FH_KEY_DROPCOPY);
}

Test(admin_roles, admin_keys_may_not_send_orders)
{
    init_with(DTX_ROLE_RISK);
    fh_connect(&H, 0, 1, FH_KEY_UNKNOWN, NOW);
    uint8_t buf[256];
    fh_send(&H, 0, buf, fh_new_order(buf, 5), NOW);
    cr_assert_eq(H.ncmds, 0);
    dtx_frame f = next_app(0);
    cr_assert_eq(f.template_id, DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID);
    cr_assert_eq(dtx_sbe_load_u16(f.body + 10), DTX_REJ_NOT_AUTHORIZED);
}

Test(admin_roles, a_reserved_byte_or_an_unknown_limit_type_is_invalid_field_and_goes_nowhere)
{
    init_with(DTX_ROLE_RISK);
    fh_connect(&H, 0, 1, FH_KEY_UNKNOWN, NOW);
    uint8_t buf[600];
    dtx_sbe_set_account_limit m = {.request_id = 1, .account = 7, .limit_type = 3, .value = 1};
    ptrdiff_t n = dtx_sbe_set_account_limit_encode(buf + DTX_FRAME_MIN, 512, &m);
    size_t len = dtx_sofh_put_headers(buf, (uint32_t)n, DTX_SBE_SET_ACCOUNT_LIMIT_BLOCK_LENGTH,
                                      DTX_SBE_SET_ACCOUNT_LIMIT_TEMPLATE_ID, DTX_SCHEMA_APP,
                                      DTX_SBE_SCHEMA_VERSION);
    fh_send(&H, 0, buf, len, NOW);
    len = role_message(buf, DTX_SBE_KILL_SWITCH_TEMPLATE_ID, 2);
    buf[DTX_FRAME_MIN + 14] = 1; /* Reserved */
    fh_send(&H, 0, buf, len, NOW);
    cr_assert_eq(H.ncmds, 0);
    for (int i = 0; i < 2; i++) {
        dtx_frame f = next_app(0);
        cr_assert_eq(f.template_id, DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID);
        cr_assert_eq(dtx_sbe_load_u16(f.body + 10), DTX_REJ_INVALID_FIELD);
    }
}

Test(admin_roles, admin_answers_go_to_the_requesting_session_only_and_never_to_drop_copy)
{
    init_with(DTX_ROLE_RISK);
    int si = fh_connect(&H, 0, 1, FH_KEY_UNKNOWN, NOW);
    fh_connect(&H, 1, 2, FH_KEY_DROPCOPY, NOW);
    dtx_event ev = {0};
    ev.type = DTX_EV_ACCOUNT_REPORT;
    ev.session = (uint16_t)si;
    ev.account = 9; /* even one naming the drop-copy account */
    ev.contra_account = 9;
    ev.clordid = 77;
    ev.status = 1;
    dtx_admin_ev_set(&ev, 0, 123456789);
    dtx_admin_ev_set(&ev, 7, INT64_MAX);
    cr_assert_eq(dtx_session_on_event(H.s, &ev, NOW), DTX_OK);
    dtx_frame f = next_app(0);
    cr_assert_eq(f.template_id, DTX_SBE_ACCOUNT_REPORT_TEMPLATE_ID);
    dtx_sbe_account_report r;
    cr_assert_gt(dtx_sbe_account_report_decode(f.body, f.body_len, f.block_length, f.version, &r), 0);
    cr_assert_eq(r.request_id, 77);
    cr_assert_eq(r.account, 9);
    cr_assert_eq(r.enabled, 1);
    cr_assert_eq(r.collateral, 123456789);
    cr_assert_eq(r.margin_ratio, INT64_MAX);
    dtx_frame g;
    while (fh_next(&H, 1, &g))
        cr_assert(g.schema_id == DTX_SCHEMA_FIXP, "drop copy got template %u", g.template_id);
}

Test(admin_roles, an_acknowledged_kill_switch_blocks_establish_until_undone)
{
    init_with(DTX_ROLE_RISK);
    int si = fh_connect(&H, 0, 1, FH_KEY_UNKNOWN, NOW);
    dtx_event ack = {0};
    ack.type = DTX_EV_ADMIN_ACK;
    ack.ref_cmd_type = DTX_CMD_KILL_SWITCH;
    ack.session = (uint16_t)si;
    ack.contra_account = 7; /* FH_KEY_TRADER's account */
    ack.status = 1;
    cr_assert_eq(dtx_session_on_event(H.s, &ack, NOW), DTX_OK);
    uint8_t buf[256], uuid[16];
    fh_uuid(uuid, 5);
    dtx_session_open(H.s, 2, NOW);
    fh_send(&H, 2, buf, fh_negotiate(&H, buf, uuid, NOW, FH_KEY_TRADER, FH_CRED_GOOD,
                                                DTX_FIXP_FLOW_TYPE_IDEMPOTENT), NOW);
    dtx_frame f;
    cr_assert(fh_next(&H, 2, &f));
    fh_send(&H, 2, buf, fh_establish(&H, buf, uuid, NOW + 1, FH_KEY_TRADER, FH_CRED_GOOD, 1000),
            NOW);
    cr_assert(fh_next(&H, 2, &f));
    cr_assert_eq(f.template_id, DTX_FIXP_ESTABLISHMENT_REJECT_TEMPLATE_ID);
    /* undone: the account's keys establish again */
    ack.status = 0;
    cr_assert_eq(dtx_session_on_event(H.s, &ack, NOW), DTX_OK);
    int s2 = fh_connect(&H, 3, 6, FH_KEY_TRADER, NOW + 2);
    cr_assert_geq(s2, 0);
}

Test(admin_roles, random_role_message_bodies_and_admin_events_are_handled_and_role_checked)
{
    const char *env = getenv("DTX_TEST_SEED"); /* reproduce: DTX_TEST_SEED=<seed> */
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    printf("admin_roles random bodies: seed %u\n", seed);
    srand(seed);
    init_with(DTX_ROLE_OPERATOR);
    int si = fh_connect(&H, 0, 1, FH_KEY_UNKNOWN, NOW);
    static const uint16_t tids[] = {150, 151, 152, 153, 154, 155, 156, 157, 160, 161, 165};
    uint8_t buf[600], body[64];
    for (int i = 0; i < 2000; i++) {
        uint16_t tid = tids[rand() % (int)(sizeof tids / sizeof tids[0])];
        int rc = app_root_len(tid);
        for (int j = 0; j < rc; j++)
            body[j] = (uint8_t)(rand() % 4 == 0 ? rand() : 0);
        size_t n = fh_raw(buf, (uint16_t)rc, tid, DTX_SCHEMA_APP, DTX_SBE_SCHEMA_VERSION, body,
                          (size_t)rc);
        size_t before = H.ncmds;
        fh_send(&H, 0, buf, n, NOW + (uint64_t)i * 1000000000ull);
        if (H.ncmds > before)
            cr_assert_eq(H.cmds[before].type, DTX_CMD_ADMIN_STATUS,
                         "template %u from the operator reached the core", tid);
        /* and an admin answer event with random values */
        dtx_event ev;
        for (size_t j = 0; j < sizeof ev; j++)
            ((uint8_t *)&ev)[j] = (uint8_t)rand();
        ev.type = (uint8_t)(DTX_EV_ADMIN_ACK + rand() % 7);
        ev.session = (uint16_t)si;
        ev.ref_cmd_type = (uint8_t)(rand() % DTX_CMD_TYPE_COUNT);
        dtx_session_on_event(H.s, &ev, NOW);
        dtx_frame f;
        while (fh_next(&H, 0, &f))
            cr_assert(f.schema_id == DTX_SCHEMA_FIXP ||
                          (f.template_id >= 180 && f.template_id <= 186) ||
                          f.template_id == DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID,
                      "template %u", f.template_id);
    }
}
