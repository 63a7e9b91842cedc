/*
 * client.c - the FIXP 1.1 order-entry client (dtx/client.h): what a market
 * maker links to talk to dtx-engine.
 *
 * The mirror of fixp_session.c on the other end of the socket: a
 * non-blocking TCP connection, SOFH frames read with the same stream reader
 * (sofh_sbe.c), credentials built with the same digest
 * (fixp_credentials.c), messages encoded and decoded with the generated SBE
 * codecs. It owns its socket and reads the clocks (CLOCK_REALTIME for
 * credential and request Timestamps, CLOCK_MONOTONIC for timers).
 *
 * Invariants:
 *  - every application message written carries the number the server will
 *    give it: when the next number to write is not the one the server
 *    expects from the wire (first message after Establish, a resend, a
 *    skip), a Sequence is written first;
 *  - every report is delivered once, in server order: numbers below the
 *    expected one are dropped, numbers above it start (at most one
 *    outstanding) RetransmitRequest and are dropped until the gap is filled;
 *  - no second RetransmitRequest is sent while one is being answered (the
 *    server would terminate the session).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


#include "dtx/client.h"
#include "dtx/fixp_2748.h"
#include "dtx/fixp_credentials.h"
#include "dtx/sofh.h"

#define NS_PER_MS 1000000ull
#define RETRANSMIT_MAX 10000u
#define SLOT_BYTES 96u /* a kept application frame: SOFH + header + body */
#define APP_BODY_MAX 256u
#define TERMINATE_WAIT_MS 1000u
#define READ_CHUNK 65536u
#define READS_PER_POLL 8
#define FLOW_IDEMPOTENT 1u
#define TERM_FINISHED 0u
#define TERM_UNSPECIFIED 1u

struct dtx_client {
    dtx_client_config cfg;
    dtx_client_callbacks cb;
    char host[256];
    uint8_t pubkey[33];
    int fd;
    uint32_t gen; /* connection generation: bumped at every connect and close */
    dtx_client_state state;
    int negotiated;
    uint64_t last_establish_ts;
    uint64_t state_since; /* monotonic ns */
    uint64_t last_sent;   /* monotonic ns of the last frame written */
    uint64_t last_heard;  /* monotonic ns of the last frame read */
    uint32_t server_keepalive_ms;
    /* client flow */
    uint64_t next_seq;  /* next number to assign */
    uint64_t wire_next; /* number the server gives the next message written; 0 unknown */
    uint8_t *store;     /* store_depth slots of SLOT_BYTES */
    uint8_t *store_len; /* frame length per slot, 0 = not kept */
    /* server flow */
    uint64_t rx_next;   /* number of the next application message read */
    uint64_t expected;  /* next number to deliver */
    uint64_t hint;      /* highest known server next number */
    int rr_active;      /* a RetransmitRequest is outstanding */
    uint64_t rr_from;
    uint32_t rr_count;
    uint32_t rr_left;   /* messages left in the current batch */
    /* I/O */
    dtx_sofh_reader rd;
    uint8_t *out;
    size_t out_len;
    uint8_t *in;
    dtx_client_stats st;
};

/* ---- clocks and small helpers ------------------------------------------------- */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void set_state(dtx_client *c, dtx_client_state s)
{
    c->state = s;
    c->state_since = mono_ns();
}

static void emit(dtx_client *c, const dtx_client_event *e)
{
    if (c->cb.on_session)
        c->cb.on_session(c->cb.ctx, c, e);
}

static void emit_simple(dtx_client *c, dtx_client_event_type t, uint64_t from, uint32_t count,
                        const char *reason)
{
    dtx_client_event e = {.type = t, .from_seq = from, .count = count, .reason = reason,
                          .reason_length = reason ? (uint16_t)strlen(reason) : 0};
    emit(c, &e);
}

/* ---- create / destroy ------------------------------------------------------- */

