/*
 * ref_book_store.c - the reference book's order store and what it reports:
 * the instruments, the book sides and stop queues (sorted lists), the array of
 * working orders and the lookups over it, the event records, and the public
 * queries (best, last price, visits) with create and destroy.
 *
 * Nothing here decides an outcome: the rules of docs/order-semantics.md
 * (checks, matching, stops, replace, mass cancel, expiry) are in ref_book.c,
 * which calls these. The structures are described in ref_book_internal.h.
 */
#include "support/ref_book_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- small helpers --------------------------------------------------------- */

rb_inst *rb_inst_find(const ref_book *b, uint32_t security_id)
{
    if (security_id == 0)
        return NULL;
    for (uint32_t i = 0; i < b->n_inst; i++)
        if (b->inst[i].cfg.security_id == security_id)
            return &b->inst[i];
    return NULL;
}

void *rb_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        abort(); /* a test helper: running out of memory is fatal */
    return q;
}

/* ---- events ---------------------------------------------------------------- */

/* A zeroed record with the header of the command being processed. */
dtx_event *rb_ev_push(ref_book *b, uint8_t type)
{
    if (b->n_ev == b->cap_ev) {
        b->cap_ev = b->cap_ev ? b->cap_ev * 2 : 64;
        b->ev = rb_xrealloc(b->ev, b->cap_ev * sizeof *b->ev);
    }
    dtx_event *e = &b->ev[b->n_ev++];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->seq = b->cmd->seq;
    e->ts = b->cmd->ts;
    e->exec_id = ++b->last_exec_id;
    return e;
}

/* An event about an order: owner, instrument, identity, side/type/tif. */
dtx_event *rb_ev_order(ref_book *b, uint8_t type, const rb_order *o)
{
    dtx_event *e = rb_ev_push(b, type);
    e->side = o->side;
    e->ord_type = o->ord_type;
    e->tif = o->tif;
    e->session = o->session;
    e->account = o->account;
    e->security_id = inst_of(b, o)->cfg.security_id;
    e->order_id = o->id;
    e->clordid = o->clordid;
    return e;
}

/* A response to the command itself (reject, mass cancel report...). */
dtx_event *rb_ev_cmd(ref_book *b, uint8_t type)
{
    const dtx_command *c = b->cmd;
    dtx_event *e = rb_ev_push(b, type);
    e->session = c->session;
    e->account = c->account;
    e->security_id = c->security_id;
    e->clordid = c->clordid;
    return e;
}

void rb_emit_reject(ref_book *b, uint16_t reason)
{
    const dtx_command *c = b->cmd;
    dtx_event *e = rb_ev_cmd(b, DTX_EV_REJECT);
    e->reject_reason = reason;
    e->side = c->side;
    e->ord_type = c->ord_type;
    e->price = c->price;
    e->order_qty = c->qty;
}

void rb_emit_cancel_reject(ref_book *b, uint16_t reason, uint8_t response_to)
{
    const dtx_command *c = b->cmd;
    dtx_event *e = rb_ev_cmd(b, DTX_EV_CANCEL_REJECT);
    e->reject_reason = reason;
    e->response_to = response_to;
    e->orig_clordid = c->orig_clordid;
    e->order_id = c->order_id;
}

void rb_emit_business_reject(ref_book *b, uint16_t reason)
{
    dtx_event *e = rb_ev_cmd(b, DTX_EV_BUSINESS_REJECT);
    e->reject_reason = reason;
    e->ref_cmd_type = (uint8_t)b->cmd->type;
}

/* CANCELED: qty is the quantity canceled (leaves_qty of the report). */
void rb_emit_canceled(ref_book *b, const rb_order *o, uint8_t reason, uint64_t clordid,
                      uint64_t orig_clordid, int64_t qty, uint8_t flags)
{
    dtx_event *e = rb_ev_order(b, DTX_EV_CANCELED, o);
    e->clordid = clordid;
    e->cancel_reason = reason;
    e->orig_clordid = orig_clordid;
    e->cum_qty = o->cum;
    e->leaves_qty = qty;
    e->price = o->price;
    e->order_qty = o->order_qty;
    e->flags = flags;
}

