#!/usr/bin/env python3
"""Skiff against a Linux guest on the same QEMU, behind the same tap, in one
network namespace this script creates: `make bench` (QUICK=1 for a few
minutes). See tests/bench/README.md.

    python3 tests/bench/bench.py [--quick] [--rounds N] [--modes irq,poll,hybrid]
                                 [--duration S] [--out DIR]

Environment: QUICK=1, ROUNDS, MODES, DURATION (wrk/ab seconds), MEM (MiB,
default 256), ACCEL (tcg|kvm), LINUX_FW (ovmf|seabios, default ovmf),
LINUX (stock,tuned, or none), CPU (default qemu64), PIN (VCPU:CLIENTS or 0),
XDP, XSK=0, INSNS=0, HOOKS (jit,interp or 0), HOOK_ROUNDS, CHURN
(connections per kind), BOOT_ROUNDS, BOOT_WAYS, MEM_SEARCH, SMP_BENCH=0
(skips the 1 vs 2 vCPU section), SMP_ROUNDS.

Writes build/bench/<timestamp>/results.json, table.md, echo-cdf.png and
the raw round-trip samples, and prints the table."""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, "build")
BENCH = os.path.join(BUILD, "bench")
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, HERE)
import skiffqemu  # noqa: E402
from netns import TapNamespace  # noqa: E402
import linux_guest  # noqa: E402
import insn_count  # noqa: E402

CLIENT = os.path.join(BENCH, "rtt_client")
# Both guests get the same MAC, and the namespace a permanent neighbour
# entry for it: no ARP in the boot-time figure or the first round trips.
GUEST_MAC = "52:54:00:5b:00:02"
LINUX_READY = r"LINUX-GUEST READY uptime=([\d.]+)"
SKIFF_READY = r"net: \w+ up, address"
SKIFF_BOOT_MS = r"ready: .*boot (\d+) ms"
SKIFF_BOOT_STEPS = r"boot: steps \(us\):((?: [\w.]+=\d+)+)"
BOOT_DEADLINE = 120  # s, QEMU start to first answered echo
# The Linux guest's kernel command line, and what the tuned variant adds
# (a latency-minded operator's settings; tests/bench/README.md says why):
# the TSC as clocksource although -smp 1,maxcpus=2 makes the kernel doubt
# it, no speculative-execution mitigations (Skiff has none: one address
# space, no user mode), and busy polling of the NIC's NAPI context in
# epoll and blocking reads (bench.busy_poll=, applied by /init as sysctls).
LINUX_APPEND = "console=ttyS0 quiet panic=-1"
LINUX_TUNING = ("tsc=reliable clocksource=tsc mitigations=off "
                "bench.busy_poll=50")
LINUX_VARIANTS = {"stock": "linux", "tuned": "linux-tuned"}
# The Linux guest with build/xdp/udp_reflect.o attached natively to its
# virtio-net (iproute2 in the initramfs), measured like the xdp-* targets.
LINUX_XDP = "linux-xdp"
XDP_ATTACHED = r"xdp: udp_reflect attached.*"
# The CPU model both guests get under TCG (CPU= overrides). QEMU's default
# model, qemu64, rather than max: with max the Linux guest executes ~30%
# more instructions per operation (XSAVE of the larger FPU state on every
# switch to the echo server or nginx, paths picked by CPUID), measured with
# the counting plugin (tests/bench/README.md); Skiff, which never touches
# the FPU nor switches context, executes the same under both.
DEFAULT_CPU = "qemu64"

# Every per-boot measurement: name -> (unit, better: "lower"|"higher").
METRICS = {
    "boot_s": ("s", "lower"),
    "guest_boot_s": ("s", "lower"),
    "tcp_p50_us": ("us", "lower"),
    "tcp_p90_us": ("us", "lower"),
    "tcp_p99_us": ("us", "lower"),
    "tcp_max_us": ("us", "lower"),
    "udp_p50_us": ("us", "lower"),
    "udp_p90_us": ("us", "lower"),
    "udp_p99_us": ("us", "lower"),
    "udp_max_us": ("us", "lower"),
    "udp_lost": ("packets", "lower"),
    "http1_rps": ("req/s", "higher"),
    "http1_p50_us": ("us", "lower"),
    "http1_p99_us": ("us", "lower"),
    "http16_rps": ("req/s", "higher"),
    "http16_p50_us": ("us", "lower"),
    "http16_p99_us": ("us", "lower"),
    "big_MBps": ("MB/s", "higher"),
    "conn_rps": ("conn/s", "higher"),
    # The 64 B TCP echo round trip while wrk -c16 loads HTTP on the guest.
    "tcp_load_p50_us": ("us", "lower"),
    "tcp_load_p99_us": ("us", "lower"),
    # Skiff only, from its /stats after the load (Linux: null).
    "heap_peak_KiB": ("KiB", "lower"),
    "heap_in_use_KiB": ("KiB", "lower"),
    "pbuf_pool_max": ("pbufs", "lower"),
    "pbuf_ref_max": ("pbufs", "lower"),
}
# The XDP targets: Skiff with udp_reflect attached at the receive hook,
# interpreted or JIT-compiled, measured with the same UDP client.
XDP_VARIANTS = {"interp": 0, "jit": 1}
XDP_LABELS = {"interp": "interpreted", "jit": "JIT"}
# The AF_XDP target: Skiff with xsk.port= (services/xsk_echo.c), its UDP
# echo measured on that port with the same client. No Linux counterpart
# here (an AF_XDP program in the Linux guest would need libxdp and a
# userspace echo built for it).
XSK_TARGET = "xsk-echo"
XSK_PORT = 7009
XSK_READY = r"xsk: UDP echo on port \d+: AF_XDP socket.*"
# Memory search: the -m sizes (MiB) tried upward, per try a bounded boot.
MEM_SIZES_FULL = [16, 24, 32, 48, 64, 96, 128, 192, 256]
MEM_SIZES_QUICK = [32, 64, 128, 256]
MEM_TRY_TIMEOUT = 30  # s per try, QEMU start to first TCP echo
# A try that has visibly failed stops early instead of waiting it out.
MEM_FAIL = (r"PANIC: |Kernel panic|Out of memory|out of memory|"
            r"Not enough memory|RETURN_OUT_OF_RESOURCES|"
            r"!!!! X64 Exception[^!]*!!!!|BdsDxe: failed to load[^\n]*|"
            r"Start PXE over IPv4")


def failure_stage(text):
    """Where a -m try failed, from its serial console: "firmware" (OVMF
    faulted, could not load the image, or fell through to PXE, before the
    guest ran), "guest" (the guest started and then failed), or "unknown"
    (no output at all)."""
    if re.search(r"X64 Exception|BdsDxe: failed to load|Start PXE", text):
        return "firmware"
    if re.search(r"info: Skiff .* starting|PANIC: |Kernel panic|"
                 r"LINUX-GUEST|Linux version|EFI stub", text):
        return "guest"
    return "unknown"
LABELS = {
    "boot_s": "boot: QEMU start to first echo",
    "guest_boot_s": "boot: guest's own (entry to ready)",
    "tcp_p50_us": "TCP echo 64 B p50", "tcp_p90_us": "TCP echo 64 B p90",
    "tcp_p99_us": "TCP echo 64 B p99", "tcp_max_us": "TCP echo 64 B max",
    "udp_p50_us": "UDP echo 64 B p50", "udp_p90_us": "UDP echo 64 B p90",
    "udp_p99_us": "UDP echo 64 B p99", "udp_max_us": "UDP echo 64 B max",
    "udp_lost": "UDP echo lost",
    "http1_rps": "HTTP / keep-alive, 1 conn", "http1_p50_us": "  latency p50",
    "http1_p99_us": "  latency p99",
    "http16_rps": "HTTP / keep-alive, 16 conns",
    "http16_p50_us": "  latency p50", "http16_p99_us": "  latency p99",
    "big_MBps": "HTTP /big.bin, 1 conn", "conn_rps": "new connections (ab, no keep-alive)",
    "tcp_load_p50_us": "TCP echo 64 B p50 under wrk -c16 HTTP load",
    "tcp_load_p99_us": "TCP echo 64 B p99 under wrk -c16 HTTP load",
    "heap_peak_KiB": "Skiff heap peak after the load (/stats heap.peak)",
    "heap_in_use_KiB": "Skiff heap in use after the load (heap.in_use)",
    "pbuf_pool_max": "Skiff pbuf pool high-water mark (pbuf.pool_max)",
    "pbuf_ref_max": "Skiff ref-pbuf high-water mark (pbuf.ref_max)",
}


def is_xdp(target):
    """Targets that only answer UDP through udp_reflect: Skiff's hook
    (xdp-jit, xdp-interp) and Linux's native XDP (linux-xdp)."""
    return target.startswith("xdp-") or target == LINUX_XDP


def is_xsk(target):
    """Skiff's AF_XDP socket echo (services/xsk_echo.c): UDP on XSK_PORT
    answered from the XSK's rings, lwIP never sees it. Skiff only."""
    return target == XSK_TARGET


def udp_only(target):
    """Targets measured on the UDP echo alone (no TCP echo, no HTTP)."""
    return is_xdp(target) or is_xsk(target)


def skiff_cmdline(target, ns, cfg):
    """The guest command line of a Skiff target: skiff-<mode>,
    xdp-<interp|jit> (udp_reflect at the hook, in cfg's XDP mode) or
    xsk-echo (the AF_XDP echo on XSK_PORT, xsk_udp JIT-compiled at the
    hook, same mode)."""
    if is_xsk(target):
        return "%s net.mode=%s xsk.port=%d xdp.jit=1" % (
            ns.guest_cmdline(), cfg["xdp_mode"], XSK_PORT)
    if is_xdp(target):
        return "%s net.mode=%s xdp.prog=udp_reflect xdp.jit=%d" % (
            ns.guest_cmdline(), cfg["xdp_mode"],
            XDP_VARIANTS[target.split("-", 1)[1]])
    return ns.guest_cmdline() + " net.mode=" + target.split("-", 1)[1]

_live = []  # QEMU Popen objects still running, for the signal path


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- building

def build_all(skip_make=False):
    """Skiff (make), the latency client, the Linux guest. Returns paths."""
    os.makedirs(BENCH, exist_ok=True)
    efi = os.path.join(BUILD, "skiff.efi")
    if not skip_make:
        r = subprocess.run(["make", "-C", ROOT], capture_output=True,
                           text=True, timeout=1200)
        if r.returncode != 0:
            if not os.path.exists(efi):
                raise SystemExit("bench: make failed:\n" + r.stderr[-2000:])
            log("bench: make failed; using the existing build/skiff.efi")
    if not os.path.exists(efi):
        raise SystemExit("bench: no build/skiff.efi")
    build_client()
    kernel, initrd = linux_guest.build(log=log)
    return {"efi": efi, "kernel": kernel, "initrd": initrd}


def build_client():
    """The round-trip client and the UDP load, each rebuilt when its
    source is newer."""
    os.makedirs(BENCH, exist_ok=True)
    for exe in (CLIENT, FLOOD):
        src = os.path.join(HERE, os.path.basename(exe) + ".c")
        if (not os.path.exists(exe) or
                os.path.getmtime(src) > os.path.getmtime(exe)):
            subprocess.run(["gcc", "-O2", "-Wall", "-o", exe, src],
                           check=True)


# ---------------------------------------------------------------- guests

def is_linux(target):
    return target.startswith("linux")


def linux_append(target):
    """The Linux guest's kernel command line: stock, or tuned."""
    return LINUX_APPEND + {"linux-tuned": " " + LINUX_TUNING,
                           LINUX_XDP: " bench.xdp=1"}.get(target, "")


def set_cpu(argv, cpu):
    """Both guests get the same CPU model; under KVM it stays `host`."""
    if cpu and "-cpu" in argv:
        i = argv.index("-cpu")
        if argv[i + 1] != "host":
            argv[i + 1] = cpu
    return argv


def qemu_argv(target, ns, paths, log_path, mem, accel, cmdline=None,
              extra=(), cpu=None, smp=1):
    """smp > 1: that many vCPUs under multi-threaded TCG and as many tap
    queues and virtio-net queue pairs (ns must be a multiqueue tap)."""
    common = dict(mem=mem, accel=accel, net="tap", tap=ns.tap,
                  smp=smp, queues=smp,
                  serial="file:" + log_path,
                  nic_opts="disable-legacy=on,mac=" + GUEST_MAC,
                  extra=list(extra))
    if not is_linux(target):
        return set_cpu(skiffqemu.qemu_command(
            vars_tag="bench-skiff", cmdline=cmdline, **common), cpu)
    if is_linux(target):
        argv = skiffqemu.qemu_command(vars_tag="bench-linux", **common)
        # Same machine, firmware and NIC; the kernel instead of the ESP.
        i = argv.index("file=fat:rw:%s,format=raw" % skiffqemu.esp_dir())
        del argv[i - 1:i + 1]
        if os.environ.get("LINUX_FW", "ovmf") == "seabios":
            argv = [a for j, a in enumerate(argv)
                    if not (a.startswith("if=pflash") or
                            (j + 1 < len(argv) and
                             argv[j + 1].startswith("if=pflash")))]
        append = linux_append(target)
        if smp > 1:
            # One nginx worker per vCPU (/init reads bench.workers=).
            append += " bench.workers=%d" % smp
        argv += ["-kernel", paths["kernel"], "-initrd", paths["initrd"],
                 "-append", append]
        return set_cpu(argv, cpu)


