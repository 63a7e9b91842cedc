/*
 * fix44_session.c - FIX 4.4 tag-value server sessions: the gateway's second
 * front door (dtx/fix44.h, PROTOCOL.md "FIX 4.4 tag-value gateway").
 *
 * Bytes in from dtx_fix44_on_bytes() are framed and split by fix44_codec.c;
 * session messages (Logon A, Heartbeat 0, TestRequest 1, ResendRequest 2,
 * SequenceReset 4, Logout 5) drive the state machine here; NewOrderSingle D,
 * OrderCancelRequest F, OrderCancelReplaceRequest G and OrderMassCancelRequest q
 * become the same dtx_command records the FIXP layer submits. Events from the
 * core come back as ExecutionReport 8, OrderCancelReject 9,
 * OrderMassCancelReport r or BusinessMessageReject j.
 *
 * The layer is three files over one private header (net/fix44_internal.h):
 * this one (creation, connection life, Logon, the session messages, input,
 * timers), fix44_output.c (the outbound store, encoding, pump and resend)
 * and fix44_app.c (the application mapping: ClOrdIDs, orders, commands in,
 * reports out).
 *
 * Invariants:
 *  - a client message is applied only when its MsgSeqNum is the expected
 *    one: a higher one opens a gap (ResendRequest, the message is not
 *    applied; the client resends it), a lower one is ignored when PossDupFlag
 *    is set and ends the session otherwise, as FIX specifies;
 *  - a rejected Logon is answered by one Logout and changes no state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/fix44.h"
#include "dtx/fixp_credentials.h"
#include "dtx/types.h"
#include "net/cod.h"
#include "net/fix44_codec.h"
#include "net/fix44_internal.h"
#include "net/throttle.h"

/* ---- creation -------------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t v)
{
    uint32_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

dtx_fix44 *dtx_fix44_create(const dtx_fix44_config *config, const dtx_session_callbacks *cb)
{
    dtx_fix44_config c = *config;
    if (!c.max_connections) c.max_connections = 1024;
    if (!c.max_sessions) c.max_sessions = 64;
    if (!c.store_depth) c.store_depth = 4096;
    if (!c.max_clordids) c.max_clordids = 65536;
    if (!c.max_orders) c.max_orders = 65536;
    if (!c.send_buffer_bytes) c.send_buffer_bytes = 65536;
    if (!c.clock_skew_ns) c.clock_skew_ns = 5 * NS_PER_S;
    if (!c.logon_timeout_ms) c.logon_timeout_ms = 5000;
    if (!c.logout_timeout_ms) c.logout_timeout_ms = 2000;
    if (!c.throttle_rate) c.throttle_rate = 1000;
    if (!c.throttle_burst) c.throttle_burst = 100;
    if (!cb || !cb->write || !cb->submit || !cb->close) {
        dtx_error_set(DTX_EINVAL, "fix44 callbacks: write, submit and close are required");
        return NULL;
    }
    if (!c.keys || !c.instruments || !c.n_instruments) {
        dtx_error_set(DTX_EINVAL, "fix44: a key registry and instruments are required");
        return NULL;
    }
    if ((uint64_t)c.session_base + c.max_sessions > 65536) {
        dtx_error_set(DTX_EINVAL, "fix44: session_base %u + max_sessions %u above 65536",
                      c.session_base, c.max_sessions);
        return NULL;
    }
    if ((c.store_depth & (c.store_depth - 1)) || (c.max_orders & (c.max_orders - 1))) {
        dtx_error_set(DTX_EINVAL, "fix44: store_depth %u and max_orders %u must be powers of 2",
                      c.store_depth, c.max_orders);
        return NULL;
    }
    if (c.send_buffer_bytes < 4 * WIRE_MAX) {
        dtx_error_set(DTX_EINVAL, "fix44: send_buffer_bytes %u below %u", c.send_buffer_bytes,
                      4 * WIRE_MAX);
        return NULL;
    }
    if (c.max_clordids > (1u << 30) || c.max_connections > (1u << 24)) {
        dtx_error_set(DTX_EINVAL, "fix44: max_clordids or max_connections too large");
        return NULL;
    }
    dtx_fix44 *f = calloc(1, sizeof *f);
    if (!f) {
        dtx_error_set(DTX_ENOMEM, "fix44: out of memory");
        return NULL;
    }
    f->cfg = c;
    f->cfg.instruments = NULL;
    f->cb = *cb;
    f->store_mask = c.store_depth - 1;
    f->orders_mask = c.max_orders - 1;
    uint32_t hcap = pow2_at_least(2 * c.max_clordids);
    f->hash_mask = hcap - 1;
    f->instr = calloc(c.n_instruments, sizeof *f->instr);
    f->sess = calloc(c.max_sessions, sizeof *f->sess);
    f->conns = calloc(c.max_connections, sizeof *f->conns);
    f->in_mem = calloc(c.max_connections, IN_CAP);
    f->out_mem = calloc(c.max_connections, c.send_buffer_bytes);
    f->store_mem = calloc((size_t)c.max_sessions * c.store_depth, sizeof(fix_stored));
    f->clord_mem = calloc((size_t)c.max_sessions * c.max_clordids, sizeof(fclord));
    f->hash_mem = calloc((size_t)c.max_sessions * hcap, sizeof(uint32_t));
    f->orders = calloc(c.max_orders, sizeof(ford));
    if (!f->instr || !f->sess || !f->conns || !f->in_mem || !f->out_mem || !f->store_mem ||
        !f->clord_mem || !f->hash_mem || !f->orders ||
        dtx_cod_init(&f->cod, c.max_sessions, c.session_base) != DTX_OK) {
        dtx_fix44_destroy(f);
        dtx_error_set(DTX_ENOMEM, "fix44: tables for %u connections and %u sessions",
                      c.max_connections, c.max_sessions);
        return NULL;
    }
    for (uint32_t i = 0; i < c.n_instruments; i++) {
        f->instr[i].id = config->instruments[i].security_id;
        memcpy(f->instr[i].sym, config->instruments[i].symbol, 16);
        f->instr[i].sym[16] = 0;
    }
    for (uint32_t i = 0; i < c.max_sessions; i++) {
        fsess *se = &f->sess[i];
        se->conn = -1;
        se->store = f->store_mem + (size_t)i * c.store_depth;
        se->clord = f->clord_mem + (size_t)i * c.max_clordids;
        se->clord_hash = f->hash_mem + (size_t)i * hcap;
    }
    for (uint32_t i = 0; i < c.max_connections; i++) {
        f->conns[i].sess = -1;
        f->conns[i].in = f->in_mem + (size_t)i * IN_CAP;
        f->conns[i].out.buf = f->out_mem + (size_t)i * c.send_buffer_bytes;
    }
    return f;
}

void dtx_fix44_destroy(dtx_fix44 *f)
{
    if (!f)
        return;
    free(f->instr);
    free(f->sess);
    free(f->conns);
    free(f->in_mem);
    free(f->out_mem);
    free(f->store_mem);
    free(f->clord_mem);
    free(f->hash_mem);
    free(f->orders);
    dtx_cod_fini(&f->cod);
    free(f);
}

/* ---- connection life ------------------------------------------------------------------ */

