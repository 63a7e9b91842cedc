/*
 * config.c - dtx-engine's configuration (dtx/config.h): the embedded default,
 * and INI files parsed with inih (libinih-dev) over it.
 *
 * Scalar keys are a table (section, key, kind, offset, range); instrument
 * sections ([instrument SYMBOL]) fill one dtx_instrument_config each. inih
 * calls handler() once per key and reports the line of the first key the
 * handler refused (or of the first syntax error); the handler records the
 * message of that first refusal, so the error names origin, line, section, key
 * and value together. Prices are parsed as exact decimals into PRICE9: no
 * floating point anywhere in configuration either.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/config.h"

#define PRICE9_ONE 1000000000LL
#define INSTR_PREFIX "instrument "

void dtx_config_defaults(dtx_config *c)
{
    uint32_t n, i;
    const dtx_instrument_config *ins = dtx_default_instruments(&n);

    memset(c, 0, sizeof *c);
    snprintf(c->listen_addr, sizeof c->listen_addr, "%s", "127.0.0.1");
    c->port = 7001;
    snprintf(c->fix44_listen_addr, sizeof c->fix44_listen_addr, "%s", "127.0.0.1");
    c->fix44_port = 7002;
    c->max_connections = 1024;
    c->tick_ms = 10;
    c->gateway_cpu = -1;
    c->max_sessions = 1024;
    c->send_buffer_bytes = 65536;
    c->store_depth = 8192;
    c->retention_s = 86400;
    c->clock_skew_ms = 5000;
    c->throttle_rate = 1000;
    c->throttle_burst = 100;
    c->handshake_timeout_ms = 5000;
    c->core_cpu = -1;
    c->max_orders = 1u << 20;
    c->max_timed = 1u << 20;
    c->max_stops = 1u << 16;
    c->time_tick_ms = 100;
    c->risk_enabled = 1;
    c->risk_accounts = 1024;
    c->command_ring = 1u << 14;
    c->event_ring = 1u << 16;
    c->wait = DTX_WAIT_BLOCK;
    c->log_level = DTX_LOG_INFO;
    c->demo_accounts = 4;
    snprintf(c->keys_file, sizeof c->keys_file, "%s", "./dtx-demo-keys.txt");
    snprintf(c->audit_log, sizeof c->audit_log, "%s", "./dtx-audit.log");
    c->cancel_on_disconnect = 1;
    c->demo_collateral = 100000;
    if (n > DTX_CONFIG_MAX_INSTRUMENTS)
        n = DTX_CONFIG_MAX_INSTRUMENTS;
    for (i = 0; i < n; i++)
        c->instruments[i] = ins[i];
    c->n_instruments = n;
}

/* ---- value parsers --------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if (!isdigit((unsigned char)*s))
        return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    *out = v;
    return 1;
}

int dtx_config_parse_price9(const char *s, int64_t *out)
{
    int neg = 0, frac_digits = 0, int_digits = 0;
    uint64_t ip = 0, fp = 0;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    for (; isdigit((unsigned char)*s); s++, int_digits++) {
        if (ip > (uint64_t)INT64_MAX / PRICE9_ONE / 10 + 1)
            return 0;
        ip = ip * 10 + (uint64_t)(*s - '0');
    }
    if (*s == '.') {
        for (s++; isdigit((unsigned char)*s); s++) {
            if (++frac_digits > 9)
                return 0;
            fp = fp * 10 + (uint64_t)(*s - '0');
        }
    }
    if (*s != '\0' || (int_digits == 0 && frac_digits == 0))
        return 0;
    for (int d = frac_digits; d < 9; d++)
        fp *= 10;
    if (ip > (uint64_t)(INT64_MAX - (int64_t)fp) / PRICE9_ONE)
        return 0;
    *out = (int64_t)(ip * PRICE9_ONE + fp) * (neg ? -1 : 1);
    return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int dtx_config_parse_time(const char *s, uint64_t *out_ns)
{
    unsigned y, mo, d, h, mi, se;
    int n = 0;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (parse_u64(s, out_ns))
        return 1;
    if (strlen(s) != 20 ||
        sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2uZ%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 20)
        return 0;
    if (y < 1970 || y > 2262 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
        mi > 59 || se > 59)
        return 0;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + se;
    if ((uint64_t)secs > UINT64_MAX / 1000000000ull)
        return 0;
    *out_ns = (uint64_t)secs * 1000000000ull;
    return 1;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(s, yes[i]) == 0)
            return *out = 1, 1;
        if (strcmp(s, no[i]) == 0)
            return *out = 0, 1;
    }
    return 0;
}

/* ---- the key table --------------------------------------------------------- */

