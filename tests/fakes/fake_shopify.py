"""A fake Shopify Admin GraphQL API (POST /admin/api/<version>/graphql.json) on loopback,
speaking the real request and response shapes for what Depot uses:

- inventorySetQuantities(input: {name, reason, referenceDocumentUri, quantities:
  [{inventoryItemId, locationId, quantity, compareQuantity | changeFromQuantity}],
  ignoreCompareQuantity}) with compare-and-set (COMPARE_QUANTITY_STALE /
  CHANGE_FROM_QUANTITY_STALE) and the @idempotent(key:) directive (a repeated key gets
  the first answer and changes nothing);
- inventoryItem(id) { inventoryLevel(locationId) { quantities(names) } };
- order(id) { fulfillments { trackingInfo } fulfillmentOrders { nodes { id status } } };
- fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder, trackingInfo,
  notifyCustomer});
- orders(first, after, query: "updated_at:>='...'", sortKey: UPDATED_AT) { pageInfo
  { hasNextPage endCursor } nodes { ...Order } } over the shop's orders (put_order), the
  pull behind Depot's inbound backstop, each order's lineItems cut to the query's first N;
- order(id) { updatedAt lineItems(first, after) { pageInfo nodes } }: the rest of a long
  order;
- webhookSubscriptionCreate(topic, webhookSubscription: {callbackUrl, format}): one
  subscription per (topic, address); a repeat answers "Address for this topic has
  already been taken" as Shopify does.

Every answer carries extensions.cost.throttleStatus from a leaky bucket; an empty
bucket answers HTTP 200 with errors[].extensions.code = "THROTTLED", as Shopify does.
Effects are counted so tests can prove nothing happened twice.

OAuth (enable_oauth): POST /admin/oauth/access_token takes the install's
authorization-code exchange (form body; codes the test registered with add_code) and
the refresh-token grant of expiring offline tokens (JSON body, the refresh token is
rotated), both checked against the app's client id and secret; each issues a new access
token, which becomes the one the API accepts. revoke_token() makes the API refuse the
current token with 401 (as for a token that expired early or was revoked) while its
refresh token still works; refuse_tokens = True refuses every token, refreshed ones too.
"""
import json
import re
import secrets
import time
import urllib.parse

from fakehttp import FakeHandler, FakeServer

COST = 10


