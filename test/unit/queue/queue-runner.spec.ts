import { describe, expect, it, vi } from 'vitest';
import { resolveJobOptions } from '../../../lib/discovery/job-options.resolver.js';
import type { JobContext } from '../../../lib/execution/job-context.js';
import { JobExecutor } from '../../../lib/execution/job.executor.js';
import { RunningJobs } from '../../../lib/execution/running-jobs.js';
import { QueueRunner } from '../../../lib/queue/queue.runner.js';
import { SchedulerRegistry } from '../../../lib/scheduler.registry.js';
import type { ClaimRequest, JobPush } from '../../../lib/store/job-store.js';
import type { Job, JobState } from '../../../lib/store/job.types.js';
import { MemoryStore } from '../../../lib/store/memory.store.js';
import { SchedulerEvents } from '../../../lib/telemetry/scheduler.events.js';
import { FakeClock } from '../../../lib/testing/index.js';
import { testClassifier } from '../../support/classifier.js';
import { newJobInput } from '../../support/new-job.js';

const T0 = Date.UTC(2026, 0, 1);

/** The `work` handler: each run waits until the test releases it by job id. */
class Work {
  readonly running = new Map<string, () => void>();
  readonly started: string[] = [];
  mostAtOnce = 0;

  run = (ctx: JobContext<unknown>): Promise<void> =>
    new Promise<void>((resolve) => {
      this.started.push(ctx.id);
      this.running.set(ctx.id, () => {
        this.running.delete(ctx.id);
        resolve();
      });
      this.mostAtOnce = Math.max(this.mostAtOnce, this.running.size);
    });

  /** Lets the oldest running job (or `count` of them) finish. */
  release(count = 1): void {
    for (const finish of [...this.running.values()].slice(0, count)) finish();
  }
}

/** A runner of queue `default` with a real executor and memory store, on a fake clock. */
function setup(options: { concurrency: number; prefetch: number; push?: JobPush; maxUnacked?: number; doubtAfter?: number }) {
  const clock = new FakeClock(T0);
  const store = new MemoryStore();
  if (options.push) Object.assign(store, { push: options.push });
  const work = new Work();
  const registry = new SchedulerRegistry();
  const jobOptions = resolveJobOptions(
    {},
    (option, detail) => {
      throw new Error(`${option}: ${detail}`);
    },
    null,
  );
  registry.addDefinition({ name: 'work', source: 'Test.work', kind: 'method', run: work.run, options: jobOptions });
  const running = new RunningJobs();
  const executor = new JobExecutor({
    store,
    registry,
    classifier: testClassifier(clock),
    clock,
    events: new SchedulerEvents(),
    running,
    onRetry: () => undefined,
  });
  const runner = new QueueRunner('default', options.concurrency, 10_000, options.prefetch, {
    store,
    executor,
    running,
    clock,
    node: 'node-a',
    ...(options.maxUnacked === undefined ? {} : { maxUnacked: options.maxUnacked }),
    ...(options.doubtAfter === undefined ? {} : { doubtAfter: options.doubtAfter }),
  });
  const enqueue = (count: number, priority = 5) => store.insert(Array.from({ length: count }, () => newJobInput(new Date(T0), { priority })));
  const states = async (): Promise<Partial<Record<JobState, number>>> => {
    const counts: Partial<Record<JobState, number>> = {};
    for (const job of await store.list({})) counts[job.state] = (counts[job.state] ?? 0) + 1;
    return counts;
  };
  /** Lets the runner's claims and the executor's acknowledgements settle. */
  const settle = () => clock.advance(0);
  return { clock, store, work, runner, enqueue, states, settle };
}

/** Records every claim request the store gets. */
function recordClaims(store: MemoryStore): ClaimRequest[] {
  const claims: ClaimRequest[] = [];
  const claim = store.claim.bind(store);
  store.claim = (request) => {
    claims.push(request);
    return claim(request);
  };
  return claims;
}

