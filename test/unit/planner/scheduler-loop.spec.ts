import { Logger } from '@nestjs/common';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { TimerHandle } from '../../../lib/clock/clock.js';
import { PeriodicTask, SchedulerLoop, type LoopTask } from '../../../lib/planner/scheduler.loop.js';
import { FakeClock } from '../../../lib/testing/index.js';

const T0 = Date.UTC(2026, 0, 1);

/** A fake clock that also records the timers asked of it (delay and `precise`). */
class RecordingClock extends FakeClock {
  readonly asked: { ms: number; precise: boolean }[] = [];

  override setTimeout(callback: () => void, ms: number, options?: { precise?: boolean }): TimerHandle {
    this.asked.push({ ms, precise: options?.precise === true });
    return super.setTimeout(callback, ms);
  }
}

/** A task due at `at` (a settable time, `null` for never) that records when it ran; `work` runs inside. */
class Task implements LoopTask {
  readonly runs: number[] = [];
  work: () => Promise<void> = async () => undefined;

  constructor(
    readonly name: string,
    public at: number | null,
    private readonly log: string[],
    readonly precise = false,
  ) {}

  nextAt(): number | null {
    return this.at;
  }

  async run(now: number): Promise<void> {
    this.log.push(this.name);
    this.runs.push(now);
    this.at = null;
    await this.work();
  }
}

/** The loop on a recording fake clock, started; `log` lists task runs in order. */
function setup() {
  const clock = new RecordingClock(T0);
  const loop = new SchedulerLoop(clock);
  const log: string[] = [];
  const task = (name: string, at: number | null, precise = false) => {
    const t = new Task(name, at, log, precise);
    loop.add(t);
    return t;
  };
  loop.start();
  return { clock, loop, log, task };
}

