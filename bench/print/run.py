#!/usr/bin/env python3
"""Print queue throughput: N queued labels -> depotd's print worker -> the printer
simulator over raw TCP (per job: ~HS, "sending" committed, the label, delivery wait,
~HS, "done" committed), timed from the first label's arrival to the last.

Baseline in the same run: a bare client speaking the same protocol to the same
simulator (~HS, label, ~HS per job) with no database, i.e. the floor set by the
simulator and the loopback socket. Real printers print about 1-5 labels a second; the
point is that the queue's durability costs are far below that.

Usage: bench/print/run.py [BUILD_DIR] [--jobs N]   (default build/, 300 jobs)"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start_sim(bindir, root):
    labels = os.path.join(root, "labels")
    os.makedirs(labels, exist_ok=True)
    log = open(os.path.join(root, "sim.log"), "w")
    proc = subprocess.Popen([os.path.join(bindir, "depot-printer-sim"), "--labels", labels,
                             "--tcp", "127.0.0.1:0"], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        text = open(log.name).read()
        m = re.search(r"^tcp (\S+)$", text, re.M)
        if m and "ready" in text:
            return proc, labels, m.group(1)
        time.sleep(0.05)
    raise SystemExit("the simulator did not start")


def label_times(labels):
    paths = [os.path.join(labels, n) for n in os.listdir(labels) if n.endswith(".zpl")]
    return sorted(os.stat(p).st_mtime for p in paths)


def read_reply(s):
    buf = b""
    while buf.count(b"\x03\r\n") < 3:
        buf += s.recv(4096)


def baseline(address, zpl, n):
    host, port = address.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0 = time.monotonic()
    for _ in range(n):
        s.sendall(b"~HS")
        read_reply(s)
        s.sendall(zpl)
        s.sendall(b"~HS")
        read_reply(s)
    elapsed = time.monotonic() - t0
    s.close()
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("--jobs", type=int, default=300)
    args = ap.parse_args()
    bindir = os.path.join(os.path.abspath(args.build), "bin")
    n = args.jobs
    root = tempfile.mkdtemp(prefix="depot-bench-print-")
    data = os.path.join(root, "data")
    ctl = [os.path.join(bindir, "depotctl"), "--data-dir", data]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPOT_")}
    try:
        sim, labels, address = start_sim(bindir, root)
        subprocess.run(ctl + ["init"], check=True, capture_output=True, env=env)
        subprocess.run(ctl + ["printer", "add", "bench", "--backend", "tcp", "--address",
                              address, "--stock", "2x1"], check=True, capture_output=True,
                       env=env)
        for i in range(n):
            subprocess.run(ctl + ["label", "bin", f"BIN-{i:05d}", "--printer", "bench"],
                           check=True, capture_output=True, env=env)
        zpl = subprocess.run(ctl + ["label", "bin", "BIN-00000", "--stdout"], check=True,
                             capture_output=True, env=env).stdout
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            listen = f"127.0.0.1:{free.getsockname()[1]}"
        d = subprocess.Popen([os.path.join(bindir, "depotd"), "--data-dir", data, "--listen",
                              listen], stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 600
        while len(label_times(labels)) < n and time.monotonic() < deadline:
            time.sleep(0.1)
        d.terminate()
        d.wait()
        times = label_times(labels)
        if len(times) < n:
            raise SystemExit(f"only {len(times)} of {n} labels arrived")
        depot_s = times[-1] - times[0]
        shutil.rmtree(labels)
        os.makedirs(labels)
        base_s = baseline(address, zpl, n)
        sim.terminate()
        sim.wait()
        per_depot = depot_s / (n - 1) * 1000
        per_base = base_s / n * 1000
        print(f"jobs: {n} over raw TCP to depot-printer-sim")
        print(f"depotd print worker : {per_depot:7.2f} ms/job  {1000 / per_depot:8.1f} jobs/s")
        print(f"bare client baseline: {per_base:7.2f} ms/job  {1000 / per_base:8.1f} jobs/s")
        print(f"ratio (depotd / baseline): {per_depot / per_base:.1f}x")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
