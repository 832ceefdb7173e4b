// End to end: a real cloudai-master and cloudai-worker (exec driver), and an agent's whole
// session through the official TypeScript SDK's MCP client, twice: over stdio
// (`cloudai mcp`, spawned by StdioClientTransport) and over Streamable HTTP (the master's
// /mcp with the admin token). Each session: list the tools, look at the capacity, reserve
// a slot, run a task in it, poll it to completion, read its output, release the slot
// (and fail to release it again), let a 1-second allocation expire and clean it up, and
// see bad arguments and an unknown tool refused.
//
//   CLOUDAI_MASTER_BIN=build/src/master/cloudai-master \
//   CLOUDAI_WORKER_BIN=build/src/worker/agent/cloudai-worker \
//   CLOUDAI_CLI_BIN=build/src/cli/cloudai \
//   node --test tests/mcp/agent.test.mjs        (or: tests/mcp/run.sh MASTER WORKER CLI)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Proc, callError, callOk, callUnknownTool, checkToolList, freePort, masterArgs, sleep, waitFor, waitForMaster } from './lib.mjs';

const MASTER_BIN = process.env.CLOUDAI_MASTER_BIN || '';
const WORKER_BIN = process.env.CLOUDAI_WORKER_BIN || '';
const CLI_BIN = process.env.CLOUDAI_CLI_BIN || '';
const skip = MASTER_BIN && WORKER_BIN && CLI_BIN ? false
  : 'set CLOUDAI_MASTER_BIN, CLOUDAI_WORKER_BIN and CLOUDAI_CLI_BIN (tests/mcp/run.sh MASTER WORKER CLI)';

const FINISHED = ['completed', 'failed', 'cancelled', 'lost'];