class Guest:
    def __init__(self, target, ns, paths, outdir, tag, mem, accel,
                 cmdline=None, extra=(), cpu=None, smp=1):
        self.target = target
        self.log_path = os.path.join(outdir, "logs", "%s-%s.log" % (target, tag))
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self.argv = ns.cmd(qemu_argv(target, ns, paths, self.log_path, mem,
                                     accel, cmdline,
                                     list(extra) + ["-name", "debug-threads=on"],
                                     cpu, smp))
        self.proc = None

    def start(self):
        open(self.log_path, "w").close()
        self.t0 = time.time()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path + ".err", "w"))
        _live.append(self.proc)
        self.pinned = pin_vcpu(self.proc)
        return self

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read().replace("\r", "")
        except OSError:
            return ""

    def wait_for(self, pattern, timeout):
        rx = re.compile(pattern, re.M)
        end = time.time() + timeout
        while time.time() < end:
            m = rx.search(self.log())
            if m or self.proc.poll() is not None:
                return m
            time.sleep(0.05)
        return None

    def stop(self):
        p = self.proc
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        if p in _live:
            _live.remove(p)


def set_guest_neighbour(ns):
    """A permanent neighbour entry for the guest: no ARP in any figure."""
    subprocess.run(["ip", "-n", ns.name, "neigh", "replace", ns.guest_ip,
                    "lladdr", GUEST_MAC, "dev", ns.tap, "nud", "permanent"],
                   check=True)


def _interrupted(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def kill_live(*_):
    for p in list(_live):
        try:
            p.kill()
        except OSError:
            pass


# ---------------------------------------------------------------- clients

def qemu_err(path):
    """The last line QEMU wrote to stderr (why it exited), or ''."""
    try:
        with open(path, errors="replace") as f:
            lines = [x.strip() for x in f if x.strip()]
        return lines[-1] if lines else "exited"
    except OSError:
        return "exited"


# Host cores: QEMU's vCPU thread on one, the clients (round-trip client,
# wrk, ab, curl) on another, so neither steals the other's core. Set by
# run() from cfg["pin"]; None leaves the scheduler free.
PIN = {"vcpu": None, "clients": None}


def client_cmd(argv):
    if PIN["clients"] is None or not shutil.which("taskset"):
        return list(argv)
    return ["taskset", "-c", str(PIN["clients"])] + list(argv)


def pin_vcpu(proc, timeout=10):
    """Pins the vCPU thread(s) of QEMU (named "CPU n/TCG" with -name
    debug-threads=on) to PIN["vcpu"]; returns how many were pinned. QEMU's
    other threads (main loop, I/O) stay where the scheduler puts them."""
    if PIN["vcpu"] is None:
        return 0
    end = time.time() + timeout
    while time.time() < end and proc.poll() is None:
        tids = []
        for pid in _descendants(proc.pid):
            tdir = "/proc/%d/task" % pid
            try:
                for tid in os.listdir(tdir):
                    with open("%s/%s/comm" % (tdir, tid)) as f:
                        if re.match(r"CPU \d+/TCG", f.read()):
                            tids.append(int(tid))
            except OSError:
                continue
        if tids:
            for tid in tids:
                os.sched_setaffinity(tid, {PIN["vcpu"]})
            return len(tids)
        time.sleep(0.05)
    return 0


def _descendants(pid):
    """pid and its descendants (QEMU runs under `ip netns exec`, which
    execs, but be safe with a wrapper in between)."""
    out = [pid]
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            for c in f.read().split():
                out += _descendants(int(c))
    except OSError:
        pass
    return out


def run_ns(ns, argv, timeout):
    try:
        r = subprocess.run(ns.cmd(client_cmd(argv)), capture_output=True,
                           text=True,
                           timeout=timeout)
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired:
        return -1, "", "timeout after %ss" % timeout


def echo_rtt(ns, proto, count, deadline, samples, port=7):
    rc, out, err = run_ns(ns, [CLIENT, proto, ns.guest_ip, str(port), "64",
                               str(count), str(deadline), samples],
                          deadline + 15)
    if rc != 0:
        log("  %s echo failed: %s" % (proto, (err or out).strip()[-300:]))
        return None
    return json.loads(out.strip().splitlines()[-1])


_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6}
_BYTES = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}


def _dur_us(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def wrk(ns, path, conns, duration):
    url = "http://%s%s" % (ns.guest_ip, path)
    rc, out, err = run_ns(ns, ["wrk", "-t1", "-c%d" % conns,
                               "-d%ds" % duration, "--latency",
                               "--timeout", "5s", url], duration + 30)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    reqs = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if rc != 0 or not m or not reqs or int(reqs.group(1)) == 0 or bad:
        log("  wrk %s -c%d: no valid result (%s)" %
            (path, conns, (err or out).strip()[-200:].replace("\n", " | ")))
        return None
    res = {"rps": float(m.group(1)), "requests": int(reqs.group(1))}
    for p in ("50", "90", "99"):
        lm = re.search(r"^\s+%s%%\s+(\S+)" % p, out, re.M)
        res["p%s_us" % p] = _dur_us(lm.group(1)) if lm else None
    tm = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out)
    res["MBps"] = (float(tm.group(1)) * _BYTES[tm.group(2)] / 1e6
                   if tm else None)
    errs = re.search(r"Socket errors: (.*)", out)
    res["socket_errors"] = errs.group(1) if errs else None
    return res


def ab_conn_rate(ns, duration):
    rc, out, err = run_ns(ns, ["ab", "-q", "-c", "1", "-t", str(duration),
                               "-n", "1000000", "-s", "5",
                               "http://%s/" % ns.guest_ip], duration + 30)
    m = re.search(r"Requests per second:\s+([\d.]+)", out)
    failed = re.search(r"Failed requests:\s+(\d+)", out)
    if not m or (failed and int(failed.group(1)) > 0):
        log("  ab: no valid result (%s)" % (err or out).strip()[-200:])
        return None
    return float(m.group(1))


def echo_under_load(ns, cfg, samples):
    """The 64 B TCP echo round trip while `wrk -c16` keeps HTTP busy on
    the same guest: wrk starts first and runs past the echo run's
    deadline, so every round trip is taken under load."""
    d = cfg["duration"]
    wrk_argv = ns.cmd(client_cmd(["wrk", "-t1", "-c16", "-d%ds" % (d + 3),
                                  "--timeout", "5s",
                                  "http://%s/" % ns.guest_ip]))
    w = subprocess.Popen(wrk_argv, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1.0)
        r = echo_rtt(ns, "tcp", cfg["echo_count"], d, samples)
        out, _ = w.communicate(timeout=d + 30)
    except subprocess.TimeoutExpired:
        w.kill()
        w.wait()
        return None
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    if r is None or not re.search(r"(\d+) requests in", out or ""):
        log("  echo under load: no valid result")
        return None
    return r


def skiff_stats(ns):
    """Skiff's /stats JSON (None when it does not answer)."""
    rc, out, _ = run_ns(ns, ["curl", "-s", "-m", "5",
                             "http://%s/stats" % ns.guest_ip], 15)
    try:
        return json.loads(out) if rc == 0 else None
    except ValueError:
        return None


def wait_echo(ns, g, timeout, fail_rx=None):
    """Waits (bounded) for the guest's first TCP echo while watching its
    serial console and QEMU: returns (answered_at or None, why)."""
    argv = ns.cmd(client_cmd([CLIENT, "wait", ns.guest_ip, "7",
                              str(timeout)]))
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    rx = re.compile(fail_rx) if fail_rx else None
    end = time.time() + timeout + 10
    why = "timeout"
    try:
        while time.time() < end:
            if p.poll() is not None:
                out = p.stdout.read()
                if p.returncode == 0:
                    return json.loads(out)["answered_at"], "ok"
                why = "no echo within %ds" % timeout
                break
            if g.proc.poll() is not None:
                why = "QEMU exited (%d)" % g.proc.returncode
                break
            if rx:
                m = rx.search(g.log())
                if m:
                    why = "console: " + m.group(0)
                    break
            time.sleep(0.1)
    finally:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=5)
    return None, why


def http_up(ns):
    rc, out, _ = run_ns(ns, ["curl", "-s", "-m", "3", "-o", "/dev/null",
                             "-w", "%{http_code}",
                             "http://%s/" % ns.guest_ip], 10)
    return out.strip() == "200"


# ---------------------------------------------------------------- one boot

def measure(target, ns, paths, outdir, tag, cfg):
    """Boots one guest, measures everything, stops it. Returns a dict with
    every METRICS key (None where a measurement did not complete)."""
    res = {k: None for k in METRICS}
    res["http_available"] = False
    xdp, xsk = is_xdp(target), is_xsk(target)
    if xdp:
        res.update({"xdp_attached": None, "xdp_tx": None,
                    "lwip_udp_recv_delta": None})
    if xsk:
        res.update({"xsk_started": None, "xsk_answered": None,
                    "lwip_udp_recv_delta": None})
    g = Guest(target, ns, paths, outdir, tag, cfg["mem"], cfg["accel"],
              None if is_linux(target) else skiff_cmdline(target, ns, cfg),
              cpu=cfg.get("cpu"))
    try:
        g.start()
        res["vcpu_pinned"] = g.pinned
        rc, out, err = run_ns(ns, [CLIENT, "wait", ns.guest_ip, "7",
                                   str(BOOT_DEADLINE)], BOOT_DEADLINE + 15)
        if rc != 0:
            log("  %s: no echo within %ds; serial tail:\n%s" %
                (target, BOOT_DEADLINE, g.log()[-800:]))
            return res
        res["boot_s"] = round(json.loads(out)["answered_at"] - g.t0, 3)
        if is_linux(target):
            m = g.wait_for(LINUX_READY, 30)
            res["guest_boot_s"] = float(m.group(1)) if m else None
        else:
            g.wait_for(SKIFF_READY, 30)
            m = re.search(SKIFF_BOOT_MS, g.log())
            res["guest_boot_s"] = int(m.group(1)) / 1000.0 if m else None
        sdir = os.path.join(outdir, "samples")
        os.makedirs(sdir, exist_ok=True)
        before = None
        if xdp:
            # The hook must really be answering: its TX counter moves and
            # lwIP's UDP receive counter does not.
            m = g.wait_for(XDP_ATTACHED, 10)
            res["xdp_attached"] = m.group(0).strip() if m else None
            before = None if is_linux(target) else skiff_stats(ns)
        if xsk:
            # Likewise: the XSK echo's answered counter moves, lwIP's UDP
            # receive counter does not.
            m = g.wait_for(XSK_READY, 10)
            res["xsk_started"] = m.group(0).strip() if m else None
            before = skiff_stats(ns)
        for proto in (("udp",) if udp_only(target) else ("tcp", "udp")):
            r = echo_rtt(ns, proto, cfg["echo_count"], cfg["echo_deadline"],
                         os.path.join(sdir, "%s-%s-%s.txt" %
                                      (target, tag, proto)),
                         port=XSK_PORT if xsk else 7)
            if r:
                for p in ("p50", "p90", "p99", "max"):
                    res["%s_%s_us" % (proto, p)] = r[p + "_us"]
                if proto == "udp":
                    res["udp_lost"] = r["lost"]
        if xdp and is_linux(target):
            if not res["xdp_attached"]:
                log("  %s: udp_reflect not attached; UDP figures dropped"
                    % target)
                for p in ("p50", "p90", "p99", "max"):
                    res["udp_%s_us" % p] = None
        elif xsk:
            after = skiff_stats(ns)
            try:
                res["xsk_answered"] = (after["xsk_echo"]["answered"] -
                                       before["xsk_echo"]["answered"])
                res["lwip_udp_recv_delta"] = (after["lwip"]["udp"]["recv"] -
                                              before["lwip"]["udp"]["recv"])
            except (TypeError, KeyError):
                log("  %s: /stats without xsk_echo/lwip counters" % target)
            if (not res["xsk_started"] or not res["xsk_answered"] or
                    res["lwip_udp_recv_delta"] != 0):
                log("  %s: the XSK echo did not answer alone (%s, answered "
                    "%s, lwIP udp.recv +%s); its UDP figures are dropped" %
                    (target, res["xsk_started"], res["xsk_answered"],
                     res["lwip_udp_recv_delta"]))
                for p in ("p50", "p90", "p99", "max"):
                    res["udp_%s_us" % p] = None
        elif xdp:
            after = skiff_stats(ns)
            try:
                res["xdp_tx"] = after["xdp"]["tx"] - before["xdp"]["tx"]
                res["lwip_udp_recv_delta"] = (after["lwip"]["udp"]["recv"] -
                                              before["lwip"]["udp"]["recv"])
            except (TypeError, KeyError):
                log("  %s: /stats without xdp/lwip counters" % target)
            if not res["xdp_attached"] or not res["xdp_tx"]:
                log("  %s: udp_reflect not answering at the hook (%s, tx %s);"
                    " its UDP figures are dropped" %
                    (target, res["xdp_attached"], res["xdp_tx"]))
                for p in ("p50", "p90", "p99", "max"):
                    res["udp_%s_us" % p] = None
        elif http_up(ns):
            res["http_available"] = True
            d = cfg["duration"]
            for conns in (1, 16):
                w = wrk(ns, "/", conns, d)
                if w:
                    res["http%d_rps" % conns] = w["rps"]
                    res["http%d_p50_us" % conns] = w["p50_us"]
                    res["http%d_p99_us" % conns] = w["p99_us"]
            w = wrk(ns, "/big.bin", 1, d)
            if w:
                res["big_MBps"] = w["MBps"]
            res["conn_rps"] = ab_conn_rate(ns, d)
            lat = echo_under_load(ns, cfg, os.path.join(
                sdir, "%s-%s-tcpload.txt" % (target, tag)))
            if lat:
                res["tcp_load_p50_us"] = lat["p50_us"]
                res["tcp_load_p99_us"] = lat["p99_us"]
        else:
            log("  %s: HTTP on port 80 not answering; HTTP fields null"
                % target)
        if not is_linux(target) and not udp_only(target):
            st = skiff_stats(ns)
            try:
                res["heap_peak_KiB"] = round(st["heap"]["peak"] / 1024, 1)
                res["heap_in_use_KiB"] = round(st["heap"]["in_use"] / 1024, 1)
                res["pbuf_pool_max"] = st["pbuf"]["pool_max"]
                res["pbuf_ref_max"] = st["pbuf"]["ref_max"]
            except (TypeError, KeyError):
                log("  %s: no heap/pbuf figures from /stats" % target)
        if g.proc.poll() is not None:
            log("  %s: QEMU exited during the run" % target)
            res["qemu_exited"] = qemu_err(g.log_path + ".err")
    finally:
        g.stop()
    return res