dtx_client *dtx_client_create(const dtx_client_config *config, const dtx_client_callbacks *callbacks)
{
    dtx_client *c;
    uint8_t probe[DTX_FIXP_CREDENTIALS_LEN], zero[16] = {0};

    if (!config) {
        dtx_error_set(DTX_EINVAL, "client: config is NULL");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        dtx_error_set(DTX_ENOMEM, "client: out of memory");
        return NULL;
    }
    c->cfg = *config;
    if (callbacks)
        c->cb = *callbacks;
    snprintf(c->host, sizeof c->host, "%s", config->host ? config->host : "127.0.0.1");
    c->cfg.host = c->host;
    if (!c->cfg.port)
        c->cfg.port = 7001;
    if (!c->cfg.keepalive_ms)
        c->cfg.keepalive_ms = 1000;
    if (!c->cfg.handshake_timeout_ms)
        c->cfg.handshake_timeout_ms = 5000;
    if (!c->cfg.store_depth)
        c->cfg.store_depth = 1024;
    if (!c->cfg.out_buffer_bytes)
        c->cfg.out_buffer_bytes = 262144;
    c->fd = -1;
    if (c->cfg.keepalive_ms < 100 || c->cfg.keepalive_ms > 60000) {
        dtx_error_set(DTX_EINVAL, "client: keepalive_ms %u outside 100..60000", c->cfg.keepalive_ms);
        goto fail;
    }
    if (c->cfg.store_depth & (c->cfg.store_depth - 1)) {
        dtx_error_set(DTX_EINVAL, "client: store_depth %u is not a power of two", c->cfg.store_depth);
        goto fail;
    }
    if (c->cfg.out_buffer_bytes < 4096) {
        dtx_error_set(DTX_EINVAL, "client: out_buffer_bytes %u below 4096", c->cfg.out_buffer_bytes);
        goto fail;
    }
    if (memcmp(c->cfg.session_id, zero, 16) == 0) {
        if (getrandom(c->cfg.session_id, 16, 0) != 16) {
            dtx_error_set(DTX_EIO, "client: getrandom: %s", strerror(errno));
            goto fail;
        }
        c->cfg.session_id[6] = (uint8_t)((c->cfg.session_id[6] & 0x0f) | 0x40); /* UUID v4 */
        c->cfg.session_id[8] = (uint8_t)((c->cfg.session_id[8] & 0x3f) | 0x80);
    }
    if (dtx_fixp_credentials_sign(c->cfg.seckey, DTX_FIXP_TAG_NEGOTIATE, c->cfg.session_id, 0,
                                  probe) != DTX_OK)
        goto fail;
    memcpy(c->pubkey, probe, 33);
    c->store = calloc(c->cfg.store_depth, SLOT_BYTES);
    c->store_len = calloc(c->cfg.store_depth, 1);
    c->out = malloc(c->cfg.out_buffer_bytes);
    c->in = malloc(READ_CHUNK);
    if (!c->store || !c->store_len || !c->out || !c->in) {
        dtx_error_set(DTX_ENOMEM, "client: out of memory");
        goto fail;
    }
    c->negotiated = c->cfg.negotiated != 0;
    c->next_seq = c->cfg.next_seq ? c->cfg.next_seq : 1;
    c->expected = c->cfg.next_server_seq ? c->cfg.next_server_seq : 1;
    c->rx_next = c->expected;
    c->hint = c->expected;
    dtx_sofh_reader_init(&c->rd);
    return c;
fail:
    dtx_client_destroy(c);
    return NULL;
}

static void close_fd(dtx_client *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->gen++;
    }
    c->fd = -1;
    c->out_len = 0;
    c->wire_next = 0;
    c->rr_active = 0;
    c->rr_left = 0;
    dtx_sofh_reader_init(&c->rd);
}

void dtx_client_destroy(dtx_client *c)
{
    if (!c)
        return;
    close_fd(c);
    free(c->store);
    free(c->store_len);
    free(c->out);
    free(c->in);
    free(c);
}

/* The connection ended: state DISCONNECTED, one event. */
static void drop(dtx_client *c, const char *why)
{
    int was = c->state;
    close_fd(c);
    set_state(c, DTX_CLIENT_DISCONNECTED);
    if (was != DTX_CLIENT_DISCONNECTED)
        emit_simple(c, DTX_CLIENT_EV_DISCONNECTED, 0, 0, why);
}

/* ---- output ----------------------------------------------------------------- */

static void flush(dtx_client *c)
{
    size_t off = 0;
    while (off < c->out_len) {
        ssize_t n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        memmove(c->out, c->out + off, c->out_len - off);
        c->out_len -= off;
        drop(c, n < 0 ? strerror(errno) : "send returned 0");
        return;
    }
    memmove(c->out, c->out + off, c->out_len - off);
    c->out_len -= off;
}

/* Room for n more bytes of output (after a flush when needed). */
static int out_room(dtx_client *c, size_t n)
{
    if (c->fd < 0)
        return 0;
    if (c->out_len + n > c->cfg.out_buffer_bytes && c->state != DTX_CLIENT_CONNECTING)
        flush(c);
    return c->fd >= 0 && c->out_len + n <= c->cfg.out_buffer_bytes;
}

/* Appends one frame (already SOFH-framed) to the output. */
static void out_put(dtx_client *c, const uint8_t *frame, size_t n)
{
    memcpy(c->out + c->out_len, frame, n);
    c->out_len += n;
    c->last_sent = mono_ns();
}

