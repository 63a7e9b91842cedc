/*
 * audit_log.c - the audit log writer of dtx/audit_log.h. The core thread
 * asks for room (dtx_audit_log_reserve) before it applies an admin change,
 * then copies each audit record into an SPSC ring (dtx_audit_log_record, the
 * core's dtx_audit_fn); a writer thread drains the ring into one buffer of
 * formatted lines (dtx_audit_format) and writes the buffer with write(2).
 *
 * Invariant: a record taken from the ring is in the buffer until every byte
 * of its line is in the file. A failed write leaves the buffer (and the
 * offset of the first byte not written) as it is; the writer retries after a
 * back-off and takes nothing new from the ring until the buffer is out, so
 * lines reach the file in record order, each exactly once. The ring fills
 * behind a failing file, and then the core refuses admin changes (the
 * reserve says no) instead of applying changes it could not audit.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dtx/audit_log.h"
#include "dtx/error.h"
#include "dtx/log.h"

/* Bytes of formatted lines written per write(2), at most. */
#define AUDIT_BUF (64u * 1024u)
/* Room kept for one line: dtx_audit_format() lines are well under this. */
#define AUDIT_LINE_MAX 512u
/* The longest either side sleeps before looking at its flags again. */
#define AUDIT_WAIT_MS 100u
/* The back-off sleeps in slices of this, so a stop is seen promptly. */
#define AUDIT_SLICE_MS 10u

_Static_assert(sizeof(dtx_audit_record) % 8 == 0, "ring records are multiples of 8 bytes");

struct dtx_audit_log {
    dtx_ring *ring;
    int fd;
    char *path; /* for log lines */
    _Atomic int stop;
    /* Counters: records, full_waits and refused written by the producer
     * only, the rest by the writer only (relaxed: statistics). */
    _Atomic uint64_t records, full_waits, refused;
    _Atomic uint64_t lines, write_errors, retries, episodes, unwritten;
    _Atomic int last_errno, failing;
    /* The writer's own state. */
    char *buf;          /* AUDIT_BUF bytes of formatted lines */
    size_t len;         /* bytes in buf */
    size_t off;         /* bytes of buf already in the file */
    uint64_t held;      /* lines in buf not yet whole in the file */
    uint32_t backoff_ms;       /* next retry's delay while failing */
    uint64_t episode_start_ms; /* when the current failure episode began */
    uint64_t episode_errors;   /* failed writes in it */
};

static inline void count(_Atomic uint64_t *c, uint64_t n)
{
    /* Single writer per counter: a relaxed load + store needs no lock prefix. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

dtx_audit_log *dtx_audit_log_create(int fd, const char *path, uint32_t capacity,
                                    dtx_wait_strategy wait)
{
    dtx_audit_log *a;
    char fdname[24];
    if (fd < 0) {
        dtx_error_set(DTX_EINVAL, "audit log: file descriptor %d is not open", fd);
        return NULL;
    }
    if (!path) {
        snprintf(fdname, sizeof fdname, "fd %d", fd);
        path = fdname;
    }
    a = calloc(1, sizeof *a);
    if (!a) {
        dtx_error_set(DTX_ENOMEM, "audit log: out of memory");
        return NULL;
    }
    a->buf = malloc(AUDIT_BUF);
    a->path = strdup(path);
    if (!a->buf || !a->path) {
        dtx_audit_log_destroy(a);
        dtx_error_set(DTX_ENOMEM, "audit log: out of memory");
        return NULL;
    }
    /* a bad capacity or strategy: the ring's message names it */
    a->ring = dtx_ring_create(sizeof(dtx_audit_record), capacity, wait);
    if (!a->ring) {
        dtx_audit_log_destroy(a);
        return NULL;
    }
    a->fd = fd;
    return a;
}

void dtx_audit_log_destroy(dtx_audit_log *a)
{
    if (!a)
        return;
    dtx_ring_destroy(a->ring);
    free(a->buf);
    free(a->path);
    free(a);
}

/* ---- the core's side --------------------------------------------------------- */

int dtx_audit_log_reserve(void *ctx, size_t n)
{
    dtx_audit_log *a = ctx;
    /* Exact or low on the producer thread: only the writer moves head, and
     * only forward, so the room seen here can only grow until we push. */
    if (dtx_ring_free(a->ring) >= n)
        return 1;
    count(&a->refused, 1);
    return 0;
}

