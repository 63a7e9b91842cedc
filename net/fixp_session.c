/*
 * fixp_session.c - FIXP 1.1 server sessions: the gateway's state machine.
 *
 * Sits between a transport (which owns sockets) and the core (which owns
 * books): bytes in from dtx_session_on_bytes() become frames (sofh_sbe.c;
 * the input loop is in fixp_app.c), session messages drive the FIXP state
 * machine here, and application messages 100-103 become dtx_command
 * records handed to submit() (fixp_app.c). Events coming back from the core are sequenced on the
 * session's Recoverable flow, kept in a bounded per-session store for
 * retransmission, and written out through write() (fixp_flow.c). Everything
 * PROTOCOL.md says about Negotiate, Establish, credentials, Sequence,
 * keepalive, NotApplied, retransmission and Terminate is enforced in these
 * three files (net/fixp_internal.h holds what they share); docs/session.md
 * records the choices they make where the page is silent.
 *
 * Invariants:
 *  - nothing a connection sends after a protocol error is applied: the
 *    connection enters TERMINATING and its input is ignored but a Terminate;
 *  - a rejected Negotiate or Establish changes no session state.
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

#include "dtx/fixp_2748.h"
#include "dtx/fixp_credentials.h"
#include "dtx/session.h"
#include "dtx/sofh.h"
#include "dtx/types.h"
#include "net/cod.h"
#include "net/fixp_internal.h"
#include "net/throttle.h"

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
        s->conns[i].out.buf = s->out_mem + (size_t)i * c.send_buffer_bytes;
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
void dtx_fixp_conn_end(dtx_sessions *s, uint32_t ci, uint64_t now, int call_close)
{
    conn *c = &s->conns[ci];
    if (c->state == DTX_CONN_FREE)
        return;
    if (call_close)
        dtx_fixp_flush(s, ci);
    detach(s, c, now);
    uint8_t *out = c->out.buf;
    memset(c, 0, offsetof(conn, rd));
    c->out.buf = out;
    c->session = -1;
    c->rd.have = 0;
    s->st.connections_open--;
    if (call_close)
        s->cb.close(s->cb.ctx, ci);
}

/* Protocol error: Terminate UnspecifiedError with the reason; the connection
 * applies nothing more and is closed when the answer comes or the wait ends. */
int dtx_fixp_protocol_error(dtx_sessions *s, uint32_t ci, const char *reason, uint64_t now)
{
    conn *c = &s->conns[ci];
    s->st.protocol_errors++;
    if (c->state == DTX_CONN_TERMINATING) {
        dtx_fixp_conn_end(s, ci, now, 1);
        return FR_CLOSED;
    }
    if (dtx_fixp_send_terminate(s, c, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR, reason,
                                now) < 0) {
        dtx_fixp_conn_end(s, ci, now, 1);
        return FR_CLOSED;
    }
    c->state = DTX_CONN_TERMINATING;
    c->terminate_sent = 1;
    c->retx_next = c->retx_end = 0;
    c->retx_active = 0;
    c->deadline = now + (uint64_t)s->cfg.terminate_timeout_ms * NS_PER_MS;
    dtx_fixp_flush(s, ci);
    return FR_CLOSED;
}

dtx_status dtx_session_open(dtx_sessions *s, uint32_t ci, uint64_t now)
{
    if (ci >= s->cfg.max_connections)
        return dtx_error_set(DTX_EINVAL, "connection %u out of range", ci);
    conn *c = &s->conns[ci];
    if (c->state != DTX_CONN_FREE)
        return dtx_error_set(DTX_EINVAL, "connection %u is in use", ci);
    uint8_t *out = c->out.buf;
    memset(c, 0, offsetof(conn, rd));
    c->out.buf = out;
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
    dtx_fixp_conn_end(s, ci, now, 0);
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
    /* An expired session's slot is reused, its SessionId forgotten; what it
     * owes is not: its cancel-on-disconnect goes to the core first, so its
     * orders stop resting and the new session's orders come after it. */
    int cod = oldest >= 0 ? dtx_cod_settle(&s->cod, &s->cb, (uint32_t)oldest) : 0;
    if (cod < 0)
        return -2; /* ring full: the slot waits for a later Negotiate */
    if (cod > 0)
        s->st.app_submitted++;
    return oldest;
}

static int reject_close(dtx_sessions *s, uint32_t ci, uint64_t now)
{
    dtx_fixp_conn_end(s, ci, now, 1);
    return FR_CLOSED;
}

