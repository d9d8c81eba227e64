import { describe, expect, it } from 'vitest';
import { QueueStatsReader } from '../../../lib/health/queue-stats.reader.js';
import { MemoryStore } from '../../../lib/store/memory.store.js';
import type { NodeRecord } from '../../../lib/store/node-registry.js';
import { FakeClock } from '../../../lib/testing/fake.clock.js';
import { T0 } from '../../support/app.js';
import { newJobInput } from '../../support/new-job.js';

const node = (name: string, queues: Record<string, number>): NodeRecord => ({
  node: name,
  version: null,
  queues,
  startedAt: new Date(T0),
  heartbeatAt: new Date(T0),
});

describe('QueueStatsReader', () => {
  it('counts the live nodes that run each queue, by the registry; none without a registry or when it fails', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    await store.insert([newJobInput(new Date(T0), { queue: 'mail' }), newJobInput(new Date(T0), { queue: 'old' })], { now: new Date(T0) });
    await clock.advance(90_000);
    const read = async (nodes?: { list(): Promise<NodeRecord[]> }) =>
      Object.fromEntries((await new QueueStatsReader({ store, nodes, clock, knownQueues: () => [] }).read(0)).map((r) => [r.lag.queue, r.lag.runners]));
    const registry = { list: () => Promise.resolve([node('a', { mail: 4, old: 0 }), node('b', { mail: 2 })]) };
    expect(await read(registry)).toEqual({ mail: 2, old: 0 });
    expect(await read()).toEqual({ mail: undefined, old: undefined });
    expect(await read({ list: () => Promise.reject(new Error('down')) })).toEqual({ mail: undefined, old: undefined });
  });
});
