/*
 * dtx-loadgen - load for dtx-engine over FIXP: N sessions of market makers
 * quoting and takers crossing, bounded in time and count, driven by one
 * thread through the client library (dtx/client.h); prints throughput and
 * the order -> acknowledgement latency from a histogram.
 *
 *   dtx-loadgen [--host H] [--port N] [--keys-file PATH] [--sessions N]
 *               [--seconds S] [--orders N] [--window W] [--takers PCT]
 *               [--security-id ID] [--mid PRICE] [--tick PRICE] [--seed N]
 *               [--batch] [--busy-poll] [--record FILE]
 *
 * Sessions use the trader keys of the key file in turn; takers get the last
 * quarter of the accounts and makers the others (so takers do not meet their
 * own quotes), unless the file has a single account. A maker sends limit GTC
 * quotes a few ticks either side of the mid and cancels its oldest once it
 * holds 16; a taker sends IOC orders 4 ticks through the mid on a random
 * side. Each session keeps at most W requests without an answer (the
 * window); that, not a timer, paces the load, so the engine's throttle
 * ([session] throttle_rate / throttle_burst) must allow it.
 *
 * Latency is from just before a NewOrderSingle is written to the socket to
 * the handling of its ExecutionReportNew or ExecutionReportReject
 * (CLOCK_MONOTONIC, both ends in this process: ~30 ns a read against round
 * trips of tens of microseconds), kept in the benchmarks' histogram
 * (perf/hist.h: buckets at most 1/64 wide; a percentile is the upper bound
 * of the bucket holding rank ceil(q n), at most the exact max, which is
 * printed as is). One poll loop drives every session, as DPDK's l2fwd drives
 * its ports: poll, read each ready session, top up each window, repeat.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "dtx/client.h"
#include "dtx/config.h"
#include "dtx/keyfile.h"
#include "dtx/types.h"

#include "../perf/hist.h"

#define MAX_SESSIONS 1024
#define SLOTS 4096u         /* send times per session, by ClOrdID (window <= SLOTS) */
#define MAKER_QUOTES 16u    /* resting quotes a maker keeps */
#define DRAIN_MS 3000

static const char usage_text[] =
    "usage: dtx-loadgen [--host H] [--port N] [--keys-file PATH] [--sessions N]\n"
    "                   [--seconds S] [--orders N] [--window W] [--takers PCT]\n"
    "                   [--security-id ID] [--mid PRICE] [--tick PRICE] [--seed N]\n"
    "                   [--batch] [--busy-poll] [--record FILE]\n"
    "\n"
    "N FIXP sessions (default 10) of market makers quoting and takers crossing\n"
    "against dtx-engine, for S seconds (default 5) or N orders in all, whichever\n"
    "ends first; W requests in flight per session (default 8); PCT %% of the\n"
    "sessions are takers (default 25). --batch writes each session's new\n"
    "requests with one send() per loop turn instead of one per message.\n"
    "--busy-poll never sleeps in poll() (as a market maker's client on its own\n"
    "core would): the round trip then excludes this process's own wake-up.\n"
    "Defaults: 127.0.0.1:7001,\n"
    "./dtx-demo-keys.txt, instrument 1 around 65000 with tick 0.5.\n"
    "Prints orders/s and order->ack latency (p50, p99, p99.9, max); --record FILE\n"
    "also appends them, the command and the machine to FILE (markdown).\n"
    "The engine's throttle must allow the load, e.g. a config with\n"
    "  [session]\n  throttle_rate = 10000000\n  throttle_burst = 100000\n";

typedef struct sess {
    dtx_client *c;
    int taker;
    uint64_t next_clordid;
    uint32_t inflight;
    uint64_t sent_ns[SLOTS];  /* by ClOrdID: send time of a NewOrderSingle, 0 = none */
    uint8_t is_cancel[SLOTS]; /* the request with this ClOrdID is a cancel */
    uint64_t quotes[MAKER_QUOTES]; /* resting quote ClOrdIDs, a ring */
    uint32_t qhead, qn;
    int lost;
} sess;

