#!/usr/bin/env python3
"""A fleet of Skiff appliances under Debian's libvirt, behind HAProxy,
all of its networking inside one network namespace this script creates.

    python3 tools/fleet.py up [N]     (make fleet N=3)
    python3 tools/fleet.py down       (make fleet-down)
    python3 tools/fleet.py test       (make fleet-test: up, load, kill one,
                                       restart it, down)

Inside namespace skfleet-<pid>: bridge skfbr0 with 10.78.0.1/24, libvirtd
(and virtlogd) started inside it, so the tap libvirt makes for each domain
and the bridge it joins exist only there; appliance i (1..N) boots an
overlay of build/skiff.qcow2 (deploy/libvirt/skiff.xml, domain type qemu,
or kvm with /dev/kvm) with ip=10.78.0.(10+i) through libvirt's fw_cfg
sysinfo; HAProxy listens on 10.78.0.1:8080 and balances HTTP over them
with health checks on /healthz. Clients reach it from inside the
namespace: `ip netns exec skfleet-<pid> curl http://10.78.0.1:8080/`.
State (names, PIDs, files) is kept in build/fleet/; `down` undoes it all
by PID and name. No address, bridge or daemon outside the namespace."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
STATE_DIR = os.path.join(BUILD, "fleet")
STATE = os.path.join(STATE_DIR, "state.json")
TEMPLATE = os.path.join(ROOT, "deploy", "libvirt", "skiff.xml")
BASE = os.path.join(BUILD, "skiff.qcow2")
URI = "qemu:///system"
BRIDGE = "skfbr0"
NET = "10.78.0"
HOST_IP = NET + ".1"
LB_PORT = 8080
PROM_PORT = 9090
# HAProxy's health checks: every CHECK_MS, down after FALL failures, up
# again after RISE successes. A dead appliance is out after at most
# CHECK_MS * FALL (plus one check in flight).
CHECK_MS, FALL, RISE = 500, 2, 2


def run(*argv, check=True, ns=None, timeout=120, **kw):
    if ns:
        argv = ("ip", "netns", "exec", ns) + argv
    return subprocess.run(list(argv), check=check, capture_output=True,
                          text=True, timeout=timeout, **kw)


def virsh(*args, check=True, timeout=120):
    return run("virsh", "-c", URI, *args, check=check, timeout=timeout)


def why_not():
    """Why libvirt cannot run a fleet here, or None."""
    if os.geteuid() != 0:
        return "needs root (a network namespace and libvirtd)"
    for tool in ("libvirtd", "virtlogd", "virsh", "haproxy", "qemu-img",
                 "ip"):
        if not shutil.which(tool):
            return "%s missing (tools/setup.sh fleet installs it)" % tool
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    if os.path.exists("/run/libvirt/libvirt-sock"):
        r = virsh("uri", check=False, timeout=20)
        if r.returncode == 0:
            return ("a libvirtd outside this fleet already serves %s; the "
                    "fleet runs its own inside its namespace" % URI)
    probe = "skfprobe-%d" % os.getpid()
    r = run("ip", "netns", "add", probe, check=False)
    if r.returncode != 0:
        return "cannot create a network namespace: " + r.stderr.strip()
    run("ip", "netns", "del", probe, check=False)
    return None


def load_state():
    try:
        with open(STATE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def save_state(st):
    with open(STATE + ".tmp", "w") as f:
        json.dump(st, f, indent=1)
    os.replace(STATE + ".tmp", STATE)


def read_pid(path, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            time.sleep(0.1)
    raise SystemExit("fleet: no pid in %s" % path)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def stop_pid(pid, timeout=15):
    if not pid or not alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and alive(pid):
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def domain_xml(st, i):
    name = "%s-%d" % (st["prefix"], i)
    with open(TEMPLATE) as f:
        xml = f.read()
    fields = {
        "TYPE": "kvm" if os.path.exists("/dev/kvm") else "qemu",
        "NAME": name,
        "MEM": "256",
        "VARS": os.path.join(STATE_DIR, name + "_VARS.fd"),
        "CMDLINE": "ip=%s.%d/24 gw=%s" % (NET, 10 + i, HOST_IP),
        "DISK": os.path.join(STATE_DIR, name + ".qcow2"),
        "BRIDGE": BRIDGE,
        "MAC": "52:54:00:78:00:%02x" % (10 + i),
        "CONSOLE": os.path.join(STATE_DIR, name + ".log"),
    }
    for k, v in fields.items():
        xml = xml.replace("@%s@" % k, v)
    left = re.findall(r"@[A-Z]+@", xml)
    if left:
        raise SystemExit("fleet: template fields left: %s" % left)
    return name, xml


def haproxy_cfg(st):
    servers = "".join("  server %s-%d %s.%d:80 check\n" %
                      (st["prefix"], i, NET, 10 + i)
                      for i in range(1, st["n"] + 1))
    return ("global\n  maxconn 4096\n"
            "  stats socket %s mode 600 level admin\n"
            "defaults\n  mode http\n  timeout connect 1s\n"
            "  timeout client 30s\n  timeout server 10s\n"
            "  retries 3\n  option redispatch 1\n"
            # A request that meets a dead or reset server connection (one
            # kept from before an appliance died) is tried again elsewhere;
            # a server marked down takes its sessions with it.
            "  retry-on all-retryable-errors\n"
            "frontend skiff\n  bind %s:%d\n  default_backend fleet\n"
            "backend fleet\n  balance roundrobin\n"
            "  option httpchk GET /healthz\n"
            "  http-check expect status 200\n"
            "  default-server inter %dms fastinter %dms downinter %dms "
            "fall %d rise %d on-marked-down shutdown-sessions\n%s"
            % (os.path.join(STATE_DIR, "haproxy.sock"), HOST_IP, LB_PORT,
               CHECK_MS, CHECK_MS, CHECK_MS, FALL, RISE, servers))


def prometheus_cfg(st):
    targets = ", ".join("'%s.%d:80'" % (NET, 10 + i)
                        for i in range(1, st["n"] + 1))
    return ("global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n"
            "scrape_configs:\n  - job_name: skiff\n"
            "    static_configs:\n      - targets: [%s]\n" % targets)


def start_prometheus(st):
    """Debian's Prometheus in the namespace, scraping every appliance's
    /metrics; its API and UI on 10.78.0.1:9090 there."""
    cfg = os.path.join(STATE_DIR, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write(prometheus_cfg(st))
    log = open(os.path.join(STATE_DIR, "prometheus.log"), "w")
    # ip netns exec execs prometheus: the PID is prometheus's own.
    p = subprocess.Popen(
        ["ip", "netns", "exec", st["ns"], "prometheus",
         "--config.file=" + cfg,
         "--storage.tsdb.path=" + os.path.join(STATE_DIR, "prometheus"),
         "--web.listen-address=%s:%d" % (HOST_IP, PROM_PORT)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        start_new_session=True)
    log.close()
    st["pids"]["prometheus"] = p.pid
    save_state(st)


def prom_query(st, query):
    """The value list of an instant query, through curl in the namespace."""
    r = run("curl", "-s", "--max-time", "5", "-G",
            "http://%s:%d/api/v1/query" % (HOST_IP, PROM_PORT),
            "--data-urlencode", "query=" + query, ns=st["ns"], check=False,
            timeout=20)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        return None
    if doc.get("status") != "success":
        return None
    return [float(x["value"][1]) for x in doc["data"]["result"]]


def haproxy_stat(st):
    """{server: (status, total sessions)} from HAProxy's stats socket."""
    r = run("socat", "-", "UNIX-CONNECT:" + os.path.join(STATE_DIR,
                                                          "haproxy.sock"),
            input="show stat\n", check=False, timeout=10)
    out = {}
    lines = r.stdout.splitlines()
    if not lines:
        return out
    head = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        row = dict(zip(head, line.split(",")))
        if row.get("pxname") == "fleet" and row.get("svname", "").startswith(
                st["prefix"]):
            out[row["svname"]] = (row.get("status", ""),
                                  int(row.get("stot") or 0))
    return out


