import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchedulerConfigError } from '../../lib/index.js';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';

/** A file the store cannot open or write at start stops bootstrap with an error that names the option and the file. */
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-unwritable-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function start(path: string, before?: (store: SqliteStore) => void): Promise<unknown> {
  let store: SqliteStore | undefined;
  try {
    store = new SqliteStore(await openSqlite({ type: 'sqlite', path }), {}, { node: 'n1' });
    before?.(store);
    await store.init();
    return null;
  } catch (error) {
    return error;
  } finally {
    await store?.close().catch(() => undefined);
  }
}

describe('SqliteStore on a file it cannot write, at start', () => {
  it('a missing directory: SchedulerConfigError naming store.path and the file', async () => {
    const path = join(dir, 'missing', 'jobs.db');
    const error = await start(path);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as Error).message).toContain('store.path');
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('directory must exist');
  });

  it('a file that takes no write (read-only to this process): SchedulerConfigError naming store.path and the file', async () => {
    const path = join(dir, 'jobs.db');
    // query_only stands for a write-protected file, which SQLite opens read-only without a word (root writes anyway).
    const error = await start(path, (store) => store.sqlite.db.pragma('query_only = ON'));
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as Error).message).toContain('store.path');
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('SQLITE_READONLY');
  });
});
