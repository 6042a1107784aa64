"""The Sync screen in real Chromium (tests/ui/sync.mjs) against the real depotd whose
Shopify channel points at the fake Shopify of tests/fakes/ while it answers 500: once the
outbound worker's circuit breaker is open the screen shows "Service temporarily
unavailable" for the channel and its breaker, and the carrier connection with its state;
when Shopify comes back the channel reads OK again and the stock level arrives
upstream."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depot_testlib as dt  # noqa: E402
import outbound_env as oe  # noqa: E402
import ui_testlib as ut  # noqa: E402

SKIP = ut.browser_missing()


class _Shopify:
    """What run_script needs of a server: its URL, and a "sim" that lifts the fault."""

    def __init__(self, url, fake):
        self.url = url
        self.pty = None
        self.sim = self
        self.fake = fake

    def command(self, what):
        assert what == "up", what
        self.fake.set_down(None)


@unittest.skipIf(SKIP is not None, SKIP or "")
class SyncScreenTest(unittest.TestCase):
    def setUp(self):
        self.tmp = dt.TempDataDir()
        self.addCleanup(self.tmp.cleanup)
        self.fake = oe.FakeShopify().start()
        self.addCleanup(self.fake.stop)
        self.ob = oe.Outbound(self.tmp)
        self.addCleanup(self.ob.stop)

    def test_open_breaker_shown_and_recovery(self):
        ob, fake = self.ob, self.fake
        ob.stock({"SKU-1": 10})
        name = ut.USERS["supervisor"]
        dt.run_depotctl("--data-dir", self.tmp.data_dir, "user", "add", name, "--role",
                        "supervisor", "--password", "-", input=ut.PASSWORDS["supervisor"],
                        check=True)
        dt.run_depotctl("--data-dir", self.tmp.data_dir, "carrier", "add", "fedex",
                        "--client-id", "cid", "--client-secret", "-",
                        "--api-base", "http://127.0.0.1:9", input="csecret", check=True)
        fake.set_down("500")
        ob.add_shopify(fake)
        ob.map(1, {"SKU-1": 501})
        # Probes only every 4 s while down, so the screen sees the breaker open.
        ob.start(sync_breaker_cooldown_ms=4000)
        oe.wait_until(lambda: ob.breaker_state("graphql") == "open", 20,
                      what="the breaker to open")
        server = _Shopify(f"http://127.0.0.1:{ob.port}", fake)
        ut.run_script("sync", server, timeout=90)
        oe.wait_until(lambda: fake.level(501, 77) == 10, 20, what="the level upstream")
        self.assertEqual(ob.breaker_state("graphql"), "closed")


if __name__ == "__main__":
    unittest.main()
