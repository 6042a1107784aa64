"""Helpers for Depot's integration tests: temp data dirs, running the real binaries,
and reading depotd's JSON log. Python 3 standard library only.

The binaries come from $DEPOT_BIN_DIR (ctest sets it; default: <checkout>/build/bin).
The environment the binaries see is cleaned of DEPOT_* and systemd variables, so a
developer's shell cannot change a test's outcome; pass `env=` to set what a test needs.

Typical use::

    import depot_testlib as dt

    with dt.TempDataDir() as tmp:
        with dt.Depotd.for_data_dir(tmp.data_dir) as daemon:  # waits for "started"
            dt.run_depotctl("--data-dir", tmp.data_dir, "verify", check=True)
            daemon.wait_for_log(module="expiry", msg=re.compile(r"^expired"))
        # leaving the block sends SIGTERM and fails the test unless depotd exits 0
"""

import json
import os
import re
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import threading
import time

SOURCE_DIR = os.environ.get(
    "DEPOT_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN_DIR = os.environ.get("DEPOT_BIN_DIR", os.path.join(SOURCE_DIR, "build", "bin"))

# Sanitizer builds start slowly; these bound waits that normally take milliseconds.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
RUN_TIMEOUT = 60.0

# Variables removed from the binaries' environment unless a test sets them.
_SCRUBBED = ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
             "CREDENTIALS_DIRECTORY", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")


class DepotdError(AssertionError):
    """depotd did not start, or did not exit as expected; the message has its stderr."""


def bin_path(name):
    """Absolute path of a built binary (depotd, depotctl, ...)."""
    path = os.path.join(BIN_DIR, name)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} not built (set DEPOT_BIN_DIR)")
    return path


def cmake_option(name):
    """The value of a cache entry (e.g. "WITH_SYSTEMD" -> "ON") of the build tree the
    binaries come from, or None if unknown: lets tests skip what a build left out."""
    cache = os.path.join(os.path.dirname(BIN_DIR), "CMakeCache.txt")
    try:
        with open(cache, encoding="utf-8") as f:
            for line in f:
                key, sep, value = line.rstrip("\n").partition("=")
                if sep and key.split(":", 1)[0] == name:
                    return value
    except OSError:
        pass
    return None


def clean_env(env=None):
    """os.environ without DEPOT_* and systemd variables, updated with env (a value of
    None removes that variable)."""
    out = {k: v for k, v in os.environ.items()
           if not k.startswith("DEPOT_") and k not in _SCRUBBED}
    for k, v in (env or {}).items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = str(v)
    return out


def run(name, *args, env=None, input=None, timeout=RUN_TIMEOUT, check=False):
    """Runs a built binary to completion; returns subprocess.CompletedProcess with text
    stdout and stderr. With check=True a non-zero exit raises AssertionError showing both."""
    proc = subprocess.run([bin_path(name), *map(str, args)], env=clean_env(env),
                          input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{name} {' '.join(map(str, args))} exited "
                             f"{proc.returncode}\nstdout:\n{proc.stdout}\n"
                             f"stderr:\n{proc.stderr}")
    return proc


def run_depotctl(*args, **kwargs):
    """run("depotctl", ...)."""
    return run("depotctl", *args, **kwargs)


def run_depotd(*args, **kwargs):
    """run("depotd", ...): for runs that end by themselves (--version, bad config)."""
    return run("depotd", *args, **kwargs)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_log(text):
    """The JSON objects among the lines of text (other lines are skipped)."""
    entries = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            entries.append(obj)
    return entries


