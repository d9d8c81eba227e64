import { Injectable, Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, Step, Worker, Workflow, type JobWorker } from '../../lib/index.js';
import type { DashboardJobDetail, DashboardWaitingReason } from '../../lib/dashboard/index.js';
import { Gate } from '../support/gate.job.js';
import { startDashboard, type DashboardApp } from '../support/dashboard-app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

@Worker({ name: 'mail' })
class Mail implements JobWorker<{ to: string }> {
  perform() {}
}

@Injectable()
class Smtp {
  @Scheduled({ name: 'smtp', circuitBreaker: 'smtp', backoff: 0, maxRetries: 0 })
  send() {
    throw new Error('smtp down');
  }
}

@Workflow({ name: 'signup' })
class Signup {
  @Step()
  hello() {
    return { said: 'hello' };
  }
  @Step({ after: 'hello' })
  welcome() {}
}

const API = '/scheduler/api';

describe.each(TEST_STORES)('dashboard: why a job waits, on the $kind store', ({ kind, open }) => {
  let d: DashboardApp | undefined;
  let store: TestStore | undefined;
  let gate: Gate | undefined;
  afterEach(async () => {
    // Jobs still at the gate (a failed test) are let go, and the grace period passes on the fake clock.
    const closing = d?.close();
    for (const id of gate?.open.keys() ?? []) gate!.release(id);
    await d?.clock.advance('1m');
    await closing;
    await store?.drop();
    d = store = gate = undefined;
    vi.restoreAllMocks();
  });

  const waiting = async (id: string): Promise<DashboardWaitingReason[]> =>
    ((await d!.http().get(`${API}/jobs/${id}`).expect(200)).body as DashboardJobDetail).waiting;
  const codes = async (id: string) => (await waiting(id)).map((r) => r.code);

  it('a web node without a leader: no node, no leader, scheduled, rate limit, breaker, queue and job paused, workflow paused', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    store = await open(`wait_${kind}`);
    d = await startDashboard({
      scheduler: {
        ...store.options,
        queues: false,
        peer: false,
        rateLimits: { jobs: { mail: { limit: 1, per: '1h' } } },
        circuitBreakers: { smtp: { failureThreshold: 1, resetTimeout: '30s' } },
      },
      providers: [Mail, Smtp, Signup],
    });
    const app = d;
    const [first, second] = await app.scheduler.enqueueMany('mail', [{ to: 'a' }, { to: 'b' }]);
    const [failing, held] = await app.scheduler.enqueueMany('smtp', [{}, {}]);
    await app.tester.drainQueue();
    expect((await app.scheduler.findJob(first!.id))!.state).toBe('completed');
    expect(await waiting(first!.id)).toEqual([]);
    expect((await app.scheduler.findJob(failing!.id))!.state).toBe('dead');

    // The rate limit of mail took its one token; this node runs no queue and nobody leads.
    const reasons = await waiting(second!.id);
    expect(reasons.map((r) => r.code)).toEqual(['rate_limited', 'no_node', 'no_leader']);
    expect(reasons[0]!.message).toMatch(/^the rate limit of job "mail" has no token \(0\.\d\d\): the next one comes at 2026-01-01T/);
    expect(reasons[1]!.message).toBe(
      kind === 'memory'
        ? 'this node does not run queue "default" and no job of it runs (the memory store lives in this process: only another app of it sharing the store could)'
        : 'this node does not run queue "default" and no job of it runs on any node; the store does not record which nodes run which queues, ' +
            'so an idle node running it cannot be seen from here (it would claim a due job within its poll interval)',
    );
    expect(reasons[2]).toEqual({ code: 'no_leader', message: 'no node leads: schedules are not planned and jobs of dead nodes are not rescued' });

    // One failure opened the breaker: the other job is held until it turns half-open.
    expect(await waiting(held!.id)).toEqual([
      { code: 'scheduled', message: 'it is due at 2026-01-01T00:00:30.000Z' },
      {
        code: 'breaker_open',
        message: 'circuit breaker "smtp" is open after 1 failures: its jobs wait until 2026-01-01T00:00:30.000Z, when it lets probes through',
      },
      expect.objectContaining({ code: 'no_node' }),
      expect.objectContaining({ code: 'no_leader' }),
    ]);

    const later = await app.scheduler.enqueue('mail', { to: 'c' }, { delay: '1h' });
    expect((await waiting(later.id))[0]).toEqual({ code: 'scheduled', message: 'it is due at 2026-01-01T01:00:00.000Z' });

    await app.scheduler.pauseQueue('default');
    await app.scheduler.pauseJob('mail');
    expect(await codes(second!.id)).toEqual(['queue_paused', 'job_paused', 'rate_limited', 'no_node', 'no_leader']);
    await app.scheduler.resumeQueue('default');
    await app.scheduler.resumeJob('mail');
    expect(await codes(second!.id)).toEqual(['rate_limited', 'no_node', 'no_leader']);

    // A workflow run paused: its queued step does not start.
    const runId = await app.scheduler.workflows.start('signup');
    const [step] = await app.scheduler.listJobs({ states: ['available'], name: '__workflow.step' });
    expect(step).toBeDefined();
    expect(await codes(step!.id)).toEqual(['no_node', 'no_leader']);
    await app.scheduler.workflows.pause(runId);
    expect(await waiting(step!.id)).toEqual([
      { code: 'workflow_paused', message: `workflow run ${runId} is paused: no step starts until it is resumed` },
      expect.objectContaining({ code: 'no_node' }),
      expect.objectContaining({ code: 'no_leader' }),
    ]);
  });

  it('a worker node that leads: concurrency full while its one slot is busy, then nothing', async () => {
    store = await open(`wait_${kind}`);
    d = await startDashboard({ scheduler: { ...store.options, queues: { default: { concurrency: 1, prefetch: 0 } } }, providers: [Gate] });
    const app = d;
    const gates = app.app.get(Gate);
    gate = gates;
    const settle = (done: () => boolean | Promise<boolean>, what: string) => waitFor(async () => (await app.clock.advance(0), done()), 10_000, what);
    await settle(() => app.scheduler.isLeader(), 'this node to lead');
    const node = (await app.scheduler.health()).node;
    const a = await app.scheduler.enqueue('gate', { id: 'a' });
    await settle(() => gates.started.includes('a'), 'job a to start');
    const b = await app.scheduler.enqueue('gate', { id: 'b' });
    expect(await waiting(b.id)).toEqual([{ code: 'concurrency_full', message: `every node known to run queue "default" is full (${node} 1/1)` }]);
    expect(await waiting(a.id)).toEqual([]);
    gates.release('a');
    await settle(() => gates.started.includes('b'), 'job b to start');
    expect(await waiting(b.id)).toEqual([]);
  });
});
