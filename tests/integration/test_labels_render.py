"""Real-ZPL check of `depotctl label ... --stdout` and of labels queued through
POST /api/v1/labels (SKU, bin, and the order/tote QR label): each label is rendered by an
independent renderer (npm zpl-renderer-js) and its barcodes decoded from the image by
zbarimg (Debian zbar-tools); the decoded data must be what was intended, GS1 AIs
included.

Needs node, npm and zbarimg (packaging/install-deps.sh installs them); the renderer is
installed with `npm install --prefix <build>/tests/node` from tests/package.json. The
test is skipped, saying why, when a tool is missing or the install fails (no network)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

RENDER_JS = os.path.join(dt.SOURCE_DIR, "tests", "integration", "render_zpl.js")
NODE_DIR = os.path.join(os.path.dirname(dt.BIN_DIR), "tests", "node")
STOCK_MM = {"4x6": (101.6, 152.4), "2x1": (50.8, 25.4)}
DOTS_PER_MM = {"203": 8, "300": 12}
ZBAR_NS = "{http://zbar.sourceforge.net/2008/barcode}"

SSCC = "106141411234567897"
SKU, SKU_NAME, SKU_GTIN = "MUG-BLUE_1", "Mug ^XZ~JR_ blue – 0,3 l", "4006381333931"
BIN = "A-01-03"


def renderer_missing():
    """None when the renderer and zbarimg can run, else the reason to skip."""
    for tool in ("node", "npm", "zbarimg"):
        if not shutil.which(tool):
            return f"{tool} not installed (packaging/install-deps.sh installs it)"
    if os.path.isdir(os.path.join(NODE_DIR, "node_modules", "zpl-renderer-js")):
        return None
    os.makedirs(NODE_DIR, exist_ok=True)
    shutil.copy(os.path.join(dt.SOURCE_DIR, "tests", "package.json"), NODE_DIR)
    p = subprocess.run(["npm", "install", "--prefix", NODE_DIR, "--no-audit", "--no-fund"],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        return f"npm install of zpl-renderer-js failed: {p.stderr.strip()[-300:]}"
    return None


_renderer = None


def _render(zpl, w, h, dpmm, png):
    """Renders through one long-lived `node render_zpl.js --serve` (started on first use,
    ended with the test process), so the WebAssembly renderer starts once per test file."""
    global _renderer
    if _renderer is None or _renderer.poll() is not None:
        env = dict(os.environ, NODE_PATH=os.path.join(NODE_DIR, "node_modules"))
        _renderer = subprocess.Popen(["node", RENDER_JS, "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)
    _renderer.stdin.write(json.dumps({"zpl": zpl, "width_mm": w, "height_mm": h,
                                      "dpmm": dpmm, "out": png}) + "\n")
    _renderer.stdin.flush()
    answer = _renderer.stdout.readline().strip()
    if answer != "ok":
        raise AssertionError(f"render_zpl.js: {answer or 'exited'}")


def decode(zpl, stock, dpi):
    """Renders zpl on the stock at dpi and returns zbarimg's symbols as
    [(type, data, modifiers)]."""
    w, h = STOCK_MM[stock]
    with tempfile.TemporaryDirectory(prefix="depot-label-") as tmp:
        png = os.path.join(tmp, "label.png")
        _render(zpl, w, h, DOTS_PER_MM[dpi], png)
        p = subprocess.run(["zbarimg", "--nodbus", "-q", "--xml", png], capture_output=True,
                           text=True, timeout=60)
    if p.returncode not in (0, 4):  # 4: no symbol found
        raise AssertionError(f"zbarimg failed: {p.stderr}")
    if p.returncode == 4:
        return []
    root = ET.fromstring(p.stdout)
    return [(s.get("type"), s.find(f"{ZBAR_NS}data").text, s.get("modifiers") or "")
            for s in root.iter(f"{ZBAR_NS}symbol")]


def gs1_ais(data):
    """(AI, value) pairs of an element string made of fixed-length AI 00 only."""
    m = re.fullmatch(r"00(\d{18})", data)
    return [("00", m.group(1))] if m else []


SKIP_REASON = renderer_missing()


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class LabelRenderTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = dt.TempDataDir()
        dt.run_depotctl("--data-dir", cls.tmp.data_dir, "init", check=True)
        csv = cls.tmp.write("stock.csv", "sku,name,gtin,location,on_hand\n"
                                         f"{SKU},\"{SKU_NAME}\",{SKU_GTIN},MAIN,5\n")
        dt.run_depotctl("--data-dir", cls.tmp.data_dir, "stock", "import", csv, check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def label(self, *args):
        p = dt.run_depotctl("--data-dir", self.tmp.data_dir, "label", *args, "--stdout",
                            check=True)
        self.assertEqual(p.stdout.count("^XA"), 1)
        self.assertEqual(p.stdout.count("^XZ"), 1)
        return p.stdout

    def test_sku_label_decodes_to_sku(self):
        for stock in ("2x1", "4x6"):
            for dpi in ("203", "300"):
                with self.subTest(stock=stock, dpi=dpi):
                    zpl = self.label("sku", SKU, "--stock", stock, "--dpi", dpi)
                    self.assertNotIn("~JR", zpl)
                    self.assertIn(f"GTIN {SKU_GTIN}", zpl)
                    self.assertEqual(decode(zpl, stock, dpi), [("CODE-128", SKU, "")])

    def test_bin_label_decodes_to_code(self):
        for stock in ("2x1", "4x6"):
            for dpi in ("203", "300"):
                with self.subTest(stock=stock, dpi=dpi):
                    zpl = self.label("bin", BIN, "--stock", stock, "--dpi", dpi)
                    self.assertEqual(decode(zpl, stock, dpi), [("CODE-128", BIN, "")])

    def test_sscc_label_is_gs1_128_with_ai_00(self):
        for stock in ("4x6", "2x1"):
            for dpi in ("203", "300"):
                with self.subTest(stock=stock, dpi=dpi):
                    zpl = self.label("sscc", SSCC, "--stock", stock, "--dpi", dpi)
                    symbols = decode(zpl, stock, dpi)
                    self.assertEqual(len(symbols), 1, symbols)
                    kind, data, modifiers = symbols[0]
                    self.assertEqual(kind, "CODE-128")
                    self.assertIn("GS1", modifiers)  # FNC1 in first position
                    self.assertEqual(gs1_ais(data), [("00", SSCC)])

    def test_json_stdout_carries_the_same_zpl(self):
        p = dt.run_depotctl("--data-dir", self.tmp.data_dir, "--json", "label", "bin", BIN,
                            "--stdout", check=True)
        self.assertEqual(json.loads(p.stdout)["zpl"], self.label("bin", BIN))


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class ApiLabelRenderTest(unittest.TestCase):
    """Labels queued through POST /api/v1/labels for printers of each stock and dpi: the
    payload the print worker would send renders and decodes to what was asked (the order
    or tote QR label included)."""

    def test_tote_sku_and_bin_labels_from_the_api(self):
        import http.client
        import ui_testlib as ut
        srv = ut.UiServer()
        self.addCleanup(srv.stop)
        token = srv.ctl("token", "create", "labels", "--role", "supervisor")["token"]
        for stock in ("4x6", "2x1"):
            for dpi in ("203", "300"):
                name = f"P-{stock}-{dpi}"
                srv.ctl("printer", "add", name, "--backend", "file", "--address",
                        os.path.join(srv.tmp.root, name + ".zpl"), "--stock", stock,
                        "--dpi", dpi, "--disabled")
                labels = [("tote", "TOTE-0042", ("QR-Code", "TOTE-0042"))]
                if (stock, dpi) == ("2x1", "300"):  # the CLI tests render these everywhere
                    labels += [("sku", "COF-ESP-250", ("CODE-128", "COF-ESP-250")),
                               ("bin", "A-01-1", ("CODE-128", "A-01-1"))]
                for kind, code, want in labels:
                    with self.subTest(stock=stock, dpi=dpi, kind=kind):
                        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
                        conn.request("POST", "/api/v1/labels",
                                     body=json.dumps({"kind": kind, "code": code,
                                                      "printer": name}),
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
                        r = conn.getresponse()
                        doc = json.loads(r.read())
                        conn.close()
                        self.assertEqual(r.status, 201, doc)
                        zpl = bytes(srv.query("SELECT payload FROM print_jobs WHERE id = ?",
                                              doc["job_id"])[0][0]).decode()
                        self.assertEqual([sym[:2] for sym in decode(zpl, stock, dpi)], [want])


if __name__ == "__main__":
    unittest.main()
