/*
 * bench_risk.c - what the risk gate and its accounting add to the engine, with
 * 100,000 accounts and 10 instruments (issue 4's benchmark).
 *
 * Setup (untimed): 10 instruments (tick 0.01, prices 50..150 USD, multiplier
 * 1), 100,000 accounts with 1,000,000 USD each, marks at 100, a pre-fill of
 * about 2 resting orders per account spread over the instruments, then crossing
 * orders so that accounts hold positions. The timed stream: 55 % GTC limits
 * near the touch (some cross), 10 % IOC, 15 % cancels and 20 % replaces of
 * recent orders (named by ClOrdID, with their SecurityID and Side as FIX
 * clients send them), uniform over accounts and instruments.
 *
 *   pass 1  engine + gate + accounting, each gate call timed with
 *           lfence;rdtsc / rdtscp;lfence into a histogram; the same wrapper
 *           around an empty gate gives the timer's own cost, reported and
 *           subtracted; again with dtx_engine_prefetch + dtx_risk_prefetch
 *           LOOKAHEAD commands ahead (what a core working through a burst
 *           from its ring does);
 *           The gate requests of pass 1 are recorded and replayed against
 *           its final state, batch timed: in order, prefetching, and the
 *           first 1,000 repeated (data in cache: the arithmetic alone);
 *   pass 2  engine alone (no gate, no accounting), batch timed (one TSC read
 *           per 1,024 commands, the median chunk reported: the machines are
 *           shared, and a preemption must not move the figure);
 *   pass 3  engine + gate + accounting, batch timed;
 *   pass 4, 5  the same two, prefetching.
 *   core path  (--rounds R, default 3; interleaved) engine + gate +
 *           accounting as the core thread runs it now (engine/core.c):
 *           bursts of CORE_BURST commands through
 *           dtx_engine_submit_burst_pf() with dtx_risk_prefetch as its hint;
 *           against the old core's loop (bursts of CORE_BURST, one prefetch
 *           stage, dtx_engine_prefetch + dtx_risk_prefetch LOOKAHEAD ahead
 *           within the burst, one dtx_engine_submit per command), the burst
 *           without the risk's hint (dtx_engine_submit_burst) and pass 5 (no
 *           bursts). R rounds, the order of the four rotating each round,
 *           each from a fresh setup, batch timed; per-round figures, means,
 *           medians, wins, and the event, fill and reject counts (equal, or
 *           a warning and exit status 1).
 * Every pass starts from a fresh engine and risk context fed the same setup.
 * Limits are off and collateral is large, so the gate accepts what the engine
 * would and both batch passes process the same orders (their event counts are
 * printed side by side).
 *
 * --orders N spreads N resting orders over the accounts in the pre-fill
 * (default 2 per account): --orders 1000000 puts a million resting orders on
 * the 10 books, so the books and the ClOrdID index outgrow the caches as in
 * bench_book's large profile. --core-only runs only the core-path rounds.
 *
 * Run: bench_risk [--ops N] [--accounts N] [--orders N] [--rounds R] [--core-only]
 *                 [--seed S] [--cpu C] [--record]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#else
#error "bench_risk times with rdtsc: x86 only"
#endif

#include "dtx/engine.h"
#include "dtx/risk.h"
#include "hist.h"

#define N_INST 10u
#define TICK 10000000LL          /* 0.01 USD in PRICE9 */
#define PX(ticks) ((int64_t)(ticks) * TICK)
#define MID 10000                /* 100.00 USD in ticks */
#define TS0 1767225600000000000ULL
#define LOOKAHEAD 8 /* commands prefetched ahead */
#define CORE_BURST 64 /* engine/core.c: commands per burst */

/* ---- random ------------------------------------------------------------------------ */

static uint64_t rng;
static inline uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static inline uint64_t below(uint64_t n) { return rnd() % n; }

/* ---- time: perf/hist.h (one histogram and quantile rule for every benchmark) ---- */

#define tsc_begin dtx_tsc_begin
#define tsc_end dtx_tsc_end
#define mono_ns dtx_mono_ns
typedef dtx_hist hist;
#define hist_add dtx_hist_add
#define hist_q dtx_hist_quantile

/* ---- the setup and stream -------------------------------------------------------------- */

typedef struct bench {
    uint32_t n_accounts;
    uint64_t n_orders; /* resting orders of the pre-fill */
    dtx_instrument_config inst[N_INST];
    dtx_risk_instrument_config rinst[N_INST];
    dtx_command *setup, *timed;
    size_t n_setup, n_timed;
} bench;

