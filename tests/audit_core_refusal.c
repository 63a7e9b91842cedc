/*
 * audit_core_refusal.c - every change applied is audited: the core asks the
 * audit log writer (dtx/audit_log.h) for room for a change's records before
 * it applies the change, and refuses the change AuditUnavailable (21) when
 * the ring has no room (its writer behind a failing disk; here no writer
 * runs until the test drains the ring). A refused change leaves the risk
 * state, the accounts, the books, the instrument's status and the marks as
 * they were and writes no record; queries and orders are answered as
 * always; once the writer has drained the ring changes are applied and
 * audited again.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtx/admin.h"
#include "dtx/audit_log.h"
#include "dtx/core.h"
#include "dtx/risk.h"
#include "dtx/types.h"
#include "support/core_fixture.h"

#define PX(usd) ((int64_t)(usd) * 1000000000LL) /* PRICE9 */
#define MONEY(usd) ((int64_t)(usd) * DTX_RISK_MONEY_ONE)
#define ADMIN_SESSION 5
#define MAX_EVENTS 1024
#define AUDIT_RING 4 /* records the core may queue ahead of the writer */


static dtx_ring *cmds, *evs;
static dtx_core *core;
static dtx_risk *risk;
static dtx_audit_log *alog;
static dtx_event events[MAX_EVENTS];
static size_t n_events;
static char path[64];
static int fd = -1;

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/dtx-audit-core-XXXXXX"); /* mkstemp's template */
    fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    alog = dtx_audit_log_create(fd, path, AUDIT_RING, DTX_WAIT_BLOCK);
    cr_assert_not_null(alog, "%s", dtx_error_message());
    cfx_opts o = {.command_ring = 1024, .event_ring = 4096, .clock = cfx_clock, .audit = dtx_audit_log_record,
                  .audit_reserve = dtx_audit_log_reserve, .audit_ctx = alog};
    core = cfx_core_create(&o, &risk, &cmds, &evs);
    n_events = 0;
}

static void teardown(void)
{
    dtx_core_destroy(core);
    dtx_risk_destroy(risk);
    dtx_ring_destroy(cmds);
    dtx_ring_destroy(evs);
    dtx_audit_log_destroy(alog);
    close(fd);
    unlink(path);
}

TestSuite(audit_core_refusal, .init = setup, .fini = teardown);

/* Runs one command through the core; returns the index of its first event. */
static size_t run1(dtx_command c)
{
    size_t first = n_events;
    cr_assert_eq(dtx_ring_push(cmds, &c, 1), 1);
    while (dtx_ring_count(cmds) > 0)
        dtx_core_poll(core);
    dtx_event ev;
    while (dtx_ring_pop(evs, &ev, 1) == 1) {
        cr_assert_lt(n_events, MAX_EVENTS);
        events[n_events++] = ev;
    }
    return first;
}

static dtx_command admin(uint16_t type, uint64_t request, uint32_t target)
{
    dtx_command c = dtx_command_blank(type);
    c.session = ADMIN_SESSION;
    c.key_id = 0x03cd67abu;
    c.clordid = request;
    c.target_account = target;
    return c;
}

static dtx_command max_order_qty(uint64_t request, int64_t value)
{
    dtx_command c = admin(DTX_CMD_RISK_SET, request, 1);
    c.param = DTX_RISK_PARAM_MAX_ORDER_QTY;
    c.security_id = 1;
    c.value = value;
    return c;
}

static dtx_command mark(uint64_t request, int64_t px, int64_t index_px)
{
    dtx_command c = admin(DTX_CMD_MARK_PRICE, request, UINT32_MAX);
    c.security_id = 1;
    c.price = px;
    c.stop_px = index_px;
    return c;
}

/* The command at events[e] was answered by exactly one event of type. */
static const dtx_event *only_answer(size_t e, uint8_t type, uint64_t request)
{
    cr_assert_eq(n_events, e + 1, "%zu events, not 1", n_events - e);
    cr_assert_eq(events[e].type, type, "%s, not %s", dtx_event_type_name(events[e].type),
                 dtx_event_type_name(type));
    cr_assert_eq(events[e].clordid, request);
    cr_assert_eq(events[e].session, ADMIN_SESSION);
    return &events[e];
}

