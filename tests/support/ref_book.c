/*
 * ref_book.c - the reference order book of the differential test.
 *
 * Written from docs/order-semantics.md only. Each section below follows one
 * section of that page, in its order; comments quote the rule they implement:
 * prices and FOK, matching and self-trade prevention, stops, NewOrderSingle,
 * cancel, cancel-replace, mass cancel, Time, status and disconnect, and
 * ref_book_submit, which dispatches a command to them.
 *
 * The order store they work on (book sides, stop queues, working orders,
 * lookups, event records, the public queries) is in ref_book_store.c; the
 * structures and what the two files share are in ref_book_internal.h.
 */
#include "support/ref_book_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- prices ------------------------------------------------------------------- */

/* Best opposite price for an order of side `side`, PX_NULL when empty. */
static int64_t best_opposite(const rb_inst *in, uint8_t side)
{
    const rb_order *h = in->book[1 - sidx(side)];
    return h ? h->price : PX_NULL;
}

/*
 * "For a Market order the limit is the best opposite price at arrival ±
 * market_band_ticks (buy +, sell −), clamped to the instrument's range."
 * Worked in ticks from min_price so that nothing overflows.
 */
static int64_t market_limit(const rb_inst *in, uint8_t side, int64_t best)
{
    const dtx_instrument_config *c = &in->cfg;
    int64_t top = (c->max_price - c->min_price) / c->tick_size;
    int64_t t = (best - c->min_price) / c->tick_size;
    int64_t band = (int64_t)c->market_band_ticks;
    t = side == DTX_SIDE_BUY ? t + band : t - band;
    if (t > top)
        t = top;
    if (t < 0)
        t = 0;
    return c->min_price + t * c->tick_size;
}

static int within_limit(uint8_t side, int64_t level_px, int64_t limit)
{
    return side == DTX_SIDE_BUY ? level_px <= limit : level_px >= limit;
}

/*
 * FOK: "walking the opposite side level by level within the limit: in each
 * level, in time priority, it counts the displayed quantity of other accounts'
 * orders; an order of the FOK's own account met before the quantity is reached
 * makes it not fillable; after the level's queue, the hidden quantity of that
 * level's icebergs counts too."
 */
static int fok_fillable(const rb_inst *in, const rb_order *o, int64_t limit)
{
    int64_t need = o->leaves, have = 0;
    const rb_order *r = in->book[1 - sidx(o->side)];
    while (r && within_limit(o->side, r->price, limit)) {
        int64_t level_px = r->price, hidden = 0;
        for (; r && r->price == level_px; r = r->next) {
            if (r->account == o->account)
                return 0;
            have += r->shown;
            hidden += r->leaves - r->shown;
            if (have >= need)
                return 1;
        }
        have += hidden;
        if (have >= need)
            return 1;
    }
    return 0;
}

/* ---- matching ------------------------------------------------------------------- */

/* Iceberg replenishment: "displayed = min(DisplayQty, open), it moves to the
 * back of its level, and ADDED with flag REFILL follows". */
static void refill(ref_book *b, rb_order *r)
{
    rb_unplace(b, r);
    r->shown = min64(r->display, r->leaves);
    rb_book_place(b, r);
    rb_emit_added(b, r, DTX_EVF_REFILL);
}

/*
 * Self-trade prevention against resting order r (same account). Returns 1 when
 * the incoming order o is still alive and matching goes on, 0 when matching
 * stops (o is then freed when it was canceled).
 */
