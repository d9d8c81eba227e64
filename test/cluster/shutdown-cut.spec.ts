import { describe, expect, it, onTestFinished } from 'vitest';
import { killAll, useCluster, waitUntil, type ClusterNode } from '../support/cluster/cluster.js';
import { openClusterStore, type ClusterStore, type ClusterStoreKind } from '../support/cluster/cluster-stores.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/** How a cut leaves the worker's store sockets. */
type Cut = 'black-holed' | 'dropped and refused';

/**
 * A node drained (SIGTERM) after its store was cut off, on real processes:
 * the worker reaches its store through a loopback proxy (its ledger, and the
 * other nodes, directly), the proxy is cut while two of its jobs run, then it
 * is sent SIGTERM. It must exit by itself within the documented bound (the
 * grace period plus 45 s, docs/guarantees.md "A node that drains"), its
 * handlers having finished and nothing having started after the signal; the
 * acknowledgements it could not write leave the jobs running in the store,
 * and the other nodes rescue and complete every one of them once.
 *
 * Two cuts: a partition (open sockets go silent, new ones are accepted and
 * never answered: nothing ever fails, every wait is for a timeout) and a
 * server that is gone (open sockets dropped, new ones refused). Only the
 * stores reached over a socket: SQLite's file cannot be cut this way.
 *
 * Wall time bounds only the exit itself, generously (a node that never
 * exits fails the test); the outcomes are read from the ledger and the store.
 */