typedef struct ctx {
    dtx_engine *e;
    dtx_risk *r;
    int account; /* feed events to the risk */
    uint64_t events, fills, rejects;
    hist *h;
    double overhead;
} ctx;

static void sink(void *p, const dtx_event *ev, size_t n)
{
    ctx *c = p;
    c->events += n;
    for (size_t i = 0; i < n; i++) {
        c->fills += ev[i].type == DTX_EV_FILL;
        c->rejects += ev[i].type == DTX_EV_REJECT || ev[i].type == DTX_EV_CANCEL_REJECT;
    }
    if (c->account)
        dtx_risk_on_events(c->r, ev, n);
}

static ctx *g_timed;
/* Gate requests recorded in pass 1, replayed in isolation afterwards. */
typedef struct recorded {
    dtx_gate_request req;
    dtx_command cmd;
} recorded;
static recorded *g_rec;
static size_t g_n_rec, g_cap_rec;

static uint16_t timed_gate(void *p, const dtx_gate_request *req)
{
    uint64_t t0 = tsc_begin();
    uint16_t r = dtx_risk_gate(p, req);
    uint64_t t1 = tsc_end();
    hist_add(g_timed->h, t1 - t0);
    if (g_rec && g_n_rec < g_cap_rec) {
        g_rec[g_n_rec].req = *req;
        g_rec[g_n_rec].cmd = *req->cmd;
        g_n_rec++;
    }
    return r;
}

/* ns per gate call over the recorded requests, in order (accounts at random),
 * with or without prefetching ahead; or the first `hot` requests over and over
 * (their accounts stay in cache: the arithmetic alone). */
typedef struct replay_result {
    double cold, prefetched, hot;
} replay_result;

#define CHUNK 1024 /* operations per TSC read in the batch-timed loops */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median over chunks of CHUNK operations of the cycles per chunk: robust to
 * the preemptions of a shared machine, unlike the mean. chunks is scratch. */
static double chunk_median_ns(uint64_t *chunks, size_t n_chunks, double cpn)
{
    if (!n_chunks)
        return 0;
    qsort(chunks, n_chunks, sizeof *chunks, cmp_u64);
    return (double)chunks[n_chunks / 2] / cpn / CHUNK;
}

static double replay_once(dtx_risk *r, size_t lookahead, size_t hot, double cpn)
{
    size_t n = hot ? hot : g_n_rec, rounds = hot ? (g_n_rec / hot) : 1;
    size_t total = n * rounds, n_chunks = 0;
    uint64_t *chunks = malloc(sizeof *chunks * (total / CHUNK + 1));
    volatile uint32_t sink_rej = 0;
    uint64_t t0 = tsc_begin();
    size_t done = 0;
    for (size_t k = 0; k < rounds; k++)
        for (size_t i = 0; i < n; i++) {
            if (lookahead && i + lookahead < n)
                dtx_risk_prefetch(r, &g_rec[i + lookahead].cmd);
            dtx_gate_request q = g_rec[i].req;
            q.cmd = &g_rec[i].cmd;
            sink_rej += dtx_risk_gate(r, &q);
            if (++done % CHUNK == 0) {
                uint64_t t1 = __rdtsc();
                chunks[n_chunks++] = t1 - t0;
                t0 = t1;
            }
        }
    (void)sink_rej;
    double ns = chunk_median_ns(chunks, n_chunks, cpn);
    free(chunks);
    return ns;
}
__attribute__((noinline)) static uint16_t empty_gate(void *p, const dtx_gate_request *req)
{
    (void)p;
    (void)req;
    __asm__ volatile("" ::: "memory");
    return 0;
}

/* What each account's last 4 ClOrdIDs name (instrument and side), so that
 * cancels and replaces carry SecurityID and Side as FIX clients send them
 * (Symbol and Side are required fields of 35=F and 35=G). */
typedef struct name {
    uint64_t clordid;
    uint32_t security_id;
    uint8_t side;
} name;
static name *names;

static void name_set(uint32_t acct, uint64_t cl, uint32_t sec, uint8_t side)
{
    names[(size_t)acct * 4 + (cl & 3)] = (name){cl, sec, side};
}

/* The instrument and side of the order ClOrdID cl of acct names, or zeros. */
static name name_get(uint32_t acct, uint64_t cl)
{
    name n = names[(size_t)acct * 4 + (cl & 3)];
    return n.clordid == cl ? n : (name){0};
}

