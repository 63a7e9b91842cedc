/*
 * engine_determinism.c - the engine's replay contract (include/dtx/engine.h,
 * ARCHITECTURE.md "The path of one order", item 3): the same sequenced
 * command stream yields the same event stream, byte for byte, and the same
 * dtx_engine_digest(); a stream that leaves a different state yields a
 * different digest. Streams come from the seeded generator of the
 * differential test (tests/support/cmdgen.h), one seed per profile; each test
 * prints its seeds, and DTX_TEST_SEED=<n> runs the stream tests on that seed
 * alone. Also: dtx_engine_create() rejects each invalid configuration with a
 * message (dtx_error_message()) naming the field.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/engine.h"
#include "support/cmdgen.h"
#include "support/engine_fixture.h"

/* ---- a recording sink ------------------------------------------------------------- */

typedef struct rec {
    dtx_event *ev;
    size_t n, cap;
} rec;

static void rec_sink(void *ctx, const dtx_event *events, size_t n)
{
    rec *r = ctx;
    if (r->n + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->n + n)
            cap *= 2;
        dtx_event *p = realloc(r->ev, cap * sizeof *p);
        cr_assert_not_null(p);
        r->ev = p;
        r->cap = cap;
    }
    memcpy(r->ev + r->n, events, n * sizeof *events);
    r->n += n;
}

/* ---- OrderID -> ordinal, for the generator's view ------------------------------------ */

typedef struct ordmap {
    uint64_t *key; /* 0 = empty */
    uint64_t *val;
    size_t cap, n, next;
} ordmap;

static void ordmap_init(ordmap *m)
{
    m->cap = 1u << 16;
    m->n = 0;
    m->next = 1;
    m->key = calloc(m->cap, sizeof *m->key);
    m->val = calloc(m->cap, sizeof *m->val);
    cr_assert(m->key && m->val);
}

static void ordmap_free(ordmap *m)
{
    free(m->key);
    free(m->val);
}

static uint64_t *ordmap_slot(ordmap *m, uint64_t k)
{
    size_t i = (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20) & (m->cap - 1);
    while (m->key[i] && m->key[i] != k)
        i = (i + 1) & (m->cap - 1);
    return &m->key[i];
}

static void ordmap_grow(ordmap *m)
{
    ordmap o = *m;
    m->cap *= 2;
    m->n = 0;
    m->key = calloc(m->cap, sizeof *m->key);
    m->val = calloc(m->cap, sizeof *m->val);
    cr_assert(m->key && m->val);
    for (size_t i = 0; i < o.cap; i++) {
        if (!o.key[i])
            continue;
        uint64_t *s = ordmap_slot(m, o.key[i]);
        *s = o.key[i];
        m->val[s - m->key] = o.val[i];
        m->n++;
    }
    ordmap_free(&o);
}

/* The ordinal of order id k; assigns the next one when add and k is new. */
static uint64_t ordmap_get(ordmap *m, uint64_t k, int add)
{
    if (!k)
        return 0;
    if (2 * (m->n + 1) > m->cap)
        ordmap_grow(m);
    uint64_t *s = ordmap_slot(m, k);
    if (!*s) {
        if (!add)
            return 0;
        *s = k;
        m->val[s - m->key] = m->next++;
        m->n++;
    }
    return m->val[s - m->key];
}

/* ---- streams ------------------------------------------------------------------------------ */

typedef struct stream {
    cmdgen_setup setup;
    dtx_command *cmd;
    size_t n;
} stream;

static void stream_free(stream *s) { free(s->cmd); }

static dtx_engine *engine_for(const cmdgen_setup *setup, rec *r)
{
    dtx_engine_config cfg = cmdgen_engine_config(setup, rec_sink, r);
    dtx_engine *e = dtx_engine_create(&cfg);
    cr_assert_not_null(e, "dtx_engine_create: %s", dtx_error_message());
    return e;
}

/*
 * Generates n commands of seed, driving the generator with engine a's events
 * (so cancels and replaces name real orders), and feeds each command to engine
 * b as well, checking after every command that both emitted the same bytes and,
 * every check_every commands and at the end, that their digests agree. The
 * resolved commands are kept in *out.
 */
