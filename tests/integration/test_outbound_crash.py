"""Crash test for the outbound worker: depotd is killed with SIGKILL 20 times at random
moments while 1,000 stock changes and 100 fulfillments drain to a (slow) fake Shopify.
Afterwards every event has had exactly one effect upstream: each order has one
fulfillment, no stock event was applied twice, and the shop's levels equal ours."""
import collections
import random
import threading
import time
import unittest

import depot_testlib as dt
from outbound_env import FakeShopify, Outbound

SHOP = "test-shop.myshopify.com"
KILLS = 20
SKUS = 20
CHANGES = 1000
ORDERS = 100


class OutboundCrash(unittest.TestCase):
    def test_kill_9_twenty_times_every_event_has_one_effect(self):
        # a Shopify Plus sized bucket: throttling is tested elsewhere
        with dt.TempDataDir() as tmp, FakeShopify(restore_rate=2000.0) as fake:
            fake.latency = 0.06
            ob = Outbound(tmp)
            skus = {f"C-{i:02d}": 1000 for i in range(SKUS)}
            ob.stock(skus)
            ob.add_shopify(fake)
            items = {sku: 2000 + i for i, sku in enumerate(skus)}
            ob.map(SHOP, items)
            for i in range(ORDERS):
                fake.add_order(7001 + i)

            # Rationale: the work is fed in one chunk per kill (changes to two SKUs
            # written before the start, to three more and five shipped orders while
            # depotd delivers), so every kill lands
            # on a worker with something to do however fast or loaded the machine is;
            # a producer that front-loads everything leaves the later kills idle.
            per_kill = CHANGES // KILLS
            orders_per_kill = ORDERS // KILLS
            sku_names = list(skus)

            def produce(k, part):
                for j in ((0, 1) if part == 0 else (2, 3, 4)):
                    sku = sku_names[(5 * k + j) % SKUS]
                    ob.driver("adjust", sku, "WH1", per_kill // 5, 1 if (k + j) % 2 else -1)
                if part == 1:
                    ob.driver("ship", 1, orders_per_kill, 7001 + k * orders_per_kill, "C-00")

            rng = random.Random()
            recovered = busy_kills = 0
            for k in range(KILLS):
                produce(k, 0)
                ob.start(sync_http_timeout_ms=2000)
                producer = threading.Thread(target=produce, args=(k, 1))
                producer.start()
                time.sleep(rng.uniform(0.05, 0.4))
                logs = ob.daemon.logs()
                recovered += sum(1 for e in logs if "were in flight" in e.get("msg", ""))
                busy_kills += ob.live() > 0
                ob.kill9()
                producer.join()

            ob.start()
            ob.wait_drained(timeout=40)
            ob.stop()

            self.assertGreater(recovered, 0, "no kill landed while calls were in flight")
            self.assertGreaterEqual(busy_kills, KILLS // 2, "most kills hit an idle worker")
            counts = ob.outbox_counts()
            self.assertNotIn("dead", counts)
            self.assertEqual(counts.get("done", 0) + counts.get("superseded", 0),
                             sum(counts.values()))
            for i in range(ORDERS):
                gid = f"gid://shopify/Order/{7001 + i}"
                self.assertEqual(fake.fulfillments_created.get(gid), 1, gid)
            uris = collections.Counter(s[3] for s in fake.sets_applied)
            self.assertEqual([u for u, n in uris.items() if n > 1], [])
            for sku, item in items.items():
                self.assertEqual(fake.level(item, 77), ob.available(sku), sku)
            dt.run_depotctl("--data-dir", tmp.data_dir, "verify", check=True)


if __name__ == "__main__":
    unittest.main()