describe('SchedulerLoop', () => {
  it('keeps one timer, for the earliest task, and runs a task only when it is due', async () => {
    const { clock, task } = setup();
    const late = task('late', T0 + 5_000);
    const early = task('early', T0 + 1_000);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(999);
    expect(early.runs).toEqual([]);
    await clock.advance(1);
    expect(early.runs).toEqual([T0 + 1_000]);
    expect(late.runs).toEqual([]);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance('4s');
    expect(late.runs).toEqual([T0 + 5_000]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs the due tasks one after another, in the order they were added', async () => {
    const { clock, log, task } = setup();
    let release!: () => void;
    const first = task('first', T0 + 1_000);
    first.work = () => new Promise<void>((resolve) => (release = resolve));
    task('second', T0 + 1_000);
    await clock.advance('1s');
    expect(log).toEqual(['first']);
    release();
    await clock.advance(0);
    expect(log).toEqual(['first', 'second']);
  });

  it('poke re-reads the tasks: a task moved earlier runs at its new time', async () => {
    const { clock, loop, task } = setup();
    const t = task('t', T0 + 60_000);
    t.at = T0 + 2_000;
    await clock.advance('2s');
    expect(t.runs).toEqual([]);
    loop.poke();
    await clock.advance(0);
    expect(t.runs).toEqual([T0 + 2_000]);
    t.at = T0 + 5_000;
    loop.poke();
    await clock.advance('2999ms');
    expect(t.runs).toEqual([T0 + 2_000]);
    await clock.advance(1);
    expect(t.runs).toEqual([T0 + 2_000, T0 + 5_000]);
  });

  it('a poke during a run re-arms when the run ends, not in the middle of it', async () => {
    const { clock, loop, task } = setup();
    let release!: () => void;
    const a = task('a', T0 + 1_000);
    a.work = () => new Promise<void>((resolve) => (release = resolve));
    const b = task('b', null);
    await clock.advance('1s');
    b.at = T0 + 1_500;
    loop.poke();
    expect(clock.pendingTimers).toBe(0);
    release();
    await clock.advance(0);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(500);
    expect(b.runs).toEqual([T0 + 1_500]);
  });

  it('a task that throws is logged once with its stack, not at every run; the others still run and the loop goes on', async () => {
    const errors = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const logs = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    onTestFinished(() => {
      errors.mockRestore();
      logs.mockRestore();
    });
    const { clock, loop, task } = setup();
    const bad = task('bad', T0 + 1_000);
    bad.work = () => Promise.reject(new Error('boom'));
    const good = task('good', T0 + 1_000);
    await clock.advance('1s');
    expect(good.runs).toEqual([T0 + 1_000]);
    bad.at = T0 + 2_000;
    good.at = T0 + 2_000;
    loop.poke();
    await clock.advance('1s');
    expect(bad.runs).toHaveLength(2);
    expect(good.runs).toHaveLength(2);
    expect(errors.mock.calls.map(([m]) => String(m).split('\n')[0])).toEqual(['bad failed: Error: boom']);
    bad.work = async () => undefined;
    bad.at = T0 + 3_000;
    loop.poke();
    await clock.advance('1s');
    expect(logs.mock.calls.map(([m]) => m)).toEqual(['bad works again after 2 failures']);
  });

  it('stop clears the timer and waits for the run in progress; nothing runs after it', async () => {
    const { clock, loop, log, task } = setup();
    let release!: () => void;
    const a = task('a', T0 + 1_000);
    a.work = () => new Promise<void>((resolve) => (release = resolve));
    task('b', T0 + 1_000);
    await clock.advance('1s');
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await clock.advance(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(log).toEqual(['a']);
    task('c', T0 + 2_000);
    loop.poke();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance('1m');
    expect(log).toEqual(['a']);
  });

  it('nothing runs before start', async () => {
    const clock = new RecordingClock(T0);
    const loop = new SchedulerLoop(clock);
    const log: string[] = [];
    loop.add(new Task('a', T0 + 1_000, log));
    await clock.advance('1m');
    expect(log).toEqual([]);
    loop.start();
    await clock.advance(0);
    expect(log).toEqual(['a']);
  });

  it('tells, before the tasks of a tick run, when its timer was due (a late one tells that the process stood still)', async () => {
    const clock = new FakeClock(T0);
    const log: string[] = [];
    const loop = new SchedulerLoop(clock, undefined, (dueAt) => log.push(`due ${dueAt - T0}`));
    loop.add(new Task('a', T0 + 1_000, log));
    loop.add(new Task('b', T0 + 1_000, log));
    loop.start();
    await clock.advance('5s');
    expect(log).toEqual(['due 1000', 'a', 'b']);
  });

  it('asks the clock for a precise timer when a precise task is the earliest', async () => {
    const { clock, loop, task } = setup();
    task('plugin', T0 + 5_000);
    expect(clock.asked.at(-1)).toEqual({ ms: 5_000, precise: false });
    task('planner', T0 + 1_000, true);
    expect(clock.asked.at(-1)).toEqual({ ms: 1_000, precise: true });
    await clock.advance('1s');
    expect(clock.asked.at(-1)).toEqual({ ms: 4_000, precise: false });
    loop.poke();
    expect(clock.asked).toHaveLength(3);
  });
});

describe('PeriodicTask', () => {
  it('runs every interval from when it is first asked, while enabled', async () => {
    const clock = new FakeClock(T0);
    const loop = new SchedulerLoop(clock);
    const runs: number[] = [];
    let enabled = true;
    loop.add(
      new PeriodicTask(
        'prune',
        10_000,
        async (now) => {
          runs.push(now - T0);
        },
        () => enabled,
      ),
    );
    loop.start();
    await clock.advance('25s');
    expect(runs).toEqual([10_000, 20_000]);
    enabled = false;
    await clock.advance('30s');
    loop.poke();
    await clock.advance('30s');
    expect(runs).toEqual([10_000, 20_000]);
  });
});
