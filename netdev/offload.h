/* Checksum and segmentation offload helpers: pure functions over frame
 * bytes (Ethernet + IPv4 + TCP), no buffer type, no stack, no device. The
 * TX path (tx.c) and the stack glue use them; the host tests run them.
 *
 * Frames are parsed as bytes: a received IP header sits 2 bytes off
 * alignment (the frame starts at the Ethernet header). */
#ifndef SKIFF_NETDEV_OFFLOAD_H
#define SKIFF_NETDEV_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio_net.h"

#define NETDEV_ETH_HLEN	  14
#define NETDEV_ETH_TYPE	  12 /* offset of the EtherType */
#define NETDEV_ETHTYPE_IP 0x0800
#define NETDEV_IP	  NETDEV_ETH_HLEN
#define NETDEV_IP_HLEN	  20
#define NETDEV_IP_LEN	  (NETDEV_IP + 2)
#define NETDEV_IP_FRAG	  (NETDEV_IP + 6)
#define NETDEV_IP_PROTO	  (NETDEV_IP + 9)
#define NETDEV_IP_CSUM	  (NETDEV_IP + 10)
#define NETDEV_IP_SRC	  (NETDEV_IP + 12) /* then the destination */
#define NETDEV_IP_MF	  0x2000
#define NETDEV_IP_OFFMASK 0x1fff
#define NETDEV_PROTO_TCP  6
#define NETDEV_TCP_HLEN	  20
#define NETDEV_TCP_CSUM	  16 /* offset in the TCP header */
#define NETDEV_TCP_FLAGS  13
#define NETDEV_TCP_PSH	  0x08
#define NETDEV_TCP_ACK	  0x10
/* The largest header a GSO frame repeats: Ethernet, IP and TCP with
 * options. */
#define NETDEV_GSO_HDR_MAX (NETDEV_ETH_HLEN + 60 + 60)

static inline uint16_t netdev_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void netdev_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t netdev_get32(const uint8_t *p)
{
	return (uint32_t)netdev_get16(p) << 16 | netdev_get16(p + 2);
}

enum netdev_tx_csum {
	NETDEV_CSUM_NONE,   /* not TCP over IPv4: the stack did the sums */
	NETDEV_CSUM_DEVICE, /* pseudo-header sum written, offload set */
	NETDEV_CSUM_SPLIT,  /* headers span buffers: linearize, then retry */
	NETDEV_CSUM_CANNOT, /* TCP the device cannot finish: drop */
};

/* For a device finishing TCP checksums: f holds the frame's first have
 * bytes of tot_len. Finds the TCP header, stores the pseudo-header sum
 * (uncomplemented, as NEEDS_CSUM wants) in its checksum field and
 * describes the partial checksum in *off. */
enum netdev_tx_csum netdev_tx_csum_prepare(uint8_t *f, unsigned have,
					   unsigned tot_len,
					   struct vnet_tx_offload *off);

/* Whether DATA_VALID lets the stack skip the transport checksum of a
 * received frame: unfragmented IPv4 only (the IP header sum is still the
 * stack's to check). */
bool netdev_rx_csum_trusted(const uint8_t *f, uint32_t len);

/* What merging needs to know of a TCP/IPv4 frame. */
struct netdev_seg {
	const uint8_t *f; /* the frame's first buffer: all headers are in it */
	unsigned tcp;	  /* offset of the TCP header */
	unsigned hlen;	  /* Ethernet + IP + TCP headers */
	unsigned plen;	  /* payload bytes */
	uint32_t seq;
	uint8_t flags;
};

/* Whether a frame (first buffer f of have bytes, tot_len in all) with the
 * device finishing its checksum as off says can take part in a GSO frame:
 * a TCP/IPv4 data segment with its headers in the first buffer and flags
 * no merge changes the meaning of (ACK, maybe PSH). */
bool netdev_seg_parse(const uint8_t *f, unsigned have, unsigned tot_len,
		      const struct vnet_tx_offload *off, struct netdev_seg *s);

/* Whether s continues the run that starts with s0 and ends with prev:
 * the same headers byte for byte except the IP length, id and checksum and
 * the TCP sequence number, flags and checksum; the next sequence number;
 * prev a full segment without PSH, s no larger. */
bool netdev_seg_follows(const struct netdev_seg *s0,
			const struct netdev_seg *prev,
			const struct netdev_seg *s);

/* Turns h, a copy of the first segment's headers (s0->hlen bytes), into
 * the header of a GSO frame carrying tcp_len bytes of TCP (header and
 * every payload), as Linux builds a TSO packet: IP total length of the
 * whole, the first id, the header checksum recomputed; PSH if psh; the
 * TCP field holds the pseudo-header sum over the whole TCP length, which
 * segmentation adjusts per segment. Fills *off. */
void netdev_gso_header(uint8_t *h, const struct netdev_seg *s0,
		       unsigned tcp_len, bool psh, struct vnet_tx_offload *off);

#endif
