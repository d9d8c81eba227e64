import type { Page } from 'playwright-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SchedulerHost } from '../../lib/scheduler.host.js';
import { axeViolations, closeChromium, sharedChromium } from './support/chromium.js';
import { startDemo, type Demo } from './support/demo-app.js';
import { openTab } from './support/session.js';

const toast = (page: Page, text: string | RegExp, kind: 'ok' | 'error' = 'ok') => page.locator(`#toasts .toast.${kind}`, { hasText: text }).last().waitFor();
const store = (demo: Demo) => demo.app.get(SchedulerHost).ports.service.store;
// A refused action (404, 409, 400) is logged by the browser as a failed resource.
const unexpected = (errors: string[]) => errors.filter((error) => !/40[049]/.test(error));

describe('dashboard UI in Chromium: run now, delete, concurrency, schedule edits, retry all, search, ⌘K', () => {
  let demo: Demo | undefined;
  afterAll(closeChromium);
  afterEach(async () => {
    await demo?.close();
    demo = undefined;
  });

  it("runs a waiting job now, deletes a job once confirmed, and shows a running job's 409", async () => {
    demo = await startDemo();
    const { scheduler, data } = demo;
    const { page, errors, go } = await openTab(await sharedChromium(), demo.url);
    // The demo's delayed email: waiting, due in two hours.
    const later = (await scheduler.listJobs({ states: ['available'], queue: 'emails' })).find((job) => job.runAt.getTime() > demo!.clock.now())!;
    await go(`#/jobs/${later.id}`, `Job ${later.id}`);
    await page.getByRole('button', { name: 'Run now' }).click();
    await toast(page, `Done: job ${later.id} is due now`);
    await page.locator('.facts .badge', { hasText: 'available' }).waitFor();
    expect((await scheduler.findJob(later.id))!.state).toBe('available');
    // Run now is for waiting jobs only.
    await go(`#/jobs/${data.deadJobs[0]}`, `Job ${data.deadJobs[0]}`);
    expect(await page.getByRole('button', { name: 'Run now' }).count()).toBe(0);

    // Dismissed: nothing happens. Accepted: deleted, back to the list.
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: 'Delete' }).click();
    expect(await scheduler.findJob(data.deadJobs[0]!)).not.toBeNull();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await toast(page, `Done: job ${data.deadJobs[0]} deleted`);
    await page.locator('#page-title', { hasText: 'Jobs' }).waitFor();
    expect(await scheduler.findJob(data.deadJobs[0]!)).toBeNull();

    // Claimed by another node: running, so the server refuses and says why.
    const [running] = await store(demo).claim({ queue: 'emails', limit: 1, node: 'elsewhere', now: new Date(demo.clock.now()) });
    await go(`#/jobs/${running!.id}`, `Job ${running!.id}`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await toast(page, /running: cancel it first/, 'error');
    expect((await scheduler.findJob(running!.id))!.state).toBe('running');
    expect(unexpected(errors)).toEqual([]);
  });

  it("changes a queue's concurrency (a bad limit shows the API's 400)", async () => {
    demo = await startDemo();
    const { page, errors, go } = await openTab(await sharedChromium(), demo.url);
    await go('#/queues', 'Queues');
    const row = page.locator('tr', { hasText: 'emails' });
    await row.getByLabel('Concurrency of emails').fill('7');
    await row.getByRole('button', { name: 'Save' }).click();
    await toast(page, 'emails runs 7 at a time on every node.');
    expect((await store(demo).getQueueStates()).find((queue) => queue.name === 'emails')).toMatchObject({ concurrency: 7 });
    // This web node runs no queue: the page shows the cluster-wide value kept in the store.
    await go('#/jobs', 'Jobs');
    await go('#/queues', 'Queues');
    expect(await page.locator('tr', { hasText: 'emails' }).getByLabel('Concurrency of emails').inputValue()).toBe('7');
    await page.locator('tr', { hasText: 'emails' }).getByLabel('Concurrency of emails').fill('0');
    await page.locator('tr', { hasText: 'emails' }).getByRole('button', { name: 'Save' }).click();
    await toast(page, '"limit": must be a positive integer', 'error');
    expect((await store(demo).getQueueStates()).find((queue) => queue.name === 'emails')).toMatchObject({ concurrency: 7 });
    expect(await axeViolations(page)).toEqual([]);
    expect(unexpected(errors)).toEqual([]);
  });

  it('edits a runtime schedule (rule, arguments, paused); a code one says it is read-only; a bad rule shows the 400', async () => {
    demo = await startDemo();
    await demo.scheduler.insert({ name: 'digest', handler: 'send-email', cron: '0 6 * * *', args: { to: 'team@example.com' } });
    const { page, errors, go } = await openTab(await sharedChromium(), demo.url);
    await go('#/schedules', 'Schedules');
    expect(await page.locator('tr', { hasText: 'nightly-report' }).locator('[data-test="read-only"]').textContent()).toBe('Defined in code: read-only here.');
    expect(await page.locator('tr', { hasText: 'nightly-report' }).locator('details.edit').count()).toBe(0);

    const row = page.locator('tr', { hasText: 'digest' });
    await row.getByText('Edit').click();
    await row.getByLabel('Rule').fill('30 6 * * *');
    await row.getByLabel('Time zone (cron)').fill('Europe/Paris');
    await row.getByLabel('Arguments (JSON)').fill('{"to":"ops@example.com"}');
    await row.getByLabel('paused').check();
    expect(await axeViolations(page)).toEqual([]);
    await row.getByRole('button', { name: 'Save' }).click();
    await toast(page, 'digest saved: Every day at 06:30 (Europe/Paris)');
    await page.locator('tr', { hasText: 'digest' }).locator('.state-paused').waitFor();
    expect(await demo.scheduler.getJob('digest')).toMatchObject({ cron: '30 6 * * *', zone: 'Europe/Paris', paused: true });
    const stored = (await store(demo).listSchedules()).find((schedule) => schedule.name === 'digest');
    expect(stored?.definition).toMatchObject({ args: { to: 'ops@example.com' } });

    const again = page.locator('tr', { hasText: 'digest' });
    await again.getByText('Edit').click();
    await again.getByLabel('Rule').fill('not a cron');
    await again.getByRole('button', { name: 'Save' }).click();
    await toast(page, /invalid argument "cron"/, 'error');
    expect(await demo.scheduler.getJob('digest')).toMatchObject({ cron: '30 6 * * *' });
    expect(unexpected(errors)).toEqual([]);
  });

  it("retries all the dead letters of a filter: a dry run's count first, then the confirmed retry", async () => {
    demo = await startDemo();
    const { scheduler } = demo;
    const dead = (await scheduler.deadLetters.list({ queue: 'billing', limit: 1000 })).length;
    expect(dead).toBeGreaterThan(2);
    const { page, errors, go } = await openTab(await sharedChromium(), demo.url);
    await go('#/dead-letters', 'Dead letters');
    const form = page.getByRole('form', { name: 'Retry all dead letters of a filter' });
    await form.getByLabel('Queue').selectOption('billing');
    await form.getByRole('button', { name: 'Retry all: count first' }).click();
    await page.locator('.bulk-result', { hasText: `${dead} dead letter(s) would be retried.` }).waitFor();
    expect(await scheduler.deadLetters.list({ queue: 'billing', limit: 1000 })).toHaveLength(dead);
    await page.getByRole('button', { name: `Retry ${dead}` }).click();
    await toast(page, `${dead} dead letter(s) back in their queues.`);
    expect(await scheduler.deadLetters.list({ queue: 'billing', limit: 1000 })).toEqual([]);
    // The failed workflow step (queue default) was outside the filter: still dead, still listed.
    expect(await scheduler.deadLetters.list({ limit: 1000 })).toHaveLength(1);
    await page.locator('main tbody tr', { hasText: 'payment provider down' }).waitFor();
    expect(await page.locator('main tbody tr').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    expect(unexpected(errors)).toEqual([]);
  });

  it('suggests search terms as you type, and Ctrl/⌘K jumps to a job id or a page', async () => {
    demo = await startDemo();
    const { page, errors, go } = await openTab(await sharedChromium(), demo.url);
    await go('#/jobs', 'Jobs');
    const search = page.getByLabel('Search');
    await search.pressSequentially('bi');
    await page.locator('datalist#q-suggestions option[value="queue:billing"]').waitFor({ state: 'attached' });
    await search.fill('tag:vip name:se');
    await search.dispatchEvent('input');
    await page.locator('datalist#q-suggestions option[value="tag:vip name:send-email"]').waitFor({ state: 'attached' });
    const offered = await page.evaluate("[...document.querySelectorAll('datalist#q-suggestions option')].map((option) => option.value)");
    expect(offered).toEqual(['tag:vip name:send-email']);

    const id = demo.data.deadJobs[1]!;
    await page.keyboard.press('Control+K');
    expect(await page.evaluate('document.activeElement?.id')).toBe('jump');
    await page.keyboard.type(id);
    await page.keyboard.press('Enter');
    await page.locator('#page-title', { hasText: `Job ${id}` }).waitFor();
    await page.keyboard.press('Meta+K');
    expect(await page.evaluate('document.activeElement?.id')).toBe('jump');
    await page.keyboard.type('schedules');
    await page.keyboard.press('Enter');
    await page.locator('#page-title', { hasText: 'Schedules' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    expect(unexpected(errors)).toEqual([]);
  });

  it('read-only, or without these permissions: none of these controls is offered', async () => {
    demo = await startDemo({ dashboard: { allowUnauthenticated: true, readOnly: true } });
    await demo.scheduler.insert({ name: 'digest', handler: 'send-email', cron: '0 6 * * *' });
    const { page, go } = await openTab(await sharedChromium(), demo.url);
    const waiting = demo.data.waitingJob;
    for (const route of [`#/jobs/${waiting}`, `#/jobs/${demo.data.deadJobs[0]}`, '#/queues', '#/schedules', '#/dead-letters']) {
      await go(route, /./);
      const offered = page.locator('main [data-action], main details.edit, main [data-test="read-only"], main input[name="limit"]');
      expect(await offered.count(), route).toBe(0);
    }
    // Reads stay: the jump box works.
    await page.keyboard.press('Control+K');
    await page.keyboard.type('queues');
    await page.keyboard.press('Enter');
    await page.locator('#page-title', { hasText: 'Queues' }).waitFor();
    await demo.close();

    demo = await startDemo({ dashboard: { access: () => ({ scaleQueues: true }) } });
    const other = await openTab(await sharedChromium(), demo.url);
    await other.go('#/queues', 'Queues');
    expect(await other.page.locator('main input[name="limit"]').count()).toBeGreaterThan(0);
    await other.go(`#/jobs/${demo.data.waitingJob}`, /./);
    expect(await other.page.locator('main [data-action]').count()).toBe(0);
    await other.go('#/dead-letters', 'Dead letters');
    expect(await other.page.locator('main [data-action]').count()).toBe(0);
  });
});
