/*
 * dtx/gateway.h - the gateway thread's kernel-TCP transport: one epoll loop
 * over a listening socket and up to 65535 connections, the command ring to
 * the core and the event ring back.
 *
 * The gateway owns sockets, never protocol: what the bytes mean is its
 * handler's business (the FIXP session layer, dtx/session.h, in dtx-engine; a
 * test's own handler elsewhere). The loop, in the manner of a DPDK lcore loop:
 *
 *   drain a burst of events from the core        -> handler.event()
 *   read ready connections (edge-triggered)      -> handler.bytes()
 *   flush connections' output buffers            (one send() per connection)
 *   every tick_ms                                -> handler.tick()
 *   wait: epoll_wait, woken by sockets and by the rings' eventfd
 *
 * Connections live in a table reserved at creation: per connection an input
 * buffer (bytes the handler has not taken yet) and a bounded output buffer.
 * dtx_gateway_send() takes what fits and says how much; the handler keeps the
 * rest (dtx/session.h's write() contract) and is told by handler.writable()
 * when room returns. Back-pressure from the core: when dtx_gateway_submit()
 * finds the command ring full, the handler returns fewer bytes than it was
 * given; the gateway keeps them, stops reading sockets, and offers them again
 * once the ring has room. Nothing is dropped.
 *
 * A connection is named by its slot, conn in [0, max_connections).
 * Waiting follows the configured strategy: block sleeps in epoll_wait (the
 * core writes the gateway's eventfd when it publishes events or frees
 * command slots while the gateway sleeps); spin-yield and busy-spin poll with
 * a zero timeout.
 *
 * Threads: dtx_gateway_run() on one thread; every function a handler calls
 * (send, submit, close) only from inside handler callbacks on that thread;
 * dtx_gateway_close_input(), dtx_gateway_stop(), dtx_gateway_port() and
 * dtx_gateway_stats_get() from any thread.
 */
#ifndef DTX_GATEWAY_H
#define DTX_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/command.h"
#include "dtx/error.h"
#include "dtx/event.h"
#include "dtx/ring.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dtx_gateway dtx_gateway;

/* What runs on top of the sockets. A NULL callback does nothing (bytes: all
 * taken and discarded). now_ns is CLOCK_REALTIME in ns since the epoch. */
typedef struct dtx_gateway_handler {
    void *ctx;
    /* A connection was accepted into slot conn. Non-zero refuses it (closed). */
    int (*open)(void *ctx, uint32_t conn, uint64_t now_ns);
    /* Bytes read from conn. Returns how many it took (the rest is offered
     * again later, first). */
    size_t (*bytes)(void *ctx, uint32_t conn, const uint8_t *data, size_t len,
                    uint64_t now_ns);
    /* conn's output buffer has room again after a send that took less. */
    void (*writable)(void *ctx, uint32_t conn, uint64_t now_ns);
    /* conn ended from the peer's side (EOF, reset) or at shutdown. Not called
     * for connections the handler closed itself. */
    void (*closed)(void *ctx, uint32_t conn, uint64_t now_ns);
    /* Every tick_ms. */
    void (*tick)(void *ctx, uint64_t now_ns);
    /* One event from the core, in order. */
    void (*event)(void *ctx, const dtx_event *ev, uint64_t now_ns);
} dtx_gateway_handler;

typedef struct dtx_gateway_config {
    const char *listen_addr;   /* IPv4 address, e.g. "127.0.0.1" */
    uint16_t port;             /* 0 = any free port; see dtx_gateway_port() */
    uint32_t max_connections;  /* 1..65535 */
    uint32_t in_buffer_bytes;  /* per connection, >= 1024 [16384 when 0] */
    uint32_t out_buffer_bytes; /* per connection, >= 1024 [65536 when 0] */
    uint32_t tick_ms;          /* handler.tick period [10 when 0] */
    dtx_ring *commands;        /* gateway -> core; the gateway is its producer */
    dtx_ring *events;          /* core -> gateway; the gateway is its consumer */
    dtx_wait_strategy wait;
    dtx_gateway_handler handler;
    /* A second listening socket (dtx-engine's FIX 4.4 port) when
     * listen2_addr is set: its connections share the table and the handler,
     * which tells them apart with dtx_gateway_conn_listener(). */
    const char *listen2_addr;  /* IPv4 address, NULL = no second listener */
    uint16_t port2;            /* 0 = any free port; see dtx_gateway_port2() */
} dtx_gateway_config;

