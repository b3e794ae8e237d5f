/* printf-style formatting with no libc: the logger, panic and /stats use it.
 * Supports %d %i %u %x %X %o %c %s %p %% with flags "-0+ #", width, precision
 * (also "*"), and length modifiers hh h l ll z t j. Always NUL-terminates
 * when size > 0 and returns the length the full output would have had. */
#ifndef SKIFF_KERNEL_PRINTF_H
#define SKIFF_KERNEL_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
