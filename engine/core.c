/*
 * core.c - the core thread of a shard (dtx/core.h): a burst loop over the
 * command ring that stamps each command with the next sequence number and a
 * timestamp (the sequencer), runs it through the engine, and pushes the
 * engine's events onto the event ring, waiting when that ring is full.
 *
 * The admin step (dtx/admin.h) lives here too: role commands are sequenced
 * like orders, then carried out on the risk context and the engine, audited
 * and answered, all on this thread; the core fills the Fee of every FILL from
 * the risk module on the way out. Invariant: every change applied is
 * audited - a change whose audit records the sink has no room for is refused
 * (AuditUnavailable) before it is applied (admin_execute).
 *
 * Sequencing invariant: seq increases by exactly one per command processed,
 * TIME commands included, and ts never decreases (the clock is read once per
 * burst and clamped to the last value), so the stamped stream replays to the
 * same events. A burst's engine commands run in runs through the engine's
 * prefetching burst path (dtx_core_poll), with the same events, in the same
 * order, as one command at a time.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtx/core.h"
#include "dtx/types.h"

#define CORE_BURST 64u
/* The longest the idle core sleeps before looking at its stop flag again. */
#define CORE_IDLE_MAX_MS 100u
/* Most accounts one MarginWatchQuery lists, and its default. */
#define ADMIN_WATCH_MAX 64u
#define ADMIN_WATCH_DEFAULT 10u

struct dtx_core {
    dtx_engine *engine;
    dtx_ring *commands;
    dtx_ring *events;
    dtx_clock_fn clock;
    void *clock_ctx;
    dtx_event_sink_fn observer;
    void *observer_ctx;
    dtx_risk *risk;
    dtx_audit_fn audit;
    void *audit_ctx;
    dtx_audit_reserve_fn audit_reserve;
    /* admin state the engine does not expose: per instrument (config order)
     * its trading status (followed from STATUS events) and index price */
    uint32_t n_inst;
    uint32_t *inst_id;
    uint8_t *inst_status;
    int64_t *index_px;
    uint8_t kill_active;   /* a kill switch's mass cancel is running */
    uint64_t kill_count;   /* orders it canceled */
    uint64_t next_seq;
    uint64_t last_ts;
    uint64_t tick_ns;       /* TIME period; 0 = never */
    uint64_t next_time_ts;  /* ts at or after which the next TIME is due */
    _Atomic int stop;
    /* Counters: written by the core thread only (relaxed), read anywhere. */
    _Atomic uint64_t n_commands, n_time, n_events, n_event_waits, last_seq, n_audit_refused;
};

