#!/usr/bin/env python3
"""UI scan latency benchmark: a barcode written on a packing station's scanner PTY -> the
packing page in Chromium showing it (the scan result's text changed, seen by a
MutationObserver), one scan at a time, p50/p99 over N scans (default 500).

Baseline in the same run: the same scans' "scan" WebSocket messages arriving in the page
(a listener that runs before the page's own), i.e. everything up to the browser's
JavaScript; the difference is the page's own work (JSON, matching the line, rendering).

Usage: bench/ui/run.py [BUILD_DIR] [--scans N]   (default build/, 500 scans)
Needs a build with tests (depotd, depotctl, tests/bin/libdepot_pty_shim.so), node, npm
and /usr/bin/chromium (packaging/install-deps.sh); playwright-core is installed into
BUILD_DIR/tests/node as the UI tests do."""

import argparse
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("--scans", type=int, default=500)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    os.environ["DEPOT_BIN_DIR"] = os.path.join(build, "bin")
    os.environ["DEPOT_TEST_BIN_DIR"] = os.path.join(build, "tests", "bin")
    os.environ["DEPOT_SOURCE_DIR"] = ROOT
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import ui_testlib as ut
    missing = ut.browser_missing()
    if missing:
        sys.exit(f"cannot run: {missing}")
    srv = ut.UiServer(serial_scanner=True)
    try:
        srv.order_create("bench-1", "#9001", f"COF-ESP-250:{a.scans}")
        ut.UI_DIR = os.path.join(ROOT, "bench", "ui")
        out = ut.run_script("scan_to_dom", srv, timeout=60 + a.scans, SCANS=a.scans,
                            ORDER_NUMBER="#9001", SKU="2006100000115")
    finally:
        srv.stop()
    dom, wire = out["dom"], out["wire"]
    print(f"scans: {len(dom)}")
    print(f"PTY -> WebSocket message in the page: p50 {pct(wire, 50):.1f} ms"
          f"  p99 {pct(wire, 99):.1f} ms")
    print(f"PTY -> DOM shows it:                  p50 {pct(dom, 50):.1f} ms"
          f"  p99 {pct(dom, 99):.1f} ms  (mean {statistics.mean(dom):.1f})")
    print(f"ratio DOM / message at p50: {pct(dom, 50) / max(pct(wire, 50), 0.001):.2f}")


if __name__ == "__main__":
    main()
