import { Injectable } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, Scheduled, SchedulerConfigError, type JobContext, type JobPreemptEvent, type JobResumeEvent } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { bootstrapError, startApp, type TestApp } from '../support/app.js';
import { createTestSchema } from '../support/postgres.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

/** Lets the jobs waiting at it take one step each time the test releases it; counts how many wait at once. */
@Injectable()
class Stepper {
  private waiters: (() => void)[] = [];
  mostWaiting = 0;
  get waiting(): number {
    return this.waiters.length;
  }
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.mostWaiting = Math.max(this.mostWaiting, this.waiters.length);
    });
  }
  release(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

/**
 * Closes, letting whatever still waits at the stepper go on to its end a step
 * at a time: the close waits for running jobs, and the clock that would end
 * its grace period does not move.
 */
async function closeStepping(stepper: Stepper, close: () => Promise<unknown>): Promise<void> {
  const releasing = setInterval(() => stepper.release(), 10);
  try {
    await close();
  } finally {
    clearInterval(releasing);
  }
}

/** Long jobs that take `steps` steps, with a checkpoint after each; an urgent one that takes none. */
@Injectable()
class Jobs {
  log: string[] = [];
  contexts = new Map<string, JobContext>();
  constructor(private readonly stepper: Stepper) {}

  private async steps(ctx: JobContext<{ n: number }>, steps = 3) {
    this.contexts.set(ctx.id, ctx);
    this.log.push(`${ctx.args.n} start ${ctx.attempt}`);
    for (let step = 0; step < steps; step++) {
      await this.stepper.next();
      if (ctx.signal.aborted) return;
      this.log.push(`${ctx.args.n} step ${step}`);
      await ctx.checkpoint();
    }
    this.log.push(`${ctx.args.n} done`);
  }

  @Scheduled({ name: 'long', priority: 5 })
  long(ctx: JobContext<{ n: number }>) {
    return this.steps(ctx);
  }

  @Scheduled({ name: 'requeued', priority: 5, preemptible: 'requeue' })
  requeued(ctx: JobContext<{ n: number }>) {
    return this.steps(ctx);
  }

  @Scheduled({ name: 'steady', priority: 5, preemptible: false })
  steady(ctx: JobContext<{ n: number }>) {
    return this.steps(ctx);
  }

  @Scheduled({ name: 'urgent', priority: 0 })
  urgent(ctx: JobContext<{ n: number }>) {
    this.log.push(`${ctx.args.n} urgent`);
  }

  /** Urgent, and one step long. */
  @Scheduled({ name: 'urgent-step', priority: 0 })
  async urgentStep(ctx: JobContext<{ n: number }>) {
    this.log.push(`${ctx.args.n} urgent`);
    await this.stepper.next();
  }
}

describe.each(TEST_STORES)('preemption on the $kind store', ({ open }) => {
  let opened: TestStore;
  let t: TestApp;
  let jobs: Jobs;
  let stepper: Stepper;
  const events: string[] = [];
  beforeEach(async () => {
    opened = await open('preempt_e2e');
    t = await startApp(
      [Jobs, Stepper],
      { ...opened.options, queues: { default: { concurrency: 2, preemption: true } } },
      new FakeClock(new Date(Math.ceil(Date.now() / 60_000) * 60_000)),
    );
    jobs = t.get(Jobs);
    stepper = t.get(Stepper);
    events.length = 0;
    t.scheduler.on('job:preempt', (e: JobPreemptEvent) =>
      events.push(`preempt ${name(e.preempted)} (${e.preemptedPriority}) for ${name(e.incoming)} (${e.incomingPriority}) on ${e.queue}`),
    );
    t.scheduler.on('job:resume', (e: JobResumeEvent) => events.push(`resume ${name(e.job)} ${e.reason}`));
  });
  afterEach(async () => {
    await closeStepping(stepper, () => t.close());
    await opened.drop();
  });
  const name = (job: { args: unknown }) => `#${(job.args as { n: number }).n}`;
  const running = async (n: number) => waitFor(() => stepper.waiting === n, 10_000, `${n} jobs at the stepper`);
  /**
   * Job 2 started a second time. Its hand-back may land after the freed slot
   * was claimed for, leaving it to the next poll: the clock moves a second at
   * a time while it waits (ten at most).
   */
  const restarted = async (what: string) => {
    let polls = 0;
    const again = () => jobs.log.filter((l) => l === '2 start 1').length === 2;
    await waitFor(async () => again() || (polls++ < 10 && (await t.clock.advance('1s'), again())), 10_000, what);
  };

  it('a priority-0 job at a full queue takes the slot of the latest priority-5 job at its next checkpoint; it resumes before newer jobs of its priority; each completes once', async () => {
    await t.scheduler.enqueue('long', { n: 1 });
    await t.scheduler.enqueue('long', { n: 2 });
    await running(2);
    await t.scheduler.enqueue('long', { n: 3 });
    const urgent = await t.scheduler.enqueue('urgent-step', { n: 9 });
    // The runner claims the urgent job although every slot is taken, and asks the least urgent, latest started job to yield.
    await waitFor(() => [...jobs.contexts.values()].some((ctx) => ctx.preempted), 10_000, 'a job asked to yield');
    const victim = [...jobs.contexts.values()].find((ctx) => ctx.preempted)!;
    expect(victim.args).toEqual({ n: 2 });

    // One checkpoint interval: one step later, the urgent job has run in its slot.
    stepper.release();
    await waitFor(() => jobs.log.includes('9 urgent'), 10_000, 'the urgent job to run');
    expect(events[0]).toBe('preempt #2 (5) for #9 (0) on default');
    // Job 2 waits at its checkpoint, holding no slot: two at work, job 1 and the urgent one.
    await running(2);
    const first = [...jobs.contexts.values()].find((ctx) => ctx.args && (ctx.args as { n: number }).n === 1)!;
    const stats = await t.scheduler.queueStats('default');
    expect(stats).toMatchObject({ preemption: true, preempted: 1, preemptedJobs: [victim.id], runningHere: 2 });
    expect(stats.runningJobs.sort()).toEqual([first.id, urgent.id].sort());
    stepper.release();
    await waitFor(async () => (await t.scheduler.history('urgent-step')).length === 1, 10_000, 'the urgent job acknowledged');
    expect((await t.scheduler.history('urgent-step'))[0]).toMatchObject({ id: urgent.id, state: 'completed' });
    // Its slot went back to the suspended job, not to job 3, queued before it was suspended but newer.
    await waitFor(() => events.includes('resume #2 preemption_ended'), 10_000, 'job 2 to resume');
    expect(jobs.log.includes('3 start 1')).toBe(false);

    for (let i = 0; i < 20 && !['1 done', '2 done', '3 done'].every((l) => jobs.log.includes(l)); i++) {
      stepper.release();
      await waitFor(() => stepper.waiting > 0 || ['1 done', '2 done', '3 done'].every((l) => jobs.log.includes(l)), 10_000, 'the next step');
    }
    for (const n of [1, 2, 3]) {
      expect(jobs.log.filter((l) => l === `${n} start 1`)).toHaveLength(1);
      expect(jobs.log.filter((l) => l === `${n} done`)).toHaveLength(1);
      for (const step of [0, 1, 2]) expect(jobs.log.filter((l) => l === `${n} step ${step}`)).toHaveLength(1);
    }
    // Never more than the concurrency at work: two at the stepper at most.
    expect(stepper.mostWaiting).toBe(2);
    await waitFor(async () => (await t.scheduler.history('long')).length === 3, 10_000, 'every long job acknowledged');
    expect((await t.scheduler.history('long')).every((job) => job.state === 'completed' && job.attempt === 1)).toBe(true);
  });

  it("'requeue' jobs are aborted and queued again without spending an attempt; preemptible: false never yields", async () => {
    await t.scheduler.enqueue('steady', { n: 1 });
    const requeued = await t.scheduler.enqueue('requeued', { n: 2 });
    await running(2);
    await t.scheduler.enqueue('urgent', { n: 9 });
    // 'requeue': aborted (reason preempted) at once; its slot frees when its handler returns, at its next step.
    await waitFor(() => jobs.contexts.get(requeued.id)?.abortReason === 'preempted', 10_000, 'the requeued job aborted');
    expect(events[0]).toBe('preempt #2 (5) for #9 (0) on default');
    // The steady job (preemptible: false) is never asked.
    const steady = [...jobs.contexts.values()].find((ctx) => ctx.name === 'steady')!;
    expect(steady.preempted).toBe(false);
    stepper.release();
    await waitFor(() => jobs.log.includes('9 urgent'), 10_000, 'the urgent job to run');
    await restarted('the requeued job to start again');
    const stats = await t.scheduler.queueStats('default');
    expect(stats).toMatchObject({ preemption: true, preempted: 0, preemptedJobs: [] });
    expect(stats.runningJobs.sort()).toEqual([steady.id, requeued.id].sort());

    for (let i = 0; i < 10 && !['1 done', '2 done'].every((l) => jobs.log.includes(l)); i++) {
      stepper.release();
      await waitFor(() => stepper.waiting > 0 || ['1 done', '2 done'].every((l) => jobs.log.includes(l)), 10_000, 'the next step');
    }
    await waitFor(async () => (await t.scheduler.history('requeued')).length === 1, 10_000, 'the requeued job acknowledged');
    // Its first attempt was given back: it completed on attempt 1.
    expect((await t.scheduler.history('requeued'))[0]).toMatchObject({ state: 'completed', attempt: 1 });
    expect(jobs.log.filter((l) => l === '1 start 1')).toHaveLength(1);
  });

  it("enqueue's preemptible overrides the handler's, kept with the job: 'requeue' on a suspending handler, false on another", async () => {
    const kept = await t.scheduler.enqueue('long', { n: 1 }, { preemptible: false });
    const requeued = await t.scheduler.enqueue('long', { n: 2 }, { preemptible: 'requeue' });
    expect([kept.preemptible, requeued.preemptible]).toEqual([false, 'requeue']);
    await running(2);
    await t.scheduler.enqueue('urgent', { n: 9 });
    await waitFor(() => jobs.contexts.get(requeued.id)?.abortReason === 'preempted', 10_000, 'job 2 aborted');
    expect(jobs.contexts.get(kept.id)?.preempted).toBe(false);
    stepper.release();
    await waitFor(() => jobs.log.includes('9 urgent'), 10_000, 'the urgent job to run');
    await restarted('job 2 to start again');
    for (let i = 0; i < 10 && !['1 done', '2 done'].every((l) => jobs.log.includes(l)); i++) {
      stepper.release();
      await waitFor(() => stepper.waiting > 0 || ['1 done', '2 done'].every((l) => jobs.log.includes(l)), 10_000, 'the next step');
    }
    await waitFor(async () => (await t.scheduler.history('long')).length === 2, 10_000, 'both long jobs acknowledged');
    expect((await t.scheduler.history('long')).find((job) => job.id === requeued.id)).toMatchObject({ state: 'completed', attempt: 1, preemptible: 'requeue' });
    expect(jobs.log.filter((l) => l === '1 start 1')).toHaveLength(1);
  });
});

describe('preemption across nodes on PostgreSQL', () => {
  it('an urgent job enqueued on a web node preempts on the worker node that holds the slots', async () => {
    const db = await createTestSchema('preempt_nodes');
    const store = { type: 'postgres', url: db.url, schema: db.schema } as const;
    // One instant for both nodes' clocks: a minute turning between the two would put the web node's jobs a minute
    // in the worker's future, where its clock, which the test never moves, would not reach them.
    const t0 = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
    const clock = () => new FakeClock(t0);
    const worker = await startApp([Jobs, Stepper], { store, pollInterval: '200ms', queues: { default: { concurrency: 1, preemption: true } } }, clock());
    const web = await startApp([Jobs, Stepper], { store, pollInterval: '200ms', queues: false }, clock());
    const jobs = worker.get(Jobs);
    const stepper = worker.get(Stepper);
    const preempts: string[] = [];
    worker.scheduler.on('job:preempt', (e) => preempts.push(`${e.preempted.name} for ${e.incoming.name}`));
    try {
      await web.scheduler.enqueue('long', { n: 1 });
      await waitFor(() => stepper.waiting === 1, 10_000, 'the long job at work');
      await web.scheduler.enqueue('urgent', { n: 9 });
      await waitFor(() => [...jobs.contexts.values()].some((ctx) => ctx.preempted), 10_000, 'the long job asked to yield');
      stepper.release();
      await waitFor(() => jobs.log.includes('9 urgent'), 10_000, 'the urgent job to run on the worker');
      expect(preempts).toEqual(['long for urgent']);
      for (let i = 0; i < 10 && !jobs.log.includes('1 done'); i++) {
        stepper.release();
        await waitFor(() => stepper.waiting > 0 || jobs.log.includes('1 done'), 10_000, 'the next step');
      }
      expect(jobs.log.filter((l) => l === '1 done')).toHaveLength(1);
    } finally {
      await closeStepping(stepper, () => Promise.all([worker.close(), web.close()]));
      await db.drop();
    }
  });
});

describe('preemption options', () => {
  it('refuses a preemption flag or a preemptible value that is not one', async () => {
    expect(String(await bootstrapError([], { queues: { default: { concurrency: 1, preemption: 'yes' as never } } }))).toMatch(
      /queues\.default\.preemption.*must be true or false/,
    );
    @Injectable()
    class Odd {
      @Scheduled({ name: 'odd', preemptible: 'pause' as never })
      run() {}
    }
    const error = await bootstrapError([Odd]);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect(String(error)).toMatch(/invalid option "preemptible"/);
  });

  it("refuses an enqueue's preemptible that is not one, storing nothing", async () => {
    const t = await startApp([Jobs, Stepper], { queues: false });
    try {
      const call = t.scheduler.enqueue('long', { n: 1 }, { preemptible: 'pause' as never });
      await expect(call).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(call).rejects.toMatchObject({ argument: 'preemptible' });
      await expect(call).rejects.toThrow(/must be 'suspend', 'requeue' or false/);
      expect(await t.scheduler.queueStats('default')).toMatchObject({ available: 0, scheduled: 0 });
    } finally {
      await t.close();
    }
  });
});
