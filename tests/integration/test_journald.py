"""depotd's journald output, checked at the journal's own socket: in a private mount
namespace a fresh /run holds /run/systemd/journal/socket, bound by this test, so what
depotd sends with log_format = journal (sd_journal_sendv, the native protocol) arrives
here. An order action through the API must be findable the way an operator looks for it,
`journalctl -u depotd ORDER_ID=<id>`: upper-cased fields ORDER_ID, REQUEST_ID (equal to
the X-Request-Id the client got), the module, priority and identifier; likewise SKU= for a
stock adjustment and CHANNEL= for a webhook delivery and its ingestion.

Needs root (mount namespace); skipped otherwise."""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402
import webhook_helpers as wh  # noqa: E402

SOCKET = "/run/systemd/journal/socket"
CSV = "sku,name,gtin,location,on_hand\nMUG-1,Mug,,MAIN,10\n"


def parse_native(datagram):
    """One journal native-protocol datagram -> dict (KEY=value lines, or KEY\\n + 64-bit
    little-endian length + value for values with newlines)."""
    fields, i = {}, 0
    while i < len(datagram):
        nl = datagram.index(b"\n", i)
        line = datagram[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack("<Q", datagram[nl + 1:nl + 9])
            v = datagram[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        fields[k.decode()] = v.decode("utf-8", "replace")
    return fields


def inner(root):
    """Runs inside the namespace: prints {"entries": [...], "request_id", "order_id",
    "stderr"} as JSON."""
    os.makedirs(os.path.dirname(SOCKET), exist_ok=True)
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(SOCKET)
    sink.settimeout(0.2)
    data_dir = os.path.join(root, "data")
    ctl = lambda *a: dt.run_depotctl("--data-dir", data_dir, *a, check=True)  # noqa: E731
    ctl("init")
    csv = os.path.join(root, "stock.csv")
    with open(csv, "w", encoding="utf-8") as f:
        f.write(CSV)
    ctl("stock", "import", csv)
    token = json.loads(ctl("--json", "token", "create", "ops", "--role", "admin").stdout)["token"]
    order = json.loads(ctl("--json", "order", "create", "--external-id", "J-1",
                           "--line", "MUG-1:2").stdout)
    ctl("channel", "add", "shopify", "--shop", wh.SHOP, "--token", "shpat_x",
        "--webhook-secret", wh.SHOP_SECRET)
    port = dt.free_port()
    conf = os.path.join(root, "depotd.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write("log_format = journal\n")
    proc = subprocess.Popen([dt.bin_path("depotd"), "--data-dir", data_dir, "--listen",
                             f"127.0.0.1:{port}", "--config", conf],
                            env=dt.clean_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    dt.wait_until(lambda: _get(base + "/healthz"), timeout=20, what="depotd up")
    req = urllib.request.Request(f"{base}/api/v1/orders/{order['id']}/reserve", data=b"",
                                 method="POST", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        request_id = r.headers["X-Request-Id"]
    req = urllib.request.Request(f"{base}/api/v1/skus/MUG-1/adjust", method="POST",
                                 data=json.dumps({"location": "MAIN", "delta": 3,
                                                  "reason": "cycle count"}).encode(),
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        adjust_request_id = r.headers["X-Request-Id"]
    body = wh.order_body(order_id=5501, lines=(("L1", "MUG-1", 1),))
    req = urllib.request.Request(f"{base}/webhooks/shopify", data=body, method="POST",
                                 headers=wh.shopify_headers(body, "orders/create"))
    with urllib.request.urlopen(req, timeout=10) as r:
        webhook_request_id = r.headers["X-Request-Id"]
    entries, deadline = [], time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            entries.append(parse_native(sink.recv(65536)))
        except socket.timeout:
            if any(e.get("DEPOT_MODULE") == "inbox" for e in entries):
                break
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    print(json.dumps({"entries": entries, "request_id": request_id, "order_id": order["id"],
                      "adjust_request_id": adjust_request_id,
                      "webhook_request_id": webhook_request_id,
                      "stderr": stderr, "rc": proc.returncode}))


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


class JournaldFieldsTest(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            self.skipTest("needs root and unshare for a private /run")
        self.tmp = dt.TempDataDir()
        self.addCleanup(self.tmp.cleanup)

    def test_order_action_is_findable_by_order_and_request_id(self):
        script = ('mount -t tmpfs tmpfs /run && exec "$@"')
        p = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", sys.executable,
                            os.path.abspath(__file__), "--inner", self.tmp.root],
                           capture_output=True, text=True, timeout=120, env=os.environ)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout.strip().splitlines()[-1])
        entries = out["entries"]
        self.assertEqual(out["rc"], 0, out["stderr"])
        self.assertTrue(entries, "nothing reached the journal socket")
        for e in entries:
            self.assertEqual(e["SYSLOG_IDENTIFIER"], "depotd")
            self.assertIn(e["PRIORITY"], {"3", "4", "6", "7"})
            self.assertIn("DEPOT_MODULE", e)
            self.assertIn("MESSAGE", e)
        self.assertTrue(any(e["MESSAGE"].startswith("started") for e in entries))
        story = [e for e in entries if e.get("ORDER_ID") == str(out["order_id"])]
        self.assertEqual(len(story), 1, entries)
        self.assertEqual(story[0]["REQUEST_ID"], out["request_id"])
        self.assertEqual(story[0]["PRIORITY"], "6")
        self.assertEqual(story[0]["DEPOT_MODULE"], "orders")
        self.assertIn("reserve done", story[0]["MESSAGE"])
        # `journalctl -u depotd SKU=MUG-1`: the manual adjustment, with its request id
        sku = [e for e in entries if e.get("SKU") == "MUG-1"]
        self.assertEqual(len(sku), 1, entries)
        self.assertEqual(sku[0]["REQUEST_ID"], out["adjust_request_id"])
        self.assertIn("adjust MUG-1 at MAIN by +3 done", sku[0]["MESSAGE"])
        # `journalctl -u depotd CHANNEL=shopify:1`: the webhook delivery ingested, carrying
        # the id of the request that delivered it
        channel = [e for e in entries if e.get("CHANNEL") == "shopify:1"]
        self.assertEqual({e["DEPOT_MODULE"] for e in channel}, {"inbox"}, channel)
        self.assertEqual({e["REQUEST_ID"] for e in channel}, {out["webhook_request_id"]})
        ingested = [e for e in channel if e["DEPOT_MODULE"] == "inbox"]
        self.assertTrue(ingested[0].get("ORDER_ID"), ingested)
        # Nothing went to stderr as JSON lines: the journal took every entry.
        self.assertEqual(dt.parse_log(out["stderr"]), [])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        inner(sys.argv[2])
    else:
        unittest.main()
