/*
 * book_gen.c - bench_book's order stream: the exchange-core single-pair mix
 * (9% GTC limit orders, 3% IOC, 6% cancels, 82% moves) over the hot and large
 * profiles, generated once, untimed, before any measured pass.
 *
 * The generator drives a shadow engine: its events tell it which OrderID each
 * order got, what rests where and the last trade price, from which it picks
 * the next message (gen_step explains the prices and the resting count). The
 * engine is deterministic, so bench_book.c replays the array on fresh engines
 * and checks their events against the shadow engine's over the timed range
 * (stream.expect, folded by bench_sink_fn, which lives here for that reason).
 *
 * Also here: the profile's engine configuration (bench_setup_*) and the two
 * small helpers both files use (bench_die, bench_xalloc). See book_gen.h.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "book_gen.h"

/* ---- constants ------------------------------------------------------------ */

#define BENCH_TS0 1767225600000000000ULL /* 2026-01-01 UTC, sequencer clock */
#define SLOT_BITS 24                  /* ClOrdID = serial << 24 | generator slot */
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
/* Move/new-order aggressiveness controller: probability that a move or a GTC
 * order is priced through the opposite best, PA0 at the resting target, plus
 * PA_GAIN per unit of relative excess. The balance of the mix puts the
 * equilibrium near 0.03 (see gen_step). */
#define PA0 0.03
#define PA_GAIN 0.5
#define PA_INT_GAIN 1e-4
/* The market price leans back to the start price: P(up) = 1/2 - offset/(2 R). */
#define MARKET_REVERT 1024
#define PA_MAX 0.3

const profile_def bench_profiles[2] = {
    {"hot", 1, 2000, 1000, 10000000, 1000000, 5, 16, 200},
    {"large", 10, 100000, 100000, 5000000, 1000000, 3, 600, 200},
};

/* ---- small helpers ----------------------------------------------------------- */

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_book: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void *bench_xalloc(size_t bytes)
{
    void *p = NULL;
    size_t rounded = (bytes + 4095) & ~(size_t)4095;
    if (rounded == 0)
        rounded = 4096;
    if (posix_memalign(&p, 4096, rounded) != 0)
        bench_die("out of memory (%zu bytes)", bytes);
    memset(p, 0, rounded);
    return p;
}

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias negligible here). */
static uint64_t rng_below(rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Uniform in [0, 1). */
static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Distance >= 0 with mean about m, dense near 0, at most 4m: the product of
 * two uniforms (density -ln x), which needs no libm. */
static int64_t rng_depth(rng *r, int64_t m)
{
    uint64_t span = (uint64_t)(2 * m);
    if (span == 0)
        return 0;
    return (int64_t)(rng_below(r, span) * rng_below(r, span) / (uint64_t)m);
}

/* ---- the event sink of the measured passes -------------------------------------- */

static inline uint64_t event_fold(uint64_t ck, const dtx_event *ev)
{
    uint64_t x = ev->exec_id + ev->order_id * 0x9e3779b97f4a7c15ULL +
                 (uint64_t)ev->price + ((uint64_t)ev->leaves_qty << 32) + ev->type;
    return (ck ^ x) * 0x100000001b3ULL;
}

void bench_sink_fn(void *ctx, const dtx_event *events, size_t n)
{
    bench_sink *s = ctx;
    uint64_t ck = s->checksum;
    for (size_t i = 0; i < n; i++) {
        s->by_type[events[i].type & 31]++;
        ck = event_fold(ck, &events[i]);
    }
    s->checksum = ck;
}

/* ---- the profile's engine configuration ----------------------------------------------- */

void bench_setup_init(setup *s, const profile_def *p)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->resting_target = p->resting_per_instr * p->n_instr;
    s->instr = bench_xalloc(sizeof(dtx_instrument_config) * p->n_instr);
    for (uint32_t i = 0; i < p->n_instr; i++) {
        dtx_instrument_config *ic = &s->instr[i];
        ic->security_id = i + 1;
        snprintf(ic->symbol, sizeof ic->symbol, "BENCH-%u", (i + 1) & 0xffffu);
        ic->type = DTX_INSTR_PERPETUAL;
        ic->tick_size = BENCH_TICK;
        ic->contract_multiplier = 1000000;
        ic->min_price = (int64_t)(BENCH_P0 - BENCH_HALF_RANGE) * BENCH_TICK;
        ic->max_price = (int64_t)(BENCH_P0 + BENCH_HALF_RANGE - 1) * BENCH_TICK;
        ic->min_qty = 1;
        ic->max_qty = 1000000;
        ic->lot_size = 1;
        ic->market_band_ticks = 100;
        ic->expiry = 0;
    }
    s->cfg.instruments = s->instr;
    s->cfg.n_instruments = p->n_instr;
    /* ~1.1x the resting target plus slack; the generator holds the count
     * within a few percent of the target. */
    s->cfg.max_orders = s->resting_target + s->resting_target / 10 + 1024;
    s->cfg.max_timed = 16;
    s->cfg.max_stops = 16;
    s->cfg.day_offset_ns = 0;
}

