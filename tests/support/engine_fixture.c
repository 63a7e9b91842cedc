/*
 * engine_fixture.c - the harness behind tests/support/engine_fixture.h: test
 * instruments, the recording sink, command builders, field-by-field event
 * expectations and readable dumps for failure messages.
 *
 * The expectations encode include/dtx/event.h and docs/order-semantics.md; the
 * engine's own sources are never consulted here.
 */
#include "support/engine_fixture.h"
#include "support/evfmt.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- instruments ---------------------------------------------------------------- */

dtx_instrument_config fx_test_instrument(uint32_t security_id)
{
    dtx_instrument_config c;
    memset(&c, 0, sizeof c);
    c.security_id = security_id;
    snprintf(c.symbol, sizeof c.symbol, "TEST-%u", (unsigned)security_id);
    c.type = DTX_INSTR_PERPETUAL;
    c.tick_size = FX_TICK;
    c.contract_multiplier = FX_TICK;
    c.min_price = FX_PX(FX_MIN_TICKS);
    c.max_price = FX_PX(FX_MAX_TICKS);
    c.min_qty = FX_MIN_QTY;
    c.max_qty = FX_MAX_QTY;
    c.lot_size = 1;
    c.market_band_ticks = FX_BAND;
    c.expiry = 0;
    return c;
}

const dtx_instrument_config *fx_default_instruments(uint32_t *n)
{
    static dtx_instrument_config ins[FX_N_INSTRUMENTS];
    static int ready;
    if (!ready) {
        ins[0] = fx_test_instrument(FX_SEC);
        memcpy(ins[0].symbol, "TEST\0\0\0\0\0\0\0\0\0\0\0\0", 16);
        ins[1] = fx_test_instrument(FX_SEC_LOT);
        memcpy(ins[1].symbol, "LOT10\0\0\0\0\0\0\0\0\0\0\0", 16);
        ins[1].min_price = FX_PX(FX_LOT_MIN_TICKS);
        ins[1].min_qty = 10;
        ins[1].lot_size = 10;
        ins[1].max_qty = FX_MAX_QTY;
        ins[2] = fx_test_instrument(FX_SEC_B);
        memcpy(ins[2].symbol, "TEST-B\0\0\0\0\0\0\0\0\0\0", 16);
        ready = 1;
    }
    *n = FX_N_INSTRUMENTS;
    return ins;
}

/* ---- engine and sink ---------------------------------------------------------------- */

void fx_sink(void *ctx, const dtx_event *events, size_t n)
{
    fx *f = ctx;
    f->sink_calls++;
    if (f->n + n > f->cap) {
        size_t cap = f->cap ? f->cap : 1024;
        while (cap < f->n + n)
            cap *= 2;
        dtx_event *p = realloc(f->ev, cap * sizeof *p);
        if (!p)
            abort();
        f->ev = p;
        f->cap = cap;
    }
    memcpy(f->ev + f->n, events, n * sizeof *events);
    f->n += n;
}

dtx_engine_config fx_config(fx *f, const fx_opts *o)
{
    static const fx_opts none;
    if (!o)
        o = &none;
    dtx_engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (o->instruments) {
        cfg.instruments = o->instruments;
        cfg.n_instruments = o->n_instruments;
    } else {
        cfg.instruments = fx_default_instruments(&cfg.n_instruments);
    }
    cfg.max_orders = o->max_orders ? o->max_orders : FX_DEFAULT_MAX_ORDERS;
    cfg.max_timed = o->max_timed ? o->max_timed : FX_DEFAULT_MAX_TIMED;
    cfg.max_stops = o->max_stops ? o->max_stops : FX_DEFAULT_MAX_STOPS;
    cfg.max_icebergs = o->max_icebergs;
    cfg.day_offset_ns = o->day_offset_ns;
    cfg.sink = fx_sink;
    cfg.sink_ctx = f;
    return cfg;
}

void fx_init(fx *f, const fx_opts *o)
{
    memset(f, 0, sizeof *f);
    f->now = FX_T0;
    dtx_engine_config cfg = fx_config(f, o);
    dtx_error_clear();
    f->e = dtx_engine_create(&cfg);
    cr_assert(f->e != NULL, "dtx_engine_create failed: %s", dtx_error_message());
    cr_assert_eq(f->n, 0, "dtx_engine_create emitted %zu events", f->n);
}

void fx_fini(fx *f)
{
    dtx_engine_destroy(f->e);
    free(f->ev);
    memset(f, 0, sizeof *f);
}

