import { describe, expect, it } from 'vitest';
import type { UniqueOption } from '../../lib/index.js';
import { useCluster, waitUntil } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, openClusterStore } from '../support/cluster/cluster-stores.js';

/**
 * Unique jobs with real processes, on each shared store: 3 nodes enqueue
 * the same unique job at once (10 concurrent calls each) and exactly one
 * job is inserted, every call getting it back; then the same for a key
 * whose holder completed and whose period has passed, which all of them try
 * to take over in the same instant.
 */
describe.each(CLUSTER_STORES)('unique jobs across nodes (child processes on %s)', (kind) => {
  const cluster = useCluster();

  it('a unique job enqueued by 3 nodes at once is inserted once, and a stale key is taken over by one of them', async () => {
    const store = await openClusterStore(kind, 'unique');
    const fresh: UniqueOption = { by: ['name', { args: ['n'] }] };
    const stale: UniqueOption = { key: 'nightly', states: ['scheduled', 'available', 'running', 'completed'], period: '1h' };
    const rounds = [
      { go: 'go-fresh', args: { n: 1 }, unique: fresh, count: 10 },
      { go: 'go-stale', args: { n: 2 }, unique: stale, count: 10 },
    ];
    // Web nodes (no queues): the jobs stay available, so the store shows every insert.
    const nodes = ['a', 'b', 'c'].map((name) => cluster.start(store.settings(name, { concurrency: 0, enqueueRounds: rounds })));
    await Promise.all(nodes.map((node) => node.waitFor('ready', 30_000)));
    const table = `${store.ledger}`;
    const ledger = (kind: string) => cluster.rows(store.url, `SELECT job_id, node FROM ${table} WHERE kind = $1`, [kind]);

    await cluster.rows(store.url, `INSERT INTO ${table} (kind, node) VALUES ('go-fresh', 'test')`);
    await Promise.all(nodes.map((node) => node.waitFor('enqueued go-fresh', 30_000)));
    const first = await ledger('enqueued');
    expect(first).toHaveLength(1);
    const duplicates = await ledger('duplicate');
    expect(duplicates).toHaveLength(29);
    expect(new Set(duplicates.map((row) => row.job_id))).toEqual(new Set([first[0]!.job_id]));
    expect(new Set(duplicates.map((row) => row.node))).toEqual(new Set(['a', 'b', 'c']));
    const jobs = await store.jobs('work');
    expect(jobs.map((job) => [job.id, job.uniqueKey])).toEqual([[String(first[0]!.job_id), expect.stringMatching(/^work:args\(n\)=/)]]);

    // A holder that completed more than the period ago: its kept key is stale.
    const long = new Date(Date.now() - 2 * 3_600_000);
    const [holder] = await store.direct.insert(
      [
        {
          name: 'work',
          queue: 'default',
          args: { n: 0 },
          priority: 0,
          maxAttempts: 1,
          timeout: null,
          runAt: long,
          uniqueKey: 'nightly',
          uniqueStates: ['completed'],
          uniquePeriod: 3_600_000,
        },
      ],
      { now: long },
    );
    const [claimed] = await store.direct.claim({ queue: 'default', limit: 1, node: 'test', now: new Date(), ids: [holder!.job.id] });
    await store.direct.complete({ id: claimed!.id, attempt: claimed!.attempt }, null, new Date());

    await cluster.rows(store.url, `INSERT INTO ${table} (kind, node) VALUES ('go-stale', 'test')`);
    await Promise.all(nodes.map((node) => node.waitFor('enqueued go-stale', 30_000)));
    await waitUntil(async () => (await ledger('duplicate')).length === 29 + 29, 10_000, 'every call to be recorded');
    const taken = (await ledger('enqueued')).filter((row) => row.job_id !== first[0]!.job_id);
    expect(taken).toHaveLength(1);
    // The key's old holder is kept as it was; the one new job holds it now.
    const nightly = (await store.jobs('work')).filter((job) => job.uniqueKey === 'nightly');
    expect(nightly.map((job) => [job.id, job.state])).toEqual([
      [holder!.job.id, 'completed'],
      [String(taken[0]!.job_id), 'available'],
    ]);

    for (const node of nodes) node.child.kill('SIGTERM');
    expect(await Promise.all(nodes.map((node) => node.exited))).toEqual([0, 0, 0]);
    await store.drop();
  }, 120_000);
});
