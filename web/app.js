// The CloudAI dashboard: token, hash routes, live connection indicator.

import { api, getToken, setToken, onUnauthorized } from './api.js';
import * as store from './store.js';
import { mountOverview } from './views/overview.js';
import { mountWorkers } from './views/workers.js';
import { mountTasks } from './views/tasks.js';
import { mountTask } from './views/task.js';
import { mountQueue } from './views/queue.js';
import { mountWorker } from './views/worker.js';
import { mountAllocations, mountAllocation } from './views/allocations.js';

const routes = [
  { re: /^\/?$/, name: 'overview', mount: mountOverview, title: 'Overview' },
  { re: /^\/workers\/?$/, name: 'workers', mount: mountWorkers, title: 'Workers' },
  { re: /^\/workers\/([^/]+)\/?$/, name: 'workers', mount: mountWorker, title: 'Worker' },
  { re: /^\/tasks\/?$/, name: 'tasks', mount: mountTasks, title: 'Tasks' },
  { re: /^\/tasks\/([^/]+)\/?$/, name: 'tasks', mount: mountTask, title: 'Task' },
  { re: /^\/queue\/?$/, name: 'queue', mount: mountQueue, title: 'Queue' },
  { re: /^\/allocations\/?$/, name: 'allocations', mount: mountAllocations, title: 'Allocations' },
  { re: /^\/allocations\/([^/]+)\/?$/, name: 'allocations', mount: mountAllocation, title: 'Allocation' },
];

const main = document.getElementById('main');
const dialog = document.getElementById('token-dialog');
const tokenForm = document.getElementById('token-form');
const tokenInput = document.getElementById('token-input');
const tokenError = document.getElementById('token-error');
const conn = document.getElementById('conn');

let current = null; // {unmount}
let currentKey = '';
let authorized = false;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  return { path, query, key: raw };
}

function route(force = false) {
  if (!authorized) return;
  const { path, query, key } = parseHash();
  if (!force && current && key === currentKey) return;
  const r = routes.find((x) => x.re.test(path)) || routes[0];
  const m = path.match(r.re);
  const params = m ? m.slice(1).map(decodeURIComponent) : [];
  if (current) current.unmount();
  main.replaceChildren();
  currentKey = key;
  const view = r.mount(main, { query, params });
  current = { ...view, route: r };
  document.title = `${params[0] || r.title} · CloudAI`;
  for (const a of document.querySelectorAll('.mainnav a')) {
    if (a.dataset.route === r.name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// stop: the current token is refused (or there is none); the page stops until a new one.
// Otherwise (changing the token) the page goes on until the form is submitted.
function showTokenDialog(message = '', { stop = true } = {}) {
  if (stop) {
    authorized = false;
    store.stopLive();
  }
  tokenError.textContent = message;
  tokenInput.value = '';
  if (!dialog.open) dialog.showModal();
  tokenInput.focus();
}

let unauthorizedShown = false;
onUnauthorized(() => {
  if (unauthorizedShown) return;
  unauthorizedShown = true;
  setToken('');
  if (current) {
    current.unmount();
    current = null;
    main.replaceChildren();
  }
  showTokenDialog('The master refused the token (401). Enter the admin token again.');
});

// Closing the dialog without a token (Escape) would leave a dead page: keep it open.
dialog.addEventListener('cancel', (ev) => {
  if (!getToken()) ev.preventDefault();
});

tokenForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const token = tokenInput.value.trim();
  if (!token) {
    tokenError.textContent = 'Enter a token.';
    return;
  }
  tokenError.textContent = 'Checking…';
  setToken(token);
  unauthorizedShown = true; // this check reports its own 401
  try {
    await api('/cluster');
  } catch (err) {
    unauthorizedShown = false;
    if (err.status === 401) {
      setToken('');
      tokenError.textContent = 'The master refused this token.';
    } else {
      // Not an auth problem (the master may be down): keep the token, go on.
      tokenError.textContent = '';
      dialog.close();
      start();
    }
    return;
  }
  unauthorizedShown = false;
  tokenError.textContent = '';
  dialog.close();
  start();
});

document.getElementById('change-token').addEventListener('click', () => {
  showTokenDialog('', { stop: false });
});

store.on('connection', (states) => {
  const values = Object.values(states);
  let text = 'Not connected';
  let state = 'idle';
  if (values.length && values.every((s) => s.state === 'open')) {
    text = 'Live';
    state = 'open';
  } else if (values.some((s) => s.state === 'waiting')) {
    const wait = Math.max(...values.filter((s) => s.state === 'waiting').map((s) => s.detail || 0));
    text = `Reconnecting in ${Math.ceil(wait / 1000)} s`;
    state = 'waiting';
  } else if (values.some((s) => s.state === 'connecting')) {
    text = 'Connecting…';
    state = 'connecting';
  }
  conn.textContent = text;
  conn.dataset.state = state;
});

function start() {
  authorized = true;
  unauthorizedShown = false;
  store.loadWorkers().catch(() => {});
  store.startLive();
  route(true);
}

window.addEventListener('hashchange', () => route());

if (getToken()) start();
else showTokenDialog('');
