/*
 * outbuf.c - the pending outbound bytes of a session-layer connection
 * (net/outbuf.h): appending, and writing them out through the transport's
 * write() callback. Both session layers (fixp_flow.c / fixp_session.c and
 * fix44_output.c / fix44_session.c) keep one dtx_outbuf per connection and
 * go through here, so partial writes and compaction are handled once.
 */
#include <string.h>

#include "net/outbuf.h"

int dtx_outbuf_put(dtx_outbuf *o, uint32_t cap, const void *p, size_t n)
{
    uint8_t *d = dtx_outbuf_reserve(o, cap, n);
    if (!d)
        return -1;
    memcpy(d, p, n);
    dtx_outbuf_commit(o, (uint32_t)n);
    return 0;
}

void dtx_outbuf_flush(dtx_outbuf *o, const dtx_session_callbacks *cb, uint32_t conn)
{
    while (o->len) {
        size_t n = cb->write(cb->ctx, conn, o->buf + o->head, o->len);
        if (n == 0)
            break; /* the transport is full: the rest waits for writable */
        if (n > o->len)
            n = o->len; /* a write() that claims more than it was given */
        o->head += (uint32_t)n;
        o->len -= (uint32_t)n;
    }
    if (!o->len)
        o->head = 0;
}
