"""Webhook deliveries become orders exactly once: duplicates (sequential and concurrent)
give one order and one reservation set; the lifecycle create -> lines added/removed ->
cancel moves reservations with it; an older update after a newer one changes nothing;
unknown items need attention; a paid order short of stock is backordered; WooCommerce
orders and deletes follow the same path."""

import json
import os
import sys
import threading
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webhook_helpers as wh  # noqa: E402


def reserved(order):
    return {l["sku"]: l["reserved"] for l in order["lines"]}


class WebhookOrdersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.depot = wh.Depot(stock=(("SKU-A", 10), ("SKU-B", 5), ("SKU-C", 1))).start()

    @classmethod
    def tearDownClass(cls):
        cls.depot.close()

    def setUp(self):
        self.d = self.depot

    def tearDown(self):
        self.d.ctl("verify")  # stock, ledger and reservation invariants still hold

    def test_same_delivery_ten_times_sequential_and_concurrent_gives_one_order(self):
        body = wh.order_body(order_id=7001, lines=(("L1", "SKU-A", 2),))
        headers = wh.shopify_headers(body, "orders/create")
        for _ in range(10):
            self.assertEqual(self.d.post("/webhooks/shopify", body, headers)[0], 200)
        statuses = []

        def send():
            statuses.append(self.d.post("/webhooks/shopify", body, headers)[0])
        threads = [threading.Thread(target=send) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(statuses, [200] * 10)
        # The same merchant action again under new delivery ids (orders/paid after
        # orders/create) is a second delivery of the same state.
        for topic in ("orders/paid", "orders/updated"):
            self.assertEqual(self.d.shopify(body, topic)[0], 200)
        self.d.settled()
        self.assertEqual(self.d.query("SELECT count(*) FROM inbox WHERE delivery_id = ?",
                                      headers["X-Shopify-Webhook-Id"])[0][0], 1)
        self.assertEqual(self.d.query("SELECT count(*) FROM orders WHERE external_id = '7001'")
                         [0][0], 1)
        order = self.d.order(self.d.shop_id, 7001)
        self.assertEqual(order["status"], "reserved")
        self.assertEqual(reserved(order), {"SKU-A": 2})
        active = [r for r in order["reservations"] if r["status"] == "active"]
        self.assertEqual(sum(r["quantity"] for r in active), 2)

    def test_lifecycle_create_add_remove_cancel(self):
        d = self.d
        a0 = d.stock("SKU-B")["reserved"]
        d.shopify(wh.order_body(order_id=7002, lines=(("L1", "SKU-B", 1),),
                                updated="2030-01-01T10:00:00Z"))
        d.settled()
        self.assertEqual(reserved(d.order(d.shop_id, 7002)), {"SKU-B": 1})
        # A line added.
        d.shopify(wh.order_body(order_id=7002, lines=(("L1", "SKU-B", 1), ("L2", "SKU-A", 3)),
                                updated="2030-01-01T10:05:00Z"), "orders/updated")
        d.settled()
        order = d.order(d.shop_id, 7002)
        self.assertEqual(order["status"], "reserved")
        self.assertEqual(reserved(order), {"SKU-B": 1, "SKU-A": 3})
        # A line removed (Shopify keeps it with current_quantity 0).
        d.shopify(wh.order_body(order_id=7002, lines=(("L1", "SKU-B", 0), ("L2", "SKU-A", 3)),
                                updated="2030-01-01T10:10:00Z"), "orders/updated")
        d.settled()
        order = d.order(d.shop_id, 7002)
        self.assertEqual(reserved(order), {"SKU-A": 3})
        self.assertEqual(d.stock("SKU-B")["reserved"], a0)
        # Cancelled.
        d.shopify(wh.order_body(order_id=7002, lines=(("L2", "SKU-A", 3),),
                                updated="2030-01-01T10:15:00Z",
                                cancelled_at="2030-01-01T10:15:00Z"), "orders/cancelled")
        d.settled()
        order = d.order(d.shop_id, 7002)
        self.assertEqual(order["status"], "cancelled")
        self.assertEqual(reserved(order), {"SKU-A": 0})

    def test_older_update_after_newer_changes_nothing(self):
        d = self.d
        d.shopify(wh.order_body(order_id=7003, lines=(("L1", "SKU-A", 1),),
                                updated="2030-02-01T10:00:00Z"))
        d.shopify(wh.order_body(order_id=7003, lines=(("L1", "SKU-A", 2),),
                                updated="2030-02-01T12:00:00Z"), "orders/updated")
        d.settled()
        d.shopify(wh.order_body(order_id=7003, lines=(("L1", "SKU-A", 5),),
                                updated="2030-02-01T11:00:00Z"), "orders/updated",
                  triggered_at="2020-01-01T00:00:00Z")
        d.settled()
        order = d.order(d.shop_id, 7003)
        self.assertEqual(reserved(order), {"SKU-A": 2})
        self.assertEqual([l["quantity"] for l in order["lines"]], [2])
        last = d.query("SELECT status, stale, last_error FROM inbox ORDER BY id DESC LIMIT 1")[0]
        self.assertEqual(last[0], "ignored")
        self.assertEqual(last[1], 1, "a delivery triggered long ago is flagged stale")
        self.assertIn("older", last[2])

    def test_unknown_item_needs_attention_with_an_alert(self):
        d = self.d
        d.shopify(wh.order_body(order_id=7004, lines=(("L1", "NO-SUCH-SKU", 1),
                                                      ("L2", "SKU-A", 1))))
        d.settled()
        order = d.order(d.shop_id, 7004)
        self.assertEqual(order["status"], "needs_attention")
        self.assertEqual(sum(reserved(order).values()), 0)
        alerts = d.query("SELECT kind FROM order_alerts WHERE order_id = ?", order["id"])
        self.assertIn(("unknown_items",), alerts)
        token = d.ctl("--json", "token", "create", "packer", "--role", "packer").stdout
        req = urllib.request.Request(
            f"http://127.0.0.1:{d.port}/api/v1/alerts?order={order['id']}",
            headers={"Authorization": f"Bearer {json.loads(token)['token']}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            items = json.loads(resp.read())["items"]
        self.assertEqual([a["kind"] for a in items], ["unknown_items"])

    def test_paid_order_short_of_stock_is_backordered(self):
        d = self.d
        d.shopify(wh.order_body(order_id=7005, lines=(("L1", "SKU-C", 4),)))
        d.settled()
        order = d.order(d.shop_id, 7005)
        self.assertEqual(order["status"], "open")
        self.assertEqual(sum(reserved(order).values()), 0)
        self.assertEqual(d.query("SELECT backordered FROM orders WHERE id = ?",
                                 order["id"])[0][0], 1)
        self.assertIn(("backordered",), d.query(
            "SELECT kind FROM order_alerts WHERE order_id = ?", order["id"]))
        # Stock arrives: the worker reserves the waiting order by itself.
        d.ctl("stock", "adjust", "SKU-C", "--location", "MAIN", "--delta", "3",
              "--reason", "received")
        wh.dt.wait_until(lambda: d.order(d.shop_id, 7005)["status"] == "reserved",
                         timeout=20, what="the backordered order to be reserved")
        self.assertEqual(reserved(d.order(d.shop_id, 7005)), {"SKU-C": 4})
        self.assertEqual(d.query("SELECT count(*) FROM order_alerts WHERE order_id = ?"
                                 " AND resolved_at IS NULL", order["id"])[0][0], 0)

    def test_woocommerce_order_created_then_deleted(self):
        d = self.d
        o = wh.fixture("woocommerce", "order.json")
        o["line_items"][0]["sku"] = "SKU-B"
        o["line_items"][1]["sku"] = "SKU-A"
        d.woo(json.dumps(o).encode(), "order.created")
        d.settled()
        order = d.order(d.woo_id, 727)
        self.assertEqual(order["status"], "reserved")
        self.assertEqual(reserved(order), {"SKU-B": 2, "SKU-A": 1})
        self.assertEqual(order["ship_to"]["city"], "San Francisco")
        d.woo(json.dumps({"id": 727}).encode(), "order.deleted")
        d.settled()
        order = d.order(d.woo_id, 727)
        self.assertEqual(order["status"], "cancelled")
        self.assertEqual(sum(reserved(order).values()), 0)

    def test_woocommerce_redelivery_is_deduplicated(self):
        d = self.d
        o = wh.fixture("woocommerce", "order.json")
        o["id"] = 728
        o["line_items"] = o["line_items"][:1]
        o["line_items"][0]["sku"] = "SKU-A"
        body = json.dumps(o).encode()
        headers = wh.woo_headers(body, "order.created", delivery_id="d1")
        replies = [json.loads(d.post("/webhooks/woocommerce", body, headers)[1])["status"]
                   for _ in range(3)]
        self.assertEqual(replies, ["accepted", "duplicate", "duplicate"])
        # The delivery id is only webhook id + second: another delivery of the same
        # order a second later is stored, and processing makes it a no-op.
        d.woo(body, "order.created", delivery_id="d2")
        d.settled()
        self.assertEqual(d.query("SELECT count(*) FROM inbox WHERE source = ? AND"
                                 " delivery_id LIKE '7:%'", f"woocommerce:{d.woo_id}")[0][0]
                         >= 2, True)
        self.assertEqual(d.query("SELECT count(*) FROM orders WHERE channel_id = ? AND"
                                 " external_id = '728'", d.woo_id)[0][0], 1)
        self.assertEqual(reserved(d.order(d.woo_id, 728)), {"SKU-A": 2})

    def test_logs_name_the_order_and_never_the_customer(self):
        d = self.d
        d.shopify(wh.order_body(order_id=7006, lines=(("L1", "SKU-A", 1),)))
        d.settled()
        order = d.order(d.shop_id, 7006)
        entry = d.daemon.wait_for_log(module="inbox", order_id=str(order["id"]))
        self.assertEqual(entry["channel"], f"shopify:{d.shop_id}")
        self.assertTrue(entry["request_id"])
        log = d.daemon.stderr()
        for pii in ("john@example.com", "Shippington", "123 Shipping Street", "Steve"):
            self.assertNotIn(pii, log)
        self.assertNotIn(wh.SHOP_SECRET, log)


if __name__ == "__main__":
    unittest.main()
