/*
 * account.c - the risk context and its accounting: creation (all memory
 * reserved here), deposits and withdrawals, and the events of the engine
 * applied to accounts.
 *
 * The accounting follows the engine's events, never its commands: a NEW adds
 * the order to its account's open totals, FILL/REPLACED/CANCELED change or
 * remove it, and each FILL moves the position, realized PnL, fees and
 * collateral. Both FILL events of a trade compute the same integer notional,
 * so money only moves between accounts and the fee account:
 *
 *   sum(collateral) - sum(entry cost) + fee balance = deposits - withdrawals
 *
 * holds after every event (checked by dtx_risk_check, tests/risk_conservation.c).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "risk/internal.h"


static const dtx_risk_instrument_config default_risk_instruments[] = {
    {.security_id = 1, .contract_multiplier = 1000000, .initial_margin_rate = 10000000,
     .maint_margin_rate = 5000000, .price_band_rate = 50000000, .max_leverage = 100,
     .maker_fee_rate = -100000, .taker_fee_rate = 500000},
    {.security_id = 2, .contract_multiplier = 10000000, .initial_margin_rate = 10000000,
     .maint_margin_rate = 5000000, .price_band_rate = 50000000, .max_leverage = 100,
     .maker_fee_rate = -100000, .taker_fee_rate = 500000},
    {.security_id = 3, .contract_multiplier = 1000000, .expiry = 1806048000000000000ULL,
     .initial_margin_rate = 10000000, .maint_margin_rate = 5000000, .price_band_rate = 50000000,
     .max_leverage = 100, .maker_fee_rate = -100000, .taker_fee_rate = 500000},
};

const dtx_risk_instrument_config *dtx_risk_default_instruments(uint32_t *n)
{
    *n = (uint32_t)(sizeof default_risk_instruments / sizeof default_risk_instruments[0]);
    return default_risk_instruments;
}

/* ---- creation ---------------------------------------------------------------------------- */

/* Zeroed memory for the large arrays: 2 MiB aligned and advised for
 * transparent huge pages when that large (the gate reads accounts and
 * positions at random: fewer TLB misses), 64-byte aligned otherwise; touched
 * here. Freed with free(). */
