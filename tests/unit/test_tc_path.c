/* The TC hook (netdev/tc_hook.c) and socket filters
 * (lwip-port/sockfilter.c) on the host: the shipped programs as the image
 * embeds them (build/xdp/xdp_progs.c), Linux-style programs built by
 * clang (tests/unit/bpf/tc_fields, sock_fields), and hand-assembled ones
 * for every verdict, through the interpreter and the JIT.
 *
 * Covered: the context each hook builds (len, protocol, pkt_type,
 * ifindexes, GSO fields, direct-access extent, narrow reads, writable
 * fields) as a program reads it after the loader's rewrite; every TC
 * verdict both ways and what happens to the frame's buffer (released,
 * sent from its RX buffer, passed on) with the counters; the port
 * rewriter's checksum fix and the marker's IP checksum fix checked by
 * recomputing the sums; egress GSO frames with a header copy and a
 * read-only payload; socket filters keeping, cutting and dropping UDP
 * datagrams and keeping or dropping TCP segments, only for the service
 * they are attached to. */
#include "lwip-port/sockfilter.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"

#include <stdlib.h>
#include <string.h>

#include "ebpf/ebpf.h"
#include "ebpf/helpers.h"
#include "kernel/kerrno.h"
#include "netdev/tc_hook.h"
#include "tests/unit/bpf_obj.h"
#include "tests/unit/check.h"
#include "tests/unit/lwip_host.h"
#include "xdp/xdp_progs.h"

uint64_t clock_ns(void)
{
	return (uint64_t)fake_now * 1000000u;
}

/* ---- programs ---- */

static bool use_jit;

/* Two tests, NAME_interp and NAME_jit, running fn() with the programs it
 * loads interpreted, then JIT-compiled. */
#define TESTS_INTERP_AND_JIT(name, fn)                                         \
	TEST(name##_interp)                                                    \
	{                                                                      \
		use_jit = false;                                               \
		fn();                                                          \
	}                                                                      \
	TEST(name##_jit)                                                       \
	{                                                                      \
		use_jit = true;                                                \
		fn();                                                          \
		use_jit = false;                                               \
	}

static struct ebpf_prog *prep(struct ebpf_prog *p)
{
	if (p && use_jit)
		CHECK_EQ(ebpf_jit(p), 0);
	return p;
}

static struct ebpf_prog *builtin(const char *name)
{
	const struct xdp_builtin *b = xdp_builtin_find(name);
	struct ebpf_prog *p = NULL;
	char err[160];

	CHECK(b != NULL);
	if (!b)
		return NULL;
	if (ebpf_load_elf(b->elf, b->len, NULL, &p, err, sizeof(err))) {
		fprintf(stderr, "  %s: %s\n", name, err);
		return NULL;
	}
	return prep(p);
}

static struct ebpf_prog *from_obj(const char *name)
{
	struct ebpf_prog *p = NULL;
	char err[160];
	size_t n = 0;
	uint8_t *b = bpf_obj_read(name, &n);

	CHECK(b != NULL);
	if (!b)
		return NULL;
	if (ebpf_load_elf(b, n, NULL, &p, err, sizeof(err)))
		fprintf(stderr, "  %s: %s\n", name, err);
	free(b);
	return prep(p);
}

#define I(c, d, s, o, i)                                                       \
	{                                                                      \
		(uint8_t)(c), d, s, o, i                                       \
	}
#define MOV64_IMM(d, i) I(EBPF_ALU64 | EBPF_MOV | EBPF_K, d, 0, 0, i)
#define CALL(n)		I(EBPF_JMP | EBPF_CALL, 0, 0, 0, n)
#define EXIT		I(EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0)

/* A TC program returning v; with redirect, bpf_redirect(ifindex, flags)
 * first (and v ignored: the helper's value is returned). */
static struct ebpf_prog *ret_prog(int type, int32_t v, bool redirect,
				  int32_t ifindex, int32_t flags)
{
	struct ebpf_insn ret[] = {MOV64_IMM(0, v), EXIT};
	struct ebpf_insn red[] = {MOV64_IMM(1, ifindex), MOV64_IMM(2, flags),
				  CALL(EBPF_FUNC_redirect), EXIT};
	struct ebpf_prog *p;
	char err[160];

	CHECK_EQ(redirect ? ebpf_prog_from_insns("red", red, 4, &p)
			  : ebpf_prog_from_insns("ret", ret, 2, &p),
		 0);
	p->type = (uint8_t)type;
	if (ebpf_prog_prepare(p, err, sizeof(err))) {
		fprintf(stderr, "  prepare: %s\n", err);
		ebpf_prog_free(p);
		return NULL;
	}
	return prep(p);
}

static void tc_set(enum tc_dir dir, struct ebpf_prog *p)
{
	struct ebpf_prog *old = NULL;

	CHECK_EQ(tc_attach(dir, p, &old), 0);
	ebpf_prog_free(old);
}

/* ---- frames ---- */

/* put16, get16, sum16, fold, our_ip and lwip_once: lwip_host.h. */

#define ETH 14
#define IPH 20

static const uint8_t host_ip[4] = {10, 0, 0, 1};

/* Ethernet + IPv4 + UDP (proto 17) or TCP (6) with payload n bytes, every
 * checksum right. Returns the frame length. */
static size_t frame(uint8_t *f, uint8_t proto, uint16_t sport, uint16_t dport,
		    size_t n, bool udp_csum)
{
	uint8_t *ip = f + ETH, *l4 = ip + IPH;
	size_t l4len = (proto == 17 ? 8 : 20) + n;
	uint32_t s;

	memset(f, 0, ETH + IPH + l4len);
	memset(f, 0x02, 6);
	memset(f + 6, 0x04, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IPH + l4len));
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, host_ip, 4);
	memcpy(ip + 16, our_ip, 4);
	put16(ip + 10, (uint16_t)~fold(sum16(0, ip, IPH)));
	put16(l4, sport);
	put16(l4 + 2, dport);
	for (size_t i = 0; i < n; i++)
		l4[(proto == 17 ? 8 : 20) + i] = (uint8_t)('a' + i % 26);
	if (proto == 17)
		put16(l4 + 4, (uint16_t)l4len);
	else
		l4[12] = 5 << 4;
	if (proto == 17 && !udp_csum)
		return ETH + IPH + l4len;
	s = sum16(0, ip + 12, 8) + proto + (uint32_t)l4len;
	s = sum16(s, l4, l4len);
	put16(l4 + (proto == 17 ? 6 : 16), (uint16_t)~fold(s));
	return ETH + IPH + l4len;
}

