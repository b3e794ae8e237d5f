"""Multiqueue virtio-net on two vCPUs: a 2-queue tap in a namespace the
test creates, -device virtio-net-pci,mq=on,rss=on,vectors=6, -smp 2 with
multi-threaded TCG. Pair i is served by CPU i (its MSI-X entries routed
there, its bottom half, XDP and TC on that CPU); frames that pass go to
lwIP on CPU 0 through per-pair rings (netdev/rps.h). Checked: many flows
land on both queues and are answered byte-exact (UDP, TCP, HTTP); each
CPU takes its own queue's interrupts; an XDP program with a per-CPU map
counts on both CPUs and sums right; a CPU held busy does not stop CPU 0
from serving. The namespace, tap and QEMU are removed afterwards."""
import json
import os
import subprocess
import sys

from harness import HERE, ROOT, Guest, expect, test

sys.path.insert(0, os.path.join(ROOT, "tools"))
from netns import TapNamespace  # noqa: E402

CLIENT = os.path.join(HERE, "netclient.py")
FLOWS = 32


def run_in(ns, argv, timeout=120):
    r = subprocess.run(ns.cmd([sys.executable, CLIENT] + argv),
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).strip()


def get_stats(ns, g):
    rc, out = run_in(ns, ["http-get", ns.guest_ip, "80", "/stats"])
    expect(rc == 0 and out.startswith("ok "), "GET /stats: " + out[:200], g)
    return json.loads(out[3:])


def mq_guest(ns, name, cmdline=""):
    g = Guest(name, net="tap", tap=ns.tap, smp=2, queues=2, boot="direct",
              cmdline=(ns.guest_cmdline() + " " + cmdline).strip())
    # QEMU opens the tap inside the namespace.
    g.argv = ns.cmd(g.argv)
    return g


def expect_two_pairs(g):
    expect(g.wait_for(r"net: \w+ up, address 10\.77\.0\.2/24", 120),
           "no static address", g)
    expect(g.wait_for(r"2 queue pairs of 2 the device offers, steering by "
                      r"our RSS table", 5), "no 2 pairs with RSS", g)


@test
def mq_flows_land_on_every_queue():
    with TapNamespace(suffix="-mq", queues=2) as ns:
        g = mq_guest(ns, "mq-flows", "net.mode=irq")
        with g:
            expect_two_pairs(g)
            rc, out = run_in(ns, ["udp-flows", ns.guest_ip, "7", str(FLOWS)])
            expect(rc == 0, out, g)
            for port in range(3):
                rc, out = run_in(ns, ["tcp-echo", ns.guest_ip, "7", "65536"])
                expect(rc == 0, out, g)
            with open(os.path.join(ROOT, "www", "index.html"), "rb") as f:
                index = f.read().decode(errors="replace")
            for i in range(4):
                rc, out = run_in(ns, ["http-get", ns.guest_ip, "80",
                                      "/index.html"])
                expect(rc == 0 and out[3:] == index.strip(),
                       "HTTP body differs: " + out[:100], g)
            st = get_stats(ns, g)
    qs = st["queues"]
    expect(len(qs) == 2, "expected 2 queues: %r" % qs)
    for q in qs:
        expect(q["driver"]["rx_packets"] > 0,
               "queue %d received nothing: %r" % (q["queue"], q["driver"]))
        expect(q["driver"]["irqs"]["rx"] > 0,
               "queue %d took no RX interrupt" % q["queue"])
    expect(st["driver"]["rx_packets"] ==
           qs[0]["driver"]["rx_packets"] + qs[1]["driver"]["rx_packets"],
           "driver.rx_packets is not the sum over queues")
    rps = qs[1]["rps"]
    expect(rps["handed"] > 0 and rps["taken"] == rps["handed"],
           "pair 1's frames did not all reach CPU 0: %r" % rps)
    expect(rps["returned"] <= rps["give_backs"] and
           sum(rps["drops"].values()) == 0, "hand-off drops: %r" % rps)
    # Each pair's interrupts go to its own CPU.
    per_cpu = st["cpus"]["per_cpu"]
    expect(per_cpu[1]["irqs"] >= qs[1]["driver"]["irqs"]["rx"],
           "cpu 1 did not take queue 1's interrupts: %r" % per_cpu)
    expect(qs[1]["driver"]["tx_packets"] == 0,
           "lwIP's replies must all leave on pair 0: %r" % qs[1]["driver"])


