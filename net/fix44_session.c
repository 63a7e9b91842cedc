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
 * Every message the server sends, session messages included, is first a
 * small record in the session's store under its MsgSeqNum, then encoded and
 * written by pump(): live messages in order, and a ResendRequest's range
 * re-encoded with PossDupFlag (application messages) or covered by
 * SequenceReset-GapFill (session messages, and what the store no longer
 * holds). So a reader that is slow, or absent, misses nothing it cannot ask
 * for again, and MsgSeqNum on the wire never goes backwards.
 *
 * Invariants:
 *  - a client message is applied only when its MsgSeqNum is the expected
 *    one: a higher one opens a gap (ResendRequest, the message is not
 *    applied; the client resends it), a lower one is ignored when PossDupFlag
 *    is set and ends the session otherwise, as FIX specifies;
 *  - a rejected Logon is answered by one Logout and changes no state;
 *  - ClOrdID strings map to u64 ClOrdIDs 2^63 | slot << 47 | gen << 32 |
 *    (entry + 1), so they never meet a FIXP client's numbers of the same
 *    account unless that client uses the top bit. An entry lives while an
 *    order or request of the session names it: each command submitted holds
 *    a reference on its ClOrdID, and the report that ends it (the order's
 *    terminal ExecutionReport: filled, canceled, expired, rejected, replaced
 *    away; the request's answer) drops it. A free entry is reused under the
 *    next generation, so a stale number never names a new string, and
 *    stored reports keep their strings (a resend names what was sent);
 *  - no floating point: prices are PRICE9 from exact decimal parsing, AvgPx
 *    is a 128-bit sum of LastPx x LastQty divided by CumQty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/fix44.h"
#include "dtx/fixp_credentials.h"
#include "dtx/types.h"
#include "net/cod.h"
#include "net/fix44_codec.h"
#include "net/throttle.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define IN_CAP (2u * DTX_FIX44_MSG_MAX)
#define WIRE_MAX (DTX_FIX44_MSG_MAX + 64u)
#define COMP_ID "DTX"
#define CLORD_TOP (1ull << 63)

/* What a stored out-record is (kind). */
enum {
    K_NONE = 0,   /* never written */
    K_EVENT,      /* a report from the core, or a local reject as one */
    K_BMR,        /* local BusinessMessageReject j */
    K_MASS_REJ,   /* local OrderMassCancelReport r, MassCancelResponse 0 */
    K_LOGON,      /* session messages: gap-filled on resend */
    K_HEARTBEAT,
    K_TESTREQ,
    K_LOGOUT,
    K_RESENDREQ,
};

typedef struct fix_stored {
    dtx_event ev;
    int64_t avg_px;
    uint64_t sent_ns;   /* first SendingTime, for OrigSendingTime 122 */
    uint64_t ref_seq;   /* j: RefSeqNum; ResendRequest: BeginSeqNo */
    uint8_t kind;
    uint8_t aux;        /* j: BusinessRejectReason; r: 530; Logon: reset */
    char ord_status;    /* 9: OrdStatus */
    char ref_type[4];   /* j: RefMsgType */
    char symbol[17];
    char text[96];
    char cl[DTX_FIX44_CLORDID_MAX + 1];  /* 11 ClOrdID, resolved when stored */
    char ocl[DTX_FIX44_CLORDID_MAX + 1]; /* 41 OrigClOrdID */
} fix_stored;

/* One ClOrdID string of a session (see the invariants above). */
typedef struct fclord {
    uint32_t refs;      /* orders working and requests in flight naming it */
    uint32_t next_free; /* free: the next free entry + 1, 0 = none */
    uint16_t gen;       /* bumped when freed (15 bits used) */
    uint8_t used;
    uint8_t aux;        /* q: MassCancelRequestType */
    char s[DTX_FIX44_CLORDID_MAX + 1];
} fclord;

typedef struct fsess {
    uint8_t used;
    uint8_t role;
    uint8_t flags;        /* DTX_KEY_* of the key */
    uint8_t pub[33];
    char sender[DTX_FIX44_COMPID_MAX + 1];
    uint32_t account;
    int32_t conn;
    uint64_t next_out, next_in;
    uint64_t last_logon_ns;
    dtx_bucket throttle;  /* orders D, F, G, q (net/throttle.h) */
    uint32_t n_clord;     /* entries ever taken (high-water mark) */
    uint32_t clord_free;  /* first free entry + 1, 0 = none below n_clord */
    uint32_t clord_live;  /* entries in use */
    fclord *clord;        /* max_clordids entries */
    uint32_t *clord_hash; /* entry + 1, 0 empty; linear probing */
    fix_stored *store;
} fsess;

typedef struct fconn {
    uint8_t state;        /* dtx_fix44_conn_state */
    uint8_t test_req_sent;
    uint8_t rs_active;
    int32_t sess;
    uint32_t hb_ms;
    uint64_t last_rx, last_tx, deadline;
    uint64_t gap_until;   /* an inbound gap's ResendRequest is outstanding
                             while next_in <= gap_until */
    uint64_t rs_next, rs_end; /* resend range still to write [next, end) */
    uint64_t wr_next;     /* next MsgSeqNum to write live */
    uint32_t in_len;
    uint32_t out_head, out_len;
    uint8_t *in;
    uint8_t *out;
} fconn;

typedef struct ford {
    __int128 notional; /* sum of LastPx x LastQty, PRICE9 x contracts */
    uint64_t order_id; /* 0 = free */
    int64_t cum;
    char status;
} ford;

typedef struct finstr {
    uint32_t id;
    char sym[17];
} finstr;

struct dtx_fix44 {
    dtx_fix44_config cfg;
    dtx_session_callbacks cb;
    finstr *instr;
    fsess *sess;
    fconn *conns;
    uint8_t *in_mem, *out_mem;
    fix_stored *store_mem;
    fclord *clord_mem;
    uint32_t *hash_mem;
    uint32_t hash_mask;
    ford *orders;
    uint32_t orders_mask;
    dtx_cod cod;          /* cancel-on-disconnect owed, per session slot */
    uint64_t store_mask;
    dtx_fix44_stats st;
    char body[DTX_FIX44_MSG_MAX];
    char wire[WIRE_MAX];
};

/* app handling results */
enum { R_OK = 0, R_RETRY = 1, R_CLOSED = 2 };

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
        f->conns[i].out = f->out_mem + (size_t)i * c.send_buffer_bytes;
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

/* ---- instruments, ClOrdIDs, orders ------------------------------------------------ */

static const finstr *instr_by_symbol(const dtx_fix44 *f, const char *s, size_t n)
{
    if (n == 0 || n > 16)
        return NULL;
    for (uint32_t i = 0; i < f->cfg.n_instruments; i++)
        if (strlen(f->instr[i].sym) == n && memcmp(f->instr[i].sym, s, n) == 0)
            return &f->instr[i];
    return NULL;
}

static const char *symbol_of(const dtx_fix44 *f, uint32_t id)
{
    for (uint32_t i = 0; i < f->cfg.n_instruments; i++)
        if (f->instr[i].id == id)
            return f->instr[i].sym;
    return "";
}

static uint32_t str_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static uint64_t clord_id(uint32_t slot, const fclord *e, uint32_t idx)
{
    return CLORD_TOP | ((uint64_t)slot << 47) | ((uint64_t)(e->gen & 0x7FFFu) << 32) |
           (uint64_t)(idx + 1);
}

/* The entry a u64 ClOrdID names (any session of this layer), or NULL when
 * it is not one of ours or its entry was freed since. */
static fclord *clord_entry(const dtx_fix44 *f, uint64_t id)
{
    if (!(id & CLORD_TOP))
        return NULL;
    uint32_t slot = (uint32_t)(id >> 47) & 0xFFFFu, e = (uint32_t)id;
    if (slot >= f->cfg.max_sessions || e == 0)
        return NULL;
    const fsess *se = &f->sess[slot];
    if (!se->used || e > se->n_clord)
        return NULL;
    fclord *c = &se->clord[e - 1];
    if (!c->used || (c->gen & 0x7FFFu) != ((id >> 32) & 0x7FFFu))
        return NULL;
    return c;
}

/* The u64 of ClOrdID string s (n <= 20) in session slot: found, or added
 * when add is set (holding no reference yet). Returns 0 when absent (add ==
 * 0) or when every entry is in use. */
static uint64_t clord_map(dtx_fix44 *f, uint32_t slot, const char *s, size_t n, int add,
                          uint32_t *idx_out)
{
    fsess *se = &f->sess[slot];
    uint32_t h = str_hash(s, n) & f->hash_mask;
    for (;;) {
        uint32_t e = se->clord_hash[h];
        if (!e)
            break;
        fclord *c = &se->clord[e - 1];
        if (strlen(c->s) == n && memcmp(c->s, s, n) == 0) {
            if (idx_out)
                *idx_out = e - 1;
            return clord_id(slot, c, e - 1);
        }
        h = (h + 1) & f->hash_mask;
    }
    if (!add)
        return 0;
    uint32_t idx;
    if (se->clord_free) {
        idx = se->clord_free - 1;
        se->clord_free = se->clord[idx].next_free;
    } else if (se->n_clord < f->cfg.max_clordids) {
        idx = se->n_clord++;
    } else {
        return 0;
    }
    fclord *c = &se->clord[idx];
    c->used = 1;
    c->refs = 0;
    c->aux = 0;
    c->next_free = 0;
    memcpy(c->s, s, n);
    c->s[n] = 0;
    se->clord_hash[h] = idx + 1;
    se->clord_live++;
    f->st.clordids_live++;
    if (idx_out)
        *idx_out = idx;
    return clord_id(slot, c, idx);
}

/* Frees entry c of session slot: out of the hash (linear probing: the
 * cluster behind it shifts back), next generation, onto the free list. */
static void clord_free(dtx_fix44 *f, fsess *se, fclord *c)
{
    uint32_t idx = (uint32_t)(c - se->clord);
    uint32_t i = str_hash(c->s, strlen(c->s)) & f->hash_mask, j;
    while (se->clord_hash[i] != idx + 1)
        i = (i + 1) & f->hash_mask;
    se->clord_hash[i] = 0;
    for (j = i;;) {
        j = (j + 1) & f->hash_mask;
        uint32_t e = se->clord_hash[j];
        if (!e)
            break;
        const char *o = se->clord[e - 1].s;
        uint32_t k = str_hash(o, strlen(o)) & f->hash_mask;
        /* move j to i when its home k is not within (i, j] cyclically */
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            se->clord_hash[i] = e;
            se->clord_hash[j] = 0;
            i = j;
        }
    }
    c->used = 0;
    c->refs = 0;
    c->s[0] = 0;
    c->gen++;
    c->next_free = se->clord_free;
    se->clord_free = idx + 1;
    se->clord_live--;
    f->st.clordids_live--;
}

