// End to end: a real cloudai-master and cloudai-worker (exec driver), the dashboard the
// master serves, driven in headless Chromium. The worker is registered over REST while
// the dashboard looks on; a task submitted over REST prints lines with sleeps; the test
// sees it in the list, its logs streamed on its page, its timeline and final state.
// Screenshots go to $DASHBOARD_SCREENSHOTS (default web/test/screenshots/).
//
//   CLOUDAI_MASTER_BIN=build/src/master/cloudai-master \
//   CLOUDAI_WORKER_BIN=build/src/worker/agent/cloudai-worker \
//   node --test web/test/dashboard.test.mjs          (or: web/test/run.sh MASTER WORKER)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_DIR, launchBrowser, newPage, freePort, restClient, waitFor, dashboardStory, shot, Proc } from './lib.mjs';
import { masterArgs, waitForMaster } from '../../tests/node/processes.mjs';

const WEB_DIR = path.resolve(TEST_DIR, '..');

// The dashboard's files as cmake/EmbedWebAssets.cmake picks them (no dotfiles, tests,
// node_modules or backups).
function webFiles(dir = WEB_DIR, prefix = '') {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix + entry.name;
    if (entry.name.startsWith('.') || entry.name.endsWith('~')) continue;
    if (entry.isDirectory()) {
      if (['node_modules', 'test', 'tests'].includes(entry.name)) continue;
      out.push(...webFiles(path.join(dir, entry.name), `${rel}/`));
    } else {
      out.push(rel);
    }
  }
  return out;
}

const MASTER_BIN = process.env.CLOUDAI_MASTER_BIN || '';
const WORKER_BIN = process.env.CLOUDAI_WORKER_BIN || '';

