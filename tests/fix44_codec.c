/*
 * fix44_codec.c - FIX 4.4 framing and conversions: BodyLength and CheckSum
 * decide what a message is, garbled bytes are skipped to the next
 * "8=FIX.4.4", prices convert to PRICE9 exactly and back, UTCTimestamps to
 * ns and back.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/fix44_harness.h"

static size_t msg(char *buf, const char *fields)
{
    return xh_build(buf, 512, "0", "FIRM7", 1, XH_T0, fields);
}

Test(fix44_codec, a_whole_message_frames_to_its_length)
{
    char buf[512];
    size_t n = msg(buf, "112=x|");
    size_t len = 0;
    cr_assert_eq(dtx_fix44_frame((const uint8_t *)buf, n, &len), FIX_FRAME_OK);
    cr_expect_eq(len, n);
    fix_msg m;
    cr_assert_eq(dtx_fix44_parse((const uint8_t *)buf, n, &m), 0);
    cr_expect_str_eq(m.type, "0");
    cr_expect_str_eq(xh_get(&m, 112), "x");
    cr_expect_str_eq(xh_get(&m, 56), "DTX");
}

Test(fix44_codec, every_prefix_needs_more)
{
    char buf[512];
    size_t n = msg(buf, "112=abc|");
    for (size_t k = 0; k < n; k++) {
        size_t len = 0;
        cr_assert_eq(dtx_fix44_frame((const uint8_t *)buf, k, &len), FIX_FRAME_NEED, "prefix %zu", k);
    }
}

Test(fix44_codec, wrong_checksum_is_garbled_and_skips_the_message)
{
    char buf[512];
    size_t n = msg(buf, "112=x|");
    buf[n - 2] = buf[n - 2] == '9' ? '0' : (char)(buf[n - 2] + 1);
    size_t len = 0;
    cr_expect_eq(dtx_fix44_frame((const uint8_t *)buf, n, &len), FIX_FRAME_GARBLED);
    cr_expect_eq(len, n);
}

Test(fix44_codec, wrong_body_length_is_garbled_and_resyncs_at_the_next_begin_string)
{
    char buf[1024];
    size_t n = msg(buf, "112=x|");
    /* BodyLength one too small: the trailer is not where it says */
    char *nine = strstr(buf, "\x01" "9=") + 3;
    nine[1] = (char)(nine[1] - 1);
    size_t n2 = msg(buf + n, "112=y|");
    size_t len = 0;
    cr_assert_eq(dtx_fix44_frame((const uint8_t *)buf, n + n2, &len), FIX_FRAME_GARBLED);
    cr_expect_eq(len, n, "skipped to the second message");
    cr_expect_eq(dtx_fix44_frame((const uint8_t *)buf + len, n2, &len), FIX_FRAME_OK);
}

Test(fix44_codec, noise_before_a_message_is_skipped)
{
    char buf[512] = "xx8=FI";
    size_t len = 0;
    cr_assert_eq(dtx_fix44_frame((const uint8_t *)buf, 6, &len), FIX_FRAME_GARBLED);
    cr_expect_eq(len, 2, "keeps the possible start 8=FI");
}

Test(fix44_codec, other_begin_string_is_reported)
{
    const char *m = "8=FIX.4.2\x01" "9=5\x01" "35=0\x01" "10=000\x01";
    size_t len = 0;
    cr_expect_eq(dtx_fix44_frame((const uint8_t *)m, strlen(m), &len), FIX_FRAME_BAD_BEGIN);
}

Test(fix44_codec, field_without_value_does_not_parse)
{
    char buf[512];
    size_t n = msg(buf, "112=|");
    fix_msg m;
    cr_expect_eq(dtx_fix44_parse((const uint8_t *)buf, n, &m), -1);
}

