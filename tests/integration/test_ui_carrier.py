"""Packing with a carrier in real Chromium (tests/ui/carrier.mjs) against the real depotd,
the fake carriers (tests/integration/fake_carriers.py) and the printer simulator: the
packer picks FedEx on the PACK form, the order ships at once with a FedEx shipment, the
carrier worker gets the label, the page shows its tracking number live, and the label
comes out of the station's printer once, plus once more for Reprint (the carrier's label
again, not our own address label); a supervisor's Void reaches FedEx first, then the
shipment is voided and the order is reserved again."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402
import fake_carriers as fc  # noqa: E402
import ui_testlib as ut  # noqa: E402
from test_carriers_labels import SHIPPER, SHIP_TO  # noqa: E402

SKIP = ut.browser_missing()


@unittest.skipIf(SKIP is not None, SKIP or "")
class CarrierPackTest(unittest.TestCase):
    def test_pack_with_a_carrier_label(self):
        fake = fc.FakeCarriers().__enter__()
        self.addCleanup(fake.__exit__, None, None, None)
        srv = ut.UiServer(printer_sim=True)
        self.addCleanup(srv.stop)
        srv.ctl("carrier", "add", "fedex", "--client-id", fc.CLIENT_ID, "--client-secret", "-",
                "--account", "740561073", "--api-base", fake.base, "--config",
                json.dumps({"shipper": SHIPPER}), input=fc.CLIENT_SECRET + "\n")
        oid = srv.order_create("shop-3001", "#3001", "COF-ESP-250:1", ship_to=SHIP_TO)
        out = ut.run_script("carrier", srv, ORDER_NUMBER="#3001", SKU="COF-ESP-250")

        shipments = srv.query("SELECT id, carrier, tracking_number FROM shipments"
                              " WHERE order_id = ?", oid)
        self.assertEqual(shipments, [(out["shipment"], "fedex", out["tracking"])])
        # The carrier's label, then its reprint: both the carrier's ZPL, nothing else.
        dt.wait_until(lambda: len(srv.sim.labels()) == 2, timeout=30, what="the labels printed")
        time.sleep(0.5)
        labels = srv.sim.labels()
        self.assertEqual(len(labels), 2)
        self.assertTrue(all("FAKE LABEL" in z for z in labels), labels)
        payloads = srv.query("SELECT payload FROM print_jobs WHERE printer = 'ZEBRA-1'"
                             " ORDER BY id")
        self.assertEqual(len(payloads), 2)
        self.assertEqual(bytes(payloads[0][0]), bytes(payloads[1][0]))
        # The supervisor's void reached FedEx, then the shipment was voided and the goods
        # went back reserved for the order, to be packed again.
        dt.wait_until(lambda: srv.query("SELECT status FROM shipments WHERE id = ?",
                                        out["shipment"]) == [("voided",)],
                      timeout=30, what="the shipment voided")
        self.assertEqual(fake.cancelled, [out["tracking"]])
        self.assertEqual(srv.query("SELECT status FROM orders WHERE id = ?", oid),
                         [("reserved",)])
        dt.run_depotctl("--data-dir", srv.tmp.data_dir, "verify", check=True)


if __name__ == "__main__":
    unittest.main()
