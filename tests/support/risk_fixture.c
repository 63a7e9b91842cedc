/*
 * risk_fixture.c - engine + risk harness of the risk suites (see
 * risk_fixture.h): one engine whose events go both to the engine fixture's
 * recorder and to dtx_risk_on_events, with dtx_risk_gate installed.
 */
#include "support/risk_fixture.h"

#include <criterion/criterion.h>
#include <string.h>

const dtx_risk_instrument_config *rfx_instruments(uint32_t *n)
{
    static dtx_risk_instrument_config ins[3];
    const uint32_t ids[3] = {FX_SEC, FX_SEC_LOT, FX_SEC_B};
    for (int i = 0; i < 3; i++) {
        ins[i] = (dtx_risk_instrument_config){.security_id = ids[i],
                                              .contract_multiplier = FX_TICK,
                                              .initial_margin_rate = RFX_IM,
                                              .maint_margin_rate = RFX_MM,
                                              .price_band_rate = RFX_BAND,
                                              .maker_fee_rate = RFX_MAKER,
                                              .taker_fee_rate = RFX_TAKER};
    }
    *n = 3;
    return ins;
}

static void rfx_sink(void *ctx, const dtx_event *ev, size_t n)
{
    rfx *x = ctx;
    fx_sink(&x->f, ev, n);
    dtx_risk_on_events(x->r, ev, n);
}

void rfx_init(rfx *x, const dtx_risk_instrument_config *instruments, uint32_t n, const dtx_risk_limits *limits)
{
    memset(x, 0, sizeof *x);
    dtx_risk_config rc = {.n_accounts = RFX_ACCOUNTS, .max_orders = FX_DEFAULT_MAX_ORDERS};
    if (instruments) {
        rc.instruments = instruments;
        rc.n_instruments = n;
    } else {
        rc.instruments = rfx_instruments(&rc.n_instruments);
    }
    if (limits)
        rc.default_limits = *limits;
    dtx_error_clear();
    x->r = dtx_risk_create(&rc);
    cr_assert(x->r != NULL, "dtx_risk_create failed: %s", dtx_error_message());

    x->f.now = FX_T0;
    dtx_engine_config cfg = fx_config(&x->f, NULL);
    cfg.sink = rfx_sink;
    cfg.sink_ctx = x;
    x->f.e = dtx_engine_create(&cfg);
    cr_assert(x->f.e != NULL, "dtx_engine_create failed: %s", dtx_error_message());
    dtx_engine_set_gate(x->f.e, dtx_risk_gate, x->r);
}

void rfx_fini(rfx *x)
{
    fx_fini(&x->f);
    dtx_risk_destroy(x->r);
    x->r = NULL;
}

void rfx_deposit(rfx *x, uint32_t account, int64_t usd)
{
    cr_assert_eq(dtx_risk_deposit(x->r, account, USD(usd)), DTX_OK, "%s", dtx_error_message());
}

int64_t rfx_set(rfx *x, uint16_t param, uint32_t account, uint32_t security_id, int64_t value)
{
    dtx_risk_change ch = {.param = param, .account = account, .security_id = security_id, .new_value = value};
    cr_assert_eq(dtx_risk_apply(x->r, &ch), DTX_OK, "apply %u: %s", param, dtx_error_message());
    cr_assert_eq(ch.new_value, value);
    return ch.old_value;
}

dtx_risk_account_view rfx_account(rfx *x, uint32_t account)
{
    dtx_risk_account_view v;
    cr_assert_eq(dtx_risk_account(x->r, account, &v), DTX_OK);
    return v;
}

dtx_risk_position_view rfx_position(rfx *x, uint32_t account, uint32_t security_id)
{
    dtx_risk_position_view v;
    cr_assert_eq(dtx_risk_position(x->r, account, security_id, &v), DTX_OK);
    return v;
}

void rfx_check(const rfx *x)
{
    cr_assert_eq(dtx_risk_check(x->r), DTX_OK, "%s", dtx_error_message());
}

void rfx_trade(rfx *x, uint32_t maker, uint32_t taker, uint8_t taker_side, int64_t ticks, int64_t qty)
{
    static uint64_t cl = 900000;
    uint8_t maker_side = taker_side == FX_BUY ? FX_SELL : FX_BUY;
    fx_rest(&x->f, fx_limit(maker, ++cl, maker_side, ticks, qty));
    fx_send(&x->f, fx_limit(taker, ++cl, taker_side, ticks, qty));
    cr_assert_eq(fx_count_type(&x->f, DTX_EV_FILL), 2, "trade did not happen:\n%s", fx_dump(&x->f));
    rfx_check(x);
}
