/*
 * gateway.c - the gateway thread's kernel-TCP transport (dtx/gateway.h): an
 * edge-triggered epoll loop over a non-blocking listening socket and a
 * connection table reserved at start-up, between the protocol handler (the
 * FIXP session layer in dtx-engine) and the two rings to and from the core.
 *
 * Per loop turn: a burst of core events to the handler; each ready connection
 * read once (round robin, so one busy client cannot starve the others); the
 * output buffers written with one send() per connection; the handler's timer;
 * then epoll_wait. A connection stays on the ready list while its socket may
 * still hold bytes (edge-triggered: until a read comes back short) or while
 * the handler has not taken everything read (back-pressure from a full
 * command ring, which stops all reading until the ring has room again).
 *
 * epoll_wait runs every turn, busy or not. Skipping it on busy turns (every
 * 16th only while the last turn did work) was measured on the 2-vCPU VM
 * (2026-11-30, dtx-loadgen 10 sessions, window 32, batched): it halves the
 * epoll_wait calls under block waits (0.034 -> 0.016 per command; the rest
 * are the sleeps), and under spin-yield the idle turns' polls dominate
 * (1.3-3 per command) either way; the gateway's CPU per command (0.64-0.75
 * us) and throughput did not move beyond the noise, so it is not done.
 *
 * Slots are never freed under the loop's feet: lists (ready, dirty) keep a
 * slot's index with a flag, and a slot freed and reopened keeps its place
 * rather than appearing twice, so each list holds at most one entry per slot.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dtx/gateway.h"
#include "dtx/log.h"

#define GW_EVENT_BURST 1024u   /* core events handled per loop turn */
#define GW_ACCEPT_BURST 64     /* accepts per listener readiness */
#define GW_EPOLL_BATCH 256
#define GW_DRAIN_NS (2ull * 1000000000ull) /* a closed connection's linger */
#define GW_LOG_EVERY_NS (1000000000ull)

#define TAG_LISTEN 1ull
#define TAG_WAKE 2ull
#define TAG_CONN 3ull
#define TAG(kind, idx) (((kind) << 32) | (uint64_t)(idx))

enum conn_state { C_FREE = 0, C_OPEN = 1, C_DRAINING = 2 };

typedef struct gw_conn {
    int fd;
    uint8_t state;
    uint8_t readable;   /* the socket may hold unread bytes */
    uint8_t in_ready;   /* on the ready list */
    uint8_t in_dirty;   /* on the dirty (to flush) list */
    uint8_t want_write; /* a send took less: handler.writable() owed */
    uint8_t wr_shut;    /* DRAINING: shutdown(SHUT_WR) done */
    uint8_t listener;   /* 0 or 1: the listening socket that accepted it */
    uint32_t in_off, in_len;   /* bytes read, not yet taken by the handler */
    uint32_t out_off, out_len; /* bytes queued, not yet sent */
    uint64_t drain_deadline;
} gw_conn;

struct dtx_gateway {
    int ep, lfd, wfd, lfd2;
    uint16_t port, port2;
    char addr[16];
    uint32_t max_conns, in_cap, out_cap;
    uint64_t tick_ns, next_tick, now;
    dtx_ring *cmds, *evs;
    dtx_wait_strategy wait;
    dtx_gateway_handler h;

    gw_conn *conns;
    uint8_t *inbufs, *outbufs;
    uint32_t *free_stack, n_free;
    uint32_t *ready, ready_head, ready_n; /* FIFO of slots, capacity max_conns */
    uint32_t *dirty, n_dirty;
    uint32_t n_draining;
    int backpressured;
    uint64_t last_refuse_log;

    _Atomic int close_input_req, input_closed, stop_req;
    /* Counters: written by the gateway thread only, read anywhere. */
    _Atomic uint64_t s_accepted, s_refused, s_closed, s_bytes_in, s_bytes_out, s_commands,
        s_events, s_backpressure, s_out_full;
    _Atomic uint32_t s_open;
};