void dtx_fix44_conn_end(dtx_fix44 *f, uint32_t ci, uint64_t now, int call_close)
{
    (void)now;
    fconn *c = &f->conns[ci];
    if (c->state == DTX_FIX44_FREE)
        return;
    if (call_close)
        dtx_fix44_flush(f, ci);
    if (c->sess >= 0 && f->sess[c->sess].conn == (int32_t)ci) {
        fsess *se = &f->sess[c->sess];
        se->conn = -1;
        /* else owed: retried by tick, and before the next order (net/cod.h) */
        if (se->flags & DTX_KEY_CANCEL_ON_DISCONNECT &&
            dtx_cod_disconnect(&f->cod, &f->cb, (uint32_t)c->sess, se->account) > 0)
            f->st.app_submitted++;
    }
    uint8_t *in = c->in, *out = c->out.buf;
    memset(c, 0, sizeof *c);
    c->in = in;
    c->out.buf = out;
    c->sess = -1;
    f->st.connections_open--;
    if (call_close)
        f->cb.close(f->cb.ctx, ci);
}

/* Sends Logout (stored when a session is attached) and ends the connection. */
static int logout_close(dtx_fix44 *f, uint32_t ci, const char *text, uint64_t now)
{
    fconn *c = &f->conns[ci];
    if (c->sess >= 0 && c->state == DTX_FIX44_ACTIVE)
        dtx_fix44_store_admin(f, (uint32_t)c->sess, K_LOGOUT, text, now);
    if (f->conns[ci].state != DTX_FIX44_FREE)
        dtx_fix44_conn_end(f, ci, now, 1);
    return R_CLOSED;
}