/* A command naming id was submitted: it holds the entry. */
static void clord_hold(const dtx_fix44 *f, uint64_t id)
{
    fclord *c = clord_entry(f, id);
    if (c)
        c->refs++;
}

/* The order or request naming id is done: its reference goes, and the
 * entry with it when it was the last. Unknown or stale ids are ignored. */
static void clord_release(dtx_fix44 *f, uint64_t id)
{
    fclord *c = clord_entry(f, id);
    if (!c || c->refs == 0)
        return;
    if (--c->refs == 0)
        clord_free(f, &f->sess[(uint32_t)(id >> 47) & 0xFFFFu], c);
}

/* Frees the entry of id when nothing holds it (a message answered by the
 * gateway itself, or not submitted for a full ring). */
static void clord_drop_unused(dtx_fix44 *f, uint64_t id)
{
    fclord *c = clord_entry(f, id);
    if (c && c->refs == 0)
        clord_free(f, &f->sess[(uint32_t)(id >> 47) & 0xFFFFu], c);
}

/* Copies the string of id into out (21 bytes): "" when id is not ours. */
static void clord_copy(const dtx_fix44 *f, uint64_t id, char *out)
{
    const fclord *c = clord_entry(f, id);
    snprintf(out, DTX_FIX44_CLORDID_MAX + 1, "%s", c ? c->s : "");
}

