import { describe, expect, it } from 'vitest';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import type { UniqueOption } from '../../lib/index.js';
import { createTestSchema } from '../support/postgres.js';
import { createTestContext } from '../support/postgres/context.js';
import { createLedger, useCluster, waitUntil } from '../support/cluster/cluster.js';

/**
 * Unique jobs with real processes: 3 nodes enqueue the same unique job at
 * once (10 concurrent calls each, on their own pools) and exactly one job is
 * inserted, every call getting it back; then the same for a key whose holder
 * completed and whose period has passed, which all of them try to take over
 * in the same instant.
 */
describe('unique jobs across nodes (child processes on PostgreSQL)', () => {
  const cluster = useCluster();

  it('a unique job enqueued by 3 nodes at once is inserted once, and a stale key is taken over by one of them', async () => {
    const db = await createTestSchema('unique');
    await createLedger(db.url, db.schema);
    const fresh: UniqueOption = { by: ['name', { args: ['n'] }] };
    const stale: UniqueOption = { key: 'nightly', states: ['scheduled', 'available', 'running', 'completed'], period: '1h' };
    const rounds = [
      { go: 'go-fresh', args: { n: 1 }, unique: fresh, count: 10 },
      { go: 'go-stale', args: { n: 2 }, unique: stale, count: 10 },
    ];
    // Web nodes (no queues): the jobs stay available, so the table shows every insert.
    const nodes = ['a', 'b', 'c'].map((name) => cluster.start({ url: db.url, schema: db.schema, name, concurrency: 0, enqueueRounds: rounds }));
    await Promise.all(nodes.map((node) => node.waitFor('ready', 30_000)));
    const t = (name: string) => `"${db.schema}".${name}`;
    const ledger = (kind: string) => cluster.rows(db.url, `SELECT job_id, node FROM ${t('ledger')} WHERE kind = $1`, [kind]);

    await cluster.rows(db.url, `INSERT INTO ${t('ledger')} (kind, node) VALUES ('go-fresh', 'test')`);
    await Promise.all(nodes.map((node) => node.waitFor('enqueued go-fresh', 30_000)));
    const first = await ledger('enqueued');
    expect(first).toHaveLength(1);
    const duplicates = await ledger('duplicate');
    expect(duplicates).toHaveLength(29);
    expect(new Set(duplicates.map((row) => row.job_id))).toEqual(new Set([first[0]!.job_id]));
    expect(new Set(duplicates.map((row) => row.node))).toEqual(new Set(['a', 'b', 'c']));
    const jobs = await cluster.rows(db.url, `SELECT id::text, unique_key FROM ${t('scheduler_jobs')} WHERE name = 'work'`);
    expect(jobs).toEqual([{ id: first[0]!.job_id, unique_key: expect.stringMatching(/^work:args\(n\)=/) }]);

    // A holder that completed more than the period ago: its kept key is stale.
    const store = new PostgresStore(createTestContext(db.url, db.schema, 'test'), { type: 'postgres', url: db.url, schema: db.schema });
    await store.init();
    try {
      const long = new Date(Date.now() - 2 * 3_600_000);
      const [holder] = await store.insert(
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
      const [claimed] = await store.claim({ queue: 'default', limit: 1, node: 'test', now: new Date(), ids: [holder!.job.id] });
      await store.complete({ id: claimed!.id, attempt: claimed!.attempt }, null, new Date());
      const [{ completed }] = await cluster.rows(db.url, `SELECT completed FROM ${t('scheduler_unique_keys')} WHERE key = 'nightly'`);
      expect(completed).toBe(true);
    } finally {
      await store.close();
    }
    await cluster.rows(db.url, `INSERT INTO ${t('ledger')} (kind, node) VALUES ('go-stale', 'test')`);
    await Promise.all(nodes.map((node) => node.waitFor('enqueued go-stale', 30_000)));
    await waitUntil(async () => (await ledger('duplicate')).length === 29 + 29, 10_000, 'every call to be recorded');
    const taken = (await ledger('enqueued')).filter((row) => row.job_id !== first[0]!.job_id);
    expect(taken).toHaveLength(1);
    const stillHeld = await cluster.rows(db.url, `SELECT id::text FROM ${t('scheduler_unique_keys')} WHERE key = 'nightly'`);
    expect(stillHeld).toEqual([{ id: taken[0]!.job_id }]);
    const nightly = await cluster.rows(db.url, `SELECT state FROM ${t('scheduler_jobs')} WHERE unique_key = 'nightly' ORDER BY id`);
    expect(nightly.map((row) => row.state)).toEqual(['completed', 'available']);

    for (const node of nodes) node.child.kill('SIGTERM');
    expect(await Promise.all(nodes.map((node) => node.exited))).toEqual([0, 0, 0]);
    await db.drop();
  }, 120_000);
});
