/*
 * fix44_codec.c - FIX 4.4 tag-value bytes: framing (BeginString, BodyLength,
 * CheckSum), field splitting, field writing, and the exact conversions the
 * gateway needs between FIX text and dtx integers (decimal prices <-> PRICE9,
 * UTCTimestamp <-> ns). No floating point and no allocation anywhere: a price
 * is parsed digit by digit into an int64 with overflow checks, a timestamp by
 * the days-from-civil formula.
 *
 * Framing follows FIX's rule for garbled input: a message whose BodyLength or
 * CheckSum is wrong is dropped (the caller counts it) and reading resumes at
 * the next "8=FIX.4.4<SOH>"; the sequence gap it leaves is recovered by the
 * ordinary ResendRequest.
 */
#include <stdio.h>
#include <string.h>

#include "net/fix44_codec.h"

static const char BEGIN[] = "8=FIX.4.4\x01"; /* 10 bytes */
#define BEGIN_LEN 10u

/* Bytes to skip to reach the next possible message start after p[0]: the
 * next "8=FIX.4.4<SOH>", or a tail that may be its beginning, or all. */
static size_t resync(const uint8_t *p, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        size_t m = n - i < BEGIN_LEN ? n - i : BEGIN_LEN;
        if (p[i] == '8' && memcmp(p + i, BEGIN, m) == 0)
            return i;
    }
    return n;
}

int dtx_fix44_frame(const uint8_t *p, size_t n, size_t *len)
{
    if (n == 0)
        return FIX_FRAME_NEED;
    size_t m = n < BEGIN_LEN ? n : BEGIN_LEN;
    if (memcmp(p, BEGIN, m) != 0) {
        /* "8=<other>SOH": a wrong BeginString, not noise */
        if (n >= 3 && p[0] == '8' && p[1] == '=') {
            const uint8_t *soh = memchr(p, FIX_SOH, n < 32 ? n : 32);
            if (soh && soh - p > 2 && memcmp(p, "8=FIX", n < 5 ? n : 5) == 0) {
                *len = (size_t)(soh - p) + 1;
                return FIX_FRAME_BAD_BEGIN;
            }
        }
        *len = resync(p, n);
        return FIX_FRAME_GARBLED;
    }
    if (n < BEGIN_LEN + 2)
        return FIX_FRAME_NEED;
    if (p[BEGIN_LEN] != '9' || p[BEGIN_LEN + 1] != '=') {
        *len = resync(p, n);
        return FIX_FRAME_GARBLED;
    }
    size_t i = BEGIN_LEN + 2, body = 0, digits = 0;
    for (;; i++) {
        if (i >= n)
            return FIX_FRAME_NEED;
        if (p[i] == FIX_SOH)
            break;
        if (p[i] < '0' || p[i] > '9' || digits == 5) {
            *len = resync(p, n);
            return FIX_FRAME_GARBLED;
        }
        body = body * 10 + (size_t)(p[i] - '0');
        digits++;
    }
    if (digits == 0 || body < 5 || body > DTX_FIX44_MSG_MAX) {
        *len = resync(p, n);
        return FIX_FRAME_GARBLED;
    }
    size_t hdr = i + 1, total = hdr + body + 7;
    if (n < total)
        return FIX_FRAME_NEED;
    const uint8_t *t = p + hdr + body;
    if (t[0] != '1' || t[1] != '0' || t[2] != '=' || t[6] != FIX_SOH || t[3] < '0' || t[3] > '9' ||
        t[4] < '0' || t[4] > '9' || t[5] < '0' || t[5] > '9' || p[hdr + body - 1] != FIX_SOH) {
        *len = resync(p, n);
        return FIX_FRAME_GARBLED;
    }
    unsigned sum = 0;
    for (size_t k = 0; k < hdr + body; k++)
        sum += p[k];
    unsigned want = (unsigned)(t[3] - '0') * 100 + (unsigned)(t[4] - '0') * 10 + (unsigned)(t[5] - '0');
    *len = total;
    if ((sum & 0xFF) != want)
        return FIX_FRAME_GARBLED;
    return FIX_FRAME_OK;
}

