/*
 * ring_spsc.c - the SPSC ring (dtx/ring.h): records come out in the order they
 * went in, across wrap-around; a full ring refuses (back-pressure) and never
 * overwrites; an empty ring pops nothing; the zero-copy pairs split at the end
 * of the array; eventfd notification and wake-up; and a two-thread stress run
 * per wait strategy whose checksum and order must match exactly.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "dtx/error.h"
#include "dtx/ring.h"

TestSuite(ring_spsc);

static dtx_ring *make(uint32_t rs, uint32_t cap, dtx_wait_strategy w)
{
    dtx_ring *r = dtx_ring_create(rs, cap, w);
    cr_assert_not_null(r, "%s", dtx_error_message());
    return r;
}

Test(ring_spsc, records_come_out_in_push_order)
{
    dtx_ring *r = make(8, 16, DTX_WAIT_BLOCK);
    uint64_t in[10], out[10] = {0};
    for (uint64_t i = 0; i < 10; i++)
        in[i] = 1000 + i;
    cr_assert_eq(dtx_ring_push(r, in, 4), 4);
    cr_assert_eq(dtx_ring_push(r, in + 4, 6), 6);
    cr_assert_eq(dtx_ring_count(r), 10);
    cr_assert_eq(dtx_ring_pop(r, out, 3), 3);
    cr_assert_eq(dtx_ring_pop(r, out + 3, 100), 7);
    for (uint64_t i = 0; i < 10; i++)
        cr_assert_eq(out[i], 1000 + i, "record %lu", (unsigned long)i);
    cr_assert_eq(dtx_ring_count(r), 0);
    dtx_ring_destroy(r);
}

Test(ring_spsc, wraps_around_the_end_of_the_array_in_order)
{
    dtx_ring *r = make(16, 8, DTX_WAIT_BLOCK);
    uint64_t in[16], out[16];
    uint64_t next_in = 1, next_out = 1;
    /* 100 rounds of 5 in, 5 out: the indices pass the array end many times. */
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 5; i++) {
            in[2 * i] = next_in++;
            in[2 * i + 1] = ~in[2 * i];
        }
        cr_assert_eq(dtx_ring_push(r, in, 5), 5);
        memset(out, 0, sizeof out);
        cr_assert_eq(dtx_ring_pop(r, out, 5), 5);
        for (int i = 0; i < 5; i++) {
            cr_assert_eq(out[2 * i], next_out, "round %d record %d", round, i);
            cr_assert_eq(out[2 * i + 1], ~next_out);
            next_out++;
        }
    }
    cr_assert_eq(atomic_load(&r->head), 500);
    cr_assert_eq(atomic_load(&r->tail), 500);
    dtx_ring_destroy(r);
}

Test(ring_spsc, full_ring_refuses_the_rest_and_overwrites_nothing)
{
    dtx_ring *r = make(8, 8, DTX_WAIT_BLOCK);
    uint64_t in[12], out[12] = {0};
    for (uint64_t i = 0; i < 12; i++)
        in[i] = i + 1;
    cr_assert_eq(dtx_ring_push(r, in, 12), 8);
    cr_assert_eq(dtx_ring_free(r), 0);
    cr_assert_eq(dtx_ring_push(r, in + 8, 1), 0);
    cr_assert_eq(atomic_load(&r->full_count), 2);
    cr_assert_eq(dtx_ring_pop(r, out, 3), 3);
    cr_assert_eq(dtx_ring_push(r, in + 8, 4), 3); /* 9, 10, 11 fit; 12 does not */
    cr_assert_eq(dtx_ring_pop(r, out + 3, 12), 8);
    for (uint64_t i = 0; i < 11; i++)
        cr_assert_eq(out[i], i + 1, "record %lu", (unsigned long)i);
    cr_assert_eq(out[11], 0);
    dtx_ring_destroy(r);
}

Test(ring_spsc, empty_ring_pops_nothing_and_wait_returns_zero)
{
    dtx_ring *r = make(8, 4, DTX_WAIT_BLOCK);
    uint64_t out = 77;
    const void *p;
    cr_assert_eq(dtx_ring_pop(r, &out, 1), 0);
    cr_assert_eq(out, 77);
    cr_assert_eq(dtx_ring_read_begin(r, &p), 0);
    cr_assert_eq(dtx_ring_wait_readable(r, 1), 0);
    cr_assert_eq(dtx_ring_wait_writable(r, 4, 1), 1);
    cr_assert_eq(dtx_ring_count(r), 0);
    dtx_ring_destroy(r);
}

