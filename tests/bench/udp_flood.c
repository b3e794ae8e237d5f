/* The bench's UDP load for the XDP reflect and drop rates: FLOWS connected
 * UDP sockets (one source port each, so the tap and RSS spread them over
 * the guest's queues) send SIZE-byte datagrams to IP:PORT for SECONDS,
 * BATCH at a time per sendmmsg(2), round-robin, as fast as the socket
 * buffers take them; every reply is counted (recvmmsg, non-blocking), and
 * for DRAIN_MS after the last send. Prints one JSON line: sent, received,
 * seconds and the rates, as tests/bench/udp_blast.py (the tests' Python
 * load, which tops out near 100k datagrams/s: below what the guests take).
 *
 *     udp_flood IP PORT FLOWS SECONDS [SIZE]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FLOWS   1024
#define MAX_SECONDS 120
#define BATCH	    32
#define DRAIN_MS    500

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Replies waiting on s, counted and discarded. */
static unsigned long drain(int s)
{
	static char bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned long got = 0;
	int n;

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
		msgs[i] = (struct mmsghdr){
		    .msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	while ((n = recvmmsg(s, msgs, BATCH, MSG_DONTWAIT, NULL)) > 0)
		got += (unsigned long)n;
	return got;
}

static long arg(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == 0 || *end != 0 || v < lo || v > hi) {
		fprintf(stderr, "udp_flood: %s must be %ld..%ld\n", what, lo,
			hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static char payload[1472];
	static int socks[MAX_FLOWS];
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	unsigned long sent = 0, received = 0;
	long flows, seconds, size = 64;

	if (argc != 5 && argc != 6) {
		fprintf(stderr,
			"usage: udp_flood IP PORT FLOWS SECONDS [SIZE]\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "udp_flood: bad IPv4 address %s\n", argv[1]);
		return 2;
	}
	to.sin_port = htons((uint16_t)arg(argv[2], 1, 65535, "port"));
	flows = arg(argv[3], 1, MAX_FLOWS, "flows");
	seconds = arg(argv[4], 1, MAX_SECONDS, "seconds");
	if (argc == 6)
		size = arg(argv[5], 1, sizeof(payload), "size");
	memset(payload, 0x5a, sizeof(payload));
	iov = (struct iovec){payload, (size_t)size};
	for (int i = 0; i < BATCH; i++)
		msgs[i] = (struct mmsghdr){
		    .msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};
	for (long i = 0; i < flows; i++) {
		socks[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (socks[i] < 0 ||
		    connect(socks[i], (struct sockaddr *)&to, sizeof(to)) < 0) {
			perror("udp_flood: socket");
			return 1;
		}
	}

	double t0 = now(), end = t0 + (double)seconds, t;
	while ((t = now()) < end) {
		for (long i = 0; i < flows; i++) {
			int n = sendmmsg(socks[i], msgs, BATCH, MSG_DONTWAIT);

			/* A full socket buffer or an ICMP error from an earlier
			 * datagram: neither ends the load. */
			if (n > 0)
				sent += (unsigned long)n;
			else if (errno != EAGAIN && errno != ECONNREFUSED &&
				 errno != ENOBUFS) {
				perror("udp_flood: sendmmsg");
				return 1;
			}
			received += drain(socks[i]);
		}
	}
	double elapsed = now() - t0;

	struct pollfd pfd[MAX_FLOWS];
	for (long i = 0; i < flows; i++)
		pfd[i] = (struct pollfd){.fd = socks[i], .events = POLLIN};
	double drain_end = now() + DRAIN_MS / 1000.0;
	while (now() < drain_end) {
		if (poll(pfd, (nfds_t)flows, 50) <= 0)
			continue;
		for (long i = 0; i < flows; i++)
			if (pfd[i].revents)
				received += drain(socks[i]);
	}
	for (long i = 0; i < flows; i++)
		close(socks[i]);
	printf("{\"sent\": %lu, \"received\": %lu, \"seconds\": %.3f, "
	       "\"sent_pps\": %.1f, \"received_pps\": %.1f}\n",
	       sent, received, elapsed, sent / elapsed, received / elapsed);
	return 0;
}
