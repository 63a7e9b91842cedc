/*
 * engine_division.c - the engine's division by a run-time constant
 * (udiv_init/udiv in engine/internal.h), which turns prices into ticks on the
 * command path without a divide instruction, equals C's '/' exactly: on edge
 * dividends and divisors (powers of two and their neighbours, the extremes of
 * 64 bits, tick sizes of the default instruments) and on seeded random pairs.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "../engine/internal.h"

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void check(uint64_t d, uint64_t n)
{
    dtx_udiv u = udiv_init(d);
    uint64_t got = udiv(&u, n);
    cr_assert_eq(got, n / d, "udiv(%llu) by %llu: %llu, expected %llu", (unsigned long long)n,
                 (unsigned long long)d, (unsigned long long)got, (unsigned long long)(n / d));
}

static void check_edges(uint64_t d)
{
    static const uint64_t fixed[] = {0, 1, 2, 3, 7, 1000000000ULL, UINT32_MAX, (uint64_t)UINT32_MAX + 1,
                                     INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX - 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check(d, fixed[i]);
    /* around multiples of d: q*d - 1, q*d, q*d + 1 */
    uint64_t qs[] = {1, 2, 3, 1000, UINT64_MAX / d};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        uint64_t m = qs[i] * d;
        if (qs[i] > UINT64_MAX / d)
            continue;
        check(d, m - 1);
        check(d, m);
        if (m < UINT64_MAX)
            check(d, m + 1);
    }
}

Test(engine_division, equals_c_division_on_edge_divisors_and_dividends)
{
    for (unsigned k = 0; k < 64; k++) {
        uint64_t p = 1ULL << k;
        check_edges(p);
        check_edges(p + 1);
        if (p > 2)
            check_edges(p - 1);
    }
    static const uint64_t ticks[] = {1, 3, 5, 7, 10, 25, 50000000ULL, 500000000ULL, 1000000000ULL,
                                     UINT64_MAX, UINT64_MAX - 1, (uint64_t)INT64_MAX, 0x8000000000000001ULL};
    for (size_t i = 0; i < sizeof ticks / sizeof ticks[0]; i++)
        check_edges(ticks[i]);
}

Test(engine_division, equals_c_division_on_random_pairs)
{
    uint64_t seed = 0x5eedd1u;
    printf("engine_division random pairs: seed %llu\n", (unsigned long long)seed);
    uint64_t x = seed;
    for (int i = 0; i < 200000; i++) {
        uint64_t d = splitmix(&x) >> (splitmix(&x) % 64);
        uint64_t n = splitmix(&x) >> (splitmix(&x) % 64);
        if (!d)
            d = 1;
        check(d, n);
    }
}