static uint64_t realtime_ns(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void count(_Atomic uint64_t *c, uint64_t n)
{
    /* Single writer: a relaxed load + store is enough and needs no lock prefix. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static int inst_index(const dtx_core *c, uint32_t security_id)
{
    for (uint32_t i = 0; i < c->n_inst; i++)
        if (c->inst_id[i] == security_id)
            return (int)i;
    return -1;
}

/* Pushes events onto the event ring, in order; a full ring is waited out
 * (back-pressure), never dropped. */
static void push_events(dtx_core *c, const dtx_event *ev, size_t n)
{
    size_t done = 0;
    while (done < n) {
        done += dtx_ring_push(c->events, ev + done, n - done);
        if (done < n) {
            count(&c->n_event_waits, 1);
            dtx_ring_wait_writable(c->events, 1, CORE_IDLE_MAX_MS);
        }
    }
    count(&c->n_events, n);
}

/* The sink while a kill switch's mass cancel runs: its cancels are reported
 * CancelReason Risk and counted; the engine's MassCancelReport is left out
 * (the risk session gets an AdminAck with the count instead). */
static void kill_sink(dtx_core *c, const dtx_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dtx_event e = ev[i];
        if (e.type == DTX_EV_MASS_CANCEL_REPORT)
            continue;
        if (e.type == DTX_EV_CANCELED && e.cancel_reason == DTX_CANCEL_MASS_CANCEL) {
            e.cancel_reason = DTX_CANCEL_RISK;
            c->kill_count++;
        }
        if (c->observer)
            c->observer(c->observer_ctx, &e, 1);
        push_events(c, &e, 1);
    }
}

/* Engine sink: fees filled in, the observer (risk) sees the batch, then every
 * event goes onto the event ring, in order. */
static void core_sink(void *ctx, const dtx_event *ev, size_t n)
{
    dtx_core *c = ctx;
    if (c->kill_active) {
        kill_sink(c, ev, n);
        return;
    }
    /* The batch is the engine's own event buffer (writable memory, const
     * only in the sink's signature, valid during this call): the Fee of each
     * FILL is written in place, with the rates the observer applies. */
    dtx_event *w = (dtx_event *)(uintptr_t)ev;
    /* the observer is the risk's own sink: one pass charges each fee and
     * writes it into its FILL (computed once) */
    int fused = c->risk && c->observer == dtx_risk_sink && c->observer_ctx == c->risk;
    for (size_t i = 0; i < n; i++) {
        if (w[i].type == DTX_EV_FILL) {
            if (c->risk && !fused)
                w[i].fee = dtx_risk_fill_fee(c->risk, &w[i]);
        } else if (w[i].type == DTX_EV_STATUS) {
            int k = inst_index(c, w[i].security_id);
            if (k >= 0)
                c->inst_status[k] = w[i].status;
        }
    }
    if (fused)
        dtx_risk_on_events_fee(c->risk, w, n);
    else if (c->observer)
        c->observer(c->observer_ctx, ev, n);
    push_events(c, ev, n);
}

dtx_core *dtx_core_create(const dtx_core_config *cfg)
{
    dtx_core *c;
    dtx_engine_config ec;

    if (!cfg || !cfg->commands || !cfg->events) {
        dtx_error_set(DTX_EINVAL, "core: commands and events rings are required");
        return NULL;
    }
    if (cfg->commands->record_size != sizeof(dtx_command)) {
        dtx_error_set(DTX_EINVAL, "core: commands ring records are %u bytes, not %zu",
                      cfg->commands->record_size, sizeof(dtx_command));
        return NULL;
    }
    if (cfg->events->record_size != sizeof(dtx_event)) {
        dtx_error_set(DTX_EINVAL, "core: events ring records are %u bytes, not %zu",
                      cfg->events->record_size, sizeof(dtx_event));
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        dtx_error_set(DTX_ENOMEM, "core: out of memory");
        return NULL;
    }
    ec = cfg->engine;
    ec.sink = core_sink;
    ec.sink_ctx = c;
    c->engine = dtx_engine_create(&ec);
    if (!c->engine) {
        free(c);
        return NULL; /* the engine's message stands */
    }
    c->commands = cfg->commands;
    c->events = cfg->events;
    c->clock = cfg->clock ? cfg->clock : realtime_ns;
    c->clock_ctx = cfg->clock_ctx;
    c->observer = cfg->observer;
    c->observer_ctx = cfg->observer_ctx;
    c->risk = cfg->risk;
    c->audit = cfg->audit;
    c->audit_ctx = cfg->audit_ctx;
    c->audit_reserve = cfg->audit_reserve;
    c->n_inst = cfg->engine.n_instruments;
    c->inst_id = calloc(c->n_inst ? c->n_inst : 1, sizeof *c->inst_id);
    c->inst_status = calloc(c->n_inst ? c->n_inst : 1, sizeof *c->inst_status);
    c->index_px = calloc(c->n_inst ? c->n_inst : 1, sizeof *c->index_px);
    if (!c->inst_id || !c->inst_status || !c->index_px) {
        dtx_core_destroy(c);
        dtx_error_set(DTX_ENOMEM, "core: out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < c->n_inst; i++) {
        c->inst_id[i] = cfg->engine.instruments[i].security_id;
        c->inst_status[i] = DTX_TRADING_OPEN;
        c->index_px[i] = DTX_PRICE_NULL;
    }
    c->next_seq = cfg->first_seq ? cfg->first_seq : 1;
    c->tick_ns = (uint64_t)cfg->time_tick_ms * 1000000ull;
    atomic_init(&c->stop, 0);
    return c;
}

void dtx_core_destroy(dtx_core *c)
{
    if (!c)
        return;
    dtx_engine_destroy(c->engine);
    free(c->inst_id);
    free(c->inst_status);
    free(c->index_px);
    free(c);
}

dtx_engine *dtx_core_engine(dtx_core *c) { return c->engine; }

/* Reads the clock, never going backwards. */
static uint64_t core_now(dtx_core *c)
{
    uint64_t t = c->clock(c->clock_ctx);
    if (t < c->last_ts)
        t = c->last_ts;
    c->last_ts = t;
    return t;
}


/* ---- the admin step (dtx/admin.h) ------------------------------------------------ */

static int is_admin(uint16_t type)
{
    return type >= DTX_CMD_RISK_SET && type <= DTX_CMD_LIMIT_QUERY;
}

/* An answer event to an admin command: routed to the sender's session. */
static dtx_event answer(const dtx_command *cmd, uint8_t type)
{
    dtx_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.ref_cmd_type = (uint8_t)cmd->type;
    ev.session = cmd->session;
    ev.account = cmd->account;
    ev.security_id = cmd->security_id;
    ev.contra_account = cmd->target_account;
    ev.seq = cmd->seq;
    ev.ts = cmd->ts;
    ev.clordid = cmd->clordid;
    return ev;
}

static void admin_reject(dtx_core *c, const dtx_command *cmd, uint16_t reason)
{
    dtx_event ev = answer(cmd, DTX_EV_ADMIN_REJECT);
    ev.reject_reason = reason;
    push_events(c, &ev, 1);
}

static void admin_audit(dtx_core *c, const dtx_command *cmd, const char *what, uint32_t target,
                        uint32_t security_id, int64_t old_value, int64_t new_value,
                        uint64_t affected)
{
    if (!c->audit)
        return;
    dtx_audit_record r = {.seq = cmd->seq, .ts = cmd->ts, .request_id = cmd->clordid,
                          .cmd_type = cmd->type, .session = cmd->session,
                          .account = cmd->account, .key_id = cmd->key_id,
                          .target_account = target, .security_id = security_id,
                          .what = what, .old_value = old_value, .new_value = new_value,
                          .affected = affected};
    c->audit(c->audit_ctx, &r);
}

static void admin_ack(dtx_core *c, const dtx_command *cmd, int64_t old_value, int64_t new_value,
                      uint8_t status, uint64_t n)
{
    dtx_event ev = answer(cmd, DTX_EV_ADMIN_ACK);
    ev.status = status;
    ev.contra_session = cmd->param;
    dtx_admin_ev_set(&ev, 0, old_value);
    dtx_admin_ev_set(&ev, 1, new_value);
    dtx_admin_ev_set(&ev, 2, DTX_PRICE_NULL);
    dtx_admin_ev_set(&ev, 3, DTX_PRICE_NULL);
    dtx_admin_ev_set(&ev, 4, (int64_t)n);
    push_events(c, &ev, 1);
}

static int instrument_param(uint16_t p)
{
    return (p >= DTX_RISK_PARAM_INITIAL_MARGIN && p <= DTX_RISK_PARAM_MARK_PRICE) ||
           p == DTX_RISK_PARAM_MAX_ORDER_QTY || p == DTX_RISK_PARAM_MAX_POSITION;
}

static void admin_risk_set(dtx_core *c, const dtx_command *cmd)
{
    /* the kill switch and the mark have their own commands (cancels, index) */
    if (cmd->param == DTX_RISK_PARAM_ACCOUNT_ENABLED || cmd->param == DTX_RISK_PARAM_MARK_PRICE) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
        return;
    }
    if (instrument_param(cmd->param) && inst_index(c, cmd->security_id) < 0) {
        admin_reject(c, cmd, DTX_REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    dtx_risk_change ch = {.param = cmd->param, .account = cmd->target_account,
                          .security_id = cmd->security_id, .new_value = cmd->value};
    if (dtx_risk_apply(c->risk, &ch) != DTX_OK) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
        return;
    }
    admin_audit(c, cmd, dtx_admin_param_name(cmd->param), cmd->target_account,
                instrument_param(cmd->param) ? cmd->security_id : 0, ch.old_value, ch.new_value,
                0);
    admin_ack(c, cmd, ch.old_value, ch.new_value, 0, 0);
}

static void admin_kill(dtx_core *c, const dtx_command *cmd)
{
    if (cmd->status > 1) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
        return;
    }
    dtx_risk_change ch = {.param = DTX_RISK_PARAM_ACCOUNT_ENABLED,
                          .account = cmd->target_account, .new_value = cmd->status ? 0 : 1};
    if (cmd->target_account == DTX_RISK_DEFAULT_ACCOUNT || dtx_risk_apply(c->risk, &ch) != DTX_OK) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
        return;
    }
    uint64_t n = 0;
    if (cmd->status) {
        /* disabled first, so nothing new comes in; then every order goes */
        dtx_command mc = dtx_risk_kill_command(cmd->target_account, cmd->clordid, cmd->seq, cmd->ts);
        mc.session = cmd->session;
        c->kill_active = 1;
        c->kill_count = 0;
        dtx_engine_submit(c->engine, &mc);
        c->kill_active = 0;
        n = c->kill_count;
    }
    admin_audit(c, cmd, "account_enabled", cmd->target_account, 0, ch.old_value, ch.new_value, n);
    admin_ack(c, cmd, ch.old_value, ch.new_value, cmd->status, n);
}

