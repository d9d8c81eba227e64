import { Injectable, UnauthorizedException, VersioningType, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MemoryStore,
  SchedulerConfigError,
  SchedulerModule,
  SchedulerService,
  Step,
  Worker,
  Workflow,
  type DashboardActionEvent,
  type JobWorker,
} from '../../lib/index.js';
import type { QueueCounts } from '../../lib/store/index.js';
import {
  SchedulerDashboardModule,
  type DashboardConfig,
  type DashboardJobDetail,
  type DashboardJobPage,
  type DashboardRequest,
} from '../../lib/dashboard/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { T0 } from '../support/app.js';
import { CSRF, startDashboard, type DashboardApp } from '../support/dashboard-app.js';

@Worker({ name: 'mail' })
class Mail implements JobWorker<{ to: string }> {
  perform() {}
}

/** Knows the admins by a header; a dependency of its own, so the container must build it. */
@Injectable()
class Admins {
  readonly names = new Set(['ada']);
}

@Injectable()
class AdminGuard implements CanActivate {
  constructor(private readonly admins: Admins) {}
  canActivate(context: ExecutionContext): boolean {
    const user = context.switchToHttp().getRequest<DashboardRequest>().headers['x-user'];
    if (user === undefined) throw new UnauthorizedException();
    return this.admins.names.has(String(user));
  }
}

@Workflow({ name: 'signup' })
class Signup {
  @Step()
  hello() {
    return { said: 'hello' };
  }
}

const role = (req: DashboardRequest): string => String(req.headers['x-role'] ?? '');

