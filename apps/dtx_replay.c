/*
 * dtx-replay - runs a command file (text or binary, see dtx/cmdfile.h) through
 * one engine with the default instruments and prints what came out: one line
 * per event, then the engine's digest and counters. The same file always gives
 * the same output, so two builds (or two engines) can be compared by diffing
 * it, or by the digest alone.
 *
 *   dtx-replay [--digest] [--quiet] [--echo] [--binary-out FILE] FILE|-
 *   dtx-replay --convert FILE OUT
 *
 * The file is streamed: memory does not grow with its length.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtx/cmdfile.h"
#include "dtx/engine.h"

#define MAX_ORDERS (1u << 20)
#define MAX_TIMED (1u << 20)
#define MAX_STOPS (1u << 16)

static const char usage_text[] =
    "usage: dtx-replay [--digest] [--quiet] [--echo] [--binary-out FILE] FILE|-\n"
    "       dtx-replay --convert FILE OUT\n"
    "\n"
    "Runs a command file (text or binary, told apart by the DTXCMD01 magic) through\n"
    "an engine with the default instruments and prints one line per event, then\n"
    "'digest 0x... commands=N events=N trades=N rejects=N'.\n"
    "  --digest          print only the final digest line\n"
    "  --quiet           print nothing (the exit status tells)\n"
    "  --echo            print each command ('> ' and its text line) before its events\n"
    "  --binary-out FILE also write the commands, seq and ts filled in, as a binary file\n"
    "  --convert FILE OUT  write FILE as a binary command file OUT; runs no engine\n"
    "Exit status: 0 done, 1 bad file or I/O error, 2 bad usage.\n";

typedef struct replay {
    FILE *out;
    int print_events;
    char line[DTX_CMDTEXT_LINE_CAP];
} replay;

static void on_events(void *ctx, const dtx_event *ev, size_t n)
{
    replay *r = ctx;
    size_t i;
    if (!r->print_events)
        return;
    for (i = 0; i < n; i++) {
        dtx_event_format(&ev[i], r->line, sizeof r->line);
        fputs(r->line, r->out);
        fputc('\n', r->out);
    }
}

/* A binary output file; removed again when the run fails. */
typedef struct binout {
    const char *path;
    FILE *f;
} binout;