static void admin_money(dtx_core *c, const dtx_command *cmd)
{
    dtx_risk_account_view v;
    if (dtx_risk_account(c->risk, cmd->target_account, &v) != DTX_OK || cmd->value <= 0) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
        return;
    }
    int64_t old_value = v.collateral;
    if (cmd->type == DTX_CMD_DEPOSIT) {
        if (dtx_risk_deposit(c->risk, cmd->target_account, cmd->value) != DTX_OK) {
            admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
            return;
        }
    } else {
        uint16_t rej = dtx_risk_withdraw(c->risk, cmd->target_account, cmd->value);
        if (rej != DTX_REJ_NONE) {
            admin_reject(c, cmd, rej);
            return;
        }
    }
    dtx_risk_account(c->risk, cmd->target_account, &v);
    admin_audit(c, cmd, "collateral", cmd->target_account, 0, old_value, v.collateral, 0);
    admin_ack(c, cmd, old_value, v.collateral, 0, 0);
}

static void admin_status(dtx_core *c, const dtx_command *cmd)
{
    int k = inst_index(c, cmd->security_id);
    if (k < 0) {
        admin_reject(c, cmd, DTX_REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    if (cmd->status < DTX_TRADING_OPEN || cmd->status > DTX_TRADING_CLOSED) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
        return;
    }
    int64_t old_value = c->inst_status[k];
    dtx_command sc = dtx_command_blank(DTX_CMD_INSTRUMENT_STATUS);
    sc.session = cmd->session;
    sc.account = cmd->account;
    sc.seq = cmd->seq;
    sc.ts = cmd->ts;
    sc.security_id = cmd->security_id;
    sc.status = cmd->status;
    dtx_engine_submit(c->engine, &sc); /* its STATUS event updates inst_status */
    admin_audit(c, cmd, "trading_status", UINT32_MAX, cmd->security_id, old_value, cmd->status, 0);
    admin_ack(c, cmd, old_value, cmd->status, cmd->status, 0);
}

static void admin_mark(dtx_core *c, const dtx_command *cmd)
{
    int k = inst_index(c, cmd->security_id);
    if (k < 0) {
        admin_reject(c, cmd, DTX_REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    if (cmd->price == DTX_PRICE_NULL || cmd->price <= 0 ||
        (cmd->stop_px != DTX_PRICE_NULL && cmd->stop_px <= 0)) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
        return;
    }
    dtx_risk_change ch = {.param = DTX_RISK_PARAM_MARK_PRICE, .security_id = cmd->security_id,
                          .new_value = cmd->price};
    if (dtx_risk_apply(c->risk, &ch) != DTX_OK) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
        return;
    }
    int64_t old_index = c->index_px[k];
    admin_audit(c, cmd, "mark_price", UINT32_MAX, cmd->security_id, ch.old_value, ch.new_value, 0);
    if (cmd->stop_px != DTX_PRICE_NULL) {
        c->index_px[k] = cmd->stop_px;
        admin_audit(c, cmd, "index_price", UINT32_MAX, cmd->security_id, old_index, cmd->stop_px,
                    0);
    }
    dtx_event ev = answer(cmd, DTX_EV_ADMIN_ACK);
    ev.contra_session = DTX_RISK_PARAM_MARK_PRICE;
    dtx_admin_ev_set(&ev, 0, ch.old_value);
    dtx_admin_ev_set(&ev, 1, ch.new_value);
    dtx_admin_ev_set(&ev, 2, old_index);
    dtx_admin_ev_set(&ev, 3, c->index_px[k]);
    dtx_admin_ev_set(&ev, 4, 0);
    push_events(c, &ev, 1);
}

static void account_report(dtx_core *c, const dtx_command *cmd, const dtx_risk_account_view *v)
{
    dtx_event ev = answer(cmd, DTX_EV_ACCOUNT_REPORT);
    ev.contra_account = v->account;
    ev.status = v->enabled;
    ev.aggressor = v->below_maintenance;
    ev.security_id = 0;
    dtx_admin_ev_set(&ev, 0, v->collateral);
    dtx_admin_ev_set(&ev, 1, v->unrealized_pnl);
    dtx_admin_ev_set(&ev, 2, v->equity);
    dtx_admin_ev_set(&ev, 3, v->initial_margin);
    dtx_admin_ev_set(&ev, 4, v->order_margin);
    dtx_admin_ev_set(&ev, 5, v->maint_margin);
    dtx_admin_ev_set(&ev, 6, v->available);
    dtx_admin_ev_set(&ev, 7, v->margin_ratio);
    dtx_admin_ev_set(&ev, 8, v->open_orders);
    push_events(c, &ev, 1);
}

static void admin_account_query(dtx_core *c, const dtx_command *cmd)
{
    dtx_risk_account_view v;
    if (dtx_risk_account(c->risk, cmd->target_account, &v) != DTX_OK) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
        return;
    }
    account_report(c, cmd, &v);
    uint64_t n = 1;
    for (uint32_t k = 0; k < c->n_inst; k++) {
        dtx_risk_position_view p;
        if (dtx_risk_position(c->risk, cmd->target_account, c->inst_id[k], &p) != DTX_OK)
            continue;
        if (!p.qty && !p.open_buy_qty && !p.open_sell_qty && !p.realized_pnl && !p.fees)
            continue; /* never touched */
        dtx_event ev = answer(cmd, DTX_EV_POSITION_REPORT);
        ev.security_id = p.security_id;
        dtx_admin_ev_set(&ev, 0, p.qty);
        dtx_admin_ev_set(&ev, 1, p.avg_entry_price);
        dtx_admin_ev_set(&ev, 2, p.realized_pnl);
        dtx_admin_ev_set(&ev, 3, p.fees);
        dtx_admin_ev_set(&ev, 4, p.unrealized_pnl);
        dtx_admin_ev_set(&ev, 5, p.initial_margin);
        dtx_admin_ev_set(&ev, 6, p.maint_margin);
        dtx_admin_ev_set(&ev, 7, p.open_buy_qty);
        dtx_admin_ev_set(&ev, 8, p.open_sell_qty);
        push_events(c, &ev, 1);
        n++;
    }
    admin_ack(c, cmd, 0, 0, 0, n);
}

