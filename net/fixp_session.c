/*
 * fixp_session.c - FIXP 1.1 server sessions: the gateway's state machine.
 *
 * Sits between a transport (which owns sockets) and the core (which owns
 * books): bytes in from dtx_session_on_bytes() become frames (sofh_sbe.c),
 * session messages drive the FIXP state machine here, and application
 * messages 100-103 become dtx_command records handed to submit(). Events
 * coming back from the core are sequenced on the session's Recoverable flow,
 * kept in a bounded per-session store for retransmission, and written out
 * through write(). Everything PROTOCOL.md says about Negotiate, Establish,
 * credentials, Sequence, keepalive, NotApplied, retransmission and Terminate
 * is enforced in this file; docs/session.md records the choices it makes
 * where the page is silent.
 *
 * Invariants:
 *  - nothing a connection sends after a protocol error is applied: the
 *    connection enters TERMINATING and its input is ignored but a Terminate;
 *  - a rejected Negotiate or Establish changes no session state;
 *  - every application message sent (report or NotApplied) takes exactly one
 *    server sequence number and is stored before it is written, so what a
 *    slow or absent reader misses can be retransmitted;
 *  - a client message numbered below the expected one is never applied.
 *
 * Memory is reserved in dtx_sessions_create(); the message path allocates
 * nothing, takes no lock and makes no syscall of its own. Credentials are
 * verified with libsecp256k1 (once per Negotiate/Establish) over a SHA-256
 * from nettle (dtx_fixp_credentials_digest, shared with the client).
 */
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/admin.h"
#include "dtx/fixp_2748.h"
#include "dtx/fixp_credentials.h"
#include "dtx/sbe_7001.h"
#include "dtx/session.h"
#include "dtx/sofh.h"
#include "dtx/types.h"
#include "net/cod.h"
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
    uint32_t out_head, out_len;
    uint8_t *out;
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

static const char TAG_NEGOTIATE[18] = {'D', 'T', 'X', '-', 'F', 'I', 'X', 'P', '-',
                                       'N', 'E', 'G', 'O', 'T', 'I', 'A', 'T', 'E'};
static const char TAG_ESTABLISH[18] = {'D', 'T', 'X', '-', 'F', 'I', 'X', 'P', '-',
                                       'E', 'S', 'T', 'A', 'B', 'L', 'I', 'S', 'H'};

/* ---- configuration -------------------------------------------------------- */

static void config_defaults(dtx_session_config *c)
{
    if (!c->max_connections) c->max_connections = 1024;
    if (!c->max_sessions) c->max_sessions = 1024;
    if (!c->max_keys) c->max_keys = 1024;
    if (!c->send_buffer_bytes) c->send_buffer_bytes = 65536;
    if (!c->store_depth) c->store_depth = 8192;
    if (!c->retention_ns) c->retention_ns = 24ull * 3600 * NS_PER_S;
    if (!c->clock_skew_ns) c->clock_skew_ns = 5 * NS_PER_S;
    if (!c->throttle_rate) c->throttle_rate = 1000;
    if (!c->throttle_burst) c->throttle_burst = 100;
    if (!c->handshake_timeout_ms) c->handshake_timeout_ms = 5000;
    if (!c->terminate_timeout_ms) c->terminate_timeout_ms = 1000;
    if (!c->max_sessions_per_key) c->max_sessions_per_key = c->max_sessions;
}

dtx_sessions *dtx_sessions_create(const dtx_session_config *config,
                                  const dtx_session_callbacks *callbacks)
{
    dtx_session_config c = {0};
    if (config)
        c = *config;
    config_defaults(&c);
    if (!callbacks || !callbacks->write || !callbacks->submit || !callbacks->close) {
        dtx_error_set(DTX_EINVAL, "session callbacks: write, submit and close are required");
        return NULL;
    }
    if (c.max_sessions > 65535) {
        dtx_error_set(DTX_EINVAL, "max_sessions %u above 65535 (dtx_command.session is u16)",
                      c.max_sessions);
        return NULL;
    }
    if (c.store_depth & (c.store_depth - 1)) {
        dtx_error_set(DTX_EINVAL, "store_depth %u is not a power of 2", c.store_depth);
        return NULL;
    }
    if (c.send_buffer_bytes < 2 * DTX_FRAME_MAX) {
        dtx_error_set(DTX_EINVAL, "send_buffer_bytes %u below %u", c.send_buffer_bytes,
                      2 * DTX_FRAME_MAX);
        return NULL;
    }
    if (c.max_connections > (1u << 24)) {
        dtx_error_set(DTX_EINVAL, "max_connections %u above 2^24", c.max_connections);
        return NULL;
    }
    dtx_sessions *s = calloc(1, sizeof *s);
    if (!s) {
        dtx_error_set(DTX_ENOMEM, "sessions: %zu bytes", sizeof *s);
        return NULL;
    }
    s->cfg = c;
    s->cb = *callbacks;
    s->store_mask = c.store_depth - 1;
    /* calloc: large blocks come as untouched zero pages, so a table sized for
     * the worst case costs memory only where connections and sessions are. */
    s->keys = calloc(c.max_keys, sizeof *s->keys);
    s->sess = calloc(c.max_sessions, sizeof *s->sess);
    s->conns = calloc(c.max_connections, sizeof *s->conns);
    s->out_mem = calloc(c.max_connections, c.send_buffer_bytes);
    s->store_mem = calloc((size_t)c.max_sessions * c.store_depth, sizeof(dtx_event));
    s->dropcopy = calloc(c.max_sessions, sizeof *s->dropcopy);
    s->secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!s->keys || !s->sess || !s->conns || !s->out_mem || !s->store_mem || !s->dropcopy ||
        !s->secp || dtx_cod_init(&s->cod, c.max_sessions, 0) != DTX_OK) {
        dtx_sessions_destroy(s);
        dtx_error_set(DTX_ENOMEM, "sessions: tables for %u connections, %u sessions of %u messages",
                      c.max_connections, c.max_sessions, c.store_depth);
        return NULL;
    }
    for (uint32_t i = 0; i < c.max_sessions; i++) {
        s->sess[i].conn = -1;
        s->sess[i].store = s->store_mem + (size_t)i * c.store_depth;
    }
    for (uint32_t i = 0; i < c.max_connections; i++) {
        s->conns[i].session = -1;
        s->conns[i].out = s->out_mem + (size_t)i * c.send_buffer_bytes;
    }
    return s;
}

void dtx_sessions_destroy(dtx_sessions *s)
{
    if (!s)
        return;
    if (s->secp)
        secp256k1_context_destroy(s->secp);
    free(s->keys);
    free(s->sess);
    free(s->conns);
    free(s->out_mem);
    free(s->store_mem);
    free(s->dropcopy);
    dtx_cod_fini(&s->cod);
    free(s);
}

