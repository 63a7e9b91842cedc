/*
 * dtx/core.h - the core thread of one shard: sequencer, (risk gate,) engine.
 *
 * The core consumes dtx_commands from the gateway's command ring, gives each
 * the next global sequence number and a timestamp (the sequencer: seq and ts
 * of dtx/command.h), runs it through the engine (each run of engine commands
 * of a burst through dtx_engine_submit_burst_pf(), with the risk's prefetch:
 * the events of dtx_engine_submit() per command) and pushes every
 * resulting dtx_event onto the event ring back to the gateway, in order. It
 * also injects DTX_CMD_TIME commands on a timer, so Day and GTD orders expire
 * while no order flows. The stream of stamped commands is what an input
 * journal records (a later issue); replaying it reproduces the events.
 *
 *     gateway --commands ring--> [ stamp seq, ts | gate | engine ] --events ring--> gateway
 *
 * A full event ring is back-pressure: the core waits (by the ring's wait
 * strategy) and drops nothing. Between a ring read and a ring write the core
 * makes no system call and allocates nothing; it reads the clock once per
 * burst of commands (vDSO, no system call). The risk gate is the engine's
 * gate seam: install it with dtx_engine_set_gate(dtx_core_engine(core), ...)
 * before the thread starts, and let the risk module see every event through
 * the observer, so the gate's positions and open orders stay exact.
 *
 * Admin commands (DTX_CMD_RISK_SET .. DTX_CMD_LIMIT_QUERY, dtx/admin.h) are
 * sequenced like orders and carried out here, on the core thread: the room
 * check for the change's audit records (audit_reserve), the risk change, the
 * kill switch's mass cancel, the engine's status change, an audit record per
 * change and the answer event, in that order. A change whose records have no
 * room is refused AuditUnavailable before anything is touched: every change
 * applied is audited. Orders never reach the audit sink.
 *
 * One thread runs dtx_core_run() (or calls dtx_core_poll() in a loop);
 * dtx_core_stop() may be called from any thread.
 */
#ifndef DTX_CORE_H
#define DTX_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/admin.h"
#include "dtx/engine.h"
#include "dtx/ring.h"
#include "dtx/risk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dtx_core dtx_core;

/* Wall clock in nanoseconds since the Unix epoch (tests inject their own). */
typedef uint64_t (*dtx_clock_fn)(void *ctx);

typedef struct dtx_core_config {
    dtx_engine_config engine; /* instruments and capacities; sink and sink_ctx
                                 are ignored (events go to the event ring) */
    dtx_ring *commands;       /* in: records of sizeof(dtx_command); the core
                                 is its only consumer */
    dtx_ring *events;         /* out: records of sizeof(dtx_event); the core is
                                 its only producer */
    uint32_t time_tick_ms;    /* DTX_CMD_TIME period; 0 = never */
    uint64_t first_seq;       /* seq of the first command; 0 means 1 */
    dtx_clock_fn clock;       /* NULL = CLOCK_REALTIME */
    void *clock_ctx;
    dtx_event_sink_fn observer; /* shown every event batch, in order, before it
                                   goes onto the event ring (the risk module's
                                   dtx_risk_sink); NULL = none */
    void *observer_ctx;
    dtx_risk *risk;           /* the risk context of the gate and observer:
                                 the core fills the Fee of each FILL from it
                                 (dtx_risk_fill_fee) and carries out admin
                                 commands on it (dtx/admin.h); NULL = none
                                 (fees 0, admin commands rejected) */
    dtx_audit_fn audit;       /* each accepted admin change, on the core
                                 thread (the daemon writes the audit log
                                 line); NULL = none */
    void *audit_ctx;
    dtx_audit_reserve_fn audit_reserve; /* asked (with audit_ctx) before an
                                 admin change is applied for room for its
                                 records; 0 = the change is refused
                                 DTX_REJ_AUDIT_UNAVAILABLE and nothing
                                 changes. NULL = audit always has room (the
                                 daemon: dtx_audit_log_reserve) */
} dtx_core_config;

/* Creates the core and its engine (all memory reserved here). Returns NULL on
 * a bad configuration (the dtx_error message names it) or no memory. */
dtx_core *dtx_core_create(const dtx_core_config *cfg);

/* Frees the core and its engine. NULL is accepted. The thread must be done. */
void dtx_core_destroy(dtx_core *core);

/* The engine, for installing the gate and for read-only views. Use its
 * mutating functions only on the core thread. */
dtx_engine *dtx_core_engine(dtx_core *core);

/*
 * Processes what is there now: at most one burst of commands from the ring,
 * and a TIME command when its period has passed. Returns the number of
 * commands processed (TIME included); 0 when there was nothing to do.
 */
size_t dtx_core_poll(dtx_core *core);

/*
 * Thread body (pthread signature): polls, waiting on the command ring by its
 * strategy when idle, until dtx_core_stop(); then processes every command
 * still in the ring and returns NULL.
 */
void *dtx_core_run(void *core);

/* Asks the thread to finish (any thread; returns at once). */
void dtx_core_stop(dtx_core *core);

typedef struct dtx_core_stats {
    uint64_t commands;     /* commands processed, TIME included */
    uint64_t time_ticks;   /* TIME commands injected */
    uint64_t events;       /* events pushed to the event ring */
    uint64_t event_waits;  /* times the event ring was full (back-pressure) */
    uint64_t last_seq;     /* seq of the last command; 0 before the first */
    uint64_t audit_refused; /* admin changes refused AuditUnavailable */
} dtx_core_stats;

/* Counters (any thread; each value is read atomically, the set is not). */
void dtx_core_stats_get(const dtx_core *core, dtx_core_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* DTX_CORE_H */
