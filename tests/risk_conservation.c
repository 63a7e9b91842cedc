/*
 * risk_conservation.c - the accounting's invariants over seeded random streams
 * through a real engine with the gate installed (docs/risk.md,
 * "Conservation"). After every command:
 *   - sum(collateral) - sum(entry cost) + fee balance = deposits - withdrawals;
 *   - positions of each instrument sum to zero;
 *   - per-account open-order totals equal those of the tracked orders, and the
 *     cached margin sums equal their parts (dtx_risk_check);
 *   - the risk's open orders are exactly the engine's working orders, and its
 *     open quantities and notionals per account, instrument and side those of
 *     the engine's orders (dtx_engine_find_order).
 * The stream mixes limit (GTC, IOC, FOK, Day, post-only, reduce-only), market,
 * stop and stop-limit orders, cancels, replaces, mass cancels, time, marks,
 * deposits, withdrawals and parameter changes, from accounts with small and
 * large collateral so that every gate reject occurs. Each run prints its seed;
 * RISK_SEED=<n> reruns one.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/risk_fixture.h"

#define N_ACCOUNTS 8u
#define N_REMEMBER 4096u

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static int64_t rnd_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

typedef struct remembered {
    uint32_t account;
    uint64_t clordid;
} remembered;

#define N_LIVE 8192u

typedef struct stream {
    rfx x;
    uint64_t live[N_LIVE]; /* OrderIDs of NEW events, dropped once gone */
    uint32_t n_live;
    remembered mem[N_REMEMBER];
    uint32_t n_mem;
    uint64_t next_cl[N_ACCOUNTS];
    int64_t mark[3];
    uint64_t rejects[DTX_REJ_MAX + 1];
} stream;

static const uint32_t secs[3] = {FX_SEC, FX_SEC_LOT, FX_SEC_B};

static void after_command(stream *s, uint64_t seed, uint64_t i)
{
    cr_assert_eq(dtx_risk_check(s->x.r), DTX_OK, "seed %" PRIu64 " command %" PRIu64 ": %s\n%s", seed, i,
                 dtx_error_message(), fx_dump(&s->x.f));
    dtx_engine_stats st;
    dtx_engine_get_stats(s->x.f.e, &st);
    uint32_t open = 0;
    for (uint32_t a = 0; a < RFX_ACCOUNTS; a++)
        open += rfx_account(&s->x, a).open_orders;
    cr_assert_eq(open, st.working_orders, "seed %" PRIu64 " command %" PRIu64 ": risk %u orders, engine %u", seed,
                 i, open, st.working_orders);
    for (size_t k = s->x.f.first; k < s->x.f.n; k++) {
        const dtx_event *ev = &s->x.f.ev[k];
        if (ev->type == DTX_EV_NEW && s->n_live < N_LIVE)
            s->live[s->n_live++] = ev->order_id;
        if (ev->type == DTX_EV_REJECT || ev->type == DTX_EV_CANCEL_REJECT)
            s->rejects[ev->reject_reason <= DTX_REJ_MAX ? ev->reject_reason : 0]++;
        if (ev->type == DTX_EV_NEW && s->n_mem < N_REMEMBER)
            s->mem[s->n_mem++] = (remembered){ev->account, ev->clordid};
        else if (ev->type == DTX_EV_NEW)
            s->mem[rnd() % N_REMEMBER] = (remembered){ev->account, ev->clordid};
        if (ev->type == DTX_EV_REPLACED && s->n_mem)
            s->mem[rnd() % s->n_mem] = (remembered){ev->account, ev->clordid};
    }
}

