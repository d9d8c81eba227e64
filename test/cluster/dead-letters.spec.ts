import { describe, expect, it } from 'vitest';
import { createTestSchema } from '../support/postgres.js';
import { createLedger, insertJobs, killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';

/** Real processes on real PostgreSQL: `onDeadLetter` on every node, each death told once. */
describe('dead letters in a cluster (child processes on PostgreSQL)', () => {
  const cluster = useCluster();

  it('3 nodes with onDeadLetter: each of 60 dead jobs is handled once, by one node', async () => {
    const db = await createTestSchema('dlq');
    await createLedger(db.url, db.schema);
    const nodes = ['a', 'b', 'c'].map((name) => cluster.start({ url: db.url, schema: db.schema, name, deadLetterAlerts: true }));
    await Promise.all(nodes.map((n) => n.waitFor('ready')));
    await insertJobs(
      db.url,
      db.schema,
      Array.from({ length: 60 }, (_, n) => ({ name: 'fail', n, maxAttempts: 1 })),
    );
    const dead = `"${db.schema}".scheduler_dead_letters`;
    // Every alert settled: none can be handed out again, so the ledger is final.
    await waitUntil(
      async () => (await cluster.rows(db.url, `SELECT count(*)::int AS n FROM ${dead} WHERE alert_at IS NULL`))[0]!.n === 60,
      30_000,
      'every dead letter handled',
    );
    const alerts = await cluster.rows(db.url, `SELECT job_id, count(*)::int AS n FROM "${db.schema}".ledger WHERE kind = 'alert' GROUP BY job_id`);
    expect(alerts).toHaveLength(60);
    expect(alerts.filter((row) => row.n !== 1)).toEqual([]);
    const ids = await cluster.rows(db.url, `SELECT id::text FROM ${dead} ORDER BY id`);
    const text = (a: string, b: string) => a.localeCompare(b);
    expect(alerts.map((row) => String(row.job_id)).sort(text)).toEqual(ids.map((row) => String(row.id)).sort(text));
    const [tries] = await cluster.rows(db.url, `SELECT max(alert_tries)::int AS max FROM ${dead}`);
    expect(tries!.max).toBe(1);
    expect(nodes.flatMap((n) => n.errors).join('')).not.toMatch(/onDeadLetter threw|dead-letter alerts/);
    await killAll(nodes);
    await db.drop();
  }, 90_000);
});
