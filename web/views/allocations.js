// Allocations (docs/allocations.md): the cluster's capacity and the list at #/allocations,
// one allocation (slots, services, tasks, history) at #/allocations/<id>. The pages poll,
// and change at once on the `allocation` messages of /ws/events when the master sends
// them. A master without the allocations API (404) gets a message, not a broken page.

import { api } from '../api.js';
import * as store from '../store.js';
import { VirtualList } from '../vlist.js';
import {
  h, setText, num, RESOURCES, fmtCores, fmtMiB, fmtTime, fmtClock, fmtAgo, fmtDuration,
  stateBadge, taskLink, workerLink, allocationLink, frameThrottle, setHashQuery, throttle,
} from '../util.js';
import { capacityBar, errorBox, pageHeader } from './common.js';

export const ALLOCATION_STATES = ['pending', 'active', 'releasing', 'released', 'failed', 'expired'];
const FINAL = new Set(['released', 'failed', 'expired']);
const LIST_LIMIT = 1000;
const ROW_HEIGHT = 40;
const MAX_TASK_LINKS = 200;

// "1 core · 2 GiB · 1 GPU" for a Resources message.
export function fmtResources(r) {
  if (!r) return '—';
  const parts = [fmtCores(r.cpu), fmtMiB(r.memory)];
  if (num(r.gpu)) parts.push(fmtCores(r.gpu, 'GPU'));
  if (num(r.storage)) parts.push(`${fmtMiB(r.storage)} disk`);
  for (const [k, v] of Object.entries(r.extra || {})) if (num(v)) parts.push(`${num(v)} ${k}`);
  return parts.join(' · ');
}

// "in 5m 03s" / "3m 10s ago" for a time in ms.
function fmtWhen(ms, now = Date.now()) {
  const v = num(ms);
  if (!v) return '—';
  return v >= now ? `in ${fmtDuration(v - now)}` : fmtAgo(v, now);
}

// A 404 from an allocations endpoint: the master has no such API, or no such allocation.
function missingApi(e) {
  return e && e.status === 404;
}

// ---- capacity (GET /capacity)

function capacityCard() {
  const err = errorBox();
  const allocated = RESOURCES.map((r) => ({ r, bar: capacityBar(r.label) }));
  const reserved = RESOURCES.map((r) => ({ r, bar: capacityBar(r.label) }));
  const counts = h('p', { class: 'muted', id: 'capacity-counts' });
  const services = h('tbody', { id: 'capacity-services' });
  const servicesWrap = h('div', { class: 'table-scroll', hidden: true },
    h('table', { class: 'table', 'aria-label': 'Services' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Service'), h('th', { scope: 'col' }, 'Endpoint'),
        h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Allocations'),
        h('th', { scope: 'col' }, 'Task'))),
      services));
  const body = h('div', { class: 'capacity-grid', id: 'capacity' },
    h('div', {}, h('h3', {}, 'Allocated (tasks and slots)'), h('div', { class: 'bars' }, allocated.map((b) => b.bar.el))),
    h('div', {}, h('h3', {}, 'Reserved by allocations'), h('div', { class: 'bars' }, reserved.map((b) => b.bar.el))));
  const el = h('section', { class: 'card', 'aria-labelledby': 'capacity-title' },
    h('h2', { id: 'capacity-title' }, 'Capacity (active workers)'), err.el, counts, body, servicesWrap);
  return {
    el,
    async load(signal) {
      try {
        const c = await api('/capacity', { signal });
        err.show('');
        body.hidden = false;
        for (const { r, bar } of allocated) bar.update(c.allocated && c.allocated[r.key], c.total && c.total[r.key], r.fmt);
        for (const { r, bar } of reserved) bar.update(c.reserved && c.reserved[r.key], c.total && c.total[r.key], r.fmt);
        const active = num(c.active_allocations);
        setText(counts, `${num(c.workers_active)} of ${num(c.workers_total)} workers active · ` +
          `${active} active allocation${active === 1 ? '' : 's'} · ${num(c.pending_allocations)} pending`);
        const list = c.services || [];
        servicesWrap.hidden = list.length === 0;
        services.replaceChildren(...list.map((s) => h('tr', {},
          h('td', { class: 'mono' }, s.service || '—'),
          h('td', { class: 'mono' }, s.endpoint || 'starting…'),
          h('td', {}, stateBadge(s.status || 'unknown')),
          h('td', {}, String(num(s.references))),
          h('td', {}, s.task_id ? h('a', { class: 'mono', href: taskLink(s.task_id) }, s.task_id) : '—'))));
      } catch (e) {
        if (e.name === 'AbortError') return;
        body.hidden = true;
        setText(counts, '');
        err.show(missingApi(e)
          ? 'This master does not report capacity (GET /api/v1/capacity answered 404).'
          : `Cannot load the capacity: ${e.message}`);
      }
    },
  };
}

