/*
 * dtx/engine.h - the matching engine: books, orders, matching, order types.
 *
 * One dtx_engine holds the books of one shard. It is driven by one thread:
 * dtx_engine_submit() takes one sequenced command and emits its events, in
 * order, to the sink given at creation. The engine does no I/O, reads no clock,
 * takes no lock and allocates nothing after dtx_engine_create(): orders, price
 * levels, stop and expiry queues live in memory reserved there from the
 * configured capacities. When a capacity is reached the command is rejected
 * (TooManyOpenOrders); nothing crashes.
 *
 * Deterministic: the same command stream yields the same event stream, byte
 * for byte, and the same dtx_engine_digest().
 *
 * Order semantics (validation order, FOK, post-only, self-trade prevention,
 * icebergs, replace, stops, expiry) are those of PROTOCOL.md, with dtx's own
 * choices where it is silent written in docs/order-semantics.md.
 */
#ifndef DTX_ENGINE_H
#define DTX_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/command.h"
#include "dtx/error.h"
#include "dtx/event.h"
#include "dtx/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dtx_engine dtx_engine;

/* One instrument. Prices are PRICE9 (exponent -9). */
typedef struct dtx_instrument_config {
    uint32_t security_id;        /* non-zero, unique */
    char symbol[16];             /* ASCII, NUL-padded */
    uint8_t type;                /* dtx_instrument_type */
    int64_t tick_size;           /* > 0 */
    int64_t contract_multiplier; /* PRICE9 amount of underlying per contract */
    int64_t min_price;           /* lowest price a book holds; on tick, > 0 */
    int64_t max_price;           /* highest; on tick; at most 2^22 ticks above min */
    int64_t min_qty;             /* >= 1 */
    int64_t max_qty;             /* <= DTX_MAX_ORDER_QTY */
    int64_t lot_size;            /* >= 1; min_qty and max_qty are multiples */
    uint32_t market_band_ticks;  /* market orders trade at most this many ticks
                                    through the best opposite price at arrival */
    uint64_t expiry;             /* TIME of a dated future; 0 for a perpetual */
} dtx_instrument_config;

/* Largest OrderQty an instrument may allow (quantities are 32-bit in books). */
#define DTX_MAX_ORDER_QTY ((int64_t)0x7fffffff)
/* Largest number of price levels of one book (max_price - min_price) / tick + 1. */
#define DTX_MAX_LEVELS (1u << 22)
#define DTX_MAX_INSTRUMENTS 1024u

/*
 * Called once per batch of events, in order, at the latest when
 * dtx_engine_submit() returns. The records are valid only during the call.
 */
typedef void (*dtx_event_sink_fn)(void *ctx, const dtx_event *events, size_t n);

/*
 * Pre-trade gate (the risk module's seam). Called for NEW_ORDER and REPLACE
 * after the engine's own checks up to DuplicateClOrdID pass and before the book
 * is touched. Returns DTX_REJ_NONE to let the command through, or the reject
 * reason. For a replace, order_qty/price are the order's values after the
 * replace (price in PRICE9). Called again, with trigger set, when a pending
 * stop triggers, before it enters the book: cmd is then the command being
 * processed with its type NEW_ORDER and the stop's account, ClOrdID,
 * instrument and side; leaves_qty = old_leaves and price = old_price (the
 * order is already working); the events so far have gone to the sink. A
 * refusal cancels the order (CANCELED, CancelReason Risk) after TRIGGERED.
 */
typedef struct dtx_gate_request {
    const dtx_command *cmd;
    uint8_t side;
    uint8_t ord_type;
    uint8_t exec_inst;    /* DTX_EXEC_* of the order (a replace: as entered) */
    uint8_t trigger;      /* 1: a pending stop triggering (see above) */
    uint32_t security_id; /* the order's instrument (a replace may omit it) */
    int64_t price;      /* PRICE9 limit price; DTX_PRICE_NULL for market/stop */
    int64_t order_qty;  /* total quantity after the command */
    int64_t leaves_qty; /* open quantity after the command (before matching) */
    int64_t old_leaves; /* replace: open quantity before; 0 for a new order */
    int64_t old_price;  /* replace: price before (PRICE9) */
} dtx_gate_request;
typedef uint16_t (*dtx_gate_fn)(void *ctx, const dtx_gate_request *req);

typedef struct dtx_engine_config {
    const dtx_instrument_config *instruments;
    uint32_t n_instruments;   /* 1 .. DTX_MAX_INSTRUMENTS */
    uint32_t max_orders;      /* working orders (resting + pending stops), all books */
    uint32_t max_timed;       /* Day/GTD orders awaiting expiry, all books */
    uint32_t max_stops;       /* pending stop orders per book and side */
    uint32_t max_icebergs;    /* working iceberg orders (DisplayQty > 0), all
                                 books; 0 = max_orders / 16 + 1 */
    uint64_t day_offset_ns;   /* Day orders expire at this offset into each UTC
                                 day (0 = midnight UTC) */
    dtx_event_sink_fn sink;   /* required */
    void *sink_ctx;
    int prefetch;             /* dtx_engine_submit_burst/_prefetch hints:
                                 DTX_PREFETCH_AUTO (0: when the orders outgrow
                                 the CPU caches), _ALWAYS or _NEVER */
} dtx_engine_config;

#define DTX_PREFETCH_AUTO 0
#define DTX_PREFETCH_ALWAYS 1
#define DTX_PREFETCH_NEVER 2

