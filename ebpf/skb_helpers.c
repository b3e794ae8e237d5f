/* The helpers of struct __sk_buff programs (TC and socket filters), as
 * Linux's net/core/filter.c defines them for what Skiff's packets are: a
 * struct ebpf_skb_ctx whose bytes are frags[0..nfrags) (frags[0] is the
 * direct-access part, data..data_end). The verifier has checked the
 * argument kinds (helpers.h contracts); offsets and lengths are values the
 * program computed and are checked here, every one. */
#include <string.h>

#include "ebpf/ebpf.h"
#include "ebpf/helpers.h"
#include "kernel/kerrno.h"

static struct ebpf_skb_ctx *skb_of(uint64_t ctx)
{
	return (struct ebpf_skb_ctx *)(uintptr_t)ctx;
}

/* bpf_skb_load_bytes(skb, offset, to, len): copies len bytes from any
 * fragment; -EFAULT (and to zeroed, as Linux) when they are not all in
 * the packet. */
uint64_t ebpf_h_skb_load_bytes(uint64_t ctx, uint64_t off, uint64_t to,
			       uint64_t len, uint64_t a5)
{
	const struct ebpf_skb_ctx *skb = skb_of(ctx);
	uint8_t *dst = (uint8_t *)(uintptr_t)to;
	uint64_t skip = (uint32_t)off, left = len;

	(void)a5;
	if ((uint32_t)off != off || skip > skb->len || len > skb->len - skip)
		goto fault;
	for (uint32_t i = 0; i < skb->nfrags && left; i++) {
		const struct ebpf_frag *f = &skb->frags[i];
		uint64_t n;

		if (skip >= f->len) {
			skip -= f->len;
			continue;
		}
		n = f->len - skip < left ? f->len - skip : left;
		memcpy(dst, f->data + skip, n);
		dst += n;
		left -= n;
		skip = 0;
	}
	if (left) /* the fragments hold fewer bytes than len says */
		goto fault;
	return 0;
fault:
	memset((void *)(uintptr_t)to, 0, len);
	return (uint64_t)(int64_t)-EFAULT;
}

/* Bytes [off, off+len) of the writable head, or NULL: Skiff writes only
 * the first fragment (headers in the stack's own buffer or a GSO header
 * copy); later fragments may be read-only data (a file served from the
 * image). Linux would copy the packet to make the bytes writable; Skiff
 * copies nothing on the hot path, so the write fails with the error
 * Linux gives when it cannot (-EFAULT), and a write that stays inside
 * the packet but not inside the head is counted in write_refused (the
 * hook's counter of the same name says why a program's writes fail). */
static uint8_t *skb_writable(struct ebpf_skb_ctx *skb, uint64_t off,
			     uint64_t len)
{
	if (!(skb->flags & EBPF_SKB_HEAD_WRITABLE) || skb->nfrags == 0)
		return NULL;
	if (off > skb->frags[0].len || len > skb->frags[0].len - off) {
		if (off <= skb->len && len <= skb->len - off)
			skb->write_refused++;
		return NULL;
	}
	return skb->frags[0].data + off;
}

/* bpf_skb_store_bytes(skb, offset, from, len, flags). */
uint64_t ebpf_h_skb_store_bytes(uint64_t ctx, uint64_t off, uint64_t from,
				uint64_t len, uint64_t flags)
{
	struct ebpf_skb_ctx *skb = skb_of(ctx);
	uint8_t *dst;

	if (flags & ~(uint64_t)(EBPF_F_RECOMPUTE_CSUM | EBPF_F_INVALIDATE_HASH))
		return (uint64_t)(int64_t)-EINVAL;
	if (off > 0xffff)
		return (uint64_t)(int64_t)-EFAULT;
	dst = skb_writable(skb, off, len);
	if (!dst)
		return (uint64_t)(int64_t)-EFAULT;
	/* from may be the packet itself: memmove */
	memmove(dst, (const void *)(uintptr_t)from, len);
	/* RECOMPUTE_CSUM maintains a CHECKSUM_COMPLETE sum; Skiff's
	 * packets never carry one, so there is nothing to update. */
	if (flags & EBPF_F_INVALIDATE_HASH)
		skb->hash = 0;
	return 0;
}

