// Helpers shared by CloudAI's node tests (web/test, tests/mcp): waiting, free ports, and
// child processes under test with their output in a log file. Node's built-ins only, so
// that any test folder can import it whatever its own npm packages.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

// The environment for the processes under test, without the variables that would leak a
// developer's setup into them (every CLOUDAI_* setting, GRPC_PORT, HTTP_PORT).
export function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('CLOUDAI_') || k === 'GRPC_PORT' || k === 'HTTP_PORT') delete env[k];
  }
  return env;
}

// Calls fn until it returns something truthy (which is answered), or throws after `timeout`.
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

// A TCP port on 127.0.0.1 that was free a moment ago.
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

// The flags both real-cluster node tests start cloudai-master with (short timings).
export function masterArgs({ grpcPort, httpPort, stateDir }) {
  return [
    '--grpc-port', `127.0.0.1:${grpcPort}`,
    '--http-port', `127.0.0.1:${httpPort}`,
    '--advertise-address', `127.0.0.1:${grpcPort}`,
    '--state-dir', stateDir,
    '--inactivity-timeout', '5s',
    '--lost-grace', '10s',
    '--queue-interval', '1s',
  ];
}

// Waits until `master` (a Proc) serves gRPC, has written its admin token to `stateDir`
// and answers GET /api/v1/workers on `baseUrl`; answers the token.
export async function waitForMaster(master, stateDir, baseUrl) {
  await master.waitForRegex(/serving gRPC on/, 20000, '"serving gRPC on"');
  const token = await waitFor(() => {
    try { return fs.readFileSync(`${stateDir}/admin.token`, 'utf8').trim(); } catch { return ''; }
  }, { timeout: 5000, what: 'the admin token' });
  await waitFor(async () => {
    const res = await fetch(`${baseUrl}/api/v1/workers`, { headers: { Authorization: `Bearer ${token}` } });
    return res.ok;
  }, { timeout: 20000, what: `the master's HTTP server on ${baseUrl}` });
  return token;
}
