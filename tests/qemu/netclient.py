#!/usr/bin/env python3
"""Small network client for tests that must run inside a namespace
(`ip netns exec NS python3 netclient.py ...`). Prints one line: "ok ..."
or "fail ...", exit status 0/1. Every socket has a timeout.

    netclient.py tcp-echo HOST PORT SIZE
    netclient.py udp-echo HOST PORT SIZE
    netclient.py udp-burst HOST PORT COUNT
    netclient.py udp-flows HOST PORT COUNT   (COUNT source ports, each echoed)
    netclient.py udp-flows-some HOST PORT COUNT  (ok when any answers in 3 s)
    netclient.py http-get HOST PORT PATH      (prints "ok <body>")
    netclient.py tcp-connects HOST PORT COUNT (COUNT new connections, each
                                               echoes 16 bytes in 5 s)
    netclient.py tcp-isn HOST PORT COUNT      (root: raw sockets)
    netclient.py syn-flood HOST PORT COUNT    (root: raw sockets)
"""
import os
import socket
import sys
import threading
import time


def tcp_echo(host, port, size):
    data = os.urandom(size)
    s = socket.create_connection((host, port), timeout=20)
    s.settimeout(20)
    got = bytearray()

    def reader():
        while len(got) < size:
            chunk = s.recv(65536)
            if not chunk:
                break
            got.extend(chunk)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    t.join(60)
    s.close()
    if bytes(got) != data:
        return "fail tcp echo: sent %d, got %d bytes%s" % (
            size, len(got), "" if len(got) != size else " (content differs)")
    return "ok tcp echo %d bytes" % size


def tcp_connects(host, port, count):
    """COUNT connections one after another, each from a new source port
    (so the tap and RSS spread them over the queues), each must connect
    and echo 16 bytes within 5 s: a SYN the guest never sees costs the
    client a 1 s retransmit, one it never will, the whole 5 s."""
    slowest = 0.0
    for i in range(count):
        t0 = time.monotonic()
        try:
            s = socket.create_connection((host, port), timeout=5)
            s.settimeout(5)
            s.sendall(b"0123456789abcdef")
            got = b""
            while len(got) < 16:
                chunk = s.recv(16 - len(got))
                if not chunk:
                    break
                got += chunk
            s.close()
        except OSError as e:
            return "fail tcp connect %d of %d: %s" % (i + 1, count, e)
        if got != b"0123456789abcdef":
            return "fail tcp connect %d of %d: echo %r" % (i + 1, count, got)
        slowest = max(slowest, time.monotonic() - t0)
    return "ok %d connections, slowest %.3f s" % (count, slowest)


def udp_echo(host, port, size):
    data = os.urandom(size)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    for attempt in range(5):
        s.sendto(data, (host, port))
        try:
            reply, _ = s.recvfrom(65536)
        except socket.timeout:
            continue
        if reply == data:
            return "ok udp echo %d bytes (attempt %d)" % (size, attempt + 1)
        return "fail udp echo: reply differs (%d bytes)" % len(reply)
    return "fail udp echo: no reply in 5 tries"


def udp_flows(host, port, count):
    """count sockets, so count source ports (flows): each sends its own
    payload and must get exactly it back."""
    socks = []
    try:
        for i in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            s.bind(("", 0))
            socks.append(s)
        for i, s in enumerate(socks):
            data = b"flow-%d-" % i + os.urandom(32)
            for attempt in range(5):
                s.sendto(data, (host, port))
                try:
                    reply, _ = s.recvfrom(65536)
                except socket.timeout:
                    continue
                if reply != data:
                    return "fail udp flow %d: reply differs" % i
                break
            else:
                return "fail udp flow %d: no reply in 5 tries" % i
        return "ok %d udp flows echoed" % count
    finally:
        for s in socks:
            s.close()


def udp_flows_some(host, port, count):
    """count flows send once each; ok when at least one is answered
    byte-exact within 3 s (the others may sit on a busy CPU's queue)."""
    import select
    import time
    socks, sent = [], {}
    try:
        for i in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("", 0))
            data = b"some-%d-" % i + os.urandom(16)
            s.sendto(data, (host, port))
            socks.append(s)
            sent[s] = data
        answered = set()
        deadline = time.time() + 3
        while time.time() < deadline and len(answered) < count:
            ready, _, _ = select.select(socks, [], [], 0.2)
            for s in ready:
                reply, _ = s.recvfrom(65536)
                if reply != sent[s]:
                    return "fail udp flow: reply differs"
                answered.add(s)
        if not answered:
            return "fail none of %d udp flows answered in 3 s" % count
        return "ok %d of %d udp flows answered" % (len(answered), count)
    finally:
        for s in socks:
            s.close()


