/*
 * dtx-admin - the risk team's and the operator's console: one role message
 * (docs/admin.md) per run, sent over a FIXP session with a risk, operator or
 * oracle key from the engine's key file through the client library
 * (dtx/client.h), and its answer printed readably.
 *
 *   dtx-admin [--host H] [--port N] [--keys-file PATH] [--role R] COMMAND ARGS...
 *
 * The key is the first one of the role the command needs (--role forces
 * another, e.g. to see NotAuthorized). Money is printed in units of the
 * settlement asset (6 decimals), rates in percent, prices as decimals.
 * Exit status: 0 when the request was carried out (AdminAck), 1 when it was
 * refused (AdminReject, BusinessMessageReject: the reason is printed), 2 on
 * bad usage or when no session could be had.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtx/admin.h"
#include "dtx/client.h"
#include "dtx/keyfile.h"
#include "dtx/risk.h"
#include "dtx/session.h"
#include "dtx/types.h"

#define ANSWER_TIMEOUT_MS 10000
#define DEFAULT_ACCOUNT 4294967295u

static const char usage_text[] =
    "usage: dtx-admin [--host H] [--port N] [--keys-file PATH] [--role risk|operator|oracle]\n"
    "                 COMMAND ARGS...\n"
    "\n"
    "Risk role:\n"
    "  limit ACCOUNT|default TYPE VALUE [SECURITY_ID]\n"
    "        TYPE: max_order_qty max_position (per instrument: SECURITY_ID needed),\n"
    "              max_notional (micro-units), max_open_orders, max_leverage; 0 = unset\n"
    "  limits ACCOUNT|default [SECURITY_ID]   show the limits set (and the instrument's\n"
    "        risk parameters)\n"
    "  param SECURITY_ID NAME VALUE\n"
    "        NAME: initial_margin maint_margin price_band maker_fee taker_fee (RATE9,\n"
    "              1000000000 = 100 %), leverage_cap (x)\n"
    "  kill ACCOUNT on|off      kill switch: cancel every order and block, or undo\n"
    "  deposit ACCOUNT AMOUNT   withdraw ACCOUNT AMOUNT   (micro-units)\n"
    "  account ACCOUNT          collateral, positions, open-order margin, equity, ratio\n"
    "  watch [N]                the N (10) accounts nearest to maintenance margin\n"
    "Operator role:\n"
    "  halt SECURITY_ID   resume SECURITY_ID   close SECURITY_ID   sessions\n"
    "Oracle role:\n"
    "  mark SECURITY_ID MARK_PX [INDEX_PX]   (PRICE9 integers: 1000000000 = 1.0)\n"
    "\n"
    "Defaults: 127.0.0.1:7001, ./dtx-demo-keys.txt. Exit status 0 done, 1 refused,\n"
    "2 usage or connection error.\n";

typedef struct admin {
    dtx_client *c;
    uint64_t request;  /* RequestID sent */
    uint64_t seq;      /* its client number (BusinessMessageReject names it) */
    int done;          /* 1 ack, 2 refused */
    int watch;         /* account reports as one line each */
} admin;

/* ---- printing ---------------------------------------------------------------- */

static void print_money(const char *name, int64_t v)
{
    uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    printf("  %-16s %s%" PRIu64 ".%06" PRIu64 "\n", name, v < 0 ? "-" : "", a / 1000000, a % 1000000);
}

static void fmt_e9(char *buf, size_t cap, int64_t v)
{
    if (v == INT64_MIN) {
        snprintf(buf, cap, "-");
        return;
    }
    uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    snprintf(buf, cap, "%s%" PRIu64 ".%09" PRIu64, v < 0 ? "-" : "", a / 1000000000,
             a % 1000000000);
}

