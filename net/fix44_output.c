/*
 * fix44_output.c - FIX 4.4 sessions, the outbound side: the per-session
 * store of out-records, the encoding of every message the server sends, and
 * dtx_fix44_pump(), which writes them (net/fix44_internal.h; the state
 * machine is in fix44_session.c).
 *
 * Every message the server sends, session messages included, is first a
 * small record in the session's store under its MsgSeqNum, then encoded and
 * written by dtx_fix44_pump(): live messages in order, and a ResendRequest's
 * range re-encoded with PossDupFlag (application messages) or covered by
 * SequenceReset-GapFill (session messages, and what the store no longer
 * holds). So a reader that is slow, or absent, misses nothing it cannot ask
 * for again, and MsgSeqNum on the wire never goes backwards.
 */
#include <stdio.h>
#include <string.h>

#include "dtx/fix44.h"
#include "dtx/types.h"
#include "net/fix44_codec.h"
#include "net/fix44_internal.h"

/* ---- output ------------------------------------------------------------------------- */

void dtx_fix44_flush(dtx_fix44 *f, uint32_t ci)
{
    dtx_outbuf_flush(&f->conns[ci].out, &f->cb, ci);
}

/* Appends n bytes to conn's send buffer; -1 when they do not fit. */
int dtx_fix44_out_put(dtx_fix44 *f, fconn *c, const char *p, size_t n, uint64_t now)
{
    if (dtx_outbuf_put(&c->out, f->cfg.send_buffer_bytes, p, n) < 0)
        return -1;
    c->last_tx = now;
    return 0;
}

/* A ClOrdID tag: the string resolved when the record was stored, else the
 * number (an id that is not a string of this layer). */
static void put_clord(fix_writer *w, uint32_t tag, const char *name, uint64_t id)
{
    if (name[0])
        dtx_fix44_put_str(w, tag, name);
    else if (id)
        dtx_fix44_put_u64(w, tag, id);
}

static void put_reason(fix_writer *w, unsigned reason)
{
    char t[64];
    int n = snprintf(t, sizeof t, "reason=%u %s", reason, dtx_reject_reason_name(reason));
    dtx_fix44_put(w, 58, t, (size_t)n);
}

static void put_order_id(fix_writer *w, uint64_t id)
{
    if (id)
        dtx_fix44_put_u64(w, 37, id);
    else
        dtx_fix44_put_str(w, 37, "NONE");
}

static char ref_msg_type(unsigned cmd_type)
{
    switch (cmd_type) {
    case DTX_CMD_NEW_ORDER: return 'D';
    case DTX_CMD_CANCEL: return 'F';
    case DTX_CMD_REPLACE: return 'G';
    case DTX_CMD_MASS_CANCEL: return 'q';
    default: return '?';
    }
}

static void put_side(fix_writer *w, uint8_t side)
{
    if (side == DTX_SIDE_BUY || side == DTX_SIDE_SELL)
        dtx_fix44_put_char(w, 54, (char)('0' + side));
}

