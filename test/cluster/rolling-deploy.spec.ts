import { describe, expect, it } from 'vitest';
import { killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import { openClusterStore } from '../support/cluster/cluster-stores.js';

/**
 * A rolling deploy that adds a job, on real processes: nodes of the earlier
 * build (no handler for it) claim its jobs as they claim any of their queue.
 * They hand them back without spending an attempt, so a job with no retries
 * left is not lost there, and a node of the new build runs each once.
 */
describe('rolling deploy (child processes on postgres)', () => {
  const { start, rows } = useCluster();

  it('jobs of a name only the new build has: handed back by the old nodes unspent, run once by a new one', async () => {
    const store = await openClusterStore('postgres', 'rd');
    await store.direct.setScheduleState('tick', { paused: true });
    const common = { rescueAfter: 2_000, leaseTtl: 3_000 };
    // One job a claim, so that it hands them back one by one while the new node takes the rest.
    const old = start(store.settings('old', { ...common, concurrency: 1, prefetch: 0 }));
    await old.waitFor('leader old');
    // No retries: a failed attempt would be the end of each.
    await store.insert(Array.from({ length: 20 }, (_, n) => ({ name: 'news', n, maxAttempts: 1 })));
    // A hand-back makes a job due 5 s later: one whose run time moved was handed back at least once.
    const handedBack = async () => (await store.jobs('news')).filter((j) => j.runAt.getTime() > j.insertedAt.getTime() + 1_000).length;
    await waitUntil(async () => (await handedBack()) === 20, 30_000, 'the old node to hand every news job back');
    expect((await store.jobs('news')).map((j) => [j.attempt, j.errors.length])).toEqual(Array(20).fill([0, 0]));

    // The deploy goes on: a node of the new build starts, then the old one stops (SIGTERM: it drains and exits).
    const fresh = start(store.settings('new', { ...common, concurrency: 4, news: true }));
    await waitUntil(async () => (await rows(store.url, `SELECT 1 FROM ${store.ledger} WHERE kind = 'news'`)).length > 0, 30_000, 'the new node to run one');
    old.child.kill('SIGTERM');
    expect(await old.exited).toBe(0);
    await waitUntil(async () => (await store.jobs('news')).every((j) => j.state === 'completed'), 30_000, 'every news job completed');
    for (const job of await store.jobs('news')) expect({ attempt: job.attempt, errors: job.errors }).toEqual({ attempt: 1, errors: [] });
    const ran = await rows(store.url, `SELECT job_id, count(*)::int AS n, min(node) AS node FROM ${store.ledger} WHERE kind = 'news' GROUP BY job_id`);
    expect(ran).toHaveLength(20);
    expect(ran.every((r) => r.n === 1 && r.node === 'new')).toBe(true);
    await killAll([old, fresh]);
    await store.drop();
  }, 90_000);
});