static void fmt_pct(char *buf, size_t cap, int64_t rate9)
{
    /* RATE9 to percent with 5 decimals: rate9 / 1e7 */
    uint64_t a = rate9 < 0 ? 0 - (uint64_t)rate9 : (uint64_t)rate9;
    snprintf(buf, cap, "%s%" PRIu64 ".%05" PRIu64 " %%", rate9 < 0 ? "-" : "", a / 10000000,
             (a % 10000000) / 100);
}

static const char *limit_name(unsigned t)
{
    return t ? dtx_admin_param_name(t) : "-";
}

static void print_account(const dtx_sbe_account_report *r)
{
    char ratio[48];
    if (r->margin_ratio == INT64_MAX)
        snprintf(ratio, sizeof ratio, "- (no maintenance requirement)");
    else
        fmt_e9(ratio, sizeof ratio, r->margin_ratio);
    printf("account %u: %s%s, %u open orders\n", r->account,
           r->enabled ? "enabled" : "DISABLED (kill switch on)",
           r->below_maintenance ? ", BELOW MAINTENANCE" : "", r->open_orders);
    print_money("collateral", r->collateral);
    print_money("unrealized_pnl", r->unrealized_pnl);
    print_money("equity", r->equity);
    print_money("initial_margin", r->initial_margin);
    print_money("order_margin", r->order_margin);
    print_money("maint_margin", r->maint_margin);
    print_money("available", r->available);
    printf("  %-16s %s\n", "margin_ratio", ratio);
}

static void print_position(const dtx_sbe_position_report *p)
{
    char avg[40];
    fmt_e9(avg, sizeof avg, p->avg_entry_px);
    printf("position account %u security %u: qty %" PRId64 " @ %s, open buy %" PRId64
           " sell %" PRId64 "\n",
           p->account, p->security_id, p->position, avg, p->open_buy_qty, p->open_sell_qty);
    print_money("realized_pnl", p->realized_pnl);
    print_money("fees", p->fees);
    print_money("unrealized_pnl", p->unrealized_pnl);
    print_money("initial_margin", p->initial_margin);
    print_money("maint_margin", p->maint_margin);
}

static void print_watch_line(const dtx_sbe_account_report *r)
{
    char ratio[40];
    if (r->margin_ratio == INT64_MAX)
        snprintf(ratio, sizeof ratio, "-");
    else
        fmt_e9(ratio, sizeof ratio, r->margin_ratio);
    printf("account %-6u ratio %-14s equity %" PRId64 " maint %" PRId64 "%s%s\n", r->account,
           ratio, r->equity, r->maint_margin, r->below_maintenance ? " BELOW MAINTENANCE" : "",
           r->enabled ? "" : " DISABLED");
}

static const char *role_name(unsigned r) { return dtx_keyfile_role_name(r); }

static const char *conn_state_name(unsigned s)
{
    static const char *const n[] = {"detached", "open", "negotiated", "established", "terminating"};
    return s < 5 ? n[s] : "?";
}

static const char *status_name(unsigned s)
{
    return s == DTX_TRADING_OPEN ? "open" : s == DTX_TRADING_HALTED ? "halted"
                                        : s == DTX_TRADING_CLOSED   ? "closed"
                                                                    : "?";
}

