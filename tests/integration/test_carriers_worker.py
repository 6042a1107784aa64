"""Integration tests of depotd's carrier worker against the fake carriers: a label asked
for over the API is worked in the background and queued to the station printer; when
the carrier is down the API shows it ("Service temporarily unavailable") while packing
requests keep being accepted, and the queue drains when it recovers; tracking of open
shipments is polled and a status change is stored."""

import http.client
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_testlib as cl  # noqa: E402
import depot_testlib as dt  # noqa: E402
import fake_carriers as fc  # noqa: E402
from test_carriers_labels import DEMO_CSV, SHIPPER, SHIP_TO  # noqa: E402


class CarrierWorkerTest(cl.DataDirTest):
    def setUp(self):
        self.fake = fc.FakeCarriers().__enter__()
        self.addCleanup(self.fake.__exit__, None, None, None)
        super().setUp()
        d = self.tmp.data_dir
        self.ctl("stock", "import", DEMO_CSV)
        self.ctl("carrier", "add", "fedex", "--client-id", fc.CLIENT_ID, "--client-secret",
                 fc.CLIENT_SECRET, "--account", "740561073", "--api-base", self.fake.base,
                 "--config", json.dumps({"shipper": SHIPPER}))
        self.token = json.loads(self.ctl("--json", "token", "create", "sup", "--role",
                                         "supervisor").stdout)["token"]
        config = self.tmp.write_config(sync_breaker_threshold=1, sync_breaker_cooldown_ms=500)
        self.port = dt.free_port()
        self.daemon = dt.Depotd("--data-dir", d, "--listen", f"127.0.0.1:{self.port}",
                                "--config", config)
        self.daemon.start()
        self.addCleanup(self.daemon.stop)

    def request(self, method, path, body=None):
        status, raw = cl.api_request(self.port, self.token, method, path, body)
        return status, json.loads(raw or b"null")

    def shipment(self, external_id):
        order_id = json.loads(self.ctl("--json", "order", "create", "--external-id",
                                       external_id, "--line", "COF-ESP-250:1").stdout)["id"]
        self.sql("UPDATE orders SET ship_to = ? WHERE id = ?", (json.dumps(SHIP_TO), order_id))
        self.ctl("order", "reserve", str(order_id))
        return json.loads(self.ctl("--json", "order", "ship", str(order_id), "--carrier",
                                   "manual").stdout)["shipment_id"]

    def ask_label(self, sid):
        status, doc = self.request("POST", f"/api/v1/shipments/{sid}/label",
                                   {"carrier": "fedex", "weight_kg": 0.8, "printer": "station-1"})
        self.assertEqual(status, 202, doc)

    def fedex(self):
        status, doc = self.request("GET", "/api/v1/carriers")
        self.assertEqual(status, 200, doc)
        return doc["items"][0]

    def test_label_in_background_carrier_down_and_recovery(self):
        sid = self.shipment("W-1")
        self.ask_label(sid)
        dt.wait_until(lambda: len(self.sql("SELECT 1 FROM print_jobs")) == 1, timeout=20,
                      what="label printed")
        self.assertTrue(self.fedex()["available"])
        # The carrier goes down: the next label fails, the breaker opens, the API says so.
        self.fake.fail_next("fedex_ship", *([503] * 1000))
        sid2 = self.shipment("W-2")
        self.ask_label(sid2)
        dt.wait_until(lambda: not self.fedex()["available"], timeout=20, what="carrier down")
        self.assertEqual(self.fedex()["message"], "Service temporarily unavailable")
        sid3 = self.shipment("W-3")  # packing goes on
        self.ask_label(sid3)
        # Recovery: the queued labels go out (the backoff is skipped here, not waited for).
        with self.fake.lock:
            self.fake.faults.clear()
        self.sql("UPDATE outbox SET next_attempt_at = 0 WHERE target = 'carrier'"
                 " AND status = 'pending'")
        dt.wait_until(lambda: len(self.sql("SELECT 1 FROM print_jobs")) == 3, timeout=30,
                      what="queue drained")
        self.assertTrue(self.fedex()["available"])
        labelled = self.sql("SELECT count(*) FROM shipments WHERE label IS NOT NULL")[0][0]
        self.assertEqual(labelled, 3)

    def test_pdf_label_for_paper_printers_is_downloaded_not_queued(self):
        sid = self.shipment("P-1")
        status, doc = self.request("POST", f"/api/v1/shipments/{sid}/label",
                                   {"carrier": "fedex", "weight_kg": 1, "format": "pdf",
                                    "printer": "station-1"})
        self.assertEqual((status, doc["error"]["code"]), (400, "invalid_input"))
        status, doc = self.request("GET", f"/api/v1/shipments/{sid}/label")
        self.assertEqual(status, 404)
        status, doc = self.request("POST", f"/api/v1/shipments/{sid}/label",
                                   {"carrier": "fedex", "weight_kg": 1, "format": "pdf"})
        self.assertEqual(status, 202, doc)
        dt.wait_until(lambda: self.sql("SELECT label_format FROM shipments WHERE id = ?",
                                       (sid,)) == [("pdf",)], timeout=20, what="pdf label")
        ship = [b for r, b in self.fake.requests if r == "fedex_ship"][0]["requestedShipment"]
        self.assertEqual(ship["labelSpecification"]["imageType"], "PDF")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", f"/api/v1/shipments/{sid}/label",
                         headers={"Authorization": f"Bearer {self.token}"})
            r = conn.getresponse()
            self.assertEqual((r.status, r.getheader("Content-Type"), r.read()),
                             (200, "application/pdf", fc.LABEL_PDF))
        finally:
            conn.close()
        self.assertEqual(self.sql("SELECT count(*) FROM print_jobs"), [(0,)])

    def test_keeper_refreshes_a_carrier_token_ahead_of_expiry(self):
        self.fake.expires_in = 10
        self.ctl("carrier", "test", "fedex")  # caches a 10 s token (refresh 2 s ahead)
        self.assertEqual(self.fake.count("fedex_token"), 1)
        (exp1,) = self.sql("SELECT expires_at FROM token_cache")[0]
        # Nobody calls FedEx: depotd's token keeper refreshes it on its own, in time.
        dt.wait_until(lambda: self.sql("SELECT expires_at FROM token_cache")[0][0] > exp1,
                      timeout=15, what="keeper refresh")
        (refreshed_at,) = self.sql("SELECT refreshed_at FROM token_cache")[0]
        self.assertLess(refreshed_at, exp1, "refreshed only after the old token expired")
        self.assertEqual(self.fake.count("fedex_token"), 2)
        self.assertEqual(self.sql("SELECT count(*) FROM audit WHERE action ="
                                  " 'TOKEN_REFRESHED'"), [(2,)])

    def test_tracking_is_polled_and_stored(self):
        sid = self.shipment("T-1")
        self.ask_label(sid)
        dt.wait_until(lambda: self.sql("SELECT tracking_status FROM shipments WHERE id = ?",
                                       (sid,)) == [("delivered",)], timeout=20,
                      what="tracking status")
        polled = self.fake.count("fedex_track")
        audit = self.sql("SELECT count(*) FROM audit WHERE action = 'shipment.tracking'")[0][0]
        self.assertEqual(audit, 1)
        # Delivered shipments are not polled again.
        self.sql("UPDATE shipments SET tracked_at = 0 WHERE id = ?", (sid,))
        time.sleep(2.5)  # more than two worker passes
        self.assertEqual(self.fake.count("fedex_track"), polled)


if __name__ == "__main__":
    unittest.main()
