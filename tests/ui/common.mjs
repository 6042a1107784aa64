// Shared by the UI scripts: Debian's Chromium through playwright-core (installed under
// $NODE_DIR by the Python test), login, keyboard-wedge typing, screenshots, and checks
// that fail the script with a message.
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(path.join(process.env.NODE_DIR, 'package.json'));
const { chromium } = require('playwright-core');

export const BASE = process.env.DEPOT_URL;
export const USERS = JSON.parse(process.env.USERS);
export const PASSWORDS = JSON.parse(process.env.PASSWORDS);

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM, headless: true,
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Every tone the page starts is recorded in window.__tones ({freq, type}), so a test can
  // tell the success beep from the error buzz (headless Chromium plays into nothing).
  await context.addInitScript(() => {
    window.__tones = [];
    const create = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () {
      const osc = create.call(this);
      const start = osc.start.bind(osc);
      osc.start = when => { window.__tones.push({ freq: osc.frequency.value, type: osc.type }); return start(when); };
      return osc;
    };
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  // HTTP errors the screens handle (401 before login, 4xx refusals) also log a
  // "Failed to load resource" line; only script errors count.
  page.on('console', m => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  return { browser, context, page, errors };
}

export function check(cond, message) {
  if (!cond) throw new Error('check failed: ' + message);
}

// Screenshots a screen after checking that every visible control on it has an
// accessible name (a <label>, aria-label, or a button's text) and is big enough to hit.
export async function shot(page, name) {
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter(el => el.offsetParent !== null)
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') &&
                  !(el.tagName === 'BUTTON' && el.textContent.trim()))
    .map(el => el.outerHTML.slice(0, 120)));
  check(unnamed.length === 0, `controls without a name on ${name}: ${unnamed.join(' | ')}`);
  // Touch targets: every visible button and field at least 40 px high (gloved hands).
  const small = await page.evaluate(() => [...document.querySelectorAll('button, input:not([type=file]), select')]
    .filter(el => el.offsetParent !== null && el.getBoundingClientRect().height < 40)
    .map(el => el.outerHTML.slice(0, 80)));
  check(small.length === 0, `controls under 40 px on ${name}: ${small.join(' | ')}`);
  await page.screenshot({ path: path.join(process.env.ARTIFACTS, name + '.png'), fullPage: true });
}

// Logs in with the role's user and password on the login screen.
export async function login(page, role) {
  await page.goto(BASE + '/');
  await page.getByLabel('User name').fill(USERS[role]);
  await page.getByLabel('Password').fill(PASSWORDS[role]);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#who').filter({ hasText: `(${role})` }).waitFor();
}

// Types code as a keyboard-wedge scanner does: fast keystrokes, then Enter.
export async function wedge(page, code) {
  await page.keyboard.type(code, { delay: 4 });
  await page.keyboard.press('Enter');
}

// Asks the Python side for something outside the browser ({pty: scan} or {sim: command})
// and waits for its "ok"; returns when it was done (unix ms, wall clock).
const replies = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
export async function outside(request) {
  process.stdout.write('DO ' + JSON.stringify(request) + '\n');
  const { value } = await replies.next();
  check(value && value.startsWith('ok '), 'the test answered ' + value);
  return Number(value.slice(3));
}

// A scan on the serial scanner (a PTY the test holds).
export const serialScan = code => outside({ pty: code });

// Waits until the scan result shows kind ('ok' | 'error' | 'info') with text matching re.
export async function result(page, kind, re) {
  const el = page.locator(`#scan-result.${kind}`).filter({ hasText: re });
  await el.waitFor({ timeout: 10000 });
  return el.textContent();
}

// The tones played since the last call: 'ok' (a high sine beep), 'error' (a low square
// buzz) or 'other', in order.
export async function sounds(page) {
  const tones = await page.evaluate(() => window.__tones.splice(0));
  return tones.map(t => t.type === 'square' && t.freq < 400 ? 'error'
    : t.type === 'sine' && t.freq >= 1000 ? 'ok' : 'other');
}

// Runs body; prints its JSON result as the last line, or the error and exits 1.
export async function main(body) {
  const t = await launch();
  try {
    const out = await body(t);
    check(t.errors.length === 0, 'browser errors: ' + t.errors.join(' | '));
    console.log(JSON.stringify(out || {}));
  } catch (e) {
    console.error(e.stack || String(e));
    try {
      await t.page.screenshot({ path: path.join(process.env.ARTIFACTS, 'failure-' + path.basename(process.argv[1], '.mjs') + '.png'), fullPage: true });
    } catch { /* ignore */ }
    process.exitCode = 1;
  } finally {
    await t.browser.close();
    process.stdin.destroy();
  }
}
