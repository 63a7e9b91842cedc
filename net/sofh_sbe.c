/*
 * sofh_sbe.c - SOFH frame reader and the SBE codecs of order entry.
 *
 * First stage of the order path in net/: bytes from a transport become whole
 * frames here (dtx_sofh_reader_peek), checked for every framing error
 * PROTOCOL.md names; the session layer (fixp_session.c) then decodes
 * application messages 100-103 into dtx_command records with
 * dtx_sbe_decode_order() and encodes the core's dtx_event records as reports
 * 200-207 with dtx_sbe_encode_report(). Field layouts come from the headers
 * generated from schemas/ by tools/sbegen.py; nothing here hand-codes an
 * offset. No allocation, no clock; snprintf only on the error path.
 */
#include <stdio.h>
#include <string.h>

#include "dtx/admin.h"
#include "dtx/fixp_2748.h"
#include "dtx/risk.h"
#include "dtx/sbe_7001.h"
#include "dtx/sofh.h"
#include "dtx/types.h"

static inline uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t load_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Root block a sender of `version` writes for template id of schema 2748; -1
 * for a template the schema does not have. */
static int fixp_root_block(uint16_t id, uint16_t version)
{
    switch (id) {
#define X(ID, NAME, SNAKE, UPPER, BL, SINCE, VARS)                                                \
    case ID:                                                                                     \
        return dtx_fixp_##SNAKE##_block_length_at(version);
        DTX_FIXP_MESSAGES(X)
#undef X
    default:
        return -1;
    }
}

static int app_root_block(uint16_t id, uint16_t version)
{
    switch (id) {
#define X(ID, NAME, SNAKE, UPPER, BL, SINCE, VARS)                                                \
    case ID:                                                                                     \
        return dtx_sbe_##SNAKE##_block_length_at(version);
        DTX_SBE_MESSAGES(X)
#undef X
    default:
        return -1;
    }
}

int dtx_sofh_decode(const uint8_t *buf, size_t len, dtx_frame *f, char *reason)
{
    if (len < DTX_SOFH_SIZE)
        return 0;
    uint32_t frame_len = load_be32(buf);
    if (frame_len < DTX_FRAME_MIN) {
        snprintf(reason, DTX_SOFH_REASON_MAX, "frame length %u under 14", frame_len);
        return -1;
    }
    if (frame_len > DTX_FRAME_MAX) {
        snprintf(reason, DTX_SOFH_REASON_MAX, "frame length %u over 4096", frame_len);
        return -1;
    }
    uint16_t enc = load_be16(buf + 4);
    if (enc != DTX_SOFH_ENCODING_SBE_LE) {
        snprintf(reason, DTX_SOFH_REASON_MAX, "encoding type 0x%04X is not 0xEB50", enc);
        return -1;
    }
    if (len < DTX_FRAME_MIN)
        return 0;
    const uint8_t *h = buf + DTX_SOFH_SIZE;
    uint16_t bl = dtx_sbe_load_u16(h);
    uint16_t tid = dtx_sbe_load_u16(h + 2);
    uint16_t sid = dtx_sbe_load_u16(h + 4);
    uint16_t ver = dtx_sbe_load_u16(h + 6);
    int root;
    uint8_t known = 1;
    if (sid == DTX_SCHEMA_FIXP) {
        root = fixp_root_block(tid, ver);
        if (root < 0) {
            snprintf(reason, DTX_SOFH_REASON_MAX, "unknown template %u of schema 2748", tid);
            return -1;
        }
    } else if (sid == DTX_SCHEMA_APP) {
        root = app_root_block(tid, ver);
        if (root < 0) {
            known = 0;
            root = 0;
        }
    } else {
        snprintf(reason, DTX_SOFH_REASON_MAX, "unknown schema %u (template %u)", sid, tid);
        return -1;
    }
    if (bl < (unsigned)root) {
        snprintf(reason, DTX_SOFH_REASON_MAX,
                 "blockLength %u below %d, the root block of template %u version %u", bl, root, tid,
                 ver);
        return -1;
    }
    if (bl > frame_len - DTX_FRAME_MIN) {
        snprintf(reason, DTX_SOFH_REASON_MAX, "blockLength %u beyond frame length %u", bl,
                 frame_len);
        return -1;
    }
    if (len < frame_len)
        return 0;
    f->body = buf + DTX_FRAME_MIN;
    f->body_len = frame_len - DTX_FRAME_MIN;
    f->frame_len = frame_len;
    f->block_length = bl;
    f->template_id = tid;
    f->schema_id = sid;
    f->version = ver;
    f->known = known;
    return (int)frame_len;
}

