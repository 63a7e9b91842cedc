/*
 * internal.h - the engine's memory layout, shared by the engine sources only.
 *
 * Everything here lives in memory reserved by dtx_engine_create():
 *  - the order pool: 48-byte records addressed by 32-bit handles (0 = none),
 *    handed out from a FIFO free list so a slot is reused as late as possible;
 *    OrderID = generation << 32 | handle, so cancel by OrderID is O(1) and an
 *    OrderID is never reused while a slot's 32-bit generation has not wrapped.
 *  - the ClOrdID index: (account, ClOrdID) -> handle, chained through the
 *    orders themselves (hnext), one bucket per order slot (power of two).
 *  - per book a price ladder: one level (FIFO head/tail) per tick of the
 *    instrument's range, shared by both sides (a book is never crossed, so a
 *    price holds bids or asks, never both), and a 64-ary bitset per side that
 *    finds the next non-empty level in four word operations.
 *  - per book and side a binary heap of pending stops; one engine-wide heap of
 *    Day/GTD expiry times; one table of the icebergs' display state.
 * Invariants (checked by tests/engine_*.c and the differential test):
 *  - price-time priority: a level's FIFO is in arrival order, refills and
 *    priority-losing replaces append at the tail;
 *  - best[side] is the best non-empty level of that side, or DTX_NONE;
 *  - every working order (resting or pending stop) is in the ClOrdID index.
 */
#ifndef DTX_ENGINE_INTERNAL_H
#define DTX_ENGINE_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "dtx/engine.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define DTX_NONE UINT32_MAX /* no level */
#define DTX_NIL 0u          /* no order */

enum { BID = 0, ASK = 1 };

/* order states */
enum {
    OS_FREE = 0,
    OS_ACTIVE = 1,  /* accepted, being matched, not on the book */
    OS_RESTING = 2, /* on a level */
    OS_STOP = 3,    /* pending in a stop heap */
};

/* order flags */
#define OF_POST_ONLY 0x01u
#define OF_REDUCE_ONLY 0x02u
#define OF_STP_SHIFT 2
#define OF_STP_MASK (0x3u << OF_STP_SHIFT)
#define OF_STATE_SHIFT 4
#define OF_STATE_MASK (0x3u << OF_STATE_SHIFT)
#define OF_ICEBERG 0x40u /* DisplayQty > 0: its display state is in the iceberg table */

typedef struct dtx_order {
    uint64_t clordid;  /* current ClOrdID (changes on replace) */
    uint32_t gen;      /* slot generation: OrderID = gen << 32 | handle */
    uint32_t account;
    uint32_t next;     /* level FIFO / free list */
    uint32_t prev;     /* level FIFO; pending stop: index in its stop heap */
    uint32_t hnext;    /* ClOrdID index chain */
    uint32_t level;    /* ladder index of the limit price (not for market/stop) */
    uint32_t qty;      /* OrderQty, filled included */
    uint32_t leaves;   /* open quantity: displayed + hidden */
    uint16_t book;
    uint16_t session;
    uint8_t side;      /* BID or ASK */
    uint8_t ord_type;  /* dtx_ord_type */
    uint8_t tif;       /* dtx_tif */
    uint8_t flags;     /* OF_* */
} dtx_order;

_Static_assert(sizeof(dtx_order) == 48, "order record is 48 bytes");

/* An iceberg's display state (OF_ICEBERG orders only), in the iceberg table.
 * Every other order shows all its open quantity: displayed = leaves. */
typedef struct dtx_ice {
    uint32_t handle; /* its order; 0 = empty table slot */
    uint32_t shown;  /* displayed now (set when it rests) */
    uint32_t peak;   /* DisplayQty, > 0 */
} dtx_ice;

static inline unsigned order_state(const dtx_order *o) { return (o->flags & OF_STATE_MASK) >> OF_STATE_SHIFT; }
static inline void order_set_state(dtx_order *o, unsigned s)
{
    o->flags = (uint8_t)((o->flags & ~OF_STATE_MASK) | (s << OF_STATE_SHIFT));
}
static inline unsigned order_stp(const dtx_order *o) { return (o->flags & OF_STP_MASK) >> OF_STP_SHIFT; }
static inline uint64_t order_id_of(const dtx_order *o, uint32_t h) { return (uint64_t)o->gen << 32 | h; }

