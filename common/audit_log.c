/*
 * audit_log.c - the audit log writer of dtx/audit_log.h. The core thread
 * copies each audit record into an SPSC ring (dtx_audit_log_record, the
 * core's dtx_audit_fn); a writer thread drains the ring in batches, formats
 * each record with dtx_audit_format() into one buffer and writes the buffer
 * with write(2). The core never formats, never touches the file and never
 * drops a record: a full ring makes it wait for the writer (admin commands
 * only, see the header).
 */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtx/audit_log.h"
#include "dtx/error.h"

/* Bytes of formatted lines written per write(2), at most. */
#define AUDIT_BUF (64u * 1024u)
/* Room kept for one line: dtx_audit_format() lines are well under this. */
#define AUDIT_LINE_MAX 512u
/* The longest either side sleeps before looking at its flags again. */
#define AUDIT_WAIT_MS 100u

_Static_assert(sizeof(dtx_audit_record) % 8 == 0, "ring records are multiples of 8 bytes");

struct dtx_audit_log {
    dtx_ring *ring;
    int fd;
    _Atomic int stop;
    /* Counters: records and full_waits written by the producer only, lines,
     * write_errors and last_errno by the writer only (relaxed). */
    _Atomic uint64_t records, full_waits, lines, write_errors;
    _Atomic int last_errno;
    char *buf; /* AUDIT_BUF bytes, the writer's */
};

static inline void count(_Atomic uint64_t *c, uint64_t n)
{
    /* Single writer per counter: a relaxed load + store needs no lock prefix. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

dtx_audit_log *dtx_audit_log_create(int fd, uint32_t capacity, dtx_wait_strategy wait)
{
    dtx_audit_log *a;
    if (fd < 0) {
        dtx_error_set(DTX_EINVAL, "audit log: file descriptor %d is not open", fd);
        return NULL;
    }
    a = calloc(1, sizeof *a);
    if (!a) {
        dtx_error_set(DTX_ENOMEM, "audit log: out of memory");
        return NULL;
    }
    a->buf = malloc(AUDIT_BUF);
    if (!a->buf) {
        free(a);
        dtx_error_set(DTX_ENOMEM, "audit log: out of memory");
        return NULL;
    }
    /* a bad capacity or strategy: the ring's message names it */
    a->ring = dtx_ring_create(sizeof(dtx_audit_record), capacity, wait);
    if (!a->ring) {
        free(a->buf);
        free(a);
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
    free(a);
}

/* ---- the core's side --------------------------------------------------------- */

void dtx_audit_log_record(void *ctx, const dtx_audit_record *rec)
{
    dtx_audit_log *a = ctx;
    count(&a->records, 1);
    if (dtx_ring_push(a->ring, rec, 1) == 1)
        return;
    /* Back-pressure: the writer is a whole ring behind. Wait for one slot by
     * the ring's strategy; never drop the record. */
    count(&a->full_waits, 1);
    while (dtx_ring_push(a->ring, rec, 1) == 0)
        (void)dtx_ring_wait_writable(a->ring, 1, AUDIT_WAIT_MS);
}

/* ---- the writer's side ------------------------------------------------------- */

/* Writes buf[0..len) whole; on an error counts it and drops the rest. */
static void write_out(dtx_audit_log *a, const char *buf, size_t len, uint64_t nlines)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(a->fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            count(&a->write_errors, 1);
            atomic_store_explicit(&a->last_errno, w < 0 ? errno : EIO, memory_order_relaxed);
            return;
        }
        off += (size_t)w;
    }
    count(&a->lines, nlines);
}

/* Formats and writes what the ring holds now. Returns the records taken. */
static size_t drain(dtx_audit_log *a)
{
    size_t total = 0, len = 0;
    uint64_t nlines = 0;
    for (;;) {
        const void *recs;
        size_t n = dtx_ring_read_begin(a->ring, &recs), i;
        if (n == 0)
            break;
        for (i = 0; i < n; i++) {
            if (AUDIT_BUF - len < AUDIT_LINE_MAX) {
                write_out(a, a->buf, len, nlines);
                len = 0;
                nlines = 0;
            }
            len += dtx_audit_format((const dtx_audit_record *)recs + i, a->buf + len,
                                    AUDIT_LINE_MAX - 1);
            a->buf[len++] = '\n';
            nlines++;
        }
        /* The records are formatted into buf: their slots go back to the core. */
        dtx_ring_read_end(a->ring, n);
        total += n;
    }
    if (len)
        write_out(a, a->buf, len, nlines);
    return total;
}

void *dtx_audit_log_run(void *arg)
{
    dtx_audit_log *a = arg;
    for (;;) {
        if (drain(a) > 0)
            continue;
        /* Acquire pairs with the release store in dtx_audit_log_stop(): a
         * producer that finished before stop was called has published every
         * record, so an empty ring now is empty for good. */
        if (atomic_load_explicit(&a->stop, memory_order_acquire)) {
            if (dtx_ring_count(a->ring) == 0)
                break;
            continue;
        }
        (void)dtx_ring_wait_readable(a->ring, AUDIT_WAIT_MS);
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
    out->lines = atomic_load_explicit(&a->lines, memory_order_relaxed);
    out->write_errors = atomic_load_explicit(&a->write_errors, memory_order_relaxed);
    out->last_errno = atomic_load_explicit(&a->last_errno, memory_order_relaxed);
}