/* Logon refused: one Logout with MsgSeqNum 1, nothing stored, then close. */
static int logon_reject(dtx_fix44 *f, uint32_t ci, const fix_msg *m, const char *why, uint64_t now)
{
    fconn *c = &f->conns[ci];
    fix_writer w = {.p = f->body, .cap = sizeof f->body};
    size_t sn = 0;
    const char *sender = dtx_fix44_get(m, 49, &sn);
    dtx_fix44_put_str(&w, 35, "5");
    dtx_fix44_put_str(&w, 49, COMP_ID);
    if (sender && sn <= DTX_FIX44_COMPID_MAX)
        dtx_fix44_put(&w, 56, sender, sn);
    else
        dtx_fix44_put_str(&w, 56, "?");
    dtx_fix44_put_u64(&w, 34, 1);
    dtx_fix44_put_time(&w, 52, now);
    dtx_fix44_put_str(&w, 58, why);
    size_t n = dtx_fix44_wrap(f->wire, sizeof f->wire, f->body, w.len);
    if (n)
        dtx_fix44_out_put(f, c, f->wire, n, now);
    f->st.logon_rejects++;
    dtx_fix44_conn_end(f, ci, now, 1);
    return R_CLOSED;
}

dtx_status dtx_fix44_open(dtx_fix44 *f, uint32_t ci, uint64_t now)
{
    if (ci >= f->cfg.max_connections)
        return dtx_error_set(DTX_EINVAL, "fix44: connection %u out of range", ci);
    fconn *c = &f->conns[ci];
    if (c->state != DTX_FIX44_FREE)
        return dtx_error_set(DTX_EINVAL, "fix44: connection %u in use", ci);
    c->state = DTX_FIX44_AWAIT_LOGON;
    c->sess = -1;
    c->last_rx = c->last_tx = now;
    c->deadline = now + (uint64_t)f->cfg.logon_timeout_ms * NS_PER_MS;
    f->st.connections_open++;
    return DTX_OK;
}

void dtx_fix44_on_closed(dtx_fix44 *f, uint32_t ci, uint64_t now)
{
    if (ci < f->cfg.max_connections)
        dtx_fix44_conn_end(f, ci, now, 0);
}

/* ---- Logon -------------------------------------------------------------------------- */

static int32_t sess_by_key(const dtx_fix44 *f, const uint8_t pub[33])
{
    for (uint32_t i = 0; i < f->cfg.max_sessions; i++)
        if (f->sess[i].used && memcmp(f->sess[i].pub, pub, 33) == 0)
            return (int32_t)i;
    return -1;
}

static int32_t sess_by_sender(const dtx_fix44 *f, const char *s, size_t n)
{
    for (uint32_t i = 0; i < f->cfg.max_sessions; i++)
        if (f->sess[i].used && strlen(f->sess[i].sender) == n && memcmp(f->sess[i].sender, s, n) == 0)
            return (int32_t)i;
    return -1;
}

