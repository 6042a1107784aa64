// The REST client: JSON in and out, the session's CSRF token on every change, and one
// error type that carries the server's {"error":{"code","message"}}.

let csrf = '';
let onUnauthenticated = () => {};

export function setCsrf(token) { csrf = token || ''; }

// Called when a request made with a session gets 401 (the session ended or expired).
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

// api('GET', '/api/v1/skus', {q: 'x'}) or api('POST', path, null, body).
export async function api(method, path, query = null, body = undefined, type = 'application/json') {
  let url = path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query))
      if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const s = q.toString();
    if (s) url += '?' + s;
  }
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = type;
    payload = type === 'application/json' ? JSON.stringify(body) : body;
  }
  let r;
  try {
    r = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', 'The Depot server cannot be reached: ' + e.message);
  }
  let doc = null;
  if ((r.headers.get('content-type') || '').startsWith('application/json')) doc = await r.json();
  if (!r.ok) {
    const err = (doc && doc.error) || {};
    if (r.status === 401 && csrf) onUnauthenticated();
    throw new ApiError(r.status, err.code || 'http_' + r.status,
                       err.message || `${method} ${path}: HTTP ${r.status}`, doc);
  }
  return doc;
}