describe('QueueRunner', () => {
  it('never runs more than its concurrency at once; a freed slot takes the next job', async () => {
    const { work, runner, enqueue, states, settle } = setup({ concurrency: 2, prefetch: 0 });
    await enqueue(5);
    runner.start();
    await settle();
    expect(work.running.size).toBe(2);
    expect(await states()).toEqual({ running: 2, available: 3 });
    work.release();
    await settle();
    expect(work.running.size).toBe(2);
    expect(work.started).toHaveLength(3);
    for (let i = 0; i < 4; i++) {
      work.release(2);
      await settle();
    }
    expect(work.started).toHaveLength(5);
    expect(work.mostAtOnce).toBe(2);
    expect(await states()).toEqual({ completed: 5 });
  });

  it('claims ahead into a buffer: buffered jobs are claimed but not started, and take freed slots at once', async () => {
    const { work, runner, store, enqueue, settle } = setup({ concurrency: 2, prefetch: 4 });
    await enqueue(6);
    runner.start();
    await settle();
    expect(runner.busy).toBe(2);
    expect(runner.buffered).toHaveLength(2);
    const buffered = runner.buffered.map((job) => job.id);
    const rows = await Promise.all(buffered.map((id) => store.get(id)));
    expect(rows.map((job) => [job?.state, job?.startedAt])).toEqual([
      ['running', null],
      ['running', null],
    ]);
    expect(await store.count({ states: ['available'] })).toBe(2);
    work.release();
    await settle();
    expect(work.started.slice(2, 3)).toEqual(buffered.slice(0, 1));
    expect(work.running.size).toBe(2);
  });

  it('after a stall past doubtAfter, a buffered job rescued and claimed elsewhere meanwhile is dropped, not started; the others start', async () => {
    const { clock, work, runner, store, enqueue, settle } = setup({ concurrency: 2, prefetch: 2, doubtAfter: 1_000 });
    await enqueue(4);
    runner.start();
    await settle();
    const [first, second] = work.started;
    const [stale, kept] = runner.buffered.map((job) => job.id);
    // The first handler holds the event loop for 5 s: no heartbeat lands, and another node's lifeline rescues
    // what had none (the second running job and one buffered job did beat, just before).
    await clock.advance(5_000);
    await store.heartbeat(
      [
        { id: second!, attempt: 1, startedAt: T0 },
        { id: kept!, attempt: 1, startedAt: null },
      ],
      new Date(clock.now()),
    );
    const rescued = await store.rescue(new Date(clock.now() - 2_000), new Date(clock.now()));
    expect(rescued.map((job) => job.id).sort()).toEqual([first, stale].sort());
    const taken = await store.claim({ queue: 'default', limit: 5, node: 'node-b', now: new Date(clock.now()), start: 5 });
    expect(taken.map((job) => job.id).sort()).toEqual([first, stale].sort());
    // The first handler returns: the freed slot waits for a heartbeat of the buffer, which finds the stale job lost.
    work.release();
    await settle();
    expect(work.started).toEqual([first, second, kept]);
    expect(runner.buffered).toHaveLength(0);
    expect(await store.get(stale!)).toMatchObject({ state: 'running', node: 'node-b', attempt: 2 });
    // Known held again, buffered jobs start at once: no heartbeat before each.
    await enqueue(3);
    runner.wake('insert');
    await settle();
    const heartbeat = vi.spyOn(store, 'heartbeat');
    work.release();
    await settle();
    expect(heartbeat).not.toHaveBeenCalled();
    expect(work.started).toHaveLength(4);
  });

  it('pausing hands the buffer back without costing an attempt and starts nothing; resuming runs the rest', async () => {
    const { work, runner, store, enqueue, states, settle } = setup({ concurrency: 2, prefetch: 4 });
    await enqueue(4);
    runner.start();
    await settle();
    expect(runner.buffered).toHaveLength(2);
    runner.setPaused(true);
    await settle();
    expect(runner.buffered).toHaveLength(0);
    expect(await states()).toEqual({ running: 2, available: 2 });
    expect((await store.list({ states: ['available'] })).map((job) => job.attempt)).toEqual([0, 0]);
    work.release(2);
    await settle();
    expect(work.started).toHaveLength(2);
    expect(await states()).toEqual({ completed: 2, available: 2 });

    runner.setPaused(false);
    await settle();
    expect(work.started).toHaveLength(4);
  });

  it('scale raises (and lowers) the number of jobs run at once', async () => {
    const { work, runner, enqueue, settle } = setup({ concurrency: 1, prefetch: 0 });
    await enqueue(6);
    runner.start();
    await settle();
    expect(work.running.size).toBe(1);
    runner.scale(3);
    await settle();
    expect(work.running.size).toBe(3);
    expect(runner.limit).toBe(3);
    runner.scale(1);
    work.release(3);
    await settle();
    expect(work.running.size).toBe(1);
  });

  it('after an empty claim, only new work (insert, poll) makes it claim again, not a finished job', async () => {
    const { work, runner, store, enqueue, settle } = setup({ concurrency: 2, prefetch: 0 });
    const claims = recordClaims(store);
    runner.start();
    await settle();
    expect(claims).toHaveLength(1);
    await enqueue(1);
    runner.wake('finished');
    await settle();
    expect(claims).toHaveLength(1);
    expect(work.started).toHaveLength(0);
    runner.wake('insert');
    await settle();
    expect(work.started).toHaveLength(1);
  });

  it('claims past the last job of its previous full claim, and from the start after a poll, a short claim or a hand-back', async () => {
    const { work, runner, store, enqueue, settle } = setup({ concurrency: 2, prefetch: 0 });
    const claims = recordClaims(store);
    await enqueue(5);
    runner.start();
    await settle();
    expect(claims.map((c) => c.after)).toEqual([undefined]);
    work.release(1);
    await settle();
    // The first claim was full: the next starts past its last job (id 2).
    expect(claims[1]!.after).toMatchObject({ priority: 5, id: '2' });
    runner.wake('poll');
    const afterPoll = claims.length;
    work.release(1);
    await settle();
    expect(claims[afterPoll]!.after).toBeUndefined();
    work.release(2);
    await settle();
    // Job 5 alone: a short claim drops the cursor, and the claim after it (empty) starts from the start.
    work.release(2);
    await settle();
    expect(claims.at(-1)!.after).toBeUndefined();
    expect(work.started).toEqual(['1', '2', '3', '4', '5']);
  });

  it('urgent work is claimed past a buffer of less urgent jobs and starts first', async () => {
    const { work, runner, store, enqueue, settle } = setup({ concurrency: 1, prefetch: 2 });
    await enqueue(3, 5);
    runner.start();
    await settle();
    expect(runner.buffered).toHaveLength(1);
    const [urgent] = await store.insert([newJobInput(new Date(T0), { priority: 0 })]);
    runner.wake('insert');
    await settle();
    expect(runner.buffered[0]?.id).toBe(urgent!.job.id);
    work.release();
    await settle();
    expect(work.started[1]).toBe(urgent!.job.id);
  });

  it('stopClaiming hands back the buffer, including the answer of a claim still under way', async () => {
    const { work, runner, store, enqueue, states, settle } = setup({ concurrency: 1, prefetch: 2 });
    await enqueue(1);
    runner.start();
    await settle();
    expect(work.running.size).toBe(1);
    // The next claim is committed in the store but answers only when the test says so.
    let answer!: () => void;
    const claim = store.claim.bind(store);
    store.claim = async (request) => {
      const jobs = await claim(request);
      await new Promise<void>((resolve) => (answer = resolve));
      return jobs;
    };
    await enqueue(3);
    runner.wake('insert');
    await settle();
    expect(await states()).toEqual({ running: 3, available: 1 });

    let stopped = false;
    const stopping = runner.stopClaiming().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    answer();
    await stopping;
    // The two jobs of the late answer went back, their attempt not counted (the third was never claimed).
    expect(await states()).toEqual({ running: 1, available: 3 });
    expect((await store.list({ states: ['available'] })).map((job: Job) => job.attempt)).toEqual([0, 0, 0]);
    expect(runner.buffered).toHaveLength(0);
    work.release();
    await settle();
    expect(work.started).toHaveLength(1);
  });

  it('stops claiming while maxUnacked ended attempts wait for their acknowledgement, and goes on as they are written', async () => {
    const { store, work, runner, enqueue, states, settle } = setup({ concurrency: 2, prefetch: 0, maxUnacked: 3 });
    // Acknowledgements held back, as a store whose writes fall behind would.
    const held: (() => void)[] = [];
    const complete = store.complete.bind(store);
    store.complete = (...args: Parameters<MemoryStore['complete']>) =>
      new Promise((resolve, reject) => held.push(() => void complete(...args).then(resolve, reject)));
    const claims = recordClaims(store);
    await enqueue(10);
    runner.start();
    for (let i = 0; i < 6; i++) {
      work.release(2);
      await settle();
    }
    // Two claims of two: after the second pair ended, four wait for their acknowledgement (≥ 3) and nothing more is claimed.
    expect(held).toHaveLength(4);
    expect(work.started).toHaveLength(4);
    expect(work.running.size).toBe(0);
    const claimed = claims.length;
    runner.wake('insert');
    await settle();
    expect(claims).toHaveLength(claimed);
    // Writing them lets it claim again, and the rest run.
    for (let i = 0; i < 20 && (held.length > 0 || work.running.size > 0); i++) {
      for (const write of held.splice(0)) write();
      work.release(2);
      await settle();
    }
    expect(await states()).toEqual({ completed: 10 });
  });

  it('drain settles once every started job is acknowledged', async () => {
    const { work, runner, enqueue, states, settle } = setup({ concurrency: 2, prefetch: 0 });
    await enqueue(2);
    runner.start();
    await settle();
    await runner.stopClaiming();
    let drained = false;
    const draining = runner.drain().then(() => (drained = true));
    work.release();
    await settle();
    expect(drained).toBe(false);
    work.release();
    await draining;
    expect(await states()).toEqual({ completed: 2 });
  });

  describe('push to idle nodes', () => {
    /**
     * A runner whose store has a second implementation of the push seam:
     * offers are recorded; a push is read by claiming its ids from the memory store.
     */
    function withPush(concurrency: number) {
      const made: number[] = [];
      let memory: MemoryStore | undefined;
      const push: JobPush = {
        offer: async (_queue, _node, slots) => (made.push(slots), slots),
        take: (node, _claim, ids, now) => memory!.claim({ queue: 'default', limit: ids.length, node, now, ids, start: 0 }),
      };
      const parts = setup({ concurrency, prefetch: 0, push });
      memory = parts.store;
      return { ...parts, made };
    }

    it('offers its free slots once the queue is empty, withdraws them when full, and offers again when idle', async () => {
      const { runner, work, enqueue, settle, made } = withPush(4);
      runner.start();
      await settle();
      expect(made).toEqual([4]);

      // Pushed jobs run at once; their slots leave the offer without a write.
      const pushed = await enqueue(2);
      await runner.takePushed(
        'claim',
        pushed.map((r) => r.job.id),
      );
      await settle();
      expect(work.running.size).toBe(2);
      expect(made).toEqual([4]);

      // Full: the offer is withdrawn.
      await enqueue(2);
      runner.wake('insert');
      await settle();
      expect(work.running.size).toBe(4);
      expect(made).toEqual([4, 0]);

      // Idle again (its claim found nothing): offered again.
      work.release(4);
      await settle();
      expect(made).toEqual([4, 0, 4]);

      // A resync (the store may have dropped offers while notifications were lost): offered again.
      runner.wake('poll');
      await settle();
      expect(made).toEqual([4, 0, 4]);
      runner.wake('resync');
      await settle();
      expect(made).toEqual([4, 0, 4, 4]);
    });

    it('withdraws its offer when paused and when it stops claiming; a push it can no longer run is handed back', async () => {
      const { runner, store, work, enqueue, settle, made } = withPush(2);
      runner.start();
      await settle();
      runner.setPaused(true);
      await settle();
      expect(made).toEqual([2, 0]);
      runner.setPaused(false);
      await settle();
      expect(made).toEqual([2, 0, 2]);
      await runner.stopClaiming();
      expect(made).toEqual([2, 0, 2, 0]);

      const [late] = await enqueue(1);
      await runner.takePushed('claim', [late!.job.id]);
      await settle();
      expect(work.started).toEqual([]);
      expect(await store.get(late!.job.id)).toMatchObject({ state: 'available', attempt: 0 });
    });
  });
});
