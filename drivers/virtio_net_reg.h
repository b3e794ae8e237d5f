/* virtio-net device layouts (virtio 1.x "Network Device"): feature bits,
 * the device configuration space and the per-packet header. Little-endian
 * fields use the virtio_le* types of virtio_ring_reg.h. */
#ifndef SKIFF_DRIVERS_VIRTIO_NET_REG_H
#define SKIFF_DRIVERS_VIRTIO_NET_REG_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio_ring_reg.h"

#define VIRTIO_ID_NET 1

/* Queue numbers without VIRTIO_NET_F_MQ: one receive, one transmit queue. */
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

/* Feature bits (device-specific range 0..23, plus 63). */
#define VIRTIO_NET_F_CSUM		 0 /* device completes partial csums */
#define VIRTIO_NET_F_GUEST_CSUM		 1 /* we accept partial/valid csums */
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU		 3 /* config.mtu is valid */
#define VIRTIO_NET_F_MAC		 5 /* config.mac is valid */
#define VIRTIO_NET_F_GUEST_TSO4		 7
#define VIRTIO_NET_F_GUEST_TSO6		 8
#define VIRTIO_NET_F_GUEST_ECN		 9
#define VIRTIO_NET_F_GUEST_UFO		 10
#define VIRTIO_NET_F_HOST_TSO4		 11
#define VIRTIO_NET_F_HOST_TSO6		 12
#define VIRTIO_NET_F_HOST_ECN		 13
#define VIRTIO_NET_F_HOST_UFO		 14
#define VIRTIO_NET_F_MRG_RXBUF		 15 /* frames may span several buffers */
#define VIRTIO_NET_F_STATUS		 16 /* config.status is valid */
#define VIRTIO_NET_F_CTRL_VQ		 17
#define VIRTIO_NET_F_CTRL_RX		 18
#define VIRTIO_NET_F_CTRL_VLAN		 19
#define VIRTIO_NET_F_GUEST_ANNOUNCE	 21
#define VIRTIO_NET_F_MQ			 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR	 23
#define VIRTIO_NET_F_RSS		 60 /* receive-side scaling (ctrl queue) */
#define VIRTIO_NET_F_SPEED_DUPLEX	 63

/* With VIRTIO_NET_F_MQ: pair i is receiveq 2i and transmitq 2i + 1, and the
 * control queue comes after every pair the device has:
 * 2 * max_virtqueue_pairs (spec 5.1.2). The spec's range of pairs. */
#define VIRTIO_NET_MQ_PAIRS_MIN 1
#define VIRTIO_NET_MQ_PAIRS_MAX 0x8000

/* config.status bits */
#define VIRTIO_NET_S_LINK_UP  1
#define VIRTIO_NET_S_ANNOUNCE 2

/* Device configuration space. Read it field by field through the
 * transport's read_config() at these offsets; the struct only pins them. */
struct virtio_net_config {
	uint8_t mac[6];
	virtio_le16 status;		 /* VIRTIO_NET_F_STATUS */
	virtio_le16 max_virtqueue_pairs; /* VIRTIO_NET_F_MQ */
	virtio_le16 mtu;		 /* VIRTIO_NET_F_MTU */
	virtio_le32 speed;		 /* VIRTIO_NET_F_SPEED_DUPLEX, Mb/s */
	uint8_t duplex;
	uint8_t rss_max_key_size;		      /* VIRTIO_NET_F_RSS */
	virtio_le16 rss_max_indirection_table_length; /* VIRTIO_NET_F_RSS */
	virtio_le32 supported_hash_types;	      /* VIRTIO_NET_F_RSS */
};

_Static_assert(offsetof(struct virtio_net_config, status) == 6, "status");
_Static_assert(offsetof(struct virtio_net_config, max_virtqueue_pairs) == 8,
	       "max_virtqueue_pairs");
