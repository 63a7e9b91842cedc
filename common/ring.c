/*
 * ring.c - the SPSC ring of dtx/ring.h: batch copy and zero-copy access, and
 * the three wait strategies (busy-spin, spin-then-yield, block on a futex or an
 * eventfd). Every stage boundary of the daemon (gateway -> core commands,
 * core -> gateway events) is one of these rings.
 *
 * Memory ordering, once for the whole file:
 *  - Records are published by the producer's store-release of tail and seen by
 *    the consumer's load-acquire of tail: record bytes written before the
 *    release are visible after the acquire.
 *  - Slots are handed back by the consumer's store-release of head and seen by
 *    the producer's load-acquire of head: the consumer has finished reading a
 *    slot before the producer may overwrite it.
 *  - Sleeping is a Dekker handshake. The sleeper stores its *_sleeping flag,
 *    issues a seq_cst fence and re-reads the other side's index; the publisher
 *    stores its index, issues a seq_cst fence and reads the flag. With both
 *    fences at least one of them sees the other's store, so a sleeper is never
 *    left asleep on a ring that has what it waits for. The futex word (*_seq)
 *    is read before the flag is raised, so a wake that lands between the check
 *    and futex_wait() makes futex_wait() return at once (EAGAIN).
 *  With DTX_WAIT_BUSY_SPIN nobody sleeps, and the publisher skips the fence.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dtx/error.h"
#include "dtx/ring.h"

/* How a side sleeps: the value of its *_sleeping flag, so the waker makes
 * only the one system call that reaches it. */
#define SLEEP_FUTEX 1u /* in futex_wait on the *_seq word */
#define SLEEP_FD 2u    /* in the caller's own poll (epoll) on the eventfd */

/* Iterations spent spinning before yielding or sleeping. */
#define RING_SPIN_BEFORE_SLEEP 256u
/* Spin and yield loops read the clock once per this many iterations. */
#define RING_CLOCK_EVERY 1024u

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void futex_wait(_Atomic uint32_t *word, uint32_t expect, uint32_t timeout_ms)
{
    struct timespec ts = {.tv_sec = timeout_ms / 1000u,
                          .tv_nsec = (long)(timeout_ms % 1000u) * 1000000L};
    /* EAGAIN (word changed), EINTR and ETIMEDOUT all just return: callers
     * re-check the ring. */
    (void)syscall(SYS_futex, (uint32_t *)(uintptr_t)word, FUTEX_WAIT_PRIVATE, expect, &ts, NULL, 0);
}

static void futex_wake_all(_Atomic uint32_t *word)
{
    (void)syscall(SYS_futex, (uint32_t *)(uintptr_t)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void eventfd_signal(int fd)
{
    uint64_t one = 1;
    ssize_t w;
    if (fd < 0)
        return;
    /* EAGAIN means the counter is already non-zero: the sleeper will wake. */
    do {
        w = write(fd, &one, sizeof one);
    } while (w < 0 && errno == EINTR);
}

const char *dtx_wait_strategy_name(dtx_wait_strategy w)
{
    switch (w) {
    case DTX_WAIT_BUSY_SPIN: return "busy-spin";
    case DTX_WAIT_SPIN_YIELD: return "spin-yield";
    case DTX_WAIT_BLOCK: return "block";
    }
    return "?";
}

int dtx_wait_strategy_parse(const char *name, dtx_wait_strategy *out)
{
    static const dtx_wait_strategy all[] = {DTX_WAIT_BUSY_SPIN, DTX_WAIT_SPIN_YIELD,
                                            DTX_WAIT_BLOCK};
    size_t i;
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, dtx_wait_strategy_name(all[i])) == 0) {
            *out = all[i];
            return 1;
        }
    }
    return 0;
}

