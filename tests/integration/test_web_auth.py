"""Integration tests of web authentication against the real depotd on loopback: bearer
tokens, password and badge login, the session cookie and its flags, CSRF, logout, login
rate limits, and the role matrix (each role x each endpoint class)."""

import http.client
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402

PASSWORDS = {"pat": "packer-password-1", "sue": "supervisor-password-2",
             "ada": "admin-password-3", "dan": "disabled-password-4"}
ROLES = {"pat": "packer", "sue": "supervisor", "ada": "admin", "dan": "packer"}
SESSION_RE = re.compile(r"^depot_session=([0-9a-f]{64});")


class Response:
    """status, headers (lower-case names; Set-Cookie may repeat), raw body and JSON."""

    def __init__(self, r):
        self.status = r.status
        self.header_list = [(k.lower(), v) for k, v in r.getheaders()]
        self.headers = dict(self.header_list)
        self.body = r.read()
        self.json = None
        if self.headers.get("content-type", "").startswith("application/json"):
            self.json = json.loads(self.body)

    def cookies(self):
        return [v for k, v in self.header_list if k == "set-cookie"]


class Server:
    """A depotd on a free loopback port with one user per role, a token per role."""

    def __init__(self):
        self.tmp = dt.TempDataDir()
        d = self.tmp.data_dir
        dt.run_depotctl("--data-dir", d, "init", check=True)
        for name, password in PASSWORDS.items():
            dt.run_depotctl("--data-dir", d, "user", "add", name, "--role", ROLES[name],
                            "--password", "-", input=password + "\n", check=True)
        self.tokens = {}
        for role in ("packer", "supervisor", "admin"):
            out = dt.run_depotctl("--data-dir", d, "--json", "token", "create",
                                  f"{role}-bot", "--role", role, check=True).stdout
            self.tokens[role] = json.loads(out)["token"]
        self.port = dt.free_port()
        self.daemon = dt.Depotd("--data-dir", d, "--listen", f"127.0.0.1:{self.port}")
        self.daemon.start()

    def stop(self):
        try:
            self.daemon.stop()
        finally:
            self.tmp.cleanup()

    def request(self, method, path, body=None, headers=None, json_body=True):
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode() if json_body else body
            h.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=h)
            return Response(conn.getresponse())
        finally:
            conn.close()

    def login(self, body):
        return self.request("POST", "/api/v1/login", body)


class AuthTestCase(unittest.TestCase):
    def assert_error(self, r, status, code):
        self.assertEqual(r.status, status, r.body)
        self.assertIsInstance(r.json, dict, r.body)
        self.assertEqual(set(r.json), {"error"}, r.json)
        self.assertEqual(r.json["error"]["code"], code, r.json)
        self.assertIsInstance(r.json["error"]["message"], str)
        self.assertTrue(r.json["error"]["message"])

    @staticmethod
    def bearer(token):
        return {"Authorization": f"Bearer {token}"}

    @staticmethod
    def cookie(token, csrf=None):
        h = {"Cookie": f"depot_session={token}"}
        if csrf is not None:
            h["X-CSRF-Token"] = csrf
        return h


