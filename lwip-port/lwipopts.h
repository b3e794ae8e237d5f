/* lwIP configuration for Skiff (lwIP 2.1.3, Debian 2.1.3+dfsg1).
 *
 * One core, no threads: NO_SYS=1 with the raw (callback) API. Interrupt
 * handlers only flag work; the main loop polls the NIC, feeds frames to
 * netif->input and calls sys_check_timeouts(), so lwIP is never re-entered.
 *
 * Tuned for throughput and connection churn on virtio-net: full-size
 * segments, window scaling, a 64 KiB receive window and a send buffer twice
 * that, fixed pools sized from those numbers for ~256 connections, and a
 * short TIME_WAIT. Everything not set here keeps lwIP's default (opt.h). */
#ifndef SKIFF_LWIPOPTS_H
#define SKIFF_LWIPOPTS_H

/* ---- System ------------------------------------------------------------- */

#define NO_SYS	       1
#define LWIP_SOCKET    0
#define LWIP_NETCONN   0
#define LWIP_NETIF_API 0
/* lwIP's timers run from sys_check_timeouts() in the main loop. */
#define LWIP_TIMERS 1
/* SYS_ARCH_PROTECT saves RFLAGS and clears IF (arch/cc.h). Interrupt
 * handlers never call lwIP today, so this is a safety net for pool and pbuf
 * reference updates should one ever free a pbuf; it costs a pushfq/cli and a
 * conditional sti per protected section. */
#define SYS_LIGHTWEIGHT_PROT 1

/* ---- Memory ------------------------------------------------------------- */

/* x86-64: 8-byte alignment keeps every lwIP struct naturally aligned (the
 * kernel heap returns 16-byte aligned blocks, which satisfies this). */
#define MEM_ALIGNMENT 8

/* The lwIP heap (PBUF_RAM pbufs: every copied TCP write, ICMP replies,
 * DHCP/DNS messages) is the kernel heap: one allocator, one set of counters
 * (heap_get_stats), and its size limit is the one place that bounds memory.
 * lwIP's own heap would be a fixed static array, which the GNU-EFI linker
 * script turns into file contents (.bss lives inside .data). */
#define MEM_LIBC_MALLOC 1
#define mem_clib_malloc malloc
#define mem_clib_free	free
#define mem_clib_calloc calloc

/* Fixed pools (MEMP_MEM_MALLOC 0), not heap-backed ones: a pool's size is a
 * hard limit, which is what makes the limits below real: with heap-backed
 * pools MEMP_NUM_TCP_PCB would cap nothing, and tcp_alloc() would never
 * recycle the oldest TIME_WAIT PCB under pressure because allocation only
 * fails when the whole heap is gone. Pools are also O(1) and counted in
 * lwip_stats.memp[]. Their price is ~200 KB of .bss (PBUF_POOL 76 KB,
 * TCP PCBs 63 KB, segments 32 KB, pbuf headers 24 KB; `nm -S
 * build/lwip/core/memp.o`), which GNU-EFI stores in the image file. */
#define MEMP_MEM_MALLOC 0

/* ---- TCP sizing --------------------------------------------------------- */

#define LWIP_TCP 1
/* Ethernet MTU 1500 - 20 (IPv4) - 20 (TCP). */
#define TCP_MSS 1460

/* Receive window 64 KiB. On virtio with a ~100 us RTT that allows several
 * Gbit/s, more than the guest can process; a larger window would only let
 * a slow reader pin more receive buffers (in zero-copy mode those are RX
 * ring buffers). 65536 does not fit the 16-bit window field, hence window
 * scaling, which also lets our sender use a peer's window beyond 64 KiB. */
#define LWIP_WND_SCALE 1
#define TCP_WND	       (64 * 1024)
/* Smallest shift that can announce TCP_WND (0xffff << 1 >= 64 KiB); a larger
 * shift only coarsens the announced window. init.c checks the fit. */
#define TCP_RCV_SCALE 1

/* Send buffer twice the window: 64 KiB can be in flight while the
 * application has already queued the next 64 KiB. */
