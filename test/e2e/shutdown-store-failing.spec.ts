import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, Scheduled, type JobAbortedError, type JobContext } from '../../lib/index.js';
import { LocalPeer } from '../../lib/peer/peer.js';
import { startApp } from '../support/app.js';
import { wedgeable } from '../support/wedgeable.store.js';

@Injectable()
class Work {
  started: string[] = [];
  aborts: string[] = [];
  finish = new Map<string, () => void>();
  @Scheduled({ name: 'work' })
  run(ctx: JobContext<{ id: string; quick?: boolean }>) {
    this.started.push(ctx.args.id);
    if (ctx.args.quick) return 'done';
    return new Promise<string>((resolve) => {
      this.finish.set(ctx.args.id, () => resolve(`done ${ctx.args.id}`));
      ctx.signal.addEventListener('abort', () => {
        this.aborts.push(`${ctx.args.id}:${(ctx.signal.reason as JobAbortedError).reason}`);
        resolve('aborted');
      });
    });
  }

  @Scheduled({ name: 'tick', every: '1m' })
  tick() {}
}

/** 'a' ran and completed; 'b' and 'c', held ahead, were handed back without spending an attempt. */
async function onlyAWasRun(store: MemoryStore): Promise<void> {
  const jobs = await store.list({ name: 'work', order: 'asc' });
  expect(jobs.map((j) => [j.args, j.state, j.attempt])).toEqual([
    [{ id: 'a' }, 'completed', 1],
    [{ id: 'b' }, 'available', 0],
    [{ id: 'c' }, 'available', 0],
  ]);
}

/** A lease on a store that answers late (a frozen server): its release takes until the test calls `released()`. */
function slowRelease() {
  const peer = new LocalPeer('slow-release', true);
  let release: () => void = () => undefined;
  const slowPeer = Object.assign(Object.create(peer) as LocalPeer, {
    stop: () => new Promise<void>((resolve) => (release = () => void peer.stop().then(resolve))),
  });
  return { slowPeer, released: () => release() };
}

