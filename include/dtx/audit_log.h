/*
 * dtx/audit_log.h - the audit log writer: the core's audit records
 * (dtx/admin.h) leave the core thread through an SPSC ring (dtx/ring.h) and
 * are formatted (dtx_audit_format) and written by a thread of their own.
 *
 *     core thread                                  audit writer thread
 *     admin change -> dtx_audit_log_record() --ring--> dtx_audit_log_run():
 *                     (copies the record)               format, write(2)
 *
 * On the core thread dtx_audit_log_record() only copies the 80-byte record
 * into the ring: no formatting, no file, no lock. The ring's only system
 * call there is the futex wake of a writer that sleeps on the empty ring
 * (at most one per burst of audit records, and only for admin commands,
 * never on the order path).
 *
 * A full ring is back-pressure, never a drop: the core waits (the ring's
 * wait strategy, block: it sleeps until the writer frees a slot) and then
 * pushes. That can only happen on an admin command, and only when the
 * writer is `capacity` records behind (a stalled disk, or a burst of admin
 * changes larger than the ring); the order path never waits on it.
 *
 * The writer writes each batch it drains with write(2) on the file
 * descriptor and returns to the ring (no stdio buffer: what was drained is
 * in the file before the next batch). Lines are in the order of the
 * records, which is sequence order. dtx_audit_log_stop() makes the writer
 * drain everything queued and return, so a caller that stops the core
 * first, then the writer, loses nothing (dtx-engine does so on SIGTERM).
 *
 * Thread rules: dtx_audit_log_record() only on one producer thread (the
 * core); dtx_audit_log_run() on one writer thread; stop and stats from any.
 */
#ifndef DTX_AUDIT_LOG_H
#define DTX_AUDIT_LOG_H

#include <stdint.h>

#include "dtx/admin.h"
#include "dtx/ring.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dtx_audit_log dtx_audit_log;

/*
 * Creates the writer for file descriptor fd (opened for appending by the
 * caller, who also closes it after dtx_audit_log_destroy), with a ring of
 * `capacity` records (a power of two, 2..2^30) and wait strategy `wait` for
 * both sides (DTX_WAIT_BLOCK unless the writer has a core of its own: a
 * spinning writer owns a CPU). Returns NULL (dtx_error message set) on a bad
 * argument or no memory.
 */
dtx_audit_log *dtx_audit_log_create(int fd, uint32_t capacity, dtx_wait_strategy wait);

/* Frees the writer and its ring (not the file descriptor). NULL is accepted.
 * The writer thread must be done. */
void dtx_audit_log_destroy(dtx_audit_log *a);

/*
 * The core's audit callback (dtx_audit_fn; ctx is the dtx_audit_log): copies
 * *rec into the ring, waiting while it is full. rec->what must be a static
 * string (it is: dtx/admin.h names static names), as it is read later on the
 * writer thread.
 */
void dtx_audit_log_record(void *ctx, const dtx_audit_record *rec);

/*
 * Writer thread body (pthread signature): drains the ring, formats each
 * record as one line and writes the batch, waiting by the ring's strategy
 * when idle; after dtx_audit_log_stop() it writes every record still queued
 * and returns NULL.
 */
void *dtx_audit_log_run(void *a);

/* Asks the writer to finish once the ring is empty (any thread; returns at
 * once). Records pushed after the writer has returned are not written: stop
 * the producer first. */
void dtx_audit_log_stop(dtx_audit_log *a);

typedef struct dtx_audit_log_stats {
    uint64_t records;      /* records taken from the core */
    uint64_t full_waits;   /* records that found the ring full (the core waited) */
    uint64_t lines;        /* lines written to the file */
    uint64_t write_errors; /* failed write(2) calls; their lines are lost */
    int last_errno;        /* errno of the last failed write; 0 = none */
} dtx_audit_log_stats;

/* Counters (any thread; each value is read atomically, the set is not). */
void dtx_audit_log_stats_get(const dtx_audit_log *a, dtx_audit_log_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* DTX_AUDIT_LOG_H */
