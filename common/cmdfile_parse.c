/*
 * cmdfile_parse.c - command files (dtx/cmdfile.h), the reading side: the text
 * grammar's tables, the line parser, the binary header and records, parsing
 * whole buffers, and a streaming reader that tells the two forms apart by the
 * magic. The printers that write the same grammar back are in cmdfile_print.c;
 * what both share is declared in common/cmdfile_internal.h.
 *
 * The text parser is fed untrusted bytes (hand-written files, fuzzers, files
 * attached to bug reports). It works in place on the caller's line: every
 * token is a (pointer, length) slice of it, every number is parsed with an
 * explicit overflow check, and every offending value is escaped and cut short
 * before it goes into an error message. Nothing is allocated per line.
 *
 * Prices are converted from decimal text to PRICE9 with integer arithmetic
 * only, so "0.1" is exactly 100000000 and a price either converts exactly or
 * is rejected.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cmdfile_internal.h"
#include "dtx/cmdfile.h"
#include "dtx/types.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "command files hold records as is: little-endian hosts only"
#endif

#define NS_PER_US 1000u

/* ---- small helpers ---------------------------------------------------------- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static int slice_eq(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return n == len && memcmp(s, lit, n) == 0;
}

/*
 * Copies an untrusted value into out for an error message: printable ASCII as
 * is, anything else as \xNN, at most 40 input bytes (then "...").
 */
#define QUOTE_CAP 176
static const char *quote(const char *s, size_t len, char out[QUOTE_CAP])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i;
    size_t n = len > 40 ? 40 : len;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (n < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* ---- numbers ---------------------------------------------------------------- */

enum num_err { NUM_OK = 0, NUM_SYNTAX, NUM_DECIMALS, NUM_RANGE };

/* Unsigned decimal, digits only, <= max. */
static enum num_err parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    int over = 0;
    size_t i;
    if (len == 0)
        return NUM_SYNTAX;
    for (i = 0; i < len; i++)
        if (!is_digit(s[i]))
            return NUM_SYNTAX;
    for (i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            over = 1;
        else
            v = v * 10 + d;
    }
    if (over || v > max)
        return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

/* Signed decimal: optional '-' or '+', then digits; within int64. */
static enum num_err parse_i64(const char *s, size_t len, int64_t *out)
{
    int neg = 0;
    uint64_t mag;
    enum num_err e;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s++;
        len--;
    }
    e = parse_u64(s, len, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &mag);
    if (e != NUM_OK)
        return e;
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return NUM_OK;
}

/* [+-]digits[.digits], at most 9 decimals, |value| within int64 PRICE9. */
static enum num_err parse_price9(const char *s, size_t len, int64_t *out)
{
    size_t i = 0, int_start, int_len, frac_start = 0, frac_len = 0;
    int neg = 0;
    uint64_t ip = 0, fp = 0, mag, limit;
    int over = 0;

    if (i < len && (s[i] == '-' || s[i] == '+')) {
        neg = s[i] == '-';
        i++;
    }
    int_start = i;
    while (i < len && is_digit(s[i]))
        i++;
    int_len = i - int_start;
    if (int_len == 0)
        return NUM_SYNTAX;
    if (i < len && s[i] == '.') {
        i++;
        frac_start = i;
        while (i < len && is_digit(s[i]))
            i++;
        frac_len = i - frac_start;
        if (frac_len == 0)
            return NUM_SYNTAX;
    }
    if (i != len)
        return NUM_SYNTAX;
    if (frac_len > 9)
        return NUM_DECIMALS;

    for (i = int_start; i < int_start + int_len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (ip > (UINT64_MAX - d) / 10)
            over = 1;
        else
            ip = ip * 10 + d;
    }
    for (i = 0; i < 9; i++)
        fp = fp * 10 + (i < frac_len ? (uint64_t)(s[frac_start + i] - '0') : 0);
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (over || ip > limit / PRICE9_ONE)
        return NUM_RANGE;
    mag = ip * PRICE9_ONE;
    if (mag > limit - fp)
        return NUM_RANGE;
    mag += fp;
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return NUM_OK;
}

