/*
 * dtx/audit_log.h - the audit log writer: the core's audit records
 * (dtx/admin.h) leave the core thread through an SPSC ring (dtx/ring.h) and
 * are formatted (dtx_audit_format) and written by a thread of their own.
 *
 *     core thread                                      audit writer thread
 *     admin command -> dtx_audit_log_reserve()  (room for its records?)
 *                      change applied
 *                      dtx_audit_log_record() --ring--> dtx_audit_log_run():
 *                      (copies the record)              format, write(2),
 *                                                       retry until written
 *
 * The rule this module serves: every applied change is audited. Two halves:
 *
 * 1. No applied change loses its record. The writer keeps a batch whose
 *    write(2) failed (disk full, EIO, a file size limit, ...) and writes it
 *    again, from the first byte not written, after a back-off that doubles
 *    from DTX_AUDIT_RETRY_MIN_MS to DTX_AUDIT_RETRY_MAX_MS, until it is
 *    written. It takes no new record from the ring meanwhile, so lines stay
 *    in record order, each exactly once (a line cut by a short write is
 *    completed, never written again). The first failure of an episode is
 *    logged once (dtx/log.h: msg="audit log write failed" with the path, the
 *    errno text and the records held), the end of it once (msg="audit log
 *    writes again" with the failed attempts and how long it lasted).
 *
 * 2. No change is applied that cannot be audited. Before it applies an
 *    admin change the core asks dtx_audit_log_reserve() for room for the
 *    change's records. The core is the ring's only producer, so free slots
 *    it sees stay free until it pushes: a yes is a guarantee that the
 *    records will be taken without waiting. A no (the writer is a whole ring
 *    behind, in practice stuck behind a failing disk) makes the core refuse
 *    the change before touching anything (AdminReject AuditUnavailable,
 *    docs/admin.md). The core never waits for the writer, never formats,
 *    never touches the file; the order path never calls this module.
 *
 * Waiting: dtx_audit_log_record() itself still waits when the ring is full
 * (back-pressure, never a drop) for a producer that did not reserve; after a
 * successful reserve it never waits. The ring's only system call on the
 * core thread is the futex wake of a writer asleep on the empty ring (at
 * most one per burst of audit records, admin commands only).
 *
 * Stopping: dtx_audit_log_stop() makes the writer write everything queued
 * and return. A write that still fails is retried for DTX_AUDIT_STOP_RETRY_MS
 * more; then the writer gives up, logs how many records it could not write
 * (msg="audit records not written") and returns; the stats' `unwritten` says
 * how many, and dtx-engine then exits with status 1. A caller that stops the
 * core first, then the writer, loses nothing to the order of shutdown.
 *
 * Thread rules: dtx_audit_log_reserve() and dtx_audit_log_record() only on
 * one producer thread (the core); dtx_audit_log_run() on one writer thread;
 * stop and stats from any.
 */
#ifndef DTX_AUDIT_LOG_H
#define DTX_AUDIT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/admin.h"
#include "dtx/ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Back-off between attempts to write a failed batch: the first retry comes
 * after DTX_AUDIT_RETRY_MIN_MS, each next one after twice the last, at most
 * DTX_AUDIT_RETRY_MAX_MS. */
#define DTX_AUDIT_RETRY_MIN_MS 10u
#define DTX_AUDIT_RETRY_MAX_MS 1000u
/* How long a writer asked to stop keeps retrying a failing write. */
#define DTX_AUDIT_STOP_RETRY_MS 2000u

typedef struct dtx_audit_log dtx_audit_log;

/*
 * Creates the writer for file descriptor fd (opened for appending by the
 * caller, who also closes it after dtx_audit_log_destroy), with a ring of
 * `capacity` records (a power of two, 2..2^30) and wait strategy `wait` for
 * both sides (DTX_WAIT_BLOCK unless the writer has a core of its own: a
 * spinning writer owns a CPU). path names the file in log lines (copied;
 * NULL = "fd N"). Returns NULL (dtx_error message set) on a bad argument or
 * no memory.
 */
dtx_audit_log *dtx_audit_log_create(int fd, const char *path, uint32_t capacity,
                                    dtx_wait_strategy wait);

/* Frees the writer and its ring (not the file descriptor). NULL is accepted.
 * The writer thread must be done. */
void dtx_audit_log_destroy(dtx_audit_log *a);

/*
 * The core's audit room check (dtx_audit_reserve_fn; ctx is the
 * dtx_audit_log): returns 1 when n records can be queued now without
 * waiting (they stay queueable until this thread pushes), 0 when the ring
 * has fewer than n free slots (counted in `refused`). No system call, no
 * lock, no wait.
 */
int dtx_audit_log_reserve(void *ctx, size_t n);

/*
 * The core's audit callback (dtx_audit_fn; ctx is the dtx_audit_log): copies
 * *rec into the ring, waiting while it is full (never after a reserve that
 * covered it). rec->what must be a static string (it is: dtx/admin.h names
 * static names), as it is read later on the writer thread.
 */
void dtx_audit_log_record(void *ctx, const dtx_audit_record *rec);

/*
 * Writer thread body (pthread signature): drains the ring, formats each
 * record as one line and writes the batch, retrying a failed write as above,
 * waiting by the ring's strategy when idle; after dtx_audit_log_stop() it
 * writes every record still queued (or gives up on a failing file after
 * DTX_AUDIT_STOP_RETRY_MS) and returns NULL.
 */
void *dtx_audit_log_run(void *a);

/* Asks the writer to finish once the ring is empty (any thread; returns at
 * once). Records pushed after the writer has returned are not written: stop
 * the producer first. */
void dtx_audit_log_stop(dtx_audit_log *a);

typedef struct dtx_audit_log_stats {
    uint64_t records;      /* records taken from the core */
    uint64_t full_waits;   /* records that found the ring full (the producer
                              waited; 0 for a producer that reserves) */
    uint64_t refused;      /* reserves refused: admin changes not applied */
    uint64_t lines;        /* whole lines written to the file */
    uint64_t write_errors; /* failed write(2) calls (each retried, nothing
                              is dropped) */
    uint64_t retries;      /* writes attempted again after a failure */
    uint64_t episodes;     /* failure episodes (first failure to recovery) */
    uint64_t unwritten;    /* records the writer gave up on when it returned
                              (0 while it runs, and after a clean stop) */
    int last_errno;        /* errno of the last failed write; 0 = none */
    int failing;           /* 1 while a failed batch waits for its retry */
} dtx_audit_log_stats;

/* Counters (any thread; each value is read atomically, the set is not). */
void dtx_audit_log_stats_get(const dtx_audit_log *a, dtx_audit_log_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* DTX_AUDIT_LOG_H */
