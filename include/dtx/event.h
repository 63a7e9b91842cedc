/*
 * dtx/event.h - the fixed-size event record: what the core produces.
 *
 * Every outcome of a command is one or more 128-byte dtx_event records, in the
 * order they happened. The gateway turns them into execution reports (200-207),
 * the market data publisher into book changes, settlement into fills. A field
 * not listed for an event type is outside that type's contract: it is zero or,
 * where the engine copies the order's record whole (ADDED, TRIGGERED, the
 * order-path reports), that record's value (order_qty, cum_qty, ord_type, tif,
 * ...); consumers must not read it. Either way the engine writes every byte of
 * a record, padding included, from the command stream alone, so event streams
 * compare byte for byte (tests/engine_determinism; tests/engine_differential
 * compares the listed fields against the reference book).
 *
 * Per type (fields beyond the common header):
 *   NEW         ExecutionReportNew 200. price (null for Market/Stop), stop_px,
 *               order_qty, leaves_qty (= order_qty), ord_type, tif, exec_inst,
 *               stp. flags DTX_EVF_ADDED when the order rests straight away
 *               (see ADDED): last_qty is then its displayed quantity.
 *   FILL        ExecutionReportTrade 201, one per side of a trade, maker first.
 *               price = LastPx, last_qty, leaves_qty, cum_qty, order_qty,
 *               trade_id (same on both sides), ord_status, aggressor
 *               (1 = this order took liquidity), contra_account,
 *               contra_session, contra_order_id.
 *   CANCELED    ExecutionReportCanceled 202. cancel_reason, orig_clordid (0 when
 *               unsolicited), cum_qty, leaves_qty (quantity canceled), price,
 *               order_qty. flags DTX_EVF_ON_BOOK when the order rested.
 *   REPLACED    ExecutionReportReplaced 203 (also a self-trade decrement).
 *               orig_clordid, price, order_qty, leaves_qty, cum_qty.
 *               flags: DTX_EVF_PRIORITY_KEPT, DTX_EVF_ON_BOOK
 *               (the order rested before the change), DTX_EVF_SELF_TRADE,
 *               DTX_EVF_ADDED (re-priced, it rests straight away at the back
 *               of its new level; last_qty is its displayed quantity).
 *   REJECT      ExecutionReportReject 204. reject_reason, side, ord_type,
 *               price, order_qty (as requested).
 *   CANCEL_REJECT OrderCancelReject 205. reject_reason, orig_clordid and
 *               order_id echoed from the request, response_to (1 cancel,
 *               2 replace).
 *   MASS_CANCEL_REPORT OrderMassCancelReport 206. total_affected, side.
 *   BUSINESS_REJECT BusinessMessageReject 207. reject_reason, ref_cmd_type.
 *   ADDED       book change (not a report): the order now rests with
 *               last_qty displayed at price, leaves_qty open. flags
 *               DTX_EVF_REFILL for an iceberg replenishment (back of level).
 *               An order that rests straight after its NEW, or after the
 *               REPLACED that answers its cancel-replace request (not a
 *               self-trade decrement), nothing traded or canceled in between,
 *               gets no ADDED: that report carries DTX_EVF_ADDED and last_qty
 *               instead. ADDED is for an order that rests after its FILLs or
 *               self-trade events, for a triggered stop that rests (after
 *               TRIGGERED) and for refills. Book-building consumers treat
 *               both forms alike.
 *   TRIGGERED   (not a report) a stop order was triggered: stop_px, and the
 *               order now behaves as ord_type (Market or Limit) at price.
 *   STATUS      (not a report) instrument trading status changed: status.
 *   ADMIN_ACK, ADMIN_REJECT, ACCOUNT_REPORT, POSITION_REPORT, SESSION_REPORT,
 *   LIMIT_REPORT, RISK_PARAM_REPORT
 *               answers to role messages (150-199): clordid is the
 *               RequestID, ref_cmd_type the request's command type; the
 *               values sit in the int64 slots of dtx/admin.h
 *               (dtx_admin_ev_get), listed there per type.
 *
 * FILL also carries fee: the fee charged to the account for this fill
 * (settlement asset micro-units, negative = rebate), filled in by the core
 * from the risk module (0 when risk is off); it overlays the bytes 8-15 that
 * no FILL uses.
 *
 * Common header: type, session and account of the order's owner, security_id,
 * seq and ts of the command being processed, exec_id (unique, increasing, one
 * per event), order_id, clordid (the order's current ClOrdID, or the request's
 * ClOrdID for responses to cancel/replace/mass cancel requests).
 */
