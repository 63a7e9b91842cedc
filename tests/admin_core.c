/*
 * admin_core.c - role commands in the core thread (dtx/admin.h): each
 * accepted change is applied after sequencing, audited once per value with
 * who, what, old and new value and when, and acknowledged; a refused one is
 * rejected and leaves no audit record; the kill switch cancels every order of
 * the account (CancelReason Risk) in the middle of a stream of orders and
 * blocks its new ones until it is undone; queries report the risk views; and
 * every FILL carries the fee the risk module charges for it.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtx/admin.h"
#include "dtx/core.h"
#include "dtx/risk.h"
#include "dtx/types.h"
#include "support/core_fixture.h"

#define PX(usd) ((int64_t)(usd) * 1000000000LL) /* PRICE9 */
#define MONEY(usd) ((int64_t)(usd) * DTX_RISK_MONEY_ONE)
#define T0 CFX_T0
#define ADMIN_SESSION 5
#define ADMIN_ACCOUNT 0
#define ADMIN_KEY 0x03cd67abu
#define MAX_EVENTS 8192
#define MAX_AUDIT 64


static dtx_ring *cmds, *evs;
static dtx_core *core;
static dtx_risk *risk;
static dtx_event events[MAX_EVENTS];
static size_t n_events;
static dtx_audit_record audit[MAX_AUDIT];
static char audit_line[MAX_AUDIT][512];
static size_t n_audit;

static void on_audit(void *ctx, const dtx_audit_record *r)
{
    (void)ctx;
    cr_assert_lt(n_audit, MAX_AUDIT);
    audit[n_audit] = *r;
    dtx_audit_format(r, audit_line[n_audit], sizeof audit_line[n_audit]);
    n_audit++;
}

static void setup(void)
{
    cfx_opts o = {.command_ring = 4096, .event_ring = 16384, .clock = cfx_clock, .audit = on_audit};
    core = cfx_core_create(&o, &risk, &cmds, &evs);
    n_events = 0;
    n_audit = 0;
}

static void teardown(void)
{
    dtx_core_destroy(core);
    dtx_risk_destroy(risk);
    dtx_ring_destroy(cmds);
    dtx_ring_destroy(evs);
}

TestSuite(admin_core, .init = setup, .fini = teardown);

/* Runs the commands through the core; returns the index of the first event
 * they produced in events[]. */
static size_t run(const dtx_command *c, size_t n)
{
    size_t first = n_events;
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(dtx_ring_push(cmds, &c[i], 1), 1);
    while (dtx_ring_count(cmds) > 0)
        dtx_core_poll(core);
    dtx_event ev;
    while (dtx_ring_pop(evs, &ev, 1) == 1) {
        cr_assert_lt(n_events, MAX_EVENTS);
        events[n_events++] = ev;
    }
    return first;
}

static size_t run1(dtx_command c) { return run(&c, 1); }

static dtx_command admin(uint16_t type, uint64_t request, uint32_t target)
{
    dtx_command c = dtx_command_blank(type);
    c.session = ADMIN_SESSION;
    c.account = ADMIN_ACCOUNT;
    c.key_id = ADMIN_KEY;
    c.clordid = request;
    c.target_account = target;
    return c;
}

static dtx_command risk_set(uint64_t request, uint16_t param, uint32_t target, uint32_t sec,
                            int64_t value)
{
    dtx_command c = admin(DTX_CMD_RISK_SET, request, target);
    c.param = param;
    c.security_id = sec;
    c.value = value;
    return c;
}

static dtx_command money(uint16_t type, uint64_t request, uint32_t target, int64_t amount)
{
    dtx_command c = admin(type, request, target);
    c.value = amount;
    return c;
}

/* The single answer event at index i, of the given type, to request. */
static const dtx_event *answer_at(size_t i, uint8_t type, uint64_t request)
{
    cr_assert_lt(i, n_events);
    cr_assert_eq(events[i].type, type, "event %zu is %s, not %s", i,
                 dtx_event_type_name(events[i].type), dtx_event_type_name(type));
    cr_assert_eq(events[i].clordid, request);
    cr_assert_eq(events[i].session, ADMIN_SESSION);
    return &events[i];
}

