/*
 * dtx/error.h - one error mechanism for every module.
 *
 * Functions that can fail return a dtx_status (or NULL) and record a
 * thread-local message naming what was wrong (the field and the value), in the
 * manner of Aeron's AERON_SET_ERR. The caller logs the message once. Nothing in
 * dtx prints or exits on an error of its own.
 */
#ifndef DTX_ERROR_H
#define DTX_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dtx_status {
    DTX_OK = 0,
    DTX_EINVAL = -1,   /* an argument or configuration value is invalid */
    DTX_ENOMEM = -2,   /* memory could not be reserved at start-up */
    DTX_EIO = -3,      /* a file or socket operation failed */
    DTX_EFORMAT = -4,  /* input bytes do not follow their format */
    DTX_EFULL = -5,    /* a bounded structure is full */
} dtx_status;

/* Records status and a printf-style message for this thread; returns status. */
dtx_status dtx_error_set(dtx_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last message recorded on this thread ("" if none). */
const char *dtx_error_message(void);

/* The last status recorded on this thread (DTX_OK if none). */
dtx_status dtx_error_status(void);

/* Forgets the last error of this thread. */
void dtx_error_clear(void);

/* A short name for a status ("EINVAL"). */
const char *dtx_status_name(dtx_status status);

#ifdef __cplusplus
}
#endif
#endif /* DTX_ERROR_H */
