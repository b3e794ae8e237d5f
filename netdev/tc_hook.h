/* The TC hook of the packet path, ingress and egress: Linux SEC("tc") /
 * SEC("classifier") programs (struct __sk_buff, direct action) run
 *
 *  - ingress: on every frame the XDP hook passed (or every frame, with no
 *    XDP program), before the stack sees it; the frame is still in its RX
 *    buffer and the program may rewrite it in place;
 *  - egress: on every frame the stack sends, where it reaches the TX path
 *    (netdev_tx_send, or the TSO flush): a run of TCP segments merged into
 *    one GSO frame is seen once, as the device will see it (gso_segs,
 *    gso_size, len up to 64 KiB, its headers a private copy); frames the
 *    XDP hook sends back (XDP_TX) and ingress redirects are not seen.
 *
 * Verdicts, as Linux's cls_bpf in direct-action mode: TC_ACT_OK, and
 * TC_ACT_UNSPEC, TC_ACT_PIPE or any other value, let the frame go on;
 * TC_ACT_SHOT drops it; TC_ACT_STOLEN / TC_ACT_TRAP consume it (dropped
 * here, counted apart); TC_ACT_REDIRECT after bpf_redirect(1, flags)
 * sends an ingress frame out of the NIC from its own buffer (no flags) or
 * hands it to the stack (BPF_F_INGRESS), and lets an egress frame go out
 * (no flags); an egress frame redirected to ingress, or to any ifindex but
 * 1, is dropped (counted in redirect_failed).
 *
 * Attach: tc_attach(dir, prog) swaps one pointer; with nothing attached
 * each direction costs one predictable branch. Programs run on the CPU
 * that runs the stack, never concurrently with an attach from that same
 * loop, so the previous program may be freed as soon as tc_attach
 * returns it. */
#ifndef SKIFF_NETDEV_TC_HOOK_H
#define SKIFF_NETDEV_TC_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio_net.h"
#include "ebpf/ebpf.h"
#include "kernel/counters.h"
#include "netdev/rx_hook.h"

enum tc_dir { TC_INGRESS = 0, TC_EGRESS = 1, TC_NDIRS };

/* One set per direction (cumulative) and one for the program attached
 * there now (zeroed on attach). */
struct tc_stats {
	uint64_t runs;
	uint64_t ok;		  /* OK, UNSPEC, PIPE, unknown values */
	uint64_t shot;		  /* TC_ACT_SHOT */
	uint64_t stolen;	  /* TC_ACT_STOLEN / TC_ACT_TRAP */
	uint64_t redirect;	  /* TC_ACT_REDIRECT carried out */
	uint64_t redirect_failed; /* no or unsupported target: dropped */
	uint64_t tx_failed;	  /* ingress->egress: TX queue full: dropped */
	/* helper writes and pulls beyond the writable head (egress payload
	 * buffers): -EFAULT / -ENOMEM to the program */
	uint64_t write_refused;
	uint64_t cycles; /* TSC cycles spent in the program */
};

/* The attached programs; NULL: none. */
extern struct ebpf_prog *tc_prog[TC_NDIRS];

/* Attaches prog (a prepared EBPF_PROG_SCHED_CLS program, or NULL to
 * detach) at dir, atomically for frames in flight; *old (may be NULL)
 * gets the program attached before, which the caller frees. 0, or
 * -EINVAL (bad direction, a program of another type or not prepared:
 * nothing changes). */
int tc_attach(enum tc_dir dir, struct ebpf_prog *prog, struct ebpf_prog **old);

static inline bool tc_armed(enum tc_dir dir)
{
	return __builtin_expect(tc_prog[dir] != NULL, 0);
}

/* Ingress: runs the program on a received frame and settles its buffer
 * through port for every verdict that ends it here. Returns true when the
 * frame was consumed (dropped or sent), false when it goes on to the
 * stack (possibly rewritten). */
bool tc_ingress_run(const struct netdev_rx_port *port, void *frame,
		    uint32_t len, uint32_t handle, uint8_t csum_flags);

/* Egress: runs the program on a frame about to be queued: frags[0] holds
 * its headers (writable), tot_len bytes in all, off non-NULL when the
 * device finishes the TCP checksum (and, for a GSO frame, segments it:
 * gso_segs segments). Returns true to send, false to drop (the caller
 * frees the frame). */
bool tc_egress_run(const struct vnet_frag *frags, unsigned nfrags,
		   unsigned tot_len, const struct vnet_tx_offload *off,
		   unsigned gso_segs);

void tc_get_stats(enum tc_dir dir, struct tc_stats *hook,
		  struct tc_stats *prog);
/* The {name, offset} table of struct tc_stats. */
extern const struct counter_desc tc_stats_desc[];
extern const unsigned tc_stats_ndesc;
/* {"ingress":{...},"egress":{...}}: each direction's counters and its
 * program ("prog": name, JIT, its own counters, or null). */
int tc_stats_json(char *buf, size_t cap);
/* Zeroes every counter (tests). */
void tc_stats_reset(void);

#endif