static void check_audit(size_t i, uint16_t cmd_type, uint64_t request, const char *what,
                        uint32_t target, uint32_t sec, int64_t old_value, int64_t new_value)
{
    cr_assert_lt(i, n_audit, "audit record %zu missing (%zu)", i, n_audit);
    const dtx_audit_record *r = &audit[i];
    cr_assert_eq(r->cmd_type, cmd_type, "record %zu: %s", i, audit_line[i]);
    cr_assert_eq(r->request_id, request, "%s", audit_line[i]);
    cr_assert_str_eq(r->what, what, "%s", audit_line[i]);
    cr_assert_eq(r->target_account, target, "%s", audit_line[i]);
    cr_assert_eq(r->security_id, sec, "%s", audit_line[i]);
    cr_assert_eq(r->old_value, old_value, "%s", audit_line[i]);
    cr_assert_eq(r->new_value, new_value, "%s", audit_line[i]);
    cr_assert_eq(r->session, ADMIN_SESSION);
    cr_assert_eq(r->account, ADMIN_ACCOUNT);
    cr_assert_eq(r->key_id, ADMIN_KEY);
    cr_assert_eq(r->ts, T0);
}

Test(admin_core, every_accepted_change_is_audited_once_with_old_and_new_value_and_acknowledged)
{
    size_t e;
    e = run1(risk_set(1, DTX_RISK_PARAM_MAX_ORDER_QTY, 1, 1, 100));
    const dtx_event *a = answer_at(e, DTX_EV_ADMIN_ACK, 1);
    cr_assert_eq(dtx_admin_ev_get(a, 0), 0);
    cr_assert_eq(dtx_admin_ev_get(a, 1), 100);
    cr_assert_eq(a->contra_account, 1);
    cr_assert_eq(a->contra_session, DTX_RISK_PARAM_MAX_ORDER_QTY);
    cr_assert_eq(a->seq, 1);
    check_audit(0, DTX_CMD_RISK_SET, 1, "max_order_qty", 1, 1, 0, 100);
    cr_assert_eq(audit[0].seq, 1);

    run1(risk_set(2, DTX_RISK_PARAM_MAX_OPEN_ORDERS, DTX_RISK_DEFAULT_ACCOUNT, 0, 50));
    check_audit(1, DTX_CMD_RISK_SET, 2, "max_open_orders", DTX_RISK_DEFAULT_ACCOUNT, 0, 0, 50);

    run1(risk_set(3, DTX_RISK_PARAM_INITIAL_MARGIN, DTX_RISK_DEFAULT_ACCOUNT, 1, 20000000));
    check_audit(2, DTX_CMD_RISK_SET, 3, "initial_margin", DTX_RISK_DEFAULT_ACCOUNT, 1, 10000000,
                20000000);

    e = run1(money(DTX_CMD_DEPOSIT, 4, 1, MONEY(1000)));
    cr_assert_eq(dtx_admin_ev_get(answer_at(e, DTX_EV_ADMIN_ACK, 4), 1), MONEY(1000));
    check_audit(3, DTX_CMD_DEPOSIT, 4, "collateral", 1, 0, 0, MONEY(1000));
    run1(money(DTX_CMD_WITHDRAW, 5, 1, MONEY(300)));
    check_audit(4, DTX_CMD_WITHDRAW, 5, "collateral", 1, 0, MONEY(1000), MONEY(700));

    dtx_command st = admin(DTX_CMD_ADMIN_STATUS, 6, UINT32_MAX);
    st.security_id = 2;
    st.status = DTX_TRADING_HALTED;
    e = run1(st);
    /* the engine's STATUS event, then the acknowledgement */
    cr_assert_eq(events[e].type, DTX_EV_STATUS);
    cr_assert_eq(answer_at(e + 1, DTX_EV_ADMIN_ACK, 6)->status, DTX_TRADING_HALTED);
    check_audit(5, DTX_CMD_ADMIN_STATUS, 6, "trading_status", UINT32_MAX, 2, DTX_TRADING_OPEN,
                DTX_TRADING_HALTED);

    dtx_command mk = admin(DTX_CMD_MARK_PRICE, 7, UINT32_MAX);
    mk.security_id = 1;
    mk.price = PX(100000);
    mk.stop_px = PX(99990);
    e = run1(mk);
    a = answer_at(e, DTX_EV_ADMIN_ACK, 7);
    cr_assert_eq(dtx_admin_ev_get(a, 0), DTX_PRICE_NULL);
    cr_assert_eq(dtx_admin_ev_get(a, 1), PX(100000));
    cr_assert_eq(dtx_admin_ev_get(a, 2), DTX_PRICE_NULL);
    cr_assert_eq(dtx_admin_ev_get(a, 3), PX(99990));
    check_audit(6, DTX_CMD_MARK_PRICE, 7, "mark_price", UINT32_MAX, 1, DTX_PRICE_NULL, PX(100000));
    check_audit(7, DTX_CMD_MARK_PRICE, 7, "index_price", UINT32_MAX, 1, DTX_PRICE_NULL, PX(99990));

    dtx_command k = admin(DTX_CMD_KILL_SWITCH, 8, 1);
    k.status = 1;
    run1(k);
    check_audit(8, DTX_CMD_KILL_SWITCH, 8, "account_enabled", 1, 0, 1, 0);
    k.clordid = 9;
    k.status = 0;
    run1(k);
    check_audit(9, DTX_CMD_KILL_SWITCH, 9, "account_enabled", 1, 0, 0, 1);
    cr_assert_eq(n_audit, 10);
    cr_assert_eq(audit[9].seq, 9, "one sequence number per command");

    /* the line written to the audit log */
    cr_assert_str_eq(audit_line[0],
                     "ts=2027-01-15T08:00:00.000000000Z seq=1 cmd=RISK_SET session=5 account=0 "
                     "key=03cd67ab request=1 what=max_order_qty target_account=1 security_id=1 "
                     "old=0 new=100 affected=0");
    cr_assert_str_eq(audit_line[1] + strlen("ts=2027-01-15T08:00:00.000000000Z seq=2 "),
                     "cmd=RISK_SET session=5 account=0 key=03cd67ab request=2 "
                     "what=max_open_orders target_account=default security_id=0 old=0 new=50 "
                     "affected=0");

    /* and the changes took effect */
    dtx_risk_change ch = {.param = DTX_RISK_PARAM_MAX_ORDER_QTY, .account = 1, .security_id = 1};
    cr_assert_eq(dtx_risk_read(risk, &ch), DTX_OK);
    cr_assert_eq(ch.new_value, 100);
}

