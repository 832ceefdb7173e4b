// A stand-in for cloudai-master's HTTP side (docs/http.md), for fast UI tests and for
// working on the dashboard without a cluster: it serves web/ as the master does (index.html
// at /, the rest under /static/), fakes the REST API over an in-memory cluster of N workers
// and M tasks (and K allocations, docs/allocations.md), and the /ws/telemetry,
// /ws/telemetry/{worker_id} and /ws/events WebSockets (a minimal server, no deps).
//
//   node web/test/stub-server.mjs [--port 8080] [--workers 1000] [--tasks 10000]
//                                 [--allocations 200] [--no-allocations-api] [--token T]

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
const FINISHED = new Set(['completed', 'failed', 'cancelled', 'lost']);

// ---- a minimal WebSocket server side (RFC 6455: text frames out, close/ping in)

function wsAccept(req, socket) {
  const key = req.headers['sec-websocket-key'];
  const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.setNoDelay(true);
  const client = {
    open: true,
    send(obj) {
      if (!client.open) return;
      const payload = Buffer.from(JSON.stringify(obj));
      let head;
      if (payload.length < 126) head = Buffer.from([0x81, payload.length]);
      else if (payload.length < 65536) {
        head = Buffer.alloc(4);
        head[0] = 0x81; head[1] = 126; head.writeUInt16BE(payload.length, 2);
      } else {
        head = Buffer.alloc(10);
        head[0] = 0x81; head[1] = 127; head.writeBigUInt64BE(BigInt(payload.length), 2);
      }
      socket.write(Buffer.concat([head, payload]));
    },
    close(code = 1000) {
      if (!client.open) return;
      client.open = false;
      const b = Buffer.alloc(4);
      b[0] = 0x88; b[1] = 2; b.writeUInt16BE(code, 2);
      socket.end(b);
    },
    onclose: () => {},
  };
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0] & 0x0f;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      const masked = buf[1] & 0x80;
      const total = off + (masked ? 4 : 0) + len;
      if (buf.length < total) return;
      const mask = masked ? buf.subarray(off, off + 4) : null;
      const data = Buffer.from(buf.subarray(total - len, total));
      if (mask) for (let i = 0; i < data.length; i++) data[i] ^= mask[i & 3];
      buf = buf.subarray(total);
      if (opcode === 0x8) client.close(1000);
      else if (opcode === 0x9) socket.write(Buffer.concat([Buffer.from([0x8a, data.length]), data]));
    }
  });
  const gone = () => { if (client.open || !client.closed) { client.open = false; client.closed = true; client.onclose(); } };
  socket.on('close', gone);
  socket.on('error', gone);
  return client;
}

// ---- the fake cluster

function makeWorker(i, now) {
  const id = `worker-${String(i + 1).padStart(4, '0')}`;
  const gpu = i % 4 === 0 ? 2000 : 0;
  return {
    info: {
      worker_id: id, worker_ip: `10.0.${Math.floor(i / 250)}.${(i % 250) + 2}:50052`,
      total_cpu: '8000', total_memory: '32768', total_storage: '204800', total_gpu: String(gpu),
      total_extra: {}, running_tasks: [], driver: i % 3 ? 'docker' : 'exec', hostname: `host-${i + 1}`, version: 'stub',
    },
    is_active: i % 17 !== 5,
    allocated: { cpu: String((i * 700) % 8000), memory: String((i * 3072) % 32768), storage: String((i * 10240) % 204800), gpu: String(gpu ? 1000 : 0), extra: {} },
    available: { cpu: '0', memory: '0', storage: '0', gpu: '0', extra: {} },
    cpu_usage: 0, memory_usage: 0, storage_usage: 0, gpu_usage: 0,
    last_heartbeat_ms: String(now), registered_at_ms: String(now - 3600e3), running_task_ids: [],
  };
}

// Allocations as the master prints them: the proto message Allocation in protobuf's JSON
// form with proto field names and defaults (64-bit integers as strings).
const ALLOC_STATES = ['active', 'active', 'pending', 'released', 'expired', 'active', 'failed', 'releasing'];
const PRIORITIES = ['normal', 'high', 'low', 'critical'];
const resources = (cpu, memory, storage = 0, gpu = 0) => ({ cpu: String(cpu), memory: String(memory), storage: String(storage), gpu: String(gpu), extra: {} });

