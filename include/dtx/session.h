/*
 * dtx/session.h - FIXP 1.1 server sessions over SOFH-framed SBE (PROTOCOL.md).
 *
 * One dtx_sessions object holds every connection and every FIXP session of
 * one gateway thread. It owns no socket and reads no clock: the transport
 * (an epoll or io_uring loop, a DPDK UDP stack, a test) feeds it bytes and
 * time, and it answers through the callbacks given at creation:
 *
 *     transport                         dtx_sessions                      core
 *     accept()        -> dtx_session_open(conn)
 *     read() bytes    -> dtx_session_on_bytes(conn, ...)  -- submit() -->  ring
 *     EPOLLOUT        -> dtx_session_on_writable(conn)
 *     EOF / error     -> dtx_session_on_closed(conn)      -- submit() -->  ring
 *     timer (~10 ms)  -> dtx_session_tick(now)               (cancel-on-disconnect)
 *     events ring     -> dtx_session_on_event(ev)  <-----------------------
 *          write() <-- bytes to send to conn
 *          close() <-- the session ends the connection
 *
 * Connections are named by the caller's index conn in [0, max_connections):
 * use the index of the socket in the transport's own table. Sessions (one per
 * negotiated SessionId) live in a table of max_sessions slots; the slot index
 * is the `session` field of every dtx_command submitted and of every
 * dtx_event the core sends back. All memory (connections, sessions, their
 * receive and send buffers, the retransmission stores) is reserved by
 * dtx_sessions_create(); nothing is allocated per message or per connection.
 *
 * Not thread-safe: one thread calls every function of one dtx_sessions.
 * Callbacks are called from inside these functions; a callback must not call
 * back into the same dtx_sessions.
 *
 * Where PROTOCOL.md leaves a choice open, the choice is written in
 * docs/session.md (reject precedence, timeouts, sizes, reasons).
 */
#ifndef DTX_SESSION_H
#define DTX_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/command.h"
#include "dtx/error.h"
#include "dtx/event.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dtx_sessions dtx_sessions;

/* Role of a registered key (PROTOCOL.md, Roles and administration). Only
 * DTX_ROLE_TRADER may send orders (100-103); the risk, operator and oracle
 * roles each own their role messages (150-165, docs/admin.md); anything
 * outside a session's role is answered BusinessMessageReject NotAuthorized
 * and reaches nothing. A
 * DTX_ROLE_DROP_COPY session receives a copy of every report 200-206 of its
 * key's account, on its own server flow. */
typedef enum dtx_session_role {
    DTX_ROLE_TRADER = 1,
    DTX_ROLE_DROP_COPY = 2,
    DTX_ROLE_RISK = 3,
    DTX_ROLE_OPERATOR = 4,
    DTX_ROLE_ORACLE = 5,
} dtx_session_role;

/* Flags of a registered key. */
#define DTX_KEY_CANCEL_ON_DISCONNECT 0x01u /* submit DTX_CMD_CANCEL_ON_DISCONNECT
                                              whenever a connection of a session
                                              established with this key ends */

/* Callbacks: ctx is the callbacks' ctx field. Every callback is required. */
typedef struct dtx_session_callbacks {
    void *ctx;
    /* Sends bytes on connection conn. Returns how many bytes of data it took
     * (0..len), e.g. what a non-blocking send() accepted. The session keeps
     * the rest in the connection's bounded send buffer, calls write() for
     * them again from dtx_session_on_writable(), and never calls write() for
     * newer bytes before older ones are taken. */
    size_t (*write)(void *ctx, uint32_t conn, const uint8_t *data, size_t len);
    /* Hands a command to the core (the gateway -> core ring). Returns 0 when
     * taken, non-zero when the ring is full: the session then changes nothing
     * for that message and dtx_session_on_bytes() returns early (see there). */
    int (*submit)(void *ctx, const dtx_command *cmd);
    /* Ends connection conn: the transport closes its socket once write() has
     * sent what it took. The slot is free at once (state as after
     * dtx_session_on_closed()); the transport may open it again. */
    void (*close)(void *ctx, uint32_t conn);
} dtx_session_callbacks;

