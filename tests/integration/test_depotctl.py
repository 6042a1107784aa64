"""Integration tests of depotctl against the real binary: every command on a temporary data
dir, with outcomes checked through the CLI itself and in the database with sqlite3."""

import base64
import csv
import hashlib
import json
import os
import pwd
import re
import stat
import subprocess
import sys
import time
import unittest
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

DEMO_CSV = os.path.join(dt.SOURCE_DIR, "packaging", "demo", "stock.csv")
TOKEN_RE = re.compile(r"^dpt_[0-9a-f]{64}$")

# Every command with arguments that parse, for --help and --json checks.
COMMANDS = [
    ["init"], ["verify"], ["backup"],
    ["stock", "import"], ["stock", "show"], ["stock", "adjust"],
    ["order", "list"], ["order", "show"], ["order", "create"], ["order", "reserve"],
    ["order", "release"], ["order", "cancel"], ["order", "ship"],
    ["user", "add"], ["token", "create"],
    ["outbox", "list"], ["outbox", "retry"],
]


def demo_rows():
    with open(DEMO_CSV, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def gtin_ok(g):
    digits = [int(d) for d in g]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


class CtlTestCase(unittest.TestCase):
    """A fresh temporary data dir per test and helpers to run depotctl on it."""

    def setUp(self):
        self.tmp = dt.TempDataDir()
        self.addCleanup(self.tmp.cleanup)

    def ctl(self, *args, data_dir=None, **kwargs):
        return dt.run_depotctl("--data-dir", data_dir or self.tmp.data_dir, *args, **kwargs)

    def expect(self, status, *args, **kwargs):
        p = self.ctl(*args, **kwargs)
        self.assertEqual(p.returncode, status,
                         f"depotctl {' '.join(args)}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        # A sanitizer report (a leak exits 1) must not pass for an expected failure.
        self.assertNotRegex(p.stderr, r"Sanitizer|runtime error:", args)
        return p

    def ok(self, *args, **kwargs):
        return self.expect(0, *args, **kwargs)

    def json_doc(self, status, *args, **kwargs):
        """Runs with --json, checks the exit status and that stdout is one JSON document."""
        p = self.expect(status, "--json", *args, **kwargs)
        return json.loads(p.stdout)

    def init_demo(self):
        self.ok("init")
        self.ok("stock", "import", DEMO_CSV)

    def stock(self, sku):
        return self.json_doc(0, "stock", "show", sku)

    def level(self, sku, location):
        for lv in self.stock(sku)["levels"]:
            if lv["location"] == location:
                return lv
        self.fail(f"no level of {sku} at {location}")

    def sql(self, query, *params):
        conn = self.tmp.connect()
        try:
            rows = conn.execute(query, params).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()


class DemoCatalogue(unittest.TestCase):
    def test_demo_csv_is_realistic_and_valid(self):
        rows = demo_rows()
        self.assertEqual(list(rows[0].keys()), ["sku", "name", "gtin", "location", "on_hand", "bin"])
        skus = {r["sku"] for r in rows}
        self.assertGreaterEqual(len(skus), 25)
        self.assertEqual(len({r["location"] for r in rows}), 2)
        gtin_of = {}
        for r in rows:
            self.assertRegex(r["gtin"], r"^\d{13}$")
            self.assertTrue(gtin_ok(r["gtin"]), r["gtin"])
            self.assertEqual(gtin_of.setdefault(r["sku"], r["gtin"]), r["gtin"])
            self.assertTrue(r["bin"])
            self.assertGreaterEqual(int(r["on_hand"]), 0)
        self.assertEqual(len(set(gtin_of.values())), len(skus))


class InitAndDataDir(CtlTestCase):
    def test_init_creates_private_dir_and_is_idempotent(self):
        doc = self.json_doc(0, "init")
        self.assertTrue(doc["created"])
        self.assertEqual(doc["database"], self.tmp.db_path)
        version = doc["schema_version"]
        self.assertGreaterEqual(version, 1)
        self.assertEqual(stat.S_IMODE(os.stat(self.tmp.data_dir).st_mode), 0o700)
        self.assertTrue(os.path.isfile(self.tmp.db_path))
        self.assertEqual(stat.S_IMODE(os.stat(self.tmp.db_path).st_mode) & 0o077, 0)
        doc = self.json_doc(0, "init")
        self.assertFalse(doc["created"])
        self.assertEqual(doc["schema_version"], version)
        self.assertIn("up to date", self.ok("init").stdout)
        self.ok("verify")

    def test_commands_refuse_a_missing_database(self):
        for args in (["verify"], ["backup", os.path.join(self.tmp.root, "b.db")],
                     ["stock", "import", DEMO_CSV], ["stock", "show", "X"],
                     ["stock", "adjust", "X", "--location", "L", "--delta", "1", "--reason", "r"],
                     ["order", "list"], ["order", "show", "1"], ["order", "reserve", "1"],
                     ["order", "create", "--external-id", "A", "--line", "X:1"],
                     ["user", "add", "bob", "--role", "packer"],
                     ["token", "create", "ci", "--role", "admin"],
                     ["outbox", "list"], ["outbox", "retry", "--all-dead"]):
            p = self.expect(1, *args)
            self.assertIn(f"no database at {self.tmp.db_path}; run depotctl init", p.stderr)
            self.assertFalse(os.path.exists(self.tmp.db_path), args)
            doc = self.json_doc(1, *args)
            self.assertEqual(doc["error"]["code"], "not_found")
        # A data dir that exists but holds no database is refused the same way.
        os.mkdir(self.tmp.data_dir)
        self.expect(1, "order", "list")
        self.assertFalse(os.path.exists(self.tmp.db_path))

    def test_data_dir_from_environment_and_flag(self):
        env_dir = os.path.join(self.tmp.root, "from-env")
        p = dt.run_depotctl("init", env={"DEPOT_DATA_DIR": env_dir})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.isfile(os.path.join(env_dir, "depot.db")))
        # --data-dir beats the environment.
        p = dt.run_depotctl("--data-dir", self.tmp.data_dir, "init", env={"DEPOT_DATA_DIR": env_dir})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.isfile(self.tmp.db_path))
        # Without either, ./var of the working directory.
        p = subprocess.run([dt.bin_path("depotctl"), "init"], cwd=self.tmp.root, env=dt.clean_env(),
                           capture_output=True, text=True, timeout=dt.RUN_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.isfile(os.path.join(self.tmp.root, "var", "depot.db")))


