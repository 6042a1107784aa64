#!/usr/bin/env python3
"""Scan latency benchmark: a barcode written on a scanner's pseudo-terminal -> the "scan"
WebSocket event out of depotd (libserialport fd on the event loop, framing, AIM/GS1
parse, resolution in SQLite, JSON, WebSocket), one scan at a time, p50/p99 over N scans.

Baseline in the same run: the same PTY write read back by a bare relay process (a
blocking read of the slave, forwarded over a loopback TCP socket to this script), i.e.
the operating system's floor for "PTY in, socket out" with no Depot in between.

Usage: bench/scan/run.py [BUILD_DIR] [--scans N]   (default build/, 10000 scans)
Needs a RelWithDebInfo build with tests (depotd, depotctl, tests/bin/libdepot_pty_shim.so)."""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GTIN13 = "4006381333931"
SCAN = "]E0" + GTIN13  # an EAN-13 with its AIM identifier: parsed, resolved to a SKU

RELAY = r"""
import os, socket, sys, termios, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:  # EIO: the benchmark closed the PTY
        break
    if not chunk:
        break
    buf += chunk
    while b"\r" in buf:
        line, _, buf = buf.partition(b"\r")
        s.sendall(line + b"\n")
"""


def percentiles(samples):
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), q[98]


def run_baseline(dt, tmp, n):
    pty = dt.Pty(os.path.join(tmp.root, "baseline-scanner"))
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    relay = subprocess.Popen([sys.executable, "-c", RELAY, pty.slave_name,
                              str(srv.getsockname()[1])])
    conn, _ = srv.accept()
    f = conn.makefile("rb")
    samples = []
    try:
        for i in range(n + n // 10):
            t0 = time.perf_counter()
            pty.write(SCAN + "\r")
            f.readline()
            if i >= n // 10:  # the first tenth warms up
                samples.append(time.perf_counter() - t0)
    finally:
        f.close()
        conn.close()
        srv.close()
        pty.close()
        relay.wait(10)
    return samples


def run_depot(dt, ws_client, tmp, n):
    def ctl(*args):
        return dt.run_depotctl("--data-dir", tmp.data_dir, "--json", *args, check=True).stdout

    ctl("init")
    token = json.loads(ctl("token", "create", "bench", "--role", "admin"))["token"]
    ctl("stock", "import", tmp.write("stock.csv", "sku,name,gtin,location,on_hand\n"
                                                 f"MUG-1,Mug,{GTIN13},MAIN,10\n"))
    link = os.path.join(tmp.root, "usb-bench-scanner")
    pty = dt.Pty(link)
    ctl("station", "add", "BENCH")
    ctl("scanner", "add", "bench-1", "--station", "BENCH", "--port", link)
    port = dt.free_port()
    daemon = dt.Depotd("--data-dir", tmp.data_dir, "--listen", f"127.0.0.1:{port}",
                       env=dt.pty_shim_env())
    samples = []
    with daemon:
        ws = ws_client(port, {"Authorization": f"Bearer {token}"})
        try:
            assert ws.recv()["type"] == "hello"
            ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            dt.wait_until(lambda: "online" in daemon.stderr(), timeout=15,
                          what="scanner online")
            for i in range(n + n // 10):
                t0 = time.perf_counter()
                pty.write(SCAN + "\r")
                ev = ws.recv_type("scan", timeout=10)
                if i >= n // 10:
                    samples.append(time.perf_counter() - t0)
            assert ev["data"]["sku"] == "MUG-1", ev
        finally:
            ws.close()
            pty.close()
    return samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build_dir", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("--scans", type=int, default=10000)
    args = ap.parse_args()
    build = os.path.abspath(args.build_dir)
    os.environ["DEPOT_BIN_DIR"] = os.path.join(build, "bin")
    os.environ["DEPOT_TEST_BIN_DIR"] = os.path.join(build, "tests", "bin")
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import depot_testlib as dt
    from test_web_server import WebSocket
    if dt.cmake_option("CMAKE_BUILD_TYPE") == "Asan":
        print(f"bench: {build} is a sanitizer build; numbers would mean little "
              "(use 'make build')", file=sys.stderr)

    with dt.TempDataDir() as tmp:
        base = run_baseline(dt, tmp, args.scans)
        depot = run_depot(dt, WebSocket, tmp, args.scans)
    bp50, bp99 = percentiles(base)
    dp50, dp99 = percentiles(depot)
    ms = 1000.0
    print(f"scans measured: {len(depot)} (after {args.scans // 10} warm-up scans), one at a time")
    print(f"{'':34} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'baseline: PTY -> relay -> TCP':34} {bp50 * ms:8.3f} {bp99 * ms:8.3f}")
    print(f"{'depotd: PTY -> scan WS event':34} {dp50 * ms:8.3f} {dp99 * ms:8.3f}")
    print(f"{'ratio depotd / baseline':34} {dp50 / bp50:8.2f} {dp99 / bp99:8.2f}")
    print(f"depotd scans/s, one at a time: {len(depot) / sum(depot):.0f}")


if __name__ == "__main__":
    main()