static void print_ack(const dtx_sbe_admin_ack *a)
{
    char o[40], n[40];
    switch (a->ref_template_id) {
    case DTX_SBE_SET_ACCOUNT_LIMIT_TEMPLATE_ID:
        if (a->account == DEFAULT_ACCOUNT)
            printf("ok: default %s", limit_name(a->param));
        else
            printf("ok: %s of account %u", limit_name(a->param), a->account);
        if (a->security_id)
            printf(" on security %u", a->security_id);
        printf(": %" PRId64 " -> %" PRId64 "\n", a->old_value, a->new_value);
        break;
    case DTX_SBE_SET_INSTRUMENT_RISK_PARAM_TEMPLATE_ID:
        if (a->param == DTX_RISK_PARAM_MAX_LEVERAGE) {
            printf("ok: %s of security %u: %" PRId64 " -> %" PRId64 "\n", limit_name(a->param),
                   a->security_id, a->old_value, a->new_value);
        } else {
            fmt_pct(o, sizeof o, a->old_value);
            fmt_pct(n, sizeof n, a->new_value);
            printf("ok: %s of security %u: %s -> %s\n", limit_name(a->param), a->security_id, o,
                   n);
        }
        break;
    case DTX_SBE_KILL_SWITCH_TEMPLATE_ID:
        if (a->status)
            printf("ok: kill switch ON for account %u: %" PRIu64
                   " orders canceled, new orders and logons blocked\n",
                   a->account, a->count);
        else
            printf("ok: kill switch OFF for account %u: trading enabled again\n", a->account);
        break;
    case DTX_SBE_DEPOSIT_TEMPLATE_ID:
    case DTX_SBE_WITHDRAW_TEMPLATE_ID:
        printf("ok: %s, account %u collateral:\n",
               a->ref_template_id == DTX_SBE_DEPOSIT_TEMPLATE_ID ? "deposit" : "withdrawal",
               a->account);
        print_money("before", a->old_value);
        print_money("after", a->new_value);
        break;
    case DTX_SBE_INSTRUMENT_STATUS_REQUEST_TEMPLATE_ID:
        printf("ok: security %u %s -> %s\n", a->security_id, status_name((unsigned)a->old_value),
               status_name((unsigned)a->new_value));
        break;
    case DTX_SBE_SET_MARK_PRICE_TEMPLATE_ID:
        fmt_e9(o, sizeof o, a->old_value);
        fmt_e9(n, sizeof n, a->new_value);
        printf("ok: mark of security %u: %s -> %s\n", a->security_id, o, n);
        if (a->new_index_px != INT64_MIN) {
            fmt_e9(o, sizeof o, a->old_index_px);
            fmt_e9(n, sizeof n, a->new_index_px);
            printf("    index: %s -> %s\n", o, n);
        }
        break;
    default:
        printf("ok: %" PRIu64 " report%s\n", a->count, a->count == 1 ? "" : "s");
        break;
    }
}