class Stock(CtlTestCase):
    def test_import_demo_then_show_matches_the_csv(self):
        self.ok("init")
        rows = demo_rows()
        skus = {r["sku"] for r in rows}
        doc = self.json_doc(0, "stock", "import", DEMO_CSV)
        self.assertEqual(doc["rows"], len(rows))
        self.assertEqual(doc["changed"], len(rows))
        self.assertEqual(doc["skus_created"], len(skus))
        expected = defaultdict(dict)
        for r in rows:
            expected[r["sku"]][r["location"]] = (int(r["on_hand"]), r["bin"])
        for r in rows:
            show = self.stock(r["sku"])
            self.assertEqual(show["name"], r["name"])
            self.assertEqual(show["gtins"], [r["gtin"]])
            levels = {lv["location"]: (lv["on_hand"], lv["bin"]) for lv in show["levels"]}
            self.assertEqual(levels, expected[r["sku"]])
            total = sum(n for n, _ in expected[r["sku"]].values())
            self.assertEqual((show["on_hand"], show["reserved"], show["available"]), (total, 0, total))
        text = self.ok("stock", "show", "COF-ESP-250").stdout
        self.assertIn("Espresso blend", text)
        self.assertRegex(text, r"WH-MAIN\s+A-01-1\s+120\s+0\s+120")
        self.assertRegex(text, r"total\s+144\s+0\s+144")
        # The same absolute counts again change nothing.
        again = self.json_doc(0, "stock", "import", DEMO_CSV)
        self.assertEqual((again["changed"], again["skus_created"]), (0, 0))
        self.assertIn(f"{len(rows)} rows", self.ok("stock", "import", DEMO_CSV).stdout)
        self.ok("verify")

    def test_bad_csv_lists_rows_and_columns_and_changes_nothing(self):
        self.init_demo()
        before = [self.stock(s) for s in ("COF-ESP-250", "MUG-CER-WHT", "TMP-58")]
        ledger_before = self.sql("SELECT count(*) FROM ledger")[0][0]
        bad = self.tmp.write("bad.csv", (
            "sku,name,gtin,location,on_hand,bin\n"
            "COF-ESP-250,Espresso blend whole bean 250 g,2006100000115,WH-MAIN,7,A-01-1\n"
            "MUG-CER-WHT,Ceramic mug 350 ml white,2006100000123,WH-MAIN,5,B-01-1\n"
            "TMP-58,Espresso tamper 58 mm,,WH-MAIN,-4,C-01-1\n"
            "NEW-SKU-1,New thing,,WH-MAIN,lots,Z-9\n"))
        p = self.expect(1, "stock", "import", bad)
        self.assertRegex(p.stderr, r"row 3, column gtin: .*2006100000123")
        self.assertRegex(p.stderr, r"row 4, column on_hand: ")
        self.assertRegex(p.stderr, r"row 5, column on_hand: ")
        self.assertNotIn("row 2", p.stderr)
        self.assertIn("nothing was imported", p.stderr)
        doc = self.json_doc(1, "stock", "import", bad)
        self.assertEqual(doc["error"]["code"], "invalid_input")
        found = {(e["row"], e["column"]) for e in doc["error"]["errors"]}
        self.assertEqual(found, {(3, "gtin"), (4, "on_hand"), (5, "on_hand")})
        after = [self.stock(s) for s in ("COF-ESP-250", "MUG-CER-WHT", "TMP-58")]
        self.assertEqual(before, after)
        self.assertEqual(self.sql("SELECT count(*) FROM ledger")[0][0], ledger_before)
        self.expect(1, "stock", "show", "NEW-SKU-1")

    def test_import_of_a_missing_file_fails(self):
        self.ok("init")
        p = self.expect(1, "stock", "import", os.path.join(self.tmp.root, "nope.csv"))
        self.assertIn("nope.csv", p.stderr)

    def test_adjust_up_and_down_and_never_below_zero(self):
        self.init_demo()
        doc = self.json_doc(0, "stock", "adjust", "TMP-58", "--location", "WH-MAIN",
                            "--delta", "+5", "--reason", "found in returns")
        self.assertEqual((doc["delta"], doc["on_hand"], doc["available"]), (5, 26, 26))
        ledger_id = doc["ledger_id"]
        p = self.ok("stock", "adjust", "TMP-58", "--location", "WH-MAIN", "--delta", "-3",
                    "--reason", "damaged")
        self.assertIn("on hand 23", p.stdout)
        self.assertEqual(self.level("TMP-58", "WH-MAIN")["on_hand"], 23)
        # Options before the SKU, and --delta=N, work too.
        self.ok("stock", "adjust", "--delta=-1", "--location", "WH-MAIN", "--reason", "x", "TMP-58")
        self.assertEqual(self.level("TMP-58", "WH-MAIN")["on_hand"], 22)
        rows = self.sql("SELECT delta, kind, reason, actor FROM ledger WHERE id >= ? ORDER BY id",
                        ledger_id)
        actor = "cli:" + pwd.getpwuid(os.geteuid()).pw_name
        self.assertEqual(rows, [(5, "adjust", "found in returns", actor),
                                (-3, "adjust", "damaged", actor), (-1, "adjust", "x", actor)])
        self.assertEqual(self.sql("SELECT actor FROM audit WHERE action = 'stock.adjust'")[0][0],
                         actor)

        p = self.expect(1, "stock", "adjust", "TMP-58", "--location", "WH-MAIN", "--delta", "-23",
                        "--reason", "too many")
        self.assertIn("below zero", p.stderr)
        self.assertRegex(p.stderr, r"^depotctl: .*TMP-58.*\n$")
        doc = self.json_doc(1, "stock", "adjust", "TMP-58", "--location", "WH-MAIN",
                            "--delta", "-23", "--reason", "too many")
        self.assertEqual(doc["error"]["code"], "insufficient_stock")
        self.assertEqual(self.level("TMP-58", "WH-MAIN")["on_hand"], 22)

        self.assertIn("unknown SKU", self.expect(1, "stock", "adjust", "NOPE", "--location",
                                                 "WH-MAIN", "--delta", "1", "--reason", "r").stderr)
        self.expect(1, "stock", "adjust", "TMP-58", "--location", "NOWHERE", "--delta", "1",
                    "--reason", "r")
        self.expect(1, "stock", "adjust", "TMP-58", "--location", "WH-MAIN", "--delta", "+0",
                    "--reason", "r")
        for bad in ("5x", "", " 5", "0x10", "1e3", "++1", "99999999999999999999"):
            p = self.expect(2, "stock", "adjust", "TMP-58", "--location", "WH-MAIN",
                            "--delta", bad, "--reason", "r")
            self.assertIn("--delta", p.stderr)
        self.expect(2, "stock", "adjust", "TMP-58", "--location", "WH-MAIN", "--delta", "1")
        self.expect(2, "stock", "adjust", "--location", "WH-MAIN", "--delta", "1", "--reason", "r")
        self.assertEqual(self.level("TMP-58", "WH-MAIN")["on_hand"], 22)
        self.ok("verify")


