import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, Scheduled, type JobContext } from '../../lib/index.js';
import { Gate } from '../support/gate.job.js';
import { startApp, type TestApp } from '../support/app.js';

describe('prefetch buffer keeps the promises of an unbuffered claim', () => {
  let t: TestApp;
  let store: MemoryStore;
  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    store = new MemoryStore();
    t = await startApp([Gate], {
      store,
      queues: { default: { concurrency: 2, prefetch: 4 } },
      lifeline: { heartbeat: '10s', rescueAfter: '30s', interval: '5s' },
    });
  });
  afterEach(async () => {
    const closing = t.close();
    await t.clock.advance('1m');
    await closing;
    vi.restoreAllMocks();
  });
  const states = async () => Object.fromEntries((await store.list({ name: 'gate', order: 'asc' })).map((j) => [(j.args as { id: string }).id, j.state]));

  it('claims its free slots plus jobs ahead (starting at the concurrency) in one go; buffered jobs count as running', async () => {
    await t.scheduler.enqueueMany(
      'gate',
      ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id })),
    );
    await t.clock.advance(0);
    expect(t.get(Gate).started).toEqual(['a', 'b']);
    expect(await states()).toEqual({ a: 'running', b: 'running', c: 'running', d: 'running', e: 'available', f: 'available' });
  });

  it('priorities: a new priority-0 job does not wait behind a full buffer of less urgent jobs', async () => {
    await t.scheduler.enqueueMany(
      'gate',
      ['p5-a', 'p5-b', 'p5-c', 'p5-d', 'p5-e'].map((id) => ({ id })),
      { priority: 5 },
    );
    await t.clock.advance(0);
    await t.scheduler.enqueue('gate', { id: 'urgent' }, { priority: 0 });
    await t.clock.advance(0);
    t.get(Gate).release('p5-a');
    await t.clock.advance(0);
    expect(t.get(Gate).started).toEqual(['p5-a', 'p5-b', 'urgent']);
  });

  it('fencing: a buffered job cancelled (or rescued elsewhere) before it starts never starts here', async () => {
    const jobs = await t.scheduler.enqueueMany(
      'gate',
      ['a', 'b', 'c', 'd'].map((id) => ({ id })),
    );
    await t.clock.advance(0);
    expect(await t.scheduler.cancelJob(jobs[2]!.id)).toBe(1);
    // Another leader rescues "d" (as if this node had stopped heartbeating for it); "a" and "b" beat just now.
    await store.heartbeat(
      [0, 1].map((i) => ({ id: jobs[i]!.id, attempt: 1 })),
      new Date(t.clock.now() + 2),
    );
    await store.rescue(new Date(t.clock.now() + 1), new Date(t.clock.now()));
    await t.clock.advance('10s');
    t.get(Gate).release('a');
    await t.clock.advance(0);
    // "c" was dropped from the buffer; "d" runs again from the store under a new attempt.
    expect(t.get(Gate).started).toEqual(['a', 'b', 'd']);
    const d = (await store.list({ name: 'gate' })).find((j) => (j.args as { id: string }).id === 'd')!;
    expect(d.attempt).toBe(2);
  });

  it('a buffered job cancelled before it starts: its job:cancel comes once, from the node that held it, with the reason', async () => {
    const jobs = await t.scheduler.enqueueMany(
      'gate',
      ['a', 'b', 'c'].map((id) => ({ id })),
    );
    await t.clock.advance(0);
    const events: { id: string; reason: string; duration: number; startedAt: Date | null }[] = [];
    t.scheduler.on('job:cancel', (e) => events.push({ id: e.job.id, reason: e.reason, duration: e.duration, startedAt: e.job.startedAt }));
    expect(await t.scheduler.cancelJob(jobs[2]!.id, { reason: 'not wanted' })).toBe(1);
    await t.clock.advance(0);
    t.get(Gate).release('a');
    await t.clock.advance('10s');
    expect(events).toEqual([{ id: jobs[2]!.id, reason: 'not wanted', duration: 0, startedAt: null }]);
    expect(t.get(Gate).started).toEqual(['a', 'b']);
  });

  it('rescue: buffered jobs are heartbeated, so a long job ahead of them does not get them rescued', async () => {
    await t.scheduler.enqueueMany(
      'gate',
      ['long1', 'long2', 'x', 'y'].map((id) => ({ id })),
    );
    await t.clock.advance(0);
    const rescued: string[] = [];
    t.scheduler.on('job:rescue', (e) => rescued.push((e.job.args as { id: string }).id));
    await t.clock.advance('2m');
    expect(rescued).toEqual([]);
    expect(await states()).toEqual({ long1: 'running', long2: 'running', x: 'running', y: 'running' });
  });

  it('shutdown: buffered, unstarted jobs are handed back at once, without costing an attempt', async () => {
    await t.scheduler.enqueueMany(
      'gate',
      ['a', 'b', 'c', 'd'].map((id) => ({ id })),
    );
    await t.clock.advance(0);
    const closing = t.close();
    await t.clock.advance(0);
    const mid = await store.list({ name: 'gate', order: 'asc' });
    expect(mid.map((j) => [j.state, j.attempt])).toEqual([
      ['running', 1],
      ['running', 1],
      ['available', 0],
      ['available', 0],
    ]);
    t.get(Gate).release('a');
    t.get(Gate).release('b');
    await closing;
    t = await startApp([Gate], { store, queues: { default: 1 } }, t.clock);
    await t.clock.advance(0);
    expect(t.get(Gate).started).toEqual(['c']);
  });

  it('pause: buffered jobs go back to the store', async () => {
    await t.scheduler.enqueueMany(
      'gate',
      ['a', 'b', 'c'].map((id) => ({ id })),
    );
    await t.clock.advance(0);
    await t.scheduler.pauseQueue('default');
    await t.clock.advance(0);
    expect(await states()).toEqual({ a: 'running', b: 'running', c: 'available' });
  });
});

