"""Several CPUs: the application processors the ACPI MADT lists start
(INIT-SIPI-SIPI through the trampoline below 1 MiB) under UEFI and under
the PVH entry (q35 and microvm), each reports "cpu N up"; smp=N limits
them; a CPU that never starts is reported and the rest run on; the
one-vCPU default (-smp 1,maxcpus=2, whose MADT lists a second CPU that is
not enabled) boots as before; /stats counts timer ticks and interrupts on
every CPU; an AP's stack overflow lands on its own guard page; per-CPU
eBPF array copies sum right. The slower UEFI boots cover 1, 2 and 4
vCPUs; the rest boot through PVH, which is quicker."""
import re
import time

from harness import Guest, expect, test
from test_boot import BANNER
from test_http import Client
import skiffqemu

CPU_UP = r"info: cpu (\d+) up \(APIC id (\d+)"
SUMMARY = r"info: smp: (\d+) CPUs? up(.*)$"


def boot_and_count(name, smp, cmdline="test.shutdown=1", **kw):
    g = Guest(name, smp=smp, cmdline=cmdline, **kw)
    with g:
        expect(g.wait_for(BANNER, timeout=120), "no ready banner", g)
        rc = g.wait_exit(timeout=60)
        expect(rc == 0, "power-off should end QEMU with 0, got %r" % rc, g)
    log = g.log()
    s = g.wait_for(SUMMARY, timeout=1)
    expect(s, "no 'smp: N CPUs up' line", g)
    expect("did not come up" not in log and "PANIC" not in log,
           "a CPU failed to start", g)
    ups = [(int(c), int(a)) for c, a in re.findall(CPU_UP, log)]
    return g, ups, int(s.group(1))


def check_all_up(g, ups, count, n):
    expect(count == n, "expected %d CPUs up, the summary says %d" % (n, count),
           g)
    expect(sorted(c for c, _ in ups) == list(range(n)),
           "expected 'cpu N up' for N = 0..%d, got %r" % (n - 1, ups), g)
    expect(len(set(a for _, a in ups)) == n, "APIC IDs repeat: %r" % ups, g)


@test
def smp_one_vcpu_default_unchanged():
    # -smp 1,maxcpus=2: the second CPU is listed in the MADT, not enabled.
    g, ups, count = boot_and_count("smp-1", 1)
    check_all_up(g, ups, count, 1)
    expect("smp: APIC id 1 is listed but not enabled" in g.log(),
           "the absent maxcpus= CPU should be reported as skipped", g)
    expect("AP trampoline" not in g.log(),
           "no trampoline should be set up with nothing to start", g)


@test
def smp_uefi_two_vcpus():
    g, ups, count = boot_and_count("smp-2", 2)
    check_all_up(g, ups, count, 2)


@test
def smp_uefi_four_vcpus():
    g, ups, count = boot_and_count("smp-4", 4)
    check_all_up(g, ups, count, 4)


@test
def smp_pvh_two_vcpus():
    g, ups, count = boot_and_count("smp-pvh-2", 2, boot="direct")
    check_all_up(g, ups, count, 2)
    expect("loader pvh" in g.log(), "not the PVH entry", g)


@test
def smp_limit_from_cmdline():
    g, ups, count = boot_and_count("smp-limit", 4, boot="direct",
                                   cmdline="test.shutdown=1 smp=2")
    check_all_up(g, ups, count, 2)
    expect("smp: smp=2: 2 CPUs left off" in g.log(),
           "smp=2 should leave two of four CPUs off", g)


@test
def smp_stats_per_cpu():
    """Each CPU's own timer ticks and its interrupts show in /stats, and
    the total is the sum of the per-CPU entries."""
    port = skiffqemu.free_port()
    g = Guest("smp-stats", smp=2, boot="direct", net="user",
              hostfwd=[("tcp", port, 80)])
    with g:
        expect(g.wait_for(BANNER, timeout=120), "no ready banner", g)
        c = Client(g, port)
        deadline = time.time() + 60
        while True:
            st = c.stats()["cpus"]
            per = st["per_cpu"]
            # 100 Hz ticks: a second of run time gives each CPU dozens.
            if all(p["timer_ticks"] >= 20 for p in per) or \
                    time.time() > deadline:
                break
            time.sleep(0.5)
    expect(st["online"] == 2 and len(per) == 2,
           "expected 2 CPUs in /stats: %r" % st, g)
    expect([p["cpu"] for p in per] == [0, 1], "CPU numbers %r" % per, g)
    for p in per:
        expect(p["timer_ticks"] >= 20,
               "cpu %d counted too few timer ticks: %r" % (p["cpu"], p), g)
        expect(p["irqs"] >= p["timer_ticks"],
               "cpu %d: irqs must include the ticks: %r" % (p["cpu"], p), g)
    expect(per[1]["ipis"] >= 1, "cpu 1 got no IPI (TLB shoot-down)", g)
    # The NIC's interrupts all go to CPU 0 (lwIP runs there).
    expect(per[0]["irqs"] > per[0]["timer_ticks"],
           "cpu 0 counted no device interrupt: %r" % per[0], g)
    for k in ("irqs", "timer_ticks", "ipis"):
        # Snapshots are taken one after the other: the total may be a
        # little ahead of the earlier per-CPU reads, never behind.
        expect(st["total"][k] <= sum(p[k] for p in per),
               "total %s %d above the sum of %r" % (k, st["total"][k], per),
               g)


