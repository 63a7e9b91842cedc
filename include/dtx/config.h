/*
 * dtx/config.h - the engine daemon's configuration (dtx-engine).
 *
 * A configuration is an INI file (parsed with inih, Debian's libinih-dev);
 * deploy/dtx-engine.conf is the documented example and lists every key. With
 * no file the daemon runs the embedded default of dtx_config_defaults():
 * loopback only, the three default instruments, 4 demo trader accounts, wait
 * strategy `block`, no CPU pinning.
 *
 * A file is applied on top of the defaults: a key it does not name keeps its
 * default. If it has any [instrument SYMBOL] section, its instruments replace
 * the default ones. An unknown section or key, or a value that does not parse
 * or is out of range, is an error whose message (dtx_error_message()) names
 * the origin, the line, the section, the key and the value, e.g.
 *   dtx-engine.conf:12: [rings] wait = "spin": not one of busy-spin, spin-yield, block
 */
#ifndef DTX_CONFIG_H
#define DTX_CONFIG_H

#include <stdint.h>

#include "dtx/engine.h"
#include "dtx/error.h"
#include "dtx/log.h"
#include "dtx/ring.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DTX_CONFIG_MAX_INSTRUMENTS 64u
#define DTX_CONFIG_PATH_MAX 256u

typedef struct dtx_config {
    /* [gateway] */
    char listen_addr[16];       /* IPv4 address to listen on [127.0.0.1] */
    uint16_t port;              /* TCP port [7001]; 0 = any free port (logged) */
    uint32_t max_connections;   /* concurrent connections [1024], 1..65535 */
    uint32_t tick_ms;           /* session timer period [10] */
    int gateway_cpu;            /* CPU the gateway thread is pinned to; -1 none */
    char fix44_listen_addr[16]; /* FIX 4.4 tag-value listener's address [127.0.0.1] */
    uint16_t fix44_port;        /* its TCP port [7002]; 0 = any free port (logged) */
    /* [session] */
    uint32_t max_sessions;      /* SessionIds held [1024], 1..65535 */
    uint32_t send_buffer_bytes; /* per connection [65536] */
    uint32_t store_depth;       /* messages kept per session for
                                   retransmission [8192], a power of two */
    uint32_t retention_s;       /* session kept after its last connection [86400] */
    uint32_t clock_skew_ms;     /* accepted credential clock skew [5000] */
    uint32_t throttle_rate;     /* application messages per second [1000] */
    uint32_t throttle_burst;    /* token bucket size [100] */
    uint32_t handshake_timeout_ms; /* [5000] */
    uint32_t max_sessions_per_key; /* FIXP sessions one key may hold [0 = no
                                      limit], 0..65535 (dtx/session.h) */
    /* [core] */
    int core_cpu;               /* CPU the core thread is pinned to; -1 none */
    uint32_t max_orders;        /* working orders, all books [1048576] */
    uint32_t max_timed;         /* Day/GTD orders awaiting expiry [1048576] */
    uint32_t max_stops;         /* pending stops per book and side [65536] */
    uint32_t max_icebergs;      /* working icebergs, all books [0: max_orders / 16 + 1] */
    uint32_t time_tick_ms;      /* sequencer TIME command period [100]; 0 = none */
    /* [risk] */
    int risk_enabled;           /* the pre-trade risk gate in the core [1] */
    uint32_t risk_accounts;     /* accounts 0 .. N-1 the gate knows [1024] */
    char audit_log[DTX_CONFIG_PATH_MAX]; /* one line per administrative change
                                            (docs/admin.md) [./dtx-audit.log] */
    /* [rings] */
    uint32_t command_ring;      /* gateway -> core capacity, records [16384] */
    uint32_t event_ring;        /* core -> gateway capacity, records [65536] */
    dtx_wait_strategy wait;     /* [block] */
    /* [log] */
    dtx_log_level log_level;    /* [info] */
    /* [demo] */
    uint32_t demo_accounts;     /* trader accounts with generated keys [4]; 0 = none */
    char keys_file[DTX_CONFIG_PATH_MAX]; /* [./dtx-demo-keys.txt] */
    int cancel_on_disconnect;   /* the demo keys' cancel-on-disconnect flag [1] */
    uint32_t demo_collateral;   /* deposited into each demo account at start-up,
                                   whole units of the settlement asset [100000] */
    /* [instrument SYMBOL] sections */
    dtx_instrument_config instruments[DTX_CONFIG_MAX_INSTRUMENTS];
    uint32_t n_instruments;     /* [3: BTC-PERP, ETH-PERP, BTC-27MAR27] */
} dtx_config;

/* Fills c with the embedded default. */
void dtx_config_defaults(dtx_config *c);

/*
 * Reads an INI file and applies it over the embedded default (c is reset
 * first). Returns DTX_OK; DTX_EIO when the file cannot be opened; DTX_EINVAL
 * for a bad line, key or value (message as above). On error c holds a
 * partial result and must not be used.
 */
dtx_status dtx_config_load_file(dtx_config *c, const char *path);

/* The same for INI text in memory; origin names it in messages. */
dtx_status dtx_config_load_string(dtx_config *c, const char *text, const char *origin);

/* Cross-field checks after loading (also run by the two loaders): capacities,
 * ring sizes, instrument sections complete and unique. */
dtx_status dtx_config_validate(const dtx_config *c);

/* Parses a decimal ("0.5", "250000", "-1.25") into PRICE9 (exponent -9)
 * exactly: at most 9 fraction digits, no exponent, no float. Returns 1 and
 * sets *out, or 0. */
int dtx_config_parse_price9(const char *s, int64_t *out);

/* Parses an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ" (or a plain integer of
 * nanoseconds since the Unix epoch) into nanoseconds. Returns 1 or 0. */
int dtx_config_parse_time(const char *s, uint64_t *out_ns);

#ifdef __cplusplus
}
#endif
#endif /* DTX_CONFIG_H */
