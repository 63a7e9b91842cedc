/*
 * perf/hist.h - the latency histogram and the timers of dtx's benchmarks and
 * load generators, header only (include it as "../perf/hist.h" from apps/,
 * perf/ and tests/). One histogram and one quantile rule, so figures from
 * bench_book, bench_risk and dtx-loadgen mean the same thing.
 *
 * Histogram. Log-linear buckets of uint64 values (nanoseconds or cycles), in
 * the manner of HdrHistogram: every value below 128 has a bucket of its own
 * (exact); above, each power of two [2^k, 2^(k+1)) is split into 64 equal
 * buckets, so a bucket is at most 1/64 (1.6 %) of its values wide. 3,776
 * buckets cover all of uint64 (30 KiB per histogram); the exact maximum, the
 * count and the sum are kept beside them. Adding a value is a few integer
 * instructions, no branch on the bucket layout beyond one compare.
 *
 * The quantile rule (the only one):
 *   quantile q (0 <= q <= 1) of n recorded values is the value at rank
 *   r = ceil(q * n), r at least 1 (ranks 1..n, values in ascending order),
 *   reported as the upper bound (highest value) of the bucket holding that
 *   rank, but never more than the exact maximum.
 * So a reported quantile is never below the true value at that rank and at
 * most 1.6 % above it (exact below 128); q = 1 is the exact maximum; p50 of
 * the values 1..100 is 50, p99 is 99, p99.9 is 100 (rank ceil(99.9) = 100).
 * An empty histogram reports 0.
 *
 * Timers (x86 only): dtx_tsc_begin() / dtx_tsc_end() read the TSC fenced
 * (lfence;rdtsc .. rdtscp;lfence) so the timed code neither starts before
 * the first read nor is still running at the second; dtx_tsc_calibrate()
 * measures cycles per nanosecond against CLOCK_MONOTONIC once at start-up.
 * A clock_gettime() costs ~26-31 ns on these VMs (RECIPES.md): time anything
 * shorter than a microsecond with the TSC, or time batches.
 *
 * How a benchmark switches to it: replace its hist struct, add and quantile
 * functions with dtx_hist, dtx_hist_add() and dtx_hist_quantile() (q as a
 * fraction: 0.99, not 99), and its tsc_begin/tsc_end/tsc_calibrate with the
 * dtx_tsc_ ones. Histograms are large: allocate them (calloc), or make them
 * static, rather than put them on the stack.
 */
#ifndef DTX_PERF_HIST_H
#define DTX_PERF_HIST_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define DTX_HAVE_TSC 1
#else
#define DTX_HAVE_TSC 0
#endif

/* Bits of sub-bucket resolution: 2^7 = 128 exact values, then 64 buckets
 * per power of two. */
#define DTX_HIST_SUB_BITS 7u
#define DTX_HIST_SUB (1u << DTX_HIST_SUB_BITS)
#define DTX_HIST_HALF (DTX_HIST_SUB / 2u)
#define DTX_HIST_BUCKETS (DTX_HIST_SUB + DTX_HIST_HALF * (64u - DTX_HIST_SUB_BITS))

typedef struct dtx_hist {
    uint64_t n;   /* values recorded */
    uint64_t max; /* exact largest value; 0 when empty */
    uint64_t sum; /* of every value (wraps past 2^64: ~584 years of ns) */
    uint64_t count[DTX_HIST_BUCKETS];
} dtx_hist;

/* Bucket of value v. */
static inline uint32_t dtx_hist_index(uint64_t v)
{
    if (v < DTX_HIST_SUB)
        return (uint32_t)v;
    /* v >> shift keeps the top 7 bits: 64..127, so bucket shift*64 + that */
    uint32_t shift = (uint32_t)(63 - __builtin_clzll(v)) - (DTX_HIST_SUB_BITS - 1u);
    return shift * DTX_HIST_HALF + (uint32_t)(v >> shift);
}