static int self_trade(ref_book *b, rb_order *o, rb_order *r)
{
    switch (o->stp) {
    case DTX_STP_CANCEL_NEWEST:
        rb_cancel_processing(b, o, DTX_CANCEL_SELF_TRADE);
        return 0;
    case DTX_STP_CANCEL_OLDEST:
        rb_cancel_working(b, r, DTX_CANCEL_SELF_TRADE);
        return 1;
    case DTX_STP_CANCEL_BOTH:
        rb_cancel_working(b, r, DTX_CANCEL_SELF_TRADE);
        rb_cancel_processing(b, o, DTX_CANCEL_SELF_TRADE);
        return 0;
    default: { /* DecrementAndCancel */
        int64_t d = min64(o->leaves, r->leaves);
        /* Resting order first; it loses displayed quantity first. */
        if (r->leaves == d) {
            uint8_t flags = DTX_EVF_ON_BOOK;
            rb_unplace(b, r);
            rb_emit_canceled(b, r, DTX_CANCEL_SELF_TRADE, r->clordid, 0, d, flags);
            free(r);
            r = NULL;
        } else {
            uint8_t flags = DTX_EVF_SELF_TRADE | DTX_EVF_ON_BOOK;
            int r_refill = 0;
            r->shown -= min64(r->shown, d);
            r->leaves -= d;
            r->order_qty -= d;
            if (r->shown > 0)
                flags |= DTX_EVF_PRIORITY_KEPT;
            else
                r_refill = 1;
            rb_emit_replaced(b, r, r->clordid, flags);
            /* "in which case it is replenished to the back of its level and
             * ADDED (REFILL) follows" its REPLACED, before the incoming
             * order's report (as tests/engine_stp.c reads it too). */
            if (r_refill)
                refill(b, r);
        }
        int alive = 1;
        if (o->leaves == d) {
            rb_emit_canceled(b, o, DTX_CANCEL_SELF_TRADE, o->clordid, 0, d, 0);
            free(o);
            alive = 0;
        } else {
            o->leaves -= d;
            o->order_qty -= d;
            rb_emit_replaced(b, o, o->clordid, DTX_EVF_SELF_TRADE);
        }
        return alive;
    }
    }
}

/*
 * "The incoming order takes the best opposite level while it has quantity and
 * the level's price is within its limit, orders in time priority within the
 * level. The trade price is the resting order's price."
 * Returns 1 when o is still alive (possibly with leaves 0), 0 when STP canceled
 * it (o freed).
 */
static int match(ref_book *b, rb_inst *in, rb_order *o, int64_t limit)
{
    int opp = 1 - sidx(o->side);
    while (o->leaves > 0) {
        rb_order *r = in->book[opp];
        if (!r || !within_limit(o->side, r->price, limit))
            break;
        if (r->account == o->account) {
            if (!self_trade(b, o, r))
                return 0;
            continue;
        }
        int64_t q = min64(o->leaves, r->shown);
        int64_t px = r->price;
        r->leaves -= q;
        r->cum += q;
        r->shown -= q;
        o->leaves -= q;
        o->cum += q;
        in->last_px = px;
        uint64_t trade_id = ++b->last_trade_id;
        rb_emit_fill(b, r, o, px, q, trade_id, 0);
        rb_emit_fill(b, o, r, px, q, trade_id, 1);
        if (r->leaves == 0) {
            rb_unplace(b, r);
            free(r);
        } else if (r->shown == 0) {
            refill(b, r);
        }
    }
    return 1;
}

/* Rests o at the back of its level and reports ADDED; "an order that rests
 * straight after its NEW, or after the REPLACED that answers its cancel-replace
 * request (not a self-trade decrement), nothing traded or canceled in between,
 * gets no ADDED: that report carries DTX_EVF_ADDED and last_qty instead"
 * (dtx/event.h), i.e. when that report is the last event so far. */
static void rest(ref_book *b, rb_order *o)
{
    o->shown = o->display > 0 ? min64(o->display, o->leaves) : o->leaves;
    rb_book_place(b, o);
    dtx_event *last = b->n_ev ? &b->ev[b->n_ev - 1] : NULL;
    if (last && last->order_id == o->id &&
        (last->type == DTX_EV_NEW || (last->type == DTX_EV_REPLACED && !(last->flags & DTX_EVF_SELF_TRADE)))) {
        last->flags |= DTX_EVF_ADDED;
        last->last_qty = o->shown;
        return;
    }
    rb_emit_added(b, o, 0);
}