dtx_ring *dtx_ring_create(uint32_t record_size, uint32_t capacity, dtx_wait_strategy wait)
{
    dtx_ring *r;
    size_t bytes;

    if (capacity < 2 || capacity > (1u << 30) || (capacity & (capacity - 1)) != 0) {
        dtx_error_set(DTX_EINVAL, "ring: capacity %u is not a power of two in 2..2^30",
                      capacity);
        return NULL;
    }
    if (record_size < 8 || record_size > 4096 || record_size % 8 != 0) {
        dtx_error_set(DTX_EINVAL, "ring: record_size %u is not a multiple of 8 in 8..4096",
                      record_size);
        return NULL;
    }
    if (wait != DTX_WAIT_BUSY_SPIN && wait != DTX_WAIT_SPIN_YIELD && wait != DTX_WAIT_BLOCK) {
        dtx_error_set(DTX_EINVAL, "ring: wait strategy %d is unknown", (int)wait);
        return NULL;
    }
    r = aligned_alloc(DTX_CACHE_LINE, sizeof *r);
    if (!r) {
        dtx_error_set(DTX_ENOMEM, "ring: cannot allocate the ring header");
        return NULL;
    }
    memset(r, 0, sizeof *r);
    bytes = (size_t)capacity * record_size;
    bytes = (bytes + DTX_CACHE_LINE - 1) & ~(size_t)(DTX_CACHE_LINE - 1);
    r->slots = aligned_alloc(DTX_CACHE_LINE, bytes);
    if (!r->slots) {
        free(r);
        dtx_error_set(DTX_ENOMEM, "ring: cannot allocate %zu bytes of slots", bytes);
        return NULL;
    }
    memset(r->slots, 0, bytes); /* touch every page now, not on the hot path */
    r->capacity = capacity;
    r->mask = capacity - 1;
    r->record_size = record_size;
    r->wait = wait;
    r->data_fd = -1;
    r->space_fd = -1;
    atomic_init(&r->tail, 0);
    atomic_init(&r->head, 0);
    atomic_init(&r->full_count, 0);
    atomic_init(&r->data_seq, 0);
    atomic_init(&r->space_seq, 0);
    atomic_init(&r->consumer_sleeping, 0);
    atomic_init(&r->producer_sleeping, 0);
    return r;
}

void dtx_ring_destroy(dtx_ring *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r);
}

void dtx_ring_set_notify_fd(dtx_ring *r, int data_fd, int space_fd)
{
    r->data_fd = data_fd;
    r->space_fd = space_fd;
}

/* ---- producer side ------------------------------------------------------- */

/* Free slots as the producer sees them; refreshes its cached head when the
 * cached view shows fewer than `want`. */
static inline size_t producer_free(dtx_ring *r, uint64_t tail, size_t want)
{
    size_t free_slots = r->capacity - (size_t)(tail - r->head_cache);
    if (free_slots < want) {
        /* Acquire pairs with the consumer's store-release of head in
         * dtx_ring_read_end(): the slots it freed are no longer being read. */
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        free_slots = r->capacity - (size_t)(tail - r->head_cache);
    }
    return free_slots;
}

/* After publishing: wake a consumer that declared it may sleep. */
static inline void notify_consumer(dtx_ring *r)
{
    if (r->wait == DTX_WAIT_BUSY_SPIN && r->data_fd < 0)
        return;
    /* Pairs with the seq_cst fence in consumer_prepare_sleep(): either the
     * consumer sees our new tail, or we see its flag. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->consumer_sleeping, memory_order_relaxed)) {
        uint32_t how = atomic_exchange_explicit(&r->consumer_sleeping, 0, memory_order_relaxed);
        if (how == 0)
            return;
        /* Release pairs with the consumer's load-acquire of data_seq; the
         * futex syscall itself orders the word. */
        atomic_fetch_add_explicit(&r->data_seq, 1, memory_order_release);
        if (how == SLEEP_FUTEX)
            futex_wake_all(&r->data_seq);
        else
            eventfd_signal(r->data_fd);
    }
}

size_t dtx_ring_write_begin(dtx_ring *r, void **slots)
{
    /* Relaxed: only this thread stores tail. */
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t free_slots = producer_free(r, tail, 1);
    size_t idx = (size_t)(tail & r->mask);
    size_t contiguous = r->capacity - idx;
    if (free_slots == 0)
        atomic_fetch_add_explicit(&r->full_count, 1, memory_order_relaxed);
    *slots = r->slots + idx * r->record_size;
    return free_slots < contiguous ? free_slots : contiguous;
}

void dtx_ring_write_end(dtx_ring *r, size_t k)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (k == 0)
        return;
    /* Release pairs with the consumer's load-acquire of tail in
     * consumer_avail(): the k records written are visible before the index. */
    atomic_store_explicit(&r->tail, tail + k, memory_order_release);
    notify_consumer(r);
}