static void run_twins(uint64_t seed, size_t n, size_t check_every, stream *out)
{
    cmdgen *g = cmdgen_create(seed);
    out->setup = *cmdgen_get_setup(g);
    out->cmd = calloc(n, sizeof *out->cmd);
    out->n = n;
    uint64_t *oid_of = calloc(n, sizeof *oid_of);
    cr_assert(out->cmd && oid_of);
    rec ra = {0}, rb = {0};
    dtx_engine *a = engine_for(&out->setup, &ra);
    dtx_engine *b = engine_for(&out->setup, &rb);
    ordmap m;
    ordmap_init(&m);
    dtx_event *norm = NULL;
    size_t norm_cap = 0;

    for (size_t i = 0; i < n; i++) {
        cmdgen_cmd cc;
        cmdgen_next(g, &cc);
        if (cc.oid_ref >= 0) {
            cr_assert_lt((size_t)cc.oid_ref, i);
            cc.cmd.order_id = oid_of[cc.oid_ref];
        }
        out->cmd[i] = cc.cmd;
        size_t a0 = ra.n, b0 = rb.n;
        dtx_engine_submit(a, &cc.cmd);
        dtx_engine_submit(b, &cc.cmd);
        size_t k = ra.n - a0;
        cr_assert(rb.n - b0 == k && memcmp(ra.ev + a0, rb.ev + b0, k * sizeof(dtx_event)) == 0,
                  "seed %" PRIu64 " command %zu (type %u): the two engines' events differ", seed, i,
                  (unsigned)cc.cmd.type);
        if (i % check_every == 0 || i + 1 == n)
            cr_assert_eq(dtx_engine_digest(a), dtx_engine_digest(b),
                         "seed %" PRIu64 " command %zu: digests differ", seed, i);

        /* the generator sees OrderIDs as ordinals of first appearance */
        if (k > norm_cap) {
            norm_cap = k * 2;
            norm = realloc(norm, norm_cap * sizeof *norm);
            cr_assert_not_null(norm);
        }
        memcpy(norm, ra.ev + a0, k * sizeof *norm);
        for (size_t j = 0; j < k; j++) {
            dtx_event *ev = &norm[j];
            if (ev->type == DTX_EV_NEW && !oid_of[i])
                oid_of[i] = ev->order_id;
            ev->order_id = ordmap_get(&m, ev->order_id, ev->type == DTX_EV_NEW);
            if (ev->type == DTX_EV_FILL)
                ev->contra_order_id = ordmap_get(&m, ev->contra_order_id, 0);
        }
        cmdgen_observe(g, norm, k);
    }
    /* the stream exercised the book: trades, replaces and cancels of real orders */
    size_t fills = 0, replaces = 0, cancels = 0;
    for (size_t j = 0; j < ra.n; j++) {
        fills += ra.ev[j].type == DTX_EV_FILL;
        replaces += ra.ev[j].type == DTX_EV_REPLACED;
        cancels += ra.ev[j].type == DTX_EV_CANCELED && ra.ev[j].cancel_reason == DTX_CANCEL_CLIENT_REQUEST;
    }
    cr_assert(fills > 0 && replaces > 0 && cancels > 0,
              "seed %" PRIu64 ": %zu fills, %zu replaces, %zu client cancels", seed, fills, replaces, cancels);
    free(norm);
    ordmap_free(&m);
    free(oid_of);
    free(ra.ev);
    free(rb.ev);
    dtx_engine_destroy(a);
    dtx_engine_destroy(b);
    cmdgen_destroy(g);
}

/* Replays s into a fresh engine; returns the digest after the first upto
 * commands (upto > s->n: all), and the events in *r. */
static uint64_t replay(const stream *s, size_t upto, rec *r)
{
    dtx_engine *e = engine_for(&s->setup, r);
    for (size_t i = 0; i < s->n && i < upto; i++)
        dtx_engine_submit(e, &s->cmd[i]);
    uint64_t d = dtx_engine_digest(e);
    dtx_engine_destroy(e);
    return d;
}

/* The seeds: one per generator profile, or DTX_TEST_SEED alone. */
static size_t seeds(uint64_t *out)
{
    const char *env = getenv("DTX_TEST_SEED");
    if (env && *env) {
        out[0] = strtoull(env, NULL, 0);
        return 1;
    }
    const uint64_t base = 0x5eed0000d7c0ull; /* a multiple of CMDGEN_PROFILES */
    for (unsigned p = 0; p < CMDGEN_PROFILES; p++)
        out[p] = base + p;
    return CMDGEN_PROFILES;
}

