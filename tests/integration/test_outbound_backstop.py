"""The inbound backstop: depotd pulls each channel's recently updated orders (Shopify
GraphQL orders query, WooCommerce GET orders) and feeds them through the same inbox and
idempotent ingestion as webhooks. An order that exists only upstream appears locally
after a pull; further pulls change nothing (one order, one reservation set); an order
update older than the local state does not overwrite it; the cursor survives a restart;
a failing pull goes through the circuit breaker and the next pull catches up."""
import datetime
import json
import time
import unittest
import urllib.request

import depot_testlib as dt
import webhook_helpers as wh
from outbound_env import FakeShopify, FakeWooCommerce, OutboundCase, wait_until

SHOP = "test-shop.myshopify.com"
STORE = "https://shop.example.com"


def iso(seconds_from_now, zone="Z"):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + zone


class BackstopCase(OutboundCase):
    def make_fake(self):
        return None  # each test starts the platform it needs

    # ---- looking ----
    def order(self, external_id):
        rows = self.ob.sql("SELECT id, status FROM orders WHERE channel_id = 1 AND"
                           " external_id = ?", (str(external_id),))
        return rows[0] if rows else None

    def lines(self, external_id):
        return self.ob.sql("SELECT l.external_line_id, l.quantity FROM order_lines l JOIN"
                           " orders o ON o.id = l.order_id WHERE o.external_id = ?"
                           " ORDER BY l.line_no", (str(external_id),))

    def reservations(self, external_id):
        return self.ob.sql("SELECT r.quantity, r.status FROM reservations r JOIN orders o"
                           " ON o.id = r.order_id WHERE o.external_id = ? ORDER BY r.id",
                           (str(external_id),))

    def backstop_inbox(self):
        return self.ob.sql("SELECT delivery_id, status FROM inbox WHERE source = 'backstop:1'"
                           " ORDER BY id")

    def pulls(self, kind):
        return self.ob.metric("depot_sync_backstop_pulls_total", channel=1, kind=kind) or 0

    def wait_pulls(self, kind, n, timeout=20):
        wait_until(lambda: self.pulls(kind) >= n, timeout, what=f"{n} backstop pulls")

    def settled(self):
        wait_until(lambda: not self.ob.sql("SELECT 1 FROM inbox WHERE status = 'pending'"),
                   20, what="the inbox to be processed")

    # ---- Shopify ----
    def shopify(self):
        self.fake = FakeShopify().start()
        self.ob.stock({"SKU-1": 10, "SKU-2": 10})
        self.ob.add_shopify(self.fake)
        self.ob.ctl("channel", "map-location", SHOP, "WH1", "--external-id", "77")
        self.ob.ctl("channel", "map-sku", SHOP, "SKU-1", "--variant", "301",
                    "--inventory-item", "1000")
        self.ob.ctl("channel", "map-sku", SHOP, "SKU-2", "--variant", "302",
                    "--inventory-item", "1001")

    def test_shopify_order_missed_by_webhooks_arrives_once(self):
        self.shopify()
        self.fake.put_order(9001, iso(2), [(71, 301, "SKU-1", 2), (72, 302, "SKU-2", 1)])
        self.ob.start(sync_backstop_interval=1)
        wait_until(lambda: self.order(9001) is not None, 20, what="the pulled order")
        self.settled()
        self.assertEqual(self.order(9001)[1], "reserved")
        self.assertEqual(self.lines(9001), [("71", 2), ("72", 1)])
        self.assertEqual(self.reservations(9001), [(2, "active"), (1, "active")])
        (query,) = set(self.fake.order_queries)
        self.assertRegex(query, r"^updated_at:>='\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'$")
        # more pulls: the same version is dropped by the inbox, nothing changes
        done = self.pulls("shopify")
        self.wait_pulls("shopify", done + 2)
        self.settled()
        self.assertEqual(self.ob.sql("SELECT count(*) FROM orders"), [(1,)])
        self.assertEqual(len(self.backstop_inbox()), 1)
        self.assertEqual(self.reservations(9001), [(2, "active"), (1, "active")])
        self.assertEqual(self.ob.available("SKU-1"), 8)
        # the cursor moved to the order's update: later queries start there
        self.assertIn(f">='{self.fake.shop_orders['gid://shopify/Order/9001']['updatedAt']}'",
                      self.fake.order_queries[-1])
        # a newer version upstream (a line removed) is applied through the same path
        self.fake.put_order(9001, iso(5), [(71, 301, "SKU-1", 2), (72, 302, "SKU-2", 0)])
        wait_until(lambda: len(self.backstop_inbox()) == 2, 20, what="the newer version")
        self.settled()
        self.assertEqual(self.ob.sql("SELECT count(*) FROM orders"), [(1,)])
        self.assertEqual(self.ob.available("SKU-2"), 10)
        st = self.ob.status()["channels"][0]["backstop"]
        self.assertEqual(st["orders"], 2)
        dt.run_depotctl("--data-dir", self.tmp.data_dir, "verify", check=True)

    def test_shopify_order_longer_than_a_page_arrives_whole(self):
        """The orders page brings 20 lines an order; a 130-line order gets the rest from
        its own lineItems connection (100 a call, from the page's cursor, then from the
        call's) before it is kept, and the orders after it on the page wait for it, so
        nothing is applied cut. One with more lines than an order may have (1,001) is
        left out, logged, and the orders after it still arrive."""
        self.shopify()
        self.ob.stock({"SKU-1": 200, "SKU-2": 200})
        lines = [(1000 + i, 301 if i % 2 else 302, "SKU-1" if i % 2 else "SKU-2", 1)
                 for i in range(130)]
        self.fake.put_order(9201, iso(2), lines)
        self.fake.put_order(9202, iso(3), [(1100, 301, "SKU-1", 3)])
        self.fake.put_order(9203, iso(4), [(20000 + i, 302, "SKU-2", 1) for i in range(1001)])
        self.fake.put_order(9204, iso(5), [(1200, 302, "SKU-2", 1)])
        self.ob.start(sync_backstop_interval=1)
        wait_until(lambda: self.order(9204) is not None, 20, what="the pulled orders")
        self.settled()
        self.assertEqual(self.order(9201)[1], "reserved")
        self.assertEqual(self.lines(9201), [(str(lid), 1) for lid, _, _, _ in lines])
        self.assertEqual(sum(q for q, _ in self.reservations(9201)), 130)
        self.assertEqual(self.order(9202)[1], "reserved")
        self.assertEqual(self.fake.line_queries[:2], [("gid://shopify/Order/9201", "line-20"),
                                                      ("gid://shopify/Order/9201", "line-120")])
        self.assertIsNone(self.order(9203))
        self.assertIn("order gid://shopify/Order/9203 has more lines than an order may have",
                      self.ob.daemon.stderr())
        self.assertEqual(self.ob.available("SKU-1"), 200 - 65 - 3)
        self.assertEqual(self.ob.available("SKU-2"), 200 - 65 - 1)
        dt.run_depotctl("--data-dir", self.tmp.data_dir, "verify", check=True)

    def test_shopify_long_order_changed_mid_read_waits_for_the_next_pull(self):
        """A long order updated upstream while its lines are being read is not kept
        with lines from two versions: it is left out of that pull, and the next pull
        (which starts before its new update) brings the new version whole."""
        self.shopify()
        self.ob.stock({"SKU-1": 200, "SKU-2": 200})
        lines = [(3000 + i, 301, "SKU-1", 1) for i in range(30)]
        self.fake.put_order(9301, iso(2), lines)
        changed = []

        def change_once(node):
            if not changed:
                changed.append(node["updatedAt"])
                node["updatedAt"] = iso(4)
                node["lineItems"]["nodes"][-1]["quantity"] = 2
                node["lineItems"]["nodes"][-1]["currentQuantity"] = 2

        self.fake.lines_hook = change_once
        self.ob.start(sync_backstop_interval=1)
        wait_until(lambda: self.order(9301) is not None, 20, what="the pulled order")
        self.settled()
        self.assertEqual(len(changed), 1)
        self.assertIn("order gid://shopify/Order/9301 changed while its lines were read",
                      self.ob.daemon.stderr())
        self.assertEqual(len(self.lines(9301)), 30)
        self.assertEqual(self.lines(9301)[-1], (str(3029), 2))
        self.assertEqual(self.ob.available("SKU-1"), 200 - 31)

    def test_older_upstream_update_does_not_overwrite_newer_local_state(self):
        self.shopify()
        self.ob.start(sync_backstop_interval=1, rate_limit=100000, rate_burst=100000)
        # the webhook brings the newest version: one unit
        body = wh.order_body(9002, lines=(("A", "SKU-1", 1),), updated=iso(60, "Z"))
        headers = wh.shopify_headers(body, "orders/updated", shop=SHOP, secret="whsec")
        req = urllib.request.Request(f"http://127.0.0.1:{self.ob.port}/webhooks/shopify",
                                     data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)
        wait_until(lambda: self.reservations(9002) == [(1, "active")], 20,
                   what="the webhook's order")
        # the shop answers an older version of it (five units) to the pull
        line = wh.line_id_num("A")
        self.fake.put_order(9002, iso(2), [(line, 301, "SKU-1", 5)])
        wait_until(lambda: self.backstop_inbox() and self.backstop_inbox()[0][1] != "pending",
                   20, what="the pulled version to be processed")
        self.assertEqual(self.reservations(9002), [(1, "active")])
        self.assertEqual(self.lines(9002), [(str(line), 1)])
        self.assertEqual(self.ob.available("SKU-1"), 9)

    def test_cursor_survives_a_restart_and_a_broken_upstream_is_caught_up(self):
        self.shopify()
        self.fake.put_order(9003, iso(1), [(73, 301, "SKU-1", 1)])
        self.ob.start(sync_backstop_interval=1, sync_breaker_threshold=2)
        wait_until(lambda: self.order(9003) is not None, 20, what="the first order")
        self.settled()
        self.ob.wait_drained()  # the stock pushes: only pulls call the shop from here on
        self.ob.stop()
        (cursor,) = self.ob.sql("SELECT config ->> '$.backstop_cursor_ms' FROM channels")[0]
        want = self.fake.shop_orders["gid://shopify/Order/9003"]["updatedAt"]
        self.assertEqual(cursor // 1000, int(datetime.datetime.strptime(
            want, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()))
        # down: pulls fail, the breaker of the endpoint opens, nothing is lost
        self.fake.set_down("500")
        self.fake.put_order(9004, iso(3), [(74, 302, "SKU-2", 3)])
        self.ob.start(sync_backstop_interval=1, sync_breaker_threshold=2,
                      sync_breaker_cooldown_ms=1500)
        wait_until(lambda: self.ob.breaker_state("graphql") == "open", 20,
                   what="the breaker to open on failing pulls")
        wait_until(lambda: self.ob.metric("depot_sync_backstop_errors_total", channel=1,
                                          kind="shopify") >= 2, 10, what="failed pulls counted")
        self.assertIsNone(self.order(9004))
        self.fake.set_down(None)
        wait_until(lambda: self.order(9004) is not None, 20, what="the order after recovery")
        self.settled()
        self.assertEqual(self.reservations(9004), [(3, "active")])
        # the restarted daemon asked from the stored cursor, not from the channel's start
        self.assertTrue(all(q == f"updated_at:>='{want}'" or q > f"updated_at:>='{want}'"
                            for q in self.fake.order_queries[1:]), self.fake.order_queries)

    def test_pages_are_followed(self):
        self.shopify()
        for i in range(12):  # five per page: three pages
            self.fake.put_order(9100 + i, iso(1 + i), [(800 + i, 301, "SKU-1", 1)])
        self.ob.start(sync_backstop_interval=1)
        wait_until(lambda: self.ob.sql("SELECT count(*) FROM orders")[0][0] == 12, 30,
                   what="twelve pulled orders")
        self.settled()
        self.assertEqual(self.ob.available("SKU-1"), 0)  # ten reserved, two backordered
        self.assertGreaterEqual(len(self.fake.order_queries), 3)

    # ---- WooCommerce ----
    def woocommerce(self):
        self.fake = FakeWooCommerce().start()
        self.ob.stock({"W-1": 10})
        self.ob.add_woocommerce(self.fake)
        self.fake.add_product(500, stock=0)
        self.ob.map(STORE, {"W-1": 500}, id_option="--product")

    def test_woocommerce_pages_by_time_and_within_one_second(self):
        self.woocommerce()
        same = iso(2, "")
        for i in range(60):  # more than a page (50) modified in the same second
            self.fake.put_order(6000 + i, same, [(100 + i, 500, "W-1", 1)], status="pending")
        for i in range(60):
            self.fake.put_order(7000 + i, iso(3 + i, ""), [(200 + i, 500, "W-1", 1)],
                                status="pending")
        self.ob.start(sync_backstop_interval=1)
        wait_until(lambda: self.ob.sql("SELECT count(*) FROM orders")[0][0] == 120, 40,
                   what="all 120 orders")
        self.settled()
        self.assertEqual(len(self.backstop_inbox()), 120)
        pages = [(q["modified_after"], q["page"]) for q in self.fake.order_listings]
        self.assertIn("2", {p for _, p in pages})  # the second page of the one second
        self.assertGreater(len({a for a, _ in pages}), 1)  # later pages asked by time

    def test_woocommerce_order_missed_by_webhooks_arrives_once(self):
        self.woocommerce()
        self.fake.put_order(4001, iso(2, ""), [(11, 500, "W-1", 3)])
        self.fake.put_order(4002, iso(3, ""), [(12, 500, "W-1", 1)], status="pending")
        self.ob.start(sync_backstop_interval=1)
        wait_until(lambda: self.order(4001) is not None and self.order(4002) is not None, 20,
                   what="the pulled orders")
        self.settled()
        self.assertEqual(self.order(4001)[1], "reserved")
        self.assertEqual(self.order(4002)[1], "open")  # not paid: nothing reserved
        self.assertEqual(self.reservations(4001), [(3, "active")])
        done = self.pulls("woocommerce")
        self.wait_pulls("woocommerce", done + 2)
        self.settled()
        self.assertEqual(len(self.backstop_inbox()), 2)
        self.assertEqual(self.ob.sql("SELECT count(*) FROM orders"), [(2,)])
        self.assertEqual(self.reservations(4001), [(3, "active")])
        listing = self.fake.order_listings[-1]
        self.assertEqual(listing["dates_are_gmt"], "true")
        self.assertEqual(listing["orderby"], "modified")
        self.assertEqual(listing["order"], "asc")
        # asked from one second before the newest update seen (modified_after is exclusive)
        newest = datetime.datetime.strptime(self.fake.store_orders[4002]["date_modified_gmt"],
                                            "%Y-%m-%dT%H:%M:%S")
        self.assertEqual(listing["modified_after"],
                         (newest - datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S"))
        # signed like every other call over plain HTTP
        self.assertEqual(self.fake.auth_failures, 0)


if __name__ == "__main__":
    unittest.main()
