/*
 * dtx-cli - a market maker's order entry by hand: one FIXP session to
 * dtx-engine through the client library (dtx/client.h), orders typed on
 * stdin or read from a script file, every report and session event printed
 * in readable form.
 *
 *   dtx-cli [--host H] [--port N] [--keys-file PATH] [--account N]
 *           [--secret HEX] [--config FILE] [--session-id HEX]
 *           [--keepalive MS] [--script FILE] [--quiet]
 *
 * The key is the account's trader key from the engine's key file (the demo
 * file dtx-engine writes) or --secret. Symbols come from the engine's
 * configuration (--config, else the embedded default instruments). One
 * thread, one poll loop over stdin (or the script) and the session's socket.
 * Output lines (stdout) start with '>' for what was sent, '<' for a report,
 * '#' for session events and notes; errors in a line go to stderr and do not
 * stop the session. Exit status: 0 after a clean Terminate, 1 when the
 * session could not be established or ended unexpectedly, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dtx/client.h"
#include "dtx/cmdfile.h"
#include "dtx/config.h"
#include "dtx/keyfile.h"
#include "dtx/types.h"

#define MAX_PENDING 4096
#define LINE_MAX_LEN 1024
#define SYNC_TIMEOUT_MS 10000

static const char usage_text[] =
    "usage: dtx-cli [--host H] [--port N] [--keys-file PATH] [--account N]\n"
    "               [--secret HEX] [--config FILE] [--session-id HEX] [--keepalive MS]\n"
    "               [--script FILE] [--quiet]\n"
    "\n"
    "Order entry by hand over FIXP: reads commands from stdin (or --script FILE),\n"
    "prints every report. Defaults: 127.0.0.1:7001, ./dtx-demo-keys.txt, account 1,\n"
    "the engine's default instruments, a fresh random SessionId.\n"
    "\n"
    "Commands (one per line; '#' starts a comment; fields in any order after the\n"
    "side, symbol and quantity):\n"
    "  buy|sell SYMBOL QTY [@ PRICE] [day|gtc|ioc|fok|gtd] [clordid=N] [post-only]\n"
    "           [reduce-only] [display=N] [stop=PRICE] [expire=TIME]\n"
    "           [stp=newest|oldest|both|decrement]\n"
    "      no price: a Market order (IOC unless fok is given); stop= with a price\n"
    "      is a StopLimit, without a Stop; TIME is RFC 3339 UTC or nanoseconds\n"
    "  cancel clordid=N|order=N [symbol=S] [side=buy|sell] [new=N]\n"
    "  replace clordid=N|order=N [qty=N] [@ PRICE|px=PRICE] [display=N] [new=N]\n"
    "      qty is the new total (filled included); no price keeps it\n"
    "  masscancel [SYMBOL] [buy|sell]\n"
    "  sync        wait until every request sent has its answer\n"
    "  wait MS     read reports for MS milliseconds\n"
    "  disconnect  drop the connection without Terminate\n"
    "  reconnect   connect again, re-establish the same SessionId, and fetch\n"
    "              the reports missed meanwhile\n"
    "  status      session state and sequence numbers\n"
    "  quit        terminate the session and exit (also at end of input)\n"
    "ClOrdIDs left out are taken from a counter that starts at the clock's\n"
    "milliseconds, so two runs do not collide.\n";

typedef struct pending {
    uint64_t clordid; /* the request's ClOrdID */
    uint64_t seq;     /* its client number (BusinessMessageReject names it) */
} pending;

typedef struct cli {
    dtx_client *c;
    dtx_config cfg; /* instruments only */
    uint64_t next_clordid;
    pending pend[MAX_PENDING];
    uint32_t npend;
    int quiet;
    int ended;      /* the session is over (terminated or lost) */
    int terminated; /* by our Terminate */
} cli;

/* ---- formatting ----------------------------------------------------------------- */

