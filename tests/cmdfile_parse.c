/*
 * cmdfile_parse.c - the command file formats (dtx/cmdfile.h): the text parser
 * for every verb and its defaults, exact PRICE9 conversion, the exact error
 * messages (line, field, value), the printers, and the binary form.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtx/cmdfile.h"
#include "dtx/types.h"

#define MAXC 64

typedef struct collected {
    dtx_command cmd[MAXC];
    size_t n;
} collected;

static dtx_status collect(void *ctx, const dtx_command *c)
{
    collected *col = ctx;
    if (col->n == MAXC)
        return DTX_EFULL;
    col->cmd[col->n++] = *c;
    return DTX_OK;
}

static dtx_status parse_text(const char *text, collected *col)
{
    col->n = 0;
    dtx_error_clear();
    return dtx_cmdfile_parse_text(text, strlen(text), collect, col);
}

/* Parses one line with a fresh parser; returns parse_line's result. */
static int parse1(const char *line, dtx_command *out)
{
    dtx_cmdtext_parser p;
    dtx_cmdtext_init(&p);
    dtx_error_clear();
    return dtx_cmdtext_parse_line(&p, line, strlen(line), out);
}

/* Asserts that text fails with exactly this message. */
static void expect_error(const char *text, const char *msg)
{
    collected col;
    dtx_status st = parse_text(text, &col);
    cr_assert_eq(st, DTX_EFORMAT, "'%s' parsed (status %d)", text, st);
    cr_assert_str_eq(dtx_error_message(), msg);
    cr_assert_eq(dtx_error_status(), DTX_EFORMAT);
}

static void expect_price(const char *s, int64_t want)
{
    int64_t got = 0;
    cr_assert_eq(dtx_price9_parse(s, strlen(s), &got), DTX_OK, "'%s' rejected", s);
    cr_assert_eq(got, want, "'%s' -> %lld, want %lld", s, (long long)got, (long long)want);
}

static void expect_bad_price(const char *s)
{
    int64_t got = 42;
    cr_assert_eq(dtx_price9_parse(s, strlen(s), &got), DTX_EFORMAT, "'%s' accepted", s);
    cr_assert_eq(got, 42, "'%s' wrote the output on failure", s);
}

static void expect_format_price(int64_t px, const char *want)
{
    char b[32];
    int n = dtx_price9_format(px, b, sizeof b);
    cr_assert_str_eq(b, want);
    cr_assert_eq(n, (int)strlen(want));
}

/* ---- every verb ------------------------------------------------------------- */

Test(cmdfile_text, new_order_sets_every_field)
{
    dtx_command c;
    cr_assert_eq(parse1("new seq=7 ts=1000 acct=1 sess=2 sec=1 clid=11 side=buy type=stoplimit "
                        "tif=gtd px=65000.5 qty=10 stop=64999 display=3 expire=5000 postonly "
                        "reduceonly stp=decrement",
                        &c),
                 1, "%s", dtx_error_message());
    cr_assert_eq(c.type, DTX_CMD_NEW_ORDER);
    cr_assert_eq(c.seq, 7);
    cr_assert_eq(c.ts, 1000);
    cr_assert_eq(c.account, 1);
    cr_assert_eq(c.session, 2);
    cr_assert_eq(c.security_id, 1);
    cr_assert_eq(c.clordid, 11);
    cr_assert_eq(c.side, DTX_SIDE_BUY);
    cr_assert_eq(c.ord_type, DTX_ORD_STOP_LIMIT);
    cr_assert_eq(c.tif, DTX_TIF_GTD);
    cr_assert_eq(c.price, 65000500000000LL);
    cr_assert_eq(c.stop_px, 64999000000000LL);
    cr_assert_eq(c.qty, 10);
    cr_assert_eq(c.display_qty, 3);
    cr_assert_eq(c.expire_time, 5000);
    cr_assert_eq(c.exec_inst, DTX_EXEC_POST_ONLY | DTX_EXEC_REDUCE_ONLY);
    cr_assert_eq(c.stp, DTX_STP_DECREMENT_AND_CANCEL);
    cr_assert_eq(c.orig_clordid, 0);
    cr_assert_eq(c.order_id, 0);
    cr_assert_eq(c.status, 0);
}

Test(cmdfile_text, new_order_defaults_are_null_prices_and_zeros)
{
    dtx_command c, want;
    cr_assert_eq(parse1("new acct=3 sess=4 sec=2 clid=5 side=sell type=market tif=ioc qty=1", &c),
                 1, "%s", dtx_error_message());
    want = dtx_command_blank(DTX_CMD_NEW_ORDER);
    want.seq = 1;
    want.ts = 1000;
    want.account = 3;
    want.session = 4;
    want.security_id = 2;
    want.clordid = 5;
    want.side = DTX_SIDE_SELL;
    want.ord_type = DTX_ORD_MARKET;
    want.tif = DTX_TIF_IOC;
    want.qty = 1;
    cr_assert_eq(memcmp(&c, &want, sizeof c), 0, "record differs from the expected one");
}

Test(cmdfile_text, enums_take_every_name_and_raw_numbers)
{
    static const struct {
        const char *text;
        unsigned tif;
    } tifs[] = {{"day", 0}, {"gtc", 1}, {"ioc", 3}, {"fok", 4}, {"gtd", 6}, {"9", 9}};
    static const char *const types[] = {"market", "limit", "stop", "stoplimit"};
    static const char *const stps[] = {"newest", "oldest", "both", "decrement"};
    char line[256];
    dtx_command c;
    size_t i;
    for (i = 0; i < sizeof tifs / sizeof tifs[0]; i++) {
        snprintf(line, sizeof line,
                 "new acct=1 sess=1 sec=1 clid=1 side=7 type=limit tif=%s qty=1", tifs[i].text);
        cr_assert_eq(parse1(line, &c), 1, "%s", dtx_error_message());
        cr_assert_eq(c.tif, tifs[i].tif);
        cr_assert_eq(c.side, 7);
    }
    for (i = 0; i < 4; i++) {
        snprintf(line, sizeof line,
                 "new acct=1 sess=1 sec=1 clid=1 side=sell type=%s tif=gtc qty=1 stp=%s exec=4",
                 types[i], stps[i]);
        cr_assert_eq(parse1(line, &c), 1, "%s", dtx_error_message());
        cr_assert_eq(c.ord_type, i + 1);
        cr_assert_eq(c.stp, i);
        cr_assert_eq(c.exec_inst, 4);
    }
}