describe('claiming ahead', () => {
  let t: TestApp;
  let store: MemoryStore;
  let claims: number[];
  const open = async (options: Parameters<typeof startApp>[1], providers: Parameters<typeof startApp>[0] = [Gate]) => {
    store = new MemoryStore();
    claims = [];
    const claim = store.claim.bind(store);
    vi.spyOn(store, 'claim').mockImplementation(async (request) => {
      const jobs = await claim(request);
      claims.push(jobs.length);
      return jobs;
    });
    t = await startApp(providers, { store, pollInterval: '1h', nodeName: 'node-t', ...options });
    await t.clock.advance(0);
    claims.length = 0; // the start-up claim found nothing
  };
  const release = async (id: string) => {
    t.get(Gate).release(id);
    await t.clock.advance(0);
  };
  const states = async () => Object.fromEntries((await store.list({ name: 'gate', order: 'asc' })).map((j) => [(j.args as { id: string }).id, j.state]));
  afterEach(async () => {
    const closing = t.close();
    await t.clock.advance('1m');
    await closing;
    vi.restoreAllMocks();
  });

  it('claims the next batch while half the look-ahead is still buffered, not once the buffer is empty', async () => {
    await open({ queues: { default: { concurrency: 1, prefetch: 4 } } });
    const ids = 'abcdefghij'.split('');
    await t.scheduler.enqueueMany(
      'gate',
      ids.map((id) => ({ id })),
    );
    await t.clock.advance(0);
    // Look-ahead 1, then doubling (short jobs) up to 4: a+b, then c+d, then e..h.
    for (const id of 'abcdef') await release(id);
    expect(t.get(Gate).started).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    // "h" still waits in the buffer, yet "i" and "j" are already claimed.
    expect(await states()).toMatchObject({ h: 'running', i: 'running', j: 'running' });
    expect(claims).toEqual([2, 2, 4, 2]);
  });

  it('after an empty claim, finished jobs do not claim again until new work is signalled', async () => {
    await open({ queues: { default: { concurrency: 2, prefetch: 4 } } });
    await t.scheduler.enqueueMany('gate', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    await t.clock.advance(0);
    expect(claims).toEqual([3]);
    await release('a');
    expect(claims).toEqual([3, 0]);
    await release('b');
    await release('c');
    expect(claims).toEqual([3, 0]);
    await t.scheduler.enqueue('gate', { id: 'd' });
    await t.clock.advance(0);
    expect(t.get(Gate).started).toEqual(['a', 'b', 'c', 'd']);
  });

  it('an idle node runs what it enqueues without a claim: the job is inserted already claimed', async () => {
    await open({ queues: { default: { concurrency: 2, prefetch: 4 } } });
    const [job] = await t.scheduler.enqueueMany('gate', [{ id: 'a' }]);
    expect(job).toMatchObject({ state: 'running', attempt: 1, node: 'node-t' });
    await t.clock.advance(0);
    expect(t.get(Gate).started).toEqual(['a']);
    expect(claims).toEqual([]);
    // Busy with "a" and one free slot: a batch of two goes the usual way, in order.
    await t.scheduler.enqueueMany('gate', [{ id: 'b' }, { id: 'c' }]);
    await t.clock.advance(0);
    expect(claims).toEqual([2]);
    expect(t.get(Gate).started).toEqual(['a', 'b']);
    await release('a');
    expect(t.get(Gate).started).toEqual(['a', 'b', 'c']);
  });

  it('a job inserted claimed by a node whose queue is paused meanwhile goes back to the store', async () => {
    await open({ queues: { default: 2 } });
    const insert = store.insert.bind(store);
    vi.spyOn(store, 'insert').mockImplementation(async (jobs, options) => {
      const results = await insert(jobs, options);
      await t.scheduler.pauseQueue('default');
      return results;
    });
    const job = await t.scheduler.enqueue('gate', { id: 'a' });
    expect(job.state).toBe('running');
    await t.clock.advance(0);
    expect(t.get(Gate).started).toEqual([]);
    expect(await store.get(job.id)).toMatchObject({ state: 'available', attempt: 0 });
  });

  it('a run waiting behind a running one of its schedule (bufferOne) starts once that one is acknowledged, without a poll', async () => {
    @Injectable()
    class Ticks {
      started: number[] = [];
      finish: (() => void)[] = [];
      @Scheduled({ name: 'tick', every: '1m', overlap: 'bufferOne' })
      run(ctx: JobContext) {
        this.started.push(ctx.scheduledAt.getTime());
        return new Promise<void>((resolve) => this.finish.push(resolve));
      }
    }
    await open({ queues: { default: 4 } }, [Ticks]);
    await t.clock.advance('2m');
    const ticks = t.get(Ticks);
    expect(ticks.started).toHaveLength(1);
    ticks.finish.shift()!();
    await t.clock.advance(0);
    expect(ticks.started).toHaveLength(2);
  });
});
