/*
 * dtx/cmdfile.h - command files: a stream of dtx_command records on disk, in
 * a binary form (what the input journal and replay tools exchange) and a text
 * form (what people write for tests, samples and bug reports).
 *
 * Binary: a 16-byte header, then raw 128-byte dtx_command records, as is
 * (little-endian hosts only, like the record itself):
 *
 *     off  size  field
 *       0     8  magic "DTXCMD01"
 *       8     4  record size, u32 little-endian, 128
 *      12     4  reserved, u32, 0
 *      16   128  record 0, then record 1, ...
 *
 * Text: one command per line; '#' starts a comment (to the end of the line);
 * blank lines are ignored. A line is a verb, then key=value fields separated by
 * spaces or tabs, in any order, each at most once:
 *
 *     new     acct sess sec clid side type tif qty  [px stop display expire
 *             postonly reduceonly exec stp]
 *     cancel  acct clid orig|oid  [sess sec side]
 *     replace acct clid orig|oid qty  [sess sec side px display]
 *     mass    acct clid  [sess sec side]
 *     time    ts
 *     status  sec status
 *     cod     acct sess
 *
 * and on every line, optionally, seq= and ts=. Values:
 *   - integers are decimal (acct u32, sess u16, sec u32, clid/orig/oid/seq u64,
 *     qty/display i64);
 *   - px and stop are decimal prices converted exactly to PRICE9 (at most 9
 *     decimals, no floating point): "65000.5" is 65000500000000000; absent
 *     means null (DTX_PRICE_NULL);
 *   - ts and expire are ns since the Unix epoch, or UTC as
 *     YYYY-MM-DDTHH:MM:SS[.fraction]Z;
 *   - side=buy|sell, type=market|limit|stop|stoplimit,
 *     tif=day|gtc|ioc|fok|gtd, stp=newest|oldest|both|decrement,
 *     status=open|halted|closed; each also takes a number 0..255 so that
 *     invalid values can be written on purpose;
 *   - postonly and reduceonly are bare flags; exec=N ORs raw ExecInst bits.
 * A field a verb does not list is an error, so are unknown keys. Fields of the
 * record a verb does not list are zero (prices null).
 *
 * When absent, seq is the previous command's seq + 1 (the first is 1), and ts
 * the previous command's ts + 1 microsecond (the first is 1000).
 *
 * Every parse error returns DTX_EFORMAT and records with dtx_error_set() the
 * line, the field and the offending value, e.g.
 *     line 12: px: '65000.x' is not a decimal price
 * The parsers accept any bytes: they never read outside the buffer given, never
 * allocate per line and reject lines longer than DTX_CMDTEXT_MAX_LINE.
 */
#ifndef DTX_CMDFILE_H
#define DTX_CMDFILE_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/command.h"
#include "dtx/error.h"
#include "dtx/event.h"
#include "dtx/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DTX_CMDFILE_MAGIC "DTXCMD01"
#define DTX_CMDFILE_MAGIC_LEN 8
#define DTX_CMDFILE_HEADER_SIZE 16
#define DTX_CMDFILE_RECORD_SIZE 128

/* Longest text line the parser accepts, newline excluded. */
#define DTX_CMDTEXT_MAX_LINE 4096
/* Buffer size that holds any line the printers produce, NUL included. */
#define DTX_CMDTEXT_LINE_CAP 1024

/* ---- prices and names -------------------------------------------------- */

/*
 * Parses a decimal price ("-12", "65000.5", "0.000000001") of len bytes into
 * PRICE9, exactly. Returns DTX_OK, or DTX_EFORMAT (not a decimal, more than 9
 * decimals, or outside int64) without recording a message.
 * Out: *out, only on success.
 */
dtx_status dtx_price9_parse(const char *s, size_t len, int64_t *out);

/*
 * Writes PRICE9 px as the shortest exact decimal ("65000.5", "-0.000000001",
 * "12"); DTX_PRICE_NULL is written "null". Returns the length written, like
 * snprintf (the output is truncated to cap - 1 bytes and NUL-terminated when
 * cap > 0). 24 bytes always suffice.
 */
int dtx_price9_format(int64_t px, char *buf, size_t cap);

/* The text verb of a command type ("new", "cancel", ...); "?" if unknown. */
const char *dtx_cmd_type_name(unsigned type);

/* ---- text ----------------------------------------------------------------- */

