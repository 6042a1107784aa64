"""Shared by the webhook integration tests: a depotd with a Shopify shop and a
WooCommerce store connected, signed deliveries built from the public API reference
payloads in tests/fixtures/, and queries on the inbox and orders."""

import base64
import copy
import hashlib
import hmac
import http.client
import json
import os
import sys
import threading
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

FIXTURES = os.path.join(dt.SOURCE_DIR, "tests", "fixtures")
SHOP = "webhook-test.myshopify.com"
SHOP_SECRET = "shpss_test-webhook-secret-0123456789"
WOO_STORE = "https://woo.example.com"
WOO_SECRET = "woo-webhook-secret-abcdef"


def fixture(*path):
    with open(os.path.join(FIXTURES, *path), encoding="utf-8") as f:
        return json.load(f)


def sign(secret, body):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(body, topic, webhook_id=None, event_id=None, triggered_at=None,
                    shop=SHOP, secret=SHOP_SECRET):
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(secret, body),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2025-07",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": triggered_at or "2030-01-01T00:00:00.000000000Z",
    }


def woo_headers(body, topic, webhook_id="7", delivery_id=None, secret=WOO_SECRET):
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": WOO_STORE + "/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-Signature": sign(secret, body),
        "X-WC-Webhook-ID": webhook_id,
        "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
    }


def order_body(order_id=1001, lines=(("L1", "SKU-A", 2),), updated="2030-01-01T10:00:00Z",
               financial="paid", cancelled_at=None, **extra):
    """A Shopify order from the reference payload with our ids, lines and state."""
    o = fixture("shopify", "orders_create.json")
    o["id"] = order_id
    o["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
    o["name"] = f"#{order_id}"
    o["updated_at"] = updated
    o["financial_status"] = financial
    o["cancelled_at"] = cancelled_at
    template = o["line_items"][0]
    o["line_items"] = []
    for line_id, sku, qty in lines:
        li = copy.deepcopy(template)
        li["id"] = line_id_num(line_id)
        li["admin_graphql_api_id"] = f"gid://shopify/LineItem/{line_id_num(line_id)}"
        li["sku"] = sku
        li["variant_id"] = None
        li["product_id"] = None
        li["quantity"] = qty
        li["current_quantity"] = qty
        o["line_items"].append(li)
    o.update(extra)
    return json.dumps(o).encode()


def line_id_num(line_id):
    """A stable numeric Shopify line id for a test's line name."""
    return int(hashlib.sha256(line_id.encode()).hexdigest()[:12], 16)


class Depot:
    """depotd on a temp data dir with both channels connected and stock imported."""

    def __init__(self, stock=(("SKU-A", 10), ("SKU-B", 5)), **config):
        self.tmp = dt.TempDataDir()
        self.ctl("init")
        # (sku, on_hand) or (sku, on_hand, gtin)
        rows = "".join(f"{s[0]},{s[0]} name,{s[2] if len(s) > 2 else ''},MAIN,{s[1]}\n"
                       for s in stock)
        self.ctl("stock", "import", self.tmp.write("stock.csv",
                                                   "sku,name,gtin,location,on_hand\n" + rows))
        self.shop_id = json.loads(self.ctl(
            "--json", "channel", "add", "shopify", "--shop", SHOP, "--token", "shpat_x",
            "--webhook-secret", SHOP_SECRET).stdout)["id"]
        self.woo_id = json.loads(self.ctl(
            "--json", "channel", "add", "woocommerce", "--store", WOO_STORE, "--key", "ck_x",
            "--secret", "cs_x", "--webhook-secret", WOO_SECRET).stdout)["id"]
        options = {"rate_limit": 100000, "rate_burst": 100000, "log_level": "debug"}
        options.update(config)
        self.conf = self.tmp.write_config(**options)
        self.daemon = None
        self.tokens = {}  # role -> API token (api())

    def ctl(self, *args, check=True, input=None):
        return dt.run_depotctl("--data-dir", self.tmp.data_dir, *args, check=check,
                               input=input)

    def start(self, env=None):
        self.daemon = dt.Depotd.for_data_dir(self.tmp.data_dir, "--config", self.conf,
                                             env=env)
        self.daemon.start()
        self.port = int(self.daemon.args[self.daemon.args.index("--listen") + 1]
                        .rsplit(":", 1)[1])
        return self

    def close(self, check=True):
        if self.daemon and self.daemon.proc.poll() is None:
            self.daemon.stop(check=check)
        self.tmp.cleanup()

    def post(self, path, body, headers, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def shopify(self, body, topic="orders/create", **kw):
        return self.post("/webhooks/shopify", body, shopify_headers(body, topic, **kw))

    def woo(self, body, topic="order.created", **kw):
        return self.post("/webhooks/woocommerce", body, woo_headers(body, topic, **kw))

    def query(self, sql, *args):
        conn = self.tmp.connect()
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def settled(self, timeout=20):
        """Waits until no delivery is pending or failed-and-due."""
        dt.wait_until(lambda: self.query(
            "SELECT count(*) FROM inbox WHERE status IN ('pending', 'failed')")[0][0] == 0,
            timeout=timeout, what="the inbox to be processed")

    def order(self, channel_id, external_id):
        rows = self.query("SELECT id FROM orders WHERE channel_id = ? AND external_id = ?",
                          channel_id, str(external_id))
        if not rows:
            return None
        return json.loads(self.ctl("--json", "order", "show", rows[0][0]).stdout)

    def stock(self, sku):
        return json.loads(self.ctl("--json", "stock", "show", sku).stdout)

    def api(self, method, path, body=None, role="supervisor"):
        """(status, JSON document) of an authenticated /api/v1 call."""
        if role not in self.tokens:
            out = self.ctl("--json", "token", "create", f"api-{role}", "--role", role).stdout
            self.tokens[role] = json.loads(out)["token"]
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=json.dumps(body).encode() if body is not None
                         else b"", headers={"Authorization": f"Bearer {self.tokens[role]}",
                                            "Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, json.loads(data) if data else None
        finally:
            conn.close()


def burst(d, deliveries, clients, after, action):
    """Sends deliveries [(order id, webhook id)] (one SKU-A unit each) to d from `clients`
    threads; once `after` of them got a 200, runs action() once (a kill, a power cut) and
    the clients stop. Returns the acknowledged ones and whether action ran. A request the
    action broke is not acknowledged."""
    acked, lock, done = [], threading.Lock(), threading.Event()

    def client(chunk):
        for order_id, webhook_id in chunk:
            if done.is_set():
                return
            body = order_body(order_id=order_id, lines=(("L1", "SKU-A", 1),))
            try:
                status, _ = d.shopify(body, webhook_id=webhook_id)
            except OSError:
                continue
            if status == 200:
                with lock:
                    acked.append((order_id, webhook_id))
                    if len(acked) >= after and not done.is_set():
                        done.set()
                        action()

    threads = [threading.Thread(target=client, args=(deliveries[i::clients],))
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return acked, done.is_set()
