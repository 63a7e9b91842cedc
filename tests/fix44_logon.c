/*
 * fix44_logon.c - FIX 4.4 Logon with the FIXP keys: a good signature over
 * "DTX-FIX-LOGON|" SenderCompID "|" SendingTime logs on; each bad or missing
 * credential gets one Logout naming why and changes no state.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/fix44_harness.h"

static fix44_harness H;
static void setup(void) { xh_init(&H, NULL); }
static void teardown(void) { xh_fini(&H); }
TestSuite(fix44_logon, .init = setup, .fini = teardown);

#define NOW (XH_T0 + 1000)

Test(fix44_logon, signed_logon_is_answered_with_logon_and_heartbeat_interval)
{
    char buf[1024];
    cr_assert_eq(dtx_fix44_open(H.f, 0, NOW), DTX_OK);
    size_t n = xh_logon_msg(&H, buf, sizeof buf, XH_KEY_TRADER, "FIRM7", 1, NOW, 30, 0, NULL);
    cr_assert_eq(xh_feed(&H, 0, buf, n, NOW), n);
    fix_msg m = xh_expect(&H, 0, "A");
    cr_expect_str_eq(xh_get(&m, 49), "DTX");
    cr_expect_str_eq(xh_get(&m, 56), "FIRM7");
    cr_expect_str_eq(xh_get(&m, 34), "1");
    cr_expect_str_eq(xh_get(&m, 108), "30");
    cr_expect_str_eq(xh_get(&m, 98), "0");
    cr_expect_eq(dtx_fix44_conn_state_get(H.f, 0), DTX_FIX44_ACTIVE);
    cr_expect_eq(dtx_fix44_session_of_conn(H.f, 0), (int)XH_BASE);
    uint64_t out, in;
    cr_assert_eq(dtx_fix44_seq(H.f, XH_BASE, &out, &in), DTX_OK);
    cr_expect_eq(out, 2);
    cr_expect_eq(in, 2);
    dtx_fix44_stats st;
    dtx_fix44_stats_get(H.f, &st);
    cr_expect_eq(st.logons, 1);
    cr_expect_eq(H.closed[0], 0);
}

static void expect_rejected(const char *text)
{
    fix_msg m = xh_expect(&H, 0, "5");
    cr_expect_str_eq(xh_get(&m, 58), text);
    cr_expect_eq(xh_pending(&H, 0), 0, "nothing but the Logout");
    cr_expect_eq(H.closed[0], 1);
    cr_expect_eq(dtx_fix44_conn_state_get(H.f, 0), DTX_FIX44_FREE);
    cr_expect_eq(dtx_fix44_seq(H.f, XH_BASE, NULL, NULL), DTX_EINVAL, "no session was made");
}

static void logon_with(int key, const char *sender, uint64_t sending, uint32_t hb, int mode,
                       const char *fields)
{
    char buf[1024];
    cr_assert_eq(dtx_fix44_open(H.f, 0, NOW), DTX_OK);
    size_t n = xh_logon_msg(&H, buf, sizeof buf, key, sender, 1, sending, hb, mode, fields);
    cr_assert_eq(xh_feed(&H, 0, buf, n, NOW), n);
}

Test(fix44_logon, bad_signature_gets_logout_naming_it)
{
    logon_with(XH_KEY_TRADER, "FIRM7", NOW, 30, 1, NULL);
    expect_rejected("bad signature");
}

Test(fix44_logon, unknown_key_gets_logout)
{
    logon_with(XH_KEY_UNKNOWN, "FIRM7", NOW, 30, 0, NULL);
    expect_rejected("unknown key");
}

Test(fix44_logon, sending_time_beyond_five_seconds_gets_logout)
{
    logon_with(XH_KEY_TRADER, "FIRM7", NOW - 5 * XH_S - XH_MS, 30, 0, NULL);
    expect_rejected("SendingTime outside the clock window");
}

Test(fix44_logon, sending_time_within_five_seconds_is_accepted)
{
    logon_with(XH_KEY_TRADER, "FIRM7", NOW - 5 * XH_S + XH_MS, 30, 0, NULL);
    xh_expect(&H, 0, "A");
}

Test(fix44_logon, uppercase_hex_username_gets_logout)
{
    logon_with(XH_KEY_TRADER, "FIRM7", NOW, 30, 2, NULL);
    expect_rejected("Username (553) is not a compressed public key in 66 lowercase hex");
}

Test(fix44_logon, heartbeat_interval_outside_1_to_60_gets_logout)
{
    logon_with(XH_KEY_TRADER, "FIRM7", NOW, 61, 0, NULL);
    expect_rejected("HeartBtInt (108) must be 1..60");
}

Test(fix44_logon, missing_password_gets_logout)
{
    char buf[1024];
    cr_assert_eq(dtx_fix44_open(H.f, 0, NOW), DTX_OK);
    size_t n = xh_build(buf, sizeof buf, "A", "FIRM7", 1, NOW, "98=0|108=30|");
    xh_feed(&H, 0, buf, n, NOW);
    expect_rejected("Username (553) missing");
}

Test(fix44_logon, first_message_other_than_logon_gets_logout)
{
    char buf[1024];
    cr_assert_eq(dtx_fix44_open(H.f, 0, NOW), DTX_OK);
    size_t n = xh_build(buf, sizeof buf, "0", "FIRM7", 1, NOW, NULL);
    xh_feed(&H, 0, buf, n, NOW);
    expect_rejected("first message must be Logon");
}

Test(fix44_logon, sender_comp_id_is_fixed_per_key)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    dtx_fix44_on_closed(H.f, 0, NOW);
    char buf[1024];
    cr_assert_eq(dtx_fix44_open(H.f, 1, NOW), DTX_OK);
    size_t n = xh_logon_msg(&H, buf, sizeof buf, XH_KEY_TRADER, "OTHER", 2, NOW + XH_MS, 30, 0, NULL);
    xh_feed(&H, 1, buf, n, NOW + XH_MS);
    fix_msg m = xh_expect(&H, 1, "5");
    cr_expect_str_eq(xh_get(&m, 58), "SenderCompID is fixed per key");
    /* and another key cannot take FIRM7 */
    cr_assert_eq(dtx_fix44_open(H.f, 2, NOW), DTX_OK);
    n = xh_logon_msg(&H, buf, sizeof buf, XH_KEY_TRADER2, "FIRM7", 1, NOW + XH_MS, 30, 0, NULL);
    xh_feed(&H, 2, buf, n, NOW + XH_MS);
    m = xh_expect(&H, 2, "5");
    cr_expect_str_eq(xh_get(&m, 58), "SenderCompID belongs to another key");
}

