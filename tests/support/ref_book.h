/*
 * ref_book.h - a deliberately simple reference order book for the differential
 * test (tests/engine_differential.c, tools/difftest_long.c).
 *
 * It is written from docs/order-semantics.md alone, never from the engine sources: two
 * independent readings of one page, fed the same commands, must produce the same
 * events. Speed does not matter here; every structure is a list that is scanned,
 * and every rule of the page is written once, in the order the page states it.
 *
 * The interface has the engine's shape: created from a dtx_engine_config
 * (instruments, capacities, day_offset_ns, sink), driven by one command at a
 * time, emitting zeroed-then-filled dtx_event records to the sink. OrderIDs are
 * 1, 2, 3... in order of acceptance (the engine's are opaque; the harness
 * compares ordinals). The pre-trade gate is not modelled.
 */
#ifndef DTX_TESTS_REF_BOOK_H
#define DTX_TESTS_REF_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/command.h"
#include "dtx/engine.h"
#include "dtx/event.h"

typedef struct ref_book ref_book;

/* Copies the configuration (instruments included). Returns NULL when sink is
 * NULL, there are no instruments, or memory runs out. */
ref_book *ref_book_create(const dtx_engine_config *cfg);

/* Frees everything. NULL is accepted. */
void ref_book_destroy(ref_book *b);

/* Processes one command; its events reach the sink in one call before this
 * returns (no call when the command emits nothing). */
void ref_book_submit(ref_book *b, const dtx_command *cmd);

/* Working orders: resting plus pending stops, all books. */
uint32_t ref_book_working(const ref_book *b);

/* Best bid/ask in PRICE9, DTX_PRICE_NULL when that side is empty or the
 * instrument is unknown. */
void ref_book_best(const ref_book *b, uint32_t security_id, int64_t *bid, int64_t *ask);

/* Last trade price (PRICE9), DTX_PRICE_NULL before any trade. */
int64_t ref_book_last_price(const ref_book *b, uint32_t security_id);

/* Resting orders of one side in priority order, as dtx_engine_visit_book. */
void ref_book_visit(const ref_book *b, uint32_t security_id, uint8_t side,
                    dtx_order_visit_fn fn, void *ctx);

/* Pending stops of one side in trigger order (pending_stop = 1 in the view). */
void ref_book_visit_stops(const ref_book *b, uint32_t security_id, uint8_t side,
                          dtx_order_visit_fn fn, void *ctx);

#endif /* DTX_TESTS_REF_BOOK_H */
