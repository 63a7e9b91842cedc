/*
 * e2e_engine.h - the real dtx-engine for end-to-end suites, and clients of
 * the client library (dtx/client.h) that record what they receive.
 *
 * e2e_start() runs the binary from the build directory (DTX_BIN_DIR) on a
 * free loopback port (--port 0, the port read from its "listening" log line)
 * with its own temporary directory (key file, log, optional config text);
 * e2e_stop() stops it with SIGTERM and asserts a clean exit; e2e_cleanup()
 * (a suite's .fini) kills what is left and removes the directory.
 *
 * Waiting is bounded by a safety net (E2E_SAFETY_MS) that fails the test
 * instead of hanging; no assertion is on time. To check that nothing more
 * arrives, e2e_barrier() makes one round trip through the core (a cancel of
 * an order that does not exist, answered OrderCancelReject): the server flow
 * is ordered, so every earlier report has arrived before its answer.
 */
#ifndef DTX_TEST_E2E_ENGINE_H
#define DTX_TEST_E2E_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dtx/client.h"
#include "dtx/keyfile.h"

#define E2E_SAFETY_MS 20000
#define E2E_MAX_REPORTS 4096
#define E2E_MAX_EVENTS 256
#define E2E_TEXT 96
#define E2E_BARRIER_CLORDID 0xB0000000ull

/* Prices: PRICE9 of whole and half units. */
#define PX(x) ((int64_t)((x) * 1000000000.0))

typedef struct e2e_engine {
    char dir[64];
    char keys_path[128];
    char log_path[128];
    char conf_path[128];
    pid_t pid;
    uint16_t port;
    dtx_key_entry keys[8]; /* the demo key file: keys[i] is account i + 1 */
    uint32_t nkeys;
} e2e_engine;

/* One recorded event or report (texts copied). */
typedef struct e2e_event {
    dtx_client_event e;
    size_t at_report; /* reports recorded before it */
    char reason[E2E_TEXT];
} e2e_event;

typedef struct e2e_report {
    dtx_client_report r;
    char text[E2E_TEXT];
} e2e_report;

typedef struct e2e_client {
    dtx_client *c;
    e2e_engine *eng;
    e2e_report *reports; /* E2E_MAX_REPORTS */
    size_t nreports, next;
    e2e_event events[E2E_MAX_EVENTS];
    size_t nevents;
    uint64_t barrier_seq;
} e2e_client;

/* Starts the engine; config_text (INI, may be NULL) is written to a file and
 * passed with --config. Loads the demo key file. e2e_prepare() then
 * e2e_launch(). */
void e2e_start(e2e_engine *e, const char *config_text);
/* Only the first half of e2e_start(): a fresh directory, its paths and the
 * config file (for a suite that runs dtx-engine itself, e.g. by e2e_run). */
void e2e_prepare(e2e_engine *e, const char *config_text);
/* Starts the engine in e's directory with e's config (again, after an
 * e2e_stop: same key file, the log file started afresh), waits for it to be
 * ready and loads the demo key file. */
void e2e_launch(e2e_engine *e);
/* SIGTERM, waits, asserts exit status 0. */
void e2e_stop(e2e_engine *e);
/* The same with another signal (SIGINT). */
void e2e_stop_signal(e2e_engine *e, int sig);
/* Kills a running engine (SIGKILL) and removes the directory. */
void e2e_cleanup(e2e_engine *e);
/* The engine's log so far (static buffer). */
const char *e2e_log(const e2e_engine *e);

/* A client config for account (1..4) of the engine; session_id NULL = random. */
dtx_client_config e2e_config(const e2e_engine *e, uint32_t account, const uint8_t *session_id);
/* Creates the client (asserting success) without connecting. */
e2e_client *e2e_client_new(e2e_engine *e, const dtx_client_config *cfg);
/* e2e_client_new + dtx_client_connect_wait, asserting it is established. */
e2e_client *e2e_login(e2e_engine *e, uint32_t account);
void e2e_client_free(e2e_client *cl);

/* Pumps the client until a report not yet returned is there; returns it. */
const e2e_report *e2e_next(e2e_client *cl);
/* e2e_next, asserting its template. */
const e2e_report *e2e_expect(e2e_client *cl, uint16_t template_id);
/* Pumps until an event of type is recorded (from index *from on; *from is
 * moved past it). Returns it. */
const e2e_event *e2e_wait_event(e2e_client *cl, dtx_client_event_type type, size_t *from);
/* Pumps until the state is reached. */
void e2e_wait_state(e2e_client *cl, dtx_client_state st);
/* One round trip through the core; asserts that every report before its
 * answer has been returned by e2e_next (nothing unexpected is pending), and
 * consumes the answer. */
void e2e_barrier(e2e_client *cl);

/* Order helpers: a limit GTC order of instrument 1 (BTC-PERP), everything
 * else default; the caller may change fields before sending. */
dtx_sbe_new_order_single e2e_limit(uint64_t clordid, uint8_t side, int64_t px, int64_t qty);
/* Sends m, asserting DTX_OK; returns its client number. */
uint64_t e2e_send(e2e_client *cl, const dtx_sbe_new_order_single *m);

/* Runs a program of the build directory (name, e.g. "dtx-cli") with args
 * (NULL-terminated, after argv[0]) in the engine's directory, stdin from
 * /dev/null, stdout into out[0..cap) (NUL-terminated), stderr to the end of
 * out as well. Returns its exit status (asserting a normal exit). */
int e2e_run(e2e_engine *e, const char *name, const char *const *args, char *out, size_t cap);

#endif /* DTX_TEST_E2E_ENGINE_H */