Test(admin_core, a_refused_change_is_rejected_changes_nothing_and_is_not_audited)
{
    uint64_t before = dtx_risk_digest(risk);
    /* maintenance not below initial */
    size_t e = run1(risk_set(1, DTX_RISK_PARAM_MAINT_MARGIN, DTX_RISK_DEFAULT_ACCOUNT, 1,
                             10000000));
    cr_assert_eq(answer_at(e, DTX_EV_ADMIN_REJECT, 1)->reject_reason, DTX_REJ_INVALID_FIELD);
    /* unknown instrument */
    e = run1(risk_set(2, DTX_RISK_PARAM_PRICE_BAND, DTX_RISK_DEFAULT_ACCOUNT, 77, 1));
    cr_assert_eq(answer_at(e, DTX_EV_ADMIN_REJECT, 2)->reject_reason, DTX_REJ_UNKNOWN_INSTRUMENT);
    /* unknown account */
    e = run1(money(DTX_CMD_DEPOSIT, 3, 99, MONEY(1)));
    cr_assert_eq(answer_at(e, DTX_EV_ADMIN_REJECT, 3)->reject_reason, DTX_REJ_INVALID_FIELD);
    /* more than the collateral */
    e = run1(money(DTX_CMD_WITHDRAW, 4, 1, MONEY(1)));
    cr_assert_eq(answer_at(e, DTX_EV_ADMIN_REJECT, 4)->reject_reason,
                 DTX_REJ_INSUFFICIENT_MARGIN);
    /* the kill switch only through its own command */
    e = run1(risk_set(5, DTX_RISK_PARAM_ACCOUNT_ENABLED, 1, 0, 0));
    cr_assert_eq(answer_at(e, DTX_EV_ADMIN_REJECT, 5)->reject_reason, DTX_REJ_INVALID_FIELD);
    dtx_command st = admin(DTX_CMD_ADMIN_STATUS, 6, UINT32_MAX);
    st.security_id = 1;
    st.status = 9;
    e = run1(st);
    cr_assert_eq(answer_at(e, DTX_EV_ADMIN_REJECT, 6)->reject_reason, DTX_REJ_INVALID_FIELD);
    cr_assert_eq(n_events, 6, "one reject each, nothing else");
    cr_assert_eq(n_audit, 0);
    cr_assert_eq(dtx_risk_digest(risk), before);
}

