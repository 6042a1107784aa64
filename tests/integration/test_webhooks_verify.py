"""Webhook signatures are checked off the event loop (web/webhooks.c's verifier threads):
concurrent good and forged deliveries on keep-alive connections each get their own
answer -- 200 and stored with the SHA-256 of the raw body, or 401 and nothing stored --
with a distinct X-Request-Id; a forged delivery with a missing topic is still a 401 (the
signature is checked before any other refusal), a signed one a 400."""

import concurrent.futures
import hashlib
import http.client
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webhook_helpers as wh  # noqa: E402

PER_CONNECTION = 12
CONNECTIONS = 6


class WebhookVerifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.depot = wh.Depot().start()

    @classmethod
    def tearDownClass(cls):
        cls.depot.close()

    def deliveries(self, conn_no):
        """(path, body, headers, forged) for one connection: Shopify and WooCommerce,
        every third one signed with the wrong secret."""
        out = []
        for i in range(PER_CONNECTION):
            order_id = 70000 + conn_no * 100 + i
            body = wh.order_body(order_id=order_id)
            forged = i % 3 == 2
            if i % 2:
                headers = wh.woo_headers(body, "order.created",
                                         secret="not-the-secret" if forged else wh.WOO_SECRET)
                out.append(("/webhooks/woocommerce", body, headers, forged))
            else:
                headers = wh.shopify_headers(
                    body, "orders/create",
                    secret="not-the-secret" if forged else wh.SHOP_SECRET)
                out.append(("/webhooks/shopify", body, headers, forged))
        return out

    def run_connection(self, conn_no):
        """Sends one connection's deliveries one after another on one keep-alive
        connection; returns (delivery, status, payload, request id) for each."""
        conn = http.client.HTTPConnection("127.0.0.1", self.depot.port, timeout=20)
        results = []
        try:
            for delivery in self.deliveries(conn_no):
                path, body, headers, _ = delivery
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                results.append((delivery, resp.status, resp.read(),
                                resp.getheader("X-Request-Id")))
        finally:
            conn.close()
        return results

    def test_concurrent_good_and_forged_deliveries(self):
        with concurrent.futures.ThreadPoolExecutor(CONNECTIONS) as pool:
            results = [r for rs in pool.map(self.run_connection, range(CONNECTIONS))
                       for r in rs]
        self.assertEqual(len(results), CONNECTIONS * PER_CONNECTION)
        ids = [r[3] for r in results]
        for rid in ids:
            self.assertRegex(rid or "", re.compile(r"^[0-9a-f]{16}$"))
        self.assertEqual(len(set(ids)), len(ids), "request ids must be distinct")
        stored = {bytes(row[0]): row[1] for row in self.depot.query(
            "SELECT body, body_sha256 FROM inbox")}
        for (path, body, headers, forged), status, payload, _ in results:
            if forged:
                self.assertEqual(status, 401, payload)
                self.assertEqual(json.loads(payload)["error"]["code"], "invalid_signature")
                self.assertNotIn(body, stored, "a forged delivery was stored")
            else:
                self.assertEqual(status, 200, payload)
                self.assertEqual(json.loads(payload), {"status": "accepted"})
                self.assertIn(body, stored, "an acknowledged delivery is not in the inbox")
                # WooCommerce's key includes the body hash; Shopify's ids need none.
                expected = (hashlib.sha256(body).hexdigest() if "woocommerce" in path
                            else None)
                self.assertEqual(stored[body], expected)

    def test_forged_delivery_without_topic_is_401_signed_one_400(self):
        body = wh.order_body(order_id=79001)
        for forged, status, code in ((True, 401, "invalid_signature"),
                                     (False, 400, "missing_topic")):
            headers = wh.shopify_headers(
                body, "orders/create", secret="not-the-secret" if forged else wh.SHOP_SECRET)
            del headers["X-Shopify-Topic"]
            got, payload = self.depot.post("/webhooks/shopify", body, headers)
            self.assertEqual(got, status, payload)
            self.assertEqual(json.loads(payload)["error"]["code"], code)
        self.assertEqual(self.depot.query(
            "SELECT count(*) FROM inbox WHERE body = ?", body)[0][0], 0)


if __name__ == "__main__":
    unittest.main()
