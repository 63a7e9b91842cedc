/*
 * dtx/sofh.h - SOFH framing and the SBE codecs of order entry (PROTOCOL.md).
 *
 * A frame is: SOFH (message length u32 big-endian, counting the whole frame;
 * encoding type u16 big-endian, 0xEB50), the SBE header (blockLength,
 * templateId, schemaId, version: u16 little-endian each), the root block and
 * var data. dtx knows schema 2748 (FIXP 1.1 session, version 0) and 7001
 * (application, version 1); the field layouts come from the headers that
 * tools/sbegen.py generates from schemas/ (<dtx/fixp_2748.h>,
 * <dtx/sbe_7001.h>).
 *
 * The stream reader is for the server and for clients alike: it takes bytes
 * as a transport delivers them and yields whole frames, checking on the way
 * everything PROTOCOL.md makes a protocol error at the framing level. The
 * application codecs turn 100-103 into dtx_command records and dtx_event
 * records into 200-207. Nothing here allocates, prints or reads a clock.
 */
#ifndef DTX_SOFH_H
#define DTX_SOFH_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/command.h"
#include "dtx/event.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DTX_SOFH_SIZE 6u
#define DTX_SBE_HEADER_BYTES 8u
#define DTX_FRAME_MIN 14u    /* SOFH + SBE header */
#define DTX_FRAME_MAX 4096u  /* largest frame accepted, SOFH included */
#define DTX_SOFH_ENCODING_SBE_LE 0xEB50u
#define DTX_SCHEMA_FIXP 2748u
#define DTX_SCHEMA_APP 7001u

/* A whole frame, as the reader or dtx_sofh_decode() found it. body points
 * into the caller's bytes or into the reader's buffer and is valid until the
 * next call on the same reader. */
typedef struct dtx_frame {
    const uint8_t *body;   /* root block, then var data */
    uint32_t body_len;     /* frame_len - 14 */
    uint32_t frame_len;    /* SOFH message length */
    uint16_t block_length; /* from the SBE header (checked <= body_len) */
    uint16_t template_id;
    uint16_t schema_id;    /* DTX_SCHEMA_FIXP or DTX_SCHEMA_APP */
    uint16_t version;
    uint8_t known;         /* 1: a template of its schema (root block checked);
                              0: unknown template of schema 7001 (answered
                              BusinessMessageReject by the session) */
} dtx_frame;

/* Room for a protocol error's reason (it is sent in Terminate.Reason). */
#define DTX_SOFH_REASON_MAX 96

/*
 * Decodes the frame at the start of buf[0..len).
 * Returns the frame length (> 0) with *f filled when a whole frame is there;
 * 0 when more bytes are needed (nothing wrong so far); -1 on a protocol error,
 * with a NUL-terminated reason in reason[0..DTX_SOFH_REASON_MAX): length
 * under 14 or over 4096, encoding type not 0xEB50, unknown schema, unknown
 * template of schema 2748, blockLength below the root block of the
 * message's version, blockLength beyond the frame.
 * Checks only what is there: a SOFH with a bad length or encoding type is an
 * error as soon as its 6 bytes are.
 */
int dtx_sofh_decode(const uint8_t *buf, size_t len, dtx_frame *f, char *reason);

/* Incremental reader of one byte stream; holds at most one partial frame. */
typedef struct dtx_sofh_reader {
    uint32_t have; /* bytes of a partial frame in buf */
    uint8_t buf[DTX_FRAME_MAX];
} dtx_sofh_reader;

static inline void dtx_sofh_reader_init(dtx_sofh_reader *r) { r->have = 0; }

/*
 * Looks at the next frame of the stream: the reader's partial frame
 * followed by data[0..len).
 * Returns 1 with *f set and *used = the bytes of data the frame takes: the
 * frame is not consumed yet; after handling it call
 * dtx_sofh_reader_consume() and advance data by *used (or, to handle it
 * later, do neither and pass the same bytes again). Returns 0 when data ends
 * inside a frame: all len bytes are kept in the reader (*used = len).
 * Returns -1 on a protocol error (reason as for dtx_sofh_decode()); the
 * stream cannot be read further.
 */