Test(cmdfile_text, cancel_by_clordid_and_by_order_id)
{
    dtx_command c;
    cr_assert_eq(parse1("cancel ts=5 acct=1 clid=12 orig=11", &c), 1, "%s", dtx_error_message());
    cr_assert_eq(c.type, DTX_CMD_CANCEL);
    cr_assert_eq(c.ts, 5);
    cr_assert_eq(c.account, 1);
    cr_assert_eq(c.clordid, 12);
    cr_assert_eq(c.orig_clordid, 11);
    cr_assert_eq(c.order_id, 0);
    cr_assert_eq(c.security_id, 0);
    cr_assert_eq(c.side, 0);
    cr_assert_eq(c.price, DTX_PRICE_NULL);
    cr_assert_eq(c.stop_px, DTX_PRICE_NULL);

    cr_assert_eq(parse1("cancel acct=1 sess=3 clid=13 oid=4294967297 sec=2 side=sell", &c), 1,
                 "%s", dtx_error_message());
    cr_assert_eq(c.order_id, 4294967297ULL);
    cr_assert_eq(c.orig_clordid, 0);
    cr_assert_eq(c.session, 3);
    cr_assert_eq(c.security_id, 2);
    cr_assert_eq(c.side, DTX_SIDE_SELL);
}

Test(cmdfile_text, replace_keeps_null_price_when_px_absent)
{
    dtx_command c;
    cr_assert_eq(parse1("replace acct=1 clid=14 orig=12 qty=8 display=2", &c), 1, "%s",
                 dtx_error_message());
    cr_assert_eq(c.type, DTX_CMD_REPLACE);
    cr_assert_eq(c.clordid, 14);
    cr_assert_eq(c.orig_clordid, 12);
    cr_assert_eq(c.qty, 8);
    cr_assert_eq(c.display_qty, 2);
    cr_assert_eq(c.price, DTX_PRICE_NULL);

    cr_assert_eq(parse1("replace acct=1 clid=15 oid=9 sec=1 side=buy px=3500.05 qty=20", &c), 1,
                 "%s", dtx_error_message());
    cr_assert_eq(c.price, 3500050000000LL);
    cr_assert_eq(c.order_id, 9);
}

