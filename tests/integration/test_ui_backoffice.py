"""The back-office screens in real Chromium against the real depotd
(tests/ui/backoffice.mjs): search by name, GTIN and bin; an adjustment with its reason
reaches the ledger, a CSV upload with errors lists them per row and imports nothing, an
order's reservations and events are shown and it is released, another is cancelled from
its details; a supervisor voids a label on the packing screen; a return is received by
scanning with a disposition per unit; SKU and bin labels and a test print are queued on a
printer, a dead letter shown with its error is retried from the Sync screen (audited as
outbox.retry), a supervisor cannot open the admin screen, an admin creates a token that
works as a bearer token and moves a scanner to another station; every screen leaves a
screenshot under the build dir."""

import http.client
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402
import ui_testlib as ut  # noqa: E402

SKIP = ut.browser_missing()

CSV_BAD = ("sku,name,gtin,location,on_hand\n"
           "NEW-1,Fine row,,WH-MAIN,5\n"
           "NEW-2,Bad check digit,4006381333932,WH-MAIN,1\n"
           "NEW-3,Also fine,,WH-MAIN,2\n"
           "NEW-4,Negative,,WH-MAIN,-3\n")
DEAD_ERROR = "HTTP 422 from shop: inventory item not stocked at location"


@unittest.skipIf(SKIP is not None, SKIP or "")
class BackOfficeTest(unittest.TestCase):
    def setUp(self):
        self.srv = ut.UiServer()
        self.addCleanup(self.srv.stop)

    def dead_letter(self):
        """An outbox row the sync worker gave up on: the state the screen must show."""
        now = int(time.time())
        conn = self.srv.tmp.connect()
        with conn:
            cur = conn.execute(
                "INSERT INTO outbox (idempotency_key, target, target_id, topic, aggregate,"
                " payload, status, attempts, next_attempt_at, last_error, created_at,"
                " updated_at) VALUES ('test-dead-1', 'channel', 999, 'inventory.set',"
                " 'sku:1', '{}', 'dead', 8, ?1, ?2, ?1, ?1)", (now, DEAD_ERROR))
            rid = cur.lastrowid
        conn.close()
        return rid

    def on_hand(self, sku, location):
        return self.srv.query("SELECT coalesce(sum(s.on_hand), 0) FROM stock s JOIN skus k"
                              " ON k.id = s.sku_id JOIN locations l ON l.id = s.location_id"
                              " WHERE k.code = ? AND l.code = ?", sku, location)[0][0]

    def shipped_order(self, external_id, number, sku, n):
        """An order of n units of sku packed and shipped through the API."""
        oid = self.srv.order_create(external_id, number, f"{sku}:{n}")
        token = self.srv.ctl("token", "create", f"packer-{external_id}",
                             "--role", "packer")["token"]
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        try:
            conn.request("POST", f"/api/v1/orders/{oid}/pack",
                         body=json.dumps({"scanned": {sku: n}, "printer": "DOCK-1"}),
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            self.assertEqual(r.status, 201, r.read())
            r.read()
        finally:
            conn.close()
        return oid

    def test_back_office_screens(self):
        srv = self.srv
        srv.ctl("printer", "add", "SHELF-1", "--backend", "file", "--address",
                 os.path.join(srv.tmp.root, "shelf-printer.zpl"), "--stock", "2x1")
        srv.ctl("printer", "add", "DOCK-1", "--backend", "file", "--address",
                 os.path.join(srv.tmp.root, "dock-printer.zpl"))
        srv.ctl("station", "add", "PACK-1", "--printer", "DOCK-1")
        srv.ctl("station", "add", "PACK-2")
        srv.ctl("scanner", "add", "scan-7", "--station", "PACK-1", "--port",
                "/dev/serial/by-id/usb-absent-scanner-if00")
        skus_before = srv.query("SELECT count(*) FROM skus")[0][0]
        srv.ctl("channel", "add", "shopify", "--shop", "bo-shop.myshopify.com", "--token",
                "shpat_bo", "--webhook-secret", "whsec_bo", "--api-base", "http://127.0.0.1:9")
        oid = srv.order_create("shop-2002", "#2002", "COF-DEC-250:1")
        conn = srv.tmp.connect()
        with conn:  # #2002 came from the channel
            conn.execute("UPDATE orders SET channel_id = 1 WHERE id = ?", (oid,))
        conn.close()
        reserved = srv.order_create("shop-2005", "#2005", "TEA-SEN-100:2")
        srv.ctl("order", "reserve", str(reserved))
        to_void = srv.order_create("shop-2006", "#2006", "COF-ETH-250:1")
        returned = self.shipped_order("shop-2007", "#2007", "COF-GUA-250", 2)
        gua_before = self.on_hand("COF-GUA-250", "WH-MAIN")
        dead = self.dead_letter()
        out = ut.run_script("backoffice", srv, CSV_BAD=CSV_BAD, DEAD_ID=dead,
                            DEAD_ERROR=DEAD_ERROR, CANCEL_NUMBER="#2002",
                            RESERVED_NUMBER="#2005", VOID_NUMBER="#2006",
                            RETURN_NUMBER="#2007", timeout=120)

        # Released from the Orders screen; voided from the packing screen; the return
        # booked per unit; the scanner moved by the admin.
        self.assertEqual(srv.query("SELECT status FROM orders WHERE id = ?", reserved)[0][0],
                         "open")
        self.assertEqual(srv.query("SELECT s.status, s.carrier FROM shipments s WHERE"
                                   " s.order_id = ? ORDER BY s.id", to_void),
                         [("voided", "manual"), ("shipped", "manual")])
        self.assertEqual(srv.query("SELECT status FROM orders WHERE id = ?", to_void),
                         [("shipped",)])
        self.assertEqual(srv.query("SELECT actor FROM audit WHERE action = 'shipment.voided'"),
                         [("user:sue",)])
        self.assertEqual(srv.query("SELECT l.code, r.disposition, r.quantity, r.actor FROM"
                                   " returns r JOIN locations l ON l.id = r.location_id"
                                   " WHERE r.order_id = ? ORDER BY r.id", returned),
                         [("WH-MAIN", "restock", 1, "user:sue"),
                          ("QUARANTINE", "damaged", 1, "user:sue")])
        self.assertEqual(self.on_hand("COF-GUA-250", "WH-MAIN"), gua_before + 1)
        self.assertEqual(srv.query("SELECT t.name FROM scanners c JOIN stations t ON"
                                   " t.id = c.station_id WHERE c.name = 'scan-7'"),
                         [("PACK-2",)])
        self.assertEqual(srv.query("SELECT actor FROM audit WHERE action = 'scanner.pair'"),
                         [("user:ada",)])
        # Every screen left its screenshot (not committed; under the build dir).
        for name in ("login", "inventory-adjusted", "inventory-csv-errors", "orders-details",
                     "orders-cancelled", "pack-voided", "returns-scanned", "returns-received",
                     "sync-dead-letter", "users-tokens", "audit", "devices"):
            self.assertTrue(os.path.getsize(os.path.join(ut.ARTIFACTS, name + ".png")) > 0,
                            name)

        # The CSV errors as the screen listed them: rows 3 and 5, with their columns.
        by_row = {int(r[0]): r[1] for r in out["csvErrors"]}
        self.assertEqual(sorted(by_row), [3, 5], out["csvErrors"])
        self.assertEqual(by_row[3], "gtin")
        self.assertEqual(by_row[5], "on_hand")
        self.assertEqual(srv.query("SELECT count(*) FROM skus")[0][0], skus_before)

        ledger = srv.query("SELECT c.code, l.delta, l.reason, l.actor FROM ledger l"
                           " JOIN skus k ON k.id = l.sku_id JOIN locations c"
                           " ON c.id = l.location_id WHERE k.code = 'COF-ESP-1K'"
                           " AND l.kind = 'adjust'")
        self.assertEqual(ledger, [("WH-MAIN", -3, "damaged in aisle 4", "user:sue")])
        self.assertEqual(srv.query("SELECT status FROM orders WHERE id = ?", oid)[0][0],
                         "cancelled")
        retried = srv.query("SELECT actor, entity FROM audit WHERE action = 'outbox.retry'")
        self.assertEqual(retried, [("user:sue", f"outbox:{dead}")])

        labels = [bytes(p).decode() for p, in
                  srv.query("SELECT payload FROM print_jobs WHERE printer = 'SHELF-1' ORDER BY id")]
        self.assertEqual(len(labels), 3)
        self.assertIn("PRINTER-TEST:SHELF-1", labels[2])  # the Devices screen's test print
        self.assertIn("COF-ESP-1K", labels[0])
        self.assertIn("2006100000184", labels[0])  # its GTIN
        self.assertIn("A-01-2", labels[1])
        self.assertTrue(all(z.startswith("^XA") for z in labels))

        # The user the admin added logs in with the password, and the badge is theirs.
        self.assertEqual(srv.query("SELECT role FROM users WHERE name = 'pam'"), [("packer",)])
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        for body in ({"name": "pam", "password": "pam-pass-123"}, {"badge": out["badge"]}):
            conn.request("POST", "/api/v1/login", body=json.dumps(body),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            doc = json.loads(r.read())
            self.assertEqual((r.status, doc.get("user"), doc.get("role")), (200, "pam", "packer"),
                             doc)
        conn.close()

        # The token the admin created in the browser is real: it authenticates.
        token = srv.query("SELECT name, role FROM api_tokens WHERE name = 'label-bot'")
        self.assertEqual(token, [("label-bot", "packer")])
        dt.run_depotctl("--data-dir", srv.tmp.data_dir, "verify", check=True)


if __name__ == "__main__":
    unittest.main()