/* ---- keys ----------------------------------------------------------------- */

static int32_t key_find(const dtx_sessions *s, const uint8_t *pub33)
{
    for (uint32_t i = 0; i < s->nkeys; i++)
        if (memcmp(s->keys[i].pub, pub33, 33) == 0)
            return (int32_t)i;
    return -1;
}

dtx_status dtx_session_add_key(dtx_sessions *s, const uint8_t pubkey33[33], uint32_t account,
                               dtx_session_role role, uint32_t flags)
{
    if (role < DTX_ROLE_TRADER || role > DTX_ROLE_ORACLE)
        return dtx_error_set(DTX_EINVAL, "key role %d unknown", (int)role);
    if (pubkey33[0] != 0x02 && pubkey33[0] != 0x03)
        return dtx_error_set(DTX_EINVAL, "key: first byte 0x%02x, not a compressed key", pubkey33[0]);
    if (key_find(s, pubkey33) >= 0)
        return dtx_error_set(DTX_EINVAL, "key already registered");
    if (s->nkeys == s->cfg.max_keys)
        return dtx_error_set(DTX_EFULL, "key registry full (%u keys)", s->cfg.max_keys);
    key_entry *k = &s->keys[s->nkeys];
    if (!secp256k1_ec_pubkey_parse(s->secp, &k->parsed, pubkey33, 33))
        return dtx_error_set(DTX_EINVAL, "key: not a point of secp256k1");
    memcpy(k->pub, pubkey33, 33);
    k->account = account;
    k->role = (uint8_t)role;
    k->flags = (uint8_t)flags;
    s->nkeys++;
    return DTX_OK;
}

void dtx_session_set_account_blocked(dtx_sessions *s, uint32_t account, int blocked)
{
    for (uint32_t i = 0; i < s->nkeys; i++)
        if (s->keys[i].account == account)
            s->keys[i].blocked = blocked ? 1 : 0;
}

/* ---- credentials ---------------------------------------------------------- */

/* Verifies sig64 (compact, low-S) over digest with key k. Returns 0, or -1
 * with *why set. Shared by FIXP credentials and dtx_session_verify_key(). */
static int verify_sig(const dtx_sessions *s, int32_t k, const uint8_t *sig64,
                      const uint8_t digest[32], const char **why)
{
    secp256k1_ecdsa_signature sig, norm;
    if (!secp256k1_ecdsa_signature_parse_compact(s->secp, &sig, sig64)) {
        *why = "bad signature";
        return -1;
    }
    if (secp256k1_ecdsa_signature_normalize(s->secp, &norm, &sig)) {
        *why = "high-S signature";
        return -1;
    }
    if (!secp256k1_ecdsa_verify(s->secp, &sig, digest, &s->keys[k].parsed)) {
        *why = "bad signature";
        return -1;
    }
    return 0;
}

/*
 * Checks pubkey33 ‖ sig64 over SHA-256(tag ‖ SessionId ‖ Timestamp LE).
 * Returns the key index, or -1 with *why set. expect_key >= 0 demands that
 * key (Establish). Order: length, key form, registry, skew, signature.
 */
static int32_t check_credentials(dtx_sessions *s, const char tag[18], const uint8_t uuid[16],
                                 uint64_t ts, const uint8_t *cred, size_t cred_len,
                                 int32_t expect_key, uint64_t now, const char **why)
{
    if (cred_len != CREDENTIALS_LEN) {
        *why = "credentials are not 97 bytes";
        return -1;
    }
    if (cred[0] != 0x02 && cred[0] != 0x03) {
        *why = "public key is not compressed";
        return -1;
    }
    int32_t k = key_find(s, cred);
    if (k < 0) {
        *why = "unknown key";
        return -1;
    }
    if (expect_key >= 0 && k != expect_key) {
        *why = "not the key that negotiated the session";
        return -1;
    }
    uint64_t skew = now > ts ? now - ts : ts - now;
    if (skew > s->cfg.clock_skew_ns) {
        *why = "timestamp outside the clock window";
        return -1;
    }
    uint8_t digest[32];
    dtx_fixp_credentials_digest(tag, uuid, ts, digest); /* the clients' digest too */
    if (verify_sig(s, k, cred + 33, digest, why) < 0)
        return -1;
    return k;
}

dtx_status dtx_session_verify_key(const dtx_sessions *s, const uint8_t pubkey33[33],
                                  const uint8_t sig64[64], const uint8_t digest[32],
                                  dtx_session_key_info *info, const char **why)
{
    int32_t k = key_find(s, pubkey33);
    if (k < 0) {
        *why = "unknown key";
        return DTX_EINVAL;
    }
    if (verify_sig(s, k, sig64, digest, why) < 0)
        return DTX_EINVAL;
    info->index = (uint32_t)k;
    info->account = s->keys[k].account;
    info->role = (dtx_session_role)s->keys[k].role;
    info->flags = s->keys[k].flags;
    info->blocked = s->keys[k].blocked;
    return DTX_OK;
}

/* ---- output --------------------------------------------------------------- */

static void conn_end(dtx_sessions *s, uint32_t ci, uint64_t now, int call_close);

/* Offers pending bytes to write(). */
static void flush(dtx_sessions *s, uint32_t ci)
{
    conn *c = &s->conns[ci];
    while (c->out_len) {
        size_t n = s->cb.write(s->cb.ctx, ci, c->out + c->out_head, c->out_len);
        if (n == 0)
            break;
        if (n > c->out_len)
            n = c->out_len;
        c->out_head += (uint32_t)n;
        c->out_len -= (uint32_t)n;
    }
    if (!c->out_len)
        c->out_head = 0;
}

static uint32_t out_room(const dtx_sessions *s, const conn *c)
{
    return s->cfg.send_buffer_bytes - c->out_len;
}

/* Space for n bytes at the tail (compacting), or NULL when they do not fit. */
static uint8_t *out_reserve(dtx_sessions *s, conn *c, uint32_t n)
{
    if (n > out_room(s, c))
        return NULL;
    if (c->out_head + c->out_len + n > s->cfg.send_buffer_bytes) {
        memmove(c->out, c->out + c->out_head, c->out_len);
        c->out_head = 0;
    }
    return c->out + c->out_head + c->out_len;
}