/*
 * An arrival: a new Limit/Market order after its NEW, a triggered stop after
 * TRIGGERED, or a re-priced replace after REPLACED. `market` when it trades as
 * a Market order (a Market order or a triggered Stop).
 * "What would be a rejection at arrival becomes a CANCELED reason Unfilled" for
 * triggered stops; for new orders those checks already passed, and the book has
 * not changed since, so they pass again here.
 */
static void arrive(ref_book *b, rb_inst *in, rb_order *o, int market)
{
    int64_t limit;
    if (market) {
        int64_t best = best_opposite(in, o->side);
        if (best == PX_NULL) {
            rb_cancel_processing(b, o, DTX_CANCEL_UNFILLED);
            return;
        }
        limit = market_limit(in, o->side, best);
    } else {
        limit = o->price;
    }
    if (o->tif == DTX_TIF_FOK && !fok_fillable(in, o, limit)) {
        rb_cancel_processing(b, o, DTX_CANCEL_UNFILLED);
        return;
    }
    if (!match(b, in, o, limit))
        return;
    if (o->leaves == 0) {
        free(o);
        return;
    }
    /* "IOC, FOK and Market remainders are canceled ... and a Day/GTC/GTD
     * remainder rests". A triggered Stop trades as a Market order. */
    if (market || o->tif == DTX_TIF_IOC || o->tif == DTX_TIF_FOK) {
        rb_cancel_processing(b, o, DTX_CANCEL_UNFILLED);
        return;
    }
    rest(b, o);
}

/* ---- stops ----------------------------------------------------------------------- */

/*
 * "After an order's arrival is processed ..., the engine repeats: if the buy
 * stop with the lowest StopPx (earliest accepted first among equal StopPx) is
 * triggered, process it; otherwise if the sell stop with the highest StopPx
 * (earliest first) is triggered, process it; otherwise stop."
 */
static void trigger_loop(ref_book *b, rb_inst *in)
{
    for (;;) {
        if (in->last_px == PX_NULL)
            return;
        rb_order *s = in->stops[0];
        if (!(s && in->last_px >= s->stop_px)) {
            s = in->stops[1];
            if (!(s && in->last_px <= s->stop_px))
                return;
        }
        /* "it leaves the stop queue; TRIGGERED (stop_px, price); then it
         * arrives as a Market (Stop) or Limit (StopLimit) order with its
         * TimeInForce, and no NEW." */
        rb_unplace(b, s);
        dtx_event *e = rb_ev_order(b, DTX_EV_TRIGGERED, s);
        e->ord_type = s->ord_type == DTX_ORD_STOP ? DTX_ORD_MARKET : DTX_ORD_LIMIT;
        e->stop_px = s->stop_px;
        e->price = s->price;
        arrive(b, in, s, s->ord_type == DTX_ORD_STOP);
    }
}

/* ---- NewOrderSingle ------------------------------------------------------------------- */

static int tif_valid(uint8_t tif)
{
    return tif == DTX_TIF_DAY || tif == DTX_TIF_GTC || tif == DTX_TIF_IOC ||
           tif == DTX_TIF_FOK || tif == DTX_TIF_GTD;
}

