import { describe, expect, it } from 'vitest';
import { Attempt, type AttemptListener, type AttemptPorts } from '../../../lib/execution/job.attempt.js';
import { RunningJobs } from '../../../lib/execution/running-jobs.js';
import type { Preemptible } from '../../../lib/decorators/job-options.js';
import { QueuePreemption } from '../../../lib/queue/queue.preemption.js';
import type { Job } from '../../../lib/store/job.types.js';
import { SchedulerEvents } from '../../../lib/telemetry/scheduler.events.js';
import { FakeClock } from '../../../lib/testing/fake.clock.js';
import { buildJob } from '../../../lib/store/new-job.js';
import { newJobInput } from '../../support/new-job.js';

/** Running attempts of one queue (handlers started), the preemption over them, and what it emitted. */
function setup(modes: Record<string, Preemptible> = {}) {
  const clock = new FakeClock();
  const running = new RunningJobs();
  const events = new SchedulerEvents();
  const emitted: string[] = [];
  events.on('job:preempt', (e) => emitted.push(`preempt ${e.preempted.id} for ${e.incoming.id}`));
  events.on('job:resume', (e) => emitted.push(`resume ${e.job.id}`));
  const preemption = new QueuePreemption({
    queue: 'default',
    running,
    events,
    clock,
    registry: { findDefinition: (name) => ({ options: { preemptible: modes[name] ?? 'suspend' } }) as never },
  });
  const listener: AttemptListener = { handlerDone: () => {}, finished: () => {}, suspend: (attempt) => preemption.suspend(attempt) };
  const ports = {
    onSettled: () => {},
    beat: async () => true,
    lost: async () => {},
    reportProgress: () => {},
    saveProgress: async () => true,
    clock,
    events,
  } as AttemptPorts;
  let seq = 0;
  const job = (priority: number, name = 'work'): Job<unknown> => ({
    ...buildJob(String(++seq), newJobInput(new Date(clock.now()), { name, priority }), new Date(clock.now())),
    state: 'running',
  });
  const start = (priority: number, name?: string) => {
    const attempt = new Attempt(job(priority, name), ports, listener);
    attempt.started = clock.now();
    attempt.handlerStarted();
    running.add(attempt);
    return attempt;
  };
  return { clock, preemption, emitted, job, start };
}

describe('QueuePreemption', () => {
  it('asks the least urgent running attempt, the latest started among equals, once per urgent job', async () => {
    const { clock, preemption, job, start } = setup();
    const a = start(5);
    await clock.advance(10);
    const b = start(5);
    const c = start(3);
    expect(preemption.worstYielding()).toBe(5);
    preemption.askFor([job(0)]);
    expect([a.preempted, b.preempted, c.preempted]).toEqual([false, true, false]);
    // Asked again for the same single job: nothing more.
    preemption.askFor([job(0)]);
    expect([a.preempted, c.preempted]).toEqual([false, false]);
    // Two urgent jobs: the second takes the next least urgent.
    preemption.askFor([job(0), job(1)]);
    expect([a.preempted, c.preempted]).toEqual([true, false]);
    expect(preemption.worstYielding()).toBe(3);
  });

  it('never asks an attempt as urgent as the incoming job', () => {
    const { preemption, job, start } = setup();
    const a = start(3);
    preemption.askFor([job(3), job(5)]);
    expect(a.preempted).toBe(false);
  });

  it("skips preemptible: false, and aborts 'requeue' jobs (reason preempted) instead of suspending them", () => {
    const { preemption, emitted, job, start } = setup({ steady: false, bounce: 'requeue' });
    const steady = start(9, 'steady');
    const bounce = start(5, 'bounce');
    const incoming = job(0);
    preemption.askFor([incoming]);
    expect(steady.preempted).toBe(false);
    expect(bounce.reason).toBe('preempted');
    expect(emitted).toEqual([`preempt ${bounce.job.id} for ${incoming.id}`]);
    expect(preemption.worstYielding()).toBe(-1);
  });

  it('suspends at the checkpoint; resumes the most urgent, earliest suspended first, never before a more urgent buffered job', async () => {
    const { clock, preemption, emitted, job, start } = setup();
    const low = start(7);
    const mid = start(5);
    const midLater = start(5);
    preemption.askFor([job(0), job(0), job(0)]);
    let resumed = 0;
    void low.checkpoint().then(() => resumed++);
    await clock.advance(1);
    void mid.checkpoint().then(() => resumed++);
    await clock.advance(1);
    void midLater.checkpoint().then(() => resumed++);
    expect(preemption.size).toBe(3);
    expect(emitted.filter((e) => e.startsWith('preempt'))).toHaveLength(3);

    expect(preemption.resumeNext(job(2))).toBe(false);
    expect(preemption.resumeNext(job(5))).toBe(true);
    expect(emitted.at(-1)).toBe(`resume ${mid.job.id}`);
    expect(preemption.resumeNext(undefined)).toBe(true);
    expect(emitted.at(-1)).toBe(`resume ${midLater.job.id}`);
    expect(preemption.resumeNext(job(6))).toBe(false);
    expect(preemption.resumeNext(job(7))).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(resumed).toBe(3);
    expect(mid.preempted).toBe(false);
  });

  it('an abort wakes a suspended attempt, which keeps no slot: ended() says it was suspended', async () => {
    const { preemption, job, start } = setup();
    const a = start(5);
    preemption.askFor([job(0)]);
    const waiting = a.checkpoint();
    expect(preemption.size).toBe(1);
    a.abort('shutdown');
    await waiting;
    // It does not resume (aborted), and its end frees no slot.
    expect(preemption.resumeNext(undefined)).toBe(false);
    expect(preemption.ended(a.job.id)).toBe(true);
    expect(preemption.size).toBe(0);
  });

  it('a checkpoint that was not asked for resolves at once', async () => {
    const { preemption, start } = setup();
    const a = start(5);
    await a.checkpoint();
    expect(preemption.size).toBe(0);
  });
});
