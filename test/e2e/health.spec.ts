import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, Scheduled, Worker, type JobWorker } from '../../lib/index.js';
import { flushPromises } from '../../lib/testing/index.js';
import { startApp, type TestApp } from '../support/app.js';
import { wedgeable } from '../support/wedgeable.store.js';

@Injectable()
class Jobs {
  runs = 0;
  @Scheduled({ every: '1m', name: 'tick' })
  tick() {
    this.runs++;
  }
}

/** A job that runs until its gate opens. */
@Worker({ name: 'long', timeout: false })
class Long implements JobWorker<Record<string, never>> {
  static gates: (() => void)[] = [];
  perform() {
    return new Promise<void>((resolve) => Long.gates.push(resolve));
  }
}

@Worker({ name: 'doomed', maxRetries: 0 })
class Doomed implements JobWorker<Record<string, never>> {
  perform() {
    throw new Error('no luck');
  }
}

describe('health: the checks on the fake clock', () => {
  let t: TestApp | undefined;
  beforeEach(() => {
    Long.gates = [];
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const open of Long.gates.splice(0)) open();
    await t?.close();
    t = undefined;
    vi.restoreAllMocks();
  });

  it('liveness goes down when the planner loop is wedged on a store call, while the process still answers', async () => {
    const s = wedgeable();
    t = await startApp([Jobs], { store: s.option, pollInterval: '1s' });
    expect((await t.scheduler.health({ checks: 'liveness' })).status).toBe('up');
    s.hang.insert = true;
    // The tick at 1m inserts its job: the insert never answers, so the loop's task never ends.
    await t.clock.advance('1m');
    expect((await t.scheduler.health({ checks: 'liveness' })).checks.loop).toMatchObject({ status: 'up', stalledMs: 0 });
    await t.clock.advance('3001ms');
    const wedged = await t.scheduler.health({ checks: 'liveness' });
    expect(wedged.status).toBe('down');
    expect(wedged.checks.loop).toMatchObject({ status: 'down', stalledMs: 3001, maxStallMs: 3000 });
    expect(wedged.checks.loop?.message).toContain('held up for 3001 ms');
    // Everything else still answers: the store pings, the node is started and not draining.
    const ready = await t.scheduler.health({ checks: 'readiness' });
    expect(ready.status).toBe('up');
    expect(Object.keys(ready.checks).sort()).toEqual(['draining', 'started', 'store']);
    s.release();
    await flushPromises();
    expect((await t.scheduler.health({ checks: 'liveness' })).status).toBe('up');
    await t.tester.drainQueue();
    expect(t.get(Jobs).runs).toBe(1);
  });

  it('liveness goes down when a queue’s claim never answers, and maxStallMs moves the line', async () => {
    const s = wedgeable();
    // The queue's first claim, at start, never answers.
    s.hang.claim = true;
    t = await startApp([Long], { store: s.option, pollInterval: '1s' });
    try {
      await t.clock.advance('3s');
      expect((await t.scheduler.health({ checks: ['loop'] })).checks.loop).toMatchObject({ status: 'up', stalledMs: 3000 });
      await t.clock.advance('1ms');
      expect((await t.scheduler.health({ checks: ['loop'] })).checks.loop).toMatchObject({ status: 'down', stalledMs: 3001 });
      expect((await t.scheduler.health({ checks: ['loop'], loop: { maxStallMs: 10_000 } })).checks.loop?.status).toBe('up');
    } finally {
      s.release();
    }
    await flushPromises();
    expect((await t.scheduler.health({ checks: ['loop'] })).checks.loop?.status).toBe('up');
  });

  it('a job running far longer than maxStallMs leaves liveness up (job length is irrelevant)', async () => {
    t = await startApp([Long], { pollInterval: '1s' });
    await t.scheduler.enqueue('long', {});
    await t.clock.advance('1s');
    expect(Long.gates).toHaveLength(1);
    await t.clock.advance('10m');
    expect((await t.scheduler.health({ checks: 'liveness' })).status).toBe('up');
  });

  it('store: up, degraded past slowMs, down past timeoutMs or on error, and one ping per cacheMs', async () => {
    const s = wedgeable();
    t = await startApp([], { store: s.option });
    const ping = vi.spyOn(s.inner, 'ping');
    expect((await t.scheduler.health({ checks: ['store'] })).checks.store).toMatchObject({ status: 'up', responseMs: 0 });
    expect((await t.scheduler.health({ checks: ['store'] })).checks.store?.status).toBe('up');
    expect(ping).toHaveBeenCalledTimes(1);

    await t.clock.advance('5s');
    s.hang.ping = true;
    const slow = t.scheduler.health({ checks: ['store'] });
    await t.clock.advance('300ms');
    s.release();
    expect((await slow).checks.store).toMatchObject({ status: 'degraded', responseMs: 300 });

    await t.clock.advance('5s');
    s.hang.ping = true;
    const hung = t.scheduler.health({ checks: ['store'], store: { timeoutMs: 1000 } });
    await t.clock.advance('1s');
    expect((await hung).checks.store).toMatchObject({ status: 'down', message: 'the store ping did not answer within 1000 ms' });
    s.release();

    await t.clock.advance('5s');
    ping.mockRejectedValueOnce(new Error('connection refused'));
    expect((await t.scheduler.health({ checks: ['store'] })).checks.store).toMatchObject({ status: 'down', message: 'connection refused' });
  });

  it('leader: up while this node leads; leaderless is degraded, then down after graceMs', async () => {
    t = await startApp([], { nodeName: 'node-a' });
    expect((await t.scheduler.health({ checks: ['leader'] })).checks.leader).toMatchObject({ status: 'up', leader: 'node-a' });
    await t.close();
    // peer: false, with the default 30 s lease: nobody leads, and the grace is 60 s.
    t = await startApp([], { peer: false });
    expect((await t.scheduler.health({ checks: ['leader'] })).checks.leader).toMatchObject({ status: 'degraded', leaderlessMs: 0, graceMs: 60_000 });
    await t.clock.advance('59s');
    expect((await t.scheduler.health({ checks: ['leader'] })).checks.leader?.status).toBe('degraded');
    await t.clock.advance('1s');
    expect((await t.scheduler.health({ checks: ['leader'] })).checks.leader).toMatchObject({ status: 'down', leaderlessMs: 60_000 });
    expect((await t.scheduler.health({ checks: ['leader'], leader: { graceMs: 120_000 } })).checks.leader?.status).toBe('degraded');
  });

  it('lag: the oldest due job no node claimed, degraded from warnMs, down from failMs; paused and unlisted queues are not judged', async () => {
    t = await startApp([Long], { queues: false });
    await t.scheduler.enqueue('long', {});
    expect((await t.scheduler.health({ checks: ['lag'] })).checks.lag).toMatchObject({ status: 'up', lagMs: 0, queues: { default: 0 } });
    await t.clock.advance('60s');
    const warn = await t.scheduler.health({ checks: ['lag'] });
    // This node runs no queue, and no other node lives: the message says so.
    expect(warn.checks.lag).toMatchObject({ status: 'degraded', lagMs: 60_000, message: expect.stringContaining('; no live node runs this queue') });
    expect(warn.queues).toEqual([{ queue: 'default', lagMs: 60_000, available: 1, paused: false, runners: 0 }]);
    expect((await t.scheduler.health({ checks: ['lag'], lag: { queues: ['emails'] } })).checks.lag?.status).toBe('up');
    await t.clock.advance('240s');
    expect((await t.scheduler.health({ checks: ['lag'] })).checks.lag).toMatchObject({ status: 'down', lagMs: 300_000 });
    await t.scheduler.pauseQueue('default');
    await t.clock.advance('5s');
    expect((await t.scheduler.health({ checks: ['lag'] })).checks.lag?.status).toBe('up');
  });

  it('stuck: running jobs past their lease are degraded, more than maxCount down', async () => {
    const store = new MemoryStore();
    // No leader here: the lifeline does not rescue them while we look.
    t = await startApp([Long], { store, queues: false, peer: false });
    await t.scheduler.enqueue('long', {});
    await t.scheduler.enqueue('long', {});
    await store.claim({ queue: 'default', limit: 2, node: 'ghost', now: new Date(t.clock.now()) });
    expect((await t.scheduler.health({ checks: ['stuck'] })).checks.stuck).toMatchObject({ status: 'up', count: 0 });
    await t.clock.advance('46s');
    expect((await t.scheduler.health({ checks: ['stuck'] })).checks.stuck).toMatchObject({ status: 'degraded', count: 2 });
    expect((await t.scheduler.health({ checks: ['stuck'], stuck: { maxCount: 1 } })).checks.stuck).toMatchObject({ status: 'down', count: 2 });
  });

  it('deadLetters: a new dead letter is degraded, more than max down, and older than windowMs forgotten', async () => {
    t = await startApp([Doomed], {});
    await t.scheduler.enqueue('doomed', {});
    await t.tester.drainQueue();
    expect((await t.scheduler.health({ checks: ['deadLetters'] })).checks.deadLetters).toMatchObject({ status: 'degraded', count: 1 });
    expect((await t.scheduler.health({ checks: ['deadLetters'], deadLetters: { max: 0 } })).checks.deadLetters).toMatchObject({ status: 'down' });
    await t.clock.advance('1h');
    expect((await t.scheduler.health({ checks: ['deadLetters'] })).checks.deadLetters).toMatchObject({ status: 'up', count: 0 });
  });

  it('readiness: the draining check goes down while the node shuts down', async () => {
    t = await startApp([Long], { pollInterval: '1s', shutdownGracePeriod: '1m' });
    await t.scheduler.enqueue('long', {});
    await t.clock.advance('1s');
    expect((await t.scheduler.health({ checks: 'readiness' })).status).toBe('up');
    const closing = t.close();
    await flushPromises();
    const draining = await t.scheduler.health({ checks: 'readiness' });
    expect(draining.status).toBe('down');
    expect(draining.checks.draining).toMatchObject({ status: 'down', message: 'the node is shutting down (draining its queues)' });
    for (const open of Long.gates.splice(0)) open();
    await closing;
    t = undefined;
  });

  it('startup, and the whole tree: node, leader, per-queue lag, the six checks', async () => {
    t = await startApp([Jobs], { nodeName: 'node-a' });
    expect(await t.scheduler.health({ checks: 'startup' })).toMatchObject({
      status: 'up',
      checks: { discovery: { status: 'up' }, migrations: { status: 'up' } },
    });
    const tree = await t.scheduler.health();
    expect(tree).toMatchObject({ status: 'up', node: 'node-a', leader: { self: true, node: 'node-a' }, queues: [{ queue: 'default', lagMs: 0 }] });
    expect(Object.keys(tree.checks).sort()).toEqual(['deadLetters', 'lag', 'leader', 'loop', 'store', 'stuck']);
  });
});
