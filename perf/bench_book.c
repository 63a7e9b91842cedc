/*
 * bench_book.c - throughput and latency of the matching engine on two order
 * flows, in the manner of exchange-core's perf tests.
 *
 *   hot    one instrument, 2,000 accounts, about 1,000 resting orders
 *   large  10 instruments, 100,000 accounts, about 1,000,000 resting orders
 *
 * Both send the exchange-core single-pair mix: 9% GTC limit orders, 3% IOC,
 * 6% cancels and 82% moves (cancel-replace to a new price, by OrderID, with a
 * fresh ClOrdID); prices drift toward the last trade and about 6% of the
 * messages trade.
 *
 * How it works. The whole command stream (pre-fill of the books, warm-up, timed
 * part) is generated first, untimed, by driving a shadow engine: its events tell
 * the generator which OrderID each order got, what rests where and the last
 * trade price. The engine is deterministic (engine.h), so a fresh engine fed the
 * same array assigns the same OrderIDs, and every measured pass replays the array
 * on a fresh engine: pre-fill and warm-up untimed, then the timed part.
 *   pass 1 (per-op timed): lfence;rdtsc / rdtscp;lfence around each
 *          dtx_engine_submit(), recorded into log-linear histograms of
 *          cycles (perf/hist.h's dtx_hist, one per message kind); its ops/s
 *          includes the timer overhead.
 *   pass 2.. (batch timed): no per-op timer, one rdtsc per 64Ki commands; the
 *          ops/s reported is the median over these passes.
 * Every pass must produce the same event counts and checksum as the generator's
 * engine did over the timed range; the table says whether they did.
 * The event sink only counts events by type and folds a few fields into a
 * checksum: no printing, no allocation.
 *
 * The generator, the profiles and the sink are in book_gen.c (book_gen.h);
 * the timers, the histogram and its quantile rule are perf/hist.h's (shared
 * with bench_risk and dtx-loadgen); this file holds the measured passes, the
 * report and main.
 *
 * Run: build-bench/bench_book [--profile hot|large|both] [--ops N] [--seed S]
 *      [--cpu C] [--runs R] [--warmup N] [--record] [--results FILE]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "book_gen.h"
#include "hist.h"

#if !DTX_HAVE_TSC
#error "bench_book times with rdtsc: x86 only"
#endif

/* ---- constants ------------------------------------------------------------ */

#define BENCH_BATCH 65536u            /* commands per rdtsc in the batch passes */

static const char *const kind_names[KIND_COUNT] = {"GTC", "IOC", "cancel", "move"};

/* ---- time and histogram: perf/hist.h ------------------------------------------ */

/* The TSC timers, the calibration and the log-linear histogram (with its one
 * quantile rule) are perf/hist.h's, shared with bench_risk and dtx-loadgen.
 * Per-op latencies are recorded in TSC cycles and converted to ns with the
 * calibrated rate at report time. */

/* ---- comparing sinks ------------------------------------------------------------ */

static uint64_t sink_events(const bench_sink *s)
{
    uint64_t n = 0;
    for (int i = 0; i < 32; i++)
        n += s->by_type[i];
    return n;
}

