/*
 * fix44_harness.c - in-memory FIX 4.4 client and transport for the fix44
 * suites. See fix44_harness.h.
 */
#include "support/fix44_harness.h"

#include <criterion/criterion.h>
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/fixp_credentials.h"

static size_t cb_write(void *ctx, uint32_t conn, const uint8_t *data, size_t len)
{
    fix44_harness *h = ctx;
    cr_assert_lt(conn, XH_CONNS);
    cr_assert_leq(h->out_len[conn] + len, XH_OUT_CAP, "harness output full");
    memcpy(h->out[conn] + h->out_len[conn], data, len);
    h->out_len[conn] += len;
    return len;
}

static int cb_submit(void *ctx, const dtx_command *cmd)
{
    fix44_harness *h = ctx;
    if (h->submit_full)
        return -1;
    cr_assert_lt(h->ncmds, XH_CMDS);
    h->cmds[h->ncmds++] = *cmd;
    return 0;
}

static void cb_close(void *ctx, uint32_t conn)
{
    fix44_harness *h = ctx;
    cr_assert_lt(conn, XH_CONNS);
    h->closed[conn]++;
}

static size_t null_write(void *ctx, uint32_t conn, const uint8_t *d, size_t len)
{
    (void)ctx, (void)conn, (void)d;
    return len;
}
static int null_submit(void *ctx, const dtx_command *cmd)
{
    (void)ctx, (void)cmd;
    return 0;
}
static void null_close(void *ctx, uint32_t conn) { (void)ctx, (void)conn; }

static const dtx_instrument_config INSTRUMENTS[2] = {
    {.security_id = 1, .symbol = "BTC-PERP"},
    {.security_id = 2, .symbol = "ETH-PERP"},
};

void xh_init(fix44_harness *h, const dtx_fix44_config *cfg)
{
    memset(h, 0, sizeof *h);
    dtx_session_config sc = {.max_connections = 2, .max_sessions = 2, .max_keys = 8,
                             .store_depth = 2, .send_buffer_bytes = 16384};
    dtx_session_callbacks ncb = {.write = null_write, .submit = null_submit, .close = null_close};
    h->keys = dtx_sessions_create(&sc, &ncb);
    cr_assert(h->keys, "dtx_sessions_create: %s", dtx_error_message());
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    h->secp = ctx;
    for (int i = 0; i < XH_KEYS; i++) {
        memset(h->seckey[i], 0x11 * (i + 1), 32);
        secp256k1_pubkey pk;
        cr_assert(secp256k1_ec_pubkey_create(ctx, &pk, h->seckey[i]));
        size_t n = 33;
        secp256k1_ec_pubkey_serialize(ctx, h->pubkey[i], &n, &pk, SECP256K1_EC_COMPRESSED);
    }
    cr_assert_eq(dtx_session_add_key(h->keys, h->pubkey[0], 7, DTX_ROLE_TRADER,
                                     DTX_KEY_CANCEL_ON_DISCONNECT), DTX_OK);
    cr_assert_eq(dtx_session_add_key(h->keys, h->pubkey[1], 8, DTX_ROLE_TRADER, 0), DTX_OK);
    cr_assert_eq(dtx_session_add_key(h->keys, h->pubkey[2], 9, DTX_ROLE_DROP_COPY, 0), DTX_OK);
    for (int i = 0; i < XH_CONNS; i++) {
        h->out[i] = malloc(XH_OUT_CAP);
        cr_assert(h->out[i]);
        h->next_seq[i] = 1;
    }
    dtx_fix44_config c = {.max_connections = XH_CONNS, .max_sessions = 4,
                          .session_base = XH_BASE, .store_depth = 64, .max_clordids = 256,
                          .max_orders = 256, .send_buffer_bytes = 65536};
    if (cfg)
        c = *cfg;
    if (!c.keys)
        c.keys = h->keys;
    if (!c.instruments) {
        c.instruments = INSTRUMENTS;
        c.n_instruments = 2;
    }
    dtx_session_callbacks cb = {.ctx = h, .write = cb_write, .submit = cb_submit,
                                .close = cb_close};
    h->f = dtx_fix44_create(&c, &cb);
    cr_assert(h->f, "dtx_fix44_create: %s", dtx_error_message());
}

void xh_fini(fix44_harness *h)
{
    dtx_fix44_destroy(h->f);
    dtx_sessions_destroy(h->keys);
    secp256k1_context_destroy(h->secp);
    for (int i = 0; i < XH_CONNS; i++)
        free(h->out[i]);
}

size_t xh_build(char *buf, size_t cap, const char *type, const char *sender, uint64_t seq,
                uint64_t at, const char *fields)
{
    char body[4096], ts[32];
    dtx_fix44_format_time(ts, at);
    int n = snprintf(body, sizeof body, "35=%s|49=%s|56=DTX|34=%llu|52=%s|%s", type, sender,
                     (unsigned long long)seq, ts, fields ? fields : "");
    cr_assert_lt((size_t)n, sizeof body);
    for (int i = 0; i < n; i++)
        if (body[i] == '|')
            body[i] = FIX_SOH;
    size_t len = dtx_fix44_wrap(buf, cap, body, (size_t)n);
    cr_assert_gt(len, 0);
    return len;
}

