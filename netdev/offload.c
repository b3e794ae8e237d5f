/* Checksum and segmentation offload helpers: see offload.h. Exercised by
 * tests/unit/test_netif.c (every TX and RX checksum case, TSO merging)
 * through the TX path and the glue. */
#include "netdev/offload.h"

#include <string.h>

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The pseudo-header sum of a TCP segment of tcp_len bytes, uncomplemented. */
static uint16_t tcp_pseudo_sum(const uint8_t *f, unsigned tcp_len)
{
	uint32_t sum = NETDEV_PROTO_TCP + tcp_len;

	for (unsigned i = 0; i < 8; i += 2) /* source, destination */
		sum += netdev_get16(f + NETDEV_IP_SRC + i);
	return fold(sum);
}

enum netdev_tx_csum netdev_tx_csum_prepare(uint8_t *f, unsigned have,
					   unsigned tot_len,
					   struct vnet_tx_offload *off)
{
	unsigned ihl, tcp;
	uint16_t ip_len;

	if (have < NETDEV_ETH_HLEN)
		return tot_len < NETDEV_ETH_HLEN ? NETDEV_CSUM_NONE
						 : NETDEV_CSUM_SPLIT;
	if (netdev_get16(f + NETDEV_ETH_TYPE) != NETDEV_ETHTYPE_IP)
		return NETDEV_CSUM_NONE;
	if (have < NETDEV_IP + NETDEV_IP_HLEN)
		return NETDEV_CSUM_SPLIT;
	if (f[NETDEV_IP] >> 4 != 4 || f[NETDEV_IP_PROTO] != NETDEV_PROTO_TCP)
		return NETDEV_CSUM_NONE;

	/* From here the segment's checksum is ours to arrange. */
	ihl = (f[NETDEV_IP] & 0xfu) * 4;
	ip_len = netdev_get16(f + NETDEV_IP_LEN);
	if (ihl < NETDEV_IP_HLEN || (netdev_get16(f + NETDEV_IP_FRAG) &
				     (NETDEV_IP_MF | NETDEV_IP_OFFMASK)))
		return NETDEV_CSUM_CANNOT;
	tcp = NETDEV_IP + ihl;
	if (have < tcp + NETDEV_TCP_HLEN)
		return NETDEV_CSUM_SPLIT;
	/* The device sums to the end of the frame: no padding allowed. */
	if (ip_len < ihl + NETDEV_TCP_HLEN ||
	    NETDEV_IP + (unsigned)ip_len != tot_len)
		return NETDEV_CSUM_CANNOT;

	netdev_put16(f + tcp + NETDEV_TCP_CSUM,
		     tcp_pseudo_sum(f, (unsigned)(ip_len - ihl)));
	off->csum_start = (uint16_t)tcp;
	off->csum_offset = NETDEV_TCP_CSUM;
	return NETDEV_CSUM_DEVICE;
}

bool netdev_rx_csum_trusted(const uint8_t *f, uint32_t len)
{
	if (len < NETDEV_IP + NETDEV_IP_HLEN ||
	    netdev_get16(f + NETDEV_ETH_TYPE) != NETDEV_ETHTYPE_IP ||
	    f[NETDEV_IP] >> 4 != 4)
		return false;
	return !(netdev_get16(f + NETDEV_IP_FRAG) &
		 (NETDEV_IP_MF | NETDEV_IP_OFFMASK));
}

bool netdev_seg_parse(const uint8_t *f, unsigned have, unsigned tot_len,
		      const struct vnet_tx_offload *off, struct netdev_seg *s)
{
	unsigned thl;

	if (off->csum_offset != NETDEV_TCP_CSUM)
		return false;
	s->f = f;
	s->tcp = off->csum_start;
	if (have < s->tcp + NETDEV_TCP_HLEN)
		return false;
	thl = (f[s->tcp + 12] >> 4) * 4u;
	s->hlen = s->tcp + thl;
	if (thl < NETDEV_TCP_HLEN || s->hlen > NETDEV_GSO_HDR_MAX ||
	    have < s->hlen || tot_len <= s->hlen)
		return false;
	s->plen = tot_len - s->hlen;
	s->flags = f[s->tcp + NETDEV_TCP_FLAGS];
	if ((s->flags & (uint8_t) ~(NETDEV_TCP_ACK | NETDEV_TCP_PSH)) ||
	    !(s->flags & NETDEV_TCP_ACK))
		return false;
	s->seq = netdev_get32(f + s->tcp + 4);
	return true;
}

bool netdev_seg_follows(const struct netdev_seg *s0,
			const struct netdev_seg *prev,
			const struct netdev_seg *s)
{
	const uint8_t *a = s0->f, *b = s->f;
	unsigned t = s0->tcp;

	if (s->tcp != t || s->hlen != s0->hlen)
		return false;
	if (prev->plen != s0->plen || (prev->flags & NETDEV_TCP_PSH) ||
	    s->plen > s0->plen || s->seq != prev->seq + prev->plen)
		return false;
	if (memcmp(a, b, NETDEV_IP_LEN) != 0 || /* MACs, type, tos */
	    memcmp(a + NETDEV_IP_FRAG, b + NETDEV_IP_FRAG, 4) != 0 ||
	    memcmp(a + NETDEV_IP_SRC, b + NETDEV_IP_SRC, t - NETDEV_IP_SRC) !=
		0 ||				      /* addresses, options */
	    memcmp(a + t, b + t, 4) != 0 ||	      /* ports */
	    memcmp(a + t + 8, b + t + 8, 5) != 0 ||   /* ack, offset */
	    memcmp(a + t + 14, b + t + 14, 2) != 0 || /* window */
	    memcmp(a + t + 18, b + t + 18, s0->hlen - t - 18) != 0)
		return false; /* urgent pointer, options */
	return true;
}

void netdev_gso_header(uint8_t *h, const struct netdev_seg *s0,
		       unsigned tcp_len, bool psh, struct vnet_tx_offload *off)
{
	unsigned ihl = s0->tcp - NETDEV_IP;
	uint32_t sum = 0;

	if (psh)
		h[s0->tcp + NETDEV_TCP_FLAGS] |= NETDEV_TCP_PSH;
	netdev_put16(h + NETDEV_IP_LEN, (uint16_t)(ihl + tcp_len));
	netdev_put16(h + NETDEV_IP_CSUM, 0);
	for (unsigned k = 0; k < ihl; k += 2)
		sum += netdev_get16(h + NETDEV_IP + k);
	netdev_put16(h + NETDEV_IP_CSUM, (uint16_t)~fold(sum));
	netdev_put16(h + s0->tcp + NETDEV_TCP_CSUM, tcp_pseudo_sum(h, tcp_len));

	memset(off, 0, sizeof(*off));
	off->csum_start = (uint16_t)s0->tcp;
	off->csum_offset = NETDEV_TCP_CSUM;
	off->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	off->gso_size = (uint16_t)s0->plen;
	off->hdr_len = (uint16_t)s0->hlen;
}
