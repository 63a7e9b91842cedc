/*
 * net_sofh.c - SOFH frame reader and the order entry codecs (net/sofh_sbe.c).
 *
 * Framing errors each give a protocol error with a reason; a stream split
 * anywhere yields the same frames; 100-103 decode into the command the core
 * expects (PRICE9 and nulls as on the wire, reserved bytes checked); every
 * report 200-207 encodes to the page's layout.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dtx/fixp_2748.h"
#include "dtx/sbe_7001.h"
#include "dtx/sofh.h"
#include "dtx/types.h"
#include "support/fixp_harness.h"

static int decode(const uint8_t *buf, size_t len, dtx_frame *f, char *reason)
{
    reason[0] = 0;
    return dtx_sofh_decode(buf, len, f, reason);
}

Test(net_sofh, whole_frame_is_decoded_with_its_header)
{
    uint8_t buf[128];
    size_t n = fh_sequence(buf, 42);
    cr_assert_eq(n, 22);
    /* SOFH big-endian: length 22, encoding 0xEB50 */
    cr_expect_eq(buf[0], 0);
    cr_expect_eq(buf[3], 22);
    cr_expect_eq(buf[4], 0xEB);
    cr_expect_eq(buf[5], 0x50);
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(decode(buf, n, &f, why), 22);
    cr_expect_eq(f.frame_len, 22);
    cr_expect_eq(f.block_length, 8);
    cr_expect_eq(f.template_id, 8);
    cr_expect_eq(f.schema_id, 2748);
    cr_expect_eq(f.version, 0);
    cr_expect_eq(f.known, 1);
    cr_expect_eq(f.body_len, 8);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 42);
}

Test(net_sofh, partial_frame_needs_more_bytes)
{
    uint8_t buf[128];
    size_t n = fh_sequence(buf, 1);
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(decode(buf, i, &f, why), 0, "prefix of %zu bytes", i);
}

Test(net_sofh, frame_length_under_14_is_a_protocol_error)
{
    uint8_t buf[32] = {0, 0, 0, 13, 0xEB, 0x50};
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(decode(buf, 6, &f, why), -1);
    cr_expect_str_eq(why, "frame length 13 under 14");
}

Test(net_sofh, frame_length_over_4096_is_a_protocol_error)
{
    uint8_t buf[32] = {0, 0, 0x10, 0x01, 0xEB, 0x50};
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(decode(buf, 6, &f, why), -1);
    cr_expect_str_eq(why, "frame length 4097 over 4096");
}

Test(net_sofh, frame_of_exactly_4096_bytes_is_accepted)
{
    static uint8_t buf[4096];
    static uint8_t body[4096 - 14];
    size_t n = fh_raw(buf, 8, 8, 2748, 0, body, sizeof body);
    cr_assert_eq(n, 4096);
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(decode(buf, n, &f, why), 4096);
}

Test(net_sofh, encoding_type_other_than_eb50_is_a_protocol_error)
{
    uint8_t buf[64];
    size_t n = fh_sequence(buf, 1);
    buf[5] = 0x51;
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(decode(buf, n, &f, why), -1);
    cr_expect_str_eq(why, "encoding type 0xEB51 is not 0xEB50");
}

Test(net_sofh, unknown_schema_is_a_protocol_error)
{
    uint8_t buf[64], body[8] = {0};
    size_t n = fh_raw(buf, 8, 8, 2749, 0, body, 8);
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(decode(buf, n, &f, why), -1);
    cr_expect_str_eq(why, "unknown schema 2749 (template 8)");
}

Test(net_sofh, unknown_session_template_is_a_protocol_error)
{
    uint8_t buf[64], body[8] = {0};
    size_t n = fh_raw(buf, 8, 20, 2748, 0, body, 8);
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(decode(buf, n, &f, why), -1);
    cr_expect_str_eq(why, "unknown template 20 of schema 2748");
}

