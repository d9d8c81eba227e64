import { describe, expect, it } from 'vitest';
import { killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import type { Job } from '../../lib/store/job.types.js';
import { CLUSTER_STORES, openClusterStore } from '../support/cluster/cluster-stores.js';

/**
 * `@reboot` jobs on real processes and each shared store: each is pinned to
 * the node that started, so when that node is SIGKILLed during its warm-up,
 * no other node may run it, and it must not stay available for ever (its
 * queue's lag would grow without end): the leader cancels it once the node
 * is gone. An unpinned one (from a node that runs no jobs) runs elsewhere.
 */
describe.each(CLUSTER_STORES)('@reboot jobs (child processes on %s)', (kind) => {
  const { start, rows } = useCluster();

  it('a node killed during its @reboot job: the leader cancels the job, no other node runs it, and the leader’s own unpinned one runs elsewhere', async () => {
    const store = await openClusterStore(kind, 'rb');
    // The every-second schedule paused: nothing else to claim.
    await store.direct.setScheduleState('tick', { paused: true });
    const common = { rescueAfter: 2_000, leaseTtl: 3_000, reboot: true };
    // Runs no jobs: its @reboot job is not pinned, and a worker runs it.
    const leader = start(store.settings('lifeline', { ...common, concurrency: 0 }));
    await leader.waitFor('leader lifeline');
    const doomed = start(store.settings('doomed', { ...common, concurrency: 2, gated: true }));
    const warmups = async () => rows(store.url, `SELECT job_id, node FROM ${store.ledger} WHERE kind = 'warmup' ORDER BY id`);
    await waitUntil(async () => (await warmups()).length === 2, 20_000, 'the doomed node to start both @reboot jobs');
    const jobs = await store.jobs('warmup');
    const pinned = jobs.find((j) => j.pinnedNode === 'doomed')!;
    const unpinned = jobs.find((j) => j.pinnedNode === null)!;
    expect([pinned, unpinned].map((j) => j?.state)).toEqual(['running', 'running']);
    doomed.child.kill('SIGKILL');

    const survivor = start(store.settings('survivor', { ...common, concurrency: 2 }));
    const byId = async () => new Map((await store.jobs('warmup')).map((j): [string, Job] => [j.id, j]));
    await waitUntil(
      async () => {
        const now = await byId();
        return now.get(pinned.id)?.state === 'cancelled' && now.get(unpinned.id)?.state === 'completed' && now.size === 3;
      },
      30_000,
      'the pinned job cancelled and the unpinned one completed',
    ).catch(async (error: Error) => {
      const seen = [...(await byId()).values()].map((j) => ({ id: j.id, state: j.state, pinned: j.pinnedNode, errors: j.errors.map((e) => e.kind) }));
      throw new Error(`${error.message}: ${JSON.stringify(seen)}; leader: ${leader.errors.join('')}`);
    });
    const now = await byId();
    expect(now.get(pinned.id)!.errors.at(-1)).toMatchObject({ kind: 'cancel', message: expect.stringContaining('its node doomed stopped') });
    const own = [...now.values()].find((j) => j.pinnedNode === 'survivor')!;
    expect(own.state).toBe('completed');
    // The pinned job ran on its own node only; the unpinned one ran again on the survivor.
    const ran = await warmups();
    expect(ran.filter((r) => r.job_id === pinned.id).map((r) => r.node)).toEqual(['doomed']);
    expect(ran.filter((r) => r.job_id === unpinned.id).map((r) => r.node)).toEqual(['doomed', 'survivor']);
    await killAll([leader, survivor]);
    await store.drop();
  }, 90_000);
});
