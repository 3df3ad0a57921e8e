#!/usr/bin/env python3
"""Splits the round trips through a delaying proxy into their parts, from
packets stamped by the kernel on the loopback interface.

  capture.py UPSTREAM LISTEN DELAY_MS SECONDS

Run it while a client sends round trips through the proxy on port LISTEN
to the echo server on port UPSTREAM. It prints "capturing" on stderr once
its socket is bound, then captures for SECONDS, or until SIGTERM, the
packets with a payload to or from either port. Then it prints p50, p99 and
the maximum in milliseconds of three parts of each round trip:

  hold     the proxy's copy of a reply to the client, after the reply
           reached the proxy, minus DELAY_MS
  server   the echo server's reply, after the proxy's copy of the request
  inside   the reply to the client, after the request reached the proxy,
           minus DELAY_MS

Needs root (a packet socket). Reads only 127.0.0.1's loopback interface.
"""

import signal
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = 35
ETH_P_IP = 0x0800
IPPROTO_TCP = 6


def packets(seconds):
    """Yields (stamp in seconds, source port, destination port) of each
    IPv4 TCP packet with a payload seen on the loopback interface."""
    capture = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    capture.bind(("lo", 0))
    capture.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    capture.settimeout(0.2)
    end = time.monotonic() + seconds
    stopped = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    print("capturing", file=sys.stderr, flush=True)
    with capture:
        while time.monotonic() < end and not stopped:
            try:
                data, ancillary, _, _ = capture.recvmsg(128, 64)
            except socket.timeout:
                continue
            if len(data) < 40 or data[9] != IPPROTO_TCP or not ancillary:
                continue
            header = (data[0] & 15) * 4
            total = struct.unpack("!H", data[2:4])[0]
            source, destination = struct.unpack("!HH", data[header : header + 4])
            payload = total - header - (data[header + 12] >> 4) * 4
            if payload > 0:
                seconds_part, nanoseconds = struct.unpack("qq", ancillary[0][2][:16])
                yield seconds_part + nanoseconds / 1e9, source, destination


def summary(samples):
    samples = sorted(samples)
    if not samples:
        return "no samples"
    p50 = samples[len(samples) // 2]
    p99 = samples[min(len(samples) - 1, int(0.99 * len(samples)))]
    return f"n={len(samples)} p50={p50:.3f} p99={p99:.3f} max={samples[-1]:.3f}"


def main():
    upstream, listen, delay_ms, seconds = (float(value) for value in sys.argv[1:5])
    upstream, listen = int(upstream), int(listen)
    hold, server, inside = [], [], []
    request = forwarded = reply = None
    for stamp, source, destination in packets(seconds):
        if destination == listen:
            request = stamp
        elif destination == upstream:
            forwarded = stamp
        elif source == upstream:
            reply = stamp
        elif source == listen and reply is not None:
            hold.append((stamp - reply) * 1000 - delay_ms)
            if forwarded is not None:
                server.append((reply - forwarded) * 1000)
            if request is not None:
                inside.append((stamp - request) * 1000 - delay_ms)
    print("hold  ", summary(hold))
    print("server", summary(server))
    print("inside", summary(inside))


if __name__ == "__main__":
    main()
