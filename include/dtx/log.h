/*
 * dtx/log.h - structured log lines for the programs (dtx-engine and its
 * threads), never for the hot path.
 *
 * One line per event, key=value, written with one write(2) so lines of
 * different threads never interleave:
 *
 *   ts=2026-11-30T16:03:19.123456Z level=info msg="listening" addr=127.0.0.1:7001
 *
 * ts is UTC with microseconds; msg is quoted; the rest is the caller's
 * printf-formatted key=value text (quote values that may hold spaces, and
 * pass free text through dtx_log_escape()). Lines below the level set are
 * not written. Default: level info, file descriptor 2 (stderr).
 */
#ifndef DTX_LOG_H
#define DTX_LOG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dtx_log_level {
    DTX_LOG_DEBUG = 0,
    DTX_LOG_INFO = 1,
    DTX_LOG_WARN = 2,
    DTX_LOG_ERROR = 3,
} dtx_log_level;

/* Sets the lowest level written (any thread; takes effect at once). */
void dtx_log_set_level(dtx_log_level level);

/* Sets the file descriptor lines go to (2 by default). */
void dtx_log_set_fd(int fd);

/* Writes one line: ts, level, msg, then the formatted key=value text (fmt may
 * be NULL). Lines longer than 1 KiB are cut. */
void dtx_log(dtx_log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies s into dst (cap bytes, always NUL-terminated) with '"' and '\\'
 * escaped by a backslash and control characters turned into spaces, for a
 * value written as key="%s". Returns dst. */
char *dtx_log_escape(char *dst, size_t cap, const char *s);

/* "debug", "info", "warn", "error"; "?" for an unknown value. */
const char *dtx_log_level_name(dtx_log_level level);

/* Parses a name of dtx_log_level_name(). Returns 1 and sets *out, or 0. */
int dtx_log_level_parse(const char *name, dtx_log_level *out);

#ifdef __cplusplus
}
#endif
#endif /* DTX_LOG_H */