Test(cmdfile_text, mass_time_status_cod)
{
    dtx_command c;
    cr_assert_eq(parse1("mass acct=2 clid=99", &c), 1, "%s", dtx_error_message());
    cr_assert_eq(c.type, DTX_CMD_MASS_CANCEL);
    cr_assert_eq(c.account, 2);
    cr_assert_eq(c.clordid, 99);
    cr_assert_eq(c.security_id, 0);
    cr_assert_eq(c.side, 0);
    cr_assert_eq(parse1("mass acct=2 clid=99 sec=1 side=sell", &c), 1, "%s", dtx_error_message());
    cr_assert_eq(c.security_id, 1);
    cr_assert_eq(c.side, DTX_SIDE_SELL);

    cr_assert_eq(parse1("time ts=86400000000000", &c), 1, "%s", dtx_error_message());
    cr_assert_eq(c.type, DTX_CMD_TIME);
    cr_assert_eq(c.ts, 86400000000000ULL);

    cr_assert_eq(parse1("status sec=2 status=halted", &c), 1, "%s", dtx_error_message());
    cr_assert_eq(c.type, DTX_CMD_INSTRUMENT_STATUS);
    cr_assert_eq(c.security_id, 2);
    cr_assert_eq(c.status, DTX_TRADING_HALTED);
    cr_assert_eq(parse1("status sec=2 status=open", &c), 1);
    cr_assert_eq(c.status, DTX_TRADING_OPEN);
    cr_assert_eq(parse1("status sec=2 status=closed", &c), 1);
    cr_assert_eq(c.status, DTX_TRADING_CLOSED);

    cr_assert_eq(parse1("cod acct=7 sess=3", &c), 1, "%s", dtx_error_message());
    cr_assert_eq(c.type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_assert_eq(c.account, 7);
    cr_assert_eq(c.session, 3);
}

Test(cmdfile_text, utc_times_convert_to_ns)
{
    dtx_command c;
    cr_assert_eq(parse1("time ts=2025-06-02T09:30:00Z", &c), 1, "%s", dtx_error_message());
    cr_assert_eq(c.ts, 1748856600000000000ULL);
    cr_assert_eq(parse1("time ts=2024-02-29T23:59:59.123456789Z", &c), 1, "%s",
                 dtx_error_message());
    cr_assert_eq(c.ts, 1709251199123456789ULL);
    cr_assert_eq(parse1("time ts=1970-01-01T00:00:00.5Z", &c), 1, "%s", dtx_error_message());
    cr_assert_eq(c.ts, 500000000ULL);
    cr_assert_eq(parse1("time ts=2554-07-21T23:34:33Z", &c), 1, "%s", dtx_error_message());
    cr_assert_eq(c.ts, 18446744073000000000ULL);
    cr_assert_eq(parse1("time ts=2554-07-21T23:34:34Z", &c), DTX_EFORMAT);
    cr_assert_str_eq(dtx_error_message(), "line 1: ts: '2554-07-21T23:34:34Z' is out of range "
                                          "(1970-01-01T00:00:00Z..2554-07-21T23:34:33Z)");
    cr_assert_eq(parse1("time ts=2023-02-29T00:00:00Z", &c), DTX_EFORMAT);
    cr_assert_str_eq(dtx_error_message(),
                     "line 1: ts: '2023-02-29T00:00:00Z' is not a time "
                     "(ns since the epoch, or YYYY-MM-DDTHH:MM:SS[.fraction]Z)");
}

/* ---- defaults, comments, lines ----------------------------------------------- */

Test(cmdfile_text, seq_by_line_order_and_ts_plus_one_microsecond)
{
    collected col;
    cr_assert_eq(parse_text("# a comment\n"
                            "\n"
                            "time ts=5000\n"
                            "   \t \n"
                            "cod acct=1 sess=1   # trailing comment\n"
                            "time ts=9000 seq=100\n"
                            "cod acct=1 sess=2\r\n"
                            "cod acct=1 sess=3",
                            &col),
                 DTX_OK, "%s", dtx_error_message());
    cr_assert_eq(col.n, 5);
    cr_assert_eq(col.cmd[0].seq, 1);
    cr_assert_eq(col.cmd[0].ts, 5000);
    cr_assert_eq(col.cmd[1].seq, 2);
    cr_assert_eq(col.cmd[1].ts, 6000);
    cr_assert_eq(col.cmd[2].seq, 100);
    cr_assert_eq(col.cmd[2].ts, 9000);
    cr_assert_eq(col.cmd[3].seq, 101);
    cr_assert_eq(col.cmd[3].ts, 10000);
    cr_assert_eq(col.cmd[3].session, 2);
    cr_assert_eq(col.cmd[4].seq, 102);
    cr_assert_eq(col.cmd[4].ts, 11000);
    cr_assert_eq(col.cmd[4].session, 3);
}

Test(cmdfile_text, first_command_defaults_to_seq_1_ts_1us)
{
    dtx_command c;
    cr_assert_eq(parse1("cod acct=1 sess=1", &c), 1);
    cr_assert_eq(c.seq, 1);
    cr_assert_eq(c.ts, 1000);
}

Test(cmdfile_text, blank_and_comment_lines_give_nothing)
{
    dtx_cmdtext_parser p;
    dtx_command c;
    dtx_cmdtext_init(&p);
    cr_assert_eq(dtx_cmdtext_parse_line(&p, "", 0, &c), 0);
    cr_assert_eq(dtx_cmdtext_parse_line(&p, "\n", 1, &c), 0);
    cr_assert_eq(dtx_cmdtext_parse_line(&p, "  # new qty=x\r\n", 15, &c), 0);
    cr_assert_eq(p.line, 3);
    cr_assert_eq(p.prev_seq, 0);
}

Test(cmdfile_text, an_error_leaves_the_defaults_unchanged)
{
    dtx_cmdtext_parser p;
    dtx_command c;
    dtx_cmdtext_init(&p);
    cr_assert_eq(dtx_cmdtext_parse_line(&p, "time ts=100", 11, &c), 1);
    cr_assert_eq(dtx_cmdtext_parse_line(&p, "time ts=x", 9, &c), DTX_EFORMAT);
    cr_assert_eq(dtx_cmdtext_parse_line(&p, "cod acct=1 sess=1", 17, &c), 1);
    cr_assert_eq(c.seq, 2);
    cr_assert_eq(c.ts, 1100);
    cr_assert_eq(p.line, 3);
}

/* ---- PRICE9 ------------------------------------------------------------------- */

Test(cmdfile_price, decimal_to_price9_is_exact)
{
    expect_price("65000.5", 65000500000000LL); /* 65000.5 * 10^9 */
    expect_price("0.000000001", 1);
    expect_price("3500.05", 3500050000000LL);
    expect_price("0.1", 100000000);
    expect_price("0.3", 300000000);
    expect_price("1", 1000000000);
    expect_price("0", 0);
    expect_price("-0.5", -500000000);
    expect_price("+2", 2000000000);
    expect_price("007.250", 7250000000LL);
    expect_price("1.000000000", 1000000000);
    expect_price("9223372036.854775807", INT64_MAX);
    expect_price("-9223372036.854775807", -INT64_MAX);
    expect_price("-9223372036.854775808", INT64_MIN);
}

Test(cmdfile_price, bad_prices_are_rejected)
{
    expect_bad_price("1.0000000001");
    expect_bad_price("1.5000000000");
    expect_bad_price("abc");
    expect_bad_price("");
    expect_bad_price("-");
    expect_bad_price(".5");
    expect_bad_price("5.");
    expect_bad_price("1e5");
    expect_bad_price("0x10");
    expect_bad_price("1,5");
    expect_bad_price("65000.x");
    expect_bad_price(" 1");
    expect_bad_price("--1");
    expect_bad_price("9223372036.854775808");
    expect_bad_price("-9223372036.854775809");
    expect_bad_price("9223372037");
    expect_bad_price("99999999999999999999999999");
}

Test(cmdfile_price, price9_prints_shortest_exact_decimal)
{
    expect_format_price(65000500000000LL, "65000.5");
    expect_format_price(1, "0.000000001");
    expect_format_price(-1, "-0.000000001");
    expect_format_price(0, "0");
    expect_format_price(3500050000000LL, "3500.05");
    expect_format_price(-7000000000LL, "-7");
    expect_format_price(INT64_MAX, "9223372036.854775807");
    expect_format_price(-INT64_MAX, "-9223372036.854775807");
    expect_format_price(DTX_PRICE_NULL, "null");
}

Test(cmdfile_price, price9_format_truncates_like_snprintf)
{
    char b[5];
    cr_assert_eq(dtx_price9_format(65000500000000LL, b, sizeof b), 7);
    cr_assert_str_eq(b, "6500");
    cr_assert_eq(dtx_price9_format(65000500000000LL, NULL, 0), 7);
}

/* ---- error messages --------------------------------------------------------- */

Test(cmdfile_errors, bad_price_names_line_field_and_value)
{
    expect_error("# header\n"
                 "time ts=1\n"
                 "\n"
                 "\n"
                 "\n"
                 "\n"
                 "\n"
                 "\n"
                 "\n"
                 "\n"
                 "# line 11\n"
                 "new acct=1 sess=1 sec=1 clid=11 side=buy type=limit tif=gtc px=65000.x qty=10\n",
                 "line 12: px: '65000.x' is not a decimal price");
}

Test(cmdfile_errors, too_many_decimals)
{
    expect_error("new acct=1 sess=1 sec=1 clid=1 side=buy type=limit tif=gtc qty=1 px=1.0000000001",
                 "line 1: px: '1.0000000001' has more than 9 decimals");
}

Test(cmdfile_errors, not_a_price)
{
    expect_error("time ts=1\nnew acct=1 sess=1 sec=1 clid=1 side=buy type=stop tif=gtc qty=1 stop=abc",
                 "line 2: stop: 'abc' is not a decimal price");
}

Test(cmdfile_errors, price_overflow)
{
    expect_error("replace acct=1 clid=2 orig=1 qty=1 px=9223372037",
                 "line 1: px: '9223372037' is out of range (a PRICE9: |price| <= 9223372036.854775807)");
}

Test(cmdfile_errors, integer_overflow_and_syntax)
{
    expect_error("cod acct=1 sess=65536",
                 "line 1: sess: '65536' is out of range (0..65535)");
    expect_error("cod acct=4294967296 sess=1",
                 "line 1: acct: '4294967296' is out of range (0..4294967295)");
    expect_error("cancel acct=1 clid=18446744073709551616 orig=1",
                 "line 1: clid: '18446744073709551616' is out of range (0..18446744073709551615)");
    expect_error("new acct=1 sess=1 sec=1 clid=1 side=buy type=limit tif=gtc qty=9223372036854775808",
                 "line 1: qty: '9223372036854775808' is out of range "
                 "(-9223372036854775808..9223372036854775807)");
    expect_error("new acct=1 sess=1 sec=1 clid=1 side=buy type=limit tif=gtc qty=10x",
                 "line 1: qty: '10x' is not an integer");
    expect_error("cod acct=-1 sess=1", "line 1: acct: '-1' is not an unsigned integer");
    expect_error("new acct=1 sess=1 sec=1 clid=1 side=buy type=limit tif=gtc qty=1 exec=256",
                 "line 1: exec: '256' is out of range (0..255)");
}

Test(cmdfile_errors, negative_quantities_parse_for_the_engine_to_reject)
{
    dtx_command c;
    cr_assert_eq(parse1("new acct=1 sess=1 sec=1 clid=1 side=buy type=limit tif=gtc qty=-5 px=-1",
                        &c),
                 1, "%s", dtx_error_message());
    cr_assert_eq(c.qty, -5);
    cr_assert_eq(c.price, -1000000000LL);
}

Test(cmdfile_errors, missing_required_fields)
{
    expect_error("new acct=1 sess=1 sec=1 clid=11 side=buy type=limit tif=gtc px=1",
                 "line 1: qty: missing (required by new)");
    expect_error("new sess=1 sec=1 clid=11 side=buy type=limit tif=gtc px=1 qty=1",
                 "line 1: acct: missing (required by new)");
    expect_error("time ts=1\ntime", "line 2: ts: missing (required by time)");
    expect_error("status sec=1", "line 1: status: missing (required by status)");
    expect_error("cod acct=1", "line 1: sess: missing (required by cod)");
    expect_error("mass clid=1", "line 1: acct: missing (required by mass)");
    expect_error("cancel acct=1 clid=2", "line 1: orig: missing (cancel needs orig= or oid=)");
    expect_error("replace acct=1 clid=2 qty=3", "line 1: orig: missing (replace needs orig= or oid=)");
}

Test(cmdfile_errors, unknown_keys_and_fields_of_other_verbs)
{
    expect_error("cod acct=1 sess=1 colour=red", "line 1: 'colour': unknown field");
    expect_error("cod acct=1 sess=1 bogus", "line 1: 'bogus': unknown field");
    expect_error("cancel acct=1 clid=2 orig=1 px=5",
                 "line 1: px: not a field of cancel (it takes seq ts acct sess sec clid orig oid side)");
    expect_error("time ts=1 acct=1", "line 1: acct: not a field of time (it takes seq ts)");
}

Test(cmdfile_errors, unknown_command)
{
    expect_error("\n\nneww acct=1", "line 3: command: 'neww' is not a command "
                                   "(new, cancel, replace, mass, time, status, cod)");
}

Test(cmdfile_errors, bad_enum_values)
{
    expect_error("new acct=1 sess=1 sec=1 clid=1 side=bid type=limit tif=gtc qty=1",
                 "line 1: side: 'bid' is not a side (buy, sell or 0..255)");
    expect_error("new acct=1 sess=1 sec=1 clid=1 side=buy type=limit tif=gtx qty=1",
                 "line 1: tif: 'gtx' is not a time in force (day, gtc, ioc, fok, gtd or 0..255)");
    expect_error("new acct=1 sess=1 sec=1 clid=1 side=buy type=Limit tif=gtc qty=1",
                 "line 1: type: 'Limit' is not an order type (market, limit, stop, stoplimit or 0..255)");
    expect_error("new acct=1 sess=1 sec=1 clid=1 side=buy type=limit tif=gtc qty=1 stp=256",
                 "line 1: stp: '256' is not a self-trade mode (newest, oldest, both, decrement or 0..255)");
    expect_error("status sec=1 status=paused",
                 "line 1: status: 'paused' is not a trading status (open, halted, closed or 0..255)");
}

Test(cmdfile_errors, duplicate_empty_and_flag_misuse)
{
    expect_error("cod acct=1 sess=1 acct=2", "line 1: acct: given twice");
    expect_error("cod acct= sess=1", "line 1: acct: empty value");
    expect_error("cod acct sess=1", "line 1: acct: needs a value (acct=...)");
    expect_error("new acct=1 sess=1 sec=1 clid=1 side=buy type=limit tif=gtc qty=1 postonly=1",
                 "line 1: postonly: is a flag and takes no value (got 'postonly=1')");
    expect_error("new acct=1 sess=1 sec=1 clid=1 side=buy type=limit tif=gtc qty=1 postonly postonly",
                 "line 1: postonly: given twice");
}

Test(cmdfile_errors, offending_values_are_escaped_and_cut)
{
    expect_error("cod acct=1 sess=\x01'\\\xff", "line 1: sess: '\\x01\\x27\\x5c\\xff' is not an unsigned integer");
    expect_error("cod acct=1 sess=12345678901234567890123456789012345678901234567890",
                 "line 1: sess: '1234567890123456789012345678901234567890...' is out of range (0..65535)");
}

Test(cmdfile_errors, nul_bytes_and_long_lines)
{
    static const char with_nul[] = "time ts=1\ncod acct=1\0 sess=1\n";
    collected col = {.n = 0};
    char *big;
    cr_assert_eq(dtx_cmdfile_parse_text(with_nul, sizeof with_nul - 1, collect, &col), DTX_EFORMAT);
    cr_assert_str_eq(dtx_error_message(), "line 2: NUL byte at column 11 (not a text command file?)");

    big = malloc(DTX_CMDTEXT_MAX_LINE + 16);
    cr_assert_not_null(big);
    memset(big, ' ', DTX_CMDTEXT_MAX_LINE + 1);
    big[DTX_CMDTEXT_MAX_LINE + 1] = '\0';
    expect_error(big, "line 1: longer than 4096 bytes (4097)");
    big[DTX_CMDTEXT_MAX_LINE] = '\n'; /* exactly the limit: a blank line */
    cr_assert_eq(parse_text(big, &col), DTX_OK);
    free(big);
}

Test(cmdfile_errors, seq_default_overflow)
{
    expect_error("time ts=1 seq=18446744073709551615\ntime ts=2",
                 "line 2: seq: previous seq + 1 overflows");
}

Test(cmdfile_errors, callback_status_stops_the_parse)
{
    collected col;
    char text[MAXC * 12 + 64];
    size_t i, o = 0;
    for (i = 0; i < MAXC + 1; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "time ts=%zu\n", i + 1);
    cr_assert_eq(parse_text(text, &col), DTX_EFULL);
    cr_assert_eq(col.n, MAXC);
}

/* ---- round trips -------------------------------------------------------------- */

/* text -> record -> text gives the canonical line, and that line parses back to
 * the same record byte for byte. */
static void round_trip(const char *in, const char *canonical)
{
    dtx_command a, b;
    char line[DTX_CMDTEXT_LINE_CAP];
    int n;
    cr_assert_eq(parse1(in, &a), 1, "'%s': %s", in, dtx_error_message());
    n = dtx_cmdtext_format(&a, line, sizeof line);
    cr_assert_str_eq(line, canonical);
    cr_assert_eq(n, (int)strlen(canonical));
    cr_assert_eq(parse1(line, &b), 1, "'%s': %s", line, dtx_error_message());
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "'%s' does not parse back to the same record", line);
}

