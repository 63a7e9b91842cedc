/*
 * error.c - the thread-local error record behind dtx/error.h. Every module
 * reports a failure through dtx_error_set() and returns a status; the caller
 * that decides to log reads dtx_error_message() once.
 */
#include <stdarg.h>
#include <stdio.h>

#include "dtx/error.h"

static _Thread_local dtx_status err_status;
static _Thread_local char err_msg[512];

dtx_status dtx_error_set(dtx_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof err_msg, fmt, ap);
    va_end(ap);
    err_status = status;
    return status;
}

const char *dtx_error_message(void) { return err_msg; }

dtx_status dtx_error_status(void) { return err_status; }

void dtx_error_clear(void)
{
    err_status = DTX_OK;
    err_msg[0] = '\0';
}

const char *dtx_status_name(dtx_status status)
{
    switch (status) {
    case DTX_OK: return "OK";
    case DTX_EINVAL: return "EINVAL";
    case DTX_ENOMEM: return "ENOMEM";
    case DTX_EIO: return "EIO";
    case DTX_EFORMAT: return "EFORMAT";
    case DTX_EFULL: return "EFULL";
    }
    return "?";
}
