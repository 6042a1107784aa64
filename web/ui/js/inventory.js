// Inventory (supervisor): search SKUs by code, name, GTIN or bin; a SKU's levels per
// location; adjust with a reason; its ledger; print SKU and bin labels; CSV upload with
// the per-row error report.

import { api } from './api.js';
import { h, fill, field, table, when } from './dom.js';

export async function mount(main, ctx) {
  const q = field('Search SKU, name, GTIN or bin', { id: 'inv-search', type: 'search', autocomplete: 'off' });
  const results = h('div', { id: 'inv-results' });
  const detail = h('section', { id: 'inv-detail', 'aria-live': 'polite' });
  const upload = h('section', { class: 'panel', 'aria-labelledby': 'csv-title' });
  let next = null;

  async function search(more = false) {
    try {
      const doc = await api('GET', '/api/v1/skus', { q: q.input.value.trim(), after: more ? next : null, limit: 50 });
      next = doc.next;
      const t = table('SKUs', [
        { title: 'SKU', get: r => h('button', { type: 'button', class: 'quiet', onclick: () => show(r.sku) }, r.sku) },
        { title: 'Name', get: r => r.name },
        { title: 'GTIN', get: r => (r.gtins || []).join(' ') },
        { title: 'On hand', get: r => r.on_hand },
        { title: 'Reserved', get: r => r.reserved },
        { title: 'Available', get: r => r.available },
      ], doc.items, 'No SKU matches.');
      if (more) results.append(t); else fill(results, t);
      if (next) results.append(h('button', { type: 'button', onclick: ev => { ev.target.remove(); search(true); } }, 'More'));
    } catch (e) { ctx.showBanner(ctx.errorText(e)); }
  }

  async function show(sku) {
    let s, ledger;
    try {
      [s, ledger] = await Promise.all([
        api('GET', `/api/v1/skus/${encodeURIComponent(sku)}`),
        api('GET', `/api/v1/skus/${encodeURIComponent(sku)}/ledger`, { limit: 20 })]);
    } catch (e) { ctx.showBanner(ctx.errorText(e)); return; }
    const loc = field('Location', { id: 'adj-location', tag: 'select', options: s.levels.map(l => [l.location, l.location]) });
    const delta = field('Change (+/− units)', { id: 'adj-delta', type: 'number', required: true, step: 1 });
    const reason = field('Reason', { id: 'adj-reason', required: true, maxlength: 200 });
    const adjStatus = h('p', { role: 'status', id: 'adj-status' });
    const printer = field('Label printer', { id: 'label-printer', autocomplete: 'off', list: 'label-printers' });
    const labels = await labelActions(s, printer);
    fill(detail,
      h('h2', { id: 'sku-title', tabindex: '-1' }, `${s.sku} — ${s.name}`),
      table('Stock by location', [
        { title: 'Location', get: l => l.location }, { title: 'Bin', get: l => l.bin || '—' },
        { title: 'On hand', get: l => l.on_hand }, { title: 'Reserved', get: l => l.reserved },
        { title: 'Available', get: l => l.available },
      ], s.levels, 'Not stocked anywhere yet.'),
      h('form', { class: 'panel row', 'aria-label': 'Adjust stock', onsubmit: async ev => {
        ev.preventDefault();
        try {
          const where = loc.input.value, by = Number(delta.input.value);
          const r = await api('POST', `/api/v1/skus/${encodeURIComponent(s.sku)}/adjust`, null,
            { location: where, delta: by, reason: reason.input.value });
          const level = r.levels.find(l => l.location === where);
          await show(s.sku);
          fill(document.getElementById('adj-status'),
            `Adjusted ${where} by ${by > 0 ? '+' : ''}${by}: ${level ? level.on_hand : '?'} there, ${r.on_hand} in all (ledger ${r.ledger_id}).`);
        } catch (e) { fill(adjStatus, ctx.errorText(e)); adjStatus.className = 'state-bad'; }
      } }, loc.wrap, delta.wrap, reason.wrap, h('button', { type: 'submit' }, 'Adjust'), adjStatus),
      labels,
      table('Ledger (latest 20)', [
        { title: 'When', get: r => when(r.created_at) }, { title: 'Location', get: r => r.location },
        { title: 'Change', get: r => (r.delta > 0 ? '+' : '') + r.delta }, { title: 'Kind', get: r => r.kind },
        { title: 'Reason', get: r => r.reason || '' }, { title: 'By', get: r => r.actor },
      ], ledger.items, 'No ledger rows.'));
    document.getElementById('sku-title').focus();
  }

  // SKU and bin labels through the print queue, on a printer of the user's choice.
  async function labelActions(s, printer) {
    const printers = await api('GET', '/api/v1/printers').then(d => d.items).catch(() => []);
    const status = h('p', { role: 'status', id: 'label-status' });
    const print = async (kind, code) => {
      try {
        const r = await api('POST', '/api/v1/labels', null, { kind, code, printer: printer.input.value });
        fill(status, `${kind === 'sku' ? 'SKU' : 'Bin'} label ${code} queued on ${r.printer} (print job ${r.job_id}).`);
      } catch (e) { fill(status, ctx.errorText(e)); }
    };
    const bins = [...new Set(s.levels.map(l => l.bin).filter(Boolean))];
    if (!printer.input.value && printers.length) printer.input.value = printers[0].name;
    return h('div', { class: 'panel row', role: 'group', 'aria-label': 'Labels' }, printer.wrap,
      h('datalist', { id: 'label-printers' }, printers.map(p => h('option', { value: p.name }))),
      h('button', { type: 'button', onclick: () => print('sku', s.sku) }, 'Print SKU label'),
      bins.map(b => h('button', { type: 'button', onclick: () => print('bin', b) }, `Print bin label ${b}`)),
      status);
  }

  // CSV upload: all-or-nothing; a refused file lists every error by row and column.
  const file = field('Stock CSV (sku,name,gtin,location,on_hand[,bin,buffer])', { id: 'csv-file', type: 'file', accept: '.csv,text/csv' });
  const report = h('div', { id: 'csv-report', 'aria-live': 'polite' });
  fill(upload, h('h2', { id: 'csv-title' }, 'Import stock CSV'),
    h('form', { class: 'row', onsubmit: async ev => {
      ev.preventDefault();
      const f = file.input.files[0];
      if (!f) return;
      try {
        const r = await api('POST', '/api/v1/stock/import', null, await f.text(), 'text/csv');
        fill(report, h('p', { class: 'state-good', role: 'status' },
          `Imported ${r.rows} row(s): ${r.changed} stock level(s) changed, ${r.skus_created} new SKU(s).`));
        search();
      } catch (e) {
        const errs = (e.body && e.body.error && e.body.error.errors) || [];
        fill(report, h('p', { class: 'state-bad', role: 'alert' }, ctx.errorText(e)),
          errs.length ? h('table', { class: 'errors' }, h('caption', {}, 'Errors by row'),
            h('thead', {}, h('tr', {}, ['Row', 'Column', 'Problem'].map(t => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, errs.map(x => h('tr', {}, h('td', {}, x.row), h('td', {}, x.column || '(row)'), h('td', {}, x.message))))) : null);
      }
    } }, file.wrap, h('button', { type: 'submit' }, 'Upload')), report);

  fill(main, h('h1', {}, 'Inventory'),
    h('form', { class: 'row', role: 'search', onsubmit: ev => { ev.preventDefault(); search(); } },
      q.wrap, h('button', { type: 'submit' }, 'Search')),
    results, detail, upload);
  q.input.focus();
  await search();
}
