// One task: its state, resources, timeline (/events) and live logs (/logs?follow=1).

import { api, streamLogs } from '../api.js';
import * as store from '../store.js';
import {
  h, setText, num, fmtTime, fmtClock, fmtDuration, fmtCores, fmtMiB, stateBadge, throttle, FINISHED,
  workerLink,
} from '../util.js';
import { errorBox } from './common.js';

const MAX_LOG_CHARS = 2 * 1024 * 1024; // what the page keeps; older output is dropped

export function mountTask(root, { params }) {
  const id = params[0];
  const badge = stateBadge('loading');
  badge.id = 'task-state';
  const cancel = h('button', { type: 'button', class: 'btn btn-danger', id: 'task-cancel', hidden: true }, 'Cancel task');
  const err = errorBox();
  const summary = h('dl', { class: 'kv', id: 'task-summary' });
  const resources = h('dl', { class: 'kv', id: 'task-resources' });
  const timeline = h('ol', { class: 'timeline', id: 'task-timeline', 'aria-live': 'polite' });
  const logState = h('span', { class: 'muted', id: 'log-state', role: 'status' }, 'connecting…');
  const logs = h('pre', { class: 'logs', id: 'task-logs', tabindex: '0', 'aria-label': `Logs of ${id}` });
  const follow = h('input', { type: 'checkbox', id: 'log-follow', checked: true });

  root.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/tasks' }, 'Tasks'), ' / ', id),
    h('div', { class: 'page-header' }, h('h1', { class: 'mono' }, id), badge, cancel),
    err.el,
    h('div', { class: 'task-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'sum-title' }, h('h2', { id: 'sum-title' }, 'Summary'), summary),
      h('section', { class: 'card', 'aria-labelledby': 'res-title' }, h('h2', { id: 'res-title' }, 'Resources requested'), resources),
      h('section', { class: 'card', 'aria-labelledby': 'tl-title' }, h('h2', { id: 'tl-title' }, 'Timeline'), timeline)),
    h('section', { class: 'card', 'aria-labelledby': 'log-title' },
      h('div', { class: 'log-head' },
        h('h2', { id: 'log-title' }, 'Logs'), logState,
        h('label', { class: 'inline' }, follow, ' Scroll with output')),
      logs),
  );

  let alive = true;
  let task = null;
  const abort = new AbortController();

  const kv = (dl, pairs) => {
    dl.replaceChildren(...pairs.flatMap(([k, v, key]) => [
      h('dt', {}, k), h('dd', key ? { dataset: { key } } : {}, v === '' || v === undefined ? '—' : v)]));
  };

  const render = () => {
    if (!task) return;
    const t = task.task || {};
    stateBadge(task.status, badge);
    cancel.hidden = FINISHED.has(task.status);
    const started = num(task.started_at_ms);
    const ended = num(task.completed_at_ms);
    kv(summary, [
      ['State', stateBadge(task.status), 'state'],
      ['Worker', task.worker_id ? h('a', { href: workerLink(task.worker_id) }, task.worker_id) : '—'],
      ['Image', t.docker_image],
      ['Command', h('code', {}, t.command || '(image default)')],
      ['Exit code', task.exit_code === undefined || task.exit_code === null ? '—' : String(task.exit_code), 'exit'],
      ['Error', task.error || task.last_error || ''],
      ['Created', fmtTime(task.created_at_ms)],
      ['Started', fmtTime(task.started_at_ms)],
      ['Finished', fmtTime(task.completed_at_ms)],
      ['Ran for', started ? fmtDuration((ended || Date.now()) - started) : ''],
      ['Priority', String(t.priority || 0)],
      ['Retries', `${task.retries || 0} of ${t.max_retries || 0}`],
      ['Timeout', num(t.timeout_ms) ? fmtDuration(num(t.timeout_ms)) : 'none'],
    ]);
    const extra = Object.entries(t.req_extra || {}).map(([k, v]) => [k, String(v)]);
    kv(resources, [
      ['CPU', fmtCores(t.req_cpu)],
      ['Memory', fmtMiB(t.req_memory)],
      ['Storage', fmtMiB(t.req_storage)],
      ['GPU', fmtCores(t.req_gpu, 'GPU')],
      ...extra,
      ...Object.entries(t.env || {}).map(([k, v]) => [`env ${k}`, h('code', {}, v)]),
    ]);
  };

  const fetchTask = async () => {
    try {
      task = await api(`/tasks/${encodeURIComponent(id)}`, { signal: abort.signal });
      if (!alive) return;
      err.show('');
      render();
    } catch (e) {
      if (alive && e.name !== 'AbortError') {
        err.show(e.status === 404 ? `No task ${id}.` : `Cannot load the task: ${e.message}`);
        if (e.status === 404) stateBadge('unknown', badge);
      }
    }
  };
  const loadTask = throttle(fetchTask, 300);

  const loadEvents = throttle(async () => {
    try {
      const res = await api(`/tasks/${encodeURIComponent(id)}/events`, { signal: abort.signal });
      if (!alive) return;
      const events = res.events || [];
      timeline.replaceChildren(...events.map((ev) => h('li', { dataset: { to: ev.to } },
        h('time', { datetime: new Date(num(ev.at_ms)).toISOString(), title: fmtTime(ev.at_ms) }, fmtClock(ev.at_ms)),
        ' ', ev.from ? stateBadge(ev.from) : '', ev.from ? ' → ' : '', stateBadge(ev.to),
        ev.detail ? h('span', { class: 'muted' }, ` ${ev.detail}`) : '')));
      if (!events.length) timeline.append(h('li', { class: 'muted' }, 'No events yet.'));
    } catch {
      // The task call reports errors.
    }
  }, 300);

  // Logs: stream with follow; when the stream ends before the task does (the connection
  // dropped, or the task had not started yet), go on from the byte reached.
  let offset = 0;
  let shown = 0;
  const appendLog = frameBuffer((text) => {
    logs.append(text);
    shown += text.length;
    if (shown > MAX_LOG_CHARS) {
      const all = logs.textContent;
      const keep = all.slice(all.length - MAX_LOG_CHARS / 2);
      logs.textContent = `[earlier output dropped]\n${keep.slice(keep.indexOf('\n') + 1)}`;
      shown = logs.textContent.length;
    }
    if (follow.checked) logs.scrollTop = logs.scrollHeight;
  });

  // A task event wakes the log loop at once (the task started, or ended).
  let wake = () => {};
  const nap = (ms) => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => { clearTimeout(timer); resolve(); };
  });

  const streamLoop = async () => {
    let delay = 250;
    while (alive) {
      setText(logState, offset ? 'streaming…' : 'waiting for output…');
      try {
        const n = await streamLogs(id, {
          offset, follow: true, signal: abort.signal,
          onText: (text, bytes) => {
            offset += bytes;
            setText(logState, 'streaming…');
            appendLog(text);
          },
        });
        if (n > 0) delay = 250;
      } catch (e) {
        if (!alive || e.name === 'AbortError') return;
        if (e.status === 404 && !task) {
          setText(logState, 'no such task');
          return;
        }
        const waiting = task && (task.status === 'pending' || task.status === 'scheduled');
        setText(logState, waiting ? 'waiting for the task to start…' : `disconnected (${e.message}); retrying`);
      }
      await fetchTask();
      if (!alive) return;
      if (task && FINISHED.has(task.status)) {
        // One last read for anything written between the stream's end and now.
        try {
          await streamLogs(id, {
            offset, follow: false, signal: abort.signal,
            onText: (text, bytes) => { offset += bytes; appendLog(text); },
          });
        } catch {
          // What was shown stays.
        }
        setText(logState, `ended: task ${task.status}${offset ? '' : ' (no output)'}`);
        logState.dataset.final = task.status;
        return;
      }
      await nap(delay);
      delay = Math.min(delay * 2, 2000);
    }
  };

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      task = await api(`/tasks/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
      render();
    } catch (e) {
      err.show(`Cannot cancel: ${e.message}`);
    } finally {
      cancel.disabled = false;
    }
  });

  loadTask();
  loadEvents();
  streamLoop();
  const offs = [
    store.on('task', (msg) => {
      if (!msg.task || !msg.task.task || msg.task.task.task_id !== id) return;
      task = msg.task;
      render();
      loadEvents();
      wake();
    }),
    store.on('resync', () => { loadTask(); loadEvents(); }),
  ];
  const timer = setInterval(() => { if (task && !FINISHED.has(task.status)) render(); }, 1000);
  return {
    unmount() {
      alive = false;
      abort.abort();
      clearInterval(timer);
      offs.forEach((off) => off());
    },
  };
}

// Gathers text appended within one animation frame into one DOM write.
function frameBuffer(write) {
  let buf = '';
  let pending = false;
  return (text) => {
    buf += text;
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      const t = buf;
      buf = '';
      write(t);
    });
  };
}
