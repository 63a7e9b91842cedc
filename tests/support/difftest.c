/*
 * difftest.c - the differential harness of tests/support/difftest.h: one
 * seeded command stream (cmdgen) into the engine and into the reference book
 * (ref_book), compared after every command.
 *
 * Per command: the event lists, record by record, on the fields
 * include/dtx/event.h defines for the record's type (the common header -
 * type, account, session, security_id, seq, ts, order_id, clordid, flags,
 * exec_id - plus the type's own fields, the same set the unit suites' fx_expect
 * checks; with opts->strict every field); then the working-order counts, and
 * per instrument the best bid, the best ask and the last trade price. Every
 * book_check_every commands (and after the last one) every resting order of
 * every book in priority order, and every pending stop of the reference looked
 * up in the engine by its OrderID.
 *
 * OrderIDs: each side's are replaced by ordinals of their NEW events (1, 2,
 * 3...), in order_id and contra_order_id; a value that never appeared in a NEW
 * (an unknown OrderID echoed by a CANCEL_REJECT) is left as it is. A command
 * that names an order (cmdgen_cmd.oid_ref) gets each side's own OrderID of it.
 *
 * Shrinking replays subsets of the failing prefix (delta debugging, commands
 * removed in chunks, halving the chunk when nothing more can go) against fresh
 * instances until the time budget is spent; any mismatch counts as "still
 * failing". Nothing here is on a hot path: it allocates freely and aborts when
 * memory runs out.
 */
#include "support/difftest.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtx/cmdfile.h"
#include "dtx/engine.h"
#include "dtx/error.h"
#include "support/cmdgen.h"
#include "support/evfmt.h"
#include "support/ref_book.h"

#define BOOK_CHECK_DEFAULT 512u
#define MINIMIZE_SECONDS_DEFAULT 20.0
#define REPORT_MAX_EVENTS 80  /* events listed per side in a report */
#define REPORT_MAX_ORDERS 40  /* orders listed per side of a book in a report */
/* The OrderID a replayed command gets when the order it names was never
 * accepted in the replay (its creator was removed): unknown to both sides. */
#define UNKNOWN_OID (CMDGEN_BOGUS_OID_BASE + 0xFFFFFull)

enum { ENG = 0, REF = 1 };
static const char *const side_name[2] = {"engine", "reference"};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

/* ---- growable text ------------------------------------------------------------ */

typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        size_t room = b->cap - b->n;
        va_list ap;
        va_start(ap, fmt);
        int k = room ? vsnprintf(b->s + b->n, room, fmt, ap) : -1;
        va_end(ap);
        if (k >= 0 && (size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        size_t need = k >= 0 ? b->n + (size_t)k + 1 : b->cap + 256;
        b->cap = need > 2 * b->cap ? need : 2 * b->cap;
        b->s = xrealloc(b->s, b->cap);
    }
}

static void sb_reset(sbuf *b)
{
    b->n = 0;
    if (b->s)
        b->s[0] = '\0';
}

/* ---- event buffers ---------------------------------------------------------------- */

/* Events kept for one command; beyond this a side is taken to be looping
 * (the stream never needs as many) and its extra events are only counted. */
#define MAX_EVENTS_PER_COMMAND 4000000u

typedef struct evbuf {
    dtx_event *ev;
    size_t n, cap;
    uint64_t dropped; /* events beyond MAX_EVENTS_PER_COMMAND */
} evbuf;

static void evbuf_sink(void *ctx, const dtx_event *events, size_t n)
{
    evbuf *b = ctx;
    if (b->n + n > MAX_EVENTS_PER_COMMAND) {
        b->dropped += n;
        return;
    }
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        b->ev = xrealloc(b->ev, cap * sizeof *b->ev);
        b->cap = cap;
    }
    memcpy(b->ev + b->n, events, n * sizeof *events);
    b->n += n;
}

/* ---- OrderID -> ordinal (open addressing; key 0 is empty: no OrderID is 0) -------- */

typedef struct oidmap {
    uint64_t *key, *val;
    size_t cap, n; /* cap a power of two */
} oidmap;

static size_t oid_slot(uint64_t k, size_t mask)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & mask;
}

static uint64_t oidmap_get(const oidmap *m, uint64_t k)
{
    if (k == 0 || m->cap == 0)
        return 0;
    for (size_t i = oid_slot(k, m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->key[i] == k)
            return m->val[i];
        if (m->key[i] == 0)
            return 0;
    }
}

