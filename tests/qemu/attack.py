#!/usr/bin/env python3
"""Attacks on a guest, for the stress tests (tests/qemu/test_stress.py,
`make stress`). Runs inside the test's own network namespace
(`ip netns exec NS python3 attack.py ...`) and never talks to any address
outside it. While an attack runs for its duration, a legitimate client
from the namespace's main address probes every service (a new TCP echo
connection, a UDP echo, an HTTP GET /healthz with a new connection) a few
times a second; at the end one JSON line is printed:

    {"attack": NAME, "seconds": S, "ops": N, "rate": N/S, "detail": {...},
     "probes": {"tcp": {"ok": N, "fail": N, "p50_ms": X, "max_ms": X}, ...}}

    attack.py ATTACK GUEST_IP SECONDS [ATTACKER_IP,...] [RATE]

RATE caps the packets (or connections) per second of the flooding attacks
(syn-flood, malformed, rst-storm, churn); 0 or none: as fast as it goes.

Attacks (all bounded in time; every socket has a timeout):
  syn-flood   spoofed SYNs (sources .100-.250 of the /24, which nobody
              answers ARP for) to echo and HTTP, as fast as Python goes
  slowloris   connections to HTTP from the attacker addresses that send a
              header line every second and never finish; reopened at once
              when the server cuts them
  slow-read   GET /big.bin with a tiny receive buffer, never read; reopened
  vanish      the peers of many echo and HTTP connections (some with data
              outstanding both ways) vanish; the caller removes their
              address (see test_stress.py), this only builds them and holds
  rst-storm   connections opened and reset at once (SO_LINGER 0), and
              resets in the middle of an HTTP download
  malformed   garbage and malformed Ethernet/IPv4/TCP/UDP/ICMP frames and
              fragments through an AF_PACKET socket on the tap
  churn       new connections as fast as possible: echo round trips and
              HTTP GETs with Connection: close
"""
import errno
import json
import os
import random
import socket
import struct
import sys
import threading
import time

ECHO, HTTP = 7, 80


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big")
            for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = 0
        self.extra = {}

    def add(self, k=1, key=None):
        with self.lock:
            if key:
                self.extra[key] = self.extra.get(key, 0) + k
            else:
                self.n += k


# ---- the legitimate client ----------------------------------------------


def probe_tcp(host):
    data = os.urandom(64)
    with socket.create_connection((host, ECHO), timeout=3) as s:
        s.settimeout(3)
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = s.recv(256)
            if not chunk:
                break
            got += chunk
    return got == data


def probe_udp(host):
    data = os.urandom(64)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        s.sendto(data, (host, ECHO))
        reply, _ = s.recvfrom(2048)
    return reply == data


def probe_http(host):
    with socket.create_connection((host, HTTP), timeout=3) as s:
        s.settimeout(3)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    return got.startswith(b"HTTP/1.1 200")


PROBES = {"tcp": probe_tcp, "udp": probe_udp, "http": probe_http}


errs = {}


def prober(host, kind, stop, out, period=0.25):
    ok, fail, lat = 0, 0, []
    while not stop.is_set():
        t0 = time.time()
        try:
            good = PROBES[kind](host)
        except OSError as e:
            good = False
            errs[kind + "_" + errno.errorcode.get(e.errno or 0, "timeout")] = \
                errs.get(kind + "_" + errno.errorcode.get(e.errno or 0,
                                                          "timeout"), 0) + 1
        dt = (time.time() - t0) * 1000
        if good:
            ok += 1
            lat.append(dt)
        else:
            fail += 1
        stop.wait(max(0.0, period - (time.time() - t0)))
    lat.sort()
    out[kind] = {"ok": ok, "fail": fail,
                 "p50_ms": round(lat[len(lat) // 2], 1) if lat else None,
                 "max_ms": round(lat[-1], 1) if lat else None}


# ---- attacks --------------------------------------------------------------


class Pacer:
    """Spreads ops evenly at rate per second (shared by threads)."""

    def __init__(self, rate):
        self.rate = rate
        self.lock = threading.Lock()
        self.next = time.time()

    def wait(self, stop):
        if not self.rate:
            return
        with self.lock:
            t = self.next
            self.next = max(self.next, time.time() - 0.1) + 1.0 / self.rate
        delay = t - time.time()
        if delay > 0:
            stop.wait(delay)


PACE = Pacer(0)


def syn_flood(host, stop, attackers, count):
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    prefix = host.rsplit(".", 1)[0] + "."
    dst = socket.inet_aton(host)
    i = 0
    while not stop.is_set():
        for _ in range(200):
            PACE.wait(stop)
            src = socket.inet_aton(prefix + str(100 + i % 151))
            port = (ECHO, HTTP)[i & 1]
            tcp = struct.pack("!HHIIBBHHH", random.randint(1024, 65535),
                              port, random.getrandbits(32), 0, 5 << 4, 0x02,
                              64240, 0, 0)
            pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
            tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + tcp)) + tcp[18:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp),
                             i & 0xffff, 0, 64, 6, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
            try:
                raw.sendto(ip + tcp, (host, 0))
                count.add()
            except OSError:
                count.add(key="send_errors")
            i += 1
    raw.close()


