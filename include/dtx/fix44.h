/*
 * dtx/fix44.h - FIX 4.4 tag-value server sessions (PROTOCOL.md, "FIX 4.4
 * tag-value gateway").
 *
 * The tag-value twin of dtx/session.h, for firms whose FIX engines speak only
 * FIX 4.4: one dtx_fix44 object holds every FIX connection and FIX session of
 * one gateway thread. Like the FIXP layer it owns no socket and reads no
 * clock; the transport feeds it bytes and time, it answers through the same
 * dtx_session_callbacks (write, submit, close) with the same contracts:
 *
 *     transport                         dtx_fix44                          core
 *     accept()        -> dtx_fix44_open(conn)
 *     read() bytes    -> dtx_fix44_on_bytes(conn, ...)   -- submit() -->  ring
 *     room again      -> dtx_fix44_on_writable(conn)
 *     EOF / error     -> dtx_fix44_on_closed(conn)
 *     timer (~10 ms)  -> dtx_fix44_tick(now)
 *     events ring     -> dtx_fix44_on_event(ev)  <-------------------------
 *
 * Logon authenticates with the keys registered in a dtx_sessions object (the
 * FIXP layer's registry, dtx_session_verify_key()), so one key works over
 * both protocols. A FIX session is one key with its SenderCompID; its
 * sequence numbers and the messages it was sent (for ResendRequest) are
 * kept in memory across reconnects for the process's life, and its ClOrdID
 * strings for as long as their orders work. Sessions are numbered session_base + slot in every dtx_command
 * submitted and dtx_event returned, so they can share the core's rings with
 * FIXP sessions numbered below session_base.
 *
 * All memory is reserved by dtx_fix44_create(); the message path allocates
 * nothing and makes no syscall (the Logon's signature check is a few
 * microseconds of libsecp256k1, once per logon).
 *
 * Not thread-safe: one thread calls every function of one dtx_fix44 (the
 * thread that owns the dtx_sessions key registry). Choices PROTOCOL.md leaves
 * open are written in docs/fix44.md.
 */
#ifndef DTX_FIX44_H
#define DTX_FIX44_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/command.h"
#include "dtx/engine.h"
#include "dtx/error.h"
#include "dtx/event.h"
#include "dtx/session.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dtx_fix44 dtx_fix44;

/* Largest FIX message accepted (BodyLength included); larger is garbled. */
#define DTX_FIX44_MSG_MAX 4096u
/* Longest ClOrdID / OrigClOrdID string (PROTOCOL.md). */
#define DTX_FIX44_CLORDID_MAX 20u
/* Longest SenderCompID. */
#define DTX_FIX44_COMPID_MAX 32u

/* Configuration; zero fields take the default in brackets. */
typedef struct dtx_fix44_config {
    uint32_t max_connections;    /* [1024] concurrent connections */
    uint32_t max_sessions;       /* [64] FIX sessions (key + SenderCompID) */
    uint32_t session_base;       /* [0] first session number used in commands
                                    and events; base + max_sessions <= 65536 */
    uint32_t store_depth;        /* [4096] messages kept per session for
                                    ResendRequest (power of 2) */
    uint32_t max_clordids;       /* [65536] ClOrdID strings a session may
                                    have in use at once: an entry is held
                                    while its order works or its request
                                    waits for its answer, and reused after
                                    (docs/fix44.md); beyond it an order is
                                    answered BusinessMessageReject naming
                                    the limit (<= 2^30) */
    uint32_t max_orders;         /* [65536] orders followed for AvgPx and
                                    OrdStatus, all sessions (power of 2) */
    uint32_t send_buffer_bytes;  /* [65536] per connection; overflow ends
                                    the connection (the client resends) */
    uint64_t clock_skew_ns;      /* [5 s] accepted |now - SendingTime| of Logon */
    uint32_t logon_timeout_ms;   /* [5000] a connection must log on by then */
    uint32_t logout_timeout_ms;  /* [2000] wait for the answering Logout */
    uint32_t throttle_rate;      /* [1000] orders (D, F, G, q) per second */
    uint32_t throttle_burst;     /* [100] token bucket size; over it an order
                                    is rejected Throttled (13) */
    /* Instruments: Symbol 55 <-> SecurityID (required, n >= 1). Only
     * security_id and symbol are read; the array is copied. */
    const dtx_instrument_config *instruments;
    uint32_t n_instruments;
    /* The key registry (required; not owned, must outlive the dtx_fix44). */
    const dtx_sessions *keys;
} dtx_fix44_config;

/* Creates the FIX layer and reserves all its memory. Returns NULL (error
 * message recorded, dtx/error.h) for a bad value or when memory cannot be
 * had. In: config, callbacks (copied; write, submit and close required). */
dtx_fix44 *dtx_fix44_create(const dtx_fix44_config *config,
                            const dtx_session_callbacks *callbacks);

/* Frees everything; calls no callback. NULL is allowed. */
void dtx_fix44_destroy(dtx_fix44 *f);

/* A new connection in slot conn. Returns DTX_OK, or DTX_EINVAL when conn is
 * out of range or in use. */
