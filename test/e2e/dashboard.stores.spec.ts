import { Injectable, Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { on, Scheduled, Worker, type DashboardActionEvent, type JobContext, type JobWorker } from '../../lib/index.js';
import type { DashboardDeadLetterPage, DashboardJobDetail, DashboardJobPage, DashboardSchedule, SchedulerDashboardOptions } from '../../lib/dashboard/index.js';
import type { JsonValue } from '../../lib/index.js';
import { T0 } from '../support/app.js';
import { CSRF, webDashboardPerTest } from '../support/dashboard-app.js';
import { TEST_STORES } from '../support/stores.js';

@Worker({ name: 'mail' })
class Mail implements JobWorker<{ to: string }> {
  perform(ctx: JobContext<{ to: string }>) {
    ctx.progress(50);
    return { sent: ctx.args.to, token: 'secret-result' };
  }
}

@Worker({ name: 'flaky', queue: 'billing', maxRetries: 0 })
class Flaky implements JobWorker<{ n: number }> {
  perform(ctx: JobContext<{ n: number }>) {
    throw new Error(`smtp down ${ctx.args.n}`);
  }
}

@Injectable()
class Reports {
  @Scheduled({ name: 'nightly', cron: '0 3 * * *' })
  nightly() {}
  @Scheduled(on('mon').at('09:30').timezone('Europe/Paris'), { name: 'weekly' })
  weekly() {}
}

const API = '/scheduler/api';

describe.each(TEST_STORES)('dashboard API on the $kind store', ({ kind, open }) => {
  const webDashboard = webDashboardPerTest(open, `dash_${kind}`);

  const start = async (dashboard: SchedulerDashboardOptions = { allowUnauthenticated: true, redact: ['password', /token/i], maxPageSize: 3 }) => {
    // A web node: nothing claims on its own; the tester drains when a test wants jobs run.
    const d = await webDashboard({ providers: [Mail, Flaky, Reports], dashboard });
    return d;
  };

  it('lists jobs newest first with filters and keyset paging (limit capped), and shows one redacted', async () => {
    const app = await start();
    const jobs = [];
    for (let i = 1; i <= 5; i++) jobs.push(await app.scheduler.enqueue('mail', { to: `u${i}`, password: 'hunter2', nested: { apiToken: 't', keep: i } }));
    await app.scheduler.enqueue('flaky', { n: 0 });
    const page = async (query: string): Promise<DashboardJobPage> => (await app.http().get(`${API}/jobs?${query}`).expect(200)).body as DashboardJobPage;
    const ids = (p: DashboardJobPage) => p.jobs.map((j) => j.id);

    const first = await page('name=mail&limit=2');
    expect(ids(first)).toEqual([jobs[4]!.id, jobs[3]!.id]);
    expect(first).toMatchObject({ nextCursor: jobs[3]!.id, limit: 2 });
    expect(first.jobs[0]).toEqual({
      id: jobs[4]!.id,
      name: 'mail',
      schedule: null,
      queue: 'default',
      state: 'available',
      priority: jobs[4]!.priority,
      attempt: 0,
      maxAttempts: jobs[4]!.maxAttempts,
      runAt: T0.toISOString(),
      insertedAt: jobs[4]!.insertedAt.toISOString(),
      startedAt: null,
      finishedAt: null,
      node: null,
      tags: [],
      progress: null,
    });
    // A job inserted between two pages does not shift the next one.
    await app.scheduler.enqueue('mail', { to: 'late' });
    const second = await page(`name=mail&limit=2&cursor=${first.nextCursor}`);
    expect(ids(second)).toEqual([jobs[2]!.id, jobs[1]!.id]);
    const last = await page(`name=mail&limit=2&cursor=${second.nextCursor}`);
    expect(ids(last)).toEqual([jobs[0]!.id]);
    expect(last.nextCursor).toBeNull();
    expect((await page('limit=1000')).limit).toBe(3);
    expect(ids(await page('queue=billing'))).toHaveLength(1);
    expect(ids(await page('state=running,completed'))).toEqual([]);
    expect((await app.http().get(`${API}/jobs?state=lost`).expect(400)).body).toMatchObject({ reason: 'invalid' });
    await app.http().get(`${API}/jobs?limit=0`).expect(400);
    await app.http().get(`${API}/jobs?cursor=x1`).expect(400);

    const detail = (await app.http().get(`${API}/jobs/${jobs[0]!.id}`).expect(200)).body as DashboardJobDetail;
    expect(detail).toMatchObject({
      id: jobs[0]!.id,
      args: { to: 'u1', password: '[redacted]', nested: { apiToken: '[redacted]', keep: 1 } },
      errors: [],
      result: null,
      traceId: null,
      workflow: null,
    });
    await app.http().get(`${API}/jobs/999999999`).expect(404);
    await app.http().get(`${API}/jobs/abc`).expect(400);
  });

  it('shows attempts with their errors and stacks, progress, results; retries dead jobs and dead letters', async () => {
    const app = await start({
      allowUnauthenticated: true,
      redact: (value: JsonValue) => (typeof value === 'object' && value !== null && 'token' in value ? { hidden: true } : value),
    });
    const mail = await app.scheduler.enqueue('mail', { to: 'ada' });
    const dead = await app.scheduler.enqueue('flaky', { n: 1 });
    const other = await app.scheduler.enqueue('flaky', { n: 2 });
    await app.tester.drainQueue();

    const done = (await app.http().get(`${API}/jobs/${mail.id}`).expect(200)).body as DashboardJobDetail;
    expect(done).toMatchObject({ state: 'completed', progress: 50, result: { hidden: true }, args: { to: 'ada' }, attempt: 1 });
    const failed = (await app.http().get(`${API}/jobs/${dead.id}`).expect(200)).body as DashboardJobDetail;
    expect(failed).toMatchObject({ state: 'dead', attempt: 1 });
    expect(failed.errors).toEqual([
      {
        attempt: 1,
        at: T0.toISOString(),
        name: 'Error',
        message: 'smtp down 1',
        stack: expect.stringContaining('smtp down 1'),
        kind: 'error',
        errorClass: 'retryable',
      },
    ]);

    const letters = (await app.http().get(`${API}/dead-letters?queue=billing&limit=1`).expect(200)).body as DashboardDeadLetterPage;
    expect(letters).toMatchObject({ limit: 1, offset: 0, nextOffset: 1 });
    expect(letters.deadLetters[0]).toMatchObject({ id: other.id, args: { n: 2 }, errorClass: 'retryable', error: { message: 'smtp down 2' } });
    expect((await app.http().get(`${API}/dead-letters?offset=1`).expect(200)).body).toMatchObject({ deadLetters: [{ id: dead.id }], nextOffset: null });

    const events: DashboardActionEvent[] = [];
    app.scheduler.on('dashboard:action', (event) => events.push(event));
    await app.http().post(`${API}/jobs/${mail.id}/retry`).set(CSRF).expect(409);
    const retried = await app.http().post(`${API}/jobs/${dead.id}/retry`).set(CSRF).expect(200);
    expect(retried.body).toMatchObject({ job: { id: dead.id, state: 'available' } });
    expect(retried.body.job.maxAttempts).toBeGreaterThan(retried.body.job.attempt);
    await app.http().post(`${API}/dead-letters/${dead.id}/retry`).set(CSRF).expect(404);
    await app.http().post(`${API}/dead-letters/${other.id}/retry`).set(CSRF).expect(200);
    expect((await app.scheduler.findJob(other.id))!.state).toBe('available');
    expect(events.map((e) => [e.action, e.target, e.outcome])).toEqual([
      ['jobs.retry', mail.id, 'error'],
      ['jobs.retry', dead.id, 'ok'],
      ['deadLetters.retry', dead.id, 'error'],
      ['deadLetters.retry', other.id, 'ok'],
    ]);
  });

  it('overview, queues and health; pause, resume and cancel', async () => {
    const app = await start();
    const a = await app.scheduler.enqueue('mail', { to: 'a' });
    await app.scheduler.enqueue('flaky', { n: 1 });
    const overview = (await app.http().get(`${API}/overview`).expect(200)).body;
    expect(overview).toMatchObject({ generatedAt: T0.toISOString(), health: expect.any(String), totals: { available: 2, dead: 0 } });
    expect(overview.queues).toEqual(
      expect.arrayContaining([
        {
          queue: 'default',
          paused: false,
          concurrency: null,
          storedConcurrency: null,
          counts: { available: 1, scheduled: 0, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 },
        },
        {
          queue: 'billing',
          paused: false,
          concurrency: null,
          storedConcurrency: null,
          counts: { available: 1, scheduled: 0, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 },
        },
      ]),
    );
    expect((await app.http().get(`${API}/health`).expect(200)).body).toMatchObject({ node: overview.node, checks: { store: { status: 'up' } } });

    await app.http().post(`${API}/queues/billing/pause`).set(CSRF).expect(200, { queue: 'billing', paused: true });
    expect((await app.http().get(`${API}/queues/billing`).expect(200)).body).toMatchObject({ queue: 'billing', paused: true, counts: { available: 1 } });
    await app.http().post(`${API}/queues/billing/resume`).set(CSRF).expect(200, { queue: 'billing', paused: false });
    expect((await app.scheduler.queueStats('billing')).paused).toBe(false);

    await app.http().post(`${API}/jobs/${a.id}/cancel`).set(CSRF).expect(200, { id: a.id, cancelled: 1 });
    await app.http().post(`${API}/jobs/${a.id}/cancel`).set(CSRF).expect(200, { id: a.id, cancelled: 0 });
    expect((await app.scheduler.findJob(a.id))!.state).toBe('cancelled');
    // By id only: a handler's name is not a job.
    await app.http().post(`${API}/jobs/mail/cancel`).set(CSRF).expect(400);
    await app.http().post(`${API}/jobs/999999999/cancel`).set(CSRF).expect(404);
  });

  it('lists schedules with their text and next runs; pauses, resumes and runs one now', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const app = await start();
    await app.scheduler.insert({ name: 'hourly', handler: 'mail', every: '1h', args: { to: 'ops' } });
    const schedules = (await app.http().get(`${API}/schedules`).expect(200)).body as DashboardSchedule[];
    expect(schedules.map((s) => s.name)).toEqual(['hourly', 'nightly', 'weekly']);
    const [hourly, nightly, weekly] = schedules;
    expect(nightly).toEqual({
      name: 'nightly',
      handler: 'nightly',
      origin: 'code',
      kind: 'cron',
      spec: { cron: '0 3 * * *' },
      description: 'Every day at 03:00 (Etc/UTC)',
      zone: null,
      queue: 'default',
      overlap: expect.any(String),
      paused: false,
      nextRuns: ['2026-01-01T03:00:00.000Z', '2026-01-02T03:00:00.000Z', '2026-01-03T03:00:00.000Z', '2026-01-04T03:00:00.000Z', '2026-01-05T03:00:00.000Z'],
    });
    expect(weekly).toMatchObject({ origin: 'code', description: on('mon').at('09:30').timezone('Europe/Paris').describe() });
    // Mondays at 09:30 in Paris (UTC+1 in winter): 2026-01-05 is the first.
    expect(weekly!.nextRuns.slice(0, 2)).toEqual(['2026-01-05T08:30:00.000Z', '2026-01-12T08:30:00.000Z']);
    expect(hourly).toMatchObject({ origin: 'runtime', kind: 'every', spec: { every: '1h' }, description: 'every 1h' });
    expect(hourly!.nextRuns).toHaveLength(5);

    await app.http().post(`${API}/schedules/nightly/pause`).set(CSRF).expect(200, { name: 'nightly', paused: true });
    expect((await app.http().get(`${API}/schedules`).expect(200)).body[1]).toMatchObject({ name: 'nightly', paused: true });
    await app.http().post(`${API}/schedules/nightly/resume`).set(CSRF).expect(200, { name: 'nightly', paused: false });
    const run = await app.http().post(`${API}/schedules/hourly/run-now`).set(CSRF).expect(200);
    expect(run.body).toMatchObject({ duplicate: false, job: { name: 'mail', schedule: 'hourly', state: 'available' } });
    expect((await app.http().get(`${API}/jobs/${run.body.job.id}`).expect(200)).body).toMatchObject({ args: { to: 'ops' } });
    await app.http().post(`${API}/schedules/nobody/run-now`).set(CSRF).expect(404);
  });
});
