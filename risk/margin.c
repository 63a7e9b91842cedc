/*
 * margin.c - margin arithmetic: the initial requirement of a position with its
 * open orders (the worse of "all bids fill" and "all asks fill"), maintenance
 * margin, unrealized PnL, and the per-account cached sums the gate reads.
 *
 * Every value here is computed from integers only, rounded conservatively:
 * requirements up, unrealized PnL down (docs/risk.md has the formulas). The
 * gate (limits.c) calls dtx_risk_account_refresh() and dtx_risk_requirement();
 * the accounting (account.c) calls dtx_risk_pos_refresh() after each event
 * touching a position. The admin queries at the end (views, nearest to
 * maintenance, the full audit) iterate and are not for the order path.
 */
#include <stdlib.h>
#include <string.h>

#include "risk/internal.h"

static inline i128 abs128(i128 v) { return v < 0 ? -v : v; }

/* The requirement of one scenario: margin on the resulting position at the
 * reference price, the loss of filling the orders at their prices against the
 * reference, and the taker fee on the orders' notional. */
static i128 scenario(const risk_inst *in, int64_t im_rate, int64_t taker, i128 result_qty, i128 loss_x,
                     i128 notional_x)
{
    i128 req = risk_rate_ceil(risk_money_ceil(abs128(result_qty) * in->ref, in), im_rate);
    if (loss_x > 0)
        req += risk_money_ceil(loss_x, in);
    if (taker > 0 && notional_x > 0)
        req += risk_rate_ceil(risk_money_ceil(notional_x, in), taker);
    return req;
}

int64_t dtx_risk_side_requirement(const risk_inst *in, int64_t im_rate, int side, int64_t qty, int64_t oq,
                                  i128 ox, int64_t om)
{
    return risk_side_requirement(in, im_rate, side, qty, oq, ox, om);
}

int64_t dtx_risk_side_requirement_wide(const risk_inst *in, int64_t im_rate, int side, int64_t qty, int64_t oq,
                                       i128 ox, int64_t om)
{
    if (!oq && !om && !qty)
        return 0;
    int64_t taker = in->taker_fee;
    i128 req;
    if (in->ref <= 0) {
        /* No reference price yet: then there is no position either (a trade
         * sets one); orders are valued at their own prices. */
        req = risk_rate_ceil(risk_money_ceil(ox, in), im_rate);
        if (taker > 0 && ox > 0)
            req += risk_rate_ceil(risk_money_ceil(ox, in), taker);
    } else {
        i128 ref = in->ref, d = in->band_amt;
        if (side == DTX_SIDE_BUY) {
            req = scenario(in, im_rate, taker, (i128)qty + oq + om, ox - (i128)oq * ref + (i128)om * d,
                           ox + (i128)om * (ref + d));
        } else {
            i128 edge = ref > d ? ref - d : 0;
            req = scenario(in, im_rate, taker, (i128)qty - oq - om, (i128)oq * ref - ox + (i128)om * (ref - edge),
                           ox + (i128)om * edge);
        }
    }
    return risk_sat64(req);
}

int64_t dtx_risk_requirement(const risk_inst *in, int64_t im_rate, int64_t qty, int64_t bq, i128 bx,
                             int64_t bm, int64_t sq, i128 sx, int64_t sm)
{
    int64_t rb = dtx_risk_side_requirement(in, im_rate, DTX_SIDE_BUY, qty, bq, bx, bm);
    int64_t rs = dtx_risk_side_requirement(in, im_rate, DTX_SIDE_SELL, qty, sq, sx, sm);
    return rb > rs ? rb : rs;
}

static int64_t pos_maint(const risk_inst *in, const risk_pos *p)
{
    if (!p->qty || in->ref <= 0)
        return 0;
    return risk_sat64(risk_rate_ceil(risk_money_ceil(abs128(p->qty) * in->ref, in), in->mm_rate));
}

