/*
 * dtx-engine - the exchange daemon: FIXP order entry over kernel TCP in front
 * of one matching-engine shard.
 *
 *   dtx-engine [--config FILE] [--port N] [--fix-port N] [--keys-file PATH] [--check]
 *
 * main() reads the configuration (dtx/config.h; the embedded default when no
 * file is given: loopback, three instruments, demo accounts), loads or
 * generates the demo accounts' keys (dtx/keyfile.h), creates the two rings,
 * the risk gate (dtx/risk.h; demo accounts get their collateral), the core
 * (dtx/core.h), the session layer (dtx/session.h), the gateway
 * (dtx/gateway.h) and the audit log writer (dtx/audit_log.h), starts the
 * three threads (core and gateway pinned as configured), and then only waits
 * for SIGTERM/SIGINT on a signalfd, logging a stats line now and then.
 * Shutdown: the gateway closes its input (every connection ends,
 * cancel-on-disconnect commands are submitted), the core finishes the
 * commands already in its ring, the audit writer writes every record queued,
 * the gateway delivers the last events; the threads are joined, a final
 * stats line is written and the exit status is 0 - or 1 when the audit
 * writer had to give up on records it could not write (a failing audit log
 * file: the count is logged, msg="audit records not written").
 *
 *     sockets <-> gateway thread: epoll + FIXP sessions --commands--> core thread
 *                                                      <--events----  seq, ts, risk
 *                                                                     gate, engine
 *                                     audit writer thread <--audit records--'
 *                                     (dtx-audit.log)
 *
 * Every log line is key=value on stderr (dtx/log.h); errors at start-up are
 * one line naming what was wrong, and exit status 1.
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, pthread_setname_np */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "dtx/audit_log.h"
#include "dtx/config.h"
#include "dtx/core.h"
#include "dtx/fix44.h"
#include "dtx/gateway.h"
#include "dtx/keyfile.h"
#include "dtx/log.h"
#include "dtx/ring.h"
#include "dtx/risk.h"
#include "dtx/session.h"

#define MAX_KEYS 1024u
#define STATS_EVERY_MS 60000
#define GATEWAY_IN_BUFFER 8192u
#define GATEWAY_OUT_BUFFER 16384u
/* Audit records the core may queue ahead of the audit writer (80 bytes each);
 * an admin change that finds no room for its records is refused
 * AuditUnavailable (the writer stuck behind a failing audit log file). */
#define AUDIT_RING 4096u

static const char usage_text[] =
    "usage: dtx-engine [--config FILE] [--port N] [--fix-port N] [--keys-file PATH] [--check]\n"
    "\n"
    "Runs the exchange: FIXP order entry over TCP (loopback by default) in front of\n"
    "the matching engine. With no --config it runs the embedded default, which\n"
    "deploy/dtx-engine.conf spells out key by key.\n"
    "  --config FILE     read the configuration from FILE (INI)\n"
    "  --port N          listen on port N instead of the configured one (0 = any\n"
    "                    free port; the chosen one is logged: msg=\"listening\")\n"
    "  --fix-port N      the FIX 4.4 tag-value listener's port instead of the\n"
    "                    configured one (0 = any free port; logged as protocol=fix44;\n"
    "                    --port 0 alone puts both listeners on free ports)\n"
    "  --keys-file PATH  the demo accounts' key file instead of the configured one\n"
    "  --check           load and check the configuration, print it, and exit\n"
    "Stop it with SIGTERM or SIGINT (Ctrl-C). Exit status: 0 after a clean\n"
    "shutdown, 1 when it cannot start, 2 on bad usage.\n";

/* The session layer's callbacks, bound to the gateway once it exists. */
typedef struct glue {
    dtx_gateway *gw;
    dtx_sessions *sessions;
    dtx_fix44 *fix; /* connections of the second listener; sessions >= max_sessions */
} glue;

/* 1 when conn came through the FIX 4.4 listener. */
static int is_fix(const glue *g, uint32_t conn)
{
    return g->fix && dtx_gateway_conn_listener(g->gw, conn) == 1;
}

static size_t cb_write(void *ctx, uint32_t conn, const uint8_t *data, size_t len)
{
    return dtx_gateway_send(((glue *)ctx)->gw, conn, data, len);
}

