// The cluster at a glance: counts, capacity used per resource now and over the last
// minutes (from the telemetry feed), the latest tasks.

import { api } from '../api.js';
import * as store from '../store.js';
import { drawUsage, chartLegend, RESOURCE_SERIES } from '../chart.js';
import { h, setText, num, RESOURCES, fmtAgo, fmtPct, stateBadge, taskLink, workerLink, throttle, frameThrottle } from '../util.js';
import { capacityBar, errorBox, pageHeader } from './common.js';

const USED_SERIES = [
  { key: 'ucpu', label: 'CPU', color: '--chart-cpu' },
  { key: 'umem', label: 'Memory', color: '--chart-mem' },
  { key: 'ugpu', label: 'GPU', color: '--chart-gpu' },
];

export function mountOverview(root) {
  const stats = {};
  const statEl = (key, label, href) => {
    const value = h('span', { class: 'stat-value', id: `stat-${key}` }, '—');
    stats[key] = value;
    const body = [h('span', { class: 'stat-label' }, label), value];
    return h('li', { class: 'stat' }, href ? h('a', { href }, ...body) : body);
  };
  const bars = RESOURCES.map((r) => ({ r, bar: capacityBar(r.label) }));
  const err = errorBox();
  const allocCanvas = h('canvas', { class: 'usage-chart usage-chart-large', id: 'cluster-alloc-chart', role: 'img', 'aria-label': 'Capacity allocated over time: no samples yet' });
  const usedCanvas = h('canvas', { class: 'usage-chart usage-chart-large', id: 'cluster-used-chart', role: 'img', 'aria-label': 'Usage over time: no samples yet' });
  const allocNow = h('span', { class: 'usage-now', id: 'cluster-alloc-now' });
  const usedNow = h('span', { class: 'usage-now', id: 'cluster-used-now' });
  const recentBody = h('tbody');
  const recentNote = h('p', { class: 'muted' });

  root.append(
    pageHeader('Cluster'),
    err.el,
    h('ul', { class: 'stats', 'aria-label': 'Cluster counts' },
      statEl('workers', 'Workers', '#/workers'),
      statEl('active', 'Active workers', '#/workers?status=active'),
      statEl('running', 'Running tasks', '#/tasks?status=running'),
      statEl('scheduled', 'Scheduled tasks', '#/tasks?status=scheduled'),
      statEl('queued', 'Queued tasks', '#/queue')),
    h('section', { class: 'card', 'aria-labelledby': 'cap-title' },
      h('h2', { id: 'cap-title' }, 'Capacity allocated (active workers)'),
      h('div', { class: 'bars' }, bars.map((b) => b.bar.el))),
    h('section', { class: 'card', 'aria-labelledby': 'hist-title' },
      h('h2', { id: 'hist-title' }, 'Over the last minutes ', h('span', { class: 'muted small' }, 'from the live telemetry, active workers')),
      h('div', { class: 'chart-grid chart-grid-2' },
        h('figure', { class: 'chart-card' },
          h('figcaption', { class: 'chart-head' }, h('span', { class: 'chart-title' }, 'Capacity allocated'), chartLegend(RESOURCE_SERIES)),
          allocCanvas, allocNow),
        h('figure', { class: 'chart-card' },
          h('figcaption', { class: 'chart-head' }, h('span', { class: 'chart-title' }, 'Usage reported by the workers'), chartLegend(USED_SERIES)),
          usedCanvas, usedNow))),
    h('section', { class: 'card', 'aria-labelledby': 'recent-title' },
      h('h2', { id: 'recent-title' }, 'Latest tasks ', h('a', { class: 'small', href: '#/tasks' }, 'all tasks')),
      h('table', { class: 'table' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Task'), h('th', { scope: 'col' }, 'State'),
          h('th', { scope: 'col' }, 'Worker'), h('th', { scope: 'col' }, 'Created'))),
        recentBody),
      recentNote),
  );

  let alive = true;
  const loadCluster = throttle(async () => {
    try {
      const c = await api('/cluster');
      if (!alive) return;
      err.show('');
      setText(stats.workers, num(c.workers));
      setText(stats.active, num(c.active_workers));
      setText(stats.running, num(c.running));
      setText(stats.scheduled, num(c.scheduled));
      setText(stats.queued, num(c.queued));
      for (const { r, bar } of bars) {
        bar.update(c.allocated && c.allocated[r.key], c.total && c.total[r.key], r.fmt);
      }
    } catch (e) {
      if (alive && e.name !== 'AbortError') err.show(`Cannot load the cluster: ${e.message}`);
    }
  }, 1000);

  const loadRecent = throttle(async () => {
    try {
      const res = await api('/tasks?limit=8');
      if (!alive) return;
      const rows = (res.tasks || []).map((t) => h('tr', {},
        h('td', {}, h('a', { href: taskLink(t.task.task_id) }, t.task.task_id)),
        h('td', {}, stateBadge(t.status)),
        h('td', {}, t.worker_id ? h('a', { class: 'mono', href: workerLink(t.worker_id) }, t.worker_id) : '—'),
        h('td', { title: new Date(num(t.created_at_ms)).toISOString() }, fmtAgo(t.created_at_ms))));
      recentBody.replaceChildren(...rows);
      setText(recentNote, rows.length ? '' : 'No tasks yet.');
    } catch {
      // The cluster call reports errors.
    }
  }, 1500);

  // The charts: redrawn on each sample of the cluster (each second).
  const drawHistory = frameThrottle(() => {
    if (!alive) return;
    const hist = store.clusterHistory();
    const last = store.clusterNow();
    const now = Date.now();
    const span = hist.t.length > hist.start ? now - hist.t[hist.start] : 0;
    const windowMs = Math.min(store.HISTORY_MS, Math.max(60000, span));
    const samples = hist.t.length - hist.start;
    drawUsage(allocCanvas, hist, windowMs, now, { series: RESOURCE_SERIES, axis: true });
    drawUsage(usedCanvas, hist, windowMs, now, { series: USED_SERIES, axis: true });
    allocCanvas.dataset.samples = String(samples);
    usedCanvas.dataset.samples = String(samples);
    if (!last || !last.active) {
      setText(allocNow, 'No active worker.');
      setText(usedNow, '');
      return;
    }
    const p = last.pct;
    const allocText = `now CPU ${fmtPct(p.cpu)} · memory ${fmtPct(p.memory)} · storage ${fmtPct(p.storage)} · GPU ${last.total.gpu ? fmtPct(p.gpu) : 'none'}`;
    const usedText = `now CPU ${fmtPct(p.ucpu)} · memory ${fmtPct(p.umem)} · GPU ${last.total.gpu ? fmtPct(p.ugpu) : 'none'}`;
    setText(allocNow, allocText);
    setText(usedNow, usedText);
    const mins = Math.round(windowMs / 60000);
    allocCanvas.setAttribute('aria-label', `Capacity allocated over the last ${mins} minutes, ${samples} samples; ${allocText}`);
    usedCanvas.setAttribute('aria-label', `Usage reported by the workers over the last ${mins} minutes, weighted by capacity; ${usedText}`);
  });

  loadCluster();
  loadRecent();
  drawHistory();
  const offs = [
    store.on('cluster', drawHistory),
    store.on('workers', loadCluster),
    store.on('task', () => { loadCluster(); loadRecent(); }),
    store.on('resync', () => { loadCluster(); loadRecent(); }),
  ];
  const timer = setInterval(() => { loadCluster(); loadRecent(); }, 10000);
  return {
    unmount() {
      alive = false;
      clearInterval(timer);
      offs.forEach((off) => off());
    },
  };
}