describe('shutdown while the store fails', () => {
  let error: ReturnType<typeof vi.spyOn>;
  const errors = (): string[] => error.mock.calls.map((c: unknown[]) => String(c[0]));
  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    error = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  it('close() ends in bounded time when acknowledgements never land, and names the jobs it could not acknowledge', async () => {
    const s = wedgeable();
    const t = await startApp([Work], { store: s.option, queues: { default: 2 }, shutdownGracePeriod: '10s' });
    s.hang.complete = true;
    s.hang.release = true;
    const quick = await t.scheduler.enqueue('work', { id: 'quick', quick: true });
    const long = await t.scheduler.enqueue('work', { id: 'long' });
    await t.clock.advance(0);
    expect(t.get(Work).started.sort()).toEqual(['long', 'quick']);
    let closed = false;
    const closing = t.close().then(() => (closed = true));
    // The grace period, the long job's abort, then the wait for acknowledgements, each bounded.
    await t.clock.advance('10s');
    expect(t.get(Work).aborts).toEqual(['long:shutdown']);
    await t.clock.advance('5s');
    await t.clock.advance('5s');
    await t.clock.advance('5s');
    expect(closed).toBe(true);
    await closing;
    const said = errors().find((e) => e.includes('acknowledgement'));
    expect(said).toContain(quick.id);
    expect(said).toContain(long.id);
    // Neither was acknowledged: both stay running in the store, for the lifeline of another node (or the next boot).
    expect((await s.inner.get(quick.id))!.state).toBe('running');
    expect((await s.inner.get(long.id))!.state).toBe('running');
    s.release();
  });

  it('a loop task stuck on the store does not hold off the stop of claims or the grace period', async () => {
    const s = wedgeable();
    const t = await startApp([Work], { store: s.option, queues: { default: 1 }, shutdownGracePeriod: '10s' });
    await t.scheduler.enqueueMany('work', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    await t.clock.advance(0);
    expect(t.get(Work).started).toEqual(['a']);
    // The tick at 1m inserts its job: the insert never answers, so the loop's task never ends.
    s.hang.insert = true;
    await t.clock.advance('1m');
    let closed = false;
    const closing = t.close().then(() => (closed = true));
    await t.clock.advance(0);
    // 'a' ends during the drain: nothing else starts, buffered or claimed.
    t.get(Work).finish.get('a')!();
    await t.clock.advance('1s');
    expect(t.get(Work).started).toEqual(['a']);
    await onlyAWasRun(s.inner);
    expect(closed).toBe(false);
    // The loop's task answers at last: close completes.
    s.release();
    await t.clock.advance(0);
    await closing;
    expect(t.get(Work).started).toEqual(['a']);
  });

  it('a loop task stuck on the store does not hold off the grace period: running jobs are aborted when it ends', async () => {
    const s = wedgeable();
    const t = await startApp([Work], { store: s.option, queues: { default: 1 }, shutdownGracePeriod: '10s' });
    await t.scheduler.enqueue('work', { id: 'a' });
    await t.clock.advance(0);
    s.hang.insert = true;
    await t.clock.advance('1m');
    const closing = t.close();
    await t.clock.advance('10s');
    expect(t.get(Work).aborts).toEqual(['a:shutdown']);
    s.release();
    await t.clock.advance(0);
    await closing;
  });

  it('close() ends in bounded time when the hand-back of buffered jobs and the heartbeat under way never answer', async () => {
    const s = wedgeable();
    const t = await startApp([Work], { store: s.option, queues: { default: 1 }, shutdownGracePeriod: '10s', lifeline: { heartbeat: '5s' } });
    await t.scheduler.enqueueMany('work', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    await t.clock.advance(0);
    expect(t.get(Work).started).toEqual(['a']);
    s.hang.unclaim = true;
    s.hang.heartbeat = true;
    await t.clock.advance('5s'); // a heartbeat goes out, and never comes back
    let closed = false;
    const closing = t.close().then(() => (closed = true));
    await t.clock.advance('10s'); // the grace period: 'a' is aborted, and its hand-back lands
    expect(t.get(Work).aborts).toEqual(['a:shutdown']);
    for (let i = 0; i < 4 && !closed; i++) await t.clock.advance('5s');
    expect(closed).toBe(true);
    await closing;
    expect(errors().some((e) => e.includes('hand-back of buffered jobs'))).toBe(true);
    // Never handed back: the buffered job is still claimed, unstarted, for the lifeline to hand back without spending an attempt.
    const b = (await s.inner.list({ name: 'work', order: 'asc' })).find((j) => (j.args as { id: string }).id === 'b')!;
    expect([b.state, b.startedAt]).toEqual(['running', null]);
    expect(t.get(Work).started).toEqual(['a']);
    s.release();
  });

  it('no job starts while leadership is being handed over: a slow release holds no buffered job back from being handed back', async () => {
    const s = wedgeable();
    const { slowPeer, released } = slowRelease();
    const t = await startApp([Work], { store: { ...s.option, peer: slowPeer }, queues: { default: 1 }, shutdownGracePeriod: '10s' });
    await t.scheduler.enqueueMany('work', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    await t.clock.advance(0);
    expect(t.get(Work).started).toEqual(['a']);
    const closing = t.close();
    await t.clock.advance(0);
    // 'a' ends while the release is under way: its slot is free, and nothing takes it.
    t.get(Work).finish.get('a')!();
    await t.clock.advance('1s');
    expect(t.get(Work).started).toEqual(['a']);
    released();
    await t.clock.advance(0);
    await closing;
    expect(t.get(Work).started).toEqual(['a']);
    await onlyAWasRun(s.inner);
  });

  it('nothing is claimed while leadership is being handed over: a job enqueued then, with a slot free, stays in the store untouched', async () => {
    const s = wedgeable();
    const { slowPeer, released } = slowRelease();
    const t = await startApp([Work], { store: { ...s.option, peer: slowPeer }, queues: { default: 2 }, shutdownGracePeriod: '10s' });
    await t.scheduler.enqueue('work', { id: 'a' });
    await t.clock.advance(0);
    expect(t.get(Work).started).toEqual(['a']);
    const claim = vi.spyOn(s.inner, 'claim');
    const closing = t.close();
    await t.clock.advance(0);
    // A job arrives (its insert wakes the runner) while a slot is free, and a poll passes: none of it claims.
    const late = await t.scheduler.enqueue('work', { id: 'late', quick: true });
    await t.clock.advance('1m');
    expect(claim).not.toHaveBeenCalled();
    released();
    await t.clock.advance(0);
    t.get(Work).finish.get('a')!();
    await t.clock.advance(0);
    await closing;
    expect(claim).not.toHaveBeenCalled();
    expect(t.get(Work).started).toEqual(['a']);
    const stored = (await s.inner.get(late.id))!;
    expect([stored.state, stored.attempt, stored.errors]).toEqual(['available', 0, []]);
  });
});
