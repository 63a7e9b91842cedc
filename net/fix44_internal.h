/*
 * fix44_internal.h - what the three files of the FIX 4.4 session layer share:
 * the layer's tables (sessions, connections, stored out-records, ClOrdIDs,
 * orders), their constants, and the few functions one file calls in another.
 *
 *   fix44_session.c  creation, connection life, Logon, session messages,
 *                    input framing, timers, inspection;
 *   fix44_output.c   the outbound store: every message stored, encoded,
 *                    written by dtx_fix44_pump(), resent or gap-filled;
 *   fix44_app.c      the application mapping: instruments, the ClOrdID
 *                    table, orders and AvgPx, D/F/G/q into commands, core
 *                    events into reports.
 *
 * Private to net/: nothing here is API (that is dtx/fix44.h). The functions
 * shared across the files carry the dtx_fix44_ prefix; everything else stays
 * static in its file.
 */
#ifndef DTX_NET_FIX44_INTERNAL_H
#define DTX_NET_FIX44_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/fix44.h"
#include "dtx/types.h"
#include "net/cod.h"
#include "net/fix44_codec.h"
#include "net/outbuf.h"
#include "net/throttle.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define IN_CAP (2u * DTX_FIX44_MSG_MAX)
#define WIRE_MAX (DTX_FIX44_MSG_MAX + 64u)
#define COMP_ID "DTX"
#define CLORD_TOP (1ull << 63)

/* What a stored out-record is (kind). */
enum {
    K_NONE = 0,   /* never written */
    K_EVENT,      /* a report from the core, or a local reject as one */
    K_BMR,        /* local BusinessMessageReject j */
    K_MASS_REJ,   /* local OrderMassCancelReport r, MassCancelResponse 0 */
    K_LOGON,      /* session messages: gap-filled on resend */
    K_HEARTBEAT,
    K_TESTREQ,
    K_LOGOUT,
    K_RESENDREQ,
};

typedef struct fix_stored {
    dtx_event ev;
    int64_t avg_px;
    uint64_t sent_ns;   /* first SendingTime, for OrigSendingTime 122 */
    uint64_t ref_seq;   /* j: RefSeqNum; ResendRequest: BeginSeqNo */
    uint8_t kind;
    uint8_t aux;        /* j: BusinessRejectReason; r: 530; Logon: reset */
    char ord_status;    /* 9: OrdStatus */
    char ref_type[4];   /* j: RefMsgType */
    char symbol[17];
    char text[96];
    char cl[DTX_FIX44_CLORDID_MAX + 1];  /* 11 ClOrdID, resolved when stored */
    char ocl[DTX_FIX44_CLORDID_MAX + 1]; /* 41 OrigClOrdID */
} fix_stored;

/* One ClOrdID string of a session (see the invariants in fix44_app.c). */
typedef struct fclord {
    uint64_t held;      /* F, G in flight: the entry its 41 names, which it
                           holds (one reference) until its answer; 0 none */
    uint32_t refs;      /* orders working and requests in flight naming it */
    uint32_t next_free; /* free: the next free entry + 1, 0 = none */
    uint16_t gen;       /* bumped when freed (15 bits used) */
    uint8_t used;
    uint8_t aux;        /* q: MassCancelRequestType */
    char ost;           /* the OrdStatus last reported for the order of this
                           name (0 none), for an OrderCancelReject's 39 */
    char s[DTX_FIX44_CLORDID_MAX + 1];
    char orig[DTX_FIX44_CLORDID_MAX + 1]; /* F, G: OrigClOrdID (41) as sent, echoed
                                             by the OrderCancelReject */
} fclord;

typedef struct fsess {
    uint8_t used;
    uint8_t role;
    uint8_t flags;        /* DTX_KEY_* of the key */
    uint8_t pub[33];
    char sender[DTX_FIX44_COMPID_MAX + 1];
    uint32_t account;
    int32_t conn;
    uint64_t next_out, next_in;
    uint64_t last_logon_ns;
    dtx_bucket throttle;  /* orders D, F, G, q (net/throttle.h) */
    uint32_t n_clord;     /* entries ever taken (high-water mark) */
    uint32_t clord_free;  /* first free entry + 1, 0 = none below n_clord */
    uint32_t clord_live;  /* entries in use */
    fclord *clord;        /* max_clordids entries */
    uint32_t *clord_hash; /* entry + 1, 0 empty; linear probing */
    fix_stored *store;
} fsess;

