/*
 * prefetch.c - bursts of commands with the memory they will touch prefetched.
 *
 * Once the books outgrow the caches (a million resting orders), a command
 * spends most of its time waiting for DRAM: the order it names, the order's
 * neighbours in its level FIFO, the ClOrdID index buckets of the old and new
 * ClOrdID, the level at a new price and that level's tail order. The core
 * thread takes commands from its ring in bursts, so it knows the next ones
 * before it processes the current one: dtx_engine_submit_burst() walks the
 * burst in three prefetch stages ahead of the command being processed,
 *
 *   stage 1, PF_FAR commands ahead:  what the command itself names (the order
 *            slot of its OrderID, the index bucket of its ClOrdID, the level
 *            of its price), read into the outer caches;
 *   stage 2, PF_NEAR commands ahead: what that leads to, read from what stage
 *            1 brought in (the named order's level neighbours and the bucket
 *            of its current ClOrdID, or, for a cancel or replace naming its
 *            order by OrigClOrdID only, that order, found through the bucket
 *            (its neighbours and level then come at stage 3); the first
 *            order chained from the new ClOrdID's bucket, which the
 *            duplicate check reads; at the new price the tail order of the
 *            level, or the first order it would trade with);
 *   stage 3, PF_CHAIN commands ahead: the chain from the named order's bucket
 *            up to the order, which the index removal walks; for an order
 *            that will trade, the successor and the ClOrdID bucket of the
 *            first order it meets (filled, that order leaves its level and
 *            the index).
 * The first commands of a burst get stages 1 and 2 together before any runs,
 * and pool_alloc() prefetches the slot the next new order will get.
 * dtx_engine_submit_burst_pf() adds another module's hint, PF_HINT commands
 * ahead: the core passes dtx_risk_prefetch (the account and position the
 * gate and the accounting read).
 *
 * An order record is 48 bytes, so half of them straddle two cache lines: the
 * named order is prefetched whole (both lines), its neighbours and the tail order
 * only at the link field the command will write.
 *
 * Prefetches are hints only: they read engine state that may change before
 * the command runs, change nothing, and are bounds-checked so that any command
 * (malformed ones included) is safe to prefetch. Events and their order are
 * exactly those of dtx_engine_submit() called on each command in turn.
 */
#include "engine/internal.h"

#ifndef PF_FAR /* -D for experiments */
#define PF_FAR 12
#define PF_NEAR 6
#define PF_CHAIN 3
#endif
/* Another module's hint (dtx_engine_submit_burst_pf; the core passes the
 * risk's): 8 ahead, the distance the core used before it had the burst path.
 * perf/bench_risk --orders 1000000 --core-only, paired runs of the core path
 * against the old core loop: the gap was smaller with the hint 8 ahead than
 * 12 ahead (stage 1) in 5 of 6 pairs. */
#ifndef PF_HINT
#define PF_HINT 8
#endif

/* The prefetches are volatile asm, not __builtin_prefetch: GCC gives the
 * builtin no side effect, so a helper whose only effect is prefetching
 * (pf_chain, pf_arrival, pf_maker once split off by the inliner) is found
 * pure, and its calls, whose value nobody uses, are deleted. Built with the
 * builtin, GCC 12 -O2 left 11 prefetch instructions for 18 call sites,
 * dropping the duplicate check's chain, the arrival's level tail or first
 * maker, and stage 3's maker lines; the large profile ran 7.3M ops/s, against 10.3M
 * with every prefetch kept (interleaved runs, perf/RESULTS.md).
 * tests/tools/check_prefetch_kept.sh fails the build's tests if a call site
 * has no prefetch instruction left. */
#if defined(__x86_64__) || defined(__i386__)
/* into L1, for a line the command will write (prefetcht0: PREFETCHW is not
 * in the x86-64-v2 baseline) */
static inline void pf_w(const void *p) { __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p)); }
/* Stage 1, the farthest ahead, asks for a read into the outer caches
 * (prefetcht1), not for ownership into L1; stage 2 reads these lines first
 * and the command then writes them. */
static inline void pf_far(const void *p) { __asm__ volatile("prefetcht1 %0" : : "m"(*(const char *)p)); }
#else
static inline void pf_w(const void *p) { __builtin_prefetch(p, 1, 3); }
static inline void pf_far(const void *p) { __builtin_prefetch(p, 0, 2); }
#endif

/* An order record, both cache lines: a 48-byte record straddles two lines at
 * two of every four slots, and the command path reads fields of both. */
static inline void pf_order(const dtx_engine *e, uint32_t h)
{
    const char *p = (const char *)&e->orders[h];
    pf_w(p);
    pf_w(p + sizeof(dtx_order) - 1);
}

/* The slot named by a command's OrderID, or DTX_NIL. */
static inline uint32_t named_slot(const dtx_engine *e, const dtx_command *c)
{
    uint32_t h = (uint32_t)c->order_id;
    return h && h <= e->max_orders ? h : DTX_NIL;
}

