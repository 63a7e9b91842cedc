/*
 * gateway_tcp.c - the gateway's TCP transport (dtx/gateway.h) over real
 * loopback sockets, with a small test handler: bytes reach the handler in
 * order and its sends reach the client; core events reach the handler in
 * order; commands reach the command ring, and a full ring stops reading
 * without losing a byte; peer and handler closes; a full table refuses; a
 * thousand concurrent connections on the one gateway thread; shutdown in two
 * steps.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dtx/gateway.h"

/* The handler: echoes what it gets unless told to turn bytes into commands;
 * 'X' makes it close the connection. */
typedef struct th {
    dtx_gateway *gw;
    int to_commands;          /* each byte b becomes a command with clordid b */
    /* 'G' starts a stream of stream_total pattern bytes to that connection,
     * sent as the output buffer takes them (the session layer's contract). */
    size_t stream_total, stream_sent;
    uint32_t stream_conn;
    atomic_uint writable_calls;
    atomic_uint opened, closed, events;
    atomic_ullong last_event_clordid;
    atomic_uint event_order_errors;
    atomic_uint last_closed_conn;
} th;

static int h_open(void *ctx, uint32_t conn, uint64_t now)
{
    (void)conn;
    (void)now;
    atomic_fetch_add(&((th *)ctx)->opened, 1);
    return 0;
}

static uint8_t pattern(size_t i) { return (uint8_t)(i * 7 + i / 251); }

static void stream_more(th *t)
{
    uint8_t chunk[1000];
    while (t->stream_sent < t->stream_total) {
        size_t n = t->stream_total - t->stream_sent, took;
        if (n > sizeof chunk)
            n = sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = pattern(t->stream_sent + i);
        took = dtx_gateway_send(t->gw, t->stream_conn, chunk, n);
        t->stream_sent += took;
        if (took < n)
            return; /* writable() follows when there is room */
    }
}

static void h_writable(void *ctx, uint32_t conn, uint64_t now)
{
    th *t = ctx;
    (void)now;
    atomic_fetch_add(&t->writable_calls, 1);
    if (conn == t->stream_conn)
        stream_more(t);
}

static size_t h_bytes(void *ctx, uint32_t conn, const uint8_t *d, size_t n, uint64_t now)
{
    th *t = ctx;
    (void)now;
    if (n == 1 && d[0] == 'G' && t->stream_total) {
        t->stream_conn = conn;
        stream_more(t);
        return n;
    }
    if (t->to_commands) {
        for (size_t i = 0; i < n; i++) {
            dtx_command c = dtx_command_blank(DTX_CMD_NEW_ORDER);
            c.clordid = d[i];
            c.session = (uint16_t)conn;
            if (dtx_gateway_submit(t->gw, &c) != 0)
                return i;
        }
        return n;
    }
    for (size_t i = 0; i < n; i++) {
        if (d[i] == 'X') {
            dtx_gateway_send(t->gw, conn, (const uint8_t *)"bye", 3);
            dtx_gateway_close(t->gw, conn);
            return n;
        }
    }
    dtx_gateway_send(t->gw, conn, d, n); /* echo (the tests send less than fits) */
    return n;
}

static void h_closed(void *ctx, uint32_t conn, uint64_t now)
{
    th *t = ctx;
    (void)now;
    atomic_store(&t->last_closed_conn, conn);
    atomic_fetch_add(&t->closed, 1);
}

static void h_event(void *ctx, const dtx_event *ev, uint64_t now)
{
    th *t = ctx;
    (void)now;
    if (ev->clordid != atomic_load(&t->last_event_clordid) + 1)
        atomic_fetch_add(&t->event_order_errors, 1);
    atomic_store(&t->last_event_clordid, ev->clordid);
    atomic_fetch_add(&t->events, 1);
}

static th T;
static dtx_ring *cmds, *evs;
static dtx_gateway *gw;
static pthread_t gw_thread;

static void start(uint32_t max_conns, uint32_t cmd_cap, int to_commands)
{
    dtx_gateway_config cfg = {0};
    memset(&T, 0, sizeof T);
    T.to_commands = to_commands;
    cmds = dtx_ring_create(sizeof(dtx_command), cmd_cap, DTX_WAIT_BLOCK);
    evs = dtx_ring_create(sizeof(dtx_event), 1024, DTX_WAIT_BLOCK);
    cr_assert(cmds && evs);
    cfg.listen_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.max_connections = max_conns;
    cfg.in_buffer_bytes = 4096;
    cfg.out_buffer_bytes = 4096;
    cfg.commands = cmds;
    cfg.events = evs;
    cfg.wait = DTX_WAIT_BLOCK;
    cfg.handler = (dtx_gateway_handler){.ctx = &T, .open = h_open, .bytes = h_bytes,
                                        .writable = h_writable, .closed = h_closed,
                                        .event = h_event};
    gw = dtx_gateway_create(&cfg);
    cr_assert_not_null(gw, "%s", dtx_error_message());
    T.gw = gw;
    cr_assert_neq(dtx_gateway_port(gw), 0);
    cr_assert_eq(pthread_create(&gw_thread, NULL, dtx_gateway_run, gw), 0);
}

