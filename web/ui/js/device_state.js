// Devices as the screens show them: GET /api/v1/devices ({stations, scanners, printers}
// with live state) kept current by "device" events ({kind: "printer"|"scanner", name,
// state, ...}), and one state word with a colour level per device.

import { api } from './api.js';

// {stations: [{name, printer, scanners}], scanners: [{name, station, port, state}],
//  printers: [{name, state, message, ...}]}.
export async function deviceList() {
  const d = await api('GET', '/api/v1/devices');
  return { stations: d.stations || [], scanners: d.scanners || [], printers: d.printers || [] };
}

// Applies one "device" event to a list from deviceList() (in place).
export function applyDeviceEvent(list, ev) {
  const key = ev.kind === 'printer' ? 'printers' : ev.kind === 'scanner' ? 'scanners' : null;
  if (!key || !ev.name) return false;
  const i = list[key].findIndex(x => x.name === ev.name);
  if (i >= 0) list[key][i] = { ...list[key][i], ...ev };
  else list[key].push({ ...ev });
  return true;
}

const GOOD = new Set(['online', 'ready', 'printing']);
const NEUTRAL = new Set(['unknown', 'not_loaded', 'disabled', 'stopped']);

// {text, level: 'good' | 'bad' | 'unknown'} for a device record (undefined: unknown).
export function deviceState(dev) {
  if (!dev) return { text: 'not set up', level: 'unknown' };
  const raw = String(dev.state || 'unknown');
  const text = raw.replace(/_/g, ' ') + (dev.message ? ` — ${dev.message}` : '');
  return { text, level: GOOD.has(raw) ? 'good' : NEUTRAL.has(raw) ? 'unknown' : 'bad' };
}
