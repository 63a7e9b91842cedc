/*
 * dtx/admin.h - role messages inside the core: the audit record of every
 * administrative change, and the value slots of the admin answer events.
 *
 * The risk, operator and oracle roles send messages 150-199 (docs/admin.md).
 * The session layer checks the role (a message outside it is answered
 * BusinessMessageReject NotAuthorized and reaches nothing) and hands the core
 * one dtx_command of type DTX_CMD_RISK_SET .. DTX_CMD_LIMIT_QUERY. The core
 * sequences it like an order and carries it out on its own thread, after the
 * sequencer (so replaying the input journal replays it):
 *
 *   RISK_SET      dtx_risk_apply(); MARK_PRICE also sets the index price
 *   KILL_SWITCH   account disabled (gate: AccountDisabled), then a mass cancel
 *                 of every order of the account, reported CancelReason Risk;
 *                 off enables it again. The gateway blocks Establish for the
 *                 account on seeing the acknowledgement.
 *   DEPOSIT, WITHDRAW  dtx_risk_deposit(), dtx_risk_withdraw()
 *   ADMIN_STATUS  the engine's DTX_CMD_INSTRUMENT_STATUS, same seq and ts
 *   ACCOUNT_QUERY, MARGIN_WATCH, LIMIT_QUERY  read dtx_risk_account(),
 *                 dtx_risk_read() and friends
 *
 * Each accepted change produces one audit record per value changed (passed to
 * the core's audit callback on the core thread, before the answer event) and
 * an ADMIN_ACK event; a refused one an ADMIN_REJECT event and no record.
 * Every change is audited: before it applies a change the core asks the
 * audit sink for room for its records (dtx_audit_reserve_fn); without room
 * the change is refused DTX_REJ_AUDIT_UNAVAILABLE and nothing changes.
 */
#ifndef DTX_ADMIN_H
#define DTX_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dtx/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One change: who, what, old and new value, when. */
typedef struct dtx_audit_record {
    uint64_t seq;            /* the admin command's sequence number */
    uint64_t ts;             /* its sequencer timestamp (ns since the epoch) */
    uint64_t request_id;     /* RequestID of the message */
    uint16_t cmd_type;       /* dtx_cmd_type */
    uint16_t session;        /* gateway session slot of the sender */
    uint32_t account;        /* account of the sender's key */
    uint32_t key_id;         /* the sender's key (dtx_command.key_id) */
    uint32_t target_account; /* account changed; UINT32_MAX = default / none */
    uint32_t security_id;    /* instrument changed; 0 = none */
    const char *what;        /* static name of the value: "max_order_qty",
                                "initial_margin", "mark_price", "index_price",
                                "account_enabled", "collateral",
                                "trading_status", ... */
    int64_t old_value;
    int64_t new_value;       /* index price: DTX_PRICE_NULL when unset */
    uint64_t affected;       /* kill switch on: orders canceled; else 0 */
} dtx_audit_record;

/* Called on the core thread for each record, in sequence order. */
typedef void (*dtx_audit_fn)(void *ctx, const dtx_audit_record *rec);

/* Called on the core thread before a change is applied: returns 1 when the
 * sink will take the change's n records (n = 1, or 2 for a mark with an index
 * price) without waiting, 0 when it has no room (the change is refused).
 * Must not block; the order path never calls it. */
typedef int (*dtx_audit_reserve_fn)(void *ctx, size_t n);

/*
 * Formats rec as one audit line without the newline:
 *   ts=2026-11-30T17:01:02.123456789Z seq=42 cmd=RISK_SET session=3 account=9
 *   key=02a1b2c3 request=7 what=max_order_qty target_account=1 security_id=1
 *   old=0 new=100 affected=0
 * (target_account=default for DTX_RISK_DEFAULT_ACCOUNT, - when none.)
 * Returns the length (truncated to cap - 1, NUL-terminated).
 */
size_t dtx_audit_format(const dtx_audit_record *rec, char *buf, size_t cap);

/* Name of a dtx_risk_param ("max_order_qty", ...), "?" for an unknown one. */
const char *dtx_admin_param_name(unsigned param);

/*
 * Values of the admin answer events: nine int64 slots of the 128-byte record
 * (offsets 48, 56, 72, 80, 88, 96, 104, 112, 120: every 8-byte field after
 * the header except clordid, which is the RequestID). Per type:
 *   ADMIN_ACK       v0 old value, v1 new value, v2 old index price,
 *                   v3 new index price, v4 count (orders canceled by a kill
 *                   switch; reports sent before it by a query); status = the
 *                   new status (kill switch: 1 on; ADMIN_STATUS: trading
 *                   status); contra_session = param (dtx_risk_param);
 *                   contra_account = target account, security_id.
 *   ADMIN_REJECT    reject_reason (dtx_reject_reason), ref_cmd_type,
 *                   contra_account, security_id; no values.
 *   ACCOUNT_REPORT  contra_account = the account; status 1 enabled; aggressor
 *                   1 below maintenance; v0 collateral, v1 unrealized PnL,
 *                   v2 equity, v3 initial margin, v4 open-order margin,
 *                   v5 maintenance margin, v6 available, v7 margin ratio
 *                   (RATE9, INT64_MAX none), v8 open orders.
 *   POSITION_REPORT contra_account, security_id; v0 position (signed),
 *                   v1 average entry price (PRICE9), v2 realized PnL,
 *                   v3 fees, v4 unrealized PnL, v5 initial margin,
 *                   v6 maintenance margin, v7 open buy qty, v8 open sell qty.
 *   LIMIT_REPORT    contra_account = the account (or DTX_RISK_DEFAULT_ACCOUNT),
 *                   security_id; the values set for it (0 = not set: the
 *                   default applies): v0 max order qty, v1 max position
 *                   (both per instrument; 0 when security_id is 0),
 *                   v2 max notional, v3 max open orders, v4 max leverage.
 *   RISK_PARAM_REPORT security_id; v0 initial margin rate, v1 maintenance
 *                   rate, v2 price band, v3 leverage cap, v4 maker fee,
 *                   v5 taker fee, v6 mark price (PRICE9 or null), v7 index
 *                   price (PRICE9 or null), v8 trading status.
 *   SESSION_REPORT  (made by the gateway) contra_session = session slot,
 *                   contra_account = its account, status = role,
 *                   ord_status = connection state (dtx_conn_state, 0 none),
 *                   v0 next server seq, v1 next client seq, v2/v3 SessionId
 *                   (16 bytes), v4 key_id.
 */
#define DTX_ADMIN_SLOTS 9u
#define DTX_ADMIN_SLOT_OFFSET(slot) ((slot) < 2 ? 48u + 8u * (slot) : 56u + 8u * (slot))

static inline void dtx_admin_ev_set(dtx_event *ev, unsigned slot, int64_t v)
{
    memcpy((uint8_t *)ev + DTX_ADMIN_SLOT_OFFSET(slot), &v, sizeof v);
}

static inline int64_t dtx_admin_ev_get(const dtx_event *ev, unsigned slot)
{
    int64_t v;
    memcpy(&v, (const uint8_t *)ev + DTX_ADMIN_SLOT_OFFSET(slot), sizeof v);
    return v;
}

/* 1 when the event type is one of the admin answers (ADMIN_ACK ..
 * RISK_PARAM_REPORT). */
static inline int dtx_admin_event(unsigned type)
{
    return type >= DTX_EV_ADMIN_ACK && type <= DTX_EV_RISK_PARAM_REPORT;
}

#ifdef __cplusplus
}
#endif
#endif /* DTX_ADMIN_H */