static void out_commit(conn *c, uint32_t n, uint64_t now)
{
    c->out_len += n;
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

static const uint8_t ZERO_UUID[16];

static const uint8_t *conn_uuid(const dtx_sessions *s, const conn *c)
{
    return c->session >= 0 ? s->sess[c->session].uuid : ZERO_UUID;
}

static int send_sequence(dtx_sessions *s, conn *c, uint64_t next, uint64_t now)
{
    dtx_fixp_sequence m = {.next_seq_no = next};
    return FIXP_SEND(s, c, sequence, SEQUENCE, m, now);
}

static int send_terminate(dtx_sessions *s, conn *c, uint8_t code, const char *reason, uint64_t now)
{
    dtx_fixp_terminate m = {.code = code, .reason = reason,
                            .reason_length = (uint16_t)strlen(reason)};
    memcpy(m.session_id, conn_uuid(s, c), 16);
    return FIXP_SEND(s, c, terminate, TERMINATE, m, now);
}

/* Encodes stored message seq of session se (report or NotApplied). Returns
 * the frame length, 0 when it does not fit. */
static uint32_t encode_stored(dtx_sessions *s, conn *c, const session *se, uint64_t seq)
{
    const dtx_event *ev = &se->store[seq & s->store_mask];
    if (out_room(s, c) < DTX_REPORT_FRAME_MAX + SESSION_HEADROOM)
        return 0;
    uint8_t *p = out_reserve(s, c, DTX_REPORT_FRAME_MAX);
    if (!p)
        return 0;
    if (ev->type == STORED_NOT_APPLIED) {
        dtx_fixp_not_applied m = {.from_seq_no = ev->order_id, .count = (uint32_t)ev->order_qty};
        ptrdiff_t n = dtx_fixp_not_applied_encode(p + DTX_FRAME_MIN, 64, &m);
        return dtx_sofh_put_headers(p, (uint32_t)n, DTX_FIXP_NOT_APPLIED_BLOCK_LENGTH,
                                    DTX_FIXP_NOT_APPLIED_TEMPLATE_ID, DTX_SCHEMA_FIXP,
                                    DTX_FIXP_SCHEMA_VERSION);
    }
    uint64_t ref_seq = 0;
    uint16_t ref_tid = 0;
    if (ev->type == DTX_EV_BUSINESS_REJECT) {
        /* kept there by store_app(): see there */
        ref_seq = ev->order_id;
        ref_tid = (uint16_t)ev->last_qty;
    }
    dtx_event e = *ev;
    if (e.type == DTX_EV_BUSINESS_REJECT) {
        e.order_id = 0;
        e.last_qty = 0;
    }
    return (uint32_t)dtx_sbe_encode_report(p, DTX_REPORT_FRAME_MAX, &e, ref_seq, ref_tid);
}

static int session_expired(const dtx_sessions *s, const session *se, uint64_t now)
{
    return se->conn < 0 && now > se->detached_at && now - se->detached_at > s->cfg.retention_ns;
}

static uint64_t store_oldest(const dtx_sessions *s, const session *se)
{
    uint64_t depth = s->store_mask + 1;
    return se->next_server > depth ? se->next_server - depth : 1;
}

/* The send buffer overflowed: Terminate(UnspecifiedError, "send buffer
 * overflow") when the session headroom still takes it, then the connection
 * ends (the client re-establishes and retransmits). */
static void overflow_end(dtx_sessions *s, uint32_t ci, uint64_t now)
{
    s->st.send_overflows++;
    send_terminate(s, &s->conns[ci], DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR,
                   "send buffer overflow", now);
    conn_end(s, ci, now, 1);
}

/*
 * Writes what the connection owes, in order: the rest of a retransmission
 * batch, then live messages from wr_next (Sequence first when one is due).
 * Stops when the send buffer is full; on_writable() goes on. A live backlog
 * that outgrows the store ends the connection (the client recovers by
 * retransmission after it re-establishes). Returns 0, or -1 when the
 * connection was ended.
 */
static int pump(dtx_sessions *s, uint32_t ci, uint64_t now)
{
    conn *c = &s->conns[ci];
    if (c->state != DTX_CONN_ESTABLISHED)
        return 0;
    session *se = &s->sess[c->session];
    while (c->retx_next < c->retx_end) {
        if (c->retx_next < store_oldest(s, se)) {
            /* overwritten while the batch waited for room */
            overflow_end(s, ci, now);
            return -1;
        }
        uint32_t n = encode_stored(s, c, se, c->retx_next);
        if (!n)
            return 0;
        out_commit(c, n, now);
        c->retx_next++;
        s->st.retransmitted++;
    }
    if (c->retx_active) {
        c->retx_active = 0;
        c->need_sequence = 1;
        if (c->wr_next < c->retx_end)
            c->wr_next = c->retx_end;
    }
    while (c->wr_next < se->next_server) {
        if (c->wr_next < store_oldest(s, se)) {
            overflow_end(s, ci, now);
            return -1;
        }
        if (c->need_sequence) {
            if (out_room(s, c) < SESSION_MSG_MAX + DTX_REPORT_FRAME_MAX + SESSION_HEADROOM)
                return 0;
            send_sequence(s, c, c->wr_next, now);
            c->need_sequence = 0;
        }
        uint32_t n = encode_stored(s, c, se, c->wr_next);
        if (!n)
            return 0;
        out_commit(c, n, now);
        c->wr_next++;
    }
    return 0;
}

/* Stores an application message on the server flow of se (taking the next
 * number) and writes it when se is established. BusinessMessageReject keeps
 * its RefSeqNum in order_id and RefTemplateID in last_qty of the stored copy
 * (fields a BUSINESS_REJECT event leaves zero). */
static void store_app(dtx_sessions *s, uint32_t si, const dtx_event *ev, uint64_t ref_seq,
                      uint16_t ref_tid, uint64_t now)
{
    session *se = &s->sess[si];
    dtx_event *slot = &se->store[se->next_server & s->store_mask];
    *slot = *ev;
    if (ev->type == DTX_EV_BUSINESS_REJECT) {
        slot->order_id = ref_seq;
        slot->last_qty = ref_tid;
    }
    se->next_server++;
    if (ev->type != STORED_NOT_APPLIED)
        s->st.reports_out++;
    if (se->conn >= 0) {
        uint32_t ci = (uint32_t)se->conn;
        if (pump(s, ci, now) == 0)
            flush(s, ci);
    }
}

static void store_not_applied(dtx_sessions *s, uint32_t si, uint64_t from, uint64_t count,
                              uint64_t now)
{
    dtx_event ev = {0};
    ev.type = STORED_NOT_APPLIED;
    ev.order_id = from;
    ev.order_qty = (int64_t)count;
    s->st.not_applied++;
    store_app(s, si, &ev, 0, 0, now);
}

/* ---- connection lifecycle -------------------------------------------------- */

static void detach(dtx_sessions *s, conn *c, uint64_t now)
{
    if (c->session < 0)
        return;
    session *se = &s->sess[c->session];
    if (c->state == DTX_CONN_ESTABLISHED || (c->state == DTX_CONN_TERMINATING && se->conn >= 0 &&
                                             &s->conns[se->conn] == c)) {
        se->conn = -1;
        se->detached_at = now;
        if (s->keys[se->key].flags & DTX_KEY_CANCEL_ON_DISCONNECT &&
            dtx_cod_disconnect(&s->cod, &s->cb, (uint32_t)c->session, se->account) > 0)
            s->st.app_submitted++; /* else owed (net/cod.h) */
    }
    c->session = -1;
}

/* Ends conn: detaches its session (cancel-on-disconnect), frees the slot and,
 * when the session decided it, asks the transport to close. */
static void conn_end(dtx_sessions *s, uint32_t ci, uint64_t now, int call_close)
{
    conn *c = &s->conns[ci];
    if (c->state == DTX_CONN_FREE)
        return;
    if (call_close)
        flush(s, ci);
    detach(s, c, now);
    uint8_t *out = c->out;
    memset(c, 0, offsetof(conn, rd));
    c->out = out;
    c->session = -1;
    c->rd.have = 0;
    s->st.connections_open--;
    if (call_close)
        s->cb.close(s->cb.ctx, ci);
}

/* Protocol error: Terminate UnspecifiedError with the reason; the connection
 * applies nothing more and is closed when the answer comes or the wait ends. */
static int protocol_error(dtx_sessions *s, uint32_t ci, const char *reason, uint64_t now)
{
    conn *c = &s->conns[ci];
    s->st.protocol_errors++;
    if (c->state == DTX_CONN_TERMINATING) {
        conn_end(s, ci, now, 1);
        return FR_CLOSED;
    }
    if (send_terminate(s, c, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR, reason, now) < 0) {
        conn_end(s, ci, now, 1);
        return FR_CLOSED;
    }
    c->state = DTX_CONN_TERMINATING;
    c->terminate_sent = 1;
    c->retx_next = c->retx_end = 0;
    c->retx_active = 0;
    c->deadline = now + (uint64_t)s->cfg.terminate_timeout_ms * NS_PER_MS;
    flush(s, ci);
    return FR_CLOSED;
}

dtx_status dtx_session_open(dtx_sessions *s, uint32_t ci, uint64_t now)
{
    if (ci >= s->cfg.max_connections)
        return dtx_error_set(DTX_EINVAL, "connection %u out of range", ci);
    conn *c = &s->conns[ci];
    if (c->state != DTX_CONN_FREE)
        return dtx_error_set(DTX_EINVAL, "connection %u is in use", ci);
    uint8_t *out = c->out;
    memset(c, 0, offsetof(conn, rd));
    c->out = out;
    c->rd.have = 0;
    c->state = DTX_CONN_OPEN;
    c->session = -1;
    c->opened_at = c->last_rx = c->last_tx = now;
    c->deadline = now + (uint64_t)s->cfg.handshake_timeout_ms * NS_PER_MS;
    s->st.connections_open++;
    return DTX_OK;
}

void dtx_session_on_closed(dtx_sessions *s, uint32_t ci, uint64_t now)
{
    if (ci >= s->cfg.max_connections)
        return;
    conn_end(s, ci, now, 0);
}

/* ---- session messages ------------------------------------------------------- */

static int32_t session_find(const dtx_sessions *s, const uint8_t uuid[16])
{
    for (uint32_t i = 0; i < s->cfg.max_sessions; i++)
        if (s->sess[i].used && memcmp(s->sess[i].uuid, uuid, 16) == 0)
            return (int32_t)i;
    return -1;
}

/* Sessions key k holds, expired ones not counted. */
static uint32_t key_sessions(const dtx_sessions *s, uint32_t k, uint64_t now)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->cfg.max_sessions; i++)
        if (s->sess[i].used && s->sess[i].key == k && !session_expired(s, &s->sess[i], now))
            n++;
    return n;
}