typedef struct dtx_level {
    uint32_t head, tail;
} dtx_level;

/* 64-ary bitset over the levels of one side, four tiers (2^24 bits max). */
typedef struct dtx_bitset {
    uint64_t *w[4];
    uint32_t nwords[4];
} dtx_bitset;

/* Pending stop: ordered by trigger level (buy: lowest first, sell: highest
 * first), then acceptance. */
typedef struct dtx_stop_entry {
    uint32_t level;
    uint32_t handle;
    uint64_t accept;
} dtx_stop_entry;

typedef struct dtx_stop_heap {
    dtx_stop_entry *a;
    uint32_t n, cap;
    int max_first; /* sell stops: highest level first */
} dtx_stop_heap;

/* Day/GTD expiry, ordered by time then acceptance. Entries of orders that
 * are gone are dropped lazily (gen mismatch) or by compaction when full. */
typedef struct dtx_expiry_entry {
    uint64_t expire;
    uint64_t accept;
    uint32_t handle;
    uint32_t gen;
} dtx_expiry_entry;

/* Unsigned division by a run-time constant without a divide instruction
 * (Granlund and Montgomery, "Division by invariant integers using
 * multiplication", 1994, figure 4.1): exact for every 64-bit dividend and every
 * divisor >= 1. Set up by udiv_init() at creation. */
typedef struct dtx_udiv {
    uint64_t magic;
    uint8_t sh1, sh2;
} dtx_udiv;

__extension__ typedef unsigned __int128 dtx_u128;

static inline dtx_udiv udiv_init(uint64_t d)
{
    unsigned l = d > 1 ? 64u - (unsigned)__builtin_clzll(d - 1) : 0; /* ceil(log2 d) */
    dtx_u128 two_l = (dtx_u128)1 << l;
    dtx_udiv u = {.magic = (uint64_t)(((two_l - d) << 64) / d + 1),
                  .sh1 = (uint8_t)(l ? 1 : 0), .sh2 = (uint8_t)(l ? l - 1 : 0)};
    return u;
}

static inline uint64_t udiv(const dtx_udiv *u, uint64_t n)
{
    uint64_t t = (uint64_t)(((dtx_u128)n * u->magic) >> 64);
    return (t + ((n - t) >> u->sh1)) >> u->sh2;
}

typedef struct dtx_book {
    dtx_level *levels;       /* [n_levels] */
    dtx_bitset bits[2];      /* BID, ASK */
    uint32_t best[2];        /* best level per side or DTX_NONE */
    uint32_t n_levels;
    uint32_t last_level;     /* level of the last trade, DTX_NONE before any */
    int64_t min_ticks;       /* price of level 0, in ticks */
    int64_t min_price;       /* PRICE9 of level 0 */
    int64_t tick;            /* PRICE9 */
    dtx_udiv tick_div;       /* division by tick */
    int64_t min_qty, max_qty, lot;
    uint32_t band;           /* market protection band, ticks */
    uint32_t security_id;
    uint8_t status;          /* dtx_trading_status */
    dtx_stop_heap stops[2];  /* BID: buy stops, ASK: sell stops */
    dtx_instrument_config cfg;
} dtx_book;

#define EVBUF_CAP 256

struct dtx_engine {
    /* hot */
    dtx_order *orders;       /* [max_orders + 1]; slot 0 is never an order (it
                                takes level_unlink_only()'s neighbourless link writes) */
    uint32_t *buckets;       /* ClOrdID index */
    uint32_t bucket_mask;    /* bucket count - 1 */
    uint32_t bucket_shift;   /* 64 - log2(bucket count): the hash bits above pick */
    uint32_t tag_rmask;      /* 2^floor(log2(spare bucket-word bits)) - 1: index_tag */
    uint32_t free_head, free_tail, n_free;
    uint32_t max_orders;
    dtx_ice *ice;            /* iceberg table: open addressing on the handle */
    uint32_t ice_mask;       /* table size - 1 (a power of two above max_icebergs) */
    uint32_t ice_shift;      /* 32 - log2(table size) */
    uint32_t n_ice, max_icebergs;
    dtx_book *books;
    uint32_t n_books;
    uint16_t *sid_table;     /* security_id hash -> book index + 1 */
    uint32_t sid_mask;

