/* How many RX buffers the virtio-net driver keeps posted: the refill rule
 * and the adaptive target, as pure functions. The driver (vnet_rx.c)
 * and the leaky-DMA model (tools/ddio_model.c) both run these, so the model
 * replays exactly the rule the driver follows.
 *
 * Adaptive RX occupancy: the target starts at VNET_RX_ADAPT_START posted
 * buffers (capped by the ring), doubles (up to the ring size) when a poll
 * takes at least 3/4 of what was posted or ends with a backlog (budget
 * spent, frames still waiting), and loses an eighth (not below
 * VNET_RX_ADAPT_MIN) after VNET_RX_ADAPT_CALM_POLLS polls in a row that
 * each took at most an eighth of the target. Anything in between keeps it.
 * Shrinking never takes buffers back from the device: refills just wait
 * until fewer are posted. */
#ifndef SKIFF_DRIVERS_VNET_RX_POLICY_H
#define SKIFF_DRIVERS_VNET_RX_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define VNET_RX_ADAPT_START	 32
#define VNET_RX_ADAPT_MIN	 16
#define VNET_RX_ADAPT_CALM_POLLS 64

/* The room below the target worth a refill: a quarter of it. */
static inline uint32_t vnet_rx_refill_mark(uint32_t target)
{
	return target / 4 ? target / 4 : 1;
}

/* Whether posting more is due with posted buffers on the ring: below the
 * target, and either none posted or a quarter of the target missing. */
static inline bool vnet_rx_refill_due(uint32_t posted, uint32_t target)
{
	return posted < target &&
	       (posted == 0 || target - posted >= vnet_rx_refill_mark(target));
}

enum vnet_rx_adapt_change {
	VNET_RX_ADAPT_KEEP,
	VNET_RX_ADAPT_GROW,
	VNET_RX_ADAPT_SHRINK,
};

/* One poll's adaptation, for a poll that found posted_before buffers
 * posted and took done of them (backlog: the budget ran out with frames
 * waiting). ceiling is the ring size; *calm counts the calm polls in a
 * row. Returns the new target, and what happened in *change. */
static inline uint32_t vnet_rx_adapt_target(uint32_t target, uint32_t ceiling,
					    uint32_t posted_before,
					    unsigned done, bool backlog,
					    uint32_t *calm,
					    enum vnet_rx_adapt_change *change)
{
	*change = VNET_RX_ADAPT_KEEP;
	if (backlog || (done && done * 4 >= posted_before * 3)) {
		*calm = 0;
		if (target < ceiling) {
			*change = VNET_RX_ADAPT_GROW;
			return 2 * target < ceiling ? 2 * target : ceiling;
		}
		return target;
	}
	if (done * 8 > target) {
		*calm = 0;
		return target;
	}
	if (++*calm < VNET_RX_ADAPT_CALM_POLLS)
		return target;
	*calm = 0;
	if (target > VNET_RX_ADAPT_MIN) {
		target -= target / 8 ? target / 8 : 1;
		*change = VNET_RX_ADAPT_SHRINK;
		return target < VNET_RX_ADAPT_MIN ? VNET_RX_ADAPT_MIN : target;
	}
	return target;
}

#endif
