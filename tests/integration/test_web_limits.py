"""Request limits of the web server against the real daemon: body size caps (413, also
refused before the body is read), chunked bodies (411), slow clients dropped after
request_timeout, oversized headers, JSON nesting depth, the per-IP rate limit (429 with
Retry-After), and that every refusal is the contract's JSON error shape."""
import http.client
import json
import os
import socket
import time
import unittest

import depot_testlib as dt


class Limits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = dt.TempDataDir()
        dt.run_depotctl("--data-dir", cls.tmp.data_dir, "init", check=True)
        cls.token = dt.run_depotctl("--data-dir", cls.tmp.data_dir, "token", "create", "ci",
                                    "--role", "supervisor", check=True).stdout.strip()
        cls.port = dt.free_port()
        conf = cls.tmp.write_config(max_body_bytes=2048, max_upload_bytes=4096,
                                    request_timeout=2, rate_limit=1000, rate_burst=1000)
        cls.daemon = dt.Depotd("--data-dir", cls.tmp.data_dir, "--config", conf,
                               "--listen", f"127.0.0.1:{cls.port}")
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.tmp.cleanup()

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Authorization": f"Bearer {self.token}"}
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r, data

    def assert_error(self, r, data, status, code):
        self.assertEqual(r.status, status, data)
        self.assertEqual(r.getheader("content-type"), "application/json")
        self.assertEqual(json.loads(data)["error"]["code"], code, data)

    def test_body_over_the_cap_is_413(self):
        body = json.dumps({"location": "x", "delta": 1, "reason": "r" * 3000})
        r, data = self.request("POST", "/api/v1/skus/A/adjust", body,
                               {"Content-Type": "application/json"})
        self.assert_error(r, data, 413, "body_too_large")
        # The upload route has its own, larger cap.
        csv = "sku,name,gtin,location,on_hand\n" + "A,Thing,,MAIN,1\n" * 400
        self.assertGreater(len(csv), 4096)
        r, data = self.request("POST", "/api/v1/stock/import", csv,
                               {"Content-Type": "text/csv"})
        self.assert_error(r, data, 413, "body_too_large")
        small = "sku,name,gtin,location,on_hand\nA,Thing,,MAIN,1\n"
        r, data = self.request("POST", "/api/v1/stock/import", small,
                               {"Content-Type": "text/csv"})
        self.assertEqual(r.status, 200, data)

    def test_declared_oversize_is_refused_before_the_body_is_sent(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"POST /api/v1/skus/A/adjust HTTP/1.1\r\nHost: x\r\n"
                      b"Authorization: Bearer " + self.token.encode() + b"\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Content-Length: 999999999\r\n\r\n")
            reply = b""
            while chunk := s.recv(4096):  # the server answers, then closes
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply[:80])
        self.assertIn(b'"body_too_large"', reply)

    def test_chunked_bodies_are_refused_with_411(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.putrequest("POST", "/api/v1/skus/A/adjust")
        conn.putheader("Authorization", f"Bearer {self.token}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        conn.send(b"2\r\n{}\r\n0\r\n\r\n")
        r = conn.getresponse()
        self.assert_error(r, r.read(), 411, "length_required")

    def test_slow_clients_are_dropped(self):
        auth = b"Authorization: Bearer " + self.token.encode() + b"\r\n"
        for partial in (b"GET /healthz HTTP/1.1\r\nHost: x\r\n",  # headers never end
                        b"POST /api/v1/skus/A/adjust HTTP/1.1\r\nHost: x\r\n" + auth +
                        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"):
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
                s.sendall(partial)
                start = time.monotonic()
                self.assertEqual(s.recv(100), b"", "connection should be closed")
                self.assertLess(time.monotonic() - start, 15)
        # ... and the server still answers others.
        r, _ = self.request("GET", "/healthz")
        self.assertEqual(r.status, 200)

    def test_oversized_headers_are_refused(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
                      b"\r\n\r\n")
            try:
                reply = s.recv(4096)
            except ConnectionResetError:
                reply = b""
        self.assertFalse(reply.startswith(b"HTTP/1.1 200"), reply[:80])
        r, _ = self.request("GET", "/healthz")
        self.assertEqual(r.status, 200)

    def test_json_nesting_is_bounded(self):
        deep = '{"a":' * 40 + '1' + '}' * 40
        r, data = self.request("POST", "/api/v1/skus/A/adjust", deep,
                               {"Content-Type": "application/json"})
        self.assert_error(r, data, 400, "invalid_json")
        self.assertIn("deeper", json.loads(data)["error"]["message"])
        r, data = self.request("POST", "/api/v1/skus/A/adjust", "[1,2",
                               {"Content-Type": "application/json"})
        self.assert_error(r, data, 400, "invalid_json")
        r, data = self.request("POST", "/api/v1/skus/A/adjust", "{}",
                               {"Content-Type": "text/plain"})
        self.assert_error(r, data, 415, "unsupported_media_type")

    def test_head_and_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        for _ in range(3):  # one connection, several requests
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            self.assertEqual(json.loads(r.read()), {"status": "ok"})
        conn.request("HEAD", "/healthz")
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.read(), b"")
        conn.close()


class RateLimit(unittest.TestCase):
    def test_per_ip_limit_answers_429_with_retry_after(self):
        with dt.TempDataDir() as tmp:
            port = dt.free_port()
            conf = tmp.write_config(rate_limit=1, rate_burst=5)
            with dt.Depotd.for_data_dir(tmp.data_dir, "--config", conf,
                                        "--listen", f"127.0.0.1:{port}"):
                statuses = []
                for _ in range(8):
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    conn.request("GET", "/healthz")
                    r = conn.getresponse()
                    body = r.read()
                    statuses.append(r.status)
                    if r.status == 429:
                        self.assertEqual(json.loads(body)["error"]["code"], "rate_limited")
                        self.assertRegex(r.getheader("retry-after"), r"^[1-9][0-9]*$")
                    conn.close()
                self.assertEqual(statuses[:5], [200] * 5, statuses)
                self.assertIn(429, statuses[5:], statuses)
                time.sleep(1.2)  # a token refills
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/healthz")
                self.assertEqual(conn.getresponse().status, 200)


if __name__ == "__main__":
    unittest.main()
