import { Injectable, Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Step, Workflow, type DashboardActionEvent, type StepContext } from '../../lib/index.js';
import type { DashboardRequest, DashboardWorkflowRunDetail, DashboardWorkflowRunPage, SchedulerDashboardOptions } from '../../lib/dashboard/index.js';
import { T0 } from '../support/app.js';
import { CSRF, type DashboardApp, startDashboard, webDashboardPerTest } from '../support/dashboard-app.js';
import { TEST_STORES } from '../support/stores.js';

/** Whether `parse` fails, set by each test. */
@Injectable()
class Switches {
  failParse = false;
}

@Workflow({ name: 'pipeline' })
class Pipeline {
  constructor(private readonly switches: Switches) {}
  @Step()
  fetch() {
    return { fetched: 3, apiToken: 'secret' };
  }
  @Step({ after: 'fetch', maxRetries: 0 })
  parse() {
    if (this.switches.failParse) throw new Error('bad input');
    return { parsed: true };
  }
  @Step({ after: 'fetch' })
  index() {}
  @Step({ after: ['parse', 'index'] })
  publish(ctx: StepContext) {
    return { published: ctx.context.parsed === true };
  }
}

@Workflow({ name: 'refund' })
class Refund {
  @Step({ rollback: 'uncharge' })
  charge() {
    return { charged: 10 };
  }
  uncharge() {}
  @Step({ after: 'charge', maxRetries: 0 })
  notify() {
    throw new Error('mailer down');
  }
}

const API = '/scheduler/api';
const role = (req: DashboardRequest): string => String(req.headers['x-role'] ?? 'admin');

