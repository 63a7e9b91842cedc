/*
 * e2e_session.c - the FIXP session over real sockets, through the client
 * library against the real dtx-engine: bad credentials rejected with no
 * state change (unknown key, stale Timestamp, reused SessionId, bad
 * signature, wrong key, Establish not after the last one), reconnect with
 * retransmission of the reports missed while away, a resend under the same
 * client number not applied twice, a gap answered by NotApplied,
 * cancel-on-disconnect on a dropped connection and on Terminate, an idle
 * session kept alive by keepalive Sequences both ways.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "dtx/types.h"
#include "support/e2e_engine.h"

#define NO_COD "[demo]\ncancel_on_disconnect = no\n"
#define S(x) (x * 1000000000ll)

static e2e_engine eng;

static void teardown(void) { e2e_cleanup(&eng); }

TestSuite(e2e_session, .fini = teardown, .timeout = 120);

/* Connects cl, expecting a reject event of type with code and reason. */
static void expect_reject(e2e_client *cl, dtx_client_event_type type, uint8_t code, const char *reason)
{
    cr_assert_eq(dtx_client_connect_wait(cl->c, E2E_SAFETY_MS), DTX_EIO);
    const e2e_event *e = e2e_wait_event(cl, type, NULL);
    cr_assert_eq(e->e.code, code, "%s code %u, %u expected (%s)", dtx_client_event_name(type),
                 e->e.code, code, e->reason);
    cr_assert_str_eq(e->reason, reason);
    cr_assert_eq(dtx_client_get_state(cl->c), DTX_CLIENT_DISCONNECTED);
    cr_assert_not_null(strstr(dtx_error_message(), reason), "%s", dtx_error_message());
}

