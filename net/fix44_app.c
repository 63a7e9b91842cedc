/*
 * fix44_app.c - FIX 4.4 sessions, the application mapping: instruments by
 * Symbol, the ClOrdID table, the orders AvgPx is kept for, NewOrderSingle D,
 * OrderCancelRequest F, OrderCancelReplaceRequest G and
 * OrderMassCancelRequest q into dtx_command records (or a local reject), and
 * the core's events into stored ExecutionReport 8, OrderCancelReject 9,
 * OrderMassCancelReport r or BusinessMessageReject j records
 * (net/fix44_internal.h; the session layer is fix44_session.c, the encoding
 * fix44_output.c).
 *
 * Invariants:
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
#include <string.h>

#include "dtx/fix44.h"
#include "dtx/types.h"
#include "net/cod.h"
#include "net/fix44_codec.h"
#include "net/fix44_internal.h"
#include "net/throttle.h"

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
    c->held = 0;
    c->ost = 0;
    c->orig[0] = 0;
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

/* clord_release() of an id of account's sessions only. */
static void release_of(dtx_fix44 *f, uint32_t account, uint64_t id)
{
    if (!(id & CLORD_TOP))
        return;
    uint32_t slot = (uint32_t)(id >> 47) & 0xFFFFu;
    if (slot < f->cfg.max_sessions && f->sess[slot].account == account)
        clord_release(f, id);
}

/* Request id (F or G) was submitted: it also holds the entry its 41 named
 * (orig), so its answer still finds that order's last OrdStatus when the
 * order ended first. One hold per entry: a ClOrdID reused by a second
 * request in flight takes none. */
static void hold_named(dtx_fix44 *f, uint64_t id, uint64_t orig)
{
    fclord *x = clord_entry(f, id), *a = clord_entry(f, orig);
    if (x && a && !x->held) {
        a->refs++;
        x->held = orig;
    }
}

/* Request id (of account) is answered: the entry it held goes. */
static void release_held(dtx_fix44 *f, uint32_t account, uint64_t id)
{
    if (!(id & CLORD_TOP))
        return;
    uint32_t slot = (uint32_t)(id >> 47) & 0xFFFFu;
    if (slot >= f->cfg.max_sessions || f->sess[slot].account != account)
        return;
    fclord *x = clord_entry(f, id);
    if (x && x->held) {
        uint64_t h = x->held;
        x->held = 0;
        clord_release(f, h);
    }
}

/* The OrdStatus of the order orig names (8 when unknown), for a reject of
 * a request naming it. */
static char status_named(const dtx_fix44 *f, uint64_t orig)
{
    const fclord *a = clord_entry(f, orig);
    return a && a->ost ? a->ost : '8';
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
void dtx_fix44_clord_copy(const dtx_fix44 *f, uint64_t id, char *out)
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

/* ---- application messages --------------------------------------------------------- */

/* Local j: BusinessMessageReject for message seq of type. */
void dtx_fix44_local_bmr(dtx_fix44 *f, uint32_t slot, uint64_t seq, const char *type,
                         uint8_t reason, const char *text, uint64_t now)
{
    fix_stored r;
    memset(&r, 0, sizeof r);
    r.kind = K_BMR;
    r.ref_seq = seq;
    snprintf(r.ref_type, sizeof r.ref_type, "%s", type);
    r.aux = reason;
    snprintf(r.text, sizeof r.text, "%s", text);
    f->st.local_rejects++;
    dtx_fix44_store_out(f, slot, &r, now);
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
        r.ord_status = o ? o->status : status_named(f, cmd->orig_clordid);
        const fclord *rq = clord_entry(f, cmd->clordid); /* 41 as sent, known or not */
        if (rq && rq->orig[0])
            snprintf(r.ocl, sizeof r.ocl, "%s", rq->orig);
    }
    f->st.local_rejects++;
    dtx_fix44_store_out(f, slot, &r, now);
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
        return dtx_fix44_local_bmr(f, slot, seq, m->type, 5, "ClOrdID (11) missing", now), 1;
    if (n > DTX_FIX44_CLORDID_MAX)
        return dtx_fix44_local_bmr(f, slot, seq, m->type, 0, "ClOrdID (11) longer than 20", now), 1;
    uint32_t idx = 0;
    uint64_t id = clord_map(f, slot, cl, n, 1, &idx);
    if (!id) {
        char why[96];
        snprintf(why, sizeof why,
                 "ClOrdID table full: %u working orders and requests per session (max_clordids)",
                 f->cfg.max_clordids);
        f->st.clordid_full++;
        return dtx_fix44_local_bmr(f, slot, seq, m->type, 0, why, now), 1;
    }
    *mapped = id;
    if (se->role != DTX_ROLE_TRADER)
        return dtx_fix44_local_bmr(f, slot, seq, m->type, 6, "reason=20 NotAuthorized", now), 1;
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
        dtx_fix44_store_out(f, slot, &r, now);
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
            return dtx_fix44_local_bmr(f, slot, seq, m->type, 5,
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
            return dtx_fix44_local_bmr(f, slot, seq, m->type, 5, "OrderQty (38) is required", now), 1;
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
        if (ocl && n <= DTX_FIX44_CLORDID_MAX) {
            cmd->orig_clordid = clord_map(f, slot, ocl, n, 0, NULL);
            /* the string itself for the answer: the order's entry may be
             * freed first (a fill that crosses the cancel) */
            memcpy(se->clord[idx].orig, ocl, n);
            se->clord[idx].orig[n] = 0;
        }
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

int dtx_fix44_on_app(dtx_fix44 *f, uint32_t ci, const fix_msg *m, uint64_t seq, uint64_t now)
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
                dtx_fix44_store_out(f, slot, &r, now);
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
            if (cmd.orig_clordid &&
                (cmd.type == DTX_CMD_CANCEL || cmd.type == DTX_CMD_REPLACE))
                hold_named(f, cmd.clordid, cmd.orig_clordid);
            dtx_bucket_take(&se->throttle);
            f->st.app_submitted++;
        }
    }
    clord_drop_unused(f, mapped); /* answered here: nothing holds it */
    se->next_in = seq + 1;
    return f->conns[ci].state == DTX_FIX44_FREE ? R_CLOSED : R_OK;
}