Test(cmdfile_roundtrip, text_record_text)
{
    round_trip("new ts=1000 acct=1 sess=1 sec=1 clid=11 side=buy type=limit tif=gtc px=65000.5 qty=10",
               "new seq=1 ts=1000 acct=1 sess=1 sec=1 clid=11 side=buy type=limit tif=gtc "
               "px=65000.5 qty=10");
    round_trip("new stp=both reduceonly postonly exec=12 expire=99 display=2 stop=3499.95 qty=7 "
               "tif=gtd type=stoplimit side=sell clid=3 sec=2 sess=9 acct=4 ts=50 seq=4 px=3500",
               "new seq=4 ts=50 acct=4 sess=9 sec=2 clid=3 side=sell type=stoplimit tif=gtd "
               "px=3500 qty=7 stop=3499.95 display=2 expire=99 postonly reduceonly exec=12 stp=both");
    round_trip("new acct=0 sess=0 sec=0 clid=0 side=0 type=0 tif=255 qty=-3 px=-0.000000001",
               "new seq=1 ts=1000 acct=0 sess=0 sec=0 clid=0 side=0 type=0 tif=255 "
               "px=-0.000000001 qty=-3");
    round_trip("cancel acct=1 clid=12 orig=11",
               "cancel seq=1 ts=1000 acct=1 clid=12 orig=11");
    round_trip("cancel acct=1 clid=12 oid=77 sec=1 side=buy sess=2",
               "cancel seq=1 ts=1000 acct=1 sess=2 sec=1 clid=12 oid=77 side=buy");
    round_trip("cancel acct=1 clid=12 orig=0",
               "cancel seq=1 ts=1000 acct=1 clid=12 orig=0");
    round_trip("replace acct=1 clid=13 orig=12 oid=5 qty=4 px=65001 display=1 side=3",
               "replace seq=1 ts=1000 acct=1 clid=13 orig=12 oid=5 side=3 px=65001 qty=4 display=1");
    round_trip("mass acct=2 clid=99", "mass seq=1 ts=1000 acct=2 clid=99");
    round_trip("mass acct=2 clid=99 sec=1 side=sell",
               "mass seq=1 ts=1000 acct=2 sec=1 clid=99 side=sell");
    round_trip("time ts=2025-06-02T09:30:00Z", "time seq=1 ts=1748856600000000000");
    round_trip("status sec=1 status=halted", "status seq=1 ts=1000 sec=1 status=halted");
    round_trip("status sec=1 status=0", "status seq=1 ts=1000 sec=1 status=0");
    round_trip("cod acct=5 sess=6", "cod seq=1 ts=1000 acct=5 sess=6");
}