static int on_negotiate(dtx_sessions *s, uint32_t ci, const dtx_frame *f, uint64_t now)
{
    conn *c = &s->conns[ci];
    if (c->state == DTX_CONN_ESTABLISHED)
        return dtx_fixp_protocol_error(s, ci, "Negotiate on an established connection", now);
    dtx_fixp_negotiate m;
    if (dtx_fixp_negotiate_decode(f->body, f->body_len, f->block_length, f->version, &m) < 0)
        return dtx_fixp_protocol_error(s, ci, "malformed Negotiate", now);
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
            why = si == -1 ? "session table full"
                           : "session table full until a cancel-on-disconnect is submitted";
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
        s->st.sessions_held--; /* reused expired slot (its cancel-on-disconnect settled) */
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
        return dtx_fixp_protocol_error(s, ci, "Establish on an established connection", now);
    dtx_fixp_establish m;
    if (dtx_fixp_establish_decode(f->body, f->body_len, f->block_length, f->version, &m) < 0)
        return dtx_fixp_protocol_error(s, ci, "malformed Establish", now);
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

int dtx_fixp_on_terminate(dtx_sessions *s, uint32_t ci, uint64_t now)
{
    conn *c = &s->conns[ci];
    if (c->state == DTX_CONN_TERMINATING) {
        if (c->terminate_sent) {
            /* the answer to ours: we sent the first one, so we close */
            dtx_fixp_conn_end(s, ci, now, 1);
            return FR_CLOSED;
        }
        return FR_OK;
    }
    dtx_fixp_send_terminate(s, c, DTX_FIXP_TERMINATION_CODE_FINISHED, "", now);
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
        return dtx_fixp_protocol_error(s, ci, "Sequence before Establish", now);
    dtx_fixp_sequence m;
    if (dtx_fixp_sequence_decode(f->body, f->body_len, f->block_length, f->version, &m) < 0)
        return dtx_fixp_protocol_error(s, ci, "malformed Sequence", now);
    if (m.next_seq_no == 0)
        return dtx_fixp_protocol_error(s, ci, "Sequence NextSeqNo 0", now);
    c->next_in = m.next_seq_no;
    c->seen_sequence = 1;
    return FR_OK;
}

int dtx_fixp_on_session_message(dtx_sessions *s, uint32_t ci, const dtx_frame *f, uint64_t now)
{
    switch (f->template_id) {
    case DTX_FIXP_NEGOTIATE_TEMPLATE_ID: return on_negotiate(s, ci, f, now);
    case DTX_FIXP_ESTABLISH_TEMPLATE_ID: return on_establish(s, ci, f, now);
    case DTX_FIXP_SEQUENCE_TEMPLATE_ID: return on_sequence(s, ci, f, now);
    case DTX_FIXP_RETRANSMIT_REQUEST_TEMPLATE_ID:
        return dtx_fixp_on_retransmit_request(s, ci, f, now);
    case DTX_FIXP_TERMINATE_TEMPLATE_ID: return dtx_fixp_on_terminate(s, ci, now);
    case DTX_FIXP_TOPIC_TEMPLATE_ID:
    case DTX_FIXP_CONTEXT_TEMPLATE_ID:
    case DTX_FIXP_UNSEQUENCED_HEARTBEAT_TEMPLATE_ID:
    case DTX_FIXP_FINISHED_SENDING_TEMPLATE_ID:
    case DTX_FIXP_FINISHED_RECEIVING_TEMPLATE_ID:
    case DTX_FIXP_APPLIED_TEMPLATE_ID:
    case DTX_FIXP_MESSAGE_TEMPLATE_TEMPLATE_ID: {
        char why[DTX_SOFH_REASON_MAX];
        snprintf(why, sizeof why, "template %u is not used by dtx", f->template_id);
        return dtx_fixp_protocol_error(s, ci, why, now);
    }
    default: {
        char why[DTX_SOFH_REASON_MAX];
        snprintf(why, sizeof why, "template %u is not sent by a client", f->template_id);
        return dtx_fixp_protocol_error(s, ci, why, now);
    }
    }
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
                dtx_fixp_conn_end(s, ci, now, 1);
            continue;
        case DTX_CONN_ESTABLISHED: {
            uint64_t ka = (uint64_t)c->keepalive_ms * NS_PER_MS;
            if (now > c->last_rx && now - c->last_rx >= 3 * ka) {
                s->st.keepalive_timeouts++;
                if (dtx_fixp_send_terminate(s, c, DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR,
                                            "keepalive", now) < 0) {
                    dtx_fixp_conn_end(s, ci, now, 1);
                    continue;
                }
                c->state = DTX_CONN_TERMINATING;
                c->terminate_sent = 1;
                c->retx_active = 0;
                c->retx_next = c->retx_end = 0;
                c->deadline = now + (uint64_t)s->cfg.terminate_timeout_ms * NS_PER_MS;
                dtx_fixp_flush(s, ci);
                continue;
            }
            if (now > c->last_tx && now - c->last_tx >= ka && !c->retx_active) {
                session *se = &s->sess[c->session];
                if (c->wr_next == se->next_server &&
                    dtx_fixp_send_sequence(s, c, c->wr_next, now) == 0)
                    c->need_sequence = 0;
                dtx_fixp_flush(s, ci);
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
