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

Test(risk_arith, side_requirement_fast_path_equals_the_128_bit_one)
{
    static const int64_t mults[] = {1000000, 10000000, 1000000000, 100000000000LL};
    static const int64_t refs[] = {1000000, 100000000000LL, 60000000000000LL, 2000000000000000LL};
    uint64_t fast_hits = 0, unchecked = 0, n = 0;
    for (int i = 0; i < 400000; i++) {
        risk_inst in = {.mult = mults[rnd() % 4], .ref = refs[rnd() % 4] + (int64_t)(rnd() % 1000000)};
        in.mdiv = RISK_X_PER_MONEY / in.mult;
        risk_recip_init(in.mdiv, &in.mdiv_mul, &in.mdiv_shift);
        in.band_rate = (int64_t)(rnd() % (DTX_RISK_RATE_ONE / 2));
        in.band_amt = (int64_t)risk_rate_ceil(in.ref, in.band_rate);
        in.taker_fee = (int64_t)(rnd() % 1000000);
        /* half the time with the bound of the unchecked 64-bit path (as
         * risk_inst_bump sets it), half without: both paths against _wide */
        in.qmax = rnd() & 1 ? (int64_t)(RISK_QMAX_NUM / ((i128)in.ref + in.band_amt)) : 0;
        int64_t im = 1 + (int64_t)(rnd() % DTX_RISK_RATE_ONE);
        int side = 1 + (int)(rnd() & 1);
        int shift = (int)(rnd() % 40);
        int64_t qty = (int64_t)(rnd() % (1ull << shift)) - (int64_t)(1ull << shift) / 2;
        int64_t oq = (int64_t)(rnd() % (1ull << (shift / 2 + 1)));
        int64_t om = rnd() % 3 ? 0 : (int64_t)(rnd() % 1000);
        i128 ox = (i128)oq * (in.ref + (int64_t)(rnd() % 2000000) - 1000000);
        if (ox < 0)
            ox = 0;
        int64_t a = dtx_risk_side_requirement(&in, im, side, qty, oq, ox, om);
        int64_t b = dtx_risk_side_requirement_wide(&in, im, side, qty, oq, ox, om);
        cr_assert_eq(a, b, "side %d qty %lld oq %lld om %lld ref %lld mult %lld", side, (long long)qty,
                     (long long)oq, (long long)om, (long long)in.ref, (long long)in.mult);
        n++;
        fast_hits += b < 1000000000000000LL;
        uint64_t aq = qty < 0 ? 0 - (uint64_t)qty : (uint64_t)qty;
        unchecked += in.qmax && (uint64_t)oq <= (uint64_t)in.qmax && (uint64_t)om <= (uint64_t)in.qmax &&
                     aq <= (uint64_t)in.qmax && ox <= RISK_QMAX_NUM && (qty || oq || om);
    }
    cr_assert_gt(fast_hits, n / 4);
    cr_assert_gt(unchecked, n / 10, "the unchecked 64-bit path ran %llu times of %llu",
                 (unsigned long long)unchecked, (unsigned long long)n);
}

/* The checked 64-bit path is reached when the unchecked one's bound is 0, e.g.
 * a reference above 2.5e17 (the oracle may set any mark > 0). Its edge price
 * ref + D was formed before the check that ref and D are below 2^62: with a
 * mark near INT64_MAX that sum overflowed (undefined behaviour: UBSan aborts
 * the asan build) before the path gave up for the 128-bit one. */
Test(risk_arith, side_requirement_with_a_reference_near_int64_max_equals_the_128_bit_one)
{
    static const int64_t refs[] = {INT64_MAX, INT64_MAX - 10, (int64_t)1 << 62, ((int64_t)1 << 62) - 1,
                                   4000000000000000000LL, 250000000000000001LL};
    static const int64_t bands[] = {0, 1, 10000000, 500000000, DTX_RISK_RATE_ONE};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        for (size_t j = 0; j < sizeof bands / sizeof bands[0]; j++)
            for (int side = DTX_SIDE_BUY; side <= DTX_SIDE_SELL; side++) {
                risk_inst in = {.mult = 1000000, .ref = refs[i], .band_rate = bands[j], .taker_fee = 500000};
                in.mdiv = RISK_X_PER_MONEY / in.mult;
                risk_recip_init(in.mdiv, &in.mdiv_mul, &in.mdiv_shift);
                in.band_amt = (int64_t)risk_rate_ceil(in.ref, in.band_rate);
                in.qmax = (int64_t)(RISK_QMAX_NUM / ((i128)in.ref + in.band_amt)); /* 0 here */
                cr_assert_eq(in.qmax, 0);
                int64_t a = dtx_risk_side_requirement(&in, 10000000, side, 0, 1, 100000000000LL, 0);
                int64_t b = dtx_risk_side_requirement_wide(&in, 10000000, side, 0, 1, 100000000000LL, 0);
                cr_assert_eq(a, b, "ref %lld band %lld side %d", (long long)in.ref, (long long)in.band_rate, side);
                a = dtx_risk_side_requirement(&in, 10000000, side, 0, 0, 0, 1);
                b = dtx_risk_side_requirement_wide(&in, 10000000, side, 0, 0, 0, 1);
                cr_assert_eq(a, b, "priceless: ref %lld band %lld side %d", (long long)in.ref,
                             (long long)in.band_rate, side);
            }
}

