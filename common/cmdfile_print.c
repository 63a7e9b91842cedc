/*
 * cmdfile_print.c - command files (dtx/cmdfile.h), the writing side: PRICE9
 * as the shortest exact decimal, a command as one text line that parses back
 * to the same record (dtx_cmdtext_format), an event as one readable line
 * (dtx_event_format), and the text names of command types. It prints from the
 * grammar tables of cmdfile_parse.c (common/cmdfile_internal.h), so every verb,
 * field and enum value is written under the name the parser reads.
 *
 * Every printer follows snprintf's contract: it returns the length the whole
 * line needs, and writes at most cap - 1 bytes plus a NUL. No floating point:
 * prices are split into integer and 9-digit fraction.
 */
#include <stdarg.h>
#include <stdio.h>

#include "common/cmdfile_internal.h"
#include "dtx/cmdfile.h"
#include "dtx/event.h"
#include "dtx/types.h"

/* ---- the output buffer ------------------------------------------------------ */

/* Appends to a buffer with snprintf's contract: len counts what would have
 * been written; the buffer is always NUL-terminated when cap > 0. */
typedef struct outbuf {
    char *buf;
    size_t cap;
    size_t len;
} outbuf;

static void outbuf_init(outbuf *o, char *buf, size_t cap)
{
    o->buf = buf;
    o->cap = cap;
    o->len = 0;
    if (cap > 0)
        buf[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void put(outbuf *o, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    if (o->len < o->cap)
        n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    else
        n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static int outbuf_result(const outbuf *o)
{
    return o->len > (size_t)0x7fffffff ? 0x7fffffff : (int)o->len;
}

/* ---- prices ----------------------------------------------------------------- */

int dtx_price9_format(int64_t px, char *buf, size_t cap)
{
    outbuf o;
    uint64_t mag;
    outbuf_init(&o, buf, cap);
    if (px == DTX_PRICE_NULL) {
        put(&o, "null");
        return outbuf_result(&o);
    }
    mag = px < 0 ? 0 - (uint64_t)px : (uint64_t)px;
    if (mag % PRICE9_ONE == 0) {
        put(&o, "%s%llu", px < 0 ? "-" : "", (unsigned long long)(mag / PRICE9_ONE));
    } else {
        char frac[10];
        int n = 9;
        snprintf(frac, sizeof frac, "%09llu", (unsigned long long)(mag % PRICE9_ONE));
        while (n > 1 && frac[n - 1] == '0')
            n--;
        frac[n] = '\0';
        put(&o, "%s%llu.%s", px < 0 ? "-" : "", (unsigned long long)(mag / PRICE9_ONE), frac);
    }
    return outbuf_result(&o);
}

/* ---- names ------------------------------------------------------------------ */

static const char *enum_lookup(const enum_name *t, unsigned v)
{
    for (; t->name; t++)
        if (t->value == v)
            return t->name;
    return NULL;
}

static const verb_def *verb_by_type(unsigned type)
{
    size_t i;
    for (i = 0; i < dtx_cmdfile_n_verbs; i++)
        if (dtx_cmdfile_verbs[i].type == type)
            return &dtx_cmdfile_verbs[i];
    return NULL;
}

const char *dtx_cmd_type_name(unsigned type)
{
    const verb_def *v = verb_by_type(type);
    return v ? v->name : "?";
}

/* "acct clid orig oid ..." : the keys a verb takes, for error messages. */
void dtx_cmdfile_list_keys(uint32_t mask, char *out, size_t cap)
{
    outbuf o;
    unsigned f;
    outbuf_init(&o, out, cap);
    for (f = 0; f < F_COUNT; f++)
        if (mask & B(f))
            put(&o, "%s%s", o.len ? " " : "", dtx_cmdfile_fields[f].key);
}

/* ---- the command printer ---------------------------------------------------- */

static void put_enum(outbuf *o, const char *key, const enum_name *t, unsigned v)
{
    const char *n = enum_lookup(t, v);
    if (n)
        put(o, " %s=%s", key, n);
    else
        put(o, " %s=%u", key, v);
}

static void put_price(outbuf *o, const char *key, int64_t px)
{
    char b[32];
    dtx_price9_format(px, b, sizeof b);
    put(o, " %s=%s", key, b);
}

int dtx_cmdtext_format(const dtx_command *c, char *buf, size_t cap)
{
    const verb_def *v = verb_by_type(c->type);
    outbuf o;
    outbuf_init(&o, buf, cap);
    if (!v)
        return dtx_error_set(DTX_EINVAL, "command type %u has no text form", c->type);

    put(&o, "%s seq=%llu ts=%llu", v->name, (unsigned long long)c->seq,
        (unsigned long long)c->ts);
    if (v->allowed & B(F_ACCT))
        put(&o, " acct=%u", c->account);
    if ((v->allowed & B(F_SESS)) && ((v->required & B(F_SESS)) || c->session))
        put(&o, " sess=%u", c->session);
    if ((v->allowed & B(F_SEC)) && ((v->required & B(F_SEC)) || c->security_id))
        put(&o, " sec=%u", c->security_id);
    if (v->allowed & B(F_CLID))
        put(&o, " clid=%llu", (unsigned long long)c->clordid);
    if (v->needs_ref) {
        if (c->orig_clordid || !c->order_id)
            put(&o, " orig=%llu", (unsigned long long)c->orig_clordid);
        if (c->order_id)
            put(&o, " oid=%llu", (unsigned long long)c->order_id);
    }
    if ((v->allowed & B(F_SIDE)) && ((v->required & B(F_SIDE)) || c->side))
        put_enum(&o, "side", dtx_cmdfile_side_names, c->side);
    if (v->allowed & B(F_TYPE))
        put_enum(&o, "type", dtx_cmdfile_type_names, c->ord_type);
    if (v->allowed & B(F_TIF))
        put_enum(&o, "tif", dtx_cmdfile_tif_names, c->tif);
    if ((v->allowed & B(F_PX)) && c->price != DTX_PRICE_NULL)
        put_price(&o, "px", c->price);
    if (v->allowed & B(F_QTY))
        put(&o, " qty=%lld", (long long)c->qty);
    if ((v->allowed & B(F_STOP)) && c->stop_px != DTX_PRICE_NULL)
        put_price(&o, "stop", c->stop_px);
    if ((v->allowed & B(F_DISPLAY)) && c->display_qty)
        put(&o, " display=%lld", (long long)c->display_qty);
    if ((v->allowed & B(F_EXPIRE)) && c->expire_time)
        put(&o, " expire=%llu", (unsigned long long)c->expire_time);
    if (v->allowed & B(F_EXEC)) {
        if (c->exec_inst & DTX_EXEC_POST_ONLY)
            put(&o, " postonly");
        if (c->exec_inst & DTX_EXEC_REDUCE_ONLY)
            put(&o, " reduceonly");
        if (c->exec_inst & ~DTX_EXEC_VALID_MASK)
            put(&o, " exec=%u", c->exec_inst & ~DTX_EXEC_VALID_MASK & 0xffu);
    }
    if ((v->allowed & B(F_STP)) && c->stp)
        put_enum(&o, "stp", dtx_cmdfile_stp_names, c->stp);
    if (v->allowed & B(F_STATUS))
        put_enum(&o, "status", dtx_cmdfile_status_names, c->status);
    return outbuf_result(&o);
}

/* ---- the event printer ------------------------------------------------------ */

/* A wire enum by its dtx name, or its number when the name is "?". */
static void put_name(outbuf *o, const char *key, const char *name, unsigned v)
{
    if (name[0] == '?' && name[1] == '\0')
        put(o, " %s=%u", key, v);
    else
        put(o, " %s=%s", key, name);
}

static void put_flags(outbuf *o, unsigned flags)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {DTX_EVF_ON_BOOK, "ON_BOOK"},
        {DTX_EVF_PRIORITY_KEPT, "PRIORITY_KEPT"},
        {DTX_EVF_REFILL, "REFILL"},
        {DTX_EVF_SELF_TRADE, "SELF_TRADE"},
        {DTX_EVF_ADDED, "ADDED"},
    };
    size_t i;
    const char *sep = " flags=";
    unsigned rest = flags;
    if (!flags)
        return;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & names[i].bit) {
            put(o, "%s%s", sep, names[i].name);
            sep = "|";
            rest &= ~names[i].bit;
        }
    if (rest)
        put(o, "%s0x%02x", sep, rest);
}

