import { describe, expect, it } from 'vitest';
import { killAll, useCluster, waitUntil, type ClusterNode } from '../support/cluster/cluster.js';
import { openClusterStore, type ClusterStore } from '../support/cluster/cluster-stores.js';

/**
 * Processes sharing one SQLite file when one of them holds the file's write
 * lock: stopped (SIGSTOP) or killed (SIGKILL) in the middle of a write
 * transaction (a `hold-lock` job, see node.ts), or holding it now and then
 * against a process whose `busyTimeout` is 10 ms. Every write of the others
 * fails with SQLITE_BUSY meanwhile; what they did is kept and written once
 * the file is free, and every job completes once.
 */
describe('SQLite: a process holding the write lock (child processes)', () => {
  const { start, rows } = useCluster();
  const common = { rescueAfter: 3_000, leaseTtl: 2_000, workMs: 200 };
  const JOBS = 400;

  const finishes = (store: ClusterStore) =>
    rows(store.url, `SELECT job_id, count(*)::int AS n FROM ${store.ledger} WHERE kind = 'finish' AND job_id IS NOT NULL GROUP BY job_id`);
  /** The scheduler's log lines of a node (warnings on stdout, errors on stderr). */
  const logLines = (node: ClusterNode) => [...node.output, ...node.errors.join('').split('\n')].filter((line) => line.includes('[Scheduler]'));

  /** Three nodes drain JOBS jobs; as the last ones run on every node, `holder` (the leader) takes the write lock. */
  async function holding(store: ClusterStore) {
    const holder = start(store.settings('holder', { ...common, concurrency: 2 }));
    await holder.waitFor('leader holder');
    const a = start(store.settings('a', { ...common, concurrency: 4 }));
    const b = start(store.settings('b', { ...common, concurrency: 4 }));
    await Promise.all([a.waitFor('ready'), b.waitFor('ready')]);
    await store.insert(Array.from({ length: JOBS }, (_, n) => ({ n })));
    await waitUntil(async () => (await finishes(store)).length >= 10, 30_000, 'the drain to be under way');
    // Claimed after the work (one priority, inserted last): the others finish their last jobs while it is held.
    await store.insert([{ name: 'hold-lock', n: 0, pinnedNode: 'holder' }]);
    await holder.waitFor('holding holder', 30_000);
    return { holder, a, b };
  }

  it('stopped for 8 s holding it (past busyTimeout and rescueAfter): the others wait and keep their acks; thawed, the stopped leader rescues none of the jobs they ran, each runs once', async () => {
    const store = await openClusterStore('sqlite', 'lks');
    const { holder, a, b } = await holding(store);
    holder.child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect([a.child.exitCode, b.child.exitCode]).toEqual([null, null]);
    holder.child.kill('SIGCONT');
    await holder.waitFor('released holder', 15_000);
    await waitUntil(async () => (await store.jobs('work')).every((j) => j.state === 'completed'), 60_000, 'every job to complete');

    // No rescue: the jobs finished during the stop were acknowledged after it, by the attempt that ran them.
    const work = await store.jobs('work');
    expect(work.filter((j) => j.attempt !== 1 || j.errors.length > 0).map((j) => ({ id: j.id, errors: j.errors }))).toEqual([]);
    const done = await finishes(store);
    expect(done).toHaveLength(JOBS);
    expect(done.filter((r) => r.n !== 1)).toEqual([]);
    // What the holder wrote inside its transaction was rolled back.
    expect(work.filter((j) => j.result === 'held')).toEqual([]);
    // 8 s of SQLITE_BUSY on every write: a few lines a node (one per kind of write), not one per poll.
    for (const node of [a, b]) expect(logLines(node).length).toBeLessThanOrEqual(8);
    await killAll([holder, a, b]);
    await store.drop();
  }, 150_000);

  it('killed holding it: rolled back, the others go on, its jobs are rescued, every job completes', async () => {
    const store = await openClusterStore('sqlite', 'lkk');
    const { holder, a, b } = await holding(store);
    holder.child.kill('SIGKILL');
    await holder.exited;
    await waitUntil(async () => (await store.jobs('work')).every((j) => j.state === 'completed'), 90_000, 'every job to complete');
    const work = await store.jobs('work');
    const integrity = (store.direct as unknown as { sqlite: { db: { pragma(text: string, options: object): unknown } } }).sqlite.db.pragma('integrity_check', {
      simple: true,
    });
    expect(integrity).toBe('ok');
    expect(work.filter((j) => j.result === 'held')).toEqual([]);
    const done = await finishes(store);
    expect(done).toHaveLength(JOBS);
    // Once each, but for jobs the holder finished whose acknowledgement died with it (rescued, and run again).
    const byHolder = new Set((await rows(store.url, `SELECT job_id FROM ${store.ledger} WHERE kind = 'finish' AND node = 'holder'`)).map((r) => r.job_id));
    expect(done.filter((r) => r.n > 2 || (r.n === 2 && !byHolder.has(r.job_id)))).toEqual([]);
    await killAll([a, b]);
    await store.drop();
  }, 150_000);

  it('a process with busyTimeout 10 ms while another holds the lock for 300 ms now and then: its writes fail and are tried again, no job is lost', async () => {
    const store = await openClusterStore('sqlite', 'lkt');
    const path = store.settings('x').sqlite!.path;
    const fast = { rescueAfter: 3_000, leaseTtl: 2_000, workMs: 0, concurrency: 8 };
    const tiny = start(store.settings('tiny', { ...fast, sqlite: { path, busyTimeout: 10 } }));
    const normal = start(store.settings('normal', { ...fast, holdMs: 300 }));
    await Promise.all([tiny.waitFor('ready'), normal.waitFor('ready')]);
    const n = 3_000;
    for (let i = 0; i < n; i += 500) {
      await store.insert(Array.from({ length: 500 }, (_, k) => ({ n: i + k })));
      await store.insert(Array.from({ length: 4 }, () => ({ name: 'hold-lock', n: 0, pinnedNode: 'normal' })));
    }
    await waitUntil(async () => (await store.jobs('work')).every((j) => j.state === 'completed'), 120_000, 'every job to complete');
    await waitUntil(async () => (await store.jobs('hold-lock')).every((j) => j.state === 'completed'), 60_000, 'every hold to end');
    expect(tiny.child.exitCode).toBeNull();
    // The holds did meet the tiny node's writes.
    expect(logLines(tiny).some((line) => line.includes('database is locked'))).toBe(true);
    const done = await finishes(store);
    expect(done).toHaveLength(n);
    // Acks and claims are tried again until they land. Heartbeats are not: a node whose beats fail for rescueAfter
    // (busyTimeout far below the other's holds) has its attempts rescued, and one that had finished, its ack
    // still queued, runs again (rescued as "unstarted" when no beat ever recorded its start).
    const work = await store.jobs('work');
    const rescued = new Set(work.filter((j) => j.errors.some((e) => e.kind === 'lease-lost' || e.kind === 'unstarted')).map((j) => j.id));
    expect(done.filter((r) => r.n > 2 || (r.n === 2 && !rescued.has(r.job_id)))).toEqual([]);
    console.log(
      `busyTimeout 10 ms: ${rescued.size} attempt(s) rescued, ${done.filter((r) => r.n === 2).length} job(s) run twice, ${logLines(tiny).length} log lines`,
    );
    await killAll([tiny, normal]);
    await store.drop();
  }, 180_000);
});