int dtx_fix44_parse(const uint8_t *p, size_t len, fix_msg *m)
{
    m->buf = (const char *)p;
    m->len = len;
    m->n = 0;
    m->type[0] = 0;
    /* skip 8= and 9= */
    size_t i = 0;
    for (int k = 0; k < 2; k++) {
        const uint8_t *soh = memchr(p + i, FIX_SOH, len - i);
        if (!soh)
            return -1;
        i = (size_t)(soh - p) + 1;
    }
    size_t end = len - 7; /* "10=nnn<SOH>" */
    while (i < end) {
        uint32_t tag = 0;
        size_t t0 = i;
        while (i < end && p[i] >= '0' && p[i] <= '9') {
            tag = tag * 10 + (uint32_t)(p[i] - '0');
            if (tag > 99999999u)
                return -1;
            i++;
        }
        if (i == t0 || i >= end || p[i] != '=' || tag == 0 || p[t0] == '0')
            return -1;
        i++;
        size_t v0 = i;
        while (i < end && p[i] != FIX_SOH)
            i++;
        if (i >= end || i == v0)
            return -1;
        if (m->n == FIX_MAX_FIELDS)
            return -1;
        m->f[m->n].tag = tag;
        m->f[m->n].off = (uint16_t)v0;
        m->f[m->n].len = (uint16_t)(i - v0);
        m->n++;
        i++;
    }
    if (m->n == 0 || m->f[0].tag != 35 || m->f[0].len > 3)
        return -1;
    memcpy(m->type, p + m->f[0].off, m->f[0].len);
    m->type[m->f[0].len] = 0;
    return 0;
}

const char *dtx_fix44_get(const fix_msg *m, uint32_t tag, size_t *len)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->f[i].tag == tag) {
            *len = m->f[i].len;
            return m->buf + m->f[i].off;
        }
    return NULL;
}

int dtx_fix44_get_u64(const fix_msg *m, uint32_t tag, uint64_t *out)
{
    size_t n;
    const char *v = dtx_fix44_get(m, tag, &n);
    if (!v)
        return 0;
    if (n > 19)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return 1;
}

/* ---- writing ------------------------------------------------------------- */

void dtx_fix44_put(fix_writer *w, uint32_t tag, const char *v, size_t len)
{
    if (len == 0)
        return; /* FIX has no empty fields: an empty value is left out */
    char t[16];
    int tn = snprintf(t, sizeof t, "%u=", tag);
    if (w->overflow || w->len + (size_t)tn + len + 1 > w->cap) {
        w->overflow = 1;
        return;
    }
    memcpy(w->p + w->len, t, (size_t)tn);
    memcpy(w->p + w->len + tn, v, len);
    w->len += (size_t)tn + len;
    w->p[w->len++] = FIX_SOH;
}

void dtx_fix44_put_str(fix_writer *w, uint32_t tag, const char *v)
{
    dtx_fix44_put(w, tag, v, strlen(v));
}

void dtx_fix44_put_u64(fix_writer *w, uint32_t tag, uint64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    dtx_fix44_put(w, tag, b, (size_t)n);
}

void dtx_fix44_put_i64(fix_writer *w, uint32_t tag, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%lld", (long long)v);
    dtx_fix44_put(w, tag, b, (size_t)n);
}

void dtx_fix44_put_char(fix_writer *w, uint32_t tag, char c) { dtx_fix44_put(w, tag, &c, 1); }

void dtx_fix44_put_price(fix_writer *w, uint32_t tag, int64_t price9)
{
    char b[32];
    size_t n = dtx_fix44_format_price(b, price9);
    dtx_fix44_put(w, tag, b, n);
}

void dtx_fix44_put_time(fix_writer *w, uint32_t tag, uint64_t ns)
{
    char b[32];
    size_t n = dtx_fix44_format_time(b, ns);
    dtx_fix44_put(w, tag, b, n);
}

