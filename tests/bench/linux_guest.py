#!/usr/bin/env python3
"""Builds the benchmark's Linux guest from Debian packages only:

    python3 tests/bench/linux_guest.py      (prints kernel and initrd paths)

kernel: /boot/vmlinuz-*cloud-amd64 (linux-image-cloud-amd64), else any
/boot/vmlinuz-*. initramfs (build/bench/linux-guest/initrd.gz, newc cpio,
gzip): busybox-static, the virtio-net modules of that kernel in dependency
order, tests/bench/linux-guest/echo_server.c built `gcc -static -O2`,
nginx (nginx-light) with the libraries `ldd` names, a minimal nginx.conf,
the www content Skiff serves, and linux-guest/init.

Rebuilt only when an input is newer than the output."""
import glob
import gzip
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SRC = os.path.join(HERE, "linux-guest")
OUT = os.path.join(ROOT, "build", "bench", "linux-guest")
sys.path.insert(0, os.path.join(ROOT, "tools"))

# The modules virtio-net needs, in load order (modinfo -F depends).
# virtio_mmio for the direct boot on QEMU's microvm (no PCI; the devices
# are listed in its ACPI tables); harmless where there is none.
MODULES = ["virtio_ring", "virtio", "virtio_mmio", "virtio_pci_modern_dev",
           "virtio_pci_legacy_dev", "virtio_pci", "failover", "net_failover",
           "virtio_net"]


IPROUTE2_IP = "/sbin/ip"
UDP_REFLECT = os.path.join(ROOT, "build", "xdp", "udp_reflect.o")


def kernel():
    for pat in ("/boot/vmlinuz-*cloud-amd64", "/boot/vmlinuz-*"):
        found = sorted(glob.glob(pat))
        if found:
            return found[-1]
    raise SystemExit("bench: no /boot/vmlinuz-*; apt-get install "
                     "linux-image-cloud-amd64")


def kernel_version(path):
    return os.path.basename(path)[len("vmlinuz-"):]


def www_files():
    """{served path: bytes-producing callable}: build/www if it holds the
    files, else www/ (with *.gen synthesised by tools/gen-www.py), else a
    generated index.html."""
    site = os.path.join(ROOT, "www")
    files = {}
    if os.path.isdir(site):
        for dirpath, _, names in os.walk(site):
            for n in names:
                if n.startswith(".") or n.endswith("~"):
                    continue
                full = os.path.join(dirpath, n)
                rel = "/" + os.path.relpath(full, site)
                if n.endswith(".gen"):
                    served = rel[:-4]
                    files[served] = ("gen", served, site)
                else:
                    files[rel] = ("file", full)
    if "/index.html" not in files:
        files["/index.html"] = ("text", "<!doctype html><title>Skiff</title>"
                                "<p>Skiff benchmark index</p>\n")
    return files


def materialise(spec):
    if spec[0] == "file":
        with open(spec[1], "rb") as f:
            return f.read()
    if spec[0] == "text":
        return spec[1].encode()
    return subprocess.run([sys.executable,
                           os.path.join(ROOT, "tools", "gen-www.py"),
                           "--cat", spec[1], spec[2]],
                          check=True, capture_output=True).stdout


def ldd_libs(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True,
                         check=True).stdout
    libs = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts:
            p = parts[parts.index("=>") + 1]
            if p.startswith("/"):
                libs.append(p)
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])
    return libs


def inputs(kpath):
    paths = [os.path.join(SRC, n) for n in os.listdir(SRC)]
    paths += [__file__, kpath, "/usr/sbin/nginx", "/bin/busybox",
              IPROUTE2_IP, UDP_REFLECT]
    site = os.path.join(ROOT, "www")
    if os.path.isdir(site):
        for dirpath, _, names in os.walk(site):
            paths += [os.path.join(dirpath, n) for n in names]
    return paths


def copy(src, root, dest=None):
    dest = os.path.join(root, (dest or src).lstrip("/"))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copy2(src, dest)
    return dest