Test(fix44_logon, second_logon_while_logged_on_elsewhere_gets_logout)
{
    xh_logon(&H, 0, XH_KEY_TRADER, "FIRM7", NOW);
    char buf[1024];
    cr_assert_eq(dtx_fix44_open(H.f, 1, NOW), DTX_OK);
    size_t n = xh_logon_msg(&H, buf, sizeof buf, XH_KEY_TRADER, "FIRM7", 2, NOW + XH_MS, 30, 0, NULL);
    xh_feed(&H, 1, buf, n, NOW + XH_MS);
    fix_msg m = xh_expect(&H, 1, "5");
    cr_expect_str_eq(xh_get(&m, 58), "session already logged on");
    cr_expect_eq(dtx_fix44_conn_state_get(H.f, 0), DTX_FIX44_ACTIVE, "the first one stays");
}

Test(fix44_logon, replayed_logon_is_refused)
{
    char buf[1024];
    cr_assert_eq(dtx_fix44_open(H.f, 0, NOW), DTX_OK);
    size_t n = xh_logon_msg(&H, buf, sizeof buf, XH_KEY_TRADER, "FIRM7", 1, NOW, 30, 0, "141=Y|");
    xh_feed(&H, 0, buf, n, NOW);
    xh_expect(&H, 0, "A");
    dtx_fix44_on_closed(H.f, 0, NOW);
    cr_assert_eq(dtx_fix44_open(H.f, 1, NOW), DTX_OK);
    xh_feed(&H, 1, buf, n, NOW + XH_MS);
    fix_msg m = xh_expect(&H, 1, "5");
    cr_expect_str_eq(xh_get(&m, 58), "SendingTime not after the last Logon");
}

Test(fix44_logon, silent_connection_is_closed_after_the_logon_timeout)
{
    cr_assert_eq(dtx_fix44_open(H.f, 0, NOW), DTX_OK);
    dtx_fix44_tick(H.f, NOW + 4999 * XH_MS);
    cr_expect_eq(H.closed[0], 0);
    dtx_fix44_tick(H.f, NOW + 5000 * XH_MS);
    cr_expect_eq(H.closed[0], 1);
    cr_expect_eq(xh_pending(&H, 0), 0);
}
