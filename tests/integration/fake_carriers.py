"""Fake carrier and OAuth servers for the integration tests: one loopback HTTP server
that speaks the documented shapes of FedEx (OAuth /oauth/token, Ship API v1, Track API
v1), UPS (/security/v1/oauth/token with Basic, Shipping and Tracking APIs), DHL Parcel
DE (password-grant token, Shipping v2 orders, unified tracking) and Shopify's OAuth token
endpoint (authorization code and refresh token grants). It counts requests per route,
and injects faults: revoked tokens (API answers 401), 5xx, slow answers.

    with FakeCarriers() as fake:
        fake.base  # "http://127.0.0.1:PORT"
        fake.count("fedex_token")
"""

import base64
import http.server
import json
import secrets
import threading
import time
import urllib.parse

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret-9f8e7d6c"
DHL_USER = "gkp-user"
DHL_PASSWORD = "gkp-password-5a4b3c"
SHOPIFY_APP_ID = "shopify-app-client-id"
SHOPIFY_APP_SECRET = "shopify-app-secret-1a2b3c4d"
LABEL_ZPL = "^XA^FO50,50^ADN,36,20^FDFAKE LABEL^FS^XZ"
LABEL_PDF = b"%PDF-1.4\n% fake carrier label\n%%EOF\n"


