/*
 * dtx/risk.h - accounts, collateral, positions, limits, margin: the pre-trade
 * risk gate in front of the books.
 *
 * One dtx_risk holds every account of a shard. It is driven by the core thread
 * alone, in two ways:
 *   - dtx_risk_gate(), installed with dtx_engine_set_gate(), answers each
 *     NEW_ORDER and REPLACE before the book is touched: DTX_REJ_NONE or the
 *     reject reason;
 *   - dtx_risk_on_events() (or dtx_risk_sink() as the engine's sink, or called
 *     from the core's own sink) is shown every event batch the engine emits, in
 *     order, and keeps positions, collateral, fees and per-account running
 *     totals of open orders exactly up to date.
 * Between the two, the gate never iterates orders or accounts: it reads the
 * account, its position in the order's instrument with running totals and
 * cached requirements, and recomputes the scenario of the order's side. Only
 * after a mark or parameter change does an account's next use revisit the
 * instruments it is active in (once per change).
 *
 * Money is integer: the settlement asset in micro-units (6 decimals, int64).
 * Prices are PRICE9 as everywhere in dtx; rates (margin, band, fees) are RATE9:
 * int64 with exponent -9 (DTX_RISK_RATE_ONE is 1.0). Products are formed in
 * 128-bit integers and rounded conservatively: requirements and fees charged
 * up, credits (rebates, unrealized profit) down. No floating point. The
 * formulas are in docs/risk.md.
 *
 * Conservation: trades move money between accounts and the fee account exactly
 * (both sides of a trade see the same integer notional). The conserved quantity
 * is the cash of each account: collateral minus the entry cost of its open
 * positions. Sum over accounts of (collateral - entry cost) + fee balance =
 * deposits - withdrawals, exactly, after every event; dtx_risk_check() verifies
 * it (see docs/risk.md for why collateral alone moves when PnL is realized).
 *
 * All memory is reserved by dtx_risk_create(); nothing is allocated after
 * (except by dtx_risk_check(), a tool). Deterministic: the same commands and
 * events give the same state (dtx_risk_digest()).
 */
#ifndef DTX_RISK_H
#define DTX_RISK_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/command.h"
#include "dtx/engine.h"
#include "dtx/error.h"
#include "dtx/event.h"
#include "dtx/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dtx_risk dtx_risk;

#define DTX_RISK_MONEY_ONE ((int64_t)1000000)   /* 1 unit of the settlement asset */
#define DTX_RISK_RATE_ONE ((int64_t)1000000000) /* RATE9 1.0 */

/* Account index naming the defaults in dtx_risk_change. */
#define DTX_RISK_DEFAULT_ACCOUNT UINT32_MAX

/*
 * Per-account limits. A zero field means "no limit of this kind" in the
 * defaults, and "use the default" in an account's own settings.
 */
typedef struct dtx_risk_limits {
    int64_t max_order_qty;    /* contracts per order (OrderQty) */
    int64_t max_notional;     /* money per order: OrderQty x price x multiplier */
    int64_t max_position;     /* contracts per instrument, open orders included */
    uint32_t max_open_orders; /* working orders of the account, all instruments */
    uint32_t max_leverage;    /* account leverage cap (x); the instrument's cap
                                 still applies when lower */
} dtx_risk_limits;

/* Risk parameters of one instrument. */
typedef struct dtx_risk_instrument_config {
    uint32_t security_id;        /* as configured in the engine */
    int64_t contract_multiplier; /* PRICE9, as in the engine (> 0) */
    uint64_t expiry;             /* TIME; 0 = perpetual. Orders at or after it
                                    are rejected InstrumentHalted */
    int64_t initial_margin_rate; /* RATE9, in (0, 1] */
    int64_t maint_margin_rate;   /* RATE9, in (0, initial_margin_rate) */
    int64_t price_band_rate;     /* RATE9 >= 0: a limit price further than
                                    mark x band from the mark is rejected;
                                    0 = no band */
    uint32_t max_leverage;       /* cap (x); 0 = none. Initial margin rate used
                                    is max(initial, 1 / leverage) */
    int64_t maker_fee_rate;      /* RATE9, negative = rebate */
    int64_t taker_fee_rate;      /* RATE9, >= 0 and >= -maker_fee_rate */
    int64_t max_order_qty;       /* instrument default (contracts); 0 = the
                                    config's default limits */
    int64_t max_position;        /* likewise */
} dtx_risk_instrument_config;