/* PRICE9 as a decimal without trailing zeros ("65000.5"); "null" for null. */
static const char *fmt_px(char *buf, size_t cap, int64_t px)
{
    dtx_price9_format(px, buf, cap);
    return buf;
}

static const char *symbol_of(const cli *k, uint32_t id, char *buf, size_t cap)
{
    for (uint32_t i = 0; i < k->cfg.n_instruments; i++)
        if (k->cfg.instruments[i].security_id == id)
            return k->cfg.instruments[i].symbol;
    snprintf(buf, cap, "#%u", id);
    return buf;
}

static const char *lower(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = '\0';
    return buf;
}

/* ---- pending requests ----------------------------------------------------------- */

static void pend_add(cli *k, uint64_t clordid, uint64_t seq)
{
    if (k->npend < MAX_PENDING)
        k->pend[k->npend++] = (pending){clordid, seq};
}

static void pend_done(cli *k, uint64_t clordid, uint64_t seq)
{
    for (uint32_t i = 0; i < k->npend; i++)
        if ((clordid && k->pend[i].clordid == clordid) || (seq && k->pend[i].seq == seq)) {
            k->pend[i] = k->pend[--k->npend];
            return;
        }
}

/* ---- callbacks ------------------------------------------------------------------ */

static void on_report(void *ctx, dtx_client *c, const dtx_client_report *r)
{
    cli *k = ctx;
    char p1[32], p2[32], sb[16], lb[24];
    (void)c;
    printf("< [%" PRIu64 "%s] ", r->seq, r->retransmitted ? " resent" : "");
    switch (r->template_id) {
    case DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID: {
        const dtx_sbe_execution_report_new *m = &r->u.er_new;
        printf("NEW clordid=%" PRIu64 " order=%" PRIu64 " %s %s %s %s %" PRId64 " @ %s",
               m->cl_ord_id, m->order_id, symbol_of(k, m->security_id, sb, sizeof sb),
               dtx_side_name(m->side), lower(dtx_ord_type_name(m->ord_type), lb, sizeof lb),
               dtx_tif_name(m->time_in_force), m->order_qty, fmt_px(p1, sizeof p1, m->price));
        if (m->stop_px != DTX_PRICE_NULL)
            printf(" stop=%s", fmt_px(p2, sizeof p2, m->stop_px));
        printf(" leaves=%" PRId64 "\n", m->leaves_qty);
        pend_done(k, m->cl_ord_id, 0);
        break;
    }
    case DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID: {
        const dtx_sbe_execution_report_trade *m = &r->u.trade;
        printf("TRADE clordid=%" PRIu64 " order=%" PRIu64 " %s %s %" PRId64 " @ %s %s leaves=%" PRId64
               " cum=%" PRId64 " %s trade=%" PRIu64 " fee=%s\n",
               m->cl_ord_id, m->order_id, symbol_of(k, m->security_id, sb, sizeof sb),
               dtx_side_name(m->side), m->last_qty, fmt_px(p1, sizeof p1, m->last_px),
               m->ord_status == DTX_STATUS_FILLED ? "filled" : "partial", m->leaves_qty, m->cum_qty,
               m->aggressor_indicator ? "taker" : "maker", m->trade_id, fmt_px(p2, sizeof p2, m->fee));
        break;
    }
    case DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID: {
        const dtx_sbe_execution_report_canceled *m = &r->u.canceled;
        printf("CANCELED clordid=%" PRIu64 " orig=%" PRIu64 " order=%" PRIu64 " %s %s reason=%s cum=%" PRId64 "\n",
               m->cl_ord_id, m->orig_cl_ord_id, m->order_id,
               symbol_of(k, m->security_id, sb, sizeof sb), dtx_side_name(m->side),
               dtx_cancel_reason_name(m->cancel_reason), m->cum_qty);
        pend_done(k, m->cl_ord_id, 0);
        break;
    }
    case DTX_SBE_EXECUTION_REPORT_REPLACED_TEMPLATE_ID: {
        const dtx_sbe_execution_report_replaced *m = &r->u.replaced;
        printf("REPLACED clordid=%" PRIu64 " orig=%" PRIu64 " order=%" PRIu64 " %s %s %" PRId64
               " @ %s leaves=%" PRId64 " cum=%" PRId64 "\n",
               m->cl_ord_id, m->orig_cl_ord_id, m->order_id,
               symbol_of(k, m->security_id, sb, sizeof sb), dtx_side_name(m->side), m->order_qty,
               fmt_px(p1, sizeof p1, m->price), m->leaves_qty, m->cum_qty);
        pend_done(k, m->cl_ord_id, 0);
        break;
    }
    case DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID: {
        const dtx_sbe_execution_report_reject *m = &r->u.reject;
        printf("REJECT clordid=%" PRIu64 " %s %s reason=%s (%u) text=\"%.*s\"\n", m->cl_ord_id,
               symbol_of(k, m->security_id, sb, sizeof sb), dtx_side_name(m->side),
               dtx_reject_reason_name(m->reject_reason), m->reject_reason, (int)m->text_length,
               m->text ? m->text : "");
        pend_done(k, m->cl_ord_id, 0);
        break;
    }
    case DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID: {
        const dtx_sbe_order_cancel_reject *m = &r->u.cancel_reject;
        printf("CANCEL-REJECT clordid=%" PRIu64 " orig=%" PRIu64 " order=%" PRIu64
               " response-to=%s reason=%s (%u)\n",
               m->cl_ord_id, m->orig_cl_ord_id, m->order_id,
               m->cxl_rej_response_to == 2 ? "replace" : "cancel",
               dtx_reject_reason_name(m->reject_reason), m->reject_reason);
        pend_done(k, m->cl_ord_id, 0);
        break;
    }
    case DTX_SBE_ORDER_MASS_CANCEL_REPORT_TEMPLATE_ID:
        printf("MASS-CANCEL-REPORT clordid=%" PRIu64 " affected=%u\n", r->u.mass_cancel.cl_ord_id,
               r->u.mass_cancel.total_affected_orders);
        pend_done(k, r->u.mass_cancel.cl_ord_id, 0);
        break;
    case DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID: {
        const dtx_sbe_business_message_reject *m = &r->u.business_reject;
        printf("BUSINESS-REJECT ref-seq=%" PRIu64 " ref-template=%u reason=%s (%u)\n", m->ref_seq_num,
               m->ref_template_id, dtx_reject_reason_name(m->reject_reason), m->reject_reason);
        pend_done(k, 0, m->ref_seq_num);
        break;
    }
    default:
        printf("template %u\n", r->template_id);
        break;
    }
    fflush(stdout);
}