static int32_t session_alloc(dtx_sessions *s, uint64_t now)
{
    int32_t oldest = -1;
    for (uint32_t i = 0; i < s->cfg.max_sessions; i++) {
        if (!s->sess[i].used)
            return (int32_t)i;
        if (session_expired(s, &s->sess[i], now) &&
            (oldest < 0 || s->sess[i].detached_at < s->sess[oldest].detached_at))
            oldest = (int32_t)i;
    }
    return oldest; /* an expired session's slot is reused, its SessionId forgotten */
}

static int reject_close(dtx_sessions *s, uint32_t ci, uint64_t now)
{
    conn_end(s, ci, now, 1);
    return FR_CLOSED;
}

static int on_negotiate(dtx_sessions *s, uint32_t ci, const dtx_frame *f, uint64_t now)
{
    conn *c = &s->conns[ci];
    if (c->state == DTX_CONN_ESTABLISHED)
        return protocol_error(s, ci, "Negotiate on an established connection", now);
    dtx_fixp_negotiate m;
    if (dtx_fixp_negotiate_decode(f->body, f->body_len, f->block_length, f->version, &m) < 0)
        return protocol_error(s, ci, "malformed Negotiate", now);
    const char *why = NULL;
    uint8_t code = 0xFF;
    int32_t k = check_credentials(s, TAG_NEGOTIATE, m.session_id, m.timestamp, m.credentials,
                                  m.credentials_length, -1, now, &why);
    if (k < 0)
        code = DTX_FIXP_NEGOTIATION_REJECT_CODE_CREDENTIALS;
    else if (m.client_flow != DTX_FIXP_FLOW_TYPE_IDEMPOTENT) {
        code = DTX_FIXP_NEGOTIATION_REJECT_CODE_FLOW_TYPE_NOT_SUPPORTED;
        why = "client flow must be Idempotent";
    } else if (session_find(s, m.session_id) >= 0) {
        code = DTX_FIXP_NEGOTIATION_REJECT_CODE_DUPLICATE_ID;
        why = "SessionId already negotiated";
    } else if (s->cfg.max_sessions_per_key < s->cfg.max_sessions &&
               key_sessions(s, (uint32_t)k, now) >= s->cfg.max_sessions_per_key) {
        code = DTX_FIXP_NEGOTIATION_REJECT_CODE_UNSPECIFIED;
        why = "too many sessions for this key";
    }
    int32_t si = -1;
    if (code == 0xFF) {
        si = session_alloc(s, now);
        if (si < 0) {
            code = DTX_FIXP_NEGOTIATION_REJECT_CODE_UNSPECIFIED;
            why = "session table full";
        }
    }
    if (code != 0xFF) {
        dtx_fixp_negotiation_reject r = {.request_timestamp = m.timestamp, .code = code,
                                         .reason = why, .reason_length = (uint16_t)strlen(why)};
        memcpy(r.session_id, m.session_id, 16);
        FIXP_SEND(s, c, negotiation_reject, NEGOTIATION_REJECT, r, now);
        s->st.negotiate_rejects++;
        return reject_close(s, ci, now);
    }
    session *se = &s->sess[si];
    if (se->used) {
        s->st.sessions_held--; /* reused expired slot */
        dtx_cod_forget(&s->cod, (uint32_t)si);
        for (uint32_t i = 0; i < s->n_dropcopy; i++)
            if (s->dropcopy[i] == (uint16_t)si)
                s->dropcopy[i] = s->dropcopy[--s->n_dropcopy];
    }
    dtx_event *store = se->store;
    memset(se, 0, sizeof *se);
    se->store = store;
    se->used = 1;
    memcpy(se->uuid, m.session_id, 16);
    se->key = (uint32_t)k;
    se->account = s->keys[k].account;
    se->conn = -1;
    se->next_server = 1;
    se->next_client = 1;
    se->detached_at = now;
    dtx_bucket_reset(&se->throttle, s->cfg.throttle_burst, now);
    s->st.sessions_held++;
    if (s->keys[k].role == DTX_ROLE_DROP_COPY)
        s->dropcopy[s->n_dropcopy++] = (uint16_t)si;
    dtx_fixp_negotiation_response r = {.request_timestamp = m.timestamp,
                                       .server_flow = DTX_FIXP_FLOW_TYPE_RECOVERABLE};
    memcpy(r.session_id, m.session_id, 16);
    c->session = si;
    c->state = DTX_CONN_NEGOTIATED;
    FIXP_SEND(s, c, negotiation_response, NEGOTIATION_RESPONSE, r, now);
    return FR_OK;
}