static dtx_command order(uint32_t acct, uint64_t cl, uint32_t sec, uint8_t side, int64_t ticks, int64_t qty,
                         uint8_t tif)
{
    name_set(acct, cl, sec, side);
    dtx_command c = dtx_command_blank(DTX_CMD_NEW_ORDER);
    c.account = acct;
    c.session = 1;
    c.clordid = cl;
    c.security_id = sec;
    c.side = side;
    c.ord_type = DTX_ORD_LIMIT;
    c.tif = tif;
    c.price = PX(ticks);
    c.qty = qty;
    return c;
}

static void build(bench *b, uint64_t ops)
{
    for (uint32_t i = 0; i < N_INST; i++) {
        dtx_instrument_config *ic = &b->inst[i];
        memset(ic, 0, sizeof *ic);
        ic->security_id = i + 1;
        snprintf(ic->symbol, sizeof ic->symbol, "BENCH-%u", i + 1);
        ic->type = DTX_INSTR_PERPETUAL;
        ic->tick_size = TICK;
        ic->contract_multiplier = 1000000000;
        ic->min_price = PX(5000);
        ic->max_price = PX(15000);
        ic->min_qty = 1;
        ic->max_qty = 1000000;
        ic->lot_size = 1;
        ic->market_band_ticks = 100;
        b->rinst[i] = (dtx_risk_instrument_config){.security_id = i + 1,
                                                   .contract_multiplier = 1000000000,
                                                   .initial_margin_rate = 10000000,
                                                   .maint_margin_rate = 5000000,
                                                   .price_band_rate = 100000000,
                                                   .max_leverage = 100,
                                                   .maker_fee_rate = -100000,
                                                   .taker_fee_rate = 500000};
    }
    uint64_t *cl = calloc(b->n_accounts, sizeof *cl);
    names = calloc((size_t)b->n_accounts * 4, sizeof *names);
    b->setup = malloc(sizeof(dtx_command) * ((size_t)b->n_orders + b->n_accounts / 2 + 1));
    b->timed = malloc(sizeof(dtx_command) * ops);
    /* pre-fill: n_orders resting orders (by default 2 per account), bids and
     * asks in turn, away from the touch */
    uint64_t per = b->n_orders / b->n_accounts, rem = b->n_orders % b->n_accounts;
    for (uint32_t a = 0; a < b->n_accounts; a++)
        for (uint64_t k = 0; k < per + (a < rem); k++) {
            uint8_t side = (uint8_t)(k % 2 + 1);
            int64_t t = side == DTX_SIDE_BUY ? MID - 5 - (int64_t)below(300) : MID + 5 + (int64_t)below(300);
            b->setup[b->n_setup++] =
                order(a, ++cl[a], 1 + (uint32_t)below(N_INST), side, t, 1 + (int64_t)below(20), DTX_TIF_GTC);
        }
    /* positions: IOC orders that cross into the pre-fill */
    for (uint32_t a = 0; a < b->n_accounts; a += 2) {
        uint8_t side = below(2) ? DTX_SIDE_BUY : DTX_SIDE_SELL;
        int64_t t = side == DTX_SIDE_BUY ? MID + 100 : MID - 100;
        b->setup[b->n_setup++] =
            order(a, ++cl[a], 1 + (uint32_t)below(N_INST), side, t, 1 + (int64_t)below(10), DTX_TIF_IOC);
    }
    /* timed stream */
    for (uint64_t i = 0; i < ops; i++) {
        uint32_t a = (uint32_t)below(b->n_accounts);
        uint32_t sec = 1 + (uint32_t)below(N_INST);
        uint8_t side = below(2) ? DTX_SIDE_BUY : DTX_SIDE_SELL;
        int64_t off = (int64_t)below(40) - 4; /* a few cross */
        int64_t t = side == DTX_SIDE_BUY ? MID - off : MID + off;
        unsigned k = (unsigned)below(100);
        dtx_command c;
        if (k < 55) {
            c = order(a, ++cl[a], sec, side, t, 1 + (int64_t)below(10), DTX_TIF_GTC);
        } else if (k < 65) {
            c = order(a, ++cl[a], sec, side, t, 1 + (int64_t)below(10), DTX_TIF_IOC);
        } else if (k < 80) {
            c = dtx_command_blank(DTX_CMD_CANCEL);
            c.account = a;
            c.session = 1;
            c.orig_clordid = cl[a] - below(3);
            c.clordid = ++cl[a];
            name n = name_get(a, c.orig_clordid);
            c.security_id = n.security_id;
            c.side = n.side;
            name_set(a, c.clordid, 0, 0); /* names no order */
        } else {
            c = dtx_command_blank(DTX_CMD_REPLACE);
            c.account = a;
            c.session = 1;
            c.orig_clordid = cl[a] - below(3);
            c.clordid = ++cl[a];
            name n = name_get(a, c.orig_clordid);
            c.security_id = n.security_id;
            c.side = n.side;
            /* the order goes by the replace's ClOrdID from now on */
            name_set(a, c.clordid, n.security_id, n.side);
            c.price = PX(t);
            c.qty = 1 + (int64_t)below(10);
        }
        b->timed[b->n_timed++] = c;
    }
    uint64_t seq = 1;
    for (size_t i = 0; i < b->n_setup; i++) {
        b->setup[i].seq = seq++;
        b->setup[i].ts = TS0 + seq;
    }
    for (size_t i = 0; i < b->n_timed; i++) {
        b->timed[i].seq = seq++;
        b->timed[i].ts = TS0 + seq;
    }
    free(cl);
    names = (free(names), NULL);
}

