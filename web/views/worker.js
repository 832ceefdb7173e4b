// One worker: status, last seen, capacity bars (allocated vs total), live CPU / memory /
// GPU charts from its own stream /ws/telemetry/{id}, and the tasks running on it.

import { api, LiveSocket } from '../api.js';
import * as store from '../store.js';
import { drawUsage } from '../chart.js';
import {
  h, setText, num, RESOURCES, fmtAgo, fmtTime, fmtPct, fmtDuration, stateBadge, taskLink,
  frameThrottle, throttle,
} from '../util.js';
import { capacityBar, errorBox } from './common.js';

const MAX_TASK_ROWS = 200; // the rest are one click away in the task list

const CHARTS = [
  { key: 'cpu', label: 'CPU', color: '--chart-cpu', field: 'cpu_usage' },
  { key: 'mem', label: 'Memory', color: '--chart-mem', field: 'memory_usage' },
  { key: 'gpu', label: 'GPU', color: '--chart-gpu', field: 'gpu_usage' },
];

export function mountWorker(root, { params }) {
  const id = params[0];
  const badge = h('span', { class: 'badge', id: 'worker-state' }, 'loading');
  const live = h('span', { class: 'conn small', id: 'worker-live', role: 'status', 'aria-live': 'polite', dataset: { state: 'idle' } }, 'Not connected');
  const err = errorBox();
  const summary = h('dl', { class: 'kv', id: 'worker-summary' });
  const barsEl = h('div', { class: 'bars', id: 'worker-capacity' });
  const tasksBody = h('tbody', { id: 'worker-tasks' });
  const tasksNote = h('p', { class: 'muted', id: 'worker-tasks-note' });
  const tasksTitle = h('h2', { id: 'wt-title' }, 'Running tasks');
  const charts = CHARTS.map((c) => {
    const now = h('span', { class: 'usage-now', id: `worker-${c.key}-now` }, '—');
    const canvas = h('canvas', { class: 'usage-chart usage-chart-large', role: 'img', id: `worker-chart-${c.key}`, 'aria-label': `${c.label} usage: no samples yet` });
    const el = h('figure', { class: 'chart-card' },
      h('figcaption', { class: 'chart-head' },
        h('span', { class: 'chart-title', style: `--swatch: var(${c.color})` }, `${c.label} usage`), now),
      canvas);
    return { ...c, now, canvas, el };
  });

  root.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/workers' }, 'Workers'), ' / ', id),
    h('div', { class: 'page-header' }, h('h1', { class: 'mono' }, id), badge, live),
    err.el,
    h('div', { class: 'task-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'ws-title' }, h('h2', { id: 'ws-title' }, 'Worker'), summary),
      h('section', { class: 'card', 'aria-labelledby': 'wc-title' }, h('h2', { id: 'wc-title' }, 'Capacity allocated'), barsEl)),
    h('section', { class: 'card', 'aria-labelledby': 'wu-title' },
      h('h2', { id: 'wu-title' }, 'Usage, live ', h('span', { class: 'muted small' }, 'as the worker reports it in its heartbeats')),
      h('div', { class: 'chart-grid' }, charts.map((c) => c.el))),
    h('section', { class: 'card', 'aria-labelledby': 'wt-title' },
      h('div', { class: 'log-head' }, tasksTitle,
        h('a', { class: 'small', href: `#/tasks?worker=${encodeURIComponent(id)}`, id: 'worker-all-tasks' }, 'all tasks on this worker')),
      h('div', { class: 'table-scroll' },
        h('table', { class: 'table', 'aria-labelledby': 'wt-title' },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'Task'), h('th', { scope: 'col' }, 'State'),
            h('th', { scope: 'col' }, 'Image and command'), h('th', { scope: 'col' }, 'Started (UTC)'),
            h('th', { scope: 'col' }, 'Ran for'))),
          tasksBody)),
      tasksNote),
  );

  let alive = true;
  let worker = store.workers.get(id) || null;
  let removed = false;
  const hist = store.copyHistory(store.usageHistory(id), store.USAGE_KEYS);
  const bars = new Map(); // resource key -> capacity bar
  const taskDetails = new Map(); // task id -> TaskStatus (from REST)
  let shownTasks = '';

  // The summary's rows, built once, their values updated in place.
  const dd = {};
  for (const [key, label] of [['status', 'Status'], ['last-seen', 'Last seen'], ['address', 'Address'],
    ['driver', 'Driver'], ['hostname', 'Host name'], ['version', 'Version'],
    ['registered', 'Registered'], ['running', 'Running tasks']]) {
    dd[key] = h('dd', { dataset: { key } }, '—');
    summary.append(h('dt', {}, label), dd[key]);
  }

  const renderSummary = () => {
    if (!worker) return;
    const info = worker.info || {};
    const active = !!worker.is_active;
    const state = removed ? 'removed' : active ? 'active' : 'inactive';
    badge.className = `badge ${active && !removed ? 'worker-active' : 'worker-inactive'}`;
    setText(badge, state);
    setText(dd.status, active || removed ? state : 'inactive (no heartbeat lately)');
    setText(dd['last-seen'], fmtAgo(worker.last_heartbeat_ms));
    dd['last-seen'].title = `${fmtTime(worker.last_heartbeat_ms)} UTC`;
    setText(dd.address, info.worker_ip || '—');
    setText(dd.driver, info.driver || '—');
    setText(dd.hostname, info.hostname || '—');
    setText(dd.version, info.version || '—');
    setText(dd.registered, `${fmtTime(worker.registered_at_ms)} UTC`);
    setText(dd.running, String((worker.running_task_ids || []).length));
  };

  const renderBars = () => {
    if (!worker) return;
    const info = worker.info || {};
    const alloc = worker.allocated || {};
    const rows = RESOURCES.map((r) => ({ key: r.key, label: r.label, fmt: r.fmt, a: alloc[r.key], t: info[`total_${r.key}`] }));
    const extraTotal = info.total_extra || {};
    const extraAlloc = alloc.extra || {};
    for (const name of Object.keys(extraTotal).sort()) {
      rows.push({ key: `extra-${name}`, label: name, fmt: (v) => String(num(v)), a: extraAlloc[name], t: extraTotal[name] });
    }
    for (const row of rows) {
      let bar = bars.get(row.key);
      if (!bar) {
        bar = capacityBar(row.label);
        bars.set(row.key, bar);
        barsEl.append(bar.el);
      }
      bar.update(row.a, row.t, row.fmt);
    }
  };

  const drawCharts = () => {
    const now = Date.now();
    const span = hist.t.length > hist.start ? now - hist.t[hist.start] : 0;
    const windowMs = Math.min(store.HISTORY_MS, Math.max(60000, span));
    const samples = hist.t.length - hist.start;
    for (const c of charts) {
      drawUsage(c.canvas, hist, windowMs, now, { series: [c], axis: true });
      c.canvas.dataset.samples = String(samples);
      const value = worker ? fmtPct(worker[c.field]) : '—';
      setText(c.now, value);
      c.canvas.setAttribute('aria-label', samples
        ? `${c.label} usage over the last ${Math.round(windowMs / 60000)} minutes, ${samples} samples; now ${value}`
        : `${c.label} usage: no samples yet`);
    }
  };

  // Rows are kept per task and updated in place (a focused link stays focused).
  const taskRows = new Map(); // task id -> {tr, cells}
  const taskRow = (taskId) => {
    let row = taskRows.get(taskId);
    if (!row) {
      const cells = {
        state: stateBadge('running'), what: h('td', { class: 'cell-what' }),
        started: h('td', {}), ran: h('td', {}),
      };
      const tr = h('tr', { dataset: { taskId } },
        h('td', {}, h('a', { class: 'mono', href: taskLink(taskId) }, taskId)),
        h('td', {}, cells.state), cells.what, cells.started, cells.ran);
      row = { tr, cells };
      taskRows.set(taskId, row);
    }
    return row;
  };

  const renderTasks = () => {
    const ids = ((worker && worker.running_task_ids) || []).slice(0, MAX_TASK_ROWS);
    const total = ((worker && worker.running_task_ids) || []).length;
    setText(tasksTitle, `Running tasks (${total})`);
    const key = ids.join('\n');
    if (key !== shownTasks) {
      const keep = new Set(ids);
      for (const taskId of taskRows.keys()) if (!keep.has(taskId)) taskRows.delete(taskId);
      tasksBody.replaceChildren(...ids.map((taskId) => taskRow(taskId).tr));
      shownTasks = key;
    }
    const now = Date.now();
    for (const taskId of ids) {
      const { cells } = taskRow(taskId);
      const t = taskDetails.get(taskId);
      const task = (t && t.task) || {};
      const what = `${task.docker_image || ''} ${task.command || ''}`.trim();
      const started = t ? num(t.started_at_ms) : 0;
      stateBadge(t ? t.status : 'running', cells.state);
      setText(cells.what, what || '—');
      cells.what.title = what;
      setText(cells.started, started ? fmtTime(started) : '—');
      setText(cells.ran, started ? fmtDuration(now - started) : '—');
    }
    setText(tasksNote, total === 0 ? 'No task runs here now.'
      : total > MAX_TASK_ROWS ? `${MAX_TASK_ROWS} of ${total} shown; the task list has them all.` : '');
  };

  // Details (image, command, start) of the running tasks, when the set changes.
  const loadTasks = throttle(async () => {
    try {
      const res = await api(`/tasks?worker=${encodeURIComponent(id)}&status=running&limit=${MAX_TASK_ROWS}`);
      if (!alive) return;
      taskDetails.clear();
      for (const t of res.tasks || []) if (t.task) taskDetails.set(t.task.task_id, t);
      renderTasks();
    } catch {
      // The ids from the telemetry stay, without details.
    }
  }, 1000);
  let taskKey = null;
  const tasksChanged = () => {
    const key = ((worker && worker.running_task_ids) || []).join('\n');
    if (key === taskKey) return false;
    taskKey = key;
    return true;
  };

  const render = frameThrottle(() => {
    if (!alive) return;
    renderSummary();
    renderBars();
    drawCharts();
    if (tasksChanged()) {
      renderTasks();
      loadTasks();
    }
  });

  const take = (w, at) => {
    if (!w || store.workerId(w) !== id) return;
    worker = w;
    removed = false;
    err.show('');
    if (at) store.pushSample(hist, at, store.usageOf(w));
    render();
  };

  const socket = new LiveSocket(`/ws/telemetry/${encodeURIComponent(id)}`, {
    onMessage(msg) {
      if (msg.type === 'snapshot') {
        const w = (msg.workers || []).find((x) => store.workerId(x) === id);
        if (w) take(w, num(w.last_heartbeat_ms));
      } else if (msg.type === 'heartbeat') {
        take(msg.worker, num(msg.received_at_ms) || Date.now());
      } else if (msg.type === 'worker' && store.workerId(msg.worker) === id) {
        if (msg.removed) {
          removed = true;
          worker = msg.worker;
          err.show(`Worker ${id} was removed from the cluster.`);
          render();
        } else {
          take(msg.worker, 0);
        }
      }
    },
    onState(state, detail) {
      live.dataset.state = state === 'open' ? 'open' : state;
      setText(live, state === 'open' ? 'Live' : state === 'waiting'
        ? `Reconnecting in ${Math.ceil((detail || 0) / 1000)} s` : 'Connecting…');
    },
  });

  const load = async () => {
    try {
      const w = await api(`/workers/${encodeURIComponent(id)}`);
      if (!alive) return;
      if (!worker || num(w.last_heartbeat_ms) >= num(worker.last_heartbeat_ms)) worker = w;
      err.show('');
      render();
    } catch (e) {
      if (!alive) return;
      if (e.status === 404) {
        badge.className = 'badge worker-inactive';
        setText(badge, 'unknown');
        err.show(`No worker ${id}. It may have been removed; the workers list shows those there are.`);
      } else {
        err.show(`Cannot load the worker: ${e.message}`);
      }
    }
  };

  load();
  socket.start();
  render();
  const offs = [
    // The cluster-wide streams also carry this worker's changes (and a resync after a
    // reconnect reloads it).
    store.on('workers', () => {
      const w = store.workers.get(id);
      if (w && w !== worker && (!worker || num(w.last_heartbeat_ms) >= num(worker.last_heartbeat_ms))) {
        worker = w;
        render();
      }
    }),
    store.on('task', (msg) => {
      if (msg.task && msg.task.worker_id === id) loadTasks();
    }),
    store.on('resync', load),
  ];
  // Ages, durations and the charts' time axis move on by themselves.
  const timer = setInterval(() => {
    render();
    if (worker && (worker.running_task_ids || []).length) renderTasks();
  }, 1000);
  return {
    unmount() {
      alive = false;
      socket.stop();
      clearInterval(timer);
      offs.forEach((off) => off());
    },
  };
}