class Orders(CtlTestCase):
    def create(self, external_id, *lines, number=None):
        args = ["order", "create", "--external-id", external_id]
        if number:
            args += ["--number", number]
        for line in lines:
            args += ["--line", line]
        return self.json_doc(0, *args)

    def test_create_reserve_show_ship(self):
        self.init_demo()
        esp, mug = self.stock("COF-ESP-250"), self.stock("MUG-CER-WHT")
        order = self.create("WEB-1001", "COF-ESP-250:3", "MUG-CER-WHT:2", number="#1001")
        self.assertTrue(order["created"])
        self.assertEqual((order["status"], order["units"], order["number"]), ("open", 5, "#1001"))
        oid = order["id"]
        again = self.create("WEB-1001", "COF-ESP-250:3")
        self.assertEqual((again["id"], again["created"]), (oid, False))

        reserved = self.json_doc(0, "order", "reserve", str(oid))
        self.assertEqual(reserved["status"], "reserved")
        self.assertEqual(sum(r["quantity"] for r in reserved["reservations"]
                             if r["status"] == "active"), 5)
        self.assertEqual(self.stock("COF-ESP-250")["reserved"], 3)
        self.assertEqual(self.stock("COF-ESP-250")["available"], esp["on_hand"] - 3)
        self.assertEqual(self.stock("MUG-CER-WHT")["reserved"], 2)

        show = self.json_doc(0, "order", "show", str(oid))
        self.assertEqual([(ln["sku"], ln["quantity"], ln["reserved"]) for ln in show["lines"]],
                         [("COF-ESP-250", 3, 3), ("MUG-CER-WHT", 2, 2)])
        text = self.ok("order", "show", str(oid)).stdout
        self.assertIn("WEB-1001", text)
        self.assertIn("reserved", text)
        listed = self.json_doc(0, "order", "list", "--status", "reserved")
        self.assertEqual([o["id"] for o in listed], [oid])
        self.assertEqual(self.json_doc(0, "order", "list", "--status", "open"), [])

        shipped = self.json_doc(0, "order", "ship", str(oid), "--carrier", "manual",
                                "--tracking", "TRK123")
        self.assertEqual(shipped["status"], "shipped")
        self.assertGreater(shipped["shipment_id"], 0)
        self.assertEqual(self.sql("SELECT carrier, tracking_number FROM shipments WHERE id = ?",
                                  shipped["shipment_id"]), [("manual", "TRK123")])
        after_esp, after_mug = self.stock("COF-ESP-250"), self.stock("MUG-CER-WHT")
        self.assertEqual((after_esp["on_hand"], after_esp["reserved"]), (esp["on_hand"] - 3, 0))
        self.assertEqual((after_mug["on_hand"], after_mug["reserved"]), (mug["on_hand"] - 2, 0))
        p = self.expect(1, "order", "ship", str(oid), "--carrier", "manual")
        self.assertIn("shipped", p.stderr)
        self.ok("verify")

    def test_oversell_is_refused(self):
        self.init_demo()
        have = self.stock("GRN-ELEC-40")["on_hand"]
        first = self.create("WEB-1", f"GRN-ELEC-40:{have - 2}")["id"]
        second = self.create("WEB-2", "GRN-ELEC-40:3")["id"]
        self.ok("order", "reserve", str(first))
        p = self.expect(1, "order", "reserve", str(second))
        self.assertIn("GRN-ELEC-40", p.stderr)
        doc = self.json_doc(1, "order", "reserve", str(second))
        self.assertEqual(doc["error"]["code"], "insufficient_stock")
        self.assertEqual(self.json_doc(0, "order", "show", str(second))["status"], "open")
        level = self.stock("GRN-ELEC-40")
        self.assertEqual((level["reserved"], level["available"]), (have - 2, 2))
        self.assertEqual(self.json_doc(0, "order", "show", str(second))["reservations"], [])
        self.ok("verify")

    def test_release_cancel_and_ttl(self):
        self.init_demo()
        oid = self.create("WEB-7", "TMP-58:4")["id"]
        doc = self.json_doc(0, "order", "reserve", str(oid), "--ttl", "3600")
        expires = doc["reservations"][0]["expires_at"]
        self.assertAlmostEqual(expires, time.time() + 3600, delta=120)
        self.assertEqual(self.json_doc(0, "order", "release", str(oid))["status"], "open")
        self.assertEqual(self.stock("TMP-58")["reserved"], 0)
        self.ok("order", "reserve", str(oid))
        self.assertEqual(self.json_doc(0, "order", "cancel", str(oid))["status"], "cancelled")
        self.assertEqual(self.stock("TMP-58")["reserved"], 0)
        self.assertEqual(self.json_doc(1, "order", "reserve", str(oid))["error"]["code"],
                         "invalid_state")
        self.assertEqual(self.json_doc(1, "order", "show", "999")["error"]["code"], "not_found")
        self.expect(2, "order", "show", "abc")
        self.expect(2, "order", "reserve", str(oid), "--ttl", "-5")
        self.assertIn("unknown order status", self.expect(1, "order", "list", "--status", "bogus").stderr)
        self.expect(2, "order", "list", "--limit", "0")
        self.ok("verify")

    def test_create_refuses_unknown_sku_and_bad_lines(self):
        self.init_demo()
        p = self.expect(1, "order", "create", "--external-id", "X1", "--line", "NOPE:1")
        self.assertIn("NOPE", p.stderr)
        self.assertEqual(self.sql("SELECT count(*) FROM orders")[0][0], 0)
        for line in ("TMP-58", "TMP-58:", ":3", "TMP-58:x"):
            self.expect(2, "order", "create", "--external-id", "X1", "--line", line)
        self.expect(2, "order", "create", "--line", "TMP-58:1")
        self.expect(2, "order", "create", "--external-id", "X1")
        self.expect(1, "order", "create", "--external-id", "X1", "--line", "TMP-58:0")
        self.assertEqual(self.sql("SELECT count(*) FROM orders")[0][0], 0)