static int sink_equal(const bench_sink *a, const bench_sink *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

/* ---- measured passes --------------------------------------------------------------------- */

static inline unsigned cmd_kind(const dtx_command *c)
{
    if (c->type == DTX_CMD_REPLACE)
        return KIND_MOVE;
    if (c->type == DTX_CMD_CANCEL)
        return KIND_CANCEL;
    return c->tif == DTX_TIF_IOC ? KIND_IOC : KIND_GTC;
}

static void replay_untimed(dtx_engine *e, const dtx_command *cmds, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        dtx_engine_submit(e, &cmds[i]);
}

typedef struct per_op_result {
    dtx_hist *h;        /* KIND_COUNT histograms, cycles */
    uint64_t cycles;    /* whole timed loop, timers included */
    uint64_t traded;
    bench_sink sink;
    dtx_engine_stats stats;
} per_op_result;

static void pass_per_op(const setup *su, const stream *st, per_op_result *out)
{
    bench_sink sink;
    memset(&sink, 0, sizeof sink);
    dtx_engine *e = bench_setup_engine(su, bench_sink_fn, &sink);
    replay_untimed(e, st->cmds, st->n_prefill + st->n_warmup);
    memset(&sink, 0, sizeof sink);
    memset(out->h, 0, sizeof(dtx_hist) * KIND_COUNT);

    const dtx_command *c = st->cmds + st->n_prefill + st->n_warmup;
    const dtx_command *end = c + st->n_timed;
    dtx_hist *h = out->h;
    uint64_t traded = 0, prev_fills = 0;
    uint64_t start = dtx_tsc_begin();
    for (; c != end; c++) {
        uint64_t t0 = dtx_tsc_begin();
        dtx_engine_submit(e, c);
        uint64_t t1 = dtx_tsc_end();
        dtx_hist_add(&h[cmd_kind(c)], t1 - t0);
        uint64_t fills = sink.by_type[DTX_EV_FILL];
        traded += fills != prev_fills;
        prev_fills = fills;
    }
    out->cycles = dtx_tsc_end() - start;
    out->traded = traded;
    out->sink = sink;
    dtx_engine_get_stats(e, &out->stats);
    dtx_engine_destroy(e);
}

/* Commands per dtx_engine_submit_burst() call in the batch-timed passes, as
 * the core thread takes them from its ring; 0 = one dtx_engine_submit() per
 * command (--burst). */
static size_t g_burst = 64;

/* The batch-timed loop, a function of its own so that a profiler can collect
 * exactly the timed submits: valgrind --tool=callgrind
 * --toggle-collect=bench_timed_batch. One TSC read per BENCH_BATCH commands;
 * the cycles of batch i go to batch_cycles[i]. Returns the cycles of all. */
__attribute__((noinline)) static uint64_t bench_timed_batch(dtx_engine *e, const dtx_command *c,
                                                            const dtx_command *end,
                                                            uint64_t *batch_cycles)
{
    uint64_t start = dtx_tsc_begin(), prev = start;
    while (c != end) {
        const dtx_command *stop = (uint64_t)(end - c) > BENCH_BATCH ? c + BENCH_BATCH : end;
        if (g_burst) {
            /* as the core thread does: bursts taken from its ring */
            for (; c != stop; c += g_burst) {
                size_t n = (size_t)(stop - c) < g_burst ? (size_t)(stop - c) : g_burst;
                dtx_engine_submit_burst(e, c, n);
                if (n < g_burst)
                    break;
            }
            c = stop;
        } else {
            for (; c != stop; c++)
                dtx_engine_submit(e, c);
        }
        uint64_t now = __rdtsc();
        *batch_cycles++ = now - prev;
        prev = now;
    }
    return dtx_tsc_end() - start;
}

typedef struct batch_result {
    uint64_t cycles;
    uint64_t *batch_cycles; /* one per BENCH_BATCH commands, caller's array */
    bench_sink sink;
} batch_result;

static void pass_batch(const setup *su, const stream *st, batch_result *out)
{
    bench_sink sink;
    memset(&sink, 0, sizeof sink);
    dtx_engine *e = bench_setup_engine(su, bench_sink_fn, &sink);
    replay_untimed(e, st->cmds, st->n_prefill + st->n_warmup);
    memset(&sink, 0, sizeof sink);

    const dtx_command *c = st->cmds + st->n_prefill + st->n_warmup;
    out->cycles = bench_timed_batch(e, c, c + st->n_timed, out->batch_cycles);
    out->sink = sink;
    dtx_engine_destroy(e);
}

/* Median cost of an empty lfence;rdtsc .. rdtscp;lfence pair, cycles. */
static uint64_t timer_overhead(dtx_hist *scratch)
{
    memset(scratch, 0, sizeof *scratch);
    for (int i = 0; i < 200000; i++) {
        uint64_t t0 = dtx_tsc_begin();
        uint64_t t1 = dtx_tsc_end();
        dtx_hist_add(scratch, t1 - t0);
    }
    return dtx_hist_quantile(scratch, 0.5);
}

/* ---- report ----------------------------------------------------------------------------- */

typedef struct report {
    char buf[32768];
    size_t len;
} report;

static void rep(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rep(report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->buf + r->len, sizeof r->buf - r->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        r->len += (size_t)n < sizeof r->buf - r->len ? (size_t)n : sizeof r->buf - r->len - 1;
}

typedef struct machine {
    char cpu[128];
    long nproc;
    char kernel[256];
} machine;

static void machine_read(machine *m)
{
    snprintf(m->cpu, sizeof m->cpu, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *v = strchr(line, ':');
                if (v) {
                    v++;
                    while (*v == ' ' || *v == '\t')
                        v++;
                    snprintf(m->cpu, sizeof m->cpu, "%s", v);
                    m->cpu[strcspn(m->cpu, "\n")] = 0;
                }
                break;
            }
        }
        fclose(f);
    }
    m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    else
        snprintf(m->kernel, sizeof m->kernel, "unknown kernel");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* 12345678 -> "12.35M" */
static const char *fmt_rate(char *buf, size_t n, double v)
{
    if (v >= 1e6)
        snprintf(buf, n, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, n, "%.1fk", v / 1e3);
    else
        snprintf(buf, n, "%.0f", v);
    return buf;
}

typedef struct options {
    int profile_mask; /* 1 hot, 2 large */
    uint64_t ops;     /* 0: the profile's default */
    uint64_t warmup;  /* UINT64_MAX: the profile's default */
    uint64_t seed;
    int cpu;
    uint32_t runs;    /* 0: the profile's default */
    int record;
    const char *results;
} options;

static void run_profile(const profile_def *p, const options *o, const machine *m, double cyc_per_ns,
                        uint64_t overhead_cyc, report *out)
{
    setup su;
    bench_setup_init(&su, p);
    uint64_t ops = o->ops ? o->ops : p->default_ops;
    uint64_t warmup = o->warmup != UINT64_MAX ? o->warmup : p->default_warmup;
    uint32_t runs = o->runs ? o->runs : p->default_runs;

    fprintf(stderr, "[%s] generating %" PRIu64 " + %" PRIu64 " + %" PRIu64 " commands...\n",
            p->name, (uint64_t)su.resting_target, warmup, ops);
    stream st;
    memset(&st, 0, sizeof st);
    uint64_t gen_t0 = dtx_mono_ns();
    bench_generate(&su, o->seed, warmup, ops, &st);
    fprintf(stderr, "[%s] generated in %.1f s; per-op timed pass...\n", p->name,
            (double)(dtx_mono_ns() - gen_t0) * 1e-9);

    per_op_result po;
    memset(&po, 0, sizeof po);
    po.h = bench_xalloc(sizeof(dtx_hist) * KIND_COUNT);
    pass_per_op(&su, &st, &po);

    double *rates = bench_xalloc(sizeof(double) * runs);
    uint64_t n_batches = (st.n_timed + BENCH_BATCH - 1) / BENCH_BATCH;
    uint64_t *batch_cycles = bench_xalloc(sizeof(uint64_t) * n_batches);
    double *batch_rates = bench_xalloc(sizeof(double) * n_batches * runs);
    uint64_t n_full = 0; /* full batches over all passes */
    int same = sink_equal(&po.sink, &st.expect);
    for (uint32_t i = 0; i < runs; i++) {
        fprintf(stderr, "[%s] batch-timed pass %u/%u...\n", p->name, i + 1, runs);
        batch_result br;
        br.batch_cycles = batch_cycles;
        pass_batch(&su, &st, &br);
        rates[i] = (double)st.n_timed / ((double)br.cycles / cyc_per_ns * 1e-9);
        same = same && sink_equal(&br.sink, &st.expect);
        for (uint64_t k = 0; k < st.n_timed / BENCH_BATCH; k++)
            batch_rates[n_full++] = (double)BENCH_BATCH / ((double)batch_cycles[k] / cyc_per_ns * 1e-9);
    }
    double batch_median = 0;
    if (n_full) {
        qsort(batch_rates, n_full, sizeof(double), cmp_double);
        batch_median = batch_rates[n_full / 2];
    }
    double *sorted = bench_xalloc(sizeof(double) * runs);
    memcpy(sorted, rates, sizeof(double) * runs);
    qsort(sorted, runs, sizeof(double), cmp_double);
    double median = runs % 2 ? sorted[runs / 2] : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;

    dtx_hist *all = bench_xalloc(sizeof(dtx_hist));
    for (int k = 0; k < KIND_COUNT; k++)
        dtx_hist_merge(all, &po.h[k]);
    double per_op_rate = (double)st.n_timed / ((double)po.cycles / cyc_per_ns * 1e-9);
    uint64_t events = sink_events(&po.sink);
    uint64_t rejects = po.sink.by_type[DTX_EV_REJECT] + po.sink.by_type[DTX_EV_CANCEL_REJECT] +
                       po.sink.by_type[DTX_EV_BUSINESS_REJECT];
    double n = (double)st.n_timed;
#define NS(c) ((double)(c) / cyc_per_ns)
    char r1[32], r2[32], r3[32];

    rep(out, "### %s: %u instrument%s, %u accounts, target %u resting orders\n\n", p->name,
        p->n_instr, p->n_instr > 1 ? "s" : "", p->n_accounts, su.resting_target);
    rep(out, "machine: %s, nproc %ld, %s; pinned to cpu %d; TSC %.3f GHz\n", m->cpu, m->nproc,
        m->kernel, o->cpu, cyc_per_ns);
    rep(out, "stream: seed %" PRIu64 ", %" PRIu64 " pre-fill + %" PRIu64 " warm-up (untimed) + %" PRIu64
        " timed commands; max_orders %u\n",
        o->seed, st.n_prefill, st.n_warmup, st.n_timed, su.cfg.max_orders);
    rep(out, "book %s at the end: bids %" PRIu64 " orders on %" PRIu64 " levels (%" PRIu64
        " at the best), asks %" PRIu64 " on %" PRIu64 " (%" PRIu64 "); last trade ranged %+" PRId64
        "..%+" PRId64 " ticks around the start price\n\n",
        su.instr[0].symbol, st.book_orders[0], st.levels[0], st.top_orders[0], st.book_orders[1],
        st.levels[1], st.top_orders[1], st.last_min - BENCH_P0, st.last_max - BENCH_P0);
    rep(out, "| profile | ops | ops/s batch-timed (median of %u) | ops/s per-op-timed | p50 ns | "
        "p99 ns | p99.9 ns | max ns | events/op | trades %% | resting end | B/resting | B/order slot |\n",
        runs);
    rep(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    double b_rest = po.stats.working_orders ? (double)po.stats.reserved_bytes / po.stats.working_orders : 0;
    double b_slot = po.stats.max_orders ? (double)po.stats.order_bytes / po.stats.max_orders : 0;
    rep(out, "| %s | %" PRIu64 " | %s | %s | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %u | %.1f | %.1f |\n\n",
        p->name, st.n_timed, fmt_rate(r1, sizeof r1, median), fmt_rate(r2, sizeof r2, per_op_rate),
        NS(dtx_hist_quantile(all, 0.5)), NS(dtx_hist_quantile(all, 0.99)), NS(dtx_hist_quantile(all, 0.999)),
        NS(all->max), (double)events / n, 100.0 * (double)po.traded / n, po.stats.working_orders,
        b_rest, b_slot);

    rep(out, "batch-timed ops/s per pass:");
    for (uint32_t i = 0; i < runs; i++)
        rep(out, " %s", fmt_rate(r1, sizeof r1, rates[i]));
    if (n_full)
        rep(out, "; of %" PRIu64 "-command batches: median %s, slowest %s, fastest %s",
            (uint64_t)BENCH_BATCH, fmt_rate(r1, sizeof r1, batch_median),
            fmt_rate(r2, sizeof r2, batch_rates[0]), fmt_rate(r3, sizeof r3, batch_rates[n_full - 1]));
    rep(out, "\nper-op timer overhead %.1f ns a sample (included in the latencies, not subtracted)\n",
        NS(overhead_cyc));
    rep(out, "latency by kind (ns):");
    for (int k = 0; k < KIND_COUNT; k++)
        rep(out, " %s %.1f%% p50 %.0f p99 %.0f p99.9 %.0f;", kind_names[k],
            100.0 * (double)po.h[k].n / n, NS(dtx_hist_quantile(&po.h[k], 0.5)),
            NS(dtx_hist_quantile(&po.h[k], 0.99)), NS(dtx_hist_quantile(&po.h[k], 0.999)));
    rep(out, "\nevents/op by type:");
    for (unsigned t = 1; t < DTX_EV_TYPE_COUNT; t++)
        if (po.sink.by_type[t])
            rep(out, " %s %.3f", dtx_event_type_name(t), (double)po.sink.by_type[t] / n);
    rep(out, "\nmemory: reserved %.1f MiB, order_bytes %.1f MiB, max_orders %u, working %u\n",
        (double)po.stats.reserved_bytes / 1048576.0, (double)po.stats.order_bytes / 1048576.0,
        po.stats.max_orders, po.stats.working_orders);
    rep(out, "checks: rejects in timed range %" PRIu64 ", in whole stream %" PRIu64
        " (reject %" PRIu64 ", cancel-reject %" PRIu64 ", business %" PRIu64 ")%s; "
        "event counts and checksum %s\n\n",
        rejects, st.anomalies, st.rejects, st.cancel_rejects, st.business_rejects,
        st.no_slot ? ", generator ran out of slots" : "",
        same ? "identical in every pass and the generator (deterministic)"
             : "DIFFER between passes (engine not deterministic?)");
#undef NS
    if (st.anomalies || !same)
        fprintf(stderr, "[%s] WARNING: %s\n", p->name,
                !same ? "passes disagree" : "the engine rejected commands the generator meant to be valid");

    free(sorted);
    free(rates);
    free(batch_rates);
    free(batch_cycles);
    free(all);
    free(po.h);
    free(st.cmds);
    free(su.instr);
}

/* ---- results file --------------------------------------------------------------------------- */

/* Directory of this source file (perf/), from __FILE__, which CMake passes as an
 * absolute path. */
static void source_dir(char *buf, size_t n)
{
    snprintf(buf, n, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(buf, n, ".");
}

static void git_commit(const char *perf_dir, char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    if (strchr(perf_dir, '\'') != NULL)
        return;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse --short HEAD 2>/dev/null", perf_dir);
    FILE *f = popen(cmd, "r");
    if (!f)
        return;
    char line[64] = "";
    if (fgets(line, sizeof line, f) && line[0] && line[0] != '\n') {
        line[strcspn(line, "\n")] = 0;
        snprintf(buf, n, "%s", line);
    }
    pclose(f);
    snprintf(cmd, sizeof cmd,
             "git -C '%s' status --porcelain --untracked-files=no 2>/dev/null | head -1", perf_dir);
    f = popen(cmd, "r");
    if (f) {
        if (fgets(line, sizeof line, f) && line[0]) {
            size_t len = strlen(buf);
            snprintf(buf + len, n - len, "-dirty");
        }
        pclose(f);
    }
}

static const char results_header[] =
    "# bench_book results\n"
    "\n"
    "Appended by `bench_book --record` (perf/bench_book.c). Profiles: **hot** = one\n"
    "instrument, 2,000 accounts, ~1,000 resting orders; **large** = 10 instruments,\n"
    "100,000 accounts, ~1,000,000 resting orders. Mix: 9% GTC, 3% IOC, 6% cancel,\n"
    "82% move (cancel-replace by OrderID), ~6% of messages trade. Commands are\n"
    "pre-generated; books pre-filled and warmed up untimed; one thread pinned to one core.\n"
    "\n"
    "Columns:\n"
    "- **ops**: timed commands (one dtx_engine_submit each).\n"
    "- **ops/s batch-timed**: no per-op timer, one rdtsc per 64Ki commands; median over\n"
    "  several passes, each on a fresh engine replaying the same stream. The throughput figure.\n"
    "- **ops/s per-op-timed**: the pass with rdtsc around every submit (timer and histogram\n"
    "  cost included), from which the latencies come.\n"
    "- **p50/p99/p99.9/max ns**: per-submit latency, lfence;rdtsc .. rdtscp;lfence, timer\n"
    "  overhead included (not subtracted); log-linear histogram, bucket tops (<1.6% wide).\n"
    "- **events/op**: events emitted per command. **trades %**: commands that produced a fill.\n"
    "- **resting end**: working orders at the end (dtx_engine_get_stats).\n"
    "- **B/resting**: reserved_bytes / working orders. **B/order slot**: order_bytes / max_orders.\n"
    "\n"
    "Targets: hot >= 30M ops/s (median) with p99 <= 200 ns; large >= 8M ops/s with\n"
    "p99 <= 1 us; <= 64 bytes per resting order.\n";

static void record_results(const char *path, const char *perf_dir, const machine *m, int argc,
                           char **argv, const report *r)
{
    FILE *probe = fopen(path, "r");
    int exists = probe != NULL;
    if (probe)
        fclose(probe);
    FILE *f = fopen(path, "a");
    if (!f) {
        fprintf(stderr, "bench_book: cannot open %s: %s\n", path, strerror(errno));
        return;
    }
    if (!exists)
        fputs(results_header, f);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm);
    char commit[96];
    git_commit(perf_dir, commit, sizeof commit);
    fprintf(f, "\n## %s, commit %s\n\n", date, commit);
    fprintf(f, "machine: %s, nproc %ld, %s\n\ncommand: `", m->cpu, m->nproc, m->kernel);
    for (int i = 0; i < argc; i++)
        fprintf(f, "%s%s", i ? " " : "", argv[i]);
    fprintf(f, "`\n\n%.*s", (int)r->len, r->buf);
    fclose(f);
    fprintf(stderr, "bench_book: appended to %s\n", path);
}

/* ---- main ----------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_book [options]\n"
            "  --profile hot|large|both  order flow to run (default both)\n"
            "  --ops N                   timed commands per profile (default hot %" PRIu64
            ", large %" PRIu64 ")\n"
            "  --warmup N                untimed commands after the pre-fill (default %" PRIu64 ")\n"
            "  --runs R                  batch-timed passes, median reported (default hot %u, large %u)\n"
            "  --seed S                  generator seed (default 1)\n"
            "  --cpu C                   core to pin to (default 1)\n"
            "  --burst N                 batch-timed passes submit bursts of N commands\n"
            "                            with dtx_engine_submit_burst (default 64; 0 = one\n"
            "                            dtx_engine_submit per command)\n"
            "  --record                  append the result to perf/RESULTS.md\n"
            "  --results FILE            results file for --record\n",
            bench_profiles[0].default_ops, bench_profiles[1].default_ops, bench_profiles[0].default_warmup,
            bench_profiles[0].default_runs, bench_profiles[1].default_runs);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        bench_die("%s: not a number: '%s'", opt, s);
    return v;
}

int main(int argc, char **argv)
{
    options o = {.profile_mask = 3, .warmup = UINT64_MAX, .seed = 1, .cpu = 1};
    static const struct option longopts[] = {
        {"profile", required_argument, NULL, 'p'}, {"ops", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},  {"runs", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, 's'},    {"cpu", required_argument, NULL, 'c'},
        {"record", no_argument, NULL, 'R'},        {"results", required_argument, NULL, 'o'},
        {"burst", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            g_burst = (size_t)strtoull(optarg, NULL, 10);
            break;
        case 'p':
            if (strcmp(optarg, "hot") == 0)
                o.profile_mask = 1;
            else if (strcmp(optarg, "large") == 0)
                o.profile_mask = 2;
            else if (strcmp(optarg, "both") == 0)
                o.profile_mask = 3;
            else
                bench_die("--profile: hot, large or both, not '%s'", optarg);
            break;
        case 'n':
            o.ops = parse_u64("--ops", optarg);
            if (o.ops == 0)
                bench_die("--ops must be > 0");
            break;
        case 'w':
            o.warmup = parse_u64("--warmup", optarg);
            break;
        case 'r':
            o.runs = (uint32_t)parse_u64("--runs", optarg);
            if (o.runs == 0 || o.runs > 1000)
                bench_die("--runs: 1..1000");
            break;
        case 's':
            o.seed = parse_u64("--seed", optarg);
            break;
        case 'c':
            o.cpu = (int)parse_u64("--cpu", optarg);
            break;
        case 'R':
            o.record = 1;
            break;
        case 'o':
            o.results = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }

    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(o.cpu, &set);
    if (o.cpu < 0 || o.cpu >= CPU_SETSIZE || sched_setaffinity(0, sizeof set, &set) != 0)
        bench_die("cannot pin to cpu %d: %s", o.cpu, strerror(errno));

    machine m;
    machine_read(&m);
    double cyc_per_ns = dtx_tsc_calibrate(200);
    dtx_hist *scratch = bench_xalloc(sizeof(dtx_hist));
    uint64_t overhead = timer_overhead(scratch);
    free(scratch);

    report *r = bench_xalloc(sizeof(report));
    for (int i = 0; i < 2; i++)
        if (o.profile_mask & (1 << i))
            run_profile(&bench_profiles[i], &o, &m, cyc_per_ns, overhead, r);
    fwrite(r->buf, 1, r->len, stdout);
    fflush(stdout);

    if (o.record) {
        char dir[1024], path[1100];
        source_dir(dir, sizeof dir);
        if (o.results)
            snprintf(path, sizeof path, "%s", o.results);
        else
            snprintf(path, sizeof path, "%s/RESULTS.md", dir);
        record_results(path, dir, &m, argc, argv, r);
    }
    free(r);
    return 0;
}