/* The unchecked 64-bit path at its bound: every quantity at qmax - 1, qmax and
 * qmax + 1 (the last one takes the checked or the 128-bit path), the priced
 * notional at 0, 1, 2.5e17 and 2.5e17 + 1, long and short positions, rates 1
 * and 1e9, multipliers from 1 (money = x / 1e12) to 1e12 (money = x), and
 * references whose ref + band edge puts qmax at 0, 1 or far above. Each
 * against the 128-bit computation. */
Test(risk_arith, side_requirement_at_the_unchecked_bound_equals_the_128_bit_one)
{
    static const int64_t mults[] = {1, 1000000, 1000000000000LL};
    static const int64_t refs[] = {1, 999, 100000000000000LL, 125000000000000000LL, 249999999999999999LL,
                                   250000000000000000LL};
    static const int64_t bands[] = {0, 33333333, DTX_RISK_RATE_ONE};
    uint64_t n = 0;
    for (size_t mi = 0; mi < sizeof mults / sizeof mults[0]; mi++)
        for (size_t ri = 0; ri < sizeof refs / sizeof refs[0]; ri++)
            for (size_t bi = 0; bi < sizeof bands / sizeof bands[0]; bi++) {
                risk_inst in = {.mult = mults[mi], .ref = refs[ri], .band_rate = bands[bi],
                                .taker_fee = DTX_RISK_RATE_ONE / 10};
                in.mdiv = RISK_X_PER_MONEY / in.mult;
                risk_recip_init(in.mdiv, &in.mdiv_mul, &in.mdiv_shift);
                in.band_amt = (int64_t)risk_rate_ceil(in.ref, in.band_rate);
                in.qmax = (int64_t)(RISK_QMAX_NUM / ((i128)in.ref + in.band_amt)); /* as risk_inst_bump */
                int64_t qm = in.qmax;
                const int64_t qs[] = {0, qm > 0 ? qm - 1 : 0, qm, qm + 1};
                const i128 oxs[] = {0, 1, RISK_QMAX_NUM, (i128)RISK_QMAX_NUM + 1};
                /* every combination: side, |qty|, its sign, oq, om, ox, rate */
                for (unsigned k = 0; k < 2 * 4 * 2 * 4 * 4 * 4 * 2; k++) {
                    unsigned r = k;
                    int side = DTX_SIDE_BUY + (int)(r % 2);
                    r /= 2;
                    int64_t qty = qs[r % 4];
                    r /= 4;
                    qty = r % 2 ? -qty : qty;
                    r /= 2;
                    int64_t oq = qs[r % 4];
                    r /= 4;
                    int64_t om = qs[r % 4];
                    r /= 4;
                    i128 ox = oxs[r % 4];
                    r /= 4;
                    int64_t rate = r % 2 ? DTX_RISK_RATE_ONE : 1;
                    int64_t f = dtx_risk_side_requirement(&in, rate, side, qty, oq, ox, om);
                    int64_t w = dtx_risk_side_requirement_wide(&in, rate, side, qty, oq, ox, om);
                    cr_assert_eq(f, w,
                                 "mult %lld ref %lld band %lld side %d qty %lld oq %lld om %lld ox %lld rate %lld",
                                 (long long)in.mult, (long long)in.ref, (long long)in.band_rate, side, (long long)qty,
                                 (long long)oq, (long long)om, (long long)ox, (long long)rate);
                    n++;
                }
            }
    cr_assert_gt(n, 100000);
}
