import { Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { Scheduled, Worker, type DashboardActionEvent, type JobContext, type JobWorker } from '../../lib/index.js';
import type { DashboardBulkResult, DashboardSchedule, SchedulerDashboardOptions } from '../../lib/dashboard/index.js';
import { SchedulerHost } from '../../lib/scheduler.host.js';
import { T0 } from '../support/app.js';
import { CSRF, type DashboardApp, webDashboardPerTest } from '../support/dashboard-app.js';
import { TEST_STORES } from '../support/stores.js';

@Worker({ name: 'mail' })
class Mail implements JobWorker<{ to: string }> {
  perform(ctx: JobContext<{ to: string }>) {
    return { sent: ctx.args.to };
  }
}

@Worker({ name: 'flaky', queue: 'billing', maxRetries: 0 })
class Flaky implements JobWorker<{ n: number }> {
  perform(ctx: JobContext<{ n: number }>) {
    throw new Error(`smtp down ${ctx.args.n}`);
  }
}

class Reports {
  @Scheduled({ name: 'nightly', cron: '0 3 * * *' })
  nightly() {}
}

const API = '/scheduler/api';
const HOUR = 3_600_000;

describe.each(TEST_STORES)('dashboard actions on the $kind store', ({ kind, open }) => {
  const webDashboard = webDashboardPerTest(open, `dact_${kind}`);

  const start = async (dashboard: SchedulerDashboardOptions = { allowUnauthenticated: true }) => {
    // A web node: nothing claims on its own; the tester drains when a test wants jobs run.
    const d = await webDashboard({
      scheduler: { nodeName: 'web-1' },
      providers: [Mail, Flaky, Reports],
      dashboard,
    });
    const events: DashboardActionEvent[] = [];
    d.scheduler.on('dashboard:action', (event) => events.push(event));
    return { app: d, events };
  };

  /** Claims one due job of `queue` as another node would: it is running, there. */
  const claimElsewhere = async (app: DashboardApp, queue = 'default') => {
    const [job] = await app.app.get(SchedulerHost).ports.service.store.claim({ queue, limit: 1, node: 'elsewhere', now: new Date(app.clock.now()) });
    return job!;
  };

  it('runs a waiting job now (due now, attempts unchanged) and refuses one that does not wait', async () => {
    const { app, events } = await start();
    const later = await app.scheduler.enqueue('mail', { to: 'later' }, { delay: '1h' });
    expect(later.runAt.getTime()).toBe(T0.getTime() + HOUR);

    const ran = await app.http().post(`${API}/jobs/${later.id}/run-now`).set(CSRF).expect(200);
    expect(ran.body).toMatchObject({ job: { id: later.id, state: 'available', attempt: 0, runAt: T0.toISOString() } });
    // Due now: drained without the clock moving.
    await app.tester.drainQueue('default');
    expect((await app.scheduler.findJob(later.id))!.state).toBe('completed');

    const conflict = await app.http().post(`${API}/jobs/${later.id}/run-now`).set(CSRF).expect(409);
    expect(conflict.body).toMatchObject({ reason: 'conflict', message: expect.stringContaining('only a waiting job can be made due now') });
    await app.http().post(`${API}/jobs/999999999/run-now`).set(CSRF).expect(404);
    await app.http().post(`${API}/jobs/abc/run-now`).set(CSRF).expect(400);
    expect(events.map((e) => [e.action, e.target, e.outcome])).toEqual([
      ['jobs.runNow', later.id, 'ok'],
      ['jobs.runNow', later.id, 'error'],
      ['jobs.runNow', '999999999', 'error'],
      ['jobs.runNow', 'abc', 'error'],
    ]);
  });

  it('deletes a waiting or finished job; a running one answers 409 and says to cancel it first', async () => {
    const { app, events } = await start();
    const done = await app.scheduler.enqueue('mail', { to: 'done' });
    await app.tester.drainQueue('default');
    const waiting = await app.scheduler.enqueue('mail', { to: 'waiting' }, { delay: '1h' });
    const running = await app.scheduler.enqueue('mail', { to: 'running' });
    expect((await claimElsewhere(app)).id).toBe(running.id);

    await app.http().post(`${API}/jobs/${done.id}/delete`).set(CSRF).expect(200, { id: done.id, deleted: true });
    await app.http().post(`${API}/jobs/${waiting.id}/delete`).set(CSRF).expect(200, { id: waiting.id, deleted: true });
    expect(await app.scheduler.findJob(done.id)).toBeNull();
    expect(await app.scheduler.findJob(waiting.id)).toBeNull();
    const refused = await app.http().post(`${API}/jobs/${running.id}/delete`).set(CSRF).expect(409);
    expect(refused.body).toMatchObject({ reason: 'conflict', message: expect.stringMatching(/running: cancel it first/) });
    expect((await app.scheduler.findJob(running.id))!.state).toBe('running');
    await app.http().post(`${API}/jobs/${done.id}/delete`).set(CSRF).expect(404);
    expect(events.map((e) => [e.action, e.outcome])).toEqual([
      ['jobs.delete', 'ok'],
      ['jobs.delete', 'ok'],
      ['jobs.delete', 'error'],
      ['jobs.delete', 'error'],
    ]);
  });

  it('scales a queue on every node (positive integers only) and keeps it in the store', async () => {
    const { app, events } = await start();
    await app.http().put(`${API}/queues/default/concurrency`).set(CSRF).send({ limit: 3 }).expect(200, { queue: 'default', concurrency: 3 });
    const states = await app.app.get(SchedulerHost).ports.service.store.getQueueStates();
    expect(states.find((q) => q.name === 'default')).toMatchObject({ concurrency: 3 });
    for (const limit of [0, -1, 2.5, '4', null]) {
      const bad = await app.http().put(`${API}/queues/default/concurrency`).set(CSRF).send({ limit }).expect(400);
      expect(bad.body).toMatchObject({ reason: 'invalid', message: expect.stringContaining('"limit": must be a positive integer') });
    }
    await app.http().put(`${API}/queues/default/concurrency`).set(CSRF).send({}).expect(400);
    // The scheduler's own bound.
    expect((await app.http().put(`${API}/queues/default/concurrency`).set(CSRF).send({ limit: 20_000 }).expect(400)).body.message).toMatch(/1 to 10000/);
    const after = await app.app.get(SchedulerHost).ports.service.store.getQueueStates();
    expect(after.find((q) => q.name === 'default')).toMatchObject({ concurrency: 3 });
    // The queue as the page reads it: this web node runs none, and shows the stored one.
    expect((await app.http().get(`${API}/queues/default`).expect(200)).body).toMatchObject({ concurrency: null, storedConcurrency: 3 });
    expect(events[0]).toMatchObject({ action: 'queues.scale', target: 'default', outcome: 'ok' });
  });

  it('changes a runtime schedule (rule, args, pause); a schedule in code is read-only (409); bad input is 400 with the scheduler message', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { app, events } = await start();
    await app.scheduler.insert({ name: 'hourly', handler: 'mail', every: '1h', args: { to: 'ops' } });

    const changed = await app
      .http()
      .patch(`${API}/schedules/hourly`)
      .set(CSRF)
      .send({ cron: '30 6 * * *', zone: 'Europe/Paris', args: { to: 'team' } })
      .expect(200);
    const schedule = changed.body.schedule as DashboardSchedule;
    expect(schedule).toMatchObject({ name: 'hourly', origin: 'runtime', kind: 'cron', spec: { cron: '30 6 * * *' }, zone: 'Europe/Paris', paused: false });
    // 06:30 in Paris is 05:30 UTC in winter.
    expect(schedule.nextRuns[0]).toBe('2026-01-01T05:30:00.000Z');
    expect(await app.scheduler.getJob('hourly')).toMatchObject({ kind: 'cron', cron: '30 6 * * *' });
    const stored = (await app.app.get(SchedulerHost).ports.service.store.listSchedules()).find((s) => s.name === 'hourly');
    expect(stored?.definition).toMatchObject({ cron: '30 6 * * *', args: { to: 'team' } });

    const paused = await app.http().patch(`${API}/schedules/hourly`).set(CSRF).send({ paused: true }).expect(200);
    expect(paused.body.schedule).toMatchObject({ paused: true, spec: { cron: '30 6 * * *' } });
    expect((await app.scheduler.getJob('hourly')).paused).toBe(true);

    const code = await app.http().patch(`${API}/schedules/nightly`).set(CSRF).send({ cron: '0 4 * * *' }).expect(409);
    expect(code.body).toMatchObject({ reason: 'conflict', message: expect.stringContaining('defined in code (@Scheduled') });
    const bad = await app.http().patch(`${API}/schedules/hourly`).set(CSRF).send({ cron: 'not a cron' }).expect(400);
    expect(bad.body).toMatchObject({ reason: 'invalid', message: expect.stringContaining('cron') });
    await app.http().patch(`${API}/schedules/hourly`).set(CSRF).send({ paused: 'yes' }).expect(400);
    await app.http().patch(`${API}/schedules/hourly`).set(CSRF).send({}).expect(400);
    await app.http().patch(`${API}/schedules/hourly`).set(CSRF).send({ name: 'renamed' }).expect(400);
    await app.http().patch(`${API}/schedules/mail`).set(CSRF).send({ cron: '0 4 * * *' }).expect(404);
    await app.http().patch(`${API}/schedules/nobody`).set(CSRF).send({ cron: '0 4 * * *' }).expect(404);
    expect(await app.scheduler.getJob('hourly')).toMatchObject({ kind: 'cron', cron: '30 6 * * *', paused: true });
    expect(events.map((e) => [e.action, e.outcome])).toEqual([
      ['schedules.update', 'ok'],
      ['schedules.update', 'ok'],
      ...Array.from({ length: 7 }, () => ['schedules.update', 'error']),
    ]);
  });

  it('retries the dead letters a filter names, counted first; a dry run changes nothing', async () => {
    const { app, events } = await start();
    for (let n = 1; n <= 3; n++) await app.scheduler.enqueue('flaky', { n });
    await app.tester.drainQueue('billing');
    const dead = await app.scheduler.listJobs({ states: ['dead'] });
    expect(dead).toHaveLength(3);

    const dry = await app
      .http()
      .post(`${API}/dead-letters/retry-all`)
      .set(CSRF)
      .send({ filter: { queue: 'billing', errorClass: 'retryable' }, dryRun: true })
      .expect(200);
    expect(dry.body).toEqual({ action: 'retry', dryRun: true, count: 3, sample: dead.map((j) => j.id), affected: 0 } satisfies DashboardBulkResult);
    const none = await app
      .http()
      .post(`${API}/dead-letters/retry-all`)
      .set(CSRF)
      .send({ filter: { queue: 'default' }, dryRun: true })
      .expect(200);
    expect(none.body).toMatchObject({ count: 0, sample: [] });
    expect(await app.scheduler.listJobs({ states: ['dead'] })).toHaveLength(3);

    const done = await app
      .http()
      .post(`${API}/dead-letters/retry-all`)
      .set(CSRF)
      .send({ filter: { queue: 'billing' } })
      .expect(200);
    expect(done.body).toMatchObject({ action: 'retry', dryRun: false, count: 3, affected: 3 });
    expect((await app.scheduler.listJobs({ states: ['available'], queue: 'billing' })).map((j) => j.id).sort()).toEqual(dead.map((j) => j.id).sort());

    await app
      .http()
      .post(`${API}/dead-letters/retry-all`)
      .set(CSRF)
      .send({ filter: { errorClass: 'bogus' } })
      .expect(400);
    await app
      .http()
      .post(`${API}/dead-letters/retry-all`)
      .set(CSRF)
      .send({ filter: { state: 'dead' } })
      .expect(400);
    await app.http().post(`${API}/dead-letters/retry-all`).set(CSRF).send({ dryRun: 'yes' }).expect(400);
    expect(events.map((e) => [e.action, e.target, e.outcome, e.count])).toEqual([
      ['deadLetters.retryAll', 'filter:queue=billing', 'ok', 3],
      ['deadLetters.retryAll', 'filter:errorClass=bogus', 'error', undefined],
      ['deadLetters.retryAll', 'filter:state=dead', 'error', undefined],
      ['deadLetters.retryAll', 'filter:', 'error', undefined],
    ]);
  });

  it('every new action needs the CSRF header and its permission, and read-only mode refuses it (audited as denied)', async () => {
    const { app, events } = await start({ access: () => ({ retryJobs: true }) });
    const job = await app.scheduler.enqueue('mail', { to: 'x' }, { delay: '1h' });
    const asks = [
      () => app.http().post(`${API}/jobs/${job.id}/run-now`),
      () => app.http().post(`${API}/jobs/${job.id}/delete`),
      () => app.http().put(`${API}/queues/default/concurrency`).send({ limit: 2 }),
      () => app.http().patch(`${API}/schedules/nightly`).send({ paused: true }),
      () => app.http().post(`${API}/dead-letters/retry-all`).send({}),
    ];
    for (const ask of asks) expect((await ask().expect(403)).body).toMatchObject({ reason: 'csrf' });
    const refused = [];
    for (const ask of asks) refused.push((await ask().set(CSRF)).status);
    // retryJobs allows run-now and retry-all; the others need deleteJobs, scaleQueues, editSchedules.
    expect(refused).toEqual([200, 403, 403, 403, 200]);
    expect(events.filter((e) => e.outcome === 'denied').map((e) => [e.action, e.reason])).toEqual([
      ['jobs.runNow', 'csrf'],
      ['jobs.delete', 'csrf'],
      ['queues.scale', 'csrf'],
      ['schedules.update', 'csrf'],
      ['deadLetters.retryAll', 'csrf'],
      ['jobs.delete', 'not_allowed'],
      ['queues.scale', 'not_allowed'],
      ['schedules.update', 'not_allowed'],
    ]);
    const config = (await app.http().get(`${API}/config`).expect(200)).body as { actions: string[] };
    expect(config.actions).toEqual(expect.arrayContaining(['jobs.runNow', 'deadLetters.retryAll']));
    expect(config.actions).not.toContain('queues.scale');
    const readOnly = await webDashboard({
      scheduler: { nodeName: 'web-2' },
      providers: [Mail, Flaky, Reports],
      dashboard: { allowUnauthenticated: true, readOnly: true },
    });
    const body = (await readOnly.http().put(`${API}/queues/default/concurrency`).set(CSRF).send({ limit: 2 }).expect(403)).body;
    expect(body).toMatchObject({ reason: 'read_only' });
    await readOnly.http().post(`${API}/jobs/${job.id}/delete`).set(CSRF).expect(403);
    expect((await readOnly.scheduler.findJob(job.id))!.state).toBe('available');
  });
});
