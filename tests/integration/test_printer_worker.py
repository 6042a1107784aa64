"""Printing end to end over raw TCP: the real depotd's print worker sends queued labels
to the printer simulator (depot-printer-sim). The printer drops connections, runs out of
paper (also right after a label arrived) mid-queue, reports head open, ribbon out and
pause (each published as a device event while the queue waits), and depotd is stopped
with SIGTERM
and killed with SIGKILL mid-queue: every job must come out exactly once, in queue order,
none lost; a packed order's label must render (zpl-renderer-js) to a QR code zbarimg
decodes back. PrinterSim and PrintTestCase are shared with test_printer_pty.py and the
UI tests. The serial (PTY), device-file and CLI cases are in test_printer_pty.py."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

TIMEOUT_MS = 1000  # the printers' connect/write/status bound: keeps fault tests short


def renderer(test):
    """test_labels_render (zpl-renderer-js + zbarimg), or skips test saying why. Imported
    only here: importing it may run npm install, which other users of PrinterSim (the
    UI tests) should not pay for."""
    import test_labels_render as render
    if render.SKIP_REASON is not None:
        test.skipTest(render.SKIP_REASON)
    return render


class PrinterSim:
    """depot-printer-sim in the background, with a control socket; its stdout goes to a
    file (so it never blocks on a full pipe)."""

    def __init__(self, root, tcp=False, pty=None):
        self.labels_dir = os.path.join(root, "labels")
        os.makedirs(self.labels_dir, exist_ok=True)
        self.control = os.path.join(root, "sim.sock")
        self.log_path = os.path.join(root, "sim.log")
        args = [dt.bin_path("depot-printer-sim"), "--labels", self.labels_dir,
                "--control", self.control]
        if tcp:
            args += ["--tcp", "127.0.0.1:0"]
        if pty:
            args += ["--pty", pty]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dt.clean_env())
        text = dt.wait_until(lambda: self._ready(), timeout=dt.START_TIMEOUT,
                             what="the printer simulator to start")
        m = re.search(r"^tcp (\S+)$", text, re.M)
        self.address = m.group(1) if m else None

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"depot-printer-sim exited with {self.proc.returncode}")
        with open(self.log_path, encoding="utf-8") as f:
            text = f.read()
        return text if re.search(r"^ready$", text, re.M) else None

    def command(self, cmd):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.control)
            s.sendall(cmd.encode() + b"\n")
            reply = s.recv(256).decode()
        if not reply.startswith("ok "):
            raise AssertionError(f"simulator refused {cmd}: {reply}")
        return reply

    def labels(self):
        names = sorted(n for n in os.listdir(self.labels_dir) if n.endswith(".zpl"))
        out = []
        for n in names:
            with open(os.path.join(self.labels_dir, n), encoding="utf-8") as f:
                out.append(f.read())
        return out

    def codes(self):
        """The bin code of each stored label, in the order received."""
        return [re.search(r"BIN-\d+", z).group(0) for z in self.labels()]

    def wait_labels(self, n, timeout=30.0):
        return dt.wait_until(lambda: len(self.labels()) >= n and self.codes(),
                             timeout=timeout, what=f"{n} labels at the simulator")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=dt.STOP_TIMEOUT)
        self.log.close()


class PrintTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = dt.TempDataDir()
        self.addCleanup(self.tmp.cleanup)
        self.ctl("init")
        self.port = dt.free_port()
        self.daemon = None

    def ctl(self, *args, check=True):
        return dt.run_depotctl("--data-dir", self.tmp.data_dir, *args, check=check)

    def ctl_json(self, *args):
        return json.loads(self.ctl("--json", *args).stdout)

    def start_sim(self, **kw):
        sim = PrinterSim(self.tmp.root, **kw)
        self.addCleanup(sim.stop)
        return sim

    def start_depotd(self, env=None):
        self.daemon = dt.Depotd("--data-dir", self.tmp.data_dir, "--listen",
                                f"127.0.0.1:{self.port}", env=env).start()
        self.addCleanup(self._stop_depotd)
        return self.daemon

    def _stop_depotd(self):
        if self.daemon and self.daemon.proc.poll() is None:
            self.daemon.stop()

    def enqueue(self, printer, codes):
        """Queues a bin label per code; returns the job ids in order."""
        return [self.ctl_json("label", "bin", c, "--printer", printer)["job_id"]
                for c in codes]

    def jobs(self):
        """{job id: (status, last_error)}."""
        return {j["id"]: (j["status"], j["last_error"])
                for j in self.ctl_json("print", "list", "--limit", "1000")}

    def wait_all_done(self, ids, timeout=30.0):
        def done():
            j = self.jobs()
            return all(j[i][0] == "done" for i in ids) and j
        return dt.wait_until(done, timeout=timeout, what=f"jobs {ids} done")

    def wait_state(self, printer, state, since=0, timeout=20.0):
        return self.daemon.wait_for_log(timeout=timeout, since=since, module="print",
                                        printer=printer, state=state)

    def supervisor_events(self):
        """A supervisor's token and a WebSocket on /ws past its hello."""
        token = json.loads(self.ctl("--json", "token", "create", "ops", "--role",
                                    "supervisor").stdout)["token"]
        from test_web_server import WebSocket
        ws = WebSocket(self.port, {"Authorization": f"Bearer {token}"})
        self.addCleanup(ws.close)
        self.assertEqual(ws.recv()["type"], "hello")
        return token, ws

    @staticmethod
    def wait_device_state(ws, name, state, timeout=20):
        """The first device event that reports printer name in state."""
        while True:
            event = ws.recv_type("device", timeout=timeout)["data"]
            if event.get("name") == name and event["state"] == state:
                return event

    def api(self, method, path, token):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())