# ---------------------------------------------------------------- SMP

# The 2-vCPU comparison (issue 14): each guest with 1 and 2 vCPUs, the
# 2-vCPU boots with 2 tap queues and 2 virtio-net queue pairs (RSS), Skiff
# in irq mode (one bottom half per queue, RPS to CPU 0), Linux with its
# multiqueue virtio_net and nginx with one worker per vCPU.
SMP_VCPUS = (1, 2)
SMP_SKIFF = "skiff-irq"
SMP_LINUX = "linux"
SMP_METRICS = ("boot_s", "http16_rps", "http16_p50_us", "http16_p99_us",
               "reflect_pps", "sent_pps", "drop_pps", "drop_sent_pps")
# The XDP reflect rate: udp_flood from SMP_FLOWS source ports (RSS
# spreads them over both queues) at udp_reflect, replies counted.
FLOOD = os.path.join(BENCH, "udp_flood")
SMP_FLOWS = 32
SKIFF_PAIRS = r"\d+ queue pairs? of \d+ the device offers[^\n]*"
LINUX_QUEUES = r"queues: [^\n]*"


def measure_smp_boot(target, vcpus, ns, paths, outdir, tag, cfg):
    """One boot of target with vcpus vCPUs (and as many queue pairs) on
    ns: the first echo, then wrk -c16 on /. Returns SMP_METRICS plus what
    the guest said about its queues and, for Skiff, each queue's received
    frames from /stats."""
    res = {k: None for k in SMP_METRICS}
    res.update({"vcpus": vcpus, "queues_line": None, "queue_rx": None})
    g = Guest(target, ns, paths, outdir, "%s-smp%d" % (tag, vcpus),
              cfg["mem"], cfg["accel"],
              None if is_linux(target) else skiff_cmdline(target, ns, cfg),
              cpu=cfg.get("cpu"), smp=vcpus)
    try:
        g.start()
        at, why = wait_echo(ns, g, BOOT_DEADLINE)
        if at is None:
            log("  %s, %d vCPU: no echo (%s); serial tail:\n%s" %
                (target, vcpus, why, g.log()[-800:]))
            res["qemu_exited"] = why
            return res
        res["boot_s"] = round(at - g.t0, 3)
        # Linux's echo server answers before nginx has started.
        g.wait_for(LINUX_READY if is_linux(target) else SKIFF_READY, 30)
        # Skiff says nothing of queue pairs on a single-queue NIC.
        if is_linux(target) or vcpus > 1:
            m = g.wait_for(LINUX_QUEUES if is_linux(target) else SKIFF_PAIRS,
                           30)
            res["queues_line"] = m.group(0).strip() if m else None
        if is_xdp(target):
            measure_reflect(target, g, ns, cfg, res)
            measure_drop(target, g, ns, cfg, res)
            return res
        if is_xsk(target):
            measure_reflect(target, g, ns, cfg, res)
            return res
        w = wrk(ns, "/", 16, cfg["duration"]) if http_up(ns) else None
        if w:
            res["http16_rps"] = w["rps"]
            res["http16_p50_us"] = w["p50_us"]
            res["http16_p99_us"] = w["p99_us"]
        if not is_linux(target):
            st = skiff_stats(ns) or {}
            res["queue_rx"] = [q.get("driver", {}).get("rx_packets")
                               for q in st.get("queues", [])] or None
        if g.proc.poll() is not None:
            res["qemu_exited"] = qemu_err(g.log_path + ".err")
    finally:
        g.stop()
    return res


def answered_at_hook(st):
    """What Skiff answered without lwIP: udp_reflect's XDP_TX frames and
    the AF_XDP echo's replies (None when /stats did not answer)."""
    try:
        return st["xdp"]["tx"] + ((st.get("xsk_echo") or {})
                                  .get("answered") or 0)
    except (TypeError, KeyError):
        return None


def measure_reflect(target, g, ns, cfg, res):
    """udp_reflect's (or the AF_XDP echo's) rate under udp_flood: the
    replies the sender got per second, kept only when the program is
    attached and (Skiff) its XDP_TX or XSK counter moved at least as
    much."""
    m = g.wait_for(XSK_READY if is_xsk(target) else XDP_ATTACHED, 10)
    res["xdp_attached"] = m.group(0).strip() if m else None
    before = None if is_linux(target) else skiff_stats(ns)
    port = XSK_PORT if is_xsk(target) else 7
    rc, out, err = run_ns(ns, [FLOOD, ns.guest_ip, str(port),
                               str(SMP_FLOWS), str(cfg["duration"])],
                          cfg["duration"] + 30)
    try:
        b = json.loads(out.strip().splitlines()[-1]) if rc == 0 else None
    except (ValueError, IndexError):
        b = None
    if b is None:
        log("  %s: udp_flood failed: %s" % (target, (err or out)[-300:]))
        return
    res["blast"] = b
    if not is_linux(target):
        after = skiff_stats(ns)
        a, b0 = answered_at_hook(after), answered_at_hook(before)
        res["xdp_tx"] = a - b0 if a is not None and b0 is not None else None
        if is_xsk(target):
            # Frames each queue's socket sent: every queue's CPU answers.
            res["xsk_tx_per_queue"] = [
                x.get("tx") for x in ((after or {}).get("xsk") or {})
                .get("sockets", [])] or None
        res["queue_rx"] = [q.get("driver", {}).get("rx_packets")
                           for q in (after or {}).get("queues", [])] or None
    ok = res["xdp_attached"] and b["received"] > 0 and (
        is_linux(target) or (res["xdp_tx"] or 0) >= b["received"])
    if not ok:
        log("  %s: udp_reflect not answering (%s, tx %s, replies %s); no "
            "rate" % (target, res["xdp_attached"], res.get("xdp_tx"),
                      b["received"]))
        return
    res["reflect_pps"] = b["received_pps"]
    res["sent_pps"] = b["sent_pps"]


# The Linux guest's eth0 counters, printed once a second with bench.xdp=1
# (tests/bench/linux-guest/init).
LINUX_NETDEV = re.compile(r"netdev: rx_packets=(\d+) rx_dropped=(\d+)")
DISCARD_PORT = 9  # udp_reflect drops it at the hook (XDP_DROP)


def linux_netdev(g):
    """The last (rx_packets, rx_dropped) the Linux guest printed."""
    m = LINUX_NETDEV.findall(g.log())
    return tuple(int(x) for x in m[-1]) if m else None


def xdp_dropped(target, g, ns):
    """Frames XDP dropped so far: Skiff's xdp.drop counter, Linux's eth0
    rx_dropped (None when the guest does not say)."""
    if is_linux(target):
        n = linux_netdev(g)
        return n[1] if n else None
    try:
        return skiff_stats(ns)["xdp"]["drop"]
    except (TypeError, KeyError):
        return None


def measure_drop(target, g, ns, cfg, res):
    """udp_reflect's drop rate: udp_flood at the discard port, which
    the program drops at the hook; the rate is the frames the guest
    counted as XDP drops during the blast, per second of it. Linux's
    counters come once a second, so both reads wait 1.5 s for a fresh
    line; nothing else is dropped meanwhile."""
    if is_linux(target):
        time.sleep(1.5)
    before = xdp_dropped(target, g, ns)
    rc, out, err = run_ns(ns, [FLOOD, ns.guest_ip,
                               str(DISCARD_PORT), str(SMP_FLOWS),
                               str(cfg["duration"])], cfg["duration"] + 30)
    try:
        b = json.loads(out.strip().splitlines()[-1]) if rc == 0 else None
    except (ValueError, IndexError):
        b = None
    if b is None or before is None:
        log("  %s: no drop rate (counter %s, udp_flood %s)" %
            (target, before, (err or out)[-300:]))
        return
    time.sleep(1.5)
    after = xdp_dropped(target, g, ns)
    if after is None or after <= before:
        log("  %s: XDP dropped nothing (%s -> %s); no drop rate" %
            (target, before, after))
        return
    res["drop_pps"] = round((after - before) / b["seconds"], 1)
    res["drop_sent_pps"] = b["sent_pps"]


def smp_scaling(runs, key):
    """{vcpus: summary of each SMP_METRICS} and the 2/1 ratio of key's
    medians (None when either is missing)."""
    summ = {str(v): {k: summarise_vals([r[k] for r in runs[str(v)]
                                        if r.get(k) is not None])
                     for k in SMP_METRICS} for v in SMP_VCPUS}
    one = (summ["1"][key] or {}).get("median")
    two = (summ["2"][key] or {}).get("median")
    return summ, (round(two / one, 3) if one and two else None)


def measure_smp(ns1, paths, outdir, cfg):
    """The SMP section: cfg["smp_rounds"] rounds of each guest with 1 vCPU
    (on ns1, the bench's single-queue tap) and 2 vCPUs (on a 2-queue tap
    in a namespace of its own). No core pinning here: the vCPU threads and
    wrk share the host's cores, which the report says."""
    linux = bool(cfg.get("linux"))
    targets = [SMP_SKIFF] + ([SMP_LINUX] if linux else [])
    if cfg.get("xdp"):
        # Skiff's hook in irq mode (one bottom half per queue), and the
        # same object under Linux's native XDP.
        targets += ["xdp-" + ("jit" if "jit" in cfg["xdp"] else
                              cfg["xdp"][0])] + ([LINUX_XDP] if linux else [])
    if cfg.get("xsk"):
        # The AF_XDP echo: a socket per queue, each served by its CPU.
        targets.append(XSK_TARGET)
    cfg = dict(cfg, xdp_mode="irq")
    out = {"vcpus": list(SMP_VCPUS), "rounds": cfg["smp_rounds"],
           "duration_s": cfg["duration"], "host_cpus": os.cpu_count(),
           "pinned": False, "targets": {}}
    runs = {t: {str(v): [] for v in SMP_VCPUS} for t in targets}
    saved = dict(PIN)
    PIN.update({"vcpu": None, "clients": None})
    ns2 = TapNamespace(suffix="-bsmp", queues=max(SMP_VCPUS))
    try:
        ns2.__enter__()
        set_guest_neighbour(ns2)
        for rnd in range(cfg["smp_rounds"]):
            for t in targets:
                for v in SMP_VCPUS:
                    log("bench: SMP round %d/%d, %s, %d vCPU" %
                        (rnd + 1, cfg["smp_rounds"], t, v))
                    r = measure_smp_boot(t, v, ns1 if v == 1 else ns2, paths,
                                         outdir, "r%d" % (rnd + 1), cfg)
                    r["round"] = rnd + 1
                    runs[t][str(v)].append(r)
                    log("  " + ", ".join("%s=%s" % (k, r.get(k)) for k in
                                         SMP_METRICS + ("queues_line",
                                                        "queue_rx")))
    finally:
        PIN.update(saved)
        ns2.close()
    for t in targets:
        key = "reflect_pps" if is_xdp(t) or is_xsk(t) else "http16_rps"
        summ, ratio = smp_scaling(runs[t], key)
        out["targets"][t] = {"runs": runs[t], "summary": summ,
                             "metric": key, "scaling": ratio}
        if is_xdp(t):
            out["targets"][t]["drop_scaling"] = smp_scaling(
                runs[t], "drop_pps")[1]
    return out


