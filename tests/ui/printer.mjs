// Paper out at the packing station: the order ships, its label waits in the queue, the
// station shows "Printer ZEBRA-1: paper out" live; paper back in, the station shows the
// printer ready again (the test checks the label came out exactly once).
import { main, login, wedge, outside, result, shot } from './common.mjs';

await main(async ({ page }) => {
  await login(page, 'packer');
  await page.getByLabel('Station').fill('PACK-1');
  await page.getByLabel('Label printer').fill('ZEBRA-1');
  await page.getByRole('button', { name: 'Start packing' }).click();
  await page.locator('#printer-state').filter({ hasText: /ZEBRA-1: (ready|unknown)/ }).waitFor();

  await outside({ sim: 'paper-out' });
  await wedge(page, process.env.ORDER_NUMBER);
  await result(page, 'ok', /scan 1 item/);
  await wedge(page, process.env.SKU);
  await result(page, 'ok', /All items scanned/);
  await page.getByRole('button', { name: 'PACK' }).click();
  await page.getByRole('button', { name: 'Ship and print label' }).click();
  const shipped = await result(page, 'ok', /shipped\. Label queued on ZEBRA-1/);
  await page.locator('#printer-state.bad').filter({ hasText: 'paper out' }).waitFor({ timeout: 20000 });
  await shot(page, 'pack-paper-out');

  await outside({ sim: 'ok' });
  await page.locator('#printer-state.good').waitFor({ timeout: 20000 });
  await shot(page, 'pack-printer-back');
  return { job: Number(/print job (\d+)/.exec(shipped)[1]) };
});
