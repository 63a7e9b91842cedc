/*
 * bench_session.c - cost of the FIXP session layer per message, no sockets.
 *
 * Two paths of the gateway thread, each timed over whole batches:
 *   in   NewOrderSingle frames, 64 to a read, through dtx_session_on_bytes:
 *        framing, sequencing, throttle check, decode, submit() (a copy into
 *        an array standing in for the ring);
 *   out  ExecutionReportNew events through dtx_session_on_event: sequence
 *        number, store for retransmission, encode, write() (a copy into a
 *        buffer standing in for the socket).
 * Prints one table: ns per message (median and worst of the batches) and
 * messages per second at the median. Usage: bench_session [batches]
 */
#include <inttypes.h>
#include <nettle/sha2.h>
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtx/fixp_2748.h"
#include "dtx/sbe_7001.h"
#include "dtx/session.h"
#include "dtx/sofh.h"

#define T0 1767225600000000000ull
#define PER_READ 64
#define PER_BATCH 4096

static uint8_t sink[1 << 16];
static size_t sink_len;
static dtx_command ring[PER_BATCH];
static size_t ring_len;

static size_t cb_write(void *ctx, uint32_t conn, const uint8_t *d, size_t len)
{
    (void)ctx;
    (void)conn;
    if (sink_len + len > sizeof sink)
        sink_len = 0;
    memcpy(sink + sink_len, d, len);
    sink_len += len;
    return len;
}

static int cb_submit(void *ctx, const dtx_command *cmd)
{
    (void)ctx;
    ring[ring_len++ % PER_BATCH] = *cmd;
    return 0;
}