int dtx_sofh_reader_peek(dtx_sofh_reader *r, const uint8_t *data, size_t len, dtx_frame *f,
                         size_t *used, char *reason)
{
    if (r->have == 0) {
        int rc = dtx_sofh_decode(data, len, f, reason);
        if (rc > 0) {
            *used = (size_t)rc;
            return 1;
        }
        if (rc < 0)
            return -1;
        /* A partial frame: under 6 bytes, or under its checked length <= 4096. */
        memcpy(r->buf, data, len);
        r->have = (uint32_t)len;
        *used = len;
        return 0;
    }
    /* Complete the partial frame. The copy past r->have is tentative: r->have
     * moves only when every byte of data was taken, so a frame peeked but not
     * consumed is found again from the same data. */
    size_t room = DTX_FRAME_MAX - r->have;
    size_t copy = len < room ? len : room;
    memcpy(r->buf + r->have, data, copy);
    int rc = dtx_sofh_decode(r->buf, r->have + copy, f, reason);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        *used = (size_t)rc - r->have;
        return 1;
    }
    r->have += (uint32_t)copy; /* copy == len: a frame is at most DTX_FRAME_MAX */
    *used = len;
    return 0;
}

uint32_t dtx_sofh_put_headers(uint8_t *buf, uint32_t body_len, uint16_t block_length,
                              uint16_t template_id, uint16_t schema_id, uint16_t version)
{
    uint32_t n = body_len + DTX_FRAME_MIN;
    buf[0] = (uint8_t)(n >> 24);
    buf[1] = (uint8_t)(n >> 16);
    buf[2] = (uint8_t)(n >> 8);
    buf[3] = (uint8_t)n;
    buf[4] = (uint8_t)(DTX_SOFH_ENCODING_SBE_LE >> 8);
    buf[5] = (uint8_t)(DTX_SOFH_ENCODING_SBE_LE & 0xFF);
    dtx_sbe_store_u16(buf + 6, block_length);
    dtx_sbe_store_u16(buf + 8, template_id);
    dtx_sbe_store_u16(buf + 10, schema_id);
    dtx_sbe_store_u16(buf + 12, version);
    return n;
}

static int nonzero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc != 0;
}