Test(admin_core, each_fill_carries_the_fee_the_risk_module_charges)
{
    run1(money(DTX_CMD_DEPOSIT, 1, 1, MONEY(100000)));
    run1(money(DTX_CMD_DEPOSIT, 2, 2, MONEY(100000)));
    run1(cfx_limit_order(2, 10, 1, DTX_SIDE_BUY, PX(100000), 3)); /* maker */
    size_t e = run1(cfx_limit_order(1, 11, 1, DTX_SIDE_SELL, PX(100000), 2)); /* taker */
    int fills = 0;
    for (size_t i = e; i < n_events; i++) {
        if (events[i].type != DTX_EV_FILL)
            continue;
        fills++;
        /* 2 contracts x 100000 USD x 0.001 = 200 USD notional */
        if (events[i].account == 1)
            cr_assert_eq(events[i].fee, 100000, "taker 0.05 %% of 200 USD = 0.10 USD");
        else
            cr_assert_eq(events[i].fee, -20000, "maker rebate 0.01 %% = 0.02 USD");
    }
    cr_assert_eq(fills, 2);
    dtx_risk_position_view p;
    cr_assert_eq(dtx_risk_position(risk, 1, 1, &p), DTX_OK);
    cr_assert_eq(p.fees, 100000, "the fee reported is the fee charged");
    cr_assert_eq(dtx_risk_position(risk, 2, 1, &p), DTX_OK);
    cr_assert_eq(p.fees, -20000);
}

Test(admin_core, halt_rejects_new_orders_and_resume_accepts_them_again)
{
    run1(money(DTX_CMD_DEPOSIT, 1, 1, MONEY(100000)));
    dtx_command st = admin(DTX_CMD_ADMIN_STATUS, 2, UINT32_MAX);
    st.security_id = 1;
    st.status = DTX_TRADING_HALTED;
    run1(st);
    size_t e = run1(cfx_limit_order(1, 10, 1, DTX_SIDE_BUY, PX(100000), 1));
    cr_assert_eq(events[e].type, DTX_EV_REJECT);
    cr_assert_eq(events[e].reject_reason, DTX_REJ_INSTRUMENT_HALTED);
    st.clordid = 3;
    st.status = DTX_TRADING_OPEN;
    e = run1(st);
    cr_assert_eq(dtx_admin_ev_get(answer_at(e + 1, DTX_EV_ADMIN_ACK, 3), 0), DTX_TRADING_HALTED);
    e = run1(cfx_limit_order(1, 11, 1, DTX_SIDE_BUY, PX(100000), 1));
    cr_assert_eq(events[e].type, DTX_EV_NEW);
}

