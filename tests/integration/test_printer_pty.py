"""Printing over a pseudo-terminal through libserialport (the product's serial path,
with the test-only PTY shim) and to a device file: the real depotd's print worker and
the printer simulator (depot-printer-sim). The printer stops answering mid-queue and
every job still comes out exactly once, in order; labels received over the PTY render
(zpl-renderer-js) to barcodes zbarimg decodes back. Also `depotctl printer` input
checks."""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402
from test_printer_worker import TIMEOUT_MS, PrintTestCase, renderer  # noqa: E402


class SerialPrintingTest(PrintTestCase):
    def test_pty_printer_goes_silent_mid_queue_and_every_job_prints_once(self):
        link = os.path.join(self.tmp.root, "zebra-serial")
        sim = self.start_sim(pty=link)
        self.ctl("printer", "add", "pack2", "--backend", "serial", "--address", link,
                 "--serial", "115200,8,N,1,none", "--stock", "2x1",
                 "--timeout-ms", str(TIMEOUT_MS))
        self.start_depotd(env=dt.pty_shim_env("depotd"))
        codes = [f"BIN-{i:03d}" for i in range(1, 11)]
        ids = self.enqueue("pack2", codes[:3])
        self.wait_all_done(ids)
        mark = self.daemon.mark()
        sim.command("offline")  # stops reading and answering: a hung printer
        ids += self.enqueue("pack2", codes[3:7])
        self.wait_state("pack2", "no_reply", since=mark)
        time.sleep(1.0)
        self.assertLessEqual(len(sim.labels()), 3)
        sim.command("online")
        ids += self.enqueue("pack2", codes[7:])
        self.wait_all_done(ids)
        self.assertEqual(sim.codes(), codes, "each job exactly once, in queue order")

    def test_unplugged_mid_queue_reconnects_and_every_job_prints_once(self):
        link = os.path.join(self.tmp.root, "usb-Zebra_ZD421-if00")
        sim = self.start_sim(pty=link)
        self.ctl("printer", "add", "pack3", "--backend", "serial", "--address", link,
                 "--stock", "2x1", "--timeout-ms", str(TIMEOUT_MS))
        self.start_depotd(env=dt.pty_shim_env("depotd"))
        codes = [f"BIN-{i:03d}" for i in range(1, 9)]
        ids = self.enqueue("pack3", codes[:3])
        self.wait_all_done(ids)
        mark = self.daemon.mark()
        sim.command("drop")  # the USB cable pulled: the PTY and its link vanish
        ids += self.enqueue("pack3", codes[3:6])
        # The write fails (EIO), then reopening finds no device at the link.
        self.daemon.wait_for_log(since=mark, module="print", printer="pack3", state="offline",
                                 msg=re.compile(r"usb-Zebra_ZD421-if00"), timeout=20)
        self.assertEqual([s for s, _ in map(self.jobs().get, ids[3:])], ["queued"] * 3)
        sim.command("online")  # plugged back in: a new PTY at the same link
        ids += self.enqueue("pack3", codes[6:])
        self.wait_all_done(ids)
        self.assertEqual(sim.codes(), codes, "each job exactly once, in queue order")

    def test_labels_received_over_the_pty_render_and_decode(self):
        render = renderer(self)
        link = os.path.join(self.tmp.root, "zebra-serial")
        sim = self.start_sim(pty=link)
        self.ctl("printer", "add", "pack2", "--backend", "serial", "--address", link,
                 "--stock", "2x1", "--timeout-ms", str(TIMEOUT_MS))
        self.start_depotd(env=dt.pty_shim_env("depotd"))
        ids = self.enqueue("pack2", ["BIN-042"])
        ids.append(self.ctl_json("label", "sscc", "106141411234567897", "--printer",
                                 "pack2")["job_id"])
        self.wait_all_done(ids)
        bin_zpl, sscc_zpl = sim.labels()
        self.assertIn(("CODE-128", "BIN-042"), [s[:2] for s in render.decode(bin_zpl, "2x1",
                                                                              "203")])
        symbols = render.decode(sscc_zpl, "4x6", "203")
        self.assertIn(("CODE-128", "00106141411234567897"), [s[:2] for s in symbols])


class FilePrintingTest(PrintTestCase):
    def test_device_file_gets_every_label_in_order(self):
        device = os.path.join(self.tmp.root, "lp0")
        open(device, "w").close()
        self.ctl("printer", "add", "lp", "--backend", "file", "--address", device)
        self.start_depotd()
        codes = ["BIN-001", "BIN-002", "BIN-003"]
        ids = self.enqueue("lp", codes)
        ids.append(self.ctl_json("printer", "test", "lp")["job_id"])
        self.wait_all_done(ids)
        with open(device, encoding="utf-8") as f:
            data = f.read()
        labels = [z for z in data.split("^XZ") if z.strip()]
        self.assertEqual(len(labels), 4)
        self.assertEqual([re.search(r"BIN-\d+", z).group(0) for z in labels[:3]], codes)
        self.assertIn("PRINTER-TEST:lp", data)


class PrinterCliTest(PrintTestCase):
    def test_add_list_and_bad_input(self):
        self.ctl("printer", "add", "dock1", "--backend", "tcp", "--address", "10.0.0.9:9100")
        self.ctl("printer", "add", "dock1", "--backend", "tcp", "--address", "10.0.0.9:9101",
                 "--dpi", "300", "--disabled")
        (p,) = self.ctl_json("printer", "list")
        self.assertEqual((p["address"], p["dpi"], p["enabled"], p["queued"]),
                         ("10.0.0.9:9101", 300, False, 0))
        for args, why in [
            (["--backend", "tcp", "--address", "10.0.0.9"], "HOST:PORT"),
            (["--backend", "tcp", "--address", "h:70000"], "HOST:PORT"),
            (["--backend", "serial", "--address", "ttyUSB0"], "absolute path"),
            (["--backend", "serial", "--address", "/dev/ttyUSB0", "--serial", "9600,9"],
             "--serial"),
            (["--backend", "usb", "--address", "/dev/usb/lp0"], "--backend"),
            (["--backend", "file", "--address", "/dev/usb/lp0", "--dpi", "600"], "--dpi"),
        ]:
            r = self.ctl("printer", "add", "x", *args, check=False)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(why, r.stderr)
        r = self.ctl("printer", "add", "bad name", "--backend", "file", "--address", "/x",
                     check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("printer name", r.stderr)
        r = self.ctl("printer", "test", "nosuch", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no printer named nosuch", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
