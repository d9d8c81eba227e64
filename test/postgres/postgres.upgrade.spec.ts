import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../lib/postgres/migrations/index.js';
import { migrate } from '../../lib/postgres/migrations/migrator.js';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { StaleAttemptError } from '../../lib/scheduler.errors.js';
import { FINAL_STATES, type Job, type JobState, type QueueCounts } from '../../lib/store/job.types.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import type { WorkflowRun } from '../../lib/store/workflow-run.types.js';
import { databaseUrl, withClient } from '../support/postgres.js';
import {
  at,
  fullJob,
  fullRun,
  NOW,
  OLD_JOBS,
  OLD_LAYOUT_EXPECT as EXPECT,
  OLD_QUEUE_STATES,
  OLD_RUNS,
  OLD_RUNS_SINCE,
  OLD_SCHEDULE_STATES,
  OLD_SCHEDULES,
} from '../support/postgres/old-layout.fixture.js';
import {
  OLD_LAYOUT_VERSIONS,
  populateBulk,
  populateOldLayout,
  readOldTotals,
  type OldDeployment,
  type TableName,
} from '../support/postgres/old-layout.populate.js';

// A deployment of an earlier release, upgraded in place: a schema migrated
// only up to an older migration, filled with raw rows as that release wrote
// them, then a store of today started on it (its init migrates the rest).
// Every check goes through the store's API, so a later layout (migration 4…)
// runs the same checks against the rows it moved.

const url = databaseUrl();
const schemas: string[] = [];
const stores: PostgresStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  const drop = schemas.splice(0);
  await withClient(url, async (c) => {
    for (const name of drop) await c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  });
});

/**
 * A fresh schema on migration `from`, filled by `fill` (raw SQL), migrated on
 * to `via` when given (rows then in that later layout), then a started store on it.
 */