Test(admin_core, account_query_reports_the_account_its_positions_then_an_ack_with_the_count)
{
    run1(money(DTX_CMD_DEPOSIT, 1, 1, MONEY(1000)));
    run1(money(DTX_CMD_DEPOSIT, 2, 2, MONEY(1000)));
    run1(cfx_limit_order(2, 10, 1, DTX_SIDE_BUY, PX(100000), 3));
    run1(cfx_limit_order(1, 11, 1, DTX_SIDE_SELL, PX(100000), 2));
    run1(cfx_limit_order(1, 12, 1, DTX_SIDE_SELL, PX(100100), 4));
    dtx_risk_account_view v;
    dtx_risk_position_view p;
    cr_assert_eq(dtx_risk_account(risk, 1, &v), DTX_OK);
    cr_assert_eq(dtx_risk_position(risk, 1, 1, &p), DTX_OK);
    size_t e = run1(admin(DTX_CMD_ACCOUNT_QUERY, 5, 1));
    cr_assert_eq(n_events - e, 3, "account, one position, ack");
    const dtx_event *r = answer_at(e, DTX_EV_ACCOUNT_REPORT, 5);
    cr_assert_eq(r->contra_account, 1);
    cr_assert_eq(r->status, 1);
    cr_assert_eq(dtx_admin_ev_get(r, 0), v.collateral);
    cr_assert_eq(dtx_admin_ev_get(r, 2), v.equity);
    cr_assert_eq(dtx_admin_ev_get(r, 3), v.initial_margin);
    cr_assert_eq(dtx_admin_ev_get(r, 4), v.order_margin);
    cr_assert_gt(v.order_margin, 0);
    cr_assert_eq(dtx_admin_ev_get(r, 5), v.maint_margin);
    cr_assert_eq(dtx_admin_ev_get(r, 7), v.margin_ratio);
    cr_assert_eq(dtx_admin_ev_get(r, 8), 1, "one open order");
    r = answer_at(e + 1, DTX_EV_POSITION_REPORT, 5);
    cr_assert_eq(r->security_id, 1);
    cr_assert_eq(dtx_admin_ev_get(r, 0), -2);
    cr_assert_eq(dtx_admin_ev_get(r, 1), PX(100000));
    cr_assert_eq(dtx_admin_ev_get(r, 3), p.fees);
    cr_assert_eq(dtx_admin_ev_get(r, 8), 4, "open sell qty");
    cr_assert_eq(dtx_admin_ev_get(answer_at(e + 2, DTX_EV_ADMIN_ACK, 5), 4), 2);
    cr_assert_eq(n_audit, 2, "queries are not audited (the two deposits are)");
}

Test(admin_core, limit_query_reports_the_values_set_and_the_instrument_parameters)
{
    run1(risk_set(1, DTX_RISK_PARAM_MAX_POSITION, 3, 1, 40));
    run1(risk_set(2, DTX_RISK_PARAM_MAX_NOTIONAL, DTX_RISK_DEFAULT_ACCOUNT, 0, MONEY(5000)));
    dtx_command q = admin(DTX_CMD_LIMIT_QUERY, 3, 3);
    q.security_id = 1;
    size_t e = run1(q);
    cr_assert_eq(n_events - e, 3);
    const dtx_event *r = answer_at(e, DTX_EV_LIMIT_REPORT, 3);
    cr_assert_eq(r->contra_account, 3);
    cr_assert_eq(dtx_admin_ev_get(r, 0), 0, "max order qty not set");
    cr_assert_eq(dtx_admin_ev_get(r, 1), 40);
    cr_assert_eq(dtx_admin_ev_get(r, 2), 0, "the account's own max notional is not set");
    r = answer_at(e + 1, DTX_EV_RISK_PARAM_REPORT, 3);
    cr_assert_eq(dtx_admin_ev_get(r, 0), 10000000, "1 %% initial");
    cr_assert_eq(dtx_admin_ev_get(r, 1), 5000000);
    cr_assert_eq(dtx_admin_ev_get(r, 5), 500000, "taker 0.05 %%");
    cr_assert_eq(dtx_admin_ev_get(r, 6), DTX_PRICE_NULL, "no mark yet");
    cr_assert_eq(dtx_admin_ev_get(r, 8), DTX_TRADING_OPEN);
    cr_assert_eq(dtx_admin_ev_get(answer_at(e + 2, DTX_EV_ADMIN_ACK, 3), 4), 2);
    q = admin(DTX_CMD_LIMIT_QUERY, 4, DTX_RISK_DEFAULT_ACCOUNT);
    e = run1(q);
    cr_assert_eq(dtx_admin_ev_get(answer_at(e, DTX_EV_LIMIT_REPORT, 4), 2), MONEY(5000));
    cr_assert_eq(n_events - e, 2, "no instrument: limits and the ack");
}

