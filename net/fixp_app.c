/*
 * fixp_app.c - FIXP 1.1 server sessions, the input: dtx_session_on_bytes()
 * reads frames (sofh_sbe.c) and hands session messages to fixp_session.c;
 * application messages are handled here, in the same file so the per-order
 * path stays one unit for the compiler. A frame of schema 7001 on an
 * established connection is checked against the Idempotent flow
 * (duplicates dropped, gaps reported NotApplied), the session's role and
 * throttle, decoded (orders 100-103, role messages) and submitted as a
 * dtx_command, or answered here: local rejects as the core would report
 * them, and the operator's session list (net/fixp_internal.h; the state
 * machine is fixp_session.c, the server flow fixp_flow.c).
 *
 * Invariant: a client message numbered below the expected one is never
 * applied.
 */
#include <string.h>

#include "dtx/admin.h"
#include "dtx/sbe_7001.h"
#include "dtx/session.h"
#include "dtx/sofh.h"
#include "dtx/types.h"
#include "net/cod.h"
#include "net/fixp_internal.h"
#include "net/throttle.h"

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
    dtx_fixp_store_app(s, si, &ev, seqno, tid, now);
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
        dtx_fixp_store_app(s, si, &ev, 0, 0, now);
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
    dtx_fixp_store_app(s, si, &ack, 0, 0, now); /* RefTemplateID 161: see dtx_sbe_encode_report */
}

static int on_app_message(dtx_sessions *s, uint32_t ci, const dtx_frame *f, uint64_t now)
{
    conn *c = &s->conns[ci];
    if (c->state != DTX_CONN_ESTABLISHED)
        return dtx_fixp_protocol_error(s, ci, "application message before Establish", now);
    if (!c->seen_sequence)
        return dtx_fixp_protocol_error(s, ci, "application message before the first Sequence", now);
    uint32_t si = (uint32_t)c->session;
    session *se = &s->sess[si];
    uint64_t n = c->next_in;
    if (n == UINT64_MAX)
        return dtx_fixp_protocol_error(s, ci, "client sequence numbers exhausted", now);
    if (n > se->next_client && n - se->next_client > UINT32_MAX)
        return dtx_fixp_protocol_error(s, ci, "sequence gap above 2^32-1 messages", now);
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
            return dtx_fixp_protocol_error(s, ci, "malformed application message", now);
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
            return dtx_fixp_protocol_error(s, ci, "malformed application message", now);
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
        dtx_fixp_store_not_applied(s, si, se->next_client, n - se->next_client, now);
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
            return dtx_fixp_on_terminate(s, ci, now);
        return FR_OK; /* nothing after a Terminate is applied */
    }
    if (f->schema_id == DTX_SCHEMA_FIXP)
        return dtx_fixp_on_session_message(s, ci, f, now);
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
                dtx_fixp_conn_end(s, ci, now, 1);
            else
                dtx_fixp_protocol_error(s, ci, reason, now);
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
        dtx_fixp_flush(s, ci);
    return done;
}
