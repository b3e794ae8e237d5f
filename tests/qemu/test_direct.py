"""Direct boot: build/skiff-pvh.elf started by QEMU's -kernel through the
PVH entry, on q35 and pc (PCI NIC, SeaBIOS's PVH option ROM loads it) and
on microvm (no firmware to speak of, no PCI: a virtio-mmio NIC, the I/O
APIC, hardware-reduced ACPI). Banner, TSC source and the PIT cross-check,
power-off with status 0, and echo/HTTP through a tap in a namespace."""
import os
import subprocess
import sys
import time

from harness import HERE, ROOT, Guest, expect, test
from test_boot import BANNER

sys.path.insert(0, os.path.join(ROOT, "tools"))
from netns import TapNamespace  # noqa: E402

CLIENT = os.path.join(HERE, "netclient.py")
CLOCK = r"clock: TSC (\d+) kHz \(from the (.*)\)"
CHECK = r"clock: check: PIT says (\d+) kHz, (-?\d+) ppm"


def direct_boot(name, machine, cmdline, **kw):
    g = Guest(name, boot="direct", machine=machine, cmdline=cmdline, **kw)
    with g:
        m = g.wait_for(BANNER, timeout=60)
        expect(m, "no ready banner", g)
        rc = g.wait_exit(timeout=30)
        return g, m, rc


def check_banner(g, m, rc):
    expect(m.group(4) == "pvh", "loader should be pvh: " + m.group(0), g)
    expect(int(m.group(2)) > 200, "too little memory: " + m.group(0), g)
    expect("test.shutdown=1" in m.group(6), "cmdline lost: " + m.group(0), g)
    expect(rc == 0, "power-off should end QEMU with 0, got %r" % rc, g)


@test
def direct_q35_boot_and_tsc_check():
    g, m, rc = direct_boot("direct-q35", "q35",
                           "test.shutdown=1 clock.check=1")
    check_banner(g, m, rc)
    c = g.wait_for(CLOCK, timeout=1)
    expect(c and c.group(2) == "ACPI PM timer",
           "q35 under TCG should calibrate on the PM timer", g)
    k = g.wait_for(CHECK, timeout=1)
    expect(k, "no PIT cross-check line", g)
    # Under TCG both timers follow the host clock; a loaded host still
    # stretches single runs, which the medians absorb to well under 5%.
    expect(abs(int(k.group(2))) < 50000,
           "PM timer and PIT disagree: " + k.group(0), g)
    expect("image at 0x100000" in g.log(), "not at the PVH load address", g)


@test
def direct_q35_nic_behind_root_port():
    # The PCI scan follows bridges from bus 0 (it no longer reads all 256
    # buses): a NIC behind a PCIe root port, as libvirt places devices,
    # must still be found on the bus the firmware numbered for it.
    g, m, rc = direct_boot(
        "direct-q35-rootport", "q35", "test.shutdown=1", net="user",
        nic=False,
        extra=["-netdev", "user,id=n0",
               "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1",
               "-device", "virtio-net-pci,netdev=n0,romfile=,"
               "disable-legacy=on,bus=rp1"])
    check_banner(g, m, rc)
    expect(g.wait_for(r"pci: \d+ functions on 2 buses via ECAM", timeout=1),
           "the scan should cover bus 0 and the root port's bus", g)
    expect(g.wait_for(r"virtio-net@01:00\.0: MSI-X on", timeout=1),
           "the NIC behind the root port was not brought up", g)


@test
def direct_pc_boot():
    g, m, rc = direct_boot("direct-pc", "pc", "test.shutdown=1")
    check_banner(g, m, rc)


@test
def direct_microvm_boot_and_poweroff():
    g, m, rc = direct_boot("direct-microvm", "microvm",
                           "test.shutdown=1 clock.check=1")
    check_banner(g, m, rc)
    c = g.wait_for(CLOCK, timeout=1)
    expect(c and c.group(2) == "PIT",
           "microvm (no PM timer, no CPUID leaf under TCG) uses the PIT", g)
    tsc = int(c.group(1))
    k = g.wait_for(CHECK, timeout=1)
    expect(k and abs(int(k.group(2))) < 50000, "PIT runs disagree", g)
    expect(tsc > 100000, "implausible TSC rate %d kHz" % tsc, g)


def run_in(ns, argv, timeout=60):
    r = subprocess.run(ns.cmd(argv), capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).strip()