def wait_up(st, names, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = haproxy_stat(st)
        if all(s.get(n, ("",))[0] == "UP" for n in names):
            return True
        time.sleep(0.5)
    return False


def up(n):
    if load_state():
        raise SystemExit("fleet: already up (make fleet-down first)")
    reason = why_not()
    if reason:
        raise SystemExit("fleet: cannot run here: " + reason)
    if not os.path.exists(BASE):
        raise SystemExit("fleet: %s missing (make disk)" % BASE)
    os.makedirs(STATE_DIR, exist_ok=True)
    pid = os.getpid()
    st = {"ns": "skfleet-%d" % pid, "prefix": "skiff-fleet%d" % pid,
          "n": n, "pids": {}, "domains": []}
    save_state(st)
    ns = st["ns"]
    run("ip", "netns", "add", ns)
    run("ip", "link", "set", "lo", "up", ns=ns)
    run("ip", "link", "add", BRIDGE, "type", "bridge", ns=ns)
    run("ip", "addr", "add", "%s/24" % HOST_IP, "dev", BRIDGE, ns=ns)
    run("ip", "link", "set", BRIDGE, "up", ns=ns)
    # libvirtd inside the namespace: the taps it creates, and the QEMUs it
    # starts, are born there.
    for daemon in ("virtlogd", "libvirtd"):
        pidfile = os.path.join(STATE_DIR, daemon + ".pid")
        run(daemon, "--daemon", "--pid-file", pidfile, ns=ns)
        st["pids"][daemon] = read_pid(pidfile)
        save_state(st)
    deadline = time.time() + 30
    while virsh("uri", check=False, timeout=20).returncode != 0:
        if time.time() > deadline:
            raise SystemExit("fleet: libvirtd did not answer")
        time.sleep(0.3)
    # The image is copied so libvirt's ownership changes touch only ours.
    base = os.path.join(STATE_DIR, "base.qcow2")
    shutil.copyfile(BASE, base)
    for i in range(1, n + 1):
        name, xml = domain_xml(st, i)
        disk = os.path.join(STATE_DIR, name + ".qcow2")
        run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
            base, disk)
        path = os.path.join(STATE_DIR, name + ".xml")
        with open(path, "w") as f:
            f.write(xml)
        virsh("define", path)
        st["domains"].append(name)
        save_state(st)
        virsh("start", name)
    cfg = os.path.join(STATE_DIR, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(haproxy_cfg(st))
    pidfile = os.path.join(STATE_DIR, "haproxy.pid")
    run("haproxy", "-D", "-p", pidfile, "-f", cfg, ns=ns)
    st["pids"]["haproxy"] = read_pid(pidfile)
    save_state(st)
    if shutil.which("prometheus"):
        start_prometheus(st)
    print("fleet: %d appliances (%s) in namespace %s" %
          (n, ", ".join("%s.%d" % (NET, 10 + i) for i in range(1, n + 1)), ns))
    print("fleet: waiting for HAProxy's health checks to see them up")
    ok = wait_up(st, st["domains"])
    print("fleet: %s" % ("all up" if ok else "not all up yet: %r" %
                         haproxy_stat(st)))
    print("fleet: clients use http://%s:%d/ from inside the namespace:" %
          (HOST_IP, LB_PORT))
    print("  ip netns exec %s curl http://%s:%d/healthz" % (ns, HOST_IP,
                                                           LB_PORT))
    if st["pids"].get("prometheus"):
        print("  Prometheus scraping every appliance: http://%s:%d/ "
              "(same namespace)" % (HOST_IP, PROM_PORT))
    print("  consoles: %s/*.log; stop with: make fleet-down" % STATE_DIR)
    return st if ok else None


def down():
    st = load_state()
    if not st:
        print("fleet: nothing to take down")
        return
    if st["pids"].get("libvirtd") and alive(st["pids"]["libvirtd"]):
        for name in st["domains"]:
            virsh("destroy", name, check=False)
            virsh("undefine", "--nvram", name, check=False)
    for daemon in ("prometheus", "haproxy", "libvirtd", "virtlogd"):
        stop_pid(st["pids"].get(daemon))
    run("ip", "netns", "del", st["ns"], check=False)
    shutil.rmtree(STATE_DIR, ignore_errors=True)
    print("fleet: down (%s, %d domains)" % (st["ns"], len(st["domains"])))


# ---- make fleet-test --------------------------------------------------------

PROBE = r"""
import http.client, json, sys, time
host, port, seconds, gap = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
out, end = [], time.time() + seconds
while time.time() < end:
    t = time.time()
    try:
        c = http.client.HTTPConnection(host, port, timeout=5)
        c.request("GET", "/healthz")
        ok = c.getresponse().status == 200
        c.close()
    except OSError:
        ok = False
    out.append((t, ok))
    time.sleep(gap)
print(json.dumps(out))
"""


def wrk(st, seconds):
    """wrk through HAProxy, inside the namespace: (requests, errors)."""
    r = run("wrk", "-t", "2", "-c", "16", "-d", "%ds" % seconds,
            "--timeout", "5s", "http://%s:%d/" % (HOST_IP, LB_PORT),
            ns=st["ns"], timeout=seconds + 60, check=False)
    m = re.search(r"(\d+) requests in", r.stdout)
    reqs = int(m.group(1)) if m else 0
    errs = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", r.stdout)
    if m:
        errs += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    if m:
        errs += int(m.group(1))
    return reqs, errs, r.stdout


def fleet_test(n=3):
    """Returns (passed, failed) checks, printing each."""
    passed, failed = [0], [0]

    def check(ok, what):
        print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)
        (passed if ok else failed)[0] += 1

    st = up(n)
    check(st is not None, "fleet of %d up behind HAProxy" % n)
    if st is None:
        down()
        return passed[0], failed[0]
    try:
        victim = st["domains"][0]
        reqs, errs, _ = wrk(st, 5)
        check(reqs > 0 and errs == 0,
              "wrk through HAProxy, all up: %d requests, %d errors" %
              (reqs, errs))
        spread = haproxy_stat(st)
        check(all(spread[d][1] > 0 for d in st["domains"]),
              "every appliance served: %r" % spread)
        # Prometheus scrapes every appliance and sees the load.
        deadline, seen = time.time() + 90, None
        while time.time() < deadline:
            up_ = prom_query(st, 'up{job="skiff"}')
            req = prom_query(st, 'sum(skiff_http_requests_total)')
            seen = (up_, req)
            if up_ and len(up_) == n and all(v == 1 for v in up_) and \
                    req and req[0] >= reqs:
                break
            time.sleep(1)
        check(seen[0] and len(seen[0]) == n and seen[1] and
              seen[1][0] >= reqs,
              "Prometheus scrapes all %d (up %r) and sums their "
              "skiff_http_requests_total (%r >= %d)" %
              (n, seen[0], seen[1], reqs))
        # A probe every 50 ms for 12 s; the victim dies 3 s in.
        probe = subprocess.Popen(
            ["ip", "netns", "exec", st["ns"], sys.executable, "-c", PROBE,
             HOST_IP, str(LB_PORT), "12", "0.05"],
            stdout=subprocess.PIPE, text=True)
        time.sleep(3)
        killed_at = time.time()
        virsh("destroy", victim)
        # wrk after the health-check interval: HAProxy has routed around.
        detect = CHECK_MS * (FALL + 1) / 1000.0
        time.sleep(detect + 0.5)
        reqs, errs, out = wrk(st, 5)
        check(reqs > 0 and errs == 0,
              "wrk after %s was destroyed (+%.1f s): %d requests, %d "
              "errors" % (victim, detect + 0.5, reqs, errs))
        samples = json.loads(probe.communicate(timeout=60)[0])
        late = [ok for t, ok in samples if t > killed_at + detect]
        early_fail = sum(1 for t, ok in samples
                         if killed_at <= t <= killed_at + detect and not ok)
        check(late and all(late),
              "every probe request %.1f s after the kill succeeded (%d of "
              "%d; %d failed inside the window)" %
              (detect, sum(late), len(late), early_fail))
        s = haproxy_stat(st)
        check(s.get(victim, ("",))[0].startswith("DOWN"),
              "HAProxy marks %s down: %r" % (victim, s.get(victim)))
        virsh("start", victim)
        check(wait_up(st, [victim], timeout=300),
              "%s restarted and rejoined" % victim)
        before = haproxy_stat(st)[victim][1]
        reqs, errs, out = wrk(st, 3)
        after = haproxy_stat(st)[victim][1]
        check(errs == 0 and after > before,
              "the rejoined %s serves again (%d -> %d sessions), %d "
              "errors" % (victim, before, after, errs))
        if errs:
            print(out)
            print(open(os.path.join(STATE_DIR, victim + ".log")).read()[-3000:])
    finally:
        down()
    return passed[0], failed[0]


def main():
    args = sys.argv[1:]
    cmd = args[0] if args else ""
    if cmd == "up":
        try:
            st = up(int(args[1]) if len(args) > 1 else 3)
        except (subprocess.SubprocessError, OSError) as e:
            print("fleet: failed: %s" % e)
            down()
            return 1
        return 0 if st else 1
    if cmd == "why-not":
        reason = why_not()
        print(reason or "libvirt can run here")
        return 1 if reason else 0
    if cmd == "down":
        down()
        return 0
    if cmd == "test":
        reason = why_not()
        if reason:
            print("fleet-test: skipped: libvirt cannot run here: " + reason)
            return 0
        try:
            passed, failed = fleet_test()
        except (subprocess.SubprocessError, OSError, SystemExit) as e:
            print("FAIL fleet test stopped: %s" % e)
            down()
            passed, failed = 0, 1
        print("fleet: %d passed, %d failed" % (passed, failed))
        return 1 if failed else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