static void admin_margin_watch(dtx_core *c, const dtx_command *cmd)
{
    dtx_risk_account_view v[ADMIN_WATCH_MAX];
    uint64_t max = cmd->value ? (uint64_t)cmd->value : ADMIN_WATCH_DEFAULT;
    if (cmd->value < 0 || max > ADMIN_WATCH_MAX) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
        return;
    }
    size_t n = dtx_risk_nearest_maintenance(c->risk, v, (size_t)max);
    for (size_t i = 0; i < n; i++)
        account_report(c, cmd, &v[i]);
    admin_ack(c, cmd, 0, 0, 0, n);
}

static int64_t read_value(const dtx_core *c, uint16_t param, uint32_t account, uint32_t sec)
{
    dtx_risk_change ch = {.param = param, .account = account, .security_id = sec};
    return dtx_risk_read(c->risk, &ch) == DTX_OK ? ch.old_value : 0;
}

static void admin_limit_query(dtx_core *c, const dtx_command *cmd)
{
    int k = cmd->security_id ? inst_index(c, cmd->security_id) : 0;
    dtx_risk_change probe = {.param = DTX_RISK_PARAM_MAX_NOTIONAL, .account = cmd->target_account};
    if (k < 0) {
        admin_reject(c, cmd, DTX_REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    if (dtx_risk_read(c->risk, &probe) != DTX_OK) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD);
        return;
    }
    uint32_t a = cmd->target_account, s = cmd->security_id;
    dtx_event ev = answer(cmd, DTX_EV_LIMIT_REPORT);
    dtx_admin_ev_set(&ev, 0, s ? read_value(c, DTX_RISK_PARAM_MAX_ORDER_QTY, a, s) : 0);
    dtx_admin_ev_set(&ev, 1, s ? read_value(c, DTX_RISK_PARAM_MAX_POSITION, a, s) : 0);
    dtx_admin_ev_set(&ev, 2, read_value(c, DTX_RISK_PARAM_MAX_NOTIONAL, a, 0));
    dtx_admin_ev_set(&ev, 3, read_value(c, DTX_RISK_PARAM_MAX_OPEN_ORDERS, a, 0));
    dtx_admin_ev_set(&ev, 4, read_value(c, DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE, a, 0));
    push_events(c, &ev, 1);
    uint64_t n = 1;
    if (s) {
        dtx_event p = answer(cmd, DTX_EV_RISK_PARAM_REPORT);
        dtx_admin_ev_set(&p, 0, read_value(c, DTX_RISK_PARAM_INITIAL_MARGIN, a, s));
        dtx_admin_ev_set(&p, 1, read_value(c, DTX_RISK_PARAM_MAINT_MARGIN, a, s));
        dtx_admin_ev_set(&p, 2, read_value(c, DTX_RISK_PARAM_PRICE_BAND, a, s));
        dtx_admin_ev_set(&p, 3, read_value(c, DTX_RISK_PARAM_MAX_LEVERAGE, a, s));
        dtx_admin_ev_set(&p, 4, read_value(c, DTX_RISK_PARAM_MAKER_FEE, a, s));
        dtx_admin_ev_set(&p, 5, read_value(c, DTX_RISK_PARAM_TAKER_FEE, a, s));
        dtx_admin_ev_set(&p, 6, read_value(c, DTX_RISK_PARAM_MARK_PRICE, a, s));
        dtx_admin_ev_set(&p, 7, c->index_px[k]);
        dtx_admin_ev_set(&p, 8, c->inst_status[k]);
        push_events(c, &p, 1);
        n++;
    }
    admin_ack(c, cmd, 0, 0, 0, n);
}

