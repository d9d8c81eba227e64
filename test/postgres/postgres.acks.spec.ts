import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import type { PostgresContext } from '../../lib/postgres/postgres.context.js';
import { AckWriter } from '../../lib/postgres/postgres.acks.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { postgresStatements } from '../../lib/postgres/sql/index.js';
import { StaleAttemptError, UnstorableResultError } from '../../lib/scheduler.errors.js';
import type { Job } from '../../lib/store/job.types.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { createTestSchema } from '../support/postgres.js';
import { newJobInput } from '../support/new-job.js';

const BASE = new Date('2026-01-01T00:00:00Z');

/**
 * The completion batch below the store: a row the database refuses must fail
 * only its own job's completion, with a typed error the executor turns into a
 * failed attempt, never a job left running. The store cleans what it sends,
 * so the refused row is built by hand here (JSON text with an escaped U+0000).
 */
describe('AckWriter: one refused row in a completion batch', () => {
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
