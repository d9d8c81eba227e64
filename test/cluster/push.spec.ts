import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import type { NewJob } from '../../lib/store/job.types.js';
import { createTestSchema, withClient } from '../support/postgres.js';
import { createTestContext } from '../support/postgres/context.js';
import { buildClusterNode, createLedger, killAll, startNode, waitUntil, type ClusterNode } from '../support/cluster/cluster.js';

/**
 * Push to idle nodes with real processes: jobs enqueued on a web node start
 * on an idle worker without a claim; a job pushed to a worker that dies before
 * taking it runs elsewhere after the rescue, its attempt not counted; and once
 * the worker's session is gone, its offer (not yet expired) draws no push.
 */
describe('push to idle nodes (child processes on PostgreSQL)', () => {
  const nodes: ClusterNode[] = [];
  beforeAll(() => buildClusterNode(), 120_000);
  afterAll(() => killAll(nodes));

  const start = (settings: Parameters<typeof startNode>[0]) => {
    const node = startNode(settings);
    nodes.push(node);
    return node;
  };
  const rows = (url: string, sql: string, params: unknown[] = []) => withClient(url, async (c) => (await c.query(sql, params)).rows);
  const work = (n: number): NewJob => ({ name: 'work', queue: 'default', args: { n }, priority: 0, maxAttempts: 3, timeout: null, runAt: new Date() });

  async function web(url: string, schema: string): Promise<PostgresStore> {
    const store = new PostgresStore(createTestContext(url, schema, 'web'), { type: 'postgres', url, schema });
    await store.init();
    return store;
  }
  const offered = async (url: string, schema: string, node: string) =>
    (await rows(url, `SELECT slots FROM "${schema}".scheduler_offers WHERE node = $1 AND queue = 'default' AND expires_at > now()`, [node]))[0]?.slots ?? 0;

  it('a job pushed to a worker that dies runs on another after the rescue, its attempt not counted; a dead worker draws no push; live workers take pushes at once', async () => {
    const db = await createTestSchema('push');
    await createLedger(db.url, db.schema);
    const rescueAfter = 3_000;
    const victim = start({ url: db.url, schema: db.schema, name: 'victim', concurrency: 4, rescueAfter });
    await victim.waitFor('ready');
    await waitUntil(async () => (await offered(db.url, db.schema, 'victim')) === 4, 15_000, 'the idle victim to offer its slots');
    const store = await web(db.url, db.schema);
    try {
      // A live idle worker: the job is inserted claimed for it and runs there.
      const [live] = await store.insert([work(1)], { push: { from: 'web', now: new Date() } });
      expect(live!.job).toMatchObject({ state: 'running', node: 'victim' });
      await waitUntil(
        async () => (await rows(db.url, `SELECT state FROM "${db.schema}".scheduler_jobs WHERE id = $1`, [live!.job.id]))[0]?.state === 'completed',
        15_000,
        'the pushed job to complete on the victim',
      );

      // Frozen (SIGSTOP), the worker still holds its session: a push reaches its offer, then it dies (SIGKILL) before taking it.
      victim.child.kill('SIGSTOP');
      const [orphan] = await store.insert([work(2)], { push: { from: 'web', now: new Date() } });
      expect(orphan!.job).toMatchObject({ state: 'running', node: 'victim' });
      const [{ listener }] = await rows(db.url, `SELECT listener FROM "${db.schema}".scheduler_offers WHERE node = 'victim'`);
      victim.child.kill('SIGKILL');
      await victim.exited;

      // Its offer has not expired, but its session has ended: the next job is inserted for any node to claim.
      await waitUntil(async () => (await rows(db.url, 'SELECT 1 FROM pg_stat_activity WHERE pid = $1', [listener])).length === 0, 10_000, 'the session to end');
      expect(await offered(db.url, db.schema, 'victim')).toBeGreaterThan(0);
      const [unpushed] = await store.insert([work(4)], { push: { from: 'web', now: new Date() } });
      expect(unpushed!.job).toMatchObject({ state: 'available', node: null });

      const rescuer = start({ url: db.url, schema: db.schema, name: 'rescuer', concurrency: 2, rescueAfter });
      await rescuer.waitFor('ready');
      await waitUntil(
        async () => (await rows(db.url, `SELECT state FROM "${db.schema}".scheduler_jobs WHERE id = $1`, [orphan!.job.id]))[0]?.state === 'completed',
        30_000,
        'the orphaned push to complete elsewhere',
      );
      const [done] = await rows(
        db.url,
        `SELECT node, attempt, max_attempts, errors -> -1 ->> 'kind' AS kind FROM "${db.schema}".scheduler_jobs WHERE id = $1`,
        [orphan!.job.id],
      );
      expect(done).toMatchObject({ node: 'rescuer', attempt: 2, max_attempts: 4, kind: 'unstarted' });
      const runs = await rows(db.url, `SELECT node FROM "${db.schema}".ledger WHERE kind = 'finish' AND job_id = $1`, [orphan!.job.id]);
      expect(runs).toEqual([{ node: 'rescuer' }]);
      const [plain] = await rows(db.url, `SELECT state, node, attempt FROM "${db.schema}".scheduler_jobs WHERE id = $1`, [unpushed!.job.id]);
      expect(plain).toEqual({ state: 'completed', node: 'rescuer', attempt: 1 });

      // The rescuer, idle again, offers; a push reaches it and starts without a claim.
      await waitUntil(async () => (await offered(db.url, db.schema, 'rescuer')) > 0, 15_000, 'the rescuer to offer its slots');
      const [next] = await store.insert([work(3)], { push: { from: 'web', now: new Date() } });
      expect(next!.job).toMatchObject({ state: 'running', node: 'rescuer' });
      await waitUntil(
        async () =>
          (await rows(db.url, `SELECT count(*)::int AS n FROM "${db.schema}".ledger WHERE kind = 'finish' AND job_id = $1`, [next!.job.id]))[0].n === 1,
        15_000,
        'the push to the rescuer to run',
      );
      await killAll([rescuer]);
    } finally {
      await store.close();
    }
    await db.drop();
  }, 90_000);
});
