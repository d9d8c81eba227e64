import { describe, expect, it } from 'vitest';
import { createTestSchema } from '../support/postgres.js';
import { createLedger, enqueueWork, killAll, useCluster, waitUntil, type ClusterNode } from '../support/cluster/cluster.js';

/**
 * Nodes whose clocks are wrong, on real processes and real PostgreSQL: time
 * that decides rescue and due jobs is the database's, so a lagging worker's
 * heartbeats are not stale and a leader running ahead rescues nothing alive.
 */
describe('clock skew (child processes on PostgreSQL)', () => {
  const { start, rows } = useCluster();

  it('a leader 30 s ahead and a worker 30 s behind: the job runs at once, is never rescued, and both nodes say their clock is off', async () => {
    const db = await createTestSchema('sk');
    await createLedger(db.url, db.schema);
    const common = { url: db.url, schema: db.schema, workMs: 6_000, rescueAfter: 2_000, leaseTtl: 3_000 };
    const leader = start({ ...common, name: 'ahead', concurrency: 0, clockOffsetMs: 30_000 });
    await leader.waitFor('leader ahead');
    const worker = start({ ...common, name: 'behind', concurrency: 1, clockOffsetMs: -30_000 });
    await worker.waitFor('ready');
    await enqueueWork(db.url, db.schema, 1);
    await waitUntil(
      async () => (await rows(db.url, `SELECT state FROM "${db.schema}".scheduler_jobs WHERE name = 'work'`))[0]?.state === 'completed',
      20_000,
      'the job to complete',
    );
    const work = await rows(db.url, `SELECT attempt, errors FROM "${db.schema}".scheduler_jobs WHERE name = 'work'`);
    expect(work).toEqual([{ attempt: 1, errors: [] }]);
    const ledger = await rows(db.url, `SELECT kind, node FROM "${db.schema}".ledger ORDER BY id`);
    expect(ledger).toEqual([
      { kind: 'start', node: 'behind' },
      { kind: 'finish', node: 'behind' },
    ]);
    const said = (node: ClusterNode) => [...node.output, ...node.errors].join('\n');
    expect(said(leader)).toMatch(/clock is 30\.\d s ahead of the database's/);
    expect(said(worker)).toMatch(/clock is 30\.\d s behind the database's/);
    await killAll([leader, worker]);
    await db.drop();
  }, 60_000);
});