/* Checks 1 to 8 of the page ("first failure wins"). */
static uint16_t check_new(const ref_book *b, const dtx_command *c, rb_inst **out)
{
    /* 1. InvalidField */
    if (c->side != DTX_SIDE_BUY && c->side != DTX_SIDE_SELL)
        return DTX_REJ_INVALID_FIELD;
    if (c->ord_type < DTX_ORD_MARKET || c->ord_type > DTX_ORD_STOP_LIMIT)
        return DTX_REJ_INVALID_FIELD;
    if (!tif_valid(c->tif))
        return DTX_REJ_INVALID_FIELD;
    if (c->exec_inst & ~DTX_EXEC_VALID_MASK)
        return DTX_REJ_INVALID_FIELD;
    if (c->stp > DTX_STP_DECREMENT_AND_CANCEL)
        return DTX_REJ_INVALID_FIELD;
    int wants_price = c->ord_type == DTX_ORD_LIMIT || c->ord_type == DTX_ORD_STOP_LIMIT;
    int wants_stop = is_stop_type(c->ord_type);
    if ((c->price != PX_NULL) != wants_price)
        return DTX_REJ_INVALID_FIELD;
    if ((c->stop_px != PX_NULL) != wants_stop)
        return DTX_REJ_INVALID_FIELD;
    if (c->price != PX_NULL && c->price <= 0)
        return DTX_REJ_INVALID_FIELD;
    if (c->stop_px != PX_NULL && c->stop_px <= 0)
        return DTX_REJ_INVALID_FIELD;
    if (c->tif != DTX_TIF_GTD && c->expire_time != 0)
        return DTX_REJ_INVALID_FIELD;
    if (c->tif == DTX_TIF_GTD && (c->expire_time == 0 || c->expire_time <= c->ts))
        return DTX_REJ_INVALID_FIELD;
    int ioc_fok = c->tif == DTX_TIF_IOC || c->tif == DTX_TIF_FOK;
    if (c->ord_type == DTX_ORD_MARKET && !ioc_fok)
        return DTX_REJ_INVALID_FIELD;
    if (c->ord_type == DTX_ORD_STOP && ioc_fok)
        return DTX_REJ_INVALID_FIELD;
    if ((c->exec_inst & DTX_EXEC_POST_ONLY) && (c->ord_type != DTX_ORD_LIMIT || ioc_fok))
        return DTX_REJ_INVALID_FIELD;
    if (c->display_qty != 0 &&
        (c->ord_type == DTX_ORD_MARKET || c->ord_type == DTX_ORD_STOP || ioc_fok))
        return DTX_REJ_INVALID_FIELD;
    /* "DisplayQty < 0, or non-zero and > OrderQty" (a DisplayQty of 0 over a
     * negative OrderQty is QtyOutOfRange, below) */
    if (c->display_qty < 0 || (c->display_qty != 0 && c->display_qty > c->qty))
        return DTX_REJ_INVALID_FIELD;

    /* 2. UnknownInstrument, 3. InstrumentHalted */
    rb_inst *in = rb_inst_find(b, c->security_id);
    if (!in)
        return DTX_REJ_UNKNOWN_INSTRUMENT;
    if (in->status != DTX_TRADING_OPEN)
        return DTX_REJ_INSTRUMENT_HALTED;

    /* 4. QtyOutOfRange */
    const dtx_instrument_config *ic = &in->cfg;
    if (c->qty < ic->min_qty || c->qty > ic->max_qty || c->qty % ic->lot_size != 0)
        return DTX_REJ_QTY_OUT_OF_RANGE;
    if (c->display_qty != 0 && c->display_qty % ic->lot_size != 0)
        return DTX_REJ_QTY_OUT_OF_RANGE;

    /* 5. PriceNotOnTick */
    if (c->price != PX_NULL && c->price % ic->tick_size != 0)
        return DTX_REJ_PRICE_NOT_ON_TICK;
    if (c->stop_px != PX_NULL && c->stop_px % ic->tick_size != 0)
        return DTX_REJ_PRICE_NOT_ON_TICK;

    /* 6. DuplicateClOrdID */
    if (rb_work_find_clordid(b, c->account, c->clordid))
        return DTX_REJ_DUPLICATE_CLORDID;

    /* 7. PriceOutsideBand */
    if (c->price != PX_NULL && (c->price < ic->min_price || c->price > ic->max_price))
        return DTX_REJ_PRICE_OUTSIDE_BAND;
    if (c->stop_px != PX_NULL && (c->stop_px < ic->min_price || c->stop_px > ic->max_price))
        return DTX_REJ_PRICE_OUTSIDE_BAND;

    /* 8. TooManyOpenOrders */
    if (b->n_work >= b->max_orders)
        return DTX_REJ_TOO_MANY_OPEN_ORDERS;
    if (wants_stop && rb_count_stops(in, sidx(c->side)) >= b->max_stops)
        return DTX_REJ_TOO_MANY_OPEN_ORDERS;
    if (c->display_qty != 0 && rb_count_icebergs(b) >= b->max_icebergs)
        return DTX_REJ_TOO_MANY_OPEN_ORDERS;
    if (is_timed(c->tif) && rb_count_timed(b) >= b->max_timed)
        return DTX_REJ_TOO_MANY_OPEN_ORDERS;

    /* 9. The gate is not modelled. */
    *out = in;
    return DTX_REJ_NONE;
}

