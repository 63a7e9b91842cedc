/*
 * orders.c - the order pool, the iceberg table, the stop heaps and the expiry
 * heap (the ClOrdID index is inline in internal.h). All of it works in memory
 * reserved at creation; nothing here allocates.
 *
 * The free list is FIFO: a freed slot goes to the back, so a slot (and with it
 * an OrderID's low half) is reused only after every other free slot has been,
 * and the 32-bit generation in the high half makes each OrderID unique until a
 * single slot has been reused 2^32 times.
 */
#include "engine/internal.h"

/* ---- pool ---------------------------------------------------------------- */

uint32_t pool_alloc(dtx_engine *e)
{
    uint32_t h = e->free_head;
    if (unlikely(h == DTX_NIL))
        return DTX_NIL;
    dtx_order *o = &e->orders[h];
    e->free_head = o->next;
    if (e->free_head == DTX_NIL)
        e->free_tail = DTX_NIL;
    e->n_free--;
    uint32_t gen = o->gen + 1;
    if (unlikely(gen == 0))
        gen = 1; /* OrderID is never 0 */
    memset(o, 0, sizeof *o);
    o->gen = gen;
    order_set_state(o, OS_ACTIVE);
    if (e->prefetch && e->free_head) {
        /* the next slot handed out, freed long ago (FIFO): far from the
         * caches once the books are large, and written whole by the next
         * new order, several commands from now */
        const char *p = (const char *)&e->orders[e->free_head];
        __builtin_prefetch(p, 1, 3);
        __builtin_prefetch(p + sizeof *o - 1, 1, 3);
    }
    return h;
}

void pool_free(dtx_engine *e, uint32_t h)
{
    dtx_order *o = &e->orders[h];
    if (unlikely(o->flags & OF_ICEBERG))
        ice_remove(e, h);
    order_set_state(o, OS_FREE);
    o->next = DTX_NIL;
    if (e->free_tail)
        e->orders[e->free_tail].next = h;
    else
        e->free_head = h;
    e->free_tail = h;
    e->n_free++;
}

/* ---- iceberg table ------------------------------------------------------- */

static inline uint32_t ice_home(const dtx_engine *e, uint32_t h) { return (h * 0x9e3779b1u) >> e->ice_shift; }

void ice_insert(dtx_engine *e, uint32_t h, uint32_t peak)
{
    uint32_t i = ice_home(e, h);
    while (e->ice[i].handle)
        i = (i + 1) & e->ice_mask;
    e->ice[i] = (dtx_ice){.handle = h, .peak = peak};
    e->n_ice++;
    e->orders[h].flags |= OF_ICEBERG;
}

/* Removal without tombstones (Knuth 6.4, algorithm R): the entries after the
 * hole that could not sit at or before it move back into it. */
void ice_remove(dtx_engine *e, uint32_t h)
{
    uint32_t i = (uint32_t)(ice_find(e, h) - e->ice);
    for (uint32_t j = i;;) {
        j = (j + 1) & e->ice_mask;
        if (!e->ice[j].handle)
            break;
        uint32_t k = ice_home(e, e->ice[j].handle);
        /* the entry at j may fill the hole at i unless its home lies
         * cyclically in (i, j] */
        if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
            e->ice[i] = e->ice[j];
            i = j;
        }
    }
    e->ice[i].handle = 0;
    e->n_ice--;
    e->orders[h].flags &= (uint8_t)~OF_ICEBERG;
}

/* ---- stop heaps ------------------------------------------------------------
 * Binary heap; each pending stop's position is kept in its order's prev field
 * so cancel and replace find it in O(1) and remove it in O(log n). */

int stop_before(const dtx_stop_heap *hp, const dtx_stop_entry *x, const dtx_stop_entry *y)
{
    if (x->level != y->level)
        return hp->max_first ? x->level > y->level : x->level < y->level;
    return x->accept < y->accept;
}

static inline void stop_place(dtx_engine *e, dtx_stop_entry *a, uint32_t pos, dtx_stop_entry v)
{
    a[pos] = v;
    if (e)
        e->orders[v.handle].prev = pos;
}