describe.each(TEST_STORES)('dashboard workflows on the $kind store', ({ kind, open }) => {
  const webDashboard = webDashboardPerTest(open, `dash_wf_${kind}`);

  const start = async (dashboard: SchedulerDashboardOptions = { allowUnauthenticated: true, redact: ['password', /token/i] }) => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    // A web node: the tester drains when a test wants steps run.
    const d = await webDashboard({ providers: [Switches, Pipeline, Refund], dashboard });
    return d;
  };

  it('lists runs newest first with filters and keyset paging; shows one as a graph with its states and its Mermaid text', async () => {
    const app = await start();
    const r1 = await app.scheduler.workflows.start('pipeline', { user: 'ada', password: 'hunter2' });
    const r2 = await app.scheduler.workflows.start('pipeline');
    const r3 = await app.scheduler.workflows.start('refund');
    await app.tester.drainQueue();
    const page = async (query: string): Promise<DashboardWorkflowRunPage> =>
      (await app.http().get(`${API}/workflows?${query}`).expect(200)).body as DashboardWorkflowRunPage;
    const ids = (p: DashboardWorkflowRunPage) => p.runs.map((r) => r.id);

    const first = await page('limit=2');
    expect(ids(first)).toEqual([r3, r2]);
    expect(first).toMatchObject({ nextCursor: r2, limit: 2 });
    expect(first.runs[0]).toEqual({
      id: r3,
      workflow: 'refund',
      version: expect.any(String),
      state: 'failed',
      error: 'step notify failed: mailer down',
      steps: { pending: 0, running: 0, completed: 0, skipped: 0, failed: 1, rolled_back: 1 },
      runAt: null,
      createdAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
      finishedAt: T0.toISOString(),
    });
    const last = await page(`limit=2&cursor=${first.nextCursor}`);
    expect(ids(last)).toEqual([r1]);
    expect(last.nextCursor).toBeNull();
    expect(ids(await page('name=pipeline'))).toEqual([r2, r1]);
    expect(ids(await page('state=failed,cancelled'))).toEqual([r3]);
    expect(ids(await page('state=completed&name=refund'))).toEqual([]);
    expect((await app.http().get(`${API}/workflows?state=lost`).expect(400)).body).toMatchObject({ reason: 'invalid' });
    await app.http().get(`${API}/workflows?cursor=x1`).expect(400);

    const detail = (await app.http().get(`${API}/workflows/${r1}`).expect(200)).body as DashboardWorkflowRunDetail;
    expect(detail).toMatchObject({
      id: r1,
      workflow: 'pipeline',
      state: 'completed',
      steps: { completed: 4 },
      context: { user: 'ada', password: '[redacted]', fetched: 3, apiToken: '[redacted]', parsed: true, published: true },
    });
    expect(detail.nodes.map((n) => [n.id, n.state, n.attempts, n.queue])).toEqual([
      ['fetch', 'completed', 1, 'default'],
      ['parse', 'completed', 1, 'default'],
      ['index', 'completed', 1, 'default'],
      ['publish', 'completed', 1, 'default'],
    ]);
    expect(detail.nodes[0]).toMatchObject({ output: { fetched: 3, apiToken: '[redacted]' }, error: null, skipReason: null, jobId: expect.any(String) });
    expect(detail.edges).toEqual([
      { from: 'fetch', to: 'parse', kind: 'after' },
      { from: 'fetch', to: 'index', kind: 'after' },
      { from: 'parse', to: 'publish', kind: 'after' },
      { from: 'index', to: 'publish', kind: 'after' },
    ]);
    expect(detail.mermaid).toBe(await app.scheduler.workflows.toMermaid(r1));
    expect(detail.mermaid).toContain('class');
    // The step's job links back to the run.
    expect((await app.http().get(`${API}/jobs/${detail.nodes[0]!.jobId}`).expect(200)).body.workflow).toEqual({
      workflow: 'pipeline',
      step: 'fetch',
      runId: r1,
    });
    await app.http().get(`${API}/workflows/999999999`).expect(404);
    await app.http().get(`${API}/workflows/abc`).expect(404);
  });

  it('retries a failed run from its failed step, refuses one its rollback compensated; pause, resume, cancel; audited, per permission', async () => {
    const app = await start({
      access: (req) => (role(req) === 'pager' ? { pauseWorkflows: true } : 'all'),
      actor: (req) => role(req),
    });
    const events: DashboardActionEvent[] = [];
    app.scheduler.on('dashboard:action', (event) => events.push(event));
    const switches = app.app.get(Switches);
    switches.failParse = true;
    const failed = await app.scheduler.workflows.start('pipeline');
    const refund = await app.scheduler.workflows.start('refund');
    await app.tester.drainQueue();
    const detail = async (runId: string) => (await app.http().get(`${API}/workflows/${runId}`).expect(200)).body as DashboardWorkflowRunDetail;
    expect((await detail(failed)).nodes.map((n) => [n.id, n.state])).toEqual([
      ['fetch', 'completed'],
      ['parse', 'failed'],
      // Queued beside parse, it did not start once the run had failed.
      ['index', 'pending'],
      ['publish', 'pending'],
    ]);

    await app.http().post(`${API}/workflows/${failed}/retry`).expect(403);
    await app.http().post(`${API}/workflows/${failed}/retry`).set(CSRF).set('x-role', 'pager').expect(403);
    switches.failParse = false;
    const retried = await app.http().post(`${API}/workflows/${failed}/retry`).set(CSRF).expect(200);
    expect(retried.body).toMatchObject({ run: { id: failed, state: 'running', error: null, finishedAt: null } });
    await app.tester.drainQueue();
    const done = await detail(failed);
    expect(done).toMatchObject({ state: 'completed', context: { parsed: true, published: true } });
    expect(done.nodes.map((n) => [n.id, n.state, n.attempts])).toEqual([
      ['fetch', 'completed', 1],
      ['parse', 'completed', 2],
      ['index', 'completed', 1],
      ['publish', 'completed', 1],
    ]);
    await app.http().post(`${API}/workflows/${failed}/retry`).set(CSRF).expect(409);

    // The refund's charge was compensated when it failed: it cannot run again in place.
    expect((await detail(refund)).nodes.map((n) => [n.id, n.state])).toEqual([
      ['charge', 'rolled_back'],
      ['notify', 'failed'],
    ]);
    const refused = await app.http().post(`${API}/workflows/${refund}/retry`).set(CSRF).expect(409);
    expect(refused.body).toMatchObject({ reason: 'conflict', message: expect.stringContaining('its rollback reached step charge') });

    const live = await app.scheduler.workflows.start('pipeline');
    await app.http().post(`${API}/workflows/${live}/pause`).set(CSRF).set('x-role', 'pager').expect(200);
    expect((await detail(live)).state).toBe('paused');
    await app.http().post(`${API}/workflows/${live}/pause`).set(CSRF).expect(409);
    const resumed = await app.http().post(`${API}/workflows/${live}/resume`).set(CSRF).set('x-role', 'pager').expect(200);
    expect(resumed.body.run.state).toBe('running');
    await app.http().post(`${API}/workflows/${live}/cancel`).set(CSRF).set('x-role', 'pager').expect(403);
    const cancelled = await app.http().post(`${API}/workflows/${live}/cancel`).set(CSRF).expect(200);
    expect(cancelled.body.run).toMatchObject({ id: live, state: 'cancelled', error: 'cancelled from the dashboard' });
    await app.http().post(`${API}/workflows/${live}/cancel`).set(CSRF).expect(409);
    await app.http().post(`${API}/workflows/999999999/cancel`).set(CSRF).expect(404);

    expect(events.map((e) => [e.action, e.target, e.actor, e.outcome, e.reason ?? null])).toEqual([
      ['workflows.retry', failed, 'admin', 'denied', 'csrf'],
      ['workflows.retry', failed, 'pager', 'denied', 'not_allowed'],
      ['workflows.retry', failed, 'admin', 'ok', null],
      ['workflows.retry', failed, 'admin', 'error', expect.stringContaining('it is completed, not failed')],
      ['workflows.retry', refund, 'admin', 'error', expect.stringContaining('its rollback reached step charge')],
      ['workflows.pause', live, 'pager', 'ok', null],
      ['workflows.pause', live, 'admin', 'error', expect.stringContaining('is not running')],
      ['workflows.resume', live, 'pager', 'ok', null],
      ['workflows.cancel', live, 'pager', 'denied', 'not_allowed'],
      ['workflows.cancel', live, 'admin', 'ok', null],
      ['workflows.cancel', live, 'admin', 'error', expect.stringContaining('has already ended')],
      ['workflows.cancel', '999999999', 'admin', 'error', expect.stringContaining('999999999')],
    ]);
    const config = await app.http().get(`${API}/config`).set('x-role', 'pager').expect(200);
    expect(config.body.actions).toEqual(['workflows.pause', 'workflows.resume']);
  });
});

describe('dashboard workflows on Fastify (memory store)', () => {
  let d: DashboardApp | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('lists, shows and pauses a run', async () => {
    d = await startDashboard({
      platform: 'fastify',
      prefix: 'admin',
      dashboard: { allowUnauthenticated: true },
      providers: [Switches, Pipeline],
      scheduler: { queues: false },
    });
    const runId = await d.scheduler.workflows.start('pipeline');
    const page = await d.http().get('/admin/scheduler/api/workflows?state=running').expect(200);
    expect(page.headers['x-robots-tag']).toBe('noindex, nofollow');
    expect(page.body).toMatchObject({ runs: [{ id: runId, workflow: 'pipeline', state: 'running' }], nextCursor: null });
    const detail = await d.http().get(`/admin/scheduler/api/workflows/${runId}`).expect(200);
    expect(detail.body.nodes.map((n: { state: string }) => n.state)).toEqual(['pending', 'pending', 'pending', 'pending']);
    await d.http().post(`/admin/scheduler/api/workflows/${runId}/pause`).expect(403);
    await d.http().post(`/admin/scheduler/api/workflows/${runId}/pause`).set(CSRF).expect(200);
    expect((await d.scheduler.workflows.getState(runId)).state).toBe('paused');
  });
});
