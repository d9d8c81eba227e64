import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Notification } from '../../lib/notifier/notifier.js';
import { openSqlite, type SqliteConnection } from '../../lib/sqlite/sqlite.connection.js';
import { migrateSqlite } from '../../lib/sqlite/sqlite.migrator.js';
import { SqliteNotifier } from '../../lib/sqlite/sqlite.notifier.js';
import { SqlitePeer } from '../../lib/sqlite/sqlite.peer.js';
import { waitFor } from '../support/wait.js';

// Two connections to one file stand for two processes: SQLite tells them
// apart (locks, data_version) exactly as it tells processes apart.
describe('SQLite peer and notifier across connections to one file', () => {
  let dir: string;
  const open: SqliteConnection[] = [];
  const stops: (() => Promise<void>)[] = [];
  const connect = async (): Promise<SqliteConnection> => {
    const sqlite = await openSqlite({ type: 'sqlite', path: join(dir, 'jobs.db') });
    await migrateSqlite(sqlite);
    open.push(sqlite);
    return sqlite;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-peer-'));
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    for (const sqlite of open.splice(0)) sqlite.close();
    await rm(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it("delivers a message to the other connection's listeners, and to its own once", async () => {
    const a = new SqliteNotifier(await connect(), { node: 'a', interval: 20 });
    const b = new SqliteNotifier(await connect(), { node: 'b', interval: 20 });
    await a.start();
    await b.start();
    stops.push(
      () => a.stop(),
      () => b.stop(),
    );
    const heardA: Notification[] = [];
    const heardB: Notification[] = [];
    a.subscribe((m) => heardA.push(m));
    b.subscribe((m) => heardB.push(m));

    await a.notify({ type: 'cancel', jobId: '7' });
    await a.notify({ type: 'insert', queue: 'default' });
    await waitFor(() => heardB.length === 2, 2_000, 'b to hear both messages');
    expect(heardB).toEqual([
      { type: 'cancel', jobId: '7' },
      { type: 'insert', queue: 'default' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heardA).toEqual(heardB);
  });

  it('a message the file refuses (another process holds it past busyTimeout) is logged, not thrown: the caller wrote its own change already', async () => {
    const path = join(dir, 'jobs.db');
    const held = await connect();
    const sqlite = await openSqlite({ type: 'sqlite', path, busyTimeout: 50 });
    open.push(sqlite);
    const a = new SqliteNotifier(sqlite, { node: 'a', interval: 20 });
    await a.start();
    stops.push(() => a.stop());
    const heard: Notification[] = [];
    a.subscribe((m) => heard.push(m));
    const warn = vi.mocked(Logger.prototype.warn);
    held.db.exec('BEGIN IMMEDIATE');
    try {
      // An enqueue's wake-up after its insert committed: a rejection here would reject the enqueue of a job that is in the file.
      await expect(a.notify({ type: 'insert', queue: 'default' })).resolves.toBeUndefined();
    } finally {
      held.db.exec('ROLLBACK');
    }
    await waitFor(() => heard.length === 1, 1_000, 'its own listener to hear it');
    expect(heard).toEqual([{ type: 'insert', queue: 'default' }]);
    expect(warn.mock.calls.map(([m]) => String(m))).toEqual([
      expect.stringMatching(/"insert" notification .* failed \(polling will catch up\): .* for 50 ms \(store\.busyTimeout; SQLITE_BUSY: database is locked\)/),
    ]);
  });

  it('reads nothing while no other connection committed (data_version unchanged)', async () => {
    const sqlite = await connect();
    const notifier = new SqliteNotifier(sqlite, { node: 'a', interval: 10 });
    await notifier.start();
    stops.push(() => notifier.stop());
    const statement = vi.spyOn(sqlite, 'statement');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(statement).not.toHaveBeenCalled();
    // A commit of another connection is seen at the next check, and read.
    const other = await connect();
    other.db.prepare(`INSERT INTO messages (node, at, body) VALUES ('b', 0, '{"type":"queues"}')`).run();
    await waitFor(() => statement.mock.calls.length > 0, 1_000, 'the notifier to read the new message');
  });

  it('makes one of two eligible peers leader, and the other takes over at once when it stops', async () => {
    const ca = await connect();
    const cb = await connect();
    const na = new SqliteNotifier(ca, { node: 'a', interval: 20 });
    const nb = new SqliteNotifier(cb, { node: 'b', interval: 20 });
    await na.start();
    await nb.start();
    const a = new SqlitePeer(ca, { node: 'a', leaseTtl: 60_000, eligible: true, notifier: na });
    const b = new SqlitePeer(cb, { node: 'b', leaseTtl: 60_000, eligible: true, notifier: nb });
    stops.push(
      () => a.stop(),
      () => b.stop(),
      () => na.stop(),
      () => nb.stop(),
    );
    await a.start();
    await b.start();
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    expect(await b.leaderNode()).toBe('a');

    const changes: boolean[] = [];
    b.onChange((leader) => changes.push(leader));
    await a.stop();
    // Long before the 60 s lease would expire: the released lease is announced.
    await waitFor(() => b.isLeader(), 2_000, 'b to take the released lease');
    expect(changes).toEqual([true]);
    expect(await a.leaderNode()).toBe('b');
  });

  it('takes an expired lease, and never leads when not eligible', async () => {
    const ca = await connect();
    ca.db.prepare(`INSERT INTO leases (name, node, expires_at) VALUES ('leader', 'gone', ?)`).run(Date.now() - 1);
    const idle = new SqlitePeer(ca, { node: 'idle', leaseTtl: 60_000, eligible: false });
    await idle.start();
    stops.push(() => idle.stop());
    expect(idle.isLeader()).toBe(false);
    const peer = new SqlitePeer(await connect(), { node: 'next', leaseTtl: 60_000, eligible: true });
    await peer.start();
    stops.push(() => peer.stop());
    expect(peer.isLeader()).toBe(true);
    expect(await idle.leaderNode()).toBe('next');
  });
});