static int on_logon(dtx_fix44 *f, uint32_t ci, const fix_msg *m, uint64_t now)
{
    fconn *c = &f->conns[ci];
    size_t sn = 0, tn = 0, un = 0, pn = 0, stn = 0;
    const char *sender = dtx_fix44_get(m, 49, &sn);
    const char *target = dtx_fix44_get(m, 56, &tn);
    const char *user = dtx_fix44_get(m, 553, &un);
    const char *pass = dtx_fix44_get(m, 554, &pn);
    const char *stime = dtx_fix44_get(m, 52, &stn);
    uint64_t seq = 0, hb = 0, enc = 0, ts = 0;
    size_t rn = 0;
    const char *reset = dtx_fix44_get(m, 141, &rn);
    int do_reset = reset && rn == 1 && reset[0] == 'Y';
    uint8_t pub[33], sig[64];

    if (!target || tn != 3 || memcmp(target, COMP_ID, 3) != 0)
        return logon_reject(f, ci, m, "TargetCompID must be DTX", now);
    if (!sender || sn > DTX_FIX44_COMPID_MAX)
        return logon_reject(f, ci, m, "SenderCompID missing or longer than 32", now);
    if (dtx_fix44_get_u64(m, 34, &seq) != 1 || seq == 0)
        return logon_reject(f, ci, m, "MsgSeqNum missing or invalid", now);
    if (!user)
        return logon_reject(f, ci, m, "Username (553) missing", now);
    if (dtx_fix44_unhex(user, un, pub, 33) != 0 || (pub[0] != 2 && pub[0] != 3))
        return logon_reject(f, ci, m, "Username (553) is not a compressed public key in 66 lowercase hex", now);
    if (!pass)
        return logon_reject(f, ci, m, "Password (554) missing", now);
    if (dtx_fix44_unhex(pass, pn, sig, 64) != 0)
        return logon_reject(f, ci, m, "Password (554) is not a signature in 128 lowercase hex", now);
    if (dtx_fix44_get_u64(m, 108, &hb) != 1 || hb < 1 || hb > 60)
        return logon_reject(f, ci, m, "HeartBtInt (108) must be 1..60", now);
    if (dtx_fix44_get_u64(m, 98, &enc) < 0 || enc != 0)
        return logon_reject(f, ci, m, "EncryptMethod (98) must be 0", now);
    if (!stime || dtx_fix44_parse_time(stime, stn, &ts) != 0)
        return logon_reject(f, ci, m, "SendingTime (52) is not a UTCTimestamp", now);
    uint64_t skew = now > ts ? now - ts : ts - now;
    if (skew > f->cfg.clock_skew_ns)
        return logon_reject(f, ci, m, "SendingTime outside the clock window", now);
    uint8_t digest[32];
    dtx_fixp_credentials_fix44_digest(sender, sn, stime, stn, digest);
    dtx_session_key_info key;
    const char *why = NULL;
    if (dtx_session_verify_key(f->cfg.keys, pub, sig, digest, &key, &why) != DTX_OK)
        return logon_reject(f, ci, m, why, now);
    if (key.blocked)
        return logon_reject(f, ci, m, "account disabled", now);
    int32_t si = sess_by_key(f, pub);
    int32_t other = sess_by_sender(f, sender, sn);
    if (si >= 0 && other != si)
        return logon_reject(f, ci, m, "SenderCompID is fixed per key", now);
    if (si < 0 && other >= 0)
        return logon_reject(f, ci, m, "SenderCompID belongs to another key", now);
    if (si >= 0 && f->sess[si].conn >= 0)
        return logon_reject(f, ci, m, "session already logged on", now);
    if (si >= 0 && ts <= f->sess[si].last_logon_ns)
        return logon_reject(f, ci, m, "SendingTime not after the last Logon", now);
    if (si >= 0 && !do_reset && seq < f->sess[si].next_in) {
        char t[96];
        snprintf(t, sizeof t, "MsgSeqNum too low, expecting %llu but received %llu",
                 (unsigned long long)f->sess[si].next_in, (unsigned long long)seq);
        return logon_reject(f, ci, m, t, now);
    }
    if (si < 0) {
        for (uint32_t i = 0; i < f->cfg.max_sessions && si < 0; i++)
            if (!f->sess[i].used)
                si = (int32_t)i;
        if (si < 0)
            return logon_reject(f, ci, m, "session table full", now);
        fsess *ns = &f->sess[si];
        ns->used = 1;
        memcpy(ns->pub, pub, 33);
        memcpy(ns->sender, sender, sn);
        ns->sender[sn] = 0;
        ns->next_in = ns->next_out = 1;
        dtx_bucket_reset(&ns->throttle, f->cfg.throttle_burst, now);
        f->st.sessions_held++;
    }
    fsess *se = &f->sess[si];
    se->account = key.account;
    se->role = (uint8_t)key.role;
    se->flags = (uint8_t)key.flags;
    se->last_logon_ns = ts;
    if (do_reset) {
        se->next_in = 1;
        se->next_out = 1;
        seq = 1;
    }
    se->conn = (int32_t)ci;
    c->sess = si;
    c->state = DTX_FIX44_ACTIVE;
    c->hb_ms = (uint32_t)hb * 1000u;
    c->wr_next = se->next_out;
    c->rs_active = 0;
    c->gap_until = 0;
    f->st.logons++;
    fix_stored r;
    memset(&r, 0, sizeof r);
    r.kind = K_LOGON;
    r.aux = (uint8_t)do_reset;
    r.ev.order_qty = (int64_t)hb;
    dtx_fix44_store_out(f, (uint32_t)si, &r, now);
    if (seq == se->next_in) {
        se->next_in++;
    } else {
        /* messages before the Logon are missing: ask for them */
        memset(&r, 0, sizeof r);
        r.kind = K_RESENDREQ;
        r.ref_seq = se->next_in;
        c->gap_until = seq;
        f->st.resend_requests++;
        dtx_fix44_store_out(f, (uint32_t)si, &r, now);
    }
    return R_OK;
}

