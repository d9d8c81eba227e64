import { describe, expect, it } from 'vitest';
import { resolveJobOptions } from '../../../lib/discovery/job-options.resolver.js';
import { AttemptHeartbeat } from '../../../lib/execution/attempt.heartbeat.js';
import { JobExecutor } from '../../../lib/execution/job.executor.js';
import { LoopStalls } from '../../../lib/execution/loop-stalls.js';
import { RunningJobs } from '../../../lib/execution/running-jobs.js';
import type { JobDefinition } from '../../../lib/scheduler.registry.js';
import { MemoryStore } from '../../../lib/store/memory.store.js';
import { SchedulerEvents } from '../../../lib/telemetry/scheduler.events.js';
import { FakeClock } from '../../../lib/testing/fake.clock.js';
import { T0 } from '../../support/app.js';
import { testClassifier } from '../../support/classifier.js';
import { newJobInput } from '../../support/new-job.js';

/** A fake clock whose time can jump with no timer firing, as it does while a handler blocks the event loop. */
class StallingClock extends FakeClock {
  private held = 0;

  override now(): number {
    return super.now() + this.held;
  }

  /** The event loop stands still for `ms`: time passes, timers wait. */
  block(ms: number): void {
    this.held += ms;
  }
}

/** An executor and the heartbeat's timer (every 1 s; rescue after 3 s) telling one `LoopStalls`, on a stalling clock. */
function setup(run: JobDefinition['run']) {
  const clock = new StallingClock(T0);
  const store = new MemoryStore();
  const running = new RunningJobs();
  const warnings: string[] = [];
  const stalls = new LoopStalls(1_000, 3_000, { warn: (message: string) => void warnings.push(message) });
  const options = resolveJobOptions(
    {},
    (option, detail) => {
      throw new Error(`${option}: ${detail}`);
    },
    null,
  );
  const definition: JobDefinition = { name: 'crunch', source: 'Reports.crunch', kind: 'method', run, options };
  const executor = new JobExecutor({
    store,
    registry: { findDefinition: () => definition, retrySettingsFor: () => ({ maxRetries: 0, backoff: () => 0 }) },
    classifier: testClassifier(clock),
    clock,
    events: new SchedulerEvents(),
    running,
    onRetry: () => undefined,
    stalls,
  });
  const heartbeat = new AttemptHeartbeat({
    store,
    clock,
    interval: 1_000,
    owned: () => running.all().map((r) => ({ id: r.job.id, attempt: r.job.attempt, startedAt: r.started })),
    lost: () => undefined,
    armed: (now, due) => stalls.armed(now, due),
    fired: (now) => stalls.fired(now, running.all()),
  });
  const claimOne = async () => {
    await store.insert([newJobInput(new Date(clock.now()), { name: 'crunch' })]);
    const [job] = await store.claim({ queue: 'default', limit: 1, node: 'n1', now: new Date(clock.now()) });
    return job!;
  };
  return { clock, executor, heartbeat, warnings, claimOne };
}

describe('LoopStalls', () => {
  it('names the handler that held the event loop past a heartbeat, once, with what it costs and what to do', async () => {
    const { clock, executor, heartbeat, warnings, claimOne } = setup(() => clock.block(4_500));
    heartbeat.start();
    await clock.advance(300);
    const job = await claimOne();
    await executor.execute(job);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`Reports.crunch (job ${job.id}, queue default, attempt 1) held the event loop: no heartbeat of this node went out for 4.8 s`);
    expect(warnings[0]).toContain('past lifeline.rescueAfter (3 s)');
    expect(warnings[0]).toContain('worker thread or a child process, or raise lifeline.rescueAfter');
    // The heartbeat's timer fires late right after: the same stall is not told twice.
    await clock.advance(1_000);
    expect(warnings).toHaveLength(1);
    await heartbeat.stop();
  });

  it('says nothing of a handler that returns within a heartbeat, however long it ran awaiting', async () => {
    const { clock, executor, heartbeat, warnings, claimOne } = setup(async () => {
      clock.block(600);
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 10_000));
    });
    heartbeat.start();
    const done = executor.execute(await claimOne());
    await clock.advance(12_000);
    await done;
    expect(warnings).toEqual([]);
    await heartbeat.stop();
  });

  it('a stall no returning handler explains is told when the heartbeat fires late, with the handlers running through it', async () => {
    let release = () => {};
    const { clock, executor, heartbeat, warnings, claimOne } = setup(() => new Promise<void>((resolve) => (release = resolve)));
    heartbeat.start();
    const job = await claimOne();
    const done = executor.execute(job);
    await clock.advance(100);
    // A SIGSTOP, or a handler's CPU work followed by an await: no handler returns while the timer is overdue.
    clock.block(1_500);
    await clock.advance(1_000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('the event loop stood still: no heartbeat of this node went out for 2.5 s');
    expect(warnings[0]).toContain(`while crunch (job ${job.id}, queue default) ran here`);
    expect(warnings[0]).toContain('Past lifeline.rescueAfter (3 s), these jobs running here are rescued');
    release();
    await done;
    await heartbeat.stop();
  });
});
