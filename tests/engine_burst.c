/*
 * engine_burst.c - dtx_engine_submit_burst() is dtx_engine_submit() in a loop.
 *
 * The burst path prefetches ahead of the command it processes (engine/
 * prefetch.c); prefetching must never change what happens. Seeded streams
 * from the differential generator (every command type, every profile) are
 * run once a command at a time, recording the commands with their OrderIDs
 * resolved and every event; then the same commands go through a fresh engine
 * in bursts of several sizes, and the events must be identical byte for byte
 * and the digests equal; so with dtx_engine_submit_burst_pf(), whose hint
 * (the risk's, in the core) is called once per command whether or not the
 * engine prefetches its own memory. A stream of random bytes as commands (malformed
 * fields, OrderIDs naming any slot) checks that prefetching any command is
 * safe (run under ASan by the test command).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/engine.h"
#include "support/cmdgen.h"

typedef struct evlog {
    dtx_event *ev;
    size_t n, cap;
} evlog;

static void log_sink(void *ctx, const dtx_event *ev, size_t n)
{
    evlog *l = ctx;
    if (l->n + n > l->cap) {
        l->cap = (l->n + n) * 2;
        l->ev = realloc(l->ev, l->cap * sizeof *l->ev);
        cr_assert(l->ev != NULL);
    }
    memcpy(l->ev + l->n, ev, n * sizeof *ev);
    l->n += n;
}

/* OrderID -> ordinal of its NEW, for cmdgen_observe (open addressing). */
#define OMAP_BITS 20
static uint64_t omap_key[1u << OMAP_BITS];
static uint32_t omap_val[1u << OMAP_BITS];

static uint32_t *omap_slot(uint64_t id)
{
    uint32_t i = (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> (64 - OMAP_BITS));
    while (omap_key[i] && omap_key[i] != id)
        i = (i + 1) & ((1u << OMAP_BITS) - 1);
    omap_key[i] = id;
    return &omap_val[i];
}

/* Runs n commands of g one at a time; fills cmds (OrderIDs resolved) and log.
 * The configuration points into g's setup: g must outlive its use. */
static dtx_engine *record(cmdgen *g, uint64_t seed, size_t n, dtx_command *cmds, evlog *log,
                          dtx_engine_config *cfg_out)
{
    memset(omap_key, 0, sizeof omap_key);
    *cfg_out = cmdgen_engine_config(cmdgen_get_setup(g), log_sink, log);
    dtx_engine *e = dtx_engine_create(cfg_out);
    cr_assert(e != NULL, "seed %" PRIu64 ": %s", seed, dtx_error_message());
    uint64_t *oid_of_cmd = calloc(n, sizeof *oid_of_cmd);
    uint64_t *oid_of_ord = calloc(n + 1, sizeof *oid_of_ord);
    dtx_event *norm = malloc(4096 * sizeof *norm);
    uint32_t n_ord = 0;
    for (size_t i = 0; i < n; i++) {
        cmdgen_cmd cc;
        cmdgen_next(g, &cc);
        if (cc.oid_ref >= 0)
            cc.cmd.order_id = (size_t)cc.oid_ref < i && oid_of_cmd[cc.oid_ref] ? oid_of_cmd[cc.oid_ref]
                                                                                : CMDGEN_BOGUS_OID_BASE + i;
        cmds[i] = cc.cmd;
        size_t first = log->n;
        dtx_engine_submit(e, &cmds[i]);
        size_t k = log->n - first;
        cr_assert(k <= 4096);
        for (size_t j = 0; j < k; j++) {
            norm[j] = log->ev[first + j];
            if (norm[j].type == DTX_EV_NEW) {
                *omap_slot(norm[j].order_id) = ++n_ord;
                oid_of_ord[n_ord] = norm[j].order_id;
                oid_of_cmd[i] = norm[j].order_id;
            }
            if (norm[j].order_id)
                norm[j].order_id = *omap_slot(norm[j].order_id);
            if (norm[j].type == DTX_EV_FILL && norm[j].contra_order_id)
                norm[j].contra_order_id = *omap_slot(norm[j].contra_order_id);
        }
        cmdgen_observe(g, norm, k);
    }
    free(norm);
    free(oid_of_ord);
    free(oid_of_cmd);
    return e;
}

/* A dtx_prefetch_fn that counts the calls per command of cmds. */
typedef struct pf_count {
    const dtx_command *cmds;
    size_t n;
    uint32_t *calls;
} pf_count;

static void count_pf(const void *ctx, const dtx_command *cmd)
{
    const pf_count *p = ctx;
    cr_assert(cmd >= p->cmds && cmd < p->cmds + p->n, "the hint names a command of the burst");
    p->calls[cmd - p->cmds]++;
}