static void on_session(void *ctx, dtx_client *c, const dtx_client_event *e)
{
    cli *k = ctx;
    (void)c;
    switch (e->type) {
    case DTX_CLIENT_EV_NEGOTIATED:
        printf("# negotiated\n");
        break;
    case DTX_CLIENT_EV_ESTABLISHED:
        printf("# established: next server seq %" PRIu64 ", keepalive %u ms\n", e->seq, e->count);
        break;
    case DTX_CLIENT_EV_NOT_APPLIED:
        printf("# [%" PRIu64 "] NOT-APPLIED client seq %" PRIu64 "..%" PRIu64 "\n", e->seq,
               e->from_seq, e->from_seq + e->count - 1);
        break;
    case DTX_CLIENT_EV_RETRANSMIT_REQUESTED:
    case DTX_CLIENT_EV_RETRANSMISSION:
        printf("# %s from %" PRIu64 " count %u\n",
               e->type == DTX_CLIENT_EV_RETRANSMISSION ? "retransmission" : "retransmit request",
               e->from_seq, e->count);
        break;
    case DTX_CLIENT_EV_TERMINATED:
        printf("# terminated (%s, code %u)%s%.*s\n", e->by_peer ? "by the server" : "answered",
               e->code, e->reason_length ? ": " : "", (int)e->reason_length,
               e->reason ? e->reason : "");
        k->ended = 1;
        break;
    case DTX_CLIENT_EV_DISCONNECTED:
        printf("# disconnected: %.*s\n", (int)e->reason_length, e->reason ? e->reason : "");
        k->ended = 1;
        break;
    default:
        printf("# %s code %u %.*s\n", dtx_client_event_name(e->type), e->code,
               (int)e->reason_length, e->reason ? e->reason : "");
        break;
    }
    fflush(stdout);
}

