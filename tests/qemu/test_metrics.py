"""GET /metrics, the Prometheus text exposition format: Debian's promtool
accepts the document, its families carry the labels the tables' dimensions
give (status, queue, reason, proto, pool, prog) and agree with /stats; and
Debian's Prometheus itself, started on 127.0.0.1 with a scrape config for
the appliance (QEMU's user-net port forward), scrapes it and answers a
query for one counter through its HTTP API.

One guest, direct boot (no firmware: it is up in well under a second of
guest time), user networking with port 80 forwarded to 127.0.0.1."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from harness import Guest, TestFailure, expect, test
from test_boot import BANNER
import skiffqemu

PROM_CTYPE = "text/plain; version=0.0.4; charset=utf-8"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def get(port, path, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        c.close()


def boot(name, cmdline="net.mode=irq"):
    port = skiffqemu.free_port()
    g = Guest(name, boot="direct", net="user", cmdline=cmdline,
              hostfwd=[("tcp", port, 80)])
    return g, port


def wait_http(g, port, timeout=90):
    expect(g.wait_for(BANNER, timeout=timeout), "no ready banner", g)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if get(port, "/healthz", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise TestFailure("/healthz never answered")


def parse(text):
    """{(name, labels): value} and {name: type} of a text document."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            m = SAMPLE.match(line)
            expect(m, "not a sample line: %r" % line)
            samples[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return samples, types


def promtool(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=60)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


@test
def metrics_promtool_and_stats_agree():
    g, port = boot("metrics")
    with g:
        wait_http(g, port)
        for _ in range(5):
            get(port, "/")
        expect(get(port, "/no-such-file")[0] == 404, "404 expected", g)
        status, ctype, body = get(port, "/metrics")
        expect(status == 200, "/metrics -> %d" % status, g)
        expect(ctype == PROM_CTYPE, "/metrics content type %r" % ctype, g)
        text = body.decode()
        rc, out = promtool(text)
        expect(rc == 0, "promtool check metrics refused /metrics (%d):\n%s"
               % (rc, out[:2000]), g)
        samples, types = parse(text)
        stats = json.loads(get(port, "/stats")[2])

        def val(name, labels=""):
            expect((name, labels) in samples,
                   "no sample %s%s in /metrics" % (name, labels), g)
            return samples[(name, labels)]

        # Kinds from the tables: counters end in _total, gauges do not.
        expect(types.get("skiff_http_requests_total") == "counter",
               "requests not a counter")
        expect(types.get("skiff_heap_in_use") == "gauge", "heap not a gauge")
        expect(types.get("skiff_driver_link_up") == "gauge",
               "a bool is a gauge")
        expect(types.get("skiff_http_limits_idle_timeout_seconds") == "gauge",
               "_ms limits in seconds")
        # Dimensions became labels.
        expect(val("skiff_http_by_status_total", '{status="200"}') >= 6,
               "200s not counted")
        # Nothing else got a 404 between the two documents: equal.
        expect(val("skiff_http_by_status_total", '{status="404"}') ==
               stats["http"]["by_status"]["404"] == 1, "404 count differs")
        expect(val("skiff_driver_irqs_total", '{queue="rx"}') > 0,
               "rx interrupts in irq mode")
        expect(val("skiff_driver_drops_total", '{reason="bad_id"}') == 0,
               "drops by reason")
        expect(val("skiff_lwip_recv_total", '{proto="tcp"}') > 0,
               "lwIP by protocol")
        expect(("skiff_lwip_memp_used", '{pool="TCP_PCB"}') in samples,
               "lwIP pools by name")
        expect(("skiff_driver_rx_batch_log2_total", '{log2_frames="0"}')
               in samples, "histogram buckets by index")
        expect(val("skiff_xdp_runs_total", '{prog=""}') == 0,
               "hook counters labelled by program")
        expect(val("skiff_http_limits_idle_timeout_seconds") ==
               stats["http"]["limits"]["idle_timeout_ms"] / 1000,
               "milliseconds to seconds")
        expect(val("skiff_pages_all") == stats["pages"]["total"],
               "pages differ from /stats")
        expect(re.search(r'^skiff_info\{version="[^"]+",mode="irq",'
                         r'xdp_prog=""\} 1$', text, re.M),
               "skiff_info line missing")
        # The TCP defences, the TC hook, the CPUs, each under its label.
        expect(val("skiff_tcp_reaper_sweeps_total") ==
               stats["tcp_reaper"]["sweeps"] or
               val("skiff_tcp_reaper_sweeps_total") > 0, "reaper sweeps")
        expect(types.get("skiff_tcp_budget_pcbs") == "gauge",
               "a budget's PCBs in use are a gauge")
        expect(val("skiff_tcp_budget_pcbs_min", '{service="echo"}') ==
               stats["tcp_budget"]["echo"]["pcbs_min"], "echo's share")
        expect(val("skiff_tc_runs_total", '{direction="egress"}') == 0,
               "TC counters by direction")
        expect(val("skiff_cpu_timer_ticks_total", '{cpu="0"}') > 0,
               "CPU 0's timer ticks")
        # Every counter family of /stats is there: as many families as the
        # tables have scalar names that are not grouped.
        expect(len(types) > 120, "only %d families" % len(types))


def prometheus_query(api_port, query):
    url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (
        api_port, urllib.parse.quote(query))
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.loads(r.read())
    expect(doc.get("status") == "success", "query failed: %r" % doc)
    return doc["data"]["result"]


@test
def metrics_scraped_by_prometheus():
    expect(shutil.which("prometheus"), "prometheus missing (tools/setup.sh "
           "test installs Debian's prometheus)")
    g, port = boot("metrics-prom", "net.mode=hybrid")
    tmp = tempfile.mkdtemp(prefix="skiff-prom-%d-" % os.getpid())
    prom = None
    try:
        with g:
            wait_http(g, port)
            for _ in range(7):
                get(port, "/")
            api = skiffqemu.free_port()
            cfg = os.path.join(tmp, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write("global:\n  scrape_interval: 1s\n"
                        "  scrape_timeout: 1s\n"
                        "scrape_configs:\n  - job_name: skiff\n"
                        "    static_configs:\n"
                        "      - targets: ['127.0.0.1:%d']\n" % port)
            log = open(os.path.join(tmp, "prometheus.log"), "w")
            prom = subprocess.Popen(
                ["prometheus", "--config.file=" + cfg,
                 "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                 "--web.listen-address=127.0.0.1:%d" % api],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            deadline = time.time() + 90
            got = None
            while time.time() < deadline and prom.poll() is None:
                try:
                    r = prometheus_query(
                        api, 'skiff_http_by_status_total{job="skiff",'
                        'status="200"}')
                    if r and float(r[0]["value"][1]) >= 7:
                        got = r[0]
                        break
                except OSError:
                    pass
                time.sleep(1)
            with open(os.path.join(tmp, "prometheus.log")) as f:
                plog = f.read()[-1500:]
            expect(got, "Prometheus never had the counter:\n" + plog, g)
            expect(got["metric"].get("instance") == "127.0.0.1:%d" % port,
                   "scraped the wrong target: %r" % got["metric"])
            up = prometheus_query(api, 'up{job="skiff"}')
            expect(up and up[0]["value"][1] == "1", "target not up: %r" % up)
    finally:
        if prom and prom.poll() is None:
            os.kill(prom.pid, signal.SIGTERM)
            try:
                prom.wait(timeout=15)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        shutil.rmtree(tmp, ignore_errors=True)