// ---- the list

const COLUMNS = [
  ['id', 'Allocation'], ['job', 'Job'], ['state', 'State'], ['prio', 'Priority'],
  ['slots', 'Slots'], ['size', 'Per slot'], ['created', 'Created'], ['expires', 'Expires'],
  ['reason', 'Reason'],
];

function createRow() {
  const cells = {};
  const row = h('div', { class: 'alloc-row', role: 'row' });
  for (const [key] of COLUMNS) {
    cells[key] = h('span', { class: `cell cell-${key}`, role: 'cell' });
    row.append(cells[key]);
  }
  cells.link = h('a', { class: 'mono' });
  cells.id.append(cells.link);
  cells.badge = h('span');
  cells.state.append(cells.badge);
  row._cells = cells;
  return row;
}

function updateRow(row, a) {
  const c = row._cells;
  row.dataset.allocationId = a.allocation_id;
  row.dataset.state = a.state;
  setText(c.link, a.allocation_id);
  c.link.href = allocationLink(a.allocation_id);
  setText(c.job, a.job_id || '—');
  c.job.title = a.job_id || '';
  stateBadge(a.state, c.badge);
  setText(c.prio, a.priority || 'normal');
  setText(c.slots, `${(a.slots || []).length} / ${num(a.workers)}`);
  const size = fmtResources(a.per_worker);
  setText(c.size, size);
  c.size.title = size;
  setText(c.created, fmtAgo(a.created_at_ms));
  c.created.title = `${fmtTime(a.created_at_ms)} UTC`;
  setText(c.expires, FINAL.has(a.state) ? `ended ${fmtAgo(a.ended_at_ms)}` : fmtWhen(a.expires_at_ms));
  c.expires.title = `${fmtTime(FINAL.has(a.state) ? a.ended_at_ms : a.expires_at_ms)} UTC`;
  setText(c.reason, a.reason || '');
  c.reason.title = a.reason || '';
}