int dtx_sbe_decode_order(const dtx_frame *f, dtx_command *cmd)
{
    if (f->schema_id != DTX_SCHEMA_APP)
        return -1;
    int bad = 0;
    switch (f->template_id) {
    case DTX_SBE_NEW_ORDER_SINGLE_TEMPLATE_ID: {
        dtx_sbe_new_order_single m;
        if (dtx_sbe_new_order_single_decode(f->body, f->body_len, f->block_length, f->version, &m) < 0)
            return -1;
        *cmd = dtx_command_blank(DTX_CMD_NEW_ORDER);
        cmd->clordid = m.cl_ord_id;
        cmd->security_id = m.security_id;
        cmd->side = m.side;
        cmd->ord_type = m.ord_type;
        cmd->tif = m.time_in_force;
        cmd->exec_inst = m.exec_inst;
        cmd->stp = m.self_trade_prevention;
        cmd->price = m.price;     /* PRICE9 on the wire and in commands; null kept */
        cmd->stop_px = m.stop_px;
        cmd->qty = m.order_qty;
        cmd->display_qty = m.display_qty;
        cmd->expire_time = m.expire_time;
        bad = nonzero(m.reserved, sizeof m.reserved);
        break;
    }
    case DTX_SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID: {
        dtx_sbe_order_cancel_request m;
        if (dtx_sbe_order_cancel_request_decode(f->body, f->body_len, f->block_length, f->version, &m) < 0)
            return -1;
        *cmd = dtx_command_blank(DTX_CMD_CANCEL);
        cmd->clordid = m.cl_ord_id;
        cmd->orig_clordid = m.orig_cl_ord_id;
        cmd->order_id = m.order_id;
        cmd->security_id = m.security_id;
        cmd->side = m.side;
        bad = nonzero(m.reserved, sizeof m.reserved);
        break;
    }
    case DTX_SBE_ORDER_CANCEL_REPLACE_REQUEST_TEMPLATE_ID: {
        dtx_sbe_order_cancel_replace_request m;
        if (dtx_sbe_order_cancel_replace_request_decode(f->body, f->body_len, f->block_length,
                                                        f->version, &m) < 0)
            return -1;
        *cmd = dtx_command_blank(DTX_CMD_REPLACE);
        cmd->clordid = m.cl_ord_id;
        cmd->orig_clordid = m.orig_cl_ord_id;
        cmd->order_id = m.order_id;
        cmd->security_id = m.security_id;
        cmd->side = m.side;
        cmd->price = m.price; /* null keeps the price */
        cmd->qty = m.order_qty;
        cmd->display_qty = m.display_qty;
        bad = nonzero(m.reserved, sizeof m.reserved);
        break;
    }
    case DTX_SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID: {
        dtx_sbe_order_mass_cancel_request m;
        if (dtx_sbe_order_mass_cancel_request_decode(f->body, f->body_len, f->block_length,
                                                     f->version, &m) < 0)
            return -1;
        *cmd = dtx_command_blank(DTX_CMD_MASS_CANCEL);
        cmd->clordid = m.cl_ord_id;
        cmd->security_id = m.security_id;
        cmd->side = m.side;
        bad = nonzero(m.reserved, sizeof m.reserved);
        break;
    }
    default:
        return -1;
    }
    return bad ? DTX_REJ_INVALID_FIELD : 0;
}

uint16_t dtx_sbe_report_template(const dtx_event *ev)
{
    switch (ev->type) {
    case DTX_EV_NEW: return DTX_SBE_EXECUTION_REPORT_NEW_TEMPLATE_ID;
    case DTX_EV_FILL: return DTX_SBE_EXECUTION_REPORT_TRADE_TEMPLATE_ID;
    case DTX_EV_CANCELED: return DTX_SBE_EXECUTION_REPORT_CANCELED_TEMPLATE_ID;
    case DTX_EV_REPLACED: return DTX_SBE_EXECUTION_REPORT_REPLACED_TEMPLATE_ID;
    case DTX_EV_REJECT: return DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID;
    case DTX_EV_CANCEL_REJECT: return DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID;
    case DTX_EV_MASS_CANCEL_REPORT: return DTX_SBE_ORDER_MASS_CANCEL_REPORT_TEMPLATE_ID;
    case DTX_EV_BUSINESS_REJECT: return DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID;
    case DTX_EV_ADMIN_ACK: return DTX_SBE_ADMIN_ACK_TEMPLATE_ID;
    case DTX_EV_ADMIN_REJECT: return DTX_SBE_ADMIN_REJECT_TEMPLATE_ID;
    case DTX_EV_ACCOUNT_REPORT: return DTX_SBE_ACCOUNT_REPORT_TEMPLATE_ID;
    case DTX_EV_POSITION_REPORT: return DTX_SBE_POSITION_REPORT_TEMPLATE_ID;
    case DTX_EV_SESSION_REPORT: return DTX_SBE_SESSION_REPORT_TEMPLATE_ID;
    case DTX_EV_LIMIT_REPORT: return DTX_SBE_LIMIT_REPORT_TEMPLATE_ID;
    case DTX_EV_RISK_PARAM_REPORT: return DTX_SBE_INSTRUMENT_RISK_REPORT_TEMPLATE_ID;
    default: return 0;
    }
}