class VerifyAndBackup(CtlTestCase):
    def test_verify_passes_then_names_tampering(self):
        self.init_demo()
        self.assertIn("ok", self.ok("verify").stdout)
        doc = self.json_doc(0, "verify")
        self.assertEqual((doc["ok"], doc["problems"]), (True, []))
        self.sql("UPDATE stock SET on_hand = on_hand + 1 WHERE sku_id ="
                 " (SELECT id FROM skus WHERE code = 'TMP-58')")
        p = self.expect(1, "verify")
        self.assertRegex(p.stdout, r"ledger: TMP-58@WH-MAIN: on_hand 22 but ledger sums to 21")
        self.assertIn("problem", p.stderr)
        doc = self.json_doc(1, "verify")
        self.assertFalse(doc["ok"])
        self.assertTrue(any("TMP-58" in s for s in doc["problems"]))

    def test_verify_names_an_altered_audit_row(self):
        self.init_demo()
        conn = self.tmp.connect()
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET actor = 'someone else' WHERE id = 1")
        conn.commit()
        conn.close()
        p = self.expect(1, "verify")
        self.assertIn("audit: row 1 was altered", p.stdout)

    def test_backup_is_verifiable_and_never_overwritten(self):
        self.init_demo()
        self.ok("stock", "adjust", "TMP-58", "--location", "WH-MAIN", "--delta", "2",
                "--reason", "count")
        backup_dir = os.path.join(self.tmp.root, "restore")
        os.mkdir(backup_dir, 0o700)
        target = os.path.join(backup_dir, "depot.db")
        doc = self.json_doc(0, "backup", target)
        self.assertEqual(doc["backup"], target)
        self.assertEqual(doc["bytes"], os.path.getsize(target))
        self.assertEqual(stat.S_IMODE(os.stat(target).st_mode) & 0o077, 0)
        self.assertEqual(os.listdir(backup_dir), ["depot.db"])
        self.ok("verify", data_dir=backup_dir)
        original = self.stock("TMP-58")
        copy = json.loads(self.ok("--json", "stock", "show", "TMP-58", data_dir=backup_dir).stdout)
        self.assertEqual(copy, original)

        before = os.stat(target)
        p = self.expect(1, "backup", target)
        self.assertIn("exists", p.stderr)
        self.assertEqual(self.json_doc(1, "backup", target)["error"]["code"], "conflict")
        self.assertEqual(os.stat(target).st_ino, before.st_ino)
        self.ok("stock", "adjust", "TMP-58", "--location", "WH-MAIN", "--delta", "1",
                "--reason", "count")
        self.ok("backup", "--force", target)
        copy = json.loads(self.ok("--json", "stock", "show", "TMP-58", data_dir=backup_dir).stdout)
        self.assertEqual(copy["on_hand"], original["on_hand"] + 1)
        self.ok("verify", data_dir=backup_dir)
        self.assertEqual([n for n in os.listdir(backup_dir) if ".tmp-" in n], [])
        self.expect(1, "backup", "--force", self.tmp.db_path)
        self.expect(1, "backup", os.path.join(self.tmp.root, "no-such-dir", "b.db"))
        self.expect(2, "backup")
        self.ok("verify")


