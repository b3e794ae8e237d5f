"""/status, the live status page (www/status/): Debian's headless Chromium
loads it from a running appliance (direct boot, user networking, port 80
forwarded to 127.0.0.1), it reports no console error, no uncaught
exception and no failed load, shows the attached XDP program, and its rates
move when a client loads the appliance; a screenshot taken under load goes
to build/status.png. The index page links to it."""
import http.client
import json
import os
import re
import shutil
import threading
import time

from harness import ROOT, Guest, TestFailure, expect, test
from test_metrics import boot, get, wait_http
import cdp

SHOT = os.path.join(ROOT, "build", "status.png")
READ = ("JSON.stringify(Object.fromEntries(['state','mode','pps','rps',"
        "'requests','ips','polls','heap','xdp-prog'].map("
        "k => [k, (document.getElementById(k) || {}).textContent || '']"
        ")))")


def number(text):
    """The page's short numbers: 12, 3.4, 12.5k, 1.20M."""
    m = re.fullmatch(r"([\d.]+)([kM]?)", text.strip())
    if not m:
        return -1.0  # not drawn yet (a dash)
    return float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6}[m.group(2)]


def load(port, stop, counter):
    """Keep-alive GETs of / until stop is set."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        while not stop.is_set():
            c.request("GET", "/")
            c.getresponse().read()
            counter[0] += 1
    except OSError:
        pass
    finally:
        c.close()


def page_state(b, want, timeout=30):
    """Reads the page's numbers until want(values) holds."""
    deadline = time.time() + timeout
    v = None
    while time.time() < deadline:
        v = json.loads(b.evaluate(READ))
        if want(v):
            return v
        b.pump(0.5)
    raise TestFailure("page never showed what was expected: %r" % v)


@test
def status_page_in_chromium():
    expect(shutil.which("chromium"), "chromium missing (tools/setup.sh test "
           "installs Debian's chromium)")
    g, port = boot("status", "net.mode=hybrid xdp.prog=count")
    with g:
        wait_http(g, port)
        status, _, body = get(port, "/")
        expect(status == 200 and b'href="/status"' in body,
               "the index page does not link to /status", g)
        log = os.path.join(ROOT, "build", "test-logs", "status-chromium.log")
        with cdp.Browser(log_path=log) as b:
            b.open_page()
            b.navigate("http://127.0.0.1:%d/status" % port)
            # Two polls give the first rates.
            idle = page_state(b, lambda v: v["state"] == "live" and
                              v["rps"] != "\u2013")
            expect(idle["mode"] == "hybrid", "mode %r" % idle["mode"], g)
            expect(idle["xdp-prog"].startswith("count"),
                   "attached program not shown: %r" % idle["xdp-prog"], g)
            stop, done = threading.Event(), [0]
            threads = [threading.Thread(target=load, args=(port, stop, done))
                       for _ in range(2)]
            for t in threads:
                t.start()
            try:
                busy = page_state(
                    b, lambda v: number(v["rps"]) >= number(idle["rps"]) + 20
                    and number(v["pps"]) > number(idle["pps"]), timeout=40)
                b.pump(2)  # let the charts draw a few loaded points
                b.screenshot(SHOT)
            finally:
                stop.set()
                for t in threads:
                    t.join(timeout=30)
            expect(done[0] > 0, "the load generator got no answers", g)
            expect(number(busy["requests"]) > number(idle["requests"]),
                   "request total did not move")
            errors = b.errors()
            expect(not errors, "page errors:\n" + "\n".join(errors), g)
        with open(SHOT, "rb") as f:
            expect(f.read(8) == b"\x89PNG\r\n\x1a\n", "screenshot not a PNG")