/* The body fields of an ExecutionReport for event record r. */
static void body_exec_report(fix_writer *w, uint32_t slot, const fix_stored *r,
                             uint64_t seq)
{
    const dtx_event *e = &r->ev;
    char exec_type, status;
    int64_t leaves = e->leaves_qty, cum = e->cum_qty;
    switch (e->type) {
    case DTX_EV_NEW: exec_type = '0'; status = '0'; cum = 0; break;
    case DTX_EV_FILL: exec_type = 'F'; status = e->ord_status == DTX_STATUS_FILLED ? '2' : '1'; break;
    case DTX_EV_CANCELED:
        exec_type = e->cancel_reason == DTX_CANCEL_EXPIRED ? 'C' : '4';
        status = exec_type;
        leaves = 0;
        break;
    case DTX_EV_REPLACED: exec_type = '5'; status = e->cum_qty > 0 ? '1' : '0'; break;
    default: exec_type = '8'; status = '8'; leaves = 0; cum = 0; break; /* REJECT */
    }
    put_order_id(w, e->order_id);
    put_clord(w, 11, r->cl, e->clordid);
    if ((e->type == DTX_EV_CANCELED || e->type == DTX_EV_REPLACED) && e->orig_clordid)
        put_clord(w, 41, r->ocl, e->orig_clordid);
    if (e->exec_id) {
        dtx_fix44_put_u64(w, 17, e->exec_id);
    } else {
        char x[32];
        int n = snprintf(x, sizeof x, "L%u-%llu", slot, (unsigned long long)seq);
        dtx_fix44_put(w, 17, x, (size_t)n);
    }
    dtx_fix44_put_char(w, 150, exec_type);
    dtx_fix44_put_char(w, 39, status);
    if (r->symbol[0])
        dtx_fix44_put_str(w, 55, r->symbol); /* empty: a cancel naming no instrument */
    put_side(w, e->side);
    if (e->order_qty)
        dtx_fix44_put_i64(w, 38, e->order_qty);
    if (e->type == DTX_EV_NEW || e->type == DTX_EV_REJECT) {
        if (e->ord_type >= DTX_ORD_MARKET && e->ord_type <= DTX_ORD_STOP_LIMIT)
            dtx_fix44_put_char(w, 40, (char)('0' + e->ord_type));
    }
    if (e->type == DTX_EV_NEW) {
        dtx_fix44_put_char(w, 59, (char)('0' + e->tif));
        if (e->stop_px != DTX_PRICE_NULL && e->stop_px)
            dtx_fix44_put_price(w, 99, e->stop_px);
    }
    if (e->type != DTX_EV_FILL && e->price != DTX_PRICE_NULL &&
        (e->type != DTX_EV_REJECT || e->price))
        dtx_fix44_put_price(w, 44, e->price);
    if (e->type == DTX_EV_FILL) {
        dtx_fix44_put_price(w, 31, e->price);
        dtx_fix44_put_i64(w, 32, e->last_qty);
    }
    dtx_fix44_put_i64(w, 151, leaves);
    dtx_fix44_put_i64(w, 14, cum);
    dtx_fix44_put_price(w, 6, r->avg_px);
    dtx_fix44_put_time(w, 60, e->ts);
    if (e->type == DTX_EV_REJECT) {
        dtx_fix44_put_u64(w, 103, 99);
        put_reason(w, e->reject_reason);
    } else if (e->type == DTX_EV_CANCELED) {
        char t[64];
        int n = snprintf(t, sizeof t, "cancel_reason=%u %s", e->cancel_reason,
                         dtx_cancel_reason_name(e->cancel_reason));
        dtx_fix44_put(w, 58, t, (size_t)n);
    }
}

/* Encodes stored record seq of session slot into f->wire; returns its
 * length (0: does not fit, never for well-formed records). possdup: a
 * resend (43=Y, 122=first SendingTime). */
