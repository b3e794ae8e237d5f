/* Compiler and platform glue for lwIP, included by lwip/arch.h after
 * lwipopts.h. Skiff is freestanding x86-64 (little endian, LP64) with a
 * small libc in kernel/libc; lwIP's diagnostics go to the kernel console,
 * its assertions are panics, and its critical sections save and clear the
 * interrupt flag. */
#ifndef SKIFF_LWIP_ARCH_CC_H
#define SKIFF_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdio.h> /* printf, for LWIP_PLATFORM_DIAG */

#include "kernel/panic.h"

#define BYTE_ORDER LITTLE_ENDIAN
/* Byte order conversions as one bswap/rol each, inline: lwIP's own are
 * out-of-line functions (def.c), called a dozen times per TCP segment. */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

/* Our libc has no <inttypes.h>; these are lwIP's printf formats for its
 * integer types (u32_t is unsigned int on x86-64, size_t unsigned long). */
#define LWIP_NO_INTTYPES_H 1
#define X8_F		   "02x"
#define U16_F		   "hu"
#define S16_F		   "hd"
#define X16_F		   "hx"
#define U32_F		   "u"
#define S32_F		   "d"
#define X32_F		   "x"
#define SZT_F		   "zu"

/* gcc's <limits.h> cannot be used here: it include_next's a libc
 * <limits.h> that does not exist under -nostdinc. lwIP needs it only for
 * SSIZE_MAX, which is defined here together with ssize_t (lwIP would
 * otherwise typedef ssize_t as int): the LP64 type, so that a later libc
 * definition (long) agrees. There is no <unistd.h> either. */
#define LWIP_NO_LIMITS_H 1
#define LWIP_NO_UNISTD_H 1
#ifndef SSIZE_MAX
#define SSIZE_MAX __LONG_MAX__
#endif
typedef long ssize_t;

/* lwip/errno.h (sockets only) takes the codes from kernel/libc/errno.h. */
#define LWIP_ERRNO_STDINCLUDE 1

/* lwIP's protocol headers are declared packed; their fields are naturally
 * aligned already, the attribute only pins the layout. */
#define PACK_STRUCT_STRUCT __attribute__((packed))

#define LWIP_PLATFORM_DIAG(x)                                                  \
	do {                                                                   \
		printf x;                                                      \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                \
	panic("lwIP assertion \"%s\" failed at %s:%d", (x), __FILE__, __LINE__)

/* Random numbers for TCP initial sequence numbers, ephemeral ports, DHCP
 * transaction and DNS query ids (lwip-port/sys_arch.c). */
uint32_t skiff_random(void);
#define LWIP_RAND() ((u32_t)skiff_random())

/* Critical sections (SYS_ARCH_PROTECT, defined by lwip/sys.h from these):
 * save RFLAGS and cli; restore IF only if it was set, so nesting works and a
 * caller that already runs with interrupts off keeps them off. */
typedef uint64_t sys_prot_t;
#ifdef SKIFF_HOST_TEST
/* Host unit tests run in user space, where cli faults; they are single
 * threaded and have no interrupts to keep out. */
static inline sys_prot_t sys_arch_protect(void)
{
	return 0;
}
static inline void sys_arch_unprotect(sys_prot_t flags)
{
	(void)flags;
}
#else
#include "kernel/cpu.h"
static inline sys_prot_t sys_arch_protect(void)
{
	return irq_save(); /* pushfq; popq; cli */
}
static inline void sys_arch_unprotect(sys_prot_t flags)
{
	irq_restore(flags); /* sti only if RFLAGS.IF was set */
}
#endif

#endif
