/*
 * fuzz_fix44.c - libFuzzer target for the FIX 4.4 tag-value framer, parser
 * and session state machine (net/fix44_codec.c, net/fix44_session.c).
 *
 * Input: one mode byte, then operations. Mode bit 0 set: the target first
 * logs on with a Logon really signed (secp256k1) so the fuzzer starts past
 * the signature it could never forge; clear: the stream starts on a bare
 * connection. Each operation is one selector byte and its operands:
 *   0-3  bytes: a length byte L, then L+1 raw bytes to dtx_fix44_on_bytes
 *        (garbage, split and garbled messages come from here)
 *   4    message: a type byte (index into TYPES), a sequence byte (0: the
 *        next MsgSeqNum, else next + byte - 128), a length byte L and L+1
 *        bytes of fields ('|' is SOH) wrapped with the right BodyLength and
 *        CheckSum, so the fuzzer reaches the session and application code
 *   5    time: advance the clock by (byte * 50) ms, then dtx_fix44_tick
 *   6    core: answer every command submitted so far with an event of a
 *        type chosen by the next byte (report types and others)
 *   7    transport: by the next byte, toggle submit() full, call
 *        on_writable, or close the connection and open another one (logged
 *        on again with a signed Logon when mode bit 0 is set, at most 4
 *        times per input)
 *
 * Checked, through the public API only:
 *   - the server's output is a sequence of whole messages with the right
 *     BodyLength and CheckSum that split into fields;
 *   - on one connection, the MsgSeqNum of messages that are not resends
 *     (no PossDupFlag) only goes up;
 *   - dtx_fix44_on_bytes() consumes all bytes unless submit() is full.
 */
#include <secp256k1.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../net/fix44_codec.h"
#include "dtx/fix44.h"
#include "dtx/fixp_credentials.h"
#include "dtx/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1767225600000000000ull
#define MS 1000000ull
#define OUT_CAP (1u << 20)

static const char *const TYPES[] = {"0", "1", "2", "4", "5", "A", "D", "F",
                                    "G", "q", "H", "3", "j", "8", "AB", "D"};

static struct {
    secp256k1_context *secp;
    uint8_t seckey[32];
    uint8_t pubkey[33];
    uint8_t out[OUT_CAP];
    size_t out_len, out_checked;
    uint64_t last_live_seq;
    int submit_full;
    dtx_command cmds[256];
    size_t ncmds;
    uint64_t next_seq;
} F;

static size_t cb_write(void *ctx, uint32_t conn, const uint8_t *d, size_t len)
{
    (void)ctx, (void)conn;
    if (F.out_len + len > OUT_CAP) {
        F.out_len = F.out_checked = 0; /* checked as it comes: start over */
        if (len > OUT_CAP)
            abort();
    }
    memcpy(F.out + F.out_len, d, len);
    F.out_len += len;
    return len;
}

static int cb_submit(void *ctx, const dtx_command *c)
{
    (void)ctx;
    if (F.submit_full)
        return 1;
    if (F.ncmds < sizeof F.cmds / sizeof F.cmds[0])
        F.cmds[F.ncmds++] = *c;
    return 0;
}

static void cb_close(void *ctx, uint32_t conn) { (void)ctx, (void)conn; }

static size_t null_write(void *c, uint32_t n, const uint8_t *d, size_t l)
{
    (void)c, (void)n, (void)d;
    return l;
}
static int null_submit(void *c, const dtx_command *d)
{
    (void)c, (void)d;
    return 0;
}
static void null_close(void *c, uint32_t n) { (void)c, (void)n; }

