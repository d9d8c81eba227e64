import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, Scheduled, type Job, type JobAbortedError, type JobContext } from '../../lib/index.js';
import type { ClaimRequest } from '../../lib/store/index.js';
import { startApp } from '../support/app.js';
import { HandNotifier } from '../support/hand-notifier.js';

/** A store whose claims run at once but are answered late: when the test lets them, with what they saw when they ran. */
class LateAnswers extends MemoryStore {
  hold = false;
  waiting: (() => void)[] = [];
  override async claim(request: ClaimRequest): Promise<Job[]> {
    const jobs = await super.claim(request);
    if (this.hold) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return jobs;
  }
}

/** A handler that ignores ctx.signal: it returns only when the test lets it (an abort is only noted). */
@Injectable()
class Stubborn {
  runs: string[] = [];
  aborts: string[] = [];
  open = new Map<string, () => void>();
  @Scheduled({ name: 'stubborn', timeout: '5s', maxRetries: 2, backoff: '1s' })
  run(ctx: JobContext<{ id: string }>) {
    this.runs.push(`${ctx.args.id}#${ctx.attempt}`);
    ctx.signal.addEventListener('abort', () => this.aborts.push(`${ctx.args.id}#${ctx.attempt}:${(ctx.signal.reason as JobAbortedError).reason}`));
    return new Promise<void>((resolve) => this.open.set(`${ctx.args.id}#${ctx.attempt}`, resolve));
  }
  @Scheduled({ name: 'quick' })
  quick(ctx: JobContext<{ id: string }>) {
    this.runs.push(ctx.args.id);
  }
}

