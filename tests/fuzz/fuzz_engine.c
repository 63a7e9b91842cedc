/*
 * fuzz_engine.c - libFuzzer target for the matching engine (dtx/engine.h).
 *
 * The input bytes are not commands: they steer a generator that builds mostly
 * valid commands, so the fuzzer reaches deep book states (icebergs being
 * refilled, stops cascading, self-trade prevention, expiry, halts) instead of
 * being stopped by the first validation check. Per command, one selector byte
 * picks the kind, and further bytes pick fields from small ranges: accounts
 * 1..4, sessions 1..2, the three default instruments, prices on tick within
 * a few dozen ticks of a mid that follows the last trade, small quantities,
 * ClOrdIDs and OrderIDs taken from recent ones. A fraction of the commands
 * take raw, unconstrained values instead (any price, quantity, enum value, or
 * a whole raw 128-byte record).
 *
 * The engine has the default instruments and small capacities, so that
 * TooManyOpenOrders and full stop/expiry queues are reached too.
 *
 * Checked after every command, through the public API only:
 *   - events: exec_id consecutive from 1, seq/ts of the command, a known
 *     type; a response for every command that must get one; maker and
 *     taker FILL quantities equal;
 *   - books: best bid < best ask when both exist; dtx_engine_visit_book
 *     visits the best price first, in price order, each order with leaves > 0,
 *     0 < shown <= leaves, shown <= DisplayQty for an iceberg,
 *     cum + leaves = OrderQty, and findable by OrderID; no more resting orders
 *     than the working-order count and the capacity.
 * Then the same commands run through a second engine: the event stream (a
 * hash of every record) and dtx_engine_digest() must be equal (determinism).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/cmdfile.h"
#include "dtx/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/*
 * Each input creates two engines, and dtx_engine_create() reserves and touches
 * the price ladders of the default instruments (about 11 MB). With ASan's
 * default 256 MB quarantine every freed ladder sits in quarantine and every
 * new one is fresh memory: 60 ms an input instead of 10 ms. A small quarantine
 * keeps use-after-free detection for the small allocations.
 */
const char *__asan_default_options(void) { return "quarantine_size_mb=8"; }

#define MAX_CMDS 2048
#define MAX_ORDERS 64
#define MAX_ICEBERGS 4 /* small: the iceberg table's capacity is reached often */
#define MAX_TIMED 24
#define MAX_STOPS 8
#define N_ACCOUNTS 4
#define RING 32
#define NS_PER_S 1000000000ull
#define T0 1767571200000000000ull /* 2026-01-05 00:00:00 UTC */

/* ---- failure reports --------------------------------------------------------- */

static const dtx_command *g_cmd; /* the command being checked, for reports */

__attribute__((noreturn)) static void fail(const char *what)
{
    char line[DTX_CMDTEXT_LINE_CAP];
    fprintf(stderr, "fuzz_engine: invariant broken: %s\n", what);
    if (g_cmd) {
        if (dtx_cmdtext_format(g_cmd, line, sizeof line) < 0)
            snprintf(line, sizeof line, "(type %u)", g_cmd->type);
        fprintf(stderr, "fuzz_engine: after command: %s\n", line);
    }
    abort();
}

#define CHECK(cond, what)     \
    do {                      \
        if (!(cond))          \
            fail(what);       \
    } while (0)

/* ---- the byte source ------------------------------------------------------- */

typedef struct src {
    const uint8_t *p;
    size_t n, i;
} src;

static uint8_t u8(src *s) { return s->i < s->n ? s->p[s->i++] : 0; }

static uint64_t u64(src *s, unsigned nbytes)
{
    uint64_t v = 0;
    unsigned k;
    for (k = 0; k < nbytes; k++)
        v = v << 8 | u8(s);
    return v;
}

/* ---- the event sink ------------------------------------------------------- */

typedef struct run {
    dtx_engine *e;
    uint64_t hash;         /* FNV-1a over every event record */
    uint64_t next_exec;    /* expected exec_id of the next event */
    size_t n_events;       /* of the current command */
    uint8_t first_type;    /* of the current command */
    int64_t maker_qty, taker_qty;
    const dtx_command *cmd;
    int checking;          /* 1 on the first run: record and check */
    /* learned from events, to aim cancels and replaces at live orders */
    uint64_t oids[RING];
    uint32_t oid_acct[RING];
    unsigned n_oids;
} run;

