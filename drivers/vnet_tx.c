/* virtio-net transmit, one queue pair's TX ring: TX chains are
 * [our virtio_net_hdr][caller fragment]...; the header lives in
 * tx_hdrs[head], indexed by the chain's head descriptor, which no other
 * chain in flight can share, so transmitting allocates nothing. */
#include <string.h>

#include "drivers/vnet_var.h"
#include "kernel/kerrno.h"

/* Collects the non-empty fragments behind the header slot bufs[0]. Returns
 * the number of buffers or a negative errno; *total gets the frame length. */
static int vnet_tx_gather(const struct vnet_frag *frags, unsigned nfrags,
			  struct vq_buf *bufs, uint32_t *total, uint32_t max)
{
	unsigned nb = 1;
	uint64_t sum = 0;

	for (unsigned i = 0; i < nfrags; i++) {
		if (frags[i].len == 0)
			continue;
		if (nb > VNET_TX_MAX_FRAGS)
			return -E2BIG;
		bufs[nb].addr = (uint64_t)(uintptr_t)frags[i].data;
		bufs[nb].len = frags[i].len;
		sum += frags[i].len;
		nb++;
	}
	if (sum < VNET_ETH_HLEN || sum > max)
		return -EINVAL;
	*total = (uint32_t)sum;
	return (int)nb;
}

static int vnet_tx_fill_hdr(const struct vnet *n, struct virtio_net_hdr *hdr,
			    const struct vnet_tx_offload *csum, uint32_t total)
{
	memset(hdr, 0, sizeof(*hdr));
	if (!csum)
		return 0;
	if (!n->tx_csum)
		return -ENOTSUP;
	if ((uint32_t)csum->csum_start + csum->csum_offset + 2 > total)
		return -EINVAL;
	hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr->csum_start = csum->csum_start;
	hdr->csum_offset = csum->csum_offset;
	if (csum->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	if (csum->gso_type != VIRTIO_NET_HDR_GSO_TCPV4)
		return -EINVAL;
	if (!n->tx_tso)
		return -ENOTSUP;
	/* The headers hold the checksum field and leave payload behind. */
	if (csum->gso_size == 0 ||
	    csum->hdr_len <
		(uint32_t)csum->csum_start + csum->csum_offset + 2 ||
	    csum->hdr_len >= total)
		return -EINVAL;
	hdr->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	hdr->gso_size = csum->gso_size;
	hdr->hdr_len = csum->hdr_len;
	return 0;
}

int vnet_tx_check(const struct vnet *n, const struct vnet_frag *frags,
		  unsigned nfrags, const struct vnet_tx_offload *csum)
{
	struct vq_buf bufs[VNET_TX_MAX_FRAGS + 1];
	struct virtio_net_hdr hdr;
	uint32_t total = 0;
	int nb;

	if (vq_is_broken(&n->txq))
		return -EIO;
	nb = vnet_tx_gather(frags, nfrags, bufs, &total,
			    csum && csum->gso_type ? VNET_GSO_MAX_FRAME
						   : VNET_MAX_FRAME);
	if (nb < 0)
		return nb;
	return vnet_tx_fill_hdr(n, &hdr, csum, total);
}

int vnet_tx_chain(struct vnet *n, const struct vnet_frag *frags,
		  unsigned nfrags, const struct vnet_tx_offload *csum,
		  void *cookie)
{
	struct vq_buf bufs[VNET_TX_MAX_FRAGS + 1];
	struct vnet_tx_slot *slot;
	uint32_t total = 0;
	int nb, head, err;

	if (vq_is_broken(&n->txq))
		return -EIO;
	if (!cookie)
		return -EINVAL;
	/* Only a GSO frame may exceed the MTU. */
	nb = vnet_tx_gather(frags, nfrags, bufs, &total,
			    csum && csum->gso_type ? VNET_GSO_MAX_FRAME
						   : VNET_MAX_FRAME);
	if (nb < 0)
		return nb;
	head = vq_next_head(&n->txq);
	if (head < 0 ||
	    vq_descs_for(&n->txq, (unsigned)nb) > vq_num_free(&n->txq)) {
		n->stats.tx_ring_full++;
		return -ENOSPC;
	}
	err = vnet_tx_fill_hdr(n, &n->tx_hdrs[head], csum, total);
	if (err)
		return err;
	bufs[0].addr = (uint64_t)(uintptr_t)&n->tx_hdrs[head];
	bufs[0].len = VNET_HDR_LEN;

	slot = &n->tx_slots[head];
	err = vq_add_chain(&n->txq, bufs, (unsigned)nb, 0, slot);
	if (err)
		return err;
	slot->cookie = cookie;
	slot->len = total;
	n->tx_inflight++;
	n->tx_batch++;
	return 0;
}

bool vnet_tx_flush(struct vnet *n)
{
	if (n->tx_batch == 0)
		return false;
	vnet_hist_add(n->stats.tx_batch, n->tx_batch);
	n->tx_batch = 0;
	return vq_kick(&n->txq);
}

unsigned vnet_tx_reclaim(struct vnet *n, vnet_tx_done_fn done, void *ctx)
{
	struct vq_used u;
	unsigned count = 0;

	while (vq_get_used(&n->txq, &u)) {
		struct vnet_tx_slot *slot = u.cookie;
		void *cookie = slot->cookie;

		/* The device read the frame even if it misreported len. */
		n->stats.tx_packets++;
		n->stats.tx_bytes += slot->len;
		slot->cookie = NULL;
		n->tx_inflight--;
		count++;
		if (done)
			done(ctx, cookie);
	}
	return count;
}

void vnet_tx_drop(struct vnet *n)
{
	n->stats.drops.ring_full++;
}