static int64_t pos_upnl(const risk_inst *in, const risk_pos *p)
{
    if (!p->qty)
        return -p->cost; /* 0: a flat position has no entry cost */
    return risk_sat64(risk_money_floor((i128)p->qty * in->ref, in) - p->cost);
}

static int64_t pos_side_req(const dtx_risk *r, uint32_t account, const risk_inst *in, const risk_pos *p, int side)
{
    int64_t rate = dtx_risk_eff_im_rate(r, &r->acct[account], in);
    int buy = side == DTX_SIDE_BUY;
    int64_t oq = buy ? p->buy_qty : p->sell_qty, om = buy ? p->buy_mkt : p->sell_mkt;
    i128 ox = buy ? p->buy_x : p->sell_x;
    const risk_side_memo *m = &r->memo;
    if (m->account == account && m->inst == (uint32_t)(in - r->inst) && m->ver == in->ver &&
        m->side == (uint32_t)side && m->im_rate == rate && m->qty == p->qty && m->oq == oq && m->om == om &&
        m->ox == ox)
        return m->req; /* the gate's computation for these very totals */
    return risk_side_requirement(in, rate, side, p->qty, oq, ox, om);
}

/* The same, always computed (the audit checks the cached values, and the
 * gate's memo, against it). */
static int64_t pos_side_req_fresh(const dtx_risk *r, uint32_t account, const risk_inst *in, const risk_pos *p,
                                  int side)
{
    int64_t rate = dtx_risk_eff_im_rate(r, &r->acct[account], in);
    return side == DTX_SIDE_BUY ? risk_side_requirement(in, rate, side, p->qty, p->buy_qty, p->buy_x, p->buy_mkt)
                                : risk_side_requirement(in, rate, side, p->qty, p->sell_qty, p->sell_x, p->sell_mkt);
}

/* Stores the new cached values of p and moves its account's sums by the difference. */
static void pos_store(dtx_risk *r, uint32_t account, uint32_t inst, int64_t rb, int64_t rs, int64_t mm, int64_t upnl)
{
    risk_pos *p = risk_pos_at(r, account, inst);
    risk_account *a = &r->acct[account];
    int64_t req = rb > rs ? rb : rs;
    a->req_sum += req - p->req;
    a->mm_sum += mm - p->mm;
    a->upnl_sum += upnl - p->upnl;
    p->req = req;
    p->req_bid = rb;
    p->req_ask = rs;
    p->mm = mm;
    p->upnl = upnl;
    p->ver = r->inst[inst].ver;
}

/* Takes an empty position out of its account's active mask. Called from the
 * walks over the mask (refresh, recompute), not on every event: a pair that
 * empties and fills again (an order canceled, the next one placed) would
 * otherwise write the mask, another array, twice per order. */
static void pos_retire(dtx_risk *r, uint32_t account, uint32_t inst)
{
    risk_pos *p = risk_pos_at(r, account, inst);
    if (!p->req && !p->mm && !p->upnl && !p->qty && !p->cost && !p->buy_qty && !p->sell_qty && !p->buy_mkt &&
        !p->sell_mkt && p->active) {
        p->active = 0;
        r->active[(size_t)account * r->mask_words + (inst >> 6)] &= ~(1ull << (inst & 63));
    }
}

void dtx_risk_pos_refresh(dtx_risk *r, uint32_t account, uint32_t inst)
{
    const risk_inst *in = &r->inst[inst];
    const risk_pos *p = risk_pos_at(r, account, inst);
    pos_store(r, account, inst, pos_side_req(r, account, in, p, DTX_SIDE_BUY),
              pos_side_req(r, account, in, p, DTX_SIDE_SELL), pos_maint(in, p), pos_upnl(in, p));
}

