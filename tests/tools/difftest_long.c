/*
 * difftest_long.c - the long differential run (`make difftest-long`): the
 * engine against the reference book (tests/support/difftest.h) over many
 * seeds, one after the other, until the requested number of commands has been
 * compared. Consecutive seeds cycle through cmdgen's four profiles.
 *
 *   difftest-long [--commands N] [--seed S] [--per-seed N] [--minimize]
 *                 [--minimize-seconds T] [--book-check N] [--strict] [--trace]
 *
 * Prints each seed as it starts, progress lines, and the coverage summary at
 * the end. Exits 0 when every command agreed, 1 on the first mismatch (its
 * report, and with --minimize a shrunk command sequence, on stderr), 2 on a
 * usage error or when an engine cannot be created.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support/cmdgen.h"
#include "support/difftest.h"

#define DEFAULT_COMMANDS 5000000ull
#define DEFAULT_PER_SEED 500000ull
#define PROGRESS_EVERY 1000000ull

typedef struct progress_ctx {
    uint64_t base, total, next;
    double t0;
} progress_ctx;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void on_progress(void *ctx, uint64_t done)
{
    progress_ctx *p = ctx;
    uint64_t all = p->base + done;
    if (all < p->next)
        return;
    p->next += PROGRESS_EVERY;
    double dt = now_s() - p->t0;
    printf("progress: %" PRIu64 " / %" PRIu64 " commands, %.1f s, %.0f commands/s\n", all,
           p->total, dt, dt > 0 ? (double)all / dt : 0.0);
    fflush(stdout);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: difftest-long [--commands N] [--seed S] [--per-seed N] [--minimize]\n"
               "                     [--minimize-seconds T] [--book-check N] [--strict] [--trace]\n"
               "  --commands N          commands in all (default %llu)\n"
               "  --seed S              first seed, decimal or 0x-hex (default: from the clock)\n"
               "  --per-seed N          commands per seed (default %llu)\n"
               "  --minimize            shrink a failing stream and print it\n"
               "  --minimize-seconds T  time budget of the shrinking (default 20)\n"
               "  --book-check N        full book comparison every N commands (default 512)\n"
               "  --strict              compare every field of each event, also those event.h\n"
               "                        does not list for its type\n"
               "  --trace               print every command before it is submitted\n",
            (unsigned long long)DEFAULT_COMMANDS, (unsigned long long)DEFAULT_PER_SEED);
}

int main(int argc, char **argv)
{
    uint64_t total = DEFAULT_COMMANDS, per_seed = DEFAULT_PER_SEED, seed = 0, book_check = 0;
    int have_seed = 0, minimize = 0, trace = 0, strict = 0;
    double minimize_seconds = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (!strcmp(a, "--commands"))
            ok = v && difftest_parse_u64(v, &total) == 0, i++;
        else if (!strcmp(a, "--seed"))
            ok = v && difftest_parse_u64(v, &seed) == 0, have_seed = 1, i++;
        else if (!strcmp(a, "--per-seed"))
            ok = v && difftest_parse_u64(v, &per_seed) == 0 && per_seed > 0, i++;
        else if (!strcmp(a, "--book-check"))
            ok = v && difftest_parse_u64(v, &book_check) == 0 && book_check <= 1000000000u, i++;
        else if (!strcmp(a, "--minimize-seconds")) {
            char *end = NULL;
            minimize_seconds = v ? strtod(v, &end) : -1;
            ok = v && end && *end == '\0' && minimize_seconds > 0;
            i++;
        } else if (!strcmp(a, "--minimize"))
            minimize = 1;
        else if (!strcmp(a, "--trace"))
            trace = 1;
        else if (!strcmp(a, "--strict"))
            strict = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else
            ok = 0;
        if (!ok) {
            fprintf(stderr, "difftest-long: bad argument '%s'%s%s\n", a, v ? " " : "", v ? v : "");
            usage(stderr);
            return 2;
        }
    }
    if (!have_seed) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        seed = (uint64_t)t.tv_sec * 1000003u ^ (uint64_t)t.tv_nsec;
    }

    printf("difftest-long: %" PRIu64 " commands, %" PRIu64 " per seed, first seed %" PRIu64
           " (0x%" PRIx64 ")\n",
           total, per_seed, seed, seed);
    fflush(stdout);
    difftest_stats stats;
    memset(&stats, 0, sizeof stats);
    progress_ctx pc = {0, total, PROGRESS_EVERY, now_s()};
    int rc = 0;
    uint64_t seeds = 0;
    for (uint64_t done = 0; done < total; seed++, seeds++) {
        uint64_t n = total - done < per_seed ? total - done : per_seed;
        printf("seed %" PRIu64 " (profile %" PRIu64 "): %" PRIu64 " commands\n", seed,
               seed % CMDGEN_PROFILES, n);
        fflush(stdout);
        pc.base = done;
        difftest_opts o = {.seed = seed,
                           .n_commands = n,
                           .out = stderr,
                           .book_check_every = (unsigned)book_check,
                           .minimize = minimize,
                           .minimize_seconds = minimize_seconds,
                           .trace = trace,
                           .strict = strict,
                           .progress = on_progress,
                           .progress_ctx = &pc,
                           .progress_every = 10000};
        int r = difftest_run(&o, &stats);
        if (r != 0) {
            rc = r < 0 ? 2 : 1;
            printf("difftest-long: %s at seed %" PRIu64 " after %" PRIu64 " commands in all\n",
                   r < 0 ? "setup failure" : "MISMATCH", seed, stats.commands);
            break;
        }
        done += n;
    }
    double dt = now_s() - pc.t0;
    difftest_stats_print(stdout, &stats);
    printf("difftest-long: %s: %" PRIu64 " commands over %" PRIu64 " seeds in %.1f s (%.0f commands/s)\n",
           rc ? "FAILED" : "all agreed", stats.commands, seeds + (rc != 0), dt,
           dt > 0 ? (double)stats.commands / dt : 0.0);
    return rc;
}
