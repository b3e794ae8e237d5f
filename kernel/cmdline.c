/* "key=value" command-line parser. The line is walked word by word; each
 * word is copied (quotes removed) into fixed buffers on the stack, looked up
 * in the caller's table and converted. A value is written to its target
 * only once it has been fully validated, so a bad value leaves the default
 * in place. Every problem becomes one report() line that names the word,
 * what was expected and the value that is kept. Nothing allocates. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/cmdline.h"
#include "kernel/printf.h"

#define CMDLINE_KEY_MAX	  64  /* longest key + NUL */
#define CMDLINE_VALUE_MAX 256 /* longest value + NUL */
#define CMDLINE_MSG_MAX	  256 /* one report() line */
#define CMDLINE_SHOW_MAX  40  /* user text quoted in messages is cut here */

/* One word of the line, split at its first '='. */
struct word {
	char key[CMDLINE_KEY_MAX];
	char value[CMDLINE_VALUE_MAX];
	size_t key_len;	  /* real length; may exceed the buffer */
	size_t value_len; /* real length; may exceed the buffer */
	bool has_value;	  /* an '=' was seen */
	bool open_quote;  /* the line ended inside a quote */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void append(char *buf, size_t cap, size_t *len, char c)
{
	if (*len < cap - 1)
		buf[*len] = c;
	(*len)++;
}

static void terminate(char *buf, size_t cap, size_t len)
{
	buf[len < cap ? len : cap - 1] = '\0';
}

/* Reads the next word at *p; false at the end of the line. Quotes group
 * blanks into the word and are dropped. As in Linux's next_arg(), the first
 * '=' splits the word even inside quotes, so both key="a b" and "key=a b"
 * work. */
static bool next_word(const char **p, struct word *w)
{
	const char *s = *p;
	bool quoted = false;

	while (is_blank(*s))
		s++;
	if (!*s)
		return false;
	w->key_len = w->value_len = 0;
	w->has_value = false;
	for (; *s && (quoted || !is_blank(*s)); s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == '=' && !w->has_value)
			w->has_value = true;
		else if (w->has_value)
			append(w->value, sizeof(w->value), &w->value_len, *s);
		else
			append(w->key, sizeof(w->key), &w->key_len, *s);
	}
	terminate(w->key, sizeof(w->key), w->key_len);
	terminate(w->value, sizeof(w->value), w->value_len);
	w->open_quote = quoted;
	*p = s;
	return true;
}

/* ---- value conversion ---------------------------------------------------- */

