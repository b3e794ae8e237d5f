"""AF_XDP in the guest: the XSK UDP echo (xsk.port=) answers byte-exact
under a burst without lwIP's UDP counters moving, its socket's counters
add up, every UMEM frame is accounted for afterwards, and lwIP's own echo
keeps answering beside it."""
import json
import os
import socket
import time
import urllib.request

from harness import Guest, expect, test
import skiffqemu

UP = r"net: \w+ up, address"
XSK_PORT = 7009
FRAMES = 128


def stats(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/stats" % port,
                                timeout=20) as r:
        return json.loads(r.read())


def burst(port, payloads, rounds=5):
    """Sends every payload at once, then again those not answered yet, for
    a bounded number of rounds; returns {payload: reply} of the answered."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    got = {}
    try:
        for _ in range(rounds):
            missing = [p for p in payloads if p not in got]
            if not missing:
                break
            for p in missing:
                s.sendto(p, ("127.0.0.1", port))
            deadline = time.time() + 3
            while time.time() < deadline and len(got) < len(payloads):
                try:
                    data, _ = s.recvfrom(4096)
                except socket.timeout:
                    continue
                got[data] = data
    finally:
        s.close()
    return got


@test
def xsk_udp_echo_answers_without_lwip():
    http, udp, udp7 = (skiffqemu.free_port(), skiffqemu.free_port(),
                       skiffqemu.free_port())
    g = Guest("xsk-echo", net="user", boot="direct",
              hostfwd=[("tcp", http, 80), ("udp", udp, XSK_PORT),
                       ("udp", udp7, 7)],
              cmdline="xsk.port=%d xsk.frames=%d" % (XSK_PORT, FRAMES))
    with g:
        expect(g.wait_for(UP, 120), "no address", g)
        expect(g.wait_for(r"xsk: UDP echo on port %d: AF_XDP socket \d+, "
                          r"%d UMEM frames" % (XSK_PORT, FRAMES), 5),
               "XSK echo did not start", g)
        before = stats(http)
        # 96 datagrams, sizes 1..1472 bytes, every byte value.
        payloads = [bytes((i * 7 + k) & 255 for k in range(1 + i * 15))
                    for i in range(96)]
        got = burst(udp, payloads)
        expect(len(got) == len(payloads),
               "%d of %d datagrams answered" % (len(got), len(payloads)), g)
        for p in payloads:
            expect(got.get(p) == p, "reply differs for %d bytes" % len(p), g)
        mid = stats(http)
        # lwIP's echo on port 7 still answers, and only it moves lwIP.
        got7 = burst(udp7, [b"lwip-echo"])
        expect(got7.get(b"lwip-echo") == b"lwip-echo", "lwIP echo silent", g)
        time.sleep(0.5)
        after = stats(http)
    x0 = before["xsk"]["sockets"][0]
    x1 = mid["xsk"]["sockets"][0]
    answered = mid["xsk_echo"]["answered"] - before["xsk_echo"]["answered"]
    expect(answered >= len(payloads), "service answered %d" % answered)
    expect(x1["rx"] - x0["rx"] >= len(payloads), "socket rx %d" %
           (x1["rx"] - x0["rx"]))
    expect(x1["tx"] - x0["tx"] == answered, "socket tx %d, answered %d" %
           (x1["tx"] - x0["tx"], answered))
    expect(x1["wakeups"] > x0["wakeups"], "no receive wakeups counted")
    expect(mid["lwip"]["udp"]["recv"] == before["lwip"]["udp"]["recv"],
           "lwIP saw XSK datagrams: %d -> %d" % (
               before["lwip"]["udp"]["recv"], mid["lwip"]["udp"]["recv"]))
    expect(mid["echo"]["udp"]["datagrams"] ==
           before["echo"]["udp"]["datagrams"], "lwIP's echo answered")
    expect(after["echo"]["udp"]["datagrams"] >
           mid["echo"]["udp"]["datagrams"], "lwIP's echo not counted")
    x2 = after["xsk"]["sockets"][0]
    expect(x2["owned"] == FRAMES, "socket owns %d of %d frames" %
           (x2["owned"], FRAMES))
    expect(x2["tx_inflight"] == 0, "%d frames still on the device" %
           x2["tx_inflight"])
    expect(x2["tx_invalid"] == 0 and x2["fill_invalid"] == 0,
           "the service handed bad addresses")
    expect(after["xdp"]["attached"] == "xsk_udp", "xsk_udp not attached")