size_t dtx_ring_push(dtx_ring *r, const void *recs, size_t n)
{
    const unsigned char *src = recs;
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t free_slots = producer_free(r, tail, n);
    size_t k = n < free_slots ? n : free_slots;
    size_t idx = (size_t)(tail & r->mask);
    size_t first = r->capacity - idx;
    size_t rs = r->record_size;

    if (k < n)
        atomic_fetch_add_explicit(&r->full_count, 1, memory_order_relaxed);
    if (k == 0)
        return 0;
    if (first > k)
        first = k;
    memcpy(r->slots + idx * rs, src, first * rs);
    if (k > first)
        memcpy(r->slots, src + first * rs, (k - first) * rs);
    dtx_ring_write_end(r, k);
    return k;
}

/* ---- consumer side ------------------------------------------------------- */

/* Records readable as the consumer sees them; refreshes its cached tail when
 * the cached view shows fewer than `want`. */
static inline size_t consumer_avail(dtx_ring *r, uint64_t head, size_t want)
{
    size_t avail = (size_t)(r->tail_cache - head);
    if (avail < want) {
        /* Acquire pairs with the producer's store-release of tail in
         * dtx_ring_write_end(): the records are fully written. */
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        avail = (size_t)(r->tail_cache - head);
    }
    return avail;
}

/* After freeing slots: wake a producer that declared it may sleep. */
static inline void notify_producer(dtx_ring *r)
{
    if (r->wait == DTX_WAIT_BUSY_SPIN && r->space_fd < 0)
        return;
    /* Pairs with the seq_cst fence in producer_prepare_sleep(). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->producer_sleeping, memory_order_relaxed)) {
        uint32_t how = atomic_exchange_explicit(&r->producer_sleeping, 0, memory_order_relaxed);
        if (how == 0)
            return;
        /* Release pairs with the producer's load-acquire of space_seq. */
        atomic_fetch_add_explicit(&r->space_seq, 1, memory_order_release);
        if (how == SLEEP_FUTEX)
            futex_wake_all(&r->space_seq);
        else
            eventfd_signal(r->space_fd);
    }
}

size_t dtx_ring_read_begin(dtx_ring *r, const void **recs)
{
    /* Relaxed: only this thread stores head. */
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t avail = consumer_avail(r, head, 1);
    size_t idx = (size_t)(head & r->mask);
    size_t contiguous = r->capacity - idx;
    *recs = r->slots + idx * r->record_size;
    return avail < contiguous ? avail : contiguous;
}

void dtx_ring_read_end(dtx_ring *r, size_t k)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (k == 0)
        return;
    /* Release pairs with the producer's load-acquire of head in
     * producer_free(): our reads of these slots happen before reuse. */
    atomic_store_explicit(&r->head, head + k, memory_order_release);
    notify_producer(r);
}

size_t dtx_ring_pop(dtx_ring *r, void *out, size_t max)
{
    unsigned char *dst = out;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t avail = consumer_avail(r, head, max);
    size_t k = max < avail ? max : avail;
    size_t idx = (size_t)(head & r->mask);
    size_t first = r->capacity - idx;
    size_t rs = r->record_size;

    if (k == 0)
        return 0;
    if (first > k)
        first = k;
    memcpy(dst, r->slots + idx * rs, first * rs);
    if (k > first)
        memcpy(dst + first * rs, r->slots, (k - first) * rs);
    dtx_ring_read_end(r, k);
    return k;
}

/* ---- waiting ------------------------------------------------------------- */

/* Raises the consumer's flag; returns 1 when the ring is still empty (the
 * consumer may sleep), 0 when a record arrived (flag lowered again). */
static int consumer_prepare_sleep(dtx_ring *r, uint32_t how)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->consumer_sleeping, how, memory_order_relaxed);
    /* Pairs with the seq_cst fence in notify_consumer(). */
    atomic_thread_fence(memory_order_seq_cst);
    if (consumer_avail(r, head, 1) > 0) {
        atomic_store_explicit(&r->consumer_sleeping, 0, memory_order_relaxed);
        return 0;
    }
    return 1;
}

static int producer_prepare_sleep(dtx_ring *r, size_t need, uint32_t how)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->producer_sleeping, how, memory_order_relaxed);
    /* Pairs with the seq_cst fence in notify_producer(). */
    atomic_thread_fence(memory_order_seq_cst);
    if (producer_free(r, tail, need) >= need) {
        atomic_store_explicit(&r->producer_sleeping, 0, memory_order_relaxed);
        return 0;
    }
    return 1;
}

static int readable(dtx_ring *r)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    return consumer_avail(r, head, 1) > 0;
}

