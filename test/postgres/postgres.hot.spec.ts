import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import type { PostgresContext } from '../../lib/postgres/postgres.context.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { postgresStatements } from '../../lib/postgres/sql/index.js';
import type { NewJob } from '../../lib/store/job.types.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { createTestSchema } from '../support/postgres.js';

// The v2 layout's premise: a job row is written in place (a HOT update, no
// index touched) at its claim, heartbeats and acknowledgement. That holds
// only while no index of `jobs` names a column those writes change, so the
// indexes are checked here, and the claim's HOT updates counted.
const BASE = new Date('2026-01-01T00:00:00.000Z');
const CHANGED = [
  'state',
  'attempt',
  'run_at',
  'started_at',
  'finished_at',
  'heartbeat_at',
  'node',
  'fencing_token',
  'claim',
  'max_attempts',
  'errors',
  'result',
];
const job = (i: number): NewJob => ({ name: 'hot', queue: 'default', args: { i }, priority: 0, maxAttempts: 3, timeout: null, runAt: BASE });

let schema: Awaited<ReturnType<typeof createTestSchema>>;
let ctx: PostgresContext;
let store: PostgresStore;

beforeAll(async () => {
  schema = await createTestSchema('hot');
  const options: PostgresStoreOptions = { type: 'postgres', url: schema.url, schema: schema.schema };
  ctx = await openPostgres(options, 'node-hot');
  store = new PostgresStore(ctx, options);
  await store.init();
});

afterAll(async () => {
  await store?.close();
  await schema?.drop();
});

describe('PostgreSQL v2 layout: writes in place', () => {
  it('indexes of the jobs table name only columns fixed at insert', async () => {
    const { rows } = await ctx.pool.query<{ name: string; definition: string }>(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass`,
      [ctx.table('jobs')],
    );
    expect(rows.map((r) => r.name).sort()).toEqual([
      'scheduler_jobs_name_idx',
      'scheduler_jobs_pkey',
      'scheduler_jobs_schedule_idx',
      'scheduler_jobs_tick_key_idx',
    ]);
    for (const { name, definition } of rows) {
      for (const column of CHANGED) expect(definition, name).not.toMatch(new RegExp(`\\b${column}\\b`));
    }
  });

  it('claims by updating the job rows in place', async () => {
    await store.insert(Array.from({ length: 400 }, (_, i) => job(i)));
    const sql = postgresStatements(ctx);
    const client = await ctx.pool.connect();
    try {
      await client.query('BEGIN');
      const claim = sql.claim.claim({ queue: 'default', limit: 400, node: 'node-hot', now: BASE }, null);
      await client.query({ text: claim.text, values: claim.values });
      const { rows } = await client.query<{ updated: string; hot: string }>(
        `SELECT pg_stat_get_xact_tuples_updated($1::regclass) AS updated, pg_stat_get_xact_tuples_hot_updated($1::regclass) AS hot`,
        [ctx.table('jobs')],
      );
      expect(Number(rows[0]!.updated)).toBe(400);
      // Rows inserted at fillfactor 45 leave room on their page for the next version.
      expect(Number(rows[0]!.hot)).toBe(400);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
