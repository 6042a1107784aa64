"""A fake WooCommerce REST API v3 (/wp-json/wc/v3/...) on loopback with the real shapes
Depot uses: POST products/batch {"update":[{id, stock_quantity, manage_stock}]} (at most
100 items, else 400 woocommerce_rest_request_entity_too_large; unknown ids answer an
item error), GET/POST orders/<id>/notes, PUT orders/<id> {"status":"completed"}, and
GET orders?modified_after=&dates_are_gmt=true&orderby=modified&order=asc&per_page=&page=
over the store's orders (put_order), the pull behind Depot's inbound backstop.

Authentication as the plugin checks it (class-wc-rest-authentication.php): HTTP Basic
with the consumer key/secret, or, over plain HTTP, one-legged OAuth 1.0a in the query
(HMAC-SHA1/SHA256, key "consumer_secret&", timestamp within 15 minutes, nonce not
reused). The signature is recomputed here independently of Depot's C code.
"""
import base64
import hashlib
import hmac
import json
import time
import urllib.parse

from fakehttp import FakeHandler, FakeServer

PREFIX = "/wp-json/wc/v3"


def woo_signature(method, url, params, secret, algo="HMAC-SHA1"):
    """WooCommerce's check: params (without oauth_signature) sorted by key, each key and
    value rawurlencoded, joined k=v with &, then the base string encoded again."""
    enc = lambda s: urllib.parse.quote(str(s), safe="-._~")
    pairs = sorted((enc(k), enc(v)) for k, v in params.items())
    query = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), enc(url), enc(query)])
    digest = hashlib.sha1 if algo == "HMAC-SHA1" else hashlib.sha256
    mac = hmac.new((secret + "&").encode(), base.encode(), digest).digest()
    return base64.b64encode(mac).decode()