static void on_report(void *ctx, dtx_client *c, const dtx_client_report *r)
{
    admin *k = ctx;
    (void)c;
    switch (r->template_id) {
    case DTX_SBE_ADMIN_ACK_TEMPLATE_ID:
        if (r->u.admin_ack.request_id != k->request)
            return;
        print_ack(&r->u.admin_ack);
        k->done = 1;
        break;
    case DTX_SBE_ADMIN_REJECT_TEMPLATE_ID:
        if (r->u.admin_reject.request_id != k->request)
            return;
        printf("refused: %.*s (reason %u)\n", (int)r->u.admin_reject.text_length,
               r->u.admin_reject.text, r->u.admin_reject.reject_reason);
        k->done = 2;
        break;
    case DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID:
        if (r->u.business_reject.ref_seq_num != k->seq)
            return;
        printf("refused: %.*s (reason %u)%s\n", (int)r->u.business_reject.text_length,
               r->u.business_reject.text, r->u.business_reject.reject_reason,
               r->u.business_reject.reject_reason == DTX_REJ_NOT_AUTHORIZED
                   ? ": this key's role may not send it"
                   : "");
        k->done = 2;
        break;
    case DTX_SBE_ACCOUNT_REPORT_TEMPLATE_ID:
        if (r->u.account_report.request_id != k->request)
            return;
        if (k->watch)
            print_watch_line(&r->u.account_report);
        else
            print_account(&r->u.account_report);
        break;
    case DTX_SBE_POSITION_REPORT_TEMPLATE_ID:
        if (r->u.position_report.request_id == k->request)
            print_position(&r->u.position_report);
        break;
    case DTX_SBE_SESSION_REPORT_TEMPLATE_ID: {
        const dtx_sbe_session_report *s = &r->u.session_report;
        if (s->request_id != k->request)
            return;
        printf("session %-4u id ", s->session_slot);
        for (int i = 0; i < 16; i++)
            printf("%02x", s->session_id[i]);
        printf(" account %-6u %-9s %-11s key %08x next_server %" PRIu64 " next_client %" PRIu64
               "\n",
               s->account, role_name(s->role), conn_state_name(s->connection_state), s->key_id,
               s->next_server_seq, s->next_client_seq);
        break;
    }
    case DTX_SBE_LIMIT_REPORT_TEMPLATE_ID: {
        const dtx_sbe_limit_report *l = &r->u.limit_report;
        if (l->request_id != k->request)
            return;
        if (l->account == DEFAULT_ACCOUNT)
            printf("default limits");
        else
            printf("limits of account %u", l->account);
        if (l->security_id)
            printf(" on security %u", l->security_id);
        printf(" (0 = not set%s):\n",
               l->account == DEFAULT_ACCOUNT ? ": no limit" : ": the default applies");
        if (l->security_id) {
            printf("  %-16s %" PRId64 "\n", "max_order_qty", l->max_order_qty);
            printf("  %-16s %" PRId64 "\n", "max_position", l->max_position);
        }
        print_money("max_notional", l->max_notional);
        printf("  %-16s %" PRId64 "\n", "max_open_orders", l->max_open_orders);
        printf("  %-16s %" PRId64 "\n", "max_leverage", l->max_leverage);
        break;
    }
    case DTX_SBE_INSTRUMENT_RISK_REPORT_TEMPLATE_ID: {
        const dtx_sbe_instrument_risk_report *p = &r->u.risk_report;
        char b[40];
        if (p->request_id != k->request)
            return;
        printf("security %u (%s):\n", p->security_id, status_name(p->trading_status));
        fmt_pct(b, sizeof b, p->initial_margin_rate);
        printf("  %-16s %s\n", "initial_margin", b);
        fmt_pct(b, sizeof b, p->maint_margin_rate);
        printf("  %-16s %s\n", "maint_margin", b);
        fmt_pct(b, sizeof b, p->price_band);
        printf("  %-16s %s\n", "price_band", b);
        printf("  %-16s %" PRId64 "\n", "leverage_cap", p->leverage_cap);
        fmt_pct(b, sizeof b, p->maker_fee);
        printf("  %-16s %s\n", "maker_fee", b);
        fmt_pct(b, sizeof b, p->taker_fee);
        printf("  %-16s %s\n", "taker_fee", b);
        fmt_e9(b, sizeof b, p->mark_px);
        printf("  %-16s %s\n", "mark", b);
        fmt_e9(b, sizeof b, p->index_px);
        printf("  %-16s %s\n", "index", b);
        break;
    }
    default:
        break;
    }
}

/* ---- the request ------------------------------------------------------------ */

typedef struct request {
    dtx_session_role role;
    uint16_t template_id;
    uint16_t block_length;
    uint8_t body[128];
    size_t len;
} request;

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return 0;
    *out = strtoull(s, &end, 10);
    return *end == '\0';
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    if (!s || !*s)
        return 0;
    *out = strtoll(s, &end, 10);
    return *end == '\0';
}

static int parse_account(const char *s, uint32_t *out)
{
    uint64_t v;
    if (s && strcmp(s, "default") == 0) {
        *out = DEFAULT_ACCOUNT;
        return 1;
    }
    if (!parse_u64(s, &v) || v >= DEFAULT_ACCOUNT)
        return 0;
    *out = (uint32_t)v;
    return 1;
}

static int parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    if (!parse_u64(s, &v) || v > UINT32_MAX)
        return 0;
    *out = (uint32_t)v;
    return 1;
}