Test(net_sofh, unknown_application_template_is_a_frame_marked_unknown)
{
    uint8_t buf[64], body[8] = {0};
    size_t n = fh_raw(buf, 8, 999, 7001, 1, body, 8);
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(decode(buf, n, &f, why), (int)n);
    cr_expect_eq(f.known, 0);
    cr_expect_eq(f.template_id, 999);
}

Test(net_sofh, block_length_below_the_root_block_is_a_protocol_error)
{
    uint8_t buf[128], body[64] = {0};
    size_t n = fh_raw(buf, 63, 100, 7001, 1, body, 64);
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(decode(buf, n, &f, why), -1);
    cr_expect_str_eq(why, "blockLength 63 below 64, the root block of template 100 version 1");
}

Test(net_sofh, block_length_beyond_the_frame_is_a_protocol_error)
{
    uint8_t buf[128], body[8] = {0};
    size_t n = fh_raw(buf, 9, 8, 2748, 0, body, 8);
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(decode(buf, n, &f, why), -1);
    cr_expect_str_eq(why, "blockLength 9 beyond frame length 22");
}

Test(net_sofh, longer_block_of_a_newer_version_is_skipped)
{
    uint8_t buf[128], body[16] = {7};
    size_t n = fh_raw(buf, 16, 8, 2748, 1, body, 16);
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(decode(buf, n, &f, why), (int)n);
    cr_expect_eq(f.block_length, 16);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 7);
}

/* Feeds stream in pieces of `step` bytes; collects the Sequence numbers. */
static int read_stream(const uint8_t *stream, size_t len, size_t step, uint64_t *got, int max)
{
    dtx_sofh_reader r;
    dtx_sofh_reader_init(&r);
    int count = 0;
    size_t at = 0;
    while (at < len) {
        size_t piece = len - at < step ? len - at : step;
        const uint8_t *p = stream + at;
        size_t left = piece;
        while (left) {
            dtx_frame f;
            size_t used;
            char why[DTX_SOFH_REASON_MAX];
            int rc = dtx_sofh_reader_peek(&r, p, left, &f, &used, why);
            cr_assert_geq(rc, 0, "%s", why);
            if (rc == 0) {
                cr_assert_eq(used, left);
                break;
            }
            cr_assert_lt(count, max);
            got[count++] = dtx_sbe_load_u64(f.body);
            dtx_sofh_reader_consume(&r);
            p += used;
            left -= used;
        }
        at += piece;
    }
    cr_expect_eq(r.have, 0);
    return count;
}

Test(net_sofh, stream_split_anywhere_yields_the_same_frames)
{
    uint8_t stream[22 * 5 + 4096];
    size_t len = 0;
    for (uint64_t i = 1; i <= 5; i++)
        len += fh_sequence(stream + len, i * 11);
    for (size_t step = 1; step <= len; step++) {
        uint64_t got[8];
        int n = read_stream(stream, len, step, got, 8);
        cr_assert_eq(n, 5, "step %zu", step);
        for (int i = 0; i < 5; i++)
            cr_assert_eq(got[i], (uint64_t)(i + 1) * 11, "step %zu frame %d", step, i);
    }
}

Test(net_sofh, peeked_frame_not_consumed_is_found_again)
{
    uint8_t stream[64];
    size_t len = fh_sequence(stream, 5);
    len += fh_sequence(stream + len, 6);
    dtx_sofh_reader r;
    dtx_sofh_reader_init(&r);
    dtx_frame f;
    size_t used;
    char why[DTX_SOFH_REASON_MAX];
    /* 10 bytes first: kept as a partial frame */
    cr_assert_eq(dtx_sofh_reader_peek(&r, stream, 10, &f, &used, why), 0);
    cr_assert_eq(used, 10);
    /* the rest: frame 1 is complete, peek twice without consuming */
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(dtx_sofh_reader_peek(&r, stream + 10, len - 10, &f, &used, why), 1);
        cr_expect_eq(used, 12);
        cr_expect_eq(dtx_sbe_load_u64(f.body), 5);
    }
    dtx_sofh_reader_consume(&r);
    cr_assert_eq(dtx_sofh_reader_peek(&r, stream + 22, len - 22, &f, &used, why), 1);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 6);
}

