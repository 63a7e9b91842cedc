/*
 * core_burst.c - the core's bursts (engine/core.c, dtx_core_poll): a burst is
 * stamped first (seq +1 per command, the burst's ts), each run of engine
 * commands goes through the engine's prefetching burst path with the risk's
 * prefetch, and each admin command is carried out alone where it stands.
 * None of that may change what happens: fed the same stream in bursts (up to
 * 100 commands pushed at once, admin commands in the middle of them) and one
 * command per poll (the per-command reference), two cores give the same
 * events byte for byte (seq, ts and fees included), the same books and the
 * same risk state, and their gates accept and reject the same orders. An
 * exact burst shows that an order after a kill switch or a limit change in
 * the same burst meets the new state.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/admin.h"
#include "dtx/core.h"
#include "dtx/risk.h"
#include "support/core_fixture.h"
#include "support/evfmt.h"

#define USD(x) ((int64_t)(x) * 1000000000LL) /* PRICE9 */
#define MONEY(usd) ((int64_t)(usd) * DTX_RISK_MONEY_ONE)
#define T0 CFX_T0
#define N_ACC 8 /* trading accounts 1..8 */
#define ADMIN_SESSION 5
#define CMD_RING 256
#define EV_RING 65536


/* One core with its risk, rings and the events it has pushed so far. */
typedef struct core_side {
    dtx_core *core;
    dtx_risk *risk;
    dtx_ring *cmds, *evs;
    dtx_event *ev;
    size_t n, cap;
} core_side;

static core_side A, B; /* A: bursts; B: one command per poll */

static void side_create(core_side *s)
{
    cfx_opts o = {.command_ring = CMD_RING, .event_ring = EV_RING, .clock = cfx_clock,
                  .prefetch = DTX_PREFETCH_ALWAYS}; /* the books are small: force every stage */
    memset(s, 0, sizeof *s);
    s->core = cfx_core_create(&o, &s->risk, &s->cmds, &s->evs);
    s->cap = 1u << 16;
    s->ev = malloc(s->cap * sizeof *s->ev);
    cr_assert_not_null(s->ev);
}

static void side_destroy(core_side *s)
{
    dtx_core_destroy(s->core);
    dtx_risk_destroy(s->risk);
    dtx_ring_destroy(s->cmds);
    dtx_ring_destroy(s->evs);
    free(s->ev);
}

static void setup(void)
{
    cfx_now = T0;
    side_create(&A);
    side_create(&B);
}

static void teardown(void)
{
    side_destroy(&A);
    side_destroy(&B);
}

TestSuite(core_burst, .init = setup, .fini = teardown);

static void drain(core_side *s)
{
    dtx_event e;
    while (dtx_ring_pop(s->evs, &e, 1) == 1) {
        if (s->n == s->cap) {
            s->cap *= 2;
            s->ev = realloc(s->ev, s->cap * sizeof *s->ev);
            cr_assert_not_null(s->ev);
        }
        s->ev[s->n++] = e;
    }
}

/* All n commands pushed, then polled until the ring is empty (a poll takes
 * at most 64: more than that is two bursts, both read the same clock). */
static void feed_burst(core_side *s, const dtx_command *c, size_t n)
{
    cr_assert_leq(n, CMD_RING);
    cr_assert_eq(dtx_ring_push(s->cmds, c, n), n);
    while (dtx_ring_count(s->cmds) > 0)
        cr_assert_gt(dtx_core_poll(s->core), 0);
    drain(s);
}

/* The reference: one command per poll. */
static void feed_each(core_side *s, const dtx_command *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(dtx_ring_push(s->cmds, &c[i], 1), 1);
        cr_assert_eq(dtx_core_poll(s->core), 1);
        drain(s);
    }
}

static void feed_both(const dtx_command *c, size_t n)
{
    feed_burst(&A, c, n);
    feed_each(&B, c, n);
}

