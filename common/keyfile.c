/*
 * keyfile.c - trading keys in a text file (dtx/keyfile.h): generation from
 * getrandom(2) with libsecp256k1, loading with every line checked, and atomic
 * 0600 writes. dtx-engine uses it at start-up to give its demo accounts keys
 * that survive restarts; the session layer's key registry is filled from the
 * public keys. Nothing here runs after start-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dtx/keyfile.h"

static const char *const role_names[] = {NULL, "trader", "drop-copy", "risk", "operator",
                                         "oracle"};
#define N_ROLES (sizeof role_names / sizeof role_names[0])

const char *dtx_keyfile_role_name(unsigned role)
{
    return role > 0 && role < N_ROLES ? role_names[role] : "?";
}

static int role_parse(const char *s, uint8_t *out)
{
    for (unsigned r = 1; r < N_ROLES; r++) {
        if (strcmp(s, role_names[r]) == 0) {
            *out = (uint8_t)r;
            return 1;
        }
    }
    return 0;
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

static int fill_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        p += got;
        n -= (size_t)got;
    }
    return 1;
}

dtx_status dtx_keyfile_derive(dtx_key_entry *out)
{
    secp256k1_pubkey pk;
    size_t len = sizeof out->pubkey;
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    dtx_status st = DTX_OK;

    if (!ctx)
        return dtx_error_set(DTX_ENOMEM, "keyfile: cannot create a secp256k1 context");
    if (!secp256k1_ec_seckey_verify(ctx, out->seckey) ||
        !secp256k1_ec_pubkey_create(ctx, &pk, out->seckey)) {
        st = dtx_error_set(DTX_EINVAL, "keyfile: secret key is not a valid secp256k1 scalar");
    } else {
        secp256k1_ec_pubkey_serialize(ctx, out->pubkey, &len, &pk, SECP256K1_EC_COMPRESSED);
    }
    secp256k1_context_destroy(ctx);
    return st;
}

dtx_status dtx_keyfile_generate(dtx_key_entry *out, uint32_t account, dtx_session_role role)
{
    memset(out, 0, sizeof *out);
    out->account = account;
    out->role = (uint8_t)role;
    /* A random 32-byte string is a valid scalar except with probability
     * ~2^-128; draw again in that case. */
    for (int tries = 0; tries < 8; tries++) {
        if (!fill_random(out->seckey, sizeof out->seckey))
            return dtx_error_set(DTX_EIO, "keyfile: getrandom: %s", strerror(errno));
        if (dtx_keyfile_derive(out) == DTX_OK)
            return DTX_OK;
    }
    wipe(out->seckey, sizeof out->seckey);
    return dtx_error_set(DTX_EIO, "keyfile: the random source gives no valid secret keys");
}

static int hex_decode(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return 0;
    for (size_t i = 0; i < 2 * n; i++) {
        char ch = s[i];
        int v;
        if (ch >= '0' && ch <= '9')
            v = ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            v = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F')
            v = ch - 'A' + 10;
        else
            return 0;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 1;
}

static void hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Parses one non-comment line into e. Returns NULL or the reason. */
static const char *parse_line(char *line, dtx_key_entry *e)
{
    char *save = NULL, *f[5];
    int nf = 0;
    unsigned long acct;
    char *end;
    uint8_t want[33];

    for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (nf == 4)
            return "more than 4 fields (account role secret_hex pubkey_hex)";
        f[nf++] = t;
    }
    if (nf != 4)
        return "expected 4 fields: account role secret_hex pubkey_hex";
    errno = 0;
    acct = strtoul(f[0], &end, 10);
    if (errno || *end || f[0][0] == '-' || acct > UINT32_MAX)
        return "account is not an integer in 0..4294967295";
    memset(e, 0, sizeof *e);
    e->account = (uint32_t)acct;
    if (!role_parse(f[1], &e->role))
        return "role is not one of trader, drop-copy, risk, operator, oracle";
    if (!hex_decode(f[2], e->seckey, 32))
        return "secret key is not 64 hex digits";
    if (!hex_decode(f[3], want, 33) || (want[0] != 0x02 && want[0] != 0x03))
        return "public key is not 66 hex digits of a compressed key (02/03...)";
    if (dtx_keyfile_derive(e) != DTX_OK)
        return "secret key is not a valid secp256k1 scalar";
    if (memcmp(want, e->pubkey, 33) != 0)
        return "public key is not the one the secret key derives";
    return NULL;
}

