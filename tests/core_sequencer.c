/*
 * core_sequencer.c - the core thread (dtx/core.h): every command gets the next
 * sequence number and a timestamp that never goes back; TIME commands are
 * injected on their period and expire GTD orders; the event ring's
 * back-pressure delays the core but loses nothing; stopping processes what
 * was already in the command ring.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "dtx/core.h"

#define USD(x) ((int64_t)(x) * 1000000000LL)
#define MS 1000000ull

typedef struct fake_clock {
    uint64_t now;
} fake_clock;

static uint64_t fake_now(void *ctx) { return ((fake_clock *)ctx)->now; }

static fake_clock clk = {.now = 1800000000000000000ull};
static dtx_ring *cmds, *evs;
static dtx_core *core;

/* The observer records what it saw and how full the event ring was then. */
typedef struct seen {
    uint64_t clordid[16];
    int types[16];
    size_t ring_count_at_call[16];
    size_t n;
} seen;
static seen obs;

static void observe(void *ctx, const dtx_event *ev, size_t n);

static void make_core_observed(uint32_t event_cap, uint32_t tick_ms, int with_observer);

static void make_core(uint32_t event_cap, uint32_t tick_ms)
{
    make_core_observed(event_cap, tick_ms, 0);
}

static void make_core_observed(uint32_t event_cap, uint32_t tick_ms, int with_observer)
{
    dtx_core_config cfg = {0};
    uint32_t n;
    cmds = dtx_ring_create(sizeof(dtx_command), 256, DTX_WAIT_BLOCK);
    evs = dtx_ring_create(sizeof(dtx_event), event_cap, DTX_WAIT_BLOCK);
    cr_assert(cmds && evs);
    cfg.engine.instruments = dtx_default_instruments(&n);
    cfg.engine.n_instruments = n;
    cfg.engine.max_orders = 1024;
    cfg.engine.max_timed = 1024;
    cfg.engine.max_stops = 64;
    cfg.commands = cmds;
    cfg.events = evs;
    cfg.time_tick_ms = tick_ms;
    cfg.clock = fake_now;
    cfg.clock_ctx = &clk;
    if (with_observer) {
        cfg.observer = observe;
        cfg.observer_ctx = &obs;
    }
    core = dtx_core_create(&cfg);
    cr_assert_not_null(core, "%s", dtx_error_message());
}

static void teardown(void)
{
    dtx_core_destroy(core);
    dtx_ring_destroy(cmds);
    dtx_ring_destroy(evs);
}

TestSuite(core_sequencer, .fini = teardown);

static dtx_command order(uint64_t clordid, uint8_t side, int64_t px)
{
    dtx_command c = dtx_command_blank(DTX_CMD_NEW_ORDER);
    c.session = 3;
    c.account = 7;
    c.security_id = 1;
    c.side = side;
    c.ord_type = DTX_ORD_LIMIT;
    c.tif = DTX_TIF_GTC;
    c.clordid = clordid;
    c.price = px;
    c.qty = 1;
    c.seq = 999; /* whatever the gateway leaves there is overwritten */
    c.ts = 999;
    return c;
}

static void observe(void *ctx, const dtx_event *ev, size_t n)
{
    seen *o = ctx;
    for (size_t i = 0; i < n && o->n < 16; i++, o->n++) {
        o->clordid[o->n] = ev[i].clordid;
        o->types[o->n] = ev[i].type;
        o->ring_count_at_call[o->n] = dtx_ring_count(evs);
    }
}

static void push(dtx_command c) { cr_assert_eq(dtx_ring_push(cmds, &c, 1), 1); }

static dtx_event pop_event(void)
{
    dtx_event e;
    cr_assert_eq(dtx_ring_pop(evs, &e, 1), 1, "an event is there");
    return e;
}

