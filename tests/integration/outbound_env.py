"""What the outbound integration tests share: a data dir with stock and a channel pointed
at a fake upstream (tests/fakes/), depotd with fast retry settings, and ways to look at
the outbox, the metrics and the sync status."""
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))

import depot_testlib as dt  # noqa: E402
from fake_shopify import FakeShopify  # noqa: E402
from fake_woocommerce import FakeWooCommerce  # noqa: E402,F401

DRIVER = os.path.join(dt.TEST_BIN_DIR, "outbound_driver")

# Fast enough for tests: retries after ~0.1-1 s, a breaker that opens after 3 failures
# and probes after 0.5 s, calls that time out after 1 s.
FAST = dict(sync_retry_base_ms=100, sync_retry_max_ms=1000, sync_http_timeout_ms=1000,
            sync_breaker_threshold=3, sync_breaker_cooldown_ms=500, sync_max_attempts=20,
            sync_concurrency=4)


class OutboundCase(unittest.TestCase):
    """Each test gets a temp data dir, the fake channel make_fake() builds (started; None
    when the test starts its own into self.fake) and an Outbound on them; all are stopped
    and removed afterwards."""

    def make_fake(self):
        return FakeShopify()

    def setUp(self):
        self.tmp = dt.TempDataDir()
        fake = self.make_fake()
        self.fake = fake.start() if fake else None
        self.ob = Outbound(self.tmp)

    def tearDown(self):
        try:
            self.ob.stop()
        finally:
            if self.fake:
                self.fake.stop()
            self.tmp.cleanup()


class Outbound:
    def __init__(self, tmp):
        self.tmp = tmp
        self.daemon = None
        self.port = None
        self._token = None

    # ---- setup ----
    def ctl(self, *args):
        return dt.run_depotctl("--data-dir", self.tmp.data_dir, *args, check=True)

    def stock(self, rows, location="WH1", buffer=0):
        """rows: {sku: on_hand}. Creates the SKUs at location with a stock buffer."""
        if not os.path.exists(self.tmp.db_path):
            self.ctl("init")
        lines = ["sku,name,gtin,location,on_hand,buffer"]
        lines += [f"{sku},Item {sku},,{location},{n},{buffer}" for sku, n in rows.items()]
        path = self.tmp.write("stock.csv", "\n".join(lines) + "\n")
        self.ctl("stock", "import", path)

    def add_shopify(self, fake, shop="test-shop.myshopify.com", api_version=None):
        args = ["channel", "add", "shopify", "--shop", shop, "--token", fake.token,
                "--webhook-secret", "whsec", "--api-base", fake.url]
        if api_version:
            args += ["--api-version", api_version]
        self.ctl(*args)
        return shop

    def add_woocommerce(self, fake, store="https://shop.example.com"):
        self.ctl("channel", "add", "woocommerce", "--store", store, "--key", fake.key,
                 "--secret", fake.secret, "--webhook-secret", "whsec", "--api-base", fake.url)
        return store

    def map(self, channel, skus, location="WH1", external_location="77", buffer=0,
            id_option="--inventory-item"):
        """Maps location and each SKU (skus: {sku: external id})."""
        self.ctl("channel", "map-location", channel, location, "--external-id",
                 external_location, "--buffer", str(buffer))
        for sku, ext in skus.items():
            self.ctl("channel", "map-sku", channel, sku, id_option, str(ext))

    def driver(self, *args):
        subprocess.run([DRIVER, self.tmp.db_path, *map(str, args)], check=True)

    # ---- the daemon ----
    def start(self, **config):
        opts = dict(FAST)
        opts.update(config)
        conf = self.tmp.write_config(**opts)
        self.port = dt.free_port()
        self.daemon = dt.Depotd("--data-dir", self.tmp.data_dir, "--listen",
                                f"127.0.0.1:{self.port}", "--config", conf)
        self.daemon.start()
        return self.daemon

    def stop(self):
        if self.daemon:
            self.daemon.stop()
            self.daemon = None

    def kill9(self):
        self.daemon.proc.kill()
        self.daemon.wait()
        self.daemon = None

    # ---- looking ----
    def sql(self, query, args=()):
        conn = sqlite3.connect(self.tmp.db_path, timeout=10)
        try:
            return conn.execute(query, args).fetchall()
        finally:
            conn.close()

    def outbox_counts(self):
        return dict(self.sql("SELECT status, count(*) FROM outbox GROUP BY status"))

    def live(self):
        c = self.outbox_counts()
        return c.get("pending", 0) + c.get("inflight", 0)

    def wait_drained(self, timeout=30):
        dt.wait_until(lambda: self.live() == 0, timeout=timeout, interval=0.1,
                      what=f"the outbox to drain (now {self.outbox_counts()})")

    def available(self, sku, location="WH1", channel_buffer=0):
        (row,) = self.sql("SELECT st.on_hand, st.reserved, st.buffer FROM stock st"
                          " JOIN skus s ON s.id = st.sku_id JOIN locations l ON l.id ="
                          " st.location_id WHERE s.code = ? AND l.code = ?", (sku, location))
        return max(row[0] - row[1] - row[2] - channel_buffer, 0)

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            return r.read().decode()

    def metric(self, name, **labels):
        """The value of one series, or None."""
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        pat = re.compile(r"^" + re.escape(name) + (r"\{" + re.escape(want) + r"\}" if want else "")
                         + r" (\S+)$", re.M)
        m = pat.search(self.metrics())
        return float(m.group(1)) if m else None

    def status(self):
        if not self._token:
            out = self.ctl("--json", "token", "create", "sync-test", "--role", "supervisor")
            self._token = json.loads(out.stdout)["token"]
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/sync/status",
                                     headers={"Authorization": f"Bearer {self._token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def breaker_state(self, endpoint):
        for b in self.status()["breakers"]:
            if b["endpoint"] == endpoint:
                return b["state"]
        return None


def wait_until(pred, timeout=20, what="condition"):
    return dt.wait_until(pred, timeout=timeout, interval=0.05, what=what)


def settle(seconds=0.3):
    time.sleep(seconds)