static bool lower_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char c = *a >= 'A' && *a <= 'Z' ? *a + ('a' - 'A') : *a;

		if (c != *b)
			return false;
	}
	return *a == *b;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "on", "yes", "true"};
	static const char *const no[] = {"0", "off", "no", "false"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (lower_eq(s, yes[i])) {
			*out = true;
			return true;
		}
		if (lower_eq(s, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* Decimal or 0x hex, no sign, the whole string, at most 32 bits. */
static bool parse_u32(const char *s, uint32_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d = (unsigned)digit_value(*s);

		if (d >= base)
			return false;
		v = v * base + d;
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

const char *cmdline_parse_quad(const char *s, uint32_t *out)
{
	uint32_t addr = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		int digits = 0;

		if (part && *s++ != '.')
			return NULL;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return NULL;
		addr = addr << 8 | v;
	}
	*out = addr;
	return s;
}

static bool parse_ipv4(const char *s, uint32_t *out)
{
	const char *rest = cmdline_parse_quad(s, out);

	return rest && !*rest;
}

static bool parse_cidr(const char *s, struct cmdline_ipv4_cidr *out)
{
	uint32_t addr;
	unsigned prefix = 0;
	const char *rest = cmdline_parse_quad(s, &addr);
	int digits = 0;

	if (!rest || *rest++ != '/')
		return false;
	/* One or two decimal digits: no hex, no sign, no "/024". */
	for (; *rest >= '0' && *rest <= '9' && digits < 3; rest++, digits++)
		prefix = prefix * 10 + (unsigned)(*rest - '0');
	if (*rest || digits == 0 || digits > 2 || prefix > 32)
		return false;
	out->addr = addr;
	out->prefix = (uint8_t)prefix;
	return true;
}

static bool parse_choice(const char *s, const char *const *choices, int *out)
{
	for (int i = 0; choices && choices[i]; i++) {
		if (strcmp(s, choices[i]) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

/* min == max == 0 in a table means "any 32-bit value". */
static void u32_bounds(const struct cmdline_option *opt, uint32_t *min,
		       uint32_t *max)
{
	*min = opt->min;
	*max = opt->min == 0 && opt->max == 0 ? UINT32_MAX : opt->max;
}

/* Converts and stores value; false (target untouched) if it is invalid. */
static bool apply(const struct cmdline_option *opt, const char *value,
		  size_t len)
{
	uint32_t u, min, max;
	struct cmdline_ipv4_cidr cidr;
	bool b;
	int choice;

	switch (opt->kind) {
	case CMDLINE_BOOL:
		if (!parse_bool(value, &b))
			return false;
		*(bool *)opt->target = b;
		return true;
	case CMDLINE_U32:
		u32_bounds(opt, &min, &max);
		if (!parse_u32(value, &u) || u < min || u > max)
			return false;
		*(uint32_t *)opt->target = u;
		return true;
	case CMDLINE_STRING:
		if (len >= opt->string_cap)
			return false;
		memcpy(opt->target, value, len + 1);
		return true;
	case CMDLINE_CHOICE:
		if (!parse_choice(value, opt->choices, &choice))
			return false;
		*(int *)opt->target = choice;
		return true;
	case CMDLINE_IPV4:
		if (!parse_ipv4(value, &u))
			return false;
		*(uint32_t *)opt->target = u;
		return true;
	case CMDLINE_IPV4_CIDR:
		if (!parse_cidr(value, &cidr))
			return false;
		*(struct cmdline_ipv4_cidr *)opt->target = cidr;
		return true;
	}
	return false;
}

/* ---- describing options -------------------------------------------------- */

static int format_quad(char *buf, size_t size, uint32_t a)
{
	return ksnprintf(buf, size, "%u.%u.%u.%u", a >> 24, a >> 16 & 0xff,
			 a >> 8 & 0xff, a & 0xff);
}

int cmdline_format_value(const struct cmdline_option *opt, char *buf,
			 size_t size)
{
	const struct cmdline_ipv4_cidr *cidr;
	int n, choice;

	switch (opt->kind) {
	case CMDLINE_BOOL:
		return ksnprintf(buf, size, "%s",
				 *(const bool *)opt->target ? "on" : "off");
	case CMDLINE_U32:
		return ksnprintf(buf, size, "%u",
				 *(const uint32_t *)opt->target);
	case CMDLINE_STRING:
		return ksnprintf(buf, size, "%s", (const char *)opt->target);
	case CMDLINE_CHOICE:
		choice = *(const int *)opt->target;
		for (int i = 0; opt->choices && opt->choices[i]; i++)
			if (i == choice)
				return ksnprintf(buf, size, "%s",
						 opt->choices[i]);
		return ksnprintf(buf, size, "?%d", choice);
	case CMDLINE_IPV4:
		return format_quad(buf, size, *(const uint32_t *)opt->target);
	case CMDLINE_IPV4_CIDR:
		cidr = opt->target;
		n = format_quad(buf, size, cidr->addr);
		return n +
		       ksnprintf(buf + ((size_t)n < size ? (size_t)n : size),
				 (size_t)n < size ? size - (size_t)n : 0, "/%u",
				 cidr->prefix);
	}
	if (size)
		buf[0] = '\0';
	return -1;
}

/* Longest string the option takes: its buffer, or the copy buffer. */
static size_t string_max(const struct cmdline_option *opt)
{
	size_t cap = opt->string_cap < CMDLINE_VALUE_MAX ? opt->string_cap
							 : CMDLINE_VALUE_MAX;

	return cap ? cap - 1 : 0;
}

/* What a valid value looks like, for messages and help. */
static void describe(const struct cmdline_option *opt, char *buf, size_t size)
{
	uint32_t min, max;
	size_t n;

	switch (opt->kind) {
	case CMDLINE_BOOL:
		ksnprintf(buf, size, "on/off, 1/0, yes/no or true/false");
		return;
	case CMDLINE_U32:
		u32_bounds(opt, &min, &max);
		ksnprintf(buf, size, "an integer %u..%u", min, max);
		return;
	case CMDLINE_STRING:
		ksnprintf(buf, size, "a string of at most %zu characters",
			  string_max(opt));
		return;
	case CMDLINE_CHOICE:
		n = (size_t)ksnprintf(buf, size, "one of");
		for (int i = 0; opt->choices && opt->choices[i] && n < size;
		     i++)
			n += (size_t)ksnprintf(buf + n, size - n, "%s%s",
					       i ? "|" : " ", opt->choices[i]);
		return;
	case CMDLINE_IPV4:
		ksnprintf(buf, size, "an IPv4 address like 10.0.2.15");
		return;
	case CMDLINE_IPV4_CIDR:
		ksnprintf(buf, size,
			  "A.B.C.D/N with N 0..32, like 10.0.2.15/24");
		return;
	}
	ksnprintf(buf, size, "nothing (unknown option kind %d)", opt->kind);
}

/* The current value; strings are quoted so an empty one is visible. */
static void describe_current(const struct cmdline_option *opt, char quote,
			     char *buf, size_t size)
{
	char v[CMDLINE_SHOW_MAX + 4];

	if (opt->secret) {
		ksnprintf(buf, size, "%s", "***");
		return;
	}
	cmdline_format_value(opt, v, sizeof(v));
	if (opt->kind == CMDLINE_STRING)
		ksnprintf(buf, size, "%c%s%c", quote, v, quote);
	else
		ksnprintf(buf, size, "%s", v);
}

/* ---- parsing ------------------------------------------------------------- */

static void say(cmdline_report_fn report, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(cmdline_report_fn report, const char *fmt, ...)
{
	char msg[CMDLINE_MSG_MAX];
	va_list ap;

	if (!report)
		return;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(msg);
}

/* Length to print of user text, and the "..." that marks a cut. */
static int shown(size_t len)
{
	return len > CMDLINE_SHOW_MAX ? CMDLINE_SHOW_MAX : (int)len;
}

static const char *cut(size_t len)
{
	return len > CMDLINE_SHOW_MAX ? "..." : "";
}

static const struct cmdline_option *find(const struct cmdline_option *opts,
					 size_t nopts, const char *key)
{
	for (size_t i = 0; i < nopts; i++)
		if (opts[i].key && strcmp(opts[i].key, key) == 0)
			return &opts[i];
	return NULL;
}

static void report_bad_value(const struct cmdline_option *opt,
			     const struct word *w, cmdline_report_fn report)
{
	char expect[128], keep[CMDLINE_SHOW_MAX + 8];

	describe(opt, expect, sizeof(expect));
	describe_current(opt, '\'', keep, sizeof(keep));
	if (opt->secret) {
		say(report,
		    "cmdline: bad value for %s: expected %s; keeping %s",
		    opt->key, expect, keep);
		return;
	}
	say(report,
	    "cmdline: bad value '%.*s%s' for %s: expected %s; keeping %s",
	    shown(w->value_len), w->value, cut(w->value_len), opt->key, expect,
	    keep);
}

/* A word without '='. Returns the number of problems (0 or 1). */
static int handle_bare(const struct word *w, const struct cmdline_option *opts,
		       size_t nopts, cmdline_report_fn report,
		       bool *help_requested)
{
	const struct cmdline_option *opt;
	char expect[128], keep[CMDLINE_SHOW_MAX + 8];

	if (strcmp(w->key, "help") == 0) {
		if (help_requested)
			*help_requested = true;
		return 0;
	}
	opt = find(opts, nopts, w->key);
	if (!opt) {
		say(report,
		    "cmdline: unknown word '%s' (ignored; 'help' lists every "
		    "key)",
		    w->key);
		return 1;
	}
	if (opt->kind == CMDLINE_BOOL) {
		*(bool *)opt->target = true;
		return 0;
	}
	describe(opt, expect, sizeof(expect));
	describe_current(opt, '\'', keep, sizeof(keep));
	say(report, "cmdline: %s needs a value: expected %s; keeping %s",
	    opt->key, expect, keep);
	return 1;
}

/* Returns the number of problems the word caused (0 or 1). */
static int handle_word(const struct word *w, const struct cmdline_option *opts,
		       size_t nopts, cmdline_report_fn report,
		       bool *help_requested)
{
	const struct cmdline_option *opt;

	if (w->open_quote) {
		say(report,
		    "cmdline: missing closing quote in '%.*s%s' (ignored)",
		    shown(w->key_len), w->key, cut(w->key_len));
		return 1;
	}
	if (w->key_len >= CMDLINE_KEY_MAX) {
		say(report, "cmdline: key '%.*s...' is too long (ignored)",
		    CMDLINE_SHOW_MAX, w->key);
		return 1;
	}
	if (!w->has_value)
		return handle_bare(w, opts, nopts, report, help_requested);
	if (w->key_len == 0) {
		say(report, "cmdline: '=%.*s%s' has no key (ignored)",
		    shown(w->value_len), w->value, cut(w->value_len));
		return 1;
	}
	opt = find(opts, nopts, w->key);
	if (!opt) {
		say(report,
		    "cmdline: unknown key '%s' (ignored; 'help' lists every "
		    "key)",
		    w->key);
		return 1;
	}
	/* An over-long value was cut while copying: never apply it. */
	if (w->value_len >= CMDLINE_VALUE_MAX ||
	    !apply(opt, w->value, w->value_len)) {
		report_bad_value(opt, w, report);
		return 1;
	}
	return 0;
}

int cmdline_parse(const char *line, const struct cmdline_option *opts,
		  size_t nopts, cmdline_report_fn report, bool *help_requested)
{
	struct word w;
	int problems = 0;

	if (!line)
		return 0;
	while (next_word(&line, &w))
		problems +=
		    handle_word(&w, opts, nopts, report, help_requested);
	return problems;
}

/* The word at s (next_word's rules: blanks end it outside quotes; the key
 * is what comes before the first '=', quotes dropped): its end, and in
 * *eq the '=' (NULL without one); key gets the key, cut to fit. */
static const char *raw_word(const char *s, const char **eq, char *key,
			    size_t cap)
{
	bool quoted = false;
	size_t n = 0;

	*eq = NULL;
	for (; *s && (quoted || !is_blank(*s)); s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == '=' && !*eq)
			*eq = s;
		else if (!*eq)
			append(key, cap, &n, *s);
	}
	terminate(key, cap, n);
	return s;
}

size_t cmdline_redact(const char *line, const struct cmdline_option *opts,
		      size_t nopts, char *out, size_t cap)
{
	size_t n = 0;

	if (!cap)
		return 0;
	while (line && *line) {
		if (is_blank(*line)) {
			append(out, cap, &n, *line++);
			continue;
		}
		char key[CMDLINE_KEY_MAX];
		const char *eq, *end = raw_word(line, &eq, key, sizeof(key));
		const struct cmdline_option *opt = find(opts, nopts, key);
		const char *copy_end = eq && opt && opt->secret ? eq + 1 : end;

		while (line < copy_end)
			append(out, cap, &n, *line++);
		if (copy_end != end)
			for (const char *m = "***"; *m; m++)
				append(out, cap, &n, *m);
		line = end;
	}
	terminate(out, cap, n);
	return n < cap ? n : cap - 1;
}

void cmdline_print_help(const struct cmdline_option *opts, size_t nopts,
			cmdline_report_fn report)
{
	char expect[128], value[CMDLINE_SHOW_MAX + 8];

	for (size_t i = 0; i < nopts; i++) {
		describe(&opts[i], expect, sizeof(expect));
		/* Double quotes, so the line can be pasted back. */
		describe_current(&opts[i], '"', value, sizeof(value));
		say(report, "%s=%s  %s (%s)", opts[i].key, value,
		    opts[i].help ? opts[i].help : "", expect);
	}
}