/* 10. Book checks. A Stop/StopLimit gets none. */
static uint16_t check_book(const rb_inst *in, const rb_order *o)
{
    if (is_stop_type(o->ord_type))
        return DTX_REJ_NONE;
    int64_t best = best_opposite(in, o->side);
    if (o->ord_type == DTX_ORD_LIMIT && (o->exec_inst & DTX_EXEC_POST_ONLY) && best != PX_NULL &&
        (o->side == DTX_SIDE_BUY ? o->price >= best : o->price <= best))
        return DTX_REJ_POST_ONLY_WOULD_TRADE;
    if (o->tif == DTX_TIF_FOK) {
        int fillable;
        if (o->ord_type == DTX_ORD_MARKET)
            fillable = best != PX_NULL && fok_fillable(in, o, market_limit(in, o->side, best));
        else
            fillable = fok_fillable(in, o, o->price);
        if (!fillable)
            return DTX_REJ_FOK_NOT_FILLABLE;
    }
    if (o->ord_type == DTX_ORD_MARKET && o->tif != DTX_TIF_FOK && best == PX_NULL)
        return DTX_REJ_NO_LIQUIDITY;
    return DTX_REJ_NONE;
}

/* "A Day order's expire time is the first day boundary after the command that
 * entered it: boundaries are day_offset_ns past each UTC midnight." */
static uint64_t day_expiry(const ref_book *b, uint64_t ts)
{
    uint64_t off = b->day_offset;
    uint64_t k = (ts + DAY_NS - off) / DAY_NS; /* off < DAY_NS */
    return k * DAY_NS + off;
}

static void do_new(ref_book *b, const dtx_command *c)
{
    rb_inst *in = NULL;
    uint16_t reason = check_new(b, c, &in);
    if (reason != DTX_REJ_NONE) {
        rb_emit_reject(b, reason);
        return;
    }
    rb_order *o = calloc(1, sizeof *o);
    if (!o)
        abort();
    o->clordid = c->clordid;
    o->account = c->account;
    o->session = c->session;
    o->inst = (uint32_t)(in - b->inst);
    o->side = c->side;
    o->ord_type = c->ord_type;
    o->tif = c->tif;
    o->exec_inst = c->exec_inst;
    o->stp = c->stp;
    o->price = c->price;
    o->stop_px = c->stop_px;
    o->order_qty = c->qty;
    o->leaves = c->qty;
    o->display = c->display_qty;
    reason = check_book(in, o);
    if (reason != DTX_REJ_NONE) {
        free(o);
        rb_emit_reject(b, reason);
        return;
    }
    o->id = ++b->last_order_id;
    o->accept_no = ++b->last_accept;
    if (c->tif == DTX_TIF_DAY)
        o->expire = day_expiry(b, c->ts);
    else if (c->tif == DTX_TIF_GTD)
        o->expire = c->expire_time;

    dtx_event *e = rb_ev_order(b, DTX_EV_NEW, o);
    e->price = o->price;
    e->stop_px = o->stop_px;
    e->order_qty = o->order_qty;
    e->leaves_qty = o->leaves;
    e->exec_inst = o->exec_inst;
    e->stp = o->stp;

    if (is_stop_type(o->ord_type))
        rb_stop_place(b, o); /* the trigger loop triggers it at once if it holds */
    else
        arrive(b, in, o, o->ord_type == DTX_ORD_MARKET);
    trigger_loop(b, in);
}