/* One's-complement arithmetic on 16-bit words as they sit in memory: the
 * same whichever byte order, as long as every operand is read the same
 * way (the program passes fields as it loaded them). */
static uint32_t csum_add32(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;

	return s + (s < a);
}

static uint16_t csum_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* A 32-bit value as the sum of its two 16-bit halves. */
static uint32_t csum_of(uint32_t v, unsigned size)
{
	return size == 2 ? (v & 0xffff) : csum_add32(v & 0xffff, v >> 16);
}

/* *sum = ~(~*sum - from + to): RFC 1624's incremental update. diff is
 * the caller's already-summed difference when from is not used. */
static void csum_replace(uint8_t *field, uint32_t from, uint32_t to)
{
	uint16_t sum;
	uint32_t s;

	memcpy(&sum, field, 2);
	s = csum_add32((uint16_t)~sum, csum_fold(~from));
	s = csum_add32(s, to);
	sum = (uint16_t)~csum_fold(s);
	memcpy(field, &sum, 2);
}

/* The same on a field holding an uncomplemented pseudo-header sum (the
 * device finishes the checksum: CHECKSUM_PARTIAL). */
static void csum_replace_partial(uint8_t *field, uint32_t from, uint32_t to)
{
	uint16_t sum;
	uint32_t s;

	memcpy(&sum, field, 2);
	s = csum_add32(sum, csum_fold(~from));
	s = csum_add32(s, to);
	sum = csum_fold(s);
	memcpy(field, &sum, 2);
}

/* The checksum field at off, or NULL for -EFAULT: even, below 64 KiB, in
 * the writable head. */
static uint8_t *csum_field(struct ebpf_skb_ctx *skb, uint64_t off)
{
	if (off > 0xffff || (off & 1))
		return NULL;
	return skb_writable(skb, off, 2);
}

/* from/to for a size-2 or size-4 field, or a ready difference (size 0,
 * from 0); false for -EINVAL. */
static bool csum_operands(uint64_t flags, uint64_t from, uint64_t to,
			  uint32_t *f, uint32_t *t)
{
	switch (flags & EBPF_F_HDR_FIELD_MASK) {
	case 0:
		if (from)
			return false;
		*f = 0;
		*t = csum_fold((uint32_t)to);
		return true;
	case 2:
	case 4:
		*f =
		    csum_fold(csum_of((uint32_t)from, (unsigned)(flags & 0xf)));
		*t = csum_fold(csum_of((uint32_t)to, (unsigned)(flags & 0xf)));
		return true;
	default:
		return false;
	}
}

/* bpf_l3_csum_replace(skb, offset, from, to, flags): the IP header sum
 * is always complete. */
uint64_t ebpf_h_l3_csum_replace(uint64_t ctx, uint64_t off, uint64_t from,
				uint64_t to, uint64_t flags)
{
	struct ebpf_skb_ctx *skb = skb_of(ctx);
	uint32_t f, t;
	uint8_t *field;

	if (flags & ~(uint64_t)EBPF_F_HDR_FIELD_MASK ||
	    !csum_operands(flags, from, to, &f, &t))
		return (uint64_t)(int64_t)-EINVAL;
	field = csum_field(skb, off);
	if (!field)
		return (uint64_t)(int64_t)-EFAULT;
	csum_replace(field, f, t);
	return 0;
}

/* bpf_l4_csum_replace(skb, offset, from, to, flags), as Linux's
 * inet_proto_csum_replace*: on a complete sum every change is applied;
 * when the device finishes the sum (CHECKSUM_PARTIAL) the field holds the
 * pseudo-header sum, so only pseudo-header changes (BPF_F_PSEUDO_HDR:
 * addresses, length) touch it. BPF_F_MARK_MANGLED_0 is UDP's: a zero sum
 * means none, and a computed zero is written 0xffff. */
