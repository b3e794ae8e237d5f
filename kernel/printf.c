/* printf-style formatting with no libc and no floating point (the kernel is
 * built -mno-sse). Output that does not fit is counted but dropped, so the
 * return value is always the length the whole output would have had, as in
 * C99 snprintf. Conversions mirror glibc, including "(nil)" for a NULL %p
 * and "(null)" for a NULL %s, so the host tests can compare byte for byte. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/printf.h"

/* Width and precision are clamped here so that hostile formats cannot
 * overflow the int arithmetic below. */
#define FMT_MAX_FIELD 0x7fff0000

#define FL_LEFT	 0x01 /* '-': pad on the right */
#define FL_ZERO	 0x02 /* '0': pad numbers with zeros */
#define FL_PLUS	 0x04 /* '+': always print a sign */
#define FL_SPACE 0x08 /* ' ': a space where '+' would go */
#define FL_ALT	 0x10 /* '#': 0x prefix, leading octal 0 */
#define FL_UPPER 0x20 /* %X */

struct out {
	char *buf;
	size_t size;
	size_t len; /* characters produced so far, stored or not */
};

struct spec {
	unsigned flags;
	int width;
	int prec;    /* -1 when not given */
	char length; /* 'H' = hh, 'h', 'l', 'L' = ll, 'z', 't', 'j', 0 */
	char conv;
};

static void out_char(struct out *o, char c)
{
	/* Keep the last byte for the NUL. */
	if (o->size && o->len < o->size - 1)
		o->buf[o->len] = c;
	o->len++;
}

/* Room left before the byte kept for the NUL. */
static size_t out_room(const struct out *o)
{
	return o->size && o->len < o->size - 1 ? o->size - 1 - o->len : 0;
}

static void out_repeat(struct out *o, char c, int n)
{
	if (n <= 0)
		return;
	/* Only count what does not fit, so a huge width costs nothing. */
	for (size_t room = out_room(o); room && n; room--, n--)
		o->buf[o->len++] = c;
	o->len += (size_t)n;
}

static void out_mem(struct out *o, const char *s, int n)
{
	for (int i = 0; i < n; i++)
		out_char(o, s[i]);
}

static int parse_int(const char **p)
{
	int v = 0;

	while (**p >= '0' && **p <= '9') {
		if (v < FMT_MAX_FIELD / 10)
			v = v * 10 + (**p - '0');
		else
			v = FMT_MAX_FIELD;
		(*p)++;
	}
	return v;
}

static int clamp_field(int v)
{
	return v > FMT_MAX_FIELD ? FMT_MAX_FIELD : v;
}

/* Parses flags, width, precision and length after the '%'. */
static const char *parse_spec(const char *p, struct spec *s, va_list *ap)
{
	s->flags = 0;
	s->width = 0;
	s->prec = -1;
	s->length = 0;
	for (;; p++) {
		if (*p == '-')
			s->flags |= FL_LEFT;
		else if (*p == '0')
			s->flags |= FL_ZERO;
		else if (*p == '+')
			s->flags |= FL_PLUS;
		else if (*p == ' ')
			s->flags |= FL_SPACE;
		else if (*p == '#')
			s->flags |= FL_ALT;
		else
			break;
	}
	if (*p == '*') {
		int w = va_arg(*ap, int);

		p++;
		/* A negative "*" width means left-justify, as in C99. */
		if (w < 0) {
			s->flags |= FL_LEFT;
			w = w == INT32_MIN ? FMT_MAX_FIELD : -w;
		}
		s->width = clamp_field(w);
	} else {
		s->width = parse_int(&p);
	}
	if (*p == '.') {
		p++;
		if (*p == '*') {
			int pr = va_arg(*ap, int);

			p++;
			/* A negative "*" precision counts as omitted. */
			s->prec = pr < 0 ? -1 : clamp_field(pr);
		} else {
			s->prec = parse_int(&p);
		}
	}
	switch (*p) {
	case 'h':
		p++;
		s->length = 'h';
		if (*p == 'h') {
			p++;
			s->length = 'H';
		}
		break;
	case 'l':
		p++;
		s->length = 'l';
		if (*p == 'l') {
			p++;
			s->length = 'L';
		}
		break;
	case 'z':
	case 't':
	case 'j':
		s->length = *p++;
		break;
	}
	s->conv = *p;
	return p;
}

static int64_t fetch_signed(const struct spec *s, va_list *ap)
{
	switch (s->length) {
	case 'H':
		return (signed char)va_arg(*ap, int);
	case 'h':
		return (short)va_arg(*ap, int);
	case 'l':
		return va_arg(*ap, long);
	case 'L':
		return va_arg(*ap, long long);
	case 'z':
		/* The signed type matching size_t. */
		return va_arg(*ap, ptrdiff_t);
	case 't':
		return va_arg(*ap, ptrdiff_t);
	case 'j':
		return va_arg(*ap, intmax_t);
	default:
		return va_arg(*ap, int);
	}
}

static uint64_t fetch_unsigned(const struct spec *s, va_list *ap)
{
	switch (s->length) {
	case 'H':
		return (unsigned char)va_arg(*ap, unsigned);
	case 'h':
		return (unsigned short)va_arg(*ap, unsigned);
	case 'l':
		return va_arg(*ap, unsigned long);
	case 'L':
		return va_arg(*ap, unsigned long long);
	case 'z':
		return va_arg(*ap, size_t);
	case 't':
		/* The unsigned type matching ptrdiff_t. */
		return va_arg(*ap, size_t);
	case 'j':
		return va_arg(*ap, uintmax_t);
	default:
		return va_arg(*ap, unsigned);
	}
}

