// The audit log (supervisor), newest first, a page at a time.

import { api } from './api.js';
import { h, fill, table, when } from './dom.js';

export async function mount(main, ctx) {
  const list = h('div', { id: 'audit-list' });
  async function page(before) {
    try {
      const doc = await api('GET', '/api/v1/audit', { before, limit: 100 });
      list.append(table('Audit log', [
        { title: 'When', get: r => when(r.at) }, { title: 'Who', get: r => r.actor },
        { title: 'Action', get: r => r.action }, { title: 'What', get: r => r.entity },
        { title: 'Detail', get: r => h('code', {}, JSON.stringify(r.detail)) },
      ], doc.items, 'The audit log is empty.'));
      if (doc.next) list.append(h('button', { type: 'button', onclick: ev => { ev.target.remove(); page(doc.next); } }, 'Older'));
    } catch (e) { ctx.showBanner(ctx.errorText(e)); }
  }
  fill(main, h('h1', {}, 'Audit log'), list);
  await page();
}