dtx_engine *bench_setup_engine(const setup *s, dtx_event_sink_fn fn, void *ctx)
{
    dtx_engine_config cfg = s->cfg;
    cfg.sink = fn;
    cfg.sink_ctx = ctx;
    dtx_engine *e = dtx_engine_create(&cfg);
    if (!e)
        bench_die("dtx_engine_create (%s): %s", s->p->name, dtx_error_message());
    return e;
}

/* ---- the generator ------------------------------------------------------------------- */

/* What the generator knows of one order it sent. Slots are its own handles,
 * carried in the low bits of every ClOrdID of the order's requests, so every
 * event names its slot whatever the event type. */
typedef struct gen_slot {
    uint64_t order_id;
    uint64_t clordid;   /* current */
    int64_t price;      /* ticks */
    int64_t order_qty;
    int64_t leaves;
    uint32_t account;
    int32_t live_pos;   /* index in its book's live list; -1: not resting */
    uint16_t book;
    uint8_t side;
    uint8_t active;
} gen_slot;

typedef struct gen_book {
    uint32_t *live; /* slots of resting orders */
    uint32_t n_live;
    double pa_int;  /* integral term of the aggressiveness controller */
    int64_t market; /* market price, ticks (see gen_step) */
} gen_book;

typedef struct gen {
    const setup *su;
    const profile_def *p;
    rng r;
    dtx_engine *shadow;
    dtx_command *cmds;
    uint64_t n_cmds, cap_cmds;
    gen_slot *slots;
    uint32_t n_slots;
    uint32_t *free_list;
    uint32_t n_free;
    gen_book *books;
    uint64_t serial;
    uint64_t seq;
    int64_t min_px, max_px;
    /* per command, set by the sink */
    int traded;
    /* over the timed range */
    int in_timed;
    uint64_t kind_count[KIND_COUNT];
    uint64_t traded_msgs;
    int64_t last_min, last_max;
    bench_sink timed_sink;
    /* anomalies over the whole stream */
    uint64_t rejects, cancel_rejects, business_rejects;
    uint64_t no_slot;
} gen;

static uint64_t gen_clordid(gen *g, uint32_t slot)
{
    return (++g->serial << SLOT_BITS) | slot;
}

static void gen_live_add(gen *g, uint32_t slot)
{
    gen_slot *s = &g->slots[slot];
    if (s->live_pos >= 0)
        return;
    gen_book *b = &g->books[s->book];
    s->live_pos = (int32_t)b->n_live;
    b->live[b->n_live++] = slot;
}

static void gen_live_remove(gen *g, uint32_t slot)
{
    gen_slot *s = &g->slots[slot];
    if (s->live_pos < 0)
        return;
    gen_book *b = &g->books[s->book];
    uint32_t last = b->live[--b->n_live];
    b->live[s->live_pos] = last;
    g->slots[last].live_pos = s->live_pos;
    s->live_pos = -1;
}

static void gen_release(gen *g, uint32_t slot)
{
    gen_slot *s = &g->slots[slot];
    if (!s->active)
        return;
    gen_live_remove(g, slot);
    s->active = 0;
    g->free_list[g->n_free++] = slot;
}