Test(ring_spsc, zero_copy_access_splits_at_the_array_end)
{
    dtx_ring *r = make(8, 8, DTX_WAIT_BUSY_SPIN);
    uint64_t in[6] = {1, 2, 3, 4, 5, 6}, out[6];
    void *w;
    const void *rd;
    cr_assert_eq(dtx_ring_push(r, in, 6), 6);
    cr_assert_eq(dtx_ring_pop(r, out, 6), 6);
    /* head = tail = 6: two slots to the end, then the front. */
    cr_assert_eq(dtx_ring_write_begin(r, &w), 2);
    ((uint64_t *)w)[0] = 70;
    ((uint64_t *)w)[1] = 71;
    dtx_ring_write_end(r, 2);
    cr_assert_eq(dtx_ring_write_begin(r, &w), 6);
    cr_assert_eq(w, (void *)r->slots);
    ((uint64_t *)w)[0] = 72;
    dtx_ring_write_end(r, 1);
    cr_assert_eq(dtx_ring_read_begin(r, &rd), 2);
    cr_assert_eq(((const uint64_t *)rd)[0], 70);
    cr_assert_eq(((const uint64_t *)rd)[1], 71);
    dtx_ring_read_end(r, 2);
    cr_assert_eq(dtx_ring_read_begin(r, &rd), 1);
    cr_assert_eq(((const uint64_t *)rd)[0], 72);
    dtx_ring_read_end(r, 1);
    cr_assert_eq(dtx_ring_count(r), 0);
    dtx_ring_destroy(r);
}

Test(ring_spsc, create_rejects_bad_sizes_naming_the_argument)
{
    cr_assert_null(dtx_ring_create(8, 6, DTX_WAIT_BLOCK));
    cr_assert_str_eq(dtx_error_message(), "ring: capacity 6 is not a power of two in 2..2^30");
    cr_assert_null(dtx_ring_create(12, 8, DTX_WAIT_BLOCK));
    cr_assert_str_eq(dtx_error_message(),
                     "ring: record_size 12 is not a multiple of 8 in 8..4096");
    cr_assert_null(dtx_ring_create(8, 8, (dtx_wait_strategy)7));
    cr_assert_str_eq(dtx_error_message(), "ring: wait strategy 7 is unknown");
}

Test(ring_spsc, wait_strategy_names_round_trip)
{
    dtx_wait_strategy w;
    cr_assert_eq(dtx_wait_strategy_parse("busy-spin", &w), 1);
    cr_assert_eq(w, DTX_WAIT_BUSY_SPIN);
    cr_assert_eq(dtx_wait_strategy_parse("spin-yield", &w), 1);
    cr_assert_eq(w, DTX_WAIT_SPIN_YIELD);
    cr_assert_eq(dtx_wait_strategy_parse("block", &w), 1);
    cr_assert_eq(w, DTX_WAIT_BLOCK);
    cr_assert_eq(dtx_wait_strategy_parse("spin", &w), 0);
    cr_assert_str_eq(dtx_wait_strategy_name(DTX_WAIT_SPIN_YIELD), "spin-yield");
    cr_assert_str_eq(dtx_wait_strategy_name((dtx_wait_strategy)9), "?");
}

Test(ring_spsc, armed_consumer_is_signalled_through_its_eventfd)
{
    dtx_ring *r = make(8, 8, DTX_WAIT_BLOCK);
    int dfd = eventfd(0, EFD_NONBLOCK), sfd = eventfd(0, EFD_NONBLOCK);
    uint64_t v = 5, cnt = 0;
    dtx_ring_set_notify_fd(r, dfd, sfd);
    cr_assert_eq(dtx_ring_arm_readable(r), 1);
    cr_assert_eq(read(dfd, &cnt, sizeof cnt), -1); /* nothing yet */
    cr_assert_eq(dtx_ring_push(r, &v, 1), 1);
    cr_assert_eq(read(dfd, &cnt, sizeof cnt), 8);
    cr_assert_eq(cnt, 1);
    /* The flag was consumed: a second push makes no second signal. */
    cr_assert_eq(dtx_ring_push(r, &v, 1), 1);
    cr_assert_eq(read(dfd, &cnt, sizeof cnt), -1);
    /* Armed with data present: do not sleep. */
    cr_assert_eq(dtx_ring_arm_readable(r), 0);

    /* Producer side: fill, arm for 2 slots, free 2. */
    while (dtx_ring_push(r, &v, 1) == 1) {
    }
    cr_assert_eq(dtx_ring_arm_writable(r, 2), 1);
    cr_assert_eq(dtx_ring_pop(r, &v, 1), 1);
    cr_assert_eq(read(sfd, &cnt, sizeof cnt), 8);
    cr_assert_eq(cnt, 1);
    dtx_ring_destroy(r);
    close(dfd);
    close(sfd);
}

typedef struct waiter {
    dtx_ring *r;
    atomic_int done;
    int result;
} waiter;

static void *wait_thread(void *arg)
{
    waiter *w = arg;
    w->result = dtx_ring_wait_readable(w->r, 60000);
    atomic_store(&w->done, 1);
    return NULL;
}

