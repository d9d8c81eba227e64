import { Injectable, type Provider } from '@nestjs/common';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MemoryStore, Scheduled, type JobContext, type SchedulerModuleOptions } from '../../lib/index.js';
import type { QueueState, ScheduleState } from '../../lib/store/index.js';
import { startApp } from '../support/app.js';
import { HandNotifier } from '../support/hand-notifier.js';
import { waitFor } from '../support/wait.js';

/** A memory store whose reads of queue and schedule states run at once but are answered when the test lets them. */
class LateStates extends MemoryStore {
  hold = false;
  waiting: (() => void)[] = [];
  reads = 0;
  override async getQueueStates(): Promise<QueueState[]> {
    this.reads++;
    return this.late(await super.getQueueStates());
  }
  override async getScheduleStates(): Promise<ScheduleState[]> {
    return this.late(await super.getScheduleStates());
  }
  /** The answer as it was when read (the memory store's may share its rows), given when the test lets it. */
  private async late<T>(answer: T): Promise<T> {
    const read = structuredClone(answer);
    if (this.hold) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return read;
  }
}

/** A job that runs until its signal aborts, noting why (or until the test ends it). */
@Injectable()
class Held {
  aborts: string[] = [];
  private readonly open = new Set<() => void>();
  @Scheduled({ name: 'held', timeout: false })
  run(ctx: JobContext) {
    return new Promise<void>((resolve) => {
      this.open.add(resolve);
      ctx.signal.addEventListener('abort', () => {
        this.aborts.push(String(ctx.abortReason));
        resolve();
      });
    });
  }
  /** Ends whatever still runs (the close would wait for it on a clock that does not move). */
  endAll(): void {
    for (const end of this.open) end();
  }
}

@Injectable()
class Work {
  runs = 0;
  ticks = 0;
  @Scheduled({ name: 'work' })
  run() {
    this.runs++;
  }
  @Scheduled({ name: 'tick', every: '1s' })
  tick() {
    this.ticks++;
  }
}

/**
 * A node whose store answers its reads of states late on demand, and that
 * hears only the notices the test sends it (what it sends itself is lost, as
 * a notice sent while its LISTEN was down); closed when the test ends.
 */
async function node(providers: Provider[], options: SchedulerModuleOptions = {}) {
  const store = new LateStates();
  const notices = new HandNotifier();
  const t = await startApp(providers, { store: { store, peer: 'local', notifier: notices }, ...options });
  onTestFinished(async () => {
    if (providers.includes(Held)) t.get(Held).endAll();
    await t.close();
  });
  return { store, notices, t };
}

