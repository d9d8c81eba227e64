import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MissingPackageError, SchedulerConfigError } from '../../lib/index.js';
import { SQLITE_MIGRATIONS } from '../../lib/sqlite/migrations/index.js';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { LOCK_TRY_MS } from '../../lib/sqlite/sqlite.lock-wait.js';
import { migrateSqlite } from '../../lib/sqlite/sqlite.migrator.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openSqlite', () => {
  it('names the package to install when better-sqlite3 is missing', async () => {
    const missing = Object.assign(new Error("Cannot find package 'better-sqlite3' imported from lib"), { code: 'ERR_MODULE_NOT_FOUND' });
    const error = await openSqlite({ type: 'sqlite', path: join(dir, 'a.db') }, () => Promise.reject(missing)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPackageError);
    expect(error).toMatchObject({ packageName: 'better-sqlite3' });
    expect((error as Error).message).toContain('npm install better-sqlite3');
  });

  it.each([
    [{ path: '' }, 'store.path'],
    [{ path: ':memory:' }, 'store.path'],
    [{ path: 'x.db', busyTimeout: 0 }, 'store.busyTimeout'],
    [{ path: 'x.db', notifyInterval: 1.5 }, 'store.notifyInterval'],
  ])('refuses %j naming the option', async (options, option) => {
    const error = await openSqlite({ type: 'sqlite', ...options }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as Error).message).toContain(option);
  });

  it('opens the file in WAL mode with synchronous=NORMAL and a busy timeout of a few ms (the store waits for the lock between tries)', async () => {
    const sqlite = await openSqlite({ type: 'sqlite', path: join(dir, 'a.db'), busyTimeout: 1234 });
    try {
      expect(sqlite.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(sqlite.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(sqlite.db.pragma('busy_timeout', { simple: true })).toBe(LOCK_TRY_MS);
    } finally {
      sqlite.close();
    }
  });

  it('rolls back the whole write when its body throws', async () => {
    const sqlite = await openSqlite({ type: 'sqlite', path: join(dir, 'a.db') });
    try {
      sqlite.db.exec('CREATE TABLE t (x INTEGER)');
      await expect(
        sqlite.write(() => {
          sqlite.db.prepare('INSERT INTO t VALUES (1)').run();
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(sqlite.db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
    } finally {
      sqlite.close();
    }
  });
});

describe('migrateSqlite', () => {
  it('applies every shipped migration once and records the version', async () => {
    const path = join(dir, 'a.db');
    const first = await openSqlite({ type: 'sqlite', path });
    expect(await migrateSqlite(first)).toEqual(SQLITE_MIGRATIONS.map((m) => m.id));
    first.close();
    const again = await openSqlite({ type: 'sqlite', path });
    try {
      expect(await migrateSqlite(again)).toEqual([]);
      expect(again.db.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.at(-1)!.id);
    } finally {
      again.close();
    }
  });

  it('refuses a file migrated by a newer release', async () => {
    const sqlite = await openSqlite({ type: 'sqlite', path: join(dir, 'a.db') });
    try {
      sqlite.db.pragma('user_version = 999');
      await expect(migrateSqlite(sqlite)).rejects.toThrow(/schema version 999 \(PRAGMA user_version\), newer than this release knows/);
    } finally {
      sqlite.close();
    }
  });

  it('refuses a file whose tables take the names of its own, changing nothing', async () => {
    const sqlite = await openSqlite({ type: 'sqlite', path: join(dir, 'a.db') });
    try {
      sqlite.db.exec('CREATE TABLE jobs (id INTEGER PRIMARY KEY, title TEXT)');
      await expect(migrateSqlite(sqlite)).rejects.toThrow(/already has table\(s\) named jobs/);
      expect(sqlite.db.pragma('user_version', { simple: true })).toBe(0);
      expect(sqlite.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all()).toEqual([{ name: 'jobs' }]);
    } finally {
      sqlite.close();
    }
  });
});
