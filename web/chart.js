// Small line charts on <canvas>: percentages (0..100) over the last few minutes.

// A series: the key of its values in the history, its label, the CSS variable of its colour.
export const SERIES = [
  { key: 'cpu', label: 'CPU', color: '--chart-cpu' },
  { key: 'mem', label: 'Memory', color: '--chart-mem' },
  { key: 'gpu', label: 'GPU', color: '--chart-gpu' },
];

// Capacity allocated per resource (the overview's cluster chart).
export const RESOURCE_SERIES = [
  { key: 'cpu', label: 'CPU', color: '--chart-cpu' },
  { key: 'memory', label: 'Memory', color: '--chart-mem' },
  { key: 'storage', label: 'Storage', color: '--chart-storage' },
  { key: 'gpu', label: 'GPU', color: '--chart-gpu' },
];

let colors = null;
const scheme = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
if (scheme && scheme.addEventListener) scheme.addEventListener('change', () => { colors = null; });

function palette() {
  if (!colors) {
    const style = getComputedStyle(document.documentElement);
    colors = {};
    for (const name of ['--chart-cpu', '--chart-mem', '--chart-gpu', '--chart-storage']) {
      colors[name] = style.getPropertyValue(name).trim() || '#888';
    }
    colors.grid = style.getPropertyValue('--chart-grid').trim() || 'rgba(128,128,128,.25)';
    colors.muted = style.getPropertyValue('--muted').trim() || '#888';
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

// history: {t: number[], start: number, <series key>: number[]...} (see store.js);
// windowMs: the span shown, ending now; series: which lines (SERIES by default);
// axis: write 0 / 50 / 100% and the span at the edges (the larger charts).
export function drawUsage(canvas, history, windowMs, now = Date.now(), { series = SERIES, axis = false } = {}) {
  const p = prepare(canvas);
  if (!p) return;
  const { ctx, w, h } = p;
  const c = palette();
  const left = axis ? 34 : 0;
  const bottom = axis ? 14 : 0;
  const plotW = w - left;
  const plotH = h - bottom;
  ctx.strokeStyle = c.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const frac of [0, 0.5, 1]) {
    const y = Math.round(1 + (plotH - 2) * frac) + 0.5;
    ctx.moveTo(left, y);
    ctx.lineTo(w, y);
  }
  ctx.stroke();
  if (axis) {
    ctx.fillStyle = c.muted;
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    for (const [frac, text] of [[0, '100%'], [0.5, '50%'], [1, '0%']]) {
      ctx.fillText(text, left - 4, Math.min(plotH - 5, Math.max(5, 1 + (plotH - 2) * frac)));
    }
    ctx.textBaseline = 'bottom';
    ctx.textAlign = 'left';
    ctx.fillText(`−${Math.round(windowMs / 60000)} min`, left, h);
    ctx.textAlign = 'right';
    ctx.fillText('now', w, h);
  }
  if (!history) return;
  const { t } = history;
  const from = now - windowMs;
  const xs = (ts) => left + ((ts - from) / windowMs) * plotW;
  const ys = (v) => 1 + (plotH - 2) * (1 - Math.min(100, Math.max(0, v)) / 100);
  ctx.lineWidth = 1.5;
  ctx.lineJoin = 'round';
  // At most about one point per pixel: long histories are thinned.
  const n = t.length - history.start;
  const step = Math.max(1, Math.floor(n / plotW));
  for (const s of series) {
    const values = history[s.key];
    if (!values) continue;
    ctx.strokeStyle = c[s.color];
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

export function chartLegend(series = SERIES) {
  const legend = document.createElement('span');
  legend.className = 'chart-legend';
  legend.setAttribute('aria-hidden', 'true');
  for (const s of series) {
    const item = document.createElement('span');
    item.className = `legend-${s.key}`;
    item.style.setProperty('--swatch', `var(${s.color})`);
    item.textContent = s.label;
    legend.append(item);
  }
  return legend;
}
