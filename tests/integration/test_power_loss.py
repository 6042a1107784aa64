"""Power loss, simulated: depotd runs with the power-cut shim (tests/powercut_shim), which
can undo every write not yet made durable by fsync; SIGKILL, then the undo, leaves the
data directory as a power cut would. Whatever was acknowledged must still be there:
webhook deliveries that got their 200 (and each becomes exactly one order), stock
adjustments with their outbox events, a reservation and a queued print job the API
acknowledged. The first test proves the shim
itself loses unsynced writes and keeps synced ones."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402
import webhook_helpers as wh  # noqa: E402

N = 400
CLIENTS = 16
CUT_AFTER = 120  # acknowledgements seen before the power goes


class PowerCut:
    """A log directory for the shim's undo records, the environment that preloads it
    into depotd, and the cut itself (SIGKILL, then the undo)."""

    def __init__(self, test, data_dir):
        self.logs = tempfile.mkdtemp(prefix="depot-powercut-")
        test.addCleanup(lambda: subprocess.run(["rm", "-rf", self.logs]))
        self.env = dt.powercut_env(data_dir, self.logs)

    def recorded(self, path):
        """1 if the shim has kept undo records for path (its log exists)."""
        return os.path.exists(os.path.join(self.logs, os.path.realpath(path).replace("/", "%")))

    def cut(self, proc):
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return dt.power_cut_restore(self.logs)


def shim_is_loaded(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libdepot_powercut_shim.so" in f.read()


class PowerLossTest(unittest.TestCase):
    def test_the_shim_loses_unsynced_writes_and_keeps_synced_ones(self):
        work = tempfile.mkdtemp(prefix="depot-powercut-data-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", work]))
        cut = PowerCut(self, work)
        # Python under the shim; in a sanitizer build the shim needs the ASan runtime
        # first (as depotd does), and Python's own allocations are not ASan's business.
        env = dt.clean_env(dt.powercut_env(work, cut.logs,
                                           env={"ASAN_OPTIONS": "detect_leaks=0"}))
        script = ("import os, signal\n"
                  "synced = os.open('synced', os.O_WRONLY | os.O_CREAT, 0o600)\n"
                  "os.write(synced, b'kept'); os.fsync(synced); os.write(synced, b'+lost')\n"
                  "never = os.open('never', os.O_WRONLY | os.O_CREAT, 0o600)\n"
                  "os.write(never, b'lost')\n"
                  "os.pwrite(synced, b'KE', 0)\n"
                  "gone = os.open('gone', os.O_WRONLY | os.O_CREAT, 0o600)\n"
                  "os.write(gone, b'x'); os.unlink('gone')\n"
                  "os.kill(os.getpid(), signal.SIGKILL)\n")
        proc = subprocess.run([sys.executable, "-c", script], cwd=work, env=env)
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        with open(os.path.join(work, "synced"), "rb") as f:
            self.assertEqual(f.read(), b"KEpt+lost")  # before the cut: the page cache has all
        undone = dt.power_cut_restore(cut.logs)
        self.assertEqual(len(undone), 2, undone)  # synced and never; gone's log went with it
        self.assertFalse(os.path.exists(os.path.join(work, "gone")))
        with open(os.path.join(work, "synced"), "rb") as f:
            self.assertEqual(f.read(), b"kept")
        self.assertEqual(os.path.getsize(os.path.join(work, "never")), 0)

    def test_every_acknowledged_delivery_survives_a_power_cut_and_is_processed_once(self):
        d = wh.Depot(stock=(("SKU-A", 10000),))
        self.addCleanup(d.close, False)
        power = PowerCut(self, d.tmp.data_dir)
        d.start(env=power.env)
        self.assertTrue(shim_is_loaded(d.daemon.pid))
        deliveries = [(20000 + i, str(uuid.uuid4())) for i in range(N)]
        wal = os.path.join(d.tmp.data_dir, "depot.db-wal")
        shim_saw_wal = []  # the shim did record depotd's WAL writes (else this proves nothing)
        acked, cut = wh.burst(d, deliveries, CLIENTS, CUT_AFTER,
                              lambda: (shim_saw_wal.append(power.recorded(wal)),
                                       power.cut(d.daemon.proc)))
        self.assertEqual(shim_saw_wal, [True])
        self.assertTrue(cut, "the burst ended before the power cut")
        self.assertGreaterEqual(len(acked), CUT_AFTER)

        stored = {r[0] for r in d.query("SELECT delivery_id FROM inbox")}
        lost = [w for _, w in acked if w not in stored]
        self.assertEqual(lost, [], "acknowledged deliveries lost by the power cut")

        d.start()  # power back: the worker processes what is left, once
        d.settled(timeout=60)
        for order_id, _ in acked:
            rows = d.query("SELECT status FROM orders WHERE external_id = ?", str(order_id))
            self.assertEqual(rows, [("reserved",)], order_id)
        total = d.query("SELECT count(*) FROM orders")[0][0]
        self.assertEqual(d.stock("SKU-A")["reserved"], total, "one unit per order, no more")
        d.ctl("verify")
        d.daemon.stop()

    def test_acknowledged_api_writes_survive_a_power_cut(self):
        """Stock adjustments (each with its outbox event for the channel), a reservation
        and a queued print job the API acknowledged, then the power goes at once: all of
        them are there."""
        d = wh.Depot(stock=(("SKU-A", 100), ("SKU-B", 5)))
        self.addCleanup(d.close, False)
        d.ctl("channel", "map-location", wh.SHOP, "MAIN", "--external-id", "77")
        d.ctl("channel", "map-sku", wh.SHOP, "SKU-A", "--variant", "301",
              "--inventory-item", "1000")
        # A printer nobody listens on: the job stays queued, retried.
        d.ctl("printer", "add", "dock1", "--backend", "tcp", "--address", "127.0.0.1:1")
        pushes = "SELECT count(*) FROM outbox WHERE topic = 'inventory.set'"
        pushes_before = d.query(pushes)[0][0]  # the mapping's first push
        d.ctl("order", "create", "--external-id", "PC-1", "--line", "SKU-B:2")
        order_id = d.query("SELECT id FROM orders WHERE external_id = 'PC-1'")[0][0]
        d.tokens["supervisor"] = json.loads(d.ctl(
            "--json", "token", "create", "api-supervisor", "--role", "supervisor").stdout)["token"]
        power = PowerCut(self, d.tmp.data_dir)
        d.start(env=power.env)
        self.assertTrue(shim_is_loaded(d.daemon.pid))
        for delta in (7, -3, 11):
            status, doc = d.api("POST", "/api/v1/skus/SKU-A/adjust",
                                {"location": "MAIN", "delta": delta, "reason": "cycle count"})
            self.assertEqual(status, 200, doc)
        status, doc = d.api("POST", f"/api/v1/orders/{order_id}/reserve", {})
        self.assertEqual(status, 200, doc)
        status, doc = d.api("POST", "/api/v1/labels",
                            {"kind": "bin", "code": "A-01", "printer": "dock1"})
        self.assertEqual(status, 201, doc)
        job_id = doc["job_id"]
        self.assertTrue(power.recorded(os.path.join(d.tmp.data_dir, "depot.db-wal")))
        power.cut(d.daemon.proc)

        self.assertEqual(d.stock("SKU-A")["on_hand"], 115)
        self.assertEqual(d.query("SELECT count(*) FROM ledger l JOIN skus s"
                                 " ON s.id = l.sku_id WHERE s.code = 'SKU-A'"
                                 " AND l.reason = 'cycle count'")[0][0], 3)
        self.assertEqual(d.query("SELECT status FROM orders WHERE id = ?", order_id),
                         [("reserved",)])
        self.assertEqual(d.stock("SKU-B")["reserved"], 2)
        self.assertEqual(d.query(pushes)[0][0], pushes_before + 3)
        self.assertEqual(d.query("SELECT printer FROM print_jobs WHERE id = ?", job_id),
                         [("dock1",)])
        d.ctl("verify")


if __name__ == "__main__":
    unittest.main()