/* Audit records an admin command writes when it is carried out: one per
 * value changed (a mark with an index price two), none for a query. */
static size_t audit_need(const dtx_command *cmd)
{
    switch (cmd->type) {
    case DTX_CMD_RISK_SET:
    case DTX_CMD_KILL_SWITCH:
    case DTX_CMD_DEPOSIT:
    case DTX_CMD_WITHDRAW:
    case DTX_CMD_ADMIN_STATUS: return 1;
    case DTX_CMD_MARK_PRICE: return cmd->stop_px != DTX_PRICE_NULL ? 2 : 1;
    default: return 0;
    }
}

/* Carries out one sequenced admin command (dtx/admin.h). Not the order path:
 * queries iterate, and the audit callback may write a file. */
static void admin_execute(dtx_core *c, const dtx_command *cmd)
{
    if (!c->risk && cmd->type != DTX_CMD_ADMIN_STATUS) {
        admin_reject(c, cmd, DTX_REJ_INVALID_FIELD); /* risk is off */
        return;
    }
    /* Every change applied is audited: a change whose records the audit sink
     * cannot take now (its writer a whole ring behind a failing disk) is
     * refused before anything is touched. The sink only grows its room
     * until this thread pushes, so a yes here holds for the records below. */
    size_t need = audit_need(cmd);
    if (need && c->audit && c->audit_reserve && !c->audit_reserve(c->audit_ctx, need)) {
        count(&c->n_audit_refused, 1);
        admin_reject(c, cmd, DTX_REJ_AUDIT_UNAVAILABLE);
        return;
    }
    switch (cmd->type) {
    case DTX_CMD_RISK_SET: admin_risk_set(c, cmd); break;
    case DTX_CMD_KILL_SWITCH: admin_kill(c, cmd); break;
    case DTX_CMD_DEPOSIT:
    case DTX_CMD_WITHDRAW: admin_money(c, cmd); break;
    case DTX_CMD_ADMIN_STATUS: admin_status(c, cmd); break;
    case DTX_CMD_MARK_PRICE: admin_mark(c, cmd); break;
    case DTX_CMD_ACCOUNT_QUERY: admin_account_query(c, cmd); break;
    case DTX_CMD_MARGIN_WATCH: admin_margin_watch(c, cmd); break;
    case DTX_CMD_LIMIT_QUERY: admin_limit_query(c, cmd); break;
    default: admin_reject(c, cmd, DTX_REJ_INVALID_FIELD); break;
    }
}

