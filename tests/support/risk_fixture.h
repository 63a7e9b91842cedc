/*
 * risk_fixture.h - the harness of the risk suites (tests/risk_*.c): a real
 * dtx_engine over the engine fixture's test instruments, with a dtx_risk
 * installed as its gate and fed every event batch, so each test drives the
 * gate and the accounting exactly as the core will.
 *
 * The test instruments (engine_fixture.h) have tick 1.00 USD and multiplier
 * 1.0, so one contract at FX_PX(100) is 100 USD of notional. The risk
 * parameters of rfx_instruments() are round numbers for hand computation:
 * initial margin 10 %, maintenance 5 %, band 10 %, maker -0.01 % (rebate),
 * taker 0.05 %, no leverage cap, no limits. Money is in micro-units: USD(x).
 */
#ifndef DTX_TESTS_RISK_FIXTURE_H
#define DTX_TESTS_RISK_FIXTURE_H

#include "dtx/risk.h"
#include "support/engine_fixture.h"

#define USD(x) ((int64_t)(x) * DTX_RISK_MONEY_ONE)
#define RATE_PCT(x) ((int64_t)(x) * (DTX_RISK_RATE_ONE / 100))

#define RFX_IM RATE_PCT(10)
#define RFX_MM RATE_PCT(5)
#define RFX_BAND RATE_PCT(10)
#define RFX_MAKER (-(DTX_RISK_RATE_ONE / 10000))    /* -0.01 % */
#define RFX_TAKER (5 * (DTX_RISK_RATE_ONE / 10000)) /* 0.05 % */
#define RFX_ACCOUNTS 16u

typedef struct rfx {
    fx f;
    dtx_risk *r;
} rfx;

/* Risk parameters for FX_SEC, FX_SEC_LOT and FX_SEC_B (in that order). */
const dtx_risk_instrument_config *rfx_instruments(uint32_t *n);

/*
 * Creates the risk context (instruments NULL: rfx_instruments(); limits NULL:
 * none; RFX_ACCOUNTS accounts), then the engine with the recording sink that
 * also feeds the risk, and installs the gate. Fails the test on error. x must
 * not move afterwards.
 */
void rfx_init(rfx *x, const dtx_risk_instrument_config *instruments, uint32_t n, const dtx_risk_limits *limits);
void rfx_fini(rfx *x);

/* Deposits usd whole USD; asserts success. */
void rfx_deposit(rfx *x, uint32_t account, int64_t usd);
/* Sets a parameter; asserts success; returns the old value. */
int64_t rfx_set(rfx *x, uint16_t param, uint32_t account, uint32_t security_id, int64_t value);
/* Views; assert success. */
dtx_risk_account_view rfx_account(rfx *x, uint32_t account);
dtx_risk_position_view rfx_position(rfx *x, uint32_t account, uint32_t security_id);
/* Asserts dtx_risk_check() passes. */
void rfx_check(const rfx *x);
/* A trade of qty at ticks on FX_SEC: maker rests, taker crosses in full. */
void rfx_trade(rfx *x, uint32_t maker, uint32_t taker, uint8_t taker_side, int64_t ticks, int64_t qty);

#endif /* DTX_TESTS_RISK_FIXTURE_H */