def smp_table(results):
    """Per guest: HTTP req/s at 16 connections, or udp_reflect's reflected
    and dropped packets/s, or the AF_XDP echo's replies/s, with 1 and 2
    vCPUs, and the 2/1 ratio."""
    smp = results.get("smp")
    if not smp or not smp.get("targets"):
        return []
    lines = ["", "Several vCPUs (issue 14), %d s per run, %d round(s), "
             "medians [min–max]. 1 vCPU: `-smp 1,maxcpus=2`, one queue pair; "
             "2 vCPUs: `-smp 2 -accel tcg,thread=multi`, a 2-queue tap, "
             "`virtio-net-pci,mq=on,rss=on,vectors=6`. HTTP: keep-alive on "
             "/, `wrk -t1 -c16`; Skiff in irq mode (a bottom half per "
             "queue, frames handed to CPU 0's lwIP), Linux with its "
             "multiqueue virtio_net and one nginx worker per vCPU. XDP "
             "reflect: udp_reflect (Skiff's hook JIT-compiled, irq mode; "
             "Linux native XDP) answering `udp_flood` (C, sendmmsg) from %d source "
             "ports, replies received per second; the AF_XDP echo (a socket "
             "per queue) the same load on its port. Nothing is pinned here: on "
             "this %s-core host the load generators (wrk, udp_flood) and "
             "QEMU's device thread share the cores with the vCPU threads, "
             "so a ratio near 1 can mean the host ran out of cores, not the "
             "guest of parallelism." % (smp["duration_s"], smp["rounds"],
                                        SMP_FLOWS, smp.get("host_cpus")),
             "", "| guest | figure | 1 vCPU | 2 vCPUs | 2/1 | queues seen "
             "with 2 vCPUs |", "|---|---|---|---|---|---|"]
    for t, d in smp["targets"].items():
        key = d.get("metric", "http16_rps")
        unit = "pkt/s" if key == "reflect_pps" else "req/s"
        two = d["runs"]["2"]
        seen = next((r["queues_line"] for r in two if r.get("queues_line")),
                    None)
        rx = next((r["queue_rx"] for r in two if r.get("queue_rx")), None)
        if rx:
            seen = "%s; frames per queue %s" % (seen, rx)
        ratio = d.get("scaling")
        cells = [cell(d["summary"][v][key], unit) for v in ("1", "2")]
        if key == "reflect_pps":
            # What the sender managed: reflected close to sent means the
            # sender, not the guest, was the limit.
            cells = ["%s of %s sent" % (c, fmt(d["summary"][v]["sent_pps"]
                                               ["median"], unit))
                     for c, v in zip(cells, ("1", "2"))]
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            target_label(t), "reflected (pkt/s)" if key == "reflect_pps"
            else "HTTP -c16 (req/s)", cells[0], cells[1],
            "%.2f" % ratio if ratio else "–", seen or "–"))
        if key == "reflect_pps" and is_xdp(t):
            cells = ["%s of %s sent" % (
                cell(d["summary"][v].get("drop_pps") or {"median": None},
                     unit),
                fmt((d["summary"][v].get("drop_sent_pps") or {})
                    .get("median"), unit)) for v in ("1", "2")]
            ratio = d.get("drop_scaling")
            lines.append("| %s | dropped (pkt/s) | %s | %s | %s | |" % (
                target_label(t), cells[0], cells[1],
                "%.2f" % ratio if ratio else "–"))
    missing = ["%s %s vCPU round %d" % (t, v, r["round"])
               for t, d in smp["targets"].items() for v, rs in
               d["runs"].items() for r in rs
               if r.get(d.get("metric", "http16_rps")) is None]
    if missing:
        lines += ["", "SMP boots without a figure: " + ", ".join(missing) +
                  "."]
    lines += ["", "XDP drop: the same udp_reflect object drops UDP to the "
              "discard port (9) at the hook; the rate is what the guest "
              "counted as XDP drops (Skiff's `xdp.drop`, Linux's eth0 "
              "rx_dropped) per second of the same `udp_flood` load. A "
              "rate close to its sent rate was bounded by the sender, not "
              "the guest."]
    return lines


# Instruction counting: per operation, on a boot of its own with the
# plugin loaded (the timed boots run without it). name -> label.
INSN_OPS = {
    "tcp_echo": "TCP echo 64 B (one round trip)",
    "udp_echo": "UDP echo 64 B (one round trip)",
    "http_keepalive": "HTTP GET / keep-alive (one request, wrk -c1)",
    "new_conn": "new connection: connect, GET /, close (ab -c1)",
    "xdp_reflect": "UDP echo answered by XDP udp_reflect",
    "xsk_echo": "UDP echo answered by the AF_XDP socket echo (`xsk.port`)",
}
INSN_TOP = 25  # functions kept per workload in the profile


def insn_workloads(target, ns, cfg, outdir):
    """(op name, callable returning the operations it performed or None)
    for one target: the same clients as the timed runs, fixed sizes."""
    n = cfg["insn_echo_count"]
    # Apart from samples/: these round trips ran with the plugin loaded.
    sdir = os.path.join(outdir, "samples-insn")
    os.makedirs(sdir, exist_ok=True)

    def echo(proto, port=7):
        def run():
            r = echo_rtt(ns, proto, n, cfg["echo_deadline"],
                         os.path.join(sdir, "%s-insn-%s.txt" % (target,
                                                                proto)),
                         port=port)
            return None if r is None else n + 20 - (r.get("lost") or 0)
        return run

    def keepalive():
        w = wrk(ns, "/", 1, cfg["insn_http_s"])
        return w["requests"] if w else None

    def new_conns():
        k = cfg["insn_conns"]
        rc, out, err = run_ns(ns, ["ab", "-q", "-c", "1", "-n", str(k),
                                   "-s", "5", "http://%s/" % ns.guest_ip],
                              k + 30)
        m = re.search(r"Complete requests:\s+(\d+)", out)
        failed = re.search(r"Failed requests:\s+(\d+)", out)
        if not m or (failed and int(failed.group(1))):
            log("  ab -n %d: no valid result" % k)
            return None
        return int(m.group(1))

    if is_xdp(target):
        return [("xdp_reflect", echo("udp"))]
    if is_xsk(target):
        return [("xsk_echo", echo("udp", XSK_PORT))]
    return [("tcp_echo", echo("tcp")), ("udp_echo", echo("udp")),
            ("http_keepalive", keepalive), ("new_conn", new_conns)]


def measure_insns(target, ns, paths, outdir, cfg):
    """One boot of target with the instruction-counting plugin: guest
    instructions per operation of each workload, the idle rate, and for
    Skiff the functions they were spent in. Returns a dict."""
    sock = os.path.join(outdir, "insn-%s.sock" % target)
    res = {"idle_per_s": None, "ops": {}}
    # Skiff's XDP targets count in irq mode whatever the timed rounds use:
    # in poll or hybrid mode the empty polls would swamp a reflect's cost.
    g = Guest(target, ns, paths, outdir, "insn", cfg["mem"], cfg["accel"],
              None if is_linux(target) else
              skiff_cmdline(target, ns, dict(cfg, xdp_mode="irq")),
              extra=insn_count.qemu_args(sock), cpu=cfg.get("cpu"))
    syms, base = None, 0
    try:
        g.start()
        rc, out, err = run_ns(ns, [CLIENT, "wait", ns.guest_ip, "7",
                                   str(BOOT_DEADLINE)], BOOT_DEADLINE + 15)
        if rc != 0:
            log("  %s (counting): no echo within %ds; %s" %
                (target, BOOT_DEADLINE, qemu_err(g.log_path + ".err")))
            return res
        if is_linux(target):
            g.wait_for(LINUX_READY, 30)
        else:
            g.wait_for(SKIFF_READY, 30)
            m = re.search(r"image at (0x[0-9a-f]+)", g.log())
            elf = os.path.join(BUILD, "skiff.elf")
            if m and os.path.exists(elf):
                syms, base = insn_count.elf_symbols(elf), int(m.group(1), 16)
        if is_xdp(target):
            g.wait_for(XDP_ATTACHED, 10)
        if is_xsk(target):
            g.wait_for(XSK_READY, 10)
        time.sleep(0.5)
        c0, t0 = insn_count.count(sock), time.time()
        time.sleep(1.0)
        c1, t1 = insn_count.count(sock), time.time()
        if c0 is None or c1 is None:
            log("  %s (counting): the plugin does not answer" % target)
            return res
        res["idle_per_s"] = round((c1 - c0) / (t1 - t0))
        for op, run in insn_workloads(target, ns, cfg, outdir):
            p0 = insn_count.profile(sock) if syms else None
            c0, t0 = insn_count.count(sock), time.time()
            ops = run()
            c1, t1 = insn_count.count(sock), time.time()
            p1 = insn_count.profile(sock) if syms else None
            if not ops or c0 is None or c1 is None:
                continue
            entry = {"ops": ops, "insns": c1 - c0,
                     "per_op": round((c1 - c0) / ops), "wall_s":
                     round(t1 - t0, 2)}
            if p0 and p1:
                fn = insn_count.by_function(
                    insn_count.profile_delta(p0, p1), syms, base)
                top = sorted(fn.items(), key=lambda x: -x[1])[:INSN_TOP]
                entry["top"] = [[f, round(v / ops, 1)] for f, v in top]
            res["ops"][op] = entry
            log("  %s: %s instructions per %s (%d ops)" %
                (target, entry["per_op"], op, ops))
    finally:
        g.stop()
    return res


# Hook costs: guest instructions per UDP echo (one 64 B datagram in, its
# answer out) through Skiff's lwIP echo service with no program, then with
# a program that passes everything at one hook at a time, loaded and
# detached at run time through the admin endpoint (tools/skiffctl); one
# counting boot (net.mode=irq) per JIT/interpreter, the no-program
# baseline measured again every round. admin hook -> (object, label).
HOOKS = {
    "xdp": ("xdp_pass", "XDP (`xdp_pass`, `XDP_PASS`)"),
    "tc-ingress": ("tc_pass", "TC ingress (`tc_pass`, `TC_ACT_OK`)"),
    "tc-egress": ("tc_pass", "TC egress (`tc_pass`, on the answer)"),
    "socket-echo": ("sock_pass", "socket filter, echo service "
                                 "(`sock_pass`, keeps `len`)"),
}
HOOK_TOKEN = "bench-hooks"
ADMIN_PORT = 9090
SKIFFCTL = os.path.join(ROOT, "tools", "skiffctl")


def skiffctl(ns, *args):
    """tools/skiffctl --json against the guest's admin endpoint: the
    decoded answer, or None (why is logged)."""
    rc, out, err = run_ns(ns, [sys.executable, SKIFFCTL, "--json",
                               "--host", ns.guest_ip, "--port",
                               str(ADMIN_PORT), "--token", HOOK_TOKEN,
                               "--timeout", "20"] + list(args), 40)
    if rc != 0:
        log("  skiffctl %s: %s" % (" ".join(args), (err or out).strip()[-300:]))
        return None
    try:
        return json.loads(out) if out.strip() else {}
    except ValueError:
        return None


def hook_runs(ns, hook):
    """Runs of the program attached at hook (skiffctl prog list)."""
    doc = skiffctl(ns, "prog", "list") or {}
    for p in doc.get("programs", []):
        if p.get("hook") == hook:
            return p.get("runs"), p.get("jit")
    return None, None


def measure_hooks(variant, ns, paths, outdir, cfg):
    """One counting boot of Skiff (irq mode, xdp.jit per variant, admin
    endpoint on): per round, UDP echo instructions per round trip with no
    program and with a pass program at each hook. Returns {"rounds":
    [{hook: per_op}], "runs": {hook: [program runs]}, "error"}."""
    sock = os.path.join(outdir, "insn-hooks-%s.sock" % variant)
    res = {"rounds": [], "runs": {h: [] for h in HOOKS}, "jit": {},
           "error": None}
    cmdline = ("%s net.mode=irq xdp.jit=%d admin.token=%s admin.port=%d" %
               (ns.guest_cmdline(), XDP_VARIANTS[variant], HOOK_TOKEN,
                ADMIN_PORT))
    g = Guest("skiff-irq", ns, paths, outdir, "hooks-" + variant, cfg["mem"],
              cfg["accel"], cmdline, extra=insn_count.qemu_args(sock),
              cpu=cfg.get("cpu"))
    n = cfg["insn_echo_count"]
    sdir = os.path.join(outdir, "samples-insn")
    os.makedirs(sdir, exist_ok=True)
    try:
        g.start()
        rc, out, err = run_ns(ns, [CLIENT, "wait", ns.guest_ip, "7",
                                   str(BOOT_DEADLINE)], BOOT_DEADLINE + 15)
        if rc != 0:
            res["error"] = "no echo within %ds; %s" % (
                BOOT_DEADLINE, qemu_err(g.log_path + ".err"))
            return res
        g.wait_for(SKIFF_READY, 30)
        time.sleep(0.5)
        for rnd in range(cfg["hook_rounds"]):
            seq = ["none"] + list(HOOKS)
            if rnd % 2:
                seq.reverse()
            row = {}
            for hook in seq:
                if hook != "none":
                    obj = os.path.join(BUILD, "xdp", HOOKS[hook][0] + ".o")
                    if skiffctl(ns, "prog", "load", obj, hook) is None:
                        res["error"] = "loading %s at %s failed" % (obj, hook)
                        return res
                c0 = insn_count.count(sock)
                r = echo_rtt(ns, "udp", n, cfg["echo_deadline"],
                             os.path.join(sdir, "hooks-%s-%s.txt" %
                                          (variant, hook)))
                c1 = insn_count.count(sock)
                if hook != "none":
                    runs, jit = hook_runs(ns, hook)
                    res["runs"][hook].append(runs)
                    res["jit"][hook] = jit
                    if skiffctl(ns, "prog", "detach", hook) is None:
                        res["error"] = "detaching %s failed" % hook
                        return res
                if r is None or c0 is None or c1 is None:
                    continue
                ops = n + 20 - (r.get("lost") or 0)
                row[hook] = round((c1 - c0) / ops)
            res["rounds"].append(row)
            log("  hooks %s, round %d: %s" % (
                variant, rnd + 1, ", ".join(
                    "%s %s" % (h, "{:,}".format(v)) for h, v in row.items())))
    finally:
        g.stop()
    return res


