/*
 * fix44_clordids.c - a FIX 4.4 session's ClOrdID table is reclaimed: an
 * entry lives while its order works or its request waits for its answer, and
 * is freed by the report that ends it (filled, canceled, expired, rejected,
 * replaced away; a cancel reject, a mass cancel report). So one session may
 * send any number of orders over its life; only the orders and requests in
 * flight at once are bounded (max_clordids), and beyond that an order is
 * answered with a BusinessMessageReject naming the limit.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dtx/types.h"
#include "support/fix44_harness.h"

static fix44_harness H;
static int S;
#define NOW (XH_T0 + 1000)

static void start(uint32_t max_clordids)
{
    dtx_fix44_config c = {.max_connections = XH_CONNS, .max_sessions = 4,
                          .session_base = XH_BASE, .store_depth = 64,
                          .max_clordids = max_clordids, .max_orders = 256,
                          .send_buffer_bytes = 65536, .throttle_rate = 10000000,
                          .throttle_burst = 10000000};
    xh_init(&H, &c);
    S = xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
}
static void teardown(void) { xh_fini(&H); }
TestSuite(fix44_clordids, .fini = teardown);

static dtx_fix44_stats stats(void)
{
    dtx_fix44_stats st;
    dtx_fix44_stats_get(H.f, &st);
    return st;
}

/* Forgets what the server wrote so far (the harness keeps 1 MiB per conn). */
static void drop_output(void)
{
    H.out_len[0] = H.out_read[0] = 0;
}

/* Sends D with ClOrdID cl; returns the u64 it was submitted with. */
static uint64_t new_order(const char *cl)
{
    char f[128];
    snprintf(f, sizeof f, "11=%s|55=BTC-PERP|54=1|38=10|40=2|44=100|", cl);
    size_t before = H.ncmds;
    xh_send(&H, 0, "D", f, NOW);
    cr_assert_eq(H.ncmds, before + 1, "D %s submitted", cl);
    return H.cmds[H.ncmds - 1].clordid;
}

static void event(uint8_t type, uint64_t clordid, uint64_t orig, uint64_t order_id,
                  int64_t leaves)
{
    static uint64_t exec_id = 1;
    dtx_event ev = xh_event(type, (uint32_t)S, clordid, order_id, exec_id++);
    ev.orig_clordid = orig;
    ev.leaves_qty = leaves;
    if (type == DTX_EV_FILL) {
        ev.last_qty = 10 - leaves;
        ev.cum_qty = 10 - leaves;
        ev.ord_status = leaves ? DTX_STATUS_PARTIALLY_FILLED : DTX_STATUS_FILLED;
    }
    if (type == DTX_EV_REJECT)
        ev.reject_reason = DTX_REJ_DUPLICATE_CLORDID;
    cr_assert_eq(dtx_fix44_on_event(H.f, &ev, NOW), DTX_OK);
}

