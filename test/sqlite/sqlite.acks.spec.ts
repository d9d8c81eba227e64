import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StaleAttemptError, StoreUnavailableError } from '../../lib/scheduler.errors.js';
import { openSqlite, type SqliteConnection } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import { waitFor } from '../support/wait.js';
import type { Job, NewJob } from '../../lib/store/job.types.js';

const NOW = new Date('2026-12-05T12:00:00Z');
const error = { attempt: 1, at: NOW, name: 'Error', message: 'boom', kind: 'error' };

function newJob(i: number, extra: Partial<NewJob> = {}): NewJob {
  return { name: 'work', queue: 'default', args: { i }, priority: 5, maxAttempts: 3, timeout: null, runAt: NOW, ...extra };
}

let dir: string;
let path: string;
let writes: number;
let store: SqliteStore;

/** The store's connection, its write transactions counted (each is one BEGIN IMMEDIATE … COMMIT). */
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

async function running(count: number, extra: Partial<NewJob> = {}): Promise<Job[]> {
  await store.insert(Array.from({ length: count }, (_, i) => newJob(i, extra)));
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

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-acks-'));
  path = join(dir, 'jobs.db');
  writes = 0;
  store = new SqliteStore(counted(await openSqlite({ type: 'sqlite', path, busyTimeout: 200 })));
  await store.init();
});

/** The disk is full: the file may not grow by a page (what `SQLITE_FULL` is to SQLite, whatever the cause). */
function diskFull(): void {
  const db = store.sqlite.db;
  db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
}