typedef struct dtx_risk_config {
    const dtx_risk_instrument_config *instruments;
    uint32_t n_instruments;         /* 1 .. DTX_MAX_INSTRUMENTS */
    uint32_t n_accounts;            /* accounts 0 .. n_accounts - 1 */
    uint32_t max_orders;            /* working orders tracked: at least the
                                       engine's max_orders */
    dtx_risk_limits default_limits; /* for every account */
} dtx_risk_config;

/*
 * Risk parameters for the engine's embedded default instruments (BTC-PERP,
 * ETH-PERP, BTC-27MAR27): 1 % initial / 0.5 % maintenance margin (100x),
 * 5 % band, maker -0.01 % (rebate), taker 0.05 %. Sets *n.
 */
const dtx_risk_instrument_config *dtx_risk_default_instruments(uint32_t *n);

/*
 * Creates a risk context. Returns NULL on an invalid configuration (the message,
 * from dtx_error_message(), names the field) or when memory cannot be reserved.
 * Every account starts enabled with zero collateral.
 */
dtx_risk *dtx_risk_create(const dtx_risk_config *cfg);

/* Frees everything. NULL is accepted. */
void dtx_risk_destroy(dtx_risk *r);

/* ---- the two hot-path entry points ---------------------------------------------- */

/*
 * The gate (a dtx_gate_fn; ctx is the dtx_risk). Checks, first failure wins:
 *   UnknownInstrument   the instrument has no risk parameters;
 *   InstrumentHalted    a dated future at or past its expiry (the engine
 *                       handles halts);
 *   AccountDisabled     unknown account, or kill switch on;
 *   MaxOrderQty, MaxNotional;
 *   PriceOutsideBand    a limit price (new, or changed by a replace) more than
 *                       the band from the mark; a Market or Stop order while
 *                       the instrument has no reference price at all;
 *   TooManyOpenOrders   (new orders) the account's open orders at its maximum,
 *                       or max_orders orders tracked already;
 *   PositionLimit       |position + open orders of the side + this order| >
 *                       max, on the side the order increases;
 *   ReduceOnlyWouldIncrease  a ReduceOnly order that, with the open orders of
 *                       its side, could take the position past zero (these
 *                       two only for orders adding open quantity: a replace
 *                       that shrinks an order passes them);
 *   InsufficientMargin  the account's initial-margin requirement with this
 *                       order exceeds its equity (an order that does not raise
 *                       the requirement is always accepted).
 * Changes nothing: a rejected or accepted order alters the state only through
 * the events that follow. A triggered stop (req->trigger) is checked again,
 * already counted in the open totals: AccountDisabled, InstrumentHalted,
 * PositionLimit, ReduceOnlyWouldIncrease, and InsufficientMargin only when
 * its fill would enlarge the position (docs/risk.md, "Stops").
 */
uint16_t dtx_risk_gate(void *ctx, const dtx_gate_request *req);

/*
 * Applies a batch of engine events, in order: positions, realized PnL, fees
 * and collateral on FILL; open-order totals on NEW, FILL, REPLACED and
 * CANCELED. Events of unknown accounts or instruments are counted and skipped.
 */
void dtx_risk_on_events(dtx_risk *r, const dtx_event *events, size_t n);

/*
 * The fee that dtx_risk_on_events() charges ev->account for the FILL ev
 * (micro-units, negative = rebate), with the instrument's current rates: the
 * Fee of ExecutionReportTrade 201. 0 for other events and unknown accounts or
 * instruments. Changes nothing. (Where the same events are also applied,
 * dtx_risk_on_events_fee() gives both at once.)
 */
int64_t dtx_risk_fill_fee(const dtx_risk *r, const dtx_event *ev);

/*
 * dtx_risk_on_events(), and the fee it charges for each FILL written into that
 * event's fee field (the Fee of ExecutionReportTrade 201; other events and
 * FILLs it skips are left alone): one fee computation per fill for the core,
 * which reports the fee and applies the accounting of the same batch.
 * In/Out: events (n of them).
 */
void dtx_risk_on_events_fee(dtx_risk *r, dtx_event *events, size_t n);

/* dtx_risk_on_events with a dtx_event_sink_fn signature (ctx is the dtx_risk). */
void dtx_risk_sink(void *ctx, const dtx_event *events, size_t n);

