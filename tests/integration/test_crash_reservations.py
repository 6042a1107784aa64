"""Crash test: kill -9 a process in the middle of a stream of committed reservations.
Every reservation it reported committed must be there, nothing may be half-applied, and
`depotctl verify` must pass. Repeated so the kill lands at different points."""
import os
import random
import sqlite3
import subprocess
import tempfile
import time
import unittest

WORKER = os.path.join(os.environ["DEPOT_TEST_BIN_DIR"], "reserve_worker")
DEPOTCTL = os.path.join(os.environ["DEPOT_BIN_DIR"], "depotctl")

ROUNDS = 6


class CrashDuringReservations(unittest.TestCase):
    def test_kill_9_loses_nothing_committed(self):
        with tempfile.TemporaryDirectory() as data_dir:
            db = os.path.join(data_dir, "depot.db")
            subprocess.run([WORKER, "setup", db, "1", "1000000"], check=True)
            committed = {}
            for rnd in range(ROUNDS):
                p = subprocess.Popen([WORKER, "stream", db, f"r{rnd}"],
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
                deadline = time.monotonic() + random.uniform(0.3, 1.5)
                seen = 0
                while time.monotonic() < deadline or seen < 5:
                    line = p.stdout.readline()
                    self.assertTrue(line, "worker stopped early")
                    _, order_id, units = line.split()
                    committed[int(order_id)] = int(units)
                    seen += 1
                p.kill()   # SIGKILL: no chance to clean up
                p.wait()
                # Lines already written to the pipe were also committed: collect them.
                for line in p.stdout:
                    if line.startswith("COMMITTED "):
                        _, order_id, units = line.split()
                        committed[int(order_id)] = int(units)
                p.stdout.close()
                self.assertEqual(p.returncode, -9)
                self.check(db, data_dir, committed)

    def check(self, db, data_dir, committed):
        with sqlite3.connect(db) as conn:
            status = dict(conn.execute("SELECT id, status FROM orders"))
            reserved = dict(conn.execute(
                "SELECT order_id, sum(quantity) FROM reservations WHERE status = 'active'"
                " GROUP BY order_id"))
            for order_id, units in committed.items():
                self.assertEqual(status.get(order_id), "reserved", f"order {order_id} lost")
                self.assertEqual(reserved.get(order_id), units)
            # Nothing half-applied: every order is either fully reserved or not at all.
            for order_id, st in status.items():
                want = conn.execute("SELECT sum(quantity) FROM order_lines WHERE order_id = ?",
                                    (order_id,)).fetchone()[0]
                self.assertIn(st, ("open", "reserved"))
                self.assertEqual(reserved.get(order_id, 0), want if st == "reserved" else 0)
            total = conn.execute("SELECT reserved FROM stock").fetchone()[0]
            self.assertEqual(total, sum(reserved.values()))
        v = subprocess.run([DEPOTCTL, "--data-dir", data_dir, "verify"],
                           capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)


if __name__ == "__main__":
    unittest.main()
