/*
 * audit_log_retry.c - the audit log writer (dtx/audit_log.h) when its file
 * fails: a write refused by the file size limit (EFBIG, RLIMIT_FSIZE with
 * SIGXFSZ ignored) or by a full device (ENOSPC, /dev/full) is kept and
 * retried with a back-off until the file takes it, and then every record is
 * in the file exactly once, in order (a line cut by the limit is completed,
 * not repeated); the failure is logged once with the path and the errno text
 * and the recovery once; a writer stopped while its file still fails gives
 * up after its grace period and says how many records it could not write;
 * and the room check the core asks before a change says no exactly when the
 * ring lacks the slots. A test thread plays the core.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dtx/audit_log.h"
#include "dtx/command.h"
#include "dtx/error.h"
#include "dtx/log.h"
#include "support/audit_records.h"

#define SAFETY_MS 20000 /* a net against a hang, not an assertion on time */

static char path[64];
static int fd = -1;
static int logpipe[2] = {-1, -1};

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/dtx-audit-retry-XXXXXX"); /* mkstemp's template */
    fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    /* log lines into a pipe (not a file: the file size limit would cut it) */
    cr_assert_eq(pipe(logpipe), 0);
    cr_assert_eq(fcntl(logpipe[0], F_SETFL, O_NONBLOCK), 0);
    dtx_log_set_fd(logpipe[1]);
}

static void teardown(void)
{
    dtx_log_set_fd(2);
    if (fd >= 0)
        close(fd);
    close(logpipe[0]);
    close(logpipe[1]);
    unlink(path);
}

TestSuite(audit_log_retry, .init = setup, .fini = teardown, .timeout = 120);

/* Length of audit_mark(i)'s line, newline included. */
static size_t line_len(uint64_t i)
{
    char b[512];
    dtx_audit_record r = audit_mark(i);
    return dtx_audit_format(&r, b, sizeof b) + 1;
}

static dtx_audit_log_stats stats(const dtx_audit_log *a)
{
    dtx_audit_log_stats st;
    dtx_audit_log_stats_get(a, &st);
    return st;
}

/* Waits (safety net only) until the writer has failed `errors` writes. */
static void wait_errors(const dtx_audit_log *a, uint64_t errors)
{
    uint64_t deadline = audit_mono_ms() + SAFETY_MS;
    while (stats(a).write_errors < errors) {
        cr_assert_lt(audit_mono_ms(), deadline, "the writer never failed %" PRIu64 " writes", errors);
        usleep(1000);
    }
}

static void wait_lines(const dtx_audit_log *a, uint64_t lines)
{
    uint64_t deadline = audit_mono_ms() + SAFETY_MS;
    while (stats(a).lines < lines) {
        cr_assert_lt(audit_mono_ms(), deadline, "%" PRIu64 " of %" PRIu64 " lines written",
                     stats(a).lines, lines);
        usleep(1000);
    }
}

/* Asserts the file at p holds exactly n lines, line i being audit_mark(i). */
static void expect_lines(const char *p, uint64_t n)
{
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f);
    char line[600], want[512];
    uint64_t i = 0;
    while (fgets(line, sizeof line, f)) {
        cr_assert_lt(i, n, "more than %" PRIu64 " lines: %s", n, line);
        dtx_audit_record r = audit_mark(i);
        dtx_audit_format(&r, want, sizeof want);
        strcat(want, "\n");
        cr_assert_str_eq(line, want, "line %" PRIu64, i);
        i++;
    }
    fclose(f);
    cr_assert_eq(i, n, "%" PRIu64 " lines, not %" PRIu64, i, n);
}

/* What was logged so far (static buffer). */
static const char *logged(void)
{
    static char buf[1 << 16];
    static size_t len;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(logpipe[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    return buf;
}

static int occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void set_fsize(rlim_t soft)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
    rl.rlim_cur = soft == RLIM_INFINITY ? rl.rlim_max : soft;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0, "%s", strerror(errno));
}

