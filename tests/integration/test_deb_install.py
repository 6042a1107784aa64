"""Install test of the Debian package in a throwaway root: the machine's own root seen
through an overlay (a private mount namespace; every write lands in a temporary upper
directory, the host is untouched). In it, dpkg installs the package, upgrades it to a newer
version, removes it and purges it, and each step is checked: files, the `depot` user, that
`depotd --version` runs, and that data and configuration survive everything but purge.

Needs root (mount namespaces, overlayfs, chroot); skipped otherwise."""

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
UPGRADE_SUFFIX = "+upgradetest1"

# Runs in a new mount namespace: the overlay root, with /proc and /dev, then the command
# chrooted into it. $1 = overlay dir (upper, work, root inside), the rest = the command.
IN_ROOT = r"""
set -e
o="$1"; shift
mount -t overlay overlay -o "lowerdir=/,upperdir=$o/upper,workdir=$o/work" "$o/root"
mount -t proc proc "$o/root/proc"
mount --rbind /dev "$o/root/dev"
mount -t tmpfs tmpfs "$o/root/run"
exec chroot "$o/root" "$@"
"""


def project_version():
    with open(os.path.join(dt.SOURCE_DIR, "CMakeLists.txt"), encoding="utf-8") as f:
        return re.search(r"project\(\s*depot\s+VERSION\s+([0-9.]+)", f.read()).group(1)


def run(*args, **kw):
    kw.setdefault("timeout", 300)
    return subprocess.run(args, capture_output=True, text=True, **kw)


class DebInstallTest(unittest.TestCase):
    tmp = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root for a mount namespace and chroot")
        for tool in ("cpack", "unshare", "chroot", "dpkg"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f"{tool} not installed")
        config = os.path.join(BUILD_DIR, "CPackConfig.cmake")
        if not os.path.exists(config):
            raise unittest.SkipTest(f"{config} missing (build dir not configured)")
        cls.tmp = tempfile.mkdtemp(prefix="depot-install-")
        probe = cls.overlay_probe()
        if probe:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise unittest.SkipTest(f"no overlay root here: {probe}")
        cls.version = project_version()
        cls.deb_old = cls.build_deb(config, "old", None)
        cls.deb_new = cls.build_deb(config, "new", cls.version + UPGRADE_SUFFIX)
        cls.ovl = os.path.join(cls.tmp, "ovl")
        for d in ("upper", "work", "root"):
            os.makedirs(os.path.join(cls.ovl, d))

    @classmethod
    def overlay_probe(cls):
        """"" if an overlay root can be mounted here, else why not."""
        o = os.path.join(cls.tmp, "probe")
        for d in ("upper", "work", "root"):
            os.makedirs(os.path.join(o, d))
        p = run("unshare", "-m", "sh", "-c", IN_ROOT, "sh", o, "true")
        shutil.rmtree(o, ignore_errors=True)
        return "" if p.returncode == 0 else (p.stderr.strip() or "unshare failed")

    @classmethod
    def build_deb(cls, config, name, version):
        out = os.path.join(cls.tmp, name)
        cmd = ["cpack", "-G", "DEB", "--config", config, "-B", out,
               # Sanitizer builds may not pass dpkg-shlibdeps; this test is about dpkg's
               # handling of the package, not its computed Depends (test_deb_package).
               "-D", "CPACK_DEBIAN_PACKAGE_SHLIBDEPS=OFF"]
        if version:
            cmd += ["-D", f"CPACK_DEBIAN_PACKAGE_VERSION={version}"]
        p = run(*cmd, cwd=BUILD_DIR)
        if p.returncode != 0:
            raise AssertionError(f"cpack failed:\n{p.stdout}\n{p.stderr}")
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        # Inside the root the host's /tmp is visible through the overlay's lower layer.
        return os.path.join(out, debs[0])

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def in_root(self, *cmd, ok=True):
        p = run("unshare", "-m", "sh", "-c", IN_ROOT, "sh", self.ovl, *cmd)
        if ok:
            self.assertEqual(p.returncode, 0,
                             f"{' '.join(cmd)}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    def sh(self, script, ok=True):
        return self.in_root("/bin/sh", "-c", script, ok=ok)

    def exists(self, path):
        return self.sh(f"test -e {path}", ok=False).returncode == 0

    def installed_version(self):
        p = self.in_root("dpkg-query", "-W", "-f", "${Status} ${Version}", "depot", ok=False)
        return p.stdout.strip()

    def test_install_upgrade_remove_purge(self):
        # ---- install ----
        self.in_root("dpkg", "-i", self.deb_old)
        self.assertEqual(self.installed_version(), f"install ok installed {self.version}")
        p = self.in_root("/usr/bin/depotd", "--version")
        self.assertIn(self.version, p.stdout + p.stderr)
        self.in_root("/usr/bin/depotctl", "--help")
        user = self.in_root("getent", "passwd", "depot").stdout.split(":")
        self.assertEqual(user[5:7], ["/var/lib/depot", "/usr/sbin/nologin\n"])
        self.assertEqual(self.sh("stat -c '%U %a' /var/lib/depot").stdout.split(),
                         ["depot", "700"])
        self.assertEqual(self.sh("stat -c '%U %G %a' /etc/depot/depotd.conf").stdout.split(),
                         ["root", "depot", "640"])
        for path in ("/lib/systemd/system/depotd.service", "/usr/share/depot/ui/index.html",
                     "/usr/share/man/man8/depotd.8.gz"):
            self.assertTrue(self.exists(path), path)

        # ---- data and a local config edit, then upgrade ----
        self.sh("depotctl --data-dir /var/lib/depot init && "
                "echo '# site setting kept across upgrades' >> /etc/depot/depotd.conf")
        self.in_root("dpkg", "-i", "--force-confold", self.deb_new)
        self.assertEqual(self.installed_version(),
                         f"install ok installed {self.version}{UPGRADE_SUFFIX}")
        self.in_root("depotctl", "--data-dir", "/var/lib/depot", "verify")
        self.assertIn("site setting kept", self.sh("cat /etc/depot/depotd.conf").stdout)

        # ---- remove keeps data, configuration and the user ----
        self.in_root("dpkg", "-r", "depot")
        self.assertFalse(self.exists("/usr/bin/depotd"))
        self.assertTrue(self.exists("/var/lib/depot/depot.db"))
        self.assertTrue(self.exists("/etc/depot/depotd.conf"))
        self.in_root("getent", "passwd", "depot")
        self.assertTrue(self.installed_version().startswith("deinstall ok config-files"))

        # ---- purge deletes them ----
        self.in_root("dpkg", "-P", "depot")
        self.assertFalse(self.exists("/var/lib/depot"))
        self.assertFalse(self.exists("/etc/depot"))
        self.assertEqual(self.installed_version(), "")

        # Nothing of it reached the host.
        self.assertFalse(os.path.exists("/usr/bin/depotd"))


if __name__ == "__main__":
    unittest.main()
