/* Round-trip client of the benchmark, run inside the bench's namespace.
 *
 *   rtt_client tcp  HOST PORT SIZE COUNT DEADLINE_S [SAMPLES_FILE]
 *   rtt_client udp  HOST PORT SIZE COUNT DEADLINE_S [SAMPLES_FILE]
 *   rtt_client wait HOST PORT DEADLINE_S
 *   rtt_client churn-echo|churn-http HOST PORT COUNT WINDOW DEADLINE_S
 *
 * tcp: one connection (TCP_NODELAY), SIZE bytes written, SIZE bytes read
 * back, COUNT times after 20 warm-up rounds. udp: one datagram of SIZE
 * bytes, the reply awaited up to 500 ms (a sequence number in the payload
 * drops late replies; a lost one is counted, not timed). Both stop at
 * DEADLINE_S seconds whatever COUNT says, and print one JSON line:
 * {"n":..,"lost":..,"p50_us":..,"p90_us":..,"p99_us":..,"max_us":..,"mean_us":..}
 * SAMPLES_FILE gets every round trip in microseconds, one per line.
 *
 * wait: until the deadline, connect (100 ms per try), send 64 bytes and
 * read them back (300 ms); prints the CLOCK_REALTIME of the first answered
 * echo as {"answered_at":<seconds>}, exit 0; exit 1 at the deadline.
 *
 * churn-*: COUNT new connections one after the other, each connect, one
 * exchange, close: churn-echo writes 64 bytes, reads them back and closes
 * (the client closes first); churn-http sends GET / with "Connection:
 * close" and reads until the server closes (the server closes first, so
 * TIME_WAIT is the guest's). 5 s per step. Prints one JSON line:
 * {"done":..,"failed":..,"elapsed_s":..,"window":W,"rates":[conn/s of each
 * full window of W connections]}. Stops at DEADLINE_S or after 100 failed
 * connections in a row. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *s, int n, double p)
{
	int i = (int)(p / 100.0 * n + 0.5) - 1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return s[i];
}

/* Waits for fd to be ready for events; returns 1 ready, 0 timeout. */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

/* Reads exactly len bytes with a timeout; 0 ok, -1 error/timeout. */
static int read_full(int fd, char *buf, size_t len, int ms)
{
	size_t got = 0;
	while (got < len) {
		if (!wait_fd(fd, POLLIN, ms))
			return -1;
		ssize_t r = read(fd, buf + got, len - got);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const char *buf, size_t len, int ms)
{
	size_t off = 0;
	while (off < len) {
		if (!wait_fd(fd, POLLOUT, ms))
			return -1;
		ssize_t r = write(fd, buf + off, len - off);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)r;
	}
	return 0;
}

/* Non-blocking connect with a timeout; returns the fd or -1. */
static int connect_to(struct sockaddr_in *a, int ms)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, err = 0;
	socklen_t el = sizeof err;
	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)a, sizeof *a) < 0 &&
	    errno != EINPROGRESS)
		goto fail;
	if (!wait_fd(fd, POLLOUT, ms))
		goto fail;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static int do_wait(struct sockaddr_in *a, double deadline_s)
{
	double end = now(CLOCK_MONOTONIC) + deadline_s;
	char out[64], in[64];
	memset(out, 'w', sizeof out);
	while (now(CLOCK_MONOTONIC) < end) {
		double t = now(CLOCK_MONOTONIC);
		int fd = connect_to(a, 100);
		if (fd >= 0) {
			int ok = write_full(fd, out, sizeof out, 300) == 0 &&
				 read_full(fd, in, sizeof in, 300) == 0 &&
				 memcmp(in, out, sizeof in) == 0;
			double at = now(CLOCK_REALTIME);
			close(fd);
			if (ok) {
				printf("{\"answered_at\":%.6f}\n", at);
				return 0;
			}
		}
		/* Refused at once (guest up, service not yet): pace the
		 * retries. */
		double spent = now(CLOCK_MONOTONIC) - t;
		if (spent < 0.02)
			usleep((useconds_t)((0.02 - spent) * 1e6));
	}
	fprintf(stderr, "rtt_client: no echo within %.0f s\n", deadline_s);
	return 1;
}

/* One connection of a churn run; 0 when the exchange completed. */
static int churn_one(const struct sockaddr_in *a, int http)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: bench\r\n"
				  "Connection: close\r\n\r\n";
	char buf[4096], out[64];
	struct timeval tv = {.tv_sec = 5};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ok = -1;
	size_t got = 0;
	ssize_t r;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)a, sizeof *a) < 0)
		goto out;
	if (http) {
		if (send(fd, get, sizeof get - 1, 0) !=
		    (ssize_t)(sizeof get - 1))
			goto out;
		while ((r = recv(fd, buf, sizeof buf, 0)) > 0)
			got += (size_t)r;
		/* EOF after a response that starts like one. */
		ok = (r == 0 && got > 12) ? 0 : -1;
	} else {
		memset(out, 'c', sizeof out);
		if (send(fd, out, sizeof out, 0) != (ssize_t)sizeof out)
			goto out;
		while (got < sizeof out &&
		       (r = recv(fd, buf, sizeof out - got, 0)) > 0)
			got += (size_t)r;
		ok = got == sizeof out ? 0 : -1;
	}
