#!/usr/bin/env python3
"""The bench's harness on a tiny scale, so it cannot rot: both guests boot
behind the tap, one measurement of each kind completes, results.json has
every field, the table and the plot are written. Numbers are never
asserted. `make test` calls run_smoke(); as a script it prints
'N passed, N failed' and exits non-zero on a failure. Needs root and the
`tools/setup.sh bench` packages; takes about half a minute under TCG."""
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402

NEEDS = ["wrk", "ab", "curl", "gcc", "cpio", "qemu-system-x86_64",
         "/bin/busybox", "/usr/sbin/nginx"]


def _check(results, name, cond, msg=""):
    print("%s bench_%s%s" % ("ok  " if cond else "FAIL", name,
                             "" if cond else "\n  " + msg), flush=True)
    results.append(bool(cond))


def smp_checks(checks, res):
    """The 1 vs 2 vCPU section: each guest (HTTP, udp_reflect's reflect
    and drop rates, Skiff's AF_XDP echo) boots both ways and gives a
    figure, the 2-vCPU guest runs 2 queues (Skiff: both received frames,
    and both queues' AF_XDP sockets answered; Linux: rx-0, rx-1 and 2
    CPUs) and the table has the rows. No figure is asserted."""
    smp = (res.get("smp") or {}).get("targets") or {}
    for t in (bench.SMP_SKIFF, bench.SMP_LINUX, "xdp-jit", bench.LINUX_XDP,
              bench.XSK_TARGET):
        d = smp.get(t) or {}
        key = ("reflect_pps" if bench.is_xdp(t) or bench.is_xsk(t) else
               "http16_rps")
        name = t.replace("-", "_")
        for v in bench.SMP_VCPUS:
            r = ((d.get("runs") or {}).get(str(v)) or [{}])[0]
            _check(checks, "smp_%s_%dvcpu" % (name, v),
                   r.get("boot_s") is not None and r.get(key) is not None,
                   "no boot or no %s figure: %s" % (key, r))
            if bench.is_xdp(t):
                _check(checks, "smp_%s_drop_%dvcpu" % (name, v),
                       r.get("drop_pps") is not None,
                       "no XDP drop rate: %s" % r)
        r = ((d.get("runs") or {}).get("2") or [{}])[0]
        line = r.get("queues_line") or ""
        if bench.is_linux(t):
            ok = "rx-1" in line and "cpus=2" in line
        else:
            rx = r.get("queue_rx") or []
            ok = line.startswith("2 queue pairs") and len(rx) == 2 and all(
                (x or 0) > 0 for x in rx)
        _check(checks, "smp_%s_two_queues" % name, ok,
               "the 2-vCPU guest did not run 2 queues: %r, rx per queue %r"
               % (line, r.get("queue_rx")))
        if bench.is_xsk(t):
            tx = r.get("xsk_tx_per_queue") or []
            _check(checks, "smp_xsk_socket_per_queue_answered",
                   len(tx) == 2 and all((x or 0) > 0 for x in tx),
                   "each queue's AF_XDP socket should have answered: %r"
                   % tx)
    md = "\n".join(bench.smp_table(res))
    _check(checks, "smp_table", all(
        "| %s |" % bench.target_label(t) in md for t in smp) and len(smp) == 5
        and "share the cores" in md, "the SMP table lacks rows:\n" + md)


