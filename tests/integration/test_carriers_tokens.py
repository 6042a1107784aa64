"""Integration tests of the carrier token service through `depotctl carrier ...` against
the fake carrier/OAuth server: tokens cached (sealed) and reused, refreshed ahead of
expiry, exactly one refresh under 50 concurrent callers (separate processes on one data
dir), refused credentials reported with the carrier's own reason, a 401 from an API call
answered by one refresh and a successful retry, and no secret or token in clear in any
output or in the database files."""

import concurrent.futures
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_testlib as cl  # noqa: E402
import depot_testlib as dt  # noqa: E402
import fake_carriers as fc  # noqa: E402


class CarrierTokenTest(cl.DataDirTest):
    def add(self, fake, kind, secret=fc.CLIENT_SECRET, *extra):
        args = ["carrier", "add", kind, "--client-id", fc.CLIENT_ID, "--client-secret", "-",
                "--account", "740561073", "--api-base", fake.base]
        stdin = secret + "\n"
        if kind == "dhl":
            args += ["--username", fc.DHL_USER, "--password", "-"]
            stdin += fc.DHL_PASSWORD + "\n"
        return self.ctl("--json", *args, *extra, input=stdin)

    def token_json(self, name="fedex"):
        return json.loads(self.ctl("--json", "carrier", "test", name).stdout)

    def assert_no_secret(self, fake, *texts):
        cl.assert_no_secret(self, [fc.CLIENT_SECRET, fc.DHL_PASSWORD, *fake.issued],
                            [*texts, *cl.data_dir_texts(self.tmp.data_dir)])

    def test_token_is_cached_sealed_and_reused(self):
        with fc.FakeCarriers() as fake:
            added = self.add(fake, "fedex")
            first = self.ctl("carrier", "test", "fedex")
            self.assertRegex(first.stdout, r"carrier fedex: token OK, expires \d{4}-\d\d-\d\dT")
            again = self.token_json()
            self.assertEqual(fake.count("fedex_token"), 1, "the cached token was not reused")
            self.assertGreater(again["expires_in"], 3500)
            listed = self.ctl("--json", "carrier", "list").stdout
            item = json.loads(listed)["items"][0]
            self.assertEqual(item["credentials"], ["client_id", "client_secret"])
            self.assertIsNotNone(item["token"]["expires_at"])
            self.assert_no_secret(fake, added.stdout, added.stderr, first.stdout,
                                  first.stderr, listed)
            self.assertEqual(len(fake.issued), 1)
            connected = self.tmp.connect().execute(
                "SELECT entity, actor FROM audit WHERE action = 'CHANNEL_CONNECTED'").fetchall()
            self.assertEqual(connected, [(f"carrier:{item['id']}", "cli:root")])

    def test_token_is_refreshed_ahead_of_expiry(self):
        with fc.FakeCarriers(expires_in=10) as fake:
            self.add(fake, "fedex")
            first = self.token_json()
            self.token_json()
            self.assertEqual(fake.count("fedex_token"), 1)
            # Margin is a fifth of the 10 s lifetime: from 8 s on a new token is fetched,
            # while the old one is still valid (2 s left for a loaded machine).
            dt.wait_until(lambda: time.time() >= first["expires_at"] - 2 + 0.05, timeout=15)
            second = self.token_json()
            self.assertLess(time.time(), first["expires_at"], "refreshed only after expiry")
            self.assertEqual(fake.count("fedex_token"), 2)
            self.assertGreater(second["expires_at"], first["expires_at"])
            audit = self.tmp.connect().execute(
                "SELECT count(*) FROM audit WHERE action = 'TOKEN_REFRESHED'").fetchone()[0]
            self.assertEqual(audit, 2)

    def test_fifty_concurrent_callers_make_one_refresh(self):
        with fc.FakeCarriers(token_delay=0.5) as fake:
            self.add(fake, "fedex")
            with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
                procs = list(pool.map(
                    lambda _: dt.run_depotctl("--data-dir", self.tmp.data_dir, "--json",
                                              "carrier", "test", "fedex"), range(50)))
            for p in procs:
                self.assertEqual(p.returncode, 0, p.stderr)
            expiries = {json.loads(p.stdout)["expires_at"] for p in procs}
            self.assertEqual(fake.count("fedex_token"), 1)
            self.assertEqual(len(expiries), 1, "callers got different tokens")

    def test_refused_credentials_exit_1_with_the_carriers_reason(self):
        with fc.FakeCarriers() as fake:
            self.add(fake, "fedex", "wrong-secret")
            proc = self.ctl("carrier", "test", "fedex", ok=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("NOT.AUTHORIZED.ERROR", proc.stderr)
            self.assertIn("The given client credentials were not valid", proc.stderr)
            self.assertNotIn("wrong-secret", proc.stderr + proc.stdout)
            failed = self.tmp.connect().execute(
                "SELECT detail FROM audit WHERE action = 'TOKEN_FAILED'").fetchall()
            self.assertEqual(len(failed), 1)
            # Re-adding with the right secret drops the failure and works.
            self.add(fake, "fedex")
            self.ctl("carrier", "test", "fedex")

    def test_unreachable_token_endpoint_is_a_failure_not_a_hang(self):
        with fc.FakeCarriers() as fake:
            self.add(fake, "fedex")
            fake.fail_next("fedex_token", 503)
            proc = self.ctl("carrier", "test", "fedex", ok=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("HTTP 503", proc.stderr)
            self.ctl("carrier", "test", "fedex")

    def test_api_401_triggers_one_refresh_and_a_successful_retry(self):
        with fc.FakeCarriers() as fake:
            self.add(fake, "fedex")
            self.ctl("carrier", "test", "fedex")
            fake.revoke_tokens()  # the carrier expired our token early
            proc = self.ctl("--json", "carrier", "track", "fedex", "794612345678")
            self.assertEqual(json.loads(proc.stdout)["status"], "delivered")
            self.assertEqual(fake.count("fedex_token"), 2)
            self.assertEqual(fake.count("fedex_track"), 2)
            # The new token is cached: the next call needs no refresh.
            self.ctl("carrier", "track", "fedex", "794612345678")
            self.assertEqual(fake.count("fedex_token"), 2)
            self.assertEqual(fake.count("fedex_track"), 3)

    def test_ups_basic_client_credentials_and_void(self):
        with fc.FakeCarriers() as fake:
            self.add(fake, "ups")
            got = self.token_json("ups")
            self.assertGreater(got["expires_in"], 3500)  # "3600" as a string was parsed
            self.ctl("carrier", "void", "ups", "1Z999AA10123456784")
            self.assertEqual(fake.cancelled, ["1Z999AA10123456784"])
            track = json.loads(self.ctl("--json", "carrier", "track", "ups",
                                        "1Z999AA10123456784").stdout)
            self.assertEqual(track["status"], "in_transit")

    def test_dhl_password_grant_track_and_delete(self):
        with fc.FakeCarriers() as fake:
            self.add(fake, "dhl")
            self.token_json("dhl")
            self.assertEqual(fake.count("dhl_token"), 1)
            self.ctl("carrier", "void", "dhl", "00340434161094042557")
            self.assertEqual(fake.cancelled, ["00340434161094042557"])
            track = json.loads(self.ctl("--json", "carrier", "track", "dhl",
                                        "00340434161094042557").stdout)
            self.assertEqual(track["status"], "in_transit")
            self.assert_no_secret(fake)

    def test_bad_input_is_refused(self):
        with fc.FakeCarriers() as fake:
            proc = self.ctl("carrier", "add", "tnt", "--client-id", "a", "--client-secret",
                            "b", ok=False)
            self.assertEqual(proc.returncode, 2)
            proc = self.ctl("carrier", "add", "dhl", "--client-id", "a", "--client-secret",
                            "b", ok=False)
            self.assertEqual(proc.returncode, 2)
            proc = self.ctl("carrier", "add", "fedex", "--client-id", "a", "--client-secret",
                            "b", "--api-base", "ftp://x", ok=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("api base", proc.stderr)
            proc = self.ctl("carrier", "test", "nosuch", ok=False)
            self.assertEqual(proc.returncode, 1)
            self.add(fake, "fedex")
            proc = self.ctl("carrier", "track", "fedex", "x" * 65, ok=False)
            self.assertEqual(proc.returncode, 1)


if __name__ == "__main__":
    unittest.main()
