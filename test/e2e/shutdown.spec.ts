import { Injectable, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, Scheduled, SchedulerModule, SchedulerService, type JobAbortedError, type JobContext } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { T0, startApp } from '../support/app.js';

@Injectable()
class Work {
  started: string[] = [];
  aborts: string[] = [];
  finish = new Map<string, () => void>();
  @Scheduled({ name: 'work' })
  run(ctx: JobContext<{ id: string; cooperative?: boolean }>) {
    this.started.push(ctx.args.id);
    return new Promise<string>((resolve) => {
      this.finish.set(ctx.args.id, () => resolve(`done ${ctx.args.id}`));
      ctx.signal.addEventListener('abort', () => this.aborts.push(`${ctx.args.id}:${(ctx.signal.reason as JobAbortedError).reason}`));
    });
  }
}

describe('graceful shutdown', () => {
  let warn: ReturnType<typeof vi.spyOn>;
  const warnings = (): string[] => warn.mock.calls.map((c: unknown[]) => String(c[0]));
  beforeEach(() => (warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined)));
  afterEach(() => vi.restoreAllMocks());

  it('starts nothing after close, and lets running jobs finish within the grace period', async () => {
    const store = new MemoryStore();
    const t = await startApp([Work], { store, queues: { default: 1 }, shutdownGracePeriod: '10s' });
    await t.scheduler.enqueueMany('work', [{ id: 'a' }, { id: 'b' }]);
    await t.clock.advance(0);
    const work = t.get(Work);
    expect(work.started).toEqual(['a']);
    const closing = t.close();
    await t.clock.advance('5s');
    work.finish.get('a')!();
    await closing;
    expect(work.started).toEqual(['a']);
    expect(work.aborts).toEqual([]);
    const jobs = await store.list({ name: 'work', order: 'asc' });
    expect(jobs.map((j) => [j.args, j.state])).toEqual([
      [{ id: 'a' }, 'completed'],
      [{ id: 'b' }, 'available'],
    ]);
    expect(t.clock.pendingTimers).toBe(0);
  });

  it('after the grace period aborts running jobs (reason shutdown) and hands them back to the queue', async () => {
    const store = new MemoryStore();
    const t = await startApp([Work], { store, queues: { default: 2 }, shutdownGracePeriod: '10s' });
    const job = await t.scheduler.enqueue('work', { id: 'long' }, { maxRetries: 0 });
    await t.clock.advance(0);
    const closing = t.close();
    await t.clock.advance('10s');
    expect(t.get(Work).aborts).toEqual(['long:shutdown']);
    // Its handler ignores the signal: it is handed back once the abort grace is over, and named.
    expect((await store.get(job.id))!.state).toBe('running');
    await t.clock.advance('5s');
    await closing;
    expect(warnings().some((w) => w.includes('work (') && w.includes('ignores ctx.signal'))).toBe(true);
    const stored = (await store.get(job.id))!;
    expect(stored.state).toBe('available');
    expect(stored.errors.map((e) => e.kind)).toEqual(['shutdown']);
    // The interruption is not held against it: it may still run (maxRetries 0 → one more attempt).
    expect(stored.maxAttempts).toBeGreaterThan(stored.attempt);
    expect(t.clock.pendingTimers).toBe(0);

    // Another node (here: the next boot) runs it.
    const next = await startApp([Work], { store, queues: { default: 2 } }, t.clock);
    await next.clock.advance(0);
    next.get(Work).finish.get('long')!();
    await next.tester.drainQueue();
    expect((await store.get(job.id))!.state).toBe('completed');
    await next.close();
  });

  it('leaves no timer or handle behind on the system clock', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const app = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot({ pollInterval: '50ms' })],
      providers: [Work],
    }).compile();
    await app.init();
    await app.get(SchedulerService).enqueue('work', { id: 'x' });
    // The loop's one timer is re-armed when a tick ends: look until it is there.
    for (let i = 0; i < 50 && timers() <= before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(timers()).toBeGreaterThan(before);
    app.get(Work).finish.get('x')!();
    await app.close();
    expect(timers()).toBe(before);
  });

  it('a per-queue grace period overrides the module one', async () => {
    const store = new MemoryStore();
    const t = await startApp(
      [Work],
      { store, queues: { default: { concurrency: 1, shutdownGracePeriod: '1s' } }, shutdownGracePeriod: '1h' },
      new FakeClock(T0),
    );
    await t.scheduler.enqueue('work', { id: 'q' });
    await t.clock.advance(0);
    const closing = t.close();
    await t.clock.advance('1s');
    expect(t.get(Work).aborts).toEqual(['q:shutdown']);
    await t.clock.advance('5s');
    await closing;
  });
});

describe('shutdown keeps heartbeats and hands everything back', () => {
  beforeEach(() => vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => vi.restoreAllMocks());

  it('a job finishing within a grace period longer than rescueAfter is never rescued by another node', async () => {
    // Two nodes on one store and one clock: `draining` closes while its job runs; `rescuer` sweeps.
    const store = new MemoryStore();
    const lifeline = { heartbeat: '10s', rescueAfter: '30s', interval: '5s' };
    const draining = await startApp([Work], { store, queues: { default: 1 }, shutdownGracePeriod: '2m', lifeline });
    const rescuer = await startApp([Work], { store, queues: false, lifeline }, draining.clock);
    const job = await draining.scheduler.enqueue('work', { id: 'slow' });
    await draining.clock.advance(0);
    expect(draining.get(Work).started).toEqual(['slow']);
    const closing = draining.close();
    await draining.clock.advance('90s');
    expect((await store.get(job.id))!.state).toBe('running');
    draining.get(Work).finish.get('slow')!();
    await closing;
    const stored = (await store.get(job.id))!;
    expect([stored.state, stored.attempt, stored.errors]).toEqual(['completed', 1, []]);
    await rescuer.close();
  });
});
