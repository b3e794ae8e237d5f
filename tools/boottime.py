#!/usr/bin/env python3
"""Measures every way to boot Skiff: wall time from starting QEMU to the
first answered UDP echo (through user networking's host forward), and the
guest's own "boot N ms" from the banner (firmware/loader entry to ready).
Runs are serial, so the machine's other load is the only noise; the
median of --runs is printed.

    python3 tools/boottime.py [--runs 3] [way ...]

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


def one_run(way, timeout=60):
    port = skiffqemu.free_port()
    log = tempfile.NamedTemporaryFile(suffix=".log", delete=False).name
    argv = skiffqemu.qemu_command(
        serial="file:" + log, hostfwd=[("udp", port, 7)],
        vars_tag="boottime-" + way,
        cmdline="net.mode=irq", **WAYS[way])
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
        guest = None
        deadline = time.time() + 5
        while guest is None and time.time() < deadline:
            with open(log, errors="replace") as f:
                m = BANNER.search(f.read())
            if m:
                guest = int(m.group(1))
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
    return first, guest


def main():
    args = sys.argv[1:]
    runs = 3
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    ways = args or list(WAYS)
    print("%-24s %22s %22s" % ("way", "QEMU start to echo", "entry to ready"))
    for way in ways:
        firsts, guests = [], []
        for _ in range(runs):
            f, g = one_run(way)
            if f is not None:
                firsts.append(f)
            if g is not None:
                guests.append(g)
        fs = "%.2f s" % statistics.median(firsts) if firsts else "no echo"
        gs = "%d ms" % statistics.median(guests) if guests else "no banner"
        print("%-24s %22s %22s" % (way, fs, gs), flush=True)


if __name__ == "__main__":
    sys.exit(main())