void dtx_audit_log_record(void *ctx, const dtx_audit_record *rec)
{
    dtx_audit_log *a = ctx;
    count(&a->records, 1);
    if (dtx_ring_push(a->ring, rec, 1) == 1)
        return;
    /* Back-pressure (a producer that did not reserve): the writer is a whole
     * ring behind. Wait for one slot by the ring's strategy; never drop. */
    count(&a->full_waits, 1);
    while (dtx_ring_push(a->ring, rec, 1) == 0)
        (void)dtx_ring_wait_writable(a->ring, 1, AUDIT_WAIT_MS);
}

/* ---- the writer's side ------------------------------------------------------- */

static uint64_t newlines(const char *p, size_t n)
{
    uint64_t k = 0;
    const char *end = p + n;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        k++;
        p++;
    }
    return k;
}

/* Formats records from the ring into buf while a line fits, releasing their
 * slots to the core (the line in buf is now the record). Returns the count. */
static size_t fill(dtx_audit_log *a)
{
    size_t total = 0;
    for (;;) {
        const void *recs;
        size_t n = dtx_ring_read_begin(a->ring, &recs), i;
        for (i = 0; i < n && AUDIT_BUF - a->len >= AUDIT_LINE_MAX; i++) {
            a->len += dtx_audit_format((const dtx_audit_record *)recs + i, a->buf + a->len,
                                       AUDIT_LINE_MAX - 1);
            a->buf[a->len++] = '\n';
        }
        if (i == 0)
            break;
        dtx_ring_read_end(a->ring, i);
        a->held += i;
        total += i;
        if (i < n)
            break; /* buf is full */
    }
    return total;
}

static void write_failed(dtx_audit_log *a, int err)
{
    count(&a->write_errors, 1);
    atomic_store_explicit(&a->last_errno, err, memory_order_relaxed);
    a->episode_errors++;
    if (atomic_load_explicit(&a->failing, memory_order_relaxed)) {
        a->backoff_ms = a->backoff_ms * 2 > DTX_AUDIT_RETRY_MAX_MS ? DTX_AUDIT_RETRY_MAX_MS
                                                                   : a->backoff_ms * 2;
        return;
    }
    /* First failure of an episode: said once, with what is held. */
    atomic_store_explicit(&a->failing, 1, memory_order_relaxed);
    count(&a->episodes, 1);
    a->backoff_ms = DTX_AUDIT_RETRY_MIN_MS;
    a->episode_start_ms = mono_ms();
    char p[256];
    dtx_log(DTX_LOG_ERROR, "audit log write failed",
            "path=\"%s\" errno=%d err=\"%s\" held=%llu queued=%zu retry=\"every %u..%u ms "
            "until written; admin changes are refused while the queue is full\"",
            dtx_log_escape(p, sizeof p, a->path), err, strerror(err),
            (unsigned long long)a->held, dtx_ring_count(a->ring), DTX_AUDIT_RETRY_MIN_MS,
            DTX_AUDIT_RETRY_MAX_MS);
}

static void write_recovered(dtx_audit_log *a)
{
    char p[256];
    atomic_store_explicit(&a->failing, 0, memory_order_relaxed);
    dtx_log(DTX_LOG_WARN, "audit log writes again",
            "path=\"%s\" failed_writes=%llu down_ms=%llu", dtx_log_escape(p, sizeof p, a->path),
            (unsigned long long)a->episode_errors,
            (unsigned long long)(mono_ms() - a->episode_start_ms));
    a->episode_errors = 0;
}

/* Writes buf[off..len). Returns 1 when all of it is in the file (buf is then
 * empty), 0 after a failed write (buf and off kept for the retry). */
static int flush(dtx_audit_log *a)
{
    if (atomic_load_explicit(&a->failing, memory_order_relaxed))
        count(&a->retries, 1);
    while (a->off < a->len) {
        ssize_t w = write(a->fd, a->buf + a->off, a->len - a->off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            write_failed(a, w < 0 ? errno : EIO);
            return 0;
        }
        uint64_t k = newlines(a->buf + a->off, (size_t)w);
        a->off += (size_t)w;
        a->held -= k;
        count(&a->lines, k);
    }
    a->off = a->len = 0;
    if (atomic_load_explicit(&a->failing, memory_order_relaxed))
        write_recovered(a);
    return 1;
}