Test(net_sofh, bad_header_is_reported_before_the_frame_is_complete)
{
    uint8_t stream[64];
    size_t len = fh_sequence(stream, 5);
    stream[4] = 0;
    dtx_sofh_reader r;
    dtx_sofh_reader_init(&r);
    dtx_frame f;
    size_t used;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(dtx_sofh_reader_peek(&r, stream, 3, &f, &used, why), 0);
    cr_assert_eq(dtx_sofh_reader_peek(&r, stream + 3, 4, &f, &used, why), -1);
    cr_expect_str_eq(why, "encoding type 0x0050 is not 0xEB50");
    (void)len;
}

static dtx_frame frame_of(const uint8_t *buf, size_t n)
{
    dtx_frame f;
    char why[DTX_SOFH_REASON_MAX];
    cr_assert_eq(dtx_sofh_decode(buf, n, &f, why), (int)n);
    return f;
}

Test(net_sofh, new_order_single_decodes_into_a_command)
{
    uint8_t buf[128];
    dtx_sbe_new_order_single m = {.cl_ord_id = 77, .security_id = 3, .side = 2, .ord_type = 4,
                                  .time_in_force = 6, .exec_inst = 1, .self_trade_prevention = 3,
                                  .price = 123456789000, .stop_px = 123000000000,
                                  .order_qty = 5, .display_qty = 2, .expire_time = 99};
    ptrdiff_t n = dtx_sbe_new_order_single_encode(buf + 14, 100, &m);
    dtx_sofh_put_headers(buf, (uint32_t)n, 64, 100, 7001, 1);
    dtx_frame f = frame_of(buf, (size_t)n + 14);
    dtx_command c;
    cr_assert_eq(dtx_sbe_decode_order(&f, &c), 0);
    cr_expect_eq(c.type, DTX_CMD_NEW_ORDER);
    cr_expect_eq(c.clordid, 77);
    cr_expect_eq(c.security_id, 3);
    cr_expect_eq(c.side, 2);
    cr_expect_eq(c.ord_type, 4);
    cr_expect_eq(c.tif, 6);
    cr_expect_eq(c.exec_inst, 1);
    cr_expect_eq(c.stp, 3);
    cr_expect_eq(c.price, 123456789000);
    cr_expect_eq(c.stop_px, 123000000000);
    cr_expect_eq(c.qty, 5);
    cr_expect_eq(c.display_qty, 2);
    cr_expect_eq(c.expire_time, 99);
    cr_expect_eq(c.session, 0);
    cr_expect_eq(c.orig_clordid, 0);
}

Test(net_sofh, null_price9_stays_null_in_the_command)
{
    uint8_t buf[128];
    dtx_sbe_new_order_single m = {.cl_ord_id = 1, .security_id = 1, .side = 1, .ord_type = 1,
                                  .time_in_force = 3, .price = INT64_MIN, .stop_px = INT64_MIN,
                                  .order_qty = 1};
    ptrdiff_t n = dtx_sbe_new_order_single_encode(buf + 14, 100, &m);
    dtx_sofh_put_headers(buf, (uint32_t)n, 64, 100, 7001, 1);
    dtx_frame f = frame_of(buf, (size_t)n + 14);
    dtx_command c;
    cr_assert_eq(dtx_sbe_decode_order(&f, &c), 0);
    cr_expect_eq(c.price, DTX_PRICE_NULL);
    cr_expect_eq(c.stop_px, DTX_PRICE_NULL);
}

Test(net_sofh, non_zero_reserved_byte_is_invalid_field)
{
    uint8_t buf[128];
    size_t n = fh_new_order(buf, 5);
    buf[14 + 23] = 1; /* last reserved byte of NewOrderSingle */
    dtx_frame f = frame_of(buf, n);
    dtx_command c;
    cr_expect_eq(dtx_sbe_decode_order(&f, &c), DTX_REJ_INVALID_FIELD);
    cr_expect_eq(c.clordid, 5, "filled all the same, for the reject");

    n = fh_mass_cancel(buf, 6);
    buf[14 + 13] = 0x80;
    f = frame_of(buf, n);
    cr_expect_eq(dtx_sbe_decode_order(&f, &c), DTX_REJ_INVALID_FIELD);
    cr_expect_eq(c.type, DTX_CMD_MASS_CANCEL);
}

