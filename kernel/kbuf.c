/* See kbuf.h. */
#include <stdarg.h>

#include "kernel/kbuf.h"
#include "kernel/printf.h"

void kbuf_printf(struct kbuf *b, const char *fmt, ...)
{
	size_t room = b->len < b->cap ? b->cap - b->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

int kbuf_finish(struct kbuf *b)
{
	if (b->cap)
		b->buf[b->len < b->cap ? b->len : b->cap - 1] = '\0';
	return (int)b->len;
}