/* Writes v in base into the end of tmp; returns the digit count. A zero
 * value with precision 0 has no digits at all, as C99 requires. */
static int to_digits(char *end, uint64_t v, unsigned base, bool upper, int prec)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	if (v == 0 && prec == 0)
		return 0;
	do {
		*--end = digits[v % base];
		v /= base;
		n++;
	} while (v);
	return n;
}

/* Lays out [spaces][sign/prefix][zeros][digits][spaces]. */
static void emit_number(struct out *o, const struct spec *s, uint64_t mag,
			bool negative, unsigned base)
{
	char tmp[24]; /* 22 octal digits cover 64 bits */
	char prefix[3];
	int plen = 0, ndig, zeros, pad;

	ndig = to_digits(tmp + sizeof(tmp), mag, base, s->flags & FL_UPPER,
			 s->prec);
	if (negative)
		prefix[plen++] = '-';
	else if (s->conv == 'd' || s->conv == 'i') {
		if (s->flags & FL_PLUS)
			prefix[plen++] = '+';
		else if (s->flags & FL_SPACE)
			prefix[plen++] = ' ';
	}
	if ((s->flags & FL_ALT) && base == 16 && mag != 0) {
		prefix[plen++] = '0';
		prefix[plen++] = (s->flags & FL_UPPER) ? 'X' : 'x';
	}
	zeros = s->prec > ndig ? s->prec - ndig : 0;
	/* "#o" guarantees a leading zero, without adding a second one. */
	if ((s->flags & FL_ALT) && base == 8 && zeros == 0 &&
	    (ndig == 0 || tmp[sizeof(tmp) - ndig] != '0'))
		zeros = 1;
	/* The '0' flag is ignored with a precision or with '-'. */
	if ((s->flags & FL_ZERO) && !(s->flags & FL_LEFT) && s->prec < 0 &&
	    s->width > plen + ndig + zeros)
		zeros = s->width - plen - ndig;
	pad = s->width - plen - zeros - ndig;
	if (!(s->flags & FL_LEFT))
		out_repeat(o, ' ', pad);
	out_mem(o, prefix, plen);
	out_repeat(o, '0', zeros);
	out_mem(o, tmp + sizeof(tmp) - ndig, ndig);
	if (s->flags & FL_LEFT)
		out_repeat(o, ' ', pad);
}

static void emit_padded(struct out *o, const struct spec *s, const char *str,
			int len)
{
	if (!(s->flags & FL_LEFT))
		out_repeat(o, ' ', s->width - len);
	out_mem(o, str, len);
	if (s->flags & FL_LEFT)
		out_repeat(o, ' ', s->width - len);
}

static void emit_string(struct out *o, const struct spec *s, const char *str)
{
	int len = 0;

	if (!str)
		str = "(null)";
	/* Never read past the precision: the string need not be terminated. */
	while ((s->prec < 0 || len < s->prec) && len < FMT_MAX_FIELD &&
	       str[len])
		len++;
	emit_padded(o, s, str, len);
}

static void emit_pointer(struct out *o, struct spec *s, const void *p)
{
	if (!p) {
		struct spec plain = *s;

		plain.prec = -1;
		emit_string(o, &plain, "(nil)");
		return;
	}
	s->flags |= FL_ALT;
	s->flags &= ~(unsigned)(FL_PLUS | FL_SPACE);
	emit_number(o, s, (uintptr_t)p, false, 16);
}

/* Handles one conversion; the spec has been parsed already. */
static void convert(struct out *o, struct spec *s, va_list *ap)
{
	int64_t sv;
	char c;

	switch (s->conv) {
	case 'd':
	case 'i':
		sv = fetch_signed(s, ap);
		/* Negate in unsigned arithmetic so INT64_MIN is well defined.
		 */
		emit_number(o, s, sv < 0 ? -(uint64_t)sv : (uint64_t)sv, sv < 0,
			    10);
		break;
	case 'u':
		emit_number(o, s, fetch_unsigned(s, ap), false, 10);
		break;
	case 'X':
		s->flags |= FL_UPPER;
		/* fall through */
	case 'x':
		emit_number(o, s, fetch_unsigned(s, ap), false, 16);
		break;
	case 'o':
		emit_number(o, s, fetch_unsigned(s, ap), false, 8);
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		emit_padded(o, s, &c, 1);
		break;
	case 's':
		emit_string(o, s, va_arg(*ap, const char *));
		break;
	case 'p':
		emit_pointer(o, s, va_arg(*ap, const void *));
		break;
	case '%':
		out_char(o, '%');
		break;
	default:
		/* Unknown conversion (or %n, deliberately unsupported): show
		 * it literally instead of guessing at the argument list. */
		out_char(o, '%');
		if (s->conv)
			out_char(o, s->conv);
		break;
	}
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {.buf = buf, .size = size, .len = 0};
	struct spec s;
	va_list args;

	/* A va_list parameter may be an array type; a copy can be passed
	 * around by address portably. */
	va_copy(args, ap);
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			out_char(&o, *p);
			continue;
		}
		p = parse_spec(p + 1, &s, &args);
		convert(&o, &s, &args);
		if (!*p)
			break; /* a lone '%' at the end of fmt */
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