#define ENC(SNAKE, UPPER, M, ROLE)                                                                 \
    do {                                                                                          \
        ptrdiff_t n_ = dtx_sbe_##SNAKE##_encode(q->body, sizeof q->body, &(M));                   \
        if (n_ < 0)                                                                               \
            return "cannot encode";                                                               \
        q->len = (size_t)n_;                                                                      \
        q->template_id = DTX_SBE_##UPPER##_TEMPLATE_ID;                                           \
        q->block_length = DTX_SBE_##UPPER##_BLOCK_LENGTH;                                         \
        q->role = ROLE;                                                                           \
        return NULL;                                                                              \
    } while (0)

static const struct {
    const char *name;
    uint16_t param;
} LIMITS[] = {{"max_order_qty", DTX_RISK_PARAM_MAX_ORDER_QTY},
              {"max_position", DTX_RISK_PARAM_MAX_POSITION},
              {"max_notional", DTX_RISK_PARAM_MAX_NOTIONAL},
              {"max_open_orders", DTX_RISK_PARAM_MAX_OPEN_ORDERS},
              {"max_leverage", DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE}},
  PARAMS[] = {{"initial_margin", DTX_RISK_PARAM_INITIAL_MARGIN},
              {"maint_margin", DTX_RISK_PARAM_MAINT_MARGIN},
              {"price_band", DTX_RISK_PARAM_PRICE_BAND},
              {"leverage_cap", DTX_RISK_PARAM_MAX_LEVERAGE},
              {"maker_fee", DTX_RISK_PARAM_MAKER_FEE},
              {"taker_fee", DTX_RISK_PARAM_TAKER_FEE}};

/* Builds the request of argv[0..argc) with RequestID id. Returns NULL, or
 * what is wrong. */