static bool ip_csum_ok(const uint8_t *f)
{
	return fold(sum16(0, f + ETH, IPH)) == 0xffff;
}

static bool l4_csum_ok(const uint8_t *f)
{
	const uint8_t *ip = f + ETH;
	uint16_t l4len = (uint16_t)(get16(ip + 2) - IPH);
	uint32_t s = sum16(0, ip + 12, 8) + ip[9] + l4len;

	return fold(sum16(s, ip + IPH, l4len)) == 0xffff;
}

/* ---- a receive port that records what happens to a buffer ---- */

struct fake_port {
	int released, sent, tx_rc;
	uint32_t handle;
};

static int fp_tx(void *ctx, void *frame, uint32_t len, uint32_t handle)
{
	struct fake_port *fp = ctx;

	if (fp->tx_rc)
		return fp->tx_rc;
	fp->sent++;
	fp->handle = handle;
	return 0;
}

static void fp_release(void *ctx, uint32_t handle)
{
	struct fake_port *fp = ctx;

	fp->released++;
	fp->handle = handle;
}

static struct fake_port fport;
static const struct netdev_rx_port port = {
    .ctx = &fport, .tx_from_rx = fp_tx, .release = fp_release};

static void reset(void)
{
	tc_set(TC_INGRESS, NULL);
	tc_set(TC_EGRESS, NULL);
	tc_stats_reset();
	memset(&fport, 0, sizeof(fport));
}

/* ---- TC ingress ---- */