Test(audit_log_retry, a_write_refused_efbig_is_retried_until_the_limit_rises_and_every_record_lands_once_in_order)
{
    enum { N = 50, LIMIT = 1000 };
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
    cr_assert(rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 64 * 1024,
              "the hard file size limit leaves no room to recover");
    signal(SIGXFSZ, SIG_IGN); /* write(2) then fails EFBIG instead of killing us */
    set_fsize(LIMIT);

    dtx_audit_log *a = dtx_audit_log_create(fd, path, 8, DTX_WAIT_BLOCK);
    cr_assert_not_null(a, "%s", dtx_error_message());
    pthread_t w, c;
    audit_producer p = {.a = a, .n = N};
    cr_assert_eq(pthread_create(&w, NULL, dtx_audit_log_run, a), 0);
    cr_assert_eq(pthread_create(&c, NULL, audit_produce, &p), 0);

    /* the file stops at the limit: a retry has failed too */
    wait_errors(a, 3);
    dtx_audit_log_stats st = stats(a);
    cr_assert_eq(st.failing, 1);
    cr_assert_eq(st.episodes, 1);
    cr_assert_eq(st.last_errno, EFBIG);
    cr_assert_lt(st.lines, N);
    /* exactly the lines that fit whole under the limit are counted written */
    uint64_t whole = 0;
    size_t bytes = 0;
    while (bytes + line_len(whole) <= LIMIT)
        bytes += line_len(whole++);
    cr_assert_eq(st.lines, whole, "lines %" PRIu64 ", %" PRIu64 " fit under %d bytes", st.lines,
                 whole, LIMIT);
    struct stat sb;
    cr_assert_eq(fstat(fd, &sb), 0);
    cr_assert_eq(sb.st_size, LIMIT, "the file holds %lld bytes", (long long)sb.st_size);

    /* room again: the kept batch goes out from where it stopped, then the rest */
    set_fsize(RLIM_INFINITY);
    pthread_join(c, NULL);
    wait_lines(a, N);
    dtx_audit_log_stop(a);
    pthread_join(w, NULL);
    st = stats(a);
    cr_assert_eq(st.records, N);
    cr_assert_eq(st.lines, N);
    cr_assert_eq(st.unwritten, 0);
    cr_assert_eq(st.failing, 0);
    cr_assert_eq(st.episodes, 1);
    cr_assert_geq(st.write_errors, 3);
    /* each failed write after the first was a retry, and so was the one that worked */
    cr_assert_eq(st.retries, st.write_errors, "retries %" PRIu64 ", write errors %" PRIu64,
                 st.retries, st.write_errors);
    dtx_audit_log_destroy(a);
    expect_lines(path, N);

    /* one error line for the episode, naming the file and the errno text, one recovery */
    const char *log = logged();
    char want[200];
    cr_assert_eq(occurrences(log, "msg=\"audit log write failed\""), 1, "%s", log);
    snprintf(want, sizeof want, "msg=\"audit log write failed\" path=\"%s\" errno=%d "
             "err=\"File too large\"", path, EFBIG);
    cr_assert_not_null(strstr(log, want), "%s", log);
    cr_assert_eq(occurrences(log, "msg=\"audit log writes again\""), 1, "%s", log);
    snprintf(want, sizeof want, "msg=\"audit log writes again\" path=\"%s\" failed_writes=%" PRIu64
             " ", path, st.write_errors);
    cr_assert_not_null(strstr(log, want), "%s", log);
    cr_assert_eq(occurrences(log, "audit records not written"), 0, "%s", log);
}

Test(audit_log_retry, a_full_device_holds_every_record_until_space_returns_then_all_land_in_order)
{
    enum { N = 20 };
    int wfd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    cr_assert_geq(wfd, 0, "/dev/full: %s", strerror(errno));
    dtx_audit_log *a = dtx_audit_log_create(wfd, "/dev/full", 32, DTX_WAIT_BLOCK);
    cr_assert_not_null(a, "%s", dtx_error_message());
    audit_producer p = {.a = a, .n = N};
    audit_produce(&p); /* queued before the writer runs */
    pthread_t w;
    cr_assert_eq(pthread_create(&w, NULL, dtx_audit_log_run, a), 0);
    wait_errors(a, 2);
    dtx_audit_log_stats st = stats(a);
    cr_assert_eq(st.lines, 0);
    cr_assert_eq(st.failing, 1);
    cr_assert_eq(st.last_errno, ENOSPC);

    /* the space comes back: the writer's descriptor now names a file with room */
    cr_assert_eq(dup2(fd, wfd), wfd);
    wait_lines(a, N);
    dtx_audit_log_stop(a);
    pthread_join(w, NULL);
    st = stats(a);
    cr_assert_eq(st.lines, N);
    cr_assert_eq(st.unwritten, 0);
    cr_assert_eq(st.failing, 0);
    cr_assert_eq(st.retries, st.write_errors);
    dtx_audit_log_destroy(a);
    close(wfd);
    expect_lines(path, N);

    const char *log = logged();
    cr_assert_eq(occurrences(log, "msg=\"audit log write failed\""), 1, "%s", log);
    cr_assert_not_null(strstr(log, "msg=\"audit log write failed\" path=\"/dev/full\" errno=28 "
                                   "err=\"No space left on device\" held=20 queued=0"),
                       "%s", log);
    cr_assert_eq(occurrences(log, "msg=\"audit log writes again\" path=\"/dev/full\""), 1, "%s",
                 log);
}

