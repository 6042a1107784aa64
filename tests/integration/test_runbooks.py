"""The runbooks stay true to the product: every depotctl command they tell an operator to
run exists (its --help answers), every runbook is linked from the index and every link
points at a file, and the systemd units and journal fields they name are the real ones."""

import glob
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

RUNBOOKS = os.path.join(dt.SOURCE_DIR, "docs", "runbooks")
# `depotctl [--global-flag [value]]... command [subcommand]`, or the `dctl` alias the
# first-install runbook defines; only inside code (fenced blocks or `inline`).
INVOCATION = re.compile(r"\b(?:depotctl|dctl)((?: --(?:data-dir|json)(?: \S+)?)*)"
                        r" ([a-z][a-z0-9-]*)(?: ([a-z][a-z-]*))?")


def code_spans(text):
    """The text of fenced code blocks and inline `code` spans."""
    blocks = re.findall(r"```.*?\n(.*?)```", text, re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return blocks + inline


def runbook_texts():
    for path in sorted(glob.glob(os.path.join(RUNBOOKS, "*.md"))):
        with open(path, encoding="utf-8") as f:
            yield os.path.basename(path), f.read()


class RunbooksTest(unittest.TestCase):
    def test_every_depotctl_command_named_exists(self):
        p = dt.run_depotctl("--help", check=True)
        commands = set(re.findall(r"^  ([a-z][a-z0-9-]*)", p.stdout, re.M))
        checked = set()
        for name, text in runbook_texts():
            for span in code_spans(text):
                for m in INVOCATION.finditer(span):
                    cmd, sub = m.group(2), m.group(3)
                    if cmd not in commands:
                        self.fail(f"{name}: `depotctl {cmd}` is not a depotctl command")
                    args = [cmd] + ([sub] if sub else [])
                    p = dt.run_depotctl(*args, "--help")
                    if p.returncode != 0 and sub:  # `backup FILE`: sub is an argument
                        p = dt.run_depotctl(cmd, "--help")
                    self.assertEqual(p.returncode, 0,
                                     f"{name}: depotctl {' '.join(args)} --help: {p.stderr}")
                    checked.add(" ".join(args))
        self.assertGreater(len(checked), 15, checked)

    def test_index_links_every_runbook_and_links_resolve(self):
        with open(os.path.join(RUNBOOKS, "README.md"), encoding="utf-8") as f:
            index = f.read()
        linked = set(re.findall(r"\]\(([^)#]+\.md)\)", index))
        present = {n for n, _ in runbook_texts()} - {"README.md"}
        self.assertEqual(linked, present)
        for name, text in runbook_texts():
            for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
                path = os.path.normpath(os.path.join(RUNBOOKS, target))
                self.assertTrue(os.path.exists(path), f"{name} links to missing {target}")

    def test_units_and_journal_fields_named_are_real(self):
        units = {os.path.basename(p) for p in glob.glob(
            os.path.join(dt.SOURCE_DIR, "systemd", "*.service")) + glob.glob(
            os.path.join(dt.SOURCE_DIR, "systemd", "*.timer"))}
        # journald fields are the log's keys upper-cased; these are the ones depotd sets
        fields = {"ORDER_ID", "REQUEST_ID", "SKU", "CHANNEL", "INBOX_ID", "TOPIC", "PRINTER",
                  "SCANNER", "STATION", "CARRIER", "JOB_ID", "OUTBOX_ID", "SHIPMENT_ID",
                  "LOCATION", "ACTOR", "PEER", "DEPOT_MODULE", "PRIORITY"}
        sources = " ".join(open(p, encoding="utf-8").read() for p in glob.glob(
            os.path.join(dt.SOURCE_DIR, "*", "*.c")))
        for name, text in runbook_texts():
            for unit in re.findall(r"\b(depot[a-z-]*\.(?:service|timer))\b", text):
                self.assertIn(unit, units, f"{name} names unit {unit}")
            for field in re.findall(r"journalctl[^\n`]*?\b([A-Z][A-Z_]+)=", text):
                self.assertIn(field, fields, f"{name}: journal field {field}")
                if field not in ("PRIORITY", "DEPOT_MODULE"):
                    self.assertIn(f'{{"{field.lower()}"', sources,
                                  f"{name}: no log line sets {field}")


if __name__ == "__main__":
    unittest.main()