/* ---- session messages ----------------------------------------------------------------- */

static void on_resend_request(dtx_fix44 *f, uint32_t ci, const fix_msg *m, uint64_t now)
{
    fconn *c = &f->conns[ci];
    uint64_t b = 0, e = 0;
    if (dtx_fix44_get_u64(m, 7, &b) != 1 || dtx_fix44_get_u64(m, 16, &e) != 1 || b == 0) {
        dtx_fix44_local_bmr(f, (uint32_t)c->sess, 0, "2", 5, "BeginSeqNo (7) and EndSeqNo (16) are required", now);
        return;
    }
    uint64_t last = c->wr_next - 1; /* later ones are still to be sent live */
    if (e == 0 || e > last)
        e = last;
    if (b > e)
        return;
    c->rs_active = 1;
    c->rs_next = b;
    c->rs_end = e + 1;
    if (dtx_fix44_pump(f, ci, now) == 0)
        dtx_fix44_flush(f, ci);
}

/* One well-formed message on an ACTIVE connection. */
static int on_active(dtx_fix44 *f, uint32_t ci, const fix_msg *m, uint64_t now)
{
    fconn *c = &f->conns[ci];
    uint32_t slot = (uint32_t)c->sess;
    fsess *se = &f->sess[slot];
    uint64_t seq = 0, v = 0;
    size_t n;
    const char *pd = dtx_fix44_get(m, 43, &n);
    int possdup = pd && n == 1 && pd[0] == 'Y';
    const char *gf = dtx_fix44_get(m, 123, &n);
    int gapfill = gf && n == 1 && gf[0] == 'Y';
    int type1 = m->type[1] == 0;

    if (dtx_fix44_get_u64(m, 34, &seq) != 1 || seq == 0)
        return logout_close(f, ci, "MsgSeqNum (34) missing or invalid", now);
    /* SequenceReset-Reset ignores MsgSeqNum */
    if (type1 && m->type[0] == '4' && !gapfill) {
        if (dtx_fix44_get_u64(m, 36, &v) == 1 && v > se->next_in)
            se->next_in = v;
        return R_OK;
    }
    if (seq < se->next_in) {
        if (possdup)
            return R_OK;
        char t[96];
        snprintf(t, sizeof t, "MsgSeqNum too low, expecting %llu but received %llu",
                 (unsigned long long)se->next_in, (unsigned long long)seq);
        return logout_close(f, ci, t, now);
    }
    if (seq > se->next_in) {
        if (type1 && m->type[0] == '5') {
            dtx_fix44_store_admin(f, slot, K_LOGOUT, NULL, now);
            dtx_fix44_conn_end(f, ci, now, 1);
            return R_CLOSED;
        }
        if (type1 && m->type[0] == '2')
            on_resend_request(f, ci, m, now);
        if (c->gap_until < se->next_in) {
            fix_stored r;
            memset(&r, 0, sizeof r);
            r.kind = K_RESENDREQ;
            r.ref_seq = se->next_in;
            f->st.resend_requests++;
            dtx_fix44_store_out(f, slot, &r, now);
        }
        if (seq > c->gap_until)
            c->gap_until = seq;
        return R_OK;
    }
    /* seq == next_in */
    if (!type1 || (m->type[0] != 'D' && m->type[0] != 'F' && m->type[0] != 'G' &&
                   m->type[0] != 'q'))
        se->next_in = seq + 1;
    switch (type1 ? m->type[0] : 0) {
    case '0':
        c->test_req_sent = 0;
        return R_OK;
    case '1': {
        const char *id = dtx_fix44_get(m, 112, &n);
        char idb[64];
        snprintf(idb, sizeof idb, "%.*s", id ? (int)(n < 63 ? n : 63) : 0, id ? id : "");
        dtx_fix44_store_admin(f, slot, K_HEARTBEAT, idb, now);
        return R_OK;
    }
    case '2':
        on_resend_request(f, ci, m, now);
        return R_OK;
    case '4':
        if (dtx_fix44_get_u64(m, 36, &v) == 1 && v > se->next_in)
            se->next_in = v;
        return R_OK;
    case '5':
        dtx_fix44_store_admin(f, slot, K_LOGOUT, NULL, now);
        dtx_fix44_conn_end(f, ci, now, 1);
        return R_CLOSED;
    case 'A':
        return logout_close(f, ci, "Logon on a logged-on session", now);
    case '3':
    case 'j':
        return R_OK; /* the client's rejects of our messages: nothing to do */
    case 'D':
    case 'F':
    case 'G':
    case 'q':
        return dtx_fix44_on_app(f, ci, m, seq, now);
    default:
        dtx_fix44_local_bmr(f, slot, seq, m->type, 3, "unsupported MsgType", now);
        return R_OK;
    }
}

