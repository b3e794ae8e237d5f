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
directory). Needs root (network namespace, tap). Writes insns.json,
insn-profile.md (every function, not only the top ones) and layers.md
(instructions per operation by layer: which folder's objects the function
comes from) into the run directory and prints per-operation counts."""
import datetime
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import insn_count  # noqa: E402
from netns import TapNamespace  # noqa: E402


# Object directories under build/ -> the layer they count for. libc's
# string functions are "bytes moved" (rep movsb/stosb count per byte
# under TCG, tests/bench/README.md).
LAYER_DIRS = [("obj/kernel/libc", "libc (string functions; memcpy/memset count bytes)"),
              ("obj/kernel", "kernel (interrupts, heap, clock, counters)"),
              ("obj/drivers", "driver (virtio-net, virtqueue)"),
              ("obj/netdev", "netdev (TX queue, offloads, hooks)"),
              ("obj/xdp", "xdp hook"), ("obj/ebpf", "ebpf"),
              ("lwip", "lwIP"), ("obj/lwip-port", "lwIP glue (lwip-port)"),
              ("llhttp", "services (llhttp)"), ("obj/services", "services"),
              ("obj/app", "app (main loop)"), ("obj/boot", "boot")]


def function_layers():
    """{function name: layer} from the symbols of every image object."""
    out = {}
    for sub, layer in LAYER_DIRS:
        for obj in glob.glob(os.path.join(bench.BUILD, sub, "**", "*.o"),
                             recursive=True):
            r = subprocess.run(["nm", "--defined-only", obj],
                               capture_output=True, text=True)
            for line in r.stdout.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[1] in "tTwW":
                    out.setdefault(parts[2], layer)
    return out


def layers_md(out):
    """Instructions per operation by layer, per Skiff target and op."""
    fl = function_layers()
    lines = ["# Guest instructions per operation, by layer", ""]
    for t, data in out["targets"].items():
        for op, e in data["ops"].items():
            if not e.get("top"):
                continue
            by = {}
            for f, v in e["top"]:
                name = f.split(".")[0]  # gcc's .isra.0, .constprop.0
                layer = fl.get(f) or fl.get(name) or (
                    "JIT code / outside the image" if f == "?" else "other")
                by[layer] = by.get(layer, 0) + v
            lines += ["## %s, %s: %s per operation" %
                      (t, bench.INSN_OPS[op], "{:,}".format(e["per_op"])),
                      "", "| layer | instructions per operation |", "|---|---|"]
            lines += ["| %s | %.0f |" % (k, v) for k, v in
                      sorted(by.items(), key=lambda x: -x[1])]
            lines.append("")
    return "\n".join(lines)


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
    bench.INSN_TOP = 100000  # every function: layers.md sums them all
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
    with open(os.path.join(outdir, "layers.md"), "w") as f:
        f.write(layers_md(out))
    for t, data in out["targets"].items():
        for op, e in data["ops"].items():
            print("%-10s %-15s %8s per op (%d ops)" %
                  (t, op, "{:,}".format(e["per_op"]), e["ops"]))
        print("%-10s %-15s %8s per s" % (t, "idle", data["idle_per_s"]))
    bench.log("insn_profile: %s" % outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
