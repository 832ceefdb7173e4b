// The task list: newest first, filtered by state and worker, searchable by id, paged with
// `after` as the list scrolls, and updated live from /ws/events.

import { api } from '../api.js';
import * as store from '../store.js';
import { VirtualList } from '../vlist.js';
import {
  h, setText, num, fmtTime, fmtDuration, stateBadge, taskLink, workerLink, frameThrottle, setHashQuery,
  TASK_STATES, FINISHED,
} from '../util.js';
import { errorBox, pageHeader } from './common.js';

const ROW_HEIGHT = 40;
const PAGE = 200;

const COLUMNS = [
  ['id', 'Task'], ['state', 'State'], ['worker', 'Worker'], ['what', 'Image and command'],
  ['created', 'Created (UTC)'], ['duration', 'Ran for'], ['exit', 'Exit code'],
];

function createRow() {
  const cells = {};
  const row = h('div', { class: 'task-row', role: 'row' });
  for (const [key] of COLUMNS) {
    cells[key] = h('span', { class: `cell cell-${key}`, role: 'cell' });
    row.append(cells[key]);
  }
  cells.link = h('a', { class: 'mono' });
  cells.id.append(cells.link);
  cells.badge = h('span');
  cells.state.append(cells.badge);
  cells.workerLink = h('a', { class: 'mono' });
  cells.noWorker = document.createTextNode('—');
  row._cells = cells;
  return row;
}

function duration(t) {
  const start = num(t.started_at_ms);
  if (!start) return '—';
  const end = num(t.completed_at_ms) || (FINISHED.has(t.status) ? start : Date.now());
  return fmtDuration(end - start);
}

function updateRow(row, t) {
  const c = row._cells;
  const task = t.task || {};
  row.dataset.taskId = task.task_id;
  row.dataset.state = t.status;
  setText(c.link, task.task_id);
  c.link.href = taskLink(task.task_id);
  stateBadge(t.status, c.badge);
  if (t.worker_id) {
    setText(c.workerLink, t.worker_id);
    c.workerLink.href = workerLink(t.worker_id);
    if (c.worker.firstChild !== c.workerLink) c.worker.replaceChildren(c.workerLink);
  } else if (c.worker.firstChild !== c.noWorker) {
    c.worker.replaceChildren(c.noWorker);
  }
  const what = `${task.docker_image || ''} ${task.command || ''}`.trim();
  setText(c.what, what || '—');
  c.what.title = what;
  setText(c.created, fmtTime(t.created_at_ms));
  setText(c.duration, duration(t));
  const exit = t.exit_code === undefined || t.exit_code === null ? '—' : String(t.exit_code);
  setText(c.exit, exit);
  c.exit.title = t.error || '';
}

