/*
 * client_flow.c - the client library (dtx/client.h) against a scripted
 * server in the test itself (a loopback listener; frames built with the
 * generated codecs), for what a real engine does not produce on demand: a
 * gap in the server flow on a live connection (RetransmitRequest, messages
 * above the gap dropped until the batch fills it, one request at a time),
 * duplicates dropped, a server Terminate answered, a framing error answered
 * with Terminate(UnspecifiedError) and the connection closed.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dtx/client.h"
#include "dtx/fixp_2748.h"
#include "dtx/sofh.h"
#include "dtx/types.h"

#define SAFETY_MS 10000

typedef struct server {
    int lfd, fd;
    uint16_t port;
    uint8_t in[8192];
    size_t have;
} server;

static server S;
static dtx_client *C;
static uint64_t delivered[64];
static uint8_t delivered_rt[64];
static size_t ndelivered;
static dtx_client_event events[64];
static size_t nevents;

static void on_report(void *ctx, dtx_client *c, const dtx_client_report *r)
{
    (void)ctx;
    (void)c;
    cr_assert_lt(ndelivered, 64);
    delivered_rt[ndelivered] = r->retransmitted;
    delivered[ndelivered++] = r->u.er_new.cl_ord_id;
}

static void on_session(void *ctx, dtx_client *c, const dtx_client_event *e)
{
    (void)ctx;
    (void)c;
    if (nevents < 64) {
        events[nevents] = *e;
        events[nevents++].reason = NULL;
    }
}

static void setup(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;
    memset(&S, 0, sizeof S);
    ndelivered = nevents = 0;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    S.lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(S.lfd, 0);
    cr_assert_eq(bind(S.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(S.lfd, 4), 0);
    getsockname(S.lfd, (struct sockaddr *)&sa, &len);
    S.port = ntohs(sa.sin_port);
    dtx_client_config cfg = {.host = "127.0.0.1", .port = S.port};
    memset(cfg.seckey, 0x11, 32);
    dtx_client_callbacks cb = {.on_report = on_report, .on_session = on_session};
    C = dtx_client_create(&cfg, &cb);
    cr_assert_not_null(C, "%s", dtx_error_message());
}

static void teardown(void)
{
    dtx_client_destroy(C);
    if (S.fd > 0)
        close(S.fd);
    close(S.lfd);
}

TestSuite(client_flow, .init = setup, .fini = teardown, .timeout = 60);

/* Pumps the client until the server has a whole frame from it; returns it. */
static dtx_frame server_read(uint8_t *copy)
{
    char reason[DTX_SOFH_REASON_MAX];
    for (int i = 0; i < SAFETY_MS / 5; i++) {
        dtx_frame f;
        int n = dtx_sofh_decode(S.in, S.have, &f, reason);
        cr_assert_geq(n, 0, "the client sent a bad frame: %s", reason);
        if (n > 0) {
            memcpy(copy, S.in, (size_t)n);
            memmove(S.in, S.in + n, S.have - (size_t)n);
            S.have -= (size_t)n;
            return (dtx_frame){.body = copy + 14, .body_len = f.body_len, .frame_len = f.frame_len,
                               .block_length = f.block_length, .template_id = f.template_id,
                               .schema_id = f.schema_id, .version = f.version, .known = f.known};
        }
        dtx_client_poll(C);
        struct pollfd p = {.fd = S.fd, .events = POLLIN};
        if (poll(&p, 1, 5) > 0) {
            ssize_t r = read(S.fd, S.in + S.have, sizeof S.in - S.have);
            cr_assert_gt(r, 0, "the client closed");
            S.have += (size_t)r;
        }
    }
    cr_assert_fail("no frame from the client");
    return (dtx_frame){0};
}

static void expect_template(uint16_t tid)
{
    uint8_t buf[4096];
    dtx_frame f = server_read(buf);
    cr_assert_eq(f.template_id, tid, "template %u came, %u expected", f.template_id, tid);
}

