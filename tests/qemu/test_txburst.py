"""Bursts of UDP datagrams sent back to back through a tap in a namespace
the test creates: every reply must come back, byte-exact, in each receive
mode and with two vCPUs under multi-threaded TCG (where the device
completes TX in its own thread). Replies that find the TX ring full wait
in the software TX queue (/stats "txq"); none may be dropped. The
namespace, tap and QEMU are removed afterwards."""
import json
import os
import subprocess
import sys

from harness import HERE, ROOT, Guest, expect, test

sys.path.insert(0, os.path.join(ROOT, "tools"))
from netns import TapNamespace  # noqa: E402

CLIENT = os.path.join(HERE, "netclient.py")


def run_in(ns, argv, timeout=120):
    r = subprocess.run(ns.cmd(argv), capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).strip()


def burst_round(tag, mode, smp=1, extra="", must_queue=False):
    with TapNamespace(suffix="-b" + tag) as ns:
        g = Guest("txburst-" + tag, net="tap", tap=ns.tap, smp=smp,
                  cmdline=ns.guest_cmdline() + " net.mode=" + mode + extra)
        g.argv = ns.cmd(g.argv)
        with g:
            expect(g.wait_for(r"net: \w+ up, address 10\.77\.0\.2/24",
                              timeout=120), "no static address", g)
            # Resolve ARP first so the burst is not held behind it.
            rc, out = run_in(ns, [sys.executable, CLIENT, "udp-echo",
                                  ns.guest_ip, "7", "8"])
            expect(rc == 0, out, g)
            for count in (100, 500, 100, 500):
                rc, out = run_in(ns, [sys.executable, CLIENT, "udp-burst",
                                      ns.guest_ip, "7", str(count)])
                expect(rc == 0, "%s: %s" % (tag, out), g)
            rc, out = run_in(ns, ["curl", "-s", "--max-time", "20",
                                  "http://%s/stats" % ns.guest_ip])
            expect(rc == 0, "no /stats: " + out, g)
            stats = json.loads(out)
            txq = stats["netif"]["txq"]
            expect(txq["drops"] == 0, "txq drops: %s" % txq, g)
            expect(txq["len"] == 0, "frames still waiting: %s" % txq, g)
            expect(stats["netif"]["drops"]["tx_ring_full"] == 0,
                   "ring-full drops: %s" % stats["netif"]["drops"], g)
            if must_queue:
                expect(txq["queued"] > 0 and txq["hiwat"] > 0,
                       "the burst never waited: %s" % txq, g)


@test
def txburst_irq():
    burst_round("irq", "irq")


@test
def txburst_poll():
    burst_round("poll", "poll")


@test
def txburst_hybrid():
    burst_round("hybrid", "hybrid")


@test
def txburst_irq_two_vcpus():
    burst_round("smp2", "irq", smp=2)


@test
def txburst_small_ring_direct_chains():
    # A 16-entry ring without indirect descriptors (a reply takes 2-3
    # slots) fills within every burst: the queue must carry it. With
    # net.txqueuelen=0 the same bursts lose replies.
    burst_round("direct", "irq", extra=" net.indirect=0 net.tx_ring=16",
                must_queue=True)


@test
def txburst_small_ring_poll_two_vcpus():
    burst_round("small2", "poll", smp=2, extra=" net.tx_ring=16",
                must_queue=True)
