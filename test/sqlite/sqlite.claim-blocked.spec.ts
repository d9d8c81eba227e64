import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import type { SqliteJobTable } from '../../lib/sqlite/sqlite.job-table.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import { newJobInput } from '../../lib/store/conformance/suite.js';

const T = Date.UTC(2026, 0, 1);

/**
 * Due jobs a claim may not take (a paused name or schedule, a serial key
 * with a running job) are passed over in SQL: each one read into
 * JavaScript first cost a claim what a claimed job does, at every claim of
 * their queue (20,000 of a paused name made each claim 130 ms here).
 */
describe('SQLite: a claim behind blocked jobs', () => {
  let dir: string;
  let store: SqliteStore;
  /** Rows the claims' candidate pages handed to JavaScript. */
  let rowsRead = 0;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-blocked-'));
    store = new SqliteStore(await openSqlite({ type: 'sqlite', path: join(dir, 'jobs.db') }));
    await store.init();
    const table = (store as unknown as { table: SqliteJobTable }).table;
    const sql = table.sql.bind(table);
    table.sql = (text: string): BetterSqlite3.Statement => {
      const statement = sql(text);
      if (!text.includes('ORDER BY priority, run_at, id')) return statement;
      // The statement is cached by the table: what the claim gets is a view of it that counts the rows.
      const counted = (raw?: boolean) => {
        const rows = statement.raw(raw);
        const all = (...args: unknown[]): unknown[] => {
          const page = rows.all(...args) as unknown[];
          rowsRead += page.length;
          return page;
        };
        return new Proxy(rows, { get: (target, key) => (key === 'all' ? all : Reflect.get(target, key)) });
      };
      return new Proxy(statement, { get: (target, key) => (key === 'raw' ? counted : Reflect.get(target, key)) });
    };
    rowsRead = 0;
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads none of a paused name’s or schedule’s jobs', async () => {
    await store.insert(Array.from({ length: 300 }, () => newJobInput(new Date(T), { name: 'paused' })));
    await store.insert(Array.from({ length: 300 }, () => newJobInput(new Date(T), { name: 'scheduled', schedule: 'nightly' })));
    await store.insert(Array.from({ length: 5 }, () => newJobInput(new Date(T), { name: 'free' })));
    await store.setScheduleState('paused', { paused: true });
    await store.setScheduleState('nightly', { paused: true });
    rowsRead = 0;
    const jobs = await store.claim({ queue: 'default', limit: 5, node: 'n', now: new Date(T) });
    expect(jobs.map((j) => j.name)).toEqual(['free', 'free', 'free', 'free', 'free']);
    expect(rowsRead).toBe(5);
  });

  it('reads no job of a serial key whose job runs', async () => {
    await store.insert([newJobInput(new Date(T), { name: 'serial', serialKey: 'k' })]);
    expect(await store.claim({ queue: 'default', limit: 1, node: 'n', now: new Date(T) })).toHaveLength(1);
    await store.insert([newJobInput(new Date(T), { name: 'serial', serialKey: 'k' })]);
    await store.insert(Array.from({ length: 3 }, () => newJobInput(new Date(T), { name: 'free' })));
    rowsRead = 0;
    const jobs = await store.claim({ queue: 'default', limit: 5, node: 'n', now: new Date(T) });
    expect(jobs.map((j) => j.name)).toEqual(['free', 'free', 'free']);
    expect(rowsRead).toBe(3);
  });
});