describe.each<ClusterStoreKind>(['postgres', 'redis'])('shutdown with the store cut off (child processes on %s)', (kind) => {
  const { start, rows } = useCluster();
  const grace = 5_000;
  // The documented bound of a drain with the store out of reach, and room for a loaded 2-core machine.
  const exitBound = grace + 45_000 + 10_000;
  const timing = { rescueAfter: 2_000, leaseTtl: 3_000 };
  const ledger = (store: ClusterStore, where: string) => rows(store.url, `SELECT job_id, node, attempt FROM ${store.ledger} WHERE ${where} ORDER BY id`);

  const sorted = (texts: string[]) => [...texts].sort((a, b) => a.localeCompare(b));

  /** Settings of a node whose store connections all go through `proxy`. */
  async function throughProxy(store: ClusterStore, name: string, extra: Parameters<ClusterStore['settings']>[1]) {
    const direct = store.settings(name, extra);
    const proxy = await TcpProxy.start(direct.redis?.url ?? store.url);
    onTestFinished(() => proxy.close());
    const settings = direct.redis
      ? { ...direct, redis: { ...direct.redis, url: proxy.urlFor(direct.redis.url) } }
      : { ...direct, storeUrl: proxy.urlFor(store.url) };
    return { proxy, settings };
  }

  function cut(proxy: TcpProxy, how: Cut): void {
    if (how === 'black-holed') {
      // New connections first: nothing may reach the store between the two.
      proxy.swallowNew();
      proxy.blackHole();
    } else {
      proxy.stopListening();
      proxy.dropAll();
    }
  }

  /** Resolves with the exit code, or rejects once `ms` have passed and the node still runs. */
  function exitWithin(node: ClusterNode, ms: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${node.name} still runs ${ms} ms after SIGTERM; stderr: ${node.errors.join('')}`)), ms);
    });
    return Promise.race([node.exited, late]).finally(() => clearTimeout(timer));
  }

  // Each cut on one store: what the node does once cut off is the same code on both.
  it.each<Cut>(kind === 'postgres' ? ['black-holed'] : ['dropped and refused'])(
    'store connections %s, then SIGTERM to a worker running jobs: it exits by itself, its handlers finished; every job completes once elsewhere',
    async (how) => {
      const store = await openClusterStore(kind, 'sc');
      const leader = start(store.settings('leader', { ...timing, concurrency: 0 }));
      await leader.waitFor('leader leader');
      // Gated: its jobs run until the test opens the gate, so none ends (and is acknowledged) before the cut.
      const { proxy, settings } = await throughProxy(store, 'worker', { ...timing, concurrency: 2, gated: true, shutdownGracePeriod: grace });
      const worker = start(settings);
      await worker.waitFor('ready');
      // Two run on the worker, some wait in its buffer (claimed ahead), the rest in the store.
      await store.insert(Array.from({ length: 6 }, (_, n) => ({ n })));
      await waitUntil(async () => (await ledger(store, `kind = 'start' AND node = 'worker'`)).length === 2, 15_000, 'two jobs to start on the worker');
      const rescuer = start(store.settings('rescuer', { ...timing, concurrency: 2, workMs: 100 }));
      await rescuer.waitFor('ready');
      expect(proxy.accepted).toBeGreaterThan(0);
      // Both slots are held by the gate: nothing else starts on the worker before the signal.
      const startedBefore = await ledger(store, `kind = 'start' AND node = 'worker'`);
      cut(proxy, how);
      worker.child.kill('SIGTERM');
      // Its jobs end during the drain, within the grace period; the acknowledgements have nowhere to go.
      await worker.waitFor('closing worker');
      await rows(store.url, `INSERT INTO ${store.ledger} (kind, node) VALUES ('open', 'test')`);
      expect(await exitWithin(worker, exitBound)).toBe(0);

      // Its handlers ran to their end; nothing started on it after the signal.
      expect(await ledger(store, `kind = 'start' AND node = 'worker'`)).toEqual(startedBefore);
      const finishedThere = await ledger(store, `kind = 'finish' AND node = 'worker'`);
      expect(sorted(finishedThere.map((r) => `${r.job_id}:${r.attempt}`))).toEqual(sorted(startedBefore.map((r) => `${r.job_id}:${r.attempt}`)));
      // Their acknowledgements never landed, and the log names them.
      const unacknowledged = /acknowledgement of \d+ job\(s\) after \d+ s \(([^)]*)\)/.exec(worker.errors.join(''));
      expect(sorted(unacknowledged?.[1]?.split(', ') ?? [])).toEqual(sorted(startedBefore.map((r) => String(r.job_id))));

      // The other nodes complete every job: those whose acknowledgement was lost run again (a later attempt).
      await waitUntil(async () => (await store.jobs('work')).every((j) => j.state === 'completed'), 30_000, 'every job to complete');
      const work = await store.jobs('work');
      expect(work).toHaveLength(6);
      const starts = await ledger(store, `kind = 'start'`);
      const finishes = await ledger(store, `kind = 'finish'`);
      for (const job of work) {
        const own = starts.filter((r) => r.job_id === job.id);
        // No attempt ran twice, and the store's attempt is the last one that ran.
        expect(new Set(own.map((r) => r.attempt)).size).toBe(own.length);
        expect(Math.max(...own.map((r) => r.attempt))).toBe(job.attempt);
        // The attempt that completed it finished once, off the worker.
        const completing = finishes.filter((r) => r.job_id === job.id && r.attempt === job.attempt);
        expect(completing).toHaveLength(1);
        expect(completing[0]!.node).not.toBe('worker');
      }
      // The worker's finished but unacknowledged attempts were rescued, not acknowledged late.
      for (const { job_id, attempt } of startedBefore) {
        const job = work.find((j) => j.id === job_id)!;
        expect(job.attempt).toBeGreaterThan(attempt);
        expect(job.errors.map((e) => e.kind)).toContain('lease-lost');
      }
      // The others either ran elsewhere at once or were held in the worker's buffer, whose hand-back never
      // landed: rescued as never started, their attempt given back. No attempt failed.
      const startedThere = new Set(startedBefore.map((r) => r.job_id));
      for (const job of work.filter((j) => !startedThere.has(j.id))) {
        const kinds = job.errors.map((e) => e.kind);
        expect([[], ['unstarted']]).toContainEqual(kinds);
        if (kinds.length > 0) expect(job.maxAttempts).toBe(4 + 1);
      }
      await killAll([leader, rescuer]);
      await store.drop();
    },
    120_000,
  );
});
