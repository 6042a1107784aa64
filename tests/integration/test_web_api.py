"""Integration tests of the JSON REST API against the real depotd on loopback: SKU
list/search/pagination, show, adjust and ledger, CSV upload, the order actions, outbox and
inbox, users and tokens, the audit log, and input validation. Each test checks real
outcomes (what a later GET or the database shows), not only status codes."""

import hashlib
import http.client
import json
import os
import sys
import time
import unittest
from urllib.parse import quote, urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

DEMO_CSV = os.path.join(dt.SOURCE_DIR, "packaging", "demo", "stock.csv")


class Response:
    """status, headers (lower-case names), raw body and parsed JSON (if JSON)."""

    def __init__(self, r):
        self.status = r.status
        self.headers = {k.lower(): v for k, v in r.getheaders()}
        self.body = r.read()
        self.json = None
        if self.headers.get("content-type", "").startswith("application/json"):
            self.json = json.loads(self.body)


class Server:
    """A depotd with the demo catalogue, one token per role, and a channel that lists
    SYR-VAN-250 at WH-MAIN (so adjusting it writes outbox rows)."""

    def __init__(self):
        self.tmp = dt.TempDataDir()
        d = self.tmp.data_dir
        dt.run_depotctl("--data-dir", d, "init", check=True)
        dt.run_depotctl("--data-dir", d, "stock", "import", DEMO_CSV, check=True)
        self.tokens = {role: self.token_create(f"{role}-bot", role)
                       for role in ("packer", "supervisor", "admin")}
        conn = self.tmp.connect()
        with conn:
            now = int(time.time())
            conn.execute("INSERT INTO channels (id, kind, name, created_at)"
                         " VALUES (1, 'shopify', 'test-shop', ?)", (now,))
            conn.execute("INSERT INTO channel_skus (channel_id, sku_id, external_inventory_id)"
                         " SELECT 1, id, 'gid://inv/1' FROM skus WHERE code = 'SYR-VAN-250'")
            conn.execute("INSERT INTO channel_locations (channel_id, location_id,"
                         " external_location_id) SELECT 1, id, 'gid://loc/1' FROM locations"
                         " WHERE code = 'WH-MAIN'")
        conn.close()
        # The tests make a few hundred requests in quick succession.
        config = self.tmp.write_config(rate_limit=100000, rate_burst=100000)
        self.port = dt.free_port()
        self.daemon = dt.Depotd("--data-dir", d, "--listen", f"127.0.0.1:{self.port}",
                                "--config", config)
        self.daemon.start()

    def token_create(self, name, role):
        out = dt.run_depotctl("--data-dir", self.tmp.data_dir, "--json", "token", "create",
                              name, "--role", role, check=True).stdout
        return json.loads(out)["token"]

    def stop(self):
        try:
            self.daemon.stop()
        finally:
            self.tmp.cleanup()

    def request(self, method, path, body=None, role="admin", token=None, headers=None,
                content_type="application/json"):
        """body: a dict/list (sent as JSON), or str/bytes sent as they are."""
        h = {"Authorization": f"Bearer {token or self.tokens[role]}"}
        h.update(headers or {})
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
            else:
                data = body.encode() if isinstance(body, str) else body
            h.setdefault("Content-Type", content_type)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=data, headers=h)
            return Response(conn.getresponse())
        finally:
            conn.close()

    def sql(self, query, args=()):
        conn = self.tmp.connect()
        try:
            with conn:
                return conn.execute(query, args).fetchall()
        finally:
            conn.close()

    def order_create(self, external_id, *lines):
        args = ["--data-dir", self.tmp.data_dir, "--json", "order", "create",
                "--external-id", external_id]
        for line in lines:
            args += ["--line", line]
        return json.loads(dt.run_depotctl(*args, check=True).stdout)["id"]


class ApiTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    # ---- helpers ------------------------------------------------------------------

    def ok(self, method, path, body=None, status=200, **kw):
        r = self.srv.request(method, path, body, **kw)
        self.assertEqual(r.status, status, r.body)
        return r.json

    def assert_error(self, r, status, code, mentions=None):
        self.assertEqual(r.status, status, r.body)
        self.assertIsInstance(r.json, dict, r.body)
        self.assertEqual(set(r.json), {"error"}, r.json)
        self.assertEqual(r.json["error"]["code"], code, r.json)
        self.assertTrue(r.json["error"]["message"])
        if mentions:
            self.assertIn(mentions, r.json["error"]["message"])
        return r.json["error"]

    def walk(self, path, cursor_arg, limit):
        """Every item of a paginated list, following next until null."""
        items, cursor, pages = [], None, 0
        while True:
            q = {"limit": limit}
            if cursor is not None:
                q[cursor_arg] = cursor
            sep = "&" if "?" in path else "?"
            page = self.ok("GET", f"{path}{sep}{urlencode(q)}")
            self.assertEqual(set(page), {"items", "next"})
            self.assertLessEqual(len(page["items"]), limit)
            items += page["items"]
            pages += 1
            self.assertLess(pages, 1000, "pagination does not end")
            if page["next"] is None:
                return items
            self.assertEqual(len(page["items"]), limit, "a short page must be the last")
            cursor = page["next"]

    def level(self, sku, location):
        view = self.ok("GET", f"/api/v1/skus/{sku}")
        return next(lv for lv in view["levels"] if lv["location"] == location)

    def ledger_count(self):
        return self.srv.sql("SELECT count(*) FROM ledger")[0][0]