static void *big_alloc(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    size_t align = bytes >= huge ? huge : 64;
    size_t size = (bytes + align - 1) / align * align;
    void *p = aligned_alloc(align, size ? size : align);
    if (!p)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (align == huge)
        (void)madvise(p, size, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
    memset(p, 0, size ? size : align);
    return p;
}

static uint32_t pow2_at_least(uint64_t n)
{
    uint32_t p = 16;
    while (p < n)
        p <<= 1;
    return p;
}

static dtx_status check_instrument(const dtx_risk_instrument_config *c, uint32_t i)
{
    if (!c->security_id)
        return dtx_error_set(DTX_EINVAL, "risk: instruments[%u].security_id is 0", i);
    if (c->contract_multiplier <= 0)
        return dtx_error_set(DTX_EINVAL, "risk: instruments[%u].contract_multiplier %lld is not > 0", i,
                             (long long)c->contract_multiplier);
    if (c->initial_margin_rate <= 0 || c->initial_margin_rate > DTX_RISK_RATE_ONE)
        return dtx_error_set(DTX_EINVAL, "risk: instruments[%u].initial_margin_rate %lld is not in (0, 1e9]", i,
                             (long long)c->initial_margin_rate);
    if (c->maint_margin_rate <= 0 || c->maint_margin_rate >= c->initial_margin_rate)
        return dtx_error_set(DTX_EINVAL,
                             "risk: instruments[%u].maint_margin_rate %lld is not in (0, initial_margin_rate)", i,
                             (long long)c->maint_margin_rate);
    if (c->price_band_rate < 0 || c->price_band_rate > DTX_RISK_RATE_ONE)
        return dtx_error_set(DTX_EINVAL, "risk: instruments[%u].price_band_rate %lld is not in [0, 1e9]", i,
                             (long long)c->price_band_rate);
    if (c->taker_fee_rate < 0 || c->taker_fee_rate > DTX_RISK_RATE_ONE / 10 ||
        c->maker_fee_rate < -c->taker_fee_rate || c->maker_fee_rate > DTX_RISK_RATE_ONE / 10)
        return dtx_error_set(DTX_EINVAL,
                             "risk: instruments[%u] fees maker %lld taker %lld: need 0 <= taker <= 1e8 and "
                             "-taker <= maker <= 1e8",
                             i, (long long)c->maker_fee_rate, (long long)c->taker_fee_rate);
    if (c->max_order_qty < 0 || c->max_position < 0)
        return dtx_error_set(DTX_EINVAL, "risk: instruments[%u] limits must be >= 0", i);
    return DTX_OK;
}

dtx_risk *dtx_risk_create(const dtx_risk_config *cfg)
{
    if (!cfg || !cfg->instruments || cfg->n_instruments == 0 || cfg->n_instruments > DTX_MAX_INSTRUMENTS) {
        dtx_error_set(DTX_EINVAL, "risk: n_instruments must be 1..%u", DTX_MAX_INSTRUMENTS);
        return NULL;
    }
    if (cfg->n_accounts == 0 || cfg->max_orders == 0 || cfg->max_orders > (1u << 30)) {
        dtx_error_set(DTX_EINVAL, "risk: n_accounts (%u) and max_orders (%u) must be > 0 (max_orders <= 2^30)",
                      cfg->n_accounts, cfg->max_orders);
        return NULL;
    }
    const dtx_risk_limits *d = &cfg->default_limits;
    if (d->max_order_qty < 0 || d->max_notional < 0 || d->max_position < 0) {
        dtx_error_set(DTX_EINVAL, "risk: default_limits must be >= 0");
        return NULL;
    }
    for (uint32_t i = 0; i < cfg->n_instruments; i++) {
        if (check_instrument(&cfg->instruments[i], i) != DTX_OK)
            return NULL;
        for (uint32_t j = 0; j < i; j++)
            if (cfg->instruments[j].security_id == cfg->instruments[i].security_id) {
                dtx_error_set(DTX_EINVAL, "risk: instruments[%u].security_id %u is a duplicate", i,
                              cfg->instruments[i].security_id);
                return NULL;
            }
    }

    dtx_risk *r = calloc(1, sizeof *r);
    if (!r)
        goto nomem;
    r->n_inst = cfg->n_instruments;
    r->n_accounts = cfg->n_accounts;
    r->mask_words = (cfg->n_instruments + 63) / 64;
    r->max_orders = cfg->max_orders;
    r->order_mask = pow2_at_least((uint64_t)cfg->max_orders * 2) - 1;
    r->sid_mask = pow2_at_least((uint64_t)cfg->n_instruments * 2) - 1;
    r->defaults = cfg->default_limits;
    r->default_lev_rate = risk_lev_rate(r->defaults.max_leverage);
    r->epoch = 1; /* accounts start at 0: their first refresh visits (nothing) */
    size_t npos = (size_t)cfg->n_accounts * cfg->n_instruments;
    r->inst = calloc(r->n_inst, sizeof *r->inst);
    r->acct = big_alloc((size_t)r->n_accounts * sizeof *r->acct);
    r->pos = big_alloc(npos * sizeof *r->pos);
    r->cold = big_alloc(npos * sizeof *r->cold);
    r->active = big_alloc((size_t)r->n_accounts * r->mask_words * sizeof *r->active);
    r->orders = big_alloc(((size_t)r->order_mask + 1) * sizeof *r->orders);
    r->sid_keys = calloc((size_t)r->sid_mask + 1, sizeof *r->sid_keys);
    r->sid_vals = calloc((size_t)r->sid_mask + 1, sizeof *r->sid_vals);
    if (!r->inst || !r->acct || !r->pos || !r->cold || !r->active || !r->orders || !r->sid_keys || !r->sid_vals)
        goto nomem;
    /* everything is touched (big_alloc zeroes): no page fault on the order path */
    for (uint32_t i = 0; i < r->n_inst; i++) {
        const dtx_risk_instrument_config *c = &cfg->instruments[i];
        risk_inst *in = &r->inst[i];
        in->security_id = c->security_id;
        in->ver = 1;
        in->mult = c->contract_multiplier;
        in->mdiv = RISK_X_PER_MONEY % c->contract_multiplier == 0 ? RISK_X_PER_MONEY / c->contract_multiplier : 0;
        if (in->mdiv)
            risk_recip_init(in->mdiv, &in->mdiv_mul, &in->mdiv_shift);
        in->mark = DTX_PRICE_NULL;
        in->last = DTX_PRICE_NULL;
        in->im_rate = c->initial_margin_rate;
        in->mm_rate = c->maint_margin_rate;
        in->band_rate = c->price_band_rate;
        in->maker_fee = c->maker_fee_rate;
        in->taker_fee = c->taker_fee_rate;
        in->max_leverage = c->max_leverage;
        in->expiry = c->expiry;
        in->max_order_qty = c->max_order_qty;
        in->max_position = c->max_position;
        risk_inst_bump(r, in); /* derived fields */
        uint32_t h = risk_hash32(c->security_id) & r->sid_mask;
        while (r->sid_keys[h])
            h = (h + 1) & r->sid_mask;
        r->sid_keys[h] = c->security_id;
        r->sid_vals[h] = (uint16_t)i;
        if (c->security_id < RISK_SID_DIRECT)
            r->sid_direct[c->security_id] = (uint16_t)(i + 1);
    }
    return r;

nomem:
    dtx_risk_destroy(r);
    dtx_error_set(DTX_ENOMEM, "risk: cannot reserve memory for %u accounts x %u instruments, %u orders",
                  cfg->n_accounts, cfg->n_instruments, cfg->max_orders);
    return NULL;
}

void dtx_risk_destroy(dtx_risk *r)
{
    if (!r)
        return;
    free(r->inst);
    free(r->acct);
    free(r->pos);
    free(r->cold);
    free(r->active);
    free(r->orders);
    free(r->sid_keys);
    free(r->sid_vals);
    free(r);
}

/* ---- the order table --------------------------------------------------------------------- */

/* The home slot of an OrderID: its low 32 bits, unhashed. The engine's
 * OrderIDs are (generation << 32 | order slot) with the slot at most its
 * max_orders (<= ours, the table has at least twice as many entries), so
 * working orders never collide and probes end at their first slot; and an
 * event finds its order where the engine keeps it, in a table no larger than
 * the engine's order count: recently allocated slots are near each other. Any
 * other numbering still works (linear probing), only with longer probes when
 * low bits repeat. */
static inline uint32_t order_home(const dtx_risk *r, uint64_t order_id)
{
    return (uint32_t)order_id & r->order_mask;
}

static risk_order *order_find(dtx_risk *r, uint64_t order_id)
{
    if (!order_id)
        return NULL;
    for (uint32_t i = order_home(r, order_id);; i = (i + 1) & r->order_mask) {
        if (r->orders[i].order_id == order_id)
            return &r->orders[i];
        if (!r->orders[i].order_id)
            return NULL;
    }
}

static risk_order *order_insert(dtx_risk *r, uint64_t order_id)
{
    if (r->n_orders >= r->max_orders)
        return NULL;
    uint32_t i = order_home(r, order_id);
    while (r->orders[i].order_id)
        i = (i + 1) & r->order_mask;
    r->n_orders++;
    r->orders[i].order_id = order_id;
    return &r->orders[i];
}

/* Backward-shift deletion: keeps every probe chain unbroken without tombstones. */
static void order_delete(dtx_risk *r, risk_order *o)
{
    uint32_t i = (uint32_t)(o - r->orders);
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & r->order_mask;
        if (!r->orders[j].order_id)
            break;
        uint32_t k = order_home(r, r->orders[j].order_id);
        /* entry j may move to i only if its home is not in (i, j] (cyclically) */
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        r->orders[i] = r->orders[j];
        i = j;
    }
    memset(&r->orders[i], 0, sizeof r->orders[i]);
    r->n_orders--;
}

