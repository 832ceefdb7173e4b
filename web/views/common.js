// Pieces shared by the views.

import { h, setText, num } from '../util.js';

// A capacity bar: allocated out of total, its figures written next to it.
export function capacityBar(label, { compact = false } = {}) {
  const fill = h('span', { class: 'bar-fill' });
  const track = h('span', { class: 'bar-track', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-label': `${label} allocated` }, fill);
  const text = h('span', { class: 'bar-text' });
  const el = h('div', { class: `bar${compact ? ' bar-compact' : ''}`, dataset: { resource: label.toLowerCase() } },
    h('span', { class: 'bar-label' }, label), track, text);
  let last = '';
  return {
    el,
    update(allocated, total, fmt) {
      const a = num(allocated);
      const t = num(total);
      const pct = t > 0 ? Math.min(100, (a / t) * 100) : 0;
      const desc = t > 0 ? `${fmt(a)} / ${fmt(t)}` : 'none';
      const key = `${pct}|${desc}`;
      if (key === last) return;
      last = key;
      fill.style.width = `${pct}%`;
      fill.dataset.level = pct >= 90 ? 'high' : pct >= 70 ? 'mid' : 'low';
      track.setAttribute('aria-valuenow', pct.toFixed(0));
      track.setAttribute('aria-valuetext', t > 0 ? `${desc} (${pct.toFixed(0)}%)` : 'none');
      setText(text, t > 0 ? `${desc} · ${pct.toFixed(0)}%` : 'none');
    },
  };
}

export function errorBox() {
  const el = h('p', { class: 'error-box', role: 'alert', hidden: true });
  return {
    el,
    show(message) {
      el.hidden = !message;
      setText(el, message || '');
    },
  };
}

export function pageHeader(title, ...extra) {
  return h('div', { class: 'page-header' }, h('h1', {}, title), ...extra);
}
