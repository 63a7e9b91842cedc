/*
 * limits.c - the pre-trade gate and the run-time controls of the risk role.
 *
 * dtx_risk_gate() runs in the core thread for every NEW_ORDER and REPLACE that
 * passed the engine's own checks, before any book is touched. It reads the
 * account, its position in the order's instrument and their running totals,
 * refreshes the account's stale cached margin (only the instruments the
 * account is active in), and evaluates the order as if it were added to the
 * open totals. It writes nothing observable: an accepted order changes the
 * state through the events that follow (account.c), a rejected one not at all.
 *
 * dtx_risk_apply() is the single seam for parameter changes (risk role:
 * limits, margin rates, kill switch; oracle role: mark prices). It returns the
 * old value with the new one, for the audit record the core writes.
 */
#include <string.h>

#include "risk/internal.h"

/* ---- the gate ---------------------------------------------------------------------------- */

static inline int64_t pick(int64_t own, int64_t inst_default, int64_t global_default)
{
    return own ? own : inst_default ? inst_default : global_default;
}

/*
 * Margin of a triggered stop (q->trigger): it is in the open totals (oq, ox,
 * om, and req with it), so the question is whether the account can still
 * afford it. A stop whose fill would not make the position larger (a stop
 * loss) always enters; one that would is refused InsufficientMargin when it
 * raises the requirement (req against the requirement without it) and the
 * account's equity is below its requirement with it.
 */
static uint16_t trigger_margin(const dtx_risk *r, const risk_account *a, const risk_inst *in, const risk_pos *p,
                               const dtx_gate_request *q, int64_t req, int64_t other, int64_t oq, i128 ox,
                               int64_t om)
{
    int buy = q->side == DTX_SIDE_BUY;
    int64_t after = buy ? p->qty + q->leaves_qty : p->qty - q->leaves_qty;
    if ((after < 0 ? -after : after) <= (p->qty < 0 ? -p->qty : p->qty))
        return DTX_REJ_NONE;
    if (q->price == DTX_PRICE_NULL)
        om -= q->leaves_qty;
    else {
        oq -= q->leaves_qty;
        ox -= (i128)q->leaves_qty * q->price;
    }
    int64_t without = risk_side_requirement(in, dtx_risk_eff_im_rate(r, a, in), q->side, p->qty, oq, ox, om);
    if (without < other)
        without = other;
    if (req > without && (i128)a->collateral + a->upnl_sum < (i128)a->req_sum - p->req + req)
        return DTX_REJ_INSUFFICIENT_MARGIN;
    return DTX_REJ_NONE;
}