class UsersAndTokens(CtlTestCase):
    def test_user_add_reads_the_password_from_stdin(self):
        self.ok("init")
        doc = self.json_doc(0, "user", "add", "alice", "--role", "supervisor", "--password", "-",
                            input="correct horse battery\n")
        self.assertEqual((doc["name"], doc["role"], doc["password"]), ("alice", "supervisor", True))
        (role, stored), = self.sql("SELECT role, password_hash FROM users WHERE name = 'alice'")
        self.assertEqual(role, "supervisor")
        self.assertNotIn("correct horse", stored)
        # The stored hash is of the password without its trailing newline.
        scheme, iterations, salt, digest = stored.split("$")
        self.assertEqual(scheme, "pbkdf2-sha256")

        def b64(s):
            return base64.b64decode(s + "=" * (-len(s) % 4))
        derived = hashlib.pbkdf2_hmac("sha256", b"correct horse battery", b64(salt),
                                      int(iterations), len(b64(digest)))
        self.assertEqual(derived, b64(digest))
        with open(self.tmp.db_path, "rb") as f:
            self.assertNotIn(b"correct horse", f.read())

        p = self.expect(1, "user", "add", "alice", "--role", "packer", "--password", "-",
                        input="another password\n")
        self.assertIn("already exists", p.stderr)
        self.assertEqual(self.json_doc(1, "user", "add", "alice", "--role", "packer")["error"]["code"],
                         "conflict")
        p = self.expect(2, "user", "add", "bob", "--role", "packer", "--password", "hunter22")
        self.assertNotIn("hunter22", p.stdout)
        self.expect(1, "user", "add", "bob", "--role", "packer", "--password", "-", input="short\n")
        self.expect(1, "user", "add", "bob", "--role", "janitor")
        self.expect(2, "user", "add", "bob")
        self.assertEqual(self.sql("SELECT count(*) FROM users WHERE name = 'bob'")[0][0], 0)
        self.ok("user", "add", "bob", "--role", "packer")
        self.assertEqual(self.sql("SELECT password_hash FROM users WHERE name = 'bob'"), [(None,)])
        self.ok("verify")

    def test_token_create_prints_the_token_once_and_stores_its_hash(self):
        self.ok("init")
        p = self.ok("token", "create", "ci", "--role", "admin")
        token = p.stdout.strip()
        self.assertRegex(token, TOKEN_RE)
        self.assertEqual(p.stdout, token + "\n")
        self.assertIn("only this once", p.stderr)
        digest = hashlib.sha256(token.encode()).hexdigest()
        rows = self.sql("SELECT id, name, role, token_hash FROM api_tokens")
        self.assertEqual([r[1:] for r in rows], [("ci", "admin", digest)])
        doc = self.json_doc(0, "token", "create", "scanner", "--role", "packer")
        self.assertRegex(doc["token"], TOKEN_RE)
        self.assertEqual(self.sql("SELECT token_hash FROM api_tokens WHERE id = ?", doc["id"]),
                         [(hashlib.sha256(doc["token"].encode()).hexdigest(),)])
        for path in (self.tmp.db_path, self.tmp.db_path + "-wal"):
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data = f.read()
                self.assertNotIn(token.encode(), data)
                self.assertNotIn(doc["token"].encode(), data)
        self.expect(1, "token", "create", "x", "--role", "root")
        self.expect(2, "token", "create", "x")


