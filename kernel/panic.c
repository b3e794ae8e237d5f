/* Panic and exception dumps. Everything here avoids the heap and keeps
 * working with interrupts off; a fault while panicking stops at once. */
#include <stdarg.h>
#include <stdint.h>

#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/image.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/shutdown.h"
#include "kernel/trap_frame.h"

static const char *const exception_names[32] = {
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection",
    "page fault",
    "reserved",
    "x87 floating point",
    "alignment check",
    "machine check",
    "SIMD floating point",
    "virtualization",
    "control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "hypervisor injection",
    "VMM communication",
    "security",
    "reserved",
};

#define MAX_GUARDS                                                             \
	(4 * CPU_MAX + 4) /* main + 3 IST stacks per CPU, and spare */
static struct {
	uint64_t base;
	const char *name;
} guards[MAX_GUARDS];
static int nguards;
/* Registered by smp.c once other CPUs run (panic cannot include it: smp.c
 * itself panics through here). */
static void (*stop_others)(void);

void panic_set_stop_others(void (*fn)(void))
{
	stop_others = fn;
}

static int panic_cpu = -1; /* the CPU that reports, -1 = none yet */

void panic_note_guard(uint64_t guard_base, const char *stack_name)
{
	if (nguards < MAX_GUARDS) {
		guards[nguards].base = guard_base;
		guards[nguards].name = stack_name;
		nguards++;
	}
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_puts(buf);
}

static void enter_panic(void)
{
	irq_disable();
	/* The first CPU to panic reports, after stopping the others; one
	 * that panics meanwhile just stops, and a fault while panicking
	 * ends the machine at once. */
	int me = (int)percpu_current_or_boot(), first = -1;
	if (!__atomic_compare_exchange_n(&panic_cpu, &first, me, 0,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		if (first == me) {
			console_puts(
			    "\nPANIC: fault while panicking; stopping\n");
			machine_exit(EXIT_CODE_PANIC);
		}
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	if (stop_others)
		stop_others();
	console_panic();
}

/* Walks saved frame pointers; each frame must sit above the previous one
 * and close to it, or the walk stops rather than faulting again. */
static void backtrace(uint64_t rbp, uint64_t rip)
{
	uint64_t base = image_base();

	out("backtrace (addr2line -e build/skiff.elf <offset>):\n");
	out("  #0  0x%016llx  image+%#llx\n", (unsigned long long)rip,
	    (unsigned long long)(rip - base));
	for (int depth = 1; depth < 24; depth++) {
		if (rbp == 0 || (rbp & 7) || rbp < 0x1000)
			break;
		const uint64_t *frame = (const uint64_t *)rbp;
		uint64_t next = frame[0], ret = frame[1];
		if (ret == 0)
			break;
		out("  #%-2d 0x%016llx  image+%#llx\n", depth,
		    (unsigned long long)ret, (unsigned long long)(ret - base));
		if (next <= rbp || next - rbp > (1 << 20))
			break;
		rbp = next;
	}
}

void panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	uint64_t rbp;

	enter_panic();
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_puts("\nPANIC: ");
	console_puts(buf);
	console_puts("\n");
	__asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
	backtrace(rbp, (uint64_t)__builtin_return_address(0));
	machine_exit(EXIT_CODE_PANIC);
}

void panic_exception(struct trap_frame *f)
{
	uint64_t cr2 = read_cr2();
	unsigned v = f->vector;

	enter_panic();
	out("\nPANIC: CPU exception %u (%s), error code %#llx\n", v,
	    exception_names[v & 31], (unsigned long long)f->error_code);
	if (v == 14) {
		out("  page fault at %#llx: %s, %s, %s\n",
		    (unsigned long long)cr2,
		    (f->error_code & 1) ? "protection violation"
					: "page not present",
		    (f->error_code & 2) ? "write" : "read",
		    (f->error_code & 16) ? "instruction fetch" : "data access");
	}
	for (int i = 0; i < nguards; i++)
		if (cr2 >= guards[i].base && cr2 < guards[i].base + 4096)
			out("  CR2 is in the guard page of the %s stack: "
			    "stack overflow\n",
			    guards[i].name);
	out("  rip 0x%016llx  image+%#llx  cs %#llx  rflags %#llx\n",
	    (unsigned long long)f->rip,
	    (unsigned long long)(f->rip - image_base()),
	    (unsigned long long)f->cs, (unsigned long long)f->rflags);
	out("  rsp 0x%016llx  ss %#llx  cr2 %#llx  cr3 %#llx\n",
	    (unsigned long long)f->rsp, (unsigned long long)f->ss,
	    (unsigned long long)cr2, (unsigned long long)read_cr3());
	out("  rax 0x%016llx  rbx 0x%016llx  rcx 0x%016llx\n",
	    (unsigned long long)f->rax, (unsigned long long)f->rbx,
	    (unsigned long long)f->rcx);
	out("  rdx 0x%016llx  rsi 0x%016llx  rdi 0x%016llx\n",
	    (unsigned long long)f->rdx, (unsigned long long)f->rsi,
	    (unsigned long long)f->rdi);
	out("  rbp 0x%016llx  r8  0x%016llx  r9  0x%016llx\n",
	    (unsigned long long)f->rbp, (unsigned long long)f->r8,
	    (unsigned long long)f->r9);
	out("  r10 0x%016llx  r11 0x%016llx  r12 0x%016llx\n",
	    (unsigned long long)f->r10, (unsigned long long)f->r11,
	    (unsigned long long)f->r12);
	out("  r13 0x%016llx  r14 0x%016llx  r15 0x%016llx\n",
	    (unsigned long long)f->r13, (unsigned long long)f->r14,
	    (unsigned long long)f->r15);
	/* A double fault's saved frame may be garbage: skip the walk. */
	if (v != 8)
		backtrace(f->rbp, f->rip);
	machine_exit(EXIT_CODE_EXCEPTION(v));
}