static void port_rewrite(void)
{
	uint8_t f[128], orig[128];
	size_t n;
	struct tc_stats h;

	reset();
	tc_set(TC_INGRESS, builtin("tc_port_rewrite"));
	CHECK(tc_armed(TC_INGRESS));
	n = frame(f, 17, 40000, 7777, 11, true);
	CHECK(!tc_ingress_run(&port, f, (uint32_t)n, 5, 0));
	CHECK_EQ(get16(f + ETH + IPH + 2), 7);
	CHECK(l4_csum_ok(f));
	CHECK(ip_csum_ok(f));
	/* no checksum (0) stays none */
	n = frame(f, 17, 40000, 7777, 11, false);
	CHECK(!tc_ingress_run(&port, f, (uint32_t)n, 5, 0));
	CHECK_EQ(get16(f + ETH + IPH + 2), 7);
	CHECK_EQ(get16(f + ETH + IPH + 6), 0);
	/* other ports and TCP: untouched, byte for byte */
	n = frame(f, 17, 40000, 7778, 11, true);
	memcpy(orig, f, n);
	CHECK(!tc_ingress_run(&port, f, (uint32_t)n, 5, 0));
	CHECK(memcmp(orig, f, n) == 0);
	n = frame(f, 6, 40000, 7777, 11, true);
	memcpy(orig, f, n);
	CHECK(!tc_ingress_run(&port, f, (uint32_t)n, 5, 0));
	CHECK(memcmp(orig, f, n) == 0);
	/* a runt frame: the program's bounds checks hold */
	CHECK(!tc_ingress_run(&port, f, 20, 5, 0));
	CHECK_EQ(fport.released, 0);
	tc_get_stats(TC_INGRESS, &h, NULL);
	CHECK_EQ(h.runs, 5);
	CHECK_EQ(h.ok, 5);
	CHECK(h.cycles > 0);
	reset();
}

TESTS_INTERP_AND_JIT(tc_ingress_port_rewrite, port_rewrite)

/* What the ingress context holds, as a clang-built program reads it. */
TEST(tc_ingress_context_fields)
{
	struct ebpf_prog *p = from_obj("tc_fields");
	struct ebpf_map *m = p ? ebpf_prog_map(p, "seen") : NULL;
	uint8_t f[128];
	uint32_t k = 0, *s;
	size_t n;

	reset();
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(p->type, EBPF_PROG_SCHED_CLS);
	tc_set(TC_INGRESS, p);
	n = frame(f, 17, 1000, 2000, 30, true);
	f[0] = 0xff; /* a multicast destination */
	CHECK(!tc_ingress_run(&port, f, (uint32_t)n, 1, 0));
	s = ebpf_map_lookup(m, &k);
	CHECK_EQ(s[0], n);	/* len */
	CHECK_EQ(s[1], 0x0008); /* protocol: htons(ETH_P_IP) */
	CHECK_EQ(s[2], 2);	/* PACKET_MULTICAST */
	CHECK_EQ(s[3], 1);	/* ingress_ifindex */
	CHECK_EQ(s[4], 1);	/* ifindex */
	CHECK_EQ(s[5], 1);	/* gso_segs */
	CHECK_EQ(s[6], 0);	/* gso_size */
	CHECK_EQ(s[7], n);	/* data_end - data */
	CHECK_EQ(s[8], 0xff);	/* first byte, direct */
	CHECK_EQ(s[9], f[n - 1]);
	CHECK_EQ(s[10], 0); /* load_bytes' return */
	CHECK_EQ(s[11], 2); /* a narrow read of pkt_type */
	reset();
}

/* Every verdict: what happens to the RX buffer, what is counted. */
TEST(tc_ingress_verdicts)
{
	static const struct {
		int32_t v;
		bool consumed;
		int released, sent;
		size_t field;
	} cases[] = {
	    {EBPF_TC_ACT_OK, false, 0, 0, offsetof(struct tc_stats, ok)},
	    {EBPF_TC_ACT_UNSPEC, false, 0, 0, offsetof(struct tc_stats, ok)},
	    {EBPF_TC_ACT_PIPE, false, 0, 0, offsetof(struct tc_stats, ok)},
	    {99, false, 0, 0, offsetof(struct tc_stats, ok)},
	    {EBPF_TC_ACT_SHOT, true, 1, 0, offsetof(struct tc_stats, shot)},
	    {EBPF_TC_ACT_STOLEN, true, 1, 0, offsetof(struct tc_stats, stolen)},
	    {EBPF_TC_ACT_TRAP, true, 1, 0, offsetof(struct tc_stats, stolen)},
	    /* REDIRECT without bpf_redirect: nowhere to go */
	    {EBPF_TC_ACT_REDIRECT, true, 1, 0,
	     offsetof(struct tc_stats, redirect_failed)},
	};
	uint8_t f[128];
	size_t n = frame(f, 17, 1, 2, 4, true);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tc_stats h, pr;

		reset();
		tc_set(TC_INGRESS,
		       ret_prog(EBPF_PROG_SCHED_CLS, cases[i].v, false, 0, 0));
		CHECK_EQ(tc_ingress_run(&port, f, (uint32_t)n, 42, 0),
			 cases[i].consumed);
		CHECK_EQ(fport.released, cases[i].released);
		CHECK_EQ(fport.sent, cases[i].sent);
		tc_get_stats(TC_INGRESS, &h, &pr);
		CHECK_EQ(*(uint64_t *)((char *)&h + cases[i].field), 1);
		CHECK_EQ(*(uint64_t *)((char *)&pr + cases[i].field), 1);
		CHECK_EQ(h.runs, 1);
	}
	reset();
}