dtx_status dtx_fix44_open(dtx_fix44 *f, uint32_t conn, uint64_t now_ns);

/*
 * Bytes received on conn, in order, split anywhere. Returns the number of
 * bytes consumed: len, except when submit() reported a full ring; then the
 * message that could not be submitted and what follows are not consumed
 * (pass them again later). Answers are written before this returns.
 */
size_t dtx_fix44_on_bytes(dtx_fix44 *f, uint32_t conn, const uint8_t *data, size_t len,
                          uint64_t now_ns);

/* The socket of conn takes bytes again. */
void dtx_fix44_on_writable(dtx_fix44 *f, uint32_t conn, uint64_t now_ns);

/* The transport saw conn end. Detaches its session (kept, sequence numbers
 * included). Calls no close(). */
void dtx_fix44_on_closed(dtx_fix44 *f, uint32_t conn, uint64_t now_ns);

/* Timers: Heartbeat after HeartBtInt idle, TestRequest then Logout for a
 * silent peer, logon and logout timeouts. Call every few milliseconds. */
void dtx_fix44_tick(dtx_fix44 *f, uint64_t now_ns);

/*
 * An event from the core. Report events of a session of this layer (session
 * in [session_base, session_base + max_sessions)) take the session's next
 * MsgSeqNum, are kept for ResendRequest and written when it is logged on.
 * Returns DTX_OK, or DTX_EINVAL for an event that is not for this layer or
 * not a report (ignored).
 */
dtx_status dtx_fix44_on_event(dtx_fix44 *f, const dtx_event *ev, uint64_t now_ns);

/* 1 when session number `session` (as in commands and events) is one of
 * this layer's, else 0. */
int dtx_fix44_owns_session(const dtx_fix44 *f, uint32_t session);

typedef struct dtx_fix44_stats {
    uint64_t messages_in;     /* well-formed messages read */
    uint64_t garbled;         /* dropped: bad BodyLength, CheckSum or framing */
    uint64_t logons;          /* accepted */
    uint64_t logon_rejects;   /* answered Logout */
    uint64_t app_submitted;   /* commands submitted */
    uint64_t local_rejects;   /* rejects the gateway answered itself */
    uint64_t reports_out;     /* application messages sequenced */
    uint64_t resent;          /* messages resent (PossDupFlag) */
    uint64_t gap_fills;       /* SequenceReset-GapFill sent */
    uint64_t resend_requests; /* ResendRequest sent for inbound gaps */
    uint64_t send_overflows;  /* connections ended by a full send buffer */
    uint64_t orders_untracked;/* fills of orders the order table had no room for */
    uint64_t throttled;       /* orders rejected Throttled */
    uint64_t clordid_full;    /* orders rejected: the session's ClOrdID table
                                 was full (max_clordids in use) */
    uint32_t connections_open;
    uint32_t sessions_held;
    uint32_t clordids_live;   /* ClOrdID entries in use, all sessions */
} dtx_fix44_stats;

void dtx_fix44_stats_get(const dtx_fix44 *f, dtx_fix44_stats *out);

typedef enum dtx_fix44_conn_state {
    DTX_FIX44_FREE = 0,
    DTX_FIX44_AWAIT_LOGON = 1,
    DTX_FIX44_ACTIVE = 2,     /* logged on */
    DTX_FIX44_LOGOUT = 3,     /* Logout sent or received; only Logout read */
} dtx_fix44_conn_state;

dtx_fix44_conn_state dtx_fix44_conn_state_get(const dtx_fix44 *f, uint32_t conn);

/* Session number (session_base + slot) logged on over conn, or -1. */
int32_t dtx_fix44_session_of_conn(const dtx_fix44 *f, uint32_t conn);

/* Next MsgSeqNum the server sends and next one it expects of the session
 * numbered `session`. DTX_EINVAL for an unknown one. Out pointers may be NULL. */
dtx_status dtx_fix44_seq(const dtx_fix44 *f, uint32_t session, uint64_t *next_out,
                         uint64_t *next_in);

/* Helpers, exposed for tests and clients. */

/* Decimal text (e.g. "-12.5", at most 9 fraction digits that are not 0) to
 * PRICE9, exactly, no floating point. Returns 0, -1 when not a decimal or out
 * of range, -2 when it has non-zero digits beyond 10^-9. */
int dtx_fix44_parse_price(const char *s, size_t len, int64_t *out);

/* PRICE9 to decimal text without trailing zeros ("100", "0.5", "-1.25").
 * out must hold 32 bytes; returns the length. */
size_t dtx_fix44_format_price(char *out, int64_t price9);

/* UTCTimestamp "YYYYMMDD-HH:MM:SS[.s{1,9}]" to ns since the epoch. Returns 0
 * or -1. */
int dtx_fix44_parse_time(const char *s, size_t len, uint64_t *out_ns);

/* ns since the epoch to "YYYYMMDD-HH:MM:SS.sss"; out holds 32 bytes;
 * returns the length (21). */
size_t dtx_fix44_format_time(char *out, uint64_t ns);

#ifdef __cplusplus
}
#endif
#endif /* DTX_FIX44_H */
