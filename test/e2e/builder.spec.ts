import { Injectable } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { every, InvalidArgumentError, on, Scheduled, SchedulerConfigError, Worker, type JobContext } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { bootstrapError, startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

const iso = (d: Date) => d.toISOString();
// Monday 2026-12-07, 08:58 in Paris (UTC+1).
const MONDAY = new Date('2026-12-07T07:58:00Z');

@Injectable()
class Decorated {
  window: string[] = [];
  daily: string[] = [];
  hourly: string[] = [];
  @Scheduled(every(5).minutes().between('09:00', '09:20').weekdays().timezone('Europe/Paris'))
  inWindow(ctx: JobContext) {
    this.window.push(iso(ctx.scheduledAt));
  }
  @Scheduled(on('mon', 'thu').at('09:30').timezone('Europe/Paris').withoutOverlapping(), { name: 'monday-report', queue: 'default' })
  report(ctx: JobContext) {
    this.daily.push(iso(ctx.scheduledAt));
  }
  @Scheduled(every().hour().runOnStart())
  warm(ctx: JobContext) {
    this.hourly.push(iso(ctx.scheduledAt));
  }
}

describe('schedule builder in decorators (fake clock)', () => {
  it('ticks in the window, on the days, in the zone; runOnStart runs once at registration', async () => {
    const t = await startApp([Decorated], {}, new FakeClock(MONDAY));
    await t.clock.advance('40m');
    await t.tester.drainQueue();
    const jobs = t.get(Decorated);
    expect(jobs.window).toEqual(['08:00', '08:05', '08:10', '08:15'].map((s) => `2026-12-07T${s}:00.000Z`));
    expect(jobs.daily).toEqual(['2026-12-07T08:30:00.000Z']);
    expect(jobs.hourly).toEqual(['2026-12-07T07:58:00.000Z', '2026-12-07T08:00:00.000Z']);
    const info = await t.scheduler.getJob('monday-report');
    expect(info).toMatchObject({ kind: 'cron', overlap: 'skip', schedule: { kind: 'cron', cron: '30 9 * * 1,4', tz: 'Europe/Paris', overlap: 'skip' } });
    expect(info.description).toBe(on('mon', 'thu').at('09:30').timezone('Europe/Paris').withoutOverlapping().describe());
    expect(info.description).toContain('clock-aligned: cron "30 9 * * 1,4"');
    await t.close();
  });

  it('refuses at bootstrap a decorated rule that counts from a start it does not have, and a policy that contradicts the builder', async () => {
    @Injectable()
    class Unanchored {
      @Scheduled(every(7).minutes())
      run() {}
    }
    const error = await bootstrapError([Unanchored]);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as Error).message).toMatch(/Unanchored\.run.*startAt/);

    @Injectable()
    class Contradiction {
      @Scheduled(every(5).minutes().withoutOverlapping(), { overlap: 'allow' })
      run() {}
    }
    expect(await bootstrapError([Contradiction])).toBeInstanceOf(SchedulerConfigError);
  });
});

