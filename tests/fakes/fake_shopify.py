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
  notifyCustomer}).

Every answer carries extensions.cost.throttleStatus from a leaky bucket; an empty
bucket answers HTTP 200 with errors[].extensions.code = "THROTTLED", as Shopify does.
Effects are counted so tests can prove nothing happened twice.
"""
import json
import re
import time

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

    # ---- test helpers ----
    def add_order(self, order_id, n_fulfillment_orders=1):
        gid = f"gid://shopify/Order/{order_id}"
        with self.lock:
            self.orders[gid] = {
                "fos": [{"id": f"gid://shopify/FulfillmentOrder/{order_id}{i}",
                         "status": "OPEN"} for i in range(n_fulfillment_orders)],
                "fulfillments": []}
        return gid

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

    def handle_api(self, method, path, query, headers, body):
        m = re.fullmatch(r"/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json", path)
        if method != "POST" or not m:
            return 404, {"errors": "Not Found"}, []
        if headers.get("X-Shopify-Access-Token") != self.token:
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
            if "inventorySetQuantities(" in q:
                data = self._set_quantities(q, variables, version)
            elif "inventoryItem(" in q:
                data = self._level(variables)
            elif "fulfillmentCreate(" in q:
                data = self._fulfillment_create(variables)
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
