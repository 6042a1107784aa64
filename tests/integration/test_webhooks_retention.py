"""Inbox retention: the inbox worker, when idle, deletes processed deliveries received
longer ago than `inbox_retention_days`, and keeps dead letters (they wait for people) and
everything recent; the orders they made stay. A delivery sent again after its record was
pruned is stored again and changes nothing (ingestion is idempotent)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webhook_helpers as wh  # noqa: E402


class InboxRetentionTest(unittest.TestCase):
    def test_old_processed_deliveries_are_pruned_and_dead_letters_kept(self):
        d = wh.Depot(stock=(("SKU-A", 50),), inbox_retention_days=1)
        self.addCleanup(d.close, False)
        d.start()
        for order_id in (61001, 61002, 61003):
            status, _ = d.shopify(wh.order_body(order_id=order_id, lines=(("L1", "SKU-A", 1),)),
                                  webhook_id=f"keep-{order_id}")
            self.assertEqual(status, 200)
        status, _ = d.shopify(b'{"id": 61004, "line_items": "not a list"}',
                              webhook_id="bad-61004")
        self.assertEqual(status, 200)
        wh.dt.wait_until(lambda: d.query(
            "SELECT count(*) FROM inbox WHERE status IN ('pending', 'failed')")[0][0] == 0,
            timeout=20, what="the deliveries to be processed")
        self.assertEqual(d.query("SELECT status FROM inbox WHERE delivery_id = 'bad-61004'"),
                         [("dead",)])
        d.daemon.stop()
        # Two days pass for the first two deliveries and the dead letter.
        conn = d.tmp.connect()
        conn.execute("UPDATE inbox SET received_at = received_at - 2 * 86400"
                     " WHERE delivery_id IN ('keep-61001', 'keep-61002', 'bad-61004')")
        conn.commit()
        conn.close()

        d.start()
        wh.dt.wait_until(lambda: d.query("SELECT count(*) FROM inbox")[0][0] == 2,
                         timeout=20, what="the old processed deliveries to be pruned")
        self.assertEqual(sorted(r[0] for r in d.query("SELECT delivery_id FROM inbox")),
                         ["bad-61004", "keep-61003"])
        self.assertEqual(d.query("SELECT count(*) FROM orders")[0][0], 3)
        self.assertEqual(d.stock("SKU-A")["reserved"], 3)

        # The same delivery again: stored anew (its record is gone), one order still.
        status, _ = d.shopify(wh.order_body(order_id=61001, lines=(("L1", "SKU-A", 1),)),
                              webhook_id="keep-61001")
        self.assertEqual(status, 200)
        d.settled()
        self.assertEqual(d.query("SELECT count(*) FROM orders WHERE external_id = '61001'")
                         [0][0], 1)
        self.assertEqual(d.stock("SKU-A")["reserved"], 3)
        d.ctl("verify")
        d.daemon.stop()


if __name__ == "__main__":
    unittest.main()
