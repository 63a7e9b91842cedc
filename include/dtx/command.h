/*
 * dtx/command.h - the fixed-size command record: what the core consumes.
 *
 * Every input to the core (orders from sessions, time from the sequencer, and in
 * later issues risk/admin changes and deposits) is one 128-byte dtx_command. The
 * sequencer stamps seq and ts before the core sees it; the stream of stamped
 * commands is the input journal, and replaying it rebuilds every book exactly.
 * The record is plain old data, little-endian on every supported host, and
 * written to files as is (see dtx/replay.h for the file format).
 *
 * Fields not used by a command type must be zero, except Price and StopPx,
 * whose "not given" value is DTX_PRICE_NULL as on the wire.
 */
#ifndef DTX_COMMAND_H
#define DTX_COMMAND_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dtx_cmd_type {
    DTX_CMD_NONE = 0,
    /* NewOrderSingle 100. */
    DTX_CMD_NEW_ORDER = 1,
    /* OrderCancelRequest 101: order named by order_id, else orig_clordid. */
    DTX_CMD_CANCEL = 2,
    /* OrderCancelReplaceRequest 102: price (null keeps), qty (new total incl.
     * filled), display_qty. */
    DTX_CMD_REPLACE = 3,
    /* OrderMassCancelRequest 103: security_id 0 = all, side 0 = both. */
    DTX_CMD_MASS_CANCEL = 4,
    /* Time from the sequencer: expires Day and GTD orders with expire time
     * <= ts. Only ts (and seq) are read. */
    DTX_CMD_TIME = 5,
    /* Operator: set an instrument's trading status (status field, values of
     * enum dtx_trading_status). Halted rejects new orders and replaces; Closed
     * also cancels every working order (CancelReason InstrumentHalted). */
    DTX_CMD_INSTRUMENT_STATUS = 6,
    /* Session ended with cancel-on-disconnect: cancels the working orders
     * placed by (account, session) (CancelReason CancelOnDisconnect). */
    DTX_CMD_CANCEL_ON_DISCONNECT = 7,
    /* Role messages 150-199 (docs/admin.md), carried out by the core's admin
     * step (dtx/admin.h), never by the engine directly. Every one names its
     * request by clordid (RequestID) and its sender by session, account (of
     * the key) and key_id; the engine-level effects (cancels, status) are
     * stamped with the admin command's own seq and ts. */
    /* Risk (oracle for the mark): one parameter or limit of dtx/risk.h:
     * param (dtx_risk_param), value, target_account (an account or
     * DTX_RISK_DEFAULT_ACCOUNT) and security_id where the parameter has them. */
    DTX_CMD_RISK_SET = 8,
    /* Risk: kill switch of target_account; status 1 = on (block, cancel
     * every order with CancelReason Risk), 0 = off. */
    DTX_CMD_KILL_SWITCH = 9,
    /* Risk: collateral in (DEPOSIT) or out (WITHDRAW) of target_account;
     * value = amount in micro-units. */
    DTX_CMD_DEPOSIT = 10,
    DTX_CMD_WITHDRAW = 11,
    /* Operator: trading status of security_id (status: dtx_trading_status). */
    DTX_CMD_ADMIN_STATUS = 12,
    /* Oracle: mark price (price) and index price (stop_px, or null) of
     * security_id. */
    DTX_CMD_MARK_PRICE = 13,
    /* Risk queries (change nothing; LIMIT_QUERY below too): the account
     * report of target_account;
     * the value (1..64) accounts nearest to maintenance margin. */
    DTX_CMD_ACCOUNT_QUERY = 14,
    DTX_CMD_MARGIN_WATCH = 15,
    /* Risk query: the limits of target_account (or DTX_RISK_DEFAULT_ACCOUNT,
     * the defaults) for security_id, and that instrument's risk parameters
     * (security_id 0: account-wide limits only). */
    DTX_CMD_LIMIT_QUERY = 16,
    DTX_CMD_TYPE_COUNT
} dtx_cmd_type;

typedef struct dtx_command {
    uint16_t type;         /* dtx_cmd_type */
    uint16_t session;      /* gateway session that sent it (reports go back there) */
    uint32_t account;      /* account index the session is authenticated for */
    uint64_t seq;          /* global sequence number, from the sequencer */
    uint64_t ts;           /* sequencer timestamp, ns since the Unix epoch */
    /* Order fields (NEW_ORDER, CANCEL, REPLACE, MASS_CANCEL); wire semantics. */
    uint32_t security_id;  /* SecurityID; 0 = not given (cancel/replace/mass) */
    uint8_t side;          /* dtx_side; 0 = not given (cancel/replace/mass) */
    uint8_t ord_type;      /* dtx_ord_type */
    uint8_t tif;           /* dtx_tif */
    uint8_t exec_inst;     /* DTX_EXEC_* bits */
    uint8_t stp;           /* dtx_stp */
    uint8_t status;        /* INSTRUMENT_STATUS: dtx_trading_status */
    uint8_t reserved[6];   /* zero */
    uint64_t clordid;      /* ClOrdID of this request */
    uint64_t orig_clordid; /* OrigClOrdID (cancel/replace) */
    uint64_t order_id;     /* OrderID (cancel/replace); 0 = not given */
    int64_t price;         /* PRICE9 or DTX_PRICE_NULL */
    int64_t stop_px;       /* PRICE9 or DTX_PRICE_NULL */
    int64_t qty;           /* OrderQty, contracts */
    int64_t display_qty;   /* DisplayQty; 0 = all shown */
    uint64_t expire_time;  /* ExpireTime (GTD), ns since the Unix epoch */
    /* Admin fields (DTX_CMD_RISK_SET .. DTX_CMD_MARGIN_WATCH), zero otherwise. */
    uint16_t param;          /* RISK_SET: dtx_risk_param */
    uint16_t reserved2;      /* zero */
    uint32_t key_id;         /* the sending key: first 4 bytes of its X
                                coordinate, big-endian (audit's "key") */
    int64_t value;           /* RISK_SET: new value; DEPOSIT/WITHDRAW: amount;
                                MARGIN_WATCH: how many accounts */
    uint32_t target_account; /* the account an admin command acts on */
    uint8_t pad[4];          /* zero; room for later fields */
} dtx_command;

_Static_assert(sizeof(dtx_command) == 128, "dtx_command is a 128-byte record");

/* A command with every field zero and both PRICE9 fields null. */
static inline dtx_command dtx_command_blank(uint16_t type)
{
    dtx_command c = {0};
    c.type = type;
    c.price = INT64_MIN;
    c.stop_px = INT64_MIN;
    return c;
}

#ifdef __cplusplus
}
#endif
#endif /* DTX_COMMAND_H */
