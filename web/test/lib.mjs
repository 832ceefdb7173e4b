// Helpers shared by the dashboard's browser tests: Chromium, screenshots, waiting, REST.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, Proc, waitFor } from '../../tests/node/processes.mjs';

export { freePort, Proc, waitFor };

export const TEST_DIR = path.dirname(fileURLToPath(import.meta.url));

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export function screenshotDir() {
  const dir = process.env.DASHBOARD_SCREENSHOTS || path.join(TEST_DIR, 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM} (install Debian's chromium: scripts/install-deps.sh, or set CHROMIUM_BIN)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // --no-sandbox: containers (and root) have no user namespaces for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

// A page that records console errors and uncaught exceptions, for the test to check.
export async function newPage(browser, { width = 1400, height = 900, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const text = msg.text();
      // Failed WebSocket handshakes while reconnecting are expected noise, not app errors;
      // so are the browser's notes on API answers the page shows (a 404 for an unknown
      // worker, or from a master without the allocations API).
      const api404 = /Failed to load resource: .* 404/.test(text) && /\/api\/v1\//.test(msg.location()?.url || '');
      if (!/WebSocket connection to .* failed/.test(text) && !api404) page.errors.push(`console: ${text}`);
    }
  });
  return page;
}

export async function shot(page, name) {
  const file = path.join(screenshotDir(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

// Opens the dashboard and enters the token in its form.
export async function login(page, baseUrl, token) {
  await page.goto(`${baseUrl}/`);
  await page.waitForSelector('#token-dialog[open]', { timeout: 10000 });
  await page.fill('#token-input', token);
  await page.click('#token-submit');
  await page.waitForFunction(() => !document.querySelector('#token-dialog').open, null, { timeout: 10000 });
  await page.waitForFunction(() => document.querySelector('#conn')?.dataset.state === 'open', null, { timeout: 15000 });
}

export function restClient(baseUrl, token) {
  return async (method, p, body) => {
    const res = await fetch(`${baseUrl}/api/v1${p}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : {}; } catch { json = { raw: text }; }
    if (!res.ok) {
      const err = new Error(`${method} ${p}: HTTP ${res.status} ${text}`);
      err.status = res.status;
      err.body = json;
      throw err;
    }
    return json;
  };
}

// The end-to-end story, the same against the stub and the real master: a worker joins
// and shows as active with capacity bars; a task submitted over REST shows in the list,
// runs, streams its logs on its page, completes; the timeline shows its states.
//   joinWorker(): makes worker `workerId` join (REST register, or the stub's announce)
export async function dashboardStory(t, { page, baseUrl, token, workerId, joinWorker, taskBody, expectLines, prefix }) {
  const rest = restClient(baseUrl, token);
  const assert = (await import('node:assert/strict')).default;

  await t.test('token form: the dashboard asks for the token and connects', async () => {
    await login(page, baseUrl, token);
    await page.waitForFunction(() => /\d/.test(document.querySelector('#stat-workers')?.textContent || ''), null, { timeout: 10000 });
    await shot(page, `${prefix}-01-overview-before`);
  });

  await t.test('a worker that joins appears, becomes active, with capacity bars', async () => {
    await page.goto(`${baseUrl}/#/workers`);
    await page.waitForSelector('#workers-list');
    await joinWorker();
    const row = `#workers-list .worker-row[data-worker-id="${workerId}"]`;
    await page.waitForSelector(row, { timeout: 20000 });
    await page.waitForFunction((sel) => {
      const r = document.querySelector(sel);
      if (!r) return false;
      const badge = r.querySelector('.badge');
      const cpu = r.querySelector('.bar[data-resource="cpu"] .bar-text');
      const mem = r.querySelector('.bar[data-resource="memory"] .bar-text');
      return badge?.textContent === 'active' && cpu && cpu.textContent !== 'none' && mem && mem.textContent !== 'none';
    }, row, { timeout: 20000 });
    const bars = await page.$$eval(`${row} .bar`, (els) => els.map((e) => ({
      resource: e.dataset.resource,
      text: e.querySelector('.bar-text').textContent,
      meter: e.querySelector('[role="meter"]').getAttribute('aria-valuetext'),
    })));
    assert.deepEqual(bars.map((b) => b.resource), ['cpu', 'memory', 'storage', 'gpu']);
    assert.match(bars[0].text, /\/ [\d.]+ cores?/, `CPU bar: ${JSON.stringify(bars[0])}`);
    assert.match(bars[1].text, /\/ [\d.]+ (MiB|GiB|TiB)/, `memory bar: ${JSON.stringify(bars[1])}`);
    // Heartbeats from /ws/telemetry reach the worker's chart: a few samples drawn.
    await page.waitForFunction((sel) => Number(document.querySelector(`${sel} canvas`)?.dataset.samples || 0) >= 3,
      row, { timeout: 20000 });
    await shot(page, `${prefix}-02-workers`);
  });

  let taskId = '';
  await t.test('a submitted task appears in the list and its page streams its logs live', async () => {
    await page.goto(`${baseUrl}/#/tasks`);
    await page.waitForSelector('#tasks-list');
    await page.waitForFunction(() => !/loading/.test(document.querySelector('#task-count')?.textContent || 'loading'));
    const submitted = await rest('POST', '/tasks', taskBody);
    taskId = submitted.task.task_id;
    assert.ok(taskId, `POST /tasks answered ${JSON.stringify(submitted)}`);
    const row = `#tasks-list .task-row[data-task-id="${taskId}"]`;
    await page.waitForSelector(row, { timeout: 15000 });
    // The list is newest first: the new task is the first row.
    const first = await page.$$eval('#tasks-list .task-row:not([hidden])', (rows) =>
      rows.sort((a, b) => Number(a.getAttribute('aria-rowindex')) - Number(b.getAttribute('aria-rowindex')))[0]?.dataset.taskId);
    assert.equal(first, taskId, 'the newest task is first');
    await shot(page, `${prefix}-03-tasks-new`);
    await page.click(`${row} .cell-id a`);
    await page.waitForSelector('#task-logs');
    assert.equal(await page.evaluate(() => location.hash), `#/tasks/${encodeURIComponent(taskId)}`);
    // The first line shows while the task still runs (streamed, not read at the end).
    await page.waitForFunction((line) => document.querySelector('#task-logs')?.textContent.includes(line), expectLines[0], { timeout: 20000 });
    const stateAtFirstLine = await page.textContent('#task-state');
    await shot(page, `${prefix}-04-task-running`);
    await page.waitForFunction(() => document.querySelector('#task-state')?.textContent === 'completed', null, { timeout: 30000 });
    await page.waitForFunction(() => document.querySelector('#log-state')?.dataset.final === 'completed', null, { timeout: 15000 });
    const logs = await page.textContent('#task-logs');
    for (const line of expectLines) assert.ok(logs.includes(line), `logs lack ${JSON.stringify(line)}: ${JSON.stringify(logs)}`);
    // Streamed while running: the first line arrived before the task completed.
    assert.notEqual(stateAtFirstLine, 'completed', 'the first log line was shown only after the task had ended');
    // No line twice (reconnects go on from the byte reached).
    assert.equal(logs.split(expectLines[0]).length - 1, 1, `the first line repeats: ${JSON.stringify(logs)}`);
    await page.waitForFunction(() => document.querySelector('#task-summary dd[data-key="exit"]')?.textContent === '0', null, { timeout: 10000 });
    await page.waitForFunction(() => {
      const to = [...document.querySelectorAll('#task-timeline li')].map((li) => li.dataset.to);
      return to.includes('running') && to.includes('completed');
    }, null, { timeout: 10000 });
    const timeline = await page.$$eval('#task-timeline li', (lis) => lis.map((li) => li.dataset.to));
    assert.equal(timeline[0], 'pending', `timeline: ${timeline}`);
    assert.equal(timeline[timeline.length - 1], 'completed', `timeline: ${timeline}`);
    await shot(page, `${prefix}-05-task-completed`);
  });

  await t.test('the task list shows the task completed with its exit code, live', async () => {
    await page.goto(`${baseUrl}/#/tasks`);
    const row = `#tasks-list .task-row[data-task-id="${taskId}"]`;
    await page.waitForSelector(`${row}[data-state="completed"]`, { timeout: 15000 });
    assert.equal((await page.textContent(`${row} .cell-exit`)).trim(), '0');
    assert.equal((await page.textContent(`${row} .cell-worker`)).trim(), workerId);
    // The state filter.
    await page.selectOption('#task-status', 'completed');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#tasks-list .task-row:not([hidden])')];
      return rows.length > 0 && rows.every((r) => r.dataset.state === 'completed');
    }, null, { timeout: 10000 });
    await page.waitForSelector(row);
    await shot(page, `${prefix}-06-tasks-completed`);
  });

  await t.test('overview and queue views render', async () => {
    await page.goto(`${baseUrl}/#/`);
    await page.waitForFunction(() => /\d/.test(document.querySelector('#stat-active-workers, #stat-active')?.textContent || ''));
    await page.waitForFunction(() => document.querySelector('.bar[data-resource="cpu"] .bar-text')?.textContent !== '', null, { timeout: 10000 });
    await shot(page, `${prefix}-07-overview`);
    await page.goto(`${baseUrl}/#/queue`);
    await page.waitForFunction(() => /queued/.test(document.querySelector('#queue-count')?.textContent || ''), null, { timeout: 10000 });
    await shot(page, `${prefix}-08-queue`);
  });

  await t.test("the worker's own page: status, capacity bars, live usage from /ws/telemetry/{id}", async () => {
    await page.goto(`${baseUrl}/#/workers`);
    const link = `#workers-list .worker-row[data-worker-id="${workerId}"] a.worker-name`;
    await page.waitForSelector(link, { timeout: 15000 });
    await page.click(link);
    await page.waitForSelector('#worker-summary');
    assert.equal(await page.evaluate(() => location.hash), `#/workers/${encodeURIComponent(workerId)}`);
    await page.waitForFunction(() => document.querySelector('#worker-state')?.textContent === 'active', null, { timeout: 15000 });
    await page.waitForFunction(() => document.querySelector('#worker-live')?.dataset.state === 'open', null, { timeout: 15000 });
    const bars = await page.$$eval('#worker-capacity .bar', (els) => els.map((e) => ({
      resource: e.dataset.resource,
      meter: e.querySelector('[role="meter"]').getAttribute('aria-valuetext'),
    })));
    assert.deepEqual(bars.slice(0, 4).map((b) => b.resource), ['cpu', 'memory', 'storage', 'gpu']);
    assert.match(bars[0].meter, /cores?/, `CPU bar: ${JSON.stringify(bars[0])}`);
    // Heartbeats arrive on the worker's own stream and extend its charts.
    const before = Number(await page.getAttribute('#worker-chart-cpu', 'data-samples'));
    await page.waitForFunction((n) => Number(document.querySelector('#worker-chart-cpu')?.dataset.samples || 0) >= Math.max(2, n + 1),
      before, { timeout: 20000 });
    assert.match(await page.getAttribute('#worker-chart-cpu', 'aria-label'), /CPU usage over the last/);
    assert.match(await page.textContent('#worker-summary dd[data-key="last-seen"]'), /just now|\ds ago/);
    await shot(page, `${prefix}-09-worker-page`);
  });

  await t.test('allocations: the page answers, with allocations or a message when the master has none', async () => {
    await page.goto(`${baseUrl}/#/allocations`);
    await page.waitForFunction(() => {
      const count = document.querySelector('#alloc-count')?.textContent || '';
      const error = document.querySelector('#alloc-error');
      return /allocations/.test(count) || (error && !error.hidden && error.textContent);
    }, null, { timeout: 15000 });
    await shot(page, `${prefix}-10-allocations`);
  });

  await t.test('no script errors on the page', () => {
    assert.deepEqual(page.errors, []);
  });
  return { taskId };
}