static int binout_open(binout *b, const char *path)
{
    unsigned char hdr[DTX_CMDFILE_HEADER_SIZE];
    b->path = path;
    b->f = fopen(path, "wb");
    if (!b->f) {
        fprintf(stderr, "dtx-replay: %s: cannot create: %s\n", path, strerror(errno));
        return -1;
    }
    dtx_cmdfile_encode_header(hdr);
    if (fwrite(hdr, sizeof hdr, 1, b->f) != 1) {
        fprintf(stderr, "dtx-replay: %s: write failed: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int binout_write(binout *b, const dtx_command *c)
{
    if (fwrite(c, sizeof *c, 1, b->f) != 1) {
        fprintf(stderr, "dtx-replay: %s: write failed: %s\n", b->path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Closes the file; on failure (ok == 0, or the close fails) removes it. */
static int binout_close(binout *b, int ok)
{
    if (!b->f)
        return ok ? 0 : -1;
    if (fclose(b->f) != 0 && ok) {
        fprintf(stderr, "dtx-replay: %s: write failed: %s\n", b->path, strerror(errno));
        ok = 0;
    }
    b->f = NULL;
    if (!ok)
        unlink(b->path);
    return ok ? 0 : -1;
}

static int convert(const char *in, const char *outpath)
{
    dtx_cmdfile_reader *rd = dtx_cmdfile_open(in);
    binout b = {0};
    dtx_command c;
    uint64_t n = 0;
    int rc, ok = 1;

    if (!rd) {
        fprintf(stderr, "dtx-replay: %s\n", dtx_error_message());
        return 1;
    }
    if (binout_open(&b, outpath) != 0) {
        dtx_cmdfile_close(rd);
        binout_close(&b, 0);
        return 1;
    }
    while ((rc = dtx_cmdfile_next(rd, &c)) == 1) {
        if (binout_write(&b, &c) != 0) {
            ok = 0;
            break;
        }
        n++;
    }
    if (rc < 0) {
        fprintf(stderr, "dtx-replay: %s\n", dtx_error_message());
        ok = 0;
    }
    dtx_cmdfile_close(rd);
    if (binout_close(&b, ok) != 0)
        return 1;
    fprintf(stderr, "dtx-replay: wrote %llu commands to %s\n", (unsigned long long)n, outpath);
    return 0;
}

int main(int argc, char **argv)
{
    int digest_only = 0, quiet = 0, echo = 0;
    const char *binary_out = NULL, *path = NULL;
    int i, rc, ok = 1;
    replay r = {0};
    binout b = {0};
    dtx_cmdfile_reader *rd;
    dtx_engine_config cfg = {0};
    dtx_engine *e;
    dtx_engine_stats st;
    dtx_command c;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--digest") == 0) {
            digest_only = 1;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--echo") == 0) {
            echo = 1;
        } else if (strcmp(a, "--binary-out") == 0) {
            if (i + 1 == argc) {
                fprintf(stderr, "dtx-replay: --binary-out needs a FILE\n%s", usage_text);
                return 2;
            }
            binary_out = argv[++i];
        } else if (strcmp(a, "--convert") == 0) {
            if (argc - i != 3 || i != 1) {
                fputs(usage_text, stderr);
                return 2;
            }
            return convert(argv[i + 1], argv[i + 2]);
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "dtx-replay: unknown option '%s'\n%s", a, usage_text);
            return 2;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "dtx-replay: more than one input file ('%s')\n%s", a, usage_text);
            return 2;
        }
    }
    if (!path) {
        fputs(usage_text, stderr);
        return 2;
    }

    rd = dtx_cmdfile_open(path);
    if (!rd) {
        fprintf(stderr, "dtx-replay: %s\n", dtx_error_message());
        return 1;
    }
    if (binary_out && binout_open(&b, binary_out) != 0) {
        dtx_cmdfile_close(rd);
        binout_close(&b, 0);
        return 1;
    }

    r.out = stdout;
    r.print_events = !quiet && !digest_only;
    cfg.instruments = dtx_default_instruments(&cfg.n_instruments);
    cfg.max_orders = MAX_ORDERS;
    cfg.max_timed = MAX_TIMED;
    cfg.max_stops = MAX_STOPS;
    cfg.sink = on_events;
    cfg.sink_ctx = &r;
    e = dtx_engine_create(&cfg);
    if (!e) {
        fprintf(stderr, "dtx-replay: cannot create the engine: %s\n", dtx_error_message());
        dtx_cmdfile_close(rd);
        binout_close(&b, 0);
        return 1;
    }

    while ((rc = dtx_cmdfile_next(rd, &c)) == 1) {
        if (b.f && binout_write(&b, &c) != 0) {
            ok = 0;
            break;
        }
        if (echo && r.print_events) {
            char line[DTX_CMDTEXT_LINE_CAP];
            if (dtx_cmdtext_format(&c, line, sizeof line) < 0)
                snprintf(line, sizeof line, "command type %u (no text form)", c.type);
            printf("> %s\n", line);
        }
        dtx_engine_submit(e, &c);
    }
    if (rc < 0) {
        fflush(stdout);
        fprintf(stderr, "dtx-replay: %s\n", dtx_error_message());
        ok = 0;
    }

    if (ok && !quiet) {
        dtx_engine_get_stats(e, &st);
        printf("digest 0x%016llx commands=%llu events=%llu trades=%llu rejects=%llu\n",
               (unsigned long long)dtx_engine_digest(e), (unsigned long long)st.commands,
               (unsigned long long)st.events, (unsigned long long)st.trades,
               (unsigned long long)st.rejects);
    }
    dtx_engine_destroy(e);
    dtx_cmdfile_close(rd);
    if (binout_close(&b, ok) != 0)
        ok = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "dtx-replay: writing the output failed\n");
        ok = 0;
    }
    return ok ? 0 : 1;
}
