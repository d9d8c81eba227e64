import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { BetterSqlite3DataSourceOptions } from 'typeorm/driver/better-sqlite3/BetterSqlite3DataSourceOptions.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, SchedulerConfigError } from '../../lib/index.js';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteBusyError } from '../../lib/sqlite/sqlite.errors.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import type { NewJob } from '../../lib/store/job.types.js';
import type { SqliteStoreOptions } from '../../lib/store/store-options.js';
import { newJobInput } from '../support/new-job.js';

const BASE = new Date('2026-01-01T00:00:00Z');
const newJob = (overrides: Partial<NewJob> = {}): NewJob => newJobInput(BASE, overrides);
/** Lets every timer and I/O callback due now run: what a waiting write would need to go through, were it not held. */
const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('SQLite store on a TypeORM DataSource', () => {
  let dir: string;
  const sources: DataSource[] = [];
  const stores: SqliteStore[] = [];

  const dataSource = async (options: Partial<BetterSqlite3DataSourceOptions> = {}): Promise<DataSource> => {
    const ds = new DataSource({ type: 'better-sqlite3', database: join(dir, 'app.db'), ...options });
    await ds.initialize();
    sources.push(ds);
    await ds.query('CREATE TABLE IF NOT EXISTS invoices (id INTEGER PRIMARY KEY, title TEXT NOT NULL)');
    return ds;
  };
  const openStore = async (ds: DataSource, options: Partial<SqliteStoreOptions> = {}): Promise<SqliteStore> => {
    const full: SqliteStoreOptions = { type: 'sqlite', dataSource: ds, ...options };
    const store = new SqliteStore(await openSqlite(full), full, { node: 'n1' });
    await store.init();
    stores.push(store);
    return store;
  };
  const invoices = async (ds: DataSource): Promise<string[]> =>
    ((await ds.query('SELECT title FROM invoices ORDER BY id')) as { title: string }[]).map((row) => row.title);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-ds-'));
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const ds of sources.splice(0)) if (ds.isInitialized) await ds.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [
      'a DataSource of another driver',
      () => new DataSource({ type: 'postgres', url: 'postgres://127.0.0.1:1/none' }),
      'needs the "better-sqlite3" driver, not "postgres"',
    ],
    ['one not initialised', () => new DataSource({ type: 'better-sqlite3', database: join(dir, 'never.db') }), 'must be initialized'],
    ['an object that is no DataSource', () => ({ options: {} }), 'must be a TypeORM DataSource'],
    ['null', () => null as unknown as object, 'must be a TypeORM DataSource'],
  ])('refuses %s with a SchedulerConfigError naming store.dataSource', async (_, make, detail) => {
    const error = await openSqlite({ type: 'sqlite', dataSource: make() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect(error).toMatchObject({ option: 'store.dataSource' });
    expect((error as Error).message).toContain(detail);
  });

  it('refuses an in-memory DataSource, and path with dataSource', async () => {
    const memory = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
    await memory.initialize();
    sources.push(memory);
    await expect(openSqlite({ type: 'sqlite', dataSource: memory })).rejects.toThrow(/in-memory database/);
    await expect(openSqlite({ type: 'sqlite', dataSource: memory, path: join(dir, 'x.db') })).rejects.toThrow(/exactly one of "path" or "dataSource"/);
  });

  it('turns WAL on and leaves the pragmas of the connection as the app set them', async () => {
    const ds = await dataSource({ timeout: 1234, prepareDatabase: (db: { pragma(text: string): unknown }) => void db.pragma('synchronous = FULL') });
    const db = (ds.driver as unknown as { databaseConnection: { pragma(text: string, o: { simple: true }): unknown } }).databaseConnection;
    const pragmas = () => ['synchronous', 'busy_timeout', 'foreign_keys'].map((p) => db.pragma(p, { simple: true }));
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(pragmas()).toEqual([2, 1234, 1]); // FULL, the DataSource's timeout, TypeORM's foreign keys
    await openStore(ds, { busyTimeout: 250 });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    await stores[0]!.insert([newJob()]);
    expect(pragmas()).toEqual([2, 1234, 1]);
  });

  it('writes the jobs in the caller transaction: a rollback leaves none, a commit shows them with the caller row', async () => {
    const ds = await dataSource();
    const store = await openStore(ds);
    await expect(
      ds.transaction(async (manager) => {
        await manager.query(`INSERT INTO invoices (title) VALUES ('dropped')`);
        await store.insert([newJob({ name: 'mail' })], { transaction: manager });
        throw new Error('the caller changes its mind');
      }),
    ).rejects.toThrow('changes its mind');
    expect(await store.count({})).toBe(0);
    expect(await invoices(ds)).toEqual([]);

    const job = await ds.transaction(async (manager) => {
      await manager.query(`INSERT INTO invoices (title) VALUES ('kept')`);
      const [result] = await store.insert([newJob({ name: 'mail' }), newJob({ name: 'sms' })], { transaction: manager });
      return result!.job;
    });
    expect(await store.get(job.id)).toEqual(job);
    expect(await store.count({})).toBe(2);
    expect(await invoices(ds)).toEqual(['kept']);
  });

  it('claims a job enqueued in a transaction only after the commit, and nothing after a rollback', async () => {
    const ds = await dataSource();
    const store = await openStore(ds);
    const claim = () => store.claim({ queue: 'default', limit: 10, node: 'n1', now: BASE });
    let claimed: Promise<unknown[]> | undefined;
    let settled = false;
    await ds.transaction(async (manager) => {
      await store.insert([newJob()], { transaction: manager });
      claimed = claim().finally(() => (settled = true));
      await turns();
      expect(settled).toBe(false);
    });
    expect(await claimed).toHaveLength(1);

    await ds
      .transaction(async (manager) => {
        await store.insert([newJob()], { transaction: manager });
        claimed = claim();
        await turns();
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    expect(await claimed).toEqual([]);
    expect(await store.count({ states: ['available'] })).toBe(0);
  });

  it('keeps an ack made while a caller transaction is open out of it: the caller rolls back, the ack stays', async () => {
    const ds = await dataSource();
    const store = await openStore(ds);
    await store.insert([newJob(), newJob()]);
    const [a, b] = await store.claim({ queue: 'default', limit: 2, node: 'n1', now: BASE });
    let acks: Promise<unknown> | undefined;
    await ds
      .transaction(async (manager) => {
        await manager.query(`INSERT INTO invoices (title) VALUES ('dropped')`);
        acks = Promise.all([
          store.complete({ id: a!.id, attempt: a!.attempt }, { ok: true }, BASE),
          store.retry({ id: b!.id, attempt: b!.attempt }, BASE, { attempt: 1, at: BASE, name: 'E', message: 'again', kind: 'error' }),
        ]);
        await turns();
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    await acks;
    expect(await invoices(ds)).toEqual([]);
    expect(await store.get(a!.id)).toMatchObject({ state: 'completed', result: { ok: true } });
    expect(await store.get(b!.id)).toMatchObject({ state: 'available', errors: [{ message: 'again' }] });
  });

  it('fails a write that waits for the transaction it is called from with SqliteBusyError, changing nothing', async () => {
    const ds = await dataSource();
    const store = await openStore(ds, { busyTimeout: 50 });
    const error = await ds
      .transaction(async () => {
        await store.insert([newJob()]);
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqliteBusyError);
    expect(error).toMatchObject({ code: 'SQLITE_BUSY', waited: 50 });
    expect(await store.count({})).toBe(0);
  });

  it('refuses an EntityManager of another DataSource, and any manager with path', async () => {
    const ds = await dataSource();
    const store = await openStore(ds);
    const other = new DataSource({ type: 'better-sqlite3', database: join(dir, 'other.db') });
    await other.initialize();
    sources.push(other);
    await expect(other.transaction((manager) => store.insert([newJob()], { transaction: manager }))).rejects.toBeInstanceOf(InvalidArgumentError);
    const own = new SqliteStore(await openSqlite({ type: 'sqlite', path: join(dir, 'own.db') }));
    stores.push(own);
    await own.init();
    await expect(ds.transaction((manager) => own.insert([newJob()], { transaction: manager }))).rejects.toThrow(
      /needs store: \{ type: "sqlite", dataSource \}/,
    );
    // A manager outside any transaction inserts as usual.
    expect((await store.insert([newJob()], { transaction: ds.manager }))[0]!.inserted).toBe(true);
  });

  it('leaves the DataSource initialised and usable when it closes', async () => {
    const ds = await dataSource({ enableWAL: true });
    const subscribers = ds.subscribers.length;
    const store = await openStore(ds);
    expect(ds.subscribers.length).toBe(subscribers + 1);
    await store.close();
    stores.splice(0);
    expect(ds.isInitialized).toBe(true);
    expect(ds.subscribers.length).toBe(subscribers);
    await ds.query(`INSERT INTO invoices (title) VALUES ('after')`);
    expect(await invoices(ds)).toEqual(['after']);
    // The scheduler's tables stay in the app's file; its node row is gone.
    expect(await ds.query('SELECT count(*) AS n FROM nodes')).toEqual([{ n: 0 }]);
  });
});
