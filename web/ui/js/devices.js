// Devices (supervisor): stations with their scanners and printers, each with its live
// state (online, paper out, head open, unplugged...), updated from "device" events, a
// test print per printer, and moving (re-pairing) a scanner to another station.

import { api } from './api.js';
import { h, fill, field, table } from './dom.js';
import * as ws from './ws.js';
import { deviceList, deviceState } from './device_state.js';

function stateCell(dev) {
  const s = deviceState(dev);
  return h('span', { class: s.level === 'good' ? 'state-good' : s.level === 'bad' ? 'state-bad' : '' }, s.text);
}

export async function mount(main, ctx) {
  const body = h('div', { id: 'devices' });

  async function testPrint(p) {
    try {
      const r = await api('POST', `/api/v1/printers/${encodeURIComponent(p.name)}/test`);
      ctx.showBanner(`Test label queued on ${p.name} (print job ${r.job_id}).`, 'ok');
    } catch (e) { ctx.showBanner(ctx.errorText(e)); }
  }

  async function pair(scanner, station) {
    try {
      await api('POST', `/api/v1/scanners/${encodeURIComponent(scanner.name)}/station`, null, { station });
      ctx.showBanner(`Scanner ${scanner.name} now scans for station ${station}.`, 'ok');
    } catch (e) { ctx.showBanner(ctx.errorText(e)); }
    await load();
  }

  // A station picker and a Move button per scanner.
  function pairCell(scanner, stations) {
    const pick = field(`Station for scanner ${scanner.name}`, { tag: 'select',
      options: stations.map(s => [s.name, s.name]) });
    pick.input.value = scanner.station || '';
    return h('form', { class: 'row', onsubmit: ev => { ev.preventDefault(); pair(scanner, pick.input.value); } },
      pick.wrap, h('button', { type: 'submit', 'aria-label': `Move scanner ${scanner.name}` }, 'Move'));
  }

  async function load() {
    let d;
    try { d = await deviceList(); } catch (e) { ctx.showBanner(ctx.errorText(e)); return; }
    fill(body,
      table('Stations', [
        { title: 'Station', get: s => s.name }, { title: 'Printer', get: s => s.printer || '—' },
        { title: 'Scanners', get: s => (s.scanners || []).join(', ') || '—' },
      ], d.stations, 'No stations set up (depotctl station add).'),
      table('Scanners', [
        { title: 'Scanner', get: s => s.name }, { title: 'Station', get: s => s.station || '' },
        { title: 'Port', get: s => s.port || '' }, { title: 'State', get: s => stateCell(s) },
        { title: 'Re-pair', get: s => pairCell(s, d.stations) },
      ], d.scanners, 'No scanners.'),
      table('Printers', [
        { title: 'Printer', get: p => p.name }, { title: 'State', get: p => stateCell(p) },
        { title: 'Queued', get: p => p.queued ?? '' },
        { title: 'Action', get: p => h('button', { type: 'button', onclick: () => testPrint(p), 'aria-label': `Test print on ${p.name}` }, 'Test print') },
      ], d.printers, 'No printers.'));
  }

  fill(main, h('h1', {}, 'Devices'), body);
  await load();
  const offs = [ws.on('device', load), ws.on('resync', load)];
  return () => offs.forEach(f => f());
}