Test(core_sequencer, each_command_gets_the_next_seq_and_the_burst_timestamp)
{
    make_core(1024, 0);
    push(order(1, DTX_SIDE_BUY, USD(50000)));
    push(order(2, DTX_SIDE_BUY, USD(50001)));
    push(order(3, DTX_SIDE_SELL, USD(60000)));
    cr_assert_eq(dtx_core_poll(core), 3);
    for (uint64_t i = 1; i <= 3; i++) {
        dtx_event e = pop_event();
        cr_assert_eq(e.type, DTX_EV_NEW);
        cr_assert_eq(e.clordid, i);
        cr_assert_eq(e.seq, i);
        cr_assert_eq(e.ts, clk.now);
        cr_assert_eq(e.session, 3);
        cr_assert_eq(e.account, 7);
        cr_assert_eq(e.flags, DTX_EVF_ADDED); /* it rests: no ADDED follows */
        cr_assert_eq(e.last_qty, 1);
    }
    cr_assert_eq(dtx_ring_count(evs), 0);
    dtx_core_stats st;
    dtx_core_stats_get(core, &st);
    cr_assert_eq(st.commands, 3);
    cr_assert_eq(st.events, 3);
    cr_assert_eq(st.last_seq, 3);
    cr_assert_eq(dtx_core_poll(core), 0);
}

Test(core_sequencer, timestamp_never_goes_back_when_the_clock_does)
{
    make_core(1024, 0);
    uint64_t t0 = clk.now;
    push(order(1, DTX_SIDE_BUY, USD(50000)));
    dtx_core_poll(core);
    clk.now = t0 - 5 * MS;
    push(order(2, DTX_SIDE_BUY, USD(50000)));
    dtx_core_poll(core);
    clk.now = t0;
    dtx_event a = pop_event(), b = pop_event(); /* each NEW, flag ADDED */
    cr_assert_eq(a.type, DTX_EV_NEW);
    cr_assert_eq(b.type, DTX_EV_NEW);
    cr_assert_eq(dtx_ring_count(evs), 0);
    cr_assert_eq(a.ts, t0);
    cr_assert_eq(b.ts, t0);
    cr_assert_eq(b.seq, 2);
}

Test(core_sequencer, time_commands_are_sequenced_on_their_period_and_expire_gtd_orders)
{
    make_core(1024, 100);
    uint64_t t0 = clk.now;
    dtx_command gtd = order(1, DTX_SIDE_BUY, USD(50000));
    gtd.tif = DTX_TIF_GTD;
    gtd.expire_time = t0 + 150 * MS;
    push(gtd);
    cr_assert_eq(dtx_core_poll(core), 1); /* the order; TIME's period starts */
    dtx_event n = pop_event();
    cr_assert_eq(n.type, DTX_EV_NEW);
    cr_assert_eq(n.flags, DTX_EVF_ADDED); /* it rests: no ADDED follows */
    cr_assert_eq(dtx_ring_count(evs), 0);
    clk.now = t0 + 99 * MS;
    cr_assert_eq(dtx_core_poll(core), 0);
    clk.now = t0 + 100 * MS;
    cr_assert_eq(dtx_core_poll(core), 1); /* TIME, seq 2: nothing expires yet */
    cr_assert_eq(dtx_ring_count(evs), 0);
    clk.now = t0 + 200 * MS;
    cr_assert_eq(dtx_core_poll(core), 1); /* TIME, seq 3: the GTD order expires */
    dtx_event e = pop_event();
    cr_assert_eq(e.type, DTX_EV_CANCELED);
    cr_assert_eq(e.cancel_reason, DTX_CANCEL_EXPIRED);
    cr_assert_eq(e.clordid, 1);
    cr_assert_eq(e.seq, 3);
    cr_assert_eq(e.ts, t0 + 200 * MS);
    dtx_core_stats st;
    dtx_core_stats_get(core, &st);
    cr_assert_eq(st.time_ticks, 2);
    cr_assert_eq(st.last_seq, 3);
}

static void *run_core(void *arg) { return dtx_core_run(arg); }

