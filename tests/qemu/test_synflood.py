"""A SYN flood from spoofed sources that never answer (inside a namespace
the test creates) must not deny service: after 3,000 half-open attempts on
the echo and HTTP ports, a real client still connects to both, byte-exact,
and /stats shows the half-open connections capped and SYN cookies sent. Without the
guard (lwip-port/tcp_guard.c) the flood filled all 256 PCBs for ~20 s."""
import json
import os
import subprocess
import sys

from harness import HERE, ROOT, Guest, expect, test

sys.path.insert(0, os.path.join(ROOT, "tools"))
from netns import TapNamespace  # noqa: E402

CLIENT = os.path.join(HERE, "netclient.py")


def run_in(ns, argv, timeout=120):
    r = subprocess.run(ns.cmd(argv), capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).strip()


@test
def syn_flood_does_not_deny_service():
    with TapNamespace(suffix="-syn") as ns:
        g = Guest("synflood", net="tap", tap=ns.tap,
                  cmdline=ns.guest_cmdline() + " net.mode=irq")
        g.argv = ns.cmd(g.argv)
        with g:
            expect(g.wait_for(r"net: \w+ up, address 10\.77\.0\.2/24",
                              timeout=120), "no static address", g)
            for port in ("7", "80"):
                rc, out = run_in(ns, [sys.executable, CLIENT, "syn-flood",
                                      ns.guest_ip, port, "1500"])
                expect(rc == 0, out, g)
            rc, out = run_in(ns, [sys.executable, CLIENT, "tcp-echo",
                                  ns.guest_ip, "7", "10000"])
            expect(rc == 0, "echo denied by the flood: " + out, g)
            rc, out = run_in(ns, ["curl", "-s", "--max-time", "20",
                                  "http://%s/stats" % ns.guest_ip])
            expect(rc == 0, "HTTP denied by the flood: " + out, g)
            guard = json.loads(out)["tcp_guard"]
            expect(guard["half_open_peak"] <= 2 * guard["max_half_open"] + 1,
                   "half-open not capped: %s" % guard, g)
            expect(guard["cookies_sent"] > 0,
                   "no SYN cookies under the flood: %s" % guard, g)
            # The echo and HTTP clients came in through proven cookies.
            expect(guard["cookies_ok"] >= 2,
                   "real clients not through cookies: %s" % guard, g)