/* ---- parsing -------------------------------------------------------------------- */

static int lookup_symbol(const cli *k, const char *s, uint32_t *id)
{
    for (uint32_t i = 0; i < k->cfg.n_instruments; i++)
        if (strcasecmp(k->cfg.instruments[i].symbol, s) == 0) {
            *id = k->cfg.instruments[i].security_id;
            return 1;
        }
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s && !*end && v && v <= UINT32_MAX) {
        *id = (uint32_t)v;
        return 1;
    }
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s == '-')
        return 0;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return 0;
    *out = v;
    return 1;
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || errno || *end)
        return 0;
    *out = v;
    return 1;
}

static int parse_side(const char *s, uint8_t *side)
{
    if (!strcasecmp(s, "buy") || !strcasecmp(s, "b"))
        *side = DTX_SIDE_BUY;
    else if (!strcasecmp(s, "sell") || !strcasecmp(s, "s"))
        *side = DTX_SIDE_SELL;
    else
        return 0;
    return 1;
}

/* Splits src into words of buf (cap bytes), at most maxw; '#' starts a
 * comment; '@' is a word of its own ("@65000" is "@" "65000"). */
static int split(const char *src, char *buf, size_t cap, char **w, int maxw)
{
    size_t j = 0;
    for (const char *p = src; *p && *p != '#' && j + 4 < cap; p++) {
        if (*p == '@') {
            buf[j++] = ' ';
            buf[j++] = '@';
            buf[j++] = ' ';
        } else {
            buf[j++] = *p;
        }
    }
    buf[j] = '\0';
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t && n < maxw;
         t = strtok_r(NULL, " \t", &save))
        w[n++] = t;
    return n;
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dtx-cli: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 0;
}

static uint64_t take_clordid(cli *k, uint64_t given)
{
    if (given) {
        if (given >= k->next_clordid)
            k->next_clordid = given + 1;
        return given;
    }
    return k->next_clordid++;
}

static void sent(cli *k, dtx_status st, const char *what, uint64_t clordid, uint64_t seq)
{
    if (st != DTX_OK) {
        fprintf(stderr, "dtx-cli: not sent: %s\n", dtx_error_message());
        return;
    }
    pend_add(k, clordid, seq);
    if (!k->quiet)
        printf("> seq %" PRIu64 ": %s clordid=%" PRIu64 "\n", seq, what, clordid);
    fflush(stdout);
}