const char *dtx_admin_param_name(unsigned p)
{
    switch (p) {
    case DTX_RISK_PARAM_INITIAL_MARGIN: return "initial_margin";
    case DTX_RISK_PARAM_MAINT_MARGIN: return "maint_margin";
    case DTX_RISK_PARAM_PRICE_BAND: return "price_band";
    case DTX_RISK_PARAM_MAX_LEVERAGE: return "max_leverage";
    case DTX_RISK_PARAM_MAKER_FEE: return "maker_fee";
    case DTX_RISK_PARAM_TAKER_FEE: return "taker_fee";
    case DTX_RISK_PARAM_MARK_PRICE: return "mark_price";
    case DTX_RISK_PARAM_MAX_ORDER_QTY: return "max_order_qty";
    case DTX_RISK_PARAM_MAX_POSITION: return "max_position";
    case DTX_RISK_PARAM_MAX_NOTIONAL: return "max_notional";
    case DTX_RISK_PARAM_MAX_OPEN_ORDERS: return "max_open_orders";
    case DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE: return "account_max_leverage";
    case DTX_RISK_PARAM_ACCOUNT_ENABLED: return "account_enabled";
    default: return "?";
    }
}

static const char *admin_cmd_name(unsigned t)
{
    switch (t) {
    case DTX_CMD_RISK_SET: return "RISK_SET";
    case DTX_CMD_KILL_SWITCH: return "KILL_SWITCH";
    case DTX_CMD_DEPOSIT: return "DEPOSIT";
    case DTX_CMD_WITHDRAW: return "WITHDRAW";
    case DTX_CMD_ADMIN_STATUS: return "INSTRUMENT_STATUS";
    case DTX_CMD_MARK_PRICE: return "MARK_PRICE";
    default: return "?";
    }
}

