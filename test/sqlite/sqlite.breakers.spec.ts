import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, it } from 'vitest';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import { OLD_BREAKER, readsAsVersionZero } from '../support/breakers.js';

const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const drop of drops.splice(0)) await drop();
});

it('SQLite: a breaker stored before versions reads as version 0, and its next change raises it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-breakers-'));
  const store = new SqliteStore(await openSqlite({ type: 'sqlite', path: join(dir, 'jobs.db') }));
  drops.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  await store.init();
  store.sqlite.db.prepare('INSERT INTO breakers (name, record) VALUES (?, ?)').run('api', OLD_BREAKER);
  await readsAsVersionZero(store.breakers);
});