@test
def smp_ap_stack_overflow_hits_its_own_guard_page():
    """An AP's main stack runs into its guard page: the double fault runs
    on that AP's own IST stack (its TSS), the panic names the AP's stack,
    stops the other CPU and ends QEMU with the exception's status."""
    g = Guest("smp-fault", smp=2, boot="direct",
              cmdline="test.fault=stack test.fault_cpu=1")
    with g:
        m = g.wait_for(r"PANIC: CPU exception (\d+) \((.*)\), error code",
                       timeout=120)
        expect(m and int(m.group(1)) == 8, "no double fault panic", g)
        rc = g.wait_exit(timeout=30)
    expect(rc == ((0x40 + 8) << 1 | 1), "exit status %r" % rc, g)
    expect("guard page of the cpu1 main stack" in g.log(),
           "the AP's guard page is not named", g)


@test
def smp_percpu_array_xdp_totals():
    """count_percpu (a BPF_MAP_TYPE_PERCPU_ARRAY) on two CPUs, JIT-compiled
    after the AP is up (the W^X sealing then shoots down the AP's TLB):
    one copy per CPU in /stats, the UDP datagrams sent are all counted,
    and "values" is the per-CPU sum."""
    from test_xdp import stats, udp_echo
    http, udp = skiffqemu.free_port(), skiffqemu.free_port()
    g = Guest("smp-percpu-map", smp=2, boot="direct", net="user",
              hostfwd=[("tcp", http, 80), ("udp", udp, 7)],
              cmdline="xdp.prog=count_percpu xdp.jit=1")
    with g:
        expect(g.wait_for(r"net: \w+ up, address", 120), "no address", g)
        expect(g.wait_for(r"xdp: count_percpu attached: .* JIT", 5),
               "count_percpu not attached with the JIT", g)
        before = stats(http)["xdp"]["maps"]["counts"]
        for i in range(10):
            msg = b"percpu-%d" % i
            expect(udp_echo(udp, msg) == msg, "no UDP echo", g)
        after = stats(http)
    m = after["xdp"]["maps"]["counts"]
    per = m["per_cpu"]
    expect(len(per) == 2 and all(len(c) == 5 for c in per),
           "expected 2 CPUs x 5 counters: %r" % m, g)
    for k in range(5):
        expect(m["values"][k] == per[0][k] + per[1][k],
               "values[%d] is not the per-CPU sum: %r" % (k, m), g)
    # Index 4 is UDP; retries may add datagrams, never remove any.
    expect(m["values"][4] - before["values"][4] >= 10,
           "UDP datagrams not counted: %r -> %r" % (before, m), g)
    expect(after["cpus"]["per_cpu"][1]["tlb_flushes"] >= 2,
           "the JIT's sealing did not shoot down cpu 1's TLB: %r" %
           after["cpus"]["per_cpu"][1], g)


@test
def smp_microvm_two_vcpus():
    g, ups, count = boot_and_count("smp-microvm-2", 2, machine="microvm")
    check_all_up(g, ups, count, 2)


@test
def smp_cpu_that_fails_to_start_is_reported():
    """The CPU with APIC ID 2 never gets its SIPIs: after the bounded wait
    it is reported and parked with an INIT, and the next CPU starts under
    the free number (CPU numbers stay dense)."""
    g = Guest("smp-no-sipi", smp=4, boot="direct",
              cmdline="test.shutdown=1 test.no_sipi=2")
    with g:
        expect(g.wait_for(BANNER, timeout=120), "no ready banner", g)
        rc = g.wait_exit(timeout=60)
    expect(rc == 0, "power-off should end QEMU with 0, got %r" % rc, g)
    log = g.log()
    expect(re.search(r"warn: smp: cpu 2 \(APIC id 2\) did not come up "
                     r"\(never reached 64-bit code\): going on without it",
                     log), "the failed CPU is not reported", g)
    ups = sorted((int(c), int(a)) for c, a in re.findall(CPU_UP, log))
    expect(ups == [(0, 0), (1, 1), (2, 3)],
           "expected cpus 0,1,2 on APIC ids 0,1,3: %r" % ups, g)
    expect("smp: 3 CPUs up (some failed to start: see above)" in log,
           "summary should say 3 CPUs and the failure", g)
