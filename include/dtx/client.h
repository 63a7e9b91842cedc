/*
 * dtx/client.h - a FIXP 1.1 order-entry client for market makers (PROTOCOL.md).
 *
 * One dtx_client is one FIXP session (one SessionId) of one trading key,
 * spoken over SOFH-framed SBE on TCP to dtx-engine (or any server following
 * PROTOCOL.md). It negotiates and establishes with secp256k1 credentials,
 * numbers its application messages on the Idempotent client flow, reads the
 * server's Recoverable flow in order (asking for a RetransmitRequest when it
 * sees a gap), keeps the session alive, reconnects to the same SessionId and
 * terminates.
 *
 * Poll style: nothing happens behind the caller's back; there are no threads
 * and no signals. The caller waits on dtx_client_fd() for
 * dtx_client_poll_events() (one thread may drive many clients with one
 * poll/epoll set) and calls dtx_client_poll() when the socket is ready and at
 * least every few milliseconds for the timers. Reports and session events are
 * delivered by callbacks from inside dtx_client_poll() (and the blocking
 * helpers, which call it). A callback may call the send functions of the same
 * client (e.g. cancel on a fill), disconnect or connect it, but must not
 * destroy it.
 *
 *     dtx_client *c = dtx_client_create(&cfg, &cb);
 *     dtx_client_connect_wait(c, 5000);              // Negotiate, Establish
 *     dtx_sbe_new_order_single o = {...};
 *     uint64_t seq;
 *     dtx_client_new_order(c, &o, &seq);             // seq: its client number
 *     for (;;) dtx_client_wait(c, 100);              // reports -> on_report
 *     dtx_client_terminate_wait(c, 1000);
 *     dtx_client_destroy(c);
 *
 * Sequence numbers. Every application message sent takes the next client
 * number and is kept (the last store_depth of them). The server applies a
 * number at most once: after a reconnect, dtx_client_resend() re-sends kept
 * messages under their own numbers, and the server drops those it already
 * had (PROTOCOL.md, Client flow). Reports are delivered in server sequence
 * order, each once: a gap (a Sequence, an EstablishmentAck or a message
 * numbered above the next expected number) makes the client send one
 * RetransmitRequest and ignore what comes above the gap until the
 * retransmitted messages have filled it.
 *
 * Errors: functions return a dtx_status and record a message (dtx/error.h);
 * nothing prints or exits. Not thread-safe: one thread per client at a time.
 * Text (reasons, reject Text) passed to callbacks points into the client's
 * receive buffer and is valid only during the callback; it is not
 * NUL-terminated (use the length).
 */
#ifndef DTX_CLIENT_H
#define DTX_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/error.h"
#include "dtx/sbe_7001.h" /* generated from schemas/dtx-7001.xml: the message structs */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dtx_client dtx_client;

/* Where a client stands. */
typedef enum dtx_client_state {
    DTX_CLIENT_IDLE = 0,         /* created, never connected */
    DTX_CLIENT_CONNECTING = 1,   /* TCP connect in progress */
    DTX_CLIENT_NEGOTIATING = 2,  /* Negotiate sent */
    DTX_CLIENT_ESTABLISHING = 3, /* Establish sent */
    DTX_CLIENT_ESTABLISHED = 4,  /* application messages may be sent */
    DTX_CLIENT_TERMINATING = 5,  /* Terminate sent, waiting for the answer */
    DTX_CLIENT_DISCONNECTED = 6, /* no connection: ended, rejected or
                                    terminated; dtx_client_connect() again
                                    resumes the session (if negotiated) */
} dtx_client_state;