static void refused(dtx_command c)
{
    size_t e = run1(c);
    const dtx_event *r = only_answer(e, DTX_EV_ADMIN_REJECT, c.clordid);
    cr_assert_eq(r->reject_reason, DTX_REJ_AUDIT_UNAVAILABLE, "reason %u %s", r->reject_reason,
                 dtx_reject_reason_name(r->reject_reason));
    cr_assert_eq(r->ref_cmd_type, c.type);
    cr_assert_str_eq(dtx_reject_reason_name(r->reject_reason), "AuditUnavailable");
}

static int64_t read_param(uint16_t param, uint32_t account, uint32_t sec)
{
    dtx_risk_change ch = {.param = param, .account = account, .security_id = sec};
    cr_assert_eq(dtx_risk_read(risk, &ch), DTX_OK);
    return ch.old_value;
}

static dtx_audit_log_stats audit_stats(void)
{
    dtx_audit_log_stats st;
    dtx_audit_log_stats_get(alog, &st);
    return st;
}

/* Plays the writer for a moment: writes what the ring holds, then returns. */
static void drain(void)
{
    dtx_audit_log_stop(alog);
    cr_assert_null(dtx_audit_log_run(alog));
    cr_assert_eq(audit_stats().unwritten, 0);
}

static int file_lines(void)
{
    char buf[8192];
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    int k = 0;
    for (ssize_t i = 0; i < n; i++)
        k += buf[i] == '\n';
    return k;
}

Test(audit_core_refusal, a_limit_change_without_room_for_its_record_is_refused_audit_unavailable_and_not_applied)
{
    size_t e;
    for (int i = 0; i < AUDIT_RING; i++) {
        e = run1(max_order_qty(1 + (uint64_t)i, 100 + i));
        only_answer(e, DTX_EV_ADMIN_ACK, 1 + (uint64_t)i);
    }
    cr_assert_eq(read_param(DTX_RISK_PARAM_MAX_ORDER_QTY, 1, 1), 103);
    cr_assert_eq(audit_stats().records, AUDIT_RING);

    /* the ring is full: the fifth change is refused before it is applied */
    refused(max_order_qty(5, 500));
    cr_assert_eq(read_param(DTX_RISK_PARAM_MAX_ORDER_QTY, 1, 1), 103, "the limit changed");
    dtx_audit_log_stats st = audit_stats();
    cr_assert_eq(st.records, AUDIT_RING, "a refused change has no record");
    cr_assert_eq(st.refused, 1);
    cr_assert_eq(st.full_waits, 0, "the core never waits for the writer");
    dtx_core_stats cs;
    dtx_core_stats_get(core, &cs);
    cr_assert_eq(cs.audit_refused, 1);
    cr_assert_eq(cs.last_seq, 5, "a refused change is sequenced like any command");

    /* the writer catches up: the same change is applied and audited */
    drain();
    cr_assert_eq(file_lines(), AUDIT_RING);
    e = run1(max_order_qty(6, 500));
    const dtx_event *a = only_answer(e, DTX_EV_ADMIN_ACK, 6);
    cr_assert_eq(dtx_admin_ev_get(a, 0), 103);
    cr_assert_eq(dtx_admin_ev_get(a, 1), 500);
    cr_assert_eq(read_param(DTX_RISK_PARAM_MAX_ORDER_QTY, 1, 1), 500);
    drain();
    cr_assert_eq(file_lines(), AUDIT_RING + 1);
    dtx_core_stats_get(core, &cs);
    cr_assert_eq(cs.audit_refused, 1);
}