/* The shadow engine's sink: keeps the generator's view of the books. */
static void gen_sink_fn(void *ctx, const dtx_event *events, size_t n)
{
    gen *g = ctx;
    if (g->in_timed)
        bench_sink_fn(&g->timed_sink, events, n);
    for (size_t i = 0; i < n; i++) {
        const dtx_event *ev = &events[i];
        uint32_t slot = (uint32_t)(ev->clordid & SLOT_MASK);
        if (slot >= g->n_slots)
            continue;
        gen_slot *s = &g->slots[slot];
        switch (ev->type) {
        case DTX_EV_NEW:
            s->order_id = ev->order_id;
            s->order_qty = ev->order_qty;
            s->leaves = ev->leaves_qty;
            if (ev->flags & DTX_EVF_ADDED) { /* rests straight away: no ADDED follows */
                s->price = ev->price / BENCH_TICK;
                gen_live_add(g, slot);
            }
            break;
        case DTX_EV_ADDED:
            s->price = ev->price / BENCH_TICK;
            s->leaves = ev->leaves_qty;
            gen_live_add(g, slot);
            break;
        case DTX_EV_FILL:
            g->traded = 1;
            s->leaves = ev->leaves_qty;
            if (ev->leaves_qty == 0)
                gen_release(g, slot);
            break;
        case DTX_EV_CANCELED:
            gen_release(g, slot);
            break;
        case DTX_EV_REPLACED:
            s->clordid = ev->clordid;
            s->order_qty = ev->order_qty;
            s->leaves = ev->leaves_qty;
            s->price = ev->price / BENCH_TICK;
            if (ev->flags & DTX_EVF_ADDED)
                gen_live_add(g, slot);
            break;
        case DTX_EV_REJECT:
            g->rejects++;
            gen_release(g, slot);
            break;
        case DTX_EV_CANCEL_REJECT:
            g->cancel_rejects++;
            break;
        case DTX_EV_BUSINESS_REJECT:
            g->business_rejects++;
            break;
        default:
            break;
        }
    }
}

static dtx_command *gen_cmd(gen *g, uint16_t type)
{
    if (g->n_cmds == g->cap_cmds)
        bench_die("command array full (%" PRIu64 ")", g->cap_cmds);
    dtx_command *c = &g->cmds[g->n_cmds++];
    *c = dtx_command_blank(type);
    c->seq = ++g->seq;
    c->ts = BENCH_TS0 + g->seq * 100; /* a message every 100 ns */
    return c;
}

static void gen_submit(gen *g, const dtx_command *c)
{
    g->traded = 0;
    dtx_engine_submit(g->shadow, c);
    if (g->in_timed)
        g->traded_msgs += (uint64_t)g->traded;
}

static int64_t gen_clamp(const gen *g, int64_t px)
{
    return px < g->min_px ? g->min_px : px > g->max_px ? g->max_px : px;
}

/* Last trade price in ticks, INT64_MIN before the first trade. */
static int64_t gen_last(const gen *g, uint32_t bi)
{
    int64_t last = dtx_engine_last_price(g->shadow, bi + 1);
    return last == DTX_PRICE_NULL ? INT64_MIN : last / BENCH_TICK;
}

/* Best bid and ask in ticks; INT64_MIN / INT64_MAX when a side is empty. */
static void gen_best(const gen *g, uint32_t bi, int64_t *bid, int64_t *ask)
{
    int64_t b, a;
    dtx_engine_best(g->shadow, bi + 1, &b, &a);
    *bid = b == DTX_PRICE_NULL ? INT64_MIN : b / BENCH_TICK;
    *ask = a == DTX_PRICE_NULL ? INT64_MAX : a / BENCH_TICK;
}

static int gen_first_visit(void *ctx, const dtx_order_view *o)
{
    *(int64_t *)ctx = o->shown_qty;
    return 1;
}

/* Displayed quantity of the first order in time priority at the best level of
 * side; 0 when the side is empty. */
static int64_t gen_first_maker(const gen *g, uint32_t bi, uint8_t side)
{
    int64_t q = 0;
    dtx_engine_visit_book(g->shadow, bi + 1, side, gen_first_visit, &q);
    return q;
}

