import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Notification } from '../../lib/notifier/notifier.js';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteNotifier } from '../../lib/sqlite/sqlite.notifier.js';
import { SqlitePeer } from '../../lib/sqlite/sqlite.peer.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import { newJobInput } from '../support/new-job.js';
import { waitFor } from '../support/wait.js';

const BASE = new Date('2026-01-01T00:00:00Z');

// The app's DataSource stands for one process, a store of its own on the same
// file (path) for another: SQLite tells two connections apart as it tells processes apart.
describe('a DataSource process and a path process on one file', () => {
  let dir: string;
  let ds: DataSource;
  const stops: (() => Promise<void>)[] = [];

  const appSide = async () => {
    const sqlite = await openSqlite({ type: 'sqlite', dataSource: ds });
    const store = new SqliteStore(sqlite, {}, { node: 'app' });
    await store.init();
    const notifier = new SqliteNotifier(sqlite, { node: 'app', interval: 20 });
    await notifier.start();
    stops.push(
      () => notifier.stop(),
      () => store.close(),
    );
    return { store, notifier };
  };
  const otherSide = async () => {
    const sqlite = await openSqlite({ type: 'sqlite', path: join(dir, 'app.db') });
    const store = new SqliteStore(sqlite, {}, { node: 'other' });
    await store.init();
    const notifier = new SqliteNotifier(sqlite, { node: 'other', interval: 20 });
    await notifier.start();
    const heard: Notification[] = [];
    notifier.subscribe((message) => heard.push(message));
    stops.push(
      () => notifier.stop(),
      () => store.close(),
    );
    return { store, notifier, heard, sqlite };
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-ds-proc-'));
    ds = new DataSource({ type: 'better-sqlite3', database: join(dir, 'app.db') });
    await ds.initialize();
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    if (ds.isInitialized) await ds.destroy();
    await rm(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('shows the other process a job enqueued in a transaction, and its wake-up, only once it commits', async () => {
    const app = await appSide();
    const other = await otherSide();
    const messages = () => (other.sqlite.db.prepare(`SELECT count(*) AS n FROM messages WHERE node = 'app'`).get() as { n: number }).n;

    const job = await ds.transaction(async (manager) => {
      const [result] = await app.store.insert([newJobInput(BASE)], { transaction: manager });
      // What the producer does after an insert: the wake-up waits for the transaction, the caller does not.
      await app.notifier.notify({ type: 'insert', queue: 'default' });
      expect(await other.store.count({})).toBe(0);
      expect(messages()).toBe(0);
      return result!.job;
    });
    await waitFor(() => other.heard.some((m) => m.type === 'insert'), 2_000, 'the other process to hear the wake-up');
    expect(other.heard).toEqual([{ type: 'insert', queue: 'default' }]);
    const [claimed] = await other.store.claim({ queue: 'default', limit: 1, node: 'other', now: BASE });
    expect(claimed).toMatchObject({ id: job.id, state: 'running', node: 'other' });
  });

  it('keeps a lease renewal made while the app transaction is open out of it: the app rolls back, the renewal stays', async () => {
    const sqlite = await openSqlite({ type: 'sqlite', dataSource: ds });
    const store = new SqliteStore(sqlite, {}, { node: 'app' });
    await store.init();
    stops.push(() => store.close());
    const peer = new SqlitePeer(sqlite, { node: 'app', leaseTtl: 300, eligible: true });
    const changes: boolean[] = [];
    peer.onChange((leader) => changes.push(leader));
    await peer.start();
    stops.push(() => peer.stop());
    expect(peer.isLeader()).toBe(true);
    const expiresAt = () => (sqlite.db.prepare(`SELECT expires_at AS at FROM leases`).get() as { at: number }).at;
    const before = expiresAt();
    // Open across the next renewal (due leaseTtl / 3 = 100 ms after the first; this timer is set later and runs longer).
    await ds
      .transaction(async (manager) => {
        await manager.query('SELECT 1');
        await new Promise((resolve) => setTimeout(resolve, 150));
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(expiresAt()).toBeGreaterThan(before);
    expect(changes).toEqual([true]);
  });
});