Test(fix44_codec, prices_convert_exactly_to_price9)
{
    int64_t p = 0;
    cr_assert_eq(dtx_fix44_parse_price("100", 3, &p), 0);
    cr_expect_eq(p, 100000000000);
    cr_assert_eq(dtx_fix44_parse_price("0.1", 3, &p), 0);
    cr_expect_eq(p, 100000000);
    cr_assert_eq(dtx_fix44_parse_price("-12.5", 5, &p), 0);
    cr_expect_eq(p, -12500000000);
    cr_assert_eq(dtx_fix44_parse_price("65000.123456789", 15, &p), 0);
    cr_expect_eq(p, 65000123456789);
    cr_assert_eq(dtx_fix44_parse_price("1.5000000000", 12, &p), 0, "zeros past 1e-9 are fine");
    cr_expect_eq(p, 1500000000);
    cr_assert_eq(dtx_fix44_parse_price(".5", 2, &p), 0);
    cr_expect_eq(p, 500000000);
    cr_assert_eq(dtx_fix44_parse_price("9223372036.854775807", 20, &p), 0);
    cr_expect_eq(p, INT64_MAX);
    cr_expect_eq(dtx_fix44_parse_price("1.0000000001", 12, &p), -2, "off the 1e-9 grid");
    cr_expect_eq(dtx_fix44_parse_price("9223372036.854775808", 20, &p), -1);
    cr_expect_eq(dtx_fix44_parse_price("1e5", 3, &p), -1);
    cr_expect_eq(dtx_fix44_parse_price("", 0, &p), -1);
    cr_expect_eq(dtx_fix44_parse_price("-", 1, &p), -1);
    cr_expect_eq(dtx_fix44_parse_price("1.2.3", 5, &p), -1);
}

Test(fix44_codec, prices_format_without_trailing_zeros)
{
    char b[32];
    cr_expect_eq(dtx_fix44_format_price(b, 100000000000), 3);
    cr_expect_str_eq(b, "100");
    dtx_fix44_format_price(b, 500000000);
    cr_expect_str_eq(b, "0.5");
    dtx_fix44_format_price(b, -1250000000);
    cr_expect_str_eq(b, "-1.25");
    dtx_fix44_format_price(b, 1);
    cr_expect_str_eq(b, "0.000000001");
    dtx_fix44_format_price(b, INT64_MAX);
    cr_expect_str_eq(b, "9223372036.854775807");
    dtx_fix44_format_price(b, INT64_MIN + 1);
    cr_expect_str_eq(b, "-9223372036.854775807");
}

Test(fix44_codec, utc_timestamps_convert_both_ways)
{
    uint64_t ns = 0;
    cr_assert_eq(dtx_fix44_parse_time("20260101-00:00:00", 17, &ns), 0);
    cr_expect_eq(ns, XH_T0);
    cr_assert_eq(dtx_fix44_parse_time("20260101-00:00:01.5", 19, &ns), 0);
    cr_expect_eq(ns, XH_T0 + 1500 * XH_MS);
    cr_assert_eq(dtx_fix44_parse_time("20240229-23:59:59.123456789", 27, &ns), 0);
    cr_expect_eq(ns, 1709251199123456789ull);
    cr_expect_eq(dtx_fix44_parse_time("20260101-24:00:00", 17, &ns), -1);
    cr_expect_eq(dtx_fix44_parse_time("20260101 00:00:00", 17, &ns), -1);
    cr_expect_eq(dtx_fix44_parse_time("20260101-00:00:00.", 18, &ns), -1);
    char b[32];
    cr_expect_eq(dtx_fix44_format_time(b, 1709251199123456789ull), 21);
    cr_expect_str_eq(b, "20240229-23:59:59.123");
    dtx_fix44_format_time(b, XH_T0);
    cr_expect_str_eq(b, "20260101-00:00:00.000");
}

Test(fix44_codec, hex_is_lowercase_only)
{
    uint8_t out[2];
    cr_expect_eq(dtx_fix44_unhex("0aff", 4, out, 2), 0);
    cr_expect_eq(out[0], 0x0a);
    cr_expect_eq(out[1], 0xff);
    cr_expect_eq(dtx_fix44_unhex("0AFF", 4, out, 2), -1);
    cr_expect_eq(dtx_fix44_unhex("0af", 3, out, 2), -1);
}

Test(fix44_codec, empty_values_are_left_out_of_written_messages)
{
    char b[64];
    fix_writer w = {.p = b, .cap = sizeof b};
    dtx_fix44_put_str(&w, 55, "");
    cr_expect_eq(w.len, 0);
    dtx_fix44_put_str(&w, 55, "X");
    cr_expect_eq(w.len, 5);
    cr_expect_eq(memcmp(b, "55=X\x01", 5), 0);
}