Test(net_sofh, cancel_replace_and_mass_cancel_decode)
{
    uint8_t buf[128];
    dtx_sbe_order_cancel_replace_request r = {.cl_ord_id = 9, .orig_cl_ord_id = 8, .order_id = 7,
                                              .security_id = 2, .side = 1, .price = INT64_MIN,
                                              .order_qty = 4, .display_qty = 1};
    ptrdiff_t n = dtx_sbe_order_cancel_replace_request_encode(buf + 14, 100, &r);
    dtx_sofh_put_headers(buf, (uint32_t)n, 56, 102, 7001, 1);
    dtx_frame f = frame_of(buf, (size_t)n + 14);
    dtx_command c;
    cr_assert_eq(dtx_sbe_decode_order(&f, &c), 0);
    cr_expect_eq(c.type, DTX_CMD_REPLACE);
    cr_expect_eq(c.clordid, 9);
    cr_expect_eq(c.orig_clordid, 8);
    cr_expect_eq(c.order_id, 7);
    cr_expect_eq(c.security_id, 2);
    cr_expect_eq(c.side, 1);
    cr_expect_eq(c.price, DTX_PRICE_NULL, "null keeps the price");
    cr_expect_eq(c.stop_px, DTX_PRICE_NULL);
    cr_expect_eq(c.qty, 4);
    cr_expect_eq(c.display_qty, 1);

    size_t k = fh_cancel(buf, 3, 44);
    f = frame_of(buf, k);
    cr_assert_eq(dtx_sbe_decode_order(&f, &c), 0);
    cr_expect_eq(c.type, DTX_CMD_CANCEL);
    cr_expect_eq(c.clordid, 3);
    cr_expect_eq(c.order_id, 44);
    cr_expect_eq(c.price, DTX_PRICE_NULL);

    k = fh_mass_cancel(buf, 12);
    f = frame_of(buf, k);
    cr_assert_eq(dtx_sbe_decode_order(&f, &c), 0);
    cr_expect_eq(c.type, DTX_CMD_MASS_CANCEL);
    cr_expect_eq(c.clordid, 12);
    cr_expect_eq(c.security_id, 0);
    cr_expect_eq(c.side, 0);
}

Test(net_sofh, session_frame_is_not_an_order)
{
    uint8_t buf[64];
    size_t n = fh_sequence(buf, 1);
    dtx_frame f = frame_of(buf, n);
    dtx_command c;
    cr_expect_eq(dtx_sbe_decode_order(&f, &c), -1);
}

Test(net_sofh, execution_report_trade_encodes_every_field)
{
    dtx_event ev = {0};
    ev.type = DTX_EV_FILL;
    ev.clordid = 1;
    ev.order_id = 2;
    ev.security_id = 3;
    ev.side = 2;
    ev.ord_status = 1;
    ev.aggressor = 1;
    ev.price = 50000000000;
    ev.last_qty = 4;
    ev.leaves_qty = 6;
    ev.cum_qty = 4;
    ev.trade_id = 9;
    ev.exec_id = 10;
    ev.ts = 11;
    uint8_t buf[DTX_REPORT_FRAME_MAX];
    size_t n = dtx_sbe_encode_report(buf, sizeof buf, &ev, 0, 0);
    cr_assert_eq(n, 14 + 88);
    dtx_frame f = frame_of(buf, n);
    cr_expect_eq(f.template_id, 201);
    cr_expect_eq(f.schema_id, 7001);
    cr_expect_eq(f.version, 1);
    const uint8_t *b = f.body;
    cr_expect_eq(dtx_sbe_load_u64(b + 0), 1);
    cr_expect_eq(dtx_sbe_load_u64(b + 8), 2);
    cr_expect_eq(dtx_sbe_load_u32(b + 16), 3);
    cr_expect_eq(b[20], 2);
    cr_expect_eq(b[21], 1);
    cr_expect_eq(b[22], 1);
    cr_expect_eq(b[23], 0);
    cr_expect_eq(dtx_sbe_load_i64(b + 24), 50000000000);
    cr_expect_eq(dtx_sbe_load_i64(b + 32), 4);
    cr_expect_eq(dtx_sbe_load_i64(b + 40), 6);
    cr_expect_eq(dtx_sbe_load_i64(b + 48), 4);
    cr_expect_eq(dtx_sbe_load_u64(b + 56), 9);
    cr_expect_eq(dtx_sbe_load_u64(b + 64), 10);
    cr_expect_eq(dtx_sbe_load_u64(b + 72), 11);
    cr_expect_eq(dtx_sbe_load_i64(b + 80), 0);
}