static void start(const bench *b, ctx *c, int with_risk)
{
    memset(c, 0, sizeof *c);
    uint32_t max_orders = (uint32_t)(b->n_setup + b->n_timed) + 1024;
    dtx_engine_config ec = {.instruments = b->inst,
                            .n_instruments = N_INST,
                            .max_orders = max_orders,
                            .max_timed = 1024,
                            .max_stops = 1024,
                            .sink = sink,
                            .sink_ctx = c};
    c->e = dtx_engine_create(&ec);
    if (!c->e) {
        fprintf(stderr, "bench_risk: engine: %s\n", dtx_error_message());
        exit(1);
    }
    dtx_risk_config rc = {.instruments = b->rinst,
                          .n_instruments = N_INST,
                          .n_accounts = b->n_accounts,
                          .max_orders = max_orders};
    c->r = dtx_risk_create(&rc);
    if (!c->r) {
        fprintf(stderr, "bench_risk: risk: %s\n", dtx_error_message());
        exit(1);
    }
    for (uint32_t a = 0; a < b->n_accounts; a++)
        dtx_risk_deposit(c->r, a, 1000000 * DTX_RISK_MONEY_ONE);
    for (uint32_t i = 0; i < N_INST; i++)
        dtx_risk_set_mark(c->r, i + 1, PX(MID));
    /* the setup always runs with the risk attached, so positions exist */
    c->account = 1;
    dtx_engine_set_gate(c->e, dtx_risk_gate, c->r);
    for (size_t i = 0; i < b->n_setup; i++)
        dtx_engine_submit(c->e, &b->setup[i]);
    c->account = with_risk;
    dtx_engine_set_gate(c->e, with_risk ? dtx_risk_gate : NULL, c->r);
    c->events = c->fills = c->rejects = 0;
}

static void stop(ctx *c)
{
    dtx_engine_destroy(c->e);
    dtx_risk_destroy(c->r);
}

/* Submits the timed stream; with lookahead > 0, prefetches (engine and risk)
 * that many commands ahead, as a core thread working through a burst would. */
static void run_timed(const bench *b, ctx *c, size_t lookahead)
{
    for (size_t i = 0; i < b->n_timed; i++) {
        if (lookahead && i + lookahead < b->n_timed) {
            dtx_engine_prefetch(c->e, &b->timed[i + lookahead]);
            if (c->account)
                dtx_risk_prefetch(c->r, &b->timed[i + lookahead]);
        }
        dtx_engine_submit(c->e, &b->timed[i]);
    }
}

/* ns per command: the median over chunks of CHUNK commands. */
static double batch_pass(const bench *b, int with_risk, size_t lookahead, double cyc_per_ns, ctx *out)
{
    start(b, out, with_risk);
    uint64_t *chunks = malloc(sizeof *chunks * (b->n_timed / CHUNK + 1));
    size_t n_chunks = 0;
    uint64_t t0 = tsc_begin();
    for (size_t i = 0; i < b->n_timed; i++) {
        if (lookahead && i + lookahead < b->n_timed) {
            dtx_engine_prefetch(out->e, &b->timed[i + lookahead]);
            if (out->account)
                dtx_risk_prefetch(out->r, &b->timed[i + lookahead]);
        }
        dtx_engine_submit(out->e, &b->timed[i]);
        if ((i + 1) % CHUNK == 0) {
            uint64_t t1 = __rdtsc();
            chunks[n_chunks++] = t1 - t0;
            t0 = t1;
        }
    }
    double ns = chunk_median_ns(chunks, n_chunks, cyc_per_ns);
    free(chunks);
    return ns;
}

/* dtx_risk_prefetch as the engine's dtx_prefetch_fn, as engine/core.c passes it. */
static void risk_pf(const void *p, const dtx_command *cmd) { dtx_risk_prefetch(p, cmd); }

