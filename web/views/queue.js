// The queue, in scheduling order, with why each task waits.

import { api } from '../api.js';
import * as store from '../store.js';
import { VirtualList } from '../vlist.js';
import { h, setText, num, fmtCores, fmtMiB, fmtAgo, fmtTime, taskLink, throttle } from '../util.js';
import { errorBox, pageHeader } from './common.js';

const ROW_HEIGHT = 40;
const COLUMNS = [
  ['pos', '#'], ['id', 'Task'], ['prio', 'Priority'], ['req', 'Request'],
  ['queued', 'Queued'], ['retries', 'Retries'], ['reason', 'Waiting because'],
];

function createRow() {
  const cells = {};
  const row = h('div', { class: 'queue-row', role: 'row' });
  for (const [key] of COLUMNS) {
    cells[key] = h('span', { class: `cell cell-${key}`, role: 'cell' });
    row.append(cells[key]);
  }
  cells.link = h('a', { class: 'mono' });
  cells.id.append(cells.link);
  row._cells = cells;
  return row;
}

function updateRow(row, q, i) {
  const c = row._cells;
  row.dataset.taskId = q.task_id;
  setText(c.pos, i + 1);
  setText(c.link, q.task_id);
  c.link.href = taskLink(q.task_id);
  setText(c.prio, q.priority || 0);
  const r = q.request || {};
  const parts = [fmtCores(r.cpu), fmtMiB(r.memory)];
  if (num(r.gpu)) parts.push(fmtCores(r.gpu, 'GPU'));
  if (num(r.storage)) parts.push(`${fmtMiB(r.storage)} disk`);
  setText(c.req, parts.join(' · '));
  setText(c.queued, fmtAgo(q.queued_at_ms));
  c.queued.title = fmtTime(q.queued_at_ms);
  setText(c.retries, q.retries || 0);
  const reason = q.last_error || 'waiting for its turn';
  setText(c.reason, reason);
  c.reason.title = reason;
}

export function mountQueue(root) {
  const err = errorBox();
  const count = h('span', { class: 'muted', role: 'status', id: 'queue-count' });
  const header = h('div', { class: 'queue-row task-head', role: 'row' },
    COLUMNS.map(([key, label]) => h('span', { class: `cell cell-${key}`, role: 'columnheader' }, label)));
  const listEl = h('div', { class: 'list tasks-list', id: 'queue-list' });
  const empty = h('p', { class: 'empty', hidden: true, id: 'queue-empty' }, 'The queue is empty.');
  root.append(
    pageHeader('Queue', count),
    err.el,
    empty,
    h('div', { class: 'table-wrap', role: 'table', 'aria-label': 'Queued tasks' }, header, listEl),
  );
  const list = new VirtualList(listEl, { rowHeight: ROW_HEIGHT, createRow, updateRow, label: 'Queued tasks' });

  let alive = true;
  const load = throttle(async () => {
    try {
      const res = await api('/queue');
      if (!alive) return;
      const tasks = res.tasks || [];
      list.setItems(tasks);
      empty.hidden = tasks.length > 0;
      setText(count, `${tasks.length} queued`);
      err.show('');
    } catch (e) {
      if (alive) err.show(`Cannot load the queue: ${e.message}`);
    }
  }, 1000);
  load();
  const offs = [store.on('task', load), store.on('resync', load)];
  const timer = setInterval(load, 5000);
  return {
    unmount() {
      alive = false;
      clearInterval(timer);
      offs.forEach((off) => off());
      list.destroy();
    },
  };
}