#ifndef DTX_EVENT_H
#define DTX_EVENT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dtx_event_type {
    DTX_EV_NONE = 0,
    DTX_EV_NEW = 1,
    DTX_EV_FILL = 2,
    DTX_EV_CANCELED = 3,
    DTX_EV_REPLACED = 4,
    DTX_EV_REJECT = 5,
    DTX_EV_CANCEL_REJECT = 6,
    DTX_EV_MASS_CANCEL_REPORT = 7,
    DTX_EV_BUSINESS_REJECT = 8,
    DTX_EV_ADDED = 9,
    DTX_EV_TRIGGERED = 10,
    DTX_EV_STATUS = 11,
    DTX_EV_ADMIN_ACK = 12,
    DTX_EV_ADMIN_REJECT = 13,
    DTX_EV_ACCOUNT_REPORT = 14,
    DTX_EV_POSITION_REPORT = 15,
    DTX_EV_SESSION_REPORT = 16,
    DTX_EV_LIMIT_REPORT = 17,
    DTX_EV_RISK_PARAM_REPORT = 18,
    DTX_EV_TYPE_COUNT
} dtx_event_type;

/* flags */
#define DTX_EVF_ON_BOOK 0x01u       /* the order was resting on the book */
#define DTX_EVF_PRIORITY_KEPT 0x02u /* REPLACED: time priority kept */
#define DTX_EVF_REFILL 0x04u        /* ADDED: iceberg replenishment */
#define DTX_EVF_SELF_TRADE 0x08u    /* REPLACED: self-trade decrement */
#define DTX_EVF_ADDED 0x10u         /* NEW, REPLACED: the order rests straight
                                       away, as ADDED would say (no ADDED follows) */

/* response_to of CANCEL_REJECT */
#define DTX_CXL_REJ_CANCEL 1
#define DTX_CXL_REJ_REPLACE 2

typedef struct dtx_event {
    /* 0 */
    uint8_t type;          /* dtx_event_type */
    uint8_t side;          /* dtx_side of the order (mass cancel: as requested) */
    uint8_t ord_type;      /* dtx_ord_type */
    uint8_t tif;           /* dtx_tif */
    uint8_t cancel_reason; /* dtx_cancel_reason (CANCELED) */
    uint8_t ord_status;    /* dtx_ord_status (FILL) */
    uint8_t aggressor;     /* FILL: 1 this order took liquidity */
    uint8_t flags;         /* DTX_EVF_* */
    /* 8 */
    union {
        struct {
            uint16_t reject_reason;  /* dtx_reject_reason */
            uint8_t response_to;     /* CANCEL_REJECT: 1 cancel, 2 replace */
            uint8_t exec_inst;       /* NEW: DTX_EXEC_* */
            uint8_t stp;             /* NEW: dtx_stp */
            uint8_t status;          /* STATUS: dtx_trading_status */
            uint8_t ref_cmd_type;    /* BUSINESS_REJECT: dtx_cmd_type of the command */
            uint8_t reserved0;
        };
        int64_t fee;                 /* FILL only: micro-units, see above */
    };
    /* 16 */
    uint16_t session;        /* session of the order's owner */
    uint16_t contra_session; /* FILL: session of the other side */
    uint32_t security_id;
    /* 24 */
    uint32_t account;        /* account of the order's owner */
    uint32_t contra_account; /* FILL: account of the other side */
    /* 32 */
    uint64_t seq;            /* seq of the command being processed */
    uint64_t ts;             /* ts of the command being processed */
    uint64_t exec_id;        /* unique per event, increasing */
    uint64_t order_id;       /* exchange OrderID, 0 when none was assigned */
    uint64_t clordid;
    union {
        uint64_t orig_clordid;    /* CANCELED, REPLACED, CANCEL_REJECT */
        uint64_t contra_order_id; /* FILL */
    };
    /* 80 */
    int64_t price;           /* PRICE9: order price, LastPx for FILL */
    int64_t order_qty;       /* OrderQty (total, filled included) */
    int64_t last_qty;        /* FILL: LastQty; ADDED: displayed quantity */
    int64_t leaves_qty;
    int64_t cum_qty;
    /* 120 */
    union {
        uint64_t trade_id;       /* FILL */
        int64_t stop_px;         /* NEW, TRIGGERED: PRICE9 */
        uint64_t total_affected; /* MASS_CANCEL_REPORT */
    };
} dtx_event;

_Static_assert(sizeof(dtx_event) == 128, "dtx_event is a 128-byte record");

/* Name of an event type ("NEW", "FILL", ...); "?" for an unknown value. */
const char *dtx_event_type_name(unsigned type);

#ifdef __cplusplus
}
#endif
#endif /* DTX_EVENT_H */
