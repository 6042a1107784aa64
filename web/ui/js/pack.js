// The packing station: pick the station, scan an order, scan its items (each good unit
// ticks off with a beep; a wrong, extra or unknown scan gives a loud error and a red
// message, and changes nothing), PACK -> optional weight and box -> the server checks
// the counts, ships the order and queues the label on the station's printer; reprint, and
// void (supervisor).
// Scans come from the keyboard-wedge input (POST /api/v1/scans) and from serial
// scanners over the WebSocket ("scan" events for this station).

import { api } from './api.js';
import { h, fill, field } from './dom.js';
import * as ws from './ws.js';
import { attachWedge } from './wedge.js';
import { playOk, playError, playDone } from './sound.js';
import { deviceList, deviceState, applyDeviceEvent } from './device_state.js';

const STATION_KEY = 'depot.station';

export async function mount(main, ctx) {
  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(STATION_KEY) || 'null'); } catch { /* start over */ }
  const state = {
    station: saved && saved.station, printer: saved && saved.printer,
    order: null, counts: {}, lastShipment: null, packing: false, busy: false, carrier: null,
    devices: null,
  };
  const offs = [];
  const ui = {};
  const supervisor = ctx.session.role === 'supervisor' || ctx.session.role === 'admin';

  // ---- Station choice -------------------------------------------------------------
  async function chooseStation() {
    const devices = await deviceList().catch(() => ({ stations: [], printers: [], scanners: [] }));
    const station = field('Station', { id: 'station-name', autocomplete: 'off', list: 'stations',
                                       value: state.station || '', required: true });
    const printer = field('Label printer', { id: 'station-printer', autocomplete: 'off',
                                             list: 'printers', value: state.printer || '',
                                             required: true });
    fill(main,
      h('h1', {}, 'Choose your packing station'),
      h('form', { class: 'station-form', onsubmit: ev => {
        ev.preventDefault();
        const chosen = devices.stations.find(s => s.name === station.input.value);
        state.station = station.input.value.trim();
        state.printer = printer.input.value.trim() || (chosen && chosen.printer) || '';
        if (!state.station || !state.printer) return;
        localStorage.setItem(STATION_KEY, JSON.stringify({ station: state.station, printer: state.printer }));
        packScreen();
      } },
        station.wrap, h('datalist', { id: 'stations' }, devices.stations.map(s => h('option', { value: s.name }))),
        printer.wrap, h('datalist', { id: 'printers' }, devices.printers.map(p => h('option', { value: p.name }))),
        h('button', { type: 'submit', class: 'big' }, 'Start packing')));
    station.input.addEventListener('change', () => {
      const s = devices.stations.find(x => x.name === station.input.value);
      if (s && s.printer && !printer.input.value) printer.input.value = s.printer;
    });
    station.input.focus();
  }

  // ---- Messages ----------------------------------------------------------------------
  function say(kind, text) {
    ui.result.className = 'scan-result ' + kind;
    ui.result.textContent = text;
  }
  function bad(text) { playError(); say('error', text); }

  // ---- The order ---------------------------------------------------------------------
  const lines = () => (state.order ? state.order.lines : []);
  const scanned = sku => state.counts[sku] || 0;
  const wanted = sku => lines().filter(l => l.sku === sku).reduce((n, l) => n + l.quantity, 0);
  const complete = () => state.order && lines().every(l => l.sku && scanned(l.sku) >= wanted(l.sku));
  const anyScanned = () => Object.values(state.counts).some(n => n > 0);
  const orderName = o => o.number || `ORDER-${o.id}`;
  // Each line with its share of the scanned units (a SKU on two lines fills them in order).
  const perLine = () => {
    const pool = { ...state.counts };
    return lines().map(l => {
      const got = Math.min(pool[l.sku] || 0, l.quantity);
      if (l.sku) pool[l.sku] = (pool[l.sku] || 0) - got;
      return { l, got };
    });
  };
  const remaining = () => perLine().filter(({ l, got }) => l.sku && got < l.quantity)
    .map(({ l, got }) => `${l.sku}${l.name ? ' ' + l.name : ''} ×${l.quantity - got}`);

  function renderOrder() {
    const o = state.order;
    if (!o) {
      fill(ui.order, h('p', { class: 'hint' }, 'Scan an order or tote label to start.'));
    } else {
      const shipTo = o.ship_to ? [o.ship_to.name, o.ship_to.city, o.ship_to.country].filter(Boolean).join(', ') : '';
      fill(ui.order,
        h('h2', { id: 'order-title' }, `Order ${orderName(o)}`, ' ',
          h('span', { class: 'status status-' + o.status, id: 'order-status' }, o.status)),
        shipTo ? h('p', { class: 'ship-to' }, 'Ship to: ', shipTo) : null,
        h('table', { class: 'lines', 'aria-labelledby': 'order-title' },
          h('thead', {}, h('tr', {}, ['Item', 'Bin', 'Scanned'].map(t => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, perLine().map(({ l, got }) => {
            const done = got >= l.quantity || o.status === 'shipped';
            return h('tr', { class: done ? 'line done' : 'line', dataset: { sku: l.sku || '' } },
              h('td', {}, h('strong', {}, l.sku || '(unknown SKU)'), h('br'), l.name || l.title || ''),
              h('td', { class: 'bins' }, (l.bins || []).join(' ') || '—'),
              h('td', { class: 'count' }, h('span', { class: 'got' }, String(o.status === 'shipped' ? l.quantity : got)),
                ` of ${l.quantity}`));
          }))));
    }
    const shipped = o && o.status === 'shipped';
    ui.pack.disabled = !complete() || shipped || state.busy;
    ui.clear.disabled = !o;
    ui.reprint.hidden = !state.lastShipment;
    ui.void.hidden = !state.lastShipment || !supervisor;
  }

  // Counts lines per SKU again from scratch when a new order is loaded.
  function setOrder(o) {
    state.order = o;
    state.counts = {};
    state.packing = false;
    state.lastShipment = o && o.status === 'shipped' && o.shipments && o.shipments.length
      ? o.shipments[o.shipments.length - 1].id : null;
    fill(ui.confirm);
    renderOrder();
  }

  async function loadOrder(r) {
    if (state.order && anyScanned() && r.order_id !== state.order.id && state.order.status !== 'shipped') {
      bad(`Scanned order ${r.number || r.external_id || r.order_id}, but order ${orderName(state.order)} is half packed. ` +
          'Finish it, or press Clear order first.');
      return;
    }
    const o = await api('GET', `/api/v1/pack/orders/ORDER-${r.order_id}`);
    setOrder(o);
    if (o.status === 'shipped') say('info', `Order ${orderName(o)} has already shipped. Reprint its label or scan the next order.`);
    else if (o.status === 'cancelled' || o.status === 'needs_attention') {
      const why = (o.alerts || []).map(a => a.message).join('; ');
      bad(`Order ${orderName(o)} is ${o.status.replace('_', ' ')} and cannot be packed${why ? ': ' + why : ''}. Ask a supervisor.`);
    }
    else { playOk(); say('ok', `Order ${orderName(o)}: scan ${o.lines.reduce((n, l) => n + l.quantity, 0)} item(s).`); }
  }

  function scanItem(r) {
    const o = state.order;
    const what = `${r.sku}${r.name ? ' (' + r.name + ')' : ''}`;
    if (!o || o.status === 'shipped') { bad(`Scanned item ${what}, but no order is open. Scan an order first.`); return; }
    if (o.status === 'cancelled' || o.status === 'needs_attention') { bad(`Order ${orderName(o)} cannot be packed.`); return; }
    const want = wanted(r.sku);
    if (!want) {
      bad(`Wrong item: scanned ${what}. Order ${orderName(o)} needs ${remaining().join(', ') || 'nothing more'}.`);
      return;
    }
    if (scanned(r.sku) >= want) {
      bad(`Extra unit: scanned ${what}, but the order needs only ${want} and all are scanned. Take it out.`);
      return;
    }
    state.counts[r.sku] = scanned(r.sku) + 1;
    renderOrder();
    if (complete()) { playDone(); say('ok', `${what}: ${scanned(r.sku)} of ${want}. All items scanned — PACK.`); ui.pack.focus(); }
    else { playOk(); say('ok', `${what}: ${scanned(r.sku)} of ${want}.`); }
  }

  function command(name) {
    if (name === 'PACK') {
      const form = ui.confirm.querySelector('form');
      if (!state.packing) startPack();
      else if (form) form.requestSubmit(); // (a PACK while the form is still coming is ignored)
    }
    else if (name === 'CANCEL') { clearOrder(); }
    else if (name === 'REPRINT') { reprint(); }
    else if (name === 'LOGOUT') { document.getElementById('logout').click(); }
  }

  // One resolved scan, from either source.
  async function handle(r) {
    try {
      switch (r.kind) {
        case 'order': await loadOrder(r); break;
        case 'sku': scanItem(r); break;
        case 'command': command(r.command); break;
        case 'bin': bad(`That is bin ${r.bin}, not an item. ${state.order ? 'Expected: ' + remaining().join(', ') : 'Scan an order first.'}`); break;
        case 'badge': say('info', r.user ? `Badge of ${r.user}. Log out first to change packer.` : 'Unknown badge.'); break;
        default:
          bad(`Unknown code${r.data ? ' "' + r.data + '"' : ''}. ${state.order ? 'Expected: ' + (remaining().join(', ') || 'PACK') : 'Scan an order or tote label.'}`);
      }
    } catch (e) { bad(ctx.errorText(e)); }
    if (!state.packing) ui.scan.focus();
  }

  async function wedgeScan(code) {
    try {
      handle(await api('POST', '/api/v1/scans', null, { station: state.station, code }));
    } catch (e) { bad(ctx.errorText(e)); }
  }

  // ---- PACK, ship, reprint -----------------------------------------------------------------
  async function startPack() {
    if (!complete()) {
      bad(state.order ? `Not complete: still need ${remaining().join(', ')}.` : 'Scan an order first.');
      return;
    }
    if (state.packing) return;
    state.packing = true;
    // Our own address label, or a carrier's (its label prints when the carrier answers).
    const carriers = await api('GET', '/api/v1/pack/carriers').then(d => d.items).catch(() => []);
    const weight = field('Weight in grams (optional; needed for a carrier)', { id: 'pack-weight', type: 'number', min: 1, max: 1000000, inputmode: 'numeric' });
    const box = field('Box (optional)', { id: 'pack-box', tag: 'select',
      options: [['', '— none —'], ['S', 'Small'], ['M', 'Medium'], ['L', 'Large'], ['XL', 'Extra large']] });
    const carrier = field('Carrier', { id: 'pack-carrier', tag: 'select',
      options: [['manual', 'Own label (no carrier)'], ...carriers.map(c => [c.name,
        `${c.name} (${c.kind})${c.available ? '' : ' — ' + (c.message || 'Service temporarily unavailable')}`])] });
    if (carriers.some(c => c.name === state.carrier)) carrier.input.value = state.carrier;
    const go = h('button', { type: 'submit', class: 'big primary', id: 'pack-confirm' }, 'Ship and print label');
    fill(ui.confirm, h('form', { class: 'confirm', 'aria-label': 'Pack', onsubmit: ev => {
      ev.preventDefault();
      state.carrier = carrier.input.value;
      ship(weight.input.value ? Number(weight.input.value) : undefined, box.input.value || undefined,
           carrier.input.value === 'manual' ? undefined : carrier.input.value);
    } }, carrier.wrap, weight.wrap, box.wrap, go,
      h('button', { type: 'button', class: 'big', onclick: () => { state.packing = false; fill(ui.confirm); ui.scan.focus(); } }, 'Back')));
    say('info', 'Weigh and choose a box if you like, then Ship (or scan PACK again).');
    go.focus();
  }

  async function ship(weight_g, box, carrier) {
    if (state.busy || !complete()) return;
    if (carrier && !weight_g) { bad(`Weigh the parcel: a ${carrier} label needs the weight.`); return; }
    state.busy = true;
    renderOrder();
    const o = state.order;
    try {
      const body = { scanned: state.counts, station: state.station, printer: state.printer };
      if (weight_g) body.weight_g = weight_g;
      if (box) body.box = box;
      if (carrier) body.carrier = carrier;
      const r = await api('POST', `/api/v1/orders/${o.id}/pack`, null, body);
      state.order = r.order;
      state.lastShipment = r.shipment_id;
      state.packing = false;
      fill(ui.confirm);
      if (carrier) { playDone(); say('ok', `Order ${orderName(o)} shipped with ${carrier}. Its label prints on ${state.printer} as soon as ${carrier} answers (shipment ${r.shipment_id}). Scan the next order.`); }
      else if (r.print_job) { playDone(); say('ok', `Order ${orderName(o)} shipped. Label queued on ${state.printer} (print job ${r.print_job}). Scan the next order.`); }
      else bad(`Order ${orderName(o)} shipped, but the label was not queued: ${r.print_error}. Press Reprint.`);
    } catch (e) {
      bad(`Not packed: ${ctx.errorText(e)}`);
    } finally {
      state.busy = false;
      renderOrder();
      ui.scan.focus();
    }
  }

  async function reprint() {
    if (!state.lastShipment) { bad('Nothing to reprint yet.'); return; }
    try {
      const r = await api('POST', `/api/v1/shipments/${state.lastShipment}/reprint`, null,
                          { printer: state.printer, station: state.station });
      say('ok', `Label reprinted on ${state.printer} (print job ${r.print_job}).`);
    } catch (e) { bad(`Reprint failed: ${ctx.errorText(e)}`); }
    ui.scan.focus();
  }

  // Supervisor: void the label just printed; the goods stay reserved for the order, which
  // is then packed again. Our own labels are voided at once, a carrier's label through
  // the carrier (the order comes back when the carrier has confirmed).
  async function voidLabel() {
    const sid = state.lastShipment;
    if (!sid || !confirm(`Void the label of shipment ${sid}? The order will be packed again.`)) return;
    const ship = ((state.order && state.order.shipments) || []).find(x => x.id === sid);
    try {
      if (ship && ship.carrier !== 'manual') {
        await api('POST', `/api/v1/shipments/${sid}/void-label`, null, { then: 'release' });
        say('ok', `Void of shipment ${sid} requested from ${ship.carrier}; the order comes back to be packed once they confirm.`);
      } else {
        const r = await api('POST', `/api/v1/shipments/${sid}/void`, null, { then: 'release' });
        setOrder(r.order);
        say('ok', `Label of shipment ${sid} voided. Order ${orderName(r.order)} is ${r.order.status}: scan its items to pack it again.`);
      }
    } catch (e) { bad(`Void failed: ${ctx.errorText(e)}`); }
    ui.scan.focus();
  }

  function clearOrder() {
    setOrder(null);
    say('info', 'Cleared. Scan an order or tote label.');
    ui.scan.focus();
  }

  // ---- Devices at a glance ----------------------------------------------------------------
  async function refreshDevices() {
    state.devices = await deviceList().catch(() => null);
    renderDevices();
  }
  function renderDevices() {
    const d = state.devices;
    if (!d || !ui.printerState || !ui.printerState.isConnected) return;
    const printer = d.printers.find(p => p.name === state.printer);
    const scanner = d.scanners.find(s => s.station === state.station);
    showDevice(ui.printerState, 'Printer', state.printer, printer);
    showDevice(ui.scannerState, 'Scanner', scanner ? scanner.name : '', scanner);
  }
  function showDevice(el, label, name, dev) {
    const st = dev || name ? deviceState(dev) : { text: 'keyboard wedge only', level: 'unknown' };
    el.className = 'device ' + st.level;
    fill(el, `${label}${name ? ' ' + name : ''}: `, h('strong', {}, st.text));
  }

  // ---- The screen ------------------------------------------------------------------------
  function packScreen() {
    ui.result = h('div', { class: 'scan-result info', id: 'scan-result', role: 'status', 'aria-live': 'assertive', 'aria-atomic': 'true' },
      'Scan an order or tote label to start.');
    const scan = field('Scan', { id: 'scan-input', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', class: 'scan-input' });
    ui.scan = scan.input;
    ui.order = h('section', { class: 'order', 'aria-label': 'Order' });
    ui.confirm = h('div', { class: 'confirm-wrap' });
    ui.pack = h('button', { type: 'button', class: 'big primary', id: 'pack-button', onclick: startPack }, 'PACK');
    ui.clear = h('button', { type: 'button', class: 'big', id: 'clear-button', onclick: clearOrder }, 'Clear order');
    ui.reprint = h('button', { type: 'button', class: 'big', id: 'reprint-button', onclick: reprint }, 'Reprint label');
    ui.void = h('button', { type: 'button', class: 'big danger', id: 'void-button', onclick: voidLabel }, 'Void label');
    ui.printerState = h('span', { class: 'device', id: 'printer-state' });
    ui.scannerState = h('span', { class: 'device', id: 'scanner-state' });
    fill(main,
      h('h1', { class: 'visually-hidden' }, 'Packing station'),
      h('div', { class: 'station-bar' },
        h('span', {}, 'Station ', h('strong', { id: 'station-label' }, state.station)),
        ui.printerState, ui.scannerState,
        h('button', { type: 'button', class: 'quiet', onclick: () => { setOrder(null); chooseStation(); } }, 'Change station')),
      ui.result, scan.wrap, ui.order,
      h('div', { class: 'actions' }, ui.pack, ui.clear, ui.reprint, ui.void), ui.confirm);
    offs.push(attachWedge(ui.scan, wedgeScan));
    renderOrder();
    refreshDevices();
    ui.scan.focus();
  }

  offs.push(ws.on('scan', d => {
    if (d.station === state.station && d.source !== 'keyboard' && ui.scan && ui.scan.isConnected) handle(d);
  }));
  // A carrier's label arrived for the shipment just packed (the carrier worker).
  offs.push(ws.on('shipment', d => {
    if (d.shipment_id === state.lastShipment && d.tracking_number && ui.scan && ui.scan.isConnected)
      say('ok', `Carrier label for shipment ${d.shipment_id} (tracking ${d.tracking_number}) queued on ${state.printer}.`);
  }));
  offs.push(ws.on('device', d => { if (state.devices && applyDeviceEvent(state.devices, d)) renderDevices(); }));
  offs.push(ws.on('resync', () => { if (ui.scan && ui.scan.isConnected) refreshDevices(); }));

  if (state.station && state.printer) packScreen();
  else await chooseStation();
  return () => offs.forEach(f => f());
}