/*
 * Creates the gateway: reserves the connection table and buffers, binds and
 * listens (so the port is known at once), creates the epoll set and the wake
 * eventfd and attaches it to both rings. Returns NULL with the dtx_error
 * message naming the problem ("bind 127.0.0.1:7001: Address already in use").
 */
dtx_gateway *dtx_gateway_create(const dtx_gateway_config *cfg);

/* Closes every socket and frees everything. NULL is accepted. */
void dtx_gateway_destroy(dtx_gateway *gw);

/* Replaces the handler (before the thread starts). */
void dtx_gateway_set_handler(dtx_gateway *gw, const dtx_gateway_handler *h);

/* The port listened on (the chosen one when the configuration said 0). */
uint16_t dtx_gateway_port(const dtx_gateway *gw);

/* The second listener's port, 0 when there is none. */
uint16_t dtx_gateway_port2(const dtx_gateway *gw);

/* Which listener accepted conn: 0 the first, 1 the second. For the handler,
 * on the gateway thread, while conn is open. */
int dtx_gateway_conn_listener(const dtx_gateway *gw, uint32_t conn);

/* Thread body (pthread signature). Returns NULL after dtx_gateway_stop(). */
void *dtx_gateway_run(void *gw);

/*
 * Shutdown, step 1 (any thread, returns at once): the gateway stops
 * accepting, tells the handler every open connection closed, closes every
 * socket and submits nothing more. dtx_gateway_input_closed() turns 1 once
 * done. The loop goes on delivering events until step 2.
 */
void dtx_gateway_close_input(dtx_gateway *gw);
int dtx_gateway_input_closed(const dtx_gateway *gw);

/* Shutdown, step 2 (any thread): deliver the events left in the ring, then
 * return from dtx_gateway_run(). Call after the core thread has finished. */
void dtx_gateway_stop(dtx_gateway *gw);

/* For the handler, on the gateway thread. */

/* Queues bytes on conn's output buffer (sent at the end of the loop turn).
 * Returns how many it took: len, fewer when the buffer is full (then
 * handler.writable() follows when there is room), or len when conn is not
 * open (the bytes are discarded, there is nobody to send them to). */
size_t dtx_gateway_send(dtx_gateway *gw, uint32_t conn, const uint8_t *data, size_t len);

/* Puts a command on the command ring. Returns 0, or -1 when the ring is full
 * (back-pressure: the handler takes fewer bytes and is offered them again). */
int dtx_gateway_submit(dtx_gateway *gw, const dtx_command *cmd);

/* Ends conn: what was queued is still sent, then the socket is shut down and
 * closed (after the peer's EOF, or 2 s). The slot is not reused meanwhile. */
void dtx_gateway_close(dtx_gateway *gw, uint32_t conn);

typedef struct dtx_gateway_stats {
    uint64_t accepted;      /* connections accepted */
    uint64_t refused;       /* connections closed at once: table full or refused */
    uint64_t closed;        /* connections ended */
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t commands;      /* commands submitted to the core */
    uint64_t events;        /* events delivered to the handler */
    uint64_t backpressure;  /* times a full command ring stopped reading */
    uint64_t out_full;      /* sends that found an output buffer full */
    uint32_t open;          /* connections open now */
} dtx_gateway_stats;

void dtx_gateway_stats_get(const dtx_gateway *gw, dtx_gateway_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* DTX_GATEWAY_H */