static void check_wake(dtx_wait_strategy strategy)
{
    waiter w = {.r = make(8, 8, strategy), .result = -1};
    pthread_t t;
    atomic_init(&w.done, 0);
    cr_assert_eq(pthread_create(&t, NULL, wait_thread, &w), 0);
    while (!atomic_load(&w.done)) {
        dtx_ring_wake(w.r);
        usleep(1000);
    }
    pthread_join(t, NULL);
    cr_assert_eq(w.result, 0, "a woken waiter on an empty ring returns 0");
    dtx_ring_destroy(w.r);
}

Test(ring_spsc, wake_releases_a_blocked_consumer) { check_wake(DTX_WAIT_BLOCK); }
Test(ring_spsc, wake_releases_a_yielding_consumer) { check_wake(DTX_WAIT_SPIN_YIELD); }
Test(ring_spsc, wake_releases_a_spinning_consumer) { check_wake(DTX_WAIT_BUSY_SPIN); }

/* ---- two-thread stress ---------------------------------------------------- */

#define STRESS_RECORDS 300000u

typedef struct rec {
    uint64_t seq;
    uint64_t value;
    uint64_t pad[14];
} rec;
_Static_assert(sizeof(rec) == 128, "a command-sized record");

typedef struct stress {
    dtx_ring *r;
    uint64_t seed;
    uint64_t sum_in, sum_out;
    uint64_t out_of_order;
} stress;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static void *producer(void *arg)
{
    stress *s = arg;
    rec batch[32];
    uint64_t next = 0, rng = s->seed;
    while (next < STRESS_RECORDS) {
        size_t n = 1 + (size_t)((rng = mix(rng)) % 32), done = 0;
        if (n > STRESS_RECORDS - next)
            n = STRESS_RECORDS - next;
        for (size_t i = 0; i < n; i++) {
            memset(&batch[i], 0, sizeof batch[i]);
            batch[i].seq = next + i;
            batch[i].value = mix(s->seed ^ (next + i));
            batch[i].pad[13] = batch[i].value ^ batch[i].seq;
            s->sum_in += batch[i].value;
        }
        while (done < n) {
            size_t k = dtx_ring_push(s->r, batch + done, n - done);
            done += k;
            if (done < n)
                dtx_ring_wait_writable(s->r, 1, 100);
        }
        next += n;
    }
    return NULL;
}

static void *consumer(void *arg)
{
    stress *s = arg;
    rec batch[32];
    uint64_t expect = 0, rng = ~s->seed;
    while (expect < STRESS_RECORDS) {
        size_t want = 1 + (size_t)((rng = mix(rng)) % 32);
        size_t k = dtx_ring_pop(s->r, batch, want);
        if (k == 0) {
            dtx_ring_wait_readable(s->r, 100);
            continue;
        }
        for (size_t i = 0; i < k; i++) {
            if (batch[i].seq != expect || batch[i].pad[13] != (batch[i].value ^ batch[i].seq))
                s->out_of_order++;
            s->sum_out += batch[i].value;
            expect++;
        }
    }
    return NULL;
}

static void run_stress(dtx_wait_strategy w)
{
    const char *env = getenv("DTX_SEED"); /* reproduce: DTX_SEED=<seed> */
    stress s = {.r = make(sizeof(rec), 64, w),
                .seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL)};
    pthread_t p, c;
    uint64_t expect_sum = 0;
    printf("ring_spsc stress %s: seed %llu, %u records\n", dtx_wait_strategy_name(w),
           (unsigned long long)s.seed, STRESS_RECORDS);
    for (uint64_t i = 0; i < STRESS_RECORDS; i++)
        expect_sum += mix(s.seed ^ i);
    cr_assert_eq(pthread_create(&c, NULL, consumer, &s), 0);
    cr_assert_eq(pthread_create(&p, NULL, producer, &s), 0);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    cr_assert_eq(s.out_of_order, 0, "seed %llu", (unsigned long long)s.seed);
    cr_assert_eq(s.sum_in, expect_sum);
    cr_assert_eq(s.sum_out, expect_sum, "seed %llu", (unsigned long long)s.seed);
    cr_assert_eq(atomic_load(&s.r->tail), STRESS_RECORDS);
    cr_assert_eq(atomic_load(&s.r->head), STRESS_RECORDS);
    dtx_ring_destroy(s.r);
}

Test(ring_spsc, two_threads_busy_spin_deliver_every_record_in_order) { run_stress(DTX_WAIT_BUSY_SPIN); }
Test(ring_spsc, two_threads_spin_yield_deliver_every_record_in_order) { run_stress(DTX_WAIT_SPIN_YIELD); }
Test(ring_spsc, two_threads_block_deliver_every_record_in_order) { run_stress(DTX_WAIT_BLOCK); }