dtx_status dtx_price9_parse(const char *s, size_t len, int64_t *out)
{
    if (!s || !out)
        return DTX_EFORMAT;
    return parse_price9(s, len, out) == NUM_OK ? DTX_OK : DTX_EFORMAT;
}

/*
 * Time: ns since the epoch, or YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z (UTC, years from
 * 1970; the result must fit in u64 ns, i.e. before 2554-07-21T23:34:33Z).
 */
static int two_digits(const char *s, unsigned *out)
{
    if (!is_digit(s[0]) || !is_digit(s[1]))
        return 0;
    *out = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
    unsigned yy = m <= 2 ? y - 1 : y;
    unsigned era = yy / 400;
    unsigned yoe = yy - era * 400;
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (uint64_t)era * 146097 + doe - 719468;
}

static enum num_err parse_time(const char *s, size_t len, uint64_t *out)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, yl, mo, d, h, mi, se, dim;
    uint64_t secs, frac = 0;
    size_t i;

    if (len > 0 && is_digit(s[0]) && parse_u64(s, len, UINT64_MAX, out) == NUM_OK)
        return NUM_OK;
    for (i = 0; i < len; i++)
        if (!is_digit(s[i]))
            break;
    if (i == len)
        return NUM_RANGE; /* all digits, so it overflowed */
    /* YYYY-MM-DDTHH:MM:SS is 19 bytes, then optional fraction, then Z */
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[len - 1] != 'Z')
        return NUM_SYNTAX;
    if (!two_digits(s, &y) || !two_digits(s + 2, &yl) || !two_digits(s + 5, &mo) ||
        !two_digits(s + 8, &d) || !two_digits(s + 11, &h) || !two_digits(s + 14, &mi) ||
        !two_digits(s + 17, &se))
        return NUM_SYNTAX;
    if (len > 20) {
        size_t nfrac = len - 21;
        if (s[19] != '.' || nfrac == 0 || nfrac > 9)
            return NUM_SYNTAX;
        for (i = 0; i < 9; i++) {
            if (i < nfrac && !is_digit(s[20 + i]))
                return NUM_SYNTAX;
            frac = frac * 10 + (i < nfrac ? (uint64_t)(s[20 + i] - '0') : 0);
        }
    }
    y = y * 100 + yl;
    if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59)
        return NUM_SYNTAX;
    dim = mdays[mo - 1] + (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
    if (d < 1 || d > dim)
        return NUM_SYNTAX;
    if (y < 1970)
        return NUM_RANGE;
    secs = days_from_civil(y, mo, d) * 86400u + h * 3600u + mi * 60u + se;
    if (secs > UINT64_MAX / PRICE9_ONE || secs * PRICE9_ONE > UINT64_MAX - frac)
        return NUM_RANGE;
    *out = secs * PRICE9_ONE + frac;
    return NUM_OK;
}

/* ---- names ------------------------------------------------------------------ */

/* The tables of the text grammar are read by the printers too
 * (common/cmdfile_internal.h): one spelling for both directions. */
const enum_name dtx_cmdfile_side_names[] = {
    {DTX_SIDE_BUY, "buy"}, {DTX_SIDE_SELL, "sell"}, {0, NULL}};
const enum_name dtx_cmdfile_type_names[] = {
    {DTX_ORD_MARKET, "market"}, {DTX_ORD_LIMIT, "limit"},
    {DTX_ORD_STOP, "stop"}, {DTX_ORD_STOP_LIMIT, "stoplimit"}, {0, NULL}};
const enum_name dtx_cmdfile_tif_names[] = {
    {DTX_TIF_DAY, "day"}, {DTX_TIF_GTC, "gtc"}, {DTX_TIF_IOC, "ioc"},
    {DTX_TIF_FOK, "fok"}, {DTX_TIF_GTD, "gtd"}, {0, NULL}};
const enum_name dtx_cmdfile_stp_names[] = {
    {DTX_STP_CANCEL_NEWEST, "newest"}, {DTX_STP_CANCEL_OLDEST, "oldest"},
    {DTX_STP_CANCEL_BOTH, "both"}, {DTX_STP_DECREMENT_AND_CANCEL, "decrement"}, {0, NULL}};
const enum_name dtx_cmdfile_status_names[] = {
    {DTX_TRADING_OPEN, "open"}, {DTX_TRADING_HALTED, "halted"},
    {DTX_TRADING_CLOSED, "closed"}, {0, NULL}};