test('dashboard end to end with a real master and worker', { skip: !MASTER_BIN || !WORKER_BIN ? 'set CLOUDAI_MASTER_BIN and CLOUDAI_WORKER_BIN (web/test/run.sh MASTER WORKER)' : false }, async (t) => {
  for (const bin of [MASTER_BIN, WORKER_BIN]) assert.ok(fs.existsSync(bin), `no binary at ${bin}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudai-dashboard-'));
  const stateDir = path.join(dir, 'state');
  const workDir = path.join(dir, 'worker-w1');
  fs.mkdirSync(stateDir);
  fs.mkdirSync(workDir);
  const grpcPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === grpcPort) httpPort = await freePort();
  const procs = [];
  let browser = null;
  let failed = false;

  t.after(async () => {
    if (browser) await browser.close().catch(() => {});
    for (const p of procs.reverse()) await p.stop();
    if (failed || process.env.KEEP_TEST_DIR) {
      console.error(`# files of this test kept in ${dir}`);
      for (const p of procs) console.error(`# ---- ${p.name}: ${p.description}\n# log ${p.logPath}, last lines:\n${p.tail()}`);
    } else {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  // Steps run in order; after a failure the rest are skipped (they would only cascade).
  let page = null;
  const step = (name, fn) => t.test(name, { skip: failed ? 'an earlier step failed' : false }, async (st) => {
    try {
      await fn(st);
    } catch (err) {
      failed = true;
      if (page) await shot(page, 'e2e-99-failure').catch(() => {});
      throw err;
    }
  });

  const master = new Proc('master', MASTER_BIN, masterArgs({ grpcPort, httpPort, stateDir }),
    { cwd: dir, logPath: path.join(dir, 'master.log') });
  procs.push(master);
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  let token = '';

  await step('the master starts and serves HTTP with the dashboard', async () => {
    token = await waitForMaster(master, stateDir, baseUrl);
    const index = await (await fetch(`${baseUrl}/`)).text();
    assert.match(index, /CloudAI dashboard/, 'GET / serves web/index.html (not the placeholder page)');
    const js = await fetch(`${baseUrl}/static/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') || '', /javascript/);
    // The master embeds web/ at build time: a stale binary tests stale pages.
    const stale = [];
    for (const rel of webFiles()) {
      const res = await fetch(`${baseUrl}/static/${rel}`);
      const served = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200 || !served.equals(fs.readFileSync(path.join(WEB_DIR, rel)))) stale.push(`${rel} (HTTP ${res.status})`);
    }
    assert.deepEqual(stale, [], `the master serves other files than web/ holds (rebuild ${MASTER_BIN}): ${stale.join(', ')}`);
    const noToken = await fetch(`${baseUrl}/api/v1/workers`);
    assert.equal(noToken.status, 401, 'the API needs the token');
  });

  const workerId = 'dash-w1';
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
  let workerAddress = '';
  await step('the worker starts (exec driver)', async () => {
    const m = await worker.waitForRegex(/worker (\S+) serving on (\S+) \(driver (\w+)\)/, 20000, '"worker <id> serving on <ip:port> (driver exec)"');
    assert.equal(m[1], workerId);
    assert.equal(m[3], 'exec');
    workerAddress = m[2];
  });

  browser = await launchBrowser();
  page = await newPage(browser);
  const rest = restClient(baseUrl, token);
  const lines = ['line 1', 'line 2', 'line 3', 'line 4', 'line 5'];
  if (!failed) {
    await dashboardStory({ test: step }, {
      page, baseUrl, token, workerId, prefix: 'e2e',
      joinWorker: async () => {
        const ack = await rest('POST', '/workers', { worker_id: workerId, worker_ip: workerAddress });
        assert.notEqual(ack.success, false, `POST /workers: ${JSON.stringify(ack)}`);
      },
      taskBody: {
        docker_image: 'exec',
        command: `for i in 1 2 3 4 5; do echo "line $i"; sleep 0.7; done`,
        req_cpu: '250', req_memory: '32',
      },
      expectLines: lines,
    });
  }

  // The allocations pages against the master's own JSON (docs/allocations.md): an
  // allocation requested over REST is listed, its page shows its slot on the worker and its
  // history, and its release shows.
  await step('allocations: one requested over REST is listed, with its slot and history', async () => {
    const probe = await fetch(`${baseUrl}/api/v1/allocations`, { headers: { Authorization: `Bearer ${token}` } });
    if (probe.status === 404) {
      // A master without the allocations API: the page says so (the story checked it).
      return;
    }
    const alloc = await rest('POST', '/allocations', {
      job_id: 'dash-job', workers: 1, per_worker: { cpu: '250', memory: '64' }, ttl_seconds: '600',
      metadata: { owner: 'dashboard-test' },
    });
    const id = alloc.allocation_id;
    assert.match(id, /^alloc-/, `POST /allocations: ${JSON.stringify(alloc)}`);
    await page.goto(`${baseUrl}/#/allocations`);
    const row = `#allocs-list .alloc-row[data-allocation-id="${id}"]`;
    await page.waitForSelector(row, { timeout: 15000 });
    await page.waitForSelector(`${row}[data-state="active"]`, { timeout: 15000 });
    assert.equal((await page.textContent(`${row} .cell-job`)).trim(), 'dash-job');
    await page.waitForFunction(() => / 1 active allocation /.test(document.querySelector('#capacity-counts')?.textContent || ''), null, { timeout: 15000 });
    await shot(page, 'e2e-11-allocations');
    await page.click(`${row} .cell-id a`);
    await page.waitForSelector(`#alloc-slots .slot-row[data-worker-id="${workerId}"]`, { timeout: 15000 });
    assert.equal(await page.textContent('#alloc-summary dd[data-key="job"]'), 'dash-job');
    const history = await page.$$eval('#alloc-timeline li', (lis) => lis.map((li) => li.dataset.to));
    assert.ok(history.includes('active'), `history: ${history}`);
    assert.match(await page.textContent('#alloc-metadata'), /owner.*dashboard-test/);
    await shot(page, 'e2e-12-allocation');
    await rest('POST', `/allocations/${encodeURIComponent(id)}/release`);
    await page.waitForFunction(() => /^releas/.test(document.querySelector('#alloc-state-badge')?.textContent || ''), null, { timeout: 15000 });
    assert.deepEqual(page.errors, []);
  });

  await step('the master and the worker are still up', () => {
    assert.equal(master.exited, null, `master exited: ${master.tail()}`);
    assert.equal(worker.exited, null, `worker exited: ${worker.tail()}`);
  });
});
