#!/usr/bin/env python3
"""A network namespace with a tap device for a guest: `make run NET=tap`,
the tap integration tests and the benchmark use it, so traffic to the guest
never leaves a namespace Skiff created itself.

    python3 tools/netns.py run [--iso]    (what `make run NET=tap` does)

Inside namespace skiff-<pid>: tap device skt0 with HOST_IP/24, the guest is
given GUEST_IP statically on its command line. The namespace (and with it
the tap) is deleted on exit, on Ctrl-C and on SIGTERM; namespaces left by a
killed run (their pid is gone) are swept at the next start."""
import atexit
import os
import signal
import subprocess
import sys

HOST_IP = "10.77.0.1"
GUEST_IP = "10.77.0.2"
PREFIX = 24
TAP = "skt0"


def _ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), check=check,
                          capture_output=True, text=True)


def sweep_stale():
    out = _ip("netns", "list", check=False).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith("skiff-"):
            continue
        try:
            pid = int(name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if not os.path.exists("/proc/%d" % pid):
            _ip("netns", "del", name, check=False)


class TapNamespace:
    """Context manager: creates the namespace and its tap, deletes both."""

    def __init__(self, suffix="", host_ip=HOST_IP, guest_ip=GUEST_IP,
                 queues=1):
        self.name = "skiff-%d%s" % (os.getpid(), suffix)
        # queues > 1: a multiqueue tap, one queue per virtio-net pair.
        self.queues = queues
        self.host_ip = host_ip
        self.guest_ip = guest_ip
        self.tap = TAP
        self.created = False

    def __enter__(self):
        if os.geteuid() != 0:
            raise SystemExit("NET=tap needs root (network namespaces)")
        sweep_stale()
        _ip("netns", "add", self.name)
        self.created = True
        atexit.register(self.close)
        ns = ["-n", self.name]
        _ip(*ns, "link", "set", "lo", "up")
        _ip(*ns, "tuntap", "add", "dev", self.tap, "mode", "tap",
            *(["multi_queue"] if self.queues > 1 else []))
        _ip(*ns, "addr", "add", "%s/%d" % (self.host_ip, PREFIX), "dev",
            self.tap)
        _ip(*ns, "link", "set", self.tap, "up")
        return self

    def cmd(self, argv):
        """argv run inside the namespace."""
        return ["ip", "netns", "exec", self.name] + list(argv)

    def guest_cmdline(self):
        return "ip=%s/%d gw=%s" % (self.guest_ip, PREFIX, self.host_ip)

    def close(self):
        if self.created:
            _ip("netns", "del", self.name, check=False)
            self.created = False

    def __exit__(self, *exc):
        self.close()


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import skiffqemu
    boot = ("iso" if "--iso" in sys.argv else
            os.environ.get("BOOT") or "efi")
    smp = int(os.environ.get("SMP") or 1)
    # One queue pair per vCPU: a multiqueue tap and virtio-net with MQ.
    with TapNamespace(queues=smp) as ns:
        cmdline = (ns.guest_cmdline() + " " +
                   os.environ.get("CMDLINE", "")).strip()
        argv = skiffqemu.qemu_command(
            boot=boot, mem=int(os.environ.get("MEM") or 256),
            smp=smp, queues=smp,
            machine=os.environ.get("MACHINE") or "q35",
            cmdline=cmdline, net="tap", tap=ns.tap, serial="mon:stdio",
            pcap=os.environ.get("PCAP") or None)
        print("Skiff: guest %s behind tap %s in namespace %s" %
              (ns.guest_ip, ns.tap, ns.name))
        print("  from another terminal:  ip netns exec %s ping %s" %
              (ns.name, ns.guest_ip))
        print("                          ip netns exec %s nc %s 7" %
              (ns.name, ns.guest_ip))
        print("                          ip netns exec %s curl http://%s/" %
              (ns.name, ns.guest_ip))
        sys.stdout.flush()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
        return subprocess.call(ns.cmd(argv))


if __name__ == "__main__":
    sys.exit(main())
