import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import { runStoreConformance } from '../../lib/store/index.js';

// A fresh file per test, in a private directory removed afterwards.
runStoreConformance({ describe, it, expect, beforeEach, afterEach }, 'sqlite', async (extra = {}) => {
  const dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-'));
  const store = new SqliteStore(await openSqlite({ type: 'sqlite', path: join(dir, 'jobs.db') }), extra);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
