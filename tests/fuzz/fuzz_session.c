/*
 * fuzz_session.c - libFuzzer target for the SOFH frame reader and the FIXP
 * session state machine (net/sofh_sbe.c, net/fixp_session.c).
 *
 * Input: one mode byte, then operations. Mode bit 0 set: the target first
 * negotiates and establishes a session with real secp256k1 credentials and
 * sends Sequence(1), so the fuzzer starts past the signature checks it could
 * never forge; clear: the stream starts on a bare connection. Each operation
 * is one selector byte and its operands:
 *   0-3  bytes: a length byte L, then L+1 bytes fed to dtx_session_on_bytes
 *        (split streams, several frames per read and garbage all come from
 *        here; frames cut across operations are the reader's partial frames)
 *   4    time: advance the clock by (byte * 7) ms, then dtx_session_tick
 *   5    core: answer every command submitted so far with an event of a type
 *        chosen by the next byte (reports and book-only events)
 *   6    transport: toggle write() blocking / submit() full, or on_writable
 *   7    connection: close it (transport side) and open a new one; when
 *        the next byte is odd (and mode bit 0 set), re-establish the session
 *        on it with a signed Establish and Sequence(next byte / 2 + 1), at
 *        most 4 times per input (signing is slow)
 *
 * Checked, through the public API only:
 *   - after a connection entered TERMINATING (protocol error or Terminate),
 *     no order reaches submit() from it: nothing after an error is applied;
 *   - the server's output is a sequence of whole, valid frames;
 *   - every application message the server writes takes the next number:
 *     the session's next server number never goes backwards;
 *   - dtx_session_on_bytes() consumes all bytes unless submit() is full.
 */
#include <nettle/sha2.h>
#include <secp256k1.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/fixp_2748.h"
#include "dtx/session.h"
#include "dtx/sofh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1767225600000000000ull
#define MS 1000000ull
#define OUT_CAP (1u << 20)

static struct {
    secp256k1_context *secp;
    uint8_t seckey[32];
    uint8_t pubkey[33];
    uint8_t out[OUT_CAP];
    size_t out_len;
    size_t out_checked;
    int write_blocked;
    int submit_full;
    dtx_command cmds[256];
    size_t ncmds;
    uint64_t total_orders;
    int closed;
} F;

static size_t cb_write(void *ctx, uint32_t conn, const uint8_t *d, size_t len)
{
    (void)ctx;
    (void)conn;
    if (F.write_blocked)
        return 0;
    if (F.out_len + len > OUT_CAP) {
        /* keep checking frames from the start of a fresh buffer */
        F.out_len = F.out_checked = 0;
    }
    memcpy(F.out + F.out_len, d, len);
    F.out_len += len;
    return len;
}

static int cb_submit(void *ctx, const dtx_command *cmd)
{
    (void)ctx;
    if (F.submit_full)
        return -1;
    if (cmd->type != DTX_CMD_CANCEL_ON_DISCONNECT)
        F.total_orders++;
    if (F.ncmds < sizeof F.cmds / sizeof F.cmds[0])
        F.cmds[F.ncmds++] = *cmd;
    return 0;
}

static void cb_close(void *ctx, uint32_t conn)
{
    (void)ctx;
    (void)conn;
    F.closed = 1;
}

/* Every byte the server wrote parses as whole frames (a frame cut by a
 * write() that took part of it completes later). */
static void check_output(void)
{
    while (F.out_checked < F.out_len) {
        dtx_frame f;
        char why[DTX_SOFH_REASON_MAX];
        int rc = dtx_sofh_decode(F.out + F.out_checked, F.out_len - F.out_checked, &f, why);
        if (rc < 0) {
            fprintf(stderr, "server wrote a bad frame: %s\n", why);
            abort();
        }
        if (rc == 0)
            break;
        F.out_checked += (size_t)rc;
    }
}

static void sign(const char *tag, const uint8_t uuid[16], uint64_t ts, uint8_t cred[97])
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
    secp256k1_ecdsa_sign(F.secp, &sig, digest, F.seckey, NULL, NULL);
    memcpy(cred, F.pubkey, 33);
    secp256k1_ecdsa_signature_serialize_compact(F.secp, cred + 33, &sig);
}

