/*
 * cmdgen.c - the seeded command stream of the differential test.
 *
 * Randomness is splitmix64 (no rand()): one 64-bit state, seeded from the seed
 * and the profile. The generator keeps a light picture of the book, learned
 * from the reference's events: the working orders (with account, session,
 * ClOrdID, price, quantities), the last trade price and the trading status of
 * each instrument. It never decides an outcome; it only aims commands at cases
 * worth testing, and a small fraction of fields are deliberately invalid.
 */
#include "support/cmdgen.h"

#include <stdlib.h>
#include <string.h>

#define P9(x) ((int64_t)(x) * 1000000000LL)
#define DAY_NS 86400000000000ull
#define HOUR_NS 3600000000000ull
#define PX_NULL DTX_PRICE_NULL

/* ---- the instrument pool ----------------------------------------------------- */

static const dtx_instrument_config pool[] = {
    /* 11 levels of 1.0, band 2 ticks */
    {.security_id = 1, .symbol = "T-ONE", .type = DTX_INSTR_PERPETUAL, .tick_size = P9(1),
     .contract_multiplier = P9(1), .min_price = P9(100), .max_price = P9(110), .min_qty = 1,
     .max_qty = 50, .lot_size = 1, .market_band_ticks = 2},
    /* 5 levels of 0.5, lots of 5, band 0 (a market order takes one level) */
    {.security_id = 2, .symbol = "T-LOT5", .type = DTX_INSTR_PERPETUAL, .tick_size = P9(1) / 2,
     .contract_multiplier = P9(1), .min_price = P9(20), .max_price = P9(22), .min_qty = 5,
     .max_qty = 500, .lot_size = 5, .market_band_ticks = 0},
    /* the smallest prices (tick 1e-9), the largest quantities and band */
    {.security_id = 77, .symbol = "T-TINY", .type = DTX_INSTR_PERPETUAL, .tick_size = 1,
     .contract_multiplier = 1, .min_price = 1, .max_price = 8, .min_qty = 1,
     .max_qty = DTX_MAX_ORDER_QTY, .lot_size = 1, .market_band_ticks = UINT32_MAX},
    /* prices near INT64_MAX, the largest security id */
    {.security_id = 4000000000u, .symbol = "T-HUGE", .type = DTX_INSTR_PERPETUAL,
     .tick_size = 1000000000000000LL, .contract_multiplier = 1,
     .min_price = 9200000000000000000LL, .max_price = 9210000000000000000LL, .min_qty = 10,
     .max_qty = 1000, .lot_size = 10, .market_band_ticks = 5},
    /* 2001 levels; orders stay near the middle */
    {.security_id = 5, .symbol = "T-WIDE", .type = DTX_INSTR_PERPETUAL, .tick_size = 25000000,
     .contract_multiplier = P9(1), .min_price = P9(1), .max_price = P9(1) + 2000LL * 25000000,
     .min_qty = 1, .max_qty = 1000000, .lot_size = 1, .market_band_ticks = 10},
    /* one price level */
    {.security_id = 6, .symbol = "T-ONELEVEL", .type = DTX_INSTR_PERPETUAL, .tick_size = P9(1),
     .contract_multiplier = P9(1), .min_price = P9(7), .max_price = P9(7), .min_qty = 1,
     .max_qty = 20, .lot_size = 1, .market_band_ticks = 1},
    /* a dated future, lots of 2 */
    {.security_id = 3, .symbol = "T-FUT", .type = DTX_INSTR_FUTURE, .tick_size = P9(1) / 10,
     .contract_multiplier = P9(1), .min_price = P9(5), .max_price = P9(5) + P9(1) / 2,
     .min_qty = 2, .max_qty = 40, .lot_size = 2, .market_band_ticks = 3,
     .expiry = 1806048000000000000ull},
};
#define POOL_N (sizeof pool / sizeof pool[0])

/* half-width, in ticks, of the window new prices are drawn from (0 = all) */
static int64_t price_window(const dtx_instrument_config *ic)
{
    int64_t levels = (ic->max_price - ic->min_price) / ic->tick_size + 1;
    return levels > 16 ? 6 : 0;
}

static const char *const profile_names[CMDGEN_PROFILES] = {"mixed", "small-cap", "dense",
                                                           "lifecycle"};

/* ---- state ------------------------------------------------------------------------ */

typedef struct gorder {
    int64_t cmd_index; /* command that created it */
    uint64_t clordid;
    uint32_t account;
    uint16_t session;
    uint32_t inst; /* index into setup.instruments */
    uint8_t side, ord_type, tif, exec_inst;
    int64_t price, stop_px, order_qty, leaves, cum, display;
    int working, pending;
    size_t widx;
} gorder;

typedef struct gweights {
    unsigned new_order, cancel, replace, mass, time, status, cod, unknown;
    unsigned invalid_pct; /* % of new orders with one bad field */
} gweights;

#define MAX_ACCOUNTS 5

struct cmdgen {
    uint64_t rng;
    cmdgen_setup setup;
    gweights w;

