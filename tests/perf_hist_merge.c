/*
 * perf_hist_merge.c - perf/hist.h's dtx_hist_merge() and its buckets at the
 * scale of TSC cycles, as bench_book uses them: one histogram of cycles per
 * message kind, merged into one for the overall p50/p99/p99.9/max. Merging
 * must give exactly the histogram of all the values (counts, n, sum, max, so
 * every quantile), and the buckets must hold cycle counts up to the largest
 * a run sees (a preempted submit: 10^5..10^9 cycles) at most 1/64 wide.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../perf/hist.h"

static dtx_hist *hist_new(void)
{
    dtx_hist *h = calloc(1, sizeof *h);
    cr_assert_not_null(h);
    return h;
}

/* splitmix64: the test's values, reproducible from the seed printed */
static uint64_t next(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

Test(perf_hist_merge, two_kinds_merged_give_the_exact_counts_sum_max_and_quantiles)
{
    dtx_hist *a = hist_new(), *b = hist_new(), *all = hist_new();
    for (uint64_t v = 1; v <= 100; v++)
        dtx_hist_add(a, v);
    for (uint64_t v = 1000; v <= 1099; v++)
        dtx_hist_add(b, v);
    dtx_hist_merge(all, a);
    dtx_hist_merge(all, b);
    cr_assert_eq(all->n, 200);
    cr_assert_eq(all->sum, 5050 + 104950);
    cr_assert_eq(all->max, 1099);
    cr_assert_eq(dtx_hist_quantile(all, 0.5), 100, "rank 100: the value 100, exact below 128");
    cr_assert_eq(dtx_hist_quantile(all, 0.9), 1087, "rank 180: 1079, in bucket 1072..1087");
    cr_assert_eq(dtx_hist_quantile(all, 0.99), 1099, "rank 198: 1097, bucket top 1103 capped at the max");
    cr_assert_eq(dtx_hist_quantile(all, 1.0), 1099);
    free(a);
    free(b);
    free(all);
}

Test(perf_hist_merge, per_kind_histograms_merged_equal_one_histogram_of_every_value)
{
    const uint64_t seed = 20261201;
    printf("perf_hist_merge per-kind: seed %" PRIu64 "\n", seed);
    dtx_hist *kind[4], *one = hist_new(), *all = hist_new();
    for (int k = 0; k < 4; k++)
        kind[k] = hist_new();
    uint64_t x = seed;
    for (int i = 0; i < 400000; i++) {
        uint64_t r = next(&x);
        /* cycles: mostly 100..612, 1 in 256 up to ~10^6, 1 in 65536 up to ~10^9 */
        uint64_t v = 100 + (r & 511);
        if ((r >> 16 & 255) == 0)
            v += r >> 44;
        if ((r >> 24 & 65535) == 0)
            v += r >> 34;
        dtx_hist_add(kind[r >> 62], v);
        dtx_hist_add(one, v);
    }
    for (int k = 0; k < 4; k++)
        dtx_hist_merge(all, kind[k]);
    cr_assert_eq(all->n, one->n);
    cr_assert_eq(all->sum, one->sum);
    cr_assert_eq(all->max, one->max);
    cr_assert_eq(memcmp(all->count, one->count, sizeof one->count), 0, "every bucket's count");
    static const double qs[] = {0.5, 0.9, 0.99, 0.999, 0.9999, 1.0};
    for (unsigned i = 0; i < sizeof qs / sizeof qs[0]; i++)
        cr_assert_eq(dtx_hist_quantile(all, qs[i]), dtx_hist_quantile(one, qs[i]), "q %g", qs[i]);
    for (int k = 0; k < 4; k++)
        free(kind[k]);
    free(one);
    free(all);
}

Test(perf_hist_merge, merging_an_empty_histogram_changes_nothing_and_into_an_empty_one_copies)
{
    dtx_hist *h = hist_new(), *empty = hist_new(), *copy = hist_new();
    dtx_hist_add(h, 7);
    dtx_hist_add(h, 134992);
    dtx_hist_merge(h, empty);
    cr_assert_eq(h->n, 2);
    cr_assert_eq(h->sum, 134999);
    cr_assert_eq(h->max, 134992);
    dtx_hist_merge(copy, h);
    cr_assert_eq(memcmp(copy, h, sizeof *h), 0);
    cr_assert_eq(dtx_hist_quantile(copy, 0.5), 7);
    cr_assert_eq(dtx_hist_quantile(copy, 1.0), 134992);
    free(h);
    free(empty);
    free(copy);
}

Test(perf_hist_merge, cycle_counts_up_to_uint64_max_fall_in_buckets_at_most_1_64_wide)
{
    /* 134992 cycles (a max seen in the hot profile): 2^17 range, buckets of
     * 2^11, 65 * 2048 = 133120 .. 135167 */
    cr_assert_eq(dtx_hist_index(134992), 11 * 64 + 65);
    cr_assert_eq(dtx_hist_bucket_top(11 * 64 + 65), 135167);
    cr_assert_eq(dtx_hist_index(UINT64_MAX), DTX_HIST_BUCKETS - 1);
    cr_assert_eq(dtx_hist_bucket_top(DTX_HIST_BUCKETS - 1), UINT64_MAX);
    for (uint32_t bit = 7; bit < 64; bit++) {
        uint64_t lo = 1ull << bit, hi = lo | (lo - 1);
        uint64_t vs[] = {lo, lo + lo / 3, hi};
        for (unsigned j = 0; j < 3; j++) {
            uint64_t v = vs[j], top = dtx_hist_bucket_top(dtx_hist_index(v));
            cr_assert(top >= v, "bit %u: top %" PRIu64 " below %" PRIu64, bit, top, v);
            cr_assert(top - v < lo / 64, "bit %u: bucket of %" PRIu64 " wider than 1/64", bit, v);
        }
    }
}
