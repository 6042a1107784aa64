// Keyboard-wedge scanners type the code as fast keystrokes ending with Enter. The scan
// input takes them; keystrokes that land anywhere else on the screen (nothing focused,
// or a button) are steered into it, so a scan is never lost because focus moved.

function editable(el) {
  return el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' ||
                el.tagName === 'SELECT' || el.isContentEditable);
}

// Calls onScan(code) for every Enter-terminated entry in input. Returns a function that
// detaches the global listener.
export function attachWedge(input, onScan) {
  input.addEventListener('keydown', ev => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    const code = input.value.trim();
    input.value = '';
    if (code) onScan(code);
  });
  const steer = ev => {
    if (!input.isConnected || editable(document.activeElement)) return;
    if (ev.ctrlKey || ev.altKey || ev.metaKey) return;
    if (ev.key.length === 1) {
      ev.preventDefault();
      input.focus();
      input.value += ev.key;
    } else if (ev.key === 'Enter' && input.value && document.activeElement !== input) {
      ev.preventDefault();
      input.focus();
      input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    }
  };
  document.addEventListener('keydown', steer, true);
  return () => document.removeEventListener('keydown', steer, true);
}