/* Same events byte for byte, same books, same risk state. */
static void assert_same(void)
{
    char x[512], y[512];
    cr_assert_eq(A.n, B.n, "events: %zu in bursts, %zu one by one", A.n, B.n);
    for (size_t i = 0; i < A.n; i++)
        if (memcmp(&A.ev[i], &B.ev[i], sizeof A.ev[i]) != 0) {
            evfmt_event(&A.ev[i], x, sizeof x);
            evfmt_event(&B.ev[i], y, sizeof y);
            cr_assert_fail("event %zu differs:\n  bursts:     %s\n  one by one: %s", i, x, y);
        }
    cr_assert_eq(dtx_engine_digest(dtx_core_engine(A.core)), dtx_engine_digest(dtx_core_engine(B.core)));
    for (uint32_t a = 0; a <= N_ACC; a++) {
        dtx_risk_account_view u, v;
        cr_assert_eq(dtx_risk_account(A.risk, a, &u), DTX_OK);
        cr_assert_eq(dtx_risk_account(B.risk, a, &v), DTX_OK);
        cr_assert_eq(u.collateral, v.collateral, "account %u", a);
        cr_assert_eq(u.equity, v.equity, "account %u", a);
        cr_assert_eq(u.initial_margin, v.initial_margin, "account %u", a);
        cr_assert_eq(u.order_margin, v.order_margin, "account %u", a);
        cr_assert_eq(u.open_orders, v.open_orders, "account %u", a);
        cr_assert_eq(u.enabled, v.enabled, "account %u", a);
    }
    dtx_risk_totals s, t;
    dtx_risk_get_totals(A.risk, &s);
    dtx_risk_get_totals(B.risk, &t);
    cr_assert_eq(s.fee_balance, t.fee_balance);
    cr_assert_eq(s.fills, t.fills);
    cr_assert_eq(dtx_risk_check(A.risk), DTX_OK, "%s", dtx_error_message());
    dtx_core_stats p, q;
    dtx_core_stats_get(A.core, &p);
    dtx_core_stats_get(B.core, &q);
    cr_assert_eq(p.commands, q.commands);
    cr_assert_eq(p.last_seq, q.last_seq);
    cr_assert_eq(p.events, q.events);
}

static dtx_command admin(uint16_t type, uint64_t request, uint32_t target)
{
    dtx_command c = dtx_command_blank(type);
    c.session = ADMIN_SESSION;
    c.clordid = request;
    c.target_account = target;
    c.seq = 777; /* whatever the gateway leaves there is overwritten */
    c.ts = 777;
    return c;
}

static dtx_command limit_order(uint32_t account, uint64_t clordid, uint32_t sec, uint8_t side,
                               int64_t price, int64_t qty)
{
    dtx_command c = cfx_limit_order(account, clordid, sec, side, price, qty);
    c.seq = 777; /* whatever the gateway leaves there is overwritten */
    c.ts = 777;
    return c;
}

Test(core_burst, an_order_after_a_kill_switch_or_a_limit_change_in_the_same_burst_meets_the_new_state)
{
    dtx_command dep[2] = {admin(DTX_CMD_DEPOSIT, 1, 1), admin(DTX_CMD_DEPOSIT, 2, 2)};
    dep[0].value = dep[1].value = MONEY(100000);
    feed_both(dep, 2);
    size_t first = A.n;
    cfx_now = T0 + 5000;
    dtx_command b[8];
    b[0] = limit_order(1, 11, 1, DTX_SIDE_BUY, USD(50000), 1);
    b[1] = limit_order(1, 12, 1, DTX_SIDE_BUY, USD(49999), 1);
    b[2] = admin(DTX_CMD_KILL_SWITCH, 3, 1);
    b[2].status = 1;
    b[3] = limit_order(1, 13, 1, DTX_SIDE_BUY, USD(49998), 1);
    b[4] = limit_order(2, 21, 1, DTX_SIDE_SELL, USD(50000), 1);
    b[5] = admin(DTX_CMD_RISK_SET, 4, 2);
    b[5].param = DTX_RISK_PARAM_MAX_ORDER_QTY;
    b[5].security_id = 1;
    b[5].value = 2;
    b[6] = limit_order(2, 22, 1, DTX_SIDE_SELL, USD(50001), 3);
    b[7] = limit_order(2, 23, 1, DTX_SIDE_SELL, USD(50001), 2);
    feed_both(b, 8);
    assert_same();

    /* seq: 1, 2 the deposits; 3..10 this burst, every event at the burst's ts;
     * an order that rests at once is one NEW with flag ADDED (no ADDED event) */
    static const struct {
        uint8_t type;
        uint64_t seq, clordid;
        uint16_t reason; /* reject or cancel reason */
        int64_t shown;   /* NEW (flag ADDED): the displayed quantity */
    } want[] = {
        {DTX_EV_NEW, 3, 11, 0, 1},
        {DTX_EV_NEW, 4, 12, 0, 1},
        {DTX_EV_CANCELED, 5, 11, DTX_CANCEL_RISK, 0},
        {DTX_EV_CANCELED, 5, 12, DTX_CANCEL_RISK, 0},
        {DTX_EV_ADMIN_ACK, 5, 3, 0, 0},
        {DTX_EV_REJECT, 6, 13, DTX_REJ_ACCOUNT_DISABLED, 0},
        {DTX_EV_NEW, 7, 21, 0, 1}, /* account 1's bid is gone: it rests */
        {DTX_EV_ADMIN_ACK, 8, 4, 0, 0},
        {DTX_EV_REJECT, 9, 22, DTX_REJ_MAX_ORDER_QTY, 0},
        {DTX_EV_NEW, 10, 23, 0, 2},
    };
    size_t n = sizeof want / sizeof want[0];
    cr_assert_eq(A.n - first, n, "%zu events", A.n - first);
    for (size_t i = 0; i < n; i++) {
        const dtx_event *e = &A.ev[first + i];
        char line[512];
        evfmt_event(e, line, sizeof line);
        cr_assert_eq(e->type, want[i].type, "event %zu: %s", i, line);
        cr_assert_eq(e->seq, want[i].seq, "event %zu: %s", i, line);
        cr_assert_eq(e->ts, T0 + 5000, "event %zu: %s", i, line);
        cr_assert_eq(e->clordid, want[i].clordid, "event %zu: %s", i, line);
        if (e->type == DTX_EV_REJECT)
            cr_assert_eq(e->reject_reason, want[i].reason, "event %zu: %s", i, line);
        if (e->type == DTX_EV_CANCELED)
            cr_assert_eq(e->cancel_reason, want[i].reason, "event %zu: %s", i, line);
        if (e->type == DTX_EV_NEW) {
            cr_assert_eq(e->flags, DTX_EVF_ADDED, "event %zu: %s", i, line);
            cr_assert_eq(e->last_qty, want[i].shown, "event %zu: %s", i, line);
        }
    }
    cr_assert_eq(dtx_admin_ev_get(&A.ev[first + 4], 4), 2, "the kill switch canceled 2 orders");
    dtx_core_stats st;
    dtx_core_stats_get(A.core, &st);
    cr_assert_eq(st.last_seq, 10);
    cr_assert_eq(st.commands, 10);
}

