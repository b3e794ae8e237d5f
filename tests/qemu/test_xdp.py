"""The XDP-style hook in the guest: udp_reflect answers UDP echo at the hook
without lwIP (its UDP counters stay still), interpreted and JIT-compiled;
blocklist drops what it should and lets the rest through; a program the
verifier refuses is reported at boot and Skiff keeps serving."""
import json
import os
import socket
import subprocess
import sys
import urllib.request

from harness import HERE, ROOT, Guest, expect, test
import skiffqemu

sys.path.insert(0, os.path.join(ROOT, "tools"))
from netns import TapNamespace  # noqa: E402

UP = r"net: \w+ up, address"


def stats(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/stats" % port,
                                timeout=20) as r:
        return json.loads(r.read())


def udp_echo(port, payload, tries=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        for _ in range(tries):
            s.sendto(payload, ("127.0.0.1", port))
            try:
                data, _ = s.recvfrom(4096)
                return data
            except socket.timeout:
                continue
        return None
    finally:
        s.close()


def reflect_round(jit):
    http, udp = skiffqemu.free_port(), skiffqemu.free_port()
    name = "xdp-reflect-" + ("jit" if jit else "interp")
    g = Guest(name, net="user",
              hostfwd=[("tcp", http, 80), ("udp", udp, 7)],
              cmdline="xdp.prog=udp_reflect xdp.jit=%d" % (1 if jit else 0))
    with g:
        expect(g.wait_for(UP, 120), "no address", g)
        expect(g.wait_for(r"xdp: udp_reflect attached: .* %s" %
                          ("JIT" if jit else "interpreted"), 5),
               "program not attached as expected", g)
        before = stats(http)
        for i in range(20):
            msg = b"reflect-%d" % i
            expect(udp_echo(udp, msg) == msg, "no reflected reply", g)
        after = stats(http)
    expect(after["xdp"]["tx"] - before["xdp"]["tx"] >= 20,
           "hook sent %d frames" % (after["xdp"]["tx"] - before["xdp"]["tx"]))
    expect(after["lwip"]["udp"]["recv"] == before["lwip"]["udp"]["recv"],
           "lwIP saw UDP datagrams: %d -> %d" % (before["lwip"]["udp"]["recv"],
                                                after["lwip"]["udp"]["recv"]))
    expect(after["echo"]["udp"]["datagrams"] ==
           before["echo"]["udp"]["datagrams"], "the echo service answered")
    expect(after["xdp"]["jit"] is jit, "jit flag in /stats is wrong")


@test
def xdp_udp_reflect_interpreted():
    reflect_round(False)


@test
def xdp_udp_reflect_jit():
    reflect_round(True)


CLIENT = r"""
import socket, sys
def echo(sport, payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.77.0.1", sport)); s.settimeout(1.5)
    for _ in range(3):
        s.sendto(payload, ("10.77.0.2", 7))
        try:
            return s.recvfrom(4096)[0] == payload
        except socket.timeout:
            pass
    return False
print("blocked-port", echo(40001, b"a"), "other-port", echo(40002, b"b"))
"""


@test
def xdp_blocklist_drops_listed_source():
    with TapNamespace(suffix="-xdp") as ns:
        g = Guest("xdp-blocklist", net="tap", tap=ns.tap,
                  cmdline=ns.guest_cmdline() + " xdp.prog=blocklist "
                  "xdp.blocklist=10.77.0.1:40001,10.77.0.9")
        g.argv = ns.cmd(g.argv)
        with g:
            expect(g.wait_for(UP, 120), "no address", g)
            expect(g.wait_for(r"xdp: blocklist holds 2 entries", 5),
                   "blocklist not filled", g)
            r = subprocess.run(ns.cmd([sys.executable, "-c", CLIENT]),
                               capture_output=True, text=True, timeout=60)
            expect(r.stdout.strip() == "blocked-port False other-port True",
                   "unexpected: %r %r" % (r.stdout, r.stderr), g)
            # TCP from the same host on another port still gets through.
            r = subprocess.run(ns.cmd([sys.executable,
                                       os.path.join(HERE, "netclient.py"),
                                       "tcp-echo", ns.guest_ip, "7", "1000"]),
                               capture_output=True, text=True, timeout=60)
            expect(r.returncode == 0, r.stdout + r.stderr, g)


@test
def xdp_bad_program_is_refused_and_skiff_serves():
    udp = skiffqemu.free_port()
    g = Guest("xdp-bad", net="user", hostfwd=[("udp", udp, 7)],
              cmdline="xdp.prog=unchecked_read")
    with g:
        expect(g.wait_for(UP, 120), "no address", g)
        m = g.wait_for(r"xdp: unchecked_read refused: insn \d+: .*", 5)
        expect(m, "no refusal with an instruction index", g)
        expect(udp_echo(udp, b"still here") == b"still here",
               "lwIP echo does not answer after the refusal", g)