static void on_events(void *ctx, const dtx_event *ev, size_t n)
{
    run *r = ctx;
    size_t i;
    for (i = 0; i < n; i++) {
        const dtx_event *e = &ev[i];
        const unsigned char *b = (const unsigned char *)e;
        size_t k;
        for (k = 0; k < sizeof *e; k++)
            r->hash = (r->hash ^ b[k]) * 0x100000001b3ull;
        if (!r->checking)
            continue;
        g_cmd = r->cmd;
        CHECK(e->type > DTX_EV_NONE && e->type < DTX_EV_TYPE_COUNT, "event type out of range");
        CHECK(e->exec_id == r->next_exec, "exec_id not consecutive");
        CHECK(e->seq == r->cmd->seq && e->ts == r->cmd->ts, "event seq/ts are not the command's");
        r->next_exec++;
        if (r->n_events++ == 0)
            r->first_type = e->type;
        if (e->type == DTX_EV_FILL) {
            CHECK(e->last_qty > 0, "FILL with last_qty <= 0");
            CHECK(e->leaves_qty >= 0 && e->cum_qty > 0, "FILL with bad leaves/cum");
            if (e->aggressor)
                r->taker_qty += e->last_qty;
            else
                r->maker_qty += e->last_qty;
        }
        if ((e->type == DTX_EV_NEW || e->type == DTX_EV_ADDED) && e->order_id) {
            r->oids[r->n_oids % RING] = e->order_id;
            r->oid_acct[r->n_oids % RING] = e->account;
            r->n_oids++;
        }
    }
}

/* ---- invariants over the books ------------------------------------------------ */

typedef struct visit {
    const dtx_engine *e;
    uint32_t sec;
    uint8_t side;
    int64_t best;
    int64_t prev;
    uint32_t count;
} visit;

static uint32_t g_icebergs; /* resting icebergs seen by check_books() */

static int visit_order(void *ctx, const dtx_order_view *o)
{
    visit *v = ctx;
    g_icebergs += o->display_qty > 0;
    dtx_order_view again;
    CHECK(o->security_id == v->sec, "visited order of another instrument");
    CHECK(o->side == v->side, "visited order of the other side");
    CHECK(!o->pending_stop, "pending stop visited as resting");
    CHECK(o->leaves_qty > 0, "resting order with leaves <= 0");
    CHECK(o->shown_qty > 0, "resting order with shown <= 0");
    CHECK(o->shown_qty <= o->leaves_qty, "resting order with shown > leaves");
    CHECK(o->display_qty > 0 ? o->shown_qty <= o->display_qty : o->shown_qty == o->leaves_qty,
          "shown quantity disagrees with DisplayQty");
    CHECK(o->cum_qty >= 0 && o->cum_qty + o->leaves_qty == o->order_qty,
          "cum + leaves != order_qty");
    CHECK(o->price != DTX_PRICE_NULL, "resting order without a price");
    if (v->count == 0)
        CHECK(o->price == v->best, "first visited price is not the best price");
    else if (v->side == DTX_SIDE_BUY)
        CHECK(o->price <= v->prev, "bids not in price order");
    else
        CHECK(o->price >= v->prev, "asks not in price order");
    v->prev = o->price;
    v->count++;
    CHECK(v->count <= MAX_ORDERS, "more resting orders than max_orders");
    CHECK(dtx_engine_find_order(v->e, o->order_id, &again) == 1, "resting order not found by OrderID");
    CHECK(again.leaves_qty == o->leaves_qty && again.price == o->price &&
              again.shown_qty == o->shown_qty,
          "find_order disagrees with visit_book");
    return 0;
}