uint16_t dtx_sbe_cmd_template(unsigned cmd_type)
{
    switch (cmd_type) {
    case DTX_CMD_NEW_ORDER: return DTX_SBE_NEW_ORDER_SINGLE_TEMPLATE_ID;
    case DTX_CMD_CANCEL: return DTX_SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID;
    case DTX_CMD_REPLACE: return DTX_SBE_ORDER_CANCEL_REPLACE_REQUEST_TEMPLATE_ID;
    case DTX_CMD_MASS_CANCEL: return DTX_SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID;
    case DTX_CMD_RISK_SET: return DTX_SBE_SET_ACCOUNT_LIMIT_TEMPLATE_ID; /* or 151, by param */
    case DTX_CMD_KILL_SWITCH: return DTX_SBE_KILL_SWITCH_TEMPLATE_ID;
    case DTX_CMD_DEPOSIT: return DTX_SBE_DEPOSIT_TEMPLATE_ID;
    case DTX_CMD_WITHDRAW: return DTX_SBE_WITHDRAW_TEMPLATE_ID;
    case DTX_CMD_ADMIN_STATUS: return DTX_SBE_INSTRUMENT_STATUS_REQUEST_TEMPLATE_ID;
    case DTX_CMD_MARK_PRICE: return DTX_SBE_SET_MARK_PRICE_TEMPLATE_ID;
    case DTX_CMD_ACCOUNT_QUERY: return DTX_SBE_ACCOUNT_QUERY_TEMPLATE_ID;
    case DTX_CMD_MARGIN_WATCH: return DTX_SBE_MARGIN_WATCH_QUERY_TEMPLATE_ID;
    case DTX_CMD_LIMIT_QUERY: return DTX_SBE_LIMIT_QUERY_TEMPLATE_ID;
    default: return 0;
    }
}

/* Encodes one message struct M of template T after the 14 header bytes. */
#define ENCODE(SNAKE, UPPER, M)                                                                   \
    do {                                                                                         \
        if (cap < DTX_FRAME_MIN)                                                                 \
            return 0;                                                                            \
        ptrdiff_t n_ = dtx_sbe_##SNAKE##_encode(buf + DTX_FRAME_MIN, cap - DTX_FRAME_MIN, &(M));  \
        if (n_ < 0)                                                                              \
            return 0;                                                                            \
        return dtx_sofh_put_headers(buf, (uint32_t)n_, DTX_SBE_##UPPER##_BLOCK_LENGTH,             \
                                    DTX_SBE_##UPPER##_TEMPLATE_ID, DTX_SCHEMA_APP,                 \
                                    DTX_SBE_SCHEMA_VERSION);                                     \
    } while (0)