def summarise_hooks(res):
    """Per hook: the per-round instructions per echo and their difference
    to the same round's no-program baseline, as median [min-max]."""
    out = {}
    for hook in ["none"] + list(HOOKS):
        per_op = [r.get(hook) for r in res["rounds"]]
        delta = [r[hook] - r["none"] if r.get(hook) is not None and
                 r.get("none") is not None else None for r in res["rounds"]]
        out[hook] = {"per_op": summarise_vals(per_op),
                     "delta": summarise_vals(delta if hook != "none" else [])}
    return out


def hooks_table(results):
    hk = results.get("hooks")
    if hk and hk.get("error"):
        return ["", "Hook costs: not measured (%s)." % hk["error"]]
    if not hk or not hk.get("variants"):
        return []
    variants = list(hk["variants"])
    lines = ["", "What each hook costs, Skiff only (these hooks exist in "
             "Linux too, but this bench attaches nothing to the Linux "
             "guest's TC or sockets: no Linux column). Guest instructions "
             "per UDP echo round trip (64 B datagram in, answer out; lwIP's "
             "echo service on port 7) counted by the TCG plugin on one "
             "boot per variant in `net.mode=irq`, %d round trips per "
             "measurement, %d rounds; each round measures the echo with no "
             "program and with a program that passes everything at one "
             "hook at a time, loaded and detached at run time through the "
             "admin endpoint (`tools/skiffctl prog load build/xdp/NAME.o "
             "HOOK`). Cost = that round's count minus its no-program count; "
             "median [min–max] over rounds. Each hook runs once per round "
             "trip (XDP, TC ingress and the socket filter on the datagram, "
             "TC egress on the answer)." % (hk["echo_count"], hk["rounds"]),
             "", "| hook | " + " | ".join(
                 "%s: per echo | %s: cost" % (XDP_LABELS[v], XDP_LABELS[v])
                 for v in variants) + " |",
             "|---|" + "---|---|" * len(variants)]
    for hook in ["none"] + list(HOOKS):
        label = ("no program (baseline)" if hook == "none"
                 else HOOKS[hook][1])
        row = "| %s |" % label
        for v in variants:
            data = hk["variants"][v]
            if data.get("error") and not data.get("summary"):
                row += " – | – |"
                continue
            sm = data["summary"][hook]
            row += " %s | %s |" % (icell(sm["per_op"]),
                                   "–" if hook == "none" else
                                   icell(sm["delta"], signed=True))
        lines.append(row)
    errs = ["%s: %s" % (XDP_LABELS[v], d["error"])
            for v, d in hk["variants"].items() if d.get("error")]
    if errs:
        lines += ["", "Hook measurements cut short: " + "; ".join(errs)]
    return lines


def icell(s, signed=False):
    """An instruction count summary: median [min–max], thousands split."""
    if s["median"] is None:
        return "–"
    f = ("{:+,.0f}" if signed else "{:,.0f}").format
    if s["n"] > 1 and s["min"] != s["max"]:
        return "%s [%s–%s]" % (f(s["median"]), f(s["min"]), f(s["max"]))
    return f(s["median"])


def churn(target, ns, paths, outdir, cfg):
    """Connection churn on one boot: cfg["churn"] sequential new
    connections with one echo each, then as many HTTP GETs with
    `Connection: close`; conn/s per window of cfg["churn_window"]."""
    res = {}
    g = Guest(target, ns, paths, outdir, "churn", cfg["mem"], cfg["accel"],
              None if is_linux(target) else skiff_cmdline(target, ns, cfg),
              cpu=cfg.get("cpu"))
    try:
        g.start()
        rc, out, err = run_ns(ns, [CLIENT, "wait", ns.guest_ip, "7",
                                   str(BOOT_DEADLINE)], BOOT_DEADLINE + 15)
        if rc != 0:
            log("  %s (churn): no echo within %ds" % (target, BOOT_DEADLINE))
            return res
        g.wait_for(LINUX_READY if is_linux(target) else SKIFF_READY, 30)
        for kind, port in (("echo", 7), ("http", 80)):
            dl = cfg["churn_deadline"]
            rc, out, err = run_ns(ns, [CLIENT, "churn-" + kind, ns.guest_ip,
                                       str(port), str(cfg["churn"]),
                                       str(cfg["churn_window"]), str(dl)],
                                  dl + 30)
            try:
                r = json.loads(out.strip().splitlines()[-1])
            except (ValueError, IndexError):
                log("  %s churn %s: no result (%s)" %
                    (target, kind, (err or out).strip()[-200:]))
                continue
            r["conn_per_s"] = (round(r["done"] / r["elapsed_s"], 1)
                               if r["elapsed_s"] else None)
            res[kind] = r
            log("  %s churn %s: %d done, %d failed, %.0f conn/s" %
                (target, kind, r["done"], r["failed"],
                 r["conn_per_s"] or 0))
    finally:
        g.stop()
    return res


def plot_churn(churns, window, outdir, date):
    """conn/s per window against connections made, per guest: echo solid,
    HTTP dashed. Returns the PNG path or None."""
    if not shutil.which("gnuplot") or not churns:
        return None
    plots = []
    colours = {"linux": "#d62728", "linux-tuned": "#e377c2"}
    for t, res in churns.items():
        for kind in ("echo", "http"):
            rates = (res.get(kind) or {}).get("rates") or []
            if not rates:
                continue
            dat = os.path.join(outdir, "churn-%s-%s.dat" % (t, kind))
            with open(dat, "w") as f:
                for i, v in enumerate(rates):
                    f.write("%d %.1f\n" % ((i + 1) * window, v))
            plots.append("'%s' using 1:2 with linespoints lw 2 dt %d lc rgb "
                         "'%s' title '%s %s'" % (
                             dat, 1 if kind == "echo" else 2,
                             colours.get(t, "#1f77b4"), target_label(t),
                             kind))
    if not plots:
        return None
    png = os.path.join(outdir, "churn.png")
    script = "\n".join([
        "set terminal pngcairo size 900,450 font ',10'" if _has_cairo()
        else "set terminal png size 900,450",
        "set output '%s'" % png,
        "set title 'Connection churn: sequential new connections, conn/s "
        "per %d (%s)'" % (window, date),
        "set xlabel 'connections made'", "set ylabel 'connections/s'",
        "set yrange [0:*]", "set grid", "set key bottom left",
        "plot " + ", \\\n  ".join(plots), ""])
    r = subprocess.run(["gnuplot"], input=script, capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        log("bench: gnuplot (churn) failed: " + r.stderr[-300:])
        return None
    return png


def churn_table(results):
    ch = results.get("churn")
    if not ch or not ch.get("targets"):
        return []
    lines = ["", "Connection churn: %s sequential new connections per kind "
             "on one boot per guest (echo: connect, 64 B echoed, client "
             "closes; HTTP: GET / with `Connection: close`, the server "
             "closes, so TIME_WAIT is the guest's). conn/s overall and of "
             "the first and last window of %s; a falling curve (plot "
             "`churn.png`) means TIME_WAIT or a leak slows the guest down."
             % ("{:,}".format(ch["count"]), "{:,}".format(ch["window"])), "",
             "| guest | kind | done | failed | conn/s | first window | "
             "last window |", "|---|---|---|---|---|---|---|"]
    for t, res in ch["targets"].items():
        for kind in ("echo", "http"):
            r = res.get(kind)
            if not r:
                lines.append("| %s | %s | – | – | – | – | – |" %
                             (target_label(t), kind))
                continue
            rates = r.get("rates") or []
            lines.append("| %s | %s | %d | %d | %s | %s | %s |" % (
                target_label(t), kind, r["done"], r["failed"],
                fmt(r["conn_per_s"], "conn/s"),
                fmt(rates[0], "conn/s") if rates else "–",
                fmt(rates[-1], "conn/s") if rates else "–"))
    return lines


# Boot rows: every way to start each guest, QEMU start to first TCP echo
# and the guest's own entry-to-ready time. way -> (guest, machine, boot[,
# extra QEMU arguments]). The -icount row counts one nanosecond per guest
# instruction, so its entry-to-ready is what the guest does, which host
# load cannot stretch; its wall time to the first echo is not timed.
ICOUNT = ["-icount", "shift=0,sleep=off"]
BOOT_WAYS = {
    "skiff-direct-microvm": ("skiff", "microvm", "direct"),
    "skiff-direct-microvm-icount": ("skiff", "microvm", "direct", ICOUNT),
    "skiff-direct-q35": ("skiff", "q35", "direct"),
    "skiff-ovmf-q35": ("skiff", "q35", "efi"),
    # Not run by default: under TCG the kernel hangs calibrating the TSC.
    "linux-direct-microvm": ("linux", "microvm", "direct"),
    "linux-direct-q35": ("linux", "q35", "direct"),
}
BOOT_LABELS = {
    "skiff-direct-microvm": "Skiff, PVH entry (`-kernel skiff-pvh.elf`), "
                            "microvm, virtio-mmio",
    "skiff-direct-microvm-icount": "the same under `-icount shift=0,"
                                   "sleep=off` (guest instructions)",
    "skiff-direct-q35": "Skiff, PVH entry, q35, virtio-net-pci",
    "skiff-ovmf-q35": "Skiff through OVMF (UEFI), q35",
    "linux-direct-microvm": "Linux `-kernel`/`-initrd`, microvm, virtio-mmio",
    "linux-direct-q35": "Linux `-kernel`/`-initrd` through SeaBIOS's "
                        "linuxboot, q35",
}


def boot_argv(way, ns, paths, log_path, cfg):
    guest, machine, boot = BOOT_WAYS[way][:3]
    extra = list(BOOT_WAYS[way][3]) if len(BOOT_WAYS[way]) > 3 else []
    common = dict(extra=extra, mem=cfg["mem"], accel=cfg["accel"], net="tap", tap=ns.tap,
                  serial="file:" + log_path, machine=machine, boot=boot,
                  nic_opts="disable-legacy=on,mac=" + GUEST_MAC,
                  vars_tag="bench-boot")
    if guest == "skiff":
        argv = skiffqemu.qemu_command(
            cmdline=skiff_cmdline("skiff-irq", ns, cfg), **common)
    else:
        argv = skiffqemu.qemu_command(**dict(common, boot="direct"))
        i = argv.index("-kernel")
        del argv[i:i + 2]
        j = argv.index("-append") if "-append" in argv else None
        if j is not None:
            del argv[j:j + 2]
        argv += ["-kernel", paths["kernel"], "-initrd", paths["initrd"],
                 "-append", LINUX_APPEND]
    # microvm's NIC: the bench's MAC too (the namespace's neighbour entry).
    argv = [a + ",mac=" + GUEST_MAC if a == "virtio-net-device,netdev=n0"
            else a for a in argv] + ["-name", "debug-threads=on"]
    return set_cpu(argv, cfg.get("cpu"))


def boot_row(way, ns, paths, outdir, tag, cfg):
    """One boot of one way: {"first_echo_s", "guest_s"} (None = failed)."""
    guest = BOOT_WAYS[way][0]
    g = Guest("linux" if guest == "linux" else "skiff-irq", ns, paths,
              outdir, "%s-%s" % (way, tag), cfg["mem"], cfg["accel"])
    g.argv = ns.cmd(boot_argv(way, ns, paths, g.log_path, cfg))
    res = {"first_echo_s": None, "guest_s": None}
    try:
        g.start()
        if len(BOOT_WAYS[way]) > 3:
            # -icount: only the guest's own figure means anything (TCG
            # runs several times slower counting instructions).
            g.wait_for(SKIFF_BOOT_MS, cfg["boot_timeout"])
            res["guest_s"] = skiff_guest_s(g.log())
            res["untimed"] = True
            return res
        at, why = wait_echo(ns, g, cfg["boot_timeout"], MEM_FAIL)
        if at is None:
            res["why"] = why
            return res
        res["first_echo_s"] = round(at - g.t0, 3)
        if guest == "linux":
            m = g.wait_for(LINUX_READY, 20)
            res["guest_s"] = float(m.group(1)) if m else None
        else:
            g.wait_for(SKIFF_READY, 20)
            res["guest_s"] = skiff_guest_s(g.log())
    finally:
        g.stop()
    return res


def skiff_guest_s(log_text):
    """Skiff's entry to ready: the sum of its "boot: steps (us)" line
    (microseconds), else the banner's whole milliseconds."""
    m = re.search(SKIFF_BOOT_STEPS, log_text)
    if m:
        return sum(int(w.split("=")[1]) for w in m.group(1).split()) / 1e6
    m = re.search(SKIFF_BOOT_MS, log_text)
    return int(m.group(1)) / 1000.0 if m else None


def boot_table(results):
    b = results.get("boots")
    if not b:
        return []
    lines = ["", "Boot, every way (Skiff in `net.mode=irq`; medians over %d "
             "boots, [min–max]): QEMU start to the first answered 64 B TCP "
             "echo through the tap, and the guest's own entry to ready "
             "(Skiff: the sum of its `boot: steps` line; Linux: "
             "`/proc/uptime` when /init is ready)." % b["rounds"], "",
             "| way | QEMU start to first echo (s) | guest entry to ready "
             "(ms) |", "|---|---|---|"]
    for way, runs in b["ways"].items():
        f = summarise_vals([r["first_echo_s"] for r in runs])
        gs = summarise_vals([r["guest_s"] * 1000 if r["guest_s"] is not None
                             else None for r in runs])
        why = [r.get("why") for r in runs if r.get("why")]
        untimed = runs and all(r.get("untimed") for r in runs)
        lines.append("| %s | %s | %s |" % (
            BOOT_LABELS[way],
            "– (not timed)" if untimed else
            cell(f, "s") if f["n"] else "no echo (%s)" % (why[0] if why
                                                           else "?"),
            cell(gs, "ms") if gs["n"] else "–"))
    return lines


def summarise_vals(vals):
    vals = [v for v in vals if v is not None]
    return ({"median": statistics.median(vals), "min": min(vals),
             "max": max(vals), "n": len(vals)} if vals else
            {"median": None, "min": None, "max": None, "n": 0})


def min_memory(target, ns, paths, outdir, cfg):
    """The smallest -m (MiB) of cfg["mem_sizes"], tried upward, at which
    the guest boots and answers a TCP echo within MEM_TRY_TIMEOUT s.
    Returns {"min_mib", "tries": [{"mib", "ok", "s", "why"}]}."""
    tries = []
    found = None
    for mib in cfg["mem_sizes"]:
        g = Guest(target, ns, paths, outdir, "mem%d" % mib, mib, cfg["accel"],
                  None if is_linux(target) else
                  skiff_cmdline(target, ns, cfg), cpu=cfg.get("cpu"))
        try:
            g.start()
            at, why = wait_echo(ns, g, cfg["mem_timeout"], MEM_FAIL)
        finally:
            g.stop()
        ok = at is not None
        tries.append({"mib": mib, "ok": ok,
                      "s": round((at or time.time()) - g.t0, 2), "why": why,
                      "stage": None if ok else failure_stage(g.log())})
        log("  %s -m %d: %s" % (target, mib, "answers" if ok else why))
        if ok:
            found = mib
            break
    return {"min_mib": found, "tries": tries}


# ---------------------------------------------------------------- summary

def summarise(runs):
    out = {}
    for k in METRICS:
        vals = [r[k] for r in runs if r.get(k) is not None]
        out[k] = ({"median": statistics.median(vals), "min": min(vals),
                   "max": max(vals), "n": len(vals)} if vals else
                  {"median": None, "min": None, "max": None, "n": 0})
    return out


def best_linux(results):
    """Per metric, the better Linux variant's summary (lower or higher
    median, as METRICS says): (summary, {metric: winning target})."""
    lin = [t for t in results["order"] if is_linux(t) and not is_xdp(t)]
    best, winner = {}, {}
    for k, (_, better) in METRICS.items():
        cands = [t for t in lin
                 if results["targets"][t]["summary"][k]["median"] is not None]
        if not cands:  # no Linux ran (LINUX=none), or none measured k
            best[k] = (results["targets"][lin[0]]["summary"][k] if lin else
                       summarise_vals([]))
            winner[k] = None
            continue
        pick = (min if better == "lower" else max)(
            cands, key=lambda t: results["targets"][t]["summary"][k]["median"])
        best[k], winner[k] = results["targets"][pick]["summary"][k], pick
    return best, winner


def ratios(summary, base):
    out = {}
    for k in METRICS:
        a, b = summary[k]["median"], base[k]["median"]
        out[k] = round(a / b, 3) if a is not None and b else None
    return out


def machine_info():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1).strip() if m else ""
    except OSError:
        pass
    qv = subprocess.run(["qemu-system-x86_64", "--version"],
                        capture_output=True, text=True).stdout.split("\n")[0]
    return {"host": socket.gethostname(), "cpu": cpu,
            "cpus": os.cpu_count(), "kernel": platform.release(),
            "qemu": qv}


