import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite, type SqliteConnection } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import { StoreUnavailableError } from '../../lib/scheduler.errors.js';
import { waitFor } from '../support/wait.js';
import type { Job, NewJob } from '../../lib/store/job.types.js';

/**
 * Acknowledgements the file refuses for now (a full disk, a file turned
 * read-only): given up, each would leave its job running with no heartbeat,
 * to be rescued and run a second time once the file takes writes again.
 */
const NOW = new Date('2026-12-05T12:00:00Z');
const error = { attempt: 1, at: NOW, name: 'Error', message: 'boom', kind: 'error' };

let dir: string;
let path: string;
let writes: number;
let store: SqliteStore;

function newJob(i: number): NewJob {
  return { name: 'work', queue: 'default', args: { i }, priority: 5, maxAttempts: 3, timeout: null, runAt: NOW };
}

/** The store's connection, its write transactions counted. */
function counted(sqlite: SqliteConnection): SqliteConnection {
  return Object.create(sqlite, {
    write: {
      value: <T>(body: () => T): Promise<T> => {
        writes++;
        return sqlite.write(body);
      },
    },
  }) as SqliteConnection;
}

async function running(count: number): Promise<Job[]> {
  await store.insert(Array.from({ length: count }, (_, i) => newJob(i)));
  return store.claim({ queue: 'default', limit: count, node: 'n1', now: NOW });
}

/** The jobs' states read through a second connection: only what is committed. */
function committed(ids: readonly string[]): string[] {
  const other = new Database(path, { readonly: true });
  try {
    const state = other.prepare('SELECT state FROM jobs WHERE id = ?');
    return ids.map((id) => (state.get(Number(id)) as { state: string } | undefined)?.state ?? 'gone');
  } finally {
    other.close();
  }
}

/** The disk is full: the file may not grow by a page (what `SQLITE_FULL` is to SQLite, whatever the cause). */
function diskFull(): void {
  const db = store.sqlite.db;
  db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
}

function spaceBack(): void {
  store.sqlite.db.pragma('max_page_count = 1073741823');
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-refused-'));
  path = join(dir, 'jobs.db');
  writes = 0;
  store = new SqliteStore(counted(await openSqlite({ type: 'sqlite', path, busyTimeout: 200 })));
  await store.init();
});

afterEach(async () => {
  if (store.sqlite.open) spaceBack();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SqliteStore acknowledgements the file refuses for now', () => {
  it('disk full: a completion whose result needs a new page waits, with the small ones of its transaction, until space comes back', async () => {
    const jobs = await running(3);
    diskFull();
    writes = 0;
    const acks = Promise.allSettled([
      store.complete({ id: jobs[0]!.id, attempt: 1 }, { small: true }, NOW),
      store.complete({ id: jobs[1]!.id, attempt: 1 }, { blob: 'x'.repeat(200_000) }, NOW),
      store.retry({ id: jobs[2]!.id, attempt: 1 }, NOW, error),
    ]);
    await waitFor(() => writes >= 3, 10_000, 'three tries of the transaction');
    expect(committed(jobs.map((j) => j.id))).toEqual(['running', 'running', 'running']);
    spaceBack();
    expect((await acks).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(committed(jobs.map((j) => j.id))).toEqual(['completed', 'completed', 'available']);
    expect((await store.get(jobs[1]!.id))?.result).toEqual({ blob: 'x'.repeat(200_000) });
  });

  it('read-only file: the acks wait until it takes writes again, then land once', async () => {
    const jobs = await running(2);
    store.sqlite.db.pragma('query_only = ON');
    writes = 0;
    const acks = Promise.allSettled(jobs.map((job) => store.complete({ id: job.id, attempt: 1 }, null, NOW)));
    await waitFor(() => writes >= 3, 10_000, 'three tries of the transaction');
    expect(committed(jobs.map((j) => j.id))).toEqual(['running', 'running']);
    store.sqlite.db.pragma('query_only = OFF');
    expect((await acks).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(committed(jobs.map((j) => j.id))).toEqual(['completed', 'completed']);
  });

  it('on close, tries a refused transaction once more, then rejects its acks with the error and leaves their jobs running', async () => {
    const jobs = await running(1);
    store.sqlite.db.pragma('query_only = ON');
    writes = 0;
    const ack = store.complete({ id: jobs[0]!.id, attempt: 1 }, null, NOW);
    await waitFor(() => writes >= 1, 10_000, 'a first try');
    await store.close();
    await expect(ack).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_READONLY/) });
    expect(committed([jobs[0]!.id])).toEqual(['running']);
  });

  it('an enqueue the file refuses (full, read-only) rejects with StoreUnavailableError, the SQLite error its cause, and inserts nothing', async () => {
    await store.insert([newJob(0)]);
    const count = () => store.count({});
    for (const [refuse, code] of [
      [() => diskFull(), /^SQLITE_FULL$/],
      [() => store.sqlite.db.pragma('query_only = ON'), /^SQLITE_READONLY/],
    ] as const) {
      refuse();
      const failed = await store.insert(Array.from({ length: 50 }, (_, i) => ({ ...newJob(i), args: { blob: 'x'.repeat(20_000) } }))).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(StoreUnavailableError);
      expect((failed as Error).message).toMatch(/SQLite refused the write .*nothing was written/);
      expect(((failed as Error).cause as { code: string }).code).toMatch(code);
      store.sqlite.db.pragma('query_only = OFF');
      spaceBack();
      expect(await count()).toBe(1);
    }
  });
});
