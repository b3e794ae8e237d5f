"""The TC hook and socket filters in the guest, through a tap in a
namespace: one boot with tc.ingress=tc_port_rewrite tc.egress=tc_mark
echo.filter=sock_trunc.

- TC egress (tc_mark): UDP echo replies leave with TOS 0xb8 (seen by the
  client through IP_RECVTOS); replies to client port 9999 are dropped;
  /stats counts them under tc.egress.shot.
- TC ingress (tc_port_rewrite): a datagram to port 7777 is answered by the
  echo service from port 7, byte for byte (the checksum fix is right, or
  lwIP would have dropped it).
- Socket filter (sock_trunc on echo only): "drop..." gets no answer, a
  long datagram comes back cut to 16 bytes, a short one whole; TCP echo
  (same service, kept whole by the program) and HTTP (another service,
  no filter) are untouched."""
import json
import subprocess
import sys

import os

from harness import ROOT, Guest, expect, test

sys.path.insert(0, os.path.join(ROOT, "tools"))
from netns import TapNamespace  # noqa: E402

UP = r"net: \w+ up, address"

CLIENT = r"""
import json, socket, sys, urllib.request
G = sys.argv[1]
IP_RECVTOS = getattr(socket, "IP_RECVTOS", 13)

def udp(payload, dport=7, sport=0, tries=3):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
    s.bind(("0.0.0.0", sport)); s.settimeout(1.5)
    try:
        for _ in range(tries):
            s.sendto(payload, (G, dport))
            try:
                data, anc, _, addr = s.recvmsg(4096, 64)
            except socket.timeout:
                continue
            tos = [c[2][0] for c in anc
                   if c[0] == socket.IPPROTO_IP and c[1] == socket.IP_TOS]
            return {"data": data.decode("latin-1"), "from": addr[1],
                    "tos": tos[0] if tos else None}
        return None
    finally:
        s.close()

def tcp_echo(n):
    s = socket.create_connection((G, 7), timeout=10)
    data = bytes(range(256)) * (n // 256)
    s.sendall(data); got = b""
    while len(got) < len(data):
        c = s.recv(65536)
        if not c: break
        got += c
    s.close()
    return got == data

out = {}
out["plain"] = udp(b"hello")
out["dropped_port"] = udp(b"to-9999", sport=9999, tries=2)
out["rewritten"] = udp(b"via-7777", dport=7777)
out["filter_drop"] = udp(b"drop me", tries=2)
out["filter_trunc"] = udp(b"0123456789abcdefXYZ-tail")
out["tcp_echo"] = tcp_echo(64 * 1024)
with urllib.request.urlopen("http://%s/stats" % G, timeout=20) as r:
    out["stats"] = json.loads(r.read())
print(json.dumps(out))
"""


@test
def tc_and_socket_filter_programs():
    with TapNamespace(suffix="-tc") as ns:
        g = Guest("tc-hooks", net="tap", tap=ns.tap,
                  cmdline=ns.guest_cmdline() + " tc.ingress=tc_port_rewrite "
                  "tc.egress=tc_mark echo.filter=sock_trunc")
        g.argv = ns.cmd(g.argv)
        with g:
            expect(g.wait_for(UP, 120), "no address", g)
            expect(g.wait_for(r"echo.filter: sock_trunc attached", 10),
                   "socket filter not attached", g)
            expect(g.wait_for(r"tc.ingress: tc_port_rewrite attached", 1),
                   "tc ingress program not attached", g)
            expect(g.wait_for(r"tc.egress: tc_mark attached", 1),
                   "tc egress program not attached", g)
            r = subprocess.run(ns.cmd([sys.executable, "-c", CLIENT,
                                       ns.guest_ip]),
                               capture_output=True, text=True, timeout=120)
            expect(r.returncode == 0, "client: %r" % r.stderr, g)
            out = json.loads(r.stdout)
    plain = out["plain"]
    expect(plain and plain["data"] == "hello", "plain echo: %r" % plain)
    expect(plain["tos"] == 0xb8, "reply not marked by tc_mark: %r" % plain)
    expect(out["dropped_port"] is None,
           "reply to port 9999 got through: %r" % out["dropped_port"])
    rw = out["rewritten"]
    expect(rw and rw["data"] == "via-7777" and rw["from"] == 7,
           "port 7777 not delivered to echo: %r" % rw)
    expect(out["filter_drop"] is None,
           "socket filter let 'drop me' through: %r" % out["filter_drop"])
    tr = out["filter_trunc"]
    expect(tr and tr["data"] == "0123456789abcdef",
           "not truncated to 16 bytes: %r" % tr)
    expect(out["tcp_echo"], "TCP echo through the same service broke")
    st = out["stats"]
    eg, ing = st["tc"]["egress"], st["tc"]["ingress"]
    expect(eg["prog"]["name"] == "tc_mark" and eg["shot"] >= 1 and
           eg["runs"] >= eg["shot"] + eg["ok"], "egress counters: %r" % eg)
    expect(eg["cycles"] > 0, "no run time counted: %r" % eg)
    expect(ing["prog"]["name"] == "tc_port_rewrite" and ing["runs"] >= 5,
           "ingress counters: %r" % ing)
    sf = st["sockfilter"]
    expect(sf["echo"]["prog"]["name"] == "sock_trunc" and
           sf["echo"]["dropped"] >= 1 and sf["echo"]["truncated"] >= 1,
           "echo filter counters: %r" % sf["echo"])
    expect(sf["http"]["prog"] is None and sf["http"]["runs"] == 0,
           "http has a filter: %r" % sf["http"])