static int on_establish(dtx_sessions *s, uint32_t ci, const dtx_frame *f, uint64_t now)
{
    conn *c = &s->conns[ci];
    if (c->state == DTX_CONN_ESTABLISHED)
        return protocol_error(s, ci, "Establish on an established connection", now);
    dtx_fixp_establish m;
    if (dtx_fixp_establish_decode(f->body, f->body_len, f->block_length, f->version, &m) < 0)
        return protocol_error(s, ci, "malformed Establish", now);
    const char *why = NULL;
    uint8_t code = 0xFF;
    int32_t si = session_find(s, m.session_id);
    if (si < 0 || session_expired(s, &s->sess[si], now)) {
        code = DTX_FIXP_ESTABLISHMENT_REJECT_CODE_UNNEGOTIATED;
        why = si < 0 ? "SessionId not negotiated" : "session expired";
    } else {
        session *se = &s->sess[si];
        int32_t k = check_credentials(s, TAG_ESTABLISH, m.session_id, m.timestamp, m.credentials,
                                      m.credentials_length, (int32_t)se->key, now, &why);
        if (k < 0)
            code = DTX_FIXP_ESTABLISHMENT_REJECT_CODE_CREDENTIALS;
        else if (m.timestamp <= se->last_establish_ts) {
            code = DTX_FIXP_ESTABLISHMENT_REJECT_CODE_CREDENTIALS;
            why = "Timestamp not after the last Establish";
        } else if (s->keys[k].blocked) {
            code = DTX_FIXP_ESTABLISHMENT_REJECT_CODE_SESSION_BLOCKED;
            why = "account disabled";
        } else if (se->conn >= 0) {
            code = DTX_FIXP_ESTABLISHMENT_REJECT_CODE_ALREADY_ESTABLISHED;
            why = "established on another connection";
        } else if (m.keepalive_interval < KEEPALIVE_MIN_MS ||
                   m.keepalive_interval > KEEPALIVE_MAX_MS) {
            code = DTX_FIXP_ESTABLISHMENT_REJECT_CODE_KEEPALIVE_INTERVAL;
            why = "KeepaliveInterval outside 100..60000 ms";
        }
    }
    if (code != 0xFF) {
        dtx_fixp_establishment_reject r = {.request_timestamp = m.timestamp, .code = code,
                                           .reason = why, .reason_length = (uint16_t)strlen(why)};
        memcpy(r.session_id, m.session_id, 16);
        FIXP_SEND(s, c, establishment_reject, ESTABLISHMENT_REJECT, r, now);
        s->st.establish_rejects++;
        /* the connection's own negotiated session (if any) stays as it is */
        c->session = -1;
        return reject_close(s, ci, now);
    }
    session *se = &s->sess[si];
    se->last_establish_ts = m.timestamp;
    se->conn = (int32_t)ci;
    c->session = si;
    c->state = DTX_CONN_ESTABLISHED;
    c->keepalive_ms = m.keepalive_interval;
    c->seen_sequence = 0;
    c->need_sequence = 1;
    c->wr_next = se->next_server;
    c->retx_active = 0;
    c->retx_next = c->retx_end = 0;
    dtx_fixp_establishment_ack r = {.request_timestamp = m.timestamp,
                                     .keepalive_interval = m.keepalive_interval,
                                     .next_seq_no = se->next_server};
    memcpy(r.session_id, m.session_id, 16);
    FIXP_SEND(s, c, establishment_ack, ESTABLISHMENT_ACK, r, now);
    return FR_OK;
}

static int on_retransmit_request(dtx_sessions *s, uint32_t ci, const dtx_frame *f, uint64_t now)
{
    conn *c = &s->conns[ci];
    if (c->state != DTX_CONN_ESTABLISHED)
        return protocol_error(s, ci, "RetransmitRequest before Establish", now);
    dtx_fixp_retransmit_request m;
    if (dtx_fixp_retransmit_request_decode(f->body, f->body_len, f->block_length, f->version, &m) < 0)
        return protocol_error(s, ci, "malformed RetransmitRequest", now);
    if (c->retx_active) {
        s->st.protocol_errors++;
        if (send_terminate(s, c, DTX_FIXP_TERMINATION_CODE_RE_REQUEST_IN_PROGRESS,
                           "RetransmitRequest while one is being answered", now) < 0) {
            conn_end(s, ci, now, 1);
            return FR_CLOSED;
        }
        c->state = DTX_CONN_TERMINATING;
        c->terminate_sent = 1;
        c->retx_active = 0;
        c->retx_next = c->retx_end = 0;
        c->deadline = now + (uint64_t)s->cfg.terminate_timeout_ms * NS_PER_MS;
        return FR_CLOSED;
    }
    session *se = &s->sess[c->session];
    const char *why = NULL;
    uint8_t code = 0xFF;
    if (memcmp(m.session_id, se->uuid, 16) != 0) {
        code = DTX_FIXP_RETRANSMIT_REJECT_CODE_INVALID_SESSION;
        why = "not this connection's SessionId";
    } else if (m.count > RETRANSMIT_MAX) {
        code = DTX_FIXP_RETRANSMIT_REJECT_CODE_REQUEST_LIMIT_EXCEEDED;
        why = "Count above 10000";
    } else if (m.count == 0 || m.from_seq_no == 0 ||
               m.from_seq_no > se->next_server || se->next_server - m.from_seq_no < m.count) {
        code = DTX_FIXP_RETRANSMIT_REJECT_CODE_OUT_OF_RANGE;
        why = "outside the messages sent";
    } else if (m.from_seq_no < store_oldest(s, se)) {
        code = DTX_FIXP_RETRANSMIT_REJECT_CODE_OUT_OF_RANGE;
        why = "older than the messages kept";
    }
    if (code != 0xFF) {
        dtx_fixp_restransmit_reject r = {.request_timestamp = m.timestamp, .code = code,
                                         .reason = why, .reason_length = (uint16_t)strlen(why)};
        memcpy(r.session_id, m.session_id, 16);
        if (FIXP_SEND(s, c, restransmit_reject, RESTRANSMIT_REJECT, r, now) < 0) {
            overflow_end(s, ci, now);
            return FR_CLOSED;
        }
        return FR_OK;
    }
    dtx_fixp_retransmission r = {.request_timestamp = m.timestamp, .next_seq_no = m.from_seq_no,
                                 .count = m.count};
    memcpy(r.session_id, se->uuid, 16);
    if (FIXP_SEND(s, c, retransmission, RETRANSMISSION, r, now) < 0) {
        overflow_end(s, ci, now);
        return FR_CLOSED;
    }
    c->retx_active = 1;
    c->retx_next = m.from_seq_no;
    c->retx_end = m.from_seq_no + m.count;
    if (pump(s, ci, now) < 0)
        return FR_CLOSED;
    return FR_OK;
}

