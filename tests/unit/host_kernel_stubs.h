/* Test-side controls of host_kernel_stubs.c, the host stand-ins for the
 * kernel's logger, page allocator and heap. */
#ifndef SKIFF_TESTS_HOST_KERNEL_STUBS_H
#define SKIFF_TESTS_HOST_KERNEL_STUBS_H

#include <stdbool.h>
#include <stdint.h>

/* Pages handed out by page_alloc() and not yet freed. */
extern uint64_t host_pages_outstanding;
/* When > 0, page_alloc() succeeds this many more times, then fails (and
 * keeps failing until the test sets it back to -1, meaning never fail). */
extern int host_page_alloc_fail_after;
/* Lines log_msg() was asked for at each level (error, warn, info, debug). */
extern unsigned host_log_count[4];
/* Errors are printed on stderr unless a test that provokes them on purpose
 * sets this; SKIFF_TEST_LOG=1 in the environment prints every line. */
extern bool host_log_quiet;

#endif
