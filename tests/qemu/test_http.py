"""HTTP server tests: one guest on QEMU user networking with its port 80
forwarded, driven by curl and by scripted clients (raw sockets,
http.client). Statuses and keep-alive, pipelining, 64 concurrent clients, a
slow-loris client cut off while others are served, the connection limit,
/big.bin byte for byte against the generator's output, /stats as JSON with
counters that moved, and at the end the heap back where it started.

Command-line keys the guest is booted with (kernel/config.c):
http.header_timeout, http.idle_timeout (ms), http.max_conns, http.log."""
import http.client
import json
import os
import socket
import subprocess
import threading
import time

from harness import ROOT, Guest, TestFailure, expect, test
import skiffqemu

HEADER_TIMEOUT_MS = 3000
MAX_CONNS = 80
CMDLINE = ("http.header_timeout=%d http.idle_timeout=20000 "
           "http.max_conns=%d http.max_conns_per_ip=0 http.log=1" %
           (HEADER_TIMEOUT_MS, MAX_CONNS))
SOCK_TIMEOUT = 20


class Client:
    """The guest's HTTP port on the host, and a few ways to talk to it."""

    def __init__(self, guest, port):
        self.guest = guest
        self.port = port

    def sock(self):
        s = socket.create_connection(("127.0.0.1", self.port),
                                     timeout=SOCK_TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=SOCK_TIMEOUT)

    def request(self, method, path, headers=None, body=None):
        """One request on its own connection: (status, headers, body)."""
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, \
                r.read()
        finally:
            c.close()

    def raw(self, data, head=False):
        """Sends bytes as they are and reads one response."""
        s = self.sock()
        try:
            s.sendall(data)
            f = s.makefile("rb")
            return read_response(f, head)
        finally:
            s.close()

    def curl(self, *args):
        r = subprocess.run(["curl", "-s", "--max-time", "60"] + list(args),
                           capture_output=True, timeout=90)
        return r.returncode, r.stdout

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stats(self):
        status, hdrs, body = self.request("GET", "/stats")
        expect(status == 200, "/stats: status %d" % status, self.guest)
        expect(hdrs.get("content-type") == "application/json",
               "/stats content type %r" % hdrs.get("content-type"))
        expect(hdrs.get("cache-control") == "no-store",
               "/stats not no-store")
        try:
            return json.loads(body)
        except ValueError as e:
            raise TestFailure("/stats is not JSON (%s): %r" % (e, body[:300]))


def read_response(f, head=False):
    """Reads one response from a buffered socket file: (status, headers
    with lower-case names, body)."""
    line = f.readline()
    expect(line.startswith(b"HTTP/1.1 "), "bad status line %r" % line)
    status = int(line.split()[1])
    hdrs = {}
    for _ in range(100):
        line = f.readline()
        expect(line.endswith(b"\r\n"), "header line cut: %r" % line)
        if line == b"\r\n":
            break
        name, _, value = line.decode("latin-1").partition(":")
        hdrs[name.strip().lower()] = value.strip()
    else:
        raise TestFailure("endless head")
    body = b""
    if not head and status != 304 and status >= 200:
        expect("content-length" in hdrs, "no Content-Length (%d)" % status)
        n = int(hdrs["content-length"])
        body = f.read(n)
        expect(len(body) == n, "body cut: %d of %d" % (len(body), n))
    return status, hdrs, body