size_t xh_feed(fix44_harness *h, uint32_t conn, const void *buf, size_t len, uint64_t now)
{
    return dtx_fix44_on_bytes(h->f, conn, buf, len, now);
}

void xh_send(fix44_harness *h, uint32_t conn, const char *type, const char *fields, uint64_t now)
{
    char buf[4200];
    size_t n = xh_build(buf, sizeof buf, type, "FIRM7", h->next_seq[conn]++, now, fields);
    cr_assert_eq(xh_feed(h, conn, buf, n, now), n);
}

size_t xh_logon_msg(fix44_harness *h, char *buf, size_t cap, int key, const char *sender,
                    uint64_t seq, uint64_t sending, uint32_t hb, int mode, const char *fields)
{
    char ts[32];
    size_t tsn = dtx_fix44_format_time(ts, sending);
    uint8_t digest[32];
    dtx_fixp_credentials_fix44_digest(sender, strlen(sender), ts, tsn, digest);
    secp256k1_ecdsa_signature sig;
    cr_assert(secp256k1_ecdsa_sign(h->secp, &sig, digest, h->seckey[key], NULL, NULL));
    uint8_t sig64[64];
    secp256k1_ecdsa_signature_serialize_compact(h->secp, sig64, &sig);
    if (mode == 1)
        sig64[10] ^= 1;
    char f[512];
    int n = snprintf(f, sizeof f, "98=0|108=%u|553=", hb);
    for (int i = 0; i < 33; i++)
        n += snprintf(f + n, sizeof f - (size_t)n, mode == 2 ? "%02X" : "%02x", h->pubkey[key][i]);
    n += snprintf(f + n, sizeof f - (size_t)n, "|554=");
    for (int i = 0; i < 64; i++)
        n += snprintf(f + n, sizeof f - (size_t)n, "%02x", sig64[i]);
    snprintf(f + n, sizeof f - (size_t)n, "|%s", fields ? fields : "");
    return xh_build(buf, cap, "A", sender, seq, sending, f);
}

int xh_logon(fix44_harness *h, uint32_t conn, int key, const char *sender, uint64_t now)
{
    char buf[1024];
    cr_assert_eq(dtx_fix44_open(h->f, conn, now), DTX_OK);
    size_t n = xh_logon_msg(h, buf, sizeof buf, key, sender, h->next_seq[conn]++, now, 30, 0, NULL);
    cr_assert_eq(xh_feed(h, conn, buf, n, now), n);
    fix_msg m = xh_expect(h, conn, "A");
    cr_assert_str_eq(xh_get(&m, 108), "30");
    int s = dtx_fix44_session_of_conn(h->f, conn);
    cr_assert_geq(s, (int)XH_BASE);
    return s;
}

int xh_next(fix44_harness *h, uint32_t conn, fix_msg *m)
{
    size_t have = h->out_len[conn] - h->out_read[conn];
    if (!have)
        return 0;
    size_t len = 0;
    const uint8_t *p = h->out[conn] + h->out_read[conn];
    int fr = dtx_fix44_frame(p, have, &len);
    cr_assert_eq(fr, FIX_FRAME_OK, "server output does not frame (%d)", fr);
    cr_assert_eq(dtx_fix44_parse(p, len, m), 0);
    h->out_read[conn] += len;
    return 1;
}

int xh_pending(fix44_harness *h, uint32_t conn)
{
    int n = 0;
    size_t keep = h->out_read[conn];
    fix_msg m;
    while (xh_next(h, conn, &m))
        n++;
    h->out_read[conn] = keep;
    return n;
}

fix_msg xh_expect(fix44_harness *h, uint32_t conn, const char *type)
{
    fix_msg m;
    cr_assert(xh_next(h, conn, &m), "expected MsgType %s, got nothing", type);
    cr_assert_str_eq(m.type, type, "MsgType %s, expected %s (Text: %s)", m.type, type,
                     xh_get(&m, 58));
    return m;
}

const char *xh_get(const fix_msg *m, uint32_t tag)
{
    static char bufs[8][256];
    static int k;
    char *b = bufs[k++ & 7];
    size_t n = 0;
    const char *v = dtx_fix44_get(m, tag, &n);
    if (!v)
        n = 0;
    if (n > 255)
        n = 255;
    memcpy(b, v ? v : "", n);
    b[n] = 0;
    return b;
}

dtx_event xh_event(uint8_t type, uint32_t session, uint64_t clordid, uint64_t order_id,
                   uint64_t exec_id)
{
    dtx_event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.session = (uint16_t)session;
    e.account = 7;
    e.security_id = 1;
    e.side = 1;
    e.ord_type = 2;
    e.tif = 1;
    e.clordid = clordid;
    e.order_id = order_id;
    e.exec_id = exec_id;
    e.ts = XH_T0 + 5 * XH_MS;
    e.price = 100000000000;
    e.stop_px = INT64_MIN;
    e.order_qty = 10;
    e.leaves_qty = 10;
    return e;
}
