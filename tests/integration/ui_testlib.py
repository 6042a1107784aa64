"""Helpers for the browser tests of the web UI (test_ui_*.py): a depotd with the demo
catalogue and one user per role, and a runner for the Playwright scripts in tests/ui/.

The scripts use npm playwright-core (tests/package.json, installed with
`npm install --prefix <build>/tests/node` the first time, as the label tests do) to drive
Debian's Chromium (/usr/bin/chromium, headless; packaging/install-deps.sh installs it).
No browser is ever downloaded. A test is skipped, saying why, when node, npm or chromium
is missing or the install fails (no network). Screenshots of each screen are written to
<build>/tests/ui-artifacts/ (not committed)."""

import http.client
import json
import os
import shutil
import subprocess
import threading
import time

import depot_testlib as dt

UI_DIR = os.path.join(dt.SOURCE_DIR, "tests", "ui")
NODE_DIR = os.path.join(os.path.dirname(dt.BIN_DIR), "tests", "node")
ARTIFACTS = os.path.join(os.path.dirname(dt.BIN_DIR), "tests", "ui-artifacts")
CHROMIUM = "/usr/bin/chromium"
DEMO_CSV = os.path.join(dt.SOURCE_DIR, "packaging", "demo", "stock.csv")
PASSWORDS = {"packer": "packer-pass-1", "supervisor": "super-pass-1", "admin": "admin-pass-1"}
USERS = {"packer": "pat", "supervisor": "sue", "admin": "ada"}


def browser_missing():
    """None when node, playwright-core and chromium are ready, else the reason to skip."""
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            return f"{tool} not installed (packaging/install-deps.sh installs it)"
    if not os.access(CHROMIUM, os.X_OK):
        return "chromium not installed (packaging/install-deps.sh installs it)"
    if os.path.isdir(os.path.join(NODE_DIR, "node_modules", "playwright-core")):
        return None
    os.makedirs(NODE_DIR, exist_ok=True)
    shutil.copy(os.path.join(dt.SOURCE_DIR, "tests", "package.json"), NODE_DIR)
    p = subprocess.run(["npm", "install", "--prefix", NODE_DIR, "--no-audit", "--no-fund"],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        return f"npm install of playwright-core failed: {p.stderr.strip()[-300:]}"
    return None


class UiServer:
    """A depotd on loopback with the demo stock and the users pat (packer), sue
    (supervisor) and ada (admin), each with a password from PASSWORDS. With
    serial_scanner, station PACK-1 (printer ZEBRA-1) has scanner scan-1 on a PTY
    (self.pty) and depotd runs with the PTY shim. With printer_sim, ZEBRA-1 is a 4x6
    TCP printer played by depot-printer-sim (self.sim, tests/integration
    test_printer_worker.PrinterSim)."""

    def __init__(self, serial_scanner=False, printer_sim=False):
        self.tmp = dt.TempDataDir()
        self.pty = None
        self.sim = None
        d = self.tmp.data_dir
        self.ctl("init")
        self.ctl("stock", "import", DEMO_CSV)
        for role, name in USERS.items():
            self.ctl("user", "add", name, "--role", role, "--password", "-",
                     input=PASSWORDS[role])
        env = None
        if serial_scanner:
            link = os.path.join(self.tmp.root, "usb-Acme_Scanner_UI-if00")
            self.pty = dt.Pty(link)
            self.ctl("station", "add", "PACK-1", "--printer", "ZEBRA-1")
            self.ctl("scanner", "add", "scan-1", "--station", "PACK-1", "--port", link)
            env = dt.pty_shim_env()
        if printer_sim:
            from test_printer_worker import PrinterSim
            self.sim = PrinterSim(self.tmp.root, tcp=True)
            self.ctl("printer", "add", "ZEBRA-1", "--backend", "tcp", "--address",
                     self.sim.address, "--stock", "4x6", "--timeout-ms", "1000")
        config = self.tmp.write_config(rate_limit=100000, rate_burst=100000)
        self.port = dt.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.daemon = dt.Depotd("--data-dir", d, "--listen", f"127.0.0.1:{self.port}",
                                "--config", config, env=env)
        self.daemon.start()

    def ctl(self, *args, input=None):
        """depotctl --json ... on the server's data dir; the parsed output."""
        p = dt.run_depotctl("--data-dir", self.tmp.data_dir, "--json", *args, input=input,
                            check=True)
        return json.loads(p.stdout) if p.stdout.strip() else None

    def query(self, sql, *args):
        conn = self.tmp.connect()
        try:
            with conn:
                return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def issue_badge(self, user):
        """A new login badge for user, through the API as an admin token."""
        token = self.ctl("token", "create", f"badge-{user}", "--role", "admin")["token"]
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", f"/api/v1/users/{user}/badge",
                         headers={"Authorization": f"Bearer {token}"})
            r = conn.getresponse()
            body = r.read()
            assert r.status == 201, (r.status, body)
            return json.loads(body)["badge"]
        finally:
            conn.close()

    def order_create(self, external_id, number, *lines, ship_to=None):
        args = ["order", "create", "--external-id", external_id, "--number", number]
        for line in lines:
            args += ["--line", line]
        oid = self.ctl(*args)["id"]
        if ship_to:
            conn = self.tmp.connect()
            with conn:
                conn.execute("UPDATE orders SET ship_to = ? WHERE id = ?",
                             (json.dumps(ship_to), oid))
            conn.close()
        return oid

    def stop(self):
        try:
            self.daemon.stop()
        finally:
            if self.pty:
                self.pty.close()
            if self.sim:
                self.sim.stop()
            self.tmp.cleanup()