/* ---- OrderCancelRequest --------------------------------------------------------------- */

static void do_cancel(ref_book *b, const dtx_command *c)
{
    if (c->side > DTX_SIDE_SELL) {
        rb_emit_cancel_reject(b, DTX_REJ_INVALID_FIELD, DTX_CXL_REJ_CANCEL);
        return;
    }
    rb_order *o = rb_find_named(b, c);
    if (!o) {
        rb_emit_cancel_reject(b, DTX_REJ_UNKNOWN_ORDER, DTX_CXL_REJ_CANCEL);
        return;
    }
    uint8_t flags = o->at == AT_BOOK ? DTX_EVF_ON_BOOK : 0;
    rb_unplace(b, o);
    rb_emit_canceled(b, o, DTX_CANCEL_CLIENT_REQUEST, c->clordid, o->clordid, o->leaves, flags);
    free(o);
}

/* ---- OrderCancelReplaceRequest -------------------------------------------------------- */

static void do_replace(ref_book *b, const dtx_command *c)
{
    const uint8_t rt = DTX_CXL_REJ_REPLACE;
    /* InvalidField (side not 0/1/2; OrderQty < 0; DisplayQty < 0 or > OrderQty;
     * Price non-null and ≤ 0) */
    if (c->side > DTX_SIDE_SELL || c->qty < 0 || c->display_qty < 0 ||
        c->display_qty > c->qty || (c->price != PX_NULL && c->price <= 0)) {
        rb_emit_cancel_reject(b, DTX_REJ_INVALID_FIELD, rt);
        return;
    }
    rb_order *o = rb_find_named(b, c);
    if (!o) {
        rb_emit_cancel_reject(b, DTX_REJ_UNKNOWN_ORDER, rt);
        return;
    }
    /* InvalidField needing the order: a Price, or DisplayQty ≠ 0, on a Stop. */
    if (o->ord_type == DTX_ORD_STOP && (c->price != PX_NULL || c->display_qty != 0)) {
        rb_emit_cancel_reject(b, DTX_REJ_INVALID_FIELD, rt);
        return;
    }
    rb_inst *in = inst_of(b, o);
    if (in->status != DTX_TRADING_OPEN) {
        rb_emit_cancel_reject(b, DTX_REJ_INSTRUMENT_HALTED, rt);
        return;
    }
    /* OrderQty ≤ CumQty: the order is canceled. */
    if (c->qty <= o->cum) {
        uint8_t flags = o->at == AT_BOOK ? DTX_EVF_ON_BOOK : 0;
        rb_unplace(b, o);
        rb_emit_canceled(b, o, DTX_CANCEL_CLIENT_REQUEST, c->clordid, o->clordid, o->leaves, flags);
        free(o);
        return;
    }
    const dtx_instrument_config *ic = &in->cfg;
    if (c->qty < ic->min_qty || c->qty > ic->max_qty || c->qty % ic->lot_size != 0 ||
        (c->display_qty != 0 && c->display_qty % ic->lot_size != 0)) {
        rb_emit_cancel_reject(b, DTX_REJ_QTY_OUT_OF_RANGE, rt);
        return;
    }
    if (c->price != PX_NULL && c->price % ic->tick_size != 0) {
        rb_emit_cancel_reject(b, DTX_REJ_PRICE_NOT_ON_TICK, rt);
        return;
    }
    if (rb_work_find_clordid(b, c->account, c->clordid)) {
        rb_emit_cancel_reject(b, DTX_REJ_DUPLICATE_CLORDID, rt);
        return;
    }
    if (c->price != PX_NULL && (c->price < ic->min_price || c->price > ic->max_price)) {
        rb_emit_cancel_reject(b, DTX_REJ_PRICE_OUTSIDE_BAND, rt);
        return;
    }
    /* TooManyOpenOrders: an order that becomes an iceberg when max_icebergs
     * are working. */
    if (c->display_qty != 0 && o->display == 0 && rb_count_icebergs(b) >= b->max_icebergs) {
        rb_emit_cancel_reject(b, DTX_REJ_TOO_MANY_OPEN_ORDERS, rt);
        return;
    }
    /* PostOnlyWouldTrade: a post-only order re-priced to reach the best
     * opposite. (An order resting at its old price never reaches it.) */
    if ((o->exec_inst & DTX_EXEC_POST_ONLY) && c->price != PX_NULL) {
        int64_t best = best_opposite(in, o->side);
        if (best != PX_NULL && (o->side == DTX_SIDE_BUY ? c->price >= best : c->price <= best)) {
            rb_emit_cancel_reject(b, DTX_REJ_POST_ONLY_WOULD_TRADE, rt);
            return;
        }
    }

    /* Accepted. */
    int kept = (c->price == PX_NULL || c->price == o->price) && c->qty <= o->order_qty &&
               c->display_qty == o->display;
    uint64_t old_clordid = o->clordid;
    o->clordid = c->clordid;
    if (c->price != PX_NULL)
        o->price = c->price;
    o->order_qty = c->qty;
    int64_t new_leaves = c->qty - o->cum;

    if (o->at == AT_STOP) {
        /* "A pending stop keeps its place in the stop queue whatever changes;
         * REPLACED has PRIORITY_KEPT set by the rule above but no ON_BOOK." */
        o->leaves = new_leaves;
        o->display = c->display_qty;
        rb_emit_replaced(b, o, old_clordid, kept ? DTX_EVF_PRIORITY_KEPT : 0);
        return;
    }
    /* Not a pending stop: a resting order. */
    if (kept) {
        /* "The open quantity shrinks in place, hidden quantity first." */
        o->leaves = new_leaves;
        o->shown = min64(o->shown, new_leaves);
        rb_emit_replaced(b, o, old_clordid, DTX_EVF_ON_BOOK | DTX_EVF_PRIORITY_KEPT);
        return;
    }
    /* "Otherwise the order leaves its place and arrives at its (new) price: it
     * may trade (as the aggressor, with its own stp mode), then rests at the
     * back of its level (ADDED) ...; the trigger loop runs." */
    rb_unplace(b, o);
    o->leaves = new_leaves;
    o->display = c->display_qty;
    rb_emit_replaced(b, o, old_clordid, DTX_EVF_ON_BOOK);
    arrive(b, in, o, 0);
    trigger_loop(b, in);
}

