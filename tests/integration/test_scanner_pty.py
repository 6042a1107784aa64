"""Integration tests of serial barcode scanners on real pseudo-terminals, through the
product's libserialport path (the test-only PTY shim preloaded into depotd): scans arrive
as WebSocket "scan" events resolved to what they mean (SKU by GTIN and by code, order,
bin, badge, command; AIM identifier and GS1 AIs); unplugging the scanner (closing the PTY
master) gives a "device" event and replugging (a new PTY at the same path) brings it back
without restarting depotd; garbage, NUL noise and over-long frames are dropped and
counted while the port keeps working; scanners added later are picked up on SIGHUP (also
the first one, when depotd started with none);
a scanner moved to another station through the API scans for it at once on its open port;
baud, data bits, parity, stop bits and flow control reach the line (the PTY's termios);
GET /api/v1/devices shows stations, scanners, live state and counters; the daemon does
not leak descriptors across replugs; inter-byte-gap framing; depot-scan-sim with
`depotctl scan`; the station/scanner commands' input checks."""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402
from test_web_server import WebSocket  # noqa: E402

GS = "\x1d"
GTIN13 = "4006381333931"          # EAN-13 of the stocked mug
GTIN14 = "0" + GTIN13
STOCK_CSV = ("sku,name,gtin,location,on_hand,bin\n"
             f"MUG-1,Mug,{GTIN13},MAIN,10,A-01-02\n"
             "PEN-2,Pen,,MAIN,5,\n")


class ScannerDepot:
    """A data dir with stock, an order, a packer with a badge, a station and a scanner
    on a PTY at a stable symlink; depotd runs with the PTY shim."""

    def __init__(self, suffix="cr"):
        self.tmp = dt.TempDataDir()
        d = self.tmp.data_dir
        self.ctl("init")
        self.token = self.ctl("token", "create", "scan-test", "--role", "admin")["token"]
        self.ctl("user", "add", "pia", "--role", "packer")
        self.ctl("stock", "import", self.tmp.write("stock.csv", STOCK_CSV))
        self.order_id = self.ctl("order", "create", "--external-id", "EXT-77",
                                 "--line", "MUG-1:1")["id"]
        self.link = os.path.join(self.tmp.root, "usb-Acme_Scanner_1234-if00")
        self.pty = dt.Pty(self.link)
        self.ctl("station", "add", "PACK-1", "--printer", "zebra-1")
        self.ctl("scanner", "add", "scan-1", "--station", "PACK-1", "--port", self.link,
                 "--suffix", suffix)
        self.port = dt.free_port()
        self.termios_log = os.path.join(self.tmp.root, "termios.log")
        self.daemon = dt.Depotd("--data-dir", d, "--listen", f"127.0.0.1:{self.port}",
                                env=dt.pty_shim_env(env={"DEPOT_PTY_SHIM_TERMIOS_LOG":
                                                         self.termios_log}))
        self.ws = None

    def ctl(self, *args, check=True):
        out = dt.run_depotctl("--data-dir", self.tmp.data_dir, "--json", *args,
                              check=check).stdout
        return json.loads(out) if out.strip() else None

    def start(self):
        self.daemon.start()
        self.ws = WebSocket(self.port, {"Authorization": f"Bearer {self.token}"})
        assert self.ws.status == 101, self.ws.status
        assert self.ws.recv()["type"] == "hello"
        return self

    def close(self):
        try:
            if self.ws:
                self.ws.close()
            if self.daemon.proc:
                self.daemon.stop()
        finally:
            self.pty.close()
            self.tmp.cleanup()

    def scan(self, text, suffix="\r"):
        self.pty.write(text + suffix)
        return self.ws.recv_type("scan", timeout=10)["data"]

    def device_event(self, state, timeout=15):
        while True:
            ev = self.ws.recv_type("device", timeout=timeout)["data"]
            if ev.get("name") == "scan-1" and ev["state"] == state:
                return ev

    def api(self, method, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, headers={"Authorization": f"Bearer {self.token}"})
            r = conn.getresponse()
            body = r.read()
            assert r.status in (200, 201), (r.status, body)
            return json.loads(body)
        finally:
            conn.close()

    def devices(self):
        return self.api("GET", "/api/v1/devices")

    def scanner_state(self):
        return next(s for s in self.devices()["scanners"] if s["name"] == "scan-1")

    def wait_online(self):
        dt.wait_until(lambda: self.scanner_state()["state"] == "online", timeout=15,
                      what="scanner online")