static int cb_submit(void *ctx, const dtx_command *cmd)
{
    return dtx_gateway_submit(((glue *)ctx)->gw, cmd) == 0 ? 0 : 1;
}

static void cb_close(void *ctx, uint32_t conn) { dtx_gateway_close(((glue *)ctx)->gw, conn); }

/* The gateway's handler: the FIXP session layer. */
static int h_open(void *ctx, uint32_t conn, uint64_t now)
{
    if (is_fix(ctx, conn))
        return dtx_fix44_open(((glue *)ctx)->fix, conn, now) == DTX_OK ? 0 : -1;
    return dtx_session_open(((glue *)ctx)->sessions, conn, now) == DTX_OK ? 0 : -1;
}

static size_t h_bytes(void *ctx, uint32_t conn, const uint8_t *data, size_t len, uint64_t now)
{
    if (is_fix(ctx, conn))
        return dtx_fix44_on_bytes(((glue *)ctx)->fix, conn, data, len, now);
    return dtx_session_on_bytes(((glue *)ctx)->sessions, conn, data, len, now);
}

static void h_writable(void *ctx, uint32_t conn, uint64_t now)
{
    if (is_fix(ctx, conn))
        dtx_fix44_on_writable(((glue *)ctx)->fix, conn, now);
    else
        dtx_session_on_writable(((glue *)ctx)->sessions, conn, now);
}

static void h_closed(void *ctx, uint32_t conn, uint64_t now)
{
    if (is_fix(ctx, conn))
        dtx_fix44_on_closed(((glue *)ctx)->fix, conn, now);
    else
        dtx_session_on_closed(((glue *)ctx)->sessions, conn, now);
}

static void h_tick(void *ctx, uint64_t now)
{
    dtx_session_tick(((glue *)ctx)->sessions, now);
    if (((glue *)ctx)->fix)
        dtx_fix44_tick(((glue *)ctx)->fix, now);
}

static void h_event(void *ctx, const dtx_event *ev, uint64_t now)
{
    /* every event to both layers: each reports its own sessions' events;
     * FIXP may copy others to drop-copy sessions, and the FIX layer frees
     * the ClOrdIDs of its requests answered to a FIXP session (a FIX cancel
     * or replace, by OrderID, of the account's FIXP order) */
    (void)dtx_session_on_event(((glue *)ctx)->sessions, ev, now);
    if (((glue *)ctx)->fix)
        (void)dtx_fix44_on_event(((glue *)ctx)->fix, ev, now);
}

/* ---- start-up helpers ----------------------------------------------------------- */

static int fail(const char *what, const char *detail)
{
    char esc[512];
    dtx_log(DTX_LOG_ERROR, what, "err=\"%s\"", dtx_log_escape(esc, sizeof esc, detail));
    return 1;
}

static void print_config(const dtx_config *c, const char *origin)
{
    printf("config %s\n", origin);
    printf("  gateway: listen %s:%u, max_connections %u, tick %u ms, cpu %d\n", c->listen_addr,
           c->port, c->max_connections, c->tick_ms, c->gateway_cpu);
    printf("  fix44: listen %s:%u\n", c->fix44_listen_addr, c->fix44_port);
    printf("  session: max_sessions %u, send_buffer %u B, store_depth %u, throttle %u/s burst %u\n",
           c->max_sessions, c->send_buffer_bytes, c->store_depth, c->throttle_rate,
           c->throttle_burst);
    printf("  core: cpu %d, max_orders %u, max_timed %u, max_stops %u, max_icebergs %u%s, time_tick %u ms\n",
           c->core_cpu, c->max_orders, c->max_timed, c->max_stops,
           c->max_icebergs ? c->max_icebergs : c->max_orders / 16 + 1, c->max_icebergs ? "" : " (default)",
           c->time_tick_ms);
    printf("  rings: commands %u, events %u, wait %s\n", c->command_ring, c->event_ring,
           dtx_wait_strategy_name(c->wait));
    printf("  risk: %s, %u accounts, audit log %s\n", c->risk_enabled ? "on" : "off",
           c->risk_accounts, c->audit_log);
    printf("  demo: %u accounts, collateral %u each, keys %s\n", c->demo_accounts,
           c->demo_collateral, c->keys_file);
    for (uint32_t i = 0; i < c->n_instruments; i++)
        printf("  instrument %u %s\n", c->instruments[i].security_id, c->instruments[i].symbol);
}

