"""`make demo`'s devices, end to end: packaging/demo/run-demo.sh seeds a data dir and starts
depotd with the scanner simulator and the ZPL printer simulator on pseudo-terminals.
A person "scans" into the demo station with `depotctl scan` and the scan reaches a
WebSocket client as a resolved event for PACK-1; a test print goes through the print
worker to the printer simulator, which stores the label; told to go paper-out, the
simulator makes the printer's state paper out and the next label waits in the queue until
paper is back. SIGTERM stops depotd and the simulators with it."""

import json
import os
import signal
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402
from test_web_server import WebSocket  # noqa: E402

RUN_DEMO = os.path.join(dt.SOURCE_DIR, "packaging", "demo", "run-demo.sh")


class DemoDevicesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = dt.TempDataDir()
        self.addCleanup(self.tmp.cleanup)
        # like `make demo`'s var/demo in a fresh clone: the parent does not exist yet
        self.dir = os.path.join(self.tmp.root, "var", "demo")
        self.port = dt.free_port()
        env = dict(os.environ, DEPOT_LISTEN=f"127.0.0.1:{self.port}")
        self.log = open(os.path.join(self.tmp.root, "demo.log"), "w+")
        self.addCleanup(self.log.close)
        self.proc = subprocess.Popen(["sh", RUN_DEMO, dt.BIN_DIR, self.dir], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.addCleanup(self.stop)
        dt.wait_until(self.ready, timeout=60, what="the demo's depotd")

    def ready(self):
        if self.proc.poll() is not None:
            self.log.seek(0)
            raise AssertionError(f"demo exited {self.proc.returncode}:\n{self.log.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # run-demo.sh exec'd depotd
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def ctl(self, *args, check=True):
        r = dt.run_depotctl("--data-dir", self.dir, "--json", *args)
        if check:
            self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout) if r.stdout.strip() else None

    def sim(self, command):
        subprocess.run([dt.bin_path("depot-printer-sim"), "--ctl",
                        os.path.join(self.dir, "printer.sock"), command], check=True,
                       capture_output=True, timeout=10)

    def printer_state(self, token):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/printers",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return next(p for p in json.loads(r.read())["items"] if p["name"] == "zebra-1")

    def labels(self):
        d = os.path.join(self.dir, "labels")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def test_scan_and_print_through_the_demo_simulators(self):
        token = self.ctl("token", "create", "demo-test", "--role", "supervisor")["token"]
        ws = WebSocket(self.port, {"Authorization": f"Bearer {token}"})
        self.addCleanup(ws.close)
        self.assertEqual(ws.status, 101)
        # The demo scanner comes online, then a person scans the demo's espresso.
        def scanner_online():
            r = dt.run_depotctl("--data-dir", self.dir, "scan", "--station", "PACK-1",
                                "]E02006100000115")
            return r.returncode == 0
        dt.wait_until(scanner_online, timeout=20, what="a scan through the demo scanner")
        ev = ws.recv_type("scan", timeout=10)["data"]
        while ev.get("kind") != "sku":  # scans made while the port was still opening
            ev = ws.recv_type("scan", timeout=10)["data"]
        self.assertEqual((ev["station"], ev["scanner"], ev["sku"], ev["symbology"]),
                         ("PACK-1", "scanner-1", "COF-ESP-250", "ean-13"))

        # A test print lands in the printer simulator as a stored label.
        self.ctl("printer", "test", "zebra-1")
        dt.wait_until(lambda: len(self.labels()) == 1, timeout=30, what="the test label")
        # Paper out: shown as the printer's state; the next label waits, then prints.
        self.sim("paper-out")
        self.ctl("label", "bin", "A-01-1", "--printer", "zebra-1")
        dt.wait_until(lambda: self.printer_state(token)["state"] in ("paper_out", "no_reply"),
                      timeout=30, what="paper out shown")
        time.sleep(1)
        self.assertEqual(len(self.labels()), 1)
        self.sim("ok")
        dt.wait_until(lambda: len(self.labels()) == 2, timeout=30, what="the queued label")
        dt.wait_until(lambda: self.printer_state(token)["state"] == "ready", timeout=30,
                      what="printer ready again")
        with open(os.path.join(self.dir, "labels", self.labels()[1])) as f:
            self.assertIn("A-01-1", f.read())
        self.stop()
        self.assertEqual(self.proc.returncode, 0)
        # The simulators went with depotd (none left running on the demo's dir).
        dt.wait_until(lambda: not self.simulators_alive(), timeout=15,
                      what="the simulators to exit")

    def simulators_alive(self):
        alive = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    args = f.read().split(b"\0")
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z" and any(self.dir.encode() in a for a in args) and \
                    os.path.basename(args[0]).startswith(b"depot-"):
                alive.append(pid)
        return alive


if __name__ == "__main__":
    unittest.main()
