"""Echo service tests (RFC 862, TCP and UDP port 7) through QEMU's user
network, one guest per receive mode (net.mode=irq, poll, hybrid) running
every check in turn: TCP echo of 1 B, 1460 B, 64 KiB and 1 MiB byte-exact;
32 concurrent connections of 16 KiB each; half-close; a client that stops
reading for two seconds while sending 1 MiB, and one sending 8 MiB, enough
to get past the host's buffers and fill the guest's (checked on the heap
high-water mark); 500 sequential connections; UDP echo of 1 B and 1472 B;
and afterwards the guest's heap, pbuf and TCP PCB counters back at their
idle values.

Ping is not tested here: slirp does not forward ICMP to the guest (the
tap tests cover it). QEMU's hostfwd listens with backlog 1, so
connections are opened one at a time, even those used concurrently.

Guest console lines relied on (net.stats=1 prints the stats line every
second):
  "net: en0 up, address 10.0.2.15/24 gateway 10.0.2.2 (DHCP)"
  "echo: TCP and UDP port 7, up to 200 connections, ..."
  "stats: heap_in_use=N heap_peak=N pbuf_in_use=N tcp_active=N"
"""
import os
import re
import selectors
import socket
import threading
import time

# harness puts tools/ on sys.path and imports skiffqemu from there.
from harness import Guest, TestFailure, expect, skiffqemu, test

# Each pattern ends at a newline so that a line still being written to the
# log is never matched with a truncated number.
UP = r"net: \w+ up, address (\d+\.\d+\.\d+\.\d+)[^\n]*\n"
ECHO_READY = r"echo: TCP and UDP port 7[^\n]*\n"
# heap_peak is optional: only the back-pressure check needs it.
STATS = (r"stats: heap_in_use=(\d+)\b(?: heap_peak=(\d+)\b)?[^\n]*?"
         r"\bpbuf_in_use=(\d+)\b[^\n]*?\btcp_active=(\d+)\b[^\n]*\n")

HOST = "127.0.0.1"
IO_TIMEOUT = 30         # any single socket operation
TRANSFER_TIMEOUT = 180  # one whole exchange (TCG is slow)


class Stats:
    """One stats line; peak is None when the line has no heap_peak."""

    def __init__(self, m, offset):
        self.heap = int(m.group(1))
        self.peak = int(m.group(2)) if m.group(2) else None
        self.pbufs = int(m.group(3))
        self.tcp = int(m.group(4))
        self.end = offset + m.end()  # log offset just after the line

    def idle_values(self):
        return (self.heap, self.pbufs, self.tcp)


def stats_after(g, offset):
    """Every complete stats line after log offset, oldest first."""
    return [Stats(m, offset) for m in re.finditer(STATS, g.log()[offset:])]


def next_stats(g, offset, timeout=10):
    """The first stats line after offset, waiting for it; None if none."""
    deadline = time.time() + timeout
    while time.time() < deadline and g.proc.poll() is None:
        lines = stats_after(g, offset)
        if lines:
            return lines[0]
        time.sleep(0.2)
    return None


def idle_baseline(g, offset, timeout=20):
    """The counters once idle: two stats lines in a row with the same heap,
    pbuf and PCB values (a frame still in flight would show as a
    difference). Returns the second line, or None."""
    deadline = time.time() + timeout
    while time.time() < deadline and g.proc.poll() is None:
        lines = stats_after(g, offset)
        for a, b in zip(lines, lines[1:]):
            if a.idle_values() == b.idle_values():
                return b
        time.sleep(0.5)
    return None


