// Small DOM helpers: elements are built with textContent only, never innerHTML, so
// nothing the server or a scanner sends can become markup.

// h('button', {type: 'button', onclick: f, class: 'big'}, 'Text', child, ...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replaces el's children.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A labelled form field: <label>text <input ...></label>; returns {wrap, input}.
export function field(label, attrs = {}) {
  const input = h(attrs.tag || 'input', { ...attrs, tag: undefined });
  if (attrs.tag === 'select')
    for (const [value, text] of attrs.options || []) input.append(h('option', { value }, text));
  input.removeAttribute('options');
  const wrap = h('label', { class: 'field' }, h('span', {}, label), input);
  return { wrap, input };
}

// A table from rows and column specs [{title, get: row => text|Node}].
export function table(caption, columns, rows, empty = 'Nothing to show.') {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map(c => h('th', { scope: 'col' }, c.title)))),
    h('tbody', {}, rows.map(r => h('tr', {}, columns.map(c => h('td', {}, c.get(r)))))));
}

export function when(ts) {
  if (ts === null || ts === undefined) return '';
  const d = new Date(typeof ts === 'number' ? ts * 1000 : ts);
  return isNaN(d) ? String(ts) : d.toLocaleString();
}