/* Highest value that falls into bucket i. */
static inline uint64_t dtx_hist_bucket_top(uint32_t i)
{
    if (i < DTX_HIST_SUB)
        return i;
    uint32_t shift = i / DTX_HIST_HALF - 1u;
    uint64_t sub = i - shift * DTX_HIST_HALF; /* 64..127 */
    if (sub == DTX_HIST_SUB - 1u && shift == 64u - DTX_HIST_SUB_BITS)
        return UINT64_MAX; /* the last bucket: (128 << 57) - 1 would wrap */
    return ((sub + 1u) << shift) - 1u;
}

static inline void dtx_hist_reset(dtx_hist *h) { memset(h, 0, sizeof *h); }

static inline void dtx_hist_add(dtx_hist *h, uint64_t v)
{
    h->count[dtx_hist_index(v)]++;
    h->n++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

/* Adds every value of h into `into`. */
static inline void dtx_hist_merge(dtx_hist *into, const dtx_hist *h)
{
    for (uint32_t i = 0; i < DTX_HIST_BUCKETS; i++)
        into->count[i] += h->count[i];
    into->n += h->n;
    into->sum += h->sum;
    if (h->max > into->max)
        into->max = h->max;
}

/* The value at rank r (1..n; 0 is taken as 1, beyond n as n) by the rule
 * above: its bucket's upper bound, at most the exact maximum. 0 when empty. */
static inline uint64_t dtx_hist_at_rank(const dtx_hist *h, uint64_t r)
{
    uint64_t cum = 0;
    if (h->n == 0)
        return 0;
    if (r == 0)
        r = 1;
    if (r >= h->n)
        return h->max;
    for (uint32_t i = 0; i < DTX_HIST_BUCKETS; i++) {
        cum += h->count[i];
        if (cum >= r) {
            uint64_t top = dtx_hist_bucket_top(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}

/* Quantile q (0..1) by the rule above: the value at rank ceil(q * n), with q
 * taken to 12 decimals first, so the rank is that of the decimal the caller
 * means: 99.9 / 100.0 is 0.9990000000000001 in binary, and a ceil of the
 * double product would give rank 1000 of 1000 values, not 999. */
static inline uint64_t dtx_hist_quantile(const dtx_hist *h, double q)
{
    const uint64_t one = 1000000000000ull; /* 10^12 */
    if (!(q > 0))
        return dtx_hist_at_rank(h, 1);
    if (q >= 1)
        return h->max;
    uint64_t qn = (uint64_t)(q * (double)one + 0.5); /* q in units of 10^-12 */
    unsigned __int128 x = (unsigned __int128)qn * h->n;
    return dtx_hist_at_rank(h, (uint64_t)((x + one - 1) / one)); /* ceil */
}

/* Arithmetic mean (0 when empty). */
static inline double dtx_hist_mean(const dtx_hist *h)
{
    return h->n ? (double)h->sum / (double)h->n : 0.0;
}

/* ---- clocks ------------------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds (~30 ns a call: for times of microseconds). */
static inline uint64_t dtx_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if DTX_HAVE_TSC
/* TSC before the timed code: earlier instructions are done first. */
static inline uint64_t dtx_tsc_begin(void)
{
    _mm_lfence();
    return __rdtsc();
}

/* TSC after the timed code: it has finished, and later code waits. */
static inline uint64_t dtx_tsc_end(void)
{
    unsigned aux;
    uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    return t;
}

/* TSC cycles per nanosecond, measured against CLOCK_MONOTONIC across a sleep
 * of ms milliseconds (200 is plenty: the error is ~2 clock reads in 2e8 ns).
 * Call once at start-up; divide cycles by it for nanoseconds. */
static inline double dtx_tsc_calibrate(uint32_t ms)
{
    struct timespec d = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    uint64_t n0 = dtx_mono_ns(), c0 = __rdtsc();
    while (nanosleep(&d, &d) != 0 && errno == EINTR) {
    }
    uint64_t c1 = __rdtsc(), n1 = dtx_mono_ns();
    return n1 > n0 ? (double)(c1 - c0) / (double)(n1 - n0) : 1.0;
}
#endif

#endif /* DTX_PERF_HIST_H */