/* Configuration; zero fields take the default in brackets. */
typedef struct dtx_session_config {
    uint32_t max_connections;     /* [1024] concurrent connections */
    uint32_t max_sessions;        /* [1024] SessionIds held (<= 65535) */
    uint32_t max_keys;            /* [1024] registered keys */
    uint32_t send_buffer_bytes;   /* [65536] per connection; overflow ends the
                                     connection (the client retransmits) */
    uint32_t store_depth;         /* [8192] application messages kept per
                                     session for retransmission (power of 2) */
    uint64_t retention_ns;        /* [24 h] a session is kept this long after
                                     its last connection ends */
    uint64_t clock_skew_ns;       /* [5 s] accepted |now - Timestamp| */
    uint32_t throttle_rate;       /* [1000] application messages per second */
    uint32_t throttle_burst;      /* [100] bucket size (messages) */
    uint32_t handshake_timeout_ms;/* [5000] a connection that has not
                                     established by then is closed */
    uint32_t terminate_timeout_ms;/* [1000] after sending Terminate, the wait
                                     for the answering Terminate */
    uint32_t max_sessions_per_key;/* [max_sessions: no limit] sessions one
                                     key may hold (expired ones not counted),
                                     so one client cannot fill the table */
} dtx_session_config;

/* Creates the session table and reserves all its memory.
 * Returns NULL (error message recorded, see dtx/error.h) when a value is out
 * of range or memory cannot be had.
 * In: config (NULL = all defaults), callbacks (copied; every one set). */
dtx_sessions *dtx_sessions_create(const dtx_session_config *config,
                                  const dtx_session_callbacks *callbacks);

/* Frees everything. Calls no callback. NULL is allowed. */
void dtx_sessions_destroy(dtx_sessions *s);

/* Registers a trading key. Returns DTX_OK, DTX_EINVAL (not a valid
 * compressed secp256k1 key, unknown role, or the key is already
 * registered), DTX_EFULL (max_keys reached).
 * In: pubkey33 (0x02/0x03 then X), account (the engine's account index),
 * role, flags (DTX_KEY_*). */
dtx_status dtx_session_add_key(dtx_sessions *s, const uint8_t pubkey33[33],
                               uint32_t account, dtx_session_role role,
                               uint32_t flags);

/* What dtx_session_verify_key() reports about the key that signed. */
typedef struct dtx_session_key_info {
    uint32_t index;         /* the key's registry index, stable for the process */
    uint32_t account;
    dtx_session_role role;
    uint32_t flags;         /* DTX_KEY_* */
    int blocked;            /* the account's kill switch (set_account_blocked) */
} dtx_session_key_info;

/*
 * For other session layers that authenticate with the same keys (the FIX 4.4
 * gateway, dtx/fix44.h): checks that pubkey33 is registered and that sig64
 * (compact r ‖ s, low-S, as PROTOCOL.md's credentials) signs digest with it.
 * Checks no clock. Returns DTX_OK with *info filled, or DTX_EINVAL with *why
 * ("unknown key", "bad signature", "high-S signature"). Reads only; safe from
 * the thread that owns s.
 */
dtx_status dtx_session_verify_key(const dtx_sessions *s, const uint8_t pubkey33[33],
                                  const uint8_t sig64[64], const uint8_t digest[32],
                                  dtx_session_key_info *info, const char **why);

/* Kill switch seen from the gateway: while blocked, Establish for any key of
 * the account gets EstablishmentReject SessionBlocked. Sessions already
 * established stay (the core rejects their orders AccountDisabled). */
void dtx_session_set_account_blocked(dtx_sessions *s, uint32_t account,
                                     int blocked);

/* A new connection in slot conn (accepted socket). Returns DTX_OK, or
 * DTX_EINVAL when conn is out of range or the slot is in use. */
dtx_status dtx_session_open(dtx_sessions *s, uint32_t conn, uint64_t now_ns);

