/*
 * defaults.c - the embedded default instruments that dtx-replay, the engine
 * daemon and the demo setup use when no configuration file names others.
 * Prices are PRICE9 (1 USD = 1000000000).
 */
#include "dtx/engine.h"

#define USD(x) ((int64_t)(x) * 1000000000LL)

static const dtx_instrument_config default_instruments[] = {
    {
        .security_id = 1,
        .symbol = "BTC-PERP",
        .type = DTX_INSTR_PERPETUAL,
        .tick_size = USD(1) / 2,            /* 0.5 USD */
        .contract_multiplier = 1000000,     /* 0.001 BTC */
        .min_price = USD(1000),
        .max_price = USD(250000),
        .min_qty = 1,
        .max_qty = 1000000,
        .lot_size = 1,
        .market_band_ticks = 200,           /* 100 USD */
        .expiry = 0,
    },
    {
        .security_id = 2,
        .symbol = "ETH-PERP",
        .type = DTX_INSTR_PERPETUAL,
        .tick_size = USD(1) / 20,           /* 0.05 USD */
        .contract_multiplier = 10000000,    /* 0.01 ETH */
        .min_price = USD(100),
        .max_price = USD(20000),
        .min_qty = 1,
        .max_qty = 1000000,
        .lot_size = 1,
        .market_band_ticks = 200,           /* 10 USD */
        .expiry = 0,
    },
    {
        .security_id = 3,
        .symbol = "BTC-27MAR27",
        .type = DTX_INSTR_FUTURE,
        .tick_size = USD(1) / 2,
        .contract_multiplier = 1000000,
        .min_price = USD(1000),
        .max_price = USD(250000),
        .min_qty = 1,
        .max_qty = 1000000,
        .lot_size = 1,
        .market_band_ticks = 200,
        .expiry = 1806048000000000000ULL,   /* 2027-03-26 08:00 UTC */
    },
};

const dtx_instrument_config *dtx_default_instruments(uint32_t *n)
{
    *n = (uint32_t)(sizeof default_instruments / sizeof default_instruments[0]);
    return default_instruments;
}