typedef enum key_kind {
    K_U32,   /* integer in [min, max] */
    K_PORT,  /* 0..65535 */
    K_CPU,   /* "none", -1 or a CPU number in [0, 1023] */
    K_ADDR,  /* IPv4 dotted quad */
    K_WAIT,  /* dtx_wait_strategy name */
    K_LEVEL, /* dtx_log_level name */
    K_PATH,  /* file path */
    K_BOOL,
} key_kind;

typedef struct key_def {
    const char *section;
    const char *name;
    key_kind kind;
    size_t off;
    uint64_t min, max;
} key_def;

#define U32(sec, key, field, lo, hi) {sec, key, K_U32, offsetof(dtx_config, field), lo, hi}
#define KEY(sec, key, kind, field) {sec, key, kind, offsetof(dtx_config, field), 0, 0}

static const key_def keys[] = {
    KEY("gateway", "listen", K_ADDR, listen_addr),
    KEY("gateway", "port", K_PORT, port),
    U32("gateway", "max_connections", max_connections, 1, 65535),
    U32("gateway", "tick_ms", tick_ms, 1, 1000),
    KEY("gateway", "cpu", K_CPU, gateway_cpu),
    KEY("gateway", "fix44_listen", K_ADDR, fix44_listen_addr),
    KEY("gateway", "fix44_port", K_PORT, fix44_port),
    U32("session", "max_sessions", max_sessions, 1, 65535),
    U32("session", "send_buffer_bytes", send_buffer_bytes, 4096, 1u << 26),
    U32("session", "store_depth", store_depth, 16, 1u << 20),
    U32("session", "retention_s", retention_s, 1, 30u * 86400u),
    U32("session", "clock_skew_ms", clock_skew_ms, 1, 600000),
    U32("session", "throttle_rate", throttle_rate, 1, 10000000),
    U32("session", "throttle_burst", throttle_burst, 1, 10000000),
    U32("session", "handshake_timeout_ms", handshake_timeout_ms, 100, 600000),
    U32("session", "max_sessions_per_key", max_sessions_per_key, 0, 65535),
    KEY("core", "cpu", K_CPU, core_cpu),
    U32("core", "max_orders", max_orders, 1, 1u << 30),
    U32("core", "max_timed", max_timed, 1, 1u << 30),
    U32("core", "max_stops", max_stops, 1, 1u << 28),
    U32("core", "max_icebergs", max_icebergs, 0, 1u << 30),
    U32("core", "time_tick_ms", time_tick_ms, 0, 3600000),
    KEY("risk", "enabled", K_BOOL, risk_enabled),
    U32("risk", "accounts", risk_accounts, 1, 1u << 24),
    KEY("risk", "audit_log", K_PATH, audit_log),
    U32("rings", "command_ring", command_ring, 2, 1u << 24),
    U32("rings", "event_ring", event_ring, 2, 1u << 24),
    KEY("rings", "wait", K_WAIT, wait),
    KEY("log", "level", K_LEVEL, log_level),
    U32("demo", "accounts", demo_accounts, 0, 1000),
    KEY("demo", "keys_file", K_PATH, keys_file),
    KEY("demo", "cancel_on_disconnect", K_BOOL, cancel_on_disconnect),
    U32("demo", "collateral", demo_collateral, 0, 1000000000),
};

/* Instrument keys: bit positions in parse_state.seen. */
enum {
    IK_SECURITY_ID,
    IK_TYPE,
    IK_TICK,
    IK_MULT,
    IK_MIN_PRICE,
    IK_MAX_PRICE,
    IK_MIN_QTY,
    IK_MAX_QTY,
    IK_LOT,
    IK_BAND,
    IK_EXPIRY,
    IK_COUNT
};
static const char *const instr_keys[IK_COUNT] = {
    "security_id", "type", "tick_size", "contract_multiplier", "min_price", "max_price",
    "min_qty", "max_qty", "lot_size", "market_band_ticks", "expiry"};
#define IK_REQUIRED \
    ((1u << IK_SECURITY_ID) | (1u << IK_TICK) | (1u << IK_MIN_PRICE) | (1u << IK_MAX_PRICE) | \
     (1u << IK_MAX_QTY))

typedef struct parse_state {
    dtx_config *c;
    const char *origin;
    char msg[400];         /* first refusal, without origin and line */
    int failed;
    int instruments_seen;  /* any [instrument ...] yet: defaults dropped */
    char section[96];      /* current section as inih gave it */
    uint32_t seen[DTX_CONFIG_MAX_INSTRUMENTS]; /* IK_* bits per instrument */
} parse_state;

