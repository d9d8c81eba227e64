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

describe('SchedulerService', () => {
  let t: TestApp;
  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    t = await startApp([Reports, Fragile, Blocking], { queues: { default: 5, reports: 2 } });
  });
  afterEach(async () => {
    await t.close();
    vi.restoreAllMocks();
  });

  describe('runtime schedules', () => {
    it('insert / update / delete a schedule that names a registered handler', async () => {
      const info = await t.scheduler.insert({ name: 'hourly-report', handler: 'report', every: '1h', args: { scope: 'all' }, priority: 2 });
      expect(info).toMatchObject({ name: 'hourly-report', handler: 'report', origin: 'runtime', kind: 'every', every: '1h', queue: 'reports', priority: 2 });
      expect(info.nextRunAt?.toISOString()).toBe('2026-01-01T01:00:00.000Z');
      await t.clock.advance('1h');
      await t.tester.drainQueue();
      expect(t.get(Reports).runs).toEqual([{ name: 'hourly-report', args: { scope: 'all' }, at: '2026-01-01T01:00:00.000Z' }]);

      const updated = await t.scheduler.update('hourly-report', { cron: '*/30 * * * *' });
      expect(updated).toMatchObject({ kind: 'cron', cron: '*/30 * * * *', priority: 2 });
      await t.clock.advance('30m');
      await t.tester.drainQueue();
      expect(t.get(Reports).runs.map((r) => r.at)).toEqual(['2026-01-01T01:00:00.000Z', '2026-01-01T01:30:00.000Z']);

      await t.scheduler.delete('hourly-report');
      await expect(t.scheduler.getJob('hourly-report')).rejects.toBeInstanceOf(JobNotFoundError);
      await t.clock.advance('2h');
      await t.tester.drainQueue();
      expect(t.get(Reports).runs).toHaveLength(2);
      expect(await t.tester.drainQueue()).toEqual([]);
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
      await t.tester.drainQueue();
      expect(t.get(Reports).runs).toHaveLength(1);

      await t.scheduler.pauseJob('nightly');
      await t.clock.advance('3h');
      expect(skips).toEqual(['paused']);
      expect(await t.scheduler.history('nightly')).toEqual([]);
    });

    it('runNow runs a schedule or handler at once', async () => {
      const job = await t.scheduler.runNow('nightly');
      expect(job.schedule).toBe('nightly');
      await t.tester.drainQueue();
      expect((await t.scheduler.status('nightly')).lastOutcome).toBe('completed');
      await t.scheduler.runNow('report', { manual: true });
      await t.tester.drainQueue();
      expect(t.get(Reports).runs[0]!.args).toEqual({ manual: true });
    });

    it('cancelJob aborts a running job (reason cancel) and cancels queued ones', async () => {
      const cancels: string[] = [];
      t.scheduler.on('job:cancel', (e) => cancels.push(`${e.job.id}:${e.reason}`));
      const running = await t.scheduler.enqueue('blocking');
      await t.clock.advance(0);
      expect((await t.scheduler.runningJobs()).map((j) => j.id)).toEqual([running.id]);
      const queued = await t.scheduler.enqueue('blocking', {}, { delay: '1h' });
      expect(await t.scheduler.cancelJob(running.id)).toBe(1);
      await t.clock.advance(0);
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
      await t.tester.drainQueue();
      expect(
        t
          .get(Reports)
          .runs.map((r) => (r.args as { n: number }).n)
          .sort((a, b) => a - b),
      ).toEqual([2, 3]);
      await t.clock.advance('1m');
      await t.tester.drainQueue();
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
      await t.tester.drainQueue();
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
      await t.tester.drainQueue();
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
      const [a, b, c] = await t.scheduler.enqueueMany('fragile', [{ fail: true }, { fail: true }, { fail: true }]);
      await t.tester.drainQueue();
      expect((await t.scheduler.deadLetters.list()).map((j) => j.id).sort()).toEqual([a!.id, b!.id, c!.id].sort());
      expect((await t.scheduler.deadLetters.get(a!.id)).errors[0]!.message).toBe('fragile failed');
      expect(await t.scheduler.deadLetters.stats()).toEqual({ total: 3, byQueue: { default: 3 }, byName: { fragile: 3 }, byErrorClass: { unclassified: 3 } });
      const retried = await t.scheduler.deadLetters.retry(a!.id);
      expect(retried.state).toBe('available');
      await t.tester.drainQueue();
      expect((await t.scheduler.deadLetters.get(a!.id)).attempt).toBe(2);
      await t.scheduler.deadLetters.delete(b!.id);
      await expect(t.scheduler.deadLetters.get(b!.id)).rejects.toBeInstanceOf(JobNotFoundError);
      expect(await t.scheduler.deadLetters.retryAll({ name: 'fragile' })).toBe(2);
      await t.tester.drainQueue();
      await t.clock.advance('1m');
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
    await t.close();
  });
});
