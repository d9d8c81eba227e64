import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SchedulerConfigError, Step, Workflow, type StepContext, type StepEvent, type WorkflowEvent } from '../../lib/index.js';
import { bootstrapError, startApp, T0, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';

/** What the steps did, in order. */
@Injectable()
class Journal {
  lines: string[] = [];
  failures = new Map<string, number>();
  /** Makes `step` throw its first `times` attempts (Infinity: always). */
  fail(step: string, times = Infinity) {
    this.failures.set(step, times);
  }
  hit(step: string) {
    this.lines.push(step);
    const key = step.split(':')[0]!;
    const left = this.failures.get(key) ?? 0;
    if (left > 0) {
      this.failures.set(key, left - 1);
      throw new Error(`${step} broke`);
    }
  }
}

@Workflow({ name: 'onboarding' })
class Onboarding {
  constructor(private readonly journal: Journal) {}
  @Step()
  createAccount(ctx: StepContext) {
    this.journal.hit('createAccount');
    return { userId: 42, email: ctx.context.email };
  }
  @Step({ after: 'createAccount', rollback: 'deleteAccount' })
  provision() {
    this.journal.hit('provision');
    return { provisioned: true };
  }
  @Step({ after: 'createAccount', rollback: 'unsubscribe' })
  subscribe() {
    this.journal.hit('subscribe');
  }
  @Step({ after: ['provision', 'subscribe'], maxRetries: 0 })
  welcome(ctx: StepContext) {
    this.journal.hit(`welcome:${String(ctx.context.userId)}:${String(ctx.context.provisioned)}`);
  }
  deleteAccount() {
    this.journal.lines.push('rollback:deleteAccount');
  }
  unsubscribe() {
    this.journal.lines.push('rollback:unsubscribe');
  }
}

@Workflow({ name: 'branches' })
class Branches {
  constructor(private readonly journal: Journal) {}
  @Step()
  check(ctx: StepContext) {
    this.journal.hit('check');
    return { approved: ctx.context.approve === true };
  }
  @Step({ after: 'check', when: (c) => c.approved === true })
  approve() {
    this.journal.hit('approve');
  }
  @Step({ after: 'check', when: (c) => c.approved !== true })
  reject() {
    this.journal.hit('reject');
  }
  @Step({ after: ['approve', 'reject'] })
  notify() {
    this.journal.hit('notify');
  }
}

@Workflow({ name: 'race' })
class Race {
  constructor(private readonly journal: Journal) {}
  @Step()
  fast() {
    this.journal.hit('fast');
  }
  @Step()
  slow() {
    this.journal.hit('slow');
  }
  @Step({ afterAny: ['fast', 'slow'] })
  first() {
    this.journal.hit('first');
  }
}

function policies(onError: 'skip' | 'continue') {
  @Workflow({ name: `on-${onError}` })
  class Policies {
    constructor(readonly journal: Journal) {}
    @Step({ onError, maxRetries: 1, timeout: '1m' })
    flaky() {
      this.journal.hit('flaky');
    }
    @Step({ after: 'flaky' })
    dependent() {
      this.journal.hit('dependent');
    }
    @Step()
    independent() {
      this.journal.hit('independent');
    }
  }
  return Policies;
}

describe.each(TEST_STORES)('workflows on the $kind store (fake clock)', ({ open }) => {
  let t: TestApp;
  let store: TestStore;
  let events: string[];
  const start = async (...providers: unknown[]) => {
    // Polls hourly: the runners are woken by the store's notifier, and the fake clock would fire every poll of the hours skipped.
    // Rescues after 2 h: settle moves the clock a minute at a time, past the default 45 s, and a step still
    // in flight on a shared store at that moment would be rescued and run again (at least once, as promised).
    t = await startApp([Journal, ...(providers as never[])], { ...store.options, pollInterval: '1h', lifeline: { rescueAfter: '2h' } });
    events = [];
    const names = [
      'workflow:start',
      'workflow:stop',
      'workflow:fail',
      'workflow:pause',
      'workflow:resume',
      'workflow:cancel',
      'step:start',
      'step:stop',
      'step:exception',
      'step:skip',
      'step:retry',
      'rollback:start',
      'rollback:stop',
      'rollback:exception',
    ] as const;
    for (const name of names) {
      t.scheduler.on(name, (e: WorkflowEvent | StepEvent) => events.push('step' in e ? `${name} ${e.step}` : name));
    }
    return t;
  };
  const journal = () => t.get(Journal).lines;
  /** Waits (in real time, the clock still) for what the store does in the background: the memory store is done at once. */
  const until = (done: () => boolean | Promise<boolean>, what: string) => waitFor(async () => (await t.clock.advance(0), done()), 10_000, what);
  /**
   * Runs what is due and moves time on, five rounds; given a run, goes on
   * (up to 30 rounds) until it has ended: on a shared store a step's
   * follow-up jobs may land after a round's drain returned.
   */
  const settle = async (runId?: string) => {
    for (let i = 0; i < 30; i++) {
      await t.tester.drainQueue();
      if (i >= 5 && (!runId || (await t.scheduler.workflows.getState(runId)).state !== 'running')) return;
      await t.clock.advance('1m');
    }
  };
  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    store = await open('workflow_e2e');
  });
  afterEach(async () => {
    await t?.close();
    await store.drop();
    vi.restoreAllMocks();
  });

  it("fans out and in, merging each step's output into the context; every step is a job", async () => {
    await start(Onboarding);
    const runId = await t.scheduler.workflows.start('onboarding', { email: 'ada@example.com' });
    await settle(runId);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.state).toBe('completed');
    expect(run.context).toEqual({ email: 'ada@example.com', userId: 42, provisioned: true });
    expect(journal()[0]).toBe('createAccount');
    expect(journal().slice(1, 3).sort()).toEqual(['provision', 'subscribe']);
    expect(journal()[3]).toBe('welcome:42:true');
    expect(Object.values(run.steps).map((s) => s.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(events[0]).toBe('workflow:start');
    expect(events.at(-1)).toBe('workflow:stop');
    const jobs = t.tester.runs().filter((r) => r.job.name === '__workflow.step');
    expect(jobs).toHaveLength(4);
  });

  it('when: "D if C succeeded, else E", then F after both (a skipped step counts as finished)', async () => {
    await start(Branches);
    const yes = await t.scheduler.workflows.start('branches', { approve: true });
    await settle(yes);
    const no = await t.scheduler.workflows.start('branches', { approve: false });
    await settle(no);
    expect(journal()).toEqual(['check', 'approve', 'notify', 'check', 'reject', 'notify']);
    const a = await t.scheduler.workflows.getState(yes);
    expect([a.steps.reject!.state, a.steps.reject!.skipReason]).toEqual(['skipped', 'condition']);
    expect((await t.scheduler.workflows.getState(no)).steps.approve!.state).toBe('skipped');
    expect(events).toContain('step:skip reject');
  });

  it('afterAny: the first dependency to finish is enough', async () => {
    await start(Race);
    t.get(Journal).fail('slow', 1);
    const runId = await t.scheduler.workflows.start('race', {});
    await settle(runId);
    // `fast` and `slow` start together (in either order on a shared store); `slow`
    // failed once and was retried later; `first` did not wait for it.
    expect(journal().slice(0, 2).sort()).toEqual(['fast', 'slow']);
    expect(journal().slice(2)).toEqual(['first', 'slow']);
    expect((await t.scheduler.workflows.getState(runId)).state).toBe('completed');
  });

  it("onError 'fail': the run fails and completed steps roll back in reverse completion order, each once", async () => {
    await start(Onboarding);
    t.get(Journal).fail('welcome');
    const runId = await t.scheduler.workflows.start('onboarding', { email: 'x' });
    await settle(runId);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.state).toBe('failed');
    expect(run.steps.welcome!.state).toBe('failed');
    // In the order the store recorded them done (its completion counter): on a shared store under
    // load, not always the order they started, nor the order their `step:stop` events came.
    const order = (['provision', 'subscribe'] as const).map((s) => ({ s, seq: run.steps[s]!.completedSeq! })).sort((a, b) => b.seq - a.seq);
    expect(order.every((o) => o.seq > 0)).toBe(true);
    const rollbacks = journal().filter((l) => l.startsWith('rollback:'));
    const expected = order.map(({ s }) => (s === 'provision' ? 'rollback:deleteAccount' : 'rollback:unsubscribe'));
    expect(rollbacks).toEqual(expected);
    expect(run.steps.provision!.state).toBe('rolled_back');
    expect(run.steps.createAccount!.state).toBe('completed');
    expect(events).toContain('workflow:fail');
    expect(events.filter((e) => e.startsWith('rollback:stop'))).toHaveLength(2);
  });

  it("a step whose job insert was lost (the node died after the run marked it queued) is queued again by the leader's repair sweep", async () => {
    await start(Onboarding);
    await t.scheduler.pauseQueue('default');
    const runId = await t.scheduler.workflows.start('onboarding', { email: 'x' });
    const jobs = await t.scheduler.listJobs({ name: '__workflow.step' });
    expect(jobs.map((j) => j.meta)).toEqual([{ workflow: 'onboarding', step: 'createAccount' }]);
    await t.scheduler.deleteJob(jobs[0]!.id);
    await t.scheduler.resumeQueue('default');
    await settle(runId);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.state).toBe('completed');
    expect(journal().filter((l) => l === 'createAccount')).toEqual(['createAccount']);
  });

  it('retry runs a failed run again from its failed step; one whose rollback compensated a step is refused', async () => {
    await start(Branches, Onboarding);
    // Four attempts of notify (maxRetries 3) fail: the run fails; nothing to compensate.
    t.get(Journal).fail('notify', 4);
    const runId = await t.scheduler.workflows.start('branches', { approve: true });
    await settle(runId);
    expect((await t.scheduler.workflows.getState(runId)).state).toBe('failed');
    await expect(t.scheduler.workflows.retry('999999999')).rejects.toThrow(/not found/);
    const retried = await t.scheduler.workflows.retry(runId);
    // retry() answers the run as read after it has queued the failed step again: an idle node
    // may have run that step, and finished the run, by then (seen on PostgreSQL under load).
    if (retried.state === 'running') expect(retried).toMatchObject({ error: null, finishedAt: null });
    else expect(retried).toMatchObject({ state: 'completed', error: null });
    await settle(runId);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.state).toBe('completed');
    expect(run.steps.notify).toMatchObject({ state: 'completed', attempts: 5, error: null });
    expect(run.steps.check).toMatchObject({ state: 'completed', attempts: 1 });
    expect(journal().filter((l) => l === 'check' || l === 'approve')).toEqual(['check', 'approve']);
    expect(events.filter((e) => e.startsWith('workflow:'))).toEqual(['workflow:start', 'workflow:fail', 'workflow:resume', 'workflow:stop']);
    await expect(t.scheduler.workflows.retry(runId)).rejects.toThrow(/cannot be retried: it is completed, not failed/);

    t.get(Journal).fail('welcome');
    const compensated = await t.scheduler.workflows.start('onboarding', { email: 'x' });
    await settle(compensated);
    expect((await t.scheduler.workflows.getState(compensated)).state).toBe('failed');
    await expect(t.scheduler.workflows.retry(compensated)).rejects.toThrow(/cannot be retried: its rollback reached step (provision|subscribe)/);
  });

  it("onError 'skip': the step is skipped and so is what depends only on it", async () => {
    const Policies = policies('skip');
    await start(Policies);
    t.get(Journal).fail('flaky');
    const runId = await t.scheduler.workflows.start('on-skip', {});
    await settle(runId);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.state).toBe('completed');
    expect([run.steps.flaky!.state, run.steps.flaky!.skipReason, run.steps.flaky!.attempts]).toEqual(['skipped', 'error', 2]);
    expect([run.steps.dependent!.state, run.steps.dependent!.skipReason]).toEqual(['skipped', 'dependency']);
    expect(run.steps.independent!.state).toBe('completed');
    expect(journal().filter((l) => l === 'dependent')).toEqual([]);
    expect(events.filter((e) => e === 'step:retry flaky')).toHaveLength(1);
  });

  it("onError 'continue': the step is failed and its dependents still run", async () => {
    const Policies = policies('continue');
    await start(Policies);
    t.get(Journal).fail('flaky');
    const runId = await t.scheduler.workflows.start('on-continue', {});
    await settle(runId);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.state).toBe('completed');
    expect(run.steps.flaky!.state).toBe('failed');
    expect(run.steps.dependent!.state).toBe('completed');
  });

  it('pause stops new steps from starting; resume merges context and goes on', async () => {
    await start(Onboarding);
    // Hold the queue so the first step's job is queued but not started when the run is paused.
    await t.scheduler.pauseQueue('default');
    const runId = await t.scheduler.workflows.start('onboarding', { email: 'p' });
    await t.scheduler.workflows.pause(runId);
    // A paused run is not paused again (no second event).
    await expect(t.scheduler.workflows.pause(runId)).rejects.toThrow(/is not running/);
    expect(events.filter((e) => e === 'workflow:pause')).toHaveLength(1);
    await t.scheduler.resumeQueue('default');
    await settle();
    expect((await t.scheduler.workflows.getState(runId)).state).toBe('paused');
    expect(journal()).toEqual([]);
    expect((await t.scheduler.workflows.listRunning('onboarding')).map((r) => r.id)).toEqual([runId]);
    await t.scheduler.workflows.resume(runId, { context: { plan: 'pro' } });
    await settle(runId);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.state).toBe('completed');
    expect(run.context.plan).toBe('pro');
    expect(journal()).toHaveLength(4);
    expect(events).toEqual(expect.arrayContaining(['workflow:pause', 'workflow:resume']));
    await expect(t.scheduler.workflows.resume(runId)).rejects.toThrow(/not paused/);
  });

  it('cancel aborts the running step and, with rollback, compensates what completed', async () => {
    @Workflow({ name: 'cancellable' })
    class Cancellable {
      release: (() => void)[] = [];
      constructor(private readonly journal: Journal) {}
      @Step({ rollback: 'undoReserve' })
      reserve() {
        this.journal.hit('reserve');
      }
      @Step({ after: 'reserve' })
      wait(ctx: StepContext) {
        this.journal.hit('wait');
        return new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            this.journal.lines.push(`aborted:${String(ctx.abortReason)}`);
            resolve();
          }),
        );
      }
      @Step({ after: 'wait' })
      never() {
        this.journal.hit('never');
      }
      undoReserve() {
        this.journal.lines.push('rollback:reserve');
      }
    }
    await start(Cancellable);
    const runId = await t.scheduler.workflows.start('cancellable', {});
    await until(() => journal().length === 2, 'the second step to start');
    expect(journal()).toEqual(['reserve', 'wait']);
    const cancelled = await t.scheduler.workflows.cancel(runId, { reason: 'user left', rollback: true });
    expect(cancelled).toMatchObject({ state: 'cancelled', error: 'user left' });
    await settle(runId);
    // On a shared store the abort reaches the step's node by notification, so it may land after the rollback ran.
    await until(() => journal().length === 4, 'the abort and the rollback');
    expect(journal().slice(0, 2)).toEqual(['reserve', 'wait']);
    expect(journal().slice(2).sort()).toEqual(['aborted:cancel', 'rollback:reserve']);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.steps.reserve!.state).toBe('rolled_back');
    expect(run.steps.never!.state).toBe('pending');
    expect(events).toContain('workflow:cancel');
    // A cancelled run has ended: cancelling it again is refused, with no second event or rollback.
    await expect(t.scheduler.workflows.cancel(runId, { rollback: true })).rejects.toThrow(/has already ended/);
    expect(events.filter((e) => e === 'workflow:cancel')).toHaveLength(1);
  });

  it('a step that throws DiscardJobError, or whose last attempt times out and never returns, applies its policy at once', async () => {
    const { DiscardJobError } = await import('../../lib/index.js');
    @Workflow({ name: 'stubborn' })
    class Stubborn {
      @Step({ maxRetries: 5 })
      discard() {
        throw new DiscardJobError('bad input');
      }
    }
    @Workflow({ name: 'hangs' })
    class Hangs {
      started = false;
      @Step({ maxRetries: 0, timeout: '10s', onError: 'continue' })
      hang() {
        this.started = true;
        return new Promise(() => undefined);
      }
      @Step({ after: 'hang' })
      next() {}
    }
    await start(Stubborn, Hangs);
    const a = await t.scheduler.workflows.start('stubborn', {});
    const b = await t.scheduler.workflows.start('hangs', {});
    // Queue runners run the steps; the hanging one is ended by its timeout on the fake clock
    // (drainQueue would wait for it forever).
    const state = async (runId: string) => (await t.scheduler.workflows.getState(runId)).state;
    await until(async () => t.get(Hangs).started && (await state(a)) === 'failed', 'the hanging step to start, the discarded one to fail');
    await t.clock.advance('10s');
    await until(async () => (await state(b)) === 'completed', 'the hanging run to go on');
    const stubborn = await t.scheduler.workflows.getState(a);
    expect([stubborn.state, stubborn.steps.discard!.state, stubborn.steps.discard!.attempts]).toEqual(['failed', 'failed', 1]);
    const hangs = await t.scheduler.workflows.getState(b);
    expect([hangs.state, hangs.steps.hang!.state, hangs.steps.next!.state]).toEqual(['completed', 'failed', 'completed']);
  });

  it("a step that fails for good while its run is paused still fails the run ('fail')", async () => {
    @Workflow({ name: 'paused-failure' })
    class PausedFailure {
      release: ((v: unknown) => void)[] = [];
      @Step({ maxRetries: 0 })
      slow() {
        return new Promise((_resolve, reject) => this.release.push(() => reject(new Error('late failure'))));
      }
      @Step({ after: 'slow' })
      after() {}
    }
    await start(PausedFailure);
    const runId = await t.scheduler.workflows.start('paused-failure', {});
    await until(() => t.get(PausedFailure).release.length === 1, 'the slow step to start');
    await t.scheduler.workflows.pause(runId);
    t.get(PausedFailure).release[0]!(undefined);
    await settle(runId);
    expect((await t.scheduler.workflows.getState(runId)).state).toBe('failed');
  });

  it('scheduleExecution starts a run at the given time', async () => {
    await start(Race);
    const runId = await t.scheduler.workflows.scheduleExecution('race', { context: { n: 1 }, at: new Date(t.clock.now() + 3_600_000) });
    await settle();
    expect((await t.scheduler.workflows.getState(runId)).state).toBe('scheduled');
    await t.clock.advance('1h');
    await settle(runId);
    expect((await t.scheduler.workflows.getState(runId)).state).toBe('completed');
  });

  it('a scheduled workflow starts one run per tick through the planner', async () => {
    @Workflow({ name: 'nightly', schedule: { cron: '0 3 * * *' } })
    class Nightly {
      constructor(private readonly journal: Journal) {}
      @Step()
      run() {
        this.journal.hit('nightly');
      }
    }
    await start(Nightly);
    // A shared store's node leads once it holds the lease and has loaded the schedules' progress; then the 03:00 tick starts one run.
    await t.tester.leading();
    await t.clock.advance('3h');
    await until(async () => (await t.tester.drainQueue(), (await t.scheduler.workflows.summary('nightly')).runs.completed === 1), 'the run');
    await t.clock.advance('21h');
    await settle();
    expect(journal()).toEqual(['nightly']);
    expect((await t.scheduler.workflows.summary('nightly')).runs.completed).toBe(1);
    expect((await t.scheduler.getJob('workflow:nightly')).nextRunAt?.toISOString()).toBe('2026-01-02T03:00:00.000Z');
  });

  it('workflows defined at runtime with the builder, over functions and registered handlers', async () => {
    await start(Race);
    const seen: string[] = [];
    t.scheduler.workflows
      .define('pipeline')
      .step('fetch', () => ({ rows: 3 }))
      .step(
        'transform',
        (ctx) => {
          seen.push(`transform ${String(ctx.context.rows)}`);
          return { doubled: Number(ctx.context.rows) * 2 };
        },
        { after: 'fetch' },
      )
      .register();
    const runId = await t.scheduler.workflows.start('pipeline', {});
    await settle(runId);
    expect(seen).toEqual(['transform 3']);
    expect((await t.scheduler.workflows.getState(runId)).context).toEqual({ rows: 3, doubled: 6 });
    expect(
      t.scheduler.workflows
        .listAll()
        .map((w) => w.name)
        .sort(),
    ).toEqual(['pipeline', 'race']);
    // From plain JavaScript: a name that is not one, and options given as null.
    expect(() => t.scheduler.workflows.define(Symbol('w') as never)).toThrow(SchedulerConfigError);
    expect(() => t.scheduler.workflows.define('other').step(42 as never, () => 1)).toThrow(SchedulerConfigError);
    t.scheduler.workflows
      .define('other')
      .step('only', () => 1, null as never)
      .register();
  });

  it('toMermaid marks each step of a run with its state', async () => {
    await start(Branches);
    const runId = await t.scheduler.workflows.start('branches', { approve: true });
    await settle(runId);
    const diagram = await t.scheduler.workflows.toMermaid(runId);
    expect(diagram).toContain('flowchart TD');
    expect(diagram).toMatch(/class .*reject.* skipped/);
    expect(diagram).toMatch(/class .*approve.* completed/);
    expect(await t.scheduler.workflows.toTable('branches')).toContain('notify');
  });
});