static void stop_sift_up(dtx_engine *e, dtx_stop_heap *hp, uint32_t pos)
{
    dtx_stop_entry v = hp->a[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!stop_before(hp, &v, &hp->a[parent]))
            break;
        stop_place(e, hp->a, pos, hp->a[parent]);
        pos = parent;
    }
    stop_place(e, hp->a, pos, v);
}

/* Sifts down within a[0..n); e NULL for a scratch heap (no back-pointers). */
void stop_sift_down(dtx_engine *e, dtx_stop_heap *hp, dtx_stop_entry *a, uint32_t n, uint32_t pos)
{
    dtx_stop_entry v = a[pos];
    for (;;) {
        uint32_t c = 2 * pos + 1;
        if (c >= n)
            break;
        if (c + 1 < n && stop_before(hp, &a[c + 1], &a[c]))
            c++;
        if (!stop_before(hp, &a[c], &v))
            break;
        stop_place(e, a, pos, a[c]);
        pos = c;
    }
    stop_place(e, a, pos, v);
}

void stop_push(dtx_engine *e, dtx_stop_heap *hp, uint32_t h, uint32_t level, uint64_t accept)
{
    uint32_t pos = hp->n++;
    hp->a[pos] = (dtx_stop_entry){.level = level, .handle = h, .accept = accept};
    e->orders[h].prev = pos;
    stop_sift_up(e, hp, pos);
}

void stop_remove(dtx_engine *e, dtx_stop_heap *hp, uint32_t pos)
{
    uint32_t last = --hp->n;
    if (pos == last)
        return;
    dtx_stop_entry moved = hp->a[last];
    stop_place(e, hp->a, pos, moved);
    if (pos > 0 && stop_before(hp, &moved, &hp->a[(pos - 1) / 2]))
        stop_sift_up(e, hp, pos);
    else
        stop_sift_down(e, hp, hp->a, hp->n, pos);
}

/* ---- expiry heap ------------------------------------------------------------ */

static inline int expiry_before(const dtx_expiry_entry *x, const dtx_expiry_entry *y)
{
    if (x->expire != y->expire)
        return x->expire < y->expire;
    return x->accept < y->accept;
}

static void expiry_sift_down(dtx_expiry_entry *a, uint32_t n, uint32_t pos)
{
    dtx_expiry_entry v = a[pos];
    for (;;) {
        uint32_t c = 2 * pos + 1;
        if (c >= n)
            break;
        if (c + 1 < n && expiry_before(&a[c + 1], &a[c]))
            c++;
        if (!expiry_before(&a[c], &v))
            break;
        a[pos] = a[c];
        pos = c;
    }
    a[pos] = v;
}

int expiry_is_live(const dtx_engine *e, const dtx_expiry_entry *x)
{
    const dtx_order *o = &e->orders[x->handle];
    return o->gen == x->gen && order_state(o) != OS_FREE;
}

/* Makes room for one entry: returns 1 when there is room, dropping the entries
 * of orders that are gone (rare: only when the heap is full). */
int expiry_reserve(dtx_engine *e)
{
    if (e->n_expiry < e->max_timed)
        return 1;
    uint32_t n = 0;
    for (uint32_t i = 0; i < e->n_expiry; i++)
        if (expiry_is_live(e, &e->expiry[i]))
            e->expiry[n++] = e->expiry[i];
    e->n_expiry = n;
    for (uint32_t i = n / 2; i-- > 0;)
        expiry_sift_down(e->expiry, n, i);
    return n < e->max_timed;
}

void expiry_push(dtx_engine *e, uint64_t expire, uint32_t h, uint64_t accept)
{
    uint32_t pos = e->n_expiry++;
    dtx_expiry_entry v = {.expire = expire, .accept = accept, .handle = h, .gen = e->orders[h].gen};
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!expiry_before(&v, &e->expiry[parent]))
            break;
        e->expiry[pos] = e->expiry[parent];
        pos = parent;
    }
    e->expiry[pos] = v;
}

void expiry_pop(dtx_engine *e)
{
    e->expiry[0] = e->expiry[--e->n_expiry];
    if (e->n_expiry)
        expiry_sift_down(e->expiry, e->n_expiry, 0);
}
