"""virtio-net driver tests: on q35 (ECAM) and pc (ports 0xcf8), in each
receive mode, the driver logs the device it found and moves frames both
ways (DHCP through QEMU's user network needs a request out and a reply
in); the counters show which path ran. No NIC, or a legacy-only NIC, gives
a clear message and no crash."""
import re

from harness import Guest, expect, test

UP = r"net: \w+ up, address (\d+\.\d+\.\d+\.\d+)/(\d+) gateway"
DRIVER_RX = r"stats: driver rx (\d+) pkts"
DRIVER_IRQ = r"stats: driver irqs rx (\d+) tx (\d+) config (\d+), polls (\d+)"


def last(pattern, text):
    found = re.findall(pattern, text, re.M)
    return found[-1] if found else None


def driver_round_trip(mode, machine="q35"):
    name = "net-%s-%s" % (machine, mode)
    g = Guest(name, machine=machine, net="user",
              cmdline="net.mode=%s net.stats=1" % mode)
    with g:
        m = g.wait_for(UP, timeout=120)
        expect(m, "interface never came up (no DHCP answer)", g)
        expect(m.group(1) == "10.0.2.15", "unexpected address " + m.group(1))
        # Two stats periods after DHCP, so the counters include it.
        seen = g.wait_for(DRIVER_IRQ + r"[\s\S]*" + DRIVER_IRQ, timeout=60)
        expect(seen, "no periodic driver stats", g)
        log = g.log()
    for what in (r"virtio-net@00:0\d\.0: PCI 00:0\d\.0 1af4:1041",
                 r"BAR4 mem64 0x[0-9a-f]+ size 0x4000 prefetchable",
                 r"features offered 0x[0-9a-f]+, accepted 0x[0-9a-f]+",
                 r"MAC 52:54:00:12:34:56", r"link up",
                 r"receive mode %s" % mode):
        expect(re.search(what, log), "log lacks /%s/" % what, g)
    expect(("ECAM" if machine == "q35" else "ports 0xcf8") in log,
           "wrong PCI access method", g)
    rx = int(last(DRIVER_RX, log))
    irq = last(DRIVER_IRQ, log)
    expect(rx >= 1, "driver received nothing", g)
    irq_rx, polls = int(irq[0]), int(irq[3])
    if mode == "poll":
        expect(irq_rx == 0, "poll mode took %d RX interrupts" % irq_rx, g)
        expect(polls > 1000, "poll mode polled only %d times" % polls, g)
    elif mode == "irq":
        expect(irq_rx >= 1, "irq mode counted no RX interrupt", g)
    else:
        expect(irq_rx >= 1 and polls > 0, "hybrid used one path only", g)
    return g


@test
def driver_irq_mode_q35():
    driver_round_trip("irq")


@test
def driver_poll_mode_q35():
    driver_round_trip("poll")


@test
def driver_hybrid_mode_q35():
    driver_round_trip("hybrid")


@test
def driver_irq_mode_pc():
    driver_round_trip("irq", machine="pc")


@test
def driver_poll_mode_pc():
    driver_round_trip("poll", machine="pc")


@test
def driver_hybrid_mode_pc():
    driver_round_trip("hybrid", machine="pc")


@test
def no_nic_is_reported():
    g = Guest("net-none", net="none", cmdline="test.shutdown=1")
    with g:
        expect(g.wait_for(r"^Skiff \S+ ready", timeout=90), "no banner", g)
        expect("no virtio-net device found" in g.log(), "no clear message", g)
        expect(g.wait_exit(30) == 0, "did not power off cleanly", g)


@test
def legacy_only_nic_is_reported():
    g = Guest("net-legacy", net="user", cmdline="test.shutdown=1",
              nic_opts="disable-legacy=off,disable-modern=on")
    with g:
        expect(g.wait_for(r"^Skiff \S+ ready", timeout=90), "no banner", g)
        expect("legacy-only device" in g.log(), "no clear message", g)
        expect(g.wait_exit(30) == 0, "did not power off cleanly", g)