    uint32_t accounts[MAX_ACCOUNTS];
    uint16_t sessions[MAX_ACCOUNTS][2];
    unsigned n_accounts;

    uint64_t seq, ts, index;
    uint64_t next_clordid;

    gorder *orders; /* by ordinal; [0] unused */
    size_t n_orders, cap_orders;
    uint64_t *work; /* ordinals of working orders */
    size_t n_work, cap_work;

    int64_t last_px[CMDGEN_MAX_INSTRUMENTS];
    uint8_t status[CMDGEN_MAX_INSTRUMENTS];

    dtx_command last; /* the last command generated */
};

/* ---- randomness ------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rnd(cmdgen *g) { return splitmix64(&g->rng); }

/* uniform in [0, n), n > 0 */
static uint64_t below(cmdgen *g, uint64_t n) { return rnd(g) % n; }

/* uniform in [lo, hi] */
static int64_t range(cmdgen *g, int64_t lo, int64_t hi)
{
    return lo + (int64_t)below(g, (uint64_t)(hi - lo) + 1);
}

static int pct(cmdgen *g, unsigned p) { return below(g, 100) < p; }

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        abort();
    return q;
}

/* ---- setup --------------------------------------------------------------------------------- */

static void make_setup(cmdgen *g, uint64_t seed)
{
    cmdgen_setup *s = &g->setup;
    s->profile = (unsigned)(seed % CMDGEN_PROFILES);
    s->profile_name = profile_names[s->profile];

    /* instruments: a random subset of the pool in random order */
    unsigned idx[POOL_N];
    for (unsigned i = 0; i < POOL_N; i++)
        idx[i] = i;
    for (unsigned i = POOL_N - 1; i > 0; i--) {
        unsigned j = (unsigned)below(g, i + 1);
        unsigned t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    unsigned n = s->profile == 2 ? (unsigned)range(g, 1, 2) : (unsigned)range(g, 1, 6);
    for (unsigned i = 0; i < n; i++)
        s->instruments[i] = pool[idx[i]];
    s->n_instruments = n;

    switch (s->profile) {
    case 1:
        s->max_orders = (uint32_t)range(g, 2, 40);
        s->max_timed = (uint32_t)range(g, 1, 24);
        s->max_stops = (uint32_t)range(g, 1, 4);
        /* at most max_orders (the engine refuses more); the same draws */
        s->max_icebergs = pct(g, 50) ? 0 : (uint32_t)range(g, 1, s->max_orders < 3 ? s->max_orders : 3);
        break;
    case 2:
        s->max_orders = 512;
        s->max_timed = pct(g, 50) ? 512 : (uint32_t)range(g, 4, 64);
        s->max_stops = pct(g, 50) ? 64 : (uint32_t)range(g, 2, 8);
        s->max_icebergs = pct(g, 50) ? 0 : (uint32_t)range(g, 1, 8);
        break;
    default:
        s->max_orders = 1024;
        s->max_timed = 1024;
        s->max_stops = 128;
        break;
    }
    s->day_offset_ns = pct(g, 30) ? 0 : below(g, DAY_NS);

    static const gweights weights[CMDGEN_PROFILES] = {
        {550, 140, 160, 15, 40, 7, 8, 1, 5},
        {560, 130, 150, 15, 60, 5, 8, 1, 5},
        {560, 110, 220, 10, 40, 5, 5, 1, 3},
        {440, 130, 150, 60, 110, 30, 30, 2, 4},
    };
    g->w = weights[s->profile];

    g->n_accounts = s->profile == 2 ? (unsigned)range(g, 2, 3) : (unsigned)range(g, 2, MAX_ACCOUNTS);
    static const uint32_t acct_pool[] = {1, 2, 3, 4, 9, 0xFFFFFFFFu};
    for (unsigned i = 0; i < g->n_accounts; i++) {
        g->accounts[i] = acct_pool[i];
        if (i == g->n_accounts - 1 && pct(g, 20))
            g->accounts[i] = 0xFFFFFFFFu; /* an edge value */
        g->sessions[i][0] = (uint16_t)(2 * i + 1);
        g->sessions[i][1] = (uint16_t)(i == 0 ? 0xFFFF : 2 * i + 2);
    }
    for (unsigned i = 0; i < n; i++) {
        g->last_px[i] = PX_NULL;
        g->status[i] = DTX_TRADING_OPEN;
    }
}

cmdgen *cmdgen_create(uint64_t seed)
{
    cmdgen *g = calloc(1, sizeof *g);
    if (!g)
        abort();
    g->rng = seed ^ 0x5DEECE66Dull;
    (void)rnd(g);
    make_setup(g, seed);
    g->seq = 0;
    /* 2026-01-01T00:00:00Z plus a random part of the day */
    g->ts = 1767225600000000000ull + below(g, DAY_NS);
    g->next_clordid = 1000;
    g->n_orders = 1; /* ordinal 0 unused */
    g->cap_orders = 1024;
    g->orders = xrealloc(NULL, g->cap_orders * sizeof *g->orders);
    memset(&g->orders[0], 0, sizeof g->orders[0]);
    return g;
}

void cmdgen_destroy(cmdgen *g)
{
    if (!g)
        return;
    free(g->orders);
    free(g->work);
    free(g);
}

const cmdgen_setup *cmdgen_get_setup(const cmdgen *g) { return &g->setup; }

dtx_engine_config cmdgen_engine_config(const cmdgen_setup *s, dtx_event_sink_fn sink, void *ctx)
{
    dtx_engine_config c;
    memset(&c, 0, sizeof c);
    c.instruments = s->instruments;
    c.n_instruments = s->n_instruments;
    c.max_orders = s->max_orders;
    c.max_timed = s->max_timed;
    c.max_stops = s->max_stops;
    c.max_icebergs = s->max_icebergs;
    c.day_offset_ns = s->day_offset_ns;
    c.sink = sink;
    c.sink_ctx = ctx;
    return c;
}

uint32_t cmdgen_working(const cmdgen *g) { return (uint32_t)g->n_work; }

/* ---- picking --------------------------------------------------------------------------------- */

static unsigned pick_account(cmdgen *g) { return (unsigned)below(g, g->n_accounts); }

static unsigned account_index(const cmdgen *g, uint32_t account)
{
    for (unsigned i = 0; i < g->n_accounts; i++)
        if (g->accounts[i] == account)
            return i;
    return 0;
}

static uint32_t pick_inst(cmdgen *g) { return (uint32_t)below(g, g->setup.n_instruments); }

static const dtx_instrument_config *icfg(const cmdgen *g, uint32_t inst)
{
    return &g->setup.instruments[inst];
}

static int64_t levels_of(const dtx_instrument_config *ic)
{
    return (ic->max_price - ic->min_price) / ic->tick_size + 1;
}

/* A price on tick inside the instrument's range, near its middle when wide. */
static int64_t gen_price(cmdgen *g, uint32_t inst)
{
    const dtx_instrument_config *ic = icfg(g, inst);
    int64_t n = levels_of(ic), w = price_window(ic), t;
    if (pct(g, 3))
        t = pct(g, 50) ? 0 : n - 1; /* the edges of the range */
    else if (w == 0)
        t = range(g, 0, n - 1);
    else
        t = n / 2 + range(g, -w, w);
    return ic->min_price + t * ic->tick_size;
}

/* A StopPx near the last trade price, so that stops trigger often. */
static int64_t gen_stop_px(cmdgen *g, uint32_t inst)
{
    const dtx_instrument_config *ic = icfg(g, inst);
    if (g->last_px[inst] == PX_NULL || pct(g, 20))
        return gen_price(g, inst);
    int64_t t = (g->last_px[inst] - ic->min_price) / ic->tick_size + range(g, -2, 2);
    int64_t n = levels_of(ic);
    if (t < 0)
        t = 0;
    if (t > n - 1)
        t = n - 1;
    return ic->min_price + t * ic->tick_size;
}

static int64_t gen_qty(cmdgen *g, uint32_t inst)
{
    const dtx_instrument_config *ic = icfg(g, inst);
    int64_t maxk = ic->max_qty / ic->lot_size;
    int64_t mink = ic->min_qty / ic->lot_size;
    int64_t k;
    if (pct(g, 2))
        k = maxk; /* the largest */
    else if (pct(g, 2))
        k = mink;
    else if (pct(g, 3) && maxk > 1000)
        k = range(g, maxk / 2, maxk); /* sums near 2^32 on T-TINY */
    else
        k = range(g, mink, mink + 9 < maxk ? mink + 9 : maxk);
    return k * ic->lot_size;
}

/*
 * A DisplayQty of `want` for an iceberg of qty, raised to at least qty / 64
 * (on the lot) and capped at qty: every refill is a trade and two events
 * more, so a display of a few lots on a total near 2^31 (T-TINY) would make
 * one command emit hundreds of millions of events.
 */
static int64_t iceberg_display(const dtx_instrument_config *ic, int64_t qty, int64_t want)
{
    int64_t floor_qty = (qty / 64 + ic->lot_size - 1) / ic->lot_size * ic->lot_size;
    if (want < floor_qty)
        want = floor_qty;
    return want > qty ? qty : want;
}

static uint64_t new_clordid(cmdgen *g) { return g->next_clordid++; }

static gorder *ord(cmdgen *g, uint64_t ordinal) { return &g->orders[ordinal]; }

static gorder *pick_working(cmdgen *g)
{
    if (g->n_work == 0)
        return NULL;
    return ord(g, g->work[below(g, g->n_work)]);
}

/* A working order of the account, or NULL. */
static gorder *pick_working_of(cmdgen *g, uint32_t account)
{
    if (g->n_work == 0)
        return NULL;
    size_t start = (size_t)below(g, g->n_work);
    for (size_t i = 0; i < g->n_work; i++) {
        gorder *o = ord(g, g->work[(start + i) % g->n_work]);
        if (o->account == account)
            return o;
    }
    return NULL;
}

/* Day boundary at or after ts. */
static uint64_t next_boundary(const cmdgen *g, uint64_t ts)
{
    uint64_t off = g->setup.day_offset_ns;
    uint64_t k = (ts + DAY_NS - off) / DAY_NS;
    uint64_t b = k * DAY_NS + off; /* first boundary > ts */
    if (b - DAY_NS == ts)
        return ts;
    return b;
}

/* ---- new orders ---------------------------------------------------------------------------------- */

static void corrupt_new(cmdgen *g, dtx_command *c, uint32_t inst)
{
    const dtx_instrument_config *ic = icfg(g, inst);
    switch (below(g, 24)) {
    case 0:
        c->side = (uint8_t)(pct(g, 50) ? 0 : pct(g, 50) ? 3 : 255);
        break;
    case 1:
        c->ord_type = (uint8_t)(pct(g, 50) ? 0 : 5);
        break;
    case 2: {
        static const uint8_t bad[] = {2, 5, 7, 255};
        c->tif = bad[below(g, 4)];
        break;
    }
    case 3:
        c->exec_inst |= (uint8_t)(pct(g, 50) ? 0x04 : 0x80);
        break;
    case 4:
        c->stp = (uint8_t)(pct(g, 50) ? 4 : 255);
        break;
    case 5: /* Price null on Limit/StopLimit, or given on Market/Stop */
        c->price = c->price == PX_NULL ? gen_price(g, inst) : PX_NULL;
        break;
    case 6: /* StopPx given on Market/Limit, or null on Stop/StopLimit */
        c->stop_px = c->stop_px == PX_NULL ? gen_price(g, inst) : PX_NULL;
        break;
    case 7: /* Price <= 0 */
        c->ord_type = DTX_ORD_LIMIT;
        c->stop_px = PX_NULL;
        c->price = pct(g, 50) ? 0 : -ic->tick_size;
        break;
    case 8: /* StopPx <= 0 */
        c->ord_type = DTX_ORD_STOP;
        c->tif = DTX_TIF_GTC;
        c->price = PX_NULL;
        c->display_qty = 0;
        c->exec_inst = 0;
        c->expire_time = 0;
        c->stop_px = pct(g, 50) ? 0 : INT64_MIN + 1;
        break;
    case 9: /* ExpireTime without GTD */
        if (c->tif != DTX_TIF_GTD)
            c->expire_time = c->ts + HOUR_NS;
        else
            c->expire_time = 0;
        break;
    case 10: /* GTD already past */
        c->tif = DTX_TIF_GTD;
        c->expire_time = pct(g, 50) ? c->ts : c->ts - 1;
        break;
    case 11: /* Market with Day/GTC/GTD */
        c->ord_type = DTX_ORD_MARKET;
        c->price = PX_NULL;
        c->stop_px = PX_NULL;
        c->display_qty = 0;
        c->exec_inst = 0;
        c->tif = pct(g, 50) ? DTX_TIF_DAY : DTX_TIF_GTC;
        c->expire_time = 0;
        break;
    case 12: /* Stop with IOC/FOK */
        c->ord_type = DTX_ORD_STOP;
        c->price = PX_NULL;
        c->stop_px = gen_price(g, inst);
        c->display_qty = 0;
        c->exec_inst = 0;
        c->tif = pct(g, 50) ? DTX_TIF_IOC : DTX_TIF_FOK;
        c->expire_time = 0;
        break;
    case 13: /* PostOnly where it is not allowed */
        c->exec_inst |= DTX_EXEC_POST_ONLY;
        if (c->ord_type == DTX_ORD_LIMIT && c->tif != DTX_TIF_IOC && c->tif != DTX_TIF_FOK) {
            c->tif = DTX_TIF_IOC;
            c->display_qty = 0;
            c->expire_time = 0;
        }
        break;
    case 14: /* DisplayQty on Market/Stop/IOC/FOK */
        if (c->ord_type == DTX_ORD_LIMIT || c->ord_type == DTX_ORD_STOP_LIMIT) {
            c->tif = pct(g, 50) ? DTX_TIF_IOC : DTX_TIF_FOK;
            c->exec_inst &= (uint8_t)~DTX_EXEC_POST_ONLY;
            c->expire_time = 0;
        }
        c->display_qty = ic->lot_size;
        if (c->qty < c->display_qty)
            c->qty = c->display_qty;
        break;
    case 15:
        c->display_qty = -ic->lot_size;
        break;
    case 16:
        c->display_qty = c->qty + ic->lot_size;
        break;
    case 17:
        c->security_id = pct(g, 50) ? 0 : 999999;
        break;
    case 18: /* off tick */
        if (ic->tick_size > 1) {
            if (c->price != PX_NULL && pct(g, 60))
                c->price += ic->tick_size / 2;
            else if (c->stop_px != PX_NULL)
                c->stop_px += 1;
            else if (c->price != PX_NULL)
                c->price += 1;
        }
        break;
    case 19: { /* OrderQty out of range */
        int64_t bad[] = {0, -ic->lot_size, ic->max_qty + ic->lot_size, ic->min_qty - 1,
                         ic->min_qty + 1, INT64_MAX, DTX_MAX_ORDER_QTY + 1LL};
        c->qty = bad[below(g, sizeof bad / sizeof bad[0])];
        if (c->display_qty > c->qty || c->display_qty < 0)
            c->display_qty = 0;
        break;
    }
    case 20: /* DisplayQty off lot */
        if (ic->lot_size > 1 && c->ord_type != DTX_ORD_MARKET && c->ord_type != DTX_ORD_STOP &&
            c->tif != DTX_TIF_IOC && c->tif != DTX_TIF_FOK)
            c->display_qty = 1;
        break;
    case 21: { /* outside the price range, on tick */
        int64_t px = pct(g, 50) ? ic->max_price + ic->tick_size * range(g, 1, 3)
                                : ic->min_price - ic->tick_size;
        if (px <= 0)
            px = ic->max_price + ic->tick_size;
        if (c->stop_px != PX_NULL && (c->price == PX_NULL || pct(g, 50)))
            c->stop_px = px;
        else if (c->price != PX_NULL)
            c->price = px;
        break;
    }
    case 22: { /* DuplicateClOrdID */
        gorder *o = pick_working_of(g, c->account);
        if (o)
            c->clordid = o->clordid;
        break;
    }
    default: /* ClOrdID 0 is a valid value */
        c->clordid = 0;
        break;
    }
}

static void gen_new(cmdgen *g, cmdgen_cmd *out)
{
    dtx_command *c = &out->cmd;
    unsigned a = pick_account(g);
    uint32_t inst = pick_inst(g);
    const dtx_instrument_config *ic = icfg(g, inst);
    int dense = g->setup.profile == 2;

    c->account = g->accounts[a];
    c->session = g->sessions[a][below(g, 2)];
    c->security_id = ic->security_id;
    c->side = (uint8_t)(pct(g, 50) ? DTX_SIDE_BUY : DTX_SIDE_SELL);
    c->clordid = new_clordid(g);
    c->qty = gen_qty(g, inst);
    c->stp = (uint8_t)below(g, 4);

    unsigned r = (unsigned)below(g, 100);
    unsigned stops = dense ? 30 : 22;
    if (r < 12)
        c->ord_type = DTX_ORD_MARKET;
    else if (r < 100 - stops)
        c->ord_type = DTX_ORD_LIMIT;
    else if (r < 100 - stops / 2)
        c->ord_type = DTX_ORD_STOP;
    else
        c->ord_type = DTX_ORD_STOP_LIMIT;

    static const uint8_t tifs_limit[] = {DTX_TIF_DAY, DTX_TIF_DAY, DTX_TIF_GTC, DTX_TIF_GTC,
                                         DTX_TIF_GTC, DTX_TIF_IOC, DTX_TIF_IOC, DTX_TIF_FOK,
                                         DTX_TIF_GTD, DTX_TIF_GTD};
    static const uint8_t tifs_stop[] = {DTX_TIF_DAY, DTX_TIF_GTC, DTX_TIF_GTC, DTX_TIF_GTD};
    switch (c->ord_type) {
    case DTX_ORD_MARKET:
        c->tif = pct(g, 60) ? DTX_TIF_IOC : DTX_TIF_FOK;
        break;
    case DTX_ORD_LIMIT:
        c->tif = tifs_limit[below(g, 10)];
        c->price = gen_price(g, inst);
        break;
    case DTX_ORD_STOP:
        c->tif = tifs_stop[below(g, 4)];
        c->stop_px = gen_stop_px(g, inst);
        break;
    default:
        c->tif = tifs_limit[below(g, 10)];
        c->price = gen_price(g, inst);
        c->stop_px = gen_stop_px(g, inst);
        break;
    }
    int ioc_fok = c->tif == DTX_TIF_IOC || c->tif == DTX_TIF_FOK;
    if (c->tif == DTX_TIF_GTD) {
        if (pct(g, 10))
            c->expire_time = c->ts + 1; /* the earliest allowed */
        else
            c->expire_time = c->ts + (uint64_t)range(g, 1000000, (int64_t)(6 * HOUR_NS));
    }
    if (c->ord_type == DTX_ORD_LIMIT && !ioc_fok && pct(g, dense ? 10 : 15))
        c->exec_inst |= DTX_EXEC_POST_ONLY;
    if (pct(g, 5))
        c->exec_inst |= DTX_EXEC_REDUCE_ONLY;
    if ((c->ord_type == DTX_ORD_LIMIT || c->ord_type == DTX_ORD_STOP_LIMIT) && !ioc_fok &&
        pct(g, dense ? 30 : 20)) {
        c->display_qty = iceberg_display(ic, c->qty, ic->lot_size * range(g, 1, 3));
    }
    if (pct(g, g->w.invalid_pct))
        corrupt_new(g, c, inst);
    else if (pct(g, 2)) {
        gorder *o = pick_working_of(g, c->account);
        if (o)
            c->clordid = o->clordid; /* DuplicateClOrdID */
    }
}

/* ---- cancel and replace ------------------------------------------------------------------------- */

/* Names o in c (by OrderID or ClOrdID), from its account, and fills the
 * optional filters (mostly matching, sometimes not). */
static void name_order(cmdgen *g, cmdgen_cmd *out, const gorder *o)
{
    dtx_command *c = &out->cmd;
    unsigned a = account_index(g, o->account);
    c->account = o->account;
    c->session = pct(g, 85) ? o->session : g->sessions[a][below(g, 2)];
    if (pct(g, 50)) {
        out->oid_ref = o->cmd_index;
        c->order_id = 0; /* filled in by the harness */
        if (pct(g, 10))
            c->orig_clordid = new_clordid(g); /* ignored when OrderID is given */
    } else {
        c->orig_clordid = o->clordid;
    }
    unsigned r = (unsigned)below(g, 100);
    if (r < 55)
        c->security_id = 0;
    else if (r < 96)
        c->security_id = icfg(g, o->inst)->security_id;
    else
        c->security_id = icfg(g, pick_inst(g))->security_id; /* maybe another */
    r = (unsigned)below(g, 100);
    if (r < 55)
        c->side = 0;
    else if (r < 95)
        c->side = o->side;
    else if (r < 98)
        c->side = (uint8_t)(3 - o->side);
    else
        c->side = 3; /* InvalidField */
}

/* A request naming no working order of its account. */
static void name_unknown(cmdgen *g, cmdgen_cmd *out)
{
    dtx_command *c = &out->cmd;
    unsigned a = pick_account(g);
    c->account = g->accounts[a];
    c->session = g->sessions[a][0];
    unsigned r = (unsigned)below(g, 5);
    if (r == 0 && g->n_orders > 1) {
        /* any order ever accepted, mostly gone by now */
        const gorder *o = ord(g, 1 + below(g, g->n_orders - 1));
        out->oid_ref = o->cmd_index;
    } else if (r == 1 && g->n_orders > 1) {
        const gorder *o = ord(g, 1 + below(g, g->n_orders - 1));
        c->orig_clordid = o->clordid;
    } else if (r == 2) {
        c->order_id = CMDGEN_BOGUS_OID_BASE + below(g, 1000);
    } else if (r == 3) {
        c->orig_clordid = 0xC10000000ull + below(g, 1000);
    } else {
        /* another account's working order */
        gorder *o = pick_working(g);
        if (o) {
            unsigned b2 = account_index(g, o->account);
            unsigned other = (b2 + 1 + (unsigned)below(g, g->n_accounts - 1)) % g->n_accounts;
            c->account = g->accounts[other];
            c->session = g->sessions[other][0];
            if (pct(g, 50))
                out->oid_ref = o->cmd_index;
            else
                c->orig_clordid = o->clordid;
        } else {
            c->orig_clordid = 1;
        }
    }
}

static void gen_cancel(cmdgen *g, cmdgen_cmd *out)
{
    out->cmd.clordid = new_clordid(g);
    gorder *o = pick_working(g);
    if (o && pct(g, 85))
        name_order(g, out, o);
    else
        name_unknown(g, out);
}

static void gen_replace(cmdgen *g, cmdgen_cmd *out)
{
    dtx_command *c = &out->cmd;
    c->clordid = new_clordid(g);
    gorder *o = pick_working(g);
    if (!o || pct(g, 6)) {
        name_unknown(g, out);
        c->qty = 10;
        return;
    }
    name_order(g, out, o);
    const dtx_instrument_config *ic = icfg(g, o->inst);
    int64_t lot = ic->lot_size;
    int is_stop = o->ord_type == DTX_ORD_STOP;
    c->qty = o->order_qty;
    c->display_qty = o->display;
    c->price = PX_NULL;
    if (!is_stop && pct(g, 10))
        c->price = o->price; /* explicit but unchanged */

    unsigned r = (unsigned)below(g, 100);
    if (r < 22) {
        /* lower quantity, same price: priority kept */
        int64_t room = (o->order_qty - o->cum) / lot - 1;
        if (room >= 1)
            c->qty = o->cum + lot * range(g, 1, room);
    } else if (r < 30) {
        /* nothing changes */
    } else if (r < 45) {
        c->qty = o->order_qty + lot * range(g, 1, 5);
    } else if (r < 68) {
        if (!is_stop)
            c->price = gen_price(g, o->inst);
        if (pct(g, 30))
            c->qty = o->order_qty + lot * range(g, -2, 2);
    } else if (r < 76) {
        /* at or below CumQty: canceled */
        c->qty = o->cum > 0 && pct(g, 70) ? o->cum : range(g, 0, o->cum);
    } else if (r < 84) {
        if (!is_stop)
            c->display_qty = pct(g, 30) ? 0 : iceberg_display(ic, c->qty, lot * range(g, 1, 3));
    } else {
        /* invalid in one way */
        switch (below(g, 10)) {
        case 0:
            c->price = ic->tick_size > 1 ? o->price + 1 : PX_NULL;
            if (is_stop || o->price == PX_NULL)
                c->price = PX_NULL;
            break;
        case 1:
            c->price = ic->max_price + ic->tick_size;
            break;
        case 2:
            c->qty = ic->max_qty + lot;
            break;
        case 3:
            c->clordid = o->clordid; /* the order itself */
            break;
        case 4: {
            gorder *d = pick_working_of(g, o->account);
            if (d)
                c->clordid = d->clordid;
            break;
        }
        case 5:
            c->display_qty = c->qty + lot;
            break;
        case 6:
            c->qty = -lot;
            break;
        case 7:
            c->price = pct(g, 50) ? 0 : -ic->tick_size;
            break;
        case 8:
            c->display_qty = lot > 1 ? 1 : -1;
            break;
        default:
            c->qty = o->order_qty + (lot > 1 ? 1 : 0);
            if (lot == 1)
                c->qty = ic->min_qty > 1 ? ic->min_qty - 1 : ic->max_qty + 1;
            break;
        }
    }
    if (c->display_qty > c->qty && pct(g, 90))
        c->display_qty = c->qty > 0 && c->display_qty != 0 ? c->qty - c->qty % lot : 0;
    if (is_stop && pct(g, 95)) {
        c->price = PX_NULL;
        c->display_qty = 0;
    }
}

/* ---- the rest ----------------------------------------------------------------------------------- */

static void gen_mass(cmdgen *g, cmdgen_cmd *out)
{
    dtx_command *c = &out->cmd;
    unsigned a = pick_account(g);
    c->account = g->accounts[a];
    c->session = g->sessions[a][below(g, 2)];
    c->clordid = new_clordid(g);
    unsigned r = (unsigned)below(g, 100);
    if (r < 50)
        c->security_id = 0;
    else if (r < 97)
        c->security_id = icfg(g, pick_inst(g))->security_id;
    else
        c->security_id = 424242;
    r = (unsigned)below(g, 100);
    c->side = (uint8_t)(r < 50 ? 0 : r < 74 ? 1 : r < 98 ? 2 : 3);
}

static void gen_time(cmdgen *g, cmdgen_cmd *out)
{
    unsigned r = (unsigned)below(g, 100);
    if (r < 6) {
        g->ts = next_boundary(g, g->ts); /* exactly a day boundary */
    } else if (r < 10) {
        g->ts = next_boundary(g, g->ts) + (uint64_t)below(g, 1000);
    } else if (r < 14) {
        g->ts += (uint64_t)range(g, 1, 30) * HOUR_NS;
    }
    out->cmd.ts = g->ts;
}

static void gen_status(cmdgen *g, cmdgen_cmd *out)
{
    dtx_command *c = &out->cmd;
    uint32_t inst = pick_inst(g);
    c->security_id = icfg(g, inst)->security_id;
    unsigned r = (unsigned)below(g, 100);
    if (g->status[inst] != DTX_TRADING_OPEN)
        c->status = r < 80 ? DTX_TRADING_OPEN : r < 90 ? DTX_TRADING_HALTED : DTX_TRADING_CLOSED;
    else
        c->status = r < 20 ? DTX_TRADING_OPEN : r < 80 ? DTX_TRADING_HALTED : DTX_TRADING_CLOSED;
    if (pct(g, 4))
        c->status = (uint8_t)(pct(g, 50) ? 0 : 4);
    if (pct(g, 3))
        c->security_id = pct(g, 50) ? 0 : 31337;
}

static void gen_cod(cmdgen *g, cmdgen_cmd *out)
{
    unsigned a = pick_account(g);
    out->cmd.account = g->accounts[a];
    out->cmd.session = g->sessions[a][below(g, 2)];
}

void cmdgen_next(cmdgen *g, cmdgen_cmd *out)
{
    /* the clock: mostly small steps, sometimes hours */
    if (pct(g, 1) && pct(g, 30))
        g->ts += (uint64_t)range(g, 1, 20) * HOUR_NS;
    else
        g->ts += (uint64_t)range(g, 1000, 2000000);

    /* a halted instrument is resumed soon */
    int resume = -1;
    for (uint32_t i = 0; i < g->setup.n_instruments; i++)
        if (g->status[i] != DTX_TRADING_OPEN && pct(g, 4))
            resume = (int)i;

    const gweights *w = &g->w;
    unsigned total = w->new_order + w->cancel + w->replace + w->mass + w->time + w->status +
                     w->cod + w->unknown;
    unsigned r = (unsigned)below(g, total);
    uint16_t type;
    if (resume >= 0)
        type = DTX_CMD_INSTRUMENT_STATUS;
    else if (r < w->new_order)
        type = DTX_CMD_NEW_ORDER;
    else if ((r -= w->new_order) < w->cancel)
        type = DTX_CMD_CANCEL;
    else if ((r -= w->cancel) < w->replace)
        type = DTX_CMD_REPLACE;
    else if ((r -= w->replace) < w->mass)
        type = DTX_CMD_MASS_CANCEL;
    else if ((r -= w->mass) < w->time)
        type = DTX_CMD_TIME;
    else if ((r -= w->time) < w->status)
        type = DTX_CMD_INSTRUMENT_STATUS;
    else if ((r -= w->status) < w->cod)
        type = DTX_CMD_CANCEL_ON_DISCONNECT;
    else
        type = 0; /* unknown */

    memset(out, 0, sizeof *out);
    out->oid_ref = -1;
    dtx_command *c = &out->cmd;
    *c = dtx_command_blank(type);
    c->seq = ++g->seq;
    c->ts = g->ts;
    switch (type) {
    case DTX_CMD_NEW_ORDER:
        gen_new(g, out);
        break;
    case DTX_CMD_CANCEL:
        gen_cancel(g, out);
        break;
    case DTX_CMD_REPLACE:
        gen_replace(g, out);
        break;
    case DTX_CMD_MASS_CANCEL:
        gen_mass(g, out);
        break;
    case DTX_CMD_TIME:
        gen_time(g, out);
        break;
    case DTX_CMD_INSTRUMENT_STATUS:
        gen_status(g, out);
        if (resume >= 0) {
            c->security_id = icfg(g, (uint32_t)resume)->security_id;
            c->status = DTX_TRADING_OPEN;
        }
        break;
    case DTX_CMD_CANCEL_ON_DISCONNECT:
        gen_cod(g, out);
        break;
    default: {
        static const uint16_t unknown[] = {0, 8, 9, 77, 255};
        c->type = unknown[below(g, 5)];
        unsigned a = pick_account(g);
        c->account = g->accounts[a];
        c->session = g->sessions[a][0];
        break;
    }
    }
    g->last = *c;
    g->index++;
}

/* ---- following the book ------------------------------------------------------------------------ */

static uint32_t inst_index(const cmdgen *g, uint32_t security_id)
{
    for (uint32_t i = 0; i < g->setup.n_instruments; i++)
        if (g->setup.instruments[i].security_id == security_id)
            return i;
    return 0;
}

static void work_remove(cmdgen *g, gorder *o)
{
    if (!o->working)
        return;
    o->working = 0;
    size_t i = o->widx;
    uint64_t moved = g->work[--g->n_work];
    g->work[i] = moved;
    ord(g, moved)->widx = i;
}

static gorder *known(cmdgen *g, uint64_t ordinal)
{
    return ordinal > 0 && ordinal < g->n_orders ? ord(g, ordinal) : NULL;
}

void cmdgen_observe(cmdgen *g, const dtx_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const dtx_event *e = &ev[i];
        gorder *o;
        switch (e->type) {
        case DTX_EV_NEW:
            if (e->order_id != g->n_orders)
                break; /* ordinals come in order; anything else is not ours */
            if (g->n_orders == g->cap_orders) {
                g->cap_orders *= 2;
                g->orders = xrealloc(g->orders, g->cap_orders * sizeof *g->orders);
            }
            o = &g->orders[g->n_orders++];
            memset(o, 0, sizeof *o);
            o->cmd_index = (int64_t)g->index - 1;
            o->clordid = e->clordid;
            o->account = e->account;
            o->session = e->session;
            o->inst = inst_index(g, e->security_id);
            o->side = e->side;
            o->ord_type = e->ord_type;
            o->tif = e->tif;
            o->exec_inst = e->exec_inst;
            o->price = e->price;
            o->stop_px = e->stop_px;
            o->order_qty = e->order_qty;
            o->leaves = e->leaves_qty;
            o->display = g->last.display_qty;
            o->pending = e->ord_type == DTX_ORD_STOP || e->ord_type == DTX_ORD_STOP_LIMIT;
            o->working = 1;
            if (g->n_work == g->cap_work) {
                g->cap_work = g->cap_work ? g->cap_work * 2 : 256;
                g->work = xrealloc(g->work, g->cap_work * sizeof *g->work);
            }
            o->widx = g->n_work;
            g->work[g->n_work++] = e->order_id;
            break;
        case DTX_EV_FILL:
            o = known(g, e->order_id);
            g->last_px[inst_index(g, e->security_id)] = e->price;
            if (!o)
                break;
            o->leaves = e->leaves_qty;
            o->cum = e->cum_qty;
            o->order_qty = e->order_qty;
            if (o->leaves == 0)
                work_remove(g, o);
            break;
        case DTX_EV_CANCELED:
            o = known(g, e->order_id);
            if (o)
                work_remove(g, o);
            break;
        case DTX_EV_REPLACED:
            o = known(g, e->order_id);
            if (!o)
                break;
            o->clordid = e->clordid;
            o->price = e->price;
            o->order_qty = e->order_qty;
            o->leaves = e->leaves_qty;
            o->cum = e->cum_qty;
            if (!(e->flags & DTX_EVF_SELF_TRADE))
                o->display = g->last.display_qty;
            break;
        case DTX_EV_TRIGGERED:
            o = known(g, e->order_id);
            if (o)
                o->pending = 0;
            break;
        case DTX_EV_STATUS:
            g->status[inst_index(g, e->security_id)] = e->status;
            break;
        default:
            break;
        }
    }
}