/* The risk gate for the configured instruments: the default instruments keep
 * their own risk parameters (dtx_risk_default_instruments); any other
 * instrument gets BTC-PERP's rates with its own multiplier and expiry. Each
 * demo account 1..N gets the configured collateral. */
static dtx_risk *make_risk(const dtx_config *cfg)
{
    uint32_t nd, i, j;
    const dtx_risk_instrument_config *def = dtx_risk_default_instruments(&nd);
    dtx_risk_instrument_config *ri = calloc(cfg->n_instruments, sizeof *ri);
    dtx_risk_config rc = {0};
    dtx_risk *r;

    if (!ri) {
        dtx_error_set(DTX_ENOMEM, "risk: out of memory");
        return NULL;
    }
    for (i = 0; i < cfg->n_instruments; i++) {
        const dtx_instrument_config *ic = &cfg->instruments[i];
        for (j = 0; j < nd && def[j].security_id != ic->security_id; j++) {
        }
        ri[i] = def[j < nd ? j : 0];
        ri[i].security_id = ic->security_id;
        ri[i].contract_multiplier = ic->contract_multiplier;
        ri[i].expiry = ic->expiry;
    }
    rc.instruments = ri;
    rc.n_instruments = cfg->n_instruments;
    rc.n_accounts = cfg->risk_accounts;
    rc.max_orders = cfg->max_orders;
    r = dtx_risk_create(&rc);
    free(ri);
    if (!r)
        return NULL;
    for (uint32_t a = 1; a <= cfg->demo_accounts && cfg->demo_collateral > 0; a++) {
        if (dtx_risk_deposit(r, a, (int64_t)cfg->demo_collateral * DTX_RISK_MONEY_ONE) != DTX_OK) {
            dtx_risk_destroy(r);
            return NULL;
        }
    }
    return r;
}

typedef struct thread_spec {
    const char *name;
    int cpu;
    void *(*fn)(void *);
    void *arg;
} thread_spec;

/* Starts a thread, pinned to spec->cpu when >= 0. Returns 0 or -1 (logged). */
static int start_thread(pthread_t *t, const thread_spec *spec)
{
    pthread_attr_t attr;
    int rc;
    pthread_attr_init(&attr);
    if (spec->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(spec->cpu, &set);
        pthread_attr_setaffinity_np(&attr, sizeof set, &set);
    }
    rc = pthread_create(t, &attr, spec->fn, spec->arg);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        dtx_log(DTX_LOG_ERROR, "cannot start thread", "thread=%s cpu=%d err=\"%s\"", spec->name,
                spec->cpu, strerror(rc));
        return -1;
    }
    pthread_setname_np(*t, spec->name);
    if (spec->cpu >= 0)
        dtx_log(DTX_LOG_INFO, "thread started", "thread=%s cpu=%d", spec->name, spec->cpu);
    else
        dtx_log(DTX_LOG_INFO, "thread started", "thread=%s cpu=none", spec->name);
    return 0;
}

/* The FIX 4.4 layer and the audit writer, for log_stats() (set once before
 * the threads start). */
static dtx_fix44 *stats_fix44;
static dtx_audit_log *stats_audit;

