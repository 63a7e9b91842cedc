/*
 * audit_records.h - what the audit log suites (tests/audit_log_*.c) write and
 * time: the i-th of a run of mark price changes, a producer that records
 * the first n of them (a pthread start routine), and a monotonic clock in ms
 * for their wait-for-the-writer deadlines.
 */
#ifndef DTX_TESTS_AUDIT_RECORDS_H
#define DTX_TESTS_AUDIT_RECORDS_H

#include <stdint.h>
#include <time.h>

#include "dtx/admin.h"
#include "dtx/audit_log.h"
#include "dtx/command.h"

/* The i-th mark price change (seq i + 1). */
static inline dtx_audit_record audit_mark(uint64_t i)
{
    dtx_audit_record r = {.seq = i + 1, .ts = 1796000000000000000ull + i, .request_id = 7 + i,
                          .cmd_type = DTX_CMD_MARK_PRICE, .session = 3, .account = 0,
                          .key_id = 0x02a1b2c3u, .target_account = UINT32_MAX,
                          .security_id = 1, .what = "mark_price",
                          .old_value = (int64_t)i, .new_value = (int64_t)i + 1};
    return r;
}

/* Records audit_mark(0 .. n-1) into a, in order (waiting while the ring is
 * full). */
typedef struct audit_producer {
    dtx_audit_log *a;
    uint64_t n;
} audit_producer;

static inline void *audit_produce(void *arg)
{
    audit_producer *p = arg;
    for (uint64_t i = 0; i < p->n; i++) {
        dtx_audit_record r = audit_mark(i);
        dtx_audit_log_record(p->a, &r);
    }
    return NULL;
}

static inline uint64_t audit_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif /* DTX_TESTS_AUDIT_RECORDS_H */