void dtx_risk_pos_refresh_side(dtx_risk *r, uint32_t account, uint32_t inst, int side)
{
    const risk_inst *in = &r->inst[inst];
    const risk_pos *p = risk_pos_at(r, account, inst);
    if (side == 0 || p->ver != in->ver) {
        dtx_risk_pos_refresh(r, account, inst);
        return;
    }
    /* position and reference unchanged: only this side's scenario moved */
    int64_t rb = side == DTX_SIDE_BUY ? pos_side_req(r, account, in, p, side) : p->req_bid;
    int64_t rs = side == DTX_SIDE_SELL ? pos_side_req(r, account, in, p, side) : p->req_ask;
    pos_store(r, account, inst, rb, rs, p->mm, p->upnl);
}

static void account_flag(dtx_risk *r, uint32_t account)
{
    risk_account *a = &r->acct[account];
    a->below_mm = (uint8_t)(a->collateral + a->upnl_sum < a->mm_sum);
}

void dtx_risk_account_refresh(dtx_risk *r, uint32_t account)
{
    risk_account *a = &r->acct[account];
    if (a->epoch != r->epoch) { /* some instrument changed since: visit them */
        const uint64_t *m = &r->active[(size_t)account * r->mask_words];
        for (uint32_t w = 0; w < r->mask_words; w++) {
            for (uint64_t bits = m[w]; bits; bits &= bits - 1) {
                uint32_t k = w * 64 + (uint32_t)__builtin_ctzll(bits);
                if (risk_pos_at(r, account, k)->ver != r->inst[k].ver)
                    dtx_risk_pos_refresh(r, account, k);
                pos_retire(r, account, k);
            }
        }
        a->epoch = r->epoch;
    }
    account_flag(r, account);
}

void dtx_risk_account_recompute(dtx_risk *r, uint32_t account)
{
    const uint64_t *m = &r->active[(size_t)account * r->mask_words];
    for (uint32_t w = 0; w < r->mask_words; w++)
        for (uint64_t bits = m[w]; bits; bits &= bits - 1) {
            uint32_t k = w * 64 + (uint32_t)__builtin_ctzll(bits);
            dtx_risk_pos_refresh(r, account, k);
            pos_retire(r, account, k);
        }
    account_flag(r, account);
}

/* ---- views ------------------------------------------------------------------------------ */

/* Requirement of the position alone (no orders) at the current parameters. */
static int64_t pos_only_req(const dtx_risk *r, uint32_t account, uint32_t inst)
{
    const risk_inst *in = &r->inst[inst];
    const risk_pos *p = risk_pos_at(r, account, inst);
    if (!p->qty)
        return 0;
    int64_t rate = dtx_risk_eff_im_rate(r, &r->acct[account], in);
    return dtx_risk_requirement(in, rate, p->qty, 0, 0, 0, 0, 0, 0);
}

static void account_view(const dtx_risk *r, uint32_t account, dtx_risk_account_view *v)
{
    const risk_account *a = &r->acct[account];
    memset(v, 0, sizeof *v);
    v->account = account;
    v->enabled = !a->disabled;
    v->below_maintenance = a->below_mm;
    v->open_orders = a->open_orders;
    v->collateral = a->collateral;
    v->unrealized_pnl = a->upnl_sum;
    v->equity = a->collateral + a->upnl_sum;
    v->initial_margin = a->req_sum;
    v->maint_margin = a->mm_sum;
    v->available = v->equity - v->initial_margin;
    int64_t pos_req_sum = 0;
    const uint64_t *m = &r->active[(size_t)account * r->mask_words];
    for (uint32_t w = 0; w < r->mask_words; w++)
        for (uint64_t bits = m[w]; bits; bits &= bits - 1)
            pos_req_sum += pos_only_req(r, account, w * 64 + (uint32_t)__builtin_ctzll(bits));
    v->order_margin = a->req_sum - pos_req_sum;
    v->margin_ratio = a->mm_sum > 0 ? risk_sat64((i128)v->equity * DTX_RISK_RATE_ONE / a->mm_sum) : INT64_MAX;
}

dtx_status dtx_risk_account(dtx_risk *r, uint32_t account, dtx_risk_account_view *out)
{
    if (account >= r->n_accounts)
        return dtx_error_set(DTX_EINVAL, "risk: account %u unknown (%u accounts)", account, r->n_accounts);
    dtx_risk_account_refresh(r, account);
    account_view(r, account, out);
    return DTX_OK;
}