/* Passive price at distance d >= 0 behind the market price m (bids at m - d,
 * asks at m + 1 + d), kept off the opposite best and inside the range. */
static int64_t gen_passive(const gen *g, uint8_t side, int64_t m, int64_t d, int64_t bid, int64_t ask)
{
    int64_t px;
    if (side == DTX_SIDE_BUY) {
        px = m - d;
        if (ask != INT64_MAX && px >= ask)
            px = ask - 1;
    } else {
        px = m + 1 + d;
        if (bid != INT64_MIN && px <= bid)
            px = bid + 1;
    }
    return gen_clamp(g, px);
}

/* Aggressive price: the opposite best; with sweep, now and then a tick or two
 * through it. */
static int64_t gen_through(gen *g, uint8_t side, int64_t bid, int64_t ask, int sweep)
{
    int64_t extra = sweep && rng_below(&g->r, 8) == 0 ? 1 + (int64_t)rng_below(&g->r, 2) : 0;
    return gen_clamp(g, side == DTX_SIDE_BUY ? ask + extra : bid - extra);
}

/* Probability of pricing through the opposite side, from this book's resting
 * count against its target (proportional-integral controller). */
static double gen_aggression(gen *g, uint32_t bi)
{
    gen_book *b = &g->books[bi];
    double target = (double)g->p->resting_per_instr;
    double err = ((double)b->n_live - target) / target;
    b->pa_int += PA_INT_GAIN * err;
    if (b->pa_int < -PA0)
        b->pa_int = -PA0;
    else if (b->pa_int > PA_MAX)
        b->pa_int = PA_MAX;
    double pa = PA0 + b->pa_int + PA_GAIN * err;
    return pa < 0 ? 0 : pa > PA_MAX ? PA_MAX : pa;
}

/* The market price takes a step of one tick now and then, leaning back toward
 * the start price (mean reversion keeps it well inside the book's range). */
static void gen_market_step(gen *g, gen_book *b)
{
    if (rng_below(&g->r, g->p->market_every) != 0)
        return;
    double pup = 0.5 - (double)(b->market - BENCH_P0) / (2.0 * MARKET_REVERT);
    pup = pup < 0.1 ? 0.1 : pup > 0.9 ? 0.9 : pup;
    b->market += rng_unit(&g->r) < pup ? 1 : -1;
    b->market = gen_clamp(g, b->market);
}

static void gen_new_order(gen *g, uint32_t bi, uint8_t side, uint8_t tif, int64_t px, int64_t qty)
{
    if (g->n_free == 0) {
        g->no_slot++;
        return;
    }
    uint32_t slot = g->free_list[--g->n_free];
    gen_slot *s = &g->slots[slot];
    memset(s, 0, sizeof *s);
    s->active = 1;
    s->live_pos = -1;
    s->book = (uint16_t)bi;
    s->side = side;
    s->account = 1 + (uint32_t)rng_below(&g->r, g->p->n_accounts);
    s->clordid = gen_clordid(g, slot);
    s->price = px;
    dtx_command *c = gen_cmd(g, DTX_CMD_NEW_ORDER);
    c->session = (uint16_t)(1 + s->account % 64);
    c->account = s->account;
    c->security_id = bi + 1;
    c->side = side;
    c->ord_type = DTX_ORD_LIMIT;
    c->tif = tif;
    c->clordid = s->clordid;
    c->price = px * BENCH_TICK;
    c->qty = qty;
    gen_submit(g, c);
}

static void gen_cancel(gen *g, uint32_t slot)
{
    gen_slot *s = &g->slots[slot];
    dtx_command *c = gen_cmd(g, DTX_CMD_CANCEL);
    c->session = (uint16_t)(1 + s->account % 64);
    c->account = s->account;
    c->security_id = s->book + 1u;
    c->side = s->side;
    c->clordid = gen_clordid(g, slot);
    c->orig_clordid = s->clordid;
    c->order_id = s->order_id;
    gen_submit(g, c);
}

