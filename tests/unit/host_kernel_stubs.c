/* Host stand-ins for the kernel services that driver and library sources
 * call: the logger, the page allocator and the heap. Link this into a host
 * test instead of kernel/log.c, kernel/page_alloc.c and kernel/heap.c.
 * ksnprintf lives apart in host_printf_stub.c, so tests of kernel/printf.c
 * can link this file too. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "tests/unit/host_kernel_stubs.h"

uint64_t host_pages_outstanding;
int host_page_alloc_fail_after = -1;
unsigned host_log_count[4];
bool host_log_quiet;

static const char *const host_level_names[] = {"error", "warn", "info",
					       "debug"};

void log_msg(enum log_level level, const char *fmt, ...)
{
	static int verbose = -1;
	va_list ap;

	if (verbose < 0) {
		const char *v = getenv("SKIFF_TEST_LOG");
		verbose = v && *v && *v != '0';
	}
	if ((unsigned)level < 4)
		host_log_count[level]++;
	if (!verbose && (level != LOG_ERROR || host_log_quiet))
		return;
	fprintf(stderr, "    [log %s] ",
		(unsigned)level < 4 ? host_level_names[level] : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void log_set_level(enum log_level level)
{
	(void)level;
}

uint64_t page_alloc(uint64_t npages, uint64_t align)
{
	void *p;

	if (host_page_alloc_fail_after == 0)
		return 0;
	if (host_page_alloc_fail_after > 0)
		host_page_alloc_fail_after--;
	if (npages == 0 || align < PAGE_SIZE || (align & (align - 1)))
		return 0;
	p = aligned_alloc(align, npages * PAGE_SIZE);
	if (!p)
		return 0;
	/* Not zeroed, like the real allocator: callers must not rely on it. */
	memset(p, 0xa5, npages * PAGE_SIZE);
	host_pages_outstanding += npages;
	return (uint64_t)(uintptr_t)p;
}

int page_free(uint64_t addr, uint64_t npages)
{
	if (!addr)
		return -1;
	free((void *)(uintptr_t)addr);
	host_pages_outstanding -= npages;
	return 0;
}

void *kmalloc(size_t size)
{
	return malloc(size);
}

void *kcalloc(size_t n, size_t size)
{
	return calloc(n, size);
}

void *krealloc(void *ptr, size_t size)
{
	return realloc(ptr, size);
}

void kfree(void *ptr)
{
	free(ptr);
}
