"""Integration tests of the depotd skeleton against the real binary: flags and config,
start-up and its failures, the data dir lock, signals, sd_notify and reservation expiry."""

import os
import re
import signal
import socket
import stat
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

EXAMPLE_CONF = os.path.join(dt.SOURCE_DIR, "daemon", "depotd.conf.example")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def one_line(text):
    """The single line of text; fails if there are more (or none)."""
    lines = text.splitlines()
    if len(lines) != 1:
        raise AssertionError(f"expected one line, got {len(lines)}:\n{text}")
    return lines[0]


def help_options():
    """{key: default} from the "Config file options" part of depotd --help."""
    out = dt.run_depotd("--help", check=True).stdout
    section = out.split("Config file options", 1)[1]
    return dict(re.findall(r"^  (\w+) = (\S*)", section, re.M))


def example_options():
    """{key: value} of the commented-out `#key = value` lines of depotd.conf.example."""
    with open(EXAMPLE_CONF, encoding="utf-8") as f:
        return dict(re.findall(r"^#(\w+) =[ ]?(.*)$", f.read(), re.M))


class CommandLine(unittest.TestCase):
    def test_version(self):
        p = dt.run_depotd("--version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"^depotd \d+\.\d+\.\d+\n$")

    def test_help_lists_flags_and_options(self):
        p = dt.run_depotd("--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        for flag in ("--data-dir DIR", "--listen HOST:PORT", "--config FILE", "--demo",
                     "--version", "--help"):
            self.assertIn(flag, p.stdout)
        self.assertEqual(help_options()["listen"], "127.0.0.1:8080")
        self.assertEqual(help_options()["data_dir"], "./var")  # run from a build tree

    def test_man_page_names_every_option(self):
        with open(os.path.join(dt.SOURCE_DIR, "packaging", "man", "depotd.8"),
                  encoding="utf-8") as f:
            section = f.read().split(".SH CONFIGURATION", 1)[1].split(".SH ", 1)[0]
        named = set(re.findall(r"\\fB(\w+)\\fP", section))
        self.assertEqual(sorted(set(help_options()) - named), [])

    def test_example_config_has_every_option_at_its_default(self):
        example, table = example_options(), help_options()
        self.assertEqual(sorted(example), sorted(table))
        for key, default in table.items():
            if key not in ("data_dir", "ui_dir"):  # the example shows installed defaults
                self.assertEqual(example[key], default, key)

    def test_example_config_is_valid(self):
        with dt.TempDataDir() as tmp:
            text = "".join(f"{k} = {v}\n" for k, v in example_options().items())
            conf = tmp.write("depotd.conf", text)
            with dt.Depotd.for_data_dir(tmp.data_dir, "--config", conf) as d:
                self.assertEqual(d.started["config_file"], conf)

    def test_bad_flags_exit_2_with_one_line(self):
        cases = [
            (["--bogus"], "depotd: unknown flag '--bogus'"),
            (["--listen"], "depotd: flag '--listen' needs a value"),
            (["extra"], "depotd: unexpected argument 'extra'"),
            (["--demo=yes"], "depotd: flag '--demo=yes' takes no value"),
            (["--listen", "localhost"], "depotd: --listen: invalid address 'localhost'"),
            (["--listen", "127.0.0.1:0"], "depotd: --listen: invalid port '0'"),
            (["--listen", "::1:80"], "depotd: --listen: invalid host '::1'"),
            (["--config", "/nonexistent/depotd.conf"],
             "depotd: config /nonexistent/depotd.conf: No such file or directory"),
        ]
        for args, start in cases:
            with self.subTest(args=args):
                p = dt.run_depotd(*args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertTrue(one_line(p.stderr).startswith(start), p.stderr)

    def test_bad_environment_exits_2(self):
        p = dt.run_depotd(env={"DEPOT_LISTEN": "127.0.0.1:99999"})
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(one_line(p.stderr), "depotd: environment DEPOT_LISTEN: "
                                             "invalid port '99999' (expected 1..65535)")


class BadConfigFile(unittest.TestCase):
    """Each bad file stops depotd before start-up: exit 2, one line naming FILE:LINE."""

    CASES = [
        ("unknown key", "# comment\n\nfoo = 1\n", 3, "unknown option 'foo'"),
        ("bad port", "listen = 127.0.0.1:70000\n", 1,
         "listen: invalid port '70000' (expected 1..65535)"),
        ("bad host", "listen = bad_host!:80\n", 1, "listen: invalid host 'bad_host!'"),
        ("duplicate key", "log_level = info\n# again\nlog_level = debug\n", 3,
         "duplicate option 'log_level' (first set on line 1)"),
        ("out of range", "expiry_interval = 0\n", 1,
         "expiry_interval: 0 is out of range 1..3600"),
        ("not a number", "reservation_ttl = 30m\n", 1,
         "reservation_ttl: invalid value '30m' (expected an integer)"),
        ("bad enum", "log_level = loud\n", 1,
         "log_level: invalid value 'loud' (expected debug|info|warn|error)"),
        ("bad bool", "demo = maybe\n", 1,
         "demo: invalid value 'maybe' (expected true or false)"),
        ("no equals sign", "listen 127.0.0.1:8080\n", 1, "expected 'key = value'"),
        ("empty value", "data_dir =\n", 1, "data_dir: empty value"),
    ]

    def test_bad_files(self):
        with dt.TempDataDir() as tmp:
            for name, text, line, problem in self.CASES:
                with self.subTest(name):
                    conf = tmp.write("bad.conf", text)
                    p = dt.run_depotd("--data-dir", tmp.data_dir, "--config", conf)
                    self.assertEqual(p.returncode, 2, p.stderr)
                    self.assertEqual(one_line(p.stderr),
                                     f"depotd: config {conf}:{line}: {problem}")
                    self.assertFalse(os.path.exists(tmp.data_dir))

    def test_bad_file_from_environment(self):
        with dt.TempDataDir() as tmp:
            conf = tmp.write("bad.conf", "listen = 1.2.3.4:80\nnope = 1\n")
            p = dt.run_depotd(env={"DEPOT_CONFIG": conf})
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(one_line(p.stderr),
                             f"depotd: config {conf}:2: unknown option 'nope'")


class Precedence(unittest.TestCase):
    """Flags beat environment beats config file beats defaults (seen in the start-up
    line)."""

    def started(self, *args, env=None, cwd=None):
        with dt.Depotd(*args, env=env, cwd=cwd) as d:
            return d.started

    def test_flag_beats_env_beats_file(self):
        with dt.TempDataDir() as tmp:
            dirs = {k: os.path.join(tmp.root, k) for k in ("file", "env", "flag")}
            ports = {k: dt.free_port() for k in ("file", "env", "flag")}
            conf = tmp.write_config(data_dir=dirs["file"],
                                    listen=f"127.0.0.1:{ports['file']}")
            env = {"DEPOT_DATA_DIR": dirs["env"], "DEPOT_LISTEN": f"127.0.0.1:{ports['env']}"}
            flags = ["--data-dir", dirs["flag"], "--listen", f"127.0.0.1:{ports['flag']}"]

            for source, args, environ in [("file", ["--config", conf], None),
                                          ("env", ["--config", conf], env),
                                          ("flag", ["--config", conf, *flags], env)]:
                with self.subTest(source):
                    line = self.started(*args, env=environ)
                    self.assertEqual(line["data_dir"], dirs[source])
                    self.assertEqual(line["listen"], f"127.0.0.1:{ports[source]}")
                    self.assertEqual(line["config_file"], conf)
                    self.assertTrue(os.path.exists(os.path.join(dirs[source], "depot.db")))

    def test_config_flag_beats_config_env(self):
        with dt.TempDataDir() as tmp:
            a = tmp.write_config("a.conf", listen="127.0.0.1:1111")
            b = tmp.write_config("b.conf", listen="127.0.0.1:2222")
            line = self.started("--data-dir", tmp.data_dir, "--config", b,
                                env={"DEPOT_CONFIG": a})
            self.assertEqual((line["config_file"], line["listen"]), (b, "127.0.0.1:2222"))
            line = self.started("--data-dir", tmp.data_dir, env={"DEPOT_CONFIG": a})
            self.assertEqual((line["config_file"], line["listen"]), (a, "127.0.0.1:1111"))

    def test_default_data_dir_in_a_checkout_is_var(self):
        with dt.TempDataDir() as tmp:
            line = self.started("--listen", f"127.0.0.1:{dt.free_port()}", cwd=tmp.root)
            self.assertEqual((line["data_dir"], line["config_file"]), ("./var", ""))
            self.assertTrue(os.path.isfile(os.path.join(tmp.root, "var", "depot.db")))


class StartupFailures(unittest.TestCase):
    """A data dir or database depotd cannot use: exit 1 with one error line saying why."""

    def assert_fails(self, data_dir, reason):
        p = dt.run_depotd("--data-dir", data_dir, "--listen", "127.0.0.1:8080")
        self.assertEqual(p.returncode, 1, p.stderr)
        errors = [e for e in dt.parse_log(p.stderr) if e["level"] == "error"]
        self.assertEqual(len(errors), 1, p.stderr)
        self.assertRegex(errors[0]["msg"], reason)

    def test_data_dir_is_a_file(self):
        with dt.TempDataDir() as tmp:
            path = tmp.write("file", "x")
            self.assert_fails(path, rf"^data dir {re.escape(path)}: Not a directory$")

    def test_data_dir_parent_missing(self):
        with dt.TempDataDir() as tmp:
            path = os.path.join(tmp.root, "missing", "data")
            self.assert_fails(path, rf"^cannot create data dir {re.escape(path)}: "
                                    "No such file or directory$")

    def test_data_dir_under_a_file(self):
        with dt.TempDataDir() as tmp:
            path = os.path.join(tmp.write("file", "x"), "data")
            self.assert_fails(path, r"^cannot create data dir .*: Not a directory$")

    @unittest.skipIf(os.geteuid() == 0, "root can write anywhere")
    def test_data_dir_not_writable(self):
        with dt.TempDataDir() as tmp:
            os.mkdir(tmp.data_dir, 0o500)
            self.assert_fails(tmp.data_dir, r"is not writable: Permission denied$")

    def test_database_is_garbage(self):
        with dt.TempDataDir() as tmp:
            os.mkdir(tmp.data_dir, 0o700)
            with open(tmp.db_path, "wb") as f:
                f.write(b"this is not a database" * 100)
            self.assert_fails(tmp.data_dir, r"^cannot open database .*depot\.db: ")


class Running(unittest.TestCase):
    def test_starts_logs_json_and_creates_database(self):
        with dt.TempDataDir() as tmp:
            with dt.Depotd.for_data_dir(tmp.data_dir) as d:
                started = d.started
                self.assertTrue(os.path.isfile(tmp.db_path))
                self.assertTrue(os.path.isfile(os.path.join(tmp.data_dir, "depotd.lock")))
                self.assertEqual(stat.S_IMODE(os.stat(tmp.data_dir).st_mode), 0o700)
            for line in d.stderr().splitlines():
                self.assertEqual(len(dt.parse_log(line)), 1, f"not a JSON object: {line}")
            for entry in d.logs():
                self.assertRegex(entry["ts"], TS_RE)
                self.assertIn(entry["level"], ("debug", "info", "warn", "error"))
                self.assertIsInstance(entry["module"], str)
                self.assertIsInstance(entry["msg"], str)
                self.assertNotEqual(entry["level"], "debug")  # log_level defaults to info
            self.assertRegex(started["version"], r"^\d+\.\d+\.\d+$")
            self.assertGreaterEqual(int(started["schema_version"]), 1)
            self.assertEqual(started["data_dir"], tmp.data_dir)
            # Run from a build tree, a development master key is generated, loudly.
            warning = d.wait_for_log(level="warn", msg=re.compile(r"^WARNING: .*master key"))
            self.assertIn("master.key", warning["master_key"])
            self.assertTrue(dt.log_matches(d.logs()[-1], module="depotd", msg="stopped"))

    def test_second_daemon_on_same_data_dir_refuses(self):
        with dt.TempDataDir() as tmp:
            with dt.Depotd.for_data_dir(tmp.data_dir) as first:
                p = dt.run_depotd("--data-dir", tmp.data_dir, "--listen",
                                  f"127.0.0.1:{dt.free_port()}", timeout=20)
                self.assertEqual(p.returncode, 1, p.stderr)
                errors = [e for e in dt.parse_log(p.stderr) if e["level"] == "error"]
                self.assertEqual(
                    [e["msg"] for e in errors],
                    [f"data dir {tmp.data_dir} is in use by another depotd "
                     f"(pid {first.pid})"])
                self.assertIsNone(first.proc.poll())

    def test_sigterm_and_sigint_exit_0_promptly(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(sig.name), dt.TempDataDir() as tmp:
                d = dt.Depotd.for_data_dir(tmp.data_dir).start()
                t0 = time.monotonic()
                self.assertEqual(d.stop(sig, timeout=5), 0, d.stderr())
                self.assertLess(time.monotonic() - t0, 3)
                d.wait_for_log(msg=f"{sig.name}: stopping", signal=sig.name[3:])
                d.wait_for_log(msg="stopped")

    def test_sighup_reloads_config(self):
        with dt.TempDataDir() as tmp:
            conf = tmp.write_config(log_level="info", expiry_interval=1)
            with dt.Depotd.for_data_dir(tmp.data_dir, "--config", conf) as d:
                time.sleep(1.5)  # at least one expiry pass, not logged at info
                self.assertEqual([e for e in d.logs() if e["level"] == "debug"], [])

                mark = d.mark()
                tmp.write_config(log_level="debug", expiry_interval=1,
                                 busy_timeout_ms=9000)
                d.send_signal(signal.SIGHUP)
                d.wait_for_log(since=mark, module="config", option="log_level",
                               msg="log_level changed from info to debug")
                d.wait_for_log(since=mark, level="warn", option="busy_timeout_ms",
                               msg=re.compile("needs restart"))
                d.wait_for_log(since=mark, msg="configuration reloaded")
                d.wait_for_log(since=mark, level="debug", module="expiry", timeout=5)

                mark = d.mark()
                tmp.write_config(log_level="warn", unknown_thing=1)
                d.send_signal(signal.SIGHUP)
                err = d.wait_for_log(since=mark, level="error", module="config")
                self.assertIn(f"config {conf}:2: unknown option 'unknown_thing'", err["msg"])
                mark = d.mark()  # still running, still at debug
                d.wait_for_log(since=mark, level="debug", module="expiry", timeout=5)

    @unittest.skipIf(dt.cmake_option("WITH_SYSTEMD") == "OFF", "built without libsystemd")
    def test_sd_notify_ready_watchdog_reload_stopping(self):
        with dt.TempDataDir() as tmp, \
                socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            path = os.path.join(tmp.root, "notify.sock")
            sock.bind(path)
            sock.settimeout(10)
            env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": 400000}

            def next_message(expect):
                while True:
                    msg = sock.recv(4096).decode()
                    if expect in msg.split("\n"):
                        return msg

            d = dt.Depotd.for_data_dir(tmp.data_dir, env=env).start()
            try:
                self.assertIn("STATUS=running", next_message("READY=1"))
                next_message("WATCHDOG=1")
                next_message("WATCHDOG=1")
                d.send_signal(signal.SIGHUP)
                self.assertRegex(next_message("RELOADING=1"), r"MONOTONIC_USEC=\d+")
                next_message("READY=1")
                self.assertEqual(d.stop(), 0)
                next_message("STOPPING=1")
            finally:
                if d.proc.poll() is None:
                    d.stop(signal.SIGKILL, check=False)


class ReservationExpiry(unittest.TestCase):
    """Overdue reservations are expired by the periodic pass: stock.reserved drops, the
    order goes back to open; reservations not yet due stay active."""

    def insert_reserved_orders(self, conn, now):
        """Stock of 5 with two reserved orders: T-1 (2, overdue) and T-2 (1, due in an
        hour). Returns the reservation ids (overdue, not due)."""
        c = conn.cursor()
        c.execute("INSERT INTO locations(code, name, created_at) VALUES ('MAIN', 'Main', ?)",
                  (now,))
        loc = c.lastrowid
        c.execute("INSERT INTO skus(code, name, created_at, updated_at) "
                  "VALUES ('SKU-1', 'Widget', ?, ?)", (now, now))
        sku = c.lastrowid
        c.execute("INSERT INTO ledger(sku_id, location_id, delta, kind, reason, actor, "
                  "created_at) VALUES (?, ?, 5, 'adjust', 'test stock', 'test', ?)",
                  (sku, loc, now))
        c.execute("INSERT INTO stock(sku_id, location_id, on_hand, reserved, updated_at) "
                  "VALUES (?, ?, 5, 3, ?)", (sku, loc, now))
        ids = []
        for ext, qty, expires in (("T-1", 2, now - 60), ("T-2", 1, now + 3600)):
            c.execute("INSERT INTO orders(external_id, status, created_at, updated_at) "
                      "VALUES (?, 'reserved', ?, ?)", (ext, now, now))
            order = c.lastrowid
            c.execute("INSERT INTO order_lines(order_id, line_no, sku_id, quantity) "
                      "VALUES (?, 1, ?, ?)", (order, sku, qty))
            c.execute("INSERT INTO reservations(order_id, line_id, sku_id, location_id, "
                      "quantity, status, expires_at, created_at, updated_at) "
                      "VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)",
                      (order, c.lastrowid, sku, loc, qty, expires, now, now))
            ids.append(c.lastrowid)
        conn.commit()
        return ids

    def test_overdue_reservation_expires(self):
        with dt.TempDataDir() as tmp:
            conf = tmp.write_config(expiry_interval=1)
            with dt.Depotd.for_data_dir(tmp.data_dir, "--config", conf) as d:
                # Inserted while depotd runs: the periodic pass, not start-up, finds it.
                conn = tmp.connect()
                try:
                    overdue, later = self.insert_reserved_orders(conn, int(time.time()))

                    def status(rid):
                        return conn.execute("SELECT status FROM reservations WHERE id = ?",
                                            (rid,)).fetchone()[0]

                    dt.wait_until(lambda: status(overdue) == "expired", timeout=10,
                                  what="the overdue reservation to expire")
                    self.assertEqual(status(later), "active")
                    self.assertEqual(conn.execute("SELECT on_hand, reserved FROM stock")
                                     .fetchone(), (5, 1))
                    self.assertEqual(conn.execute("SELECT external_id, status FROM orders "
                                                  "ORDER BY id").fetchall(),
                                     [("T-1", "open"), ("T-2", "reserved")])
                finally:
                    conn.close()
                line = d.wait_for_log(module="expiry", msg="expired 1 reservation(s)")
                self.assertEqual(line["expired"], "1")

    def test_expired_sessions_are_purged(self):
        with dt.TempDataDir() as tmp:
            dt.run_depotctl("--data-dir", tmp.data_dir, "init", check=True)
            dt.run_depotctl("--data-dir", tmp.data_dir, "user", "add", "pat", "--role",
                            "packer", check=True)
            conf = tmp.write_config(expiry_interval=1)
            with dt.Depotd.for_data_dir(tmp.data_dir, "--config", conf):
                conn = tmp.connect()
                try:
                    now = int(time.time())
                    for token, expires in (("a" * 64, now - 5), ("b" * 64, now + 3600)):
                        conn.execute("INSERT INTO sessions (token_hash, user_id, csrf_token,"
                                     " created_at, expires_at) VALUES (?, 1, ?, ?, ?)",
                                     (token, "c" * 64, now - 60, expires))
                    conn.commit()

                    def hashes():
                        return [r[0][0] for r in conn.execute(
                            "SELECT token_hash FROM sessions ORDER BY token_hash")]

                    dt.wait_until(lambda: hashes() == ["b"], timeout=10,
                                  what="the expired session to be purged")
                finally:
                    conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
