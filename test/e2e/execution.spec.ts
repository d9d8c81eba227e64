import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DiscardJobError,
  JobAbortedError,
  MemoryStore,
  StaleAttemptError,
  type JsonValue,
  RetryJobError,
  Scheduled,
  Worker,
  type JobContext,
  type JobExceptionEvent,
  type JobWorker,
  type SchedulerEventName,
} from '../../lib/index.js';
import type { AttemptRef, CompleteOptions } from '../../lib/store/index.js';
import { Gate } from '../support/gate.job.js';
import { startApp } from '../support/app.js';

describe('execution', () => {
  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  it('runs at most `concurrency` jobs of a queue at once, woken by the notifier (no poll needed)', async () => {
    const t = await startApp([Gate], { queues: { default: 2 }, pollInterval: '1h' });
    await t.scheduler.enqueueMany('gate', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    await t.clock.advance(0);
    const gate = t.get(Gate);
    expect(gate.started).toEqual(['a', 'b']);
    gate.release('a');
    await t.clock.advance(0);
    expect(gate.started).toEqual(['a', 'b', 'c']);
    gate.release('b');
    gate.release('c');
    await t.close();
  });

  it('starts priority 0 first, FIFO within a priority', async () => {
    const t = await startApp([Gate], { queues: { default: 1 } });
    await t.scheduler.pauseQueue('default');
    await t.scheduler.enqueue('gate', { id: 'p5-first' }, { priority: 5 });
    await t.scheduler.enqueue('gate', { id: 'p0-first' }, { priority: 0 });
    await t.scheduler.enqueue('gate', { id: 'p5-second' }, { priority: 5 });
    await t.scheduler.enqueue('gate', { id: 'p0-second' }, { priority: 0 });
    await t.scheduler.resumeQueue('default');
    const gate = t.get(Gate);
    for (let i = 0; i < 4; i++) {
      await t.clock.advance(0);
      gate.release(gate.started[i]!);
    }
    await t.tester.drainQueue();
    expect(gate.started).toEqual(['p0-first', 'p0-second', 'p5-first', 'p5-second']);
    await t.close();
  });

  it('pauses, resumes and scales a queue at runtime, with events', async () => {
    const t = await startApp([Gate], { queues: { default: 1 } });
    const events: string[] = [];
    for (const e of ['queue:pause', 'queue:resume', 'queue:scale'] as SchedulerEventName[]) t.scheduler.on(e, () => events.push(e));
    const gate = t.get(Gate);
    await t.scheduler.pauseQueue('default');
    await t.scheduler.enqueueMany('gate', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    await t.clock.advance('5s');
    expect(gate.started).toEqual([]);
    expect((await t.scheduler.queueStats('default')).paused).toBe(true);
    await t.scheduler.resumeQueue('default');
    await t.clock.advance(0);
    expect(gate.started).toEqual(['a']);
    await t.scheduler.scaleQueue('default', 3);
    await t.clock.advance(0);
    expect(gate.started).toEqual(['a', 'b', 'c']);
    expect(await t.scheduler.queueStats('default')).toMatchObject({ concurrency: 3, running: 3, runningHere: 3 });
    expect(events).toEqual(['queue:pause', 'queue:resume', 'queue:scale']);
    ['a', 'b', 'c'].forEach((id) => gate.release(id));
    await t.close();
  });

  it('aborts ctx.signal on timeout and records a timeout failure, then retries', async () => {
    @Injectable()
    class Slow {
      reasons: unknown[] = [];
      @Scheduled({ name: 'slow', timeout: '5s', maxRetries: 1, backoff: '1s' })
      run(ctx: JobContext) {
        return new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            this.reasons.push(ctx.signal.reason);
            resolve();
          }),
        );
      }
    }
    const t = await startApp([Slow]);
    const exceptions: JobExceptionEvent[] = [];
    t.scheduler.on('job:exception', (e) => exceptions.push(e));
    const job = await t.scheduler.enqueue('slow');
    await t.clock.advance('5s');
    expect(t.get(Slow).reasons).toHaveLength(1);
    expect(t.get(Slow).reasons[0]).toBeInstanceOf(JobAbortedError);
    expect((t.get(Slow).reasons[0] as JobAbortedError).reason).toBe('timeout');
    expect(exceptions[0]).toMatchObject({ kind: 'timeout', outcome: 'retry' });
    await t.clock.advance('6s');
    const stored = await t.scheduler.deadLetters.get(job.id);
    expect(stored.errors.map((e) => e.kind)).toEqual(['timeout', 'timeout']);
    expect(exceptions.map((e) => e.outcome)).toEqual(['retry', 'dead']);
    await t.close();
  });

  it('retries a thrown error with backoff until maxRetries, then the job is dead, keeping each error', async () => {
    @Worker({ name: 'flaky', maxRetries: 2 })
    class Flaky implements JobWorker {
      attempts: number[] = [];
      perform(ctx: JobContext) {
        this.attempts.push(ctx.attempt);
        throw new Error(`boom ${ctx.attempt} ${'x'.repeat(5000)}`);
      }
      backoff(attempt: number) {
        return attempt * 10_000;
      }
    }
    const t = await startApp([Flaky]);
    const job = await t.scheduler.enqueue('flaky');
    await t.clock.advance('9s');
    expect(t.get(Flaky).attempts).toEqual([1]);
    await t.clock.advance('1s');
    expect(t.get(Flaky).attempts).toEqual([1, 2]);
    await t.clock.advance('20s');
    expect(t.get(Flaky).attempts).toEqual([1, 2, 3]);
    const dead = await t.scheduler.deadLetters.get(job.id);
    expect(dead.state).toBe('dead');
    expect(dead.errors.map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(dead.errors[0]!.message.length).toBeLessThan(2_100);
    expect(dead.errors[0]!.message).toMatch(/^boom 1 x+… \(\d+ more characters\)$/);
    await t.close();
  });

  it('RetryJobError retries after its own delay; DiscardJobError stops for good', async () => {
    @Injectable()
    class Jobs {
      retries: number[] = [];
      @Scheduled({ name: 'retry-me', backoff: '1h' })
      retry(ctx: JobContext) {
        this.retries.push(ctx.attempt);
        if (ctx.attempt === 1) throw new RetryJobError('not yet', { delay: 2_000 });
        return 'done';
      }
      @Scheduled({ name: 'discard-me' })
      discard() {
        throw new DiscardJobError('bad input');
      }
    }
    const t = await startApp([Jobs]);
    const discards: string[] = [];
    t.scheduler.on('job:discard', (e) => discards.push(e.reason));
    const r = await t.scheduler.enqueue('retry-me');
    const d = await t.scheduler.enqueue('discard-me');
    await t.clock.advance('2s');
    expect(t.get(Jobs).retries).toEqual([1, 2]);
    expect((await t.scheduler.history('retry-me'))[0]).toMatchObject({ id: r.id, state: 'completed', result: 'done' });
    expect((await t.scheduler.history('discard-me'))[0]).toMatchObject({ id: d.id, state: 'discarded', attempt: 1 });
    expect(discards).toEqual(['bad input']);
    await t.close();
  });

  it('never crashes on a failing handler and is never silent (log + event)', async () => {
    @Injectable()
    class Bad {
      @Scheduled({ name: 'bad', maxRetries: 0 })
      run() {
        return Promise.reject('not even an Error');
      }
    }
    const t = await startApp([Bad]);
    const errors: unknown[] = [];
    t.scheduler.on('job:exception', (e) => errors.push(e.error));
    const logged = vi.mocked(Logger.prototype.error);
    await t.scheduler.enqueue('bad');
    const runs = await t.tester.drainQueue();
    expect(runs.map((r) => r.outcome)).toEqual(['dead']);
    expect(errors).toEqual(['not even an Error']);
    expect(logged.mock.calls.some(([m]) => String(m).includes('bad') && String(m).includes('not even an Error'))).toBe(true);
    await t.close();
  });

  it('emits job:start and job:stop with duration and outcome, and a listener that throws breaks nothing', async () => {
    @Injectable()
    class Timed {
      @Scheduled({ name: 'timed' })
      async run(ctx: JobContext) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        return { attempt: ctx.attempt };
      }
    }
    const t = await startApp([Timed]);
    const seen: string[] = [];
    t.scheduler.on('job:start', () => {
      throw new Error('listener bug');
    });
    t.scheduler.on('job:start', (e) => seen.push(`start ${e.job.name} ${e.outcome}`));
    t.scheduler.on('job:stop', (e) => seen.push(`stop ${e.job.name} ${e.outcome} ${JSON.stringify(e.result)} ${typeof e.duration}`));
    await t.scheduler.enqueue('timed');
    await t.tester.drainQueue();
    expect(seen).toEqual(['start timed started', 'stop timed completed {"attempt":1} number']);
    await t.close();
  });

  it('heartbeats running jobs and gives them a fencing token that grows with every attempt', async () => {
    @Injectable()
    class Beat {
      tokens: number[] = [];
      @Scheduled({ name: 'beat', maxRetries: 2, backoff: 0 })
      async run(ctx: JobContext) {
        this.tokens.push(ctx.fencingToken);
        await ctx.heartbeat();
        if (ctx.attempt < 3) throw new Error('again');
      }
    }
    const t = await startApp([Beat]);
    const job = await t.scheduler.enqueue('beat');
    await t.tester.drainQueue();
    await t.clock.advance(0);
    await t.tester.drainQueue();
    const tokens = t.get(Beat).tokens;
    expect(tokens).toHaveLength(3);
    expect([...tokens].sort((a, b) => a - b)).toEqual(tokens);
    expect(new Set(tokens).size).toBe(3);
    expect((await t.scheduler.history('beat'))[0]!.heartbeatAt).not.toBeNull();
    expect((await t.scheduler.history('beat'))[0]!.id).toBe(job.id);
    await t.close();
  });

  it('a handler may destructure its context, heartbeat and signal included, and JSON of it shows only its data', async () => {
    @Injectable()
    class Destructured {
      seen: unknown[] = [];
      @Scheduled({ name: 'destructured' })
      async run({ args, attempt, heartbeat, signal, locals }: JobContext<{ n: number }>) {
        await heartbeat();
        locals.x = 1;
        this.seen.push(args.n, attempt, signal.aborted, locals.x);
      }
      @Scheduled({ name: 'serialised' })
      run2(ctx: JobContext) {
        this.seen.push(Object.keys(JSON.parse(JSON.stringify(ctx)) as object).sort());
      }
    }
    const t = await startApp([Destructured]);
    await t.scheduler.enqueue('destructured', { n: 7 });
    await t.scheduler.enqueue('serialised');
    await t.tester.drainQueue();
    const [n, attempt, aborted, local, keys] = t.get(Destructured).seen;
    expect([n, attempt, aborted, local]).toEqual([7, 1, false, 1]);
    expect(keys).toEqual([
      'args',
      'attempt',
      'fencingToken',
      'id',
      'locals',
      'maxAttempts',
      'meta',
      'misfired',
      'name',
      'queue',
      'schedule',
      'scheduledAt',
      'tags',
    ]);
    await t.close();
  });

  it('a completion the store refuses (rejected as stale, or thrown) is reported and frees its slot; the queue goes on', async () => {
    /** Refuses the first two completions: the first rejects as stale, the second throws synchronously. */
    class RefusingStore extends MemoryStore {
      calls = 0;
      override complete(ref: AttemptRef, result: JsonValue | null, now: Date, options?: CompleteOptions): Promise<void> {
        this.calls++;
        if (this.calls === 1) return Promise.reject(new StaleAttemptError(ref.id, ref.attempt));
        if (this.calls === 2) throw new Error('disk full');
        return super.complete(ref, result, now, options);
      }
    }
    const store = new RefusingStore();
    @Injectable()
    class Work {
      runs: number[] = [];
      @Scheduled({ name: 'work' })
      run(ctx: JobContext<{ n: number }>) {
        this.runs.push(ctx.args.n);
        return { n: ctx.args.n };
      }
    }
    const t = await startApp([Work], { store, queues: { default: 1 } });
    const stale: string[] = [];
    const stops: number[] = [];
    t.scheduler.on('job:stale', (e) => stale.push(`${e.operation} ${e.jobId}`));
    t.scheduler.on('job:stop', (e) => stops.push((e.result as { n: number }).n));
    const [a, b, c] = await t.scheduler.enqueueMany('work', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    await t.tester.drainQueue();
    expect(t.get(Work).runs).toEqual([1, 2, 3]);
    expect(stale).toEqual([`complete ${a!.id}`]);
    expect(Logger.prototype.error).toHaveBeenCalledWith(expect.stringContaining(`job ${b!.id}: could not complete: disk full`));
    // Only the written completion counts as a stop; the refused ones stay running in the store (the lifeline rescues them).
    expect(stops).toEqual([3]);
    expect((await store.get(c!.id))?.state).toBe('completed');
    expect((await store.get(a!.id))?.state).toBe('running');
    await t.close();
  });
});
