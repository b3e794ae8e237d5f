/* TCP + UDP echo on port 7 for the Linux guest of the benchmark: the same
 * service Skiff runs, on one thread with epoll. Built `gcc -static -O2` by
 * tests/bench/linux_guest.py and started by the initramfs's /init.
 *
 * TCP: every readable byte is written back; if the socket cannot take it
 * all at once the rest is kept and EPOLLOUT is armed until it drains (no
 * new reads meanwhile, so memory per connection stays bounded).
 * UDP: each datagram is sent back to its sender. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PORT  7
#define BUFSZ 65536
#define MAXFD 4096

struct conn {
	char *buf;
	size_t len, off; /* pending bytes [off, len) */
};

static struct conn conns[MAXFD];

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int bound(int type)
{
	int fd = socket(AF_INET, type, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("bind");
		exit(1);
	}
	nonblock(fd);
	return fd;
}

static void drop(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(conns[fd].buf);
	conns[fd].buf = NULL;
}

/* Writes what is pending; returns 0 when drained, 1 when blocked, -1 on error.
 */
static int flush(int fd)
{
	struct conn *c = &conns[fd];
	while (c->off < c->len) {
		ssize_t n = write(fd, c->buf + c->off, c->len - c->off);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->off += (size_t)n;
	}
	c->off = c->len = 0;
	return 0;
}

int main(void)
{
	static char ubuf[BUFSZ];
	int one = 1;
	int tl = bound(SOCK_STREAM), ul = bound(SOCK_DGRAM);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};

	if (listen(tl, 128) < 0) {
		perror("listen");
		return 1;
	}
	ev.data.fd = tl;
	epoll_ctl(ep, EPOLL_CTL_ADD, tl, &ev);
	ev.data.fd = ul;
	epoll_ctl(ep, EPOLL_CTL_ADD, ul, &ev);
	printf("echo_server: tcp+udp port %d\n", PORT);
	fflush(stdout);

	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == tl) {
				int c;
				while ((c = accept(tl, NULL, NULL)) >= 0) {
					if (c >= MAXFD) {
						close(c);
						continue;
					}
					nonblock(c);
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY,
						   &one, sizeof one);
					conns[c].buf = malloc(BUFSZ);
					conns[c].len = conns[c].off = 0;
					struct epoll_event cev = {
					    .events = EPOLLIN, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				}
			} else if (fd == ul) {
				for (int k = 0; k < 64; k++) {
					struct sockaddr_in from;
					socklen_t fl = sizeof from;
					ssize_t r = recvfrom(
					    ul, ubuf, sizeof ubuf, 0,
					    (struct sockaddr *)&from, &fl);
					if (r < 0)
						break;
					sendto(ul, ubuf, (size_t)r, 0,
					       (struct sockaddr *)&from, fl);
				}
			} else if (evs[i].events & EPOLLOUT) {
				int r = flush(fd);
				if (r < 0) {
					drop(ep, fd);
				} else if (r == 0) {
					struct epoll_event cev = {
					    .events = EPOLLIN, .data.fd = fd};
					epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
				}
			} else {
				struct conn *c = &conns[fd];
				ssize_t r = read(fd, c->buf, BUFSZ);
				if (r == 0 || (r < 0 && errno != EAGAIN &&
					       errno != EINTR)) {
					drop(ep, fd);
					continue;
				}
				if (r < 0)
					continue;
				c->off = 0;
				c->len = (size_t)r;
				int f = flush(fd);
				if (f < 0) {
					drop(ep, fd);
				} else if (f == 1) {
					struct epoll_event cev = {
					    .events = EPOLLOUT, .data.fd = fd};
					epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
				}
			}
		}
	}
}
