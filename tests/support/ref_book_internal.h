/*
 * ref_book_internal.h - what the two halves of the reference book share.
 *
 *   ref_book.c        the rules of docs/order-semantics.md, one section per
 *                     section of the page: checks, matching, stops, the
 *                     commands, and ref_book_submit;
 *   ref_book_store.c  the order store they work on: lists and the working
 *                     orders, lookups and capacity counts, event records,
 *                     create/destroy and the public queries.
 *
 * Data structures are the plainest that work:
 *   - each book side is a singly linked list sorted by price (best first), then
 *     by a priority stamp taken whenever an order joins the back of its level;
 *   - each stop queue is a list sorted in trigger order (buy: lowest StopPx,
 *     sell: highest StopPx, then order of acceptance);
 *   - the working orders (resting + pending stops) are also held in one array,
 *     scanned for lookups by OrderID or ClOrdID and for the capacity counts;
 *   - the expiry queue is not a structure: Time scans the working orders.
 * An order being processed (an arrival, a triggered stop, a re-priced replace)
 * is in neither list until it rests.
 *
 * Private to the two files; the interface is support/ref_book.h. The
 * functions shared across them carry the rb_ prefix.
 */
#ifndef DTX_TESTS_REF_BOOK_INTERNAL_H
#define DTX_TESTS_REF_BOOK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "support/ref_book.h"

#define DAY_NS 86400000000000ull
#define PX_NULL DTX_PRICE_NULL

enum { AT_NONE = 0, AT_BOOK = 1, AT_STOP = 2 };

typedef struct rb_order rb_order;
struct rb_order {
    uint64_t id;        /* OrderID: 1, 2, 3... */
    uint64_t clordid;   /* current ClOrdID (renamed by replace) */
    uint32_t account;
    uint16_t session;
    uint32_t inst;      /* index into ref_book.inst */
    uint8_t side, ord_type, tif, exec_inst, stp;
    int64_t price;      /* PRICE9 limit, PX_NULL for Market and Stop */
    int64_t stop_px;    /* PRICE9, PX_NULL unless Stop/StopLimit */
    int64_t order_qty;  /* total, filled included */
    int64_t leaves;     /* open quantity, hidden included */
    int64_t cum;
    int64_t shown;      /* displayed part of leaves while resting */
    int64_t display;    /* DisplayQty, 0 = all shown */
    uint64_t expire;    /* expire time of Day/GTD, 0 for none */
    uint64_t accept_no; /* order of acceptance (stop and expiry ties) */
    uint64_t prio;      /* time priority within its level */
    int at;             /* AT_NONE, AT_BOOK, AT_STOP */
    size_t work_idx;    /* index in ref_book.work while at != AT_NONE */
    rb_order *next;     /* in its book side or stop queue */
};

typedef struct rb_inst {
    dtx_instrument_config cfg;
    uint8_t status;      /* dtx_trading_status */
    int64_t last_px;     /* last trade price, PX_NULL before any */
    rb_order *book[2];   /* [0] bids (highest first), [1] asks (lowest first) */
    rb_order *stops[2];  /* [0] buy stops, [1] sell stops, in trigger order */
} rb_inst;

struct ref_book {
    rb_inst *inst;
    uint32_t n_inst;
    uint32_t max_orders, max_timed, max_stops, max_icebergs;
    uint64_t day_offset;
    dtx_event_sink_fn sink;
    void *sink_ctx;

    rb_order **work; /* working orders, in no particular order */
    size_t n_work, cap_work;

    uint64_t last_order_id, last_exec_id, last_trade_id, last_prio, last_accept;

    dtx_event *ev; /* events of the command being processed */
    size_t n_ev, cap_ev;
    const dtx_command *cmd;
};

/* ---- small helpers --------------------------------------------------------- */

static inline int sidx(uint8_t side) { return side == DTX_SIDE_BUY ? 0 : 1; }

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static inline rb_inst *inst_of(const ref_book *b, const rb_order *o)
{
    return &b->inst[o->inst];
}

static inline int is_stop_type(uint8_t ord_type)
{
    return ord_type == DTX_ORD_STOP || ord_type == DTX_ORD_STOP_LIMIT;
}