Test(audit_core_refusal, with_the_ring_full_no_kind_of_change_is_applied_while_queries_and_orders_go_on)
{
    size_t e;
    dtx_risk_account_view v;
    /* accounts 1 and 2 have collateral, 1 a resting order; four records
     * fill the ring */
    for (uint32_t acct = 1; acct <= 2; acct++) {
        dtx_command dep = admin(DTX_CMD_DEPOSIT, acct, acct);
        dep.value = MONEY(100000);
        only_answer(run1(dep), DTX_EV_ADMIN_ACK, acct);
    }
    only_answer(run1(mark(3, PX(50000), DTX_PRICE_NULL)), DTX_EV_ADMIN_ACK, 3);
    e = run1(cfx_limit_order(1, 77, 1, DTX_SIDE_BUY, PX(49000), 1));
    cr_assert_eq(events[e].type, DTX_EV_NEW);
    only_answer(run1(max_order_qty(4, 20)), DTX_EV_ADMIN_ACK, 4);
    cr_assert_eq(audit_stats().records, AUDIT_RING);

    /* every kind of change is refused AuditUnavailable and changes nothing */
    refused(max_order_qty(10, 30));
    cr_assert_eq(read_param(DTX_RISK_PARAM_MAX_ORDER_QTY, 1, 1), 20);

    dtx_command k = admin(DTX_CMD_KILL_SWITCH, 11, 1);
    k.status = 1;
    refused(k);
    cr_assert_eq(dtx_risk_account(risk, 1, &v), DTX_OK);
    cr_assert_eq(v.enabled, 1, "the account was disabled");
    cr_assert_eq(v.open_orders, 1, "its order was canceled");

    dtx_command d = admin(DTX_CMD_DEPOSIT, 12, 1);
    d.value = MONEY(5);
    refused(d);
    dtx_command w = admin(DTX_CMD_WITHDRAW, 13, 1);
    w.value = MONEY(5);
    refused(w);
    cr_assert_eq(dtx_risk_account(risk, 1, &v), DTX_OK);
    cr_assert_eq(v.collateral, MONEY(100000));

    dtx_command h = admin(DTX_CMD_ADMIN_STATUS, 14, UINT32_MAX);
    h.security_id = 1;
    h.status = DTX_TRADING_HALTED;
    refused(h);

    refused(mark(15, PX(51000), PX(50990)));
    refused(mark(16, PX(51000), DTX_PRICE_NULL));
    cr_assert_eq(read_param(DTX_RISK_PARAM_MARK_PRICE, UINT32_MAX, 1), PX(50000));

    dtx_core_stats cs;
    dtx_core_stats_get(core, &cs);
    cr_assert_eq(cs.audit_refused, 7);
    cr_assert_eq(audit_stats().refused, 7);
    cr_assert_eq(audit_stats().records, AUDIT_RING);

    /* a query needs no record: answered as always */
    e = run1(admin(DTX_CMD_ACCOUNT_QUERY, 17, 1));
    cr_assert_eq(events[e].type, DTX_EV_ACCOUNT_REPORT);
    cr_assert_eq(dtx_admin_ev_get(&events[e], 0), MONEY(100000));
    cr_assert_eq(events[n_events - 1].type, DTX_EV_ADMIN_ACK);

    /* orders never touch the audit log: the instrument is still open, the
     * account still enabled, and a cross trades */
    e = run1(cfx_limit_order(2, 88, 1, DTX_SIDE_SELL, PX(49000), 1));
    cr_assert_eq(events[e].type, DTX_EV_NEW, "%s", dtx_event_type_name(events[e].type));
    int fills = 0;
    for (size_t i = e; i < n_events; i++)
        fills += events[i].type == DTX_EV_FILL;
    cr_assert_eq(fills, 2, "one FILL per side");
    cr_assert_eq(audit_stats().records, AUDIT_RING);
}

Test(audit_core_refusal, a_mark_with_an_index_price_needs_two_slots_and_is_refused_with_only_one)
{
    size_t e;
    for (int i = 0; i < AUDIT_RING - 1; i++)
        run1(max_order_qty(1 + (uint64_t)i, 100 + i));
    cr_assert_eq(audit_stats().records, AUDIT_RING - 1);
    /* one slot left: the mark and its index (two records) are refused whole */
    refused(mark(10, PX(60000), PX(59990)));
    cr_assert_eq(read_param(DTX_RISK_PARAM_MARK_PRICE, UINT32_MAX, 1), DTX_PRICE_NULL);
    /* the mark alone (one record) fits */
    e = run1(mark(11, PX(60000), DTX_PRICE_NULL));
    const dtx_event *a = only_answer(e, DTX_EV_ADMIN_ACK, 11);
    cr_assert_eq(dtx_admin_ev_get(a, 1), PX(60000));
    cr_assert_eq(dtx_admin_ev_get(a, 3), DTX_PRICE_NULL, "no index price was set");
    cr_assert_eq(read_param(DTX_RISK_PARAM_MARK_PRICE, UINT32_MAX, 1), PX(60000));
    drain();
    cr_assert_eq(file_lines(), AUDIT_RING);
}
