/*
 * risk/internal.h - the memory layout of the risk module and the arithmetic
 * shared by its files (account.c, margin.c, limits.c).
 *
 * Layout. Accounts are an array indexed by account number. Positions are one
 * array of n_accounts x n_instruments records, account-major, so one account's
 * positions are adjacent. Each account has a bitmask of the instruments it is
 * active in (a position, an open order or a cached requirement; a pair that
 * emptied stays in it until the next walk over the mask takes it out), so
 * refreshing an account visits only those. Working orders are tracked in an open-addressed
 * table keyed by OrderID (linear probing, backward-shift deletion), sized to
 * twice max_orders, so every event finds its order in O(1).
 *
 * Caching. Each position caches its initial requirement, maintenance
 * requirement and unrealized PnL, computed at its instrument's version `ver`;
 * each account caches the sums of its positions' cached values. Any change to
 * an instrument's reference price or margin parameters bumps its version, and
 * a stale position is recomputed when its account is next needed (gate, view,
 * event). The sums always equal the sums of the cached parts (dtx_risk_check).
 */
#ifndef DTX_RISK_INTERNAL_H
#define DTX_RISK_INTERNAL_H

#include <stdint.h>

#include "dtx/risk.h"

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

typedef __int128 i128;

/* Money per (contracts x PRICE9 x multiplier PRICE9): 1e18 / 1e6. */
#define RISK_X_PER_MONEY ((int64_t)1000000000000)

/* See risk_inst.qmax. */
#define RISK_QMAX_NUM ((int64_t)250000000000000000LL)

/* Security ids below this are found by direct lookup. */
#define RISK_SID_DIRECT 1024u

typedef struct risk_inst {
    uint32_t security_id;
    uint32_t ver;        /* bumped when ref or margin parameters change */
    int64_t mult;        /* PRICE9 */
    int64_t mdiv;        /* 1e12 / mult when mult divides 1e12 (the usual
                            case: then money = x / mdiv), else 0 */
    uint64_t mdiv_mul;   /* x / mdiv = (x * mdiv_mul) >> mdiv_shift for */
    uint32_t mdiv_shift; /* 0 <= x < 2^63 (risk_recip_init) */
    uint32_t pad2;
    int64_t ref;         /* reference price: mark, else last trade; 0 none */
    int64_t mark;        /* DTX_PRICE_NULL when unset */
    int64_t last;        /* last trade price; DTX_PRICE_NULL before any */
    int64_t im_rate;     /* RATE9 */
    int64_t mm_rate;
    int64_t band_rate;
    int64_t maker_fee;
    int64_t taker_fee;
    uint32_t max_leverage;
    uint32_t pad;
    uint64_t expiry;
    int64_t max_order_qty; /* instrument defaults; 0 = config default */
    int64_t max_position;
    /* derived, recomputed by risk_inst_bump */
    int64_t im_eff;        /* max(im_rate, 1 / max_leverage) */
    int64_t band_amt;      /* ceil(ref * band_rate): band edge distance */
    int64_t band_lo;       /* a limit price outside [band_lo, band_hi] is */
    int64_t band_hi;       /* outside the band (the whole range: no band) */
    int64_t qmax;          /* 2.5e17 / (ref + band_amt), 0 without a ref:
                              quantities up to it need no overflow checks in
                              risk_side_requirement64 */
} risk_inst;

typedef struct risk_pos {
    /* what the gate reads */
    int64_t qty;        /* signed contracts */
    int64_t cost;       /* signed money: entry cost of qty */
    int64_t buy_qty;    /* open priced buy orders (contracts) */
    int64_t sell_qty;
    int64_t buy_mkt;    /* open buy orders without a price (market, stop) */
    int64_t sell_mkt;
    i128 buy_x;         /* sum of leaves x price (PRICE9) of priced buys */
    i128 sell_x;
    /* cached at version ver */
    int64_t req;        /* initial requirement: max(req_bid, req_ask) */
    int64_t req_bid;    /* scenario "all bids fill" */
    int64_t req_ask;    /* scenario "all asks fill" */
    int64_t mm;         /* maintenance requirement */
    int64_t upnl;       /* unrealized PnL */
    uint32_t ver;
    uint32_t active;    /* its bit is set in the account's active mask: the
                           mask (another array) is written only when this
                           changes, not on every event */
} risk_pos;
_Static_assert(sizeof(risk_pos) == 128, "a position is two cache lines");