/* ---- the text grammar ---------------------------------------------------- */

const field_def dtx_cmdfile_fields[F_COUNT] = {
    [F_SEQ] = {"seq", K_U64, NULL, NULL},
    [F_TS] = {"ts", K_TIME, NULL, NULL},
    [F_ACCT] = {"acct", K_U32, NULL, NULL},
    [F_SESS] = {"sess", K_U16, NULL, NULL},
    [F_SEC] = {"sec", K_U32, NULL, NULL},
    [F_CLID] = {"clid", K_U64, NULL, NULL},
    [F_ORIG] = {"orig", K_U64, NULL, NULL},
    [F_OID] = {"oid", K_U64, NULL, NULL},
    [F_SIDE] = {"side", K_ENUM, dtx_cmdfile_side_names, "a side (buy, sell"},
    [F_TYPE] = {"type", K_ENUM, dtx_cmdfile_type_names,
                "an order type (market, limit, stop, stoplimit"},
    [F_TIF] = {"tif", K_ENUM, dtx_cmdfile_tif_names, "a time in force (day, gtc, ioc, fok, gtd"},
    [F_PX] = {"px", K_PRICE, NULL, NULL},
    [F_STOP] = {"stop", K_PRICE, NULL, NULL},
    [F_QTY] = {"qty", K_I64, NULL, NULL},
    [F_DISPLAY] = {"display", K_I64, NULL, NULL},
    [F_EXPIRE] = {"expire", K_TIME, NULL, NULL},
    [F_POSTONLY] = {"postonly", K_FLAG, NULL, NULL},
    [F_REDUCEONLY] = {"reduceonly", K_FLAG, NULL, NULL},
    [F_EXEC] = {"exec", K_U8, NULL, NULL},
    [F_STP] = {"stp", K_ENUM, dtx_cmdfile_stp_names,
               "a self-trade mode (newest, oldest, both, decrement"},
    [F_STATUS] = {"status", K_ENUM, dtx_cmdfile_status_names,
                  "a trading status (open, halted, closed"},
};

#define COMMON (B(F_SEQ) | B(F_TS))
const verb_def dtx_cmdfile_verbs[] = {
    {"new", DTX_CMD_NEW_ORDER,
     COMMON | B(F_ACCT) | B(F_SESS) | B(F_SEC) | B(F_CLID) | B(F_SIDE) | B(F_TYPE) | B(F_TIF) |
         B(F_PX) | B(F_STOP) | B(F_QTY) | B(F_DISPLAY) | B(F_EXPIRE) | B(F_POSTONLY) |
         B(F_REDUCEONLY) | B(F_EXEC) | B(F_STP),
     B(F_ACCT) | B(F_SESS) | B(F_SEC) | B(F_CLID) | B(F_SIDE) | B(F_TYPE) | B(F_TIF) | B(F_QTY), 0},
    {"cancel", DTX_CMD_CANCEL,
     COMMON | B(F_ACCT) | B(F_SESS) | B(F_SEC) | B(F_CLID) | B(F_ORIG) | B(F_OID) | B(F_SIDE),
     B(F_ACCT) | B(F_CLID), 1},
    {"replace", DTX_CMD_REPLACE,
     COMMON | B(F_ACCT) | B(F_SESS) | B(F_SEC) | B(F_CLID) | B(F_ORIG) | B(F_OID) | B(F_SIDE) |
         B(F_PX) | B(F_QTY) | B(F_DISPLAY),
     B(F_ACCT) | B(F_CLID) | B(F_QTY), 1},
    {"mass", DTX_CMD_MASS_CANCEL,
     COMMON | B(F_ACCT) | B(F_SESS) | B(F_SEC) | B(F_CLID) | B(F_SIDE), B(F_ACCT) | B(F_CLID), 0},
    {"time", DTX_CMD_TIME, COMMON, B(F_TS), 0},
    {"status", DTX_CMD_INSTRUMENT_STATUS, COMMON | B(F_SEC) | B(F_STATUS),
     B(F_SEC) | B(F_STATUS), 0},
    {"cod", DTX_CMD_CANCEL_ON_DISCONNECT, COMMON | B(F_ACCT) | B(F_SESS),
     B(F_ACCT) | B(F_SESS), 0},
};
const size_t dtx_cmdfile_n_verbs = sizeof dtx_cmdfile_verbs / sizeof dtx_cmdfile_verbs[0];