class ScannerPtyTest(unittest.TestCase):
    def setUp(self):
        self.d = ScannerDepot()
        self.addCleanup(self.d.close)
        self.d.start()
        self.d.wait_online()

    def test_scans_are_resolved_and_published_for_the_station(self):
        d = self.d
        ev = d.scan("]E0" + GTIN13)
        self.assertEqual((ev["kind"], ev["sku"], ev["matched"]), ("sku", "MUG-1", "gtin"))
        self.assertEqual((ev["station"], ev["scanner"]), ("PACK-1", "scan-1"))
        self.assertEqual((ev["symbology"], ev["aim"], ev["raw"]),
                         ("ean-13", "]E0", "]E0" + GTIN13))
        self.assertEqual(ev["ais"], [{"ai": "01", "value": GTIN14}])

        ev = d.scan("]C1" + "01" + GTIN14 + "10" + "LOT7" + GS + "17" + "271231")
        self.assertEqual((ev["kind"], ev["sku"], ev["symbology"]), ("sku", "MUG-1", "gs1-128"))
        self.assertEqual([f["ai"] for f in ev["ais"]], ["01", "10", "17"])
        self.assertEqual(ev["ais"][1]["value"], "LOT7")

        ev = d.scan("PEN-2")
        self.assertEqual((ev["kind"], ev["sku"], ev["matched"]), ("sku", "PEN-2", "sku_code"))
        self.assertEqual(ev["symbology"], "none")

        ev = d.scan(f"]C0ORDER-{d.order_id}")
        self.assertEqual((ev["kind"], ev["order_id"], ev["external_id"]),
                         ("order", d.order_id, "EXT-77"))
        self.assertEqual(d.scan("EXT-77")["order_id"], d.order_id)
        ev = d.scan("A-01-02")
        self.assertEqual((ev["kind"], ev["bin"], ev["locations"]), ("bin", "A-01-02", ["MAIN"]))
        ev = d.scan("CMD-PACK")
        self.assertEqual((ev["kind"], ev["command"]), ("command", "PACK"))
        ev = d.scan("CMD-CANCEL")
        self.assertEqual((ev["kind"], ev["command"], ev["station"]),
                         ("command", "CANCEL", "PACK-1"))
        ev = d.scan("NOTHING-LIKE-THIS")
        self.assertEqual((ev["kind"], ev["reason"]), ("unknown", "no_match"))
        # A GS1 scan with a wrong check digit is refused by the parser, not resolved.
        ev = d.scan("]C101" + GTIN14[:-1] + "0")
        self.assertEqual((ev["kind"], ev["reason"]), ("unknown", "invalid_scan"))
        self.assertIn("check digit", ev["error"])

    def test_badge_logs_in_without_the_badge_being_echoed(self):
        d = self.d
        badge = d.api("POST", "/api/v1/users/pia/badge")["badge"]
        ev = d.scan(badge)
        self.assertEqual((ev["kind"], ev["user"], ev["role"]), ("badge", "pia", "packer"))
        self.assertIsNone(ev["raw"])
        self.assertNotIn(badge, json.dumps(ev))
        self.assertNotIn(badge, d.daemon.stderr())

    def test_unplug_and_replug_reconnects_without_leaking(self):
        d = self.d
        self.assertEqual(d.scan("PEN-2")["sku"], "PEN-2")
        fds_before = len(os.listdir(f"/proc/{d.daemon.pid}/fd"))
        for _ in range(3):
            d.pty.unplug()
            ev = d.device_event("unplugged")
            self.assertEqual((ev["station"], ev["kind"]), ("PACK-1", "scanner"))
            self.assertTrue(ev["error"])
            self.assertEqual(d.scanner_state()["state"], "unplugged")
            d.pty.plug()
            ev = d.device_event("online")
            self.assertEqual(ev["device"], os.path.realpath(d.link))
            self.assertEqual(d.scan("]E0" + GTIN13)["sku"], "MUG-1")
        state = d.scanner_state()
        self.assertEqual(state["counters"]["reconnects"], 3)
        # The API connection just used may take a moment to close on the server's side.
        dt.wait_until(lambda: len(os.listdir(f"/proc/{d.daemon.pid}/fd")) == fds_before,
                      timeout=5, what=f"depotd back to {fds_before} descriptors")
        d.daemon.wait_for_log(module="scanner", msg=re.compile(r"scanner scan-1 unplugged"))

    def test_garbage_noise_and_overlong_frames_are_dropped_and_counted(self):
        d = self.d
        d.pty.write(b"\x00\x00\x07\xff")                 # noise between scans
        d.pty.write(b"AB\x00CD\r" + b"X\x1bY\r")         # control bytes inside frames
        d.pty.write(b"9" * 5000 + b"\r")                 # far over the frame limit
        d.pty.write("caf\u00e9\r".encode())               # not ASCII
        ev = d.scan("PEN-2")                              # the port still works
        self.assertEqual(ev["sku"], "PEN-2")
        c = d.scanner_state()["counters"]
        self.assertEqual(c["noise_bytes"], 4)
        self.assertEqual(c["dropped_garbage"], 3)
        self.assertEqual(c["dropped_overlong"], 1)
        self.assertEqual(c["scans"], 1)
        self.assertEqual(d.scanner_state()["state"], "online")

    def test_devices_api_and_sighup_reload(self):
        d = self.d
        doc = d.devices()
        self.assertEqual(doc["stations"], [{"id": 1, "name": "PACK-1", "printer": "zebra-1",
                                            "scanners": ["scan-1"]}])
        s = doc["scanners"][0]
        self.assertEqual((s["station"], s["port"], s["serial"], s["suffix"], s["state"]),
                         ("PACK-1", d.link, "9600,8,N,1,none", "cr", "online"))
        self.assertIn("printers", doc)
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
        try:
            conn.request("GET", "/api/v1/devices")
            r = conn.getresponse()
            self.assertEqual(r.status, 401)
            self.assertEqual(json.loads(r.read())["error"]["code"], "unauthenticated")
        finally:
            conn.close()
        # A second scanner (LF suffix, with a prefix) is picked up on SIGHUP.
        link2 = os.path.join(d.tmp.root, "scanner-two")
        with dt.Pty(link2) as pty2:
            d.ctl("scanner", "add", "scan-2", "--station", "PACK-1", "--port", link2,
                  "--suffix", "lf", "--prefix", "S2:", "--baud", "115200")
            self.assertEqual(next(x for x in d.devices()["scanners"]
                                  if x["name"] == "scan-2")["state"], "not_loaded")
            d.daemon.send_signal(signal.SIGHUP)
            dt.wait_until(lambda: next(x for x in d.devices()["scanners"]
                                       if x["name"] == "scan-2")["state"] == "online",
                          timeout=15, what="scan-2 online")
            pty2.write("S2:PEN-2\nPEN-2\n")
            ev = d.ws.recv_type("scan", timeout=10)["data"]
            self.assertEqual((ev["scanner"], ev["sku"]), ("scan-2", "PEN-2"))
            dt.wait_until(lambda: next(x for x in d.devices()["scanners"]
                                       if x["name"] == "scan-2")["counters"]
                          ["dropped_prefix"] == 1, what="prefix drop counted")
            # scan-1 kept running through the reload.
            self.assertEqual(d.scan("PEN-2")["scanner"], "scan-1")

    def test_line_settings_are_applied_to_the_port(self):
        import termios
        d = self.d
        link3 = os.path.join(d.tmp.root, "usb-Acme_Scanner_7E2-if00")
        with dt.Pty(link3) as pty3:
            d.ctl("scanner", "add", "scan-3", "--station", "PACK-1", "--port", link3,
                  "--baud", "19200", "--bits", "7", "--parity", "E", "--stop", "2",
                  "--flow", "rtscts", "--suffix", "crlf")
            d.daemon.send_signal(signal.SIGHUP)
            dt.wait_until(lambda: next(x for x in d.devices()["scanners"]
                                       if x["name"] == "scan-3")["state"] == "online",
                          timeout=15, what="scan-3 online")
            # What libserialport set on the line, as the PTY's termios shows it (Linux
            # PTYs keep 8 bits and no parity whatever is asked) ...
            iflag, oflag, cflag, lflag, ispeed, ospeed, cc = termios.tcgetattr(pty3.master)
            self.assertEqual((ispeed, ospeed), (termios.B19200, termios.B19200))
            self.assertTrue(cflag & termios.CSTOPB)
            self.assertTrue(cflag & termios.CRTSCTS)  # see drivers/serial_port.c fix_rtscts
            # ... and what it asked for, as the PTY shim recorded it.
            pts = pty3.slave_name[len("/dev/"):]
            with open(d.termios_log) as f:
                asked = [ln.split(" ", 1)[1].strip() for ln in f if ln.startswith(pts + " ")]
            self.assertTrue(asked, "no tcsetattr on the scanner's PTY recorded")
            self.assertTrue(any(a.startswith("data=7 parity=E stop=2 ") for a in asked), asked)
            self.assertTrue(asked[-1].endswith(" stop=2 rtscts=1"), asked)
            self.assertNotIn("rtscts=1", "".join(
                ln for ln in open(d.termios_log) if ln.startswith(
                    d.pty.slave_name[len("/dev/"):] + " ")))  # scan-1 has no flow control
            self.assertEqual(next(x for x in d.devices()["scanners"] if x["name"] == "scan-3")
                             ["serial"], "19200,7,E,2,rtscts")
            pty3.write("PEN-2\r\n")
            ev = d.ws.recv_type("scan", timeout=10)["data"]
            self.assertEqual((ev["scanner"], ev["sku"]), ("scan-3", "PEN-2"))

    def test_scanner_moved_to_another_station_keeps_its_port(self):
        d = self.d
        d.ctl("station", "add", "PACK-2", "--printer", "zebra-2")
        self.assertEqual(d.scan("PEN-2")["station"], "PACK-1")
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
        try:
            conn.request("POST", "/api/v1/scanners/scan-1/station",
                         body=json.dumps({"station": "PACK-2"}),
                         headers={"Authorization": f"Bearer {d.token}",
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            self.assertEqual(r.status, 200, r.read())
            r.read()
        finally:
            conn.close()
        ev = d.device_event("online")
        self.assertEqual(ev["station"], "PACK-2")
        # The very next scan belongs to the new station, on the same open port.
        ev = d.scan("PEN-2")
        self.assertEqual((ev["station"], ev["scanner"], ev["sku"]), ("PACK-2", "scan-1", "PEN-2"))
        state = d.scanner_state()
        self.assertEqual((state["station"], state["state"], state["counters"]["reconnects"]),
                         ("PACK-2", "online", 0))
        # And back from the command line, applied on SIGHUP, still on the same port.
        d.ctl("scanner", "move", "scan-1", "--station", "PACK-1")
        d.daemon.send_signal(signal.SIGHUP)
        self.assertEqual(d.device_event("online")["station"], "PACK-1")
        self.assertEqual(d.scan("PEN-2")["station"], "PACK-1")
        self.assertEqual(d.scanner_state()["counters"]["reconnects"], 0)


class ScannerFirstAddedOnSighupTest(unittest.TestCase):
    """A depotd started with no scanner at all picks up the first one on SIGHUP."""

    def test_first_scanner_added_while_running(self):
        d = ScannerDepot()
        self.addCleanup(d.close)
        d.ctl("station", "add", "PACK-0")
        # scan-1 is disabled before the start: depotd begins with no scanner open.
        conn = d.tmp.connect()
        with conn:
            conn.execute("UPDATE scanners SET enabled = 0")
        conn.close()
        d.start()
        self.assertEqual(d.scanner_state()["state"], "disabled")
        d.ctl("scanner", "add", "scan-0", "--station", "PACK-0", "--port", d.link)
        d.daemon.send_signal(signal.SIGHUP)
        dt.wait_until(lambda: next(x for x in d.devices()["scanners"]
                                   if x["name"] == "scan-0")["state"] == "online",
                      timeout=15, what="scan-0 online")
        ev = d.scan("PEN-2")
        self.assertEqual((ev["scanner"], ev["station"], ev["sku"]), ("scan-0", "PACK-0", "PEN-2"))


class ScannerTimeoutFramingTest(unittest.TestCase):
    """A scanner that sends no suffix: a frame ends when the line goes quiet."""

    def test_inter_byte_gap_ends_the_frame(self):
        d = ScannerDepot(suffix="timeout:40")
        self.addCleanup(d.close)
        d.start()
        d.wait_online()
        d.pty.write("PEN-2")  # no suffix at all
        ev = d.ws.recv_type("scan", timeout=10)["data"]
        self.assertEqual((ev["kind"], ev["sku"], ev["raw"]), ("sku", "PEN-2", "PEN-2"))
        self.assertEqual(d.scan("]E0" + GTIN13, suffix="")["sku"], "MUG-1")


class ScannerSimulatorTest(unittest.TestCase):
    """depot-scan-sim publishes a PTY for depotd, and `depotctl scan` scans through it."""

    def test_depotctl_scan_through_the_simulator(self):
        d = ScannerDepot()
        self.addCleanup(d.close)
        d.pty.close()  # the simulator provides the port at the same path instead
        sim = subprocess.Popen([dt.bin_path("depot-scan-sim"), "--link", d.link],
                               stdout=subprocess.PIPE, text=True)
        try:
            self.assertTrue(sim.stdout.readline().startswith(f"ready {d.link} -> /dev/pts/"))
            d.start()
            d.wait_online()
            r = dt.run_depotctl("--data-dir", d.tmp.data_dir, "--json", "scan", "--station",
                                "PACK-1", "]C101" + GTIN14 + "10LOT7\\x1d17271231")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout)["scanner"], "scan-1")
            ev = d.ws.recv_type("scan", timeout=10)["data"]
            self.assertEqual((ev["kind"], ev["sku"], ev["symbology"]), ("sku", "MUG-1", "gs1-128"))
            self.assertEqual(ev["ais"][1:], [{"ai": "10", "value": "LOT7"},
                                             {"ai": "17", "value": "271231"}])
            r = dt.run_depotctl("--data-dir", d.tmp.data_dir, "scan", "--station", "NOPE", "X")
            self.assertEqual(r.returncode, 1)
            self.assertIn("no enabled scanner", r.stderr)
            # Stopping the simulator unplugs the scanner.
            sim.terminate()
            self.assertEqual(sim.wait(10), 0)
            d.device_event("unplugged")
            r = dt.run_depotctl("--data-dir", d.tmp.data_dir, "scan", "--station", "PACK-1", "X")
            self.assertEqual(r.returncode, 1)
            self.assertIn("no scanner simulator", r.stderr)
        finally:
            if sim.poll() is None:
                sim.kill()
                sim.wait()
            sim.stdout.close()


