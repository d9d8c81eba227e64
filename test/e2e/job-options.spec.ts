import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  InvalidArgumentError,
  MemoryStore,
  Scheduled,
  SchedulerConfigError,
  Worker,
  type JobContext,
  type JobWorker,
  type RuntimeScheduleInput,
} from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { bootstrapError, startApp, T0, type TestApp } from '../support/app.js';

/** Always fails; its own backoff (1 s) is not what the runtime schedules below ask for. */
@Injectable()
class Flaky {
  attempts: string[] = [];
  @Scheduled({ name: 'flaky', backoff: '1s', maxRetries: 5 })
  run(ctx: JobContext) {
    this.attempts.push(`${ctx.schedule}#${ctx.attempt}`);
    throw new Error('flaky failed');
  }
}

/** Records what each run saw; its own options differ from every one a schedule below sets. */
@Injectable()
class Probe {
  seen: { schedule: string | null; queue: string; maxAttempts: number; tags: string[]; meta: object; args: unknown }[] = [];
  @Scheduled({ name: 'probe', queue: 'default', priority: 7, timeout: '1h', maxRetries: 4, tags: ['handler'], meta: { from: 'handler' } })
  run(ctx: JobContext) {
    this.seen.push({ schedule: ctx.schedule, queue: ctx.queue, maxAttempts: ctx.maxAttempts, tags: [...ctx.tags], meta: { ...ctx.meta }, args: ctx.args });
  }
}

/** Runs until released (or aborted). */
@Injectable()
class Slow {
  started = 0;
  release: (() => void)[] = [];
  @Scheduled({ name: 'slow' })
  run(ctx: JobContext) {
    this.started++;
    return new Promise<void>((resolve) => {
      this.release.push(resolve);
      ctx.signal.addEventListener('abort', () => resolve());
    });
  }
}