def _connect_from(src, host, port, timeout=3, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((host, port))
    return s


def _holder(host, stop, src, count, per_thread, opener, tick):
    """Keeps per_thread connections open from src: opener() makes one,
    tick(sock) returns False once the server closed it (then reopened)."""
    conns = []
    while not stop.is_set():
        while len(conns) < per_thread and not stop.is_set():
            try:
                conns.append(opener(src))
                count.add()
            except OSError:
                count.add(key="connect_failed")
                break
        alive = []
        for s in conns:
            try:
                ok = tick(s)
            except OSError:
                ok = False
            if ok:
                alive.append(s)
            else:
                s.close()
                count.add(key="cut_by_server")
        conns = alive
        stop.wait(0.5)
    for s in conns:
        s.close()


def slowloris(host, stop, attackers, count, per_addr=40):
    def opener(src):
        s = _connect_from(src, host, HTTP)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        s.setblocking(False)
        return s

    def tick(s):
        try:
            if s.recv(4096) == b"":
                return False
        except BlockingIOError:
            pass
        s.send(b"X-a: b\r\n")
        return True

    _run_holders(host, stop, attackers, count, per_addr, opener, tick)


def slow_read(host, stop, attackers, count, per_addr=15):
    def opener(src):
        s = _connect_from(src, host, HTTP, rcvbuf=2048)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        s.setblocking(False)
        return s

    def tick(s):
        # Never reads: a closed or reset connection shows as an error on
        # send (MSG_PEEK of one byte would read nothing either way).
        s.send(b"")
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return err == 0

    _run_holders(host, stop, attackers, count, per_addr, opener, tick)


def _run_holders(host, stop, attackers, count, per_addr, opener, tick):
    threads = [threading.Thread(target=_holder, args=(
        host, stop, src, count, per_addr, opener, tick)) for src in attackers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def vanish(host, stop, attackers, count):
    """Builds connections whose peer will vanish, and holds them (never
    closed: the caller removes the address, then this process exits)."""
    held = []
    src = attackers[0]

    def idle_echo():
        s = _connect_from(src, host, ECHO)
        s.sendall(b"hello")
        s.recv(16)
        return s

    def stuck_echo():
        # Data outstanding both ways: it sends more than it reads.
        s = _connect_from(src, host, ECHO, rcvbuf=2048)
        s.setblocking(False)
        try:
            s.send(os.urandom(200000))
        except BlockingIOError:
            pass
        return s

    def keepalive_http():
        s = _connect_from(src, host, HTTP)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(4096)
        return s

    def stuck_http():
        s = _connect_from(src, host, HTTP, rcvbuf=2048)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        return s

    for kind, n, make in (("echo_idle", 30, idle_echo),
                          ("echo_stuck", 3, stuck_echo),
                          ("http_keepalive", 20, keepalive_http),
                          ("http_stuck", 3, stuck_http)):
        for _ in range(n):
            try:
                held.append(make())
                count.add(key=kind)
            except OSError:
                count.add(key=kind + "_failed")
    count.add(len(held))
    print("ready", json.dumps(count.extra), flush=True)
    stop.wait()


def rst_storm(host, stop, attackers, count):
    def worker(src):
        i = 0
        while not stop.is_set():
            port = (ECHO, HTTP)[i & 1]
            PACE.wait(stop)
            try:
                s = _connect_from(src, host, port, timeout=2)
                if i % 4 == 3:
                    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                              if port == HTTP else os.urandom(3000))
                    s.recv(1000)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
                s.close()
                count.add()
            except OSError:
                count.add(key="errors")
            i += 1

    threads = [threading.Thread(target=worker, args=(src,))
               for src in attackers for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _guest_mac(host, tap):
    """The guest's MAC from the namespace's neighbour table (a probe has
    talked to it)."""
    with open("/proc/net/arp") as f:
        for line in f.read().splitlines()[1:]:
            parts = line.split()
            if parts[0] == host and parts[5] == tap:
                return bytes.fromhex(parts[3].replace(":", ""))
    return b"\xff" * 6


def malformed(host, stop, attackers, count, tap="skt0"):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((tap, 0))
    src_mac = s.getsockname()[4]
    dst_mac = _guest_mac(host, tap)
    dst = socket.inet_aton(host)
    src = socket.inet_aton(attackers[0])
    rnd = random.Random(1234)

    def ip(proto, payload, **kw):
        ihl = kw.get("ihl", 5)
        total = kw.get("total", 20 + len(payload))
        h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total & 0xffff,
                        rnd.getrandbits(16), kw.get("frag", 0), 64, proto, 0,
                        src, dst)
        h = h[:10] + struct.pack("!H", _csum(h)) + h[12:]
        return h + kw.get("opts", b"") + payload

    def eth(payload, etype=0x0800):
        return dst_mac + src_mac + struct.pack("!H", etype) + payload

    def tcp(flags, doff=5, opts=b"", port=ECHO):
        return struct.pack("!HHIIBBHHH", rnd.randint(1024, 65535), port,
                           rnd.getrandbits(32), rnd.getrandbits(32),
                           doff << 4, flags, 65535, rnd.getrandbits(16),
                           0) + opts

    makers = [
        lambda: eth(os.urandom(rnd.randint(0, 1500)),
                    rnd.getrandbits(16)),                       # junk
        lambda: eth(os.urandom(rnd.randint(0, 60))),            # short IP
        lambda: eth(ip(6, tcp(0x02), total=rnd.randint(0, 19))),
        lambda: eth(ip(6, tcp(0x02), total=60000)),             # too long
        lambda: eth(ip(6, tcp(0x02), ihl=rnd.randint(0, 4))),   # bad ihl
        lambda: eth(ip(6, tcp(0x02), ihl=15)),                  # ihl > data
        lambda: eth(ip(6, tcp(rnd.getrandbits(8),
                              doff=rnd.randint(0, 15)))),       # bad doff
        lambda: eth(ip(6, tcp(0x02, doff=8, opts=bytes(
            [2, rnd.randint(0, 255), 3, 0, 8, 255, 0, 0, 0, 0, 1, 1])))),
        lambda: eth(ip(6, tcp(0x02, doff=6, opts=b"\x02\x00\x05\xb4"))),
        lambda: eth(ip(17, os.urandom(8))),                     # bad UDP len
        lambda: eth(ip(17, struct.pack("!HHHH", 1, ECHO, 4, 0))),
        lambda: eth(ip(1, bytes([8, 0, 0, 0]) + os.urandom(4))),  # bad csum
        lambda: eth(ip(1, os.urandom(rnd.randint(0, 3)))),
        lambda: eth(ip(17, os.urandom(1400),
                       frag=0x2000 | rnd.randint(0, 8191))),    # fragments
        lambda: eth(ip(17, os.urandom(16), frag=rnd.randint(0, 0x3fff))),
        lambda: eth(ip(rnd.randint(0, 255), os.urandom(40))),   # protocols
        lambda: eth(os.urandom(28), 0x0806),                    # junk ARP
    ]
    while not stop.is_set():
        for _ in range(100):
            PACE.wait(stop)
            try:
                s.send(rnd.choice(makers)())
                count.add()
            except OSError:
                count.add(key="send_errors")
    s.close()


def churn(host, stop, attackers, count):
    def worker(src, port):
        while not stop.is_set():
            PACE.wait(stop)
            try:
                s = _connect_from(src, host, port, timeout=3)
                if port == ECHO:
                    s.sendall(b"x" * 32)
                    s.recv(64)
                else:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                              b"Connection: close\r\n\r\n")
                    while s.recv(4096):
                        pass
                s.close()
                count.add()
            except OSError as e:
                count.add(key="error_%s" % (errno.errorcode.get(
                    e.errno, "timeout") if e.errno else "timeout"))

    threads = [threading.Thread(target=worker, args=(src, port))
               for src in attackers for port in (ECHO, HTTP)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def none(host, stop, attackers, count):
    """No attack: the probes alone, before or after one."""
    stop.wait()


ATTACKS = {"none": none, "syn-flood": syn_flood, "slowloris": slowloris,
           "slow-read": slow_read, "vanish": vanish, "rst-storm": rst_storm,
           "malformed": malformed, "churn": churn}


def main():
    name, host, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    attackers = sys.argv[4].split(",") if len(sys.argv) > 4 else []
    PACE.rate = float(sys.argv[5]) if len(sys.argv) > 5 else 0
    stop, pstop = threading.Event(), threading.Event()
    count = Counter()
    probes = {}
    # Warm the neighbour table (the malformed frames need the guest's MAC).
    try:
        probe_udp(host)
    except OSError:
        pass
    t0 = time.time()
    at = threading.Thread(target=ATTACKS[name],
                          args=(host, stop, attackers, count), daemon=True)
    at.start()
    pts = [threading.Thread(target=prober, args=(host, k, pstop, probes))
           for k in PROBES]
    for t in pts:
        t.start()
    if name == "vanish":
        # The attack only builds connections; it is the caller who makes
        # their peer vanish, while the probes run.
        pstop.wait(seconds)
    else:
        time.sleep(seconds)
    stop.set()
    at.join(15)
    elapsed = time.time() - t0
    pstop.set()
    for t in pts:
        t.join(10)
    print(json.dumps({"attack": name, "seconds": round(elapsed, 1),
                      "target_rate": PACE.rate,
                      "ops": count.n, "rate": round(count.n / elapsed, 1),
                      "detail": count.extra, "probes": probes,
                      "probe_errors": errs}), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