/* The embedded default instruments: BTC-PERP (1), ETH-PERP (2) and a dated
 * BTC future (3). Sets *n to their count. */
const dtx_instrument_config *dtx_default_instruments(uint32_t *n);

/*
 * Creates an engine. Returns NULL on an invalid configuration (the message,
 * from dtx_error_message(), names the field and the value) or when memory
 * cannot be reserved. All memory is reserved and touched here.
 */
dtx_engine *dtx_engine_create(const dtx_engine_config *cfg);

/* Frees everything. NULL is accepted. */
void dtx_engine_destroy(dtx_engine *e);

/* Installs (or with fn NULL removes) the pre-trade gate. */
void dtx_engine_set_gate(dtx_engine *e, dtx_gate_fn fn, void *ctx);

/*
 * Processes one command and emits its events to the sink. Every command gets
 * a response: a malformed or unknown command is answered with an event
 * (REJECT, CANCEL_REJECT or BUSINESS_REJECT) naming the reason. Returns DTX_OK.
 */
dtx_status dtx_engine_submit(dtx_engine *e, const dtx_command *cmd);

/*
 * Processes cmds[0..n) in order, exactly as n calls of dtx_engine_submit()
 * would (same events, same state), prefetching ahead the memory each command
 * will touch (the order it names, its level neighbours, index buckets, the
 * level at its new price). The core thread hands it each burst it takes from
 * its ring; it pays off once the books outgrow the CPU caches, and by default
 * (dtx_engine_config.prefetch) it prefetches only then.
 */
void dtx_engine_submit_burst(dtx_engine *e, const dtx_command *cmds, size_t n);

/* Another module's prefetch hint for a command that will be submitted soon
 * (dtx_risk_prefetch: the account and position the gate and the observer
 * will read). Reads, changes nothing, safe for any command. */
typedef void (*dtx_prefetch_fn)(const void *ctx, const dtx_command *cmd);

/*
 * dtx_engine_submit_burst() that also calls pf(pf_ctx, &cmds[i]) once per
 * command, a few commands before it runs (8; the engine's own first stage is
 * 12), also when the engine's own hints are off (small books; the gate's
 * state may still outgrow the caches). Same events
 * and state as n calls of dtx_engine_submit(). pf NULL: exactly
 * dtx_engine_submit_burst(). The core thread hands it each run of engine
 * commands of a burst, with the risk gate's prefetch.
 */
void dtx_engine_submit_burst_pf(dtx_engine *e, const dtx_command *cmds, size_t n, dtx_prefetch_fn pf,
                                const void *pf_ctx);

/* Prefetch hint for one command that will be submitted soon: reads engine
 * state, changes nothing, safe for any command. */
void dtx_engine_prefetch(const dtx_engine *e, const dtx_command *cmd);

/* A 64-bit digest over every book (orders in priority order, pending stops,
 * expiry queue, trading status, last trade price) and the id counters. */
uint64_t dtx_engine_digest(const dtx_engine *e);

/* Counters for operators and benchmarks. */
typedef struct dtx_engine_stats {
    uint64_t commands;
    uint64_t events;
    uint64_t trades;
    uint64_t rejects;        /* REJECT + CANCEL_REJECT + BUSINESS_REJECT */
    uint32_t working_orders; /* resting + pending stops */
    uint32_t max_orders;
    size_t reserved_bytes;   /* memory reserved at creation */
    size_t order_bytes;      /* of which orders and their ClOrdID index */
} dtx_engine_stats;
void dtx_engine_get_stats(const dtx_engine *e, dtx_engine_stats *out);

/* Read-only views for tests, market data snapshots and tools. */
typedef struct dtx_order_view {
    uint64_t order_id;
    uint64_t clordid;
    uint32_t account;
    uint16_t session;
    uint32_t security_id;
    uint8_t side, ord_type, tif, exec_inst, stp;
    int64_t price;     /* PRICE9; DTX_PRICE_NULL for a Stop (market) order */
    int64_t order_qty;
    int64_t leaves_qty;
    int64_t cum_qty;
    int64_t shown_qty;   /* displayed now */
    int64_t display_qty; /* 0 = not an iceberg */
    int64_t stop_px;     /* pending stops only; else DTX_PRICE_NULL */
    int pending_stop;    /* 1 = waiting for its trigger, not on the book */
} dtx_order_view;

/* Looks up a working order by OrderID. Returns 1 and fills out, or 0. */
int dtx_engine_find_order(const dtx_engine *e, uint64_t order_id, dtx_order_view *out);

/* Best bid/ask in PRICE9; DTX_PRICE_NULL when that side is empty. */
void dtx_engine_best(const dtx_engine *e, uint32_t security_id, int64_t *bid, int64_t *ask);

/* Calls fn for each resting order of one side in priority order (best level
 * first, time priority within a level); stops early when fn returns non-zero. */
typedef int (*dtx_order_visit_fn)(void *ctx, const dtx_order_view *o);
void dtx_engine_visit_book(const dtx_engine *e, uint32_t security_id, uint8_t side,
                           dtx_order_visit_fn fn, void *ctx);

/* Last trade price (PRICE9) of an instrument, DTX_PRICE_NULL before any trade. */
int64_t dtx_engine_last_price(const dtx_engine *e, uint32_t security_id);

#ifdef __cplusplus
}
#endif
#endif /* DTX_ENGINE_H */