class FakeCarriers:
    def __init__(self, expires_in=3600, token_delay=0.0):
        self.expires_in = expires_in
        self.token_delay = token_delay
        self.ship_delay = 0.0      # seconds a create-shipment answer is held back
        self.lock = threading.Lock()
        self.counts = {}
        self.tokens = set()        # live access tokens
        self.issued = []           # every access token handed out, in order
        self.faults = {}           # route -> list of statuses to answer next
        self.shipments = {}        # reference -> tracking number
        self.cancelled = []
        self.requests = []         # (route, parsed body or query)
        self.paths = []            # (route, URL path) of every request
        self.shopify_codes = {}    # code -> shop
        self.shopify_refresh = {}  # refresh token -> shop
        self.shopify_expiring = True
        self.webhooks = []         # (access token, topic, callbackUrl) subscribed
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                outer._handle(self, "POST")

            def do_PUT(self):
                outer._handle(self, "PUT")

            def do_GET(self):
                outer._handle(self, "GET")

            def do_DELETE(self):
                outer._handle(self, "DELETE")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # ---- test controls -------------------------------------------------------------

    def count(self, route):
        with self.lock:
            return self.counts.get(route, 0)

    def revoke_tokens(self):
        """Every issued token stops working: APIs answer 401 until a new one is fetched."""
        with self.lock:
            self.tokens.clear()

    def fail_next(self, route, *statuses):
        with self.lock:
            self.faults.setdefault(route, []).extend(statuses)

    # ---- plumbing ------------------------------------------------------------------

    def _reply(self, h, status, doc, content_type="application/json"):
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _issue(self, extra=None):
        token = "tok-" + secrets.token_hex(16)
        with self.lock:
            self.tokens.add(token)
            self.issued.append(token)
        doc = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        doc.update(extra or {})
        return doc

    def _authorized(self, h, api_key=False):
        if api_key:
            return h.headers.get("DHL-API-Key") == CLIENT_ID
        auth = h.headers.get("Authorization", "")
        with self.lock:
            return auth.startswith("Bearer ") and auth[7:] in self.tokens

    def _handle(self, h, method):
        url = urllib.parse.urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        route = self._route(method, url.path)
        with self.lock:
            self.counts[route] = self.counts.get(route, 0) + 1
            self.paths.append((route, url.path))
            fault = self.faults.get(route, [])
            status = fault.pop(0) if fault else None
        if status == "timeout":
            time.sleep(30)
            return
        if status:
            return self._reply(h, status, {"errors": [{"code": "SERVICE.UNAVAILABLE.ERROR",
                                                       "message": "injected fault"}]})
        try:
            handler = getattr(self, "_" + route)
        except AttributeError:
            return self._reply(h, 404, {"errors": [{"code": "NOT.FOUND.ERROR",
                                                    "message": "no such route"}]})
        handler(h, url, raw)

    @staticmethod
    def _route(method, path):
        table = {
            ("POST", "/oauth/token"): "fedex_token",
            ("POST", "/ship/v1/shipments"): "fedex_ship",
            ("PUT", "/ship/v1/shipments/cancel"): "fedex_cancel",
            ("POST", "/track/v1/trackingnumbers"): "fedex_track",
            ("POST", "/track/v1/referencenumbers"): "fedex_reference",
            ("POST", "/security/v1/oauth/token"): "ups_token",
            ("POST", "/parcel/de/account/auth/ropc/v1/token"): "dhl_token",
            ("POST", "/parcel/de/shipping/v2/orders"): "dhl_order",
            ("DELETE", "/parcel/de/shipping/v2/orders"): "dhl_delete",
            ("GET", "/track/shipments"): "dhl_track",
            ("POST", "/admin/oauth/access_token"): "shopify_token",
        }
        if (method, path) in table:
            return table[(method, path)]
        if method == "POST" and path.startswith("/admin/api/") and path.endswith("/graphql.json"):
            return "shopify_graphql"
        if method == "POST" and path.startswith("/api/shipments/") and path.endswith("/ship"):
            return "ups_ship"
        if method == "DELETE" and "/void/cancel/" in path:
            return "ups_void"
        if method == "GET" and path.startswith("/api/track/v1/details/"):
            return "ups_track"
        return "unknown"

    # ---- OAuth ---------------------------------------------------------------------

    def _token_delay(self):
        if self.token_delay:
            time.sleep(self.token_delay)

    def _fedex_token(self, h, url, raw):
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        self._token_delay()
        if h.headers.get("Content-Type") != "application/x-www-form-urlencoded" or \
                form.get("grant_type") != "client_credentials":
            return self._reply(h, 400, {"errors": [{"code": "BAD.REQUEST.ERROR",
                                                    "message": "grant_type missing"}]})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return self._reply(h, 401, {"transactionId": "t-1", "errors": [{
                "code": "NOT.AUTHORIZED.ERROR",
                "message": "The given client credentials were not valid. Please modify "
                           "your request and try again."}]})
        self._reply(h, 200, self._issue({"scope": "CXS"}))

    def _ups_token(self, h, url, raw):
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        self._token_delay()
        auth = h.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if form.get("grant_type") != "client_credentials" or auth != want:
            return self._reply(h, 401, {"response": {"errors": [{
                "code": "10401", "message": "ClientId is Invalid"}]}})
        doc = self._issue({"issued_at": str(int(time.time() * 1000)), "client_id": CLIENT_ID,
                           "status": "approved"})
        doc["expires_in"] = str(self.expires_in)  # UPS sends it as a string
        self._reply(h, 200, doc)

    def _dhl_token(self, h, url, raw):
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        self._token_delay()
        if form.get("grant_type") != "password" or form.get("client_id") != CLIENT_ID or \
                form.get("client_secret") != CLIENT_SECRET or \
                form.get("username") != DHL_USER or form.get("password") != DHL_PASSWORD:
            return self._reply(h, 401, {"error": "invalid_grant",
                                        "error_description": "Invalid user credentials"})
        self._reply(h, 200, self._issue())

    def _shopify_token(self, h, url, raw):
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = dict(urllib.parse.parse_qsl(raw.decode()))
        with self.lock:
            self.requests.append(("shopify_token", body))
        if body.get("client_id") != SHOPIFY_APP_ID or \
                body.get("client_secret") != SHOPIFY_APP_SECRET:
            return self._reply(h, 401, {"error": "invalid_client",
                                        "error_description": "client authentication failed"})
        grant = body.get("grant_type", "authorization_code")
        if grant == "refresh_token":
            if body.get("refresh_token") not in self.shopify_refresh:
                return self._reply(h, 400, {"error": "invalid_grant"})
            shop = self.shopify_refresh.pop(body["refresh_token"])
        else:
            if body.get("code") not in self.shopify_codes:
                return self._reply(h, 400, {"error": "invalid_request",
                                            "error_description": "code is invalid"})
            shop = self.shopify_codes.pop(body["code"])
        doc = {"access_token": "shpat_" + secrets.token_hex(16),
               "scope": "read_orders,write_fulfillments"}
        if self.shopify_expiring:
            refresh = "shprt_" + secrets.token_hex(16)
            self.shopify_refresh[refresh] = shop
            doc.update({"expires_in": self.expires_in, "refresh_token": refresh,
                        "refresh_token_expires_in": 7776000})
        with self.lock:
            self.issued.append(doc["access_token"])
        self._reply(h, 200, doc)

    def _shopify_graphql(self, h, url, raw):
        token = h.headers.get("X-Shopify-Access-Token")
        if token not in self.issued:
            return self._reply(h, 401, {"errors": "[API] Invalid API key or access token"})
        body = json.loads(raw)
        if "webhookSubscriptionCreate" not in body.get("query", ""):
            return self._reply(h, 200, {"errors": [{"message": "unsupported query"}]})
        v = body["variables"]
        with self.lock:
            self.webhooks.append((token, v["topic"], v["webhookSubscription"]["callbackUrl"]))
        self._reply(h, 200, {"data": {"webhookSubscriptionCreate": {
            "webhookSubscription": {"id": f"gid://shopify/WebhookSubscription/{len(self.webhooks)}"},
            "userErrors": []}}})

    # ---- FedEx ---------------------------------------------------------------------

    def _unauthorized_fedex(self, h):
        self._reply(h, 401, {"errors": [{"code": "NOT.AUTHORIZED.ERROR",
                                         "message": "Access token expired"}]})

    def _fedex_ship(self, h, url, raw):
        if not self._authorized(h):
            return self._unauthorized_fedex(h)
        body = json.loads(raw)
        with self.lock:
            self.requests.append(("fedex_ship", body))
        pkg = body["requestedShipment"]["requestedPackageLineItems"][0]
        ref = pkg["customerReferences"][0]["value"]
        tracking = self.shipments.setdefault(ref, "7946" + str(secrets.randbelow(10**8)))
        image = body["requestedShipment"]["labelSpecification"]["imageType"]
        label = base64.b64encode(LABEL_PDF if image == "PDF" else LABEL_ZPL.encode()).decode()
        if self.ship_delay:  # created at the carrier; the answer may never arrive
            time.sleep(self.ship_delay)
        self._reply(h, 200, {"transactionId": "t-2", "output": {"transactionShipments": [{
            "masterTrackingNumber": tracking, "serviceType": body["requestedShipment"]["serviceType"],
            "pieceResponses": [{"trackingNumber": tracking, "packageDocuments": [{
                "contentType": "LABEL", "docType": image, "encodedLabel": label}]}]}]}})

    def _fedex_cancel(self, h, url, raw):
        if not self._authorized(h):
            return self._unauthorized_fedex(h)
        body = json.loads(raw)
        with self.lock:
            self.cancelled.append(body.get("trackingNumber"))
            for ref, number in list(self.shipments.items()):
                if number == body.get("trackingNumber"):
                    del self.shipments[ref]
        self._reply(h, 200, {"transactionId": "t-3", "output": {"cancelledShipment": True,
                                                                "message": "Shipment cancelled"}})

    def _fedex_track(self, h, url, raw):
        if not self._authorized(h):
            return self._unauthorized_fedex(h)
        body = json.loads(raw)
        number = body["trackingInfo"][0]["trackingNumberInfo"]["trackingNumber"]
        self._reply(h, 200, {"transactionId": "t-4", "output": {"completeTrackResults": [{
            "trackingNumber": number, "trackResults": [{"latestStatusDetail": {
                "code": "DL", "statusByLocale": "Delivered", "description": "Delivered"}}]}]}})

    def _fedex_reference(self, h, url, raw):
        if not self._authorized(h):
            return self._unauthorized_fedex(h)
        body = json.loads(raw)
        ref = body["referencesInformation"]["value"]
        if ref not in self.shipments:
            return self._reply(h, 200, {"output": {"completeTrackResults": []}})
        self._reply(h, 200, {"output": {"completeTrackResults": [{
            "trackingNumber": self.shipments[ref], "trackResults": []}]}})

    # ---- UPS -----------------------------------------------------------------------

    def _ups_unauthorized(self, h):
        self._reply(h, 401, {"response": {"errors": [{"code": "250002",
                                                      "message": "Invalid Authentication Information."}]}})

    def _ups_ship(self, h, url, raw):
        if not self._authorized(h):
            return self._ups_unauthorized(h)
        body = json.loads(raw)
        with self.lock:
            self.requests.append(("ups_ship", body))
        ref = body["ShipmentRequest"]["Shipment"]["Package"][0]["ReferenceNumber"][0]["Value"]
        tracking = self.shipments.setdefault(ref, "1Z" + secrets.token_hex(8).upper())
        label = base64.b64encode(LABEL_ZPL.encode()).decode()
        # A single package comes back as an object, not a list.
        self._reply(h, 200, {"ShipmentResponse": {
            "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
            "ShipmentResults": {"ShipmentIdentificationNumber": tracking, "PackageResults": {
                "TrackingNumber": tracking, "ShippingLabel": {
                    "ImageFormat": {"Code": "ZPL"}, "GraphicImage": label}}}}})

    def _ups_void(self, h, url, raw):
        if not self._authorized(h):
            return self._ups_unauthorized(h)
        with self.lock:
            self.cancelled.append(url.path.rsplit("/", 1)[1])
        self._reply(h, 200, {"VoidShipmentResponse": {
            "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
            "SummaryResult": {"Status": {"Code": "1", "Description": "Voided"}}}})

    def _ups_track(self, h, url, raw):
        if not self._authorized(h):
            return self._ups_unauthorized(h)
        number = url.path.rsplit("/", 1)[1]
        self._reply(h, 200, {"trackResponse": {"shipment": [{"package": [{
            "trackingNumber": number, "activity": [{"status": {
                "type": "I", "description": "On the Way", "code": "OR"}}]}]}]}})

    # ---- DHL -----------------------------------------------------------------------

    def _dhl_order(self, h, url, raw):
        if not self._authorized(h):
            return self._reply(h, 401, {"title": "Unauthorized", "status": 401,
                                        "detail": "token expired"})
        body = json.loads(raw)
        with self.lock:
            self.requests.append(("dhl_order", body))
        ref = body["shipments"][0]["refNo"]
        number = self.shipments.setdefault(ref, "0034043" + str(secrets.randbelow(10**13)))
        if self.ship_delay:
            time.sleep(self.ship_delay)
        self._reply(h, 200, {"status": {"title": "OK", "status": 200}, "items": [{
            "shipmentNo": number, "sstatus": {"title": "OK", "status": 200},
            "label": {"zpl2": LABEL_ZPL, "fileFormat": "ZPL2"}}]})

    def _dhl_delete(self, h, url, raw):
        if not self._authorized(h):
            return self._reply(h, 401, {"title": "Unauthorized", "status": 401})
        q = dict(urllib.parse.parse_qsl(url.query))
        with self.lock:
            self.cancelled.append(q.get("shipment"))
        self._reply(h, 200, {"status": {"title": "OK", "status": 200}, "items": [{
            "shipmentNo": q.get("shipment"), "sstatus": {"title": "OK", "status": 200}}]})

    def _dhl_track(self, h, url, raw):
        if not self._authorized(h, api_key=True):
            return self._reply(h, 401, {"title": "Unauthorized", "status": 401})
        q = dict(urllib.parse.parse_qsl(url.query))
        self._reply(h, 200, {"shipments": [{"id": q.get("trackingNumber"), "status": {
            "statusCode": "transit", "status": "IN TRANSIT",
            "description": "The shipment has been processed in the parcel center"}}]})