/* ---- a seeded stream of orders, cancels, replaces and admin commands ----------------- */

static uint64_t rng;
static uint64_t below(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
}

typedef struct tally {
    size_t admin_mid_burst; /* admin commands with engine commands before and after in their poll */
    size_t accepted, gate_rejects, risk_cancels, fills;
} tally;

static uint64_t cl[N_ACC + 1], request;

static dtx_command next_command(void)
{
    uint32_t a = 1 + (uint32_t)below(N_ACC);
    uint32_t sec = 1 + (uint32_t)below(2);
    uint8_t side = below(2) ? DTX_SIDE_BUY : DTX_SIDE_SELL;
    int64_t off = (int64_t)below(16) - 4; /* a few cross */
    int64_t tick = sec == 1 ? USD(1) / 2 : USD(1) / 20, mid = sec == 1 ? USD(50000) : USD(3000);
    int64_t px = side == DTX_SIDE_BUY ? mid - off * tick : mid + off * tick;
    unsigned k = (unsigned)below(100);
    dtx_command c;
    if (k < 50) {
        c = limit_order(a, ++cl[a], sec, side, px, 1 + (int64_t)below(5));
        if (below(10) == 0)
            c.tif = DTX_TIF_IOC;
    } else if (k < 62) {
        c = limit_order(a, ++cl[a], 0, 0, DTX_PRICE_NULL, 0);
        c.type = DTX_CMD_CANCEL;
        c.ord_type = 0;
        c.tif = 0;
        c.orig_clordid = cl[a] - 1 - below(4);
    } else if (k < 76) {
        c = limit_order(a, ++cl[a], 0, 0, below(2) ? px : DTX_PRICE_NULL, 1 + (int64_t)below(6));
        c.type = DTX_CMD_REPLACE;
        c.ord_type = 0;
        c.tif = 0;
        c.orig_clordid = cl[a] - 1 - below(4);
    } else if (k < 78) {
        c = limit_order(a, ++cl[a], below(2) ? sec : 0, 0, DTX_PRICE_NULL, 0);
        c.type = DTX_CMD_MASS_CANCEL;
        c.ord_type = 0;
        c.tif = 0;
    } else if (k < 82) {
        c = admin(DTX_CMD_KILL_SWITCH, ++request, a);
        c.status = below(3) == 0; /* on a third of the time */
    } else if (k < 85) {
        c = admin(DTX_CMD_RISK_SET, ++request, a);
        c.param = DTX_RISK_PARAM_MAX_ORDER_QTY;
        c.security_id = sec;
        c.value = below(2) ? 3 : 0; /* 0: no limit */
    } else if (k < 89) {
        c = admin(below(3) ? DTX_CMD_DEPOSIT : DTX_CMD_WITHDRAW, ++request, a);
        c.value = MONEY(20 + below(200));
    } else if (k < 91) {
        c = admin(DTX_CMD_ADMIN_STATUS, ++request, UINT32_MAX);
        c.security_id = sec;
        c.status = below(3) ? DTX_TRADING_OPEN : DTX_TRADING_HALTED;
    } else if (k < 93) {
        c = admin(DTX_CMD_MARK_PRICE, ++request, UINT32_MAX);
        c.security_id = sec;
        c.price = mid + ((int64_t)below(11) - 5) * tick;
    } else if (k < 95) {
        c = admin(below(2) ? DTX_CMD_ACCOUNT_QUERY : DTX_CMD_LIMIT_QUERY, ++request, a);
        c.security_id = below(2) ? sec : 0;
    } else {
        c = limit_order(a, ++cl[a], sec, side, px + tick * 40, 1); /* rests far away */
    }
    return c;
}

