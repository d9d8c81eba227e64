import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import type { PostgresContext } from '../../lib/postgres/postgres.context.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import type { JobAttemptError, NewJob } from '../../lib/store/job.types.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { createTestSchema } from '../support/postgres.js';

// The side table of cancelled and discarded jobs (migration 15) is what
// lists and counts of those states read, so it must hold exactly those jobs
// after every statement that moves a job into or out of them.
const BASE = new Date('2026-01-01T00:00:00.000Z');
const at = (s: number): Date => new Date(BASE.getTime() + s * 1000);
const newJob = (i: number): NewJob => ({
  name: 'work',
  queue: i % 2 ? 'odd' : 'even',
  args: { i },
  priority: 0,
  maxAttempts: 1,
  timeout: null,
  runAt: BASE,
});
const failure = (attempt: number): JobAttemptError => ({ attempt, at: at(2), name: 'Error', message: 'no', kind: 'error' });

let schema: Awaited<ReturnType<typeof createTestSchema>>;
let ctx: PostgresContext;
let store: PostgresStore;

beforeAll(async () => {
  schema = await createTestSchema('rare_finished');
  const options: PostgresStoreOptions = { type: 'postgres', url: schema.url, schema: schema.schema };
  ctx = await openPostgres(options, 'node-rare');
  store = new PostgresStore(ctx, options);
  await store.init();
}, 60_000);

afterAll(async () => {
  await store?.close();
  await schema?.drop();
});

/** The side table beside what `jobs` says, both as `id:queue:state` sorted. */
async function sides(): Promise<{ table: string[]; jobs: string[] }> {
  const read = async (sql: string): Promise<string[]> => (await ctx.pool.query<{ k: string }>(sql)).rows.map((r) => r.k).sort();
  return {
    table: await read(`SELECT id || ':' || queue || ':' || state AS k FROM ${ctx.table('rare_finished')}`),
    jobs: await read(`SELECT id || ':' || queue || ':' || state AS k FROM ${ctx.table('jobs')} WHERE state IN ('cancelled', 'discarded')`),
  };
}

async function expectExact(size: number): Promise<void> {
  const { table, jobs } = await sides();
  expect(table).toEqual(jobs);
  expect(table.length).toBe(size);
}

describe('PostgreSQL list of cancelled and discarded jobs', () => {
  it('stays exact through cancel, discard, resurrect, delete and prune, and serves lists and counts', async () => {
    const ids = (await store.insert(Array.from({ length: 20 }, (_, i) => newJob(i)))).map((r) => r.job.id);
    await expectExact(0);

    // Cancelled while available, and while running.
    await store.cancel(ids[0]!, at(1), 'stop');
    await store.cancel(ids[1]!, at(1), 'stop');
    const running = await store.claim({ queue: 'even', limit: 4, node: 'node-rare', now: at(1) });
    expect(running.length).toBe(4);
    await store.cancel(running[0]!.id, at(1), 'stop');
    await expectExact(3);

    // Discarded and dead by a failed attempt; completed: only the discarded one is listed.
    await store.fail({ id: running[1]!.id, attempt: 1 }, 'discarded', failure(1), at(2));
    await store.fail({ id: running[2]!.id, attempt: 1 }, 'dead', failure(1), at(2));
    await store.complete({ id: running[3]!.id, attempt: 1 }, null, at(2));
    await expectExact(4);

    const cancelled = [ids[1]!, running[0]!.id, ids[0]!].sort((a, b) => Number(b) - Number(a));
    expect((await store.list({ states: ['cancelled'], limit: 50 })).map((j) => j.id)).toEqual(cancelled);
    expect((await store.list({ states: ['cancelled'], limit: 1, afterId: cancelled[0]! })).map((j) => j.id)).toEqual([cancelled[1]]);
    expect(await store.count({ states: ['cancelled', 'discarded'] })).toBe(4);
    expect(await store.count({ states: ['discarded'], queue: 'odd' })).toBe(0);
    expect(await store.count({ states: ['cancelled'], queue: 'odd' })).toBe(1);

    // Resurrected (both states), cancelled again, deleted.
    expect(await store.resurrect(ids[0]!, at(3))).toMatchObject({ state: 'available' });
    expect(await store.resurrect(running[1]!.id, at(3))).toMatchObject({ state: 'available' });
    await expectExact(2);
    await store.cancel(ids[0]!, at(4), 'again');
    await expectExact(3);
    expect(await store.delete([ids[1]!, ids[5]!])).toBe(2);
    await expectExact(2);

    // Pruned with the other final states; what is newer stays.
    await store.cancel(ids[3]!, at(10), 'late');
    await expectExact(3);
    expect(await store.prune(['completed', 'dead', 'discarded', 'cancelled'], at(5), 100)).toBe(4);
    await expectExact(1);
    expect((await store.list({ states: ['cancelled', 'discarded'], limit: 50 })).map((j) => j.id)).toEqual([ids[3]]);
  });

  it('sweeps a row whose job is no longer cancelled at the next prune', async () => {
    // As a resurrect or delete racing the cancel would leave it: that statement could not see the row.
    const [job] = await store.insert([newJob(100)]);
    await ctx.pool.query(`INSERT INTO ${ctx.table('rare_finished')} (id, queue, state) VALUES ($1, 'even', 'cancelled')`, [job!.job.id]);
    expect(await store.count({ states: ['cancelled'], queue: 'even' })).toBe(0);
    await store.prune(['cancelled'], at(0), 10);
    await expectExact(1);
  });
});
