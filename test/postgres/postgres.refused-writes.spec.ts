import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Logger } from '@nestjs/common';
import { AckWriter } from '../../lib/postgres/postgres.acks.js';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import type { PostgresContext } from '../../lib/postgres/postgres.context.js';
import { HeartbeatConnection } from '../../lib/postgres/postgres.heartbeat.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { StoreUnavailableError } from '../../lib/scheduler.errors.js';
import { postgresStatements } from '../../lib/postgres/sql/index.js';
import type { Statement } from '../../lib/postgres/sql/statement.js';
import type { Job } from '../../lib/store/job.types.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { createTestSchema } from '../support/postgres.js';
import { newJobInput } from '../support/new-job.js';

const BASE = new Date('2026-01-01T00:00:00Z');

/**
 * The database refuses writes for a while (a failover to a hot standby,
 * `default_transaction_read_only` set by an operator): every write fails with
 * 25006 and writes nothing. An acknowledgement given up then leaves its job
 * running in the store, to be rescued and run again once it is writable;
 * a heartbeat connection opened while it was read only stays read only.
 * Made here with a session of our own set read only (`SET
 * default_transaction_read_only`), so no database or role is changed.
 */
describe('PostgreSQL: writes refused by a read-only database', () => {
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let store: PostgresStore;
  let ctx: PostgresContext;
  let readOnly: pg.Client;

  beforeAll(async () => {
    db = await createTestSchema('refused');
    const options: PostgresStoreOptions = { type: 'postgres', url: db.url, schema: db.schema, poolSize: 2 };
    store = new PostgresStore(await openPostgres(options, 'node-a'), options);
    await store.init();
    ctx = await openPostgres(options, 'node-b');
    readOnly = new pg.Client({ connectionString: db.url });
    await readOnly.connect();
    await readOnly.query('SET default_transaction_read_only = on');
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    await readOnly?.end();
    await ctx?.close();
    await store?.close();
    await db?.drop();
  });

  const running = async (count: number): Promise<Job[]> => {
    const inserted = await store.insert(Array.from({ length: count }, (_, n) => newJobInput(BASE, { args: { n } })));
    return store.claim({ queue: 'default', limit: count, node: 'node-a', now: BASE, ids: inserted.map((r) => r.job.id) });
  };

  it('acknowledgements refused with 25006 are written again until the database takes them: the jobs complete, none is left running', async () => {
    const refusals: string[] = [];
    let writable = false;
    // While not writable, every statement goes to the read-only session and gets the server's real refusal.
    const exec = async (statement: Statement) => {
      if (writable) return ctx.pool.query(statement);
      try {
        return await readOnly.query(statement.text, statement.values);
      } catch (error) {
        refusals.push((error as { code?: string }).code ?? '?');
        throw error;
      }
    };
    const writer = new AckWriter(exec, postgresStatements(ctx).ack);
    const [a, b] = await running(2);
    const completed = writer.complete({ id: a!.id, attempt: 1 }, { id: a!.id, attempt: 1, result: '"done"', finishedAt: BASE, forget: false });
    const retried = writer.write(
      { id: b!.id, attempt: 1 },
      postgresStatements(ctx).ack.retry(
        { id: b!.id, attempt: 1 },
        BASE,
        JSON.stringify({ attempt: 1, at: BASE, name: 'Error', message: 'boom', kind: 'error' }),
      ),
      { state: 'available' },
    );
    const settled = Promise.allSettled([completed, retried]);
    await vi.waitFor(() => expect(refusals.length).toBeGreaterThanOrEqual(2), { timeout: 3_000 });
    expect(new Set(refusals)).toEqual(new Set(['25006']));
    writable = true;
    expect((await settled).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await store.get(a!.id)).toMatchObject({ state: 'completed', attempt: 1, result: 'done' });
    expect(await store.get(b!.id)).toMatchObject({ state: 'available', attempt: 1 });
    await writer.close(1_000);
  });

  it('an enqueue refused by a read-only database rejects with StoreUnavailableError, the server error its cause, and inserts nothing', async () => {
    // A second node whose one pooled session is read only, as after a failover to a hot standby.
    const options: PostgresStoreOptions = { type: 'postgres', url: db.url, schema: db.schema, poolSize: 1 };
    const context = await openPostgres(options, 'node-c');
    const standby = new PostgresStore(context, options);
    await standby.init();
    try {
      const before = await store.count({});
      for (const count of [1, 3]) {
        // The pool drops a client whose statement failed: the next one is set read only again.
        await context.pool.query('SET default_transaction_read_only = on');
        const error = await standby.insert(Array.from({ length: count }, () => newJobInput(BASE))).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect((error as Error).message).toMatch(/PostgreSQL refused the write: the database is read only .*nothing was written/);
        expect((error as Error & { cause: { code: string } }).cause.code).toBe('25006');
      }
      expect(await store.count({})).toBe(before);
    } finally {
      await standby.close();
    }
  });

  it('a heartbeat refused because its connection was opened while the database was read only is sent again on a new connection', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const [job] = await running(1);
    let opened = 0;
    // The first heartbeat connection is a session opened while the database was read only; later ones are not.
    const heartbeats = new HeartbeatConnection({
      pool: ctx.pool,
      timeouts: ctx.timeouts,
      connect: async (bounds) => {
        const client = await ctx.connect(bounds);
        if (opened++ === 0) await client.query('SET default_transaction_read_only = on');
        return client;
      },
    });
    await heartbeats.open();
    const beat = () => heartbeats.query(postgresStatements(ctx).ack.heartbeat([{ id: job!.id, attempt: 1, startedAt: BASE.getTime() }], BASE));
    const first = await beat();
    expect(first.rows).toMatchObject([{ id: job!.id, attempt: 1 }]);
    expect(opened).toBe(2);
    expect((await beat()).rows).toHaveLength(1);
    expect(opened).toBe(2);
    await heartbeats.close();
  });

  it('heartbeats sent together go out one after another on the dedicated connection (pg deprecates overlapping queries on a client)', async () => {
    const [job] = await running(1);
    let active = 0;
    let most = 0;
    const heartbeats = new HeartbeatConnection({
      pool: ctx.pool,
      timeouts: ctx.timeouts,
      connect: async (bounds) => {
        const client = await ctx.connect(bounds);
        const query = client.query.bind(client) as (statement: Statement) => Promise<pg.QueryResult>;
        (client as unknown as { query: typeof query }).query = async (statement) => {
          most = Math.max(most, ++active);
          try {
            return await query(statement);
          } finally {
            active--;
          }
        };
        return client;
      },
    });
    await heartbeats.open();
    const beat = () => heartbeats.query(postgresStatements(ctx).ack.heartbeat([{ id: job!.id, attempt: 1 }], BASE));
    const answers = await Promise.all([beat(), beat(), beat()]);
    expect(answers.map((a) => a.rows.length)).toEqual([1, 1, 1]);
    expect(most).toBe(1);
    await heartbeats.close();
  });
});
