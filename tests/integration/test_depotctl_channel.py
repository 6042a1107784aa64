"""Integration tests of `depotctl channel ...`: adding Shopify and WooCommerce channels with
their credentials sealed in the vault (never stored or printed in clear), names normalised
the way webhooks carry them, bad input refused without a trace, and SKU/location mappings
that make the channel's stock pushes appear in the outbox."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_testlib as cl  # noqa: E402

TOKEN = "shpat_0123456789abcdef-secret-token"
WEBHOOK_SECRET = "whsec-the-shopify-webhook-secret"
CK = "ck_0f0f0f0f0f0f0f0f-consumer-key"
CS = "cs_1e1e1e1e1e1e1e1e-consumer-secret"
SECRETS = [TOKEN, WEBHOOK_SECRET, CK, CS]


class ChannelCliTest(cl.DataDirTest):
    def channels(self):
        return json.loads(self.ctl("--json", "channel", "list").stdout)["items"]

    def assert_no_secret_anywhere(self, *texts):
        cl.assert_no_secret(self, SECRETS, [*texts, *cl.data_dir_texts(self.tmp.data_dir)])

    def add_shopify(self, *extra):
        return self.ctl("--json", "channel", "add", "shopify", "--shop",
                        "Demo-Shop.myshopify.com", "--token", TOKEN, "--webhook-secret",
                        WEBHOOK_SECRET, *extra)

    def test_shopify_and_woocommerce_are_added_with_sealed_credentials(self):
        added = json.loads(self.add_shopify("--api-base", "http://127.0.0.1:9/").stdout)
        self.assertEqual(added["name"], "demo-shop.myshopify.com")
        woo = self.ctl("--json", "channel", "add", "woocommerce", "--store",
                       "HTTPS://Shop.Example.COM/wp/", "--key", "-", "--secret", "-",
                       "--webhook-secret", "-", input=f"{CK}\n{CS}\nwoo-hook\n")
        listed = self.channels()
        self.assertEqual([c["kind"] for c in listed], ["shopify", "woocommerce"])
        shop, store = listed
        self.assertEqual(shop["api_base"], "http://127.0.0.1:9")
        self.assertEqual(shop["api_version"], "2025-07")
        self.assertEqual(shop["credentials"], ["token", "webhook_secret"])
        self.assertEqual(store["name"], "https://shop.example.com/wp")
        self.assertEqual(store["credentials"],
                         ["consumer_key", "consumer_secret", "webhook_secret"])
        with self.tmp.connect() as db:
            names = [r[0] for r in db.execute("SELECT name FROM secrets ORDER BY name")]
            audit = db.execute("SELECT count(*) FROM audit WHERE action = "
                               "'CHANNEL_CONNECTED'").fetchone()[0]
        self.assertEqual(names, ["channel/1/token", "channel/1/webhook_secret",
                                 "channel/2/consumer_key", "channel/2/consumer_secret",
                                 "channel/2/webhook_secret"])
        self.assertEqual(audit, 2)
        self.assert_no_secret_anywhere(json.dumps(added), woo.stdout, woo.stderr,
                                       self.ctl("channel", "list").stdout)
        self.ctl("verify")

    def test_re_adding_rotates_secrets_without_a_second_channel(self):
        self.add_shopify()
        with self.tmp.connect() as db:
            before = db.execute("SELECT sealed FROM secrets WHERE name = "
                                "'channel/1/token'").fetchone()[0]
        self.ctl("channel", "add", "shopify", "--shop", "demo-shop.myshopify.com",
                 "--token", "shpat_rotated", "--webhook-secret", WEBHOOK_SECRET)
        self.assertEqual(len(self.channels()), 1)
        with self.tmp.connect() as db:
            after = db.execute("SELECT sealed FROM secrets WHERE name = "
                               "'channel/1/token'").fetchone()[0]
        self.assertNotEqual(before, after)

    def test_bad_input_is_refused_and_stores_nothing(self):
        cases = [
            (["shopify", "--shop", "evil.example.com", "--token", TOKEN,
              "--webhook-secret", WEBHOOK_SECRET], "myshopify.com"),
            (["shopify", "--shop", "a.myshopify.com", "--token", TOKEN], "webhook_secret"),
            (["shopify", "--shop", "a.myshopify.com", "--token", TOKEN, "--webhook-secret",
              "x", "--api-base", "ftp://host/"], "api base"),
            (["shopify", "--shop", "a.myshopify.com", "--token", TOKEN, "--webhook-secret",
              "x", "--api-version", "latest"], "api version"),
            (["woocommerce", "--store", "https://u:p@shop.example.com", "--key", CK,
              "--secret", CS, "--webhook-secret", "x"], "store must be"),
            (["woocommerce", "--store", "https://shop.example.com", "--key", CK,
              "--webhook-secret", "x"], "consumer_secret"),
            (["woocommerce", "--store", "https://shop.example.com", "--key", "-",
              "--secret", "-", "--webhook-secret", "x"], "missing on stdin"),
            (["amazon", "--shop", "a.myshopify.com"], "shopify or woocommerce"),
        ]
        for args, reason in cases:
            with self.subTest(args=args):
                proc = self.ctl("channel", "add", *args, ok=False, input="only-one-line\n")
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn(reason, proc.stderr)
        self.assertEqual(self.channels(), [])
        with self.tmp.connect() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM secrets").fetchone()[0], 0)

    def test_mappings_push_the_current_level_to_the_channel(self):
        csv = self.tmp.write("stock.csv", "sku,name,gtin,location,on_hand,buffer\n"
                                          "MUG-1,Mug,,MAIN,10,1\n"
                                          "CUP-1,Cup,,MAIN,4,0\n")
        self.ctl("stock", "import", csv)
        self.add_shopify()
        self.ctl("channel", "map-sku", "demo-shop.myshopify.com", "MUG-1",
                 "--variant", "gid://shopify/ProductVariant/11",
                 "--inventory-item", "gid://shopify/InventoryItem/21")
        with self.tmp.connect() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM outbox").fetchone()[0], 0)
        self.ctl("channel", "map-location", "1", "MAIN",
                 "--external-id", "gid://shopify/Location/7", "--buffer", "2")
        with self.tmp.connect() as db:
            rows = [json.loads(r[0]) for r in db.execute(
                "SELECT payload FROM outbox WHERE topic = 'inventory.set'")]
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["sku"], "MUG-1")
        self.assertEqual(rows[0]["external_inventory_id"], "gid://shopify/InventoryItem/21")
        self.assertEqual(rows[0]["external_location_id"], "gid://shopify/Location/7")
        self.assertEqual(rows[0]["available"], 10 - 1 - 2)
        # The same variant id cannot stand for two SKUs of one channel.
        proc = self.ctl("channel", "map-sku", "1", "CUP-1", "--variant",
                        "gid://shopify/ProductVariant/11", ok=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("another SKU", proc.stderr)
        for args, reason in [(["9", "MUG-1", "--variant", "1"], "unknown channel"),
                             (["1", "NOPE", "--variant", "1"], "NOPE"),
                             (["1", "MUG-1"], "at least one")]:
            with self.subTest(args=args):
                proc = self.ctl("channel", "map-sku", *args, ok=False)
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn(reason, proc.stderr)
        proc = self.ctl("channel", "map-location", "1", "NOWHERE", "--external-id", "x",
                        ok=False)
        self.assertEqual(proc.returncode, 1)
        self.ctl("verify")


if __name__ == "__main__":
    unittest.main()