void rb_emit_replaced(ref_book *b, const rb_order *o, uint64_t orig_clordid, uint8_t flags)
{
    dtx_event *e = rb_ev_order(b, DTX_EV_REPLACED, o);
    e->orig_clordid = orig_clordid;
    e->price = o->price;
    e->order_qty = o->order_qty;
    e->leaves_qty = o->leaves;
    e->cum_qty = o->cum;
    e->flags = flags;
}

void rb_emit_added(ref_book *b, const rb_order *o, uint8_t flags)
{
    dtx_event *e = rb_ev_order(b, DTX_EV_ADDED, o);
    e->price = o->price;
    e->last_qty = o->shown;
    e->leaves_qty = o->leaves;
    e->flags = flags;
}

void rb_emit_fill(ref_book *b, const rb_order *o, const rb_order *contra, int64_t px,
                  int64_t qty, uint64_t trade_id, uint8_t aggressor)
{
    dtx_event *e = rb_ev_order(b, DTX_EV_FILL, o);
    e->price = px;
    e->last_qty = qty;
    e->leaves_qty = o->leaves;
    e->cum_qty = o->cum;
    e->order_qty = o->order_qty;
    e->trade_id = trade_id;
    e->ord_status = o->leaves == 0 ? DTX_STATUS_FILLED : DTX_STATUS_PARTIALLY_FILLED;
    e->aggressor = aggressor;
    e->contra_account = contra->account;
    e->contra_session = contra->session;
    e->contra_order_id = contra->id;
}

/* ---- lists ------------------------------------------------------------------ */

/* 1 when a goes before b in book side s (price, then time priority). */
static int book_before(const rb_order *a, const rb_order *b2, int s)
{
    if (a->price != b2->price)
        return s == 0 ? a->price > b2->price : a->price < b2->price;
    return a->prio < b2->prio;
}

/* 1 when a triggers before b in stop queue s. */
static int stop_before(const rb_order *a, const rb_order *b2, int s)
{
    if (a->stop_px != b2->stop_px)
        return s == 0 ? a->stop_px < b2->stop_px : a->stop_px > b2->stop_px;
    return a->accept_no < b2->accept_no;
}

static void list_insert(rb_order **head, rb_order *o, int s,
                        int (*before)(const rb_order *, const rb_order *, int))
{
    rb_order **p = head;
    while (*p && !before(o, *p, s))
        p = &(*p)->next;
    o->next = *p;
    *p = o;
}

static void list_remove(rb_order **head, rb_order *o)
{
    for (rb_order **p = head; *p; p = &(*p)->next) {
        if (*p == o) {
            *p = o->next;
            o->next = NULL;
            return;
        }
    }
    abort(); /* not in the list: a bug of this file */
}

static void work_add(ref_book *b, rb_order *o)
{
    if (b->n_work == b->cap_work) {
        b->cap_work = b->cap_work ? b->cap_work * 2 : 64;
        b->work = rb_xrealloc(b->work, b->cap_work * sizeof *b->work);
    }
    o->work_idx = b->n_work;
    b->work[b->n_work++] = o;
}

static void work_remove(ref_book *b, rb_order *o)
{
    size_t i = o->work_idx;
    b->work[i] = b->work[--b->n_work];
    b->work[i]->work_idx = i;
}

/* Puts o at the back of its level (a new priority stamp). */
void rb_book_place(ref_book *b, rb_order *o)
{
    rb_inst *in = inst_of(b, o);
    o->prio = ++b->last_prio;
    list_insert(&in->book[sidx(o->side)], o, sidx(o->side), book_before);
    o->at = AT_BOOK;
    work_add(b, o);
}

void rb_stop_place(ref_book *b, rb_order *o)
{
    rb_inst *in = inst_of(b, o);
    list_insert(&in->stops[sidx(o->side)], o, sidx(o->side), stop_before);
    o->at = AT_STOP;
    work_add(b, o);
}