TEST(tc_ingress_redirects)
{
	uint8_t f[128];
	size_t n = frame(f, 17, 1, 2, 4, true);
	struct tc_stats h;

	/* to our egress: sent from its own buffer */
	reset();
	tc_set(TC_INGRESS, ret_prog(EBPF_PROG_SCHED_CLS, 0, true, 1, 0));
	CHECK(tc_ingress_run(&port, f, (uint32_t)n, 42, 0));
	CHECK_EQ(fport.sent, 1);
	CHECK_EQ(fport.handle, 42);
	CHECK_EQ(fport.released, 0);
	/* the TX queue refuses: dropped, released, counted */
	fport.tx_rc = -ENOSPC;
	CHECK(tc_ingress_run(&port, f, (uint32_t)n, 43, 0));
	CHECK_EQ(fport.released, 1);
	tc_get_stats(TC_INGRESS, &h, NULL);
	CHECK_EQ(h.redirect, 2);
	CHECK_EQ(h.tx_failed, 1);
	/* to our ingress: on to the stack */
	reset();
	tc_set(TC_INGRESS,
	       ret_prog(EBPF_PROG_SCHED_CLS, 0, true, 1, EBPF_F_INGRESS));
	CHECK(!tc_ingress_run(&port, f, (uint32_t)n, 42, 0));
	CHECK_EQ(fport.released + fport.sent, 0);
	/* another ifindex, or bad flags (the helper says SHOT) */
	reset();
	tc_set(TC_INGRESS, ret_prog(EBPF_PROG_SCHED_CLS, 0, true, 2, 0));
	CHECK(tc_ingress_run(&port, f, (uint32_t)n, 42, 0));
	CHECK_EQ(fport.released, 1);
	tc_get_stats(TC_INGRESS, &h, NULL);
	CHECK_EQ(h.redirect_failed, 1);
	reset();
	tc_set(TC_INGRESS, ret_prog(EBPF_PROG_SCHED_CLS, 0, true, 1, 8));
	CHECK(tc_ingress_run(&port, f, (uint32_t)n, 42, 0));
	tc_get_stats(TC_INGRESS, &h, NULL);
	CHECK_EQ(h.shot, 1);
	reset();
}

TEST(tc_attach_refuses_other_types)
{
	struct ebpf_prog *x = builtin("udp_reflect");
	struct ebpf_prog *s = builtin("sock_trunc");
	struct ebpf_prog *old = (struct ebpf_prog *)1;

	reset();
	CHECK_EQ(tc_attach(TC_INGRESS, x, &old), -EINVAL);
	CHECK_EQ(tc_attach(TC_EGRESS, s, &old), -EINVAL);
	CHECK_EQ(tc_attach((enum tc_dir)5, NULL, &old), -EINVAL);
	CHECK(old == (struct ebpf_prog *)1);
	CHECK(!tc_armed(TC_INGRESS) && !tc_armed(TC_EGRESS));
	CHECK_EQ(sockfilter_attach("nobody", NULL, NULL), -ENOENT);
	ebpf_prog_free(x);
	ebpf_prog_free(s);
}

/* ---- TC egress ---- */

TEST(tc_egress_mark_and_drop)
{
	uint8_t f[128];
	struct vnet_frag fr;
	struct tc_stats h;
	size_t n;

	reset();
	tc_set(TC_EGRESS, builtin("tc_mark"));
	n = frame(f, 17, 7, 40000, 10, true);
	fr = (struct vnet_frag){f, (uint32_t)n};
	CHECK(tc_egress_run(&fr, 1, (unsigned)n, NULL, 1));
	CHECK_EQ(f[ETH + 1], 0xb8);
	CHECK(ip_csum_ok(f));
	CHECK(l4_csum_ok(f)); /* the TOS is not in the UDP sum */
	n = frame(f, 17, 7, 9999, 10, true);
	fr.len = (uint32_t)n;
	CHECK(!tc_egress_run(&fr, 1, (unsigned)n, NULL, 1));
	n = frame(f, 17, 8, 9999, 10, true);
	fr.len = (uint32_t)n;
	CHECK(tc_egress_run(&fr, 1, (unsigned)n, NULL, 1));
	CHECK_EQ(f[ETH + 1], 0);
	tc_get_stats(TC_EGRESS, &h, NULL);
	CHECK_EQ(h.runs, 3);
	CHECK_EQ(h.shot, 1);
	CHECK_EQ(h.ok, 2);
	reset();
}

