// The live event feed: one WebSocket to /ws, reconnected with backoff, its events handed
// to the screens that subscribed by type ("scan", "device", "order", "stock", "sync",
// "resync"; "*" for all). The link indicator in the header shows whether it is live.

const handlers = new Map();
let socket = null;
let retry = 500;
let wanted = false;
let onState = () => {};

export function on(type, fn) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(fn);
  return () => handlers.get(type).delete(fn);
}

function emit(type, msg) {
  for (const t of [type, '*'])
    for (const fn of handlers.get(t) || []) {
      try { fn(msg.data || {}, msg); } catch (e) { console.error(e); }
    }
}

export function connect(stateCallback) {
  onState = stateCallback || onState;
  wanted = true;
  open();
}

export function disconnect() {
  wanted = false;
  if (socket) socket.close();
  socket = null;
}

function open() {
  if (!wanted) return;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const s = new WebSocket(`${proto}//${location.host}/ws`);
  socket = s;
  onState('connecting');
  s.onopen = () => { retry = 500; onState('live'); };
  s.onmessage = ev => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (msg && typeof msg.type === 'string') emit(msg.type, msg);
  };
  s.onclose = () => {
    if (socket !== s) return;
    socket = null;
    onState('offline');
    if (wanted) {
      setTimeout(() => { open(); emit('resync', { data: { reason: 'reconnected' } }); }, retry);
      retry = Math.min(retry * 2, 10000);
    }
  };
}
