/*
 * fix44_harness.h - a FIX 4.4 client and transport in memory, for the
 * fix44 suites (tests/fix44_*.c) and nothing else.
 *
 * Drives a dtx_fix44 through its calls only: messages built as text with '|'
 * for SOH go in through dtx_fix44_on_bytes(); what the layer writes is kept
 * per connection and read back message by message; commands it submits are
 * recorded. Keys are registered in a dtx_sessions (the shared registry) from
 * fixed seeds and Logons are signed with libsecp256k1 as a client would.
 */
#ifndef DTX_TEST_FIX44_HARNESS_H
#define DTX_TEST_FIX44_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "../net/fix44_codec.h"
#include "dtx/fix44.h"
#include "dtx/session.h"

#define XH_CONNS 4
#define XH_OUT_CAP (1u << 20)
#define XH_CMDS 1024
#define XH_KEYS 4
#define XH_BASE 1000u /* session_base */

/* 0 trader account 7 cancel-on-disconnect, 1 trader account 8, 2 drop-copy
 * account 9, 3 unregistered */
enum { XH_KEY_TRADER = 0, XH_KEY_TRADER2 = 1, XH_KEY_DROPCOPY = 2, XH_KEY_UNKNOWN = 3 };

/* Test clock: 2026-01-01T00:00:00Z in ns. */
#define XH_T0 1767225600000000000ull
#define XH_MS 1000000ull
#define XH_S 1000000000ull

typedef struct fix44_harness {
    dtx_sessions *keys;
    dtx_fix44 *f;
    void *secp;
    uint8_t seckey[XH_KEYS][32];
    uint8_t pubkey[XH_KEYS][33];
    uint8_t *out[XH_CONNS];
    size_t out_len[XH_CONNS], out_read[XH_CONNS];
    int closed[XH_CONNS];
    dtx_command cmds[XH_CMDS];
    size_t ncmds;
    int submit_full;
    uint64_t next_seq[XH_CONNS]; /* the client's next MsgSeqNum per conn */
} fix44_harness;

/* Creates everything with cfg (NULL: small test defaults; keys and
 * instruments are filled in when zero). Instruments: 1 BTC-PERP, 2 ETH-PERP. */
void xh_init(fix44_harness *h, const dtx_fix44_config *cfg);
void xh_fini(fix44_harness *h);

/* A whole message: header 35, 49 sender, 56 DTX, 34 seq, 52 the time of
 * `at`, then fields ("11=a|55=BTC-PERP|", '|' for SOH). Returns its length. */
size_t xh_build(char *buf, size_t cap, const char *type, const char *sender, uint64_t seq,
                uint64_t at, const char *fields);

/* Feeds bytes to conn; returns what dtx_fix44_on_bytes returned. */
size_t xh_feed(fix44_harness *h, uint32_t conn, const void *buf, size_t len, uint64_t now);

/* Builds and feeds a message with the conn's next MsgSeqNum (taken). */
void xh_send(fix44_harness *h, uint32_t conn, const char *type, const char *fields, uint64_t now);

/* A signed Logon (mode 0 good, 1 bad signature, 2 uppercase hex) with
 * MsgSeqNum seq; fields appended (e.g. "141=Y|"). */
size_t xh_logon_msg(fix44_harness *h, char *buf, size_t cap, int key, const char *sender,
                    uint64_t seq, uint64_t sending, uint32_t hb, int mode, const char *fields);

/* Opens conn and logs on with key as sender (HeartBtInt 30, MsgSeqNum the
 * conn's next); reads the answering Logon. Returns the session number. */
int xh_logon(fix44_harness *h, uint32_t conn, int key, const char *sender, uint64_t now);

/* Next unread message on conn: 1 and *m (valid until the harness is freed),
 * 0 when none is left. Asserts each one frames with a good CheckSum. */
int xh_next(fix44_harness *h, uint32_t conn, fix_msg *m);
int xh_pending(fix44_harness *h, uint32_t conn);
/* Reads the next message and asserts its MsgType. */
fix_msg xh_expect(fix44_harness *h, uint32_t conn, const char *type);

/* Value of tag as a NUL-terminated string ("" when absent; one static
 * buffer per call slot, 8 in rotation). */
const char *xh_get(const fix_msg *m, uint32_t tag);

/* A report event for session number `session`. */
dtx_event xh_event(uint8_t type, uint32_t session, uint64_t clordid, uint64_t order_id,
                   uint64_t exec_id);

#endif