/* Ladder index of a PRICE9 price in book b, by the checks the command path
 * makes (price_ticks, ticks_level). Returns 0 for a null, non-positive,
 * off-tick or out-of-range price. */
static inline int price_level(const dtx_book *b, int64_t price, uint32_t *level)
{
    int on_tick;
    if (price <= 0) /* DTX_PRICE_NULL included */
        return 0;
    int64_t t = price_ticks(b, price, &on_tick);
    return on_tick && ticks_level(b, t, level);
}

void dtx_engine_prefetch(const dtx_engine *e, const dtx_command *c)
{
    if (!e->prefetch)
        return;
    switch (c->type) {
    case DTX_CMD_NEW_ORDER: {
        pf_far(index_bucket(e, index_hash(c->account, c->clordid)));
        const dtx_book *b = book_find(e, c->security_id);
        if (b) {
            uint32_t l;
            if (price_level(b, c->price, &l))
                pf_far(&b->levels[l]);
        }
        break;
    }
    case DTX_CMD_REPLACE:
        pf_far(index_bucket(e, index_hash(c->account, c->clordid)));
        /* fall through */
    case DTX_CMD_CANCEL: {
        uint32_t h = named_slot(e, c);
        if (h) {
            const char *q = (const char *)&e->orders[h]; /* both lines, as pf_order() */
            pf_far(q);
            pf_far(q + sizeof(dtx_order) - 1);
        } else {
            pf_far(index_bucket(e, index_hash(c->account, c->orig_clordid)));
        }
        break;
    }
    default:
        break;
    }
}

/* The first order chained from the bucket of hash x (stage 1 prefetched the
 * bucket): the duplicate check reads its ClOrdID, account and chain link. */
static inline void pf_chain(const dtx_engine *e, uint64_t x)
{
    uint32_t w = *index_bucket(e, x);
    uint32_t h = w & e->bucket_mask;
    if (!index_excludes(e, w, x) && h && h <= e->max_orders) {
        pf_w(&e->orders[h].clordid);
        pf_w(&e->orders[h].hnext);
    }
}

/* Level l of book b, the price of an order arriving on side: the link field
 * of its tail order, which an append writes, or, when the price reaches the
 * best opposite level, the order at the head of that level, which it trades
 * with first. */
static inline void pf_arrival(const dtx_engine *e, const dtx_book *b, int side, uint32_t l)
{
    uint32_t best = b->best[side ^ 1];
    if (best != DTX_NONE && (side == BID ? best <= l : best >= l)) {
        uint32_t r = b->levels[best].head;
        if (r && r <= e->max_orders)
            pf_order(e, r);
        return;
    }
    uint32_t t = b->levels[l].tail;
    if (t && t <= e->max_orders)
        pf_w(&e->orders[t].next);
}

/* The first order chained from the bucket of the ClOrdID a cancel or replace
 * without OrderID names (orig_clordid; stage 1 prefetched the bucket), or
 * DTX_NIL. With one bucket per order slot it is nearly always the order. */
static inline uint32_t indexed_slot(const dtx_engine *e, const dtx_command *c)
{
    uint64_t x = index_hash(c->account, c->orig_clordid);
    uint32_t w = *index_bucket(e, x);
    uint32_t h = w & e->bucket_mask;
    return !index_excludes(e, w, x) && h && h <= e->max_orders ? h : DTX_NIL;
}

/* What a cancel or replace of the working order o will touch besides o: the
 * links of its level neighbours, its ClOrdID bucket and level and, for a
 * replace, the new ClOrdID's chain and the arrival at the new price. */
static inline void pf_named(const dtx_engine *e, const dtx_command *c, const dtx_order *o)
{
    /* the neighbours: only the line of the link the unlink writes */
    if (o->prev && o->prev <= e->max_orders)
        pf_w(&e->orders[o->prev].next);
    if (o->next && o->next <= e->max_orders)
        pf_w(&e->orders[o->next].prev);
    pf_w(index_bucket(e, index_hash(o->account, o->clordid)));
    const dtx_book *b = &e->books[o->book];
    if (o->level < b->n_levels)
        pf_w(&b->levels[o->level]);
    if (c->type == DTX_CMD_REPLACE) {
        pf_chain(e, index_hash(c->account, c->clordid));
        uint32_t l;
        if (o->side <= ASK && price_level(b, c->price, &l))
            pf_arrival(e, b, o->side, l);
    }
}

/* Stage 2: the memory the named order leads to. Reads the slot stage 1
 * prefetched; every index read is bounds-checked. An order named by ClOrdID
 * only is one step behind: here its record, at stage 3 the rest. */
