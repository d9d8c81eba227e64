import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../lib/scheduler.errors.js';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteBusyError } from '../../lib/sqlite/sqlite.errors.js';
import { LockTaken, SqliteLockWait } from '../../lib/sqlite/sqlite.lock-wait.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import type { NewJob } from '../../lib/store/job.types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NOW = new Date('2026-12-05T12:00:00Z');
const HOLD_MS = 1_500;

function newJob(i: number): NewJob {
  return { name: 'work', queue: 'default', args: { i }, priority: 5, maxAttempts: 3, timeout: null, runAt: NOW };
}

/**
 * Another process that takes the file's write lock (`BEGIN IMMEDIATE`, one
 * row written) and holds it `ms` of wall time, its own event loop busy,
 * then rolls back. Resolves once it holds the lock; `released` once it exited.
 */
async function holdLock(path: string, ms: number): Promise<{ released: Promise<void> }> {
  const script = `
    const db = new (require('better-sqlite3'))(process.argv[1], { timeout: 10000 });
    db.exec('BEGIN IMMEDIATE');
    db.prepare("UPDATE jobs SET state = 'completed'").run();
    process.stdout.write('holding\\n');
    const until = Date.now() + Number(process.argv[2]);
    while (Date.now() < until);
    db.exec('ROLLBACK');
    db.close();`;
  const child = spawn(process.execPath, ['-e', script, path, String(ms)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const released = new Promise<void>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the holder exited with ${code}: ${err}`)))),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('holding') && resolve());
    released.catch(reject);
  });
  return { released };
}

/** Ticks every 10 ms until stopped; `stop` gives the longest gap seen between two ticks, in ms. */
function ticking(): { stop(): number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

/** What is committed in the file, read through a connection of its own. */
function committed(path: string): { id: number; state: string }[] {
  const other = new Database(path, { readonly: true });
  try {
    return other.prepare('SELECT id, state FROM jobs ORDER BY id').all() as { id: number; state: string }[];
  } finally {
    other.close();
  }
}

describe('SqliteStore on its own file while another process holds the write lock', () => {
  let dir: string;
  let path: string;
  let store: SqliteStore;

  async function open(busyTimeout: number): Promise<void> {
    store = new SqliteStore(await openSqlite({ type: 'sqlite', path, busyTimeout }));
    await store.init();
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-lock-'));
    path = join(dir, 'jobs.db');
  });
  afterEach(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('waits for the lock without blocking the event loop, then writes, in the order asked', async () => {
    await open(5_000);
    await store.insert([newJob(0)]);
    const [running] = await store.claim({ queue: 'default', limit: 1, node: 'n1', now: NOW });
    await store.insert([newJob(1)]);
    const { released } = await holdLock(path, HOLD_MS);
    const ticks = ticking();
    const asked = performance.now();
    const writes = Promise.all([
      store.insert([newJob(2)]),
      store.complete({ id: running!.id, attempt: 1 }, 'done', NOW),
      store.claim({ queue: 'default', limit: 1, node: 'n1', now: NOW }),
      store.insert([newJob(3)]),
    ]);
    const [, , claimed] = await writes;
    const waited = performance.now() - asked;
    const longest = ticks.stop();
    await released;

    // Not a speed figure: a blocked loop would show one gap as long as the hold (1.5 s).
    expect(longest).toBeLessThan(HOLD_MS / 3);
    expect(waited).toBeGreaterThan(HOLD_MS / 2); // they did wait for the holder
    expect(claimed.map((j) => j.args)).toEqual([{ i: 1 }]);
    // In the order asked: job 2 inserted before job 3, the claim took the oldest due job (1), the ack landed.
    expect(committed(path)).toEqual([
      { id: 1, state: 'completed' },
      { id: 2, state: 'running' },
      { id: 3, state: 'available' },
      { id: 4, state: 'available' },
    ]);
  }, 20_000);

  it('past busyTimeout, fails each write with SqliteBusyError (a StoreUnavailableError naming store.busyTimeout), having written nothing', async () => {
    await open(300);
    await store.insert([newJob(0)]);
    const [running] = await store.claim({ queue: 'default', limit: 1, node: 'n1', now: NOW });
    const before = committed(path);
    const { released } = await holdLock(path, HOLD_MS);
    const ticks = ticking();
    const outcomes = await Promise.allSettled([
      store.insert([newJob(1)]),
      store.claim({ queue: 'default', limit: 1, node: 'n1', now: NOW }),
      store.heartbeat([{ id: running!.id, attempt: 1 }], NOW),
      store.rescue(NOW, NOW),
      store.prune(['completed'], NOW, 10),
      store.setQueueState('default', { paused: true }),
    ]);
    const longest = ticks.stop();
    expect(longest).toBeLessThan(HOLD_MS / 3);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as SqliteBusyError;
      expect(error).toBeInstanceOf(SqliteBusyError);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ code: 'SQLITE_BUSY', waited: 300 });
      expect(error.message).toMatch(/another process held the write lock of .*jobs\.db for 300 ms \(store\.busyTimeout; SQLITE_BUSY: database is locked\)/);
      expect((error.cause as { code?: string }).code).toBe('SQLITE_BUSY');
    }
    await released;
    expect(committed(path)).toEqual(before);
    // The file free again, the same writes go through.
    await expect(store.insert([newJob(1)])).resolves.toHaveLength(1);
    await expect(store.heartbeat([{ id: running!.id, attempt: 1 }], NOW)).resolves.toEqual([]);
  }, 20_000);
});

describe('SqliteLockWait', () => {
  const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
  const timedOut = (waited: number, error: unknown) => new SqliteBusyError(waited, { path: 'x.db', cause: error });

  it('runs a write whose lock is free in the call, and queues later writes behind one that waits, in their order', async () => {
    const wait = new SqliteLockWait(1_000, timedOut);
    const done: string[] = [];
    let refusals = 3;
    const first = wait.write(() => (refusals-- > 0 ? new LockTaken(busy) : done.push('first')));
    // Free now, but asked after a write that waits: goes after it.
    const second = wait.write(() => done.push('second'));
    expect(done).toEqual([]);
    await Promise.all([first, second]);
    expect(done).toEqual(['first', 'second']);
    // Nobody waits any more: a write runs in the call.
    void wait.write(() => done.push('third'));
    expect(done).toEqual(['first', 'second', 'third']);
  });

  it('gives up after its timeout with the error it is given, and the next write goes', async () => {
    const wait = new SqliteLockWait(100, timedOut);
    const started = performance.now();
    const error = await wait.write(() => new LockTaken(busy)).catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(99);
    expect(error).toBeInstanceOf(SqliteBusyError);
    expect(error).toMatchObject({ waited: 100, cause: busy });
    await expect(wait.write(() => 'next')).resolves.toBe('next');
  });

  it('tries a read SQLite refuses for a moment (the log being recovered) again, without blocking the event loop', async () => {
    const wait = new SqliteLockWait(1_000, timedOut);
    const recovery = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY_RECOVERY' });
    const until = performance.now() + 200;
    let tries = 0;
    const ticks = ticking();
    const read = await wait.read(() => {
      tries++;
      if (performance.now() < until) throw recovery;
      return 42;
    });
    expect(ticks.stop()).toBeLessThan(100);
    expect(read).toBe(42);
    expect(tries).toBeGreaterThan(2);
    // Any other error at once, as it is.
    await expect(wait.read(() => JSON.parse('{'))).rejects.toBeInstanceOf(SyntaxError);
  });
});