    const dtx_command *cmd;  /* command being processed */
    uint64_t next_exec_id;
    uint64_t next_trade_id;
    uint64_t next_accept;

    int prefetch;            /* books outgrow the caches: prefetch.c hints pay */

    dtx_event *ev;           /* [EVBUF_CAP] */
    uint32_t ev_n;
    dtx_event_sink_fn sink;
    void *sink_ctx;
    dtx_gate_fn gate;
    void *gate_ctx;

    dtx_expiry_entry *expiry; /* heap */
    uint32_t n_expiry, max_timed;
    dtx_stop_entry *scratch;  /* mass cancel: stops in trigger order */
    uint32_t max_stops;
    uint64_t day_offset_ns;

    dtx_engine_stats stats;
};

/* ---- bitset (inline: on every add, remove and best-price move) ---------- */

static inline void bitset_set(dtx_bitset *s, uint32_t i)
{
    for (int d = 0; d < 4; d++) {
        uint64_t *w = &s->w[d][i >> 6];
        uint64_t old = *w;
        *w = old | (1ULL << (i & 63));
        if (old)
            return; /* upper tiers already mark this word */
        i >>= 6;
    }
}

static inline void bitset_clear(dtx_bitset *s, uint32_t i)
{
    for (int d = 0; d < 4; d++) {
        uint64_t *w = &s->w[d][i >> 6];
        *w &= ~(1ULL << (i & 63));
        if (*w)
            return;
        i >>= 6;
    }
}

/* Lowest set bit >= i, or DTX_NONE. */
static inline uint32_t bitset_next(const dtx_bitset *s, uint32_t i)
{
    int d = 0;
    for (; d < 4; d++) {
        uint32_t wi = i >> 6;
        if (wi >= s->nwords[d])
            return DTX_NONE;
        uint64_t m = s->w[d][wi] & (~0ULL << (i & 63));
        if (m) {
            i = (wi << 6) | (uint32_t)__builtin_ctzll(m);
            break;
        }
        i = wi + 1; /* words after wi, as a bit index one tier up */
    }
    if (d == 4)
        return DTX_NONE;
    for (; d > 0; d--)
        i = (i << 6) | (uint32_t)__builtin_ctzll(s->w[d - 1][i]);
    return i;
}

/* Highest set bit <= i, or DTX_NONE. i may be DTX_NONE-1 .. any. */
static inline uint32_t bitset_prev(const dtx_bitset *s, uint32_t i)
{
    int d = 0;
    for (; d < 4; d++) {
        uint32_t wi = i >> 6;
        if (wi >= s->nwords[d]) {
            /* clamp to the last word of this tier */
            wi = s->nwords[d] - 1;
            i = (wi << 6) | 63;
        }
        uint64_t m = s->w[d][wi] & (~0ULL >> (63 - (i & 63)));
        if (m) {
            i = (wi << 6) | (uint32_t)(63 - __builtin_clzll(m));
            break;
        }
        if (wi == 0)
            return DTX_NONE;
        i = wi - 1;
    }
    if (d == 4)
        return DTX_NONE;
    for (; d > 0; d--)
        i = (i << 6) | (uint32_t)(63 - __builtin_clzll(s->w[d - 1][i]));
    return i;
}

/* ---- levels ------------------------------------------------------------- */

static inline int64_t level_price(const dtx_book *b, uint32_t level)
{
    return b->min_price + (int64_t)level * b->tick;
}

/* Appends order h at the tail of its level, marking the level and best;
 * its state is the caller's (level_append() sets it). */
static inline void level_link_tail(dtx_engine *e, dtx_book *b, uint32_t h)
{
    dtx_order *o = &e->orders[h];
    dtx_level *lv = &b->levels[o->level];
    o->next = DTX_NIL;
    o->prev = lv->tail;
    if (lv->tail)
        e->orders[lv->tail].next = h;
    else {
        lv->head = h;
        bitset_set(&b->bits[o->side], o->level);
        /* a new best: above the bid, below the ask; branch-free on the side
         * (a coin toss to the predictor) */
        uint32_t best = b->best[o->side];
        int64_t d = (int64_t)o->level - (int64_t)best, s = -(int64_t)o->side; /* BID 0, ASK -1 */
        if (best == DTX_NONE || ((d ^ s) - s) > 0)
            b->best[o->side] = o->level;
    }
    lv->tail = h;
}

