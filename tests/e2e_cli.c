/*
 * e2e_cli.c - dtx-cli against the real dtx-engine: a script of orders,
 * cancels, replaces and mass cancels is sent and every report printed in
 * readable form; a bad line is reported and skipped; the session ends with
 * Terminate (exit 0). An account without a key exits 1. dtx-loadgen runs a
 * bounded load and prints its figures.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support/e2e_engine.h"

static e2e_engine eng;
static char out[1 << 16];

static void teardown(void) { e2e_cleanup(&eng); }

TestSuite(e2e_cli, .fini = teardown, .timeout = 120);

static void expect_line(const char *needle)
{
    cr_assert_not_null(strstr(out, needle), "missing \"%s\" in:\n%s", needle, out);
}

Test(e2e_cli, a_script_is_sent_and_every_report_printed)
{
    e2e_start(&eng, "[demo]\ncancel_on_disconnect = no\n");
    char script[160], port[8];
    snprintf(script, sizeof script, "%s/orders.txt", eng.dir);
    snprintf(port, sizeof port, "%u", eng.port);
    FILE *f = fopen(script, "w");
    cr_assert_not_null(f);
    fputs("# a market maker's morning\n"
          "buy BTC-PERP 1 @ 65000.5 gtc clordid=7\n"
          "sell BTC-PERP 2 @65100 clordid=8 post-only\n"
          "sync\n"
          "replace clordid=8 qty=3 @ 65200 new=9\n"
          "cancel clordid=7 new=10\n"
          "buy ETH-PERP 1 @ 3000.05 day clordid=11\n"
          "masscancel ETH-PERP\n"
          "buy BTC-PERP 1 @ 65000.25 clordid=12\n"
          "frobnicate\n"
          "sell BTC-PERP 1 @ 65200 ioc clordid=13\n",
          f);
    fclose(f);
    const char *args[] = {"--port", port, "--keys-file", eng.keys_path, "--script", script, NULL};
    cr_assert_eq(e2e_run(&eng, "dtx-cli", args, out, sizeof out), 0, "%s", out);
    expect_line("# established: next server seq 1");
    expect_line("> seq 1: NewOrderSingle Buy BTC-PERP 1 @ 65000.5 GTC clordid=7");
    expect_line("< [1] NEW clordid=7 order=");
    expect_line("BTC-PERP Buy limit GTC 1 @ 65000.5 leaves=1");
    expect_line("> seq 2: NewOrderSingle Sell BTC-PERP 2 @ 65100 GTC post-only clordid=8");
    expect_line("< [3] REPLACED clordid=9 orig=8 order=");
    expect_line("BTC-PERP Sell 3 @ 65200 leaves=3 cum=0");
    expect_line("< [4] CANCELED clordid=10 orig=7 order=");
    expect_line("reason=ClientRequest cum=0");
    expect_line("< [5] NEW clordid=11 order=");
    expect_line("< [6] CANCELED clordid=11 orig=0 order=");
    expect_line("ETH-PERP Buy reason=MassCancel cum=0");
    expect_line("MASS-CANCEL-REPORT clordid=");
    expect_line("affected=1");
    expect_line("< [8] REJECT clordid=12 BTC-PERP Buy reason=PriceNotOnTick (2)");
    expect_line("dtx-cli: unknown command frobnicate");
    expect_line("< [9] NEW clordid=13");
    expect_line("< [10] CANCELED clordid=13 orig=0 order=");
    expect_line("reason=Unfilled cum=0");
    expect_line("# terminated (answered, code 0)");

    /* Account 2 takes 1 of account 1's offer (no cancel-on-disconnect here). */
    f = fopen(script, "w");
    cr_assert_not_null(f);
    fputs("buy BTC-PERP 1 @ 65200 ioc clordid=31\nsync\nstatus\n", f);
    fclose(f);
    const char *args2[] = {"--port", port, "--keys-file", eng.keys_path, "--account", "2",
                           "--script", script, NULL};
    cr_assert_eq(e2e_run(&eng, "dtx-cli", args2, out, sizeof out), 0, "%s", out);
    expect_line("< [1] NEW clordid=31 order=");
    expect_line("< [2] TRADE clordid=31 order=");
    expect_line("BTC-PERP Buy 1 @ 65200 filled leaves=0 cum=1 taker trade=");
    expect_line("# state ESTABLISHED session ");
    expect_line("next client seq 2 next server seq 3 pending 0");
    e2e_stop(&eng);
}

Test(e2e_cli, an_account_without_a_key_exits_1)
{
    e2e_start(&eng, NULL);
    char port[8];
    snprintf(port, sizeof port, "%u", eng.port);
    const char *args[] = {"--port", port, "--keys-file", eng.keys_path, "--account", "99", NULL};
    cr_assert_eq(e2e_run(&eng, "dtx-cli", args, out, sizeof out), 1, "%s", out);
    expect_line("no trader key for account 99");
    e2e_stop(&eng);
}

Test(e2e_cli, dtx_loadgen_runs_a_bounded_load_and_reports_latency)
{
    e2e_start(&eng, "[session]\nthrottle_rate = 10000000\nthrottle_burst = 100000\n");
    char port[8];
    snprintf(port, sizeof port, "%u", eng.port);
    const char *args[] = {"--port", port, "--keys-file", eng.keys_path, "--sessions", "4",
                          "--orders", "400", "--seconds", "30", "--batch", NULL};
    cr_assert_eq(e2e_run(&eng, "dtx-loadgen", args, out, sizeof out), 0, "%s", out);
    expect_line("dtx-loadgen: 4 sessions (3 makers, 1 takers)");
    expect_line("sent: 400 orders, ");
    expect_line("answered: 400 new, 0 rejected, ");
    expect_line(" 0 unanswered");
    expect_line("order->ack latency (us): p50 ");
    expect_line("(n=400)");
    e2e_stop(&eng);
}
