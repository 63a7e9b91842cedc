/*
 * engine_reserve_failure.c - dtx_engine_create() when its memory cannot be
 * reserved (the order pool and ClOrdID index are 2 MiB aligned for huge pages
 * since 883205c): NULL, DTX_ENOMEM, and a message that names what was asked
 * for. The address space of the test's own process (Criterion forks one per
 * test) is capped with RLIMIT_AS a little above what it uses, and the engine
 * asked for an order pool far above that. Skipped under AddressSanitizer,
 * whose shadow memory needs the address space the cap takes away.
 *
 * DISABLED until engine/engine.c takes this fix: dtx_engine_create()'s
 * "engine: cannot reserve %zu bytes for the configured capacities" prints acc,
 * the bytes that WERE reserved before the failure (reserve() adds only what
 * succeeded, and the arrays after a failed one are still attempted), not what
 * the configuration needs. Seen (max_orders 50,000,000 under a 1.5 GB cap):
 * "cannot reserve 268510336 bytes" while the order pool that failed is 2.8 GB.
 * Fix: count the bytes asked for in a second accumulator (e.g. reserve(bytes,
 * &acc, &need) adding to *need before posix_memalign) and print need, or name
 * the first array that failed with its size (and max_orders). No crash and
 * the NULL return are already right: the rest of this test passes today.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "dtx/engine.h"
#include "dtx/error.h"

#if !defined(__SANITIZE_ADDRESS__)
static void sink(void *ctx, const dtx_event *ev, size_t n)
{
    (void)ctx;
    (void)ev;
    (void)n;
}

/* VmSize of this process in bytes, 0 when unknown. */
static size_t vm_size(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}
#endif

Test(engine_reserve_failure, an_order_pool_beyond_the_address_space_gives_null_and_names_its_size)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer needs the address space RLIMIT_AS would take");
#else
    size_t used = vm_size();
    if (!used)
        cr_skip_test("no VmSize in /proc/self/status");
    struct rlimit rl = {.rlim_cur = used + ((size_t)512 << 20), .rlim_max = used + ((size_t)512 << 20)};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        cr_skip_test("setrlimit(RLIMIT_AS) refused");

    dtx_engine_config cfg = {0};
    cfg.instruments = dtx_default_instruments(&cfg.n_instruments);
    cfg.max_orders = 50000000; /* order pool (max_orders + 1) x 48 bytes: 2.4 GB */
    cfg.max_timed = 1024;
    cfg.max_stops = 1024;
    cfg.sink = sink;
    dtx_engine *e = dtx_engine_create(&cfg);
    cr_assert_null(e, "created in %zu bytes of address space", (size_t)rl.rlim_cur);
    cr_assert_eq(dtx_error_status(), DTX_ENOMEM, "%s", dtx_error_message());
    const char *msg = dtx_error_message();
    const char *at = strstr(msg, "cannot reserve ");
    cr_assert_not_null(at, "message: %s", msg);
    unsigned long long bytes = strtoull(at + strlen("cannot reserve "), NULL, 10);
    unsigned long long pool = (unsigned long long)(cfg.max_orders + 1ull) * 48u;
    cr_assert_geq(bytes, pool, "the message names %llu bytes, the order pool alone needs %llu: %s", bytes, pool,
                  msg);
#endif
}
