import { describe, expect, it } from 'vitest';
import { killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, openClusterStore } from '../support/cluster/cluster-stores.js';

/**
 * Claims from several real processes at once, on each shared store: a job
 * is handed to one of them only (PostgreSQL's row locks, Redis's scripts,
 * SQLite's one write lock), and every node gets a share.
 */
describe.each(CLUSTER_STORES)('claims across nodes (child processes on %s)', (kind) => {
  const { start, rows } = useCluster();

  it('4 nodes × concurrency 16 on 5,000 jobs: each started exactly once', async () => {
    const store = await openClusterStore(kind, 'cl');
    const four = Array.from({ length: 4 }, (_, i) => start(store.settings(`w${i}`, { concurrency: 16 })));
    await Promise.all(four.map((n) => n.waitFor('ready')));
    for (let n = 0; n < 5_000; n += 1_000) await store.insert(Array.from({ length: 1_000 }, (_, i) => ({ n: n + i })));
    const completed = () => store.direct.count({ name: 'work', states: ['completed'] });
    await waitUntil(async () => (await completed()) === 5_000, 60_000, '5,000 completed jobs');
    const starts = await rows(
      store.url,
      `SELECT count(*)::int AS total, count(DISTINCT job_id)::int AS distinct_jobs, count(DISTINCT node)::int AS nodes FROM ${store.ledger} WHERE kind = 'start'`,
    );
    expect(starts[0]).toEqual({ total: 5_000, distinct_jobs: 5_000, nodes: 4 });
    expect((await store.jobs('work')).filter((job) => job.attempt !== 1)).toEqual([]);
    await killAll(four);
    await store.drop();
  }, 120_000);
});
