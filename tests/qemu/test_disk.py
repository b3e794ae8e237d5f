"""Disk images (`make disk`, tools/mkdisk.sh): a raw GPT disk with one EFI
system partition, and the same as qcow2, each boot under OVMF with nothing
but `-drive file=...` (no FAT directory, no fw_cfg command line) and answer
TCP echo and HTTP through QEMU's user network on 127.0.0.1. The raw image
is built here with a command line full of tabs, line ends and a control
byte, which boot/efi_main.c must read from EFI/skiff/cmdline as clean
words; the qcow2 is make disk's own (qemu-test builds it), with none."""
import os
import socket
import subprocess

from harness import ROOT, Guest, expect, test
from test_boot import BANNER
from test_metrics import get, wait_http
import skiffqemu

BUILD = os.path.join(ROOT, "build")
FILE_CMDLINE = "net.mode=irq\thttp.log=1\r\n\x01 \n"
READ_AS = "net.mode=irq http.log=1"


def echo_once(port, payload=b"skiff disk echo\n"):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    return got


def boot_disk(name, disk, want_cmdline):
    http_port, echo_port = skiffqemu.free_port(), skiffqemu.free_port()
    g = Guest(name, boot="disk", disk=disk, net="user",
              hostfwd=[("tcp", http_port, 80), ("tcp", echo_port, 7)])
    expect(not any(a.startswith("file=fat") or a.startswith("name=opt/")
                   for a in g.argv), "the disk must boot alone")
    with g:
        m = g.wait_for(BANNER, timeout=120)
        expect(m, "no ready banner from %s" % disk, g)
        expect(m.group(4) == "uefi", "loader %r" % m.group(4), g)
        expect(m.group(6) == want_cmdline,
               "cmdline %r, expected %r" % (m.group(6), want_cmdline), g)
        wait_http(g, http_port)
        status, _, body = get(http_port, "/")
        expect(status == 200 and b"Skiff" in body, "GET / -> %d" % status, g)
        expect(echo_once(echo_port) == b"skiff disk echo\n", "no echo", g)


@test
def disk_raw_gpt_with_cmdline_file():
    img = os.path.join(BUILD, "skiff-test-disk.img")
    env = dict(os.environ, CMDLINE=FILE_CMDLINE)
    r = subprocess.run([os.path.join(ROOT, "tools", "mkdisk.sh"),
                        os.path.join(BUILD, "skiff.efi"), img],
                       env=env, capture_output=True, text=True, timeout=120)
    expect(r.returncode == 0, "mkdisk failed: %s" % r.stderr)
    part = subprocess.run(["sgdisk", "--print", img], capture_output=True,
                          text=True, timeout=30).stdout
    expect("EF00" in part, "no EFI system partition:\n" + part)
    boot_disk("disk-raw", img, READ_AS)


@test
def disk_qcow2_from_make_disk():
    qcow = os.path.join(BUILD, "skiff.qcow2")
    expect(os.path.exists(qcow), "build/skiff.qcow2 missing: make disk")
    info = subprocess.run(["qemu-img", "info", qcow], capture_output=True,
                          text=True, timeout=30).stdout
    expect("file format: qcow2" in info, "not qcow2:\n" + info)
    boot_disk("disk-qcow2", qcow, "")


@test
def disk_cmdline_file_overridden_by_fw_cfg():
    """The image's file is its default; a hypervisor's fw_cfg file (how
    the libvirt fleet gives each overlay its address) wins over it."""
    img = os.path.join(BUILD, "skiff-test-disk-fwcfg.img")
    env = dict(os.environ, CMDLINE="net.mode=irq http.log=1")
    r = subprocess.run([os.path.join(ROOT, "tools", "mkdisk.sh"),
                        os.path.join(BUILD, "skiff.efi"), img],
                       env=env, capture_output=True, text=True, timeout=120)
    expect(r.returncode == 0, "mkdisk failed: %s" % r.stderr)
    fw = "test.shutdown=1 net.mode=poll"
    g = Guest("disk-fwcfg", boot="disk", disk=img, net="none",
              extra=["-fw_cfg", "name=opt/skiff/cmdline,string=" + fw])
    with g:
        m = g.wait_for(BANNER, timeout=120)
        expect(m, "no ready banner", g)
        expect(m.group(6) == fw, "cmdline %r, expected fw_cfg's %r"
               % (m.group(6), fw), g)
        expect(g.wait_exit(timeout=60) == 0, "no clean power-off", g)
