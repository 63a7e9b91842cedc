/*
 * throttle.h - the per-session token bucket of the order-entry gateways
 * (FIXP in net/fixp_session.c, FIX 4.4 in net/fix44_session.c).
 *
 * Tokens are counted in 1e-9 messages so that integer arithmetic refills at
 * any rate: `rate` messages per second, at most `burst` messages banked. A
 * message may pass when one whole token is there (dtx_bucket_ok); the caller
 * takes it (dtx_bucket_take) only once the message is really handed on, so a
 * message retried on back-pressure is not charged twice.
 */
#ifndef DTX_NET_THROTTLE_H
#define DTX_NET_THROTTLE_H

#include <stdint.h>

#define DTX_BUCKET_ONE 1000000000ull /* one message, in bucket units */

typedef struct dtx_bucket {
    uint64_t tokens; /* 1e-9 messages */
    uint64_t at;     /* time of the last refill, ns */
} dtx_bucket;

/* A full bucket at time now. */
static inline void dtx_bucket_reset(dtx_bucket *b, uint32_t burst, uint64_t now)
{
    b->tokens = (uint64_t)burst * DTX_BUCKET_ONE;
    b->at = now;
}

/* Refills to now; 1 when a message may pass (the token is not yet taken). */
static inline int dtx_bucket_ok(dtx_bucket *b, uint32_t rate, uint32_t burst, uint64_t now)
{
    uint64_t cap = (uint64_t)burst * DTX_BUCKET_ONE;
    if (now > b->at) {
        uint64_t dt = now - b->at;
        if (dt > cap / rate + 1) /* longer than filling from empty takes */
            b->tokens = cap;
        else if ((b->tokens += dt * rate) > cap)
            b->tokens = cap;
        b->at = now;
    }
    return b->tokens >= DTX_BUCKET_ONE;
}

static inline void dtx_bucket_take(dtx_bucket *b) { b->tokens -= DTX_BUCKET_ONE; }

#endif /* DTX_NET_THROTTLE_H */
