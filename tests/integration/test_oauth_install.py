"""Integration tests of the OAuth install flows against the real depotd and the fake
OAuth server: the Shopify authorization-code install (authorize URL with scopes and a
single-use state; callback hmac, state and shop checks; the code exchanged for an
expiring offline token stored sealed and refreshed ahead of expiry by the token keeper;
non-expiring tokens kept), and the WooCommerce /wc-auth/v1/authorize key flow (keys
POSTed to our callback, verified by the single-use user_id, stored sealed)."""

import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import unittest
from urllib.parse import parse_qs, quote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_testlib as cl  # noqa: E402
import depot_testlib as dt  # noqa: E402
import fake_carriers as fc  # noqa: E402

SHOP = "demo-shop.myshopify.com"


def shopify_hmac(params, secret=fc.SHOPIFY_APP_SECRET):
    """Shopify's callback signature: hex HMAC-SHA256 over the sorted k=v pairs."""
    def esc(s, key):
        s = s.replace("%", "%25").replace("&", "%26")
        return s.replace("=", "%3D") if key else s
    message = "&".join(f"{esc(k, True)}={esc(v, False)}" for k, v in sorted(params.items()))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class OAuthInstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = fc.FakeCarriers(expires_in=6).__enter__()
        cls.answers = []  # every API answer, for the secrets check
        cls.tmp = dt.TempDataDir()
        d = cls.tmp.data_dir
        dt.run_depotctl("--data-dir", d, "init", check=True)
        dt.run_depotctl("--data-dir", d, "app", "set", "shopify", "--client-id",
                        fc.SHOPIFY_APP_ID, "--client-secret", "-", "--scopes",
                        "read_orders,write_fulfillments", input=fc.SHOPIFY_APP_SECRET + "\n",
                        check=True)
        out = dt.run_depotctl("--data-dir", d, "--json", "token", "create", "admin-bot",
                              "--role", "admin", check=True).stdout
        cls.token = json.loads(out)["token"]
        cls.port = dt.free_port()
        cls.daemon = dt.Depotd("--data-dir", d, "--listen", f"127.0.0.1:{cls.port}")
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.daemon.stop()
        finally:
            cls.tmp.cleanup()
            cls.fake.__exit__(None, None, None)

    def request(self, method, path, body=None, auth=True):
        status, raw = cl.api_request(self.port, self.token if auth else None, method, path,
                                     body)
        self.answers.append(raw.decode("latin-1"))
        return status, (json.loads(raw) if raw else None)

    def channels(self):
        out = dt.run_depotctl("--data-dir", self.tmp.data_dir, "--json", "channel", "list",
                              check=True).stdout
        return json.loads(out)["items"]

    def sql(self, query, args=()):
        return cl.sql(self.tmp, query, args)

    def start_shopify(self, shop=SHOP):
        status, doc = self.request("POST", "/api/v1/oauth/shopify/start",
                                   {"shop": shop, "api_base": self.fake.base})
        self.assertEqual(status, 200, doc)
        url = urlsplit(doc["authorize_url"])
        self.assertEqual(f"{url.scheme}://{url.netloc}", self.fake.base)
        self.assertEqual(url.path, "/admin/oauth/authorize")
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        return q

    def callback(self, params, sign=True, tamper=None):
        params = dict(params)
        if sign:
            params["hmac"] = shopify_hmac(params)
        if tamper:
            params.update(tamper)
        query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params.items())
        return self.request("GET", "/oauth/shopify/callback?" + query, auth=False)

    def callback_params(self, state, shop=SHOP):
        code = "code-" + secrets.token_hex(8)
        self.fake.shopify_codes[code] = shop
        return {"code": code, "shop": shop, "state": state, "timestamp": str(int(time.time())),
                "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw=="}

    def wait_channel(self, name):
        found = []
        def present():
            found[:] = [c for c in self.channels() if c["name"] == name]
            return bool(found)
        dt.wait_until(present, timeout=15, what=f"channel {name}")
        return found[0]

    def test_1_shopify_install_with_an_expiring_token_and_its_refresh(self):
        q = self.start_shopify()
        self.assertEqual(q["client_id"], fc.SHOPIFY_APP_ID)
        self.assertEqual(q["scope"], "read_orders,write_fulfillments")
        self.assertEqual(q["redirect_uri"], f"http://127.0.0.1:{self.port}/oauth/shopify/callback")
        self.assertRegex(q["state"], r"^[0-9a-f]{64}$")
        status, doc = self.callback(self.callback_params(q["state"]))
        self.assertEqual(status, 202, doc)
        ch = self.wait_channel(SHOP)
        self.assertEqual(ch["credentials"], ["refresh_token", "token", "webhook_secret"])
        self.assertEqual(self.sql("SELECT actor FROM audit WHERE action = 'CHANNEL_CONNECTED'"
                                  " AND entity = ?", (f"channel:{ch['id']}",)),
                         [("oauth:shopify",)])
        exchange = [b for r, b in self.fake.requests if r == "shopify_token"][0]
        self.assertEqual(exchange.get("expiring"), "1")
        first_token = self.fake.issued[-1]
        # The shop's webhooks point at our endpoint, registered with the new token.
        dt.wait_until(lambda: len(self.fake.webhooks) >= 8, timeout=15, what="webhooks")
        topics = {t for tok, t, cb in self.fake.webhooks if tok == first_token}
        self.assertIn("ORDERS_CREATE", topics)
        self.assertIn("REFUNDS_CREATE", topics)
        self.assertEqual({cb for _, _, cb in self.fake.webhooks},
                         {f"http://127.0.0.1:{self.port}/webhooks/shopify"})
        # Expiring token (6 s): the keeper refreshes it ahead of expiry with the refresh
        # token, and the new one is what the channel now holds.
        owner = f"channel:{ch['id']}"
        (exp1,) = self.sql("SELECT expires_at FROM token_cache WHERE owner = ?", (owner,))[0]
        dt.wait_until(lambda: self.sql("SELECT expires_at FROM token_cache WHERE owner = ?",
                                       (owner,))[0][0] > exp1, timeout=15, what="refresh")
        refreshes = [b for r, b in self.fake.requests
                     if r == "shopify_token" and b.get("grant_type") == "refresh_token"]
        self.assertGreaterEqual(len(refreshes), 1)
        (refreshed_at,) = self.sql("SELECT refreshed_at FROM token_cache WHERE owner = ?",
                                   (owner,))[0]
        self.assertLessEqual(refreshed_at, exp1, "refreshed only after the old token expired")
        self.assertNotEqual(self.fake.issued[-1], first_token)
        with open(self.tmp.db_path, "rb") as f:
            blob = f.read()
        for secret in [fc.SHOPIFY_APP_SECRET, *self.fake.issued]:
            self.assertNotIn(secret.encode(), blob)

    def test_2_tampered_parameter_is_refused(self):
        q = self.start_shopify()
        params = self.callback_params(q["state"])
        status, doc = self.callback(params, tamper={"timestamp": "1"})
        self.assertEqual((status, doc["error"]["code"]), (401, "invalid_hmac"))
        status, doc = self.callback(params, tamper={"hmac": "0" * 64})
        self.assertEqual((status, doc["error"]["code"]), (401, "invalid_hmac"))
        # The state was not spent by the refused attempts.
        status, doc = self.callback(params)
        self.assertEqual(status, 202, doc)

    def test_3_wrong_and_replayed_state_are_refused(self):
        status, doc = self.callback(self.callback_params(secrets.token_hex(32)))
        self.assertEqual((status, doc["error"]["code"]), (403, "invalid_state"))
        q = self.start_shopify()
        status, doc = self.callback(self.callback_params(q["state"]))
        self.assertEqual(status, 202, doc)
        status, doc = self.callback(self.callback_params(q["state"]))
        self.assertEqual((status, doc["error"]["code"]), (403, "state_reused"))

    def test_4_bad_shop_domain_is_refused(self):
        q = self.start_shopify()
        for bad in ("evil.example.com", "-x.myshopify.com", "a.myshopify.com.evil.com"):
            status, doc = self.callback(self.callback_params(q["state"], shop=bad))
            self.assertEqual((status, doc["error"]["code"]), (400, "invalid_shop"), bad)
        # A good state issued for one shop does not install another.
        status, doc = self.callback(self.callback_params(q["state"], shop="other.myshopify.com"))
        self.assertEqual((status, doc["error"]["code"]), (403, "invalid_state"))
        status, doc = self.request("POST", "/api/v1/oauth/shopify/start", {"shop": "evil.com"})
        self.assertEqual((status, doc["error"]["code"]), (400, "invalid_shop"))

    def test_5_non_expiring_token_is_kept_as_is(self):
        self.fake.shopify_expiring = False
        try:
            shop = "custom-app.myshopify.com"
            q = self.start_shopify(shop)
            status, _ = self.callback(self.callback_params(q["state"], shop=shop))
            self.assertEqual(status, 202)
            ch = self.wait_channel(shop)
            self.assertEqual(ch["credentials"], ["token", "webhook_secret"])
            rows = self.sql("SELECT expires_at FROM token_cache WHERE owner = ?",
                            (f"channel:{ch['id']}",))
            self.assertEqual(rows, [(None,)])
        finally:
            self.fake.shopify_expiring = True

    def test_6_start_needs_admin(self):
        status, doc = self.request("POST", "/api/v1/oauth/shopify/start", {"shop": SHOP},
                                   auth=False)
        self.assertEqual(status, 401)

    def test_7_woocommerce_key_flow(self):
        store = "https://woo.example.com/shop"
        status, doc = self.request("POST", "/api/v1/oauth/woocommerce/start",
                                   {"store": store, "api_base": self.fake.base})
        self.assertEqual(status, 200, doc)
        url = urlsplit(doc["authorize_url"])
        self.assertEqual(f"{url.scheme}://{url.netloc}{url.path}",
                         store + "/wc-auth/v1/authorize")
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.assertEqual(q["scope"], "read_write")
        self.assertEqual(q["callback_url"],
                         f"http://127.0.0.1:{self.port}/oauth/woocommerce/callback")
        keys = {"key_id": 7, "user_id": q["user_id"], "consumer_key": "ck_" + "a" * 40,
                "consumer_secret": "cs_" + "b" * 40, "key_permissions": "read_write"}
        status, doc = self.request("POST", "/oauth/woocommerce/callback", keys, auth=False)
        self.assertEqual(status, 200, doc)
        ch = [c for c in self.channels() if c["kind"] == "woocommerce"][0]
        self.assertEqual(ch["name"], store)
        self.assertEqual(ch["credentials"], ["consumer_key", "consumer_secret", "webhook_secret"])
        status, doc = self.request("POST", "/oauth/woocommerce/callback", keys, auth=False)
        self.assertEqual((status, doc["error"]["code"]), (403, "state_reused"))
        status, doc = self.request("POST", "/oauth/woocommerce/callback",
                                   dict(keys, user_id=secrets.token_hex(32)), auth=False)
        self.assertEqual((status, doc["error"]["code"]), (403, "invalid_state"))
        status, doc = self.request("POST", "/oauth/woocommerce/callback",
                                   dict(keys, consumer_key="nope"), auth=False)
        self.assertEqual(status, 400)
        with open(self.tmp.db_path, "rb") as f:
            self.assertNotIn(b"cs_" + b"b" * 40, f.read())

    def test_7b_cli_install_link_completes_through_the_callback(self):
        shop = "cli-shop.myshopify.com"
        redirect = f"http://127.0.0.1:{self.port}/oauth/shopify/callback"
        base = ["--data-dir", self.tmp.data_dir, "--json", "app", "install", "shopify"]
        out = dt.run_depotctl(*base, "--shop", shop, "--redirect-uri", redirect,
                              "--api-base", self.fake.base, check=True).stdout
        self.answers.append(out)
        url = urlsplit(json.loads(out)["authorize_url"])
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.assertEqual((url.path, q["client_id"], q["redirect_uri"]),
                         ("/admin/oauth/authorize", fc.SHOPIFY_APP_ID, redirect))
        status, doc = self.callback(self.callback_params(q["state"], shop=shop))
        self.assertEqual(status, 202, doc)
        self.assertEqual(self.wait_channel(shop)["kind"], "shopify")
        status, doc = self.callback(self.callback_params(q["state"], shop=shop))
        self.assertEqual((status, doc["error"]["code"]), (403, "state_reused"))
        bad = dt.run_depotctl(*base, "--shop", "evil.example.com", "--redirect-uri", redirect)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("myshopify.com", bad.stderr)
        bad = dt.run_depotctl(*base, "--shop", shop, "--redirect-uri", "javascript:x")
        self.assertEqual(bad.returncode, 1)

    def test_8_no_secret_in_the_log_the_answers_or_the_database(self):
        """Runs last: everything the install flows did is in the log and the files."""
        self.assertGreater(len(self.fake.issued), 2)
        refresh_tokens = list(self.fake.shopify_refresh)
        blobs = [self.daemon.stderr(), *self.answers,
                 *cl.data_dir_texts(self.tmp.data_dir, db_only=True)]
        cl.assert_no_secret(self, [fc.SHOPIFY_APP_SECRET, "cs_" + "b" * 40, *self.fake.issued,
                                   *refresh_tokens], blobs)


if __name__ == "__main__":
    unittest.main()