/* Builds a session frame: body encoded by the generated codec at buf + 14. */
#define FIXP_FRAME(BUF, SNAKE, UPPER, M)                                                         \
    ({                                                                                          \
        ptrdiff_t len_ = dtx_fixp_##SNAKE##_encode((BUF) + 14, sizeof(BUF) - 14, (M));         \
        len_ < 0 ? 0u                                                                           \
                 : dtx_sofh_put_headers((BUF), (uint32_t)len_, DTX_FIXP_##UPPER##_BLOCK_LENGTH, \
                                        DTX_FIXP_##UPPER##_TEMPLATE_ID, DTX_SCHEMA_FIXP, 0);    \
    })

static int put_session_frame(dtx_client *c, const uint8_t *buf, uint32_t n)
{
    if (!n || !out_room(c, n))
        return 0;
    out_put(c, buf, n);
    return 1;
}

static int send_sequence(dtx_client *c, uint64_t next)
{
    uint8_t buf[64];
    dtx_fixp_sequence m = {.next_seq_no = next};
    if (!put_session_frame(c, buf, FIXP_FRAME(buf, sequence, SEQUENCE, &m)))
        return 0;
    c->wire_next = next;
    return 1;
}

static int send_terminate(dtx_client *c, uint8_t code, const char *reason)
{
    uint8_t buf[256];
    dtx_fixp_terminate m = {.code = code, .reason = reason,
                            .reason_length = (uint16_t)(reason ? strlen(reason) : 0)};
    memcpy(m.session_id, c->cfg.session_id, 16);
    return put_session_frame(c, buf, FIXP_FRAME(buf, terminate, TERMINATE, &m));
}

static uint64_t credential_ts(const dtx_client *c)
{
    return (uint64_t)((int64_t)real_ns() + c->cfg.credential_time_offset_ns);
}

static int send_negotiate(dtx_client *c)
{
    uint8_t buf[256], cred[DTX_FIXP_CREDENTIALS_LEN];
    dtx_fixp_negotiate m = {.timestamp = credential_ts(c), .client_flow = FLOW_IDEMPOTENT,
                            .credentials = cred, .credentials_length = sizeof cred};
    memcpy(m.session_id, c->cfg.session_id, 16);
    if (dtx_fixp_credentials_sign(c->cfg.seckey, DTX_FIXP_TAG_NEGOTIATE, m.session_id,
                                  m.timestamp, cred) != DTX_OK)
        return 0;
    if (c->cfg.corrupt_signature)
        cred[40] ^= 0x01;
    return put_session_frame(c, buf, FIXP_FRAME(buf, negotiate, NEGOTIATE, &m));
}

static int send_establish(dtx_client *c)
{
    uint8_t buf[256], cred[DTX_FIXP_CREDENTIALS_LEN];
    uint64_t ts = credential_ts(c);
    /* Timestamp must exceed the last accepted Establish's (with the offset a
     * test sets, it may not: that is the stale-Timestamp test). */
    if (c->cfg.credential_time_offset_ns == 0 && ts <= c->last_establish_ts)
        ts = c->last_establish_ts + 1;
    dtx_fixp_establish m = {.timestamp = ts, .keepalive_interval = c->cfg.keepalive_ms,
                            .next_seq_no = DTX_FIXP_ESTABLISH_NEXT_SEQ_NO_NULL,
                            .credentials = cred, .credentials_length = sizeof cred};
    memcpy(m.session_id, c->cfg.session_id, 16);
    if (dtx_fixp_credentials_sign(c->cfg.seckey, DTX_FIXP_TAG_ESTABLISH, m.session_id,
                                  m.timestamp, cred) != DTX_OK)
        return 0;
    if (c->cfg.corrupt_signature)
        cred[40] ^= 0x01;
    c->last_establish_ts = ts;
    return put_session_frame(c, buf, FIXP_FRAME(buf, establish, ESTABLISH, &m));
}

/* Asks for [expected, hint) (at most 10000) unless a request is outstanding. */
static void maybe_request(dtx_client *c)
{
    uint8_t buf[128];
    if (c->rr_active || c->state != DTX_CLIENT_ESTABLISHED || c->hint <= c->expected)
        return;
    uint64_t n = c->hint - c->expected;
    dtx_fixp_retransmit_request m = {.timestamp = real_ns(), .from_seq_no = c->expected,
                                     .count = (uint32_t)(n > RETRANSMIT_MAX ? RETRANSMIT_MAX : n)};
    memcpy(m.session_id, c->cfg.session_id, 16);
    if (!put_session_frame(c, buf, FIXP_FRAME(buf, retransmit_request, RETRANSMIT_REQUEST, &m)))
        return;
    c->rr_active = 1;
    c->rr_from = m.from_seq_no;
    c->rr_count = m.count;
    c->st.retransmit_requests++;
    emit_simple(c, DTX_CLIENT_EV_RETRANSMIT_REQUESTED, m.from_seq_no, m.count, NULL);
}

/* ---- connect ------------------------------------------------------------------ */

dtx_status dtx_client_connect(dtx_client *c)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
    char port[8];
    int fd = -1, one = 1, rc;

    if (c->fd >= 0)
        return dtx_error_set(DTX_EINVAL, "client: a connection is already open (%s)",
                             dtx_client_state_name(c->state));
    snprintf(port, sizeof port, "%u", c->cfg.port);
    rc = getaddrinfo(c->host, port, &hints, &res);
    if (rc != 0)
        return dtx_error_set(DTX_EIO, "client: cannot resolve %s: %s", c->host, gai_strerror(rc));
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return dtx_error_set(DTX_EIO, "client: cannot connect to %s:%u: %s", c->host, c->cfg.port,
                             strerror(errno));
    c->fd = fd;
    c->gen++;
    c->out_len = 0;
    c->wire_next = 0;
    c->rr_active = 0;
    c->rr_left = 0;
    dtx_sofh_reader_init(&c->rd);
    c->last_heard = c->last_sent = mono_ns();
    c->st.connects++;
    set_state(c, DTX_CLIENT_CONNECTING);
    return DTX_OK;
}

