import type { Page } from 'playwright-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeChromium, sharedChromium } from './support/chromium.js';
import { startDemo, type Demo } from './support/demo-app.js';
import { openTab } from './support/session.js';

/** A POST from the page itself (same origin, the browser's own Sec-Fetch-Site), with or without the CSRF header. */
const postFromPage = (page: Page, path: string, csrf: boolean) =>
  page.evaluate(
    async ({ path, csrf }) => {
      const response = await fetch(path, { method: 'POST', headers: csrf ? { 'x-scheduler-csrf': '1' } : {} });
      return { status: response.status, body: (await response.json()) as { reason?: string } };
    },
    { path, csrf },
  );

const toast = (page: Page, text: string | RegExp) => page.locator('#toasts .toast', { hasText: text }).last().waitFor();

describe('dashboard UI in Chromium: actions', () => {
  let demo: Demo | undefined;
  afterAll(closeChromium);
  afterEach(async () => {
    await demo?.close();
    demo = undefined;
  });

  it('pauses a queue, retries a job, counts a bulk retry before doing it, runs a schedule now, cancels a workflow run, retries a dead letter', async () => {
    demo = await startDemo();
    const { scheduler, data } = demo;
    const { page, errors, go } = await openTab(await sharedChromium(), demo.url);

    await go('#/queues', 'Queues');
    await page.locator('tr', { hasText: 'emails' }).getByRole('button', { name: 'Pause' }).click();
    await page.locator('tr', { hasText: 'emails' }).getByRole('button', { name: 'Resume' }).waitFor();
    expect((await scheduler.queueStats('emails')).paused).toBe(true);

    const [first, second, third] = data.deadJobs as [string, string, string];
    await go(`#/jobs/${first}`, `Job ${first}`);
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.locator('.facts .badge', { hasText: 'available' }).waitFor();
    expect((await scheduler.findJob(first))!.state).toBe('available');

    const deadBefore = (await scheduler.listJobs({ states: ['dead'], queue: 'billing' })).length;
    await go('#/jobs?state=dead&queue=billing', 'Jobs');
    await page.getByRole('button', { name: 'Count first' }).click();
    await page.locator('.bulk-result', { hasText: `retry would apply to ${deadBefore} job(s).` }).waitFor();
    expect((await scheduler.listJobs({ states: ['dead'], queue: 'billing' })).length).toBe(deadBefore);
    await page.getByRole('button', { name: `Apply to ${deadBefore}` }).click();
    await toast(page, `retry: ${deadBefore} job(s) changed.`);
    expect(await scheduler.listJobs({ states: ['dead'], queue: 'billing' })).toEqual([]);

    await go('#/schedules', 'Schedules');
    await page.locator('tr', { hasText: 'nightly-report' }).getByRole('button', { name: 'Run now' }).click();
    await toast(page, /Job \d+ enqueued\./);
    const runs = await scheduler.listJobs({ name: 'nightly-report', states: ['available'] });
    expect(runs).toHaveLength(1);

    await go(`#/workflows/${data.runningRun}`, `Run ${data.runningRun}`);
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('main p .badge', { hasText: 'cancelled' }).waitFor();
    expect((await scheduler.workflows.getState(data.runningRun)).state).toBe('cancelled');

    // The bulk retry emptied the dead letters' jobs: fail two again to retry one from its page.
    await demo.tester.drainQueue('billing');
    await go('#/dead-letters', 'Dead letters');
    const row = page.locator('tr', { hasText: `card declined for invoice 2002` });
    await row.getByRole('button', { name: 'Retry' }).click();
    await toast(page, 'Done: Retry');
    expect((await scheduler.findJob(second))!.state).toBe('available');
    expect((await scheduler.findJob(third))!.state).toBe('dead');

    await go('#/audit', 'Audit');
    for (const action of ['queues.pause', 'jobs.retry', 'jobs.bulkRetry', 'schedules.runNow', 'workflows.cancel', 'deadLetters.retry'])
      expect(await page.locator('main code', { hasText: action }).count(), action).toBeGreaterThan(0);
    expect(errors.filter((error) => !/404/.test(error))).toEqual([]);
  });

  it('read-only: no action is offered, and a forced one is refused (403)', async () => {
    demo = await startDemo({ dashboard: { allowUnauthenticated: true, readOnly: true } });
    const { page, go } = await openTab(await sharedChromium(), demo.url);
    for (const route of ['#/queues', '#/jobs', `#/jobs/${demo.data.deadJobs[0]}`, '#/schedules', `#/workflows/${demo.data.runningRun}`, '#/dead-letters']) {
      await go(route, /./);
      expect(await page.locator('main button[data-action], main [data-test="dry-run"]').count(), route).toBe(0);
    }
    const forced = await postFromPage(page, 'api/queues/emails/pause', true);
    expect(forced).toEqual({ status: 403, body: expect.objectContaining({ reason: 'read_only' }) });
    expect((await demo.scheduler.queueStats('emails')).paused).toBe(false);
  });

  it('an action without the CSRF header is refused, one with it goes through', async () => {
    demo = await startDemo();
    const { page, go } = await openTab(await sharedChromium(), demo.url);
    await go('', 'Overview');
    expect(await postFromPage(page, 'api/queues/emails/pause', false)).toEqual({ status: 403, body: expect.objectContaining({ reason: 'csrf' }) });
    expect((await demo.scheduler.queueStats('emails')).paused).toBe(false);
    expect((await postFromPage(page, 'api/queues/emails/pause', true)).status).toBe(200);
  });

  it('per-action access: only the allowed buttons show', async () => {
    demo = await startDemo({ dashboard: { access: () => ({ pauseQueues: true }) } });
    const { page, go } = await openTab(await sharedChromium(), demo.url);
    await go('#/queues', 'Queues');
    expect(await page.locator('main button[data-action="queues.pause"]').count()).toBeGreaterThan(0);
    await go('#/schedules', 'Schedules');
    expect(await page.locator('main button[data-action]').count()).toBe(0);
  });

  it.each([
    { platform: 'fastify' as const, prefix: undefined },
    { platform: 'express' as const, prefix: 'admin' },
    { platform: 'fastify' as const, prefix: 'admin' },
  ])('works on $platform with the global prefix $prefix', async ({ platform, prefix }) => {
    demo = await startDemo({ platform, ...(prefix ? { prefix } : {}) });
    expect(demo.url).toContain(prefix ? '/admin/scheduler/' : '/scheduler/');
    // At `<path>` without the trailing slash (the one URL Fastify routes by default).
    const { page, errors, go } = await openTab(await sharedChromium(), demo.url.replace(/\/$/, ''));
    await go('', 'Overview');
    await go('#/queues', 'Queues');
    await page.locator('tr', { hasText: 'billing' }).getByRole('button', { name: 'Pause' }).click();
    await page.locator('tr', { hasText: 'billing' }).getByRole('button', { name: 'Resume' }).waitFor();
    expect((await demo.scheduler.queueStats('billing')).paused).toBe(true);
    await go(`#/workflows/${demo.data.completedRun}`, `Run ${demo.data.completedRun}`);
    expect(await page.locator('svg.dag g.node').count()).toBe(4);
    expect(errors.filter((error) => !/404/.test(error))).toEqual([]);
  });

  it("live: 'poll' refreshes every refreshMs while visible", async () => {
    demo = await startDemo({ dashboard: { allowUnauthenticated: true, live: 'poll', refreshMs: 500 } });
    const { page, go } = await openTab(await sharedChromium(), demo.url);
    await go('#/queues', 'Queues');
    expect(await page.locator('html').getAttribute('data-live')).toBe('poll');
    await demo.scheduler.pauseQueue('emails');
    await page.locator('main tbody tr', { hasText: 'emails' }).locator('.state-paused').waitFor();
  });
});
