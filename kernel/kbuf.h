/* A bounded text builder for counters and JSON: appends never overflow the
 * buffer, and len keeps counting what the whole text needs, so a caller can
 * tell it was cut short exactly as with snprintf. */
#ifndef SKIFF_KERNEL_KBUF_H
#define SKIFF_KERNEL_KBUF_H

#include <stddef.h>

struct kbuf {
	char *buf;
	size_t cap; /* bytes at buf (0 is allowed: nothing is written) */
	size_t len; /* length of the whole text so far, even past cap */
};

void kbuf_printf(struct kbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* NUL-terminates what fits and returns the full length. */
int kbuf_finish(struct kbuf *b);

#endif
