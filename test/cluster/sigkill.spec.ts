import { describe, expect, it } from 'vitest';
import { killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, openClusterStore, type ClusterStore } from '../support/cluster/cluster-stores.js';

/**
 * A node SIGKILLed while it runs jobs or a workflow step, on real processes
 * and each shared store, with another node already up: the survivor takes
 * the lead and rescues the dead node's work by its stale heartbeats. Short
 * timings keep it quick: rescue after 2 s (heartbeats every 0.5 s), lease 1.5 s,
 * a sweep every 0.5 s.
 */
describe.each(CLUSTER_STORES)('SIGKILL (child processes on %s)', (kind) => {
  const { start, rows } = useCluster();
  const rescueAfter = 2_000;
  const sweep = 500;
  const timing = { rescueAfter, leaseTtl: 1_500 };
  const ledger = (store: ClusterStore, where: string, params: unknown[] = []) =>
    rows(store.url, `SELECT * FROM ${store.ledger} WHERE ${where} ORDER BY id`, params);

  it('a node SIGKILLed mid-job: its jobs complete elsewhere within rescueAfter plus one sweep, 0 lost', async () => {
    const store = await openClusterStore(kind, 'kl');
    // The victim leads and takes the work (running and claimed ahead); the rescuer joins, then the victim dies.
    const victim = start(store.settings('victim', { ...timing, workMs: 60_000, concurrency: 4 }));
    await victim.waitFor('leader victim');
    await store.insert(Array.from({ length: 8 }, (_, n) => ({ n })));
    await waitUntil(async () => (await ledger(store, `kind = 'start'`)).length >= 1, 15_000, 'the victim to start jobs');
    const rescuer = start(store.settings('rescuer', { ...timing, workMs: 100, concurrency: 2 }));
    await rescuer.waitFor('ready');
    victim.child.kill('SIGKILL');
    await victim.exited;
    const orphans = [...new Set((await ledger(store, `kind = 'start' AND node = 'victim'`)).map((r) => r.job_id))];
    expect(orphans.length).toBeGreaterThan(0);
    await waitUntil(async () => (await store.jobs('work')).filter((j) => j.state === 'completed').length === 8, 30_000, 'every job to complete');
    const work = await store.jobs('work');
    // Rescues: of an attempt under way (lease-lost) or of a job claimed ahead and never started (unstarted).
    const rescues = work.flatMap((job) =>
      job.errors
        .filter((e) => e.kind === 'lease-lost' || e.kind === 'unstarted')
        .map((e) => ({ id: job.id, kind: e.kind, at: e.at.getTime(), since: Date.parse(/since ([^)]+)/.exec(e.message)![1]!) })),
    );
    // Every job the victim started was rescued as an interrupted attempt.
    expect(rescues.filter((r) => r.kind === 'lease-lost').map((r) => r.id)).toEqual(expect.arrayContaining(orphans));
    // Each no later than rescueAfter + one sweep after its last heartbeat (plus slack for a loaded machine),
    // or, if a call of the rescuer's own took for an outage held rescues back (as documented), one sweep after that grace.
    const graces = rescuer.output.flatMap((line) => {
      const until = /out of reach for a while: until (\S+),/.exec(line)?.[1];
      return until ? [Date.parse(until)] : [];
    });
    for (const r of rescues) {
      const grace = graces.filter((until) => until > r.since + rescueAfter).sort((a, b) => a - b)[0];
      const due = Math.max(r.since + rescueAfter, grace ?? 0);
      expect(
        r.at - due,
        `rescued ${r.at - r.since} ms after its last heartbeat; graces told: ${graces.map((g) => new Date(g).toISOString()).join(', ') || 'none'}`,
      ).toBeLessThanOrEqual(sweep + 2_500);
    }
    // Then finished elsewhere exactly once.
    const finished = await rows(store.url, `SELECT job_id, count(*)::int AS n, min(node) AS node FROM ${store.ledger} WHERE kind = 'finish' GROUP BY job_id`);
    expect(finished).toHaveLength(8);
    expect(finished.every((r) => r.n === 1 && r.node === 'rescuer')).toBe(true);
    await killAll([rescuer]);
    await store.drop();
  }, 60_000);

  it('workflow: a node SIGKILLed mid-run while another runs; the run completes, each step effect at most once per attempt', async () => {
    const store = await openClusterStore(kind, 'kw');
    const victim = start(store.settings('wf-victim', { ...timing, workMs: 60_000, startRuns: 1 }));
    await victim.waitFor('ready');
    const runId = victim.output.find((l) => l.startsWith('run '))!.slice(4);
    await waitUntil(async () => (await ledger(store, `kind = 'slow-start'`)).length === 1, 15_000, 'the slow step to start on the victim');
    const survivor = start(store.settings('wf-survivor', { ...timing, workMs: 50 }));
    await survivor.waitFor('ready');
    victim.child.kill('SIGKILL');
    await victim.exited;
    await waitUntil(async () => (await store.run(runId))?.state === 'completed', 30_000, 'the run to complete');
    const effects = await rows(store.url, `SELECT job_id, attempt, count(*)::int AS n FROM ${store.ledger} WHERE kind = 'effect' GROUP BY job_id, attempt`);
    expect(effects.every((r) => r.n === 1)).toBe(true);
    expect(new Set(effects.map((r) => r.job_id.split(':')[1]))).toEqual(new Set(['a', 'slow', 'b', 'c']));
    // The slow step's first attempt died with the victim before its effect; the rescue ran it once more.
    const slow = effects.filter((r) => r.job_id.endsWith(':slow'));
    expect(slow).toHaveLength(1);
    expect(slow[0]!.attempt).toBe(2);
    // The other steps ran once: those completed before the kill (a, b) were not run again.
    expect(effects.filter((r) => !r.job_id.endsWith(':slow')).map((r) => r.attempt)).toEqual([1, 1, 1]);
    await killAll([survivor]);
    await store.drop();
  }, 60_000);
});