function spaceBack(): void {
  store.sqlite.db.pragma('max_page_count = 1073741823');
}

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SqliteStore acknowledgements: one write transaction a turn', () => {
  it('writes the completions, retries and failures of one turn in one transaction, each settled after the commit', async () => {
    const jobs = await running(6);
    writes = 0;
    const seen: string[][] = [];
    const acks = [
      ...jobs.slice(0, 4).map((job) => store.complete({ id: job.id, attempt: 1 }, { ok: job.id }, NOW)),
      store.retry({ id: jobs[4]!.id, attempt: 1 }, NOW, error),
      store.fail({ id: jobs[5]!.id, attempt: 1 }, 'dead', error, NOW),
    ].map((ack) => ack.then(() => seen.push(committed(jobs.map((j) => j.id)))));
    expect(writes).toBe(0); // queued for the end of the turn
    await Promise.all(acks);
    expect(writes).toBe(1);
    // Every caller saw all six committed when its promise settled.
    expect(seen).toHaveLength(6);
    for (const states of seen) expect(states).toEqual(['completed', 'completed', 'completed', 'completed', 'available', 'dead']);
    expect((await store.get(jobs[0]!.id))?.result).toEqual({ ok: jobs[0]!.id });
  });

  it('fences each ack on its own: a stale one among good ones is rejected alone', async () => {
    const jobs = await running(4);
    writes = 0;
    const outcomes = await Promise.allSettled([
      store.complete({ id: jobs[0]!.id, attempt: 1 }, null, NOW),
      store.complete({ id: jobs[1]!.id, attempt: 2 }, null, NOW), // an attempt it never had
      store.complete({ id: jobs[2]!.id, attempt: 1 }, null, NOW),
      store.complete({ id: jobs[2]!.id, attempt: 1 }, null, NOW), // the same attempt again, in the same turn
      store.retry({ id: jobs[3]!.id, attempt: 7 }, NOW, error),
      store.complete({ id: 'not-an-id', attempt: 1 }, null, NOW),
    ]);
    expect(writes).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected', 'rejected']);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(StaleAttemptError);
    expect(committed(jobs.map((j) => j.id))).toEqual(['completed', 'running', 'completed', 'running']);
  });

  it('writes each completion of a turn with its own attempt, result and time, and counts them', async () => {
    const jobs = await running(5);
    // The last job on its second attempt: retried, then claimed again.
    await store.retry({ id: jobs[4]!.id, attempt: 1 }, NOW, error);
    await store.claim({ queue: 'default', limit: 1, node: 'n1', now: NOW });
    const later = new Date(NOW.getTime() + 1_000);
    writes = 0;
    await Promise.all([
      store.complete({ id: jobs[0]!.id, attempt: 1 }, { a: 1 }, NOW),
      store.complete({ id: jobs[1]!.id, attempt: 1 }, null, NOW),
      store.complete({ id: jobs[2]!.id, attempt: 1 }, 'x', later),
      store.complete({ id: jobs[3]!.id, attempt: 1 }, { a: 1 }, NOW),
      store.complete({ id: jobs[4]!.id, attempt: 2 }, { a: 1 }, NOW),
    ]);
    expect(writes).toBe(1);
    const done = await Promise.all(jobs.map((job) => store.get(job.id)));
    expect(done.map((job) => [job?.state, job?.attempt, job?.result, job?.finishedAt?.getTime()])).toEqual([
      ['completed', 1, { a: 1 }, NOW.getTime()],
      ['completed', 1, null, NOW.getTime()],
      ['completed', 1, 'x', later.getTime()],
      ['completed', 1, { a: 1 }, NOW.getTime()],
      ['completed', 2, { a: 1 }, NOW.getTime()],
    ]);
    expect((await store.queueCounts(NOW)).map(({ queue, completed, running }) => ({ queue, completed, running }))).toEqual([
      { queue: 'default', completed: 5, running: 0 },
    ]);
  });

  it('rolls back only the ack whose statements fail; the others of its transaction commit', async () => {
    const jobs = await running(3);
    const bad = Number(jobs[1]!.id);
    // A real SQL error on one row's update, whichever path (one statement, or the savepoint) writes it.
    store.sqlite.db.exec(`CREATE TRIGGER refuse BEFORE UPDATE OF state ON jobs WHEN NEW.id = ${bad} BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    writes = 0;
    const outcomes = await Promise.allSettled([
      store.complete({ id: jobs[0]!.id, attempt: 1 }, null, NOW),
      store.complete({ id: jobs[1]!.id, attempt: 1 }, null, NOW),
      store.retry({ id: jobs[2]!.id, attempt: 1 }, NOW, error),
    ]);
    expect(writes).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toContain('refused');
    expect(committed(jobs.map((j) => j.id))).toEqual(['completed', 'running', 'available']);
  });

  it('tries a transaction the file is too busy to begin again until it begins: its acks land, none is given up', async () => {
    const jobs = await running(2);
    writes = 0;
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE'); // another process holds the file's write lock past busyTimeout (200 ms)
    let acks: Promise<PromiseSettledResult<void>[]>;
    try {
      acks = Promise.allSettled(jobs.map((job) => store.complete({ id: job.id, attempt: 1 }, null, NOW)));
      // Each try waits busyTimeout for the lock: wait for a few.
      await waitFor(() => writes >= 3, 10_000, 'three tries of the transaction');
      expect(committed(jobs.map((j) => j.id))).toEqual(['running', 'running']);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await acks).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(committed(jobs.map((j) => j.id))).toEqual(['completed', 'completed']);
  });

  it('on close, tries a busy transaction once more, then rejects its acks and leaves their jobs running', async () => {
    const jobs = await running(1);
    writes = 0;
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const ack = store.complete({ id: jobs[0]!.id, attempt: 1 }, null, NOW);
      await waitFor(() => writes >= 1, 10_000, 'a first try');
      await store.close();
      await expect(ack).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_BUSY/) });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(committed([jobs[0]!.id])).toEqual(['running']);
  });

  it('writes the queued acks on close before letting go of the file', async () => {
    const jobs = await running(3);
    const acks = jobs.map((job) => store.complete({ id: job.id, attempt: 1 }, null, NOW, { forget: job === jobs[2] }));
    await store.close(); // in the same turn as the acks
    await expect(Promise.all(acks)).resolves.toBeDefined();
    expect(store.sqlite.open).toBe(false);
    expect(committed(jobs.map((j) => j.id))).toEqual(['completed', 'completed', 'gone']);
  });
});

describe("SqliteStore acknowledgements written in a claim's transaction", () => {
  it('writes the acks still queued first in the claim, each fenced on its own and settled after the commit', async () => {
    const jobs = await running(5);
    await store.insert([newJob(5)]);
    writes = 0;
    const seen: string[][] = [];
    const acks = [
      store.complete({ id: jobs[0]!.id, attempt: 1 }, { ok: 1 }, NOW),
      store.complete({ id: jobs[1]!.id, attempt: 2 }, null, NOW), // an attempt it never had
      store.complete({ id: jobs[2]!.id, attempt: 1 }, null, NOW),
      store.complete({ id: jobs[2]!.id, attempt: 1 }, null, NOW), // the same attempt again
      store.retry({ id: jobs[3]!.id, attempt: 1 }, NOW, error),
      store.fail({ id: jobs[4]!.id, attempt: 7 }, 'dead', error, NOW),
    ].map((ack) => ack.then(() => seen.push(committed([jobs[0]!.id, jobs[3]!.id]))));
    // In the same turn: the claim's transaction carries the six acks, written before it reads the due jobs.
    const claimed = await store.claim({ queue: 'default', limit: 10, node: 'n2', now: NOW });
    const outcomes = await Promise.allSettled(acks);
    expect(writes).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected']);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(StaleAttemptError);
    for (const states of seen) expect(states).toEqual(['completed', 'running']);
    // The retried job was available again by the time the claim read: claimed with the new one, attempt 2.
    expect(claimed.map((job) => [job.id, job.attempt, job.node])).toEqual([
      [jobs[3]!.id, 2, 'n2'],
      [expect.any(String), 1, 'n2'],
    ]);
    expect(committed(jobs.map((j) => j.id))).toEqual(['completed', 'running', 'completed', 'running', 'running']);
    expect((await store.get(jobs[0]!.id))?.result).toEqual({ ok: 1 });
    expect((await store.queueCounts(NOW)).map(({ completed, running: r }) => ({ completed, running: r }))).toEqual([{ completed: 2, running: 4 }]);
  });

  it('rolls back only the ack whose statements fail; the claim and the other acks commit', async () => {
    const jobs = await running(2);
    await store.insert([newJob(2)]);
    const bad = Number(jobs[1]!.id);
    store.sqlite.db.exec(`CREATE TRIGGER refuse BEFORE UPDATE OF state ON jobs WHEN NEW.id = ${bad} BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    writes = 0;
    const acks = Promise.allSettled(jobs.map((job) => store.complete({ id: job.id, attempt: 1 }, null, NOW)));
    const claimed = await store.claim({ queue: 'default', limit: 10, node: 'n1', now: NOW });
    const outcomes = await acks;
    expect(writes).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toContain('refused');
    expect(claimed).toHaveLength(1);
    expect(committed([...jobs.map((j) => j.id), claimed[0]!.id])).toEqual(['completed', 'running', 'running']);
  });

  it('a claim that fails hands its acks back: they land in a transaction of their own', async () => {
    const jobs = await running(2);
    await store.insert([newJob(2)]);
    store.sqlite.db.exec(`CREATE TRIGGER refuse BEFORE UPDATE OF state ON jobs WHEN NEW.state = 'running' BEGIN SELECT RAISE(ABORT, 'no claims'); END`);
    writes = 0;
    const acks = Promise.allSettled(jobs.map((job) => store.complete({ id: job.id, attempt: 1 }, null, NOW)));
    await expect(store.claim({ queue: 'default', limit: 10, node: 'n1', now: NOW })).rejects.toThrow('no claims');
    expect((await acks).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(writes).toBe(2);
    expect(committed(jobs.map((j) => j.id))).toEqual(['completed', 'completed']);
  });

  it('acks the file refuses for now (disk full) go back to their own transaction; the claim goes on', async () => {
    const jobs = await running(2);
    await store.insert([newJob(2)]);
    diskFull();
    try {
      writes = 0;
      const acks = Promise.allSettled([
        store.complete({ id: jobs[0]!.id, attempt: 1 }, { small: true }, NOW),
        store.complete({ id: jobs[1]!.id, attempt: 1 }, { blob: 'x'.repeat(200_000) }, NOW),
      ]);
      const claimed = await store.claim({ queue: 'default', limit: 10, node: 'n1', now: NOW });
      expect(claimed).toHaveLength(1);
      expect(committed([...jobs.map((j) => j.id), claimed[0]!.id])).toEqual(['running', 'running', 'running']);
      await waitFor(() => writes >= 3, 10_000, 'two tries of the acks on their own');
      spaceBack();
      expect((await acks).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(committed(jobs.map((j) => j.id))).toEqual(['completed', 'completed']);
    } finally {
      spaceBack();
    }
  });

  it('close waits for the acks a claim carries and writes those it hands back', async () => {
    const jobs = await running(2);
    store.sqlite.db.exec(`CREATE TRIGGER refuse BEFORE UPDATE OF state ON jobs WHEN NEW.state = 'running' BEGIN SELECT RAISE(ABORT, 'no claims'); END`);
    await store.insert([newJob(2)]);
    const acks = Promise.allSettled(jobs.map((job) => store.complete({ id: job.id, attempt: 1 }, null, NOW)));
    const claim = store.claim({ queue: 'default', limit: 10, node: 'n1', now: NOW });
    await store.close(); // in the same turn: the claim's transaction failed, its acks are handed back as the store closes
    await expect(claim).rejects.toThrow('no claims');
    expect((await acks).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(committed(jobs.map((j) => j.id))).toEqual(['completed', 'completed']);
  });
});

describe('SqliteStore prune: short write transactions', () => {
  it('prunes a large batch in write transactions of at most 1,000 jobs: one holds the file, and the process, while it runs', async () => {
    const jobs = await running(2_500);
    await Promise.all(jobs.map((job) => store.complete({ id: job.id, attempt: 1 }, null, NOW)));
    writes = 0;
    expect(await store.prune(['completed'], new Date(NOW.getTime() + 1), 10_000)).toBe(2_500);
    expect(writes).toBe(3);
    expect(committed(jobs.map((j) => j.id)).filter((s) => s !== 'gone')).toEqual([]);
    writes = 0;
    expect(await store.prune(['completed'], new Date(NOW.getTime() + 1), 10_000)).toBe(0);
    expect(writes).toBe(1);
  });
});

describe('SqliteStore acknowledgements the file refuses for now (a full disk, a file turned read-only)', () => {
  // Given up, each ack would leave its job running with no heartbeat, to be rescued and run a second time.
  afterEach(() => {
    if (store.sqlite.open) spaceBack();
  });

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
