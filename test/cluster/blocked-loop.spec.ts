import { describe, expect } from 'vitest';
import { expectEverySecond, killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, itOn, openClusterStore, type ClusterStore } from '../support/cluster/cluster-stores.js';
import type { Job } from '../../lib/store/job.types.js';

/**
 * A handler that blocks its node's event loop (synchronous CPU work) for
 * longer than `rescueAfter`, on real processes and each shared store: its
 * node's heartbeats, lease renewals and claims all stand still meanwhile.
 * The others rescue and run its jobs (at least once); when it returns,
 * nothing it held is completed twice, no job it had claimed ahead starts
 * after it was rescued, no tick runs twice, and a leader that kept its
 * lease rescues no live job. Short timings: rescue after 2 s.
 */
describe.each(CLUSTER_STORES)('a handler blocking the event loop (child processes on %s)', (kind) => {
  const { start, rows } = useCluster();
  const timing = { rescueAfter: 2_000, leaseTtl: 2_000 };
  const ledger = (store: ClusterStore, where: string) => rows(store.url, `SELECT kind, job_id, node, attempt FROM ${store.ledger} WHERE ${where} ORDER BY id`);

  // The runner's buffer and the lost-attempt handling are the store's and the node's alike: each scenario on some stores.
  itOn(kind, ['postgres', 'sqlite'])(
    'a worker blocked past rescueAfter: its jobs run elsewhere, its late completion is stale, its buffered jobs never start there',
    async () => {
      const store = await openClusterStore(kind, 'bl');
      // The leader runs no jobs: only the blocked node and, later, the rescuer do.
      const leader = start(store.settings('leader', { ...timing, concurrency: 0 }));
      await leader.waitFor('leader leader');
      // Two slots and two jobs claimed ahead: the spin and a 3 s job run, two wait in the buffer.
      const blocked = start(store.settings('blocked', { ...timing, concurrency: 2, prefetch: 2, spinMs: 8_000, workMs: 3_000 }));
      await blocked.waitFor('ready');
      await store.insert([{ name: 'spin', n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
      await blocked.waitFor('spinning blocked');
      const rescuer = start(store.settings('rescuer', { ...timing, concurrency: 4, workMs: 300 }));
      await rescuer.waitFor('ready');
      await waitUntil(async () => (await ledger(store, `kind = 'spin-end' AND node = 'blocked'`)).length === 1, 20_000, 'the blocked handler to return');
      await waitUntil(
        async () => [...(await store.jobs('work')), ...(await store.jobs('spin'))].every((job) => job.state === 'completed'),
        20_000,
        'every job to complete',
      );
      // What the blocked node still does once it wakes (its work job finishing late, its heartbeat learning of the rescues).
      await new Promise((resolve) => setTimeout(resolve, 3_000));

      const spin = (await store.jobs('spin'))[0]!;
      const work = await store.jobs('work');
      const starts = await ledger(store, `kind = 'start'`);
      // A job whose start no claim or heartbeat had recorded yet is given its attempt back (the generous side).
      const rescuedOnce = (job: Job) => {
        expect(job.errors.map((e) => e.attempt)).toEqual([1]);
        expect(job.maxAttempts).toBe(job.errors[0]!.kind === 'unstarted' ? 5 : 4);
      };
      // The spin ran again elsewhere; the blocked node's late completion (attempt 1) changed nothing.
      expect(spin).toMatchObject({ state: 'completed', attempt: 2, result: { node: 'rescuer', attempt: 2 } });
      rescuedOnce(spin);
      // The work job running beside it was rescued too; those claimed ahead were handed back without costing an attempt.
      const ranHere = starts.filter((r) => r.node === 'blocked');
      expect(ranHere).toEqual([{ kind: 'start', job_id: ranHere[0]?.job_id, node: 'blocked', attempt: 1 }]);
      // (A job its claims had not reached yet ran on the rescuer alone, at attempt 1.)
      const ahead = work.filter((job) => job.id !== ranHere[0]!.job_id);
      expect(ahead.some((job) => job.errors.length > 0)).toBe(true);
      for (const job of ahead) expect(job.errors.map((e) => e.kind)).toEqual(job.errors.length === 0 ? [] : ['unstarted']);
      for (const job of work) {
        expect(job).toMatchObject({ state: 'completed', attempt: job.errors.length === 0 ? 1 : 2 });
        if (job.errors.length > 0) rescuedOnce(job);
      }
      // Each ran once on the rescuer; on the blocked node, only the one running there when it blocked (at least once).
      const onRescuer = starts.filter((r) => r.node === 'rescuer').map((r) => r.job_id as string);
      expect(onRescuer).toHaveLength(work.length);
      expect(new Set(onRescuer)).toEqual(new Set(work.map((job) => job.id)));
      const finishes = await ledger(store, `kind = 'finish'`);
      expect(finishes.filter((r) => r.node === 'blocked').map((r) => r.job_id)).toEqual([ranHere[0]!.job_id]);
      // Its log names the handler that held the loop, and the buffered jobs it dropped.
      const log = blocked.output.join('\n');
      expect(log).toContain(`spin (job ${spin.id}, queue default, attempt 1) held the event loop: no heartbeat of this node went out for`);
      expect(log).toContain('may have been rescued');
      expect(log).toMatch(/\d job\(s\) claimed ahead here were rescued or cancelled elsewhere/);
      await killAll([leader, blocked, rescuer]);
      await store.drop();
    },
    60_000,
  );

  itOn(kind, ['redis'])(
    'a leader blocked past rescueAfter but within its lease: it rescues no live job when it returns, neither its own nor those of another node',
    async () => {
      const store = await openClusterStore(kind, 'bk');
      // A lease far longer than the block: nobody else can lead meanwhile, and the leader still leads when it returns.
      const long = { rescueAfter: 2_000, leaseTtl: 20_000, workMs: 8_000, concurrency: 2 };
      const leader = start(store.settings('leader', { ...long, spinMs: 5_000 }));
      await leader.waitFor('leader leader');
      const other = start(store.settings('other', long));
      await other.waitFor('ready');
      await store.insert([
        { name: 'spin', n: 0, pinnedNode: 'leader' },
        { n: 1, pinnedNode: 'leader' },
        { n: 2, pinnedNode: 'other' },
        { n: 3, pinnedNode: 'other' },
      ]);
      await leader.waitFor('spinning leader');
      await waitUntil(
        async () => [...(await store.jobs('work')), ...(await store.jobs('spin'))].every((job) => job.state === 'completed'),
        30_000,
        'every job to complete',
      );
      // Every attempt was the first, and none was rescued: the leader took its own stall for an outage.
      for (const job of [...(await store.jobs('spin')), ...(await store.jobs('work'))]) expect(job).toMatchObject({ attempt: 1, errors: [] });
      const finishes = await rows(store.url, `SELECT job_id, count(*)::int AS n FROM ${store.ledger} WHERE kind = 'finish' GROUP BY job_id`);
      expect(finishes).toHaveLength(3);
      expect(finishes.every((r) => r.n === 1)).toBe(true);
      expect(leader.output.join('\n')).toContain('held the event loop');
      await killAll([leader, other]);
      await store.drop();
    },
    60_000,
  );

  itOn(kind, ['postgres', 'redis'])(
    'a leader blocked past its lease: another leads, no tick runs twice or is missed, and its job runs again once it returns',
    async () => {
      const store = await openClusterStore(kind, 'bt');
      const common = { ...timing, cron: true, concurrency: 1 };
      const leader = start(store.settings('leader', { ...common, spinMs: 6_000 }));
      await leader.waitFor('leader leader');
      const other = start(store.settings('other', common));
      await other.waitFor('ready');
      await store.insert([{ name: 'spin', n: 0, pinnedNode: 'leader' }]);
      await leader.waitFor('spinning leader');
      await other.waitFor('leader other', 15_000);
      await waitUntil(async () => (await store.jobs('spin'))[0]!.state === 'completed', 25_000, 'the spin to complete');
      // Ticks planned after the leader returned, whoever leads then.
      await new Promise((resolve) => setTimeout(resolve, 3_000));

      // Rescued while it ran, it ran again on its pinned node once that node returned; the stale completion changed nothing.
      const spin = (await store.jobs('spin'))[0]!;
      expect(spin).toMatchObject({ state: 'completed', attempt: 2, result: { node: 'leader', attempt: 2 } });
      // Its start is written without holding the handler back: on a loaded machine the loop can block before the
      // write leaves, and the store rescues the attempt as never started (its attempt given back). Either is right.
      expect([['lease-lost@1'], ['unstarted@1']]).toContainEqual(spin.errors.map((e) => `${e.kind}@${e.attempt}`));
      // Every tick before, during and after the block ran once, and none is missing.
      const ticks = await rows(store.url, `SELECT tick, count(*)::int AS n FROM ${store.ledger} WHERE kind = 'tick' GROUP BY tick ORDER BY tick`);
      expect(ticks.filter((t) => t.n !== 1)).toEqual([]);
      expectEverySecond(ticks.map((t) => new Date(t.tick).getTime()));
      await killAll([leader, other]);
      await store.drop();
    },
    60_000,
  );
});
