// Small helpers: DOM building, number and time formats, redraw scheduling.

// h('div', {class: 'x', onclick: f}, child, 'text', ...) builds an element.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Sets textContent only when it changes (no layout work for unchanged cells).
export function setText(el, text) {
  const s = String(text);
  if (el.textContent !== s) el.textContent = s;
}

// Protobuf JSON writes 64-bit integers as strings; absent fields mean 0.
export function num(v) {
  if (v === undefined || v === null || v === '') return 0;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
}

// Resource units: cpu millicores, memory and storage MiB, gpu milli-GPUs.
export const RESOURCES = [
  { key: 'cpu', label: 'CPU', fmt: (m) => fmtCores(m) },
  { key: 'memory', label: 'Memory', fmt: (mib) => fmtMiB(mib) },
  { key: 'storage', label: 'Storage', fmt: (mib) => fmtMiB(mib) },
  { key: 'gpu', label: 'GPU', fmt: (m) => fmtCores(m, 'GPU') },
];

export function fmtCores(milli, unit = 'cores') {
  const v = num(milli) / 1000;
  const s = Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/0$/, '');
  return unit === 'GPU' ? `${s} GPU` : `${s} ${v === 1 ? 'core' : unit}`;
}

export function fmtMiB(mib) {
  const v = num(mib);
  if (v >= 1024 * 1024) return `${(v / 1024 / 1024).toFixed(2)} TiB`;
  if (v >= 1024) return `${(v / 1024).toFixed(v >= 10240 ? 1 : 2)} GiB`;
  return `${v} MiB`;
}

export function fmtPct(p) {
  const v = num(p);
  return `${v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1)}%`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// Times are shown in UTC, like the CLI.
export function fmtTime(ms) {
  const v = num(ms);
  if (!v) return '—';
  const d = new Date(v);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function fmtClock(ms) {
  const v = num(ms);
  if (!v) return '—';
  const d = new Date(v);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.` +
    `${pad(d.getUTCMilliseconds(), 3)}`;
}

export function fmtDuration(ms) {
  let s = Math.max(0, Math.round(num(ms) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  s %= 60;
  if (m < 60) return `${m}m ${pad(s)}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${pad(m % 60)}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

export function fmtAgo(ms, now = Date.now()) {
  const v = num(ms);
  if (!v) return 'never';
  const d = now - v;
  if (d < 1500) return 'just now';
  return `${fmtDuration(d)} ago`;
}

export const FINISHED = new Set(['completed', 'failed', 'cancelled', 'lost']);
export const TASK_STATES = ['pending', 'scheduled', 'running', 'completed', 'failed', 'cancelled', 'lost'];

// A state badge: the state's name is always written, colour only adds to it.
export function stateBadge(state, el = document.createElement('span')) {
  const s = state || 'unknown';
  el.className = `badge state-${s}`;
  setText(el, s);
  return el;
}

// Coalesces many invalidations into one call of fn per animation frame.
export function frameThrottle(fn) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fn();
    });
  };
}

// Calls fn at most once per `ms`, the last call always running.
export function throttle(fn, ms) {
  let last = 0;
  let timer = 0;
  return () => {
    const now = Date.now();
    const wait = last + ms - now;
    if (wait <= 0) {
      clearTimeout(timer);
      timer = 0;
      last = now;
      fn();
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = 0;
        last = Date.now();
        fn();
      }, wait);
    }
  };
}

export function taskLink(id) {
  return `#/tasks/${encodeURIComponent(id)}`;
}

export function workerLink(id) {
  return `#/workers/${encodeURIComponent(id)}`;
}

export function allocationLink(id) {
  return `#/allocations/${encodeURIComponent(id)}`;
}

// Views keep their filters in the hash's query (so a reload or a shared link keeps them)
// without triggering a route change.
export function setHashQuery(query) {
  const raw = location.hash.replace(/^#/, '') || '/';
  const path = raw.split('?')[0];
  const qs = query.toString();
  history.replaceState(null, '', `#${qs ? `${path}?${qs}` : path}`);
}
