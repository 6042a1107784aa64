"""Outbound sync to WooCommerce against the fake REST API v3 (tests/fakes/): stock goes
out in products/batch requests of at most 100 items, signed with OAuth 1.0a over plain
HTTP (the fake recomputes the signature); every injected fault (429/503 with Retry-After,
500, resets before and after applying, a hung answer, a partial or slow body, invalid
JSON) converges to the local level; a shipped order gets exactly
one tracking note and is completed once, however often the delivery is repeated. Over
HTTPS the same calls use Basic authentication, against a store whose certificate comes
from a CA only `upstream_ca_file` trusts; without it the certificate is refused."""
import os
import subprocess
import tempfile
import unittest

from outbound_env import FakeWooCommerce, OutboundCase, wait_until

STORE = "https://shop.example.com"


class WooCommerceBase(OutboundCase):
    """A WooCommerce channel mapped to fake products, and waiting for its stock."""

    def setup_channel(self, skus):
        self.ob.stock(skus)
        self.ob.add_woocommerce(self.fake)
        self.products = {sku: 500 + i for i, sku in enumerate(skus)}
        for pid in self.products.values():
            self.fake.add_product(pid, stock=0)
        self.ob.map(STORE, self.products, id_option="--product")

    def wait_synced(self, timeout=20):
        self.ob.wait_drained(timeout)
        for sku, pid in self.products.items():
            want = self.ob.available(sku)
            wait_until(lambda: self.fake.stock(pid) == want, timeout,
                       what=f"{sku} stock {self.fake.stock(pid)} == {want}")


class WooCommerceCase(WooCommerceBase):
    def make_fake(self):
        return FakeWooCommerce()

    def test_batches_of_at_most_100_signed_with_oauth(self):
        self.setup_channel({f"W-{i:03d}": i for i in range(150)})
        self.ob.start()
        self.wait_synced()
        self.assertEqual(sum(self.fake.batches), 150)
        self.assertLessEqual(max(self.fake.batches), 100)
        self.assertLess(len(self.fake.batches), 10)  # batched, not one call per SKU
        self.assertEqual(self.fake.auth_failures, 0)
        self.assertGreater(self.fake.oauth_requests, 0)
        for method, path, headers, body in self.fake.requests:
            self.assertIn("oauth_signature=", path)
            self.assertNotIn("Authorization", headers)  # no Basic auth over plain HTTP

    def test_faults_converge(self):
        self.setup_channel({"W-1": 5, "W-2": 17})
        self.ob.start()
        self.wait_synced()
        self.fake.hang_seconds = 2.0
        kinds = ["503", "429", "500", "reset", "reset_after", "timeout_after", "partial_after",
                 "slow", "invalid_json"]
        for kind in kinds:
            with self.subTest(fault=kind):
                self.fake.push_faults(kind)
                self.ob.driver("adjust", "W-1", "WH1", 1, 1)
                self.ob.driver("adjust", "W-2", "WH1", 1, -1)
                self.wait_synced()
                self.assertEqual(self.fake.faults_served.get(kind), 1)
        self.assertEqual(self.ob.outbox_counts().get("dead"), None)
        # a batch is a level, so a re-sent one writes the same value: every write the
        # fake applied after the first sync carries the level of its moment, and the
        # last one per product is ours
        self.assertEqual(self.fake.stock(500), self.ob.available("W-1"))
        self.assertEqual(self.fake.stock(501), self.ob.available("W-2"))
        self.assertGreaterEqual(self.ob.metric("depot_sync_retries_total", channel=1,
                                               kind="woocommerce"), 3)
        self.assertGreaterEqual(self.ob.metric("depot_sync_throttled_total", channel=1,
                                               kind="woocommerce"), 2)

    def test_shipped_order_noted_and_completed_once(self):
        self.setup_channel({"W-1": 20})
        for oid in (9001, 9002):
            self.fake.add_order(oid)
        self.ob.start()
        self.wait_synced()
        self.fake.push_faults("reset_after", "reset_after", "reset_after", "500")
        self.ob.driver("ship", 1, 2, 9001, "W-1")
        self.wait_synced()
        for oid in (9001, 9002):
            self.assertEqual(self.fake.notes_added.get(oid), 1, self.fake.orders[oid])
            self.assertEqual(self.fake.completions.get(oid), 1)
            self.assertEqual(self.fake.orders[oid]["status"], "completed")
            self.assertIn(f"TRK{oid}", self.fake.orders[oid]["notes"][0])
        self.assertEqual(self.ob.outbox_counts().get("dead"), None)

    def test_unknown_product_is_dead_lettered_with_the_reason(self):
        self.setup_channel({"W-1": 3, "W-2": 4})
        with self.fake.lock:
            del self.fake.products[self.products["W-2"]]
        self.ob.start()
        wait_until(lambda: self.ob.outbox_counts().get("dead") == 1, 15, what="a dead letter")
        (err,), = self.ob.sql("SELECT last_error FROM outbox WHERE status = 'dead'")
        self.assertIn("Invalid ID", err)
        self.assertEqual(self.fake.stock(self.products["W-1"]), 3)



class WooCommerceHttpsCase(WooCommerceBase):
    """The store on HTTPS with a throwaway self-signed certificate for 127.0.0.1."""

    def make_fake(self):
        self.certs = tempfile.mkdtemp(prefix="depot-woo-tls-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.certs])
        self.cert = os.path.join(self.certs, "cert.pem")
        key = os.path.join(self.certs, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", self.cert, "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        return FakeWooCommerce().use_tls(self.cert, key)

    def test_basic_auth_over_https_with_a_trusted_private_ca(self):
        self.setup_channel({"W-1": 7, "W-2": 3})
        self.ob.start(upstream_ca_file=self.cert)
        self.wait_synced()
        self.assertEqual(self.fake.auth_failures, 0)
        self.assertEqual(self.fake.oauth_requests, 0)
        for method, path, headers, body in self.fake.requests:
            self.assertTrue(headers.get("Authorization", "").startswith("Basic "), path)
            self.assertNotIn("oauth_", path)  # no signed query over HTTPS

    def test_an_untrusted_certificate_is_refused(self):
        self.setup_channel({"W-1": 7})
        self.ob.start()
        wait_until(lambda: any("certificate" in (r[0] or "").lower() for r in self.ob.sql(
            "SELECT last_error FROM outbox WHERE topic = 'inventory.set'")), 20,
            what="the certificate to be refused")
        self.assertEqual(self.fake.requests, [])  # nothing reached the store
        self.assertEqual(self.fake.stock(self.products["W-1"]), 0)


if __name__ == "__main__":
    unittest.main()
