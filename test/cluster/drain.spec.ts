import { describe, expect, it } from 'vitest';
import { createTestSchema } from '../support/postgres.js';
import { createLedger, enqueueWork, insertJobs, killAll, useCluster, waitUntil, type ClusterNode } from '../support/cluster/cluster.js';

/**
 * A node draining after SIGTERM, on real processes and real PostgreSQL: it
 * hands leadership over first and keeps heartbeating the jobs it lets finish,
 * so planning goes on elsewhere and nothing still running is rescued.
 * Outcomes are read from the ledger and the jobs table, in order, not timed.
 */
describe('drain (child processes on PostgreSQL)', () => {
  const { start, rows } = useCluster();
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

describe('crash loop (child processes on PostgreSQL)', () => {
  const { start, rows } = useCluster();

  it('a job that kills its node: innocent jobs claimed ahead lose no attempt and run once; the killer ends dead after its attempts', async () => {
    const db = await createTestSchema('cr');
    await createLedger(db.url, db.schema);
    const common = { url: db.url, schema: db.schema, rescueAfter: 2_000, leaseTtl: 3_000 };
    const leader = start({ ...common, name: 'lifeline', concurrency: 0 });
    await leader.waitFor('leader lifeline');
    // The killer goes first (priority 0) into the worker's only slot; the innocent ones
    // (no retries: maxAttempts 1) are claimed ahead into its buffer behind it.
    await insertJobs(db.url, db.schema, [
      { name: 'crash', n: 0, priority: 0, maxAttempts: 2 },
      ...Array.from({ length: 5 }, (_, i) => ({ n: i + 1, priority: 1, maxAttempts: 1 })),
    ]);
    // A supervisor: a worker that dies is replaced, until the work is done.
    const state = async () =>
      rows(db.url, `SELECT name, state, count(*)::int AS n FROM "${db.schema}".scheduler_jobs GROUP BY name, state ORDER BY name, state`);
    const workers: ClusterNode[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const now = await state();
      if (now.some((r) => r.name === 'crash' && r.state === 'dead') && now.some((r) => r.name === 'work' && r.state === 'completed' && r.n === 5)) break;
      if (Date.now() > deadline) throw new Error(`crash loop did not settle: ${JSON.stringify(now)}`);
      const worker = start({ ...common, name: `worker${workers.length}`, concurrency: 1, workMs: 50 });
      workers.push(worker);
      await Promise.race([
        worker.exited,
        waitUntil(async () => (await state()).some((r) => r.name === 'work' && r.state === 'completed' && r.n === 5), 20_000, 'the work').catch(
          () => undefined,
        ),
      ]);
    }
    expect(workers.length).toBeGreaterThanOrEqual(2);
    const crash = await rows(db.url, `SELECT attempt, errors FROM "${db.schema}".scheduler_jobs WHERE name = 'crash'`);
    // Its two attempts, and at most one rescue for free: a job claimed ahead whose node died
    // before it started is not charged, but once rescued its start is recorded before it runs.
    const kinds = crash[0].errors.map((e: { kind: string }) => e.kind);
    expect(kinds.filter((k: string) => k === 'lease-lost')).toEqual(['lease-lost', 'lease-lost']);
    expect(kinds.filter((k: string) => k === 'unstarted').length).toBeLessThanOrEqual(1);
    expect(crash[0].attempt).toBe(kinds.length);
    const work = await rows(db.url, `SELECT attempt, max_attempts, state FROM "${db.schema}".scheduler_jobs WHERE name = 'work'`);
    expect(work.every((w) => w.state === 'completed')).toBe(true);
    const starts = await rows(db.url, `SELECT job_id, count(*)::int AS n FROM "${db.schema}".ledger WHERE kind = 'start' GROUP BY job_id`);
    expect(starts).toHaveLength(5);
    expect(starts.every((r) => r.n === 1)).toBe(true);
    await killAll([leader, ...workers]);
    await db.drop();
  }, 120_000);
});
