/*
 * core.c - the core thread of a shard (dtx/core.h): a burst loop over the
 * command ring that stamps each command with the next sequence number and a
 * timestamp (the sequencer), runs it through the engine, and pushes the
 * engine's events onto the event ring, waiting when that ring is full.
 *
 * Sequencing invariant: seq increases by exactly one per command processed,
 * TIME commands included, and ts never decreases (the clock is read once per
 * burst and clamped to the last value), so the stamped stream replays to the
 * same events.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtx/core.h"

#define CORE_BURST 64u
/* The longest the idle core sleeps before looking at its stop flag again. */
#define CORE_IDLE_MAX_MS 100u

struct dtx_core {
    dtx_engine *engine;
    dtx_ring *commands;
    dtx_ring *events;
    dtx_clock_fn clock;
    void *clock_ctx;
    dtx_event_sink_fn observer;
    void *observer_ctx;
    uint64_t next_seq;
    uint64_t last_ts;
    uint64_t tick_ns;       /* TIME period; 0 = never */
    uint64_t next_time_ts;  /* ts at or after which the next TIME is due */
    _Atomic int stop;
    /* Counters: written by the core thread only (relaxed), read anywhere. */
    _Atomic uint64_t n_commands, n_time, n_events, n_event_waits, last_seq;
};

static uint64_t realtime_ns(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void count(_Atomic uint64_t *c, uint64_t n)
{
    /* Single writer: a relaxed load + store is enough and needs no lock prefix. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* Engine sink: the observer (risk) sees the batch first, then every event goes
 * onto the event ring, in order; a full ring is waited out (back-pressure),
 * never dropped. */
static void core_sink(void *ctx, const dtx_event *ev, size_t n)
{
    dtx_core *c = ctx;
    size_t done = 0;
    if (c->observer)
        c->observer(c->observer_ctx, ev, n);
    while (done < n) {
        done += dtx_ring_push(c->events, ev + done, n - done);
        if (done < n) {
            count(&c->n_event_waits, 1);
            dtx_ring_wait_writable(c->events, 1, CORE_IDLE_MAX_MS);
        }
    }
    count(&c->n_events, n);
}

dtx_core *dtx_core_create(const dtx_core_config *cfg)
{
    dtx_core *c;
    dtx_engine_config ec;

    if (!cfg || !cfg->commands || !cfg->events) {
        dtx_error_set(DTX_EINVAL, "core: commands and events rings are required");
        return NULL;
    }
    if (cfg->commands->record_size != sizeof(dtx_command)) {
        dtx_error_set(DTX_EINVAL, "core: commands ring records are %u bytes, not %zu",
                      cfg->commands->record_size, sizeof(dtx_command));
        return NULL;
    }
    if (cfg->events->record_size != sizeof(dtx_event)) {
        dtx_error_set(DTX_EINVAL, "core: events ring records are %u bytes, not %zu",
                      cfg->events->record_size, sizeof(dtx_event));
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        dtx_error_set(DTX_ENOMEM, "core: out of memory");
        return NULL;
    }
    ec = cfg->engine;
    ec.sink = core_sink;
    ec.sink_ctx = c;
    c->engine = dtx_engine_create(&ec);
    if (!c->engine) {
        free(c);
        return NULL; /* the engine's message stands */
    }
    c->commands = cfg->commands;
    c->events = cfg->events;
    c->clock = cfg->clock ? cfg->clock : realtime_ns;
    c->clock_ctx = cfg->clock_ctx;
    c->observer = cfg->observer;
    c->observer_ctx = cfg->observer_ctx;
    c->next_seq = cfg->first_seq ? cfg->first_seq : 1;
    c->tick_ns = (uint64_t)cfg->time_tick_ms * 1000000ull;
    atomic_init(&c->stop, 0);
    return c;
}

void dtx_core_destroy(dtx_core *c)
{
    if (!c)
        return;
    dtx_engine_destroy(c->engine);
    free(c);
}

dtx_engine *dtx_core_engine(dtx_core *c) { return c->engine; }

/* Reads the clock, never going backwards. */
static uint64_t core_now(dtx_core *c)
{
    uint64_t t = c->clock(c->clock_ctx);
    if (t < c->last_ts)
        t = c->last_ts;
    c->last_ts = t;
    return t;
}

static void submit(dtx_core *c, dtx_command *cmd, uint64_t ts)
{
    cmd->seq = c->next_seq++;
    cmd->ts = ts;
    dtx_engine_submit(c->engine, cmd);
    atomic_store_explicit(&c->last_seq, cmd->seq, memory_order_relaxed);
}

size_t dtx_core_poll(dtx_core *c)
{
    const void *recs;
    size_t n, i, done = 0;
    uint64_t now = core_now(c);

    n = dtx_ring_read_begin(c->commands, &recs);
    if (n > CORE_BURST)
        n = CORE_BURST;
    for (i = 0; i < n; i++) {
        dtx_command cmd;
        memcpy(&cmd, (const dtx_command *)recs + i, sizeof cmd);
        submit(c, &cmd, now);
    }
    dtx_ring_read_end(c->commands, n);
    done += n;

    if (c->tick_ns) {
        if (c->next_time_ts == 0) {
            c->next_time_ts = now + c->tick_ns;
        } else if (now >= c->next_time_ts) {
            dtx_command t = dtx_command_blank(DTX_CMD_TIME);
            submit(c, &t, now);
            c->next_time_ts = now + c->tick_ns;
            count(&c->n_time, 1);
            done++;
        }
    }
    count(&c->n_commands, done);
    return done;
}

void *dtx_core_run(void *arg)
{
    dtx_core *c = arg;
    while (!atomic_load_explicit(&c->stop, memory_order_acquire)) {
        if (dtx_core_poll(c) == 0) {
            uint32_t ms = CORE_IDLE_MAX_MS;
            if (c->tick_ns) {
                uint64_t now = c->clock(c->clock_ctx);
                uint64_t left = c->next_time_ts > now ? c->next_time_ts - now : 0;
                uint64_t left_ms = (left + 999999) / 1000000;
                if (left_ms < ms)
                    ms = (uint32_t)left_ms;
            }
            if (ms > 0)
                dtx_ring_wait_readable(c->commands, ms);
        }
    }
    /* Stopping: what the gateway handed over before it closed its input is
     * still processed, so every accepted command gets its events. */
    while (dtx_ring_count(c->commands) > 0)
        dtx_core_poll(c);
    return NULL;
}

void dtx_core_stop(dtx_core *c)
{
    /* Release pairs with the run loop's acquire load of stop. */
    atomic_store_explicit(&c->stop, 1, memory_order_release);
    dtx_ring_wake(c->commands);
}

void dtx_core_stats_get(const dtx_core *c, dtx_core_stats *out)
{
    out->commands = atomic_load_explicit(&c->n_commands, memory_order_relaxed);
    out->time_ticks = atomic_load_explicit(&c->n_time, memory_order_relaxed);
    out->events = atomic_load_explicit(&c->n_events, memory_order_relaxed);
    out->event_waits = atomic_load_explicit(&c->n_event_waits, memory_order_relaxed);
    out->last_seq = atomic_load_explicit(&c->last_seq, memory_order_relaxed);
}
