"""The stress suite: attacks an attacker on the same network could make
(tests/qemu/attack.py), each against a fresh guest behind a tap in a
namespace this test creates. For each: a legitimate client of every
service (TCP echo, UDP echo, HTTP) must be answered during the attack
(at least MIN_SHARE of its probes) and every time after it, and the
guest's resources (PCBs by state, echo and HTTP connections, half-open
connections, each service's PCBs and segments, lwIP's segment pool) must
return to idle within a bound. Each attack's rate, the probes' success
and latency, and the time back to idle are printed (the README's "Under
attack" section quotes them).

`make test` runs the short version (8 s per attack); `make stress` runs
it for STRESS_SECONDS (default 30) per attack."""
import json
import os
import subprocess
import sys
import time

from harness import HERE, ROOT, Guest, expect, test

sys.path.insert(0, os.path.join(ROOT, "tools"))
from netns import TapNamespace  # noqa: E402

ATTACK = os.path.join(HERE, "attack.py")
SECONDS = float(os.environ.get("STRESS_SECONDS") or 8)
# Attacker addresses beside the legitimate client's (.1) on the tap.
ATTACKERS = ["10.77.0.%d" % i for i in range(50, 54)]
VANISHING = "10.77.0.60"
# The share of a service's probes that must be answered during an attack.
MIN_SHARE = 0.5
IDLE_BOUND_S = 40
# Packets (or connections) per second of the floods; 0 = as fast as the
# attacker goes. STRESS_RATE_<NAME> overrides one (make stress measures
# where service degrades).
RATES = {name: float(os.environ.get("STRESS_RATE_" + name.upper().replace(
    "-", "_")) or default) for name, default in (
        ("syn-flood", 2000), ("malformed", 3000), ("rst-storm", 0),
        ("churn", 0))}


def run_in(ns, argv, timeout=120):
    r = subprocess.run(ns.cmd(argv), capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).strip()


def attack(ns, name, seconds, attackers=ATTACKERS, rate=0):
    rc, out = run_in(ns, [sys.executable, ATTACK, name, ns.guest_ip,
                          str(seconds), ",".join(attackers), str(rate)],
                     timeout=seconds + 90)
    line = out.strip().splitlines()[-1] if out.strip() else ""
    try:
        return json.loads(line)
    except ValueError:
        raise AssertionError("attack.py %s: %s" % (name, out[-800:]))


def stats(ns):
    rc, out = run_in(ns, ["curl", "-s", "--max-time", "5",
                          "http://%s/stats" % ns.guest_ip], timeout=30)
    if rc != 0:
        return None
    try:
        return json.loads(out)
    except ValueError:
        return None


def busy_resources(s):
    """What is still held beyond an idle guest's (the /stats request
    itself holds one HTTP connection); empty when idle."""
    p = s["tcp_reaper"]["pcbs"]
    busy = {}
    closing = (p["fin_wait_1"] + p["fin_wait_2"] + p["closing"] +
               p["last_ack"] + p["close_wait"])
    checks = [
        ("syn_rcvd", p["syn_rcvd"], 0),
        ("established", p["established"], 1),
        ("closing states", closing, 2),
        ("echo.tcp.active", s["echo"]["tcp"]["active"], 0),
        ("http.active", s["http"]["active"], 1),
        ("tcp_guard.half_open", s["tcp_guard"]["half_open"], 0),
        ("lwip TCP_SEG used", s["lwip"]["memp"]["TCP_SEG"]["used"], 8),
    ]
    for name, b in s["tcp_budget"].items():
        checks.append(("budget %s pcbs" % name, b["pcbs"],
                       2 if name == "http" else 0))
        checks.append(("budget %s segs" % name, b["segs"],
                       8 if name == "http" else 0))
    for name, value, limit in checks:
        if value > limit:
            busy[name] = value
    return busy


def wait_idle(ns, g, bound=IDLE_BOUND_S):
    """Seconds until the guest's resources are back to idle."""
    start = time.time()
    last = None
    while time.time() - start < bound:
        s = stats(ns)
        if s is not None:
            last = busy_resources(s)
            if not last:
                return time.time() - start, s
        time.sleep(1)
    expect(False, "resources not back to idle within %d s: %s" %
           (bound, last), g)


def share(p):
    total = p["ok"] + p["fail"]
    return p["ok"] / total if total else 0.0


def check_probes(result, g, min_share, when):
    """min_share: one share for every service, or {service: share}."""
    for kind, p in sorted(result["probes"].items()):
        want = (min_share.get(kind, MIN_SHARE) if isinstance(min_share, dict)
                else min_share)
        expect(p["ok"] > 0 and share(p) >= want,
               "%s %s: %s answered %d of %d probes (%s)" % (
                   result["attack"], when, kind, p["ok"],
                   p["ok"] + p["fail"], result), g)


def summary(result, after_s):
    probes = " ".join(
        "%s %d/%d p50 %s max %s ms" % (k, p["ok"], p["ok"] + p["fail"],
                                        p["p50_ms"], p["max_ms"])
        for k, p in sorted(result["probes"].items()))
    print("  stress %s: %d ops in %.1f s (%.0f/s) %s; during: %s; idle "
          "%.1f s after" % (result["attack"], result["ops"],
                            result["seconds"], result["rate"],
                            json.dumps(result["detail"]), probes, after_s),
          flush=True)


