// The single-page shell: session check and login (badge or password), the screen list
// by role, hash routing between screens without page reloads, the live-link indicator.

import { api, setCsrf, setUnauthenticatedHandler, ApiError } from './api.js';
import { h, fill, field } from './dom.js';
import * as ws from './ws.js';
import { attachWedge } from './wedge.js';

const ROLE_RANK = { packer: 1, supervisor: 2, admin: 3 };

// Each screen module exports mount(main, ctx) and may return a cleanup function.
const SCREENS = [
  { id: 'pack', title: 'Packing', role: 'packer', load: () => import('./pack.js') },
  { id: 'inventory', title: 'Inventory', role: 'supervisor', load: () => import('./inventory.js') },
  { id: 'orders', title: 'Orders', role: 'supervisor', load: () => import('./orders.js') },
  { id: 'returns', title: 'Returns', role: 'supervisor', load: () => import('./returns.js') },
  { id: 'sync', title: 'Sync', role: 'supervisor', load: () => import('./sync.js') },
  { id: 'devices', title: 'Devices', role: 'supervisor', load: () => import('./devices.js') },
  { id: 'users', title: 'Users & tokens', role: 'admin', load: () => import('./users.js') },
  { id: 'audit', title: 'Audit log', role: 'supervisor', load: () => import('./audit.js') },
];

const main = document.getElementById('main');
const banner = document.getElementById('banner');
let session = null;
let cleanup = null;

export function allowed(screen, role) {
  return (ROLE_RANK[role] || 0) >= ROLE_RANK[screen.role];
}

// A message across the top of the screen: kind 'error' (red), 'ok' or 'info'.
function showBanner(text, kind = 'error') {
  banner.className = 'banner ' + kind;
  banner.textContent = text;
  banner.hidden = !text;
}

function errorText(e) {
  return e instanceof ApiError ? e.message : String(e && e.message || e);
}

function renderNav() {
  const nav = document.getElementById('nav');
  const current = currentId();
  fill(nav, SCREENS.filter(s => allowed(s, session.role)).map(s =>
    h('a', { href: '#/' + s.id, 'aria-current': s.id === current ? 'page' : false }, s.title)));
  fill(document.getElementById('who'), `${session.user || session.actor} (${session.role})`);
}

function currentId() {
  const id = location.hash.replace(/^#\/?/, '').split('/')[0];
  return id || 'pack';
}

// Every screen mounts into a fresh container, so a slow screen that finishes after
// the user moved on writes into a detached element and is cleaned up at once.
let routeGen = 0;

async function route() {
  if (!session) return;
  const gen = ++routeGen;
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  showBanner('');
  renderNav();
  const view = h('div', { class: 'view' });
  fill(main, view);
  const screen = SCREENS.find(s => s.id === currentId());
  if (!screen) {
    fill(view, h('h1', {}, 'No such screen'), h('p', {}, h('a', { href: '#/pack' }, 'Go to packing')));
    return;
  }
  document.title = `${screen.title} — Depot`;
  if (!allowed(screen, session.role)) {
    fill(view, h('h1', {}, screen.title),
      h('p', { class: 'denied', role: 'alert' },
        `The ${screen.title} screen needs the ${screen.role} role; you are logged in as ${session.role}.`));
    return;
  }
  try {
    const mod = await screen.load();
    if (gen !== routeGen) return;
    const done = await mod.mount(view, { session, showBanner, errorText, route });
    if (gen === routeGen) cleanup = done;
    else if (done) done();
  } catch (e) {
    if (gen === routeGen) showBanner(errorText(e));
  }
}

function setLinkState(state) {
  const el = document.getElementById('link-state');
  el.textContent = state === 'live' ? 'live' : state === 'offline' ? 'reconnecting…' : 'connecting…';
  el.className = 'link-state ' + state;
}

function started(s) {
  session = s;
  setCsrf(s.csrf_token);
  document.getElementById('top').hidden = false;
  ws.connect(setLinkState);
  route();
}

function loginScreen(message) {
  document.getElementById('top').hidden = true;
  document.title = 'Log in — Depot';
  const badge = field('Scan your badge', { name: 'badge', type: 'password', autocomplete: 'off',
                                            id: 'badge-input' });
  const name = field('User name', { name: 'name', autocomplete: 'username', id: 'login-name' });
  const pass = field('Password', { name: 'password', type: 'password', id: 'login-password',
                                    autocomplete: 'current-password' });
  const status = h('p', { class: 'login-status', role: 'alert' }, message || '');
  let detach = () => {};
  const login = async body => {
    try {
      const s = await api('POST', '/api/v1/login', null, body);
      detach();
      started(s);
    } catch (e) {
      fill(status, errorText(e));
      badge.input.focus();
    }
  };
  detach = attachWedge(badge.input, code => login({ badge: code }));
  const form = h('form', { class: 'login-form', onsubmit: ev => {
    ev.preventDefault();
    login({ name: name.input.value, password: pass.input.value });
  } }, name.wrap, pass.wrap, h('button', { type: 'submit', class: 'big' }, 'Log in'));
  fill(main, h('section', { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Depot — log in'),
    badge.wrap, h('p', { class: 'or' }, 'or'), form, status));
  badge.input.focus();
}

// Back to the login screen (after Log out, or when the session has ended).
function ended(message) {
  session = null;
  setCsrf('');
  ws.disconnect();
  routeGen++;
  if (cleanup) { cleanup(); cleanup = null; }
  showBanner('');
  loginScreen(message);
}

async function logout() {
  try { await api('POST', '/api/v1/logout'); } catch { /* the session may be gone already */ }
  ended('Logged out.');
}

async function boot() {
  document.getElementById('logout').addEventListener('click', logout);
  // The skip link moves focus without touching the hash (the hash is the screen).
  document.querySelector('.skip').addEventListener('click', ev => { ev.preventDefault(); main.focus(); });
  setUnauthenticatedHandler(() => { if (session) ended('Your session has ended; log in again.'); });
  window.addEventListener('hashchange', route);
  try {
    started(await api('GET', '/api/v1/session'));
  } catch (e) {
    loginScreen(e.status === 401 ? '' : errorText(e));
  }
}

boot();