/* The TCP connect finished: start the handshake. */
static void on_connected(dtx_client *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        drop(c, strerror(err ? err : errno));
        return;
    }
    if (!c->negotiated) {
        set_state(c, DTX_CLIENT_NEGOTIATING);
        if (!send_negotiate(c))
            drop(c, "cannot sign Negotiate");
    } else {
        set_state(c, DTX_CLIENT_ESTABLISHING);
        if (!send_establish(c))
            drop(c, "cannot sign Establish");
    }
}

/* ---- input ------------------------------------------------------------------------ */

/* Accounts for one message of the server flow. Returns 1 to deliver it. */
static int server_seq(dtx_client *c, uint64_t *seq, uint8_t *retrans)
{
    uint64_t k = c->rx_next++;
    *seq = k;
    *retrans = c->rr_left > 0;
    if (c->rr_left && --c->rr_left == 0)
        c->rr_active = 0;
    if (k + 1 > c->hint)
        c->hint = k + 1;
    if (k < c->expected) {
        c->st.duplicates++;
        return 0;
    }
    if (k > c->expected) {
        c->st.out_of_order++;
        maybe_request(c);
        return 0;
    }
    c->expected++;
    if (!c->rr_active)
        maybe_request(c); /* a batch just ended short of what is known */
    return 1;
}