export function mountAllocations(root, { query }) {
  let state = query.get('state') || '';
  let job = query.get('job') || '';
  let search = query.get('q') || '';
  const stateSel = h('select', { id: 'alloc-state', 'aria-label': 'Allocation state' },
    h('option', { value: '' }, 'All states'),
    ALLOCATION_STATES.map((s) => h('option', { value: s }, s)));
  stateSel.value = state;
  const jobInput = h('input', { type: 'search', id: 'alloc-job', placeholder: 'Job id', value: job, 'aria-label': 'Filter by job id' });
  const searchInput = h('input', { type: 'search', id: 'alloc-search', placeholder: 'Search id, job, reason', value: search, 'aria-label': 'Search allocations' });
  const count = h('span', { class: 'muted', role: 'status', id: 'alloc-count' });
  const err = errorBox();
  err.el.id = 'alloc-error';
  const capacity = capacityCard();
  const header = h('div', { class: 'alloc-row task-head', role: 'row' },
    COLUMNS.map(([key, label]) => h('span', { class: `cell cell-${key}`, role: 'columnheader' }, label)));
  const listEl = h('div', { class: 'list tasks-list', id: 'allocs-list' });
  const empty = h('p', { class: 'empty', hidden: true, id: 'alloc-empty' }, 'No allocations. Request one with ',
    h('code', {}, 'cloudai alloc request JOB_ID'), '.');
  const table = h('div', { class: 'table-wrap', role: 'table', 'aria-label': 'Allocations', 'aria-describedby': 'alloc-count' }, header, listEl);
  root.append(
    pageHeader('Allocations', h('div', { class: 'filters' }, stateSel, jobInput, searchInput)),
    capacity.el,
    err.el,
    empty,
    table,
    h('div', { class: 'list-foot' }, count),
  );

  const list = new VirtualList(listEl, { rowHeight: ROW_HEIGHT, createRow, updateRow, label: 'Allocations' });
  let all = [];
  let alive = true;
  let unsupported = false;
  let generation = 0;
  const abort = new AbortController();

  const redraw = frameThrottle(() => {
    let items = all;
    if (search) {
      const q = search.toLowerCase();
      items = all.filter((a) => a.allocation_id.toLowerCase().includes(q) ||
        (a.job_id || '').toLowerCase().includes(q) || (a.reason || '').toLowerCase().includes(q));
    }
    list.setItems(items);
    list.render();
    empty.hidden = unsupported || all.length > 0;
    table.hidden = unsupported;
    const capped = all.length >= LIST_LIMIT ? ` (the newest ${LIST_LIMIT})` : '';
    setText(count, unsupported ? '' : `${items.length} shown · ${all.length} allocations${capped}`);
  });

  const load = async () => {
    const gen = ++generation;
    const params = new URLSearchParams();
    if (state) params.set('state', state);
    if (job) params.set('job_id', job);
    params.set('limit', String(LIST_LIMIT));
    try {
      const res = await api(`/allocations?${params}`, { signal: abort.signal });
      if (!alive || gen !== generation) return;
      all = (res.allocations || []).filter((a) => a && a.allocation_id);
      unsupported = false;
      err.show('');
    } catch (e) {
      if (!alive || e.name === 'AbortError' || gen !== generation) return;
      unsupported = missingApi(e);
      all = [];
      err.show(unsupported
        ? 'This master does not serve allocations (GET /api/v1/allocations answered 404). ' +
          'They come with a master that has the allocations API (docs/allocations.md).'
        : `Cannot load allocations: ${e.message}`);
    }
    redraw();
  };

  const saveQuery = () => {
    const q = new URLSearchParams();
    if (state) q.set('state', state);
    if (job) q.set('job', job);
    if (search) q.set('q', search);
    setHashQuery(q);
  };
  stateSel.addEventListener('change', () => { state = stateSel.value; saveQuery(); load(); });
  jobInput.addEventListener('change', () => { job = jobInput.value.trim(); saveQuery(); load(); });
  searchInput.addEventListener('input', () => { search = searchInput.value.trim(); saveQuery(); redraw(); });

  load();
  capacity.load(abort.signal);
  const timer = setInterval(() => {
    if (document.hidden) return;
    load();
    capacity.load(abort.signal);
  }, 5000);
  // Relative times move on.
  const tick = setInterval(() => list.refresh(), 1000);
  // A change from /ws/events: the allocation is updated in place (or added, newest
  // first, or taken out when it no longer matches the filters).
  const reloadCapacity = throttle(() => capacity.load(abort.signal), 1000);
  const offs = [
    store.on('allocation', (a) => {
      if (unsupported || !a.allocation_id) return;
      const at = all.findIndex((x) => x.allocation_id === a.allocation_id);
      const matches = (!state || a.state === state) && (!job || a.job_id === job);
      if (at >= 0 && matches) all[at] = a;
      else if (at >= 0) all.splice(at, 1);
      else if (matches) all = [a, ...all];
      redraw();
      reloadCapacity();
    }),
    store.on('resync', load),
  ];
  return {
    unmount() {
      alive = false;
      abort.abort();
      clearInterval(timer);
      clearInterval(tick);
      offs.forEach((off) => off());
      list.destroy();
    },
  };
}

// ---- one allocation

const SLOT_COLUMNS = [['worker', 'Worker'], ['host', 'Host'], ['reserved', 'Reserved'], ['cpu', 'CPU used'], ['mem', 'Memory used']];
const SLOT_ROW_HEIGHT = 40;

function createSlotRow() {
  const cells = {};
  const row = h('div', { class: 'slot-row', role: 'row' });
  for (const [key] of SLOT_COLUMNS) {
    cells[key] = h('span', { class: `cell cell-${key}`, role: 'cell' });
    row.append(cells[key]);
  }
  cells.link = h('a', { class: 'mono' });
  cells.worker.append(cells.link);
  cells.cpuBar = capacityBar('CPU', { compact: true });
  cells.memBar = capacityBar('Memory', { compact: true });
  cells.cpu.append(cells.cpuBar.el);
  cells.mem.append(cells.memBar.el);
  row._cells = cells;
  return row;
}