typedef struct counters {
    uint64_t orders, cancels, acks, rejects, trades, canceled, cancel_rejects, other;
    uint64_t rej_by_reason[DTX_REJ_MAX + 1];
} counters;

static sess *S;
static uint32_t nsess;
static dtx_hist H; /* order -> ack, ns */
static counters K;
static uint64_t rng_state;
static int finishing; /* the run is over: Terminate is expected */

static uint64_t rnd(void) /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* Percentile p (0..100) of the order -> ack latency in microseconds. */
static double pct_us(double p) { return (double)dtx_hist_quantile(&H, p / 100.0) / 1e3; }

/* ---- reports -------------------------------------------------------------------- */

static void acked(sess *s, uint64_t clordid, int is_order_answer)
{
    uint32_t slot = (uint32_t)(clordid % SLOTS);
    if (!s->sent_ns[slot])
        return; /* unsolicited, or answered already */
    if (is_order_answer && !s->is_cancel[slot]) {
        dtx_hist_add(&H, dtx_mono_ns() - s->sent_ns[slot]);
    } else if (is_order_answer != !s->is_cancel[slot]) {
        return; /* e.g. an unsolicited cancel of a quote: not this request's answer */
    }
    s->sent_ns[slot] = 0;
    if (s->inflight)
        s->inflight--;
}

static void on_report(void *ctx, dtx_client *c, const dtx_client_report *r)
{
    sess *s = ctx;
    (void)c;
    switch (r->template_id) {
    case DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID:
        K.acks++;
        acked(s, r->u.er_new.cl_ord_id, 1);
        break;
    case DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID:
        K.rejects++;
        if (r->u.reject.reject_reason <= DTX_REJ_MAX)
            K.rej_by_reason[r->u.reject.reject_reason]++;
        acked(s, r->u.reject.cl_ord_id, 1);
        break;
    case DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID:
        K.trades++;
        break;
    case DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID:
        K.canceled++;
        acked(s, r->u.canceled.cl_ord_id, 0);
        break;
    case DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID:
        K.cancel_rejects++;
        acked(s, r->u.cancel_reject.cl_ord_id, 0);
        break;
    default:
        K.other++;
        break;
    }
}

static void on_session(void *ctx, dtx_client *c, const dtx_client_event *e)
{
    sess *s = ctx;
    (void)c;
    if (e->type == DTX_CLIENT_EV_DISCONNECTED || e->type == DTX_CLIENT_EV_TERMINATED) {
        if (!s->lost && !finishing)
            fprintf(stderr, "dtx-loadgen: session %td ended: %s %.*s\n", s - S,
                    dtx_client_event_name(e->type), (int)e->reason_length,
                    e->reason ? e->reason : "");
        s->lost = 1;
    }
}

/* ---- load ----------------------------------------------------------------------- */

typedef struct params {
    uint32_t security_id;
    int64_t mid, tick;
} params;

/* Sends one request of session s. Returns 1 for an order, 0 for a cancel,
 * -1 when nothing can be sent now. */
