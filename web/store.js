// The dashboard's live state: workers (from REST, /ws/telemetry and /ws/events), each
// worker's recent usage, and the stream of task changes for the views to apply.

import { api, LiveSocket } from './api.js';
import { num } from './util.js';

export const HISTORY_MS = 5 * 60 * 1000;

const listeners = new Map(); // event name -> Set of callbacks

export function on(event, fn) {
  if (!listeners.has(event)) listeners.set(event, new Set());
  listeners.get(event).add(fn);
  return () => listeners.get(event).delete(fn);
}

function emit(event, payload) {
  const set = listeners.get(event);
  if (set) for (const fn of set) fn(payload);
}

export const workers = new Map(); // worker id -> WorkerStatus
let workerVersion = 0; // bumped when workers join, leave, or turn active or inactive
const history = new Map(); // worker id -> {t, cpu, mem, gpu, start}

export function workerId(w) {
  return (w && w.info && w.info.worker_id) || '';
}

export function workersVersion() {
  return workerVersion;
}

export function usageHistory(id) {
  return history.get(id);
}

function record(w, at) {
  const id = workerId(w);
  let hist = history.get(id);
  if (!hist) {
    hist = { t: [], cpu: [], mem: [], gpu: [], start: 0, pushedAt: 0 };
    history.set(id, hist);
  }
  const t = num(at) || Date.now();
  const n = hist.t.length;
  if (n > hist.start && t <= hist.t[n - 1]) return;
  if (n > hist.start && t - hist.pushedAt < 1000) {
    // At most one sample a second is kept (the newest): 300 per worker for 5 minutes,
    // whatever the heartbeat interval.
    hist.t[n - 1] = t;
    hist.cpu[n - 1] = num(w.cpu_usage);
    hist.mem[n - 1] = num(w.memory_usage);
    hist.gpu[n - 1] = num(w.gpu_usage);
    return;
  }
  hist.pushedAt = t;
  hist.t.push(t);
  hist.cpu.push(num(w.cpu_usage));
  hist.mem.push(num(w.memory_usage));
  hist.gpu.push(num(w.gpu_usage));
  // Drop what is older than the window; compact once the dead prefix is large.
  const cutoff = t - HISTORY_MS - 5000;
  while (hist.start < hist.t.length && hist.t[hist.start] < cutoff) hist.start++;
  if (hist.start > 256 && hist.start * 2 > hist.t.length) {
    for (const k of ['t', 'cpu', 'mem', 'gpu']) hist[k] = hist[k].slice(hist.start);
    hist.start = 0;
  }
}

function putWorker(w) {
  const id = workerId(w);
  if (!id) return;
  const before = workers.get(id);
  workers.set(id, w);
  // A heartbeat changes figures, not the list: views then redraw rows only.
  if (!before || !!before.is_active !== !!w.is_active) workerVersion++;
}

function removeWorker(id) {
  if (workers.delete(id)) workerVersion++;
  history.delete(id);
}

export async function loadWorkers() {
  const res = await api('/workers');
  const seen = new Set();
  for (const w of res.workers || []) {
    putWorker(w);
    seen.add(workerId(w));
  }
  for (const id of [...workers.keys()]) if (!seen.has(id)) removeWorker(id);
  emit('workers');
}

function handleWorkerMessage(msg) {
  const id = workerId(msg.worker);
  if (msg.removed) removeWorker(id);
  else putWorker(msg.worker);
  emit('workers');
}

// ---- live connections

const sockets = [];
const socketStates = new Map();

function connectionChanged() {
  emit('connection', Object.fromEntries(socketStates));
}

export function connectionStates() {
  return Object.fromEntries(socketStates);
}

export function startLive() {
  stopLive();
  const telemetry = new LiveSocket('/ws/telemetry', {
    onMessage(msg) {
      if (msg.type === 'snapshot') {
        const seen = new Set();
        const now = Date.now();
        for (const w of msg.workers || []) {
          putWorker(w);
          seen.add(workerId(w));
          if (num(w.last_heartbeat_ms)) record(w, num(w.last_heartbeat_ms) || now);
        }
        for (const id of [...workers.keys()]) if (!seen.has(id)) removeWorker(id);
        emit('workers');
        emit('telemetry', null);
      } else if (msg.type === 'heartbeat') {
        putWorker(msg.worker);
        record(msg.worker, msg.received_at_ms);
        emit('telemetry', workerId(msg.worker));
        emit('workers');
      } else if (msg.type === 'worker') {
        handleWorkerMessage(msg);
      }
    },
    onState(state, detail) {
      socketStates.set('telemetry', { state, detail });
      connectionChanged();
    },
  });
  const events = new LiveSocket('/ws/events', {
    onMessage(msg) {
      if (msg.type === 'task' && msg.task) emit('task', msg);
      else if (msg.type === 'worker' && msg.worker) handleWorkerMessage(msg);
    },
    onState(state, detail) {
      socketStates.set('events', { state, detail });
      connectionChanged();
    },
    // Changes may have been missed while disconnected: views reload what they show.
    onOpen() {
      emit('resync');
    },
  });
  sockets.push(telemetry, events);
  telemetry.start();
  events.start();
}

export function stopLive() {
  while (sockets.length) sockets.pop().stop();
  socketStates.clear();
}
