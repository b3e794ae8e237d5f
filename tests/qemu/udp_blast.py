#!/usr/bin/env python3
"""A host-side UDP load for the tests (test_mq's flood; the bench uses
tests/bench/udp_flood.c, which sends faster): FLOWS sockets
(one source port each, so RSS spreads them over the guest's queues) send
SIZE-byte datagrams to IP:PORT round-robin as fast as the socket buffers
take them for SECONDS, while every reply is counted. Prints one JSON line:
sent, received, seconds, and the rates.

    udp_blast.py IP PORT FLOWS SECONDS [SIZE]

Python, not a packet generator: it tops out near 100k datagrams/s, about
what a TCG guest takes, which is enough to run a guest's rings dry.
Both rates are reported so a sender-bound run shows itself (received
close to sent)."""
import json
import select
import socket
import sys
import time

MAX_FLOWS = 1024
MAX_SECONDS = 120
DRAIN_S = 0.5  # replies still in flight after the last send


def drain(s):
    """Replies waiting on the non-blocking socket s, read and counted."""
    n = 0
    try:
        while True:
            s.recv(2048)
            n += 1
    except (BlockingIOError, ConnectionRefusedError):
        return n


def blast(ip, port, flows, seconds, size):
    socks = []
    try:
        for _ in range(flows):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            s.connect((ip, port))
            socks.append(s)
        payload = b"\x5a" * size
        sent = received = 0
        t0 = time.monotonic()
        end = t0 + seconds
        while time.monotonic() < end:
            for s in socks:
                try:
                    s.send(payload)
                    sent += 1
                except (BlockingIOError, ConnectionRefusedError):
                    pass
                received += drain(s)
        elapsed = time.monotonic() - t0
        drain_end = time.monotonic() + DRAIN_S
        while time.monotonic() < drain_end:
            ready, _, _ = select.select(socks, [], [], 0.05)
            for s in ready:
                received += drain(s)
        return {"sent": sent, "received": received,
                "seconds": round(elapsed, 3),
                "sent_pps": round(sent / elapsed, 1),
                "received_pps": round(received / elapsed, 1)}
    finally:
        for s in socks:
            s.close()


def main():
    if len(sys.argv) not in (5, 6):
        raise SystemExit(__doc__.split("\n\n")[-2])
    ip, port, flows, seconds = (sys.argv[1], int(sys.argv[2]),
                                int(sys.argv[3]), float(sys.argv[4]))
    size = int(sys.argv[5]) if len(sys.argv) == 6 else 64
    if not (1 <= flows <= MAX_FLOWS and 0 < seconds <= MAX_SECONDS and
            1 <= size <= 1472 and 0 < port < 65536):
        raise SystemExit("udp_blast: flows 1..%d, seconds 0..%d, size "
                         "1..1472, port 1..65535" % (MAX_FLOWS, MAX_SECONDS))
    print(json.dumps(blast(ip, port, flows, seconds, size)), flush=True)


if __name__ == "__main__":
    main()