// One agent's session on an MCP client connected to the cluster.
async function agentSession(st, client, { label, workerId }) {
  const job = `agent-${label}`;
  let allocationId = '';

  await st.test('initialize: the server is cloudai; tools/list has every tool with schemas', async () => {
    assert.equal(client.getServerVersion().name, 'cloudai');
    assert.match(client.getInstructions() || '', /request_resources/);
    await client.ping();
    await checkToolList(client);
  });

  await st.test('get_capacity and list_workers see the worker', async () => {
    const capacity = await callOk(client, 'get_capacity');
    assert.ok(capacity.workers_active >= 1, JSON.stringify(capacity));
    assert.ok(capacity.available.cpu_cores >= 0.5, JSON.stringify(capacity));
    const { workers } = await callOk(client, 'list_workers');
    const w = workers.find((x) => x.worker_id === workerId);
    assert.ok(w, `${workerId} in ${JSON.stringify(workers)}`);
    assert.equal(w.active, true);
    assert.equal(w.driver, 'exec');
  });

  await st.test('request_resources reserves one slot', async () => {
    let a = await callOk(client, 'request_resources', {
      job_id: job, workers: 1, cpu_cores: 0.5, memory_gb: 0.25, priority: 'high',
      ttl_seconds: 600, metadata: { session: label },
    });
    allocationId = a.allocation_id;
    assert.match(allocationId, /^alloc-/);
    assert.equal(a.job_id, job);
    if (a.state === 'pending') {
      a = await waitFor(async () => {
        const now = await callOk(client, 'get_allocation', { allocation_id: allocationId });
        return now.state === 'active' ? now : null;
      }, { timeout: 20000, what: `${allocationId} to become active` });
    }
    assert.equal(a.state, 'active', JSON.stringify(a));
    assert.equal(a.slots.length, 1);
    assert.equal(a.slots[0].worker_id, workerId);
    assert.equal(a.per_worker.cpu_cores, 0.5);
    assert.equal(a.per_worker.memory_gb, 0.25);
    assert.equal(a.metadata.session, label);
    const capacity = await callOk(client, 'get_capacity');
    assert.ok(capacity.active_allocations >= 1);
    assert.ok(capacity.reserved.cpu_cores >= 0.5, JSON.stringify(capacity.reserved));
  });

  let taskId = '';
  await st.test('submit_task runs in the allocation; get_task polls it to completion', async () => {
    const submitted = await callOk(client, 'submit_task', {
      docker_image: 'exec',
      command: 'echo "hello from $SESSION"; echo second line',
      env: { SESSION: label },
      allocation_id: allocationId,
      timeout_seconds: 60,
    });
    taskId = submitted.task_id;
    assert.ok(taskId);
    assert.equal(submitted.allocation_id, allocationId);
    assert.equal(submitted.resources.cpu_cores, 0.5, 'resources default to one whole slot');
    const done = await waitFor(async () => {
      const t = await callOk(client, 'get_task', { task_id: taskId });
      return FINISHED.includes(t.status) ? t : null;
    }, { timeout: 60000, interval: 300, what: `task ${taskId} to finish` });
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.exit_code, 0);
    assert.equal(done.worker_id, workerId);
  });

  await st.test('get_task_logs returns its output', async () => {
    const logs = await waitFor(async () => {
      const l = await callOk(client, 'get_task_logs', { task_id: taskId });
      return l.content.includes('second line') ? l : null;
    }, { timeout: 15000, interval: 300, what: `the output of ${taskId}` });
    assert.match(logs.content, new RegExp(`hello from ${label}`));
    assert.equal(logs.offset, 0);
    assert.ok(logs.next_offset >= Buffer.byteLength(logs.content));
    const rest = await callOk(client, 'get_task_logs', { task_id: taskId, offset: 6, max_bytes: 4 });
    assert.equal(rest.content, 'from');
    assert.equal(rest.next_offset, 10);
  });

  await st.test('release_resources ends it; releasing again is a tool error', async () => {
    const released = await callOk(client, 'release_resources', { allocation_id: allocationId });
    assert.ok(['releasing', 'released'].includes(released.state), JSON.stringify(released));
    await waitFor(async () => {
      const a = await callOk(client, 'get_allocation', { allocation_id: allocationId });
      return a.state === 'released';
    }, { timeout: 20000, what: `${allocationId} to be released` });
    const again = await callError(client, 'release_resources', { allocation_id: allocationId });
    assert.match(again, /release_resources failed: .*already released/);
    assert.match(again, /FAILED_PRECONDITION/);
  });

  await st.test('a 1-second allocation expires; cleanup_expired_allocations reports it', async () => {
    const short = await callOk(client, 'request_resources', {
      job_id: job, cpu_cores: 0.25, memory_gb: 0.125, ttl_seconds: 1,
    });
    assert.equal(short.ttl_seconds, 1);
    await sleep(1500);
    const cleanup = await callOk(client, 'cleanup_expired_allocations');
    assert.ok(cleanup.expired_allocation_ids.includes(short.allocation_id), JSON.stringify(cleanup));
    const after = await callOk(client, 'get_allocation', { allocation_id: short.allocation_id });
    assert.equal(after.state, 'expired');
    assert.ok(Array.isArray(after.events) && after.events.length >= 2, JSON.stringify(after.events));
    const listed = await callOk(client, 'list_allocations', { job_id: job });
    const ids = listed.allocations.map((x) => x.allocation_id);
    assert.ok(ids.includes(allocationId) && ids.includes(short.allocation_id), JSON.stringify(ids));
  });

  await st.test('bad arguments and unknown tools are refused with what to change', async () => {
    assert.match(await callError(client, 'request_resources', { job_id: job, workers: 0 }),
      /workers: 0 is below the minimum of 1/);
    assert.match(await callError(client, 'request_resources', { job_id: job, ttl_seconds: 999999999 }),
      /ttl_seconds: .* is above the maximum of 604800/);
    assert.match(await callError(client, 'submit_task', { command: 'true' }), /docker_image: is required/);
    assert.match(await callError(client, 'get_task', { task_id: 'no-such-task' }), /get_task failed: .*NOT_FOUND/);
    await callUnknownTool(client, 'launch_rockets');
  });
}