HTTP_GET = """
import http.client, json, sys
c = http.client.HTTPConnection(sys.argv[1], 80, timeout=10)
for path in ("/", "/healthz", "/stats"):
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    if r.status != 200 or not body:
        sys.exit("GET %s: %d, %d bytes" % (path, r.status, len(body)))
clock = json.loads(body)["clock"]
print("ok http clock=%s tsc_khz=%d" % (clock["source"], clock["tsc_khz"]))
"""


def tap_services(machine, name, mode, clock):
    """Echo (TCP and UDP) and HTTP through a tap, timed from QEMU's start
    to the first answered echo; /stats must name the TSC's source."""
    with TapNamespace(suffix="-" + name) as ns:
        g = Guest(name, boot="direct", machine=machine, net="tap",
                  tap=ns.tap,
                  cmdline=ns.guest_cmdline() + " net.mode=" + mode)
        g.argv = ns.cmd(g.argv)  # QEMU opens the tap inside the namespace
        start = time.time()
        with g:
            first = None
            while time.time() - start < 60 and g.proc.poll() is None:
                rc, out = run_in(ns, [sys.executable, CLIENT, "udp-echo",
                                      ns.guest_ip, "7", "1"], timeout=30)
                if rc == 0:
                    first = time.time() - start
                    break
                time.sleep(0.05)
            expect(first is not None, "no echo answered within 60 s", g)
            print("  %s: QEMU start to first UDP echo %.2f s" % (name, first))
            m = g.wait_for(BANNER, timeout=10)
            expect(m and m.group(4) == "pvh", "no pvh banner", g)
            for size in (1, 1460, 65536):
                rc, out = run_in(ns, [sys.executable, CLIENT, "tcp-echo",
                                      ns.guest_ip, "7", str(size)])
                expect(rc == 0, out, g)
            for size in (1, 1472):
                rc, out = run_in(ns, [sys.executable, CLIENT, "udp-echo",
                                      ns.guest_ip, "7", str(size)])
                expect(rc == 0, out, g)
            rc, out = run_in(ns, [sys.executable, "-c", HTTP_GET,
                                  ns.guest_ip])
            expect(rc == 0, "HTTP through the tap: " + out, g)
            c = g.wait_for(CLOCK, timeout=1)
            expect(c and "clock=%s tsc_khz=%s" % (clock, c.group(1)) in out,
                   "/stats should name the clock source %s and the logged "
                   "rate: %s" % (clock, out), g)
            return g


@test
def direct_microvm_mmio_tap_echo_http():
    g = tap_services("microvm", "direct-microvm-tap", "irq", "pit")
    log = g.log()
    expect("virtio-mmio v2" in log, "not the virtio-mmio NIC", g)
    expect(" (level) -> vector" in log, "NIC line not routed", g)
    # irq mode: the echoes must have come in through the I/O APIC line.
    expect(g.wait_for(r"ioapic: 0xfec00000", timeout=1), "no I/O APIC", g)


@test
def direct_microvm_mmio_hybrid_tap():
    tap_services("microvm", "direct-microvm-hybrid", "hybrid", "pit")


@test
def direct_q35_pci_tap_echo_http():
    g = tap_services("q35", "direct-q35-tap", "irq", "pm_timer")
    expect("MSI-X on" in g.log(), "q35 should use the PCI NIC and MSI-X", g)


@test
def direct_microvm_without_acpi():
    # No ACPI: the NIC comes from QEMU's virtio_mmio.device= on the command
    # line, the I/O APIC from its architectural address; no sleep register
    # and no i8042 either, so power-off is a triple-fault reset (QEMU
    # -no-reboot exits with 0).
    g, m, rc = direct_boot("direct-microvm-noacpi",
                           "microvm,x-option-roms=off,rtc=off,acpi=off",
                           "test.shutdown=1", net="user")
    check_banner(g, m, rc)
    expect("virtio_mmio.device=512@0x" in m.group(6),
           "QEMU passed no device on the command line", g)
    expect(g.wait_for(r"virtio-net@mmio\w+: virtio-mmio v2 .* GSI \d+",
                      timeout=1), "NIC not found from the command line", g)
    expect(g.wait_for(r"net: GSI \d+ \(level\) -> vector", timeout=1),
           "line not routed", g)


@test
def direct_microvm_legacy_mmio_is_reported():
    g, m, rc = direct_boot("direct-microvm-legacy", "microvm",
                           "test.shutdown=1", net="user",
                           extra=["-global", "virtio-mmio.force-legacy=true"])
    expect(rc == 0, "exit status %r" % rc, g)
    expect("legacy layout (version 1)" in g.log(), "no clear message", g)