/* What the gate rarely or never reads: kept apart so positions stay at two
 * cache lines. Overrides are read only when the account has any. */
typedef struct risk_pos_cold {
    int64_t max_order_qty; /* overrides (0 = default) */
    int64_t max_position;
    int64_t realized;      /* statistics */
    int64_t fees;
} risk_pos_cold;

typedef struct risk_account {
    int64_t collateral;
    int64_t req_sum;    /* sums of the cached parts of its positions */
    int64_t mm_sum;
    int64_t upnl_sum;
    uint32_t open_orders;
    uint32_t epoch;     /* r->epoch when all its positions were last fresh */
    uint8_t disabled;
    uint8_t below_mm;
    uint8_t has_overrides; /* some position limit of its own was set */
    uint8_t pad;
    uint32_t lev_rate;  /* ceil(1e9 / max_leverage) when that is set */
    /* overrides (0 = default) */
    int64_t max_notional;
    uint32_t max_open_orders;
    uint32_t max_leverage;
} risk_account;
_Static_assert(sizeof(risk_account) == 64, "an account is one cache line");

/* A working order as the events have shown it. */
typedef struct risk_order {
    uint64_t order_id; /* 0 = empty slot */
    uint32_t account;
    uint16_t inst;
    uint8_t side;      /* dtx_side */
    uint8_t priceless; /* Market or Stop: valued at the band edge */
    int64_t price;     /* PRICE9 when priced */
    int64_t leaves;
} risk_order;

/*
 * The last side requirement the gate computed, with every input of it: the
 * accounting of the NEW (or REPLACED) that follows an accepted order needs
 * the same value for the same totals, and takes it from here instead of
 * computing it again. A cache of a pure function: a hit gives exactly what
 * risk_side_requirement would (tests/risk_conservation.c checks every cached
 * requirement against a fresh computation).
 */
typedef struct risk_side_memo {
    uint32_t account;
    uint32_t inst;
    uint32_t ver;          /* the instrument's version (0: empty memo) */
    uint32_t side;
    int64_t im_rate;
    int64_t qty;
    int64_t oq, om;
    i128 ox;
    int64_t req;
} risk_side_memo;

struct dtx_risk {
    uint32_t n_inst;
    uint32_t n_accounts;
    uint32_t mask_words;   /* uint64 words of instrument mask per account */
    uint32_t order_mask;   /* order table size - 1 */
    uint32_t max_orders;
    uint32_t n_orders;
    uint32_t sid_mask;     /* security id table size - 1 */
    uint32_t epoch;        /* bumped with any instrument's version: an account
                              whose epoch equals it has nothing stale */
    risk_inst *inst;
    risk_account *acct;
    risk_pos *pos;         /* [account * n_inst + inst], 64-byte aligned */
    risk_pos_cold *cold;   /* same index */
    uint64_t *active;      /* [account * mask_words + word] */
    risk_order *orders;    /* open-addressed by order_id */
    uint32_t *sid_keys;    /* security id table: key */
    uint16_t *sid_vals;    /* instrument index */
    uint16_t sid_direct[RISK_SID_DIRECT]; /* security id below that: index + 1,
                                             0 = none (no hashing) */
    int64_t default_lev_rate; /* ceil(1e9 / defaults.max_leverage), 0 = none */
    dtx_risk_limits defaults;
    int64_t fee_balance;
    int64_t net_deposits;
    uint64_t fills;
    uint64_t skipped;
    risk_side_memo memo;   /* the gate's last side requirement */
};

/* ---- lookups ---------------------------------------------------------------------- */