Test(cmdfile_roundtrip, record_without_a_verb_is_refused)
{
    dtx_command c = dtx_command_blank(99);
    char line[DTX_CMDTEXT_LINE_CAP];
    cr_assert_eq(dtx_cmdtext_format(&c, line, sizeof line), DTX_EINVAL);
    cr_assert_str_eq(dtx_error_message(), "command type 99 has no text form");
    cr_assert_str_eq(dtx_cmd_type_name(99), "?");
    cr_assert_str_eq(dtx_cmd_type_name(DTX_CMD_REPLACE), "replace");
}

Test(cmdfile_roundtrip, longest_line_fits_the_line_cap)
{
    dtx_command c = dtx_command_blank(DTX_CMD_NEW_ORDER);
    char line[DTX_CMDTEXT_LINE_CAP];
    dtx_command back;
    c.seq = c.ts = c.clordid = c.expire_time = UINT64_MAX;
    c.account = c.security_id = UINT32_MAX;
    c.session = UINT16_MAX;
    c.side = c.ord_type = c.tif = c.exec_inst = c.stp = 255;
    c.price = c.stop_px = c.qty = c.display_qty = INT64_MIN + 1;
    cr_assert_lt(dtx_cmdtext_format(&c, line, sizeof line), DTX_CMDTEXT_LINE_CAP);
    cr_assert_eq(parse1(line, &back), 1, "%s", dtx_error_message());
    cr_assert_eq(memcmp(&c, &back, sizeof c), 0);
}

