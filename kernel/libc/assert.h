/* <assert.h> for the kernel: a failed assertion is a panic. */
#ifndef SKIFF_LIBC_ASSERT_H
#define SKIFF_LIBC_ASSERT_H

__attribute__((noreturn)) void panic(const char *fmt, ...);
#define assert(x)                                                              \
	((x) ? (void)0                                                         \
	     : panic("assertion failed: %s (%s:%d)", #x, __FILE__, __LINE__))

#endif
