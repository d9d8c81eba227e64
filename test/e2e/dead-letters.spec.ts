import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ClassifiedError,
  InvalidArgumentError,
  JobNotFoundError,
  SchedulerConfigError,
  Worker,
  type DeadLetter,
  type DeadLetterHandler,
  type JobContext,
  type JsonObject,
  type JobWorker,
  type SchedulerEventMap,
  type SchedulerModuleOptions,
} from '../../lib/index.js';
import { bootstrapError, startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

@Worker({ name: 'charge', queue: 'billing', maxRetries: 1, backoff: { type: 'fixed', delay: 1000 } })
class Charge implements JobWorker<{ n: number }> {
  perform(ctx: JobContext<{ n: number }>) {
    throw new Error(`charge ${ctx.args.n} failed`);
  }
}

@Worker({ name: 'sync', maxRetries: 3 })
class Sync implements JobWorker<{ n: number }> {
  perform(ctx: JobContext<{ n: number }>) {
    // Terminal: straight to the dead letters, whatever maxRetries says.
    throw new ClassifiedError(`sync ${ctx.args.n} failed`, 'terminal');
  }
}

/** The `onDeadLetter` provider: records each entry; throws once for jobs whose args say so. */
@Injectable()
class Alerts implements DeadLetterHandler {
  static seen: DeadLetter<unknown>[] = [];
  static thrown = 0;
  handle(entry: DeadLetter<unknown>) {
    Alerts.seen.push(entry);
    if ((entry.args as { flaky?: boolean }).flaky && Alerts.thrown++ === 0) throw new Error('pager down');
  }
}

describe.each(TEST_STORES)('dead letters on the $kind store', ({ open }) => {
  let t: TestApp;
  let store: TestStore;
  const events: { [K in 'deadLetter:insert' | 'deadLetter:retry' | 'deadLetter:prune']: SchedulerEventMap[K][] } = {
    'deadLetter:insert': [],
    'deadLetter:retry': [],
    'deadLetter:prune': [],
  };
  const start = async (options: SchedulerModuleOptions = {}) => {
    // Polls every second (the default), not 200 ms: the fake clock fires each poll of the hours these tests skip,
    // and on SQLite, whose reads end within the turn, every one of them runs (36,000 in 2 h, seconds of real time).
    t = await startApp([Charge, Sync, Alerts], { ...store.options, pollInterval: '1s', queues: { default: 5, billing: 5 }, ...options });
    t.scheduler.on('deadLetter:insert', (payload) => events['deadLetter:insert'].push(payload));
    t.scheduler.on('deadLetter:retry', (payload) => events['deadLetter:retry'].push(payload));
    t.scheduler.on('deadLetter:prune', (payload) => events['deadLetter:prune'].push(payload));
  };
  /** Runs the jobs (and their retries, 1 s apart) until every one is dead. */
  // `byEvent`: a job counts as dead once its deadLetter:insert was seen (the pruner may already have deleted it).
  const untilDead = async (name: string, ids: readonly string[], byEvent = false) => {
    // Bounded by real time, not rounds: on a loaded machine an attempt on PostgreSQL may take many rounds to land.
    for (const until = Date.now() + 20_000; Date.now() < until;) {
      await t.tester.drainQueue();
      const jobs = await t.scheduler.history(name, { limit: 1000 });
      const states = ids.map((id) => jobs.find((job) => job.id === id)?.state);
      const died = new Set(events['deadLetter:insert'].map((e) => e.entry.id));
      if (byEvent ? ids.every((id) => died.has(id)) : states.every((state) => state === 'dead')) return;
      // A retry is due 1 s later; on a shared store an attempt may still be on its way.
      if ((await t.scheduler.runningJobs()).length === 0) await t.clock.advance('1s');
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`jobs ${ids.join(', ')} did not die`);
  };
  /** Enqueues failing jobs and runs them until every one is dead. */
  const kill = async (name: 'charge' | 'sync', args: JsonObject[], byEvent = false) => {
    const ids = (await t.scheduler.enqueueMany(name, args)).map((job) => job.id);
    await untilDead(name, ids, byEvent);
    return ids;
  };

  beforeEach(async () => {
    store = await open('dlq');
  });
  afterEach(async () => {
    await t?.close();
    await store.drop();
  });
  beforeEach(() => {
    for (const list of Object.values(events)) list.length = 0;
    Alerts.seen = [];
    Alerts.thrown = 0;
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('lists entries by queue, name and class, with limit and offset, and counts them in the store', async () => {
    await start();
    const charges = await kill('charge', [{ n: 1 }, { n: 2 }]);
    await t.clock.advance('1m');
    const [sync] = await kill('sync', [{ n: 3 }]);

    const all = await t.scheduler.deadLetters.list();
    expect(all.map((e) => e.id)).toEqual([sync, charges[1], charges[0]]);
    const entry = all.find((e) => e.id === charges[0])!;
    expect(entry).toMatchObject({ name: 'charge', queue: 'billing', args: { n: 1 }, state: 'dead', errorClass: 'retryable', attempts: 2 });
    expect(entry.errors.map((e) => [e.attempt, e.message])).toEqual([
      [1, 'charge 1 failed'],
      [2, 'charge 1 failed'],
    ]);
    expect(entry.firstFailedAt).toEqual(entry.errors[0]!.at);
    expect(entry.lastFailedAt).toEqual(entry.finishedAt);
    // The retry waits its 1 s backoff; the test's clock may have moved on further before it ran.
    expect(entry.lastFailedAt.getTime() - entry.firstFailedAt.getTime()).toBeGreaterThanOrEqual(1000);
    expect(await t.scheduler.deadLetters.get(charges[0]!)).toEqual(entry);

    expect((await t.scheduler.deadLetters.list({ queue: 'billing' })).map((e) => e.id)).toEqual([charges[1], charges[0]]);
    expect((await t.scheduler.deadLetters.list({ name: 'sync' })).map((e) => e.id)).toEqual([sync]);
    expect((await t.scheduler.deadLetters.list({ errorClass: 'retryable', limit: 1, offset: 1 })).map((e) => e.id)).toEqual([charges[0]]);
    expect((await t.scheduler.deadLetters.list({ errorClass: 'terminal' })).map((e) => e.id)).toEqual([sync]);
    expect(await t.scheduler.deadLetters.list({ errorClass: 'unclassified' })).toEqual([]);
    expect(await t.scheduler.deadLetters.stats()).toEqual({
      total: 3,
      byQueue: { billing: 2, default: 1 },
      byName: { charge: 2, sync: 1 },
      byErrorClass: { retryable: 2, terminal: 1 },
    });

    const inserted = events['deadLetter:insert'].map((e) => [e.entry.id, e.entry.attempts, e.entry.errorClass]);
    expect(inserted.sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [charges[0], 2, 'retryable'],
      [charges[1], 2, 'retryable'],
      [sync, 1, 'terminal'],
    ]);
    await expect(t.scheduler.deadLetters.list({ limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(t.scheduler.deadLetters.list({ errorClass: 'fatal' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(t.scheduler.deadLetters.get('999999')).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('retryAll puts back matching dead letters in one store call, oldest first, at most `limit`', async () => {
    await start();
    const charges = await kill('charge', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const [sync] = await kill('sync', [{ n: 4 }]);
    expect(await t.scheduler.deadLetters.retryAll({ queue: 'billing', limit: 2 })).toBe(2);
    expect(events['deadLetter:retry'].map((e) => e.id).sort()).toEqual([charges[0], charges[1]].sort());
    expect(events['deadLetter:retry'][0]).toMatchObject({ name: 'charge', queue: 'billing' });
    expect((await t.scheduler.deadLetters.list()).map((e) => e.id)).toEqual([sync, charges[2]]);
    // They run again (and die again: a fresh set of attempts each).
    await untilDead('charge', [charges[0]!, charges[1]!]);
    expect((await t.scheduler.deadLetters.get(charges[0]!)).attempts).toBe(4);
    expect(await t.scheduler.deadLetters.retryAll({ name: 'sync', errorClass: 'terminal' })).toBe(1);
    expect(await t.scheduler.deadLetters.retryAll({ name: 'nothing' })).toBe(0);
    await expect(t.scheduler.deadLetters.retryAll({ limit: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('prune deletes by age (a duration or a Date), sparing the newest `keep`; delete takes one', async () => {
    await start();
    const old = await kill('sync', [{ n: 1 }, { n: 2 }]);
    await t.clock.advance('2h');
    const recent = await kill('sync', [{ n: 3 }, { n: 4 }]);
    await expect(t.scheduler.deadLetters.prune({})).rejects.toBeInstanceOf(InvalidArgumentError);
    // Older than 1 hour but among the 3 newest: one of the old ones stays.
    expect(await t.scheduler.deadLetters.prune({ olderThan: '1h', keep: 3 })).toBe(1);
    expect((await t.scheduler.deadLetters.list()).map((e) => e.id)).toEqual([recent[1], recent[0], old[1]]);
    expect(await t.scheduler.deadLetters.prune({ olderThan: new Date(t.clock.now() - 3_600_000) })).toBe(1);
    expect(await t.scheduler.deadLetters.prune({ keep: 1 })).toBe(1);
    expect(events['deadLetter:prune']).toEqual([
      { count: 1, by: 'api' },
      { count: 1, by: 'api' },
      { count: 1, by: 'api' },
    ]);
    await t.scheduler.deadLetters.delete(recent[1]!);
    expect(await t.scheduler.deadLetters.stats()).toEqual({ total: 0, byQueue: {}, byName: {}, byErrorClass: {} });
    await expect(t.scheduler.deadLetters.delete(recent[1]!)).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('the pruner enforces deadLetters.maxAge and maxEntries', async () => {
    await start({ deadLetters: { maxAge: '1h', maxEntries: 2 }, retention: { interval: '1m' } });
    await kill('sync', [{ n: 1 }]);
    await t.clock.advance('30m');
    // The pruner may delete job 2 (maxEntries) while 3 and 4 are still dying.
    const kept = await kill('sync', [{ n: 2 }, { n: 3 }, { n: 4 }], true);
    await t.clock.advance('1m');
    // Time moves on while waiting: a pruner pass that found the previous one still running waits for its next interval.
    const prunedTo = async (total: number): Promise<boolean> =>
      (await t.scheduler.deadLetters.stats()).total === total || (await t.clock.advance('10s'), false);
    await waitFor(() => prunedTo(2), 10_000, 'maxEntries');
    expect((await t.scheduler.deadLetters.list()).map((e) => e.id)).toEqual([kept[2], kept[1]]);
    await t.clock.advance('1h');
    await waitFor(() => prunedTo(0), 10_000, 'maxAge');
    // The pruner tells once its delete returned, which on a shared store may be after the stats already show it.
    const pruned = () => events['deadLetter:prune'].reduce((n, e) => n + e.count, 0);
    await waitFor(() => pruned() >= 4, 10_000, 'the prune events');
    expect(events['deadLetter:prune'].every((e) => e.by === 'pruner')).toBe(true);
    expect(pruned()).toBe(4);
    // Three waits of up to 10 s each: on a loaded machine a shared store's pruner passes take real time.
  }, 45_000);

  it('onDeadLetter runs once per dead job, again after it throws', async () => {
    await start({ deadLetters: { onDeadLetter: Alerts } });
    const [flaky, steady] = await kill('sync', [{ n: 1, flaky: true }, { n: 2 }]);
    await t.clock.advance('1s');
    await waitFor(() => Alerts.seen.length === 2, 10_000, 'the first alerts');
    expect(Alerts.seen.map((e) => [e.id, e.errorClass, e.attempts])).toEqual([
      [flaky, 'terminal', 1],
      [steady, 'terminal', 1],
    ]);
    // The throw makes it due again 10 s later. On a shared store the alert's
    // failure is recorded after the handler returned, with "10 s from now" as
    // the fake clock then reads it: time keeps moving while waiting.
    await waitFor(async () => Alerts.seen.length === 3 || (await t.clock.advance('10s'), false), 10_000, 'the retried alert');
    expect(Alerts.seen[2]!.id).toBe(flaky);
    // A later death is told once too; nothing before it comes again.
    await t.clock.advance('5m');
    const [last] = await kill('sync', [{ n: 3 }]);
    await t.clock.advance('1s');
    await waitFor(() => Alerts.seen.some((e) => e.id === last), 10_000, 'the last alert');
    expect(Alerts.seen.map((e) => e.id)).toEqual([flaky, steady, flaky, last]);
  });
});

describe('deadLetters options', () => {
  it('refuse retention.dead together with deadLetters.maxAge, and bad values', async () => {
    expect(await bootstrapError([], { retention: { dead: '7d' }, deadLetters: { maxAge: '30d' } })).toMatchObject({
      option: 'deadLetters.maxAge',
    });
    expect(await bootstrapError([], { deadLetters: { maxEntries: 0 } })).toBeInstanceOf(SchedulerConfigError);
    expect(await bootstrapError([], { deadLetters: { maxAge: 'soon' } })).toMatchObject({ option: 'deadLetters.maxAge' });
    expect(await bootstrapError([], { deadLetters: { onDeadLetter: class NoHandle {} as never } })).toMatchObject({ option: 'deadLetters.onDeadLetter' });
  });
});
