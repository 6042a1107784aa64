"""The packing endpoints over HTTP against the real depotd (no browser): finding an order
by what a packer scans, keyboard-wedge scans resolved and published like serial ones,
PACK refusing wrong counts and bad input without changing anything, the station's
printer used by default, reprint, and SKU/bin labels. Outcomes are checked in the
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


if __name__ == "__main__":
    unittest.main()