/* A GSO frame: a writable header copy, then payload the program can read
 * (bpf_skb_load_bytes) but never write. */
TEST(tc_egress_gso_frame_as_the_device_sees_it)
{
	static const uint8_t payload[3000] = {[2999] = 0x5a};
	struct ebpf_prog *p = from_obj("tc_fields");
	struct ebpf_map *m = p ? ebpf_prog_map(p, "seen") : NULL;
	struct vnet_tx_offload off = {.csum_start = ETH + IPH,
				      .csum_offset = 16,
				      .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				      .gso_size = 1000,
				      .hdr_len = ETH + IPH + 20};
	uint8_t hdr[128];
	struct vnet_frag fr[2];
	uint32_t k = 0, *s;
	size_t hl = frame(hdr, 6, 7, 5000, 0, true);

	reset();
	CHECK(m != NULL);
	if (!m)
		return;
	fr[0] = (struct vnet_frag){hdr, (uint32_t)hl};
	fr[1] = (struct vnet_frag){payload, sizeof(payload)};
	tc_set(TC_EGRESS, p);
	CHECK(tc_egress_run(fr, 2, (unsigned)(hl + sizeof(payload)), &off, 3));
	s = ebpf_map_lookup(m, &k);
	CHECK_EQ(s[0], hl + sizeof(payload));
	CHECK_EQ(s[3], 0); /* egress: no ingress_ifindex */
	CHECK_EQ(s[5], 3); /* gso_segs */
	CHECK_EQ(s[6], 1000);
	CHECK_EQ(s[7], hl); /* direct access: the headers */
	CHECK_EQ(s[9], 0x5a);
	CHECK_EQ(s[10], 0);
	/* the marker edits only the header copy */
	tc_set(TC_EGRESS, builtin("tc_mark"));
	CHECK(tc_egress_run(fr, 2, (unsigned)(hl + sizeof(payload)), &off, 3));
	CHECK_EQ(hdr[ETH + 1], 0xb8);
	CHECK(ip_csum_ok(hdr));
	reset();
}

TEST(tc_egress_verdicts_and_redirects)
{
	uint8_t f[128];
	size_t n = frame(f, 17, 1, 2, 4, true);
	struct vnet_frag fr = {f, (uint32_t)n};
	struct tc_stats h;

	reset();
	tc_set(TC_EGRESS,
	       ret_prog(EBPF_PROG_SCHED_CLS, EBPF_TC_ACT_SHOT, false, 0, 0));
	CHECK(!tc_egress_run(&fr, 1, (unsigned)n, NULL, 1));
	tc_set(TC_EGRESS, ret_prog(EBPF_PROG_SCHED_CLS, 0, true, 1, 0));
	CHECK(tc_egress_run(&fr, 1, (unsigned)n, NULL, 1));
	tc_set(TC_EGRESS,
	       ret_prog(EBPF_PROG_SCHED_CLS, 0, true, 1, EBPF_F_INGRESS));
	CHECK(!tc_egress_run(&fr, 1, (unsigned)n, NULL, 1));
	tc_get_stats(TC_EGRESS, &h, NULL);
	CHECK_EQ(h.runs, 3);
	CHECK_EQ(h.shot, 1);
	CHECK_EQ(h.redirect, 1);
	CHECK_EQ(h.redirect_failed, 1);
	reset();
}

/* bpf_skb_store_bytes and the checksum helpers never write past the
 * writable head (an egress payload may be read-only data). */