def fmt(v, unit):
    if v is None:
        return "–"
    if unit == "us" and v >= 10000:
        return "%.1f ms" % (v / 1000)
    if unit in ("us", "req/s", "conn/s", "packets", "pbufs", "pkt/s"):
        return "%.0f" % v
    if unit == "s":
        return "%.2f" % v
    return "%.1f" % v


def table(results, run_dir=None):
    meta = results["meta"]
    targets = results["order"]
    skiffs = [t for t in targets if t.startswith("skiff-")]
    xdps = [t for t in targets if is_xdp(t)]
    lines = []
    load = meta.get("loadavg", {})
    lines.append("Measured %s on %s (%s, %d CPUs), %s, `-accel %s`, q35, "
                 "`-smp 1,maxcpus=2`, `-m %d`, OVMF, one "
                 "`virtio-net-pci,disable-legacy=on` on a tap in a network "
                 "namespace (clients inside it); %s mode, %d rounds, %d echo "
                 "round trips and %d s per wrk/ab run per boot. Linux guest: "
                 "%s + busybox initramfs, echo server "
                 "`tests/bench/linux-guest/echo_server.c` (C, epoll, one "
                 "thread, static), HTTP server nginx %s (Debian nginx-light, "
                 "one worker, keep-alive, sendfile), booted with `-kernel` "
                 "through %s. Host load average %s at the start, %s at the "
                 "end (other jobs share the 2 cores: read the spreads). "
                 "Medians over rounds, [min–max] in brackets; ratio = Skiff / "
                 "the better Linux of that row (below 1 is better for times "
                 "and sizes, above 1 for rates)."
                 % (meta["date"], meta["machine"]["host"],
                    meta["machine"]["cpu"], meta["machine"]["cpus"],
                    meta["machine"]["qemu"], meta["accel"], meta["mem"],
                    "QUICK" if meta["quick"] else "full", meta["rounds"],
                    meta["echo_count"], meta["duration_s"],
                    os.path.basename(meta["linux_kernel"]),
                    meta.get("nginx", ""), meta["linux_fw"].upper(),
                    load.get("start", "?"), load.get("end", "?")))
    lines.append("")
    hi = load.get("max_1min")
    cpus = meta["machine"]["cpus"] or 1
    if hi is not None and hi > cpus - 0.5:
        lines.append("**High host load**: the 1-minute load average reached "
                     "%.2f on %d cores during this run (the bench itself "
                     "keeps about 1.5 busy). Other jobs competed with QEMU: "
                     "wall-clock figures are pessimistic and noisy; the "
                     "instruction counts are not affected." % (hi, cpus))
        lines.append("")
    pin = meta.get("pin")
    lines.append("Pinning: %s." % (
        "QEMU's vCPU thread on host core %d, the clients on core %d "
        "(`taskset`)" % (pin["vcpu"], pin["clients"]) if pin else "none"))
    lines.append("")
    lines.append("Both guests: `-cpu %s`. Linux command lines: %s." % (
        meta.get("cpu", "max"), "; ".join(
            "%s `%s`" % (target_label(t), a) for t, a in
            meta.get("linux_variants", {"linux": LINUX_APPEND}).items())))
    lines.append("")
    linuxes = [t for t in targets if is_linux(t) and not is_xdp(t)]
    winner = results.get("linux_winner", {})
    head = "| metric |" + "".join(" %s |" % target_label(t) for t in linuxes)
    sep = "|---|" + "---|" * len(linuxes)
    if len(linuxes) > 1:
        head += " better Linux |"
        sep += "---|"
    for t in skiffs:
        head += " Skiff %s | ratio |" % t.split("-", 1)[1]
        sep += "---|---|"
    lines += [head, sep]
    for k, (unit, better) in METRICS.items():
        row = "| %s (%s) |" % (LABELS[k], unit)
        for t in linuxes:
            row += " %s |" % cell(results["targets"][t]["summary"][k], unit)
        if len(linuxes) > 1:
            w = winner.get(k)
            row += " %s |" % (target_label(w).replace("Linux ", "")
                              if w else "–")
        for t in skiffs:
            s = results["targets"][t]["summary"][k]
            r = results["ratios"][t][k]
            row += " %s | %s |" % (cell(s, unit),
                                   "–" if r is None else "%.2f" % r)
        lines.append(row)
    sz = results["sizes"]
    row = "| image size (MiB) |" + " %.2f (kernel %.2f + initrd %.2f) |" % (
        sz["linux_total_bytes"] / 2 ** 20, sz["linux_kernel_bytes"] / 2 ** 20,
        sz["linux_initrd_bytes"] / 2 ** 20) * len(linuxes)
    if len(linuxes) > 1:
        row += " same |"
    for t in skiffs:
        row += " %.2f | %.2f |" % (sz["skiff_efi_bytes"] / 2 ** 20,
                                   sz["size_ratio"])
    lines.append(row)
    if xdps or XSK_TARGET in targets:
        lines += xdp_table(results, skiffs, xdps)
    lines += insn_table(results)
    lines += hooks_table(results)
    lines += churn_table(results)
    lines += boot_table(results)
    lines += smp_table(results)
    lines += incomplete_notes(results, run_dir)
    lines += memory_table(results)
    if not all(results["http_available"].values()):
        lines.append("")
        lines.append("HTTP answered: " + ", ".join(
            "%s %s" % (t, "yes" if v else "no")
            for t, v in results["http_available"].items()) +
            " (fields of a guest that did not answer are –).")
    return "\n".join(lines) + "\n"


def target_label(t):
    """"skiff-irq" -> "Skiff irq", "xdp-jit" -> "XDP JIT", "linux" ->
    "Linux", "linux-tuned" -> "Linux tuned"."""
    if t == LINUX_XDP:
        return "Linux XDP"
    if is_xsk(t):
        return "Skiff XSK echo"
    if is_xdp(t):
        return "XDP " + XDP_LABELS[t.split("-", 1)[1]]
    name, _, rest = t.partition("-")
    return (name.capitalize() + " " + rest).strip()


def insn_table(results):
    """Guest instructions per operation, from the counting boots."""
    ins = results.get("insns")
    if not ins:
        return []
    if ins.get("error"):
        return ["", "Instruction counts: not measured (%s)." % ins["error"]]
    tg = ins["targets"]
    cols = ([t for t in results["order"] if t in tg and t.startswith("linux")]
            + [t for t in results["order"] if t in tg and
               not t.startswith("linux")])
    lines = ["", "Guest instructions per operation (QEMU TCG plugin "
             "`tests/bench/insn_plugin.c` counting every guest instruction, "
             "on one extra boot per guest, after the timed rounds: %d echo "
             "round trips per protocol, wrk -c1 for %d s, ab -c1 -n %d). "
             "Host load cannot move these. Everything the guest executes in "
             "the window counts: timer ticks, and in poll and hybrid mode "
             "the empty polls of the receive loop, which grow with wall "
             "time (see the idle row). Ratio = Skiff / the Linux that executed fewer." %
             (ins["echo_count"], ins["http_s"], ins["conns"]), ""]
    head = "| operation |" + "".join(" %s |" % target_label(t) for t in cols)
    lines += [head, "|---|" + "---|" * len(cols)]
    lin = {}
    for t in cols:
        if is_linux(t) and not is_xdp(t):
            for op, e in tg[t]["ops"].items():
                if op not in lin or e["per_op"] < lin[op]["per_op"]:
                    lin[op] = e
    for op, label in INSN_OPS.items():
        if not any(op in tg[t]["ops"] for t in cols):
            continue
        row = "| %s |" % label
        for t in cols:
            e = tg[t]["ops"].get(op)
            if not e:
                row += " – |"
                continue
            base = lin.get(op)
            if op == "xdp_reflect":
                base = (tg.get(LINUX_XDP, {}).get("ops", {}).get(op)
                        or lin.get("udp_echo"))
            elif op == "xsk_echo":
                base = lin.get("udp_echo")
            ratio = (" (%.2f)" % (e["per_op"] / base["per_op"])
                     if base and not is_linux(t) and base["per_op"] else "")
            row += " %s%s |" % ("{:,}".format(e["per_op"]), ratio)
        lines.append(row)
    row = "| idle: instructions per second, no traffic |"
    for t in cols:
        v = tg[t].get("idle_per_s")
        row += " %s |" % ("–" if v is None else "{:,}".format(v))
    lines.append(row)
    lines.append("")
    lines.append("XDP udp_reflect's ratio is against the same object under "
                 "Linux's native XDP when it ran, else Linux's UDP echo; the "
                 "AF_XDP socket echo's (Skiff only) against Linux's UDP echo.")
    return lines