Test(audit_log_retry, a_writer_stopped_while_its_file_fails_gives_up_and_counts_every_record_not_written)
{
    int wfd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    cr_assert_geq(wfd, 0, "/dev/full: %s", strerror(errno));
    dtx_audit_log *a = dtx_audit_log_create(wfd, "/dev/full", 8, DTX_WAIT_BLOCK);
    cr_assert_not_null(a, "%s", dtx_error_message());
    audit_producer p = {.a = a, .n = 5};
    audit_produce(&p);
    pthread_t w;
    cr_assert_eq(pthread_create(&w, NULL, dtx_audit_log_run, a), 0);
    wait_errors(a, 1);
    /* three more behind the failing batch, still in the ring */
    for (uint64_t i = 5; i < 8; i++) {
        dtx_audit_record r = audit_mark(i);
        cr_assert_eq(dtx_audit_log_reserve(a, 1), 1);
        dtx_audit_log_record(a, &r);
    }
    dtx_audit_log_stop(a);
    pthread_join(w, NULL); /* returns after DTX_AUDIT_STOP_RETRY_MS of retries */
    dtx_audit_log_stats st = stats(a);
    cr_assert_eq(st.records, 8);
    cr_assert_eq(st.lines, 0);
    cr_assert_eq(st.unwritten, 8);
    cr_assert_eq(st.failing, 1);
    cr_assert_geq(st.write_errors, 2, "a stop makes the writer try again before it gives up");
    dtx_audit_log_destroy(a);
    close(wfd);
    const char *log = logged();
    cr_assert_eq(occurrences(log, "msg=\"audit log write failed\""), 1, "%s", log);
    cr_assert_not_null(strstr(log, "msg=\"audit records not written\" path=\"/dev/full\" "
                                   "unwritten=8 lines=0 errno=28 err=\"No space left on device\""),
                       "%s", log);
}

Test(audit_log_retry, the_room_check_says_no_exactly_when_the_ring_lacks_the_slots_and_counts_it)
{
    dtx_audit_log *a = dtx_audit_log_create(fd, path, 4, DTX_WAIT_BLOCK);
    cr_assert_not_null(a, "%s", dtx_error_message());
    cr_assert_eq(dtx_audit_log_reserve(a, 4), 1);
    cr_assert_eq(dtx_audit_log_reserve(a, 5), 0);
    for (uint64_t i = 0; i < 3; i++) {
        dtx_audit_record r = audit_mark(i);
        dtx_audit_log_record(a, &r);
    }
    cr_assert_eq(dtx_audit_log_reserve(a, 1), 1);
    cr_assert_eq(dtx_audit_log_reserve(a, 2), 0);
    dtx_audit_record r = audit_mark(3);
    dtx_audit_log_record(a, &r);
    cr_assert_eq(dtx_audit_log_reserve(a, 1), 0);
    dtx_audit_log_stats st = stats(a);
    cr_assert_eq(st.refused, 3);
    cr_assert_eq(st.records, 4);
    cr_assert_eq(st.full_waits, 0);
    /* the writer drains the ring: room again */
    dtx_audit_log_stop(a);
    cr_assert_null(dtx_audit_log_run(a));
    cr_assert_eq(dtx_audit_log_reserve(a, 4), 1);
    st = stats(a);
    cr_assert_eq(st.lines, 4);
    cr_assert_eq(st.refused, 3);
    cr_assert_eq(st.write_errors, 0);
    cr_assert_eq(st.retries, 0);
    cr_assert_eq(st.episodes, 0);
    dtx_audit_log_destroy(a);
    expect_lines(path, 4);
}
