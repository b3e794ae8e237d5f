/* The XDP-style hook: every received frame, before lwIP, goes through the
 * attached eBPF program (if any), which answers PASS (to lwIP), DROP, TX
 * (send the possibly rewritten frame back out of the NIC, no stack) or
 * REDIRECT (to the AF_XDP socket its bpf_redirect_map() named: xdp/xsk.h).
 * With nothing attached the hook is one predictable branch. */
#ifndef SKIFF_XDP_XDP_HOOK_H
#define SKIFF_XDP_XDP_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebpf/ebpf.h"
#include "kernel/counters.h"

/* NULL when no program is attached: the only thing the RX path tests. */
extern struct ebpf_prog *xdp_hook_prog;

struct xdp_hook_stats {
	uint64_t runs, pass, drop, tx, redirect, aborted;
	uint64_t tx_failed; /* TX ring full: the frame was dropped */
	uint64_t
	    redirect_dropped; /* the socket refused it (see its counters) */
	uint64_t redirect_no_target; /* REDIRECT without bpf_redirect_map */
	uint64_t xsk_frames;	     /* redirected frames a socket took */
	uint64_t xsk_bytes;
	uint64_t cycles; /* TSC cycles inside programs, rdtsc around each run */
};

/* The attached program's own share, zeroed when a program is attached,
 * replaced or detached (the hook's counters go on). */
struct xdp_prog_stats {
	uint64_t runs, cycles;
};

/* Registers the hook into netdev's receive path (netdev/rx_hook.h). Called
 * once at bring-up; frames go through it while a program is attached. */
void xdp_hook_register(void);
/* Loads the built-in program `name` (xdp/NAME.bpf.c), verifies it,
 * JIT-compiles it when jit is set, and attaches it. On any failure it logs
 * why ("xdp: NAME refused: insn 12: ...") and leaves no program attached:
 * Skiff keeps serving through lwIP. */
int xdp_hook_attach(const char *name, bool jit);
/* Fills the "blocklist" map from "A.B.C.D[:port],..." (port 0 or none =
 * every port). Returns the number of entries added or a negative errno. */
int xdp_hook_blocklist(const char *list);
/* Runs the program on one frame; returns its (sanitised) verdict. */
int xdp_hook_run(void *frame, uint32_t len, uint8_t csum_flags, uint32_t queue);
void xdp_hook_count_tx_failed(void);
/* Puts p (NULL: nothing) at the hook with one pointer store and returns
 * the program it replaced, which the caller frees once no frame can be
 * running it (from the main loop: at once). The counters go on. */
struct ebpf_prog *xdp_hook_swap(struct ebpf_prog *p);
/* Detaches and frees the program and zeroes the counters. For tests and
 * reconfiguration. */
void xdp_hook_detach(void);

void xdp_hook_get_stats(struct xdp_hook_stats *out);
void xdp_hook_get_prog_stats(struct xdp_prog_stats *out);
/* The {name, offset} tables of struct xdp_hook_stats and xdp_prog_stats. */
extern const struct counter_desc xdp_hook_stats_desc[];
extern const unsigned xdp_hook_stats_ndesc;
extern const struct counter_desc xdp_prog_stats_desc[];
extern const unsigned xdp_prog_stats_ndesc;
int xdp_hook_stats_json(char *buf, size_t cap);

#endif