TEST(tc_helpers_refuse_outside_the_head)
{
	uint8_t head[64] = {0}, tail[64] = {0};
	struct ebpf_frag fr[2] = {{head, 64}, {tail, 64}};
	struct ebpf_skb_ctx skb = {.data = head,
				   .data_end = head + 64,
				   .len = 128,
				   .frags = fr,
				   .nfrags = 2,
				   .flags = EBPF_SKB_HEAD_WRITABLE};
	uint8_t v[4] = {1, 2, 3, 4}, out[8];
	uint64_t c = (uint64_t)(uintptr_t)&skb;

	CHECK_EQ((int64_t)ebpf_h_skb_store_bytes(c, 60, (uintptr_t)v, 4, 0), 0);
	CHECK_EQ((int64_t)ebpf_h_skb_store_bytes(c, 62, (uintptr_t)v, 4, 0),
		 -EFAULT);
	CHECK_EQ((int64_t)ebpf_h_skb_store_bytes(c, 70, (uintptr_t)v, 4, 0),
		 -EFAULT);
	CHECK_EQ((int64_t)ebpf_h_skb_store_bytes(c, 0, (uintptr_t)v, 4, 4),
		 -EINVAL);
	CHECK_EQ((int64_t)ebpf_h_l4_csum_replace(c, 64, 0, 1, 2), -EFAULT);
	CHECK_EQ((int64_t)ebpf_h_l3_csum_replace(c, 3, 0, 1, 2), -EFAULT);
	CHECK_EQ((int64_t)ebpf_h_l3_csum_replace(c, 4, 0, 1, 3), -EINVAL);
	CHECK_EQ((int64_t)ebpf_h_l3_csum_replace(c, 4, 1, 1, 0), -EINVAL);
	/* loads span fragments; past the end: -EFAULT and zeroes */
	tail[0] = 9;
	CHECK_EQ((int64_t)ebpf_h_skb_load_bytes(c, 60, (uintptr_t)out, 8, 0),
		 0);
	CHECK(memcmp(out, "\x01\x02\x03\x04\x09\0\0\0", 8) == 0);
	CHECK_EQ((int64_t)ebpf_h_skb_load_bytes(c, 124, (uintptr_t)out, 8, 0),
		 -EFAULT);
	CHECK(memcmp(out, "\0\0\0\0\0\0\0\0", 8) == 0);
	CHECK_EQ(
	    (int64_t)ebpf_h_skb_load_bytes(c, 1ull << 32, (uintptr_t)out, 1, 0),
	    -EFAULT);
	/* refusals inside the packet but past the head are counted for the
	 * hook: the two stores at 62 and 70 and the l4 sum at 64; the l3 sum
	 * at odd 3 and everything past the packet are not */
	CHECK_EQ(skb.write_refused, 3);
	CHECK_EQ((int64_t)ebpf_h_skb_store_bytes(c, 126, (uintptr_t)v, 4, 0),
		 -EFAULT);
	CHECK_EQ(skb.write_refused, 3);
	/* bpf_skb_pull_data: the head (0 = all of it) is already there; past
	 * it or past the packet, Linux's -ENOMEM */
	skb.write_refused = 0;
	CHECK_EQ((int64_t)ebpf_h_skb_pull_data(c, 0, 0, 0, 0), 0);
	CHECK_EQ((int64_t)ebpf_h_skb_pull_data(c, 64, 0, 0, 0), 0);
	CHECK_EQ((int64_t)ebpf_h_skb_pull_data(c, 65, 0, 0, 0), -ENOMEM);
	CHECK_EQ(skb.write_refused, 1);
	CHECK_EQ((int64_t)ebpf_h_skb_pull_data(c, 129, 0, 0, 0), -ENOMEM);
	CHECK_EQ((int64_t)ebpf_h_skb_pull_data(c, 1ull << 32 | 8, 0, 0, 0),
		 0); /* u32 len, as Linux's prototype */
	CHECK_EQ(skb.write_refused, 1);
	CHECK(skb.data == head && skb.data_end == head + 64);
	/* a read-only packet (socket filters): nothing written */
	skb.flags = 0;
	CHECK_EQ((int64_t)ebpf_h_skb_store_bytes(c, 0, (uintptr_t)v, 4, 0),
		 -EFAULT);
	CHECK_EQ((int64_t)ebpf_h_skb_pull_data(c, 0, 0, 0, 0), -ENOMEM);
}

/* The clang-built tc_pull at both hooks: a linear ingress frame has
 * every byte to pull; at egress the header buffer is the head and the
 * pull (and a store) past it fail as Linux fails them, counted in
 * write_refused. */
/* tc_pull attached at dir; its map's {pull, store} return codes, or NULL
 * (the test fails). */
