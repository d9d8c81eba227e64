import { describe, expect, it } from 'vitest';
import { createTestSchema } from '../support/postgres.js';
import { createLedger, insertJobs, killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';

/**
 * A circuit breaker shared by real processes: failures on one node open it,
 * and every node then holds the breaker's jobs without spending their
 * attempts, until it turns half-open, a probe succeeds and it closes.
 */
describe('circuit breakers across nodes (child processes on PostgreSQL)', () => {
  const cluster = useCluster();

  it('a breaker opened by failures on one node stops the job on every node; it closes after a probe and the held jobs run, their attempts unspent', async () => {
    const db = await createTestSchema('breakers');
    await createLedger(db.url, db.schema);
    const settings = { url: db.url, schema: db.schema, concurrency: 2, breakerResetMs: 4_000 };
    const a = cluster.start({ ...settings, name: 'a' });
    const b = cluster.start({ ...settings, name: 'b' });
    await Promise.all([a.waitFor('ready'), b.waitFor('ready')]);
    const table = (name: string) => `"${db.schema}".${name}`;
    const breaker = async () => (await cluster.rows(db.url, `SELECT state, failures, next_probe_at FROM ${table('scheduler_breakers')} WHERE name = 'api'`))[0];

    // Three failures on node a (one attempt each) open the breaker.
    await insertJobs(
      db.url,
      db.schema,
      [1, 2, 3].map((n) => ({ name: 'flaky', n, maxAttempts: 1, pinnedNode: 'a' })),
    );
    await waitUntil(async () => (await breaker())?.state === 'open', 15_000, 'the breaker to open');
    expect(await breaker()).toMatchObject({ state: 'open', failures: 3 });
    const failedOn = await cluster.rows(db.url, `SELECT DISTINCT node FROM ${table('ledger')} WHERE kind = 'flaky'`);
    expect(failedOn).toEqual([{ node: 'a' }]);

    // Jobs for node b are held there: handed back to the half-open instant, no attempt spent, the handler never called.
    const { next_probe_at: probeAt } = (await breaker())!;
    await insertJobs(
      db.url,
      db.schema,
      [4, 5, 6].map((n) => ({ name: 'flaky', n, maxAttempts: 1, pinnedNode: 'b' })),
    );
    const held = () =>
      cluster.rows(db.url, `SELECT state, attempt, run_at FROM ${table('scheduler_jobs')} WHERE name = 'flaky' AND pinned_node = 'b' ORDER BY id`);
    await waitUntil(async () => (await held()).every((j) => j.run_at.getTime() === probeAt.getTime()), 15_000, 'node b to hold its jobs');
    expect((await held()).map((j) => [j.state, j.attempt])).toEqual([
      ['available', 0],
      ['available', 0],
      ['available', 0],
    ]);
    expect(await cluster.rows(db.url, `SELECT 1 FROM ${table('ledger')} WHERE kind = 'flaky' AND node = 'b'`)).toEqual([]);

    // The API recovers: once half-open, a probe succeeds, the breaker closes and every held job runs once.
    await cluster.rows(db.url, `INSERT INTO ${table('ledger')} (kind, node) VALUES ('healthy', 'test')`);
    await waitUntil(async () => (await held()).every((j) => j.state === 'completed'), 30_000, 'the held jobs to complete');
    expect((await held()).map((j) => j.attempt)).toEqual([1, 1, 1]);
    expect(await breaker()).toMatchObject({ state: 'closed', failures: 0, next_probe_at: null });
    const runs = await cluster.rows(db.url, `SELECT job_id, node FROM ${table('ledger')} WHERE kind = 'flaky' AND node = 'b'`);
    expect(runs).toHaveLength(3);
    // The nodes go before their schema (dropping it under their statements could deadlock).
    await killAll([a, b]);
    await db.drop();
  }, 90_000);
});
