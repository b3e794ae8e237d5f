# Host unit tests for the freestanding kernel libraries (see unit.mk).
UNIT_TESTS += printf page_alloc heap cmdline
UNIT_SRCS_printf := tests/unit/test_printf.c kernel/printf.c
UNIT_SRCS_page_alloc := tests/unit/test_page_alloc.c kernel/page_alloc.c
UNIT_SRCS_heap := tests/unit/test_heap.c kernel/heap.c
# cmdline formats its messages with the kernel's own printf.
UNIT_SRCS_cmdline := tests/unit/test_cmdline.c kernel/cmdline.c \
	kernel/printf.c
UNIT_DEPS_printf := kernel/printf.h tests/unit/check.h
UNIT_DEPS_page_alloc := kernel/page_alloc.h tests/unit/check.h
UNIT_DEPS_heap := kernel/heap.h tests/unit/check.h
UNIT_DEPS_cmdline := kernel/cmdline.h kernel/printf.h tests/unit/check.h

# SipHash-2-4 against the reference vectors, and RFC 6528 ISNs built on it.
UNIT_TESTS += siphash
UNIT_SRCS_siphash := tests/unit/test_siphash.c kernel/siphash.c \
	lwip-port/rfc6528.c
UNIT_DEPS_siphash := kernel/siphash.h lwip-port/rfc6528.h tests/unit/check.h

# The Internet checksum lwIP uses (LWIP_CHKSUM) against a reference.
UNIT_TESTS += inet_csum
UNIT_SRCS_inet_csum := tests/unit/test_inet_csum.c kernel/inet_csum.c
UNIT_DEPS_inet_csum := kernel/inet_csum.h tests/unit/check.h

# The counter emitters (JSON, console text, Prometheus) on a demo table.
UNIT_TESTS += counters
UNIT_SRCS_counters := tests/unit/test_counters.c $(KERNEL_TEXT_SRCS) \
	kernel/printf.c
UNIT_DEPS_counters := kernel/counters.h kernel/kbuf.h tests/unit/check.h

# The TSC rate from CPUID leaves 0x15/0x16 and 0x40000010, on fake leaves.
UNIT_TESTS += tsc_cpuid
UNIT_SRCS_tsc_cpuid := tests/unit/test_tsc_cpuid.c kernel/tsc_cpuid.c
UNIT_DEPS_tsc_cpuid := kernel/tsc_cpuid.h tests/unit/check.h

# The kernel's own memcpy/memset/memmove, renamed so the host libc stays.
KSTRING_NAMES := memcpy memmove memset memcmp memchr strlen strnlen strcmp \
	strncmp strchr strrchr strstr strlcpy strncasecmp strcasecmp
UNIT_TESTS += kstring
UNIT_SRCS_kstring := tests/unit/test_kstring.c kernel/libc/string.c
UNIT_CFLAGS_kstring := -fno-builtin $(foreach f,$(KSTRING_NAMES),-D$(f)=k_$(f))
UNIT_DEPS_kstring := tests/unit/check.h