#define DECODE(SNAKE, FIELD)                                                                   \
    (dtx_sbe_##SNAKE##_decode(f->body, f->body_len, f->block_length, f->version, &r.u.FIELD) >= 0)

static void on_app(dtx_client *c, const dtx_frame *f)
{
    dtx_client_report r;
    int ok;
    memset(&r, 0, sizeof r);
    if (!server_seq(c, &r.seq, &r.retransmitted))
        return;
    r.template_id = f->template_id;
    switch (f->template_id) {
    case DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID: ok = DECODE(execution_report_new, er_new); break;
    case DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID: ok = DECODE(execution_report_trade, trade); break;
    case DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID:
        ok = DECODE(execution_report_canceled, canceled);
        break;
    case DTX_SBE_EXECUTION_REPORT_REPLACED_TEMPLATE_ID:
        ok = DECODE(execution_report_replaced, replaced);
        break;
    case DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID: ok = DECODE(execution_report_reject, reject); break;
    case DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID: ok = DECODE(order_cancel_reject, cancel_reject); break;
    case DTX_SBE_ORDER_MASS_CANCEL_REPORT_TEMPLATE_ID:
        ok = DECODE(order_mass_cancel_report, mass_cancel);
        break;
    case DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID:
        ok = DECODE(business_message_reject, business_reject);
        break;
    /* answers to role messages (docs/admin.md) */
    case DTX_SBE_ADMIN_ACK_TEMPLATE_ID: ok = DECODE(admin_ack, admin_ack); break;
    case DTX_SBE_ADMIN_REJECT_TEMPLATE_ID: ok = DECODE(admin_reject, admin_reject); break;
    case DTX_SBE_ACCOUNT_REPORT_TEMPLATE_ID: ok = DECODE(account_report, account_report); break;
    case DTX_SBE_POSITION_REPORT_TEMPLATE_ID: ok = DECODE(position_report, position_report); break;
    case DTX_SBE_SESSION_REPORT_TEMPLATE_ID: ok = DECODE(session_report, session_report); break;
    case DTX_SBE_LIMIT_REPORT_TEMPLATE_ID: ok = DECODE(limit_report, limit_report); break;
    case DTX_SBE_INSTRUMENT_RISK_REPORT_TEMPLATE_ID:
        ok = DECODE(instrument_risk_report, risk_report);
        break;
    default: ok = 0; break;
    }
    if (!ok)
        return; /* a template this client does not know: numbered, not delivered */
    c->st.reports++;
    if (r.retransmitted)
        c->st.retransmitted++;
    if (c->cb.on_report)
        c->cb.on_report(c->cb.ctx, c, &r);
}

static void on_established(dtx_client *c, const dtx_fixp_establishment_ack *m)
{
    set_state(c, DTX_CLIENT_ESTABLISHED);
    c->server_keepalive_ms = m->keepalive_interval ? m->keepalive_interval : c->cfg.keepalive_ms;
    c->rx_next = m->next_seq_no;
    if (m->next_seq_no > c->hint)
        c->hint = m->next_seq_no;
    dtx_client_event e = {.type = DTX_CLIENT_EV_ESTABLISHED, .seq = m->next_seq_no,
                          .count = c->server_keepalive_ms};
    emit(c, &e);
    if (c->state != DTX_CLIENT_ESTABLISHED)
        return;
    send_sequence(c, c->next_seq);
    maybe_request(c);
}

static void on_fixp(dtx_client *c, const dtx_frame *f)
{
    const uint8_t *b = f->body;
    uint32_t n = f->body_len;
    uint16_t bl = f->block_length, v = f->version;
    dtx_client_event e = {0};

    switch (f->template_id) {
    case DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID: {
        dtx_fixp_negotiation_response m;
        if (dtx_fixp_negotiation_response_decode(b, n, bl, v, &m) < 0 ||
            c->state != DTX_CLIENT_NEGOTIATING)
            break;
        c->negotiated = 1;
        emit_simple(c, DTX_CLIENT_EV_NEGOTIATED, 0, 0, NULL);
        if (c->state != DTX_CLIENT_NEGOTIATING)
            break;
        set_state(c, DTX_CLIENT_ESTABLISHING);
        if (!send_establish(c))
            drop(c, "cannot sign Establish");
        break;
    }
    case DTX_FIXP_NEGOTIATION_REJECT_TEMPLATE_ID: {
        dtx_fixp_negotiation_reject m;
        if (dtx_fixp_negotiation_reject_decode(b, n, bl, v, &m) < 0)
            break;
        e = (dtx_client_event){.type = DTX_CLIENT_EV_NEGOTIATION_REJECTED, .code = m.code,
                               .reason = m.reason, .reason_length = m.reason_length};
        emit(c, &e);
        drop(c, "NegotiationReject");
        break;
    }
    case DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID: {
        dtx_fixp_establishment_ack m;
        if (dtx_fixp_establishment_ack_decode(b, n, bl, v, &m) >= 0 &&
            c->state == DTX_CLIENT_ESTABLISHING)
            on_established(c, &m);
        break;
    }
    case DTX_FIXP_ESTABLISHMENT_REJECT_TEMPLATE_ID: {
        dtx_fixp_establishment_reject m;
        if (dtx_fixp_establishment_reject_decode(b, n, bl, v, &m) < 0)
            break;
        e = (dtx_client_event){.type = DTX_CLIENT_EV_ESTABLISHMENT_REJECTED, .code = m.code,
                               .reason = m.reason, .reason_length = m.reason_length};
        emit(c, &e);
        drop(c, "EstablishmentReject");
        break;
    }
    case DTX_FIXP_SEQUENCE_TEMPLATE_ID: {
        dtx_fixp_sequence m;
        if (dtx_fixp_sequence_decode(b, n, bl, v, &m) < 0)
            break;
        c->rx_next = m.next_seq_no;
        if (c->rr_left) { /* a Sequence ends a batch, even one cut short */
            c->rr_left = 0;
            c->rr_active = 0;
        }
        if (m.next_seq_no > c->hint)
            c->hint = m.next_seq_no;
        maybe_request(c);
        break;
    }
    case DTX_FIXP_RETRANSMISSION_TEMPLATE_ID: {
        dtx_fixp_retransmission m;
        if (dtx_fixp_retransmission_decode(b, n, bl, v, &m) < 0)
            break;
        c->rx_next = m.next_seq_no;
        c->rr_left = m.count;
        if (!m.count)
            c->rr_active = 0;
        emit_simple(c, DTX_CLIENT_EV_RETRANSMISSION, m.next_seq_no, m.count, NULL);
        break;
    }
    case DTX_FIXP_RESTRANSMIT_REJECT_TEMPLATE_ID: {
        dtx_fixp_restransmit_reject m;
        if (dtx_fixp_restransmit_reject_decode(b, n, bl, v, &m) < 0)
            break;
        /* The range cannot be had: give it up so the flow goes on. */
        e = (dtx_client_event){.type = DTX_CLIENT_EV_RETRANSMIT_REJECTED, .code = m.code,
                               .from_seq = c->rr_from, .count = c->rr_count,
                               .reason = m.reason, .reason_length = m.reason_length};
        if (c->rr_active && c->rr_from + c->rr_count > c->expected)
            c->expected = c->rr_from + c->rr_count;
        c->rr_active = 0;
        emit(c, &e);
        maybe_request(c);
        break;
    }
    case DTX_FIXP_NOT_APPLIED_TEMPLATE_ID: {
        dtx_fixp_not_applied m;
        uint8_t retrans;
        uint64_t seq;
        if (dtx_fixp_not_applied_decode(b, n, bl, v, &m) < 0 || !server_seq(c, &seq, &retrans))
            break;
        c->st.not_applied++;
        e = (dtx_client_event){.type = DTX_CLIENT_EV_NOT_APPLIED, .seq = seq,
                               .from_seq = m.from_seq_no, .count = m.count};
        emit(c, &e);
        break;
    }
    case DTX_FIXP_TERMINATE_TEMPLATE_ID: {
        dtx_fixp_terminate m;
        if (dtx_fixp_terminate_decode(b, n, bl, v, &m) < 0)
            break;
        int by_peer = c->state != DTX_CLIENT_TERMINATING;
        if (by_peer) {
            send_terminate(c, TERM_FINISHED, NULL);
            flush(c);
        }
        e = (dtx_client_event){.type = DTX_CLIENT_EV_TERMINATED, .code = m.code,
                               .by_peer = (uint8_t)by_peer, .reason = m.reason,
                               .reason_length = m.reason_length};
        close_fd(c);
        set_state(c, DTX_CLIENT_DISCONNECTED);
        emit(c, &e);
        break;
    }
    default:
        break; /* templates a server does not send: ignored */
    }
}

/* Handles the frames in data[0..len). Returns frames handled. */
static int on_bytes(dtx_client *c, const uint8_t *data, size_t len)
{
    int frames = 0;
    uint32_t gen = c->gen; /* bytes of this connection only, even if a
                              callback closes and reconnects */
    char reason[DTX_SOFH_REASON_MAX];
    while (c->fd >= 0 && c->gen == gen) {
        dtx_frame f;
        size_t used = 0;
        int rc = dtx_sofh_reader_peek(&c->rd, data, len, &f, &used, reason);
        if (rc == 0)
            break;
        if (rc < 0) {
            send_terminate(c, TERM_UNSPECIFIED, reason);
            flush(c);
            drop(c, reason);
            break;
        }
        frames++;
        c->last_heard = mono_ns();
        if (f.schema_id == DTX_SCHEMA_FIXP)
            on_fixp(c, &f);
        else if (c->state == DTX_CLIENT_ESTABLISHED || c->state == DTX_CLIENT_TERMINATING)
            on_app(c, &f);
        if (c->gen != gen)
            break;
        dtx_sofh_reader_consume(&c->rd);
        data += used;
        len -= used;
    }
    return frames;
}

static void timers(dtx_client *c)
{
    uint64_t now = mono_ns();
    switch (c->state) {
    case DTX_CLIENT_CONNECTING:
    case DTX_CLIENT_NEGOTIATING:
    case DTX_CLIENT_ESTABLISHING:
        if (now - c->state_since > (uint64_t)c->cfg.handshake_timeout_ms * NS_PER_MS)
            drop(c, "handshake timeout");
        break;
    case DTX_CLIENT_ESTABLISHED:
        if (now - c->last_heard > 3ull * c->server_keepalive_ms * NS_PER_MS) {
            send_terminate(c, TERM_UNSPECIFIED, "keepalive");
            flush(c);
            drop(c, "keepalive timeout");
            break;
        }
        if (now - c->last_sent >= (uint64_t)c->cfg.keepalive_ms * NS_PER_MS)
            send_sequence(c, c->next_seq);
        break;
    case DTX_CLIENT_TERMINATING:
        if (now - c->state_since > TERMINATE_WAIT_MS * NS_PER_MS)
            drop(c, "no answer to Terminate");
        break;
    default:
        break;
    }
}

int dtx_client_poll(dtx_client *c)
{
    int frames = 0;
    if (c->fd < 0)
        return 0;
    if (c->state == DTX_CLIENT_CONNECTING) {
        struct pollfd p = {.fd = c->fd, .events = POLLOUT};
        if (poll(&p, 1, 0) > 0)
            on_connected(c);
    }
    for (int i = 0; i < READS_PER_POLL && c->fd >= 0 && c->state != DTX_CLIENT_CONNECTING; i++) {
        ssize_t n = recv(c->fd, c->in, READ_CHUNK, MSG_DONTWAIT);
        if (n > 0) {
            frames += on_bytes(c, c->in, (size_t)n);
            if ((size_t)n < READ_CHUNK)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        drop(c, n == 0 ? "connection closed by the server" : strerror(errno));
        break;
    }
    if (c->fd >= 0)
        timers(c);
    if (c->fd >= 0 && c->out_len && c->state != DTX_CLIENT_CONNECTING)
        flush(c);
    return frames;
}

/* ---- application messages ------------------------------------------------------ */

/* Frames an application body, numbers it, keeps it and writes it. */
static dtx_status send_app(dtx_client *c, uint16_t tid, uint16_t block_length, const uint8_t *body,
                           size_t body_len, uint64_t *seq)
{
    uint8_t frame[14 + APP_BODY_MAX];
    if (c->state != DTX_CLIENT_ESTABLISHED)
        return dtx_error_set(DTX_EINVAL, "client: not established (%s)",
                             dtx_client_state_name(c->state));
    if (body_len > APP_BODY_MAX)
        return dtx_error_set(DTX_EINVAL, "client: body of %zu bytes over %u", body_len, APP_BODY_MAX);
    memcpy(frame + 14, body, body_len);
    uint32_t n = dtx_sofh_put_headers(frame, (uint32_t)body_len, block_length, tid, DTX_SCHEMA_APP, 1);
    uint64_t s = c->next_seq;
    size_t need = n + (c->wire_next != s ? 22u : 0u);
    if (!out_room(c, need))
        return c->fd < 0 ? dtx_error_set(DTX_EIO, "client: the connection ended")
                         : dtx_error_set(DTX_EFULL, "client: output buffer full");
    if (c->wire_next != s)
        send_sequence(c, s);
    out_put(c, frame, n);
    c->wire_next = s + 1;
    c->next_seq = s + 1;
    uint32_t slot = (uint32_t)(s & (c->cfg.store_depth - 1));
    if (n <= SLOT_BYTES) {
        memcpy(c->store + (size_t)slot * SLOT_BYTES, frame, n);
        c->store_len[slot] = (uint8_t)n;
    } else {
        c->store_len[slot] = 0;
    }
    c->st.app_sent++;
    if (seq)
        *seq = s;
    if (!c->cfg.batch_output)
        flush(c);
    if (c->fd < 0) /* numbered and kept: dtx_client_resend() after the reconnect */
        return dtx_error_set(DTX_EIO, "client: the connection ended while sending %llu",
                             (unsigned long long)s);
    return DTX_OK;
}

#define SEND_MSG(SNAKE, UPPER)                                                                   \
    do {                                                                                         \
        uint8_t body_[APP_BODY_MAX];                                                             \
        ptrdiff_t len_ = dtx_sbe_##SNAKE##_encode(body_, sizeof body_, m);                       \
        if (len_ < 0)                                                                            \
            return dtx_error_set(DTX_EINVAL, "client: cannot encode " #SNAKE);                   \
        return send_app(c, DTX_SBE_##UPPER##_TEMPLATE_ID, DTX_SBE_##UPPER##_BLOCK_LENGTH, body_, \
                        (size_t)len_, seq);                                                      \
    } while (0)

dtx_status dtx_client_new_order(dtx_client *c, const dtx_sbe_new_order_single *m, uint64_t *seq)
{
    SEND_MSG(new_order_single, NEW_ORDER_SINGLE);
}

dtx_status dtx_client_cancel(dtx_client *c, const dtx_sbe_order_cancel_request *m, uint64_t *seq)
{
    SEND_MSG(order_cancel_request, ORDER_CANCEL_REQUEST);
}

dtx_status dtx_client_replace(dtx_client *c, const dtx_sbe_order_cancel_replace_request *m,
                              uint64_t *seq)
{
    SEND_MSG(order_cancel_replace_request, ORDER_CANCEL_REPLACE_REQUEST);
}

dtx_status dtx_client_mass_cancel(dtx_client *c, const dtx_sbe_order_mass_cancel_request *m,
                                  uint64_t *seq)
{
    SEND_MSG(order_mass_cancel_request, ORDER_MASS_CANCEL_REQUEST);
}

dtx_status dtx_client_send_app(dtx_client *c, uint16_t template_id, uint16_t block_length,
                               const uint8_t *body, size_t body_len, uint64_t *seq)
{
    return send_app(c, template_id, block_length, body, body_len, seq);
}

dtx_status dtx_client_resend(dtx_client *c, uint64_t from_seq)
{
    size_t need = 22;
    if (c->state != DTX_CLIENT_ESTABLISHED)
        return dtx_error_set(DTX_EINVAL, "client: not established (%s)",
                             dtx_client_state_name(c->state));
    if (from_seq == 0 || from_seq >= c->next_seq || c->next_seq - from_seq > c->cfg.store_depth)
        return dtx_error_set(DTX_EINVAL, "client: message %llu is not kept (next %llu, depth %u)",
                             (unsigned long long)from_seq, (unsigned long long)c->next_seq,
                             c->cfg.store_depth);
    for (uint64_t s = from_seq; s < c->next_seq; s++) {
        uint32_t slot = (uint32_t)(s & (c->cfg.store_depth - 1));
        if (!c->store_len[slot])
            return dtx_error_set(DTX_EINVAL, "client: message %llu was not kept",
                                 (unsigned long long)s);
        need += c->store_len[slot];
    }
    if (!out_room(c, need + 22))
        return dtx_error_set(DTX_EFULL, "client: output buffer full");
    send_sequence(c, from_seq);
    for (uint64_t s = from_seq; s < c->next_seq; s++) {
        uint32_t slot = (uint32_t)(s & (c->cfg.store_depth - 1));
        out_put(c, c->store + (size_t)slot * SLOT_BYTES, c->store_len[slot]);
        c->st.app_sent++;
    }
    c->wire_next = c->next_seq;
    flush(c);
    return DTX_OK;
}

dtx_status dtx_client_flush(dtx_client *c)
{
    if (c->fd >= 0 && c->out_len && c->state != DTX_CLIENT_CONNECTING)
        flush(c);
    return c->fd < 0 ? dtx_error_set(DTX_EIO, "client: no connection") : DTX_OK;
}

void dtx_client_skip(dtx_client *c, uint64_t count)
{
    for (uint64_t i = 0; i < count && i < c->cfg.store_depth; i++)
        c->store_len[(c->next_seq + i) & (c->cfg.store_depth - 1)] = 0;
    c->next_seq += count;
}

dtx_status dtx_client_terminate(dtx_client *c)
{
    if (c->state != DTX_CLIENT_ESTABLISHED)
        return dtx_error_set(DTX_EINVAL, "client: not established (%s)",
                             dtx_client_state_name(c->state));
    if (!send_terminate(c, TERM_FINISHED, NULL))
        return dtx_error_set(DTX_EFULL, "client: output buffer full");
    set_state(c, DTX_CLIENT_TERMINATING);
    flush(c);
    return DTX_OK;
}

void dtx_client_disconnect(dtx_client *c)
{
    if (c->fd >= 0)
        drop(c, "closed by the client");
}

/* ---- blocking helpers --------------------------------------------------------- */

int dtx_client_wait(dtx_client *c, int timeout_ms)
{
    if (c->fd < 0)
        return -1;
    struct pollfd p = {.fd = c->fd, .events = dtx_client_poll_events(c)};
    /* wake for the timers too: at most a quarter of the keepalive */
    int cap = (int)(c->cfg.keepalive_ms / 4);
    if (timeout_ms < 0 || timeout_ms > cap)
        timeout_ms = cap;
    if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
        return -1;
    return dtx_client_poll(c);
}

static int64_t ms_left(uint64_t deadline)
{
    uint64_t now = mono_ns();
    return now >= deadline ? 0 : (int64_t)((deadline - now) / NS_PER_MS) + 1;
}

/* Records why a handshake ended, from the event seen. */
typedef struct wait_ctx {
    dtx_client_callbacks inner;
    char why[200];
} wait_ctx;

static void wait_on_session(void *ctx, dtx_client *c, const dtx_client_event *e)
{
    wait_ctx *w = ctx;
    if (e->type == DTX_CLIENT_EV_NEGOTIATION_REJECTED || e->type == DTX_CLIENT_EV_ESTABLISHMENT_REJECTED)
        snprintf(w->why, sizeof w->why, "%s %u: %.*s",
                 e->type == DTX_CLIENT_EV_NEGOTIATION_REJECTED ? "NegotiationReject"
                                                               : "EstablishmentReject",
                 e->code, (int)e->reason_length, e->reason ? e->reason : "");
    else if (e->type == DTX_CLIENT_EV_DISCONNECTED && !w->why[0])
        snprintf(w->why, sizeof w->why, "%.*s", (int)e->reason_length, e->reason ? e->reason : "");
    if (w->inner.on_session)
        w->inner.on_session(w->inner.ctx, c, e);
}

static void wait_on_report(void *ctx, dtx_client *c, const dtx_client_report *r)
{
    wait_ctx *w = ctx;
    if (w->inner.on_report)
        w->inner.on_report(w->inner.ctx, c, r);
}

dtx_status dtx_client_connect_wait(dtx_client *c, int timeout_ms)
{
    dtx_status st = dtx_client_connect(c);
    if (st != DTX_OK)
        return st;
    wait_ctx w = {.inner = c->cb};
    c->cb = (dtx_client_callbacks){.ctx = &w, .on_report = wait_on_report,
                                   .on_session = wait_on_session};
    uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * NS_PER_MS;
    while (c->state != DTX_CLIENT_ESTABLISHED && c->fd >= 0 && ms_left(deadline) > 0)
        dtx_client_wait(c, (int)ms_left(deadline));
    c->cb = w.inner;
    if (c->state == DTX_CLIENT_ESTABLISHED)
        return DTX_OK;
    if (c->fd >= 0)
        drop(c, "handshake timeout");
    return dtx_error_set(DTX_EIO, "client: not established: %s", w.why[0] ? w.why : "timeout");
}

dtx_status dtx_client_terminate_wait(dtx_client *c, int timeout_ms)
{
    dtx_status st = dtx_client_terminate(c);
    if (st != DTX_OK)
        return st;
    uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * NS_PER_MS;
    while (c->fd >= 0 && ms_left(deadline) > 0)
        dtx_client_wait(c, (int)ms_left(deadline));
    if (c->fd >= 0) {
        drop(c, "no answer to Terminate");
        return dtx_error_set(DTX_EIO, "client: no answer to Terminate");
    }
    return DTX_OK;
}

/* ---- accessors ------------------------------------------------------------------ */

int dtx_client_fd(const dtx_client *c) { return c->fd; }

short dtx_client_poll_events(const dtx_client *c)
{
    short ev = POLLIN;
    if (c->state == DTX_CLIENT_CONNECTING || c->out_len)
        ev |= POLLOUT;
    return ev;
}

dtx_client_state dtx_client_get_state(const dtx_client *c) { return c->state; }
const uint8_t *dtx_client_session_id(const dtx_client *c) { return c->cfg.session_id; }
const uint8_t *dtx_client_pubkey(const dtx_client *c) { return c->pubkey; }
uint64_t dtx_client_next_seq(const dtx_client *c) { return c->next_seq; }
uint64_t dtx_client_next_server_seq(const dtx_client *c) { return c->expected; }
void dtx_client_stats_get(const dtx_client *c, dtx_client_stats *out) { *out = c->st; }

const char *dtx_client_state_name(dtx_client_state s)
{
    static const char *const names[] = {"IDLE", "CONNECTING", "NEGOTIATING", "ESTABLISHING",
                                        "ESTABLISHED", "TERMINATING", "DISCONNECTED"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

const char *dtx_client_event_name(dtx_client_event_type t)
{
    static const char *const names[] = {"?", "NEGOTIATED", "NEGOTIATION_REJECTED", "ESTABLISHED",
                                        "ESTABLISHMENT_REJECTED", "NOT_APPLIED",
                                        "RETRANSMIT_REQUESTED", "RETRANSMISSION",
                                        "RETRANSMIT_REJECTED", "TERMINATED", "DISCONNECTED"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}