describe('bad workflow definitions stop bootstrap', () => {
  it('a cycle names the class and the steps', async () => {
    @Workflow({ name: 'loop' })
    class Loop {
      @Step({ after: 'b' })
      a() {}
      @Step({ after: 'a' })
      b() {}
    }
    const error = await bootstrapError([Loop]);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as Error).message).toMatch(/Loop/);
  });

  it('two workflows with one name', async () => {
    @Workflow({ name: 'twice' })
    class One {
      @Step()
      a() {}
    }
    @Workflow({ name: 'twice' })
    class Two {
      @Step()
      a() {}
    }
    const error = await bootstrapError([One, Two]);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as Error).message).toMatch(/duplicate workflow name "twice"/);
  });

  it('an unknown dependency or rollback names the class and step', async () => {
    @Workflow({ name: 'unknown' })
    class Unknown {
      @Step({ after: 'nope' })
      a() {}
    }
    const error = await bootstrapError([Unknown]);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as Error).message).toContain('Unknown.a');
  });
});

describe.each(TEST_STORES)('workflow versions on the $kind store', ({ open }) => {
  it('after a deploy that changes the DAG, an in-flight run fails with WorkflowVersionMismatchError (never skips or repeats a step)', async () => {
    const { FakeClock } = await import('../../lib/testing/index.js');
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const store = await open('workflow_deploy');
    const clock = new FakeClock(T0);
    @Workflow({ name: 'deploy' })
    class V1 {
      @Step()
      one() {}
      @Step({ after: 'one' })
      two() {}
    }
    @Workflow({ name: 'deploy' })
    class V2 {
      @Step()
      one() {}
      @Step({ after: 'one' })
      two() {}
      @Step({ after: 'two' })
      three() {}
    }
    const before = await startApp([V1], store.options, clock);
    await before.scheduler.pauseQueue('default');
    const runId = await before.scheduler.workflows.start('deploy', {});
    await before.close();
    const after = await startApp([V2], store.options, clock);
    const failed: string[] = [];
    after.scheduler.on('workflow:fail', (e) => failed.push(e.error ?? ''));
    await after.scheduler.resumeQueue('default');
    // On a shared store the runner may hold the step's job, claimed, while the tester drains: wait for the run to end.
    await waitFor(
      async () => (await after.tester.drainQueue(), (await after.scheduler.workflows.getState(runId)).state !== 'running'),
      10_000,
      'the run to end',
    );
    const run = await after.scheduler.workflows.getState(runId);
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(/changed since this run started/);
    expect(run.steps.one!.state).toBe('pending');
    expect(failed).toHaveLength(1);
    await after.close();
    await store.drop();
    vi.restoreAllMocks();
  });
});
