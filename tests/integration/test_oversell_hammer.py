"""Oversell hammer: several processes reserve the same scarce SKUs at once against one
database file. Afterwards the successful reservations must equal the stock that existed,
reserved <= on_hand everywhere, and `depotctl verify` must pass."""
import os
import sqlite3
import subprocess
import tempfile
import unittest

WORKER = os.path.join(os.environ["DEPOT_TEST_BIN_DIR"], "reserve_worker")
DEPOTCTL = os.path.join(os.environ["DEPOT_BIN_DIR"], "depotctl")

PROCESSES = 4
SKUS = 5
UNITS_PER_SKU = 60          # 300 units exist
ORDERS_PER_PROCESS = 150    # 600 single-unit orders compete for them


class OversellHammer(unittest.TestCase):
    def test_concurrent_processes_never_oversell(self):
        with tempfile.TemporaryDirectory() as data_dir:
            db = os.path.join(data_dir, "depot.db")
            subprocess.run([WORKER, "setup", db, str(SKUS), str(UNITS_PER_SKU)], check=True)
            procs = [subprocess.Popen([WORKER, "hammer", db, f"w{i}",
                                       str(ORDERS_PER_PROCESS), str(SKUS)],
                                      stdout=subprocess.PIPE, text=True)
                     for i in range(PROCESSES)]
            reported = []
            for p in procs:
                out, _ = p.communicate(timeout=240)
                self.assertEqual(p.returncode, 0, out[-500:])
                lines = out.splitlines()
                self.assertTrue(lines[-1].startswith("DONE "), lines[-1:])
                reported += [line.split()[1:] for line in lines if line.startswith("RESERVED ")]

            total = SKUS * UNITS_PER_SKU
            self.assertEqual(len(reported), total,
                             "successful reservations must equal the stock that existed")
            with sqlite3.connect(db) as conn:
                rows = conn.execute("SELECT on_hand, reserved FROM stock").fetchall()
                self.assertEqual(len(rows), SKUS)
                for on_hand, reserved in rows:
                    self.assertLessEqual(reserved, on_hand)
                    self.assertEqual(on_hand, UNITS_PER_SKU)
                    self.assertEqual(reserved, UNITS_PER_SKU)
                active = conn.execute("SELECT count(*) FROM reservations"
                                      " WHERE status = 'active'").fetchone()[0]
                self.assertEqual(active, total)
                reserved_orders = {str(r[0]) for r in conn.execute(
                    "SELECT id FROM orders WHERE status = 'reserved'")}
                self.assertEqual(reserved_orders, {r[0] for r in reported})
            v = subprocess.run([DEPOTCTL, "--data-dir", data_dir, "verify"],
                               capture_output=True, text=True)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)


if __name__ == "__main__":
    unittest.main()
