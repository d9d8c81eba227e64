import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, Step, Workflow, type StepContext } from '../../lib/index.js';
import type { JobStore } from '../../lib/store/index.js';
import type { WorkflowRun } from '../../lib/store/workflow-run.types.js';
import { startApp, T0, type TestApp } from '../support/app.js';
import { interceptedStore } from '../support/intercepted.store.js';

@Injectable()
class Journal {
  lines: string[] = [];
}

@Workflow({ name: 'pair' })
class Pair {
  constructor(private readonly journal: Journal) {}
  @Step()
  a() {
    this.journal.lines.push('a');
    return { fromA: 1 };
  }
  @Step({ after: 'a' })
  b(ctx: StepContext) {
    this.journal.lines.push(`b:${String(ctx.context.fromA)}`);
    return { fromB: 2 };
  }
}

type Mutate = (run: WorkflowRun) => WorkflowRun | null;

/**
 * A memory store behind a proxy whose next `updateRun` / `insert` can be made
 * to fail (an outage at that write), or whose next `updateRun` first calls
 * `mutate` on the run as read and then, as the Redis store does when its save
 * finds the run changed (`SAVE_RUN` answers 0 after the run lock expired under
 * a stalled node), lets another write land and calls `mutate` again.
 */
function faulty(inner = new MemoryStore()) {
  const plan: {
    failWhen: ((before: WorkflowRun, after: WorkflowRun | null) => boolean)[];
    /** Like failWhen, but the write lands first (its answer is lost, as when a connection drops during COMMIT). */
    loseAnswerWhen: ((before: WorkflowRun, after: WorkflowRun | null) => boolean)[];
    failUpdate: number[];
    failInsert: number;
    raceNextUpdate: Mutate | null;
    updates: number;
  } = {
    failWhen: [],
    loseAnswerWhen: [],
    failUpdate: [],
    failInsert: 0,
    raceNextUpdate: null,
    updates: 0,
  };
  const store = interceptedStore(inner, (key, method) => {
    if (key === 'updateRun') {
      return async (id: string, now: Date, mutate: Mutate) => {
        plan.updates++;
        const test = plan.failWhen[0];
        if (test) {
          const read = await inner.getRun(id);
          if (read && test(read, mutate(structuredClone(read)))) {
            plan.failWhen.shift();
            throw new Error('store outage (injected)');
          }
        }
        const lose = plan.loseAnswerWhen[0];
        if (lose) {
          const read = await inner.getRun(id);
          if (read && lose(read, mutate(structuredClone(read)))) {
            plan.loseAnswerWhen.shift();
            await inner.updateRun(id, now, mutate);
            throw new Error('connection lost during COMMIT (injected)');
          }
        }
        const other = plan.raceNextUpdate;
        const read = other ? await inner.getRun(id) : null;
        // Only the write that starts a step (the one the race is about).
        if (
          other &&
          read &&
          Object.values(read.steps).some((sr) => sr.state === 'pending') &&
          Object.values(mutate(structuredClone(read))?.steps ?? {}).some((sr) => sr.state === 'running')
        ) {
          plan.raceNextUpdate = null;
          await inner.updateRun(id, now, other);
        }
        return inner.updateRun(id, now, mutate);
      };
    }
    if (key === 'insert') {
      return async (...args: unknown[]) => {
        if (plan.failInsert > 0) {
          plan.failInsert--;
          throw new Error('store outage (injected)');
        }
        return method(...args);
      };
    }
    return undefined;
  }) as JobStore;
  return { option: { store, peer: 'local' as const, notifier: 'local' as const }, plan };
}

