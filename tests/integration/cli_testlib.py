"""What the tests of channels, carriers and OAuth installs share on top of depot_testlib:
a TestCase on a fresh, initialised data dir with depotctl and SQL helpers, one request
to depotd's API, and the check that no secret appears in clear in outputs, logs or the
data dir's files."""

import http.client
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402


def sql(tmp, query, args=()):
    """Runs query on tmp's database (committed) and returns all rows."""
    conn = tmp.connect()
    try:
        with conn:
            return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def api_request(port, token, method, path, body=None):
    """One call to depotd's API on 127.0.0.1:port, as token (None: no Authorization),
    with body sent as JSON. Returns (status, raw answer bytes)."""
    h = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def data_dir_texts(data_dir, db_only=False):
    """The files of data_dir (only depot.db* with db_only) as latin-1 text."""
    texts = []
    for name in os.listdir(data_dir):
        path = os.path.join(data_dir, name)
        if os.path.isfile(path) and (not db_only or name.startswith("depot.db")):
            with open(path, "rb") as f:
                texts.append(f.read().decode("latin-1"))
    return texts


def assert_no_secret(case, secrets, blobs):
    """Fails case if any of secrets appears in any of blobs."""
    for secret in secrets:
        for blob in blobs:
            case.assertNotIn(secret, blob)


class DataDirTest(unittest.TestCase):
    """Each test on a fresh data dir that `depotctl init` created."""

    def setUp(self):
        self.tmp = dt.TempDataDir()
        self.addCleanup(self.tmp.cleanup)
        self.ctl("init")

    def ctl(self, *args, ok=True, input=None):
        """Runs depotctl on the data dir; with ok, asserts it succeeded."""
        proc = dt.run_depotctl("--data-dir", self.tmp.data_dir, *args, input=input)
        if ok:
            self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc

    def sql(self, query, args=()):
        return sql(self.tmp, query, args)
