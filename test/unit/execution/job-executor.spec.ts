import { Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { resolveJobOptions } from '../../../lib/discovery/job-options.resolver.js';
import type { ExecutorDeps } from '../../../lib/execution/execution.types.js';
import { JobExecutor, UNHANDLED_GRACE, UNHANDLED_RETRY } from '../../../lib/execution/job.executor.js';
import { RunningJobs } from '../../../lib/execution/running-jobs.js';
import type { JobMiddleware } from '../../../lib/middleware/job-middleware.js';
import type { JobDefinition } from '../../../lib/scheduler.registry.js';
import { MemoryStore } from '../../../lib/store/memory.store.js';
import { SchedulerEvents } from '../../../lib/telemetry/scheduler.events.js';
import { FakeClock } from '../../../lib/testing/fake.clock.js';
import { SchedulerMetricProducer } from '../../../lib/metrics/index.js';
import { StoreTimer } from '../../../lib/telemetry/metrics/store-timer.js';
import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { T0 } from '../../support/app.js';
import { testClassifier } from '../../support/classifier.js';
import { newJobInput } from '../../support/new-job.js';

/**
 * The executor built without Nest and without the registry: its handlers
 * come from a plain lookup, the middleware travels with each definition,
 * and the backoff of a retry is the lookup's answer.
 */
function setup(definitions: Map<string, JobDefinition>, backoff: number, storeTimer: StoreTimer | null = null) {
  const clock = new FakeClock(T0);
  const store = new MemoryStore();
  const retries: [string, number][] = [];
  const deps: ExecutorDeps = {
    store,
    registry: { findDefinition: (name) => definitions.get(name), retrySettingsFor: (job) => ({ maxRetries: job.maxAttempts - 1, backoff: () => backoff }) },
    classifier: testClassifier(clock),
    clock,
    events: new SchedulerEvents(),
    running: new RunningJobs(),
    onRetry: (queue, runAt) => retries.push([queue, runAt.getTime()]),
    storeTimer,
  };
  const executor = new JobExecutor(deps);
  const claimOne = async (name: string) => {
    await store.insert([newJobInput(new Date(clock.now()), { name })]);
    const [job] = await store.claim({ queue: 'default', limit: 1, node: 'n1', now: new Date(clock.now()) });
    return job!;
  };
  return { clock, store, executor, retries, claimOne, events: deps.events };
}

function definition(name: string, run: JobDefinition['run'], middleware?: JobMiddleware[]): JobDefinition {
  const options = resolveJobOptions(
    {},
    (option, detail) => {
      throw new Error(`${option}: ${detail}`);
    },
    null,
  );
  return { name, source: `Test.${name}`, kind: 'method', run, options, middleware };
}

describe('JobExecutor, built without Nest', () => {
  it('runs a handler through the middleware its definition carries and acknowledges the result', async () => {
    const seen: string[] = [];
    const double: JobMiddleware = {
      after: (_ctx, result) => (result as number) * 2,
      onComplete: (ctx, outcome) => void seen.push(`${ctx.name}:${outcome.status}`),
    };
    const { executor, store, claimOne } = setup(new Map([['sum', definition('sum', async () => 21, [double])]]), 0);
    const job = await claimOne('sum');
    const outcome = await executor.execute(job);
    expect(outcome.outcome).toBe('completed');
    expect(outcome.result).toBe(42);
    expect(seen).toEqual(['sum:completed']);
    expect((await store.get(job.id))?.result).toBe(42);
  });

  it('retries a failure after the delay its definitions lookup gives, and tells onRetry when', async () => {
    const { executor, store, clock, retries, claimOne } = setup(
      new Map([['flaky', definition('flaky', async () => Promise.reject(new Error('boom')))]]),
      7_000,
    );
    const job = await claimOne('flaky');
    const outcome = await executor.execute(job);
    expect(outcome.outcome).toBe('retry');
    expect(retries).toEqual([['default', clock.now() + 7_000]]);
    const stored = await store.get(job.id);
    expect([stored?.state, stored?.runAt.getTime()]).toEqual(['available', clock.now() + 7_000]);
  });

  it('hands back, without spending its attempt, a job due lately whose name has no handler here (a rolling deploy that adds it)', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { executor, store, clock, claimOne } = setup(new Map(), 0);
    const job = await claimOne('unknown');
    expect((await executor.execute(job)).outcome).toBe('held');
    const back = (await store.get(job.id))!;
    expect([back.state, back.attempt, back.errors, back.runAt.getTime()]).toEqual(['available', 0, [], clock.now() + UNHANDLED_RETRY]);
    expect((await executor.execute(await claimOne('unknown'))).outcome).toBe('held');
    expect(warn.mock.calls.map(([message]) => String(message))).toEqual([expect.stringContaining('no handler is registered under "unknown"')]);
    warn.mockRestore();
  });

  it('fails, without discarding it, a job whose name has no handler here once it has been due longer than the grace', async () => {
    const { executor, store, clock } = setup(new Map(), 0);
    await store.insert([newJobInput(new Date(clock.now()), { name: 'unknown' })], { now: new Date(clock.now()) });
    await clock.advance(UNHANDLED_GRACE);
    const [job] = await store.claim({ queue: 'default', limit: 1, node: 'n1', now: new Date(clock.now()) });
    const outcome = await executor.execute(job!);
    expect(outcome.outcome).toBe('retry');
    expect(String(outcome.error)).toMatch(/no handler is registered under "unknown"/);
  });

  it('acknowledges completions that wait on one write together, each in launch order, and reports each when it fails', async () => {
    const defs = new Map([['quiet', definition('quiet', () => undefined)]]);
    for (const fails of [false, true]) {
      const { executor, store, claimOne, events } = setup(defs, 0);
      // A store that batches: every completion of the batch answers with one promise, once the batch is written.
      let answer!: (ok: boolean) => void;
      const batch = new Promise<void>((resolve, reject) => (answer = (ok) => (ok ? resolve() : reject(new Error('batch lost')))));
      const write = store.complete.bind(store);
      const writes: Promise<void>[] = [];
      store.complete = (...args) => {
        writes.push(write(...args));
        return batch;
      };
      const stopped: string[] = [];
      events.on('job:stop', ({ job }) => void stopped.push(job.id));
      const jobs = [await claimOne('quiet'), await claimOne('quiet'), await claimOne('quiet')];
      const acked: string[] = [];
      const outcomes = jobs.map((job) => executor.execute(job).then((outcome) => (acked.push(job.id), outcome)));
      await new Promise((resolve) => setImmediate(resolve));
      expect(acked).toEqual([]);
      answer(!fails);
      const settled = await Promise.all(outcomes);
      expect(acked).toEqual(jobs.map((job) => job.id));
      expect(settled.map((o) => o.outcome)).toEqual(['completed', 'completed', 'completed']);
      expect(stopped).toEqual(fails ? [] : jobs.map((job) => job.id));
      await Promise.all(writes);
      expect(writes).toHaveLength(3);
    }
  });

  it('times one completion at a time: those written meanwhile, with it or beside it, add no record', async () => {
    const defs = new Map([['quiet', definition('quiet', () => undefined)]]);
    const completes = async (shared: boolean, together = true) => {
      const producer = new SchedulerMetricProducer();
      const { executor, store, claimOne } = setup(defs, 0, new StoreTimer(producer, [0.005, 1]));
      if (!shared) {
        const write = store.complete.bind(store);
        store.complete = (...args) => write(...args).then(() => undefined);
      }
      const jobs = [await claimOne('quiet'), await claimOne('quiet'), await claimOne('quiet')];
      if (together) await Promise.all(jobs.map((job) => executor.execute(job)));
      else for (const job of jobs) await executor.execute(job);
      const metric = (await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics.find(
        (m) => m.descriptor.name === 'scheduler.store.operation.duration',
      ) as HistogramMetricData;
      return metric.dataPoints.find((p) => p.attributes['db.operation.name'] === 'complete')?.value.count;
    };
    // The memory store answers every completion with one settled promise: the three launched together are one write.
    expect(await completes(true)).toBe(1);
    // A promise each (a store that batches inside, as PostgreSQL's writer does): the first is timed, the two sent while it is in flight are not.
    expect(await completes(false)).toBe(1);
    // One after another: each is timed.
    expect(await completes(false, false)).toBe(3);
    expect(await completes(true, false)).toBe(3);
  });
});