/* Takes o out of its book side or stop queue; it is no longer working. */
void rb_unplace(ref_book *b, rb_order *o)
{
    rb_inst *in = inst_of(b, o);
    if (o->at == AT_BOOK)
        list_remove(&in->book[sidx(o->side)], o);
    else if (o->at == AT_STOP)
        list_remove(&in->stops[sidx(o->side)], o);
    else
        return;
    work_remove(b, o);
    o->at = AT_NONE;
}

/* Unsolicited cancel of a working order (all of it): reports and frees it. */
void rb_cancel_working(ref_book *b, rb_order *o, uint8_t reason)
{
    uint8_t flags = o->at == AT_BOOK ? DTX_EVF_ON_BOOK : 0;
    rb_unplace(b, o);
    rb_emit_canceled(b, o, reason, o->clordid, 0, o->leaves, flags);
    free(o);
}

/* Unsolicited cancel of an order being processed (not on the book). */
void rb_cancel_processing(ref_book *b, rb_order *o, uint8_t reason)
{
    rb_emit_canceled(b, o, reason, o->clordid, 0, o->leaves, 0);
    free(o);
}

/* ---- lookups ------------------------------------------------------------------ */

rb_order *rb_work_find_clordid(const ref_book *b, uint32_t account, uint64_t clordid)
{
    for (size_t i = 0; i < b->n_work; i++)
        if (b->work[i]->account == account && b->work[i]->clordid == clordid)
            return b->work[i];
    return NULL;
}

static rb_order *work_find_id(const ref_book *b, uint64_t id)
{
    for (size_t i = 0; i < b->n_work; i++)
        if (b->work[i]->id == id)
            return b->work[i];
    return NULL;
}

/*
 * "The order is named by order_id when non-zero, else by (account,
 * orig_clordid); it must be a working order of the command's account, and
 * security_id and side, when non-zero, must match."
 */
rb_order *rb_find_named(const ref_book *b, const dtx_command *c)
{
    rb_order *o = c->order_id != 0 ? work_find_id(b, c->order_id)
                                   : rb_work_find_clordid(b, c->account, c->orig_clordid);
    if (!o || o->account != c->account)
        return NULL;
    if (c->security_id != 0 && inst_of(b, o)->cfg.security_id != c->security_id)
        return NULL;
    if (c->side != 0 && o->side != c->side)
        return NULL;
    return o;
}

uint32_t rb_count_stops(const rb_inst *in, int s)
{
    uint32_t n = 0;
    for (const rb_order *o = in->stops[s]; o; o = o->next)
        n++;
    return n;
}

/* Working icebergs (DisplayQty > 0), resting or pending stops. */
uint32_t rb_count_icebergs(const ref_book *b)
{
    uint32_t n = 0;
    for (size_t i = 0; i < b->n_work; i++)
        if (b->work[i]->display != 0)
            n++;
    return n;
}

uint32_t rb_count_timed(const ref_book *b)
{
    uint32_t n = 0;
    for (size_t i = 0; i < b->n_work; i++)
        if (is_timed(b->work[i]->tif))
            n++;
    return n;
}

/*
 * Working orders in the page's mass-cancel order: instruments in configuration
 * order; within one, resting bids (best level first, time priority), resting
 * asks likewise, pending buy stops, pending sell stops (trigger order).
 * Returns a malloc'd array of the orders that pass keep(), count in *n.
 */
rb_order **rb_collect(const ref_book *b, int (*keep)(const rb_order *, const void *),
                      const void *arg, size_t *n)
{
    rb_order **v = NULL;
    size_t cnt = 0, cap = 0;
    for (uint32_t i = 0; i < b->n_inst; i++) {
        const rb_inst *in = &b->inst[i];
        rb_order *const heads[4] = {in->book[0], in->book[1], in->stops[0], in->stops[1]};
        for (int h = 0; h < 4; h++) {
            for (rb_order *o = heads[h]; o; o = o->next) {
                if (!keep(o, arg))
                    continue;
                if (cnt == cap) {
                    cap = cap ? cap * 2 : 16;
                    v = rb_xrealloc(v, cap * sizeof *v);
                }
                v[cnt++] = o;
            }
        }
    }
    *n = cnt;
    return v;
}

