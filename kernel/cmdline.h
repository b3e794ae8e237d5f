/* Generic "key=value key=value" command-line parser. Callers describe their
 * options in a table; the parser fills the targets, and for every unknown key
 * or bad value calls report() with a clear one-line message and leaves the
 * target at its default. Nothing here allocates. */
#ifndef SKIFF_KERNEL_CMDLINE_H
#define SKIFF_KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cmdline_kind {
	CMDLINE_BOOL, /* bool*: 1/0, on/off, yes/no, true/false; bare key = true
		       */
	CMDLINE_U32,  /* uint32_t*: decimal or 0x hex, within [min, max] */
	CMDLINE_STRING, /* char[string_cap]: copied, NUL-terminated, must fit */
	CMDLINE_CHOICE, /* int*: index into choices (NULL-terminated list) */
	CMDLINE_IPV4, /* uint32_t*: dotted quad, host order (a<<24|b<<16|c<<8|d)
		       */
	CMDLINE_IPV4_CIDR, /* struct cmdline_ipv4_cidr*: A.B.C.D/N, N 0..32 */
};

struct cmdline_ipv4_cidr {
	uint32_t addr; /* host order */
	uint8_t prefix;
};

struct cmdline_option {
	const char *key;
	enum cmdline_kind kind;
	void *target;
	uint32_t min, max;	    /* CMDLINE_U32 bounds, inclusive */
	const char *const *choices; /* CMDLINE_CHOICE */
	size_t string_cap;	    /* CMDLINE_STRING buffer size */
	const char *help;	    /* one line for "help" */
	/* A secret (a token): its value is never shown, not in messages,
	 * not in help, not in cmdline_redact's copy of the line. */
	bool secret;
};

typedef void (*cmdline_report_fn)(const char *message);

/* Parses line (words separated by spaces/tabs/newlines; a value may be
 * double-quoted to contain spaces). The bare word "help" sets *help_requested.
 * Returns the number of problems reported (unknown keys + bad values). */
int cmdline_parse(const char *line, const struct cmdline_option *opts,
		  size_t nopts, cmdline_report_fn report, bool *help_requested);

/* Reports one line per option: key, kind/range/choices, default, help. */
void cmdline_print_help(const struct cmdline_option *opts, size_t nopts,
			cmdline_report_fn report);

/* Formats the option's current value (for the banner and /stats). */
int cmdline_format_value(const struct cmdline_option *opt, char *buf,
			 size_t size);

/* Copies line into out (NUL-terminated, cut at cap) with the value of
 * every secret option's word replaced by "***", blanks and other words as
 * they were: the line the banner prints. Returns the length written. */
size_t cmdline_redact(const char *line, const struct cmdline_option *opts,
		      size_t nopts, char *out, size_t cap);

/* Parses a dotted quad A.B.C.D (each part 0..255, at most three digits)
 * at the start of s into host order (a<<24|b<<16|c<<8|d); returns what
 * follows it, or NULL. The one IPv4 address parser (ip=, gw=, dns=,
 * xdp.blocklist=). */
const char *cmdline_parse_quad(const char *s, uint32_t *out);

#endif
