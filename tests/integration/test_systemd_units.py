#!/usr/bin/env python3
"""Checks the files in systemd/: the units pass `systemd-analyze security` (exposure <= 2.0)
and `systemd-analyze verify`, depotd.service has the directives operations rely on, the
sysusers/tmpfiles entries parse (with systemd's own tools where possible) and the udev
rules are well formed. Skips cleanly where systemd-analyze is missing."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

SRC = os.environ.get("DEPOT_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
UNITS = os.path.join(SRC, "systemd")
ANALYZE = shutil.which("systemd-analyze")
MAX_EXPOSURE = 2.0


def read(name):
    with open(os.path.join(UNITS, name), encoding="utf-8") as f:
        return f.read()


def directives(text):
    """[(section, key, value)] of a unit file, continuation lines joined."""
    out, section, pending = [], None, ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        m = re.fullmatch(r"\[([A-Za-z]+)\]", line)
        if m:
            section = m.group(1)
            continue
        key, sep, value = line.partition("=")
        assert sep, "not key=value: %r" % line
        out.append((section, key.strip(), value.strip()))
    return out


def values(text, key, section="Service"):
    return [v for s, k, v in directives(text) if s == section and k == key]


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120, **kw)


class UnitFiles(unittest.TestCase):
    """Static checks; need no systemd."""

    def setUp(self):
        self.svc = read("depotd.service")

    def test_service_type_and_lifecycle(self):
        self.assertEqual(values(self.svc, "Type"), ["notify"])
        self.assertTrue(values(self.svc, "WatchdogSec"), "WatchdogSec= missing")
        self.assertEqual(values(self.svc, "WatchdogSec"), ["30s"])
        self.assertEqual(values(self.svc, "Restart"), ["on-failure"])
        self.assertEqual(values(self.svc, "ExecReload"), ["/bin/kill -HUP $MAINPID"])
        self.assertEqual(values(self.svc, "ExecStart"), [
            "/usr/bin/depotd --config /etc/depot/depotd.conf --data-dir /var/lib/depot"])
        docs = " ".join(values(self.svc, "Documentation", "Unit"))
        self.assertIn("man:depotd(8)", docs)
        self.assertIn("man:depotctl(1)", docs)

    def test_service_user_state_and_credential(self):
        self.assertEqual(values(self.svc, "User"), ["depot"])
        self.assertEqual(values(self.svc, "Group"), ["depot"])
        self.assertNotIn("yes", [v.lower() for v in values(self.svc, "DynamicUser")],
                         "depotd must run as the sysusers user, not DynamicUser=")
        self.assertEqual(values(self.svc, "StateDirectory"), ["depot"])
        self.assertEqual(values(self.svc, "StateDirectoryMode"), ["0700"])
        self.assertEqual(values(self.svc, "UMask"), ["0077"])
        self.assertEqual(sorted(" ".join(values(self.svc, "SupplementaryGroups")).split()),
                         ["dialout", "lp"])
        creds = values(self.svc, "LoadCredential") + values(self.svc, "LoadCredentialEncrypted")
        self.assertTrue(any(c.split(":", 1)[0] == "depot-master-key" for c in creds),
                        "no LoadCredential(Encrypted)=depot-master-key:...")
        self.assertIn("systemd-creds encrypt", self.svc)

    def test_device_access_only_serial_and_usb_printers(self):
        self.assertEqual(values(self.svc, "DevicePolicy"), ["closed"])
        allowed = values(self.svc, "DeviceAllow")
        self.assertTrue(allowed)
        specs = set()
        for a in allowed:
            spec, _, perms = a.partition(" ")
            self.assertTrue(set(perms.strip()) <= set("rw"), a)
            specs.add(spec)
        self.assertEqual(specs, {"char-ttyUSB", "char-ttyACM", "char-usb"})
        self.assertNotIn("yes", values(self.svc, "PrivateDevices"))

    def test_sandboxing_directives(self):
        for key, want in [("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                          ("PrivateTmp", "yes"), ("NoNewPrivileges", "yes"),
                          ("ProtectKernelTunables", "yes"), ("ProtectKernelModules", "yes"),
                          ("ProtectKernelLogs", "yes"), ("ProtectControlGroups", "yes"),
                          ("ProtectClock", "yes"), ("ProtectHostname", "yes"),
                          ("ProtectProc", "invisible"), ("ProcSubset", "pid"),
                          ("RestrictNamespaces", "yes"), ("RestrictRealtime", "yes"),
                          ("RestrictSUIDSGID", "yes"), ("LockPersonality", "yes"),
                          ("MemoryDenyWriteExecute", "yes"),
                          ("SystemCallArchitectures", "native"),
                          ("CapabilityBoundingSet", "")]:
            self.assertEqual(values(self.svc, key), [want], key)
        self.assertEqual(sorted(" ".join(values(self.svc, "RestrictAddressFamilies")).split()),
                         ["AF_INET", "AF_INET6", "AF_UNIX"])
        filters = values(self.svc, "SystemCallFilter")
        self.assertIn("@system-service", filters)
        self.assertIn("~@privileged @resources", filters)
        # Egress to the shops and carriers must stay possible.
        self.assertEqual(values(self.svc, "PrivateNetwork"), [])
        self.assertEqual(values(self.svc, "IPAddressDeny"), [])

    def test_backup_units(self):
        svc = read("depot-backup.service")
        self.assertEqual(values(svc, "Type"), ["oneshot"])
        self.assertEqual(values(svc, "User"), ["depot"])
        self.assertEqual(values(svc, "Group"), ["depot"])
        self.assertIn("depotctl --data-dir /var/lib/depot backup", svc)
        timer = read("depot-backup.timer")
        self.assertEqual(values(timer, "Persistent", "Timer"), ["true"])
        self.assertTrue(values(timer, "RandomizedDelaySec", "Timer"))
        self.assertTrue(values(timer, "OnCalendar", "Timer"))

    def test_backup_retention_keeps_newest_14(self):
        """Runs the unit's ExecStartPost (unit escapes undone) against a scratch dir."""
        post = values(read("depot-backup.service"), "ExecStartPost")
        self.assertEqual(len(post), 1)
        m = re.fullmatch(r"/bin/sh -c '(.*)'", post[0])
        self.assertTrue(m, post[0])
        script = m.group(1).replace("%%", "%").replace("$$", "$")
        with tempfile.TemporaryDirectory() as d:
            names = ["depot-2024-%02d-%02d.db" % (1 + i // 28, 1 + i % 28) for i in range(20)]
            for n in names + ["other.txt"]:
                open(os.path.join(d, n), "w").close()
            r = run(["/bin/sh", "-c", script.replace("/var/lib/depot/backups", d)])
            self.assertEqual(r.returncode, 0, r.stdout)
            left = sorted(os.listdir(d))
            self.assertEqual(left, sorted(sorted(names)[-14:] + ["other.txt"]))

    def test_sysusers_format(self):
        seen = []
        for n, line in enumerate(read("depot.sysusers").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = re.findall(r'"[^"]*"|\S+', line)
            self.assertIn(fields[0], ("u", "g", "m", "r"), "line %d" % n)
            seen.append(tuple(f.strip('"') for f in fields))
        users = [f for f in seen if f[0] == "u"]
        self.assertEqual(len(users), 1)
        self.assertEqual(users[0][1], "depot")
        self.assertEqual(users[0][4:6], ("/var/lib/depot", "/usr/sbin/nologin"))
        self.assertEqual(sorted(f[2] for f in seen if f[0] == "m" and f[1] == "depot"),
                         ["dialout", "lp"])

    def test_tmpfiles_format(self):
        entries = {}
        for n, line in enumerate(read("depot.tmpfiles").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = line.split()
            self.assertGreaterEqual(len(fields), 2, "line %d" % n)
            self.assertRegex(fields[0], r"^[fFwdDevqQpLcbCxXrRzZtThHaA][+!-]*$", "line %d" % n)
            self.assertTrue(fields[1].startswith("/"), "line %d" % n)
            if len(fields) > 2 and fields[2] != "-":
                self.assertRegex(fields[2], r"^[~:]?0?[0-7]{3,4}$", "line %d" % n)
            entries[fields[1]] = fields
        for path in ("/var/lib/depot", "/var/lib/depot/backups"):
            self.assertEqual(entries[path][:5], ["d", path, "0700", "depot", "depot"])

    def test_udev_rules_well_formed(self):
        if shutil.which("udevadm") and run(["udevadm", "verify", "--help"]).returncode == 0:
            r = run(["udevadm", "verify", os.path.join(UNITS, "60-depot.rules")])
            self.assertEqual(r.returncode, 0, r.stdout)
        # systemd 252 has no `udevadm verify`: check the syntax here.
        known = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "NAME", "SYMLINK", "SUBSYSTEM",
                 "SUBSYSTEMS", "DRIVER", "DRIVERS", "TAG", "TAGS", "PROGRAM", "RESULT",
                 "OWNER", "GROUP", "MODE", "LABEL", "GOTO", "OPTIONS", "ATTR", "ATTRS",
                 "SYSCTL", "ENV", "CONST", "TEST", "IMPORT", "RUN", "SECLABEL"}
        with_arg = {"ATTR", "ATTRS", "SYSCTL", "ENV", "CONST", "TEST", "IMPORT", "RUN",
                    "SECLABEL"}
        match_only = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS",
                      "DRIVER", "DRIVERS", "TAGS", "RESULT", "ATTRS", "CONST", "TEST"}
        pair = re.compile(r'\s*([A-Z]+)(\{[^}]*\})?\s*(==|!=|\+=|-=|:=|=)\s*'
                          r'"((?:[^"\\]|\\.)*)"\s*(,|$)')
        labels, gotos, groups, modes = set(), set(), set(), set()
        for n, line in enumerate(read("60-depot.rules").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            pos, matches, assigns = 0, 0, 0
            while pos < len(line):
                m = pair.match(line, pos)
                self.assertIsNotNone(m, "60-depot.rules:%d: bad syntax at %r" % (n, line[pos:]))
                key, arg, op, val, _ = m.groups()
                self.assertIn(key, known, "60-depot.rules:%d: unknown key %s" % (n, key))
                self.assertEqual(bool(arg), key in with_arg,
                                 "60-depot.rules:%d: %s{...} misuse" % (n, key))
                if op in ("==", "!="):
                    matches += 1
                else:
                    self.assertNotIn(key, match_only,
                                     "60-depot.rules:%d: %s can only be matched" % (n, key))
                    assigns += 1
                if key == "LABEL":
                    labels.add(val)
                elif key == "GOTO":
                    gotos.add(val)
                elif key == "GROUP":
                    groups.add(val)
                elif key == "MODE":
                    modes.add(val)
                pos = m.end()
            if line.lstrip().startswith("LABEL="):
                self.assertEqual((matches, assigns), (0, 1), "60-depot.rules:%d" % n)
                continue
            self.assertGreater(matches, 0, "60-depot.rules:%d: rule has no match" % n)
            self.assertGreater(assigns, 0, "60-depot.rules:%d: rule has no assignment" % n)
        self.assertLessEqual(gotos, labels, "GOTO without LABEL")
        self.assertEqual(groups, {"dialout", "lp"})
        self.assertEqual(modes, {"0660"})
        rules = read("60-depot.rules").lower()
        for vid in ("0a5f", "0c2e", "05e0", "05f9"):
            self.assertIn('attrs{idvendor}=="%s"' % vid, rules)
        self.assertIn("depot/$env{depot_name}", rules)


@unittest.skipIf(ANALYZE is None, "systemd-analyze not installed; skipping unit checks")
class SystemdAnalyze(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def copy(self, name):
        """A copy of the unit whose binaries exist here (/usr/bin/depotd and depotctl are
        not installed on the build machine): /bin/true stands in for them."""
        text = read(name)
        text = re.sub(r"/usr/bin/depot(d|ctl)\b", "/bin/true", text)
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def exposure(self, name):
        r = run([ANALYZE, "security", "--offline=yes", "--threshold=%d" % (MAX_EXPOSURE * 10),
                 self.copy(name)])
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        score = float(m.group(1))
        print("%s: exposure %.1f" % (name, score))
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertLessEqual(score, MAX_EXPOSURE, r.stdout)

    def test_depotd_exposure(self):
        self.exposure("depotd.service")

    def test_backup_exposure(self):
        self.exposure("depot-backup.service")

    def test_verify(self):
        paths = [self.copy(n) for n in ("depotd.service", "depot-backup.service",
                                        "depot-backup.timer")]
        # --man=no: the man pages come with the package, not installed here.
        r = run([ANALYZE, "verify", "--man=no"] + paths, cwd=self.tmp.name)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(r.stdout.strip(), "", r.stdout)

    def test_verify_real_unit_only_misses_binary(self):
        """The unmodified unit: the only complaint allowed is the missing /usr/bin/depotd."""
        r = run([ANALYZE, "verify", "--man=no", os.path.join(UNITS, "depotd.service")])
        rest = [l for l in r.stdout.splitlines() if l.strip() and
                l.strip() != "depotd.service: Command /usr/bin/depotd is not executable: "
                              "No such file or directory"]
        self.assertEqual(rest, [], r.stdout)


class SystemdTools(unittest.TestCase):
    @unittest.skipIf(shutil.which("systemd-sysusers") is None, "no systemd-sysusers")
    def test_sysusers_dry_run(self):
        with tempfile.TemporaryDirectory() as root:
            os.mkdir(os.path.join(root, "etc"))
            r = run(["systemd-sysusers", "--root=" + root, os.path.join(UNITS, "depot.sysusers")])
            self.assertEqual(r.returncode, 0, r.stdout)
            with open(os.path.join(root, "etc", "passwd")) as f:
                self.assertRegex(f.read(), r"(?m)^depot:x:\d+:\d+:[^:]*:/var/lib/depot:"
                                           r"/usr/sbin/nologin$")
            with open(os.path.join(root, "etc", "group")) as f:
                groups = f.read()
            self.assertRegex(groups, r"(?m)^dialout:x:\d+:depot$")
            self.assertRegex(groups, r"(?m)^lp:x:\d+:depot$")

            if os.geteuid() != 0 or shutil.which("systemd-tmpfiles") is None:
                return  # creating depot-owned directories needs root
            r = run(["systemd-tmpfiles", "--root=" + root, "--create",
                     os.path.join(UNITS, "depot.tmpfiles")])
            self.assertEqual(r.returncode, 0, r.stdout)
            for d in ("var/lib/depot", "var/lib/depot/backups"):
                st = os.stat(os.path.join(root, d))
                self.assertEqual(st.st_mode & 0o7777, 0o700, d)
                self.assertNotEqual(st.st_uid, 0, d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