static size_t encode(dtx_fix44 *f, uint32_t slot, fix_stored *r, uint64_t seq, int possdup,
                     uint64_t now)
{
    fsess *se = &f->sess[slot];
    fix_writer w = {.p = f->body, .cap = sizeof f->body};
    const char *type = "0";
    const dtx_event *e = &r->ev;
    switch (r->kind) {
    case K_EVENT:
        switch (e->type) {
        case DTX_EV_CANCEL_REJECT: type = "9"; break;
        case DTX_EV_MASS_CANCEL_REPORT: type = "r"; break;
        case DTX_EV_BUSINESS_REJECT: type = e->ref_cmd_type == DTX_CMD_MASS_CANCEL ? "r" : "j"; break;
        default: type = "8"; break;
        }
        break;
    case K_BMR: type = "j"; break;
    case K_MASS_REJ: type = "r"; break;
    case K_LOGON: type = "A"; break;
    case K_HEARTBEAT: type = "0"; break;
    case K_TESTREQ: type = "1"; break;
    case K_LOGOUT: type = "5"; break;
    case K_RESENDREQ: type = "2"; break;
    default: return 0;
    }
    if (!possdup)
        r->sent_ns = now;
    dtx_fix44_put_str(&w, 35, type);
    dtx_fix44_put_str(&w, 49, COMP_ID);
    dtx_fix44_put_str(&w, 56, se->sender);
    dtx_fix44_put_u64(&w, 34, seq);
    dtx_fix44_put_time(&w, 52, now);
    if (possdup) {
        dtx_fix44_put_char(&w, 43, 'Y');
        dtx_fix44_put_time(&w, 122, r->sent_ns);
    }
    switch (r->kind) {
    case K_EVENT:
        if (type[0] == '8') {
            body_exec_report(&w, slot, r, seq);
        } else if (type[0] == '9') {
            put_order_id(&w, e->order_id);
            put_clord(&w, 11, r->cl, e->clordid);
            if (r->ocl[0] || e->orig_clordid) /* as sent, even naming no order */
                put_clord(&w, 41, r->ocl, e->orig_clordid);
            else
                dtx_fix44_put_str(&w, 41, "NONE");
            dtx_fix44_put_char(&w, 39, r->ord_status ? r->ord_status : '8');
            dtx_fix44_put_char(&w, 434, e->response_to == DTX_CXL_REJ_REPLACE ? '2' : '1');
            dtx_fix44_put_u64(&w, 102, 99);
            dtx_fix44_put_time(&w, 60, e->ts);
            put_reason(&w, e->reject_reason);
        } else if (type[0] == 'r') {
            int ok = e->type == DTX_EV_MASS_CANCEL_REPORT;
            put_clord(&w, 11, r->cl, e->clordid);
            char x[32];
            int n = snprintf(x, sizeof x, "MC%llu", (unsigned long long)(e->exec_id ? e->exec_id : seq));
            dtx_fix44_put(&w, 37, x, (size_t)n);
            dtx_fix44_put_char(&w, 530, (char)('0' + r->aux));
            dtx_fix44_put_char(&w, 531, ok ? (char)('0' + r->aux) : '0');
            if (!ok)
                dtx_fix44_put_u64(&w, 532, 99);
            dtx_fix44_put_u64(&w, 533, ok ? e->total_affected : 0);
            if (r->symbol[0])
                dtx_fix44_put_str(&w, 55, r->symbol);
            put_side(&w, e->side);
            dtx_fix44_put_time(&w, 60, e->ts);
            if (!ok)
                put_reason(&w, e->reject_reason);
        } else { /* j from the core */
            dtx_fix44_put_char(&w, 372, ref_msg_type(e->ref_cmd_type));
            dtx_fix44_put_u64(&w, 380, e->reject_reason == DTX_REJ_NOT_AUTHORIZED ? 6 : 0);
            put_reason(&w, e->reject_reason);
        }
        break;
    case K_BMR:
        if (r->ref_seq)
            dtx_fix44_put_u64(&w, 45, r->ref_seq);
        dtx_fix44_put_str(&w, 372, r->ref_type);
        dtx_fix44_put_u64(&w, 380, r->aux);
        dtx_fix44_put_str(&w, 58, r->text);
        break;
    case K_MASS_REJ:
        put_clord(&w, 11, r->cl, e->clordid);
        dtx_fix44_put_str(&w, 37, "NONE");
        dtx_fix44_put_char(&w, 530, (char)('0' + (r->aux % 10)));
        dtx_fix44_put_char(&w, 531, '0');
        dtx_fix44_put_u64(&w, 532, e->reject_reason);
        dtx_fix44_put_u64(&w, 533, 0);
        dtx_fix44_put_str(&w, 58, r->text);
        break;
    case K_LOGON:
        dtx_fix44_put_char(&w, 98, '0');
        dtx_fix44_put_u64(&w, 108, (uint64_t)e->order_qty);
        if (r->aux)
            dtx_fix44_put_char(&w, 141, 'Y');
        break;
    case K_HEARTBEAT:
        if (r->text[0])
            dtx_fix44_put_str(&w, 112, r->text);
        break;
    case K_TESTREQ: dtx_fix44_put_str(&w, 112, r->text); break;
    case K_LOGOUT:
        if (r->text[0])
            dtx_fix44_put_str(&w, 58, r->text);
        break;
    case K_RESENDREQ:
        dtx_fix44_put_u64(&w, 7, r->ref_seq);
        dtx_fix44_put_u64(&w, 16, 0);
        break;
    }
    if (w.overflow)
        return 0;
    return dtx_fix44_wrap(f->wire, sizeof f->wire, f->body, w.len);
}

/* SequenceReset-GapFill at seq, NewSeqNo next, into f->wire. */
static size_t encode_gap_fill(dtx_fix44 *f, uint32_t slot, uint64_t seq, uint64_t next, uint64_t now)
{
    fix_writer w = {.p = f->body, .cap = sizeof f->body};
    dtx_fix44_put_str(&w, 35, "4");
    dtx_fix44_put_str(&w, 49, COMP_ID);
    dtx_fix44_put_str(&w, 56, f->sess[slot].sender);
    dtx_fix44_put_u64(&w, 34, seq);
    dtx_fix44_put_time(&w, 52, now);
    dtx_fix44_put_char(&w, 43, 'Y');
    dtx_fix44_put_time(&w, 122, now);
    dtx_fix44_put_char(&w, 123, 'Y');
    dtx_fix44_put_u64(&w, 36, next);
    return dtx_fix44_wrap(f->wire, sizeof f->wire, f->body, w.len);
}

