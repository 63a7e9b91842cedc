/*
 * fix44_codec.h - internal to net/: the FIX 4.4 tag-value framer, field
 * parser and writer shared by fix44_codec.c and fix44_session.c (and the
 * fix44 tests and fuzz target, which include it from the source tree).
 */
#ifndef DTX_NET_FIX44_CODEC_H
#define DTX_NET_FIX44_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/fix44.h"

#define FIX_SOH '\x01'
#define FIX_MAX_FIELDS 128u

/* dtx_fix44_frame() results */
enum {
    FIX_FRAME_NEED = 0,    /* a prefix of a message: wait for more bytes */
    FIX_FRAME_OK = 1,      /* *len bytes are one message, checksum right */
    FIX_FRAME_GARBLED = 2, /* drop *len bytes (bad BodyLength/CheckSum/framing) */
    FIX_FRAME_BAD_BEGIN = 3/* "8=" with a BeginString other than FIX.4.4 */
};

/* Finds the message at the start of p[0..n). See the enum. On GARBLED, *len
 * is at least 1 and leads to the next possible "8=FIX.4.4" start. */
int dtx_fix44_frame(const uint8_t *p, size_t n, size_t *len);

typedef struct fix_field {
    uint32_t tag;
    uint16_t off, len; /* value, from the start of the message */
} fix_field;

typedef struct fix_msg {
    const char *buf;   /* the whole message (8= ... 10=nnn SOH) */
    size_t len;
    char type[4];      /* MsgType 35, NUL-terminated (at most 3 chars) */
    uint32_t n;
    fix_field f[FIX_MAX_FIELDS];
} fix_msg;

/* Splits a framed message into fields (from 35, which must come first after
 * 9, up to 10). Returns 0, or -1 when a field is not tag=value, a tag is
 * not a positive number, a value is empty, MsgType is missing or longer
 * than 3, or there are more than FIX_MAX_FIELDS fields. */
int dtx_fix44_parse(const uint8_t *p, size_t len, fix_msg *m);

/* First value of tag: pointer and *len, or NULL when absent. */
const char *dtx_fix44_get(const fix_msg *m, uint32_t tag, size_t *len);

/* Tag as an unsigned decimal (at most 19 digits): 1 found and valid, 0
 * absent, -1 present but not a number. */
int dtx_fix44_get_u64(const fix_msg *m, uint32_t tag, uint64_t *out);

/* Output: fields appended to a bounded buffer; overflow is sticky. A field
 * with an empty value is left out (FIX has no empty fields). */
typedef struct fix_writer {
    char *p;
    size_t len, cap;
    int overflow;
} fix_writer;

void dtx_fix44_put(fix_writer *w, uint32_t tag, const char *v, size_t len);
void dtx_fix44_put_str(fix_writer *w, uint32_t tag, const char *v);
void dtx_fix44_put_u64(fix_writer *w, uint32_t tag, uint64_t v);
void dtx_fix44_put_i64(fix_writer *w, uint32_t tag, int64_t v);
void dtx_fix44_put_char(fix_writer *w, uint32_t tag, char c);
void dtx_fix44_put_price(fix_writer *w, uint32_t tag, int64_t price9);
void dtx_fix44_put_time(fix_writer *w, uint32_t tag, uint64_t ns);

/* Wraps body (starting with 35=) as "8=FIX.4.4|9=len|" body "10=sum|" into
 * out. Returns the message length, or 0 when it does not fit in cap. */
size_t dtx_fix44_wrap(char *out, size_t cap, const char *body, size_t body_len);

/* Lowercase hex of exactly 2*n characters to bytes; 0 or -1. */
int dtx_fix44_unhex(const char *s, size_t len, uint8_t *out, size_t n);

#endif
