// The Sync screen while Shopify is down: the channel's circuit breaker is open and the
// screen says "Service temporarily unavailable"; the carrier is listed with its state.
// Shopify comes back (the test lifts the fault): Refresh shows the channel OK again.
import { main, login, outside, shot, check, BASE } from './common.mjs';

await main(async ({ page }) => {
  await login(page, 'supervisor');
  await page.goto(`${BASE}/#/sync`);
  const channels = page.locator('#sync-status table', { hasText: 'Channels' });
  const shopRow = () => channels.locator('tr', { hasText: 'test-shop.myshopify.com' }).textContent();
  // Refresh until the row reads as wanted (the breaker probes now and then while down).
  async function refreshUntil(want, what) {
    const deadline = Date.now() + 30000;
    for (;;) {
      const row = await shopRow();
      if (want(row)) return;
      check(Date.now() < deadline, what + ': ' + row);
      await page.waitForTimeout(300);
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
  }
  await channels.waitFor();
  await refreshUntil(row => row.includes('Service temporarily unavailable'), 'never shown open');
  await page.locator('#sync-status table', { hasText: 'Circuit breakers' })
    .getByRole('cell', { name: 'Service temporarily unavailable' }).first().waitFor();
  const carrier = page.locator('#sync-status table', { hasText: 'Carriers' }).locator('tr', { hasText: 'fedex' });
  await carrier.waitFor();
  check((await carrier.textContent()).includes('OK'), 'carrier state shown: ' + await carrier.textContent());
  await shot(page, 'sync-breaker-open');

  await outside({ sim: 'up' });
  await refreshUntil(row => row.includes('OK') && !row.includes('unavailable') && !row.includes('Testing'),
                     'the channel never recovered on screen');
  await shot(page, 'sync-recovered');
});