/* ---- the line parser -------------------------------------------------------- */

void dtx_cmdtext_init(dtx_cmdtext_parser *p)
{
    p->line = 0;
    p->prev_seq = 0;
    p->prev_ts = 0;
}

typedef struct parse_ctx {
    uint64_t line;
    const verb_def *verb;
    dtx_command cmd;
    uint32_t seen;
    uint8_t exec_bits;
} parse_ctx;

static int fail(const parse_ctx *c, const char *key, const char *msg, const char *v, size_t vlen)
{
    char q[QUOTE_CAP];
    if (v)
        return dtx_error_set(DTX_EFORMAT, "line %llu: %s: '%s' %s", (unsigned long long)c->line,
                             key, quote(v, vlen, q), msg);
    return dtx_error_set(DTX_EFORMAT, "line %llu: %s: %s", (unsigned long long)c->line, key, msg);
}

static int fail_range(const parse_ctx *c, const char *key, const char *v, size_t vlen,
                      const char *range)
{
    char q[QUOTE_CAP];
    return dtx_error_set(DTX_EFORMAT, "line %llu: %s: '%s' is out of range (%s)",
                         (unsigned long long)c->line, key, quote(v, vlen, q), range);
}

/* Stores one key=value of the current line. Returns 0 or DTX_EFORMAT. */
static int set_field(parse_ctx *c, unsigned f, const char *v, size_t vlen)
{
    const field_def *fd = &dtx_cmdfile_fields[f];
    dtx_command *cmd = &c->cmd;
    uint64_t u = 0;
    int64_t i = 0;
    enum num_err e;

    switch (fd->kind) {
    case K_U64:
    case K_U32:
    case K_U16:
    case K_U8: {
        uint64_t max = fd->kind == K_U64 ? UINT64_MAX
                     : fd->kind == K_U32 ? UINT32_MAX
                     : fd->kind == K_U16 ? UINT16_MAX : UINT8_MAX;
        e = parse_u64(v, vlen, max, &u);
        if (e == NUM_SYNTAX)
            return fail(c, fd->key, "is not an unsigned integer", v, vlen);
        if (e != NUM_OK)
            return fail_range(c, fd->key, v, vlen,
                              fd->kind == K_U64 ? "0..18446744073709551615"
                              : fd->kind == K_U32 ? "0..4294967295"
                              : fd->kind == K_U16 ? "0..65535" : "0..255");
        break;
    }
    case K_I64:
        e = parse_i64(v, vlen, &i);
        if (e == NUM_SYNTAX)
            return fail(c, fd->key, "is not an integer", v, vlen);
        if (e != NUM_OK)
            return fail_range(c, fd->key, v, vlen, "-9223372036854775808..9223372036854775807");
        break;
    case K_PRICE:
        e = parse_price9(v, vlen, &i);
        if (e == NUM_SYNTAX)
            return fail(c, fd->key, "is not a decimal price", v, vlen);
        if (e == NUM_DECIMALS)
            return fail(c, fd->key, "has more than 9 decimals", v, vlen);
        if (e != NUM_OK)
            return fail_range(c, fd->key, v, vlen, "a PRICE9: |price| <= 9223372036.854775807");
        break;
    case K_TIME:
        e = parse_time(v, vlen, &u);
        if (e == NUM_SYNTAX)
            return fail(c, fd->key,
                        "is not a time (ns since the epoch, or YYYY-MM-DDTHH:MM:SS[.fraction]Z)",
                        v, vlen);
        if (e != NUM_OK)
            return fail_range(c, fd->key, v, vlen, "1970-01-01T00:00:00Z..2554-07-21T23:34:33Z");
        break;
    case K_ENUM: {
        const enum_name *n;
        for (n = fd->names; n->name; n++)
            if (slice_eq(v, vlen, n->name))
                break;
        if (n->name) {
            u = n->value;
        } else {
            e = parse_u64(v, vlen, UINT8_MAX, &u);
            if (e != NUM_OK) {
                char q[QUOTE_CAP];
                return dtx_error_set(DTX_EFORMAT, "line %llu: %s: '%s' is not %s or 0..255)",
                                     (unsigned long long)c->line, fd->key, quote(v, vlen, q),
                                     fd->what);
            }
        }
        break;
    }
    default:
        break;
    }

    switch (f) {
    case F_SEQ: cmd->seq = u; break;
    case F_TS: cmd->ts = u; break;
    case F_ACCT: cmd->account = (uint32_t)u; break;
    case F_SESS: cmd->session = (uint16_t)u; break;
    case F_SEC: cmd->security_id = (uint32_t)u; break;
    case F_CLID: cmd->clordid = u; break;
    case F_ORIG: cmd->orig_clordid = u; break;
    case F_OID: cmd->order_id = u; break;
    case F_SIDE: cmd->side = (uint8_t)u; break;
    case F_TYPE: cmd->ord_type = (uint8_t)u; break;
    case F_TIF: cmd->tif = (uint8_t)u; break;
    case F_PX: cmd->price = i; break;
    case F_STOP: cmd->stop_px = i; break;
    case F_QTY: cmd->qty = i; break;
    case F_DISPLAY: cmd->display_qty = i; break;
    case F_EXPIRE: cmd->expire_time = u; break;
    case F_EXEC: c->exec_bits |= (uint8_t)u; break;
    case F_STP: cmd->stp = (uint8_t)u; break;
    case F_STATUS: cmd->status = (uint8_t)u; break;
    default: break;
    }
    return 0;
}