class TcpPrintingTest(PrintTestCase):
    def add_printer(self, sim):
        self.ctl("printer", "add", "dock1", "--backend", "tcp", "--address", sim.address,
                 "--stock", "2x1", "--timeout-ms", str(TIMEOUT_MS))

    def test_dropped_connections_mid_queue_print_every_job_once_in_order(self):
        sim = self.start_sim(tcp=True)
        self.add_printer(sim)
        self.start_depotd()
        codes = [f"BIN-{i:03d}" for i in range(1, 13)]
        ids = self.enqueue("dock1", codes[:4])
        self.wait_all_done(ids)
        mark = self.daemon.mark()
        sim.command("drop")  # switched off: connections reset, new ones refused
        ids += self.enqueue("dock1", codes[4:8])
        self.wait_state("dock1", "offline", since=mark)
        time.sleep(1.0)
        self.assertEqual(len(sim.labels()), 4, "nothing may print while the printer is off")
        jobs = self.jobs()
        self.assertEqual([jobs[i][0] for i in ids[4:]], ["queued"] * 4)
        sim.command("online")
        ids += self.enqueue("dock1", codes[8:])
        self.wait_all_done(ids)
        self.assertEqual(sim.codes(), codes, "each job exactly once, in queue order")

    def test_head_ribbon_pause_and_buffer_faults_are_published_and_hold_the_queue(self):
        sim = self.start_sim(tcp=True)
        self.add_printer(sim)
        self.start_depotd()
        _, ws = self.supervisor_events()
        printed = 0
        for n, (fault, state) in enumerate((("head-open", "head_open"),
                                            ("ribbon-out", "ribbon_out"),
                                            ("pause", "paused"),
                                            ("buffer-full", "buffer_full"))):
            with self.subTest(fault=fault):
                sim.command(fault)
                ids = self.enqueue("dock1", [f"BIN-90{n}"])
                # the ~HS flag reaches WebSocket clients as a device event
                self.wait_device_state(ws, "dock1", state)
                time.sleep(0.5)
                self.assertEqual(len(sim.labels()), printed)  # held while faulted
                sim.command("ok")
                self.wait_all_done(ids)
                printed += 1
                self.assertEqual(sim.codes()[-1], f"BIN-90{n}")
        self.assertEqual(len(sim.labels()), 4)

    def test_paper_out_keeps_jobs_queued_and_shows_the_state(self):
        sim = self.start_sim(tcp=True)
        self.add_printer(sim)
        self.start_depotd()
        token, ws = self.supervisor_events()
        codes = [f"BIN-{i:03d}" for i in range(1, 9)]
        ids = self.enqueue("dock1", codes[:2])
        self.wait_all_done(ids)
        mark = self.daemon.mark()
        sim.command("paper-out")
        ids += self.enqueue("dock1", codes[2:6])
        self.wait_state("dock1", "paper_out", since=mark)
        # the live state reaches WebSocket clients as a device event
        event = self.wait_device_state(ws, "dock1", "paper_out")
        self.assertEqual(event["kind"], "printer")
        time.sleep(0.5)
        self.assertEqual(len(sim.labels()), 2)
        status, doc = self.api("GET", "/api/v1/printers", token)
        self.assertEqual(status, 200)
        (p,) = doc["items"]
        self.assertEqual((p["name"], p["state"], p["queued"]), ("dock1", "paper_out", 4))
        status, devices = self.api("GET", "/api/v1/devices", token)
        self.assertEqual(status, 200)
        self.assertEqual([(d["name"], d["state"]) for d in devices["printers"]],
                         [("dock1", "paper_out")])
        # A queued job can be cancelled while the printer is out of paper.
        status, doc = self.api("POST", f"/api/v1/print-jobs/{ids[5]}/cancel", token)
        self.assertEqual((status, doc["status"]), (200, "cancelled"))
        sim.command("ok")
        self.wait_all_done(ids[:5])
        self.assertEqual(sim.codes(), codes[:5])
        self.assertEqual(self.jobs()[ids[5]][0], "cancelled")
        # Reprint is explicit: a new job, printed once more, after the others.
        status, doc = self.api("POST", f"/api/v1/print-jobs/{ids[0]}/reprint", token)
        self.assertEqual(status, 201)
        self.wait_all_done([doc["job_id"]])
        self.assertEqual(sim.codes(), codes[:5] + [codes[0]])
        status, doc = self.api("GET", "/api/v1/print-jobs?printer=dock1&limit=3", token)
        self.assertEqual((status, len(doc["items"])), (200, 3))
        status, doc = self.api("POST", "/api/v1/print-jobs/999999/cancel", token)
        self.assertEqual((status, doc["error"]["code"]), (404, "not_found"))
        # A test label through the API.
        status, doc = self.api("POST", "/api/v1/printers/dock1/test", token)
        self.assertEqual(status, 201)
        self.wait_all_done([doc["job_id"]])
        self.assertIn("PRINTER-TEST:dock1", sim.labels()[-1])

    def test_roll_running_out_right_after_a_label_holds_it_without_resending(self):
        sim = self.start_sim(tcp=True)
        self.add_printer(sim)
        self.start_depotd()
        sim.command("roll 3")  # paper runs out as the 3rd label comes out
        codes = [f"BIN-{i:03d}" for i in range(1, 7)]
        mark = self.daemon.mark()
        ids = self.enqueue("dock1", codes)
        self.wait_state("dock1", "paper_out", since=mark)
        time.sleep(0.5)
        jobs = self.jobs()
        # The 3rd label reached the printer: held (not resent), the rest still queued.
        self.assertEqual([jobs[i][0] for i in ids],
                         ["done", "done", "sending", "queued", "queued", "queued"])
        self.assertEqual(sim.codes(), codes[:3])
        sim.command("ok")
        self.wait_all_done(ids)
        self.assertEqual(sim.codes(), codes, "each job exactly once, in queue order")

    def test_sigterm_mid_queue_finishes_the_job_in_hand_and_resumes_after_restart(self):
        sim = self.start_sim(tcp=True)
        self.add_printer(sim)
        codes = [f"BIN-{i:03d}" for i in range(1, 21)]
        ids = self.enqueue("dock1", codes)
        self.start_depotd()
        sim.wait_labels(3)
        self.daemon.stop()  # SIGTERM; fails unless depotd exits 0 (sanitizers included)
        jobs = self.jobs()
        self.assertNotIn("sending", [s for s, _ in jobs.values()], "no job left half-sent")
        self.assertEqual(sum(s == "done" for s, _ in jobs.values()), len(sim.labels()))
        self.start_depotd()
        self.wait_all_done(ids)
        self.assertEqual(sim.codes(), codes, "each job exactly once, in queue order")

    def test_kill_9_mid_queue_prints_nothing_twice_and_loses_nothing(self):
        sim = self.start_sim(tcp=True)
        self.add_printer(sim)
        codes = [f"BIN-{i:03d}" for i in range(1, 31)]
        ids = self.enqueue("dock1", codes)
        self.start_depotd()
        sim.wait_labels(5)
        self.daemon.proc.send_signal(signal.SIGKILL)
        self.daemon.wait()
        self.start_depotd()
        def settled():
            j = self.jobs()
            return all(j[i][0] in ("done", "failed") for i in ids) and j
        jobs = dt.wait_until(settled, timeout=60, what="every job done or failed")
        received = sim.codes()
        self.assertEqual(len(received), len(set(received)), f"printed twice: {received}")
        for job_id, code in zip(ids, codes):
            status, error = jobs[job_id]
            if status == "done":
                self.assertIn(code, received)
            else:  # cut off while sending: shown for a person, never resent by itself
                self.assertEqual(error, "interrupted by a depotd restart while sending; it "
                                        "may have printed: reprint it if not")
        self.assertEqual(received, [c for c in codes if c in received], "queue order")
        # Nothing lost: every job not printed is failed and visible, and prints on reprint.
        missing = [i for i, c in zip(ids, codes) if c not in received]
        for i in missing:
            self.assertEqual(jobs[i][0], "failed")
            self.ctl("print", "reprint", str(i))
        dt.wait_until(lambda: len(sim.labels()) == len(codes), timeout=30,
                      what="reprinted jobs")
        self.assertEqual(sorted(sim.codes()), codes)


    def test_packed_order_label_prints_and_its_qr_finds_the_order(self):
        render = renderer(self)
        sim = self.start_sim(tcp=True)
        self.ctl("printer", "add", "dock1", "--backend", "tcp", "--address", sim.address,
                 "--timeout-ms", str(TIMEOUT_MS))
        self.ctl("stock", "import", os.path.join(dt.SOURCE_DIR, "packaging", "demo",
                                                 "stock.csv"))
        order = self.ctl_json("order", "create", "--external-id", "E-77", "--number", "77",
                              "--line", "COF-DEC-250:1")
        self.start_depotd()
        token = self.ctl_json("token", "create", "packer", "--role", "packer")["token"]
        body = json.dumps({"scanned": {"COF-DEC-250": 1}, "printer": "dock1"}).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/orders/{order['id']}/pack", data=body,
            method="POST", headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            job = json.loads(r.read())["print_job"]
        self.wait_all_done([job])
        (zpl,) = sim.labels()
        self.assertIn(("QR-Code", f"ORDER-{order['id']}"),
                      [s[:2] for s in render.decode(zpl, "4x6", "203")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