uint16_t dtx_risk_gate(void *ctx, const dtx_gate_request *q)
{
    dtx_risk *r = ctx;
    const dtx_command *c = q->cmd;
    int k = risk_inst_index(r, q->security_id);
    if (unlikely(k < 0))
        return DTX_REJ_UNKNOWN_INSTRUMENT;
    const risk_inst *in = &r->inst[k];
    if (unlikely(in->expiry && c->ts >= in->expiry))
        return DTX_REJ_INSTRUMENT_HALTED;
    uint32_t acct = c->account;
    if (unlikely(acct >= r->n_accounts))
        return DTX_REJ_ACCOUNT_DISABLED;
    risk_account *a = &r->acct[acct];
    if (unlikely(a->disabled))
        return DTX_REJ_ACCOUNT_DISABLED;
    const risk_pos *p = risk_pos_at(r, acct, (uint32_t)k);
    int buy = q->side == DTX_SIDE_BUY;
    int replace = c->type == DTX_CMD_REPLACE;
    int trigger = q->trigger; /* a pending stop entering the book: already counted */

    const risk_pos_cold *own = unlikely(a->has_overrides) ? risk_cold_at(r, acct, (uint32_t)k) : NULL;
    int priceless = q->price == DTX_PRICE_NULL;
    if (likely(!trigger)) { /* a triggered stop's size and price were checked when it was placed */
        int64_t max_qty = pick(own ? own->max_order_qty : 0, in->max_order_qty, r->defaults.max_order_qty);
        if (max_qty && q->order_qty > max_qty)
            return DTX_REJ_MAX_ORDER_QTY;

        /* price used for notional and margin: the limit, or for an order without
         * one (Market, Stop) the band edge around the reference price */
        int64_t px = q->price;
        if (unlikely(priceless)) {
            if (unlikely(in->ref <= 0))
                return DTX_REJ_PRICE_OUTSIDE_BAND; /* nothing to bound it by */
            int64_t d = risk_band_amount(in);
            if (!buy)
                px = in->ref > d ? in->ref - d : 0;
            else if (__builtin_add_overflow(in->ref, d, &px))
                return DTX_REJ_PRICE_OUTSIDE_BAND; /* no price to value it at */
        }
        int64_t max_notional = a->max_notional ? a->max_notional : r->defaults.max_notional;
        if (unlikely(max_notional) && risk_money_ceil((i128)q->order_qty * px, in) > max_notional)
            return DTX_REJ_MAX_NOTIONAL;

        /* the band, precomputed at each reference change (risk_inst_bump) */
        if (!priceless && q->ord_type == DTX_ORD_LIMIT && (q->price < in->band_lo || q->price > in->band_hi) &&
            (!replace || q->price != q->old_price))
            return DTX_REJ_PRICE_OUTSIDE_BAND;

        if (!replace) {
            uint32_t max_open = a->max_open_orders ? a->max_open_orders : r->defaults.max_open_orders;
            if ((max_open && a->open_orders >= max_open) || unlikely(r->n_orders >= r->max_orders))
                return DTX_REJ_TOO_MANY_OPEN_ORDERS; /* the account's limit, or the risk's own capacity */
        }
    }

    /* the open totals of the order's side with this order in place of its old
     * self (old_leaves is 0 for a new order) */
    int64_t oq = buy ? p->buy_qty : p->sell_qty, om = buy ? p->buy_mkt : p->sell_mkt;
    i128 ox = buy ? p->buy_x : p->sell_x;
    int64_t dq = q->leaves_qty - q->old_leaves;
    if (unlikely(priceless)) {
        om += dq;
    } else {
        oq += dq;
        ox += (i128)q->leaves_qty * q->price - (i128)q->old_leaves * q->old_price;
    }

    /* exposure checks apply to what adds open quantity: a replace that does
     * not is let through even where a lowered limit is already exceeded */
    if (dq > 0 || trigger) {
        int64_t max_pos = pick(own ? own->max_position : 0, in->max_position, r->defaults.max_position);
        int64_t worst = buy ? p->qty + oq + om : p->qty - oq - om; /* position if the side fills */
        if (max_pos && (buy ? worst > max_pos : worst < -max_pos))
            return DTX_REJ_POSITION_LIMIT;
        if ((q->exec_inst & DTX_EXEC_REDUCE_ONLY) && (buy ? worst > 0 : worst < 0))
            return DTX_REJ_REDUCE_ONLY_WOULD_INCREASE;
    }

    risk_account_fresh(r, acct);
    /* only the order's side moves: the other scenario is cached */
    int64_t rate = dtx_risk_eff_im_rate(r, a, in);
    int64_t side_req = risk_side_requirement(in, rate, q->side, p->qty, oq, ox, om);
    r->memo = (risk_side_memo){.account = acct, .inst = (uint32_t)k, .ver = in->ver, .side = q->side,
                               .im_rate = rate, .qty = p->qty, .oq = oq, .om = om, .ox = ox, .req = side_req};
    int64_t other = buy ? p->req_ask : p->req_bid;
    int64_t req = side_req > other ? side_req : other;
    if (unlikely(trigger))
        return trigger_margin(r, a, in, p, q, req, other, oq, ox, om);
    if (req > p->req) {
        i128 total = (i128)a->req_sum - p->req + req;
        if ((i128)a->collateral + a->upnl_sum < total)
            return DTX_REJ_INSUFFICIENT_MARGIN;
    }
    return DTX_REJ_NONE;
}

void dtx_risk_prefetch(const dtx_risk *r, const dtx_command *cmd)
{
    if (cmd->account >= r->n_accounts)
        return;
    __builtin_prefetch(&r->acct[cmd->account]);
    int k = cmd->security_id ? risk_inst_index(r, cmd->security_id) : -1;
    if (k >= 0) {
        const char *p = (const char *)risk_pos_at(r, cmd->account, (uint32_t)k);
        __builtin_prefetch(p);
        __builtin_prefetch(p + 64);
        __builtin_prefetch(p + 127);
        /* the active mask word: written when the position becomes active */
        __builtin_prefetch(&r->active[(size_t)cmd->account * r->mask_words + ((uint32_t)k >> 6)], 1);
    }
}

/* ---- run-time changes ---------------------------------------------------------------------- */

static int is_instrument_param(unsigned p) { return p >= DTX_RISK_PARAM_INITIAL_MARGIN && p <= DTX_RISK_PARAM_MARK_PRICE; }

