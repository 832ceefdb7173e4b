// Helpers shared by the MCP tests: waiting, ports, child processes, and tool calls through
// the official TypeScript SDK's client that check what CloudAI's server answers.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

export const TEST_DIR = path.dirname(fileURLToPath(import.meta.url));

export const TOOL_NAMES = [
  'request_resources', 'release_resources', 'extend_allocation', 'get_capacity',
  'get_allocation', 'list_allocations', 'cleanup_expired_allocations', 'submit_task',
  'get_task', 'get_task_logs', 'cancel_task', 'list_workers',
];

// The environment for the processes under test, without the variables that would leak a
// developer's setup into them (every CLOUDAI_* setting, GRPC_PORT, HTTP_PORT).
export function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('CLOUDAI_') || k === 'GRPC_PORT' || k === 'HTTP_PORT') delete env[k];
  }
  return env;
}

export async function waitFor(fn, { timeout = 15000, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A child process whose output goes to a log file and is scanned for lines.
export class Proc {
  constructor(name, bin, args, { cwd, logPath, stdin = 'ignore' }) {
    this.name = name;
    this.logPath = logPath;
    this.output = '';
    this.exited = null;
    this.log = fs.createWriteStream(logPath);
    this.child = spawn(bin, args, { cwd, env: cleanEnv(), stdio: [stdin, 'pipe', 'pipe'] });
    const take = (chunk) => {
      this.output += chunk.toString();
      this.log.write(chunk);
    };
    this.child.stdout.on('data', take);
    this.child.stderr.on('data', take);
    this.child.on('exit', (code, signal) => { this.exited = { code, signal }; });
    this.child.on('error', (err) => { this.exited = { error: err.message }; this.output += `\n[spawn error] ${err.message}\n`; });
    this.description = `${bin} ${args.join(' ')}`;
  }

  async waitForRegex(re, timeout, what) {
    return waitFor(() => {
      const m = this.output.match(re);
      if (m) return m;
      if (this.exited) throw new Error(`${this.name} exited (${JSON.stringify(this.exited)}) before printing ${what}`);
      return null;
    }, { timeout, what: `${this.name} to print ${what}` });
  }

  tail(lines = 40) {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  async stop() {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const gone = await waitFor(() => this.exited, { timeout: 5000, what: `${this.name} to exit` }).catch(() => null);
    if (!gone) this.child.kill('SIGKILL');
    this.log.end();
  }
}

// Calls a tool that must succeed; answers its structuredContent (the client has already
// checked it against the tool's outputSchema, once listTools has been called).
export async function callOk(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.notEqual(result.isError, true, `${name}(${JSON.stringify(args)}) failed: ${JSON.stringify(result.content)}`);
  assert.ok(result.structuredContent, `${name}: no structuredContent`);
  assert.ok(Array.isArray(result.content) && result.content.length >= 1, `${name}: no content`);
  assert.equal(result.content[0].type, 'text');
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent,
    `${name}: the first text item is the structured content as JSON`);
  return result.structuredContent;
}

// Calls a tool that must fail as a tool result (isError); answers its text.
export async function callError(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name}(${JSON.stringify(args)}) should have failed: ${JSON.stringify(result)}`);
  assert.equal(result.structuredContent, undefined);
  assert.equal(result.content[0].type, 'text');
  return result.content[0].text;
}

// Calls a tool name the server does not know: a JSON-RPC error -32602.
export async function callUnknownTool(client, name) {
  await assert.rejects(client.callTool({ name, arguments: {} }), (err) => {
    assert.ok(err instanceof McpError, `expected an McpError, got ${err}`);
    assert.equal(err.code, -32602);
    assert.match(err.message, new RegExp(`Unknown tool: ${name}`));
    return true;
  });
}

// tools/list: every CloudAI tool with object schemas.
export async function checkToolList(client) {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), [...TOOL_NAMES].sort());
  for (const tool of tools) {
    assert.equal(tool.inputSchema.type, 'object', `${tool.name}: inputSchema`);
    assert.equal(tool.inputSchema.additionalProperties, false, `${tool.name}: closed inputSchema`);
    assert.equal(tool.outputSchema?.type, 'object', `${tool.name}: outputSchema`);
    assert.ok(tool.description.length > 40, `${tool.name}: description`);
  }
  const request = tools.find((t) => t.name === 'request_resources');
  assert.deepEqual(request.inputSchema.required, ['job_id']);
  assert.deepEqual(request.inputSchema.properties.priority.enum, ['low', 'normal', 'high', 'critical']);
  assert.equal(request.inputSchema.properties.workers.maximum, 1000);
  return tools;
}