test('an agent session over stdio and over Streamable HTTP against a real cluster', { skip }, async (t) => {
  for (const bin of [MASTER_BIN, WORKER_BIN, CLI_BIN]) assert.ok(fs.existsSync(bin), `no binary at ${bin}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudai-mcp-'));
  const stateDir = path.join(dir, 'state');
  const workDir = path.join(dir, 'worker-w1');
  fs.mkdirSync(stateDir);
  fs.mkdirSync(workDir);
  const grpcPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === grpcPort) httpPort = await freePort();
  const procs = [];
  const clients = [];
  const logs = {};
  let failed = false;

  t.after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    for (const p of procs.reverse()) await p.stop();
    if (failed || process.env.KEEP_TEST_DIR) {
      console.error(`# files of this test kept in ${dir}`);
      for (const p of procs) console.error(`# ---- ${p.name}: ${p.description}\n# log ${p.logPath}, last lines:\n${p.tail()}`);
      for (const [name, text] of Object.entries(logs)) console.error(`# ---- ${name}:\n${text().split('\n').slice(-40).join('\n')}`);
    } else {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  // Steps run in order; after a failure the rest are skipped (they would only cascade).
  const step = (name, fn) => t.test(name, { skip: failed ? 'an earlier step failed' : false }, async (st) => {
    try {
      await fn(st);
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  const master = new Proc('master', MASTER_BIN, [
    ...masterArgs({ grpcPort, httpPort, stateDir }),
    '--allocation-sweep-interval', '1h',
  ], { cwd: dir, logPath: path.join(dir, 'master.log') });
  procs.push(master);
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const tokenFile = path.join(stateDir, 'admin.token');
  let token = '';

  await step('the master starts', async () => {
    token = await waitForMaster(master, stateDir, baseUrl);
  });

  const workerId = 'mcp-w1';
  const worker = new Proc('worker', WORKER_BIN, [
    '--id', workerId,
    '--port', String(await freePort()),
    '--listen-host', '127.0.0.1',
    '--advertise-host', '127.0.0.1',
    '--driver', 'exec',
    '--work-dir', workDir,
    '--heartbeat-interval', '500ms',
  ], { cwd: workDir, logPath: path.join(dir, 'worker.log') });
  procs.push(worker);

  await step('the worker starts (exec driver) and joins over REST', async () => {
    const m = await worker.waitForRegex(/worker (\S+) serving on (\S+) \(driver (\w+)\)/, 20000, '"worker <id> serving on <ip:port> (driver exec)"');
    const res = await fetch(`${baseUrl}/api/v1/workers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ worker_id: workerId, worker_ip: m[2] }),
    });
    assert.ok(res.ok, `POST /api/v1/workers: HTTP ${res.status} ${await res.text()}`);
    await waitFor(async () => {
      const r = await fetch(`${baseUrl}/api/v1/workers`, { headers: { Authorization: `Bearer ${token}` } });
      const body = await r.json();
      return (body.workers || []).some((w) => w.info?.worker_id === workerId && w.is_active);
    }, { timeout: 20000, what: `${workerId} to be active` });
  });

  await step('over stdio: `cloudai mcp`', async (st) => {
    const transport = new StdioClientTransport({
      command: CLI_BIN,
      args: ['--master', `127.0.0.1:${grpcPort}`, '--token-file', tokenFile, 'mcp'],
      env: getDefaultEnvironment(),
      cwd: dir,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk) => { stderr += chunk.toString(); });
    logs['cloudai mcp (stderr)'] = () => stderr;
    const client = new Client({ name: 'cloudai-agent-test', version: '1.0.0' });
    clients.push(client);
    await client.connect(transport);
    await agentSession(st, client, { label: 'stdio', workerId });
    await client.close();
  });

  await step('over Streamable HTTP: the master\'s /mcp', async (st) => {
    const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    const client = new Client({ name: 'cloudai-agent-test', version: '1.0.0' });
    clients.push(client);
    await client.connect(transport);
    assert.match(transport.sessionId || '', /^[\x21-\x7e]+$/, 'a session id');
    await agentSession(st, client, { label: 'http', workerId });

    await st.test('the HTTP transport: token, origin, method and session checks', async () => {
      const sessionId = transport.sessionId;
      const post = (headers, body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })) => fetch(`${baseUrl}/mcp`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
        body,
      });
      const auth = { Authorization: `Bearer ${token}` };
      assert.equal((await post({ 'Mcp-Session-Id': sessionId })).status, 401, 'no token: 401');
      const ok = await post({ ...auth, 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': '2025-11-25' });
      assert.equal(ok.status, 200);
      assert.deepEqual((await ok.json()).result, {});
      assert.equal((await post({ ...auth })).status, 400, 'no session: 400');
      assert.equal((await post({ ...auth, 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': '1999-01-01' })).status, 400);
      const refused = await post({ ...auth, 'Mcp-Session-Id': sessionId, Origin: 'http://evil.example' });
      assert.equal(refused.status, 403, 'a foreign Origin: 403');
      assert.equal((await fetch(`${baseUrl}/mcp`, { headers: auth })).status, 405, 'GET: 405');
      await transport.terminateSession();
      assert.equal((await post({ ...auth, 'Mcp-Session-Id': sessionId })).status, 404, 'ended session: 404');
    });
    await client.close();
  });

  await step('the master and the worker are still up', () => {
    assert.equal(master.exited, null, `master exited: ${master.tail()}`);
    assert.equal(worker.exited, null, `worker exited: ${worker.tail()}`);
  });
});
