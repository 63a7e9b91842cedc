/*
 * daemon_config.c - dtx-engine's configuration (dtx/config.h): the embedded
 * default (loopback, three instruments, block waits, no pinning, demo
 * accounts), files applied over it, instruments replacing the defaults, exact
 * decimal prices, and errors that name the line, the key and the value.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dtx/config.h"

TestSuite(daemon_config);

#define USD(x) ((int64_t)(x) * 1000000000LL)

Test(daemon_config, embedded_default_is_loopback_block_unpinned_with_three_instruments)
{
    dtx_config c;
    dtx_config_defaults(&c);
    cr_assert_str_eq(c.listen_addr, "127.0.0.1");
    cr_assert_eq(c.port, 7001);
    cr_assert_eq(c.wait, DTX_WAIT_BLOCK);
    cr_assert_eq(c.gateway_cpu, -1);
    cr_assert_eq(c.core_cpu, -1);
    cr_assert_eq(c.max_connections, 1024);
    cr_assert_eq(c.demo_accounts, 4);
    cr_assert_eq(c.demo_collateral, 100000);
    cr_assert_eq(c.risk_enabled, 1);
    cr_assert_eq(c.risk_accounts, 1024);
    cr_assert_str_eq(c.keys_file, "./dtx-demo-keys.txt");
    cr_assert_eq(c.n_instruments, 3);
    cr_assert_str_eq(c.instruments[0].symbol, "BTC-PERP");
    cr_assert_str_eq(c.instruments[1].symbol, "ETH-PERP");
    cr_assert_str_eq(c.instruments[2].symbol, "BTC-27MAR27");
    cr_assert_eq(c.instruments[2].type, DTX_INSTR_FUTURE);
    cr_assert_eq(dtx_config_validate(&c), DTX_OK);
}

Test(daemon_config, file_keys_override_only_what_they_name)
{
    dtx_config c;
    const char *text = "; comment\n"
                       "[gateway]\n"
                       "port = 0\n"
                       "cpu = 1\n"
                       "[core]\n"
                       "cpu = 0\n"
                       "max_orders = 5000\n"
                       "[rings]\n"
                       "wait = spin-yield\n"
                       "command_ring = 1024\n"
                       "[log]\n"
                       "level = debug\n"
                       "[demo]\n"
                       "accounts = 2\n"
                       "keys_file = /tmp/k.txt\n"
                       "cancel_on_disconnect = no\n";
    cr_assert_eq(dtx_config_load_string(&c, text, "t.conf"), DTX_OK, "%s", dtx_error_message());
    cr_assert_eq(c.port, 0);
    cr_assert_eq(c.gateway_cpu, 1);
    cr_assert_eq(c.core_cpu, 0);
    cr_assert_eq(c.max_orders, 5000);
    cr_assert_eq(c.wait, DTX_WAIT_SPIN_YIELD);
    cr_assert_eq(c.command_ring, 1024);
    cr_assert_eq(c.event_ring, 65536);
    cr_assert_eq(c.log_level, DTX_LOG_DEBUG);
    cr_assert_eq(c.demo_accounts, 2);
    cr_assert_str_eq(c.keys_file, "/tmp/k.txt");
    cr_assert_eq(c.cancel_on_disconnect, 0);
    cr_assert_str_eq(c.listen_addr, "127.0.0.1");
    cr_assert_eq(c.n_instruments, 3);
}

Test(daemon_config, instrument_sections_replace_the_default_instruments)
{
    dtx_config c;
    const char *text = "[instrument SOL-PERP]\n"
                       "security_id = 7\n"
                       "tick_size = 0.001\n"
                       "contract_multiplier = 0.1\n"
                       "min_price = 1\n"
                       "max_price = 4000.5\n"
                       "max_qty = 50000\n"
                       "lot_size = 10\n"
                       "min_qty = 10\n"
                       "market_band_ticks = 500\n"
                       "[instrument SOL-26JUN26]\n"
                       "security_id = 8\n"
                       "type = future\n"
                       "tick_size = 0.01\n"
                       "min_price = 1\n"
                       "max_price = 4000\n"
                       "max_qty = 1000\n"
                       "expiry = 2026-06-26T08:00:00Z\n";
    cr_assert_eq(dtx_config_load_string(&c, text, "t.conf"), DTX_OK, "%s", dtx_error_message());
    cr_assert_eq(c.n_instruments, 2);
    const dtx_instrument_config *a = &c.instruments[0], *b = &c.instruments[1];
    cr_assert_str_eq(a->symbol, "SOL-PERP");
    cr_assert_eq(a->security_id, 7);
    cr_assert_eq(a->type, DTX_INSTR_PERPETUAL);
    cr_assert_eq(a->tick_size, 1000000);
    cr_assert_eq(a->contract_multiplier, 100000000);
    cr_assert_eq(a->min_price, USD(1));
    cr_assert_eq(a->max_price, USD(4000) + 500000000);
    cr_assert_eq(a->max_qty, 50000);
    cr_assert_eq(a->min_qty, 10);
    cr_assert_eq(a->lot_size, 10);
    cr_assert_eq(a->market_band_ticks, 500);
    cr_assert_eq(a->expiry, 0);
    cr_assert_str_eq(b->symbol, "SOL-26JUN26");
    cr_assert_eq(b->type, DTX_INSTR_FUTURE);
    cr_assert_eq(b->expiry, 1782460800000000000ULL);
    cr_assert_eq(b->min_qty, 1);
    cr_assert_eq(b->lot_size, 1);
    cr_assert_eq(b->contract_multiplier, USD(1));
}

static void expect_error(const char *text, dtx_status st, const char *msg)
{
    dtx_config c;
    cr_assert_eq(dtx_config_load_string(&c, text, "t.conf"), st);
    cr_assert_str_eq(dtx_error_message(), msg);
}

Test(daemon_config, bad_value_names_line_key_and_value)
{
    expect_error("[gateway]\nport = 7001\n\n[rings]\nwait = spin\n", DTX_EINVAL,
                 "t.conf:5: [rings] wait = \"spin\": not one of busy-spin, spin-yield, block");
    expect_error("[gateway]\nport = 70000\n", DTX_EINVAL,
                 "t.conf:2: [gateway] port = \"70000\": not a port in 0..65535 (0 = any free port)");
    expect_error("[gateway]\nlisten = localhost\n", DTX_EINVAL,
                 "t.conf:2: [gateway] listen = \"localhost\": not an IPv4 address");
    expect_error("[core]\ncpu = two\n", DTX_EINVAL,
                 "t.conf:2: [core] cpu = \"two\": not a CPU number in 0..1023 or \"none\"");
    expect_error("[core]\nmax_orders = 0\n", DTX_EINVAL,
                 "t.conf:2: [core] max_orders = \"0\": not an integer in 1..1073741824");
    expect_error("[demo]\naccounts = -1\n", DTX_EINVAL,
                 "t.conf:2: [demo] accounts = \"-1\": not an integer in 0..1000");
}

Test(daemon_config, unknown_key_and_section_are_errors_with_their_line)
{
    expect_error("[gateway]\nprot = 1\n", DTX_EINVAL, "t.conf:2: [gateway] prot = \"1\": unknown key");
    expect_error("[gatway]\nport = 1\n", DTX_EINVAL, "t.conf:2: [gatway] port = \"1\": unknown section");
    expect_error("port = 1\n", DTX_EINVAL, "t.conf:1: [] port = \"1\": unknown section");
    expect_error("[gateway]\nport 7001\n", DTX_EINVAL,
                 "t.conf:2: syntax error (expected [section], key = value, or a comment)");
}

Test(daemon_config, only_the_first_error_is_reported)
{
    expect_error("[gateway]\nport = x\nlisten = y\n", DTX_EINVAL,
                 "t.conf:2: [gateway] port = \"x\": not a port in 0..65535 (0 = any free port)");
}

Test(daemon_config, instrument_errors_name_the_section)
{
    expect_error("[instrument X]\nsecurity_id = 1\ntick_size = 0.0000000001\n", DTX_EINVAL,
                 "t.conf:3: [instrument X] tick_size = \"0.0000000001\": not a positive decimal "
                 "with at most 9 fraction digits");
    expect_error("[instrument X]\nsecurity_id = 1\ntick_size = 1\nmin_price = 1\nmax_price = 2\n",
                 DTX_EINVAL, "t.conf: [instrument X] max_qty: required key missing");
    expect_error("[instrument X]\nsecurity_id = 1\nsecurity_id = 2\n", DTX_EINVAL,
                 "t.conf:3: [instrument X] security_id = \"2\": key given twice");
    expect_error("[instrument X]\ncolour = red\n", DTX_EINVAL,
                 "t.conf:2: [instrument X] colour = \"red\": unknown key");
    expect_error("[instrument A]\nsecurity_id = 1\ntick_size = 1\nmin_price = 1\nmax_price = 2\n"
                 "max_qty = 5\n[instrument B]\nsecurity_id = 1\ntick_size = 1\nmin_price = 1\n"
                 "max_price = 2\nmax_qty = 5\n",
                 DTX_EINVAL, "t.conf: [instrument B] security_id = 1: also [instrument A]");
    expect_error("[instrument F]\nsecurity_id = 1\ntype = future\ntick_size = 1\nmin_price = 1\n"
                 "max_price = 2\nmax_qty = 5\n",
                 DTX_EINVAL, "t.conf: [instrument F] expiry: a future needs one");
}

Test(daemon_config, ring_sizes_must_be_powers_of_two)
{
    expect_error("[rings]\nevent_ring = 1000\n", DTX_EINVAL,
                 "t.conf: [rings] event_ring = 1000: not a power of two");
}

Test(daemon_config, two_busy_spinners_on_one_cpu_are_refused)
{
    expect_error("[rings]\nwait = busy-spin\n[gateway]\ncpu = 1\n[core]\ncpu = 1\n", DTX_EINVAL,
                 "t.conf: [rings] wait = busy-spin with [gateway] cpu = [core] cpu = 1: two "
                 "spinning threads on one CPU");
}

Test(daemon_config, missing_file_is_an_io_error_naming_the_path)
{
    dtx_config c;
    cr_assert_eq(dtx_config_load_file(&c, "/nonexistent/dtx.conf"), DTX_EIO);
    cr_assert_str_eq(dtx_error_message(), "/nonexistent/dtx.conf: cannot open: No such file or directory");
}

Test(daemon_config, the_shipped_example_file_loads_and_matches_the_default)
{
    dtx_config c, d;
    dtx_status st = dtx_config_load_file(&c, DTX_SOURCE_DIR "/deploy/dtx-engine.conf");
    cr_assert_eq(st, DTX_OK, "%s", dtx_error_message());
    dtx_config_defaults(&d);
    /* The example spells out the default, instruments included. */
    cr_assert_eq(memcmp(&c, &d, offsetof(dtx_config, instruments)), 0,
                 "deploy/dtx-engine.conf's scalar keys differ from the default");
    cr_assert_eq(c.n_instruments, d.n_instruments);
    for (uint32_t i = 0; i < d.n_instruments; i++) {
        const dtx_instrument_config *x = &c.instruments[i], *y = &d.instruments[i];
        cr_assert_str_eq(x->symbol, y->symbol);
        cr_assert_eq(x->security_id, y->security_id, "%s", y->symbol);
        cr_assert_eq(x->type, y->type, "%s", y->symbol);
        cr_assert_eq(x->tick_size, y->tick_size, "%s", y->symbol);
        cr_assert_eq(x->contract_multiplier, y->contract_multiplier, "%s", y->symbol);
        cr_assert_eq(x->min_price, y->min_price, "%s", y->symbol);
        cr_assert_eq(x->max_price, y->max_price, "%s", y->symbol);
        cr_assert_eq(x->min_qty, y->min_qty, "%s", y->symbol);
        cr_assert_eq(x->max_qty, y->max_qty, "%s", y->symbol);
        cr_assert_eq(x->lot_size, y->lot_size, "%s", y->symbol);
        cr_assert_eq(x->market_band_ticks, y->market_band_ticks, "%s", y->symbol);
        cr_assert_eq(x->expiry, y->expiry, "%s", y->symbol);
    }
}