describe('dashboard: security (memory store, Express)', () => {
  let d: DashboardApp | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
    vi.restoreAllMocks();
  });

  const audit = (app: DashboardApp): DashboardActionEvent[] => {
    const events: DashboardActionEvent[] = [];
    app.scheduler.on('dashboard:action', (event) => events.push(event));
    return events;
  };

  it('refuses to boot with neither guards nor access, through forRoot and forRootAsync, unless allowUnauthenticated', async () => {
    const boot = async (dashboard: Parameters<typeof startDashboard>[0]) => {
      try {
        d = await startDashboard(dashboard);
      } catch (error) {
        return error;
      }
      return null;
    };
    const error = await boot({ dashboard: {} });
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as Error).message).toMatch(/SchedulerDashboardModule: invalid option "guards": the dashboard would be open to anyone/);
    expect(await boot({ dashboard: { module: SchedulerDashboardModule.forRootAsync({ useFactory: () => ({ path: 'x' }) }) } })).toBeInstanceOf(
      SchedulerConfigError,
    );
    expect(await boot({ dashboard: { readOnly: true } })).toBeInstanceOf(SchedulerConfigError);
    expect(await boot({ dashboard: { allowUnauthenticated: true } })).toBeNull();
    await d!.http().get('/scheduler/api/config').expect(200);
  });

  it('a guard class the app cannot build fails bootstrap', async () => {
    await expect(startDashboard({ dashboard: { guards: [AdminGuard] } })).rejects.toThrow(
      /SchedulerDashboardModule: invalid option "guards": cannot build AdminGuard .*; provide it in a module of the app/,
    );
  });

  it("runs the guards option (the app's instance of a class): 401 when it throws, 403 when it says no, noindex on every answer", async () => {
    d = await startDashboard({ dashboard: { guards: [AdminGuard] }, providers: [Admins, AdminGuard] });
    const none = await d.http().get('/scheduler/api/config').expect(401);
    expect(none.headers['x-robots-tag']).toBe('noindex, nofollow');
    const refused = await d.http().get('/scheduler/api/config').set('x-user', 'mallory').expect(403);
    expect(refused.body).toMatchObject({ statusCode: 403, reason: 'forbidden' });
    expect(refused.headers['x-robots-tag']).toBe('noindex, nofollow');
    const ok = await d.http().get('/scheduler/api/config').set('x-user', 'ada').expect(200);
    expect(ok.headers['x-robots-tag']).toBe('noindex, nofollow');
    expect(ok.body).toEqual({
      csrf: { header: 'x-scheduler-csrf', value: '1' },
      readOnly: false,
      actions: [
        'jobs.retry',
        'jobs.cancel',
        'jobs.runNow',
        'jobs.delete',
        'queues.pause',
        'queues.resume',
        'queues.scale',
        'schedules.pause',
        'schedules.resume',
        'schedules.runNow',
        'schedules.update',
        'deadLetters.retry',
        'deadLetters.retryAll',
        'jobs.bulkRetry',
        'jobs.bulkCancel',
        'jobs.bulkDelete',
        'workflows.cancel',
        'workflows.retry',
        'workflows.pause',
        'workflows.resume',
      ],
      statsCacheMs: 5000,
      maxPageSize: 200,
      ui: { title: 'Scheduler', environment: null, locale: null, theme: 'auto' },
      live: 'sse',
      refreshMs: 5000,
    } satisfies DashboardConfig);
  });

  it('serves under the global prefix and a path of its own, versioned like the app; forRootAsync computes the path', async () => {
    d = await startDashboard({ dashboard: { allowUnauthenticated: true, path: '/ops/scheduler/' }, prefix: 'admin' });
    await d.http().get('/admin/ops/scheduler/api/config').expect(200);
    await d.http().get('/ops/scheduler/api/config').expect(404);
    await d.http().get('/admin/scheduler/api/config').expect(404);
    await d.close();
    const module = SchedulerDashboardModule.forRootAsync({ useFactory: async () => ({ allowUnauthenticated: true, path: 'computed' }) });
    d = await startDashboard({ dashboard: { module }, prefix: 'api/v2' });
    await d.http().get('/api/v2/computed/api/health').expect(200);
    await d.http().get('/api/v2/scheduler/api/health').expect(404);
    await d.close();
    d = await startDashboard({ dashboard: { allowUnauthenticated: true }, versioning: { type: VersioningType.URI, defaultVersion: '1' } });
    await d.http().get('/v1/scheduler/api/config').expect(200);
    await d.http().get('/scheduler/api/config').expect(404);
  });

  it('read-only mode refuses every action with 403 and a JSON reason, audited as denied; reads still work', async () => {
    d = await startDashboard({ dashboard: { guards: [{ canActivate: () => true }], readOnly: true, actor: (req) => role(req) || null } });
    const events = audit(d);
    const refused = await d.http().post('/scheduler/api/queues/default/pause').set(CSRF).set('x-role', 'ops').expect(403);
    expect(refused.body).toEqual({ statusCode: 403, error: 'Forbidden', reason: 'read_only', message: 'the dashboard is read-only' });
    expect((await d.scheduler.queueStats('default')).paused).toBe(false);
    expect(events).toEqual([{ action: 'queues.pause', target: 'default', actor: 'ops', outcome: 'denied', reason: 'read_only' }]);
    const config = await d.http().get('/scheduler/api/config').expect(200);
    expect(config.body).toMatchObject({ readOnly: true, actions: [] });
    await d.http().get('/scheduler/api/queues').expect(200);
  });

  it('access(req) decides per request: all, read_only, per action, or nothing', async () => {
    const access = (req: DashboardRequest) => {
      switch (role(req)) {
        case 'admin':
          return 'all' as const;
        case 'pager':
          return { pauseQueues: true };
        case 'viewer':
          return 'read_only' as const;
        default:
          return false as const;
      }
    };
    d = await startDashboard({ dashboard: { access }, scheduler: { queues: false }, providers: [Mail] });
    const events = audit(d);
    const job = await d.scheduler.enqueue('mail', { to: 'a@example.com' });
    expect((await d.http().get('/scheduler/api/config').expect(403)).body).toMatchObject({ reason: 'forbidden' });
    await d.http().get('/scheduler/api/jobs').expect(403);
    expect((await d.http().get('/scheduler/api/config').set('x-role', 'viewer').expect(200)).body).toMatchObject({ readOnly: true, actions: [] });
    expect((await d.http().get('/scheduler/api/config').set('x-role', 'pager').expect(200)).body).toMatchObject({
      readOnly: false,
      actions: ['queues.pause', 'queues.resume'],
    });
    await d.http().post(`/scheduler/api/jobs/${job.id}/cancel`).set(CSRF).set('x-role', 'viewer').expect(403);
    const notAllowed = await d.http().post(`/scheduler/api/jobs/${job.id}/cancel`).set(CSRF).set('x-role', 'pager').expect(403);
    expect(notAllowed.body).toMatchObject({ reason: 'not_allowed', message: 'this access does not allow jobs.cancel' });
    await d.http().post('/scheduler/api/queues/default/pause').set(CSRF).set('x-role', 'pager').expect(200, { queue: 'default', paused: true });
    expect((await d.scheduler.findJob(job.id))!.state).toBe('available');
    await d.http().post(`/scheduler/api/jobs/${job.id}/cancel`).set(CSRF).set('x-role', 'admin').expect(200, { id: job.id, cancelled: 1 });
    expect(events.map((e) => [e.action, e.outcome, e.reason])).toEqual([
      ['jobs.cancel', 'denied', 'read_only'],
      ['jobs.cancel', 'denied', 'not_allowed'],
      ['queues.pause', 'ok', undefined],
      ['jobs.cancel', 'ok', undefined],
    ]);
  });

  it('an action needs the CSRF header and, when the browser sends one, a same-origin Sec-Fetch-Site', async () => {
    d = await startDashboard({ dashboard: { allowUnauthenticated: true } });
    const events = audit(d);
    const missing = await d.http().post('/scheduler/api/queues/default/pause').expect(403);
    expect(missing.body).toMatchObject({ reason: 'csrf', message: 'a dashboard action needs the header x-scheduler-csrf: 1' });
    await d.http().post('/scheduler/api/queues/default/pause').set('x-scheduler-csrf', 'yes').expect(403);
    const crossSite = await d.http().post('/scheduler/api/queues/default/pause').set(CSRF).set('sec-fetch-site', 'cross-site').expect(403);
    expect(crossSite.body).toMatchObject({ reason: 'csrf' });
    await d.http().post('/scheduler/api/queues/default/pause').set(CSRF).set('sec-fetch-site', 'same-site').expect(403);
    expect((await d.scheduler.queueStats('default')).paused).toBe(false);
    await d.http().post('/scheduler/api/queues/default/pause').set(CSRF).set('sec-fetch-site', 'same-origin').expect(200);
    expect((await d.scheduler.queueStats('default')).paused).toBe(true);
    // Reads need neither.
    await d.http().get('/scheduler/api/queues').set('sec-fetch-site', 'cross-site').expect(200);
    expect(events.map((e) => e.outcome)).toEqual(['denied', 'denied', 'denied', 'denied', 'ok']);
  });

  it('the overview is one shared snapshot per statsCacheMs, whatever the number of requests', async () => {
    const queueStats = vi.spyOn(SchedulerService.prototype, 'queueStats');
    const health = vi.spyOn(SchedulerService.prototype, 'health');
    d = await startDashboard({ dashboard: { allowUnauthenticated: true, statsCacheMs: 2000 }, scheduler: { queues: false }, providers: [Mail] });
    await d.scheduler.enqueue('mail', { to: 'a' });
    const tabs = await Promise.all(Array.from({ length: 10 }, () => d!.http().get('/scheduler/api/overview').expect(200)));
    await d.http().get('/scheduler/api/queues').expect(200);
    expect(queueStats).toHaveBeenCalledTimes(1);
    expect(health).toHaveBeenCalledTimes(1);
    expect(new Set(tabs.map((r) => r.body.generatedAt))).toEqual(new Set([T0.toISOString()]));
    expect(tabs[0]!.body).toMatchObject({ node: expect.any(String), health: 'up', totals: { available: 1 } });
    await d.scheduler.enqueue('mail', { to: 'b' });
    await d.clock.advance(1999);
    expect((await d.http().get('/scheduler/api/overview').expect(200)).body.totals.available).toBe(1);
    await d.clock.advance(1);
    const fresh = await d.http().get('/scheduler/api/overview').expect(200);
    expect(fresh.body).toMatchObject({ generatedAt: new Date(T0.getTime() + 2000).toISOString(), totals: { available: 2 } });
    expect(queueStats).toHaveBeenCalledTimes(2);
  });

  it('links the jobs of a workflow run to it', async () => {
    d = await startDashboard({ dashboard: { allowUnauthenticated: true }, providers: [Signup], scheduler: { queues: false } });
    const runId = await d.scheduler.workflows.start('signup');
    await d.tester.drainQueue();
    const page = (await d.http().get('/scheduler/api/jobs').expect(200)).body as DashboardJobPage;
    const details = await Promise.all(
      page.jobs.map(async (job) => ((await d!.http().get(`/scheduler/api/jobs/${job.id}`).expect(200)).body as DashboardJobDetail).workflow),
    );
    expect(details).toContainEqual({ workflow: 'signup', step: 'hello', runId });
    expect(details.every((link) => link?.workflow === 'signup' && link.runId === runId)).toBe(true);
  });

  it('shows the trace id of the span that enqueued a job', async () => {
    const manager = new AsyncLocalStorageContextManager();
    context.setGlobalContextManager(manager.enable());
    try {
      d = await startDashboard({ dashboard: { allowUnauthenticated: true }, providers: [Mail], scheduler: { queues: false } });
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const span = trace.wrapSpanContext({ traceId, spanId: '00f067aa0ba902b7', traceFlags: 1 });
      const job = await context.with(trace.setSpan(context.active(), span), () => d!.scheduler.enqueue('mail', { to: 'a' }));
      expect((await d.http().get(`/scheduler/api/jobs/${job.id}`).expect(200)).body).toMatchObject({ traceId });
    } finally {
      context.disable();
    }
  });

  it('a request slower than queryTimeoutMs answers 503', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    /** A memory store whose queue counts wait until released. */
    class SlowStore extends MemoryStore {
      override async queueCounts(now: Date): Promise<QueueCounts[]> {
        await held;
        return super.queueCounts(now);
      }
    }
    d = await startDashboard({ dashboard: { allowUnauthenticated: true, queryTimeoutMs: 50 }, scheduler: { store: new SlowStore(), queues: false } });
    const slow = await d.http().get('/scheduler/api/queues/default').expect(503);
    expect(slow.body).toMatchObject({ reason: 'timeout', message: 'no answer within 50 ms' });
    release();
    await d.http().get('/scheduler/api/queues/default').expect(200);
  });
});