static int on_message(dtx_fix44 *f, uint32_t ci, const fix_msg *m, uint64_t now)
{
    fconn *c = &f->conns[ci];
    f->st.messages_in++;
    c->last_rx = now;
    c->test_req_sent = 0;
    switch (c->state) {
    case DTX_FIX44_AWAIT_LOGON:
        if (strcmp(m->type, "A") != 0)
            return logon_reject(f, ci, m, "first message must be Logon", now);
        return on_logon(f, ci, m, now);
    case DTX_FIX44_LOGOUT:
        if (strcmp(m->type, "5") == 0) {
            dtx_fix44_conn_end(f, ci, now, 1);
            return R_CLOSED;
        }
        return R_OK;
    default:
        break;
    }
    int r = on_active(f, ci, m, now);
    if (f->conns[ci].state != DTX_FIX44_FREE && f->conns[ci].sess >= 0 &&
        c->gap_until && f->sess[c->sess].next_in > c->gap_until)
        c->gap_until = 0; /* the gap is filled */
    return r;
}

/* ---- input ----------------------------------------------------------------------------- */

/* Processes complete messages in conn's buffer; *used = bytes done. */
static int process_buffer(dtx_fix44 *f, uint32_t ci, uint64_t now, size_t *used)
{
    fconn *c = &f->conns[ci];
    size_t k = 0;
    *used = 0;
    while (k < c->in_len) {
        size_t len = 0;
        int fr = dtx_fix44_frame(c->in + k, c->in_len - k, &len);
        if (fr == FIX_FRAME_NEED) {
            if (c->in_len - k >= IN_CAP) { /* cannot happen: BodyLength is bounded */
                k = c->in_len;
                f->st.garbled++;
            }
            break;
        }
        if (fr == FIX_FRAME_GARBLED) {
            f->st.garbled++;
            k += len;
            continue;
        }
        if (fr == FIX_FRAME_BAD_BEGIN) {
            if (c->state == DTX_FIX44_ACTIVE)
                logout_close(f, ci, "BeginString must be FIX.4.4", now);
            else
                dtx_fix44_conn_end(f, ci, now, 1);
            return R_CLOSED;
        }
        fix_msg m;
        if (dtx_fix44_parse(c->in + k, len, &m) != 0) {
            if (c->state == DTX_FIX44_ACTIVE)
                logout_close(f, ci, "malformed message", now);
            else
                dtx_fix44_conn_end(f, ci, now, 1);
            return R_CLOSED;
        }
        int r = on_message(f, ci, &m, now);
        if (r == R_RETRY) {
            *used = k;
            return R_RETRY;
        }
        if (r == R_CLOSED || f->conns[ci].state == DTX_FIX44_FREE)
            return R_CLOSED;
        k += len;
    }
    *used = k;
    return R_OK;
}