Test(daemon_config, price9_parser_is_exact)
{
    int64_t p;
    cr_assert_eq(dtx_config_parse_price9("0.5", &p), 1);
    cr_assert_eq(p, 500000000);
    cr_assert_eq(dtx_config_parse_price9("250000", &p), 1);
    cr_assert_eq(p, USD(250000));
    cr_assert_eq(dtx_config_parse_price9("-1.000000001", &p), 1);
    cr_assert_eq(p, -1000000001);
    cr_assert_eq(dtx_config_parse_price9(".05", &p), 1);
    cr_assert_eq(p, 50000000);
    cr_assert_eq(dtx_config_parse_price9("9223372036.854775807", &p), 1);
    cr_assert_eq(p, INT64_MAX);
    cr_assert_eq(dtx_config_parse_price9("9223372036.854775808", &p), 0);
    cr_assert_eq(dtx_config_parse_price9("1e3", &p), 0);
    cr_assert_eq(dtx_config_parse_price9("", &p), 0);
    cr_assert_eq(dtx_config_parse_price9(".", &p), 0);
    cr_assert_eq(dtx_config_parse_price9("1.2.3", &p), 0);
}

Test(daemon_config, time_parser_reads_rfc3339_utc_and_nanoseconds)
{
    uint64_t t;
    cr_assert_eq(dtx_config_parse_time("2027-03-26T08:00:00Z", &t), 1);
    cr_assert_eq(t, 1806048000000000000ULL);
    cr_assert_eq(dtx_config_parse_time("1970-01-01T00:00:00Z", &t), 1);
    cr_assert_eq(t, 0);
    cr_assert_eq(dtx_config_parse_time("2028-02-29T00:00:00Z", &t), 1);
    cr_assert_eq(dtx_config_parse_time("2027-02-29T00:00:00Z", &t), 0);
    cr_assert_eq(dtx_config_parse_time("2027-03-26 08:00:00", &t), 0);
    cr_assert_eq(dtx_config_parse_time("123", &t), 1);
    cr_assert_eq(t, 123);
}

