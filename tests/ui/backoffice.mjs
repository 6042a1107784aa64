// The back office as a supervisor: inventory search, adjust with a reason, CSV upload
// refused with its errors per row, orders filter/details/cancel, the Sync screen's dead
// letter retried; SKU and bin labels queued; then as an admin: a token created and shown
// once.
import { main, login, shot, check, BASE } from './common.mjs';

const CSV_BAD = process.env.CSV_BAD;     // CSV text with errors on rows 3 and 5
const DEAD_ID = process.env.DEAD_ID;     // the dead outbox row's id
const DEAD_ERROR = process.env.DEAD_ERROR;
const CANCEL_NUMBER = process.env.CANCEL_NUMBER;

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
  await page.getByLabel('Status').selectOption('open');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('button', { name: CANCEL_NUMBER }).click();
  await page.locator('#ord-title').filter({ hasText: 'open' }).waitFor();
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await page.locator('#ord-title').filter({ hasText: 'cancelled' }).waitFor();
  await shot(page, 'orders-cancelled');

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
  await login(page, 'admin');
  await go('users');
  await page.getByLabel('Token name').fill('label-bot');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.locator('#secret-once code').textContent();
  check(/^dpt_[0-9a-f]{64}$/.test(token), 'token shown once: ' + token);
  await page.getByRole('cell', { name: 'label-bot', exact: true }).waitFor();
  await shot(page, 'users-tokens');
  await go('audit');
  await page.getByRole('cell', { name: 'outbox.retry', exact: true }).first().waitFor();
  await shot(page, 'audit');
  await go('devices');
  await page.getByRole('button', { name: 'Test print on SHELF-1' }).click();
  await page.locator('#banner.ok').filter({ hasText: 'Test label queued on SHELF-1' }).waitFor();
  await shot(page, 'devices');
  // The session ends under the page (cookie gone): the next call returns to the login.
  await context.clearCookies();
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.locator('.login-status').filter({ hasText: 'Your session has ended' }).waitFor();
  return { csvErrors: rows };
});