describe('job options', () => {
  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  describe("a runtime schedule's options apply to the jobs it plans", () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await startApp([Flaky, Probe, Slow], { queues: { default: 5, reports: 2 } });
    });
    afterEach(async () => {
      t.get(Slow).release.forEach((release) => release());
      await t.close();
    });

    /** `nextRunAt` of every failed attempt (null once dead). */
    function retries(): (string | null)[] {
      const out: (string | null)[] = [];
      t.scheduler.on('job:exception', (e) => out.push(e.nextRunAt?.toISOString() ?? null));
      return out;
    }

    it('its backoff (a duration) decides when a failed run is retried, not the handler’s', async () => {
      const next = retries();
      await t.scheduler.insert({ name: 'hourly-flaky', handler: 'flaky', every: '1h', backoff: '10m', maxRetries: 1 });
      await t.clock.advance('1h');
      await t.tester.drainQueue();
      expect(next).toEqual(['2026-01-01T01:10:00.000Z']);
      await t.clock.advance('9m');
      await t.tester.drainQueue();
      expect(t.get(Flaky).attempts).toEqual(['hourly-flaky#1']);
      await t.clock.advance('1m');
      await t.tester.drainQueue();
      expect(t.get(Flaky).attempts).toEqual(['hourly-flaky#1', 'hourly-flaky#2']);
      expect(next).toEqual(['2026-01-01T01:10:00.000Z', null]);
    });

    it('the handler’s own backoff still applies to its enqueued jobs and to schedules that set none', async () => {
      const next = retries();
      await t.scheduler.insert({ name: 'plain', handler: 'flaky', at: '2026-01-01T00:30:00Z', maxRetries: 1 });
      await t.clock.advance('30m');
      await t.tester.drainQueue();
      await t.scheduler.enqueue('flaky', {}, { maxRetries: 1 });
      await t.tester.drainQueue();
      expect(next).toEqual(['2026-01-01T00:30:01.000Z', '2026-01-01T00:30:01.000Z']);
    });

    it('an update changes the backoff of the retries still to come', async () => {
      const next = retries();
      await t.scheduler.insert({ name: 'hourly-flaky', handler: 'flaky', every: '1h', backoff: '10m', maxRetries: 2 });
      await t.clock.advance('1h');
      await t.tester.drainQueue();
      await t.scheduler.update('hourly-flaky', { backoff: { type: 'fixed', delay: '20m' } });
      await t.clock.advance('10m');
      await t.tester.drainQueue();
      expect(next).toEqual(['2026-01-01T01:10:00.000Z', '2026-01-01T01:30:00.000Z']);
    });

    it('queue, priority, timeout, maxRetries, tags, meta and args are the schedule’s', async () => {
      await t.scheduler.insert({
        name: 'probe-reports',
        handler: 'probe',
        every: '1h',
        queue: 'reports',
        priority: 2,
        timeout: '30s',
        maxRetries: 0,
        tags: ['runtime'],
        meta: { from: 'schedule' },
        args: { n: 1 },
      });
      await t.clock.advance('1h');
      await t.tester.drainQueue();
      expect(t.get(Probe).seen).toEqual([
        { schedule: 'probe-reports', queue: 'reports', maxAttempts: 1, tags: ['runtime'], meta: expect.objectContaining({ from: 'schedule' }), args: { n: 1 } },
      ]);
      const [job] = await t.scheduler.history('probe-reports');
      expect(job).toMatchObject({ queue: 'reports', priority: 2, timeout: 30_000, maxAttempts: 1, state: 'completed' });
    });

    it('unique: true skips a tick while the previous run is still running', async () => {
      const skips: string[] = [];
      t.scheduler.on('job:skip', (e) => skips.push(`${e.schedule}:${e.reason}`));
      await t.scheduler.insert({ name: 'slow-unique', handler: 'slow', every: '1m', unique: true });
      await t.clock.advance('1m');
      await t.clock.advance('1m');
      expect(t.get(Slow).started).toBe(1);
      expect(skips).toEqual(['slow-unique:overlap']);
    });

    it('a unique object on a schedule holds each tick to its key: a tick whose job would be a duplicate is skipped (reason unique)', async () => {
      const skips: string[] = [];
      t.scheduler.on('job:skip', (e) => skips.push(`${e.schedule}:${e.reason}`));
      await t.scheduler.insert({ name: 'slow-keyed', handler: 'slow', every: '1m', unique: { by: 'name', states: ['running'] } });
      expect((await t.scheduler.getJob('slow-keyed'))?.overlap).toBe('allow');
      await t.clock.advance('1m');
      await t.clock.advance('1m');
      expect(t.get(Slow).started).toBe(1);
      expect(skips).toEqual(['slow-keyed:unique']);
    });

    it('refuses a backoff it cannot store or honour with a typed error, and stores nothing', async () => {
      const before = await t.scheduler.all();
      const attempt = async (backoff: unknown) => {
        const input = { name: 'x', handler: 'flaky', every: '1h', backoff } as RuntimeScheduleInput;
        return t.scheduler.insert(input).then(
          () => 'accepted',
          (error: unknown) => (error instanceof InvalidArgumentError ? error.argument : String(error)),
        );
      };
      expect(await attempt((n: number) => n * 1_000)).toBe('backoff');
      expect(await attempt({ type: 'linear', delay: '1s' })).toBe('backoff.type');
      expect(await attempt({ type: 'fixed', delay: '1s', factor: 2 })).toBe('backoff.factor');
      expect(await attempt('soon')).toBe('backoff');
      await expect(t.scheduler.insert({ name: 'x', handler: 'flaky', every: '1h', backoff: (() => 1) as never })).rejects.toThrow(
        /a function cannot be stored/,
      );
      expect(await t.scheduler.all()).toEqual(before);
    });
  });

  it('a runtime schedule’s declarative backoff is stored: another node (or a restart) retries by it', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    const first = await startApp([Flaky], { store }, clock);
    await first.scheduler.insert({
      name: 'hourly-flaky',
      handler: 'flaky',
      every: '1h',
      maxRetries: 2,
      backoff: { type: 'exponential', delay: '2m', factor: 3 },
    });
    await first.close();

    const second = await startApp([Flaky], { store }, clock);
    const next: (string | null)[] = [];
    second.scheduler.on('job:exception', (e) => next.push(e.nextRunAt?.toISOString() ?? null));
    await clock.advance('1h');
    await second.tester.drainQueue();
    await clock.advance('2m');
    await second.tester.drainQueue();
    await clock.advance('6m');
    await second.tester.drainQueue();
    expect(second.get(Flaky).attempts).toEqual(['hourly-flaky#1', 'hourly-flaky#2', 'hourly-flaky#3']);
    expect(next).toEqual(['2026-01-01T01:02:00.000Z', '2026-01-01T01:08:00.000Z', null]);
    await second.close();
  });

  describe('options that only act on a schedule stop bootstrap on a handler without one', () => {
    const cases: [string, () => unknown, string, string][] = [
      [
        '@Scheduled with overlap',
        () => {
          @Injectable()
          class Reports {
            @Scheduled({ name: 'report', overlap: 'skip' })
            run() {}
          }
          return Reports;
        },
        'Reports.run',
        'overlap',
      ],
      [
        '@Scheduled with misfire',
        () => {
          @Injectable()
          class Reports {
            @Scheduled({ misfire: { catchUp: '1h' } })
            run() {}
          }
          return Reports;
        },
        'Reports.run',
        'misfire',
      ],
      [
        '@Worker with misfire',
        () => {
          @Worker({ name: 'export', misfire: 'skip' })
          class ExportWorker implements JobWorker {
            perform() {}
          }
          return ExportWorker;
        },
        'ExportWorker',
        'misfire',
      ],
      [
        '@reboot with overlap',
        () => {
          @Injectable()
          class Warmup {
            @Scheduled({ cron: '@reboot', overlap: 'bufferOne' })
            caches() {}
          }
          return Warmup;
        },
        'Warmup.caches',
        'overlap',
      ],
    ];
    for (const [what, define, source, option] of cases) {
      it(`${what}: a SchedulerConfigError naming ${source} and the option`, async () => {
        const error = await bootstrapError([define() as never]);
        expect(error).toBeInstanceOf(SchedulerConfigError);
        expect((error as SchedulerConfigError).source).toBe(source);
        expect((error as SchedulerConfigError).option).toBe(option);
        expect((error as Error).message).toMatch(/schedule|@reboot/);
      });
    }
  });

  it('unique: true on a handler without a schedule dedupes its enqueued jobs by name and arguments', async () => {
    @Injectable()
    class Exports {
      runs: unknown[] = [];
      @Scheduled({ name: 'export', unique: true })
      run(ctx: JobContext) {
        this.runs.push(ctx.args);
      }
    }
    const t = await startApp([Exports]);
    await t.scheduler.pauseQueue('default');
    const skips: string[] = [];
    t.scheduler.on('job:skip', (e) => skips.push(e.reason));
    const first = await t.scheduler.enqueue('export', { day: 1 });
    const again = await t.scheduler.enqueue('export', { day: 1 });
    const other = await t.scheduler.enqueue('export', { day: 2 });
    const forced = await t.scheduler.enqueue('export', { day: 1 }, { unique: false });
    expect([first.duplicate, again.duplicate, other.duplicate, forced.duplicate]).toEqual([false, true, false, false]);
    expect(again.id).toBe(first.id);
    expect(skips).toEqual(['unique']);
    const batch = await t.scheduler.enqueueMany('export', [{ day: 2 }, { day: 3 }]);
    expect(batch.map((j) => j.duplicate)).toEqual([true, false]);
    await t.scheduler.resumeQueue('default');
    await t.tester.drainQueue();
    expect(t.get(Exports).runs).toHaveLength(4);
    // Finished jobs hold no key: the same arguments can be enqueued again.
    expect((await t.scheduler.enqueue('export', { day: 1 })).duplicate).toBe(false);
    await t.close();
  });

  it('unique: true on a scheduled handler dedupes its enqueued jobs as well as its ticks', async () => {
    @Injectable()
    class Sync {
      @Scheduled({ name: 'sync', every: '1h', unique: true })
      run() {}
    }
    const t = await startApp([Sync]);
    await t.scheduler.pauseQueue('default');
    const first = await t.scheduler.enqueue('sync', { full: true });
    const again = await t.scheduler.enqueue('sync', { full: true });
    expect([first.duplicate, again.duplicate, again.id === first.id]).toEqual([false, true, true]);
    await t.close();
  });
});
