import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, Step, Workflow, type JobEnqueueEvent, type WorkflowExceptionEvent } from '../../lib/index.js';
import { SchedulerService } from '../../lib/index.js';
import { startApp, T0, type TestApp } from '../support/app.js';

@Injectable()
class Jobs {
  @Scheduled({ name: 'mail' })
  mail() {}
  @Scheduled({ name: 'fragile', maxRetries: 0 })
  fragile() {
    throw new Error('broken');
  }
  @Scheduled({ name: 'minutely', cron: '* * * * *' })
  minutely() {}
  @Scheduled({ name: 'every-30s', every: '30s' })
  every() {}
  @Scheduled({ name: 'once', at: new Date(T0.getTime() + 90_000) })
  once() {}
  @Scheduled({ name: 'boot', cron: '@reboot' })
  boot() {}
}

/** Subscribes in its own onModuleInit, after the scheduler's (an imported module inits first). */
@Injectable()
class BootRecorder implements OnModuleInit {
  enqueued: JobEnqueueEvent[] = [];
  constructor(private readonly scheduler: SchedulerService) {}
  onModuleInit() {
    this.scheduler.on('job:enqueue', (e) => this.enqueued.push(e));
  }
}

@Workflow({ name: 'import' })
class Import {
  failures = 0;
  @Step()
  fetch() {
    return { rows: 3 };
  }
  @Step({ after: 'fetch', maxRetries: 1 })
  load() {
    this.failures++;
    throw new TypeError(`load broke (${this.failures})`);
  }
}

describe('job:enqueue and workflow:exception', () => {
  let t: TestApp;
  let enqueued: JobEnqueueEvent[];
  let skips: string[];
  const start = async (...providers: unknown[]) => {
    t = await startApp(providers as never[]);
    enqueued = [];
    skips = [];
    t.scheduler.on('job:enqueue', (e) => enqueued.push(e));
    t.scheduler.on('job:skip', (e) => skips.push(`${e.reason}:${e.name}`));
  };
  const seen = () => enqueued.map((e) => `${e.source}:${e.job.schedule ?? e.job.name}`);
  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await t?.close();
    vi.restoreAllMocks();
  });

  it('enqueue, enqueueAt, enqueueMany and runNow emit one `api` event per inserted job; a duplicate emits job:skip only', async () => {
    await start(Jobs);
    // Ticks planned at start are left out: only what each call inserts counts.
    enqueued.length = 0;
    const one = await t.scheduler.enqueue('mail', { to: 'a' });
    expect(enqueued).toHaveLength(1);
    expect(enqueued[0]!.job.id).toBe(one.id);
    expect(enqueued[0]!.job.args).toEqual({ to: 'a' });
    await t.scheduler.enqueueAt('mail', { to: 'b' }, new Date(T0.getTime() + 60_000));
    await t.scheduler.enqueueMany('mail', [{ to: 'c' }, { to: 'd' }, { to: 'e' }]);
    await t.scheduler.runNow('mail', { to: 'f' });
    await t.scheduler.runNow('minutely');
    expect(seen()).toEqual(['api:mail', 'api:mail', 'api:mail', 'api:mail', 'api:mail', 'api:mail', 'api:minutely']);
    // Due later, so the first is still queued when the second comes.
    await t.scheduler.enqueue('mail', { to: 'g' }, { unique: true, delay: '1h' });
    const duplicate = await t.scheduler.enqueue('mail', { to: 'g' }, { unique: true, delay: '1h' });
    expect(duplicate.duplicate).toBe(true);
    expect(enqueued).toHaveLength(8);
    expect(skips).toEqual(['unique:mail']);
  });

  it('ticks emit `cron`, `interval` or `once` (`at` and @reboot); a dead letter put back emits `retry`', async () => {
    // Listening from the app's own init, to see the @reboot job enqueued as it starts.
    await start(Jobs, BootRecorder);
    expect(t.get(BootRecorder).enqueued.map((e) => `${e.source}:${e.job.name}`)).toEqual(['once:boot']);
    // From here on, the test's own listener (subscribed after the start) sees the rest.
    expect(seen()).toEqual([]);
    await t.clock.advance('60s');
    expect(seen().sort()).toEqual(['cron:minutely', 'interval:every-30s', 'interval:every-30s']);
    await t.clock.advance('30s');
    expect(seen().slice(3).sort()).toEqual(['interval:every-30s', 'once:once']);

    const [dead] = await t.scheduler.enqueueMany('fragile', [{ n: 1 }, { n: 2 }]);
    await t.tester.drainQueue();
    enqueued.length = 0;
    await t.scheduler.deadLetters.retry(dead!.id);
    expect(enqueued.map((e) => [e.source, e.job.id, e.job.state])).toEqual([['retry', dead!.id, 'available']]);
    await t.scheduler.deadLetters.retryAll({ name: 'fragile' });
    expect(seen()).toEqual(['retry:fragile', 'retry:fragile']);
  });

  it("a workflow's jobs emit `workflow`; each failed attempt of a step emits workflow:exception", async () => {
    await start(Import);
    const exceptions: WorkflowExceptionEvent[] = [];
    t.scheduler.on('workflow:exception', (e) => exceptions.push(e));
    const runId = await t.scheduler.workflows.start('import', {});
    for (let i = 0; i < 4; i++) {
      await t.tester.drainQueue();
      await t.clock.advance('1m');
    }
    expect((await t.scheduler.workflows.getState(runId)).state).toBe('failed');
    // One job per step (a retry is the same job again), then the rollback's.
    expect(enqueued.map((e) => [e.source, e.job.name, e.job.meta.step ?? null])).toEqual([
      ['workflow', '__workflow.step', 'fetch'],
      ['workflow', '__workflow.step', 'load'],
      ['workflow', '__workflow.rollback', null],
    ]);
    expect(exceptions.map((e) => [e.step, e.attempt, e.maxAttempts, e.outcome, e.kind, (e.error as Error).message])).toEqual([
      ['load', 1, 2, 'retry', 'error', 'load broke (1)'],
      ['load', 2, 2, 'failed', 'error', 'load broke (2)'],
    ]);
    expect(exceptions[0]).toMatchObject({ runId, workflow: 'import', duration: 0 });
    const loadJobs = t.tester.runs().filter((r) => r.job.meta.step === 'load');
    expect(exceptions.map((e) => e.jobId)).toEqual(loadJobs.map((r) => r.job.id));
  });
});
