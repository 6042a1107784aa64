"""Every handled topic reaches its effect, and the de-duplication and resolution rules
hold at the endpoint: X-Shopify-Event-Id + topic de-duplicates across webhook ids;
header names are case-insensitive for both channels; order lines resolve by channel
variant id, then product id, then SKU code, then GTIN; fulfillments/update,
WooCommerce order.updated and product.updated take effect; a paid order reserves all its
lines or none; the stale window (webhook_stale_after) is configurable and a stale
inventory level never overwrites stock; unknown topics are ignored; dead letters are
inspected and replayed through the API, and replaying an applied delivery changes
nothing."""

import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webhook_helpers as wh  # noqa: E402

GTIN_D = "4006381333931"  # a valid GTIN-13, imported for SKU-D


def reserved(order):
    return {l["sku"]: l["reserved"] for l in order["lines"]}


def woo_order(order_id, lines, status="processing", modified="2030-01-01T10:00:00"):
    """The WooCommerce reference order with our id, (line id, sku, qty) lines and state."""
    o = wh.fixture("woocommerce", "order.json")
    template = o["line_items"][0]
    o.update(id=order_id, status=status, date_modified_gmt=modified, line_items=[])
    for line_id, sku, qty in lines:
        o["line_items"].append(dict(template, id=line_id, sku=sku, quantity=qty,
                                    product_id=0, variation_id=0))
    return json.dumps(o).encode()


class WebhookTopicsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.depot = wh.Depot(stock=(("SKU-A", 20), ("SKU-B", 20), ("SKU-C", 20),
                                    ("SKU-D", 20, GTIN_D), ("SKU-E", 20))).start()

    @classmethod
    def tearDownClass(cls):
        cls.depot.close()

    def setUp(self):
        self.d = self.depot

    def tearDown(self):
        self.d.ctl("verify")

    def inbox_count(self):
        return self.d.query("SELECT count(*) FROM inbox")[0][0]

    def test_event_id_and_topic_deduplicate_across_webhook_ids(self):
        d = self.d
        body = wh.order_body(order_id=9101, lines=(("L1", "SKU-A", 1),))
        before = self.inbox_count()
        replies = []
        for webhook_id, topic in (("w-1", "orders/create"), ("w-2", "orders/create"),
                                  ("w-3", "orders/paid")):
            status, payload = d.shopify(body, topic, webhook_id=webhook_id,
                                        event_id="event-9101")
            self.assertEqual(status, 200, payload)
            replies.append(json.loads(payload)["status"])
        # w-2 is another delivery of the same merchant action and topic: a duplicate.
        self.assertEqual(replies, ["accepted", "duplicate", "accepted"])
        self.assertEqual(self.inbox_count(), before + 2)
        self.assertEqual(d.query("SELECT count(*) FROM inbox WHERE event_id = 'event-9101'")
                         [0][0], 2)

    def test_woocommerce_header_names_are_case_insensitive(self):
        body = woo_order(9201, ((1, "SKU-A", 1),))
        headers = {k.lower(): v for k, v in wh.woo_headers(body, "order.created").items()}
        status, payload = self.d.post("/webhooks/woocommerce", body, headers)
        self.assertEqual(status, 200, payload)
        self.assertEqual(json.loads(payload)["status"], "accepted")
        self.d.settled()
        self.assertEqual(self.d.order(self.d.woo_id, 9201)["status"], "reserved")

    def test_lines_resolve_by_variant_then_product_then_sku_then_gtin(self):
        d = self.d
        d.ctl("channel", "map-sku", str(d.shop_id), "SKU-B", "--variant", "5550001")
        d.ctl("channel", "map-sku", str(d.shop_id), "SKU-C", "--product", "6660001")
        o = json.loads(wh.order_body(order_id=9301, lines=(
            ("V", "SKU-A", 1), ("P", "SKU-A", 2), ("S", "SKU-A", 3), ("G", "0" + GTIN_D, 4),
            ("U", "NOT-A-SKU", 5))))
        ids = {"V": (5550001, 6660001), "P": (5559999, 6660001)}
        for li, name in zip(o["line_items"], "VPSGU"):
            li["variant_id"], li["product_id"] = ids.get(name, (None, None))
        d.shopify(json.dumps(o).encode())
        d.settled()
        order = d.order(d.shop_id, 9301)
        by_qty = {l["quantity"]: l["sku"] for l in order["lines"]}
        # The variant id beats the SKU code; the product id beats it when the variant is
        # unmapped; the SKU code next; the GTIN-14 form of SKU-D's GTIN-13 last.
        self.assertEqual(by_qty, {1: "SKU-B", 2: "SKU-C", 3: "SKU-A", 4: "SKU-D", 5: None})
        self.assertEqual(order["status"], "needs_attention")
        self.assertIn(("unknown_items",), d.query(
            "SELECT kind FROM order_alerts WHERE order_id = ?", order["id"]))

    def test_fulfillments_update_and_unhandled_topics(self):
        d = self.d
        d.shopify(wh.order_body(order_id=9401, lines=(("L1", "SKU-E", 1),)))
        d.settled()
        held = d.order(d.shop_id, 9401)["id"]
        f = wh.fixture("shopify", "fulfillments_create.json")
        f.update(order_id=9401, status="cancelled")
        d.shopify(json.dumps(f).encode(), "fulfillments/update")
        d.settled()
        self.assertEqual(d.query("SELECT status FROM inbox ORDER BY id DESC LIMIT 1")[0][0],
                         "ignored")
        f["status"] = "success"
        d.shopify(json.dumps(f).encode(), "fulfillments/update")
        d.settled()
        self.assertEqual(d.query("SELECT count(*) FROM order_alerts WHERE order_id = ?"
                                 " AND kind = 'fulfilled_upstream'", held)[0][0], 1)
        d.shopify(b'{"id": 1}', "customers/create")
        d.woo(b'{"id": 1}', "coupon.created")
        d.settled()
        rows = d.query("SELECT topic, status, last_error FROM inbox ORDER BY id DESC LIMIT 2")
        self.assertEqual(sorted(r[:2] for r in rows), [("coupon.created", "ignored"),
                                                      ("customers/create", "ignored")])
        self.assertTrue(all(r[2] == "topic not handled" for r in rows))

    def test_shopify_order_reserves_when_paid(self):
        d = self.d
        d.shopify(wh.order_body(order_id=9450, lines=(("L1", "SKU-E", 2),),
                                financial="pending", updated="2030-03-01T10:00:00Z"))
        d.settled()
        order = d.order(d.shop_id, 9450)
        self.assertEqual((order["status"], sum(reserved(order).values())), ("open", 0))
        d.shopify(wh.order_body(order_id=9450, lines=(("L1", "SKU-E", 2),),
                                financial="paid", updated="2030-03-01T10:05:00Z"),
                  "orders/paid")
        d.settled()
        order = d.order(d.shop_id, 9450)
        self.assertEqual(order["status"], "reserved")
        self.assertEqual(reserved(order), {"SKU-E": 2})

    def test_paid_order_reserves_all_lines_or_none(self):
        d = self.d
        before = {sku: d.stock(sku)["reserved"] for sku in ("SKU-A", "SKU-B")}
        d.shopify(wh.order_body(order_id=9460, lines=(("L1", "SKU-A", 1), ("L2", "SKU-B", 500))))
        d.settled()
        order = d.order(d.shop_id, 9460)
        self.assertEqual(order["status"], "open")
        self.assertEqual(sum(reserved(order).values()), 0, "a short line reserves nothing")
        self.assertEqual({sku: d.stock(sku)["reserved"] for sku in before}, before)
        self.assertEqual(d.query("SELECT backordered FROM orders WHERE id = ?", order["id"]),
                         [(1,)])
        self.assertIn(("backordered",), d.query(
            "SELECT kind FROM order_alerts WHERE order_id = ?", order["id"]))

    def test_woocommerce_order_updated_adjusts_then_cancels(self):
        d = self.d
        d.woo(woo_order(9501, ((1, "SKU-A", 2),), status="pending"), "order.created")
        d.settled()
        self.assertEqual(d.order(d.woo_id, 9501)["status"], "open")
        self.assertEqual(sum(reserved(d.order(d.woo_id, 9501)).values()), 0)
        d.woo(woo_order(9501, ((1, "SKU-A", 2), (2, "SKU-B", 1)),
                        modified="2030-01-01T10:01:00"), "order.updated")
        d.settled()
        order = d.order(d.woo_id, 9501)
        self.assertEqual(order["status"], "reserved")
        self.assertEqual(reserved(order), {"SKU-A": 2, "SKU-B": 1})
        d.woo(woo_order(9501, ((2, "SKU-B", 3),), modified="2030-01-01T10:02:00"),
              "order.updated")
        d.settled()
        self.assertEqual(reserved(d.order(d.woo_id, 9501)), {"SKU-B": 3})
        d.woo(woo_order(9501, ((2, "SKU-B", 3),), status="cancelled",
                        modified="2030-01-01T10:03:00"), "order.updated")
        d.settled()
        order = d.order(d.woo_id, 9501)
        self.assertEqual(order["status"], "cancelled")
        self.assertEqual(sum(reserved(order).values()), 0)

    def test_woocommerce_product_updated_books_a_channel_adjustment(self):
        d = self.d
        d.ctl("channel", "map-sku", str(d.woo_id), "SKU-C", "--product", "93")
        d.ctl("channel", "map-location", str(d.woo_id), "MAIN", "--external-id", "main")
        stock = d.stock("SKU-C")
        on_hand = stock["on_hand"]
        available = on_hand - stock["reserved"]
        product = {"id": 93, "manage_stock": True, "stock_quantity": available + 3}
        d.woo(json.dumps(product).encode(), "product.updated")
        d.settled()
        self.assertEqual(d.stock("SKU-C")["on_hand"], on_hand + 3)
        sku_id = d.query("SELECT id FROM skus WHERE code = 'SKU-C'")[0][0]
        self.assertEqual(d.query("SELECT delta, reason FROM ledger WHERE sku_id = ?"
                                 " ORDER BY id DESC LIMIT 1", sku_id)[0], (3, "channel"))
        d.woo(json.dumps({"id": 93, "manage_stock": False}).encode(), "product.updated")
        d.settled()
        self.assertEqual(d.query("SELECT status FROM inbox ORDER BY id DESC LIMIT 1")[0][0],
                         "ignored")
        self.assertEqual(d.stock("SKU-C")["on_hand"], on_hand + 3)

    def test_stale_inventory_level_never_overwrites_stock(self):
        d = self.d
        d.ctl("channel", "map-sku", str(d.shop_id), "SKU-D", "--inventory-item",
              "271878346596884015")
        d.ctl("channel", "map-location", str(d.shop_id), "MAIN", "--external-id", "24826418")
        on_hand = d.stock("SKU-D")["on_hand"]
        level = wh.fixture("shopify", "inventory_levels_update.json")  # item id > 2^53
        level["available"] = 2
        d.shopify(json.dumps(level).encode(), "inventory_levels/update",
                  triggered_at="2020-01-01T00:00:00Z")
        d.settled()
        row = d.query("SELECT status, stale, last_error FROM inbox ORDER BY id DESC LIMIT 1")[0]
        self.assertEqual(row[:2], ("ignored", 1))
        self.assertIn("stale", row[2])
        self.assertEqual(d.stock("SKU-D")["on_hand"], on_hand)
        # The same report, fresh, is applied.
        d.shopify(json.dumps(level).encode(), "inventory_levels/update")
        d.settled()
        self.assertEqual(d.query("SELECT status FROM inbox ORDER BY id DESC LIMIT 1")[0][0],
                         "done")
        self.assertLess(d.stock("SKU-D")["on_hand"], on_hand)

    def test_dead_letters_inspected_and_replayed_by_api(self):
        d = self.d
        d.shopify(json.dumps({"id": 9601, "line_items": [{"id": 1, "quantity": "x"}]})
                  .encode(), "orders/create")
        d.settled()
        status, page = d.api("GET", "/api/v1/inbox?status=dead")
        self.assertEqual(status, 200)
        dead = [i for i in page["items"] if "quantity must be a number" in
                (i["last_error"] or "")]
        self.assertEqual(len(dead), 1)
        inbox_id = dead[0]["id"]
        status, shown = d.api("GET", f"/api/v1/inbox/{inbox_id}")
        self.assertEqual(status, 200)
        self.assertEqual((shown["status"], shown["topic"]), ("dead", "orders/create"))
        self.assertIn('"quantity": "x"', shown["body"])
        self.assertEqual(d.api("GET", "/api/v1/inbox?status=dead", role="packer")[0], 403)
        status, doc = d.api("POST", f"/api/v1/inbox/{inbox_id}/replay")
        self.assertEqual((status, doc["replayed"]), (200, 1))
        d.settled()
        self.assertEqual(d.query("SELECT status, attempts FROM inbox WHERE id = ?",
                                 inbox_id)[0], ("dead", 1))
        status, doc = d.api("POST", "/api/v1/inbox/999999/replay")
        self.assertEqual((status, doc["error"]["code"]), (404, "not_found"))

    def test_replaying_an_applied_order_changes_nothing(self):
        d = self.d
        d.shopify(wh.order_body(order_id=9701, lines=(("L1", "SKU-E", 2),)))
        d.settled()
        order = d.order(d.shop_id, 9701)
        inbox_id = d.query("SELECT id FROM inbox WHERE status = 'done' ORDER BY id DESC"
                           " LIMIT 1")[0][0]
        reserved_before = d.stock("SKU-E")["reserved"]
        status, doc = d.api("POST", f"/api/v1/inbox/{inbox_id}/replay")
        self.assertEqual(status, 409, doc)  # only dead letters are replayed
        for replay in ("api", "cli"):
            conn = d.tmp.connect()  # as if it had been dead-lettered after applying
            with conn:
                conn.execute("UPDATE inbox SET status = 'dead' WHERE id = ?", (inbox_id,))
            conn.close()
            if replay == "api":
                self.assertEqual(d.api("POST", f"/api/v1/inbox/{inbox_id}/replay")[0], 200)
            else:
                d.ctl("inbox", "replay", str(inbox_id))
            d.settled()
        self.assertEqual(d.query("SELECT status FROM inbox WHERE id = ?", inbox_id)[0][0],
                         "done")
        self.assertEqual(d.stock("SKU-E")["reserved"], reserved_before)
        self.assertEqual(reserved(d.order(d.shop_id, 9701)), {"SKU-E": 2})
        self.assertEqual(d.query("SELECT count(*) FROM audit WHERE action = 'order.ingest'"
                                 " AND entity = ?", f"order:{order['id']}")[0][0], 1)


class WebhookStaleWindowTest(unittest.TestCase):
    def test_stale_window_is_configurable(self):
        d = wh.Depot(webhook_stale_after=60).start()
        try:
            def triggered(seconds_ago):
                t = datetime.datetime.now(datetime.timezone.utc) - \
                    datetime.timedelta(seconds=seconds_ago)
                return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            for order_id, ago in ((9801, 5), (9802, 120)):
                status, _ = d.shopify(wh.order_body(order_id=order_id),
                                      triggered_at=triggered(ago))
                self.assertEqual(status, 200)
            rows = d.query("SELECT json_extract(body, '$.id'), stale FROM inbox ORDER BY id")
            self.assertEqual(rows, [(9801, 0), (9802, 1)])
            # Stale but newer than anything held: a new order is still created.
            d.settled()
            self.assertEqual(d.order(d.shop_id, 9802)["status"], "reserved")
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