def profile_md(insns):
    """Where each Skiff workload's instructions went, per operation, by
    function (from the plugin's per-block counts and skiff.elf's symbols)."""
    lines = ["# Guest instructions per operation, by function", ""]
    for t, data in insns["targets"].items():
        for op, e in data["ops"].items():
            if not e.get("top"):
                continue
            lines += ["## %s, %s: %s per operation" %
                      (t, INSN_OPS[op], "{:,}".format(e["per_op"])), "",
                      "| function | instructions per operation |", "|---|---|"]
            lines += ["| `%s` | %.1f |" % (f, v) for f, v in e["top"]]
            lines.append("")
    return "\n".join(lines)


def incomplete_notes(results, run_dir=None):
    """One line per boot with figures missing (and why QEMU exited when it
    did), so a median over fewer rounds is visible."""
    notes = []
    for t in results["order"]:
        for r in results["targets"][t]["runs"]:
            want = [k for k in METRICS if not (
                is_linux(t) and k.startswith(("heap_", "pbuf_")))]
            if udp_only(t):
                want = ["boot_s", "guest_boot_s", "udp_p50_us"]
            miss = [k for k in want if r.get(k) is None]
            if not miss:
                continue
            why = r.get("qemu_exited")
            if why is None and run_dir:
                lp = os.path.join(run_dir, "logs",
                                  "%s-r%d.log.err" % (t, r["round"]))
                w = qemu_err(lp)
                why = w if "terminating" in w else None
            notes.append("- %s, round %d: no %s%s" % (
                t, r["round"], ", ".join(miss),
                "; QEMU: `%s`" % why if why else ""))
    if not notes:
        return []
    return ["", "Boots with figures missing (their medians are over fewer "
            "rounds):", ""] + notes


