#!/usr/bin/env python3
"""Small network client for tests that must run inside a namespace
(`ip netns exec NS python3 netclient.py ...`). Prints one line: "ok ..."
or "fail ...", exit status 0/1. Every socket has a timeout.

    netclient.py tcp-echo HOST PORT SIZE
    netclient.py udp-echo HOST PORT SIZE
"""
import os
import socket
import sys
import threading


def tcp_echo(host, port, size):
    data = os.urandom(size)
    s = socket.create_connection((host, port), timeout=20)
    s.settimeout(20)
    got = bytearray()

    def reader():
        while len(got) < size:
            chunk = s.recv(65536)
            if not chunk:
                break
            got.extend(chunk)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    t.join(60)
    s.close()
    if bytes(got) != data:
        return "fail tcp echo: sent %d, got %d bytes%s" % (
            size, len(got), "" if len(got) != size else " (content differs)")
    return "ok tcp echo %d bytes" % size


def udp_echo(host, port, size):
    data = os.urandom(size)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    for attempt in range(5):
        s.sendto(data, (host, port))
        try:
            reply, _ = s.recvfrom(65536)
        except socket.timeout:
            continue
        if reply == data:
            return "ok udp echo %d bytes (attempt %d)" % (size, attempt + 1)
        return "fail udp echo: reply differs (%d bytes)" % len(reply)
    return "fail udp echo: no reply in 5 tries"


def main():
    cmd, host, port, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4])
    fn = {"tcp-echo": tcp_echo, "udp-echo": udp_echo}[cmd]
    try:
        line = fn(host, port, size)
    except OSError as e:
        line = "fail %s: %s" % (cmd, e)
    print(line)
    return 0 if line.startswith("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