export function mountTasks(root, { query }) {
  let status = query.get('status') || '';
  let worker = query.get('worker') || '';
  let search = query.get('q') || '';

  const statusSel = h('select', { id: 'task-status', 'aria-label': 'Task state' },
    h('option', { value: '' }, 'All states'),
    TASK_STATES.map((s) => h('option', { value: s }, s)));
  statusSel.value = status;
  const workerOptions = h('datalist', { id: 'task-worker-options' });
  const workerInput = h('input', { type: 'search', id: 'task-worker', list: 'task-worker-options', placeholder: 'Worker', value: worker, 'aria-label': 'Filter by worker' });
  const searchInput = h('input', { type: 'search', id: 'task-search', placeholder: 'Search task id', value: search, 'aria-label': 'Search by task id' });
  const count = h('span', { class: 'muted', role: 'status', id: 'task-count' });
  const more = h('button', { type: 'button', class: 'btn', id: 'task-more', hidden: true }, 'Load more');
  const err = errorBox();
  const header = h('div', { class: 'task-row task-head', role: 'row' },
    COLUMNS.map(([key, label]) => h('span', { class: `cell cell-${key}`, role: 'columnheader' }, label)));
  const listEl = h('div', { class: 'list tasks-list', id: 'tasks-list' });
  const table = h('div', { class: 'table-wrap', role: 'table', 'aria-label': 'Tasks', 'aria-describedby': 'task-count' }, header, listEl);
  root.append(
    pageHeader('Tasks', h('div', { class: 'filters' }, statusSel, workerInput, workerOptions, searchInput)),
    err.el,
    table,
    h('div', { class: 'list-foot' }, count, more),
  );

  let tasks = []; // TaskStatus, newest first, as loaded
  let byId = new Map();
  let nextAfter = '';
  let loading = false;
  let generation = 0; // bumps when the filters change; stale answers are dropped
  let found = null; // an exact id match that is not among the loaded tasks
  const pending = []; // task changes from /ws/events, applied once per frame

  const matches = (t) => (!status || t.status === status) && (!worker || t.worker_id === worker);

  const visible = () => {
    let items = tasks;
    if (search) {
      const q = search.toLowerCase();
      items = tasks.filter((t) => t.task.task_id.toLowerCase().includes(q));
      if (found && !byId.has(found.task.task_id)) items = [found, ...items];
    }
    return items;
  };

  const list = new VirtualList(listEl, {
    rowHeight: ROW_HEIGHT, createRow, updateRow, label: 'Tasks',
    onNearEnd: () => { if (nextAfter && !search) loadPage(); },
  });

  const showCount = () => {
    const shown = list.items.length;
    setText(count, `${shown} task${shown === 1 ? '' : 's'} shown${nextAfter ? ' · more available' : ''}${loading ? ' · loading…' : ''}`);
    more.hidden = !nextAfter;
  };

  const redraw = frameThrottle(() => {
    applyPending();
    list.setItems(visible());
    list.render();
    showCount();
  });

  async function loadPage(reset = false) {
    if (loading && !reset) return;
    const gen = reset ? ++generation : generation;
    loading = true;
    showCount();
    const params = new URLSearchParams();
    if (status) params.set('status', status);
    if (worker) params.set('worker', worker);
    params.set('limit', String(PAGE));
    if (!reset && nextAfter) params.set('after', nextAfter);
    try {
      const res = await api(`/tasks?${params}`);
      if (gen !== generation) return;
      if (reset) {
        tasks = [];
        byId = new Map();
        listEl.scrollTop = 0;
      }
      for (const t of res.tasks || []) {
        if (!t.task || byId.has(t.task.task_id)) continue;
        byId.set(t.task.task_id, t);
        tasks.push(t);
      }
      nextAfter = res.next_after_task_id || '';
      err.show('');
    } catch (e) {
      if (gen === generation) err.show(`Cannot load tasks: ${e.message}`);
    } finally {
      if (gen === generation) loading = false;
      redraw();
    }
  }

  function applyPending() {
    if (!pending.length) return;
    const fresh = [];
    let removed = false;
    for (const t of pending.splice(0)) {
      const id = t.task && t.task.task_id;
      if (!id) continue;
      const have = byId.get(id);
      if (have) {
        Object.assign(have, t);
        if (!('exit_code' in t)) delete have.exit_code;
        if (!matches(have)) {
          byId.delete(id);
          removed = true;
        }
      } else if (matches(t)) {
        byId.set(id, t);
        fresh.push(t);
      }
      if (found && found.task.task_id === id) Object.assign(found, t);
    }
    if (removed) tasks = tasks.filter((t) => byId.get(t.task.task_id) === t);
    if (fresh.length) {
      // Newest first. Keep the rows in view where they are when scrolled down.
      fresh.sort((a, b) => num(b.created_at_ms) - num(a.created_at_ms));
      tasks = fresh.concat(tasks);
      if (listEl.scrollTop > 0) listEl.scrollTop += fresh.length * ROW_HEIGHT;
    }
  }

  let searchTimer = 0;
  const lookUp = () => {
    clearTimeout(searchTimer);
    found = null;
    if (!search) return;
    const q = search;
    searchTimer = setTimeout(async () => {
      try {
        const t = await api(`/tasks/${encodeURIComponent(q)}`);
        if (q === search && t.task) {
          found = t;
          redraw();
        }
      } catch {
        // Not an exact id.
      }
    }, 250);
  };

  const saveQuery = () => {
    const q = new URLSearchParams();
    if (status) q.set('status', status);
    if (worker) q.set('worker', worker);
    if (search) q.set('q', search);
    setHashQuery(q);
  };
  statusSel.addEventListener('change', () => {
    status = statusSel.value;
    saveQuery();
    loadPage(true);
  });
  workerInput.addEventListener('change', () => {
    worker = workerInput.value.trim();
    saveQuery();
    loadPage(true);
  });
  searchInput.addEventListener('input', () => {
    search = searchInput.value.trim();
    saveQuery();
    lookUp();
    redraw();
  });
  more.addEventListener('click', () => loadPage());

  const fillWorkers = () => {
    if (workerOptions.childElementCount === store.workers.size) return;
    const ids = [...store.workers.keys()].sort();
    workerOptions.replaceChildren(...ids.map((id) => h('option', { value: id })));
  };
  fillWorkers();

  loadPage(true);
  lookUp();
  const offs = [
    store.on('task', (msg) => {
      pending.push(msg.task);
      redraw();
    }),
    store.on('resync', () => loadPage(true)),
    store.on('workers', fillWorkers),
  ];
  // Durations of running tasks move on.
  const timer = setInterval(() => list.refresh(), 1000);
  return {
    unmount() {
      generation++;
      clearInterval(timer);
      clearTimeout(searchTimer);
      offs.forEach((off) => off());
      list.destroy();
    },
  };
}
