import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RebootOrphansPlugin } from '../../../lib/plugins/reboot-orphans.plugin.js';
import { MemoryStore } from '../../../lib/store/memory.store.js';
import type { NodeRecord } from '../../../lib/store/node-registry.js';
import { newJobInput } from '../../../lib/store/index.js';
import type { SchedulerEventMap } from '../../../lib/telemetry/scheduler.events.js';

const T0 = 1_000_000;
const TTL = 10_000;
const live = (node: string): NodeRecord => ({ node, version: null, queues: {}, startedAt: new Date(0), heartbeatAt: new Date(T0) });

function setup(nodes: string[], options: { grace?: boolean } = {}) {
  const store = new MemoryStore();
  const cancels: SchedulerEventMap['job:cancel'][] = [];
  let listed = 0;
  const plugin = new RebootOrphansPlugin({
    store,
    nodes: { list: () => (listed++, Promise.resolve(nodes.map(live))) },
    notifier: { notify: () => Promise.resolve() },
    events: {
      emit: ((name: string, payload: SchedulerEventMap['job:cancel']) => {
        if (name === 'job:cancel') cancels.push(payload);
      }) as never,
    },
    names: ['warmup'],
    node: 'leader',
    isLeader: () => true,
    interval: 1_000,
    ttl: TTL,
    contact: { rescueBefore: (now) => (options.grace ? null : now - TTL) },
  });
  const insert = async (at: number, patch: Parameters<typeof newJobInput>[1]) =>
    (await store.insert([newJobInput(new Date(at), { name: 'warmup', ...patch })], { now: new Date(at) }))[0]!.job.id;
  return { store, plugin, cancels, insert, listed: () => listed };
}

describe('RebootOrphansPlugin', () => {
  afterEach(() => vi.restoreAllMocks());

  it('cancels an available @reboot job pinned to a node the registry no longer lists, and tells it as a cancel', async () => {
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const { store, plugin, cancels, insert } = setup(['alive']);
    const orphan = await insert(T0 - TTL, { pinnedNode: 'gone' });
    const cancelled = await plugin.sweep(T0);
    expect(cancelled.map((j) => j.id)).toEqual([orphan]);
    const job = (await store.get(orphan))!;
    expect(job.state).toBe('cancelled');
    expect(job.errors.at(-1)).toMatchObject({ kind: 'cancel', message: expect.stringContaining('its node gone stopped before running it') });
    expect(cancels.map((c) => [c.job.id, c.job.state])).toEqual([[orphan, 'cancelled']]);
  });

  it('leaves jobs pinned to a live node or to itself, unpinned ones, other names, and jobs inserted within the registry’s ttl', async () => {
    const { store, plugin, insert } = setup(['alive']);
    const kept = [
      await insert(T0 - TTL, { pinnedNode: 'alive' }),
      await insert(T0 - TTL, { pinnedNode: 'leader' }),
      await insert(T0 - TTL, { pinnedNode: null }),
      await insert(T0 - TTL, { pinnedNode: 'gone', name: 'work' }),
      // A node that has just started may not have beaten yet.
      await insert(T0 - TTL + 1, { pinnedNode: 'new' }),
    ];
    expect(await plugin.sweep(T0)).toEqual([]);
    for (const id of kept) expect((await store.get(id))!.state).toBe('available');
  });

  it('judges no node while an outage’s grace lasts (no beat could land), and reads the registry only when a job is pinned to someone else', async () => {
    const grace = setup([], { grace: true });
    const orphan = await grace.insert(T0 - TTL, { pinnedNode: 'gone' });
    expect(await grace.plugin.sweep(T0)).toEqual([]);
    expect((await grace.store.get(orphan))!.state).toBe('available');

    const quiet = setup([]);
    await quiet.insert(T0 - TTL, { pinnedNode: null });
    await quiet.plugin.sweep(T0);
    expect(quiet.listed()).toBe(0);
  });
});