function updateSlotRow(row, slot) {
  const c = row._cells;
  row.dataset.workerId = slot.worker_id;
  setText(c.link, slot.worker_id || '—');
  c.link.href = workerLink(slot.worker_id || '');
  setText(c.host, slot.host || '—');
  const reserved = fmtResources(slot.resources);
  setText(c.reserved, reserved);
  c.reserved.title = reserved;
  const r = slot.resources || {};
  const u = slot.used || {};
  c.cpuBar.update(u.cpu, r.cpu, fmtCores);
  c.memBar.update(u.memory, r.memory, fmtMiB);
}

export function mountAllocation(root, { params }) {
  const id = params[0];
  const badge = stateBadge('loading');
  badge.id = 'alloc-state-badge';
  const err = errorBox();
  err.el.id = 'alloc-error';
  const summary = h('dl', { class: 'kv', id: 'alloc-summary' });
  const meta = h('dl', { class: 'kv', id: 'alloc-metadata' });
  const timeline = h('ol', { class: 'timeline', id: 'alloc-timeline' });
  const endpoints = h('tbody', { id: 'alloc-endpoints' });
  const tasks = h('ul', { class: 'link-list', id: 'alloc-tasks' });
  const slotsTitle = h('h2', { id: 'as-title' }, 'Slots');
  const slotsHeader = h('div', { class: 'slot-row task-head', role: 'row' },
    SLOT_COLUMNS.map(([key, label]) => h('span', { class: `cell cell-${key}`, role: 'columnheader' }, label)));
  const slotsEl = h('div', { class: 'list slots-list', id: 'alloc-slots' });
  const slotsNote = h('p', { class: 'muted', id: 'alloc-slots-note' });
  const body = h('div', { class: 'alloc-body', hidden: true },
    h('div', { class: 'task-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'asum-title' }, h('h2', { id: 'asum-title' }, 'Summary'), summary),
      h('section', { class: 'card', 'aria-labelledby': 'atl-title' }, h('h2', { id: 'atl-title' }, 'History'), timeline)),
    h('section', { class: 'card', 'aria-labelledby': 'as-title' }, slotsTitle, slotsNote,
      h('div', { class: 'table-wrap slots-wrap', role: 'table', 'aria-labelledby': 'as-title' }, slotsHeader, slotsEl)),
    h('div', { class: 'task-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'asv-title' }, h('h2', { id: 'asv-title' }, 'Services'),
        h('div', { class: 'table-scroll' },
          h('table', { class: 'table', 'aria-labelledby': 'asv-title' },
            h('thead', {}, h('tr', {},
              h('th', { scope: 'col' }, 'Service'), h('th', { scope: 'col' }, 'Endpoint'),
              h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Task'))),
            endpoints))),
      h('section', { class: 'card', 'aria-labelledby': 'at-title' }, h('h2', { id: 'at-title' }, 'Unfinished tasks'), tasks),
      h('section', { class: 'card', 'aria-labelledby': 'am-title' }, h('h2', { id: 'am-title' }, 'Metadata'), meta)));

  root.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/allocations' }, 'Allocations'), ' / ', id),
    h('div', { class: 'page-header' }, h('h1', { class: 'mono' }, id), badge),
    err.el,
    body,
  );
  const slots = new VirtualList(slotsEl, { rowHeight: SLOT_ROW_HEIGHT, createRow: createSlotRow, updateRow: updateSlotRow, label: 'Slots' });

  let alive = true;
  let alloc = null;
  const shown = { endpoints: null, tasks: null };
  const abort = new AbortController();

  const kv = (dl, pairs) => {
    dl.replaceChildren(...pairs.flatMap(([k, v, key]) => [
      h('dt', {}, k), h('dd', key ? { dataset: { key } } : {}, v === '' || v === undefined || v === null ? '—' : v)]));
  };

  const render = () => {
    if (!alloc) return;
    const a = alloc;
    stateBadge(a.state, badge);
    body.hidden = false;
    const now = Date.now();
    kv(summary, [
      ['Job', h('span', { class: 'mono' }, a.job_id || '—'), 'job'],
      ['State', stateBadge(a.state), 'state'],
      ['Priority', a.priority || 'normal', 'priority'],
      ['Slots', `${(a.slots || []).length} placed of ${num(a.workers)}`, 'slots'],
      ['Per slot', fmtResources(a.per_worker), 'per-slot'],
      ['Time to live', fmtDuration(num(a.ttl_seconds) * 1000)],
      ['Created', `${fmtTime(a.created_at_ms)} UTC`],
      ['Active since', num(a.activated_at_ms) ? `${fmtTime(a.activated_at_ms)} UTC` : ''],
      ['Expires', num(a.expires_at_ms) ? `${fmtTime(a.expires_at_ms)} UTC (${fmtWhen(a.expires_at_ms, now)})` : '', 'expires'],
      ['Ended', num(a.ended_at_ms) ? `${fmtTime(a.ended_at_ms)} UTC` : ''],
      ['Reason', a.reason || '', 'reason'],
    ]);
    const metaPairs = Object.entries(a.metadata || {}).sort(([x], [y]) => (x < y ? -1 : 1));
    kv(meta, metaPairs.length ? metaPairs.map(([k, v]) => [k, h('code', {}, v)]) : [['', 'none']]);
    const events = a.events || [];
    timeline.replaceChildren(...events.map((ev) => h('li', { dataset: { to: ev.to_state } },
      h('time', { datetime: new Date(num(ev.at_ms)).toISOString(), title: `${fmtTime(ev.at_ms)} UTC` }, fmtClock(ev.at_ms)),
      ' ', ev.from_state ? stateBadge(ev.from_state) : '', ev.from_state ? ' → ' : '', stateBadge(ev.to_state),
      ev.detail ? h('span', { class: 'muted' }, ` ${ev.detail}`) : '')));
    if (!events.length) timeline.append(h('li', { class: 'muted' }, 'No history.'));
    const slotList = a.slots || [];
    setText(slotsTitle, `Slots (${slotList.length} of ${num(a.workers)})`);
    // As tall as its rows, up to ten (the list scrolls beyond).
    slotsEl.style.height = `${Math.min(10, Math.max(1, slotList.length)) * SLOT_ROW_HEIGHT + 2}px`;
    slots.setItems(slotList);
    slots.refresh();
    setText(slotsNote, slotList.length ? '' : a.state === 'pending' ? 'Not placed yet: the allocation waits for capacity.' : 'No slots held.');
    // Lists with links are rebuilt only when they change (a focused link stays focused).
    const eps = a.endpoints || [];
    const epKey = JSON.stringify([eps, a.services]);
    if (epKey !== shown.endpoints) {
      shown.endpoints = epKey;
      endpoints.replaceChildren(...(eps.length ? eps.map((s) => h('tr', {},
      h('td', { class: 'mono' }, s.service || '—'),
      h('td', { class: 'mono' }, s.endpoint || 'starting…'),
      h('td', {}, stateBadge(s.status || 'unknown')),
      h('td', {}, s.task_id ? h('a', { class: 'mono', href: taskLink(s.task_id) }, s.task_id) : '—')))
      : [h('tr', {}, h('td', { colspan: '4', class: 'muted' }, (a.services || []).length ? `${a.services.join(', ')}: not started yet` : 'None.'))]));
    }
    const ids = a.task_ids || [];
    const taskKey = ids.join('\n');
    if (taskKey !== shown.tasks) {
      shown.tasks = taskKey;
      tasks.replaceChildren(...ids.slice(0, MAX_TASK_LINKS).map((t) => h('li', {}, h('a', { class: 'mono', href: taskLink(t) }, t))));
      if (ids.length > MAX_TASK_LINKS) tasks.append(h('li', { class: 'muted' }, `and ${ids.length - MAX_TASK_LINKS} more`));
      if (!ids.length) tasks.append(h('li', { class: 'muted' }, 'None.'));
    }
  };

  let timer = 0;
  const load = async () => {
    try {
      alloc = await api(`/allocations/${encodeURIComponent(id)}`, { signal: abort.signal });
      if (!alive) return;
      err.show('');
      render();
      if (FINAL.has(alloc.state)) clearInterval(timer);
    } catch (e) {
      if (!alive || e.name === 'AbortError') return;
      if (missingApi(e)) {
        stateBadge('unknown', badge);
        err.show(`No allocation ${id} (the master answered 404: ${e.message}).`);
        clearInterval(timer);
      } else {
        err.show(`Cannot load the allocation: ${e.message}`);
      }
    }
  };
  load();
  timer = setInterval(() => { if (!document.hidden) load(); }, 3000);
  // A change from /ws/events: read it again (with its history).
  const reload = throttle(load, 300);
  const offs = [
    store.on('allocation', (a) => { if (a.allocation_id === id) reload(); }),
    store.on('resync', reload),
  ];
  return {
    unmount() {
      alive = false;
      abort.abort();
      clearInterval(timer);
      offs.forEach((off) => off());
      slots.destroy();
    },
  };
}