static int64_t *attach_tc_pull(enum tc_dir dir)
{
	struct ebpf_prog *p = from_obj("tc_pull");
	struct ebpf_map *m = p ? ebpf_prog_map(p, "rc") : NULL;
	uint32_t k = 0;

	CHECK(m != NULL);
	if (!m) {
		ebpf_prog_free(p);
		return NULL;
	}
	tc_set(dir, p);
	return ebpf_map_lookup(m, &k);
}

static void pull_data(void)
{
	uint8_t f[128], tail[64] = {0};
	struct vnet_frag fr[2];
	struct tc_stats h;
	int64_t *r;
	size_t n;

	reset();
	if (!(r = attach_tc_pull(TC_INGRESS)))
		return;
	n = frame(f, 17, 40000, 7, 40, true);
	CHECK(n >= 60);
	CHECK(!tc_ingress_run(&port, f, (uint32_t)n, 5, 0));
	CHECK_EQ(r[0], 0);
	CHECK_EQ(r[1], 1);
	CHECK_EQ(f[59], 0xa5);
	/* a runt: nothing to pull, nothing to store, dropped */
	CHECK(tc_ingress_run(&port, f, 50, 6, 0));
	CHECK_EQ(r[0], -ENOMEM);
	CHECK_EQ(r[1], -EFAULT);
	CHECK_EQ(fport.released, 1);
	tc_get_stats(TC_INGRESS, &h, NULL);
	CHECK_EQ(h.write_refused, 0); /* past the packet: not a head limit */
	tc_set(TC_INGRESS, NULL);
	if (!(r = attach_tc_pull(TC_EGRESS)))
		return;
	/* headers 42 bytes, the payload in a buffer of its own */
	n = frame(f, 17, 7, 40000, 0, true);
	fr[0] = (struct vnet_frag){f, (uint32_t)n};
	fr[1] = (struct vnet_frag){tail, sizeof(tail)};
	CHECK(!tc_egress_run(fr, 2, (unsigned)(n + sizeof(tail)), NULL, 1));
	CHECK_EQ(r[0], -ENOMEM);
	CHECK_EQ(r[1], -EFAULT);
	CHECK_EQ(tail[59 - n], 0);
	tc_get_stats(TC_EGRESS, &h, NULL);
	CHECK_EQ(h.write_refused, 2);
	CHECK_EQ(h.shot, 1);
	/* the same bytes in one buffer: pulled, written in place */
	n = frame(f, 17, 7, 40000, 40, true);
	fr[0].len = (uint32_t)n;
	CHECK(tc_egress_run(fr, 1, (unsigned)n, NULL, 1));
	CHECK_EQ(r[0], 0);
	CHECK_EQ(f[59], 0xa5);
	tc_get_stats(TC_EGRESS, &h, NULL);
	CHECK_EQ(h.write_refused, 2);
	reset();
}

TESTS_INTERP_AND_JIT(tc_pull_data, pull_data)

/* ---- socket filters ---- */

/* A received UDP datagram as udp_input hands it to a callback: payload
 * n bytes, the 8-byte header just before it. */
static struct pbuf *udp_pbuf(const char *payload)
{
	size_t n = strlen(payload);
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(8 + n), PBUF_RAM);
	uint8_t *u = p->payload;

	put16(u, 40000);
	put16(u + 2, 7);
	put16(u + 4, (uint16_t)(8 + n));
	put16(u + 6, 0);
	memcpy(u + 8, payload, n);
	pbuf_remove_header(p, 8);
	return p;
}

static void filters_setup(void)
{
	lwip_once();
	sockfilter_reset();
	CHECK_EQ(sockfilter_service_add("echo", SOCKFILTER_TCP, 7), 0);
	CHECK_EQ(sockfilter_service_add("echo", SOCKFILTER_UDP, 7), 0);
	CHECK_EQ(sockfilter_service_add("http", SOCKFILTER_TCP, 80), 0);
}

static void filters_teardown(void)
{
	struct ebpf_prog *old;

	if (sockfilter_attach("echo", NULL, &old) == 0)
		ebpf_prog_free(old);
	if (sockfilter_attach("http", NULL, &old) == 0)
		ebpf_prog_free(old);
	sockfilter_reset();
}