#define N_COMMANDS 6000

Test(engine_determinism, same_seeded_stream_gives_two_engines_identical_events_and_digests)
{
    uint64_t s[CMDGEN_PROFILES];
    size_t ns = seeds(s);
    for (size_t k = 0; k < ns; k++) {
        printf("engine_determinism: seed %" PRIu64 " (profile %u), %d commands\n", s[k],
               (unsigned)(s[k] % CMDGEN_PROFILES), N_COMMANDS);
        fflush(stdout);
        stream st;
        run_twins(s[k], N_COMMANDS, 16, &st);
        stream_free(&st);
    }
}

Test(engine_determinism, replay_into_a_fresh_engine_reproduces_the_events_and_the_digest)
{
    uint64_t s[CMDGEN_PROFILES];
    size_t ns = seeds(s);
    for (size_t k = 0; k < ns; k++) {
        printf("engine_determinism: replay, seed %" PRIu64 "\n", s[k]);
        fflush(stdout);
        stream st;
        run_twins(s[k], N_COMMANDS, N_COMMANDS, &st);
        /* two replays after the generating engines are gone: nothing of
         * theirs (no global state) shows in a later engine */
        rec r1 = {0}, r2 = {0};
        uint64_t d1 = replay(&st, SIZE_MAX, &r1);
        uint64_t d2 = replay(&st, SIZE_MAX, &r2);
        cr_assert_eq(d1, d2, "seed %" PRIu64 ": replay digests differ", s[k]);
        cr_assert(r1.n == r2.n && memcmp(r1.ev, r2.ev, r1.n * sizeof(dtx_event)) == 0,
                  "seed %" PRIu64 ": replayed event streams differ", s[k]);
        cr_assert_gt(r1.n, (size_t)N_COMMANDS);
        free(r1.ev);
        free(r2.ev);
        stream_free(&st);
    }
}

Test(engine_determinism, a_stream_that_leaves_a_different_state_gives_a_different_digest)
{
    uint64_t s[CMDGEN_PROFILES];
    size_t ns = seeds(s);
    for (size_t k = 0; k < ns; k++) {
        printf("engine_determinism: mutation, seed %" PRIu64 "\n", s[k]);
        fflush(stdout);
        stream st;
        run_twins(s[k], 2000, 2000, &st);

        /* find an accepted limit order that rested at once: its NEW alone, with
         * flag ADDED (no FILL, no ADDED event) */
        rec r = {0};
        dtx_engine *e = engine_for(&st.setup, &r);
        size_t target = SIZE_MAX;
        for (size_t i = 0; i < st.n; i++) {
            size_t e0 = r.n;
            dtx_engine_submit(e, &st.cmd[i]);
            if (target == SIZE_MAX && st.cmd[i].type == DTX_CMD_NEW_ORDER && r.n - e0 == 1 &&
                r.ev[e0].type == DTX_EV_NEW && (r.ev[e0].flags & DTX_EVF_ADDED) && i > 50)
                target = i;
        }
        uint64_t d_all = dtx_engine_digest(e);
        dtx_engine_destroy(e);
        free(r.ev);
        cr_assert_neq(target, SIZE_MAX, "seed %" PRIu64 ": no resting order in the stream", s[k]);

        /* the same stream with that order's ClOrdID changed: the state after it
         * differs in that ClOrdID alone, and so does the digest */
        stream mut = st;
        mut.cmd = malloc(st.n * sizeof *mut.cmd);
        cr_assert_not_null(mut.cmd);
        memcpy(mut.cmd, st.cmd, st.n * sizeof *mut.cmd);
        mut.cmd[target].clordid ^= 0x4000000000000000ull;
        rec r1 = {0}, r2 = {0}, r3 = {0};
        uint64_t before = replay(&st, target, &r1);
        uint64_t after_orig = replay(&st, target + 1, &r2);
        uint64_t after_mut = replay(&mut, target + 1, &r3);
        cr_assert_neq(after_orig, after_mut, "seed %" PRIu64 " command %zu: a different ClOrdID, same digest",
                      s[k], target);
        cr_assert_neq(before, after_orig);
        free(r1.ev);
        free(r2.ev);
        free(r3.ev);

        /* the same stream with one more command at its end */
        rec r4 = {0};
        dtx_engine *x = engine_for(&st.setup, &r4);
        for (size_t i = 0; i < st.n; i++)
            dtx_engine_submit(x, &st.cmd[i]);
        cr_assert_eq(dtx_engine_digest(x), d_all);
        dtx_command extra = dtx_command_blank(DTX_CMD_MASS_CANCEL);
        extra.seq = st.cmd[st.n - 1].seq + 1;
        extra.ts = st.cmd[st.n - 1].ts;
        extra.side = 9; /* a BUSINESS_REJECT: one event, no book change */
        dtx_engine_submit(x, &extra);
        cr_assert_neq(dtx_engine_digest(x), d_all, "the ExecID counter is part of the digest");
        dtx_engine_destroy(x);
        free(r4.ev);

        /* a stream of another seed of the same profile */
        stream other;
        run_twins(s[k] + CMDGEN_PROFILES, 2000, 2000, &other);
        rec r5 = {0};
        cr_assert_neq(replay(&other, SIZE_MAX, &r5), d_all);
        free(r5.ev);
        stream_free(&other);
        stream_free(&mut);
        stream_free(&st);
    }
}