Test(net_sofh, every_report_type_encodes_to_its_template_and_block)
{
    static const struct {
        uint8_t type;
        uint16_t tid, block;
    } t[] = {{DTX_EV_NEW, 200, 72},           {DTX_EV_FILL, 201, 88},
             {DTX_EV_CANCELED, 202, 56},      {DTX_EV_REPLACED, 203, 80},
             {DTX_EV_REJECT, 204, 24},        {DTX_EV_CANCEL_REJECT, 205, 40},
             {DTX_EV_MASS_CANCEL_REPORT, 206, 24}, {DTX_EV_BUSINESS_REJECT, 207, 16}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dtx_event ev = {0};
        ev.type = t[i].type;
        ev.reject_reason = DTX_REJ_THROTTLED;
        uint8_t buf[DTX_REPORT_FRAME_MAX];
        size_t n = dtx_sbe_encode_report(buf, sizeof buf, &ev, 0, 0);
        cr_assert_gt(n, 0);
        dtx_frame f = frame_of(buf, n);
        cr_expect_eq(f.template_id, t[i].tid);
        cr_expect_eq(f.block_length, t[i].block);
        size_t var = t[i].tid == 204 || t[i].tid == 205 || t[i].tid == 207 ? 2 + 9 : 0;
        cr_expect_eq(n, 14u + t[i].block + var, "template %u", t[i].tid);
        if (var)
            cr_expect(memcmp(f.body + t[i].block + 2, "Throttled", 9) == 0);
    }
    dtx_event book = {0};
    book.type = DTX_EV_ADDED;
    uint8_t buf[DTX_REPORT_FRAME_MAX];
    cr_expect_eq(dtx_sbe_encode_report(buf, sizeof buf, &book, 0, 0), 0);
}

Test(net_sofh, business_reject_carries_ref_seq_and_template)
{
    dtx_event ev = {0};
    ev.type = DTX_EV_BUSINESS_REJECT;
    ev.reject_reason = DTX_REJ_UNKNOWN_INSTRUMENT;
    ev.ref_cmd_type = DTX_CMD_MASS_CANCEL;
    uint8_t buf[DTX_REPORT_FRAME_MAX];
    size_t n = dtx_sbe_encode_report(buf, sizeof buf, &ev, 17, 0);
    dtx_frame f = frame_of(buf, n);
    cr_expect_eq(dtx_sbe_load_u64(f.body), 17);
    cr_expect_eq(dtx_sbe_load_u16(f.body + 8), 103);
    cr_expect_eq(dtx_sbe_load_u16(f.body + 10), DTX_REJ_UNKNOWN_INSTRUMENT);
    n = dtx_sbe_encode_report(buf, sizeof buf, &ev, 18, 999);
    f = frame_of(buf, n);
    cr_expect_eq(dtx_sbe_load_u16(f.body + 8), 999);
    cr_expect_eq(dtx_sbe_encode_report(buf, 20, &ev, 18, 999), 0, "cap too small");
}