Test(fix44_clordids, more_orders_than_the_table_holds_all_go_through_one_session)
{
    start(0); /* the default table: 65536 entries */
    const uint32_t n = 65536 + 4500;
    char cl[24];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(cl, sizeof cl, "o%u", i);
        H.ncmds = 0;
        uint64_t id = new_order(cl);
        uint64_t oid = 1000000 + i;
        switch (i % 5) {
        case 0: /* filled in two fills */
            event(DTX_EV_NEW, id, 0, oid, 10);
            event(DTX_EV_FILL, id, 0, oid, 4);
            event(DTX_EV_FILL, id, 0, oid, 0);
            break;
        case 1: { /* canceled by request F */
            event(DTX_EV_NEW, id, 0, oid, 10);
            char f[96];
            snprintf(f, sizeof f, "11=c%u|41=%s|55=BTC-PERP|54=1|", i, cl);
            xh_send(&H, 0, "F", f, NOW);
            cr_assert_eq(H.ncmds, 2, "F %u submitted", i);
            cr_assert_eq(H.cmds[1].orig_clordid, id);
            event(DTX_EV_CANCELED, H.cmds[1].clordid, id, oid, 0);
            break;
        }
        case 2: /* expired (unsolicited cancel) */
            event(DTX_EV_NEW, id, 0, oid, 10);
            event(DTX_EV_CANCELED, id, 0, oid, 0);
            break;
        case 3: /* rejected by the engine */
            event(DTX_EV_REJECT, id, 0, 0, 0);
            break;
        case 4: { /* replaced, then filled under its new name */
            event(DTX_EV_NEW, id, 0, oid, 10);
            char g[96];
            snprintf(g, sizeof g, "11=r%u|41=%s|55=BTC-PERP|54=1|38=10|44=101|", i, cl);
            xh_send(&H, 0, "G", g, NOW);
            cr_assert_eq(H.ncmds, 2, "G %u submitted", i);
            uint64_t rid = H.cmds[1].clordid;
            event(DTX_EV_REPLACED, rid, id, oid, 10);
            event(DTX_EV_FILL, rid, 0, oid, 0);
            break;
        }
        }
        cr_assert_eq(stats().clordids_live, 0, "order %u left its ClOrdIDs in use", i);
        drop_output();
    }
    dtx_fix44_stats st = stats();
    cr_expect_eq(st.clordid_full, 0);
    cr_expect_eq(st.local_rejects, 0);
    cr_expect_eq(st.app_submitted, n + 2 * (n / 5), "every D, and the F and G");
    /* the last order (n-1 = 70035, i % 5 == 0) was reported under its own string */
    new_order("last");
    event(DTX_EV_NEW, H.cmds[H.ncmds - 1].clordid, 0, 7, 10);
    fix_msg m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 11), "last");
}

Test(fix44_clordids, a_full_table_rejects_naming_the_limit_until_an_order_ends)
{
    start(4);
    uint64_t id[4];
    for (int i = 0; i < 4; i++) {
        char cl[16];
        snprintf(cl, sizeof cl, "w%d", i);
        id[i] = new_order(cl);
    }
    cr_expect_eq(stats().clordids_live, 4);
    xh_send(&H, 0, "D", "11=w4|55=BTC-PERP|54=1|38=10|40=2|44=100|", NOW);
    cr_expect_eq(H.ncmds, 4, "not submitted");
    fix_msg m = xh_expect(&H, 0, "j");
    cr_expect_str_eq(xh_get(&m, 372), "D");
    cr_expect_str_eq(xh_get(&m, 380), "0");
    cr_expect_str_eq(xh_get(&m, 45), "6");
    cr_expect_str_eq(xh_get(&m, 58),
                     "ClOrdID table full: 4 working orders and requests per session (max_clordids)");
    cr_expect_eq(stats().clordid_full, 1);
    cr_expect_eq(stats().local_rejects, 1);
    /* a cancel request needs an entry too */
    xh_send(&H, 0, "F", "11=k|41=w0|54=1|", NOW);
    cr_expect_eq(H.ncmds, 4);
    m = xh_expect(&H, 0, "j");
    cr_expect_str_eq(xh_get(&m, 372), "F");
    cr_expect_eq(stats().clordid_full, 2);
    /* one order fills: its entry is free and the next order goes */
    event(DTX_EV_FILL, id[2], 0, 3, 0);
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 11), "w2");
    cr_expect_eq(stats().clordids_live, 3);
    uint64_t w4 = new_order("w4");
    cr_expect_neq(w4, id[2], "the freed entry comes back under a new generation");
    cr_expect_eq(stats().clordids_live, 4);
}

Test(fix44_clordids, a_finished_clordid_may_be_sent_again_and_reports_name_it)
{
    start(16);
    uint64_t a = new_order("A");
    event(DTX_EV_NEW, a, 0, 1, 10);
    event(DTX_EV_CANCELED, a, 0, 1, 0);
    cr_expect_eq(stats().clordids_live, 0);
    uint64_t a2 = new_order("A");
    cr_expect_neq(a2, a, "a new number: the engine never sees the old one again");
    event(DTX_EV_NEW, a2, 0, 2, 10);
    xh_expect(&H, 0, "8");
    xh_expect(&H, 0, "8");
    fix_msg m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 11), "A");
    cr_expect_str_eq(xh_get(&m, 37), "2");
    /* an event naming the stale number changes nothing */
    event(DTX_EV_CANCELED, a, 0, 1, 0);
    cr_expect_eq(stats().clordids_live, 1);
}