static inline uint32_t risk_hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* Instrument index of security_id, or -1. */
static inline int risk_inst_index(const dtx_risk *r, uint32_t security_id)
{
    if (likely(security_id < RISK_SID_DIRECT))
        return (int)r->sid_direct[security_id] - 1;
    for (uint32_t i = risk_hash32(security_id) & r->sid_mask;; i = (i + 1) & r->sid_mask) {
        if (r->sid_keys[i] == security_id)
            return r->sid_vals[i];
        if (r->sid_keys[i] == 0)
            return -1;
    }
}

static inline risk_pos *risk_pos_at(const dtx_risk *r, uint32_t account, uint32_t inst)
{
    return &r->pos[(size_t)account * r->n_inst + inst];
}

static inline risk_pos_cold *risk_cold_at(const dtx_risk *r, uint32_t account, uint32_t inst)
{
    return &r->cold[(size_t)account * r->n_inst + inst];
}

static inline void risk_mark_active(dtx_risk *r, uint32_t account, uint32_t inst)
{
    risk_pos *p = risk_pos_at(r, account, inst);
    if (likely(p->active))
        return;
    p->active = 1;
    r->active[(size_t)account * r->mask_words + (inst >> 6)] |= 1ull << (inst & 63);
}

/* ---- arithmetic ------------------------------------------------------------------- */

/* floor(a / b) and ceil(a / b) for b > 0. */
static inline i128 risk_floor_div(i128 a, i128 b)
{
    i128 q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}
static inline i128 risk_ceil_div(i128 a, i128 b)
{
    i128 q = a / b;
    return (a % b != 0 && a > 0) ? q + 1 : q;
}

/* Saturates to int64. */
static inline int64_t risk_sat64(i128 v)
{
    if (v > INT64_MAX)
        return INT64_MAX;
    if (v < -INT64_MAX)
        return -INT64_MAX;
    return (int64_t)v;
}

/* floor(a / d) and ceil(a / d) in 64 bits, d > 0. */
static inline int64_t risk_floor_div64(int64_t a, int64_t d)
{
    int64_t q = a / d;
    return (a % d != 0 && a < 0) ? q - 1 : q;
}
static inline int64_t risk_ceil_div64(int64_t a, int64_t d)
{
    int64_t q = a / d;
    return (a % d != 0 && a > 0) ? q + 1 : q;
}

static inline int risk_fits64(i128 v) { return v >= -(i128)INT64_MAX && v <= (i128)INT64_MAX; }

/*
 * Division by an invariant divisor d >= 1 as a multiplication (Granlund and
 * Montgomery): with l = ceil(log2 d) and m = ceil(2^(63+l) / d) (which fits 64
 * bits), floor(x / d) = floor(x * m / 2^(63+l)) for every 0 <= x < 2^63,
 * because the error m * d - 2^(63+l) is below d <= 2^l.
 */
static inline void risk_recip_init(int64_t d, uint64_t *mul, uint32_t *shift)
{
    uint32_t l = 0;
    while (((int64_t)1 << l) < d)
        l++;
    unsigned __int128 num = (unsigned __int128)1 << (63 + l);
    *mul = (uint64_t)((num + (unsigned __int128)d - 1) / (unsigned __int128)d);
    *shift = 63 + l;
}
static inline int64_t risk_recip_div(uint64_t x, uint64_t mul, uint32_t shift)
{
    return (int64_t)(((unsigned __int128)x * mul) >> shift);
}

/*
 * Money of x (contracts x PRICE9) for an instrument: x * mult / 1e12, rounded
 * down (floor) or up (ceil). Fast path: x fits 64 bits and mult divides 1e12,
 * one 64-bit division by mdiv. Otherwise 128 bits, split so that x up to 2^100
 * cannot overflow: (x / 1e12) * mult + (x % 1e12) * mult / 1e12.
 */