/* Appends order h at the tail of its level, marking the level and best. */
static inline void level_append(dtx_engine *e, dtx_book *b, uint32_t h)
{
    level_link_tail(e, b, h);
    order_set_state(&e->orders[h], OS_RESTING);
}

/* Unlinks order h from its level; moves best when the level empties. Its
 * state is the caller's (level_unlink() sets it). */
static inline __attribute__((always_inline)) void level_unlink_only(dtx_engine *e, dtx_book *b, uint32_t h)
{
    dtx_order *o = &e->orders[h];
    dtx_level *lv = &b->levels[o->level];
    /* branch-free: whether an order is at the head or the tail of its level
     * is a coin toss to the predictor. Slot 0, never an order, takes the link
     * write that has no neighbour to go to (nothing reads its links). */
    uint32_t p = o->prev, n = o->next;
    e->orders[p].next = n;
    e->orders[n].prev = p;
    /* cmov, not ternaries: GCC 12 turned `lv->head = p ? lv->head : n` into
     * a branch around the store, also with __builtin_expect_with_probability
     * (on the hot profile about one unlinked order in ten heads its level and
     * one in ten ends it). Masks: 29.87M -> 30.02M commands/s but 12 more
     * instructions a command; two cmovs: 30.13M -> 30.40M and 30.19M ->
     * 30.46M against the masks (medians of 5 interleaved rounds). */
    uint32_t hd = lv->head, tl = lv->tail;
#if defined(__x86_64__)
    __asm__("test %[p], %[p]\n\tcmovz %[n], %[hd]\n\ttest %[n], %[n]\n\tcmovz %[p], %[tl]"
            : [hd] "+&r"(hd), [tl] "+&r"(tl)
            : [p] "r"(p), [n] "r"(n)
            : "cc");
#else
    uint32_t mp = -(uint32_t)(p != 0), mn = -(uint32_t)(n != 0);
    hd = (hd & mp) | (n & ~mp);
    tl = (tl & mn) | (p & ~mn);
#endif
    lv->head = hd;
    lv->tail = tl;
    if (!hd) {
        dtx_bitset *s = &b->bits[o->side];
        bitset_clear(s, o->level);
        if (b->best[o->side] == o->level) {
            if (o->side == BID)
                b->best[BID] = o->level ? bitset_prev(s, o->level - 1) : DTX_NONE;
            else
                b->best[ASK] = bitset_next(s, o->level + 1);
        }
    }
}

/* Unlinks order h from its level (it becomes active); moves best when the
 * level empties. */
static inline __attribute__((always_inline)) void level_unlink(dtx_engine *e, dtx_book *b, uint32_t h)
{
    level_unlink_only(e, b, h);
    order_set_state(&e->orders[h], OS_ACTIVE);
}

/* ---- books and prices ------------------------------------------------------ */

/* The book of security_id, or NULL. The table has twice as many slots as
 * books, so the probe always meets an empty slot. */
static inline dtx_book *book_find(const dtx_engine *e, uint32_t security_id)
{
    uint32_t slot = (security_id * 2654435761u) & e->sid_mask;
    for (;;) {
        uint16_t v = e->sid_table[slot];
        if (!v)
            return NULL;
        if (e->books[v - 1].security_id == security_id)
            return &e->books[v - 1];
        slot = (slot + 1) & e->sid_mask;
    }
}

/* Price in ticks; *on_tick tells whether it was a whole number of ticks. */
static inline int64_t price_ticks(const dtx_book *b, int64_t price, int *on_tick)
{
    /* prices reaching here are > 0 (validated); '/' kept for any other */
    int64_t q = likely(price > 0) ? (int64_t)udiv(&b->tick_div, (uint64_t)price) : price / b->tick;
    *on_tick = q * b->tick == price;
    return q;
}

