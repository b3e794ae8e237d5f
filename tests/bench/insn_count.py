#!/usr/bin/env python3
"""Guest instruction counts for the bench: builds the TCG plugin
(tests/bench/insn_plugin.c, against the qemu-plugin.h that
tools/fetch-qemu-plugin-h.sh takes from Debian's QEMU source package) and
talks to it over its unix socket.

    python3 tests/bench/insn_count.py build        (prints the .so path)
    python3 tests/bench/insn_count.py symbols PROFILE_DELTA ELF BASE

A profile is {tb vaddr: [insns in the block, executions]}; the difference
of two profiles, symbolised with `nm` on build/skiff.elf (load address from
Skiff's banner "image at ..."), says which functions a workload's
instructions were spent in."""
import bisect
import os
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, "build")
PLUGIN = os.path.join(BUILD, "bench", "insn_plugin.so")
HEADER_DIR = os.path.join(BUILD, "qemu-plugin", "include")


def build():
    """Builds the plugin when its source or header is newer; returns the
    .so path. Raises RuntimeError with the reason when it cannot."""
    r = subprocess.run([os.path.join(ROOT, "tools", "fetch-qemu-plugin-h.sh")],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("qemu-plugin.h: " + r.stderr.strip()[-400:])
    src = os.path.join(HERE, "insn_plugin.c")
    hdr = os.path.join(HEADER_DIR, "qemu-plugin.h")
    if (os.path.exists(PLUGIN) and os.path.getmtime(PLUGIN) >=
            max(os.path.getmtime(src), os.path.getmtime(hdr))):
        return PLUGIN
    os.makedirs(os.path.dirname(PLUGIN), exist_ok=True)
    tmp = PLUGIN + ".%d.tmp" % os.getpid()
    r = subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror",
                        "-Wno-unused-parameter", "-shared", "-fPIC",
                        "-I" + HEADER_DIR, "-o", tmp, src, "-lpthread"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("insn_plugin.c: " + r.stderr.strip()[-600:])
    os.replace(tmp, PLUGIN)
    return PLUGIN


def qemu_args(sock_path):
    """The QEMU arguments that load the counter, answering on sock_path."""
    return ["-plugin", "%s,sock=%s" % (PLUGIN, sock_path)]


def _ask(sock_path, cmd, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(cmd.encode() + b"\n")
        chunks = []
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    return b"".join(chunks).decode()


def count(sock_path):
    """Guest instructions executed since QEMU started (None if the plugin
    does not answer)."""
    try:
        return int(_ask(sock_path, "count").strip())
    except (OSError, ValueError):
        return None


def profile(sock_path):
    """{tb vaddr: [insns, executions]} (None if the plugin does not
    answer). The same address may have been translated more than once:
    executions add up."""
    try:
        text = _ask(sock_path, "profile", timeout=30)
    except OSError:
        return None
    if not text.endswith("end\n"):
        return None
    prof = {}
    for line in text.splitlines()[:-1]:
        a, n, e = line.split()
        key = int(a, 16)
        if key in prof:
            prof[key][1] += int(e)
        else:
            prof[key] = [int(n), int(e)]
    return prof


def profile_delta(before, after):
    """Instructions per block address executed between two profiles."""
    out = {}
    for a, (n, e) in after.items():
        d = e - (before.get(a, [n, 0])[1])
        if d > 0:
            out[a] = n * d
    return out


def elf_symbols(elf):
    """Sorted [(address, name)] of the text symbols of elf (nm)."""
    r = subprocess.run(["nm", "-n", "--defined-only", elf],
                       capture_output=True, text=True, check=True)
    syms = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    return syms


def by_function(delta, syms, base=0):
    """{function: instructions} for a profile delta; addresses are guest
    virtual ones, the image linked at 0 and loaded at base. Blocks outside
    the image (firmware, a Linux guest) go under '?'."""
    addrs = [a for a, _ in syms]
    end = syms[-1][0] + 0x10000 if syms else 0
    out = {}
    for a, insns in delta.items():
        rel = a - base
        name = "?"
        if 0 <= rel < end:
            i = bisect.bisect_right(addrs, rel) - 1
            if i >= 0:
                name = syms[i][1]
        out[name] = out.get(name, 0) + insns
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        print(build())
    else:
        print(__doc__)
        sys.exit(2)