size_t dtx_sbe_encode_report(uint8_t *buf, size_t cap, const dtx_event *ev, uint64_t ref_seq,
                             uint16_t ref_template)
{
    switch (ev->type) {
    case DTX_EV_NEW: {
        dtx_sbe_execution_report_new m = {
            .cl_ord_id = ev->clordid, .order_id = ev->order_id, .security_id = ev->security_id,
            .side = ev->side, .ord_type = ev->ord_type, .time_in_force = ev->tif,
            .price = ev->price, .order_qty = ev->order_qty, .leaves_qty = ev->leaves_qty,
            .transact_time = ev->ts, .exec_id = ev->exec_id, .stop_px = ev->stop_px};
        ENCODE(execution_report_new, EXECUTION_REPORT_NEW, m);
    }
    case DTX_EV_FILL: {
        dtx_sbe_execution_report_trade m = {
            .cl_ord_id = ev->clordid, .order_id = ev->order_id, .security_id = ev->security_id,
            .side = ev->side, .ord_status = ev->ord_status, .aggressor_indicator = ev->aggressor,
            .last_px = ev->price, .last_qty = ev->last_qty, .leaves_qty = ev->leaves_qty,
            .cum_qty = ev->cum_qty, .trade_id = ev->trade_id, .exec_id = ev->exec_id,
            .transact_time = ev->ts,
            .fee = ev->fee * 1000}; /* micro-units to Fee9 */
        ENCODE(execution_report_trade, EXECUTION_REPORT_TRADE, m);
    }
    case DTX_EV_CANCELED: {
        dtx_sbe_execution_report_canceled m = {
            .cl_ord_id = ev->clordid, .orig_cl_ord_id = ev->orig_clordid, .order_id = ev->order_id,
            .security_id = ev->security_id, .side = ev->side, .cancel_reason = ev->cancel_reason,
            .cum_qty = ev->cum_qty, .transact_time = ev->ts, .exec_id = ev->exec_id};
        ENCODE(execution_report_canceled, EXECUTION_REPORT_CANCELED, m);
    }
    case DTX_EV_REPLACED: {
        dtx_sbe_execution_report_replaced m = {
            .cl_ord_id = ev->clordid, .orig_cl_ord_id = ev->orig_clordid, .order_id = ev->order_id,
            .security_id = ev->security_id, .side = ev->side, .price = ev->price,
            .order_qty = ev->order_qty, .leaves_qty = ev->leaves_qty, .cum_qty = ev->cum_qty,
            .transact_time = ev->ts, .exec_id = ev->exec_id};
        ENCODE(execution_report_replaced, EXECUTION_REPORT_REPLACED, m);
    }
    case DTX_EV_REJECT: {
        const char *text = dtx_reject_reason_name(ev->reject_reason);
        dtx_sbe_execution_report_reject m = {
            .cl_ord_id = ev->clordid, .security_id = ev->security_id, .side = ev->side,
            .reject_reason = ev->reject_reason, .transact_time = ev->ts, .text = text,
            .text_length = (uint16_t)strlen(text)};
        ENCODE(execution_report_reject, EXECUTION_REPORT_REJECT, m);
    }
    case DTX_EV_CANCEL_REJECT: {
        const char *text = dtx_reject_reason_name(ev->reject_reason);
        dtx_sbe_order_cancel_reject m = {
            .cl_ord_id = ev->clordid, .orig_cl_ord_id = ev->orig_clordid, .order_id = ev->order_id,
            .reject_reason = ev->reject_reason, .cxl_rej_response_to = ev->response_to,
            .transact_time = ev->ts, .text = text, .text_length = (uint16_t)strlen(text)};
        ENCODE(order_cancel_reject, ORDER_CANCEL_REJECT, m);
    }
    case DTX_EV_MASS_CANCEL_REPORT: {
        dtx_sbe_order_mass_cancel_report m = {
            .cl_ord_id = ev->clordid,
            .total_affected_orders = ev->total_affected > UINT32_MAX ? UINT32_MAX
                                                                     : (uint32_t)ev->total_affected,
            .transact_time = ev->ts};
        ENCODE(order_mass_cancel_report, ORDER_MASS_CANCEL_REPORT, m);
    }
    case DTX_EV_BUSINESS_REJECT: {
        const char *text = dtx_reject_reason_name(ev->reject_reason);
        dtx_sbe_business_message_reject m = {
            .ref_seq_num = ref_seq,
            .ref_template_id = ref_template ? ref_template : dtx_sbe_cmd_template(ev->ref_cmd_type),
            .reject_reason = ev->reject_reason, .text = text,
            .text_length = (uint16_t)strlen(text)};
        ENCODE(business_message_reject, BUSINESS_MESSAGE_REJECT, m);
    }
    case DTX_EV_ADMIN_ACK: {
        uint16_t ref = dtx_sbe_cmd_template(ev->ref_cmd_type);
        if (ev->ref_cmd_type == DTX_CMD_RISK_SET && ev->contra_session < 16)
            ref = DTX_SBE_SET_INSTRUMENT_RISK_PARAM_TEMPLATE_ID;
        else if (ev->ref_cmd_type == DTX_CMD_NONE) /* answered by the gateway */
            ref = DTX_SBE_SESSION_LIST_REQUEST_TEMPLATE_ID;
        dtx_sbe_admin_ack m = {
            .request_id = ev->clordid, .ref_template_id = ref,
            .param = ev->contra_session, .status = ev->status,
            .account = ev->contra_account, .security_id = ev->security_id,
            .old_value = dtx_admin_ev_get(ev, 0), .new_value = dtx_admin_ev_get(ev, 1),
            .old_index_px = dtx_admin_ev_get(ev, 2), .new_index_px = dtx_admin_ev_get(ev, 3),
            .count = (uint64_t)dtx_admin_ev_get(ev, 4), .transact_time = ev->ts};
        ENCODE(admin_ack, ADMIN_ACK, m);
    }
    case DTX_EV_ADMIN_REJECT: {
        const char *text = dtx_reject_reason_name(ev->reject_reason);
        dtx_sbe_admin_reject m = {
            .request_id = ev->clordid,
            .ref_template_id = ref_template ? ref_template : dtx_sbe_cmd_template(ev->ref_cmd_type),
            .reject_reason = ev->reject_reason, .account = ev->contra_account,
            .security_id = ev->security_id, .transact_time = ev->ts, .text = text,
            .text_length = (uint16_t)strlen(text)};
        ENCODE(admin_reject, ADMIN_REJECT, m);
    }
    case DTX_EV_ACCOUNT_REPORT: {
        int64_t oo = dtx_admin_ev_get(ev, 8);
        dtx_sbe_account_report m = {
            .request_id = ev->clordid, .account = ev->contra_account, .enabled = ev->status,
            .below_maintenance = ev->aggressor,
            .open_orders = oo < 0 ? 0 : oo > UINT32_MAX ? UINT32_MAX : (uint32_t)oo,
            .collateral = dtx_admin_ev_get(ev, 0), .unrealized_pnl = dtx_admin_ev_get(ev, 1),
            .equity = dtx_admin_ev_get(ev, 2), .initial_margin = dtx_admin_ev_get(ev, 3),
            .order_margin = dtx_admin_ev_get(ev, 4), .maint_margin = dtx_admin_ev_get(ev, 5),
            .available = dtx_admin_ev_get(ev, 6), .margin_ratio = dtx_admin_ev_get(ev, 7),
            .transact_time = ev->ts};
        ENCODE(account_report, ACCOUNT_REPORT, m);
    }
    case DTX_EV_POSITION_REPORT: {
        dtx_sbe_position_report m = {
            .request_id = ev->clordid, .account = ev->contra_account,
            .security_id = ev->security_id, .position = dtx_admin_ev_get(ev, 0),
            .avg_entry_px = dtx_admin_ev_get(ev, 1), .realized_pnl = dtx_admin_ev_get(ev, 2),
            .fees = dtx_admin_ev_get(ev, 3), .unrealized_pnl = dtx_admin_ev_get(ev, 4),
            .initial_margin = dtx_admin_ev_get(ev, 5), .maint_margin = dtx_admin_ev_get(ev, 6),
            .open_buy_qty = dtx_admin_ev_get(ev, 7), .open_sell_qty = dtx_admin_ev_get(ev, 8)};
        ENCODE(position_report, POSITION_REPORT, m);
    }
    case DTX_EV_LIMIT_REPORT: {
        dtx_sbe_limit_report m = {
            .request_id = ev->clordid, .account = ev->contra_account,
            .security_id = ev->security_id, .max_order_qty = dtx_admin_ev_get(ev, 0),
            .max_position = dtx_admin_ev_get(ev, 1), .max_notional = dtx_admin_ev_get(ev, 2),
            .max_open_orders = dtx_admin_ev_get(ev, 3), .max_leverage = dtx_admin_ev_get(ev, 4)};
        ENCODE(limit_report, LIMIT_REPORT, m);
    }
    case DTX_EV_RISK_PARAM_REPORT: {
        dtx_sbe_instrument_risk_report m = {
            .request_id = ev->clordid, .security_id = ev->security_id,
            .trading_status = (uint8_t)dtx_admin_ev_get(ev, 8),
            .initial_margin_rate = dtx_admin_ev_get(ev, 0),
            .maint_margin_rate = dtx_admin_ev_get(ev, 1), .price_band = dtx_admin_ev_get(ev, 2),
            .leverage_cap = dtx_admin_ev_get(ev, 3), .maker_fee = dtx_admin_ev_get(ev, 4),
            .taker_fee = dtx_admin_ev_get(ev, 5), .mark_px = dtx_admin_ev_get(ev, 6),
            .index_px = dtx_admin_ev_get(ev, 7), .transact_time = ev->ts};
        ENCODE(instrument_risk_report, INSTRUMENT_RISK_REPORT, m);
    }
    case DTX_EV_SESSION_REPORT: {
        dtx_sbe_session_report m = {
            .request_id = ev->clordid, .account = ev->contra_account, .role = ev->status,
            .connection_state = ev->ord_status, .session_slot = ev->contra_session,
            .next_server_seq = (uint64_t)dtx_admin_ev_get(ev, 0),
            .next_client_seq = (uint64_t)dtx_admin_ev_get(ev, 1),
            .key_id = (uint32_t)dtx_admin_ev_get(ev, 4)};
        int64_t u[2] = {dtx_admin_ev_get(ev, 2), dtx_admin_ev_get(ev, 3)};
        memcpy(m.session_id, u, sizeof m.session_id);
        ENCODE(session_report, SESSION_REPORT, m);
    }
    default:
        return 0;
    }
}