class FakeWooCommerce(FakeServer):
    def __init__(self, key="ck_test", secret="cs_test"):
        super().__init__(FakeHandler)
        self.key, self.secret = key, secret
        self.products = {}        # id -> {"stock_quantity": n, "manage_stock": bool}
        self.stock_writes = []    # (product id, quantity) per applied batch item
        self.batches = []         # item count per accepted batch request
        self.orders = {}          # id -> {"status": str, "notes": [str]}
        self.notes_added = {}     # order id -> count
        self.completions = {}     # order id -> count of status changes to completed
        self.nonces = set()
        self.auth_failures = 0
        self.oauth_requests = 0
        self.store_orders = {}    # id -> order (REST v3 shape)
        self.order_listings = []  # the query parameters of each GET orders

    def add_product(self, pid, stock=0):
        with self.lock:
            self.products[int(pid)] = {"stock_quantity": stock, "manage_stock": True}

    def add_order(self, oid):
        with self.lock:
            self.orders[int(oid)] = {"status": "processing", "notes": []}

    def put_order(self, oid, modified_gmt, lines, status="processing"):
        """An order of the store as GET orders returns it. lines: [(line id, product id,
        sku, quantity)]; modified_gmt: "YYYY-MM-DDTHH:MM:SS" (UTC)."""
        with self.lock:
            self.store_orders[int(oid)] = {
                "id": int(oid), "number": str(oid), "status": status,
                "date_modified_gmt": modified_gmt,
                "billing": {"first_name": "Ada", "last_name": "Lovelace",
                            "email": "buyer@example.com"},
                "shipping": {"first_name": "Ada", "last_name": "Lovelace",
                             "address_1": "1 Analytical Way", "city": "London",
                             "postcode": "N1 1AA", "country": "GB"},
                "line_items": [{"id": lid, "name": f"Item {sku}", "product_id": pid,
                                "variation_id": 0, "quantity": qty, "sku": sku}
                               for lid, pid, sku, qty in lines]}

    def stock(self, pid):
        with self.lock:
            return self.products[int(pid)]["stock_quantity"]

    def _auth(self, method, path, query, headers):
        auth = headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            return user == self.key and pw == self.secret
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        sig = params.pop("oauth_signature", None)
        if not sig or params.get("oauth_consumer_key") != self.key:
            return False
        ts = int(params.get("oauth_timestamp", "0"))
        nonce = params.get("oauth_nonce", "")
        if abs(time.time() - ts) > 900 or (ts, nonce) in self.nonces:
            return False
        url = f"http://{headers.get('Host')}{path}"
        want = woo_signature(method, url, params, self.secret,
                             params.get("oauth_signature_method", "HMAC-SHA1"))
        if not hmac.compare_digest(want, sig):
            return False
        self.nonces.add((ts, nonce))
        self.oauth_requests += 1
        return True

    def handle_api(self, method, path, query, headers, body):
        with self.lock:
            if not path.startswith(PREFIX):
                return 404, {"code": "rest_no_route", "message": "No route was found",
                             "data": {"status": 404}}, []
            if not self._auth(method, path, query, headers):
                self.auth_failures += 1
                return 401, {"code": "woocommerce_rest_authentication_error",
                             "message": "Invalid signature - provided signature does not match.",
                             "data": {"status": 401}}, []
            route = path[len(PREFIX):].strip("/").split("/")
            doc = json.loads(body) if body else {}
            if route == ["orders"] and method == "GET":
                return self._list_orders(dict(urllib.parse.parse_qsl(query)))
            if route == ["products", "batch"] and method == "POST":
                return self._batch(doc)
            if len(route) == 3 and route[0] == "orders" and route[2] == "notes":
                return self._notes(method, int(route[1]), doc)
            if len(route) == 2 and route[0] == "orders" and method == "PUT":
                return self._order_update(int(route[1]), doc)
            return 404, {"code": "rest_no_route", "message": "No route was found",
                         "data": {"status": 404}}, []

    def _batch(self, doc):
        items = sum(len(doc.get(k) or []) for k in ("create", "update", "delete"))
        if items > 100:
            return 413, {"code": "woocommerce_rest_request_entity_too_large",
                         "message": "Unable to accept more than 100 items for this request.",
                         "data": {"status": 413}}, []
        out = []
        for u in doc.get("update") or []:
            pid = int(u["id"])
            if pid not in self.products:
                out.append({"id": pid, "error": {"code": "woocommerce_rest_product_invalid_id",
                                                 "message": "Invalid ID.", "data": {"status": 400}}})
                continue
            p = self.products[pid]
            p["manage_stock"] = bool(u.get("manage_stock", p["manage_stock"]))
            p["stock_quantity"] = int(u["stock_quantity"])
            self.stock_writes.append((pid, p["stock_quantity"]))
            out.append({"id": pid, "stock_quantity": p["stock_quantity"],
                        "manage_stock": p["manage_stock"]})
        self.batches.append(items)
        return 200, {"update": out}, []

    def _list_orders(self, params):
        params.pop("oauth_signature", None)
        self.order_listings.append({k: v for k, v in params.items()
                                    if not k.startswith("oauth_")})
        after = params.get("modified_after", "")
        if params.get("dates_are_gmt") != "true" or params.get("orderby") != "modified":
            return 400, {"code": "rest_invalid_param", "message": "this fake needs "
                         "dates_are_gmt=true&orderby=modified", "data": {"status": 400}}, []
        per_page = min(int(params.get("per_page", 10)), 100)
        page = int(params.get("page", 1))
        rows = sorted((o for o in self.store_orders.values()
                       if o["date_modified_gmt"] > after),
                      key=lambda o: (o["date_modified_gmt"], o["id"]),
                      reverse=params.get("order") == "desc")
        chunk = rows[(page - 1) * per_page: page * per_page]
        pages = (len(rows) + per_page - 1) // per_page
        return 200, json.loads(json.dumps(chunk)), [("X-WP-Total", str(len(rows))),
                                                    ("X-WP-TotalPages", str(pages))]

    def _notes(self, method, oid, doc):
        o = self.orders.get(oid)
        if not o:
            return 404, {"code": "woocommerce_rest_order_invalid_id", "message": "Invalid order ID.",
                         "data": {"status": 404}}, []
        if method == "GET":
            return 200, [{"id": i + 1, "note": n, "customer_note": True}
                         for i, n in enumerate(o["notes"])], []
        o["notes"].append(doc["note"])
        self.notes_added[oid] = self.notes_added.get(oid, 0) + 1
        return 201, {"id": len(o["notes"]), "note": doc["note"],
                     "customer_note": bool(doc.get("customer_note"))}, []

    def _order_update(self, oid, doc):
        o = self.orders.get(oid)
        if not o:
            return 404, {"code": "woocommerce_rest_shop_order_invalid_id",
                         "message": "Invalid ID.", "data": {"status": 404}}, []
        if doc.get("status") and doc["status"] != o["status"]:
            o["status"] = doc["status"]
            if doc["status"] == "completed":
                self.completions[oid] = self.completions.get(oid, 0) + 1
        return 200, {"id": oid, "status": o["status"]}, []