static int step(sess *s, const params *p)
{
    uint64_t id = s->next_clordid;
    uint32_t slot = (uint32_t)(id % SLOTS);
    if (s->sent_ns[slot])
        return -1; /* the slot's earlier request is still out: wait */
    s->next_clordid++;
    if (!s->taker && s->qn == MAKER_QUOTES) {
        uint64_t oldest = s->quotes[s->qhead];
        dtx_sbe_order_cancel_request m = {.cl_ord_id = id, .orig_cl_ord_id = oldest};
        s->sent_ns[slot] = dtx_mono_ns();
        s->is_cancel[slot] = 1;
        if (dtx_client_cancel(s->c, &m, NULL) != DTX_OK) {
            s->sent_ns[slot] = 0;
            return -1;
        }
        s->qhead = (s->qhead + 1) % MAKER_QUOTES;
        s->qn--;
        s->inflight++;
        K.cancels++;
        return 0;
    }
    uint64_t r = rnd();
    uint8_t side = (r & 1) ? DTX_SIDE_BUY : DTX_SIDE_SELL;
    dtx_sbe_new_order_single m = {.cl_ord_id = id, .security_id = p->security_id, .side = side,
                                  .ord_type = DTX_ORD_LIMIT, .time_in_force = DTX_TIF_GTC,
                                  .stop_px = DTX_PRICE_NULL, .order_qty = 1 + (int64_t)((r >> 8) % 5)};
    if (s->taker) {
        m.time_in_force = DTX_TIF_IOC;
        m.price = p->mid + (side == DTX_SIDE_BUY ? 4 : -4) * p->tick;
    } else {
        int64_t off = 1 + (int64_t)((r >> 16) % 8);
        m.price = p->mid + (side == DTX_SIDE_BUY ? -off : off) * p->tick;
    }
    s->sent_ns[slot] = dtx_mono_ns();
    s->is_cancel[slot] = 0;
    if (dtx_client_new_order(s->c, &m, NULL) != DTX_OK) {
        s->sent_ns[slot] = 0;
        return -1;
    }
    if (!s->taker) {
        s->quotes[(s->qhead + s->qn) % MAKER_QUOTES] = id;
        s->qn++;
    }
    s->inflight++;
    K.orders++;
    return 1;
}