/* Role of each message 150-165: the dtx_session_role value of dtx/session.h. */
#define ROLE_RISK 3u
#define ROLE_OPERATOR 4u
#define ROLE_ORACLE 5u

#define DECODE_ADMIN(SNAKE, M)                                                                    \
    do {                                                                                         \
        if (dtx_sbe_##SNAKE##_decode(f->body, f->body_len, f->block_length, f->version, &(M)) < 0) \
            return -1;                                                                           \
    } while (0)

int dtx_sbe_decode_admin(const dtx_frame *f, dtx_command *cmd, unsigned *role)
{
    if (f->schema_id != DTX_SCHEMA_APP)
        return -1;
    int bad = 0;
    *cmd = dtx_command_blank(DTX_CMD_NONE);
    switch (f->template_id) {
    case DTX_SBE_SET_ACCOUNT_LIMIT_TEMPLATE_ID: {
        dtx_sbe_set_account_limit m;
        DECODE_ADMIN(set_account_limit, m);
        cmd->type = DTX_CMD_RISK_SET;
        cmd->clordid = m.request_id;
        cmd->target_account = m.account;
        cmd->security_id = m.security_id;
        cmd->param = m.limit_type;
        cmd->value = m.value;
        bad = nonzero(m.reserved, sizeof m.reserved) ||
              m.limit_type < DTX_RISK_PARAM_MAX_ORDER_QTY ||
              m.limit_type > DTX_RISK_PARAM_ACCOUNT_MAX_LEVERAGE;
        *role = ROLE_RISK;
        break;
    }
    case DTX_SBE_SET_INSTRUMENT_RISK_PARAM_TEMPLATE_ID: {
        dtx_sbe_set_instrument_risk_param m;
        DECODE_ADMIN(set_instrument_risk_param, m);
        cmd->type = DTX_CMD_RISK_SET;
        cmd->clordid = m.request_id;
        cmd->target_account = DTX_RISK_DEFAULT_ACCOUNT;
        cmd->security_id = m.security_id;
        cmd->param = m.risk_param;
        cmd->value = m.value;
        bad = nonzero(m.reserved, sizeof m.reserved) ||
              m.risk_param < DTX_RISK_PARAM_INITIAL_MARGIN ||
              m.risk_param > DTX_RISK_PARAM_TAKER_FEE;
        *role = ROLE_RISK;
        break;
    }
    case DTX_SBE_KILL_SWITCH_TEMPLATE_ID: {
        dtx_sbe_kill_switch m;
        DECODE_ADMIN(kill_switch, m);
        cmd->type = DTX_CMD_KILL_SWITCH;
        cmd->clordid = m.request_id;
        cmd->target_account = m.account;
        cmd->status = m.kill_switch_on;
        bad = nonzero(m.reserved, sizeof m.reserved) || m.kill_switch_on > 1;
        *role = ROLE_RISK;
        break;
    }
    case DTX_SBE_DEPOSIT_TEMPLATE_ID:
    case DTX_SBE_WITHDRAW_TEMPLATE_ID: {
        dtx_sbe_deposit m; /* Withdraw has the same layout */
        DECODE_ADMIN(deposit, m);
        cmd->type = f->template_id == DTX_SBE_DEPOSIT_TEMPLATE_ID ? DTX_CMD_DEPOSIT : DTX_CMD_WITHDRAW;
        cmd->clordid = m.request_id;
        cmd->target_account = m.account;
        cmd->value = m.amount;
        bad = nonzero(m.reserved, sizeof m.reserved);
        *role = ROLE_RISK;
        break;
    }
    case DTX_SBE_ACCOUNT_QUERY_TEMPLATE_ID: {
        dtx_sbe_account_query m;
        DECODE_ADMIN(account_query, m);
        cmd->type = DTX_CMD_ACCOUNT_QUERY;
        cmd->clordid = m.request_id;
        cmd->target_account = m.account;
        bad = nonzero(m.reserved, sizeof m.reserved);
        *role = ROLE_RISK;
        break;
    }
    case DTX_SBE_MARGIN_WATCH_QUERY_TEMPLATE_ID: {
        dtx_sbe_margin_watch_query m;
        DECODE_ADMIN(margin_watch_query, m);
        cmd->type = DTX_CMD_MARGIN_WATCH;
        cmd->clordid = m.request_id;
        cmd->target_account = UINT32_MAX;
        cmd->value = m.max_accounts;
        bad = nonzero(m.reserved, sizeof m.reserved);
        *role = ROLE_RISK;
        break;
    }
    case DTX_SBE_LIMIT_QUERY_TEMPLATE_ID: {
        dtx_sbe_limit_query m;
        DECODE_ADMIN(limit_query, m);
        cmd->type = DTX_CMD_LIMIT_QUERY;
        cmd->clordid = m.request_id;
        cmd->target_account = m.account;
        cmd->security_id = m.security_id;
        *role = ROLE_RISK;
        break;
    }
    case DTX_SBE_INSTRUMENT_STATUS_REQUEST_TEMPLATE_ID: {
        dtx_sbe_instrument_status_request m;
        DECODE_ADMIN(instrument_status_request, m);
        cmd->type = DTX_CMD_ADMIN_STATUS;
        cmd->clordid = m.request_id;
        cmd->target_account = UINT32_MAX;
        cmd->security_id = m.security_id;
        cmd->status = m.trading_status;
        bad = nonzero(m.reserved, sizeof m.reserved);
        *role = ROLE_OPERATOR;
        break;
    }
    case DTX_SBE_SESSION_LIST_REQUEST_TEMPLATE_ID: {
        dtx_sbe_session_list_request m;
        DECODE_ADMIN(session_list_request, m);
        cmd->clordid = m.request_id; /* type NONE: the gateway answers it */
        cmd->target_account = UINT32_MAX;
        *role = ROLE_OPERATOR;
        break;
    }
    case DTX_SBE_SET_MARK_PRICE_TEMPLATE_ID: {
        dtx_sbe_set_mark_price m;
        DECODE_ADMIN(set_mark_price, m);
        cmd->type = DTX_CMD_MARK_PRICE;
        cmd->clordid = m.request_id;
        cmd->target_account = UINT32_MAX;
        cmd->security_id = m.security_id;
        cmd->price = m.mark_px;
        cmd->stop_px = m.index_px;
        bad = nonzero(m.reserved, sizeof m.reserved);
        *role = ROLE_ORACLE;
        break;
    }
    default:
        return -1;
    }
    return bad ? DTX_REJ_INVALID_FIELD : 0;
}