static size_t establish_frames(uint8_t *buf, uint64_t ts, uint64_t next)
{
    uint8_t uuid[16], cred[97];
    memset(uuid, 0x5A, 16);
    size_t n = 0;
    sign("DTX-FIXP-ESTABLISH", uuid, ts, cred);
    dtx_fixp_establish est = {.timestamp = ts, .keepalive_interval = 1000,
                              .next_seq_no = UINT64_MAX, .credentials = cred,
                              .credentials_length = 97};
    memcpy(est.session_id, uuid, 16);
    ptrdiff_t k = dtx_fixp_establish_encode(buf + 14, 4096, &est);
    n += dtx_sofh_put_headers(buf, (uint32_t)k, DTX_FIXP_ESTABLISH_BLOCK_LENGTH,
                              DTX_FIXP_ESTABLISH_TEMPLATE_ID, DTX_SCHEMA_FIXP, 0);
    dtx_fixp_sequence seq = {.next_seq_no = next};
    k = dtx_fixp_sequence_encode(buf + n + 14, 64, &seq);
    n += dtx_sofh_put_headers(buf + n, (uint32_t)k, DTX_FIXP_SEQUENCE_BLOCK_LENGTH,
                              DTX_FIXP_SEQUENCE_TEMPLATE_ID, DTX_SCHEMA_FIXP, 0);
    return n;
}

static size_t handshake(uint8_t *buf, uint64_t now)
{
    uint8_t uuid[16], cred[97];
    memset(uuid, 0x5A, 16);
    size_t n = 0;
    sign("DTX-FIXP-NEGOTIATE", uuid, now, cred);
    dtx_fixp_negotiate neg = {.timestamp = now, .client_flow = DTX_FIXP_FLOW_TYPE_IDEMPOTENT,
                              .credentials = cred, .credentials_length = 97};
    memcpy(neg.session_id, uuid, 16);
    ptrdiff_t k = dtx_fixp_negotiate_encode(buf + n + 14, 4096, &neg);
    n += dtx_sofh_put_headers(buf + n, (uint32_t)k, DTX_FIXP_NEGOTIATE_BLOCK_LENGTH,
                              DTX_FIXP_NEGOTIATE_TEMPLATE_ID, DTX_SCHEMA_FIXP, 0);
    sign("DTX-FIXP-ESTABLISH", uuid, now + 1, cred);
    dtx_fixp_establish est = {.timestamp = now + 1, .keepalive_interval = 1000,
                              .next_seq_no = UINT64_MAX, .credentials = cred,
                              .credentials_length = 97};
    memcpy(est.session_id, uuid, 16);
    k = dtx_fixp_establish_encode(buf + n + 14, 4096, &est);
    n += dtx_sofh_put_headers(buf + n, (uint32_t)k, DTX_FIXP_ESTABLISH_BLOCK_LENGTH,
                              DTX_FIXP_ESTABLISH_TEMPLATE_ID, DTX_SCHEMA_FIXP, 0);
    dtx_fixp_sequence seq = {.next_seq_no = 1};
    k = dtx_fixp_sequence_encode(buf + n + 14, 64, &seq);
    n += dtx_sofh_put_headers(buf + n, (uint32_t)k, DTX_FIXP_SEQUENCE_BLOCK_LENGTH,
                              DTX_FIXP_SEQUENCE_TEMPLATE_ID, DTX_SCHEMA_FIXP, 0);
    return n;
}

