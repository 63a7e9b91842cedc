/*
 * evfmt.h - readable one-line forms of events, commands and order views, for
 * failure messages of the engine suites (engine_fixture.c), the differential
 * harness (difftest.c) and the tools built on it.
 *
 * Prices print as decimal PRICE9 ("100", "20.5", "0.000000003"), "null" for
 * DTX_PRICE_NULL. Nothing here depends on Criterion, so programs that are not
 * test suites (tests/tools/) can link it.
 */
#ifndef DTX_TESTS_EVFMT_H
#define DTX_TESTS_EVFMT_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/command.h"
#include "dtx/engine.h"
#include "dtx/event.h"

/* A PRICE9 value as a decimal into buf; returns buf. */
const char *evfmt_px(int64_t v, char *buf, size_t size);

/* One event on one line (no newline). */
void evfmt_event(const dtx_event *ev, char *buf, size_t size);

/* One command on one line (no newline): its type and the fields it uses. */
void evfmt_command(const dtx_command *c, char *buf, size_t size);

/* One order view on one line (no newline). */
void evfmt_order(const dtx_order_view *v, char *buf, size_t size);

#endif /* DTX_TESTS_EVFMT_H */