static int lookup_field(const char *k, size_t klen)
{
    unsigned f;
    for (f = 0; f < F_COUNT; f++)
        if (slice_eq(k, klen, dtx_cmdfile_fields[f].key))
            return (int)f;
    return -1;
}

int dtx_cmdtext_parse_line(dtx_cmdtext_parser *p, const char *line, size_t len, dtx_command *out)
{
    parse_ctx c;
    const char *s = line, *end;
    const char *tok, *hash, *nul;
    size_t tlen;
    unsigned f;
    char q[QUOTE_CAP];

    p->line++;
    memset(&c, 0, sizeof c);
    c.line = p->line;
    if (!line)
        len = 0;

    if (len > 0 && s[len - 1] == '\n')
        len--;
    if (len > 0 && s[len - 1] == '\r')
        len--;
    if (len > DTX_CMDTEXT_MAX_LINE)
        return dtx_error_set(DTX_EFORMAT, "line %llu: longer than %u bytes (%zu)",
                             (unsigned long long)c.line, DTX_CMDTEXT_MAX_LINE, len);
    nul = len ? memchr(s, '\0', len) : NULL;
    if (nul)
        return dtx_error_set(DTX_EFORMAT,
                             "line %llu: NUL byte at column %zu (not a text command file?)",
                             (unsigned long long)c.line, (size_t)(nul - s) + 1);
    hash = len ? memchr(s, '#', len) : NULL;
    end = hash ? hash : s + len;

    /* the verb */
    while (s < end && is_space(*s))
        s++;
    if (s == end)
        return 0;
    tok = s;
    while (s < end && !is_space(*s))
        s++;
    tlen = (size_t)(s - tok);
    for (f = 0; f < dtx_cmdfile_n_verbs; f++)
        if (slice_eq(tok, tlen, dtx_cmdfile_verbs[f].name))
            break;
    if (f == dtx_cmdfile_n_verbs)
        return dtx_error_set(DTX_EFORMAT,
                             "line %llu: command: '%s' is not a command "
                             "(new, cancel, replace, mass, time, status, cod)",
                             (unsigned long long)c.line, quote(tok, tlen, q));
    c.verb = &dtx_cmdfile_verbs[f];
    c.cmd = dtx_command_blank(c.verb->type);

    /* key=value fields */
    for (;;) {
        const char *eq;
        int fi;
        while (s < end && is_space(*s))
            s++;
        if (s == end)
            break;
        tok = s;
        while (s < end && !is_space(*s))
            s++;
        tlen = (size_t)(s - tok);
        eq = memchr(tok, '=', tlen);
        fi = lookup_field(tok, eq ? (size_t)(eq - tok) : tlen);
        if (fi < 0)
            return dtx_error_set(DTX_EFORMAT, "line %llu: '%s': unknown field",
                                 (unsigned long long)c.line,
                                 quote(tok, eq ? (size_t)(eq - tok) : tlen, q));
        f = (unsigned)fi;
        if (!(c.verb->allowed & B(f))) {
            char keys[256];
            dtx_cmdfile_list_keys(c.verb->allowed, keys, sizeof keys);
            return dtx_error_set(DTX_EFORMAT, "line %llu: %s: not a field of %s (it takes %s)",
                                 (unsigned long long)c.line, dtx_cmdfile_fields[f].key,
                                 c.verb->name, keys);
        }
        if (c.seen & B(f))
            return fail(&c, dtx_cmdfile_fields[f].key, "given twice", NULL, 0);
        c.seen |= B(f);
        if (dtx_cmdfile_fields[f].kind == K_FLAG) {
            if (eq)
                return dtx_error_set(DTX_EFORMAT,
                                     "line %llu: %s: is a flag and takes no value (got '%s')",
                                     (unsigned long long)c.line, dtx_cmdfile_fields[f].key,
                                     quote(tok, tlen, q));
            c.exec_bits |= f == F_POSTONLY ? DTX_EXEC_POST_ONLY : DTX_EXEC_REDUCE_ONLY;
            continue;
        }
        if (!eq)
            return dtx_error_set(DTX_EFORMAT, "line %llu: %s: needs a value (%s=...)",
                                 (unsigned long long)c.line, dtx_cmdfile_fields[f].key,
                                 dtx_cmdfile_fields[f].key);
        if (eq + 1 == s)
            return fail(&c, dtx_cmdfile_fields[f].key, "empty value", NULL, 0);
        if (set_field(&c, f, eq + 1, (size_t)(s - eq - 1)) != 0)
            return DTX_EFORMAT;
    }

    /* required fields */
    for (f = 0; f < F_COUNT; f++)
        if ((c.verb->required & B(f)) && !(c.seen & B(f))) {
            char msg[64];
            snprintf(msg, sizeof msg, "missing (required by %s)", c.verb->name);
            return fail(&c, dtx_cmdfile_fields[f].key, msg, NULL, 0);
        }
    if (c.verb->needs_ref && !(c.seen & (B(F_ORIG) | B(F_OID)))) {
        char msg[64];
        snprintf(msg, sizeof msg, "missing (%s needs orig= or oid=)", c.verb->name);
        return fail(&c, "orig", msg, NULL, 0);
    }
    c.cmd.exec_inst = c.exec_bits;

    /* defaults from the previous command */
    if (!(c.seen & B(F_SEQ))) {
        if (p->prev_seq == UINT64_MAX)
            return fail(&c, "seq", "previous seq + 1 overflows", NULL, 0);
        c.cmd.seq = p->prev_seq + 1;
    }
    if (!(c.seen & B(F_TS))) {
        if (p->prev_ts > UINT64_MAX - NS_PER_US)
            return fail(&c, "ts", "previous ts + 1us overflows", NULL, 0);
        c.cmd.ts = p->prev_ts + NS_PER_US;
    }
    p->prev_seq = c.cmd.seq;
    p->prev_ts = c.cmd.ts;
    *out = c.cmd;
    return 1;
}