def log_matches(entry, **want):
    """True if entry has every wanted field. A wanted value may be a string (equal),
    a compiled regex (searched) or a callable (called with the field's value)."""
    for key, expected in want.items():
        if key not in entry:
            return False
        value = entry[key]
        if isinstance(expected, re.Pattern):
            if not isinstance(value, str) or not expected.search(value):
                return False
        elif callable(expected):
            if not expected(value):
                return False
        elif value != expected:
            return False
    return True


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate() until it returns something true, and returns that; raises
    AssertionError naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class TempDataDir:
    """A temporary directory for one test, removed on exit.

    root      the temporary directory
    data_dir  root/data: not created, so depotd/depotctl create it
    db_path   data_dir/depot.db
    """

    def __init__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="depot-test-")
        self.root = self._tmp.name
        self.data_dir = os.path.join(self.root, "data")
        self.db_path = os.path.join(self.data_dir, "depot.db")

    def write(self, name, text):
        """Writes text to root/name and returns the path (config files, CSVs, ...)."""
        path = os.path.join(self.root, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def write_config(self, name="depotd.conf", **options):
        """Writes a depotd config file of `key = value` lines; returns its path."""
        return self.write(name, "".join(f"{k} = {v}\n" for k, v in options.items()))

    def connect(self):
        """A sqlite3 connection to the data dir's database (foreign keys on, waits for
        locks). Close it when done so it does not hold the database."""
        conn = sqlite3.connect(self.db_path, timeout=10)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def cleanup(self):
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


class Depotd:
    """A depotd running in the background; a thread collects its stderr log.

    Use as a context manager: entering starts it and waits for the start-up log line,
    leaving stops it with SIGTERM and (unless the block raised) fails if the exit status
    is not 0, which also catches sanitizer reports at shutdown.
    """

    # The log line that means start-up is complete.
    STARTED = {"module": "depotd", "msg": re.compile(r"^started\b")}

    def __init__(self, *args, env=None, cwd=None):
        """args are passed to depotd exactly as given; env as for clean_env(); cwd is
        the working directory (default: the test's)."""
        self.args = [bin_path("depotd"), *map(str, args)]
        self.env = clean_env(env)
        self.cwd = cwd
        self.proc = None
        self.started = None  # the start-up log entry, once seen
        self._lines = []     # every stderr line, raw
        self._entries = []   # the JSON ones, parsed
        self._cond = threading.Condition()
        self._reader = None

    @classmethod
    def for_data_dir(cls, data_dir, *args, env=None):
        """depotd --data-dir data_dir --listen 127.0.0.1:<free port> args..."""
        return cls("--data-dir", data_dir, "--listen", f"127.0.0.1:{free_port()}", *args,
                   env=env)

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=START_TIMEOUT):
        """Starts depotd and waits for the start-up line; returns self. Raises
        DepotdError (with the stderr so far) if it exits or times out first."""
        self.proc = subprocess.Popen(self.args, env=self.env, cwd=self.cwd,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, errors="replace")
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        try:
            self.started = self.wait_for_log(timeout=timeout, **self.STARTED)
        except DepotdError:
            self._kill()
            raise
        return self

    def _read_stderr(self):
        for line in self.proc.stderr:
            line = line.rstrip("\n")
            entry = parse_log(line)
            with self._cond:
                self._lines.append(line)
                self._entries.extend(entry)
                self._cond.notify_all()
        self.proc.stderr.close()
        with self._cond:
            self._cond.notify_all()

    def stderr(self):
        """All stderr text so far."""
        with self._cond:
            return "\n".join(self._lines)

    def logs(self, since=0):
        """The JSON log entries so far (from index since, see mark())."""
        with self._cond:
            return list(self._entries[since:])

    def mark(self):
        """The index of the next log entry, to wait only for entries after this point."""
        with self._cond:
            return len(self._entries)

    def wait_for_log(self, timeout=10.0, since=0, **want):
        """Waits for a log entry (from index since) matching want (see log_matches) and
        returns it. Raises DepotdError if depotd exits first or on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for entry in self._entries[since:]:
                    if log_matches(entry, **want):
                        return entry
                remaining = deadline - time.monotonic()
                exited = self.proc.poll() is not None and not self._reader.is_alive()
                if exited or remaining <= 0:
                    why = (f"exited with status {self.proc.returncode}" if exited
                           else f"no match within {timeout}s")
                    raise DepotdError(f"depotd log {want!r}: {why}\nstderr:\n"
                                      + "\n".join(self._lines))
                self._cond.wait(min(remaining, 0.2))

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        """Waits for depotd to exit and its stderr to be read; returns the exit status."""
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout)
        return rc

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT, check=True):
        """Sends sig and waits for the exit; returns the status. With check, a status
        other than 0 (or a timeout, after which it is killed) raises DepotdError."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise DepotdError(f"depotd did not exit within {timeout}s of {sig!r}\n"
                              f"stderr:\n{self.stderr()}")
        if check and rc != 0:
            raise DepotdError(f"depotd exited with status {rc}\nstderr:\n{self.stderr()}")
        return rc

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(STOP_TIMEOUT)

    def __enter__(self):
        return self.start() if self.proc is None else self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        elif self.proc.poll() is None:
            self._kill()


# ---- Serial devices on pseudo-terminals ------------------------------------------------

TEST_BIN_DIR = os.environ.get("DEPOT_TEST_BIN_DIR",
                              os.path.join(os.path.dirname(BIN_DIR), "tests", "bin"))