/* The open totals the risk shows equal those of the engine's working orders. */
static void compare_open_totals(stream *s, uint64_t seed, uint64_t i)
{
    static int64_t qty[RFX_ACCOUNTS][3][2], notional[RFX_ACCOUNTS][3][2];
    memset(qty, 0, sizeof qty);
    memset(notional, 0, sizeof notional);
    uint32_t kept = 0;
    for (uint32_t j = 0; j < s->n_live; j++) {
        dtx_order_view o;
        if (!dtx_engine_find_order(s->x.f.e, s->live[j], &o))
            continue;
        s->live[kept++] = s->live[j];
        int k = o.security_id == FX_SEC ? 0 : o.security_id == FX_SEC_LOT ? 1 : 2;
        int sd = o.side == FX_BUY ? 0 : 1;
        qty[o.account][k][sd] += o.leaves_qty;
        if (o.price != DTX_PRICE_NULL)
            notional[o.account][k][sd] += o.leaves_qty * (o.price / FX_TICK);
    }
    s->n_live = kept;
    for (uint32_t a = 0; a < N_ACCOUNTS; a++)
        for (int k = 0; k < 3; k++) {
            dtx_risk_position_view p = rfx_position(&s->x, a, secs[k]);
            cr_assert(p.open_buy_qty == qty[a][k][0] && p.open_sell_qty == qty[a][k][1] &&
                          p.open_buy_notional == USD(notional[a][k][0]) &&
                          p.open_sell_notional == USD(notional[a][k][1]),
                      "seed %" PRIu64 " command %" PRIu64 ": account %u security %u: risk open %" PRId64 "/%" PRId64
                      " notional %" PRId64 "/%" PRId64 ", engine %" PRId64 "/%" PRId64 " notional %" PRId64 "/%" PRId64,
                      seed, i, a, secs[k], p.open_buy_qty, p.open_sell_qty, p.open_buy_notional,
                      p.open_sell_notional, qty[a][k][0], qty[a][k][1], USD(notional[a][k][0]),
                      USD(notional[a][k][1]));
        }
}

static dtx_command random_order(stream *s, uint32_t acct, int k)
{
    int64_t lot = secs[k] == FX_SEC_LOT ? 10 : 1;
    int64_t base = s->mark[k] ? s->mark[k] : 100;
    int64_t px = base + rnd_in(-8, 8);
    int64_t qty = rnd_in(1, 20) * lot;
    uint8_t side = rnd() & 1 ? FX_BUY : FX_SELL;
    uint64_t cl = ++s->next_cl[acct];
    dtx_command c;
    unsigned kind = (unsigned)(rnd() % 100);
    if (kind < 55)
        c = fx_limit(acct, cl, side, px, qty);
    else if (kind < 65)
        c = fx_ioc(acct, cl, side, px, qty);
    else if (kind < 70)
        c = fx_fok(acct, cl, side, px, qty);
    else if (kind < 77)
        c = fx_day(acct, cl, side, px, qty);
    else if (kind < 82)
        c = fx_post_only(acct, cl, side, px, qty);
    else if (kind < 88)
        c = fx_market(acct, cl, side, qty);
    else if (kind < 94)
        c = fx_stop(acct, cl, side, base + (side == FX_BUY ? rnd_in(0, 5) : -rnd_in(0, 5)), qty);
    else
        c = fx_stop_limit(acct, cl, side, base + (side == FX_BUY ? rnd_in(0, 5) : -rnd_in(0, 5)), px, qty);
    if (c.ord_type != DTX_ORD_MARKET && kind < 55 && rnd() % 8 == 0)
        c.exec_inst |= DTX_EXEC_REDUCE_ONLY;
    c.security_id = secs[k];
    return c;
}

static void one_step(stream *s)
{
    uint32_t acct = (uint32_t)(rnd() % N_ACCOUNTS);
    int k = (int)(rnd() % 3);
    unsigned op = (unsigned)(rnd() % 100);
    if (op < 55) {
        fx_send(&s->x.f, random_order(s, acct, k));
    } else if (op < 70 && s->n_mem) {
        remembered m = s->mem[rnd() % s->n_mem];
        fx_send(&s->x.f, fx_cancel_clordid(m.account, ++s->next_cl[m.account], m.clordid));
    } else if (op < 85 && s->n_mem) {
        remembered m = s->mem[rnd() % s->n_mem];
        int64_t px = rnd() % 3 == 0 ? FX_KEEP : 100 + rnd_in(-8, 8);
        fx_send(&s->x.f, fx_replace_clordid(m.account, ++s->next_cl[m.account], m.clordid, px, rnd_in(1, 30)));
    } else if (op < 87) {
        fx_send(&s->x.f, fx_mass_cancel(acct, ++s->next_cl[acct], rnd() % 2 ? secs[k] : 0, 0));
    } else if (op < 89) {
        fx_time(&s->x.f, s->x.f.now + (rnd() % 4 == 0 ? FX_DAY_NS : 1000));
    } else if (op < 94) {
        int64_t m = (s->mark[k] ? s->mark[k] : 100) + rnd_in(-3, 3);
        if (m < 80)
            m = 80;
        if (m > 120)
            m = 120;
        s->mark[k] = m;
        rfx_set(&s->x, DTX_RISK_PARAM_MARK_PRICE, 0, secs[k], FX_PX(m));
    } else if (op < 96) {
        rfx_deposit(&s->x, acct, rnd_in(1, 500));
    } else if (op < 98) {
        uint16_t r = dtx_risk_withdraw(s->x.r, acct, USD(rnd_in(1, 800)));
        cr_assert(r == DTX_REJ_NONE || r == DTX_REJ_INSUFFICIENT_MARGIN);
        s->rejects[r]++;
    } else {
        static const uint16_t params[] = {DTX_RISK_PARAM_MAX_LEVERAGE, DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE,
                                          DTX_RISK_PARAM_MAX_POSITION, DTX_RISK_PARAM_MAX_OPEN_ORDERS,
                                          DTX_RISK_PARAM_INITIAL_MARGIN};
        uint16_t p = params[rnd() % 5];
        int64_t v = p == DTX_RISK_PARAM_INITIAL_MARGIN ? RATE_PCT(rnd_in(6, 30))
                    : p == DTX_RISK_PARAM_MAX_POSITION ? rnd_in(0, 1) * rnd_in(20, 200)
                    : p == DTX_RISK_PARAM_MAX_OPEN_ORDERS ? rnd_in(0, 1) * rnd_in(3, 30)
                                                          : rnd_in(0, 1) * rnd_in(2, 20);
        dtx_risk_change ch = {.param = p, .account = rnd() % 2 ? acct : DTX_RISK_DEFAULT_ACCOUNT,
                              .security_id = secs[k], .new_value = v};
        cr_assert_eq(dtx_risk_apply(s->x.r, &ch), DTX_OK, "%s", dtx_error_message());
    }
}