static const char *build(int argc, char **argv, uint64_t id, request *q)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "limit") == 0) {
        dtx_sbe_set_account_limit m = {.request_id = id};
        size_t i;
        if (argc < 4 || argc > 5 || !parse_account(argv[1], &m.account) ||
            !parse_i64(argv[3], &m.value))
            return "limit ACCOUNT|default TYPE VALUE [SECURITY_ID]";
        for (i = 0; i < sizeof LIMITS / sizeof LIMITS[0]; i++)
            if (strcmp(argv[2], LIMITS[i].name) == 0)
                break;
        if (i == sizeof LIMITS / sizeof LIMITS[0])
            return "limit TYPE: max_order_qty, max_position, max_notional, max_open_orders or "
                   "max_leverage";
        m.limit_type = LIMITS[i].param;
        if (argc == 5 && !parse_u32(argv[4], &m.security_id))
            return "limit: SECURITY_ID is a number";
        if ((m.limit_type == DTX_RISK_PARAM_MAX_ORDER_QTY ||
             m.limit_type == DTX_RISK_PARAM_MAX_POSITION) &&
            !m.security_id)
            return "limit max_order_qty and max_position need a SECURITY_ID";
        ENC(set_account_limit, SET_ACCOUNT_LIMIT, m, DTX_ROLE_RISK);
    }
    if (strcmp(cmd, "limits") == 0) {
        dtx_sbe_limit_query m = {.request_id = id};
        if (argc < 2 || argc > 3 || !parse_account(argv[1], &m.account) ||
            (argc == 3 && !parse_u32(argv[2], &m.security_id)))
            return "limits ACCOUNT|default [SECURITY_ID]";
        ENC(limit_query, LIMIT_QUERY, m, DTX_ROLE_RISK);
    }
    if (strcmp(cmd, "param") == 0) {
        dtx_sbe_set_instrument_risk_param m = {.request_id = id};
        size_t i;
        if (argc != 4 || !parse_u32(argv[1], &m.security_id) || !parse_i64(argv[3], &m.value))
            return "param SECURITY_ID NAME VALUE";
        for (i = 0; i < sizeof PARAMS / sizeof PARAMS[0]; i++)
            if (strcmp(argv[2], PARAMS[i].name) == 0)
                break;
        if (i == sizeof PARAMS / sizeof PARAMS[0])
            return "param NAME: initial_margin, maint_margin, price_band, leverage_cap, "
                   "maker_fee or taker_fee";
        m.risk_param = PARAMS[i].param;
        ENC(set_instrument_risk_param, SET_INSTRUMENT_RISK_PARAM, m, DTX_ROLE_RISK);
    }
    if (strcmp(cmd, "kill") == 0) {
        dtx_sbe_kill_switch m = {.request_id = id};
        if (argc != 3 || !parse_account(argv[1], &m.account) || m.account == DEFAULT_ACCOUNT ||
            (strcmp(argv[2], "on") != 0 && strcmp(argv[2], "off") != 0))
            return "kill ACCOUNT on|off";
        m.kill_switch_on = strcmp(argv[2], "on") == 0;
        ENC(kill_switch, KILL_SWITCH, m, DTX_ROLE_RISK);
    }
    if (strcmp(cmd, "deposit") == 0 || strcmp(cmd, "withdraw") == 0) {
        dtx_sbe_deposit m = {.request_id = id};
        if (argc != 3 || !parse_account(argv[1], &m.account) || m.account == DEFAULT_ACCOUNT ||
            !parse_i64(argv[2], &m.amount) || m.amount <= 0)
            return "deposit|withdraw ACCOUNT AMOUNT (micro-units, > 0)";
        if (cmd[0] == 'd')
            ENC(deposit, DEPOSIT, m, DTX_ROLE_RISK);
        dtx_sbe_withdraw w = {.request_id = id, .account = m.account, .amount = m.amount};
        ENC(withdraw, WITHDRAW, w, DTX_ROLE_RISK);
    }
    if (strcmp(cmd, "account") == 0) {
        dtx_sbe_account_query m = {.request_id = id};
        if (argc != 2 || !parse_account(argv[1], &m.account) || m.account == DEFAULT_ACCOUNT)
            return "account ACCOUNT";
        ENC(account_query, ACCOUNT_QUERY, m, DTX_ROLE_RISK);
    }
    if (strcmp(cmd, "watch") == 0) {
        dtx_sbe_margin_watch_query m = {.request_id = id, .max_accounts = 10};
        uint32_t n;
        if (argc > 2 || (argc == 2 && (!parse_u32(argv[1], &n) || n < 1 || n > 64)))
            return "watch [N] (N in 1..64)";
        if (argc == 2)
            m.max_accounts = (uint16_t)n;
        ENC(margin_watch_query, MARGIN_WATCH_QUERY, m, DTX_ROLE_RISK);
    }
    if (strcmp(cmd, "halt") == 0 || strcmp(cmd, "resume") == 0 || strcmp(cmd, "close") == 0) {
        dtx_sbe_instrument_status_request m = {.request_id = id};
        if (argc != 2 || !parse_u32(argv[1], &m.security_id))
            return "halt|resume|close SECURITY_ID";
        m.trading_status = cmd[0] == 'h' ? DTX_TRADING_HALTED
                           : cmd[0] == 'r' ? DTX_TRADING_OPEN
                                           : DTX_TRADING_CLOSED;
        ENC(instrument_status_request, INSTRUMENT_STATUS_REQUEST, m, DTX_ROLE_OPERATOR);
    }
    if (strcmp(cmd, "sessions") == 0) {
        dtx_sbe_session_list_request m = {.request_id = id};
        if (argc != 1)
            return "sessions";
        ENC(session_list_request, SESSION_LIST_REQUEST, m, DTX_ROLE_OPERATOR);
    }
    if (strcmp(cmd, "mark") == 0) {
        dtx_sbe_set_mark_price m = {.request_id = id, .index_px = INT64_MIN};
        if (argc < 3 || argc > 4 || !parse_u32(argv[1], &m.security_id) ||
            !parse_i64(argv[2], &m.mark_px) || (argc == 4 && !parse_i64(argv[3], &m.index_px)))
            return "mark SECURITY_ID MARK_PX [INDEX_PX]";
        ENC(set_mark_price, SET_MARK_PRICE, m, DTX_ROLE_ORACLE);
    }
    return "unknown command";
}

