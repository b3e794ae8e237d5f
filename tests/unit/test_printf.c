/* kernel/printf.c against the host's snprintf: fixed cases for every
 * conversion, flag and length modifier, truncation at every buffer size, and
 * a randomized sweep of format combinations. */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/printf.h"
#include "tests/unit/check.h"

/* Formats with both implementations and compares text and return value.
 * Returns the number of mismatches so loops can stop early. */
static int compare_v(size_t size, const char *fmt, ...)
{
	char kbuf[512], hbuf[512];
	va_list ap, ap2;
	int kn, hn;

	memset(kbuf, 'K', sizeof(kbuf));
	memset(hbuf, 'K', sizeof(hbuf));
	va_start(ap, fmt);
	va_copy(ap2, ap);
	kn = kvsnprintf(kbuf, size, fmt, ap);
	hn = vsnprintf(hbuf, size, fmt, ap2);
	va_end(ap2);
	va_end(ap);
	/* Bytes past the terminator must be untouched too. */
	if (kn != hn || memcmp(kbuf, hbuf, sizeof(kbuf)) != 0) {
		fprintf(stderr,
			"  fmt \"%s\" size %zu: kernel %d \"%.*s\", host "
			"%d \"%.*s\"\n",
			fmt, size, kn, (int)(size ? size : 1), kbuf, hn,
			(int)(size ? size : 1), hbuf);
		check_failures_in_test++;
		return 1;
	}
	return 0;
}

/* Non-literal formats on purpose: the loops below build them. */
#define CMP(...) compare_v(512, __VA_ARGS__)

TEST(printf_plain_text)
{
	CMP("");
	CMP("hello, world");
	CMP("100%% sure %%");
	CMP("%s|%s", "a", "");
}

static const char *const signed_fmts[] = {
    "%d",     "%i",    "%5d",	"%-5d|",   "%05d",  "%+d",     "% d",
    "%+ d",   "%.3d",  "%8.3d", "%-8.3d|", "%+08d", "%.0d",    "%5.0d",
    "%-+7d|", "% 05d", "%012d", "%1d",	   "%.10d", "%-012d|",
};

static const int signed_vals[] = {
    0,	 1,    -1,    7,	 -7,	  42,	   -42,
    999, 1000, -1000, 123456789, INT_MAX, INT_MIN, INT_MIN + 1,
};

TEST(printf_signed_int_matrix)
{
	for (size_t f = 0; f < sizeof(signed_fmts) / sizeof(*signed_fmts); f++)
		for (size_t v = 0;
		     v < sizeof(signed_vals) / sizeof(*signed_vals); v++)
			CMP(signed_fmts[f], signed_vals[v]);
}

static const char *const unsigned_fmts[] = {
    "%u",    "%x",     "%X",	"%o",	"%#x",	  "%#X",  "%#o",   "%#.0o",
    "%#.0x", "%08x",   "%#08x", "%#8x", "%-#8x|", "%.5x", "%#.5o", "%#10.5X",
    "%10u",  "%-10u|", "%.0u",	"%#5o", "%+u",	  "% x",  "%#05o",
};

static const unsigned unsigned_vals[] = {
    0,	 1,   7,    8,	   9,	       15,	 16,
    255, 256, 0777, 01000, 0xdeadbeef, UINT_MAX, 0x80000000u,
};

TEST(printf_unsigned_int_matrix)
{
	for (size_t f = 0; f < sizeof(unsigned_fmts) / sizeof(*unsigned_fmts);
	     f++)
		for (size_t v = 0;
		     v < sizeof(unsigned_vals) / sizeof(*unsigned_vals); v++)
			CMP(unsigned_fmts[f], unsigned_vals[v]);
}

TEST(printf_64bit_extremes)
{
	CMP("%lld", (long long)INT64_MIN);
	CMP("%lld", (long long)INT64_MAX);
	CMP("%ld", (long)INT64_MIN);
	CMP("%30lld|%-30lld|", (long long)INT64_MIN, (long long)INT64_MIN);
	CMP("%030lld", (long long)INT64_MIN);
	CMP("%+.25lld", (long long)INT64_MIN);
	CMP("%llu", (unsigned long long)UINT64_MAX);
	CMP("%llx", (unsigned long long)UINT64_MAX);
	CMP("%#llo", (unsigned long long)UINT64_MAX);
	CMP("%#llX", 0x0123456789abcdefULL);
	CMP("%jd %ju", (intmax_t)INT64_MIN, (uintmax_t)UINT64_MAX);
	CMP("%zu %zx %zd", (size_t)SIZE_MAX, (size_t)0x1234, (ptrdiff_t)-5);
	CMP("%td %tu", (ptrdiff_t)PTRDIFF_MIN, (size_t)PTRDIFF_MAX);
	CMP("%lu %lx", (unsigned long)ULONG_MAX, 0xfeedfacecafebeefUL);
}

TEST(printf_short_lengths_truncate_argument)
{
	/* hh and h convert the promoted int back to char/short. */
	CMP("%hhd %hhd %hhd", 300, -129, 127);
	CMP("%hhu %hhx %hho", 300, 0x1ff, 0777);
	CMP("%hd %hd", 70000, -32769);
	CMP("%hu %hx %#hX", 70000, 0x12345, 0xfffff);
}

