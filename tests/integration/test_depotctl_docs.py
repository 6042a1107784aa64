"""depotctl's command list and its documentation agree: every command `depotctl --help`
lists has its own --help, appears in the man page depotctl(1), and is offered by the bash
completion (group, then subcommand). A new command without docs fails here."""

import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

MAN = os.path.join(dt.SOURCE_DIR, "packaging", "man", "depotctl.1")
COMPLETION = os.path.join(dt.SOURCE_DIR, "packaging", "depotctl.bash-completion")
WORD = re.compile(r"^[a-z][a-z0-9-]*$")


def listed_commands():
    """[(group_or_command, subcommand_or_None)] from `depotctl --help`."""
    out = dt.run_depotctl("--help", check=True).stdout
    section = out.split("Commands:\n", 1)[1]
    cmds = []
    for line in section.splitlines():
        m = re.match(r"^  ([a-z0-9][^ ]*)(?: ([^ ]+))?", line)
        if not m or line.startswith("   "):
            continue
        sub = m.group(2) if m.group(2) and WORD.match(m.group(2)) else None
        cmds.append((m.group(1), sub))
    return cmds


def complete(*words):
    """What the completion offers after `depotctl words...` (the last word being typed)."""
    probe = ('source "$1"; shift; COMP_WORDS=(depotctl "$@"); COMP_CWORD=$#; '
             '_depotctl; printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "-c", probe, "probe", COMPLETION, *words],
                       capture_output=True, text=True, timeout=30)
    return set(p.stdout.split())


class DepotctlDocsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.commands = listed_commands()
        with open(MAN, encoding="utf-8") as f:
            cls.man = f.read()

    def test_the_list_is_not_empty(self):
        self.assertIn(("init", None), self.commands)
        self.assertIn(("channel", "add"), self.commands)

    def test_every_command_has_help(self):
        for group, sub in self.commands:
            words = [group] + ([sub] if sub else [])
            with self.subTest(command=" ".join(words)):
                p = dt.run_depotctl(*words, "--help")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertTrue(p.stdout.startswith(
                    "usage: depotctl [--data-dir DIR] [--json] " + " ".join(words)))

    def test_every_command_is_in_the_man_page(self):
        for group, sub in self.commands:
            words = " ".join([group] + ([sub] if sub else [])).replace("-", r"\-")
            with self.subTest(command=words):
                self.assertRegex(self.man, re.escape(words) + r"\b")

    def test_every_command_is_completed(self):
        if shutil.which("bash") is None:
            self.skipTest("bash not installed")
        top = complete("")
        for group, sub in self.commands:
            with self.subTest(command=f"{group} {sub or ''}"):
                self.assertIn(group, top)
                if sub:
                    self.assertIn(sub, complete(group, ""))


if __name__ == "__main__":
    unittest.main()