/* ---- events ---------------------------------------------------------------- */

Test(cmdfile_events, fill_line_has_every_field)
{
    dtx_event e;
    char line[DTX_CMDTEXT_LINE_CAP];
    memset(&e, 0, sizeof e);
    e.type = DTX_EV_FILL;
    e.side = DTX_SIDE_SELL;
    e.ord_type = DTX_ORD_LIMIT;
    e.ord_status = DTX_STATUS_FILLED;
    e.aggressor = 1;
    e.session = 2;
    e.contra_session = 1;
    e.security_id = 1;
    e.account = 2;
    e.contra_account = 1;
    e.seq = 7;
    e.ts = 7000;
    e.exec_id = 19;
    e.order_id = 4294967299ULL;
    e.clordid = 21;
    e.contra_order_id = 4294967297ULL;
    e.price = 65000500000000LL;
    e.order_qty = 3;
    e.last_qty = 3;
    e.leaves_qty = 0;
    e.cum_qty = 3;
    e.trade_id = 4;
    dtx_event_format(&e, line, sizeof line);
    cr_assert_str_eq(line, "FILL seq=7 ts=7000 exec_id=19 acct=2 sess=2 sec=1 oid=4294967299 "
                           "clid=21 side=Sell px=65000.5 last=3 leaves=0 cum=3 qty=3 trade=4 "
                           "status=Filled aggressor=1 contra_acct=1 contra_sess=1 "
                           "contra_oid=4294967297");
}

Test(cmdfile_events, reject_cancel_and_unknown_values)
{
    dtx_event e;
    char line[DTX_CMDTEXT_LINE_CAP];
    memset(&e, 0, sizeof e);
    e.type = DTX_EV_REJECT;
    e.reject_reason = DTX_REJ_POST_ONLY_WOULD_TRADE;
    e.side = DTX_SIDE_BUY;
    e.ord_type = DTX_ORD_LIMIT;
    e.price = 3500050000000LL;
    e.order_qty = 5;
    e.seq = 1;
    e.ts = 2;
    e.exec_id = 3;
    e.account = 4;
    e.session = 5;
    e.security_id = 2;
    e.clordid = 6;
    dtx_event_format(&e, line, sizeof line);
    cr_assert_str_eq(line, "REJECT seq=1 ts=2 exec_id=3 acct=4 sess=5 sec=2 oid=0 clid=6 "
                           "reason=PostOnlyWouldTrade side=Buy type=Limit px=3500.05 qty=5");

    memset(&e, 0, sizeof e);
    e.type = DTX_EV_CANCELED;
    e.cancel_reason = DTX_CANCEL_EXPIRED;
    e.side = 9;
    e.flags = DTX_EVF_ON_BOOK | 0x40;
    e.price = DTX_PRICE_NULL;
    e.leaves_qty = 4;
    e.order_qty = 4;
    dtx_event_format(&e, line, sizeof line);
    cr_assert_str_eq(line, "CANCELED seq=0 ts=0 exec_id=0 acct=0 sess=0 sec=0 oid=0 clid=0 "
                           "reason=Expired side=9 orig=0 px=null qty=4 leaves=4 cum=0 "
                           "flags=ON_BOOK|0x40");

    memset(&e, 0, sizeof e);
    e.type = DTX_EV_BUSINESS_REJECT;
    e.reject_reason = DTX_REJ_INVALID_FIELD;
    e.ref_cmd_type = 42;
    dtx_event_format(&e, line, sizeof line);
    cr_assert_str_eq(line, "BUSINESS_REJECT seq=0 ts=0 exec_id=0 acct=0 sess=0 sec=0 oid=0 "
                           "clid=0 reason=InvalidField ref_cmd=42");
}