uint64_t ebpf_h_l4_csum_replace(uint64_t ctx, uint64_t off, uint64_t from,
				uint64_t to, uint64_t flags)
{
	struct ebpf_skb_ctx *skb = skb_of(ctx);
	bool pseudo = flags & EBPF_F_PSEUDO_HDR;
	bool mmzero = flags & EBPF_F_MARK_MANGLED_0;
	bool mforce = flags & EBPF_F_MARK_ENFORCE;
	uint32_t f, t;
	uint8_t *field;
	uint16_t cur;

	if (flags & ~(uint64_t)(EBPF_F_MARK_MANGLED_0 | EBPF_F_MARK_ENFORCE |
				EBPF_F_PSEUDO_HDR | EBPF_F_HDR_FIELD_MASK) ||
	    !csum_operands(flags, from, to, &f, &t))
		return (uint64_t)(int64_t)-EINVAL;
	field = csum_field(skb, off);
	if (!field)
		return (uint64_t)(int64_t)-EFAULT;
	memcpy(&cur, field, 2);
	if (mmzero && !mforce && cur == 0)
		return 0;
	if (!(skb->flags & EBPF_SKB_CSUM_PARTIAL))
		csum_replace(field, f, t);
	else if (pseudo)
		csum_replace_partial(field, f, t);
	memcpy(&cur, field, 2);
	if (mmzero && cur == 0) {
		cur = 0xffff;
		memcpy(field, &cur, 2);
	}
	return 0;
}

/* bpf_redirect(ifindex, flags): records the target for the hook, which
 * acts on it when the program returns TC_ACT_REDIRECT (what this
 * returns); unknown flags give TC_ACT_SHOT, as in Linux. */
uint64_t ebpf_h_redirect(uint64_t ifindex, uint64_t flags, uint64_t a3,
			 uint64_t a4, uint64_t a5)
{
	(void)a3;
	(void)a4;
	(void)a5;
	if (flags & ~(uint64_t)EBPF_F_INGRESS)
		return (uint64_t)(int64_t)EBPF_TC_ACT_SHOT;
	ebpf_redirect_info.ifindex = (uint32_t)ifindex;
	ebpf_redirect_info.flags = (uint32_t)flags;
	return EBPF_TC_ACT_REDIRECT;
}

/* bpf_skb_pull_data(skb, len): Linux makes the first len bytes (0: the
 * whole linear part) direct-access and writable, pulling them out of the
 * fragments into a private head when it must, and the program then
 * reloads data/data_end (the verifier has forgotten its packet pointers).
 * Skiff's frames are linear where a TC program may write them: at
 * ingress frags[0] is the whole frame, so every len up to skb->len is
 * already there; at egress frags[0] is the stack's header buffer (or the
 * GSO header copy) and the payload buffers after it may be read-only
 * data, which Skiff does not copy. So this returns 0 when the first len
 * bytes are in the writable head (data..data_end unchanged), and -ENOMEM
 * (Linux's answer when it cannot pull) when len is beyond the packet or
 * beyond the head; the latter is counted in write_refused. */
uint64_t ebpf_h_skb_pull_data(uint64_t ctx, uint64_t len, uint64_t a3,
			      uint64_t a4, uint64_t a5)
{
	struct ebpf_skb_ctx *skb = skb_of(ctx);

	(void)a3;
	(void)a4;
	(void)a5;
	len = (uint32_t)len; /* u32 len in Linux's prototype */
	if (len == 0 && skb->flags & EBPF_SKB_HEAD_WRITABLE)
		return 0;
	return skb_writable(skb, 0, len) ? 0 : (uint64_t)(int64_t)-ENOMEM;
}
