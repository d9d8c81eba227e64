import { Injectable } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, Scheduled, SchedulerConfigError, type JobContext, type SchedulerModuleOptions, type UniqueOptions } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { bootstrapError, startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';

const ONE_PER_USER_PER_HOUR: UniqueOptions = { by: { args: ['userId'] }, states: ['scheduled', 'available', 'running', 'completed'], period: '1h' };

@Injectable()
class Sync {
  runs: unknown[] = [];
  @Scheduled({ name: 'sync-user', unique: ONE_PER_USER_PER_HOUR })
  run(ctx: JobContext) {
    this.runs.push(ctx.args);
  }
  @Scheduled({ name: 'report' })
  report(ctx: JobContext) {
    this.runs.push(ctx.args);
  }
}

describe.each(TEST_STORES)('unique jobs on the $kind store', ({ open }) => {
  let store: TestStore;
  let t: TestApp;
  let skips: string[];
  beforeEach(async () => {
    store = await open('unique_e2e');
    const options: SchedulerModuleOptions = { ...store.options, pollInterval: '1h' };
    // The fake clock starts now: the PostgreSQL store dates what it does not take from the clock by its own.
    t = await startApp([Sync], options, new FakeClock(new Date(Math.ceil(Date.now() / 60_000) * 60_000)));
    skips = [];
    t.scheduler.on('job:skip', (e) => skips.push(`${e.reason}:${e.job?.id ?? '-'}`));
    await t.scheduler.pauseQueue('default');
  });
  afterEach(async () => {
    await t.close();
    await store.drop();
  });

  it('by chosen argument keys, in chosen states, for a period: a duplicate comes back with duplicate: true and job:skip', async () => {
    const first = await t.scheduler.enqueue('sync-user', { userId: 1, page: 1 });
    const again = await t.scheduler.enqueue('sync-user', { userId: 1, page: 2 });
    const other = await t.scheduler.enqueue('sync-user', { userId: 2, page: 1 });
    expect([first.duplicate, again.duplicate, other.duplicate]).toEqual([false, true, false]);
    expect(again).toMatchObject({ id: first.id, args: { userId: 1, page: 1 } });
    expect(skips).toEqual([`unique:${first.id}`]);

    // Completed, the job still blocks for the rest of the hour ('completed' is among the states).
    await t.scheduler.resumeQueue('default');
    await t.tester.drainQueue();
    expect(t.get(Sync).runs).toHaveLength(2);
    const afterRun = await t.scheduler.enqueue('sync-user', { userId: 1 });
    expect(afterRun).toMatchObject({ duplicate: true, id: first.id, state: 'completed' });

    // An hour after its insert it no longer does.
    await t.scheduler.pauseQueue('default');
    await t.clock.advance('1h');
    const nextHour = await t.scheduler.enqueue('sync-user', { userId: 1 });
    expect(nextHour.duplicate).toBe(false);
    expect(nextHour.id).not.toBe(first.id);
  });

  it("takes a call's own unique over the handler's, and checks it", async () => {
    const first = await t.scheduler.enqueue('sync-user', { userId: 1 });
    expect((await t.scheduler.enqueue('sync-user', { userId: 1 }, { unique: false })).duplicate).toBe(false);
    const keyed = await t.scheduler.enqueue('sync-user', { userId: 1 }, { unique: 'nightly' });
    expect((await t.scheduler.enqueue('report', { any: 1 }, { unique: 'nightly' })).id).toBe(keyed.id);
    // By queue alone: one job of any name per queue.
    const perQueue = await t.scheduler.enqueue('report', { n: 1 }, { unique: { by: 'queue' } });
    const sameQueue = await t.scheduler.enqueue('sync-user', { n: 2 }, { unique: { by: 'queue' } });
    expect([perQueue.duplicate, sameQueue.duplicate, sameQueue.id === perQueue.id]).toEqual([false, true, true]);
    await expect(t.scheduler.enqueue('report', {}, { unique: { by: 'nope' } as unknown as UniqueOptions })).rejects.toMatchObject({
      argument: 'unique.by',
    });
    await expect(t.scheduler.enqueue('report', {}, { unique: { period: '-1s' } })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(t.scheduler.enqueue('report', [1], { unique: { by: { args: ['id'] } } })).rejects.toMatchObject({ argument: 'unique.by' });
    expect(await t.scheduler.enqueue('sync-user', { userId: 1 })).toMatchObject({ duplicate: true, id: first.id });
  });

  it('enqueueMany: the first of a batch takes the key, later ones are its duplicates', async () => {
    const jobs = await t.scheduler.enqueueMany('sync-user', [{ userId: 7, n: 1 }, { userId: 8 }, { userId: 7, n: 2 }]);
    expect(jobs.map((j) => j.duplicate)).toEqual([false, false, true]);
    expect(jobs[2]).toMatchObject({ id: jobs[0]!.id, args: { userId: 7, n: 1 } });
    expect(skips).toEqual([`unique:${jobs[0]!.id}`]);
  });

  it('a runtime schedule stores a unique object: a run whose job would be a duplicate is skipped (reason unique)', async () => {
    await t.scheduler.insert({ name: 'sync-9', handler: 'report', every: '1m', args: { userId: 9 }, unique: { by: { args: ['userId'] } } });
    const run = await t.scheduler.runNow('sync-9');
    const again = await t.scheduler.runNow('sync-9');
    expect([run.duplicate, again.duplicate, again.id === run.id]).toEqual([false, true, true]);
    const queued = await t.scheduler.enqueue('report', { userId: 9, via: 'enqueue' }, { unique: { by: { args: ['userId'] } } });
    expect(queued).toMatchObject({ duplicate: true, id: run.id });
    expect(skips).toEqual([`unique:${run.id}`, `unique:${run.id}`]);
    expect((await t.scheduler.all()).find((j) => j.name === 'sync-9')).toBeDefined();
    // runNow with other arguments: the key is made of those.
    expect((await t.scheduler.runNow('sync-9', { userId: 10 })).duplicate).toBe(false);
  });
});

describe('unique options at bootstrap', () => {
  it('refuses a bad unique object on a decorator with a typed error naming the option', async () => {
    @Injectable()
    class Bad {
      @Scheduled({ name: 'bad', unique: { states: ['queued'] } as unknown as UniqueOptions })
      run() {}
    }
    const error = await bootstrapError([Bad]);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as SchedulerConfigError).option).toBe('unique.states');
  });

  it("refuses overlap: 'skip' with a unique object (a tick holds one key)", async () => {
    @Injectable()
    class Both {
      @Scheduled({ name: 'both', every: '1m', overlap: 'skip', unique: { by: 'name' } })
      run() {}
    }
    expect(await bootstrapError([Both])).toMatchObject({ option: 'overlap' });
  });
});