static const char *ord_status_name(unsigned s)
{
    return s == DTX_STATUS_PARTIALLY_FILLED ? "PartiallyFilled" : s == DTX_STATUS_FILLED ? "Filled" : "?";
}

static const char *trading_status_name(unsigned s)
{
    switch (s) {
    case DTX_TRADING_OPEN: return "Open";
    case DTX_TRADING_HALTED: return "Halted";
    case DTX_TRADING_CLOSED: return "Closed";
    }
    return "?";
}

int dtx_event_format(const dtx_event *e, char *buf, size_t cap)
{
    outbuf o;
    outbuf_init(&o, buf, cap);

    if (e->type > DTX_EV_NONE && e->type < DTX_EV_TYPE_COUNT)
        put(&o, "%s", dtx_event_type_name(e->type));
    else
        put(&o, "EVENT_%u", e->type);

    put(&o, " seq=%llu ts=%llu exec_id=%llu acct=%u sess=%u sec=%u oid=%llu clid=%llu",
        (unsigned long long)e->seq, (unsigned long long)e->ts, (unsigned long long)e->exec_id,
        e->account, e->session, e->security_id, (unsigned long long)e->order_id,
        (unsigned long long)e->clordid);

    switch (e->type) {
    case DTX_EV_NEW:
        put_name(&o, "side", dtx_side_name(e->side), e->side);
        put_name(&o, "type", dtx_ord_type_name(e->ord_type), e->ord_type);
        put_name(&o, "tif", dtx_tif_name(e->tif), e->tif);
        put_price(&o, "px", e->price);
        if (e->stop_px != DTX_PRICE_NULL)
            put_price(&o, "stop", e->stop_px);
        put(&o, " qty=%lld leaves=%lld", (long long)e->order_qty, (long long)e->leaves_qty);
        if (e->exec_inst & DTX_EXEC_POST_ONLY)
            put(&o, " postonly");
        if (e->exec_inst & DTX_EXEC_REDUCE_ONLY)
            put(&o, " reduceonly");
        if (e->exec_inst & ~DTX_EXEC_VALID_MASK)
            put(&o, " exec_inst=0x%02x", e->exec_inst);
        put_name(&o, "stp", dtx_stp_name(e->stp), e->stp);
        if (e->flags & DTX_EVF_ADDED) /* rests straight away, showing last_qty */
            put(&o, " shown=%lld", (long long)e->last_qty);
        put_flags(&o, e->flags);
        break;
    case DTX_EV_FILL:
        put_name(&o, "side", dtx_side_name(e->side), e->side);
        put_price(&o, "px", e->price);
        put(&o, " last=%lld leaves=%lld cum=%lld qty=%lld trade=%llu", (long long)e->last_qty,
            (long long)e->leaves_qty, (long long)e->cum_qty, (long long)e->order_qty,
            (unsigned long long)e->trade_id);
        put_name(&o, "status", ord_status_name(e->ord_status), e->ord_status);
        put(&o, " aggressor=%u contra_acct=%u contra_sess=%u contra_oid=%llu", e->aggressor,
            e->contra_account, e->contra_session, (unsigned long long)e->contra_order_id);
        break;
    case DTX_EV_CANCELED: /* a REPLACED line with the reason first */
        put_name(&o, "reason", dtx_cancel_reason_name(e->cancel_reason), e->cancel_reason);
        /* fall through */
    case DTX_EV_REPLACED:
        put_name(&o, "side", dtx_side_name(e->side), e->side);
        put(&o, " orig=%llu", (unsigned long long)e->orig_clordid);
        put_price(&o, "px", e->price);
        put(&o, " qty=%lld leaves=%lld cum=%lld", (long long)e->order_qty,
            (long long)e->leaves_qty, (long long)e->cum_qty);
        if (e->type == DTX_EV_REPLACED && (e->flags & DTX_EVF_ADDED))
            put(&o, " shown=%lld", (long long)e->last_qty);
        put_flags(&o, e->flags);
        break;
    case DTX_EV_REJECT:
        put_name(&o, "reason", dtx_reject_reason_name(e->reject_reason), e->reject_reason);
        put_name(&o, "side", dtx_side_name(e->side), e->side);
        put_name(&o, "type", dtx_ord_type_name(e->ord_type), e->ord_type);
        put_price(&o, "px", e->price);
        put(&o, " qty=%lld", (long long)e->order_qty);
        break;
    case DTX_EV_CANCEL_REJECT:
        put_name(&o, "reason", dtx_reject_reason_name(e->reject_reason), e->reject_reason);
        put(&o, " orig=%llu", (unsigned long long)e->orig_clordid);
        if (e->response_to == DTX_CXL_REJ_CANCEL)
            put(&o, " response_to=cancel");
        else if (e->response_to == DTX_CXL_REJ_REPLACE)
            put(&o, " response_to=replace");
        else
            put(&o, " response_to=%u", e->response_to);
        break;
    case DTX_EV_MASS_CANCEL_REPORT:
        if (e->side)
            put_name(&o, "side", dtx_side_name(e->side), e->side);
        put(&o, " affected=%llu", (unsigned long long)e->total_affected);
        break;
    case DTX_EV_BUSINESS_REJECT:
        put_name(&o, "reason", dtx_reject_reason_name(e->reject_reason), e->reject_reason);
        put_name(&o, "ref_cmd", dtx_cmd_type_name(e->ref_cmd_type), e->ref_cmd_type);
        break;
    case DTX_EV_ADDED:
        put_name(&o, "side", dtx_side_name(e->side), e->side);
        put_price(&o, "px", e->price);
        put(&o, " shown=%lld leaves=%lld", (long long)e->last_qty, (long long)e->leaves_qty);
        put_flags(&o, e->flags);
        break;
    case DTX_EV_TRIGGERED:
        put_name(&o, "side", dtx_side_name(e->side), e->side);
        put_name(&o, "type", dtx_ord_type_name(e->ord_type), e->ord_type);
        put_price(&o, "stop", e->stop_px);
        put_price(&o, "px", e->price);
        break;
    case DTX_EV_STATUS:
        put_name(&o, "status", trading_status_name(e->status), e->status);
        break;
    default:
        /* unknown type: every field, so nothing is hidden */
        put(&o, " side=%u ord_type=%u tif=%u cancel_reason=%u ord_status=%u aggressor=%u"
                " flags=0x%02x reject_reason=%u response_to=%u exec_inst=%u stp=%u status=%u"
                " ref_cmd_type=%u contra_sess=%u contra_acct=%u orig=%llu px=%lld qty=%lld"
                " last=%lld leaves=%lld cum=%lld tail=%llu",
            e->side, e->ord_type, e->tif, e->cancel_reason, e->ord_status, e->aggressor,
            e->flags, e->reject_reason, e->response_to, e->exec_inst, e->stp, e->status,
            e->ref_cmd_type, e->contra_session, e->contra_account,
            (unsigned long long)e->orig_clordid, (long long)e->price, (long long)e->order_qty,
            (long long)e->last_qty, (long long)e->leaves_qty, (long long)e->cum_qty,
            (unsigned long long)e->trade_id);
        break;
    }
    return outbuf_result(&o);
}
