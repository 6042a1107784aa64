"""Integration tests of the web server's own parts against the real depotd on loopback:
/healthz, /readyz, /metrics (counts, promtool, the loopback-only rule), the WebSocket
endpoint (authentication, hello, a stock event after an API adjust, a slow client that
never reads), static files (types, caching, ETag/304, HEAD, traversal attempts and
symlinks out of the UI root), security headers, and HTTPS with a generated certificate."""

import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import stat
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

SECRET = "TOP-SECRET-OUTSIDE-THE-UI-ROOT"
INDEX_HTML = "<!DOCTYPE html><html><head><title>t</title></head><body>ui</body></html>\n"
APP_JS = "export const x = 1;\n"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PASSWORD = "packer-password-1"


class Response:
    """status, lower-case headers, raw body, and JSON when the body is JSON."""

    def __init__(self, r):
        self.status = r.status
        self.headers = {k.lower(): v for k, v in r.getheaders()}
        self.body = r.read()
        self.json = None
        if self.headers.get("content-type", "").startswith("application/json") and self.body:
            self.json = json.loads(self.body)


class WebSocket:
    """A minimal RFC 6455 client: the upgrade handshake, then unmasked server frames in,
    masked frames out. rcvbuf shrinks the socket's receive buffer (a slow reader)."""

    def __init__(self, port, headers=None, rcvbuf=None, path="/ws"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(30)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1]) if status_line else 0
        self.headers = {}
        for line in header_lines:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.body = b""
        if self.status == 101:
            want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            if self.headers.get("sec-websocket-accept") != want:
                raise AssertionError(f"bad Sec-WebSocket-Accept: {self.headers}")
        else:
            n = int(self.headers.get("content-length", "0"))
            while len(self.buf) < n:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                self.buf += chunk
            self.body = self.buf[:n]

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("WebSocket closed by the server")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self):
        b0, b1 = self._read(2)
        if b1 & 0x80:
            raise AssertionError("server frames must not be masked")
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x80, b0 & 0x0F, self._read(n)

    def _send(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def recv(self, timeout=20):
        """The next text message, parsed as JSON (pings answered, fragments joined)."""
        self.sock.settimeout(timeout)
        parts = []
        while True:
            fin, opcode, payload = self._frame()
            if opcode == 0x9:
                self._send(0xA, payload)
                continue
            if opcode == 0x8:
                raise ConnectionError(f"WebSocket closed: {payload!r}")
            if opcode in (0x1, 0x0):
                parts.append(payload)
                if fin:
                    return json.loads(b"".join(parts))

    def recv_type(self, type_, timeout=20):
        """Skips messages until one of type_ arrives; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {type_!r} message within {timeout}s")
            msg = self.recv(left)
            if msg.get("type") == type_:
                return msg

    def close(self):
        self.sock.close()


class Server:
    """A depotd with a supervisor token, a stocked SKU, a copy of a UI dir holding a
    symlink that leads out of it, and high rate limits (the flood test needs them)."""

    def __init__(self, listen_host="127.0.0.1", **config):
        self.tmp = dt.TempDataDir()
        d = self.tmp.data_dir
        dt.run_depotctl("--data-dir", d, "init", check=True)
        out = dt.run_depotctl("--data-dir", d, "--json", "token", "create", "ws-test",
                              "--role", "supervisor", check=True).stdout
        self.token = json.loads(out)["token"]
        dt.run_depotctl("--data-dir", d, "user", "add", "pia", "--role", "packer",
                        "--password", "-", input=PASSWORD + "\n", check=True)
        csv = self.tmp.write("stock.csv", "sku,name,gtin,location,on_hand\n"
                                          "WIDGET-1,Widget,,MAIN,1000000\n")
        dt.run_depotctl("--data-dir", d, "stock", "import", csv, check=True)
        self.ui_dir = os.path.join(self.tmp.root, "ui")
        os.mkdir(self.ui_dir)
        self.write_ui("index.html", INDEX_HTML)
        self.write_ui("app.js", APP_JS)
        self.write_ui(".hidden.txt", SECRET)
        self.tmp.write("secret.txt", SECRET)
        os.symlink(os.path.join(self.tmp.root, "secret.txt"),
                   os.path.join(self.ui_dir, "leak.txt"))
        os.symlink("/etc/passwd", os.path.join(self.ui_dir, "passwd.txt"))
        options = {"ui_dir": self.ui_dir, "rate_limit": 100000, "rate_burst": 100000}
        options.update(config)
        self.config = self.tmp.write_config(**options)
        self.host = listen_host
        self.port = dt.free_port()
        self.tls = bool(config.get("tls"))
        self.daemon = None

    def write_ui(self, name, text):
        with open(os.path.join(self.ui_dir, name), "w", encoding="utf-8") as f:
            f.write(text)

    def start(self):
        self.daemon = dt.Depotd("--data-dir", self.tmp.data_dir, "--listen",
                                f"{self.host}:{self.port}", "--config", self.config)
        self.daemon.start()
        return self

    def stop(self):
        if self.daemon:
            self.daemon.stop()
            self.daemon = None

    def cleanup(self):
        try:
            self.stop()
        finally:
            self.tmp.cleanup()

    def connection(self, timeout=30):
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, auth=False):
        h = dict(headers or {})
        if auth:
            h["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=h)
            return Response(conn.getresponse())
        finally:
            conn.close()

    def adjust(self, conn, delta):
        """POST /api/v1/skus/WIDGET-1/adjust on a kept-alive connection."""
        conn.request("POST", "/api/v1/skus/WIDGET-1/adjust",
                     body=json.dumps({"location": "MAIN", "delta": delta,
                                      "reason": "ws test"}).encode(),
                     headers={"Authorization": f"Bearer {self.token}",
                              "Content-Type": "application/json"})
        return Response(conn.getresponse())

    def auth_header(self):
        return {"Authorization": f"Bearer {self.token}"}


def metric_value(text, name, **labels):
    """The value of one sample in a Prometheus text page, or 0 if absent."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if want else "") + r" (\S+)$"
    for line in text.splitlines():
        m = re.match(pattern, line)
        if m:
            return float(m.group(1))
    return 0.0


class WebServerTest(unittest.TestCase):
    srv = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def assert_error(self, r, status, code):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.json["error"]["code"], code, r.body)

    # ---- health and metrics ---------------------------------------------------------

    def test_healthz_and_readyz(self):
        r = self.srv.request("GET", "/healthz")
        self.assertEqual((r.status, r.json), (200, {"status": "ok"}))
        r = self.srv.request("GET", "/readyz")
        self.assertEqual((r.status, r.json), (200, {"status": "ready"}))
        self.assertEqual(r.headers["cache-control"], "no-store")

    def test_security_headers_everywhere(self):
        for path in ("/healthz", "/", "/no-such-file.js", "/api/v1/skus"):
            r = self.srv.request("GET", path)
            csp = r.headers.get("content-security-policy", "")
            self.assertIn("frame-ancestors 'none'", csp, path)
            self.assertIn("default-src 'self'", csp, path)
            self.assertNotIn("unsafe-inline", csp, path)
            self.assertEqual(r.headers.get("x-content-type-options"), "nosniff", path)

    def test_metrics_counts_requests_and_passes_promtool(self):
        before = self.srv.request("GET", "/metrics")
        self.assertEqual(before.status, 200)
        self.assertTrue(before.headers["content-type"].startswith("text/plain; version=0.0.4"))
        for _ in range(3):
            self.srv.request("GET", "/healthz")
        self.srv.request("GET", "/readyz")
        self.srv.request("GET", "/api/v1/no-such-endpoint")
        after = self.srv.request("GET", "/metrics")
        b, a = before.body.decode(), after.body.decode()

        def delta(name, **labels):
            return metric_value(a, name, **labels) - metric_value(b, name, **labels)

        self.assertEqual(delta("depot_http_requests_total", route="healthz", method="GET",
                               code="200"), 3)
        self.assertEqual(delta("depot_http_requests_total", route="readyz", method="GET",
                               code="200"), 1)
        self.assertEqual(delta("depot_http_requests_total", route="metrics", method="GET",
                               code="200"), 1)
        self.assertEqual(delta("depot_http_requests_total", route="not_found", method="GET",
                               code="404"), 1)
        self.assertEqual(delta("depot_http_request_duration_seconds_count", route="healthz"), 3)
        self.assertEqual(metric_value(a, "depot_http_request_duration_seconds_bucket",
                                      route="healthz", le="+Inf"),
                         metric_value(a, "depot_http_request_duration_seconds_count",
                                      route="healthz"))
        for family in ("depot_websocket_clients", "depot_websocket_dropped_total",
                       "depot_reservations_active", "depot_database_size_bytes"):
            self.assertRegex(a, rf"(?m)^# TYPE {family} ")
        self.assertIn('depot_outbox_events{status="dead"} 0', a)
        self.assertIn('depot_orders{status="open"} 0', a)
        self.assertGreater(metric_value(a, "depot_database_size_bytes"), 0)
        self.assertRegex(a, r'(?m)^depot_build_info\{version="[^"]+"\} 1$')

        promtool = shutil.which("promtool")
        if not promtool:
            self.skipTest("promtool not installed (Debian package 'prometheus'): "
                          "the page was not linted")
        p = subprocess.run([promtool, "check", "metrics"], input=after.body,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    # ---- static files ----------------------------------------------------------------

    def test_index_and_assets_with_types_and_caching(self):
        r = self.srv.request("GET", "/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body.decode(), INDEX_HTML)
        self.assertEqual(r.headers["content-type"], "text/html; charset=utf-8")
        self.assertEqual(r.headers["cache-control"], "no-cache")
        self.assertRegex(r.headers["etag"], r'^"[0-9a-f]+-[0-9a-f]+"$')
        same = self.srv.request("GET", "/index.html")
        self.assertEqual((same.status, same.headers["etag"]), (200, r.headers["etag"]))
        js = self.srv.request("GET", "/app.js")
        self.assertEqual((js.status, js.body.decode()), (200, APP_JS))
        self.assertEqual(js.headers["content-type"], "text/javascript; charset=utf-8")
        self.assertEqual(js.headers["cache-control"], "public, max-age=3600")

    def test_etag_gives_304_and_head_gives_no_body(self):
        etag = self.srv.request("GET", "/app.js").headers["etag"]
        r = self.srv.request("GET", "/app.js", headers={"If-None-Match": etag})
        self.assertEqual((r.status, r.body), (304, b""))
        self.assertEqual(r.headers["etag"], etag)
        r = self.srv.request("GET", "/app.js", headers={"If-None-Match": f'"x", W/{etag}'})
        self.assertEqual(r.status, 304)
        r = self.srv.request("GET", "/app.js", headers={"If-None-Match": '"other"'})
        self.assertEqual(r.status, 200)
        r = self.srv.request("HEAD", "/app.js")
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(int(r.headers["content-length"]), len(APP_JS))
        self.assertEqual(r.headers["etag"], etag)

    def test_changed_file_gets_a_new_etag(self):
        self.srv.write_ui("changing.css", "a{}")
        first = self.srv.request("GET", "/changing.css")
        time.sleep(0.01)
        self.srv.write_ui("changing.css", "a{color:red}")
        second = self.srv.request("GET", "/changing.css")
        self.assertEqual(second.headers["content-type"], "text/css; charset=utf-8")
        self.assertNotEqual(first.headers["etag"], second.headers["etag"])
        r = self.srv.request("GET", "/changing.css",
                             headers={"If-None-Match": first.headers["etag"]})
        self.assertEqual((r.status, r.body), (200, b"a{color:red}"))

    def test_traversal_attempts_are_not_found_and_leak_nothing(self):
        attempts = ["/../etc/passwd", "/%2e%2e/etc/passwd", "/%252e%252e/",
                    "/%252e%252e/etc/passwd", "/..%2f..%2fetc/passwd",
                    "/..%2f..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e%2f%2e%2e%2fsecret.txt",
                    "/..\\..\\secret.txt", "/%5c..%5csecret.txt", "/leak.txt", "/passwd.txt",
                    "/.hidden.txt", "/./leak.txt", "//etc/passwd", "/ui/../secret.txt",
                    "/index.html%00.js", "/missing.html"]
        for path in attempts:
            for method in ("GET", "HEAD"):
                conn = self.srv.connection()
                try:
                    conn.putrequest(method, path, skip_accept_encoding=True)
                    conn.endheaders()
                    r = Response(conn.getresponse())
                except http.client.RemoteDisconnected:
                    # libwebsockets drops a request whose URI decodes to a NUL itself.
                    self.assertIn("%00", path)
                    continue
                finally:
                    conn.close()
                self.assertIn(r.status, (400, 404), f"{method} {path}: {r.status}")
                self.assertNotIn(SECRET.encode(), r.body, path)
                self.assertNotIn(b"root:", r.body, path)

    def test_unknown_file_types_are_not_served(self):
        self.srv.write_ui("notes.md", "# notes")
        self.assertEqual(self.srv.request("GET", "/notes.md").status, 404)

    # ---- WebSocket -------------------------------------------------------------------

    def test_anonymous_and_bad_token_upgrades_are_refused(self):
        for headers in ({}, {"Authorization": "Bearer dpt_" + "0" * 64},
                        {"Cookie": "depot_session=" + "0" * 64}):
            ws = WebSocket(self.srv.port, headers)
            try:
                self.assertEqual(ws.status, 401, headers)
                self.assertEqual(json.loads(ws.body)["error"]["code"], "unauthenticated")
            finally:
                ws.close()
        ws = WebSocket(self.srv.port, self.srv.auth_header(), path="/not-ws")
        try:
            self.assertEqual(ws.status, 404)
        finally:
            ws.close()

    def test_cookie_upgrades_must_come_from_our_own_origin(self):
        r = self.srv.request("POST", "/api/v1/login", {"name": "pia", "password": PASSWORD})
        self.assertEqual(r.status, 200, r.body)
        cookie = re.match(r"(depot_session=[0-9a-f]+)", r.headers["set-cookie"]).group(1)
        evil = WebSocket(self.srv.port, {"Cookie": cookie, "Origin": "http://evil.example"})
        try:
            self.assertEqual(evil.status, 403)
            self.assertEqual(json.loads(evil.body)["error"]["code"], "forbidden")
        finally:
            evil.close()
        ours = WebSocket(self.srv.port, {"Cookie": cookie,
                                         "Origin": f"http://127.0.0.1:{self.srv.port}"})
        try:
            self.assertEqual(ours.status, 101)
            hello = ours.recv()
            self.assertEqual((hello["type"], hello["data"]["role"]), ("hello", "packer"))
        finally:
            ours.close()

    def test_hello_then_stock_event_after_an_api_adjust(self):
        ws = WebSocket(self.srv.port, self.srv.auth_header())
        try:
            self.assertEqual(ws.status, 101)
            hello = ws.recv()
            self.assertEqual(hello["type"], "hello")
            self.assertEqual(hello["data"]["role"], "supervisor")
            self.assertRegex(hello["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            conn = self.srv.connection()
            try:
                r = self.srv.adjust(conn, 5)
            finally:
                conn.close()
            self.assertIn(r.status, (200, 201), r.body)
            event = ws.recv_type("stock", timeout=10)
            self.assertIn("WIDGET-1", json.dumps(event["data"]))
            m = self.srv.request("GET", "/metrics").body.decode()
            self.assertGreaterEqual(metric_value(m, "depot_websocket_clients"), 1)
        finally:
            ws.close()

    def test_a_client_that_never_reads_does_not_block_the_server(self):
        flood = 3000
        slow = WebSocket(self.srv.port, self.srv.auth_header(), rcvbuf=4096)
        self.assertEqual(slow.status, 101)
        watcher = WebSocket(self.srv.port, self.srv.auth_header())
        self.assertEqual(watcher.recv()["type"], "hello")
        latencies, watched = [], {"stock": 0, "resync": 0}
        stop = threading.Event()

        def probe():
            while not stop.is_set():
                t0 = time.monotonic()
                r = self.srv.request("GET", "/healthz")
                latencies.append((time.monotonic() - t0, r.status))
                time.sleep(0.05)

        def watch():
            while watched["stock"] < flood:
                msg = watcher.recv(timeout=30)
                if msg["type"] in watched:
                    watched[msg["type"]] += 1

        threads = [threading.Thread(target=probe), threading.Thread(target=watch)]
        for t in threads:
            t.start()
        conn = self.srv.connection()
        try:
            for i in range(flood):
                r = self.srv.adjust(conn, 1 if i % 2 == 0 else -1)
                self.assertIn(r.status, (200, 201), r.body)
        finally:
            conn.close()
            stop.set()
            for t in threads:
                t.join(60)
        try:
            # The slow client, read at last: its early events, then a resync.
            resync = slow.recv_type("resync", timeout=30)
            self.assertEqual(resync["data"]["reason"], "slow client")
        finally:
            slow.close()
            watcher.close()
        # The client that kept reading saw every event and no resync.
        self.assertEqual(watched, {"stock": flood, "resync": 0})
        self.assertTrue(latencies)
        self.assertTrue(all(status == 200 for _, status in latencies))
        self.assertLess(max(t for t, _ in latencies), 2.0, latencies)
        m = self.srv.request("GET", "/metrics").body.decode()
        self.assertGreater(metric_value(m, "depot_websocket_dropped_total"), 0)


class MetricsFromTheNetworkTest(unittest.TestCase):
    """/metrics needs a token unless the client is on loopback."""

    def test_non_loopback_clients_need_a_token(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
                addr = s.getsockname()[0]
            except OSError:
                addr = "127.0.0.1"
        if addr.startswith("127."):
            self.skipTest("no non-loopback IPv4 address on this machine")
        srv = Server(listen_host=addr).start()
        try:
            r = srv.request("GET", "/metrics")
            self.assertEqual(r.status, 401)
            self.assertEqual(r.json["error"]["code"], "unauthenticated")
            r = srv.request("GET", "/metrics", auth=True)
            self.assertEqual(r.status, 200)
            self.assertIn(b"depot_http_requests_total", r.body)
            self.assertEqual(srv.request("GET", "/healthz").status, 200)
        finally:
            srv.cleanup()


class TlsTest(unittest.TestCase):
    """tls = true without certificate files: one is generated, served, and reused."""

    def test_self_signed_certificate_generated_served_and_reused(self):
        srv = Server(tls="true")
        try:
            srv.start()
            gen = srv.daemon.wait_for_log(module="web", msg=re.compile("self-signed"))
            tls_dir = os.path.join(srv.tmp.data_dir, "tls")
            cert, key = os.path.join(tls_dir, "cert.pem"), os.path.join(tls_dir, "key.pem")
            self.assertIn(cert, gen["msg"])
            self.assertEqual(stat.S_IMODE(os.stat(tls_dir).st_mode), 0o700)
            self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
            with open(cert, encoding="ascii") as f:
                pem = f.read()
            self.assertIn("BEGIN CERTIFICATE", pem)

            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    served = tls.getpeercert(binary_form=True)
            self.assertEqual(served, ssl.PEM_cert_to_DER_cert(pem))

            # Verified against itself, for its SAN entries (127.0.0.1 and localhost).
            vctx = ssl.create_default_context(cafile=cert)
            for name in ("127.0.0.1", "localhost"):
                with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as raw:
                    with vctx.wrap_socket(raw, server_hostname=name):
                        pass

            r = srv.request("GET", "/healthz")
            self.assertEqual((r.status, r.json), (200, {"status": "ok"}))
            self.assertIn("frame-ancestors 'none'", r.headers["content-security-policy"])
            self.assertEqual(srv.request("GET", "/metrics").status, 200)

            # Under TLS the session cookie is marked Secure (plain HTTP: see test_web_auth).
            r = srv.request("POST", "/api/v1/login", {"name": "pia", "password": PASSWORD})
            self.assertEqual(r.status, 200, r.body)
            cookie = r.headers["set-cookie"]
            attrs = [a.strip() for a in cookie.split(";")]
            self.assertTrue(attrs[0].startswith("depot_session="), cookie)
            self.assertIn("Secure", attrs)
            self.assertIn("HttpOnly", attrs)
            self.assertIn("SameSite=Strict", attrs)

            srv.stop()
            mark_mtime = os.stat(cert).st_mtime_ns
            srv.start()
            self.assertFalse([e for e in srv.daemon.logs()
                              if "self-signed" in e.get("msg", "")])
            with open(cert, encoding="ascii") as f:
                self.assertEqual(f.read(), pem)
            self.assertEqual(os.stat(cert).st_mtime_ns, mark_mtime)
            r = srv.request("GET", "/healthz")
            self.assertEqual(r.status, 200)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
