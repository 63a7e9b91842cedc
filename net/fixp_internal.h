/*
 * fixp_internal.h - what the three files of the FIXP 1.1 server session
 * layer share: the key registry, session and connection tables, their
 * constants, the send-buffer helpers and FIXP_SEND, and the few functions
 * one file calls in another.
 *
 *   fixp_session.c  creation, keys and credentials, connection life,
 *                   Negotiate, Establish, Sequence, Terminate, timers,
 *                   inspection;
 *   fixp_flow.c     the server's Recoverable flow: numbering, the store,
 *                   encoding, dtx_fixp_pump(), RetransmitRequest, events
 *                   from the core (drop copy included);
 *   fixp_app.c      the input: bytes into frames, frames to the session
 *                   messages or, in the same file (the per-order path
 *                   stays one unit for the compiler), application
 *                   messages: throttle, roles, decode, submit, NotApplied,
 *                   local rejects, the session list.
 *
 * Private to net/: nothing here is API (that is dtx/session.h). The
 * functions shared across the files carry the dtx_fixp_ prefix; everything
 * else stays static in its file.
 */
#ifndef DTX_NET_FIXP_INTERNAL_H
#define DTX_NET_FIXP_INTERNAL_H

#include <secp256k1.h>
#include <stdint.h>
#include <string.h>

#include "dtx/fixp_2748.h"
#include "dtx/session.h"
#include "dtx/sofh.h"
#include "dtx/types.h"
#include "net/cod.h"
#include "net/outbuf.h"
#include "net/throttle.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define CREDENTIALS_LEN 97u
#define KEEPALIVE_MIN_MS 100u
#define KEEPALIVE_MAX_MS 60000u
#define RETRANSMIT_MAX 10000u
#define MASS_CANCEL_REFS 8u
/* Largest session message dtx sends (reasons are short), and the room kept
 * free of application messages so a Terminate or reject always fits. */
#define SESSION_MSG_MAX 256u
#define SESSION_HEADROOM 512u
/* Marks a stored NotApplied among stored events (not a dtx_event_type). */
#define STORED_NOT_APPLIED 0xFFu

typedef struct key_entry {
    uint8_t pub[33];
    uint8_t role;
    uint8_t flags;
    uint8_t blocked;
    uint32_t account;
    secp256k1_pubkey parsed;
} key_entry;

typedef struct session {
    uint8_t used;
    uint8_t uuid[16];
    uint32_t key;          /* index into keys */
    uint32_t account;
    int32_t conn;          /* established connection, -1 when detached */
    uint64_t last_establish_ts;
    uint64_t next_server;  /* Recoverable flow: next number to assign */
    uint64_t next_client;  /* Idempotent flow: next number expected */
    uint64_t detached_at;  /* when the last connection ended (or negotiate) */
    dtx_bucket throttle;   /* application messages (net/throttle.h) */
    struct {
        uint64_t clordid, seq;
    } mc[MASS_CANCEL_REFS]; /* RefSeqNum of recent mass cancels */
    uint32_t mc_pos;
    dtx_event *store;      /* store_depth slots, by seq & mask */
} session;

typedef struct conn {
    uint8_t state;         /* dtx_conn_state */
    uint8_t seen_sequence; /* the client's first Sequence arrived */
    uint8_t need_sequence; /* send Sequence before the next app message */
    uint8_t terminate_sent;/* we sent the first Terminate */
    uint8_t retx_active;
    int32_t session;       /* negotiated or established session, -1 */
    uint32_t keepalive_ms;
    uint64_t next_in;      /* number of the client's next app message */
    uint64_t opened_at, last_rx, last_tx, deadline;
    uint64_t retx_next, retx_end; /* retransmission batch still to write */
    uint64_t wr_next;      /* next server number to write live */
    dtx_outbuf out;        /* send buffer (net/outbuf.h) */
    dtx_sofh_reader rd;
} conn;

struct dtx_sessions {
    dtx_session_config cfg;
    dtx_session_callbacks cb;
    secp256k1_context *secp;
    key_entry *keys;
    uint32_t nkeys;
    session *sess;
    conn *conns;
    uint8_t *out_mem;
    dtx_event *store_mem;
    uint64_t store_mask;
    dtx_cod cod;           /* cancel-on-disconnect owed, per session slot */
    uint16_t *dropcopy;    /* slots of drop-copy sessions, n_dropcopy of them */
    uint32_t n_dropcopy;
    dtx_session_stats st;
};

/* on_frame results */
enum { FR_OK = 0, FR_RETRY = 1, FR_CLOSED = 2 };