dtx_status dtx_risk_position(dtx_risk *r, uint32_t account, uint32_t security_id, dtx_risk_position_view *out)
{
    int k = risk_inst_index(r, security_id);
    if (account >= r->n_accounts || k < 0)
        return dtx_error_set(DTX_EINVAL, "risk: position of account %u, security %u unknown", account,
                             security_id);
    dtx_risk_account_refresh(r, account);
    const risk_inst *in = &r->inst[k];
    const risk_pos *p = risk_pos_at(r, account, (uint32_t)k);
    memset(out, 0, sizeof *out);
    out->account = account;
    out->security_id = security_id;
    out->qty = p->qty;
    out->entry_cost = p->cost;
    if (p->qty)
        out->avg_entry_price = risk_sat64((i128)p->cost * RISK_X_PER_MONEY / ((i128)p->qty * in->mult));
    out->realized_pnl = risk_cold_at(r, account, (uint32_t)k)->realized;
    out->fees = risk_cold_at(r, account, (uint32_t)k)->fees;
    out->open_buy_qty = p->buy_qty + p->buy_mkt;
    out->open_sell_qty = p->sell_qty + p->sell_mkt;
    out->open_buy_notional = risk_sat64(risk_money_floor(p->buy_x, in));
    out->open_sell_notional = risk_sat64(risk_money_floor(p->sell_x, in));
    out->unrealized_pnl = p->upnl;
    out->initial_margin = p->req;
    out->maint_margin = p->mm;
    return DTX_OK;
}

uint32_t dtx_risk_scan(dtx_risk *r)
{
    uint32_t below = 0;
    for (uint32_t a = 0; a < r->n_accounts; a++) {
        dtx_risk_account_refresh(r, a);
        below += r->acct[a].below_mm;
    }
    return below;
}

size_t dtx_risk_nearest_maintenance(dtx_risk *r, dtx_risk_account_view *out, size_t max)
{
    size_t n = 0;
    for (uint32_t a = 0; a < r->n_accounts; a++) {
        dtx_risk_account_refresh(r, a);
        const risk_account *ac = &r->acct[a];
        if (ac->mm_sum <= 0 || max == 0)
            continue;
        int64_t ratio = risk_sat64((i128)(ac->collateral + ac->upnl_sum) * DTX_RISK_RATE_ONE / ac->mm_sum);
        if (n == max && ratio >= out[n - 1].margin_ratio)
            continue; /* ties keep the lower account index, already in */
        size_t i = n < max ? n++ : max - 1;
        while (i > 0 && out[i - 1].margin_ratio > ratio) {
            out[i] = out[i - 1];
            i--;
        }
        account_view(r, a, &out[i]);
    }
    return n;
}

/* ---- the full audit ---------------------------------------------------------------------- */

typedef struct audit_pos {
    int64_t buy_qty, sell_qty, buy_mkt, sell_mkt;
    i128 buy_x, sell_x;
} audit_pos;

