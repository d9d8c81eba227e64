import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import { runStoreConformance } from '../../lib/store/index.js';

// The same suite on the connection of an app's TypeORM DataSource: the store
// borrows it, so closing the store must leave the DataSource to the test.
runStoreConformance({ describe, it, expect, beforeEach, afterEach }, 'sqlite (TypeORM DataSource)', async (extra = {}) => {
  const dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-ds-'));
  const dataSource = new DataSource({ type: 'better-sqlite3', database: join(dir, 'app.db') });
  await dataSource.initialize();
  const store = new SqliteStore(await openSqlite({ type: 'sqlite', dataSource }), extra);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dataSource.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
