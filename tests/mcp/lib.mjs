// Helpers shared by the MCP tests: waiting, ports, child processes, and tool calls through
// the official TypeScript SDK's client that check what CloudAI's server answers.

import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

export const TEST_DIR = path.dirname(fileURLToPath(import.meta.url));

export const TOOL_NAMES = [
  'request_resources', 'release_resources', 'extend_allocation', 'get_capacity',
  'get_allocation', 'list_allocations', 'cleanup_expired_allocations', 'submit_task',
  'get_task', 'get_task_logs', 'cancel_task', 'list_workers',
];

export { cleanEnv, waitFor, sleep, freePort, masterArgs, Proc, waitForMaster } from '../node/processes.mjs';

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
