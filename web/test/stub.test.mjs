// Fast UI tests of the dashboard against the stub master (stub-server.mjs): the same story
// as the end-to-end test, the token form's refusals, and the "stays usable with 1,000
// workers and 10,000 tasks" check, with timings.
//
//   node --test web/test/stub.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStub } from './stub-server.mjs';
import { launchBrowser, newPage, login, shot, dashboardStory } from './lib.mjs';

test('dashboard against the stub master', async (t) => {
  const stub = await startStub({ workers: 4, tasks: 60, heartbeatMs: 300 });
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await stub.close();
  });

  await t.test('a wrong token is refused in the form', async () => {
    const page = await newPage(browser);
    await page.goto(`${stub.url}/`);
    await page.waitForSelector('#token-dialog[open]');
    await page.fill('#token-input', 'not-the-token');
    await page.click('#token-submit');
    await page.waitForFunction(() => /refused/.test(document.querySelector('#token-error').textContent));
    assert.equal(await page.evaluate(() => localStorage.getItem('cloudai.token')), null);
    await shot(page, 'stub-00-token-refused');
    await page.context().close();
  });

  const page = await newPage(browser);
  await dashboardStory(t, {
    page, baseUrl: stub.url, token: stub.token, workerId: 'joined-1', prefix: 'stub',
    joinWorker: async () => stub.addWorker('joined-1'),
    taskBody: { docker_image: 'busybox:latest', command: 'echo hi', req_cpu: '500', req_memory: '64' },
    expectLines: ['hello from the stub', 'step 1', 'step 2', 'done'],
  });

  await t.test('the token is kept: a reload connects without the form', async () => {
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#conn')?.dataset.state === 'open');
    assert.equal(await page.evaluate(() => document.querySelector('#token-dialog').open), false);
  });

  await t.test('live sockets reconnect after the server drops them', async () => {
    stub.dropClients();
    await page.waitForFunction(() => document.querySelector('#conn')?.dataset.state !== 'open', null, { timeout: 5000 });
    await page.waitForFunction(() => document.querySelector('#conn')?.dataset.state === 'open', null, { timeout: 10000 });
  });

  await t.test('a 401 brings the token form back', async () => {
    stub.setToken('rotated-token');
    await page.goto(`${stub.url}/#/queue`);
    await page.waitForSelector('#token-dialog[open]', { timeout: 15000 });
    assert.match(await page.textContent('#token-error'), /401/);
    await login(page, stub.url, 'rotated-token');
    await page.waitForFunction(() => document.querySelector('#conn')?.dataset.state === 'open', null, { timeout: 10000 });
    assert.equal(await page.evaluate(() => localStorage.getItem('cloudai.token')), 'rotated-token');
  });
});