static void gen_move(gen *g, uint32_t slot, int64_t px)
{
    gen_slot *s = &g->slots[slot];
    dtx_command *c = gen_cmd(g, DTX_CMD_REPLACE);
    c->session = (uint16_t)(1 + s->account % 64);
    c->account = s->account;
    c->security_id = s->book + 1u;
    c->side = s->side;
    c->ord_type = DTX_ORD_LIMIT;
    c->tif = DTX_TIF_GTC;
    c->clordid = gen_clordid(g, slot);
    c->orig_clordid = s->clordid;
    c->order_id = s->order_id;
    c->price = px * BENCH_TICK;
    c->qty = s->order_qty; /* unchanged: OrderQty is the total, filled included */
    gen_submit(g, c);
}

/* Maker size: 5..86 lots, mean 25. Takers (IOC) take 1..3 lots. */
static int64_t gen_gtc_qty(gen *g)
{
    return 5 + (int64_t)(rng_below(&g->r, 10) * rng_below(&g->r, 10));
}

static uint8_t gen_random_side(gen *g)
{
    return (rng_next(&g->r) >> 63) ? DTX_SIDE_BUY : DTX_SIDE_SELL;
}

/*
 * One message of the mix.
 *
 * Prices. Each book has a market price m, a slow random walk (one tick every
 * market_every messages of the book on average, mean-reverting to the start
 * price). Passive orders rest behind it (bids at m - d, asks at m + 1 + d) and
 * moves drift them toward it: 70% of moves halve (at random, up to) their
 * distance, 30% step back by a random depth; an order left on the wrong side of
 * a moving m is re-quoted just behind it. Aggressive orders (priced at the
 * opposite best) lean with the market: buys while the last trade is below m,
 * sells while it is above m + 1, either side when it is at m or m + 1. So
 * quotes follow m, trades happen at the touch and the last trade follows m.
 *
 * Resting count. With probability pa (gen_aggression) a move or a GTC order
 * is priced through the opposite best and trades. Each such trade uses up at
 * least one resting order (the maker, or the moved order itself when smaller),
 * IOCs seldom do (1..3 lots against 5..86), GTCs add one and cancels remove
 * one: the count balances near pa = 0.02-0.03. With this mix and a steady count
 * at most 9% - 6% = 3% of the messages can use up an order, so at most ~6% of
 * the messages can trade (3% IOC + 3%); aggressive movers are chosen smaller
 * than the first maker they meet, so that a trade uses up one order, not a
 * sweep, which puts the share near 5%. Cancels take the farther from m of two
 * random orders, which keeps the book compact.
 */
