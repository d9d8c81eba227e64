import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, withClient } from '../support/postgres.js';
import { buildClusterNode, createLedger, enqueueWork, killAll, startNode, waitUntil, type ClusterNode } from './cluster.js';

/**
 * A node draining after SIGTERM, on real processes and real PostgreSQL: it
 * hands leadership over first and keeps heartbeating the jobs it lets finish,
 * so planning goes on elsewhere and nothing still running is rescued.
 * Outcomes are read from the ledger and the jobs table, in order, not timed.
 */
describe('drain (child processes on PostgreSQL)', () => {
  const nodes: ClusterNode[] = [];
  beforeAll(() => buildClusterNode(), 120_000);
  afterAll(() => killAll(nodes));
  const start = (settings: Parameters<typeof startNode>[0]) => {
    const node = startNode(settings);
    nodes.push(node);
    return node;
  };
  const rows = (url: string, sql: string, params: unknown[] = []) => withClient(url, async (c) => (await c.query(sql, params)).rows);
  const count = async (url: string, schema: string, kind: string): Promise<number> =>
    (await rows(url, `SELECT count(*)::int AS n FROM "${schema}".ledger WHERE kind = $1`, [kind]))[0].n;
  const common = { workMs: 6_000, rescueAfter: 2_000, leaseTtl: 3_000, shutdownGracePeriod: 20_000 };

  it('SIGTERM to the leader: another node leads (and plans) while it still drains its job', async () => {
    const db = await createTestSchema('dr');
    await createLedger(db.url, db.schema);
    const drainer = start({ ...common, url: db.url, schema: db.schema, name: 'drainer', cron: true, concurrency: 1 });
    await drainer.waitFor('leader drainer');
    await enqueueWork(db.url, db.schema, 1);
    await waitUntil(async () => (await count(db.url, db.schema, 'start')) === 1, 15_000, 'the job to start');
    const heir = start({ ...common, url: db.url, schema: db.schema, name: 'heir', cron: true, concurrency: 2 });
    await heir.waitFor('ready');
    drainer.child.kill('SIGTERM');
    await heir.waitFor('leader heir', 10_000);
    // The heir leads before the drainer's job has finished.
    expect(await count(db.url, db.schema, 'finish')).toBe(0);
    const ticksBefore = await count(db.url, db.schema, 'tick');
    await waitUntil(async () => (await count(db.url, db.schema, 'tick')) > ticksBefore, 5_000, 'a tick planned by the heir');
    expect(await count(db.url, db.schema, 'finish')).toBe(0);
    expect(await drainer.exited).toBe(0);
    expect(await rows(db.url, `SELECT state, attempt FROM "${db.schema}".scheduler_jobs WHERE name = 'work'`)).toEqual([{ state: 'completed', attempt: 1 }]);
    await killAll([heir]);
    await db.drop();
  }, 60_000);

  it('SIGTERM to a node whose job outlasts rescueAfter: heartbeats go on, the leader never rescues it, it finishes once', async () => {
    const db = await createTestSchema('dr');
    await createLedger(db.url, db.schema);
    const leader = start({ ...common, url: db.url, schema: db.schema, name: 'leader', concurrency: 0 });
    await leader.waitFor('leader leader');
    const worker = start({ ...common, url: db.url, schema: db.schema, name: 'worker', concurrency: 1 });
    await worker.waitFor('ready');
    await enqueueWork(db.url, db.schema, 1);
    await waitUntil(async () => (await count(db.url, db.schema, 'start')) === 1, 15_000, 'the job to start');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const work = await rows(db.url, `SELECT state, attempt, errors FROM "${db.schema}".scheduler_jobs WHERE name = 'work'`);
    expect(work).toEqual([{ state: 'completed', attempt: 1, errors: [] }]);
    const ledger = await rows(db.url, `SELECT kind, node FROM "${db.schema}".ledger ORDER BY id`);
    expect(ledger).toEqual([
      { kind: 'start', node: 'worker' },
      { kind: 'finish', node: 'worker' },
    ]);
    await killAll([leader]);
    await db.drop();
  }, 60_000);
});
