import { describe, expect, it } from 'vitest';
import { killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, openClusterStore } from '../support/cluster/cluster-stores.js';

/**
 * A circuit breaker shared by real processes: failures on one node open it,
 * and every node then holds the breaker's jobs without spending their
 * attempts, until it turns half-open, a probe succeeds and it closes.
 */
describe.each(CLUSTER_STORES)('circuit breakers across nodes (child processes on %s)', (kind) => {
  const cluster = useCluster();

  it('a breaker opened by failures on one node stops the job on every node; it closes after a probe and the held jobs run, their attempts unspent', async () => {
    const store = await openClusterStore(kind, 'breakers');
    const settings = { concurrency: 2, breakerResetMs: 4_000 };
    const a = cluster.start(store.settings('a', settings));
    const b = cluster.start(store.settings('b', settings));
    await Promise.all([a.waitFor('ready'), b.waitFor('ready')]);

    const breaker = () => store.breaker('api');

    // Three failures on node a (one attempt each) open the breaker.
    await store.insert([1, 2, 3].map((n) => ({ name: 'flaky', n, maxAttempts: 1, pinnedNode: 'a' })));
    await waitUntil(async () => (await breaker())?.state === 'open', 15_000, 'the breaker to open');
    expect(await breaker()).toMatchObject({ state: 'open', failures: 3 });
    expect(await cluster.rows(store.url, `SELECT DISTINCT node FROM ${store.ledger} WHERE kind = 'flaky'`)).toEqual([{ node: 'a' }]);

    // Jobs for node b are held there: handed back to the half-open instant, no attempt spent, the handler never called.
    const probeAt = (await breaker())!.nextProbeAt;
    await store.insert([4, 5, 6].map((n) => ({ name: 'flaky', n, maxAttempts: 1, pinnedNode: 'b' })));
    const held = async () => (await store.jobs('flaky')).filter((job) => job.pinnedNode === 'b');
    await waitUntil(async () => (await held()).every((job) => job.runAt.getTime() === probeAt), 15_000, 'node b to hold its jobs');
    expect((await held()).map((job) => [job.state, job.attempt])).toEqual([
      ['available', 0],
      ['available', 0],
      ['available', 0],
    ]);
    expect(await cluster.rows(store.url, `SELECT 1 FROM ${store.ledger} WHERE kind = 'flaky' AND node = 'b'`)).toEqual([]);

    // The API recovers: once half-open, a probe succeeds, the breaker closes and every held job runs once.
    await cluster.rows(store.url, `INSERT INTO ${store.ledger} (kind, node) VALUES ('healthy', 'test')`);
    await waitUntil(async () => (await held()).every((job) => job.state === 'completed'), 30_000, 'the held jobs to complete');
    expect((await held()).map((job) => job.attempt)).toEqual([1, 1, 1]);
    expect(await breaker()).toMatchObject({ state: 'closed', failures: 0, nextProbeAt: null });
    expect(await cluster.rows(store.url, `SELECT job_id, node FROM ${store.ledger} WHERE kind = 'flaky' AND node = 'b'`)).toHaveLength(3);
    // The nodes go before their store (dropping a schema under their statements could deadlock).
    await killAll([a, b]);
    await store.drop();
  }, 90_000);

  it('half-open, nine held jobs on three nodes try at once: two probes run cluster-wide (successThreshold 2), the rest only once it has closed', async () => {
    const store = await openClusterStore(kind, 'probes');
    // A probe takes 1 s, so that the held jobs ask while both run; its deadline is resetTimeout (4 s), far enough
    // that a loaded machine does not give a slow probe up and let a third one through.
    const settings = { concurrency: 3, breakerResetMs: 4_000, breakerProbes: 2, flakyMs: 1_000 };
    const nodes = ['a', 'b', 'c'].map((name) => cluster.start(store.settings(name, settings)));
    await Promise.all(nodes.map((node) => node.waitFor('ready')));
    await store.insert([1, 2, 3].map((n) => ({ name: 'flaky', n, maxAttempts: 1, pinnedNode: 'a' })));
    await waitUntil(async () => (await store.breaker('api'))?.state === 'open', 15_000, 'the breaker to open');
    const opening = new Set((await store.jobs('flaky')).map((job) => job.id));

    // The API is back, but the breaker is open: every node holds its jobs until it turns half-open, then all try at once.
    // Due 1 s after the opening (3 s before the half-open instant): a node learns of the opening within a poll, and one
    // that has not yet would run them (the documented limit), which is not what this test is about.
    await cluster.rows(store.url, `INSERT INTO ${store.ledger} (kind, node) VALUES ('healthy', 'test')`);
    await store.insert(
      ['a', 'b', 'c'].flatMap((node, i) => [1, 2, 3].map((n) => ({ name: 'flaky', n: 10 * (i + 1) + n, maxAttempts: 1, pinnedNode: node, delayMs: 1_000 }))),
    );
    const held = async () => (await store.jobs('flaky')).filter((job) => !opening.has(job.id));
    await waitUntil(async () => (await held()).every((job) => job.state === 'completed'), 45_000, 'the held jobs to complete');
    expect((await held()).map((job) => job.attempt)).toEqual(Array(9).fill(1));
    expect(await store.breaker('api')).toMatchObject({ state: 'closed', failures: 0 });

    const ids = (await held()).map((job) => job.id);
    const ledgered = await cluster.rows(
      store.url,
      `SELECT kind, job_id, node, at FROM ${store.ledger} WHERE kind IN ('flaky', 'flaky-done') AND job_id = ANY($1) ORDER BY at`,
      [ids],
    );
    const at = (row: Record<string, unknown>) => (row.at as Date).getTime();
    const starts = ledgered.filter((row) => row.kind === 'flaky');
    const done = ledgered.filter((row) => row.kind === 'flaky-done');
    expect(starts).toHaveLength(9);
    // The breaker closes once its second probe succeeds: before that, only the two probes started, whichever nodes ran them.
    const closed = at(done[1]!);
    expect(starts.filter((row) => at(row) < closed)).toHaveLength(2);
    await killAll(nodes);
    await store.drop();
  }, 90_000);
});
