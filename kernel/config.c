/* The command-line keys. To add one: a field in struct config, a default
 * here, and a row in the table. */
#include <stddef.h>

#include "cmdline.h"
#include "config.h"
#include "console.h"
#include "log.h"

struct config config = {
	.log_level = LOG_INFO,
	.timer_hz = 100,
	.test_fault = FAULT_NONE,
	.test_shutdown = false,
};

static const char *const log_levels[] = {"error", "warn", "info", "debug",
					 NULL};
static const char *const faults[] = {"none", "pf", "ud", "gp", "de",
				     "stack", "panic", NULL};

static const struct cmdline_option options[] = {
	{.key = "log.level", .kind = CMDLINE_CHOICE, .target = &config.log_level,
	 .choices = log_levels, .help = "most verbose level printed"},
	{.key = "timer.hz", .kind = CMDLINE_U32, .target = &config.timer_hz,
	 .min = 10, .max = 1000, .help = "periodic timer tick rate"},
	{.key = "loader", .kind = CMDLINE_STRING, .target = config.loader,
	 .string_cap = sizeof(config.loader),
	 .help = "name of the boot loader, shown in the banner (GRUB's menu "
		 "sets it)"},
	{.key = "test.fault", .kind = CMDLINE_CHOICE,
	 .target = &config.test_fault, .choices = faults,
	 .help = "provoke a crash after boot (tests the panic path)"},
	{.key = "test.shutdown", .kind = CMDLINE_BOOL,
	 .target = &config.test_shutdown,
	 .help = "power off right after the ready banner"},
};

static void report(const char *msg)
{
	log_warn("%s", msg);
}

static void help_line(const char *msg)
{
	console_puts("  ");
	console_puts(msg);
	console_puts("\n");
}

void config_print_help(void)
{
	console_puts("Skiff command-line keys (key=value, space separated):\n");
	cmdline_print_help(options, sizeof(options) / sizeof(options[0]),
			   help_line);
}

int config_parse(const char *cmdline)
{
	bool help = false;
	int problems = cmdline_parse(cmdline, options,
				     sizeof(options) / sizeof(options[0]),
				     report, &help);
	log_set_level((enum log_level)config.log_level);
	if (help)
		config_print_help();
	return problems;
}
