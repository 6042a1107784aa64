// Sync (supervisor): channel and carrier connections with their circuit breakers (an
// open one reads "Service temporarily unavailable"), outbox and inbox counts, and dead
// letters with their error and Retry.

import { api } from './api.js';
import { h, fill, table, when } from './dom.js';
import * as ws from './ws.js';

const BREAKER_TEXT = {
  open: 'Service temporarily unavailable', half_open: 'Testing the service again', closed: 'OK',
};

// How many rows a queue holds in one status: "500+" past one page.
async function count(path, status) {
  const doc = await api('GET', path, { status, limit: 500 });
  return doc.next ? `${doc.items.length}+` : String(doc.items.length);
}

export async function mount(main, ctx) {
  const status = h('section', { id: 'sync-status', 'aria-labelledby': 'sync-conn' });
  const counts = h('section', { id: 'sync-counts', 'aria-label': 'Queues' });
  const dead = h('section', { id: 'dead-letters', 'aria-labelledby': 'dead-title' });
  const inbox = h('section', { id: 'inbox-problems' });

  function showStatus(s, carriers) {
    const breakers = s.breakers || [];
    fill(status, h('h2', { id: 'sync-conn' }, 'Connections'),
      h('p', {}, s.running ? 'Sync worker running.' : 'Sync worker stopped.'),
      table('Channels', [
        { title: 'Channel', get: c => `${c.name} (${c.kind})` },
        { title: 'State', get: c => {
          const mine = breakers.filter(b => b.channel_id === c.id && b.state !== 'closed');
          const open = mine.find(b => b.state === 'open') || mine[0];
          return open ? h('span', { class: 'state-bad' }, BREAKER_TEXT[open.state] || open.state)
            : c.paused_for_ms > 0 ? h('span', { class: 'state-bad' }, `Rate limited, paused ${Math.ceil(c.paused_for_ms / 1000)} s`)
              : h('span', { class: 'state-good' }, 'OK');
        } },
        { title: 'In flight', get: c => c.inflight },
        { title: 'Delivered', get: c => c.delivered ?? '' },
        { title: 'Dead', get: c => c.dead ?? '' },
      ], s.channels || [], 'No channels connected.'),
      breakers.length ? table('Circuit breakers', [
        { title: 'Channel', get: b => b.channel_id }, { title: 'Endpoint', get: b => b.endpoint },
        { title: 'State', get: b => h('span', { class: b.state === 'closed' ? 'state-good' : 'state-bad' }, BREAKER_TEXT[b.state] || b.state) },
        { title: 'Failures in a row', get: b => b.consecutive_failures },
      ], breakers) : null,
      table('Carriers', [
        { title: 'Carrier', get: c => `${c.name} (${c.kind})` },
        { title: 'State', get: c => !c.enabled ? 'disabled'
          : c.available ? h('span', { class: 'state-good' }, 'OK')
            : h('span', { class: 'state-bad' }, c.message || BREAKER_TEXT.open) },
        { title: 'Token', get: c => c.token && c.token.expires_at ? `valid until ${when(c.token.expires_at)}` : 'none yet' },
        { title: 'Labels', get: c => c.breaker ? c.breaker.labels : '' },
        { title: 'Failures in a row', get: c => c.breaker ? c.breaker.consecutive_failures : '' },
      ], carriers, 'No carriers connected.'));
  }

  // Outbox counts come with the sync status; the inbox is counted a page at a time.
  async function loadCounts(s) {
    const ob = s.outbox || {};
    const op = String((ob.pending || 0) + (ob.inflight || 0)), od = String(ob.dead || 0);
    const [ip, ifl, idd] = await Promise.all([
      count('/api/v1/inbox', 'pending'), count('/api/v1/inbox', 'failed'), count('/api/v1/inbox', 'dead')]);
    fill(counts, h('h2', {}, 'Queues'), h('div', { class: 'counts' },
      [['Outbox to send', op, 'count-outbox-pending'], ['Outbox dead', od, 'count-outbox-dead'],
       ['Inbox pending', ip, 'count-inbox-pending'], ['Inbox failed', ifl, 'count-inbox-failed'],
       ['Inbox dead', idd, 'count-inbox-dead']]
        .map(([t, n, id]) => h('div', {}, h('strong', { id }, n), t))));
  }

  async function retry(id) {
    try {
      await api('POST', id === 'all' ? '/api/v1/outbox/retry-dead' : `/api/v1/outbox/${id}/retry`);
      ctx.showBanner(id === 'all' ? 'All dead letters queued again.' : `Event ${id} queued again.`, 'ok');
    } catch (e) { ctx.showBanner(ctx.errorText(e)); }
    await refresh();
  }

  async function loadDead() {
    const doc = await api('GET', '/api/v1/outbox', { status: 'dead', limit: 100 });
    fill(dead, h('h2', { id: 'dead-title' }, 'Dead letters'),
      table('Outbox events that gave up', [
        { title: 'Id', get: r => r.id }, { title: 'Topic', get: r => r.topic },
        { title: 'For', get: r => `${r.target} ${r.target_id}` }, { title: 'Attempts', get: r => r.attempts },
        { title: 'Error', get: r => h('span', { class: 'state-bad' }, r.last_error || '') },
        { title: 'Created', get: r => when(r.created_at) },
        { title: 'Action', get: r => h('button', { type: 'button', onclick: () => retry(r.id), 'aria-label': `Retry event ${r.id}` }, 'Retry') },
      ], doc.items, 'No dead letters.'),
      doc.items.length > 1 ? h('button', { type: 'button', onclick: () => retry('all') }, 'Retry all') : null);
    const bad = await api('GET', '/api/v1/inbox', { status: 'dead', limit: 50 });
    fill(inbox, bad.items.length ? table('Webhook deliveries that gave up', [
      { title: 'Id', get: r => r.id }, { title: 'Source', get: r => r.source }, { title: 'Topic', get: r => r.topic },
      { title: 'Error', get: r => r.last_error || '' }, { title: 'Received', get: r => when(r.received_at) },
    ], bad.items) : null);
  }

  async function refresh() {
    try {
      const [s, c] = await Promise.all([api('GET', '/api/v1/sync/status'), api('GET', '/api/v1/carriers')]);
      showStatus(s, c.items || []);
      await Promise.all([loadCounts(s), loadDead()]);
    } catch (e) { ctx.showBanner(ctx.errorText(e)); }
  }

  fill(main, h('h1', {}, 'Sync'),
    h('button', { type: 'button', onclick: refresh }, 'Refresh'), status, counts, dead, inbox);
  await refresh();
  let timer = null;
  const soon = () => { clearTimeout(timer); timer = setTimeout(refresh, 300); };
  const offs = [ws.on('sync', soon), ws.on('resync', soon)];
  return () => { clearTimeout(timer); offs.forEach(f => f()); };
}
