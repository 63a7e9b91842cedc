/*
 * common/cmdfile_internal.h - what the two halves of the command-file code
 * share: the text grammar (the enum names, the fields and their kinds, the
 * verbs and the fields each takes) and the one printer helper the parser uses
 * in its error messages.
 *
 *   cmdfile_parse.c  the reading side: the grammar tables (defined there),
 *                    the line parser, binary header and records, whole
 *                    buffers, the streaming reader;
 *   cmdfile_print.c  the writing side: prices, commands and events as text,
 *                    command type names.
 *
 * Private to common/: nothing here is API (that is dtx/cmdfile.h). The
 * symbols shared across the two files carry the dtx_cmdfile_ prefix.
 */
#ifndef DTX_COMMON_CMDFILE_INTERNAL_H
#define DTX_COMMON_CMDFILE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/cmdfile.h"

#define PRICE9_ONE 1000000000ull

/* ---- names ------------------------------------------------------------------ */

typedef struct enum_name {
    unsigned value;
    const char *name;
} enum_name;

/* Each ends with {0, NULL}. */
extern const enum_name dtx_cmdfile_side_names[];
extern const enum_name dtx_cmdfile_type_names[];
extern const enum_name dtx_cmdfile_tif_names[];
extern const enum_name dtx_cmdfile_stp_names[];
extern const enum_name dtx_cmdfile_status_names[];

/* ---- the text grammar ---------------------------------------------------- */

enum field_id {
    F_SEQ, F_TS, F_ACCT, F_SESS, F_SEC, F_CLID, F_ORIG, F_OID, F_SIDE, F_TYPE,
    F_TIF, F_PX, F_STOP, F_QTY, F_DISPLAY, F_EXPIRE, F_POSTONLY, F_REDUCEONLY,
    F_EXEC, F_STP, F_STATUS, F_COUNT
};
#define B(f) (1u << (f))

enum field_kind { K_U64, K_U32, K_U16, K_U8, K_I64, K_PRICE, K_TIME, K_ENUM, K_FLAG };

typedef struct field_def {
    const char *key;
    uint8_t kind;
    const enum_name *names; /* K_ENUM */
    const char *what;       /* K_ENUM: "a side" */
} field_def;

typedef struct verb_def {
    const char *name;
    uint16_t type;
    uint32_t allowed;
    uint32_t required;
    int needs_ref; /* orig= or oid= */
} verb_def;

/* Indexed by field_id. */
extern const field_def dtx_cmdfile_fields[F_COUNT];
/* The verbs, dtx_cmdfile_n_verbs of them. */
extern const verb_def dtx_cmdfile_verbs[];
extern const size_t dtx_cmdfile_n_verbs;

/* ---- cmdfile_print.c -------------------------------------------------------- */

/* "acct clid orig oid ...": the keys of the fields in mask (bits B(field_id)),
 * for error messages; snprintf's contract on out/cap. */
void dtx_cmdfile_list_keys(uint32_t mask, char *out, size_t cap);

#endif /* DTX_COMMON_CMDFILE_INTERNAL_H */