/* ---- submitting ------------------------------------------------------------------- */

size_t fx_submit_raw(fx *f, const dtx_command *c)
{
    f->first = f->n;
    f->last = *c;
    dtx_status st = dtx_engine_submit(f->e, c);
    cr_assert_eq(st, DTX_OK, "dtx_engine_submit returned %d (%s): %s", (int)st,
                 dtx_status_name(st), dtx_error_message());
    return f->n - f->first;
}

size_t fx_send(fx *f, dtx_command c)
{
    c.seq = ++f->seq;
    c.ts = f->now;
    f->now += FX_TS_STEP;
    return fx_submit_raw(f, &c);
}

void fx_set_now(fx *f, uint64_t ts)
{
    uint64_t last_ts = f->seq ? f->now - FX_TS_STEP : 0;
    cr_assert(ts >= last_ts, "fx_set_now: time goes backwards (%" PRIu64 " < %" PRIu64 ")", ts,
              last_ts);
    f->now = ts;
}

size_t fx_time(fx *f, uint64_t ts)
{
    fx_set_now(f, ts);
    return fx_send(f, fx_time_cmd());
}

/* ---- builders ---------------------------------------------------------------------- */

static dtx_command order_base(uint32_t acct, uint64_t clordid, uint8_t side, int64_t qty)
{
    dtx_command c = dtx_command_blank(DTX_CMD_NEW_ORDER);
    c.account = acct;
    c.session = (uint16_t)acct;
    c.security_id = FX_SEC;
    c.side = side;
    c.tif = DTX_TIF_GTC;
    c.stp = DTX_STP_CANCEL_NEWEST;
    c.clordid = clordid;
    c.qty = qty;
    return c;
}

dtx_command fx_limit(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty)
{
    dtx_command c = order_base(acct, clordid, side, qty);
    c.ord_type = DTX_ORD_LIMIT;
    c.price = FX_PX(ticks);
    return c;
}

dtx_command fx_market(uint32_t acct, uint64_t clordid, uint8_t side, int64_t qty)
{
    dtx_command c = order_base(acct, clordid, side, qty);
    c.ord_type = DTX_ORD_MARKET;
    c.tif = DTX_TIF_IOC;
    return c;
}

dtx_command fx_ioc(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty)
{
    dtx_command c = fx_limit(acct, clordid, side, ticks, qty);
    c.tif = DTX_TIF_IOC;
    return c;
}

dtx_command fx_fok(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty)
{
    dtx_command c = fx_limit(acct, clordid, side, ticks, qty);
    c.tif = DTX_TIF_FOK;
    return c;
}

dtx_command fx_post_only(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty)
{
    dtx_command c = fx_limit(acct, clordid, side, ticks, qty);
    c.exec_inst = DTX_EXEC_POST_ONLY;
    return c;
}

dtx_command fx_iceberg(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty,
                       int64_t display)
{
    dtx_command c = fx_limit(acct, clordid, side, ticks, qty);
    c.display_qty = display;
    return c;
}

dtx_command fx_day(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty)
{
    dtx_command c = fx_limit(acct, clordid, side, ticks, qty);
    c.tif = DTX_TIF_DAY;
    return c;
}

dtx_command fx_gtd(uint32_t acct, uint64_t clordid, uint8_t side, int64_t ticks, int64_t qty,
                   uint64_t expire_time)
{
    dtx_command c = fx_limit(acct, clordid, side, ticks, qty);
    c.tif = DTX_TIF_GTD;
    c.expire_time = expire_time;
    return c;
}

dtx_command fx_stop(uint32_t acct, uint64_t clordid, uint8_t side, int64_t stop_ticks, int64_t qty)
{
    dtx_command c = order_base(acct, clordid, side, qty);
    c.ord_type = DTX_ORD_STOP;
    c.stop_px = FX_PX(stop_ticks);
    return c;
}

dtx_command fx_stop_limit(uint32_t acct, uint64_t clordid, uint8_t side, int64_t stop_ticks,
                          int64_t ticks, int64_t qty)
{
    dtx_command c = order_base(acct, clordid, side, qty);
    c.ord_type = DTX_ORD_STOP_LIMIT;
    c.stop_px = FX_PX(stop_ticks);
    c.price = FX_PX(ticks);
    return c;
}

dtx_command fx_cancel(uint32_t acct, uint64_t clordid, uint64_t order_id)
{
    dtx_command c = dtx_command_blank(DTX_CMD_CANCEL);
    c.account = acct;
    c.session = (uint16_t)acct;
    c.clordid = clordid;
    c.order_id = order_id;
    return c;
}

