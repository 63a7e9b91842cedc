/*
 * names.c - readable names for the wire enumerations, for logs, tools and
 * test output. Never NULL: an unknown value is "?".
 */
#include "dtx/event.h"
#include "dtx/types.h"

#define NAME_OF(table, v) ((v) < sizeof(table) / sizeof(table[0]) && (table)[v] ? (table)[v] : "?")

const char *dtx_reject_reason_name(unsigned reason)
{
    static const char *const names[] = {
        [DTX_REJ_NONE] = "None",
        [DTX_REJ_UNKNOWN_INSTRUMENT] = "UnknownInstrument",
        [DTX_REJ_PRICE_NOT_ON_TICK] = "PriceNotOnTick",
        [DTX_REJ_QTY_OUT_OF_RANGE] = "QtyOutOfRange",
        [DTX_REJ_PRICE_OUTSIDE_BAND] = "PriceOutsideBand",
        [DTX_REJ_MAX_ORDER_QTY] = "MaxOrderQty",
        [DTX_REJ_MAX_NOTIONAL] = "MaxNotional",
        [DTX_REJ_INSUFFICIENT_MARGIN] = "InsufficientMargin",
        [DTX_REJ_POSITION_LIMIT] = "PositionLimit",
        [DTX_REJ_POST_ONLY_WOULD_TRADE] = "PostOnlyWouldTrade",
        [DTX_REJ_REDUCE_ONLY_WOULD_INCREASE] = "ReduceOnlyWouldIncrease",
        [DTX_REJ_DUPLICATE_CLORDID] = "DuplicateClOrdID",
        [DTX_REJ_UNKNOWN_ORDER] = "UnknownOrder",
        [DTX_REJ_THROTTLED] = "Throttled",
        [DTX_REJ_INSTRUMENT_HALTED] = "InstrumentHalted",
        [DTX_REJ_ACCOUNT_DISABLED] = "AccountDisabled",
        [DTX_REJ_FOK_NOT_FILLABLE] = "FOKNotFillable",
        [DTX_REJ_NO_LIQUIDITY] = "NoLiquidity",
        [DTX_REJ_TOO_MANY_OPEN_ORDERS] = "TooManyOpenOrders",
        [DTX_REJ_INVALID_FIELD] = "InvalidField",
        [DTX_REJ_NOT_AUTHORIZED] = "NotAuthorized",
        [DTX_REJ_AUDIT_UNAVAILABLE] = "AuditUnavailable",
    };
    return NAME_OF(names, reason);
}

const char *dtx_cancel_reason_name(unsigned reason)
{
    static const char *const names[] = {
        [DTX_CANCEL_CLIENT_REQUEST] = "ClientRequest",
        [DTX_CANCEL_MASS_CANCEL] = "MassCancel",
        [DTX_CANCEL_ON_DISCONNECT] = "CancelOnDisconnect",
        [DTX_CANCEL_UNFILLED] = "Unfilled",
        [DTX_CANCEL_SELF_TRADE] = "SelfTradePrevention",
        [DTX_CANCEL_RISK] = "Risk",
        [DTX_CANCEL_EXPIRED] = "Expired",
        [DTX_CANCEL_INSTRUMENT_HALTED] = "InstrumentHalted",
    };
    return NAME_OF(names, reason);
}

const char *dtx_side_name(unsigned side)
{
    static const char *const names[] = {[DTX_SIDE_BUY] = "Buy", [DTX_SIDE_SELL] = "Sell"};
    return NAME_OF(names, side);
}

const char *dtx_ord_type_name(unsigned ord_type)
{
    static const char *const names[] = {
        [DTX_ORD_MARKET] = "Market",
        [DTX_ORD_LIMIT] = "Limit",
        [DTX_ORD_STOP] = "Stop",
        [DTX_ORD_STOP_LIMIT] = "StopLimit",
    };
    return NAME_OF(names, ord_type);
}

const char *dtx_tif_name(unsigned tif)
{
    static const char *const names[] = {
        [DTX_TIF_DAY] = "Day", [DTX_TIF_GTC] = "GTC", [DTX_TIF_IOC] = "IOC",
        [DTX_TIF_FOK] = "FOK", [DTX_TIF_GTD] = "GTD",
    };
    return NAME_OF(names, tif);
}

const char *dtx_stp_name(unsigned stp)
{
    static const char *const names[] = {
        [DTX_STP_CANCEL_NEWEST] = "CancelNewest",
        [DTX_STP_CANCEL_OLDEST] = "CancelOldest",
        [DTX_STP_CANCEL_BOTH] = "CancelBoth",
        [DTX_STP_DECREMENT_AND_CANCEL] = "DecrementAndCancel",
    };
    return NAME_OF(names, stp);
}

const char *dtx_event_type_name(unsigned type)
{
    static const char *const names[] = {
        [DTX_EV_NEW] = "NEW",
        [DTX_EV_FILL] = "FILL",
        [DTX_EV_CANCELED] = "CANCELED",
        [DTX_EV_REPLACED] = "REPLACED",
        [DTX_EV_REJECT] = "REJECT",
        [DTX_EV_CANCEL_REJECT] = "CANCEL_REJECT",
        [DTX_EV_MASS_CANCEL_REPORT] = "MASS_CANCEL_REPORT",
        [DTX_EV_BUSINESS_REJECT] = "BUSINESS_REJECT",
        [DTX_EV_ADDED] = "ADDED",
        [DTX_EV_TRIGGERED] = "TRIGGERED",
        [DTX_EV_STATUS] = "STATUS",
        [DTX_EV_ADMIN_ACK] = "ADMIN_ACK",
        [DTX_EV_ADMIN_REJECT] = "ADMIN_REJECT",
        [DTX_EV_ACCOUNT_REPORT] = "ACCOUNT_REPORT",
        [DTX_EV_POSITION_REPORT] = "POSITION_REPORT",
        [DTX_EV_SESSION_REPORT] = "SESSION_REPORT",
        [DTX_EV_LIMIT_REPORT] = "LIMIT_REPORT",
        [DTX_EV_RISK_PARAM_REPORT] = "RISK_PARAM_REPORT",
    };
    return NAME_OF(names, type);
}
