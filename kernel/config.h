/* Skiff's run-time settings: every command-line key lands in this struct.
 * The table of keys (with help text) is in config.c. */
#ifndef SKIFF_KERNEL_CONFIG_H
#define SKIFF_KERNEL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

enum test_fault { FAULT_NONE, FAULT_PF, FAULT_UD, FAULT_GP, FAULT_DE,
		  FAULT_STACK, FAULT_PANIC };

struct config {
	int log_level;	     /* enum log_level */
	uint32_t timer_hz;   /* periodic tick */
	int test_fault;	     /* enum test_fault: provoke a crash after boot */
	bool test_shutdown;  /* power off right after the ready banner */
	char loader[16];     /* who started us, if it says so (GRUB does) */
};

extern struct config config;

/* Parses the command line into config, logging every problem. Returns the
 * number of problems; prints the key list when "help" was given. */
int config_parse(const char *cmdline);
/* Logs the key list. */
void config_print_help(void);

#endif
