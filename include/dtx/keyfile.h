/*
 * dtx/keyfile.h - trading keys of accounts, kept in a text file.
 *
 * dtx-engine registers one secp256k1 key per (account, role) with the session
 * layer (dtx_session_add_key). On the embedded default it runs demo accounts:
 * at its first start it generates their keys from the kernel's random source
 * (getrandom) and writes them to the key file; later starts load the same
 * file, so clients keep working across restarts.
 *
 * File format (text, mode 0600, one key per line; '#' starts a comment):
 *
 *   # account role secret_key_hex pubkey_hex
 *   1 trader 1f0e...(64 hex) 02ab...(66 hex, compressed)
 *
 * role is trader, drop-copy, risk, operator or oracle (dtx_session_role).
 * The secret is what a client signs Negotiate/Establish with; the public key
 * is what the engine registers. A file readable by group or others is
 * refused, like ssh refuses such a private key.
 */
#ifndef DTX_KEYFILE_H
#define DTX_KEYFILE_H

#include <stdint.h>

#include "dtx/error.h"
#include "dtx/session.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dtx_key_entry {
    uint32_t account;
    uint8_t role;          /* dtx_session_role */
    uint8_t seckey[32];    /* big-endian scalar, valid for secp256k1 */
    uint8_t pubkey[33];    /* compressed: 0x02/0x03 then X */
} dtx_key_entry;

/* Name of a role in the file ("trader", ...); "?" for an unknown value. */
const char *dtx_keyfile_role_name(unsigned role);

/*
 * Generates a fresh key from getrandom(2) for (account, role).
 * Returns DTX_OK or DTX_EIO when the kernel gives no randomness.
 */
dtx_status dtx_keyfile_generate(dtx_key_entry *out, uint32_t account, dtx_session_role role);

/*
 * Derives out->pubkey from out->seckey. Returns DTX_OK, or DTX_EINVAL when
 * the secret is not a valid secp256k1 scalar.
 */
dtx_status dtx_keyfile_derive(dtx_key_entry *out);

/*
 * Reads a key file into keys[0..cap). Every line is checked: the secret must
 * be valid and the public key must be the one it derives. Returns DTX_OK and
 * *n; DTX_EIO (cannot open; message names the path and errno); DTX_EINVAL (a
 * bad line, "path:line: ..."; a file readable by group/others; the same
 * (account, role) twice); DTX_EFULL (more than cap keys).
 */
dtx_status dtx_keyfile_load(const char *path, dtx_key_entry *keys, uint32_t cap, uint32_t *n);

/*
 * Writes keys to path atomically (a temporary file in the same directory,
 * fsync, rename), mode 0600. Returns DTX_OK or DTX_EIO.
 */
dtx_status dtx_keyfile_write(const char *path, const dtx_key_entry *keys, uint32_t n);

/*
 * The demo set-up: loads path if it exists, then makes sure each of the
 * trader accounts 1..accounts has a key, generating the missing ones and
 * rewriting the file when any was added. keys receives every key of the
 * file (other accounts and roles included). *generated (may be NULL) is set
 * to the number of keys generated now. Returns as dtx_keyfile_load() and
 * dtx_keyfile_write().
 */
dtx_status dtx_keyfile_ensure_demo(const char *path, uint32_t accounts, dtx_key_entry *keys,
                                   uint32_t cap, uint32_t *n, uint32_t *generated);

/*
 * After dtx_keyfile_ensure_demo(): makes sure keys[0..*n) (the file at path)
 * hold at least one key of each other role, generating the missing ones and
 * rewriting the file when any was added: risk, operator and oracle keys of
 * account 0 (the exchange's own account; dtx-admin uses them) and a
 * drop-copy key of account 1. *generated (may be NULL) is increased by the
 * number generated. Returns as dtx_keyfile_write(), or DTX_EFULL.
 */
dtx_status dtx_keyfile_ensure_roles(const char *path, dtx_key_entry *keys, uint32_t cap,
                                    uint32_t *n, uint32_t *generated);

#ifdef __cplusplus
}
#endif
#endif /* DTX_KEYFILE_H */
