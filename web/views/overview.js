// The cluster at a glance: counts, capacity used per resource, the latest tasks.

import { api } from '../api.js';
import * as store from '../store.js';
import { h, setText, num, RESOURCES, fmtAgo, stateBadge, taskLink, throttle } from '../util.js';
import { capacityBar, errorBox, pageHeader } from './common.js';

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
        h('td', {}, t.worker_id || '—'),
        h('td', { title: new Date(num(t.created_at_ms)).toISOString() }, fmtAgo(t.created_at_ms))));
      recentBody.replaceChildren(...rows);
      setText(recentNote, rows.length ? '' : 'No tasks yet.');
    } catch {
      // The cluster call reports errors.
    }
  }, 1500);

  loadCluster();
  loadRecent();
  const offs = [
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