static uint32_t order_hash(uint64_t id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdull;
    id ^= id >> 33;
    return (uint32_t)id;
}

/* The order's entry, added when add is set and there is room; NULL else. */
static ford *order_get(dtx_fix44 *f, uint64_t id, int add)
{
    if (!id)
        return NULL;
    uint32_t h = order_hash(id) & f->orders_mask, free_at = UINT32_MAX;
    for (uint32_t k = 0; k <= f->orders_mask; k++) {
        ford *o = &f->orders[h];
        if (o->order_id == id)
            return o;
        if (!o->order_id) {
            free_at = h;
            break;
        }
        h = (h + 1) & f->orders_mask;
    }
    if (!add || free_at == UINT32_MAX)
        return NULL;
    ford *o = &f->orders[free_at];
    memset(o, 0, sizeof *o);
    o->order_id = id;
    o->status = '0';
    return o;
}

/* Removes an entry (linear probing: back-shift the cluster behind it). */
static void order_del(dtx_fix44 *f, ford *o)
{
    uint32_t i = (uint32_t)(o - f->orders), j = i;
    f->orders[i].order_id = 0;
    for (;;) {
        j = (j + 1) & f->orders_mask;
        if (!f->orders[j].order_id)
            return;
        uint32_t k = order_hash(f->orders[j].order_id) & f->orders_mask;
        /* move j to i when its home k is not within (i, j] cyclically */
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            f->orders[i] = f->orders[j];
            f->orders[j].order_id = 0;
            i = j;
        }
    }
}

static int64_t avg_of(const ford *o)
{
    if (!o || o->cum <= 0)
        return 0;
    __int128 n = o->notional, d = o->cum;
    __int128 q = n / d, r = n % d;
    if (r < 0)
        r = -r;
    if (2 * r >= d)
        q += n < 0 ? -1 : 1;
    return (int64_t)q;
}

/* ---- output ------------------------------------------------------------------------- */

static void conn_end(dtx_fix44 *f, uint32_t ci, uint64_t now, int call_close);

static void flush(dtx_fix44 *f, uint32_t ci)
{
    fconn *c = &f->conns[ci];
    while (c->out_len) {
        size_t n = f->cb.write(f->cb.ctx, ci, c->out + c->out_head, c->out_len);
        if (n == 0)
            break;
        if (n > c->out_len)
            n = c->out_len;
        c->out_head += (uint32_t)n;
        c->out_len -= (uint32_t)n;
    }
    if (!c->out_len)
        c->out_head = 0;
}

