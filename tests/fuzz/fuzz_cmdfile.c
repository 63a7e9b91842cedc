/*
 * fuzz_cmdfile.c - libFuzzer target for the command file parsers
 * (dtx/cmdfile.h), which are fed untrusted bytes.
 *
 * The input is given, as is, to the text parser, the binary parser (with and
 * without a valid header in front) and the auto-detecting parser. Beyond "no
 * crash, no sanitizer report", it checks the printers against the parser:
 *   - every command the text parser produces prints to a line (within
 *     DTX_CMDTEXT_LINE_CAP) that parses back to the same record, byte for byte;
 *   - every binary record that has a verb prints to a line that parses, and
 *     printing that again gives the same line;
 *   - a price that parses prints back to a string that parses to the same value;
 *   - any 128 bytes print as an event within DTX_CMDTEXT_LINE_CAP.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/cmdfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "fuzz_cmdfile: check failed: %s: ", #cond);        \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            abort();                                                             \
        }                                                                        \
    } while (0)

static dtx_status text_round_trip(void *ctx, const dtx_command *c)
{
    char line[DTX_CMDTEXT_LINE_CAP];
    dtx_cmdtext_parser p;
    dtx_command back;
    int n, rc;
    (void)ctx;
    n = dtx_cmdtext_format(c, line, sizeof line);
    CHECK(n > 0 && n < (int)sizeof line, "format returned %d for type %u", n, c->type);
    dtx_cmdtext_init(&p);
    rc = dtx_cmdtext_parse_line(&p, line, (size_t)n, &back);
    CHECK(rc == 1, "'%s' does not parse back: %s", line, dtx_error_message());
    CHECK(memcmp(c, &back, sizeof back) == 0, "'%s' parses back to another record", line);
    return DTX_OK;
}

static dtx_status binary_record(void *ctx, const dtx_command *c)
{
    char line[DTX_CMDTEXT_LINE_CAP], again[DTX_CMDTEXT_LINE_CAP];
    dtx_cmdtext_parser p;
    dtx_command back;
    int n, rc;
    (void)ctx;
    n = dtx_cmdtext_format(c, line, sizeof line);
    if (n < 0)
        return DTX_OK; /* a type with no verb */
    CHECK(n < (int)sizeof line, "format returned %d", n);
    dtx_cmdtext_init(&p);
    rc = dtx_cmdtext_parse_line(&p, line, (size_t)n, &back);
    CHECK(rc == 1, "'%s' does not parse: %s", line, dtx_error_message());
    n = dtx_cmdtext_format(&back, again, sizeof again);
    CHECK(n > 0 && strcmp(line, again) == 0, "'%s' prints again as '%s'", line, again);
    return DTX_OK;
}

static dtx_status count(void *ctx, const dtx_command *c)
{
    (void)c;
    ++*(size_t *)ctx;
    return DTX_OK;
}

static void check_price(const uint8_t *data, size_t size)
{
    size_t len = size < 40 ? size : 40;
    int64_t px, back;
    char s[32];
    int n;
    if (dtx_price9_parse((const char *)data, len, &px) != DTX_OK)
        return;
    n = dtx_price9_format(px, s, sizeof s);
    CHECK(n > 0 && n < (int)sizeof s, "price format returned %d", n);
    if (px == DTX_PRICE_NULL)
        return; /* prints as "null" */
    CHECK(dtx_price9_parse(s, (size_t)n, &back) == DTX_OK && back == px,
          "'%s' does not parse back to %lld", s, (long long)px);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *bin;
    size_t n = 0, i;

    /* text, with the round trip of every command */
    dtx_cmdfile_parse_text(data, size, text_round_trip, NULL);

    /* line by line too, as the streaming reader does */
    {
        dtx_cmdtext_parser p;
        dtx_command c;
        const uint8_t *s = data, *end = data + size;
        dtx_cmdtext_init(&p);
        while (s < end) {
            const uint8_t *nl = memchr(s, '\n', (size_t)(end - s));
            size_t l = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
            if (dtx_cmdtext_parse_line(&p, (const char *)s, l, &c) == 1)
                text_round_trip(NULL, &c);
            s += l;
        }
    }

    /* binary as given, auto-detected, and behind a valid header */
    dtx_cmdfile_parse_binary(data, size, binary_record, NULL);
    dtx_cmdfile_parse(data, size, count, &n);
    bin = malloc(size + DTX_CMDFILE_HEADER_SIZE);
    if (bin) {
        dtx_cmdfile_encode_header(bin);
        if (size)
            memcpy(bin + DTX_CMDFILE_HEADER_SIZE, data, size);
        n = 0;
        if (dtx_cmdfile_parse(bin, size + DTX_CMDFILE_HEADER_SIZE, binary_record, NULL) == DTX_OK)
            CHECK(size % DTX_CMDFILE_RECORD_SIZE == 0, "a truncated body of %zu bytes passed", size);
        free(bin);
    }

    check_price(data, size);

    /* any bytes as events */
    for (i = 0; i + sizeof(dtx_event) <= size && i < 8 * sizeof(dtx_event); i += sizeof(dtx_event)) {
        dtx_event ev;
        char line[DTX_CMDTEXT_LINE_CAP];
        int len;
        memcpy(&ev, data + i, sizeof ev);
        len = dtx_event_format(&ev, line, sizeof line);
        CHECK(len > 0 && len < (int)sizeof line, "event format returned %d", len);
    }
    return 0;
}
