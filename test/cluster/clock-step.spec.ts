import { describe, expect } from 'vitest';
import { killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, itOn, openClusterStore, type ClusterStore } from '../support/cluster/cluster-stores.js';

const HOUR = 3_600_000;

/**
 * A node's wall clock steps while it runs (NTP correcting a wrong clock at
 * boot, a resumed VM, `date -s`), on real processes and a store with a clock
 * of its own: the node's timers wait their delay, not the step, and its
 * clock stays on the database's timeline, so no live job is rescued and the
 * every-second cron goes on. (The processes of a SQLite file share one
 * machine, and its clock is theirs.)
 */
describe.each(CLUSTER_STORES.filter((kind) => kind !== 'sqlite'))('clock steps (child processes on %s)', (kind) => {
  const { start, rows } = useCluster();

  /** Waits for `count` runs to end, then a moment for their completions to be stored (a rescued run's is refused). */
  const finished = async (store: ClusterStore, count: number): Promise<void> => {
    const ends = async () => (await rows(store.url, `SELECT count(*)::int AS n FROM ${store.ledger} WHERE kind = 'finish'`))[0]!.n;
    await waitUntil(async () => (await ends()) >= count, 20_000, `${count} runs to end`);
    const completed = async () => (await store.jobs('work')).every((job) => job.state === 'completed');
    await waitUntil(completed, 3_000, 'the completions').catch(() => undefined);
  };

  itOn(kind, ['postgres'])(
    "a worker's clock steps back an hour while it runs a job longer than rescueAfter: the job is not rescued and runs once",
    async () => {
      const store = await openClusterStore(kind, 'st');
      const common = { workMs: 6_000, rescueAfter: 2_000, leaseTtl: 3_000 };
      const leader = start(store.settings('leader', { ...common, concurrency: 0 }));
      await leader.waitFor('leader leader');
      const worker = start(store.settings('worker', { ...common, concurrency: 1, clockStep: { afterMs: 1_000, byMs: -HOUR } }));
      await worker.waitFor('ready');
      await store.insert([{ n: 0 }]);
      await worker.waitFor('stepped');
      await finished(store, 1);
      expect((await store.jobs('work')).map((job) => [job.state, job.attempt, job.errors])).toEqual([['completed', 1, []]]);
      expect(await rows(store.url, `SELECT kind, node, attempt FROM ${store.ledger} ORDER BY id`)).toEqual([
        { kind: 'start', node: 'worker', attempt: 1 },
        { kind: 'finish', node: 'worker', attempt: 1 },
      ]);
      expect([...worker.output, ...worker.errors].join('\n')).toMatch(/system clock stepped back by 3600\.\d s/);
      await killAll([leader, worker]);
      await store.drop();
    },
    40_000,
  );

  itOn(kind, ['redis'])(
    "the leader's clock steps forward an hour while a worker runs long jobs: none is rescued, each runs once, and the cron's ticks go on",
    async () => {
      const store = await openClusterStore(kind, 'st');
      const common = { workMs: 6_000, rescueAfter: 2_000, leaseTtl: 3_000, cron: true };
      const leader = start(store.settings('leader', { ...common, concurrency: 0, clockStep: { afterMs: 3_000, byMs: HOUR } }));
      await leader.waitFor('leader leader');
      const worker = start(store.settings('worker', { ...common, concurrency: 3 }));
      await worker.waitFor('ready');
      await store.insert([{ n: 0 }, { n: 1 }, { n: 2 }]);
      await leader.waitFor('stepped');
      const ticks = async () => (await rows(store.url, `SELECT count(*)::int AS n FROM ${store.ledger} WHERE kind = 'tick'`))[0]!.n;
      const before = await ticks();
      await finished(store, 3);
      expect((await store.jobs('work')).map((job) => [job.state, job.attempt, job.errors])).toEqual([
        ['completed', 1, []],
        ['completed', 1, []],
        ['completed', 1, []],
      ]);
      expect(await rows(store.url, `SELECT count(*)::int AS n FROM ${store.ledger} WHERE kind = 'start' AND attempt > 1`)).toEqual([{ n: 0 }]);
      // The ticks since the step: about one a second, each once, on the database's timeline.
      const since = await rows(store.url, `SELECT tick FROM ${store.ledger} WHERE kind = 'tick' ORDER BY tick OFFSET $1`, [before]);
      const times = since.map((row) => new Date(row.tick as string).getTime());
      expect(new Set(times).size).toBe(times.length);
      expect(times.length).toBeGreaterThanOrEqual(4);
      const last = times.at(-1)!;
      expect(Math.abs(last - Date.now())).toBeLessThan(5_000);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(3_000);
      expect([...leader.output, ...leader.errors].join('\n')).toMatch(/system clock stepped forward by 3600\.\d s/);
      await killAll([leader, worker]);
      await store.drop();
    },
    40_000,
  );
});