describe('dashboard on Fastify (memory store)', () => {
  let d: DashboardApp | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('guards, global prefix, noindex, CSRF and an action', async () => {
    d = await startDashboard({
      platform: 'fastify',
      prefix: 'admin',
      // The platform's own request type, with what an authentication layer adds, is accepted.
      dashboard: { guards: [AdminGuard], actor: (req: FastifyRequest & { user?: string }) => req.user ?? String(req.headers['x-user']) },
      providers: [Admins, AdminGuard, Mail],
      scheduler: { queues: false },
    });
    const events: DashboardActionEvent[] = [];
    d.scheduler.on('dashboard:action', (event) => events.push(event));
    await d.http().get('/admin/scheduler/api/config').expect(401);
    const refused = await d.http().get('/admin/scheduler/api/config').set('x-user', 'mallory').expect(403);
    expect(refused.headers['x-robots-tag']).toBe('noindex, nofollow');
    const job = await d.scheduler.enqueue('mail', { to: 'a' });
    const page = await d.http().get('/admin/scheduler/api/jobs').set('x-user', 'ada').expect(200);
    expect(page.headers['x-robots-tag']).toBe('noindex, nofollow');
    expect(page.body).toMatchObject({ jobs: [{ id: job.id, name: 'mail', state: 'available' }], nextCursor: null });
    await d.http().post(`/admin/scheduler/api/jobs/${job.id}/cancel`).set('x-user', 'ada').expect(403);
    await d.http().post(`/admin/scheduler/api/jobs/${job.id}/cancel`).set('x-user', 'ada').set(CSRF).set('sec-fetch-site', 'cross-site').expect(403);
    await d.http().post(`/admin/scheduler/api/jobs/${job.id}/cancel`).set('x-user', 'ada').set(CSRF).expect(200, { id: job.id, cancelled: 1 });
    await d.http().get('/admin/scheduler/api/jobs/999999').set('x-user', 'ada').expect(404);
    expect(events).toEqual([
      { action: 'jobs.cancel', target: job.id, actor: 'ada', outcome: 'denied', reason: 'csrf' },
      { action: 'jobs.cancel', target: job.id, actor: 'ada', outcome: 'denied', reason: 'csrf' },
      { action: 'jobs.cancel', target: job.id, actor: 'ada', outcome: 'ok' },
    ]);
  });
});

describe('dashboard without the scheduler options it needs', () => {
  it('builds with SchedulerModule in a feature import as well (the scheduler is global)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot({ clock: new FakeClock(T0) }), SchedulerDashboardModule.forRoot({ access: () => 'read_only' })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.close();
  });
});
