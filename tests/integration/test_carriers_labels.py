"""Integration tests of carrier labels for shipments (`depotctl shipment label|void`)
against the fake carriers: the documented request shapes (FedEx ZPLII on 4x6 stock with
our shipment id as customer reference, UPS ZPL, DHL Parcel DE ZPL2), the label stored and
queued to the printer exactly once -- also across a kill -9 while the carrier call is in
flight (lookup by reference, void the orphan, one new label) -- and void reaching the
carrier before the shipment is marked voided."""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_testlib as cl  # noqa: E402
import depot_testlib as dt  # noqa: E402
import fake_carriers as fc  # noqa: E402

DEMO_CSV = os.path.join(dt.SOURCE_DIR, "packaging", "demo", "stock.csv")
SHIPPER = {"name": "Depot Warehouse", "phone": "+49301234567", "street1": "Lagerstr. 1",
           "city": "Berlin", "postal_code": "10115", "country": "DE"}
# Shopify's address shape, as inbound ingestion stores it.
SHIP_TO = {"name": "Ada Lovelace", "address1": "Hauptstr. 5", "city": "Hamburg",
           "zip": "20095", "country_code": "DE", "phone": "+4940555"}


class CarrierLabelTest(cl.DataDirTest):
    def setUp(self):
        super().setUp()
        self.ctl("stock", "import", DEMO_CSV)

    def add_carrier(self, fake, kind, **config):
        args = ["carrier", "add", kind, "--client-id", fc.CLIENT_ID, "--client-secret",
                fc.CLIENT_SECRET, "--account", "33333333330102", "--api-base", fake.base,
                "--config", json.dumps(dict(shipper=SHIPPER, **config))]
        if kind == "dhl":
            args += ["--username", fc.DHL_USER, "--password", fc.DHL_PASSWORD]
        self.ctl(*args)

    def shipped_order(self, external_id="A-1"):
        out = self.ctl("--json", "order", "create", "--external-id", external_id, "--line",
                       "COF-ESP-250:2").stdout
        order_id = json.loads(out)["id"]
        self.sql("UPDATE orders SET ship_to = ? WHERE id = ?",
                 (json.dumps(SHIP_TO), order_id))
        self.ctl("order", "reserve", str(order_id))
        out = self.ctl("--json", "order", "ship", str(order_id), "--carrier", "manual").stdout
        return json.loads(out)["shipment_id"]

    def label(self, sid, carrier, ok=True):
        return self.ctl("--json", "shipment", "label", str(sid), "--carrier", carrier,
                        "--weight", "1.25", "--printer", "station-1", ok=ok)

    def print_jobs(self):
        return self.sql("SELECT printer, payload FROM print_jobs ORDER BY id")

    def test_fedex_label_is_stored_and_queued_once(self):
        with fc.FakeCarriers() as fake:
            self.add_carrier(fake, "fedex")
            sid = self.shipped_order()
            got = json.loads(self.label(sid, "fedex").stdout)
            body = [b for r, b in fake.requests if r == "fedex_ship"][0]
            rs = body["requestedShipment"]
            self.assertEqual(rs["labelSpecification"],
                             {"imageType": "ZPLII", "labelStockType": "STOCK_4X6"})
            self.assertEqual(body["accountNumber"], {"value": "33333333330102"})
            pkg = rs["requestedPackageLineItems"][0]
            self.assertEqual(pkg["customerReferences"][0]["value"], f"depot-shipment-{sid}")
            self.assertEqual(pkg["weight"], {"units": "KG", "value": 1.25})
            self.assertEqual(rs["recipients"][0]["address"]["postalCode"], "20095")
            self.assertEqual(rs["shipper"]["address"]["countryCode"], "DE")
            self.assertEqual(self.print_jobs(), [("station-1", fc.LABEL_ZPL.encode())])
            row = self.sql("SELECT tracking_number, label_format, label FROM shipments"
                           " WHERE id = ?", (sid,))[0]
            self.assertEqual(row, (got["tracking_number"], "zpl", fc.LABEL_ZPL.encode()))
            again = self.label(sid, "fedex", ok=False)
            self.assertEqual(again.returncode, 1)
            self.assertIn("already", again.stderr)
            self.assertEqual(len(self.print_jobs()), 1)
            self.assertEqual(fake.count("fedex_ship"), 1)

    def test_kill_9_during_creation_prints_exactly_one_label(self):
        with fc.FakeCarriers() as fake:
            self.add_carrier(fake, "fedex")
            sid = self.shipped_order()
            fake.ship_delay = 30  # the carrier creates the shipment, the answer hangs
            proc = subprocess.Popen(
                [dt.bin_path("depotctl"), "--data-dir", self.tmp.data_dir, "shipment",
                 "label", str(sid), "--carrier", "fedex", "--weight", "2", "--printer",
                 "station-1"], env=dt.clean_env(), stdout=subprocess.PIPE,
                stderr=subprocess.PIPE)
            dt.wait_until(lambda: fake.count("fedex_ship") == 1, timeout=30, what="ship call")
            orphan = list(fake.shipments.values())[0]
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            fake.ship_delay = 0
            self.assertEqual(self.print_jobs(), [])
            # While its lease runs the request is not taken twice.
            busy = self.label(sid, "fedex", ok=False)
            self.assertEqual(busy.returncode, 1)
            self.assertIn("in progress", busy.stderr)
            # The lease runs out (time passes): the retry finds the orphan by reference,
            # voids it, and creates the one label that is printed.
            self.sql("UPDATE outbox SET next_attempt_at = 0 WHERE target = 'carrier'")
            got = json.loads(self.label(sid, "fedex").stdout)
            self.assertEqual(fake.count("fedex_reference"), 1)
            self.assertEqual(fake.cancelled, [orphan])
            self.assertNotEqual(got["tracking_number"], orphan)
            self.assertEqual(len(self.print_jobs()), 1)
            self.assertEqual(self.sql("SELECT status, attempts FROM outbox WHERE target ="
                                      " 'carrier'"), [("done", 2)])

    def test_timeouts_are_retried_without_a_second_bill(self):
        with fc.FakeCarriers() as fake:
            self.add_carrier(fake, "fedex", timeout_ms=1000)
            sid = self.shipped_order()
            # FedEx creates the shipment but its answer comes after our 1 s timeout.
            fake.ship_delay = 3
            failed = self.label(sid, "fedex", ok=False)
            self.assertEqual(failed.returncode, 1)
            self.assertRegex(failed.stderr, r"(?i)tim(e|ed) ?out")
            orphan = fake.shipments[f"depot-shipment-{sid}"]
            fake.ship_delay = 0
            self.assertEqual(self.sql("SELECT status, attempts FROM outbox WHERE target ="
                                      " 'carrier'"), [("pending", 1)])
            self.sql("UPDATE outbox SET next_attempt_at = 0 WHERE target = 'carrier'")
            got = json.loads(self.label(sid, "fedex").stdout)
            self.assertEqual(fake.cancelled, [orphan])
            self.assertNotEqual(got["tracking_number"], orphan)
            self.assertEqual(len(self.print_jobs()), 1)
            # The token endpoint hangs while our token was revoked: a failure, then fine.
            sid2 = self.shipped_order("A-2")
            fake.revoke_tokens()
            fake.fail_next("fedex_token", "timeout")
            failed = self.label(sid2, "fedex", ok=False)
            self.assertIn("token", failed.stderr)
            self.assertRegex(failed.stderr, r"(?i)tim(e|ed) ?out")
            self.sql("UPDATE outbox SET next_attempt_at = 0 WHERE target = 'carrier'")
            self.label(sid2, "fedex")
            self.assertEqual(len(self.print_jobs()), 2)
            self.assertEqual(fake.cancelled, [orphan])  # nothing else was billed

    def test_void_then_restock_or_release(self):
        with fc.FakeCarriers() as fake:
            self.add_carrier(fake, "fedex")
            on_hand = "SELECT sum(on_hand), sum(reserved) FROM stock st JOIN skus s" \
                      " ON s.id = st.sku_id WHERE s.code = 'COF-ESP-250'"
            (before,) = self.sql(on_hand)
            sid = self.shipped_order()
            tracking = json.loads(self.label(sid, "fedex").stdout)["tracking_number"]
            self.assertEqual(self.sql(on_hand), [(before[0] - 2, before[1])])
            fake.fail_next("fedex_cancel", 503)
            self.assertEqual(self.ctl("shipment", "void", str(sid), "--then", "restock",
                                      ok=False).returncode, 1)
            self.assertEqual(self.sql(on_hand), [(before[0] - 2, before[1])],
                             "restocked although the carrier did not void the label")
            out = json.loads(self.ctl("--json", "shipment", "void", str(sid), "--then",
                                      "restock").stdout)
            self.assertEqual(fake.cancelled, [tracking])
            self.assertEqual(out["order_status"], "open")
            self.assertEqual(self.sql(on_hand), [before])
            # Release: the goods go back reserved for the order, packed again later.
            order_id = out["order_id"]
            self.ctl("order", "reserve", str(order_id))
            sid2 = json.loads(self.ctl("--json", "order", "ship", str(order_id), "--carrier",
                                       "manual").stdout)["shipment_id"]
            self.label(sid2, "fedex")
            out = json.loads(self.ctl("--json", "shipment", "void", str(sid2), "--then",
                                      "release").stdout)
            self.assertEqual(out["order_status"], "reserved")
            self.assertEqual(self.sql(on_hand), [(before[0], before[1] + 2)])
            self.assertEqual(self.ctl("shipment", "void", str(sid2), "--then", "burn",
                                      ok=False).returncode, 2)
            self.ctl("verify")

    def test_void_reaches_the_carrier_first(self):
        with fc.FakeCarriers() as fake:
            self.add_carrier(fake, "ups")
            sid = self.shipped_order()
            tracking = json.loads(self.label(sid, "ups").stdout)["tracking_number"]
            body = [b for r, b in fake.requests if r == "ups_ship"][0]["ShipmentRequest"]
            self.assertEqual(body["LabelSpecification"]["LabelImageFormat"], {"Code": "ZPL"})
            self.assertEqual(body["Shipment"]["Shipper"]["ShipperNumber"], "33333333330102")
            fake.fail_next("ups_void", 503)
            failed = self.ctl("shipment", "void", str(sid), ok=False)
            self.assertEqual(failed.returncode, 1)
            self.assertEqual(self.sql("SELECT status FROM shipments WHERE id = ?", (sid,)),
                             [("shipped",)], "marked voided although the carrier did not void")
            self.ctl("shipment", "void", str(sid))
            self.assertEqual(fake.cancelled, [tracking])
            self.assertEqual(self.sql("SELECT status FROM shipments WHERE id = ?", (sid,)),
                             [("voided",)])
            self.assertEqual(self.ctl("shipment", "void", str(sid), ok=False).returncode, 1)
            self.assertEqual({p for r, p in fake.paths if r in ("ups_ship", "ups_void")},
                             {"/api/shipments/v2409/ship",
                              f"/api/shipments/v2409/void/cancel/{tracking}"})

    def test_ups_api_version_is_pinned_in_the_config(self):
        with fc.FakeCarriers() as fake:
            self.add_carrier(fake, "ups", api_version="v2501")
            self.label(self.shipped_order(), "ups")
            self.assertEqual([p for r, p in fake.paths if r == "ups_ship"],
                             ["/api/shipments/v2501/ship"])
            bad = self.ctl("carrier", "add", "ups", "--client-id", "a", "--client-secret",
                           "b", "--config", '{"api_version":"../x"}', ok=False)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("api_version", bad.stderr)

    def test_dhl_label_and_no_blind_retry(self):
        with fc.FakeCarriers() as fake:
            self.add_carrier(fake, "dhl")
            sid = self.shipped_order()
            self.label(sid, "dhl")
            body = [b for r, b in fake.requests if r == "dhl_order"][0]
            s = body["shipments"][0]
            self.assertEqual((s["refNo"], s["consignee"]["country"], s["billingNumber"]),
                             (f"depot-shipment-{sid}", "DEU", "33333333330102"))
            self.assertEqual(self.print_jobs(), [("station-1", fc.LABEL_ZPL.encode())])
            # A 503 is DHL's answer: nothing was created, the retry simply creates.
            sid2 = self.shipped_order("A-2")
            fake.fail_next("dhl_order", 503)
            self.assertIn("HTTP 503", self.label(sid2, "dhl", ok=False).stderr)
            self.sql("UPDATE outbox SET next_attempt_at = 0 WHERE target = 'carrier'"
                     " AND status = 'pending'")
            self.label(sid2, "dhl")
            self.assertEqual(len(self.print_jobs()), 2)
            # A crash while DHL was creating one: Parcel DE has no lookup by reference, so
            # the request is not re-created blindly but dead-lettered with the reason.
            sid3 = self.shipped_order("A-3")
            fake.ship_delay = 30
            proc = subprocess.Popen(
                [dt.bin_path("depotctl"), "--data-dir", self.tmp.data_dir, "shipment",
                 "label", str(sid3), "--carrier", "dhl", "--weight", "2"],
                env=dt.clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            dt.wait_until(lambda: fake.count("dhl_order") == 4, timeout=30, what="order call")
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            fake.ship_delay = 0
            self.sql("UPDATE outbox SET next_attempt_at = 0 WHERE target = 'carrier'"
                     " AND status = 'inflight'")
            proc = self.label(sid3, "dhl", ok=False)
            self.assertIn("cannot look it up", proc.stderr)
            self.assertEqual(self.sql("SELECT status FROM outbox WHERE idempotency_key = ?",
                                      (f"label:{sid3}",)), [("dead",)])
            self.assertEqual(fake.count("dhl_order"), 4)
            self.assertEqual(len(self.print_jobs()), 2)

if __name__ == "__main__":
    unittest.main()