class ScannerCliTest(unittest.TestCase):
    def test_station_and_scanner_commands_validate_their_input(self):
        with dt.TempDataDir() as tmp:
            def ctl(*args):
                return dt.run_depotctl("--data-dir", tmp.data_dir, *args)
            self.assertEqual(ctl("init").returncode, 0)
            self.assertEqual(ctl("station", "add", "S1").returncode, 0)
            r = ctl("station", "add", "S1")
            self.assertEqual(r.returncode, 1)
            self.assertIn("already exists", r.stderr)
            r = ctl("scanner", "add", "x", "--station", "NOPE", "--port", "/dev/ttyUSB0")
            self.assertEqual(r.returncode, 1)
            self.assertIn("no station NOPE", r.stderr)
            for bad, reason in ((["--parity", "X"], "--parity"), (["--baud", "0"], "--baud"),
                                (["--suffix", "tab"], "--suffix"), (["--stop", "3"], "--stop"),
                                (["--flow", "dtr"], "--flow"), (["--prefix", "\x02"], "--prefix")):
                r = ctl("scanner", "add", "x", "--station", "S1", "--port", "/dev/ttyUSB0", *bad)
                self.assertEqual(r.returncode, 2, bad)
                self.assertIn(reason, r.stderr)
            r = ctl("scanner", "add", "x", "--station", "S1", "--port", "relative/path")
            self.assertEqual(r.returncode, 1)
            self.assertIn("absolute path", r.stderr)
            r = ctl("--json", "scanner", "add", "sc", "--station", "S1", "--port",
                    "/dev/serial/by-id/usb-X", "--baud", "19200", "--parity", "E", "--bits", "7",
                    "--stop", "2", "--flow", "rtscts", "--suffix", "timeout:40")
            self.assertEqual(r.returncode, 0, r.stderr)
            listed = json.loads(ctl("--json", "scanner", "list").stdout)
            self.assertEqual([(s["name"], s["serial"], s["suffix"]) for s in listed],
                             [("sc", "19200,7,E,2,rtscts", "timeout:40")])
            stations = json.loads(ctl("--json", "station", "list").stdout)
            self.assertEqual(stations[0]["scanners"], ["sc"])
            # Re-pairing from the command line.
            self.assertEqual(ctl("station", "add", "S2").returncode, 0)
            r = ctl("--json", "scanner", "move", "sc", "--station", "S2")
            self.assertEqual((r.returncode, json.loads(r.stdout)),
                             (0, {"scanner": "sc", "station": "S2"}), r.stderr)
            self.assertEqual(json.loads(ctl("--json", "scanner", "list").stdout)[0]["station"],
                             "S2")
            r = ctl("scanner", "move", "sc", "--station", "NOPE")
            self.assertEqual(r.returncode, 1)
            self.assertIn("no station named NOPE", r.stderr)
            r = ctl("scanner", "move", "sc")
            self.assertEqual(r.returncode, 2)
            self.assertIn("--station", r.stderr)
            self.assertEqual(ctl("verify").returncode, 0)


if __name__ == "__main__":
    unittest.main()