/* Appends n bytes to conn's send buffer; -1 when they do not fit. */
static int out_put(dtx_fix44 *f, fconn *c, const char *p, size_t n, uint64_t now)
{
    uint32_t cap = f->cfg.send_buffer_bytes;
    if (n > cap - c->out_len)
        return -1;
    if (c->out_head + c->out_len + n > cap) {
        memmove(c->out, c->out + c->out_head, c->out_len);
        c->out_head = 0;
    }
    memcpy(c->out + c->out_head + c->out_len, p, n);
    c->out_len += (uint32_t)n;
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
            if (e->orig_clordid)
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
static int pump(dtx_fix44 *f, uint32_t ci, uint64_t now)
{
    fconn *c = &f->conns[ci];
    if (c->state != DTX_FIX44_ACTIVE && c->state != DTX_FIX44_LOGOUT)
        return 0;
    uint32_t slot = (uint32_t)c->sess;
    fsess *se = &f->sess[slot];
    while (c->rs_active && c->rs_next < c->rs_end) {
        if (f->cfg.send_buffer_bytes - c->out_len < WIRE_MAX)
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
            out_put(f, c, f->wire, n, now);
    }
    c->rs_active = 0;
    while (c->wr_next < se->next_out) {
        if (c->wr_next < store_oldest(f, se)) {
            f->st.send_overflows++;
            conn_end(f, ci, now, 1);
            return -1;
        }
        if (f->cfg.send_buffer_bytes - c->out_len < WIRE_MAX)
            return 0;
        size_t n = encode(f, slot, stored(f, se, c->wr_next), c->wr_next, 0, now);
        if (n)
            out_put(f, c, f->wire, n, now);
        c->wr_next++;
    }
    return 0;
}

/* Stores an outbound message under the session's next MsgSeqNum and writes
 * it when the session is logged on. */
static void store_out(dtx_fix44 *f, uint32_t slot, const fix_stored *rec, uint64_t now)
{
    fsess *se = &f->sess[slot];
    fix_stored *r = stored(f, se, se->next_out);
    *r = *rec;
    r->sent_ns = now;
    /* ClOrdID strings now: their entries may be freed before a resend */
    if ((r->kind == K_EVENT || r->kind == K_MASS_REJ) && !r->cl[0])
        clord_copy(f, r->ev.clordid, r->cl);
    if (r->kind == K_EVENT && !r->ocl[0] &&
        (r->ev.type == DTX_EV_CANCELED || r->ev.type == DTX_EV_REPLACED ||
         r->ev.type == DTX_EV_CANCEL_REJECT))
        clord_copy(f, r->ev.orig_clordid, r->ocl);
    se->next_out++;
    if (is_app(rec))
        f->st.reports_out++;
    if (se->conn >= 0) {
        uint32_t ci = (uint32_t)se->conn;
        if (pump(f, ci, now) == 0)
            flush(f, ci);
    }
}

static void store_admin(dtx_fix44 *f, uint32_t slot, uint8_t kind, const char *text, uint64_t now)
{
    fix_stored r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    if (text)
        snprintf(r.text, sizeof r.text, "%s", text);
    store_out(f, slot, &r, now);
}

/* ---- connection life ------------------------------------------------------------------ */

static void conn_end(dtx_fix44 *f, uint32_t ci, uint64_t now, int call_close)
{
    (void)now;
    fconn *c = &f->conns[ci];
    if (c->state == DTX_FIX44_FREE)
        return;
    if (call_close)
        flush(f, ci);
    if (c->sess >= 0 && f->sess[c->sess].conn == (int32_t)ci) {
        fsess *se = &f->sess[c->sess];
        se->conn = -1;
        /* else owed: retried by tick, and before the next order (net/cod.h) */
        if (se->flags & DTX_KEY_CANCEL_ON_DISCONNECT &&
            dtx_cod_disconnect(&f->cod, &f->cb, (uint32_t)c->sess, se->account) > 0)
            f->st.app_submitted++;
    }
    uint8_t *in = c->in, *out = c->out;
    memset(c, 0, sizeof *c);
    c->in = in;
    c->out = out;
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
        store_admin(f, (uint32_t)c->sess, K_LOGOUT, text, now);
    if (f->conns[ci].state != DTX_FIX44_FREE)
        conn_end(f, ci, now, 1);
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
        out_put(f, c, f->wire, n, now);
    f->st.logon_rejects++;
    conn_end(f, ci, now, 1);
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
        conn_end(f, ci, now, 0);
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
    store_out(f, (uint32_t)si, &r, now);
    if (seq == se->next_in) {
        se->next_in++;
    } else {
        /* messages before the Logon are missing: ask for them */
        memset(&r, 0, sizeof r);
        r.kind = K_RESENDREQ;
        r.ref_seq = se->next_in;
        c->gap_until = seq;
        f->st.resend_requests++;
        store_out(f, (uint32_t)si, &r, now);
    }
    return R_OK;
}

/* ---- application messages --------------------------------------------------------- */

/* Local j: BusinessMessageReject for message seq of type. */
static void local_bmr(dtx_fix44 *f, uint32_t slot, uint64_t seq, const char *type, uint8_t reason,
                      const char *text, uint64_t now)
{
    fix_stored r;
    memset(&r, 0, sizeof r);
    r.kind = K_BMR;
    r.ref_seq = seq;
    snprintf(r.ref_type, sizeof r.ref_type, "%s", type);
    r.aux = reason;
    snprintf(r.text, sizeof r.text, "%s", text);
    f->st.local_rejects++;
    store_out(f, slot, &r, now);
}

/* Local reject as an ExecutionReport (D) or OrderCancelReject (F, G). */
static void local_reject(dtx_fix44 *f, uint32_t slot, const dtx_command *cmd, uint16_t reason,
                         const char *symbol, uint64_t now)
{
    fix_stored r;
    memset(&r, 0, sizeof r);
    r.kind = K_EVENT;
    dtx_event *e = &r.ev;
    e->session = (uint16_t)(f->cfg.session_base + slot);
    e->account = f->sess[slot].account;
    e->ts = now;
    e->reject_reason = reason;
    e->clordid = cmd->clordid;
    e->security_id = cmd->security_id;
    e->side = cmd->side;
    snprintf(r.symbol, sizeof r.symbol, "%s", symbol ? symbol : "");
    if (cmd->type == DTX_CMD_NEW_ORDER) {
        e->type = DTX_EV_REJECT;
        e->ord_type = cmd->ord_type;
        e->price = cmd->price;
        e->order_qty = cmd->qty;
    } else {
        e->type = DTX_EV_CANCEL_REJECT;
        e->orig_clordid = cmd->orig_clordid;
        e->order_id = cmd->order_id;
        e->response_to = cmd->type == DTX_CMD_REPLACE ? DTX_CXL_REJ_REPLACE : DTX_CXL_REJ_CANCEL;
        ford *o = order_get(f, cmd->order_id, 0);
        r.ord_status = o ? o->status : '8';
    }
    f->st.local_rejects++;
    store_out(f, slot, &r, now);
}

static int get_qty(const fix_msg *m, uint32_t tag, int64_t *out)
{
    uint64_t v;
    int rc = dtx_fix44_get_u64(m, tag, &v);
    if (rc <= 0)
        return rc;
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = (int64_t)v;
    return 1;
}

/* Price tag: 1 found (PRICE9 in *out), 0 absent, -1 not a decimal, -2 off
 * the 10^-9 grid. */
static int get_price(const fix_msg *m, uint32_t tag, int64_t *out)
{
    size_t n;
    const char *v = dtx_fix44_get(m, tag, &n);
    if (!v)
        return 0;
    int rc = dtx_fix44_parse_price(v, n, out);
    return rc == 0 ? 1 : rc;
}

/* Builds the command of D, F, G or q. Returns 0 when cmd is ready, else
 * answers itself (local reject) and returns 1. */
static int build_command(dtx_fix44 *f, uint32_t slot, const fix_msg *m, uint64_t seq,
                         dtx_command *cmd, uint64_t *mapped, uint64_t now)
{
    fsess *se = &f->sess[slot];
    char t = m->type[0];
    size_t n;
    const char *cl = dtx_fix44_get(m, 11, &n);
    if (!cl)
        return local_bmr(f, slot, seq, m->type, 5, "ClOrdID (11) missing", now), 1;
    if (n > DTX_FIX44_CLORDID_MAX)
        return local_bmr(f, slot, seq, m->type, 0, "ClOrdID (11) longer than 20", now), 1;
    uint32_t idx = 0;
    uint64_t id = clord_map(f, slot, cl, n, 1, &idx);
    if (!id) {
        char why[96];
        snprintf(why, sizeof why,
                 "ClOrdID table full: %u working orders and requests per session (max_clordids)",
                 f->cfg.max_clordids);
        f->st.clordid_full++;
        return local_bmr(f, slot, seq, m->type, 0, why, now), 1;
    }
    *mapped = id;
    if (se->role != DTX_ROLE_TRADER)
        return local_bmr(f, slot, seq, m->type, 6, "reason=20 NotAuthorized", now), 1;
    *cmd = dtx_command_blank(t == 'D'   ? DTX_CMD_NEW_ORDER
                             : t == 'F' ? DTX_CMD_CANCEL
                             : t == 'G' ? DTX_CMD_REPLACE
                                        : DTX_CMD_MASS_CANCEL);
    cmd->clordid = id;
    cmd->session = (uint16_t)(f->cfg.session_base + slot);
    cmd->account = se->account;
    uint16_t bad = 0;
    size_t sl = 0, v1n = 0;
    const char *sym = dtx_fix44_get(m, 55, &sl);
    char symbol[17] = "";
    if (sym)
        snprintf(symbol, sizeof symbol, "%.*s", (int)(sl > 16 ? 16 : sl), sym);
    const finstr *in = sym ? instr_by_symbol(f, sym, sl) : NULL;
    const char *v1;
    uint64_t u;
    int rc;

    if (t == 'q') {
        uint64_t type = 0;
        rc = dtx_fix44_get_u64(m, 530, &type);
        se->clord[idx].aux = (uint8_t)(rc == 1 && type < 10 ? type : 0);
        fix_stored r;
        memset(&r, 0, sizeof r);
        r.kind = K_MASS_REJ;
        r.ev.clordid = id;
        r.aux = se->clord[idx].aux;
        if (rc != 1 || (type != 1 && type != 7)) {
            r.ev.reject_reason = 0; /* MassCancelRejectReason 0: not supported */
            snprintf(r.text, sizeof r.text, "MassCancelRequestType must be 1 or 7");
        } else if (type == 1 && !in) {
            r.ev.reject_reason = 1; /* InvalidOrUnknownSecurity */
            snprintf(r.text, sizeof r.text, "reason=1 UnknownInstrument");
        } else {
            cmd->security_id = type == 1 ? in->id : 0;
            v1 = dtx_fix44_get(m, 54, &v1n);
            if (v1 && (v1n != 1 || (v1[0] != '1' && v1[0] != '2'))) {
                r.ev.reject_reason = 99;
                snprintf(r.text, sizeof r.text, "reason=19 InvalidField");
            } else {
                cmd->side = v1 ? (uint8_t)(v1[0] - '0') : 0;
                return 0;
            }
        }
        f->st.local_rejects++;
        store_out(f, slot, &r, now);
        return 1;
    }

    /* Side 54: D requires it; F and G may name it (0 = not given). */
    v1 = dtx_fix44_get(m, 54, &v1n);
    if (v1 && v1n == 1 && (v1[0] == '1' || v1[0] == '2'))
        cmd->side = (uint8_t)(v1[0] - '0');
    else if (v1 || t == 'D')
        bad = DTX_REJ_INVALID_FIELD;

    if (t == 'D') {
        if (!sym || !dtx_fix44_get(m, 54, &n) || !dtx_fix44_get(m, 38, &n) ||
            !dtx_fix44_get(m, 40, &n))
            return local_bmr(f, slot, seq, m->type, 5,
                             "Symbol (55), Side (54), OrderQty (38) and OrdType (40) are required",
                             now), 1;
        v1 = dtx_fix44_get(m, 40, &v1n);
        if (v1n == 1 && v1[0] >= '1' && v1[0] <= '4')
            cmd->ord_type = (uint8_t)(v1[0] - '0');
        else
            bad = bad ? bad : DTX_REJ_INVALID_FIELD;
        v1 = dtx_fix44_get(m, 59, &v1n);
        if (!v1)
            cmd->tif = DTX_TIF_DAY;
        else if (v1n == 1 && (v1[0] == '0' || v1[0] == '1' || v1[0] == '3' || v1[0] == '4' ||
                              v1[0] == '6'))
            cmd->tif = (uint8_t)(v1[0] - '0');
        else
            bad = bad ? bad : DTX_REJ_INVALID_FIELD;
        v1 = dtx_fix44_get(m, 18, &v1n);
        for (size_t i = 0; v1 && i < v1n; i++) {
            if (v1[i] == '6')
                cmd->exec_inst |= DTX_EXEC_POST_ONLY;
            else if (v1[i] == 'E')
                cmd->exec_inst |= DTX_EXEC_REDUCE_ONLY;
            else if (v1[i] != ' ')
                bad = bad ? bad : DTX_REJ_INVALID_FIELD;
        }
        rc = dtx_fix44_get_u64(m, 7928, &u);
        if (rc == 1 && u <= DTX_STP_DECREMENT_AND_CANCEL)
            cmd->stp = (uint8_t)u;
        else if (rc != 0)
            bad = bad ? bad : DTX_REJ_INVALID_FIELD;
        rc = get_price(m, 99, &cmd->stop_px);
        if (rc == -2)
            bad = bad ? bad : DTX_REJ_PRICE_NOT_ON_TICK;
        else if (rc < 0)
            bad = bad ? bad : DTX_REJ_INVALID_FIELD;
        v1 = dtx_fix44_get(m, 126, &v1n);
        if (v1 && dtx_fix44_parse_time(v1, v1n, &cmd->expire_time) != 0)
            bad = bad ? bad : DTX_REJ_INVALID_FIELD;
    }
    if (t == 'D' || t == 'G') {
        rc = get_qty(m, 38, &cmd->qty);
        if (rc == 0 && t == 'G')
            return local_bmr(f, slot, seq, m->type, 5, "OrderQty (38) is required", now), 1;
        if (rc < 0)
            bad = bad ? bad : DTX_REJ_INVALID_FIELD;
        rc = get_qty(m, 111, &cmd->display_qty);
        if (rc < 0)
            bad = bad ? bad : DTX_REJ_INVALID_FIELD;
        rc = get_price(m, 44, &cmd->price);
        if (rc == -2)
            bad = bad ? bad : DTX_REJ_PRICE_NOT_ON_TICK;
        else if (rc < 0)
            bad = bad ? bad : DTX_REJ_INVALID_FIELD;
    }
    if (t == 'F' || t == 'G') {
        const char *ocl = dtx_fix44_get(m, 41, &n);
        if (ocl && n <= DTX_FIX44_CLORDID_MAX)
            cmd->orig_clordid = clord_map(f, slot, ocl, n, 0, NULL);
        rc = dtx_fix44_get_u64(m, 37, &u);
        if (rc == 1)
            cmd->order_id = u;
        if (!cmd->order_id && !cmd->orig_clordid)
            bad = bad ? bad : DTX_REJ_UNKNOWN_ORDER;
        if (sym && !in)
            bad = bad ? bad : DTX_REJ_UNKNOWN_ORDER;
    }
    if (in)
        cmd->security_id = in->id;
    else if (t == 'D' && !bad)
        bad = DTX_REJ_UNKNOWN_INSTRUMENT;
    if (bad) {
        local_reject(f, slot, cmd, bad, in ? in->sym : symbol, now);
        return 1;
    }
    return 0;
}

/* 1 when the session's bucket lets an order pass (not yet taken). */
static int throttle_ok(const dtx_fix44 *f, fsess *se, uint64_t now)
{
    return dtx_bucket_ok(&se->throttle, f->cfg.throttle_rate, f->cfg.throttle_burst, now);
}

static int on_app(dtx_fix44 *f, uint32_t ci, const fix_msg *m, uint64_t seq, uint64_t now)
{
    fconn *c = &f->conns[ci];
    uint32_t slot = (uint32_t)c->sess;
    fsess *se = &f->sess[slot];
    dtx_command cmd;
    /* A full ring changes nothing that matters: ClOrdID strings mapped on
     * the way map to the same numbers when the message comes again. */
    uint64_t mapped = 0;
    int cod = dtx_cod_settle(&f->cod, &f->cb, slot);
    if (cod < 0)
        return R_RETRY; /* never cancel orders placed after the reconnect */
    if (cod > 0)
        f->st.app_submitted++;
    if (build_command(f, slot, m, seq, &cmd, &mapped, now) == 0) {
        if (!throttle_ok(f, se, now)) {
            f->st.throttled++;
            if (cmd.type == DTX_CMD_MASS_CANCEL) {
                fix_stored r;
                memset(&r, 0, sizeof r);
                r.kind = K_MASS_REJ;
                r.ev.clordid = cmd.clordid;
                r.ev.reject_reason = 99;
                r.aux = cmd.security_id ? 1 : 7;
                snprintf(r.text, sizeof r.text, "reason=13 Throttled");
                f->st.local_rejects++;
                store_out(f, slot, &r, now);
            } else {
                local_reject(f, slot, &cmd, DTX_REJ_THROTTLED,
                             symbol_of(f, cmd.security_id), now);
            }
        } else {
            if (f->cb.submit(f->cb.ctx, &cmd) != 0) {
                clord_drop_unused(f, mapped);
                return R_RETRY;
            }
            clord_hold(f, cmd.clordid);
            dtx_bucket_take(&se->throttle);
            f->st.app_submitted++;
        }
    }
    clord_drop_unused(f, mapped); /* answered here: nothing holds it */
    se->next_in = seq + 1;
    return f->conns[ci].state == DTX_FIX44_FREE ? R_CLOSED : R_OK;
}

/* ---- session messages ----------------------------------------------------------------- */

static void on_resend_request(dtx_fix44 *f, uint32_t ci, const fix_msg *m, uint64_t now)
{
    fconn *c = &f->conns[ci];
    uint64_t b = 0, e = 0;
    if (dtx_fix44_get_u64(m, 7, &b) != 1 || dtx_fix44_get_u64(m, 16, &e) != 1 || b == 0) {
        local_bmr(f, (uint32_t)c->sess, 0, "2", 5, "BeginSeqNo (7) and EndSeqNo (16) are required", now);
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
    if (pump(f, ci, now) == 0)
        flush(f, ci);
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
            store_admin(f, slot, K_LOGOUT, NULL, now);
            conn_end(f, ci, now, 1);
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
            store_out(f, slot, &r, now);
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
        store_admin(f, slot, K_HEARTBEAT, idb, now);
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
        store_admin(f, slot, K_LOGOUT, NULL, now);
        conn_end(f, ci, now, 1);
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
        return on_app(f, ci, m, seq, now);
    default:
        local_bmr(f, slot, seq, m->type, 3, "unsupported MsgType", now);
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
            conn_end(f, ci, now, 1);
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
                conn_end(f, ci, now, 1);
            return R_CLOSED;
        }
        fix_msg m;
        if (dtx_fix44_parse(c->in + k, len, &m) != 0) {
            if (c->state == DTX_FIX44_ACTIVE)
                logout_close(f, ci, "malformed message", now);
            else
                conn_end(f, ci, now, 1);
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
            flush(f, ci);
            return done;
        }
        memmove(c->in, c->in + k, c->in_len - k);
        c->in_len -= (uint32_t)k;
        done += take;
    }
    if (f->conns[ci].state != DTX_FIX44_FREE)
        flush(f, ci);
    return done;
}

