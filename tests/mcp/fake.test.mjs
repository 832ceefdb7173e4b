// CloudAI's MCP server over a fake backend (src/mcp/fake_server_main.cc), driven by the
// official TypeScript SDK's client: over stdio, and over Streamable HTTP with HttpEndpoint
// behind a small node HTTP server that forwards each request to the binary. Every tool is
// called, so the client checks every structured result against its outputSchema.
//
//   MCP_FAKE_SERVER_BIN=build/src/mcp/mcp_fake_server node --test tests/mcp/fake.test.mjs
//   (or: tests/mcp/run.sh --fake FAKE_BIN)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import readline from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { callOk, callError, callUnknownTool, checkToolList } from './lib.mjs';

const FAKE_BIN = process.env.MCP_FAKE_SERVER_BIN || '';
const skip = FAKE_BIN ? false : 'set MCP_FAKE_SERVER_BIN (tests/mcp/run.sh --fake BIN)';

// Every tool with valid arguments, and the error paths, against the fake backend's answers.
async function exercise(client) {
  const server = client.getServerVersion();
  assert.equal(server.name, 'cloudai');
  await client.ping();
  await checkToolList(client);

  const allocation = await callOk(client, 'request_resources', {
    job_id: 'fake-job', workers: 2, cpu_cores: 1.5, memory_gb: 2, gpu: 0, priority: 'high',
    ttl_seconds: 600, services: ['echo'], metadata: { owner: 'sdk' }, wait: false,
  });
  assert.equal(allocation.allocation_id, 'alloc-0123456789ab');
  assert.equal(typeof allocation.created_at_ms, 'number');
  assert.equal(allocation.per_worker.cpu_cores, 1.5);
  await callOk(client, 'get_allocation', { allocation_id: allocation.allocation_id });
  await callOk(client, 'extend_allocation', { allocation_id: allocation.allocation_id, extend_seconds: 60 });
  await callOk(client, 'list_allocations', { state: 'active', job_id: 'fake-job', limit: 10 });
  await callOk(client, 'release_resources', { allocation_id: allocation.allocation_id });
  const capacity = await callOk(client, 'get_capacity');
  assert.equal(capacity.workers_total, 2);
  await callOk(client, 'cleanup_expired_allocations');
  const task = await callOk(client, 'submit_task', {
    docker_image: 'busybox', command: 'echo hi', cpu_cores: 0.25, memory_gb: 0.125,
    storage_gb: 1, gpu: 0, allocation_id: allocation.allocation_id, priority: 'normal',
    env: { A: '1' }, timeout_seconds: 30, target_worker_id: 'w1',
  });
  assert.equal(task.status, 'completed');
  assert.equal(task.exit_code, 0);
  await callOk(client, 'get_task', { task_id: task.task_id });
  await callOk(client, 'cancel_task', { task_id: task.task_id });
  const logs = await callOk(client, 'get_task_logs', { task_id: task.task_id, offset: 0, max_bytes: 1000 });
  assert.equal(logs.content, 'hello\n');
  const workers = await callOk(client, 'list_workers');
  assert.equal(workers.workers[0].worker_id, 'w1');

  assert.match(await callError(client, 'request_resources', { job_id: 'j', workers: 0 }),
    /workers: 0 is below the minimum of 1/);
  assert.match(await callError(client, 'request_resources', { workers: 1 }), /job_id: is required/);
  assert.match(await callError(client, 'request_resources', { job_id: 'j', priority: 'urgent' }),
    /priority: "urgent" is not one of low, normal, high, critical/);
  assert.match(await callError(client, 'submit_task', { docker_image: 'x', bogus: 1 }),
    /bogus: unknown argument/);
  await callUnknownTool(client, 'launch_rockets');
}

test('the SDK client over stdio', { skip }, async () => {
  const transport = new StdioClientTransport({ command: FAKE_BIN, args: ['--stdio'], stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => { stderr += chunk.toString(); });
  const client = new Client({ name: 'cloudai-fake-test', version: '1.0.0' });
  try {
    await client.connect(transport);
    await exercise(client);
  } catch (err) {
    err.message += `\n--- server stderr:\n${stderr}`;
    throw err;
  } finally {
    await client.close();
  }
  assert.match(stderr, /serving MCP on stdio/);
});

// A node HTTP server that hands every request to `mcp_fake_server --http-bridge` (one JSON
// line each way, in order).
async function startBridge() {
  const child = spawn(FAKE_BIN, ['--http-bridge'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk.toString(); });
  const waiting = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const next = waiting.shift();
    if (next) next(JSON.parse(line));
  });
  let chain = Promise.resolve();
  const forward = (request) => {
    const answer = chain.then(() => new Promise((resolve) => {
      waiting.push(resolve);
      child.stdin.write(`${JSON.stringify(request)}\n`);
    }));
    chain = answer.catch(() => {});
    return answer;
  };
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = await forward({ method: req.method, path: req.url, headers, body });
      requests.push({ method: req.method, status: answer.status, headers });
      const out = {};
      for (const [k, v] of answer.headers) out[k] = v;
      if (answer.content_type) out['Content-Type'] = answer.content_type;
      res.writeHead(answer.status, out);
      res.end(answer.body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/mcp`,
    requests,
    stderr: () => stderr,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      child.stdin.end();
      child.kill();
    },
  };
}

test('the SDK client over Streamable HTTP', { skip }, async () => {
  const bridge = await startBridge();
  const transport = new StreamableHTTPClientTransport(new URL(bridge.url));
  const client = new Client({ name: 'cloudai-fake-test', version: '1.0.0' });
  try {
    await client.connect(transport);
    assert.match(transport.sessionId, /^[0-9a-f]{64}$/);
    await exercise(client);
    // Every request after initialize carried the session and the negotiated version.
    const later = bridge.requests.filter((r) => r.method === 'POST').slice(1);
    assert.ok(later.length > 10);
    for (const r of later) {
      assert.equal(r.headers['mcp-session-id'], transport.sessionId);
      assert.equal(r.headers['mcp-protocol-version'], '2025-11-25');
    }
    const sessionId = transport.sessionId;
    await transport.terminateSession();
    assert.equal(bridge.requests.at(-1).method, 'DELETE');
    assert.equal(bridge.requests.at(-1).status, 204);

    // The ended session is gone; raw requests see the transport's own errors.
    const post = (headers, body) => fetch(bridge.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
      body,
    });
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.equal((await post({ 'Mcp-Session-Id': sessionId }, ping)).status, 404);
    assert.equal((await post({}, ping)).status, 400);
    const parse = await post({}, '{nope');
    assert.equal(parse.status, 400);
    assert.equal((await parse.json()).error.code, -32700);
    const refused = await post({ Origin: 'http://evil.example' }, ping);
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).id, null);
    assert.equal((await fetch(bridge.url)).status, 405);
  } catch (err) {
    err.message += `\n--- bridge stderr:\n${bridge.stderr()}`;
    throw err;
  } finally {
    await client.close().catch(() => {});
    await bridge.close();
  }
});