size_t dtx_audit_format(const dtx_audit_record *r, char *buf, size_t cap)
{
    time_t sec = (time_t)(r->ts / 1000000000ull);
    struct tm tm;
    char target[16];
    gmtime_r(&sec, &tm);
    if (r->target_account == DTX_RISK_DEFAULT_ACCOUNT)
        snprintf(target, sizeof target, "%s",
                 r->cmd_type == DTX_CMD_RISK_SET && ((strncmp(r->what, "max_", 4) == 0 && strcmp(r->what, "max_leverage") != 0) ||
                                                     strncmp(r->what, "account_", 8) == 0)
                     ? "default" : "-");
    else
        snprintf(target, sizeof target, "%u", r->target_account);
    int n = snprintf(buf, cap,
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%09uZ seq=%" PRIu64 " cmd=%s session=%u "
                     "account=%u key=%08x request=%" PRIu64 " what=%s target_account=%s "
                     "security_id=%u old=%" PRId64 " new=%" PRId64 " affected=%" PRIu64,
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (unsigned)(r->ts % 1000000000ull), r->seq,
                     admin_cmd_name(r->cmd_type), r->session, r->account, r->key_id,
                     r->request_id, r->what, target, r->security_id, r->old_value,
                     r->new_value, r->affected);
    if (n < 0)
        n = 0;
    return (size_t)n < cap ? (size_t)n : (cap ? cap - 1 : 0);
}

static void submit(dtx_core *c, dtx_command *cmd, uint64_t ts)
{
    cmd->seq = c->next_seq++;
    cmd->ts = ts;
    if (is_admin(cmd->type))
        admin_execute(c, cmd);
    else
        dtx_engine_submit(c->engine, cmd);
    atomic_store_explicit(&c->last_seq, cmd->seq, memory_order_relaxed);
}

/* dtx_risk_prefetch as the engine's dtx_prefetch_fn (ctx: the dtx_risk). */
static void risk_prefetch(const void *ctx, const dtx_command *cmd) { dtx_risk_prefetch(ctx, cmd); }

