import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, Scheduled, type JobContext } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { T0, startApp } from '../support/app.js';

@Injectable()
class Work {
  runs: { id: string; node: string | null; attempt: number }[] = [];
  @Scheduled({ name: 'work' })
  run(ctx: JobContext) {
    this.runs.push({ id: ctx.id, node: null, attempt: ctx.attempt });
  }
}

describe('nodes sharing one store', () => {
  beforeEach(() => vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => vi.restoreAllMocks());

  it('a web node (queues: false) enqueues; a worker node runs it, found by its poll', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    const web = await startApp([Work], { store, queues: false, peer: false }, clock);
    const worker = await startApp([Work], { store, pollInterval: '2s' }, clock);
    const job = await web.scheduler.enqueue('work');
    await clock.advance('1s');
    expect(worker.get(Work).runs).toEqual([]);
    await clock.advance('1s');
    expect(worker.get(Work).runs.map((r) => r.id)).toEqual([job.id]);
    expect(web.get(Work).runs).toEqual([]);
    expect((await web.scheduler.healthCheck()).queues).toEqual([]);
    await web.close();
    await worker.close();
  });

  it('lifeline: a job whose node stopped heartbeating is rescued and runs again', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    const t = await startApp([Work], { store, lifeline: { rescueAfter: '60s', interval: '10s' } }, clock);
    await t.scheduler.pauseQueue('default');
    const job = await t.scheduler.enqueue('work');
    // A node that claims the job and then dies without a word.
    const [claimed] = await store.claim({ queue: 'default', limit: 1, node: 'ghost', now: new Date(clock.now()) });
    expect(claimed!.id).toBe(job.id);
    await t.scheduler.resumeQueue('default');
    const rescued: string[] = [];
    t.scheduler.on('job:rescue', (e) => rescued.push(e.job.id));
    await clock.advance('59s');
    expect(rescued).toEqual([]);
    await clock.advance('11s');
    expect(rescued).toEqual([job.id]);
    await t.tester.drainQueue();
    expect(t.get(Work).runs).toEqual([{ id: job.id, node: null, attempt: 2 }]);
    // The dead node's late acknowledgement changes nothing.
    await expect(store.complete({ id: job.id, attempt: 1 }, null, new Date(clock.now()))).rejects.toThrow(/no longer owns/);
    await t.close();
  });

  it('an attempt whose job was rescued elsewhere is aborted with reason lease-lost at its next heartbeat', async () => {
    @Injectable()
    class Stuck {
      reasons: string[] = [];
      @Scheduled({ name: 'stuck' })
      run(ctx: JobContext) {
        return new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            this.reasons.push(String(ctx.abortReason));
            resolve();
          }),
        );
      }
    }
    const store = new MemoryStore();
    const t = await startApp([Stuck], { store, lifeline: { heartbeat: '5s' } });
    const job = await t.scheduler.enqueue('stuck');
    await t.clock.advance(0);
    await t.scheduler.pauseQueue('default');
    // Another leader decided this node was dead and rescued the job.
    await store.rescue(new Date(t.clock.now() + 1), new Date(t.clock.now()));
    await t.clock.advance('5s');
    expect(t.get(Stuck).reasons).toEqual(['lease-lost']);
    expect((await store.get(job.id))!.attempt).toBe(1);
    await t.close();
  });

  it('a heartbeat that answers, late, that an old attempt was lost does not abort the attempt this node claimed of the job since', async () => {
    @Injectable()
    class Held {
      readonly release = new Map<number, () => void>();
      reasons: string[] = [];
      @Scheduled({ name: 'held' })
      run(ctx: JobContext) {
        return new Promise<void>((resolve) => {
          this.release.set(ctx.attempt, resolve);
          ctx.signal.addEventListener('abort', () => {
            this.reasons.push(`${ctx.attempt}:${String(ctx.abortReason)}`);
            resolve();
          });
        });
      }
    }
    const store = new MemoryStore();
    const t = await startApp([Held], { store, pollInterval: '1s', lifeline: { heartbeat: '5s' } });
    const held = t.get(Held);
    const job = await t.scheduler.enqueue('held');
    await t.clock.advance(0);
    await t.scheduler.pauseQueue('default');
    // Another leader rescued the job while this node stood still.
    await store.rescue(new Date(t.clock.now() + 1), new Date(t.clock.now()));
    // The next heartbeat (of attempt 1) is answered only later.
    const heartbeat = store.heartbeat.bind(store);
    let answer = () => {};
    vi.spyOn(store, 'heartbeat').mockImplementationOnce(async (refs, now) => {
      const lost = await heartbeat(refs, now);
      await new Promise<void>((resolve) => (answer = resolve));
      return lost;
    });
    await t.clock.advance('5s');
    // Attempt 1 returns (its completion is stale); this node claims the job again: attempt 2.
    held.release.get(1)!();
    await t.scheduler.resumeQueue('default');
    await t.clock.advance('1s');
    expect([...held.release.keys()]).toEqual([1, 2]);
    answer();
    await t.clock.advance(0);
    expect(held.reasons).toEqual([]);
    held.release.get(2)!();
    await t.clock.advance(0);
    expect(await store.get(job.id)).toMatchObject({ state: 'completed', attempt: 2 });
    await t.close();
  });

  it('pruner: finished jobs are deleted after the retention period', async () => {
    const store = new MemoryStore();
    const t = await startApp([Work], { store, retention: { completed: '1h', interval: '10m' } });
    const job = await t.scheduler.enqueue('work');
    await t.tester.drainQueue();
    await t.clock.advance('50m');
    expect(await store.get(job.id)).not.toBeNull();
    await t.clock.advance('20m');
    expect(await store.get(job.id)).toBeNull();
    await t.close();
  });

  it('retention.completed 0: completed jobs are deleted as they complete, schedule ticks kept for their key', async () => {
    @Injectable()
    class Ticking {
      ticks = 0;
      @Scheduled({ name: 'ticking', every: '1m' })
      run() {
        this.ticks++;
      }
    }
    const store = new MemoryStore();
    const t = await startApp([Work, Ticking], { store, retention: { completed: 0, interval: '1h' } });
    const stopped: string[] = [];
    t.scheduler.on('job:stop', (e) => stopped.push(e.job.name));
    const jobs = await t.scheduler.enqueueMany('work', [{}, {}]);
    await t.clock.advance('1m');
    await t.tester.drainQueue();
    expect(t.get(Work).runs).toHaveLength(2);
    expect(t.get(Ticking).ticks).toBe(1);
    for (const job of jobs) expect(await store.get(job.id)).toBeNull();
    expect(stopped.filter((name) => name === 'work')).toHaveLength(2);
    expect(await t.scheduler.history('work')).toEqual([]);
    expect((await t.scheduler.history('ticking')).map((j) => j.state)).toEqual(['completed']);
    await t.close();
  });
});