/* Every whole message written so far frames and parses; live numbers rise. */
static void check_output(void)
{
    while (F.out_checked < F.out_len) {
        size_t len = 0;
        int fr = dtx_fix44_frame(F.out + F.out_checked, F.out_len - F.out_checked, &len);
        if (fr != FIX_FRAME_OK) {
            fprintf(stderr, "server output does not frame: %d\n", fr);
            abort();
        }
        fix_msg m;
        if (dtx_fix44_parse(F.out + F.out_checked, len, &m) != 0) {
            fprintf(stderr, "server output does not parse\n");
            abort();
        }
        size_t n;
        uint64_t seq = 0;
        if (dtx_fix44_get_u64(&m, 34, &seq) != 1)
            abort();
        if (!dtx_fix44_get(&m, 43, &n)) {
            if (seq <= F.last_live_seq && !(seq == 1 && strcmp(m.type, "5") == 0) &&
                !(seq == 1 && strcmp(m.type, "A") == 0)) {
                fprintf(stderr, "MsgSeqNum %llu after %llu\n", (unsigned long long)seq,
                        (unsigned long long)F.last_live_seq);
                abort();
            }
            F.last_live_seq = seq;
        }
        F.out_checked += len;
    }
}

static size_t build(char *buf, size_t cap, const char *type, uint64_t seq, uint64_t at,
                    const char *fields, size_t flen)
{
    char body[1024], ts[32];
    dtx_fix44_format_time(ts, at);
    int n = snprintf(body, sizeof body, "35=%s|49=FUZZ|56=DTX|34=%llu|52=%s|", type,
                     (unsigned long long)seq, ts);
    if (flen > sizeof body - (size_t)n)
        flen = sizeof body - (size_t)n;
    memcpy(body + n, fields, flen);
    n += (int)flen;
    for (int i = 0; i < n; i++)
        if (body[i] == '|')
            body[i] = FIX_SOH;
    return dtx_fix44_wrap(buf, cap, body, (size_t)n);
}