describe('workflow runs when the store fails or races (memory store behind a fault proxy)', () => {
  let t: TestApp;
  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await t?.close();
    vi.restoreAllMocks();
  });
  const settle = async (runId: string) => {
    for (let i = 0; i < 30; i++) {
      await t.tester.drainQueue();
      if (i >= 5 && (await t.scheduler.workflows.getState(runId)).state !== 'running') return;
      await t.clock.advance('1m');
    }
  };

  /**
   * Lets the app's own runners work, moving the clock (no `drainQueue`: it
   * waits for running jobs, and a step waiting out a failing write waits for
   * the clock).
   */
  const run = async (runId: string) => {
    for (let i = 0; i < 120; i++) {
      await t.clock.advance('1s');
      if ((await t.scheduler.workflows.getState(runId)).state !== 'running') return;
    }
  };
  const aCompletes = (_: WorkflowRun, after: WorkflowRun | null) => after?.steps.a?.state === 'completed' && after.steps.b?.jobId === null;

  it("failed writes of a step's completion are tried again until one lands: the step runs once, even with no retries left", async () => {
    @Workflow({ name: 'once' })
    class Once {
      constructor(private readonly journal: Journal) {}
      @Step({ maxRetries: 0 })
      a() {
        this.journal.lines.push('a');
        return { fromA: 1 };
      }
      @Step({ after: 'a', maxRetries: 0 })
      b(ctx: StepContext) {
        this.journal.lines.push(`b:${String(ctx.context.fromA)}`);
      }
    }
    const f = faulty();
    t = await startApp([Journal, Once], { store: f.option, pollInterval: '1h', lifeline: { rescueAfter: '2h' } });
    const runId = await t.scheduler.workflows.start('once', {});
    // The store refuses the completion's write four times in a row (a database restart).
    f.plan.failWhen = [aCompletes, aCompletes, aCompletes, aCompletes];
    await run(runId);
    const done = await t.scheduler.workflows.getState(runId);
    expect(done.state).toBe('completed');
    expect(t.get(Journal).lines).toEqual(['a', 'b:1']);
    expect(done.context).toEqual({ fromA: 1 });
    expect(f.plan.failWhen).toEqual([]);
  });

  it("a step's completion written but its answer lost: the write tried again finds it written, the step runs once", async () => {
    const f = faulty();
    t = await startApp([Journal, Pair], { store: f.option, pollInterval: '1h', lifeline: { rescueAfter: '2h' } });
    const runId = await t.scheduler.workflows.start('pair', {});
    f.plan.loseAnswerWhen = [aCompletes];
    await run(runId);
    const done = await t.scheduler.workflows.getState(runId);
    expect(done.state).toBe('completed');
    expect(t.get(Journal).lines).toEqual(['a', 'b:1']);
    expect(done.context).toEqual({ fromA: 1, fromB: 2 });
    expect(f.plan.loseAnswerWhen).toEqual([]);
    // Its attempt saw its own write, not a newer attempt's: it ended with the step's output, at attempt 1.
    const job = await t.scheduler.findJob(done.steps.a!.jobId!);
    expect(job).toMatchObject({ state: 'completed', attempt: 1, result: { fromA: 1 } });
  });

  it("a failed write of the run's advance after a's completion is recorded: the repair sweep moves it on, a runs once", async () => {
    const f = faulty();
    t = await startApp([Journal, Pair], { store: f.option, pollInterval: '1h', lifeline: { rescueAfter: '2h' } });
    const runId = await t.scheduler.workflows.start('pair', {});
    // 2 = a starts, 3 = a completes, 4 = advance -> fail it.
    f.plan.failWhen = [(before, after) => before.steps.a?.state === 'completed' && after?.steps.b?.jobId === 'queued'];
    await settle(runId);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.state).toBe('completed');
    expect(t.get(Journal).lines).toEqual(['a', 'b:1']);
    expect(run.steps.a!.completedSeq).toBe(1);
  });

  it('a failed insert of the next step (after the run marked it queued): repair queues it', async () => {
    const f = faulty();
    t = await startApp([Journal, Pair], { store: f.option, pollInterval: '1h', lifeline: { rescueAfter: '2h' } });
    const runId = await t.scheduler.workflows.start('pair', {});
    f.plan.failInsert = 1;
    await settle(runId);
    expect((await t.scheduler.workflows.getState(runId)).state).toBe('completed');
    expect(t.get(Journal).lines).toEqual(['a', 'b:1']);
  });

  it("the last attempt's failure cannot be recorded (store out) and the dead step's report fails too: the run must not stay running forever", async () => {
    @Workflow({ name: 'fragile' })
    class Fragile {
      @Step({ maxRetries: 0 })
      boom() {
        throw new Error('boom');
      }
    }
    const f = faulty();
    t = await startApp([Journal, Fragile], { store: f.option, pollInterval: '1h', lifeline: { rescueAfter: '2h' } });
    const runId = await t.scheduler.workflows.start('fragile', {});
    // 2 = boom starts; 3 = stepExhausted's write (store out); 4 = stepJobDead's write (store still out).
    f.plan.failWhen = [(_, after) => after?.steps.boom?.state === 'failed', (_, after) => after?.steps.boom?.state === 'failed'];
    await settle(runId);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.state).toBe('failed');
  });

  it("a scheduled run whose start job insert fails must not stay 'scheduled' forever", async () => {
    const f = faulty();
    t = await startApp([Journal, Pair], { store: f.option, pollInterval: '1h', lifeline: { rescueAfter: '2h' } });
    f.plan.failInsert = 1;
    await expect(t.scheduler.workflows.scheduleExecution('pair', { at: new Date(T0.getTime() + 60_000) })).rejects.toThrow(/outage/);
    const [run] = await t.scheduler.workflows.listRunning('pair');
    expect(run?.state).toBe('scheduled');
    await settle(run!.id);
    await t.clock.advance('10m');
    await t.tester.drainQueue();
    expect((await t.scheduler.workflows.getState(run!.id)).state).not.toBe('scheduled');
  });

  it('cancel landing between the read and the save of a step start (Redis CAS retry): the step must not run', async () => {
    const f = faulty();
    t = await startApp([Journal, Pair], { store: f.option, pollInterval: '1h', lifeline: { rescueAfter: '2h' } });
    f.plan.raceNextUpdate = (r) => ({ ...r, state: 'cancelled', error: 'cancelled', finishedAt: new Date(T0) });
    const runId = await t.scheduler.workflows.start('pair', {});
    await settle(runId);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.state).toBe('cancelled');
    expect(t.get(Journal).lines).toEqual([]);
  });
});
