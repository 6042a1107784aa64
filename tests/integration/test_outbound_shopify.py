"""Outbound sync to Shopify against the fake GraphQL Admin API (tests/fakes/): the level
pushed is on_hand - reserved - buffers, every injected fault ends with the fake holding
the local level and no effect applied twice, the circuit breaker opens and recovers
(visible in /metrics and the sync status API), 1,000 changes while the shop is down
become one call, a dead letter retried keeps its idempotency key, fulfillments are
created once (lookup before create), API version 2026-04's changeFromQuantity +
@idempotent are honoured, and `channel add --webhook-url` subscribes the shop's webhooks
through the outbox (once each, also when an answer is lost)."""
import collections
import unittest

import depot_testlib as dt
from outbound_env import FakeShopify, OutboundCase, wait_until

SHOP = "test-shop.myshopify.com"


class ShopifyCase(OutboundCase):
    def setup_channel(self, skus, api_version=None, channel_buffer=0, stock_buffer=0):
        """skus: {sku: on_hand}; inventory item ids 1000, 1001, ... in order."""
        self.ob.stock(skus, buffer=stock_buffer)
        self.ob.add_shopify(self.fake, api_version=api_version)
        self.items = {sku: 1000 + i for i, sku in enumerate(skus)}
        self.ob.map(SHOP, self.items, buffer=channel_buffer)
        self.channel_buffer = channel_buffer

    def upstream(self, sku):
        return self.fake.level(self.items[sku], 77)

    def wait_synced(self, sku, timeout=20):
        self.ob.wait_drained(timeout)
        want = self.ob.available(sku, channel_buffer=self.channel_buffer)
        wait_until(lambda: self.upstream(sku) == want, timeout,
                   what=f"{sku} upstream {self.upstream(sku)} == {want}")
        return want

    def assert_no_effect_twice(self):
        uris = collections.Counter(s[3] for s in self.fake.sets_applied)
        twice = [u for u, n in uris.items() if n > 1]
        self.assertEqual(twice, [], "an outbox event was applied more than once")

    def test_level_is_on_hand_minus_reserved_minus_buffers_never_negative(self):
        self.setup_channel({"SKU-1": 10}, channel_buffer=2, stock_buffer=1)
        self.ob.start()
        self.assertEqual(self.wait_synced("SKU-1"), 7)
        self.ob.driver("adjust", "SKU-1", "WH1", 1, -8)  # on hand 2: 2 - 1 - 2 < 0
        self.assertEqual(self.wait_synced("SKU-1"), 0)
        # the set named our event in referenceDocumentUri and compared with the last push
        self.assertTrue(self.fake.sets_applied[-1][3].startswith("depot://outbox/inventory:"))
        self.assertEqual(self.ob.outbox_counts().get("done"), 2)
        self.assertEqual(self.fake.versions, {"2025-07"})

    def test_every_fault_converges_without_duplicate_effects(self):
        self.setup_channel({"SKU-1": 10})
        self.fake.hang_seconds = 2.0
        self.ob.start()
        self.wait_synced("SKU-1")
        faults = ["429", "503", "500", "reset", "reset_after", "timeout_after",
                  "partial_after", "slow", "invalid_json"]
        for kind in faults:
            with self.subTest(fault=kind):
                self.fake.push_faults(kind)
                self.ob.driver("adjust", "SKU-1", "WH1", 1, 1)
                self.wait_synced("SKU-1")
                self.assertEqual(self.fake.faults_served.get(kind), 1)
        # Shopify's own throttle: HTTP 200 with THROTTLED, from an empty cost bucket
        with self.fake.lock:
            self.fake.bucket, self.fake.bucket_at = 0, dt.time.monotonic()
        self.ob.driver("adjust", "SKU-1", "WH1", 1, 1)
        self.wait_synced("SKU-1")
        self.assertGreaterEqual(self.fake.throttled, 1)
        self.assert_no_effect_twice()
        self.assertEqual(self.ob.outbox_counts().get("dead"), None)
        # one applied set per delivered event: the re-sends after *_after faults found the
        # level already there (stale compare, then a read) instead of setting it again
        self.assertEqual(len(self.fake.sets_applied), len(faults) + 2)
        # 500, timeout, partial body, invalid JSON; a reset on a reused keep-alive
        # connection is retried by libcurl itself on a fresh one
        self.assertGreaterEqual(self.ob.metric("depot_sync_retries_total", channel=1,
                                               kind="shopify"), 4)
        self.assertGreaterEqual(self.ob.metric("depot_sync_throttled_total", channel=1,
                                               kind="shopify"), 3)
        st = self.ob.status()
        self.assertTrue(st["running"])
        self.assertEqual(st["channels"][0]["bucket"]["maximum"], 1000)
        # the endpoint's breaker saw the upstream faults (500, hung answer, partial body,
        # invalid JSON at least) but never enough in a row to open
        (brk,) = [b for b in st["breakers"] if b["endpoint"] == "graphql"]
        self.assertGreaterEqual(brk["errors"], 4)
        self.assertEqual((brk["state"], brk["opens"]), ("closed", 0))
        self.assertEqual(self.ob.metric("depot_sync_circuit_state", channel=1,
                                        endpoint="graphql", state="closed"), 1)

    def test_breaker_opens_on_failures_and_closes_after_a_probe(self):
        self.setup_channel({"SKU-1": 10})
        self.ob.start()
        self.wait_synced("SKU-1")
        mark = self.ob.daemon.mark()
        self.fake.set_down("500")
        self.ob.driver("adjust", "SKU-1", "WH1", 1, 3)
        wait_until(lambda: self.ob.breaker_state("graphql") == "open", 15,
                   what="the breaker to open")
        self.assertEqual(self.ob.metric("depot_sync_circuit_state", channel=1,
                                        endpoint="graphql", state="open"), 1)
        self.ob.daemon.wait_for_log(since=mark, module="sync",
                                    msg=dt.re.compile(r"graphql: circuit open"))
        calls_while_open = len(self.fake.requests)
        dt.time.sleep(0.3)  # open: no calls at all within the cooldown
        self.assertLessEqual(len(self.fake.requests) - calls_while_open, 1)
        self.fake.set_down(None)
        self.wait_synced("SKU-1")
        wait_until(lambda: self.ob.breaker_state("graphql") == "closed", 10,
                   what="the breaker to close")
        self.assertGreaterEqual(self.ob.metric("depot_sync_circuit_opens_total", channel=1,
                                               endpoint="graphql"), 1)
        self.ob.daemon.wait_for_log(since=mark, module="sync",
                                    msg=dt.re.compile(r"graphql: circuit half_open"))

    def test_thousand_changes_while_down_become_one_call(self):
        self.setup_channel({"SKU-1": 10, "SKU-2": 5000})
        self.ob.start(sync_breaker_cooldown_ms=300)
        self.wait_synced("SKU-2")
        before = len(self.fake.sets_applied)
        self.fake.set_down("503")
        self.ob.driver("adjust", "SKU-2", "WH1", 1000, -1)
        self.fake.set_down(None)
        want = self.wait_synced("SKU-2")
        self.assertEqual(want, 4000)
        applied = self.fake.sets_applied[before:]
        self.assertEqual(len(applied), 1, f"calls after recovery: {applied}")
        self.assertEqual(applied[0][2], 4000)
        counts = self.ob.outbox_counts()
        self.assertGreaterEqual(counts["superseded"], 990)
        self.assertGreaterEqual(self.ob.status()["superseded"], 990)

    def test_dead_letter_then_retry_delivers_with_the_same_key(self):
        self.setup_channel({"SKU-1": 10})
        self.ob.start(sync_max_attempts=2, sync_breaker_threshold=100)
        self.wait_synced("SKU-1")
        self.fake.set_down("500")
        self.ob.driver("adjust", "SKU-1", "WH1", 1, 4)
        wait_until(lambda: self.ob.outbox_counts().get("dead") == 1, 15,
                   what="a dead letter")
        (oid, key, err, attempts), = self.ob.sql(
            "SELECT id, idempotency_key, last_error, attempts FROM outbox WHERE status = 'dead'")
        self.assertIn("HTTP 500", err)
        self.assertEqual(attempts, 2)
        listed = self.ob.ctl("--json", "outbox", "list", "--dead").stdout
        self.assertIn(key, listed)
        self.assertEqual(self.upstream("SKU-1"), 10)
        self.fake.set_down(None)
        self.ob.ctl("outbox", "retry", str(oid))
        self.assertEqual(self.wait_synced("SKU-1"), 14)
        self.assertEqual(self.fake.sets_applied[-1][3], f"depot://outbox/{key}")
        self.assertGreaterEqual(self.ob.metric("depot_sync_dead_letters_total", channel=1,
                                               kind="shopify"), 1)

    def test_fulfillment_is_created_once_with_tracking(self):
        self.setup_channel({"SKU-1": 50})
        for i in range(3):
            self.fake.add_order(5001 + i)
        self.ob.start()
        self.wait_synced("SKU-1")
        self.fake.push_faults("reset_after", "reset_after", "reset_after", "reset_after")
        self.ob.driver("ship", 1, 3, 5001, "SKU-1")
        self.wait_synced("SKU-1")
        for i in range(3):
            gid = f"gid://shopify/Order/{5001 + i}"
            self.assertEqual(self.fake.fulfillments_created.get(gid), 1, gid)
            f = self.fake.orders[gid]["fulfillments"][0]
            self.assertEqual(f["trackingInfo"], [{"number": f"TRK{5001 + i}"}])
        self.assert_no_effect_twice()
        self.assertEqual(self.ob.outbox_counts().get("dead"), None)

    def test_sigterm_lets_a_call_in_flight_finish_and_leaves_the_rest_due(self):
        self.setup_channel({"SKU-1": 10, "SKU-2": 10})
        self.ob.start(sync_http_timeout_ms=3000, sync_concurrency=1)
        self.wait_synced("SKU-2")
        self.fake.latency = 1.0
        n = len(self.fake.requests)
        self.ob.driver("adjust", "SKU-1", "WH1", 1, 1)
        self.ob.driver("adjust", "SKU-2", "WH1", 1, 1)
        wait_until(lambda: len(self.fake.requests) > n, 10, what="a call in flight")
        self.ob.stop()  # SIGTERM while the first call waits for its answer; exit 0
        self.assertEqual(self.upstream("SKU-1"), 11)  # it finished
        self.assertEqual(self.ob.outbox_counts().get("inflight"), None)
        self.assertEqual(self.ob.live(), 1)  # SKU-2's push: not started, still due
        self.fake.latency = 0
        self.ob.start()
        self.wait_synced("SKU-2")

    def test_version_2026_04_uses_change_from_quantity_and_idempotent(self):
        self.setup_channel({"SKU-1": 10}, api_version="2026-04")
        self.ob.start()
        self.wait_synced("SKU-1")
        self.fake.push_faults("reset_after")
        self.ob.driver("adjust", "SKU-1", "WH1", 1, 2)
        self.wait_synced("SKU-1")
        self.assertEqual(self.fake.versions, {"2026-04"})
        self.assertEqual(len(self.fake.sets_applied), 2)
        keys = [s[4] for s in self.fake.sets_applied]
        self.assertTrue(all(keys), keys)
        self.assertEqual(len(set(keys)), 2)
        self.assert_no_effect_twice()

    def test_channel_add_subscribes_the_webhooks_through_the_outbox(self):
        self.ob.stock({"SKU-1": 1})
        hook = "https://depot.example.com/webhooks/shopify"
        args = ["--json", "channel", "add", "shopify", "--shop", SHOP, "--token",
                self.fake.token, "--webhook-secret", "whsec", "--api-base", self.fake.url,
                "--webhook-url", hook]
        out = dt.json.loads(self.ob.ctl(*args).stdout)
        self.assertEqual(out["webhooks_queued"], 8)
        rows = self.ob.sql("SELECT topic, idempotency_key, status FROM outbox"
                           " WHERE topic = 'webhooks.register'")
        self.assertEqual(len(rows), 8)
        # re-running the command (rotating secrets) queues nothing new
        self.assertEqual(dt.json.loads(self.ob.ctl(*args).stdout)["webhooks_queued"], 0)
        # a lost answer (applied, then reset) and a 500 on the way: still one each
        self.fake.push_faults("reset_after", "500", "reset_after")
        self.ob.start()
        self.ob.wait_drained()
        self.assertEqual(self.ob.outbox_counts(), {"done": 8})
        want = {"ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_PAID", "ORDERS_CANCELLED",
                "REFUNDS_CREATE", "INVENTORY_LEVELS_UPDATE", "FULFILLMENTS_CREATE",
                "FULFILLMENTS_UPDATE"}
        self.assertEqual(set(self.fake.subscriptions), {(t, hook) for t in want})
        self.assertGreater(self.fake.subscription_calls, 8)  # the re-sends were answered
        (audit,) = self.ob.sql("SELECT count(*) FROM audit WHERE action ="
                               " 'channel.webhooks_queued'")[0]
        self.assertEqual(audit, 1)
        # only Shopify, only http(s) URLs
        bad = dt.run_depotctl("--data-dir", self.tmp.data_dir, "channel", "add", "shopify",
                              "--shop", SHOP, "--token", "t", "--webhook-secret", "w",
                              "--webhook-url", "ftp://x/")
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("webhook URL", bad.stderr)
        # refused before anything was stored: the token was not replaced by "t"
        self.assertEqual(self.ob.sql("SELECT count(*) FROM audit WHERE action ="
                                     " 'CHANNEL_CONNECTED'"), [(2,)])
        bad = dt.run_depotctl("--data-dir", self.tmp.data_dir, "channel", "add",
                              "woocommerce", "--store", "https://w.example.com", "--key", "k",
                              "--secret", "s", "--webhook-secret", "w", "--webhook-url", hook)
        self.assertNotEqual(bad.returncode, 0)


if __name__ == "__main__":
    unittest.main()