function makeAllocation(i, now, workerList) {
  const id = `alloc-${(0x100000000000 + i * 7919).toString(16).slice(-12)}`;
  const state = ALLOC_STATES[i % ALLOC_STATES.length];
  const n = 1 + (i % 4);
  const gpu = i % 5 === 0 ? 1000 : 0;
  const perWorker = resources(2000, 4096, 0, gpu);
  const created = now - (i + 1) * 60e3;
  const placed = ['active', 'releasing'].includes(state);
  const slots = [];
  if (placed && workerList.length) {
    for (let k = 0; k < n; k++) {
      const w = workerList[(i * 3 + k) % workerList.length];
      slots.push({ worker_id: w.info.worker_id, host: w.info.worker_ip.split(':')[0], resources: perWorker, used: resources(k === 0 ? 1500 : 0, k === 0 ? 1024 : 0) });
    }
  }
  const services = i % 3 === 0 ? ['echo'] : [];
  const final = ['released', 'expired', 'failed'].includes(state);
  const events = [{ seq: '1', from_state: '', to_state: 'pending', at_ms: String(created), detail: `requested by job-${i % 37}` }];
  if (state !== 'pending') events.push({ seq: '2', from_state: 'pending', to_state: state === 'expired' && i % 2 ? 'expired' : 'active', at_ms: String(created + 200), detail: 'placed' });
  if (final && events[events.length - 1].to_state !== state) events.push({ seq: '3', from_state: 'active', to_state: state, at_ms: String(created + 30e3), detail: state === 'failed' ? 'worker lost' : state });
  if (state === 'releasing') events.push({ seq: '3', from_state: 'active', to_state: 'releasing', at_ms: String(now - 1000), detail: 'release requested' });
  return {
    allocation_id: id, job_id: `job-${i % 37}`, state, priority: PRIORITIES[i % PRIORITIES.length], workers: n,
    per_worker: perWorker, slots, services,
    endpoints: services.length && placed ? [{ service: 'echo', endpoint: `${slots[0] ? slots[0].host : '10.0.0.2'}:9000`, task_id: 'task-1', worker_id: slots[0] ? slots[0].worker_id : '', port: 9000, status: 'running', references: 2, idle_since_ms: '0' }] : [],
    metadata: i % 2 ? { team: 'ml', run: String(i) } : {},
    ttl_seconds: '3600', created_at_ms: String(created),
    activated_at_ms: state === 'pending' ? '0' : String(created + 200),
    expires_at_ms: String(created + 3600e3), ended_at_ms: final ? String(created + 30e3) : '0',
    reason: state === 'pending' ? 'waiting for capacity: 4 cores free, 8 needed' : state === 'failed' ? `worker ${slots[0] ? slots[0].worker_id : 'worker-0001'} lost` : '',
    task_ids: placed ? [`task-${i + 1}`] : [],
    events,
  };
}