def wait_ready(ns, g):
    """Waits for the static address, then for /stats to answer (a guest
    that booted directly can be up before the namespace has its MAC)."""
    expect(g.wait_for(r"net: \w+ up, address 10\.77\.0\.2/24",
                      timeout=120), "no static address", g)
    deadline = time.time() + 60
    while time.time() < deadline:
        if stats(ns) is not None:
            return
        time.sleep(0.5)
    expect(False, "/stats never answered", g)


def guest(ns, name, extra=""):
    for a in ATTACKERS + [VANISHING]:
        run_in(ns, ["ip", "addr", "add", a + "/24", "dev", ns.tap])
    g = Guest("stress-" + name, boot="direct", net="tap", tap=ns.tap,
              cmdline=ns.guest_cmdline() + " net.mode=hybrid " + extra)
    g.argv = ns.cmd(g.argv)  # QEMU opens the tap inside the namespace
    return g


def stress(name, extra="", min_share=MIN_SHARE, seconds=None, rate=0):
    seconds = seconds or SECONDS
    with TapNamespace(suffix="-s%s" % name[:5]) as ns:
        g = guest(ns, name, extra)
        with g:
            wait_ready(ns, g)
            before = attack(ns, "none", 2)
            check_probes(before, g, 1.0, "before")
            result = attack(ns, name, seconds, rate=rate)
            check_probes(result, g, min_share, "during")
            after_s, s = wait_idle(ns, g)
            after = attack(ns, "none", 2)
            check_probes(after, g, 1.0, "after")
            summary(result, after_s)
            expect(g.proc.poll() is None, "the guest died", g)
            return result, s


@test
def stress_syn_flood():
    result, s = stress("syn-flood", rate=RATES["syn-flood"])
    expect(s["tcp_guard"]["cookies_sent"] > 0,
           "no SYN cookies: %s" % s["tcp_guard"])


@test
def stress_slowloris():
    result, s = stress("slowloris")
    d = s["http"]["defence"]
    expect(d["refused_per_ip"] + d["pressure_resets"] +
           d["evicted_idle"] > 0, "no defence acted: %s" % d)


@test
def stress_slow_readers():
    """Slow readers of HTTP must not starve echo (TCP and UDP); HTTP
    itself, whose share of the segment pool they hold, must still answer
    (its probes wait seconds for room, so there are few of them)."""
    stress("slow-read", min_share={"tcp": MIN_SHARE, "udp": MIN_SHARE,
                                   "http": 0.01})


@test
def stress_rst_storm():
    stress("rst-storm", rate=RATES["rst-storm"])


@test
def stress_malformed_frames():
    stress("malformed", rate=RATES["malformed"])


@test
def stress_churn():
    stress("churn", rate=RATES["churn"])


@test
def stress_vanished_peers():
    """Peers of 56 connections (30 idle echo, 3 echo and 3 HTTP with data
    outstanding, 20 HTTP keep-alive) vanish: their address is removed
    from the namespace, so nothing of theirs answers again. With
    tcp.giveup=5, tcp.fin_timeout=3, echo.idle_timeout=10 and HTTP's 3 s
    idle timeout, every PCB must be reclaimed within 30 s, while the other
    clients are served. The reaper must have ended some: the echo
    connections with data outstanding (tcp.giveup), and the keep-alive
    connections HTTP closes, which retransmit their FIN as orphans unless
    HTTP is under pressure and resets them instead."""
    extra = ("tcp.giveup=5 tcp.fin_timeout=3 echo.idle_timeout=10 "
             "http.idle_timeout=3000")
    with TapNamespace(suffix="-svanish") as ns:
        g = guest(ns, "vanish", extra)
        with g:
            wait_ready(ns, g)
            proc = subprocess.Popen(
                ns.cmd([sys.executable, ATTACK, "vanish", ns.guest_ip,
                        str(max(SECONDS, 20)), VANISHING]),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                line = proc.stdout.readline()
                if not line.startswith("ready"):
                    line += proc.stdout.read(2000)
                expect(line.startswith("ready"),
                       "vanish: connections not built: " + line, g)
                s = None
                for _ in range(10):
                    s = s or stats(ns)
                expect(s is not None, "/stats did not answer: " + line, g)
                held = s["tcp_reaper"]["pcbs"]["established"]
                expect(held >= 50, "only %d connections held: %s" % (held, line), g)
                run_in(ns, ["ip", "addr", "del", VANISHING + "/24", "dev",
                            ns.tap])
                after_s, s = wait_idle(ns, g, bound=30)
                out, _ = proc.communicate(timeout=120)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            result = json.loads(out.strip().splitlines()[-1])
            check_probes(result, g, MIN_SHARE, "during")
            r = s["tcp_reaper"]
            expect(r["orphans_reaped"] + r["stalled_reaped"] > 0 and
                   s["echo"]["tcp"]["idle_timeouts"] > 0,
                   "reclaimed, but not by the bounds: %s" % r, g)
            print("  stress vanish: %d connections held; all reclaimed %.1f "
                  "s after their peer vanished (reaper %s, echo idle "
                  "timeouts %d)" % (held, after_s, json.dumps(
                      {k: r[k] for k in ("orphans_reaped",
                                         "stalled_reaped")}),
                      s["echo"]["tcp"]["idle_timeouts"]), flush=True)
