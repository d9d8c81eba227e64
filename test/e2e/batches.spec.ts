import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BatchFailedError,
  BatchWorker,
  InvalidBatchPageError,
  RetryItemError,
  SchedulerConfigError,
  type BatchContext,
  type BatchJob,
  type BatchPage,
  type BatchResult,
  type SchedulerModuleOptions,
} from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { MemoryStore } from '../../lib/store/memory.store.js';
import { waitFor } from '../support/wait.js';
import { bootstrapError, startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';

/** The run's input: `count` numbered items; `failing` always throw, `flaky` throw on their first two calls, `crashAt` makes the first attempt's fetch of that cursor throw. */
interface Input {
  count: number;
  failing?: number[];
  flaky?: number[];
  retryError?: boolean;
  crashAt?: number;
  badPage?: boolean;
  /** A page whose cursor the checkpoint cannot keep: `bigint` (not JSON) or `huge` (over 2 KB). */
  badCursor?: 'bigint' | 'huge';
  /** Items that throw what is hard to store: odd ones an object String() refuses, even ones a 100 kB message. */
  hostile?: number[];
}

/** Records every processItem call (item, attempt) and serves pages of numbers. */
class Numbers implements BatchJob<number, number, Input> {
  calls: [number, number][] = [];
  fetchItems(cursor: number | undefined, ctx: BatchContext<Input>): BatchPage<number, number> {
    const from = cursor ?? 0;
    if (ctx.args.badPage) return { items: 'oops' } as never;
    if (ctx.args.badCursor) return { items: [from], cursor: (ctx.args.badCursor === 'bigint' ? 1n : 'x'.repeat(3_000)) as never };
    if (ctx.args.crashAt === from && ctx.attempt === 1) throw new Error(`the source went away at ${from}`);
    const items = Array.from({ length: Math.max(0, Math.min(ctx.batchSize, ctx.args.count - from)) }, (_, i) => from + i);
    return from + items.length >= ctx.args.count ? { items, done: true, cursor: from + items.length } : { items, cursor: from + items.length };
  }
  async processItem(item: number, ctx: BatchContext<Input>): Promise<void> {
    this.calls.push([item, ctx.attempt]);
    await new Promise((resolve) => setImmediate(resolve));
    const calls = this.calls.filter(([i]) => i === item).length;
    if (ctx.args.hostile?.includes(item)) throw item % 2 === 1 ? (Object.create(null) as object) : new Error('x'.repeat(100_000));
    if (ctx.args.failing?.includes(item)) throw ctx.args.retryError ? new RetryItemError(`item ${item} is busy`) : new Error(`item ${item} is broken`);
    if (ctx.args.flaky?.includes(item) && calls <= 2) throw new Error(`item ${item} flaked`);
  }
}

@BatchWorker({ name: 'numbers', batchSize: 10, concurrency: 3, maxRetries: 1, backoff: 0 })
class ContinueNumbers extends Numbers {}

@BatchWorker({ name: 'numbers-stop', batchSize: 10, concurrency: 1, onError: 'stop', maxRetries: 0 })
class StopNumbers extends Numbers {}

@BatchWorker({ name: 'numbers-retry', batchSize: 10, concurrency: 2, onError: 'retry' })
class RetryNumbers extends Numbers {}

@BatchWorker({ name: 'numbers-max', batchSize: 10, maxItems: 15 })
class MaxNumbers extends Numbers {}

describe.each(TEST_STORES)('batch workers on the $kind store', ({ open }) => {
  let store: TestStore;
  let t: TestApp;
  const events: string[] = [];
  beforeEach(async () => {
    store = await open('batch_e2e');
    const options: SchedulerModuleOptions = { ...store.options, pollInterval: '1h' };
    t = await startApp([ContinueNumbers, StopNumbers, RetryNumbers, MaxNumbers], options, new FakeClock(new Date(Math.ceil(Date.now() / 60_000) * 60_000)));
    await t.scheduler.pauseQueue('default');
    events.length = 0;
    t.scheduler.on('batch:start', (e) => events.push(`start ${e.job.attempt} from ${JSON.stringify(e.resumedFrom)}`));
    t.scheduler.on('batch:progress', (e) => events.push(`progress ${e.processed}/${e.failed} at ${JSON.stringify(e.cursor)}`));
    t.scheduler.on('batch:stop', (e) => events.push(`stop ${e.result.status} ${e.result.processed}/${e.result.failed}`));
  });
  afterEach(async () => {
    await t.close();
    await store.drop();
  });

  const run = async (name: string, args: Input) => {
    const job = await t.scheduler.enqueue(name, args as never);
    const runs = await t.tester.drainQueue();
    return { job, runs, stored: (await t.scheduler.history(name))[0] };
  };

  it('pages through every item, checkpointing each page, and completes with a summary as its result', async () => {
    const { job, runs, stored } = await run('numbers', { count: 25 });
    expect(runs.map((r) => r.outcome)).toEqual(['completed']);
    const result = runs[0]!.result as BatchResult;
    expect(result).toMatchObject({ status: 'completed', processed: 25, failed: 0, errors: [], cursor: 25 });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(
      t
        .get(ContinueNumbers)
        .calls.map(([item]) => item)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(events).toEqual(['start 1 from null', 'progress 10/0 at 10', 'progress 20/0 at 20', 'progress 25/0 at 25', 'stop completed 25/0']);
    expect(stored).toMatchObject({
      id: job.id,
      state: 'completed',
      result: { status: 'completed', processed: 25, cursor: 25 },
      progress: { processed: 25, failed: 0, cursor: 25 },
    });
  });

  it("'continue': failed items are counted and listed, the batch goes on and ends partial", async () => {
    const { runs } = await run('numbers', { count: 12, failing: [3, 11] });
    expect(runs[0]).toMatchObject({ outcome: 'completed', result: { status: 'partial', processed: 10, failed: 2 } });
    const { errors } = runs[0]!.result as BatchResult;
    expect(errors.map((e) => [e.index, e.message, e.calls])).toEqual([
      [3, 'item 3 is broken', 1],
      [11, 'item 11 is broken', 1],
    ]);
  });

  it("'continue': an item that throws what cannot be read or stored as it is counts as one failure, its message shortened", async () => {
    const { runs } = await run('numbers', { count: 12, hostile: [2, 3] });
    expect(runs.map((r) => r.outcome)).toEqual(['completed']);
    const { errors, processed, failed } = runs[0]!.result as BatchResult;
    expect([processed, failed]).toEqual([10, 2]);
    expect(errors.map((e) => [e.index, e.message.length < 2_100, e.calls])).toEqual([
      [2, true, 1],
      [3, true, 1],
    ]);
    expect(errors[1]!.message).toBe('(object that cannot be converted to text)');
    expect(t.get(ContinueNumbers).calls.filter(([item]) => item === 2 || item === 3)).toHaveLength(2);
  });

  it("'stop': the first failure stops the batch and fails its attempt with BatchFailedError", async () => {
    const { runs, stored } = await run('numbers-stop', { count: 30, failing: [14] });
    expect(runs.map((r) => r.outcome)).toEqual(['dead']);
    expect(runs[0]!.error).toBeInstanceOf(BatchFailedError);
    expect((runs[0]!.error as BatchFailedError).result).toMatchObject({ status: 'failed', processed: 14, failed: 1, cursor: 10 });
    expect(t.get(StopNumbers).calls.map(([item]) => item)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(events.at(-1)).toBe('stop failed 14/1');
    // The checkpoint is the last page done: a retry would start at item 10.
    expect(stored?.progress).toEqual({ processed: 10, failed: 0, cursor: 10 });
  });

  it("'retry' (or a RetryItemError): an item is called up to 4 times before it counts as failed", async () => {
    const { runs } = await run('numbers-retry', { count: 5, failing: [1], flaky: [3] });
    expect(runs[0]).toMatchObject({ result: { status: 'partial', processed: 4, failed: 1 } });
    const calls = t.get(RetryNumbers).calls.map(([item]) => item);
    expect(calls.filter((i) => i === 1)).toHaveLength(4);
    expect(calls.filter((i) => i === 3)).toHaveLength(3);
    expect((runs[0]!.result as BatchResult).errors).toEqual([{ index: 1, name: 'Error', message: 'item 1 is broken', calls: 4 }]);

    const { runs: asked } = await run('numbers', { count: 3, failing: [0], retryError: true });
    expect(asked[0]).toMatchObject({ result: { status: 'partial', processed: 2, failed: 1, errors: [{ index: 0, name: 'RetryItemError', calls: 4 }] } });
  });

  it('maxItems bounds the items of a run', async () => {
    const { runs } = await run('numbers-max', { count: 40 });
    expect(runs[0]).toMatchObject({ result: { status: 'completed', processed: 15, failed: 0 } });
    expect(t.get(MaxNumbers).calls).toHaveLength(15);
  });

  it('a failed attempt resumes from its last checkpoint: no item of a checkpointed page runs again', async () => {
    const { runs } = await run('numbers', { count: 25, crashAt: 20 });
    expect(runs.map((r) => r.outcome)).toEqual(['retry', 'completed']);
    expect(runs[1]!.result).toMatchObject({ status: 'completed', processed: 25, failed: 0, cursor: 25 });
    const calls = t.get(ContinueNumbers).calls;
    expect(
      calls
        .filter(([, attempt]) => attempt === 1)
        .map(([item]) => item)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(
      calls
        .filter(([, attempt]) => attempt === 2)
        .map(([item]) => item)
        .sort((a, b) => a - b),
    ).toEqual([20, 21, 22, 23, 24]);
    expect(events).toEqual([
      'start 1 from null',
      'progress 10/0 at 10',
      'progress 20/0 at 20',
      'start 2 from 20',
      'progress 25/0 at 25',
      'stop completed 25/0',
    ]);
  });

  it('a page that is not one fails the attempt with InvalidBatchPageError', async () => {
    const { runs } = await run('numbers-stop', { count: 5, badPage: true });
    expect(runs[0]!.error).toBeInstanceOf(InvalidBatchPageError);
  });

  it("a cursor the checkpoint cannot keep fails the attempt with InvalidBatchPageError before the page's items run, not retried", async () => {
    for (const badCursor of ['bigint', 'huge'] as const) {
      t.get(ContinueNumbers).calls.length = 0;
      const { runs } = await run('numbers', { count: 5, badCursor });
      expect(runs.map((r) => r.outcome)).toEqual(['dead']);
      expect(runs[0]!.error).toBeInstanceOf(InvalidBatchPageError);
      expect(String(runs[0]!.error)).toContain('cursor');
      expect(t.get(ContinueNumbers).calls).toEqual([]);
    }
  });
});

/** Holds item `gateAt` of its first attempt until the attempt's signal aborts (a shutdown). */
@BatchWorker({ name: 'gated-numbers', batchSize: 5 })
class GatedNumbers extends Numbers {
  override async processItem(item: number, ctx: BatchContext<Input & { gateAt?: number }>): Promise<void> {
    this.calls.push([item, ctx.attempt]);
    if (item === ctx.args.gateAt && ctx.attempt === 1) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
  }
}

describe.each(TEST_STORES)('a batch interrupted by a shutdown on the $kind store', ({ kind, open }) => {
  it('stops between items at the abort and resumes on the next node from its last checkpoint', async () => {
    const opened = await open('batch_stop');
    // The memory store outlives an app only as one object, handed to both.
    const store = kind === 'memory' ? new MemoryStore() : opened.options.store;
    const clock = new FakeClock(new Date(Math.ceil(Date.now() / 60_000) * 60_000));
    const starts: string[] = [];
    const first = await startApp([GatedNumbers], { store, queues: { default: 1 }, shutdownGracePeriod: '10s', pollInterval: '1h' }, clock);
    first.scheduler.on('batch:start', (e) => starts.push(`${e.job.attempt} from ${JSON.stringify(e.resumedFrom)}`));
    const job = await first.scheduler.enqueue('gated-numbers', { count: 12, gateAt: 7 });
    await clock.advance(0);
    await waitFor(() => first.get(GatedNumbers).calls.some(([item]) => item === 7), 10_000, 'item 7 under way');
    // The grace period's timer is set once the close has reached it (on PostgreSQL, after round trips): move time until it is over.
    let closed = false;
    const closing = first.close().then(() => (closed = true));
    while (!closed) {
      await clock.advance('10s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await closing;
    // Items 0-4 were checkpointed; 5-7 ran in the page the shutdown cut short, 8 never started.
    expect(first.get(GatedNumbers).calls.map(([item]) => item)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    expect(starts).toEqual(['1 from null']);

    const next = await startApp([GatedNumbers], { store, queues: { default: 1 }, pollInterval: '1h' }, clock);
    // Its runner may take the job before the test could look: read the outcome from the store.
    await next.tester.drainQueue();
    await waitFor(async () => (await next.scheduler.history('gated-numbers'))[0]?.state === 'completed', 10_000, 'the batch to complete');
    const [done] = await next.scheduler.history('gated-numbers');
    expect(done).toMatchObject({ id: job.id, result: { status: 'completed', processed: 12, failed: 0, cursor: 12 } });
    expect(next.get(GatedNumbers).calls).toEqual([5, 6, 7, 8, 9, 10, 11].map((item) => [item, 2]));
    await next.close();
    await opened.drop();
  });
});

describe('@BatchWorker options', () => {
  it('a missing processItem, or a bad setting, stops bootstrap with a SchedulerConfigError naming it', async () => {
    @BatchWorker({ name: 'half' })
    class Half {
      fetchItems() {
        return { items: [], done: true as const };
      }
    }
    const missing = await bootstrapError([Half]);
    expect(missing).toBeInstanceOf(SchedulerConfigError);
    expect(String(missing)).toMatch(/Half: invalid option "processItem"/);

    @BatchWorker({ name: 'huge', batchSize: 0 })
    class Huge extends Numbers {}
    expect(String(await bootstrapError([Huge]))).toMatch(/Huge: invalid option "batchSize": must be an integer from 1 to 10,000, got 0/);

    @BatchWorker({ name: 'odd', onError: 'ignore' as never })
    class Odd extends Numbers {}
    expect(String(await bootstrapError([Odd]))).toMatch(/Odd: invalid option "onError"/);
  });
});
