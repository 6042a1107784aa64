#!/usr/bin/env python3
"""Outbox delivery benchmark: events delivered per second by depotd's sync worker to the
loopback fake Shopify and WooCommerce servers (tests/fakes/, keep-alive HTTP/1.1), against
a baseline measured in the same run (a plain keep-alive client calling the same fake as
fast as it answers), and the share of upstream calls that coalescing saves while stock
keeps changing.

    bench/outbox/run.py [BUILD_DIR]        (default: build; refuses sanitizer builds)
    SKUS=2000 CHANGES=5000 bench/outbox/run.py build

See bench/outbox/README.md and docs/PERFORMANCE.md."""
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "fakes"))
from fake_shopify import FakeShopify  # noqa: E402
from fake_woocommerce import FakeWooCommerce  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build"))
BIN = os.path.join(BUILD, "bin")
DRIVER = os.path.join(BUILD, "tests", "bin", "outbound_driver")
SKUS = int(os.environ.get("SKUS", "2000"))
PERF = os.environ.get("PERF")
CHANGES = int(os.environ.get("CHANGES", "5000"))
HOT_SKUS = 50


def check_build():
    cache = open(os.path.join(BUILD, "CMakeCache.txt")).read()
    if "CMAKE_BUILD_TYPE:STRING=Asan" in cache:
        sys.exit("bench/outbox: refusing a sanitizer build; use a RelWithDebInfo build")


class Env:
    def __init__(self, root):
        os.makedirs(root, exist_ok=True)
        self.data = os.path.join(root, "data")
        self.db = os.path.join(self.data, "depot.db")
        self.conf = os.path.join(root, "depotd.conf")
        with open(self.conf, "w") as f:
            f.write("sync_concurrency = 4\nlog_level = warn\n")
        self.proc = None

    def ctl(self, *args):
        subprocess.run([os.path.join(BIN, "depotctl"), "--data-dir", self.data, *map(str, args)],
                       check=True, capture_output=True)

    def driver(self, *args):
        subprocess.run([DRIVER, self.db, *map(str, args)], check=True)

    def start(self):
        port = 20000 + os.getpid() % 20000
        prefix = ["perf", "record", "-g", "-o", PERF] if PERF else []
        self.proc = subprocess.Popen(prefix + [os.path.join(BIN, "depotd"), "--data-dir", self.data,
                                      "--listen", f"127.0.0.1:{port}", "--config", self.conf],
                                     stderr=subprocess.DEVNULL)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()

    def counts(self):
        c = sqlite3.connect(self.db, timeout=30)
        try:
            return dict(c.execute("SELECT status, count(*) FROM outbox GROUP BY status"))
        finally:
            c.close()

    def wait_drained(self):
        while True:
            c = self.counts()
            if c.get("pending", 0) + c.get("inflight", 0) == 0:
                return
            time.sleep(0.02)


def setup(root, kind, fake, n_skus):
    env = Env(root)
    env.ctl("init")
    csv = os.path.join(root, "stock.csv")
    with open(csv, "w") as f:
        f.write("sku,name,gtin,location,on_hand\n")
        for i in range(n_skus):
            f.write(f"B-{i:05d},Bench {i},,WH1,1000\n")
    env.ctl("stock", "import", csv)
    if kind == "shopify":
        name = "bench.myshopify.com"
        env.ctl("channel", "add", "shopify", "--shop", name, "--token", fake.token,
                "--webhook-secret", "x", "--api-base", fake.url)
        opt = "--inventory-item"
    else:
        name = "https://bench.example.com"
        env.ctl("channel", "add", "woocommerce", "--store", name, "--key", fake.key,
                "--secret", fake.secret, "--webhook-secret", "x", "--api-base", fake.url)
        opt = "--product"
    env.ctl("channel", "map-location", name, "WH1", "--external-id", "77")
    # map every SKU in one transaction-per-call loop of depotctl would take minutes:
    # write the mappings with SQL, then let the first sync set the levels
    c = sqlite3.connect(env.db, timeout=30)
    col = "external_inventory_id" if kind == "shopify" else "external_product_id"
    c.execute(f"INSERT INTO channel_skus (channel_id, sku_id, {col})"
              " SELECT 1, id, CAST(10000 + id AS TEXT) FROM skus")
    c.commit()
    c.close()
    if kind == "woocommerce":
        for i in range(n_skus + 1):
            fake.add_product(10000 + i + 1, 0)
    return env


