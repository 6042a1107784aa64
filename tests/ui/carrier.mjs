// Packing with a carrier's label: the packer picks the carrier on the PACK form (a
// carrier label needs the weight, and the form says so), the order ships at once, and
// the carrier's label arrives over the WebSocket as the carrier worker stores it and
// queues it on the station's printer; Reprint prints the carrier's label again; a
// supervisor voids it, which goes to the carrier first.
import { main, login, wedge, result, shot, check } from './common.mjs';

await main(async ({ page }) => {
  await login(page, 'packer');
  await page.getByLabel('Station').fill('PACK-1');
  await page.getByLabel('Label printer').fill('ZEBRA-1');
  await page.getByRole('button', { name: 'Start packing' }).click();
  await page.locator('#scan-input').waitFor();
  await wedge(page, process.env.ORDER_NUMBER);
  await result(page, 'ok', /scan 1 item/);
  await wedge(page, process.env.SKU);
  await result(page, 'ok', /All items scanned/);
  await page.getByRole('button', { name: 'PACK' }).click();
  const options = await page.locator('#pack-carrier option').allTextContents();
  check(options.some(t => t.startsWith('fedex (fedex)')), 'carriers offered: ' + options.join(' | '));
  await page.locator('#pack-carrier').selectOption('fedex');
  await page.getByRole('button', { name: 'Ship and print label' }).click();
  await result(page, 'error', /fedex label needs the weight/);
  await page.getByLabel(/Weight in grams/).fill('1200');
  await shot(page, 'pack-carrier-choice');
  await page.getByRole('button', { name: 'Ship and print label' }).click();
  const shipped = await result(page, 'ok', /shipped with fedex/);
  const shipment = Number(/shipment (\d+)/.exec(shipped)[1]);
  const label = await page.locator('#scan-result.ok').filter({ hasText: /Carrier label for shipment \d+ \(tracking \w+\) queued on ZEBRA-1/ })
    .textContent({ timeout: 30000 });
  await page.locator('#order-status').filter({ hasText: 'shipped' }).waitFor();
  await shot(page, 'pack-carrier-label');
  // Reprint gives the carrier's label again, not our own address label.
  await page.getByRole('button', { name: 'Reprint label' }).click();
  await result(page, 'ok', /reprinted/);
  check(await page.locator('#void-button').isHidden(), 'a packer is not offered Void');

  // A supervisor voids it: the void goes to the carrier first.
  page.on('dialog', d => d.accept());
  await page.getByRole('button', { name: 'Log out' }).click();
  await login(page, 'supervisor');
  await page.locator('#scan-input').waitFor();  // the station is remembered
  await wedge(page, process.env.ORDER_NUMBER);
  await result(page, 'info', /already shipped/);
  await page.getByRole('button', { name: 'Void label' }).click();
  await result(page, 'ok', new RegExp(`Void of shipment ${shipment} requested from fedex`));
  await shot(page, 'pack-carrier-void');
  return { shipment, tracking: /tracking (\w+)/.exec(label)[1] };
});