dtx_status dtx_risk_check(const dtx_risk *r)
{
    i128 coll = 0, cost = 0;
    for (uint32_t a = 0; a < r->n_accounts; a++) {
        coll += r->acct[a].collateral;
        for (uint32_t k = 0; k < r->n_inst; k++)
            cost += risk_pos_at(r, a, k)->cost;
    }
    if (coll - cost + r->fee_balance != r->net_deposits)
        return dtx_error_set(DTX_EINVAL,
                             "risk: conservation broken: collateral %lld - entry cost %lld + fees %lld != "
                             "net deposits %lld",
                             (long long)coll, (long long)cost, (long long)r->fee_balance,
                             (long long)r->net_deposits);
    for (uint32_t k = 0; k < r->n_inst; k++) {
        i128 net = 0;
        for (uint32_t a = 0; a < r->n_accounts; a++)
            net += risk_pos_at(r, a, k)->qty;
        if (net != 0)
            return dtx_error_set(DTX_EINVAL, "risk: positions of security %u sum to %lld, not 0",
                                 r->inst[k].security_id, (long long)net);
    }
    size_t np = (size_t)r->n_accounts * r->n_inst;
    audit_pos *ap = calloc(np ? np : 1, sizeof *ap);
    uint32_t *opens = calloc(r->n_accounts ? r->n_accounts : 1, sizeof *opens);
    if (!ap || !opens) {
        free(ap);
        free(opens);
        return dtx_error_set(DTX_ENOMEM, "risk: check: no memory");
    }
    uint32_t n_orders = 0;
    for (uint32_t i = 0; i <= r->order_mask; i++) {
        const risk_order *o = &r->orders[i];
        if (!o->order_id)
            continue;
        n_orders++;
        opens[o->account]++;
        audit_pos *q = &ap[(size_t)o->account * r->n_inst + o->inst];
        if (o->side == DTX_SIDE_BUY) {
            if (o->priceless)
                q->buy_mkt += o->leaves;
            else {
                q->buy_qty += o->leaves;
                q->buy_x += (i128)o->leaves * o->price;
            }
        } else {
            if (o->priceless)
                q->sell_mkt += o->leaves;
            else {
                q->sell_qty += o->leaves;
                q->sell_x += (i128)o->leaves * o->price;
            }
        }
    }
    dtx_status st = DTX_OK;
    if (n_orders != r->n_orders)
        st = dtx_error_set(DTX_EINVAL, "risk: %u orders in the table, count says %u", n_orders, r->n_orders);
    for (uint32_t a = 0; a < r->n_accounts && st == DTX_OK; a++) {
        const risk_account *ac = &r->acct[a];
        if (opens[a] != ac->open_orders) {
            st = dtx_error_set(DTX_EINVAL, "risk: account %u has %u open orders, count says %u", a, opens[a],
                               ac->open_orders);
            break;
        }
        int64_t req = 0, mm = 0, upnl = 0;
        for (uint32_t k = 0; k < r->n_inst; k++) {
            const risk_pos *p = risk_pos_at(r, a, k);
            const audit_pos *q = &ap[(size_t)a * r->n_inst + k];
            const risk_inst *in = &r->inst[k];
            req += p->req;
            mm += p->mm;
            upnl += p->upnl;
            if (p->buy_qty != q->buy_qty || p->sell_qty != q->sell_qty || p->buy_mkt != q->buy_mkt ||
                p->sell_mkt != q->sell_mkt || p->buy_x != q->buy_x || p->sell_x != q->sell_x) {
                st = dtx_error_set(DTX_EINVAL, "risk: open totals of account %u security %u differ from its orders",
                                   a, in->security_id);
                break;
            }
            if (!p->qty && p->cost) {
                st = dtx_error_set(DTX_EINVAL, "risk: account %u security %u flat with entry cost %lld", a,
                                   in->security_id, (long long)p->cost);
                break;
            }
            int active = (r->active[(size_t)a * r->mask_words + (k >> 6)] >> (k & 63)) & 1;
            if (active != (p->active != 0)) {
                st = dtx_error_set(DTX_EINVAL, "risk: account %u security %u: active flag %u, mask bit %d", a,
                                   in->security_id, p->active, active);
                break;
            }
            if (!active && (p->qty || p->req || p->mm || p->upnl || q->buy_qty || q->sell_qty || q->buy_mkt ||
                            q->sell_mkt)) {
                st = dtx_error_set(DTX_EINVAL, "risk: account %u security %u in use but not active", a,
                                   in->security_id);
                break;
            }
            if (p->ver == in->ver &&
                (p->req_bid != pos_side_req_fresh(r, a, in, p, DTX_SIDE_BUY) ||
                 p->req_ask != pos_side_req_fresh(r, a, in, p, DTX_SIDE_SELL) ||
                 p->req != (p->req_bid > p->req_ask ? p->req_bid : p->req_ask) || p->mm != pos_maint(in, p) ||
                 p->upnl != pos_upnl(in, p))) {
                st = dtx_error_set(DTX_EINVAL, "risk: cached margin of account %u security %u is wrong", a,
                                   in->security_id);
                break;
            }
        }
        if (st == DTX_OK && (req != ac->req_sum || mm != ac->mm_sum || upnl != ac->upnl_sum))
            st = dtx_error_set(DTX_EINVAL, "risk: cached sums of account %u differ from its positions", a);
    }
    free(ap);
    free(opens);
    return st;
}