Test(core_sequencer, a_full_event_ring_delays_the_core_and_loses_nothing)
{
    enum { N = 100 };
    pthread_t t;
    dtx_core_stats st;
    make_core(4, 0); /* 1 event per order (NEW, flag ADDED): the ring fills after 4 orders */
    for (uint64_t i = 1; i <= N; i++)
        push(order(i, DTX_SIDE_BUY, USD(50000)));
    cr_assert_eq(pthread_create(&t, NULL, run_core, core), 0);
    do {
        dtx_core_stats_get(core, &st);
    } while (st.event_waits == 0);
    for (uint64_t i = 1; i <= N; i++) {
        dtx_event e;
        while (dtx_ring_pop(evs, &e, 1) == 0)
            dtx_ring_wait_readable(evs, 100);
        cr_assert_eq(e.type, DTX_EV_NEW);
        cr_assert_eq(e.clordid, i);
        cr_assert_eq(e.seq, i);
        cr_assert_eq(e.flags, DTX_EVF_ADDED);
    }
    dtx_core_stop(core);
    pthread_join(t, NULL);
    dtx_core_stats_get(core, &st);
    cr_assert_eq(st.commands, N);
    cr_assert_eq(st.events, N);
    cr_assert_gt(st.event_waits, 0);
}

Test(core_sequencer, stop_processes_the_commands_already_in_the_ring)
{
    enum { N = 50 };
    pthread_t t;
    dtx_core_stats st;
    make_core(1024, 0);
    for (uint64_t i = 1; i <= N; i++)
        push(order(i, DTX_SIDE_SELL, USD(60000)));
    dtx_core_stop(core);
    cr_assert_eq(pthread_create(&t, NULL, run_core, core), 0);
    pthread_join(t, NULL);
    dtx_core_stats_get(core, &st);
    cr_assert_eq(st.commands, N);
    cr_assert_eq(st.last_seq, N);
    cr_assert_eq(dtx_ring_count(evs), N); /* NEW, flag ADDED, each */
}

Test(core_sequencer, create_refuses_rings_of_the_wrong_record_size)
{
    dtx_core_config cfg = {0};
    cfg.commands = dtx_ring_create(64, 8, DTX_WAIT_BLOCK);
    cfg.events = dtx_ring_create(128, 8, DTX_WAIT_BLOCK);
    cr_assert_null(dtx_core_create(&cfg));
    cr_assert_str_eq(dtx_error_message(), "core: commands ring records are 64 bytes, not 128");
    dtx_ring_destroy(cfg.commands);
    dtx_ring_destroy(cfg.events);
}

Test(core_sequencer, the_observer_sees_each_batch_before_it_goes_onto_the_ring)
{
    make_core_observed(1024, 0, 1);
    dtx_command taker = order(2, DTX_SIDE_SELL, USD(50000));
    taker.account = 8;
    push(order(1, DTX_SIDE_BUY, USD(50000)));
    push(taker);
    cr_assert_eq(dtx_core_poll(core), 2);
    /* order 1: NEW (flag ADDED: it rests); order 2: NEW, then a FILL per
     * side (maker first) */
    cr_assert_eq(obs.n, 4);
    cr_assert_eq(obs.types[0], DTX_EV_NEW);
    cr_assert_eq(obs.clordid[0], 1);
    cr_assert_eq(obs.ring_count_at_call[0], 0, "seen before it was pushed");
    cr_assert_eq(obs.types[1], DTX_EV_NEW);
    cr_assert_eq(obs.clordid[1], 2);
    cr_assert_eq(obs.ring_count_at_call[1], 1, "order 1's one event only");
    cr_assert_eq(obs.types[2], DTX_EV_FILL);
    cr_assert_eq(obs.clordid[2], 1);
    cr_assert_eq(obs.types[3], DTX_EV_FILL);
    cr_assert_eq(obs.clordid[3], 2);
    cr_assert_eq(dtx_ring_count(evs), 4);
    for (size_t i = 0; i < 4; i++) {
        dtx_event e = pop_event();
        cr_assert_eq(e.type, obs.types[i], "event %zu", i);
        if (i < 2) /* order 1 rested at once, order 2 traded */
            cr_assert_eq(e.flags, i == 0 ? DTX_EVF_ADDED : 0, "event %zu", i);
    }
}
