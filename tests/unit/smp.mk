# SMP: the MADT's processor entries (ASan/UBSan like the rest), and the
# lock-free primitives under threads in a separate ThreadSanitizer build
# (TSan cannot share a binary with ASan). `make unit` runs both kinds.
UNIT_TESTS += madt_cpus
UNIT_SRCS_madt_cpus := tests/unit/test_madt_cpus.c kernel/madt_cpus.c
UNIT_DEPS_madt_cpus := kernel/madt_cpus.h tests/unit/check.h

UNIT_TSAN_TESTS += smp_lockfree
UNIT_TSAN_SRCS_smp_lockfree := tests/unit/test_smp_lockfree.c
UNIT_TSAN_DEPS_smp_lockfree := kernel/spsc_ring.h kernel/spinlock.h netdev/rps.h \
	kernel/percpu_counter.h kernel/cpu.h tests/unit/check.h
