/*
 * e2e_audit.c - the audit log of the real dtx-engine under a burst: an
 * oracle session sends 10,000 SetMarkPrice messages as fast as a window of
 * 64 allows; every one is acknowledged in order, and after SIGTERM the audit
 * log holds exactly 10,000 mark_price lines, in sequence order (seq
 * increasing, RequestIDs consecutive, each line's old value the previous
 * mark and its new value the next mark sent), written by the audit writer
 * thread rather than the core. And with an audit log that cannot be written
 * (/dev/full: ENOSPC), a change is still applied and acknowledged while the
 * writer can hold its record, the failure is logged once, and on SIGTERM the
 * writer says how many records it could not write and dtx-engine exits 1.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "dtx/sbe_7001.h"
#include "dtx/types.h"
#include "support/e2e_engine.h"

#define MARKS 10000u
#define WINDOW 64u
#define MARK0 INT64_C(60000000000000) /* 60000.0 in PRICE9 */
#define STEP INT64_C(1000000000) /* 1.0 */

static e2e_engine eng;

static void teardown(void) { e2e_cleanup(&eng); }

TestSuite(e2e_audit, .fini = teardown, .timeout = 300);

typedef struct oracle {
    uint64_t acks, others;
    uint64_t bad; /* acks out of order or with the wrong value */
} oracle;

static void on_report(void *ctx, dtx_client *c, const dtx_client_report *r)
{
    oracle *o = ctx;
    (void)c;
    if (r->template_id != DTX_SBE_ADMIN_ACK_TEMPLATE_ID) {
        o->others++;
        return;
    }
    const dtx_sbe_admin_ack *a = &r->u.admin_ack;
    if (a->request_id != o->acks + 1 || a->new_value != MARK0 + (int64_t)o->acks * STEP)
        o->bad++;
    o->acks++;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

Test(e2e_audit, ten_thousand_mark_prices_all_land_in_the_audit_log_in_sequence_order)
{
    e2e_start(&eng, "[session]\nthrottle_rate = 10000000\nthrottle_burst = 100000\n");
    dtx_client_config cfg = {.host = "127.0.0.1", .port = eng.port, .keepalive_ms = 1000};
    uint32_t k;
    for (k = 0; k < eng.nkeys && eng.keys[k].role != DTX_ROLE_ORACLE; k++) {
    }
    cr_assert_lt(k, eng.nkeys, "no oracle key in the demo key file");
    memcpy(cfg.seckey, eng.keys[k].seckey, 32);
    oracle o = {0};
    dtx_client_callbacks cb = {.ctx = &o, .on_report = on_report};
    dtx_client *c = dtx_client_create(&cfg, &cb);
    cr_assert_not_null(c, "%s", dtx_error_message());
    cr_assert_eq(dtx_client_connect_wait(c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());

    uint64_t sent = 0, deadline = mono_ms() + 10 * E2E_SAFETY_MS;
    while (o.acks < MARKS) {
        while (sent < MARKS && sent - o.acks < WINDOW) {
            dtx_sbe_set_mark_price m = {.request_id = sent + 1, .security_id = 1,
                                        .mark_px = MARK0 + (int64_t)sent * STEP,
                                        .index_px = DTX_PRICE_NULL};
            uint8_t body[64];
            ptrdiff_t n = dtx_sbe_set_mark_price_encode(body, sizeof body, &m);
            cr_assert_gt(n, 0);
            dtx_status st = dtx_client_send_app(c, DTX_SBE_SET_MARK_PRICE_TEMPLATE_ID,
                                                DTX_SBE_SET_MARK_PRICE_BLOCK_LENGTH, body,
                                                (size_t)n, NULL);
            if (st == DTX_EFULL)
                break; /* the socket is behind: read, then send again */
            cr_assert_eq(st, DTX_OK, "%s", dtx_error_message());
            sent++;
        }
        cr_assert_lt(mono_ms(), deadline, "%" PRIu64 " of %u acknowledged", o.acks, MARKS);
        cr_assert_geq(dtx_client_wait(c, 50), 0, "the oracle's connection ended");
    }
    cr_assert_eq(o.acks, MARKS);
    cr_assert_eq(o.bad, 0, "acknowledgements out of order or with another value");
    cr_assert_eq(o.others, 0);
    dtx_client_terminate_wait(c, 1000);
    dtx_client_destroy(c);
    e2e_stop(&eng);

    char path[192];
    snprintf(path, sizeof path, "%s/dtx-audit.log", eng.dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char line[600];
    uint64_t n = 0, last_seq = 0;
    while (fgets(line, sizeof line, f)) {
        char want[160];
        const char *s = strstr(line, " seq=");
        cr_assert_not_null(s, "line %" PRIu64 ": %s", n, line);
        /* seq increases; TIME commands of the core's timer take numbers too */
        uint64_t seq = strtoull(s + 5, NULL, 10);
        cr_assert_gt(seq, last_seq, "line %" PRIu64 " has seq %" PRIu64 ": %s", n, seq, line);
        last_seq = seq;
        cr_assert_not_null(strstr(line, " cmd=MARK_PRICE "), "%s", line);
        snprintf(want, sizeof want, " request=%" PRIu64 " what=mark_price target_account=- "
                 "security_id=1 old=%" PRId64 " new=%" PRId64 " affected=0\n", n + 1,
                 n ? MARK0 + (int64_t)(n - 1) * STEP : INT64_MIN, MARK0 + (int64_t)n * STEP);
        cr_assert_not_null(strstr(line, want), "line %" PRIu64 ": %s, expected %s", n, line,
                           want);
        n++;
    }
    fclose(f);
    cr_assert_eq(n, MARKS);
    const char *log = e2e_log(&eng);
    cr_assert_not_null(strstr(log, "msg=\"audit stats\" records=10000 lines=10000 "),
                       "%s", log);
    cr_assert_not_null(strstr(log, "write_errors=0"), "%s", log);
}

static int occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

Test(e2e_audit, an_audit_log_that_cannot_be_written_makes_the_engine_say_so_and_exit_1)
{
    e2e_start(&eng, "[risk]\naudit_log = /dev/full\n");
    char port[8], out[4096];
    snprintf(port, sizeof port, "%u", eng.port);
    const char *args[] = {"--port", port, "--keys-file", eng.keys_path, "limit", "1",
                          "max_order_qty", "100", "1", NULL};
    /* the writer holds the record (its ring has room): applied and acknowledged */
    cr_assert_eq(e2e_run(&eng, "dtx-admin", args, out, sizeof out), 0, "%s", out);

    int st;
    cr_assert_eq(kill(eng.pid, SIGTERM), 0);
    cr_assert_eq(waitpid(eng.pid, &st, 0), eng.pid);
    eng.pid = -1;
    const char *log = e2e_log(&eng);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status 0x%x:\n%s", st, log);
    cr_assert_eq(occurrences(log, "msg=\"audit log write failed\""), 1, "%s", log);
    cr_assert_not_null(strstr(log, "msg=\"audit log write failed\" path=\"/dev/full\" errno=28 "
                                   "err=\"No space left on device\" held=1 "),
                       "%s", log);
    cr_assert_not_null(strstr(log, "msg=\"audit records not written\" path=\"/dev/full\" "
                                   "unwritten=1 lines=0 "),
                       "%s", log);
    cr_assert_not_null(strstr(log, "msg=\"audit stats\" records=1 lines=0 "), "%s", log);
    cr_assert_not_null(strstr(log, " refused=0 unwritten=1 "), "%s", log);
    cr_assert_not_null(strstr(log, "msg=\"exit\" status=1 "), "%s", log);
}
