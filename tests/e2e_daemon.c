/*
 * e2e_daemon.c - the real dtx-engine binary over real loopback sockets,
 * started and stopped by tests/support/e2e_engine.c (e2e_start: port 0, the
 * port read from its "listening" log line, its own directory): it starts on
 * the embedded default, writes the demo keys file, answers a
 * FIXP Negotiate / Establish / Sequence / NewOrderSingle round trip signed
 * with a key from that file, matches two accounts' orders, rejects through
 * the risk gate an order beyond a demo account's collateral, cancels a
 * dropped connection's orders (read back by retransmission after
 * re-establishing), serves a thousand FIXP sessions at once, runs its threads
 * on the configured CPUs, and exits with
 * status 0 on SIGTERM or SIGINT after its final stats line; a bad
 * configuration stops it with status 1 and a line naming the key, the value
 * and the line.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <secp256k1.h>

#include "dtx/fixp_2748.h"
#include "dtx/keyfile.h"
#include "dtx/sbe_7001.h"
#include "dtx/sofh.h"
#include "dtx/types.h"
#include "support/e2e_engine.h"
#include "support/fixp_harness.h"

#define USD(x) ((int64_t)(x) * 1000000000LL)

/* The engine, started and stopped by tests/support/e2e_engine.c. */
static e2e_engine eng;

static void teardown(void) { e2e_cleanup(&eng); }

TestSuite(e2e_daemon, .fini = teardown, .timeout = 300);

static char *slurp(const char *path)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    size_t n = 0;
    buf[0] = '\0';
    if (f) {
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

static int connect_engine(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(eng.port)};
    struct timeval tv = {.tv_sec = 20};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect: %s",
                 strerror(errno));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* A safety net against a hang, not an assertion on time. */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    cr_assert_eq(write(fd, p, n), (ssize_t)n);
}

/* Reads one whole frame into buf and decodes it. */
static dtx_frame read_frame(int fd, uint8_t *buf)
{
    size_t have = 0, need = 6;
    dtx_frame f;
    char reason[DTX_SOFH_REASON_MAX];
    while (have < need) {
        ssize_t r = read(fd, buf + have, need - have);
        cr_assert_gt(r, 0, "connection ended or timed out while reading a frame");
        have += (size_t)r;
        if (have == 6)
            need = ((size_t)buf[0] << 24) | ((size_t)buf[1] << 16) | ((size_t)buf[2] << 8) | buf[3];
        cr_assert_leq(need, 4096);
    }
    cr_assert_eq(dtx_sofh_decode(buf, have, &f, reason), (int)have, "%s", reason);
    return f;
}

/* Reads frames until one of the application template; Sequence frames may
 * come first. */
