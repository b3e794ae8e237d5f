# kernel/: CPU tables, memory, console and logger, clock, ACPI, fw_cfg,
# command line, panic; kernel/libc/ the few libc functions lwIP and llhttp
# need. One list for the image. KERNEL_TEXT_SRCS, the text buffer and the
# counter emitter, also builds on the host: the host tests of the layers
# above link it (the kernel's own unit tests name the single files they
# test, tests/unit/kernel.mk).
KERNEL_TEXT_SRCS := kernel/kbuf.c kernel/counters.c kernel/siphash.c \
	kernel/inet_csum.c
KERNEL_SRCS := kernel/acpi.c kernel/apic.c kernel/boot_steps.c kernel/clock.c kernel/cmdline.c \
	kernel/config.c kernel/console.c kernel/entropy.c kernel/fw_cfg.c \
	kernel/gdt.c kernel/heap.c kernel/ioapic.c kernel/isr.S kernel/log.c \
	kernel/madt_cpus.c kernel/percpu.c kernel/smp.c kernel/smp_trampoline.S \
	kernel/memory.c \
	kernel/page_alloc.c kernel/paging.c kernel/panic.c kernel/printf.c \
	kernel/shutdown.c kernel/trap.c kernel/tsc_cpuid.c \
	kernel/libc/stdlib.c kernel/libc/string.c \
	$(KERNEL_TEXT_SRCS)