dtx_status dtx_keyfile_load(const char *path, dtx_key_entry *keys, uint32_t cap, uint32_t *n)
{
    char line[512];
    unsigned lineno = 0;
    struct stat sb;
    dtx_status st = DTX_OK;
    FILE *f = fopen(path, "r");

    *n = 0;
    if (!f)
        return dtx_error_set(DTX_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077) != 0) {
        fclose(f);
        return dtx_error_set(DTX_EINVAL,
                             "%s: holds secret keys but is readable by group or others (mode "
                             "%04o); chmod 600 it",
                             path, (unsigned)(sb.st_mode & 07777));
    }
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        const char *why;
        dtx_key_entry e;
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            st = dtx_error_set(DTX_EINVAL, "%s:%u: line longer than %zu bytes", path, lineno,
                               sizeof line - 2);
            break;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
            continue;
        why = parse_line(p, &e);
        if (why) {
            st = dtx_error_set(DTX_EINVAL, "%s:%u: %s", path, lineno, why);
            wipe(&e, sizeof e);
            break;
        }
        for (uint32_t i = 0; i < *n; i++) {
            if (keys[i].account == e.account && keys[i].role == e.role) {
                st = dtx_error_set(DTX_EINVAL, "%s:%u: account %u already has a %s key", path,
                                   lineno, e.account, dtx_keyfile_role_name(e.role));
                break;
            }
        }
        if (st != DTX_OK)
            break;
        if (*n == cap) {
            st = dtx_error_set(DTX_EFULL, "%s:%u: more than %u keys", path, lineno, cap);
            break;
        }
        keys[(*n)++] = e;
        wipe(&e, sizeof e);
    }
    wipe(line, sizeof line);
    if (st == DTX_OK && ferror(f))
        st = dtx_error_set(DTX_EIO, "%s: read error", path);
    fclose(f);
    if (st != DTX_OK) {
        wipe(keys, sizeof *keys * *n);
        *n = 0;
    }
    return st;
}

dtx_status dtx_keyfile_write(const char *path, const dtx_key_entry *keys, uint32_t n)
{
    char tmp[4096 + 8];
    char sec[65], pub[67];
    FILE *f;
    int fd, ok = 1;

    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return dtx_error_set(DTX_EINVAL, "%s: path too long", path);
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return dtx_error_set(DTX_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return dtx_error_set(DTX_EIO, "%s: %s", tmp, strerror(errno));
    }
    ok &= fprintf(f, "# dtx trading keys (secret: keep this file private, mode 0600).\n"
                     "# account role secret_key_hex compressed_pubkey_hex\n") > 0;
    for (uint32_t i = 0; i < n && ok; i++) {
        hex_encode(keys[i].seckey, 32, sec);
        hex_encode(keys[i].pubkey, 33, pub);
        ok &= fprintf(f, "%u %s %s %s\n", keys[i].account, dtx_keyfile_role_name(keys[i].role),
                      sec, pub) > 0;
    }
    wipe(sec, sizeof sec);
    ok &= fflush(f) == 0;
    ok &= fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok) {
        unlink(tmp);
        return dtx_error_set(DTX_EIO, "%s: write failed: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return dtx_error_set(DTX_EIO, "%s: cannot rename into place: %s", path, strerror(e));
    }
    return DTX_OK;
}

dtx_status dtx_keyfile_ensure_demo(const char *path, uint32_t accounts, dtx_key_entry *keys,
                                   uint32_t cap, uint32_t *n, uint32_t *generated)
{
    dtx_status st;
    uint32_t added = 0;

    *n = 0;
    if (generated)
        *generated = 0;
    if (access(path, F_OK) == 0) {
        st = dtx_keyfile_load(path, keys, cap, n);
        if (st != DTX_OK)
            return st;
    }
    for (uint32_t a = 1; a <= accounts; a++) {
        uint32_t i;
        for (i = 0; i < *n; i++) {
            if (keys[i].account == a && keys[i].role == DTX_ROLE_TRADER)
                break;
        }
        if (i < *n)
            continue;
        if (*n == cap)
            return dtx_error_set(DTX_EFULL, "%s: more than %u keys", path, cap);
        st = dtx_keyfile_generate(&keys[*n], a, DTX_ROLE_TRADER);
        if (st != DTX_OK)
            return st;
        (*n)++;
        added++;
    }
    if (added > 0) {
        st = dtx_keyfile_write(path, keys, *n);
        if (st != DTX_OK)
            return st;
    }
    if (generated)
        *generated = added;
    return DTX_OK;
}

dtx_status dtx_keyfile_ensure_roles(const char *path, dtx_key_entry *keys, uint32_t cap,
                                    uint32_t *n, uint32_t *generated)
{
    static const struct {
        uint32_t account;
        dtx_session_role role;
    } want[] = {{1, DTX_ROLE_DROP_COPY}, {0, DTX_ROLE_RISK}, {0, DTX_ROLE_OPERATOR},
                {0, DTX_ROLE_ORACLE}};
    uint32_t added = 0;
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        uint32_t i;
        for (i = 0; i < *n; i++)
            if (keys[i].role == want[w].role)
                break;
        if (i < *n)
            continue;
        if (*n == cap)
            return dtx_error_set(DTX_EFULL, "%s: more than %u keys", path, cap);
        dtx_status st = dtx_keyfile_generate(&keys[*n], want[w].account, want[w].role);
        if (st != DTX_OK)
            return st;
        (*n)++;
        added++;
    }
    if (added > 0) {
        dtx_status st = dtx_keyfile_write(path, keys, *n);
        if (st != DTX_OK)
            return st;
    }
    if (generated)
        *generated += added;
    return DTX_OK;
}
