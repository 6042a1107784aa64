// Scan feedback sounds made with WebAudio (no audio files): a short high beep for a good
// scan, a loud low buzz for an error. Browsers only start audio after a user gesture, so
// the first click or key press unlocks it.

let ctx = null;

function audio() {
  if (!ctx) {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    ctx = new AC();
  }
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}

for (const ev of ['pointerdown', 'keydown']) window.addEventListener(ev, audio, { once: true });

function tone(freq, seconds, volume, type, at = 0) {
  const a = audio();
  if (!a) return;
  const osc = a.createOscillator();
  const gain = a.createGain();
  osc.type = type;
  osc.frequency.value = freq;
  const t = a.currentTime + at;
  gain.gain.setValueAtTime(volume, t);
  gain.gain.exponentialRampToValueAtTime(0.001, t + seconds);
  osc.connect(gain).connect(a.destination);
  osc.start(t);
  osc.stop(t + seconds);
}

export function playOk() {
  tone(1760, 0.08, 0.2, 'sine');
}

export function playError() {
  tone(220, 0.25, 0.9, 'square');
  tone(180, 0.35, 0.9, 'square', 0.28);
}

export function playDone() {
  tone(1320, 0.1, 0.25, 'sine');
  tone(1760, 0.15, 0.25, 'sine', 0.12);
}
