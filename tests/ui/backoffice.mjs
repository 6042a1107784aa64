// The back office as a supervisor: inventory search (name, GTIN, bin), adjust with a
// reason, CSV upload refused with its errors per row, orders filter/details (reservations,
// events)/release/cancel, a label voided on the packing screen, a return received by
// scanning with a disposition per unit, the Sync screen's dead letter retried; SKU and
// bin labels queued; then as an admin: a token created and shown once, a test print, a
// scanner moved to another station.
import { main, login, shot, check, wedge, result, BASE } from './common.mjs';

const CSV_BAD = process.env.CSV_BAD;     // CSV text with errors on rows 3 and 5
const DEAD_ID = process.env.DEAD_ID;     // the dead outbox row's id
const DEAD_ERROR = process.env.DEAD_ERROR;
const CANCEL_NUMBER = process.env.CANCEL_NUMBER;
const RESERVED_NUMBER = process.env.RESERVED_NUMBER; // a reserved order, to release
const VOID_NUMBER = process.env.VOID_NUMBER;         // an open order of 1 COF-ETH-250
const RETURN_NUMBER = process.env.RETURN_NUMBER;     // a shipped order of 2 COF-GUA-250

await main(async ({ page, context }) => {
  page.on('dialog', d => d.accept());
  await login(page, 'supervisor');
  const go = async screen => {
    await page.goto(`${BASE}/#/${screen}`);
    await page.locator('h1').first().waitFor();
  };

  // Inventory: search by name, open the SKU, adjust it.
  await go('inventory');
  await page.getByLabel('Search SKU, name, GTIN or bin').fill('espresso blend whole bean 1');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('button', { name: 'COF-ESP-1K' }).click();
  await page.locator('#sku-title').filter({ hasText: 'COF-ESP-1K' }).waitFor();
  await page.locator('#adj-location').selectOption('WH-MAIN');
  await page.getByLabel('Change (+/− units)').fill('-3');
  await page.getByLabel('Reason').fill('damaged in aisle 4');
  await page.getByRole('button', { name: 'Adjust' }).click();
  await page.locator('#adj-status').filter({ hasText: 'Adjusted WH-MAIN by -3: 37 there, 43 in all' }).waitFor();
  await page.getByRole('cell', { name: 'damaged in aisle 4' }).waitFor();
  await shot(page, 'inventory-adjusted');

  // Search by GTIN and by bin find the SKU too.
  for (const [query, sku] of [['A-02-1', 'COF-ETH-250'], ['2006100000184', 'COF-ESP-1K']]) {
    await page.getByLabel('Search SKU, name, GTIN or bin').fill(query);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('button', { name: sku, exact: true }).waitFor();
  }
  // (The SKU opened above stays open below the results.)

  // A SKU label and a bin label for the shelf printer.
  await page.getByLabel('Label printer').fill('SHELF-1');
  await page.getByRole('button', { name: 'Print SKU label' }).click();
  await page.locator('#label-status').filter({ hasText: 'SKU label COF-ESP-1K queued on SHELF-1' }).waitFor();
  await page.getByRole('button', { name: 'Print bin label A-01-2' }).click();
  await page.locator('#label-status').filter({ hasText: 'Bin label A-01-2 queued on SHELF-1' }).waitFor();

  // CSV upload with errors: every one listed by row and column, nothing imported.
  await page.getByLabel(/Stock CSV/).setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV_BAD) });
  await page.getByRole('button', { name: 'Upload' }).click();
  const errs = page.locator('#csv-report table.errors tbody tr');
  await errs.first().waitFor();
  const rows = await errs.evaluateAll(trs => trs.map(tr => [...tr.cells].map(c => c.textContent)));
  await shot(page, 'inventory-csv-errors');

  // Orders: filter, details, cancel.
  await go('orders');
  // By channel: only the channel's order is listed.
  await page.getByLabel('Channel').selectOption({ label: 'bo-shop.myshopify.com (shopify)' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.locator('#ord-list').filter({ hasText: CANCEL_NUMBER }).waitFor();
  check(!(await page.locator('#ord-list').textContent()).includes(RESERVED_NUMBER), 'channel filter');
  await page.getByLabel('Channel').selectOption('');
  await page.getByLabel('Status').selectOption('open');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('button', { name: CANCEL_NUMBER }).click();
  await page.locator('#ord-title').filter({ hasText: 'open' }).waitFor();
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await page.locator('#ord-title').filter({ hasText: 'cancelled' }).waitFor();
  await shot(page, 'orders-cancelled');

  // A reserved order: its reservation and its events shown; the reservation released.
  await page.getByLabel('Status').selectOption('reserved');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('button', { name: RESERVED_NUMBER }).click();
  await page.locator('#ord-title').filter({ hasText: 'reserved' }).waitFor();
  await page.locator('#ord-detail table', { hasText: 'Reservations' }).getByRole('cell', { name: 'WH-MAIN' }).waitFor();
  await page.locator('#ord-detail table', { hasText: 'Events' }).getByRole('cell', { name: 'order.reserve', exact: true }).waitFor();
  await shot(page, 'orders-details');
  await page.getByRole('button', { name: 'Release reservation' }).click();
  await page.locator('#ord-title').filter({ hasText: 'open' }).waitFor();
  await page.locator('#ord-detail table', { hasText: 'Events' }).getByRole('cell', { name: 'order.release', exact: true }).waitFor();

  // Packing as a supervisor: ship an order, then void its label (one action away).
  await go('pack');
  await page.getByLabel('Station').fill('PACK-1');
  await page.getByLabel('Label printer').fill('DOCK-1');
  await page.getByRole('button', { name: 'Start packing' }).click();
  await page.locator('#scan-input').waitFor();
  await wedge(page, VOID_NUMBER);
  await result(page, 'ok', /scan 1 item/);
  await wedge(page, 'COF-ETH-250');
  await result(page, 'ok', /All items scanned/);
  await wedge(page, 'CMD-PACK');
  await page.getByRole('button', { name: 'Ship and print label' }).click();
  await result(page, 'ok', /shipped\. Label queued on DOCK-1/);
  await page.getByRole('button', { name: 'Void label' }).click();
  await result(page, 'ok', /Label of shipment \d+ voided\. Order #2006 is reserved/);
  check(await page.locator('#void-button').isHidden(), 'void offered once');
  await page.locator('#order-status').filter({ hasText: 'reserved' }).waitFor();
  await shot(page, 'pack-voided');
  // Packed again at once, with a new label.
  await wedge(page, 'COF-ETH-250');
  await result(page, 'ok', /All items scanned/);
  await wedge(page, 'CMD-PACK');
  await page.getByRole('button', { name: 'Ship and print label' }).waitFor();
  await wedge(page, 'CMD-PACK');
  await result(page, 'ok', /shipped\. Label queued on DOCK-1/);

  // Returns: scan the shipped order, then its units; a unit not on it is refused.
  await go('returns');
  await page.locator('#return-scan').waitFor();
  await wedge(page, RETURN_NUMBER);
  await page.locator('#return-title').filter({ hasText: RETURN_NUMBER }).waitFor();
  await wedge(page, 'COF-GUA-250');
  await page.locator('#return-result.ok').filter({ hasText: 'unit 1 added' }).waitFor();
  await wedge(page, '2006100000467'); // the same SKU by its GTIN
  await page.locator('#return-result.ok').filter({ hasText: 'unit 2 added' }).waitFor();
  await wedge(page, 'COF-DEC-250');
  const notOn = await page.locator('#return-result.error').filter({ hasText: 'Not on this order' }).textContent();
  check(notOn.includes('COF-DEC-250') && notOn.includes('COF-GUA-250'), 'refusal names scanned and shipped: ' + notOn);
  await wedge(page, 'COF-GUA-250');
  await page.locator('#return-result.error').filter({ hasText: 'Extra unit' }).waitFor();
  await page.getByLabel('Disposition of unit 2 (COF-GUA-250)').selectOption('damaged');
  await shot(page, 'returns-scanned');
  await page.getByRole('button', { name: 'Receive return' }).click();
  await page.locator('#return-result.ok').filter({ hasText: 'received: 2 unit(s)' }).waitFor();
  check(await page.locator('#return-result').getAttribute('aria-live') === 'assertive', 'returns live region');
  await shot(page, 'returns-received');

  // Sync: the dead letter with its error, retried.
  await go('sync');
  await page.getByRole('cell', { name: DEAD_ERROR }).waitFor();
  check(await page.locator('#count-outbox-dead').textContent() === '1', 'one dead letter counted');
  await shot(page, 'sync-dead-letter');
  await page.getByRole('button', { name: `Retry event ${DEAD_ID}` }).click();
  await page.locator('#banner.ok').filter({ hasText: `Event ${DEAD_ID} queued again` }).waitFor();
  await page.locator('#dead-letters').filter({ hasText: 'No dead letters.' }).waitFor();
  await shot(page, 'sync-retried');

  // A supervisor is refused the admin screen.
  await go('users');
  await page.locator('.denied').waitFor();

  // Admin: create a token, shown once.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('User name').waitFor();
  await shot(page, 'login');
  await login(page, 'admin');
  await go('users');
  // A new packer with a password, then a badge for them (shown once).
  await page.getByLabel('Name', { exact: true }).fill('pam');
  await page.locator('#user-role').selectOption('packer');
  await page.getByLabel('Password (optional, 8+ characters)').fill('pam-pass-123');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.locator('#banner.ok').filter({ hasText: 'User pam added.' }).waitFor();
  await page.getByRole('button', { name: 'Issue badge for pam' }).click();
  const badge = await page.locator('#secret-once code').filter({ hasText: /^BADGE-/ }).textContent();
  check(badge.length >= 16, 'badge shown once: ' + badge);
  await page.getByLabel('Token name').fill('label-bot');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.locator('#secret-once code').filter({ hasText: /^dpt_/ }).textContent();
  check(/^dpt_[0-9a-f]{64}$/.test(token), 'token shown once: ' + token);
  await page.getByRole('cell', { name: 'label-bot', exact: true }).waitFor();
  await shot(page, 'users-tokens');
  await go('audit');
  await page.getByRole('cell', { name: 'outbox.retry', exact: true }).first().waitFor();
  await shot(page, 'audit');
  await go('devices');
  await page.getByRole('button', { name: 'Test print on SHELF-1' }).click();
  await page.locator('#banner.ok').filter({ hasText: 'Test label queued on SHELF-1' }).waitFor();
  // Re-pair a scanner to another station.
  await page.getByLabel('Station for scanner scan-7').selectOption('PACK-2');
  await page.getByRole('button', { name: 'Move scanner scan-7' }).click();
  await page.locator('#banner.ok').filter({ hasText: 'Scanner scan-7 now scans for station PACK-2' }).waitFor();
  await page.locator('#devices table', { hasText: 'Stations' }).locator('tr', { hasText: 'PACK-2' }).filter({ hasText: 'scan-7' }).waitFor();
  await shot(page, 'devices');
  // The session ends under the page (cookie gone): the next call returns to the login.
  await context.clearCookies();
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.locator('.login-status').filter({ hasText: 'Your session has ended' }).waitFor();
  return { csvErrors: rows, badge };
});