def run_script(name, server, timeout=90, **env):
    """Runs tests/ui/<name>.mjs against server; returns the JSON object the script prints
    last. A line "DO <json>" from the script asks for something outside the browser and
    is answered with "ok <unix ms when it was done>" on the script's stdin: {"pty": text} is a scan on the
    server's serial scanner (written to the PTY with a CR), {"pty_ctl": "unplug"|"plug"}
    pulls the scanner out or plugs it back, {"sim": command} a command
    to the printer simulator ("paper-out", "ok"). A failing script raises
    AssertionError with its output."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    full_env = dict(os.environ, NODE_DIR=NODE_DIR,
                    DEPOT_URL=server.url, CHROMIUM=CHROMIUM, ARTIFACTS=ARTIFACTS,
                    USERS=json.dumps(USERS), PASSWORDS=json.dumps(PASSWORDS),
                    **{k: str(v) for k, v in env.items()})
    started = time.monotonic()
    out, stderr = [], []
    with subprocess.Popen(["node", os.path.join(UI_DIR, name + ".mjs")], env=full_env,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, cwd=NODE_DIR) as p:
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        drain = threading.Thread(target=lambda: stderr.append(p.stderr.read()), daemon=True)
        drain.start()
        try:
            for line in p.stdout:
                if line.startswith("DO "):
                    req = json.loads(line[3:])
                    at = time.time() * 1000
                    if "pty" in req:
                        server.pty.write(req["pty"] + "\r")
                    elif "pty_ctl" in req:
                        getattr(server.pty, req["pty_ctl"])()  # "unplug" or "plug"
                    else:
                        server.sim.command(req["sim"])
                    p.stdin.write(f"ok {at:.3f}\n")
                    p.stdin.flush()
                else:
                    out.append(line.rstrip("\n"))
            p.wait()
        finally:
            timer.cancel()
            drain.join(5)
    took = time.monotonic() - started
    if p.returncode != 0:
        raise AssertionError(f"{name}.mjs failed after {took:.1f} s (exit {p.returncode})\n"
                             f"stdout:\n{chr(10).join(out)[-4000:]}\n"
                             f"stderr:\n{''.join(stderr)[-4000:]}")
    lines = [ln for ln in out if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else {}
