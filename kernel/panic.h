/* The panic path: print what happened (message or exception with vector,
 * error code, CR2, registers, a frame-pointer backtrace) and stop the machine
 * with a distinct non-zero exit status. */
#ifndef SKIFF_KERNEL_PANIC_H
#define SKIFF_KERNEL_PANIC_H

#include <stdint.h>

struct trap_frame;

/* isa-debug-exit values; QEMU exits with (value << 1) | 1. */
#define EXIT_CODE_PANIC	       0x7e	    /* software panic: status 253 */
#define EXIT_CODE_EXCEPTION(v) (0x40 + (v)) /* CPU exception v: 129 + 2v */

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt,
							   ...);
__attribute__((noreturn)) void panic_exception(struct trap_frame *f);
/* Records the guard-page ranges so a fault there is named a stack overflow. */
void panic_note_guard(uint64_t guard_base, const char *stack_name);

/* How to halt the other CPUs before reporting (smp.c registers it). */
void panic_set_stop_others(void (*fn)(void));

#endif
