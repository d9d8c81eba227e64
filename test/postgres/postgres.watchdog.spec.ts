import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../lib/postgres/migrations/migrator.js';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import type { PostgresContext } from '../../lib/postgres/postgres.context.js';
import { migrationLockKey } from '../../lib/postgres/sql/names.js';
import { createTestSchema } from '../support/postgres.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The pool's client bound is a socket timeout per connection (see
 * `watchForAnswers`); the dead-socket spec shows it firing on a half-open
 * socket. Here: what it must leave alone.
 */
describe('the pool connections’ client bound', () => {
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let context: PostgresContext;
  beforeEach(async () => {
    db = await createTestSchema('wd');
    // statementTimeout 200 ms: the client's bound is 400 ms.
    context = await openPostgres({ type: 'postgres', url: db.url, schema: db.schema, poolSize: 1, statementTimeout: 200 }, 'n1');
  });
  afterEach(async () => {
    await context.close();
    await db.drop();
  });

  const backend = async (): Promise<number> => (await context.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

  it('keeps an idle pooled connection open past the bound', async () => {
    const pid = await backend();
    await sleep(900);
    expect(await backend()).toBe(pid);
  });

  it('lets the server answer a slow statement first, and pg runs without a timer per statement', async () => {
    expect((context.pool as unknown as { options: Record<string, unknown> }).options.query_timeout).toBeUndefined();
    // statement_timeout (200 ms) cancels it with an answer before the client's bound (400 ms) would drop the socket.
    await expect(context.pool.query('SELECT pg_sleep(1)')).rejects.toMatchObject({ code: '57014' });
    await backend();
  });

  it('lets the boot migration wait for another node’s migration lock longer than the pool’s bound', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [migrationLockKey(db.schema, 'scheduler_')]);
      const migrating = migrate(context);
      await sleep(1_000);
      await holder.query('COMMIT');
      expect((await migrating).length).toBeGreaterThan(0);
    } finally {
      await holder.end();
    }
    // Back in the pool, the connection is bounded again.
    expect(await backend()).toBeGreaterThan(0);
  });
});
