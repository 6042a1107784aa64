"""depotctl restore: a verified backup replaces the database (the old one kept beside it),
refused while depotd runs on the data dir, refused for files that are not intact Depot
databases, and never mixing the old database's WAL into the restored one."""
import glob
import json
import os
import sqlite3
import unittest

import depot_testlib as dt


def ctl(data_dir, *args, **kw):
    return dt.run_depotctl("--data-dir", data_dir, *args, **kw)


class Restore(unittest.TestCase):
    def setUp(self):
        self.tmp = dt.TempDataDir()
        self.d = self.tmp.data_dir
        ctl(self.d, "init", check=True)
        csv = self.tmp.write("s.csv", "sku,name,gtin,location,on_hand\nA-1,Thing,,MAIN,10\n")
        ctl(self.d, "stock", "import", csv, check=True)
        self.backup = os.path.join(self.tmp.root, "backup.db")
        ctl(self.d, "backup", self.backup, check=True)
        # Changes made after the backup, which the restore must undo.
        ctl(self.d, "stock", "adjust", "A-1", "--location", "MAIN", "--delta", "+5",
            "--reason", "after backup", check=True)

    def tearDown(self):
        self.tmp.cleanup()

    def on_hand(self):
        out = ctl(self.d, "--json", "stock", "show", "A-1", check=True).stdout
        return json.loads(out)["on_hand"]

    def test_restore_brings_back_the_backup_and_keeps_the_old_database(self):
        self.assertEqual(self.on_hand(), 15)
        p = ctl(self.d, "--json", "restore", self.backup)
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        self.assertEqual(self.on_hand(), 10)
        ctl(self.d, "verify", check=True)
        saved = doc["previous_saved_as"]
        self.assertTrue(os.path.exists(saved))
        with sqlite3.connect(saved) as conn:
            self.assertEqual(conn.execute("SELECT on_hand FROM stock").fetchone()[0], 15)
        self.assertFalse(glob.glob(os.path.join(self.d, "*.restore-tmp")))

    def test_refused_while_depotd_runs(self):
        port = dt.free_port()
        with dt.Depotd.for_data_dir(self.d, "--listen", f"127.0.0.1:{port}"):
            p = ctl(self.d, "restore", self.backup)
            self.assertEqual(p.returncode, 1)
            self.assertIn("stop depotd before restoring", p.stderr)
        self.assertEqual(self.on_hand(), 15)

    def test_refuses_files_that_are_not_intact_backups(self):
        junk = self.tmp.write("junk.db", "this is not a database\n" * 100)
        missing = os.path.join(self.tmp.root, "missing.db")
        tampered = os.path.join(self.tmp.root, "tampered.db")
        ctl(self.d, "backup", tampered, check=True)
        with sqlite3.connect(tampered) as conn:
            conn.execute("UPDATE stock SET on_hand = on_hand + 1")
        for path, words in ((junk, "not a usable Depot backup"), (missing, "missing.db"),
                            (tampered, "fails verification"), (self.d, "not a regular")):
            p = ctl(self.d, "restore", path)
            self.assertEqual(p.returncode, 1, path)
            self.assertIn(words, p.stderr)
        self.assertEqual(self.on_hand(), 15)
        self.assertFalse(glob.glob(os.path.join(self.d, "depot.db.before-restore-*")))
        self.assertFalse(glob.glob(os.path.join(self.d, "*.restore-tmp")))


if __name__ == "__main__":
    unittest.main()