/*
 * Bytes received on conn, in order. Frames may be split across calls or
 * several to a call; a partial frame is kept (at most 4096 bytes). Answers
 * are written and commands submitted before this returns.
 *
 * Returns the number of bytes of data consumed. It is len except when
 * submit() reported a full ring: then the message that could not be
 * submitted and everything after it are not consumed, and the caller passes
 * data + returned count again later (stop reading the socket meanwhile).
 * After a protocol error, or when the connection was closed, the rest is
 * consumed and ignored.
 */
size_t dtx_session_on_bytes(dtx_sessions *s, uint32_t conn, const uint8_t *data,
                            size_t len, uint64_t now_ns);

/* The socket of conn can take bytes again: pending bytes are offered to
 * write() and a retransmission that waited for room goes on. */
void dtx_session_on_writable(dtx_sessions *s, uint32_t conn, uint64_t now_ns);

/* The transport saw conn end (EOF, reset). Fires cancel-on-disconnect when
 * configured, detaches the session (kept for retention_ns) and frees the
 * slot. Calls no close(). A conn that is not open is ignored. */
void dtx_session_on_closed(dtx_sessions *s, uint32_t conn, uint64_t now_ns);

/* Timers: keepalive Sequence after one idle interval, Terminate after three
 * silent peer intervals, handshake and terminate timeouts, expiry of
 * sessions past retention. Call every few milliseconds (its cost grows with
 * open connections, a few ns each); nothing depends on a regular rhythm. */
void dtx_session_tick(dtx_sessions *s, uint64_t now_ns);

/*
 * An event from the core. Report events (NEW .. BUSINESS_REJECT) are
 * encoded (200-207), admin answers (dtx/admin.h) as 180-186 (an ADMIN_ACK
 * of a kill switch also sets the account's Establish block); each takes the
 * next server sequence number of session ev->session, is stored for
 * retransmission and written to its connection when one is established.
 * Book-only events (ADDED, TRIGGERED, STATUS) and events of an unknown
 * session are ignored. Returns DTX_OK, or DTX_EINVAL for an ignored event.
 */
dtx_status dtx_session_on_event(dtx_sessions *s, const dtx_event *ev,
                                uint64_t now_ns);

/* Counters, for logs and tests. */
typedef struct dtx_session_stats {
    uint64_t frames_in;          /* frames decoded */
    uint64_t app_submitted;      /* commands submitted to the core */
    uint64_t app_dropped_dup;    /* client messages below the expected number */
    uint64_t not_applied;        /* NotApplied messages sent */
    uint64_t throttled;          /* messages rejected Throttled */
    uint64_t protocol_errors;    /* sessions terminated for a protocol error */
    uint64_t send_overflows;     /* connections ended by a full send buffer */
    uint64_t negotiate_rejects;
    uint64_t establish_rejects;
    uint64_t keepalive_timeouts;
    uint64_t reports_out;        /* application messages sequenced (200-207) */
    uint64_t retransmitted;      /* messages resent by Retransmission */
    uint32_t connections_open;
    uint32_t sessions_held;
} dtx_session_stats;

void dtx_session_stats_get(const dtx_sessions *s, dtx_session_stats *out);

/* What a connection is doing, for tests and the operator's session list. */
typedef enum dtx_conn_state {
    DTX_CONN_FREE = 0,
    DTX_CONN_OPEN = 1,        /* connected, nothing established */
    DTX_CONN_NEGOTIATED = 2,  /* a Negotiate was accepted on it */
    DTX_CONN_ESTABLISHED = 3,
    DTX_CONN_TERMINATING = 4, /* Terminate sent or received; input ignored */
} dtx_conn_state;

/* State of conn; DTX_CONN_FREE for a slot out of range. */
dtx_conn_state dtx_session_conn_state(const dtx_sessions *s, uint32_t conn);

/* The session slot established on conn, or -1. */
int32_t dtx_session_of_conn(const dtx_sessions *s, uint32_t conn);

/* Next server (Recoverable flow) and next expected client (Idempotent flow)
 * sequence numbers of session slot `session`. Returns DTX_EINVAL for a free
 * slot. Either out pointer may be NULL. */
dtx_status dtx_session_seq(const dtx_sessions *s, uint32_t session,
                           uint64_t *next_server, uint64_t *next_client);

#ifdef __cplusplus
}
#endif
#endif /* DTX_SESSION_H */
