"""Integration tests of `depotctl label ... --printer` and `depotctl print list|cancel|reprint`:
labels are queued as committed print jobs holding exactly the ZPL --stdout prints, and
bad input is refused with the documented exit statuses."""

import json
import os
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402


class PrintQueueCliTest(unittest.TestCase):

    def setUp(self):
        self.tmp = dt.TempDataDir()
        self.addCleanup(self.tmp.cleanup)
        self.ctl("init", check=True)
        csv = self.tmp.write("stock.csv", "sku,name,gtin,location,on_hand\n"
                                          "TEE-S,T-shirt small,,MAIN,3\n")
        self.ctl("stock", "import", csv, check=True)

    def ctl(self, *args, **kwargs):
        return dt.run_depotctl("--data-dir", self.tmp.data_dir, *args, **kwargs)

    def expect(self, status, *args):
        p = self.ctl(*args)
        self.assertEqual(p.returncode, status,
                         f"depotctl {' '.join(args)}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    def payload(self, job_id):
        with sqlite3.connect(self.tmp.db_path) as db:
            row = db.execute("SELECT payload, status FROM print_jobs WHERE id = ?",
                             (job_id,)).fetchone()
        return bytes(row[0]).decode(), row[1]

    def test_queued_job_holds_the_label(self):
        zpl = self.expect(0, "label", "sku", "TEE-S", "--stdout").stdout
        p = self.expect(0, "label", "sku", "TEE-S", "--printer", "zebra-1")
        job = int(p.stdout.strip())
        self.assertEqual(self.payload(job), (zpl, "queued"))
        p = self.expect(0, "--json", "label", "sscc", "106141411234567897", "--printer",
                        "zebra-2")
        self.assertEqual(json.loads(p.stdout)["job_id"], job + 1)
        jobs = json.loads(self.expect(0, "--json", "print", "list").stdout)
        self.assertEqual([(j["id"], j["printer"], j["status"]) for j in jobs],
                         [(job + 1, "zebra-2", "queued"), (job, "zebra-1", "queued")])
        only = json.loads(self.expect(0, "--json", "print", "list", "--printer",
                                      "zebra-1").stdout)
        self.assertEqual([j["id"] for j in only], [job])
        self.expect(0, "verify")

    def test_cancel_and_reprint(self):
        job = int(self.expect(0, "label", "bin", "B-7", "--printer", "p1").stdout)
        self.expect(0, "print", "cancel", str(job))
        self.assertEqual(self.payload(job)[1], "cancelled")
        p = self.expect(1, "print", "cancel", str(job))
        self.assertIn("cancelled", p.stderr)
        self.expect(1, "print", "cancel", "999")
        new = json.loads(self.expect(0, "--json", "print", "reprint", str(job)).stdout)
        self.assertEqual(new["reprint_of"], job)
        self.assertEqual(self.payload(new["job_id"]),
                         (self.payload(job)[0], "queued"))
        self.expect(2, "print", "cancel", "x")
        self.expect(0, "verify")

    def test_refusals(self):
        p = self.expect(1, "label", "sku", "NOPE", "--stdout")
        self.assertIn("NOPE", p.stderr)
        p = self.expect(1, "label", "sscc", "106141411234567890", "--stdout")
        self.assertIn("check digit", p.stderr)
        self.expect(1, "label", "bin", "A>1", "--stdout")
        self.expect(1, "label", "bin", "B-1", "--printer", "bad name")
        self.expect(2, "label", "bin", "B-1")
        self.expect(2, "label", "bin", "B-1", "--stdout", "--printer", "p")
        self.expect(2, "label", "bin", "B-1", "--stdout", "--dpi", "600")
        self.expect(2, "label", "bin", "B-1", "--stdout", "--stock", "3x2")
        p = self.expect(1, "--json", "label", "sscc", "123", "--stdout")
        self.assertEqual(json.loads(p.stdout)["error"]["code"], "invalid_input")
        with sqlite3.connect(self.tmp.db_path) as db:
            self.assertEqual(db.execute("SELECT count(*) FROM print_jobs").fetchone()[0], 0)


if __name__ == "__main__":
    unittest.main()