static int on_terminate(dtx_sessions *s, uint32_t ci, uint64_t now)
{
    conn *c = &s->conns[ci];
    if (c->state == DTX_CONN_TERMINATING) {
        if (c->terminate_sent) {
            /* the answer to ours: we sent the first one, so we close */
            conn_end(s, ci, now, 1);
            return FR_CLOSED;
        }
        return FR_OK;
    }
    send_terminate(s, c, DTX_FIXP_TERMINATION_CODE_FINISHED, "", now);
    c->state = DTX_CONN_TERMINATING;
    c->terminate_sent = 0;
    c->retx_active = 0;
    c->retx_next = c->retx_end = 0;
    c->deadline = now + (uint64_t)s->cfg.terminate_timeout_ms * NS_PER_MS;
    return FR_OK;
}

static int on_sequence(dtx_sessions *s, uint32_t ci, const dtx_frame *f, uint64_t now)
{
    conn *c = &s->conns[ci];
    if (c->state != DTX_CONN_ESTABLISHED)
        return protocol_error(s, ci, "Sequence before Establish", now);
    dtx_fixp_sequence m;
    if (dtx_fixp_sequence_decode(f->body, f->body_len, f->block_length, f->version, &m) < 0)
        return protocol_error(s, ci, "malformed Sequence", now);
    if (m.next_seq_no == 0)
        return protocol_error(s, ci, "Sequence NextSeqNo 0", now);
    c->next_in = m.next_seq_no;
    c->seen_sequence = 1;
    return FR_OK;
}

static int on_session_message(dtx_sessions *s, uint32_t ci, const dtx_frame *f, uint64_t now)
{
    switch (f->template_id) {
    case DTX_FIXP_NEGOTIATE_TEMPLATE_ID: return on_negotiate(s, ci, f, now);
    case DTX_FIXP_ESTABLISH_TEMPLATE_ID: return on_establish(s, ci, f, now);
    case DTX_FIXP_SEQUENCE_TEMPLATE_ID: return on_sequence(s, ci, f, now);
    case DTX_FIXP_RETRANSMIT_REQUEST_TEMPLATE_ID: return on_retransmit_request(s, ci, f, now);
    case DTX_FIXP_TERMINATE_TEMPLATE_ID: return on_terminate(s, ci, now);
    case DTX_FIXP_TOPIC_TEMPLATE_ID:
    case DTX_FIXP_CONTEXT_TEMPLATE_ID:
    case DTX_FIXP_UNSEQUENCED_HEARTBEAT_TEMPLATE_ID:
    case DTX_FIXP_FINISHED_SENDING_TEMPLATE_ID:
    case DTX_FIXP_FINISHED_RECEIVING_TEMPLATE_ID:
    case DTX_FIXP_APPLIED_TEMPLATE_ID:
    case DTX_FIXP_MESSAGE_TEMPLATE_TEMPLATE_ID: {
        char why[DTX_SOFH_REASON_MAX];
        snprintf(why, sizeof why, "template %u is not used by dtx", f->template_id);
        return protocol_error(s, ci, why, now);
    }
    default: {
        char why[DTX_SOFH_REASON_MAX];
        snprintf(why, sizeof why, "template %u is not sent by a client", f->template_id);
        return protocol_error(s, ci, why, now);
    }
    }
}

/* ---- application messages ----------------------------------------------------- */

/* 1 when the session's bucket lets a message pass (not yet taken). */
static int throttle_ok(const dtx_sessions *s, session *se, uint64_t now)
{
    return dtx_bucket_ok(&se->throttle, s->cfg.throttle_rate, s->cfg.throttle_burst, now);
}

/* A reject the gateway answers itself (Throttled, InvalidField,
 * NotAuthorized, unknown template), as the core would report it. */
static void local_reject(dtx_sessions *s, uint32_t si, const dtx_command *cmd, uint16_t tid,
                         uint16_t reason, uint64_t seqno, uint64_t now)
{
    /* a message outside the session's role is answered BusinessMessageReject */
    uint16_t as = reason == DTX_REJ_NOT_AUTHORIZED ? 0 : tid;
    session *se = &s->sess[si];
    dtx_event ev = {0};
    ev.session = (uint16_t)si;
    ev.account = se->account;
    ev.ts = now;
    ev.reject_reason = reason;
    ev.clordid = cmd->clordid;
    switch (as) {
    case DTX_SBE_NEW_ORDER_SINGLE_TEMPLATE_ID:
        ev.type = DTX_EV_REJECT;
        ev.security_id = cmd->security_id;
        ev.side = cmd->side;
        ev.ord_type = cmd->ord_type;
        ev.price = cmd->price;
        ev.order_qty = cmd->qty;
        break;
    case DTX_SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID:
    case DTX_SBE_ORDER_CANCEL_REPLACE_REQUEST_TEMPLATE_ID:
        ev.type = DTX_EV_CANCEL_REJECT;
        ev.orig_clordid = cmd->orig_clordid;
        ev.order_id = cmd->order_id;
        ev.response_to = as == DTX_SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID ? DTX_CXL_REJ_CANCEL
                                                                         : DTX_CXL_REJ_REPLACE;
        break;
    default:
        ev.type = DTX_EV_BUSINESS_REJECT;
        ev.clordid = 0;
        ev.ref_cmd_type = (uint8_t)cmd->type;
        break;
    }
    store_app(s, si, &ev, seqno, tid, now);
}

