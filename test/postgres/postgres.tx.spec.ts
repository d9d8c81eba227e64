import { Outage } from '../support/postgres/outage.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPostgres, channelName } from '../../lib/postgres/postgres.connection.js';
import { StoreUnavailableError } from '../../lib/postgres/postgres.errors.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { parseNotification } from '../../lib/notifier/notification.parse.js';
import { InvalidArgumentError, PayloadTooLargeError, StaleAttemptError } from '../../lib/scheduler.errors.js';
import type { NewJob } from '../../lib/store/job.types.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { newJobInput } from '../support/new-job.js';
import { createTestSchema, withClient } from '../support/postgres.js';

const BASE = new Date('2026-01-01T00:00:00Z');
const newJob = (overrides: Partial<NewJob> = {}): NewJob => newJobInput(BASE, overrides);
const claimAll = (store: PostgresStore, limit = 100) => store.claim({ queue: 'default', limit, node: 'n', now: BASE });

let schema: Awaited<ReturnType<typeof createTestSchema>>;
beforeAll(async () => {
  schema = await createTestSchema('tx');
});
afterAll(async () => {
  await schema.drop();
});

/** A url to the test database with extra query parameters (or another host and port). */
function urlWith(params: Record<string, string>, hostPort?: string): string {
  const url = new URL(schema.url);
  if (hostPort) url.host = hostPort;
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

async function openStore(options: Partial<PostgresStoreOptions> = {}, wrapPool?: (pool: pg.Pool) => pg.Pool): Promise<PostgresStore> {
  const full = { type: 'postgres', url: schema.url, schema: schema.schema, poolSize: 3, ...options } as PostgresStoreOptions;
  const ctx = await openPostgres(full, 'node-test');
  const store = new PostgresStore(wrapPool ? { ...ctx, pool: wrapPool(ctx.pool) } : ctx, full);
  await store.init();
  return store;
}

describe('transactional insert through a TypeORM EntityManager', () => {
  it('rolls back with the caller and commits with it, notifying only on commit', async () => {
    const prefix = `tx${randomBytes(3).toString('hex')}_`;
    const ds = new DataSource({ type: 'postgres', url: schema.url });
    await ds.initialize();
    const store = await openStore({ url: undefined, dataSource: ds, tablePrefix: prefix });
    const listener = new pg.Client({ connectionString: schema.url });
    await listener.connect();
    const heard: unknown[] = [];
    listener.on('notification', (n) => heard.push(parseNotification(n.payload)));
    await listener.query(`LISTEN "${channelName(schema.schema, prefix)}"`);
    try {
      await expect(
        ds.transaction(async (manager) => {
          await store.insert([newJob({ queue: 'mail' })], { transaction: manager });
          throw new Error('the caller changes its mind');
        }),
      ).rejects.toThrow('changes its mind');
      expect(await store.count({})).toBe(0);

      const inserted = await ds.transaction(async (manager) => {
        const [result] = await store.insert([newJob({ queue: 'mail' }), newJob({ queue: 'mail' }), newJob({ queue: 'sms' })], {
          transaction: manager,
        });
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(heard).toEqual([]);
        return result!.job;
      });
      expect(await store.get(inserted.id)).toEqual(inserted);
      await vi.waitFor(() => expect(heard).toHaveLength(2));
      expect(heard).toEqual(
        expect.arrayContaining([
          { type: 'insert', queue: 'mail', first: { priority: inserted.priority, runAt: inserted.runAt.getTime(), id: inserted.id } },
          expect.objectContaining({ type: 'insert', queue: 'sms' }),
        ]),
      );

      await store.close();
      // The app's DataSource stays open.
      expect(await ds.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await listener.end();
      await ds.destroy();
    }
  });
});

describe('fencing and limits', () => {
  it('a stale ack after a rescue changes nothing', async () => {
    const store = await openStore({ tablePrefix: 'stale_' });
    const job = (await store.insert([newJob()]))[0]!.job;
    const [first] = await claimAll(store);
    await store.rescue(new Date(BASE.getTime() + 60_000), new Date(BASE.getTime() + 60_000));
    const [second] = await store.claim({ queue: 'default', limit: 1, node: 'other', now: new Date(BASE.getTime() + 60_000) });
    expect(second).toMatchObject({ id: job.id, attempt: 2, node: 'other' });
    const before = await store.get(job.id);
    await expect(store.complete({ id: job.id, attempt: first!.attempt }, { late: true }, BASE)).rejects.toBeInstanceOf(StaleAttemptError);
    await expect(
      store.fail({ id: job.id, attempt: first!.attempt }, 'dead', { attempt: 1, at: BASE, name: 'E', message: 'late', kind: 'error' }, BASE),
    ).rejects.toBeInstanceOf(StaleAttemptError);
    expect(await store.get(job.id)).toEqual(before);
    await store.close();
  });

  it('rejects args over maxPayloadBytes (or holding U+0000) before any SQL, inserting nothing of the batch', async () => {
    const store = await openStore({ tablePrefix: 'payload_', maxPayloadBytes: 100 });
    const small = newJob({ args: { s: 'x'.repeat(50) } });
    const large = newJob({ args: { s: 'x'.repeat(200) } });
    const rejection = store.insert([small, large]);
    await expect(rejection).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(rejection).rejects.toMatchObject({ limit: 100 });
    expect(await store.count({})).toBe(0);
    expect((await store.insert([small]))[0]!.inserted).toBe(true);
    // Jobs that share their fields and jobs that do not are both checked one by one.
    await expect(store.insert([small, { ...large, name: 'other' }])).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(store.insert([small, newJob({ meta: { s: 'a\u0000' } })])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.insert([newJob({ meta: { s: 'a\u0000' } })])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.insert([small, newJob({ uniqueKey: 'a\u0000' })])).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await store.count({})).toBe(1);
    // jsonb cannot hold U+0000: a typed error before SQL, not a failed batch.
    await expect(store.insert([newJob({ args: { s: 'a\u0000b' } })])).rejects.toBeInstanceOf(InvalidArgumentError);
    const backslash = (await store.insert([newJob({ args: { s: '\\u0000' } })]))[0]!.job;
    expect((await store.get(backslash.id))!.args).toEqual({ s: '\\u0000' });
    await store.close();
  });

  it('never starts two jobs with one serial key, even when two queues claim at the same instant', async () => {
    const store = await openStore({ tablePrefix: 'serial_' });
    for (let round = 0; round < 10; round++) {
      const key = `account-${round}`;
      const a = (await store.insert([newJob({ queue: 'q1', serialKey: key })]))[0]!.job;
      const [claimed] = await store.claim({ queue: 'q1', limit: 1, node: 'n', now: BASE });
      await store.insert([newJob({ queue: 'q2', serialKey: key })]);
      // Back to available beside the other: two queues now hold a runnable job with the key.
      await store.retry({ id: a.id, attempt: claimed!.attempt }, BASE, { attempt: 1, at: BASE, name: 'E', message: 'x', kind: 'error' });
      const [one, two] = await Promise.all(['q1', 'q2'].map((queue) => store.claim({ queue, limit: 1, node: queue, now: BASE })));
      expect(one!.length + two!.length).toBe(1);
    }
    await store.close();
  });

  it('writes every complete of one tick in one statement, answering each caller', async () => {
    let completes = 0;
    const store = await openStore(
      { tablePrefix: 'batch_' },
      (pool) =>
        new Proxy(pool, {
          get(target, key) {
            if (key === 'query') {
              return (config: { name?: string }, ...rest: unknown[]) => {
                if (config?.name?.endsWith('_complete')) completes++;
                return (target.query as (...a: unknown[]) => unknown)(config, ...rest);
              };
            }
            const value = Reflect.get(target, key);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
    );
    await store.insert(Array.from({ length: 50 }, (_, i) => newJob({ args: { i } })));
    const running = await claimAll(store);
    expect(running).toHaveLength(50);
    const first = running[0]!;
    const outcomes = await Promise.allSettled([
      ...running.map((job) => store.complete({ id: job.id, attempt: job.attempt }, { i: job.args }, BASE)),
      store.complete({ id: first.id, attempt: first.attempt }, 'twice', BASE),
    ]);
    expect(outcomes.slice(0, 50).every((o) => o.status === 'fulfilled')).toBe(true);
    expect(outcomes[50]).toMatchObject({ status: 'rejected', reason: expect.any(StaleAttemptError) });
    expect(completes).toBe(2); // the batch, then the duplicate on its own
    expect(await store.count({ states: ['completed'] })).toBe(50);
    await store.close();
  });
});

describe('database outages', () => {
  it('starts against an unreachable server, reports not ready and rejects calls', async () => {
    const store = await openStore({ url: 'postgres://postgres@127.0.0.1:1/none' });
    expect(store.ready).toBe(false);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.insert([newJob()])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(claimAll(store)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.complete({ id: '1', attempt: 1 }, null, BASE)).rejects.toBeInstanceOf(StoreUnavailableError);
    await store.close();

    const strict = new PostgresStore(await openPostgres({ type: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' }, 'n'), {
      type: 'postgres',
      url: 'postgres://postgres@127.0.0.1:1/none',
      waitForDatabase: false,
    });
    await expect(strict.init()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await strict.close();
  });

  it('fails to start with a typed error naming store.url when the server refuses the login itself (no such role, no such database): waiting would not fix it', async () => {
    const database = new URL(schema.url);
    database.pathname = `/no_such_db_${randomBytes(4).toString('hex')}`;
    const role = new URL(schema.url);
    role.username = `no_such_role_${randomBytes(4).toString('hex')}`;
    for (const [url, code] of [
      [database.toString(), '3D000'],
      [role.toString(), '28000'],
    ] as const) {
      const options = { type: 'postgres', url, schema: schema.schema } as PostgresStoreOptions;
      const store = new PostgresStore(await openPostgres(options, 'n'), options);
      await expect(store.init()).rejects.toMatchObject({ name: 'SchedulerConfigError', option: 'store.url', code });
      await store.close();
    }
  });

  it('becomes ready by itself once the database is reachable', async () => {
    const outage = new Outage(schema.url);
    const port = await outage.reservePort();
    const store = await openStore({ url: urlWith({}, `127.0.0.1:${port}`), tablePrefix: 'late_' });
    expect(store.ready).toBe(false);
    await outage.up();
    await vi.waitFor(() => expect(store.ready).toBe(true), { timeout: 5_000, interval: 50 });
    expect((await store.insert([newJob()]))[0]!.inserted).toBe(true);
    await store.close();
    await outage.down();
  });

  it('an ack survives pg_terminate_backend of every pooled connection between claim and complete', async () => {
    const app = `acks_${randomBytes(4).toString('hex')}`;
    const store = await openStore({ url: urlWith({ application_name: app }), tablePrefix: 'term_' });
    await store.insert([newJob(), newJob()]);
    const [a, b] = await claimAll(store);
    const terminated = await withClient(
      schema.url,
      async (c) => (await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app])).rowCount,
    );
    expect(terminated).toBeGreaterThan(0);
    await store.complete({ id: a!.id, attempt: a!.attempt }, { ok: 1 }, BASE);
    await store.retry({ id: b!.id, attempt: b!.attempt }, BASE, { attempt: 1, at: BASE, name: 'E', message: 'again', kind: 'error' });
    expect(await store.get(a!.id)).toMatchObject({ state: 'completed', result: { ok: 1 } });
    expect(await store.get(b!.id)).toMatchObject({ state: 'available', errors: [{ message: 'again' }] });
    // The heartbeat connection is reopened after it is killed too.
    const [c] = await claimAll(store);
    expect(await store.heartbeat([{ id: c!.id, attempt: c!.attempt }], BASE)).toEqual([]);
    await withClient(schema.url, (client) => client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app]));
    expect(
      await store.heartbeat(
        [
          { id: c!.id, attempt: c!.attempt },
          { id: c!.id, attempt: 9 },
        ],
        BASE,
      ),
    ).toEqual([{ id: c!.id, attempt: 9 }]);
    await store.close();
  });

  it('an ack made while the database is down waits and lands when it is back', async () => {
    const outage = new Outage(schema.url);
    const port = await outage.reservePort();
    await outage.up();
    const store = await openStore({ url: urlWith({}, `127.0.0.1:${port}`), tablePrefix: 'down_' });
    await store.insert([newJob()]);
    const [job] = await claimAll(store);
    await outage.down();

    let settled = false;
    const ack = store.complete({ id: job!.id, attempt: job!.attempt }, 'done', BASE).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(settled).toBe(false);
    await outage.up();
    await ack;
    expect(await store.get(job!.id)).toMatchObject({ state: 'completed', result: 'done' });
    await store.close();
    await outage.down();
  });
});
