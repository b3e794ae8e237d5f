#!/usr/bin/env python3
"""UDP echo round trips through three Skiff paths, side by side: lwIP's
echo service (port 7), the AF_XDP socket's echo (xsk.port=7009, answered
from the UMEM without lwIP) and udp_reflect at the XDP hook (JIT, XDP_TX).
Each boot sits behind a tap in a network namespace of its own, as in
`make bench`, and gets 64-byte datagrams one at a time from
tests/bench/rtt_client; the paths take turns for ROUNDS rounds.

  sudo python3 tools/xsk_rtt.py [ROUNDS] [COUNT]     (defaults 3, 3000)

Prints a Markdown table of medians over rounds with [min-max]. The XSK
and XDP rows are kept only if their counters moved and lwIP's UDP receive
counter did not."""
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import skiffqemu  # noqa: E402
from netns import TapNamespace  # noqa: E402

CLIENT = os.path.join(ROOT, "build", "bench", "rtt_client")
MODE = os.environ.get("MODE", "hybrid")
PATHS = [
    ("lwIP UDP echo (port 7)", "", 7),
    ("AF_XDP socket echo (xsk.port=7009)", "xsk.port=7009", 7009),
    ("XDP udp_reflect (JIT, XDP_TX)", "xdp.prog=udp_reflect xdp.jit=1", 7),
]


def stats(ns):
    r = subprocess.run(ns.cmd(["curl", "-s", "-m", "10",
                               "http://%s/stats" % ns.guest_ip]),
                       capture_output=True, text=True, timeout=30)
    return json.loads(r.stdout)


def one(ns, extra, port, count, tag):
    log = os.path.join(ROOT, "build", "test-logs", "xsk-rtt-%s.log" % tag)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    argv = ns.cmd(skiffqemu.qemu_command(
        boot="direct", net="tap", tap=ns.tap, serial="file:" + log,
        cmdline="%s net.mode=%s %s" % (ns.guest_cmdline(), MODE, extra)))
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        w = subprocess.run(ns.cmd([CLIENT, "wait", ns.guest_ip, "7", "120"]),
                           capture_output=True, text=True, timeout=140)
        if w.returncode:
            raise SystemExit("no echo from the guest; see " + log)
        time.sleep(0.5)
        before = stats(ns)
        r = subprocess.run(ns.cmd([CLIENT, "udp", ns.guest_ip, str(port),
                                   "64", str(count), "120"]),
                           capture_output=True, text=True, timeout=180)
        after = stats(ns)
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    res = json.loads(r.stdout.strip().splitlines()[-1])
    lwip = after["lwip"]["udp"]["recv"] - before["lwip"]["udp"]["recv"]
    if port == 7009:
        moved = (after["xsk"]["sockets"][0]["tx"] -
                 before["xsk"]["sockets"][0]["tx"])
        res["ok"] = moved >= res["n"] and lwip == 0
    elif extra:
        res["ok"] = after["xdp"]["tx"] - before["xdp"]["tx"] >= res["n"] \
            and lwip == 0
    else:
        res["ok"] = lwip >= res["n"]
    return res


def cell(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    return "%d [%d-%d]" % (statistics.median(vals), min(vals), max(vals))


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    if not os.path.exists(CLIENT):
        os.makedirs(os.path.dirname(CLIENT), exist_ok=True)
        subprocess.run(["gcc", "-O2", "-Wall", "-o", CLIENT,
                        os.path.join(ROOT, "tests", "bench", "rtt_client.c")],
                       check=True)
    got = {name: [] for name, _, _ in PATHS}
    with TapNamespace(suffix="-xskrtt") as ns:
        for rnd in range(rounds):
            for i, (name, extra, port) in enumerate(PATHS):
                r = one(ns, extra, port, count, "%d-%d" % (rnd, i))
                print("round %d %-40s %s" % (rnd, name, json.dumps(r)),
                      file=sys.stderr)
                if r["ok"]:
                    got[name].append(r)
    load = open("/proc/loadavg").read().split()[:3]
    print("UDP echo, 64 B, one datagram at a time, net.mode=%s, %d rounds "
          "of %d, load average %s at the end; medians [min-max] in us:\n"
          % (MODE, rounds, count, " ".join(load)))
    print("| path | p50 | p90 | p99 | max | lost |")
    print("|---|---|---|---|---|---|")
    for name, _, _ in PATHS:
        rs = got[name]
        print("| %s | %s | %s | %s | %s | %s |" % (
            name, cell([r["p50_us"] for r in rs]),
            cell([r["p90_us"] for r in rs]), cell([r["p99_us"] for r in rs]),
            cell([r["max_us"] for r in rs]),
            sum(r["lost"] for r in rs) if rs else "-"))


if __name__ == "__main__":
    main()
