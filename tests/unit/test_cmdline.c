/* kernel/cmdline.c: every option kind, its bounds, the exact messages users
 * see, quoting, help, and hostile input (long words, stray quotes). */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/cmdline.h"
#include "tests/unit/check.h"

#define MAX_MSGS 16
#define MSG_LEN	 512

static char msgs[MAX_MSGS][MSG_LEN];
static int nmsgs;

static void collect(const char *message)
{
	/* Every line must fit the parser's own bounded buffer. */
	CHECK(strlen(message) < 256);
	if (nmsgs < MAX_MSGS)
		snprintf(msgs[nmsgs], MSG_LEN, "%s", message);
	nmsgs++;
}

static const char *const modes[] = {"poll", "irq", "hybrid", NULL};

/* The options, reset to their defaults before every test. */
static bool verbose, promisc;
static uint32_t budget, anyval;
static char hostname[16], token[16];
static int mode;
static uint32_t ip;
static struct cmdline_ipv4_cidr net;
static bool help;

static const struct cmdline_option opts[] = {
    {.key = "verbose",
     .kind = CMDLINE_BOOL,
     .target = &verbose,
     .help = "log every packet"},
    {.key = "net.promisc",
     .kind = CMDLINE_BOOL,
     .target = &promisc,
     .help = "accept all frames"},
    {.key = "net.budget",
     .kind = CMDLINE_U32,
     .target = &budget,
     .min = 1,
     .max = 4096,
     .help = "RX packets per poll"},
    {.key = "any",
     .kind = CMDLINE_U32,
     .target = &anyval,
     .help = "no bounds given"},
    {.key = "hostname",
     .kind = CMDLINE_STRING,
     .target = hostname,
     .string_cap = sizeof(hostname),
     .help = "DHCP host name"},
    {.key = "net.mode",
     .kind = CMDLINE_CHOICE,
     .target = &mode,
     .choices = modes,
     .help = "how the NIC is serviced"},
    {.key = "ip",
     .kind = CMDLINE_IPV4,
     .target = &ip,
     .help = "static address"},
    {.key = "net",
     .kind = CMDLINE_IPV4_CIDR,
     .target = &net,
     .help = "static address and prefix"},
    {.key = "token",
     .kind = CMDLINE_STRING,
     .target = token,
     .string_cap = sizeof(token),
     .help = "a secret",
     .secret = true},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void defaults(void)
{
	verbose = false;
	promisc = true;
	budget = 64;
	anyval = 7;
	strcpy(hostname, "skiff");
	strcpy(token, "");
	mode = 0;
	ip = 0x0a00020f;
	net.addr = 0x0a000200;
	net.prefix = 24;
	help = false;
	nmsgs = 0;
	memset(msgs, 0, sizeof(msgs));
}

static int parse(const char *line)
{
	defaults();
	return cmdline_parse(line, opts, NOPTS, collect, &help);
}

static bool defaults_intact(void)
{
	return !verbose && promisc && budget == 64 && anyval == 7 &&
	       strcmp(hostname, "skiff") == 0 && mode == 0 &&
	       ip == 0x0a00020f && net.addr == 0x0a000200 && net.prefix == 24 &&
	       !help;
}

TEST(cmdline_empty_lines)
{
	CHECK_EQ(parse(""), 0);
	CHECK(defaults_intact());
	CHECK_EQ(parse("   \t\n  \r\n"), 0);
	CHECK(defaults_intact());
	defaults();
	CHECK_EQ(cmdline_parse(NULL, opts, NOPTS, collect, &help), 0);
	CHECK_EQ(nmsgs, 0);
}

TEST(cmdline_bool_values)
{
	static const char *const on[] = {"1",	 "on", "yes",
					 "true", "ON", "True"};
	static const char *const off[] = {"0",	   "off", "no",
					  "false", "OFF", "No"};
	char line[64];

	for (size_t i = 0; i < sizeof(on) / sizeof(*on); i++) {
		snprintf(line, sizeof(line), "verbose=%s net.promisc=%s", on[i],
			 off[i]);
		CHECK_EQ(parse(line), 0);
		CHECK(verbose);
		CHECK(!promisc);
	}
	CHECK_EQ(parse("verbose"), 0); /* a bare bool key means true */
	CHECK(verbose);
	CHECK_EQ(parse("verbose=maybe"), 1);
	CHECK(!verbose);
	CHECK_STR(msgs[0], "cmdline: bad value 'maybe' for verbose: expected "
			   "on/off, 1/0, yes/no or true/false; keeping off");
	CHECK_EQ(parse("verbose="), 1);
	CHECK_EQ(parse("verbose=10"), 1);
	CHECK(defaults_intact());
}

TEST(cmdline_u32_values_and_bounds)
{
	CHECK_EQ(parse("net.budget=128"), 0);
	CHECK_EQ(budget, 128);
	CHECK_EQ(parse("net.budget=0x100"), 0);
	CHECK_EQ(budget, 256);
	CHECK_EQ(parse("net.budget=0X1f"), 0);
	CHECK_EQ(budget, 31);
	CHECK_EQ(parse("net.budget=1"), 0);
	CHECK_EQ(budget, 1);
	CHECK_EQ(parse("net.budget=4096"), 0);
	CHECK_EQ(budget, 4096);
	CHECK_EQ(parse("net.budget=0"), 1);
	CHECK_EQ(budget, 64);
	CHECK_STR(msgs[0], "cmdline: bad value '0' for net.budget: expected an "
			   "integer 1..4096; keeping 64");
	CHECK_EQ(parse("net.budget=4097"), 1);
	CHECK_EQ(parse("net.budget=abc"), 1);
	CHECK_STR(msgs[0], "cmdline: bad value 'abc' for net.budget: expected "
			   "an integer 1..4096; keeping 64");
	CHECK_EQ(parse("net.budget=-1"), 1);
	CHECK_EQ(parse("net.budget=+5"), 1);
	CHECK_EQ(parse("net.budget=12abc"), 1);
	CHECK_EQ(parse("net.budget=0x"), 1);
	CHECK_EQ(parse("net.budget="), 1);
	CHECK_EQ(parse("net.budget=4294967296"), 1);
	CHECK_EQ(parse("net.budget=99999999999999999999999"), 1);
	CHECK_EQ(parse("net.budget=0x100000000"), 1);
	CHECK(defaults_intact());
}

TEST(cmdline_u32_without_bounds_takes_any_value)
{
	CHECK_EQ(parse("any=0"), 0);
	CHECK_EQ(anyval, 0);
	CHECK_EQ(parse("any=4294967295"), 0);
	CHECK_EQ(anyval, UINT32_MAX);
	CHECK_EQ(parse("any=0xffffffff"), 0);
	CHECK_EQ(anyval, UINT32_MAX);
}

TEST(cmdline_strings)
{
	CHECK_EQ(parse("hostname=box1"), 0);
	CHECK_STR(hostname, "box1");
	CHECK_EQ(parse("hostname=\"my box\""), 0);
	CHECK_STR(hostname, "my box");
	CHECK_EQ(parse("hostname="), 0); /* empty is a valid string */
	CHECK_STR(hostname, "");
	CHECK_EQ(parse("hostname=\"\""), 0);
	CHECK_STR(hostname, "");
	/* 15 characters fit a 16-byte buffer, 16 do not. */
	CHECK_EQ(parse("hostname=abcdefghijklmno"), 0);
	CHECK_STR(hostname, "abcdefghijklmno");
	CHECK_EQ(parse("hostname=abcdefghijklmnop"), 1);
	CHECK_STR(hostname, "skiff");
	CHECK_STR(msgs[0], "cmdline: bad value 'abcdefghijklmnop' for hostname:"
			   " expected a string of at most 15 characters; "
			   "keeping 'skiff'");
	/* '=' inside a value is part of it. */
	CHECK_EQ(parse("hostname=a=b"), 0);
	CHECK_STR(hostname, "a=b");
}

TEST(cmdline_choices)
{
	CHECK_EQ(parse("net.mode=irq"), 0);
	CHECK_EQ(mode, 1);
	CHECK_EQ(parse("net.mode=hybrid"), 0);
	CHECK_EQ(mode, 2);
	CHECK_EQ(parse("net.mode=fast"), 1);
	CHECK_EQ(mode, 0);
	CHECK_STR(msgs[0], "cmdline: bad value 'fast' for net.mode: expected "
			   "one of poll|irq|hybrid; keeping poll");
	CHECK_EQ(parse("net.mode=IRQ"), 1);
	CHECK_EQ(parse("net.mode="), 1);
}

TEST(cmdline_ipv4)
{
	static const char *const bad[] = {
	    "256.1.1.1", "1.2.3",      "1.2.3.4.5", "1..2.3",
	    "a.b.c.d",	 "1.2.3.4x",   "",	    ".1.2.3",
	    "1.2.3.",	 "1.2.3.0004", "-1.2.3.4",  "1.2.3.4/24",
	};
	char line[64];

	CHECK_EQ(parse("ip=192.168.1.20"), 0);
	CHECK_EQ(ip, 0xc0a80114);
	CHECK_EQ(parse("ip=0.0.0.0"), 0);
	CHECK_EQ(ip, 0);
	CHECK_EQ(parse("ip=255.255.255.255"), 0);
	CHECK_EQ(ip, 0xffffffff);
	CHECK_EQ(parse("ip=010.000.002.015"), 0); /* decimal, not octal */
	CHECK_EQ(ip, 0x0a00020f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(line, sizeof(line), "ip=%s", bad[i]);
		CHECK_EQ(parse(line), 1);
		CHECK_EQ(ip, 0x0a00020f);
	}
	CHECK_EQ(parse("ip=1.2.3.999"), 1);
	CHECK_STR(msgs[0], "cmdline: bad value '1.2.3.999' for ip: expected an "
			   "IPv4 address like 10.0.2.15; keeping 10.0.2.15");
}

TEST(cmdline_ipv4_cidr)
{
	static const char *const bad[] = {
	    "10.0.0.0",	    "10.0.0.0/",    "10.0.0.0/33", "10.0.0.0/1x",
	    "10.0.0.0/024", "10.0.0.0/-1",  "10.0.0/8",	   "/8",
	    "10.0.0.0/0x8", "10.0.0.0/8/8",
	};
	char line[64];

	CHECK_EQ(parse("net=192.168.0.0/16"), 0);
	CHECK_EQ(net.addr, 0xc0a80000);
	CHECK_EQ(net.prefix, 16);
	CHECK_EQ(parse("net=10.0.2.15/32"), 0);
	CHECK_EQ(net.prefix, 32);
	CHECK_EQ(parse("net=0.0.0.0/0"), 0);
	CHECK_EQ(net.addr, 0);
	CHECK_EQ(net.prefix, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(line, sizeof(line), "net=%s", bad[i]);
		CHECK_EQ(parse(line), 1);
		CHECK_EQ(net.addr, 0x0a000200);
		CHECK_EQ(net.prefix, 24);
	}
	CHECK_STR(msgs[0],
		  "cmdline: bad value '10.0.0.0/8/8' for net: expected "
		  "A.B.C.D/N with N 0..32, like 10.0.2.15/24; keeping "
		  "10.0.2.0/24");
}

TEST(cmdline_unknown_keys_and_words)
{
	CHECK_EQ(parse("foo=1 verbose bar"), 2);
	CHECK(verbose);
	CHECK_EQ(nmsgs, 2);
	CHECK_STR(msgs[0], "cmdline: unknown key 'foo' (ignored; 'help' lists "
			   "every key)");
	CHECK_STR(msgs[1], "cmdline: unknown word 'bar' (ignored; 'help' lists "
			   "every key)");
	/* Keys are case-sensitive. */
	CHECK_EQ(parse("Verbose=1"), 1);
	CHECK(!verbose);
}

TEST(cmdline_bare_key_that_needs_a_value)
{
	CHECK_EQ(parse("net.budget"), 1);
	CHECK_EQ(budget, 64);
	CHECK_STR(msgs[0], "cmdline: net.budget needs a value: expected an "
			   "integer 1..4096; keeping 64");
}

TEST(cmdline_help_word)
{
	CHECK_EQ(parse("verbose help"), 0);
	CHECK(help);
	CHECK(verbose);
	CHECK_EQ(nmsgs, 0);
	/* No flag to set: still fine. */
	defaults();
	CHECK_EQ(cmdline_parse("help", opts, NOPTS, collect, NULL), 0);
}

TEST(cmdline_separators_and_order)
{
	CHECK_EQ(parse("\tverbose=1\nnet.budget=5\r\n  net.budget=6  "), 0);
	CHECK(verbose);
	CHECK_EQ(budget, 6); /* the last one wins */
	CHECK_EQ(parse("net.budget=5 net.budget=bad"), 1);
	CHECK_EQ(budget, 5);
	CHECK_STR(msgs[0], "cmdline: bad value 'bad' for net.budget: expected "
			   "an integer 1..4096; keeping 5");
}

TEST(cmdline_quotes)
{
	/* Quotes may wrap the value, part of it, or the whole word. */
	CHECK_EQ(parse("hostname=\"a b\" verbose"), 0);
	CHECK_STR(hostname, "a b");
	CHECK(verbose);
	CHECK_EQ(parse("hostname=x\"y z\"w"), 0);
	CHECK_STR(hostname, "xy zw");
	CHECK_EQ(parse("\"hostname=q r\""), 0);
	CHECK_STR(hostname, "q r");
	CHECK_EQ(parse("net.budget=\"12\""), 0);
	CHECK_EQ(budget, 12);
	/* As in Linux, the first '=' splits even inside quotes. */
	CHECK_EQ(parse("\"hostname=c\"=d"), 0);
	CHECK_STR(hostname, "c=d");
}

TEST(cmdline_unterminated_quote)
{
	CHECK_EQ(parse("verbose hostname=\"abc def"), 1);
	CHECK(verbose);
	CHECK_STR(hostname, "skiff");
	CHECK_STR(msgs[0], "cmdline: missing closing quote in 'hostname' "
			   "(ignored)");
}

TEST(cmdline_missing_key)
{
	CHECK_EQ(parse("=5 verbose"), 1);
	CHECK(verbose);
	CHECK_STR(msgs[0], "cmdline: '=5' has no key (ignored)");
}

TEST(cmdline_very_long_words)
{
	static char line[5000];

	/* A 3000-character key. */
	memset(line, 'k', 3000);
	strcpy(line + 3000, "=1 verbose");
	CHECK_EQ(parse(line), 1);
	CHECK(verbose);
	CHECK(strstr(msgs[0], "is too long (ignored)") != NULL);
	/* A 3000-character value, for a string and for a number. */
	strcpy(line, "hostname=");
	memset(line + 9, 'v', 3000);
	strcpy(line + 3009, " net.budget=");
	memset(line + 3021, '1', 1000);
	line[4021] = '\0';
	CHECK_EQ(parse(line), 2);
	CHECK_STR(hostname, "skiff");
	CHECK_EQ(budget, 64);
	CHECK(strstr(msgs[0], "vvvvvvvv...' for hostname") != NULL);
	CHECK(strstr(msgs[1], "1111...' for net.budget") != NULL);
	/* A 3000-character bare word. */
	memset(line, 'w', 3000);
	line[3000] = '\0';
	CHECK_EQ(parse(line), 1);
	CHECK_EQ(nmsgs, 1);
}

TEST(cmdline_value_just_under_the_copy_limit)
{
	static char line[600];

	/* 255 digits are copied whole, then rejected as too big. */
	strcpy(line, "net.budget=");
	memset(line + 11, '0', 254);
	strcpy(line + 265, "7");
	CHECK_EQ(parse(line), 0);
	CHECK_EQ(budget, 7);
	/* 256 are not copied whole, so not even tried. */
	strcpy(line, "net.budget=");
	memset(line + 11, '0', 255);
	strcpy(line + 266, "7");
	CHECK_EQ(parse(line), 1);
	CHECK_EQ(budget, 64);
}

TEST(cmdline_null_report_still_counts)
{
	defaults();
	CHECK_EQ(
	    cmdline_parse("foo bar=1 net.budget=0", opts, NOPTS, NULL, &help),
	    3);
}

TEST(cmdline_format_values)
{
	char buf[64];

	defaults();
	CHECK_EQ(cmdline_format_value(&opts[0], buf, sizeof(buf)), 3);
	CHECK_STR(buf, "off");
	CHECK_EQ(cmdline_format_value(&opts[1], buf, sizeof(buf)), 2);
	CHECK_STR(buf, "on");
	cmdline_format_value(&opts[2], buf, sizeof(buf));
	CHECK_STR(buf, "64");
	cmdline_format_value(&opts[4], buf, sizeof(buf));
	CHECK_STR(buf, "skiff");
	cmdline_format_value(&opts[5], buf, sizeof(buf));
	CHECK_STR(buf, "poll");
	cmdline_format_value(&opts[6], buf, sizeof(buf));
	CHECK_STR(buf, "10.0.2.15");
	CHECK_EQ(cmdline_format_value(&opts[7], buf, sizeof(buf)), 11);
	CHECK_STR(buf, "10.0.2.0/24");
	/* Truncation still terminates and reports the full length. */
	CHECK_EQ(cmdline_format_value(&opts[7], buf, 5), 11);
	CHECK_STR(buf, "10.0");
	CHECK_EQ(cmdline_format_value(&opts[7], buf, 11), 11);
	CHECK_STR(buf, "10.0.2.0/2");
	mode = 7; /* out of range: shown, not followed */
	cmdline_format_value(&opts[5], buf, sizeof(buf));
	CHECK_STR(buf, "?7");
}

TEST(cmdline_print_help_one_line_per_option)
{
	defaults();
	cmdline_print_help(opts, NOPTS, collect);
	CHECK_EQ(nmsgs, (int)NOPTS);
	/* No indentation: the report callback decides the layout. */
	CHECK_STR(msgs[2], "net.budget=64  RX packets per poll (an integer "
			   "1..4096)");
	CHECK_STR(msgs[4], "hostname=\"skiff\"  DHCP host name (a string of "
			   "at most 15 characters)");
	CHECK_STR(msgs[5], "net.mode=poll  how the NIC is serviced (one of "
			   "poll|irq|hybrid)");
	for (size_t i = 0; i < NOPTS && i < MAX_MSGS; i++) {
		CHECK(strstr(msgs[i], opts[i].key) != NULL);
		CHECK(strstr(msgs[i], opts[i].help) != NULL);
	}
}

/* A secret's value is applied but never shown: not in the redacted line,
 * not in a bad-value message, not in help. */
TEST(cmdline_secret_values_never_shown)
{
	char out[128];

	CHECK_EQ(parse("net.budget=8 token=hunter2 hostname=a"), 0);
	CHECK_STR(token, "hunter2");
	cmdline_redact("net.budget=8  token=hunter2 hostname=a", opts, NOPTS,
		       out, sizeof(out));
	CHECK_STR(out, "net.budget=8  token=*** hostname=a");
	cmdline_redact("\"token=a b\" token=\"c d\"\ttoken x=token=1", opts,
		       NOPTS, out, sizeof(out));
	CHECK_STR(out, "\"token=*** token=***\ttoken x=token=1");
	/* Cut at the buffer, still terminated. */
	CHECK_EQ(cmdline_redact("token=abcdef", opts, NOPTS, out, 8), 7);
	CHECK_STR(out, "token=*");
	CHECK_EQ(parse("token=this-is-far-too-long-for-it"), 1);
	CHECK(strstr(msgs[0], "far-too") == NULL);
	CHECK(strstr(msgs[0], "bad value for token") != NULL);
	nmsgs = 0;
	strcpy(token, "hunter2");
	cmdline_print_help(opts, NOPTS, collect);
	for (int i = 0; i < nmsgs && i < MAX_MSGS; i++)
		CHECK(strstr(msgs[i], "hunter2") == NULL);
}