static void log_stats(const char *msg, dtx_core *core, dtx_gateway *gw, dtx_sessions *s)
{
    dtx_core_stats cs;
    dtx_gateway_stats gs;
    dtx_session_stats ss;
    dtx_core_stats_get(core, &cs);
    dtx_gateway_stats_get(gw, &gs);
    /* The session counters are the gateway thread's: read racily, for logs. */
    dtx_session_stats_get(s, &ss);
    dtx_log(DTX_LOG_INFO, msg,
            "commands=%llu last_seq=%llu events=%llu event_waits=%llu connections_open=%u "
            "accepted=%llu refused=%llu bytes_in=%llu bytes_out=%llu backpressure=%llu "
            "reports_out=%llu protocol_errors=%llu throttled=%llu",
            (unsigned long long)cs.commands, (unsigned long long)cs.last_seq,
            (unsigned long long)cs.events, (unsigned long long)cs.event_waits, gs.open,
            (unsigned long long)gs.accepted, (unsigned long long)gs.refused,
            (unsigned long long)gs.bytes_in, (unsigned long long)gs.bytes_out,
            (unsigned long long)gs.backpressure, (unsigned long long)ss.reports_out,
            (unsigned long long)ss.protocol_errors, (unsigned long long)ss.throttled);
    if (stats_fix44) {
        dtx_fix44_stats fs;
        dtx_fix44_stats_get(stats_fix44, &fs); /* racy too, for logs */
        dtx_log(DTX_LOG_INFO, "fix44 stats",
                "connections_open=%u sessions=%u logons=%llu logon_rejects=%llu messages_in=%llu "
                "garbled=%llu reports_out=%llu resent=%llu throttled=%llu",
                fs.connections_open, fs.sessions_held, (unsigned long long)fs.logons,
                (unsigned long long)fs.logon_rejects, (unsigned long long)fs.messages_in,
                (unsigned long long)fs.garbled, (unsigned long long)fs.reports_out,
                (unsigned long long)fs.resent, (unsigned long long)fs.throttled);
    }
    if (stats_audit) {
        dtx_audit_log_stats as;
        dtx_audit_log_stats_get(stats_audit, &as);
        dtx_log(as.write_errors || as.refused || as.unwritten ? DTX_LOG_ERROR : DTX_LOG_INFO,
                "audit stats",
                "records=%llu lines=%llu full_waits=%llu write_errors=%llu retries=%llu "
                "episodes=%llu failing=%d refused=%llu unwritten=%llu err=\"%s\"",
                (unsigned long long)as.records, (unsigned long long)as.lines,
                (unsigned long long)as.full_waits, (unsigned long long)as.write_errors,
                (unsigned long long)as.retries, (unsigned long long)as.episodes, as.failing,
                (unsigned long long)as.refused, (unsigned long long)as.unwritten,
                as.last_errno ? strerror(as.last_errno) : "");
    }
}

/* Waits for SIGTERM/SIGINT on fd, logging stats every STATS_EVERY_MS. Returns
 * the signal number. */
static int wait_for_signal(int fd, dtx_core *core, dtx_gateway *gw, dtx_sessions *s)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        struct signalfd_siginfo si;
        int rc = poll(&p, 1, STATS_EVERY_MS);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0) {
            log_stats("stats", core, gw, s);
            continue;
        }
        if (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
            return (int)si.ssi_signo;
    }
}

