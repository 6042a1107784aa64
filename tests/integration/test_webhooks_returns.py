"""Refunds with returned units create returns with their disposition -- sellable back
through the ledger, damaged to quarantine with an alert, unsellable written off -- once
per refund line however often it is delivered; inventory webhooks that echo our own push
are ignored, a genuine external change becomes a ledger adjustment with reason
"channel"; a fulfillment made elsewhere for an order still held here raises an alert;
malformed payloads and wrong types are dead letters with clear errors, and replaying
them (CLI and API) is idempotent."""

import json
import os
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webhook_helpers as wh  # noqa: E402


def refund_body(refund_id, order_id, line_name, qty, note, restock_type="return"):
    r = wh.fixture("shopify", "refunds_create.json")
    r["id"] = refund_id
    r["admin_graphql_api_id"] = f"gid://shopify/Refund/{refund_id}"
    r["order_id"] = order_id
    r["note"] = note
    rli = r["refund_line_items"][0]
    rli["id"] = refund_id * 10
    rli["quantity"] = qty
    rli["restock_type"] = restock_type
    rli["line_item"]["admin_graphql_api_id"] = \
        f"gid://shopify/LineItem/{wh.line_id_num(line_name)}"
    return json.dumps(r).encode()


class WebhookReturnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.depot = wh.Depot(stock=(("SKU-A", 20), ("SKU-B", 5)), inbox_max_attempts=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.depot.close()

    def setUp(self):
        self.d = self.depot

    def tearDown(self):
        self.d.ctl("verify")

    def shipped_order(self, order_id, qty):
        self.d.shopify(wh.order_body(order_id=order_id, lines=(("R1", "SKU-A", qty),)))
        self.d.settled()
        order = self.d.order(self.d.shop_id, order_id)
        self.assertEqual(order["status"], "reserved")
        self.d.ctl("order", "ship", order["id"], "--carrier", "manual")
        return order["id"]

    def test_refund_dispositions(self):
        d = self.d
        cases = [("Customer changed their mind", "restock", 1, 8001),
                 ("Things were damaged", "damaged", 0, 8002),
                 ("unsellable: opened hygiene item", "discard", 0, 8003)]
        for note, disposition, ledger_back, order_id in cases:
            with self.subTest(disposition=disposition):
                oid = self.shipped_order(order_id, 2)
                on_hand = d.stock("SKU-A")["on_hand"]
                body = refund_body(order_id * 7, order_id, "R1", 1, note)
                for _ in range(3):  # redelivered: still one return
                    self.assertEqual(d.shopify(body, "refunds/create")[0], 200)
                d.shopify(body, "refunds/create", webhook_id="fixed-" + str(order_id))
                d.settled()
                rows = d.query("SELECT disposition, quantity, l.code FROM returns r"
                               " JOIN locations l ON l.id = r.location_id WHERE order_id = ?",
                               oid)
                self.assertEqual(len(rows), 1)
                self.assertEqual(rows[0][:2], (disposition, 1))
                self.assertEqual(rows[0][2], "QUARANTINE" if disposition == "damaged"
                                 else "MAIN")
                self.assertEqual(d.stock("SKU-A")["on_hand"], on_hand + ledger_back)
                # Only a sellable unit goes back through the ledger, as a "return".
                returned = d.query("SELECT delta FROM ledger WHERE kind = 'return' AND"
                                   " ref LIKE ?", f"order:{oid}/return:%")
                self.assertEqual(returned, [(1,)] if ledger_back else [])
                audit = d.query("SELECT count(*) FROM audit WHERE action = 'return.create'"
                                " AND entity = ?", f"order:{oid}")[0][0]
                self.assertEqual(audit, 1)
                alerts = d.query("SELECT kind FROM order_alerts WHERE order_id = ?", oid)
                self.assertEqual(("return_damaged",) in alerts, disposition == "damaged")

    def test_refund_without_restock_returns_nothing(self):
        d = self.d
        oid = self.shipped_order(8004, 1)
        d.shopify(refund_body(8004 * 7, 8004, "R1", 1, "", restock_type="no_restock"),
                  "refunds/create")
        d.settled()
        self.assertEqual(d.query("SELECT count(*) FROM returns WHERE order_id = ?", oid)[0][0], 0)

    def test_fulfillment_elsewhere_alerts_and_our_own_echo_is_ignored(self):
        d = self.d
        f = wh.fixture("shopify", "fulfillments_create.json")
        d.shopify(wh.order_body(order_id=8010, lines=(("R1", "SKU-A", 1),)))
        d.settled()
        held = d.order(d.shop_id, 8010)["id"]
        f["order_id"] = 8010
        for _ in range(2):
            d.shopify(json.dumps(f).encode(), "fulfillments/create")
        d.settled()
        self.assertEqual(d.query("SELECT count(*) FROM order_alerts WHERE order_id = ?"
                                 " AND kind = 'fulfilled_upstream'", held)[0][0], 1)
        shipped = self.shipped_order(8011, 1)
        f["order_id"] = 8011
        d.shopify(json.dumps(f).encode(), "fulfillments/create")
        d.settled()
        self.assertEqual(d.query("SELECT count(*) FROM order_alerts WHERE order_id = ?",
                                 shipped)[0][0], 0)
        self.assertEqual(d.query("SELECT status FROM inbox ORDER BY id DESC LIMIT 1")[0][0],
                         "ignored")

    def test_inventory_echo_is_ignored_and_external_change_is_booked(self):
        d = self.d
        d.ctl("channel", "map-sku", str(d.shop_id), "SKU-B", "--inventory-item", "4711")
        d.ctl("channel", "map-location", str(d.shop_id), "MAIN", "--external-id", "24826418")
        level = wh.fixture("shopify", "inventory_levels_update.json")
        level["inventory_item_id"] = 4711
        level["admin_graphql_api_id"] = \
            "gid://shopify/InventoryLevel/24826418?inventory_item_id=4711"
        # What the outbound worker records after pushing available = 5.
        sku_id = d.query("SELECT id FROM skus WHERE code = 'SKU-B'")[0][0]
        loc_id = d.query("SELECT id FROM locations WHERE code = 'MAIN'")[0][0]
        conn = d.tmp.connect()
        with conn:
            conn.execute("INSERT INTO inventory_pushes (channel_id, sku_id, location_id,"
                         " quantity, pushed_at) VALUES (?, ?, ?, 5, ?)",
                         (d.shop_id, sku_id, loc_id, int(time.time())))
        conn.close()
        before = d.stock("SKU-B")["on_hand"]
        level["available"] = 5
        d.shopify(json.dumps(level).encode(), "inventory_levels/update")
        d.settled()
        self.assertEqual(d.stock("SKU-B")["on_hand"], before)
        self.assertIn("echo", d.query("SELECT last_error FROM inbox ORDER BY id DESC")[0][0])
        # Someone counted 2 more in the Shopify admin.
        level["available"] = 7
        d.shopify(json.dumps(level).encode(), "inventory_levels/update")
        d.settled()
        self.assertEqual(d.stock("SKU-B")["on_hand"], before + 2)
        ledger = d.query("SELECT delta, reason FROM ledger WHERE sku_id = ? ORDER BY id DESC"
                         " LIMIT 1", sku_id)[0]
        self.assertEqual(ledger, (2, "channel"))

    def test_malformed_and_wrong_types_are_dead_letters_and_replay_is_idempotent(self):
        d = self.d
        bad = {
            b'{"id": 1, "line_items": [': "malformed JSON",
            b'[1, 2, 3]': "must be a JSON object",
            json.dumps({"id": "9001", "line_items": "not a list"}).encode():
                "line_items must be an array",
            json.dumps({"id": 9002, "line_items": [{"id": 1, "quantity": "two"}]}).encode():
                "line_items[0].quantity must be a number",
            json.dumps({"id": 9003, "updated_at": 5, "line_items": []}).encode():
                "updated_at must be a string",
        }
        for body, why in bad.items():
            self.assertEqual(d.shopify(body, "orders/create")[0], 200)
        d.settled()
        dead = json.loads(d.ctl("--json", "inbox", "list", "--dead").stdout)
        errors = [row["last_error"] for row in dead]
        for why in bad.values():
            self.assertTrue(any(why in e for e in errors), (why, errors))
        self.assertTrue(all(row["attempts"] == 1 for row in dead),
                        "a malformed payload is dead at once, not retried")
        self.assertIsNone(d.daemon.proc.poll(), "depotd must survive bad payloads")
        # Replay one by the CLI, then all by the API: dead again, nothing else changes.
        orders_before = d.query("SELECT count(*) FROM orders")[0][0]
        first = dead[0]["id"]
        shown = json.loads(d.ctl("--json", "inbox", "show", first).stdout)
        self.assertEqual(shown["status"], "dead")
        d.ctl("inbox", "replay", first)
        d.settled()
        token = d.ctl("token", "create", "ops", "--role", "supervisor").stdout.strip()
        token = token.split()[-1] if " " in token else token
        req = urllib.request.Request(f"http://127.0.0.1:{d.port}/api/v1/inbox/replay-dead",
                                     method="POST", data=b"",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            self.assertEqual(json.loads(resp.read())["replayed"], len(bad))
        d.settled()
        again = json.loads(d.ctl("--json", "inbox", "list", "--dead").stdout)
        self.assertEqual(sorted(r["id"] for r in again), sorted(r["id"] for r in dead))
        self.assertEqual(d.query("SELECT count(*) FROM orders")[0][0], orders_before)
        refused = d.ctl("inbox", "replay", "999999", check=False)
        self.assertEqual(refused.returncode, 1)


if __name__ == "__main__":
    unittest.main()
