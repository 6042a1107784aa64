"""Integration tests of `depotctl gs1 parse` through the real binary: text and --json
output, error documents and exit statuses for raw scans on stdin."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

GS = "\x1d"
SCAN = "]C101095060001343521715123110ABC123" + GS + "21XYZ"


def gs1(scan, *args):
    return dt.run_depotctl(*args, "gs1", "parse", input=scan)


class Gs1ParseTest(unittest.TestCase):
    def test_text_lists_symbology_and_ais(self):
        p = gs1(SCAN + "\r\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines(), [
            "symbology: gs1-128", "(01) 09506000134352", "(17) 151231",
            "(10) ABC123", "(21) XYZ"])
        self.assertEqual(p.stderr, "")

    def test_json_document(self):
        p = gs1(SCAN + "\n", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {
            "symbology": "gs1-128",
            "ais": [{"ai": "01", "value": "09506000134352"},
                    {"ai": "17", "value": "151231"},
                    {"ai": "10", "value": "ABC123"},
                    {"ai": "21", "value": "XYZ"}]})

    def test_json_after_the_command_too(self):
        p = dt.run_depotctl("gs1", "parse", "--json", input=SCAN)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["symbology"], "gs1-128")

    def test_ean13_is_gtin14(self):
        p = gs1("]E04006381333931\n", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {
            "symbology": "ean-13", "ais": [{"ai": "01", "value": "04006381333931"}]})

    def test_plain_code128_has_data(self):
        p = gs1("]C0BIN-A-01\r", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout),
                         {"symbology": "code128", "ais": [], "data": "BIN-A-01"})
        p = gs1("]C0BIN-A-01")
        self.assertEqual(p.stdout.splitlines(), ["symbology: code128", "data: BIN-A-01"])

    def test_invalid_scans_exit_1_with_reason(self):
        cases = {
            "]C10109506000134353": "check digit",
            "]C117241331": "date",
            "]C19912345": "unknown AI",
            "]C10109506000134352xy": "offset 19",
            "": "empty",
            "]C0A\x00B": "NUL",
            "]C0" + "A" * 600: "longer than 512",
        }
        for scan, reason in cases.items():
            with self.subTest(scan=scan[:30]):
                p = gs1(scan)
                self.assertEqual(p.returncode, 1)
                self.assertEqual(p.stdout, "")
                self.assertTrue(p.stderr.startswith("depotctl: "), p.stderr)
                self.assertIn(reason, p.stderr)
                p = gs1(scan, "--json")
                self.assertEqual(p.returncode, 1)
                err = json.loads(p.stdout)["error"]
                self.assertEqual(err["code"], "invalid_barcode")
                self.assertIn(reason, err["message"])

    def test_only_one_line_end_is_stripped(self):
        self.assertEqual(gs1(SCAN + "\n\n").returncode, 1)

    def test_help_and_usage(self):
        p = dt.run_depotctl("gs1", "parse", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("gs1 parse", p.stdout)
        self.assertIn("gs1 parse", dt.run_depotctl("--help").stdout)
        self.assertEqual(dt.run_depotctl("gs1", "parse", "extra", input=SCAN).returncode, 2)


if __name__ == "__main__":
    unittest.main()