/* ---- create and destroy ------------------------------------------------------------- */

ref_book *ref_book_create(const dtx_engine_config *cfg)
{
    if (!cfg || !cfg->sink || !cfg->instruments || cfg->n_instruments == 0)
        return NULL;
    ref_book *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->inst = calloc(cfg->n_instruments, sizeof *b->inst);
    if (!b->inst) {
        free(b);
        return NULL;
    }
    b->n_inst = cfg->n_instruments;
    for (uint32_t i = 0; i < b->n_inst; i++) {
        b->inst[i].cfg = cfg->instruments[i];
        b->inst[i].status = DTX_TRADING_OPEN;
        b->inst[i].last_px = PX_NULL;
    }
    b->max_orders = cfg->max_orders;
    b->max_timed = cfg->max_timed;
    b->max_stops = cfg->max_stops;
    b->max_icebergs = cfg->max_icebergs ? cfg->max_icebergs : cfg->max_orders / 16 + 1;
    b->day_offset = cfg->day_offset_ns % DAY_NS;
    b->sink = cfg->sink;
    b->sink_ctx = cfg->sink_ctx;
    return b;
}

void ref_book_destroy(ref_book *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_work; i++)
        free(b->work[i]);
    free(b->work);
    free(b->inst);
    free(b->ev);
    free(b);
}

/* ---- queries ---------------------------------------------------------------------- */

uint32_t ref_book_working(const ref_book *b) { return (uint32_t)b->n_work; }

void ref_book_best(const ref_book *b, uint32_t security_id, int64_t *bid, int64_t *ask)
{
    const rb_inst *in = rb_inst_find(b, security_id);
    *bid = in && in->book[0] ? in->book[0]->price : PX_NULL;
    *ask = in && in->book[1] ? in->book[1]->price : PX_NULL;
}

int64_t ref_book_last_price(const ref_book *b, uint32_t security_id)
{
    const rb_inst *in = rb_inst_find(b, security_id);
    return in ? in->last_px : PX_NULL;
}

static void fill_view(const ref_book *b, const rb_order *o, dtx_order_view *v)
{
    memset(v, 0, sizeof *v);
    v->order_id = o->id;
    v->clordid = o->clordid;
    v->account = o->account;
    v->session = o->session;
    v->security_id = inst_of(b, o)->cfg.security_id;
    v->side = o->side;
    v->ord_type = o->ord_type;
    v->tif = o->tif;
    v->exec_inst = o->exec_inst;
    v->stp = o->stp;
    v->price = o->price;
    v->order_qty = o->order_qty;
    v->leaves_qty = o->leaves;
    v->cum_qty = o->cum;
    v->shown_qty = o->at == AT_BOOK ? o->shown : 0;
    v->display_qty = o->display;
    v->stop_px = o->at == AT_STOP ? o->stop_px : PX_NULL;
    v->pending_stop = o->at == AT_STOP;
}

static void visit_list(const ref_book *b, const rb_order *head, dtx_order_visit_fn fn, void *ctx)
{
    for (const rb_order *o = head; o; o = o->next) {
        dtx_order_view v;
        fill_view(b, o, &v);
        if (fn(ctx, &v))
            return;
    }
}

void ref_book_visit(const ref_book *b, uint32_t security_id, uint8_t side,
                    dtx_order_visit_fn fn, void *ctx)
{
    const rb_inst *in = rb_inst_find(b, security_id);
    if (in && (side == DTX_SIDE_BUY || side == DTX_SIDE_SELL))
        visit_list(b, in->book[sidx(side)], fn, ctx);
}

void ref_book_visit_stops(const ref_book *b, uint32_t security_id, uint8_t side,
                          dtx_order_visit_fn fn, void *ctx)
{
    const rb_inst *in = rb_inst_find(b, security_id);
    if (in && (side == DTX_SIDE_BUY || side == DTX_SIDE_SELL))
        visit_list(b, in->stops[sidx(side)], fn, ctx);
}