size_t dtx_fix44_on_bytes(dtx_fix44 *f, uint32_t ci, const uint8_t *data, size_t len, uint64_t now)
{
    if (ci >= f->cfg.max_connections || f->conns[ci].state == DTX_FIX44_FREE)
        return len;
    size_t done = 0;
    while (done < len) {
        fconn *c = &f->conns[ci];
        size_t p = c->in_len, room = IN_CAP - p, take = len - done < room ? len - done : room;
        memcpy(c->in + p, data + done, take);
        c->in_len = (uint32_t)(p + take);
        size_t k = 0;
        int r = process_buffer(f, ci, now, &k);
        if (r == R_CLOSED)
            return len;
        if (r == R_RETRY) {
            if (k >= p) {
                done += k - p;
                c->in_len = 0;
            } else {
                memmove(c->in, c->in + k, p - k);
                c->in_len = (uint32_t)(p - k);
            }
            dtx_fix44_flush(f, ci);
            return done;
        }
        memmove(c->in, c->in + k, c->in_len - k);
        c->in_len -= (uint32_t)k;
        done += take;
    }
    if (f->conns[ci].state != DTX_FIX44_FREE)
        dtx_fix44_flush(f, ci);
    return done;
}

void dtx_fix44_on_writable(dtx_fix44 *f, uint32_t ci, uint64_t now)
{
    if (ci >= f->cfg.max_connections || f->conns[ci].state == DTX_FIX44_FREE)
        return;
    dtx_fix44_flush(f, ci);
    if (dtx_fix44_pump(f, ci, now) == 0)
        dtx_fix44_flush(f, ci);
}

/* ---- timers ------------------------------------------------------------------------------ */

void dtx_fix44_tick(dtx_fix44 *f, uint64_t now)
{
    f->st.app_submitted += dtx_cod_retry(&f->cod, &f->cb);
    for (uint32_t ci = 0; ci < f->cfg.max_connections; ci++) {
        fconn *c = &f->conns[ci];
        if (c->state == DTX_FIX44_FREE)
            continue;
        if (c->state != DTX_FIX44_ACTIVE) {
            if (now >= c->deadline)
                dtx_fix44_conn_end(f, ci, now, 1);
            continue;
        }
        uint64_t hb = (uint64_t)c->hb_ms * NS_PER_MS;
        uint32_t slot = (uint32_t)c->sess;
        fsess *se = &f->sess[slot];
        uint64_t quiet = now > c->last_rx ? now - c->last_rx : 0;
        if (quiet >= 3 * hb) {
            dtx_fix44_store_admin(f, slot, K_LOGOUT, "heartbeat timeout", now);
            if (f->conns[ci].state != DTX_FIX44_FREE)
                dtx_fix44_conn_end(f, ci, now, 1);
            continue;
        }
        if (quiet >= hb + hb / 2 && !c->test_req_sent) {
            char id[32];
            snprintf(id, sizeof id, "TEST-%llu", (unsigned long long)(now / NS_PER_MS));
            c->test_req_sent = 1;
            dtx_fix44_store_admin(f, slot, K_TESTREQ, id, now);
            continue;
        }
        if (now > c->last_tx && now - c->last_tx >= hb && c->wr_next == se->next_out &&
            !c->rs_active)
            dtx_fix44_store_admin(f, slot, K_HEARTBEAT, NULL, now);
    }
}

/* ---- inspection ----------------------------------------------------------------------------- */

void dtx_fix44_stats_get(const dtx_fix44 *f, dtx_fix44_stats *out) { *out = f->st; }

dtx_fix44_conn_state dtx_fix44_conn_state_get(const dtx_fix44 *f, uint32_t ci)
{
    if (ci >= f->cfg.max_connections)
        return DTX_FIX44_FREE;
    return (dtx_fix44_conn_state)f->conns[ci].state;
}

int32_t dtx_fix44_session_of_conn(const dtx_fix44 *f, uint32_t ci)
{
    if (ci >= f->cfg.max_connections || f->conns[ci].state != DTX_FIX44_ACTIVE)
        return -1;
    return (int32_t)(f->cfg.session_base + (uint32_t)f->conns[ci].sess);
}

dtx_status dtx_fix44_seq(const dtx_fix44 *f, uint32_t session, uint64_t *next_out,
                         uint64_t *next_in)
{
    if (!dtx_fix44_owns_session(f, session) || !f->sess[session - f->cfg.session_base].used)
        return DTX_EINVAL;
    const fsess *se = &f->sess[session - f->cfg.session_base];
    if (next_out)
        *next_out = se->next_out;
    if (next_in)
        *next_in = se->next_in;
    return DTX_OK;
}