static void cb_close(void *ctx, uint32_t conn)
{
    (void)ctx;
    (void)conn;
    fprintf(stderr, "bench_session: the session closed the connection\n");
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sign(secp256k1_context *ctx, const uint8_t sk[32], const uint8_t pk[33],
                 const char *tag, const uint8_t uuid[16], uint64_t ts, uint8_t cred[97])
{
    uint8_t tsb[8], digest[32];
    for (int i = 0; i < 8; i++)
        tsb[i] = (uint8_t)(ts >> (8 * i));
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, 18, (const uint8_t *)tag);
    sha256_update(&c, 16, uuid);
    sha256_update(&c, 8, tsb);
    sha256_digest(&c, 32, digest);
    secp256k1_ecdsa_signature sig;
    secp256k1_ecdsa_sign(ctx, &sig, digest, sk, NULL, NULL);
    memcpy(cred, pk, 33);
    secp256k1_ecdsa_signature_serialize_compact(ctx, cred + 33, &sig);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int batches = argc > 1 ? atoi(argv[1]) : 200;
    if (batches < 1)
        batches = 1;
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t sk[32], pk[33];
    memset(sk, 0x11, 32);
    secp256k1_pubkey pub;
    if (!secp256k1_ec_pubkey_create(ctx, &pub, sk))
        return 1;
    size_t pkn = 33;
    secp256k1_ec_pubkey_serialize(ctx, pk, &pkn, &pub, SECP256K1_EC_COMPRESSED);

    dtx_session_config cfg = {.max_connections = 4, .max_sessions = 4, .store_depth = 8192,
                              .throttle_rate = 4000000000u, .throttle_burst = 1000000000u};
    dtx_session_callbacks cb = {.write = cb_write, .submit = cb_submit, .close = cb_close};
    dtx_sessions *s = dtx_sessions_create(&cfg, &cb);
    if (!s || dtx_session_add_key(s, pk, 1, DTX_ROLE_TRADER, 0) != DTX_OK) {
        fprintf(stderr, "bench_session: %s\n", dtx_error_message());
        return 1;
    }
    uint64_t t = T0;
    dtx_session_open(s, 0, t);
    static uint8_t buf[PER_READ * 80];
    uint8_t uuid[16], cred[97];
    memset(uuid, 7, 16);
    size_t n = 0;
    sign(ctx, sk, pk, "DTX-FIXP-NEGOTIATE", uuid, t, cred);
    dtx_fixp_negotiate neg = {.timestamp = t, .client_flow = DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                              .credentials = cred, .credentials_length = 97};
    memcpy(neg.session_id, uuid, 16);
    ptrdiff_t k = dtx_fixp_negotiate_encode(buf + 14, 1024, &neg);
    n += dtx_sofh_put_headers(buf, (uint32_t)k, 25, 1, DTX_SCHEMA_FIXP, 0);
    sign(ctx, sk, pk, "DTX-FIXP-ESTABLISH", uuid, t + 1, cred);
    dtx_fixp_establish est = {.timestamp = t + 1, .keepalive_interval = 60000,
                              .next_seq_no = UINT64_MAX, .credentials = cred,
                              .credentials_length = 97};
    memcpy(est.session_id, uuid, 16);
    k = dtx_fixp_establish_encode(buf + n + 14, 1024, &est);
    n += dtx_sofh_put_headers(buf + n, (uint32_t)k, 36, 5, DTX_SCHEMA_FIXP, 0);
    dtx_fixp_sequence sq = {.next_seq_no = 1};
    k = dtx_fixp_sequence_encode(buf + n + 14, 64, &sq);
    n += dtx_sofh_put_headers(buf + n, (uint32_t)k, 8, 8, DTX_SCHEMA_FIXP, 0);
    dtx_session_on_bytes(s, 0, buf, n, t);
    if (dtx_session_conn_state(s, 0) != DTX_CONN_ESTABLISHED) {
        fprintf(stderr, "bench_session: handshake failed\n");
        return 1;
    }

    /* one read of PER_READ orders (ClOrdIDs do not matter to the session) */
    n = 0;
    for (int i = 0; i < PER_READ; i++) {
        dtx_sbe_new_order_single m = {.cl_ord_id = (uint64_t)i + 1, .security_id = 1, .side = 1,
                                      .ord_type = 2, .time_in_force = 1,
                                      .price = 100000000000, .stop_px = INT64_MIN,
                                      .order_qty = 1};
        k = dtx_sbe_new_order_single_encode(buf + n + 14, 128, &m);
        n += dtx_sofh_put_headers(buf + n, (uint32_t)k, 64, 100, DTX_SCHEMA_APP, 1);
    }
    uint64_t *in_ns = calloc((size_t)batches, sizeof *in_ns);
    uint64_t *out_ns = calloc((size_t)batches, sizeof *out_ns);
    dtx_event ev = {0};
    ev.type = DTX_EV_NEW;
    ev.session = 0;
    ev.account = 1;
    ev.security_id = 1;
    ev.side = 1;
    ev.ord_type = 2;
    ev.tif = 1;
    ev.price = 100000000000;
    ev.stop_px = INT64_MIN;
    ev.order_qty = ev.leaves_qty = 1;
    for (int b = -10; b < batches; b++) { /* 10 warm-up batches */
        uint64_t a = now_ns();
        for (int r = 0; r < PER_BATCH / PER_READ; r++)
            dtx_session_on_bytes(s, 0, buf, n, t);
        uint64_t m = now_ns();
        for (int r = 0; r < PER_BATCH; r++) {
            ev.clordid = ev.order_id = ev.exec_id = (uint64_t)r + 1;
            dtx_session_on_event(s, &ev, t);
        }
        uint64_t e = now_ns();
        if (b >= 0) {
            in_ns[b] = m - a;
            out_ns[b] = e - m;
        }
    }
    qsort(in_ns, (size_t)batches, sizeof *in_ns, cmp_u64);
    qsort(out_ns, (size_t)batches, sizeof *out_ns, cmp_u64);
    dtx_session_stats st;
    dtx_session_stats_get(s, &st);
    printf("bench_session: %d batches of %d messages (%d-frame reads), one session\n", batches,
           PER_BATCH, PER_READ);
    printf("%-36s %10s %10s %12s\n", "path", "ns/msg p50", "ns/msg max", "msgs/s p50");
    double in50 = (double)in_ns[batches / 2] / PER_BATCH;
    double out50 = (double)out_ns[batches / 2] / PER_BATCH;
    printf("%-36s %10.1f %10.1f %12.0f\n", "in: NewOrderSingle -> submit()", in50,
           (double)in_ns[batches - 1] / PER_BATCH, 1e9 / in50);
    printf("%-36s %10.1f %10.1f %12.0f\n", "out: event -> ExecutionReportNew", out50,
           (double)out_ns[batches - 1] / PER_BATCH, 1e9 / out50);
    printf("submitted %" PRIu64 ", reports %" PRIu64 ", throttled %" PRIu64 "\n",
           st.app_submitted, st.reports_out, st.throttled);
    free(in_ns);
    free(out_ns);
    dtx_sessions_destroy(s);
    secp256k1_context_destroy(ctx);
    return 0;
}