/* State carried from line to line: line number and the seq/ts defaults. */
typedef struct dtx_cmdtext_parser {
    uint64_t line;     /* number of the last line given to parse_line (1-based) */
    uint64_t prev_seq; /* seq of the last command parsed, 0 before the first */
    uint64_t prev_ts;  /* ts of the last command parsed, 0 before the first */
} dtx_cmdtext_parser;

/* Starts a parser at line 0 with no previous command. */
void dtx_cmdtext_init(dtx_cmdtext_parser *p);

/*
 * Parses one line of len bytes (a trailing "\n" or "\r\n" is allowed; any other
 * byte, NUL included, is part of the line). Counts the line.
 * Returns 1 when *out holds a command, 0 for a blank or comment line, or
 * DTX_EFORMAT with the message set (the defaults are then left unchanged).
 * In/Out: p. Out: *out (written only when 1 is returned).
 */
int dtx_cmdtext_parse_line(dtx_cmdtext_parser *p, const char *line, size_t len,
                           dtx_command *out);

/*
 * Writes cmd as one text line, no newline, that parses back to the same record
 * (seq and ts always written; fields the verb does not list are not written,
 * so a record with such fields non-zero does not round-trip). Returns the
 * length like snprintf (DTX_CMDTEXT_LINE_CAP always suffices), or DTX_EINVAL
 * with a message for a command type that has no verb.
 */
int dtx_cmdtext_format(const dtx_command *cmd, char *buf, size_t cap);

/*
 * Writes ev as one readable line, no newline: the event type name, the common
 * header, then the fields of that event type (enum names from dtx/types.h and
 * dtx/event.h, prices as exact decimals), e.g.
 *   FILL seq=7 ts=... exec=19 acct=2 sess=2 sec=1 oid=... clid=21 side=Sell
 *   px=65000.5 last=3 leaves=0 cum=3 qty=3 trade=4 status=Filled aggressor=1
 *   contra_acct=1 contra_sess=1 contra_oid=...
 * Returns the length like snprintf (DTX_CMDTEXT_LINE_CAP always suffices).
 */
int dtx_event_format(const dtx_event *ev, char *buf, size_t cap);

/* ---- whole buffers --------------------------------------------------------- */

/* Called once per command, in order; a return other than DTX_OK stops the
 * parse, which then returns that value. */
typedef dtx_status (*dtx_cmd_fn)(void *ctx, const dtx_command *cmd);

/* 1 when buf (len bytes) starts with the binary magic, else 0. */
int dtx_cmdfile_is_binary(const void *buf, size_t len);

/* Writes the 16-byte binary header to out. */
void dtx_cmdfile_encode_header(void *out);

/* Parses a text file held in buf. Returns DTX_OK, DTX_EFORMAT (message set),
 * or what fn returned. */
dtx_status dtx_cmdfile_parse_text(const void *buf, size_t len, dtx_cmd_fn fn, void *ctx);

/* Parses a binary file (header included) held in buf: checks the header and
 * that the body is whole records, then calls fn per record. */
dtx_status dtx_cmdfile_parse_binary(const void *buf, size_t len, dtx_cmd_fn fn, void *ctx);

/* Either of the above, chosen by the magic (a buffer starting "DTXCMD" is taken
 * as binary, so that another header version is reported as such). */
dtx_status dtx_cmdfile_parse(const void *buf, size_t len, dtx_cmd_fn fn, void *ctx);

/* ---- files, streamed ------------------------------------------------------- */

typedef struct dtx_cmdfile_reader dtx_cmdfile_reader;

/*
 * Opens path ("-" is standard input) and reads enough to tell binary from
 * text. Returns NULL with a message (DTX_EIO, DTX_ENOMEM, or DTX_EFORMAT for a
 * bad binary header). Memory is bounded (one 64 KiB buffer) whatever the file.
 */
dtx_cmdfile_reader *dtx_cmdfile_open(const char *path);

/* Returns 1 with *out filled, 0 at the end of the file, or DTX_EFORMAT /
 * DTX_EIO with a message naming the file. */
int dtx_cmdfile_next(dtx_cmdfile_reader *r, dtx_command *out);

/* 1 when the file is binary. */
int dtx_cmdfile_reader_binary(const dtx_cmdfile_reader *r);

/* Closes the file (not standard input) and frees r. NULL is accepted. */
void dtx_cmdfile_close(dtx_cmdfile_reader *r);

#ifdef __cplusplus
}
#endif
#endif /* DTX_CMDFILE_H */
