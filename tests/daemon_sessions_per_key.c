/*
 * daemon_sessions_per_key.c - the operator's bound on the FIXP sessions one
 * key may hold: `[session] max_sessions_per_key` (0 = no limit, the default)
 * is read by the configuration parser, range-checked, and given by dtx-engine
 * to the session layer, whose Negotiate beyond it is rejected Unspecified
 * (3) with reason "too many sessions for this key" (docs/session.md).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dtx/config.h"
#include "dtx/types.h"
#include "support/e2e_engine.h"

static e2e_engine eng;

static void teardown(void) { e2e_cleanup(&eng); }

TestSuite(daemon_sessions_per_key, .fini = teardown, .timeout = 120);

Test(daemon_sessions_per_key, the_key_is_read_and_defaults_to_no_limit)
{
    dtx_config c;
    dtx_config_defaults(&c);
    cr_expect_eq(c.max_sessions_per_key, 0);
    cr_assert_eq(dtx_config_load_string(&c, "[session]\nmax_sessions_per_key = 16\n", "t.conf"),
                 DTX_OK, "%s", dtx_error_message());
    cr_expect_eq(c.max_sessions_per_key, 16);
    cr_expect_eq(c.max_sessions, 1024, "nothing else moved");
    cr_expect_eq(dtx_config_load_string(&c, "[session]\nmax_sessions_per_key = 65536\n", "t.conf"),
                 DTX_EINVAL);
    cr_expect_not_null(strstr(dtx_error_message(), "max_sessions_per_key"), "%s",
                       dtx_error_message());
}

Test(daemon_sessions_per_key, a_key_beyond_its_sessions_is_rejected_and_another_key_is_not)
{
    e2e_start(&eng, "[session]\nmax_sessions_per_key = 2\n");
    e2e_client *a = e2e_login(&eng, 1);
    e2e_client *b = e2e_login(&eng, 1);
    dtx_client_config cfg = e2e_config(&eng, 1, NULL);
    e2e_client *c = e2e_client_new(&eng, &cfg);
    cr_assert_eq(dtx_client_connect_wait(c->c, E2E_SAFETY_MS), DTX_EIO);
    const e2e_event *e = e2e_wait_event(c, DTX_CLIENT_EV_NEGOTIATION_REJECTED, NULL);
    cr_expect_eq(e->e.code, 3, "Unspecified");
    cr_expect_str_eq(e->reason, "too many sessions for this key");
    e2e_client *d = e2e_login(&eng, 2); /* account 2's key holds none yet */
    /* the sessions held go on */
    dtx_sbe_new_order_single m = e2e_limit(1, DTX_SIDE_BUY, PX(60000), 1);
    e2e_send(b, &m);
    e2e_expect(b, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    e2e_client_free(a);
    e2e_client_free(b);
    e2e_client_free(c);
    e2e_client_free(d);
    e2e_stop(&eng);
}
