// The dashboard's live state: workers (from REST, /ws/telemetry and /ws/events), each
// worker's recent usage, the cluster's capacity allocated and used over time, and the
// stream of task changes for the views to apply.

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
const history = new Map(); // worker id -> usage history (see newHistory)

export function workerId(w) {
  return (w && w.info && w.info.worker_id) || '';
}

export function workersVersion() {
  return workerVersion;
}

export function usageHistory(id) {
  return history.get(id);
}

// A history of samples over the last HISTORY_MS: {t: [...], <key>: [...], start}; the
// samples before `start` are expired (dropped in bulk now and then).
export function newHistory(keys) {
  const hist = { t: [], start: 0, pushedAt: 0, keys };
  for (const k of keys) hist[k] = [];
  return hist;
}

// A copy of `hist` (the part not expired), for a view that adds its own samples.
export function copyHistory(hist, keys) {
  const out = newHistory(keys);
  if (!hist) return out;
  out.t = hist.t.slice(hist.start);
  for (const k of keys) out[k] = (hist[k] || []).slice(hist.start);
  out.pushedAt = hist.pushedAt;
  return out;
}

// Adds a sample at time t (ms); values: {key: number}. At most one sample a second is
// kept (the newest): 300 for 5 minutes, whatever the heartbeat interval.
export function pushSample(hist, t, values) {
  const n = hist.t.length;
  if (n > hist.start && t <= hist.t[n - 1]) return;
  if (n > hist.start && t - hist.pushedAt < 1000) {
    hist.t[n - 1] = t;
    for (const k of hist.keys) hist[k][n - 1] = values[k];
    return;
  }
  hist.pushedAt = t;
  hist.t.push(t);
  for (const k of hist.keys) hist[k].push(values[k]);
  // Drop what is older than the window; compact once the dead prefix is large.
  const cutoff = t - HISTORY_MS - 5000;
  while (hist.start < hist.t.length && hist.t[hist.start] < cutoff) hist.start++;
  if (hist.start > 256 && hist.start * 2 > hist.t.length) {
    for (const k of ['t', ...hist.keys]) hist[k] = hist[k].slice(hist.start);
    hist.start = 0;
  }
}

export const USAGE_KEYS = ['cpu', 'mem', 'gpu'];

export function usageOf(w) {
  return { cpu: num(w.cpu_usage), mem: num(w.memory_usage), gpu: num(w.gpu_usage) };
}

function record(w, at) {
  const id = workerId(w);
  let hist = history.get(id);
  if (!hist) {
    hist = newHistory(USAGE_KEYS);
    history.set(id, hist);
  }
  pushSample(hist, num(at) || Date.now(), usageOf(w));
}

// ---- the cluster over time: capacity allocated per resource and usage measured by the
// workers (weighted by their capacity), over active workers, sampled each second.

const RESOURCE_KEYS = ['cpu', 'memory', 'storage', 'gpu'];
export const CLUSTER_KEYS = [...RESOURCE_KEYS, 'ucpu', 'umem', 'ugpu'];
const clusterHist = newHistory(CLUSTER_KEYS);
let clusterLast = null;

export function clusterHistory() {
  return clusterHist;
}

// The latest sample: {at, active, total: {cpu, ...}, allocated: {cpu, ...}, pct: {cpu,
// ..., ucpu, umem, ugpu}}; null before the first.
export function clusterNow() {
  return clusterLast;
}

export function sampleCluster(now = Date.now()) {
  const total = { cpu: 0, memory: 0, storage: 0, gpu: 0 };
  const allocated = { cpu: 0, memory: 0, storage: 0, gpu: 0 };
  let usedCpu = 0;
  let usedMem = 0;
  let usedGpu = 0;
  let active = 0;
  for (const w of workers.values()) {
    if (!w.is_active) continue;
    active++;
    const info = w.info || {};
    const alloc = w.allocated || {};
    for (const k of RESOURCE_KEYS) {
      total[k] += num(info[`total_${k}`]);
      allocated[k] += num(alloc[k]);
    }
    usedCpu += num(w.cpu_usage) * num(info.total_cpu);
    usedMem += num(w.memory_usage) * num(info.total_memory);
    usedGpu += num(w.gpu_usage) * num(info.total_gpu);
  }
  const pct = {};
  for (const k of RESOURCE_KEYS) pct[k] = total[k] > 0 ? Math.min(100, (allocated[k] / total[k]) * 100) : 0;
  pct.ucpu = total.cpu > 0 ? usedCpu / total.cpu : 0;
  pct.umem = total.memory > 0 ? usedMem / total.memory : 0;
  pct.ugpu = total.gpu > 0 ? usedGpu / total.gpu : 0;
  clusterLast = { at: now, active, total, allocated, pct };
  if (active > 0) pushSample(clusterHist, now, pct);
  emit('cluster', clusterLast);
  return clusterLast;
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
let clusterTimer = 0;

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
        sampleCluster(now);
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
      else if (msg.type === 'allocation' && msg.allocation) emit('allocation', msg.allocation);
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
  clusterTimer = setInterval(() => sampleCluster(), 1000);
}

export function stopLive() {
  while (sockets.length) sockets.pop().stop();
  socketStates.clear();
  clearInterval(clusterTimer);
  clusterTimer = 0;
}
