import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import type { PostgresContext } from '../../lib/postgres/postgres.context.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { postgresStatements } from '../../lib/postgres/sql/index.js';
import type { Job, NewJob } from '../../lib/store/job.types.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { createTestSchema, withClient } from '../support/postgres.js';

// The v2 layout keeps a job's state in the job row and in side tables
// (ready list, claims, keys, counters, dead letters), each statement moving
// both at once. Three stores (three pools, as three nodes) hammer one schema
// with every kind of change at the same time; afterwards the side tables
// must agree with the jobs. A seeded generator makes a failure repeatable.
const BASE = new Date('2026-01-01T00:00:00.000Z');
const at = (s: number): Date => new Date(BASE.getTime() + s * 1000);
const ROUNDS = 300;

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

let schema: Awaited<ReturnType<typeof createTestSchema>>;
let stores: PostgresStore[];
let contexts: PostgresContext[];
let session: pg.Client;

beforeAll(async () => {
  schema = await createTestSchema('inv');
  const options: PostgresStoreOptions = { type: 'postgres', url: schema.url, schema: schema.schema, poolSize: 3 };
  contexts = await Promise.all([1, 2, 3].map((k) => openPostgres(options, `node-${k}`)));
  stores = contexts.map((ctx) => new PostgresStore(ctx, options));
  for (const store of stores) await store.init();
  // Offers name a live LISTEN session; one open session stands in for each node's.
  session = new pg.Client({ connectionString: schema.url });
  await session.connect();
  const pid = (session as pg.Client & { processID: number }).processID;
  for (const store of stores) store.push!.hearWith(() => pid);
});

afterAll(async () => {
  await session?.end();
  await Promise.all((stores ?? []).map((s) => s.close()));
  await schema?.drop();
});

/** One node's share of the traffic: inserts (some keyed), claims, every acknowledgement, cancels, deletes, rescues, resurrects, prunes. */
async function node(store: PostgresStore, name: string, seed: number, done: Set<string>): Promise<void> {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(rnd() * items.length)];
  const held: Job[] = [];
  // A stale acknowledgement or a duplicate resurrect is an expected answer here; what it did is counted only when it worked.
  const quietly = (what: string, p: Promise<unknown>): Promise<unknown> => p.then(() => done.add(what)).catch(() => undefined);
  for (let round = 0; round < ROUNDS; round++) {
    const r = rnd();
    if (rnd() < 0.3) await quietly('offer', store.push!.offer('p', name, 1 + Math.floor(rnd() * 4)));
    // Queue p is where pushes go: plain inserts there would keep a due job waiting, which blocks every push.
    const queue = pick(['a', 'b', 'p'])!;
    if (r < 0.3) {
      const jobs: NewJob[] = Array.from({ length: 1 + Math.floor(rnd() * 5) }, (_, i) => ({
        name: pick(['x', 'y'])!,
        queue,
        args: { round, i },
        priority: Math.floor(rnd() * 3),
        maxAttempts: 1 + Math.floor(rnd() * 2),
        timeout: null,
        runAt: at(Math.floor(rnd() * 3)),
        uniqueKey: rnd() < 0.2 ? `u${Math.floor(rnd() * 4)}` : undefined,
        serialKey: rnd() < 0.2 ? `s${Math.floor(rnd() * 3)}` : undefined,
      }));
      // Inserts into p are offered to another node (its jobs then run under that node's claim until rescued).
      const options = queue === 'p' ? { push: { from: name, now: at(5) } } : {};
      await store
        .insert(jobs, options)
        .then((results) => done.add(results.some((res) => res.inserted && res.job.state === 'running') ? 'push' : 'insert'))
        .catch(() => undefined);
    } else if (r < 0.55) {
      held.push(...(await store.claim({ queue, limit: 1 + Math.floor(rnd() * 6), node: name, now: at(5), start: 2 })));
    } else if (r < 0.8 && held.length > 0) {
      const job = held.splice(Math.floor(rnd() * held.length), 1)[0]!;
      const ref = { id: job.id, attempt: job.attempt };
      const error = { attempt: job.attempt, at: at(5), name: 'Error', message: 'x', kind: 'error' };
      const kind = rnd();
      if (kind < 0.4) await quietly('complete', store.complete(ref, { ok: round }, at(6)));
      else if (kind < 0.55) await quietly('forget', store.complete(ref, null, at(6), { forget: true }));
      else if (kind < 0.7) await quietly('retry', store.retry(ref, at(1), error));
      else if (kind < 0.8) await quietly('fail', store.fail(ref, rnd() < 0.5 ? 'dead' : 'discarded', error, at(6)));
      else if (kind < 0.9) await quietly('release', store.release(ref, at(1), { ...error, kind: 'shutdown' }));
      else if ((await store.unclaim([ref])) > 0) done.add('unclaim');
    } else {
      const some = await store.list({ limit: 20, order: rnd() < 0.5 ? 'asc' : 'desc' });
      const target = pick(some);
      const kind = rnd();
      if (!target) continue;
      if (kind < 0.35) await quietly('cancel', store.cancel(target.id, at(6), 'stop'));
      else if (kind < 0.5) await quietly('delete', store.delete([target.id]));
      else if (kind < 0.7) await quietly('resurrect', store.resurrect(target.id, at(2)));
      else if (kind < 0.85) await quietly('rescue', store.rescue(at(6), at(7)));
      else await quietly('prune', store.prune(['completed', 'dead', 'discarded', 'cancelled'], at(7), 3));
    }
  }
}