static void gen_step(gen *g)
{
    uint32_t bi = g->p->n_instr == 1 ? 0 : (uint32_t)rng_below(&g->r, g->p->n_instr);
    gen_book *b = &g->books[bi];
    gen_market_step(g, b);
    uint64_t r = rng_below(&g->r, 100);
    int kind = r < 9 ? KIND_GTC : r < 12 ? KIND_IOC : r < 18 ? KIND_CANCEL : KIND_MOVE;
    if (b->n_live == 0 && kind >= KIND_CANCEL)
        kind = KIND_GTC;
    int64_t m = b->market, last = gen_last(g, bi), bid, ask;
    gen_best(g, bi, &bid, &ask);
    uint8_t lean = last == INT64_MIN ? 0 : last < m ? DTX_SIDE_BUY : last > m + 1 ? DTX_SIDE_SELL : 0;
    double pa = gen_aggression(g, bi);
    if (g->in_timed) {
        g->kind_count[kind]++;
        if (last != INT64_MIN && last < g->last_min)
            g->last_min = last;
        if (last > g->last_max)
            g->last_max = last;
    }

    switch (kind) {
    case KIND_GTC: {
        int64_t qty = gen_gtc_qty(g);
        if (rng_unit(&g->r) < pa) {
            /* A marketable limit order, smaller than the first maker when it
             * can be (as for moves). */
            uint8_t side = lean ? lean : gen_random_side(g);
            uint8_t opp_side = side == DTX_SIDE_BUY ? DTX_SIDE_SELL : DTX_SIDE_BUY;
            int64_t m1 = gen_first_maker(g, bi, opp_side);
            if (m1 > 0) {
                if (m1 > 1 && qty >= m1)
                    qty = 1 + (int64_t)rng_below(&g->r, (uint64_t)(m1 - 1));
                gen_new_order(g, bi, side, DTX_TIF_GTC, gen_through(g, side, bid, ask, 0), qty);
                break;
            }
        }
        uint8_t side = gen_random_side(g);
        gen_new_order(g, bi, side, DTX_TIF_GTC,
                      gen_passive(g, side, m, rng_depth(&g->r, g->p->depth), bid, ask), qty);
        break;
    }
    case KIND_IOC: {
        uint8_t side = lean ? lean : gen_random_side(g);
        int64_t opp = side == DTX_SIDE_BUY ? ask : bid;
        int64_t px = (opp == INT64_MIN || opp == INT64_MAX) ? gen_clamp(g, m)
                                                            : gen_through(g, side, bid, ask, 1);
        gen_new_order(g, bi, side, DTX_TIF_IOC, px, 1 + (int64_t)rng_below(&g->r, 3));
        break;
    }
    case KIND_CANCEL: {
        uint32_t a = b->live[rng_below(&g->r, b->n_live)];
        uint32_t c = b->live[rng_below(&g->r, b->n_live)];
        int64_t da = g->slots[a].price - m, dc = g->slots[c].price - m;
        if (da < 0)
            da = -da;
        if (dc < 0)
            dc = -dc;
        gen_cancel(g, dc > da ? c : a);
        break;
    }
    default: {
        uint32_t slot = b->live[rng_below(&g->r, b->n_live)];
        int aggressive = 0;
        if (rng_unit(&g->r) < pa) {
            /* Of up to eight random orders, the first on the side of the lean
             * and smaller than the maker it would meet first takes. */
            int64_t first_bid = gen_first_maker(g, bi, DTX_SIDE_BUY);
            int64_t first_ask = gen_first_maker(g, bi, DTX_SIDE_SELL);
            uint32_t fallback = UINT32_MAX;
            for (int k = 0; k < 8 && !aggressive; k++) {
                uint32_t cand = k ? b->live[rng_below(&g->r, b->n_live)] : slot;
                const gen_slot *c = &g->slots[cand];
                int64_t m1 = c->side == DTX_SIDE_BUY ? first_ask : first_bid;
                if ((lean && c->side != lean) || m1 == 0)
                    continue;
                if (fallback == UINT32_MAX)
                    fallback = cand;
                if (c->leaves < m1) {
                    slot = cand;
                    aggressive = 1;
                }
            }
            if (!aggressive && fallback != UINT32_MAX) {
                slot = fallback;
                aggressive = 1;
            }
        }
        gen_slot *s = &g->slots[slot];
        int buy = s->side == DTX_SIDE_BUY;
        int64_t px;
        if (aggressive) {
            px = gen_through(g, s->side, bid, ask, 0);
        } else {
            int64_t d = buy ? m - s->price : s->price - (m + 1);
            if (d < 0)
                d = (int64_t)rng_below(&g->r, 3);
            else if (rng_below(&g->r, 10) < 7)
                d -= (d * (int64_t)rng_below(&g->r, 512) + 1023) / 1024;
            else
                d += 1 + rng_depth(&g->r, g->p->depth / 2);
            px = gen_passive(g, s->side, m, d, bid, ask);
        }
        if (px == s->price) {
            /* A move always changes the price: one tick back from the touch,
             * or forward at the edge of the range. */
            int64_t step = buy ? -1 : 1;
            px = gen_clamp(g, s->price + step);
            if (px == s->price)
                px = s->price - step;
        }
        gen_move(g, slot, px);
        break;
    }
    }
}

/* Pre-fill: the resting target per book, half each side, passive around the
 * start price (bids below, asks above, so nothing trades). */
static void gen_prefill(gen *g)
{
    const profile_def *p = g->p;
    for (uint32_t k = 0; k < p->resting_per_instr; k++) {
        for (uint32_t bi = 0; bi < p->n_instr; bi++) {
            uint8_t side = (k & 1) ? DTX_SIDE_SELL : DTX_SIDE_BUY;
            int64_t d = rng_depth(&g->r, p->depth);
            int64_t px = gen_clamp(g, side == DTX_SIDE_BUY ? BENCH_P0 - d : BENCH_P0 + 1 + d);
            gen_new_order(g, bi, side, DTX_TIF_GTC, px, gen_gtc_qty(g));
        }
    }
}

