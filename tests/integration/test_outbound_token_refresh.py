"""Outbound sync with Shopify's expiring offline tokens, against the fake Shopify (GraphQL
Admin API + OAuth token endpoint, tests/fakes/fake_shopify.py) and the real depotd: the
channel is installed through the OAuth callback, so its token expires and has a refresh
token. When Shopify refuses the current token (401), the outbound worker forces exactly
one refresh through the token service (audited TOKEN_REFRESHED) and re-sends the call
once with the new token, which applies it once. A 401 again after the refresh, a failed
refresh (TOKEN_FAILED) and a 401 for a non-expiring token are ordinary failures with a
clear last_error, retried with backoff until dead-lettered. No secret reaches the log,
the outbox or the audit trail."""
import collections
import hashlib
import hmac
import json
import time
import unittest
from urllib.parse import parse_qs, quote, urlsplit

import cli_testlib as cl
import depot_testlib as dt
from outbound_env import FakeShopify, OutboundCase, wait_until

SHOP = "refresh-shop.myshopify.com"
APP_ID = "app-id-6f1c"
APP_SECRET = "shpss_app_secret_4e2b9d0c7a"
ITEM, LOCATION = 1000, 77


def shopify_hmac(params):
    """Shopify's callback signature: hex HMAC-SHA256 over the sorted k=v pairs."""
    def esc(s, key):
        s = s.replace("%", "%25").replace("&", "%26")
        return s.replace("=", "%3D") if key else s
    message = "&".join(f"{esc(k, True)}={esc(v, False)}" for k, v in sorted(params.items()))
    return hmac.new(APP_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


class OutboundTokenRefreshTest(OutboundCase):
    def make_fake(self):
        return FakeShopify(token="shpat_not_installed_yet")

    def setUp(self):
        super().setUp()
        self.fake.enable_oauth(APP_ID, APP_SECRET, expires_in=3600)
        self.ob.stock({"SKU-1": 10})

    # ---- setup ----
    def start(self):
        dt.run_depotctl("--data-dir", self.tmp.data_dir, "app", "set", "shopify",
                        "--client-id", APP_ID, "--client-secret", "-", "--scopes",
                        "read_orders,write_inventory", input=APP_SECRET + "\n", check=True)
        # no backstop pulls: every call the fake sees is the test's
        self.ob.start(sync_max_attempts=3, sync_backstop_interval=0)

    def install(self):
        """The OAuth install through depotd: an expiring token with a refresh token."""
        out = self.ob.ctl("--json", "token", "create", "admin-bot", "--role", "admin")
        admin = json.loads(out.stdout)["token"]
        status, raw = cl.api_request(self.ob.port, admin, "POST", "/api/v1/oauth/shopify/start",
                                     {"shop": SHOP, "api_base": self.fake.url})
        self.assertEqual(status, 200, raw)
        q = parse_qs(urlsplit(json.loads(raw)["authorize_url"]).query)
        params = {"code": self.fake.add_code(), "shop": SHOP, "state": q["state"][0],
                  "timestamp": str(int(time.time())),
                  "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw=="}
        params["hmac"] = shopify_hmac(params)
        query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params.items())
        status, raw = cl.api_request(self.ob.port, None, "GET", "/oauth/shopify/callback?" + query)
        self.assertEqual(status, 202, raw)
        wait_until(lambda: self.ob.sql("SELECT 1 FROM token_cache WHERE owner LIKE 'channel:%'"
                                       " AND expires_at IS NOT NULL"), what="the installed token")
        # the install subscribes the shop's webhooks with the first token: let it finish
        wait_until(lambda: self.fake.subscription_calls >= 8, what="webhook subscriptions")
        (self.channel_id,) = self.ob.sql("SELECT id FROM channels WHERE name = ?", (SHOP,))[0]
        self.owner = f"channel:{self.channel_id}"

    def add_non_expiring(self):
        self.ob.ctl("channel", "add", "shopify", "--shop", SHOP, "--token", self.fake.token,
                    "--webhook-secret", "whsec", "--api-base", self.fake.url)

    def first_push(self):
        """Maps the SKU (an inventory push follows) and waits until Shopify holds 10."""
        self.ob.map(SHOP, {"SKU-1": ITEM})
        self.ob.wait_drained()
        wait_until(lambda: self.fake.level(ITEM, LOCATION) == 10, what="the first push")
        self.unauthorized_before = self.fake.unauthorized

    def change(self, delta):
        self.ob.driver("adjust", "SKU-1", "WH1", 1, delta)

    def newest_row(self):
        return self.ob.sql("SELECT status, attempts, coalesce(last_error, '') FROM outbox"
                           " WHERE topic = 'inventory.set' ORDER BY id DESC LIMIT 1")[0]

    def wait_dead(self):
        wait_until(lambda: self.newest_row()[0] == "dead", timeout=30,
                   what=f"a dead letter (now {self.newest_row()})")
        return self.newest_row()

    def audits(self, action):
        return self.ob.sql("SELECT actor, detail FROM audit WHERE action = ? AND entity = ?",
                           (action, self.owner))

    def assert_no_secret_anywhere(self):
        log = self.ob.daemon.stderr()
        stored = json.dumps(self.ob.sql("SELECT last_error FROM outbox")) + \
            json.dumps(self.ob.sql("SELECT detail FROM audit"))
        for secret in [APP_SECRET, *self.fake.issued, *self.fake.refresh_issued]:
            self.assertNotIn(secret, log)
            self.assertNotIn(secret, stored)

    # ---- tests ----
    def test_401_forces_one_refresh_and_the_call_is_retried_and_applied_once(self):
        self.start()
        self.install()
        self.first_push()
        old_token = self.fake.token
        self.fake.revoke_token()
        self.change(+5)
        self.ob.wait_drained()
        wait_until(lambda: self.fake.level(ITEM, LOCATION) == 15, what="the retried push")
        # one refresh-token grant, one refused call, the set applied once
        self.assertEqual(self.fake.grant_count("refresh_token"), 1)
        self.assertEqual(self.fake.unauthorized - self.unauthorized_before, 1)
        applied = [s for s in self.fake.sets_applied if s[2] == 15]
        self.assertEqual(len(applied), 1)
        uris = collections.Counter(s[3] for s in self.fake.sets_applied)
        self.assertEqual([u for u, n in uris.items() if n > 1], [])
        # re-sent within the same attempt: no failed attempt, no error left behind
        self.assertEqual(self.newest_row(), ("done", 0, ""))
        # the new token is the cached one, audited once by the worker
        self.assertNotEqual(self.fake.token, old_token)
        (cached,) = self.ob.sql("SELECT token_hash FROM token_cache WHERE owner = ?",
                                (self.owner,))[0]
        self.assertEqual(cached, hashlib.sha256(self.fake.token.encode()).hexdigest())
        refreshed = [a for a, _ in self.audits("TOKEN_REFRESHED") if a == "system:sync"]
        self.assertEqual(refreshed, ["system:sync"])
        self.assertEqual(self.audits("TOKEN_FAILED"), [])
        self.ob.daemon.wait_for_log(module="sync", timeout=5,
                                    msg=f"channel {self.channel_id} ({SHOP}): access token "
                                        "refreshed; re-sending the refused calls")
        self.assert_no_secret_anywhere()

    def test_parallel_401s_make_one_refresh(self):
        skus = {f"SKU-{i}": ITEM + i for i in range(5)}
        self.ob.stock({sku: 10 for sku in skus if sku != "SKU-1"})
        self.start()
        self.install()
        self.ob.map(SHOP, skus)
        self.ob.wait_drained()
        wait_until(lambda: all(self.fake.level(i, LOCATION) == 10 for i in skus.values()),
                   what="the first pushes")
        before = self.fake.unauthorized
        self.fake.latency = 0.3  # the calls overlap: several see the 401
        self.fake.revoke_token()
        self.ob.driver("adjust-each", "WH1", 2)
        wait_until(lambda: all(self.fake.level(i, LOCATION) == 12 for i in skus.values()),
                   timeout=30, what="every retried push")
        self.ob.wait_drained()
        self.assertGreaterEqual(self.fake.unauthorized - before, 2)
        self.assertEqual(self.fake.grant_count("refresh_token"), 1)
        uris = collections.Counter(s[3] for s in self.fake.sets_applied)
        self.assertEqual([u for u, n in uris.items() if n > 1], [])
        self.assertEqual(len([s for s in self.fake.sets_applied if s[2] == 12]), 5)
        self.assertEqual(self.ob.sql("SELECT count(*) FROM outbox WHERE status != 'done'"),
                         [(0,)])
        self.assert_no_secret_anywhere()

    def test_a_second_401_after_the_refresh_is_an_ordinary_failure(self):
        self.start()
        self.install()
        self.first_push()
        self.fake.refuse_tokens = True  # the refreshed token is refused too
        self.change(+3)
        status, attempts, error = self.wait_dead()
        self.assertEqual(attempts, 3)
        self.assertIn("HTTP 401", error)
        self.assertIn("after a forced refresh", error)
        self.assertEqual(self.fake.grant_count("refresh_token"), 1)
        self.assertEqual(self.fake.level(ITEM, LOCATION), 10)
        self.assertEqual(len(self.audits("TOKEN_REFRESHED")), 2)  # install + the one refresh
        self.assert_no_secret_anywhere()

    def test_a_failed_refresh_is_audited_and_the_row_backs_off(self):
        self.start()
        self.install()
        self.first_push()
        with self.fake.lock:
            self.fake.refresh_tokens.clear()  # the refresh token no longer works
        self.fake.revoke_token()
        self.change(+2)
        status, attempts, error = self.wait_dead()
        self.assertEqual(attempts, 3)
        self.assertEqual(self.fake.grant_count("refresh_token"), 1)
        ((actor, detail),) = self.audits("TOKEN_FAILED")
        self.assertEqual(actor, "system:sync")
        self.assertIn("invalid_grant", json.loads(detail)["reason"])
        rows = self.ob.sql("SELECT last_error FROM outbox WHERE topic = 'inventory.set'"
                           " ORDER BY id DESC LIMIT 1")
        self.assertIn("HTTP 401", rows[0][0])
        self.assert_no_secret_anywhere()

    def test_401_for_a_non_expiring_token_is_an_ordinary_failure(self):
        self.add_non_expiring()
        self.start()
        (channel_id,) = self.ob.sql("SELECT id FROM channels WHERE name = ?", (SHOP,))[0]
        self.owner = f"channel:{channel_id}"
        self.first_push()
        self.fake.revoke_token()
        self.change(+4)
        status, attempts, error = self.wait_dead()
        self.assertEqual(attempts, 3)
        self.assertIn("HTTP 401", error)
        self.assertIn("cannot be refreshed", error)
        self.assertEqual(self.fake.grants, [])
        self.assertEqual(self.fake.unauthorized - self.unauthorized_before, 3)
        self.assertEqual(self.audits("TOKEN_REFRESHED") + self.audits("TOKEN_FAILED"), [])
        self.assert_no_secret_anywhere()


if __name__ == "__main__":
    unittest.main()
