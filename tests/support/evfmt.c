/*
 * evfmt.c - the readable printers behind tests/support/evfmt.h, shared by the
 * engine suites' fixture and the differential harness so that both print an
 * event the same way. Plain snprintf into caller buffers; no Criterion.
 */
#include "support/evfmt.h"

#include "dtx/cmdfile.h"

#include <inttypes.h>
#include <stdio.h>

const char *evfmt_px(int64_t v, char *buf, size_t size)
{
    dtx_price9_format(v, buf, size);
    return buf;
}

void evfmt_event(const dtx_event *ev, char *buf, size_t size)
{
    char p1[32], p2[32];
    int k = snprintf(buf, size,
                     "x=%-3" PRIu64 " %-13s a=%u/%u sec=%u oid=%" PRIu64 " cl=%" PRIu64 " %s",
                     ev->exec_id, dtx_event_type_name(ev->type), (unsigned)ev->account,
                     (unsigned)ev->session, (unsigned)ev->security_id, ev->order_id, ev->clordid,
                     dtx_side_name(ev->side));
    if (k < 0 || (size_t)k >= size)
        return;
    buf += k;
    size -= (size_t)k;
    switch (ev->type) {
    case DTX_EV_NEW:
        snprintf(buf, size,
                 " %s %s px=%s stop=%s qty=%" PRId64 " leaves=%" PRId64 " inst=%u stp=%s shown=%" PRId64
                 " flags=0x%x",
                 dtx_ord_type_name(ev->ord_type), dtx_tif_name(ev->tif),
                 evfmt_px(ev->price, p1, sizeof p1), evfmt_px(ev->stop_px, p2, sizeof p2),
                 ev->order_qty, ev->leaves_qty, (unsigned)ev->exec_inst, dtx_stp_name(ev->stp),
                 ev->last_qty, (unsigned)ev->flags);
        break;
    case DTX_EV_FILL:
        snprintf(buf, size,
                 " px=%s last=%" PRId64 " leaves=%" PRId64 " cum=%" PRId64 " qty=%" PRId64
                 " trade=%" PRIu64 " st=%u aggr=%u contra=%u/%u/%" PRIu64,
                 evfmt_px(ev->price, p1, sizeof p1), ev->last_qty, ev->leaves_qty, ev->cum_qty,
                 ev->order_qty, ev->trade_id, (unsigned)ev->ord_status, (unsigned)ev->aggressor,
                 (unsigned)ev->contra_account, (unsigned)ev->contra_session, ev->contra_order_id);
        break;
    case DTX_EV_CANCELED:
        snprintf(buf, size,
                 " %s orig=%" PRIu64 " px=%s qty=%" PRId64 " leaves=%" PRId64 " cum=%" PRId64
                 " flags=0x%x",
                 dtx_cancel_reason_name(ev->cancel_reason), ev->orig_clordid,
                 evfmt_px(ev->price, p1, sizeof p1), ev->order_qty, ev->leaves_qty, ev->cum_qty,
                 (unsigned)ev->flags);
        break;
    case DTX_EV_REPLACED:
        snprintf(buf, size,
                 " orig=%" PRIu64 " px=%s qty=%" PRId64 " leaves=%" PRId64 " cum=%" PRId64
                 " shown=%" PRId64 " flags=0x%x",
                 ev->orig_clordid, evfmt_px(ev->price, p1, sizeof p1), ev->order_qty,
                 ev->leaves_qty, ev->cum_qty, ev->last_qty, (unsigned)ev->flags);
        break;
    case DTX_EV_REJECT:
        snprintf(buf, size, " %s %s px=%s qty=%" PRId64, dtx_reject_reason_name(ev->reject_reason),
                 dtx_ord_type_name(ev->ord_type), evfmt_px(ev->price, p1, sizeof p1), ev->order_qty);
        break;
    case DTX_EV_CANCEL_REJECT:
        snprintf(buf, size, " %s orig=%" PRIu64 " to=%u", dtx_reject_reason_name(ev->reject_reason),
                 ev->orig_clordid, (unsigned)ev->response_to);
        break;
    case DTX_EV_MASS_CANCEL_REPORT:
        snprintf(buf, size, " affected=%" PRIu64, ev->total_affected);
        break;
    case DTX_EV_BUSINESS_REJECT:
        snprintf(buf, size, " %s ref=%u", dtx_reject_reason_name(ev->reject_reason),
                 (unsigned)ev->ref_cmd_type);
        break;
    case DTX_EV_ADDED:
        snprintf(buf, size, " px=%s shown=%" PRId64 " leaves=%" PRId64 " flags=0x%x",
                 evfmt_px(ev->price, p1, sizeof p1), ev->last_qty, ev->leaves_qty,
                 (unsigned)ev->flags);
        break;
    case DTX_EV_TRIGGERED:
        snprintf(buf, size, " stop=%s as %s px=%s", evfmt_px(ev->stop_px, p1, sizeof p1),
                 dtx_ord_type_name(ev->ord_type), evfmt_px(ev->price, p2, sizeof p2));
        break;
    case DTX_EV_STATUS:
        snprintf(buf, size, " status=%u", (unsigned)ev->status);
        break;
    default:
        break;
    }
}

