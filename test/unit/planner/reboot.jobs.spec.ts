import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lib/testing/fake.clock.js';
import { RebootJobs } from '../../../lib/planner/reboot.jobs.js';
import { MemoryStore } from '../../../lib/store/memory.store.js';
import { DiscardJobError } from '../../../lib/scheduler.errors.js';
import type { JobDefinition } from '../../../lib/scheduler.registry.js';
import type { NewJob } from '../../../lib/store/job.types.js';

const definition = {
  name: 'warmup',
  options: { queue: 'default', priority: 5, maxAttempts: 3, timeout: null, tags: [], meta: {} },
} as unknown as JobDefinition;

describe('RebootJobs', () => {
  it('stores the @reboot jobs once however many calls overlap (the start and the periodic sync), and not again once stored', async () => {
    const inserted: NewJob[][] = [];
    const answers: (() => void)[] = [];
    const reboot = new RebootJobs({
      registry: { reboot: [definition] },
      producer: { insert: (jobs) => (inserted.push([...jobs]), new Promise((resolve) => answers.push(() => resolve([])))) },
      clock: new FakeClock(0),
      node: 'n1',
      runsJobs: true,
    });
    expect(reboot.pending).toBe(false);
    await reboot.enqueue();
    expect(inserted).toHaveLength(0); // not due before the node starts
    reboot.markDue();
    const first = reboot.enqueue();
    const second = reboot.enqueue();
    for (const answer of answers) answer();
    expect(inserted).toHaveLength(1);
    await Promise.all([first, second]);
    expect(reboot.pending).toBe(false);
    await reboot.enqueue();
    expect(inserted).toHaveLength(1);
    expect(inserted[0]!.map((j) => [j.name, j.pinnedNode])).toEqual([['warmup', 'n1']]);
  });

  it('gives each start its own tick key: an insert sent again after a lost answer is refused by the store, the next start’s is not', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock(0);
    let lost = true;
    const reboot = new RebootJobs({
      registry: { reboot: [definition] },
      // The first insert lands, but its answer is lost.
      producer: {
        insert: async (jobs) => {
          const results = await store.insert(jobs);
          if (lost) {
            lost = false;
            throw new Error('connection lost');
          }
          return results;
        },
      },
      clock,
      node: 'n1',
      runsJobs: true,
    });
    reboot.markDue();
    await expect(reboot.enqueue()).rejects.toThrow('connection lost');
    await reboot.enqueue();
    expect(await store.list({ name: 'warmup' })).toHaveLength(1);
    await clock.advance(1_000);
    reboot.markDue(); // a later start of a node of the same name
    await reboot.enqueue();
    expect(await store.list({ name: 'warmup' })).toHaveLength(2);
  });

  it('a failed insert stays due, and the next call tries again', async () => {
    let fail = true;
    let calls = 0;
    const reboot = new RebootJobs({
      registry: { reboot: [definition] },
      producer: { insert: () => (calls++, fail ? Promise.reject(new Error('store down')) : Promise.resolve([])) },
      clock: new FakeClock(0),
      node: 'n1',
      runsJobs: false,
    });
    reboot.markDue();
    await expect(reboot.enqueue()).rejects.toThrow('store down');
    expect(reboot.pending).toBe(true);
    fail = false;
    await reboot.enqueue();
    expect([calls, reboot.pending]).toEqual([2, false]);
  });

  it('supersedes a @reboot job pinned to this node by an earlier start, not its own, another node’s or other jobs', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock(0);
    const ports = { registry: { reboot: [definition] }, producer: { insert: (jobs: readonly NewJob[]) => store.insert(jobs) }, clock };
    const earlier = new RebootJobs({ ...ports, node: 'n1', runsJobs: true });
    earlier.markDue();
    await earlier.enqueue();
    const [old] = await store.list({ name: 'warmup' });
    await clock.advance(1_000);
    const later = new RebootJobs({ ...ports, node: 'n1', runsJobs: true });
    // Its runners claim before its own insert: the earlier start's job is superseded already.
    expect(later.superseded(old!)?.message).toMatch(/earlier start of node n1/);
    later.markDue();
    await later.enqueue();
    const own = (await store.list({ name: 'warmup' })).find((job) => job.id !== old!.id)!;
    expect(later.superseded(own)).toBeNull();
    expect(later.superseded(old!)).toBeInstanceOf(DiscardJobError);
    // Another node's name, a node that runs no queues, a job that is not a @reboot one.
    expect(new RebootJobs({ ...ports, node: 'n2', runsJobs: true }).superseded(old!)).toBeNull();
    expect(new RebootJobs({ ...ports, node: 'n1', runsJobs: false }).superseded(old!)).toBeNull();
    expect(later.superseded({ ...old!, meta: {} })).toBeNull();
    expect(later.superseded({ ...old!, name: 'other' })).toBeNull();
  });
});