static int parse_role(const char *s, dtx_session_role *out)
{
    for (unsigned r = DTX_ROLE_TRADER; r <= DTX_ROLE_ORACLE; r++)
        if (strcmp(s, dtx_keyfile_role_name(r)) == 0) {
            *out = (dtx_session_role)r;
            return 1;
        }
    return 0;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *keys_file = "./dtx-demo-keys.txt";
    long port = 7001;
    dtx_session_role force_role = 0;
    int i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end;
            port = strtol(argv[++i], &end, 10);
            if (*end || port < 1 || port > 65535) {
                fprintf(stderr, "dtx-admin: --port %s: not a port\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--keys-file") == 0 && i + 1 < argc) {
            keys_file = argv[++i];
        } else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc) {
            if (!parse_role(argv[++i], &force_role)) {
                fprintf(stderr, "dtx-admin: --role %s: not a role\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else {
            fprintf(stderr, "dtx-admin: unknown option %s\n\n%s", argv[i], usage_text);
            return 2;
        }
    }
    if (i == argc) {
        fputs(usage_text, stderr);
        return 2;
    }

    admin k = {0};
    request q = {0};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    k.request = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    const char *why = build(argc - i, argv + i, k.request, &q);
    if (why) {
        fprintf(stderr, "dtx-admin: %s\n", why);
        return 2;
    }
    if (force_role)
        q.role = force_role;

    /* the first key of the role */
    static dtx_key_entry keys[1024];
    uint32_t n = 0, ki;
    if (dtx_keyfile_load(keys_file, keys, 1024, &n) != DTX_OK) {
        fprintf(stderr, "dtx-admin: %s\n", dtx_error_message());
        return 2;
    }
    for (ki = 0; ki < n; ki++)
        if (keys[ki].role == q.role)
            break;
    if (ki == n) {
        fprintf(stderr, "dtx-admin: %s: no %s key\n", keys_file, dtx_keyfile_role_name(q.role));
        return 2;
    }

    dtx_client_config cc = {0};
    cc.host = host;
    cc.port = (uint16_t)port;
    memcpy(cc.seckey, keys[ki].seckey, 32);
    memset(keys, 0, sizeof keys);
    dtx_client_callbacks cb = {.ctx = &k, .on_report = on_report};
    k.c = dtx_client_create(&cc, &cb);
    memset(cc.seckey, 0, sizeof cc.seckey);
    if (!k.c) {
        fprintf(stderr, "dtx-admin: %s\n", dtx_error_message());
        return 2;
    }
    if (dtx_client_connect_wait(k.c, 5000) != DTX_OK) {
        fprintf(stderr, "dtx-admin: cannot establish a session with %s:%ld: %s\n", host, port,
                dtx_error_message());
        dtx_client_destroy(k.c);
        return 2;
    }
    k.watch = strcmp(argv[i], "watch") == 0;
    if (dtx_client_send_app(k.c, q.template_id, q.block_length, q.body, q.len, &k.seq) != DTX_OK) {
        fprintf(stderr, "dtx-admin: cannot send: %s\n", dtx_error_message());
        dtx_client_destroy(k.c);
        return 2;
    }
    for (int waited = 0; !k.done && waited < ANSWER_TIMEOUT_MS; waited += 100)
        if (dtx_client_wait(k.c, 100) < 0)
            break;
    int rc = k.done == 1 ? 0 : k.done == 2 ? 1 : 2;
    if (!k.done)
        fprintf(stderr, "dtx-admin: no answer from %s:%ld\n", host, port);
    dtx_client_terminate_wait(k.c, 1000);
    dtx_client_destroy(k.c);
    return rc;
}