dtx_command fx_cancel_clordid(uint32_t acct, uint64_t clordid, uint64_t orig_clordid)
{
    dtx_command c = fx_cancel(acct, clordid, 0);
    c.orig_clordid = orig_clordid;
    return c;
}

dtx_command fx_replace(uint32_t acct, uint64_t clordid, uint64_t order_id, int64_t ticks, int64_t qty)
{
    dtx_command c = dtx_command_blank(DTX_CMD_REPLACE);
    c.account = acct;
    c.session = (uint16_t)acct;
    c.clordid = clordid;
    c.order_id = order_id;
    c.price = ticks == FX_KEEP ? DTX_PRICE_NULL : FX_PX(ticks);
    c.qty = qty;
    return c;
}

dtx_command fx_replace_clordid(uint32_t acct, uint64_t clordid, uint64_t orig_clordid, int64_t ticks,
                               int64_t qty)
{
    dtx_command c = fx_replace(acct, clordid, 0, ticks, qty);
    c.orig_clordid = orig_clordid;
    return c;
}

dtx_command fx_mass_cancel(uint32_t acct, uint64_t clordid, uint32_t security_id, uint8_t side)
{
    dtx_command c = dtx_command_blank(DTX_CMD_MASS_CANCEL);
    c.account = acct;
    c.session = (uint16_t)acct;
    c.clordid = clordid;
    c.security_id = security_id;
    c.side = side;
    return c;
}

dtx_command fx_time_cmd(void) { return dtx_command_blank(DTX_CMD_TIME); }

dtx_command fx_status(uint32_t security_id, uint8_t status)
{
    dtx_command c = dtx_command_blank(DTX_CMD_INSTRUMENT_STATUS);
    c.security_id = security_id;
    c.status = status;
    return c;
}

dtx_command fx_cod(uint32_t acct, uint16_t session)
{
    dtx_command c = dtx_command_blank(DTX_CMD_CANCEL_ON_DISCONNECT);
    c.account = acct;
    c.session = session;
    return c;
}

/* ---- readable output ----------------------------------------------------------------- */

/* Prices print as decimal PRICE9 (the test instruments' tick is 1.00, so
 * FX_PX(100) prints "100"); the printers are shared with the differential
 * harness (support/evfmt.c). */
static const char *fmt_px(int64_t v, char *buf, size_t size) { return evfmt_px(v, buf, size); }

void fx_format_event(const dtx_event *ev, char *buf, size_t size) { evfmt_event(ev, buf, size); }

static char dump_buf[1 << 16];

const char *fx_dump_range(const fx *f, size_t from, size_t to)
{
    size_t used = 0;
    dump_buf[0] = '\0';
    if (to > f->n)
        to = f->n;
    if (from >= to) {
        snprintf(dump_buf, sizeof dump_buf, "    (no events)\n");
        return dump_buf;
    }
    for (size_t i = from; i < to && used + 512 < sizeof dump_buf; i++) {
        char line[400];
        fx_format_event(&f->ev[i], line, sizeof line);
        int k = snprintf(dump_buf + used, sizeof dump_buf - used, "    [%zu] %s\n", i - from, line);
        if (k < 0)
            break;
        used += (size_t)k;
    }
    return dump_buf;
}

const char *fx_dump(const fx *f) { return fx_dump_range(f, f->first, f->n); }

/* ---- events of the last command --------------------------------------------------------- */

size_t fx_count(const fx *f) { return f->n - f->first; }

const dtx_event *fx_ev(const fx *f, size_t i)
{
    cr_assert(i < fx_count(f), "no event [%zu]: the command produced %zu events:\n%s", i,
              fx_count(f), fx_dump(f));
    return &f->ev[f->first + i];
}

long fx_find(const fx *f, uint8_t type, uint64_t order_id, size_t from)
{
    for (size_t i = from; i < fx_count(f); i++) {
        const dtx_event *ev = &f->ev[f->first + i];
        if (ev->type == type && (order_id == 0 || ev->order_id == order_id))
            return (long)i;
    }
    return -1;
}

size_t fx_count_type(const fx *f, uint8_t type)
{
    size_t k = 0;
    for (size_t i = f->first; i < f->n; i++)
        k += f->ev[i].type == type;
    return k;
}