describe('PostgreSQL v2 layout under concurrent traffic', () => {
  it('keeps the ready list, claims, keys, counters, dead letters and the cancelled and discarded list in step with the jobs', async () => {
    const done = new Set<string>();
    await Promise.all(stores.map((store, k) => node(store, `node-${k + 1}`, 7 + k, done)));
    // A prune also sweeps dead letters (and cancelled or discarded rows) that a racing delete or resurrect could not see.
    await stores[0]!.prune(['completed'], at(-1000), 1);
    const t = (name: string): string => `"${schema.schema}".scheduler_${name}`;
    const rows = (text: string) => withClient(schema.url, async (c) => (await c.query(text)).rows as Record<string, unknown>[]);

    // No available job is without its ready row (it would never be claimed), and no ready row is duplicated.
    expect(
      await rows(`SELECT j.id FROM ${t('jobs')} j WHERE j.state = 'available' AND NOT EXISTS (
      SELECT 1 FROM ${t('ready')} r WHERE (r.queue, r.priority, r.run_at, r.id) = (j.queue, j.priority, j.run_at, j.id))`),
      'available without a ready row',
    ).toEqual([]);
    // A ready row of a job that is no longer available is only the documented
    // race of a cancel or delete with a hand-back (the next claim drops it).
    expect(
      await rows(`SELECT r.id, j.state FROM ${t('ready')} r LEFT JOIN ${t('jobs')} j ON j.id = r.id
      WHERE j.state <> 'available' AND j.state <> 'cancelled'`),
      'ready row of a job not available',
    ).toEqual([]);
    // Every running job is in a live claim of its own, counted there.
    expect(
      await rows(`SELECT j.id FROM ${t('jobs')} j WHERE j.state = 'running' AND NOT EXISTS (
      SELECT 1 FROM ${t('claims')} c WHERE c.token = j.claim AND j.id = ANY(c.ids))`),
      'running outside its claim',
    ).toEqual([]);
    expect(
      await rows(`SELECT c.token FROM ${t('claims')} c
      WHERE c.pending < (SELECT count(*) FROM ${t('jobs')} j WHERE j.id = ANY(c.ids) AND j.claim = c.token AND j.state = 'running')`),
      'claim counting fewer than it runs',
    ).toEqual([]);
    // Serial keys of running jobs, both ways.
    expect(
      await rows(`SELECT j.id FROM ${t('jobs')} j WHERE j.state = 'running' AND j.serial_key IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM ${t('serial_running')} s WHERE s.serial_key = j.serial_key AND s.id = j.id)`),
      'running serial key not held',
    ).toEqual([]);
    // A key row may outlive its job (a cancel or delete racing a claim cannot see it); the next claim frees it, as checked below.
    expect(
      await rows(`SELECT serial_key FROM ${t('jobs')} WHERE state = 'running' AND serial_key IS NOT NULL GROUP BY 1 HAVING count(*) > 1`),
      'serial key running twice',
    ).toEqual([]);
    // Every active job with a unique key holds it, and no two active jobs share one (the default unique states: an active job always blocks).
    expect(
      await rows(`SELECT j.id FROM ${t('jobs')} j WHERE j.state IN ('available', 'running') AND j.unique_key IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM ${t('unique_keys')} k WHERE k.key = j.unique_key AND k.id = j.id)`),
      'unique key not held',
    ).toEqual([]);
    expect(
      await rows(`SELECT unique_key FROM ${t('jobs')} WHERE state IN ('available', 'running') AND unique_key IS NOT NULL
      GROUP BY 1 HAVING count(*) > 1`),
      'unique key shared',
    ).toEqual([]);
    // Counters and dead letters match the jobs.
    expect(
      await rows(`SELECT coalesce(c.queue, j.queue) AS queue, coalesce(c.state, j.state) AS state, c.n, j.n AS actual
        FROM (SELECT queue, state, sum(n)::int AS n FROM ${t('queue_counts')} GROUP BY 1, 2 HAVING sum(n) <> 0) c
        FULL JOIN (SELECT queue, state, count(*)::int AS n FROM ${t('jobs')}
          WHERE state IN ('completed', 'dead', 'discarded', 'cancelled') GROUP BY 1, 2) j ON (j.queue, j.state) = (c.queue, c.state)
        WHERE c.n IS DISTINCT FROM j.n`),
      'counters',
    ).toEqual([]);
    expect(
      await rows(`SELECT coalesce(d.id, j.id) AS id, d.id IS NOT NULL AS listed, (SELECT state FROM ${t('jobs')} x WHERE x.id = coalesce(d.id, j.id)) AS state
        FROM ${t('dead_letters')} d
        FULL JOIN (SELECT id FROM ${t('jobs')} WHERE state = 'dead') j ON j.id = d.id WHERE d.id IS NULL OR j.id IS NULL`),
      'dead letters',
    ).toEqual([]);
    expect(
      await rows(`SELECT coalesce(r.id, j.id) AS id, r.state AS listed, j.state
        FROM ${t('rare_finished')} r
        FULL JOIN (SELECT id, state FROM ${t('jobs')} WHERE state IN ('cancelled', 'discarded')) j ON j.id = r.id
        WHERE r.state IS DISTINCT FROM j.state`),
      'cancelled and discarded',
    ).toEqual([]);
    // Nothing is stuck: a claim of each queue now takes every available job but those whose serial key runs.
    // Claimed as runners would, poll after poll: a ready row that the documented cancel/hand-back race left behind
    // is dropped by the claim that picks it, and until then holds back the later jobs of its serial key (one claim each).
    for (let poll = 0; poll < 5; poll++) {
      for (const queue of ['a', 'b', 'p']) await stores[1]!.claim({ queue, limit: 10_000, node: 'node-2', now: at(1_000) });
    }
    expect(
      await rows(`SELECT j.id, j.serial_key FROM ${t('jobs')} j WHERE j.state = 'available'
        AND (j.serial_key IS NULL OR NOT EXISTS (SELECT 1 FROM ${t('jobs')} h WHERE h.serial_key = j.serial_key AND h.state = 'running'))`),
      'available jobs no claim takes',
    ).toEqual([]);
    // The traffic did take the paths (a test that exercised nothing would pass). The common ones always; of the
    // rarer ones, whose attempt three racing nodes often leave stale (a rescue takes every held job), most.
    expect([...done]).toEqual(expect.arrayContaining(['cancel', 'complete', 'insert', 'offer', 'rescue', 'retry']));
    const rare = ['delete', 'fail', 'forget', 'prune', 'push', 'release', 'resurrect', 'unclaim'].filter((path) => done.has(path));
    expect(rare.length, `rare paths taken: ${rare.join(', ')}`).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('a cancel racing the claim of a serial job leaves no key that blocks the next job of that key', async () => {
    const store = stores[0]!;
    const job = (args: number): NewJob => ({
      name: 'race',
      queue: 'race',
      args,
      priority: 0,
      maxAttempts: 1,
      timeout: null,
      runAt: BASE,
      serialKey: 'race-key',
    });
    const [first] = await store.insert([job(1)]);
    // The claim holds its transaction open: its key row exists, uncommitted.
    const claim = postgresStatements(contexts[0]!).claim.claim({ queue: 'race', limit: 1, node: 'node-x', now: at(1) }, null);
    await withClient(schema.url, async (c) => {
      await c.query('BEGIN');
      await c.query({ text: claim.text, values: claim.values });
      // The cancel starts now (its snapshot cannot see the key row), waits for the claim's locks, then cancels the running job.
      const cancelled = store.cancel(first!.job.id, at(2), 'race');
      await withClient(schema.url, async (watcher) => {
        const blocked = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%unready AS%'`;
        while ((await watcher.query<{ n: number }>(blocked)).rows[0]!.n === 0);
      });
      await c.query('COMMIT');
      expect(await cancelled).toMatchObject({ id: first!.job.id, state: 'running' });
    });
    const [next] = await store.insert([job(2)]);
    const claimed = await store.claim({ queue: 'race', limit: 5, node: 'node-1', now: at(3) });
    expect(claimed.map((j) => j.id)).toEqual([next!.job.id]);
  });
});