Test(engine_determinism, sink_batching_does_not_change_the_event_stream)
{
    /* a burst of events larger than any internal buffer (a mass cancel of
     * many orders) arrives complete and in order */
    fx f;
    fx_opts o = {.max_orders = 20000};
    fx_init(&f, &o);
    for (int i = 0; i < 10000; i++)
        fx_send(&f, fx_limit(1, (uint64_t)i + 1, FX_BUY, 1 + i % 5000, 1));
    size_t calls0 = f.sink_calls;
    dtx_command m = fx_mass_cancel(1, 99999, 0, 0);
    fx_send(&f, m);
    fx_expect_count(&f, 10001);
    for (size_t i = 0; i < 10000; i++) {
        const dtx_event *ev = fx_ev(&f, i);
        cr_assert_eq(ev->type, DTX_EV_CANCELED);
        cr_assert_eq(ev->exec_id, f.ev[f.first - 1].exec_id + 1 + i);
    }
    cr_assert_eq(fx_ev(&f, 10000)->total_affected, 10000);
    cr_assert_geq(f.sink_calls - calls0, 1);
    fx_fini(&f);
}

/* ---- invalid configurations ------------------------------------------------------------- */

static void noop_sink(void *ctx, const dtx_event *ev, size_t n)
{
    (void)ctx;
    (void)ev;
    (void)n;
}

typedef struct bad_cfg {
    dtx_engine_config cfg;
    dtx_instrument_config ins[3];
} bad_cfg;

static void good(bad_cfg *b)
{
    uint32_t n;
    const dtx_instrument_config *ins = fx_default_instruments(&n);
    memcpy(b->ins, ins, sizeof b->ins);
    memset(&b->cfg, 0, sizeof b->cfg);
    b->cfg.instruments = b->ins;
    b->cfg.n_instruments = 3;
    b->cfg.max_orders = 64;
    b->cfg.max_timed = 64;
    b->cfg.max_stops = 8;
    b->cfg.sink = noop_sink;
}

/* Asserts that creating with cfg fails with EINVAL and a message holding each
 * of the given fragments (the field, and where useful the value). */
static void expect_invalid(const char *what, const dtx_engine_config *cfg, const char *f1, const char *f2)
{
    dtx_error_clear();
    dtx_engine *e = dtx_engine_create(cfg);
    if (e)
        dtx_engine_destroy(e);
    cr_assert_null(e, "%s: created an engine", what);
    const char *msg = dtx_error_message();
    cr_assert_eq(dtx_error_status(), DTX_EINVAL, "%s: status %s (%s)", what,
                 dtx_status_name(dtx_error_status()), msg);
    cr_assert(strstr(msg, f1) != NULL, "%s: message \"%s\" does not name \"%s\"", what, msg, f1);
    if (f2)
        cr_assert(strstr(msg, f2) != NULL, "%s: message \"%s\" does not hold \"%s\"", what, msg, f2);
}