/* Adds (sign 1) or removes (sign -1) qty of order o to its position's totals. */
static void order_totals(risk_pos *p, const risk_order *o, int64_t qty, int sign)
{
    int64_t q = sign * qty;
    if (o->side == DTX_SIDE_BUY) {
        if (o->priceless)
            p->buy_mkt += q;
        else {
            p->buy_qty += q;
            p->buy_x += (i128)q * o->price;
        }
    } else {
        if (o->priceless)
            p->sell_mkt += q;
        else {
            p->sell_qty += q;
            p->sell_x += (i128)q * o->price;
        }
    }
}

/* ---- events ------------------------------------------------------------------------------- */

static void on_new(dtx_risk *r, const dtx_event *ev, uint32_t k)
{
    if (ev->leaves_qty <= 0 || order_find(r, ev->order_id)) {
        r->skipped++;
        return;
    }
    risk_order *o = order_insert(r, ev->order_id);
    if (!o) {
        r->skipped++;
        return;
    }
    o->account = ev->account;
    o->inst = (uint16_t)k;
    o->side = ev->side;
    o->priceless = ev->price == DTX_PRICE_NULL;
    o->price = o->priceless ? 0 : ev->price;
    o->leaves = ev->leaves_qty;
    order_totals(risk_pos_at(r, ev->account, k), o, o->leaves, 1);
    r->acct[ev->account].open_orders++;
}