/*
 * Prefetch hint for a command that will be submitted soon (a few commands
 * ahead in the core's burst, beside dtx_engine_prefetch): brings in the
 * account and, when the command names its instrument, the position the gate
 * will read. Changes nothing; safe for any command.
 */
void dtx_risk_prefetch(const dtx_risk *r, const dtx_command *cmd);

/* ---- deposits and withdrawals (sequenced commands of the core) ----------------- */

/* Credits amount (> 0) to the account. DTX_EINVAL for a bad account or amount. */
dtx_status dtx_risk_deposit(dtx_risk *r, uint32_t account, int64_t amount);

/*
 * Debits amount (> 0) from the account's collateral. Returns DTX_REJ_NONE, or
 * DTX_REJ_INSUFFICIENT_MARGIN when amount exceeds the collateral or would leave
 * equity below the initial-margin requirement (positions and open orders), or
 * DTX_REJ_INVALID_FIELD for a bad account or amount; refused changes nothing.
 */
uint16_t dtx_risk_withdraw(dtx_risk *r, uint32_t account, int64_t amount);

/* ---- run-time changes: one seam for the risk, operator and oracle roles ---------- */

typedef enum dtx_risk_param {
    DTX_RISK_PARAM_NONE = 0,
    /* Instrument parameters: security_id names it, account is ignored. */
    DTX_RISK_PARAM_INITIAL_MARGIN = 1, /* RATE9 */
    DTX_RISK_PARAM_MAINT_MARGIN = 2,   /* RATE9 */
    DTX_RISK_PARAM_PRICE_BAND = 3,     /* RATE9 */
    DTX_RISK_PARAM_MAX_LEVERAGE = 4,   /* x; 0 = none */
    DTX_RISK_PARAM_MAKER_FEE = 5,      /* RATE9 */
    DTX_RISK_PARAM_TAKER_FEE = 6,      /* RATE9 */
    DTX_RISK_PARAM_MARK_PRICE = 7,     /* PRICE9 > 0 (oracle role) */
    /* Per (account, instrument) limits; account DTX_RISK_DEFAULT_ACCOUNT sets
     * the instrument's default. */
    DTX_RISK_PARAM_MAX_ORDER_QTY = 16,
    DTX_RISK_PARAM_MAX_POSITION = 17,
    /* Per-account limits; security_id ignored; account DTX_RISK_DEFAULT_ACCOUNT
     * sets the default for every account. */
    DTX_RISK_PARAM_MAX_NOTIONAL = 18,
    DTX_RISK_PARAM_MAX_OPEN_ORDERS = 19,
    DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE = 20,
    /* Kill switch: 0 disables the account (new orders and replaces rejected
     * AccountDisabled; the core then cancels its orders, see
     * dtx_risk_kill_command), 1 enables it again. */
    DTX_RISK_PARAM_ACCOUNT_ENABLED = 32,
} dtx_risk_param;

/*
 * A change, as the admin command that carries it and the audit record that
 * reports it see it. In: param, account, security_id, new_value. Out:
 * old_value (and new_value as applied).
 */
typedef struct dtx_risk_change {
    uint16_t param;       /* dtx_risk_param */
    uint32_t account;     /* account index or DTX_RISK_DEFAULT_ACCOUNT */
    uint32_t security_id; /* instrument, where the parameter has one */
    int64_t new_value;
    int64_t old_value;
} dtx_risk_change;

/*
 * Applies one change. Returns DTX_OK and sets ch->old_value, or DTX_EINVAL
 * (unknown parameter, account or instrument; a value out of range, e.g. a
 * maintenance rate not below the initial rate) and changes nothing. Margin
 * changes take effect for every account lazily: cached requirements are
 * recomputed when next needed.
 */
dtx_status dtx_risk_apply(dtx_risk *r, dtx_risk_change *ch);

/* Reads the current value of (param, account, security_id) into ch->old_value
 * and ch->new_value. DTX_EINVAL as dtx_risk_apply. Mark price: DTX_PRICE_NULL
 * when none was set. */
dtx_status dtx_risk_read(const dtx_risk *r, dtx_risk_change *ch);

/* Sets the mark price (PRICE9 > 0) of an instrument: shorthand for
 * DTX_RISK_PARAM_MARK_PRICE. */
dtx_status dtx_risk_set_mark(dtx_risk *r, uint32_t security_id, int64_t mark);

/*
 * The command with which the core carries out a kill switch: a mass cancel of
 * every working order of the account (all instruments, both sides), stamped
 * with seq and ts. The account must be disabled first so that nothing new comes
 * in. (The engine reports these cancels with CancelReason MassCancel.)
 */
