import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import type { PostgresContext } from '../../lib/postgres/postgres.context.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { postgresStatements } from '../../lib/postgres/sql/index.js';
import type { NewJob } from '../../lib/store/job.types.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { createTestSchema } from '../support/postgres.js';

// What the dashboard's search costs on PostgreSQL: a capped count stops
// reading at its cap, and a GIN index on args, when the application adds
// one, serves the args conditions (the store creates none).
const BASE = new Date('2026-01-01T00:00:00.000Z');
const newJob = (i: number): NewJob => ({
  name: 'work',
  queue: 'default',
  args: { userId: i % 100, user: { id: i } },
  priority: 0,
  maxAttempts: 3,
  timeout: null,
  runAt: BASE,
});

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

let schema: Awaited<ReturnType<typeof createTestSchema>>;
let ctx: PostgresContext;
let store: PostgresStore;

beforeAll(async () => {
  schema = await createTestSchema('search_plans');
  const options: PostgresStoreOptions = { type: 'postgres', url: schema.url, schema: schema.schema };
  ctx = await openPostgres(options, 'node-search');
  store = new PostgresStore(ctx, options);
  await store.init();
  for (let b = 0; b < 3; b++) await store.insert(Array.from({ length: 1000 }, (_, i) => newJob(b * 1000 + i)));
  await ctx.pool.query(`ANALYZE ${ctx.table('jobs')}`);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await schema?.drop();
});

async function explain(text: string, values: unknown[], options: string, setup = ''): Promise<PlanNode> {
  const client = await ctx.pool.connect();
  try {
    await client.query('BEGIN');
    if (setup) await client.query(setup);
    const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (${options}) ${text}`, values);
    return rows[0]!['QUERY PLAN'][0]!.Plan;
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

describe('PostgreSQL search plans', () => {
  it('reads no more rows than the cap to count', async () => {
    const sql = postgresStatements(ctx);
    const count = sql.query.count({ nameContains: ['wor'] }, 100);
    const plan = nodes(await explain(count.text, count.values, 'ANALYZE, FORMAT JSON'));
    const scans = plan.filter((n) => n['Node Type'].includes('Scan'));
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) expect(scan['Actual Rows']).toBeLessThan(101);
    expect(await store.count({ nameContains: ['wor'] }, { cap: 100 })).toBe(100);
    expect(await store.count({ nameContains: ['wor'] })).toBe(3000);
  });

  it('counts waiting or dead jobs (of a queue) from the ready list or the dead letters, never reading jobs', async () => {
    const sql = postgresStatements(ctx);
    for (const filter of [
      { states: ['available' as const] },
      { states: ['available' as const], queue: 'default' },
      { states: ['dead' as const], queue: 'default' },
    ]) {
      const count = sql.query.count(filter, 100);
      const scanned = nodes(await explain(count.text, count.values, 'ANALYZE, FORMAT JSON')).filter((n) => n['Node Type'].includes('Scan'));
      expect(scanned.map((n) => n['Relation Name'])).not.toContain('jobs');
    }
    expect(await store.count({ states: ['available'], queue: 'default' }, { cap: 100 })).toBe(100);
    expect(await store.count({ states: ['available'], queue: 'default' })).toBe(3000);
    expect(await store.count({ states: ['available'], queue: 'other' })).toBe(0);
    expect(await store.count({ states: ['dead'] })).toBe(0);
    // With any other condition the count goes through jobs as before.
    expect(await store.count({ states: ['available'], name: 'work' }, { cap: 10 })).toBe(10);
  });

  it('serves args conditions from a GIN index on args, when there is one', async () => {
    const sql = postgresStatements(ctx);
    const filter = { args: [{ path: ['user', 'id'], value: 1234 }] };
    const index = `CREATE INDEX search_args_idx ON ${ctx.table('jobs')} USING gin (args jsonb_path_ops)`;
    for (const statement of [sql.query.list(filter, 51), sql.query.count(filter, 10_001)]) {
      const used = nodes(await explain(statement.text, statement.values, 'FORMAT JSON', `${index}; SET LOCAL enable_seqscan = off`)).map(
        (n) => n['Index Name'],
      );
      expect(used).toContain('search_args_idx');
    }
    expect((await store.list({ ...filter, limit: 51 })).map((job) => job.args)).toEqual([{ userId: 34, user: { id: 1234 } }]);
  });
});