Test(admin_core, margin_watch_lists_the_accounts_nearest_maintenance_lowest_ratio_first)
{
    run1(money(DTX_CMD_DEPOSIT, 1, 1, MONEY(10)));
    run1(money(DTX_CMD_DEPOSIT, 2, 2, MONEY(1000)));
    run1(money(DTX_CMD_DEPOSIT, 3, 3, MONEY(1000)));
    run1(cfx_limit_order(2, 10, 1, DTX_SIDE_BUY, PX(100000), 5));
    run1(cfx_limit_order(1, 11, 1, DTX_SIDE_SELL, PX(100000), 5)); /* 1 short 5, 2 long 5 */
    dtx_command w = admin(DTX_CMD_MARGIN_WATCH, 7, UINT32_MAX);
    w.value = 5;
    size_t e = run1(w);
    cr_assert_eq(n_events - e, 3, "two accounts with a requirement, then the ack");
    cr_assert_eq(answer_at(e, DTX_EV_ACCOUNT_REPORT, 7)->contra_account, 1, "least equity first");
    cr_assert_eq(answer_at(e + 1, DTX_EV_ACCOUNT_REPORT, 7)->contra_account, 2);
    cr_assert_lt(dtx_admin_ev_get(&events[e], 7), dtx_admin_ev_get(&events[e + 1], 7));
    cr_assert_eq(dtx_admin_ev_get(answer_at(e + 2, DTX_EV_ADMIN_ACK, 7), 4), 2);
}

Test(admin_core, kill_switch_cancels_every_order_of_the_account_mid_stream_and_blocks_until_undone)
{
    const char *env = getenv("DTX_TEST_SEED"); /* reproduce: DTX_TEST_SEED=<seed> */
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    printf("admin_core kill switch: seed %u\n", seed);
    srand(seed);
    run1(money(DTX_CMD_DEPOSIT, 1, 1, MONEY(1000000)));
    run1(money(DTX_CMD_DEPOSIT, 2, 2, MONEY(1000000)));
    /* a stream of resting orders of accounts 1 and 2 (bids below asks, no
     * trade), with the kill switch of account 1 in the middle */
    dtx_command stream[400];
    size_t n = 0, kill_at = 150 + (size_t)(rand() % 100);
    uint64_t id = 100;
    for (size_t i = 0; i < 399; i++) {
        if (i == kill_at) {
            stream[n] = admin(DTX_CMD_KILL_SWITCH, 42, 1);
            stream[n++].status = 1;
            continue;
        }
        uint32_t acct = 1 + (uint32_t)(rand() % 2);
        int buy = rand() % 2;
        int64_t px = buy ? 99000 + rand() % 500 : 101000 + rand() % 500;
        stream[n++] = cfx_limit_order(acct, id++, 1, buy ? DTX_SIDE_BUY : DTX_SIDE_SELL, PX(px), 1);
    }
    size_t e = run(stream, n);
    size_t new1_before = 0, canceled = 0, ack_at = 0, new2 = 0, rej1_after = 0, new1_after = 0;
    int acked = 0;
    for (size_t i = e; i < n_events; i++) {
        const dtx_event *ev = &events[i];
        cr_assert_neq(ev->type, DTX_EV_MASS_CANCEL_REPORT, "the kill switch sends no 206");
        if (ev->type == DTX_EV_ADMIN_ACK) {
            acked = 1;
            ack_at = i;
            cr_assert_eq(ev->clordid, 42);
            cr_assert_eq(ev->status, 1);
            continue;
        }
        if (ev->account == 2) {
            cr_assert_neq(ev->type, DTX_EV_CANCELED, "account 2 keeps its orders");
            new2 += ev->type == DTX_EV_NEW;
            continue;
        }
        if (ev->type == DTX_EV_CANCELED) {
            cr_assert_eq(ev->cancel_reason, DTX_CANCEL_RISK);
            cr_assert(!acked, "cancels come before the ack");
            canceled++;
        } else if (ev->type == DTX_EV_NEW) {
            if (acked)
                new1_after++;
            else
                new1_before++;
        } else if (ev->type == DTX_EV_REJECT) {
            cr_assert(acked);
            cr_assert_eq(ev->reject_reason, DTX_REJ_ACCOUNT_DISABLED);
            rej1_after++;
        }
    }
    cr_assert(acked);
    cr_assert_eq(new1_after, 0, "nothing of account 1 is accepted after the kill");
    cr_assert_gt(rej1_after, 0);
    cr_assert_eq(canceled, new1_before, "every order of account 1 was canceled");
    cr_assert_eq((size_t)dtx_admin_ev_get(&events[ack_at], 4), canceled);
    cr_assert_gt(new2, 0);
    dtx_risk_account_view v;
    cr_assert_eq(dtx_risk_account(risk, 1, &v), DTX_OK);
    cr_assert_eq(v.open_orders, 0);
    cr_assert_eq(v.enabled, 0);
    cr_assert_eq(dtx_risk_check(risk), DTX_OK, "%s", dtx_error_message());
    cr_assert_eq(n_audit, 3);
    cr_assert_eq(audit[2].affected, canceled);

    /* undo: account 1 trades again */
    dtx_command off = admin(DTX_CMD_KILL_SWITCH, 43, 1);
    off.status = 0;
    e = run1(off);
    cr_assert_eq(dtx_admin_ev_get(answer_at(e, DTX_EV_ADMIN_ACK, 43), 4), 0);
    e = run1(cfx_limit_order(1, 9999, 1, DTX_SIDE_BUY, PX(99000), 1));
    cr_assert_eq(events[e].type, DTX_EV_NEW);
}

