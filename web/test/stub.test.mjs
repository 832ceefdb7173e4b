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

  await t.test('worker page: running tasks with links, the overview links there, a removed worker', async () => {
    // worker-0001 runs stub tasks (its running_task_ids).
    await page.goto(`${stub.url}/#/workers/worker-0001`);
    await page.waitForSelector('#worker-tasks tr[data-task-id]', { timeout: 10000 });
    const links = await page.$$eval('#worker-tasks tr a', (as) => as.map((a) => a.getAttribute('href')));
    assert.ok(links.length > 0 && links.every((l) => l.startsWith('#/tasks/')), `task links: ${links}`);
    assert.equal(stub.workerClients('worker-0001'), 1, 'the page has its own /ws/telemetry/worker-0001 stream');
    // Details come from REST: the image and command.
    await page.waitForFunction(() => /echo job/.test(document.querySelector('#worker-tasks .cell-what')?.textContent || ''));
    await shot(page, 'stub-11-worker-tasks');
    // Leaving the page closes its stream.
    await page.goto(`${stub.url}/#/workers`);
    await page.waitForFunction(() => document.querySelector('#workers-list'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(stub.workerClients('worker-0001'), 0, 'the stream of a page left is closed');
    // A worker removed while its page is open.
    await page.goto(`${stub.url}/#/workers/worker-0004`);
    await page.waitForFunction(() => document.querySelector('#worker-live')?.dataset.state === 'open');
    stub.removeWorker('worker-0004');
    await page.waitForFunction(() => /removed/.test(document.querySelector('.error-box:not([hidden])')?.textContent || ''));
    await page.waitForFunction(() => document.querySelector('#worker-state')?.textContent === 'removed');
    // An unknown worker: a message, no crash.
    await page.goto(`${stub.url}/#/workers/no-such-worker`);
    await page.waitForFunction(() => /No worker no-such-worker/.test(document.querySelector('.error-box:not([hidden])')?.textContent || ''));
  });

  await t.test('overview: cluster capacity and usage over time, from the telemetry feed', async () => {
    await page.goto(`${stub.url}/#/`);
    await page.waitForFunction(() => Number(document.querySelector('#cluster-alloc-chart')?.dataset.samples || 0) >= 3, null, { timeout: 15000 });
    assert.match(await page.getAttribute('#cluster-alloc-chart', 'aria-label'), /Capacity allocated over the last \d+ minutes?.*now CPU \d/);
    assert.match(await page.textContent('#cluster-used-now'), /now CPU \d/);
    await shot(page, 'stub-12-overview-charts');
  });

  await t.test('allocations: capacity, list, filters, an allocation with slots and history', async () => {
    await page.goto(`${stub.url}/#/allocations`);
    await page.waitForSelector('#allocs-list .alloc-row[data-allocation-id]');
    await page.waitForFunction(() => /12 allocations/.test(document.querySelector('#alloc-count')?.textContent || ''));
    await page.waitForFunction(() => /workers active/.test(document.querySelector('#capacity-counts')?.textContent || ''));
    const reserved = await page.$$eval('#capacity .bar [role="meter"]', (els) => els.map((e) => e.getAttribute('aria-valuetext')));
    assert.equal(reserved.length, 8, `capacity bars: ${reserved}`);
    await shot(page, 'stub-13-allocations');
    // The state filter asks the master.
    await page.selectOption('#alloc-state', 'pending');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#allocs-list .alloc-row:not([hidden])')];
      return rows.length > 0 && rows.every((r) => r.dataset.state === 'pending');
    });
    assert.match(await page.evaluate(() => location.hash), /state=pending/);
    await page.selectOption('#alloc-state', 'active');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#allocs-list .alloc-row:not([hidden])')];
      return rows.length > 0 && rows.every((r) => r.dataset.state === 'active');
    });
    // Keyboard: the list takes focus, Tab reaches an allocation's link, Enter opens it.
    await page.focus('#allocs-list');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.closest('.alloc-row')?.dataset.allocationId || '');
    assert.ok(focused, 'Tab from the list focuses an allocation link');
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => location.hash === `#/allocations/${id}`, focused);
    await page.waitForSelector('#alloc-summary dd[data-key="job"]');
    await page.waitForSelector('#alloc-slots .slot-row[data-worker-id]');
    const history = await page.$$eval('#alloc-timeline li', (lis) => lis.map((li) => li.dataset.to));
    assert.equal(history[0], 'pending', `history: ${history}`);
    assert.ok(history.includes('active'), `history: ${history}`);
    const slotLink = await page.getAttribute('#alloc-slots .slot-row a', 'href');
    assert.match(slotLink, /^#\/workers\/worker-/);
    await shot(page, 'stub-14-allocation');
    // Live: a change announced on /ws/events shows at once, on the allocation's page and in
    // the list (the pages poll only every few seconds).
    const t0 = Date.now();
    stub.setAllocationState(focused, 'releasing', 'release requested');
    await page.waitForFunction(() => document.querySelector('#alloc-state-badge')?.textContent === 'releasing', null, { timeout: 2500 });
    await page.waitForFunction(() => [...document.querySelectorAll('#alloc-timeline li')].some((li) => li.dataset.to === 'releasing'), null, { timeout: 2500 });
    await page.goto(`${stub.url}/#/allocations`);
    await page.waitForSelector(`#allocs-list .alloc-row[data-allocation-id="${focused}"][data-state="releasing"]`);
    stub.setAllocationState(focused, 'released', 'slots freed');
    await page.waitForSelector(`#allocs-list .alloc-row[data-allocation-id="${focused}"][data-state="released"]`, { timeout: 2500 });
    assert.ok(Date.now() - t0 < 4500, `live allocation changes took ${Date.now() - t0} ms`);
    // An unknown allocation.
    await page.goto(`${stub.url}/#/allocations/alloc-000000000000`);
    await page.waitForFunction(() => /No allocation alloc-000000000000/.test(document.querySelector('#alloc-error')?.textContent || ''));
  });

  await t.test('allocations: a master without the API (404) gets a message, not a broken page', async () => {
    stub.setAllocationsApi(false);
    try {
      await page.goto(`${stub.url}/#/allocations`);
      await page.waitForFunction(() => /does not serve allocations/.test(document.querySelector('#alloc-error')?.textContent || ''));
      await page.waitForFunction(() => /does not report capacity/.test(document.querySelector('#capacity-title')?.parentElement.textContent || ''));
      assert.equal(await page.isVisible('#allocs-list'), false, 'no empty table');
      await shot(page, 'stub-15-allocations-404');
      await page.goto(`${stub.url}/#/allocations/alloc-100000000000`);
      await page.waitForFunction(() => /answered 404/.test(document.querySelector('#alloc-error')?.textContent || ''));
      // The rest of the dashboard goes on.
      await page.goto(`${stub.url}/#/`);
      await page.waitForFunction(() => /\d/.test(document.querySelector('#stat-workers')?.textContent || ''));
    } finally {
      stub.setAllocationsApi(true);
    }
  });

  await t.test('narrow screen (375 px): every page fits the width, the menu stays reachable', async () => {
    const phone = await newPage(browser, { width: 375, height: 812 });
    await login(phone, stub.url, stub.token);
    const pages = [
      ['overview', '#/', '#stat-workers'],
      ['workers', '#/workers', '#workers-list .worker-row'],
      ['worker', '#/workers/worker-0001', '#worker-summary'],
      ['tasks', '#/tasks', '#tasks-list .task-row'],
      ['task', '#/tasks/task-5', '#task-summary'],
      ['queue', '#/queue', '#queue-list'],
      ['allocations', '#/allocations', '#allocs-list .alloc-row'],
      ['allocation', '#/allocations/alloc-100000000000', '#alloc-summary dd'],
    ];
    const overflow = [];
    for (const [name, hash, sel] of pages) {
      await phone.goto(`${stub.url}/${hash}`);
      await phone.waitForSelector(sel, { timeout: 10000 });
      await phone.waitForTimeout(300);
      const o = await phone.evaluate(() => {
        const main = document.querySelector('main');
        const doc = document.documentElement;
        // Elements wider than the screen (other than scrollers that scroll inside).
        const wide = [...main.querySelectorAll('*')].filter((el) => {
          const r = el.getBoundingClientRect();
          return r.width > 0 && r.right > window.innerWidth + 1 && !el.closest('.table-scroll, .vlist, .table-wrap, .mainnav');
        }).slice(0, 3).map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
        return { doc: doc.scrollWidth - window.innerWidth, main: main.scrollWidth - main.clientWidth, wide };
      });
      if (o.doc > 1 || o.main > 1 || o.wide.length) overflow.push(`${name}: ${JSON.stringify(o)}`);
      await shot(phone, `stub-16-narrow-${name}`);
    }
    assert.deepEqual(overflow, [], 'pages wider than a phone screen');
    // The menu: every section reachable.
    const nav = await phone.$$eval('.mainnav a', (as) => as.map((a) => a.textContent));
    assert.deepEqual(nav, ['Overview', 'Workers', 'Tasks', 'Queue', 'Allocations']);
    await phone.click('.mainnav a[data-route="allocations"]');
    await phone.waitForFunction(() => location.hash === '#/allocations');
    assert.deepEqual(phone.errors, []);
    await phone.context().close();
  });

  await t.test('no script errors on the new pages', () => {
    assert.deepEqual(page.errors, []);
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
  const stub = await startStub({ workers: 1000, tasks: 10000, allocations: 1500, heartbeatMs: 1000 });
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

  await t.test('a worker page among 1,000 workers and the overview charts stay light', async () => {
    let t0 = Date.now();
    await page.goto(`${stub.url}/#/workers/worker-0500`);
    await page.waitForFunction(() => document.querySelector('#worker-state')?.textContent === 'active');
    timings.workerPageMs = Date.now() - t0;
    await page.waitForFunction(() => Number(document.querySelector('#worker-chart-cpu')?.dataset.samples || 0) >= 2, null, { timeout: 10000 });
    await shot(page, 'scale-07-worker');
    await page.goto(`${stub.url}/#/`);
    await startFrames();
    await page.waitForFunction(() => Number(document.querySelector('#cluster-alloc-chart')?.dataset.samples || 0) >= 3, null, { timeout: 10000 });
    await page.waitForTimeout(2000);
    timings.overviewFrames = await stopFrames();
    assert.ok(timings.overviewFrames.p95 < 250, `frame gaps on the overview: ${JSON.stringify(timings.overviewFrames)}`);
    await shot(page, 'scale-08-overview');
  });

  await t.test('allocations: 1,000 listed (the newest), virtualised, searchable', async () => {
    const t0 = Date.now();
    await page.goto(`${stub.url}/#/allocations`);
    await page.waitForFunction(() => /1000 allocations \(the newest 1000\)/.test(document.querySelector('#alloc-count')?.textContent || ''));
    timings.allocationsMs = Date.now() - t0;
    const rows = await page.$$eval('#allocs-list .alloc-row', (els) => els.length);
    assert.ok(rows < 80, `the allocations list is virtualised (${rows} row elements)`);
    await page.fill('#alloc-search', 'job-7');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#allocs-list .alloc-row:not([hidden])')];
      return rows.length > 0 && rows.every((r) => /job-7/.test(r.textContent));
    });
    await shot(page, 'scale-09-allocations');
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