/* ---- binary ----------------------------------------------------------------- */

static uint32_t get_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32le(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

int dtx_cmdfile_is_binary(const void *buf, size_t len)
{
    return buf && len >= DTX_CMDFILE_MAGIC_LEN &&
           memcmp(buf, DTX_CMDFILE_MAGIC, DTX_CMDFILE_MAGIC_LEN) == 0;
}

/* A file starting "DTXCMD" is binary, so that another version of the header
 * is reported as such rather than as a bad first text line. */
static int looks_binary(const void *buf, size_t len)
{
    return buf && len >= 6 && memcmp(buf, DTX_CMDFILE_MAGIC, 6) == 0;
}

void dtx_cmdfile_encode_header(void *out)
{
    unsigned char *p = out;
    memcpy(p, DTX_CMDFILE_MAGIC, DTX_CMDFILE_MAGIC_LEN);
    put_u32le(p + 8, DTX_CMDFILE_RECORD_SIZE);
    put_u32le(p + 12, 0);
}

/* Checks a header whose first len (< 16 allowed) bytes are at h. */
static dtx_status check_header(const unsigned char *h, size_t len)
{
    char q[QUOTE_CAP];
    uint32_t rs, res;
    if (len < DTX_CMDFILE_HEADER_SIZE)
        return dtx_error_set(DTX_EFORMAT, "binary: file is %zu bytes, shorter than the %d-byte header",
                             len, DTX_CMDFILE_HEADER_SIZE);
    if (memcmp(h, DTX_CMDFILE_MAGIC, DTX_CMDFILE_MAGIC_LEN) != 0)
        return dtx_error_set(DTX_EFORMAT, "binary: magic '%s' is not '" DTX_CMDFILE_MAGIC "'",
                             quote((const char *)h, DTX_CMDFILE_MAGIC_LEN, q));
    rs = get_u32le(h + 8);
    res = get_u32le(h + 12);
    if (rs != DTX_CMDFILE_RECORD_SIZE)
        return dtx_error_set(DTX_EFORMAT, "binary: record size %u, expected %d", rs,
                             DTX_CMDFILE_RECORD_SIZE);
    if (res != 0)
        return dtx_error_set(DTX_EFORMAT, "binary: reserved header field is %u, expected 0", res);
    return DTX_OK;
}

dtx_status dtx_cmdfile_parse_binary(const void *buf, size_t len, dtx_cmd_fn fn, void *ctx)
{
    const unsigned char *p = buf;
    size_t body, n, i;
    dtx_status st;
    if (!buf)
        len = 0;
    st = check_header(p, len);
    if (st != DTX_OK)
        return st;
    body = len - DTX_CMDFILE_HEADER_SIZE;
    n = body / DTX_CMDFILE_RECORD_SIZE;
    if (body % DTX_CMDFILE_RECORD_SIZE)
        return dtx_error_set(DTX_EFORMAT,
                             "binary: truncated: %zu bytes after record %zu (records are %d bytes)",
                             body % DTX_CMDFILE_RECORD_SIZE, n, DTX_CMDFILE_RECORD_SIZE);
    for (i = 0; i < n; i++) {
        dtx_command c;
        memcpy(&c, p + DTX_CMDFILE_HEADER_SIZE + i * DTX_CMDFILE_RECORD_SIZE, sizeof c);
        st = fn(ctx, &c);
        if (st != DTX_OK)
            return st;
    }
    return DTX_OK;
}

dtx_status dtx_cmdfile_parse_text(const void *buf, size_t len, dtx_cmd_fn fn, void *ctx)
{
    const char *s = buf, *end;
    dtx_cmdtext_parser p;
    dtx_cmdtext_init(&p);
    if (!buf)
        len = 0;
    end = s + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t l = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
        dtx_command c;
        int rc = dtx_cmdtext_parse_line(&p, s, l, &c);
        if (rc < 0)
            return (dtx_status)rc;
        if (rc == 1) {
            dtx_status st = fn(ctx, &c);
            if (st != DTX_OK)
                return st;
        }
        s += l;
    }
    return DTX_OK;
}