static int cmd_order(cli *k, uint8_t side, char **w, int n)
{
    dtx_sbe_new_order_single m = {.side = side, .ord_type = DTX_ORD_LIMIT,
                                  .time_in_force = DTX_TIF_GTC, .price = DTX_PRICE_NULL,
                                  .stop_px = DTX_PRICE_NULL};
    uint64_t clordid = 0, seq = 0;
    int tif_given = 0;
    if (n < 3)
        return bad("%s: buy|sell SYMBOL QTY [@ PRICE] ...", w[0]);
    if (!lookup_symbol(k, w[1], &m.security_id))
        return bad("unknown symbol %s", w[1]);
    if (!parse_i64(w[2], &m.order_qty))
        return bad("bad quantity %s", w[2]);
    for (int i = 3; i < n; i++) {
        const char *a = w[i];
        if (!strcmp(a, "@")) {
            if (i + 1 >= n || !dtx_config_parse_price9(w[i + 1], &m.price))
                return bad("bad price after @%s", "");
            i++;
        } else if (!strcasecmp(a, "day") || !strcasecmp(a, "gtc") || !strcasecmp(a, "ioc") ||
                   !strcasecmp(a, "fok") || !strcasecmp(a, "gtd")) {
            m.time_in_force = !strcasecmp(a, "day")   ? DTX_TIF_DAY
                              : !strcasecmp(a, "gtc") ? DTX_TIF_GTC
                              : !strcasecmp(a, "ioc") ? DTX_TIF_IOC
                              : !strcasecmp(a, "fok") ? DTX_TIF_FOK
                                                      : DTX_TIF_GTD;
            tif_given = 1;
        } else if (!strncmp(a, "clordid=", 8)) {
            if (!parse_u64(a + 8, &clordid) || !clordid)
                return bad("bad %s", a);
        } else if (!strcasecmp(a, "post-only") || !strcasecmp(a, "postonly")) {
            m.exec_inst |= DTX_EXEC_POST_ONLY;
        } else if (!strcasecmp(a, "reduce-only") || !strcasecmp(a, "reduceonly")) {
            m.exec_inst |= DTX_EXEC_REDUCE_ONLY;
        } else if (!strncmp(a, "display=", 8)) {
            if (!parse_i64(a + 8, &m.display_qty))
                return bad("bad %s", a);
        } else if (!strncmp(a, "stop=", 5)) {
            if (!dtx_config_parse_price9(a + 5, &m.stop_px))
                return bad("bad %s", a);
        } else if (!strncmp(a, "expire=", 7)) {
            if (!dtx_config_parse_time(a + 7, &m.expire_time))
                return bad("bad %s", a);
        } else if (!strncmp(a, "stp=", 4)) {
            const char *v = a + 4;
            m.self_trade_prevention = !strcasecmp(v, "newest")   ? DTX_STP_CANCEL_NEWEST
                                      : !strcasecmp(v, "oldest") ? DTX_STP_CANCEL_OLDEST
                                      : !strcasecmp(v, "both")   ? DTX_STP_CANCEL_BOTH
                                      : !strcasecmp(v, "decrement") ? DTX_STP_DECREMENT_AND_CANCEL
                                                                    : 0xFF;
            if (m.self_trade_prevention == 0xFF)
                return bad("bad %s", a);
        } else {
            return bad("unknown field %s", a);
        }
    }
    if (m.stop_px != DTX_PRICE_NULL)
        m.ord_type = m.price == DTX_PRICE_NULL ? DTX_ORD_STOP : DTX_ORD_STOP_LIMIT;
    else if (m.price == DTX_PRICE_NULL) {
        m.ord_type = DTX_ORD_MARKET;
        if (!tif_given)
            m.time_in_force = DTX_TIF_IOC;
    }
    m.cl_ord_id = take_clordid(k, clordid);
    dtx_status st = dtx_client_new_order(k->c, &m, &seq);
    char what[160], p1[32], sb[16];
    snprintf(what, sizeof what, "NewOrderSingle %s %s %" PRId64 " @ %s %s%s%s", dtx_side_name(side),
             symbol_of(k, m.security_id, sb, sizeof sb), m.order_qty,
             m.price == DTX_PRICE_NULL ? "market" : fmt_px(p1, sizeof p1, m.price),
             dtx_tif_name(m.time_in_force), m.exec_inst & DTX_EXEC_POST_ONLY ? " post-only" : "",
             m.exec_inst & DTX_EXEC_REDUCE_ONLY ? " reduce-only" : "");
    sent(k, st, what, m.cl_ord_id, seq);
    return 1;
}

/* clordid=, order=, symbol=, side=, new=, qty=, px=/@, display= of cancel and replace */
typedef struct target {
    uint64_t orig, order_id, newid;
    uint32_t security_id;
    uint8_t side;
    int64_t qty, display, price;
    int have_qty;
} target;