def http_get(host, port, path):
    s = socket.create_connection((host, port), timeout=20)
    s.settimeout(20)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
              % path.encode())
    data = bytearray()
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data.extend(chunk)
    s.close()
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        return "fail http %s: %r" % (path, head[:80])
    return "ok " + body.decode(errors="replace")


def udp_burst(host, port, count, size=64):
    """Sends count datagrams of size bytes back to back (no waiting for
    replies) and expects every one echoed byte-exact: each carries its
    sequence number, so a lost or corrupted reply is named."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Room for the whole burst of replies (root may exceed rmem_max).
    for opt in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        if opt is None:
            continue
        try:
            s.setsockopt(socket.SOL_SOCKET, opt, 8 << 20)
            break
        except OSError:
            continue
    s.connect((host, port))
    sent = {}
    for i in range(count):
        body = i.to_bytes(4, "big") + os.urandom(size - 4)
        sent[i] = body
        s.send(body)
    got, bad = set(), 0
    s.settimeout(3)
    while len(got) < count:
        try:
            reply = s.recv(65536)
        except socket.timeout:
            break
        i = int.from_bytes(reply[:4], "big")
        if sent.get(i) != reply:
            bad += 1
        else:
            got.add(i)
    s.close()
    if len(got) != count or bad:
        missing = sorted(set(range(count)) - got)
        return "fail udp burst: %d of %d replies, %d bad, missing %s" % (
            len(got), count, bad, missing[:10])
    return "ok udp burst %d x %d bytes" % (count, size)


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big")
            for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp_isn(host, port, count):
    """Sends count bare SYNs from distinct source ports and prints the ISNs
    of the SYN-ACKs (the kernel then resets each half-open connection).
    Checks RFC 6528's property: no ISN is close to the previous one."""
    import struct
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect((host, port))
    src = probe.getsockname()[0]
    probe.close()
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    raw.settimeout(3)
    isns = []
    base = 40000 + os.getpid() % 10000
    for i in range(count):
        sport = base + i
        hdr = struct.pack("!HHIIBBHHH", sport, port, 1000 + i, 0, 5 << 4,
                          0x02, 64240, 0, 0)
        pseudo = (socket.inet_aton(src) + socket.inet_aton(host) +
                  struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(hdr)))
        hdr = hdr[:16] + struct.pack("!H", _csum(pseudo + hdr)) + hdr[18:]
        raw.sendto(hdr, (host, 0))
        while True:
            try:
                pkt = raw.recv(65536)
            except socket.timeout:
                return "fail tcp isn: no SYN-ACK for port %d" % sport
            ihl = (pkt[0] & 15) * 4
            tsport, tdport, seq, _ack, _off, flags = struct.unpack(
                "!HHIIBB", pkt[ihl:ihl + 14])
            if tsport == port and tdport == sport and flags & 0x12 == 0x12:
                isns.append(seq)
                break
    close = sum(1 for a, b in zip(isns, isns[1:])
                if min((b - a) % 2**32, (a - b) % 2**32) < 65536)
    if close:
        return "fail tcp isn: %d of %d steps small: %s" % (
            close, count - 1, isns[:8])
    return "ok tcp isn %d SYN-ACKs, no two close: %s" % (count, isns[:4])


def syn_flood(host, port, count):
    """Sends count SYNs to host:port from spoofed sources .100-.250 of the
    host's /24 (addresses nobody answers ARP for, inside the test's own
    namespace), each from a random port: half-open connections that will
    never complete."""
    import random
    import struct
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    prefix = host.rsplit(".", 1)[0] + "."
    dst = socket.inet_aton(host)
    for i in range(count):
        src = socket.inet_aton(prefix + str(100 + i % 151))
        sport = random.randint(1024, 65535)
        tcp = struct.pack("!HHIIBBHHH", sport, port, random.getrandbits(32),
                          0, 5 << 4, 0x02, 64240, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff,
                         0, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
        raw.sendto(ip + tcp, (host, 0))
    return "ok syn flood: %d SYNs sent" % count


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    size = sys.argv[4] if cmd == "http-get" else int(sys.argv[4])
    fn = {"tcp-echo": tcp_echo, "udp-echo": udp_echo,
          "udp-burst": udp_burst, "tcp-isn": tcp_isn,
          "syn-flood": syn_flood, "udp-flows": udp_flows,
          "http-get": http_get, "tcp-connects": tcp_connects,
          "udp-flows-some": udp_flows_some}[cmd]
    try:
        line = fn(host, port, size)
    except OSError as e:
        line = "fail %s: %s" % (cmd, e)
    print(line)
    return 0 if line.startswith("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