int dtx_sofh_reader_peek(dtx_sofh_reader *r, const uint8_t *data, size_t len,
                         dtx_frame *f, size_t *used, char *reason);

/* Consumes the frame the last dtx_sofh_reader_peek() returned. */
static inline void dtx_sofh_reader_consume(dtx_sofh_reader *r) { r->have = 0; }

/* Writes SOFH and SBE header (14 bytes) for a message whose root block and
 * var data take body_len bytes. Returns the frame length. */
uint32_t dtx_sofh_put_headers(uint8_t *buf, uint32_t body_len, uint16_t block_length,
                              uint16_t template_id, uint16_t schema_id, uint16_t version);

/*
 * Decodes a client application message (NewOrderSingle 100,
 * OrderCancelRequest 101, OrderCancelReplaceRequest 102,
 * OrderMassCancelRequest 103; schema 7001) into cmd: type and order fields
 * (PRICE9 as on the wire, null INT64_MIN kept; fields the message does not
 * carry are zero, Price/StopPx null). session, account, seq and ts are left
 * zero for the caller.
 * Returns 0 when the command may go to the core; DTX_REJ_INVALID_FIELD when a
 * reserved byte is not zero (cmd is filled all the same, so the reject can
 * echo ClOrdID and the order's names); -1 when f is not one of 100-103.
 */
int dtx_sbe_decode_order(const dtx_frame *f, dtx_command *cmd);

/*
 * Decodes a role message (150-165, docs/admin.md) into cmd: type
 * DTX_CMD_RISK_SET .. DTX_CMD_LIMIT_QUERY with clordid = RequestID and the
 * admin fields of dtx/command.h; SessionListRequest 161 gives type
 * DTX_CMD_NONE (the gateway answers it itself). *role is the one role that
 * may send it (a dtx_session_role value: 3 risk, 4 operator, 5 oracle).
 * session, account and key_id are left zero for the caller. Returns 0,
 * DTX_REJ_INVALID_FIELD (a reserved byte not zero, or a LimitType, RiskParam
 * or flag out of range; cmd and *role filled all the same), or -1 when f is
 * not a role message.
 */
int dtx_sbe_decode_admin(const dtx_frame *f, dtx_command *cmd, unsigned *role);

/* Template id (200-207, 180-186) of the report of an event; 0 for events
 * that are not reports (ADDED, TRIGGERED, STATUS, NONE). */
uint16_t dtx_sbe_report_template(const dtx_event *ev);

/* Template id (100-103) that a command type came from, 0 for other types. */
uint16_t dtx_sbe_cmd_template(unsigned cmd_type);

/*
 * Encodes the report of ev as one whole frame (SOFH included) in buf.
 * TransactTime is ev->ts, Text (204, 205, 207, 181) the reject reason's
 * name, Fee ev->fee (micro-units) x 1000. Admin answers (ADMIN_ACK ..
 * RISK_PARAM_REPORT) become 180-186 (dtx/admin.h has their fields). For BusinessMessageReject, RefSeqNum is ref_seq and RefTemplateID
 * ref_template, or the template of ev->ref_cmd_type when ref_template is 0.
 * Returns the frame length; 0 when ev is not a report or cap is too small.
 * Longest frame: DTX_REPORT_FRAME_MAX.
 */
size_t dtx_sbe_encode_report(uint8_t *buf, size_t cap, const dtx_event *ev,
                             uint64_t ref_seq, uint16_t ref_template);
#define DTX_REPORT_FRAME_MAX (14u + 88u + 2u + 255u)

#ifdef __cplusplus
}
#endif
#endif /* DTX_SOFH_H */
