/*
 * fixp_harness.c - in-memory FIXP client and transport for the session
 * suites (tests/session_*.c, tests/net_sofh.c). See fixp_harness.h.
 */
#include "support/fixp_harness.h"

#include <criterion/criterion.h>
#include <nettle/sha2.h>
#include <secp256k1.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/fixp_2748.h"
#include "dtx/sbe_7001.h"

static size_t cb_write(void *ctx, uint32_t conn, const uint8_t *data, size_t len)
{
    fixp_harness *h = ctx;
    cr_assert_lt(conn, FH_CONNS);
    if (h->write_blocked)
        return 0;
    if (h->write_limit && len > h->write_limit)
        len = h->write_limit;
    cr_assert_leq(h->out_len[conn] + len, FH_OUT_CAP, "harness output full");
    memcpy(h->out[conn] + h->out_len[conn], data, len);
    h->out_len[conn] += len;
    return len;
}

static int cb_submit(void *ctx, const dtx_command *cmd)
{
    fixp_harness *h = ctx;
    if (h->submit_full)
        return -1;
    cr_assert_lt(h->ncmds, FH_CMDS);
    h->cmds[h->ncmds++] = *cmd;
    return 0;
}

static void cb_close(void *ctx, uint32_t conn)
{
    fixp_harness *h = ctx;
    cr_assert_lt(conn, FH_CONNS);
    h->closed[conn]++;
}

void fh_init(fixp_harness *h, const dtx_session_config *cfg)
{
    memset(h, 0, sizeof *h);
    dtx_session_config def = {.max_connections = FH_CONNS, .max_sessions = 16, .max_keys = 8,
                              .store_depth = 64, .send_buffer_bytes = 16384,
                              .throttle_rate = 1000, .throttle_burst = 100};
    dtx_session_callbacks cb = {.ctx = h, .write = cb_write, .submit = cb_submit,
                                .close = cb_close};
    h->s = dtx_sessions_create(cfg ? cfg : &def, &cb);
    cr_assert(h->s, "dtx_sessions_create: %s", dtx_error_message());
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    h->secp = ctx;
    for (int i = 0; i < FH_KEYS; i++) {
        memset(h->seckey[i], 0x11 * (i + 1), 32); /* fixed seed: 32 bytes of 0x11, 0x22 ... */
        secp256k1_pubkey pk;
        cr_assert(secp256k1_ec_pubkey_create(ctx, &pk, h->seckey[i]));
        size_t n = 33;
        secp256k1_ec_pubkey_serialize(ctx, h->pubkey[i], &n, &pk, SECP256K1_EC_COMPRESSED);
    }
    for (int i = 0; i < FH_CONNS; i++) {
        h->out[i] = malloc(FH_OUT_CAP);
        cr_assert(h->out[i]);
    }
    cr_assert_eq(dtx_session_add_key(h->s, h->pubkey[0], 7, DTX_ROLE_TRADER,
                                     DTX_KEY_CANCEL_ON_DISCONNECT), DTX_OK);
    cr_assert_eq(dtx_session_add_key(h->s, h->pubkey[1], 8, DTX_ROLE_TRADER, 0), DTX_OK);
    cr_assert_eq(dtx_session_add_key(h->s, h->pubkey[2], 9, DTX_ROLE_DROP_COPY, 0), DTX_OK);
}

void fh_fini(fixp_harness *h)
{
    dtx_sessions_destroy(h->s);
    secp256k1_context_destroy(h->secp);
    for (int i = 0; i < FH_CONNS; i++)
        free(h->out[i]);
}

void fh_uuid(uint8_t uuid[16], uint8_t b) { memset(uuid, b, 16); }

