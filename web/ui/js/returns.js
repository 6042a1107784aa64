// Returns (supervisor): scan the order or tote label of a shipped order, scan each unit
// that came back and choose its disposition (sellable, damaged, unsellable), then
// receive the return: POST /api/v1/orders/{id}/returns books every unit at once.
// A unit not on the order, or more units than shipped, is refused with the error sound.

import { api } from './api.js';
import { h, fill, field, table } from './dom.js';
import { attachWedge } from './wedge.js';
import { playOk, playError, playDone } from './sound.js';

const DISPOSITIONS = [['sellable', 'Sellable: back on the shelf'], ['damaged', 'Damaged: to quarantine'],
                      ['unsellable', 'Unsellable: write off']];

export async function mount(main, ctx) {
  const state = { order: null, units: [] };
  const result = h('div', { class: 'scan-result info', id: 'return-result', role: 'status',
                            'aria-live': 'assertive', 'aria-atomic': 'true' },
                   'Scan the order or tote label of the returned parcel.');
  const scan = field('Scan', { id: 'return-scan', autocomplete: 'off', autocapitalize: 'off',
                               spellcheck: 'false', class: 'scan-input' });
  const order = h('section', { id: 'return-order', 'aria-label': 'Returned order' });
  const units = h('section', { id: 'return-units', 'aria-label': 'Units to receive' });
  const receive = h('button', { type: 'button', class: 'big primary', id: 'return-receive',
                                onclick: () => submit() }, 'Receive return');

  const say = (kind, text) => { result.className = 'scan-result ' + kind; result.textContent = text; };
  const bad = text => { playError(); say('error', text); };
  const orderName = o => o.number || `ORDER-${o.id}`;
  const lineOf = sku => state.order.lines.find(l => l.sku === sku);
  const pending = sku => state.units.filter(u => u.sku === sku).length;
  const left = l => l.quantity - (l.returned || 0) - pending(l.sku);

  function render() {
    const o = state.order;
    fill(order, o ? [
      h('h2', { id: 'return-title' }, `Order ${orderName(o)} `, h('span', { class: 'status' }, o.status)),
      table('Shipped items', [
        { title: 'SKU', get: l => l.sku || '(unknown SKU)' }, { title: 'Name', get: l => l.name || l.title || '' },
        { title: 'Shipped', get: l => l.quantity }, { title: 'Returned before', get: l => l.returned || 0 },
        { title: 'Scanned now', get: l => pending(l.sku) },
      ], o.lines)] : h('p', { class: 'hint' }, 'No order yet.'));
    fill(units, state.units.length ? h('table', {},
      h('caption', {}, 'Units to receive'),
      h('thead', {}, h('tr', {}, ['#', 'Item', 'Disposition', ''].map(t => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, state.units.map((u, i) => {
        const sel = field(`Disposition of unit ${i + 1} (${u.sku})`, { tag: 'select', options: DISPOSITIONS });
        sel.input.value = u.disposition;
        sel.input.addEventListener('change', () => { u.disposition = sel.input.value; });
        return h('tr', { dataset: { sku: u.sku } }, h('td', {}, String(i + 1)),
          h('td', {}, h('strong', {}, u.sku), ' ', u.name || ''), h('td', {}, sel.wrap),
          h('td', {}, h('button', { type: 'button', 'aria-label': `Remove unit ${i + 1}`,
                                    onclick: () => { state.units.splice(i, 1); render(); } }, 'Remove')));
      }))) : null);
    receive.disabled = !state.units.length;
  }

  async function loadOrder(id) {
    if (state.units.length) { bad('Receive or remove the scanned units before opening another order.'); return; }
    const o = await api('GET', `/api/v1/pack/orders/ORDER-${id}`);
    if (o.status !== 'shipped') { bad(`Order ${orderName(o)} is ${o.status}: only shipped orders take returns.`); return; }
    state.order = o;
    render();
    playOk();
    say('ok', `Order ${orderName(o)}: scan each returned unit and choose what becomes of it.`);
  }

  function addUnit(r) {
    const what = `${r.sku}${r.name ? ' (' + r.name + ')' : ''}`;
    if (!state.order) { bad(`Scanned ${what}, but no order is open. Scan the order label first.`); return; }
    const l = lineOf(r.sku);
    if (!l) { bad(`Not on this order: scanned ${what}. Order ${orderName(state.order)} shipped ${state.order.lines.map(x => x.sku).join(', ')}.`); return; }
    if (left(l) <= 0) { bad(`Extra unit: scanned ${what}, but order ${orderName(state.order)} shipped ${l.quantity} and all are accounted for.`); return; }
    state.units.push({ sku: r.sku, name: r.name, disposition: 'sellable' });
    render();
    playOk();
    say('ok', `${what}: unit ${state.units.length} added. Choose its disposition, scan the next unit, or Receive return.`);
  }

  async function onScan(code) {
    try {
      const r = await api('POST', '/api/v1/scans', null, { station: 'RETURNS', code });
      if (r.kind === 'order') await loadOrder(r.order_id);
      else if (r.kind === 'sku') addUnit(r);
      else bad(`Unknown code "${r.data || code}". Scan an order label or a returned item.`);
    } catch (e) { bad(ctx.errorText(e)); }
    scan.input.focus();
  }

  async function submit() {
    if (!state.order || !state.units.length) return;
    const o = state.order;
    try {
      const r = await api('POST', `/api/v1/orders/${o.id}/returns`, null,
                          { units: state.units.map(u => ({ sku: u.sku, disposition: u.disposition })) });
      const n = state.units.length;
      state.units = [];
      state.order = r.order;
      render();
      playDone();
      say('ok', `Return of order ${orderName(o)} received: ${n} unit(s) — ` +
          r.returns.map(x => `${x.quantity} × ${x.sku} ${x.disposition}`).join(', ') + '.');
    } catch (e) { bad(`Not received: ${ctx.errorText(e)}`); }
    scan.input.focus();
  }

  fill(main, h('h1', {}, 'Returns'), result, scan.wrap, order, units,
    h('div', { class: 'actions' }, receive));
  render();
  const detach = attachWedge(scan.input, onScan);
  scan.input.focus();
  return detach;
}