static void check_books(const dtx_engine *e, const dtx_instrument_config *ins, uint32_t n_ins)
{
    uint32_t i, total = 0;
    dtx_engine_stats st;
    g_icebergs = 0;
    for (i = 0; i < n_ins; i++) {
        int64_t bid, ask;
        visit v;
        dtx_engine_best(e, ins[i].security_id, &bid, &ask);
        if (bid != DTX_PRICE_NULL && ask != DTX_PRICE_NULL)
            CHECK(bid < ask, "book crossed or locked: best bid >= best ask");
        memset(&v, 0, sizeof v);
        v.e = e;
        v.sec = ins[i].security_id;
        v.side = DTX_SIDE_BUY;
        v.best = bid;
        dtx_engine_visit_book(e, v.sec, DTX_SIDE_BUY, visit_order, &v);
        CHECK((bid == DTX_PRICE_NULL) == (v.count == 0), "best bid disagrees with the bid side");
        total += v.count;
        v.side = DTX_SIDE_SELL;
        v.best = ask;
        v.count = 0;
        dtx_engine_visit_book(e, v.sec, DTX_SIDE_SELL, visit_order, &v);
        CHECK((ask == DTX_PRICE_NULL) == (v.count == 0), "best ask disagrees with the ask side");
        total += v.count;
    }
    dtx_engine_get_stats(e, &st);
    CHECK(total <= st.working_orders, "more resting orders than working orders");
    CHECK(st.working_orders <= MAX_ORDERS, "more working orders than max_orders");
    CHECK(g_icebergs <= MAX_ICEBERGS, "more resting icebergs than max_icebergs");
}

/* ---- the command generator ------------------------------------------------------ */

typedef struct gen {
    const dtx_instrument_config *ins;
    uint32_t n_ins;
    int64_t mid[8];      /* per instrument, PRICE9 on tick */
    uint64_t ts;
    uint64_t next_clid[N_ACCOUNTS + 1];
    uint64_t clids[RING]; /* recent ClOrdIDs with their account */
    uint32_t clid_acct[RING];
    unsigned n_clids;
} gen;

static const dtx_instrument_config *pick_ins(gen *g, uint8_t b, uint32_t *sec)
{
    /* BTC-PERP twice as often as the others */
    uint32_t i = b % 4 == 3 ? 0 : b % 4 % g->n_ins;
    *sec = g->ins[i].security_id;
    return &g->ins[i];
}

static int ins_index(const gen *g, uint32_t sec)
{
    uint32_t i;
    for (i = 0; i < g->n_ins; i++)
        if (g->ins[i].security_id == sec)
            return (int)i;
    return -1;
}

/* A price on tick, offset ticks from the instrument's mid, kept in its range. */
static int64_t near_mid(const gen *g, const dtx_instrument_config *ic, int offset)
{
    int i = ins_index(g, ic->security_id);
    int64_t px = g->mid[i] + (int64_t)offset * ic->tick_size;
    if (px < ic->min_price)
        px = ic->min_price;
    if (px > ic->max_price)
        px = ic->max_price;
    return px;
}

static uint64_t new_clid(gen *g, uint32_t acct)
{
    uint64_t id = ++g->next_clid[acct % (N_ACCOUNTS + 1)];
    g->clids[g->n_clids % RING] = id;
    g->clid_acct[g->n_clids % RING] = acct;
    g->n_clids++;
    return id;
}