static void check_bursts(uint64_t seed, size_t n)
{
    dtx_command *cmds = calloc(n, sizeof *cmds);
    evlog one = {0};
    dtx_engine_config cfg;
    cmdgen *g = cmdgen_create(seed);
    dtx_engine *e1 = record(g, seed, n, cmds, &one, &cfg);
    uint64_t digest = dtx_engine_digest(e1);
    dtx_engine_destroy(e1);

    static const size_t bursts[] = {1, 2, 7, 64, 1000};
    for (size_t b = 0; b < sizeof bursts / sizeof bursts[0]; b++) {
        evlog many = {0};
        cfg.sink_ctx = &many;
        cfg.prefetch = DTX_PREFETCH_ALWAYS; /* the generator's books are small */
        dtx_engine *e2 = dtx_engine_create(&cfg);
        cr_assert(e2 != NULL);
        for (size_t i = 0; i < n; i += bursts[b])
            dtx_engine_submit_burst(e2, cmds + i, n - i < bursts[b] ? n - i : bursts[b]);
        cr_assert_eq(many.n, one.n, "seed %" PRIu64 " burst %zu: %zu events, one at a time %zu", seed, bursts[b],
                     many.n, one.n);
        for (size_t i = 0; i < one.n; i++)
            cr_assert(memcmp(&many.ev[i], &one.ev[i], sizeof(dtx_event)) == 0,
                      "seed %" PRIu64 " burst %zu: event %zu differs", seed, bursts[b], i);
        cr_assert_eq(dtx_engine_digest(e2), digest, "seed %" PRIu64 " burst %zu: digest differs", seed, bursts[b]);
        dtx_engine_destroy(e2);
        free(many.ev);
    }
    /* with another module's hint: the same, and the hint once per command,
     * also when the engine's own hints are off */
    static const int modes[] = {DTX_PREFETCH_ALWAYS, DTX_PREFETCH_NEVER};
    for (size_t m = 0; m < 2; m++) {
        evlog many = {0};
        pf_count pc = {.cmds = cmds, .n = n, .calls = calloc(n, sizeof(uint32_t))};
        cfg.sink_ctx = &many;
        cfg.prefetch = modes[m];
        dtx_engine *e2 = dtx_engine_create(&cfg);
        cr_assert(e2 != NULL);
        for (size_t i = 0; i < n; i += 64)
            dtx_engine_submit_burst_pf(e2, cmds + i, n - i < 64 ? n - i : 64, count_pf, &pc);
        cr_assert_eq(many.n, one.n, "seed %" PRIu64 " prefetch %d with a hint: %zu events, one at a time %zu", seed,
                     modes[m], many.n, one.n);
        cr_assert(memcmp(many.ev, one.ev, one.n * sizeof(dtx_event)) == 0,
                  "seed %" PRIu64 " prefetch %d with a hint: the events differ", seed, modes[m]);
        cr_assert_eq(dtx_engine_digest(e2), digest);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(pc.calls[i], 1, "seed %" PRIu64 " prefetch %d: command %zu hinted %u times", seed,
                         modes[m], i, pc.calls[i]);
        dtx_engine_destroy(e2);
        free(pc.calls);
        free(many.ev);
    }
    free(one.ev);
    free(cmds);
    cmdgen_destroy(g);
}

Test(engine_burst, bursts_emit_the_same_events_as_single_submits_in_every_profile)
{
    for (uint64_t seed = 1; seed <= 2 * CMDGEN_PROFILES; seed++)
        check_bursts(seed, 20000);
}

Test(engine_burst, any_bytes_as_commands_are_safe_to_prefetch_and_submit_in_bursts)
{
    uint64_t seed = 0x5eedb0b5, x = seed;
    cr_log_info("seed %" PRIu64, seed);
    uint32_t n_instr;
    const dtx_instrument_config *instr = dtx_default_instruments(&n_instr);
    evlog one = {0}, many = {0};
    dtx_engine_config cfg = {.instruments = instr, .n_instruments = n_instr, .max_orders = 1000,
                             .max_timed = 100, .max_stops = 50, .sink = log_sink, .sink_ctx = &one,
                             .prefetch = DTX_PREFETCH_ALWAYS};
    dtx_engine *e1 = dtx_engine_create(&cfg);
    cfg.sink_ctx = &many;
    dtx_engine *e2 = dtx_engine_create(&cfg);
    cr_assert(e1 && e2);
    enum { N = 4096 };
    static dtx_command cmds[N];
    for (size_t i = 0; i < N; i++) {
        uint64_t *w = (uint64_t *)(void *)&cmds[i];
        for (size_t k = 0; k < sizeof cmds[i] / 8; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            w[k] = x;
        }
        cmds[i].type = (uint16_t)(1 + i % 4); /* new, cancel, replace, mass cancel */
        if (i % 3 == 0)
            cmds[i].order_id = (uint64_t)(x >> 40) << 32 | (uint32_t)(x % 1200); /* near real slots */
        if (i % 2 == 0)
            cmds[i].security_id = 1 + (uint32_t)(i % 4);
        dtx_engine_submit(e1, &cmds[i]);
    }
    for (size_t i = 0; i < N; i += 64)
        dtx_engine_submit_burst(e2, cmds + i, 64);
    cr_assert_eq(many.n, one.n);
    cr_assert(memcmp(many.ev, one.ev, one.n * sizeof(dtx_event)) == 0);
    cr_assert_eq(dtx_engine_digest(e1), dtx_engine_digest(e2));
    dtx_engine_destroy(e1);
    dtx_engine_destroy(e2);
    free(one.ev);
    free(many.ev);
}