typedef struct fconn {
    uint8_t state;        /* dtx_fix44_conn_state */
    uint8_t test_req_sent;
    uint8_t rs_active;
    int32_t sess;
    uint32_t hb_ms;
    uint64_t last_rx, last_tx, deadline;
    uint64_t gap_until;   /* an inbound gap's ResendRequest is outstanding
                             while next_in <= gap_until */
    uint64_t rs_next, rs_end; /* resend range still to write [next, end) */
    uint64_t wr_next;     /* next MsgSeqNum to write live */
    uint32_t in_len;
    uint8_t *in;
    dtx_outbuf out;       /* send buffer (net/outbuf.h) */
} fconn;

typedef struct ford {
    __int128 notional; /* sum of LastPx x LastQty, PRICE9 x contracts */
    uint64_t order_id; /* 0 = free */
    int64_t cum;
    char status;
} ford;

typedef struct finstr {
    uint32_t id;
    char sym[17];
} finstr;

struct dtx_fix44 {
    dtx_fix44_config cfg;
    dtx_session_callbacks cb;
    finstr *instr;
    fsess *sess;
    fconn *conns;
    uint8_t *in_mem, *out_mem;
    fix_stored *store_mem;
    fclord *clord_mem;
    uint32_t *hash_mem;
    uint32_t hash_mask;
    ford *orders;
    uint32_t orders_mask;
    dtx_cod cod;          /* cancel-on-disconnect owed, per session slot */
    uint64_t store_mask;
    dtx_fix44_stats st;
    char body[DTX_FIX44_MSG_MAX];
    char wire[WIRE_MAX];
};

/* app handling results */
enum { R_OK = 0, R_RETRY = 1, R_CLOSED = 2 };

/* ---- fix44_output.c ---------------------------------------------------------------- */

/* Offers conn ci's pending bytes to write(). */
void dtx_fix44_flush(dtx_fix44 *f, uint32_t ci);
/* Appends n bytes to conn's send buffer; -1 when they do not fit. */
int dtx_fix44_out_put(dtx_fix44 *f, fconn *c, const char *p, size_t n, uint64_t now);
/* Writes what conn ci owes (resend range, then live); -1 when it was ended. */
int dtx_fix44_pump(dtx_fix44 *f, uint32_t ci, uint64_t now);
/* Stores rec under the session's next MsgSeqNum and writes it when logged on. */
void dtx_fix44_store_out(dtx_fix44 *f, uint32_t slot, const fix_stored *rec, uint64_t now);
/* store_out of a session message of kind (K_HEARTBEAT ...) with text. */
void dtx_fix44_store_admin(dtx_fix44 *f, uint32_t slot, uint8_t kind, const char *text,
                           uint64_t now);

/* ---- fix44_session.c --------------------------------------------------------------- */

/* Ends conn ci (cancel-on-disconnect owed when its key asks); call_close:
 * flush first and ask the transport to close. */
void dtx_fix44_conn_end(dtx_fix44 *f, uint32_t ci, uint64_t now, int call_close);

/* ---- fix44_app.c ------------------------------------------------------------------- */

/* Copies the ClOrdID string of id into out (21 bytes): "" when id is not ours. */
void dtx_fix44_clord_copy(const dtx_fix44 *f, uint64_t id, char *out);
/* Local j: BusinessMessageReject for message seq of type. */
void dtx_fix44_local_bmr(dtx_fix44 *f, uint32_t slot, uint64_t seq, const char *type,
                         uint8_t reason, const char *text, uint64_t now);
/* D, F, G or q at MsgSeqNum seq (the expected one) on ACTIVE conn ci: R_OK,
 * R_RETRY (ring full, nothing changed) or R_CLOSED. */
int dtx_fix44_on_app(dtx_fix44 *f, uint32_t ci, const fix_msg *m, uint64_t seq, uint64_t now);

#endif