void fx_expect_count(const fx *f, size_t n)
{
    cr_assert(fx_count(f) == n, "expected exactly %zu events, the command produced %zu:\n%s", n,
              fx_count(f), fx_dump(f));
}

/* Mismatch list for one event. */
typedef struct mism {
    char text[2048];
    size_t used;
    int count;
} mism;

static void mism_add(mism *m, const char *field, int64_t want, int64_t got)
{
    if (m->used + 128 >= sizeof m->text)
        return;
    int k = snprintf(m->text + m->used, sizeof m->text - m->used,
                     "    %s: want %" PRId64 ", got %" PRId64 "\n", field, want, got);
    if (k > 0)
        m->used += (size_t)k;
    m->count++;
}

#define CMP(field)                                                                     \
    do {                                                                               \
        if ((int64_t)got->field != (int64_t)want.field)                                \
            mism_add(&m, #field, (int64_t)want.field, (int64_t)got->field);            \
    } while (0)

void fx_expect(const fx *f, size_t i, dtx_event want)
{
    const dtx_event *got = fx_ev(f, i);
    mism m;
    m.used = 0;
    m.count = 0;
    m.text[0] = '\0';

    want.seq = f->last.seq;
    want.ts = f->last.ts;
    want.exec_id = (uint64_t)(f->first + i) + 1;
    if (want.session == 0)
        want.session = (uint16_t)want.account;

    CMP(type);
    if (got->type != want.type) {
        cr_assert_fail("event [%zu]: want a %s, got a %s; the command's events:\n%s", i,
                       dtx_event_type_name(want.type), dtx_event_type_name(got->type), fx_dump(f));
    }
    CMP(account);
    CMP(session);
    if (want.type != DTX_EV_CANCEL_REJECT && want.type != DTX_EV_BUSINESS_REJECT)
        CMP(security_id);
    CMP(seq);
    CMP(ts);
    CMP(order_id);
    CMP(clordid);

    switch (want.type) {
    case DTX_EV_NEW:
        CMP(side);
        CMP(ord_type);
        CMP(tif);
        CMP(exec_inst);
        CMP(stp);
        CMP(price);
        CMP(stop_px);
        CMP(order_qty);
        CMP(leaves_qty);
        CMP(flags);
        if (want.flags & DTX_EVF_ADDED)
            CMP(last_qty);
        break;
    case DTX_EV_FILL:
        if (want.contra_session == 0)
            want.contra_session = (uint16_t)want.contra_account;
        CMP(side);
        CMP(price);
        CMP(last_qty);
        CMP(leaves_qty);
        CMP(cum_qty);
        CMP(order_qty);
        CMP(trade_id);
        CMP(ord_status);
        CMP(aggressor);
        CMP(contra_account);
        CMP(contra_session);
        CMP(contra_order_id);
        break;
    case DTX_EV_CANCELED:
        CMP(side);
        CMP(cancel_reason);
        CMP(orig_clordid);
        CMP(cum_qty);
        CMP(leaves_qty);
        CMP(price);
        CMP(order_qty);
        CMP(flags);
        break;
    case DTX_EV_REPLACED:
        CMP(side);
        CMP(orig_clordid);
        CMP(price);
        CMP(order_qty);
        CMP(leaves_qty);
        CMP(cum_qty);
        CMP(flags);
        if (want.flags & DTX_EVF_ADDED)
            CMP(last_qty);
        break;
    case DTX_EV_REJECT:
        CMP(side);
        CMP(ord_type);
        CMP(price);
        CMP(order_qty);
        CMP(reject_reason);
        break;
    case DTX_EV_CANCEL_REJECT:
        CMP(reject_reason);
        CMP(orig_clordid);
        CMP(response_to);
        break;
    case DTX_EV_MASS_CANCEL_REPORT:
        CMP(total_affected);
        CMP(side);
        break;
    case DTX_EV_BUSINESS_REJECT:
        CMP(reject_reason);
        CMP(ref_cmd_type);
        break;
    case DTX_EV_ADDED:
        CMP(side);
        CMP(price);
        CMP(last_qty);
        CMP(leaves_qty);
        CMP(flags);
        break;
    case DTX_EV_TRIGGERED:
        CMP(side);
        CMP(stop_px);
        CMP(ord_type);
        CMP(price);
        break;
    case DTX_EV_STATUS:
        CMP(status);
        break;
    default:
        cr_assert_fail("fx_expect: unknown event type %u", (unsigned)want.type);
    }
    /* exec_id last: a wrong counter should not hide the other fields. */
    CMP(exec_id);

    if (m.count) {
        char line[400];
        fx_format_event(&want, line, sizeof line);
        cr_assert_fail("event [%zu] (%s) differs:\n%s  want:   %s\n  events of the command:\n%s", i,
                       dtx_event_type_name(want.type), m.text, line, fx_dump(f));
    }
}

static uint64_t expect_new(const fx *f, size_t i, const dtx_command *c, int rested)
{
    const dtx_event *got = fx_ev(f, i);
    cr_assert(got->type == DTX_EV_NEW && got->order_id != 0,
              "event [%zu]: want NEW with a non-zero OrderID for ClOrdID %" PRIu64 ":\n%s", i,
              c->clordid, fx_dump(f));
    int market_priced = c->ord_type == DTX_ORD_MARKET || c->ord_type == DTX_ORD_STOP;
    fx_expect(f, i,
              (dtx_event){.type = DTX_EV_NEW,
                          .account = c->account,
                          .session = c->session,
                          .security_id = c->security_id,
                          .order_id = got->order_id,
                          .clordid = c->clordid,
                          .side = c->side,
                          .ord_type = c->ord_type,
                          .tif = c->tif,
                          .exec_inst = c->exec_inst,
                          .stp = c->stp,
                          .price = market_priced ? DTX_PRICE_NULL : c->price,
                          .stop_px = c->stop_px,
                          .order_qty = c->qty,
                          .leaves_qty = c->qty,
                          .flags = rested ? DTX_EVF_ADDED : 0,
                          .last_qty = rested ? (c->display_qty ? c->display_qty : c->qty) : 0});
    return got->order_id;
}

uint64_t fx_expect_new(const fx *f, size_t i, const dtx_command *c) { return expect_new(f, i, c, 0); }

uint64_t fx_expect_new_rested(const fx *f, size_t i, const dtx_command *c) { return expect_new(f, i, c, 1); }

void fx_expect_reject(const fx *f, size_t i, const dtx_command *c, uint16_t reason)
{
    fx_expect(f, i,
              (dtx_event){.type = DTX_EV_REJECT,
                          .account = c->account,
                          .session = c->session,
                          .security_id = c->security_id,
                          .order_id = 0,
                          .clordid = c->clordid,
                          .side = c->side,
                          .ord_type = c->ord_type,
                          .price = c->price,
                          .order_qty = c->qty,
                          .reject_reason = reason});
}

void fx_expect_cancel_reject(const fx *f, size_t i, const dtx_command *c, uint16_t reason)
{
    fx_expect(f, i,
              (dtx_event){.type = DTX_EV_CANCEL_REJECT,
                          .account = c->account,
                          .session = c->session,
                          .order_id = c->order_id,
                          .clordid = c->clordid,
                          .orig_clordid = c->orig_clordid,
                          .reject_reason = reason,
                          .response_to = c->type == DTX_CMD_REPLACE ? DTX_CXL_REJ_REPLACE
                                                                    : DTX_CXL_REJ_CANCEL});
}

static uint8_t status_of(int64_t leaves)
{
    return leaves == 0 ? DTX_STATUS_FILLED : DTX_STATUS_PARTIALLY_FILLED;
}

void fx_expect_trade(const fx *f, size_t i, uint8_t taker_side, int64_t ticks, int64_t qty,
                     uint64_t trade_id, fx_party maker, fx_party taker)
{
    uint16_t ms = maker.session ? maker.session : (uint16_t)maker.account;
    uint16_t ts = taker.session ? taker.session : (uint16_t)taker.account;
    uint8_t maker_side = taker_side == FX_BUY ? FX_SELL : FX_BUY;
    fx_expect(f, i,
              (dtx_event){.type = DTX_EV_FILL,
                          .account = maker.account,
                          .session = ms,
                          .security_id = FX_SEC,
                          .order_id = maker.order_id,
                          .clordid = maker.clordid,
                          .side = maker_side,
                          .price = FX_PX(ticks),
                          .last_qty = qty,
                          .leaves_qty = maker.leaves_qty,
                          .cum_qty = maker.cum_qty,
                          .order_qty = maker.order_qty,
                          .trade_id = trade_id,
                          .ord_status = status_of(maker.leaves_qty),
                          .aggressor = 0,
                          .contra_account = taker.account,
                          .contra_session = ts,
                          .contra_order_id = taker.order_id});
    fx_expect(f, i + 1,
              (dtx_event){.type = DTX_EV_FILL,
                          .account = taker.account,
                          .session = ts,
                          .security_id = FX_SEC,
                          .order_id = taker.order_id,
                          .clordid = taker.clordid,
                          .side = taker_side,
                          .price = FX_PX(ticks),
                          .last_qty = qty,
                          .leaves_qty = taker.leaves_qty,
                          .cum_qty = taker.cum_qty,
                          .order_qty = taker.order_qty,
                          .trade_id = trade_id,
                          .ord_status = status_of(taker.leaves_qty),
                          .aggressor = 1,
                          .contra_account = maker.account,
                          .contra_session = ms,
                          .contra_order_id = maker.order_id});
}

uint64_t fx_rest(fx *f, dtx_command c)
{
    fx_send(f, c);
    fx_expect_count(f, 1);
    return fx_expect_new_rested(f, 0, &c);
}

uint64_t fx_pend(fx *f, dtx_command c)
{
    fx_send(f, c);
    fx_expect_count(f, 1);
    return fx_expect_new(f, 0, &c);
}

void fx_rejected(fx *f, dtx_command c, uint16_t reason)
{
    fx_send(f, c);
    fx_expect_count(f, 1);
    fx_expect_reject(f, 0, &c, reason);
}

/* ---- books ----------------------------------------------------------------------------- */

typedef struct book_walk {
    dtx_order_view *out;
    size_t max, n;
} book_walk;

static int collect(void *ctx, const dtx_order_view *o)
{
    book_walk *w = ctx;
    if (w->n < w->max)
        w->out[w->n] = *o;
    w->n++;
    return 0;
}

size_t fx_book(const fx *f, uint32_t security_id, uint8_t side, dtx_order_view *out, size_t max)
{
    book_walk w = {out, max, 0};
    dtx_engine_visit_book(f->e, security_id, side, collect, &w);
    return w.n;
}

const char *fx_dump_book(const fx *f, uint32_t security_id)
{
    static char buf[16384];
    static dtx_order_view v[256];
    size_t used = 0;
    buf[0] = '\0';
    for (uint8_t side = FX_BUY; side <= FX_SELL; side++) {
        size_t n = fx_book(f, security_id, side, v, 256);
        int k = snprintf(buf + used, sizeof buf - used, "    %s side of %u: %zu orders\n",
                         side == FX_BUY ? "bid" : "ask", (unsigned)security_id, n);
        if (k > 0)
            used += (size_t)k;
        for (size_t i = 0; i < n && i < 256 && used + 256 < sizeof buf; i++) {
            char p[32];
            k = snprintf(buf + used, sizeof buf - used,
                         "      oid=%" PRIu64 " cl=%" PRIu64 " a=%u px=%s leaves=%" PRId64
                         " shown=%" PRId64 " cum=%" PRId64 "\n",
                         v[i].order_id, v[i].clordid, (unsigned)v[i].account,
                         fmt_px(v[i].price, p, sizeof p), v[i].leaves_qty, v[i].shown_qty,
                         v[i].cum_qty);
            if (k > 0)
                used += (size_t)k;
        }
    }
    return buf;
}

void fx_expect_book(const fx *f, uint32_t security_id, uint8_t side, size_t n, const uint64_t *ids)
{
    dtx_order_view v[256];
    size_t got = fx_book(f, security_id, side, v, 256);
    int ok = got == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i].order_id == ids[i];
    if (!ok) {
        char want[1024];
        size_t used = 0;
        want[0] = '\0';
        for (size_t i = 0; i < n && used + 32 < sizeof want; i++) {
            int k = snprintf(want + used, sizeof want - used, " %" PRIu64, ids[i]);
            if (k > 0)
                used += (size_t)k;
        }
        cr_assert_fail("%s side of %u: want %zu orders [%s ] in this order, got:\n%s",
                       side == FX_BUY ? "bid" : "ask", (unsigned)security_id, n, want,
                       fx_dump_book(f, security_id));
    }
}

dtx_order_view fx_order(const fx *f, uint64_t order_id)
{
    dtx_order_view v;
    memset(&v, 0, sizeof v);
    int found = dtx_engine_find_order(f->e, order_id, &v);
    cr_assert(found, "order %" PRIu64 " is not a working order", order_id);
    return v;
}

void fx_expect_gone(const fx *f, uint64_t order_id)
{
    dtx_order_view v;
    int found = dtx_engine_find_order(f->e, order_id, &v);
    cr_assert(!found, "order %" PRIu64 " (cl=%" PRIu64 ") is still a working order", order_id,
              v.clordid);
}
