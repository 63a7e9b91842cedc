/*
 * session_cod_slot_reuse.c - a FIXP session slot reused after its session
 * expired (retention_ns) keeps what the old session owed: a
 * cancel-on-disconnect still owed (the command ring was full when the
 * connection ended, and the timer has not yet found room) is submitted
 * before the slot goes to the new session, or the Negotiate is turned away
 * while the ring stays full. The account's orders never keep resting.
 *
 * Fails before the fix: the reuse called dtx_cod_forget() and the command
 * was never submitted.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dtx/fixp_2748.h"
#include "dtx/sbe_7001.h"
#include "support/fixp_harness.h"

static fixp_harness H;
#define NOW (FH_T0 + 1000)
#define S 1000000000ull

static void setup(void)
{
    dtx_session_config cfg = {.max_connections = FH_CONNS, .max_sessions = 1, .store_depth = 16,
                              .send_buffer_bytes = 16384, .retention_ns = 60 * S};
    fh_init(&H, &cfg);
}
static void teardown(void) { fh_fini(&H); }
TestSuite(session_cod_slot_reuse, .init = setup, .fini = teardown);

/* Session 1 of the cancel-on-disconnect key, dropped while the ring is full. */
static int dropped_while_ring_full(void)
{
    int si = fh_connect(&H, 0, 1, FH_KEY_TRADER, NOW);
    H.submit_full = 1;
    dtx_session_on_closed(H.s, 0, NOW);
    cr_assert_eq(H.ncmds, 0, "owed");
    return si;
}

/* Negotiate of session b on conn at now; returns the template answered. */
static uint16_t negotiate(uint32_t conn, uint8_t b, uint64_t now)
{
    uint8_t buf[4096], uuid[16];
    fh_uuid(uuid, b);
    cr_assert_eq(dtx_session_open(H.s, conn, now), DTX_OK);
    size_t n = fh_negotiate(&H, buf, uuid, now, FH_KEY_TRADER2, FH_CRED_GOOD,
                            DTX_FIXP_FLOW_TYPE_IDEMPOTENT);
    fh_send(&H, conn, buf, n, now);
    dtx_frame f;
    cr_assert(fh_next(&H, conn, &f));
    return f.template_id;
}

Test(session_cod_slot_reuse, the_owed_cancel_goes_before_the_slot_is_reused)
{
    int si = dropped_while_ring_full();
    H.submit_full = 0; /* room again, and no tick yet */
    cr_assert_eq(negotiate(1, 2, NOW + 61 * S), DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID);
    cr_assert_eq(H.ncmds, 1);
    cr_expect_eq(H.cmds[0].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_expect_eq(H.cmds[0].session, si);
    cr_expect_eq(H.cmds[0].account, 7, "the old session's account");
    dtx_session_tick(H.s, NOW + 62 * S);
    cr_expect_eq(H.ncmds, 1, "once");
}

Test(session_cod_slot_reuse, a_full_ring_turns_the_negotiate_away_and_keeps_the_cancel_owed)
{
    int si = dropped_while_ring_full();
    cr_assert_eq(negotiate(1, 2, NOW + 61 * S), DTX_FIXP_NEGOTIATION_REJECT_TEMPLATE_ID);
    cr_expect_eq(H.ncmds, 0);
    H.submit_full = 0;
    dtx_session_tick(H.s, NOW + 62 * S);
    cr_assert_eq(H.ncmds, 1);
    cr_expect_eq(H.cmds[0].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_expect_eq(H.cmds[0].session, si);
    cr_expect_eq(H.cmds[0].account, 7);
    cr_expect_eq(negotiate(2, 3, NOW + 63 * S), DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID,
                 "the slot is free to reuse now");
    cr_expect_eq(H.ncmds, 1);
}
