import { afterEach, describe, expect, it, vi } from 'vitest';
import { Worker, type DashboardActionEvent, type JobContext, type JobWorker } from '../../lib/index.js';
import type { DashboardAuditEntry, DashboardBulkResult, DashboardRequest, SchedulerDashboardOptions } from '../../lib/dashboard/index.js';
import { BULK_BATCH } from '../../lib/dashboard/dashboard-bulk.controller.js';
import { SchedulerHost } from '../../lib/scheduler.host.js';
import { T0 } from '../support/app.js';
import { CSRF, type DashboardApp, startDashboard, webDashboardPerTest } from '../support/dashboard-app.js';
import { TEST_STORES } from '../support/stores.js';

@Worker({ name: 'mail' })
class Mail implements JobWorker<{ to: string }> {
  perform() {}
}

@Worker({ name: 'flaky', queue: 'billing', maxRetries: 0 })
class Flaky implements JobWorker<{ n: number }> {
  perform(ctx: JobContext<{ n: number }>) {
    throw new Error(`smtp down ${ctx.args.n}`);
  }
}

const API = '/scheduler/api';
const role = (req: DashboardRequest): string => String(req.headers['x-role'] ?? 'admin');

describe.each(TEST_STORES)('dashboard bulk actions and audit on the $kind store', ({ kind, open }) => {
  const webDashboard = webDashboardPerTest(open, `dash_bulk_${kind}`);

  const start = async (dashboard: SchedulerDashboardOptions) => {
    const d = await webDashboard({ providers: [Mail, Flaky], dashboard });
    return d;
  };
  const bulk = (app: DashboardApp, body: object, status = 200, who = 'admin') =>
    app.http().post(`${API}/jobs/bulk`).set(CSRF).set('x-role', who).send(body).expect(status);

  it('retries, cancels and deletes by filter or ids: the count first, a dry run changes nothing, one audit event with the count', async () => {
    const app = await start({ access: (req) => (role(req) === 'pager' ? { cancelJobs: true } : 'all'), actor: role });
    const events: DashboardActionEvent[] = [];
    app.scheduler.on('dashboard:action', (event) => events.push(event));
    const dead = await app.scheduler.enqueueMany(
      'flaky',
      [0, 1, 2, 3, 4].map((n) => ({ n })),
    );
    const mails = await app.scheduler.enqueueMany('mail', [{ to: 'a' }, { to: 'b' }]);
    await app.tester.drainQueue();

    const dry = (await bulk(app, { action: 'retry', filter: { state: 'dead', queue: 'billing' }, dryRun: true })).body as DashboardBulkResult;
    expect(dry).toEqual({ action: 'retry', dryRun: true, count: 5, sample: dead.map((j) => j.id).reverse(), affected: 0 });
    expect((await app.scheduler.listJobs({ states: ['dead'] })).length).toBe(5);
    expect(events).toEqual([]);

    const retried = (await bulk(app, { action: 'retry', filter: { queue: 'billing' } })).body as DashboardBulkResult;
    expect(retried).toMatchObject({ dryRun: false, count: 5, affected: 5 });
    expect((await app.scheduler.listJobs({ states: ['available'], queue: 'billing' })).length).toBe(5);
    expect(events).toEqual([{ action: 'jobs.bulkRetry', target: 'filter:queue=billing', actor: 'admin', outcome: 'ok', count: 5 }]);

    // By ids: only the jobs it can act on count (a completed one and an unknown id do not).
    const ids = [dead[0]!.id, dead[1]!.id, dead[2]!.id, mails[0]!.id, '999999999'];
    const cancelled = (await bulk(app, { action: 'cancel', ids }, 200, 'pager')).body as DashboardBulkResult;
    expect(cancelled).toEqual({ action: 'cancel', dryRun: false, count: 3, sample: ids.slice(0, 3), affected: 3 });
    expect((await app.scheduler.findJob(dead[0]!.id))!.state).toBe('cancelled');
    expect(events.at(-1)).toEqual({ action: 'jobs.bulkCancel', target: `ids:${ids.join(',')}`, actor: 'pager', outcome: 'ok', count: 3 });

    await bulk(app, { action: 'delete', filter: { state: ['cancelled', 'completed'] } }, 403, 'pager');
    expect(events.at(-1)).toMatchObject({ action: 'jobs.bulkDelete', outcome: 'denied', reason: 'not_allowed' });
    const deleted = (await bulk(app, { action: 'delete', filter: { state: ['cancelled', 'completed'] } })).body as DashboardBulkResult;
    expect(deleted).toMatchObject({ count: 5, affected: 5 });
    expect(await app.scheduler.findJob(mails[1]!.id)).toBeNull();
    expect(await app.scheduler.findJob(dead[0]!.id)).toBeNull();
    expect((await app.scheduler.findJob(dead[3]!.id))!.state).toBe('available');

    // Refusals: a bad body answers 400 and changes nothing (audited as an error, unless it names no action); no CSRF header, 403.
    await bulk(app, { action: 'nuke', ids: ['1'] }, 400);
    await bulk(app, { action: 'retry' }, 400);
    await bulk(app, { action: 'retry', ids: ['1'], filter: {} }, 400);
    await bulk(app, { action: 'retry', filter: { state: 'running' } }, 400);
    await bulk(app, { action: 'cancel', filter: { state: 'lost' } }, 400);
    await bulk(app, { action: 'cancel', filter: { owner: 'x' } }, 400);
    await bulk(app, { action: 'cancel', ids: ['x1'] }, 400);
    await bulk(app, { action: 'cancel', ids: Array.from({ length: 1001 }, (_, i) => String(i + 1)) }, 400);
    await bulk(app, { action: 'cancel', ids: ['1'], dryRun: 'yes' }, 400);
    await app
      .http()
      .post(`${API}/jobs/bulk`)
      .send({ action: 'cancel', ids: [dead[3]!.id] })
      .expect(403);
    expect((await app.scheduler.findJob(dead[3]!.id))!.state).toBe('available');

    const audit = (await app.http().get(`${API}/audit`).expect(200)).body as { entries: DashboardAuditEntry[] };
    expect(audit.entries.map((e) => [e.action, e.outcome])).toEqual([
      ['jobs.bulkCancel', 'denied'],
      ['jobs.bulkCancel', 'error'],
      ['jobs.bulkCancel', 'error'],
      ['jobs.bulkCancel', 'error'],
      ['jobs.bulkCancel', 'error'],
      ['jobs.bulkCancel', 'error'],
      ['jobs.bulkRetry', 'error'],
      ['jobs.bulkRetry', 'error'],
      ['jobs.bulkRetry', 'error'],
      ['jobs.bulkDelete', 'ok'],
      ['jobs.bulkDelete', 'denied'],
      ['jobs.bulkCancel', 'ok'],
      ['jobs.bulkRetry', 'ok'],
    ]);
    expect(audit.entries.at(-1)).toEqual({
      at: T0.toISOString(),
      action: 'jobs.bulkRetry',
      target: 'filter:queue=billing',
      actor: 'admin',
      outcome: 'ok',
      count: 5,
    });
  });

  it(`works through many jobs in batches of ${BULK_BATCH}, up to the count it announced`, async () => {
    // A minute, not the default 5 s: 450 cancels on a loaded machine's PostgreSQL may take longer, and the limit is not what this tests.
    const app = await start({ allowUnauthenticated: true, queryTimeoutMs: 60_000 });
    const many = 2 * BULK_BATCH + 50;
    await app.scheduler.enqueueMany(
      'mail',
      Array.from({ length: many }, (_, i) => ({ to: `u${i}` })),
    );
    const list = vi.spyOn(app.app.get(SchedulerHost).ports.service.store, 'list');
    const result = (await bulk(app, { action: 'cancel', filter: { name: 'mail' } })).body as DashboardBulkResult;
    expect(result).toMatchObject({ count: many, affected: many });
    expect(list.mock.calls.every(([filter]) => (filter.limit ?? Infinity) <= BULK_BATCH)).toBe(true);
    expect(list.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect((await app.scheduler.queueStats('default')).cancelled).toBe(many);
  });

  it('GET api/audit keeps the last auditSize actions of this process, newest first', async () => {
    const app = await start({ allowUnauthenticated: true, auditSize: 2 });
    await app.http().post(`${API}/queues/default/pause`).set(CSRF).expect(200);
    await app.clock.advance('1s');
    await app.http().post(`${API}/queues/default/resume`).set(CSRF).expect(200);
    await app.http().post(`${API}/queues/default/pause`).expect(403);
    const { entries } = (await app.http().get(`${API}/audit`).expect(200)).body as { entries: DashboardAuditEntry[] };
    expect(entries).toEqual([
      { at: new Date(T0.getTime() + 1000).toISOString(), action: 'queues.pause', target: 'default', actor: null, outcome: 'denied', reason: 'csrf' },
      { at: new Date(T0.getTime() + 1000).toISOString(), action: 'queues.resume', target: 'default', actor: null, outcome: 'ok' },
    ]);
  });
});

describe('dashboard bulk actions on Fastify (memory store)', () => {
  let d: DashboardApp | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('reads the action from the parsed body for the permission, the CSRF check and the audit', async () => {
    d = await startDashboard({
      platform: 'fastify',
      dashboard: { access: (req) => (role(req) === 'pager' ? { cancelJobs: true } : 'read_only') },
      providers: [Mail],
      scheduler: { queues: false },
    });
    const jobs = await d.scheduler.enqueueMany('mail', [{ to: 'a' }, { to: 'b' }]);
    const ids = jobs.map((j) => j.id);
    const post = (body: object, who: string) => d!.http().post(`${API}/jobs/bulk`).set(CSRF).set('x-role', who).send(body);
    expect((await post({ action: 'cancel', ids, dryRun: true }, 'pager').expect(200)).body).toEqual({
      action: 'cancel',
      dryRun: true,
      count: 2,
      sample: ids,
      affected: 0,
    });
    expect((await post({ action: 'retry', filter: {} }, 'pager').expect(403)).body).toMatchObject({ reason: 'not_allowed' });
    await post({ action: 'cancel', ids }, 'viewer').expect(403);
    expect((await post({ action: 'cancel', ids }, 'pager').expect(200)).body).toMatchObject({ count: 2, affected: 2 });
    const { entries } = (await d.http().get(`${API}/audit`).set('x-role', 'pager').expect(200)).body as { entries: DashboardAuditEntry[] };
    expect(entries.map((e) => [e.action, e.outcome, e.reason ?? e.count])).toEqual([
      ['jobs.bulkCancel', 'ok', 2],
      ['jobs.bulkCancel', 'denied', 'read_only'],
      ['jobs.bulkRetry', 'denied', 'not_allowed'],
    ]);
  });
});