def connect(port, bufsize=None):
    """A connected TCP socket. bufsize shrinks the kernel's socket buffers
    (set before connecting, so the window is announced that small): with
    Linux's default autotuning the host would swallow a whole 1 MiB echo
    and a client that stops reading would never push back on the guest."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if bufsize:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, bufsize)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, bufsize)
        s.settimeout(IO_TIMEOUT)
        s.connect((HOST, port))
    except OSError:
        s.close()
        raise
    return s


def exchange(sock, payload, half_close=False, pause_read=0.0,
             timeout=TRANSFER_TIMEOUT):
    """Sends payload on a connected socket while reading the echo (one
    thread, non-blocking, so a large transfer cannot deadlock on full
    buffers). pause_read: the first seconds read nothing (the client
    "stops reading" while it keeps sending). half_close: shutdown(SHUT_WR)
    after the last byte and read until EOF; otherwise read exactly
    len(payload) bytes. Closes the socket; returns the bytes received."""
    got = bytearray()
    sent = 0
    eof = False
    start = time.monotonic()
    deadline = start + timeout
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    registered = selectors.EVENT_READ | selectors.EVENT_WRITE
    try:
        if half_close and not payload:
            sock.shutdown(socket.SHUT_WR)
        while True:
            if eof or (not half_close and len(got) >= len(payload)):
                break
            now = time.monotonic()
            if now > deadline:
                raise TestFailure(
                    "echo timed out after %.0fs: sent %d of %d, got %d"
                    % (timeout, sent, len(payload), len(got)))
            want = 0
            if sent < len(payload):
                want |= selectors.EVENT_WRITE
            if now >= start + pause_read:
                want |= selectors.EVENT_READ
            if not want:
                # Everything sent, still pausing before reading.
                time.sleep(0.05)
                continue
            if want != registered:
                sel.modify(sock, want)
                registered = want
            for _, ev in sel.select(timeout=0.2):
                if ev & selectors.EVENT_WRITE and sent < len(payload):
                    try:
                        sent += sock.send(payload[sent:sent + 65536])
                    except BlockingIOError:
                        pass
                    if sent == len(payload) and half_close:
                        sock.shutdown(socket.SHUT_WR)
                if ev & selectors.EVENT_READ:
                    try:
                        chunk = sock.recv(65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        eof = True
                    else:
                        got.extend(chunk)
    except ConnectionError as e:
        raise TestFailure("connection failed after sending %d of %d bytes, "
                          "receiving %d: %s" % (sent, len(payload), len(got),
                                                e))
    finally:
        sel.close()
        sock.close()
    return bytes(got)


def same(payload, got, what):
    if got == payload:
        return
    if len(got) != len(payload):
        raise TestFailure("%s: sent %d bytes, got %d back"
                          % (what, len(payload), len(got)))
    first = next(i for i in range(len(got)) if got[i] != payload[i])
    raise TestFailure("%s: %d bytes back but they differ from byte %d"
                      % (what, len(got), first))


def check_sizes(port):
    for size in (1, 1460, 64 * 1024, 1024 * 1024):
        data = os.urandom(size)
        same(data, exchange(connect(port), data), "tcp echo of %d B" % size)


def connect_confirmed(port):
    """connect(), then one byte echoed: slirp has accepted the connection
    and reached the guest before the next connect. Back-to-back connects
    overflow hostfwd's backlog of 1 and cost a SYN retransmit (1 s)."""
    s = connect(port)
    try:
        s.sendall(b"!")
        if s.recv(1) != b"!":
            raise TestFailure("first byte not echoed")
    except BaseException:
        s.close()
        raise
    return s


def check_concurrent(port, conns=32, size=16 * 1024):
    # Opened one at a time; all open before any of them carries data.
    socks = []
    try:
        for _ in range(conns):
            socks.append(connect_confirmed(port))
    except BaseException:
        for s in socks:
            s.close()
        raise
    payloads = [os.urandom(size) for _ in range(conns)]
    errors = [None] * conns

    def run(i):
        try:
            same(payloads[i], exchange(socks[i], payloads[i]),
                 "connection %d of %d" % (i + 1, conns))
        except Exception as e:  # reported below, from the test's thread
            errors[i] = "%s: %s" % (type(e).__name__, e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TRANSFER_TIMEOUT + 10)
    stuck = sum(1 for t in threads if t.is_alive())
    if stuck:
        raise TestFailure("%d of %d concurrent connections never finished"
                          % (stuck, conns))
    bad = [e for e in errors if e]
    if bad:
        raise TestFailure("%d of %d concurrent connections failed; first: %s"
                          % (len(bad), conns, bad[0]))


# Through slirp a client that stops reading is first absorbed by the host:
# slirp's sockets autotune their kernel buffers to megabytes. With 16 KiB
# client buffers about 5 MB in flight fill everything on the host side;
# 8 MiB is sure to back up into the guest.
BACKPRESSURE_BYTES = 8 * 1024 * 1024
SMALL_BUF = 16 * 1024


def check_half_close(port):
    # Reading starts late, so the guest still has data queued when our FIN
    # reaches it; its FIN must come after every byte.
    data = os.urandom(BACKPRESSURE_BYTES)
    same(data, exchange(connect(port, bufsize=SMALL_BUF), data,
                        half_close=True, pause_read=2.0),
         "half-close (read until EOF)")


def check_stalled_reader(port):
    data = os.urandom(1024 * 1024)
    same(data, exchange(connect(port), data, pause_read=2.0),
         "client that stopped reading for 2 s while sending 1 MiB")


