import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, PayloadTooLargeError, Scheduled, SchedulerConfigError, type JobContext, type JsonObject } from '../../lib/index.js';
import { resolveOptions } from '../../lib/scheduler.options.js';
import { startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

@Injectable()
class Work {
  runs: unknown[] = [];
  @Scheduled({ name: 'work' })
  run(ctx: JobContext) {
    this.runs.push(ctx.args);
  }
}

describe.each(TEST_STORES)('bad input through the service, on the $kind store: a typed error, nothing stored', ({ kind, open }) => {
  let t: TestApp;
  let store: TestStore | null = null;
  /** Jobs of the start-up probe, all completed before a test starts. */
  let probeJobs = 0;
  const defaultQueue = async () => (await t.scheduler.queueStats()).find((q) => q.queue === 'default')!;

  const start = async (maxPayloadBytes?: number): Promise<TestApp> => {
    store = await open('in', { maxPayloadBytes });
    t = await startApp([Work], { ...store.options, pollInterval: '1h' });
    // Ticks are planned by the leader; on a shared store the lease is taken,
    // and the schedules loaded, through the store. A schedule inserted while they
    // load is not planned (see the report of this change), so a probe
    // schedule runs once first.
    await waitFor(() => t.scheduler.isLeader(), 5_000, 'leadership');
    await t.scheduler.insert({ name: 'probe', handler: 'work', every: '1m' });
    await untilRan();
    await t.scheduler.delete('probe');
    // On a slow database a second probe tick may have been planned, and an
    // acknowledgement lands after its handler returned: let every probe job
    // finish, and count them, before the test starts.
    await t.tester.drainQueue();
    await waitFor(
      async () => {
        const stats = await defaultQueue();
        return stats.available === 0 && stats.running === 0 && stats.scheduled === 0;
      },
      5_000,
      'the probe jobs to finish',
    );
    probeJobs = (await defaultQueue()).completed;
    t.get(Work).runs = [];
    return t;
  };

  beforeEach(() => vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(async () => {
    await t?.close();
    await store?.drop();
    store = null;
    vi.restoreAllMocks();
  });

  /** Nothing was stored: no job of any state, and nothing runs. */
  const expectNothingStored = async (): Promise<void> => {
    // The completed jobs are the start-up probe's.
    expect(await defaultQueue()).toMatchObject({ available: 0, scheduled: 0, running: 0, completed: probeJobs, dead: 0 });
    expect((await t.tester.drainQueue()).filter((run) => run.job.schedule !== 'probe')).toEqual([]);
    expect(t.get(Work).runs).toEqual([]);
  };

  /**
   * Moves time a minute at a time until a schedule's tick has run. On a
   * shared store, loading the schedules, inserting the tick and the runner's
   * claim go through the store: each step gives that real I/O a moment (the
   * fake clock would otherwise run far ahead of it), not scheduler time.
   */
  const untilRan = async (): Promise<void> => {
    for (let i = 0; i < 30 && t.get(Work).runs.length === 0; i++) {
      await t.clock.advance('1m');
      await t.tester.drainQueue();
      if (kind !== 'memory') await waitFor(() => t.get(Work).runs.length > 0, 300).catch(() => undefined);
    }
  };

  const refusal = async (call: Promise<unknown>, argument: string): Promise<void> => {
    await expect(call).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(call).rejects.toMatchObject({ argument });
  };

  it('enqueue, enqueueAt and enqueueMany refuse what a store cannot keep, naming the field', async () => {
    await start();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await refusal(t.scheduler.enqueue('work', { s: 'a\u0000' }), 'args');
    await refusal(t.scheduler.enqueue('work', { s: 'lone \uD800' }), 'args');
    await refusal(t.scheduler.enqueue('work', { ['\uDC00']: 1 }), 'args');
    await refusal(t.scheduler.enqueue('work', { n: 1n } as never), 'args');
    await refusal(t.scheduler.enqueue('work', {}, { unique: 'key \uD800' }), 'uniqueKey');
    await refusal(t.scheduler.enqueue('work', {}, { unique: 'k'.repeat(3_000) }), 'uniqueKey');
    await refusal(t.scheduler.enqueue('work', {}, { meta: { s: '\u0000' } }), 'meta');
    await refusal(t.scheduler.enqueue('work', {}, { meta: cyclic as JsonObject }), 'meta');
    await refusal(t.scheduler.enqueue('work', {}, { meta: { n: 2n } as never }), 'meta');
    await refusal(t.scheduler.enqueue('work', {}, { tags: ['t'.repeat(201)] }), 'tags');
    await refusal(t.scheduler.enqueue('work', {}, { runAt: new Date('+010000-01-01T00:00:00.000Z') }), 'runAt');
    await refusal(t.scheduler.enqueue('work', {}, { delay: 10_000 * 365 * 86_400_000 }), 'runAt');
    await refusal(t.scheduler.enqueueAt('work', {}, new Date('+010000-01-01T00:00:00.000Z')), 'date');
    await refusal(t.scheduler.enqueueAt('work', {}, new Date('-000001-06-01T00:00:00.000Z')), 'date');
    const batch = t.scheduler.enqueueMany('work', [{ n: 1 }, { n: 2 }, { s: 'bad\uDBFF' }]);
    await refusal(batch, 'args');
    await expect(batch).rejects.toThrow(/job 3 of 3/);
    await expectNothingStored();
  });

  it('refuses a runtime schedule whose args are over the payload limit, or unstorable, at insert and update: no tick ever fails', async () => {
    await start(1_000);
    const big = { s: 'x'.repeat(1_000) };
    const insert = t.scheduler.insert({ name: 'big', handler: 'work', every: '1m', args: big });
    await expect(insert).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(insert).rejects.toMatchObject({ field: 'args', limit: 1_000 });
    await refusal(t.scheduler.insert({ name: 'nul', handler: 'work', every: '1m', args: { s: '\u0000' } }), 'args');
    await refusal(t.scheduler.insert({ name: 'lone', handler: 'work', every: '1m', meta: { s: '\uD800' } }), 'meta');
    await refusal(t.scheduler.insert({ name: 'tags', handler: 'work', every: '1m', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }), 'tags');
    await refusal(t.scheduler.insert({ name: 'far', handler: 'work', at: new Date('+010000-01-01T00:00:00.000Z') }), 'at');
    await refusal(t.scheduler.insert({ name: 'far', handler: 'work', at: '9999-12-31T23:00:00-05:00' }), 'at');
    await refusal(t.scheduler.insert({ name: 'lone\uD800', handler: 'work', every: '1m' }), 'name');
    expect((await t.scheduler.all()).map((j) => j.name)).toEqual(['work']);

    await t.scheduler.insert({ name: 'small', handler: 'work', every: '1m', args: { n: 1 } });
    await expect(t.scheduler.update('small', { args: big })).rejects.toBeInstanceOf(PayloadTooLargeError);
    await untilRan();
    // Every tick ran with the args kept (on a slow database more than one minute may pass before a run is seen).
    expect(t.get(Work).runs.length).toBeGreaterThan(0);
    expect(new Set(t.get(Work).runs.map((args) => JSON.stringify(args)))).toEqual(new Set(['{"n":1}']));
  });

  it('a raised payload limit holds for enqueue: args over 1 MiB are accepted and run, args over it refused', async () => {
    await start(2 * 1_048_576);
    const args = { s: 'x'.repeat(1_500_000) };
    await t.scheduler.enqueue('work', args);
    await untilRan();
    expect(t.get(Work).runs).toEqual([args]);
    await expect(t.scheduler.enqueue('work', { s: 'x'.repeat(2_100_000) })).rejects.toThrow(PayloadTooLargeError);
  });

  it('a raised payload limit holds for runtime schedules: args over 1 MiB are planned and run', async () => {
    await start(2 * 1_048_576);
    const args = { s: 'x'.repeat(1_500_000) };
    await t.scheduler.insert({ name: 'large', handler: 'work', every: '1m', args });
    await untilRan();
    expect(t.get(Work).runs.length).toBeGreaterThan(0);
    expect(t.get(Work).runs.every((run) => JSON.stringify(run) === JSON.stringify(args))).toBe(true);
  });
});

describe('payload limit option', () => {
  it.each([0, 1.5, 16 * 1_048_576 + 1])('refuses maxPayloadBytes %s at module options, on every store', (maxPayloadBytes) => {
    expect(() => resolveOptions({ store: { type: 'memory', maxPayloadBytes } })).toThrow(SchedulerConfigError);
    expect(() => resolveOptions({ store: { type: 'postgres', url: 'postgres://x', maxPayloadBytes } })).toThrow(/store\.maxPayloadBytes/);
    expect(() => resolveOptions({ store: { type: 'sqlite', path: 'jobs.db', maxPayloadBytes } })).toThrow(/store\.maxPayloadBytes/);
    expect(() => resolveOptions({ store: { type: 'redis', url: 'redis://x', maxPayloadBytes } })).toThrow(/store\.maxPayloadBytes/);
  });

  it('accepts up to 16 MiB', () => {
    expect(() => resolveOptions({ store: { type: 'memory', maxPayloadBytes: 16 * 1_048_576 } })).not.toThrow();
  });
});
