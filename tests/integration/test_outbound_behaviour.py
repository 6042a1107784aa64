"""Outbound worker behaviour seen from outside, against the fake Shopify (tests/fakes/):
one order's events go in sequence while unrelated ones run in parallel up to the
per-channel concurrency; a Retry-After is waited out; the worker paces itself by
Shopify's cost bucket instead of running into THROTTLED; dead letters are retried all at
once through the API and the CLI with their idempotency keys; circuit breaker changes
reach WebSocket clients; SIGTERM waits a bounded time for a hung call; the levels pushed
are recognised when the shop echoes them back in a webhook."""
import collections
import json
import time
import unittest
import urllib.request

import webhook_helpers as wh
from outbound_env import FakeShopify, OutboundCase, wait_until
from test_web_server import WebSocket

SHOP = "test-shop.myshopify.com"


class Base(OutboundCase):
    fake_options = {}

    def make_fake(self):
        return FakeShopify(**self.fake_options)

    def setup_channel(self, skus):
        self.ob.stock(skus)
        self.ob.add_shopify(self.fake)
        self.items = {sku: 1000 + i for i, sku in enumerate(skus)}
        self.ob.map(SHOP, self.items)

    def synced(self):
        return all(self.fake.level(item, 77) == self.ob.available(sku)
                   for sku, item in self.items.items())

    def wait_synced(self, timeout=20):
        self.ob.wait_drained(timeout)
        wait_until(self.synced, timeout, what="upstream levels == local")

    def api(self, method, path):
        self.ob.status()  # creates the token
        req = urllib.request.Request(f"http://127.0.0.1:{self.ob.port}{path}", method=method,
                                     data=b"" if method == "POST" else None,
                                     headers={"Authorization": f"Bearer {self.ob._token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())


class BehaviourCase(Base):
    def test_one_order_in_sequence_unrelated_in_parallel_up_to_concurrency(self):
        self.setup_channel({"SKU-1": 50})
        for i in range(6):
            self.fake.add_order(5001 + i)
        self.ob.start(sync_concurrency=2)
        self.wait_synced()
        self.ob.stop()
        self.fake.latency = 0.15
        self.ob.driver("ship", 1, 6, 5001, "SKU-1")
        # a second fulfillment event for the first order, queued behind its first one
        (order_id,) = self.ob.sql("SELECT id FROM orders WHERE external_id = '5001'")[0]
        with self.tmp.connect() as c:
            c.execute("INSERT INTO outbox (idempotency_key, target, target_id, topic,"
                      " aggregate, payload, next_attempt_at, created_at, updated_at) VALUES"
                      " ('test:second', 'channel', 1, 'fulfillment.create', ?, ?, 0, 0, 0)",
                      (f"order:{order_id}", json.dumps({"external_order_id": "5001",
                                                        "carrier": "ups",
                                                        "tracking_number": "TRK-SECOND"})))
        self.fake.max_active = 0
        mark = len(self.fake.timeline)
        self.ob.start(sync_concurrency=2)
        self.wait_synced()
        self.assertEqual(self.fake.max_active, 2, "two calls at once, never more")
        self.assertEqual(self.ob.outbox_counts().get("dead"), None)
        # order 5001: lookup, create, then (only after the create answered) the second
        # event's lookup, which finds nothing left open
        calls = sorted((start, end, json.loads(body)) for start, end, _, _, body
                       in self.fake.timeline[mark:] if b"Order/5001" in body or
                       b"FulfillmentOrder/50010" in body)
        kinds = ["create" if "fulfillmentCreate(" in q["query"] else "lookup"
                 for _, _, q in calls]
        self.assertEqual(kinds, ["lookup", "create", "lookup"])
        self.assertGreaterEqual(calls[2][0], calls[1][1])
        self.assertEqual(self.fake.fulfillments_created["gid://shopify/Order/5001"], 1)

    def test_retry_after_is_waited_out(self):
        self.setup_channel({"SKU-1": 10})
        self.ob.start()
        self.wait_synced()
        self.fake.retry_after = 2
        self.fake.push_faults("429")
        mark = len(self.fake.timeline)
        self.ob.driver("adjust", "SKU-1", "WH1", 1, 1)
        self.wait_synced()
        (refused, *later) = sorted(self.fake.timeline[mark:])
        self.assertTrue(later)
        self.assertGreaterEqual(later[0][0] - refused[1], 1.9,
                                "called again before Retry-After passed")
        self.assertEqual(self.ob.metric("depot_sync_throttled_total", channel=1,
                                        kind="shopify"), 1)

    def test_dead_letters_retried_all_by_api_and_cli_keep_their_keys(self):
        self.setup_channel({"SKU-1": 10, "SKU-2": 20})
        self.ob.start(sync_max_attempts=2, sync_breaker_threshold=100)
        self.wait_synced()
        for how in ("api", "cli"):
            with self.subTest(how=how):
                self.fake.set_down("500")
                self.ob.driver("adjust", "SKU-1", "WH1", 1, 1)
                self.ob.driver("adjust", "SKU-2", "WH1", 1, -1)
                wait_until(lambda: self.ob.outbox_counts().get("dead") == 2, 20,
                           what="two dead letters")
                keys = {k for (k,) in self.ob.sql(
                    "SELECT idempotency_key FROM outbox WHERE status = 'dead'")}
                self.fake.set_down(None)
                if how == "api":
                    self.assertEqual(self.api("POST", "/api/v1/outbox/retry-dead")["requeued"], 2)
                else:
                    self.ob.ctl("outbox", "retry", "--all-dead")
                self.wait_synced()
                self.assertEqual(self.ob.outbox_counts().get("dead"), None)
                uris = {s[3] for s in self.fake.sets_applied[-2:]}
                self.assertEqual(uris, {f"depot://outbox/{k}" for k in keys})

    def test_breaker_changes_reach_websocket_clients(self):
        self.setup_channel({"SKU-1": 10})
        self.ob.start(sync_breaker_threshold=2, sync_breaker_cooldown_ms=400)
        self.wait_synced()
        self.ob.status()
        ws = WebSocket(self.ob.port, {"Authorization": f"Bearer {self.ob._token}"})
        try:
            self.assertEqual(ws.status, 101)
            self.fake.set_down("reset")
            self.ob.driver("adjust", "SKU-1", "WH1", 1, 2)
            states = []
            deadline = time.monotonic() + 20
            while "closed" not in states[1:] and time.monotonic() < deadline:
                msg = ws.recv_type("sync", timeout=deadline - time.monotonic())
                data = msg.get("data") or msg
                if data.get("event") == "breaker" and data.get("endpoint") == "graphql":
                    states.append(data["state"])
                    if data["state"] == "open" and len(states) == 1:
                        self.fake.set_down(None)
            self.assertEqual(states[0], "open")
            self.assertIn("half_open", states)
            self.assertEqual(states[-1], "closed")
        finally:
            ws.close()
        self.wait_synced()

    def test_sigterm_waits_a_bounded_time_for_a_hung_call(self):
        self.setup_channel({"SKU-1": 10})
        self.ob.start(sync_http_timeout_ms=1500)
        self.wait_synced()
        self.fake.hang_seconds = 30
        self.fake.push_faults("timeout_after")
        n = len(self.fake.requests)
        self.ob.driver("adjust", "SKU-1", "WH1", 1, 5)
        wait_until(lambda: len(self.fake.requests) > n, 10, what="the call to hang")
        t0 = time.monotonic()
        self.ob.stop()  # exit 0
        self.assertLess(time.monotonic() - t0, 10, "SIGTERM waited for the hung call")
        self.assertEqual(self.ob.outbox_counts().get("inflight"), None)
        self.ob.start()
        self.wait_synced()
        # the hung call had applied: the re-send found the level there, no second set
        self.assertEqual(collections.Counter(s[3] for s in self.fake.sets_applied).most_common(1)[0][1], 1)

    def test_each_mapped_location_gets_its_own_level(self):
        self.ob.stock({"SKU-1": 10})
        self.ob.stock({"SKU-1": 4}, location="WH2")
        self.ob.add_shopify(self.fake)
        self.ob.ctl("channel", "map-location", SHOP, "WH1", "--external-id", "77")
        self.ob.ctl("channel", "map-location", SHOP, "WH2", "--external-id", "78",
                    "--buffer", "1")
        self.ob.ctl("channel", "map-sku", SHOP, "SKU-1", "--inventory-item", "1000")
        self.ob.start()
        self.ob.wait_drained()
        wait_until(lambda: (self.fake.level(1000, 77), self.fake.level(1000, 78)) == (10, 3),
                   20, what="a level per Shopify location")
        self.ob.driver("adjust", "SKU-1", "WH2", 1, -2)
        self.ob.wait_drained()
        wait_until(lambda: self.fake.level(1000, 78) == 1, 20, what="WH2's new level")
        self.assertEqual(self.fake.level(1000, 77), 10)

    def test_pushed_levels_are_recognised_when_the_shop_echoes_them(self):
        self.setup_channel({"SKU-1": 10})
        self.ob.start(rate_limit=100000, rate_burst=100000)
        self.wait_synced()
        ledger = self.ob.sql("SELECT count(*) FROM ledger")[0][0]

        def level_webhook(available):
            body = json.dumps({"inventory_item_id": 1000, "location_id": 77,
                               "available": available,
                               "updated_at": "2030-01-01T00:00:00-05:00"}).encode()
            headers = wh.shopify_headers(body, "inventory_levels/update", shop=SHOP,
                                         secret="whsec")
            req = urllib.request.Request(f"http://127.0.0.1:{self.ob.port}/webhooks/shopify",
                                         data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=10) as r:
                self.assertEqual(r.status, 200)
            wait_until(lambda: not self.ob.sql("SELECT 1 FROM inbox WHERE status ="
                                               " 'pending'"), 20, what="the inbox")
        level_webhook(10)  # what we pushed: an echo, nothing booked
        self.assertEqual(self.ob.sql("SELECT count(*) FROM ledger")[0][0], ledger)
        self.assertIn("echo", self.ob.sql("SELECT last_error FROM inbox ORDER BY id DESC")[0][0])
        level_webhook(7)  # sold elsewhere: booked locally with reason channel
        self.assertEqual(self.ob.sql("SELECT delta, reason FROM ledger ORDER BY id DESC"
                                     " LIMIT 1"), [(-3, "channel")])
        self.assertEqual(self.ob.available("SKU-1"), 7)


class BucketCase(Base):
    # a small, slow bucket: 4 calls' worth, 10 calls' worth restored per second
    fake_options = {"bucket_max": 40.0, "restore_rate": 100.0}

    def test_worker_paces_itself_by_the_cost_bucket(self):
        self.setup_channel({f"SKU-{i:02d}": 10 + i for i in range(30)})
        self.ob.start(sync_concurrency=4)
        self.wait_synced(timeout=40)
        calls = len(self.fake.requests)
        self.assertGreaterEqual(calls, 60)  # read + set per SKU
        # paced by throttleStatus (what the answers report, less the calls still on the
        # wire, an answer read out of order only lowering the estimate): none of 60-odd
        # calls met an empty bucket in runs on a loaded machine; a worker firing as fast
        # as its slots allow runs into it with half of them (22 of 46 measured)
        self.assertLessEqual(self.fake.throttled, 3, f"{self.fake.throttled} of {calls}")
        self.assertEqual(self.ob.status()["channels"][0]["bucket"]["maximum"], 40)

if __name__ == "__main__":
    unittest.main()