static int stopping(const dtx_audit_log *a)
{
    /* Acquire pairs with the release store in dtx_audit_log_stop(): a
     * producer that finished before stop was called has published every
     * record, so an empty ring seen after this is empty for good. */
    return atomic_load_explicit(&a->stop, memory_order_acquire);
}

/* Sleeps ms milliseconds in slices, returning early when a stop is asked
 * (the first time it is seen: the retry then comes at once). */
static void backoff(const dtx_audit_log *a, uint32_t ms, int stop_seen)
{
    uint64_t end = mono_ms() + ms;
    for (;;) {
        uint64_t now = mono_ms();
        if (now >= end || (!stop_seen && stopping(a)))
            return;
        uint64_t left = end - now;
        struct timespec ts = {0, (long)(left < AUDIT_SLICE_MS ? left : AUDIT_SLICE_MS) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void *dtx_audit_log_run(void *arg)
{
    dtx_audit_log *a = arg;
    uint64_t give_up_ms = 0; /* set when a stop is first seen while failing */
    for (;;) {
        if (a->len == 0)
            fill(a);
        if (a->len > 0) {
            if (flush(a))
                continue;
            /* failed: keep the batch, retry after the back-off */
            if (stopping(a)) {
                uint64_t now = mono_ms();
                if (!give_up_ms)
                    give_up_ms = now + DTX_AUDIT_STOP_RETRY_MS;
                if (now >= give_up_ms)
                    break;
                uint64_t left = give_up_ms - now;
                backoff(a, left < a->backoff_ms ? (uint32_t)left : a->backoff_ms, 1);
            } else {
                backoff(a, a->backoff_ms, 0);
            }
            continue;
        }
        if (stopping(a)) {
            if (dtx_ring_count(a->ring) == 0)
                break;
            continue;
        }
        (void)dtx_ring_wait_readable(a->ring, AUDIT_WAIT_MS);
    }
    /* Given up on a failing file (or stopped clean: nothing held). The
     * producer is done, so what is in the ring stays there. */
    uint64_t left = a->held + dtx_ring_count(a->ring);
    atomic_store_explicit(&a->unwritten, left, memory_order_relaxed);
    if (left) {
        char p[256];
        int err = atomic_load_explicit(&a->last_errno, memory_order_relaxed);
        dtx_log(DTX_LOG_ERROR, "audit records not written",
                "path=\"%s\" unwritten=%llu lines=%llu errno=%d err=\"%s\" gave_up_after_ms=%u",
                dtx_log_escape(p, sizeof p, a->path), (unsigned long long)left,
                (unsigned long long)atomic_load_explicit(&a->lines, memory_order_relaxed), err,
                strerror(err), DTX_AUDIT_STOP_RETRY_MS);
    }
    return NULL;
}

void dtx_audit_log_stop(dtx_audit_log *a)
{
    atomic_store_explicit(&a->stop, 1, memory_order_release);
    dtx_ring_wake(a->ring);
}

void dtx_audit_log_stats_get(const dtx_audit_log *a, dtx_audit_log_stats *out)
{
    out->records = atomic_load_explicit(&a->records, memory_order_relaxed);
    out->full_waits = atomic_load_explicit(&a->full_waits, memory_order_relaxed);
    out->refused = atomic_load_explicit(&a->refused, memory_order_relaxed);
    out->lines = atomic_load_explicit(&a->lines, memory_order_relaxed);
    out->write_errors = atomic_load_explicit(&a->write_errors, memory_order_relaxed);
    out->retries = atomic_load_explicit(&a->retries, memory_order_relaxed);
    out->episodes = atomic_load_explicit(&a->episodes, memory_order_relaxed);
    out->unwritten = atomic_load_explicit(&a->unwritten, memory_order_relaxed);
    out->last_errno = atomic_load_explicit(&a->last_errno, memory_order_relaxed);
    out->failing = atomic_load_explicit(&a->failing, memory_order_relaxed);
}