Test(cmdfile_events, every_event_type_fits_the_line_cap)
{
    static const int fills[] = {0xff, 0x80, 0x88, 0x99, 0xa5};
    dtx_event e;
    char line[DTX_CMDTEXT_LINE_CAP];
    unsigned t, f;
    for (f = 0; f < sizeof fills / sizeof fills[0]; f++) {
        memset(&e, fills[f], sizeof e);
        for (t = 0; t < 256; t++) {
            e.type = (uint8_t)t;
            e.price = e.order_qty = e.last_qty = e.leaves_qty = e.cum_qty = INT64_MIN + 1;
            cr_assert_lt(dtx_event_format(&e, line, sizeof line), DTX_CMDTEXT_LINE_CAP);
        }
    }
}

/* ---- binary ------------------------------------------------------------------- */

static size_t make_binary(unsigned char *buf, const dtx_command *c, size_t n)
{
    dtx_cmdfile_encode_header(buf);
    memcpy(buf + DTX_CMDFILE_HEADER_SIZE, c, n * sizeof *c);
    return DTX_CMDFILE_HEADER_SIZE + n * sizeof *c;
}

Test(cmdfile_binary, header_layout)
{
    unsigned char h[DTX_CMDFILE_HEADER_SIZE];
    static const unsigned char want[DTX_CMDFILE_HEADER_SIZE] = {
        'D', 'T', 'X', 'C', 'M', 'D', '0', '1', 128, 0, 0, 0, 0, 0, 0, 0};
    dtx_cmdfile_encode_header(h);
    cr_assert_eq(memcmp(h, want, sizeof h), 0);
    cr_assert_eq(dtx_cmdfile_is_binary(h, sizeof h), 1);
    cr_assert_eq(dtx_cmdfile_is_binary(h, 7), 0);
    cr_assert_eq(dtx_cmdfile_is_binary("new acct", 8), 0);
}

Test(cmdfile_binary, text_to_binary_and_back_is_the_same_records)
{
    collected text, bin;
    unsigned char buf[DTX_CMDFILE_HEADER_SIZE + MAXC * 128];
    size_t len;
    cr_assert_eq(parse_text("new acct=1 sess=1 sec=1 clid=11 side=buy type=limit tif=gtc px=65000.5 qty=10\n"
                            "replace acct=1 clid=12 orig=11 qty=5\n"
                            "time ts=2025-06-02T09:30:00Z\n"
                            "mass acct=1 clid=13\n",
                            &text),
                 DTX_OK, "%s", dtx_error_message());
    len = make_binary(buf, text.cmd, text.n);
    bin.n = 0;
    cr_assert_eq(dtx_cmdfile_parse(buf, len, collect, &bin), DTX_OK, "%s", dtx_error_message());
    cr_assert_eq(bin.n, 4);
    cr_assert_eq(memcmp(bin.cmd, text.cmd, 4 * sizeof(dtx_command)), 0);
    /* and the raw records are passed through as is, even ones with no verb */
    text.cmd[1] = dtx_command_blank(250);
    text.cmd[1].pad[3] = 7;
    len = make_binary(buf, text.cmd, 2);
    bin.n = 0;
    cr_assert_eq(dtx_cmdfile_parse_binary(buf, len, collect, &bin), DTX_OK);
    cr_assert_eq(bin.n, 2);
    cr_assert_eq(memcmp(&bin.cmd[1], &text.cmd[1], sizeof(dtx_command)), 0);
}

Test(cmdfile_binary, header_only_is_an_empty_file)
{
    unsigned char buf[DTX_CMDFILE_HEADER_SIZE];
    collected col = {.n = 0};
    dtx_cmdfile_encode_header(buf);
    cr_assert_eq(dtx_cmdfile_parse(buf, sizeof buf, collect, &col), DTX_OK);
    cr_assert_eq(col.n, 0);
}

Test(cmdfile_binary, truncated_files_are_rejected)
{
    unsigned char buf[DTX_CMDFILE_HEADER_SIZE + 2 * 128];
    dtx_command c[2];
    collected col = {.n = 0};
    size_t len;
    c[0] = dtx_command_blank(DTX_CMD_TIME);
    c[1] = dtx_command_blank(DTX_CMD_TIME);
    len = make_binary(buf, c, 2);
    cr_assert_eq(dtx_cmdfile_parse(buf, len - 1, collect, &col), DTX_EFORMAT);
    cr_assert_str_eq(dtx_error_message(),
                     "binary: truncated: 127 bytes after record 1 (records are 128 bytes)");
    cr_assert_eq(col.n, 0, "no record is delivered from a truncated file");
    cr_assert_eq(dtx_cmdfile_parse(buf, 12, collect, &col), DTX_EFORMAT);
    cr_assert_str_eq(dtx_error_message(), "binary: file is 12 bytes, shorter than the 16-byte header");
}

Test(cmdfile_binary, bad_headers_are_rejected)
{
    unsigned char buf[DTX_CMDFILE_HEADER_SIZE];
    collected col = {.n = 0};
    dtx_cmdfile_encode_header(buf);
    buf[8] = 64;
    cr_assert_eq(dtx_cmdfile_parse(buf, sizeof buf, collect, &col), DTX_EFORMAT);
    cr_assert_str_eq(dtx_error_message(), "binary: record size 64, expected 128");
    dtx_cmdfile_encode_header(buf);
    buf[12] = 1;
    cr_assert_eq(dtx_cmdfile_parse(buf, sizeof buf, collect, &col), DTX_EFORMAT);
    cr_assert_str_eq(dtx_error_message(), "binary: reserved header field is 1, expected 0");
    dtx_cmdfile_encode_header(buf);
    buf[7] = '2';
    cr_assert_eq(dtx_cmdfile_parse(buf, sizeof buf, collect, &col), DTX_EFORMAT);
    cr_assert_str_eq(dtx_error_message(), "binary: magic 'DTXCMD02' is not 'DTXCMD01'");
}

