"""TCP segmentation offload (virtio HOST_TSO4) behind a tap device in a
network namespace the test creates: QEMU offers TSO only over tap with
vnet_hdr. /big.bin over HTTP must arrive byte-exact with GSO frames counted
in /stats, and a 1 MiB TCP echo must come back byte-exact. The same
download with the device's TSO switched off (host_tso4=off) sends no GSO
frame; both throughputs are printed (curl's speed_download, 5 runs each).
The guest asks for TSO with net.tso=1 (also the default)."""
import json
import os
import subprocess
import sys

from harness import HERE, ROOT, Guest, TestFailure, expect, test

sys.path.insert(0, os.path.join(ROOT, "tools"))
from netns import TapNamespace  # noqa: E402

CLIENT = os.path.join(HERE, "netclient.py")
RUNS = int(os.environ.get("TSO_RUNS", "5"))


def run_in(ns, argv, timeout=120, text=True):
    r = subprocess.run(ns.cmd(argv), capture_output=True, text=text,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def big_bin():
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "gen-www.py"), "--cat",
         "/big.bin", os.path.join(ROOT, "www")],
        check=True, capture_output=True).stdout


def stats(ns, g):
    rc, out, err = run_in(ns, ["curl", "-s", "--max-time", "30",
                               "http://%s/stats" % ns.guest_ip])
    expect(rc == 0, "/stats: curl rc %d %s" % (rc, err), g)
    try:
        return json.loads(out)
    except ValueError as e:
        raise TestFailure("/stats is not JSON (%s): %r" % (e, out[:300]))


def find_key(obj, key):
    """The first dict in obj (depth first) that has key."""
    if isinstance(obj, dict):
        if key in obj:
            return obj
        for v in obj.values():
            d = find_key(v, key)
            if d is not None:
                return d
    elif isinstance(obj, list):
        for v in obj:
            d = find_key(v, key)
            if d is not None:
                return d
    return None


def gso_frames(ns, g):
    tx = find_key(stats(ns, g), "gso_frames")
    expect(tx is not None, "/stats has no gso_frames counter", g)
    return tx["gso_frames"], tx["gso_segments"]


def speeds(ns, g, url):
    out = []
    for _ in range(RUNS):
        rc, o, err = run_in(ns, ["curl", "-s", "-o", "/dev/null", "--max-time",
                                 "120", "-w", "%{speed_download}", url])
        expect(rc == 0, "curl %s: rc %d %s" % (url, rc, err), g)
        out.append(float(o) / 1e6)
    return out


def boot(ns, name, nic_opts):
    cmdline = ns.guest_cmdline() + " net.tso=1"
    g = Guest(name, net="tap", tap=ns.tap, cmdline=cmdline.strip(),
              nic_opts=nic_opts)
    g.argv = ns.cmd(g.argv)  # QEMU must open the tap inside the namespace
    return g


def report(label, mbs):
    print("    %s /big.bin MB/s: %s (median %.2f)" %
          (label, " ".join("%.2f" % v for v in mbs), sorted(mbs)[len(mbs) // 2]))
    sys.stdout.flush()


@test
def tso_big_bin_and_echo():
    big = big_bin()
    with TapNamespace(suffix="-tso") as ns:
        g = boot(ns, "tso-on", "disable-legacy=on")
        with g:
            expect(g.wait_for(r"net: \w+ up, address 10\.77\.0\.2/24",
                              timeout=90), "no static address", g)
            expect(g.wait_for(r"tso on", timeout=5),
                   "the device did not negotiate TSO", g)
            url = "http://%s/big.bin" % ns.guest_ip
            rc, body, err = run_in(ns, ["curl", "-s", "--max-time", "120",
                                        url], text=False)
            expect(rc == 0, "curl big.bin: rc %d %r" % (rc, err), g)
            expect(body == big, "/big.bin is not byte-exact (%d of %d bytes)"
                   % (len(body), len(big)), g)
            frames, segs = gso_frames(ns, g)
            expect(frames > 0, "no GSO frame after /big.bin", g)
            expect(segs >= 2 * frames, "GSO frames of < 2 segments", g)
            print("    after /big.bin: %d GSO frames, %d segments" %
                  (frames, segs))
            for size in (1, 1460, 65536, 1 << 20):
                rc, out, err = run_in(ns, [sys.executable, CLIENT, "tcp-echo",
                                           ns.guest_ip, "7", str(size)])
                expect(rc == 0, "tcp-echo %d: %s %s" % (size, out, err), g)
            rc, out, err = run_in(ns, [sys.executable, CLIENT, "udp-echo",
                                       ns.guest_ip, "7", "1472"])
            expect(rc == 0, "udp-echo: %s %s" % (out, err), g)
            report("TSO on ", speeds(ns, g, url))
            tx = find_key(stats(ns, g), "gso_frames")
            print("    glue tx: %d frames, %d GSO frames of %d segments, "
                  "%d ring-full retries" % (tx["frames"], tx["gso_frames"],
                                            tx["gso_segments"], tx["retries"]))

        g = boot(ns, "tso-off", "disable-legacy=on,host_tso4=off")
        with g:
            expect(g.wait_for(r"net: \w+ up, address 10\.77\.0\.2/24",
                              timeout=90), "no static address", g)
            expect(g.wait_for(r"tso off", timeout=5),
                   "TSO negotiated with host_tso4=off", g)
            rc, body, err = run_in(ns, ["curl", "-s", "--max-time", "120",
                                        url], text=False)
            expect(rc == 0 and body == big, "/big.bin without TSO differs", g)
            frames, _ = gso_frames(ns, g)
            expect(frames == 0, "GSO frames without TSO", g)
            report("TSO off", speeds(ns, g, url))