/* Ticks -> ladder level; 0 when outside the instrument's range. */
static inline int ticks_level(const dtx_book *b, int64_t ticks, uint32_t *level)
{
    int64_t l = ticks - b->min_ticks;
    if ((uint64_t)l >= b->n_levels) /* below level 0 wraps */
        return 0;
    *level = (uint32_t)l;
    return 1;
}

/* ---- orders.c: pool, ClOrdID index, heaps --------------------------------- */

/* Hash of (account, ClOrdID); its high bits pick the bucket. Fibonacci
 * hashing (Knuth 6.4) twice with a fold between: the top bits of a product
 * depend on every input bit, and the second round spreads keys that differ
 * only in a few bits of each byte (ASCII digits) as evenly as a full 64-bit
 * mixer (murmur3's fmix64, used before) does, in fewer instructions; a
 * replace hashes twice. */
static inline uint64_t index_hash(uint32_t account, uint64_t clordid)
{
    uint64_t x = (clordid ^ ((uint64_t)account << 32) ^ account) * 0x9e3779b97f4a7c15ULL;
    return (x ^ (x >> 32)) * 0x9e3779b97f4a7c15ULL;
}

/* Bucket of (account, ClOrdID) (also used to prefetch). */
static inline uint32_t *index_bucket(const dtx_engine *e, uint64_t x)
{
    return &e->buckets[x >> e->bucket_shift];
}

/* ---- ClOrdID index (inline: on every new order, cancel and replace) -----------
 * One bucket per order slot (a power of two), chained through the orders'
 * hnext. An open-addressed table with tags (no order record read unless a tag
 * matches) was tried: it cost the hot profile 8% in time (data-dependent probe
 * loops) and gave the large profile nothing measurable.
 *
 * A bucket word holds the chain head in its low bits (bucket_mask: handles
 * are below the bucket count) and, in the spare high bits, a one-hash Bloom
 * filter of its chain: each member ORs in index_tag() of its hash. The filter
 * is conservative: a removal keeps its bit (another member may share it) and
 * only an emptied chain clears it. A ClOrdID whose bit is clear is not in the
 * chain, so the duplicate check on a new ClOrdID usually ends without reading
 * an order. */

/* Filter bit of hash x: one of the top tag_rmask + 1 of the 32 - log2(bucket
 * count) spare bits, picked by the low bits of x (the bucket takes the high
 * bits); 0 when there are no spare bits (then the filter never excludes). */
static inline uint32_t index_tag(const dtx_engine *e, uint64_t x)
{
    return (0x80000000u >> ((uint32_t)x & e->tag_rmask)) & ~e->bucket_mask;
}

/* Whether the filter of bucket word w excludes hash x (the key is absent). */
static inline int index_excludes(const dtx_engine *e, uint32_t w, uint64_t x)
{
    return (index_tag(e, x) & ~w) != 0 || !w;
}

/* The working order (account, clordid) in its bucket, or DTX_NIL; bucket =
 * index_bucket(e, x), x = index_hash(account, clordid), which the caller may
 * keep for index_insert_at (the bucket array never moves: the shift and base
 * are not reloaded after the stores in between). */
static inline uint32_t index_find_at(const dtx_engine *e, const uint32_t *bucket, uint64_t x, uint32_t account,
                                     uint64_t clordid)
{
    uint32_t w = *bucket;
    if (index_excludes(e, w, x))
        return DTX_NIL;
    uint32_t h = w & e->bucket_mask;
    while (h) {
        const dtx_order *o = &e->orders[h];
        if (o->clordid == clordid && o->account == account)
            return h;
        h = o->hnext;
    }
    return DTX_NIL;
}

static inline uint32_t index_find_hashed(const dtx_engine *e, uint64_t x, uint32_t account, uint64_t clordid)
{
    return index_find_at(e, index_bucket(e, x), x, account, clordid);
}

static inline uint32_t index_find(const dtx_engine *e, uint32_t account, uint64_t clordid)
{
    return index_find_hashed(e, index_hash(account, clordid), account, clordid);
}

/* Indexes order h in bucket = index_bucket(e, x), x = index_hash(its account,
 * its ClOrdID). */
static inline void index_insert_at(dtx_engine *e, uint32_t h, uint32_t *bucket, uint64_t x)
{
    uint32_t w = *bucket;
    e->orders[h].hnext = w & e->bucket_mask;
    *bucket = (w & ~e->bucket_mask) | index_tag(e, x) | h;
}

