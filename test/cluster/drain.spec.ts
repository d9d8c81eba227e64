import { describe, expect, it } from 'vitest';
import { killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, openClusterStore } from '../support/cluster/cluster-stores.js';

/**
 * A node draining after SIGTERM, on real processes and each shared store: it
 * hands leadership over first and keeps heartbeating the jobs it lets finish,
 * so planning goes on elsewhere and nothing still running is rescued.
 * Outcomes are read from the ledger (PostgreSQL) and the store's jobs, in order, not timed.
 */
describe.each(CLUSTER_STORES)('drain (child processes on %s)', (kind) => {
  const { start, rows } = useCluster();
  const count = async (url: string, schema: string, kind: string): Promise<number> =>
    (await rows(url, `SELECT count(*)::int AS n FROM "${schema}".ledger WHERE kind = $1`, [kind]))[0].n;
  const common = { workMs: 6_000, rescueAfter: 2_000, leaseTtl: 3_000, shutdownGracePeriod: 20_000 };

  it('SIGTERM to the leader: another node leads (and plans) while it still drains its job', async () => {
    const store = await openClusterStore(kind, 'dr');
    const { url, schema } = store;
    // A lease far longer than the hand-over takes: the heir leads before the job ends only if it is handed over.
    // The job waits for an `open` row (not a time), so a slow start of the heir on a loaded host changes nothing.
    const handOver = { ...common, leaseTtl: 20_000, cron: true };
    const drainer = start(store.settings('drainer', { ...handOver, concurrency: 1, gated: true, workMs: 0 }));
    await drainer.waitFor('leader drainer');
    await store.insert([{ n: 0 }]);
    await waitUntil(async () => (await count(url, schema, 'start')) === 1, 15_000, 'the job to start');
    const heir = start(store.settings('heir', { ...handOver, concurrency: 2 }));
    await heir.waitFor('ready');
    drainer.child.kill('SIGTERM');
    await heir.waitFor('leader heir', 10_000);
    // The heir leads before the drainer's job has finished.
    expect(await count(url, schema, 'finish')).toBe(0);
    const ticksBefore = await count(url, schema, 'tick');
    await waitUntil(async () => (await count(url, schema, 'tick')) > ticksBefore, 5_000, 'a tick planned by the heir');
    expect(await count(url, schema, 'finish')).toBe(0);
    await rows(url, `INSERT INTO "${schema}".ledger (kind, node) VALUES ('open', 'test')`);
    expect(await drainer.exited).toBe(0);
    expect((await store.jobs('work')).map((j) => ({ state: j.state, attempt: j.attempt }))).toEqual([{ state: 'completed', attempt: 1 }]);
    await killAll([heir]);
    await store.drop();
  }, 60_000);

  it('SIGTERM to a node whose job outlasts rescueAfter: no job starts after it, heartbeats go on, the leader never rescues it, it finishes once, the node exits', async () => {
    const store = await openClusterStore(kind, 'dr');
    const leader = start(store.settings('leader', { ...common, concurrency: 0 }));
    await leader.waitFor('leader leader');
    const worker = start(store.settings('worker', { ...common, concurrency: 1 }));
    await worker.waitFor('ready');
    // One runs; the others wait in the store or in the worker's buffer (claimed ahead).
    await store.insert([{ n: 0 }, { n: 1 }, { n: 2 }]);
    await waitUntil(async () => (await count(store.url, store.schema, 'start')) === 1, 15_000, 'a job to start');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const work = (await store.jobs('work')).map((j) => ({ state: j.state, attempt: j.attempt, errors: j.errors.map((e) => e.kind) }));
    expect(work.filter((j) => j.state === 'completed')).toEqual([{ state: 'completed', attempt: 1, errors: [] }]);
    // Those it held ahead were handed back without spending an attempt.
    const waiting = { state: 'available', attempt: 0, errors: [] };
    expect(work.filter((j) => j.state !== 'completed')).toEqual([waiting, waiting]);
    const ledger = await rows(store.url, `SELECT kind, node FROM ${store.ledger} ORDER BY id`);
    expect(ledger).toEqual([
      { kind: 'start', node: 'worker' },
      { kind: 'finish', node: 'worker' },
    ]);
    await killAll([leader]);
    await store.drop();
  }, 60_000);
});
