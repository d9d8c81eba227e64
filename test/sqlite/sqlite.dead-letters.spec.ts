import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';

const NOW = new Date('2026-12-06T12:00:00Z');

let dir: string;
let store: SqliteStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-dead-'));
  store = new SqliteStore(await openSqlite({ type: 'sqlite', path: join(dir, 'jobs.db') }));
  await store.init();
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** `n` dead letters, one a second from `NOW` on (rescued on their only attempt). */
async function deadLetters(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(NOW.getTime() + i * 1000);
    await store.insert([{ name: 'work', queue: 'default', args: {}, priority: 0, maxAttempts: 1, timeout: null, runAt: at }]);
    const [job] = await store.claim({ queue: 'default', limit: 1, node: 'n', now: at });
    await store.fail({ id: job!.id, attempt: 1 }, 'dead', { attempt: 1, at, name: 'Error', message: 'spent', kind: 'error' }, at);
    ids.push(job!.id);
  }
  return ids;
}

it('prunes dead letters a slice of 1,000 a write transaction, oldest first, sparing the `keep` newest', async () => {
  const ids = await deadLetters(2_500);
  const write = vi.spyOn(store.sqlite, 'write');
  expect(await store.pruneDead({ before: null, keep: 100, limit: 10_000 })).toBe(2_400);
  // Three transactions (1,000, 1,000, 400), the event loop let in between: not one holding the file for all.
  expect(write).toHaveBeenCalledTimes(3);
  const left = await store.listDead({}, 1_000, 0);
  expect(left.map((job) => job.id).sort()).toEqual(ids.slice(2_400).sort());
});

it('a prune bounded by age and by `keep` deletes only what both allow', async () => {
  const ids = await deadLetters(10);
  // Died before NOW + 6 s: the first six; the 7 newest are kept: only the first three go.
  expect(await store.pruneDead({ before: new Date(NOW.getTime() + 6_000), keep: 7, limit: 100 })).toBe(3);
  expect((await store.listDead({}, 100, 0)).map((job) => job.id).sort()).toEqual(ids.slice(3).sort());
  expect(await store.pruneDead({ before: null, keep: 20, limit: 100 })).toBe(0);
});