@test
def mq_xdp_percpu_map_totals():
    with TapNamespace(suffix="-mqxdp", queues=2) as ns:
        g = mq_guest(ns, "mq-xdp", "xdp.prog=count_percpu xdp.jit=1")
        with g:
            expect_two_pairs(g)
            before = get_stats(ns, g)["xdp"]["maps"]["counts"]
            rc, out = run_in(ns, ["udp-flows", ns.guest_ip, "7", str(FLOWS)])
            expect(rc == 0, out, g)
            st = get_stats(ns, g)
    m = st["xdp"]["maps"]["counts"]
    per = m["per_cpu"]
    expect(len(per) == 2, "expected 2 per-CPU copies: %r" % m)
    for k in range(len(m["values"])):
        expect(m["values"][k] == per[0][k] + per[1][k],
               "values[%d] is not the per-CPU sum: %r" % (k, m))
    # Index 4 counts UDP; retries may add datagrams, never remove any.
    expect(m["values"][4] - before["values"][4] >= FLOWS,
           "UDP datagrams not all counted: %r -> %r" % (before, m))
    expect(per[0][4] > 0 and per[1][4] > 0,
           "XDP did not run on both CPUs: %r" % per)
    q1 = st["queues"][1]
    expect(q1["driver"]["rx_packets"] > 0 and q1["rps"]["rx_frames"] > 0,
           "queue 1 idle: %r" % q1)


@test
def mq_busy_cpu_does_not_stop_cpu0():
    with TapNamespace(suffix="-mqbusy", queues=2) as ns:
        g = mq_guest(ns, "mq-busy", "test.busy_cpu=1 test.busy_ms=12000")
        with g:
            expect_two_pairs(g)
            expect(g.wait_for(r"test\.busy_cpu: cpu 1 spins", 30),
                   "cpu 1 did not start spinning", g)
            # CPU 1 spins with interrupts off: flows steered to pair 0
            # are still answered by CPU 0 meanwhile.
            rc, out = run_in(ns, ["udp-flows-some", ns.guest_ip, "7",
                                  str(FLOWS)])
            still_busy = "test.busy_cpu: cpu 1 back" not in g.log()
            expect(rc == 0, "CPU 0 stopped serving: " + out, g)
            expect(still_busy, "cpu 1 was back before the check ended; "
                   "the test proved nothing", g)
            expect(g.wait_for(r"test\.busy_cpu: cpu 1 back", 60),
                   "cpu 1 never came back", g)
            # And afterwards every flow is answered again.
            rc, out = run_in(ns, ["udp-flows", ns.guest_ip, "7", str(FLOWS)])
            expect(rc == 0, out, g)


@test
def mq_xdp_replaced_under_traffic_on_both_queues():
    """Programs swapped and detached at run time while both CPUs run
    them: the old one is freed only after no CPU is inside it, and every
    flow keeps being answered."""
    import threading
    token = "t0k-%d" % os.getpid()
    skiffctl = os.path.join(ROOT, "tools", "skiffctl")
    obj = os.path.join(ROOT, "build", "xdp")
    with TapNamespace(suffix="-mqswap", queues=2) as ns:
        g = mq_guest(ns, "mq-swap", "admin.token=" + token)

        def ctl(*args):
            r = subprocess.run(ns.cmd([sys.executable, skiffctl, "--host",
                                       ns.guest_ip, "--token", token] +
                                      list(args)),
                               capture_output=True, text=True, timeout=60)
            return r.returncode, r.stdout + r.stderr

        with g:
            expect_two_pairs(g)
            expect(g.wait_for(r"admin: endpoint on tcp 9090", 5),
                   "no admin", g)
            stop = threading.Event()
            fails = []

            def traffic():
                while not stop.is_set():
                    rc, out = run_in(ns, ["udp-flows", ns.guest_ip, "7",
                                          "16"])
                    if rc != 0:
                        fails.append(out)

            t = threading.Thread(target=traffic)
            t.start()
            try:
                for i in range(4):
                    rc, out = ctl("prog", "load",
                                  os.path.join(obj, "count_percpu.o"
                                               if i % 2 else "count.o"),
                                  "xdp")
                    expect(rc == 0, "load %d: %s" % (i, out), g)
                rc, out = ctl("prog", "detach", "xdp")
                expect(rc == 0, "detach: " + out, g)
            finally:
                stop.set()
                t.join(timeout=180)
            expect(not fails, "flows went unanswered: %r" % fails[:3], g)
            rc, out = run_in(ns, ["udp-flows", ns.guest_ip, "7", str(FLOWS)])
            expect(rc == 0, out, g)
            st = get_stats(ns, g)
            expect("not freeing" not in g.log(), "a CPU got stuck", g)
    expect(st["xdp"]["attached"] is None, "a program is still attached")
    for q in st["queues"]:
        expect(q["driver"]["rx_packets"] > 0, "queue %d idle" % q["queue"])


