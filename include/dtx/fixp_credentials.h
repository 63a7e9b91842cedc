/*
 * dtx/fixp_credentials.h - the credentials of FIXP Negotiate and Establish
 * (PROTOCOL.md, Session layer), for servers and clients alike.
 *
 * Credentials are exactly 97 bytes: pubkey33 ‖ sig64. pubkey33 is a
 * compressed secp256k1 public key; sig64 a compact low-S ECDSA signature
 * (r ‖ s, big-endian) over the 32-byte digest below. The tag names the
 * message so a signed Negotiate cannot be replayed as an Establish. The
 * FIX 4.4 Logon's digest lives here too, so every signer and checker of
 * either protocol hashes the same bytes.
 */
#ifndef DTX_FIXP_CREDENTIALS_H
#define DTX_FIXP_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DTX_FIXP_CREDENTIALS_LEN 97u
#define DTX_FIXP_TAG_LEN 18u
#define DTX_FIXP_TAG_NEGOTIATE "DTX-FIXP-NEGOTIATE" /* 18 bytes, no NUL signed */
#define DTX_FIXP_TAG_ESTABLISH "DTX-FIXP-ESTABLISH"

/* digest = SHA-256(tag ‖ session_id ‖ timestamp as 8 bytes little-endian),
 * with nettle's SHA-256.
 * In: tag (18 bytes), session_id (16 bytes, as in the root block),
 * timestamp (the root block's Timestamp, ns since the Unix epoch).
 * Out: digest (32 bytes). */
void dtx_fixp_credentials_digest(const char *tag, const uint8_t session_id[16],
                                 uint64_t timestamp, uint8_t digest[32]);

/* The FIX 4.4 gateway's Logon (35=A) signs the same way with the same keys
 * (PROTOCOL.md, "FIX 4.4 tag-value gateway"): Password 554 is a compact
 * low-S signature over
 *   digest = SHA-256("DTX-FIX-LOGON|" ‖ SenderCompID ‖ "|" ‖ SendingTime),
 * SenderCompID (49) and SendingTime (52) being the field values exactly as
 * sent (no SOH), with nettle's SHA-256. The server (net/fix44_session.c)
 * checks it and FIX clients sign it.
 * In: sender (sender_len bytes), sending_time (sending_time_len bytes).
 * Out: digest (32 bytes). */
#define DTX_FIX44_LOGON_TAG "DTX-FIX-LOGON|" /* 14 bytes, no NUL signed */
void dtx_fixp_credentials_fix44_digest(const char *sender, size_t sender_len,
                                       const char *sending_time, size_t sending_time_len,
                                       uint8_t digest[32]);

/* Builds the 97 credential bytes for seckey over the digest above, signed
 * with libsecp256k1 (RFC 6979 nonce; its signatures are low-S).
 * Returns DTX_OK, or DTX_EINVAL when seckey is not a valid secret.
 * In: seckey (32 bytes, big-endian), tag, session_id, timestamp.
 * Out: out (97 bytes). */
dtx_status dtx_fixp_credentials_sign(const uint8_t seckey[32], const char *tag,
                                     const uint8_t session_id[16], uint64_t timestamp,
                                     uint8_t out[DTX_FIXP_CREDENTIALS_LEN]);

#ifdef __cplusplus
}
#endif
#endif /* DTX_FIXP_CREDENTIALS_H */