static void server_send(const uint8_t *b, size_t n) { cr_assert_eq(write(S.fd, b, n), (ssize_t)n); }

#define FIXP_SEND(SNAKE, UPPER, M)                                                               \
    do {                                                                                         \
        uint8_t b_[256];                                                                         \
        ptrdiff_t l_ = dtx_fixp_##SNAKE##_encode(b_ + 14, sizeof b_ - 14, (M));                  \
        cr_assert_gt(l_, 0);                                                                     \
        server_send(b_, dtx_sofh_put_headers(b_, (uint32_t)l_, DTX_FIXP_##UPPER##_BLOCK_LENGTH, \
                                             DTX_FIXP_##UPPER##_TEMPLATE_ID, DTX_SCHEMA_FIXP, 0)); \
    } while (0)

static void send_sequence(uint64_t n)
{
    dtx_fixp_sequence m = {.next_seq_no = n};
    FIXP_SEND(sequence, SEQUENCE, &m);
}

/* An ExecutionReportNew whose ClOrdID is its server number, to read order. */
static void send_report(uint64_t id)
{
    uint8_t b[256];
    dtx_sbe_execution_report_new m = {.cl_ord_id = id, .order_id = id, .security_id = 1,
                                      .side = DTX_SIDE_BUY, .ord_type = DTX_ORD_LIMIT,
                                      .price = 1, .stop_px = DTX_PRICE_NULL};
    ptrdiff_t l = dtx_sbe_execution_report_new_encode(b + 14, sizeof b - 14, &m);
    server_send(b, dtx_sofh_put_headers(b, (uint32_t)l, DTX_SBE_EXECUTION_REPORT_NEW_BLOCK_LENGTH,
                                        DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID, DTX_SCHEMA_APP, 1));
}

/* Accepts, answers Negotiate and Establish (NextSeqNo next_server), reads
 * the client's Sequence. */
static void handshake(uint64_t next_server)
{
    cr_assert_eq(dtx_client_connect(C), DTX_OK, "%s", dtx_error_message());
    S.fd = accept(S.lfd, NULL, NULL);
    cr_assert_geq(S.fd, 0);
    expect_template(DTX_FIXP_NEGOTIATE_TEMPLATE_ID);
    dtx_fixp_negotiation_response nr = {.server_flow = 0};
    memcpy(nr.session_id, dtx_client_session_id(C), 16);
    FIXP_SEND(negotiation_response, NEGOTIATION_RESPONSE, &nr);
    expect_template(DTX_FIXP_ESTABLISH_TEMPLATE_ID);
    dtx_fixp_establishment_ack ack = {.keepalive_interval = 1000, .next_seq_no = next_server};
    memcpy(ack.session_id, dtx_client_session_id(C), 16);
    FIXP_SEND(establishment_ack, ESTABLISHMENT_ACK, &ack);
    expect_template(DTX_FIXP_SEQUENCE_TEMPLATE_ID);
    cr_assert_eq(dtx_client_get_state(C), DTX_CLIENT_ESTABLISHED);
}

static dtx_fixp_retransmit_request expect_request(void)
{
    uint8_t buf[4096];
    dtx_fixp_retransmit_request m;
    dtx_frame f = server_read(buf);
    cr_assert_eq(f.template_id, DTX_FIXP_RETRANSMIT_REQUEST_TEMPLATE_ID, "template %u",
                 f.template_id);
    cr_assert_geq(dtx_fixp_retransmit_request_decode(f.body, f.body_len, f.block_length, 0, &m), 0);
    return m;
}

static void pump_until_delivered(size_t n)
{
    for (int i = 0; i < SAFETY_MS && ndelivered < n; i++)
        dtx_client_wait(C, 1);
    cr_assert_eq(ndelivered, n);
}

Test(client_flow, a_live_gap_is_requested_once_and_filled_in_order)
{
    handshake(1);
    send_report(1);
    send_sequence(3); /* number 2 was lost */
    send_report(3);
    dtx_fixp_retransmit_request rq = expect_request();
    cr_assert_eq(rq.from_seq_no, 2);
    cr_assert_eq(rq.count, 1);
    send_report(4); /* real time goes on while the request is out: dropped, no second request */
    dtx_fixp_retransmission rt = {.next_seq_no = 2, .count = 1};
    memcpy(rt.session_id, dtx_client_session_id(C), 16);
    FIXP_SEND(retransmission, RETRANSMISSION, &rt);
    send_report(2);
    /* The batch is filled: the client asks for what it dropped (3 and 4). */
    rq = expect_request();
    cr_assert_eq(rq.from_seq_no, 3);
    cr_assert_eq(rq.count, 2);
    rt.next_seq_no = 3;
    rt.count = 2;
    FIXP_SEND(retransmission, RETRANSMISSION, &rt);
    send_report(3);
    send_report(4);
    send_sequence(5);
    send_report(5);
    pump_until_delivered(5);
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(delivered[i], i + 1, "report %zu is %llu", i, (unsigned long long)delivered[i]);
    cr_assert_eq(delivered_rt[0], 0);
    cr_assert_eq(delivered_rt[1], 1);
    cr_assert_eq(delivered_rt[2], 1);
    cr_assert_eq(delivered_rt[3], 1);
    cr_assert_eq(delivered_rt[4], 0);
    dtx_client_stats st;
    dtx_client_stats_get(C, &st);
    cr_assert_eq(st.retransmit_requests, 2);
    cr_assert_eq(st.out_of_order, 2);
    cr_assert_eq(dtx_client_next_server_seq(C), 6);
}

Test(client_flow, duplicates_are_dropped)
{
    handshake(1);
    send_report(1);
    send_report(2);
    send_sequence(1); /* the server repeats itself */
    send_report(1);
    send_report(2);
    send_report(3);
    pump_until_delivered(3);
    dtx_client_stats st;
    dtx_client_stats_get(C, &st);
    cr_assert_eq(st.duplicates, 2);
    cr_assert_eq(delivered[2], 3);
}

Test(client_flow, a_server_terminate_is_answered_and_closes)
{
    handshake(1);
    dtx_fixp_terminate t = {.code = 1, .reason = "keepalive", .reason_length = 9};
    memcpy(t.session_id, dtx_client_session_id(C), 16);
    FIXP_SEND(terminate, TERMINATE, &t);
    expect_template(DTX_FIXP_TERMINATE_TEMPLATE_ID);
    cr_assert_eq(dtx_client_get_state(C), DTX_CLIENT_DISCONNECTED);
    cr_assert_eq(dtx_client_fd(C), -1);
    int found = 0;
    for (size_t i = 0; i < nevents; i++)
        if (events[i].type == DTX_CLIENT_EV_TERMINATED) {
            cr_assert_eq(events[i].by_peer, 1);
            cr_assert_eq(events[i].code, 1);
            found = 1;
        }
    cr_assert(found);
}

Test(client_flow, a_framing_error_from_the_server_is_answered_with_terminate)
{
    handshake(1);
    const uint8_t bad[14] = {0, 0, 0, 14, 0xAB, 0xCD}; /* encoding type not 0xEB50 */
    server_send(bad, sizeof bad);
    uint8_t buf[4096];
    dtx_frame f = server_read(buf);
    cr_assert_eq(f.template_id, DTX_FIXP_TERMINATE_TEMPLATE_ID);
    dtx_fixp_terminate t;
    cr_assert_geq(dtx_fixp_terminate_decode(f.body, f.body_len, f.block_length, 0, &t), 0);
    cr_assert_eq(t.code, 1, "UnspecifiedError");
    cr_assert_eq(dtx_client_get_state(C), DTX_CLIENT_DISCONNECTED);
    cr_assert_eq(events[nevents - 1].type, DTX_CLIENT_EV_DISCONNECTED);
}