def xdp_table(results, skiffs, xdps):
    """UDP 64 B round trip: Linux, lwIP's echo and udp_reflect at the hook."""
    mode = results["meta"].get("xdp_mode", "hybrid")
    base = results.get("linux_best") or results["targets"]["linux"]["summary"]
    rows = [("UDP echo, %s guest (epoll echo server)" % target_label(t), t)
            for t in results["order"] if is_linux(t) and not is_xdp(t)]
    if "skiff-" + mode in skiffs:
        rows.append(("UDP echo, Skiff lwIP echo service (%s)" % mode,
                     "skiff-" + mode))
    for t in xdps:
        rows.append(("UDP echo via Linux native XDP, the same udp_reflect.o"
                     if t == LINUX_XDP else
                     "UDP echo via XDP udp_reflect (%s)" %
                     XDP_LABELS[t.split("-", 1)[1]], t))
    if XSK_TARGET in results["order"]:
        rows.append(("UDP echo via the AF_XDP socket echo (`xsk.port=%d`, "
                     "Skiff only: no Linux counterpart)" % XSK_PORT,
                     XSK_TARGET))
    lines = ["", "UDP echo, 64 B, one datagram at a time: the stack against "
             "the XDP hook (Skiff `net.mode=%s`, `xdp.prog=udp_reflect "
             "xdp.jit=0|1`: answered in the driver's receive path, lwIP never "
             "sees it; the AF_XDP socket echo, `xsk.port=%d`: `xsk_udp` at "
             "the hook hands the frame to the XSK echo service's rings, which "
             "answers from the same UMEM frame, lwIP never sees it either). Ratio = Skiff / the "
             "better Linux of the same percentile." % (mode, XSK_PORT),
             "",
             "| path | p50 (us) | p90 (us) | p99 (us) | max (us) | lost | "
             "ratio p50 | ratio p90 | ratio p99 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, t in rows:
        s = results["targets"][t]["summary"]
        row = "| %s |" % label
        for p in ("p50", "p90", "p99", "max"):
            row += " %s |" % cell(s["udp_%s_us" % p], "us")
        row += " %s |" % cell(s["udp_lost"], "packets")
        for p in ("p50", "p90", "p99"):
            k = "udp_%s_us" % p
            a, b = s[k]["median"], base[k]["median"]
            row += " %s |" % ("–" if is_linux(t) or a is None or not b
                              else "%.2f" % (a / b))
        lines.append(row)
    return lines


def memory_table(results):
    mem = results.get("memory") or {}
    if not mem.get("sizes_tried"):
        return []
    def mib(t):
        m = mem.get(t) or {}
        if m.get("min_mib") is None:
            return "none of %s" % mem["sizes_tried"] if m else "–"
        below = ["%d: %s" % (x["mib"], x.get("stage") or "?")
                 for x in m["tries"] if not x["ok"]]
        return "%d%s" % (m["min_mib"], " (failed at %s)" % "; ".join(below)
                         if below else "")
    r = mem.get("ratio")
    return ["", "Memory: the smallest `-m` (MiB, tried upward over %s, %d s "
            "per try) at which the guest boots and answers a TCP echo "
            "(Skiff in `net.mode=%s`)." % (mem["sizes_tried"],
                                           mem["timeout_s"], mem["mode"]),
            "", "| memory | Linux | Skiff | ratio |", "|---|---|---|---|",
            "| smallest `-m` that serves (MiB) | %s | %s | %s |" % (
                mib("linux"), mib("skiff"),
                "–" if r is None else "%.2f" % r),
            "", "A failure at the *firmware* stage is OVMF itself (an "
            "exception, the image not loaded, or a fall-through to PXE) "
            "before the guest ran: such a floor is the firmware's, not the "
            "guest's. *guest*: the guest started and failed; *unknown*: no "
            "console output at all."]


def cell(s, unit):
    if s["median"] is None:
        return "–"
    if s["n"] > 1 and s["min"] != s["max"]:
        return "%s [%s–%s]" % (fmt(s["median"], unit), fmt(s["min"], unit),
                               fmt(s["max"], unit))
    return fmt(s["median"], unit)


def plot(results, outdir):
    """Echo latency CDF (TCP solid, UDP dashed) with gnuplot; returns the
    PNG path or None when gnuplot is missing."""
    if not shutil.which("gnuplot"):
        log("bench: gnuplot missing; no plot")
        return None
    sdir = os.path.join(outdir, "samples")
    series = []
    for t in results["order"]:
        for proto in ("tcp", "udp"):
            vals = []
            for n in sorted(os.listdir(sdir)) if os.path.isdir(sdir) else []:
                if n.startswith(t + "-") and n.endswith("-%s.txt" % proto):
                    with open(os.path.join(sdir, n)) as f:
                        vals += [float(x) for x in f if x.strip()]
            if not vals:
                continue
            vals.sort()
            path = os.path.join(outdir, "cdf-%s-%s.dat" % (t, proto))
            step = max(1, len(vals) // 2000)
            with open(path, "w") as f:
                for i in range(0, len(vals), step):
                    f.write("%.1f %.5f\n" % (vals[i], (i + 1) / len(vals)))
                f.write("%.1f 1.0\n" % vals[-1])
            series.append((path, t, proto))
    if not series:
        return None
    png = os.path.join(outdir, "echo-cdf.png")
    colours = {"linux": "#d62728", "linux-tuned": "#e377c2",
               "linux-xdp": "#7f7f7f",
               "skiff-hybrid": "#1f77b4",
               "skiff-irq": "#2ca02c", "skiff-poll": "#9467bd",
               "xdp-interp": "#ff7f0e", "xdp-jit": "#8c564b",
               XSK_TARGET: "#17becf"}
    plots = []
    for path, t, proto in series:
        plots.append("'%s' using 1:2 with lines lw 2 dt %d lc rgb '%s' "
                     "title '%s %s'" % (path, 1 if proto == "tcp" else 2,
                                        colours.get(t, "#333333"),
                                        t.replace("-", " "),
                                        proto.upper()))
    script = "\n".join([
        "set terminal pngcairo size 900,520 font ',10'" if _has_cairo()
        else "set terminal png size 900,520",
        "set output '%s'" % png,
        "set title 'Echo round trip, 64 B, one connection (%s)'"
        % results["meta"]["date"],
        "set xlabel 'round trip (us, log scale)'",
        "set ylabel 'fraction of round trips'",
        "set logscale x", "set grid", "set key bottom right",
        "set yrange [0:1]",
        "plot " + ", \\\n  ".join(plots), ""])
    r = subprocess.run(["gnuplot"], input=script, capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        log("bench: gnuplot failed: " + r.stderr[-300:])
        return None
    return png


def plot_rps(results, outdir):
    """Requests/s by guest and mode (1 and 16 keep-alive connections,
    medians with min-max error bars); None when no guest served HTTP."""
    if not shutil.which("gnuplot"):
        return None
    rows = []
    for t in results["order"]:
        if udp_only(t):
            continue
        s = results["targets"][t]["summary"]
        vals = []
        for k in ("http1_rps", "http16_rps"):
            m = s[k]
            vals += ([m["median"], m["min"], m["max"]]
                     if m["median"] is not None else [0, 0, 0])
        rows.append((t.replace("skiff-", "Skiff "), vals))
    if not any(v[0] or v[3] for _, v in rows):
        return None
    dat = os.path.join(outdir, "rps.dat")
    with open(dat, "w") as f:
        for name, v in rows:
            f.write('"%s" %s\n' % (name, " ".join("%g" % x for x in v)))
    png = os.path.join(outdir, "rps.png")
    script = "\n".join([
        "set terminal pngcairo size 800,450 font ',10'" if _has_cairo()
        else "set terminal png size 800,450",
        "set output '%s'" % png,
        "set title 'HTTP GET / with keep-alive, wrk (%s)'"
        % results["meta"]["date"],
        "set ylabel 'requests/s'", "set yrange [0:*]", "set grid ytics",
        "set style data histogram",
        "set style histogram errorbars gap 2 lw 1",
        "set style fill solid 0.8 border -1", "set key top left",
        "plot '%s' using 2:3:4:xtic(1) title '1 connection' lc rgb '#1f77b4',"
        " '' using 5:6:7 title '16 connections' lc rgb '#ff7f0e'" % dat, ""])
    r = subprocess.run(["gnuplot"], input=script, capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        log("bench: gnuplot (rps) failed: " + r.stderr[-300:])
        return None
    return png


def _has_cairo():
    r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True,
                       text=True)
    return "pngcairo" in (r.stdout + r.stderr)


# ---------------------------------------------------------------- main

def default_pin(spec):
    """PIN=VCPU:CLIENTS (host core numbers), PIN=0 for none; by default the
    last core for the vCPU and core 0 for the clients, when there are two."""
    if spec in ("0", "no", "none"):
        return None
    if spec:
        v, c = spec.split(":")
        return {"vcpu": int(v), "clients": int(c)}
    n = os.cpu_count() or 1
    return {"vcpu": n - 1, "clients": 0} if n >= 2 else None


def config(args):
    quick = args.quick or os.environ.get("QUICK", "") not in ("", "0")
    env = os.environ.get
    cfg = {
        "quick": quick,
        "rounds": (args.rounds if args.rounds is not None else
                   int(env("ROUNDS") or (3 if quick else 5))),
        "modes": (args.modes or env("MODES") or
                  ("hybrid" if quick else "hybrid,irq,poll")).split(","),
        "duration": args.duration or int(env("DURATION") or
                                         (3 if quick else 10)),
        "echo_count": args.echo_count or (2000 if quick else 10000),
        "mem": int(env("MEM") or 256),
        "accel": env("ACCEL") or "tcg",
        "linux_fw": env("LINUX_FW") or "ovmf",
    }
    cfg["echo_deadline"] = 20 if quick else 60
    xdp = env("XDP")
    cfg["xdp"] = ([] if xdp in ("0", "none") else xdp.split(",") if xdp else
                  ["jit", "interp"])
    cfg["xdp_mode"] = "hybrid" if "hybrid" in cfg["modes"] else cfg["modes"][0]
    mem = env("MEM_SEARCH")
    cfg["mem_sizes"] = ([] if mem == "0" else
                        [int(x) for x in mem.split(",")] if mem else
                        MEM_SIZES_QUICK if quick else MEM_SIZES_FULL)
    cfg["mem_timeout"] = MEM_TRY_TIMEOUT
    cfg["insns"] = env("INSNS") not in ("0", "no")
    linux = env("LINUX") or "stock,tuned"
    cfg["linux"] = [] if linux in ("0", "none") else linux.split(",")
    cfg["xsk"] = env("XSK") not in ("0", "no", "none")
    hooks = env("HOOKS")
    cfg["hooks"] = ([] if hooks in ("0", "no", "none") else
                    hooks.split(",") if hooks else ["jit", "interp"])
    cfg["hook_rounds"] = int(env("HOOK_ROUNDS") or max(1, cfg["rounds"]))
    cfg["cpu"] = env("CPU") or DEFAULT_CPU
    cfg["pin"] = default_pin(env("PIN"))
    cfg["churn"] = int(env("CHURN") or (10000 if quick else 100000))
    cfg["churn_window"] = max(1, cfg["churn"] // 10)
    cfg["churn_deadline"] = 900 if quick else 3600
    cfg["boot_rounds"] = int(env("BOOT_ROUNDS") or (1 if quick else 3))
    # Linux on microvm is left out unless asked (BOOT_WAYS=...): under TCG
    # its kernel finds no PIT, HPET or PM timer to calibrate the TSC
    # against and hangs there (tests/bench/README.md).
    cfg["boot_ways"] = (env("BOOT_WAYS").split(",") if env("BOOT_WAYS") else
                        [w for w in BOOT_WAYS if w != "linux-direct-microvm"])
    cfg["boot_timeout"] = 60
    cfg["insn_echo_count"] = 500 if quick else 2000
    cfg["insn_http_s"] = 2 if quick else 3
    cfg["insn_conns"] = 100 if quick else 300
    # The 1 vs 2 vCPU section (SMP_BENCH=0 skips it; SMP_ROUNDS rounds).
    cfg["smp"] = env("SMP_BENCH") not in ("0", "no", "none")
    cfg["smp_rounds"] = int(env("SMP_ROUNDS") or (1 if quick else 3))
    return cfg


def max_load(runs, start):
    """The highest 1-minute load average seen after any boot."""
    vals = [float(r["loadavg_after"].split()[0]) for rs in runs.values()
            for r in rs if r.get("loadavg_after")]
    if start:
        vals.append(float(start.split()[0]))
    return max(vals) if vals else None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return None


def plugin_built(out, what):
    """Builds the counting plugin; when it cannot, says so and puts the
    reason in out["error"]. Returns whether it can count."""
    try:
        insn_count.build()
        return True
    except RuntimeError as e:
        out["error"] = str(e)
        log("bench: no %s: %s" % (what, e))
        return False


def count_instructions(targets, ns, paths, outdir, cfg):
    """The counting boots, one per target; {"error", "targets"}."""
    out = {"error": None, "targets": {}, "echo_count": cfg["insn_echo_count"],
           "http_s": cfg["insn_http_s"], "conns": cfg["insn_conns"]}
    if not plugin_built(out, "instruction counts"):
        return out
    for t in targets:
        log("bench: counting instructions, %s" % t)
        out["targets"][t] = measure_insns(t, ns, paths, outdir, cfg)
    return out


def count_hooks(ns, paths, outdir, cfg):
    """The hook-cost boots, one per variant of cfg["hooks"]."""
    out = {"echo_count": cfg["insn_echo_count"], "rounds": cfg["hook_rounds"],
           "variants": {}}
    if not plugin_built(out, "hook costs"):
        return out
    for v in cfg["hooks"]:
        log("bench: hook costs, %s, %d rounds" % (v, cfg["hook_rounds"]))
        r = measure_hooks(v, ns, paths, outdir, cfg)
        r["summary"] = summarise_hooks(r) if r["rounds"] else None
        if r["error"]:
            log("  hooks %s: %s" % (v, r["error"]))
        out["variants"][v] = r
    return out


def run(cfg, outdir=None, skip_make=False):
    """The whole bench; returns the results dict (also written to disk)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = outdir or os.path.join(BENCH, stamp)
    os.makedirs(outdir, exist_ok=True)
    paths = build_all(skip_make=skip_make)
    cfg.setdefault("xdp", [])
    cfg.setdefault("xdp_mode", cfg["modes"][0])
    cfg.setdefault("mem_sizes", [])
    cfg.setdefault("mem_timeout", MEM_TRY_TIMEOUT)
    cfg.setdefault("linux", ["stock"])
    cfg.setdefault("xsk", False)
    cfg.setdefault("hooks", [])
    cfg.setdefault("hook_rounds", 1)
    cfg.setdefault("cpu", DEFAULT_CPU)
    PIN.update(cfg.get("pin") or {"vcpu": None, "clients": None})
    linuxes = [LINUX_VARIANTS[v] for v in cfg["linux"]]
    if cfg["xdp"] and linuxes and cfg.get("linux_xdp", True):
        linuxes.append(LINUX_XDP)
    targets = (["skiff-" + m for m in cfg["modes"]] +
               ["xdp-" + v for v in cfg["xdp"]] +
               ([XSK_TARGET] if cfg["xsk"] else []) + linuxes)
    load_start = loadavg()
    memory = {"sizes_tried": cfg["mem_sizes"], "timeout_s": cfg["mem_timeout"],
              "mode": cfg["xdp_mode"], "skiff": None, "linux": None,
              "ratio": None}
    runs = {t: [] for t in targets}
    cfg.setdefault("insns", False)
    cfg.setdefault("churn", 0)
    cfg.setdefault("boot_rounds", 0)
    cfg.setdefault("boot_ways", list(BOOT_WAYS))
    cfg.setdefault("boot_timeout", 60)
    cfg.setdefault("smp", False)
    cfg.setdefault("smp_rounds", 1)
    churns = boots = hooks = smp = None
    insns = {"error": None, "targets": {}} if cfg["insns"] else None
    nginx_v = subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True,
                             text=True).stderr.strip().split("/")[-1]
    start = time.time()
    ns = TapNamespace(suffix="-bench")
    # Ctrl-C, kill and a closed terminal all unwind through the finally
    # below (SIGINT explicitly: a shell's background job inherits it ignored).
    # Only the main thread may set handlers (run_smoke may run on another).
    old = ({s: signal.signal(s, _interrupted) for s in
            (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
           if threading.current_thread() is threading.main_thread() else {})
    try:
        ns.__enter__()
        set_guest_neighbour(ns)
        # The clients' side of churn: every port, and TIME_WAIT reuse, so
        # 100,000 sequential connections never run out of local ports.
        for k, v in (("net.ipv4.ip_local_port_range", "1024 65535"),
                     ("net.ipv4.tcp_tw_reuse", "1")):
            subprocess.run(ns.cmd(["sysctl", "-q", "-w", "%s=%s" % (k, v)]),
                           check=False)
        for rnd in range(cfg["rounds"]):
            # Alternate: Linux between Skiff modes, order flipped each round.
            order = [t for t in targets if not is_linux(t)]
            mid = len(order) // 2 if len(order) > 1 else 1
            order[mid:mid] = linuxes
            if rnd % 2:
                order.reverse()
            for t in order:
                log("bench: round %d/%d, %s" % (rnd + 1, cfg["rounds"], t))
                r = measure(t, ns, paths, outdir, "r%d" % (rnd + 1), cfg)
                r["round"] = rnd + 1
                r["loadavg_after"] = loadavg()
                runs[t].append(r)
                log("  " + ", ".join("%s=%s" % (k, r.get(k)) for k in
                                     ("boot_s", "tcp_p50_us", "udp_p50_us",
                                      "http1_rps", "http16_rps",
                                      "heap_peak_KiB", "xdp_tx")
                                     if r.get(k) is not None))
        if cfg["smp"]:
            smp = measure_smp(ns, paths, outdir, cfg)
        if cfg["insns"]:
            insns = count_instructions(targets, ns, paths, outdir, cfg)
        if cfg["hooks"]:
            hooks = count_hooks(ns, paths, outdir, cfg)
        if cfg["boot_rounds"]:
            boots = {"rounds": cfg["boot_rounds"],
                     "ways": {w: [] for w in cfg["boot_ways"]}}
            for i in range(cfg["boot_rounds"]):
                for w in cfg["boot_ways"]:
                    log("bench: boot %d/%d, %s" % (i + 1, cfg["boot_rounds"],
                                                   w))
                    r = boot_row(w, ns, paths, outdir, "b%d" % (i + 1), cfg)
                    boots["ways"][w].append(r)
                    log("  %s" % r)
        if cfg["churn"]:
            churns = {"count": cfg["churn"], "window": cfg["churn_window"],
                      "targets": {}}
            for t in ["skiff-" + cfg["xdp_mode"]] + linuxes[:1]:
                log("bench: connection churn, %s, %d connections per kind"
                    % (t, cfg["churn"]))
                churns["targets"][t] = churn(t, ns, paths, outdir, cfg)
        if cfg["mem_sizes"]:
            for key, t in [("skiff", "skiff-" + cfg["xdp_mode"])] + [
                    ("linux", t) for t in linuxes[:1]]:
                log("bench: memory search, %s, -m %s" % (t, cfg["mem_sizes"]))
                memory[key] = min_memory(t, ns, paths, outdir, cfg)
            a = memory["skiff"]["min_mib"]
            b = (memory["linux"] or {}).get("min_mib")
            memory["ratio"] = round(a / b, 3) if a and b else None
    finally:
        kill_live()
        ns.close()
        for s, h in old.items():
            signal.signal(s, h)
    results = {
        "meta": {
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "machine": machine_info(), "quick": cfg["quick"],
            "rounds": cfg["rounds"], "modes": cfg["modes"],
            "mem": cfg["mem"], "accel": cfg["accel"],
            "smp": "1,maxcpus=2", "machine_type": "q35",
            "cpu": cfg.get("cpu") or "max", "linux_variants": {
                t: linux_append(t) for t in linuxes},
            "nic": "virtio-net-pci,disable-legacy=on,romfile=",
            "network": "tap in a network namespace; clients in it",
            "duration_s": cfg["duration"], "echo_count": cfg["echo_count"],
            "linux_kernel": paths["kernel"], "linux_fw": cfg["linux_fw"],
            "nginx": nginx_v, "elapsed_s": round(time.time() - start, 1),
            "xdp": cfg["xdp"], "xdp_mode": cfg["xdp_mode"],
            "xsk": cfg["xsk"], "xsk_port": XSK_PORT, "hooks": cfg["hooks"],
            "loadavg": {"start": load_start, "end": loadavg(),
                        "max_1min": max_load(runs, load_start)},
            "pin": cfg.get("pin"),
            "linux_services": {
                "echo": "tests/bench/linux-guest/echo_server.c (C, epoll, "
                        "one thread, TCP_NODELAY, gcc -static -O2)",
                "http": "nginx %s from Debian nginx-light, one worker, epoll, "
                        "keep-alive, sendfile, tcp_nodelay" % nginx_v},
        },
        "order": targets,
        "targets": {t: {"runs": runs[t], "summary": summarise(runs[t])}
                    for t in targets},
    }
    best, results["linux_winner"] = best_linux(results)
    results["linux_best"] = best
    results["ratios"] = {t: ratios(results["targets"][t]["summary"], best)
                         for t in targets if not is_linux(t)}
    results["http_available"] = {t: any(r["http_available"] for r in runs[t])
                                 for t in targets if not udp_only(t)}
    results["memory"] = memory
    results["insns"] = insns
    results["churn"] = churns
    results["hooks"] = hooks
    results["boots"] = boots
    results["smp"] = smp
    ks, ki = os.path.getsize(paths["kernel"]), os.path.getsize(paths["initrd"])
    es = os.path.getsize(paths["efi"])
    results["sizes"] = {"skiff_efi_bytes": es, "linux_kernel_bytes": ks,
                        "linux_initrd_bytes": ki, "linux_total_bytes": ks + ki,
                        "size_ratio": round(es / (ks + ki), 3)}
    md = table(results)
    png = plot(results, outdir)
    results["plot"] = os.path.basename(png) if png else None
    rps_png = plot_rps(results, outdir)
    churn_png = plot_churn((churns or {}).get("targets"),
                           (churns or {}).get("window"), outdir,
                           results["meta"]["date"])
    results["plot_churn"] = os.path.basename(churn_png) if churn_png else None
    results["plot_rps"] = os.path.basename(rps_png) if rps_png else None
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write(md)
    if insns and insns["targets"]:
        with open(os.path.join(outdir, "insn-profile.md"), "w") as f:
            f.write(profile_md(insns))
    results["outdir"] = outdir
    return results


def retable(run_dir):
    """Re-renders table.md of a finished run from its results.json (and
    fills each failed -m try's stage from its console log)."""
    path = os.path.join(run_dir, "results.json")
    with open(path) as f:
        results = json.load(f)
    for g, t in (("skiff", "skiff-" + results["memory"]["mode"]),
                 ("linux", "linux")):
        for x in (results["memory"].get(g) or {}).get("tries", []):
            if not x["ok"] and not x.get("stage"):
                lp = os.path.join(run_dir, "logs", "%s-mem%d.log" %
                                  (t, x["mib"]))
                try:
                    with open(lp, errors="replace") as f:
                        x["stage"] = failure_stage(f.read())
                except OSError:
                    x["stage"] = "unknown"
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    md = table(results, run_dir)
    with open(os.path.join(run_dir, "table.md"), "w") as f:
        f.write(md)
    print(md)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--retable", metavar="RUN_DIR",
                    help="re-render RUN_DIR/table.md from its results.json")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--modes")
    ap.add_argument("--duration", type=int)
    ap.add_argument("--echo-count", type=int)
    ap.add_argument("--out")
    ap.add_argument("--no-make", action="store_true")
    args = ap.parse_args()
    if args.retable:
        retable(args.retable)
        return 0
    if os.geteuid() != 0:
        raise SystemExit("bench: needs root (network namespace, tap)")
    cfg = config(args)
    log("bench: %s mode, %d rounds, Skiff modes %s, XDP udp_reflect %s, "
        "%ds per wrk/ab run, memory search over %s MiB"
        % ("QUICK" if cfg["quick"] else "full", cfg["rounds"],
           ",".join(cfg["modes"]), ",".join(cfg["xdp"]) or "none",
           cfg["duration"], cfg["mem_sizes"] or "none"))
    try:
        res = run(cfg, outdir=args.out, skip_make=args.no_make)
    except KeyboardInterrupt:
        kill_live()
        log("bench: interrupted; cleaned up")
        return 130
    print()
    with open(os.path.join(res["outdir"], "table.md")) as f:
        print(f.read())
    log("bench: results in %s (%.0f s)" % (res["outdir"],
                                            res["meta"]["elapsed_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