dtx_command dtx_risk_kill_command(uint32_t account, uint64_t clordid, uint64_t seq, uint64_t ts);

/* ---- views for the risk role, tools and tests -------------------------------------- */

typedef struct dtx_risk_account_view {
    uint32_t account;
    uint32_t open_orders;
    uint8_t enabled;
    uint8_t below_maintenance; /* equity < maintenance margin */
    uint8_t reserved[6];       /* zero */
    int64_t collateral;     /* deposits - withdrawals + realized PnL - fees */
    int64_t unrealized_pnl; /* at the reference prices */
    int64_t equity;         /* collateral + unrealized PnL */
    int64_t initial_margin; /* positions and open orders (worse side) */
    int64_t order_margin;   /* the part of initial_margin due to open orders */
    int64_t maint_margin;   /* positions */
    int64_t available;      /* equity - initial_margin (may be negative) */
    int64_t margin_ratio;   /* RATE9 equity / maint_margin; INT64_MAX when
                               maint_margin is 0 */
} dtx_risk_account_view;

typedef struct dtx_risk_position_view {
    uint32_t account;
    uint32_t security_id;
    int64_t qty;             /* signed contracts (long > 0) */
    int64_t entry_cost;      /* signed money: entry notional of qty */
    int64_t avg_entry_price; /* PRICE9 (toward zero); 0 when flat */
    int64_t realized_pnl;    /* since creation, before fees */
    int64_t fees;            /* paid since creation (negative: net rebate) */
    int64_t open_buy_qty;      /* open orders, with a price or not */
    int64_t open_sell_qty;
    int64_t open_buy_notional; /* money of the open orders with a price at
                                  their prices (rounded down) */
    int64_t open_sell_notional;
    int64_t unrealized_pnl;
    int64_t initial_margin; /* position and open orders of this instrument */
    int64_t maint_margin;
} dtx_risk_position_view;

/* Fills out for the account (refreshing stale cached margin first).
 * DTX_EINVAL for an unknown account. */
dtx_status dtx_risk_account(dtx_risk *r, uint32_t account, dtx_risk_account_view *out);

/* Fills out for (account, instrument). DTX_EINVAL for unknown ones. */
dtx_status dtx_risk_position(dtx_risk *r, uint32_t account, uint32_t security_id,
                             dtx_risk_position_view *out);

/*
 * Admin query: refreshes every account with a maintenance requirement, updates
 * its below-maintenance flag, and writes the (at most max) accounts with the
 * lowest margin ratio into out, lowest first (ties by account index). Returns
 * how many were written. Iterates all accounts: not for the order path.
 */
size_t dtx_risk_nearest_maintenance(dtx_risk *r, dtx_risk_account_view *out, size_t max);

/* Refreshes every account and its flag; returns the number below maintenance. */
uint32_t dtx_risk_scan(dtx_risk *r);

/*
 * A 64-bit digest of the state that replay must rebuild exactly: instrument
 * parameters and marks, limits, accounts (collateral, kill switch, overrides),
 * positions (quantity, entry cost, realized PnL, fees, open totals), the
 * tracked orders, the fee balance and net deposits. Cached margin, which is
 * recomputed lazily, is left out. Iterates everything (tools and tests).
 */
uint64_t dtx_risk_digest(const dtx_risk *r);

/* Totals behind the conservation identity. */
typedef struct dtx_risk_totals {
    int64_t collateral;   /* sum over accounts */
    int64_t entry_cost;   /* sum over positions */
    int64_t fee_balance;  /* the exchange's fee account (fees - rebates) */
    int64_t net_deposits; /* deposits - withdrawals */
    uint64_t fills;       /* FILL events applied */
    uint64_t skipped;     /* events of unknown accounts, instruments or orders */
} dtx_risk_totals;
void dtx_risk_get_totals(const dtx_risk *r, dtx_risk_totals *out);

/*
 * Full audit (iterates everything; for tests and tools): conservation
 * (collateral - entry cost + fee balance = net deposits), positions summing to
 * zero per instrument, open-order totals equal to the tracked orders, and
 * cached per-account sums equal to the sums of their parts. DTX_OK, or
 * DTX_EINVAL with a message naming the first broken identity.
 */
dtx_status dtx_risk_check(const dtx_risk *r);

#ifdef __cplusplus
}
#endif
#endif /* DTX_RISK_H */
