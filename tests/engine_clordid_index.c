/*
 * engine_clordid_index.c - the ClOrdID index (engine/internal.h: buckets
 * chained through the orders) finds every working order by (account, ClOrdID)
 * however its entries collide: ClOrdIDs are chosen (with the engine's own hash
 * from engine/internal.h) so that many share one bucket near the end of the table,
 * mixed with ClOrdIDs of the buckets just after it (wrapping) and a few of other
 * buckets; then orders are canceled and replaced by ClOrdID in seeded random
 * order, checking after each step that every remaining order is still found
 * (a new order with its ClOrdID is a duplicate) and every removed one is not
 * (a new order with its ClOrdID is accepted).
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "../engine/internal.h"
#include "support/engine_fixture.h"

enum { A = 1, B = 2, N_EARLY = 4, N_SAME = 40, N_NEAR = 24, N = N_EARLY + N_SAME + N_NEAR };

static fx F;
static void setup(void) { fx_init(&F, &(fx_opts){.max_orders = 200}); }
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_clordid_index, .init = setup, .fini = teardown);

static uint32_t bucket_of(uint32_t account, uint64_t clordid)
{
    return (uint32_t)(index_bucket(F.e, index_hash(account, clordid)) - F.e->buckets);
}

static uint64_t rng(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Fills clordids[0..N), all of account A: N_EARLY with buckets target + 2,
 * 4, 6, 8 (wrapping), N_SAME with bucket target = bucket count - 3, then
 * N_NEAR with buckets in the 16 after target (wrapping). */
static void pick_clordids(uint64_t *clordids)
{
    uint32_t n = F.e->bucket_mask + 1, target = n - 3;
    uint64_t c = 1000;
    int k = 0;
    for (uint32_t e = 0; e < N_EARLY; e++) {
        uint32_t want = (target + 2 + 2 * e) % n;
        uint64_t d = 5000000;
        while (bucket_of(A, ++d) != want)
            ;
        clordids[k++] = d;
    }
    while (k < N_EARLY + N_SAME)
        if (bucket_of(A, ++c) == target)
            clordids[k++] = c;
    while (k < N) {
        uint32_t h = bucket_of(A, ++c);
        uint32_t off = h >= target ? h - target : h + n - target;
        if (off >= 1 && off <= 16)
            clordids[k++] = c;
    }
}

static void expect_found(uint64_t clordid, int found)
{
    /* a new order with the same ClOrdID: rejected as duplicate while it works */
    dtx_command c = fx_limit(A, clordid, FX_BUY, 50, 1);
    fx_send(&F, c);
    cr_assert_eq(fx_count(&F), 1); /* REJECT, or NEW with flag ADDED (it rests) */
    if (found) {
        cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_REJECT, "ClOrdID %llu not found", (unsigned long long)clordid);
        cr_assert_eq(fx_ev(&F, 0)->reject_reason, DTX_REJ_DUPLICATE_CLORDID);
    } else {
        cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_NEW, "ClOrdID %llu still indexed", (unsigned long long)clordid);
        uint64_t id = fx_expect_new_rested(&F, 0, &c);
        dtx_command x = fx_cancel(A, clordid + 1000000, id);
        fx_send(&F, x);
        cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_CANCELED);
    }
}

Test(engine_clordid_index, orders_sharing_a_bucket_are_found_through_removals_in_any_order)
{
    uint64_t seed = 0x1dc0ffee;
    printf("engine_clordid_index: seed %llu\n", (unsigned long long)seed);
    uint64_t clordids[N], ids[N];
    int live[N];
    pick_clordids(clordids);
    /* in group order: each chain in the reverse (insertion at the head) */
    for (int i = 0; i < N; i++) {
        ids[i] = fx_rest(&F, fx_limit(A, clordids[i], FX_BUY, 100 + i, 1));
        live[i] = 1;
    }
    /* an order of another account with one of the same ClOrdIDs is no duplicate */
    uint64_t other = fx_rest(&F, fx_limit(B, clordids[0], FX_SELL, 5000, 1));
    uint64_t x = seed;
    for (int step = 0; step < N; step++) {
        int i;
        do
            i = (int)(rng(&x) % N);
        while (!live[i]);
        if (rng(&x) % 2) {
            dtx_command c = fx_cancel_clordid(A, 900000 + (uint64_t)step, clordids[i]);
            fx_send(&F, c);
            cr_assert_eq(fx_count(&F), 1);
            cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_CANCELED, "step %d: cancel of ClOrdID %llu", step,
                         (unsigned long long)clordids[i]);
            cr_assert_eq(fx_ev(&F, 0)->order_id, ids[i]);
            live[i] = 0;
        } else {
            /* replace to a fresh ClOrdID (another bucket), then cancel by it */
            uint64_t fresh = 800000 + (uint64_t)step;
            dtx_command r = fx_replace_clordid(A, fresh, clordids[i], 100 + i, 1);
            fx_send(&F, r);
            cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_REPLACED, "step %d: replace of ClOrdID %llu", step,
                         (unsigned long long)clordids[i]);
            cr_assert_eq(fx_ev(&F, 0)->order_id, ids[i]);
            live[i] = 0;
            expect_found(fresh, 1);
            dtx_command c = fx_cancel_clordid(A, 700000 + (uint64_t)step, fresh);
            fx_send(&F, c);
            cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_CANCELED);
            cr_assert_eq(fx_ev(&F, 0)->order_id, ids[i]);
        }
        for (int k = 0; k < N; k++)
            expect_found(clordids[k], live[k]);
    }
    cr_assert_eq(fx_order(&F, other).leaves_qty, 1);
    dtx_engine_stats st;
    dtx_engine_get_stats(F.e, &st);
    cr_assert_eq(st.working_orders, 1);
}

Test(engine_clordid_index, index_stays_within_64_bytes_per_order_slot_with_orders)
{
    dtx_engine_stats st;
    dtx_engine_get_stats(F.e, &st);
    cr_assert_eq(st.max_orders, 200);
    cr_assert_leq(st.order_bytes, 64u * 200u, "order_bytes %llu", (unsigned long long)st.order_bytes);
    cr_assert_gt(F.e->bucket_mask + 1, 200u);
}
