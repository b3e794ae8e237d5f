"""The appliance behind a tap device in a network namespace the test
creates (no QEMU user-network proxy in the way): ping, TCP and UDP echo in
each receive mode. The namespace, tap and QEMU are removed afterwards."""
import os
import subprocess
import sys

from harness import HERE, ROOT, Guest, expect, test

sys.path.insert(0, os.path.join(ROOT, "tools"))
from netns import TapNamespace  # noqa: E402

CLIENT = os.path.join(HERE, "netclient.py")


def run_in(ns, argv, timeout=90):
    r = subprocess.run(ns.cmd(argv), capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).strip()


def tap_round(mode):
    with TapNamespace(suffix="-" + mode) as ns:
        g = Guest("tap-" + mode, net="tap", tap=ns.tap,
                  cmdline=ns.guest_cmdline() + " net.mode=" + mode)
        # QEMU must open the tap inside the namespace.
        g.argv = ns.cmd(g.argv)
        with g:
            expect(g.wait_for(r"net: \w+ up, address 10\.77\.0\.2/24",
                              timeout=90), "no static address", g)
            rc, out = run_in(ns, ["ping", "-c", "3", "-W", "2", "-i", "0.3",
                                  ns.guest_ip])
            expect(rc == 0, "ping failed: " + out, g)
            # The largest ping, a 65,535-byte datagram: 45 fragments
            # each way.
            rc, out = run_in(ns, ["ping", "-c", "2", "-W", "5", "-s",
                                  "65507", ns.guest_ip])
            expect(rc == 0, "large ping failed: " + out, g)
            for size in (1, 1460, 65536):
                rc, out = run_in(ns, [sys.executable, CLIENT, "tcp-echo",
                                      ns.guest_ip, "7", str(size)])
                expect(rc == 0, out, g)
            for size in (1, 1472):
                rc, out = run_in(ns, [sys.executable, CLIENT, "udp-echo",
                                      ns.guest_ip, "7", str(size)])
                expect(rc == 0, out, g)
            if mode == "irq":
                # RFC 6528: the SYN-ACKs of 20 connections in a row carry
                # unrelated ISNs (lwIP's default went 6510, 6511, ...).
                rc, out = run_in(ns, [sys.executable, CLIENT, "tcp-isn",
                                      ns.guest_ip, "7", "20"])
                expect(rc == 0, out, g)


@test
def tap_irq_mode():
    tap_round("irq")


@test
def tap_poll_mode():
    tap_round("poll")


@test
def tap_hybrid_mode():
    tap_round("hybrid")