Test(daemon_config, max_icebergs_is_read_and_bounded_by_max_orders)
{
    dtx_config c;
    cr_assert_eq(dtx_config_load_string(&c, "[core]\nmax_orders = 5000\nmax_icebergs = 700\n", "t.conf"), DTX_OK,
                 "%s", dtx_error_message());
    cr_assert_eq(c.max_icebergs, 700);
    dtx_config_defaults(&c);
    cr_assert_eq(c.max_icebergs, 0, "default: the engine's max_orders / 16 + 1");
    expect_error("[core]\nmax_orders = 5000\nmax_icebergs = 5001\n", DTX_EINVAL,
                 "t.conf: [core] max_icebergs = 5001: at most max_orders (5000); 0 = max_orders / 16 + 1");
}

Test(daemon_config, demo_accounts_must_be_known_to_the_risk_gate)
{
    expect_error("[risk]\naccounts = 4\n", DTX_EINVAL,
                 "t.conf: [demo] accounts = 4: the risk gate knows accounts 0..3 ([risk] "
                 "accounts = 4)");
    dtx_config c;
    cr_assert_eq(dtx_config_load_string(&c, "[risk]\naccounts = 4\nenabled = no\n", "t.conf"),
                 DTX_OK);
    cr_assert_eq(c.risk_enabled, 0);
}
