import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, withClient } from '../support/postgres.js';
import { buildClusterNode, createLedger, enqueueWork, expectEverySecond, killAll, startNode, waitUntil, type ClusterNode } from '../support/cluster/cluster.js';

/**
 * Real processes, real signals, real PostgreSQL. Short TTLs keep it quick:
 * lease 2 s, rescue after 3 s. A node killed mid-job or mid-run is tested on
 * every store in test/cluster/sigkill.spec.ts, claims by many nodes in
 * test/cluster/claims.spec.ts.
 */
describe('cluster (child processes on PostgreSQL)', () => {
  const nodes: ClusterNode[] = [];
  beforeAll(() => buildClusterNode(), 120_000);
  afterAll(() => killAll(nodes));

  async function fresh() {
    const db = await createTestSchema('cl');
    await createLedger(db.url, db.schema);
    return db;
  }
  const start = (settings: Parameters<typeof startNode>[0]) => {
    const node = startNode(settings);
    nodes.push(node);
    return node;
  };
  const rows = (url: string, sql: string, params: unknown[] = []) => withClient(url, async (c) => (await c.query(sql, params)).rows);

  it('5 nodes booting at once on an empty schema: one migration, one leader, no errors', async () => {
    const db = await fresh();
    const five = Array.from({ length: 5 }, (_, i) => start({ url: db.url, schema: db.schema, name: `boot${i}` }));
    await Promise.all(five.map((n) => n.waitFor('ready')));
    await waitUntil(() => five.some((n) => n.output.some((l) => l.startsWith('leader'))), 10_000, 'a leader');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const leaders = five.filter((n) => n.output.some((l) => l.startsWith('leader')));
    expect(leaders).toHaveLength(1);
    const migrations = await rows(db.url, `SELECT count(*)::int AS n, count(DISTINCT name)::int AS d FROM "${db.schema}".scheduler_migrations`);
    expect(migrations[0].n).toBe(migrations[0].d);
    expect(five.flatMap((n) => n.errors).join('')).toBe('');
    await killAll(five);
    await db.drop();
  }, 60_000);

  it('an every-second cron on 3 nodes while the leader is SIGKILLed every few seconds: each tick planned once (0 missed, 0 doubled)', async () => {
    const db = await fresh();
    const settings = (name: string) => ({ url: db.url, schema: db.schema, name, cron: true, leaseTtl: 2_000 });
    const live = [start(settings('a')), start(settings('b')), start(settings('c'))];
    await Promise.all(live.map((n) => n.waitFor('ready')));
    const began = Date.now();
    let spawned = 0;
    while (Date.now() - began < 14_000) {
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      const [lease] = await rows(db.url, `SELECT node FROM "${db.schema}".scheduler_leases WHERE name = 'leader' AND expires_at > now()`);
      const leader = live.find((n) => n.name === lease?.node);
      if (!leader) continue;
      leader.child.kill('SIGKILL');
      await leader.exited;
      live.splice(live.indexOf(leader), 1);
      const replacement = start(settings(`r${spawned++}`));
      live.push(replacement);
      await replacement.waitFor('ready');
    }
    expect(spawned).toBeGreaterThanOrEqual(2);
    // Let the last ticks finish (one claimed by a killed leader waits for the
    // rescue: rescueAfter plus a sweep by the next leader), then compare ticks
    // planned with ticks run. A tick never planned has no row, so it is not waited for.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await waitUntil(
      async () => {
        const [{ n }] = await rows(
          db.url,
          `SELECT count(*)::int AS n FROM "${db.schema}".scheduler_jobs WHERE name = 'tick' AND state IN ('available', 'running')
             AND scheduled_at < (SELECT max(scheduled_at) FROM "${db.schema}".scheduler_jobs WHERE name = 'tick' AND state = 'completed')`,
        );
        return n === 0;
      },
      20_000,
      'every planned tick before the last completed one to finish',
    );
    const ticks = await rows(
      db.url,
      `SELECT scheduled_at FROM "${db.schema}".scheduler_jobs WHERE name = 'tick' AND state = 'completed' ORDER BY scheduled_at`,
    );
    const runs = await rows(
      db.url,
      `SELECT tick, count(DISTINCT job_id)::int AS jobs, count(*)::int AS n, count(DISTINCT attempt)::int AS attempts FROM "${db.schema}".ledger WHERE kind = 'tick' GROUP BY tick ORDER BY tick`,
    );
    // Each tick was planned once (one job). A node SIGKILLed between a tick's ledger row and its
    // acknowledgement leaves that attempt to the rescue, which runs it again as a new attempt:
    // at-least-once, never the same attempt twice.
    expect(runs.filter((r) => r.jobs !== 1 || r.attempts !== r.n)).toEqual([]);
    // Every second between the first and the last completed tick was planned: none missed.
    expectEverySecond(
      ticks.map((r) => new Date(r.scheduled_at).getTime()),
      13,
    );
    await killAll(live);
    await db.drop();
  }, 90_000);

  it('SIGTERM: no job starts after the signal, running jobs finish, and the process exits on its own', async () => {
    const db = await fresh();
    const node = start({ url: db.url, schema: db.schema, name: 'term', workMs: 1_500, concurrency: 2, shutdownGracePeriod: 10_000 });
    await node.waitFor('ready');
    await enqueueWork(db.url, db.schema, 6);
    await waitUntil(
      async () => (await rows(db.url, `SELECT count(*)::int AS n FROM "${db.schema}".ledger WHERE kind = 'start'`))[0].n === 2,
      10_000,
      'two jobs to start',
    );
    const [{ now: signalledAt }] = await rows(db.url, 'SELECT clock_timestamp() AS now');
    node.child.kill('SIGTERM');
    const code = await node.exited;
    expect(code).toBe(0);
    const late = await rows(db.url, `SELECT count(*)::int AS n FROM "${db.schema}".ledger WHERE kind = 'start' AND at > $1`, [signalledAt]);
    expect(late[0].n).toBe(0);
    const states = await rows(db.url, `SELECT state, count(*)::int AS n FROM "${db.schema}".scheduler_jobs WHERE name = 'work' GROUP BY state ORDER BY state`);
    expect(states).toEqual([
      { state: 'available', n: 4 },
      { state: 'completed', n: 2 },
    ]);
    await db.drop();
  }, 60_000);
});