@test
def mq_new_connections_answered_right_after_an_xdp_tx_flood():
    """A 2 s flood of 32 UDP flows, reflected at the hook on both queues
    with few buffers posted so the rings keep running dry, then 8 new TCP
    connections, each of which must be answered at once. This catches a
    queue left idle after the flood: QEMU's software RSS parks a frame it
    steered to a full queue on the tap queue it came from, and reads that
    tap queue again only when the guest notifies the queue of the same
    number (drivers/vnet_rx.c, vnet_rx_refill)."""
    blast = os.path.join(HERE, "udp_blast.py")
    with TapNamespace(suffix="-mqflood", queues=2) as ns:
        g = mq_guest(ns, "mq-flood", "net.mode=irq xdp.prog=udp_reflect "
                     "xdp.jit=1 net.rx_posted=16")
        with g:
            expect_two_pairs(g)
            expect(g.wait_for(r"xdp: udp_reflect attached", 5),
                   "udp_reflect not attached", g)
            r = subprocess.run(ns.cmd([sys.executable, blast, ns.guest_ip,
                                       "7", str(FLOWS), "2"]),
                               capture_output=True, text=True, timeout=60)
            expect(r.returncode == 0, "udp_blast: " + r.stderr[-300:], g)
            res = json.loads(r.stdout.strip().splitlines()[-1])
            expect(res["received"] > 0, "nothing reflected: %r" % res, g)
            rc, out = run_in(ns, ["tcp-connects", ns.guest_ip, "7", "8"],
                             timeout=90)
            expect(rc == 0, "after the flood (%r): %s" % (res, out), g)
            st = get_stats(ns, g)
    for q in st["queues"]:
        d = q["driver"]
        expect(d["rx_packets"] > 0, "queue %d idle: %r" % (q["queue"], d))
    # The flood did run the rings dry, or the check above proved nothing.
    expect(sum(q["driver"]["notify"]["rx_siblings"] for q in st["queues"]) > 0,
           "no ring ran dry during the flood: %r" % st["queues"])


@test
def mq_xsk_echo_answers_on_both_queues():
    """The AF_XDP UDP echo with 2 queue pairs: a socket on each queue,
    each served by its queue's CPU. 32 flows (RSS puts some on each
    queue) are answered byte-exact, both sockets took and sent frames,
    and lwIP's UDP echo beside it still answers."""
    port = 7009
    with TapNamespace(suffix="-mqxsk", queues=2) as ns:
        g = mq_guest(ns, "mq-xsk", "net.mode=irq xsk.port=%d" % port)
        with g:
            expect_two_pairs(g)
            for q in range(2):
                expect(g.wait_for(r"xsk: UDP echo on port %d: AF_XDP "
                                  r"socket \d+, \d+ UMEM frames, queue %d"
                                  % (port, q), 5),
                       "no XSK socket on queue %d" % q, g)
            rc, out = run_in(ns, ["udp-flows", ns.guest_ip, str(port),
                                  str(FLOWS)])
            expect(rc == 0, "XSK echo: " + out, g)
            rc, out = run_in(ns, ["udp-flows", ns.guest_ip, "7", "8"])
            expect(rc == 0, "lwIP echo beside it: " + out, g)
            st = get_stats(ns, g)
    socks = {s["queue"]: s for s in st["xsk"]["sockets"]}
    expect(sorted(socks) == [0, 1], "sockets by queue: %r" % sorted(socks))
    for q, s in socks.items():
        expect(s["rx"] > 0 and s["tx"] > 0 and s["rx_bad_queue"] == 0,
               "queue %d's socket: %r" % (q, s))
        expect(s["owned"] == s["frames"],
               "queue %d's socket lost frames: %r" % (q, s))
    expect(st["xsk_echo"]["answered"] >= FLOWS,
           "answered %r" % st["xsk_echo"])