#define TCP_SND_BUF (2 * TCP_WND)
/* snd_queuelen counts pbufs, and echo writes whatever arrived (1 byte up to
 * an MSS), so allow 4 pbufs per MSS of buffer (lwIP's default formula,
 * written out because MEMP_NUM_TCP_SEG must cover it). 360 here. */
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + (TCP_MSS - 1)) / TCP_MSS)
/* The default (half of TCP_SND_BUF = 64 KiB) trips init.c's check that the
 * low-water mark stays 4 MSS below 0xffff, because tcp_sndbuf() reports the
 * free space as a u16_t. A quarter of the buffer is the write threshold. */
#define TCP_SNDLOWAT (TCP_SND_BUF / 4)

/* Connections, counting TIME_WAIT: ~256 concurrent. When the pool is full
 * tcp_alloc() first kills the oldest TIME_WAIT PCB, then lower-priority
 * ones; services should refuse work a little below this (their own limit)
 * so that refusal is a clean close, not a silently dropped SYN. */
#define MEMP_NUM_TCP_PCB 256
/* Listeners: echo 7, HTTP 80, lwiperf 5001, plus room. */
#define MEMP_NUM_TCP_PCB_LISTEN 8
/* Queued TCP segments (unsent + unacked + out-of-order) across all
 * connections. Must be >= TCP_SND_QUEUELEN (init.c); 1024 segments is
 * ~1.5 MB of data in flight system-wide. When it is exhausted tcp_write()
 * returns ERR_MEM and the service retries from its sent/poll callback. */
#define MEMP_NUM_TCP_SEG 1024
/* PBUF_REF/ROM headers: one per segment written without TCP_WRITE_FLAG_COPY
 * (static HTTP content) and per IP fragment reference. */
#define MEMP_NUM_PBUF MEMP_NUM_TCP_SEG

/* Out-of-order queueing is kept (a lost segment otherwise costs a window of
 * retransmits), capped per connection at one window of full-size segments:
 * in zero-copy mode every queued pbuf holds an RX ring buffer, and a peer
 * sending tiny segments could otherwise pin thousands of them. */
#define TCP_QUEUE_OOSEQ	    1
#define TCP_OOSEQ_MAX_PBUFS ((TCP_WND + TCP_MSS - 1) / TCP_MSS)

/* TIME_WAIT lasts 2 * TCP_MSL. RFC 793's 2 minutes would let a churn of a
 * few hundred connections per second fill MEMP_NUM_TCP_PCB with TIME_WAIT
 * PCBs; Skiff's peers are a hop away (QEMU user net or a local tap), where
 * no segment lives for a second, so 1 s is safe and TIME_WAIT ends in 2 s. */
#define TCP_MSL 1000UL

/* Keepalive support (off per PCB until a service sets SOF_KEEPALIVE):
 * lets a service reap peers that vanished without FIN or RST. */
#define LWIP_TCP_KEEPALIVE 1

/* ---- pbufs -------------------------------------------------------------- */

/* Custom pbufs: zero-copy receive hands lwIP a pbuf that points into the RX
 * buffer and returns the buffer to the ring from its free callback. */
#define LWIP_SUPPORT_CUSTOM_PBUF 1
/* Headroom for struct virtio_net_hdr (12 bytes with VIRTIO_F_VERSION_1) in
 * front of the Ethernet header of every pbuf lwIP allocates for output, so
 * the driver can prepend it and send header + frame from one buffer. */
#define PBUF_LINK_ENCAPSULATION_HLEN 12
/* No padding before the Ethernet header: zero-copy receive cannot insert
 * it, and x86-64 does not fault on the resulting 2-byte-offset IP header. */
#define ETH_PAD_SIZE 0
/* PBUF_POOL buffers serve the copying receive mode. init.c requires the pool
 * to hold a full TCP_WND of payload; 4 spare buffers cover ARP/ICMP/UDP
 * arriving while a window is queued. 49 buffers of 1528 bytes (~76 KB with
 * their pbuf headers). */
#define PBUF_POOL_SIZE (((TCP_WND + TCP_MSS - 1) / TCP_MSS) + 4)

/* ---- IP, ARP, ICMP, UDP, DHCP, DNS -------------------------------------- */

