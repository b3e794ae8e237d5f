/* The logger: "[   12.345678] warn: message" on the console. Lines are
 * formatted into a stack buffer and written in one go, with interrupts held
 * off so a line from an interrupt handler cannot split another. */
#include <stdarg.h>
#include <string.h>

#include "kernel/clock.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/printf.h"

static enum log_level max_level = LOG_INFO;
const char *const log_level_names[] = {"error", "warn", "info", "debug", NULL};

void log_set_level(enum log_level level)
{
	max_level = level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[320];
	uint64_t ns = clock_ns();
	va_list ap;
	int n;

	if (level > max_level)
		return;
	n = ksnprintf(line, sizeof(line), "[%5llu.%06llu] %s: ",
		      (unsigned long long)(ns / 1000000000ULL),
		      (unsigned long long)(ns / 1000ULL % 1000000ULL),
		      log_level_names[level]);
	va_start(ap, fmt);
	kvsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strnlen(line, sizeof(line) - 2);
	line[n++] = '\n';
	uint64_t flags = irq_save();
	console_write(line, n);
	irq_restore(flags);
}