static int parse_target(cli *k, char **w, int n, target *t)
{
    memset(t, 0, sizeof *t);
    t->price = DTX_PRICE_NULL;
    for (int i = 1; i < n; i++) {
        const char *a = w[i];
        if (!strncmp(a, "clordid=", 8) || !strncmp(a, "orig=", 5)) {
            if (!parse_u64(strchr(a, '=') + 1, &t->orig))
                return bad("bad %s", a);
        } else if (!strncmp(a, "order=", 6)) {
            if (!parse_u64(a + 6, &t->order_id))
                return bad("bad %s", a);
        } else if (!strncmp(a, "new=", 4)) {
            if (!parse_u64(a + 4, &t->newid))
                return bad("bad %s", a);
        } else if (!strncmp(a, "symbol=", 7)) {
            if (!lookup_symbol(k, a + 7, &t->security_id))
                return bad("unknown symbol in %s", a);
        } else if (!strncmp(a, "side=", 5)) {
            if (!parse_side(a + 5, &t->side))
                return bad("bad %s", a);
        } else if (!strncmp(a, "qty=", 4)) {
            if (!parse_i64(a + 4, &t->qty))
                return bad("bad %s", a);
            t->have_qty = 1;
        } else if (!strncmp(a, "display=", 8)) {
            if (!parse_i64(a + 8, &t->display))
                return bad("bad %s", a);
        } else if (!strncmp(a, "px=", 3)) {
            if (!dtx_config_parse_price9(a + 3, &t->price))
                return bad("bad %s", a);
        } else if (!strcmp(a, "@")) {
            if (i + 1 >= n || !dtx_config_parse_price9(w[i + 1], &t->price))
                return bad("bad price after @%s", "");
            i++;
        } else {
            return bad("unknown field %s", a);
        }
    }
    if (!t->orig && !t->order_id)
        return bad("%s needs clordid=N or order=N", w[0]);
    return 1;
}

static int cmd_cancel(cli *k, char **w, int n)
{
    target t;
    uint64_t seq = 0;
    if (!parse_target(k, w, n, &t))
        return 0;
    dtx_sbe_order_cancel_request m = {.cl_ord_id = take_clordid(k, t.newid), .orig_cl_ord_id = t.orig,
                                      .order_id = t.order_id, .security_id = t.security_id,
                                      .side = t.side};
    dtx_status st = dtx_client_cancel(k->c, &m, &seq);
    sent(k, st, "OrderCancelRequest", m.cl_ord_id, seq);
    return 1;
}

static int cmd_replace(cli *k, char **w, int n)
{
    target t;
    uint64_t seq = 0;
    if (!parse_target(k, w, n, &t))
        return 0;
    if (!t.have_qty)
        return bad("%s needs qty=N (the new total)", w[0]);
    dtx_sbe_order_cancel_replace_request m = {
        .cl_ord_id = take_clordid(k, t.newid), .orig_cl_ord_id = t.orig, .order_id = t.order_id,
        .security_id = t.security_id, .side = t.side, .price = t.price, .order_qty = t.qty,
        .display_qty = t.display};
    dtx_status st = dtx_client_replace(k->c, &m, &seq);
    sent(k, st, "OrderCancelReplaceRequest", m.cl_ord_id, seq);
    return 1;
}

static int cmd_mass_cancel(cli *k, char **w, int n)
{
    dtx_sbe_order_mass_cancel_request m = {0};
    uint64_t seq = 0;
    for (int i = 1; i < n; i++) {
        if (parse_side(w[i], &m.side))
            continue;
        if (!lookup_symbol(k, w[i], &m.security_id))
            return bad("unknown symbol or side %s", w[i]);
    }
    m.cl_ord_id = take_clordid(k, 0);
    dtx_status st = dtx_client_mass_cancel(k->c, &m, &seq);
    sent(k, st, "OrderMassCancelRequest", m.cl_ord_id, seq);
    return 1;
}

