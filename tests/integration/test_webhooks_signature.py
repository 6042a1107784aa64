"""Webhook endpoints refuse what they cannot trust before storing anything: a signature
that does not match the raw body (one flipped byte in the body or in the header), a
missing signature, an unknown shop or store, an oversized body, a client over its rate
limit; a valid delivery is stored once and acknowledged; WooCommerce's ping gets 200."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webhook_helpers as wh  # noqa: E402


def flip(text, i):
    """text with the character at i changed (still base64)."""
    c = text[i]
    return text[:i] + ("A" if c != "A" else "B") + text[i + 1:]


class WebhookSignatureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.depot = wh.Depot(max_body_bytes=65536).start()

    @classmethod
    def tearDownClass(cls):
        cls.depot.close()

    def inbox_count(self):
        return self.depot.query("SELECT count(*) FROM inbox")[0][0]

    def assert_refused(self, status, headers, body, code, path="/webhooks/shopify"):
        before = self.inbox_count()
        got, payload = self.depot.post(path, body, headers)
        self.assertEqual(got, status, payload)
        self.assertEqual(json.loads(payload)["error"]["code"], code)
        self.assertEqual(self.inbox_count(), before, "a refused delivery was stored")

    def test_valid_signature_is_stored_and_acknowledged(self):
        body = wh.order_body(order_id=5001)
        headers = wh.shopify_headers(body, "orders/create")
        # Header names are case-insensitive (HTTP/2 lower-cases them).
        headers = {k.lower() if i % 2 else k.upper(): v
                   for i, (k, v) in enumerate(headers.items())}
        status, payload = self.depot.post("/webhooks/shopify", body, headers)
        self.assertEqual(status, 200, payload)
        self.assertEqual(json.loads(payload)["status"], "accepted")
        rows = self.depot.query("SELECT topic, body FROM inbox WHERE delivery_id = ?",
                                headers["x-shopify-webhook-id"] if "x-shopify-webhook-id"
                                in headers else headers["X-SHOPIFY-WEBHOOK-ID"])
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][0], "orders/create")
        self.assertEqual(bytes(rows[0][1]), body, "the raw body must be kept byte for byte")

    def test_one_flipped_byte_in_the_body_is_refused(self):
        body = wh.order_body(order_id=5002)
        headers = wh.shopify_headers(body, "orders/create")
        tampered = body.replace(b'"#5002"', b'"#5003"')
        self.assertNotEqual(tampered, body)
        self.assert_refused(401, headers, tampered, "invalid_signature")

    def test_one_flipped_character_in_the_signature_is_refused(self):
        body = wh.order_body(order_id=5004)
        headers = wh.shopify_headers(body, "orders/create")
        for i in (0, 10, len(headers["X-Shopify-Hmac-Sha256"]) - 2):
            bad = dict(headers)
            bad["X-Shopify-Hmac-Sha256"] = flip(headers["X-Shopify-Hmac-Sha256"], i)
            self.assert_refused(401, bad, body, "invalid_signature")

    def test_missing_or_wrong_secret_signature_is_refused(self):
        body = wh.order_body(order_id=5005)
        headers = wh.shopify_headers(body, "orders/create")
        del headers["X-Shopify-Hmac-Sha256"]
        self.assert_refused(401, headers, body, "missing_signature")
        other = wh.shopify_headers(body, "orders/create", secret="not-the-secret")
        self.assert_refused(401, other, body, "invalid_signature")

    def test_unknown_shop_is_404(self):
        body = wh.order_body(order_id=5006)
        headers = wh.shopify_headers(body, "orders/create", shop="stranger.myshopify.com")
        self.assert_refused(404, headers, body, "unknown_shop")

    def test_oversized_body_is_413(self):
        body = b'{"id": 1, "pad": "' + b"x" * 70000 + b'"}'
        self.assert_refused(413, wh.shopify_headers(body, "orders/create"), body,
                            "body_too_large")

    def test_woocommerce_signature_store_and_ping(self):
        body = json.dumps(wh.fixture("woocommerce", "order.json")).encode()
        status, _ = self.depot.woo(body, "order.created")
        self.assertEqual(status, 200)
        bad = wh.woo_headers(body, "order.created")
        bad["X-WC-Webhook-Signature"] = flip(bad["X-WC-Webhook-Signature"], 3)
        self.assert_refused(401, bad, body, "invalid_signature", "/webhooks/woocommerce")
        unknown = dict(wh.woo_headers(body, "order.created"),
                       **{"X-WC-Webhook-Source": "https://elsewhere.example.com/"})
        self.assert_refused(404, unknown, body, "unknown_store", "/webhooks/woocommerce")
        # The ping on webhook creation: an unsigned form POST that needs exactly 200.
        before = self.inbox_count()
        status, _ = self.depot.post("/webhooks/woocommerce", b"webhook_id=7",
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200)
        self.assertEqual(self.inbox_count(), before)
        self.assert_refused(401, {"Content-Type": "application/x-www-form-urlencoded",
                                  "X-WC-Webhook-Source": wh.WOO_STORE},
                            b"webhook_id=7&x=1", "missing_signature", "/webhooks/woocommerce")

    def test_signed_delivery_with_an_unstorable_header_is_400_and_alone(self):
        """A header value the inbox refuses is answered 400 before the group commit, so
        it cannot fail the deliveries committed with it."""
        body = wh.order_body(order_id=5007)
        headers = wh.shopify_headers(body, "orders/create", event_id='evt,"quoted"')
        self.assert_refused(400, headers, body, "invalid_delivery")
        woo = json.dumps(wh.fixture("woocommerce", "order.json")).encode()
        self.assert_refused(400, wh.woo_headers(woo, "order.created", webhook_id="7,8"), woo,
                            "invalid_delivery", "/webhooks/woocommerce")
        status, payload = self.depot.shopify(body)
        self.assertEqual((status, json.loads(payload)["status"]), (200, "accepted"))

    def test_code_compares_signatures_in_constant_time(self):
        with open(os.path.join(wh.dt.SOURCE_DIR, "web", "webhooks.c")) as f:
            src = f.read()
        self.assertIn("diff |=", src)
        self.assertNotIn("memcmp(mac", src)


class WebhookRateLimitTest(unittest.TestCase):
    def test_over_the_rate_limit_is_429_and_not_stored(self):
        depot = wh.Depot(rate_limit=1, rate_burst=2).start()
        try:
            statuses = []
            for i in range(6):
                body = wh.order_body(order_id=6000 + i)
                statuses.append(depot.shopify(body)[0])
            self.assertIn(429, statuses)
            stored = depot.query("SELECT count(*) FROM inbox")[0][0]
            self.assertEqual(stored, statuses.count(200))
        finally:
            depot.close()


if __name__ == "__main__":
    unittest.main()
