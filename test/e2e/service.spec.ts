import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DuplicateJobError,
  InvalidArgumentError,
  JobNotFoundError,
  PayloadTooLargeError,
  QueueNotFoundError,
  Scheduled,
  Worker,
  type JobContext,
  type JobWorker,
} from '../../lib/index.js';
import { startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

@Injectable()
class Reports {
  runs: { name: string | null; args: unknown; at: string }[] = [];
  @Scheduled({ name: 'report', queue: 'reports' })
  run(ctx: JobContext) {
    this.runs.push({ name: ctx.schedule, args: ctx.args, at: ctx.scheduledAt.toISOString() });
    return 'ok';
  }
  @Scheduled({ name: 'nightly', cron: '0 3 * * *', unique: true })
  nightly() {}
}

@Worker({ name: 'fragile', maxRetries: 0 })
class Fragile implements JobWorker<{ fail: boolean }> {
  perform(ctx: JobContext<{ fail: boolean }>) {
    if (ctx.args.fail) throw new Error('fragile failed');
    return 'fine';
  }
}

@Injectable()
class Blocking {
  release: (() => void)[] = [];
  @Scheduled({ name: 'blocking' })
  run(ctx: JobContext) {
    return new Promise<void>((resolve) => {
      this.release.push(resolve);
      ctx.signal.addEventListener('abort', () => resolve());
    });
  }
}

describe.each(TEST_STORES)('SchedulerService on the $kind store', ({ open }) => {
  let store: TestStore;
  let t: TestApp;
  /** Waits (in real time, the clock still) for what a shared store does in the background; the memory store is done at once. */
  const until = (done: () => boolean | Promise<boolean>, what: string) => waitFor(async () => (await t.clock.advance(0), done()), 10_000, what);
  /** Drains until `done`: on a shared store the runners, and the loop that plans ticks, may still be on their way (a store round trip each). */
  const drainedUntil = (done: () => boolean | Promise<boolean>, what: string) => until(async () => (await t.tester.drainQueue(), done()), what);
  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    store = await open('service_e2e');
    // Polls hourly: the fake clock fires every poll of the hours these tests skip; the store's notifier wakes the runners.
    t = await startApp([Reports, Fragile, Blocking], { ...store.options, pollInterval: '1h', queues: { default: 5, reports: 2 } });
    await t.tester.leading();
  });
  afterEach(async () => {
    await t.close();
    await store.drop();
    vi.restoreAllMocks();
  });

  describe('runtime schedules', () => {
    it('insert / update / delete a schedule that names a registered handler', async () => {
      const info = await t.scheduler.insert({ name: 'hourly-report', handler: 'report', every: '1h', args: { scope: 'all' }, priority: 2 });
      expect(info).toMatchObject({ name: 'hourly-report', handler: 'report', origin: 'runtime', kind: 'every', every: '1h', queue: 'reports', priority: 2 });
      expect(info.nextRunAt?.toISOString()).toBe('2026-01-01T01:00:00.000Z');
      await t.clock.advance('1h');
      await drainedUntil(() => t.get(Reports).runs.length > 0, 'the first tick');
      expect(t.get(Reports).runs).toEqual([{ name: 'hourly-report', args: { scope: 'all' }, at: '2026-01-01T01:00:00.000Z' }]);

      const updated = await t.scheduler.update('hourly-report', { cron: '*/30 * * * *' });
      expect(updated).toMatchObject({ kind: 'cron', cron: '*/30 * * * *', priority: 2 });
      await t.clock.advance('30m');
      await drainedUntil(() => t.get(Reports).runs.length > 1, 'the tick of the new cron');
      expect(t.get(Reports).runs.map((r) => r.at)).toEqual(['2026-01-01T01:00:00.000Z', '2026-01-01T01:30:00.000Z']);

      await t.scheduler.delete('hourly-report');
      await expect(t.scheduler.getJob('hourly-report')).rejects.toBeInstanceOf(JobNotFoundError);
      await t.clock.advance('2h');
      // Once nightly's 03:00 tick ran, the planner has passed every tick of those two hours.
      await drainedUntil(async () => (await t.scheduler.status('nightly')).lastOutcome === 'completed', 'the 03:00 tick of nightly');
      expect(t.get(Reports).runs).toHaveLength(2);
      // Nothing of the deleted schedule is left to run (nightly's own run may still be reported, its ack racing the status read).
      expect((await t.tester.drainQueue()).filter((run) => run.job.schedule === 'hourly-report')).toEqual([]);
    });

    it('rejects bad schedules with typed errors and changes nothing', async () => {
      const before = await t.scheduler.all();
      await expect(t.scheduler.insert({ name: 'x', handler: 'nope', every: '1m' })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.insert({ name: 'x', handler: 'report', cron: 'not cron' })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.insert({ name: 'x', handler: 'report', every: '1m', priority: 12 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.insert({ name: 'x', handler: 'report' })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.insert({ name: 'x', handler: 'report', at: '2020-01-01T00:00:00Z' })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.insert({ name: 'report', handler: 'report', every: '1m' })).rejects.toBeInstanceOf(DuplicateJobError);
      await expect(t.scheduler.update('nightly', { cron: '0 4 * * *' })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.delete('missing')).rejects.toBeInstanceOf(JobNotFoundError);
      expect(await t.scheduler.all()).toEqual(before);
    });

    it('all() and getJob() describe decorated jobs and handlers', async () => {
      const all = await t.scheduler.all();
      expect(all.map((j) => `${j.name}:${j.kind}`).sort()).toEqual(['blocking:queued', 'fragile:queued', 'nightly:cron', 'report:queued']);
      expect(await t.scheduler.getJob('nightly')).toMatchObject({ overlap: 'skip', nextRunAt: new Date('2026-01-01T03:00:00Z'), paused: false });
    });
  });

  describe('job control', () => {
    it('pauseJob stops ticks and queued runs; resumeJob starts them again', async () => {
      const skips: string[] = [];
      t.scheduler.on('job:skip', (e) => skips.push(e.reason));
      await t.scheduler.pauseJob('report');
      await t.scheduler.enqueue('report', {});
      await t.clock.advance('1s');
      expect(t.get(Reports).runs).toEqual([]);
      expect((await t.scheduler.getJob('report')).paused).toBe(true);
      await t.scheduler.resumeJob('report');
      await drainedUntil(() => t.get(Reports).runs.length > 0, 'the resumed job');
      expect(t.get(Reports).runs).toHaveLength(1);

      await t.scheduler.pauseJob('nightly');
      await t.clock.advance('3h');
      await until(() => skips.length > 0, 'the 03:00 tick to be skipped');
      expect(skips).toEqual(['paused']);
      expect(await t.scheduler.history('nightly')).toEqual([]);
    });

    it('runNow runs a schedule or handler at once', async () => {
      const job = await t.scheduler.runNow('nightly');
      expect(job.schedule).toBe('nightly');
      await drainedUntil(async () => (await t.scheduler.history('nightly')).length > 0, 'the nightly run');
      expect((await t.scheduler.status('nightly')).lastOutcome).toBe('completed');
      await t.scheduler.runNow('report', { manual: true });
      await drainedUntil(() => t.get(Reports).runs.length > 0, 'the report run');
      expect(t.get(Reports).runs[0]!.args).toEqual({ manual: true });
    });

    it('cancelJob aborts a running job (reason cancel) and cancels queued ones', async () => {
      const cancels: string[] = [];
      t.scheduler.on('job:cancel', (e) => cancels.push(`${e.job.id}:${e.reason}`));
      const running = await t.scheduler.enqueue('blocking');
      await until(() => t.get(Blocking).release.length === 1, 'the blocking job to start');
      expect((await t.scheduler.runningJobs()).map((j) => j.id)).toEqual([running.id]);
      const queued = await t.scheduler.enqueue('blocking', {}, { delay: '1h' });
      expect(await t.scheduler.cancelJob(running.id)).toBe(1);
      // The running job is cancelled once its handler returned (on a shared store, a round trip later).
      await until(() => cancels.length === 1, 'the running job to end cancelled');
      expect(await t.scheduler.runningJobs()).toEqual([]);
      expect(await t.scheduler.cancelJob('blocking', { reason: 'user asked' })).toBe(1);
      expect(cancels.sort()).toEqual([`${queued.id}:user asked`, `${running.id}:cancelled`].sort());
      const history = await t.scheduler.history('blocking');
      expect(history.map((j) => j.state)).toEqual(['cancelled', 'cancelled']);
      expect(await t.scheduler.cancelJob('blocking')).toBe(0);
      await expect(t.scheduler.cancelJob('no-such-thing')).rejects.toBeInstanceOf(JobNotFoundError);
    });
  });

  describe('enqueue', () => {
    it('honours delay, runAt, priority, queue, maxRetries and unique keys', async () => {
      const delayed = await t.scheduler.enqueue('report', { n: 1 }, { delay: '10m' });
      expect(delayed.runAt.toISOString()).toBe('2026-01-01T00:10:00.000Z');
      const at = await t.scheduler.enqueueAt('report', { n: 2 }, new Date('2026-01-01T00:05:00Z'), { priority: 4 });
      expect(at).toMatchObject({ priority: 4, queue: 'reports' });
      const other = await t.scheduler.enqueue('report', { n: 3 }, { queue: 'default', maxRetries: 7 });
      expect(other).toMatchObject({ queue: 'default', maxAttempts: 8 });
      const first = await t.scheduler.enqueue('report', { n: 4 }, { unique: 'report:4', delay: '1h' });
      const second = await t.scheduler.enqueue('report', { n: 4 }, { unique: 'report:4' });
      expect(second).toMatchObject({ id: first.id, duplicate: true });
      const u1 = await t.scheduler.enqueue('report', { n: 5 }, { unique: true, delay: '1h' });
      const u2 = await t.scheduler.enqueue('report', { n: 5 }, { unique: true });
      const u3 = await t.scheduler.enqueue('report', { n: 6 }, { unique: true, delay: '1h' });
      expect(u2.id).toBe(u1.id);
      expect(u3.id).not.toBe(u1.id);
      await t.clock.advance('9m');
      await drainedUntil(() => t.get(Reports).runs.length === 2, 'the jobs due by then');
      expect(
        t
          .get(Reports)
          .runs.map((r) => (r.args as { n: number }).n)
          .sort((a, b) => a - b),
      ).toEqual([2, 3]);
      await t.clock.advance('1m');
      await drainedUntil(() => t.get(Reports).runs.length === 3, 'the delayed job');
      expect(
        t
          .get(Reports)
          .runs.map((r) => (r.args as { n: number }).n)
          .sort((a, b) => a - b),
      ).toEqual([1, 2, 3]);
    });

    it('enqueueMany inserts every job in one call', async () => {
      const jobs = await t.scheduler.enqueueMany('report', [{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect(jobs.map((j) => j.args)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      await drainedUntil(() => t.get(Reports).runs.length >= 3, 'the three jobs');
      expect(t.get(Reports).runs).toHaveLength(3);
    });

    it('rejects bad calls with typed errors and stores nothing', async () => {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expect(t.scheduler.enqueue('missing')).rejects.toBeInstanceOf(JobNotFoundError);
      await expect(t.scheduler.enqueue('report', circular as never)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.enqueue('report', { big: 'x'.repeat(1024 * 1024) })).rejects.toBeInstanceOf(PayloadTooLargeError);
      await expect(t.scheduler.enqueue('report', {}, { priority: 10 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.enqueue('report', {}, { queue: 'nope' })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.enqueue('report', {}, { delay: 'soon' })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.enqueue('report', {}, { delay: '1m', runAt: new Date() })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.enqueue('report', {}, { maxRetries: -2 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.enqueueAt('report', {}, new Date('nope'))).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.enqueueMany('report', [{ ok: 1 }, circular as never])).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await t.scheduler.queueStats()).toEqual(expect.arrayContaining([expect.objectContaining({ queue: 'reports', available: 0, scheduled: 0 })]));
      expect(await t.tester.drainQueue()).toEqual([]);
    });
  });

  describe('monitoring', () => {
    it('history, status and queueStats', async () => {
      await t.scheduler.enqueueMany('fragile', [{ fail: false }, { fail: true }]);
      await t.scheduler.enqueue('fragile', { fail: false }, { delay: '1h' });
      await drainedUntil(async () => (await t.scheduler.history('fragile')).length === 2, 'the two due jobs');
      const history = await t.scheduler.history('fragile');
      expect(history.map((j) => j.state).sort()).toEqual(['completed', 'dead']);
      expect(await t.scheduler.history('fragile', { limit: 1 })).toHaveLength(1);
      const status = await t.scheduler.status('fragile');
      expect(status).toMatchObject({ name: 'fragile', running: 0, queued: 1, paused: false });
      expect(['completed', 'dead']).toContain(status.lastOutcome);
      const stats = await t.scheduler.queueStats('default');
      expect(stats).toMatchObject({ queue: 'default', concurrency: 5, completed: 1, dead: 1, scheduled: 1, available: 0 });
      await expect(t.scheduler.queueStats('nope')).rejects.toBeInstanceOf(QueueNotFoundError);
      await expect(t.scheduler.pauseQueue('nope')).rejects.toBeInstanceOf(QueueNotFoundError);
      await expect(t.scheduler.scaleQueue('default', 0)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(t.scheduler.history('nope')).rejects.toBeInstanceOf(JobNotFoundError);
    });

    it('leadership and health', async () => {
      expect(t.scheduler.isLeader()).toBe(true);
      expect(await t.scheduler.leaderNode()).toBe((await t.scheduler.healthCheck()).node);
      const health = await t.scheduler.healthCheck();
      expect(health).toMatchObject({ status: 'up', leader: true, enabled: true, store: { status: 'up' } });
      expect(health.queues.map((q) => q.queue).sort()).toEqual(['default', 'reports']);
    });
  });

  describe('dead letters', () => {
    it('list, get, stats, retry, retryAll, delete and prune dead jobs', async () => {
      const dead = async (total: number) => (await t.scheduler.deadLetters.stats()).total === total;
      const [a, b, c] = await t.scheduler.enqueueMany('fragile', [{ fail: true }, { fail: true }, { fail: true }]);
      await drainedUntil(() => dead(3), 'three dead jobs');
      expect((await t.scheduler.deadLetters.list()).map((j) => j.id).sort()).toEqual([a!.id, b!.id, c!.id].sort());
      expect((await t.scheduler.deadLetters.get(a!.id)).errors[0]!.message).toBe('fragile failed');
      expect(await t.scheduler.deadLetters.stats()).toEqual({ total: 3, byQueue: { default: 3 }, byName: { fragile: 3 }, byErrorClass: { retryable: 3 } });
      const retried = await t.scheduler.deadLetters.retry(a!.id);
      expect(retried.state).toBe('available');
      await drainedUntil(() => dead(3), 'the retried job to die again');
      expect((await t.scheduler.deadLetters.get(a!.id)).attempt).toBe(2);
      await t.scheduler.deadLetters.delete(b!.id);
      await expect(t.scheduler.deadLetters.get(b!.id)).rejects.toBeInstanceOf(JobNotFoundError);
      expect(await t.scheduler.deadLetters.retryAll({ name: 'fragile' })).toBe(2);
      // Each dies again, after the backoff of any retry it gets (time moves 10 s a round, once the due jobs ran).
      await until(async () => (await t.tester.drainQueue(), await dead(2)) || (await t.clock.advance('10s'), false), 'the retried jobs to die again');
      // On a shared store the last one may have died at this very instant: prune before the next.
      await t.clock.advance('1s');
      expect(await t.scheduler.deadLetters.prune({ before: new Date(t.clock.now()) })).toBe(2);
      expect(await t.scheduler.deadLetters.list()).toEqual([]);
      await expect(t.scheduler.deadLetters.retry('999')).rejects.toBeInstanceOf(JobNotFoundError);
    });
  });
});

describe('peer: false', () => {
  it('never becomes leader, so it plans no ticks, but still runs enqueued jobs', async () => {
    const t = await startApp([Reports], { peer: false, queues: { default: 1, reports: 1 } });
    expect(t.scheduler.isLeader()).toBe(false);
    expect(await t.scheduler.leaderNode()).toBeNull();
    await t.clock.advance('1d');
    expect(await t.scheduler.history('nightly')).toEqual([]);
    await t.scheduler.enqueue('report');
    await t.tester.drainQueue();
    expect(t.get(Reports).runs).toHaveLength(1);
    await t.close();
  });
});

describe('enabled: false', () => {
  it('registers and enqueues, but runs nothing until a test drains by hand', async () => {
    const t = await startApp([Reports], { enabled: false, queues: { default: 1, reports: 1 } });
    await t.scheduler.enqueue('report', { by: 'hand' });
    await t.clock.advance('1d');
    expect(t.get(Reports).runs).toEqual([]);
    const runs = await t.tester.drainQueue('reports');
    expect(runs.map((r) => r.outcome)).toEqual(['completed']);
    expect(t.get(Reports).runs[0]!.args).toEqual({ by: 'hand' });
    t.tester.assertCompleted('report', 1);
    t.tester.assertNotRun('nightly');
    expect(() => t.tester.assertNotRun('report')).toThrow();
    expect(() => t.tester.assertCompleted('nightly')).toThrow('expected nightly to complete at least once, it completed 0 time(s)');
    expect(() => t.tester.assertCompleted('report', 2)).toThrow('expected report to complete 2 time(s), it completed 1 time(s)');
    expect(() => t.tester.assertCompleted('report', -1)).toThrow(InvalidArgumentError);
    await expect(t.tester.leading(Number.NaN)).rejects.toThrow(InvalidArgumentError);
    await t.close();
  });
});