int main(int argc, char **argv)
{
    dtx_config *cfg = malloc(sizeof *cfg);
    const char *config_path = NULL, *keys_path = NULL;
    long port_override = -1, fix_port_override = -1;
    int check_only = 0, sfd, sig, rc = 1;
    sigset_t mask;
    dtx_key_entry *keys = NULL;
    uint32_t n_keys = 0, generated = 0;
    dtx_ring *cmds = NULL, *evs = NULL;
    dtx_core *core = NULL;
    dtx_risk *risk = NULL;
    int audit_fd = -1;
    dtx_audit_log *audit = NULL;
    dtx_gateway *gw = NULL;
    glue g = {0};
    pthread_t core_thread, gw_thread, audit_thread;
    int core_started = 0, gw_started = 0, audit_started = 0;
    struct timespec t_start, t_end;

    if (!cfg)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end;
            port_override = strtol(argv[++i], &end, 10);
            if (*end || port_override < 0 || port_override > 65535) {
                fprintf(stderr, "dtx-engine: --port %s: not a port in 0..65535\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--fix-port") == 0 && i + 1 < argc) {
            char *end;
            fix_port_override = strtol(argv[++i], &end, 10);
            if (*end || fix_port_override < 0 || fix_port_override > 65535) {
                fprintf(stderr, "dtx-engine: --fix-port %s: not a port in 0..65535\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--keys-file") == 0 && i + 1 < argc) {
            keys_path = argv[++i];
        } else if (strcmp(argv[i], "--check") == 0) {
            check_only = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else {
            fprintf(stderr, "dtx-engine: unknown argument %s\n\n%s", argv[i], usage_text);
            return 2;
        }
    }

    /* ---- configuration ---- */
    if (config_path) {
        if (dtx_config_load_file(cfg, config_path) != DTX_OK)
            return fail("bad configuration", dtx_error_message());
    } else {
        dtx_config_defaults(cfg);
    }
    if (port_override >= 0)
        cfg->port = (uint16_t)port_override;
    if (fix_port_override >= 0)
        cfg->fix44_port = (uint16_t)fix_port_override;
    else if (port_override == 0)
        cfg->fix44_port = 0; /* a run on any free port never collides on 7002 */
    if (keys_path) {
        if (strlen(keys_path) >= sizeof cfg->keys_file)
            return fail("bad configuration", "--keys-file: path too long");
        snprintf(cfg->keys_file, sizeof cfg->keys_file, "%s", keys_path);
    }
    if (check_only) {
        print_config(cfg, config_path ? config_path : "(embedded default)");
        free(cfg);
        return 0;
    }
    dtx_log_set_level(cfg->log_level);
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    dtx_log(DTX_LOG_INFO, "starting",
            "config=\"%s\" instruments=%u wait=%s max_connections=%u pid=%d",
            config_path ? config_path : "(embedded default)", cfg->n_instruments,
            dtx_wait_strategy_name(cfg->wait), cfg->max_connections, (int)getpid());

    /* Signals: blocked here so every thread inherits the mask; main reads them
     * from a signalfd. SIGPIPE is ignored (sends use MSG_NOSIGNAL anyway). */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0)
        return fail("cannot start", "signalfd failed");

    /* ---- keys ---- */
    keys = calloc(MAX_KEYS, sizeof *keys);
    if (!keys)
        return fail("cannot start", "out of memory");
    if (cfg->demo_accounts > 0) {
        if (dtx_keyfile_ensure_demo(cfg->keys_file, cfg->demo_accounts, keys, MAX_KEYS, &n_keys,
                                    &generated) != DTX_OK) {
            fail("cannot prepare the demo keys", dtx_error_message());
            goto out;
        }
        /* one key of each other role, so dtx-admin works out of the box */
        if (dtx_keyfile_ensure_roles(cfg->keys_file, keys, MAX_KEYS, &n_keys, &generated) !=
            DTX_OK) {
            fail("cannot prepare the demo keys", dtx_error_message());
            goto out;
        }
        dtx_log(DTX_LOG_INFO, "demo keys", "file=%s accounts=%u keys=%u generated=%u",
                cfg->keys_file, cfg->demo_accounts, n_keys, generated);
    }

    /* ---- rings and core ---- */
    cmds = dtx_ring_create(sizeof(dtx_command), cfg->command_ring, cfg->wait);
    evs = dtx_ring_create(sizeof(dtx_event), cfg->event_ring, cfg->wait);
    if (!cmds || !evs) {
        fail("cannot create the rings", dtx_error_message());
        goto out;
    }
    if (cfg->risk_enabled) {
        risk = make_risk(cfg);
        if (!risk) {
            fail("cannot create the risk gate", dtx_error_message());
            goto out;
        }
        dtx_log(DTX_LOG_INFO, "risk gate", "accounts=%u demo_collateral=%u",
                cfg->risk_accounts, cfg->demo_collateral);
    } else {
        dtx_log(DTX_LOG_WARN, "risk gate disabled", "reason=config");
    }
    {
        dtx_core_config cc = {0};
        cc.engine.instruments = cfg->instruments;
        cc.engine.n_instruments = cfg->n_instruments;
        cc.engine.max_orders = cfg->max_orders;
        cc.engine.max_timed = cfg->max_timed;
        cc.engine.max_stops = cfg->max_stops;
        cc.engine.max_icebergs = cfg->max_icebergs;
        cc.commands = cmds;
        cc.events = evs;
        cc.time_tick_ms = cfg->time_tick_ms;
        if (risk) {
            cc.observer = dtx_risk_sink; /* positions and open orders follow every event */
            cc.observer_ctx = risk;
            cc.risk = risk; /* fees of 201, admin commands */
        }
        audit_fd = open(cfg->audit_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (audit_fd < 0) {
            char detail[400];
            snprintf(detail, sizeof detail, "%s: %s", cfg->audit_log, strerror(errno));
            fail("cannot open the audit log", detail);
            goto out;
        }
        /* The audit writer always blocks when idle (it must not own a CPU);
         * the core never waits on it: an admin change that finds fewer than
         * its records' slots free of AUDIT_RING is refused (dtx/audit_log.h). */
        audit = dtx_audit_log_create(audit_fd, cfg->audit_log, AUDIT_RING, DTX_WAIT_BLOCK);
        if (!audit) {
            fail("cannot create the audit log writer", dtx_error_message());
            goto out;
        }
        stats_audit = audit;
        cc.audit = dtx_audit_log_record;
        cc.audit_reserve = dtx_audit_log_reserve;
        cc.audit_ctx = audit;
        core = dtx_core_create(&cc);
        if (!core) {
            fail("cannot create the engine", dtx_error_message());
            goto out;
        }
        if (risk)
            dtx_engine_set_gate(dtx_core_engine(core), dtx_risk_gate, risk);
    }

    /* ---- sessions ---- */
    {
        dtx_session_config sc = {0};
        dtx_session_callbacks cb = {.ctx = &g, .write = cb_write, .submit = cb_submit,
                                    .close = cb_close};
        sc.max_connections = cfg->max_connections;
        sc.max_sessions = cfg->max_sessions;
        sc.max_keys = MAX_KEYS;
        sc.send_buffer_bytes = cfg->send_buffer_bytes;
        sc.store_depth = cfg->store_depth;
        sc.retention_ns = (uint64_t)cfg->retention_s * 1000000000ull;
        sc.clock_skew_ns = (uint64_t)cfg->clock_skew_ms * 1000000ull;
        sc.throttle_rate = cfg->throttle_rate;
        sc.throttle_burst = cfg->throttle_burst;
        sc.handshake_timeout_ms = cfg->handshake_timeout_ms;
        sc.max_sessions_per_key = cfg->max_sessions_per_key;
        g.sessions = dtx_sessions_create(&sc, &cb);
        if (!g.sessions) {
            fail("cannot create the session layer", dtx_error_message());
            goto out;
        }
        for (uint32_t i = 0; i < n_keys; i++) {
            uint32_t flags = cfg->cancel_on_disconnect ? DTX_KEY_CANCEL_ON_DISCONNECT : 0;
            if (dtx_session_add_key(g.sessions, keys[i].pubkey, keys[i].account,
                                    (dtx_session_role)keys[i].role, flags) != DTX_OK) {
                char detail[400];
                snprintf(detail, sizeof detail, "%s: account %u: %s", cfg->keys_file,
                         keys[i].account, dtx_error_message());
                fail("cannot register a key", detail);
                goto out;
            }
        }
    }

    /* ---- FIX 4.4 sessions: same keys, numbered after the FIXP ones ---- */
    {
        dtx_session_callbacks cb = {.ctx = &g, .write = cb_write, .submit = cb_submit,
                                    .close = cb_close};
        dtx_fix44_config fc = {0};
        fc.max_connections = cfg->max_connections;
        fc.session_base = cfg->max_sessions;
        fc.send_buffer_bytes = cfg->send_buffer_bytes;
        fc.clock_skew_ns = (uint64_t)cfg->clock_skew_ms * 1000000ull;
        fc.logon_timeout_ms = cfg->handshake_timeout_ms;
        fc.throttle_rate = cfg->throttle_rate;
        fc.throttle_burst = cfg->throttle_burst;
        fc.instruments = cfg->instruments;
        fc.n_instruments = cfg->n_instruments;
        fc.keys = g.sessions;
        g.fix = dtx_fix44_create(&fc, &cb);
        if (!g.fix) {
            fail("cannot create the FIX 4.4 layer", dtx_error_message());
            goto out;
        }
        stats_fix44 = g.fix;
    }

    /* ---- gateway ---- */
    {
        dtx_gateway_config gc = {0};
        gc.listen_addr = cfg->listen_addr;
        gc.port = cfg->port;
        gc.max_connections = cfg->max_connections;
        gc.in_buffer_bytes = GATEWAY_IN_BUFFER;
        gc.out_buffer_bytes = GATEWAY_OUT_BUFFER;
        gc.tick_ms = cfg->tick_ms;
        gc.commands = cmds;
        gc.events = evs;
        gc.wait = cfg->wait;
        gc.listen2_addr = cfg->fix44_listen_addr;
        gc.port2 = cfg->fix44_port;
        gc.handler = (dtx_gateway_handler){.ctx = &g, .open = h_open, .bytes = h_bytes,
                                           .writable = h_writable, .closed = h_closed,
                                           .tick = h_tick, .event = h_event};
        gw = dtx_gateway_create(&gc);
        if (!gw) {
            fail("cannot listen", dtx_error_message());
            goto out;
        }
        g.gw = gw;
    }
    dtx_log(DTX_LOG_INFO, "listening", "addr=%s:%u protocol=fixp", cfg->listen_addr,
            dtx_gateway_port(gw));
    dtx_log(DTX_LOG_INFO, "listening", "addr=%s:%u protocol=fix44", cfg->fix44_listen_addr,
            dtx_gateway_port2(gw));
    if (strncmp(cfg->listen_addr, "127.", 4) != 0)
        dtx_log(DTX_LOG_WARN, "listening beyond loopback", "addr=%s demo_accounts=%u",
                cfg->listen_addr, cfg->demo_accounts);

    /* ---- threads ---- */
    {
        thread_spec as = {"dtx-audit", -1, dtx_audit_log_run, audit};
        thread_spec cs = {"dtx-core", cfg->core_cpu, dtx_core_run, core};
        thread_spec gs = {"dtx-gateway", cfg->gateway_cpu, dtx_gateway_run, gw};
        /* the audit writer first: the core queues records for it */
        if (start_thread(&audit_thread, &as) != 0)
            goto out;
        audit_started = 1;
        if (start_thread(&core_thread, &cs) != 0)
            goto stop;
        core_started = 1;
        if (start_thread(&gw_thread, &gs) != 0)
            goto stop;
        gw_started = 1;
    }
    dtx_log(DTX_LOG_INFO, "ready", "accounts=%u keys_file=%s", cfg->demo_accounts,
            cfg->demo_accounts ? cfg->keys_file : "-");

    sig = wait_for_signal(sfd, core, gw, g.sessions);
    dtx_log(DTX_LOG_INFO, "shutting down", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;

stop:
    /* 1. no more input: connections end, their cancel-on-disconnect is queued */
    if (gw_started) {
        dtx_gateway_close_input(gw);
        while (!dtx_gateway_input_closed(gw))
            usleep(1000);
    }
    /* 2. the core finishes what is in its ring */
    if (core_started) {
        dtx_core_stop(core);
        pthread_join(core_thread, NULL);
    }
    /* 2b. the audit writer writes every record the core queued, then returns
     * (or gives up on a failing file: then the exit status says so) */
    if (audit_started) {
        dtx_audit_log_stats as;
        dtx_audit_log_stop(audit);
        pthread_join(audit_thread, NULL);
        dtx_audit_log_stats_get(audit, &as);
        if (as.unwritten)
            rc = 1; /* applied changes without their audit line: the writer logged them */
    }
    /* 3. the gateway delivers the last events, then returns */
    if (gw_started) {
        dtx_gateway_stop(gw);
        pthread_join(gw_thread, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t_end);
    if (core_started && gw_started)
        log_stats("stopped", core, gw, g.sessions);
    dtx_log(DTX_LOG_INFO, "exit", "status=%d uptime_s=%ld", rc,
            (long)(t_end.tv_sec - t_start.tv_sec));

out:
    dtx_gateway_destroy(gw);
    dtx_fix44_destroy(g.fix);
    dtx_sessions_destroy(g.sessions);
    dtx_core_destroy(core);
    dtx_risk_destroy(risk);
    dtx_audit_log_destroy(audit);
    if (audit_fd >= 0)
        close(audit_fd);
    dtx_ring_destroy(cmds);
    dtx_ring_destroy(evs);
    if (keys) {
        memset(keys, 0, sizeof *keys * MAX_KEYS);
        free(keys);
    }
    close(sfd);
    free(cfg);
    return rc;
}