/* Records the first refusal; returns 0 so inih reports this line. */
static int refuse(parse_state *ps, const char *section, const char *name, const char *value,
                  const char *why)
{
    if (!ps->failed) {
        snprintf(ps->msg, sizeof ps->msg, "[%s] %s = \"%s\": %s", section, name, value, why);
        ps->failed = 1;
    }
    return 0;
}

static int set_scalar(parse_state *ps, const key_def *k, const char *section, const char *value)
{
    char *base = (char *)ps->c + k->off;
    uint64_t v;
    char why[96];

    switch (k->kind) {
    case K_U32:
        if (!parse_u64(value, &v) || v < k->min || v > k->max) {
            snprintf(why, sizeof why, "not an integer in %llu..%llu", (unsigned long long)k->min,
                     (unsigned long long)k->max);
            return refuse(ps, section, k->name, value, why);
        }
        *(uint32_t *)(void *)base = (uint32_t)v;
        return 1;
    case K_PORT:
        if (!parse_u64(value, &v) || v > 65535)
            return refuse(ps, section, k->name, value, "not a port in 0..65535 (0 = any free port)");
        *(uint16_t *)(void *)base = (uint16_t)v;
        return 1;
    case K_CPU:
        if (strcmp(value, "none") == 0 || strcmp(value, "-1") == 0) {
            *(int *)(void *)base = -1;
            return 1;
        }
        if (!parse_u64(value, &v) || v > 1023)
            return refuse(ps, section, k->name, value, "not a CPU number in 0..1023 or \"none\"");
        *(int *)(void *)base = (int)v;
        return 1;
    case K_ADDR: {
        struct in_addr a;
        if (strlen(value) >= sizeof ps->c->listen_addr || inet_pton(AF_INET, value, &a) != 1)
            return refuse(ps, section, k->name, value, "not an IPv4 address");
        snprintf(base, sizeof ps->c->listen_addr, "%s", value);
        return 1;
    }
    case K_WAIT:
        if (!dtx_wait_strategy_parse(value, (dtx_wait_strategy *)(void *)base))
            return refuse(ps, section, k->name, value, "not one of busy-spin, spin-yield, block");
        return 1;
    case K_LEVEL:
        if (!dtx_log_level_parse(value, (dtx_log_level *)(void *)base))
            return refuse(ps, section, k->name, value, "not one of debug, info, warn, error");
        return 1;
    case K_PATH:
        if (*value == '\0' || strlen(value) >= DTX_CONFIG_PATH_MAX)
            return refuse(ps, section, k->name, value, "empty or longer than 255 bytes");
        snprintf(base, DTX_CONFIG_PATH_MAX, "%s", value);
        return 1;
    case K_BOOL:
        if (!parse_bool(value, (int *)(void *)base))
            return refuse(ps, section, k->name, value, "not a boolean (true/false, yes/no, 1/0)");
        return 1;
    }
    return refuse(ps, section, k->name, value, "internal: unknown key kind");
}

/* Starts a new instrument for section "instrument SYMBOL". Returns 1 or 0
 * (refused). */
static int begin_instrument(parse_state *ps, const char *section, const char *name,
                            const char *value)
{
    dtx_config *c = ps->c;
    const char *sym = section + strlen(INSTR_PREFIX);
    dtx_instrument_config *ic;
    size_t len = strlen(sym);

    if (!ps->instruments_seen) {
        ps->instruments_seen = 1;
        c->n_instruments = 0; /* a file with instruments replaces the defaults */
    }
    if (len == 0 || len > 15) {
        return refuse(ps, section, name, value,
                      "the section's instrument symbol must be 1..15 characters");
    }
    for (size_t i = 0; i < len; i++) {
        if (!isgraph((unsigned char)sym[i]))
            return refuse(ps, section, name, value, "the instrument symbol must be printable ASCII");
    }
    for (uint32_t i = 0; i < c->n_instruments; i++) {
        if (strcmp(c->instruments[i].symbol, sym) == 0)
            return refuse(ps, section, name, value, "a second section for this instrument");
    }
    if (c->n_instruments >= DTX_CONFIG_MAX_INSTRUMENTS)
        return refuse(ps, section, name, value, "more than 64 instruments");
    ic = &c->instruments[c->n_instruments];
    memset(ic, 0, sizeof *ic);
    memcpy(ic->symbol, sym, len);
    ic->type = DTX_INSTR_PERPETUAL;
    ic->contract_multiplier = PRICE9_ONE;
    ic->min_qty = 1;
    ic->lot_size = 1;
    ic->market_band_ticks = 200;
    ps->seen[c->n_instruments] = 0;
    c->n_instruments++;
    return 1;
}