export async function startStub({ port = 0, workers = 3, tasks = 30, allocations = 12, allocationsApi = true, token: initialToken = 'stub-token', heartbeatMs = 1000, host = '127.0.0.1' } = {}) {
  let token = initialToken;
  const now = Date.now();
  const W = new Map();
  for (let i = 0; i < workers; i++) { const w = makeWorker(i, now); W.set(w.info.worker_id, w); }
  const T = new Map(); // task id -> {status: TaskStatus, logs: string, events: []}
  const order = []; // task ids, oldest first
  let counter = 0;
  const states = ['completed', 'completed', 'completed', 'failed', 'running', 'pending', 'cancelled', 'scheduled', 'lost'];
  const wids = [...W.keys()];
  for (let i = 0; i < tasks; i++) {
    const id = `task-${++counter}`;
    const st = states[i % states.length];
    const created = now - (tasks - i) * 1000;
    const t = {
      task: { task_id: id, docker_image: i % 2 ? 'busybox:latest' : 'python:3.12', command: `echo job ${i}`, req_cpu: '1000', req_memory: '512', req_storage: '1024', req_gpu: '0', priority: i % 5, max_retries: 0, env: {}, req_extra: {}, timeout_ms: '0', target_worker_id: '', user_id: '' },
      status: st, worker_id: st === 'pending' ? '' : (wids[i % wids.length] || ''), created_at_ms: String(created),
      scheduled_at_ms: st === 'pending' ? '0' : String(created + 50), started_at_ms: ['pending', 'scheduled'].includes(st) ? '0' : String(created + 100),
      completed_at_ms: FINISHED.has(st) ? String(created + 900) : '0', error: st === 'failed' ? 'exit status 1' : '', retries: 0,
      last_error: st === 'pending' ? 'Insufficient GPU: no worker has 1.00 available' : '',
    };
    if (st === 'completed') t.exit_code = 0;
    if (st === 'failed') t.exit_code = 1;
    T.set(id, { status: t, logs: `job ${i}\n`, events: [{ from: '', to: 'pending', at_ms: String(created), detail: 'submitted' }], followers: new Set() });
    order.push(id);
  }

  // Workers list the tasks that run on them.
  for (const id of order) {
    const t = T.get(id).status;
    if (t.status === 'running' && W.has(t.worker_id)) W.get(t.worker_id).running_task_ids.push(id);
  }
  const A = new Map(); // allocation id -> Allocation, newest first
  {
    const list = [...W.values()].filter((w) => w.is_active);
    for (let i = allocations - 1; i >= 0; i--) {
      const a = makeAllocation(i, now, list);
      A.set(a.allocation_id, a);
    }
  }
  let allocApi = allocationsApi;

  const wsTelemetry = new Set();
  const wsEvents = new Set();
  const wsWorker = new Map(); // worker id -> Set of clients of /ws/telemetry/{id}
  const broadcast = (set, msg) => { if (set) for (const c of set) c.send(msg); };

  const taskChanged = (rec, to, detail = '') => {
    const from = rec.status.status;
    rec.status.status = to;
    const ev = { from, to, at_ms: String(Date.now()), detail };
    rec.events.push(ev);
    broadcast(wsEvents, { type: 'task', task: rec.status, event: ev });
    if (FINISHED.has(to)) for (const f of rec.followers) f();
  };

  // Heartbeats: every worker once per heartbeatMs, spread over the interval.
  let hbIndex = 0;
  const hbTick = Math.max(5, Math.floor(heartbeatMs / Math.max(1, workers)));
  const perTick = Math.max(1, Math.ceil(workers / (heartbeatMs / hbTick)));
  const hbTimer = setInterval(() => {
    const list = [...W.values()];
    for (let k = 0; k < perTick && list.length; k++) {
      const w = list[hbIndex++ % list.length];
      if (!w.is_active) continue;
      const t = Date.now() / 1000;
      const ph = hbIndex % 97;
      w.cpu_usage = Math.max(0, Math.min(100, 45 + 35 * Math.sin(t / 7 + ph) + Math.random() * 8));
      w.memory_usage = Math.max(0, Math.min(100, 55 + 20 * Math.sin(t / 23 + ph)));
      w.gpu_usage = num(w.info.total_gpu) ? Math.max(0, 50 + 45 * Math.sin(t / 5 + ph)) : 0;
      w.last_heartbeat_ms = String(Date.now());
      const beat = { type: 'heartbeat', worker: w, received_at_ms: String(Date.now()) };
      broadcast(wsTelemetry, beat);
      broadcast(wsWorker.get(w.info.worker_id), beat);
    }
  }, hbTick);

  const summary = () => {
    const total = { cpu: 0, memory: 0, storage: 0, gpu: 0 };
    const alloc = { cpu: 0, memory: 0, storage: 0, gpu: 0 };
    let active = 0;
    for (const w of W.values()) {
      if (!w.is_active) continue;
      active++;
      for (const k of Object.keys(total)) { total[k] += num(w.info[`total_${k}`]); alloc[k] += num(w.allocated[k]); }
    }
    const count = (s) => [...T.values()].filter((r) => r.status.status === s).length;
    const str = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
    return { workers: W.size, active_workers: active, queued: count('pending'), scheduled: count('scheduled'), running: count('running'), total: str(total), allocated: str(alloc) };
  };

  // A submitted task runs through its life with a few lines of output.
  const run = (rec) => {
    const w = [...W.values()].reverse().find((x) => x.is_active); // the latest to join
    const lines = ['hello from the stub', 'step 1', 'step 2', 'done'];
    setTimeout(() => {
      rec.status.worker_id = w ? w.info.worker_id : '';
      rec.status.scheduled_at_ms = String(Date.now());
      taskChanged(rec, 'scheduled', `placed on ${rec.status.worker_id}`);
      setTimeout(() => {
        rec.status.started_at_ms = String(Date.now());
        if (w) w.running_task_ids.push(rec.status.task.task_id);
        taskChanged(rec, 'running');
        let i = 0;
        const tick = setInterval(() => {
          if (rec.status.status !== 'running') { clearInterval(tick); return; }
          if (i < lines.length) {
            rec.logs += `${lines[i++]}\n`;
            for (const f of rec.followers) f();
            return;
          }
          clearInterval(tick);
          rec.status.completed_at_ms = String(Date.now());
          rec.status.exit_code = 0;
          if (w) w.running_task_ids = w.running_task_ids.filter((x) => x !== rec.status.task.task_id);
          taskChanged(rec, 'completed', 'exit code 0');
        }, 300);
      }, 300);
    }, 300);
  };

  const json = (res, code, body) => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fail = (res, code, status, message) => json(res, code, { error: { code: status, message } });
  const authorized = (req, url) => req.headers.authorization === `Bearer ${token}` || url.searchParams.get('token') === token;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    if (p === '/' || p.startsWith('/static/')) {
      const rel = p === '/' ? 'index.html' : decodeURIComponent(p.slice('/static/'.length));
      const file = path.resolve(WEB_DIR, rel);
      if (!file.startsWith(WEB_DIR + path.sep) || rel.startsWith('test/')) return fail(res, 404, 'NOT_FOUND', 'no such file');
      fs.readFile(file, (err, data) => {
        if (err) return fail(res, 404, 'NOT_FOUND', 'no such file');
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
        res.end(data);
      });
      return;
    }
    if (p === '/health') return json(res, 200, { ok: true });
    if (!p.startsWith('/api/v1/')) return fail(res, 404, 'NOT_FOUND', 'no such path');
    if (!authorized(req, url)) return fail(res, 401, 'UNAUTHENTICATED', 'missing or wrong admin token');
    const parts = p.slice('/api/v1/'.length).split('/').map(decodeURIComponent);
    const body = async () => {
      let s = '';
      for await (const c of req) s += c;
      return s ? JSON.parse(s) : {};
    };
    if (parts[0] === 'cluster') return json(res, 200, summary());
    if (parts[0] === 'workers' && parts.length === 1 && req.method === 'GET') return json(res, 200, { workers: [...W.values()] });
    if (parts[0] === 'workers' && parts.length === 2) {
      const w = W.get(parts[1]);
      return w ? json(res, 200, w) : fail(res, 404, 'NOT_FOUND', `unknown worker ${parts[1]}`);
    }
    if (parts[0] === 'allocations' || parts[0] === 'capacity') {
      if (!allocApi) return fail(res, 404, 'NOT_FOUND', `path: no route for ${req.method} ${p}`);
      if (parts[0] === 'capacity') {
        const sum = summary();
        const reserved = { cpu: 0, memory: 0, storage: 0, gpu: 0 };
        let activeAllocs = 0;
        let pendingAllocs = 0;
        for (const a of A.values()) {
          if (a.state === 'active') activeAllocs++;
          if (a.state === 'pending') pendingAllocs++;
          for (const slot of a.slots) for (const k of Object.keys(reserved)) reserved[k] += num(slot.resources[k]);
        }
        const available = Object.fromEntries(Object.keys(reserved).map((k) => [k, String(Math.max(0, num(sum.total[k]) - num(sum.allocated[k])))]));
        return json(res, 200, {
          total: { ...sum.total, extra: {} }, allocated: { ...sum.allocated, extra: {} }, available: { ...available, extra: {} },
          workers_total: sum.workers, workers_active: sum.active_workers,
          services: [{ service: 'echo', endpoint: '10.0.0.2:9000', task_id: 'task-1', worker_id: 'worker-0001', port: 9000, status: 'running', references: 2, idle_since_ms: '0' }],
          active_allocations: activeAllocs, pending_allocations: pendingAllocs,
          reserved: Object.fromEntries([...Object.entries(reserved).map(([k, v]) => [k, String(v)]), ['extra', {}]]),
        });
      }
      if (parts.length === 1 && req.method === 'GET') {
        const state = url.searchParams.get('state') || '';
        const job = url.searchParams.get('job_id') || '';
        const limit = Math.min(1000, Number(url.searchParams.get('limit')) || 100);
        const out = [];
        for (const a of A.values()) {
          if (out.length >= limit) break;
          if (state && a.state !== state) continue;
          if (job && a.job_id !== job) continue;
          out.push({ ...a, events: [] });
        }
        return json(res, 200, { allocations: out });
      }
      const a = A.get(parts[1]);
      if (!a) return fail(res, 404, 'NOT_FOUND', `allocation ${parts[1]} not found`);
      if (parts.length === 2 && req.method === 'GET') return json(res, 200, a);
      return fail(res, 404, 'NOT_FOUND', 'no such path');
    }
    if (parts[0] === 'queue') {
      const q = order.map((id) => T.get(id).status).filter((t) => t.status === 'pending')
        .map((t) => ({ task_id: t.task.task_id, request: { cpu: t.task.req_cpu, memory: t.task.req_memory, storage: t.task.req_storage, gpu: t.task.req_gpu, extra: {} }, priority: t.task.priority, queued_at_ms: t.created_at_ms, retries: t.retries, last_error: t.last_error }));
      return json(res, 200, { tasks: q });
    }
    if (parts[0] === 'tasks' && parts.length === 1 && req.method === 'GET') {
      const status = url.searchParams.get('status') || '';
      const worker = url.searchParams.get('worker') || '';
      const limit = Math.min(1000, Number(url.searchParams.get('limit')) || 100);
      const after = url.searchParams.get('after') || '';
      const out = [];
      let i = order.length - 1;
      if (after) i = order.lastIndexOf(after) - 1;
      for (; i >= 0 && out.length < limit + 1; i--) {
        const t = T.get(order[i]).status;
        if (status && t.status !== status) continue;
        if (worker && t.worker_id !== worker) continue;
        out.push(t);
      }
      const more = out.length > limit;
      if (more) out.pop();
      return json(res, 200, { tasks: out, next_after_task_id: more ? out[out.length - 1].task.task_id : '' });
    }
    if (parts[0] === 'tasks' && parts.length === 1 && req.method === 'POST') {
      const task = await body();
      const id = task.task_id || `task-${++counter}`;
      if (T.has(id)) return fail(res, 409, 'ALREADY_EXISTS', `task ${id} exists`);
      const st = { task: { ...task, task_id: id }, status: 'pending', worker_id: '', created_at_ms: String(Date.now()), scheduled_at_ms: '0', started_at_ms: '0', completed_at_ms: '0', error: '', retries: 0, last_error: '' };
      const rec = { status: st, logs: '', events: [], followers: new Set() };
      T.set(id, rec);
      order.push(id);
      const ev = { from: '', to: 'pending', at_ms: st.created_at_ms, detail: 'submitted' };
      rec.events.push(ev);
      broadcast(wsEvents, { type: 'task', task: st, event: ev });
      run(rec);
      return json(res, 201, st);
    }
    const rec = parts[0] === 'tasks' ? T.get(parts[1]) : null;
    if (parts[0] === 'tasks' && !rec) return fail(res, 404, 'NOT_FOUND', `unknown task ${parts[1]}`);
    if (rec && parts.length === 2) return json(res, 200, rec.status);
    if (rec && parts[2] === 'events') return json(res, 200, { events: rec.events });
    if (rec && parts[2] === 'cancel' && req.method === 'POST') {
      if (FINISHED.has(rec.status.status)) return fail(res, 412, 'FAILED_PRECONDITION', 'task finished');
      rec.status.completed_at_ms = String(Date.now());
      taskChanged(rec, 'cancelled', 'cancelled by the user');
      return json(res, 200, rec.status);
    }
    if (rec && parts[2] === 'logs') {
      let offset = Number(url.searchParams.get('offset')) || 0;
      const follow = url.searchParams.get('follow') === '1';
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
      const flush = () => {
        const b = Buffer.from(rec.logs);
        if (b.length > offset) { res.write(b.subarray(offset)); offset = b.length; }
        if (!follow || FINISHED.has(rec.status.status)) { rec.followers.delete(flush); res.end(); }
      };
      rec.followers.add(flush);
      req.on('close', () => rec.followers.delete(flush));
      flush();
      return;
    }
    return fail(res, 404, 'NOT_FOUND', 'no such path');
  });

  server.on('upgrade', (req, socket) => {
    const url = new URL(req.url, 'http://x');
    if (!authorized(req, url)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (url.pathname === '/ws/telemetry') {
      const c = wsAccept(req, socket);
      wsTelemetry.add(c);
      c.onclose = () => wsTelemetry.delete(c);
      c.send({ type: 'snapshot', workers: [...W.values()] });
    } else if (url.pathname.startsWith('/ws/telemetry/')) {
      const id = decodeURIComponent(url.pathname.slice('/ws/telemetry/'.length));
      const c = wsAccept(req, socket);
      if (!wsWorker.has(id)) wsWorker.set(id, new Set());
      wsWorker.get(id).add(c);
      c.onclose = () => wsWorker.get(id)?.delete(c);
      c.send({ type: 'snapshot', workers: W.has(id) ? [W.get(id)] : [] });
    } else if (url.pathname === '/ws/events') {
      const c = wsAccept(req, socket);
      wsEvents.add(c);
      c.onclose = () => wsEvents.delete(c);
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    }
  });

  await new Promise((resolve) => server.listen(port, host, resolve));
  const addr = server.address();
  return {
    url: `http://${host}:${addr.port}`,
    get token() { return token; },
    // A new admin token: the dashboard's next call gets 401.
    setToken(t) { token = t; },
    // Adds a worker as the master would announce it (for the "a worker joins" check).
    addWorker(id) {
      const w = makeWorker(W.size, Date.now());
      w.info.worker_id = id;
      w.is_active = true;
      W.set(id, w);
      const msg = { type: 'worker', worker: w, removed: false };
      broadcast(wsTelemetry, msg);
      broadcast(wsEvents, msg);
      broadcast(wsWorker.get(id), msg);
      return w;
    },
    // Removes a worker as the master would announce it.
    removeWorker(id) {
      const w = W.get(id);
      if (!w) return;
      W.delete(id);
      const msg = { type: 'worker', worker: w, removed: true };
      broadcast(wsTelemetry, msg);
      broadcast(wsEvents, msg);
      broadcast(wsWorker.get(id), msg);
    },
    // Whether /allocations and /capacity answer (a master without them answers 404).
    setAllocationsApi(on) { allocApi = on; },
    // Changes an allocation's state and announces it on /ws/events, as the master does.
    setAllocationState(id, state, detail = '') {
      const a = A.get(id);
      if (!a) return null;
      const from = a.state;
      a.state = state;
      a.events = [...a.events, { seq: String(a.events.length + 1), from_state: from, to_state: state, at_ms: String(Date.now()), detail }];
      if (['released', 'expired', 'failed'].includes(state)) { a.ended_at_ms = String(Date.now()); a.slots = []; }
      broadcast(wsEvents, { type: 'allocation', allocation: { ...a, events: [] } });
      return a;
    },
    // The id of the allocation at `index` (newest first).
    allocationIds() { return [...A.keys()]; },
    dropClients() {
      for (const c of [...wsTelemetry, ...wsEvents, ...[...wsWorker.values()].flatMap((x) => [...x])]) c.close(1001);
    },
    // Clients of /ws/telemetry/{id}, by id (for tests).
    workerClients(id) { return wsWorker.get(id)?.size || 0; },
    async close() {
      clearInterval(hbTimer);
      for (const c of [...wsTelemetry, ...wsEvents, ...[...wsWorker.values()].flatMap((x) => [...x])]) c.close(1001);
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function num(v) {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, def) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : def;
  };
  const stub = await startStub({
    port: Number(arg('port', 8080)), workers: Number(arg('workers', 20)), tasks: Number(arg('tasks', 200)),
    allocations: Number(arg('allocations', 40)), allocationsApi: !process.argv.includes('--no-allocations-api'),
    token: arg('token', 'stub-token'), host: arg('host', '127.0.0.1'),
  });
  console.log(`stub master serving HTTP on ${stub.url} (token ${stub.token})`);
}