/* Resolves a change to the instrument and account it names; -1 when invalid. */
static int resolve(const dtx_risk *r, const dtx_risk_change *ch, int *k)
{
    *k = -1;
    unsigned p = ch->param;
    int def = ch->account == DTX_RISK_DEFAULT_ACCOUNT;
    if (is_instrument_param(p) || p == DTX_RISK_PARAM_MAX_ORDER_QTY || p == DTX_RISK_PARAM_MAX_POSITION) {
        *k = risk_inst_index(r, ch->security_id);
        if (*k < 0)
            return dtx_error_set(DTX_EINVAL, "risk: parameter %u: security %u unknown", p, ch->security_id), -1;
        if (is_instrument_param(p))
            return 0;
    } else if (p != DTX_RISK_PARAM_MAX_NOTIONAL && p != DTX_RISK_PARAM_MAX_OPEN_ORDERS &&
               p != DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE && p != DTX_RISK_PARAM_ACCOUNT_ENABLED) {
        return dtx_error_set(DTX_EINVAL, "risk: parameter %u unknown", p), -1;
    }
    if (def && p == DTX_RISK_PARAM_ACCOUNT_ENABLED)
        return dtx_error_set(DTX_EINVAL, "risk: the kill switch needs an account"), -1;
    if (!def && ch->account >= r->n_accounts)
        return dtx_error_set(DTX_EINVAL, "risk: parameter %u: account %u unknown", p, ch->account), -1;
    return 0;
}

static int64_t current(const dtx_risk *r, const dtx_risk_change *ch, int k)
{
    const risk_inst *in = k >= 0 ? &r->inst[k] : NULL;
    int def = ch->account == DTX_RISK_DEFAULT_ACCOUNT;
    const risk_account *a = def ? NULL : &r->acct[ch->account];
    const risk_pos_cold *p = (!def && k >= 0) ? risk_cold_at(r, ch->account, (uint32_t)k) : NULL;
    switch (ch->param) {
    case DTX_RISK_PARAM_INITIAL_MARGIN: return in->im_rate;
    case DTX_RISK_PARAM_MAINT_MARGIN: return in->mm_rate;
    case DTX_RISK_PARAM_PRICE_BAND: return in->band_rate;
    case DTX_RISK_PARAM_MAX_LEVERAGE: return in->max_leverage;
    case DTX_RISK_PARAM_MAKER_FEE: return in->maker_fee;
    case DTX_RISK_PARAM_TAKER_FEE: return in->taker_fee;
    case DTX_RISK_PARAM_MARK_PRICE: return in->mark;
    case DTX_RISK_PARAM_MAX_ORDER_QTY: return def ? in->max_order_qty : p->max_order_qty;
    case DTX_RISK_PARAM_MAX_POSITION: return def ? in->max_position : p->max_position;
    case DTX_RISK_PARAM_MAX_NOTIONAL: return def ? r->defaults.max_notional : a->max_notional;
    case DTX_RISK_PARAM_MAX_OPEN_ORDERS: return def ? r->defaults.max_open_orders : a->max_open_orders;
    case DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE: return def ? r->defaults.max_leverage : a->max_leverage;
    case DTX_RISK_PARAM_ACCOUNT_ENABLED: return !a->disabled;
    default: return 0;
    }
}

dtx_status dtx_risk_read(const dtx_risk *r, dtx_risk_change *ch)
{
    int k;
    if (resolve(r, ch, &k) < 0)
        return DTX_EINVAL;
    ch->old_value = ch->new_value = current(r, ch, k);
    return DTX_OK;
}

static dtx_status bad_value(const dtx_risk_change *ch, const char *why)
{
    return dtx_error_set(DTX_EINVAL, "risk: parameter %u = %lld refused: %s", ch->param, (long long)ch->new_value,
                         why);
}

/* Every instrument's cached margin becomes stale (a default leverage change). */
static void bump_all(dtx_risk *r)
{
    for (uint32_t i = 0; i < r->n_inst; i++)
        risk_inst_bump(r, &r->inst[i]);
}