static int is_admin(uint16_t t) { return t >= DTX_CMD_RISK_SET && t <= DTX_CMD_LIMIT_QUERY; }

static void run_stream(uint64_t seed, size_t n_bursts, tally *t)
{
    rng = seed * 0x9E3779B97F4A7C15ull | 1;
    memset(cl, 0, sizeof cl);
    request = 1000;
    dtx_command dep[N_ACC];
    for (uint32_t a = 1; a <= N_ACC; a++) {
        dep[a - 1] = admin(DTX_CMD_DEPOSIT, a, a);
        dep[a - 1].value = MONEY(50 + 100 * a); /* some accounts run short of margin */
    }
    feed_both(dep, N_ACC);
    dtx_command b[100];
    for (size_t k = 0; k < n_bursts; k++) {
        size_t n = 1 + (size_t)below(100);
        cfx_now += below(3) ? below(1000000) : 0; /* sometimes the same ts as the last burst */
        size_t from = A.n;
        for (size_t i = 0; i < n; i++)
            b[i] = next_command();
        for (size_t i = 1; i + 1 < n; i++) /* within the same poll of A (64 at a time) */
            if (is_admin(b[i].type) && !is_admin(b[i - 1].type) && !is_admin(b[i + 1].type) &&
                (i - 1) / 64 == (i + 1) / 64)
                t->admin_mid_burst++;
        feed_both(b, n);
        for (size_t i = from; i < A.n; i++) {
            const dtx_event *e = &A.ev[i];
            t->accepted += e->type == DTX_EV_NEW;
            t->fills += e->type == DTX_EV_FILL;
            t->risk_cancels += e->type == DTX_EV_CANCELED && e->cancel_reason == DTX_CANCEL_RISK;
            t->gate_rejects += e->type == DTX_EV_REJECT &&
                               (e->reject_reason == DTX_REJ_ACCOUNT_DISABLED ||
                                e->reject_reason == DTX_REJ_INSUFFICIENT_MARGIN ||
                                e->reject_reason == DTX_REJ_MAX_ORDER_QTY);
            if (i > from)
                cr_assert_geq(e->seq, A.ev[i - 1].seq, "events leave in command order");
            cr_assert_eq(e->ts, cfx_now);
        }
        assert_same();
    }
}

Test(core_burst, bursts_with_admin_commands_in_the_middle_give_the_events_of_one_command_per_poll)
{
    const char *env = getenv("DTX_TEST_SEED"); /* reproduce: DTX_TEST_SEED=<seed> */
    uint64_t seed = env ? strtoull(env, NULL, 10) : 20261201;
    printf("core_burst: seed %" PRIu64 "\n", seed);
    tally t = {0};
    run_stream(seed, 400, &t);
    printf("core_burst: %zu events, %zu accepted, %zu fills, %zu gate rejects, %zu risk cancels, "
           "%zu admin commands mid-burst\n",
           A.n, t.accepted, t.fills, t.gate_rejects, t.risk_cancels, t.admin_mid_burst);
    /* the stream exercised what it is about */
    cr_assert_gt(t.admin_mid_burst, 100);
    cr_assert_gt(t.accepted, 1000);
    cr_assert_gt(t.fills, 100);
    cr_assert_gt(t.gate_rejects, 100);
    cr_assert_gt(t.risk_cancels, 10);
    /* seq +1 per command: the last seq is the number of commands */
    dtx_core_stats st;
    dtx_core_stats_get(A.core, &st);
    cr_assert_eq(st.last_seq, st.commands);
}
