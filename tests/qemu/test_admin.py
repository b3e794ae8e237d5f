"""The admin endpoint (admin.token=) in the guest, through tools/skiffctl
and raw HTTP: a program loaded, replaced and detached at run time under
UDP echo traffic loses no datagram and leaks no buffer; maps dump and
update; bad tokens, oversized and malformed requests and objects and a
verifier-refused program are answered 401/413/400 (the last with the
verifier's message), change nothing, and the appliance keeps serving.
TC and socket-filter programs load and detach at run time too: the TC
port rewriter on tc-ingress makes UDP to 7777 reach echo, sock_trunc on
socket-echo drops "drop..." datagrams, both undone by detach; a TC
object offered to the xdp hook gets 400 and changes nothing."""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from harness import ROOT, Guest, expect, test
import skiffqemu

UP = r"net: \w+ up, address"
TOKEN = "t0k-%d" % os.getpid()
SKIFFCTL = os.path.join(ROOT, "tools", "skiffctl")
OBJ = os.path.join(ROOT, "build", "xdp")


def stats(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/stats" % port,
                                timeout=20) as r:
        return json.loads(r.read())


def ctl(admin, *args, token=TOKEN):
    r = subprocess.run([sys.executable, SKIFFCTL, "--port", str(admin),
                        "--token", token] + list(args),
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def raw(admin, data, timeout=20):
    """Sends bytes, returns (status, body) of the answer."""
    s = socket.create_connection(("127.0.0.1", admin), timeout=timeout)
    try:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    head, _, body = got.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return status, body


def guest(name, extra="", more_fwd=()):
    http, admin, udp = (skiffqemu.free_port(), skiffqemu.free_port(),
                        skiffqemu.free_port())
    g = Guest(name, net="user", boot="direct",
              hostfwd=[("tcp", http, 80), ("tcp", admin, 9090),
                       ("udp", udp, 7)] + list(more_fwd),
              cmdline="admin.token=%s %s" % (TOKEN, extra))
    return g, http, admin, udp


def udp_echo_once(s, port, payload):
    s.sendto(payload, ("127.0.0.1", port))
    try:
        return s.recvfrom(4096)[0] == payload
    except (socket.timeout, ConnectionRefusedError):
        return False


def answered(port, payload, tries=3):
    """True if a datagram to port comes back byte for byte (a few tries:
    the network under TCG may lose one)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        return any(udp_echo_once(s, port, payload) for _ in range(tries))
    finally:
        s.close()


@test
def admin_load_replace_detach_under_traffic():
    g, http, admin, udp = guest("admin-swap")
    with g:
        expect(g.wait_for(UP, 120), "no address", g)
        expect(g.wait_for(r"admin: endpoint on tcp 9090", 5), "no admin", g)
        idle = stats(http)
        stop = threading.Event()
        result = {"sent": 0, "lost": 0}

        def traffic():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(3)
            i = 0
            while not stop.is_set() and i < 2000:
                if not udp_echo_once(s, udp, b"swap-%d" % i):
                    result["lost"] += 1
                i += 1
            result["sent"] = i
            s.close()

        t = threading.Thread(target=traffic)
        t.start()
        try:
            time.sleep(0.5)
            rc, out, err = ctl(admin, "prog", "load",
                               os.path.join(OBJ, "count.o"), "xdp")
            expect(rc == 0 and "name count" in out and "attached xdp" in out,
                   "load: %r %r" % (out, err), g)
            time.sleep(0.5)
            rc, out, err = ctl(admin, "map", "dump", "counts")
            expect(rc == 0 and "Found 5 elements" in out,
                   "dump: %r %r" % (out, err), g)
            rc, out, err = ctl(admin, "map", "update", "counts", "4", "1000")
            expect(rc == 0, "update: %r" % err, g)
            rc, out, err = ctl(admin, "map", "dump", "counts")
            expect("key: 04 00 00 00  value: e8 03 00 00 00 00 00 00" in out
                   or "key: 04 00 00 00  value: e" in out,
                   "updated value not dumped: %r" % out, g)
            # Replace it: the old one goes, atomically for frames.
            rc, out, err = ctl(admin, "prog", "load",
                               os.path.join(OBJ, "xsk_default.o"), "xdp")
            expect(rc == 0 and "name xsk_default" in out,
                   "replace: %r %r" % (out, err), g)
            rc, out, err = ctl(admin, "prog", "list")
            expect(rc == 0 and "hook xdp: xsk_default" in out,
                   "list: %r %r" % (out, err), g)
            time.sleep(0.5)
            rc, out, err = ctl(admin, "prog", "detach", "xdp")
            expect(rc == 0, "detach: %r" % err, g)
            rc, out, err = ctl(admin, "prog", "list")
            expect(rc == 0 and "hook xdp: -" in out, "after detach: %r" % out,
                   g)
            time.sleep(0.5)
        finally:
            stop.set()
            t.join(timeout=120)
        expect(result["sent"] > 20, "too little traffic: %d" % result["sent"])
        expect(result["lost"] == 0, "%d of %d datagrams lost" %
               (result["lost"], result["sent"]), g)
        time.sleep(1)
        after = stats(http)
    d0, d1 = idle["driver"], after["driver"]
    expect(d1["rx_ring"]["lent"] == d0["rx_ring"]["lent"],
           "RX buffers lent: %d idle, %d after" % (d0["rx_ring"]["lent"],
                                                  d1["rx_ring"]["lent"]))
    expect(after["xdp"]["attached"] is None, "a program is still attached")
    expect(after["echo"]["udp"]["datagrams"] -
           idle["echo"]["udp"]["datagrams"] >= result["sent"],
           "echo counted fewer datagrams than were answered")


@test
def admin_refuses_bad_requests_and_keeps_serving():
    g, http, admin, udp = guest("admin-refuse", "admin.max_body=65536")
    good_auth = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
    with g:
        expect(g.wait_for(UP, 120), "no address", g)
        expect(g.wait_for(r"admin: endpoint on tcp 9090", 5), "no admin", g)
        # The token is a secret: the banner shows the line with "***".
        expect("admin.token=***" in g.log() and TOKEN not in g.log(),
               "the console shows the admin token", g)
        count = open(os.path.join(OBJ, "count.o"), "rb").read()
        post = b"POST /prog?attach=xdp HTTP/1.1\r\nHost: x\r\n"
        cases = [
            ("no token", post + b"Content-Length: %d\r\n\r\n" % len(count)
             + count, 401, None),
            ("wrong token", post + b"Authorization: Bearer " +
             TOKEN.encode() + b"x\r\nContent-Length: %d\r\n\r\n" % len(count)
             + count, 401, None),
            ("token prefix", post + b"Authorization: Bearer " +
             TOKEN[:-1].encode() + b"\r\nContent-Length: %d\r\n\r\n" %
             len(count) + count, 401, None),
            ("oversized", post + good_auth +
             b"Content-Length: 10000000\r\n\r\n", 413, None),
            ("malformed line", b"POST/prog HTTP/1.1\r\n" + good_auth +
             b"\r\n", 400, None),
            ("chunked", post + good_auth +
             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, None),
            ("not an ELF", post + good_auth + b"Content-Length: 64\r\n\r\n"
             + b"\x7fELF" + b"\x00" * 60, 400, None),
            ("truncated ELF", post + good_auth + b"Content-Length: 500\r\n\r\n"
             + count[:500], 400, None),
            ("empty body", post + good_auth + b"Content-Length: 0\r\n\r\n",
             400, None),
            ("refused by the verifier", post + good_auth +
             b"Content-Length: %d\r\n\r\n" %
             len(open(os.path.join(OBJ, "unchecked_read.o"), "rb").read()) +
             open(os.path.join(OBJ, "unchecked_read.o"), "rb").read(),
             400, b"insn "),
            ("no such hook", b"POST /prog?attach=tc HTTP/1.1\r\n" + good_auth
             + b"Content-Length: %d\r\n\r\n" % len(count) + count, 400, None),
            ("bad map update", b"POST /map/nope?key=00&value=00 HTTP/1.1\r\n"
             + good_auth + b"\r\n", 404, None),
        ]
        for name, data, want, in_body in cases:
            st, body = raw(admin, data)
            expect(st == want, "%s: status %d, want %d (%r)" %
                   (name, st, want, body[:200]), g)
            if in_body:
                expect(in_body in body, "%s: %r lacks %r" %
                       (name, body, in_body), g)
        # skiffctl reports refusals with the message and status 1.
        rc, out, err = ctl(admin, "prog", "load",
                           os.path.join(OBJ, "unchecked_read.o"), "xdp")
        expect(rc == 1 and "insn " in err, "skiffctl: %r %r" % (out, err), g)
        rc, out, err = ctl(admin, "prog", "list", token="nope")
        expect(rc == 1 and "401" in err, "bad token via skiffctl: %r" % err, g)
        # Nothing changed, and everything still answers.
        rc, out, err = ctl(admin, "prog", "list")
        expect(rc == 0 and "hook xdp: -" in out and "name" not in out,
               "state changed: %r %r" % (out, err), g)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        ok = any(udp_echo_once(s, udp, b"still-here") for _ in range(3))
        s.close()
        expect(ok, "UDP echo silent after the refusals", g)
        after = stats(http)
    expect(after["xdp"]["attached"] is None, "a program got attached")


@test
def admin_tc_and_socket_filter_at_run_time():
    p7777 = skiffqemu.free_port()
    g, http, admin, udp = guest("admin-tc", more_fwd=[("udp", p7777, 7777)])
    with g:
        expect(g.wait_for(UP, 120), "no address", g)
        expect(g.wait_for(r"admin: endpoint on tcp 9090", 5), "no admin", g)
        # Before: nothing listens on 7777, echo answers everything.
        expect(answered(udp, b"drop-before"), "echo silent at start", g)
        expect(not answered(p7777, b"via-7777", tries=2),
               "port 7777 answered with no program", g)
        # A TC object on the XDP hook: 400, nothing attached.
        rc, out, err = ctl(admin, "prog", "load",
                           os.path.join(OBJ, "tc_port_rewrite.o"), "xdp")
        expect(rc == 1 and "HTTP 400" in err, "TC on xdp: %r %r" % (out, err),
               g)
        rc, out, err = ctl(admin, "prog", "list")
        expect(rc == 0 and "name" not in out and "hook xdp: -" in out and
               "hook tc-ingress: -" in out, "state changed: %r" % out, g)
        # Attach both under traffic, then show their effect.
        stop = threading.Event()
        lost = {"n": 0, "sent": 0}

        def traffic():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(3)
            while not stop.is_set() and lost["sent"] < 2000:
                lost["n"] += not udp_echo_once(s, udp, b"keep-%d" %
                                               lost["sent"])
                lost["sent"] += 1
            s.close()

        t = threading.Thread(target=traffic)
        t.start()
        try:
            rc, out, err = ctl(admin, "prog", "load",
                               os.path.join(OBJ, "tc_port_rewrite.o"),
                               "tc-ingress")
            expect(rc == 0 and "attached tc-ingress" in out,
                   "tc load: %r %r" % (out, err), g)
            rc, out, err = ctl(admin, "prog", "load",
                               os.path.join(OBJ, "sock_trunc.o"),
                               "socket-echo")
            expect(rc == 0 and "attached socket-echo" in out,
                   "filter load: %r %r" % (out, err), g)
            time.sleep(0.5)
        finally:
            stop.set()
            t.join(timeout=120)
        expect(lost["n"] == 0 and lost["sent"] > 5, "%d of %d lost while "
               "attaching" % (lost["n"], lost["sent"]), g)
        expect(answered(p7777, b"via-7777"), "7777 not rewritten to echo", g)
        expect(not answered(udp, b"drop-this", tries=2),
               "socket filter let 'drop...' through", g)
        expect(answered(udp, b"short"), "filter dropped a short datagram", g)
        st = stats(http)
        expect(st["tc"]["ingress"]["prog"]["name"] == "tc_port_rewrite" and
               st["tc"]["ingress"]["prog"]["runs"] >= 1,
               "tc ingress stats: %r" % st["tc"]["ingress"], g)
        expect(st["sockfilter"]["echo"]["dropped"] >= 1,
               "filter stats: %r" % st["sockfilter"]["echo"], g)
        # Detach both: back to normal.
        for hook in ("tc-ingress", "socket-echo"):
            rc, out, err = ctl(admin, "prog", "detach", hook)
            expect(rc == 0, "detach %s: %r" % (hook, err), g)
        rc, out, err = ctl(admin, "prog", "list")
        expect(rc == 0 and "hook tc-ingress: -" in out and
               "hook socket-echo: -" in out, "after detach: %r" % out, g)
        expect(answered(udp, b"drop-after"), "'drop...' still dropped", g)
        expect(not answered(p7777, b"via-7777", tries=2),
               "7777 still rewritten after detach", g)
        after = stats(http)
    expect(after["tc"]["ingress"]["prog"] is None and
           after["sockfilter"]["echo"]["prog"] is None,
           "a program is still attached")