static int set_instrument(parse_state *ps, const char *section, const char *name,
                          const char *value)
{
    dtx_config *c = ps->c;
    dtx_instrument_config *ic;
    uint32_t k;
    uint64_t u;
    int64_t p;

    if (strcmp(section, ps->section) != 0) {
        snprintf(ps->section, sizeof ps->section, "%s", section);
        if (!begin_instrument(ps, section, name, value)) {
            ps->section[0] = '\0';
            return 0;
        }
    }
    ic = &c->instruments[c->n_instruments - 1];
    for (k = 0; k < IK_COUNT; k++) {
        if (strcmp(name, instr_keys[k]) == 0)
            break;
    }
    if (k == IK_COUNT)
        return refuse(ps, section, name, value, "unknown key");
    if (ps->seen[c->n_instruments - 1] & (1u << k))
        return refuse(ps, section, name, value, "key given twice");
    ps->seen[c->n_instruments - 1] |= 1u << k;

    switch (k) {
    case IK_SECURITY_ID:
        if (!parse_u64(value, &u) || u == 0 || u > UINT32_MAX)
            return refuse(ps, section, name, value, "not an integer in 1..4294967295");
        ic->security_id = (uint32_t)u;
        return 1;
    case IK_TYPE:
        if (strcmp(value, "perpetual") == 0)
            ic->type = DTX_INSTR_PERPETUAL;
        else if (strcmp(value, "future") == 0)
            ic->type = DTX_INSTR_FUTURE;
        else
            return refuse(ps, section, name, value, "not one of perpetual, future");
        return 1;
    case IK_TICK:
    case IK_MULT:
    case IK_MIN_PRICE:
    case IK_MAX_PRICE:
        if (!dtx_config_parse_price9(value, &p) || p <= 0)
            return refuse(ps, section, name, value,
                          "not a positive decimal with at most 9 fraction digits");
        if (k == IK_TICK)
            ic->tick_size = p;
        else if (k == IK_MULT)
            ic->contract_multiplier = p;
        else if (k == IK_MIN_PRICE)
            ic->min_price = p;
        else
            ic->max_price = p;
        return 1;
    case IK_MIN_QTY:
    case IK_MAX_QTY:
    case IK_LOT:
        if (!parse_u64(value, &u) || u == 0 || u > (uint64_t)DTX_MAX_ORDER_QTY)
            return refuse(ps, section, name, value, "not an integer in 1..2147483647");
        if (k == IK_MIN_QTY)
            ic->min_qty = (int64_t)u;
        else if (k == IK_MAX_QTY)
            ic->max_qty = (int64_t)u;
        else
            ic->lot_size = (int64_t)u;
        return 1;
    case IK_BAND:
        if (!parse_u64(value, &u) || u == 0 || u > DTX_MAX_LEVELS)
            return refuse(ps, section, name, value, "not an integer in 1..4194304");
        ic->market_band_ticks = (uint32_t)u;
        return 1;
    case IK_EXPIRY:
        if (!dtx_config_parse_time(value, &u))
            return refuse(ps, section, name, value,
                          "not a time YYYY-MM-DDTHH:MM:SSZ or nanoseconds since the epoch");
        ic->expiry = u;
        return 1;
    }
    return refuse(ps, section, name, value, "unknown key");
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_state *ps = user;
    size_t i;
    int known_section = 0;

    if (ps->failed)
        return 1; /* only the first problem is reported (its line is inih's answer) */
    if (strncmp(section, INSTR_PREFIX, strlen(INSTR_PREFIX)) == 0)
        return set_instrument(ps, section, name, value);
    snprintf(ps->section, sizeof ps->section, "%s", section);
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(section, keys[i].section) != 0)
            continue;
        known_section = 1;
        if (strcmp(name, keys[i].name) == 0)
            return set_scalar(ps, &keys[i], section, value);
    }
    return refuse(ps, section, name, value, known_section ? "unknown key" : "unknown section");
}

