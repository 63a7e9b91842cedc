/*
 * audit_log_writer.c - the audit log writer (dtx/audit_log.h): records the
 * core hands over land in the file whole and in order, a full ring makes the
 * producer wait instead of dropping, and stopping writes everything queued.
 * A test thread plays the core; the file is a temporary one.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dtx/audit_log.h"
#include "dtx/command.h"
#include "dtx/error.h"
#include "support/audit_records.h"

#define SAFETY_MS 20000 /* a net against a hang, not an assertion on time */

static char path[64];
static int fd = -1;

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/dtx-audit-XXXXXX");
    fd = mkstemp(path);
    cr_assert_geq(fd, 0);
}

static void teardown(void)
{
    if (fd >= 0)
        close(fd);
    unlink(path);
}

TestSuite(audit_log, .init = setup, .fini = teardown, .timeout = 120);

/* The whole file (malloc'd, NUL-terminated). */
static char *slurp(size_t *len)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)sz + 1);
    cr_assert_not_null(buf);
    *len = fread(buf, 1, (size_t)sz, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Asserts the file holds exactly n lines, line i being audit_mark(i) formatted. */
static void expect_lines(uint64_t n)
{
    size_t len;
    char *buf = slurp(&len), *at = buf, expect[512];
    for (uint64_t i = 0; i < n; i++) {
        dtx_audit_record r = audit_mark(i);
        size_t k = dtx_audit_format(&r, expect, sizeof expect);
        cr_assert_leq((size_t)(at - buf) + k + 1, len, "the file ends before line %" PRIu64, i);
        cr_assert(memcmp(at, expect, k) == 0 && at[k] == '\n', "line %" PRIu64 ": %.*s", i,
                  (int)k, at);
        at += k + 1;
    }
    cr_assert_eq((size_t)(at - buf), len, "more than %" PRIu64 " lines", n);
    free(buf);
}

Test(audit_log, a_burst_of_10000_records_through_a_ring_of_8_lands_whole_and_in_sequence_order)
{
    dtx_audit_log *a = dtx_audit_log_create(fd, path, 8, DTX_WAIT_BLOCK);
    cr_assert_not_null(a, "%s", dtx_error_message());
    pthread_t w, c;
    audit_producer p = {.a = a, .n = 10000};
    cr_assert_eq(pthread_create(&w, NULL, dtx_audit_log_run, a), 0);
    cr_assert_eq(pthread_create(&c, NULL, audit_produce, &p), 0);
    pthread_join(c, NULL);
    dtx_audit_log_stop(a);
    pthread_join(w, NULL);
    dtx_audit_log_stats st;
    dtx_audit_log_stats_get(a, &st);
    cr_assert_eq(st.records, 10000);
    cr_assert_eq(st.lines, 10000);
    cr_assert_eq(st.write_errors, 0);
    dtx_audit_log_destroy(a);
    expect_lines(10000);
    /* the first line, spelled out */
    size_t len;
    char *buf = slurp(&len);
    cr_assert_eq(strncmp(buf, "ts=2026-11-30T", 14), 0, "%.200s", buf);
    cr_assert_not_null(strstr(buf, " seq=1 cmd=MARK_PRICE session=3 account=0 key=02a1b2c3 "
                                   "request=7 what=mark_price target_account=- security_id=1 "
                                   "old=0 new=1 affected=0\n"),
                       "%.300s", buf);
    free(buf);
}

Test(audit_log, a_full_ring_makes_the_producer_wait_and_drops_nothing)
{
    dtx_audit_log *a = dtx_audit_log_create(fd, path, 8, DTX_WAIT_BLOCK);
    cr_assert_not_null(a, "%s", dtx_error_message());
    pthread_t w, c;
    audit_producer p = {.a = a, .n = 20};
    dtx_audit_log_stats st;
    /* no writer yet: 8 records fill the ring, the 9th waits */
    cr_assert_eq(pthread_create(&c, NULL, audit_produce, &p), 0);
    uint64_t deadline = audit_mono_ms() + SAFETY_MS;
    do {
        cr_assert_lt(audit_mono_ms(), deadline, "the producer never found the ring full");
        usleep(1000);
        dtx_audit_log_stats_get(a, &st);
    } while (st.full_waits == 0);
    cr_assert_eq(st.full_waits, 1);
    cr_assert_eq(st.records, 9, "the 9th record waits for a slot");
    cr_assert_eq(st.lines, 0);
    /* the writer frees the ring: the producer goes on, every record lands */
    cr_assert_eq(pthread_create(&w, NULL, dtx_audit_log_run, a), 0);
    pthread_join(c, NULL);
    dtx_audit_log_stop(a);
    pthread_join(w, NULL);
    dtx_audit_log_stats_get(a, &st);
    cr_assert_eq(st.records, 20);
    cr_assert_eq(st.lines, 20);
    dtx_audit_log_destroy(a);
    expect_lines(20);
}

Test(audit_log, stopping_writes_every_record_queued_before_the_writer_returns)
{
    dtx_audit_log *a = dtx_audit_log_create(fd, path, 128, DTX_WAIT_BLOCK);
    cr_assert_not_null(a, "%s", dtx_error_message());
    audit_producer p = {.a = a, .n = 100};
    audit_produce(&p); /* all queued, nothing written yet */
    cr_assert_eq(lseek(fd, 0, SEEK_END), 0);
    dtx_audit_log_stop(a);
    cr_assert_null(dtx_audit_log_run(a)); /* drains, then returns */
    dtx_audit_log_stats st;
    dtx_audit_log_stats_get(a, &st);
    cr_assert_eq(st.lines, 100);
    cr_assert_eq(st.full_waits, 0);
    dtx_audit_log_destroy(a);
    expect_lines(100);
}

Test(audit_log, a_capacity_that_is_not_a_power_of_two_is_refused_naming_it)
{
    cr_assert_null(dtx_audit_log_create(fd, path, 100, DTX_WAIT_BLOCK));
    cr_assert_str_eq(dtx_error_message(), "ring: capacity 100 is not a power of two in 2..2^30");
    cr_assert_null(dtx_audit_log_create(-1, path, 8, DTX_WAIT_BLOCK));
    cr_assert_str_eq(dtx_error_message(), "audit log: file descriptor -1 is not open");
}
