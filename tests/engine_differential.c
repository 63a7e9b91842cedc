/*
 * engine_differential.c - the engine against the reference book
 * (tests/support/ref_book.c) on seeded random command streams
 * (tests/support/cmdgen.c), through the harness of tests/support/difftest.h.
 *
 * One test per cmdgen profile (mixed, small-cap, dense, lifecycle), each over
 * several seeds: 1,000,000 commands in all in a Release build, 200,000 under
 * ASan/UBSan (DTX_DIFFTEST_ASAN, set by CMakeLists.txt for the Asan build
 * type). Each prints its seeds and a coverage summary. DTX_DIFFTEST_SEED
 * (decimal or 0x-hex) moves the seeds; a failure prints the seed and the
 * command that reproduce it (difftest-long --seed S --commands N --minimize).
 * The harness's own tests check that a difference is found, reported and
 * shrunk, so that these suites can fail.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/cmdgen.h"
#include "support/difftest.h"

#if defined(DTX_DIFFTEST_ASAN) || defined(__SANITIZE_ADDRESS__)
#define SEEDS_PER_PROFILE 5
#define COMMANDS_PER_SEED 10000u /* 4 x 5 x 10k = 200k */
#else
#define SEEDS_PER_PROFILE 5
#define COMMANDS_PER_SEED 50000u /* 4 x 5 x 50k = 1M */
#endif

#define DEFAULT_BASE_SEED 0xD1FF5EED00000000ull

static uint64_t base_seed(void)
{
    uint64_t s = DEFAULT_BASE_SEED;
    const char *env = getenv("DTX_DIFFTEST_SEED");
    if (env && difftest_parse_u64(env, &s) != 0)
        cr_assert_fail("DTX_DIFFTEST_SEED='%s' is not a decimal or 0x-hex number", env);
    return s - s % CMDGEN_PROFILES; /* seed % 4 is the profile */
}

/* Runs SEEDS_PER_PROFILE seeds of one profile; asserts every one agrees. */
static void run_profile(unsigned profile, difftest_stats *st)
{
    memset(st, 0, sizeof *st);
    uint64_t base = base_seed();
    for (unsigned k = 0; k < SEEDS_PER_PROFILE; k++) {
        uint64_t seed = base + (uint64_t)k * CMDGEN_PROFILES + profile;
        fprintf(stderr, "engine_differential: profile %u seed %" PRIu64 " (0x%" PRIx64 "), %u commands\n",
                profile, seed, seed, COMMANDS_PER_SEED);
        difftest_opts o = {.seed = seed, .n_commands = COMMANDS_PER_SEED, .out = stderr};
        int rc = difftest_run(&o, st);
        cr_assert_eq(rc, 0,
                     "seed %" PRIu64 " (profile %u): the engine and the reference disagree (report "
                     "above); reproduce with difftest-long --seed %" PRIu64 " --minimize",
                     seed, profile, seed);
    }
    difftest_stats_print(stderr, st);
    cr_assert_eq(st->commands, (uint64_t)SEEDS_PER_PROFILE * COMMANDS_PER_SEED);
    /* the stream exercised what it is there for */
    cr_expect_gt(st->by_event[DTX_EV_NEW], 0);
    cr_expect_gt(st->by_event[DTX_EV_FILL], 0);
    cr_expect_gt(st->by_event[DTX_EV_ADDED], 0); /* rests after trading */
    cr_expect_gt(st->added_in_report, 0);         /* rests straight away */
    cr_expect_gt(st->by_event[DTX_EV_REPLACED], 0);
    cr_expect_gt(st->by_event[DTX_EV_TRIGGERED], 0);
    cr_expect_gt(st->by_event[DTX_EV_CANCEL_REJECT], 0);
    cr_expect_gt(st->by_reject[DTX_REJ_INVALID_FIELD], 0);
    cr_expect_gt(st->by_cancel[DTX_CANCEL_SELF_TRADE], 0);
    cr_expect_gt(st->by_cancel[DTX_CANCEL_UNFILLED], 0);
}

Test(engine_differential, engine_agrees_with_reference_on_mixed_streams, .timeout = 300)
{
    difftest_stats st;
    run_profile(0, &st);
    cr_expect_gt(st.by_event[DTX_EV_MASS_CANCEL_REPORT], 0);
    cr_expect_gt(st.refills, 0);
}

Test(engine_differential, engine_agrees_with_reference_at_small_capacities, .timeout = 300)
{
    difftest_stats st;
    run_profile(1, &st);
    cr_expect_gt(st.by_reject[DTX_REJ_TOO_MANY_OPEN_ORDERS], 0);
}

