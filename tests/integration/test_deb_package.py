"""Integration test of the Debian package: packs the already-built tree with CPack's DEB
generator into a temp dir and checks the control fields, maintainer scripts, file list,
that the extracted binaries run, and lintian's verdict (when lintian is installed)."""

import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

BUILD_DIR = os.path.dirname(os.path.abspath(dt.BIN_DIR))
SYSTEMD_SRC = os.path.join(dt.SOURCE_DIR, "systemd")

# Lintian errors accepted, each with its reason (see docs/PACKAGING.md). None so far.
LINTIAN_ACCEPTED_ERRORS = {}

# systemd/ source file -> where the package must put it (only checked if the source exists).
OPTIONAL_FILES = {
    "depotd.service": "lib/systemd/system/depotd.service",
    "depot-backup.service": "lib/systemd/system/depot-backup.service",
    "depot-backup.timer": "lib/systemd/system/depot-backup.timer",
    "depot.sysusers": "usr/lib/sysusers.d/depot.conf",
    "depot.tmpfiles": "usr/lib/tmpfiles.d/depot.conf",
    "60-depot.rules": "lib/udev/rules.d/60-depot.rules",
    "depot-backup.sh": "usr/lib/depot/depot-backup.sh",
}

REQUIRED_FILES = [
    "usr/bin/depotd",
    "usr/bin/depotctl",
    "usr/share/depot/ui/index.html",
    "etc/depot/depotd.conf",
    "usr/share/doc/depot/copyright",
    "usr/share/doc/depot/README.md",
    "usr/share/doc/depot/changelog.gz",
    "usr/share/man/man8/depotd.8.gz",
    "usr/share/man/man1/depotctl.1.gz",
    "usr/share/bash-completion/completions/depotctl",
]