static void oidmap_put(oidmap *m, uint64_t k, uint64_t v)
{
    if (2 * (m->n + 1) > m->cap) {
        oidmap g = {0};
        g.cap = m->cap ? 2 * m->cap : 1024;
        g.key = xcalloc(g.cap, sizeof *g.key);
        g.val = xcalloc(g.cap, sizeof *g.val);
        for (size_t i = 0; i < m->cap; i++)
            if (m->key[i])
                oidmap_put(&g, m->key[i], m->val[i]);
        free(m->key);
        free(m->val);
        *m = g;
    }
    size_t i = oid_slot(k, m->cap - 1);
    while (m->key[i] != 0 && m->key[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (m->key[i] == 0)
        m->n++;
    m->key[i] = k;
    m->val[i] = v;
}

/* ---- one instance of each implementation, driven together ------------------------ */

typedef struct impl {
    evbuf buf;        /* events of the current command, normalised in place */
    oidmap map;       /* own OrderID -> ordinal */
    uint64_t *oid_of; /* ordinal -> own OrderID */
    uint64_t n_ord;   /* ordinals handed out */
} impl;

typedef struct vlist {
    dtx_order_view *v;
    size_t n, cap;
} vlist;

typedef struct pair {
    const cmdgen_setup *setup;
    dtx_engine *eng;
    ref_book *ref;
    impl side[2];
    uint32_t *cmd_ord; /* command index -> ordinal of the order it created, 0 none */
    size_t n_cmds;     /* commands the stream may have (size of cmd_ord) */
    uint64_t corrupt_at;
    int corrupted;
    int strict;
    cmdgen_cmd cur;      /* the command being compared, as generated */
    dtx_command sent[2]; /* ... and as each side got it */
    sbuf why;            /* the first difference, when step() returns 1 */
    vlist views[2];
} pair;

static int pair_init(pair *p, const cmdgen_setup *s, size_t n_cmds, sbuf *err)
{
    memset(p, 0, sizeof *p);
    p->setup = s;
    p->n_cmds = n_cmds;
    p->cmd_ord = xcalloc(n_cmds, sizeof *p->cmd_ord);
    for (int k = 0; k < 2; k++)
        p->side[k].oid_of = xcalloc(n_cmds + 1, sizeof *p->side[k].oid_of);
    dtx_engine_config ce = cmdgen_engine_config(s, evbuf_sink, &p->side[ENG].buf);
    dtx_error_clear();
    p->eng = dtx_engine_create(&ce);
    if (!p->eng) {
        sb_printf(err, "dtx_engine_create failed: %s", dtx_error_message());
        return -1;
    }
    dtx_engine_config cr = cmdgen_engine_config(s, evbuf_sink, &p->side[REF].buf);
    p->ref = ref_book_create(&cr);
    if (!p->ref) {
        sb_printf(err, "ref_book_create failed");
        return -1;
    }
    return 0;
}

static void pair_fini(pair *p)
{
    dtx_engine_destroy(p->eng);
    ref_book_destroy(p->ref);
    for (int k = 0; k < 2; k++) {
        free(p->side[k].buf.ev);
        free(p->side[k].map.key);
        free(p->side[k].map.val);
        free(p->side[k].oid_of);
        free(p->views[k].v);
    }
    free(p->cmd_ord);
    free(p->why.s);
    memset(p, 0, sizeof *p);
}

static uint64_t norm_oid(const impl *s, uint64_t id)
{
    uint64_t o = oidmap_get(&s->map, id);
    return o ? o : id;
}

/* Replaces OrderIDs by ordinals; hands out an ordinal to each NEW. Returns 1
 * (with why) when a NEW reuses an OrderID this side handed out before. */
static int normalise(pair *p, int k)
{
    impl *s = &p->side[k];
    for (size_t i = 0; i < s->buf.n; i++) {
        dtx_event *ev = &s->buf.ev[i];
        if (ev->type == DTX_EV_NEW && ev->order_id != 0) {
            uint64_t old = oidmap_get(&s->map, ev->order_id);
            if (old) {
                sb_printf(&p->why,
                          "event [%zu] NEW: the %s reuses OrderID %" PRIu64
                          " (first given to order #%" PRIu64 ")",
                          i, side_name[k], ev->order_id, old);
                return 1;
            }
            if (s->n_ord < p->n_cmds) {
                s->n_ord++;
                s->oid_of[s->n_ord] = ev->order_id;
                oidmap_put(&s->map, ev->order_id, s->n_ord);
            }
        }
        ev->order_id = norm_oid(s, ev->order_id);
        if (ev->type == DTX_EV_FILL)
            ev->contra_order_id = norm_oid(s, ev->contra_order_id);
    }
    return 0;
}

/* ---- field tables ------------------------------------------------------------------ */

#define T(x) (1u << DTX_EV_##x)
#define ALL_TYPES 0xFFFFFFFFu
#define ORDER_TYPES (T(NEW) | T(FILL) | T(CANCELED) | T(REPLACED) | T(ADDED) | T(TRIGGERED))

typedef struct field {
    const char *name;
    size_t off;
    uint8_t size;
    uint8_t is_signed;
    uint32_t types; /* event types the field is compared on (events only) */
} field;

#define EVF(fname, member, sgn, types)                                                    \
    {fname, offsetof(dtx_event, member), sizeof(((dtx_event *)0)->member), sgn, types}

/* In comparison order: the first difference reported is the first listed. */
static const field ev_fields[] = {
    EVF("type", type, 0, ALL_TYPES),
    EVF("account", account, 0, ALL_TYPES),
    EVF("session", session, 0, ALL_TYPES),
    EVF("security_id", security_id, 0, ALL_TYPES),
    EVF("seq", seq, 0, ALL_TYPES),
    EVF("ts", ts, 0, ALL_TYPES),
    EVF("order_id", order_id, 0, ALL_TYPES),
    EVF("clordid", clordid, 0, ALL_TYPES),
    EVF("side", side, 0, ORDER_TYPES | T(REJECT) | T(MASS_CANCEL_REPORT)),
    EVF("ord_type", ord_type, 0, T(NEW) | T(REJECT) | T(TRIGGERED)),
    EVF("tif", tif, 0, T(NEW)),
    EVF("exec_inst", exec_inst, 0, T(NEW)),
    EVF("stp", stp, 0, T(NEW)),
    EVF("reject_reason", reject_reason, 0, T(REJECT) | T(CANCEL_REJECT) | T(BUSINESS_REJECT)),
    EVF("response_to", response_to, 0, T(CANCEL_REJECT)),
    EVF("ref_cmd_type", ref_cmd_type, 0, T(BUSINESS_REJECT)),
    EVF("cancel_reason", cancel_reason, 0, T(CANCELED)),
    EVF("orig_clordid", orig_clordid, 0, T(CANCELED) | T(REPLACED) | T(CANCEL_REJECT)),
    EVF("contra_order_id", contra_order_id, 0, T(FILL)),
    EVF("contra_account", contra_account, 0, T(FILL)),
    EVF("contra_session", contra_session, 0, T(FILL)),
    EVF("price", price, 1, ORDER_TYPES | T(REJECT)),
    EVF("stop_px", stop_px, 1, T(NEW) | T(TRIGGERED)),
    EVF("order_qty", order_qty, 1, T(NEW) | T(FILL) | T(CANCELED) | T(REPLACED) | T(REJECT)),
    /* NEW and REPLACED carry last_qty only with flag ADDED, and 0 without */
    EVF("last_qty", last_qty, 1, T(NEW) | T(FILL) | T(REPLACED) | T(ADDED)),
    EVF("leaves_qty", leaves_qty, 1, T(NEW) | T(FILL) | T(CANCELED) | T(REPLACED) | T(ADDED)),
    EVF("cum_qty", cum_qty, 1, T(FILL) | T(CANCELED) | T(REPLACED)),
    EVF("trade_id", trade_id, 0, T(FILL)),
    EVF("ord_status", ord_status, 0, T(FILL)),
    EVF("aggressor", aggressor, 0, T(FILL)),
    EVF("total_affected", total_affected, 0, T(MASS_CANCEL_REPORT)),
    EVF("status", status, 0, T(STATUS)),
    EVF("flags", flags, 0, ALL_TYPES),
    EVF("exec_id", exec_id, 0, ALL_TYPES),
};

#define OVF(fname, member, sgn)                                                           \
    {fname, offsetof(dtx_order_view, member), sizeof(((dtx_order_view *)0)->member), sgn, 0}

static const field view_fields[] = {
    OVF("order_id", order_id, 0),     OVF("clordid", clordid, 0),
    OVF("account", account, 0),       OVF("session", session, 0),
    OVF("security_id", security_id, 0), OVF("side", side, 0),
    OVF("ord_type", ord_type, 0),     OVF("tif", tif, 0),
    OVF("exec_inst", exec_inst, 0),   OVF("stp", stp, 0),
    OVF("price", price, 1),           OVF("order_qty", order_qty, 1),
    OVF("leaves_qty", leaves_qty, 1), OVF("cum_qty", cum_qty, 1),
    OVF("shown_qty", shown_qty, 1),   OVF("display_qty", display_qty, 1),
    OVF("stop_px", stop_px, 1),       OVF("pending_stop", pending_stop, 1),
};

static uint64_t field_raw(const void *rec, const field *f)
{
    const unsigned char *p = (const unsigned char *)rec + f->off;
    switch (f->size) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return f->is_signed ? (uint64_t)(int64_t)(int32_t)v : v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static void field_text(const field *f, uint64_t v, char *buf, size_t size)
{
    if (f->is_signed)
        snprintf(buf, size, "%" PRId64, (int64_t)v);
    else
        snprintf(buf, size, "%" PRIu64, v);
}

/* Index of the first differing field of a and b in table t (n entries) for
 * events of type `type` (ALL_TYPES: every entry), or -1. */
static int first_diff(const field *t, size_t n, const void *a, const void *b, unsigned type)
{
    for (size_t i = 0; i < n; i++) {
        if (type < 32 && !(t[i].types & (1u << type)))
            continue;
        if (field_raw(a, &t[i]) != field_raw(b, &t[i]))
            return (int)i;
    }
    return -1;
}

static void describe_diff(sbuf *why, const char *what, const field *f, const void *a, const void *b)
{
    char va[32], vb[32];
    field_text(f, field_raw(a, f), va, sizeof va);
    field_text(f, field_raw(b, f), vb, sizeof vb);
    sb_printf(why, "%s: field %s: engine %s, reference %s", what, f->name, va, vb);
}

/* ---- comparing one command ------------------------------------------------------- */

static int compare_events(pair *p)
{
    const evbuf *a = &p->side[ENG].buf, *b = &p->side[REF].buf;
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        const dtx_event *x = &a->ev[i], *y = &b->ev[i];
        int f = first_diff(ev_fields, sizeof ev_fields / sizeof ev_fields[0], x, y,
                           x->type == y->type && x->type < 32 && !p->strict ? x->type : 32);
        if (f >= 0) {
            char what[64];
            snprintf(what, sizeof what, "event [%zu] %s", i, dtx_event_type_name(y->type));
            describe_diff(&p->why, what, &ev_fields[f], x, y);
            return 1;
        }
    }
    if (a->dropped || b->dropped) {
        sb_printf(&p->why, "runaway command: engine %zu + %" PRIu64 " events, reference %zu + %" PRIu64
                  " (more than %u events: a loop?)", a->n, a->dropped, b->n, b->dropped,
                  MAX_EVENTS_PER_COMMAND);
        return 1;
    }
    if (a->n != b->n) {
        sb_printf(&p->why, "event count: engine %zu, reference %zu (the first %zu agree)", a->n,
                  b->n, n);
        return 1;
    }
    return 0;
}

static int compare_state(pair *p)
{
    dtx_engine_stats st;
    dtx_engine_get_stats(p->eng, &st);
    uint32_t rw = ref_book_working(p->ref);
    if (st.working_orders != rw) {
        sb_printf(&p->why, "working orders: engine %u, reference %u", st.working_orders, rw);
        return 1;
    }
    for (uint32_t i = 0; i < p->setup->n_instruments; i++) {
        uint32_t sec = p->setup->instruments[i].security_id;
        int64_t eb, ea, rb, ra;
        dtx_engine_best(p->eng, sec, &eb, &ea);
        ref_book_best(p->ref, sec, &rb, &ra);
        int64_t el = dtx_engine_last_price(p->eng, sec), rl = ref_book_last_price(p->ref, sec);
        const char *what = eb != rb ? "best bid" : ea != ra ? "best ask" : el != rl ? "last price" : NULL;
        if (what) {
            int64_t ev = eb != rb ? eb : ea != ra ? ea : el, rv = eb != rb ? rb : ea != ra ? ra : rl;
            char s1[32], s2[32];
            sb_printf(&p->why, "%s of instrument %u: engine %s, reference %s", what, (unsigned)sec,
                      evfmt_px(ev, s1, sizeof s1), evfmt_px(rv, s2, sizeof s2));
            return 1;
        }
    }
    return 0;
}

static int collect_view(void *ctx, const dtx_order_view *o)
{
    vlist *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = *o;
    return 0;
}

static void list_views(sbuf *why, const char *who, const vlist *l)
{
    sb_printf(why, "\n    %s (%zu orders):", who, l->n);
    for (size_t i = 0; i < l->n && i < REPORT_MAX_ORDERS; i++) {
        char line[512];
        evfmt_order(&l->v[i], line, sizeof line);
        sb_printf(why, "\n      [%zu] %s", i, line);
    }
    if (l->n > REPORT_MAX_ORDERS)
        sb_printf(why, "\n      ...");
}

static int compare_books(pair *p)
{
    const size_t nf = sizeof view_fields / sizeof view_fields[0];
    for (uint32_t i = 0; i < p->setup->n_instruments; i++) {
        uint32_t sec = p->setup->instruments[i].security_id;
        for (uint8_t side = DTX_SIDE_BUY; side <= DTX_SIDE_SELL; side++) {
            vlist *a = &p->views[ENG], *b = &p->views[REF];
            a->n = b->n = 0;
            dtx_engine_visit_book(p->eng, sec, side, collect_view, a);
            ref_book_visit(p->ref, sec, side, collect_view, b);
            for (size_t k = 0; k < a->n; k++)
                a->v[k].order_id = norm_oid(&p->side[ENG], a->v[k].order_id);
            for (size_t k = 0; k < b->n; k++)
                b->v[k].order_id = norm_oid(&p->side[REF], b->v[k].order_id);
            size_t n = a->n < b->n ? a->n : b->n;
            for (size_t k = 0; k <= n; k++) {
                char what[96];
                int f = -1;
                if (k < n)
                    f = first_diff(view_fields, nf, &a->v[k], &b->v[k], 32);
                else if (a->n == b->n)
                    break;
                snprintf(what, sizeof what, "book of instrument %u, %s side, order [%zu]",
                         (unsigned)sec, side == DTX_SIDE_BUY ? "bid" : "ask", k);
                if (f >= 0)
                    describe_diff(&p->why, what, &view_fields[f], &a->v[k], &b->v[k]);
                else if (k == n)
                    sb_printf(&p->why, "%s: engine has %zu resting orders, reference %zu", what,
                              a->n, b->n);
                else
                    continue;
                list_views(&p->why, "engine", a);
                list_views(&p->why, "reference", b);
                return 1;
            }
            /* pending stops: the reference's, each looked up in the engine */
            b->n = 0;
            ref_book_visit_stops(p->ref, sec, side, collect_view, b);
            for (size_t k = 0; k < b->n; k++) {
                uint64_t ord = oidmap_get(&p->side[REF].map, b->v[k].order_id);
                uint64_t eid = ord ? p->side[ENG].oid_of[ord] : 0;
                dtx_order_view ev;
                memset(&ev, 0, sizeof ev);
                b->v[k].order_id = ord;
                char what[96];
                snprintf(what, sizeof what, "pending stop %s of instrument %u, order #%" PRIu64,
                         side == DTX_SIDE_BUY ? "buy" : "sell", (unsigned)sec, ord);
                if (!eid || !dtx_engine_find_order(p->eng, eid, &ev)) {
                    char line[512];
                    evfmt_order(&b->v[k], line, sizeof line);
                    sb_printf(&p->why, "%s: not a working order of the engine\n    reference: %s",
                              what, line);
                    return 1;
                }
                ev.order_id = norm_oid(&p->side[ENG], ev.order_id);
                int f = first_diff(view_fields, nf, &ev, &b->v[k], 32);
                if (f >= 0) {
                    char l1[512], l2[512];
                    describe_diff(&p->why, what, &view_fields[f], &ev, &b->v[k]);
                    evfmt_order(&ev, l1, sizeof l1);
                    evfmt_order(&b->v[k], l2, sizeof l2);
                    sb_printf(&p->why, "\n    engine:    %s\n    reference: %s", l1, l2);
                    return 1;
                }
            }
        }
    }
    return 0;
}

/*
 * Runs command number idx (0-based, of the original stream) on both sides and
 * compares. Returns 0 when they agree, 1 on a difference (described in
 * p->why; the events stay in p->side[].buf for the report).
 */
static int pair_step(pair *p, size_t idx, const cmdgen_cmd *cc, int check_books)
{
    p->cur = *cc;
    p->sent[ENG] = p->sent[REF] = cc->cmd;
    if (cc->oid_ref >= 0) {
        uint32_t ord = (size_t)cc->oid_ref < p->n_cmds ? p->cmd_ord[cc->oid_ref] : 0;
        p->sent[ENG].order_id = ord ? p->side[ENG].oid_of[ord] : UNKNOWN_OID;
        p->sent[REF].order_id = ord ? p->side[REF].oid_of[ord] : UNKNOWN_OID;
    }
    for (int k = 0; k < 2; k++)
        p->side[k].buf.n = 0, p->side[k].buf.dropped = 0;
    sb_reset(&p->why);
    dtx_engine_submit(p->eng, &p->sent[ENG]);
    ref_book_submit(p->ref, &p->sent[REF]);

    if (p->corrupt_at && !p->corrupted && idx + 1 >= p->corrupt_at && p->side[ENG].buf.n) {
        p->side[ENG].buf.ev[0].clordid ^= 1; /* the harness's self-test */
        p->corrupted = 1;
    }
    if (normalise(p, ENG) || normalise(p, REF))
        return 1;
    for (size_t i = 0; i < p->side[REF].buf.n; i++) {
        if (p->side[REF].buf.ev[i].type == DTX_EV_NEW && idx < p->n_cmds) {
            p->cmd_ord[idx] = (uint32_t)p->side[REF].buf.ev[i].order_id;
            break;
        }
    }
    if (compare_events(p) || compare_state(p))
        return 1;
    return check_books ? compare_books(p) : 0;
}

/* ---- reports ----------------------------------------------------------------------- */

static void print_setup(FILE *out, const cmdgen_setup *s)
{
    fprintf(out, "  setup: profile %u (%s), max_orders %u, max_timed %u, max_stops %u, max_icebergs %u, "
                 "day_offset_ns %" PRIu64 ", instruments",
            s->profile, s->profile_name, s->max_orders, s->max_timed, s->max_stops, s->max_icebergs,
            s->day_offset_ns);
    for (uint32_t i = 0; i < s->n_instruments; i++)
        fprintf(out, " %u(%s)", (unsigned)s->instruments[i].security_id, s->instruments[i].symbol);
    fprintf(out, "\n");
}

static void print_events(FILE *out, const char *who, const evbuf *b)
{
    fprintf(out, "  %s events (%zu; OrderIDs as ordinals):\n", who, b->n);
    if (b->n == 0)
        fprintf(out, "    (none)\n");
    for (size_t i = 0; i < b->n && i < REPORT_MAX_EVENTS; i++) {
        char line[512];
        evfmt_event(&b->ev[i], line, sizeof line);
        fprintf(out, "    [%zu] %s\n", i, line);
    }
    if (b->n > REPORT_MAX_EVENTS)
        fprintf(out, "    ... %zu more\n", b->n - REPORT_MAX_EVENTS);
}

static void print_command(FILE *out, const pair *p, const char *indent)
{
    char line[768];
    evfmt_command(&p->sent[REF], line, sizeof line);
    fprintf(out, "%s%s\n", indent, line);
    if (p->cur.oid_ref >= 0)
        fprintf(out, "%s(names the order accepted by command #%" PRId64 ": engine OrderID %" PRIu64
                     ", reference OrderID %" PRIu64 ")\n",
                indent, p->cur.oid_ref, p->sent[ENG].order_id, p->sent[REF].order_id);
}

static void report(FILE *out, const pair *p, const char *title, uint64_t seed, uint64_t idx)
{
    fprintf(out, "difftest: MISMATCH%s seed=%" PRIu64 " (0x%" PRIx64 ") at command #%" PRIu64
                 " (0-based; seq %" PRIu64 ")\n",
            title, seed, seed, idx, p->sent[REF].seq);
    print_setup(out, p->setup);
    fprintf(out, "  command:\n");
    print_command(out, p, "    ");
    fprintf(out, "  first difference: %s\n", p->why.s ? p->why.s : "?");
    print_events(out, "engine", &p->side[ENG].buf);
    print_events(out, "reference", &p->side[REF].buf);
    fflush(out);
}

/* ---- coverage ------------------------------------------------------------------------ */

static void count_events(difftest_stats *st, const evbuf *b)
{
    st->commands++;
    st->events += b->n;
    for (size_t i = 0; i < b->n; i++) {
        const dtx_event *ev = &b->ev[i];
        if (ev->type < DTX_EV_TYPE_COUNT)
            st->by_event[ev->type]++;
        switch (ev->type) {
        case DTX_EV_REJECT:
        case DTX_EV_CANCEL_REJECT:
        case DTX_EV_BUSINESS_REJECT:
            if (ev->reject_reason <= DTX_REJ_MAX)
                st->by_reject[ev->reject_reason]++;
            break;
        case DTX_EV_CANCELED:
            if (ev->cancel_reason <= DTX_CANCEL_INSTRUMENT_HALTED)
                st->by_cancel[ev->cancel_reason]++;
            break;
        case DTX_EV_ADDED:
            st->refills += (ev->flags & DTX_EVF_REFILL) != 0;
            break;
        case DTX_EV_NEW:
            st->added_in_report += (ev->flags & DTX_EVF_ADDED) != 0;
            break;
        case DTX_EV_REPLACED:
            st->added_in_report += (ev->flags & DTX_EVF_ADDED) != 0;
            st->self_trade_replaced += (ev->flags & DTX_EVF_SELF_TRADE) != 0;
            st->priority_kept += (ev->flags & DTX_EVF_PRIORITY_KEPT) != 0;
            break;
        default:
            break;
        }
    }
}

void difftest_stats_add(difftest_stats *a, const difftest_stats *b)
{
    a->commands += b->commands;
    a->events += b->events;
    for (size_t i = 0; i < DTX_EV_TYPE_COUNT; i++)
        a->by_event[i] += b->by_event[i];
    for (size_t i = 0; i <= DTX_REJ_MAX; i++)
        a->by_reject[i] += b->by_reject[i];
    for (size_t i = 0; i <= DTX_CANCEL_INSTRUMENT_HALTED; i++)
        a->by_cancel[i] += b->by_cancel[i];
    a->refills += b->refills;
    a->added_in_report += b->added_in_report;
    a->self_trade_replaced += b->self_trade_replaced;
    a->priority_kept += b->priority_kept;
}

void difftest_stats_print(FILE *f, const difftest_stats *s)
{
    fprintf(f, "coverage: %" PRIu64 " commands, %" PRIu64 " events (reference);", s->commands,
            s->events);
    fprintf(f, "\n  events:");
    for (unsigned i = 1; i < DTX_EV_TYPE_COUNT; i++)
        fprintf(f, " %s %" PRIu64 "%s", dtx_event_type_name(i), s->by_event[i],
                i + 1 < DTX_EV_TYPE_COUNT ? "," : ";");
    fprintf(f, "\n  reject reasons:");
    for (unsigned i = 1; i <= DTX_REJ_MAX; i++)
        fprintf(f, " %s %" PRIu64 "%s", dtx_reject_reason_name(i), s->by_reject[i],
                i < DTX_REJ_MAX ? "," : ";");
    fprintf(f, "\n  cancel reasons:");
    for (unsigned i = 0; i <= DTX_CANCEL_INSTRUMENT_HALTED; i++)
        fprintf(f, " %s %" PRIu64 "%s", dtx_cancel_reason_name(i), s->by_cancel[i],
                i < DTX_CANCEL_INSTRUMENT_HALTED ? "," : ";");
    fprintf(f, "\n  iceberg refills %" PRIu64 ", self-trade decrements %" PRIu64
               ", replaces keeping priority %" PRIu64 ", rests reported by NEW/REPLACED %" PRIu64 ".\n",
            s->refills, s->self_trade_replaced, s->priority_kept, s->added_in_report);
}

int difftest_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *p = hex ? s + 2 : s;
    if (!*p)
        return -1;
    uint64_t v = 0;
    for (; *p; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (hex && *p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else if (hex && *p >= 'A' && *p <= 'F')
            d = (unsigned)(*p - 'A' + 10);
        else
            return -1;
        unsigned base = hex ? 16 : 10;
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

/* ---- shrinking ------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/*
 * Replays the kept commands of cmds[0..n) on fresh instances. Returns 1 when
 * they disagree (index of the failing command in *fail_at; the report printed
 * to out when out is not NULL), 0 when they agree, -1 on a creation failure.
 */
static int replay(const difftest_opts *o, const cmdgen_setup *s, const cmdgen_cmd *cmds,
                  const uint8_t *keep, size_t n, unsigned every, size_t *fail_at, FILE *out)
{
    pair p;
    sbuf err = {0};
    if (pair_init(&p, s, n, &err) != 0) {
        free(err.s);
        pair_fini(&p);
        return -1;
    }
    p.corrupt_at = o->corrupt_at;
    p.strict = o->strict;
    size_t last = n;
    while (last > 0 && !keep[last - 1])
        last--;
    size_t done = 0;
    int rc = 0;
    for (size_t i = 0; i < last; i++) {
        if (!keep[i])
            continue;
        done++;
        if (pair_step(&p, i, &cmds[i], done % every == 0 || i + 1 == last)) {
            *fail_at = i;
            if (out)
                report(out, &p, " (minimized replay)", o->seed, i);
            rc = 1;
            break;
        }
    }
    pair_fini(&p);
    return rc;
}

static void minimize(const difftest_opts *o, uint64_t fail_idx, unsigned every, FILE *out)
{
    double t0 = now_s();
    double budget = o->minimize_seconds > 0 ? o->minimize_seconds : MINIMIZE_SECONDS_DEFAULT;
    size_t n = (size_t)fail_idx + 1;

    /* the failing prefix again: same seed, same reference events, same stream */
    cmdgen *g = cmdgen_create(o->seed);
    const cmdgen_setup *s = cmdgen_get_setup(g);
    cmdgen_cmd *cmds = xcalloc(n, sizeof *cmds);
    uint8_t *keep = xcalloc(n, 1);
    pair p;
    sbuf err = {0};
    if (pair_init(&p, s, n, &err) != 0) {
        fprintf(out, "difftest: minimize: %s\n", err.s);
        pair_fini(&p);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        cmdgen_next(g, &cmds[i]);
        keep[i] = 1;
        pair_step(&p, i, &cmds[i], 0);
        cmdgen_observe(g, p.side[REF].buf.ev, p.side[REF].buf.n);
    }
    pair_fini(&p);

    size_t fail_at = 0, live = n;
    if (replay(o, s, cmds, keep, n, every, &fail_at, NULL) != 1) {
        fprintf(out, "difftest: minimize: the %zu-command prefix does not fail when replayed "
                     "(a book-check difference that the replay's check periods miss?)\n", n);
        goto done;
    }
    for (size_t i = fail_at + 1; i < n; i++)
        live -= keep[i], keep[i] = 0;

    uint8_t *trial = xcalloc(n, 1);
    size_t chunk = live / 2 ? live / 2 : 1;
    int timed_out = 0;
    while (!timed_out) {
        int progress = 0;
        /* chunks of `chunk` live commands, from the end backwards (late
         * commands go first: the failing command is usually among the last) */
        size_t end = n;
        while (end > 0 && !timed_out) {
            size_t start = end, k = 0;
            while (start > 0 && k < chunk) {
                start--;
                k += keep[start];
            }
            if (k == 0 || k == live)
                break;
            memcpy(trial, keep, n);
            for (size_t i = start; i < end; i++)
                trial[i] = 0;
            size_t f = 0;
            if (replay(o, s, cmds, trial, n, every, &f, NULL) == 1) {
                for (size_t i = f + 1; i < n; i++)
                    trial[i] = 0;
                memcpy(keep, trial, n);
                live = 0;
                for (size_t i = 0; i < n; i++)
                    live += keep[i];
                progress = 1;
                if (end > f + 1)
                    end = f + 1;
            } else {
                end = start;
            }
            timed_out = now_s() - t0 > budget;
        }
        if (!progress) {
            if (chunk == 1)
                break;
            chunk /= 2;
        }
    }
    free(trial);

    fprintf(out, "difftest: minimized seed %" PRIu64 " from %zu to %zu commands in %.1f s%s; "
                 "as dtx-replay text (OrderIDs as the engine assigns them on this replay):\n",
            o->seed, n, live, now_s() - t0, timed_out ? " (time budget spent)" : "");
    /* print the kept commands with the engine's OrderIDs of this replay */
    if (pair_init(&p, s, n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (!keep[i])
                continue;
            pair_step(&p, i, &cmds[i], 0);
            char line[DTX_CMDTEXT_LINE_CAP];
            if (dtx_cmdtext_format(&p.sent[ENG], line, sizeof line) < 0)
                evfmt_command(&p.sent[ENG], line, sizeof line);
            fprintf(out, "  %s    # #%zu%s\n", line, i,
                    cmds[i].oid_ref >= 0 ? " (names an order by OrderID)" : "");
        }
    }
    pair_fini(&p);
    replay(o, s, cmds, keep, n, every, &fail_at, out);

done:
    free(err.s);
    free(cmds);
    free(keep);
    cmdgen_destroy(g);
}

/* ---- one run ------------------------------------------------------------------------------ */

int difftest_run(const difftest_opts *opts, difftest_stats *stats)
{
    FILE *out = opts->out ? opts->out : stderr;
    unsigned every = opts->book_check_every ? opts->book_check_every : BOOK_CHECK_DEFAULT;
    cmdgen *g = cmdgen_create(opts->seed);
    const cmdgen_setup *s = cmdgen_get_setup(g);
    difftest_stats local;
    memset(&local, 0, sizeof local);
    pair p;
    sbuf err = {0};
    int rc = 0;
    uint64_t fail_idx = 0;

    if (pair_init(&p, s, (size_t)opts->n_commands, &err) != 0) {
        fprintf(out, "difftest: seed %" PRIu64 ": %s\n", opts->seed, err.s);
        print_setup(out, s);
        rc = -1;
        goto done;
    }
    p.corrupt_at = opts->corrupt_at;
    p.strict = opts->strict;
    for (uint64_t i = 0; i < opts->n_commands; i++) {
        cmdgen_cmd cc;
        cmdgen_next(g, &cc);
        if (opts->trace) {
            char line[768];
            evfmt_command(&cc.cmd, line, sizeof line);
            fprintf(out, "#%" PRIu64 " %s oid_ref=%" PRId64 "\n", i, line, cc.oid_ref);
        }
        int check = (i + 1) % every == 0 || i + 1 == opts->n_commands;
        if (pair_step(&p, (size_t)i, &cc, check)) {
            report(out, &p, "", opts->seed, i);
            fprintf(out, "  reproduce: difftest-long --seed %" PRIu64 " --commands %" PRIu64
                         " --minimize\n",
                    opts->seed, i + 1);
            rc = 1;
            fail_idx = i;
            break;
        }
        count_events(&local, &p.side[REF].buf);
        cmdgen_observe(g, p.side[REF].buf.ev, p.side[REF].buf.n);
        if (opts->progress && opts->progress_every && (i + 1) % opts->progress_every == 0)
            opts->progress(opts->progress_ctx, i + 1);
    }

done:
    pair_fini(&p);
    free(err.s);
    if (rc == 1 && opts->minimize)
        minimize(opts, fail_idx, every, out);
    cmdgen_destroy(g);
    if (stats)
        difftest_stats_add(stats, &local);
    return rc;
}