dtx_status dtx_cmdfile_parse(const void *buf, size_t len, dtx_cmd_fn fn, void *ctx)
{
    if (looks_binary(buf, len))
        return dtx_cmdfile_parse_binary(buf, len, fn, ctx);
    return dtx_cmdfile_parse_text(buf, len, fn, ctx);
}

/* ---- the streaming reader -------------------------------------------------- */

#define READER_BUF (64u * 1024u)
_Static_assert(READER_BUF > DTX_CMDTEXT_MAX_LINE + 2, "a whole line fits in the buffer");

struct dtx_cmdfile_reader {
    FILE *f;
    int is_stdin;
    int binary;
    int eof;
    uint64_t records; /* binary records returned */
    dtx_cmdtext_parser text;
    size_t pos, len;
    char name[256];
    unsigned char buf[READER_BUF];
};

/* Moves the unread bytes to the front and reads until full or end of file. */
static dtx_status reader_fill(dtx_cmdfile_reader *r)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    while (!r->eof && r->len < READER_BUF) {
        size_t n = fread(r->buf + r->len, 1, READER_BUF - r->len, r->f);
        r->len += n;
        if (n == 0) {
            if (ferror(r->f))
                return dtx_error_set(DTX_EIO, "%s: read failed", r->name);
            r->eof = 1;
        }
    }
    return DTX_OK;
}