def timed_drain(env, fake, events):
    """Starts depotd on a full outbox and times first call -> drained."""
    calls0, conns0 = len(fake.requests), fake.connections
    env.start()
    while len(fake.requests) == calls0:
        time.sleep(0.001)
    t0 = time.monotonic()
    env.wait_drained()
    dt = time.monotonic() - t0
    env.stop()
    return events / dt, len(fake.requests) - calls0, fake.connections - conns0


def baseline(fake, path, body, headers, seconds=3.0):
    conn = http.client.HTTPConnection("127.0.0.1", fake.server_address[1])
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        conn.request("POST", path, body=body, headers=headers)
        conn.getresponse().read()
        n += 1
    conn.close()
    return n / (time.monotonic() - t0)


def bench_shopify(root):
    fake = FakeShopify(bucket_max=1e9, restore_rate=1e9).start()
    env = setup(root, "shopify", fake, SKUS)
    env.driver("adjust-each", "WH1", 1)
    env.start()               # first sync: read + set per SKU
    env.wait_drained()
    env.stop()
    env.driver("adjust-each", "WH1", 1)  # SKUS events, each a compare-and-set
    rate, calls, conns = timed_drain(env, fake, SKUS)
    q = {"query": "mutation DepotSetAvailable($input: InventorySetQuantitiesInput!) {"
                  " inventorySetQuantities(input: $input) { userErrors { code } } }",
         "variables": {"input": {"name": "available", "reason": "correction",
                                 "ignoreCompareQuantity": True,
                                 "quantities": [{"inventoryItemId": "gid://shopify/InventoryItem/1",
                                                 "locationId": "gid://shopify/Location/77",
                                                 "quantity": 5}]}}}
    base = baseline(fake, "/admin/api/2025-07/graphql.json", json.dumps(q).encode(),
                    {"X-Shopify-Access-Token": fake.token, "Content-Type": "application/json"})
    fake.stop()
    return rate, calls, conns, base


def bench_woo(root):
    fake = FakeWooCommerce().start()
    env = setup(root, "woocommerce", fake, SKUS)
    env.driver("adjust-each", "WH1", 1)
    env.start()
    env.wait_drained()
    env.stop()
    env.driver("adjust-each", "WH1", 1)
    rate, calls, conns = timed_drain(env, fake, SKUS)
    fake.stop()
    return rate, calls, conns


def bench_coalescing(root):
    fake = FakeShopify(bucket_max=1e9, restore_rate=1e9).start()
    fake.latency = 0.005      # a near upstream: 5 ms per answer
    env = setup(root, "shopify", fake, HOT_SKUS)
    env.driver("adjust-each", "WH1", 1)
    env.start()
    env.wait_drained()
    calls0 = len(fake.requests)
    per = CHANGES // HOT_SKUS
    threads = [threading.Thread(target=env.driver, args=("adjust", f"B-{i:05d}", "WH1", per, 1))
               for i in range(HOT_SKUS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    env.wait_drained()
    env.stop()
    c = env.counts()
    calls = len(fake.requests) - calls0
    fake.stop()
    return per * HOT_SKUS, calls, c.get("superseded", 0)


def main():
    check_build()
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as root:
        s_rate, s_calls, s_conns, s_base = bench_shopify(os.path.join(root, "s"))
        w_rate, w_calls, w_conns = bench_woo(os.path.join(root, "w"))
        events, calls, superseded = bench_coalescing(os.path.join(root, "c"))
    print(f"outbox bench: {SKUS} stock events per platform, concurrency 4, build {BUILD}")
    print(f"  fake Shopify, one keep-alive client (baseline): {s_base:8.0f} calls/s")
    print(f"  depotd -> fake Shopify:  {s_rate:8.0f} events/s  ({s_calls} calls, "
          f"{s_conns} connections)  ratio to baseline {s_rate / s_base:.2f}")
    print(f"  depotd -> fake WooCommerce (products/batch): {w_rate:8.0f} events/s  "
          f"({w_calls} calls, {w_conns} connections)")
    print(f"  coalescing: {events} changes to {HOT_SKUS} SKUs while running -> {calls} calls, "
          f"{superseded} superseded: {100 * (1 - calls / events):.1f}% of calls saved")


if __name__ == "__main__":
    main()
