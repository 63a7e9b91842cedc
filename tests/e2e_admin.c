/*
 * e2e_admin.c - dtx-admin against the real dtx-engine over loopback, with a
 * trader of the client library beside it: a limit set by the risk role
 * rejects the trader's next order; the kill switch cancels the trader's
 * orders (CancelReason Risk), rejects new ones and refuses a new logon until
 * undone; the operator halts and resumes an instrument; the oracle sets the
 * mark; a key outside its role gets NotAuthorized and changes nothing; the
 * account, session and margin-watch views print; every change is in the audit log with
 * its old and new value; and fills carry the risk module's fee.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dtx/sbe_7001.h"
#include "dtx/types.h"
#include "support/e2e_engine.h"

static e2e_engine eng;
static char out[1 << 16];

static void teardown(void) { e2e_cleanup(&eng); }

TestSuite(e2e_admin, .fini = teardown, .timeout = 180);

static void expect_out(const char *needle)
{
    cr_assert_not_null(strstr(out, needle), "missing \"%s\" in:\n%s", needle, out);
}

/* Runs dtx-admin with args after --port and --keys-file; returns its exit
 * status, output in out. */
static int admin(const char *a0, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char port[8];
    snprintf(port, sizeof port, "%u", eng.port);
    const char *args[12] = {"--port", port, "--keys-file", eng.keys_path};
    int n = 4;
    const char *extra[] = {a0, a1, a2, a3, a4};
    for (int i = 0; i < 5 && extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    return e2e_run(&eng, "dtx-admin", args, out, sizeof out);
}

static const char *audit_log(void)
{
    static char buf[1 << 14];
    char path[192];
    snprintf(path, sizeof path, "%s/dtx-audit.log", eng.dir);
    FILE *f = fopen(path, "r");
    size_t n = 0;
    if (f) {
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

Test(e2e_admin, risk_operator_and_oracle_commands_act_on_a_live_trader_and_are_audited)
{
    e2e_start(&eng, "[demo]\ncancel_on_disconnect = no\n");
    e2e_client *t = e2e_login(&eng, 1);
    dtx_sbe_new_order_single o = e2e_limit(1, DTX_SIDE_BUY, PX(65000), 2);
    e2e_send(t, &o);
    e2e_expect(t, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    o = e2e_limit(2, DTX_SIDE_BUY, PX(64000), 3);
    e2e_send(t, &o);
    e2e_expect(t, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);

    /* risk: a limit, then the trader's order over it */
    cr_assert_eq(admin("limit", "1", "max_order_qty", "5", "1"), 0, "%s", out);
    expect_out("ok: max_order_qty of account 1 on security 1: 0 -> 5");
    o = e2e_limit(3, DTX_SIDE_BUY, PX(64000), 6);
    e2e_send(t, &o);
    const e2e_report *r = e2e_expect(t, DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.reject.reject_reason, DTX_REJ_MAX_ORDER_QTY);
    cr_assert_eq(admin("limits", "1", "1", NULL, NULL), 0, "%s", out);
    expect_out("limits of account 1 on security 1");
    expect_out("max_order_qty    5");
    expect_out("initial_margin   1.00000 %");

    /* account view */
    cr_assert_eq(admin("account", "1", NULL, NULL, NULL), 0, "%s", out);
    expect_out("account 1: enabled, 2 open orders");
    expect_out("collateral       100000.000000");
    expect_out("position account 1 security 1: qty 0");

    /* a key outside its role: NotAuthorized, nothing changes */
    cr_assert_eq(admin("--role", "oracle", "kill", "1", "on"), 1, "%s", out);
    expect_out("refused: NotAuthorized (reason 20)");
    o = e2e_limit(4, DTX_SIDE_BUY, PX(63000), 1);
    e2e_send(t, &o);
    e2e_expect(t, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);

    /* kill switch: every order canceled with reason Risk, new ones refused */
    cr_assert_eq(admin("kill", "1", "on", NULL, NULL), 0, "%s", out);
    expect_out("ok: kill switch ON for account 1: 3 orders canceled");
    for (int i = 0; i < 3; i++) {
        r = e2e_expect(t, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
        cr_assert_eq(r->r.u.canceled.cancel_reason, DTX_CANCEL_RISK);
    }
    o = e2e_limit(5, DTX_SIDE_BUY, PX(63000), 1);
    e2e_send(t, &o);
    r = e2e_expect(t, DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.reject.reject_reason, DTX_REJ_ACCOUNT_DISABLED);
    dtx_client_config cfg = e2e_config(&eng, 1, NULL);
    e2e_client *t2 = e2e_client_new(&eng, &cfg);
    cr_assert_neq(dtx_client_connect_wait(t2->c, E2E_SAFETY_MS), DTX_OK, "a blocked logon");
    e2e_client_free(t2);
    cr_assert_eq(admin("kill", "1", "off", NULL, NULL), 0, "%s", out);
    expect_out("ok: kill switch OFF for account 1");
    t2 = e2e_login(&eng, 1);
    e2e_client_free(t2);

    /* operator: halt and resume */
    cr_assert_eq(admin("halt", "1", NULL, NULL, NULL), 0, "%s", out);
    expect_out("ok: security 1 open -> halted");
    o = e2e_limit(6, DTX_SIDE_BUY, PX(63000), 1);
    e2e_send(t, &o);
    r = e2e_expect(t, DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID);
    cr_assert_eq(r->r.u.reject.reject_reason, DTX_REJ_INSTRUMENT_HALTED);
    cr_assert_eq(admin("resume", "1", NULL, NULL, NULL), 0, "%s", out);
    expect_out("ok: security 1 halted -> open");
    cr_assert_eq(admin("sessions", NULL, NULL, NULL, NULL), 0, "%s", out);
    expect_out("account 1      trader    established");

    /* oracle: the mark */
    cr_assert_eq(admin("mark", "1", "65000000000000", "64990000000000", NULL), 0, "%s", out);
    expect_out("ok: mark of security 1: - -> 65000.000000000");
    expect_out("index: - -> 64990.000000000");

    /* refused: withdrawing more than there is */
    cr_assert_eq(admin("withdraw", "2", "999999999999999", NULL, NULL), 1, "%s", out);
    expect_out("refused: InsufficientMargin (reason 7)");

    /* fees on 201: account 2 takes account 1's bid of 1 at 63000 */
    o = e2e_limit(7, DTX_SIDE_BUY, PX(63000), 1);
    e2e_send(t, &o);
    e2e_expect(t, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    e2e_client *b = e2e_login(&eng, 2);
    o = e2e_limit(8, DTX_SIDE_SELL, PX(63000), 1);
    e2e_send(b, &o);
    e2e_expect(b, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    r = e2e_expect(b, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    /* 1 x 63000 x 0.001 = 63 USD: taker 0.05 % = 0.0315 USD, Fee9 */
    cr_assert_eq(r->r.u.trade.fee, 31500000);
    r = e2e_expect(t, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    cr_assert_eq(r->r.u.trade.fee, -6300000, "maker rebate 0.01 %%");
    e2e_client_free(b);
    e2e_client_free(t);
    cr_assert_eq(admin("watch", "5", NULL, NULL, NULL), 0, "%s", out);
    expect_out("account 1      ratio ");
    expect_out("account 2      ratio ");
    expect_out("ok: 2 reports");
    cr_assert_eq(admin("param", "2", "taker_fee", "400000", NULL), 0, "%s", out);
    expect_out("ok: taker_fee of security 2: 0.05000 % -> 0.04000 %");
    cr_assert_eq(admin("deposit", "3", "5000000", NULL, NULL), 0, "%s", out);
    expect_out("ok: deposit, account 3 collateral:");
    expect_out("after            100005.000000");

    /* the audit log: one line per change, none for queries or refusals; the
     * audit writer thread may write a line just after its AdminAck, and
     * writes every line before the engine exits */
    e2e_stop(&eng);
    const char *log = audit_log();
    cr_assert_eq(count_lines(log), 9, "%s", log);
    cr_assert_not_null(strstr(log, "cmd=RISK_SET"), "%s", log);
    cr_assert_not_null(strstr(log, "what=max_order_qty target_account=1 security_id=1 old=0 new=5 "
                                   "affected=0\n"),
                       "%s", log);
    cr_assert_not_null(strstr(log, "cmd=KILL_SWITCH"), "%s", log);
    cr_assert_not_null(strstr(log, "what=account_enabled target_account=1 security_id=0 old=1 "
                                   "new=0 affected=3\n"),
                       "%s", log);
    cr_assert_not_null(strstr(log, "old=0 new=1 affected=0\n"), "%s", log);
    cr_assert_not_null(strstr(log, "what=trading_status target_account=- security_id=1 old=1 "
                                   "new=2"),
                       "%s", log);
    cr_assert_not_null(strstr(log, "old=2 new=1"), "%s", log);
    cr_assert_not_null(strstr(log, "what=mark_price target_account=- security_id=1 "
                                   "old=-9223372036854775808 new=65000000000000"),
                       "%s", log);
    cr_assert_not_null(strstr(log, "what=index_price"), "%s", log);
    cr_assert_not_null(strstr(log, "what=taker_fee target_account=- security_id=2 old=500000 "
                                   "new=400000"),
                       "%s", log);
    cr_assert_not_null(strstr(log, "cmd=DEPOSIT"), "%s", log);
    cr_assert_not_null(strstr(log, "what=collateral target_account=3 security_id=0 "
                                   "old=100000000000 new=100005000000"),
                       "%s", log);
    cr_assert_not_null(strstr(log, " account=0 key="), "who: the admin keys are account 0's");
}
