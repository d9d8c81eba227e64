import { Injectable } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, SchedulerConfigError, Worker, type JobSkipEvent, type JobWorker, type SchedulerModuleOptions } from '../../lib/index.js';
import { bootstrapError, startApp, type TestApp } from '../support/app.js';
import { rateLimitWorkers } from '../support/rate-limit.workers.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

const { Charge, Email, Report } = rateLimitWorkers('1s');

const range = (n: number) => Array.from({ length: n }, (_, n) => ({ n }));

// The stores whose buckets refill by the module's clock, which the fake clock moves. PostgreSQL's refill by the
// database's clock (docs/rate-limits.md, "How it works"): test/postgres/postgres.rate-limits.e2e.spec.ts covers them.
const MODULE_CLOCK_BUCKETS = TEST_STORES.filter(({ kind }) => kind !== 'postgres');

describe.each(MODULE_CLOCK_BUCKETS)('rate limits on the $kind store', ({ open }) => {
  let t: TestApp;
  let store: TestStore;
  const start = async (options: SchedulerModuleOptions = {}) => {
    // Polls hourly: the runners wake at the next token (and on the notifier), not by polling.
    t = await startApp([Charge, Email, Report], { ...store.options, pollInterval: '1h', queues: { default: 5, billing: 5 }, ...options });
    return t;
  };
  /** Waits (in real time, the clock still) for the runners: on a shared store each claim is a round trip. */
  const until = (done: () => boolean, what: string) => waitFor(async () => (await t.clock.advance(0), done()), 10_000, what);
  beforeEach(async () => {
    store = await open('rate_e2e');
  });
  afterEach(async () => {
    const closing = t?.close();
    await t?.clock.advance('1m');
    await closing;
    await store.drop();
  });

  it('a queue limit starts at most its tokens, then one per refill; held jobs spend no attempt and each is skipped once per wait', async () => {
    await start({ rateLimits: { queues: { billing: { limit: 3, per: '1m' } } } });
    const skips: JobSkipEvent[] = [];
    t.scheduler.on('job:skip', (event) => skips.push(event));
    const charges = await t.scheduler.enqueueMany('charge', range(5));
    await until(() => t.get(Charge).done.length === 3 && skips.length === 2, 'three charges, two held');
    expect(t.get(Charge).done).toEqual([0, 1, 2]);
    expect(skips.map((s) => [s.reason, (s.job!.args as { n: number }).n])).toEqual([
      ['rate_limited', 3],
      ['rate_limited', 4],
    ]);
    await t.clock.advance('5s');
    expect(t.get(Charge).done).toHaveLength(3);
    expect(skips).toHaveLength(2);
    expect(skips.map((s) => [s.job?.id, s.job?.state, s.job?.attempt])).toEqual(charges.slice(3).map((job) => [job.id, 'available', 0]));
    expect(await t.scheduler.queueStats('billing')).toMatchObject({ available: 2, running: 0 });
    // One token every 20 s.
    await t.clock.advance('15s');
    await until(() => t.get(Charge).done.length === 4, 'the first refilled token');
    expect(t.get(Charge).done).toEqual([0, 1, 2, 3]);
    await t.clock.advance('20s');
    await until(() => t.get(Charge).done.length === 5, 'the second refilled token');
    expect(t.get(Charge).done).toEqual([0, 1, 2, 3, 4]);
  });

  it('a limited queue never blocks another queue', async () => {
    await start({ rateLimits: { queues: { billing: { limit: 1, per: '1h' } } } });
    await t.scheduler.enqueueMany('charge', range(3));
    await t.scheduler.enqueueMany('report', range(4));
    await until(() => t.get(Charge).done.length === 1 && t.get(Report).done.length === 4, 'a charge and every report');
    expect(t.get(Charge).done).toEqual([0]);
    expect(t.get(Report).done).toEqual([0, 1, 2, 3]);
  });

  it("a job's own rateLimit holds back only that name: other jobs of its queue run past it", async () => {
    await start();
    await t.scheduler.enqueueMany('email', range(5));
    await t.scheduler.enqueueMany('report', range(3));
    await until(() => t.get(Email).done.length === 2 && t.get(Report).done.length === 3, 'two emails and every report');
    expect(t.get(Email).done).toEqual([0, 1]);
    expect(t.get(Report).done).toEqual([0, 1, 2]);
    await t.clock.advance(500);
    await until(() => t.get(Email).done.length === 3, 'the email of the next token');
    expect(t.get(Email).done).toEqual([0, 1, 2]);
    await t.clock.advance(1000);
    await until(() => t.get(Email).done.length === 5, 'the emails of the next two tokens');
    expect(t.get(Email).done).toEqual([0, 1, 2, 3, 4]);
  });

  it('the global limit counts every queue', async () => {
    await start({ rateLimits: { global: { limit: 4, per: '1m' } } });
    await t.scheduler.enqueueMany('charge', range(3));
    await t.scheduler.enqueueMany('report', range(3));
    await until(() => t.get(Charge).done.length + t.get(Report).done.length >= 4, 'four jobs');
    expect(t.get(Charge).done.length + t.get(Report).done.length).toBe(4);
    expect(await t.scheduler.rateLimits.status('global')).toEqual({ tokens: 0, capacity: 4, refillPerSecond: 4 / 60 });
  });

  it('status() shows the tokens, the capacity and the refill of a bucket', async () => {
    await start({ rateLimits: { queues: { billing: { limit: 10, per: '10s' } }, jobs: { report: { limit: 5, per: '1m' } } } });
    expect(await t.scheduler.rateLimits.status('queues', 'billing')).toEqual({ tokens: 10, capacity: 10, refillPerSecond: 1 });
    await t.scheduler.enqueueMany('charge', range(4));
    await until(() => t.get(Charge).done.length === 4, 'the four charges');
    expect(await t.scheduler.rateLimits.status('queues', 'billing')).toEqual({ tokens: 6, capacity: 10, refillPerSecond: 1 });
    await t.clock.advance(1500);
    expect((await t.scheduler.rateLimits.status('queues', 'billing')).tokens).toBeCloseTo(7.5);
    expect(await t.scheduler.rateLimits.status('jobs', 'email')).toEqual({ tokens: 2, capacity: 2, refillPerSecond: 2 });
    expect(await t.scheduler.rateLimits.status('jobs', 'report')).toMatchObject({ capacity: 5 });
    await expect(t.scheduler.rateLimits.status('queues', 'default')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(t.scheduler.rateLimits.status('global')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(t.scheduler.rateLimits.status('nope' as 'queues', 'x')).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('rate limit options', () => {
  const fails = async (options: SchedulerModuleOptions, option: string) => {
    const error = await bootstrapError([Charge, Email, Report], { queues: { default: 5, billing: 5 }, ...options });
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as SchedulerConfigError).option).toBe(option);
  };

  it.each([
    [{ queues: { billing: { limit: 0, per: '1m' } } }, 'rateLimits.queues.billing.limit'],
    [{ queues: { billing: { limit: 1.5, per: '1m' } } }, 'rateLimits.queues.billing.limit'],
    [{ queues: { billing: { limit: 5 } } }, 'rateLimits.queues.billing.per'],
    [{ queues: { billing: { limit: 5, per: 'soon' } } }, 'rateLimits.queues.billing.per'],
    [{ queues: { billing: { limit: 5, per: 0 } } }, 'rateLimits.queues.billing.per'],
    [{ queues: { elsewhere: { limit: 5, per: '1s' } } }, 'rateLimits.queues.elsewhere'],
    [{ global: 5 }, 'rateLimits.global'],
    [{ workers: {} }, 'rateLimits.workers'],
  ])('refuses rateLimits %j', async (rateLimits, option) => {
    await fails({ rateLimits: rateLimits as SchedulerModuleOptions['rateLimits'] }, option);
  });

  it("refuses a job's own rateLimit given also in rateLimits.jobs (one bucket per name)", async () => {
    await fails({ rateLimits: { jobs: { email: { limit: 1, per: '1s' } } } }, 'rateLimit');
  });

  it("refuses a bad rateLimit in a job's options", async () => {
    @Injectable()
    @Worker({ name: 'bad', rateLimit: { limit: -1, per: '1s' } })
    class Bad implements JobWorker {
      async perform(): Promise<void> {}
    }
    const error = await bootstrapError([Bad]);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as SchedulerConfigError).option).toBe('rateLimit.limit');
  });
});

describe('SchedulerTester.drainQueue under rate limits', () => {
  it('starts only the jobs the buckets hold tokens for; the others once the clock brings their tokens', async () => {
    // enabled: false: nothing claims but the tester, so what starts is what drainQueue started.
    const t = await startApp([Charge, Email, Report], {
      enabled: false,
      queues: { default: 5, billing: 5 },
      rateLimits: { queues: { billing: { limit: 2, per: '1m' } } },
    });
    try {
      await t.scheduler.enqueueMany('charge', range(3));
      await t.scheduler.enqueueMany('email', range(3));
      await t.scheduler.enqueueMany('report', range(3));
      expect((await t.tester.drainQueue()).map((run) => run.outcome)).toEqual(Array(7).fill('completed'));
      expect([t.get(Charge).done, t.get(Email).done, t.get(Report).done]).toEqual([
        [0, 1],
        [0, 1],
        [0, 1, 2],
      ]);
      expect(await t.scheduler.queueStats('billing')).toMatchObject({ available: 1, running: 0 });

      await t.clock.advance(500); // the email bucket gains 2 a second: one token
      await t.tester.drainQueue();
      expect([t.get(Charge).done, t.get(Email).done]).toEqual([
        [0, 1],
        [0, 1, 2],
      ]);
      await t.clock.advance('30s'); // billing gains 2 a minute: one token
      await t.tester.drainQueue();
      expect(t.get(Charge).done).toEqual([0, 1, 2]);
      t.tester.assertCompleted('charge', 3);
    } finally {
      await t.close();
    }
  });
});
