/*
 * net_cod.c - the cancel-on-disconnect table both gateways share
 * (net/cod.h): one command per disconnect, owed while the ring is full,
 * retried by the timer in slot order, settled before the session's next
 * order (also before the slot goes to another session: see
 * tests/session_cod_slot_reuse.c).
 */
#include <criterion/criterion.h>

#include "../net/cod.h"
#include "dtx/command.h"

static dtx_command cmds[16];
static int ncmds, full;

static int submit(void *ctx, const dtx_command *cmd)
{
    (void)ctx;
    if (full)
        return -1;
    cr_assert_lt(ncmds, 16);
    cmds[ncmds++] = *cmd;
    return 0;
}

static const dtx_session_callbacks CB = {.submit = submit};
static dtx_cod T;

static void setup(void)
{
    ncmds = full = 0;
    cr_assert_eq(dtx_cod_init(&T, 4, 1000), DTX_OK);
}
static void teardown(void) { dtx_cod_fini(&T); }
TestSuite(net_cod, .init = setup, .fini = teardown);

Test(net_cod, a_disconnect_submits_one_command_for_account_and_session_number)
{
    cr_expect_eq(dtx_cod_disconnect(&T, &CB, 2, 77), 1);
    cr_assert_eq(ncmds, 1);
    cr_expect_eq(cmds[0].type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_expect_eq(cmds[0].session, 1002, "session_base + slot");
    cr_expect_eq(cmds[0].account, 77);
    cr_expect_eq(dtx_cod_owed(&T, 2), 0);
    cr_expect_eq(dtx_cod_settle(&T, &CB, 2), 0, "nothing owed");
    cr_expect_eq(dtx_cod_retry(&T, &CB), 0);
    cr_expect_eq(ncmds, 1);
}

Test(net_cod, a_full_ring_leaves_it_owed_once_until_the_timer_or_the_next_order)
{
    full = 1;
    cr_expect_eq(dtx_cod_disconnect(&T, &CB, 0, 5), -1);
    cr_expect_eq(dtx_cod_disconnect(&T, &CB, 0, 5), 0, "a second disconnect owes nothing more");
    cr_expect_eq(dtx_cod_disconnect(&T, &CB, 3, 6), -1);
    cr_expect_eq(dtx_cod_settle(&T, &CB, 3), -1, "the order must wait");
    cr_expect_eq(dtx_cod_retry(&T, &CB), 0);
    cr_expect_eq(ncmds, 0);
    full = 0;
    cr_expect_eq(dtx_cod_settle(&T, &CB, 3), 1, "before slot 3's next order");
    cr_expect_eq(cmds[0].session, 1003);
    cr_expect_eq(dtx_cod_owed(&T, 0), 1);
    cr_expect_eq(dtx_cod_retry(&T, &CB), 1);
    cr_expect_eq(cmds[1].session, 1000);
    cr_expect_eq(cmds[1].account, 5);
    cr_expect_eq(dtx_cod_retry(&T, &CB), 0);
    cr_expect_eq(ncmds, 2);
}