/* Prefixes the current error message with the file name. */
static int reader_fail(const dtx_cmdfile_reader *r, int status)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", dtx_error_message());
    return dtx_error_set((dtx_status)status, "%s: %s", r->name, msg);
}

dtx_cmdfile_reader *dtx_cmdfile_open(const char *path)
{
    dtx_cmdfile_reader *r;
    if (!path) {
        dtx_error_set(DTX_EINVAL, "cmdfile: path is NULL");
        return NULL;
    }
    r = calloc(1, sizeof *r);
    if (!r) {
        dtx_error_set(DTX_ENOMEM, "%s: cannot allocate the reader", path);
        return NULL;
    }
    snprintf(r->name, sizeof r->name, "%s", strcmp(path, "-") == 0 ? "<stdin>" : path);
    if (strcmp(path, "-") == 0) {
        r->f = stdin;
        r->is_stdin = 1;
    } else {
        r->f = fopen(path, "rb");
        if (!r->f) {
            dtx_error_set(DTX_EIO, "%s: cannot open: %s", path, strerror(errno));
            free(r);
            return NULL;
        }
    }
    dtx_cmdtext_init(&r->text);
    if (reader_fill(r) != DTX_OK)
        goto fail;
    if (looks_binary(r->buf, r->len)) {
        r->binary = 1;
        if (check_header(r->buf, r->len) != DTX_OK) {
            reader_fail(r, DTX_EFORMAT);
            goto fail;
        }
        r->pos = DTX_CMDFILE_HEADER_SIZE;
    }
    return r;
fail:
    dtx_cmdfile_close(r);
    return NULL;
}

int dtx_cmdfile_reader_binary(const dtx_cmdfile_reader *r) { return r->binary; }

static int next_binary(dtx_cmdfile_reader *r, dtx_command *out)
{
    if (r->len - r->pos < DTX_CMDFILE_RECORD_SIZE && reader_fill(r) != DTX_OK)
        return DTX_EIO;
    if (r->len == r->pos)
        return 0;
    if (r->len - r->pos < DTX_CMDFILE_RECORD_SIZE) {
        size_t have = r->len - r->pos;
        r->pos = r->len;
        return dtx_error_set(DTX_EFORMAT,
                             "%s: binary: truncated: the file ends %zu bytes into record %llu "
                             "(records are %d bytes)",
                             r->name, have, (unsigned long long)r->records,
                             DTX_CMDFILE_RECORD_SIZE);
    }
    memcpy(out, r->buf + r->pos, sizeof *out);
    r->pos += DTX_CMDFILE_RECORD_SIZE;
    r->records++;
    return 1;
}

static int next_text(dtx_cmdfile_reader *r, dtx_command *out)
{
    for (;;) {
        const unsigned char *start = r->buf + r->pos;
        size_t avail = r->len - r->pos, l;
        const unsigned char *nl = memchr(start, '\n', avail);
        int rc;
        if (!nl && !r->eof && avail <= DTX_CMDTEXT_MAX_LINE + 1) {
            if (reader_fill(r) != DTX_OK)
                return DTX_EIO;
            continue;
        }
        if (avail == 0)
            return 0;
        /* a whole line, the last line of the file, or too long a line */
        l = nl ? (size_t)(nl - start) + 1 : avail;
        rc = dtx_cmdtext_parse_line(&r->text, (const char *)start, l, out);
        r->pos += l;
        if (rc < 0) {
            r->pos = r->len; /* stop here: later lines are not read */
            r->eof = 1;
            return reader_fail(r, rc);
        }
        if (rc == 1)
            return 1;
    }
}

int dtx_cmdfile_next(dtx_cmdfile_reader *r, dtx_command *out)
{
    return r->binary ? next_binary(r, out) : next_text(r, out);
}

void dtx_cmdfile_close(dtx_cmdfile_reader *r)
{
    if (!r)
        return;
    if (r->f && !r->is_stdin)
        fclose(r->f);
    free(r);
}