#define LWIP_IPV4 1
/* Reassembly of a datagram of up to 64 KiB (45 fragments of 1480 bytes:
 * lwIP's default of 10 answered no ping above ~14.8 KB), and as many
 * fragment references for sending such a reply. Bounded by
 * MEMP_NUM_REASSDATA (5) datagrams at once and IP_REASS_MAXAGE (15 s), so
 * half-finished datagrams pin at most 240 of the RX buffers. */
#define IP_REASS_MAX_PBUFS 48
#define MEMP_NUM_FRAG_PBUF 48
/* IPv6 is not enabled yet: the services, the netif glue and the tests are
 * IPv4-only. The core/ipv6 files are already built (they compile to nothing
 * while this is 0), so turning it on is a change here plus the glue's
 * output_ip6/MLD filter. */
#define LWIP_IPV6     0
#define LWIP_ARP      1
#define LWIP_ETHERNET 1
/* The ARP table covers the gateway and the hosts of a small local segment. */
#define ARP_TABLE_SIZE	   16
#define ARP_QUEUEING	   1
#define MEMP_NUM_ARP_QUEUE 32
#define LWIP_ICMP	   1
#define LWIP_UDP	   1
/* DHCP, the echo service and DNS each hold one UDP PCB; room for more. */
#define MEMP_NUM_UDP_PCB 8
/* Ping is answered by lwIP's ICMP code; no raw PCBs are needed. */
#define LWIP_RAW  0
#define LWIP_DHCP 1
/* The ARP probe for the offered address costs 0.5 s per boot; the networks
 * Skiff runs on (QEMU user net, a private tap) hand out unique leases. */
#define DHCP_DOES_ARP_CHECK 0
/* Lets the netif send a hostname in DHCP requests. */
#define LWIP_NETIF_HOSTNAME 1
/* DNS servers come from DHCP or dns= on the command line (dns_setserver). */
#define LWIP_DNS		   1
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK   1
/* Application timers (stats, idle checks) on top of lwIP's own. */
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)

/* ---- Checksums ---------------------------------------------------------- */

/* Generation and checking stay compiled in (CHECKSUM_GEN_*, CHECKSUM_CHECK_*
 * default to 1); each netif turns off with NETIF_SET_CHECKSUM_CTRL what its
 * device does instead. netif->input runs a frame through IP and TCP/UDP
 * synchronously, so the glue may also set the CHECK flags per frame (e.g.
 * from VIRTIO_NET_HDR_F_DATA_VALID). With GEN_TCP/GEN_UDP off lwIP leaves
 * the checksum field 0, so a driver using VIRTIO_NET_HDR_F_NEEDS_CSUM must
 * put the pseudo-header sum there itself. */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
/* The sum itself: eight bytes a step (kernel/inet_csum.c) instead of
 * lwIP's two, same result. */
#include "kernel/inet_csum.h"
#define LWIP_CHKSUM inet_csum_partial

/* ---- Statistics (read by /stats and the leak checks in the tests) ------- */

#define LWIP_STATS	   1
#define LWIP_STATS_DISPLAY 0
#define LINK_STATS	   1
#define ETHARP_STATS	   1
#define IP_STATS	   1
#define IPFRAG_STATS	   1
#define ICMP_STATS	   1
#define UDP_STATS	   1
#define TCP_STATS	   1
#define MEM_STATS	   1
#define MEMP_STATS	   1
#define SYS_STATS	   0 /* no semaphores or mailboxes with NO_SYS */
/* 32-bit counters: lwIP's default 16-bit ones wrap within seconds of a
 * flood, and /stats then shows numbers that go down. */
#define LWIP_STATS_LARGE 1

/* ---- Hooks (lwip-port/lwip_hooks.h) -------------------------------------- */

#define LWIP_HOOK_FILENAME "lwip-port/lwip_hooks.h"
/* RFC 6528 initial sequence numbers instead of lwIP's global counter. */
#define LWIP_HOOK_TCP_ISN(lip, lport, rip, rport)                              \
	skiff_tcp_isn(lip, lport, rip, rport)
/* Socket filters (sockfilter.h), then the SYN-flood guard: bounded
 * half-open connections per listener. */
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p)         \
	skiff_tcp_inpacket(pcb, hdr, optlen, opt1len, opt2, p)

#endif