static inline void bump(_Atomic uint64_t *c, uint64_t n)
{
    /* Single writer: relaxed load + store, no locked instruction. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void set_open(dtx_gateway *gw, int delta)
{
    uint32_t v = atomic_load_explicit(&gw->s_open, memory_order_relaxed);
    atomic_store_explicit(&gw->s_open, (uint32_t)((int)v + delta), memory_order_relaxed);
}

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint8_t *in_buf(dtx_gateway *gw, uint32_t i)
{
    return gw->inbufs + (size_t)i * gw->in_cap;
}
static inline uint8_t *out_buf(dtx_gateway *gw, uint32_t i)
{
    return gw->outbufs + (size_t)i * gw->out_cap;
}

/* ---- lists ------------------------------------------------------------------ */

static void ready_push(dtx_gateway *gw, uint32_t i)
{
    gw_conn *c = &gw->conns[i];
    if (c->in_ready)
        return;
    c->in_ready = 1;
    gw->ready[(gw->ready_head + gw->ready_n) % gw->max_conns] = i;
    gw->ready_n++;
}

/* Re-queues a slot already counted as on the list (popped this turn). */
static void ready_requeue(dtx_gateway *gw, uint32_t i)
{
    gw->ready[(gw->ready_head + gw->ready_n) % gw->max_conns] = i;
    gw->ready_n++;
}

static uint32_t ready_pop(dtx_gateway *gw)
{
    uint32_t i = gw->ready[gw->ready_head];
    gw->ready_head = (gw->ready_head + 1) % gw->max_conns;
    gw->ready_n--;
    return i;
}

static void dirty_push(dtx_gateway *gw, uint32_t i)
{
    gw_conn *c = &gw->conns[i];
    if (c->in_dirty)
        return;
    c->in_dirty = 1;
    gw->dirty[gw->n_dirty++] = i;
}

/* ---- connection life --------------------------------------------------------- */

/* Closes the socket and frees the slot. List flags stay as they are (see the
 * file comment); the lists skip free slots. */
static void conn_release(dtx_gateway *gw, uint32_t i)
{
    gw_conn *c = &gw->conns[i];
    if (c->state == C_FREE)
        return;
    if (c->state == C_DRAINING)
        gw->n_draining--;
    else
        set_open(gw, -1);
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->state = C_FREE;
    c->in_len = c->in_off = 0;
    c->out_len = c->out_off = 0;
    c->want_write = 0;
    gw->free_stack[gw->n_free++] = i;
    bump(&gw->s_closed, 1);
}

/* The peer ended conn (or shutdown does): the handler is told, then the slot
 * is freed. */
static void conn_lost(dtx_gateway *gw, uint32_t i, const char *why)
{
    dtx_log(DTX_LOG_DEBUG, "connection closed", "conn=%u reason=%s", i, why);
    if (gw->h.closed)
        gw->h.closed(gw->h.ctx, i, gw->now);
    conn_release(gw, i);
}

static void flush_conn(dtx_gateway *gw, uint32_t i)
{
    gw_conn *c = &gw->conns[i];
    while (c->out_len > 0) {
        ssize_t n = send(c->fd, out_buf(gw, i) + c->out_off, c->out_len,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_off += (uint32_t)n;
            c->out_len -= (uint32_t)n;
            bump(&gw->s_bytes_out, (uint64_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            /* Broken connection: the read side will see the error and end it. */
            c->out_len = 0;
            c->readable = 1;
            ready_push(gw, i);
        }
        break; /* EAGAIN: EPOLLOUT comes when there is room */
    }
    if (c->out_len == 0) {
        c->out_off = 0;
        if (c->state == C_DRAINING && !c->wr_shut) {
            shutdown(c->fd, SHUT_WR);
            c->wr_shut = 1;
        }
    }
}

/* After room appeared in conn's output buffer. */
static void maybe_writable(dtx_gateway *gw, uint32_t i)
{
    gw_conn *c = &gw->conns[i];
    if (c->state == C_OPEN && c->want_write && c->out_off + c->out_len < gw->out_cap) {
        c->want_write = 0;
        if (gw->h.writable)
            gw->h.writable(gw->h.ctx, i, gw->now);
    }
}

static void flush_dirty(dtx_gateway *gw)
{
    /* The handler may queue more (writable) while we go: n_dirty may grow. */
    for (uint32_t k = 0; k < gw->n_dirty; k++) {
        uint32_t i = gw->dirty[k];
        gw_conn *c = &gw->conns[i];
        c->in_dirty = 0;
        if (c->state == C_FREE)
            continue;
        flush_conn(gw, i);
        maybe_writable(gw, i);
    }
    gw->n_dirty = 0;
}

static void do_accept(dtx_gateway *gw, int which)
{
    for (int k = 0; k < GW_ACCEPT_BURST; k++) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int one = 1, fd;
        uint32_t i;
        gw_conn *c;
        struct epoll_event ev;
        char pbuf[INET_ADDRSTRLEN] = "?";

        fd = accept4(which ? gw->lfd2 : gw->lfd, (struct sockaddr *)&peer, &plen,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                dtx_log(DTX_LOG_WARN, "accept failed", "err=\"%s\"", strerror(errno));
            return;
        }
        if (gw->n_free == 0) {
            bump(&gw->s_refused, 1); /* counted before the peer can see it */
            close(fd);
            if (gw->now - gw->last_refuse_log >= GW_LOG_EVERY_NS) {
                gw->last_refuse_log = gw->now;
                dtx_log(DTX_LOG_WARN, "connection refused: table full", "max_connections=%u refused=%llu",
                        gw->max_conns,
                        (unsigned long long)atomic_load_explicit(&gw->s_refused,
                                                                 memory_order_relaxed));
            }
            continue;
        }
        i = gw->free_stack[--gw->n_free];
        c = &gw->conns[i];
        c->fd = fd;
        c->state = C_OPEN;
        c->readable = 1;
        c->want_write = 0;
        c->wr_shut = 0;
        c->listener = (uint8_t)which;
        c->in_off = c->in_len = 0;
        c->out_off = c->out_len = 0;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = TAG(TAG_CONN, i);
        set_open(gw, +1);
        bump(&gw->s_accepted, 1);
        if (epoll_ctl(gw->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            dtx_log(DTX_LOG_WARN, "epoll_ctl failed", "conn=%u err=\"%s\"", i, strerror(errno));
            conn_release(gw, i);
            continue;
        }
        inet_ntop(AF_INET, &peer.sin_addr, pbuf, sizeof pbuf);
        if (gw->h.open && gw->h.open(gw->h.ctx, i, gw->now) != 0) {
            dtx_log(DTX_LOG_WARN, "connection refused by handler", "conn=%u peer=%s:%u", i, pbuf,
                    ntohs(peer.sin_port));
            bump(&gw->s_refused, 1);
            conn_release(gw, i);
            continue;
        }
        dtx_log(DTX_LOG_DEBUG, "connection open", "conn=%u peer=%s:%u", i, pbuf,
                ntohs(peer.sin_port));
        ready_push(gw, i);
    }
}

/* A closed connection lingers: read and discard until EOF or the deadline. */
static void drain_conn(dtx_gateway *gw, uint32_t i)
{
    gw_conn *c = &gw->conns[i];
    for (;;) {
        ssize_t n = recv(c->fd, in_buf(gw, i), gw->in_cap, 0);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->readable = 0;
            return;
        }
        conn_release(gw, i); /* EOF or error: done */
        return;
    }
}

/* Serves one ready connection: offer held bytes, else read once. Returns 1
 * when the handler could not take everything (command ring full). */
static int service_conn(dtx_gateway *gw, uint32_t i)
{
    gw_conn *c = &gw->conns[i];
    ssize_t n;
    size_t took;

    if (c->state == C_DRAINING) {
        drain_conn(gw, i);
        return 0;
    }
    if (c->in_len > 0) {
        took = gw->h.bytes ? gw->h.bytes(gw->h.ctx, i, in_buf(gw, i) + c->in_off, c->in_len,
                                         gw->now)
                           : c->in_len;
        if (c->state != C_OPEN)
            return 0; /* the handler ended it */
        c->in_off += (uint32_t)took;
        c->in_len -= (uint32_t)took;
        if (c->in_len > 0)
            return 1;
        c->in_off = 0;
    }
    if (!c->readable)
        return 0;
    n = recv(c->fd, in_buf(gw, i), gw->in_cap, 0);
    if (n > 0) {
        bump(&gw->s_bytes_in, (uint64_t)n);
        if ((size_t)n < gw->in_cap)
            c->readable = 0; /* short read: drained until the next edge */
        took = gw->h.bytes ? gw->h.bytes(gw->h.ctx, i, in_buf(gw, i), (size_t)n, gw->now)
                           : (size_t)n;
        if (c->state != C_OPEN)
            return 0;
        if (took < (size_t)n) {
            c->in_off = (uint32_t)took;
            c->in_len = (uint32_t)((size_t)n - took);
            return 1;
        }
        return 0;
    }
    if (n == 0) {
        conn_lost(gw, i, "eof");
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c->readable = 0;
        return 0;
    }
    if (errno == EINTR)
        return 0;
    conn_lost(gw, i, errno == ECONNRESET ? "reset" : "error");
    return 0;
}

static uint32_t backpressure_need(const dtx_gateway *gw)
{
    uint32_t q = gw->cmds->capacity / 4;
    return q ? q : 1;
}

/* Each ready connection once, in FIFO order. Returns the work done. */
static uint32_t service_ready(dtx_gateway *gw)
{
    uint32_t budget = gw->ready_n, done = 0;

    if (gw->backpressured) {
        if (dtx_ring_free(gw->cmds) < backpressure_need(gw))
            return 0;
        gw->backpressured = 0;
    }
    while (budget-- > 0 && gw->ready_n > 0) {
        uint32_t i = ready_pop(gw);
        gw_conn *c = &gw->conns[i];
        int stalled;
        if (c->state == C_FREE) {
            c->in_ready = 0;
            continue;
        }
        stalled = service_conn(gw, i);
        done++;
        if (c->state != C_FREE && (c->readable || c->in_len > 0))
            ready_requeue(gw, i);
        else
            c->in_ready = 0;
        if (stalled) {
            gw->backpressured = 1;
            bump(&gw->s_backpressure, 1);
            break;
        }
    }
    return done;
}

static uint32_t deliver_events(dtx_gateway *gw)
{
    const void *recs;
    uint32_t done = 0;
    while (done < GW_EVENT_BURST) {
        size_t n = dtx_ring_read_begin(gw->evs, &recs);
        if (n == 0)
            break;
        if (n > GW_EVENT_BURST - done)
            n = GW_EVENT_BURST - done;
        for (size_t k = 0; k < n; k++) {
            if (gw->h.event)
                gw->h.event(gw->h.ctx, (const dtx_event *)recs + k, gw->now);
        }
        dtx_ring_read_end(gw->evs, n);
        done += (uint32_t)n;
    }
    bump(&gw->s_events, done);
    return done;
}

static void on_tick(dtx_gateway *gw)
{
    if (gw->h.tick)
        gw->h.tick(gw->h.ctx, gw->now);
    if (gw->n_draining > 0) {
        for (uint32_t i = 0; i < gw->max_conns; i++) {
            gw_conn *c = &gw->conns[i];
            if (c->state == C_DRAINING && gw->now >= c->drain_deadline)
                conn_release(gw, i);
        }
    }
}

static void close_input(dtx_gateway *gw)
{
    if (gw->lfd >= 0) {
        close(gw->lfd);
        gw->lfd = -1;
    }
    if (gw->lfd2 >= 0) {
        close(gw->lfd2);
        gw->lfd2 = -1;
    }
    for (uint32_t i = 0; i < gw->max_conns; i++) {
        gw_conn *c = &gw->conns[i];
        if (c->state == C_OPEN) {
            flush_conn(gw, i);
            conn_lost(gw, i, "shutdown");
        } else if (c->state == C_DRAINING) {
            flush_conn(gw, i);
            conn_release(gw, i);
        }
    }
    gw->ready_n = 0;
    gw->backpressured = 0;
    /* Release pairs with the acquire load in dtx_gateway_input_closed(). */
    atomic_store_explicit(&gw->input_closed, 1, memory_order_release);
    dtx_log(DTX_LOG_INFO, "gateway input closed", "connections_closed=%llu",
            (unsigned long long)atomic_load_explicit(&gw->s_closed, memory_order_relaxed));
}

void *dtx_gateway_run(void *arg)
{
    dtx_gateway *gw = arg;
    struct epoll_event evs[GW_EPOLL_BATCH];
    uint32_t idle_turns = 0;

    gw->now = realtime_ns();
    gw->next_tick = gw->now + gw->tick_ns;
    for (;;) {
        uint32_t work = 0;
        int timeout = 0, armed_r = 0, armed_w = 0, n;

        gw->now = realtime_ns();
        work += deliver_events(gw);
        if (!atomic_load_explicit(&gw->input_closed, memory_order_relaxed)) {
            /* Acquire pairs with the release store in dtx_gateway_close_input(). */
            if (atomic_load_explicit(&gw->close_input_req, memory_order_acquire))
                close_input(gw);
            else
                work += service_ready(gw);
        } else if (atomic_load_explicit(&gw->stop_req, memory_order_acquire) &&
                   dtx_ring_count(gw->evs) == 0) {
            break;
        }
        flush_dirty(gw);
        if (gw->now >= gw->next_tick || gw->next_tick > gw->now + 2 * gw->tick_ns) {
            on_tick(gw);
            gw->next_tick = gw->now + gw->tick_ns;
            flush_dirty(gw);
        }

        if (work == 0 && !(gw->ready_n > 0 && !gw->backpressured)) {
            if (gw->wait == DTX_WAIT_BLOCK) {
                uint64_t left = gw->next_tick > gw->now ? gw->next_tick - gw->now : 0;
                timeout = (int)((left + 999999) / 1000000);
                armed_r = dtx_ring_arm_readable(gw->evs);
                if (!armed_r)
                    timeout = 0;
                else if (gw->backpressured) {
                    armed_w = dtx_ring_arm_writable(gw->cmds, backpressure_need(gw));
                    if (!armed_w)
                        timeout = 0;
                }
                if (atomic_load_explicit(&gw->close_input_req, memory_order_acquire) &&
                    !atomic_load_explicit(&gw->input_closed, memory_order_relaxed))
                    timeout = 0;
                if (atomic_load_explicit(&gw->stop_req, memory_order_acquire))
                    timeout = 0;
            } else if (gw->wait == DTX_WAIT_SPIN_YIELD && ++idle_turns > 64) {
                sched_yield();
            }
        } else {
            idle_turns = 0;
        }
        n = epoll_wait(gw->ep, evs, GW_EPOLL_BATCH, timeout);
        if (armed_r)
            dtx_ring_disarm_readable(gw->evs);
        if (armed_w)
            dtx_ring_disarm_writable(gw->cmds);
        if (n > 0)
            gw->now = realtime_ns();
        for (int k = 0; k < n; k++) {
            uint64_t tag = evs[k].data.u64 >> 32;
            uint32_t i = (uint32_t)evs[k].data.u64;
            if (tag == TAG_LISTEN) {
                if ((i == 0 ? gw->lfd : gw->lfd2) >= 0)
                    do_accept(gw, i == 0 ? 0 : 1);
            } else if (tag == TAG_WAKE) {
                uint64_t v;
                ssize_t r = read(gw->wfd, &v, sizeof v);
                (void)r;
            } else if (tag == TAG_CONN && i < gw->max_conns) {
                gw_conn *c = &gw->conns[i];
                if (c->state == C_FREE)
                    continue;
                if (evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                    c->readable = 1;
                    ready_push(gw, i);
                }
                if ((evs[k].events & EPOLLOUT) && c->out_len > 0) {
                    flush_conn(gw, i);
                }
                maybe_writable(gw, i);
            }
        }
    }
    return NULL;
}

/* ---- the handler's calls ------------------------------------------------------ */

size_t dtx_gateway_send(dtx_gateway *gw, uint32_t conn, const uint8_t *data, size_t len)
{
    gw_conn *c;
    size_t room, take;

    if (conn >= gw->max_conns || gw->conns[conn].state != C_OPEN)
        return len;
    c = &gw->conns[conn];
    room = gw->out_cap - c->out_off - c->out_len;
    if (room < len && c->out_len > 0) {
        flush_conn(gw, conn); /* make room the cheap way first */
        if (c->state != C_OPEN)
            return len;
        room = gw->out_cap - c->out_off - c->out_len;
    }
    if (room < len && c->out_off > 0) {
        memmove(out_buf(gw, conn), out_buf(gw, conn) + c->out_off, c->out_len);
        c->out_off = 0;
        room = gw->out_cap - c->out_len;
    }
    take = len < room ? len : room;
    if (take > 0) {
        memcpy(out_buf(gw, conn) + c->out_off + c->out_len, data, take);
        c->out_len += (uint32_t)take;
        dirty_push(gw, conn);
    }
    if (take < len) {
        c->want_write = 1;
        bump(&gw->s_out_full, 1);
    }
    return take;
}

int dtx_gateway_submit(dtx_gateway *gw, const dtx_command *cmd)
{
    if (atomic_load_explicit(&gw->input_closed, memory_order_relaxed))
        return -1;
    if (dtx_ring_push(gw->cmds, cmd, 1) != 1)
        return -1;
    bump(&gw->s_commands, 1);
    return 0;
}

void dtx_gateway_close(dtx_gateway *gw, uint32_t conn)
{
    gw_conn *c;
    if (conn >= gw->max_conns || gw->conns[conn].state != C_OPEN)
        return;
    c = &gw->conns[conn];
    c->state = C_DRAINING;
    set_open(gw, -1);
    gw->n_draining++;
    c->drain_deadline = gw->now + GW_DRAIN_NS;
    c->in_len = c->in_off = 0;
    c->want_write = 0;
    flush_conn(gw, conn); /* shuts the write side once everything is out */
    c->readable = 1;
    ready_push(gw, conn);
    dtx_log(DTX_LOG_DEBUG, "connection closing", "conn=%u", conn);
}

/* ---- set-up and teardown ------------------------------------------------------- */

static int listen_on(dtx_gateway *gw, const char *addr, uint16_t port, int which)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    socklen_t slen = sizeof sa;
    int one = 1, *lfd = which ? &gw->lfd2 : &gw->lfd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_LISTEN, (uint64_t)which)};

    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        dtx_error_set(DTX_EINVAL, "gateway: listen address \"%s\" is not IPv4", addr);
        return -1;
    }
    *lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (*lfd < 0) {
        dtx_error_set(DTX_EIO, "gateway: socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(*lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(*lfd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        dtx_error_set(DTX_EIO, "gateway: bind %s:%u: %s", addr, port, strerror(errno));
        return -1;
    }
    if (listen(*lfd, 4096) != 0) {
        dtx_error_set(DTX_EIO, "gateway: listen %s:%u: %s", addr, port, strerror(errno));
        return -1;
    }
    if (getsockname(*lfd, (struct sockaddr *)&sa, &slen) != 0) {
        dtx_error_set(DTX_EIO, "gateway: getsockname: %s", strerror(errno));
        return -1;
    }
    if (which)
        gw->port2 = ntohs(sa.sin_port);
    else
        gw->port = ntohs(sa.sin_port);
    if (epoll_ctl(gw->ep, EPOLL_CTL_ADD, *lfd, &ev) != 0) {
        dtx_error_set(DTX_EIO, "gateway: epoll_ctl: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void *reserve(size_t bytes)
{
    void *p = NULL;
    bytes = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0)
        return NULL;
    memset(p, 0, bytes); /* touched now, not on the first message */
    return p;
}

dtx_gateway *dtx_gateway_create(const dtx_gateway_config *cfg)
{
    dtx_gateway *gw;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_WAKE, 0)};

    if (!cfg->commands || !cfg->events || cfg->commands->record_size != sizeof(dtx_command) ||
        cfg->events->record_size != sizeof(dtx_event)) {
        dtx_error_set(DTX_EINVAL, "gateway: a commands ring of dtx_command and an events ring "
                                  "of dtx_event are required");
        return NULL;
    }
    if (cfg->max_connections < 1 || cfg->max_connections > 65535) {
        dtx_error_set(DTX_EINVAL, "gateway: max_connections %u must be 1..65535",
                      cfg->max_connections);
        return NULL;
    }
    if ((cfg->in_buffer_bytes && cfg->in_buffer_bytes < 1024) ||
        (cfg->out_buffer_bytes && cfg->out_buffer_bytes < 1024)) {
        dtx_error_set(DTX_EINVAL, "gateway: buffers must be at least 1024 bytes");
        return NULL;
    }
    gw = calloc(1, sizeof *gw);
    if (!gw) {
        dtx_error_set(DTX_ENOMEM, "gateway: out of memory");
        return NULL;
    }
    gw->ep = gw->lfd = gw->wfd = gw->lfd2 = -1;
    gw->max_conns = cfg->max_connections;
    gw->in_cap = cfg->in_buffer_bytes ? cfg->in_buffer_bytes : 16384;
    gw->out_cap = cfg->out_buffer_bytes ? cfg->out_buffer_bytes : 65536;
    gw->tick_ns = (uint64_t)(cfg->tick_ms ? cfg->tick_ms : 10) * 1000000ull;
    gw->cmds = cfg->commands;
    gw->evs = cfg->events;
    gw->wait = cfg->wait;
    gw->h = cfg->handler;
    snprintf(gw->addr, sizeof gw->addr, "%s", cfg->listen_addr ? cfg->listen_addr : "127.0.0.1");

    gw->conns = reserve(sizeof *gw->conns * gw->max_conns);
    gw->inbufs = reserve((size_t)gw->in_cap * gw->max_conns);
    gw->outbufs = reserve((size_t)gw->out_cap * gw->max_conns);
    gw->free_stack = reserve(sizeof(uint32_t) * gw->max_conns);
    gw->ready = reserve(sizeof(uint32_t) * gw->max_conns);
    gw->dirty = reserve(sizeof(uint32_t) * gw->max_conns);
    if (!gw->conns || !gw->inbufs || !gw->outbufs || !gw->free_stack || !gw->ready ||
        !gw->dirty) {
        dtx_error_set(DTX_ENOMEM, "gateway: cannot reserve buffers for %u connections",
                      gw->max_conns);
        dtx_gateway_destroy(gw);
        return NULL;
    }
    /* Lowest slots first: the stack pops from the top. */
    for (uint32_t i = 0; i < gw->max_conns; i++) {
        gw->conns[i].fd = -1;
        gw->free_stack[i] = gw->max_conns - 1 - i;
    }
    gw->n_free = gw->max_conns;

    gw->ep = epoll_create1(EPOLL_CLOEXEC);
    gw->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (gw->ep < 0 || gw->wfd < 0 || epoll_ctl(gw->ep, EPOLL_CTL_ADD, gw->wfd, &ev) != 0) {
        dtx_error_set(DTX_EIO, "gateway: epoll/eventfd: %s", strerror(errno));
        dtx_gateway_destroy(gw);
        return NULL;
    }
    if (listen_on(gw, gw->addr, cfg->port, 0) != 0 ||
        (cfg->listen2_addr && listen_on(gw, cfg->listen2_addr, cfg->port2, 1) != 0)) {
        dtx_gateway_destroy(gw);
        return NULL;
    }
    /* The core writes our eventfd when it publishes events, or frees command
     * slots, while we sleep in epoll_wait (block strategy only: the others
     * never sleep). */
    if (gw->wait == DTX_WAIT_BLOCK) {
        dtx_ring_set_notify_fd(gw->evs, gw->wfd, gw->evs->space_fd);
        dtx_ring_set_notify_fd(gw->cmds, gw->cmds->data_fd, gw->wfd);
    }
    atomic_init(&gw->close_input_req, 0);
    atomic_init(&gw->input_closed, 0);
    atomic_init(&gw->stop_req, 0);
    return gw;
}

