/*
 * engine_iceberg_table.c - icebergs' display state is kept in a table beside
 * the order records (engine/internal.h), sized by max_icebergs: that many
 * working icebergs (resting, or pending stop-limits with DisplayQty > 0) at
 * most; one more is TooManyOpenOrders, for a new order and for a replace that
 * would make an order an iceberg, and changes nothing; a place comes back when
 * an iceberg is canceled, filled, or replaced to show all. A randomized model
 * check keeps the table near full through many inserts and removals and
 * compares every iceberg's DisplayQty and displayed quantity with the model.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dtx/error.h"
#include "support/engine_fixture.h"

enum { A = 1, B = 2, C = 3 };

static fx F;
static void teardown(void) { fx_fini(&F); }
TestSuite(engine_iceberg_table, .fini = teardown);

static void init_with(uint32_t max_orders, uint32_t max_icebergs)
{
    fx_opts o = {.max_orders = max_orders, .max_icebergs = max_icebergs};
    fx_init(&F, &o);
}

static dtx_command with_display(dtx_command c, int64_t display)
{
    c.display_qty = display;
    return c;
}

Test(engine_iceberg_table, an_iceberg_beyond_max_icebergs_is_rejected_and_plain_orders_still_rest)
{
    init_with(0, 2);
    fx_rest(&F, fx_iceberg(A, 1, FX_BUY, 100, 10, 2));
    fx_rest(&F, fx_iceberg(B, 2, FX_SELL, 110, 10, 3));
    fx_rejected(&F, fx_iceberg(C, 3, FX_BUY, 99, 10, 2), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    fx_rejected(&F, with_display(fx_stop_limit(C, 3, FX_BUY, 120, 121, 10), 2), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    /* the same quantity without DisplayQty is not an iceberg */
    fx_rest(&F, fx_limit(C, 3, FX_BUY, 99, 10));
    fx_pend(&F, fx_stop_limit(C, 4, FX_BUY, 120, 121, 10));
}

Test(engine_iceberg_table, a_pending_iceberg_stop_limit_takes_a_place)
{
    init_with(0, 1);
    uint64_t s = fx_pend(&F, with_display(fx_stop_limit(A, 1, FX_BUY, 120, 121, 10), 2));
    fx_rejected(&F, fx_iceberg(B, 2, FX_SELL, 130, 10, 2), DTX_REJ_TOO_MANY_OPEN_ORDERS);
    fx_send(&F, fx_cancel(A, 3, s));
    fx_expect_count(&F, 1);
    fx_rest(&F, fx_iceberg(B, 2, FX_SELL, 130, 10, 2));
}

Test(engine_iceberg_table, places_come_back_when_an_iceberg_is_filled_canceled_or_shows_all)
{
    init_with(0, 1);
    fx_rest(&F, fx_iceberg(B, 1, FX_SELL, 100, 4, 2));
    fx_rejected(&F, fx_iceberg(C, 2, FX_SELL, 101, 4, 2), DTX_REJ_TOO_MANY_OPEN_ORDERS);

    /* filled: two trades and a refill between them */
    fx_send(&F, fx_limit(A, 3, FX_BUY, 100, 4));
    cr_assert_eq(fx_count_type(&F, DTX_EV_FILL), 4, "%s", fx_dump(&F));
    uint64_t i2 = fx_rest(&F, fx_iceberg(C, 2, FX_SELL, 101, 4, 2));

    /* replaced to show all (DisplayQty 0): an iceberg no more */
    dtx_command r = fx_replace(C, 4, i2, 102, 4);
    fx_send(&F, r);
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_REPLACED, "%s", fx_dump(&F));
    dtx_order_view v = fx_order(&F, i2);
    cr_assert_eq(v.display_qty, 0);
    cr_assert_eq(v.shown_qty, 4);
    uint64_t i5 = fx_rest(&F, fx_iceberg(B, 5, FX_SELL, 103, 6, 3));

    /* canceled */
    fx_send(&F, fx_cancel(B, 6, i5));
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_CANCELED, "%s", fx_dump(&F));
    fx_rest(&F, fx_iceberg(B, 7, FX_SELL, 104, 6, 3));
}

Test(engine_iceberg_table, a_replace_that_would_make_one_iceberg_too_many_is_rejected_and_changes_nothing)
{
    init_with(0, 1);
    uint64_t ice = fx_rest(&F, fx_iceberg(A, 1, FX_BUY, 100, 10, 2));
    uint64_t plain = fx_rest(&F, fx_limit(B, 2, FX_BUY, 99, 10));
    dtx_command r = with_display(fx_replace(B, 3, plain, 98, 10), 5);
    fx_send(&F, r);
    fx_expect_count(&F, 1);
    fx_expect_cancel_reject(&F, 0, &r, DTX_REJ_TOO_MANY_OPEN_ORDERS);
    dtx_order_view v = fx_order(&F, plain);
    cr_assert_eq(v.clordid, 2);
    cr_assert_eq(v.price, FX_PX(99));
    cr_assert_eq(v.display_qty, 0);
    cr_assert_eq(v.shown_qty, 10);
    /* the iceberg already holds its place: changing its DisplayQty is fine */
    fx_send(&F, with_display(fx_replace(A, 4, ice, FX_KEEP, 10), 4));
    cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_REPLACED, "%s", fx_dump(&F));
    v = fx_order(&F, ice);
    cr_assert_eq(v.display_qty, 4);
    cr_assert_eq(v.shown_qty, 4);
}