/* Indexes order h; x = index_hash(its account, its ClOrdID). */
static inline void index_insert_hashed(dtx_engine *e, uint32_t h, uint64_t x)
{
    index_insert_at(e, h, index_bucket(e, x), x);
}

static inline void index_insert(dtx_engine *e, uint32_t h)
{
    index_insert_hashed(e, h, index_hash(e->orders[h].account, e->orders[h].clordid));
}

static inline void index_remove(dtx_engine *e, uint32_t h)
{
    dtx_order *o = &e->orders[h];
    uint32_t *bucket = index_bucket(e, index_hash(o->account, o->clordid));
    uint32_t w = *bucket;
    if ((w & e->bucket_mask) == h) {
        /* an emptied chain clears its filter; branch-free: whether a chain
         * has a second member is a coin toss to the predictor */
        uint32_t n = o->hnext;
        *bucket = ((w & ~e->bucket_mask) | n) & -(uint32_t)(n != 0);
    } else if (w & e->bucket_mask) {
        uint32_t *p = &e->orders[w & e->bucket_mask].hnext;
        while (*p && *p != h)
            p = &e->orders[*p].hnext;
        if (*p)
            *p = o->hnext;
    }
    o->hnext = DTX_NIL;
}

/* ---- iceberg table (orders.c; only orders with OF_ICEBERG are in it) ----------
 * The display state of icebergs lives beside the order records, not in them:
 * few orders are icebergs, and two fields fewer make an order record 48 bytes.
 * Linear probing over at most 3/4 of a power-of-two table, keyed by handle. */

/* The table entry of iceberg order h (which must be in the table). */
static inline dtx_ice *ice_find(const dtx_engine *e, uint32_t h)
{
    uint32_t i = (h * 0x9e3779b1u) >> e->ice_shift;
    while (e->ice[i].handle != h)
        i = (i + 1) & e->ice_mask;
    return &e->ice[i];
}

/* Displayed quantity of a resting order. */
static inline uint32_t order_shown(const dtx_engine *e, uint32_t h)
{
    const dtx_order *o = &e->orders[h];
    return unlikely(o->flags & OF_ICEBERG) ? ice_find(e, h)->shown : o->leaves;
}

/* DisplayQty of an order; 0 when it is not an iceberg. */
static inline uint32_t order_peak(const dtx_engine *e, uint32_t h)
{
    const dtx_order *o = &e->orders[h];
    return unlikely(o->flags & OF_ICEBERG) ? ice_find(e, h)->peak : 0;
}

/* Makes order h an iceberg showing at most peak (> 0); n_ice < max_icebergs
 * (the caller checked). */
void ice_insert(dtx_engine *e, uint32_t h, uint32_t peak);
/* Order h is an iceberg no more. */
void ice_remove(dtx_engine *e, uint32_t h);

uint32_t pool_alloc(dtx_engine *e);
void pool_free(dtx_engine *e, uint32_t h);

/* match.c: cmds[0..n) one after the other, exactly as n dtx_engine_submit()
 * calls, with pf (NULL for none) called pf_ahead commands ahead of each: the
 * burst when the engine's own prefetch stages are off. */
void submit_run(dtx_engine *e, const dtx_command *cmds, size_t n, dtx_prefetch_fn pf, const void *pf_ctx,
                size_t pf_ahead);

void stop_push(dtx_engine *e, dtx_stop_heap *hp, uint32_t h, uint32_t level, uint64_t accept);
void stop_remove(dtx_engine *e, dtx_stop_heap *hp, uint32_t pos);
int stop_before(const dtx_stop_heap *hp, const dtx_stop_entry *x, const dtx_stop_entry *y);
void stop_sift_down(dtx_engine *e, dtx_stop_heap *hp, dtx_stop_entry *a, uint32_t n, uint32_t pos);

int expiry_reserve(dtx_engine *e);
int expiry_is_live(const dtx_engine *e, const dtx_expiry_entry *x);
void expiry_push(dtx_engine *e, uint64_t expire, uint32_t h, uint64_t accept);
void expiry_pop(dtx_engine *e);

#endif /* DTX_ENGINE_INTERNAL_H */