/* ---- OrderMassCancelRequest, Time, status, disconnect ----------------------------------- */

/* Filters of mass cancel, cancel on disconnect and Closed. */
typedef struct mass_filter {
    const ref_book *b;
    uint32_t account;
    uint16_t session;
    uint32_t security_id; /* 0 = all */
    uint8_t side;         /* 0 = both */
} mass_filter;

static int mass_keep(const rb_order *o, const void *arg)
{
    const mass_filter *f = arg;
    return o->account == f->account &&
           (f->security_id == 0 || inst_of(f->b, o)->cfg.security_id == f->security_id) &&
           (f->side == 0 || f->side == o->side);
}

static int session_keep(const rb_order *o, const void *arg)
{
    const mass_filter *f = arg;
    return o->account == f->account && o->session == f->session;
}

static int inst_keep(const rb_order *o, const void *arg)
{
    const mass_filter *f = arg;
    return inst_of(f->b, o)->cfg.security_id == f->security_id;
}

/* Cancels every order in v (collected in mass-cancel order). */
static void cancel_all(ref_book *b, rb_order **v, size_t n, uint8_t reason)
{
    for (size_t i = 0; i < n; i++)
        rb_cancel_working(b, v[i], reason);
    free(v);
}

static void do_mass_cancel(ref_book *b, const dtx_command *c)
{
    if (c->side > DTX_SIDE_SELL) {
        rb_emit_business_reject(b, DTX_REJ_INVALID_FIELD);
        return;
    }
    if (c->security_id != 0 && !rb_inst_find(b, c->security_id)) {
        rb_emit_business_reject(b, DTX_REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    mass_filter f = {b, c->account, 0, c->security_id, c->side};
    size_t n;
    rb_order **v = rb_collect(b, mass_keep, &f, &n);
    cancel_all(b, v, n, DTX_CANCEL_MASS_CANCEL);
    dtx_event *e = rb_ev_cmd(b, DTX_EV_MASS_CANCEL_REPORT);
    e->side = c->side;
    e->total_affected = n;
}

static int expiry_before(const rb_order *a, const rb_order *b2)
{
    if (a->expire != b2->expire)
        return a->expire < b2->expire;
    return a->accept_no < b2->accept_no;
}

/* "Expires every working Day/GTD order whose expire time ≤ ts, earliest expire
 * time first, earliest accepted first among equals." */
static void do_time(ref_book *b, const dtx_command *c)
{
    rb_order **v = NULL;
    size_t n = 0;
    for (size_t i = 0; i < b->n_work; i++) {
        rb_order *o = b->work[i];
        if (!is_timed(o->tif) || o->expire > c->ts)
            continue;
        v = rb_xrealloc(v, (n + 1) * sizeof *v);
        v[n++] = o;
    }
    /* insertion sort: small n, and obviously right */
    for (size_t i = 1; i < n; i++) {
        rb_order *x = v[i];
        size_t j = i;
        while (j > 0 && expiry_before(x, v[j - 1])) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    cancel_all(b, v, n, DTX_CANCEL_EXPIRED);
}

static void do_status(ref_book *b, const dtx_command *c)
{
    rb_inst *in = rb_inst_find(b, c->security_id);
    if (!in) {
        rb_emit_business_reject(b, DTX_REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    if (c->status < DTX_TRADING_OPEN || c->status > DTX_TRADING_CLOSED) {
        rb_emit_business_reject(b, DTX_REJ_INVALID_FIELD);
        return;
    }
    in->status = c->status;
    dtx_event *e = rb_ev_push(b, DTX_EV_STATUS);
    e->session = c->session;
    e->account = c->account;
    e->security_id = c->security_id;
    e->status = c->status;
    if (c->status == DTX_TRADING_CLOSED) {
        mass_filter f = {b, 0, 0, c->security_id, 0};
        size_t n;
        rb_order **v = rb_collect(b, inst_keep, &f, &n);
        cancel_all(b, v, n, DTX_CANCEL_INSTRUMENT_HALTED);
    }
}

static void do_cancel_on_disconnect(ref_book *b, const dtx_command *c)
{
    mass_filter f = {b, c->account, c->session, 0, 0};
    size_t n;
    rb_order **v = rb_collect(b, session_keep, &f, &n);
    cancel_all(b, v, n, DTX_CANCEL_ON_DISCONNECT);
}

/* ---- the command dispatch -------------------------------------------------------------- */

void ref_book_submit(ref_book *b, const dtx_command *cmd)
{
    b->cmd = cmd;
    b->n_ev = 0;
    switch (cmd->type) {
    case DTX_CMD_NEW_ORDER:
        do_new(b, cmd);
        break;
    case DTX_CMD_CANCEL:
        do_cancel(b, cmd);
        break;
    case DTX_CMD_REPLACE:
        do_replace(b, cmd);
        break;
    case DTX_CMD_MASS_CANCEL:
        do_mass_cancel(b, cmd);
        break;
    case DTX_CMD_TIME:
        do_time(b, cmd);
        break;
    case DTX_CMD_INSTRUMENT_STATUS:
        do_status(b, cmd);
        break;
    case DTX_CMD_CANCEL_ON_DISCONNECT:
        do_cancel_on_disconnect(b, cmd);
        break;
    default: {
        /* "An unknown command type → BUSINESS_REJECT InvalidField with
         * ref_cmd_type." */
        rb_emit_business_reject(b, DTX_REJ_INVALID_FIELD);
        break;
    }
    }
    if (b->n_ev > 0)
        b->sink(b->sink_ctx, b->ev, b->n_ev);
    b->cmd = NULL;
}
