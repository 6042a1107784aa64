// The packing station by keyboard-wedge scans (SCAN_SOURCE=keyboard: password login) or by
// the serial scanner on a PTY (SCAN_SOURCE=serial: badge login, scans arrive over the
// WebSocket): log in, choose the station, scan an order,
// good units tick off; a wrong item, an extra unit and an unknown code each show a red
// error naming what was scanned and change nothing; PACK -> weight/box -> shipped with
// the label queued; reprint. A packer cannot open the admin screens.
import { main, login, wedge, serialScan, outside, result, shot, check, sounds, BASE } from './common.mjs';

const ORDER = process.env.ORDER_NUMBER;         // "#1001"
const GTIN = process.env.GOOD_GTIN;              // a GTIN of the line with 2 units
const SKU2 = process.env.GOOD_SKU;               // that line's SKU code
const SKU1 = process.env.OTHER_SKU;              // the line with 1 unit
const WRONG = process.env.WRONG_SKU;             // a SKU not on the order
const PRINTER = process.env.PRINTER;
const SERIAL = process.env.SCAN_SOURCE === 'serial';
const BADGE = process.env.BADGE;

await main(async ({ page }) => {
  const scan = SERIAL ? serialScan : code => wedge(page, code);
  if (SERIAL) {
    // The badge login: the wedge types the badge into the focused badge field.
    await page.goto(BASE + '/');
    await page.getByLabel('Scan your badge').waitFor();
    await wedge(page, BADGE);
    await page.locator('#who').filter({ hasText: '(packer)' }).waitFor();
  } else {
    await login(page, 'packer');
  }
  // Nothing below reloads the page: this mark must survive to the end.
  await page.evaluate(() => { window.__sameDocument = true; });
  // Back office screens are not offered, and refused when typed in.
  check(await page.locator('#nav a', { hasText: 'Users' }).count() === 0, 'packer sees the Users screen');
  await page.goto(page.url().split('#')[0] + '#/users');
  await page.locator('.denied').filter({ hasText: 'needs the admin role' }).waitFor();
  await shot(page, 'packer-denied-users');
  await page.goto(page.url().split('#')[0] + '#/pack');

  await page.getByLabel('Station').fill('PACK-1');
  if (!SERIAL) await page.getByLabel('Label printer').fill(PRINTER);
  else {
    // The station's printer comes from its configuration.
    await page.getByLabel('Station').dispatchEvent('change');
    check(await page.getByLabel('Label printer').inputValue() === PRINTER, 'station printer filled in');
  }
  await page.getByRole('button', { name: 'Start packing' }).click();
  await page.locator('#scan-input').waitFor();
  check(await page.evaluate(() => document.activeElement.id) === 'scan-input', 'scan input has focus');

  await scan(ORDER);
  await page.locator('#order-title').filter({ hasText: ORDER }).waitFor();
  await result(page, 'ok', /scan 3 item/);
  const count = sku => page.locator(`tr[data-sku="${sku}"] .got`).textContent();

  // The order shows each line with its name, bin and quantity.
  const row2 = await page.locator(`tr[data-sku="${SKU2}"]`).textContent();
  check(row2.includes('Espresso blend whole bean 250 g') && row2.includes('A-01-1') && row2.includes('of 2'),
        'line shows name, bin and quantity: ' + row2);
  await sounds(page);

  await scan(GTIN);
  await result(page, 'ok', new RegExp(`${SKU2}.*1 of 2`));
  check(await count(SKU2) === '1', 'first unit ticked');
  check((await sounds(page)).join() === 'ok', 'a good scan beeps');

  await scan(WRONG);
  const wrong = await result(page, 'error', /Wrong item/);
  check((await sounds(page)).join() === 'error,error', 'a wrong item buzzes');
  const banner = await page.locator('#scan-result').boundingBox();
  check(banner.width > 1000, 'the error is full width: ' + banner.width);
  check(await page.evaluate(() => document.activeElement.id) === 'scan-input', 'focus back on the scan input');
  check(wrong.includes(WRONG) && wrong.includes(SKU2) && wrong.includes(SKU1), 'wrong-item message names scanned and expected: ' + wrong);
  check(await count(SKU2) === '1' && await count(SKU1) === '0', 'wrong item changed nothing');
  await shot(page, 'pack-wrong-item');

  await scan(SKU2);
  await result(page, 'ok', /2 of 2/);
  await scan(SKU2);
  const extra = await result(page, 'error', /Extra unit/);
  check(extra.includes(SKU2), 'extra-unit message names the SKU');
  check(await count(SKU2) === '2', 'extra unit changed nothing');
  check(await page.locator('#pack-button').isDisabled(), 'PACK disabled while incomplete');

  await scan('NO-SUCH-CODE-42');
  const unknown = await result(page, 'error', /Unknown code/);
  check((await sounds(page)).filter(t => t === 'error').length === 4, 'extra unit and unknown code buzz');
  check(unknown.includes('NO-SUCH-CODE-42') && unknown.includes(SKU1), 'unknown-code message: ' + unknown);

  // Focus wandered to a button: the wedge's keystrokes still reach the scan input.
  await page.locator('#clear-button').focus();
  if (SERIAL) {
    await page.locator('#scanner-state').filter({ hasText: 'scan-1: online' }).waitFor();
  }
  await scan(SKU1);
  await result(page, 'ok', /All items scanned/);
  check(!(await page.locator('#pack-button').isDisabled()), 'PACK enabled when complete');
  await shot(page, 'pack-complete');

  await scan('CMD-PACK');
  await page.getByLabel(/Weight in grams/).fill('1250');
  check(await page.locator('#pack-carrier').inputValue() === 'manual', 'own label by default');
  await page.getByLabel('Box (optional)').selectOption('M');
  await shot(page, 'pack-confirm');
  // Confirmed by the button, or on the serial run by scanning PACK a second time.
  if (SERIAL) await scan('CMD-PACK');
  else await page.getByRole('button', { name: 'Ship and print label' }).click();
  const shipped = await result(page, 'ok', /shipped\. Label queued on/);
  await page.locator('#order-status').filter({ hasText: 'shipped' }).waitFor();
  const job = Number(/print job (\d+)/.exec(shipped)[1]);
  check(await page.locator('#void-button').isHidden(), 'a packer is not offered Void');
  await shot(page, 'pack-shipped');

  if (SERIAL) {
    // The scanner pulled out and plugged back in: the station bar says so at a glance.
    await outside({ pty_ctl: 'unplug' });
    await page.locator('#scanner-state.bad').filter({ hasText: 'scan-1: unplugged' }).waitFor({ timeout: 15000 });
    await shot(page, 'pack-scanner-unplugged');
    await outside({ pty_ctl: 'plug' });
    await page.locator('#scanner-state.good').filter({ hasText: 'scan-1: online' }).waitFor({ timeout: 15000 });
  }

  await page.getByRole('button', { name: 'Reprint label' }).click();
  const again = await result(page, 'ok', /reprinted/);
  const reprintJob = Number(/print job (\d+)/.exec(again)[1]);
  // The live region carries the result for screen readers.
  check(await page.locator('#scan-result').getAttribute('aria-live') === 'assertive', 'live region');
  check(await page.evaluate(() => window.__sameDocument === true), 'the page was never reloaded');
  return { job, reprintJob };
});