dtx_status dtx_risk_apply(dtx_risk *r, dtx_risk_change *ch)
{
    int k;
    if (resolve(r, ch, &k) < 0)
        return DTX_EINVAL;
    int64_t v = ch->new_value;
    risk_inst *in = k >= 0 ? &r->inst[k] : NULL;
    int def = ch->account == DTX_RISK_DEFAULT_ACCOUNT;
    risk_account *a = def ? NULL : &r->acct[ch->account];
    risk_pos_cold *p = (!def && k >= 0) ? risk_cold_at(r, ch->account, (uint32_t)k) : NULL;
    int64_t old = current(r, ch, k);

    switch (ch->param) {
    case DTX_RISK_PARAM_INITIAL_MARGIN:
        if (v <= in->mm_rate || v > DTX_RISK_RATE_ONE)
            return bad_value(ch, "initial rate must be in (maintenance rate, 1e9]");
        in->im_rate = v;
        risk_inst_bump(r, in);
        break;
    case DTX_RISK_PARAM_MAINT_MARGIN:
        if (v <= 0 || v >= in->im_rate)
            return bad_value(ch, "maintenance rate must be in (0, initial rate)");
        in->mm_rate = v;
        risk_inst_bump(r, in);
        break;
    case DTX_RISK_PARAM_PRICE_BAND:
        if (v < 0 || v > DTX_RISK_RATE_ONE)
            return bad_value(ch, "band must be in [0, 1e9]");
        in->band_rate = v;
        risk_inst_bump(r, in);
        break;
    case DTX_RISK_PARAM_MAX_LEVERAGE:
        if (v < 0 || v > 1000000)
            return bad_value(ch, "leverage must be in [0, 1000000]");
        in->max_leverage = (uint32_t)v;
        risk_inst_bump(r, in);
        break;
    case DTX_RISK_PARAM_MAKER_FEE:
        if (v < -in->taker_fee || v > DTX_RISK_RATE_ONE / 10)
            return bad_value(ch, "maker fee must be in [-taker fee, 1e8]");
        in->maker_fee = v;
        break;
    case DTX_RISK_PARAM_TAKER_FEE:
        if (v < 0 || v < -in->maker_fee || v > DTX_RISK_RATE_ONE / 10)
            return bad_value(ch, "taker fee must be in [max(0, -maker fee), 1e8]");
        in->taker_fee = v;
        risk_inst_bump(r, in);
        break;
    case DTX_RISK_PARAM_MARK_PRICE:
        if (v <= 0)
            return bad_value(ch, "mark price must be > 0");
        in->mark = v;
        if (in->ref != v) {
            in->ref = v;
            risk_inst_bump(r, in);
        }
        break;
    case DTX_RISK_PARAM_MAX_ORDER_QTY:
    case DTX_RISK_PARAM_MAX_POSITION:
        if (v < 0)
            return bad_value(ch, "limit must be >= 0");
        if (!def)
            a->has_overrides = 1;
        if (ch->param == DTX_RISK_PARAM_MAX_ORDER_QTY)
            *(def ? &in->max_order_qty : &p->max_order_qty) = v;
        else
            *(def ? &in->max_position : &p->max_position) = v;
        break;
    case DTX_RISK_PARAM_MAX_NOTIONAL:
        if (v < 0)
            return bad_value(ch, "limit must be >= 0");
        *(def ? &r->defaults.max_notional : &a->max_notional) = v;
        break;
    case DTX_RISK_PARAM_MAX_OPEN_ORDERS:
        if (v < 0 || v > UINT32_MAX)
            return bad_value(ch, "limit must be in [0, 2^32)");
        *(def ? &r->defaults.max_open_orders : &a->max_open_orders) = (uint32_t)v;
        break;
    case DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE:
        if (v < 0 || v > 1000000)
            return bad_value(ch, "leverage must be in [0, 1000000]");
        if (def) {
            r->defaults.max_leverage = (uint32_t)v;
            r->default_lev_rate = risk_lev_rate(r->defaults.max_leverage);
            bump_all(r);
        } else {
            a->max_leverage = (uint32_t)v;
            a->lev_rate = (uint32_t)risk_lev_rate(a->max_leverage);
            dtx_risk_account_recompute(r, ch->account);
        }
        break;
    case DTX_RISK_PARAM_ACCOUNT_ENABLED:
        if (v != 0 && v != 1)
            return bad_value(ch, "enabled must be 0 or 1");
        a->disabled = (uint8_t)!v;
        break;
    default:
        return bad_value(ch, "unknown parameter");
    }
    ch->old_value = old;
    return DTX_OK;
}

dtx_status dtx_risk_set_mark(dtx_risk *r, uint32_t security_id, int64_t mark)
{
    dtx_risk_change ch = {.param = DTX_RISK_PARAM_MARK_PRICE, .security_id = security_id, .new_value = mark};
    return dtx_risk_apply(r, &ch);
}

dtx_command dtx_risk_kill_command(uint32_t account, uint64_t clordid, uint64_t seq, uint64_t ts)
{
    dtx_command c = dtx_command_blank(DTX_CMD_MASS_CANCEL);
    c.account = account;
    c.clordid = clordid;
    c.seq = seq;
    c.ts = ts;
    return c;
}