/* Session events (callback on_session). */
typedef enum dtx_client_event_type {
    DTX_CLIENT_EV_NEGOTIATED = 1,          /* NegotiationResponse */
    DTX_CLIENT_EV_NEGOTIATION_REJECTED,    /* code, reason; the connection ends */
    DTX_CLIENT_EV_ESTABLISHED,             /* seq = EstablishmentAck.NextSeqNo,
                                              count = server keepalive (ms) */
    DTX_CLIENT_EV_ESTABLISHMENT_REJECTED,  /* code, reason; the connection ends */
    DTX_CLIENT_EV_NOT_APPLIED,             /* seq = its server number; from_seq,
                                              count: client numbers not applied */
    DTX_CLIENT_EV_RETRANSMIT_REQUESTED,    /* from_seq, count: RetransmitRequest sent */
    DTX_CLIENT_EV_RETRANSMISSION,          /* from_seq, count: a batch begins */
    DTX_CLIENT_EV_RETRANSMIT_REJECTED,     /* code, reason; from_seq, count: the
                                              range given up (never delivered) */
    DTX_CLIENT_EV_TERMINATED,              /* code, reason; by_peer: 1 when the
                                              server sent the first Terminate */
    DTX_CLIENT_EV_DISCONNECTED,            /* the connection ended (reason: why) */
} dtx_client_event_type;

typedef struct dtx_client_event {
    dtx_client_event_type type;
    uint8_t code;        /* reject or Terminate code of the FIXP schema */
    uint8_t by_peer;
    uint32_t count;
    uint64_t from_seq;
    uint64_t seq;
    const char *reason;  /* not NUL-terminated; valid during the callback */
    uint16_t reason_length;
} dtx_client_event;

/* One report of the server flow (templates 200-207, and the answers to role
 * messages 180-186, docs/admin.md). The union member is chosen by
 * template_id. Text pointers (reject, cancel_reject, business_reject,
 * admin_reject) are valid during the callback only. */
typedef struct dtx_client_report {
    uint16_t template_id;  /* DTX_SBE_*_TEMPLATE_ID, 200..207, 180..186 */
    uint8_t retransmitted; /* 1: delivered from a Retransmission batch */
    uint64_t seq;          /* its server sequence number */
    union {
        dtx_sbe_execution_report_new er_new;             /* 200 */
        dtx_sbe_execution_report_trade trade;            /* 201 */
        dtx_sbe_execution_report_canceled canceled;      /* 202 */
        dtx_sbe_execution_report_replaced replaced;      /* 203 */
        dtx_sbe_execution_report_reject reject;          /* 204 */
        dtx_sbe_order_cancel_reject cancel_reject;       /* 205 */
        dtx_sbe_order_mass_cancel_report mass_cancel;    /* 206 */
        dtx_sbe_business_message_reject business_reject; /* 207 */
        dtx_sbe_admin_ack admin_ack;                     /* 180 */
        dtx_sbe_admin_reject admin_reject;               /* 181 */
        dtx_sbe_account_report account_report;           /* 182 */
        dtx_sbe_position_report position_report;         /* 183 */
        dtx_sbe_session_report session_report;           /* 184 */
        dtx_sbe_limit_report limit_report;               /* 185 */
        dtx_sbe_instrument_risk_report risk_report;      /* 186 */
    } u;
} dtx_client_report;

/* Callbacks; ctx is passed back. Either may be NULL (ignored). */
typedef struct dtx_client_callbacks {
    void *ctx;
    void (*on_report)(void *ctx, dtx_client *c, const dtx_client_report *r);
    void (*on_session)(void *ctx, dtx_client *c, const dtx_client_event *e);
} dtx_client_callbacks;