class Stock(ApiTestCase):
    def test_cursor_walks_the_whole_catalogue_exactly_once(self):
        for limit in (1, 7, 500):
            with self.subTest(limit=limit):
                codes = [i["sku"] for i in self.walk("/api/v1/skus", "after", limit)]
                db = [r[0] for r in self.srv.sql("SELECT code FROM skus ORDER BY code")]
                self.assertEqual(codes, db)
                self.assertEqual(len(set(codes)), len(codes))
        page = self.ok("GET", "/api/v1/skus", role="packer")
        self.assertEqual(len(page["items"]), min(len(db), 50))
        item = next(i for i in page["items"] if i["sku"] == "COF-ESP-1K")
        self.assertEqual(item["name"], "Espresso blend whole bean 1 kg")
        self.assertEqual(item["gtins"], ["2006100000184"])
        self.assertEqual(item["available"], item["on_hand"] - item["reserved"])

    def search(self, q):
        page = self.ok("GET", "/api/v1/skus?q=" + quote(q), role="packer")
        return [i["sku"] for i in page["items"]]

    def test_search_by_code_prefix_name_gtin_and_bin(self):
        self.assertEqual(self.search("cof-esp"), ["COF-ESP-1K", "COF-ESP-250"])
        self.assertEqual(self.search("YIRGACHEFFE"), ["COF-ETH-250"])
        self.assertEqual(self.search("2006100000184"), ["COF-ESP-1K"])
        self.assertEqual(self.search("A-01-3"), ["COF-HOU-250"])
        self.assertEqual(self.search("S-01"), ["COF-ESP-1K", "COF-ESP-250", "COF-HOU-250"])
        self.assertEqual(self.search("no such thing"), [])
        # A GTIN matches only whole, a bin only exactly.
        self.assertEqual(self.search("20061000001"), [])
        self.assertEqual(self.search("A-01"), [])
        # Search results paginate like the full list.
        walked = [i["sku"] for i in self.walk("/api/v1/skus?q=whole%20bean", "after", 2)]
        self.assertEqual(walked, ["COF-DEC-250", "COF-ESP-1K", "COF-ESP-250", "COF-ETH-250",
                                  "COF-GUA-250", "COF-HOU-250"])

    def test_list_arguments_are_checked(self):
        for bad in ("0", "501", "abc", "-1", "1.5"):
            r = self.srv.request("GET", f"/api/v1/skus?limit={bad}")
            self.assert_error(r, 400, "invalid_parameter", "'limit'")
        r = self.srv.request("GET", "/api/v1/skus?q=" + "x" * 201)
        self.assert_error(r, 400, "invalid_parameter", "'q'")
        r = self.srv.request("GET", "/api/v1/skus/COF-ESP-1K/ledger?before=x")
        self.assert_error(r, 400, "invalid_parameter", "'before'")

    def test_show_and_unknown_sku(self):
        view = self.ok("GET", "/api/v1/skus/COF-ESP-250", role="packer")
        self.assertEqual(view["sku"], "COF-ESP-250")
        self.assertEqual({lv["location"]: lv["bin"] for lv in view["levels"]},
                         {"SHOP": "S-01", "WH-MAIN": "A-01-1"})
        self.assertEqual(view["on_hand"], sum(lv["on_hand"] for lv in view["levels"]))
        self.assert_error(self.srv.request("GET", "/api/v1/skus/NOPE-1"), 404, "not_found")

    def test_adjust_changes_stock_and_is_in_the_ledger(self):
        before = self.level("TEA-SEN-100", "WH-MAIN")["on_hand"]
        r = self.ok("POST", "/api/v1/skus/TEA-SEN-100/adjust",
                    {"location": "WH-MAIN", "delta": -3, "reason": "damaged in transit"},
                    role="supervisor")
        self.assertEqual(r["sku"], "TEA-SEN-100")
        self.assertIsInstance(r["ledger_id"], int)
        lv = next(lv for lv in r["levels"] if lv["location"] == "WH-MAIN")
        self.assertEqual(lv["on_hand"], before - 3)
        self.assertEqual(self.level("TEA-SEN-100", "WH-MAIN")["on_hand"], before - 3)
        self.ok("POST", "/api/v1/skus/TEA-SEN-100/adjust",
                {"location": "WH-MAIN", "delta": 10, "reason": "found a case"})
        self.assertEqual(self.level("TEA-SEN-100", "WH-MAIN")["on_hand"], before + 7)
        ledger = self.ok("GET", "/api/v1/skus/TEA-SEN-100/ledger", role="supervisor")
        newest, second = ledger["items"][0], ledger["items"][1]
        self.assertEqual((newest["delta"], newest["kind"], newest["reason"]),
                         (10, "adjust", "found a case"))
        self.assertEqual((second["delta"], second["reason"], second["id"]),
                         (-3, "damaged in transit", r["ledger_id"]))
        self.assertEqual(second["actor"], "token:supervisor-bot")
        self.assertEqual(ledger["items"][-1]["kind"], "import")
        # The ledger walks back with the before cursor, newest first, sums to on_hand.
        walked = self.walk("/api/v1/skus/TEA-SEN-100/ledger", "before", 1)
        self.assertEqual([e["id"] for e in walked], [e["id"] for e in ledger["items"]])
        view = self.ok("GET", "/api/v1/skus/TEA-SEN-100")
        self.assertEqual(sum(e["delta"] for e in walked), view["on_hand"])
        self.assert_error(self.srv.request("GET", "/api/v1/skus/NOPE-1/ledger"), 404,
                          "not_found")

    def test_adjust_below_zero_is_refused_and_changes_nothing(self):
        on_hand = self.level("CHO-HOT-300", "WH-MAIN")["on_hand"]
        n = self.ledger_count()
        r = self.srv.request("POST", "/api/v1/skus/CHO-HOT-300/adjust",
                             {"location": "WH-MAIN", "delta": -(on_hand + 1),
                              "reason": "too many"})
        self.assert_error(r, 409, "insufficient_stock")
        self.assertEqual(self.level("CHO-HOT-300", "WH-MAIN")["on_hand"], on_hand)
        self.assertEqual(self.ledger_count(), n)

    def test_adjust_input_is_validated_naming_the_field(self):
        url = "/api/v1/skus/CHO-HOT-300/adjust"
        good = {"location": "WH-MAIN", "delta": 1, "reason": "count"}
        n = self.ledger_count()
        cases = [
            ({**good, "delta": "5"}, "'delta'"),
            ({**good, "delta": 1.5}, "'delta'"),
            ({**good, "delta": 0}, "'delta'"),
            ({**good, "delta": 10 ** 12}, "'delta'"),
            ({**good, "delta": True}, "'delta'"),
            ({**good, "location": 7}, "'location'"),
            ({**good, "location": ""}, "'location'"),
            ({**good, "reason": ["x"]}, "'reason'"),
            ({**good, "reason": "r" * 201}, "'reason'"),
            ({k: v for k, v in good.items() if k != "reason"}, "'reason'"),
            ({k: v for k, v in good.items() if k != "delta"}, "'delta'"),
            ({**good, "colour": "red"}, "'colour'"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                r = self.srv.request("POST", url, body)
                self.assert_error(r, 400, "invalid_parameter", field)
        for raw in ('{"location": "WH-MAIN", "delta": 1', "[1, 2]", "", "nul\x00l"):
            with self.subTest(raw=raw):
                self.assert_error(self.srv.request("POST", url, raw), 400, "invalid_json")
        r = self.srv.request("POST", url, json.dumps(good), content_type="text/plain")
        self.assert_error(r, 415, "unsupported_media_type")
        r = self.srv.request("POST", url, {**good, "location": "NOWHERE"})
        self.assert_error(r, 404, "not_found")
        r = self.srv.request("POST", url, good, role="packer")
        self.assert_error(r, 403, "forbidden")
        self.assertEqual(self.ledger_count(), n)

    def test_csv_upload_applies_a_good_file(self):
        before = self.level("MLK-JUG-600", "WH-MAIN")["on_hand"]
        csv = ("sku,name,gtin,location,on_hand,bin\r\n"
               "MLK-JUG-600,Milk jug stainless steel 600 ml,,WH-MAIN,%d,B-04-4\r\n"
               "TST-UPL-1,Uploaded thing,,SHOP,5,S-09\r\n") % (before + 2)
        r = self.ok("POST", "/api/v1/stock/import", csv, role="supervisor",
                    content_type="text/csv")
        self.assertEqual(r, {"rows": 2, "changed": 2, "skus_created": 1})
        self.assertEqual(self.level("MLK-JUG-600", "WH-MAIN")["on_hand"], before + 2)
        self.assertEqual(self.level("TST-UPL-1", "SHOP"),
                         {"location": "SHOP", "bin": "S-09", "on_hand": 5, "reserved": 0,
                          "available": 5, "buffer": 0})
        ledger = self.ok("GET", "/api/v1/skus/MLK-JUG-600/ledger")
        self.assertEqual((ledger["items"][0]["kind"], ledger["items"][0]["delta"]),
                         ("import", 2))
        # The upload was spooled to a private temp file and removed again.
        audit = self.ok("GET", "/api/v1/audit?limit=5")["items"]
        imported = next(a for a in audit if a["action"] == "stock.import")
        leftover = os.path.join(os.environ.get("TMPDIR") or "/tmp",
                                imported["detail"]["file"])
        self.assertFalse(os.path.exists(leftover), leftover)

    def test_csv_upload_with_errors_is_refused_per_row_and_changes_nothing(self):
        snapshot = self.srv.sql("SELECT sku_id, location_id, on_hand FROM stock ORDER BY 1, 2")
        n = self.ledger_count()
        csv = ("sku,name,gtin,location,on_hand\n"
               "TMP-58,Espresso tamper 58 mm,,WH-MAIN,99\n"
               "TST-BAD-1,Bad one,123,WH-MAIN,abc\n"
               "TST-BAD-2,,,WH-MAIN,4\n")
        r = self.srv.request("POST", "/api/v1/stock/import", csv, role="supervisor",
                             content_type="text/csv")
        self.assertEqual(r.status, 422, r.body)
        err = r.json["error"]
        self.assertEqual(err["code"], "invalid_csv")
        self.assertIn("nothing was imported", err["message"])
        got = {(e["row"], e["column"]) for e in err["errors"]}
        self.assertEqual(got, {(3, "gtin"), (3, "on_hand"), (4, "name")})
        self.assertTrue(all(e["message"] for e in err["errors"]))
        self.assertEqual(err["errors_total"], 3)
        r = self.srv.request("POST", "/api/v1/stock/import", "sku,name\nA,B\n",
                             content_type="text/csv")
        self.assertEqual(r.status, 422, r.body)
        self.assertEqual(r.json["error"]["errors"][0]["row"], 1)
        r = self.srv.request("POST", "/api/v1/stock/import", csv, content_type="text/plain")
        self.assert_error(r, 415, "unsupported_media_type")
        r = self.srv.request("POST", "/api/v1/stock/import", csv, role="packer",
                             content_type="text/csv")
        self.assert_error(r, 403, "forbidden")
        self.assertEqual(self.srv.sql("SELECT sku_id, location_id, on_hand FROM stock"
                                      " ORDER BY 1, 2"), snapshot)
        self.assertEqual(self.ledger_count(), n)
        self.assert_error(self.srv.request("GET", "/api/v1/skus/TST-BAD-2"), 404, "not_found")


class Orders(ApiTestCase):
    def test_reserve_release_cancel_through_the_api(self):
        oid = self.srv.order_create("api-flow-1", "GRN-ELEC-40:5")
        o = self.ok("GET", f"/api/v1/orders/{oid}", role="packer")
        self.assertEqual((o["status"], o["units"], o["lines"][0]["sku"]),
                         ("open", 5, "GRN-ELEC-40"))
        o = self.ok("POST", f"/api/v1/orders/{oid}/reserve", {"ttl": 600}, role="packer")
        self.assertEqual(o["status"], "reserved")
        self.assertEqual(o["lines"][0]["reserved"], 5)
        self.assertEqual([r["status"] for r in o["reservations"]], ["active"])
        expires = o["reservations"][0]["expires_at"]
        self.assertTrue(time.time() + 500 < expires < time.time() + 700, expires)
        self.assertEqual(self.level("GRN-ELEC-40", "WH-MAIN")["reserved"], 5)
        # Packers may reserve, not release or cancel.
        for action in ("release", "cancel"):
            r = self.srv.request("POST", f"/api/v1/orders/{oid}/{action}", role="packer")
            self.assert_error(r, 403, "forbidden")
        o = self.ok("POST", f"/api/v1/orders/{oid}/release", role="supervisor")
        self.assertEqual(o["status"], "open")
        self.assertEqual(self.level("GRN-ELEC-40", "WH-MAIN")["reserved"], 0)
        o = self.ok("POST", f"/api/v1/orders/{oid}/reserve", role="packer")  # no body
        self.assertIsNone(o["reservations"][-1]["expires_at"])
        self.assertEqual(self.level("GRN-ELEC-40", "WH-MAIN")["reserved"], 5)
        o = self.ok("POST", f"/api/v1/orders/{oid}/cancel", role="supervisor")
        self.assertEqual(o["status"], "cancelled")
        self.assertEqual(self.level("GRN-ELEC-40", "WH-MAIN")["reserved"], 0)
        r = self.srv.request("POST", f"/api/v1/orders/{oid}/reserve")
        self.assert_error(r, 409, "invalid_state")
        actions = [a["action"] for a in self.ok("GET", "/api/v1/audit?limit=10")["items"]
                   if a["entity"] == f"order:{oid}"]
        self.assertIn("order.cancel", actions)

    def test_oversell_is_refused_and_reserves_nothing(self):
        avail = self.level("KET-ELEC-09", "WH-MAIN")["available"]
        oid = self.srv.order_create("api-oversell-1", "GRN-HAND-CER:2",
                                    f"KET-ELEC-09:{avail + 1}")
        r = self.srv.request("POST", f"/api/v1/orders/{oid}/reserve", role="packer")
        err = self.assert_error(r, 409, "insufficient_stock")
        self.assertIn("KET-ELEC-09", err["message"])
        o = self.ok("GET", f"/api/v1/orders/{oid}")
        self.assertEqual((o["status"], o["reservations"]), ("open", []))
        self.assertEqual(self.level("GRN-HAND-CER", "WH-MAIN")["reserved"], 0)
        self.assertEqual(self.level("KET-ELEC-09", "WH-MAIN")["reserved"], 0)

    def test_list_filters_and_pagination(self):
        ids = [self.srv.order_create(f"api-list-{i}", "BRW-FLT-100:1") for i in range(5)]
        self.ok("POST", f"/api/v1/orders/{ids[1]}/reserve")
        walked = self.walk("/api/v1/orders", "before", 2)
        db = [r[0] for r in self.srv.sql("SELECT id FROM orders ORDER BY id DESC")]
        self.assertEqual([o["id"] for o in walked], db)
        reserved = self.ok("GET", "/api/v1/orders?status=reserved", role="packer")["items"]
        self.assertIn(ids[1], [o["id"] for o in reserved])
        self.assertEqual({o["status"] for o in reserved}, {"reserved"})
        local = self.ok("GET", "/api/v1/orders?channel=0&limit=500")["items"]
        self.assertTrue(set(ids) <= {o["id"] for o in local})
        self.assertEqual(self.ok("GET", "/api/v1/orders?channel=1")["items"], [])
        page = self.ok("GET", f"/api/v1/orders?before={ids[3]}&limit=2")
        self.assertEqual([o["id"] for o in page["items"]], [ids[2], ids[1]])
        self.assertEqual(page["next"], ids[1])
        r = self.srv.request("GET", "/api/v1/orders?status=lost")
        self.assert_error(r, 400, "invalid_parameter", "'status'")
        r = self.srv.request("GET", "/api/v1/orders?channel=-1")
        self.assert_error(r, 400, "invalid_parameter", "'channel'")

    def test_ids_and_bodies_are_validated(self):
        oid = self.srv.order_create("api-validate-1", "BRW-FLT-CLO:1")
        for bad in ("abc", "0", "-3", "1x"):
            r = self.srv.request("GET", f"/api/v1/orders/{bad}")
            self.assert_error(r, 400, "invalid_parameter")
        self.assert_error(self.srv.request("GET", "/api/v1/orders/999999"), 404, "not_found")
        for body, field in (({"ttl": "60"}, "'ttl'"), ({"ttl": -1}, "'ttl'"),
                            ({"ttl": 60.5}, "'ttl'"), ({"tll": 60}, "'tll'")):
            with self.subTest(body=body):
                r = self.srv.request("POST", f"/api/v1/orders/{oid}/reserve", body)
                self.assert_error(r, 400, "invalid_parameter", field)
        r = self.srv.request("POST", f"/api/v1/orders/{oid}/reserve", "{ttl: 5}")
        self.assert_error(r, 400, "invalid_json")
        self.assertEqual(self.ok("GET", f"/api/v1/orders/{oid}")["status"], "open")


class Sync(ApiTestCase):
    def outbox_ids(self, status):
        return [o["id"] for o in self.walk(f"/api/v1/outbox?status={status}", "before", 50)]

    def make_dead(self, n):
        """Adjusts the channel-listed SKU n times and marks the new outbox rows dead."""
        top = self.srv.sql("SELECT coalesce(max(id), 0) FROM outbox")[0][0]
        for _ in range(n):
            self.ok("POST", "/api/v1/skus/SYR-VAN-250/adjust",
                    {"location": "WH-MAIN", "delta": 1, "reason": "restock"})
        self.srv.sql("UPDATE outbox SET status = 'dead', attempts = 8,"
                     " last_error = 'HTTP 500 from shop' WHERE id > ?", (top,))
        return [r[0] for r in self.srv.sql("SELECT id FROM outbox WHERE id > ? ORDER BY id",
                                           (top,))]

    def test_outbox_lists_by_status_and_retries_one(self):
        self.ok("POST", "/api/v1/skus/SYR-VAN-250/adjust",
                {"location": "WH-MAIN", "delta": 2, "reason": "restock"})
        pending = self.ok("GET", "/api/v1/outbox?status=pending", role="supervisor")["items"]
        row = pending[0]
        self.assertEqual((row["topic"], row["target"], row["target_id"]),
                         ("inventory.set", "channel", 1))
        self.assertEqual(row["payload"]["sku"], "SYR-VAN-250")
        self.assertEqual(row["payload"]["on_hand"],
                         self.level("SYR-VAN-250", "WH-MAIN")["on_hand"])
        [dead] = self.make_dead(1)
        self.assertIn(dead, self.outbox_ids("dead"))
        self.assertNotIn(dead, self.outbox_ids("pending"))
        item = next(o for o in self.ok("GET", "/api/v1/outbox?status=dead")["items"]
                    if o["id"] == dead)
        self.assertEqual((item["status"], item["last_error"]), ("dead", "HTTP 500 from shop"))
        all_ids = [o["id"] for o in self.walk("/api/v1/outbox", "before", 3)]
        self.assertEqual(all_ids, [r[0] for r in self.srv.sql(
            "SELECT id FROM outbox ORDER BY id DESC")])
        self.assertEqual(self.ok("POST", f"/api/v1/outbox/{dead}/retry", role="supervisor"),
                         {"requeued": 1})
        self.assertNotIn(dead, self.outbox_ids("dead"))
        status, attempts = self.srv.sql("SELECT status, attempts FROM outbox WHERE id = ?",
                                        (dead,))[0]
        self.assertNotEqual(status, "dead")
        self.assertLess(attempts, 8)
        r = self.srv.request("POST", f"/api/v1/outbox/{dead}/retry")
        if status == "pending":
            self.assert_error(r, 409, "invalid_state")
        self.assert_error(self.srv.request("POST", "/api/v1/outbox/999999/retry"), 404,
                          "not_found")
        self.assert_error(self.srv.request("GET", "/api/v1/outbox?status=lost"), 400,
                          "invalid_parameter", "'status'")
        self.assert_error(self.srv.request("GET", "/api/v1/outbox", role="packer"), 403,
                          "forbidden")

    def test_retry_all_dead(self):
        dead = self.make_dead(2)
        self.assertTrue(set(dead) <= set(self.outbox_ids("dead")))
        n = len(self.outbox_ids("dead"))
        self.assertEqual(self.ok("POST", "/api/v1/outbox/retry-dead", role="supervisor"),
                         {"requeued": n})
        self.assertEqual(self.outbox_ids("dead"), [])
        self.assertEqual(self.ok("POST", "/api/v1/outbox/retry-dead"), {"requeued": 0})
        self.assert_error(self.srv.request("POST", "/api/v1/outbox/retry-dead", role="packer"),
                          403, "forbidden")

    def test_inbox_lists_by_status_without_bodies(self):
        now = int(time.time())
        body = b'{"id": 1}'
        for i, status in enumerate(("pending", "failed", "done")):
            self.srv.sql("INSERT INTO inbox (source, delivery_id, topic, event_id, body,"
                         " body_sha256, status, attempts, last_error, received_at)"
                         " VALUES ('shop.example', ?, 'orders/create', ?, ?, ?, ?, ?, ?, ?)",
                         (f"d-{i}", f"e-{i}", body, hashlib.sha256(body).hexdigest(), status,
                          i, "bad payload" if status == "failed" else None, now))
        failed = self.ok("GET", "/api/v1/inbox?status=failed", role="supervisor")
        self.assertEqual(len(failed["items"]), 1)
        item = failed["items"][0]
        self.assertEqual({k: item[k] for k in ("source", "delivery_id", "event_id", "topic",
                                               "status", "attempts", "last_error")},
                         {"source": "shop.example", "delivery_id": "d-1", "event_id": "e-1",
                          "topic": "orders/create", "status": "failed", "attempts": 1,
                          "last_error": "bad payload"})
        self.assertEqual(item["received_at"], now)
        self.assertFalse({"body", "headers", "body_sha256"} & set(item))
        every = self.walk("/api/v1/inbox", "before", 2)
        self.assertEqual([i["delivery_id"] for i in every], ["d-2", "d-1", "d-0"])
        self.assert_error(self.srv.request("GET", "/api/v1/inbox?status=lost"), 400,
                          "invalid_parameter", "'status'")
        self.assert_error(self.srv.request("GET", "/api/v1/inbox", role="packer"), 403,
                          "forbidden")


class Admin(ApiTestCase):
    def test_users_create_and_list(self):
        r = self.ok("POST", "/api/v1/users",
                    {"name": "carol", "role": "supervisor", "password": "carol-password-1"},
                    status=201)
        self.assertEqual((r["name"], r["role"], r["password"]), ("carol", "supervisor", True))
        self.ok("POST", "/api/v1/users", {"name": "pete", "role": "packer"}, status=201)
        r = self.srv.request("POST", "/api/v1/users", {"name": "carol", "role": "packer"})
        self.assert_error(r, 409, "conflict")
        users = self.walk("/api/v1/users", "after", 1)
        by_name = {u["name"]: u for u in users}
        self.assertEqual((by_name["carol"]["role"], by_name["carol"]["password"]),
                         ("supervisor", True))
        self.assertFalse(by_name["pete"]["password"])
        text = json.dumps(users)
        self.assertNotIn("hash", text)
        self.assertNotIn("pbkdf2", text)
        # The new user can log in with the password given.
        r = self.srv.request("POST", "/api/v1/login",
                             {"name": "carol", "password": "carol-password-1"})
        self.assertEqual(r.status, 200, r.body)
        for body, field in (({"name": "x", "role": "king"}, "'role'"),
                            ({"name": "x", "role": 3}, "'role'"),
                            ({"role": "packer"}, "'name'"),
                            ({"name": "", "role": "packer"}, "'name'"),
                            ({"name": "x", "role": "packer", "password": "short"},
                             "'password'"),
                            ({"name": "x", "role": "packer", "password": 12345678},
                             "'password'"),
                            ({"name": "x", "role": "packer", "admin": True}, "'admin'")):
            with self.subTest(body=body):
                r = self.srv.request("POST", "/api/v1/users", body)
                self.assert_error(r, 400, "invalid_parameter", field)
        r = self.srv.request("POST", "/api/v1/users", {"name": "x", "role": "packer"},
                             role="supervisor")
        self.assert_error(r, 403, "forbidden")
        self.assert_error(self.srv.request("GET", "/api/v1/users", role="supervisor"), 403,
                          "forbidden")

    def test_tokens_create_list_revoke(self):
        r = self.ok("POST", "/api/v1/tokens", {"name": "scanner-3", "role": "packer"},
                    status=201)
        token, tid = r["token"], r["id"]
        self.assertRegex(token, r"^dpt_[0-9a-f]{64}$")
        self.ok("GET", "/api/v1/skus?limit=1", token=token)
        self.assert_error(self.srv.request("GET", "/api/v1/audit", token=token), 403,
                          "forbidden")
        tokens = self.walk("/api/v1/tokens", "after", 2)
        mine = next(t for t in tokens if t["id"] == tid)
        self.assertEqual(set(mine), {"id", "name", "role", "created_at", "last_used_at",
                                     "revoked_at"})
        self.assertEqual((mine["name"], mine["role"], mine["revoked_at"]),
                         ("scanner-3", "packer", None))
        self.assertIsInstance(mine["last_used_at"], int)
        self.assertNotIn(token, json.dumps(tokens))
        self.assertNotIn(hashlib.sha256(token.encode()).hexdigest(), json.dumps(tokens))
        self.assertEqual(self.ok("DELETE", f"/api/v1/tokens/{tid}"), {"id": tid,
                                                                       "revoked": True})
        self.assert_error(self.srv.request("GET", "/api/v1/skus", token=token), 401,
                          "unauthenticated")
        mine = next(t for t in self.ok("GET", "/api/v1/tokens?limit=500")["items"]
                    if t["id"] == tid)
        self.assertIsInstance(mine["revoked_at"], int)
        self.assert_error(self.srv.request("DELETE", f"/api/v1/tokens/{tid}"), 409,
                          "invalid_state")
        self.assert_error(self.srv.request("DELETE", "/api/v1/tokens/999999"), 404,
                          "not_found")
        self.assert_error(self.srv.request("POST", "/api/v1/tokens", {"name": "t"}), 400,
                          "invalid_parameter", "'role'")
        self.assert_error(self.srv.request("DELETE", f"/api/v1/tokens/{tid}",
                                           role="supervisor"), 403, "forbidden")

    def test_audit_newest_first_with_cursor(self):
        self.ok("POST", "/api/v1/skus/BRW-FP-1L/adjust",
                {"location": "WH-MAIN", "delta": 1, "reason": "audit me"})
        newest = self.ok("GET", "/api/v1/audit?limit=1", role="supervisor")["items"][0]
        self.assertEqual((newest["action"], newest["entity"]),
                         ("stock.adjust", "stock:BRW-FP-1L@WH-MAIN"))
        self.assertEqual(newest["detail"]["reason"], "audit me")
        self.assertEqual(newest["actor"], "token:admin-bot")
        walked = [a["id"] for a in self.walk("/api/v1/audit", "before", 4)]
        self.assertEqual(walked, [r[0] for r in self.srv.sql(
            "SELECT id FROM audit ORDER BY id DESC")])
        self.assert_error(self.srv.request("GET", "/api/v1/audit", role="packer"), 403,
                          "forbidden")
        self.assert_error(self.srv.request("GET", "/api/v1/audit?limit=1000"), 400,
                          "invalid_parameter", "'limit'")


class Routing(ApiTestCase):
    def test_unknown_route_is_404_json(self):
        for path in ("/api/v1/nothing", "/api/v1/skus/A/B/C", "/api/v2/skus"):
            with self.subTest(path=path):
                self.assert_error(self.srv.request("GET", path), 404, "not_found")

    def test_wrong_method_is_405_json(self):
        for method, path in (("DELETE", "/api/v1/skus"), ("PUT", "/api/v1/orders/1"),
                             ("GET", "/api/v1/outbox/retry-dead"),
                             ("POST", "/api/v1/audit")):
            with self.subTest(method=method, path=path):
                r = self.srv.request(method, path)
                self.assert_error(r, 405, "method_not_allowed")


if __name__ == "__main__":
    unittest.main()
