import { describe, expect, it } from 'vitest';
import { clusterJobInputs, killAll, useCluster, waitUntil, type ClusterNode } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, openClusterStore } from '../support/cluster/cluster-stores.js';

/**
 * Nodes whose clocks are wrong, on real processes and a store with a clock
 * of its own: time that decides rescue and due jobs is the store's, so a
 * lagging worker's heartbeats are not stale and a leader running ahead
 * rescues nothing alive. (The processes of a SQLite file share one
 * machine, and its clock is theirs.)
 */
describe.each(CLUSTER_STORES.filter((kind) => kind !== 'sqlite'))('clock skew (child processes on %s)', (kind) => {
  const { start, rows } = useCluster();

  it('a leader 30 s ahead and a worker 30 s behind: the job runs at once, is never rescued, and both nodes say their clock is off', async () => {
    const store = await openClusterStore(kind, 'sk');
    const common = { workMs: 6_000, rescueAfter: 2_000, leaseTtl: 3_000 };
    const leader = start(store.settings('ahead', { ...common, concurrency: 0, clockOffsetMs: 30_000 }));
    await leader.waitFor('leader ahead');
    const worker = start(store.settings('behind', { ...common, concurrency: 1, clockOffsetMs: -30_000 }));
    await worker.waitFor('ready');
    await store.insert([{ n: 0 }]);
    await waitUntil(async () => (await store.jobs('work'))[0]?.state === 'completed', 20_000, 'the job to complete');
    expect((await store.jobs('work')).map((job) => [job.attempt, job.errors])).toEqual([[1, []]]);
    const ledger = await rows(store.url, `SELECT kind, node FROM ${store.ledger} ORDER BY id`);
    expect(ledger).toEqual([
      { kind: 'start', node: 'behind' },
      { kind: 'finish', node: 'behind' },
    ]);
    const said = (node: ClusterNode) => [...node.output, ...node.errors].join('\n');
    expect(said(leader)).toMatch(/clock is 30\.\d s ahead of the database's/);
    expect(said(worker)).toMatch(/clock is 30\.\d s behind the database's/);
    await killAll([leader, worker]);
    await store.drop();
  }, 60_000);

  it('a leader and a worker 30 s ahead: every tick and a job due later start no sooner than the database says they are due', async () => {
    const store = await openClusterStore(kind, 'sk');
    // Both ahead: were the offset not corrected, the leader would plan ticks 30 s early and the
    // worker would take them (and a job due in a few seconds) at once, by its own clock.
    const common = { rescueAfter: 2_000, leaseTtl: 3_000, cron: true, clockOffsetMs: 30_000 };
    const leader = start(store.settings('ahead', { ...common, concurrency: 0 }));
    await leader.waitFor('leader ahead');
    const worker = start(store.settings('worker', { ...common, concurrency: 2 }));
    await worker.waitFor('ready');
    // This process, the database and the store share one machine, hence one clock: `now` is the database's.
    const runAt = new Date(Date.now() + 4_000);
    await store.direct.insert([{ ...clusterJobInputs([{ n: 0 }])[0]!, runAt }]);
    await waitUntil(async () => (await store.jobs('work'))[0]?.state === 'completed', 20_000, 'the delayed job to complete');
    await waitUntil(
      async () => (await rows(store.url, `SELECT count(*)::int AS n FROM ${store.ledger} WHERE kind = 'tick'`))[0]!.n >= 3,
      10_000,
      'three ticks to run',
    );
    // Ledger rows are stamped by the database's clock; the offset is measured to within a round trip.
    const early = await rows(
      store.url,
      `SELECT kind, tick, at FROM ${store.ledger} WHERE (kind = 'tick' AND at < tick - interval '500 milliseconds') OR (kind = 'start' AND at < $1::timestamptz - interval '500 milliseconds')`,
      [runAt],
    );
    expect(early).toEqual([]);
    expect(await rows(store.url, `SELECT kind, node FROM ${store.ledger} WHERE kind = 'start'`)).toEqual([{ kind: 'start', node: 'worker' }]);
    await killAll([leader, worker]);
    await store.drop();
  }, 60_000);
});
