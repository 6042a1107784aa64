// Driven by bench/ui/run.py: a packer's page in Chromium with an order of SCANS units;
// each scan is written on the station's scanner PTY (by run.py), and we take the time
// its "scan" message reached the page's WebSocket (a listener added before the page's
// own) and the time the page showed it (a MutationObserver on the scan result), both
// from the PTY write. Clocks: unix milliseconds on the same machine (Python, Chromium).
import { main, login, outside, result } from '../../tests/ui/common.mjs';

const SCANS = Number(process.env.SCANS);

await main(async ({ page }) => {
  await page.addInitScript(() => {
    const Base = window.WebSocket;
    window.__frames = [];
    window.WebSocket = class extends Base {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', e => {
          if (String(e.data).startsWith('{"type":"scan"'))
            window.__frames.push(performance.timeOrigin + performance.now());
        });
      }
    };
  });
  await login(page, 'packer');
  await page.getByLabel('Station').fill('PACK-1');
  await page.getByLabel('Station').dispatchEvent('change');
  await page.getByRole('button', { name: 'Start packing' }).click();
  await page.locator('#scanner-state').filter({ hasText: 'online' }).waitFor();
  await outside({ pty: process.env.ORDER_NUMBER });
  await result(page, 'ok', new RegExp(`scan ${SCANS} item`));
  await page.evaluate(() => {
    window.__frames.length = 0;
    window.__shown = [];
    new MutationObserver(() => window.__shown.push(performance.timeOrigin + performance.now()))
      .observe(document.getElementById('scan-result'), { childList: true, characterData: true, subtree: true });
  });
  const dom = [], wire = [];
  for (let i = 0; i < SCANS; i++) {
    const at = await outside({ pty: process.env.SKU });
    await page.waitForFunction(n => window.__shown.length >= n, i + 1, { polling: 'raf' });
    const [frame, shown] = await page.evaluate(n => [window.__frames[n], window.__shown[n]], i);
    dom.push(shown - at);
    wire.push(frame - at);
  }
  return { dom, wire };
});
