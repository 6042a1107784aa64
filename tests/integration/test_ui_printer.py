"""Paper out at the packing station, in real Chromium against the real depotd and the
printer simulator (depot-printer-sim over TCP; tests/ui/printer.mjs): the order ships,
the station shows "paper out" live from the device events, and after the paper is back
the printer shows ready and the label has printed exactly once."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402
import ui_testlib as ut  # noqa: E402

SKIP = ut.browser_missing()


@unittest.skipIf(SKIP is not None, SKIP or "")
class PackPrinterTest(unittest.TestCase):
    def test_paper_out_is_shown_and_the_label_prints_once_after(self):
        srv = ut.UiServer(printer_sim=True)
        self.addCleanup(srv.stop)
        oid = srv.order_create("shop-3003", "#3003", "COF-DEC-250:1")
        out = ut.run_script("printer", srv, ORDER_NUMBER="#3003", SKU="COF-DEC-250")
        dt.wait_until(lambda: srv.query("SELECT status FROM print_jobs WHERE id = ?",
                                        out["job"])[0][0] == "done",
                      timeout=20, what="the label printed")
        time.sleep(0.5)
        labels = srv.sim.labels()
        self.assertEqual(len(labels), 1, "the label prints exactly once")
        self.assertIn(f"ORDER-{oid}", labels[0])
        self.assertEqual(srv.query("SELECT status FROM orders WHERE id = ?", oid)[0][0],
                         "shipped")


if __name__ == "__main__":
    unittest.main()
