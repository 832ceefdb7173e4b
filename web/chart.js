// Small line charts on <canvas>: usage percentages (0..100) over the last few minutes.

export const SERIES = [
  { key: 'cpu', label: 'CPU', color: '--chart-cpu' },
  { key: 'mem', label: 'Memory', color: '--chart-mem' },
  { key: 'gpu', label: 'GPU', color: '--chart-gpu' },
];

let colors = null;
const scheme = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
if (scheme && scheme.addEventListener) scheme.addEventListener('change', () => { colors = null; });

function palette() {
  if (!colors) {
    const style = getComputedStyle(document.documentElement);
    colors = {};
    for (const s of SERIES) colors[s.key] = style.getPropertyValue(s.color).trim() || '#888';
    colors.grid = style.getPropertyValue('--chart-grid').trim() || 'rgba(128,128,128,.25)';
  }
  return colors;
}

// Sizes the canvas's backing store to its CSS size times the device pixel ratio.
function prepare(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const hgt = canvas.clientHeight;
  if (!w || !hgt) return null;
  const bw = Math.round(w * dpr);
  const bh = Math.round(hgt * dpr);
  if (canvas.width !== bw || canvas.height !== bh) {
    canvas.width = bw;
    canvas.height = bh;
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  return { ctx, w, h: hgt };
}

// history: {t: number[], cpu: number[], mem: number[], gpu: number[], start: number}
// (see store.js); windowMs: the span shown, ending now.
export function drawUsage(canvas, history, windowMs, now = Date.now()) {
  const p = prepare(canvas);
  if (!p) return;
  const { ctx, w, h } = p;
  const c = palette();
  ctx.strokeStyle = c.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const frac of [0, 0.5, 1]) {
    const y = Math.round(1 + (h - 2) * frac) + 0.5;
    ctx.moveTo(0, y);
    ctx.lineTo(w, y);
  }
  ctx.stroke();
  if (!history) return;
  const { t } = history;
  const from = now - windowMs;
  const xs = (ts) => ((ts - from) / windowMs) * w;
  const ys = (v) => 1 + (h - 2) * (1 - Math.min(100, Math.max(0, v)) / 100);
  ctx.lineWidth = 1.5;
  ctx.lineJoin = 'round';
  // At most about one point per pixel: long histories are thinned.
  const n = t.length - history.start;
  const step = Math.max(1, Math.floor(n / w));
  for (const s of SERIES) {
    const values = history[s.key];
    ctx.strokeStyle = c[s.key];
    ctx.beginPath();
    let started = false;
    for (let i = history.start; i < t.length; i += step) {
      if (t[i] < from) continue;
      const x = xs(t[i]);
      const y = ys(values[i]);
      if (started) ctx.lineTo(x, y);
      else { ctx.moveTo(x, y); started = true; }
    }
    if (started && (t.length - 1 - history.start) % step !== 0) {
      const i = t.length - 1;
      ctx.lineTo(xs(t[i]), ys(values[i]));
    }
    ctx.stroke();
  }
}

export function chartLegend() {
  const legend = document.createElement('span');
  legend.className = 'chart-legend';
  for (const s of SERIES) {
    const item = document.createElement('span');
    item.className = `legend-${s.key}`;
    item.textContent = s.label;
    legend.append(item);
  }
  return legend;
}