static void logon(dtx_fix44 *f, uint32_t conn, uint64_t now, int reset)
{
    char ts[32], fields[512], buf[1024];
    size_t tsn = dtx_fix44_format_time(ts, now);
    uint8_t digest[32], sig64[64];
    dtx_fixp_credentials_fix44_digest("FUZZ", 4, ts, tsn, digest);
    secp256k1_ecdsa_signature sig;
    if (!secp256k1_ecdsa_sign(F.secp, &sig, digest, F.seckey, NULL, NULL))
        abort();
    secp256k1_ecdsa_signature_serialize_compact(F.secp, sig64, &sig);
    int n = snprintf(fields, sizeof fields, "98=0|108=1|%s553=", reset ? "141=Y|" : "");
    for (int i = 0; i < 33; i++)
        n += snprintf(fields + n, sizeof fields - (size_t)n, "%02x", F.pubkey[i]);
    n += snprintf(fields + n, sizeof fields - (size_t)n, "|554=");
    for (int i = 0; i < 64; i++)
        n += snprintf(fields + n, sizeof fields - (size_t)n, "%02x", sig64[i]);
    n += snprintf(fields + n, sizeof fields - (size_t)n, "|");
    if (reset)
        F.next_seq = 1;
    size_t len = build(buf, sizeof buf, "A", F.next_seq++, now, fields, (size_t)n);
    dtx_fix44_on_bytes(f, conn, (const uint8_t *)buf, len, now);
    check_output();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
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
    F.last_live_seq = 0;
    F.submit_full = 0;
    F.ncmds = 0;
    F.next_seq = 1;

    dtx_session_config sc = {.max_connections = 1, .max_sessions = 1, .max_keys = 2,
                             .store_depth = 2, .send_buffer_bytes = 8192};
    dtx_session_callbacks ncb = {.write = null_write, .submit = null_submit, .close = null_close};
    dtx_sessions *keys = dtx_sessions_create(&sc, &ncb);
    if (!keys || dtx_session_add_key(keys, F.pubkey, 7, DTX_ROLE_TRADER, 0) != DTX_OK)
        abort();
    static const dtx_instrument_config instr[2] = {{.security_id = 1, .symbol = "BTC-PERP"},
                                                   {.security_id = 2, .symbol = "ETH-PERP"}};
    dtx_fix44_config fc = {.max_connections = 2, .max_sessions = 2, .session_base = 100,
                           .store_depth = 16, .max_clordids = 64, .max_orders = 16,
                           .send_buffer_bytes = 32768, .instruments = instr,
                           .n_instruments = 2, .keys = keys};
    dtx_session_callbacks cb = {.write = cb_write, .submit = cb_submit, .close = cb_close};
    dtx_fix44 *f = dtx_fix44_create(&fc, &cb);
    if (!f)
        abort();

    uint64_t now = T0;
    uint32_t conn = 0;
    int relogons = 0;
    uint8_t mode = data[0];
    size_t i = 1;
    dtx_fix44_open(f, conn, now);
    if (mode & 1)
        logon(f, conn, now, 0);
    while (i < size) {
        uint8_t op = data[i++] & 7;
        if (op <= 3) {
            if (i >= size)
                break;
            size_t len = (size_t)data[i++] + 1;
            if (len > size - i)
                len = size - i;
            size_t took = dtx_fix44_on_bytes(f, conn, data + i, len, now);
            if (took != len && !F.submit_full)
                abort();
            i += len;
        } else if (op == 4) {
            if (size - i < 3)
                break;
            const char *type = TYPES[data[i] & 15];
            uint64_t seq = data[i + 1] ? F.next_seq + data[i + 1] - 128 : F.next_seq;
            if ((int64_t)seq < 0)
                seq = 0;
            size_t len = (size_t)data[i + 2] + 1;
            i += 3;
            if (len > size - i)
                len = size - i;
            char buf[1200];
            size_t n = build(buf, sizeof buf, type, seq, now, (const char *)data + i, len);
            i += len;
            F.next_seq = seq + 1;
            size_t took = dtx_fix44_on_bytes(f, conn, (const uint8_t *)buf, n, now);
            if (took != n && !F.submit_full)
                abort();
        } else if (op == 5) {
            if (i >= size)
                break;
            now += (uint64_t)data[i++] * 50 * MS;
            dtx_fix44_tick(f, now);
        } else if (op == 6) {
            if (i >= size)
                break;
            uint8_t t = data[i++];
            for (size_t k = 0; k < F.ncmds; k++) {
                const dtx_command *c = &F.cmds[k];
                dtx_event ev;
                memset(&ev, 0, sizeof ev);
                ev.type = (uint8_t)(1 + (t + k) % 11);
                ev.session = c->session;
                ev.account = c->account;
                ev.security_id = c->security_id ? c->security_id : (t & 3);
                ev.side = c->side;
                ev.ord_type = c->ord_type;
                ev.clordid = c->clordid;
                ev.orig_clordid = c->orig_clordid;
                ev.order_id = c->order_id ? c->order_id : 1 + (t & 7);
                ev.exec_id = k + 1;
                ev.ts = now;
                ev.price = c->price;
                ev.order_qty = c->qty;
                ev.last_qty = 1 + (t & 3);
                ev.cum_qty = ev.last_qty;
                ev.leaves_qty = c->qty > ev.last_qty ? c->qty - ev.last_qty : 0;
                ev.ord_status = (uint8_t)(1 + (t & 1));
                ev.reject_reason = (uint16_t)(t % 22);
                ev.cancel_reason = (uint8_t)(t % 9);
                ev.ref_cmd_type = c->type;
                ev.response_to = (uint8_t)(1 + (t >> 7));
                dtx_fix44_on_event(f, &ev, now);
            }
            F.ncmds = 0;
        } else {
            if (i >= size)
                break;
            uint8_t t = data[i++];
            if (t % 3 == 0) {
                F.submit_full = !F.submit_full;
            } else if (t % 3 == 1) {
                dtx_fix44_on_writable(f, conn, now);
            } else {
                dtx_fix44_on_closed(f, conn, now);
                conn ^= 1;
                dtx_fix44_open(f, conn, now);
                F.last_live_seq = 0;
                F.out_checked = F.out_len; /* a partial message of the old one is gone */
                if ((mode & 1) && relogons < 4) {
                    relogons++;
                    now += MS;
                    logon(f, conn, now, t & 8);
                }
            }
        }
        check_output();
    }
    check_output();
    dtx_fix44_destroy(f);
    dtx_sessions_destroy(keys);
    return 0;
}