Test(engine_determinism, create_rejects_each_invalid_config_naming_the_field)
{
    bad_cfg b;
    good(&b);
    dtx_engine *ok = dtx_engine_create(&b.cfg);
    cr_assert_not_null(ok, "the base config is valid: %s", dtx_error_message());
    dtx_engine_destroy(ok);

    expect_invalid("NULL config", NULL, "config", NULL);
#define BAD(what, stmt, f1, f2)                                                                    \
    do {                                                                                           \
        good(&b);                                                                                  \
        stmt;                                                                                      \
        expect_invalid(what, &b.cfg, f1, f2);                                                      \
    } while (0)
    BAD("no sink", b.cfg.sink = NULL, "sink", NULL);
    BAD("no instruments", b.cfg.n_instruments = 0, "n_instruments", NULL);
    BAD("NULL instruments", b.cfg.instruments = NULL, "instruments", NULL);
    BAD("too many instruments", b.cfg.n_instruments = DTX_MAX_INSTRUMENTS + 1, "n_instruments", "1025");
    BAD("max_orders 0", b.cfg.max_orders = 0, "max_orders", NULL);
    BAD("max_orders huge", b.cfg.max_orders = 0xffffffffu, "max_orders", "4294967295");
    BAD("max_timed 0", b.cfg.max_timed = 0, "max_timed", NULL);
    BAD("max_stops 0", b.cfg.max_stops = 0, "max_stops", NULL);
    BAD("day_offset_ns one day", b.cfg.day_offset_ns = 86400000000000ull, "day_offset_ns", "86400000000000");
    BAD("prefetch 3", b.cfg.prefetch = 3, "prefetch", "3");
    BAD("security_id 0", b.ins[1].security_id = 0, "instruments[1].security_id", NULL);
    BAD("duplicate security_id", b.ins[2].security_id = b.ins[0].security_id, "instruments[2].security_id",
        NULL);
    BAD("tick_size 0", b.ins[0].tick_size = 0, "instruments[0].tick_size", NULL);
    BAD("tick_size negative", b.ins[0].tick_size = -5, "instruments[0].tick_size", "-5");
    BAD("min_price 0", b.ins[0].min_price = 0, "instruments[0].min_price", NULL);
    BAD("min_price off tick", b.ins[0].min_price = FX_PX(1) + 1, "instruments[0].min_price", "1000000001");
    BAD("max_price below min", b.ins[0].max_price = b.ins[0].min_price - FX_TICK, "instruments[0].max_price",
        NULL);
    BAD("max_price off tick", b.ins[2].max_price += 7, "instruments[2].max_price", NULL);
    BAD("range too wide", b.ins[0].max_price = b.ins[0].min_price + (int64_t)DTX_MAX_LEVELS * FX_TICK,
        "instruments[0].max_price", NULL);
    BAD("lot_size 0", b.ins[1].lot_size = 0, "instruments[1].lot_size", NULL);
    BAD("min_qty 0", b.ins[0].min_qty = 0, "instruments[0].min_qty", NULL);
    BAD("min_qty off lot", b.ins[1].min_qty = 15, "instruments[1].min_qty", "15");
    BAD("max_qty below min_qty", b.ins[0].max_qty = 0, "instruments[0].max_qty", NULL);
    BAD("max_qty above the engine's limit", b.ins[0].max_qty = DTX_MAX_ORDER_QTY + 1, "instruments[0].max_qty",
        "2147483648");
    BAD("max_qty off lot", b.ins[1].max_qty = 1005, "instruments[1].max_qty", NULL);
    BAD("type 0", b.ins[0].type = 0, "instruments[0].type", NULL);
    BAD("type 4", b.ins[0].type = 4, "instruments[0].type", "4");
#undef BAD

    /* the widest allowed range and the largest quantities are accepted */
    good(&b);
    b.ins[0].max_price = b.ins[0].min_price + ((int64_t)DTX_MAX_LEVELS - 1) * FX_TICK;
    b.ins[0].max_qty = DTX_MAX_ORDER_QTY;
    b.cfg.day_offset_ns = 86400000000000ull - 1;
    ok = dtx_engine_create(&b.cfg);
    cr_assert_not_null(ok, "%s", dtx_error_message());
    dtx_engine_destroy(ok);
}
