// Orders (supervisor): filter by status and channel, open one to see why it needs
// attention, its lines, reservations, shipments and events (its audit history), and
// release or cancel it.

import { api } from './api.js';
import { h, fill, field, table, when } from './dom.js';

const STATUSES = ['', 'open', 'reserved', 'needs_attention', 'packed', 'shipped', 'cancelled'];

export async function mount(main, ctx) {
  const status = field('Status', { id: 'ord-status', tag: 'select', options: STATUSES.map(s => [s, s ? s.replace('_', ' ') : 'any']) });
  const channels = await api('GET', '/api/v1/sync/status').then(s => s.channels || []).catch(() => []);
  const channel = field('Channel', { id: 'ord-channel', tag: 'select',
    options: [['', 'any'], ['0', 'local orders'], ...channels.map(c => [String(c.id), `${c.name} (${c.kind})`])] });
  const list = h('div', { id: 'ord-list' });
  const detail = h('section', { id: 'ord-detail', 'aria-live': 'polite' });

  async function load() {
    try {
      const doc = await api('GET', '/api/v1/orders', { status: status.input.value, channel: channel.input.value, limit: 100 });
      fill(list, table('Orders', [
        { title: 'Order', get: o => h('button', { type: 'button', class: 'quiet', onclick: () => show(o.id) }, o.number || `#${o.id}`) },
        { title: 'Status', get: o => o.status },
        { title: 'Channel', get: o => o.channel_id === null ? 'local' : (channels.find(c => c.id === o.channel_id) || { name: o.channel_id }).name },
        { title: 'External id', get: o => o.external_id },
        { title: 'Units', get: o => o.units },
        { title: 'Updated', get: o => when(o.updated_at) },
      ], doc.items, 'No orders match.'));
    } catch (e) { ctx.showBanner(ctx.errorText(e)); }
  }

  async function act(o, action) {
    try {
      await api('POST', `/api/v1/orders/${o.id}/${action}`);
      ctx.showBanner(`Order ${o.number || o.id} ${action === 'cancel' ? 'cancelled' : 'released'}.`, 'ok');
      await Promise.all([show(o.id), load()]);
    } catch (e) { ctx.showBanner(ctx.errorText(e)); }
  }

  async function show(id) {
    let o, events;
    try {
      [o, events] = await Promise.all([api('GET', `/api/v1/pack/orders/ORDER-${id}`),
                                       api('GET', `/api/v1/orders/${id}/events`)]);
    } catch (e) { ctx.showBanner(ctx.errorText(e)); return; }
    const live = o.status === 'open' || o.status === 'reserved' || o.status === 'needs_attention';
    fill(detail,
      h('h2', { id: 'ord-title', tabindex: '-1' }, `Order ${o.number || '#' + o.id} — ${o.status}`),
      (o.alerts || []).length ? h('ul', { class: 'alerts', 'aria-label': 'Needs attention' },
        o.alerts.map(a => h('li', { class: 'state-bad' }, `${a.kind.replace(/_/g, ' ')}: ${a.message}`))) : null,
      o.ship_to ? h('p', {}, 'Ship to: ', Object.values(o.ship_to).filter(v => typeof v === 'string').join(', ')) : null,
      table('Lines', [
        { title: '#', get: l => l.line_no }, { title: 'SKU', get: l => l.sku || '(unresolved)' },
        { title: 'Name', get: l => l.name || l.title || '' }, { title: 'Qty', get: l => l.quantity },
        { title: 'Reserved', get: l => l.reserved }, { title: 'Packed', get: l => l.packed },
        { title: 'Bins', get: l => (l.bins || []).join(' ') },
      ], o.lines),
      table('Reservations', [
        { title: 'Line', get: r => r.line_no }, { title: 'SKU', get: r => r.sku },
        { title: 'Location', get: r => r.location }, { title: 'Qty', get: r => r.quantity },
        { title: 'Status', get: r => r.status }, { title: 'Expires', get: r => r.expires_at ? when(r.expires_at) : 'never' },
      ], o.reservations, 'No reservations.'),
      table('Shipments', [
        { title: 'Id', get: s => s.id }, { title: 'Carrier', get: s => s.carrier },
        { title: 'Tracking', get: s => s.tracking_number || '' }, { title: 'Status', get: s => s.status },
        { title: 'Created', get: s => when(s.created_at) },
      ], o.shipments, 'No shipments.'),
      table('Events', [
        { title: 'When', get: ev => when(ev.at) }, { title: 'What', get: ev => ev.action },
        { title: 'Who', get: ev => ev.actor },
        { title: 'Details', get: ev => Object.entries(ev.detail || {}).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ') },
      ], events.items, 'No events recorded.'),
      h('div', { class: 'actions' },
        o.status === 'reserved' ? h('button', { type: 'button', onclick: () => act(o, 'release') }, 'Release reservation') : null,
        live ? h('button', { type: 'button', class: 'danger', onclick: () => {
          if (confirm(`Cancel order ${o.number || o.id}? Its reservations are released.`)) act(o, 'cancel');
        } }, 'Cancel order') : null));
    document.getElementById('ord-title').focus();
  }

  fill(main, h('h1', {}, 'Orders'),
    h('form', { class: 'row', 'aria-label': 'Filter orders', onsubmit: ev => { ev.preventDefault(); load(); } },
      status.wrap, channel.wrap, h('button', { type: 'submit' }, 'Filter')),
    list, detail);
  await load();
}