size_t dtx_fix44_wrap(char *out, size_t cap, const char *body, size_t body_len)
{
    char hdr[32];
    int hn = snprintf(hdr, sizeof hdr, "8=FIX.4.4\x01" "9=%zu\x01", body_len);
    size_t total = (size_t)hn + body_len + 7;
    if (total > cap)
        return 0;
    memcpy(out, hdr, (size_t)hn);
    memcpy(out + hn, body, body_len);
    unsigned sum = 0;
    for (size_t i = 0; i < (size_t)hn + body_len; i++)
        sum += (uint8_t)out[i];
    char *t = out + hn + body_len;
    t[0] = '1';
    t[1] = '0';
    t[2] = '=';
    t[3] = (char)('0' + (sum & 0xFF) / 100);
    t[4] = (char)('0' + (sum & 0xFF) / 10 % 10);
    t[5] = (char)('0' + (sum & 0xFF) % 10);
    t[6] = FIX_SOH;
    return total;
}

int dtx_fix44_unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];
            int d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else
                return -1; /* lowercase only, as PROTOCOL.md writes it */
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* ---- numbers and times ----------------------------------------------------- */

int dtx_fix44_parse_price(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+')) {
        neg = s[i] == '-';
        i++;
    }
    /* magnitude in 10^-9 units, as unsigned so INT64_MIN's magnitude fits */
    uint64_t mag = 0;
    size_t int_digits = 0, frac_digits = 0;
    int off_grid = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
        if (__builtin_mul_overflow(mag, 10u, &mag) ||
            __builtin_add_overflow(mag, (uint64_t)(s[i] - '0'), &mag))
            return -1;
    }
    if (__builtin_mul_overflow(mag, 1000000000u, &mag))
        return -1;
    if (i < len && s[i] == '.') {
        i++;
        uint64_t scale = 100000000u;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, frac_digits++) {
            uint64_t d = (uint64_t)(s[i] - '0');
            if (frac_digits < 9) {
                mag += d * scale;
                scale /= 10;
            } else if (d) {
                off_grid = 1;
            }
        }
    }
    if (i != len || int_digits + frac_digits == 0)
        return -1;
    if (mag > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return -1;
    if (off_grid)
        return -2;
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    if (*out == INT64_MIN)
        return -1; /* PRICE9's null, never a price */
    return 0;
}

size_t dtx_fix44_format_price(char *out, int64_t p)
{
    uint64_t mag = p < 0 ? 0 - (uint64_t)p : (uint64_t)p;
    uint64_t ip = mag / 1000000000u, fp = mag % 1000000000u;
    int n = snprintf(out, 32, "%s%llu", p < 0 ? "-" : "", (unsigned long long)ip);
    if (fp) {
        char f[16];
        snprintf(f, sizeof f, "%09llu", (unsigned long long)fp);
        size_t fl = 9;
        while (fl > 1 && f[fl - 1] == '0')
            fl--;
        out[n++] = '.';
        memcpy(out + n, f, fl);
        n += (int)fl;
        out[n] = 0;
    }
    return (size_t)n;
}

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int dtx_fix44_parse_time(const char *s, size_t len, uint64_t *out)
{
    unsigned y, mo, d, h, mi, se;
    if (len < 17 || s[8] != '-' || s[11] != ':' || s[14] != ':')
        return -1;
    if (digits(s, 4, &y) || digits(s + 4, 2, &mo) || digits(s + 6, 2, &d) ||
        digits(s + 9, 2, &h) || digits(s + 12, 2, &mi) || digits(s + 15, 2, &se))
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    uint64_t frac = 0;
    if (len > 17) {
        size_t fl = len - 18;
        if (s[17] != '.' || fl < 1 || fl > 9)
            return -1;
        unsigned v;
        if (digits(s + 18, fl, &v))
            return -1;
        frac = v;
        for (size_t k = fl; k < 9; k++)
            frac *= 10;
    }
    int64_t days = days_from_civil(y, mo, d);
    *out = ((uint64_t)days * 86400u + h * 3600u + mi * 60u + se) * 1000000000ull + frac;
    return 0;
}

size_t dtx_fix44_format_time(char *out, uint64_t ns)
{
    uint64_t secs = ns / 1000000000ull;
    unsigned ms = (unsigned)(ns / 1000000ull % 1000u);
    int64_t z = (int64_t)(secs / 86400u) + 719468;
    unsigned sod = (unsigned)(secs % 86400u);
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    int n = snprintf(out, 32, "%04lld%02u%02u-%02u:%02u:%02u.%03u", (long long)y, m, d, sod / 3600,
                     sod / 60 % 60, sod % 60, ms);
    return (size_t)n;
}
