/* Host stand-in for kernel/printf.c: the C library's formatter behind the
 * kernel's names. Kept out of host_kernel_stubs.c so a test of the real
 * kernel/printf.c can link the other stubs without a clash. */
#include <stdarg.h>
#include <stdio.h>

#include "kernel/printf.h"

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return vsnprintf(buf, size, fmt, ap);
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
