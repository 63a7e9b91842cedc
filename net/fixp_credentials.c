/*
 * fixp_credentials.c - the digest FIXP credentials sign, the digest a FIX 4.4
 * Logon signs, and the signing a client does (dtx/fixp_credentials.h). Kept
 * apart from the servers' state machines so the servers' checks and every
 * client hash the same bytes.
 *
 * Signing makes a libsecp256k1 context per call: a client signs twice per
 * connection, never on the order path.
 */
#include <nettle/sha2.h>
#include <secp256k1.h>
#include <string.h>

#include "dtx/fixp_credentials.h"

void dtx_fixp_credentials_digest(const char *tag, const uint8_t session_id[16],
                                 uint64_t timestamp, uint8_t digest[32])
{
    uint8_t tsb[8];
    for (int i = 0; i < 8; i++)
        tsb[i] = (uint8_t)(timestamp >> (8 * i));
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, DTX_FIXP_TAG_LEN, (const uint8_t *)tag);
    sha256_update(&h, 16, session_id);
    sha256_update(&h, 8, tsb);
    sha256_digest(&h, 32, digest);
}

void dtx_fixp_credentials_fix44_digest(const char *sender, size_t sender_len,
                                       const char *sending_time, size_t sending_time_len,
                                       uint8_t digest[32])
{
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, sizeof DTX_FIX44_LOGON_TAG - 1, (const uint8_t *)DTX_FIX44_LOGON_TAG);
    sha256_update(&h, sender_len, (const uint8_t *)sender);
    sha256_update(&h, 1, (const uint8_t *)"|");
    sha256_update(&h, sending_time_len, (const uint8_t *)sending_time);
    sha256_digest(&h, 32, digest);
}

dtx_status dtx_fixp_credentials_sign(const uint8_t seckey[32], const char *tag,
                                     const uint8_t session_id[16], uint64_t timestamp,
                                     uint8_t out[DTX_FIXP_CREDENTIALS_LEN])
{
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey pk;
    secp256k1_ecdsa_signature sig;
    uint8_t digest[32];
    size_t n = 33;
    dtx_status st = DTX_OK;

    if (!ctx)
        return dtx_error_set(DTX_ENOMEM, "credentials: no secp256k1 context");
    dtx_fixp_credentials_digest(tag, session_id, timestamp, digest);
    if (!secp256k1_ec_pubkey_create(ctx, &pk, seckey) ||
        !secp256k1_ecdsa_sign(ctx, &sig, digest, seckey, NULL, NULL)) {
        st = dtx_error_set(DTX_EINVAL, "credentials: secret key is not valid for secp256k1");
    } else {
        secp256k1_ec_pubkey_serialize(ctx, out, &n, &pk, SECP256K1_EC_COMPRESSED);
        secp256k1_ecdsa_signature_serialize_compact(ctx, out + 33, &sig);
    }
    secp256k1_context_destroy(ctx);
    return st;
}