out:
	close(fd);
	return ok;
}

static int do_churn(const struct sockaddr_in *a, int http, long count,
		    long window, double deadline_s)
{
	double start = now(CLOCK_MONOTONIC), w0 = start;
	double end = start + deadline_s;
	long done = 0, failed = 0, streak = 0, in_window = 0;

	if (count < 1 || window < 1)
		return 2;
	printf("{\"window\":%ld,\"rates\":[", window);
	while (done < count && streak < 100 && now(CLOCK_MONOTONIC) < end) {
		if (churn_one(a, http) == 0) {
			done++;
			streak = 0;
			if (++in_window == window) {
				double t = now(CLOCK_MONOTONIC);
				printf("%s%.1f", done > window ? "," : "",
				       window / (t - w0));
				fflush(stdout);
				w0 = t;
				in_window = 0;
			}
		} else {
			failed++;
			streak++;
		}
	}
	printf("],\"done\":%ld,\"failed\":%ld,\"elapsed_s\":%.2f}\n", done,
	       failed, now(CLOCK_MONOTONIC) - start);
	return done ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(
		    stderr,
		    "usage: rtt_client tcp|udp HOST PORT SIZE COUNT "
		    "DEADLINE_S [SAMPLES]\n       rtt_client wait HOST PORT "
		    "DEADLINE_S\n");
		return 2;
	}
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)atoi(argv[3]))};
	if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) {
		fprintf(stderr, "rtt_client: bad address %s\n", argv[2]);
		return 2;
	}
	if (!strcmp(argv[1], "wait"))
		return do_wait(&a, atof(argv[4]));
	if (!strncmp(argv[1], "churn-", 6) && argc >= 7)
		return do_churn(&a, !strcmp(argv[1], "churn-http"),
				atol(argv[4]), atol(argv[5]), atof(argv[6]));
	if (argc < 7)
		return 2;
	int udp = !strcmp(argv[1], "udp");
	size_t size = (size_t)atoi(argv[4]);
	int count = atoi(argv[5]);
	double end = now(CLOCK_MONOTONIC) + atof(argv[6]);
	if (size < 8)
		size = 8;
	if (size > 65000 || count < 1)
		return 2;
	char *out = malloc(size), *in = malloc(size + 1);
	double *s = malloc(sizeof(double) * (size_t)count);
	memset(out, 'x', size);
	int fd, n = 0, lost = 0, warm = 20;

	if (udp) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
			perror("connect");
			return 1;
		}
	} else {
		fd = connect_to(&a, 3000);
		if (fd < 0) {
			fprintf(stderr, "rtt_client: cannot connect\n");
			return 1;
		}
	}
	for (uint32_t seq = 0; n < count && now(CLOCK_MONOTONIC) < end; seq++) {
		memcpy(out, &seq, sizeof seq);
		double t0 = now(CLOCK_MONOTONIC);
		if (udp) {
			if (send(fd, out, size, 0) < 0) {
				lost++;
				usleep(1000);
				continue;
			}
			int got = 0;
			for (;;) {
				int left =
				    (int)(500 -
					  (now(CLOCK_MONOTONIC) - t0) * 1e3);
				if (left <= 0 || !wait_fd(fd, POLLIN, left))
					break;
				ssize_t r = recv(fd, in, size + 1, 0);
				if (r == (ssize_t)size &&
				    !memcmp(in, &seq, sizeof seq)) {
					got = 1;
					break;
				}
			}
			if (!got) {
				if (!warm)
					lost++;
				continue;
			}
		} else {
			if (write_full(fd, out, size, 3000) < 0 ||
			    read_full(fd, in, size, 3000) < 0 ||
			    memcmp(in, out, size)) {
				fprintf(
				    stderr,
				    "rtt_client: tcp echo failed after %d\n",
				    n);
				break;
			}
		}
		double dt = (now(CLOCK_MONOTONIC) - t0) * 1e6;
		if (warm) {
			warm--;
			continue;
		}
		s[n++] = dt;
	}
	close(fd);
	if (n == 0) {
		fprintf(stderr, "rtt_client: no samples\n");
		return 1;
	}
	if (argc > 7) {
		FILE *f = fopen(argv[7], "w");
		if (f) {
			for (int i = 0; i < n; i++)
				fprintf(f, "%.1f\n", s[i]);
			fclose(f);
		}
	}
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += s[i];
	qsort(s, (size_t)n, sizeof *s, cmp);
	printf("{\"n\":%d,\"lost\":%d,\"p50_us\":%.1f,\"p90_us\":%.1f,"
	       "\"p99_us\":%.1f,\"max_us\":%.1f,\"mean_us\":%.1f}\n",
	       n, lost, pct(s, n, 50), pct(s, n, 90), pct(s, n, 99), s[n - 1],
	       sum / n);
	return 0;
}