/* SessionListRequest 161 (operator): one SessionReport 184 per session held,
 * then AdminAck with the count; answered here, it changes nothing. */
static void session_list_answer(dtx_sessions *s, uint32_t si, uint64_t request_id, uint64_t now)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->cfg.max_sessions; i++) {
        const session *o = &s->sess[i];
        if (!o->used || session_expired(s, o, now))
            continue;
        const key_entry *k = &s->keys[o->key];
        dtx_event ev = {0};
        int64_t u[2];
        ev.type = DTX_EV_SESSION_REPORT;
        ev.session = (uint16_t)si;
        ev.account = s->sess[si].account;
        ev.ts = now;
        ev.clordid = request_id;
        ev.contra_session = (uint16_t)i;
        ev.contra_account = o->account;
        ev.status = k->role;
        ev.ord_status = o->conn >= 0 ? s->conns[o->conn].state : 0;
        memcpy(u, o->uuid, sizeof u);
        dtx_admin_ev_set(&ev, 0, (int64_t)o->next_server);
        dtx_admin_ev_set(&ev, 1, (int64_t)o->next_client);
        dtx_admin_ev_set(&ev, 2, u[0]);
        dtx_admin_ev_set(&ev, 3, u[1]);
        dtx_admin_ev_set(&ev, 4,
                         (int64_t)((uint32_t)k->pub[1] << 24 | (uint32_t)k->pub[2] << 16 |
                                   (uint32_t)k->pub[3] << 8 | k->pub[4]));
        store_app(s, si, &ev, 0, 0, now);
        n++;
    }
    dtx_event ack = {0};
    ack.type = DTX_EV_ADMIN_ACK;
    ack.ref_cmd_type = DTX_CMD_NONE;
    ack.session = (uint16_t)si;
    ack.account = s->sess[si].account;
    ack.ts = now;
    ack.clordid = request_id;
    ack.contra_account = UINT32_MAX;
    dtx_admin_ev_set(&ack, 2, INT64_MIN);
    dtx_admin_ev_set(&ack, 3, INT64_MIN);
    dtx_admin_ev_set(&ack, 4, (int64_t)n);
    store_app(s, si, &ack, 0, 0, now); /* RefTemplateID 161: see dtx_sbe_encode_report */
}

static int on_app_message(dtx_sessions *s, uint32_t ci, const dtx_frame *f, uint64_t now)
{
    conn *c = &s->conns[ci];
    if (c->state != DTX_CONN_ESTABLISHED)
        return protocol_error(s, ci, "application message before Establish", now);
    if (!c->seen_sequence)
        return protocol_error(s, ci, "application message before the first Sequence", now);
    uint32_t si = (uint32_t)c->session;
    session *se = &s->sess[si];
    uint64_t n = c->next_in;
    if (n == UINT64_MAX)
        return protocol_error(s, ci, "client sequence numbers exhausted", now);
    if (n > se->next_client && n - se->next_client > UINT32_MAX)
        return protocol_error(s, ci, "sequence gap above 2^32-1 messages", now);
    if (n < se->next_client) {
        c->next_in++;
        s->st.app_dropped_dup++;
        return FR_OK; /* applied or reported NotApplied before: never twice */
    }
    dtx_command cmd = dtx_command_blank(DTX_CMD_NONE);
    uint16_t reason = 0;
    int session_list = 0;
    if (f->known && f->template_id >= DTX_SBE_SET_ACCOUNT_LIMIT_TEMPLATE_ID &&
        f->template_id <= DTX_SBE_SET_MARK_PRICE_TEMPLATE_ID) {
        /* role messages: only the role that owns one may send it; any other
         * session is answered NotAuthorized and nothing reaches the core */
        unsigned role = 0;
        int rc = dtx_sbe_decode_admin(f, &cmd, &role);
        if (rc < 0)
            return protocol_error(s, ci, "malformed application message", now);
        if (s->keys[se->key].role != role)
            reason = DTX_REJ_NOT_AUTHORIZED;
        else if (rc > 0)
            reason = (uint16_t)rc;
        else if (!throttle_ok(s, se, now)) {
            reason = DTX_REJ_THROTTLED;
            s->st.throttled++;
        } else if (cmd.type == DTX_CMD_NONE) {
            session_list = 1;
        }
        const uint8_t *pub = s->keys[se->key].pub;
        cmd.key_id = (uint32_t)pub[1] << 24 | (uint32_t)pub[2] << 16 | (uint32_t)pub[3] << 8 | pub[4];
    } else if (!f->known || f->template_id < DTX_SBE_NEW_ORDER_SINGLE_TEMPLATE_ID ||
        f->template_id > DTX_SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID) {
        reason = DTX_REJ_INVALID_FIELD; /* unknown or not a client template */
    } else {
        int rc = dtx_sbe_decode_order(f, &cmd);
        if (rc < 0)
            return protocol_error(s, ci, "malformed application message", now);
        if (s->keys[se->key].role != DTX_ROLE_TRADER)
            reason = DTX_REJ_NOT_AUTHORIZED;
        else if (rc > 0)
            reason = (uint16_t)rc;
        else if (!throttle_ok(s, se, now)) {
            reason = DTX_REJ_THROTTLED;
            s->st.throttled++;
        }
    }
    if (session_list) {
        dtx_bucket_take(&se->throttle);
    } else if (!reason) {
        cmd.session = (uint16_t)si;
        cmd.account = se->account;
        /* an owed cancel-on-disconnect goes first: never after a new order */
        int cod = dtx_cod_settle(&s->cod, &s->cb, si);
        if (cod > 0)
            s->st.app_submitted++;
        if (cod < 0 || s->cb.submit(s->cb.ctx, &cmd) != 0)
            return FR_RETRY; /* nothing changed: the caller feeds this frame again */
        dtx_bucket_take(&se->throttle);
        s->st.app_submitted++;
        if (cmd.type == DTX_CMD_MASS_CANCEL) {
            se->mc[se->mc_pos % MASS_CANCEL_REFS].clordid = cmd.clordid;
            se->mc[se->mc_pos % MASS_CANCEL_REFS].seq = n;
            se->mc_pos++;
        }
    }
    c->next_in++;
    if (n > se->next_client)
        store_not_applied(s, si, se->next_client, n - se->next_client, now);
    se->next_client = n + 1;
    if (reason)
        local_reject(s, si, &cmd, f->template_id, reason, n, now);
    else if (session_list)
        session_list_answer(s, si, cmd.clordid, now);
    return s->conns[ci].state == DTX_CONN_FREE ? FR_CLOSED : FR_OK;
}

/* ---- input ------------------------------------------------------------------ */