static dtx_frame read_app(int fd, uint8_t *buf, uint16_t template_id)
{
    for (;;) {
        dtx_frame f = read_frame(fd, buf);
        if (f.schema_id == DTX_SCHEMA_FIXP && f.template_id == DTX_FIXP_SEQUENCE_TEMPLATE_ID)
            continue;
        cr_assert_eq(f.schema_id, DTX_SCHEMA_APP);
        cr_assert_eq(f.template_id, template_id);
        return f;
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A client with one key of the engine's key file in slot 0 of a harness (only
 * its frame builders and signing are used; no sessions are created). */
static fixp_harness client_keys;

static void load_keys(void)
{
    dtx_key_entry keys[8];
    uint32_t n = 0;
    struct stat sb;
    cr_assert_eq(stat(eng.keys_path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);
    cr_assert_eq(dtx_keyfile_load(eng.keys_path, keys, 8, &n), DTX_OK, "%s", dtx_error_message());
    cr_assert_eq(n, 8, "the embedded default has 4 demo accounts and a key of each other role");
    memset(&client_keys, 0, sizeof client_keys);
    client_keys.secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    for (int i = 0; i < FH_KEYS; i++) {
        cr_assert_eq(keys[i].account, (uint32_t)i + 1);
        memcpy(client_keys.seckey[i], keys[i].seckey, 32);
        memcpy(client_keys.pubkey[i], keys[i].pubkey, 33);
    }
}

/* Establishes the already negotiated session `b` with key k on a new
 * connection; returns the fd and EstablishmentAck.NextSeqNo in *next. */
static int relogin(uint8_t b, int k, uint64_t *next)
{
    uint8_t buf[4200], uuid[16];
    int fd = connect_engine();
    size_t n;
    dtx_frame f;
    dtx_fixp_establishment_ack ack;

    fh_uuid(uuid, b);
    n = fh_establish(&client_keys, buf, uuid, now_ns(), k, FH_CRED_GOOD, 5000);
    send_all(fd, buf, n);
    f = read_frame(fd, buf);
    cr_assert_eq(f.template_id, DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID,
                 "EstablishmentAck expected, template %u came", f.template_id);
    cr_assert_gt(dtx_fixp_establishment_ack_decode(f.body, f.body_len, f.block_length, f.version,
                                                   &ack),
                 0);
    *next = ack.next_seq_no;
    return fd;
}

/* Negotiates and establishes session `b` with key k (account k + 1) on a new
 * connection, then sends Sequence(1). */
static int login(uint8_t b, int k)
{
    uint8_t buf[4200], uuid[16];
    uint64_t t = now_ns();
    int fd = connect_engine();
    size_t n;
    dtx_frame f;

    fh_uuid(uuid, b);
    n = fh_negotiate(&client_keys, buf, uuid, t, k, FH_CRED_GOOD, 1 /* Idempotent */);
    send_all(fd, buf, n);
    f = read_frame(fd, buf);
    cr_assert_eq(f.template_id, DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID,
                 "NegotiationResponse expected, template %u came", f.template_id);
    n = fh_establish(&client_keys, buf, uuid, t + 1, k, FH_CRED_GOOD, 5000);
    send_all(fd, buf, n);
    f = read_frame(fd, buf);
    cr_assert_eq(f.template_id, DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID,
                 "EstablishmentAck expected, template %u came", f.template_id);
    n = fh_sequence(buf, 1);
    send_all(fd, buf, n);
    return fd;
}

static void send_order(int fd, uint64_t clordid, uint8_t side, int64_t px, int64_t qty)
{
    uint8_t buf[256];
    dtx_sbe_new_order_single m = {.cl_ord_id = clordid, .security_id = 1, .side = side,
                                  .ord_type = DTX_ORD_LIMIT, .time_in_force = DTX_TIF_GTC,
                                  .price = px, .stop_px = INT64_MIN, .order_qty = qty};
    ptrdiff_t len = dtx_sbe_new_order_single_encode(buf + 14, sizeof buf - 14, &m);
    cr_assert_gt(len, 0);
    uint32_t n = dtx_sofh_put_headers(buf, (uint32_t)len, DTX_SBE_NEW_ORDER_SINGLE_BLOCK_LENGTH,
                                      DTX_SBE_NEW_ORDER_SINGLE_TEMPLATE_ID, DTX_SCHEMA_APP, 1);
    send_all(fd, buf, n);
}

static dtx_sbe_execution_report_new read_new(int fd)
{
    uint8_t buf[4200];
    dtx_sbe_execution_report_new m;
    dtx_frame f = read_app(fd, buf, DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID);
    cr_assert_gt(dtx_sbe_execution_report_new_decode(f.body, f.body_len, f.block_length,
                                                     f.version, &m),
                 0);
    return m;
}

static dtx_sbe_execution_report_trade read_trade(int fd)
{
    uint8_t buf[4200];
    dtx_sbe_execution_report_trade m;
    dtx_frame f = read_app(fd, buf, DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID);
    cr_assert_gt(dtx_sbe_execution_report_trade_decode(f.body, f.body_len, f.block_length,
                                                       f.version, &m),
                 0);
    return m;
}

Test(e2e_daemon, starts_on_the_embedded_default_and_stops_on_sigterm_with_status_0)
{
    e2e_start(&eng, NULL);
    load_keys();
    int fd = connect_engine();
    close(fd);
    e2e_stop(&eng);
    const char *log = e2e_log(&eng);
    cr_assert_not_null(strstr(log, "level=info msg=\"starting\" config=\"(embedded default)\" "
                                   "instruments=3 wait=block"),
                       "%s", log);
    cr_assert_not_null(strstr(log, "msg=\"demo keys\" file="), "%s", log);
    cr_assert_not_null(strstr(log, "generated=8"), "%s", log);
    cr_assert_not_null(strstr(log, "msg=\"shutting down\" signal=SIGTERM"), "%s", log);
    cr_assert_not_null(strstr(log, "msg=\"stopped\" commands="), "%s", log);
    cr_assert_not_null(strstr(log, "msg=\"exit\" status=0"), "%s", log);
}

Test(e2e_daemon, a_second_start_reuses_the_demo_keys)
{
    e2e_start(&eng, NULL);
    e2e_stop(&eng);
    char first[4096];
    snprintf(first, sizeof first, "%s", slurp(eng.keys_path));
    e2e_launch(&eng); /* the same directory and key file */
    e2e_stop_signal(&eng, SIGINT);
    cr_assert_str_eq(slurp(eng.keys_path), first);
    cr_assert_not_null(strstr(e2e_log(&eng), "generated=0"));
    cr_assert_not_null(strstr(e2e_log(&eng), "msg=\"shutting down\" signal=SIGINT"));
}

Test(e2e_daemon, negotiate_establish_and_new_order_single_round_trip)
{
    e2e_start(&eng, NULL);
    load_keys();
    int a = login(0xa1, 0); /* account 1 */
    send_order(a, 501, DTX_SIDE_BUY, USD(50000), 10);
    dtx_sbe_execution_report_new n = read_new(a);
    cr_assert_eq(n.cl_ord_id, 501);
    cr_assert_eq(n.security_id, 1);
    cr_assert_eq(n.side, DTX_SIDE_BUY);
    cr_assert_eq(n.price, USD(50000));
    cr_assert_eq(n.order_qty, 10);
    cr_assert_eq(n.leaves_qty, 10);
    cr_assert_neq(n.order_id, 0);

    /* Account 2 sells 4 into it: both sides hear of the trade. */
    int b = login(0xb2, 1);
    send_order(b, 777, DTX_SIDE_SELL, USD(50000), 4);
    dtx_sbe_execution_report_new bn = read_new(b);
    cr_assert_eq(bn.cl_ord_id, 777);
    dtx_sbe_execution_report_trade bt = read_trade(b);
    cr_assert_eq(bt.cl_ord_id, 777);
    cr_assert_eq(bt.last_px, USD(50000));
    cr_assert_eq(bt.last_qty, 4);
    cr_assert_eq(bt.leaves_qty, 0);
    cr_assert_eq(bt.aggressor_indicator, 1);
    dtx_sbe_execution_report_trade at = read_trade(a);
    cr_assert_eq(at.cl_ord_id, 501);
    cr_assert_eq(at.order_id, n.order_id);
    cr_assert_eq(at.last_qty, 4);
    cr_assert_eq(at.leaves_qty, 6);
    cr_assert_eq(at.cum_qty, 4);
    cr_assert_eq(at.trade_id, bt.trade_id);

    close(a);
    close(b);
    e2e_stop(&eng);
    cr_assert_not_null(strstr(e2e_log(&eng), "msg=\"exit\" status=0"));
}

Test(e2e_daemon, the_risk_gate_rejects_an_order_beyond_the_demo_collateral)
{
    uint8_t buf[4200];
    e2e_start(&eng, NULL);
    load_keys();
    int a = login(0xc3, 2); /* account 3, 100000 USD of collateral */
    /* 1,000,000 contracts x 0.001 BTC x 50000 = 50M notional: 1 % initial
     * margin is 500k, above the collateral. */
    send_order(a, 900, DTX_SIDE_BUY, USD(50000), 1000000);
    dtx_frame f = read_app(a, buf, DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID);
    dtx_sbe_execution_report_reject r;
    cr_assert_gt(dtx_sbe_execution_report_reject_decode(f.body, f.body_len, f.block_length,
                                                        f.version, &r),
                 0);
    cr_assert_eq(r.cl_ord_id, 900);
    cr_assert_eq(r.reject_reason, DTX_REJ_INSUFFICIENT_MARGIN);
    /* A small one from the same account passes. */
    send_order(a, 901, DTX_SIDE_BUY, USD(50000), 10);
    cr_assert_eq(read_new(a).cl_ord_id, 901);
    close(a);
    e2e_stop(&eng);
}

/* The CPUs thread `name` of the engine may run on (/proc), e.g. "0". */
static void thread_cpus(const char *name, char *out, size_t cap)
{
    char path[128], buf[256];
    struct dirent *de;
    DIR *d;
    out[0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/task", eng.pid);
    d = opendir(path);
    cr_assert_not_null(d);
    while ((de = readdir(d)) != NULL) {
        int tid = atoi(de->d_name);
        if (tid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%d/comm", eng.pid, tid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        int match = fgets(buf, sizeof buf, f) && strncmp(buf, name, strlen(name)) == 0;
        fclose(f);
        if (!match)
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%d/status", eng.pid, tid);
        f = fopen(path, "r");
        while (f && fgets(buf, sizeof buf, f)) {
            if (strncmp(buf, "Cpus_allowed_list:", 18) == 0) {
                char *v = buf + 18;
                while (*v == ' ' || *v == '\t')
                    v++;
                size_t len = strcspn(v, "\n");
                if (len >= cap)
                    len = cap - 1;
                memcpy(out, v, len);
                out[len] = '\0';
            }
        }
        if (f)
            fclose(f);
        break;
    }
    closedir(d);
}

Test(e2e_daemon, threads_are_pinned_to_the_configured_cpus)
{
    char cpus[64];
    e2e_start(&eng, "[gateway]\ncpu = 0\n[core]\ncpu = 0\n");
    const char *log = e2e_log(&eng);
    cr_assert_not_null(strstr(log, "msg=\"thread started\" thread=dtx-core cpu=0"), "%s", log);
    cr_assert_not_null(strstr(log, "msg=\"thread started\" thread=dtx-gateway cpu=0"), "%s", log);
    thread_cpus("dtx-core", cpus, sizeof cpus);
    cr_assert_str_eq(cpus, "0");
    thread_cpus("dtx-gateway", cpus, sizeof cpus);
    cr_assert_str_eq(cpus, "0");
    e2e_stop(&eng);
}

Test(e2e_daemon, a_dropped_connection_cancels_its_orders_and_the_client_reads_it_after_reconnect)
{
    uint8_t buf[4200], uuid[16];
    uint64_t next = 0;
    e2e_start(&eng, NULL);
    load_keys();
    int a = login(0xd4, 0); /* account 1: demo keys have cancel-on-disconnect */
    send_order(a, 601, DTX_SIDE_BUY, USD(49000), 3);
    dtx_sbe_execution_report_new n = read_new(a); /* server message 1 */
    close(a);                                    /* no Terminate: dropped */

    /* The cancel is sequenced as message 2 whether or not the client is
     * back; re-establish until it has been (the core runs on its own). */
    do {
        a = relogin(0xd4, 0, &next);
        if (next < 3) {
            close(a);
            usleep(1000);
        }
    } while (next < 3);
    cr_assert_eq(next, 3);
    fh_uuid(uuid, 0xd4);
    size_t len = fh_retransmit_request(buf, uuid, now_ns(), 2, 1);
    send_all(a, buf, len);
    dtx_frame f = read_frame(a, buf);
    cr_assert_eq(f.template_id, DTX_FIXP_RETRANSMISSION_TEMPLATE_ID, "template %u", f.template_id);
    f = read_app(a, buf, DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID);
    dtx_sbe_execution_report_canceled c;
    cr_assert_gt(dtx_sbe_execution_report_canceled_decode(f.body, f.body_len, f.block_length,
                                                          f.version, &c),
                 0);
    cr_assert_eq(c.cl_ord_id, 601);
    cr_assert_eq(c.order_id, n.order_id);
    cr_assert_eq(c.orig_cl_ord_id, 0);
    cr_assert_eq(c.cancel_reason, DTX_CANCEL_ON_DISCONNECT);
    close(a);
    e2e_stop(&eng);
}

Test(e2e_daemon, a_thousand_fixp_sessions_trade_through_one_gateway_thread)
{
    enum { N = 1000 };
    static int fds[N];
    static uint8_t uuids[N][16];
    uint8_t buf[4200];
    struct rlimit rl;
    dtx_frame f;

    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < N + 64) {
        rl.rlim_cur = rl.rlim_max < 2 * N ? rl.rlim_max : 2 * N;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    cr_assert_geq(rl.rlim_cur, N + 64, "needs %d file descriptors", N + 64);
    /* Generous handshake limits: a loaded 2-core test machine signs and
     * verifies 2,000 credentials here. */
    e2e_start(&eng, "[session]\nhandshake_timeout_ms = 600000\nclock_skew_ms = 600000\n");
    load_keys();

    uint64_t t = now_ns();
    for (int i = 0; i < N; i++) {
        memset(uuids[i], 0xe0, 16);
        uuids[i][0] = (uint8_t)i;
        uuids[i][1] = (uint8_t)(i >> 8);
        fds[i] = connect_engine();
        send_all(fds[i], buf, fh_negotiate(&client_keys, buf, uuids[i], t, i % 4, FH_CRED_GOOD, 1));
    }
    for (int i = 0; i < N; i++) {
        f = read_frame(fds[i], buf);
        cr_assert_eq(f.template_id, DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID, "session %d", i);
        send_all(fds[i], buf,
                 fh_establish(&client_keys, buf, uuids[i], t + 1, i % 4, FH_CRED_GOOD, 60000));
    }
    for (int i = 0; i < N; i++) {
        f = read_frame(fds[i], buf);
        cr_assert_eq(f.template_id, DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID, "session %d", i);
        send_all(fds[i], buf, fh_sequence(buf, 1));
        send_order(fds[i], 10000 + (uint64_t)i, DTX_SIDE_BUY, USD(40000) + i * USD(1), 1);
    }
    for (int i = 0; i < N; i++) {
        dtx_sbe_execution_report_new n = read_new(fds[i]);
        cr_assert_eq(n.cl_ord_id, 10000 + (uint64_t)i, "session %d", i);
        cr_assert_eq(n.price, USD(40000) + i * USD(1));
    }
    for (int i = 0; i < N; i++)
        close(fds[i]);
    e2e_stop(&eng);
    const char *log = e2e_log(&eng);
    cr_assert_not_null(strstr(log, "accepted=1000 refused=0"), "%s", log);
}

Test(e2e_daemon, a_bad_configuration_exits_1_naming_line_key_and_value)
{
    static char out[1 << 16];
    e2e_prepare(&eng, "[gateway]\nport = 0\n\n[rings]\nwait = spin\n");
    const char *args[] = {"--port", "0", "--keys-file", eng.keys_path, "--config", eng.conf_path,
                          NULL};
    cr_assert_eq(e2e_run(&eng, "dtx-engine", args, out, sizeof out), 1, "%s", out);
    cr_assert_not_null(strstr(out, "level=error msg=\"bad configuration\""), "%s", out);
    cr_assert_not_null(strstr(out, "engine.conf:5: [rings] wait = \\\"spin\\\": not one of "
                                   "busy-spin, spin-yield, block"),
                       "%s", out);
}