static inline i128 risk_money_floor_wide(i128 x, int64_t mult)
{
    i128 q = risk_floor_div(x, RISK_X_PER_MONEY);
    i128 rem = x - q * RISK_X_PER_MONEY; /* 0 <= rem < 1e12 */
    return q * mult + rem * mult / RISK_X_PER_MONEY;
}
static inline i128 risk_money_floor(i128 x, const risk_inst *in)
{
    if (likely(in->mdiv && risk_fits64(x))) {
        if (x >= 0)
            return risk_recip_div((uint64_t)x, in->mdiv_mul, in->mdiv_shift);
        /* floor(x / d) = -ceil(-x / d) = -floor((-x + d - 1) / d) */
        uint64_t nx = (uint64_t)(-(int64_t)x) + (uint64_t)in->mdiv - 1;
        if (nx < ((uint64_t)1 << 63))
            return -(i128)risk_recip_div(nx, in->mdiv_mul, in->mdiv_shift);
        return risk_floor_div64((int64_t)x, in->mdiv);
    }
    return risk_money_floor_wide(x, in->mult);
}
static inline i128 risk_money_ceil(i128 x, const risk_inst *in)
{
    return -risk_money_floor(-x, in);
}

/* ceil(m * rate / 1e9) and floor(m * rate / 1e9) for m >= 0, 0 <= rate <= 1e9.
 * Fast path (m <= 1e18): split m at 1e9, divisions by a constant. */
static inline i128 risk_rate_ceil(i128 m, int64_t rate)
{
    if (likely(m >= 0 && m <= (i128)1000000000000000000LL)) {
        int64_t v = (int64_t)m, hi = v / DTX_RISK_RATE_ONE, lo = v % DTX_RISK_RATE_ONE;
        return (i128)hi * rate + (lo * rate + DTX_RISK_RATE_ONE - 1) / DTX_RISK_RATE_ONE;
    }
    return risk_ceil_div(m * rate, DTX_RISK_RATE_ONE);
}
static inline i128 risk_rate_floor(i128 m, int64_t rate)
{
    if (likely(m >= 0 && m <= (i128)1000000000000000000LL)) {
        int64_t v = (int64_t)m, hi = v / DTX_RISK_RATE_ONE, lo = v % DTX_RISK_RATE_ONE;
        return (i128)hi * rate + lo * rate / DTX_RISK_RATE_ONE;
    }
    return risk_floor_div(m * rate, DTX_RISK_RATE_ONE);
}

/* ---- shared between the files ------------------------------------------------------ */

/* ceil(1e9 / leverage), 0 for no cap (leverage 0). Not on the order path. */
static inline int64_t risk_lev_rate(uint32_t leverage)
{
    return leverage ? (DTX_RISK_RATE_ONE + leverage - 1) / leverage : 0;
}

/* Initial rate for (account, instrument): max(im, 1/leverage) of the caps
 * (the instrument's is in im_eff; the account's, or the default, precomputed). */
static inline int64_t dtx_risk_eff_im_rate(const dtx_risk *r, const risk_account *a, const risk_inst *in)
{
    int64_t lr = a->max_leverage ? (int64_t)a->lev_rate : r->default_lev_rate;
    return lr > in->im_eff ? lr : in->im_eff;
}

/* Band edge distance in PRICE9 for priceless orders: ceil(ref * band). */
static inline int64_t risk_band_amount(const risk_inst *in) { return in->band_amt; }

/*
 * Requirement of one scenario of one instrument for a hypothetical state:
 * side DTX_SIDE_BUY ("all bids fill") with position qty and open buys (priced
 * quantity oq with sum ox of leaves x price, priceless om), or DTX_SIDE_SELL
 * with the open sells.
 */
int64_t dtx_risk_side_requirement(const risk_inst *in, int64_t im_rate, int side, int64_t qty, int64_t oq,
                                  i128 ox, int64_t om);

/* The same in 128-bit arithmetic throughout (the fallback, and the reference
 * of tests/risk_arith.c). */
int64_t dtx_risk_side_requirement_wide(const risk_inst *in, int64_t im_rate, int side, int64_t qty, int64_t oq,
                                       i128 ox, int64_t om);

/* ceil(v / mdiv) for 0 <= v <= INT64_MAX - mdiv, by the reciprocal. */
static inline int64_t risk_money_ceil64(const risk_inst *in, int64_t v)
{
    return risk_recip_div((uint64_t)(v + in->mdiv - 1), in->mdiv_mul, in->mdiv_shift);
}

/* ceil(m * rate / 1e9) for 0 <= m <= 1e18, 0 <= rate <= 1e9 (unsigned:
 * divisions by the constant without sign corrections). */