TEST(printf_chars_and_strings)
{
	const char unterminated[4] = {'a', 'b', 'c', 'd'};

	CMP("%c%c%c", 'a', 'b', 'c');
	CMP("[%5c][%-5c][%1c]", 'x', 'y', 'z');
	CMP("%c", 0xff41); /* only the low byte is printed */
	CMP("[%s][%10s][%-10s][%.2s][%8.3s][%-8.3s][%.0s]", "hello", "hi", "hi",
	    "hello", "hello", "hello", "hello");
	CMP("[%.*s]", 4, unterminated); /* must not read past 4 bytes */
	CMP("[%.*s]", -1, "negative precision means none");
	CMP("[%*s][%*s]", 6, "ab", -6, "ab");
	CMP("[%*d][%-*d][%.*d]", 5, 42, 5, 42, 4, 42);
	CMP("[%*.*d]", -8, 3, 7);
	CMP("[%s]", "");
	CMP("[%5s]", "");
}

/* A wrapper without the format attribute, for formats the compiler would
 * (rightly) warn about. */
static int kfmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

TEST(printf_null_string_and_pointers)
{
	char buf[64];
	int x;
	const char *null_str = NULL;

	/* glibc prints "(null)"; the kernel does the same on purpose. */
	CHECK_EQ(kfmt(buf, sizeof(buf), "[%s]", null_str), 8);
	CHECK_STR(buf, "[(null)]");
	CMP("%p", (void *)&x);
	CMP("%p", (void *)0x1);
	CMP("%p", (void *)0xffffffffffffffffULL);
	CMP("%p", (void *)NULL);
	CMP("[%20p][%-20p]", (void *)&x, (void *)&x);
	CMP("[%10p][%-10p]", (void *)NULL, (void *)NULL);
}

TEST(printf_odd_formats)
{
	char buf[64];
	int n = 1234;

	CHECK_EQ(kfmt(buf, sizeof(buf), "a%qb"), 4);
	CHECK_STR(buf, "a%qb");
	CHECK_EQ(kfmt(buf, sizeof(buf), "end%"), 4);
	CHECK_STR(buf, "end%");
	/* %n is refused: printed literally, the argument is not written. */
	CHECK_EQ(kfmt(buf, sizeof(buf), "x%ny", &n), 4);
	CHECK_STR(buf, "x%ny");
	CHECK_EQ(n, 1234);
	/* An absurd width is clamped, never overflows; output is cut. */
	CHECK(kfmt(buf, sizeof(buf), "%99999999999d", 1) > 1000000);
	CHECK_EQ(strlen(buf), sizeof(buf) - 1);
	CHECK(kfmt(buf, sizeof(buf), "%*d", INT_MIN, 5) > 1000000);
	CHECK_EQ(buf[0], '5');
}

TEST(printf_truncation_every_size)
{
	static const char *const text = "value=%d hex=%#x str=%s end";

	for (size_t size = 0; size < 48; size++)
		if (compare_v(size, text, -12345, 0xbeef, "abcdef"))
			break;
	for (size_t size = 0; size < 12; size++)
		if (compare_v(size, "%lld", (long long)INT64_MIN))
			break;
}

TEST(printf_null_buffer_with_size_zero)
{
	CHECK_EQ(ksnprintf(NULL, 0, "%d-%s", 12345, "abc"), 9);
}

TEST(printf_return_is_full_length)
{
	char buf[8];

	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%500d", 1), 500);
	CHECK_EQ(strlen(buf), 7);
	CHECK_EQ(ksnprintf(buf, 1, "abc"), 3);
	CHECK_EQ(buf[0], '\0');
}

/* Deterministic xorshift so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Values that hit the edges more often than uniform random would. */
static uint64_t rnd_value(void)
{
	static const uint64_t edges[] = {
	    0,		1,	    9,		10,	   0x7f,
	    0x80,	0xff,	    0x7fff,	0x8000,	   0xffff,
	    0x7fffffff, 0x80000000, 0xffffffff, INT64_MAX, (uint64_t)INT64_MIN,
	    UINT64_MAX,
	};

	if (rnd() % 3 == 0)
		return edges[rnd() % (sizeof(edges) / sizeof(*edges))];
	return rnd() >> (rnd() % 64);
}

static void random_format(char *fmt, size_t size, char *conv, int *len)
{
	static const char flags[] = "-+ #0";
	static const char convs[] = "diuxXo";
	static const char *const lens[] = {"",	 "hh", "h", "l",
					   "ll", "z",  "j", "t"};
	size_t n = 0;

	fmt[n++] = '[';
	fmt[n++] = '%';
	for (int i = 0; i < 5; i++)
		if (rnd() % 3 == 0)
			fmt[n++] = flags[i];
	if (rnd() % 2)
		n += (size_t)snprintf(fmt + n, size - n, "%d",
				      (int)(rnd() % 30));
	if (rnd() % 2)
		n += (size_t)snprintf(fmt + n, size - n, ".%d",
				      (int)(rnd() % 25));
	*len = (int)(rnd() % 8);
	*conv = convs[rnd() % 6];
	n += (size_t)snprintf(fmt + n, size - n, "%s%c]", lens[*len], *conv);
}

TEST(printf_random_against_host)
{
	char fmt[64];
	char conv;
	int len, bad = 0;

	for (int i = 0; i < 20000 && bad < 5; i++) {
		uint64_t v = rnd_value();
		size_t size = rnd() % 4 ? 512 : rnd() % 40;

		random_format(fmt, sizeof(fmt), &conv, &len);
		/* Pass the argument with the type the length asks for. */
		if (len <= 2)
			bad += compare_v(size, fmt, (int)v);
		else
			bad += compare_v(size, fmt, (long long)v);
	}
	CHECK_EQ(bad, 0);
}