class Outbox(CtlTestCase):
    def add_channel(self):
        """A Shopify channel that lists TMP-58 at WH-MAIN (inserted directly)."""
        conn = self.tmp.connect()
        now = int(time.time())
        cur = conn.execute("INSERT INTO channels (kind, name, created_at)"
                           " VALUES ('shopify', 'demo.myshopify.com', ?)", (now,))
        channel = cur.lastrowid
        conn.execute("INSERT INTO channel_skus (channel_id, sku_id, external_inventory_id)"
                     " SELECT ?, id, 'gid://shopify/InventoryItem/1' FROM skus"
                     " WHERE code = 'TMP-58'", (channel,))
        conn.execute("INSERT INTO channel_locations (channel_id, location_id, external_location_id)"
                     " SELECT ?, id, 'gid://shopify/Location/1' FROM locations"
                     " WHERE code = 'WH-MAIN'", (channel,))
        conn.commit()
        conn.close()
        return channel

    def adjust(self, delta):
        self.ok("stock", "adjust", "TMP-58", "--location", "WH-MAIN", "--delta", delta,
                "--reason", "count")

    def test_list_and_retry_dead_events(self):
        self.init_demo()
        self.assertEqual(self.json_doc(0, "outbox", "list"), [])
        self.assertIn("empty", self.ok("outbox", "list").stdout)
        channel = self.add_channel()
        self.adjust("+4")
        events = self.json_doc(0, "outbox", "list")
        self.assertEqual(len(events), 1)
        ev = events[0]
        self.assertEqual((ev["target"], ev["target_id"], ev["topic"], ev["status"]),
                         ("channel", channel, "inventory.set", "pending"))
        self.assertEqual((ev["payload"]["sku"], ev["payload"]["available"]), ("TMP-58", 25))
        self.assertEqual(self.json_doc(0, "outbox", "list", "--dead"), [])
        p = self.expect(1, "outbox", "retry", str(ev["id"]))
        self.assertIn("not dead", p.stderr)

        self.sql("UPDATE outbox SET status = 'dead', attempts = 8, last_error = 'HTTP 500'"
                 " WHERE id = ?", ev["id"])
        dead = self.json_doc(0, "outbox", "list", "--dead")
        self.assertEqual([(d["id"], d["last_error"]) for d in dead], [(ev["id"], "HTTP 500")])
        self.assertIn("HTTP 500", self.ok("outbox", "list", "--dead").stdout)
        doc = self.json_doc(0, "outbox", "retry", str(ev["id"]))
        self.assertEqual(doc["requeued"], 1)
        self.assertEqual(self.sql("SELECT status, attempts FROM outbox WHERE id = ?", ev["id"]),
                         [("pending", 0)])

        self.adjust("-1")
        self.sql("UPDATE outbox SET status = 'dead' WHERE status = 'pending'")
        self.assertEqual(len(self.json_doc(0, "outbox", "list", "--dead", "--limit", "1")), 1)
        self.assertIn("2 dead", self.ok("outbox", "retry", "--all-dead").stdout)
        self.assertEqual(self.sql("SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0], 2)
        self.assertEqual(self.json_doc(0, "outbox", "retry", "--all-dead")["requeued"], 0)
        self.assertEqual(self.json_doc(1, "outbox", "retry", "9999")["error"]["code"], "not_found")
        self.expect(2, "outbox", "retry")
        self.expect(2, "outbox", "retry", "1", "--all-dead")
        self.expect(2, "outbox", "retry", "x")
        self.ok("verify")


class HelpUsageAndJson(CtlTestCase):
    def test_help_for_everything_needs_no_database(self):
        p = self.ok("--help")
        self.assertTrue(p.stdout.startswith("usage: depotctl"))
        self.assertEqual(p.stderr, "")
        for words in COMMANDS:
            self.assertIn(" ".join(words), p.stdout)
            h = self.ok(*words, "--help")
            self.assertTrue(h.stdout.startswith("usage: depotctl [--data-dir DIR] [--json] "
                                                + " ".join(words)), h.stdout)
            self.assertEqual(h.stderr, "")
            self.assertEqual(self.ok(*words, "-h").stdout, h.stdout)
        self.assertIn("--delta N", self.ok("stock", "adjust", "--help").stdout)
        for group in ("stock", "order", "user", "token", "outbox"):
            g = self.ok(group, "--help")
            self.assertIn(f"{group} ", g.stdout)
        self.assertRegex(self.ok("--version").stdout, r"^depotctl \d+\.\d+\.\d+\n$")
        self.assertFalse(os.path.exists(self.tmp.data_dir))

    def test_usage_errors_exit_2_on_stderr(self):
        cases = [
            [], ["frobnicate"], ["--bogus", "verify"], ["stock"], ["stock", "frob"],
            ["verify", "extra"], ["verify", "--bogus"], ["stock", "show"],
            ["stock", "show", "A", "B"], ["stock", "adjust", "X", "--delta"],
            ["order", "ship", "1"], ["backup", "a", "b"], ["--data-dir"],
        ]
        for args in cases:
            p = self.expect(2, *args)
            self.assertEqual(p.stdout, "", args)
            self.assertTrue(p.stderr.startswith("depotctl"), (args, p.stderr))
        self.assertIn("unknown command 'frobnicate'", self.expect(2, "frobnicate").stderr)
        self.assertIn("'--delta' needs a value",
                      self.expect(2, "stock", "adjust", "X", "--delta").stderr)
        self.assertIn("unknown option '--bogus'", self.expect(2, "verify", "--bogus").stderr)
        self.assertEqual(self.json_doc(2, "frobnicate")["error"]["code"], "usage_error")

    def test_json_output_is_one_document_for_every_command(self):
        self.init_demo()
        backup = os.path.join(self.tmp.root, "b.db")
        runs = [
            (0, ["init"]), (0, ["verify"]), (0, ["backup", backup]), (1, ["backup", backup]),
            (0, ["stock", "import", DEMO_CSV]), (0, ["stock", "show", "BAG-CANV"]),
            (1, ["stock", "show", "NOPE"]),
            (0, ["stock", "adjust", "BAG-CANV", "--location", "SHOP", "--delta", "-2",
                 "--reason", "sold"]),
            (0, ["order", "create", "--external-id", "J1", "--line", "BAG-CANV:1"]),
            (0, ["order", "list"]), (0, ["order", "show", "1"]), (0, ["order", "reserve", "1"]),
            (0, ["order", "release", "1"]), (0, ["order", "reserve", "1"]),
            (0, ["order", "ship", "1", "--carrier", "dhl"]),
            (0, ["order", "create", "--external-id", "J2", "--line", "BAG-CANV:1"]),
            (0, ["order", "cancel", "2"]),
            (0, ["user", "add", "carol", "--role", "packer"]),
            (0, ["token", "create", "t", "--role", "packer"]),
            (0, ["outbox", "list"]), (0, ["outbox", "retry", "--all-dead"]),
            (1, ["outbox", "retry", "5"]),
        ]
        for status, args in runs:
            p = self.expect(status, "--json", *args)
            try:
                doc = json.loads(p.stdout)
            except ValueError as e:
                self.fail(f"{args}: stdout is not one JSON document ({e}):\n{p.stdout}")
            self.assertIsInstance(doc, (dict, list), args)
            if status:
                self.assertEqual(sorted(doc["error"]), ["code", "message"], args)
                self.assertEqual(p.stderr.count("\n"), 1, args)
                self.assertTrue(p.stderr.startswith("depotctl: "), args)
        # --json is accepted after the command too.
        self.assertEqual(json.loads(self.ok("stock", "show", "BAG-CANV", "--json").stdout)["sku"],
                         "BAG-CANV")


if __name__ == "__main__":
    unittest.main()
