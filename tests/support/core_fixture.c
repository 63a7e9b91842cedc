/*
 * core_fixture.c - a core with the risk gate for the core suites
 * (core_fixture.h).
 */
#include "support/core_fixture.h"

#include <criterion/criterion.h>

#include "dtx/engine.h"
#include "dtx/error.h"
#include "dtx/risk.h"

dtx_core *cfx_core_create(const cfx_opts *o, dtx_risk **risk, dtx_ring **cmds, dtx_ring **evs)
{
    uint32_t n, nr;
    dtx_core_config cfg = {0};
    dtx_risk_config rc = {0};
    rc.instruments = dtx_risk_default_instruments(&nr);
    rc.n_instruments = nr;
    rc.n_accounts = 16;
    rc.max_orders = 4096;
    *risk = dtx_risk_create(&rc);
    cr_assert_not_null(*risk, "%s", dtx_error_message());
    *cmds = dtx_ring_create(sizeof(dtx_command), o->command_ring, DTX_WAIT_BLOCK);
    *evs = dtx_ring_create(sizeof(dtx_event), o->event_ring, DTX_WAIT_BLOCK);
    cr_assert(*cmds && *evs);
    cfg.engine.instruments = dtx_default_instruments(&n);
    cfg.engine.n_instruments = n;
    cfg.engine.max_orders = 4096;
    cfg.engine.max_timed = 1024;
    cfg.engine.max_stops = 64;
    cfg.engine.prefetch = o->prefetch;
    cfg.commands = *cmds;
    cfg.events = *evs;
    cfg.clock = o->clock;
    cfg.observer = dtx_risk_sink;
    cfg.observer_ctx = *risk;
    cfg.risk = *risk;
    cfg.audit = o->audit;
    cfg.audit_reserve = o->audit_reserve;
    cfg.audit_ctx = o->audit_ctx;
    dtx_core *core = dtx_core_create(&cfg);
    cr_assert_not_null(core, "%s", dtx_error_message());
    dtx_engine_set_gate(dtx_core_engine(core), dtx_risk_gate, *risk);
    return core;
}

uint64_t cfx_now = CFX_T0;

uint64_t cfx_clock(void *ctx)
{
    (void)ctx;
    return cfx_now;
}

dtx_command cfx_limit_order(uint32_t account, uint64_t clordid, uint32_t security_id, uint8_t side, int64_t price,
                            int64_t qty)
{
    dtx_command c = dtx_command_blank(DTX_CMD_NEW_ORDER);
    c.session = (uint16_t)(10 + account);
    c.account = account;
    c.security_id = security_id;
    c.side = side;
    c.ord_type = DTX_ORD_LIMIT;
    c.tif = DTX_TIF_GTC;
    c.clordid = clordid;
    c.price = price;
    c.qty = qty;
    return c;
}
