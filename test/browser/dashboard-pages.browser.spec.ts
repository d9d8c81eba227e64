import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { axeViolations, closeChromium, sharedChromium } from './support/chromium.js';
import { startDemo, type Demo } from './support/demo-app.js';
import { openTab } from './support/session.js';

describe('dashboard UI in Chromium: the pages (Express)', () => {
  let demo: Demo | undefined;
  afterAll(closeChromium);
  afterEach(async () => {
    await demo?.close();
    demo = undefined;
  });

  it('renders every page from the real API', async () => {
    demo = await startDemo({ dashboard: { allowUnauthenticated: true, ui: { title: 'Acme jobs', environment: { label: 'staging', color: '#7c3aed' } } } });
    const { page, errors, go } = await openTab(await sharedChromium(), demo.url);
    await go('', 'Overview');
    expect(await page.title()).toBe('Acme jobs');
    expect(await page.locator('#env').textContent()).toBe('staging');
    expect(await page.locator('main table').textContent()).toMatch(/emails.*billing|billing.*emails/s);
    // The throughput chart: one bar pair per history sample.
    expect(await page.locator('svg.chart rect.bar-ok').count()).toBeGreaterThan(10);
    await page.locator('#health:not([hidden])').waitFor();

    await go('#/queues', 'Queues');
    for (const queue of ['emails', 'billing']) expect(await page.locator('main tbody tr', { hasText: queue }).count()).toBe(1);

    await go('#/jobs?state=dead', 'Jobs');
    const deadRows = page.locator('main tbody tr');
    expect(await deadRows.count()).toBe((await demo.scheduler.listJobs({ states: ['dead'] })).length);
    await go('#/jobs', 'Jobs');
    expect(await page.locator('main tbody tr').count()).toBe(50);
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.getByRole('link', { name: 'First page' }).waitFor();
    expect(await page.locator('main tbody tr').count()).toBeGreaterThan(0);

    // The search box: a search term, the total, and a bulk action needs a selection with a search.
    await page.getByLabel('Search').fill('args.to:"ada@example.com"');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('[data-test="total"]', { hasText: '1 job(s)' }).waitFor();
    expect(await page.locator('main tbody tr').count()).toBe(1);
    expect(await page.locator('main tbody tr').textContent()).toContain(demo.data.waitingJob);
    await page.getByRole('button', { name: 'Count first' }).click();
    await page.locator('#toasts .toast.error', { hasText: 'select the jobs to act on' }).waitFor();

    const dead = demo.data.deadJobs[0]!;
    await go(`#/jobs/${dead}`, `Job ${dead}`);
    expect(await page.locator('.attempt-error summary').first().textContent()).toMatch(/card declined for invoice 2001/);
    expect(await page.locator('.attempt-error pre.stack').first().textContent()).toMatch(/at ChargeCard\.perform/);
    await go(`#/jobs/${demo.data.waitingJob}`, `Job ${demo.data.waitingJob}`);
    expect(await page.locator('pre.json').first().textContent()).toContain('[redacted]');
    expect(await page.locator('.waiting li[data-code="no_node"]').count()).toBe(1);

    await go('#/schedules', 'Schedules');
    expect(await page.locator('main').textContent()).toContain('Every day at 03:00 (Etc/UTC)');
    expect(await page.locator('main tbody tr').first().locator('ul.plain li').count()).toBe(5);

    await go('#/workflows', 'Workflows');
    expect(await page.locator('main tbody tr').count()).toBe(3);
    await go(`#/workflows/${demo.data.completedRun}`, `Run ${demo.data.completedRun}`);
    const graph = page.locator('svg.dag');
    expect(await graph.locator('g.node').count()).toBe(4);
    expect(await graph.locator('path.edge').count()).toBe(4);
    expect(await graph.locator('g.node[data-state="completed"]').count()).toBe(4);
    await go(`#/workflows/${demo.data.failedRun}`, `Run ${demo.data.failedRun}`);
    expect(await page.locator('svg.dag g.node[data-step="refund"]').getAttribute('data-state')).toBe('failed');

    await go('#/dead-letters', 'Dead letters');
    expect(await page.locator('main').textContent()).toContain('card declined for invoice 2003');

    await go('#/nodes', 'Nodes');
    const nodes = await fetch(`${demo.url}api/nodes`);
    if (nodes.status === 404) expect(await page.locator('[data-test="not-available"]').textContent()).toBe('Not available on this server.');
    else expect(await page.locator('main tbody tr').count()).toBeGreaterThan(0);

    await go('#/audit', 'Audit');
    expect(await page.locator('main').textContent()).toContain('Nothing here.');
    expect(errors.filter((error) => !/404/.test(error))).toEqual([]);
  });

  it('toggles dark mode (remembered) and the time format; passes axe in both themes', async () => {
    demo = await startDemo();
    const { page, errors, go } = await openTab(await sharedChromium(), demo.url);
    for (const route of ['', '#/jobs', `#/jobs/${demo.data.deadJobs[0]}`, `#/workflows/${demo.data.completedRun}`, '#/schedules']) {
      await go(route, /./);
      expect(await axeViolations(page), route).toEqual([]);
    }
    await page.getByRole('button', { name: 'Dark theme' }).click();
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    await page.reload();
    await page.locator('#page-title').waitFor();
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(15, 20, 27)');
    await go('#/jobs', 'Jobs');
    expect(await axeViolations(page)).toEqual([]);

    const firstTime = page.locator('main tbody time').first();
    expect(await firstTime.textContent()).not.toContain('UTC');
    await page.getByRole('button', { name: 'Local time' }).click();
    await page.locator('main tbody time', { hasText: 'UTC' }).first().waitFor();
    await page.getByRole('button', { name: 'UTC' }).click();
    await page
      .locator('main tbody time', { hasText: /ago|now/ })
      .first()
      .waitFor();
    expect(errors).toEqual([]);
  });

  it('follows changes over SSE (a queue, a workflow run), closes the stream while the tab is hidden and reopens it when visible', async () => {
    demo = await startDemo();
    const { page, go } = await openTab(await sharedChromium(), demo.url);
    await go('#/queues', 'Queues');
    await page.locator('html[data-live="sse"]').waitFor();
    await demo.scheduler.pauseQueue('emails');
    // The batch leaves on the scheduler's (fake) clock.
    await demo.clock.advance('1s');
    await page.locator('main tbody tr', { hasText: 'emails' }).locator('.state-paused').waitFor();

    // A workflow run's graph follows its steps.
    await go(`#/workflows/${demo.data.runningRun}`, `Run ${demo.data.runningRun}`);
    expect(await page.locator('svg.dag g.node[data-state="completed"]').count()).toBe(0);
    await demo.tester.drainQueue();
    await demo.clock.advance('1s');
    await page.locator('svg.dag g.node[data-step="notifySales"][data-state="completed"]').waitFor();
    expect(await page.locator('svg.dag g.node[data-state="completed"]').count()).toBe(4);

    const setVisibility = (state: 'hidden' | 'visible') =>
      page.evaluate(`Object.defineProperty(document, 'visibilityState', { value: '${state}', configurable: true });
        document.dispatchEvent(new Event('visibilitychange'))`);
    await setVisibility('hidden');
    expect(await page.locator('html').getAttribute('data-live')).toBe('paused');
    await setVisibility('visible');
    await page.locator('html[data-live="sse"]').waitFor();
  });
});