def project_version():
    with open(os.path.join(dt.SOURCE_DIR, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\(\s*depot\s+VERSION\s+([0-9.]+)", f.read())
    return m.group(1)


def run(*args, **kw):
    kw.setdefault("timeout", 120)
    return subprocess.run(args, capture_output=True, text=True, **kw)


class DebPackageTest(unittest.TestCase):
    tmp = None
    deb = None
    shlibdeps = True

    @classmethod
    def setUpClass(cls):
        for tool in ("cpack", "dpkg-deb"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f"{tool} not installed")
        config = os.path.join(BUILD_DIR, "CPackConfig.cmake")
        if not os.path.exists(config):
            raise unittest.SkipTest(f"{config} missing (build dir not configured)")
        cls.tmp = tempfile.mkdtemp(prefix="depot-deb-")
        out = os.path.join(cls.tmp, "out")
        cmd = ["cpack", "-G", "DEB", "--config", config, "-B", out]
        p = run(*cmd, cwd=BUILD_DIR, timeout=300)
        if p.returncode != 0:
            # dpkg-shlibdeps can refuse some sanitizer builds; the package is still worth
            # checking without computed Depends (the release build, `make deb`, has them).
            cls.shlibdeps = False
            p = run(*cmd, "-D", "CPACK_DEBIAN_PACKAGE_SHLIBDEPS=OFF", cwd=BUILD_DIR,
                    timeout=300)
        if p.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError(f"cpack failed:\n{p.stdout}\n{p.stderr}")
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(out, debs[0])
        cls.root = os.path.join(cls.tmp, "root")
        cls.control = os.path.join(cls.tmp, "control")
        subprocess.run(["dpkg-deb", "-x", cls.deb, cls.root], check=True)
        subprocess.run(["dpkg-deb", "-e", cls.deb, cls.control], check=True)

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def field(self, name):
        p = run("dpkg-deb", "-f", self.deb, name)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    def file_list(self):
        p = run("dpkg-deb", "-c", self.deb)
        self.assertEqual(p.returncode, 0, p.stderr)
        # "-rwxr-xr-x root/root 1234 2026-01-01 00:00 ./usr/bin/depotd"
        return {line.split(None, 5)[5].lstrip("./").rstrip("/"): line.split()[:2]
                for line in p.stdout.splitlines() if line.strip()}

    # ---- control ----
    def test_file_name_and_fields(self):
        version = project_version()
        arch = run("dpkg", "--print-architecture").stdout.strip()
        self.assertEqual(os.path.basename(self.deb), f"depot_{version}_{arch}.deb")
        self.assertEqual(self.field("Package"), "depot")
        self.assertEqual(self.field("Version"), version)
        self.assertEqual(self.field("Section"), "misc")
        self.assertEqual(self.field("Architecture"), arch)
        self.assertRegex(self.field("Maintainer"), r"^[^<>]+ <[^<>@]+@[^<>]+>$")
        description = self.field("Description").splitlines()
        self.assertEqual(description[0], "on-premise warehouse daemon")
        self.assertGreater(len(description), 2, "extended description missing")

    def test_depends_computed_by_shlibdeps(self):
        if not self.shlibdeps:
            self.skipTest("dpkg-shlibdeps refused this (sanitizer) build")
        depends = self.field("Depends")
        for lib in ("libc6", "libsqlite3-0", "libcjson1", "libwebsockets"):
            self.assertIn(lib, depends)

    def test_info_lists_control_members(self):
        p = run("dpkg-deb", "-I", self.deb)
        self.assertEqual(p.returncode, 0, p.stderr)
        for member in ("control", "md5sums", "conffiles", "postinst", "prerm", "postrm"):
            self.assertRegex(p.stdout, rf"\b{member}\b")

    def test_conffile(self):
        with open(os.path.join(self.control, "conffiles"), encoding="utf-8") as f:
            self.assertEqual(f.read().split(), ["/etc/depot/depotd.conf"])
        with open(os.path.join(self.root, "etc/depot/depotd.conf"), encoding="utf-8") as f,\
             open(os.path.join(dt.SOURCE_DIR, "daemon/depotd.conf.example"),
                  encoding="utf-8") as g:
            self.assertEqual(f.read(), g.read())

    def test_maintainer_scripts(self):
        for name in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.control, name)
            self.assertTrue(os.access(path, os.X_OK), f"{name} not executable")
            self.assertEqual(run("sh", "-n", path).returncode, 0, f"{name}: syntax")
            with open(path, encoding="utf-8") as f:
                text = f.read()
            self.assertIn("set -e", text)
            # systemctl calls that need a running systemd are guarded.
            if "daemon-reload" in text or "try-restart" in text:
                self.assertIn("[ -d /run/systemd/system ]", text)
        with open(os.path.join(self.control, "postrm"), encoding="utf-8") as f:
            postrm = f.read()
        # Data and config go only in the purge branch of the case statement.
        branches = re.split(r"^\s*([a-z|-]+)\)\s*$", postrm, flags=re.M)
        for label, body in zip(branches[1::2], branches[2::2]):
            body = body.split(";;")[0]
            if "purge" in label.split("|"):
                self.assertIn("rm -rf /var/lib/depot /etc/depot", body)
            else:
                self.assertNotIn("/var/lib/depot", body, f"postrm {label} touches data")
        with open(os.path.join(self.control, "prerm"), encoding="utf-8") as f:
            self.assertIn('"$1" = "remove"', f.read())

    # ---- contents ----
    def test_file_list(self):
        files = self.file_list()
        for path in REQUIRED_FILES:
            self.assertIn(path, files)
        for src, dest in OPTIONAL_FILES.items():
            if os.path.exists(os.path.join(SYSTEMD_SRC, src)):
                self.assertIn(dest, files, f"systemd/{src} not packaged")
        for path, (mode, owner) in files.items():
            self.assertEqual(owner, "root/root", path)
        self.assertTrue(files["usr/bin/depotd"][0].startswith("-rwxr-xr-x"))
        self.assertTrue(files["etc/depot/depotd.conf"][0].startswith("-rw-r--r--"))
        self.assertFalse([p for p in files if "build" in p.split("/")[0:1]])

    def test_man_pages(self):
        for path, th in (("usr/share/man/man8/depotd.8.gz", ".TH DEPOTD 8"),
                         ("usr/share/man/man1/depotctl.1.gz", ".TH DEPOTCTL 1")):
            with gzip.open(os.path.join(self.root, path), "rt", encoding="utf-8") as f:
                self.assertIn(th, f.read())

    def test_bash_completion(self):
        if shutil.which("bash") is None:
            self.skipTest("bash not installed")
        script = os.path.join(self.root, "usr/share/bash-completion/completions/depotctl")
        probe = ('source "$1"; COMP_WORDS=(depotctl "$2" "$3"); COMP_CWORD=$(( $# - 1 )); '
                 '[ -z "$3" ] && COMP_WORDS=(depotctl "$2") && COMP_CWORD=1; '
                 '_depotctl; printf "%s\\n" "${COMPREPLY[@]}"')
        p = run("bash", "-c", probe, "probe", script, "sto", "")
        self.assertEqual(p.stdout.split(), ["stock"], p.stderr)
        p = run("bash", "-c", probe, "probe", script, "st", "")
        self.assertEqual(sorted(p.stdout.split()), ["station", "stock"], p.stderr)
        p = run("bash", "-c", probe, "probe", script, "order", "re")
        self.assertEqual(sorted(p.stdout.split()), ["release", "reserve"], p.stderr)

    def test_extracted_binaries_run(self):
        p = run(os.path.join(self.root, "usr/bin/depotd"), "--version", timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(project_version(), p.stdout)
        p = run(os.path.join(self.root, "usr/bin/depotctl"), "--help", timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Commands:", p.stdout)

    # ---- lintian ----
    def test_lintian(self):
        if shutil.which("lintian") is None:
            self.skipTest("lintian not installed")
        p = run("lintian", "--no-cfg", self.deb, timeout=180)
        tags = [line for line in p.stdout.splitlines() if re.match(r"^[EWIPX]: ", line)]
        if tags:
            print("\nlintian:\n  " + "\n  ".join(tags), file=sys.stderr)
        errors = [t for t in tags if t.startswith("E: ")
                  and t.split()[2] not in LINTIAN_ACCEPTED_ERRORS]
        self.assertEqual(errors, [], "lintian errors (justify in docs/PACKAGING.md "
                         "and LINTIAN_ACCEPTED_ERRORS, or fix)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