TEST(sockfilter_udp_keeps_cuts_and_drops)
{
	struct udp_pcb echo_pcb = {.local_port = 7}, other = {.local_port = 9};
	struct sockfilter_stats svc, pr;
	struct pbuf *p;

	filters_setup();
	CHECK_EQ(sockfilter_attach("echo", builtin("sock_trunc"), NULL), 0);
	p = sockfilter_udp_input(&echo_pcb, udp_pbuf("short"));
	CHECK(p && p->tot_len == 5);
	pbuf_free(p);
	p = sockfilter_udp_input(&echo_pcb,
				 udp_pbuf("0123456789abcdefXYZ and more"));
	CHECK(p && p->tot_len == 16);
	CHECK(p && memcmp(p->payload, "0123456789abcdef", 16) == 0);
	pbuf_free(p);
	CHECK(sockfilter_udp_input(&echo_pcb, udp_pbuf("drop this")) == NULL);
	/* a socket of no service with a filter: untouched, not run */
	p = sockfilter_udp_input(&other, udp_pbuf("drop this too"));
	CHECK(p && p->tot_len == 13);
	pbuf_free(p);
	CHECK_EQ(sockfilter_get_stats("echo", &svc, &pr), 0);
	CHECK_EQ(svc.runs, 3);
	CHECK_EQ(svc.kept, 1);
	CHECK_EQ(svc.truncated, 1);
	CHECK_EQ(svc.dropped, 1);
	CHECK_EQ(pr.runs, 3);
	CHECK(svc.cycles > 0);
	CHECK_EQ(sockfilter_get_stats("http", &svc, NULL), 0);
	CHECK_EQ(svc.runs, 0);
	filters_teardown();
}

/* The context a socket filter sees: from the transport header on. */
TEST(sockfilter_context_and_tcp_segments)
{
	struct ebpf_prog *prog = from_obj("sock_fields");
	struct ebpf_map *m = prog ? ebpf_prog_map(prog, "seen") : NULL;
	struct tcp_pcb pcb = {.local_port = 7}, web = {.local_port = 80};
	uint8_t hdr[20] = {0};
	struct pbuf *p;
	struct sockfilter_stats svc;
	uint32_t k = 0, *s;

	filters_setup();
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(prog->type, EBPF_PROG_SOCKET_FILTER);
	CHECK_EQ(sockfilter_attach("echo", prog, NULL), 0);
	put16(hdr, 40000);
	put16(hdr + 2, 7);
	hdr[12] = 5 << 4;
	p = pbuf_alloc(PBUF_RAW, 100, PBUF_RAM);
	memset(p->payload, 'x', 100);
	CHECK_EQ(
	    sockfilter_tcp_inpacket(&pcb, (struct tcp_hdr *)hdr, 0, 0, NULL, p),
	    ERR_OK);
	s = ebpf_map_lookup(m, &k);
	CHECK_EQ(s[1], 120);	/* header + payload */
	CHECK_EQ(s[2], 0x0008); /* ETH_P_IP */
	CHECK(memcmp(&s[4], hdr, 8) == 0);
	/* keeping less than the whole segment drops it (TCP) */
	s[0] = 50;
	CHECK(sockfilter_tcp_inpacket(&pcb, (struct tcp_hdr *)hdr, 0, 0, NULL,
				      p) != ERR_OK);
	s[0] = 0xffffffffu; /* more than there is: whole */
	CHECK_EQ(
	    sockfilter_tcp_inpacket(&pcb, (struct tcp_hdr *)hdr, 0, 0, NULL, p),
	    ERR_OK);
	/* another service's socket: the filter does not run */
	CHECK_EQ(
	    sockfilter_tcp_inpacket(&web, (struct tcp_hdr *)hdr, 0, 0, NULL, p),
	    ERR_OK);
	CHECK_EQ(s[3], 3); /* runs */
	CHECK_EQ(sockfilter_get_stats("echo", &svc, NULL), 0);
	CHECK_EQ(svc.kept, 2);
	CHECK_EQ(svc.trunc_dropped, 1);
	pbuf_free(p);
	filters_teardown();
}

/* The same socket-filter program is refused where it does not fit. */
TEST(sockfilter_refuses_other_types)
{
	struct ebpf_prog *tc = builtin("tc_mark");

	filters_setup();
	CHECK_EQ(sockfilter_attach("echo", tc, NULL), -EINVAL);
	CHECK_EQ(
	    sockfilter_service_add("a-name-far-too-long-x", SOCKFILTER_TCP, 1),
	    -EINVAL);
	CHECK_EQ(sockfilter_service_add("x", (enum sockfilter_proto)1, 1),
		 -EINVAL);
	ebpf_prog_free(tc);
	filters_teardown();
}
