#!/usr/bin/env python3
"""Measures every way to boot Skiff: wall time from starting QEMU to the
first answered UDP echo (through user networking's host forward), and the
guest's own "boot N ms" from the banner (firmware/loader entry to ready).
Runs are serial, so the machine's other load is the only noise; the
median of --runs is printed.

    python3 tools/boottime.py [--runs 3] [--steps] [--icount] [way ...]

--steps also prints the median of each bring-up step of the guest's
"boot: steps (us)" line, their sum (entry to ready in microseconds) and
the time from the VM's reset to the guest's entry (firmware and loader).
--icount runs QEMU with -icount shift=0,sleep=off: the guest's clock
counts one nanosecond per instruction, so the guest's own figures repeat
whatever the host's load (the wall time to the first echo does not).

Ways: uefi-q35, grub-q35, direct-q35, direct-pc, direct-microvm,
direct-microvm-noacpi. make all (and make iso) first."""
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skiffqemu  # noqa: E402

WAYS = {
    "uefi-q35": dict(boot="efi", machine="q35"),
    "grub-q35": dict(boot="iso", machine="q35"),
    "direct-q35": dict(boot="direct", machine="q35"),
    "direct-pc": dict(boot="direct", machine="pc"),
    "direct-microvm": dict(boot="direct", machine="microvm"),
    "direct-microvm-noacpi": dict(
        boot="direct", machine="microvm,x-option-roms=off,rtc=off,acpi=off"),
}
BANNER = re.compile(r"ready: .* boot (\d+) ms")
STEPS = re.compile(r"boot: steps \(us\):((?: [\w.]+=\d+)+)")
RESET = re.compile(r"boot: entry (\d+) us after reset")
ICOUNT = ["-icount", "shift=0,sleep=off"]


def one_run(way, timeout=60, extra=()):
    port = skiffqemu.free_port()
    log = tempfile.NamedTemporaryFile(suffix=".log", delete=False).name
    argv = skiffqemu.qemu_command(
        serial="file:" + log, hostfwd=[("udp", port, 7)],
        vars_tag="boottime-" + way,
        cmdline=("net.mode=irq " + os.environ.get("BOOTTIME_CMDLINE", "")).strip(), extra=list(extra), **WAYS[way])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.02)
    start = time.time()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    first = None
    try:
        while time.time() - start < timeout and proc.poll() is None:
            try:
                s.sendto(b"x", ("127.0.0.1", port))
                if s.recv(16) == b"x":
                    first = time.time() - start
                    break
            except OSError:
                pass
        guest, steps = None, None
        deadline = time.time() + 5
        while guest is None and time.time() < deadline:
            with open(log, errors="replace") as f:
                text = f.read()
            m = BANNER.search(text)
            if m:
                guest = int(m.group(1))
                st = STEPS.search(text)
                steps = ([(k, int(v)) for k, v in
                          (w.split("=") for w in st.group(1).split())]
                         if st else None)
                rs = RESET.search(text)
                if steps and rs:
                    steps.append(("(reset to entry)", int(rs.group(1))))
            else:
                time.sleep(0.05)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        s.close()
        os.unlink(log)
    return first, guest, steps


def print_steps(all_steps):
    """Median of each step over the runs, in the guest's order."""
    names = [k for k, _ in all_steps[0]]
    med = {n: statistics.median(dict(s).get(n, 0) for s in all_steps)
           for n in names}
    total = statistics.median(sum(v for k, v in s if k[0] != "(")
                              for s in all_steps)
    print("    steps (us, median of %d):" % len(all_steps),
          " ".join("%s=%d" % (n, med[n]) for n in names))
    print("    sum of steps (entry to ready): %d us" % total, flush=True)


def main():
    args = sys.argv[1:]
    runs = 3
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    show_steps = "--steps" in args
    extra = ICOUNT if "--icount" in args else []
    args = [a for a in args if a not in ("--steps", "--icount")]
    ways = args or list(WAYS)
    print("%-24s %22s %22s" % ("way", "QEMU start to echo", "entry to ready"))
    for way in ways:
        firsts, guests, steps = [], [], []
        for _ in range(runs):
            f, g, st = one_run(way, extra=extra)
            if f is not None:
                firsts.append(f)
            if g is not None:
                guests.append(g)
            if st:
                steps.append(st)
        fs = ("%.2f s [%.2f-%.2f]" % (statistics.median(firsts), min(firsts),
                                      max(firsts))
              if firsts else "no echo")
        gs = ("%d ms [%d-%d]" % (statistics.median(guests), min(guests),
                                 max(guests)) if guests else "no banner")
        print("%-24s %22s %22s" % (way, fs, gs), flush=True)
        if show_steps and steps:
            print_steps(steps)


if __name__ == "__main__":
    sys.exit(main())