/* The old core's loop (engine/core.c before the burst path): bursts of
 * CORE_BURST, the first LOOKAHEAD commands of a burst prefetched (engine and
 * risk, one stage) before any runs, then command i + LOOKAHEAD while command
 * i runs, one dtx_engine_submit() per command. Unlike pass 5, the prefetch
 * starts over with each burst, as it did in the core. */
/* The timed loops are functions of their own (noinline), so callgrind can
 * count each one's instructions (--toggle-collect=old_core_loop etc.).
 * Each returns the number of chunk times written. */
__attribute__((noinline)) static size_t old_core_loop(const bench *b, int hint, ctx *out, uint64_t *chunks)
{
    (void)hint; /* the risk prefetch is part of this loop */
    size_t n_chunks = 0;
    uint64_t t0 = tsc_begin();
    for (size_t s = 0; s < b->n_timed; s += CORE_BURST) {
        const dtx_command *cmds = &b->timed[s];
        size_t n = b->n_timed - s < CORE_BURST ? b->n_timed - s : CORE_BURST;
        for (size_t i = 0; i < n && i < LOOKAHEAD; i++) {
            dtx_engine_prefetch(out->e, &cmds[i]);
            dtx_risk_prefetch(out->r, &cmds[i]);
        }
        for (size_t i = 0; i < n; i++) {
            if (i + LOOKAHEAD < n) {
                dtx_engine_prefetch(out->e, &cmds[i + LOOKAHEAD]);
                dtx_risk_prefetch(out->r, &cmds[i + LOOKAHEAD]);
            }
            dtx_engine_submit(out->e, &cmds[i]);
        }
        if ((s + n) % CHUNK == 0) {
            uint64_t t1 = __rdtsc();
            chunks[n_chunks++] = t1 - t0;
            t0 = t1;
        }
    }
    return n_chunks;
}

/* The core's path: engine + gate + accounting, the timed stream in bursts of
 * CORE_BURST through dtx_engine_submit_burst_pf() with the risk's hint (hint
 * 0: dtx_engine_submit_burst, no risk prefetch). */
__attribute__((noinline)) static size_t burst_loop(const bench *b, int hint, ctx *out, uint64_t *chunks)
{
    _Static_assert(CHUNK % CORE_BURST == 0, "a chunk is whole bursts");
    size_t n_chunks = 0;
    uint64_t t0 = tsc_begin();
    for (size_t i = 0; i < b->n_timed; i += CORE_BURST) {
        size_t k = b->n_timed - i < CORE_BURST ? b->n_timed - i : CORE_BURST;
        if (hint)
            dtx_engine_submit_burst_pf(out->e, &b->timed[i], k, risk_pf, out->r);
        else
            dtx_engine_submit_burst(out->e, &b->timed[i], k);
        if ((i + k) % CHUNK == 0) {
            uint64_t t1 = __rdtsc();
            chunks[n_chunks++] = t1 - t0;
            t0 = t1;
        }
    }
    return n_chunks;
}

/* One of the loops above on a fresh engine and risk context (gate and
 * accounting on): ns per command, the median over chunks of CHUNK commands
 * (CHUNK is a multiple of CORE_BURST). */
typedef size_t (*core_loop_fn)(const bench *b, int hint, ctx *out, uint64_t *chunks);

