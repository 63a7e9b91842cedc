/*
 * fixp_harness.h - a FIXP client and transport in memory, for session tests.
 *
 * Drives a dtx_sessions through its calls only: frames built with the
 * generated codecs go in through dtx_session_on_bytes(), what the session
 * writes is kept per connection and read back frame by frame, commands it
 * submits are recorded. Keys come from fixed seeds (secret key = 32 bytes of
 * seed), signed with libsecp256k1 as a client would.
 */
#ifndef DTX_TEST_FIXP_HARNESS_H
#define DTX_TEST_FIXP_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/session.h"
#include "dtx/sofh.h"

#define FH_CONNS 8
#define FH_OUT_CAP (1u << 20)
#define FH_CMDS 4096
#define FH_KEYS 4

/* Registered keys: 0 trader account 7 cancel-on-disconnect, 1 trader account
 * 8, 2 drop-copy account 9; 3 is never registered. */
enum { FH_KEY_TRADER = 0, FH_KEY_TRADER2 = 1, FH_KEY_DROPCOPY = 2, FH_KEY_UNKNOWN = 3 };

/* Ways to spoil credentials. */
enum { FH_CRED_GOOD = 0, FH_CRED_BAD_SIG, FH_CRED_HIGH_S, FH_CRED_SHORT };

/* Test clock: 2026-01-01T00:00:00Z in ns. */
#define FH_T0 1767225600000000000ull

typedef struct fixp_harness {
    dtx_sessions *s;
    void *secp; /* secp256k1_context * */
    uint8_t seckey[FH_KEYS][32];
    uint8_t pubkey[FH_KEYS][33];
    uint8_t *out[FH_CONNS];
    size_t out_len[FH_CONNS];
    size_t out_read[FH_CONNS];
    int closed[FH_CONNS];
    dtx_command cmds[FH_CMDS];
    size_t ncmds;
    int submit_full;    /* submit() reports a full ring */
    size_t write_limit; /* write() takes at most this per call (0: all) */
    int write_blocked;  /* write() takes nothing */
} fixp_harness;

/* Creates the sessions with cfg (NULL: small test defaults) and registers
 * the keys. fh_fini frees. */
void fh_init(fixp_harness *h, const dtx_session_config *cfg);
void fh_fini(fixp_harness *h);

/* uuid with every byte b */
void fh_uuid(uint8_t uuid[16], uint8_t b);

/* pubkey33 ‖ sig64 over SHA-256(tag ‖ uuid ‖ ts LE), spoiled as `mode`.
 * Returns the length (97, or 96 for FH_CRED_SHORT). */
size_t fh_credentials(fixp_harness *h, int key, const char *tag18, const uint8_t uuid[16],
                      uint64_t ts, int mode, uint8_t out[97]);

/* Frame builders: each writes one SOFH frame to buf, returns its length. */
size_t fh_negotiate(fixp_harness *h, uint8_t *buf, const uint8_t uuid[16], uint64_t ts, int key,
                    int mode, uint8_t flow);
size_t fh_establish(fixp_harness *h, uint8_t *buf, const uint8_t uuid[16], uint64_t ts, int key,
                    int mode, uint32_t keepalive_ms);
size_t fh_sequence(uint8_t *buf, uint64_t next);
size_t fh_retransmit_request(uint8_t *buf, const uint8_t uuid[16], uint64_t ts, uint64_t from,
                             uint32_t count);
size_t fh_terminate(uint8_t *buf, const uint8_t uuid[16], uint8_t code);
/* NewOrderSingle: limit GTC buy 10 @ 100.000000000 of instrument 1. */
size_t fh_new_order(uint8_t *buf, uint64_t clordid);
size_t fh_cancel(uint8_t *buf, uint64_t clordid, uint64_t order_id);
size_t fh_mass_cancel(uint8_t *buf, uint64_t clordid);
/* Any header/body: for malformed and unknown frames. */
size_t fh_raw(uint8_t *buf, uint16_t block_length, uint16_t template_id, uint16_t schema_id,
              uint16_t version, const uint8_t *body, size_t body_len);

/* Feeds bytes to conn; returns what dtx_session_on_bytes returned. */
size_t fh_send(fixp_harness *h, uint32_t conn, const uint8_t *buf, size_t len, uint64_t now);

/* Next unread frame written to conn: 1 with *f (body valid until the
 * harness is freed), 0 when none is left. */
int fh_next(fixp_harness *h, uint32_t conn, dtx_frame *f);
/* Frames still unread on conn. */
int fh_pending(fixp_harness *h, uint32_t conn);

/* Opens conn, negotiates uuid (byte b) with key, establishes with
 * keepalive 1000 ms and sends Sequence(1); reads the answers. Returns the
 * session slot. Asserts on any surprise. */
int fh_connect(fixp_harness *h, uint32_t conn, uint8_t b, int key, uint64_t now);
/* Opens conn and establishes an already negotiated session (uuid byte b)
 * with Establish at ts; reads the EstablishmentAck; returns its NextSeqNo. */
uint64_t fh_reconnect(fixp_harness *h, uint32_t conn, uint8_t b, int key, uint64_t ts);

/* A report event for session slot si (ExecutionReportNew of clordid). */
dtx_event fh_event_new(int si, uint64_t clordid, uint64_t exec_id);

#endif