static void gen_new(gen *g, src *s, dtx_command *c, int raw)
{
    static const uint8_t tifs[8] = {DTX_TIF_GTC, DTX_TIF_GTC, DTX_TIF_DAY, DTX_TIF_IOC,
                                    DTX_TIF_FOK, DTX_TIF_GTD, DTX_TIF_GTC, DTX_TIF_DAY};
    uint8_t b0 = u8(s), b1 = u8(s), b2 = u8(s), b3 = u8(s), b4 = u8(s), b5 = u8(s);
    const dtx_instrument_config *ic = pick_ins(g, b0, &c->security_id);
    unsigned kind = (b1 >> 1) & 7;

    c->account = 1 + (b0 >> 2) % N_ACCOUNTS;
    c->session = (uint16_t)(1 + ((b0 >> 4) & 1));
    c->side = (uint8_t)(1 + (b1 & 1));
    c->ord_type = kind <= 4 ? DTX_ORD_LIMIT : kind == 5 ? DTX_ORD_MARKET
                : kind == 6 ? DTX_ORD_STOP : DTX_ORD_STOP_LIMIT;
    c->tif = tifs[b1 >> 5];
    if (c->ord_type == DTX_ORD_MARKET && !(b5 & 0x80))
        c->tif = (b1 & 0x10) ? DTX_TIF_IOC : DTX_TIF_FOK;
    if ((c->ord_type == DTX_ORD_STOP) && (c->tif == DTX_TIF_IOC || c->tif == DTX_TIF_FOK) &&
        !(b5 & 0x80))
        c->tif = DTX_TIF_GTC;
    /* buyers mostly below the mid and sellers above, with overlap to trade */
    {
        int off = ((int8_t)b2) / 6 + (c->side == DTX_SIDE_BUY ? -3 : 3);
        if (c->ord_type == DTX_ORD_LIMIT || c->ord_type == DTX_ORD_STOP_LIMIT)
            c->price = near_mid(g, ic, off);
        if (c->ord_type == DTX_ORD_STOP || c->ord_type == DTX_ORD_STOP_LIMIT) {
            int soff = (int)(b3 & 15) - 4;
            c->stop_px = near_mid(g, ic, c->side == DTX_SIDE_BUY ? soff : -soff);
        }
    }
    c->qty = 1 + (b3 >> 4);
    if (b4 >= 0xf0)
        c->qty *= 50;
    if ((b4 & 7) == 1 && c->ord_type == DTX_ORD_LIMIT)
        c->display_qty = 1 + (b4 >> 3) % c->qty;
    if ((b4 & 0x18) == 0x18 && c->ord_type == DTX_ORD_LIMIT && c->tif != DTX_TIF_IOC &&
        c->tif != DTX_TIF_FOK)
        c->exec_inst |= DTX_EXEC_POST_ONLY;
    c->stp = (uint8_t)(b5 & 3);
    if (c->tif == DTX_TIF_GTD)
        c->expire_time = c->ts + (1 + (b5 >> 2 & 15)) * NS_PER_S * 30;
    c->clordid = (b5 & 0x40) && g->n_clids ? g->clids[b0 % RING % (g->n_clids < RING ? g->n_clids : RING)]
                                           : new_clid(g, c->account);
    if (raw) {
        /* one field unconstrained */
        uint8_t which = u8(s);
        uint64_t v = u64(s, 8);
        switch (which % 12) {
        case 0: c->price = (int64_t)v; break;
        case 1: c->stop_px = (int64_t)v; break;
        case 2: c->qty = (int64_t)v; break;
        case 3: c->display_qty = (int64_t)v; break;
        case 4: c->side = (uint8_t)v; break;
        case 5: c->ord_type = (uint8_t)v; break;
        case 6: c->tif = (uint8_t)v; break;
        case 7: c->exec_inst = (uint8_t)v; break;
        case 8: c->stp = (uint8_t)v; break;
        case 9: c->expire_time = v; break;
        case 10: c->security_id = (uint32_t)v; break;
        default: c->price = near_mid(g, ic, (int)(int8_t)(v & 0xff) * 64); break;
        }
    }
}

/* A target order: by OrderID from the events, by ClOrdID, or garbage. */
static void pick_target(gen *g, run *r, src *s, dtx_command *c)
{
    uint8_t b = u8(s), k = u8(s);
    switch (b & 3) {
    case 0:
    case 1:
        if (r->n_oids) {
            unsigned i = k % (r->n_oids < RING ? r->n_oids : RING);
            c->order_id = r->oids[i];
            c->account = r->oid_acct[i];
            break;
        }
        /* fall through */
    case 2:
        if (g->n_clids) {
            unsigned i = k % (g->n_clids < RING ? g->n_clids : RING);
            c->orig_clordid = g->clids[i];
            c->account = g->clid_acct[i];
            break;
        }
        /* fall through */
    default:
        c->orig_clordid = k;
        c->order_id = (b & 0x10) ? u64(s, 8) : 0;
        break;
    }
    if (!c->account || (b & 0xe0) == 0xe0)
        c->account = 1 + (b >> 2) % N_ACCOUNTS; /* maybe someone else's order */
    c->session = (uint16_t)(1 + (c->account & 1));
    if (b & 0x08)
        c->side = (uint8_t)(1 + (k & 1));
    if ((b & 0x44) == 0x44)
        c->security_id = g->ins[k % g->n_ins].security_id;
    c->clordid = new_clid(g, c->account);
}