describe('schedule builder at runtime: update and refusals (memory)', () => {
  it('update() swaps in another builder; a bad spec or a contradicting option is refused', async () => {
    const t = await startApp([Report], {}, new FakeClock(MONDAY));
    await t.scheduler.insert({ name: 'r', handler: 'report', schedule: every(7).minutes() });
    const updated = await t.scheduler.update('r', { schedule: every().day().at('10:30pm').timezone('Europe/Paris') });
    expect(updated).toMatchObject({
      kind: 'cron',
      schedule: { kind: 'cron', cron: '30 22 * * *', tz: 'Europe/Paris' },
      nextRunAt: new Date('2026-12-07T21:30:00Z'),
    });
    await expect(t.scheduler.insert({ name: 'x', handler: 'report', schedule: { kind: 'hourly' } as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(t.scheduler.insert({ name: 'x', handler: 'report', schedule: every(5).minutes(), cron: '* * * * *' })).rejects.toThrow(/cron/);
    await expect(t.scheduler.insert({ name: 'x', handler: 'report', schedule: every(5).minutes().withoutOverlapping(), overlap: 'allow' })).rejects.toThrow(
      /withoutOverlapping/,
    );
    await expect(t.scheduler.every(5).minutes().do('x', 'nope')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await t.scheduler.all()).map((j) => j.name)).not.toContain('x');
    await t.close();
  });
});

@Injectable()
class Report {
  runs: string[] = [];
  @Scheduled({ name: 'report' })
  run(ctx: JobContext) {
    this.runs.push(`${ctx.schedule} ${iso(ctx.scheduledAt)}`);
  }
}

@Worker({ name: 'ping' })
class Ping {
  runs: string[] = [];
  perform(ctx: JobContext) {
    this.runs.push(`${ctx.schedule} ${iso(ctx.scheduledAt)}`);
  }
}

/**
 * Waits until `done`, firing the fake clock's due timers on every poll: on a
 * networked store the loop may set its next timer only after an `advance`
 * returned, while the store answered.
 */
function settle(t: TestApp, done: () => boolean, what: string): Promise<void> {
  return waitFor(
    async () => {
      await t.clock.advance(0);
      return done();
    },
    10_000,
    what,
  );
}

describe.each(TEST_STORES)('schedule builder at runtime on the $kind store', ({ kind, open }) => {
  let store: TestStore;
  let t: TestApp | undefined;
  beforeEach(async () => {
    store = await open('builder_e2e');
  });
  afterEach(async () => {
    await t?.close();
    await store.drop();
  });

  it('inserts a builder and scheduler.every().do(), stores the spec, and reads it back after a restart', async () => {
    t = await startApp([Report, Ping], store.options, new FakeClock(MONDAY));
    await t.tester.leading();
    const info = await t.scheduler.insert({
      name: 'every-7',
      handler: 'report',
      schedule: every(7).minutes().between('09:00', '17:00').timezone('Europe/Paris').runOnStart(),
    });
    // "From registration" is fixed at the insert, so every node and restart agrees.
    const stored = { kind: 'interval', everyMs: 420_000, anchor: iso(MONDAY), tz: 'Europe/Paris', window: { between: ['09:00', '17:00'] }, runOnStart: true };
    expect(info).toMatchObject({ origin: 'runtime', kind: 'every', schedule: stored, nextRunAt: new Date('2026-12-07T08:05:00Z') });
    const done = await t.scheduler.every(5).minutes().withoutOverlapping().do('healthcheck', Ping);
    expect(done).toMatchObject({ name: 'healthcheck', handler: 'ping', overlap: 'skip', schedule: { kind: 'cron', cron: '*/5 * * * *', overlap: 'skip' } });

    // runOnStart: one run at the insert (07:58Z). Anchored at 07:58Z, but 09:00 Paris
    // (08:00Z) opens the window: 08:05 is the first tick.
    // Step by step: a tick that finds the previous run still queued is skipped (withoutOverlapping).
    await t.clock.advance('2m');
    await settle(t, () => t!.get(Ping).runs.length === 1 && t!.get(Report).runs.length === 1, 'the start run and the 08:00 tick');
    await t.clock.advance('6m');
    await settle(t, () => t!.get(Report).runs.length === 2 && t!.get(Ping).runs.length === 2, 'the 08:05 ticks');
    expect(t.get(Report).runs).toEqual(['every-7 2026-12-07T07:58:00.000Z', 'every-7 2026-12-07T08:05:00.000Z']);
    expect(t.get(Ping).runs).toEqual(['healthcheck 2026-12-07T08:00:00.000Z', 'healthcheck 2026-12-07T08:05:00.000Z']);
    await t.close();
    t = undefined;
    if (kind === 'memory') return; // nothing outlives the process

    // A second process on the same store loads both specs from it and plans their next ticks
    // (and no second start run: the schedule was registered once).
    t = await startApp([Report, Ping], store.options, new FakeClock(new Date('2026-12-07T08:06:00Z')));
    await t.tester.leading();
    expect(await t.scheduler.getJob('every-7')).toMatchObject({ schedule: stored, nextRunAt: new Date('2026-12-07T08:12:00Z') });
    expect((await t.scheduler.getJob('healthcheck')).schedule).toEqual({ kind: 'cron', cron: '*/5 * * * *', tz: 'Etc/UTC', overlap: 'skip' });
    await t.clock.advance('6m');
    await settle(t, () => t!.get(Report).runs.length === 1 && t!.get(Ping).runs.length === 1, 'ticks after the restart');
    expect(t.get(Report).runs).toEqual(['every-7 2026-12-07T08:12:00.000Z']);
    expect(t.get(Ping).runs).toEqual(['healthcheck 2026-12-07T08:10:00.000Z']);
  });
});