/* Appends one markdown section: the command, the machine, the figures. */
static void record(const char *path, int argc, char **argv, uint32_t sessions, uint32_t ntakers,
                   uint32_t window, int batch, double el)
{
    FILE *f = fopen(path, "a");
    if (!f) {
        fprintf(stderr, "dtx-loadgen: cannot append to %s: %s\n", path, strerror(errno));
        return;
    }
    char model[128] = "?", line[256], load[64] = "?";
    FILE *ci = fopen("/proc/cpuinfo", "r");
    while (ci && fgets(line, sizeof line, ci))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (ci)
        fclose(ci);
    FILE *la = fopen("/proc/loadavg", "r");
    if (la && fgets(load, sizeof load, la))
        load[strcspn(load, " ")] = '\0';
    if (la)
        fclose(la);
    struct utsname u;
    uname(&u);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    fprintf(f, "\n### dtx-loadgen, %u sessions (%04d-%02d-%02d %02d:%02d UTC)\n\n", sessions,
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
    fprintf(f, "command: `");
    for (int i = 0; i < argc; i++)
        fprintf(f, "%s%s", i ? " " : "", argv[i]);
    fprintf(f, "`\n\nmachine: %s, nproc %ld, Linux %s; load average %s at the end (engine, "
               "load generator and other work share the CPUs)\n\n",
            model, sysconf(_SC_NPROCESSORS_ONLN), u.release, load);
    fprintf(f, "| sessions (makers/takers) | window%s | s | orders | orders/s | msgs/s | trade "
               "reports | rejects | p50 us | p99 us | p99.9 us | max us |\n",
            batch ? " (batched writes)" : "");
    fprintf(f, "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    fprintf(f, "| %u (%u/%u) | %u | %.2f | %" PRIu64 " | %.0f | %.0f | %" PRIu64 " | %" PRIu64
               " | %.1f | %.1f | %.1f | %.1f |\n",
            sessions, sessions - ntakers, ntakers, window, el, K.orders, (double)K.orders / el,
            (double)(K.orders + K.cancels) / el, K.trades, K.rejects, pct_us(50), pct_us(99),
            pct_us(99.9), (double)H.max / 1e3);
    fclose(f);
}

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "dtx-loadgen: %s\n", why);
    fputs(usage_text, stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *keys_file = "./dtx-demo-keys.txt", *record_path = NULL;
    uint16_t port = 7001;
    uint32_t sessions = 10, window = 8, takers_pct = 25;
    int batch = 0, busy_poll = 0;
    double seconds = 5;
    uint64_t max_orders = UINT64_MAX, seed = 1;
    params p = {.security_id = 1, .mid = 65000ll * 1000000000ll, .tick = 500000000ll};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(a, "--batch")) {
            batch = 1;
            continue;
        }
        if (!strcmp(a, "--busy-poll")) {
            busy_poll = 1;
            continue;
        }
        if (!v)
            return usage("an option needs a value");
        i++;
        if (!strcmp(a, "--host"))
            host = v;
        else if (!strcmp(a, "--port"))
            port = (uint16_t)atoi(v);
        else if (!strcmp(a, "--keys-file"))
            keys_file = v;
        else if (!strcmp(a, "--sessions"))
            sessions = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(a, "--orders"))
            max_orders = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--window"))
            window = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--takers"))
            takers_pct = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--security-id"))
            p.security_id = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--record"))
            record_path = v;
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--mid")) {
            if (!dtx_config_parse_price9(v, &p.mid))
                return usage("bad --mid");
        } else if (!strcmp(a, "--tick")) {
            if (!dtx_config_parse_price9(v, &p.tick))
                return usage("bad --tick");
        } else
            return usage("unknown option");
    }
    if (!sessions || sessions > MAX_SESSIONS)
        return usage("--sessions is 1..1024");
    if (!window || window > SLOTS / 2)
        return usage("--window is 1..2048");
    if (seconds <= 0 || takers_pct > 100)
        return usage("--seconds must be > 0 and --takers 0..100");
    rng_state = seed ? seed : 1;

    static dtx_key_entry keys[1024];
    uint32_t nk = 0, ntr = 0;
    uint32_t trader[1024];
    if (dtx_keyfile_load(keys_file, keys, 1024, &nk) != DTX_OK) {
        fprintf(stderr, "dtx-loadgen: %s\n", dtx_error_message());
        return 1;
    }
    for (uint32_t i = 0; i < nk; i++)
        if (keys[i].role == DTX_ROLE_TRADER)
            trader[ntr++] = i;
    if (!ntr) {
        fprintf(stderr, "dtx-loadgen: no trader key in %s\n", keys_file);
        return 1;
    }

    S = calloc(sessions, sizeof *S);
    if (!S)
        return 1;
    nsess = sessions;
    uint32_t ntakers = (uint32_t)((uint64_t)sessions * takers_pct / 100);
    if (sessions > 1 && takers_pct && !ntakers)
        ntakers = 1;
    uint64_t t_setup = dtx_mono_ns();
    for (uint32_t i = 0; i < sessions; i++) {
        sess *s = &S[i];
        s->taker = i >= sessions - ntakers;
        /* takers on the last quarter of the accounts (at least one), makers
         * on the others, round robin (spread over the keys, so an engine
         * with [session] max_sessions_per_key set still takes them) */
        uint32_t tk = ntr / 4 ? ntr / 4 : 1;
        uint32_t k = ntr == 1   ? trader[0]
                     : s->taker ? trader[ntr - 1 - (i % tk)]
                                : trader[i % (ntr - tk)];
        dtx_client_config cc = {.host = host, .port = port, .keepalive_ms = 5000,
                                .store_depth = 1024, .out_buffer_bytes = 1u << 20,
                                .batch_output = batch};
        memcpy(cc.seckey, keys[k].seckey, 32);
        dtx_client_callbacks cb = {.ctx = s, .on_report = on_report, .on_session = on_session};
        s->c = dtx_client_create(&cc, &cb);
        if (!s->c || dtx_client_connect_wait(s->c, 10000) != DTX_OK) {
            fprintf(stderr, "dtx-loadgen: session %u: %s\n", i, dtx_error_message());
            return 1;
        }
        s->next_clordid = ((uint64_t)i << 40) | 1;
    }
    printf("dtx-loadgen: %u sessions (%u makers, %u takers) to %s:%u, established in %.1f ms\n",
           sessions, sessions - ntakers, ntakers, host, port, (double)(dtx_mono_ns() - t_setup) / 1e6);
    printf("  instrument %u, window %u per session%s, bound %.1f s%s", p.security_id, window,
           batch ? ", batched writes" : "", seconds,
           max_orders == UINT64_MAX ? "\n" : "");
    if (max_orders != UINT64_MAX)
        printf(" or %" PRIu64 " orders\n", max_orders);
    fflush(stdout);

    struct pollfd *pf = calloc(sessions, sizeof *pf);
    if (!pf)
        return 1;
    uint64_t t0 = dtx_mono_ns(), end = t0 + (uint64_t)(seconds * 1e9), t_stop = 0, t_timers = t0;
    int sending = 1;
    for (;;) {
        uint64_t now = dtx_mono_ns();
        if (sending && (now >= end || K.orders >= max_orders)) {
            sending = 0;
            t_stop = now;
        }
        /* top up every window */
        uint32_t busy = 0;
        for (uint32_t i = 0; i < sessions; i++) {
            sess *s = &S[i];
            if (s->lost)
                continue;
            while (sending && s->inflight < window && K.orders < max_orders && step(s, &p) >= 0)
                ;
            if (batch)
                dtx_client_flush(s->c); /* the window's new requests in one send() */
            busy += s->inflight;
        }
        if (!sending && (busy == 0 || now - t_stop > DRAIN_MS * 1000000ull))
            break;
        /* wait for any session, read the ready ones */
        for (uint32_t i = 0; i < sessions; i++) {
            pf[i].fd = S[i].lost ? -1 : dtx_client_fd(S[i].c);
            pf[i].events = S[i].lost ? 0 : dtx_client_poll_events(S[i].c);
            pf[i].revents = 0;
        }
        int ready = poll(pf, sessions, busy_poll ? 0 : 1);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready == 0 && busy_poll)
            sched_yield(); /* let a thread that shares this CPU run */
        int timers = now - t_timers > 2000000ull; /* every 2 ms: keepalives for all */
        if (timers)
            t_timers = now;
        for (uint32_t i = 0; i < sessions; i++)
            if (!S[i].lost && (pf[i].revents || timers))
                dtx_client_poll(S[i].c);
    }
    double el = (double)((t_stop ? t_stop : dtx_mono_ns()) - t0) / 1e9;
    uint64_t unanswered = 0;
    for (uint32_t i = 0; i < sessions; i++)
        unanswered += S[i].inflight;

    /* Clean up: cancel what rests, then Terminate. */
    int lost = 0;
    for (uint32_t i = 0; i < sessions; i++)
        lost += S[i].lost;
    finishing = 1;
    for (uint32_t i = 0; i < sessions; i++) {
        if (S[i].lost)
            continue;
        dtx_sbe_order_mass_cancel_request mc = {.cl_ord_id = S[i].next_clordid++};
        dtx_client_mass_cancel(S[i].c, &mc, NULL);
    }
    for (uint32_t i = 0; i < sessions; i++)
        if (!S[i].lost)
            dtx_client_terminate_wait(S[i].c, 2000);

    printf("  sent: %" PRIu64 " orders, %" PRIu64 " cancels in %.2f s; answered: %" PRIu64
           " new, %" PRIu64 " rejected, %" PRIu64 " canceled, %" PRIu64 " cancel-rejected; %" PRIu64
           " trade reports; %" PRIu64 " unanswered\n",
           K.orders, K.cancels, el, K.acks, K.rejects, K.canceled, K.cancel_rejects, K.trades,
           unanswered);
    if (K.rejects) {
        printf("  rejects:");
        for (unsigned r = 0; r <= DTX_REJ_MAX; r++)
            if (K.rej_by_reason[r])
                printf(" %s %" PRIu64, dtx_reject_reason_name(r), K.rej_by_reason[r]);
        printf("\n");
    }
    printf("  throughput: %.0f orders/s, %.0f messages/s (orders + cancels)\n",
           (double)K.orders / el, (double)(K.orders + K.cancels) / el);
    printf("  order->ack latency (us): p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f  (n=%" PRIu64
           ")\n",
           pct_us(50), pct_us(99), pct_us(99.9), (double)H.max / 1e3, dtx_hist_mean(&H) / 1e3,
           H.n);
    if (record_path)
        record(record_path, argc, argv, sessions, ntakers, window, batch, el);
    for (uint32_t i = 0; i < sessions; i++)
        dtx_client_destroy(S[i].c);
    free(pf);
    free(S);
    return lost ? 1 : 0;
}