static uint64_t store_oldest(const dtx_fix44 *f, const fsess *se)
{
    uint64_t depth = f->store_mask + 1;
    return se->next_out > depth ? se->next_out - depth : 1;
}

static fix_stored *stored(dtx_fix44 *f, fsess *se, uint64_t seq)
{
    return &se->store[seq & f->store_mask];
}

static int is_app(const fix_stored *r)
{
    return r->kind == K_EVENT || r->kind == K_BMR || r->kind == K_MASS_REJ;
}

/* Writes what conn owes: the rest of a resend range, then live messages.
 * Stops when the send buffer is short of room. Returns 0, -1 when the
 * connection was ended (live backlog older than the store). */
int dtx_fix44_pump(dtx_fix44 *f, uint32_t ci, uint64_t now)
{
    fconn *c = &f->conns[ci];
    if (c->state != DTX_FIX44_ACTIVE && c->state != DTX_FIX44_LOGOUT)
        return 0;
    uint32_t slot = (uint32_t)c->sess;
    fsess *se = &f->sess[slot];
    while (c->rs_active && c->rs_next < c->rs_end) {
        if (dtx_outbuf_room(&c->out, f->cfg.send_buffer_bytes) < WIRE_MAX)
            return 0;
        uint64_t s = c->rs_next;
        fix_stored *r = stored(f, se, s);
        size_t n;
        if (s >= store_oldest(f, se) && is_app(r)) {
            n = encode(f, slot, r, s, 1, now);
            c->rs_next++;
            f->st.resent++;
        } else {
            uint64_t e = s + 1;
            while (e < c->rs_end && !(e >= store_oldest(f, se) && is_app(stored(f, se, e))))
                e++;
            n = encode_gap_fill(f, slot, s, e, now);
            c->rs_next = e;
            f->st.gap_fills++;
        }
        if (n)
            dtx_fix44_out_put(f, c, f->wire, n, now);
    }
    c->rs_active = 0;
    while (c->wr_next < se->next_out) {
        if (c->wr_next < store_oldest(f, se)) {
            f->st.send_overflows++;
            dtx_fix44_conn_end(f, ci, now, 1);
            return -1;
        }
        if (dtx_outbuf_room(&c->out, f->cfg.send_buffer_bytes) < WIRE_MAX)
            return 0;
        size_t n = encode(f, slot, stored(f, se, c->wr_next), c->wr_next, 0, now);
        if (n)
            dtx_fix44_out_put(f, c, f->wire, n, now);
        c->wr_next++;
    }
    return 0;
}

/* Stores an outbound message under the session's next MsgSeqNum and writes
 * it when the session is logged on. */
void dtx_fix44_store_out(dtx_fix44 *f, uint32_t slot, const fix_stored *rec, uint64_t now)
{
    fsess *se = &f->sess[slot];
    fix_stored *r = stored(f, se, se->next_out);
    *r = *rec;
    r->sent_ns = now;
    /* ClOrdID strings now: their entries may be freed before a resend */
    if ((r->kind == K_EVENT || r->kind == K_MASS_REJ) && !r->cl[0])
        dtx_fix44_clord_copy(f, r->ev.clordid, r->cl);
    if (r->kind == K_EVENT && !r->ocl[0] &&
        (r->ev.type == DTX_EV_CANCELED || r->ev.type == DTX_EV_REPLACED ||
         r->ev.type == DTX_EV_CANCEL_REJECT))
        dtx_fix44_clord_copy(f, r->ev.orig_clordid, r->ocl);
    se->next_out++;
    if (is_app(rec))
        f->st.reports_out++;
    if (se->conn >= 0) {
        uint32_t ci = (uint32_t)se->conn;
        if (dtx_fix44_pump(f, ci, now) == 0)
            dtx_fix44_flush(f, ci);
    }
}

void dtx_fix44_store_admin(dtx_fix44 *f, uint32_t slot, uint8_t kind, const char *text,
                           uint64_t now)
{
    fix_stored r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    if (text)
        snprintf(r.text, sizeof r.text, "%s", text);
    dtx_fix44_store_out(f, slot, &r, now);
}
