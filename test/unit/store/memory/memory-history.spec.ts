import { describe, expect, it } from 'vitest';
import { DuplicateJobError } from '../../../../lib/scheduler.errors.js';
import type { Job, NewJob } from '../../../../lib/store/job.types.js';
import { MemoryStore } from '../../../../lib/store/memory.store.js';
import { newJobInput } from '../../../support/new-job.js';

const BASE = new Date('2026-03-01T12:00:00.000Z');
const at = (ms: number): Date => new Date(BASE.getTime() + ms);
const error = { attempt: 1, at: BASE, name: 'Error', message: 'no', kind: 'error' };

async function running(store: MemoryStore, overrides: Partial<NewJob> = {}): Promise<Job> {
  const [{ job }] = await store.insert([newJobInput(BASE, overrides)]);
  const [claimed] = await store.claim({ queue: 'default', limit: 1, node: 'node-a', now: BASE, ids: [job!.id] });
  return claimed!;
}
const ref = (job: Job) => ({ id: job.id, attempt: job.attempt });
const ids = (jobs: Job[]) => jobs.map((j) => j.id);

// The finished history is kept in its own structure, apart from live jobs:
// these follow a job across that change of form and back.
describe('MemoryStore: finished jobs (history)', () => {
  it('prunes oldest first (finish time, then id) across out-of-order finishes, deletes and resurrections', async () => {
    const store = new MemoryStore();
    const jobs: Job[] = [];
    for (let i = 0; i < 300; i++) jobs.push(await running(store));
    // Finish times go back and forth, with many ties; every fifth job dies.
    const finishedAt = new Map<string, number>();
    for (const [i, job] of [...jobs.entries()].reverse()) {
      const ms = ((i * 37) % 50) * 1_000;
      finishedAt.set(job.id, ms);
      if (i % 5 === 0) await store.fail(ref(job), 'dead', error, at(ms));
      else await store.complete(ref(job), null, at(ms));
    }
    await store.delete([jobs[3]!.id, jobs[150]!.id]);
    finishedAt.delete(jobs[3]!.id);
    finishedAt.delete(jobs[150]!.id);
    // Back to life, then finished again much later: pruned last.
    const again = await store.resurrect(jobs[10]!.id, at(60_000));
    const [claimed] = await store.claim({ queue: 'default', limit: 1, node: 'node-a', now: at(60_000) });
    expect(claimed!.id).toBe(again!.id);
    await store.complete(ref(claimed!), null, at(60_000));
    finishedAt.set(jobs[10]!.id, 60_000);

    const order = [...finishedAt].sort(([a, x], [b, y]) => x - y || Number(a) - Number(b)).map(([id]) => id);
    const remaining = async () => ids(await store.list({ order: 'asc' }));
    expect(await store.prune(['completed', 'dead'], at(20_000), 50)).toBe(50);
    expect(await remaining()).toEqual(order.slice(50).sort((a, b) => Number(a) - Number(b)));
    expect(await store.prune(['completed', 'dead'], at(70_000), 1_000)).toBe(order.length - 50);
    expect(await store.count({})).toBe(0);
    expect(await store.queueCounts(BASE)).toEqual([]);
  });

  it('prunes only the given states, leaving the others in their place', async () => {
    const store = new MemoryStore();
    const dead = await running(store);
    await store.fail(ref(dead), 'dead', error, at(1_000));
    const done = await running(store);
    await store.complete(ref(done), { n: 1 }, at(2_000));
    expect(await store.prune(['completed'], at(5_000), 10)).toBe(1);
    expect(await store.get(dead.id)).toMatchObject({ state: 'dead', finishedAt: at(1_000) });
    expect(await store.prune(['dead'], at(5_000), 10)).toBe(1);
  });

  it('a finished job keeps its tick key until deleted, and frees its unique key', async () => {
    const store = new MemoryStore();
    const job = await running(store, { tickKey: 'tick-1', uniqueKey: 'u-1' });
    await store.complete(ref(job), 'done', at(1_000));
    const [conflict] = await store.insert([newJobInput(BASE, { tickKey: 'tick-1' })]);
    expect(conflict).toMatchObject({ inserted: false, conflict: 'tick', job: { id: job.id, state: 'completed', result: 'done' } });
    const [unique] = await store.insert([newJobInput(BASE, { uniqueKey: 'u-1' })]);
    expect(unique!.inserted).toBe(true);
    expect(await store.prune(['completed'], at(2_000), 10)).toBe(1);
    const [again] = await store.insert([newJobInput(BASE, { tickKey: 'tick-1' })]);
    expect(again!.inserted).toBe(true);
  });

  it('a resurrected job takes its tick key back, and one refused for its unique key stays dead and prunable', async () => {
    const store = new MemoryStore();
    const ticked = await running(store, { tickKey: 'tick-2' });
    await store.fail(ref(ticked), 'dead', error, at(1_000));
    await store.resurrect(ticked.id, at(2_000));
    await store.delete([ticked.id]);
    expect((await store.insert([newJobInput(BASE, { tickKey: 'tick-2' })]))[0]!.inserted).toBe(true);

    const unique = await running(store, { uniqueKey: 'u-2' });
    await store.fail(ref(unique), 'dead', error, at(1_000));
    await store.insert([newJobInput(BASE, { uniqueKey: 'u-2' })]);
    await expect(store.resurrect(unique.id, at(2_000))).rejects.toBeInstanceOf(DuplicateJobError);
    expect(await store.get(unique.id)).toMatchObject({ state: 'dead', errors: [{ message: 'no' }] });
    expect(await store.prune(['dead'], at(5_000), 10)).toBe(1);
  });

  it('lists in id order whatever form each job is kept in, with fresh copies on every read', async () => {
    const store = new MemoryStore();
    const a = await running(store);
    const b = await running(store);
    const c = await running(store);
    await store.complete(ref(b), null, at(1_000));
    await store.fail(ref(a), 'discarded', error, at(2_000));
    await store.resurrect(a.id, at(3_000));
    expect(ids(await store.list({}))).toEqual([c.id, b.id, a.id]);
    expect(ids(await store.list({ order: 'asc', finishedBefore: at(5_000) }))).toEqual([b.id]);
    const first = await store.get(b.id);
    const second = await store.get(b.id);
    expect(second).toEqual(first);
    expect(second!.finishedAt).not.toBe(first!.finishedAt);
  });
});
