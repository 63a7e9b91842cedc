/*
 * log.c - structured log lines (dtx/log.h) for dtx-engine and its threads:
 * one key=value line per event, formatted on the caller's stack and written
 * with a single write(2), so concurrent threads never interleave within a
 * line. Not for the hot path: the threads log at start-up, shutdown, on
 * connection changes and on timers, never per message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dtx/log.h"

#define LOG_LINE_CAP 1024

static _Atomic int log_level = DTX_LOG_INFO;
static _Atomic int log_fd = 2;

void dtx_log_set_level(dtx_log_level level)
{
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

void dtx_log_set_fd(int fd) { atomic_store_explicit(&log_fd, fd, memory_order_relaxed); }

const char *dtx_log_level_name(dtx_log_level level)
{
    switch (level) {
    case DTX_LOG_DEBUG: return "debug";
    case DTX_LOG_INFO: return "info";
    case DTX_LOG_WARN: return "warn";
    case DTX_LOG_ERROR: return "error";
    }
    return "?";
}

int dtx_log_level_parse(const char *name, dtx_log_level *out)
{
    int l;
    for (l = DTX_LOG_DEBUG; l <= DTX_LOG_ERROR; l++) {
        if (strcmp(name, dtx_log_level_name((dtx_log_level)l)) == 0) {
            *out = (dtx_log_level)l;
            return 1;
        }
    }
    return 0;
}

char *dtx_log_escape(char *dst, size_t cap, const char *s)
{
    size_t o = 0;
    if (cap == 0)
        return dst;
    for (; *s && o + 1 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            if (o + 2 >= cap)
                break;
            dst[o++] = '\\';
            dst[o++] = (char)ch;
        } else {
            dst[o++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
        }
    }
    dst[o] = '\0';
    return dst;
}

void dtx_log(dtx_log_level level, const char *msg, const char *fmt, ...)
{
    char line[LOG_LINE_CAP];
    char emsg[256];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int w;
    ssize_t wr;

    if ((int)level < atomic_load_explicit(&log_level, memory_order_relaxed))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    w = snprintf(line, sizeof line,
                 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ level=%s msg=\"%s\"",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec, ts.tv_nsec / 1000, dtx_log_level_name(level),
                 dtx_log_escape(emsg, sizeof emsg, msg));
    n = w < 0 ? 0 : (size_t)w;
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    if (fmt && *fmt && n < sizeof line - 2) {
        va_list ap;
        line[n++] = ' ';
        va_start(ap, fmt);
        w = vsnprintf(line + n, sizeof line - 1 - n, fmt, ap);
        va_end(ap);
        if (w > 0)
            n += (size_t)w;
        if (n > sizeof line - 2)
            n = sizeof line - 2;
    }
    line[n++] = '\n';
    do {
        wr = write(atomic_load_explicit(&log_fd, memory_order_relaxed), line, n);
    } while (wr < 0 && errno == EINTR);
}
