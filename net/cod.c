/*
 * cod.c - cancel-on-disconnect owed by the sessions of one gateway layer
 * (net/cod.h): the FIXP and FIX 4.4 sessions both call here when a live
 * connection ends, before each order, and from their timers, so the rule
 * "submitted once, retried while the ring is full, always before the
 * session's next order" is written once.
 */
#include <stdlib.h>

#include "dtx/command.h"
#include "net/cod.h"

dtx_status dtx_cod_init(dtx_cod *t, uint32_t n_slots, uint32_t session_base)
{
    t->slot = calloc(n_slots ? n_slots : 1, sizeof *t->slot);
    t->n_slots = n_slots;
    t->n_owed = 0;
    t->session_base = session_base;
    if (!t->slot)
        return dtx_error_set(DTX_ENOMEM, "cancel-on-disconnect table for %u sessions", n_slots);
    return DTX_OK;
}

void dtx_cod_fini(dtx_cod *t)
{
    free(t->slot);
    t->slot = NULL;
    t->n_slots = t->n_owed = 0;
}

static int submit(dtx_cod *t, const dtx_session_callbacks *cb, uint32_t slot)
{
    dtx_cod_slot *s = &t->slot[slot];
    dtx_command cmd = dtx_command_blank(DTX_CMD_CANCEL_ON_DISCONNECT);
    cmd.session = (uint16_t)(t->session_base + slot);
    cmd.account = s->account;
    if (cb->submit(cb->ctx, &cmd) != 0)
        return -1;
    s->owed = 0;
    t->n_owed--;
    return 1;
}

int dtx_cod_disconnect(dtx_cod *t, const dtx_session_callbacks *cb, uint32_t slot,
                       uint32_t account)
{
    dtx_cod_slot *s = &t->slot[slot];
    if (s->owed)
        return 0;
    s->owed = 1;
    s->account = account;
    t->n_owed++;
    return submit(t, cb, slot);
}

int dtx_cod_settle(dtx_cod *t, const dtx_session_callbacks *cb, uint32_t slot)
{
    if (!t->slot[slot].owed)
        return 0;
    return submit(t, cb, slot);
}

uint32_t dtx_cod_retry(dtx_cod *t, const dtx_session_callbacks *cb)
{
    uint32_t done = 0;
    for (uint32_t i = 0; t->n_owed && i < t->n_slots; i++) {
        if (!t->slot[i].owed)
            continue;
        if (submit(t, cb, i) < 0)
            break; /* ring full: the next tick goes on */
        done++;
    }
    return done;
}
