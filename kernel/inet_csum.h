/* The Internet checksum (RFC 1071) over a buffer, for lwIP (LWIP_CHKSUM in
 * lwip-port/lwipopts.h) and anyone else who needs one. */
#ifndef SKIFF_KERNEL_INET_CSUM_H
#define SKIFF_KERNEL_INET_CSUM_H

#include <stdint.h>

/* The ones' complement sum of len bytes at data, folded to 16 bits and
 * not complemented, as the bytes lie in memory (so in network order when
 * stored as a little-endian u16): what lwIP's lwip_standard_chksum()
 * returns, for any alignment and length (len <= 0 gives 0). */
uint16_t inet_csum_partial(const void *data, int len);

#endif
