#!/usr/bin/env python3
"""Builds and runs the QEMU command line for Skiff: `make run`, `make
run-iso`, `make debug`, the integration tests and the benchmark all start
QEMU through here, so they boot the appliance the same way.

    python3 tools/skiffqemu.py run [--iso] [--debug]

Settings come from the environment (the Makefile passes them through):
ACCEL=tcg|kvm, MEM (MiB), CMDLINE, NET=user|tap|none, ECHO_PORT, HTTP_PORT,
IPERF_PORT, PCAP=file, MACHINE=q35|pc|microvm, BOOT=efi|direct|disk,
DISK=file (BOOT=disk: build/skiff.qcow2 by default), QEMU_EXTRA,
SMP=N (vCPUs: N > 1 runs -smp N -accel tcg,thread=multi; 1, the default,
keeps -smp 1,maxcpus=2). With NET=tap and SMP=N > 1 the tap has N queues
and virtio-net offers N queue pairs (mq=on, rss=on, 2N+2 MSI-X vectors):
one pair per vCPU. QEMU's user networking has one queue, so NET=user
stays on one pair whatever SMP is.

BOOT=direct starts build/skiff-pvh.elf with -kernel (the PVH entry: no
firmware in the way); MACHINE=microvm implies it (microvm has no UEFI).
BOOT=disk boots a disk image from `make disk` under OVMF with nothing but
-drive file=DISK (its command line is the image's EFI/skiff/cmdline).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
PVH_ELF = os.path.join(BUILD, "skiff-pvh.elf")
# microvm as a Firecracker-like machine: no option ROMs, no RTC; ACPI on so
# the guest finds the I/O APIC, the virtio-mmio devices and the sleep
# register there (QEMU then lists the devices in the DSDT, not on the
# command line). Its PIT stays (pit=auto): under TCG nothing else gives
# the TSC rate.
MICROVM = "microvm,x-option-roms=off,rtc=off,acpi=on"


def esp_dir(efi=os.path.join(BUILD, "skiff.efi"), name="esp"):
    """A directory QEMU exposes as a FAT disk, with our app as the
    removable-media boot path so OVMF starts it with no boot entry."""
    d = os.path.join(BUILD, name)
    boot = os.path.join(d, "EFI", "BOOT")
    os.makedirs(boot, exist_ok=True)
    target = os.path.join(boot, "BOOTX64.EFI")
    with open(efi, "rb") as f:
        image = f.read()
    try:
        with open(target, "rb") as f:
            if f.read() == image:
                return d  # unchanged: never rewrite under a running QEMU
    except OSError:
        pass
    # Write aside and rename, so a QEMU reading the old file sees it whole.
    tmp = "%s.%d.%d" % (target, os.getpid(), threading.get_ident())
    with open(tmp, "wb") as f:
        f.write(image)
    os.replace(tmp, target)
    return d


def vars_file(tag="run"):
    """OVMF keeps settings in a writable VARS flash; each user gets a copy."""
    path = os.path.join(BUILD, "ovmf-vars-%s.fd" % tag)
    if not os.path.exists(path):
        shutil.copyfile(OVMF_VARS, path)
    return path


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fw_cfg_string(text):
    # QEMU's option parser treats "," as a separator; ",," is a literal comma.
    return text.replace(",", ",,")


def qemu_command(boot="efi", mem=256, accel=None, machine="q35", cmdline="",
                 smp=1, queues=1,
                 net="user", hostfwd=(), pcap=None, tap=None, serial="stdio",
                 vars_tag="run", nic=True, nic_opts="disable-legacy=on", extra=(),
                 iso=os.path.join(BUILD, "skiff.iso"),
                 disk=os.path.join(BUILD, "skiff.qcow2")):
    """Returns the argv for one Skiff guest.

    hostfwd: list of (proto, host_port, guest_port).
    net: "user", "tap" (needs tap=ifname) or "none".
    queues: tap queues and virtio-net queue pairs (> 1: the tap must be
    multi_queue; the NIC gets mq=on,rss=on and 2 * queues + 2 vectors).
    """
    accel = accel or os.environ.get("ACCEL", "tcg")
    microvm = machine.split(",")[0] == "microvm"
    if microvm:
        boot = "direct"
        machine = MICROVM if machine == "microvm" else machine
    accel_opt = accel
    if smp > 1:
        # Several vCPUs: one host thread each under TCG (the device then
        # completes work concurrently with the guest, as on real hardware).
        smp_opt = str(smp)
        if accel == "tcg":
            accel_opt = "tcg,thread=multi"
    else:
        # One vCPU, but maxcpus=2 keeps QEMU 7.2's TCG from dropping the
        # guest's memory barriers (a lost virtio notification otherwise).
        smp_opt = "1,maxcpus=2"
    argv = [
        "qemu-system-x86_64", "-accel", accel_opt, "-M", machine,
        "-m", str(mem),
        "-smp", smp_opt,
        "-nodefaults", "-display", "none", "-no-reboot",
        "-serial", serial,
    ]
    if boot != "direct":
        argv += [
            "-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
            "-drive", "if=pflash,format=raw,file=" + vars_file(vars_tag),
        ]
    argv += ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if accel == "kvm":
        argv += ["-cpu", "host"]
    else:
        argv += ["-cpu", "max"]
    if boot == "iso":
        argv += ["-cdrom", iso]
    elif boot == "disk":
        # A snapshot: several guests may boot the same image, and the
        # image itself stays as built.
        fmt = "qcow2" if disk.endswith(".qcow2") else "raw"
        argv += ["-drive", "file=%s,format=%s,snapshot=on" % (disk, fmt)]
    elif boot == "direct":
        # The command line goes in hvm_start_info (the PVH loader copies
        # -append there).
        argv += ["-kernel", PVH_ELF]
        if cmdline:
            argv += ["-append", cmdline]
    else:
        argv += ["-drive", "file=fat:rw:%s,format=raw" % esp_dir()]
    if cmdline and boot not in ("direct", "disk"):
        argv += ["-fw_cfg", "name=opt/skiff/cmdline,string=" +
                 fw_cfg_string(cmdline)]
    if nic and net != "none":
        if net == "tap":
            argv += ["-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no"
                     % tap + (",queues=%d" % queues if queues > 1 else "")]
            if queues > 1:
                # QEMU 7.2 offers RSS only when asked (rss=on); without
                # eBPF steering it hashes in software.
                nic_opts += ",mq=on,rss=on,vectors=%d" % (2 * queues + 2)
        else:
            fwd = "".join(",hostfwd=%s:127.0.0.1:%d-:%d" % f for f in hostfwd)
            argv += ["-netdev", "user,id=n0" + fwd]
        if microvm:
            # virtio-mmio, and the modern (version 2) register layout.
            argv += ["-global", "virtio-mmio.force-legacy=false",
                     "-device", "virtio-net-device,netdev=n0"]
        else:
            # romfile= skips iPXE: OVMF would otherwise spend time on it.
            argv += ["-device",
                     "virtio-net-pci,netdev=n0,romfile=," + nic_opts]
        if pcap:
            argv += ["-object", "filter-dump,id=dump0,netdev=n0,file=" + pcap]
    argv += list(extra)
    return argv


def probe_image_base():
    """OVMF loads the image at the same address for the same machine, so a
    quick boot that powers off at once tells where gdb must put symbols."""
    argv = qemu_command(cmdline="test.shutdown=1", net="none",
                        serial="stdio", vars_tag="probe")
    out = subprocess.run(argv, capture_output=True, text=True,
                         timeout=120).stdout
    for line in out.splitlines():
        if "image at " in line:
            return int(line.split("image at ")[1].split()[0], 16)
    raise SystemExit("debug: the probe boot printed no image address")


def write_gdbinit(base):
    path = os.path.join(BUILD, "gdbinit")
    elf = os.path.join(BUILD, "skiff.elf")
    with open(path, "w") as f:
        f.write("set confirm off\n")
        # QEMU starts the CPU in real mode; declare the 64-bit target up
        # front so the register layout gdb expects stays the same.
        f.write("set architecture i386:x86-64\n")
        f.write("add-symbol-file %s -o %#x\n" % (elf, base))
        f.write("target remote 127.0.0.1:1234\n")
    print("debug: image base %#x; QEMU waits for gdb. In another terminal:"
          % base)
    print("  gdb -x %s    (then e.g. 'hbreak kernel_main', 'continue')" % path)


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v else default


def main():
    args = sys.argv[1:]
    if not args or args[0] != "run":
        print(__doc__)
        return 2
    boot = "iso" if "--iso" in args else os.environ.get("BOOT") or "efi"
    if os.environ.get("MACHINE", "").startswith("microvm"):
        boot = "direct"  # microvm has no UEFI
    debug = "--debug" in args
    ports = {
        "echo": env_int("ECHO_PORT", 7007),
        "http": env_int("HTTP_PORT", 8080),
        "iperf": env_int("IPERF_PORT", 5001),
    }
    hostfwd = [("tcp", ports["echo"], 7), ("udp", ports["echo"], 7),
               ("tcp", ports["http"], 80), ("tcp", ports["iperf"], 5001)]
    net = os.environ.get("NET", "user")
    extra = os.environ.get("QEMU_EXTRA", "").split()
    if debug:
        write_gdbinit(probe_image_base())
        extra += ["-s", "-S"]
    pcap = os.environ.get("PCAP") or None
    if net == "tap":
        os.execvp(sys.executable, [sys.executable,
                                   os.path.join(ROOT, "tools", "netns.py"),
                                   "run"] + (["--iso"] if boot == "iso" else []))
    argv = qemu_command(boot=boot, mem=env_int("MEM", 256),
                        smp=env_int("SMP", 1),
                        machine=os.environ.get("MACHINE", "q35"),
                        cmdline=os.environ.get("CMDLINE", ""), net=net,
                        hostfwd=hostfwd, pcap=pcap, serial="mon:stdio",
                        extra=extra,
                        disk=os.environ.get("DISK") or
                        os.path.join(BUILD, "skiff.qcow2"))
    print("Skiff: booting with %s (Ctrl-A X quits QEMU)" %
          {"iso": "GRUB", "direct": "the PVH entry (-kernel)",
           "disk": "OVMF from a disk image"}.get(
              boot, "OVMF"))
    if net == "user":
        print("  TCP/UDP echo:  nc 127.0.0.1 %d   (nc -u for UDP)" %
              ports["echo"])
        print("  HTTP:          curl http://127.0.0.1:%d/" % ports["http"])
        print("  iperf:         iperf -c 127.0.0.1 -p %d" % ports["iperf"])
    if pcap:
        print("  capturing the wire to %s" % pcap)
    sys.stdout.flush()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return subprocess.call(argv)


if __name__ == "__main__":
    sys.exit(main())
