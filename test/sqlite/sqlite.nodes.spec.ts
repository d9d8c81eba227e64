import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import { newJobInput } from '../../lib/store/index.js';

/** A process id that does not exist here (above the kernel's pid_max). */
const DEAD_PID = 2 ** 22 + 7;
const NOW = new Date('2026-01-01T00:00:00Z');

describe('SQLite: the rescue at start', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-nodes-'));
    path = join(dir, 'jobs.db');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A store that ran `node`'s jobs, recorded as a process of `host` with `pid`; leaves one job running under it. */
  async function leaveRunning(node: string, host: string, pid: number): Promise<string> {
    const store = new SqliteStore(await openSqlite({ type: 'sqlite', path }));
    await store.init();
    const [inserted] = await store.insert([newJobInput(NOW, { name: `job-of-${node}` })]);
    const job = inserted!.job;
    await store.claim({ queue: 'default', limit: 1, node, now: NOW, ids: [job.id] });
    store.sqlite.db.prepare('INSERT INTO nodes (node, host, pid, started_at) VALUES (?, ?, ?, 0)').run(node, host, pid);
    await store.close();
    return job.id;
  }

  it('rescues the running jobs of a dead process of this host at once, and leaves those of live ones and other hosts', async () => {
    const dead = await leaveRunning('dead', hostname(), DEAD_PID);
    const live = await leaveRunning('live', hostname(), process.pid);
    const remote = await leaveRunning('remote', `not-${hostname()}`, DEAD_PID);

    const store = new SqliteStore(await openSqlite({ type: 'sqlite', path }), {}, { node: 'fresh', now: () => NOW.getTime() + 1_000 });
    await store.init();
    try {
      const deadJob = await store.get(dead);
      expect(deadJob).toMatchObject({ state: 'available', attempt: 1 });
      expect(deadJob?.runAt.getTime()).toBe(NOW.getTime() + 1_000);
      expect(deadJob?.errors.map((e) => e.kind)).toEqual(['lease-lost']);
      expect((await store.get(live))?.state).toBe('running');
      expect((await store.get(remote))?.state).toBe('running');
      const nodes = store.sqlite.db.prepare('SELECT node FROM nodes ORDER BY node').all();
      expect(nodes).toEqual([{ node: 'fresh' }, { node: 'live' }, { node: 'remote' }]);
    } finally {
      await store.close();
    }
    // A clean close takes this process off the list.
    const after = await openSqlite({ type: 'sqlite', path });
    expect(after.db.prepare(`SELECT count(*) AS n FROM nodes WHERE node = 'fresh'`).get()).toEqual({ n: 0 });
    after.close();
  });
});

describe('SQLite: close while another process holds the file', () => {
  it('resolves with a warning and closes the file when its node row cannot be deleted, leaving the row to the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-close-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'jobs.db');
    const warnings = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    onTestFinished(() => warnings.mockRestore());
    const store = new SqliteStore(await openSqlite({ type: 'sqlite', path, busyTimeout: 50 }), {}, { node: 'closing', now: () => NOW.getTime() });
    await store.init();
    // Another process's write transaction, held past the store's busyTimeout.
    const other = new Database(path, { timeout: 50 });
    other.exec('BEGIN IMMEDIATE');
    await expect(store.close()).resolves.toBeUndefined();
    expect(store.sqlite.open).toBe(false);
    expect(warnings.mock.calls.map(([m]) => String(m))).toEqual([expect.stringMatching(/entry in .*jobs\.db was left at close \(.*locked.*\)/)]);
    other.exec('ROLLBACK');
    expect(other.prepare(`SELECT node, pid FROM nodes`).all()).toEqual([{ node: 'closing', pid: process.pid }]);
    other.close();
  });
});