def check_backpressure(g, port, idle):
    """A client that stops reading long enough for the guest to feel it:
    byte-exact afterwards, and the guest's heap high-water mark shows its
    send buffer filled (lwIP's send buffer is 128 KiB of heap pbufs, and
    echo's held chunks come on top)."""
    data = os.urandom(BACKPRESSURE_BYTES)
    same(data, exchange(connect(port, bufsize=SMALL_BUF), data,
                        pause_read=2.0),
         "client that stopped reading for 2 s while sending 8 MiB")
    if idle.peak is None:
        return  # the stats line has no heap_peak: nothing to look at
    after = next_stats(g, len(g.log()))
    if not after:
        raise TestFailure("no stats line after the stalled client")
    grew = after.peak - idle.heap
    # Half of lwIP's 128 KiB send buffer is enough to show the guest held
    # data instead of the host's socket buffers absorbing it all; how much
    # more depends on timing (seen: 100-230 KiB).
    if grew < 64 * 1024:
        raise TestFailure("the stalled client never filled the guest's send "
                          "buffer: heap peak only %d bytes above idle" % grew)


def check_sequential(port, count=500, timeout=300):
    deadline = time.monotonic() + timeout
    for i in range(count):
        if time.monotonic() > deadline:
            raise TestFailure("sequential connections: only %d of %d in %ds"
                              % (i, count, timeout))
        data = os.urandom(10)
        got = bytearray()
        try:
            with connect(port) as s:
                s.sendall(data)
                while len(got) < len(data):
                    chunk = s.recv(64)
                    if not chunk:
                        break
                    got.extend(chunk)
        except OSError as e:
            raise TestFailure("sequential connection %d of %d: %s"
                              % (i + 1, count, e))
        same(data, bytes(got), "sequential connection %d of %d"
             % (i + 1, count))


def check_udp(port):
    for size in (1, 1472):
        data = os.urandom(size)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            # slirp may drop a datagram; a few tries are allowed.
            for _attempt in range(5):
                s.sendto(data, (HOST, port))
                try:
                    reply, _ = s.recvfrom(65536)
                except socket.timeout:
                    continue
                same(data, reply, "udp echo of %d B" % size)
                break
            else:
                raise TestFailure("udp echo of %d B: no reply in 5 tries"
                                  % size)


def check_no_leak(g, idle, offset, timeout=30):
    """After the tests (TIME_WAIT lasts 2 s) a stats line must show the
    idle heap and pbuf values again and no TCP PCB in use."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline and g.proc.poll() is None:
        for line in stats_after(g, offset):
            last = line
            if line.heap == idle.heap and line.pbufs == idle.pbufs and \
                    line.tcp == 0:
                return
        time.sleep(0.5)
    expect(last, "no stats line after the tests", g)
    expect(False, "counters not back to idle within %ds: heap_in_use %d "
           "(idle %d), pbuf_in_use %d (idle %d), tcp_active %d (want 0)"
           % (timeout, last.heap, idle.heap, last.pbufs, idle.pbufs,
              last.tcp), g)


def echo_suite(mode):
    port = skiffqemu.free_port()
    g = Guest("echo-user-" + mode, net="user",
              cmdline="net.mode=%s net.stats=1" % mode,
              hostfwd=[("tcp", port, 7), ("udp", port, 7)])
    with g:
        m = g.wait_for(UP, timeout=120)
        expect(m, "interface never came up (no DHCP answer)", g)
        expect(m.group(1) == "10.0.2.15",
               "address %s: hostfwd only reaches 10.0.2.15" % m.group(1), g)
        ready = g.wait_for(ECHO_READY, timeout=30)
        expect(ready, "echo service did not start", g)
        idle = idle_baseline(g, ready.end())
        expect(idle, "no two equal stats lines while idle (net.stats=1)", g)
        expect(idle.tcp == 0, "TCP PCBs in use before any connection", g)
        checks = (
            # First, while the heap high-water mark is still the idle one.
            ("backpressure", lambda: check_backpressure(g, port, idle)),
            ("sizes", lambda: check_sizes(port)),
            ("concurrent", lambda: check_concurrent(port)),
            ("half_close", lambda: check_half_close(port)),
            ("stalled_reader", lambda: check_stalled_reader(port)),
            ("sequential", lambda: check_sequential(port)),
            ("udp", lambda: check_udp(port)),
        )
        for name, check in checks:
            try:
                check()
            except (TestFailure, OSError) as e:
                expect(False, "%s (net.mode=%s): %s" % (name, mode, e), g)
        check_no_leak(g, idle, len(g.log()))


@test
def echo_user_irq():
    echo_suite("irq")


@test
def echo_user_poll():
    echo_suite("poll")


@test
def echo_user_hybrid():
    echo_suite("hybrid")