/* Turns inih's answer into a status and message. */
static dtx_status finish(parse_state *ps, int rc)
{
    if (rc == -1)
        return dtx_error_set(DTX_EIO, "%s: cannot open: %s", ps->origin, strerror(errno));
    if (rc == -2)
        return dtx_error_set(DTX_ENOMEM, "%s: out of memory while parsing", ps->origin);
    if (rc > 0) {
        if (ps->failed)
            return dtx_error_set(DTX_EINVAL, "%s:%d: %s", ps->origin, rc, ps->msg);
        return dtx_error_set(DTX_EINVAL,
                             "%s:%d: syntax error (expected [section], key = value, or a comment)",
                             ps->origin, rc);
    }
    for (uint32_t i = 0; i < ps->c->n_instruments && ps->instruments_seen; i++) {
        uint32_t missing = IK_REQUIRED & ~ps->seen[i];
        if (missing) {
            int k = __builtin_ctz(missing);
            return dtx_error_set(DTX_EINVAL, "%s: [instrument %s] %s: required key missing",
                                 ps->origin, ps->c->instruments[i].symbol, instr_keys[k]);
        }
    }
    {
        dtx_status st = dtx_config_validate(ps->c);
        if (st != DTX_OK) {
            char inner[400];
            snprintf(inner, sizeof inner, "%s", dtx_error_message());
            return dtx_error_set(st, "%s: %s", ps->origin, inner);
        }
    }
    return DTX_OK;
}

dtx_status dtx_config_load_file(dtx_config *c, const char *path)
{
    parse_state ps = {.c = c, .origin = path};
    int rc;
    FILE *f;

    dtx_config_defaults(c);
    f = fopen(path, "r");
    if (!f)
        return dtx_error_set(DTX_EIO, "%s: cannot open: %s", path, strerror(errno));
    rc = ini_parse_file(f, handler, &ps);
    fclose(f);
    return finish(&ps, rc);
}

dtx_status dtx_config_load_string(dtx_config *c, const char *text, const char *origin)
{
    parse_state ps = {.c = c, .origin = origin};
    dtx_config_defaults(c);
    return finish(&ps, ini_parse_string(text, handler, &ps));
}

static int is_pow2(uint32_t v) { return v >= 2 && (v & (v - 1)) == 0; }

dtx_status dtx_config_validate(const dtx_config *c)
{
    uint32_t i, j;
    if (!is_pow2(c->command_ring))
        return dtx_error_set(DTX_EINVAL, "[rings] command_ring = %u: not a power of two",
                             c->command_ring);
    if (!is_pow2(c->event_ring))
        return dtx_error_set(DTX_EINVAL, "[rings] event_ring = %u: not a power of two",
                             c->event_ring);
    if (c->command_ring < 64 || c->event_ring < 256)
        return dtx_error_set(DTX_EINVAL,
                             "[rings] command_ring = %u, event_ring = %u: at least 64 and 256",
                             c->command_ring, c->event_ring);
    if (!is_pow2(c->store_depth))
        return dtx_error_set(DTX_EINVAL, "[session] store_depth = %u: not a power of two",
                             c->store_depth);
    if (c->n_instruments == 0)
        return dtx_error_set(DTX_EINVAL, "no instruments");
    for (i = 0; i < c->n_instruments; i++) {
        const dtx_instrument_config *a = &c->instruments[i];
        if (a->type == DTX_INSTR_FUTURE && a->expiry == 0)
            return dtx_error_set(DTX_EINVAL, "[instrument %s] expiry: a future needs one",
                                 a->symbol);
        for (j = 0; j < i; j++) {
            if (c->instruments[j].security_id == a->security_id)
                return dtx_error_set(DTX_EINVAL,
                                     "[instrument %s] security_id = %u: also [instrument %s]",
                                     a->symbol, a->security_id, c->instruments[j].symbol);
        }
    }
    if (c->max_icebergs > c->max_orders)
        return dtx_error_set(DTX_EINVAL,
                             "[core] max_icebergs = %u: at most max_orders (%u); 0 = max_orders / 16 + 1",
                             c->max_icebergs, c->max_orders);
    if (c->risk_enabled && c->demo_accounts >= c->risk_accounts)
        return dtx_error_set(DTX_EINVAL,
                             "[demo] accounts = %u: the risk gate knows accounts 0..%u "
                             "([risk] accounts = %u)",
                             c->demo_accounts, c->risk_accounts - 1, c->risk_accounts);
    if (c->gateway_cpu >= 0 && c->gateway_cpu == c->core_cpu && c->wait == DTX_WAIT_BUSY_SPIN)
        return dtx_error_set(DTX_EINVAL,
                             "[rings] wait = busy-spin with [gateway] cpu = [core] cpu = %d: two "
                             "spinning threads on one CPU",
                             c->core_cpu);
    return DTX_OK;
}
