/*
 * risk_arith.c - the integer money arithmetic of risk/internal.h against plain
 * 128-bit division: money conversion (fast reciprocal path and wide path),
 * rate products, rounding directions, over seeded random values and edges.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>

#include "../risk/internal.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static i128 ref_floor(i128 a, i128 b) { return risk_floor_div(a, b); }

Test(risk_arith, money_conversion_equals_exact_floor_and_ceil)
{
    fprintf(stderr, "risk_arith: seed %" PRIu64 "\n", rng);
    static const int64_t mults[] = {1, 7, 1000, 1000000, 10000000, 1000000000, 3000000000LL, 1000000000000LL,
                                    123456789};
    for (size_t m = 0; m < sizeof mults / sizeof mults[0]; m++) {
        risk_inst in = {.mult = mults[m]};
        in.mdiv = RISK_X_PER_MONEY % in.mult == 0 ? RISK_X_PER_MONEY / in.mult : 0;
        if (in.mdiv)
            risk_recip_init(in.mdiv, &in.mdiv_mul, &in.mdiv_shift);
        for (int i = 0; i < 200000; i++) {
            i128 x;
            switch (i % 4) {
            case 0: x = (int64_t)rnd(); break;                           /* any 64-bit */
            case 1: x = (int64_t)(rnd() % 2000000000000000ULL) - 1000000000000000LL; break;
            case 2: x = (i128)(int64_t)rnd() * (1 << 20) + (i128)(rnd() & 0xfffff); break; /* wide */
            default: x = (int64_t)(rnd() % 5000) - 2500; break;          /* near zero */
            }
            i128 want = ref_floor(x * (i128)in.mult, RISK_X_PER_MONEY);
            cr_assert(risk_money_floor(x, &in) == want, "floor mult %lld x %lld", (long long)in.mult, (long long)x);
            cr_assert(risk_money_ceil(x, &in) == -ref_floor(-x * (i128)in.mult, RISK_X_PER_MONEY),
                      "ceil mult %lld x %lld", (long long)in.mult, (long long)x);
        }
        static const int64_t edges[] = {0, 1, -1, INT64_MAX, -INT64_MAX, INT64_MAX - 1, 999999999999LL,
                                        -999999999999LL, 1000000000000LL, -1000000000000LL};
        for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
            i128 x = edges[e];
            cr_assert(risk_money_floor(x, &in) == ref_floor(x * (i128)in.mult, RISK_X_PER_MONEY),
                      "edge mult %lld x %lld", (long long)in.mult, (long long)x);
        }
    }
}

Test(risk_arith, rate_products_round_up_or_down_exactly)
{
    for (int i = 0; i < 500000; i++) {
        i128 m = i % 3 == 0 ? (i128)(rnd() % 2000000000000000000ULL) : (i128)(rnd() % 100000000000ULL);
        if (i % 17 == 0)
            m = (i128)rnd() * 256; /* beyond the fast path */
        int64_t rate = (int64_t)(rnd() % (uint64_t)(DTX_RISK_RATE_ONE + 1));
        cr_assert(risk_rate_ceil(m, rate) == risk_ceil_div(m * rate, DTX_RISK_RATE_ONE));
        cr_assert(risk_rate_floor(m, rate) == risk_floor_div(m * rate, DTX_RISK_RATE_ONE));
    }
    cr_assert(risk_rate_ceil(1, 1) == 1);
    cr_assert(risk_rate_floor(1, 1) == 0);
    cr_assert(risk_rate_ceil(864199, 0) == 0);
}

Test(risk_arith, reciprocal_division_is_exact_for_every_divisor_shape)
{
    for (int64_t d = 1; d < 5000; d++) {
        uint64_t mul;
        uint32_t sh;
        risk_recip_init(d, &mul, &sh);
        for (int i = 0; i < 200; i++) {
            uint64_t x = rnd() >> 1;
            if (i < 8)
                x = (uint64_t)INT64_MAX - (uint64_t)i;
            else if (i < 16)
                x = (uint64_t)d * (uint64_t)(i - 8) + (uint64_t)(i & 1 ? d - 1 : 0);
            cr_assert(risk_recip_div(x, mul, sh) == (int64_t)(x / (uint64_t)d), "d %lld x %llu", (long long)d,
                      (unsigned long long)x);
        }
    }
}
