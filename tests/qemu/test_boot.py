"""Boot tests: the image reaches the ready banner by UEFI and by GRUB, the
panic path reports faults with the right vector and exit status, bad keys
are reported without stopping the boot, and small memory boots."""
import os

from harness import ROOT, Guest, expect, test

BANNER = (r"^Skiff (\S+) ready: (\d+) MiB usable memory, TSC ([\d.]+) MHz, "
          r"loader (\w+), boot (\d+) ms, cmdline \"(.*)\"$")


def boot_to_banner(name, cmdline, **kw):
    g = Guest(name, cmdline=cmdline, **kw)
    with g:
        m = g.wait_for(BANNER, timeout=90)
        expect(m, "no ready banner", g)
        rc = g.wait_exit(timeout=30)
        return g, m, rc


@test
def uefi_boot_reaches_banner():
    g, m, rc = boot_to_banner("boot-uefi", "test.shutdown=1")
    expect(m.group(4) == "uefi", "loader should be uefi: " + m.group(0))
    expect(int(m.group(2)) > 100, "too little memory found: " + m.group(0))
    expect(float(m.group(3)) > 100, "implausible TSC: " + m.group(0))
    expect(m.group(6) == "test.shutdown=1", "cmdline not echoed: " + m.group(0))
    expect("image at 0x" in g.log(), "no image address for gdb", g)
    expect(rc == 0, "ACPI power-off should exit QEMU with 0, got %r" % rc, g)
    log = g.log()
    for what in ("clock: TSC", "apic: ", "acpi: ", "page tables:"):
        expect(what in log, "log lacks '%s'" % what, g)


@test
def grub_iso_boot_reaches_banner():
    # The test ISO's GRUB menu passes "loader=grub test.shutdown=1" (make
    # test builds it with that CMDLINE) as EFI load options (chainloader).
    g, m, rc = boot_to_banner("boot-grub", "", boot="iso",
                              iso=os.path.join(ROOT, "build", "skiff-test.iso"))
    expect(m.group(4) == "grub", "loader should be grub: " + m.group(0), g)
    expect("test.shutdown=1" in m.group(6), "GRUB cmdline lost", g)
    expect(rc == 0, "exit status %r" % rc, g)


def fault_test(kind, vector, name):
    g = Guest("fault-" + kind, cmdline="test.fault=" + kind)
    with g:
        m = g.wait_for(r"PANIC: CPU exception (\d+) \((.*)\), error code",
                       timeout=90)
        expect(m, "no panic dump for test.fault=" + kind, g)
        expect(int(m.group(1)) == vector and m.group(2) == name,
               "wrong vector: " + m.group(0), g)
        rc = g.wait_exit(timeout=30)
        expect(rc == ((0x40 + vector) << 1 | 1),
               "exit status %r for vector %d" % (rc, vector), g)
        log = g.log()
        for what in ("rip 0x", "cr2 ", "rax ", "r15 "):
            expect(what in log, "dump lacks '%s'" % what, g)
        return g


@test
def page_fault_panics():
    g = fault_test("pf", 14, "page fault")
    expect("page fault at 0: page not present" in g.log(), "no CR2 detail", g)
    expect("backtrace" in g.log(), "no backtrace", g)


@test
def invalid_opcode_panics():
    fault_test("ud", 6, "invalid opcode")


@test
def general_protection_panics():
    fault_test("gp", 13, "general protection")


@test
def stack_overflow_hits_guard_page():
    g = fault_test("stack", 8, "double fault")
    expect("guard page of the main stack" in g.log(), "guard not named", g)


@test
def unknown_key_is_reported_and_boot_continues():
    g, m, rc = boot_to_banner("bad-keys",
                              "frobnicate=1 timer.hz=abc test.shutdown=1")
    log = g.log()
    expect("unknown key 'frobnicate'" in log, "unknown key not reported", g)
    expect("bad value 'abc' for timer.hz" in log, "bad value not reported", g)
    expect(rc == 0, "exit status %r" % rc, g)


@test
def help_lists_every_key():
    g, m, rc = boot_to_banner("help", "help test.shutdown=1")
    for key in ("log.level", "timer.hz", "test.fault", "test.shutdown"):
        expect(key in g.log(), "help does not list " + key, g)


@test
def boots_with_64_mib():
    g, m, rc = boot_to_banner("mem64", "test.shutdown=1", mem=64)
    expect(int(m.group(2)) < 64, "memory should be under 64 MiB", g)
    expect(rc == 0, "exit status %r" % rc, g)