/* Configuration; zero fields take the default in brackets. */
typedef struct dtx_client_config {
    const char *host;           /* server address: IPv4/IPv6 literal or name
                                   [127.0.0.1]; copied */
    uint16_t port;              /* [7001] */
    uint8_t seckey[32];         /* the trading key's secret (big-endian), as in
                                   the engine's key file; required */
    uint8_t session_id[16];     /* SessionId; all zero = a fresh random one
                                   (getrandom), read back with
                                   dtx_client_session_id() */
    uint32_t keepalive_ms;      /* KeepaliveInterval sent in Establish
                                   [1000], 100..60000 */
    uint32_t handshake_timeout_ms; /* connect + Negotiate + Establish [5000] */
    uint32_t store_depth;       /* application messages kept for
                                   dtx_client_resend() [1024], power of 2 */
    uint32_t out_buffer_bytes;  /* bytes waiting for the socket [262144] */
    int batch_output;           /* 0: each message is written to the socket
                                   at once [0]; 1: messages wait for
                                   dtx_client_flush() or dtx_client_poll(), so
                                   a burst (a quote ladder) takes one send() */
    /* Resuming a session another process (or an earlier run) negotiated:
     * negotiated = 1 skips Negotiate; next_seq is the next client number [1]
     * and next_server_seq the next server number to deliver [1] (reports
     * below it are not asked for again). */
    int negotiated;
    uint64_t next_seq;
    uint64_t next_server_seq;
    /* Test hooks (0 in normal use): added to the credentials' Timestamp, and
     * 1 = flip a bit of every signature sent. */
    int64_t credential_time_offset_ns;
    int corrupt_signature;
} dtx_client_config;

/* Creates a client (no connection yet). Returns NULL with an error message
 * when the secret key is not a valid secp256k1 scalar, a value is out of
 * range, or memory cannot be had.
 * In: config (copied), callbacks (copied; NULL = none). */
dtx_client *dtx_client_create(const dtx_client_config *config,
                              const dtx_client_callbacks *callbacks);

/* Closes the socket (without Terminate) and frees everything. NULL is
 * allowed. */
void dtx_client_destroy(dtx_client *c);

/*
 * Starts a connection (non-blocking): resolves the host, connects, then
 * sends Negotiate (if this SessionId has not been negotiated yet) and
 * Establish as the handshake goes on inside dtx_client_poll(). On an existing
 * session this is the reconnect: Establish again with the same SessionId and
 * a later Timestamp, Sequence with the next client number, and a
 * RetransmitRequest for the reports missed while away.
 * Returns DTX_OK; DTX_EINVAL when a connection is already open; DTX_EIO when
 * the address does not resolve or the socket cannot be made.
 */
dtx_status dtx_client_connect(dtx_client *c);

/* The socket to wait on, or -1 when there is no connection. It changes on
 * every connect. */
int dtx_client_fd(const dtx_client *c);

/* poll(2) events to wait for on dtx_client_fd(): POLLIN, plus POLLOUT while
 * connecting or while output waits. */
short dtx_client_poll_events(const dtx_client *c);

/*
 * Does everything that can be done now without blocking: completes a
 * connect, reads and handles what has arrived (callbacks), writes pending
 * output, and runs the timers (keepalive Sequence after keepalive_ms idle;
 * Terminate after three silent server keepalive intervals; the handshake
 * timeout). Call when the socket is ready and every few milliseconds.
 * Returns the number of frames handled (>= 0).
 */
int dtx_client_poll(dtx_client *c);

dtx_client_state dtx_client_get_state(const dtx_client *c);

/* The SessionId (16 bytes). */
const uint8_t *dtx_client_session_id(const dtx_client *c);

/* The compressed public key (33 bytes) of the client's secret. */
const uint8_t *dtx_client_pubkey(const dtx_client *c);

/* Next client number to be assigned; next server number expected (every
 * report below it has been delivered). */
uint64_t dtx_client_next_seq(const dtx_client *c);
uint64_t dtx_client_next_server_seq(const dtx_client *c);

/*
 * Application messages. Each takes the next client number (*seq, may be
 * NULL), is kept for dtx_client_resend(), and is written at once (or when
 * the socket takes it; with batch_output, at the next dtx_client_flush()). The structs are the generated SBE ones: every field
 * is sent as given (reserved bytes included), so the caller follows
 * PROTOCOL.md (e.g. Price = DTX_PRICE_NULL for a Market order).
 * Returns DTX_OK; DTX_EINVAL when not established; DTX_EFULL when the output
 * buffer is full (nothing sent, no number taken); DTX_EIO when the
 * connection ended while writing (the message is numbered and kept: resend
 * it after the reconnect).
 */