/* s = n - s, big-endian, for a high-S twin of a low-S signature */
static void negate_s(uint8_t s[32])
{
    static const uint8_t n[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
                                  0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B,
                                  0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41};
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = n[i] - s[i] - borrow;
        borrow = d < 0;
        s[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

size_t fh_credentials(fixp_harness *h, int key, const char *tag18, const uint8_t uuid[16],
                      uint64_t ts, int mode, uint8_t out[97])
{
    uint8_t tsb[8], digest[32];
    for (int i = 0; i < 8; i++)
        tsb[i] = (uint8_t)(ts >> (8 * i));
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, 18, (const uint8_t *)tag18);
    sha256_update(&c, 16, uuid);
    sha256_update(&c, 8, tsb);
    sha256_digest(&c, 32, digest);
    secp256k1_ecdsa_signature sig;
    cr_assert(secp256k1_ecdsa_sign(h->secp, &sig, digest, h->seckey[key], NULL, NULL));
    memcpy(out, h->pubkey[key], 33);
    secp256k1_ecdsa_signature_serialize_compact(h->secp, out + 33, &sig);
    if (mode == FH_CRED_BAD_SIG)
        out[40] ^= 0x01;
    if (mode == FH_CRED_HIGH_S)
        negate_s(out + 65);
    return mode == FH_CRED_SHORT ? 96 : 97;
}

#define FIXP_FRAME(BUF, SNAKE, UPPER, M)                                                          \
    do {                                                                                         \
        ptrdiff_t n_ = dtx_fixp_##SNAKE##_encode((BUF) + 14, 4096, &(M));                        \
        cr_assert_geq(n_, 0);                                                                    \
        return dtx_sofh_put_headers((BUF), (uint32_t)n_, DTX_FIXP_##UPPER##_BLOCK_LENGTH,         \
                                    DTX_FIXP_##UPPER##_TEMPLATE_ID, DTX_SCHEMA_FIXP, 0);          \
    } while (0)

#define APP_FRAME(BUF, SNAKE, UPPER, M)                                                           \
    do {                                                                                         \
        ptrdiff_t n_ = dtx_sbe_##SNAKE##_encode((BUF) + 14, 4096, &(M));                         \
        cr_assert_geq(n_, 0);                                                                    \
        return dtx_sofh_put_headers((BUF), (uint32_t)n_, DTX_SBE_##UPPER##_BLOCK_LENGTH,          \
                                    DTX_SBE_##UPPER##_TEMPLATE_ID, DTX_SCHEMA_APP, 1);            \
    } while (0)

size_t fh_negotiate(fixp_harness *h, uint8_t *buf, const uint8_t uuid[16], uint64_t ts, int key,
                    int mode, uint8_t flow)
{
    uint8_t cred[97];
    size_t n = fh_credentials(h, key, "DTX-FIXP-NEGOTIATE", uuid, ts, mode, cred);
    dtx_fixp_negotiate m = {.timestamp = ts, .client_flow = flow, .credentials = cred,
                            .credentials_length = (uint16_t)n};
    memcpy(m.session_id, uuid, 16);
    FIXP_FRAME(buf, negotiate, NEGOTIATE, m);
}

size_t fh_establish(fixp_harness *h, uint8_t *buf, const uint8_t uuid[16], uint64_t ts, int key,
                    int mode, uint32_t keepalive_ms)
{
    uint8_t cred[97];
    size_t n = fh_credentials(h, key, "DTX-FIXP-ESTABLISH", uuid, ts, mode, cred);
    dtx_fixp_establish m = {.timestamp = ts, .keepalive_interval = keepalive_ms,
                            .next_seq_no = UINT64_MAX, .credentials = cred,
                            .credentials_length = (uint16_t)n};
    memcpy(m.session_id, uuid, 16);
    FIXP_FRAME(buf, establish, ESTABLISH, m);
}

size_t fh_sequence(uint8_t *buf, uint64_t next)
{
    dtx_fixp_sequence m = {.next_seq_no = next};
    FIXP_FRAME(buf, sequence, SEQUENCE, m);
}

size_t fh_retransmit_request(uint8_t *buf, const uint8_t uuid[16], uint64_t ts, uint64_t from,
                             uint32_t count)
{
    dtx_fixp_retransmit_request m = {.timestamp = ts, .from_seq_no = from, .count = count};
    memcpy(m.session_id, uuid, 16);
    FIXP_FRAME(buf, retransmit_request, RETRANSMIT_REQUEST, m);
}

size_t fh_terminate(uint8_t *buf, const uint8_t uuid[16], uint8_t code)
{
    dtx_fixp_terminate m = {.code = code};
    memcpy(m.session_id, uuid, 16);
    FIXP_FRAME(buf, terminate, TERMINATE, m);
}

size_t fh_new_order(uint8_t *buf, uint64_t clordid)
{
    dtx_sbe_new_order_single m = {.cl_ord_id = clordid, .security_id = 1, .side = 1,
                                  .ord_type = 2, .time_in_force = 1, .price = 100000000000,
                                  .stop_px = INT64_MIN, .order_qty = 10};
    APP_FRAME(buf, new_order_single, NEW_ORDER_SINGLE, m);
}

size_t fh_cancel(uint8_t *buf, uint64_t clordid, uint64_t order_id)
{
    dtx_sbe_order_cancel_request m = {.cl_ord_id = clordid, .order_id = order_id};
    APP_FRAME(buf, order_cancel_request, ORDER_CANCEL_REQUEST, m);
}

size_t fh_mass_cancel(uint8_t *buf, uint64_t clordid)
{
    dtx_sbe_order_mass_cancel_request m = {.cl_ord_id = clordid};
    APP_FRAME(buf, order_mass_cancel_request, ORDER_MASS_CANCEL_REQUEST, m);
}

size_t fh_raw(uint8_t *buf, uint16_t block_length, uint16_t template_id, uint16_t schema_id,
              uint16_t version, const uint8_t *body, size_t body_len)
{
    if (body_len)
        memcpy(buf + 14, body, body_len);
    return dtx_sofh_put_headers(buf, (uint32_t)body_len, block_length, template_id, schema_id,
                                version);
}

size_t fh_send(fixp_harness *h, uint32_t conn, const uint8_t *buf, size_t len, uint64_t now)
{
    return dtx_session_on_bytes(h->s, conn, buf, len, now);
}

int fh_next(fixp_harness *h, uint32_t conn, dtx_frame *f)
{
    size_t at = h->out_read[conn];
    if (at >= h->out_len[conn])
        return 0;
    char reason[DTX_SOFH_REASON_MAX];
    int rc = dtx_sofh_decode(h->out[conn] + at, h->out_len[conn] - at, f, reason);
    cr_assert_gt(rc, 0, "server wrote a bad frame on conn %u at %zu: %s", conn, at,
                 rc < 0 ? reason : "partial");
    h->out_read[conn] += (size_t)rc;
    return 1;
}

int fh_pending(fixp_harness *h, uint32_t conn)
{
    int n = 0;
    size_t at = h->out_read[conn];
    dtx_frame f;
    char reason[DTX_SOFH_REASON_MAX];
    while (at < h->out_len[conn]) {
        int rc = dtx_sofh_decode(h->out[conn] + at, h->out_len[conn] - at, &f, reason);
        if (rc <= 0)
            break;
        at += (size_t)rc;
        n++;
    }
    return n;
}

int fh_connect(fixp_harness *h, uint32_t conn, uint8_t b, int key, uint64_t now)
{
    uint8_t buf[4096], uuid[16];
    fh_uuid(uuid, b);
    cr_assert_eq(dtx_session_open(h->s, conn, now), DTX_OK);
    size_t n = fh_negotiate(h, buf, uuid, now, key, FH_CRED_GOOD, DTX_FIXP_FLOW_TYPE_IDEMPOTENT);
    cr_assert_eq(fh_send(h, conn, buf, n, now), n);
    dtx_frame f;
    cr_assert(fh_next(h, conn, &f));
    cr_assert_eq(f.template_id, DTX_FIXP_NEGOTIATION_RESPONSE_TEMPLATE_ID);
    n = fh_establish(h, buf, uuid, now + 1, key, FH_CRED_GOOD, 1000);
    cr_assert_eq(fh_send(h, conn, buf, n, now), n);
    cr_assert(fh_next(h, conn, &f));
    cr_assert_eq(f.template_id, DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
    n = fh_sequence(buf, 1);
    cr_assert_eq(fh_send(h, conn, buf, n, now), n);
    cr_assert_not(fh_next(h, conn, &f));
    int32_t si = dtx_session_of_conn(h->s, conn);
    cr_assert_geq(si, 0);
    return si;
}

uint64_t fh_reconnect(fixp_harness *h, uint32_t conn, uint8_t b, int key, uint64_t ts)
{
    uint8_t buf[4096], uuid[16];
    fh_uuid(uuid, b);
    cr_assert_eq(dtx_session_open(h->s, conn, ts), DTX_OK);
    size_t n = fh_establish(h, buf, uuid, ts, key, FH_CRED_GOOD, 1000);
    cr_assert_eq(fh_send(h, conn, buf, n, ts), n);
    dtx_frame f;
    cr_assert(fh_next(h, conn, &f));
    cr_assert_eq(f.template_id, DTX_FIXP_ESTABLISHMENT_ACK_TEMPLATE_ID);
    return dtx_sbe_load_u64(f.body + DTX_FIXP_ESTABLISHMENT_ACK_NEXT_SEQ_NO_OFFSET);
}

dtx_event fh_event_new(int si, uint64_t clordid, uint64_t exec_id)
{
    dtx_event ev = {0};
    ev.type = DTX_EV_NEW;
    ev.session = (uint16_t)si;
    ev.account = 7;
    ev.security_id = 1;
    ev.side = 1;
    ev.ord_type = 2;
    ev.tif = 1;
    ev.clordid = clordid;
    ev.order_id = 1000 + clordid;
    ev.exec_id = exec_id;
    ev.price = 100000000000;
    ev.stop_px = INT64_MIN;
    ev.order_qty = 10;
    ev.leaves_qty = 10;
    ev.ts = FH_T0;
    return ev;
}