def run_smoke():
    """Returns (passed, failed)."""
    checks = []
    missing = [n for n in NEEDS if not (shutil.which(n) or os.path.exists(n))]
    if os.geteuid() != 0 or missing:
        _check(checks, "prerequisites", False,
               "needs root and %s (tools/setup.sh bench)" % " ".join(missing))
        return 0, 1
    outdir = os.path.join(bench.BENCH, "smoke")
    shutil.rmtree(outdir, ignore_errors=True)
    cfg = {"quick": True, "rounds": 1, "modes": ["hybrid"], "duration": 1,
           "echo_count": 50, "echo_deadline": 10, "mem": 256,
           "xdp": ["jit"], "xdp_mode": "hybrid", "mem_sizes": [256],
           "mem_timeout": 30, "pin": bench.default_pin(None),
           "churn": 100, "churn_window": 25, "churn_deadline": 120,
           "boot_rounds": 1, "boot_ways": ["skiff-direct-microvm"],
           "insns": True, "insn_echo_count": 50,
           "xsk": True, "hooks": ["jit"], "hook_rounds": 1,
           "insn_http_s": 1, "insn_conns": 10,
           "smp": True, "smp_rounds": 1,
           "accel": os.environ.get("ACCEL") or "tcg",
           "linux_fw": os.environ.get("LINUX_FW") or "ovmf"}
    start = time.time()
    try:
        res = bench.run(cfg, outdir=outdir, skip_make=os.path.exists(
            os.path.join(bench.BUILD, "skiff.efi")))
    except BaseException as e:  # a crash of the harness is a failure
        _check(checks, "run", False, "%s: %s" % (type(e).__name__, e))
        return 0, 1
    _check(checks, "run", True)
    sk, lx = res["targets"]["skiff-hybrid"], res["targets"]["linux"]
    for t, data in (("skiff", sk), ("linux", lx)):
        r = data["runs"][0] if data["runs"] else {}
        _check(checks, t + "_boots", r.get("boot_s") is not None,
               "no echo answered after boot; see %s/logs" % outdir)
        _check(checks, t + "_echo", r.get("tcp_p50_us") is not None and
               r.get("udp_p50_us") is not None, "an echo measurement failed")
        # Both serve HTTP (Skiff's server on port 80 has landed).
        if True:
            _check(checks, t + "_http",
                   all(r.get(k) is not None for k in
                       ("http1_rps", "http16_rps", "big_MBps", "conn_rps")),
                   "an HTTP measurement failed: %s" %
                   {k: r.get(k) for k in ("http1_rps", "http16_rps",
                                          "big_MBps", "conn_rps")})
    r = sk["runs"][0] if sk["runs"] else {}
    if cfg["pin"]:
        _check(checks, "vcpu_pinned", all(
            (x["runs"][0] if x["runs"] else {}).get("vcpu_pinned")
            for x in (sk, lx)), "QEMU's vCPU thread was not found to pin")
    _check(checks, "skiff_stats",
           all(r.get(k) is not None for k in
               ("heap_peak_KiB", "heap_in_use_KiB", "pbuf_pool_max",
                "pbuf_ref_max")),
           "no heap/pbuf figures from Skiff's /stats")
    xr = res["targets"]["xdp-jit"]["runs"]
    xr = xr[0] if xr else {}
    _check(checks, "xdp_jit_udp",
           xr.get("udp_p50_us") is not None and (xr.get("xdp_tx") or 0) > 0
           and xr.get("lwip_udp_recv_delta") == 0,
           "udp_reflect (JIT) round trip missing or not answered at the "
           "hook: %s" % {k: xr.get(k) for k in
                         ("udp_p50_us", "xdp_attached", "xdp_tx",
                          "lwip_udp_recv_delta")})
    xr = res["targets"][bench.XSK_TARGET]["runs"]
    xr = xr[0] if xr else {}
    _check(checks, "xsk_echo_udp",
           xr.get("udp_p50_us") is not None and (xr.get("xsk_answered") or 0)
           > 0 and xr.get("lwip_udp_recv_delta") == 0,
           "the AF_XDP socket echo's round trip missing or not answered by "
           "it alone: %s" % {k: xr.get(k) for k in
                             ("udp_p50_us", "xsk_started", "xsk_answered",
                              "lwip_udp_recv_delta")})
    xr = res["targets"].get("linux-xdp", {}).get("runs") or [{}]
    _check(checks, "linux_xdp_udp",
           xr[0].get("xdp_attached") and xr[0].get("udp_p50_us") is not None,
           "udp_reflect.o not attached to Linux's virtio-net, or no UDP "
           "round trip: %s" % {k: xr[0].get(k) for k in
                               ("xdp_attached", "udp_p50_us")})
    ins = res.get("insns") or {}
    for t, op in (("skiff-hybrid", "tcp_echo"), ("skiff-hybrid", "new_conn"),
                  ("xdp-jit", "xdp_reflect"), ("linux-xdp", "xdp_reflect"),
                  (bench.XSK_TARGET, "xsk_echo"),
                  ("linux", "tcp_echo"),
                  ("linux", "http_keepalive")):
        e = (((ins.get("targets") or {}).get(t) or {}).get("ops") or {}).get(op)
        _check(checks, "insns_%s_%s" % (t.replace("-", "_"), op),
               e is not None and e["per_op"] > 0,
               "no instruction count (%s)" % (ins.get("error") or e))
    prof = (((ins.get("targets") or {}).get("skiff-hybrid") or {})
            .get("ops") or {}).get("tcp_echo") or {}
    _check(checks, "insns_profile_symbols",
           any(f != "?" for f, _ in prof.get("top", [])),
           "the per-function profile names no Skiff function: %s" %
           prof.get("top"))
    hk = ((res.get("hooks") or {}).get("variants") or {}).get("jit") or {}
    rounds = hk.get("rounds") or [{}]
    for hook in ["none"] + list(bench.HOOKS):
        _check(checks, "hooks_%s" % hook.replace("-", "_"),
               (rounds[0].get(hook) or 0) > 0,
               "no instructions per echo with %s: %s" % (
                   hook, hk.get("error") or rounds[0]))
    for hook in bench.HOOKS:
        runs = (hk.get("runs") or {}).get(hook) or [None]
        _check(checks, "hooks_%s_ran" % hook.replace("-", "_"),
               (runs[0] or 0) >= cfg["insn_echo_count"] and
               (hk.get("jit") or {}).get(hook) is True,
               "the pass program at %s ran %s times (jit %s) for %d echoes"
               % (hook, runs[0], (hk.get("jit") or {}).get(hook),
                  cfg["insn_echo_count"]))
    for t, data in (((res.get("churn") or {}).get("targets") or {}).items()
                    or [("churn", {})]):
        for kind in ("echo", "http"):
            r = data.get(kind) or {}
            _check(checks, "churn_%s_%s" % (t.replace("-", "_"), kind),
                   r.get("done") == cfg["churn"] and len(r.get("rates", []))
                   == cfg["churn"] // cfg["churn_window"],
                   "churn did not complete: %s" % r)
    for t in ("skiff-hybrid", "linux"):
        r = res["targets"][t]["runs"][0] if res["targets"][t]["runs"] else {}
        _check(checks, "echo_under_load_" + t.replace("-", "_"),
               r.get("tcp_load_p50_us") is not None,
               "no TCP echo round trip under wrk -c16 load")
    b = (((res.get("boots") or {}).get("ways") or {})
         .get("skiff-direct-microvm") or [{}])[0]
    _check(checks, "boot_row_skiff_microvm",
           b.get("first_echo_s") is not None and b.get("guest_s") is not None,
           "Skiff's direct boot on microvm gave no boot row: %s" % b)
    smp_checks(checks, res)
    mem = res.get("memory") or {}
    _check(checks, "memory_search",
           all((mem.get(g) or {}).get("tries") for g in ("skiff", "linux")),
           "the -m search did not run: %s" % mem)
    # The files and every field in them.
    path = os.path.join(outdir, "results.json")
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        _check(checks, "json", False, str(e))
        data = None
    if data is not None:
        want_meta = ["date", "machine", "quick", "rounds", "modes", "mem",
                     "accel", "smp", "machine_type", "nic", "network",
                     "duration_s", "echo_count", "linux_kernel", "linux_fw",
                     "nginx", "elapsed_s", "xdp", "xdp_mode", "xsk",
                     "xsk_port", "hooks", "loadavg",
                     "linux_services"]
        gaps = [k for k in want_meta if k not in data.get("meta", {})]
        gaps += ["sizes." + k for k in
                 ("skiff_efi_bytes", "linux_kernel_bytes",
                  "linux_initrd_bytes", "linux_total_bytes", "size_ratio")
                 if k not in data.get("sizes", {})]
        for t in ("skiff-hybrid", "xdp-jit", "linux"):
            tgt = data.get("targets", {}).get(t, {})
            for r in tgt.get("runs", [{}]):
                gaps += ["%s.runs.%s" % (t, k) for k in bench.METRICS
                         if k not in r]
            gaps += ["%s.summary.%s" % (t, k) for k in bench.METRICS
                     if k not in tgt.get("summary", {})]
        for t in ("skiff-hybrid", "xdp-jit"):
            gaps += ["ratios.%s.%s" % (t, k) for k in bench.METRICS
                     if k not in data.get("ratios", {}).get(t, {})]
        for t in ("xdp-jit",):
            for r in data.get("targets", {}).get(t, {}).get("runs", [{}]):
                gaps += ["%s.runs.%s" % (t, k) for k in
                         ("xdp_attached", "xdp_tx", "lwip_udp_recv_delta")
                         if k not in r]
        mem = data.get("memory", {})
        gaps += ["memory." + k for k in ("sizes_tried", "timeout_s", "mode",
                                         "skiff", "linux", "ratio")
                 if k not in mem]
        for g in ("skiff", "linux"):
            gaps += ["memory.%s.%s" % (g, k) for k in ("min_mib", "tries")
                     if k not in (mem.get(g) or {})]
        gaps += [k for k in ("http_available", "plot", "plot_rps", "order",
                             "memory", "insns", "churn", "plot_churn", "boots",
                             "hooks", "smp",
                             "linux_best", "linux_winner")
                 if k not in data]
        _check(checks, "json_fields", not gaps, "missing: " + ", ".join(gaps))
    _check(checks, "table", os.path.getsize(os.path.join(outdir, "table.md"))
           > 0 if os.path.exists(os.path.join(outdir, "table.md")) else False,
           "no table.md")
    if shutil.which("gnuplot"):
        _check(checks, "plot",
               os.path.exists(os.path.join(outdir, "echo-cdf.png")),
               "no echo-cdf.png")
    print("  (bench smoke took %.0f s)" % (time.time() - start), flush=True)
    passed = sum(checks)
    return passed, len(checks) - passed


if __name__ == "__main__":
    p, f = run_smoke()
    print("%d passed, %d failed" % (p, f))
    sys.exit(1 if f else 0)