// Timings are loose bounds (a shared 2-core machine runs this); they catch a page that
// renders every row or re-renders on every heartbeat, not small regressions.
test('stays usable with 1,000 workers and 10,000 tasks', async (t) => {
  const stub = await startStub({ workers: 1000, tasks: 10000, heartbeatMs: 1000 });
  const browser = await launchBrowser();
  const page = await newPage(browser);
  t.after(async () => {
    await browser.close();
    await stub.close();
  });
  const timings = {};
  await login(page, stub.url, stub.token);

  // Frame gaps while something happens: the longest gap between animation frames.
  const startFrames = () => page.evaluate(() => {
    window.__gaps = [];
    let last = performance.now();
    window.__frames = true;
    const loop = (now) => {
      window.__gaps.push(now - last);
      last = now;
      if (window.__frames) requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });
  const stopFrames = () => page.evaluate(() => {
    window.__frames = false;
    const g = window.__gaps.slice(1).sort((a, b) => a - b);
    return { frames: g.length, max: Math.round(g[g.length - 1] || 0), p95: Math.round(g[Math.floor(g.length * 0.95)] || 0) };
  });

  await t.test('workers: 1,000 render quickly, few rows in the DOM, scrolling stays smooth', async () => {
    let t0 = Date.now();
    await page.goto(`${stub.url}/#/workers`);
    await page.waitForSelector('#workers-list .worker-row[data-worker-id="worker-0001"]');
    await page.waitForFunction(() => /1000 workers/.test(document.querySelector('#worker-count')?.textContent || ''));
    timings.workersFirstRenderMs = Date.now() - t0;
    const rows = await page.$$eval('#workers-list .worker-row', (els) => els.length);
    assert.ok(rows < 60, `the workers list is virtualised (${rows} row elements)`);
    // Heartbeats flow (1,000 a second) while scrolling to the end and back.
    await page.waitForTimeout(2000);
    await startFrames();
    t0 = Date.now();
    for (let i = 1; i <= 20; i++) {
      await page.$eval('#workers-list', (el, f) => { el.scrollTop = el.scrollHeight * f; }, i / 20);
      await page.waitForTimeout(50);
    }
    await page.waitForSelector('#workers-list .worker-row[data-worker-id="worker-1000"]', { timeout: 5000 });
    timings.workersScrollToEndMs = Date.now() - t0;
    timings.workersFrames = await stopFrames();
    await shot(page, 'scale-01-workers-end');
    assert.ok(timings.workersFirstRenderMs < 8000, `first render took ${timings.workersFirstRenderMs} ms`);
    assert.ok(timings.workersFrames.p95 < 250, `frame gaps while scrolling: ${JSON.stringify(timings.workersFrames)}`);
    // The filter narrows without a reload.
    await page.fill('#worker-search', 'worker-099');
    await page.waitForFunction(() => /^10 shown/.test(document.querySelector('#worker-count')?.textContent || ''));
  });

  await t.test('tasks: pages of newest-first tasks load as the list scrolls, to all 10,000', async () => {
    let t0 = Date.now();
    await page.goto(`${stub.url}/#/tasks`);
    await page.waitForSelector('#tasks-list .task-row[data-task-id="task-10000"]');
    timings.tasksFirstPageMs = Date.now() - t0;
    await shot(page, 'scale-02-tasks');
    t0 = Date.now();
    await startFrames();
    for (let i = 0; i < 200; i++) {
      await page.$eval('#tasks-list', (el) => { el.scrollTop = el.scrollHeight; });
      const shown = await page.$eval('#task-count', (el) => el.textContent);
      if (/^10000 tasks shown/.test(shown) && !/more/.test(shown)) break;
      await page.waitForTimeout(40);
    }
    timings.tasksFrames = await stopFrames();
    await page.$eval('#tasks-list', (el) => { el.scrollTop = el.scrollHeight; });
    await page.waitForSelector('#tasks-list .task-row[data-task-id="task-1"]', { timeout: 5000 });
    timings.tasksAllPagesMs = Date.now() - t0;
    const rows = await page.$$eval('#tasks-list .task-row', (els) => els.length);
    assert.ok(rows < 80, `the task list is virtualised (${rows} row elements)`);
    assert.match(await page.textContent('#task-count'), /^10000 tasks shown/);
    assert.ok(timings.tasksAllPagesMs < 60000, `loading 50 pages took ${timings.tasksAllPagesMs} ms`);
    await shot(page, 'scale-03-tasks-end');
    // Search by id finds one among 10,000.
    t0 = Date.now();
    await page.fill('#task-search', 'task-4321');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#tasks-list .task-row:not([hidden])')];
      return rows.length === 1 && rows[0].dataset.taskId === 'task-4321';
    });
    timings.tasksSearchMs = Date.now() - t0;
  });

  await t.test('queue: every pending task with its reason', async () => {
    await page.goto(`${stub.url}/#/queue`);
    await page.waitForFunction(() => /^\d+ queued/.test(document.querySelector('#queue-count')?.textContent || ''));
    const reason = await page.textContent('#queue-list .queue-row .cell-reason');
    assert.match(reason, /Insufficient GPU/);
    await shot(page, 'scale-04-queue');
  });

  await t.test('dark colour scheme (prefers-color-scheme)', async () => {
    const dark = await newPage(browser, { colorScheme: 'dark' });
    await login(dark, stub.url, stub.token);
    const bg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(bg, 'rgb(246, 247, 249)', 'the dark palette applies');
    await dark.goto(`${stub.url}/#/workers`);
    await dark.waitForSelector('#workers-list .worker-row[data-worker-id="worker-0001"]');
    await dark.waitForTimeout(1500);
    await shot(dark, 'scale-05-workers-dark');
    await dark.goto(`${stub.url}/#/tasks/task-9999`);
    await dark.waitForFunction(() => document.querySelector('#log-state')?.dataset.final);
    await shot(dark, 'scale-06-task-dark');
    assert.deepEqual(dark.errors, []);
    await dark.context().close();
  });

  await t.test('no script errors', () => {
    assert.deepEqual(page.errors, []);
  });
  t.diagnostic(`timings: ${JSON.stringify(timings)}`);
  console.log(`# dashboard scale timings: ${JSON.stringify(timings)}`);
});