def _asan_runtime(binary):
    """The ASan runtime library a binary is linked with (from ldd), or None."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for line in out.splitlines():
        name, _, rest = line.strip().partition(" => ")
        if name.startswith("libasan.so") and rest:
            return rest.split(" (")[0].strip()
    return None


def _preload_env(library, target, binary, env):
    """env plus LD_PRELOAD of tests/bin/<library>. For an ASan build the ASan runtime
    must be preloaded first (ASan refuses to start otherwise); this finds it with ldd,
    so the same call works for every build type."""
    shim = os.path.join(TEST_BIN_DIR, library)
    if not os.path.exists(shim):
        raise FileNotFoundError(f"{shim} not built (target {target})")
    preload = [shim]
    asan = _asan_runtime(bin_path(binary))
    if asan:
        preload.insert(0, asan)
    out = dict(env or {})
    out["LD_PRELOAD"] = " ".join(preload)
    return out


def pty_shim_env(binary="depotd", env=None):
    """env (a dict for clean_env / Depotd(env=...)) plus LD_PRELOAD of the test-only
    PTY shim (tests/pty_shim), so the binary's libserialport accepts pseudo-terminals."""
    return _preload_env("libdepot_pty_shim.so", "depot_pty_shim", binary, env)


def powercut_env(data_dir, log_dir, binary="depotd", env=None):
    """env plus LD_PRELOAD of the power-cut shim (tests/powercut_shim): every write to a
    file under data_dir is undoable until that file is fsync'd; the undo logs go to
    log_dir. Kill the process with SIGKILL, then power_cut_restore(log_dir)."""
    out = _preload_env("libdepot_powercut_shim.so", "depot_powercut_shim", binary, env)
    out["DEPOT_POWERCUT_DIR"] = os.path.realpath(data_dir)
    out["DEPOT_POWERCUT_LOG"] = log_dir
    return out


_UNDO_HEAD = struct.Struct("<QQQQ")  # magic, offset, old size, saved bytes
_UNDO_MAGIC = 0x31646E7574756370


def power_cut_restore(log_dir):
    """After the process under powercut_env() was killed: puts every tracked file back
    as it was at its last fsync, as a power cut would have left it (the undo records
    replayed newest first). Returns {path: undo records replayed}."""
    undone = {}
    for name in sorted(os.listdir(log_dir)):
        path = name.replace("%", "/")
        with open(os.path.join(log_dir, name), "rb") as f:
            log = f.read()
        records, at = [], 0
        while at < len(log):
            magic, offset, old_size, saved = _UNDO_HEAD.unpack_from(log, at)
            if magic != _UNDO_MAGIC:
                raise ValueError(f"corrupt undo log {name} at {at}")
            at += _UNDO_HEAD.size
            records.append((offset, old_size, log[at:at + saved]))
            at += saved
        if not records or not os.path.exists(path):
            continue
        with open(path, "r+b") as f:
            for offset, old_size, old in reversed(records):
                f.seek(offset)
                f.write(old)
                f.truncate(old_size)
        undone[path] = len(records)
        os.unlink(os.path.join(log_dir, name))
    return undone


class Pty:
    """A pseudo-terminal standing in for a serial device. The test holds the master end;
    the slave is published at `link` (a symlink, as /dev/serial/by-id/... is) for depotd
    to open through libserialport (run depotd with pty_shim_env()). The slave starts in
    raw mode so nothing is echoed or translated before depotd configures it.

    unplug() closes the master, so depotd sees the device vanish (POLLHUP, read() 0,
    EIO) and removes the link; plug() creates a new PTY at the same link (a replug)."""

    def __init__(self, link):
        self.link = link
        self.master = None
        self.slave_name = None
        self.plug()

    def plug(self):
        import tty
        if self.master is not None:
            raise AssertionError("already plugged")
        master, slave = os.openpty()
        tty.setraw(slave)
        self.slave_name = os.ttyname(slave)
        os.close(slave)
        self.master = master
        tmp = self.link + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(self.slave_name, tmp)
        os.replace(tmp, self.link)
        return self

    def write(self, data):
        """Writes bytes (or str, as UTF-8) as if the device sent them."""
        if isinstance(data, str):
            data = data.encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view):]

    def read(self, timeout=5.0, size=65536):
        """Bytes the host sent to the device within timeout (b"" if none)."""
        import select
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.master, size)
        except OSError:  # EIO: nobody has the slave open
            return b""

    def unplug(self):
        if self.master is not None:
            os.close(self.master)
            self.master = None
        if os.path.lexists(self.link):
            os.unlink(self.link)

    def close(self):
        self.unplug()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
