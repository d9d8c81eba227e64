import { Logger } from '@nestjs/common';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AckWriter } from '../../lib/postgres/postgres.acks.js';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import type { PostgresContext } from '../../lib/postgres/postgres.context.js';
import { HeartbeatConnection } from '../../lib/postgres/postgres.heartbeat.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { postgresStatements } from '../../lib/postgres/sql/index.js';
import type { Statement } from '../../lib/postgres/sql/statement.js';
import { StaleAttemptError, StoreUnavailableError, UnstorableResultError } from '../../lib/scheduler.errors.js';
import type { Job } from '../../lib/store/job.types.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { createTestSchema } from '../support/postgres.js';
import { newJobInput } from '../support/new-job.js';

const BASE = new Date('2026-01-01T00:00:00Z');

/** A store on a schema of its own, and a second node's context on it (what AckWriter writes through). */
let db: Awaited<ReturnType<typeof createTestSchema>>;
let store: PostgresStore;
let ctx: PostgresContext;

beforeAll(async () => {
  db = await createTestSchema('acks');
  const options: PostgresStoreOptions = { type: 'postgres', url: db.url, schema: db.schema, poolSize: 2 };
  store = new PostgresStore(await openPostgres(options, 'node-a'), options);
  await store.init();
  ctx = await openPostgres(options, 'node-b');
});
afterAll(async () => {
  await ctx?.close();
  await store?.close();
  await db?.drop();
});

const running = async (count: number): Promise<Job[]> => {
  const inserted = await store.insert(Array.from({ length: count }, (_, n) => newJobInput(BASE, { args: { n } })));
  return store.claim({ queue: 'default', limit: count, node: 'node-a', now: BASE, ids: inserted.map((r) => r.job.id) });
};

/**
 * The completion batch below the store: a row the database refuses must fail
 * only its own job's completion, with a typed error the executor turns into a
 * failed attempt, never a job left running. The store cleans what it sends,
 * so the refused row is built by hand here (JSON text with an escaped U+0000).
 */
describe('AckWriter: one refused row in a completion batch', () => {
  it('completes the others; the refused one rejects with UnstorableResultError and its job stays running, untouched', async () => {
    const writer = new AckWriter((statement) => ctx.pool.query(statement), postgresStatements(ctx).ack);
    const jobs = await running(4);
    const results = ['{"n":0}', '{"bad":"\\u0000"}', null, '"three"'];
    // Queued in one turn: written as ONE statement, which the refused row fails as a whole.
    const outcomes = await Promise.allSettled(
      jobs.map((job, i) =>
        writer.complete({ id: job.id, attempt: job.attempt }, { id: job.id, attempt: job.attempt, result: results[i]!, finishedAt: BASE, forget: false }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const refusal = (outcomes[1] as PromiseRejectedResult).reason as UnstorableResultError;
    expect(refusal).toBeInstanceOf(UnstorableResultError);
    expect(refusal).toMatchObject({ jobId: jobs[1]!.id, cause: { code: '22P05' } });
    const stored = await Promise.all(jobs.map((job) => store.get(job.id)));
    expect(stored.map((j) => j!.state)).toEqual(['completed', 'running', 'completed', 'completed']);
    expect(stored.map((j) => j!.result)).toEqual([{ n: 0 }, null, null, 'three']);
    // Still the attempt's to fail, as the executor then does.
    await store.retry({ id: jobs[1]!.id, attempt: 1 }, BASE, { attempt: 1, at: BASE, name: 'UnstorableResultError', message: refusal.message, kind: 'error' });
    expect((await store.get(jobs[1]!.id))!.state).toBe('available');
    await writer.close(1_000);
  });

  it('a stale completion in the same batch is still reported stale, not refused', async () => {
    const writer = new AckWriter((statement) => ctx.pool.query(statement), postgresStatements(ctx).ack);
    const [a, b] = await running(2);
    const outcomes = await Promise.allSettled([
      writer.complete({ id: a!.id, attempt: 9 }, { id: a!.id, attempt: 9, result: '1', finishedAt: BASE, forget: false }),
      writer.complete({ id: b!.id, attempt: b!.attempt }, { id: b!.id, attempt: b!.attempt, result: '{"x":"\\ud800"}', finishedAt: BASE, forget: false }),
    ]);
    expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(StaleAttemptError);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(UnstorableResultError);
    expect((await store.get(a!.id))!.state).toBe('running');
    await writer.close(1_000);
  });

  it('keeps at most two completion statements in flight; completions queued meanwhile go out together, and close writes the rest', async () => {
    let open = 0;
    let most = 0;
    let statements = 0;
    const gates: (() => void)[] = [];
    // Each completion statement waits for the test to let it through, counted as it runs.
    const writer = new AckWriter(async (statement) => {
      statements++;
      most = Math.max(most, ++open);
      await new Promise<void>((resolve) => gates.push(resolve));
      try {
        return await ctx.pool.query(statement);
      } finally {
        open--;
      }
    }, postgresStatements(ctx).ack);
    const jobs = await running(12);
    const complete = (job: Job) =>
      writer.complete({ id: job.id, attempt: job.attempt }, { id: job.id, attempt: job.attempt, result: null, finishedAt: BASE, forget: false });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const turns = async (count: number) => {
      for (let k = 0; k < count; k++) await turn();
    };
    const done: Promise<void>[] = [];
    // Four turns of three completions each: two statements start, the rest wait.
    for (let k = 0; k < 4; k++) {
      done.push(...jobs.slice(3 * k, 3 * k + 3).map(complete));
      await turn();
    }
    expect(statements).toBe(2);
    expect(gates).toHaveLength(2);
    // One ends: the six waiting completions go out in one statement.
    gates.shift()!();
    await done[0];
    await turns(5);
    expect(statements).toBe(3);
    while (gates.length > 0) {
      gates.shift()!();
      await turn();
    }
    await Promise.all(done);
    expect(most).toBe(2);
    expect(statements).toBe(3);
    expect((await Promise.all(jobs.map((job) => store.get(job.id)))).every((job) => job!.state === 'completed')).toBe(true);

    // Closing writes what waits behind the cap at once.
    const more = await running(9);
    const late: Promise<void>[] = [];
    for (let k = 0; k < 3; k++) {
      late.push(...more.slice(3 * k, 3 * k + 3).map(complete));
      await turn();
    }
    expect(statements).toBe(5);
    const closing = writer.close(5_000);
    expect(statements).toBe(6);
    while (gates.length > 0) {
      gates.shift()!();
      await turns(3);
    }
    await closing;
    await Promise.all(late);
    expect((await Promise.all(more.map((job) => store.get(job.id)))).every((job) => job!.state === 'completed')).toBe(true);
  });
});

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
  let readOnly: pg.Client;

  beforeAll(async () => {
    readOnly = new pg.Client({ connectionString: db.url });
    await readOnly.connect();
    await readOnly.query('SET default_transaction_read_only = on');
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    await readOnly?.end();
  });

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