/*
 * A burst: up to CORE_BURST commands, stamped (seq +1 each, the burst's ts)
 * into a local copy first, then carried out in order: each maximal run of
 * engine commands goes to dtx_engine_submit_burst_pf(), which prefetches
 * each command's books, ClOrdID index and (with the risk's hint) account
 * and position a few commands ahead in three stages (engine/prefetch.c),
 * and gives the same events as one dtx_engine_submit() per command; each
 * admin command is carried out alone where it stands (admin_execute), so
 * an order after a kill switch or a limit change in the same burst meets
 * the new state. The engine's sink is core_sink, called once per command
 * before the next one runs, so events leave in command order.
 *
 * last_seq is published per run and per admin command, not per command
 * inside a run (the engine has the run): it is a relaxed counter for the
 * stats line (dtx_core_stats_get: the daemon's periodic log, tests after
 * a poll), orders nothing, and is exact whenever dtx_core_poll() returns.
 */
size_t dtx_core_poll(dtx_core *c)
{
    const void *recs;
    dtx_command cmds[CORE_BURST];
    size_t n, i, done = 0;
    uint64_t now = core_now(c);

    n = dtx_ring_read_begin(c->commands, &recs);
    if (n > CORE_BURST)
        n = CORE_BURST;
    if (n)
        memcpy(cmds, recs, n * sizeof *cmds);
    for (i = 0; i < n; i++) {
        cmds[i].seq = c->next_seq++;
        cmds[i].ts = now;
    }
    for (i = 0; i < n;) {
        size_t j = i;
        while (j < n && !is_admin(cmds[j].type))
            j++;
        if (j > i)
            dtx_engine_submit_burst_pf(c->engine, &cmds[i], j - i, c->risk ? risk_prefetch : NULL, c->risk);
        else
            admin_execute(c, &cmds[j++]);
        atomic_store_explicit(&c->last_seq, cmds[j - 1].seq, memory_order_relaxed);
        i = j;
    }
    dtx_ring_read_end(c->commands, n);
    done += n;

    if (c->tick_ns) {
        if (c->next_time_ts == 0) {
            c->next_time_ts = now + c->tick_ns;
        } else if (now >= c->next_time_ts) {
            dtx_command t = dtx_command_blank(DTX_CMD_TIME);
            submit(c, &t, now);
            c->next_time_ts = now + c->tick_ns;
            count(&c->n_time, 1);
            done++;
        }
    }
    count(&c->n_commands, done);
    return done;
}

void *dtx_core_run(void *arg)
{
    dtx_core *c = arg;
    while (!atomic_load_explicit(&c->stop, memory_order_acquire)) {
        if (dtx_core_poll(c) == 0) {
            uint32_t ms = CORE_IDLE_MAX_MS;
            if (c->tick_ns) {
                uint64_t now = c->clock(c->clock_ctx);
                uint64_t left = c->next_time_ts > now ? c->next_time_ts - now : 0;
                uint64_t left_ms = (left + 999999) / 1000000;
                if (left_ms < ms)
                    ms = (uint32_t)left_ms;
            }
            if (ms > 0)
                dtx_ring_wait_readable(c->commands, ms);
        }
    }
    /* Stopping: what the gateway handed over before it closed its input is
     * still processed, so every accepted command gets its events. */
    while (dtx_ring_count(c->commands) > 0)
        dtx_core_poll(c);
    return NULL;
}

void dtx_core_stop(dtx_core *c)
{
    /* Release pairs with the run loop's acquire load of stop. */
    atomic_store_explicit(&c->stop, 1, memory_order_release);
    dtx_ring_wake(c->commands);
}

void dtx_core_stats_get(const dtx_core *c, dtx_core_stats *out)
{
    out->commands = atomic_load_explicit(&c->n_commands, memory_order_relaxed);
    out->time_ticks = atomic_load_explicit(&c->n_time, memory_order_relaxed);
    out->events = atomic_load_explicit(&c->n_events, memory_order_relaxed);
    out->event_waits = atomic_load_explicit(&c->n_event_waits, memory_order_relaxed);
    out->last_seq = atomic_load_explicit(&c->last_seq, memory_order_relaxed);
    out->audit_refused = atomic_load_explicit(&c->n_audit_refused, memory_order_relaxed);
}