/* Reads reports for up to ms (or until nothing is pending when until_idle). */
static void pump(cli *k, int ms, int until_idle)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (until_idle && k->npend == 0)
            return;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= ms || dtx_client_fd(k->c) < 0)
            return;
        dtx_client_wait(k->c, (int)(ms - el));
    }
}

static void status(cli *k)
{
    char sid[33];
    const uint8_t *s = dtx_client_session_id(k->c);
    for (int i = 0; i < 16; i++)
        snprintf(sid + 2 * i, 3, "%02x", s[i]);
    printf("# state %s session %s next client seq %" PRIu64 " next server seq %" PRIu64
           " pending %u\n",
           dtx_client_state_name(dtx_client_get_state(k->c)), sid, dtx_client_next_seq(k->c),
           dtx_client_next_server_seq(k->c), k->npend);
    fflush(stdout);
}

/* Returns 0 to stop (quit). */
static int handle_line(cli *k, const char *line)
{
    char *w[32], buf[3 * LINE_MAX_LEN];
    int n = split(line, buf, sizeof buf, w, 32);
    if (n == 0)
        return 1;
    uint8_t side;
    if (parse_side(w[0], &side))
        cmd_order(k, side, w, n);
    else if (!strcasecmp(w[0], "cancel"))
        cmd_cancel(k, w, n);
    else if (!strcasecmp(w[0], "replace"))
        cmd_replace(k, w, n);
    else if (!strcasecmp(w[0], "masscancel") || !strcasecmp(w[0], "mass-cancel"))
        cmd_mass_cancel(k, w, n);
    else if (!strcasecmp(w[0], "sync"))
        pump(k, SYNC_TIMEOUT_MS, 1);
    else if (!strcasecmp(w[0], "wait"))
        pump(k, n > 1 ? atoi(w[1]) : 1000, 0);
    else if (!strcasecmp(w[0], "status"))
        status(k);
    else if (!strcasecmp(w[0], "disconnect")) {
        dtx_client_disconnect(k->c);
        k->ended = 0; /* on purpose: reconnect may follow */
    } else if (!strcasecmp(w[0], "reconnect")) {
        if (dtx_client_fd(k->c) >= 0)
            dtx_client_disconnect(k->c);
        k->ended = 0;
        if (dtx_client_connect_wait(k->c, 5000) != DTX_OK)
            fprintf(stderr, "dtx-cli: %s\n", dtx_error_message());
    } else if (!strcasecmp(w[0], "quit") || !strcasecmp(w[0], "exit"))
        return 0;
    else if (!strcasecmp(w[0], "help"))
        fputs(usage_text + 0, stdout);
    else
        fprintf(stderr, "dtx-cli: unknown command %s (help lists them)\n", w[0]);
    return 1;
}

/* ---- main ------------------------------------------------------------------------ */

static int hexbytes(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)s[2 * i]) ||
            !isxdigit((unsigned char)s[2 * i + 1]))
            return 0;
        out[i] = (uint8_t)v;
    }
    return 1;
}

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "dtx-cli: %s\n", why);
    fputs(usage_text, stderr);
    return 2;
}