static int writable(dtx_ring *r, size_t need)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    return producer_free(r, tail, need) >= need;
}

int dtx_ring_wait_readable(dtx_ring *r, uint32_t timeout_ms)
{
    uint64_t deadline;
    uint32_t i, seq;

    for (i = 0; i < RING_SPIN_BEFORE_SLEEP; i++) {
        if (readable(r))
            return 1;
        cpu_relax();
    }
    if (r->wait == DTX_WAIT_BLOCK) {
        /* Acquire pairs with the release increment in notify_consumer(). */
        seq = atomic_load_explicit(&r->data_seq, memory_order_acquire);
        if (!consumer_prepare_sleep(r, SLEEP_FUTEX))
            return 1;
        futex_wait(&r->data_seq, seq, timeout_ms);
        atomic_store_explicit(&r->consumer_sleeping, 0, memory_order_relaxed);
        return readable(r);
    }
    deadline = mono_ms() + timeout_ms;
    seq = atomic_load_explicit(&r->data_seq, memory_order_acquire);
    for (i = 1;; i++) {
        if (readable(r))
            return 1;
        /* dtx_ring_wake() bumps data_seq: stop spinning for it too. */
        if (atomic_load_explicit(&r->data_seq, memory_order_relaxed) != seq)
            return 0;
        if (r->wait == DTX_WAIT_SPIN_YIELD)
            sched_yield();
        else
            cpu_relax();
        if (i % RING_CLOCK_EVERY == 0 && mono_ms() >= deadline)
            return 0;
    }
}

int dtx_ring_wait_writable(dtx_ring *r, size_t need, uint32_t timeout_ms)
{
    uint64_t deadline;
    uint32_t i, seq;

    if (need > r->capacity)
        need = r->capacity;
    for (i = 0; i < RING_SPIN_BEFORE_SLEEP; i++) {
        if (writable(r, need))
            return 1;
        cpu_relax();
    }
    if (r->wait == DTX_WAIT_BLOCK) {
        seq = atomic_load_explicit(&r->space_seq, memory_order_acquire);
        if (!producer_prepare_sleep(r, need, SLEEP_FUTEX))
            return 1;
        futex_wait(&r->space_seq, seq, timeout_ms);
        atomic_store_explicit(&r->producer_sleeping, 0, memory_order_relaxed);
        return writable(r, need);
    }
    deadline = mono_ms() + timeout_ms;
    seq = atomic_load_explicit(&r->space_seq, memory_order_acquire);
    for (i = 1;; i++) {
        if (writable(r, need))
            return 1;
        if (atomic_load_explicit(&r->space_seq, memory_order_relaxed) != seq)
            return 0;
        if (r->wait == DTX_WAIT_SPIN_YIELD)
            sched_yield();
        else
            cpu_relax();
        if (i % RING_CLOCK_EVERY == 0 && mono_ms() >= deadline)
            return 0;
    }
}

int dtx_ring_arm_readable(dtx_ring *r) { return consumer_prepare_sleep(r, SLEEP_FD); }

void dtx_ring_disarm_readable(dtx_ring *r)
{
    atomic_store_explicit(&r->consumer_sleeping, 0, memory_order_relaxed);
}

int dtx_ring_arm_writable(dtx_ring *r, size_t need)
{
    if (need > r->capacity)
        need = r->capacity;
    return producer_prepare_sleep(r, need, SLEEP_FD);
}

void dtx_ring_disarm_writable(dtx_ring *r)
{
    atomic_store_explicit(&r->producer_sleeping, 0, memory_order_relaxed);
}

void dtx_ring_wake(dtx_ring *r)
{
    /* Release pairs with the waiters' load-acquire of the seq words. */
    atomic_fetch_add_explicit(&r->data_seq, 1, memory_order_release);
    atomic_fetch_add_explicit(&r->space_seq, 1, memory_order_release);
    futex_wake_all(&r->data_seq);
    futex_wake_all(&r->space_seq);
    eventfd_signal(r->data_fd);
    eventfd_signal(r->space_fd);
}

size_t dtx_ring_count(const dtx_ring *r)
{
    /* head first: tail only grows, so tail - head cannot go negative. Acquire
     * on both so a reader thread sees indices no older than their records. */
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint64_t n = tail - head;
    return n > r->capacity ? r->capacity : (size_t)n;
}

size_t dtx_ring_free(const dtx_ring *r) { return r->capacity - dtx_ring_count(r); }