Test(fix44_clordids, a_duplicate_of_a_working_clordid_does_not_free_the_working_one)
{
    start(16);
    uint64_t a = new_order("A");
    event(DTX_EV_NEW, a, 0, 1, 10);
    uint64_t dup = new_order("A");
    cr_expect_eq(dup, a, "a working string maps to its number (the engine rejects it)");
    event(DTX_EV_REJECT, dup, 0, 0, 0);
    cr_expect_eq(stats().clordids_live, 1);
    event(DTX_EV_FILL, a, 0, 1, 0);
    xh_expect(&H, 0, "8");
    xh_expect(&H, 0, "8");
    fix_msg m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 39), "2");
    cr_expect_str_eq(xh_get(&m, 11), "A", "the working order keeps its name");
    cr_expect_eq(stats().clordids_live, 0);
}

Test(fix44_clordids, a_self_trade_decrement_keeps_the_name_and_a_later_cancel_frees_it)
{
    start(16);
    uint64_t a = new_order("A");
    event(DTX_EV_NEW, a, 0, 1, 10);
    event(DTX_EV_REPLACED, a, a, 1, 6); /* decrement: ClOrdID = OrigClOrdID */
    cr_expect_eq(stats().clordids_live, 1);
    event(DTX_EV_CANCELED, a, 0, 1, 0);
    cr_expect_eq(stats().clordids_live, 0);
}

Test(fix44_clordids, mass_cancel_and_cancel_reject_answers_free_the_request)
{
    start(16);
    xh_send(&H, 0, "q", "11=mc|530=7|", NOW);
    xh_send(&H, 0, "F", "11=k|41=nothing|37=77|54=1|", NOW);
    cr_assert_eq(H.ncmds, 2);
    cr_expect_eq(stats().clordids_live, 2);
    dtx_event ev = xh_event(DTX_EV_MASS_CANCEL_REPORT, (uint32_t)S, H.cmds[0].clordid, 0, 50);
    cr_assert_eq(dtx_fix44_on_event(H.f, &ev, NOW), DTX_OK);
    fix_msg m = xh_expect(&H, 0, "r");
    cr_expect_str_eq(xh_get(&m, 11), "mc");
    cr_expect_str_eq(xh_get(&m, 530), "7", "the request's type, read before the entry went");
    event(DTX_EV_CANCEL_REJECT, H.cmds[1].clordid, 0, 77, 0);
    m = xh_expect(&H, 0, "9");
    cr_expect_str_eq(xh_get(&m, 11), "k");
    cr_expect_eq(stats().clordids_live, 0);
}

Test(fix44_clordids, local_rejects_hold_no_entry)
{
    start(16);
    xh_send(&H, 0, "D", "11=u|55=DOGE|54=1|38=1|40=2|44=1|", NOW);
    xh_send(&H, 0, "F", "11=v|41=never-sent|54=1|", NOW);
    cr_expect_eq(H.ncmds, 0);
    fix_msg m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 11), "u");
    m = xh_expect(&H, 0, "9");
    cr_expect_str_eq(xh_get(&m, 11), "v");
    cr_expect_eq(stats().clordids_live, 0);
}

Test(fix44_clordids, a_resend_names_the_strings_sent_even_after_their_entries_are_reused)
{
    start(1);
    uint64_t a = new_order("A");
    event(DTX_EV_NEW, a, 0, 1, 10);
    event(DTX_EV_CANCELED, a, 0, 1, 0);
    uint64_t b = new_order("B"); /* the one entry again */
    event(DTX_EV_NEW, b, 0, 2, 10);
    cr_expect_eq((uint32_t)a, (uint32_t)b, "same entry");
    drop_output();
    xh_send(&H, 0, "2", "7=2|16=0|", NOW); /* everything after the Logon */
    fix_msg m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 43), "Y");
    cr_expect_str_eq(xh_get(&m, 150), "0");
    cr_expect_str_eq(xh_get(&m, 11), "A");
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 150), "4");
    cr_expect_str_eq(xh_get(&m, 11), "A");
    m = xh_expect(&H, 0, "8");
    cr_expect_str_eq(xh_get(&m, 11), "B");
}
