import { Injectable, type Provider } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Scheduled, type JobContext, type JobSkipEvent, type SchedulerModuleOptions } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { T0, startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

const iso = (d: Date) => d.toISOString();

describe('scheduling (fake clock)', () => {
  it('runs a seconds-level cron on each tick', async () => {
    @Injectable()
    class Jobs {
      at: string[] = [];
      @Scheduled({ cron: '*/15 * * * * *' })
      run(ctx: JobContext) {
        this.at.push(iso(ctx.scheduledAt));
      }
    }
    const t = await startApp([Jobs]);
    await t.clock.advance('1m');
    await t.tester.drainQueue();
    expect(t.get(Jobs).at).toEqual(['00:00:15', '00:00:30', '00:00:45', '00:01:00'].map((s) => `2026-01-01T${s}.000Z`));
    await t.close();
  });

  it("runs a zoned cron at the zone's wall-clock time", async () => {
    @Injectable()
    class Jobs {
      at: string[] = [];
      @Scheduled({ cron: '0 6 * * *', zone: 'America/New_York' })
      run(ctx: JobContext) {
        this.at.push(iso(ctx.scheduledAt));
      }
    }
    const t = await startApp([Jobs]);
    await t.clock.advance('2d');
    await t.tester.drainQueue();
    expect(t.get(Jobs).at).toEqual(['2026-01-01T11:00:00.000Z', '2026-01-02T11:00:00.000Z']);
    await t.close();
  });

  it('aligns `every` ticks to the epoch, not to boot time', async () => {
    @Injectable()
    class Jobs {
      at: string[] = [];
      @Scheduled({ every: '5m' })
      run(ctx: JobContext) {
        this.at.push(iso(ctx.scheduledAt));
      }
    }
    const t = await startApp([Jobs], {}, new FakeClock(new Date('2026-01-01T00:03:17Z')));
    await t.clock.advance('10m');
    await t.tester.drainQueue();
    expect(t.get(Jobs).at).toEqual(['2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z']);
    await t.close();
  });

  it('runs an `at` job once, and @reboot once at start', async () => {
    @Injectable()
    class Jobs {
      runs: string[] = [];
      @Scheduled({ at: '2026-01-01T00:30:00Z' })
      once(ctx: JobContext) {
        this.runs.push(`once ${iso(ctx.scheduledAt)}`);
      }
      @Scheduled({ cron: '@reboot' })
      warm() {
        this.runs.push('reboot');
      }
    }
    const t = await startApp([Jobs]);
    await t.tester.drainQueue();
    expect(t.get(Jobs).runs).toEqual(['reboot']);
    await t.clock.advance('2h');
    await t.tester.drainQueue();
    expect(t.get(Jobs).runs).toEqual(['reboot', 'once 2026-01-01T00:30:00.000Z']);
    expect((await t.scheduler.getJob('Jobs.once')).nextRunAt).toBeNull();
    await t.close();
  });

  it('uses one timer for 10,000 schedules', async () => {
    const providers = [];
    @Injectable()
    class Many {
      count = 0;
      @Scheduled({ name: 'handler' })
      run() {
        this.count++;
      }
    }
    providers.push(Many);
    const t = await startApp(providers, { queues: { default: 50 } });
    for (let i = 0; i < 10_000; i++) {
      await t.scheduler.insert({ name: `s${i}`, handler: 'handler', every: `${(i % 50) + 10}s` });
    }
    // One loop timer (planner, plugins, queue wake-ups), whatever the number of
    // schedules, and the heartbeat's own (it never waits behind the loop).
    expect(t.clock.pendingTimers).toBe(2);
    await t.clock.advance('10s');
    await t.tester.drainQueue();
    expect(t.get(Many).count).toBe(countDue(10_000, 10));
    await t.close();
  }, 60_000);

  describe('overlap', () => {
    function slowJobs(options: object) {
      @Injectable()
      class Slow {
        started = 0;
        release: (() => void)[] = [];
        @Scheduled({ every: '1m', name: 'slow', ...options })
        run() {
          this.started++;
          return new Promise<void>((resolve) => this.release.push(resolve));
        }
      }
      return Slow;
    }

    async function ticksWhileRunning(options: object) {
      const Slow = slowJobs(options);
      const t = await startApp([Slow]);
      const skips: JobSkipEvent[] = [];
      t.scheduler.on('job:skip', (e) => skips.push(e));
      await t.clock.advance('3m');
      const slow = t.get(Slow);
      const startedWhileFirstRuns = slow.started;
      while (slow.release.length) {
        slow.release.shift()!();
        await t.clock.advance(0);
      }
      const runs = await t.tester.drainQueue();
      await t.close();
      return { startedWhileFirstRuns, total: slow.started, skips, runs };
    }

    it('skip (unique: true): no new run while one is running', async () => {
      const r = await ticksWhileRunning({ unique: true });
      expect(r.startedWhileFirstRuns).toBe(1);
      expect(r.total).toBe(1);
      expect(r.skips.map((s) => s.reason)).toEqual(['overlap', 'overlap']);
    });

    it('bufferOne: one run waits behind the running one; they never overlap', async () => {
      const r = await ticksWhileRunning({ overlap: 'bufferOne' });
      expect(r.startedWhileFirstRuns).toBe(1);
      expect(r.total).toBe(2);
      expect(r.skips).toHaveLength(1);
    });

    it('allow: every tick runs', async () => {
      const r = await ticksWhileRunning({ overlap: 'allow' });
      expect(r.startedWhileFirstRuns).toBe(3);
      expect(r.skips).toHaveLength(0);
    });
  });
});

/** What a restart finds in the store: each store keeps how far every schedule was planned. */
describe.each(TEST_STORES)('scheduling across restarts on the $kind store (fake clock)', ({ open }) => {
  let store: TestStore;
  const apps: TestApp[] = [];
  beforeEach(async () => {
    store = await open('restarts_e2e');
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await store.drop();
  });
  /** Boots a node on the test's store and waits until it plans (on a shared store it takes the lease first). */
  const boot = async (providers: Provider[], clock: FakeClock, options: SchedulerModuleOptions = {}) => {
    // Polls hourly: the store's notifier wakes the runners, and the fake clock would fire every poll of the hours skipped.
    const t = await startApp(providers, { ...store.options, pollInterval: '1h', ...options }, clock);
    apps.push(t);
    await t.tester.leading();
    return t;
  };
  const stop = async (t: TestApp) => {
    apps.splice(apps.indexOf(t), 1);
    await t.close();
  };
  /** Drains (in real time, the clock still) until `done`: on a shared store the planner's inserts and the runners' claims are store round trips. */
  const drainedUntil = (t: TestApp, done: () => boolean) => waitFor(async () => (await t.tester.drainQueue(), done()), 10_000, 'the runs');

  describe('misfires (ticks missed while no node ran)', () => {
    @Injectable()
    class Hourly {
      runs: { at: string; misfired: boolean }[] = [];
      @Scheduled({ cron: '0 * * * *', name: 'hourly' })
      run(ctx: JobContext) {
        this.runs.push({ at: iso(ctx.scheduledAt), misfired: ctx.misfired });
      }
    }
    @Injectable()
    class HourlySkip {
      runs: string[] = [];
      @Scheduled({ cron: '0 * * * *', name: 'hourly', misfire: 'skip' })
      run(ctx: JobContext) {
        this.runs.push(iso(ctx.scheduledAt));
      }
    }
    @Injectable()
    class HourlyCatchUp {
      runs: { at: string; misfired: boolean }[] = [];
      @Scheduled({ cron: '0 * * * *', name: 'hourly', misfire: { catchUp: '3h' } })
      run(ctx: JobContext) {
        this.runs.push({ at: iso(ctx.scheduledAt), misfired: ctx.misfired });
      }
    }

    /** Boots once (records the schedule), stops, lets 5h30m pass with no node up, boots again on the same store and drains until `runs` ran. */
    async function afterOutage(type: new () => { runs: unknown[] }, runs: number) {
      const clock = new FakeClock(T0);
      await stop(await boot([type], clock));
      await clock.advance('5h30m');
      const second = await boot([type], clock);
      await drainedUntil(second, () => second.get(type).runs.length >= runs);
      return second;
    }

    it('runOnce (default): one run for all missed ticks, flagged misfired', async () => {
      const t = await afterOutage(Hourly, 1);
      expect(t.get(Hourly).runs).toEqual([{ at: '2026-01-01T05:00:00.000Z', misfired: true }]);
      await t.clock.advance('30m');
      await drainedUntil(t, () => t.get(Hourly).runs.length > 1);
      expect(t.get(Hourly).runs[1]).toEqual({ at: '2026-01-01T06:00:00.000Z', misfired: false });
    });

    it('skip: no run for missed ticks; the next tick runs as usual', async () => {
      const t = await afterOutage(HourlySkip, 0);
      expect(t.get(HourlySkip).runs).toEqual([]);
      await t.clock.advance('30m');
      // A missed tick run would have been planned at the start, before this one.
      await drainedUntil(t, () => t.get(HourlySkip).runs.length > 0);
      expect(t.get(HourlySkip).runs).toEqual(['2026-01-01T06:00:00.000Z']);
    });

    it('catchUp: one run per missed tick within the window', async () => {
      const t = await afterOutage(HourlyCatchUp, 3);
      expect(t.get(HourlyCatchUp).runs).toEqual(['03', '04', '05'].map((h) => ({ at: `2026-01-01T${h}:00:00.000Z`, misfired: true })));
    });

    it('a tick late by less than misfireThreshold just runs late', async () => {
      const clock = new FakeClock(new Date('2026-01-01T00:59:00Z'));
      await stop(await boot([Hourly], clock));
      await clock.advance('1m30s');
      const second = await boot([Hourly], clock);
      await drainedUntil(second, () => second.get(Hourly).runs.length > 0);
      expect(second.get(Hourly).runs).toEqual([{ at: '2026-01-01T01:00:00.000Z', misfired: false }]);
    });
  });

  it('plans each tick once: a restart does not plan a tick again', async () => {
    @Injectable()
    class Jobs {
      count = 0;
      @Scheduled({ every: '1m', name: 'minute' })
      run() {
        this.count++;
      }
    }
    const clock = new FakeClock(T0);
    const first = await boot([Jobs], clock);
    await clock.advance('1m');
    await drainedUntil(first, () => first.get(Jobs).count === 1);
    await stop(first);
    const second = await boot([Jobs], clock);
    await second.tester.drainQueue();
    expect(first.get(Jobs).count + second.get(Jobs).count).toBe(1);
    const ticks = await second.scheduler.history('minute', { limit: 100 });
    expect(ticks.map((j) => j.tickKey)).toEqual(['minute@2026-01-01T00:01:00.000Z']);
  });

  it('one drainQueue after an advance runs the ticks due on the way, though the loop was busy with store round trips meanwhile', async () => {
    @Injectable()
    class Quarter {
      runs: string[] = [];
      @Scheduled({ cron: '*/15 * * * *', name: 'quarter' })
      run(ctx: JobContext) {
        this.runs.push(iso(ctx.scheduledAt));
      }
    }
    const clock = new FakeClock(new Date('2026-01-05T10:55:00Z'));
    // The default poll (1 s): the loop's periodic tasks make store round trips all through the advance, and the
    // loop, busy when the tick came, arms its timer for it once they answer, after the advance returned.
    const t = await boot([Quarter], clock, { pollInterval: '1s' });
    await clock.advance('5m');
    await t.tester.drainQueue();
    expect(t.get(Quarter).runs).toEqual(['2026-01-05T11:00:00.000Z']);
    await clock.advance('15m');
    await t.tester.drainQueue();
    expect(t.get(Quarter).runs).toEqual(['2026-01-05T11:00:00.000Z', '2026-01-05T11:15:00.000Z']);
    t.tester.assertCompleted('quarter', 2);
  });
});

/** How many ticks `n` schedules with intervals of 10 s..59 s (epoch-aligned) have in the `seconds` after T0. */
function countDue(n: number, seconds: number): number {
  const t0 = T0.getTime() / 1000;
  let due = 0;
  for (let i = 0; i < n; i++) {
    const every = (i % 50) + 10;
    due += Math.floor((t0 + seconds) / every) - Math.floor(t0 / every);
  }
  return due;
}