static inline int64_t risk_rate_ceil64(int64_t m, int64_t rate)
{
    const uint64_t one = (uint64_t)DTX_RISK_RATE_ONE;
    uint64_t um = (uint64_t)m, hi = um / one, lo = um - hi * one;
    return (int64_t)(hi * (uint64_t)rate + (lo * (uint64_t)rate + one - 1) / one);
}

#define RISK_MONEY64_MAX ((int64_t)1000000000000000000LL) /* 1e18: inputs of the 64-bit path */

/*
 * The same requirement in 64-bit arithmetic when every intermediate fits (the
 * usual case: positions and orders far below 2^63 in contracts x PRICE9).
 * Returns 0 and leaves *out alone when something would not fit.
 *
 * Both sides in one form, without branches on the side: with s = +1 for bids
 * and -1 for asks, the edge price e (ref + D for bids, max(ref - D, 0) for
 * asks) and g = |e - ref|,
 *   result position  qty + s (oq + om)
 *   loss             s (ox - oq ref) + om g
 *   notional         ox + om e
 * and each term is computed even when it is zero (money and rate rounding of
 * 0 are 0), so that the random side of the orders costs no mispredictions.
 */
static inline int risk_side_requirement64(const risk_inst *in, int64_t im_rate, int side, int64_t qty, int64_t oq,
                                     int64_t ox, int64_t om, int64_t *out)
{
    int64_t ref = in->ref, d = in->band_amt;
    int buy = side == DTX_SIDE_BUY;
    int64_t low = ref > d ? ref - d : 0;
    uint64_t aqty = qty < 0 ? 0 - (uint64_t)qty : (uint64_t)qty, qm = (uint64_t)in->qmax;
    if (likely(qm && (uint64_t)oq <= qm && (uint64_t)om <= qm && aqty <= qm &&
               (uint64_t)ox <= (uint64_t)RISK_QMAX_NUM)) {
        /* With S = ref + D, every quantity <= 2.5e17 / S and 0 <= ox <= 2.5e17:
         * |result| S <= 7.5e17, |loss| <= 7.5e17, 0 <= notional <= 5e17, so
         * nothing overflows and every input of the rounding is in range. */
        int64_t e = buy ? ref + d : low, g = buy ? d : ref - low;
        int64_t open = buy ? oq + om : -(oq + om), rq = qty + open;
        int64_t loss = buy ? ox - oq * ref : oq * ref - ox;
        loss += om * g;
        loss = loss > 0 ? loss : 0;
        int64_t notional = ox + om * e;
        *out = risk_rate_ceil64(risk_money_ceil64(in, (rq < 0 ? -rq : rq) * ref), im_rate) +
               risk_money_ceil64(in, loss) + risk_rate_ceil64(risk_money_ceil64(in, notional), in->taker_fee);
        return 1;
    }
    /* ref and D below 2^62 first: then ref + D cannot overflow (a mark may be
     * anything up to INT64_MAX) */
    if (unlikely((ref | d) >> 62 != 0))
        return 0;
    int64_t e = buy ? ref + d : low;
    int64_t g = buy ? d : ref - low;
    int64_t open, rq, t1, t2, loss, notional;
    /* one overflow check per statement: several of them read what the one
     * before wrote, and the operands of | are unsequenced */
    int bad = __builtin_add_overflow(oq, om, &open);
    bad |= __builtin_mul_overflow(oq, ref, &t1);
    bad |= __builtin_sub_overflow(ox, t1, &loss);
    bad |= __builtin_mul_overflow(om, g, &t2);
    bad |= __builtin_mul_overflow(om, e, &t1);
    bad |= __builtin_add_overflow(ox, t1, &notional);
    bad |= open == INT64_MIN || loss == INT64_MIN; /* no negation of those */
    if (unlikely(bad))
        return 0;
    if (!buy) {
        open = -open;
        loss = -loss;
    }
    bad |= __builtin_add_overflow(qty, open, &rq);
    bad |= __builtin_add_overflow(loss, t2, &loss);
    if (unlikely(bad) || rq == INT64_MIN)
        return 0;
    int64_t arq = rq < 0 ? -rq : rq, pos_x;
    bad |= __builtin_mul_overflow(arq, ref, &pos_x);
    if (unlikely(bad || pos_x > RISK_MONEY64_MAX || loss > RISK_MONEY64_MAX || notional > RISK_MONEY64_MAX || notional < 0))
        return 0;
    loss = loss > 0 ? loss : 0;
    /* money of at most 1e18 / mdiv (<= 1e18) keeps rate_ceil64 in range */
    *out = risk_rate_ceil64(risk_money_ceil64(in, pos_x), im_rate) + risk_money_ceil64(in, loss) +
           risk_rate_ceil64(risk_money_ceil64(in, notional), in->taker_fee);
    return 1;
}