/* Runs a fixed stream of orders and admin commands; returns the risk digest
 * and copies the events out. */
static uint64_t replay_stream(dtx_event *out, size_t *n_out)
{
    dtx_command s[32];
    size_t n = 0;
    s[n++] = money(DTX_CMD_DEPOSIT, 1, 1, MONEY(10000));
    s[n++] = money(DTX_CMD_DEPOSIT, 2, 2, MONEY(10000));
    s[n++] = cfx_limit_order(1, 10, 1, DTX_SIDE_BUY, PX(100000), 4);
    s[n++] = cfx_limit_order(1, 11, 1, DTX_SIDE_BUY, PX(99000), 4);
    s[n++] = risk_set(3, DTX_RISK_PARAM_TAKER_FEE, DTX_RISK_DEFAULT_ACCOUNT, 1, 1000000);
    s[n++] = cfx_limit_order(2, 12, 1, DTX_SIDE_SELL, PX(100000), 3);
    dtx_command mk = admin(DTX_CMD_MARK_PRICE, 4, UINT32_MAX);
    mk.security_id = 1;
    mk.price = PX(100500);
    s[n++] = mk;
    s[n++] = admin(DTX_CMD_ACCOUNT_QUERY, 5, 2);
    dtx_command k = admin(DTX_CMD_KILL_SWITCH, 6, 1);
    k.status = 1;
    s[n++] = k;
    s[n++] = cfx_limit_order(1, 13, 1, DTX_SIDE_BUY, PX(99000), 1);
    s[n++] = money(DTX_CMD_WITHDRAW, 7, 2, MONEY(100));
    run(s, n);
    if (out != events)
        memcpy(out, events, n_events * sizeof *events);
    *n_out = n_events;
    return dtx_risk_digest(risk);
}

Test(admin_core, the_same_input_stream_with_admin_commands_replays_to_the_same_events_and_state)
{
    static dtx_event first[MAX_EVENTS];
    size_t n1, n2;
    uint64_t d1 = replay_stream(first, &n1);
    size_t audit1 = n_audit;
    char line0[512];
    snprintf(line0, sizeof line0, "%s", audit_line[0]);
    teardown();
    setup();
    uint64_t d2 = replay_stream(events, &n2);
    cr_assert_eq(n1, n2);
    cr_assert_eq(memcmp(first, events, n1 * sizeof *events), 0, "events differ");
    cr_assert_eq(d1, d2, "risk state differs");
    cr_assert_eq(n_audit, audit1);
    cr_assert_str_eq(audit_line[0], line0);
    cr_assert_gt(n1, 12);
}
