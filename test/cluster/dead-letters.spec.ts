import { describe, expect, it } from 'vitest';
import { killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, openClusterStore } from '../support/cluster/cluster-stores.js';

/** Real processes on each shared store: `onDeadLetter` on every node, each death told once. */
describe.each(CLUSTER_STORES)('dead letters in a cluster (child processes on %s)', (kind) => {
  const cluster = useCluster();

  it('3 nodes with onDeadLetter: each of 60 dead jobs is handled once, by one node', async () => {
    const store = await openClusterStore(kind, 'dlq');
    const nodes = ['a', 'b', 'c'].map((name) => cluster.start(store.settings(name, { deadLetterAlerts: true })));
    await Promise.all(nodes.map((n) => n.waitFor('ready')));
    await store.insert(Array.from({ length: 60 }, (_, n) => ({ name: 'fail', n, maxAttempts: 1 })));
    const alerts = () => cluster.rows(store.url, `SELECT job_id::text AS id, count(*)::int AS n FROM ${store.ledger} WHERE kind = 'alert' GROUP BY job_id`);
    await waitUntil(async () => (await alerts()).length === 60, 30_000, 'every dead letter handled');
    // Every alert settled: none is left to hand out, however late it is asked for (its lease long past).
    await waitUntil(async () => (await store.direct.takeDeadAlerts(new Date(Date.now() + 3_600_000), 1, 100)).length === 0, 10_000, 'every alert settled');
    const handled = await alerts();
    expect(handled.filter((row) => row.n !== 1)).toEqual([]);
    const dead = await store.direct.listDead({}, 1_000, 0);
    const text = (a: string, b: string) => a.localeCompare(b);
    expect(handled.map((row) => String(row.id)).sort(text)).toEqual(dead.map((job) => job.id).sort(text));
    expect(nodes.flatMap((n) => n.errors).join('')).not.toMatch(/onDeadLetter threw|dead-letter alerts/);
    await killAll(nodes);
    await store.drop();
  }, 90_000);
});
