/*
 * engine.c - creating and destroying an engine, its digest and read-only views.
 *
 * dtx_engine_create() validates the configuration (naming the field and value
 * of the first problem), then reserves and touches all memory the engine will
 * ever use: the order pool, the ClOrdID index, one price ladder and two bitsets
 * per book, the stop heaps, the expiry heap and the event buffer. After it
 * returns, the command path (match.c) allocates nothing.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "engine/internal.h"

/* Orders and index above this size (about 16k orders) no longer sit in the
 * per-core caches, and the prefetch hints of prefetch.c start to pay; below
 * it they are pure cost (about 50 instructions a command, measured with the
 * hot profile of perf/bench_book.c). */
#define PREFETCH_MIN_BYTES (1u << 20)

#define HUGE_PAGE ((size_t)2 << 20)

/* Reserves zeroed memory, touched so no page fault is left for the hot path.
 * Adds the bytes asked for to *acc, also when they cannot be had: on success
 * the total reserved, on failure what the configuration asked for so far. */
static void *reserve(size_t bytes, size_t *acc)
{
    if (bytes == 0)
        bytes = 1;
    bytes = (bytes + 63) & ~(size_t)63;
    /* 2 MiB and more (the order pool and index of a large engine): on
     * transparent huge pages where the kernel offers them, so that random
     * accesses do not each pay a page walk */
    size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : 64;
    *acc += bytes;
    void *p = NULL;
    if (posix_memalign(&p, align, bytes) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (align == HUGE_PAGE)
        (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
    memset(p, 0, bytes);
    return p;
}

static uint32_t pow2_at_least(uint64_t n)
{
    uint32_t p = 16;
    while (p < n && p < (1u << 31))
        p <<= 1;
    return p;
}

static dtx_status validate_instrument(const dtx_instrument_config *ic, uint32_t i)
{
    if (ic->security_id == 0)
        return dtx_error_set(DTX_EINVAL, "instruments[%u].security_id: 0 is not a valid SecurityID", i);
    if (ic->tick_size <= 0)
        return dtx_error_set(DTX_EINVAL, "instruments[%u].tick_size: %lld must be > 0", i, (long long)ic->tick_size);
    if (ic->min_price <= 0 || ic->min_price % ic->tick_size)
        return dtx_error_set(DTX_EINVAL, "instruments[%u].min_price: %lld must be > 0 and on the tick %lld", i,
                             (long long)ic->min_price, (long long)ic->tick_size);
    if (ic->max_price < ic->min_price || ic->max_price % ic->tick_size)
        return dtx_error_set(DTX_EINVAL, "instruments[%u].max_price: %lld must be >= min_price %lld and on the tick", i,
                             (long long)ic->max_price, (long long)ic->min_price);
    int64_t levels = (ic->max_price - ic->min_price) / ic->tick_size + 1;
    if (levels > (int64_t)DTX_MAX_LEVELS)
        return dtx_error_set(DTX_EINVAL, "instruments[%u].max_price: range of %lld ticks exceeds %u", i,
                             (long long)levels, DTX_MAX_LEVELS);
    if (ic->lot_size <= 0)
        return dtx_error_set(DTX_EINVAL, "instruments[%u].lot_size: %lld must be > 0", i, (long long)ic->lot_size);
    if (ic->min_qty <= 0 || ic->min_qty % ic->lot_size)
        return dtx_error_set(DTX_EINVAL, "instruments[%u].min_qty: %lld must be > 0 and a multiple of lot_size %lld", i,
                             (long long)ic->min_qty, (long long)ic->lot_size);
    if (ic->max_qty < ic->min_qty || ic->max_qty > DTX_MAX_ORDER_QTY || ic->max_qty % ic->lot_size)
        return dtx_error_set(DTX_EINVAL,
                             "instruments[%u].max_qty: %lld must be in [min_qty %lld, %lld] and a multiple of lot_size",
                             i, (long long)ic->max_qty, (long long)ic->min_qty, (long long)DTX_MAX_ORDER_QTY);
    if (ic->type < DTX_INSTR_PERPETUAL || ic->type > DTX_INSTR_OPTION)
        return dtx_error_set(DTX_EINVAL, "instruments[%u].type: %u is not 1, 2 or 3", i, ic->type);
    /* Any positive max_price is valid (engine.h sets no bound beyond the
     * level count): the books work in levels, and a level's price,
     * min_price + level * tick_size, never exceeds max_price. */
    return DTX_OK;
}

static dtx_status validate(const dtx_engine_config *cfg)
{
    if (!cfg)
        return dtx_error_set(DTX_EINVAL, "config: NULL");
    if (!cfg->sink)
        return dtx_error_set(DTX_EINVAL, "sink: an event sink is required");
    if (!cfg->instruments || cfg->n_instruments == 0 || cfg->n_instruments > DTX_MAX_INSTRUMENTS)
        return dtx_error_set(DTX_EINVAL, "n_instruments: %u must be 1..%u with an instruments array",
                             cfg->n_instruments, DTX_MAX_INSTRUMENTS);
    if (cfg->max_orders == 0 || cfg->max_orders > (1u << 30))
        return dtx_error_set(DTX_EINVAL, "max_orders: %u must be 1..%u", cfg->max_orders, 1u << 30);
    if (cfg->max_timed == 0 || cfg->max_timed > (1u << 30))
        return dtx_error_set(DTX_EINVAL, "max_timed: %u must be 1..%u", cfg->max_timed, 1u << 30);
    if (cfg->max_stops == 0 || cfg->max_stops > (1u << 28))
        return dtx_error_set(DTX_EINVAL, "max_stops: %u must be 1..%u", cfg->max_stops, 1u << 28);
    if (cfg->max_icebergs > cfg->max_orders)
        return dtx_error_set(DTX_EINVAL, "max_icebergs: %u must be 0 (max_orders / 16 + 1) or 1..max_orders (%u)",
                             cfg->max_icebergs, cfg->max_orders);
    if (cfg->prefetch < DTX_PREFETCH_AUTO || cfg->prefetch > DTX_PREFETCH_NEVER)
        return dtx_error_set(DTX_EINVAL, "prefetch: %d must be 0 (auto), 1 (always) or 2 (never)", cfg->prefetch);
    if (cfg->day_offset_ns >= 86400000000000ULL)
        return dtx_error_set(DTX_EINVAL, "day_offset_ns: %llu must be below one day",
                             (unsigned long long)cfg->day_offset_ns);
    for (uint32_t i = 0; i < cfg->n_instruments; i++) {
        dtx_status st = validate_instrument(&cfg->instruments[i], i);
        if (st != DTX_OK)
            return st;
        for (uint32_t j = 0; j < i; j++)
            if (cfg->instruments[j].security_id == cfg->instruments[i].security_id)
                return dtx_error_set(DTX_EINVAL, "instruments[%u].security_id: %u is also instruments[%u]'s", i,
                                     cfg->instruments[i].security_id, j);
    }
    return DTX_OK;
}

static int bitset_init(dtx_bitset *s, uint32_t nbits, size_t *acc)
{
    uint32_t n = nbits;
    for (int d = 0; d < 4; d++) {
        n = (n + 63) / 64;
        s->nwords[d] = n;
        s->w[d] = reserve((size_t)n * 8, acc);
        if (!s->w[d])
            return 0;
    }
    return 1;
}

dtx_engine *dtx_engine_create(const dtx_engine_config *cfg)
{
    if (validate(cfg) != DTX_OK)
        return NULL;
    size_t acc = 0;
    dtx_engine *e = calloc(1, sizeof *e);
    if (!e) {
        dtx_error_set(DTX_ENOMEM, "engine: out of memory");
        return NULL;
    }
    e->max_orders = cfg->max_orders;
    e->max_timed = cfg->max_timed;
    e->max_stops = cfg->max_stops;
    e->max_icebergs = cfg->max_icebergs ? cfg->max_icebergs : cfg->max_orders / 16 + 1;
    e->day_offset_ns = cfg->day_offset_ns;
    e->sink = cfg->sink;
    e->sink_ctx = cfg->sink_ctx;
    e->next_exec_id = 1;
    e->next_trade_id = 1;
    e->next_accept = 1;

    e->orders = reserve(((size_t)cfg->max_orders + 1) * sizeof(dtx_order), &acc);
    uint32_t nb = pow2_at_least((uint64_t)cfg->max_orders + 1);
    e->buckets = reserve((size_t)nb * sizeof(uint32_t), &acc);
    e->bucket_mask = nb - 1;
    e->bucket_shift = (uint32_t)__builtin_clzll(nb) + 1; /* nb = 2^k: 64 - k */
    uint32_t spare = e->bucket_shift - 32;                /* bucket-word bits above a handle */
    e->tag_rmask = spare ? (1u << (31 - __builtin_clz(spare))) - 1 : 0;
    e->stats.order_bytes = acc;
    e->prefetch = cfg->prefetch == DTX_PREFETCH_ALWAYS || (cfg->prefetch == DTX_PREFETCH_AUTO && acc > PREFETCH_MIN_BYTES);
    e->ev = reserve(EVBUF_CAP * sizeof(dtx_event), &acc);
    e->expiry = reserve((size_t)cfg->max_timed * sizeof(dtx_expiry_entry), &acc);
    e->scratch = reserve((size_t)cfg->max_stops * sizeof(dtx_stop_entry), &acc);
    /* at most 3/4 full, one slot always empty (the probes end) */
    uint32_t ni = pow2_at_least((uint64_t)e->max_icebergs + e->max_icebergs / 3 + 1);
    e->ice = reserve((size_t)ni * sizeof(dtx_ice), &acc);
    e->ice_mask = ni - 1;
    e->ice_shift = (uint32_t)__builtin_clzll(ni) - 32 + 1; /* ni = 2^k: 32 - k */
    e->sid_mask = pow2_at_least((uint64_t)cfg->n_instruments * 2) - 1;
    e->sid_table = reserve((size_t)(e->sid_mask + 1) * sizeof(uint16_t), &acc);
    e->books = reserve((size_t)cfg->n_instruments * sizeof(dtx_book), &acc);
    if (!e->orders || !e->buckets || !e->ev || !e->expiry || !e->scratch || !e->ice || !e->sid_table || !e->books)
        goto nomem;

    /* free list 1..max_orders in order */
    for (uint32_t h = 1; h <= cfg->max_orders; h++)
        e->orders[h].next = h < cfg->max_orders ? h + 1 : DTX_NIL;
    e->free_head = 1;
    e->free_tail = cfg->max_orders;
    e->n_free = cfg->max_orders;

    e->n_books = cfg->n_instruments;
    for (uint32_t i = 0; i < cfg->n_instruments; i++) {
        const dtx_instrument_config *ic = &cfg->instruments[i];
        dtx_book *b = &e->books[i];
        b->cfg = *ic;
        b->security_id = ic->security_id;
        b->tick = ic->tick_size;
        b->tick_div = udiv_init((uint64_t)ic->tick_size);
        b->min_price = ic->min_price;
        b->min_ticks = ic->min_price / ic->tick_size;
        b->n_levels = (uint32_t)((ic->max_price - ic->min_price) / ic->tick_size + 1);
        b->min_qty = ic->min_qty;
        b->max_qty = ic->max_qty;
        b->lot = ic->lot_size;
        b->band = ic->market_band_ticks;
        b->status = DTX_TRADING_OPEN;
        b->best[BID] = b->best[ASK] = DTX_NONE;
        b->last_level = DTX_NONE;
        b->levels = reserve((size_t)b->n_levels * sizeof(dtx_level), &acc);
        if (!b->levels || !bitset_init(&b->bits[BID], b->n_levels, &acc) ||
            !bitset_init(&b->bits[ASK], b->n_levels, &acc))
            goto nomem;
        for (int s = 0; s < 2; s++) {
            b->stops[s].a = reserve((size_t)cfg->max_stops * sizeof(dtx_stop_entry), &acc);
            b->stops[s].cap = cfg->max_stops;
            b->stops[s].max_first = s == ASK;
            if (!b->stops[s].a)
                goto nomem;
        }
        uint32_t slot = (ic->security_id * 2654435761u) & e->sid_mask;
        while (e->sid_table[slot])
            slot = (slot + 1) & e->sid_mask;
        e->sid_table[slot] = (uint16_t)(i + 1);
    }
    e->stats.reserved_bytes = acc + sizeof *e;
    e->stats.max_orders = cfg->max_orders;
    return e;

nomem:
    dtx_engine_destroy(e);
    dtx_error_set(DTX_ENOMEM, "engine: cannot reserve %zu bytes for the configured capacities", acc);
    return NULL;
}

void dtx_engine_destroy(dtx_engine *e)
{
    if (!e)
        return;
    if (e->books) {
        for (uint32_t i = 0; i < e->n_books; i++) {
            dtx_book *b = &e->books[i];
            free(b->levels);
            for (int s = 0; s < 2; s++) {
                for (int d = 0; d < 4; d++)
                    free(b->bits[s].w[d]);
                free(b->stops[s].a);
            }
        }
    }
    free(e->books);
    free(e->orders);
    free(e->buckets);
    free(e->ev);
    free(e->expiry);
    free(e->scratch);
    free(e->ice);
    free(e->sid_table);
    free(e);
}

void dtx_engine_set_gate(dtx_engine *e, dtx_gate_fn fn, void *ctx)
{
    e->gate = fn;
    e->gate_ctx = ctx;
}

void dtx_engine_get_stats(const dtx_engine *e, dtx_engine_stats *out)
{
    *out = e->stats;
    out->events = e->next_exec_id - 1; /* one ExecID an event */
    out->working_orders = e->max_orders - e->n_free;
}

/* ---- lookups used by the views ---------------------------------------------- */

static void fill_view(const dtx_engine *e, uint32_t h, dtx_order_view *v)
{
    const dtx_order *o = &e->orders[h];
    const dtx_book *b = &e->books[o->book];
    memset(v, 0, sizeof *v);
    v->order_id = order_id_of(o, h);
    v->clordid = o->clordid;
    v->account = o->account;
    v->session = o->session;
    v->security_id = b->security_id;
    v->side = (uint8_t)(o->side + 1);
    v->ord_type = o->ord_type;
    v->tif = o->tif;
    v->exec_inst = (uint8_t)(o->flags & (OF_POST_ONLY | OF_REDUCE_ONLY));
    v->stp = (uint8_t)order_stp(o);
    v->price = (o->ord_type == DTX_ORD_MARKET || o->ord_type == DTX_ORD_STOP) ? DTX_PRICE_NULL
                                                                              : level_price(b, o->level);
    v->order_qty = o->qty;
    v->leaves_qty = o->leaves;
    v->cum_qty = (int64_t)o->qty - o->leaves;
    v->display_qty = order_peak(e, h);
    v->stop_px = DTX_PRICE_NULL;
    if (order_state(o) == OS_STOP) {
        v->pending_stop = 1;
        v->stop_px = level_price(b, b->stops[o->side].a[o->prev].level);
    } else {
        v->shown_qty = order_shown(e, h);
    }
}

int dtx_engine_find_order(const dtx_engine *e, uint64_t order_id, dtx_order_view *out)
{
    uint32_t h = (uint32_t)order_id;
    if (h == 0 || h > e->max_orders)
        return 0;
    const dtx_order *o = &e->orders[h];
    unsigned st = order_state(o);
    if (o->gen != (uint32_t)(order_id >> 32) || (st != OS_RESTING && st != OS_STOP))
        return 0;
    fill_view(e, h, out);
    return 1;
}

void dtx_engine_best(const dtx_engine *e, uint32_t security_id, int64_t *bid, int64_t *ask)
{
    const dtx_book *b = book_find(e, security_id);
    *bid = *ask = DTX_PRICE_NULL;
    if (!b)
        return;
    if (b->best[BID] != DTX_NONE)
        *bid = level_price(b, b->best[BID]);
    if (b->best[ASK] != DTX_NONE)
        *ask = level_price(b, b->best[ASK]);
}

int64_t dtx_engine_last_price(const dtx_engine *e, uint32_t security_id)
{
    const dtx_book *b = book_find(e, security_id);
    if (!b || b->last_level == DTX_NONE)
        return DTX_PRICE_NULL;
    return level_price(b, b->last_level);
}

void dtx_engine_visit_book(const dtx_engine *e, uint32_t security_id, uint8_t side, dtx_order_visit_fn fn, void *ctx)
{
    const dtx_book *b = book_find(e, security_id);
    if (!b || (side != DTX_SIDE_BUY && side != DTX_SIDE_SELL))
        return;
    int s = side == DTX_SIDE_BUY ? BID : ASK;
    for (uint32_t lv = b->best[s]; lv != DTX_NONE;) {
        for (uint32_t h = b->levels[lv].head; h;) {
            dtx_order_view v;
            fill_view(e, h, &v);
            if (fn(ctx, &v))
                return;
            h = e->orders[h].next;
        }
        if (s == BID)
            lv = lv ? bitset_prev(&b->bits[BID], lv - 1) : DTX_NONE;
        else
            lv = bitset_next(&b->bits[ASK], lv + 1);
    }
}

/* ---- digest ----------------------------------------------------------------- */

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x100000001b3ULL;
    h ^= h >> 29;
    return h;
}

static uint64_t digest_order(const dtx_engine *e, uint64_t h, uint32_t handle)
{
    const dtx_order *o = &e->orders[handle];
    uint64_t shown = order_state(o) == OS_RESTING ? order_shown(e, handle) : 0;
    h = mix(h, order_id_of(o, handle));
    h = mix(h, o->clordid);
    h = mix(h, (uint64_t)o->account << 16 | o->session);
    h = mix(h, (uint64_t)o->level << 32 | o->qty);
    h = mix(h, (uint64_t)o->leaves << 32 | shown);
    h = mix(h, (uint64_t)order_peak(e, handle) << 32 | (uint64_t)o->side << 24 | (uint64_t)o->ord_type << 16 |
                   (uint64_t)o->tif << 8 | o->flags);
    return h;
}

uint64_t dtx_engine_digest(const dtx_engine *e)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = mix(h, e->next_exec_id);
    h = mix(h, e->next_trade_id);
    h = mix(h, e->next_accept);
    for (uint32_t i = 0; i < e->n_books; i++) {
        const dtx_book *b = &e->books[i];
        h = mix(h, b->security_id);
        h = mix(h, b->status);
        h = mix(h, b->last_level);
        for (int s = 0; s < 2; s++) {
            h = mix(h, b->best[s]);
            for (uint32_t lv = b->best[s]; lv != DTX_NONE;) {
                h = mix(h, lv);
                for (uint32_t o = b->levels[lv].head; o; o = e->orders[o].next)
                    h = digest_order(e, h, o);
                if (s == BID)
                    lv = lv ? bitset_prev(&b->bits[BID], lv - 1) : DTX_NONE;
                else
                    lv = bitset_next(&b->bits[ASK], lv + 1);
            }
            const dtx_stop_heap *hp = &b->stops[s];
            h = mix(h, hp->n);
            for (uint32_t k = 0; k < hp->n; k++) {
                h = mix(h, (uint64_t)hp->a[k].level << 32 | hp->a[k].handle);
                h = mix(h, hp->a[k].accept);
                h = digest_order(e, h, hp->a[k].handle);
            }
        }
    }
    /* The expiry queue enters as the set of its live entries (a sum, which
     * ignores order): its array layout is not state, and dropping the entries
     * of gone orders when it is full rearranges it, also for a command that is
     * then rejected. Expiry order follows from (expire, accept) alone. */
    uint64_t live = 0;
    for (uint32_t k = 0; k < e->n_expiry; k++) {
        if (!expiry_is_live(e, &e->expiry[k]))
            continue;
        live += mix(mix(mix(0x9e3779b97f4a7c15ULL, e->expiry[k].expire), e->expiry[k].accept),
                    e->expiry[k].handle);
    }
    return mix(h, live);
}