/* ---- send buffer (shared by the session messages and the flow) ------------ */

static inline uint32_t out_room(const dtx_sessions *s, const conn *c)
{
    return dtx_outbuf_room(&c->out, s->cfg.send_buffer_bytes);
}

/* Space for n bytes at the tail (compacting), or NULL when they do not fit. */
static inline uint8_t *out_reserve(dtx_sessions *s, conn *c, uint32_t n)
{
    return dtx_outbuf_reserve(&c->out, s->cfg.send_buffer_bytes, n);
}

static inline void out_commit(conn *c, uint32_t n, uint64_t now)
{
    dtx_outbuf_commit(&c->out, n);
    c->last_tx = now;
}

/* Encodes a session message (struct M of the FIXP schema) into conn's
 * buffer; returns 0, or -1 when the buffer is full. */
#define FIXP_SEND(S, C, SNAKE, UPPER, M, NOW)                                                    \
    ({                                                                                           \
        int rc_ = -1;                                                                            \
        uint8_t *p_ = out_reserve((S), (C), SESSION_MSG_MAX);                                    \
        if (p_) {                                                                                \
            ptrdiff_t n_ = dtx_fixp_##SNAKE##_encode(p_ + DTX_FRAME_MIN,                         \
                                                     SESSION_MSG_MAX - DTX_FRAME_MIN, &(M));     \
            if (n_ >= 0) {                                                                       \
                uint32_t f_ = dtx_sofh_put_headers(p_, (uint32_t)n_,                             \
                                                   DTX_FIXP_##UPPER##_BLOCK_LENGTH,              \
                                                   DTX_FIXP_##UPPER##_TEMPLATE_ID,               \
                                                   DTX_SCHEMA_FIXP, DTX_FIXP_SCHEMA_VERSION);    \
                out_commit((C), f_, (NOW));                                                      \
                rc_ = 0;                                                                         \
            }                                                                                    \
        }                                                                                        \
        rc_;                                                                                     \
    })

static inline int session_expired(const dtx_sessions *s, const session *se, uint64_t now)
{
    return se->conn < 0 && now > se->detached_at && now - se->detached_at > s->cfg.retention_ns;
}

/* ---- fixp_flow.c ---------------------------------------------------------- */

/* Offers conn ci's pending bytes to write(). */
void dtx_fixp_flush(dtx_sessions *s, uint32_t ci);
/* Sequence(next) into conn's buffer; 0, or -1 when it is full. */
int dtx_fixp_send_sequence(dtx_sessions *s, conn *c, uint64_t next, uint64_t now);
/* Terminate(code, reason) into conn's buffer; 0, or -1 when it is full. */
int dtx_fixp_send_terminate(dtx_sessions *s, conn *c, uint8_t code, const char *reason,
                            uint64_t now);
/* Writes what conn ci owes (retransmission, then live); -1 when it was ended. */
int dtx_fixp_pump(dtx_sessions *s, uint32_t ci, uint64_t now);
/* Stores an application message on session si's server flow and writes it. */
void dtx_fixp_store_app(dtx_sessions *s, uint32_t si, const dtx_event *ev, uint64_t ref_seq,
                        uint16_t ref_tid, uint64_t now);
/* Stores NotApplied(from, count) on session si's server flow. */
void dtx_fixp_store_not_applied(dtx_sessions *s, uint32_t si, uint64_t from, uint64_t count,
                                uint64_t now);
/* RetransmitRequest on conn ci: FR_OK or FR_CLOSED. */
int dtx_fixp_on_retransmit_request(dtx_sessions *s, uint32_t ci, const dtx_frame *f,
                                   uint64_t now);

/* ---- fixp_session.c ------------------------------------------------------- */

/* Ends conn ci: detaches its session (cancel-on-disconnect), frees the slot
 * and, when call_close, flushes and asks the transport to close. */
void dtx_fixp_conn_end(dtx_sessions *s, uint32_t ci, uint64_t now, int call_close);
/* Protocol error on conn ci: Terminate with reason, then TERMINATING;
 * returns FR_CLOSED. */
int dtx_fixp_protocol_error(dtx_sessions *s, uint32_t ci, const char *reason, uint64_t now);
/* A session message (schema 2748) on conn ci: FR_OK or FR_CLOSED. */
int dtx_fixp_on_session_message(dtx_sessions *s, uint32_t ci, const dtx_frame *f, uint64_t now);
/* Terminate on conn ci: answered, or the answer to ours (then closed). */
int dtx_fixp_on_terminate(dtx_sessions *s, uint32_t ci, uint64_t now);

#endif