static inline void prefetch_deps(const dtx_engine *e, const dtx_command *c)
{
    if (c->type == DTX_CMD_NEW_ORDER) {
        pf_chain(e, index_hash(c->account, c->clordid));
        const dtx_book *b = book_find(e, c->security_id);
        uint32_t l;
        if (b && (c->side == DTX_SIDE_BUY || c->side == DTX_SIDE_SELL) && price_level(b, c->price, &l))
            pf_arrival(e, b, c->side - 1, l);
        return;
    }
    if (c->type != DTX_CMD_CANCEL && c->type != DTX_CMD_REPLACE)
        return;
    uint32_t h = named_slot(e, c);
    if (!h) {
        if ((h = indexed_slot(e, c)))
            pf_order(e, h);
        return;
    }
    const dtx_order *o = &e->orders[h];
    if (o->gen != (uint32_t)(c->order_id >> 32) || o->book >= e->n_books)
        return;
    pf_named(e, c, o);
}

/* Stage 3: the ClOrdID chain from the named order's bucket (stage 2
 * prefetched it) up to the order, which the index removal walks. */
/* An arriving order on side at level l that reaches the best opposite level
 * takes its head order first (stage 2 prefetched it): when it fills that
 * order, the order's successor becomes the head and its ClOrdID leaves the
 * index. Their lines. */
static inline void pf_maker(const dtx_engine *e, const dtx_book *b, int side, uint32_t l)
{
    uint32_t best = b->best[side ^ 1];
    if (best == DTX_NONE || !(side == BID ? best <= l : best >= l))
        return;
    uint32_t r = b->levels[best].head;
    if (!r || r > e->max_orders)
        return;
    const dtx_order *m = &e->orders[r];
    if (m->next && m->next <= e->max_orders)
        pf_w(&e->orders[m->next].prev);
    pf_w(index_bucket(e, index_hash(m->account, m->clordid)));
}

static inline void prefetch_chain(const dtx_engine *e, const dtx_command *c)
{
    uint32_t l;
    if (c->type == DTX_CMD_NEW_ORDER) {
        const dtx_book *b = book_find(e, c->security_id);
        if (b && (c->side == DTX_SIDE_BUY || c->side == DTX_SIDE_SELL) && price_level(b, c->price, &l))
            pf_maker(e, b, c->side - 1, l);
        return;
    }
    if (c->type != DTX_CMD_CANCEL && c->type != DTX_CMD_REPLACE)
        return;
    uint32_t h = named_slot(e, c);
    if (!h) { /* by ClOrdID: stage 2 brought in the order */
        const dtx_order *o = (h = indexed_slot(e, c)) ? &e->orders[h] : NULL;
        if (o && o->clordid == c->orig_clordid && o->account == c->account && o->book < e->n_books)
            pf_named(e, c, o);
        return;
    }
    const dtx_order *o = &e->orders[h];
    uint32_t k = *index_bucket(e, index_hash(o->account, o->clordid)) & e->bucket_mask;
    if (k != h && k && k <= e->max_orders)
        pf_w(&e->orders[k].hnext);
    if (c->type == DTX_CMD_REPLACE && o->book < e->n_books && o->side <= ASK &&
        price_level(&e->books[o->book], c->price, &l))
        pf_maker(e, &e->books[o->book], o->side, l);
}

/* The burst, with pf (another module's hint, NULL for none) called PF_HINT
 * commands ahead. Inlined into both entry points, so the one without pf has no
 * test for it. */
static inline __attribute__((always_inline)) void burst(dtx_engine *e, const dtx_command *cmds, size_t n,
                                                        dtx_prefetch_fn pf, const void *pf_ctx)
{
    size_t far = n < PF_FAR ? n : PF_FAR, near = n < PF_NEAR ? n : PF_NEAR;
    if (pf)
        for (size_t i = 0; i < n && i < PF_HINT; i++)
            pf(pf_ctx, &cmds[i]);
    if (!e->prefetch) { /* everything is in the caches already */
        submit_run(e, cmds, n, pf, pf_ctx, PF_HINT);
        return;
    }
    /* the burst's first commands get every stage now: their misses overlap
     * here instead of stalling each command in turn */
    for (size_t i = 0; i < far; i++)
        dtx_engine_prefetch(e, &cmds[i]);
    for (size_t i = 0; i < near; i++)
        prefetch_deps(e, &cmds[i]);
    for (size_t i = 0; i < n; i++) {
        if (i + PF_FAR < n)
            dtx_engine_prefetch(e, &cmds[i + PF_FAR]);
        if (pf && i + PF_HINT < n)
            pf(pf_ctx, &cmds[i + PF_HINT]);
        if (i + PF_NEAR < n)
            prefetch_deps(e, &cmds[i + PF_NEAR]);
        if (i + PF_CHAIN < n)
            prefetch_chain(e, &cmds[i + PF_CHAIN]);
        dtx_engine_submit(e, &cmds[i]);
    }
}

void dtx_engine_submit_burst(dtx_engine *e, const dtx_command *cmds, size_t n)
{
    burst(e, cmds, n, NULL, NULL);
}

void dtx_engine_submit_burst_pf(dtx_engine *e, const dtx_command *cmds, size_t n, dtx_prefetch_fn pf,
                                const void *pf_ctx)
{
    burst(e, cmds, n, pf, pf_ctx);
}