static inline int is_timed(uint8_t tif) { return tif == DTX_TIF_DAY || tif == DTX_TIF_GTD; }

/* The instrument of security_id, NULL when unknown (or 0). */
rb_inst *rb_inst_find(const ref_book *b, uint32_t security_id);

/* realloc() that aborts when memory runs out (a test helper). */
void *rb_xrealloc(void *p, size_t n);

/* ---- events (ref_book_store.c) ---------------------------------------------- */

/* A zeroed record with the header of the command being processed. */
dtx_event *rb_ev_push(ref_book *b, uint8_t type);

/* An event about an order: owner, instrument, identity, side/type/tif. */
dtx_event *rb_ev_order(ref_book *b, uint8_t type, const rb_order *o);

/* A response to the command itself (reject, mass cancel report...). */
dtx_event *rb_ev_cmd(ref_book *b, uint8_t type);

/* REJECT, CANCEL_REJECT (response_to: DTX_CXL_REJ_*) and BUSINESS_REJECT of
 * the command being processed. */
void rb_emit_reject(ref_book *b, uint16_t reason);
void rb_emit_cancel_reject(ref_book *b, uint16_t reason, uint8_t response_to);
void rb_emit_business_reject(ref_book *b, uint16_t reason);

/* CANCELED: qty is the quantity canceled (leaves_qty of the report). */
void rb_emit_canceled(ref_book *b, const rb_order *o, uint8_t reason, uint64_t clordid,
                      uint64_t orig_clordid, int64_t qty, uint8_t flags);

/* REPLACED and ADDED of o as it is now. */
void rb_emit_replaced(ref_book *b, const rb_order *o, uint64_t orig_clordid, uint8_t flags);
void rb_emit_added(ref_book *b, const rb_order *o, uint8_t flags);

/* FILL of o (after its leaves and cum are updated) against contra. */
void rb_emit_fill(ref_book *b, const rb_order *o, const rb_order *contra, int64_t px,
                  int64_t qty, uint64_t trade_id, uint8_t aggressor);

/* ---- lists (ref_book_store.c) ----------------------------------------------- */

/* Puts o at the back of its level (a new priority stamp); o is working. */
void rb_book_place(ref_book *b, rb_order *o);

/* Puts o in its stop queue in trigger order; o is working. */
void rb_stop_place(ref_book *b, rb_order *o);

/* Takes o out of its book side or stop queue; it is no longer working. */
void rb_unplace(ref_book *b, rb_order *o);

/* Unsolicited cancel of a working order (all of it): reports and frees it. */
void rb_cancel_working(ref_book *b, rb_order *o, uint8_t reason);

/* Unsolicited cancel of an order being processed (not on the book). */
void rb_cancel_processing(ref_book *b, rb_order *o, uint8_t reason);

/* ---- lookups (ref_book_store.c) --------------------------------------------- */

/* The working order of account with this ClOrdID, NULL when none. */
rb_order *rb_work_find_clordid(const ref_book *b, uint32_t account, uint64_t clordid);

/*
 * "The order is named by order_id when non-zero, else by (account,
 * orig_clordid); it must be a working order of the command's account, and
 * security_id and side, when non-zero, must match."
 */
rb_order *rb_find_named(const ref_book *b, const dtx_command *c);

/* Pending stops of one side (s: 0 buy, 1 sell) of an instrument. */
uint32_t rb_count_stops(const rb_inst *in, int s);

/* Working icebergs (DisplayQty > 0), resting or pending stops. */
uint32_t rb_count_icebergs(const ref_book *b);

/* Working Day and GTD orders. */
uint32_t rb_count_timed(const ref_book *b);

/*
 * Working orders in the page's mass-cancel order: instruments in configuration
 * order; within one, resting bids (best level first, time priority), resting
 * asks likewise, pending buy stops, pending sell stops (trigger order).
 * Returns a malloc'd array of the orders that pass keep(), count in *n.
 */
rb_order **rb_collect(const ref_book *b, int (*keep)(const rb_order *, const void *),
                      const void *arg, size_t *n);

#endif /* DTX_TESTS_REF_BOOK_INTERNAL_H */