def at_eof(s, timeout=5.0):
    """True when the server closes the connection within timeout."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# ---- the checks, run in this order on one guest ------------------------------

def check_get_head_304(c):
    status, hdrs, body = c.request("GET", "/")
    expect(status == 200, "GET / -> %d" % status)
    expect(b"Skiff" in body and b"/stats" in body, "index does not say Skiff")
    expect(hdrs.get("content-type", "").startswith("text/html"),
           "index type %r" % hdrs.get("content-type"))
    etag = hdrs.get("etag", "")
    expect(etag.startswith('"') and etag.endswith('"') and len(etag) > 2,
           "no strong ETag: %r" % etag)
    status, hdrs2, body2 = c.request("HEAD", "/")
    expect(status == 200 and body2 == b"", "HEAD / -> %d" % status)
    expect(hdrs2.get("content-length") == str(len(body)),
           "HEAD length %r, GET body %d" % (hdrs2.get("content-length"),
                                           len(body)))
    status, hdrs3, body3 = c.request("GET", "/", {"If-None-Match": etag})
    expect(status == 304 and body3 == b"", "If-None-Match -> %d" % status)
    expect(hdrs3.get("etag") == etag, "304 without the ETag")
    status, _, _ = c.request("GET", "/", {"If-None-Match": '"other"'})
    expect(status == 200, "other ETag -> %d" % status)
    # curl, as a user would.
    rc, out = c.curl("-w", "\n%{http_code}", c.url("/index.html"))
    expect(rc == 0 and out.endswith(b"\n200") and out[:-4] == body,
           "curl /index.html: rc %d, %r" % (rc, out[-40:]))
    rc, out = c.curl("-o", "/dev/null", "-w", "%{http_code}",
                     c.url("/healthz"))
    expect(out == b"200", "curl /healthz: %r" % out)


def check_errors(c):
    status, _, body = c.request("GET", "/no/such/page")
    expect(status == 404, "missing page -> %d" % status)
    status, hdrs, _ = c.request("POST", "/", body=b"x")
    expect(status == 405 and hdrs.get("allow") == "GET, HEAD",
           "POST / -> %d, Allow %r" % (status, hdrs.get("allow")))
    status, hdrs, _ = c.request("GET", "/echo")
    expect(status == 405 and hdrs.get("allow") == "POST",
           "GET /echo -> %d" % status)
    for target in (b"/../www/index.html", b"/%2e%2e/index.html",
                   b"/a/../../index.html", b"/%00", b"/%zz"):
        status, hdrs, _ = c.raw(b"GET " + target +
                                b" HTTP/1.1\r\nHost: t\r\n\r\n")
        expect(status == 400, "%s -> %d" % (target.decode(), status))
    status, hdrs, _ = c.raw(b"GET / HTTP/1.1\r\nHost: t\x01\r\n\r\n")
    expect(status == 400 and hdrs.get("connection") == "close",
           "malformed header -> %d" % status)
    status, _, _ = c.raw(b"BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n")
    expect(status == 501, "unknown method -> %d" % status)
    status, hdrs, _ = c.raw(b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " +
                            b"a" * 10000 + b"\r\n\r\n")
    expect(status == 431 and hdrs.get("connection") == "close",
           "10 KB header -> %d" % status)
    status, _, _ = c.raw(b"GET /" + b"u" * 5000 + b" HTTP/1.1\r\nHost: t"
                         b"\r\n\r\n")
    expect(status == 414, "5000-byte target -> %d" % status)
    status, _, _ = c.raw(b"POST /echo HTTP/1.1\r\nHost: t\r\n"
                         b"Content-Length: 100000000\r\n\r\n")
    expect(status == 413, "huge body -> %d" % status)
    status, _, _ = c.raw(b"GET / HTTP/2.0\r\nHost: t\r\n\r\n")
    expect(status == 505, "HTTP/2.0 -> %d" % status)


def check_echo_and_close(c):
    payload = bytes(range(256)) * 64
    status, hdrs, body = c.request("POST", "/echo", body=payload)
    expect(status == 200 and body == payload, "echo of 16 KiB: %d, %d bytes"
           % (status, len(body)))
    rc, out = c.curl("--data-binary", "hello", c.url("/echo"))
    expect(out == b"hello", "curl echo: %r" % out)
    # Expect: 100-continue gets its interim response before the body.
    s = c.sock()
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        f = s.makefile("rb")
        expect(f.readline() == b"HTTP/1.1 100 Continue\r\n" and
               f.readline() == b"\r\n", "no 100 Continue")
        s.sendall(b"12345")
        status, _, body = read_response(f)
        expect(status == 200 and body == b"12345", "echo after 100: %d %r"
               % (status, body))
    finally:
        s.close()
    # curl sends that header for bodies over 1 KiB.
    path = os.path.join(ROOT, "build", "test-logs", "http-echo.bin")
    with open(path, "wb") as f:
        f.write(payload * 2)
    rc, out = c.curl("--data-binary", "@" + path, c.url("/echo"))
    os.unlink(path)
    expect(out == payload * 2, "curl echo of 32 KiB: %d bytes" % len(out))
    # Connection: close is honoured, and HTTP/1.0 is closed.
    for req in (b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                b"GET / HTTP/1.0\r\n\r\n"):
        s = c.sock()
        try:
            s.sendall(req)
            f = s.makefile("rb")
            status, hdrs, _ = read_response(f)
            expect(status == 200 and hdrs.get("connection") == "close",
                   "%r -> %d %r" % (req[:20], status, hdrs.get("connection")))
            expect(f.read(1) == b"", "connection not closed after %r"
                   % req[:20])
        finally:
            s.close()


def check_keep_alive_100(c):
    conn = c.conn()
    try:
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        r.read()
        first = conn.sock
        for i in range(100):
            path = ("/", "/healthz", "/nope", "/stats")[i % 4]
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            expect(r.status == (404 if path == "/nope" else 200),
                   "request %d (%s) -> %d" % (i, path, r.status))
            expect(not r.will_close, "server closed a keep-alive connection")
            expect(conn.sock is first, "connection was reopened at %d" % i)
            if path == "/healthz":
                expect(body == b"ok\n", "healthz body %r" % body)
    finally:
        conn.close()


def check_pipelining(c):
    paths = ["/", "/healthz", "/nope", "/index.html", "/healthz", "/nope",
             "/", "/healthz", "/index.html", "/healthz"]
    reqs = b"".join(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % p.encode()
                    for p in paths)
    s = c.sock()
    try:
        s.sendall(reqs)
        f = s.makefile("rb")
        for i, p in enumerate(paths):
            status, hdrs, body = read_response(f)
            want = 404 if p == "/nope" else 200
            expect(status == want, "pipelined %d (%s) -> %d" % (i, p, status))
            if p == "/healthz":
                expect(body == b"ok\n", "pipelined %d body %r" % (i, body))
    finally:
        s.close()


def check_concurrent_64(c, big):
    """64 clients with connections open at the same time. They connect one
    after another (QEMU's user-network forward listens with a backlog of 1,
    so 64 SYNs at once would only measure slirp's SYN retries), then all
    send their requests concurrently."""
    errors = []
    lock = threading.Lock()
    connected = [threading.Event() for _ in range(64)]

    def client(n):
        try:
            if n:
                connected[n - 1].wait(30)
            conn = c.conn()
            try:
                conn.connect()
            finally:
                connected[n].set()
            try:
                for path in ("/", "/healthz", "/big.bin" if n % 8 == 0
                             else "/index.html"):
                    conn.request("GET", path)
                    r = conn.getresponse()
                    body = r.read()
                    if r.status != 200:
                        raise TestFailure("%s -> %d" % (path, r.status))
                    if path == "/big.bin" and body != big:
                        raise TestFailure("/big.bin differs (%d bytes)"
                                          % len(body))
            finally:
                conn.close()
        except Exception as e:  # collected, reported below
            with lock:
                errors.append("client %d: %s: %s" % (n, type(e).__name__, e))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    expect(not any(t.is_alive() for t in threads), "clients hung")
    expect(not errors, "%d of 64 clients failed: %s" % (len(errors),
                                                       "; ".join(errors[:5])))


def check_slow_client(c):
    """A client sending one header byte per second is cut off after the
    header timeout, while other clients are served without delay."""
    result = {}

    def slow():
        s = c.sock()
        s.settimeout(0.05)
        start = time.time()
        data = b""
        req = b"GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: " + b"s" * 60
        try:
            for i in range(len(req)):
                if time.time() - start > HEADER_TIMEOUT_MS / 1000 + 15:
                    break
                try:
                    s.send(req[i:i + 1])
                except OSError:
                    break
                t_end = time.time() + 1
                closed = False
                while time.time() < t_end:
                    try:
                        chunk = s.recv(4096)
                    except socket.timeout:
                        continue
                    except OSError:
                        closed = True
                        break
                    if not chunk:
                        closed = True
                        break
                    data += chunk
                if closed:
                    break
            result["elapsed"] = time.time() - start
            result["data"] = data
        finally:
            s.close()

    t = threading.Thread(target=slow)
    t.start()
    latencies = []
    deadline = time.time() + HEADER_TIMEOUT_MS / 1000 + 20
    while t.is_alive() and time.time() < deadline:
        t0 = time.time()
        status, _, _ = c.request("GET", "/healthz")
        latencies.append(time.time() - t0)
        expect(status == 200, "served client got %d" % status)
        time.sleep(0.2)
    t.join(30)
    expect("elapsed" in result, "slow client thread did not finish")
    timeout_s = HEADER_TIMEOUT_MS / 1000
    expect(result["elapsed"] < timeout_s + 6,
           "slow client was not cut off (%.1f s)" % result["elapsed"])
    expect(result["elapsed"] > timeout_s - 1,
           "slow client cut too early (%.1f s)" % result["elapsed"])
    expect(result["data"].startswith(b"HTTP/1.1 408 "),
           "slow client got %r" % result["data"][:40])
    latencies.sort()
    # Not held up by the slow client: a blocked server would stall them
    # until the cut-off, or for the whole minute the slow request takes.
    expect(len(latencies) >= 5 and latencies[len(latencies) // 2] < 1.0 and
           latencies[-1] < timeout_s,
           "others delayed: %d requests, median %.2f s, slowest %.2f s"
           % (len(latencies), latencies[len(latencies) // 2] if latencies
              else 0, latencies[-1] if latencies else 0))


def wait_idle(c, timeout=15):
    """Waits until no connection but the asking one is open."""
    deadline = time.time() + timeout
    while c.stats()["http"]["active"] > 1 and time.time() < deadline:
        time.sleep(0.5)


def check_connection_limit(c):
    """At http.max_conns a new connection takes the slot of the one idle
    longest: an idle keep-alive connection is reset, so a client is served
    while any connection is idle. Only when every slot is busy with a
    request is the new one answered 503 and closed. The clients connect
    one after the other, each asking for /healthz at once and then holding
    its connection. (Not in parallel: QEMU's user networking listens with
    a backlog of 1, and parallel connects stall in SYN retries. Every
    client comes from the same address, so the test turns the per-address
    limit off.)"""
    wait_idle(c)
    evicted_before = c.stats()["http"]["defence"]["evicted_idle"]
    n = MAX_CONNS + 10
    socks, results = [], []
    try:
        for i in range(n):
            s = c.sock()
            socks.append(s)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            status, hdrs, _ = read_response(s.makefile("rb"))
            results.append(status)
        # The newest still work; the oldest were reset to make room.
        s = socks[-1]
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        status, _, body = read_response(s.makefile("rb"))
        expect(status == 200 and body == b"ok\n",
               "newest kept connection -> %d" % status)
        expect(at_eof(socks[0]), "the oldest idle connection was kept")
    finally:
        for s in socks:
            s.close()
    expect(results == [200] * n, "statuses at the limit: %s" % results)
    evicted = c.stats()["http"]["defence"]["evicted_idle"] - evicted_before
    expect(evicted >= 10, "%d idle connections evicted for %d beyond "
           "max_conns=%d" % (evicted, n - MAX_CONNS, MAX_CONNS))
    # Every slot busy with a POST whose body never comes: refused.
    wait_idle(c)
    socks, results = [], []
    try:
        for i in range(MAX_CONNS + 2):
            s = c.sock()
            socks.append(s)
            # The interim 100 (or a 503) says the server has it.
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\n"
                      b"Expect: 100-continue\r\nContent-Length: 100\r\n\r\n")
            line = s.makefile("rb").readline()
            expect(line.startswith(b"HTTP/1.1 100") or
                   line.startswith(b"HTTP/1.1 503"), "POST -> %r" % line)
        s = c.sock()
        socks.append(s)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        status, hdrs, _ = read_response(s.makefile("rb"))
        expect(status == 503, "busy server answered %d" % status)
        expect(hdrs.get("connection") == "close", "503 not closing")
        expect(at_eof(s), "refused connection left open")
    finally:
        for s in socks:
            s.close()


def check_big_bin(c, big):
    path = os.path.join(ROOT, "build", "test-logs", "http-big.bin")
    rc, out = c.curl("-o", path, "-w", "%{http_code} %{size_download}",
                     c.url("/big.bin"))
    expect(rc == 0 and out == b"200 %d" % len(big), "curl big.bin: %r" % out)
    with open(path, "rb") as f:
        got = f.read()
    os.unlink(path)
    expect(got == big, "/big.bin is not byte-exact")


@test
def http_server():
    big = subprocess.run(
        ["python3", os.path.join(ROOT, "tools", "gen-www.py"), "--cat",
         "/big.bin", os.path.join(ROOT, "www")],
        capture_output=True, check=True).stdout
    expect(len(big) == 1 << 20, "generator gave %d bytes" % len(big))
    port = skiffqemu.free_port()
    g = Guest("http", cmdline=CMDLINE, net="user",
              hostfwd=[("tcp", port, 80)])
    with g:
        expect(g.wait_for(r"net: \w+ up, address", timeout=120),
               "network not up", g)
        expect(g.wait_for(r"http: port 80", timeout=10),
               "HTTP server not started (http_init)", g)
        expect("unknown key 'http." not in g.log(),
               "http.* keys not wired on the command line", g)
        c = Client(g, port)
        c.request("GET", "/healthz")  # warm-up: ARP, first allocations
        time.sleep(1)
        before = c.stats()
        expect("http" in before, "/stats has no http member", g)
        heap0 = before["heap"]["in_use"]
        http0 = before["http"]
        expect(http0["limits"]["header_timeout_ms"] == HEADER_TIMEOUT_MS,
               "http.header_timeout not applied", g)

        checks = [
            ("get/head/304", lambda: check_get_head_304(c)),
            ("errors", lambda: check_errors(c)),
            ("echo/close", lambda: check_echo_and_close(c)),
            ("keep-alive x100", lambda: check_keep_alive_100(c)),
            ("pipelining x10", lambda: check_pipelining(c)),
            ("64 clients", lambda: check_concurrent_64(c, big)),
            ("slow client", lambda: check_slow_client(c)),
            ("connection limit", lambda: check_connection_limit(c)),
            ("big.bin", lambda: check_big_bin(c, big)),
        ]
        failures = []
        for name, fn in checks:
            t0 = time.time()
            try:
                fn()
                print("    ok   %s (%.1fs)" % (name, time.time() - t0),
                      flush=True)
            except Exception as e:
                failures.append("%s: %s: %s" % (name, type(e).__name__, e))
                print("    FAIL %s" % name, flush=True)

        after = c.stats()
        h = after["http"]
        for key, least in (("requests", 250), ("accepted", 150),
                           ("timeouts", 1), ("refused", 1)):
            if h[key] - http0[key] < least:
                failures.append("stats: http.%s moved by %d, want >= %d"
                                % (key, h[key] - http0[key], least))
        for code in ("200", "304", "400", "404", "405", "408", "413",
                     "414", "431", "501", "503", "505"):
            if h["by_status"][code] <= http0["by_status"][code]:
                failures.append("stats: by_status %s did not move" % code)
        if h["bytes_sent"] - http0["bytes_sent"] < 9 << 20:
            failures.append("stats: bytes_sent moved by only %d"
                            % (h["bytes_sent"] - http0["bytes_sent"]))
        if '"GET / HTTP/1.1" 200' not in g.log():
            failures.append("no access-log line with http.log=1")

        # Every connection gone (lingering closes, idle timeouts, TIME_WAIT)
        # and the heap back where it was.
        deadline = time.time() + 30
        while True:
            s = c.stats()
            heap, active = s["heap"]["in_use"], s["http"]["active"]
            if (active <= 1 and heap <= heap0 + 4096) or \
                    time.time() > deadline:
                break
            time.sleep(1)
        if active > 1:
            failures.append("%d connections still open" % (active - 1))
        if heap > heap0 + 4096:
            failures.append("heap in use %d bytes, was %d at the start"
                            % (heap, heap0))
        print("    heap in use: %d at start, %d at end; %d requests"
              % (heap0, heap, h["requests"] - http0["requests"]), flush=True)
        expect(not failures, "\n".join(failures), g)
