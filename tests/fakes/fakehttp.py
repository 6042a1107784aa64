"""Base of the fake upstream servers (Shopify, WooCommerce): a real HTTP/1.1 server on
loopback with keep-alive (or HTTPS with a test certificate: use_tls), run in a thread of
the test process, that records every request and can be told to misbehave.

Faults are injected per request, in order, from a queue the test fills (push_faults),
or for every request while a persistent fault is set (set_down). Kinds:

  "429"            429 Too Many Requests + Retry-After (retry_after, 1 s), nothing applied
  "503"            503 Service Unavailable + Retry-After (retry_after), nothing applied
  "500"            500 Internal Server Error, nothing applied
  "reset"          connection closed (RST) before anything is applied
  "reset_after"    the request is applied, then the connection is reset: the client
                   never learns that it worked
  "timeout_after"  applied, then no answer for `hang_seconds`
  "partial_after"  applied, then half the body of a Content-Length answer, then close
  "slow"           applied; the answer trickles out in small pieces (completes)
  "invalid_json"   200 with a body that is not JSON, nothing applied

Every request is also on the timeline (start, end, method, path, body) and the most
requests ever in progress at once is kept (max_active), so tests can see ordering and
concurrency from the outside.
"""
import json
import socket
import ssl
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULT_KINDS = {"429", "503", "500", "reset", "reset_after", "timeout_after",
               "partial_after", "slow", "invalid_json"}


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.lock = threading.RLock()
        self.requests = []        # (method, path, headers dict, body bytes)
        self.faults = []          # one per request, consumed in order
        self.down = None          # a persistent fault kind, or None
        self.hang_seconds = 3.0
        self.latency = 0.0        # seconds every answer is delayed (a far-away upstream)
        self.faults_served = {}   # kind -> count
        self.connections = 0
        self.retry_after = 1      # seconds in the Retry-After of "429" and "503"
        self.timeline = []        # (start, end, method, path, body), monotonic seconds
        self.active = 0
        self.max_active = 0
        self.tls = False
        self._thread = None

    def handle_error(self, request, client_address):
        """A client that hangs up (killed, timed out) is expected here, not an error."""
        import sys
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, BrokenPipeError, TimeoutError)):
            super().handle_error(request, client_address)

    @property
    def url(self):
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"

    def use_tls(self, certfile, keyfile):
        """Serves HTTPS with this certificate and key (call before start)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.tls = True
        return self

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def push_faults(self, *kinds):
        for k in kinds:
            assert k in FAULT_KINDS, k
        with self.lock:
            self.faults.extend(kinds)

    def set_down(self, kind):
        assert kind is None or kind in FAULT_KINDS, kind
        with self.lock:
            self.down = kind

    def next_fault(self):
        with self.lock:
            kind = self.down or (self.faults.pop(0) if self.faults else None)
            if kind:
                self.faults_served[kind] = self.faults_served.get(kind, 0) + 1
            return kind

    def handle_api(self, method, path, query, headers, body):
        """Overridden: returns (status, json-able document, extra headers) and applies
        the request's effect to the fake's state."""
        raise NotImplementedError


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def _reset(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _send(self, status, payload, headers=(), slow=False, partial=False):
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if partial:
            self.wfile.write(payload[: max(1, len(payload) // 2)])
            self.wfile.flush()
            self._reset()
            return
        if slow:
            for i in range(0, len(payload), 16):
                self.wfile.write(payload[i:i + 16])
                self.wfile.flush()
                time.sleep(0.01)
        else:
            self.wfile.write(payload)

    def _handle(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        srv = self.server
        start = time.monotonic()
        with srv.lock:
            srv.requests.append((method, self.path, dict(self.headers), body))
            srv.active += 1
            srv.max_active = max(srv.max_active, srv.active)
        try:
            self._answer(method, body)
        finally:
            with srv.lock:
                srv.active -= 1
                srv.timeline.append((start, time.monotonic(), method, self.path, body))

    def _answer(self, method, body):
        path, _, query = self.path.partition("?")
        srv = self.server
        if srv.latency:
            time.sleep(srv.latency)
        fault = srv.next_fault()
        if fault in ("429", "503"):
            return self._send(int(fault), b'{"errors":"slow down"}',
                              [("Retry-After", str(srv.retry_after))])
        if fault == "500":
            return self._send(500, b'{"errors":"internal error"}')
        if fault == "reset":
            return self._reset()
        if fault == "invalid_json":
            return self._send(200, b'{"data": {oops')
        status, doc, headers = srv.handle_api(method, path, query, self.headers, body)
        payload = json.dumps(doc).encode()
        if fault == "reset_after":
            return self._reset()
        if fault == "timeout_after":
            time.sleep(srv.hang_seconds)
            return self._reset()
        self._send(status, payload, headers, slow=fault == "slow",
                   partial=fault == "partial_after")

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")
