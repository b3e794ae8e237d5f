"""RX ring occupancy: a fixed net.rx_posted keeps that many buffers posted,
the adaptive mode starts small and still serves bulk traffic, and
net.trace records buffer events and prints them for tools/ddio_model."""
import re

from harness import Guest, expect, test
import netclient
import skiffqemu

UP = r"net: \w+ up, address"


def pump_echo(port, size=256 * 1024):
    return netclient.tcp_echo("127.0.0.1", port, size).startswith("ok")


def boot_with(name, cmdline):
    port = skiffqemu.free_port()
    g = Guest(name, net="user", hostfwd=[("tcp", port, 7)],
              cmdline=cmdline + " net.stats=1")
    return g, port


@test
def rx_posted_fixed_is_honoured():
    g, port = boot_with("rx-fixed", "net.rx_posted=48")
    with g:
        expect(g.wait_for(UP, 120), "no address", g)
        expect(pump_echo(port), "echo through a 48-buffer ring failed", g)
        m = g.wait_for(r"stats: driver rx target (\d+)", 30)
        expect(m and int(m.group(1)) == 48, "target is not 48", g)
        posted = re.findall(r"posted (\d+)/256", g.log())
        expect(posted and max(int(p) for p in posted) <= 48,
               "more than 48 buffers posted: %s" % posted[-5:], g)


@test
def rx_posted_adaptive_serves_and_traces():
    g, port = boot_with("rx-adaptive", "net.rx_posted=adaptive net.trace=400")
    with g:
        expect(g.wait_for(UP, 120), "no address", g)
        expect(pump_echo(port), "echo through the adaptive ring failed", g)
        expect(g.wait_for(r"rx target \d+ \(adaptive\)", 30),
               "adaptive target not reported", g)
        expect(g.wait_for(r"trace: end", 60), "trace never dumped", g)
        lines = re.findall(r"trace: (\d+) (\d+) (\d) (\d+)$", g.log(), re.M)
        expect(len(lines) == 400, "expected 400 records, got %d" % len(lines))
        events = {int(e) for _, _, e, _ in lines}
        expect({0, 1, 2, 3} <= events, "missing event kinds: %s" % events)
        times = [int(t) for t, _, _, _ in lines]
        expect(times == sorted(times), "trace not in time order")