/* Sets the open quantity of a tracked order (0 removes it) and, for a replace,
 * its price. */
static void order_update(dtx_risk *r, risk_order *o, int64_t leaves, int64_t price)
{
    risk_pos *p = risk_pos_at(r, o->account, o->inst);
    order_totals(p, o, o->leaves, -1);
    if (leaves <= 0) {
        r->acct[o->account].open_orders--;
        order_delete(r, o);
        return;
    }
    if (!o->priceless && price != DTX_PRICE_NULL)
        o->price = price;
    o->leaves = leaves;
    order_totals(p, o, o->leaves, 1);
}

/* The fee of one side of a trade of notional n: taker or maker rate, charges
 * rounded up, rebates down. */
static int64_t fill_fee(const risk_inst *in, uint8_t aggressor, int64_t n)
{
    int64_t rate = aggressor ? in->taker_fee : in->maker_fee;
    if (rate > 0)
        return risk_sat64(risk_rate_ceil(n, rate));
    if (rate < 0)
        return -risk_sat64(risk_rate_floor(n, -rate)); /* rebate, rounded down */
    return 0;
}

int64_t dtx_risk_fill_fee(const dtx_risk *r, const dtx_event *ev)
{
    int k = ev->type == DTX_EV_FILL ? risk_inst_index(r, ev->security_id) : -1;
    if (k < 0 || ev->account >= r->n_accounts)
        return 0;
    const risk_inst *in = &r->inst[k];
    int64_t n = risk_sat64(risk_money_floor((i128)ev->last_qty * ev->price, in));
    return fill_fee(in, ev->aggressor, n);
}

/* Position, realized PnL, fees and collateral for one side of a trade.
 * Returns the fee charged. */
static int64_t on_fill(dtx_risk *r, const dtx_event *ev, uint32_t k)
{
    risk_inst *in = &r->inst[k];
    risk_pos *p = risk_pos_at(r, ev->account, k);
    risk_account *a = &r->acct[ev->account];
    int64_t q = ev->last_qty;
    int64_t dir = ev->side == DTX_SIDE_BUY ? 1 : -1;
    /* the trade's notional: the same integer on both sides */
    int64_t n = risk_sat64(risk_money_floor((i128)q * ev->price, in));

    if (p->qty == 0 || (p->qty > 0) == (dir > 0)) {
        p->qty += dir * q;
        p->cost += dir * n;
    } else {
        int64_t held = p->qty > 0 ? p->qty : -p->qty;
        int64_t closing = q < held ? q : held;
        int64_t n_close = closing == q ? n : risk_sat64(risk_money_floor((i128)closing * ev->price, in));
        /* released entry cost, rounded up: realized PnL rounds down */
        i128 part = (i128)p->cost * closing;
        int64_t released = closing == held ? p->cost
                           : risk_fits64(part) ? risk_ceil_div64((int64_t)part, held)
                                               : risk_sat64(risk_ceil_div(part, held));
        int64_t realized = (p->qty > 0 ? n_close : -n_close) - released;
        a->collateral += realized;
        risk_cold_at(r, ev->account, k)->realized += realized;
        p->cost -= released;
        p->qty += dir * closing;
        if (q > closing) { /* flip: the rest opens the other way */
            p->qty = dir * (q - closing);
            p->cost = dir * (n - n_close);
        }
    }

    int64_t fee = fill_fee(in, ev->aggressor, n);
    a->collateral -= fee;
    risk_cold_at(r, ev->account, k)->fees += fee;
    r->fee_balance += fee;
    r->fills++;

    in->last = ev->price;
    if (in->mark == DTX_PRICE_NULL && in->ref != ev->price) {
        in->ref = ev->price;
        risk_inst_bump(r, in);
    }

    risk_order *o = order_find(r, ev->order_id);
    if (o)
        order_update(r, o, ev->leaves_qty, DTX_PRICE_NULL);
    return fee;
}

/* dtx_risk_on_events; with fees (the same array as events, writable), the
 * fee charged for each FILL is also written into its fee field. */