static int on_frame(dtx_sessions *s, uint32_t ci, const dtx_frame *f, uint64_t now)
{
    conn *c = &s->conns[ci];
    s->st.frames_in++;
    c->last_rx = now;
    if (c->state == DTX_CONN_TERMINATING) {
        if (f->schema_id == DTX_SCHEMA_FIXP && f->template_id == DTX_FIXP_TERMINATE_TEMPLATE_ID)
            return on_terminate(s, ci, now);
        return FR_OK; /* nothing after a Terminate is applied */
    }
    if (f->schema_id == DTX_SCHEMA_FIXP)
        return on_session_message(s, ci, f, now);
    return on_app_message(s, ci, f, now);
}

size_t dtx_session_on_bytes(dtx_sessions *s, uint32_t ci, const uint8_t *data, size_t len,
                            uint64_t now)
{
    if (ci >= s->cfg.max_connections || s->conns[ci].state == DTX_CONN_FREE)
        return len;
    size_t done = 0;
    while (done < len) {
        conn *c = &s->conns[ci];
        dtx_frame f;
        size_t used = 0;
        char reason[DTX_SOFH_REASON_MAX];
        int rc = dtx_sofh_reader_peek(&c->rd, data + done, len - done, &f, &used, reason);
        if (rc == 0) {
            done += used;
            break;
        }
        if (rc < 0) {
            if (c->state == DTX_CONN_TERMINATING)
                conn_end(s, ci, now, 1);
            else
                protocol_error(s, ci, reason, now);
            if (s->conns[ci].state != DTX_CONN_FREE)
                c->rd.have = 0;
            return len; /* the stream cannot be read further */
        }
        int r = on_frame(s, ci, &f, now);
        if (r == FR_RETRY)
            break;
        if (s->conns[ci].state == DTX_CONN_FREE)
            return len;
        /* after a protocol error (TERMINATING) parsing goes on: everything
         * but a Terminate is ignored */
        dtx_sofh_reader_consume(&c->rd);
        done += used;
    }
    if (s->conns[ci].state != DTX_CONN_FREE)
        flush(s, ci);
    return done;
}

void dtx_session_on_writable(dtx_sessions *s, uint32_t ci, uint64_t now)
{
    if (ci >= s->cfg.max_connections || s->conns[ci].state == DTX_CONN_FREE)
        return;
    flush(s, ci);
    if (pump(s, ci, now) == 0)
        flush(s, ci);
}

/* ---- events from the core ------------------------------------------------------ */

dtx_status dtx_session_on_event(dtx_sessions *s, const dtx_event *ev, uint64_t now)
{
    if (!dtx_sbe_report_template(ev))
        return DTX_EINVAL;
    /* drop copy: reports 200-206 of the account, on each of its drop-copy
     * sessions' own server flow (a short list, scanned per report) */
    if (ev->type == DTX_EV_ADMIN_ACK && ev->ref_cmd_type == DTX_CMD_KILL_SWITCH)
        dtx_session_set_account_blocked(s, ev->contra_account, ev->status); /* sequenced outcome */
    if (ev->type != DTX_EV_BUSINESS_REJECT && !dtx_admin_event(ev->type))
        for (uint32_t i = 0; i < s->n_dropcopy; i++)
            if (s->sess[s->dropcopy[i]].account == ev->account)
                store_app(s, s->dropcopy[i], ev, 0, 0, now);
    if (ev->session >= s->cfg.max_sessions || !s->sess[ev->session].used)
        return DTX_EINVAL;
    session *se = &s->sess[ev->session];
    uint64_t ref_seq = 0;
    if (ev->type == DTX_EV_BUSINESS_REJECT && ev->ref_cmd_type == DTX_CMD_MASS_CANCEL) {
        for (uint32_t i = 0; i < MASS_CANCEL_REFS; i++)
            if (se->mc[i].seq && se->mc[i].clordid == ev->clordid)
                ref_seq = se->mc[i].seq;
    }
    store_app(s, ev->session, ev, ref_seq, 0, now);
    return DTX_OK;
}

/* ---- timers --------------------------------------------------------------------- */

void dtx_session_tick(dtx_sessions *s, uint64_t now)
{
    for (uint32_t ci = 0; ci < s->cfg.max_connections; ci++) {
        conn *c = &s->conns[ci];
        switch (c->state) {
        case DTX_CONN_FREE:
            continue;
        case DTX_CONN_OPEN:
        case DTX_CONN_NEGOTIATED:
        case DTX_CONN_TERMINATING:
            if (now >= c->deadline)
                conn_end(s, ci, now, 1);
            continue;
        case DTX_CONN_ESTABLISHED: {
            uint64_t ka = (uint64_t)c->keepalive_ms * NS_PER_MS;
            if (now > c->last_rx && now - c->last_rx >= 3 * ka) {
                s->st.keepalive_timeouts++;
                if (send_terminate(s, c, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR, "keepalive",
                                   now) < 0) {
                    conn_end(s, ci, now, 1);
                    continue;
                }
                c->state = DTX_CONN_TERMINATING;
                c->terminate_sent = 1;
                c->retx_active = 0;
                c->retx_next = c->retx_end = 0;
                c->deadline = now + (uint64_t)s->cfg.terminate_timeout_ms * NS_PER_MS;
                flush(s, ci);
                continue;
            }
            if (now > c->last_tx && now - c->last_tx >= ka && !c->retx_active) {
                session *se = &s->sess[c->session];
                if (c->wr_next == se->next_server && send_sequence(s, c, c->wr_next, now) == 0)
                    c->need_sequence = 0;
                flush(s, ci);
            }
            continue;
        }
        default:
            continue;
        }
    }
    s->st.app_submitted += dtx_cod_retry(&s->cod, &s->cb);
}

/* ---- inspection ------------------------------------------------------------------- */

void dtx_session_stats_get(const dtx_sessions *s, dtx_session_stats *out) { *out = s->st; }

dtx_conn_state dtx_session_conn_state(const dtx_sessions *s, uint32_t ci)
{
    if (ci >= s->cfg.max_connections)
        return DTX_CONN_FREE;
    return (dtx_conn_state)s->conns[ci].state;
}

int32_t dtx_session_of_conn(const dtx_sessions *s, uint32_t ci)
{
    if (ci >= s->cfg.max_connections || s->conns[ci].state != DTX_CONN_ESTABLISHED)
        return -1;
    return s->conns[ci].session;
}

dtx_status dtx_session_seq(const dtx_sessions *s, uint32_t si, uint64_t *next_server,
                           uint64_t *next_client)
{
    if (si >= s->cfg.max_sessions || !s->sess[si].used)
        return DTX_EINVAL;
    if (next_server)
        *next_server = s->sess[si].next_server;
    if (next_client)
        *next_client = s->sess[si].next_client;
    return DTX_OK;
}
