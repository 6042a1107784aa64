// Users and API tokens (admin): add users, issue a login badge (shown once), create
// tokens (shown once) and revoke them.

import { api } from './api.js';
import { h, fill, field, table, when } from './dom.js';

const ROLES = [['packer', 'packer'], ['supervisor', 'supervisor'], ['admin', 'admin']];

export async function mount(main, ctx) {
  const users = h('section', { 'aria-labelledby': 'users-title' });
  const tokens = h('section', { 'aria-labelledby': 'tokens-title' });
  const secret = h('div', { id: 'secret-once', role: 'status', 'aria-live': 'polite' });

  const once = (what, value) => fill(secret, h('div', { class: 'panel' },
    h('p', {}, `${what} — shown only now; copy or print it:`), h('code', { class: 'secret' }, value)));

  async function load() {
    const [u, t] = await Promise.all([api('GET', '/api/v1/users', { limit: 500 }), api('GET', '/api/v1/tokens', { limit: 500 })]);
    const uname = field('Name', { id: 'user-name', required: true, maxlength: 64 });
    const urole = field('Role', { id: 'user-role', tag: 'select', options: ROLES });
    const upass = field('Password (optional, 8+ characters)', { id: 'user-password', type: 'password', autocomplete: 'new-password' });
    fill(users, h('h2', { id: 'users-title' }, 'Users'),
      table('Users', [
        { title: 'Name', get: r => r.name }, { title: 'Role', get: r => r.role },
        { title: 'Password', get: r => r.password ? 'set' : '—' }, { title: 'Badge', get: r => r.badge ? 'issued' : '—' },
        { title: 'Disabled', get: r => r.disabled ? 'yes' : 'no' },
        { title: 'Action', get: r => h('button', { type: 'button', 'aria-label': `Issue badge for ${r.name}`, onclick: async () => {
          try { const b = await api('POST', `/api/v1/users/${encodeURIComponent(r.name)}/badge`); once(`Badge for ${r.name}`, b.badge); await load(); }
          catch (e) { ctx.showBanner(ctx.errorText(e)); }
        } }, r.badge ? 'New badge' : 'Issue badge') },
      ], u.items),
      h('form', { class: 'panel row', 'aria-label': 'Add user', onsubmit: async ev => {
        ev.preventDefault();
        const body = { name: uname.input.value, role: urole.input.value };
        if (upass.input.value) body.password = upass.input.value;
        try { await api('POST', '/api/v1/users', null, body); ctx.showBanner(`User ${body.name} added.`, 'ok'); await load(); }
        catch (e) { ctx.showBanner(ctx.errorText(e)); }
      } }, uname.wrap, urole.wrap, upass.wrap, h('button', { type: 'submit' }, 'Add user')));

    const tname = field('Token name', { id: 'token-name', required: true, maxlength: 64 });
    const trole = field('Role', { id: 'token-role', tag: 'select', options: ROLES });
    fill(tokens, h('h2', { id: 'tokens-title' }, 'API tokens'),
      table('Tokens', [
        { title: 'Name', get: r => r.name }, { title: 'Role', get: r => r.role },
        { title: 'Created', get: r => when(r.created_at) }, { title: 'Last used', get: r => when(r.last_used_at) || 'never' },
        { title: 'State', get: r => r.revoked_at ? `revoked ${when(r.revoked_at)}` : 'active' },
        { title: 'Action', get: r => r.revoked_at ? '' : h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke token ${r.name}`, onclick: async () => {
          if (!confirm(`Revoke token ${r.name}? Programs using it stop working.`)) return;
          try { await api('DELETE', `/api/v1/tokens/${r.id}`); await load(); } catch (e) { ctx.showBanner(ctx.errorText(e)); }
        } }, 'Revoke') },
      ], t.items, 'No tokens.'),
      h('form', { class: 'panel row', 'aria-label': 'Create token', onsubmit: async ev => {
        ev.preventDefault();
        try { const r = await api('POST', '/api/v1/tokens', null, { name: tname.input.value, role: trole.input.value }); once(`Token ${r.name}`, r.token); await load(); }
        catch (e) { ctx.showBanner(ctx.errorText(e)); }
      } }, tname.wrap, trole.wrap, h('button', { type: 'submit' }, 'Create token')));
  }

  fill(main, h('h1', {}, 'Users and API tokens'), secret, users, tokens);
  try { await load(); } catch (e) { ctx.showBanner(ctx.errorText(e)); }
}
