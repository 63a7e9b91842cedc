/*
 * dtx/types.h - numbers, identities and enumerations shared by every module.
 *
 * The enumerations carry the numeric values of the wire protocol (schema 7001,
 * ../shared/design/PROTOCOL.md): a value read off the wire is stored as is, so
 * nothing is translated between the gateway, the engine and the reports.
 *
 * Prices on the wire and in commands/events are PRICE9: int64 with exponent -9.
 * Inside a book they are ticks. Quantities are whole contracts. Money is integer.
 */
#ifndef DTX_TYPES_H
#define DTX_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Null of PRICE9 fields (Price of a Market order, StopPx of a Limit order). */
#define DTX_PRICE_NULL INT64_MIN

/* Side (tag 54). */
enum dtx_side {
    DTX_SIDE_BUY = 1,
    DTX_SIDE_SELL = 2,
};

/* OrdType (tag 40). */
enum dtx_ord_type {
    DTX_ORD_MARKET = 1,
    DTX_ORD_LIMIT = 2,
    DTX_ORD_STOP = 3,
    DTX_ORD_STOP_LIMIT = 4,
};

/* TimeInForce (tag 59). */
enum dtx_tif {
    DTX_TIF_DAY = 0,
    DTX_TIF_GTC = 1,
    DTX_TIF_IOC = 3,
    DTX_TIF_FOK = 4,
    DTX_TIF_GTD = 6,
};

/* ExecInst bits. Any other bit set is InvalidField. */
#define DTX_EXEC_POST_ONLY 0x01u
#define DTX_EXEC_REDUCE_ONLY 0x02u
#define DTX_EXEC_VALID_MASK 0x03u

/* SelfTradePrevention (tag 7928). */
enum dtx_stp {
    DTX_STP_CANCEL_NEWEST = 0,
    DTX_STP_CANCEL_OLDEST = 1,
    DTX_STP_CANCEL_BOTH = 2,
    DTX_STP_DECREMENT_AND_CANCEL = 3,
};

/* OrdStatus as carried by ExecutionReportTrade. */
enum dtx_ord_status {
    DTX_STATUS_PARTIALLY_FILLED = 1,
    DTX_STATUS_FILLED = 2,
};

/* CancelReason of ExecutionReportCanceled. */
enum dtx_cancel_reason {
    DTX_CANCEL_CLIENT_REQUEST = 0,
    DTX_CANCEL_MASS_CANCEL = 1,
    DTX_CANCEL_ON_DISCONNECT = 2,
    DTX_CANCEL_UNFILLED = 3,
    DTX_CANCEL_SELF_TRADE = 4,
    DTX_CANCEL_RISK = 5,
    DTX_CANCEL_EXPIRED = 6,
    DTX_CANCEL_INSTRUMENT_HALTED = 7,
};

/* RejectReason (u16) of 204, 205 and 207. 0 means "no reject". */
enum dtx_reject_reason {
    DTX_REJ_NONE = 0,
    DTX_REJ_UNKNOWN_INSTRUMENT = 1,
    DTX_REJ_PRICE_NOT_ON_TICK = 2,
    DTX_REJ_QTY_OUT_OF_RANGE = 3,
    DTX_REJ_PRICE_OUTSIDE_BAND = 4,
    DTX_REJ_MAX_ORDER_QTY = 5,
    DTX_REJ_MAX_NOTIONAL = 6,
    DTX_REJ_INSUFFICIENT_MARGIN = 7,
    DTX_REJ_POSITION_LIMIT = 8,
    DTX_REJ_POST_ONLY_WOULD_TRADE = 9,
    DTX_REJ_REDUCE_ONLY_WOULD_INCREASE = 10,
    DTX_REJ_DUPLICATE_CLORDID = 11,
    DTX_REJ_UNKNOWN_ORDER = 12,
    DTX_REJ_THROTTLED = 13,
    DTX_REJ_INSTRUMENT_HALTED = 14,
    DTX_REJ_ACCOUNT_DISABLED = 15,
    DTX_REJ_FOK_NOT_FILLABLE = 16,
    DTX_REJ_NO_LIQUIDITY = 17,
    DTX_REJ_TOO_MANY_OPEN_ORDERS = 18,
    DTX_REJ_INVALID_FIELD = 19,
    DTX_REJ_NOT_AUTHORIZED = 20,
    DTX_REJ_AUDIT_UNAVAILABLE = 21, /* admin change: its audit record has no room */
};
#define DTX_REJ_MAX 21

/* TradingStatus of an instrument (SecurityStatus 305). */
enum dtx_trading_status {
    DTX_TRADING_OPEN = 1,
    DTX_TRADING_HALTED = 2,
    DTX_TRADING_CLOSED = 3,
};

/* InstrumentType (InstrumentDefinition 300). */
enum dtx_instrument_type {
    DTX_INSTR_PERPETUAL = 1,
    DTX_INSTR_FUTURE = 2,
    DTX_INSTR_OPTION = 3,
};

/* Names for logs and readable output; never NULL ("?" for an unknown value). */
const char *dtx_reject_reason_name(unsigned reason);
const char *dtx_cancel_reason_name(unsigned reason);
const char *dtx_side_name(unsigned side);
const char *dtx_ord_type_name(unsigned ord_type);
const char *dtx_tif_name(unsigned tif);
const char *dtx_stp_name(unsigned stp);

#ifdef __cplusplus
}
#endif
#endif /* DTX_TYPES_H */