static void gen_cmd(gen *g, run *r, src *s, dtx_command *c)
{
    uint8_t op = u8(s);
    *c = dtx_command_blank(DTX_CMD_NONE);
    g->ts += 1000 * (1 + (uint64_t)(op & 7));
    c->ts = g->ts;

    if (op < 120) {
        c->type = DTX_CMD_NEW_ORDER;
        gen_new(g, s, c, 0);
    } else if (op < 156) {
        c->type = DTX_CMD_CANCEL;
        pick_target(g, r, s, c);
    } else if (op < 186) {
        uint8_t b = u8(s), q = u8(s);
        const dtx_instrument_config *ic;
        uint32_t sec;
        c->type = DTX_CMD_REPLACE;
        pick_target(g, r, s, c);
        ic = pick_ins(g, b, &sec);
        if (c->security_id)
            ic = &g->ins[ins_index(g, c->security_id)];
        if (b & 0x80)
            c->price = near_mid(g, ic, ((int8_t)(b << 1)) / 8);
        c->qty = (q & 0x1f) ? (q & 0x1f) : (int64_t)(q >> 5);
        if ((q & 0xe0) == 0xe0)
            c->display_qty = 1 + (b & 3);
    } else if (op < 196) {
        uint8_t b = u8(s);
        c->type = DTX_CMD_MASS_CANCEL;
        c->account = 1 + b % N_ACCOUNTS;
        c->session = (uint16_t)(1 + (c->account & 1));
        c->clordid = new_clid(g, c->account);
        c->security_id = (b & 0x30) == 0x30 ? 0 : g->ins[(b >> 4 & 3) % g->n_ins].security_id;
        if ((b & 0xc0) == 0xc0)
            c->security_id = 77; /* unknown */
        c->side = (uint8_t)((b >> 6) & 3) % 3;
    } else if (op < 216) {
        static const uint64_t steps[8] = {
            1000000ull, NS_PER_S, 30 * NS_PER_S, 60 * NS_PER_S,
            600 * NS_PER_S, 3600 * NS_PER_S, 6 * 3600 * NS_PER_S, 86400 * NS_PER_S};
        uint8_t b = u8(s);
        c->type = DTX_CMD_TIME;
        g->ts += steps[b & 7] * (1 + (b >> 3 & 3));
        c->ts = g->ts;
        /* the mid wanders on its own too */
        g->mid[b % g->n_ins] = near_mid(g, &g->ins[b % g->n_ins], (int)((int8_t)b >> 4));
    } else if (op < 224) {
        uint8_t b = u8(s);
        c->type = DTX_CMD_INSTRUMENT_STATUS;
        c->security_id = g->ins[b % g->n_ins].security_id;
        c->status = (uint8_t)((b >> 2) % 8 < 5 ? DTX_TRADING_OPEN
                              : (b >> 2) % 8 < 7 ? DTX_TRADING_HALTED : DTX_TRADING_CLOSED);
        if ((b & 0xc0) == 0xc0 && (b & 3) == 3)
            c->status = (uint8_t)(b >> 2); /* invalid or random */
    } else if (op < 232) {
        uint8_t b = u8(s);
        c->type = DTX_CMD_CANCEL_ON_DISCONNECT;
        c->account = 1 + b % N_ACCOUNTS;
        c->session = (uint16_t)(1 + ((b >> 2) & 1));
    } else if (op < 248) {
        c->type = DTX_CMD_NEW_ORDER;
        gen_new(g, s, c, 1);
    } else {
        /* a raw record; seq and ts stay the generator's */
        uint8_t raw[sizeof *c];
        size_t k;
        for (k = 0; k < sizeof raw; k++)
            raw[k] = u8(s);
        memcpy(c, raw, sizeof *c);
        if (!(op & 1))
            c->type = (uint16_t)(c->type % (DTX_CMD_TYPE_COUNT + 1));
        c->ts = g->ts;
    }
}

static void expect_response(const run *r, const dtx_command *c)
{
    switch (c->type) {
    case DTX_CMD_NEW_ORDER:
        CHECK(r->n_events > 0, "new order without a response");
        CHECK(r->first_type == DTX_EV_NEW || r->first_type == DTX_EV_REJECT,
              "first event of a new order is neither NEW nor REJECT");
        break;
    case DTX_CMD_CANCEL:
    case DTX_CMD_REPLACE:
    case DTX_CMD_MASS_CANCEL:
    case DTX_CMD_INSTRUMENT_STATUS:
        CHECK(r->n_events > 0, "command without a response");
        break;
    case DTX_CMD_TIME:
    case DTX_CMD_CANCEL_ON_DISCONNECT:
        break;
    default:
        CHECK(r->n_events == 1 && r->first_type == DTX_EV_BUSINESS_REJECT,
              "unknown command type not answered by one BUSINESS_REJECT");
        break;
    }
    CHECK(r->maker_qty == r->taker_qty, "maker and taker FILL quantities differ");
}

