/*
 * cod.h - cancel-on-disconnect, one implementation for both order-entry
 * gateways (FIXP in net/fixp_session.c, FIX 4.4 in net/fix44_session.c).
 *
 * When the live connection of a session whose key has
 * DTX_KEY_CANCEL_ON_DISCONNECT ends (by any means), the layer owes the core
 * one DTX_CMD_CANCEL_ON_DISCONNECT for (account, session). It is submitted at
 * once; while the command ring is full it stays owed: retried at every timer
 * tick (dtx_cod_retry) and always submitted before the session's next order
 * (dtx_cod_settle), so an old disconnect never cancels orders placed after
 * the reconnect. A session owes at most one: a second disconnect while the
 * first is owed changes nothing (the command cancels whatever rests then).
 * A slot given to another session is settled first (dtx_cod_settle): what
 * it owes is never dropped.
 *
 * A dtx_cod is a table over the layer's session slots, reserved at creation;
 * slot + session_base is the session number put in the command. Calls submit
 * through the layer's dtx_session_callbacks; nothing allocates after init.
 * Not thread-safe: the gateway thread owns it with its layer.
 */
#ifndef DTX_NET_COD_H
#define DTX_NET_COD_H

#include <stdint.h>

#include "dtx/error.h"
#include "dtx/session.h"

typedef struct dtx_cod_slot {
    uint32_t account; /* the account the owed command cancels for */
    uint8_t owed;
} dtx_cod_slot;

typedef struct dtx_cod {
    dtx_cod_slot *slot;    /* n_slots */
    uint32_t n_slots;
    uint32_t n_owed;       /* slots owing: the timer scans only when > 0 */
    uint32_t session_base; /* session number of slot 0 */
} dtx_cod;

/* Reserves the table. Returns DTX_OK or DTX_ENOMEM (message recorded). */
dtx_status dtx_cod_init(dtx_cod *t, uint32_t n_slots, uint32_t session_base);

/* Frees the table; t may be zeroed or already freed. */
void dtx_cod_fini(dtx_cod *t);

/* The connection of session `slot` (account) ended and its key asks for
 * cancel-on-disconnect: owes the command and submits it when the ring takes
 * it. Returns 1 when submitted now, 0 when it was already owed, -1 when it
 * stays owed (ring full). */
int dtx_cod_disconnect(dtx_cod *t, const dtx_session_callbacks *cb, uint32_t slot,
                       uint32_t account);

/* Before an order of session `slot` is submitted: submits what the session
 * owes. Returns 1 when submitted now, 0 when nothing is owed, -1 when the
 * ring is full (the order must wait: nothing changed). */
int dtx_cod_settle(dtx_cod *t, const dtx_session_callbacks *cb, uint32_t slot);

/* Timer: submits what every session owes, in slot order, until the ring is
 * full. Returns how many were submitted. */
uint32_t dtx_cod_retry(dtx_cod *t, const dtx_session_callbacks *cb);

/* 1 while session `slot` owes a cancel-on-disconnect. */
static inline int dtx_cod_owed(const dtx_cod *t, uint32_t slot) { return t->slot[slot].owed; }

#endif
