"""The packing endpoints over HTTP against the real depotd (no browser): finding an order
by what a packer scans, keyboard-wedge scans resolved and published like serial ones,
PACK refusing wrong counts and bad input without changing anything, the station's
printer used by default, reprint, void (supervisor, our own labels only), returns received
per unit disposition, a scanner moved to another station, and SKU/bin labels. Outcomes are checked in the
database, not only in status codes."""

import http.client
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402
import ui_testlib as ut  # noqa: E402
from test_web_server import WebSocket  # noqa: E402


class PackApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        srv = cls.srv = ut.UiServer()
        cls.token = srv.ctl("token", "create", "pack-bot", "--role", "packer")["token"]
        cls.super_token = srv.ctl("token", "create", "sup-bot", "--role", "supervisor")["token"]
        srv.ctl("station", "add", "PACK-9", "--printer", "ZEBRA-9")
        srv.ctl("printer", "add", "SHELF-1", "--backend", "file", "--address",
                os.path.join(srv.tmp.root, "shelf.zpl"), "--stock", "2x1", "--dpi", "300")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def call(self, method, path, body=None, token=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        try:
            headers = {"Authorization": f"Bearer {token or self.token}"}
            data = None
            if body is not None:
                data = json.dumps(body)
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            conn.close()

    def order(self, ext, number, *lines):
        return self.srv.order_create(ext, number, *lines)

    def shipments(self, oid):
        return self.srv.query("SELECT count(*) FROM shipments WHERE order_id = ?", oid)[0][0]

    def test_order_found_by_every_scanned_form(self):
        oid = self.order("ext-find-1", "#5001", "COF-ESP-250:1")
        for code in (f"ORDER-{oid}", "#5001", "5001", "ext-find-1", f"{oid}", " #5001 "):
            status, doc = self.call("GET", f"/api/v1/pack/orders/{code.replace(' ', '%20')}")
            self.assertEqual((status, doc["id"]), (200, oid), code)
        line = doc["lines"][0]
        self.assertEqual((line["sku"], line["name"]), ("COF-ESP-250",
                                                      "Espresso blend whole bean 250 g"))
        self.assertEqual(line["gtins"], ["2006100000115"])
        self.assertIn("A-01-1", line["bins"])
        status, doc = self.call("GET", "/api/v1/pack/orders/NOPE-404")
        self.assertEqual((status, doc["error"]["code"]), (404, "not_found"))
        for bad in ("X" * 129, "A%01B", "%20%20"):
            status, doc = self.call("GET", f"/api/v1/pack/orders/{bad}")
            self.assertEqual((status, doc["error"]["code"]), (400, "invalid_input"), bad)

    def test_wedge_scans_resolve_and_publish_the_scan_event(self):
        ws = WebSocket(self.srv.port, {"Authorization": f"Bearer {self.token}"})
        self.addCleanup(ws.close)
        self.assertEqual(ws.recv()["type"], "hello")
        status, r = self.call("POST", "/api/v1/scans", {"station": "PACK-9",
                                                        "code": "2006100000115"})
        self.assertEqual(status, 200)
        self.assertEqual((r["kind"], r["sku"], r["matched"]), ("sku", "COF-ESP-250", "gtin"))
        ev = ws.recv_type("scan")["data"]
        self.assertEqual((ev["kind"], ev["station"], ev["source"], ev["raw"]),
                         ("sku", "PACK-9", "keyboard", "2006100000115"))
        # With an AIM identifier, and as a GS1-128 element string (AI 01 + a lot).
        for code in ("]E02006100000115", "]C1010200610000011510LOT-7"):
            status, r = self.call("POST", "/api/v1/scans", {"station": "PACK-9", "code": code})
            self.assertEqual((status, r["kind"], r["sku"]), (200, "sku", "COF-ESP-250"), code)
            self.assertEqual(r["raw"], code)
            ws.recv_type("scan")
        status, r = self.call("POST", "/api/v1/scans", {"station": "PACK-9", "code": "CMD-PACK"})
        self.assertEqual((r["kind"], r["command"]), ("command", "PACK"))
        status, r = self.call("POST", "/api/v1/scans", {"station": "PACK-9", "code": "ZZZ-1"})
        self.assertEqual((r["kind"], r["data"]), ("unknown", "ZZZ-1"))
        badge = self.srv.issue_badge("pat")
        status, r = self.call("POST", "/api/v1/scans", {"station": "PACK-9", "code": badge})
        self.assertEqual((r["kind"], r["user"], r["raw"]), ("badge", "pat", None))
        self.assertNotIn(badge, json.dumps(r))
        self.assertNotIn(badge, json.dumps(ws.recv_type("scan")["data"]) +
                         json.dumps(ws.recv_type("scan")["data"]) +
                         json.dumps(ws.recv_type("scan")["data"]))
        for body in ({"code": "X"}, {"station": "PACK-9"}, {"station": "P", "code": ""},
                     {"station": "P", "code": "X", "extra": 1}):
            status, r = self.call("POST", "/api/v1/scans", body)
            self.assertEqual((status, r["error"]["code"]), (400, "invalid_parameter"), body)

    def test_pack_refuses_wrong_counts_and_bad_input_without_changing_anything(self):
        oid = self.order("ext-bad-1", "#5002", "COF-ESP-250:2", "COF-HOU-250:1")
        ledger = self.srv.query("SELECT count(*) FROM ledger")[0][0]
        cases = [
            ({"scanned": {"COF-ESP-250": 1, "COF-HOU-250": 1}, "printer": "Z"},
             409, "pack_mismatch", "COF-ESP-250: 1 scanned, the order has 2"),
            ({"scanned": {"COF-ESP-250": 2, "COF-HOU-250": 2}, "printer": "Z"},
             409, "pack_mismatch", "COF-HOU-250: 2 scanned"),
            ({"scanned": {"COF-ESP-250": 2, "COF-HOU-250": 1, "COF-DEC-250": 1},
              "printer": "Z"}, 409, "pack_mismatch", "COF-DEC-250 is not on order"),
            ({"scanned": {"COF-ESP-250": 2, "COF-HOU-250": 1}, "printer": "bad printer!"},
             400, "invalid_parameter", "printer"),
            ({"scanned": {"COF-ESP-250": 2, "COF-HOU-250": 1}}, 400, "invalid_parameter",
             "station"),
            ({"scanned": {"COF-ESP-250": 2, "COF-HOU-250": 1}, "station": "NO-SUCH"},
             400, "no_printer", "NO-SUCH"),
            ({"scanned": {"COF-ESP-250": 1.5}, "printer": "Z"}, 400, "invalid_parameter",
             "scanned"),
            ({"scanned": ["COF-ESP-250"], "printer": "Z"}, 400, "invalid_parameter",
             "scanned"),
            ({"scanned": {}, "printer": "Z", "weight_g": 0}, 400, "invalid_parameter",
             "weight_g"),
        ]
        for body, status, code, text in cases:
            got, doc = self.call("POST", f"/api/v1/orders/{oid}/pack", body)
            self.assertEqual((got, doc["error"]["code"]), (status, code), body)
            self.assertIn(text, doc["error"]["message"], body)
        self.assertEqual(self.shipments(oid), 0)
        self.assertEqual(self.srv.query("SELECT status FROM orders WHERE id = ?", oid)[0][0],
                         "open")
        self.assertEqual(self.srv.query("SELECT count(*) FROM ledger")[0][0], ledger)
        self.assertEqual(self.srv.query("SELECT count(*) FROM print_jobs")[0][0], 0)
        status, doc = self.call("POST", "/api/v1/orders/999999/pack",
                                {"scanned": {}, "printer": "Z"})
        self.assertEqual(status, 404)

    def test_pack_uses_the_station_printer_and_reprints_the_same_label(self):
        oid = self.order("ext-ok-1", "#5003", "COF-DEC-250:1")
        status, doc = self.call("POST", f"/api/v1/orders/{oid}/pack",
                                {"scanned": {"COF-DEC-250": 1}, "station": "PACK-9"})
        self.assertEqual(status, 201, doc)
        self.assertEqual(doc["order"]["status"], "shipped")
        self.assertIsNotNone(doc["print_job"])
        job = self.srv.query("SELECT printer, payload FROM print_jobs WHERE id = ?",
                             doc["print_job"])[0]
        self.assertEqual(job[0], "ZEBRA-9")
        self.assertIn(f"ORDER-{oid}", bytes(job[1]).decode())
        status, again = self.call("POST", f"/api/v1/orders/{oid}/pack",
                                  {"scanned": {"COF-DEC-250": 1}, "station": "PACK-9"})
        self.assertEqual((status, again["error"]["code"]), (409, "invalid_state"))
        self.assertEqual(self.shipments(oid), 1)
        status, r = self.call("POST", f"/api/v1/shipments/{doc['shipment_id']}/reprint",
                              {"station": "PACK-9"})
        self.assertEqual(status, 201, r)
        payloads = self.srv.query("SELECT payload FROM print_jobs WHERE id IN (?, ?)",
                                  doc["print_job"], r["print_job"])
        self.assertEqual(len(payloads), 2)
        self.assertEqual(bytes(payloads[0][0]), bytes(payloads[1][0]))
        status, r = self.call("POST", "/api/v1/shipments/999999/reprint", {"printer": "Z"})
        self.assertEqual(status, 404)

    def test_sku_and_bin_labels_for_the_printer(self):
        status, r = self.call("POST", "/api/v1/labels",
                              {"kind": "sku", "code": "COF-ESP-250", "printer": "SHELF-1"},
                              token=self.super_token)
        self.assertEqual(status, 201, r)
        zpl = bytes(self.srv.query("SELECT payload FROM print_jobs WHERE id = ?",
                                   r["job_id"])[0][0]).decode()
        self.assertIn("COF-ESP-250", zpl)
        self.assertIn("^PW600", zpl)  # 2 in at 300 dpi
        for body, status_want in (
                ({"kind": "box", "code": "X", "printer": "SHELF-1"}, 400),
                ({"kind": "sku", "code": "NOPE", "printer": "SHELF-1"}, 404),
                ({"kind": "bin", "code": "A-01-1", "printer": "NO-PRINTER"}, 404)):
            status, r = self.call("POST", "/api/v1/labels", body, token=self.super_token)
            self.assertEqual(status, status_want, (body, r))
        status, r = self.call("POST", "/api/v1/labels",
                              {"kind": "bin", "code": "A-01-1", "printer": "SHELF-1"})
        self.assertEqual(status, 403)  # a packer may not

    def packed(self, ext, number, sku, n):
        """A new order of n units of sku, packed through the API; (order id, shipment id)."""
        oid = self.order(ext, number, f"{sku}:{n}")
        status, doc = self.call("POST", f"/api/v1/orders/{oid}/pack",
                                {"scanned": {sku: n}, "station": "PACK-9"})
        self.assertEqual(status, 201, doc)
        return oid, doc["shipment_id"]

    def stock_of(self, sku):
        return self.srv.query("SELECT sum(s.on_hand), sum(s.reserved) FROM stock s JOIN skus k"
                              " ON k.id = s.sku_id WHERE k.code = ?", sku)[0]

    def test_void_is_for_supervisors_and_only_for_our_own_labels(self):
        before = self.stock_of("COF-DEC-250")
        oid, sid = self.packed("ext-void-1", "#5101", "COF-DEC-250", 1)
        self.assertEqual(self.stock_of("COF-DEC-250"), (before[0] - 1, before[1]))
        status, r = self.call("POST", f"/api/v1/shipments/{sid}/void", {"then": "release"})
        self.assertEqual(status, 403)  # a packer may not
        self.assertEqual(self.srv.query("SELECT status FROM shipments WHERE id = ?", sid),
                         [("shipped",)])
        status, r = self.call("POST", f"/api/v1/shipments/{sid}/void", {"then": "lost"},
                              token=self.super_token)
        self.assertEqual(status, 400)
        # Voided and released: the goods are back and reserved for the order, which is
        # ready to be packed again with a new label.
        status, r = self.call("POST", f"/api/v1/shipments/{sid}/void", {"then": "release"},
                              token=self.super_token)
        self.assertEqual(status, 200, r)
        self.assertEqual((r["status"], r["then"], r["order"]["id"], r["order"]["status"]),
                         ("voided", "release", oid, "reserved"))
        self.assertEqual([s["status"] for s in r["order"]["shipments"]], ["voided"])
        self.assertEqual(self.stock_of("COF-DEC-250"), (before[0], before[1] + 1))
        self.assertEqual(self.srv.query("SELECT status FROM shipments WHERE id = ?", sid),
                         [("voided",)])
        self.assertEqual(self.srv.query("SELECT actor FROM audit WHERE action ="
                                        " 'shipment.voided' AND entity = ?", f"shipment:{sid}"),
                         [("token:sup-bot",)])
        status, r = self.call("POST", f"/api/v1/shipments/{sid}/void", token=self.super_token)
        self.assertEqual((status, r["error"]["code"]), (409, "invalid_state"))
        status, r = self.call("POST", f"/api/v1/shipments/{sid}/reprint", {"station": "PACK-9"})
        self.assertEqual(status, 409)  # a voided label is not printed again
        status, r = self.call("POST", f"/api/v1/orders/{oid}/pack",
                              {"scanned": {"COF-DEC-250": 1}, "station": "PACK-9"})
        self.assertEqual((status, r["order"]["status"]), (201, "shipped"))  # packed again
        # Without a body: the label is void, the goods stay out (handled by hand).
        oid3, sid3 = self.packed("ext-void-3", "#5103", "COF-DEC-250", 1)
        status, r = self.call("POST", f"/api/v1/shipments/{sid3}/void", token=self.super_token)
        self.assertEqual((status, r["then"], r["order"]["status"]), (200, "none", "shipped"), r)
        # A carrier's label must be voided with the carrier: refused, left as it is.
        oid2, sid2 = self.packed("ext-void-2", "#5102", "COF-DEC-250", 1)
        conn = self.srv.tmp.connect()
        with conn:
            conn.execute("UPDATE shipments SET carrier = 'fedex' WHERE id = ?", (sid2,))
        conn.close()
        status, r = self.call("POST", f"/api/v1/shipments/{sid2}/void", token=self.super_token)
        self.assertEqual((status, r["error"]["code"]), (409, "carrier_label"), r)
        self.assertIn("void-label", r["error"]["message"])
        # Its reprint is the carrier's label, which has not arrived: nothing is queued.
        jobs = self.srv.query("SELECT count(*) FROM print_jobs")[0][0]
        status, r = self.call("POST", f"/api/v1/shipments/{sid2}/reprint", {"station": "PACK-9"})
        self.assertEqual((status, r["error"]["code"]), (409, "label_pending"), r)
        self.assertEqual(self.srv.query("SELECT count(*) FROM print_jobs")[0][0], jobs)
        self.assertEqual(self.srv.query("SELECT status FROM shipments WHERE id = ?", sid2),
                         [("shipped",)])
        status, r = self.call("POST", "/api/v1/shipments/999999/void", token=self.super_token)
        self.assertEqual(status, 404)
        dt.run_depotctl("--data-dir", self.srv.tmp.data_dir, "verify", check=True)

    def on_hand(self, sku, location):
        return self.srv.query("SELECT coalesce(sum(s.on_hand), 0) FROM stock s JOIN skus k"
                              " ON k.id = s.sku_id JOIN locations l ON l.id = s.location_id"
                              " WHERE k.code = ? AND l.code = ?", sku, location)[0][0]

    def test_returns_received_per_unit_disposition(self):
        oid, _ = self.packed("ext-ret-1", "#5201", "COF-HOU-250", 3)
        before = self.on_hand("COF-HOU-250", "WH-MAIN")
        units = [{"sku": "COF-HOU-250", "disposition": "sellable"},
                 {"sku": "COF-HOU-250", "disposition": "damaged"}]
        status, r = self.call("POST", f"/api/v1/orders/{oid}/returns", {"units": units})
        self.assertEqual(status, 403)  # a packer may not
        # Refused input changes nothing.
        for body, want in (({"units": [{"sku": "COF-HOU-250", "disposition": "lost"}]}, 400),
                           ({"units": []}, 400), ({"units": units, "extra": 1}, 400),
                           ({"units": [{"sku": "COF-DEC-250", "disposition": "sellable"}]}, 400),
                           ({"units": units * 2}, 400)):
            status, r = self.call("POST", f"/api/v1/orders/{oid}/returns", body,
                                  token=self.super_token)
            self.assertEqual(status, want, (body, r))
        self.assertEqual(self.srv.query("SELECT count(*) FROM returns WHERE order_id = ?",
                                        oid)[0][0], 0)
        status, r = self.call("POST", f"/api/v1/orders/{oid}/returns", {"units": units},
                              token=self.super_token)
        self.assertEqual(status, 201, r)
        self.assertEqual([(x["sku"], x["quantity"], x["disposition"]) for x in r["returns"]],
                         [("COF-HOU-250", 1, "sellable"), ("COF-HOU-250", 1, "damaged")])
        self.assertEqual(r["order"]["lines"][0]["returned"], 2)
        self.assertEqual(self.on_hand("COF-HOU-250", "WH-MAIN"), before + 1)
        self.assertEqual(self.srv.query("SELECT l.code, r.disposition FROM returns r JOIN"
                                        " locations l ON l.id = r.location_id WHERE"
                                        " r.order_id = ? ORDER BY r.id", oid),
                         [("WH-MAIN", "restock"), ("QUARANTINE", "damaged")])
        # The order's history (Orders screen) shows the pack and the returns, newest first.
        status, events = self.call("GET", f"/api/v1/orders/{oid}/events",
                                   token=self.super_token)
        self.assertEqual(status, 200, events)
        actions = [e["action"] for e in events["items"]]
        self.assertEqual(actions[:2], ["return.create", "return.create"])
        self.assertIn("order.pack", actions)
        self.assertEqual(events["items"][0]["detail"]["disposition"], "damaged")
        self.assertEqual(events["items"][0]["actor"], "token:sup-bot")
        self.assertEqual(self.call("GET", f"/api/v1/orders/{oid}/events")[0], 403)
        open_oid = self.order("ext-ret-2", "#5202", "COF-HOU-250:1")
        status, r = self.call("POST", f"/api/v1/orders/{open_oid}/returns",
                              {"units": units[:1]}, token=self.super_token)
        self.assertEqual((status, r["error"]["code"]), (409, "invalid_state"))
        dt.run_depotctl("--data-dir", self.srv.tmp.data_dir, "verify", check=True)

    def test_scanner_moved_to_another_station(self):
        self.srv.ctl("station", "add", "PACK-10")
        self.srv.ctl("scanner", "add", "scan-9", "--station", "PACK-9", "--port",
                     "/dev/serial/by-id/usb-none-if00")
        status, r = self.call("POST", "/api/v1/scanners/scan-9/station", {"station": "PACK-10"})
        self.assertEqual(status, 403)  # a packer may not
        status, r = self.call("POST", "/api/v1/scanners/scan-9/station", {"station": "PACK-10"},
                              token=self.super_token)
        self.assertEqual((status, r), (200, {"scanner": "scan-9", "station": "PACK-10"}))
        status, devices = self.call("GET", "/api/v1/devices")
        self.assertEqual([s["station"] for s in devices["scanners"] if s["name"] == "scan-9"],
                         ["PACK-10"])
        for name, body, want in (("scan-9", {"station": "NOWHERE"}, 404),
                                 ("nope", {"station": "PACK-9"}, 404),
                                 ("scan-9", {}, 400), ("scan-9", {"station": 7}, 400)):
            status, r = self.call("POST", f"/api/v1/scanners/{name}/station", body,
                                  token=self.super_token)
            self.assertEqual(status, want, (name, body, r))
        self.assertEqual(self.srv.query("SELECT t.name FROM scanners c JOIN stations t ON"
                                        " t.id = c.station_id WHERE c.name = 'scan-9'"),
                         [("PACK-10",)])


if __name__ == "__main__":
    unittest.main()
