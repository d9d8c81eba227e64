import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Notification } from '../../lib/notifier/notifier.js';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import { PostgresNotifier } from '../../lib/postgres/postgres.notifier.js';
import { PostgresPeer } from '../../lib/postgres/postgres.peer.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { migrationLockKey } from '../../lib/postgres/sql/names.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { StoreUnavailableError } from '../../lib/scheduler.errors.js';
import { newJobInput } from '../support/new-job.js';
import { createTestSchema, withClient } from '../support/postgres.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';
import pg from 'pg';

type Db = Awaited<ReturnType<typeof createTestSchema>>;

/**
 * Each part's connection runs through a proxy that black-holes it (a
 * half-open socket: writes vanish, nothing comes back, nothing closes) or
 * drops it (a restart): the part must notice within its timeout, replace the
 * connection and go on.
 */
describe('PostgreSQL connections on a dead socket', () => {
  let db: Db;
  let proxy: TcpProxy;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    db = await createTestSchema('ds');
    proxy = await TcpProxy.start(db.url);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await proxy.close();
    await db.drop();
    vi.restoreAllMocks();
  });

  async function store(extra: Partial<PostgresStoreOptions> = {}, node = 'n1') {
    const options: PostgresStoreOptions = { type: 'postgres', url: proxy.urlFor(db.url), schema: db.schema, poolSize: 2, ...extra };
    const context = await openPostgres(options, node);
    const created = new PostgresStore(context, options);
    cleanups.push(() => created.close());
    return { store: created, context };
  }

  it('a heartbeat on a black-holed connection fails within heartbeatTimeout, on a new connection it lands', async () => {
    const { store: s } = await store({ heartbeatTimeout: 400 });
    await s.init();
    const [inserted] = await s.insert([newJobInput(new Date(Date.now() - 1_000))]);
    const [job] = await s.claim({ queue: 'default', limit: 1, node: 'n1', now: new Date() });
    expect(job!.id).toBe(inserted!.job.id);
    const ref = { id: job!.id, attempt: job!.attempt };
    expect(await s.heartbeat([ref], new Date())).toEqual([]);
    const accepted = proxy.accepted;
    proxy.blackHole();
    const beatAt = new Date(Date.now() + 60_000);
    // Without a bound this never settles: the reply cannot come.
    expect(await s.heartbeat([ref], beatAt)).toEqual([]);
    expect(proxy.accepted).toBeGreaterThan(accepted);
    const [row] = await withClient(
      db.url,
      async (c) => (await c.query(`SELECT heartbeat_at FROM "${db.schema}".scheduler_jobs WHERE id = $1`, [job!.id])).rows,
    );
    expect(new Date(row.heartbeat_at).getTime()).toBe(beatAt.getTime());
  });

  it('a pool statement on a black-holed connection fails within twice statementTimeout (when under 5 s), and the pool opens a new one', async () => {
    const { store: s } = await store({ statementTimeout: 200, poolSize: 1 });
    await s.init();
    await s.ping();
    proxy.blackHole();
    await expect(s.ping()).rejects.toThrow(/unavailable/);
    await s.ping();
  });

  it("a pool statement left on a black-holed connection does not hold the store's close until its timeout", async () => {
    // The default statementTimeout (30 s): the statement's own bound is ~35 s away.
    const { store: s } = await store({ poolSize: 1 });
    await s.init();
    await s.ping();
    proxy.blackHole();
    const abandoned = s.ping().catch((error: unknown) => error);
    const started = Date.now();
    await s.close();
    // The pool's goodbye is waited for 2 s, then its sockets are destroyed.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await abandoned).toBeInstanceOf(Error);
  }, 30_000);

  it("an idle pool connection, black-holed: the store's close lets go of its socket (its goodbye is never answered)", async () => {
    const { store: s, context } = await store({ poolSize: 2 });
    await s.init();
    await Promise.all([s.ping(), s.ping()]);
    const sockets = (context.pool as unknown as { _clients: pg.Client[] })._clients.map((client) => client.connection.stream);
    expect(sockets).toHaveLength(2);
    proxy.blackHole();
    const started = Date.now();
    await s.close();
    // pg-pool ends an idle client outside its list of clients: the close destroys it all the same.
    await waitFor(() => sockets.every((socket) => socket.destroyed), 5_000, 'the pool sockets to be destroyed');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a read whose pooled connection closes as it is handed out is sent again; a write is not', async () => {
    const { store: s, context } = await store({ poolSize: 1 });
    await s.init();
    const cutIdle = async (): Promise<void> => {
      await s.ping();
      // The idle connection's socket ends under it, before the pool hears of it (as when the server closes it for idleness).
      const [idle] = (context.pool as unknown as { _clients: pg.Client[] })._clients;
      idle!.connection.stream.destroy();
    };
    await cutIdle();
    expect(await s.getQueueStates()).toEqual([]);
    // So are the reads a dashboard or an API call makes.
    for (const read of [
      () => s.list({}),
      () => s.count({ states: ['available'] }),
      () => s.queueCounts(new Date()),
      () => s.deadStats(),
      () => s.listDead({}, 10, 0),
      () => s.listRuns({}),
    ]) {
      await cutIdle();
      await read();
    }
    await cutIdle();
    // A write may have run before its connection closed: it is not sent again.
    expect(await s.setQueueState('q', { paused: true }).catch((error: unknown) => error)).toBeInstanceOf(StoreUnavailableError);
    expect(await s.getQueueStates()).toEqual([]);
  });

  it('a leader whose lease connection is black-holed resigns, then leads again on a new connection', async () => {
    const { context } = await store();
    await withClient(db.url, (c) =>
      c.query(`CREATE TABLE "${db.schema}".scheduler_leases (name text PRIMARY KEY, node text NOT NULL, expires_at timestamptz NOT NULL)`),
    );
    const peer = new PostgresPeer(context, { leaseTtl: 900, eligible: true, ready: () => true });
    const changes: boolean[] = [];
    peer.onChange((leader) => changes.push(leader));
    cleanups.push(() => peer.stop());
    await peer.start();
    expect(peer.isLeader()).toBe(true);
    const accepted = proxy.accepted;
    proxy.blackHole();
    await waitFor(() => !peer.isLeader(), 3_000, 'the leader to resign');
    await waitFor(() => peer.isLeader(), 5_000, 'leadership on a new connection');
    expect(changes).toEqual([true, false, true]);
    expect(proxy.accepted).toBeGreaterThan(accepted);
  });

  it('a LISTEN connection that is black-holed is replaced; what is sent next arrives', async () => {
    const { context } = await store();
    const notifier = new PostgresNotifier(context, { ready: () => true, healthInterval: 300 });
    const received: Notification[] = [];
    notifier.subscribe((m) => received.push(m));
    cleanups.push(() => notifier.stop());
    await notifier.start();
    const accepted = proxy.accepted;
    proxy.blackHole();
    await waitFor(() => received.some((m) => m.type === 'resync'), 5_000, 'the resync after reconnecting');
    expect(proxy.accepted).toBeGreaterThan(accepted);
    await withClient(db.url, (c) => c.query('SELECT pg_notify($1, $2)', [context.channel, JSON.stringify({ type: 'queues' })]));
    await waitFor(() => received.some((m) => m.type === 'queues'), 3_000, 'a notice after the reconnection');
  });

  it('the database dropping mid-migration does not crash the process: the store becomes ready once it is back', async () => {
    // Before the fix the dropped socket's `error` event had no listener: an uncaught exception.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    cleanups.push(async () => process.off('uncaughtException', onUncaught));
    const { store: s } = await store();
    // Hold the migration lock, so the boot migration waits inside its transaction on a checked-out client.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    cleanups.push(() => holder.end());
    const holderPid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [migrationLockKey(db.schema, 'scheduler_')]);
    const init = s.init();
    const waiting = () =>
      withClient(
        db.url,
        async (c) =>
          (await c.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock%' AND pid <> $1`, [holderPid]))
            .rowCount === 1,
      );
    await waitFor(waiting, 5_000, 'the migration to wait for its lock');
    proxy.refuse();
    proxy.dropAll();
    await init;
    expect(s.ready).toBe(false);
    await holder.query('COMMIT');
    proxy.accept();
    await waitFor(() => s.ready, 10_000, 'the store to become ready');
    const tables = await withClient(db.url, async (c) => (await c.query(`SELECT count(*)::int AS n FROM "${db.schema}".scheduler_migrations`)).rows[0].n);
    expect(tables).toBeGreaterThan(0);
    expect(uncaught).toEqual([]);
  });

  it('a claim whose answer was lost after it committed: its jobs go back at once with their attempts, and the next claim takes them', async () => {
    const { store: s } = await store({ poolSize: 1 });
    await s.init();
    const inserted = await s.insert([0, 1, 2].map((n) => newJobInput(new Date(Date.now() - 1_000), { args: { n } })));
    proxy.loseNextReply();
    await expect(s.claim({ queue: 'default', limit: 2, node: 'n1', now: new Date() })).rejects.toBeInstanceOf(StoreUnavailableError);
    const rows = await withClient(db.url, async (c) => (await c.query(`SELECT state, attempt, node FROM "${db.schema}".scheduler_jobs ORDER BY id`)).rows);
    // Without the hand-back two of them would run under a node that never received them, until rescued.
    expect(rows).toEqual(inserted.map(() => ({ state: 'available', attempt: 0, node: null })));
    const claimed = await s.claim({ queue: 'default', limit: 3, node: 'n1', now: new Date() });
    expect(claimed.map((job) => [job.args, job.attempt])).toEqual([
      [{ n: 0 }, 1],
      [{ n: 1 }, 1],
      [{ n: 2 }, 1],
    ]);
  });

  it('a rate-limited claim whose answer was lost: its jobs go back too', async () => {
    const { store: s } = await store({ poolSize: 1 });
    await s.init();
    const limits = { queue: { capacity: 100, refillPerSecond: 1 } };
    // The first claim creates the bucket's row; later ones are one statement.
    await s.rateLimits!.claim({ queue: 'default', limit: 1, node: 'n1', now: new Date() }, limits);
    await s.insert([0, 1].map((n) => newJobInput(new Date(Date.now() - 1_000), { args: { n } })));
    proxy.loseNextReply();
    await expect(s.rateLimits!.claim({ queue: 'default', limit: 2, node: 'n1', now: new Date() }, limits)).rejects.toBeInstanceOf(StoreUnavailableError);
    const rows = await withClient(db.url, async (c) => (await c.query(`SELECT state, attempt FROM "${db.schema}".scheduler_jobs ORDER BY id`)).rows);
    expect(rows).toEqual([
      { state: 'available', attempt: 0 },
      { state: 'available', attempt: 0 },
    ]);
    expect((await s.rateLimits!.claim({ queue: 'default', limit: 2, node: 'n1', now: new Date() }, limits)).jobs).toHaveLength(2);
  });
});
