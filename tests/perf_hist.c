/*
 * perf_hist.c - the benchmarks' histogram (perf/hist.h): exact below 128,
 * buckets at most 1/64 wide above, and the one quantile rule: the value at
 * rank ceil(q n), reported as its bucket's upper bound, at most the exact
 * maximum.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "../perf/hist.h"

static dtx_hist *fresh(void)
{
    dtx_hist *h = calloc(1, sizeof *h);
    cr_assert_not_null(h);
    return h;
}

Test(perf_hist, quantiles_of_1_to_100_are_the_values_at_rank_ceil_q_n)
{
    dtx_hist *h = fresh();
    for (uint64_t v = 100; v >= 1; v--)
        dtx_hist_add(h, v);
    cr_assert_eq(h->n, 100);
    cr_assert_eq(h->max, 100);
    cr_assert_eq(h->sum, 5050);
    cr_assert_eq(dtx_hist_quantile(h, 0.5), 50);
    cr_assert_eq(dtx_hist_quantile(h, 0.99), 99);
    cr_assert_eq(dtx_hist_quantile(h, 0.999), 100, "rank ceil(99.9) = 100");
    cr_assert_eq(dtx_hist_quantile(h, 1.0), 100);
    cr_assert_eq(dtx_hist_quantile(h, 0.0), 1, "rank at least 1");
    cr_assert_eq(dtx_hist_quantile(h, 0.011), 2, "rank ceil(1.1) = 2");
    cr_assert_eq(dtx_hist_at_rank(h, 37), 37);
    cr_assert_float_eq(dtx_hist_mean(h), 50.5, 1e-12);
    free(h);
}

Test(perf_hist, a_fractional_rank_rounds_up)
{
    dtx_hist *h = fresh();
    dtx_hist_add(h, 1);
    dtx_hist_add(h, 2);
    dtx_hist_add(h, 3);
    cr_assert_eq(dtx_hist_quantile(h, 0.5), 2, "rank ceil(1.5) = 2");
    cr_assert_eq(dtx_hist_quantile(h, 0.34), 2, "rank ceil(1.02) = 2");
    cr_assert_eq(dtx_hist_quantile(h, 0.33), 1, "rank ceil(0.99) = 1");
    free(h);
}

Test(perf_hist, above_128_a_quantile_is_its_buckets_upper_bound_capped_by_the_max)
{
    dtx_hist *h = fresh();
    for (uint64_t v = 1; v <= 1000; v++)
        dtx_hist_add(h, v);
    /* 500 lies in [500, 503] (4 wide at 2^8), 990 in [984, 991] (8 wide at
     * 2^9), 999 in [992, 999] */
    cr_assert_eq(dtx_hist_quantile(h, 0.5), 503);
    cr_assert_eq(dtx_hist_quantile(h, 0.99), 991);
    cr_assert_eq(dtx_hist_quantile(h, 0.999), 999);
    cr_assert_eq(dtx_hist_quantile(h, 1.0), 1000);
    free(h);

    h = fresh();
    dtx_hist_add(h, 1000); /* bucket [1000, 1007] */
    cr_assert_eq(dtx_hist_quantile(h, 0.5), 1000, "never above the exact max");
    dtx_hist_add(h, 2000);
    cr_assert_eq(dtx_hist_quantile(h, 0.5), 1007, "the bucket's upper bound");
    cr_assert_eq(dtx_hist_quantile(h, 0.99), 2000);
    free(h);
}

Test(perf_hist, every_value_below_128_has_its_own_bucket_and_others_are_at_most_1_64_wide)
{
    for (uint64_t v = 0; v < 128; v++) {
        cr_assert_eq(dtx_hist_index(v), v);
        cr_assert_eq(dtx_hist_bucket_top(dtx_hist_index(v)), v);
    }
    /* each bucket's top is the last value in it and top + 1 opens the next */
    for (uint32_t i = 128; i + 1 < DTX_HIST_BUCKETS; i++) {
        uint64_t top = dtx_hist_bucket_top(i), lo = dtx_hist_bucket_top(i - 1) + 1;
        cr_assert_eq(dtx_hist_index(top), i, "bucket %u", i);
        cr_assert_eq(dtx_hist_index(lo), i, "bucket %u", i);
        cr_assert_eq(dtx_hist_index(top + 1), i + 1, "bucket %u", i);
        cr_assert_leq((top - lo + 1) * 64, lo, "bucket %u: [%llu, %llu]", i,
                      (unsigned long long)lo, (unsigned long long)top);
    }
    cr_assert_eq(dtx_hist_index(UINT64_MAX), DTX_HIST_BUCKETS - 1);
    cr_assert_eq(dtx_hist_bucket_top(DTX_HIST_BUCKETS - 1), UINT64_MAX);
}

Test(perf_hist, an_empty_histogram_reports_0_and_merging_adds_everything)
{
    dtx_hist *a = fresh(), *b = fresh();
    cr_assert_eq(dtx_hist_quantile(a, 0.5), 0);
    cr_assert_eq(dtx_hist_quantile(a, 1.0), 0);
    cr_assert_float_eq(dtx_hist_mean(a), 0.0, 1e-12);
    for (uint64_t v = 1; v <= 50; v++)
        dtx_hist_add(a, v);
    for (uint64_t v = 51; v <= 100; v++)
        dtx_hist_add(b, v);
    dtx_hist_merge(a, b);
    cr_assert_eq(a->n, 100);
    cr_assert_eq(a->sum, 5050);
    cr_assert_eq(a->max, 100);
    cr_assert_eq(dtx_hist_quantile(a, 0.5), 50);
    cr_assert_eq(dtx_hist_quantile(a, 0.99), 99);
    dtx_hist_reset(a);
    cr_assert_eq(a->n, 0);
    cr_assert_eq(dtx_hist_quantile(a, 0.5), 0);
    free(a);
    free(b);
}

#if DTX_HAVE_TSC
Test(perf_hist, the_tsc_counts_up_and_calibrates_to_a_positive_rate)
{
    uint64_t t0 = dtx_tsc_begin(), t1 = dtx_tsc_end();
    cr_assert_geq(t1, t0);
    cr_assert_gt(dtx_tsc_calibrate(10), 0.0);
}
#endif