async function upgrade<T>(
  from: number,
  fill: (client: pg.ClientBase, table: TableName) => Promise<T>,
  via?: { to: number; before(client: pg.ClientBase, table: TableName): Promise<void> },
): Promise<{ store: PostgresStore; filled: T }> {
  const schema = `upg_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  const options: PostgresStoreOptions = { type: 'postgres', url, schema, poolSize: 3 };
  const old = await openPostgres(options, 'node-old');
  let filled: T;
  try {
    await migrate(old, { to: from });
    // One transaction: one commit to wait for instead of one per row.
    filled = await withClient(url, async (client) => {
      await client.query('BEGIN');
      const result = await fill(client, old.table);
      await client.query('COMMIT');
      return result;
    });
    if (via) {
      await migrate(old, { to: via.to });
      await withClient(url, (client) => via.before(client, old.table));
    }
  } finally {
    await old.close();
  }
  const store = new PostgresStore(await openPostgres(options, 'node-a'), options);
  stores.push(store);
  await store.init();
  const applied = await withClient(url, (c) => c.query<{ id: number }>(`SELECT id FROM "${schema}"."scheduler_migrations" ORDER BY id`));
  expect(applied.rows.map((row) => row.id)).toEqual(MIGRATIONS.map((m) => m.id));
  return { store, filled };
}

const old = (label: string) => fullJob(OLD_JOBS.find((j) => j.label === label)!);
const finished = OLD_JOBS.filter((j) => FINAL_STATES.includes(fullJob(j).state));
const reversed = <T>(items: readonly T[]): T[] => [...items].reverse();

function expectedQueueCounts(): QueueCounts[] {
  const counts = new Map<string, QueueCounts>();
  const zero = (queue: string): QueueCounts => ({ queue, available: 0, scheduled: 0, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 });
  const entry = (queue: string): QueueCounts => counts.get(queue) ?? counts.set(queue, zero(queue)).get(queue)!;
  for (const q of OLD_QUEUE_STATES) entry(q.name);
  for (const job of OLD_JOBS.map(fullJob)) entry(job.queue)[job.state === 'available' ? (job.runAt <= NOW ? 'available' : 'scheduled') : job.state]++;
  return [...counts.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1));
}

describe.each(OLD_LAYOUT_VERSIONS.map((from) => ({ from, name: MIGRATIONS.find((m) => m.id === from)!.name })))(
  'a deployment on migration $from ($name), started on the latest migration',
  ({ from }) => {
    let store: PostgresStore;
    let ids: OldDeployment;
    const id = (label: string): string => ids.jobs.get(label)!;
    const labels = (jobs: readonly Job[]): string[] => jobs.map((job) => [...ids.jobs].find(([, v]) => v === job.id)?.[0] ?? `new ${job.id}`);
    const runLabels = (runs: readonly WorkflowRun[]): string[] => runs.map((run) => [...ids.runs].find(([, v]) => v === run.id)?.[0] ?? `new ${run.id}`);
    const runs = from >= OLD_RUNS_SINCE ? OLD_RUNS : [];

    beforeEach(async () => {
      ({ store, filled: ids } = await upgrade(from, (client, table) => populateOldLayout(client, table, from)));
    });

    it('answers every job, schedule, state and run as the old release wrote it', async () => {
      for (const job of OLD_JOBS) expect(await store.get(id(job.label)), job.label).toEqual({ id: id(job.label), ...fullJob(job) });
      expect(await store.count({})).toBe(OLD_JOBS.length);
      expect(await store.queueCounts(NOW)).toEqual(expectedQueueCounts());
      expect(await store.listSchedules()).toEqual(OLD_SCHEDULES);
      expect(await store.getScheduleStates()).toEqual(OLD_SCHEDULE_STATES);
      expect(await store.getQueueStates()).toEqual(OLD_QUEUE_STATES);
      for (const run of runs) {
        expect(await store.getRun(ids.runs.get(run.label)!), run.label).toEqual({ id: ids.runs.get(run.label), ...fullRun(run, ids.jobs) });
      }
      expect(runLabels(await store.listRuns({}))).toEqual(reversed(runs.map((r) => r.label)));
      expect(runLabels(await store.listRuns({ states: ['running', 'paused'] }))).toEqual(
        reversed(runs.filter((r) => ['running', 'paused'].includes(r.state ?? 'running')).map((r) => r.label)),
      );
    });

    it('lists the history by state, name and schedule, retries a dead letter and prunes what is old', async () => {
      expect(labels(await store.list({ states: FINAL_STATES }))).toEqual(reversed(finished.map((j) => j.label)));
      // Read from the side table of migration 15, which the upgrade fills from the jobs.
      const rare = finished.filter((j) => ['cancelled', 'discarded'].includes(fullJob(j).state));
      expect(rare.length).toBeGreaterThan(1);
      expect(labels(await store.list({ states: ['cancelled', 'discarded'] }))).toEqual(reversed(rare.map((j) => j.label)));
      for (const state of ['available', 'running', ...FINAL_STATES] as JobState[]) {
        expect(await store.count({ states: [state] }), state).toBe(OLD_JOBS.filter((j) => fullJob(j).state === state).length);
      }
      for (const name of new Set(OLD_JOBS.map((j) => fullJob(j).name))) {
        expect(labels(await store.list({ name })), name).toEqual(reversed(OLD_JOBS.filter((j) => fullJob(j).name === name).map((j) => j.label)));
      }
      for (const schedule of new Set(OLD_JOBS.map((j) => j.schedule).filter((s) => s))) {
        const history = finished.filter((j) => j.schedule === schedule || fullJob(j).name === schedule);
        expect(labels(await store.list({ nameOrSchedule: schedule!, states: FINAL_STATES })), schedule!).toEqual(reversed(history.map((j) => j.label)));
      }

      expect(await store.resurrect(id('dead'), NOW)).toMatchObject({ state: 'available', runAt: NOW, finishedAt: null, errors: old('dead').errors });

      const before = EXPECT.pruneBefore;
      const pruned = finished.filter((j) => j.label !== 'dead' && fullJob(j).finishedAt! < before);
      // PostgreSQL prunes the oldest id first.
      const oldest = [...pruned].sort((a, b) => Number(id(a.label)) - Number(id(b.label)))[0]!;
      expect(await store.prune(FINAL_STATES, before, 1)).toBe(1);
      expect(await store.get(id(oldest.label))).toBeNull();
      expect(await store.prune(FINAL_STATES, before, Infinity)).toBe(pruned.length - 1);
      expect(await store.count({})).toBe(OLD_JOBS.length - pruned.length);
      const kept = finished.filter((j) => j.label !== 'dead' && !pruned.includes(j));
      expect(labels(await store.list({ states: FINAL_STATES }))).toEqual(reversed(kept.map((j) => j.label)));

      const oldRuns = runs.filter((r) => r.finishedAt && r.finishedAt < before);
      expect(await store.deleteRuns(before, Infinity)).toBe(oldRuns.length);
      expect(runLabels(await store.listRuns({}))).toEqual(reversed(runs.filter((r) => !oldRuns.includes(r)).map((r) => r.label)));
    });

    it('claims the queued jobs in the old order, with newer fencing tokens, and completes them', async () => {
      const lastToken = Math.max(...OLD_JOBS.map((j) => fullJob(j).fencingToken));
      const all: Job[] = [];
      for (const claim of EXPECT.claims) {
        const claimed = await store.claim({ queue: 'default', limit: 100, node: claim.node, now: claim.now });
        expect(labels(claimed)).toEqual(claim.labels);
        for (const [i, job] of claimed.entries()) {
          const { args, priority, uniqueKey, serialKey, tickKey, schedule, errors, attempt } = old(claim.labels[i]!);
          expect(job).toMatchObject({ args, priority, uniqueKey, serialKey, tickKey, schedule, errors, attempt: attempt + 1, node: claim.node });
          expect(job.fencingToken).toBeGreaterThan(lastToken);
        }
        all.push(...claimed);
      }
      // Only now: a completed serial job would free the key for the next claim.
      await Promise.all(all.map((job) => store.complete(job, { done: job.id }, at(1_000))));
      for (const job of all) expect(await store.get(job.id)).toMatchObject({ state: 'completed', result: { done: job.id }, finishedAt: at(1_000) });
      // New ids follow the old ones.
      const [added] = await store.insert([{ name: 'new', queue: 'default', args: {}, priority: 5, maxAttempts: 1, timeout: null, runAt: NOW }]);
      expect(BigInt(added!.job.id)).toBeGreaterThan(BigInt(Math.max(...[...ids.jobs.values()].map(Number))));
    });

    it("rescues a gone node's running jobs; a live node's job still heartbeats and acknowledges by its attempt", async () => {
      const rescued = await store.rescue(EXPECT.rescueBefore, NOW);
      expect(labels(rescued)).toEqual(Object.keys(EXPECT.rescued));
      for (const [label, { kind, ...fields }] of Object.entries(EXPECT.rescued)) {
        const job = (await store.get(id(label)))!;
        expect(job, label).toMatchObject(fields);
        expect(job.errors, label).toEqual([
          ...old(label).errors,
          expect.objectContaining({ kind, name: 'RescuedError', attempt: old(label).attempt, at: NOW }),
        ]);
      }

      const alive = { id: id('alive'), attempt: old('alive').attempt };
      expect(await store.heartbeat([alive], NOW)).toEqual([]);
      await expect(store.complete({ ...alive, attempt: alive.attempt - 1 }, null, NOW)).rejects.toBeInstanceOf(StaleAttemptError);
      await store.complete(alive, { ok: true }, NOW);
      expect(await store.get(alive.id)).toMatchObject({ state: 'completed', result: { ok: true }, finishedAt: NOW, node: 'node-alive' });
    });

    it('keeps the tick, unique and serial keys the old jobs hold', async () => {
      const results = await store.insert(EXPECT.keys.map((k) => k.job));
      const got = results.map((r) => ({ conflict: r.conflict, with: r.inserted ? null : labels([r.job])[0] }));
      expect(got).toEqual(EXPECT.keys.map((k) => ({ conflict: k.conflict, with: k.with })));
    });
  },
);

describe('a deployment on migration 6 (unique keys as kind u rows of job_keys), started on the latest migration', () => {
  it("moves its unique keys to the unique key table with unique: true's meaning, each dated by its job's insert", async () => {
    let before: { key: string; id: string }[] = [];
    const { store, filled: ids } = await upgrade(
      OLD_LAYOUT_VERSIONS.at(-1)!,
      (client, table) => populateOldLayout(client, table, OLD_LAYOUT_VERSIONS.at(-1)!),
      {
        to: 6,
        before: async (client, table) => {
          before = (await client.query(`SELECT key, id::text FROM ${table('job_keys')} WHERE kind = 'u' ORDER BY key`)).rows;
        },
      },
    );
    const schema = schemas.at(-1)!;
    const label = (id: string) => [...ids.jobs].find(([, v]) => v === id)?.[0];
    // The old layout's unique keys: those of available and running jobs.
    expect(before.map((row) => [row.key, label(row.id)])).toEqual([
      ['email:a', 'high'],
      ['import:7', 'gone-started'],
    ]);
    const moved = await withClient(url, async (c) => ({
      left: (await c.query(`SELECT count(*)::int AS n FROM "${schema}".scheduler_job_keys WHERE kind = 'u'`)).rows[0].n,
      rows: (
        await c.query(`SELECT u.key, u.id::text, u.states, u.period_ms, u.completed, u.since = j.inserted_at AS dated
          FROM "${schema}".scheduler_unique_keys u JOIN "${schema}".scheduler_jobs j ON j.id = u.id ORDER BY u.key`)
      ).rows,
    }));
    expect(moved.left).toBe(0);
    expect(moved.rows).toEqual(before.map((row) => ({ ...row, states: 7, period_ms: null, completed: false, dated: true })));
    // They block as before, and are freed as before once their job finishes.
    const [dup] = await store.insert([
      { name: 'probe', queue: 'default', args: {}, priority: 5, maxAttempts: 1, timeout: null, runAt: NOW, uniqueKey: 'email:a' },
    ]);
    expect(dup).toMatchObject({ inserted: false, conflict: 'unique', job: { id: ids.jobs.get('high') } });
    const [high] = await store.claim({ queue: 'default', limit: 1, node: 'node-a', now: NOW, ids: [ids.jobs.get('high')!] });
    await store.complete(high!, null, NOW);
    const [free] = await store.insert([
      { name: 'probe', queue: 'default', args: {}, priority: 5, maxAttempts: 1, timeout: null, runAt: NOW, uniqueKey: 'email:a' },
    ]);
    expect(free!.inserted).toBe(true);
  });
});

describe('a large old deployment', () => {
  it('is upgraded in one go from the first migration, every count and the claim order kept', { timeout: 120_000 }, async () => {
    const count = 50_000;
    const before = at(-6 * 3_600_000);
    const { store, filled: totals } = await upgrade(MIGRATIONS[0]!.id, async (client, table) => {
      await populateBulk(client, table, count, NOW);
      return readOldTotals(client, table, NOW, before, 'bulk-a', 500);
    });
    expect(await store.count({})).toBe(count);
    expect(await store.queueCounts(NOW)).toEqual(totals.queues);
    for (const state of ['cancelled', 'discarded'] as const) {
      const expected = totals.queues.reduce((sum, q) => sum + q[state], 0);
      expect(expected).toBeGreaterThan(1000);
      expect(await store.count({ states: [state] }), state).toBe(expected);
      expect(await store.count({ states: [state], queue: 'bulk-a' }), state).toBe(totals.queues.find((q) => q.queue === 'bulk-a')![state]);
    }
    expect((await store.claim({ queue: 'bulk-a', limit: 500, node: 'node-a', now: NOW })).map((j) => j.id)).toEqual(totals.claimOrder);
    expect(await store.rescue(at(-60_000), NOW)).toHaveLength(totals.running);
    expect(totals.prunable).toBeGreaterThan(10_000);
    expect(await store.prune(FINAL_STATES, before, Infinity)).toBe(totals.prunable);
    expect(await store.count({ finishedBefore: before })).toBe(0);
  });
});