static const char *cmd_type_name(unsigned type)
{
    switch (type) {
    case DTX_CMD_NEW_ORDER: return "NEW_ORDER";
    case DTX_CMD_CANCEL: return "CANCEL";
    case DTX_CMD_REPLACE: return "REPLACE";
    case DTX_CMD_MASS_CANCEL: return "MASS_CANCEL";
    case DTX_CMD_TIME: return "TIME";
    case DTX_CMD_INSTRUMENT_STATUS: return "INSTRUMENT_STATUS";
    case DTX_CMD_CANCEL_ON_DISCONNECT: return "CANCEL_ON_DISCONNECT";
    default: return "?";
    }
}

void evfmt_command(const dtx_command *c, char *buf, size_t size)
{
    char p1[32], p2[32];
    int k = snprintf(buf, size, "seq=%" PRIu64 " ts=%" PRIu64 " %s(%u) a=%u/%u", c->seq, c->ts,
                     cmd_type_name(c->type), (unsigned)c->type, (unsigned)c->account,
                     (unsigned)c->session);
    if (k < 0 || (size_t)k >= size)
        return;
    buf += k;
    size -= (size_t)k;
    switch (c->type) {
    case DTX_CMD_NEW_ORDER:
        snprintf(buf, size,
                 " sec=%u cl=%" PRIu64 " side=%u(%s) type=%u(%s) tif=%u(%s) inst=0x%x stp=%u px=%s"
                 " stop=%s qty=%" PRId64 " display=%" PRId64 " expire=%" PRIu64,
                 (unsigned)c->security_id, c->clordid, (unsigned)c->side, dtx_side_name(c->side),
                 (unsigned)c->ord_type, dtx_ord_type_name(c->ord_type), (unsigned)c->tif,
                 dtx_tif_name(c->tif), (unsigned)c->exec_inst, (unsigned)c->stp,
                 evfmt_px(c->price, p1, sizeof p1), evfmt_px(c->stop_px, p2, sizeof p2), c->qty,
                 c->display_qty, c->expire_time);
        break;
    case DTX_CMD_CANCEL:
    case DTX_CMD_REPLACE:
        k = snprintf(buf, size,
                     " cl=%" PRIu64 " orig=%" PRIu64 " oid=%" PRIu64 " sec=%u side=%u", c->clordid,
                     c->orig_clordid, c->order_id, (unsigned)c->security_id, (unsigned)c->side);
        if (c->type == DTX_CMD_REPLACE && k > 0 && (size_t)k < size)
            snprintf(buf + k, size - (size_t)k, " px=%s qty=%" PRId64 " display=%" PRId64,
                     evfmt_px(c->price, p1, sizeof p1), c->qty, c->display_qty);
        break;
    case DTX_CMD_MASS_CANCEL:
        snprintf(buf, size, " cl=%" PRIu64 " sec=%u side=%u", c->clordid, (unsigned)c->security_id,
                 (unsigned)c->side);
        break;
    case DTX_CMD_INSTRUMENT_STATUS:
        snprintf(buf, size, " sec=%u status=%u", (unsigned)c->security_id, (unsigned)c->status);
        break;
    default:
        break;
    }
}

void evfmt_order(const dtx_order_view *v, char *buf, size_t size)
{
    char p1[32], p2[32];
    snprintf(buf, size,
             "oid=%" PRIu64 " cl=%" PRIu64 " a=%u/%u sec=%u %s %s %s inst=0x%x stp=%u px=%s"
             " stop=%s qty=%" PRId64 " leaves=%" PRId64 " cum=%" PRId64 " shown=%" PRId64
             " display=%" PRId64 "%s",
             v->order_id, v->clordid, (unsigned)v->account, (unsigned)v->session,
             (unsigned)v->security_id, dtx_side_name(v->side), dtx_ord_type_name(v->ord_type),
             dtx_tif_name(v->tif), (unsigned)v->exec_inst, (unsigned)v->stp,
             evfmt_px(v->price, p1, sizeof p1), evfmt_px(v->stop_px, p2, sizeof p2), v->order_qty,
             v->leaves_qty, v->cum_qty, v->shown_qty, v->display_qty,
             v->pending_stop ? " pending-stop" : "");
}