/* ---- digest ---------------------------------------------------------------------------- */

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

uint64_t dtx_risk_digest(const dtx_risk *r)
{
    uint64_t h = 0x6a09e667f3bcc908ULL;
    for (uint32_t k = 0; k < r->n_inst; k++) {
        const risk_inst *in = &r->inst[k];
        h = mix(h, in->security_id);
        h = mix(h, (uint64_t)in->mark);
        h = mix(h, (uint64_t)in->last);
        h = mix(h, (uint64_t)in->im_rate);
        h = mix(h, (uint64_t)in->mm_rate);
        h = mix(h, (uint64_t)in->band_rate);
        h = mix(h, (uint64_t)in->maker_fee);
        h = mix(h, (uint64_t)in->taker_fee);
        h = mix(h, in->max_leverage);
        h = mix(h, (uint64_t)in->max_order_qty);
        h = mix(h, (uint64_t)in->max_position);
    }
    h = mix(h, (uint64_t)r->defaults.max_order_qty);
    h = mix(h, (uint64_t)r->defaults.max_notional);
    h = mix(h, (uint64_t)r->defaults.max_position);
    h = mix(h, r->defaults.max_open_orders);
    h = mix(h, r->defaults.max_leverage);
    for (uint32_t a = 0; a < r->n_accounts; a++) {
        const risk_account *ac = &r->acct[a];
        h = mix(h, (uint64_t)ac->collateral);
        h = mix(h, ac->open_orders);
        h = mix(h, ac->disabled);
        h = mix(h, (uint64_t)ac->max_notional);
        h = mix(h, ac->max_open_orders);
        h = mix(h, ac->max_leverage);
        for (uint32_t k = 0; k < r->n_inst; k++) {
            const risk_pos *p = risk_pos_at(r, a, k);
            const risk_pos_cold *c = risk_cold_at(r, a, k);
            h = mix(h, (uint64_t)p->qty);
            h = mix(h, (uint64_t)p->cost);
            h = mix(h, (uint64_t)p->buy_qty);
            h = mix(h, (uint64_t)p->sell_qty);
            h = mix(h, (uint64_t)p->buy_mkt);
            h = mix(h, (uint64_t)p->sell_mkt);
            h = mix(h, (uint64_t)p->buy_x);
            h = mix(h, (uint64_t)(p->buy_x >> 64));
            h = mix(h, (uint64_t)p->sell_x);
            h = mix(h, (uint64_t)(p->sell_x >> 64));
            h = mix(h, (uint64_t)c->max_order_qty);
            h = mix(h, (uint64_t)c->max_position);
            h = mix(h, (uint64_t)c->realized);
            h = mix(h, (uint64_t)c->fees);
        }
    }
    /* tracked orders, independent of their place in the table */
    uint64_t orders = 0;
    for (uint32_t i = 0; i <= r->order_mask; i++) {
        const risk_order *o = &r->orders[i];
        if (!o->order_id)
            continue;
        uint64_t x = mix(mix(mix(mix(o->order_id, o->account), (uint64_t)o->inst << 16 | o->side << 8 | o->priceless),
                             (uint64_t)o->price),
                         (uint64_t)o->leaves);
        orders += x; /* a sum: the table order does not matter */
    }
    h = mix(h, orders);
    h = mix(h, r->n_orders);
    h = mix(h, (uint64_t)r->fee_balance);
    h = mix(h, (uint64_t)r->net_deposits);
    return h;
}
