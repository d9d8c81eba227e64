import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import type { PostgresContext } from '../../lib/postgres/postgres.context.js';
import { insertBatch } from '../../lib/postgres/job-input.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { postgresStatements } from '../../lib/postgres/sql/index.js';
import type { NewJob } from '../../lib/store/job.types.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { createTestSchema } from '../support/postgres.js';

// Query plans of the hot statements beside a history of finished jobs:
// regressions here cost milliseconds per claim (a table scan) or half a
// second (JIT), which no functional test would notice.
const BASE = new Date('2026-01-01T00:00:00.000Z');
const newJob = (i: number): NewJob => ({
  name: i % 100 === 0 ? 'rare' : i % 2 ? 'odd' : 'even',
  queue: 'default',
  args: { i },
  priority: 0,
  maxAttempts: 3,
  timeout: null,
  runAt: BASE,
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Total Cost': number;
  'Index Cond'?: string;
  /** A bitmap heap scan's condition (its bitmap index scan, a child, holds the index). */
  'Recheck Cond'?: string;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

let schema: Awaited<ReturnType<typeof createTestSchema>>;
let ctx: PostgresContext;
let store: PostgresStore;

beforeAll(async () => {
  schema = await createTestSchema('plans');
  const options: PostgresStoreOptions = { type: 'postgres', url: schema.url, schema: schema.schema };
  ctx = await openPostgres(options, 'node-plans');
  store = new PostgresStore(ctx, options);
  await store.init();
  for (let b = 0; b < 6; b++) await store.insert(Array.from({ length: 1000 }, (_, i) => newJob(b * 1000 + i)));
  // 4,000 finished jobs of history, 2,000 still available.
  const claimed = await store.claim({ queue: 'default', limit: 4000, node: 'node-plans', now: BASE });
  await Promise.all(claimed.map((job) => store.complete({ id: job.id, attempt: job.attempt }, null, BASE)));
  await ctx.pool.query(`ANALYZE ${ctx.table('jobs')}, ${ctx.table('ready')}`);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await schema?.drop();
});

async function explain(text: string, values: unknown[], setup = ''): Promise<PlanNode> {
  const client = await ctx.pool.connect();
  try {
    await client.query('BEGIN');
    if (setup) await client.query(setup);
    const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${text}`, values);
    return rows[0]!['QUERY PLAN'][0]!.Plan;
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

describe('PostgreSQL plans', () => {
  it("runs the scheduler's own connections without JIT", async () => {
    const { rows } = await ctx.pool.query<{ jit: string }>('SHOW jit');
    expect(rows[0]!.jit).toBe('off');
  });

  it('claims through the ready list in claim order, deletes its rows by ctid and finds the jobs by primary key, below the JIT threshold', async () => {
    const sql = postgresStatements(ctx);
    for (const ids of [null, ['1', '2', '3']]) {
      const claim = sql.claim.claim({ queue: 'default', limit: 500, node: 'node-plans', now: BASE }, ids);
      const plan = await explain(claim.text, claim.values);
      const all = nodes(plan);
      expect(all.filter((n) => n['Node Type'] === 'Seq Scan' && /(jobs|ready)$/.test(n['Relation Name'] ?? ''))).toEqual([]);
      // The picked ready rows are deleted by ctid: no second walk of the ready list.
      expect(all.filter((n) => n['Node Type'] === 'Tid Scan').length).toBe(1);
      const indexes = all.map((n) => n['Index Name']).filter((name) => name !== undefined);
      expect(indexes).toContain('scheduler_ready_pkey');
      // The jobs themselves: found by primary key (so are the holders of serial keys, in two subplans run only for keyed jobs).
      expect(indexes.filter((name) => name === 'scheduler_jobs_pkey').length).toBe(3);
      // PostgreSQL's default jit_above_cost: a borrowed pool may still have JIT on.
      expect(plan['Total Cost']).toBeLessThan(100_000);
    }
  });

  it('claims past the cursor: the ready list range starts there, and jobs at or before it are left out', async () => {
    const sql = postgresStatements(ctx);
    const [first] = await store.list({ states: ['available'], order: 'asc', limit: 1 });
    const key = { priority: 0, runAt: BASE.getTime(), id: String(Number(first!.id) + 9) };
    const claim = sql.claim.claim({ queue: 'default', limit: 500, node: 'node-plans', now: BASE, after: key }, null);
    const scan = nodes(await explain(claim.text, claim.values)).find((n) => n['Index Name'] === 'scheduler_ready_pkey' && n['Index Cond']?.includes('ROW'));
    expect(scan?.['Index Cond']).toMatch(/ROW\(priority, run_at, id\) > ROW\(/);
    const claimed = await store.claim({ queue: 'default', limit: 5, node: 'node-plans', now: BASE, after: key });
    try {
      expect(claimed.map((job) => Number(job.id))).toEqual([1, 2, 3, 4, 5].map((k) => Number(key.id) + k));
    } finally {
      await store.unclaim(claimed.map((job) => ({ id: job.id, attempt: job.attempt })));
    }
    // The cursor is a hint: one no job can have means a claim from the start.
    const again = await store.claim({ queue: 'default', limit: 1, node: 'node-plans', now: BASE, after: { ...key, id: 'x' } });
    expect(again.map((job) => job.id)).toEqual([first!.id]);
    await store.unclaim(again.map((job) => ({ id: job.id, attempt: job.attempt })));
  });

  it('finds the jobs of a completion, heartbeat or unclaim by primary key, not among every running job', async () => {
    const sql = postgresStatements(ctx);
    // 1,000 running jobs (as prefetch buffers leave them), 20 of them acknowledged.
    const running = await store.claim({ queue: 'default', limit: 1000, node: 'node-plans', now: BASE });
    try {
      await ctx.pool.query(`ANALYZE ${ctx.table('jobs')}`);
      const some = running.slice(0, 20);
      const refs = some.map((job) => ({ id: job.id, attempt: job.attempt }));
      const statements = [
        sql.ack.completeMany(some.map((job) => ({ id: job.id, attempt: job.attempt, result: null, finishedAt: BASE, forget: false }))),
        sql.ack.completeMany(some.map((job) => ({ id: job.id, attempt: job.attempt, result: null, finishedAt: BASE, forget: true }))),
        sql.ack.heartbeat(refs, BASE),
        sql.lifecycle.unclaim(
          refs.map((r) => r.id),
          refs.map((r) => r.attempt),
        ),
      ];
      for (const statement of statements) {
        const plan = nodes(await explain(statement.text, statement.values));
        expect(plan.map((n) => n['Index Name'])).toContain('scheduler_jobs_pkey');
        expect(plan.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name']?.endsWith('jobs'))).toEqual([]);
      }
    } finally {
      await store.unclaim(running.map((job) => ({ id: job.id, attempt: job.attempt })));
    }
  });

  it('checks paused names once per job when inserting jobs claimed', async () => {
    const sql = postgresStatements(ctx);
    const batch = insertBatch([newJob(1), newJob(3)], 1024 * 1024);
    const statement = sql.insert.insertClaimed(batch, ctx.channel, BASE, 'node-plans', true);
    const probes = nodes(await explain(statement.text, statement.values)).filter((n) => n['Relation Name']?.endsWith('schedule_states'));
    expect(probes.length).toBe(1);
  });

  it('finds running jobs for the rescue through their claims, not by a scan of the jobs', async () => {
    const sql = postgresStatements(ctx);
    const rescue = sql.lifecycle.rescue(BASE, BASE);
    const plan = nodes(await explain(rescue.text, rescue.values));
    expect(plan.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name']?.endsWith('jobs'))).toEqual([]);
    expect(plan.map((n) => n['Index Name'])).toContain('scheduler_jobs_pkey');
  });

  it('counts the queues without reading the history', async () => {
    const sql = postgresStatements(ctx);
    const counts = sql.query.queueCounts(BASE);
    const plan = nodes(await explain(counts.text, counts.values));
    expect(plan.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name']?.endsWith('jobs'))).toEqual([]);
    expect(await store.queueCounts(BASE)).toEqual([
      { queue: 'default', available: 2000, scheduled: 0, running: 0, completed: 4000, dead: 0, discarded: 0, cancelled: 0 },
    ]);
  });

  it('lists dead letters through their own table, not by reading the history', async () => {
    const sql = postgresStatements(ctx);
    for (const list of [sql.query.list({ states: ['dead'] }, 20), sql.query.count({ states: ['dead'] })]) {
      const plan = nodes(await explain(list.text, list.values));
      expect(plan.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name']?.endsWith('jobs'))).toEqual([]);
    }
  });

  it('reads the history of a name through the index of names', async () => {
    const sql = postgresStatements(ctx);
    const list = sql.query.list({ nameOrSchedule: 'rare', states: ['completed', 'dead', 'discarded', 'cancelled'] }, 20);
    const used = nodes(await explain(list.text, list.values, 'SET LOCAL enable_seqscan = off')).map((n) => n['Index Name']);
    expect(used).toContain('scheduler_jobs_name_idx');
    expect(used).not.toContain('scheduler_jobs_pkey');
    expect((await store.list({ nameOrSchedule: 'rare', states: ['completed'], limit: 5000 })).length).toBe(40);
  });
});

describe('PostgreSQL plans of rare final states', () => {
  it('lists and counts cancelled and discarded jobs through their own table, not by walking the history', async () => {
    const sql = postgresStatements(ctx);
    const available = await store.list({ states: ['available'], limit: 10 });
    for (const job of available) await store.cancel(job.id, BASE, 'plan');
    await ctx.pool.query(`ANALYZE ${ctx.table('rare_finished')}`);
    for (const filter of [{ states: ['cancelled' as const] }, { states: ['cancelled' as const, 'discarded' as const], queue: 'default' }]) {
      for (const statement of [sql.query.list(filter, 50), sql.query.count(filter), sql.query.count(filter, 1000)]) {
        const jobs = nodes(await explain(statement.text, statement.values)).filter((n) => n['Relation Name']?.endsWith('_jobs'));
        // Each read of jobs is a probe by primary key for the listed ids: an index scan, or a bitmap of the same
        // index (the planner's choice moves with the statistics that autovacuum's analyze left).
        expect(jobs.length).toBeGreaterThan(0);
        for (const scan of jobs) {
          expect(scan['Node Type'], JSON.stringify(scan)).not.toBe('Seq Scan');
          expect(scan['Index Cond'] ?? scan['Recheck Cond'] ?? '', JSON.stringify(scan)).toContain('ANY');
        }
      }
    }
    expect((await store.list({ states: ['cancelled'], limit: 50 })).map((job) => job.id)).toEqual(available.map((job) => job.id));
    expect(await store.count({ states: ['cancelled', 'discarded'], queue: 'default' })).toBe(10);
  });
});
