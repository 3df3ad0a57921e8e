#!/usr/bin/env python3
"""Loopback servers and measuring clients for bench/run.

Every address is 127.0.0.1, or NETBENCH_HOST when set (bench/run sets it
to an address of a network namespace it created). Subcommands:

  serve ECHO_PORT SOURCE_PORT   echo server, and a source that sends the
                                number of bytes named in the request line
  serve-many ECHO_PORT          echo server on one thread for thousands of
                                connections at once (asyncio)
  throughput BYTES RUNS PORT... bulk downloads from each port in turn,
                                RUNS rounds, prints the best MB/s of each
  transfer-cost BYTES RUNS PORT...
                                the same downloads; prints for each port its
                                best MB/s and the busy CPU-seconds of all
                                cores per GB moved, then on a second line,
                                for each port after the first, the lowest,
                                median and highest of its MB/s over the
                                first port's in the same round, in percent
  latency PORT COUNT            round trips of 64 bytes on one connection,
                                prints p50 and p99 in milliseconds
  connect-latency PORT COUNT    one connection per request, same output
  wait-port PORT TIMEOUT        waits until PORT accepts connections
  wait-latency FIRST COUNT MS TIMEOUT
                                waits until a round trip through each of
                                the COUNT ports from FIRST takes MS or more
"""

import asyncio
import os
import socket
import socketserver
import sys
import threading
import time

HOST = os.environ.get("NETBENCH_HOST", "127.0.0.1")
PAYLOAD = b"x" * 64
CHUNK = 1 << 20


class EchoHandler(socketserver.BaseRequestHandler):
    """Sends back every byte until the client closes its side."""

    def handle(self):
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            data = sock.recv(65536)
            if not data:
                return
            sock.sendall(data)


class SourceHandler(socketserver.BaseRequestHandler):
    """Reads a decimal byte count ending in a newline, sends that many bytes."""

    def handle(self):
        sock = self.request
        request = b""
        while not request.endswith(b"\n"):
            data = sock.recv(64)
            if not data:
                return
            request += data
        remaining = int(request)
        block = memoryview(b"\0" * CHUNK)
        while remaining > 0:
            size = min(remaining, CHUNK)
            sock.sendall(block[:size])
            remaining -= size


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 4096


def serve(echo_port, source_port):
    servers = [
        Server((HOST, echo_port), EchoHandler),
        Server((HOST, source_port), SourceHandler),
    ]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Event().wait()


async def echo(reader, writer):
    """Sends back every byte until the client closes its side."""
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


def serve_many(echo_port):
    # A thread per connection, as `serve` makes, costs the upstream more
    # than chaosc when a thousand proxies measure it at once.
    async def main():
        server = await asyncio.start_server(echo, HOST, echo_port, backlog=4096, reuse_address=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def download(port, total):
    started = time.perf_counter()
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(b"%d\n" % total)
        buffer = bytearray(CHUNK)
        received = 0
        while received < total:
            count = sock.recv_into(buffer)
            if count == 0:
                raise SystemExit(f"connection closed after {received} of {total} bytes")
            received += count
    return time.perf_counter() - started


def busy_seconds():
    """Returns the time all cores have spent busy since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(field) for field in stat.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def downloads(total, runs, ports):
    """Downloads TOTAL bytes from each port in turn, RUNS rounds. Returns the
    best MB/s of each port, the busy CPU-seconds of the whole machine per GB
    moved over all rounds, and the seconds of each round."""
    # Rounds alternate between the ports, so that a slow moment of the
    # machine does not fall on one of them only.
    seconds = {port: [] for port in ports}
    busy = {port: 0.0 for port in ports}
    for _ in range(runs):
        for port in ports:
            before = busy_seconds()
            seconds[port].append(download(port, total))
            busy[port] += busy_seconds() - before
    gigabytes = total * runs / 1e9
    return [(total / min(seconds[port]) / 1e6, busy[port] / gigabytes, seconds[port]) for port in ports]


def throughput(total, runs, *ports):
    print(" ".join(f"{rate:.1f}" for rate, _, _ in downloads(total, runs, ports)))


def transfer_cost(total, runs, *ports):
    measured = downloads(total, runs, ports)
    print(" ".join(f"{rate:.1f} {cpu:.3f}" for rate, cpu, _ in measured))
    first = measured[0][2]
    spreads = []
    for _, _, rounds in measured[1:]:
        shares = sorted(100 * base / taken for base, taken in zip(first, rounds))
        spreads.append(f"{shares[0]:.0f} {shares[len(shares) // 2]:.0f} {shares[-1]:.0f}")
    print(" ".join(spreads))


def percentiles(samples):
    samples = sorted(samples)

    def rank(fraction):
        return samples[min(len(samples) - 1, int(fraction * len(samples)))]

    return rank(0.50) * 1000, rank(0.99) * 1000


def round_trip(sock):
    started = time.perf_counter()
    sock.sendall(PAYLOAD)
    received = 0
    while received < len(PAYLOAD):
        data = sock.recv(65536)
        if not data:
            raise SystemExit("connection closed during a round trip")
        received += len(data)
    return time.perf_counter() - started


def latency(port, count):
    with socket.create_connection((HOST, port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(10):
            round_trip(sock)
        samples = [round_trip(sock) for _ in range(count)]
    p50, p99 = percentiles(samples)
    print(f"{p50:.3f} {p99:.3f}")


def connect_latency(port, count):
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        with socket.create_connection((HOST, port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            round_trip(sock)
        samples.append(time.perf_counter() - started)
    p50, p99 = percentiles(samples)
    print(f"{p50:.3f} {p99:.3f}")


def wait_port(port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"127.0.0.1:{port} did not accept connections within {timeout}s")


def wait_latency(first_port, count, minimum_ms, timeout):
    deadline = time.monotonic() + timeout
    for port in range(first_port, first_port + count):
        while True:
            try:
                with socket.create_connection((HOST, port), timeout=1) as sock:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    if round_trip(sock) * 1000 >= minimum_ms:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"no latency of {minimum_ms}ms on 127.0.0.1:{port} within {timeout}s")
            time.sleep(0.01)


def main():
    command, *args = sys.argv[1:]
    numbers = [int(arg) for arg in args]
    if command == "serve":
        serve(*numbers)
    elif command == "serve-many":
        serve_many(*numbers)
    elif command == "throughput":
        throughput(*numbers)
    elif command == "transfer-cost":
        transfer_cost(*numbers)
    elif command == "latency":
        latency(*numbers)
    elif command == "connect-latency":
        connect_latency(*numbers)
    elif command == "wait-latency":
        wait_latency(*numbers)
    elif command == "wait-port":
        wait_port(*numbers)
    else:
        raise SystemExit(f"unknown subcommand {command!r}; see the docstring of {sys.argv[0]}")


if __name__ == "__main__":
    main()