/* dtx_risk_side_requirement, inline for the gate and the accounting: the
 * 64-bit path when it applies, else the 128-bit one. */
static inline int64_t risk_side_requirement(const risk_inst *in, int64_t im_rate, int side, int64_t qty,
                                            int64_t oq, i128 ox, int64_t om)
{
    if (!oq && !om && !qty)
        return 0;
    int64_t fast;
    if (likely(in->ref > 0 && in->mdiv && ox >= 0 && ox <= RISK_MONEY64_MAX &&
               risk_side_requirement64(in, im_rate, side, qty, oq, (int64_t)ox, om, &fast)))
        return fast;
    return dtx_risk_side_requirement_wide(in, im_rate, side, qty, oq, ox, om);
}

/* The worse of the two scenarios. */
int64_t dtx_risk_requirement(const risk_inst *in, int64_t im_rate, int64_t qty, int64_t bq, i128 bx,
                             int64_t bm, int64_t sq, i128 sx, int64_t sm);

/* Recomputes the cached parts of one position and adjusts its account's sums. */
void dtx_risk_pos_refresh(dtx_risk *r, uint32_t account, uint32_t inst);

/* Same after a change of the open orders of one side only (side 0: both). */
void dtx_risk_pos_refresh_side(dtx_risk *r, uint32_t account, uint32_t inst, int side);

/* Recomputes every stale position of the account, then its flag. */
void dtx_risk_account_refresh(dtx_risk *r, uint32_t account);

/* The same, inline for the usual case: nothing stale, only the flag. */
static inline void risk_account_fresh(dtx_risk *r, uint32_t account)
{
    risk_account *a = &r->acct[account];
    if (unlikely(a->epoch != r->epoch)) {
        dtx_risk_account_refresh(r, account);
        return;
    }
    a->below_mm = (uint8_t)(a->collateral + a->upnl_sum < a->mm_sum);
}

/* Recomputes every active position of the account (leverage changed). */
void dtx_risk_account_recompute(dtx_risk *r, uint32_t account);

/* Bumps the version of an instrument (0 is never used: positions start at 0
 * meaning "never computed") and the global epoch. */
static inline void risk_inst_bump(dtx_risk *r, risk_inst *in)
{
    if (++in->ver == 0)
        in->ver = 1;
    r->epoch++;
    in->im_eff = in->im_rate;
    if (in->max_leverage) {
        int64_t lr = (DTX_RISK_RATE_ONE + in->max_leverage - 1) / in->max_leverage;
        if (lr > in->im_eff)
            in->im_eff = lr;
    }
    in->band_amt = (int64_t)risk_rate_ceil(in->ref, in->band_rate);
    i128 span = (i128)in->ref + in->band_amt;
    in->qmax = in->ref > 0 ? (int64_t)(RISK_QMAX_NUM / span) : 0;
    /* |price - ref| * 1e9 > band_rate * ref  <=>  |price - ref| > floor(band_rate * ref / 1e9) */
    in->band_lo = INT64_MIN;
    in->band_hi = INT64_MAX;
    if (in->band_rate && in->ref > 0) {
        i128 dev = (i128)in->band_rate * in->ref / DTX_RISK_RATE_ONE; /* <= ref */
        in->band_lo = (int64_t)(in->ref - dev);
        in->band_hi = risk_sat64((i128)in->ref + dev);
    }
}

#endif /* DTX_RISK_INTERNAL_H */