void dtx_gateway_destroy(dtx_gateway *gw)
{
    if (!gw)
        return;
    if (gw->conns) {
        for (uint32_t i = 0; i < gw->max_conns; i++) {
            if (gw->conns[i].state != C_FREE)
                close(gw->conns[i].fd);
        }
    }
    if (gw->lfd >= 0)
        close(gw->lfd);
    if (gw->lfd2 >= 0)
        close(gw->lfd2);
    if (gw->wfd >= 0) {
        if (gw->evs && gw->evs->data_fd == gw->wfd)
            dtx_ring_set_notify_fd(gw->evs, -1, gw->evs->space_fd);
        if (gw->cmds && gw->cmds->space_fd == gw->wfd)
            dtx_ring_set_notify_fd(gw->cmds, gw->cmds->data_fd, -1);
        close(gw->wfd);
    }
    if (gw->ep >= 0)
        close(gw->ep);
    free(gw->conns);
    free(gw->inbufs);
    free(gw->outbufs);
    free(gw->free_stack);
    free(gw->ready);
    free(gw->dirty);
    free(gw);
}

void dtx_gateway_set_handler(dtx_gateway *gw, const dtx_gateway_handler *h) { gw->h = *h; }

uint16_t dtx_gateway_port(const dtx_gateway *gw) { return gw->port; }