/* Feeds bytes; enforces "nothing after an error is applied". */
static void feed(dtx_sessions *s, const uint8_t *d, size_t len, uint64_t now)
{
    dtx_conn_state before = dtx_session_conn_state(s, 0);
    uint64_t orders = F.total_orders;
    size_t took = dtx_session_on_bytes(s, 0, d, len, now);
    if (took != len && !F.submit_full) {
        fprintf(stderr, "on_bytes took %zu of %zu with room in the ring\n", took, len);
        abort();
    }
    if ((before == DTX_CONN_TERMINATING || before == DTX_CONN_FREE) && F.total_orders != orders) {
        fprintf(stderr, "an order was applied after Terminate\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!F.secp) {
        F.secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
        memset(F.seckey, 0x11, 32);
        secp256k1_pubkey pk;
        if (!secp256k1_ec_pubkey_create(F.secp, &pk, F.seckey))
            abort();
        size_t n = 33;
        secp256k1_ec_pubkey_serialize(F.secp, F.pubkey, &n, &pk, SECP256K1_EC_COMPRESSED);
    }
    F.out_len = F.out_checked = 0;
    F.write_blocked = F.submit_full = 0;
    F.ncmds = 0;
    F.total_orders = 0;
    F.closed = 0;
    if (size < 1)
        return 0;
    dtx_session_config cfg = {.max_connections = 1, .max_sessions = 2, .max_keys = 2,
                              .store_depth = 32, .send_buffer_bytes = 8192,
                              .throttle_rate = 50, .throttle_burst = 8};
    dtx_session_callbacks cb = {.ctx = NULL, .write = cb_write, .submit = cb_submit,
                                .close = cb_close};
    dtx_sessions *s = dtx_sessions_create(&cfg, &cb);
    if (!s)
        abort();
    if (dtx_session_add_key(s, F.pubkey, 7, DTX_ROLE_TRADER, DTX_KEY_CANCEL_ON_DISCONNECT) != DTX_OK)
        abort();
    uint64_t now = T0;
    dtx_session_open(s, 0, now);
    if (data[0] & 1) {
        static uint8_t hs[1024];
        size_t n = handshake(hs, now);
        feed(s, hs, n, now);
        if (dtx_session_conn_state(s, 0) != DTX_CONN_ESTABLISHED)
            abort();
    }
    uint64_t last_next = 1;
    uint64_t reconnects = 0;
    size_t i = 1;
    while (i < size) {
        uint8_t op = data[i++] & 7;
        switch (op) {
        case 0: case 1: case 2: case 3: {
            if (i >= size)
                break;
            size_t len = (size_t)data[i++] + 1;
            if (len > size - i)
                len = size - i;
            if (dtx_session_conn_state(s, 0) != DTX_CONN_FREE)
                feed(s, data + i, len, now);
            i += len;
            break;
        }
        case 4:
            if (i < size)
                now += (uint64_t)data[i++] * 7 * MS;
            dtx_session_tick(s, now);
            break;
        case 5: {
            uint8_t t = i < size ? data[i++] : 1;
            for (size_t k = 0; k < F.ncmds; k++) {
                dtx_event ev = {0};
                ev.type = (uint8_t)(t % 13);
                ev.session = F.cmds[k].session;
                ev.account = F.cmds[k].account;
                ev.clordid = F.cmds[k].clordid;
                ev.security_id = F.cmds[k].security_id;
                ev.side = F.cmds[k].side;
                ev.ref_cmd_type = (uint8_t)F.cmds[k].type;
                ev.reject_reason = (uint16_t)(t % 25);
                ev.price = F.cmds[k].price;
                ev.exec_id = k + 1;
                ev.ts = now;
                dtx_session_on_event(s, &ev, now);
            }
            F.ncmds = 0;
            break;
        }
        case 6: {
            uint8_t t = i < size ? data[i++] : 0;
            if (t % 3 == 0)
                F.write_blocked = !F.write_blocked;
            else if (t % 3 == 1)
                F.submit_full = !F.submit_full;
            else
                dtx_session_on_writable(s, 0, now);
            break;
        }
        case 7: {
            uint8_t t = i < size ? data[i++] : 0;
            if (dtx_session_conn_state(s, 0) != DTX_CONN_FREE)
                dtx_session_on_closed(s, 0, now);
            dtx_session_open(s, 0, now);
            if ((data[0] & 1) && (t & 1) && reconnects < 4) { /* signing is slow */
                static uint8_t es[1024];
                size_t n = establish_frames(es, now + 2 + (++reconnects), (uint64_t)t / 2 + 1);
                feed(s, es, n, now);
            }
            break;
        }
        }
        uint64_t next = 0;
        if (dtx_session_seq(s, 0, &next, NULL) == DTX_OK) {
            if (next < last_next) {
                fprintf(stderr, "server sequence went back: %llu < %llu\n",
                        (unsigned long long)next, (unsigned long long)last_next);
                abort();
            }
            last_next = next;
        }
        check_output();
    }
    dtx_sessions_destroy(s);
    return 0;
}