def build(guest_ip="10.77.0.2", host_ip="10.77.0.1", force=False, log=print):
    """Returns (kernel path, initrd path), building the initrd if stale."""
    kpath = kernel()
    kver = kernel_version(kpath)
    initrd = os.path.join(OUT, "initrd.gz")
    stamp = os.path.join(OUT, "initrd.ip")
    want = "%s %s %s" % (guest_ip, host_ip, kver)
    if (not force and os.path.exists(initrd) and os.path.exists(stamp)
            and open(stamp).read() == want
            and all(os.path.getmtime(p) <= os.path.getmtime(initrd)
                    for p in inputs(kpath) if os.path.exists(p))):
        return kpath, initrd
    for tool in ("/bin/busybox", "/usr/sbin/nginx"):
        if not os.path.exists(tool):
            raise SystemExit("bench: %s missing; run tools/setup.sh bench"
                             % tool)
    log("bench: building the Linux guest initramfs (kernel %s)" % kver)
    root = os.path.join(OUT, "root")
    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev",
              "run", "tmp", "etc/nginx", "var/log/nginx", "var/lib/nginx",
              "lib/modules", "www"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    copy("/bin/busybox", root)
    os.symlink("busybox", os.path.join(root, "bin", "sh"))
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o",
                    os.path.join(root, "echo_server"),
                    os.path.join(SRC, "echo_server.c")], check=True)
    # Modules: plain .ko, or .ko.xz/.ko.zst decompressed here (busybox's
    # insmod takes only plain ones).
    moddir = os.path.join("/lib/modules", kver)
    order = []
    for m in MODULES:
        found = glob.glob(os.path.join(moddir, "kernel", "**", m + ".ko*"),
                          recursive=True)
        if not found:
            continue  # built in
        src = found[0]
        dest = os.path.join(root, "lib", "modules", m + ".ko")
        if src.endswith(".ko"):
            shutil.copyfile(src, dest)
        elif src.endswith(".xz"):
            with open(dest, "wb") as f:
                subprocess.run(["xz", "-dc", src], stdout=f, check=True)
        elif src.endswith(".zst"):
            with open(dest, "wb") as f:
                subprocess.run(["zstd", "-dc", src], stdout=f, check=True)
        else:
            continue
        order.append(m)
    with open(os.path.join(root, "lib", "modules", "order"), "w") as f:
        f.write(" ".join(order) + "\n")
    # nginx and its libraries, at the same paths.
    copy("/usr/sbin/nginx", root)
    for lib in ldd_libs("/usr/sbin/nginx"):
        real = os.path.realpath(lib)
        copy(real, root, lib)
    copy(os.path.join(SRC, "nginx.conf"), root, "/etc/nginx/nginx.conf")
    # iproute2's ip (busybox's cannot attach XDP) with its libraries (libbpf
    # among them), and the very udp_reflect object Skiff's image embeds:
    # bench.xdp=1 on the command line attaches it in native mode.
    copy(IPROUTE2_IP, root, "/usr/sbin/ip-full")
    for lib in ldd_libs(IPROUTE2_IP):
        copy(os.path.realpath(lib), root, lib)
    if os.path.exists(UDP_REFLECT):
        copy(UDP_REFLECT, root, "/udp_reflect.o")
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n")
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    for served, spec in sorted(www_files().items()):
        dest = os.path.join(root, "www", served.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(materialise(spec))
    with open(os.path.join(SRC, "init")) as f:
        init = f.read().replace("@GUEST_IP@", guest_ip).replace(
            "@HOST_IP@", host_ip)
    with open(os.path.join(root, "init"), "w") as f:
        f.write(init)
    os.chmod(os.path.join(root, "init"), 0o755)
    # newc cpio, gzip.
    names = subprocess.run(["find", "."], cwd=root, capture_output=True,
                           check=True).stdout
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                          input=names, capture_output=True, check=True).stdout
    tmp = initrd + ".tmp"
    with gzip.open(tmp, "wb", compresslevel=6) as f:
        f.write(cpio)
    os.replace(tmp, initrd)
    with open(stamp, "w") as f:
        f.write(want)
    return kpath, initrd


if __name__ == "__main__":
    k, i = build(force="--force" in sys.argv)
    print(k)
    print(i)
