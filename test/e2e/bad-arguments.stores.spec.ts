import { Injectable, Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, SchedulerError, type SchedulerService } from '../../lib/index.js';
import { Pipeline } from '../support/pipeline.workflow.js';
import { startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { BAD_VALUES, labelOf } from '../support/bad-values.js';

@Injectable()
class Jobs {
  @Scheduled({ name: 'work' })
  work() {}
  @Scheduled({ name: 'tick', cron: '0 * * * *' })
  tick() {}
}

type Call = (s: SchedulerService, value: unknown) => unknown;
// Each public call, with one argument or option at a time replaced by a bad value (the rest valid).
const CALLS: Record<string, Call> = {
  'enqueue(target)': (s, v) => s.enqueue(v as string),
  'enqueue(…, args)': (s, v) => s.enqueue('work', v as never),
  'enqueue(…, options)': (s, v) => s.enqueue('work', {}, v as never),
  'enqueue delay': (s, v) => s.enqueue('work', {}, { delay: v as never }),
  'enqueue priority': (s, v) => s.enqueue('work', {}, { priority: v as never }),
  'enqueue queue': (s, v) => s.enqueue('work', {}, { queue: v as never }),
  'enqueue runAt': (s, v) => s.enqueue('work', {}, { runAt: v as never }),
  'enqueue tags': (s, v) => s.enqueue('work', {}, { tags: v as never }),
  'enqueue meta': (s, v) => s.enqueue('work', {}, { meta: v as never }),
  'enqueue unique': (s, v) => s.enqueue('work', {}, { unique: v as never }),
  'enqueue timeout': (s, v) => s.enqueue('work', {}, { timeout: v as never }),
  enqueueAt: (s, v) => s.enqueueAt('work', {}, v as never),
  enqueueMany: (s, v) => s.enqueueMany('work', v as never),
  insert: (s, v) => s.insert(v as never),
  'insert cron': (s, v) => s.insert({ name: 'runtime', handler: 'work', cron: v as never }),
  'insert every': (s, v) => s.insert({ name: 'runtime', handler: 'work', every: v as never }),
  'insert name': (s, v) => s.insert({ name: v as never, handler: 'work', every: '1m' }),
  update: (s, v) => s.update('tick', v as never),
  delete: (s, v) => s.delete(v as never),
  getJob: (s, v) => s.getJob(v as never),
  pauseJob: (s, v) => s.pauseJob(v as never),
  resumeJob: (s, v) => s.resumeJob(v as never),
  runNow: (s, v) => s.runNow(v as never),
  'runNow args': (s, v) => s.runNow('work', v as never),
  cancelJob: (s, v) => s.cancelJob(v as never),
  'cancelJob reason': (s, v) => s.cancelJob('work', { reason: v as never }),
  runJobNow: (s, v) => s.runJobNow(v as never),
  deleteJob: (s, v) => s.deleteJob(v as never),
  findJob: (s, v) => s.findJob(v as never),
  listJobs: (s, v) => s.listJobs(v as never),
  'listJobs limit': (s, v) => s.listJobs({ limit: v as never }),
  'listJobs afterId': (s, v) => s.listJobs({ afterId: v as never }),
  'listJobs states': (s, v) => s.listJobs({ states: v as never }),
  'listJobs order': (s, v) => s.listJobs({ order: v as never }),
  'nextRuns count': (s, v) => s.nextRuns('tick', v as never),
  'nextRuns from': (s, v) => s.nextRuns('tick', 3, v as never),
  pauseQueue: (s, v) => s.pauseQueue(v as never),
  scaleQueue: (s, v) => s.scaleQueue('default', v as never),
  'scaleQueue queue': (s, v) => s.scaleQueue(v as never, 2),
  queueStats: (s, v) => s.queueStats(v as never),
  history: (s, v) => s.history(v as never),
  'history limit': (s, v) => s.history('work', { limit: v as never }),
  status: (s, v) => s.status(v as never),
  health: (s, v) => s.health(v as never),
  'health checks': (s, v) => s.health({ checks: v as never }),
  'health lag': (s, v) => s.health({ lag: v as never }),
  'health lag.warnMs': (s, v) => s.health({ checks: ['lag'], lag: { warnMs: v as never } }),
  'deadLetters.list': (s, v) => s.deadLetters.list(v as never),
  'deadLetters.list limit': (s, v) => s.deadLetters.list({ limit: v as never }),
  'deadLetters.get': (s, v) => s.deadLetters.get(v as never),
  'deadLetters.retry': (s, v) => s.deadLetters.retry(v as never),
  'deadLetters.retryAll': (s, v) => s.deadLetters.retryAll(v as never),
  'deadLetters.delete': (s, v) => s.deadLetters.delete(v as never),
  'deadLetters.prune': (s, v) => s.deadLetters.prune(v as never),
  'deadLetters.prune olderThan': (s, v) => s.deadLetters.prune({ olderThan: v as never }),
  'circuitBreakers.get': (s, v) => s.circuitBreakers.get(v as never),
  'circuitBreakers.reset': (s, v) => s.circuitBreakers.reset(v as never),
  'circuitBreakers.register': (s, v) => s.circuitBreakers.register('breaker', v as never),
  'rateLimits.status kind': (s, v) => s.rateLimits.status(v as never, 'default'),
  'rateLimits.status name': (s, v) => s.rateLimits.status('queues', v as never),
  'errors.classify options': (s, v) => s.errors.classify(new Error('x'), v as never),
  'errors.nextAction attempt': (s, v) => s.errors.nextAction(new Error('x'), v as never),
  'workflows.start': (s, v) => s.workflows.start(v as never),
  'workflows.start context': (s, v) => s.workflows.start('pipeline', v as never),
  'workflows.getState': (s, v) => s.workflows.getState(v as never),
  'workflows.pause': (s, v) => s.workflows.pause(v as never),
  'workflows.resume': (s, v) => s.workflows.resume(v as never),
  'workflows.retry': (s, v) => s.workflows.retry(v as never),
  'workflows.cancel': (s, v) => s.workflows.cancel(v as never),
  'workflows.listRunning': (s, v) => s.workflows.listRunning(v as never),
  'workflows.summary': (s, v) => s.workflows.summary(v as never),
  'workflows.toMermaid': (s, v) => s.workflows.toMermaid(v as never),
  'workflows.scheduleExecution': (s, v) => s.workflows.scheduleExecution('pipeline', v as never),
  every: (s, v) => s.every(v as never),
};

/**
 * Every public call, handed a bad value for one argument or option at a
 * time (BigInt, symbol, function, NaN, NUL, a lone surrogate, an overlong
 * string, a number where a name goes…), either works or rejects with a
 * typed error (a SchedulerError): never a TypeError from inside the
 * library, nor a driver's error, on any store.
 */
describe.each(TEST_STORES)('bad arguments on the $kind store', ({ kind, open }) => {
  let t: TestApp | undefined;
  let store: TestStore | undefined;
  afterEach(async () => {
    await t?.close();
    await store?.drop();
    t = store = undefined;
    vi.restoreAllMocks();
  });

  it('every public call answers a bad argument with a typed error or a result, never a raw one', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    store = await open(`bad_args_${kind}`);
    t = await startApp([Jobs, Pipeline], { ...store.options, queues: { default: 2 } });
    const raw: string[] = [];
    for (const [name, call] of Object.entries(CALLS)) {
      for (const value of [undefined, ...BAD_VALUES]) {
        try {
          await call(t.scheduler, value);
        } catch (error) {
          if (!(error instanceof SchedulerError)) raw.push(`${name}(${labelOf(value)}): ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
        }
      }
    }
    expect(raw).toEqual([]);
  }, 60_000);
});