static void apply_events(dtx_risk *r, const dtx_event *events, dtx_event *fees, size_t n)
{
    /* first bring in what the batch will touch, so that the misses overlap:
     * each event's order slot, and for fills the account and position */
    for (size_t i = 0; n > 1 && i < n; i++) {
        const dtx_event *ev = &events[i];
        if (ev->order_id)
            __builtin_prefetch(&r->orders[order_home(r, ev->order_id)]);
        if (ev->type == DTX_EV_FILL && ev->account < r->n_accounts) {
            int k = risk_inst_index(r, ev->security_id);
            __builtin_prefetch(&r->acct[ev->account]);
            if (k >= 0) {
                const char *p = (const char *)risk_pos_at(r, ev->account, (uint32_t)k);
                __builtin_prefetch(p, 1);
                __builtin_prefetch(p + 64, 1);
                __builtin_prefetch(risk_cold_at(r, ev->account, (uint32_t)k), 1); /* realized, fees */
                __builtin_prefetch(&r->active[(size_t)ev->account * r->mask_words + ((uint32_t)k >> 6)], 1);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        const dtx_event *ev = &events[i];
        if (ev->type != DTX_EV_NEW && ev->type != DTX_EV_FILL && ev->type != DTX_EV_CANCELED &&
            ev->type != DTX_EV_REPLACED)
            continue;
        int k = risk_inst_index(r, ev->security_id);
        if (k < 0 || ev->account >= r->n_accounts) {
            r->skipped++;
            continue;
        }
        switch (ev->type) {
        case DTX_EV_NEW:
            on_new(r, ev, (uint32_t)k);
            break;
        case DTX_EV_FILL: {
            int64_t fee = on_fill(r, ev, (uint32_t)k);
            if (fees)
                fees[i].fee = fee;
            break;
        }
        case DTX_EV_CANCELED: {
            risk_order *o = order_find(r, ev->order_id);
            if (o)
                order_update(r, o, 0, DTX_PRICE_NULL);
            else
                r->skipped++;
            break;
        }
        case DTX_EV_REPLACED: {
            risk_order *o = order_find(r, ev->order_id);
            if (o)
                order_update(r, o, ev->leaves_qty, ev->price);
            else
                r->skipped++;
            break;
        }
        default:
            break;
        }
        risk_mark_active(r, ev->account, (uint32_t)k);
        dtx_risk_pos_refresh_side(r, ev->account, (uint32_t)k, ev->type == DTX_EV_FILL ? 0 : ev->side);
        risk_account_fresh(r, ev->account);
    }
}

void dtx_risk_on_events(dtx_risk *r, const dtx_event *events, size_t n)
{
    apply_events(r, events, NULL, n);
}

void dtx_risk_on_events_fee(dtx_risk *r, dtx_event *events, size_t n)
{
    apply_events(r, events, events, n);
}

void dtx_risk_sink(void *ctx, const dtx_event *events, size_t n)
{
    dtx_risk_on_events(ctx, events, n);
}

/* ---- deposits and withdrawals ---------------------------------------------------------------- */

dtx_status dtx_risk_deposit(dtx_risk *r, uint32_t account, int64_t amount)
{
    if (account >= r->n_accounts || amount <= 0)
        return dtx_error_set(DTX_EINVAL, "risk: deposit of %lld to account %u refused", (long long)amount,
                             account);
    r->acct[account].collateral += amount;
    r->net_deposits += amount;
    dtx_risk_account_refresh(r, account);
    return DTX_OK;
}

uint16_t dtx_risk_withdraw(dtx_risk *r, uint32_t account, int64_t amount)
{
    if (account >= r->n_accounts || amount <= 0)
        return DTX_REJ_INVALID_FIELD;
    dtx_risk_account_refresh(r, account);
    risk_account *a = &r->acct[account];
    if (amount > a->collateral || (i128)a->collateral + a->upnl_sum - amount < a->req_sum)
        return DTX_REJ_INSUFFICIENT_MARGIN;
    a->collateral -= amount;
    r->net_deposits -= amount;
    dtx_risk_account_refresh(r, account);
    return DTX_REJ_NONE;
}

void dtx_risk_get_totals(const dtx_risk *r, dtx_risk_totals *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t a = 0; a < r->n_accounts; a++) {
        out->collateral += r->acct[a].collateral;
        for (uint32_t k = 0; k < r->n_inst; k++)
            out->entry_cost += risk_pos_at(r, a, k)->cost;
    }
    out->fee_balance = r->fee_balance;
    out->net_deposits = r->net_deposits;
    out->fills = r->fills;
    out->skipped = r->skipped;
}
