"""Integration tests of the packing flow with a carrier's label, against the real depotd,
the fake carriers and the fake Shopify: PACK ships the order and commits the label
request in one transaction; the carrier worker gets the label, it is printed on the
station's printer (a file printer) exactly once -- also across a kill -9 of depotd while
the carrier is creating the shipment -- and the channel's fulfillment goes out with the
carrier's tracking number. While the carrier is down packing goes on, the API says
"Service temporarily unavailable", and the queue drains on recovery. A tracking change
is pushed to WebSocket clients. No secret or token appears in depotd's log, the API's
answers or the database files."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))
import cli_testlib as cl  # noqa: E402
import depot_testlib as dt  # noqa: E402
import fake_carriers as fc  # noqa: E402
from fake_shopify import FakeShopify  # noqa: E402
from test_carriers_labels import DEMO_CSV, SHIPPER, SHIP_TO  # noqa: E402
from test_web_server import WebSocket  # noqa: E402

SKU = "COF-ESP-250"
SHOPIFY_TOKEN = "shpat_pack_test_token_5e6f"


class CarrierPackTest(cl.DataDirTest):
    def setUp(self):
        self.fake = fc.FakeCarriers().__enter__()
        self.addCleanup(self.fake.__exit__, None, None, None)
        self.shop = FakeShopify(token=SHOPIFY_TOKEN)
        self.shop.start()
        self.addCleanup(self.shop.stop)
        self.answers = []  # every API answer body, for the secrets check
        self.logs = []     # stderr of every depotd run
        super().setUp()
        self.ctl("stock", "import", DEMO_CSV)
        self.ctl("carrier", "add", "fedex", "--client-id", fc.CLIENT_ID, "--client-secret",
                 "-", "--account", "740561073", "--api-base", self.fake.base, "--config",
                 json.dumps({"shipper": SHIPPER}), input=fc.CLIENT_SECRET + "\n")
        self.ctl("channel", "add", "shopify", "--shop", "pack-test.myshopify.com", "--token",
                 "-", "--webhook-secret", "whsec-pack", "--api-base", self.shop.url,
                 input=SHOPIFY_TOKEN + "\n")
        self.label_file = self.tmp.write("station-1.zpl", "")  # the file printer's device
        self.ctl("printer", "add", "station-1", "--backend", "file", "--address",
                 self.label_file)
        self.packer = self.token("packer")
        self.supervisor = self.token("supervisor")
        self.config = self.tmp.write_config(
            sync_breaker_threshold=1, sync_breaker_cooldown_ms=500, sync_retry_base_ms=100,
            sync_retry_max_ms=1000, sync_http_timeout_ms=2000)
        self.port = dt.free_port()
        self.daemon = None
        self.start()
        self.addCleanup(self.stop)

    # ---- plumbing -------------------------------------------------------------------

    def ctl(self, *args, input=None):
        proc = super().ctl(*args, input=input)
        self.answers.append(proc.stdout + proc.stderr)
        return proc

    def token(self, role):
        return json.loads(self.ctl("--json", "token", "create", f"{role}-bot", "--role",
                                   role).stdout)["token"]

    def start(self):
        self.daemon = dt.Depotd("--data-dir", self.tmp.data_dir, "--listen",
                                f"127.0.0.1:{self.port}", "--config", self.config)
        self.daemon.start()

    def stop(self):
        if self.daemon:
            self.daemon.stop()
            self.logs.append(self.daemon.stderr())
            self.daemon = None

    def kill9(self):
        self.daemon.proc.kill()
        self.daemon.wait()
        self.logs.append(self.daemon.stderr())
        self.daemon = None

    def request(self, method, path, body=None, token=None):
        status, raw = cl.api_request(self.port, token or self.packer, method, path, body)
        self.answers.append(raw.decode("latin-1"))
        return status, json.loads(raw or b"null")

    def channel_order(self, number):
        """An order of the Shopify channel (external id = Shopify's numeric id)."""
        oid = json.loads(self.ctl("--json", "order", "create", "--external-id", str(number),
                                  "--line", f"{SKU}:1").stdout)["id"]
        self.sql("UPDATE orders SET channel_id = (SELECT id FROM channels), ship_to = ?"
                 " WHERE id = ?", (json.dumps(SHIP_TO), oid))
        self.shop.add_order(number)
        return oid

    def pack(self, oid, carrier="fedex"):
        status, doc = self.request("POST", f"/api/v1/orders/{oid}/pack", {
            "scanned": {SKU: 1}, "printer": "station-1", "weight_g": 800, "carrier": carrier})
        self.assertEqual(status, 201, doc)
        self.assertIsNone(doc["print_job"])
        self.assertNotIn("print_error", doc)
        self.assertGreater(doc["label_request"], 0)
        return doc["shipment_id"]

    def printed(self):
        """How many carrier labels the station's printer has received."""
        if not os.path.exists(self.label_file):
            return 0
        with open(self.label_file, "rb") as f:
            return f.read().count(fc.LABEL_ZPL.encode())

    def fulfillment(self, number):
        """The tracking numbers of the channel order's fulfillments at Shopify."""
        with self.shop.lock:
            o = self.shop.orders[f"gid://shopify/Order/{number}"]
            return [t["number"] for f in o["fulfillments"] for t in f["trackingInfo"]] or \
                ([None] if o["fulfillments"] else [])

    def tracking(self, sid):
        return self.sql("SELECT tracking_number FROM shipments WHERE id = ?", (sid,))[0][0]

    def fedex(self):
        status, doc = self.request("GET", "/api/v1/carriers", token=self.supervisor)
        self.assertEqual(status, 200, doc)
        return doc["items"][0]

    def assert_no_secrets(self):
        blobs = self.logs + self.answers
        if self.daemon:
            blobs.append(self.daemon.stderr())
        blobs += cl.data_dir_texts(self.tmp.data_dir, db_only=True)
        self.assertGreater(len(self.fake.issued), 0)
        cl.assert_no_secret(self, [fc.CLIENT_SECRET, SHOPIFY_TOKEN, "whsec-pack",
                                   *self.fake.issued], blobs)

    # ---- tests ----------------------------------------------------------------------

    def test_label_printed_once_across_kill_9_and_tracking_reaches_the_channel(self):
        oid = self.channel_order(7001)
        sid = self.pack(oid)
        dt.wait_until(lambda: self.fulfillment(7001) != [], timeout=30, what="fulfillment")
        self.assertEqual(self.fulfillment(7001), [self.tracking(sid)])
        self.assertIn(self.tracking(sid), self.fake.shipments.values())
        dt.wait_until(lambda: self.printed() == 1, timeout=20, what="label printed")
        ship = [b for r, b in self.fake.requests if r == "fedex_ship"][0]["requestedShipment"]
        self.assertEqual(ship["labelSpecification"]["imageType"], "ZPLII")
        self.assertEqual(ship["requestedPackageLineItems"][0]["weight"],
                         {"units": "KG", "value": 0.8})

        # depotd dies while FedEx is creating the next shipment (its answer never comes).
        self.fake.ship_delay = 30
        oid2 = self.channel_order(7002)
        sid2 = self.pack(oid2)
        dt.wait_until(lambda: self.fake.count("fedex_ship") == 2, timeout=30, what="ship call")
        orphan = self.fake.shipments[f"depot-shipment-{sid2}"]
        self.kill9()
        self.fake.ship_delay = 0
        self.assertEqual(self.sql("SELECT count(*) FROM print_jobs"), [(1,)])
        # The fulfillment waits for the label: Shopify has heard nothing of 7002.
        self.assertEqual(self.fulfillment(7002), [])
        # The request's lease runs out (time passes) and depotd comes back.
        self.sql("UPDATE outbox SET next_attempt_at = 0 WHERE target = 'carrier'"
                 " AND status = 'inflight'")
        self.start()
        dt.wait_until(lambda: self.printed() == 2, timeout=30, what="second label printed")
        dt.wait_until(lambda: self.fulfillment(7002) != [], timeout=30, what="fulfillment 2")
        self.assertEqual(self.fake.cancelled, [orphan])  # the orphan label is voided
        self.assertNotEqual(self.tracking(sid2), orphan)
        self.assertEqual(self.fulfillment(7002), [self.tracking(sid2)])
        self.assertEqual(self.fake.count("fedex_reference"), 1)
        dt.wait_until(lambda: self.sql("SELECT count(*) FROM print_jobs WHERE status ="
                                       " 'done'") == [(2,)], timeout=20, what="jobs done")
        self.assertEqual(self.printed(), 2)
        self.assertEqual(self.sql("SELECT count(*) FROM print_jobs"), [(2,)])
        self.assertEqual({n: c for n, c in self.shop.fulfillments_created.items()},
                         {"gid://shopify/Order/7001": 1, "gid://shopify/Order/7002": 1})
        self.assert_no_secrets()

    def test_carrier_down_packing_goes_on_and_recovery_drains(self):
        self.fake.fail_next("fedex_ship", *([503] * 1000))
        first = self.pack(self.channel_order(7101))
        dt.wait_until(lambda: not self.fedex()["available"], timeout=20, what="carrier down")
        self.assertEqual(self.fedex()["message"], "Service temporarily unavailable")
        second = self.pack(self.channel_order(7102))  # packing goes on
        self.assertEqual(self.printed(), 0)
        self.assertEqual((self.fulfillment(7101), self.fulfillment(7102)), ([], []))
        # Recovery: the queued labels go out (the backoff is skipped, not waited for).
        with self.fake.lock:
            self.fake.faults.clear()
        self.sql("UPDATE outbox SET next_attempt_at = 0 WHERE target = 'carrier'"
                 " AND status = 'pending'")
        dt.wait_until(lambda: self.printed() == 2, timeout=30, what="queue drained")
        dt.wait_until(lambda: self.fulfillment(7102) != [], timeout=30, what="fulfillments")
        self.assertEqual(self.fulfillment(7101), [self.tracking(first)])
        self.assertEqual(self.fulfillment(7102), [self.tracking(second)])
        self.assertTrue(self.fedex()["available"])
        self.assert_no_secrets()

    def test_void_over_the_api_reaches_the_carrier_before_the_goods_go_back(self):
        on_hand = "SELECT sum(st.on_hand), sum(st.reserved) FROM stock st JOIN skus s" \
                  " ON s.id = st.sku_id WHERE s.code = ?"
        (before,) = self.sql(on_hand, (SKU,))
        oid = self.channel_order(7301)
        sid = self.pack(oid)
        dt.wait_until(lambda: self.fulfillment(7301) != [], timeout=30, what="fulfillment")
        tracking = self.tracking(sid)
        ws = WebSocket(self.port, {"Authorization": f"Bearer {self.supervisor}"})
        self.addCleanup(ws.close)
        self.assertEqual(ws.recv()["type"], "hello")
        status, doc = self.request("POST", f"/api/v1/shipments/{sid}/void-label",
                                   {"then": "burn"}, token=self.supervisor)
        self.assertEqual(status, 400, doc)
        status, doc = self.request("POST", f"/api/v1/shipments/{sid}/void-label",
                                   {"then": "restock"})
        self.assertEqual(status, 403, doc)  # packers may not void
        # FedEx is failing: nothing goes back while the label is not voided there.
        self.fake.fail_next("fedex_cancel", *([503] * 1000))
        status, doc = self.request("POST", f"/api/v1/shipments/{sid}/void-label",
                                   {"then": "restock"}, token=self.supervisor)
        self.assertEqual(status, 202, doc)
        dt.wait_until(lambda: self.fake.count("fedex_cancel") >= 1, timeout=20,
                      what="void attempt")
        dt.wait_until(lambda: self.sql("SELECT status FROM outbox WHERE topic ="
                                       " 'label.void'") == [("pending",)], timeout=20,
                      what="void failure recorded")
        self.assertEqual(self.sql("SELECT status FROM shipments WHERE id = ?", (sid,)),
                         [("shipped",)])
        self.assertEqual(self.sql(on_hand, (SKU,)), [(before[0] - 1, before[1])])
        with self.fake.lock:
            self.fake.faults.clear()
        self.sql("UPDATE outbox SET next_attempt_at = 0 WHERE topic = 'label.void'")
        event = {}
        while event.get("status") != "voided":
            event = ws.recv_type("shipment", timeout=20)["data"]
        self.assertEqual((event["shipment_id"], event["order_status"], event["channel_told"]),
                         (sid, "open", True))
        self.assertEqual(self.fake.cancelled, [tracking])
        self.assertEqual(self.sql(on_hand, (SKU,)), [before])
        self.assertEqual(self.sql("SELECT status FROM orders WHERE id = ?", (oid,)), [("open",)])
        status, doc = self.request("POST", f"/api/v1/shipments/{sid}/void-label", {},
                                   token=self.supervisor)
        self.assertEqual((status, doc["error"]["code"]), (409, "invalid_state"))

    def test_tracking_change_is_pushed_and_a_bad_pack_changes_nothing(self):
        ws = WebSocket(self.port, {"Authorization": f"Bearer {self.supervisor}"})
        self.addCleanup(ws.close)
        self.assertEqual(ws.recv()["type"], "hello")
        # An unknown carrier or a missing weight is refused before anything ships.
        oid = self.channel_order(7201)
        status, doc = self.request("POST", f"/api/v1/orders/{oid}/pack", {
            "scanned": {SKU: 1}, "printer": "station-1", "weight_g": 800, "carrier": "tnt"})
        self.assertEqual(status, 404, doc)
        status, doc = self.request("POST", f"/api/v1/orders/{oid}/pack", {
            "scanned": {SKU: 1}, "printer": "station-1", "carrier": "fedex"})
        self.assertEqual(status, 400, doc)
        status, doc = self.request("POST", f"/api/v1/orders/{oid}/pack", {
            "scanned": {SKU: 1}, "printer": "station-1", "weight_g": 800, "carrier": 7})
        self.assertEqual(status, 400, doc)
        self.assertEqual(self.sql("SELECT count(*) FROM shipments"), [(0,)])
        self.assertEqual(self.sql("SELECT status FROM orders WHERE id = ?", (oid,)),
                         [("reserved",)])
        sid = self.pack(oid)
        got = {}
        while "tracking_status" not in got:
            msg = ws.recv_type("shipment", timeout=20)["data"]
            self.assertEqual(msg["shipment_id"], sid)
            got.update(msg)
        self.assertEqual(got["tracking_status"], "delivered")
        self.assertEqual(got["tracking_number"], self.tracking(sid))
        self.assertEqual(self.sql("SELECT tracking_status FROM shipments WHERE id = ?", (sid,)),
                         [("delivered",)])


if __name__ == "__main__":
    unittest.main()