int main(int argc, char **argv)
{
    static cli k;
    dtx_client_config cc = {.host = "127.0.0.1", .port = 7001};
    const char *keys_file = "./dtx-demo-keys.txt", *config = NULL, *script = NULL, *secret = NULL;
    uint32_t account = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(a, "--quiet")) {
            k.quiet = 1;
            continue;
        }
        if (!v)
            return usage("an option needs a value");
        i++;
        if (!strcmp(a, "--host"))
            cc.host = v;
        else if (!strcmp(a, "--port"))
            cc.port = (uint16_t)atoi(v);
        else if (!strcmp(a, "--keys-file"))
            keys_file = v;
        else if (!strcmp(a, "--account"))
            account = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--secret"))
            secret = v;
        else if (!strcmp(a, "--config"))
            config = v;
        else if (!strcmp(a, "--script"))
            script = v;
        else if (!strcmp(a, "--keepalive"))
            cc.keepalive_ms = (uint32_t)atoi(v);
        else if (!strcmp(a, "--session-id")) {
            if (!hexbytes(v, cc.session_id, 16))
                return usage("--session-id takes 32 hex digits");
        } else
            return usage("unknown option");
    }
    if (config ? dtx_config_load_file(&k.cfg, config) != DTX_OK : (dtx_config_defaults(&k.cfg), 0)) {
        fprintf(stderr, "dtx-cli: %s\n", dtx_error_message());
        return 1;
    }
    if (secret) {
        if (!hexbytes(secret, cc.seckey, 32))
            return usage("--secret takes 64 hex digits");
    } else {
        static dtx_key_entry keys[1024];
        uint32_t n = 0, found = 0;
        if (dtx_keyfile_load(keys_file, keys, 1024, &n) != DTX_OK) {
            fprintf(stderr, "dtx-cli: %s\n", dtx_error_message());
            return 1;
        }
        for (uint32_t i = 0; i < n; i++)
            if (keys[i].account == account && keys[i].role == DTX_ROLE_TRADER) {
                memcpy(cc.seckey, keys[i].seckey, 32);
                found = 1;
            }
        if (!found) {
            fprintf(stderr, "dtx-cli: no trader key for account %u in %s\n", account, keys_file);
            return 1;
        }
    }
    FILE *in = stdin;
    if (script && !(in = fopen(script, "r"))) {
        fprintf(stderr, "dtx-cli: cannot open %s: %s\n", script, strerror(errno));
        return 1;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    k.next_clordid = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;

    dtx_client_callbacks cb = {.ctx = &k, .on_report = on_report, .on_session = on_session};
    k.c = dtx_client_create(&cc, &cb);
    if (!k.c) {
        fprintf(stderr, "dtx-cli: %s\n", dtx_error_message());
        return 1;
    }
    if (dtx_client_connect_wait(k.c, 5000) != DTX_OK) {
        fprintf(stderr, "dtx-cli: %s\n", dtx_error_message());
        dtx_client_destroy(k.c);
        return 1;
    }
    status(&k);

    /* The loop: a line of input when there is one, reports as they come.
     * A script is read line by line without waiting (use sync or wait in it). */
    char line[LINE_MAX_LEN];
    int go = 1, interactive = !script;
    while (go) {
        if (dtx_client_fd(k.c) < 0 && k.ended && !interactive)
            break;
        if (interactive) {
            struct pollfd p[2] = {{.fd = fileno(in), .events = POLLIN},
                                  {.fd = dtx_client_fd(k.c), .events = dtx_client_poll_events(k.c)}};
            int np = p[1].fd >= 0 ? 2 : 1;
            if (poll(p, (nfds_t)np, 100) < 0 && errno != EINTR)
                break;
            dtx_client_poll(k.c);
            if (!(p[0].revents & (POLLIN | POLLHUP)))
                continue;
        } else {
            dtx_client_poll(k.c);
        }
        if (!fgets(line, sizeof line, in))
            break;
        line[strcspn(line, "\r\n")] = '\0';
        go = handle_line(&k, line);
    }
    int rc = 0;
    if (dtx_client_get_state(k.c) == DTX_CLIENT_ESTABLISHED) {
        pump(&k, SYNC_TIMEOUT_MS, 1);
        if (k.npend)
            printf("# %u requests without an answer\n", k.npend);
        if (dtx_client_terminate_wait(k.c, 2000) != DTX_OK) {
            fprintf(stderr, "dtx-cli: %s\n", dtx_error_message());
            rc = 1;
        }
    } else {
        rc = 1;
    }
    if (in != stdin)
        fclose(in);
    dtx_client_destroy(k.c);
    return rc;
}