_Static_assert(offsetof(struct virtio_net_config, mtu) == 10, "mtu");
_Static_assert(offsetof(struct virtio_net_config, speed) == 12, "speed");
_Static_assert(offsetof(struct virtio_net_config, duplex) == 16, "duplex");
_Static_assert(offsetof(struct virtio_net_config, rss_max_key_size) == 17,
	       "rss_max_key_size");
_Static_assert(offsetof(struct virtio_net_config,
			rss_max_indirection_table_length) == 18,
	       "rss_max_indirection_table_length");
_Static_assert(offsetof(struct virtio_net_config, supported_hash_types) == 20,
	       "supported_hash_types");

/* Control queue commands (spec 5.1.6.5): a device-readable header (class,
 * command) and payload, then one device-writable ack byte. */
struct virtio_net_ctrl_hdr {
	uint8_t class_;
	uint8_t cmd;
};
#define VIRTIO_NET_OK  0
#define VIRTIO_NET_ERR 1

#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0 /* payload: le16 pairs */
#define VIRTIO_NET_CTRL_MQ_RSS_CONFIG	1 /* payload: the RSS layout below */

/* RSS hash types (supported_hash_types, rss hash_types). */
#define VIRTIO_NET_RSS_HASH_TYPE_IPv4  (1u << 0)
#define VIRTIO_NET_RSS_HASH_TYPE_TCPv4 (1u << 1)
#define VIRTIO_NET_RSS_HASH_TYPE_UDPv4 (1u << 2)

/* VIRTIO_NET_CTRL_MQ_RSS_CONFIG payload, variable length:
 *   le32 hash_types; le16 indirection_table_mask; le16 unclassified_queue;
 *   le16 indirection_table[mask + 1]; le16 max_tx_vq;
 *   u8 hash_key_length; u8 hash_key_data[hash_key_length];
 * Entries of the table are receive queue numbers (pair indexes). */
struct virtio_net_rss_head {
	virtio_le32 hash_types;
	virtio_le16 indirection_table_mask;
	virtio_le16 unclassified_queue;
};
_Static_assert(sizeof(struct virtio_net_rss_head) == 8, "rss head");
/* Toeplitz key bytes the spec makes every RSS device accept. */
#define VIRTIO_NET_RSS_KEY_LEN 40

/* virtio_net_hdr.flags. NEEDS_CSUM: csum_start/csum_offset describe a
 * partial checksum still to be completed. DATA_VALID: the device (or host)
 * checked the checksums. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_F_RSC_INFO   4

/* virtio_net_hdr.gso_type */
#define VIRTIO_NET_HDR_GSO_NONE	  0
#define VIRTIO_NET_HDR_GSO_TCPV4  1
#define VIRTIO_NET_HDR_GSO_UDP	  3
#define VIRTIO_NET_HDR_GSO_TCPV6  4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#define VIRTIO_NET_HDR_GSO_ECN	  0x80

/* Precedes every frame in both directions. With VERSION_1 it always has
 * num_buffers (12 bytes), whether or not MRG_RXBUF is negotiated. */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	virtio_le16 hdr_len;	 /* GSO: bytes of headers to copy per segment */
	virtio_le16 gso_size;	 /* GSO: payload bytes per segment */
	virtio_le16 csum_start;	 /* NEEDS_CSUM: where summing starts */
	virtio_le16 csum_offset; /* NEEDS_CSUM: where (after csum_start) the
				  * result is stored */
	virtio_le16 num_buffers; /* buffers of a merged rx frame; 0 on tx */
};

_Static_assert(sizeof(struct virtio_net_hdr) == 12, "virtio_net_hdr size");
_Static_assert(offsetof(struct virtio_net_hdr, hdr_len) == 2, "hdr_len");
_Static_assert(offsetof(struct virtio_net_hdr, csum_start) == 6, "csum_start");
_Static_assert(offsetof(struct virtio_net_hdr, num_buffers) == 10,
	       "num_buffers");

#endif
