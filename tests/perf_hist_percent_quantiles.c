/*
 * perf_hist_percent_quantiles.c - perf/hist.h's quantile rule holds for the
 * decimal quantile the caller means, not for the binary rounding of it:
 * dtx-loadgen asks for p99.9 as 99.9 / 100.0 (0.9990000000000001 in binary),
 * whose product with n = 1000 is 999.0000000000001; the rank must still be
 * ceil(0.999 x 1000) = 999, not 1000.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "../perf/hist.h"

static dtx_hist *one_to(uint64_t n)
{
    dtx_hist *h = calloc(1, sizeof *h);
    cr_assert_not_null(h);
    for (uint64_t v = 1; v <= n; v++)
        dtx_hist_add(h, v);
    return h;
}

Test(perf_hist_percent, p99_9_of_1_to_1000_asked_as_99_9_over_100_is_999)
{
    dtx_hist *h = one_to(1000);
    volatile double p = 99.9; /* as dtx-loadgen's pct_us() computes it */
    cr_assert_eq(dtx_hist_quantile(h, p / 100.0), 999, "rank ceil(999.0) = 999");
    cr_assert_eq(dtx_hist_quantile(h, 0.999), 999);
    free(h);
}

Test(perf_hist_percent, p7_of_1_to_100_is_7_though_0_07_x_100_rounds_above_7)
{
    dtx_hist *h = one_to(100);
    cr_assert_eq(dtx_hist_quantile(h, 0.07), 7);
    cr_assert_eq(dtx_hist_quantile(h, 0.14), 14);
    cr_assert_eq(dtx_hist_quantile(h, 0.071), 8, "rank ceil(7.1) = 8");
    free(h);
}

Test(perf_hist_percent, a_rank_just_above_an_integer_still_rounds_up)
{
    dtx_hist *h = one_to(1000);
    cr_assert_eq(dtx_hist_quantile(h, 0.999001), 1000, "rank ceil(999.001) = 1000");
    cr_assert_eq(dtx_hist_quantile(h, 0.000001), 1, "rank ceil(0.001) = 1");
    cr_assert_eq(dtx_hist_quantile(h, 1e-12), 1, "rank at least 1");
    free(h);
}