void dtx_fix44_on_writable(dtx_fix44 *f, uint32_t ci, uint64_t now)
{
    if (ci >= f->cfg.max_connections || f->conns[ci].state == DTX_FIX44_FREE)
        return;
    flush(f, ci);
    if (pump(f, ci, now) == 0)
        flush(f, ci);
}

/* ---- events from the core ---------------------------------------------------------------- */

int dtx_fix44_owns_session(const dtx_fix44 *f, uint32_t session)
{
    return session >= f->cfg.session_base && session - f->cfg.session_base < f->cfg.max_sessions;
}

dtx_status dtx_fix44_on_event(dtx_fix44 *f, const dtx_event *ev, uint64_t now)
{
    if (ev->type < DTX_EV_NEW || ev->type > DTX_EV_BUSINESS_REJECT)
        return DTX_EINVAL;
    if (!dtx_fix44_owns_session(f, ev->session))
        return DTX_EINVAL;
    uint32_t slot = ev->session - f->cfg.session_base;
    fsess *se = &f->sess[slot];
    if (!se->used)
        return DTX_EINVAL;
    fix_stored r;
    memset(&r, 0, sizeof r);
    r.kind = K_EVENT;
    r.ev = *ev;
    snprintf(r.symbol, sizeof r.symbol, "%s", symbol_of(f, ev->security_id));
    ford *o = NULL;
    switch (ev->type) {
    case DTX_EV_NEW:
        o = order_get(f, ev->order_id, 1);
        if (o)
            o->status = '0';
        break;
    case DTX_EV_FILL:
        o = order_get(f, ev->order_id, 1);
        if (o) {
            o->notional += (__int128)ev->price * ev->last_qty;
            o->cum = ev->cum_qty;
            o->status = ev->ord_status == DTX_STATUS_FILLED ? '2' : '1';
            r.avg_px = avg_of(o);
            if (ev->leaves_qty == 0)
                order_del(f, o);
        } else {
            f->st.orders_untracked++;
        }
        break;
    case DTX_EV_CANCELED:
        o = order_get(f, ev->order_id, 0);
        if (o) {
            r.avg_px = avg_of(o);
            order_del(f, o);
        }
        break;
    case DTX_EV_REPLACED:
        o = order_get(f, ev->order_id, 0);
        if (o) {
            r.avg_px = avg_of(o);
            o->status = ev->cum_qty > 0 ? '1' : '0';
        }
        break;
    case DTX_EV_CANCEL_REJECT:
        o = order_get(f, ev->order_id, 0);
        r.ord_status = o ? o->status : '8';
        break;
    case DTX_EV_MASS_CANCEL_REPORT:
    case DTX_EV_BUSINESS_REJECT: {
        const fclord *c = clord_entry(f, ev->clordid);
        if (c)
            r.aux = c->aux;
        if (ev->security_id)
            snprintf(r.symbol, sizeof r.symbol, "%s", symbol_of(f, ev->security_id));
        break;
    }
    default:
        break;
    }
    store_out(f, slot, &r, now);
    /* The ClOrdIDs this report ends (the strings are in the stored record). */
    switch (ev->type) {
    case DTX_EV_FILL:
        if (ev->leaves_qty == 0)
            clord_release(f, ev->clordid);
        break;
    case DTX_EV_CANCELED: /* the request's (or the order's, unsolicited), the order's */
        clord_release(f, ev->clordid);
        if (ev->orig_clordid)
            clord_release(f, ev->orig_clordid);
        break;
    case DTX_EV_REPLACED: /* renamed: the old name goes (a self-trade decrement keeps it) */
        if (ev->orig_clordid != ev->clordid)
            clord_release(f, ev->orig_clordid);
        break;
    case DTX_EV_REJECT:
    case DTX_EV_CANCEL_REJECT:
    case DTX_EV_MASS_CANCEL_REPORT:
    case DTX_EV_BUSINESS_REJECT:
        clord_release(f, ev->clordid);
        break;
    default:
        break;
    }
    return DTX_OK;
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
                conn_end(f, ci, now, 1);
            continue;
        }
        uint64_t hb = (uint64_t)c->hb_ms * NS_PER_MS;
        uint32_t slot = (uint32_t)c->sess;
        fsess *se = &f->sess[slot];
        uint64_t quiet = now > c->last_rx ? now - c->last_rx : 0;
        if (quiet >= 3 * hb) {
            store_admin(f, slot, K_LOGOUT, "heartbeat timeout", now);
            if (f->conns[ci].state != DTX_FIX44_FREE)
                conn_end(f, ci, now, 1);
            continue;
        }
        if (quiet >= hb + hb / 2 && !c->test_req_sent) {
            char id[32];
            snprintf(id, sizeof id, "TEST-%llu", (unsigned long long)(now / NS_PER_MS));
            c->test_req_sent = 1;
            store_admin(f, slot, K_TESTREQ, id, now);
            continue;
        }
        if (now > c->last_tx && now - c->last_tx >= hb && c->wr_next == se->next_out &&
            !c->rs_active)
            store_admin(f, slot, K_HEARTBEAT, NULL, now);
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