uint16_t dtx_gateway_port2(const dtx_gateway *gw) { return gw->port2; }

int dtx_gateway_conn_listener(const dtx_gateway *gw, uint32_t conn)
{
    return conn < gw->max_conns ? gw->conns[conn].listener : 0;
}

static void wake(dtx_gateway *gw)
{
    uint64_t one = 1;
    ssize_t r = write(gw->wfd, &one, sizeof one);
    (void)r; /* EAGAIN: the counter is already set, the loop wakes anyway */
}

void dtx_gateway_close_input(dtx_gateway *gw)
{
    /* Release pairs with the loop's acquire load of close_input_req. */
    atomic_store_explicit(&gw->close_input_req, 1, memory_order_release);
    wake(gw);
}

int dtx_gateway_input_closed(const dtx_gateway *gw)
{
    return atomic_load_explicit(&gw->input_closed, memory_order_acquire);
}

void dtx_gateway_stop(dtx_gateway *gw)
{
    /* Stopping implies closing input first. */
    atomic_store_explicit(&gw->close_input_req, 1, memory_order_release);
    atomic_store_explicit(&gw->stop_req, 1, memory_order_release);
    wake(gw);
}

void dtx_gateway_stats_get(const dtx_gateway *gw, dtx_gateway_stats *out)
{
    out->accepted = atomic_load_explicit(&gw->s_accepted, memory_order_relaxed);
    out->refused = atomic_load_explicit(&gw->s_refused, memory_order_relaxed);
    out->closed = atomic_load_explicit(&gw->s_closed, memory_order_relaxed);
    out->bytes_in = atomic_load_explicit(&gw->s_bytes_in, memory_order_relaxed);
    out->bytes_out = atomic_load_explicit(&gw->s_bytes_out, memory_order_relaxed);
    out->commands = atomic_load_explicit(&gw->s_commands, memory_order_relaxed);
    out->events = atomic_load_explicit(&gw->s_events, memory_order_relaxed);
    out->backpressure = atomic_load_explicit(&gw->s_backpressure, memory_order_relaxed);
    out->out_full = atomic_load_explicit(&gw->s_out_full, memory_order_relaxed);
    out->open = atomic_load_explicit(&gw->s_open, memory_order_relaxed);
}