static dtx_engine *make_engine(run *r, const dtx_instrument_config *ins, uint32_t n_ins, int prefetch)
{
    dtx_engine_config cfg;
    dtx_engine *e;
    memset(&cfg, 0, sizeof cfg);
    cfg.instruments = ins;
    cfg.n_instruments = n_ins;
    cfg.max_orders = MAX_ORDERS;
    cfg.max_timed = MAX_TIMED;
    cfg.max_stops = MAX_STOPS;
    cfg.max_icebergs = MAX_ICEBERGS;
    cfg.sink = on_events;
    cfg.sink_ctx = r;
    cfg.prefetch = prefetch;
    e = dtx_engine_create(&cfg);
    if (!e) {
        fprintf(stderr, "fuzz_engine: dtx_engine_create: %s\n", dtx_error_message());
        abort();
    }
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dtx_command cmds[MAX_CMDS];
    src s = {data, size, 0};
    gen g;
    run r1, r2;
    size_t n = 0, i;
    uint32_t k;
    uint64_t d1, d2;

    memset(&g, 0, sizeof g);
    g.ins = dtx_default_instruments(&g.n_ins);
    if (g.n_ins > 8)
        g.n_ins = 8;
    for (k = 0; k < g.n_ins; k++) {
        /* start near the middle of where these markets trade (65000, 3500) */
        const dtx_instrument_config *ic = &g.ins[k];
        int64_t usd = ic->tick_size >= 500000000 ? 65000 : 3500;
        g.mid[k] = usd * 1000000000LL / ic->tick_size * ic->tick_size;
        if (g.mid[k] < ic->min_price || g.mid[k] > ic->max_price)
            g.mid[k] = ic->min_price;
    }
    g.ts = T0 + 9 * 3600 * NS_PER_S;

    memset(&r1, 0, sizeof r1);
    r1.hash = 0xcbf29ce484222325ull;
    r1.next_exec = 1;
    r1.checking = 1;
    r1.e = make_engine(&r1, g.ins, g.n_ins, DTX_PREFETCH_NEVER);

    while (s.i < s.n && n < MAX_CMDS) {
        dtx_command *c = &cmds[n];
        gen_cmd(&g, &r1, &s, c);
        c->seq = n + 1;
        n++;
        r1.cmd = c;
        r1.n_events = 0;
        r1.first_type = 0;
        r1.maker_qty = r1.taker_qty = 0;
        g_cmd = c;
        CHECK(dtx_engine_submit(r1.e, c) == DTX_OK, "submit did not return DTX_OK");
        expect_response(&r1, c);
        check_books(r1.e, g.ins, g.n_ins);
        /* the mid follows the market */
        for (k = 0; k < g.n_ins; k++) {
            int64_t last = dtx_engine_last_price(r1.e, g.ins[k].security_id);
            if (last != DTX_PRICE_NULL)
                g.mid[k] = last;
        }
    }
    g_cmd = NULL;
    d1 = dtx_engine_digest(r1.e);
    dtx_engine_destroy(r1.e);

    /* determinism: the same commands, a fresh engine, the same output; this
     * time in bursts (sizes 1 to 64, cycling) with every prefetch hint on, so
     * the hints read the books after arbitrary commands, malformed ones
     * included (ASan checks their reads) and must not change the events */
    memset(&r2, 0, sizeof r2);
    r2.hash = 0xcbf29ce484222325ull;
    r2.e = make_engine(&r2, g.ins, g.n_ins, DTX_PREFETCH_ALWAYS);
    for (i = 0; i < n;) {
        size_t len = 1 + (i * 37) % 64;
        if (len > n - i)
            len = n - i;
        dtx_engine_submit_burst(r2.e, &cmds[i], len);
        i += len;
    }
    d2 = dtx_engine_digest(r2.e);
    dtx_engine_destroy(r2.e);
    CHECK(r1.hash == r2.hash, "two runs of the same commands emitted different events");
    CHECK(d1 == d2, "two runs of the same commands ended with different digests");
    return 0;
}