static double core_pass(const bench *b, core_loop_fn loop, int hint, double cyc_per_ns, ctx *out)
{
    start(b, out, 1);
    uint64_t *chunks = malloc(sizeof *chunks * (b->n_timed / CHUNK + 1));
    size_t n_chunks = loop(b, hint, out, chunks);
    double ns = chunk_median_ns(chunks, n_chunks, cyc_per_ns);
    free(chunks);
    return ns;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(const double *v, size_t n)
{
    double *w = malloc(n * sizeof *w);
    memcpy(w, v, n * sizeof *w);
    qsort(w, n, sizeof *w, cmp_double);
    double m = n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
    free(w);
    return m;
}

/* The core-path rounds: per round the old core loop (per command, prefetch
 * LOOKAHEAD ahead), the burst with the risk's hint and the burst without it,
 * their order rotating so that none always runs first. Appends the table to
 * out; returns 0 when the variants did not do the same work. */
#define CORE_VARIANTS 4
static int core_rounds(const bench *b, unsigned rounds, double cpn, char *out, size_t cap)
{
    static const char *what[CORE_VARIANTS] = {"old core: bursts of 64, 1 stage, engine + risk 8 ahead",
                                              "core now: bursts of 64, 3 stages + risk hint",
                                              "bursts of 64, 3 stages, no risk hint",
                                              "no bursts (pass 5): 1 stage, engine + risk 8 ahead"};
    double *ns = calloc((size_t)rounds * CORE_VARIANTS, sizeof *ns);
    uint64_t ev[CORE_VARIANTS] = {0}, fills[CORE_VARIANTS] = {0}, rej[CORE_VARIANTS] = {0};
    int same = 1;
    for (unsigned r = 0; r < rounds; r++)
        for (unsigned j = 0; j < CORE_VARIANTS; j++) {
            unsigned v = (r + j) % CORE_VARIANTS;
            ctx c;
            double x = v == 0   ? core_pass(b, old_core_loop, 0, cpn, &c)
                       : v == 3 ? batch_pass(b, 1, LOOKAHEAD, cpn, &c)
                                : core_pass(b, burst_loop, v == 1, cpn, &c);
            ns[(size_t)r * CORE_VARIANTS + v] = x;
            if (r == 0) {
                ev[v] = c.events, fills[v] = c.fills, rej[v] = c.rejects;
            } else if (c.events != ev[v] || c.fills != fills[v] || c.rejects != rej[v]) {
                same = 0;
            }
            stop(&c);
            fprintf(stderr, "bench_risk: core path round %u: %s %.1f ns/command\n", r + 1, what[v], x);
        }
    for (unsigned v = 1; v < CORE_VARIANTS; v++)
        same &= ev[v] == ev[0] && fills[v] == fills[0] && rej[v] == rej[0];
    size_t len = strlen(out);
    len += (size_t)snprintf(out + len, cap - len,
                            "\n| core path, engine + gate + accounting (median of 1,024-command chunks) | round |"
                            " ns/command | Mcommands/s |\n|---|---|---|---|\n");
    for (unsigned r = 0; r < rounds; r++)
        for (unsigned v = 0; v < CORE_VARIANTS; v++) {
            double x = ns[(size_t)r * CORE_VARIANTS + v];
            len += (size_t)snprintf(out + len, cap - len, "| %s | %u | %.1f | %.2f |\n", what[v], r + 1, x,
                                    1000.0 / x);
        }
    double col[CORE_VARIANTS][64];
    unsigned nr = rounds < 64 ? rounds : 64, wins_old = 0, wins_hint = 0;
    for (unsigned r = 0; r < nr; r++) {
        for (unsigned v = 0; v < CORE_VARIANTS; v++)
            col[v][r] = ns[(size_t)r * CORE_VARIANTS + v];
        wins_old += col[1][r] < col[0][r];
        wins_hint += col[1][r] < col[2][r];
    }
    len += (size_t)snprintf(out + len, cap - len,
                            "\n| core path over %u rounds | mean ns | median ns | mean Mcommands/s | events | fills |"
                            " rejects |\n|---|---|---|---|---|---|---|\n",
                            nr);
    for (unsigned v = 0; v < CORE_VARIANTS; v++) {
        double sum = 0, mops = 0;
        for (unsigned r = 0; r < nr; r++)
            sum += col[v][r], mops += 1000.0 / col[v][r];
        len += (size_t)snprintf(out + len, cap - len,
                                "| %s | %.1f | %.1f | %.2f | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " |\n", what[v],
                                sum / nr, median_of(col[v], nr), mops / nr, ev[v], fills[v], rej[v]);
    }
    snprintf(out + len, cap - len,
             "\ncore now faster than the old core in %u of %u rounds, than the bursts without the risk hint"
             " in %u of %u%s\n",
             wins_old, nr, wins_hint, nr, same ? "" : "; WARNING: the variants did different work");
    free(ns);
    return same;
}

/* Per-call timed gate; returns the audit status of the risk afterwards. With
 * rr, also replays the recorded requests in isolation. */
static dtx_status timed_pass(const bench *b, size_t lookahead, hist *h, dtx_risk_totals *tot, replay_result *rr,
                             double cpn)
{
    ctx c;
    start(b, &c, 1);
    g_timed = &c;
    c.h = h;
    dtx_engine_set_gate(c.e, timed_gate, c.r);
    run_timed(b, &c, lookahead);
    if (rr) {
        rr->cold = replay_once(c.r, 0, 0, cpn);
        rr->prefetched = replay_once(c.r, LOOKAHEAD, 0, cpn);
        rr->hot = replay_once(c.r, 0, 1000, cpn);
    }
    dtx_risk_get_totals(c.r, tot);
    dtx_status ok = dtx_risk_check(c.r);
    stop(&c);
    return ok;
}

int main(int argc, char **argv)
{
    uint64_t ops = 2000000, seed = 1;
    uint32_t accounts = 100000;
    uint64_t orders = 0; /* 0: 2 per account */
    unsigned rounds = 3;
    int cpu = 1, record = 0, core_only = 0;
    static const struct option lo[] = {{"ops", required_argument, NULL, 'o'},
                                       {"accounts", required_argument, NULL, 'a'},
                                       {"orders", required_argument, NULL, 'n'},
                                       {"rounds", required_argument, NULL, 'r'},
                                       {"core-only", no_argument, NULL, 'C'},
                                       {"seed", required_argument, NULL, 's'},
                                       {"cpu", required_argument, NULL, 'c'},
                                       {"record", no_argument, NULL, 'R'},
                                       {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'o': ops = strtoull(optarg, NULL, 10); break;
        case 'a': accounts = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'n': orders = strtoull(optarg, NULL, 10); break;
        case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'C': core_only = 1; break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'c': cpu = atoi(optarg); break;
        case 'R': record = 1; break;
        default:
            fprintf(stderr, "usage: bench_risk [--ops N] [--accounts N] [--orders N] [--rounds R] [--core-only] "
                            "[--seed S] [--cpu C] [--record]\n");
            return 2;
        }
    }
    if (!accounts || (core_only && !rounds)) {
        fprintf(stderr, "bench_risk: --accounts must be > 0, and --core-only needs --rounds > 0\n");
        return 2;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int pinned = sched_setaffinity(0, sizeof set, &set) == 0;
    rng = seed * 0x9E3779B97F4A7C15ull | 1;
    double cpn = dtx_tsc_calibrate(200);

    bench *b = calloc(1, sizeof *b);
    b->n_accounts = accounts;
    b->n_orders = orders ? orders : 2ull * accounts;
    build(b, ops);

    /* pass 1: the gate alone, per call, and the timer's own cost; pass 1p
     * the same with prefetching LOOKAHEAD commands ahead */
    hist *hg = calloc(1, sizeof *hg), *hp = calloc(1, sizeof *hp), *h0 = calloc(1, sizeof *h0);
    dtx_risk_totals tot = {0};
    replay_result rr = {0};
    dtx_status ok = DTX_OK;
    ctx c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0};
    double ns_engine = 0, ns_risk = 0, ns_engine_p = 0, ns_risk_p = 0;
    if (!core_only) {
        g_cap_rec = b->n_timed;
        g_rec = malloc(sizeof *g_rec * g_cap_rec);
        ok = timed_pass(b, 0, hg, &tot, &rr, cpn);
        g_rec = (free(g_rec), NULL);
        if (ok == DTX_OK)
            ok = timed_pass(b, LOOKAHEAD, hp, &tot, NULL, cpn);
        for (uint64_t i = 0; i < hg->n; i++) {
            dtx_gate_request req = {0};
            uint64_t t0 = tsc_begin();
            empty_gate(NULL, &req);
            uint64_t t1 = tsc_end();
            hist_add(h0, t1 - t0);
        }

        /* passes 2 to 5: throughput, without and with prefetching */
        ns_engine = batch_pass(b, 0, 0, cpn, &c2);
        stop(&c2);
        ns_risk = batch_pass(b, 1, 0, cpn, &c3);
        stop(&c3);
        ns_engine_p = batch_pass(b, 0, LOOKAHEAD, cpn, &c4);
        stop(&c4);
        ns_risk_p = batch_pass(b, 1, LOOKAHEAD, cpn, &c5);
        stop(&c5);
    }
    static char core_tab[12288];
    /* the core path, interleaved rounds */
    int core_same = !rounds || core_rounds(b, rounds, cpn, core_tab, sizeof core_tab);

    double ov = (double)hist_q(h0, 0.5);
    double load = 0;
    if (getloadavg(&load, 1) != 1)
        load = -1;
    static char out[16384];
    struct utsname u;
    uname(&u);
    char cpu_name[128] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0) {
                const char *v = strchr(line, ':');
                snprintf(cpu_name, sizeof cpu_name, "%s", v ? v + 2 : "?");
                cpu_name[strcspn(cpu_name, "\n")] = 0;
                break;
            }
        fclose(f);
    }