class Authentication(AuthTestCase):
    """One daemon for every test here: fewer than 20 logins from 127.0.0.1 in all and
    at most 5 per user, below the login rate limits."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.sessions = {}

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def session(self, name):
        """(cookie token, csrf token, login response) of a login shared by the tests
        that leave the session alive."""
        if name not in self.sessions:
            r = self.srv.login({"name": name, "password": PASSWORDS[name]})
            self.assertEqual(r.status, 200, r.body)
            token = SESSION_RE.match(r.cookies()[0]).group(1)
            self.sessions[name] = (token, r.json["csrf_token"], r)
        return self.sessions[name]

    # ---- no or bad credentials -------------------------------------------------

    def test_401_without_or_with_bad_credentials(self):
        garbage = [
            {},
            self.bearer("dpt_" + "0" * 64),
            self.bearer("not-a-token"),
            {"Authorization": "Basic cGF0OnBhY2tlci1wYXNzd29yZC0x"},
            {"Cookie": "depot_session=garbage"},
            self.cookie("0" * 64),
            {"Cookie": "other=1; depot_session=; x=y"},
        ]
        for path in ("/api/v1/session", "/api/v1/orders", "/api/v1/audit", "/api/v1/users"):
            for headers in garbage:
                with self.subTest(path=path, headers=headers):
                    r = self.srv.request("GET", path, headers=headers)
                    self.assert_error(r, 401, "unauthenticated")
                    self.assertIn("Bearer", r.headers.get("www-authenticate", ""))
        r = self.srv.request("POST", "/api/v1/logout")
        self.assert_error(r, 401, "unauthenticated")

    def test_revoked_token_is_refused(self):
        admin = self.bearer(self.srv.tokens["admin"])
        r = self.srv.request("POST", "/api/v1/tokens", {"name": "soon-revoked",
                                                        "role": "packer"}, headers=admin)
        self.assertEqual(r.status, 201, r.body)
        token, token_id = r.json["token"], r.json["id"]
        self.assertEqual(self.srv.request("GET", "/api/v1/session",
                                          headers=self.bearer(token)).status, 200)
        r = self.srv.request("DELETE", f"/api/v1/tokens/{token_id}", headers=admin)
        self.assertEqual(r.status, 200, r.body)
        r = self.srv.request("GET", "/api/v1/session", headers=self.bearer(token))
        self.assert_error(r, 401, "unauthenticated")

    def test_bad_bearer_token_wins_over_good_cookie(self):
        token, _, _ = self.session("sue")
        headers = {**self.cookie(token), **self.bearer("dpt_" + "1" * 64)}
        self.assert_error(self.srv.request("GET", "/api/v1/session", headers=headers), 401,
                          "unauthenticated")

    # ---- password login and the cookie ------------------------------------------

    def test_login_sets_session_cookie_with_flags(self):
        token, csrf, r = self.session("sue")
        self.assertEqual(r.json["user"], "sue")
        self.assertEqual(r.json["role"], "supervisor")
        self.assertRegex(csrf, r"^[0-9a-f]{64}$")
        self.assertNotEqual(csrf, token)
        self.assertAlmostEqual(r.json["expires_at"], time.time() + 43200, delta=120)
        self.assertEqual(len(r.cookies()), 1)
        attrs = [a.strip() for a in r.cookies()[0].split(";")]
        self.assertIn("HttpOnly", attrs)
        self.assertIn("SameSite=Strict", attrs)
        self.assertIn("Path=/", attrs)
        self.assertIn("Max-Age=43200", attrs)
        self.assertNotIn("Secure", attrs)  # plain HTTP
        self.assertEqual(r.headers.get("cache-control"), "no-store")

    def test_cookie_session_who_am_i(self):
        token, csrf, _ = self.session("sue")
        r = self.srv.request("GET", "/api/v1/session", headers=self.cookie(token))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json["user"], "sue")
        self.assertEqual(r.json["role"], "supervisor")
        self.assertEqual(r.json["via"], "session")
        self.assertEqual(r.json["csrf_token"], csrf)
        # Among other cookies, and after a stale depot_session cookie.
        for header in (f"a=1; depot_session={token}; b=2",
                       f"depot_session={'f' * 64}; depot_session={token}",
                       f'theme="dark";depot_session="{token}"'):
            with self.subTest(header):
                r = self.srv.request("GET", "/api/v1/session", headers={"Cookie": header})
                self.assertEqual(r.status, 200, r.body)
                self.assertEqual(r.json["user"], "sue")
        # Split over several Cookie headers, as HTTP/2 clients do.
        for lines in (["a=1", f"depot_session={token}"], [f"depot_session={token}", "b=2"]):
            with self.subTest(lines):
                conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
                try:
                    conn.putrequest("GET", "/api/v1/session")
                    for line in lines:
                        conn.putheader("Cookie", line)
                    conn.endheaders()
                    r = Response(conn.getresponse())
                finally:
                    conn.close()
                self.assertEqual(r.status, 200, r.body)

    def test_token_who_am_i_has_no_csrf(self):
        r = self.srv.request("GET", "/api/v1/session",
                             headers=self.bearer(self.srv.tokens["packer"]))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json["role"], "packer")
        self.assertEqual(r.json["via"], "token")
        self.assertIsNone(r.json["user"])
        self.assertNotIn("csrf_token", r.json)
        self.assertNotIn("set-cookie", r.headers)

    def test_failed_login_says_the_same_for_unknown_user_and_wrong_password(self):
        unknown = self.srv.login({"name": "nobody", "password": "whatever-it-is"})
        wrong = self.srv.login({"name": "pat", "password": "not-pats-password"})
        for r in (unknown, wrong):
            self.assert_error(r, 401, "invalid_credentials")
            self.assertEqual(r.cookies(), [])
        self.assertEqual(unknown.json, wrong.json)

    def test_login_needs_a_well_formed_body(self):
        self.assert_error(self.srv.login({"name": "pat"}), 400, "invalid_input")
        self.assert_error(self.srv.login({"name": "pat", "password": "x", "badge": "y"}),
                          400, "invalid_input")
        self.assert_error(self.srv.login({"name": "pat", "password": 12345678}), 400,
                          "invalid_input")
        self.assert_error(self.srv.request("POST", "/api/v1/login", b"{", json_body=False),
                          400, "invalid_json")
        r = self.srv.request("POST", "/api/v1/login", b"name=pat", json_body=False,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assert_error(r, 415, "unsupported_media_type")

    def test_expired_session_is_refused(self):
        r = self.srv.login({"name": "ada", "password": PASSWORDS["ada"]})
        self.assertEqual(r.status, 200, r.body)
        token = SESSION_RE.match(r.cookies()[0]).group(1)
        self.assertEqual(self.srv.request("GET", "/api/v1/session",
                                          headers=self.cookie(token)).status, 200)
        conn = self.srv.tmp.connect()
        with conn:
            conn.execute("UPDATE sessions SET expires_at = strftime('%s', 'now') - 1"
                         " WHERE csrf_token = ?", (r.json["csrf_token"],))
        conn.close()
        self.assert_error(self.srv.request("GET", "/api/v1/session",
                                           headers=self.cookie(token)),
                          401, "unauthenticated")

    def test_disabled_user_cannot_log_in_and_loses_sessions(self):
        r = self.srv.login({"name": "dan", "password": PASSWORDS["dan"]})
        self.assertEqual(r.status, 200, r.body)
        token = SESSION_RE.match(r.cookies()[0]).group(1)
        conn = self.srv.tmp.connect()
        with conn:
            conn.execute("UPDATE users SET disabled = 1 WHERE name = 'dan'")
        conn.close()
        self.assert_error(self.srv.request("GET", "/api/v1/session",
                                           headers=self.cookie(token)),
                          401, "unauthenticated")
        self.assert_error(self.srv.login({"name": "dan", "password": PASSWORDS["dan"]}),
                          403, "account_disabled")
        # A wrong password does not reveal that the account is disabled.
        self.assert_error(self.srv.login({"name": "dan", "password": "wrong-password"}),
                          401, "invalid_credentials")

    # ---- CSRF ---------------------------------------------------------------------

    def test_cookie_post_needs_the_csrf_token(self):
        token, csrf, _ = self.session("ada")
        path = "/api/v1/users/sue/badge"
        wrong = ("0" if csrf[0] != "0" else "1") + csrf[1:]
        for headers in (self.cookie(token), self.cookie(token, wrong),
                        self.cookie(token, csrf[:32]), self.cookie(token, "")):
            with self.subTest(headers=headers):
                self.assert_error(self.srv.request("POST", path, headers=headers), 403,
                                  "csrf_failed")
        r = self.srv.request("POST", path, headers=self.cookie(token, csrf))
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json["user"], "sue")
        # A safe method needs no CSRF token.
        r = self.srv.request("GET", "/api/v1/users", headers=self.cookie(token))
        self.assertEqual(r.status, 200, r.body)

    def test_bearer_post_needs_no_csrf_token(self):
        r = self.srv.request("POST", "/api/v1/users/sue/badge",
                             headers=self.bearer(self.srv.tokens["admin"]))
        self.assertEqual(r.status, 201, r.body)
        self.assertRegex(r.json["badge"], r"^BADGE-[A-Z2-7]{24}$")

    # ---- logout -------------------------------------------------------------------

    def test_logout_ends_the_session_and_clears_the_cookie(self):
        r = self.srv.login({"name": "sue", "password": PASSWORDS["sue"]})
        self.assertEqual(r.status, 200, r.body)
        token, csrf = SESSION_RE.match(r.cookies()[0]).group(1), r.json["csrf_token"]
        self.assert_error(self.srv.request("POST", "/api/v1/logout",
                                           headers=self.cookie(token)), 403, "csrf_failed")
        r = self.srv.request("POST", "/api/v1/logout", headers=self.cookie(token, csrf))
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.json["logged_out"])
        attrs = [a.strip() for a in r.cookies()[0].split(";")]
        self.assertEqual(attrs[0], "depot_session=")
        self.assertIn("Max-Age=0", attrs)
        self.assert_error(self.srv.request("GET", "/api/v1/session",
                                           headers=self.cookie(token)),
                          401, "unauthenticated")
        # The shared session of the same user is unaffected.
        other, _, _ = self.session("sue")
        self.assertEqual(self.srv.request("GET", "/api/v1/session",
                                          headers=self.cookie(other)).status, 200)

    # ---- badges -------------------------------------------------------------------

    def test_badge_login(self):
        r = self.srv.request("POST", "/api/v1/users/pat/badge",
                             headers=self.bearer(self.srv.tokens["admin"]))
        self.assertEqual(r.status, 201, r.body)
        badge = r.json["badge"]
        r = self.srv.login({"badge": badge.lower() + "\r\n"})  # a keyboard-wedge scanner
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json["user"], "pat")
        self.assertEqual(r.json["role"], "packer")
        token = SESSION_RE.match(r.cookies()[0]).group(1)
        r = self.srv.request("GET", "/api/v1/session", headers=self.cookie(token))
        self.assertEqual(r.json["user"], "pat")
        self.assert_error(self.srv.login({"badge": "BADGE-" + "A" * 24}), 401,
                          "invalid_credentials")
        self.assert_error(self.srv.request("POST", "/api/v1/users/nobody/badge",
                                           headers=self.bearer(self.srv.tokens["admin"])),
                          404, "not_found")
        # Neither the badge nor the session token reached the database or the log.
        conn = self.srv.tmp.connect()
        dump = "\n".join(conn.iterdump())
        conn.close()
        log = self.srv.daemon.stderr()
        for secret in (badge, badge[6:], token, *PASSWORDS.values()):
            self.assertNotIn(secret, dump)
            self.assertNotIn(secret, log)

    # ---- the role matrix ------------------------------------------------------------

    MATRIX = [  # (method, path, lowest role allowed, status when allowed)
        ("GET", "/api/v1/session", "packer", 200),
        ("GET", "/api/v1/orders", "packer", 200),
        ("GET", "/api/v1/audit", "supervisor", 200),
        ("GET", "/api/v1/users", "admin", 200),
        ("POST", "/api/v1/users/dan/badge", "admin", 201),
    ]
    RANK = {"packer": 1, "supervisor": 2, "admin": 3}

    def check_matrix(self, role, headers_for):
        for method, path, lowest, ok in self.MATRIX:
            with self.subTest(role=role, method=method, path=path):
                r = self.srv.request(method, path, headers=headers_for(method))
                if self.RANK[role] >= self.RANK[lowest]:
                    self.assertEqual(r.status, ok, r.body)
                else:
                    self.assert_error(r, 403, "forbidden")

    def test_role_matrix_with_tokens(self):
        for role, token in self.srv.tokens.items():
            self.check_matrix(role, lambda method, t=token: self.bearer(t))

    def test_role_matrix_with_sessions(self):
        for name in ("pat", "sue", "ada"):
            token, csrf, _ = self.session(name)
            self.check_matrix(ROLES[name],
                              lambda method, t=token, c=csrf: self.cookie(t, c))


class LoginRateLimit(AuthTestCase):
    """Its own daemon: these tests spend the login budget of 127.0.0.1."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def assert_rate_limited(self, r):
        self.assert_error(r, 429, "rate_limited")
        self.assertRegex(r.headers.get("retry-after", ""), r"^[1-9][0-9]*$")
        self.assertEqual(r.cookies(), [])

    def test_brute_force_is_rate_limited_per_user_then_per_ip(self):
        # Per user: 5 attempts, then even the right password waits.
        for i in range(5):
            self.assert_error(self.srv.login({"name": "pat", "password": f"guess-{i:04d}"}),
                              401, "invalid_credentials")
        r = self.srv.login({"name": "pat", "password": PASSWORDS["pat"]})
        self.assert_rate_limited(r)
        self.assertLessEqual(int(r.headers["retry-after"]), 60)
        # Another user is not affected by pat's limit ...
        r = self.srv.login({"name": "sue", "password": PASSWORDS["sue"]})
        self.assertEqual(r.status, 200, r.body)
        # ... until the address has spent its own budget (20 attempts, refilling at one
        # every 3 s), whatever name.
        statuses = []
        for i in range(100):
            r = self.srv.login({"name": f"user{i}", "password": "some-password"})
            statuses.append(r.status)
            if r.status == 429:
                self.assert_rate_limited(r)
                break
        self.assertEqual(statuses[-1], 429, statuses)
        self.assertEqual(set(statuses[:-1]), {401}, statuses)
        self.assert_rate_limited(self.srv.login({"badge": "BADGE-" + "A" * 24}))
        # Authenticated API calls are not login attempts.
        r = self.srv.request("GET", "/api/v1/session",
                             headers=self.bearer(self.srv.tokens["packer"]))
        self.assertEqual(r.status, 200, r.body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