static void stop(void)
{
    dtx_gateway_stop(gw);
    pthread_join(gw_thread, NULL);
}

static void teardown(void)
{
    dtx_gateway_destroy(gw);
    dtx_ring_destroy(cmds);
    dtx_ring_destroy(evs);
}

TestSuite(gateway_tcp, .fini = teardown, .timeout = 120);

static int client(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(dtx_gateway_port(gw))};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect: %s",
                 strerror(errno));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Reads exactly n bytes (blocking). Returns the count read before EOF. */
static size_t read_n(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void wait_until(atomic_uint *v, unsigned want)
{
    while (atomic_load(v) < want)
        usleep(1000);
}

Test(gateway_tcp, bytes_reach_the_handler_in_order_and_its_sends_reach_the_client)
{
    char out[3000], in[3000];
    start(8, 64, 0);
    int fd = client();
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (char)('a' + i % 23);
    cr_assert_eq(write(fd, out, sizeof out), (ssize_t)sizeof out);
    cr_assert_eq(read_n(fd, in, sizeof in), sizeof in);
    cr_assert_eq(memcmp(in, out, sizeof out), 0);
    cr_assert_eq(atomic_load(&T.opened), 1);
    close(fd);
    wait_until(&T.closed, 1);
    cr_assert_eq(atomic_load(&T.last_closed_conn), 0);
    stop();
    dtx_gateway_stats st;
    dtx_gateway_stats_get(gw, &st);
    cr_assert_eq(st.accepted, 1);
    cr_assert_eq(st.closed, 1);
    cr_assert_eq(st.open, 0);
    cr_assert_eq(st.bytes_in, sizeof out);
    cr_assert_eq(st.bytes_out, sizeof out);
}

Test(gateway_tcp, a_full_output_buffer_takes_less_then_asks_for_more_when_room_returns)
{
    enum { TOTAL = 8 << 20 }; /* far beyond the 4 KiB buffer and the socket's */
    static uint8_t in[TOTAL];
    start(8, 64, 0);
    T.stream_total = TOTAL;
    int fd = client();
    cr_assert_eq(write(fd, "G", 1), 1);
    /* Read nothing until the gateway has found the buffer full. */
    dtx_gateway_stats st;
    do {
        dtx_gateway_stats_get(gw, &st);
    } while (st.out_full == 0);
    cr_assert_eq(read_n(fd, in, TOTAL), TOTAL);
    size_t bad = 0;
    while (bad < TOTAL && in[bad] == pattern(bad))
        bad++;
    cr_assert_eq(bad, TOTAL, "first wrong byte at %zu", bad);
    cr_assert_gt(atomic_load(&T.writable_calls), 0);
    close(fd);
    stop();
    dtx_gateway_stats_get(gw, &st);
    cr_assert_eq(st.bytes_out, TOTAL);
}

Test(gateway_tcp, core_events_reach_the_handler_in_order)
{
    enum { N = 5000 };
    start(8, 64, 0);
    for (uint64_t i = 1; i <= N;) {
        dtx_event e = {.type = DTX_EV_NEW, .clordid = i};
        if (dtx_ring_push(evs, &e, 1) == 1)
            i++;
        else
            dtx_ring_wait_writable(evs, 1, 100);
    }
    wait_until(&T.events, N);
    stop();
    cr_assert_eq(atomic_load(&T.events), N);
    cr_assert_eq(atomic_load(&T.event_order_errors), 0);
    cr_assert_eq(atomic_load(&T.last_event_clordid), N);
}

Test(gateway_tcp, a_full_command_ring_stops_reading_and_loses_nothing)
{
    enum { N = 2000 };
    uint8_t out[N];
    size_t got = 0;
    start(8, 64, 1); /* 64 commands fit; 2000 bytes = 2000 commands */
    int fd = client();
    for (size_t i = 0; i < N; i++)
        out[i] = (uint8_t)(i % 251);
    cr_assert_eq(write(fd, out, N), N);
    /* The "core": wait until the ring is full and the gateway has stalled,
     * then take commands one by one. */
    dtx_gateway_stats st;
    do {
        dtx_gateway_stats_get(gw, &st);
    } while (st.backpressure == 0);
    while (got < N) {
        dtx_command c;
        if (dtx_ring_pop(cmds, &c, 1) == 0) {
            dtx_ring_wait_readable(cmds, 100);
            continue;
        }
        cr_assert_eq(c.clordid, out[got], "command %zu", got);
        got++;
    }
    close(fd);
    stop();
    dtx_gateway_stats_get(gw, &st);
    cr_assert_eq(st.commands, N);
    cr_assert_gt(st.backpressure, 0);
}

Test(gateway_tcp, handler_close_sends_what_was_queued_then_ends_the_connection)
{
    char buf[16];
    start(8, 64, 0);
    int fd = client();
    cr_assert_eq(write(fd, "X", 1), 1);
    cr_assert_eq(read_n(fd, buf, 3), 3);
    cr_assert_eq(memcmp(buf, "bye", 3), 0);
    cr_assert_eq(read(fd, buf, sizeof buf), 0, "EOF after the queued bytes");
    close(fd);
    stop();
    cr_assert_eq(atomic_load(&T.closed), 0, "handler.closed is not called for its own close");
}

Test(gateway_tcp, a_full_table_refuses_the_next_connection)
{
    char buf[4];
    start(2, 64, 0);
    int a = client(), b = client();
    cr_assert_eq(write(a, "1", 1), 1);
    cr_assert_eq(write(b, "2", 1), 1);
    cr_assert_eq(read_n(a, buf, 1), 1);
    cr_assert_eq(read_n(b, buf, 1), 1);
    int c = client();
    cr_assert_eq(read(c, buf, 1), 0, "the third connection is closed at once");
    dtx_gateway_stats st;
    dtx_gateway_stats_get(gw, &st);
    cr_assert_eq(st.refused, 1);
    cr_assert_eq(st.open, 2);
    close(a);
    close(b);
    close(c);
    stop();
}

Test(gateway_tcp, a_thousand_connections_are_served_by_one_gateway_thread)
{
    enum { N = 1000 };
    static int fds[N];
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * N + 64) {
        rl.rlim_cur = rl.rlim_max < 4 * N ? rl.rlim_max : 4 * N;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    cr_assert_geq(rl.rlim_cur, 2 * N + 64, "needs %d file descriptors", 2 * N + 64);
    start(1024, 64, 0);
    for (int i = 0; i < N; i++)
        fds[i] = client();
    for (int i = 0; i < N; i++) {
        char b = (char)('A' + i % 20);
        cr_assert_eq(write(fds[i], &b, 1), 1);
    }
    for (int i = 0; i < N; i++) {
        char b = 0;
        cr_assert_eq(read_n(fds[i], &b, 1), 1, "connection %d", i);
        cr_assert_eq(b, (char)('A' + i % 20), "connection %d", i);
    }
    dtx_gateway_stats st;
    dtx_gateway_stats_get(gw, &st);
    cr_assert_eq(st.open, N);
    cr_assert_eq(st.accepted, N);
    /* Shutdown step 1 ends every connection: the clients see EOF. */
    dtx_gateway_close_input(gw);
    while (!dtx_gateway_input_closed(gw))
        usleep(1000);
    cr_assert_eq(atomic_load(&T.closed), N);
    for (int i = 0; i < N; i++) {
        char b;
        cr_assert_eq(read(fds[i], &b, 1), 0, "connection %d", i);
        close(fds[i]);
    }
    stop();
    dtx_gateway_stats_get(gw, &st);
    cr_assert_eq(st.open, 0);
}

Test(gateway_tcp, stop_delivers_the_events_left_in_the_ring)
{
    start(8, 64, 0);
    dtx_gateway_close_input(gw);
    while (!dtx_gateway_input_closed(gw))
        usleep(1000);
    for (uint64_t i = 1; i <= 100; i++) {
        dtx_event e = {.type = DTX_EV_NEW, .clordid = i};
        cr_assert_eq(dtx_ring_push(evs, &e, 1), 1);
    }
    stop();
    cr_assert_eq(atomic_load(&T.events), 100);
    cr_assert_eq(atomic_load(&T.event_order_errors), 0);
}

Test(gateway_tcp, create_names_the_address_it_could_not_bind)
{
    dtx_gateway_config cfg = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof sa;
    char want[96];
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(fd, 1), 0);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    cmds = dtx_ring_create(sizeof(dtx_command), 64, DTX_WAIT_BLOCK);
    evs = dtx_ring_create(sizeof(dtx_event), 64, DTX_WAIT_BLOCK);
    cfg.listen_addr = "127.0.0.1";
    cfg.port = ntohs(sa.sin_port);
    cfg.max_connections = 4;
    cfg.commands = cmds;
    cfg.events = evs;
    cr_assert_null(dtx_gateway_create(&cfg));
    snprintf(want, sizeof want, "gateway: bind 127.0.0.1:%u: Address already in use",
             ntohs(sa.sin_port));
    cr_assert_str_eq(dtx_error_message(), want);
    close(fd);
}
