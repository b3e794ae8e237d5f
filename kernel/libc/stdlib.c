/* <stdlib.h> and <stdio.h> for the kernel: the libc names lwIP and llhttp
 * call, mapped onto the kernel heap, console and panic. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/console.h"
#include "kernel/heap.h"
#include "kernel/panic.h"
#include "kernel/printf.h"

int errno;

void *malloc(size_t size)
{
	return kmalloc(size);
}

void *calloc(size_t n, size_t size)
{
	return kcalloc(n, size);
}

void *realloc(void *ptr, size_t size)
{
	return krealloc(ptr, size);
}

void free(void *ptr)
{
	kfree(ptr);
}

int abs(int x)
{
	return x < 0 ? -x : x;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

unsigned long strtoul(const char *s, char **end, int base)
{
	unsigned long v = 0;
	const char *p = s;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '+')
		p++;
	if ((base == 0 || base == 16) && p[0] == '0' &&
	    (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = (*p == '0') ? 8 : 10;
	}
	const char *digits = p;
	for (; digit_value(*p) < base; p++)
		v = v * base + digit_value(*p);
	if (end)
		*end = (char *)(p == digits ? s : p);
	return v;
}

long strtol(const char *s, char **end, int base)
{
	const char *p = s;
	int neg = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	char *e;
	unsigned long v = strtoul(p, &e, base);
	if (end)
		*end = (e == p) ? (char *)s : e;
	return neg ? -(long)v : (long)v;
}

int atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

void abort(void)
{
	panic("abort() called");
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return kvsnprintf(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* printf goes straight to the console, unprefixed: lwIP's diagnostics use
 * it, and they format their own lines. */
int printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_write(buf, strnlen(buf, sizeof(buf)));
	return n;
}