#define Q(h, q) ((double)hist_q(h, q) / cpn)
#define QN(h, q) (((double)hist_q(h, q) - ov) / cpn)
    int len = snprintf(out, sizeof out,
                       "bench_risk: %u accounts, %" PRIu64 " resting orders in the pre-fill, %u instruments, %zu setup"
                       " + %zu timed commands, seed %" PRIu64 "\n"
                       "machine: %s, nproc %ld, %s %s; %s cpu %d; TSC %.3f GHz; load average %.1f at the end\n",
                       accounts, b->n_orders, N_INST, b->n_setup, b->n_timed, seed, cpu_name,
                       sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, pinned ? "pinned to" : "not pinned,", cpu,
                       cpn, load);
    if (!core_only)
        len += snprintf(
            out + len, sizeof out - (size_t)len,
            "audit after pass 1: %s; %" PRIu64 " fills\n\n"
            "| gate call (ns) | p50 | p99 | p99.9 | max |\n|---|---|---|---|---|\n"
            "| measured, timer included | %.1f | %.1f | %.1f | %.0f |\n"
            "| timer alone (empty gate) | %.1f | %.1f | %.1f | %.0f |\n"
            "| gate, timer subtracted | %.1f | %.1f | %.1f | %.0f |\n"
            "| gate, timer subtracted, prefetch %d ahead | %.1f | %.1f | %.1f | %.0f |\n\n"
            "gate calls: %" PRIu64 " (new orders and replaces reaching the gate)\n\n"
            "| gate alone, replaying the recorded requests (median of 1,024-call chunks) | ns/call |\n|---|---|\n"
            "| in stream order (accounts at random) | %.1f |\n"
            "| in stream order, prefetch %d ahead | %.1f |\n"
            "| 1,000 requests repeated (data in cache: arithmetic) | %.1f |\n\n"
            "| throughput (median of 1,024-command chunks) | ns/command | Mcommands/s | events | fills | rejects |\n"
            "|---|---|---|---|---|---|\n"
            "| engine alone | %.1f | %.2f | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " |\n"
            "| engine + gate + accounting | %.1f | %.2f | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " |\n"
            "| added by risk | %.1f | | | | |\n"
            "| engine alone, prefetch %d ahead | %.1f | %.2f | | | |\n"
            "| engine + gate + accounting, prefetch %d ahead | %.1f | %.2f | | | |\n"
            "| added by risk, prefetching | %.1f | | | | |\n",
            ok == DTX_OK ? "conservation OK" : dtx_error_message(),
            tot.fills, Q(hg, 0.5), Q(hg, 0.99), Q(hg, 0.999), (double)hg->max / cpn, Q(h0, 0.5), Q(h0, 0.99),
            Q(h0, 0.999), (double)h0->max / cpn, QN(hg, 0.5), QN(hg, 0.99), QN(hg, 0.999),
            ((double)hg->max - ov) / cpn, LOOKAHEAD, QN(hp, 0.5), QN(hp, 0.99), QN(hp, 0.999),
            ((double)hp->max - ov) / cpn, hg->n, rr.cold, LOOKAHEAD, rr.prefetched, rr.hot, ns_engine, 1000.0 / ns_engine, c2.events, c2.fills, c2.rejects,
            ns_risk, 1000.0 / ns_risk, c3.events, c3.fills, c3.rejects, ns_risk - ns_engine, LOOKAHEAD, ns_engine_p,
            1000.0 / ns_engine_p, LOOKAHEAD, ns_risk_p, 1000.0 / ns_risk_p, ns_risk_p - ns_engine_p);
    len += snprintf(out + len, sizeof out - (size_t)len, "%s", core_tab);
    fputs(out, stdout);
    if (record) {
        const char *path = "perf/RESULTS.md";
        FILE *probe = fopen(path, "r");
        int exists = probe != NULL;
        if (probe)
            fclose(probe);
        FILE *r = fopen(path, "a");
        if (!r) {
            fprintf(stderr, "bench_risk: cannot open %s: %s\n", path, strerror(errno));
            return 1;
        }
        char date[64];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm);
        if (!exists)
            fputs("# perf results\n\nAppended by the benchmarks' `--record` (perf/bench_*.c), newest last.\n", r);
        fprintf(r,
                "\n## bench_risk, %s\n\n"
                "The risk gate and accounting on top of the engine (perf/bench_risk.c): 100,000\n"
                "accounts, 10 instruments, mix 55%% GTC / 10%% IOC / 15%% cancel / 20%% replace.\n"
                "Target (issue 4): gate <= 30 ns median added to the engine's own cost.\n\n",
                date);
        fprintf(r, "command: `");
        for (int i = 0; i < argc; i++)
            fprintf(r, "%s%s", i ? " " : "", argv[i]);
        fprintf(r, "`\n\n%.*s", len, out);
        fclose(r);
        fprintf(stderr, "bench_risk: appended to %s\n", path);
    }
    free(b->setup);
    free(b->timed);
    free(b);
    free(hg);
    free(hp);
    free(h0);
    return ok == DTX_OK && core_same ? 0 : 1;
}
