#!/usr/bin/env python3
"""Only the instruction-counting part of the bench, for Skiff: one boot
per target with the TCG plugin loaded, the same workloads and figures as
`make bench` (tests/bench/bench.py, measure_insns), and the per-function
profile. For judging an optimisation in minutes instead of a full run.

    make bench-insns                      (targets skiff-irq and xdp-jit)
    TARGETS=skiff-irq INSN_ECHO=2000 python3 tests/bench/insn_profile.py

Knobs: TARGETS (comma list of skiff-<mode> / xdp-<jit|interp>), INSN_ECHO
(echo round trips per protocol, default 500), INSN_HTTP_S (wrk seconds,
default 2), INSN_CONNS (ab connections, default 100), OUT (run
directory). Needs root (network namespace, tap). Writes insns.json and
insn-profile.md into the run directory and prints per-operation counts."""
import datetime
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import insn_count  # noqa: E402
from netns import TapNamespace  # noqa: E402


def main():
    if os.geteuid() != 0:
        raise SystemExit("insn_profile: needs root (network namespace, tap)")
    env = os.environ.get
    targets = (env("TARGETS") or "skiff-irq,xdp-jit").split(",")
    bad = [t for t in targets if bench.is_linux(t)]
    if bad:
        raise SystemExit("insn_profile: Skiff targets only, not %s" % bad)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = env("OUT") or os.path.join(bench.BENCH, "insn-" + stamp)
    os.makedirs(outdir, exist_ok=True)
    efi = os.path.join(bench.BUILD, "skiff.efi")
    if not os.path.exists(efi):
        raise SystemExit("insn_profile: no build/skiff.efi (run make)")
    bench.build_client()
    insn_count.build()
    cfg = {"mem": int(env("MEM") or 256), "accel": env("ACCEL") or "tcg",
           "cpu": env("CPU") or bench.DEFAULT_CPU, "xdp_mode": "irq",
           "insn_echo_count": int(env("INSN_ECHO") or 500),
           "insn_http_s": int(env("INSN_HTTP_S") or 2),
           "insn_conns": int(env("INSN_CONNS") or 100),
           "echo_deadline": 60}
    paths = {"efi": efi}
    out = {"error": None, "targets": {}}
    with TapNamespace(suffix="-insn") as ns:
        bench.set_guest_neighbour(ns)
        for t in targets:
            bench.log("insn_profile: %s" % t)
            out["targets"][t] = bench.measure_insns(t, ns, paths, outdir, cfg)
    bench.kill_live()
    with open(os.path.join(outdir, "insns.json"), "w") as f:
        json.dump(out, f, indent=1)
    with open(os.path.join(outdir, "insn-profile.md"), "w") as f:
        f.write(bench.profile_md(out))
    for t, data in out["targets"].items():
        for op, e in data["ops"].items():
            print("%-10s %-15s %8s per op (%d ops)" %
                  (t, op, "{:,}".format(e["per_op"]), e["ops"]))
        print("%-10s %-15s %8s per s" % (t, "idle", data["idle_per_s"]))
    bench.log("insn_profile: %s" % outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
