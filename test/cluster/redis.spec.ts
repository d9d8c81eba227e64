import { describe, expect, it } from 'vitest';
import { closeRedis, openRedis } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import type { Job } from '../../lib/store/job.types.js';
import { createTestSchema } from '../support/postgres.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';
import { createLedger, expectEverySecond, killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';

/**
 * The boot and cron tests of the PostgreSQL store (test/cluster/failover.spec.ts),
 * on Redis: real processes, real signals, a real Redis server. The jobs live
 * in Redis; the ledger the jobs write to stays in PostgreSQL. A node killed
 * mid-job or mid-run is tested on every store in test/cluster/sigkill.spec.ts.
 */
describe('cluster (child processes on Redis)', () => {
  const { start, rows } = useCluster();

  async function fresh() {
    const db = await createTestSchema('clr');
    await createLedger(db.url, db.schema);
    const keys = testKeyPrefix('cluster');
    const redis = await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix });
    const store = new RedisStore(redis);
    const settings = (name: string, extra: Record<string, unknown> = {}) => ({
      url: db.url,
      schema: db.schema,
      name,
      redis: { url: redisUrl(), keyPrefix: keys.keyPrefix },
      ...extra,
    });
    const done = async () => {
      await closeRedis(redis);
      await keys.drop();
      await db.drop();
    };
    return { db, store, redis, settings, done };
  }
  const jobs = (store: RedisStore, name: string, states?: Job['state'][]) => store.list({ name, ...(states ? { states } : {}), limit: 100_000, order: 'asc' });

  it('5 nodes booting at once: one leader, no errors', async () => {
    const { settings, done } = await fresh();
    const five = Array.from({ length: 5 }, (_, i) => start(settings(`boot${i}`)));
    // Generous: five Nest processes booting at once on a loaded 2-core machine.
    await Promise.all(five.map((n) => n.waitFor('ready', 45_000)));
    await waitUntil(() => five.some((n) => n.output.some((l) => l.startsWith('leader'))), 10_000, 'a leader');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(five.filter((n) => n.output.some((l) => l.startsWith('leader')))).toHaveLength(1);
    expect(five.flatMap((n) => n.errors).join('')).toBe('');
    await killAll(five);
    await done();
  }, 90_000);

  it('an every-second cron on 3 nodes while the leader is SIGKILLed every few seconds: each tick planned once (0 missed, 0 doubled)', async () => {
    const { db, store, redis, settings, done } = await fresh();
    const node = (name: string) => start(settings(name, { cron: true, leaseTtl: 2_000 }));
    const live = [node('a'), node('b'), node('c')];
    await Promise.all(live.map((n) => n.waitFor('ready')));
    const began = Date.now();
    let spawned = 0;
    while (Date.now() - began < 14_000) {
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      const lease = await redis.client.get(`${redis.base}leader`);
      const leader = live.find((n) => n.name === lease?.slice(lease.indexOf('|') + 1));
      if (!leader) continue;
      leader.child.kill('SIGKILL');
      await leader.exited;
      live.splice(live.indexOf(leader), 1);
      const replacement = node(`r${spawned++}`);
      live.push(replacement);
      await replacement.waitFor('ready');
    }
    expect(spawned).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // Every planned tick before the last completed one has finished (one a killed node held waits for its rescue).
    await waitUntil(
      async () => {
        const completed = (await jobs(store, 'tick', ['completed'])).map((j) => j.scheduledAt.getTime());
        const last = Math.max(...completed);
        return (await jobs(store, 'tick', ['available', 'running'])).every((j) => j.scheduledAt.getTime() > last);
      },
      20_000,
      'every planned tick before the last completed one to finish',
    );
    const times = (await jobs(store, 'tick', ['completed'])).map((j) => j.scheduledAt.getTime());
    const runs = await rows(
      db.url,
      `SELECT tick, count(DISTINCT job_id)::int AS jobs, count(*)::int AS n, count(DISTINCT attempt)::int AS attempts FROM "${db.schema}".ledger WHERE kind = 'tick' GROUP BY tick ORDER BY tick`,
    );
    // Each tick was planned once (one job). A node SIGKILLed between a tick's ledger row and its
    // acknowledgement leaves that attempt to the rescue, which runs it again as a new attempt:
    // at-least-once, never the same attempt twice.
    expect(runs.filter((r) => r.jobs !== 1 || r.attempts !== r.n)).toEqual([]);
    // Every second between the first and the last completed tick was planned: none missed.
    expectEverySecond(times, 13);
    await killAll(live);
    await done();
  }, 90_000);
});