class FakeShopify(FakeServer):
    def __init__(self, token="shpat_test", bucket_max=1000.0, restore_rate=50.0):
        super().__init__(FakeHandler)
        self.token = token
        self.levels = {}          # (item gid, location gid) -> available
        self.sets_applied = []    # one per applied quantity: (item, loc, qty, uri, key)
        self.idempotent = {}      # key -> answer
        self.orders = {}          # order gid -> {"fos": [{id, status}], "fulfillments": []}
        self.fulfillments_created = {}  # order gid -> count
        self.bucket_max = bucket_max
        self.bucket = bucket_max
        self.restore_rate = restore_rate
        self.bucket_at = time.monotonic()
        self.throttled = 0
        self.unauthorized = 0
        self.versions = set()
        self.shop_orders = {}     # order gid -> Order node (GraphQL shape)
        self.order_queries = []   # the orders query's `query` argument per call
        self.line_queries = []    # (order gid, after) of each order(id).lineItems call
        self.lines_hook = None    # called with the Order node before a lineItems answer
        self.subscriptions = {}   # (topic, callback url) -> subscription gid
        self.subscription_calls = 0
        # OAuth (enable_oauth)
        self.client_id = self.client_secret = None
        self.expires_in = None    # seconds an issued token lives; None: non-expiring
        self.codes = set()        # authorization codes not yet exchanged
        self.refresh_tokens = set()  # refresh tokens that work now
        self.grants = []          # grant_type of every token request, in order
        self.issued = []          # every access token issued
        self.refresh_issued = []  # every refresh token issued
        self.revoked = set()      # access tokens the API refuses
        self.refuse_tokens = False

    # ---- test helpers ----
    def add_order(self, order_id, n_fulfillment_orders=1):
        gid = f"gid://shopify/Order/{order_id}"
        with self.lock:
            self.orders[gid] = {
                "fos": [{"id": f"gid://shopify/FulfillmentOrder/{order_id}{i}",
                         "status": "OPEN"} for i in range(n_fulfillment_orders)],
                "fulfillments": []}
        return gid

    def put_order(self, order_id, updated_at, lines, financial="PAID", cancelled_at=None):
        """An order of the shop as the orders query returns it. lines: [(line id,
        variant id, sku, quantity)]; updated_at: "YYYY-MM-DDTHH:MM:SSZ"."""
        gid = f"gid://shopify/Order/{order_id}"
        node = {
            "id": gid, "name": f"#{order_id}", "email": "buyer@example.com",
            "updatedAt": updated_at, "cancelledAt": cancelled_at,
            "displayFinancialStatus": financial,
            "customer": {"firstName": "Ada", "lastName": "Lovelace", "phone": None},
            "shippingAddress": {"name": "Ada Lovelace", "company": None,
                                "address1": "1 Analytical Way", "address2": None,
                                "city": "London", "province": None, "provinceCode": None,
                                "zip": "N1 1AA", "country": "United Kingdom",
                                "countryCodeV2": "GB", "phone": None},
            "lineItems": {"pageInfo": {"hasNextPage": False}, "nodes": [
                {"id": f"gid://shopify/LineItem/{lid}", "sku": sku, "title": f"Item {sku}",
                 "quantity": qty, "currentQuantity": qty,
                 "variant": {"id": f"gid://shopify/ProductVariant/{vid}"} if vid else None}
                for lid, vid, sku, qty in lines]},
        }
        with self.lock:
            self.shop_orders[gid] = node
        return gid

    def enable_oauth(self, client_id, client_secret, expires_in=3600):
        """Serves the token endpoint for that app; expires_in None issues non-expiring
        tokens (no refresh token)."""
        with self.lock:
            self.client_id, self.client_secret = client_id, client_secret
            self.expires_in = expires_in

    def add_code(self):
        code = "code-" + secrets.token_hex(8)
        with self.lock:
            self.codes.add(code)
        return code

    def revoke_token(self):
        with self.lock:
            self.revoked.add(self.token)

    def grant_count(self, grant_type):
        with self.lock:
            return self.grants.count(grant_type)

    def level(self, item, loc):
        with self.lock:
            return self.levels.get((f"gid://shopify/InventoryItem/{item}",
                                    f"gid://shopify/Location/{loc}"))

    # ---- the API ----
    def _extensions(self, requested):
        now = time.monotonic()
        self.bucket = min(self.bucket_max,
                          self.bucket + (now - self.bucket_at) * self.restore_rate)
        self.bucket_at = now
        ok = self.bucket >= requested
        if ok:
            self.bucket -= requested
        ext = {"cost": {"requestedQueryCost": requested,
                        "actualQueryCost": requested if ok else None,
                        "throttleStatus": {"maximumAvailable": self.bucket_max,
                                           "currentlyAvailable": int(self.bucket),
                                           "restoreRate": self.restore_rate}}}
        return ok, ext

    def _access_token(self, headers, body):
        try:
            if "json" in (headers.get("Content-Type") or ""):
                req = json.loads(body or b"{}")
            else:
                req = dict(urllib.parse.parse_qsl(body.decode()))
            grant = req.get("grant_type", "authorization_code")
        except (ValueError, UnicodeDecodeError, AttributeError):
            return 400, {"error": "invalid_request"}, []
        with self.lock:
            self.grants.append(grant)
            if self.client_id is None or req.get("client_id") != self.client_id or \
                    req.get("client_secret") != self.client_secret:
                return 401, {"error": "invalid_client",
                             "error_description": "client authentication failed"}, []
            if grant == "refresh_token":
                if req.get("refresh_token") not in self.refresh_tokens:
                    return 400, {"error": "invalid_grant",
                                 "error_description": "refresh token is invalid"}, []
                self.refresh_tokens.discard(req["refresh_token"])
            elif grant == "authorization_code":
                if req.get("code") not in self.codes:
                    return 400, {"error": "invalid_request",
                                 "error_description": "code is invalid"}, []
                self.codes.discard(req["code"])
            else:
                return 400, {"error": "unsupported_grant_type"}, []
            self.token = "shpat_" + secrets.token_hex(16)
            self.issued.append(self.token)
            doc = {"access_token": self.token, "scope": "read_orders,write_inventory"}
            if self.expires_in:
                refresh = "shprt_" + secrets.token_hex(16)
                self.refresh_tokens.add(refresh)
                self.refresh_issued.append(refresh)
                doc.update({"expires_in": self.expires_in, "refresh_token": refresh,
                            "refresh_token_expires_in": 7776000})
            return 200, doc, []

    def handle_api(self, method, path, query, headers, body):
        if method == "POST" and path == "/admin/oauth/access_token":
            return self._access_token(headers, body)
        m = re.fullmatch(r"/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json", path)
        if method != "POST" or not m:
            return 404, {"errors": "Not Found"}, []
        token = headers.get("X-Shopify-Access-Token")
        if token != self.token or token in self.revoked or self.refuse_tokens:
            with self.lock:
                self.unauthorized += 1
            return 401, {"errors": "[API] Invalid API key or access token (unrecognized "
                                   "login or wrong password)"}, []
        version = m.group(1)
        try:
            req = json.loads(body)
            q, variables = req["query"], req.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return 400, {"errors": [{"message": "Invalid JSON in request body"}]}, []
        with self.lock:
            self.versions.add(version)
            ok, ext = self._extensions(COST)
            if not ok:
                self.throttled += 1
                return 200, {"errors": [{"message": "Throttled",
                                         "extensions": {"code": "THROTTLED",
                                                        "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                             "extensions": ext}, []
            if "orders(" in q:
                data = self._orders(q, variables)
                if data is None:
                    return 200, {"errors": [{"message": "orders needs sortKey UPDATED_AT and "
                                             "an updated_at filter in this fake",
                                             "extensions": {"code": "argumentLiteralsIncompatible"}}]}, []
            elif "webhookSubscriptionCreate(" in q:
                data = self._subscribe(variables)
            elif "inventorySetQuantities(" in q:
                data = self._set_quantities(q, variables, version)
            elif "inventoryItem(" in q:
                data = self._level(variables)
            elif "fulfillmentCreate(" in q:
                data = self._fulfillment_create(variables)
            elif "order(" in q and "lineItems(" in q:
                data = self._order_lines(q, variables)
            elif "order(" in q:
                data = self._order(variables)
            else:
                return 200, {"errors": [{"message": "Field doesn't exist on type 'QueryRoot'",
                                         "extensions": {"code": "undefinedField"}}]}, []
            return 200, {"data": data, "extensions": ext}, []

    def _set_quantities(self, q, variables, version):
        key = None
        if "@idempotent" in q:
            key = variables.get("key")
            if key in self.idempotent:
                return self.idempotent[key]
        inp = variables["input"]
        change_from = version >= "2026-04"
        errors = []
        if change_from and not key:
            errors.append({"field": None, "code": "IDEMPOTENCY_KEY_REQUIRED",
                           "message": "An idempotency key is required"})
        for i, qty in enumerate(inp["quantities"]):
            cur = self.levels.get((qty["inventoryItemId"], qty["locationId"]), 0)
            if change_from:
                if "changeFromQuantity" not in qty:
                    errors.append({"field": ["input", "quantities", str(i),
                                             "changeFromQuantity"],
                                   "code": "INVALID", "message": "changeFromQuantity is required"})
                elif qty["changeFromQuantity"] is not None and qty["changeFromQuantity"] != cur:
                    errors.append({"field": ["input", "quantities", str(i)],
                                   "code": "CHANGE_FROM_QUANTITY_STALE",
                                   "message": "The changeFromQuantity is stale."})
            elif not inp.get("ignoreCompareQuantity"):
                if qty.get("compareQuantity") != cur:
                    errors.append({"field": ["input", "quantities", str(i), "compareQuantity"],
                                   "code": "COMPARE_QUANTITY_STALE",
                                   "message": "The compareQuantity argument no longer matches "
                                              "the persisted quantity."})
        if errors:
            data = {"inventorySetQuantities": {"inventoryAdjustmentGroup": None,
                                               "userErrors": errors}}
        else:
            for qty in inp["quantities"]:
                self.levels[(qty["inventoryItemId"], qty["locationId"])] = qty["quantity"]
                self.sets_applied.append((qty["inventoryItemId"], qty["locationId"],
                                          qty["quantity"], inp.get("referenceDocumentUri"), key))
            data = {"inventorySetQuantities": {
                "inventoryAdjustmentGroup": {"id": f"gid://shopify/InventoryAdjustmentGroup/{len(self.sets_applied)}"},
                "userErrors": []}}
        if key:
            self.idempotent[key] = data
        return data

    def _level(self, variables):
        # every item is stocked at every location of the fake, at 0 until set
        cur = self.levels.get((variables["item"], variables["location"]), 0)
        return {"inventoryItem": {"inventoryLevel": {"quantities": [
            {"name": "available", "quantity": cur}]}}}

    def _order(self, variables):
        o = self.orders.get(variables["id"])
        if not o:
            return {"order": None}
        return {"order": {"id": variables["id"],
                          "fulfillments": [dict(f) for f in o["fulfillments"]],
                          "fulfillmentOrders": {"nodes": [dict(fo) for fo in o["fos"]]}}}

    def _fulfillment_create(self, variables):
        f = variables["fulfillment"]
        fo_ids = [x["fulfillmentOrderId"] for x in f["lineItemsByFulfillmentOrder"]]
        for gid, o in self.orders.items():
            if any(fo["id"] in fo_ids for fo in o["fos"]):
                open_fos = [fo for fo in o["fos"] if fo["id"] in fo_ids and fo["status"] == "OPEN"]
                if not open_fos:
                    return {"fulfillmentCreate": {"fulfillment": None, "userErrors": [
                        {"field": ["fulfillment"], "message": "Fulfillment order is closed"}]}}
                for fo in open_fos:
                    fo["status"] = "CLOSED"
                number = (f.get("trackingInfo") or {}).get("number")
                fid = f"gid://shopify/Fulfillment/{sum(self.fulfillments_created.values()) + 1}"
                o["fulfillments"].append({"id": fid, "status": "SUCCESS",
                                          "trackingInfo": [{"number": number}] if number else []})
                self.fulfillments_created[gid] = self.fulfillments_created.get(gid, 0) + 1
                return {"fulfillmentCreate": {"fulfillment": {"id": fid, "status": "SUCCESS"},
                                              "userErrors": []}}
        return {"fulfillmentCreate": {"fulfillment": None, "userErrors": [
            {"field": ["fulfillment"], "message": "Fulfillment order does not exist."}]}}

    def _orders(self, q, variables):
        m = re.search(r"updated_at:>='([^']+)'", variables.get("query") or "")
        if "sortKey: UPDATED_AT" not in q or not m:
            return None
        since = m.group(1)
        self.order_queries.append(variables["query"])
        nodes = sorted((n for n in self.shop_orders.values() if n["updatedAt"] >= since),
                       key=lambda n: (n["updatedAt"], n["id"]))
        start = int(variables.get("after") or 0)
        page = json.loads(json.dumps(nodes[start:start + int(variables["first"])]))
        end = start + len(page)
        for node in page:  # each order's lines: the first N, as the query asks
            node["lineItems"] = self._line_page(q, node["lineItems"]["nodes"], 0)
        return {"orders": {"pageInfo": {"hasNextPage": end < len(nodes),
                                        "endCursor": str(end) if page else None},
                           "nodes": page}}

    @staticmethod
    def _line_page(q, lines, start):
        first = int(re.search(r"lineItems\(first: (\d+)", q).group(1))
        page = lines[start:start + first]
        end = start + len(page)
        return {"pageInfo": {"hasNextPage": end < len(lines),
                             "endCursor": f"line-{end}" if page else None},
                "nodes": page}

    def _order_lines(self, q, variables):
        """order(id).lineItems(first: N, after: cursor): the rest of a long order."""
        node = self.shop_orders.get(variables["id"])
        self.line_queries.append((variables["id"], variables.get("after")))
        if node and self.lines_hook:
            self.lines_hook(node)
        if not node:
            return {"order": None}
        after = variables.get("after") or "line-0"
        lines = json.loads(json.dumps(node["lineItems"]["nodes"]))
        return {"order": {"updatedAt": node["updatedAt"],
                          "lineItems": self._line_page(q, lines, int(after.split("-")[1]))}}

    def _subscribe(self, variables):
        topic = variables["topic"]
        url = variables["webhookSubscription"]["callbackUrl"]
        self.subscription_calls += 1
        if (topic, url) in self.subscriptions:
            return {"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": [
                {"field": ["webhookSubscription", "callbackUrl"],
                 "message": "Address for this topic has already been taken"}]}}
        gid = f"gid://shopify/WebhookSubscription/{len(self.subscriptions) + 1}"
        self.subscriptions[(topic, url)] = gid
        return {"webhookSubscriptionCreate": {"webhookSubscription": {"id": gid},
                                              "userErrors": []}}
