// Workers: status, capacity bars (allocated vs total) and live usage charts.

import * as store from '../store.js';
import { drawUsage, chartLegend } from '../chart.js';
import { VirtualList } from '../vlist.js';
import { h, setText, RESOURCES, fmtAgo, fmtPct, fmtTime, frameThrottle, setHashQuery, workerLink } from '../util.js';
import { capacityBar, pageHeader } from './common.js';

// Rows have a fixed height; narrow screens stack a row's parts (and leave the chart to
// the worker's page), which takes more height.
const ROW_HEIGHT = 112;
const NARROW_ROW_HEIGHT = 176;
const narrowQuery = window.matchMedia('(max-width: 900px)');
const rowHeight = () => (narrowQuery.matches ? NARROW_ROW_HEIGHT : ROW_HEIGHT);
const collator = new Intl.Collator(undefined, { numeric: true });

function createRow() {
  const name = h('a', { class: 'worker-name' });
  const status = h('span', { class: 'badge' });
  const addr = h('span', { class: 'muted mono' });
  const beat = h('span', { class: 'muted' });
  const running = h('a', { class: 'muted' });
  const bars = RESOURCES.map((r) => ({ r, bar: capacityBar(r.label, { compact: true }) }));
  const canvas = h('canvas', { class: 'usage-chart', role: 'img' });
  const now = h('span', { class: 'usage-now' });
  const row = h('div', { class: 'worker-row', role: 'row' },
    h('div', { class: 'worker-id', role: 'cell' },
      h('div', { class: 'worker-title' }, name, status),
      addr, beat, running),
    h('div', { class: 'worker-bars', role: 'cell' }, bars.map((b) => b.bar.el)),
    h('div', { class: 'worker-chart', role: 'cell' },
      h('div', { class: 'chart-head' }, chartLegend(), now), canvas));
  row._parts = { name, status, addr, beat, running, bars, canvas, now };
  return row;
}

function updateRow(row, id) {
  const w = store.workers.get(id);
  const p = row._parts;
  row.dataset.workerId = id;
  if (!w) return;
  const info = w.info || {};
  setText(p.name, id);
  p.name.href = workerLink(id);
  p.name.title = `Worker ${id}: details and live usage`;
  const active = !!w.is_active;
  p.status.className = `badge ${active ? 'worker-active' : 'worker-inactive'}`;
  setText(p.status, active ? 'active' : 'inactive');
  setText(p.addr, `${info.worker_ip || 'no address'}${info.driver ? ` · ${info.driver}` : ''}${info.hostname ? ` · ${info.hostname}` : ''}`);
  setText(p.beat, `heartbeat ${fmtAgo(w.last_heartbeat_ms)}`);
  p.beat.title = `last heartbeat ${fmtTime(w.last_heartbeat_ms)} UTC`;
  const n = (w.running_task_ids || []).length;
  setText(p.running, `${n} running task${n === 1 ? '' : 's'}`);
  p.running.href = `#/tasks?worker=${encodeURIComponent(id)}&status=running`;
  for (const { r, bar } of p.bars) {
    bar.update(w.allocated && w.allocated[r.key], info[`total_${r.key}`], r.fmt);
  }
  const usage = `CPU ${fmtPct(w.cpu_usage)} · memory ${fmtPct(w.memory_usage)} · GPU ${fmtPct(w.gpu_usage)}`;
  setText(p.now, usage);
  p.canvas.setAttribute('aria-label', `Usage of ${id} over the last 5 minutes; now ${usage}`);
}

export function mountWorkers(root, { query }) {
  let filter = query.get('q') || '';
  let status = query.get('status') || '';
  const search = h('input', { type: 'search', id: 'worker-search', placeholder: 'Filter by id', value: filter, 'aria-label': 'Filter workers by id' });
  const statusSel = h('select', { id: 'worker-status', 'aria-label': 'Worker status' },
    h('option', { value: '' }, 'All states'),
    h('option', { value: 'active' }, 'Active'),
    h('option', { value: 'inactive' }, 'Inactive'));
  statusSel.value = status;
  const count = h('span', { class: 'muted', role: 'status', id: 'worker-count' });
  const listEl = h('div', { class: 'list workers-list', role: 'table', id: 'workers-list' });
  const empty = h('p', { class: 'empty', hidden: true }, 'No workers. Register one with ',
    h('code', {}, 'cloudai register <id> <ip:port>'), '.');
  root.append(
    pageHeader('Workers', h('div', { class: 'filters' }, search, statusSel, count)),
    empty,
    listEl,
  );

  const list = new VirtualList(listEl, { rowHeight: rowHeight(), createRow, updateRow, label: 'Workers' });
  const onNarrow = () => list.setRowHeight(rowHeight());
  narrowQuery.addEventListener('change', onNarrow);

  let lastVersion = -1;
  let lastKey = '';
  const rebuild = () => {
    const version = store.workersVersion();
    const key = `${filter}|${status}`;
    if (version === lastVersion && key === lastKey) return false;
    lastVersion = version;
    lastKey = key;
    const f = filter.toLowerCase();
    const ids = [];
    for (const [id, w] of store.workers) {
      if (f && !id.toLowerCase().includes(f)) continue;
      if (status === 'active' && !w.is_active) continue;
      if (status === 'inactive' && w.is_active) continue;
      ids.push(id);
    }
    ids.sort(collator.compare);
    const same = ids.length === list.items.length && ids.every((id, i) => id === list.items[i]);
    if (!same) list.setItems(ids);
    const active = [...store.workers.values()].filter((w) => w.is_active).length;
    setText(count, `${ids.length} shown · ${store.workers.size} workers, ${active} active`);
    empty.hidden = store.workers.size > 0;
    return true;
  };

  const drawCharts = () => {
    if (narrowQuery.matches) return; // the rows' charts are hidden there
    const now = Date.now();
    for (const [, row, id] of list.visibleRows()) {
      // Redrawn when the row shows another worker, on new samples (at most 4 times a
      // second), and each second for the moving time axis.
      const hist = store.usageHistory(id);
      const samples = hist ? hist.t.length : 0;
      const c = row._parts.canvas;
      const age = now - (c._drawnAt || 0);
      if (c._drawnFor === id && !(samples !== c._samples && age >= 250) && age < 1000) continue;
      c._drawnFor = id;
      c._drawnAt = now;
      c._samples = samples;
      c.dataset.samples = String(hist ? samples - hist.start : 0);
      // The window grows with the history, from 1 minute up to 5.
      const span = hist && hist.t.length > hist.start ? now - hist.t[hist.start] : 0;
      const windowMs = Math.min(store.HISTORY_MS, Math.max(60000, span));
      drawUsage(row._parts.canvas, hist, windowMs, now);
    }
  };

  const frame = frameThrottle(() => {
    rebuild();
    list.render();
    drawCharts();
  });

  const onFilter = () => {
    filter = search.value.trim();
    status = statusSel.value;
    const q = new URLSearchParams();
    if (filter) q.set('q', filter);
    if (status) q.set('status', status);
    setHashQuery(q);
    frame();
  };
  search.addEventListener('input', onFilter);
  statusSel.addEventListener('change', onFilter);
  listEl.addEventListener('scroll', frame, { passive: true });

  frame();
  const offs = [store.on('workers', frame), store.on('telemetry', frame)];
  // Heartbeat ages and the charts' time axis move on by themselves.
  const timer = setInterval(frame, 1000);
  return {
    unmount() {
      clearInterval(timer);
      narrowQuery.removeEventListener('change', onNarrow);
      offs.forEach((off) => off());
      list.destroy();
    },
  };
}