static uint64_t run_stream(uint64_t seed, uint64_t n_commands)
{
    fprintf(stderr, "risk_conservation: seed %" PRIu64 " (RISK_SEED=%" PRIu64 " reruns it), %" PRIu64 " steps\n",
            seed, seed, n_commands);
    stream *s = calloc(1, sizeof *s);
    cr_assert(s);
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    rfx_init(&s->x, NULL, 0, NULL);
    for (uint32_t a = 0; a < N_ACCOUNTS; a++)
        rfx_deposit(&s->x, a, a < 2 ? rnd_in(100, 400) : rnd_in(2000, 20000));
    if (seed % 2) { /* half the streams start without marks: the reference is the last trade */
        for (int k = 0; k < 3; k++) {
            s->mark[k] = 100;
            rfx_set(&s->x, DTX_RISK_PARAM_MARK_PRICE, 0, secs[k], FX_PX(100));
        }
    }
    for (uint64_t i = 0; i < n_commands; i++) {
        size_t before = s->x.f.n;
        one_step(s);
        if (s->x.f.n == before) /* a risk-only step: no events */
            s->x.f.first = s->x.f.n;
        after_command(s, seed, i);
        compare_open_totals(s, seed, i);
    }
    dtx_risk_totals t;
    dtx_risk_get_totals(s->x.r, &t);
    fprintf(stderr,
            "risk_conservation: seed %" PRIu64 ": %" PRIu64 " fills, fees %" PRId64 ", rejects: margin %" PRIu64
            " position %" PRIu64 " reduce-only %" PRIu64 " open-orders %" PRIu64 " band %" PRIu64 "\n",
            seed, t.fills, t.fee_balance, s->rejects[DTX_REJ_INSUFFICIENT_MARGIN], s->rejects[DTX_REJ_POSITION_LIMIT],
            s->rejects[DTX_REJ_REDUCE_ONLY_WOULD_INCREASE], s->rejects[DTX_REJ_TOO_MANY_OPEN_ORDERS],
            s->rejects[DTX_REJ_PRICE_OUTSIDE_BAND]);
    cr_assert_gt(t.fills, 100, "seed %" PRIu64 ": the stream barely traded", seed);
    cr_assert_gt(s->rejects[DTX_REJ_INSUFFICIENT_MARGIN], 0, "seed %" PRIu64 ": no margin reject", seed);
    cr_assert_eq(t.skipped, 0, "seed %" PRIu64 ": events skipped", seed);
    uint64_t digest = dtx_risk_digest(s->x.r);
    rfx_fini(&s->x);
    free(s);
    return digest;
}

Test(risk_conservation, same_stream_gives_the_same_digest)
{
    uint64_t a = run_stream(7, 1500), b = run_stream(7, 1500), c = run_stream(8, 1500);
    cr_assert_eq(a, b, "seed 7 twice: %" PRIx64 " and %" PRIx64, a, b);
    cr_assert_neq(a, c);
}

Test(risk_conservation, holds_after_every_command_of_random_streams)
{
    const char *env = getenv("RISK_SEED");
    if (env) {
        run_stream(strtoull(env, NULL, 10), 20000);
        return;
    }
    for (uint64_t seed = 1; seed <= 4; seed++)
        run_stream(seed, 5000);
}