dtx_status dtx_client_new_order(dtx_client *c, const dtx_sbe_new_order_single *m, uint64_t *seq);
dtx_status dtx_client_cancel(dtx_client *c, const dtx_sbe_order_cancel_request *m, uint64_t *seq);
dtx_status dtx_client_replace(dtx_client *c, const dtx_sbe_order_cancel_replace_request *m,
                              uint64_t *seq);
dtx_status dtx_client_mass_cancel(dtx_client *c, const dtx_sbe_order_mass_cancel_request *m,
                                  uint64_t *seq);

/* Any application message of schema 7001 (root block and var data in
 * body[0..body_len), at most 256 bytes), numbered like the others; for
 * tests and newer templates. Kept for resend when it fits the store's
 * 96-byte slots. */
dtx_status dtx_client_send_app(dtx_client *c, uint16_t template_id, uint16_t block_length,
                               const uint8_t *body, size_t body_len, uint64_t *seq);

/*
 * Re-sends the kept messages from_seq .. next-1 under their own numbers
 * (preceded by Sequence(from_seq)). The server applies those it never got
 * and silently drops those it had: the idempotent retry after a reconnect.
 * Returns DTX_OK; DTX_EINVAL when not established or from_seq is not kept
 * (older than store_depth messages, or not yet sent); DTX_EFULL.
 */
dtx_status dtx_client_resend(dtx_client *c, uint64_t from_seq);

/* Writes the output waiting (with batch_output; also a retry after a short
 * write). Returns DTX_OK, or DTX_EIO when the connection ended. */
dtx_status dtx_client_flush(dtx_client *c);

/* Skips count client numbers without sending anything: the next message
 * then opens a gap, which the server reports by NotApplied. For tests and
 * for a client that decides not to retry. */
void dtx_client_skip(dtx_client *c, uint64_t count);

/* Sends Terminate(Finished) (non-blocking); the client closes when the
 * server answers (or after 1 s). Returns DTX_OK or DTX_EINVAL when not
 * established. */
dtx_status dtx_client_terminate(dtx_client *c);

/* Ends the connection now, without Terminate (as a crash or a cut cable
 * would); the session stays resumable. */
void dtx_client_disconnect(dtx_client *c);

/* ---- blocking helpers (poll(2) on the socket, then dtx_client_poll) ---- */

/* Waits up to timeout_ms for input or a timer and handles it. Returns the
 * frames handled (0 on timeout), or -1 when there is no connection. */
int dtx_client_wait(dtx_client *c, int timeout_ms);

/* Connects (or reconnects) and waits until established. Returns DTX_OK;
 * DTX_EIO when rejected, refused or timed out (message says which,
 * e.g. "EstablishmentReject 4 (Credentials): bad signature"). */
dtx_status dtx_client_connect_wait(dtx_client *c, int timeout_ms);

/* Terminates and waits for the server's answer and the close. Returns
 * DTX_OK, or DTX_EIO on timeout (the socket is closed anyway). */
dtx_status dtx_client_terminate_wait(dtx_client *c, int timeout_ms);

/* Counters. */
typedef struct dtx_client_stats {
    uint64_t app_sent;          /* application messages written (resends included) */
    uint64_t reports;           /* reports delivered (on_report calls) */
    uint64_t retransmitted;     /* of which from Retransmission batches */
    uint64_t duplicates;        /* server messages below the expected number, dropped */
    uint64_t out_of_order;      /* above the expected number while recovering, dropped */
    uint64_t retransmit_requests;
    uint64_t not_applied;
    uint64_t connects;
} dtx_client_stats;

void dtx_client_stats_get(const dtx_client *c, dtx_client_stats *out);

/* Name of a state or event type ("ESTABLISHED"); never NULL. */
const char *dtx_client_state_name(dtx_client_state s);
const char *dtx_client_event_name(dtx_client_event_type t);

#ifdef __cplusplus
}
#endif
#endif /* DTX_CLIENT_H */
