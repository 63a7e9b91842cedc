/*
 * fixp_flow.c - FIXP 1.1 server sessions, the server's Recoverable flow:
 * every application message a session is sent (report or NotApplied) is
 * numbered, kept in the session's bounded store, encoded and written by
 * dtx_fixp_pump() (live, after a Sequence when one is due, or as the batch
 * a RetransmitRequest asked for). Events from the core enter here, drop copy
 * included (net/fixp_internal.h; the state machine is fixp_session.c).
 *
 * Invariant: every application message sent (report or NotApplied) takes
 * exactly one server sequence number and is stored before it is written, so
 * what a slow or absent reader misses can be retransmitted.
 */
#include <string.h>

#include "dtx/admin.h"
#include "dtx/fixp_2748.h"
#include "dtx/sbe_7001.h"
#include "dtx/session.h"
#include "dtx/sofh.h"
#include "dtx/types.h"
#include "net/fixp_internal.h"

/* ---- output --------------------------------------------------------------- */

/* Offers pending bytes to write(). */
void dtx_fixp_flush(dtx_sessions *s, uint32_t ci)
{
    dtx_outbuf_flush(&s->conns[ci].out, &s->cb, ci);
}

static const uint8_t ZERO_UUID[16];

static const uint8_t *conn_uuid(const dtx_sessions *s, const conn *c)
{
    return c->session >= 0 ? s->sess[c->session].uuid : ZERO_UUID;
}

int dtx_fixp_send_sequence(dtx_sessions *s, conn *c, uint64_t next, uint64_t now)
{
    dtx_fixp_sequence m = {.next_seq_no = next};
    return FIXP_SEND(s, c, sequence, SEQUENCE, m, now);
}

int dtx_fixp_send_terminate(dtx_sessions *s, conn *c, uint8_t code, const char *reason,
                            uint64_t now)
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
        /* kept there by dtx_fixp_store_app(): see there */
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
    dtx_fixp_send_terminate(s, &s->conns[ci], DTX_FIXP_TERMINATION_CODE_UNSPECIFIED_ERROR,
                            "send buffer overflow", now);
    dtx_fixp_conn_end(s, ci, now, 1);
}

/*
 * Writes what the connection owes, in order: the rest of a retransmission
 * batch, then live messages from wr_next (Sequence first when one is due).
 * Stops when the send buffer is full; on_writable() goes on. A live backlog
 * that outgrows the store ends the connection (the client recovers by
 * retransmission after it re-establishes). Returns 0, or -1 when the
 * connection was ended.
 */
int dtx_fixp_pump(dtx_sessions *s, uint32_t ci, uint64_t now)
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
            dtx_fixp_send_sequence(s, c, c->wr_next, now);
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
void dtx_fixp_store_app(dtx_sessions *s, uint32_t si, const dtx_event *ev, uint64_t ref_seq,
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
        if (dtx_fixp_pump(s, ci, now) == 0)
            dtx_fixp_flush(s, ci);
    }
}

void dtx_fixp_store_not_applied(dtx_sessions *s, uint32_t si, uint64_t from, uint64_t count,
                                uint64_t now)
{
    dtx_event ev = {0};
    ev.type = STORED_NOT_APPLIED;
    ev.order_id = from;
    ev.order_qty = (int64_t)count;
    s->st.not_applied++;
    dtx_fixp_store_app(s, si, &ev, 0, 0, now);
}

void dtx_session_on_writable(dtx_sessions *s, uint32_t ci, uint64_t now)
{
    if (ci >= s->cfg.max_connections || s->conns[ci].state == DTX_CONN_FREE)
        return;
    dtx_fixp_flush(s, ci);
    if (dtx_fixp_pump(s, ci, now) == 0)
        dtx_fixp_flush(s, ci);
}

/* ---- retransmission ----------------------------------------------------- */

int dtx_fixp_on_retransmit_request(dtx_sessions *s, uint32_t ci, const dtx_frame *f,
                                   uint64_t now)
{
    conn *c = &s->conns[ci];
    if (c->state != DTX_CONN_ESTABLISHED)
        return dtx_fixp_protocol_error(s, ci, "RetransmitRequest before Establish", now);
    dtx_fixp_retransmit_request m;
    if (dtx_fixp_retransmit_request_decode(f->body, f->body_len, f->block_length, f->version, &m) < 0)
        return dtx_fixp_protocol_error(s, ci, "malformed RetransmitRequest", now);
    if (c->retx_active) {
        s->st.protocol_errors++;
        if (dtx_fixp_send_terminate(s, c, DTX_FIXP_TERMINATION_CODE_RE_REQUEST_IN_PROGRESS,
                                    "RetransmitRequest while one is being answered", now) < 0) {
            dtx_fixp_conn_end(s, ci, now, 1);
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
    if (dtx_fixp_pump(s, ci, now) < 0)
        return FR_CLOSED;
    return FR_OK;
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
                dtx_fixp_store_app(s, s->dropcopy[i], ev, 0, 0, now);
    if (ev->session >= s->cfg.max_sessions || !s->sess[ev->session].used)
        return DTX_EINVAL;
    session *se = &s->sess[ev->session];
    uint64_t ref_seq = 0;
    if (ev->type == DTX_EV_BUSINESS_REJECT && ev->ref_cmd_type == DTX_CMD_MASS_CANCEL) {
        for (uint32_t i = 0; i < MASS_CANCEL_REFS; i++)
            if (se->mc[i].seq && se->mc[i].clordid == ev->clordid)
                ref_seq = se->mc[i].seq;
    }
    dtx_fixp_store_app(s, ev->session, ev, ref_seq, 0, now);
    return DTX_OK;
}
