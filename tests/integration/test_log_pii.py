"""An ingest run's log holds no customer PII and no secret: depotd at log level debug
takes Shopify and WooCommerce orders full of names, addresses, emails and phone numbers
(good deliveries, a malformed one that is dead-lettered, a bad signature and an unknown
item), and its whole log is then grepped for every one of those values. The story stays
findable: the inbox lines carry the order id, channel and request id fields."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webhook_helpers as wh  # noqa: E402

PERSON = {
    "first_name": "Guinevere", "last_name": "Pendragonova", "name": "Guinevere Pendragonova",
    "address1": "742 Evergreen Terrace", "address2": "Flat 9b", "city": "Springfieldton",
    "zip": "90210-4321", "province": "Kentucky", "country": "United States",
    "company": "Camelot Logistics", "phone": "+44 20 7946 0958", "country_code": "US",
    "province_code": "KY", "latitude": None, "longitude": None,
}
EMAIL = "guinevere.pendragonova@example.org"
WOO_PERSON = {"first_name": "Bartholomew", "last_name": "Quixotesson",
              "company": "Windmill Supplies", "address_1": "1600 Lighthouse Road",
              "address_2": "Unit 12", "city": "Port Lumen", "state": "CA",
              "postcode": "94105", "country": "US", "email": "bart.quixotesson@example.net",
              "phone": "(415) 555-0199"}

PII = [PERSON["last_name"], PERSON["address1"], PERSON["address2"], PERSON["company"],
       "7946 0958", "20 7946", EMAIL, "Guinevere", WOO_PERSON["last_name"],
       WOO_PERSON["address_1"], WOO_PERSON["company"], WOO_PERSON["email"], "555-0199",
       "Bartholomew"]
SECRETS = [wh.SHOP_SECRET, wh.WOO_SECRET, "shpat_x", "cs_x"]


def shopify_order(order_id, sku):
    addr = dict(PERSON)
    return wh.order_body(
        order_id=order_id, lines=(("L1", sku, 1),), email=EMAIL, contact_email=EMAIL,
        phone=PERSON["phone"], shipping_address=addr, billing_address=addr,
        customer={"id": 99, "email": EMAIL, "first_name": PERSON["first_name"],
                  "last_name": PERSON["last_name"], "phone": PERSON["phone"],
                  "default_address": addr},
        note=f"Please call {PERSON['phone']} or mail {EMAIL}")


def woo_order(order_id):
    o = wh.fixture("woocommerce", "order.json")
    o["id"] = order_id
    o["billing"] = dict(WOO_PERSON)
    o["shipping"] = {k: v for k, v in WOO_PERSON.items() if k != "email"}
    o["customer_note"] = f"Ring {WOO_PERSON['phone']}"
    for li in o["line_items"]:
        li["sku"] = "SKU-A"
    return json.dumps(o).encode()


class IngestLogHasNoPii(unittest.TestCase):
    def test_log_of_an_ingest_run_holds_no_pii_or_secrets(self):
        d = wh.Depot(stock=(("SKU-A", 50),))
        self.addCleanup(d.close, check=False)
        d.start()
        self.assertEqual(d.shopify(shopify_order(8101, "SKU-A"))[0], 200)
        self.assertEqual(d.shopify(shopify_order(8102, "NO-SUCH-ITEM"))[0], 200)
        # malformed: right signature, wrong types where the customer should be
        bad = json.dumps({"id": 8103, "email": EMAIL, "line_items": "not a list",
                          "shipping_address": PERSON}).encode()
        self.assertEqual(d.shopify(bad)[0], 200)
        body = shopify_order(8104, "SKU-A")
        headers = wh.shopify_headers(body, "orders/create")
        headers["X-Shopify-Hmac-Sha256"] = wh.sign("wrong-secret", body)
        self.assertEqual(d.post("/webhooks/shopify", body, headers)[0], 401)
        self.assertEqual(d.woo(woo_order(8201))[0], 200)
        d.settled()
        self.assertIsNotNone(d.order(d.shop_id, 8101))
        self.assertIsNotNone(d.order(d.woo_id, 8201))
        self.assertEqual(d.query("SELECT count(*) FROM inbox WHERE status = 'dead'")[0][0], 1)
        d.daemon.stop()

        text = d.daemon.stderr()
        entries = wh.dt.parse_log(text)
        self.assertGreater(len(entries), 5, "the run logged almost nothing")
        lowered = text.lower()
        for value in PII + SECRETS:
            self.assertNotIn(value.lower(), lowered, f"{value!r} reached the log")
        inbox = [e for e in entries if e.get("module") == "inbox"]
        story = [e for e in inbox if e.get("order_id") == str(d.order(d.shop_id, 8101)["id"])]
        self.assertTrue(story, inbox)
        self.assertTrue(all(e.get("channel") and e.get("request_id") for e in story), story)
        self.assertTrue(any(e.get("level") == "error" for e in inbox), "dead letter not logged")


if __name__ == "__main__":
    unittest.main()