describe('a handler that ignores ctx.signal', () => {
  let warn: ReturnType<typeof vi.spyOn>;
  const warnings = (): string[] => warn.mock.calls.map((c: unknown[]) => String(c[0]));
  beforeEach(() => {
    warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  it('keeps its slot after a timeout; its retry starts only once it returns, and it is named in the log', async () => {
    const store = new MemoryStore();
    const t = await startApp([Stubborn], { store, queues: { default: 1 }, lifeline: { heartbeat: '2s', rescueAfter: '10s', interval: '1s' } });
    const stubborn = t.get(Stubborn);
    const job = await t.scheduler.enqueue('stubborn', { id: 's' });
    await t.scheduler.enqueue('quick', { id: 'q' });
    await t.clock.advance(0);
    expect(stubborn.runs).toEqual(['s#1']);
    // Timed out at 5 s; a minute later it still runs: no retry, no other job in its slot, no rescue.
    await t.clock.advance('60s');
    expect(stubborn.runs).toEqual(['s#1']);
    const stored = (await store.get(job.id))!;
    expect([stored.state, stored.attempt]).toEqual(['running', 1]);
    expect(warnings().some((w) => w.includes('Stubborn.run ignores ctx.signal') && w.includes(`job ${job.id}`))).toBe(true);
    // It returns: the timeout is recorded, the slot goes to the next job, the retry waits its backoff.
    stubborn.open.get('s#1')!();
    await t.clock.advance(0);
    expect(stubborn.runs).toEqual(['s#1', 'q']);
    const failed = (await store.get(job.id))!;
    expect([failed.state, failed.errors.map((e) => e.kind)]).toEqual(['available', ['timeout']]);
    await t.clock.advance('1s');
    expect(stubborn.runs).toEqual(['s#1', 'q', 's#2']);
    stubborn.open.get('s#2')!();
    await t.tester.drainQueue();
    await t.close();
  });

  it('a last attempt that times out is dead at once, but its slot stays taken until the handler returns', async () => {
    const store = new MemoryStore();
    const t = await startApp([Stubborn], { store, queues: { default: 1 } });
    const stubborn = t.get(Stubborn);
    const job = await t.scheduler.enqueue('stubborn', { id: 'last' }, { maxRetries: 0 });
    await t.scheduler.enqueue('quick', { id: 'q' });
    await t.clock.advance('6s');
    expect((await store.get(job.id))!.state).toBe('dead');
    expect(stubborn.runs).toEqual(['last#1']);
    stubborn.open.get('last#1')!();
    await t.clock.advance(0);
    expect(stubborn.runs).toEqual(['last#1', 'q']);
    await t.close();
  });

  it('a cancelled job is cancelled at once, but its slot stays taken until the handler returns; its late completion changes nothing', async () => {
    const store = new MemoryStore();
    const t = await startApp([Stubborn], { store, queues: { default: 1 } });
    const stubborn = t.get(Stubborn);
    const job = await t.scheduler.enqueue('stubborn', { id: 'c' }, { timeout: false });
    await t.scheduler.enqueue('quick', { id: 'q' });
    await t.clock.advance(0);
    expect(await t.scheduler.cancelJob(job.id)).toBe(1);
    await t.clock.advance('1m');
    expect((await store.get(job.id))!.state).toBe('cancelled');
    expect(stubborn.aborts).toEqual(['c#1:cancel']);
    expect(stubborn.runs).toEqual(['c#1']);
    stubborn.open.get('c#1')!();
    await t.clock.advance(0);
    expect(stubborn.runs).toEqual(['c#1', 'q']);
    expect((await store.get(job.id))!.state).toBe('cancelled');
    await t.close();
  });

  it('a job whose lease is lost (rescued by another node) leaves its slot taken until the handler returns: its next attempt never runs beside it', async () => {
    const store = new MemoryStore();
    // Nothing claimed ahead (prefetch 0): a job taken from the store can only go to a free slot.
    const t = await startApp([Stubborn], {
      store,
      queues: { default: { concurrency: 1, prefetch: 0 } },
      lifeline: { heartbeat: '2s', rescueAfter: '10s', interval: '1h' },
    });
    const stubborn = t.get(Stubborn);
    const job = await t.scheduler.enqueue('stubborn', { id: 'l' }, { timeout: false });
    await t.scheduler.enqueue('quick', { id: 'q' });
    await t.clock.advance(0);
    expect(stubborn.runs).toEqual(['l#1']);
    // Another node's lifeline takes the job, as if this node's heartbeats had stopped landing.
    expect((await store.rescue(new Date(t.clock.now() + 1), new Date(t.clock.now()))).map((j) => j.id)).toEqual([job.id]);
    // This node's next heartbeat learns it: the attempt is aborted (lease-lost), its handler runs on.
    await t.clock.advance('1m');
    const rescued = (await store.get(job.id))!;
    expect([rescued.state, rescued.attempt, rescued.errors.map((e) => e.kind)]).toEqual(['available', 1, ['lease-lost']]);
    expect(stubborn.aborts).toEqual(['l#1:lease-lost']);
    expect(stubborn.runs).toEqual(['l#1']);
    // It returns: the slot goes to the job's next attempt, then to the next job; attempt 2's completion is the one kept.
    stubborn.open.get('l#1')!();
    await t.clock.advance(0);
    expect(stubborn.runs).toEqual(['l#1', 'l#2']);
    stubborn.open.get('l#2')!();
    await t.tester.drainQueue();
    expect(stubborn.runs).toEqual(['l#1', 'l#2', 'q']);
    const done = (await store.get(job.id))!;
    expect([done.state, done.attempt]).toEqual(['completed', 2]);
    await t.close();
  });
});

describe('a claim in flight when claiming stops', () => {
  beforeEach(() => vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => vi.restoreAllMocks());

  it('is handed back at shutdown without costing an attempt', async () => {
    const store = new LateAnswers();
    const t = await startApp([Stubborn], { store, queues: { default: 2 } });
    store.hold = true;
    // Delayed, so the runner claims it when it is due (not inserted already claimed).
    const job = await t.scheduler.enqueue('quick', { id: 'in-flight' }, { delay: '1s' });
    await t.clock.advance('1s');
    expect(store.waiting.length).toBeGreaterThan(0);
    const closing = t.close();
    await t.clock.advance(0);
    for (const release of store.waiting.splice(0)) release();
    await closing;
    const stored = (await store.get(job.id))!;
    expect([stored.state, stored.attempt]).toEqual(['available', 0]);
    expect(t.get(Stubborn).runs).toEqual([]);
  });
});

describe('a cancel whose notice comes before the answer of the claim that took the job', () => {
  beforeEach(() => vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => vi.restoreAllMocks());

  it('aborts the attempt as it starts, not a heartbeat later as a lost lease', async () => {
    const store = new LateAnswers();
    const t = await startApp([Stubborn], { store, queues: { default: 2 } });
    const stubborn = t.get(Stubborn);
    store.hold = true;
    // Delayed, so the runner claims it when it is due (not inserted already claimed).
    const job = await t.scheduler.enqueue('stubborn', { id: 'early' }, { delay: '1s', timeout: false });
    await t.clock.advance('1s');
    expect(store.waiting).toHaveLength(1);
    // The claim ran: the job is running in the store, but its answer has not reached the node.
    expect(await t.scheduler.cancelJob(job.id, { reason: 'operator' })).toBe(1);
    store.hold = false;
    for (const answer of store.waiting.splice(0)) answer();
    await t.clock.advance(0);
    expect([stubborn.runs, stubborn.aborts]).toEqual([['early#1'], ['early#1:cancel']]);
    stubborn.open.get('early#1')!();
    await t.clock.advance(0);
    expect((await store.get(job.id))!.state).toBe('cancelled');
    await t.close();
  });

  it('leaves alone the attempt of a job retried since that cancel (the store says it runs)', async () => {
    const store = new MemoryStore();
    const notices = new HandNotifier();
    const t = await startApp([Stubborn], { store: { store, peer: 'local', notifier: notices }, queues: { default: 2 }, pollInterval: '1s' });
    const stubborn = t.get(Stubborn);
    const job = await t.scheduler.enqueue('stubborn', { id: 'again' }, { delay: '1s', timeout: false });
    // Cancelled and retried by other nodes before it ran: this node heard of the cancel only.
    await store.cancel(job.id, new Date(t.clock.now()), 'operator');
    notices.send({ type: 'cancel', jobId: job.id });
    await store.resurrect(job.id, new Date(t.clock.now()));
    await t.clock.advance('1s');
    expect([stubborn.runs, stubborn.aborts]).toEqual([['again#1'], []]);
    stubborn.open.get('again#1')!();
    await t.clock.advance(0);
    expect((await store.get(job.id))!.state).toBe('completed');
    await t.close();
  });
});

describe('a cancel notice for a job waiting in the prefetch buffer', () => {
  beforeEach(() => vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => vi.restoreAllMocks());

  it('leaves a job retried and claimed here since that cancel in the buffer: it runs, and no job:cancel is told', async () => {
    const store = new MemoryStore();
    const notices = new HandNotifier();
    const t = await startApp([Stubborn], {
      store: { store, peer: 'local', notifier: notices },
      queues: { default: { concurrency: 1, prefetch: 2 } },
      pollInterval: '1s',
    });
    const stubborn = t.get(Stubborn);
    const cancels: string[] = [];
    t.scheduler.on('job:cancel', (e) => cancels.push(e.job.id));
    const first = await t.scheduler.enqueue('stubborn', { id: 'first' }, { timeout: false });
    const job = await t.scheduler.enqueue('stubborn', { id: 'late' }, { delay: '1s', timeout: false });
    await t.clock.advance(0);
    // Cancelled and retried by other nodes; the retry is claimed into this node's buffer behind "first"...
    await store.cancel(job.id, new Date(t.clock.now()), 'operator');
    await store.resurrect(job.id, new Date(t.clock.now()));
    await t.clock.advance('1s');
    expect((await store.get(job.id))!).toMatchObject({ state: 'running', attempt: 1, startedAt: null });
    // ...before the cancel's notice arrives here.
    notices.send({ type: 'cancel', jobId: job.id });
    await t.clock.advance(0);
    stubborn.open.get('first#1')!();
    await t.clock.advance(0);
    expect(stubborn.runs).toEqual(['first#1', 'late#1']);
    expect(cancels).toEqual([]);
    stubborn.open.get('late#1')!();
    await t.clock.advance(0);
    expect((await store.get(job.id))!.state).toBe('completed');
    expect((await store.get(first.id))!.state).toBe('completed');
    await t.close();
  });

  it('a cancel whose notice was lost: the heartbeat drops the job and its job:cancel is told once, with the reason', async () => {
    const store = new MemoryStore();
    const notices = new HandNotifier();
    const t = await startApp([Stubborn], {
      store: { store, peer: 'local', notifier: notices },
      queues: { default: { concurrency: 1, prefetch: 2 } },
      lifeline: { heartbeat: '2s', rescueAfter: '10s', interval: '1s' },
    });
    const stubborn = t.get(Stubborn);
    const cancels: { id: string; reason: string; duration: number }[] = [];
    t.scheduler.on('job:cancel', (e) => cancels.push({ id: e.job.id, reason: e.reason, duration: e.duration }));
    await t.scheduler.enqueue('stubborn', { id: 'first' }, { timeout: false });
    const job = await t.scheduler.enqueue('stubborn', { id: 'late' }, { delay: '1s', timeout: false });
    await t.clock.advance('1s');
    expect((await store.get(job.id))!).toMatchObject({ state: 'running', startedAt: null });
    // Cancelled by another node; its notice never comes.
    await store.cancel(job.id, new Date(t.clock.now()), 'operator');
    await t.clock.advance('2s');
    expect(cancels).toEqual([{ id: job.id, reason: 'operator', duration: 0 }]);
    notices.send({ type: 'cancel', jobId: job.id }); // late after all: told once
    stubborn.open.get('first#1')!();
    await t.clock.advance('10s');
    expect(stubborn.runs).toEqual(['first#1']);
    expect(cancels).toHaveLength(1);
    await t.close();
  });
});

describe('new work signalled while a claim is under way', () => {
  beforeEach(() => vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => vi.restoreAllMocks());

  it('is claimed when that claim comes back empty (its snapshot predates the insert), without waiting for the poll', async () => {
    const store = new LateAnswers();
    const t = await startApp([Stubborn], { store, queues: { default: 2 }, pollInterval: '1h' });
    store.hold = true;
    await t.clock.advance('1h'); // the poll: a claim that finds nothing, answered late
    expect(store.waiting).toHaveLength(1);
    await t.scheduler.enqueue('quick', { id: 'during' });
    store.hold = false;
    for (const answer of store.waiting.splice(0)) answer();
    await t.clock.advance(0);
    expect(t.get(Stubborn).runs).toEqual(['during']);
    await t.close();
  });
});