Test(engine_differential, engine_agrees_with_reference_on_dense_books, .timeout = 300)
{
    difftest_stats st;
    run_profile(2, &st);
    cr_expect_gt(st.self_trade_replaced, 0);
    cr_expect_gt(st.refills, 0);
    cr_expect_gt(st.priority_kept, 0);
}

Test(engine_differential, engine_agrees_with_reference_over_order_lifecycles, .timeout = 300)
{
    difftest_stats st;
    run_profile(3, &st);
    cr_expect_gt(st.by_cancel[DTX_CANCEL_EXPIRED], 0);
    cr_expect_gt(st.by_cancel[DTX_CANCEL_INSTRUMENT_HALTED], 0);
    cr_expect_gt(st.by_cancel[DTX_CANCEL_ON_DISCONNECT], 0);
    cr_expect_gt(st.by_cancel[DTX_CANCEL_MASS_CANCEL], 0);
    cr_expect_gt(st.by_event[DTX_EV_STATUS], 0);
}

/* ---- the harness itself ------------------------------------------------------------ */

#define HARNESS_SEED 0x5EEDull

/* Runs o with its report captured; returns the run's result, report in *text. */
static int run_captured(difftest_opts o, char **text)
{
    size_t len = 0;
    *text = NULL;
    FILE *f = open_memstream(text, &len);
    cr_assert(f != NULL);
    o.out = f;
    int rc = difftest_run(&o, NULL);
    fclose(f);
    return rc;
}

Test(engine_differential_harness, agrees_on_the_uncorrupted_stream)
{
    char *text;
    difftest_opts o = {.seed = HARNESS_SEED, .n_commands = 2000};
    cr_assert_eq(run_captured(o, &text), 0, "report:\n%s", text);
    cr_expect_str_empty(text);
    free(text);
}

Test(engine_differential_harness, reports_seed_command_and_field_of_a_corrupted_event)
{
    char *text;
    difftest_opts o = {.seed = HARNESS_SEED, .n_commands = 2000, .corrupt_at = 1000};
    cr_assert_eq(run_captured(o, &text), 1, "report:\n%s", text);
    fprintf(stderr, "%s", text);
    cr_expect(strstr(text, "difftest: MISMATCH seed=24301 (0x5eed) at command #999") != NULL,
              "report:\n%s", text);
    cr_expect(strstr(text, "first difference: event [0]") != NULL, "report:\n%s", text);
    cr_expect(strstr(text, "field clordid") != NULL, "report:\n%s", text);
    cr_expect(strstr(text, "engine events (") != NULL, "report:\n%s", text);
    cr_expect(strstr(text, "reference events (") != NULL, "report:\n%s", text);
    cr_expect(strstr(text, "reproduce: difftest-long --seed 24301 --commands 1000") != NULL,
              "report:\n%s", text);
    free(text);
}

Test(engine_differential_harness, minimize_shrinks_a_corrupted_stream_to_its_last_command)
{
    char *text;
    difftest_opts o = {.seed = HARNESS_SEED,
                       .n_commands = 2000,
                       .corrupt_at = 300,
                       .minimize = 1,
                       .minimize_seconds = 30};
    cr_assert_eq(run_captured(o, &text), 1, "report:\n%s", text);
    fprintf(stderr, "%s", text);
    const char *m = strstr(text, "difftest: minimized seed 24301 from 300 to ");
    cr_assert(m != NULL, "report:\n%s", text);
    unsigned long left = 0;
    cr_assert_eq(sscanf(m, "difftest: minimized seed 24301 from 300 to %lu", &left), 1);
    cr_expect_eq(left, 1, "minimized to %lu commands:\n%s", left, text);
    cr_expect(strstr(text, "difftest: MISMATCH (minimized replay) seed=24301") != NULL,
              "report:\n%s", text);
    free(text);
}

Test(engine_differential_harness, parses_decimal_and_hex_seeds)
{
    uint64_t v = 7;
    cr_expect_eq(difftest_parse_u64("12345", &v), 0);
    cr_expect_eq(v, 12345);
    cr_expect_eq(difftest_parse_u64("0xD1ff", &v), 0);
    cr_expect_eq(v, 0xD1FF);
    cr_expect_eq(difftest_parse_u64("18446744073709551615", &v), 0);
    cr_expect_eq(v, UINT64_MAX);
    v = 7;
    cr_expect_eq(difftest_parse_u64("18446744073709551616", &v), -1);
    cr_expect_eq(difftest_parse_u64("", &v), -1);
    cr_expect_eq(difftest_parse_u64("0x", &v), -1);
    cr_expect_eq(difftest_parse_u64("12a", &v), -1);
    cr_expect_eq(difftest_parse_u64("-1", &v), -1);
    cr_expect_eq(v, 7);
}
