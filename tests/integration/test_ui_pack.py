"""The packing station in real Chromium against the real depotd: the whole pack flow
(tests/ui/pack.mjs) by keyboard-wedge scans after a password login, and by the serial
scanner on a PTY (scans over the WebSocket) after a badge login; then the outcome
checked in the database: the order shipped with a manual shipment, stock and
reservations moved, the channel's fulfillment in the outbox, the label queued once on the station's printer (and once more for
the reprint), the pack audited with weight and box, and `depotctl verify` still clean.
Wrong item, extra unit and unknown code must leave the order untouched, which the script
checks on screen and this test checks in the store (nothing shipped before PACK)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402
import ui_testlib as ut  # noqa: E402

SKIP = ut.browser_missing()


@unittest.skipIf(SKIP is not None, SKIP or "")
class PackStationTest(unittest.TestCase):
    def on_hand(self, sku):
        return self.srv.query("SELECT sum(on_hand) FROM stock s JOIN skus k ON k.id = s.sku_id"
                              " WHERE k.code = ?", sku)[0][0]

    def check_packed(self, srv, oid, out, stock_before):
        """The store after the flow: shipped once, stock moved, one label plus the reprint
        on ZEBRA-1, the pack audited with weight and box, verify clean."""
        status, = srv.query("SELECT status FROM orders WHERE id = ?", oid)[0]
        self.assertEqual(status, "shipped")
        shipments = srv.query("SELECT id, carrier, status FROM shipments WHERE order_id = ?", oid)
        self.assertEqual(len(shipments), 1)
        self.assertEqual(shipments[0][1:], ("manual", "shipped"))
        self.assertEqual(self.on_hand("COF-ESP-250"), stock_before[0] - 2)
        self.assertEqual(self.on_hand("COF-HOU-250"), stock_before[1] - 1)
        self.assertEqual(self.on_hand("COF-DEC-250"), 36)  # the wrong item moved nothing

        jobs = srv.query("SELECT id, printer, payload FROM print_jobs ORDER BY id")
        self.assertEqual([j[0] for j in jobs], [out["job"], out["reprintJob"]])
        for _, printer, payload in jobs:
            zpl = bytes(payload).decode()
            self.assertEqual(printer, "ZEBRA-1")
            self.assertTrue(zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ"), zpl)
            self.assertIn(f"ORDER-{oid}", zpl)
            self.assertIn("Madrid", zpl)
        self.assertEqual(bytes(jobs[0][2]), bytes(jobs[1][2]))  # the reprint is the same label

        # The channel learns of it: the fulfillment is in the outbox, written with the ship.
        sid = shipments[0][0]
        fulfillment = srv.query("SELECT target, target_id, topic FROM outbox WHERE"
                                " idempotency_key = ?", f"fulfillment:{oid}:{sid}")
        self.assertEqual(fulfillment, [("channel", 1, "fulfillment.create")])

        audit = srv.query("SELECT actor, detail FROM audit WHERE action = 'order.pack'")
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit[0][0], "user:pat")
        self.assertIn('"weight_g":1250', audit[0][1])
        self.assertIn('"box":"M"', audit[0][1])
        self.assertIn('"station":"PACK-1"', audit[0][1])
        dt.run_depotctl("--data-dir", srv.tmp.data_dir, "verify", check=True)

    def pack_flow(self, srv, **env):
        # The order belongs to a Shopify channel (its API unreachable: nothing is sent).
        srv.ctl("channel", "add", "shopify", "--shop", "ui-test.myshopify.com", "--token",
                "shpat_ui", "--webhook-secret", "whsec_ui", "--api-base", "http://127.0.0.1:9")
        oid = srv.order_create("shop-1001", "#1001", "COF-ESP-250:2", "COF-HOU-250:1",
                               ship_to={"name": "Ana Ruiz", "address1": "Calle Mayor 1",
                                        "city": "Madrid", "zip": "28013", "country": "ES"})
        conn = srv.tmp.connect()
        with conn:
            conn.execute("UPDATE orders SET channel_id = 1 WHERE id = ?", (oid,))
        conn.close()
        before = (self.on_hand("COF-ESP-250"), self.on_hand("COF-HOU-250"))
        out = ut.run_script("pack", srv, ORDER_NUMBER="#1001", GOOD_GTIN="2006100000115",
                            GOOD_SKU="COF-ESP-250", OTHER_SKU="COF-HOU-250",
                            WRONG_SKU="COF-DEC-250", PRINTER="ZEBRA-1", **env)
        self.check_packed(srv, oid, out, before)

    def test_pack_flow_by_keyboard_wedge(self):
        self.srv = ut.UiServer()
        self.addCleanup(self.srv.stop)
        self.pack_flow(self.srv, SCAN_SOURCE="keyboard")

    def test_pack_flow_by_serial_scanner_after_badge_login(self):
        self.srv = ut.UiServer(serial_scanner=True)
        self.addCleanup(self.srv.stop)
        badge = self.srv.issue_badge("pat")
        self.pack_flow(self.srv, SCAN_SOURCE="serial", BADGE=badge)


if __name__ == "__main__":
    unittest.main()
