/*
 * fuzz_risk.c - libFuzzer target for the risk gate and accounting
 * (dtx/risk.h) in front of a real engine.
 *
 * The input bytes steer a generator of mostly valid commands over the default
 * instruments (BTC-PERP, ETH-PERP, BTC-27MAR27) with their default risk
 * parameters: limit, IOC, FOK, post-only, reduce-only, market, stop and
 * stop-limit orders near a mid price, cancels and replaces of recent orders,
 * mass cancels, kill switches, and between them risk-side inputs: marks
 * (anywhere, including far from the book), deposits, withdrawals and
 * parameter changes (margin rates, band, leverage, fees, limits). Five
 * accounts with collateral from nothing to plenty, so every reject occurs.
 *
 * Checked after every command and every risk input:
 *   - dtx_risk_check(): conservation (collateral - entry cost + fees =
 *     deposits - withdrawals), positions summing to zero per instrument, open
 *     totals equal to the tracked orders, cached margin equal to a fresh
 *     computation;
 *   - the risk's open orders equal the engine's working orders;
 *   - no event was skipped (every event's order and account were known);
 *   - an account refused by the gate (disabled) never gets a NEW.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/engine.h"
#include "dtx/risk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=8"; }

#define MAX_CMDS 1024
#define N_ACCOUNTS 5
#define RING 32
#define T0 1767571200000000000ull

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static unsigned take(input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}
static unsigned take16(input *in) { return take(in) | take(in) << 8; }

typedef struct state {
    dtx_engine *e;
    dtx_risk *r;
    const dtx_instrument_config *inst;
    uint32_t n_inst;
    uint64_t seq, ts, cl[N_ACCOUNTS];
    uint64_t ring_cl[RING];
    uint32_t ring_acct[RING];
    unsigned ring_n;
    uint8_t disabled[N_ACCOUNTS];
    int failed;
} state;

static void fail(state *s, const char *what)
{
    fprintf(stderr, "fuzz_risk: %s (seq %llu): %s\n", what, (unsigned long long)s->seq, dtx_error_message());
    abort();
}

static void sink(void *ctx, const dtx_event *ev, size_t n)
{
    state *s = ctx;
    dtx_risk_on_events(s->r, ev, n);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].type == DTX_EV_NEW && ev[i].account < N_ACCOUNTS) {
            if (s->disabled[ev[i].account])
                fail(s, "a disabled account got an order through");
            s->ring_cl[s->ring_n % RING] = ev[i].clordid;
            s->ring_acct[s->ring_n % RING] = ev[i].account;
            s->ring_n++;
        }
    }
}

static void check(state *s)
{
    if (dtx_risk_check(s->r) != DTX_OK)
        fail(s, "dtx_risk_check");
    dtx_engine_stats st;
    dtx_engine_get_stats(s->e, &st);
    uint32_t open = 0;
    for (uint32_t a = 0; a < N_ACCOUNTS; a++) {
        dtx_risk_account_view v;
        if (dtx_risk_account(s->r, a, &v) != DTX_OK)
            fail(s, "account view");
        open += v.open_orders;
    }
    if (open != st.working_orders)
        fail(s, "risk open orders differ from the engine's working orders");
    dtx_risk_totals t;
    dtx_risk_get_totals(s->r, &t);
    if (t.skipped)
        fail(s, "events skipped");
}

static int64_t price_near(const dtx_instrument_config *ic, int64_t mid, int off)
{
    int64_t p = mid + (int64_t)off * ic->tick_size;
    if (p < ic->min_price)
        p = ic->min_price;
    if (p > ic->max_price)
        p = ic->max_price;
    return p;
}

static void submit(state *s, dtx_command *c)
{
    c->seq = ++s->seq;
    c->ts = (s->ts += 1000);
    dtx_engine_submit(s->e, c);
}

static void step(state *s, input *in)
{
    unsigned sel = take(in);
    uint32_t a = take(in) % N_ACCOUNTS;
    const dtx_instrument_config *ic = &s->inst[take(in) % s->n_inst];
    int64_t mid = dtx_engine_last_price(s->e, ic->security_id);
    if (mid == DTX_PRICE_NULL)
        mid = (ic->min_price / ic->tick_size + (ic->max_price - ic->min_price) / ic->tick_size / 4) * ic->tick_size;
    int off = (int)(take(in) % 41) - 20;
    int64_t qty = 1 + take(in) % 50;
    uint8_t side = (uint8_t)(1 + (sel & 1));
    dtx_command c = dtx_command_blank(DTX_CMD_NEW_ORDER);
    c.account = a;
    c.session = 1;
    c.security_id = ic->security_id;
    c.side = side;
    c.qty = qty;
    c.clordid = ++s->cl[a];
    switch ((sel >> 1) % 16) {
    case 0: case 1: case 2: case 3: /* limit GTC, sometimes post-only or reduce-only */
        c.ord_type = DTX_ORD_LIMIT;
        c.tif = DTX_TIF_GTC;
        c.price = price_near(ic, mid, off);
        c.exec_inst = (uint8_t)((sel >> 5) == 1 ? DTX_EXEC_POST_ONLY : (sel >> 5) == 2 ? DTX_EXEC_REDUCE_ONLY : 0);
        submit(s, &c);
        break;
    case 4: /* IOC or FOK */
        c.ord_type = DTX_ORD_LIMIT;
        c.tif = sel & 32 ? DTX_TIF_FOK : DTX_TIF_IOC;
        c.price = price_near(ic, mid, off);
        submit(s, &c);
        break;
    case 5: /* market */
        c.ord_type = DTX_ORD_MARKET;
        c.tif = DTX_TIF_IOC;
        submit(s, &c);
        break;
    case 6: /* stop / stop-limit */
        c.ord_type = sel & 32 ? DTX_ORD_STOP_LIMIT : DTX_ORD_STOP;
        c.tif = DTX_TIF_GTC;
        c.stop_px = price_near(ic, mid, off);
        if (c.ord_type == DTX_ORD_STOP_LIMIT)
            c.price = price_near(ic, mid, off + (int)(take(in) % 5) - 2);
        submit(s, &c);
        break;
    case 7: case 8: /* cancel or replace of a recent order */
        if (s->ring_n) {
            unsigned k = (s->ring_n - 1 - take(in) % (s->ring_n < RING ? s->ring_n : RING)) % RING;
            c = dtx_command_blank((sel >> 1) % 16 == 7 ? DTX_CMD_CANCEL : DTX_CMD_REPLACE);
            c.account = s->ring_acct[k];
            c.session = 1;
            c.orig_clordid = s->ring_cl[k];
            c.clordid = ++s->cl[c.account];
            if (c.type == DTX_CMD_REPLACE) {
                c.qty = qty;
                if (sel & 32)
                    c.price = price_near(ic, mid, off);
            }
            submit(s, &c);
        }
        break;
    case 9: { /* mark price, near or far */
        int64_t m = price_near(ic, mid, (sel & 32) ? off * 50 : off);
        if (dtx_risk_set_mark(s->r, ic->security_id, m) != DTX_OK)
            fail(s, "set mark");
        break;
    }
    case 10: /* deposit or withdrawal */
        if (sel & 32) {
            if (dtx_risk_deposit(s->r, a, (int64_t)take16(in) * DTX_RISK_MONEY_ONE + 1) != DTX_OK)
                fail(s, "deposit");
        } else {
            uint16_t rr = dtx_risk_withdraw(s->r, a, (int64_t)take16(in) * DTX_RISK_MONEY_ONE + 1);
            if (rr != DTX_REJ_NONE && rr != DTX_REJ_INSUFFICIENT_MARGIN)
                fail(s, "withdraw");
        }
        break;
    case 11: { /* a parameter change (refusals are fine) */
        static const uint16_t params[] = {
            DTX_RISK_PARAM_INITIAL_MARGIN, DTX_RISK_PARAM_MAINT_MARGIN,   DTX_RISK_PARAM_PRICE_BAND,
            DTX_RISK_PARAM_MAX_LEVERAGE,   DTX_RISK_PARAM_MAKER_FEE,      DTX_RISK_PARAM_TAKER_FEE,
            DTX_RISK_PARAM_MAX_ORDER_QTY,  DTX_RISK_PARAM_MAX_POSITION,   DTX_RISK_PARAM_MAX_NOTIONAL,
            DTX_RISK_PARAM_MAX_OPEN_ORDERS, DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE};
        dtx_risk_change ch = {.param = params[take(in) % 11],
                              .account = (sel & 32) ? DTX_RISK_DEFAULT_ACCOUNT : a,
                              .security_id = ic->security_id,
                              .new_value = (int64_t)take16(in) * (take(in) % 4 == 0 ? 1 : 100000)};
        (void)dtx_risk_apply(s->r, &ch);
        break;
    }
    case 12: { /* kill switch: disable + mass cancel, or enable */
        dtx_risk_change ch = {.param = DTX_RISK_PARAM_ACCOUNT_ENABLED, .account = a, .new_value = (sel & 32) ? 1 : 0};
        if (dtx_risk_apply(s->r, &ch) != DTX_OK)
            fail(s, "kill switch");
        s->disabled[a] = (uint8_t)!ch.new_value;
        if (!ch.new_value) {
            c = dtx_risk_kill_command(a, ++s->cl[a], 0, 0);
            submit(s, &c);
        }
        break;
    }
    case 13: /* mass cancel of one instrument */
        c = dtx_command_blank(DTX_CMD_MASS_CANCEL);
        c.account = a;
        c.session = 1;
        c.clordid = ++s->cl[a];
        c.security_id = ic->security_id;
        submit(s, &c);
        break;
    default: /* a crossing limit order: trades */
        c.ord_type = DTX_ORD_LIMIT;
        c.tif = DTX_TIF_GTC;
        c.price = price_near(ic, mid, side == DTX_SIDE_BUY ? 10 : -10);
        submit(s, &c);
        break;
    }
    check(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    state s;
    memset(&s, 0, sizeof s);
    s.ts = T0;
    s.inst = dtx_default_instruments(&s.n_inst);
    uint32_t nr;
    const dtx_risk_instrument_config *ri = dtx_risk_default_instruments(&nr);
    dtx_engine_config ec = {.instruments = s.inst,
                            .n_instruments = s.n_inst,
                            .max_orders = 64,
                            .max_timed = 16,
                            .max_stops = 8,
                            .sink = sink,
                            .sink_ctx = &s};
    dtx_risk_config rc = {.instruments = ri, .n_instruments = nr, .n_accounts = N_ACCOUNTS, .max_orders = 64};
    s.e = dtx_engine_create(&ec);
    s.r = dtx_risk_create(&rc);
    if (!s.e || !s.r)
        abort();
    dtx_engine_set_gate(s.e, dtx_risk_gate, s.r);
    input in = {data, size};
    for (uint32_t a = 0; a < N_ACCOUNTS; a++) {
        unsigned k = take(&in);
        if (k)
            dtx_risk_deposit(s.r, a, (int64_t)k * k * 1000 * DTX_RISK_MONEY_ONE);
    }
    if (take(&in) & 1)
        for (uint32_t i = 0; i < s.n_inst; i++)
            dtx_risk_set_mark(s.r, s.inst[i].security_id,
                              (s.inst[i].min_price / s.inst[i].tick_size +
                               (s.inst[i].max_price - s.inst[i].min_price) / s.inst[i].tick_size / 4) *
                                  s.inst[i].tick_size);
    for (int n = 0; n < MAX_CMDS && in.n; n++)
        step(&s, &in);
    if (getenv("FUZZ_RISK_VERBOSE")) {
        dtx_risk_totals t;
        dtx_risk_get_totals(s.r, &t);
        fprintf(stderr, "fuzz_risk: %llu commands, %llu fills, fees %lld, net deposits %lld\n",
                (unsigned long long)s.seq, (unsigned long long)t.fills, (long long)t.fee_balance,
                (long long)t.net_deposits);
    }
    dtx_engine_destroy(s.e);
    dtx_risk_destroy(s.r);
    return 0;
}