/* ---- events from the core ---------------------------------------------------------------- */

int dtx_fix44_owns_session(const dtx_fix44 *f, uint32_t session)
{
    return session >= f->cfg.session_base && session - f->cfg.session_base < f->cfg.max_sessions;
}

/* The ClOrdIDs report ev ends, whichever session it is for: a FIX request
 * may cancel or replace (by OrderID 37) an order its account entered over
 * FIXP, and the engine answers the order's session. Only ids of ev's account
 * are touched: another account's FIXP numbers, even with the top bit set,
 * never free a FIX entry. */
static void release_ended(dtx_fix44 *f, const dtx_event *ev)
{
    if (ev->type != DTX_EV_FILL && ev->type != DTX_EV_NEW) /* a request's answer */
        release_held(f, ev->account, ev->clordid);
    switch (ev->type) {
    case DTX_EV_FILL:
        if (ev->leaves_qty == 0)
            release_of(f, ev->account, ev->clordid);
        break;
    case DTX_EV_CANCELED: /* the request's (or the order's, unsolicited), the order's */
        release_of(f, ev->account, ev->clordid);
        if (ev->orig_clordid)
            release_of(f, ev->account, ev->orig_clordid);
        break;
    case DTX_EV_REPLACED: /* renamed: the old name goes (a self-trade decrement keeps it) */
        if (ev->orig_clordid != ev->clordid)
            release_of(f, ev->account, ev->orig_clordid);
        break;
    case DTX_EV_REJECT:
    case DTX_EV_CANCEL_REJECT:
    case DTX_EV_MASS_CANCEL_REPORT:
    case DTX_EV_BUSINESS_REJECT:
        release_of(f, ev->account, ev->clordid);
        break;
    default:
        break;
    }
}

/* The OrdStatus report ev gives its order, kept on the order's name (and
 * on the old name of a replaced one) for a later OrderCancelReject. */
static void note_status(dtx_fix44 *f, const dtx_event *ev)
{
    uint64_t name = ev->clordid, also = 0;
    char st;
    switch (ev->type) {
    case DTX_EV_NEW: st = '0'; break;
    case DTX_EV_FILL: st = ev->ord_status == DTX_STATUS_FILLED ? '2' : '1'; break;
    case DTX_EV_CANCELED:
        if (ev->orig_clordid)
            name = ev->orig_clordid; /* solicited: clordid is the request's */
        st = ev->cancel_reason == DTX_CANCEL_EXPIRED ? 'C' : '4';
        break;
    case DTX_EV_REPLACED:
        also = ev->orig_clordid;
        st = ev->cum_qty > 0 ? '1' : '0';
        break;
    case DTX_EV_REJECT: st = '8'; break;
    default: return;
    }
    fclord *c = clord_entry(f, name);
    if (c)
        c->ost = st;
    if (also && (c = clord_entry(f, also)) != NULL)
        c->ost = st;
}

dtx_status dtx_fix44_on_event(dtx_fix44 *f, const dtx_event *ev, uint64_t now)
{
    if (ev->type < DTX_EV_NEW || ev->type > DTX_EV_BUSINESS_REJECT)
        return DTX_EINVAL;
    if (!dtx_fix44_owns_session(f, ev->session) ||
        !f->sess[ev->session - f->cfg.session_base].used) {
        release_ended(f, ev); /* a request of ours may be answered to another session */
        return DTX_EINVAL;
    }
    uint32_t slot = ev->session - f->cfg.session_base;
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
    case DTX_EV_CANCEL_REJECT: {
        o = order_get(f, ev->order_id, 0);
        const fclord *rq = clord_entry(f, ev->clordid); /* held until this answer */
        /* the order's status: by OrderID while it works, else by the name
         * the request held (a fill that won the race: 2) */
        r.ord_status = o ? o->status : status_named(f, rq && rq->held ? rq->held : ev->orig_clordid);
        if (rq && rq->orig[0])
            snprintf(r.ocl, sizeof r.ocl, "%s", rq->orig);
        break;
    }
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
    note_status(f, ev);
    dtx_fix44_store_out(f, slot, &r, now);
    release_ended(f, ev); /* the strings are in the stored record */
    return DTX_OK;
}