Test(e2e_session, negotiate_with_bad_credentials_is_rejected_and_the_session_id_stays_free)
{
    e2e_start(&eng, NULL);
    uint8_t sid[16];
    memset(sid, 0x5a, sizeof sid);

    dtx_client_config unknown = e2e_config(&eng, 1, sid);
    memset(unknown.seckey, 0x42, 32); /* a valid secret no account registered */
    e2e_client *u = e2e_client_new(&eng, &unknown);
    expect_reject(u, DTX_CLIENT_EV_NEGOTIATION_REJECTED, 0, "unknown key");

    dtx_client_config stale = e2e_config(&eng, 1, sid);
    stale.credential_time_offset_ns = -S(60);
    e2e_client *s = e2e_client_new(&eng, &stale);
    expect_reject(s, DTX_CLIENT_EV_NEGOTIATION_REJECTED, 0, "timestamp outside the clock window");

    dtx_client_config badsig = e2e_config(&eng, 1, sid);
    badsig.corrupt_signature = 1;
    e2e_client *b = e2e_client_new(&eng, &badsig);
    expect_reject(b, DTX_CLIENT_EV_NEGOTIATION_REJECTED, 0, "bad signature");

    /* None of them took the SessionId: a good Negotiate gets it. */
    dtx_client_config good = e2e_config(&eng, 1, sid);
    e2e_client *g = e2e_client_new(&eng, &good);
    cr_assert_eq(dtx_client_connect_wait(g->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    dtx_sbe_new_order_single m = e2e_limit(1, DTX_SIDE_BUY, PX(60000), 1);
    cr_assert_eq(e2e_send(g, &m), 1);
    cr_assert_eq(e2e_expect(g, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID)->r.seq, 1);
    e2e_client_free(u);
    e2e_client_free(s);
    e2e_client_free(b);
    e2e_client_free(g);
    e2e_stop(&eng);
}

Test(e2e_session, a_reused_session_id_is_rejected_and_the_established_session_goes_on)
{
    e2e_start(&eng, NULL);
    e2e_client *a = e2e_login(&eng, 1);
    dtx_sbe_new_order_single m = e2e_limit(1, DTX_SIDE_BUY, PX(60000), 1);
    e2e_send(a, &m);
    e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);

    /* Same SessionId, from account 1 and from account 2: DuplicateId (2). */
    for (uint32_t acct = 1; acct <= 2; acct++) {
        dtx_client_config dup = e2e_config(&eng, acct, dtx_client_session_id(a->c));
        e2e_client *d = e2e_client_new(&eng, &dup);
        expect_reject(d, DTX_CLIENT_EV_NEGOTIATION_REJECTED, 2, "SessionId already negotiated");
        e2e_client_free(d);
    }
    /* Account 2's key cannot establish account 1's session. */
    dtx_client_config wrong = e2e_config(&eng, 2, dtx_client_session_id(a->c));
    wrong.negotiated = 1;
    e2e_client *w = e2e_client_new(&eng, &wrong);
    expect_reject(w, DTX_CLIENT_EV_ESTABLISHMENT_REJECTED, 4,
                  "not the key that negotiated the session");
    e2e_client_free(w);

    /* a is untouched: its numbers go on from 2 on both flows. */
    dtx_sbe_new_order_single m2 = e2e_limit(2, DTX_SIDE_BUY, PX(60000), 1);
    cr_assert_eq(e2e_send(a, &m2), 2);
    const e2e_report *r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_assert_eq(r->r.seq, 2);
    cr_assert_eq(r->r.u.er_new.cl_ord_id, 2);
    e2e_barrier(a);
    e2e_client_free(a);
    e2e_stop(&eng);
}

Test(e2e_session, an_establish_not_after_the_last_one_is_rejected_and_changes_nothing)
{
    e2e_start(&eng, NO_COD);
    e2e_client *a = e2e_login(&eng, 1);
    dtx_sbe_new_order_single m = e2e_limit(1, DTX_SIDE_SELL, PX(66000), 4);
    e2e_send(a, &m);
    uint64_t oid = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID)->r.u.er_new.order_id;
    dtx_client_disconnect(a->c);

    /* A replayed (older) Establish of the same session: Credentials (4). */
    dtx_client_config old = e2e_config(&eng, 1, dtx_client_session_id(a->c));
    old.negotiated = 1;
    old.credential_time_offset_ns = -S(2);
    e2e_client *o = e2e_client_new(&eng, &old);
    expect_reject(o, DTX_CLIENT_EV_ESTABLISHMENT_REJECTED, 4,
                  "Timestamp not after the last Establish");
    /* Bad signature on Establish: Credentials too. */
    dtx_client_config bad = e2e_config(&eng, 1, dtx_client_session_id(a->c));
    bad.negotiated = 1;
    bad.corrupt_signature = 1;
    e2e_client *b = e2e_client_new(&eng, &bad);
    expect_reject(b, DTX_CLIENT_EV_ESTABLISHMENT_REJECTED, 4, "bad signature");
    /* An unknown SessionId: Unnegotiated (0). */
    dtx_client_config unn = e2e_config(&eng, 1, NULL);
    unn.negotiated = 1;
    e2e_client *n = e2e_client_new(&eng, &unn);
    expect_reject(n, DTX_CLIENT_EV_ESTABLISHMENT_REJECTED, 0, "SessionId not negotiated");

    /* The real client comes back: same numbers, the order still rests. */
    size_t from = 0;
    cr_assert_eq(dtx_client_connect_wait(a->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    const e2e_event *est = e2e_wait_event(a, DTX_CLIENT_EV_ESTABLISHED, &from);
    est = e2e_wait_event(a, DTX_CLIENT_EV_ESTABLISHED, &from);
    cr_assert_eq(est->e.seq, 2, "EstablishmentAck.NextSeqNo: one report was sent");
    dtx_sbe_order_cancel_request c = {.cl_ord_id = 2, .orig_cl_ord_id = 1};
    uint64_t seq;
    cr_assert_eq(dtx_client_cancel(a->c, &c, &seq), DTX_OK);
    cr_assert_eq(seq, 2);
    const e2e_report *r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
    cr_assert_eq(r->r.u.canceled.order_id, oid);
    cr_assert_eq(r->r.seq, 2);
    e2e_barrier(a);
    e2e_client_free(o);
    e2e_client_free(b);
    e2e_client_free(n);
    e2e_client_free(a);
    e2e_stop(&eng);
}

Test(e2e_session, reconnect_retransmits_the_reports_missed_while_disconnected)
{
    e2e_start(&eng, NO_COD);
    e2e_client *a = e2e_login(&eng, 1), *b = e2e_login(&eng, 2);
    dtx_sbe_new_order_single rest = e2e_limit(1, DTX_SIDE_SELL, PX(65000), 5);
    e2e_send(a, &rest);
    uint64_t oid = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID)->r.u.er_new.order_id;
    dtx_client_disconnect(a->c);
    cr_assert_eq(dtx_client_get_state(a->c), DTX_CLIENT_DISCONNECTED);

    /* While a is away, b takes 2 then 1. */
    for (uint64_t i = 0; i < 2; i++) {
        dtx_sbe_new_order_single t = e2e_limit(10 + i, DTX_SIDE_BUY, PX(65000), 2 - (int64_t)i);
        e2e_send(b, &t);
        e2e_expect(b, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
        e2e_expect(b, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    }
    e2e_barrier(b);

    size_t from = 0;
    cr_assert_eq(dtx_client_connect_wait(a->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    const e2e_event *est = e2e_wait_event(a, DTX_CLIENT_EV_ESTABLISHED, &from);
    est = e2e_wait_event(a, DTX_CLIENT_EV_ESTABLISHED, &from); /* the reconnect's */
    cr_assert_eq(est->e.seq, 4, "next server number after New and two trades");
    const e2e_event *rq = e2e_wait_event(a, DTX_CLIENT_EV_RETRANSMIT_REQUESTED, &from);
    cr_assert_eq(rq->e.from_seq, 2);
    cr_assert_eq(rq->e.count, 2);
    const e2e_report *t1 = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    cr_assert_eq(t1->r.seq, 2);
    cr_assert_eq(t1->r.retransmitted, 1);
    cr_assert_eq(t1->r.u.trade.order_id, oid);
    cr_assert_eq(t1->r.u.trade.last_qty, 2);
    cr_assert_eq(t1->r.u.trade.leaves_qty, 3);
    const e2e_report *t2 = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    cr_assert_eq(t2->r.seq, 3);
    cr_assert_eq(t2->r.retransmitted, 1);
    cr_assert_eq(t2->r.u.trade.last_qty, 1);
    cr_assert_eq(t2->r.u.trade.leaves_qty, 2);
    const e2e_event *bt = e2e_wait_event(a, DTX_CLIENT_EV_RETRANSMISSION, NULL);
    cr_assert_eq(bt->e.from_seq, 2);
    cr_assert_eq(bt->e.count, 2);

    /* Real time again: the next report is number 4, delivered once. */
    dtx_sbe_order_cancel_request c = {.cl_ord_id = 5, .order_id = oid};
    cr_assert_eq(dtx_client_cancel(a->c, &c, NULL), DTX_OK);
    const e2e_report *r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
    cr_assert_eq(r->r.seq, 4);
    cr_assert_eq(r->r.retransmitted, 0);
    cr_assert_eq(r->r.u.canceled.cum_qty, 3);
    e2e_barrier(a);
    dtx_client_stats st;
    dtx_client_stats_get(a->c, &st);
    cr_assert_eq(st.retransmitted, 2);
    cr_assert_eq(st.retransmit_requests, 1);
    e2e_client_free(a);
    e2e_client_free(b);
    e2e_stop(&eng);
}

Test(e2e_session, a_resend_under_the_same_client_number_is_not_applied_twice)
{
    e2e_start(&eng, NO_COD);
    e2e_client *a = e2e_login(&eng, 1);
    dtx_sbe_new_order_single m1 = e2e_limit(1, DTX_SIDE_BUY, PX(60000), 1);
    dtx_sbe_new_order_single m2 = e2e_limit(2, DTX_SIDE_BUY, PX(60000), 1);
    cr_assert_eq(e2e_send(a, &m1), 1);
    cr_assert_eq(e2e_send(a, &m2), 2);
    e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    dtx_client_disconnect(a->c);
    cr_assert_eq(dtx_client_connect_wait(a->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    /* Unsure whether 1 and 2 arrived, the client sends them again, same numbers. */
    cr_assert_eq(dtx_client_resend(a->c, 1), DTX_OK, "%s", dtx_error_message());
    /* Nothing but the barrier's answer comes: no second New, no
     * DuplicateClOrdID reject (the duplicates were dropped unread). */
    e2e_barrier(a);
    cr_assert_eq(a->nreports, 3);
    /* The next new number is 3 and is applied. */
    dtx_sbe_new_order_single m3 = e2e_limit(3, DTX_SIDE_BUY, PX(60000), 1);
    cr_assert_eq(e2e_send(a, &m3), 4, "the barrier took number 3");
    cr_assert_eq(e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID)->r.u.er_new.cl_ord_id, 3);
    e2e_client_free(a);
    e2e_stop(&eng);
}

Test(e2e_session, a_gap_in_client_numbers_is_answered_with_not_applied_before_the_report)
{
    e2e_start(&eng, NULL);
    e2e_client *a = e2e_login(&eng, 1);
    dtx_client_skip(a->c, 3); /* numbers 1..3 never sent */
    dtx_sbe_new_order_single m = e2e_limit(1, DTX_SIDE_BUY, PX(60000), 1);
    cr_assert_eq(e2e_send(a, &m), 4);
    const e2e_report *r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_assert_eq(r->r.seq, 2, "NotApplied took server number 1");
    cr_assert_eq(r->r.u.er_new.cl_ord_id, 1);
    const e2e_event *na = e2e_wait_event(a, DTX_CLIENT_EV_NOT_APPLIED, NULL);
    cr_assert_eq(na->e.from_seq, 1);
    cr_assert_eq(na->e.count, 3);
    cr_assert_eq(na->e.seq, 1);
    cr_assert_eq(na->at_report, 0, "NotApplied came before the report");
    e2e_barrier(a);
    e2e_client_free(a);
    e2e_stop(&eng);
}

Test(e2e_session, cancel_on_disconnect_cancels_resting_orders_when_the_connection_drops_or_terminates)
{
    e2e_start(&eng, NULL); /* the demo keys cancel on disconnect */
    e2e_client *a = e2e_login(&eng, 1), *b = e2e_login(&eng, 2);
    dtx_sbe_new_order_single m = e2e_limit(1, DTX_SIDE_BUY, PX(64000), 3);
    e2e_send(a, &m);
    uint64_t oid = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID)->r.u.er_new.order_id;
    dtx_client_disconnect(a->c);
    cr_assert_eq(dtx_client_connect_wait(a->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    const e2e_report *r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
    cr_assert_eq(r->r.u.canceled.order_id, oid);
    cr_assert_eq(r->r.u.canceled.cancel_reason, DTX_CANCEL_ON_DISCONNECT);
    cr_assert_eq(r->r.u.canceled.cl_ord_id, 1);
    cr_assert_eq(r->r.u.canceled.orig_cl_ord_id, 0);
    cr_assert_eq(r->r.seq, 2);

    /* The book is empty: b's IOC sell finds nothing. */
    dtx_sbe_new_order_single s = e2e_limit(9, DTX_SIDE_SELL, PX(64000), 3);
    s.time_in_force = DTX_TIF_IOC;
    e2e_send(b, &s);
    e2e_expect(b, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_assert_eq(e2e_expect(b, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID)->r.u.canceled.cum_qty, 0);

    /* Terminate fires it too. */
    dtx_sbe_new_order_single m2 = e2e_limit(2, DTX_SIDE_BUY, PX(64000), 3);
    e2e_send(a, &m2);
    e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_assert_eq(dtx_client_terminate_wait(a->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    cr_assert_eq(dtx_client_connect_wait(a->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    r = e2e_expect(a, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
    cr_assert_eq(r->r.u.canceled.cl_ord_id, 2);
    cr_assert_eq(r->r.u.canceled.cancel_reason, DTX_CANCEL_ON_DISCONNECT);
    e2e_barrier(a);
    e2e_barrier(b);
    e2e_client_free(a);
    e2e_client_free(b);
    e2e_stop(&eng);
}

Test(e2e_session, an_idle_session_is_kept_alive_by_both_sides_keepalives)
{
    e2e_start(&eng, NULL);
    dtx_client_config cfg = e2e_config(&eng, 1, NULL);
    cfg.keepalive_ms = 500; /* either side ends the session after 1.5 s of silence */
    e2e_client *a = e2e_client_new(&eng, &cfg);
    cr_assert_eq(dtx_client_connect_wait(a->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do { /* idle for over two keepalive timeouts, only pumping the client */
        dtx_client_wait(a->c, 100);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 4000);
    cr_assert_eq(dtx_client_get_state(a->c), DTX_CLIENT_ESTABLISHED);
    cr_assert_eq(a->nevents, 2, "negotiated and established only, no terminate or disconnect");
    e2e_barrier(a);
    e2e_client_free(a);
    e2e_stop(&eng);
}

Test(e2e_session, reports_no_longer_kept_are_given_up_after_retransmit_reject_and_the_flow_goes_on)
{
    /* The server keeps 16 messages per session. */
    e2e_start(&eng, "[session]\nstore_depth = 16\n" NO_COD);
    e2e_client *a = e2e_login(&eng, 1), *b = e2e_login(&eng, 2);
    for (uint64_t i = 1; i <= 20; i++) {
        dtx_sbe_new_order_single m = e2e_limit(i, DTX_SIDE_SELL, PX(65000), 1);
        e2e_send(a, &m);
        e2e_expect(a, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    }
    dtx_client_disconnect(a->c);
    /* b sweeps all 20: a misses 20 trade reports (21..40), 16 of them kept. */
    dtx_sbe_new_order_single t = e2e_limit(100, DTX_SIDE_BUY, PX(65000), 20);
    e2e_send(b, &t);
    e2e_expect(b, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    for (int i = 0; i < 20; i++)
        e2e_expect(b, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    e2e_barrier(b);

    size_t from = 0;
    cr_assert_eq(dtx_client_connect_wait(a->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    const e2e_event *rq = e2e_wait_event(a, DTX_CLIENT_EV_RETRANSMIT_REQUESTED, &from);
    cr_assert_eq(rq->e.from_seq, 21);
    cr_assert_eq(rq->e.count, 20);
    const e2e_event *rj = e2e_wait_event(a, DTX_CLIENT_EV_RETRANSMIT_REJECTED, &from);
    cr_assert_eq(rj->e.code, 0, "OutOfRange");
    cr_assert_eq(rj->e.from_seq, 21);
    cr_assert_eq(rj->e.count, 20);
    cr_assert_str_eq(rj->reason, "older than the messages kept");
    cr_assert_eq(dtx_client_next_server_seq(a->c), 41, "the range is given up");
    /* Real time goes on from 41, with no further request. */
    e2e_barrier(a);
    cr_assert_eq(a->reports[a->nreports - 1].r.seq, 41);
    dtx_client_stats st;
    dtx_client_stats_get(a->c, &st);
    cr_assert_eq(st.retransmit_requests, 1);
    cr_assert_eq(a->nreports, 21, "20 News and the barrier's answer: nothing retransmitted");
    e2e_client_free(a);
    e2e_client_free(b);
    e2e_stop(&eng);
}