typedef struct shape_ctx {
    int64_t price;
    uint64_t levels, top, orders;
} shape_ctx;

static int shape_visit(void *ctx, const dtx_order_view *o)
{
    shape_ctx *c = ctx;
    if (c->orders == 0 || o->price != c->price) {
        c->levels++;
        c->price = o->price;
    }
    if (c->levels == 1)
        c->top++;
    c->orders++;
    return 0;
}

void bench_generate(const setup *su, uint64_t seed, uint64_t warmup, uint64_t ops, stream *out)
{
    const profile_def *p = su->p;
    gen g;
    memset(&g, 0, sizeof g);
    g.su = su;
    g.p = p;
    rng_seed(&g.r, seed ^ ((uint64_t)p->n_instr << 32));
    g.min_px = BENCH_P0 - BENCH_HALF_RANGE;
    g.max_px = BENCH_P0 + BENCH_HALF_RANGE - 1;
    g.cap_cmds = (uint64_t)su->resting_target + warmup + ops;
    size_t bytes = (size_t)g.cap_cmds * sizeof(dtx_command);
    g.cmds = bench_xalloc(bytes);
#ifdef MADV_HUGEPAGE
    madvise(g.cmds, bytes, MADV_HUGEPAGE); /* a hint; fewer TLB misses streaming it */
#endif
    g.n_slots = su->cfg.max_orders + 64;
    if (g.n_slots > SLOT_MASK)
        bench_die("too many orders for the ClOrdID encoding");
    g.slots = bench_xalloc(sizeof(gen_slot) * g.n_slots);
    g.free_list = bench_xalloc(sizeof(uint32_t) * g.n_slots);
    for (uint32_t i = 0; i < g.n_slots; i++)
        g.free_list[i] = g.n_slots - 1 - i;
    g.n_free = g.n_slots;
    g.books = bench_xalloc(sizeof(gen_book) * p->n_instr);
    for (uint32_t i = 0; i < p->n_instr; i++) {
        g.books[i].live = bench_xalloc(sizeof(uint32_t) * g.n_slots);
        g.books[i].market = BENCH_P0;
    }
    g.last_min = INT64_MAX;
    g.last_max = INT64_MIN;
    g.shadow = bench_setup_engine(su, gen_sink_fn, &g);

    gen_prefill(&g);
    out->n_prefill = g.n_cmds;
    while (g.n_cmds < out->n_prefill + warmup)
        gen_step(&g);
    out->n_warmup = g.n_cmds - out->n_prefill;
    g.in_timed = 1;
    while (g.n_cmds < out->n_prefill + out->n_warmup + ops)
        gen_step(&g);
    out->n_timed = g.n_cmds - out->n_prefill - out->n_warmup;

    out->cmds = g.cmds;
    memcpy(out->kind_count, g.kind_count, sizeof g.kind_count);
    out->traded_msgs = g.traded_msgs;
    out->expect = g.timed_sink;
    out->rejects = g.rejects;
    out->cancel_rejects = g.cancel_rejects;
    out->business_rejects = g.business_rejects;
    out->no_slot = g.no_slot;
    out->anomalies = g.rejects + g.cancel_rejects + g.business_rejects;
    out->last_min = g.last_min;
    out->last_max = g.last_max;
    for (int side = 0; side < 2; side++) {
        shape_ctx sc;
        memset(&sc, 0, sizeof sc);
        dtx_engine_visit_book(g.shadow, 1, (uint8_t)(side + 1), shape_visit, &sc);
        out->levels[side] = sc.levels;
        out->top_orders[side] = sc.top;
        out->book_orders[side] = sc.orders;
    }
    dtx_engine_destroy(g.shadow);
    for (uint32_t i = 0; i < p->n_instr; i++)
        free(g.books[i].live);
    free(g.books);
    free(g.free_list);
    free(g.slots);
}