/** What another node changed reaches this one as a notice (a `HandNotifier` here), and this node reads the store again. */
describe('notices of changes made on another node', () => {
  it('a queue paused, then resumed there, runs here whatever order the reads after the two notices are answered in', async () => {
    const { store, notices, t } = await node([Work]);
    const before = store.reads;
    // Paused there: the read this node makes after the notice sees it, but is answered late.
    await store.setQueueState('default', { paused: true });
    store.hold = true;
    notices.send({ type: 'queues' });
    // Resumed there: a read after this notice would be answered at once, before the first.
    await store.setQueueState('default', { paused: false });
    store.hold = false;
    notices.send({ type: 'queues' });
    await t.clock.advance(0);
    for (const answer of store.waiting.splice(0)) answer();
    for (let i = 0; i < 5; i++) await t.clock.advance(0);
    // One read at a time, and one more after the notice that came during the first.
    expect(store.reads - before).toBe(2);
    expect((await t.scheduler.queueStats('default')).paused).toBe(false);
    await t.scheduler.enqueue('work');
    await t.clock.advance(0);
    expect(t.get(Work).runs).toBe(1);
  });

  it('a queue paused here stays paused when a read begun before the pause (after a notice from there) is answered after it', async () => {
    const { store, notices, t } = await node([Work]);
    // Another node scaled it: the read this node makes after the notice sees it unpaused, and is answered late.
    await store.setQueueState('default', { concurrency: 3 });
    store.hold = true;
    notices.send({ type: 'queues' });
    await t.clock.advance(0);
    expect(store.waiting).toHaveLength(1);
    store.hold = false;
    const pausing = t.scheduler.pauseQueue('default');
    await waitFor(async () => (await store.getQueueStates()).some((x) => x.name === 'default' && x.paused), 2_000, 'the pause written');
    await t.clock.advance(0);
    for (const answer of store.waiting.splice(0)) answer();
    await pausing;
    expect((await t.scheduler.queueStats('default')).paused).toBe(true);
    await t.scheduler.enqueue('work');
    await t.clock.advance('5s');
    expect(t.get(Work).runs).toBe(0);
  });

  it('a job paused here stays paused in the planner when a sync begun before the pause (after a notice from there) is answered after it', async () => {
    const { store, notices, t } = await node([Work]);
    await t.clock.advance('3s');
    expect(t.get(Work).ticks).toBeGreaterThan(0);
    // Resumed there (it was not paused): this node's sync after the notice reads that, and is answered late.
    await store.setScheduleState('tick', { paused: false });
    store.hold = true;
    notices.send({ type: 'schedules' });
    await t.clock.advance(0);
    expect(store.waiting).toHaveLength(1);
    store.hold = false;
    const pausing = t.scheduler.pauseJob('tick');
    await waitFor(async () => (await store.getScheduleStates()).some((x) => x.name === 'tick' && x.paused), 2_000, 'the pause written');
    await t.clock.advance(0);
    for (const answer of store.waiting.splice(0)) answer();
    await pausing;
    const ticks = t.get(Work).ticks;
    await t.clock.advance('5s');
    // Paused in the planner too: its ticks are skipped, not inserted to wait in the store until a resume.
    expect(await t.scheduler.listJobs({ name: 'tick', states: ['available'] })).toEqual([]);
    expect(t.get(Work).ticks).toBe(ticks);
  });

  it('a queue paused there while this node starts is paused here once it has started (the notice came before its runners)', async () => {
    const store = new LateStates();
    // Between nodes: the node takes it that others change what it loaded.
    const notices = new HandNotifier(true);
    store.hold = true;
    const starting = startApp([Work], { store: { store, peer: 'local', notifier: notices } });
    onTestFinished(async () => (await starting).close());
    await waitFor(() => store.waiting.length === 1, 5_000, 'the start-up read of the queue states');
    // Paused there after that read: its notice is heard, but this node has no runner yet to apply it to.
    store.hold = false;
    await store.setQueueState('default', { paused: true });
    notices.send({ type: 'queues' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const answer of store.waiting.splice(0)) answer();
    const t = await starting;
    await waitFor(async () => (await t.scheduler.queueStats('default')).paused, 2_000, 'the queue paused here');
    await t.scheduler.enqueue('work');
    await t.clock.advance('5s');
    expect(t.get(Work).runs).toBe(0);
  });

  it('a cancel whose notice never came (LISTEN down) is found by the next heartbeat and aborts the attempt as a cancel', async () => {
    const { store, t } = await node([Held], { lifeline: { heartbeat: '2s', rescueAfter: '10s' } });
    const cancels: string[] = [];
    t.scheduler.on('job:cancel', (e) => cancels.push(`${e.job.id} ${e.reason}`));
    const job = await t.scheduler.enqueue('held');
    await t.clock.advance(0);
    expect(await t.scheduler.cancelJob(job.id, { reason: 'operator' })).toBe(1);
    expect(t.get(Held).aborts).toEqual([]);
    await t.clock.advance('2s');
    expect(t.get(Held).aborts).toEqual(['cancel']);
    await t.clock.advance(0);
    expect(cancels).toEqual([`${job.id} operator`]);
    expect((await store.get(job.id))!.state).toBe('cancelled');
  });

  it('such a cancel stops the attempt as soon as LISTEN is back: the catch-up after the gap heartbeats the running jobs', async () => {
    const { notices, t } = await node([Held], { lifeline: { heartbeat: '10s', rescueAfter: '30s' } });
    const job = await t.scheduler.enqueue('held');
    await t.clock.advance(0);
    await t.scheduler.cancelJob(job.id, { reason: 'operator' });
    // The notifier reconnected: what was sent meanwhile is lost, and the node catches up (the clock has not moved).
    notices.send({ type: 'resync' });
    await waitFor(() => t.get(Held).aborts.length > 0, 2_000, 'the abort');
    expect(t.get(Held).aborts).toEqual(['cancel']);
  });
});