/* ---- the streaming reader ------------------------------------------------- */

static char *write_temp(const void *data, size_t len)
{
    static char path[64];
    int fd;
    snprintf(path, sizeof path, "/tmp/dtx_cmdfile_XXXXXX");
    fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

Test(cmdfile_reader, text_file_streams_commands)
{
    static const char text[] = "# sample\ntime ts=10\n\ncod acct=1 sess=1\nnew acct=1 sess=1 "
                               "sec=1 clid=1 side=buy type=limit tif=gtc px=1 qty=1";
    char *path = write_temp(text, sizeof text - 1);
    dtx_cmdfile_reader *r = dtx_cmdfile_open(path);
    dtx_command c;
    cr_assert_not_null(r, "%s", dtx_error_message());
    cr_assert_eq(dtx_cmdfile_reader_binary(r), 0);
    cr_assert_eq(dtx_cmdfile_next(r, &c), 1);
    cr_assert_eq(c.type, DTX_CMD_TIME);
    cr_assert_eq(dtx_cmdfile_next(r, &c), 1);
    cr_assert_eq(c.type, DTX_CMD_CANCEL_ON_DISCONNECT);
    cr_assert_eq(c.ts, 1010);
    cr_assert_eq(dtx_cmdfile_next(r, &c), 1);
    cr_assert_eq(c.type, DTX_CMD_NEW_ORDER);
    cr_assert_eq(c.seq, 3);
    cr_assert_eq(dtx_cmdfile_next(r, &c), 0);
    dtx_cmdfile_close(r);
    unlink(path);
}

Test(cmdfile_reader, text_error_names_the_file_and_line)
{
    static const char text[] = "time ts=10\ntime ts=1x\n";
    char *path = write_temp(text, sizeof text - 1);
    char want[256];
    dtx_cmdfile_reader *r = dtx_cmdfile_open(path);
    dtx_command c;
    cr_assert_not_null(r);
    cr_assert_eq(dtx_cmdfile_next(r, &c), 1);
    cr_assert_eq(dtx_cmdfile_next(r, &c), DTX_EFORMAT);
    snprintf(want, sizeof want,
             "%s: line 2: ts: '1x' is not a time (ns since the epoch, or "
             "YYYY-MM-DDTHH:MM:SS[.fraction]Z)",
             path);
    cr_assert_str_eq(dtx_error_message(), want);
    dtx_cmdfile_close(r);
    unlink(path);
}

Test(cmdfile_reader, binary_file_and_truncated_binary_file)
{
    unsigned char buf[DTX_CMDFILE_HEADER_SIZE + 3 * 128];
    dtx_command c[3], got;
    char want[256];
    char *path;
    dtx_cmdfile_reader *r;
    size_t i, len;
    for (i = 0; i < 3; i++) {
        c[i] = dtx_command_blank(DTX_CMD_TIME);
        c[i].seq = i + 1;
    }
    len = make_binary(buf, c, 3);

    path = write_temp(buf, len);
    r = dtx_cmdfile_open(path);
    cr_assert_not_null(r, "%s", dtx_error_message());
    cr_assert_eq(dtx_cmdfile_reader_binary(r), 1);
    for (i = 0; i < 3; i++) {
        cr_assert_eq(dtx_cmdfile_next(r, &got), 1);
        cr_assert_eq(memcmp(&got, &c[i], sizeof got), 0);
    }
    cr_assert_eq(dtx_cmdfile_next(r, &got), 0);
    dtx_cmdfile_close(r);
    unlink(path);

    path = write_temp(buf, len - 28);
    r = dtx_cmdfile_open(path);
    cr_assert_not_null(r);
    cr_assert_eq(dtx_cmdfile_next(r, &got), 1);
    cr_assert_eq(dtx_cmdfile_next(r, &got), 1);
    cr_assert_eq(dtx_cmdfile_next(r, &got), DTX_EFORMAT);
    snprintf(want, sizeof want,
             "%s: binary: truncated: the file ends 100 bytes into record 2 (records are 128 bytes)",
             path);
    cr_assert_str_eq(dtx_error_message(), want);
    dtx_cmdfile_close(r);
    unlink(path);

    path = write_temp(buf, 10);
    r = dtx_cmdfile_open(path);
    cr_assert_null(r);
    snprintf(want, sizeof want, "%s: binary: file is 10 bytes, shorter than the 16-byte header", path);
    cr_assert_str_eq(dtx_error_message(), want);
    unlink(path);
}

Test(cmdfile_reader, missing_file)
{
    cr_assert_null(dtx_cmdfile_open("/nonexistent/dtx/cmds.txt"));
    cr_assert_eq(dtx_error_status(), DTX_EIO);
    cr_assert_str_eq(dtx_error_message(),
                     "/nonexistent/dtx/cmds.txt: cannot open: No such file or directory");
}

Test(cmdfile_reader, long_text_file_crosses_buffer_boundaries)
{
    size_t n = 20000, i, o = 0;
    char *text = malloc(n * 40);
    char *path;
    dtx_cmdfile_reader *r;
    dtx_command c;
    cr_assert_not_null(text);
    for (i = 0; i < n; i++)
        o += (size_t)sprintf(text + o, "cod acct=%zu sess=1 # %zu\n", i, i);
    path = write_temp(text, o);
    free(text);
    r = dtx_cmdfile_open(path);
    cr_assert_not_null(r);
    for (i = 0; i < n; i++) {
        cr_assert_eq(dtx_cmdfile_next(r, &c), 1, "%s", dtx_error_message());
        cr_assert_eq(c.account, i);
        cr_assert_eq(c.seq, i + 1);
    }
    cr_assert_eq(dtx_cmdfile_next(r, &c), 0);
    dtx_cmdfile_close(r);
    unlink(path);
}
