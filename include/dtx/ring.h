/*
 * dtx/ring.h - bounded lock-free single-producer single-consumer ring of
 * fixed-size records, the one ring every dtx stage uses (gateway -> core
 * commands, core -> gateway events).
 *
 * One thread pushes, one other thread pops; neither takes a lock. Records are
 * copied in and out in batches (or written and read in place through the
 * begin/end pairs). A full ring is back-pressure: a push that finds no room
 * pushes fewer records (or none) and says so; nothing is ever dropped or
 * overwritten.
 *
 * Layout: the producer's index (tail) and the consumer's index (head) live on
 * separate cache lines, each next to its owner's cached copy of the other
 * index, so in the steady state each side reads the other's line only when its
 * cached view says the ring is full (producer) or empty (consumer). Indices
 * are 64-bit and only grow; slot = index & (capacity - 1).
 *
 * Waiting. What a side does when the ring is empty (consumer) or full
 * (producer) is its wait strategy, chosen in configuration:
 *   DTX_WAIT_BUSY_SPIN   spin with a pause instruction; lowest latency, owns a
 *                        core (production, isolated cores only);
 *   DTX_WAIT_SPIN_YIELD  spin a little, then sched_yield() between checks;
 *   DTX_WAIT_BLOCK       spin a little, then sleep in futex(2) until the other
 *                        side publishes: a waiting thread costs no CPU. The
 *                        default, and the only sane one on a 2-core machine.
 * A side that waits in its own poll loop (the gateway in epoll_wait) instead
 * attaches an eventfd: dtx_ring_set_notify_fd() makes the other side write to
 * it when it publishes while this side is armed (dtx_ring_arm_*). The other
 * side makes a system call only when this side has said it is going to sleep;
 * a busy-spinning peer never costs a system call.
 *
 * Thread rules: push / write_begin / write_end / wait_writable / arm_writable
 * only on the producer thread; pop / read_begin / read_end / wait_readable /
 * arm_readable only on the consumer thread. dtx_ring_wake() and the count
 * readers may be called from any thread.
 */
#ifndef DTX_RING_H
#define DTX_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DTX_CACHE_LINE 64

/* How a thread waits for its ring. Values are stable (they appear in logs). */
typedef enum dtx_wait_strategy {
    DTX_WAIT_BUSY_SPIN = 0,
    DTX_WAIT_SPIN_YIELD = 1,
    DTX_WAIT_BLOCK = 2,
} dtx_wait_strategy;

/* Name in configuration files and logs: "busy-spin", "spin-yield", "block";
 * "?" for an unknown value. */
const char *dtx_wait_strategy_name(dtx_wait_strategy w);

/* Parses a name given by dtx_wait_strategy_name(). Returns 1 and sets *out,
 * or 0 when the name is unknown. */
int dtx_wait_strategy_parse(const char *name, dtx_wait_strategy *out);

typedef struct dtx_ring {
    /* Producer's line. */
    alignas(DTX_CACHE_LINE) _Atomic uint64_t tail; /* next index to write */
    uint64_t head_cache;            /* producer's last view of head */
    _Atomic uint64_t full_count;    /* pushes that found the ring full (stats) */

    /* Consumer's line. */
    alignas(DTX_CACHE_LINE) _Atomic uint64_t head; /* next index to read */
    uint64_t tail_cache;            /* consumer's last view of tail */

    /* Sleep/wake words, written only around a sleep. */
    alignas(DTX_CACHE_LINE) _Atomic uint32_t data_seq;  /* futex: bumped when data
                                                           is published to a sleeper */
    _Atomic uint32_t consumer_sleeping; /* non-zero while the consumer may sleep:
                                           1 on the futex, 2 on data_fd */
    _Atomic uint32_t space_seq;     /* futex: bumped when space is freed for a sleeper */
    _Atomic uint32_t producer_sleeping; /* likewise for the producer (space_fd) */
    int data_fd;                    /* eventfd written with data_seq, or -1 */
    int space_fd;                   /* eventfd written with space_seq, or -1 */

    /* Read-only after creation. */
    alignas(DTX_CACHE_LINE) uint32_t capacity; /* records, a power of two */
    uint32_t mask;
    uint32_t record_size;           /* bytes, a multiple of 8 */
    dtx_wait_strategy wait;
    unsigned char *slots;           /* capacity * record_size bytes, line-aligned */
} dtx_ring;