Test(engine_iceberg_table, max_icebergs_0_allows_max_orders_over_16_plus_one)
{
    init_with(32, 0);
    for (uint64_t i = 1; i <= 3; i++)
        fx_rest(&F, fx_iceberg(A, i, FX_BUY, (int64_t)(100 - i), 10, 2));
    fx_rejected(&F, fx_iceberg(A, 4, FX_BUY, 90, 10, 2), DTX_REJ_TOO_MANY_OPEN_ORDERS);
}

static void null_sink(void *ctx, const dtx_event *ev, size_t n)
{
    (void)ctx, (void)ev, (void)n;
}

Test(engine_iceberg_table, max_icebergs_above_max_orders_is_refused_naming_the_field)
{
    uint32_t n;
    dtx_engine_config cfg = {.instruments = fx_default_instruments(&n), .max_orders = 32, .max_timed = 8,
                             .max_stops = 8, .max_icebergs = 33, .sink = null_sink};
    cfg.n_instruments = n;
    cr_assert_null(dtx_engine_create(&cfg));
    cr_assert_eq(dtx_error_status(), DTX_EINVAL);
    cr_assert(strstr(dtx_error_message(), "max_icebergs: 33") != NULL, "%s", dtx_error_message());
}

/* ---- model check ------------------------------------------------------------------- */

#define MC_ORDERS 4096u
#define MC_ICEBERGS 3000u /* the table is 4096 slots: up to 73% full */

typedef struct mc_order {
    uint64_t id, clordid;
    int64_t ticks, qty, display; /* display 0: not an iceberg */
} mc_order;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void check_order(const mc_order *m, uint64_t seed, unsigned step)
{
    dtx_order_view v = fx_order(&F, m->id);
    int64_t shown = m->display && m->display < m->qty ? m->display : m->qty;
    cr_assert(v.display_qty == m->display && v.shown_qty == shown && v.leaves_qty == m->qty &&
                  v.clordid == m->clordid,
              "seed %llu step %u order %llu: display %lld shown %lld leaves %lld clordid %llu, model %lld %lld %lld %llu",
              (unsigned long long)seed, step, (unsigned long long)m->id, (long long)v.display_qty,
              (long long)v.shown_qty, (long long)v.leaves_qty, (unsigned long long)v.clordid,
              (long long)m->display, (long long)shown, (long long)m->qty, (unsigned long long)m->clordid);
}

Test(engine_iceberg_table, random_inserts_and_removals_near_full_keep_every_icebergs_display_state)
{
    const uint64_t seed = 20261130;
    uint64_t s = seed;
    init_with(MC_ORDERS, MC_ICEBERGS);
    static mc_order live[MC_ORDERS];
    unsigned n = 0, icebergs = 0;
    uint64_t next_clordid = 1;
    /* buy orders only: nothing trades, leaves = qty */
    for (unsigned step = 0; step < 60000; step++) {
        unsigned op = (unsigned)(rng_next(&s) % 100);
        int fill_phase = step < 4000;
        if (n < MC_ORDERS - 1 && (fill_phase || op < 45 || n == 0)) {
            mc_order m = {.clordid = next_clordid++, .ticks = 1 + (int64_t)(rng_next(&s) % 5000),
                          .qty = 1 + (int64_t)(rng_next(&s) % 50)};
            m.display = rng_next(&s) % 8 ? 1 + (int64_t)(rng_next(&s) % (uint64_t)m.qty) : 0;
            dtx_command c = fx_iceberg(A, m.clordid, FX_BUY, m.ticks, m.qty, m.display);
            if (m.display && icebergs == MC_ICEBERGS) {
                fx_rejected(&F, c, DTX_REJ_TOO_MANY_OPEN_ORDERS);
                continue;
            }
            m.id = fx_rest(&F, c);
            live[n++] = m;
            icebergs += m.display != 0;
            check_order(&live[n - 1], seed, step);
        } else if (op < 85) {
            unsigned k = (unsigned)(rng_next(&s) % n);
            fx_send(&F, fx_cancel(A, next_clordid++, live[k].id));
            cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_CANCELED, "seed %llu step %u: %s", (unsigned long long)seed,
                         step, fx_dump(&F));
            fx_expect_gone(&F, live[k].id);
            icebergs -= live[k].display != 0;
            live[k] = live[--n];
        } else {
            unsigned k = (unsigned)(rng_next(&s) % n);
            mc_order *m = &live[k];
            int64_t qty = 1 + (int64_t)(rng_next(&s) % 50);
            int64_t display = rng_next(&s) % 4 ? 1 + (int64_t)(rng_next(&s) % (uint64_t)qty) : 0;
            int64_t ticks = 1 + (int64_t)(rng_next(&s) % 5000);
            dtx_command r = with_display(fx_replace(A, next_clordid++, m->id, ticks, qty), display);
            fx_send(&F, r);
            if (display && !m->display && icebergs == MC_ICEBERGS) {
                fx_expect_count(&F, 1);
                fx_expect_cancel_reject(&F, 0, &r, DTX_REJ_TOO_MANY_OPEN_ORDERS);
                check_order(m, seed, step);
                continue;
            }
            cr_assert_eq(fx_ev(&F, 0)->type, DTX_EV_REPLACED, "seed %llu step %u: %s", (unsigned long long)seed,
                         step, fx_dump(&F));
            icebergs += (display != 0) - (m->display != 0);
            m->clordid = r.clordid, m->qty = qty, m->display = display, m->ticks = ticks;
            check_order(m, seed, step);
        }
        if (step % 5000 == 4999)
            for (unsigned i = 0; i < n; i++)
                check_order(&live[i], seed, step);
    }
    cr_assert_gt(icebergs, MC_ICEBERGS / 2, "the run should keep the table well filled (%u)", icebergs);
}
