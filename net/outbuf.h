/*
 * net/outbuf.h - internal: a connection's pending outbound bytes, shared by
 * both session layers (FIXP in fixp_*.c, FIX 4.4 in fix44_*.c).
 *
 * One buffer per connection, reserved at creation (cap bytes, the layer's
 * send_buffer_bytes, kept in its config rather than here): the pending bytes
 * are buf[head, head + len). Appending compacts them to the front only when
 * the tail lacks room; dtx_outbuf_flush() offers them to the transport's
 * write() callback, which may take fewer (a partial write) or none (the
 * socket would block: the rest stays for the next call).
 *
 * No allocation, no system call: write() is the transport's (the gateway's
 * dtx_gateway_send queues the bytes in its own buffer).
 */
#ifndef DTX_NET_OUTBUF_H
#define DTX_NET_OUTBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dtx/session.h"

typedef struct dtx_outbuf {
    uint32_t head, len; /* pending bytes: buf[head, head + len) */
    uint8_t *buf;       /* cap bytes, owned by the layer's table */
} dtx_outbuf;

/* Bytes that can still be appended (after compaction) to a buffer of cap. */
static inline uint32_t dtx_outbuf_room(const dtx_outbuf *o, uint32_t cap)
{
    return cap - o->len;
}

/* Space for n bytes at the tail, compacting the pending bytes to the front
 * when the tail lacks room; NULL when n does not fit in cap at all. The bytes
 * count once dtx_outbuf_commit() is called. */
static inline uint8_t *dtx_outbuf_reserve(dtx_outbuf *o, uint32_t cap, size_t n)
{
    if (n > dtx_outbuf_room(o, cap))
        return NULL;
    if (o->head + o->len + n > cap) {
        memmove(o->buf, o->buf + o->head, o->len);
        o->head = 0;
    }
    return o->buf + o->head + o->len;
}

/* Counts n bytes written at what dtx_outbuf_reserve() returned. */
static inline void dtx_outbuf_commit(dtx_outbuf *o, uint32_t n)
{
    o->len += n;
}

/* Appends n bytes; -1 (nothing appended) when they do not fit in cap. */
int dtx_outbuf_put(dtx_outbuf *o, uint32_t cap, const void *p, size_t n);

/* Offers the pending bytes of connection conn to cb->write() until it has
 * taken them all or takes none; the buffer starts at its front again once
 * empty. */
void dtx_outbuf_flush(dtx_outbuf *o, const dtx_session_callbacks *cb, uint32_t conn);

#endif /* DTX_NET_OUTBUF_H */