/*
 * Creates a ring of `capacity` records of `record_size` bytes. capacity must
 * be a power of two from 2 to 2^30, record_size a multiple of 8 from 8 to
 * 4096. All memory is reserved and touched here. Returns NULL (and sets the
 * dtx_error message naming the bad argument) on a bad argument or no memory.
 */
dtx_ring *dtx_ring_create(uint32_t record_size, uint32_t capacity, dtx_wait_strategy wait);

/* Frees the ring. NULL is accepted. Neither side may be using it. */
void dtx_ring_destroy(dtx_ring *r);

/*
 * Attaches eventfds (or -1 for none) that the ring writes 1 to when it wakes an
 * armed consumer (data_fd) or an armed producer (space_fd). Call before either
 * thread starts. The ring does not own or close them.
 */
void dtx_ring_set_notify_fd(dtx_ring *r, int data_fd, int space_fd);

/*
 * Producer: copies up to n records from recs into the ring, in order. Returns
 * the number pushed (0 when full); the rest are the caller's to retry. Never
 * blocks.
 */
size_t dtx_ring_push(dtx_ring *r, const void *recs, size_t n);

/*
 * Consumer: copies up to max records out of the ring into out, oldest first.
 * Returns the number popped (0 when empty). Never blocks.
 */
size_t dtx_ring_pop(dtx_ring *r, void *out, size_t max);

/*
 * Producer, zero-copy: *slots is set to the first free slot and the return is
 * the number of contiguous free slots there (at most up to the end of the
 * array; 0 when full). Write records there, then publish k <= that many with
 * dtx_ring_write_end(r, k).
 */
size_t dtx_ring_write_begin(dtx_ring *r, void **slots);
void dtx_ring_write_end(dtx_ring *r, size_t k);

/*
 * Consumer, zero-copy: *recs is set to the oldest record and the return is the
 * number of contiguous records there (0 when empty). Read them in place, then
 * release k <= that many with dtx_ring_read_end(r, k).
 */
size_t dtx_ring_read_begin(dtx_ring *r, const void **recs);
void dtx_ring_read_end(dtx_ring *r, size_t k);

/*
 * Consumer: waits by the ring's strategy until a record is readable, at most
 * about timeout_ms milliseconds (busy-spin and spin-yield check the clock
 * every few thousand iterations), or until dtx_ring_wake(). Returns 1 when a
 * record is readable, 0 otherwise (timeout, wake-up, spurious return): the
 * caller checks its own stop flag and calls again.
 */
int dtx_ring_wait_readable(dtx_ring *r, uint32_t timeout_ms);

/* Producer: the same for at least `need` free slots (need <= capacity). */
int dtx_ring_wait_writable(dtx_ring *r, size_t need, uint32_t timeout_ms);

/*
 * For a consumer that sleeps elsewhere (epoll_wait on the data eventfd):
 * dtx_ring_arm_readable() declares the intent to sleep and returns 1 when the
 * ring is still empty (sleep now: a later push writes the eventfd), or 0 when a
 * record arrived in between (do not sleep). dtx_ring_disarm_readable() after
 * waking. The producer-side pair does the same for `need` free slots.
 */
int dtx_ring_arm_readable(dtx_ring *r);
void dtx_ring_disarm_readable(dtx_ring *r);
int dtx_ring_arm_writable(dtx_ring *r, size_t need);
void dtx_ring_disarm_writable(dtx_ring *r);

/* Wakes both sides if they sleep (for shutdown). Any thread. */
void dtx_ring_wake(dtx_ring *r);

/* Records in the ring now (exact on either owner thread, a snapshot elsewhere). */
size_t dtx_ring_count(const dtx_ring *r);

/* Free slots now (exact on the producer thread, a snapshot elsewhere). */
size_t dtx_ring_free(const dtx_ring *r);

#ifdef __cplusplus
}
#endif
#endif /* DTX_RING_H */
