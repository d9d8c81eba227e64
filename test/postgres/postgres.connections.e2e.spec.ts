import { Logger } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SchedulerService, type SchedulerModuleOptions } from '../../lib/index.js';
import { createTestSchema, withClient } from '../support/postgres.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { bootApp, HeldJobs } from '../support/postgres/apps.js';
import { waitFor } from '../support/wait.js';

type Db = Awaited<ReturnType<typeof createTestSchema>>;

/** Apps on real PostgreSQL, one of them behind a proxy that fails its sockets. */
describe('the scheduler through a failing network', () => {
  let db: Db;
  let proxy: TcpProxy;
  const apps: TestingModule[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  let warnings: string[];
  beforeEach(async () => {
    warnings = [];
    vi.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    db = await createTestSchema('net');
    proxy = await TcpProxy.start(db.url);
  });
  afterEach(async () => {
    proxy.accept();
    for (const app of apps.splice(0)) await app.close();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await proxy.close();
    await db.drop();
    vi.restoreAllMocks();
  });

  const lifeline = { heartbeat: 200, rescueAfter: 2_500, interval: 250 };
  async function start(options: Partial<SchedulerModuleOptions> & { url?: string; store?: never } = {}, store: Record<string, unknown> = {}) {
    const { url = db.url, ...rest } = options;
    const app = await bootApp({
      store: { type: 'postgres', url, schema: db.schema, statementTimeout: 300, heartbeatTimeout: 400, ...store },
      pollInterval: 200,
      peer: { leaseTtl: 1_500 },
      lifeline,
      ...rest,
    });
    apps.push(app);
    return app;
  }
  const query = <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []) => withClient(db.url, async (c) => (await c.query<T>(sql, values)).rows);
  const jobRow = async (id: string) =>
    (
      await query<{ state: string; attempt: number; errors: { name: string }[]; beat_ms: number }>(
        `SELECT state, attempt, errors, (extract(epoch FROM heartbeat_at) * 1000)::float8 AS beat_ms FROM "${db.schema}".scheduler_jobs WHERE id = $1`,
        [id],
      )
    )[0]!;
  /** Gives the test schema to `role` (dropped after the test) and returns its URL. */
  async function roleOwning(role: string): Promise<string> {
    await query(`ALTER SCHEMA "${db.schema}" OWNER TO ${role}`);
    cleanups.push(() => query(`DROP SCHEMA IF EXISTS "${db.schema}" CASCADE; DROP ROLE ${role}`));
    const url = new URL(db.url);
    url.username = role;
    url.password = 'pw';
    return url.toString();
  }
  const dbNow = async () => (await query<{ ms: number }>('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms'))[0]!.ms;

  it('a node whose sockets are black-holed keeps its running job: heartbeats move to new connections, nothing is rescued', async () => {
    // The leader (it runs the lifeline) talks to PostgreSQL directly; the worker goes through the proxy.
    const leader = await start({ queues: false });
    await waitFor(() => leader.get(SchedulerService).isLeader(), 5_000, 'the leader');
    const worker = await start({ url: proxy.urlFor(db.url), peer: false });
    const job = await worker.get(SchedulerService).enqueue('hold');
    await waitFor(() => worker.get(HeldJobs).holds.has(job.id), 5_000, 'the job to start');
    const accepted = proxy.accepted;
    proxy.blackHole();
    const cut = await dbNow();
    // Rescue would come rescueAfter after the last heartbeat; one well past that proves the node went on.
    await waitFor(async () => (await jobRow(job.id)).beat_ms > cut + lifeline.rescueAfter, 10_000, 'a heartbeat past rescueAfter on a new connection');
    expect(proxy.accepted).toBeGreaterThan(accepted);
    const running = await jobRow(job.id);
    expect(running).toMatchObject({ state: 'running', attempt: 1, errors: [] });
    worker.get(HeldJobs).holds.get(job.id)!();
    await waitFor(async () => (await jobRow(job.id)).state === 'completed', 15_000, 'the job to complete');
    expect((await jobRow(job.id)).attempt).toBe(1);
    expect(worker.get(HeldJobs).aborted).toEqual([]);
  });

  it('a pool held by statements that wait on a lock: heartbeats and the lease go on, on their own connections', { timeout: 40_000 }, async () => {
    const app = await start({}, { poolSize: 1, statementTimeout: 30_000 });
    const scheduler = app.get(SchedulerService);
    await waitFor(() => scheduler.isLeader(), 5_000, 'the node to lead');
    const job = await scheduler.enqueue('hold');
    await waitFor(() => app.get(HeldJobs).holds.has(job.id), 5_000, 'the job to start');
    const resigned: boolean[] = [];
    scheduler.on('peer:resignation', () => resigned.push(true));
    // Another session (a careless migration) locks the runnable jobs' table: every claim, insert and
    // rescue of the pool's one connection waits behind it, well within the statement timeout.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query(`BEGIN; LOCK TABLE "${db.schema}".scheduler_ready IN ACCESS EXCLUSIVE MODE`);
    // An enqueue joins the wait: it answers once the lock goes.
    const enqueued = scheduler.enqueue('work', { ms: 1 });
    let answered = false;
    const answer = () => void (answered = true);
    enqueued.then(answer, answer);
    const cut = await dbNow();
    const lease = async () =>
      (
        await query<{ ms: number }>(`SELECT (extract(epoch FROM expires_at) * 1000)::float8 AS ms FROM "${db.schema}".scheduler_leases WHERE name = 'leader'`)
      )[0]?.ms ?? 0;
    // Past rescueAfter and past the lease's whole length, both were written anew while the pool waited.
    await waitFor(async () => (await jobRow(job.id)).beat_ms > cut + lifeline.rescueAfter, 10_000, 'a heartbeat past rescueAfter');
    await waitFor(async () => (await lease()) > cut + 2 * 1_500, 10_000, 'the lease renewed past its length');
    expect(scheduler.isLeader()).toBe(true);
    expect(resigned).toEqual([]);
    expect(await jobRow(job.id)).toMatchObject({ state: 'running', attempt: 1, errors: [] });
    // The pool was held all along.
    expect(answered).toBe(false);
    await locker.query('ROLLBACK');
    await enqueued;
    app.get(HeldJobs).holds.get(job.id)!();
    await waitFor(async () => (await jobRow(job.id)).state === 'completed', 15_000, 'the job to complete');
    expect((await jobRow(job.id)).attempt).toBe(1);
  });

  it('a leader whose sockets are black-holed resigns within the lease, then a node leads again', async () => {
    const first = await start({ url: proxy.urlFor(db.url), queues: false });
    await waitFor(() => first.get(SchedulerService).isLeader(), 5_000, 'the first node to lead');
    const second = await start({ queues: false });
    const changes: boolean[] = [];
    first.get(SchedulerService).on('peer:election', () => changes.push(true));
    first.get(SchedulerService).on('peer:resignation', () => changes.push(false));
    proxy.blackHole();
    await waitFor(() => !first.get(SchedulerService).isLeader(), 3_000, 'the black-holed leader to resign');
    expect(changes[0]).toBe(false);
    // The lease is taken again: by the other node, or by the first on a new connection.
    const leading = () => [first, second].filter((app) => app.get(SchedulerService).isLeader()).length;
    await waitFor(() => leading() === 1, 5_000, 'a leader again');
  });

  it('a database restart mid-drain: every job completes exactly once, and both nodes claim again within 5 s of the database coming back', async () => {
    const url = proxy.urlFor(db.url);
    // No prefetch: a node claims only what its 4 slots can run, so the held jobs must spread over both.
    const queues = { default: { concurrency: 4, prefetch: 0 } };
    const nodes = [await start({ url, queues }), await start({ url, queues })];
    const total = 300;
    await nodes[0]!.get(SchedulerService).enqueueMany(
      'work',
      Array.from({ length: total }, () => ({ ms: 15 })),
    );
    const finished = () => nodes.flatMap((n) => n.get(HeldJobs).finished);
    await waitFor(() => finished().length >= 60, 15_000, 'the drain to be under way');
    proxy.refuse();
    proxy.dropAll();
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the restart: nothing can connect for a second
    proxy.accept();
    // More held jobs than one node has slots: each node must claim again for all of them to start.
    const held: string[] = [];
    await waitFor(
      async () => {
        const jobs = await nodes[0]!
          .get(SchedulerService)
          .enqueueMany(
            'hold',
            Array.from({ length: 8 }, () => ({})),
            { priority: 0 },
          )
          .catch(() => []);
        held.push(...jobs.map((job) => job.id));
        return held.length === 8;
      },
      5_000,
      'the enqueue of held jobs',
    );
    const holding = (app: TestingModule) => held.filter((id) => app.get(HeldJobs).holds.has(id)).length;
    await waitFor(() => nodes.every((n) => holding(n) > 0) && holding(nodes[0]!) + holding(nodes[1]!) === 8, 5_000, 'both nodes to claim again');
    for (const node of nodes) for (const id of held) node.get(HeldJobs).holds.get(id)?.();
    const completed = async () => (await query<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".scheduler_jobs WHERE state = 'completed'`))[0]!.n;
    await waitFor(async () => (await completed()) === total + 8, 30_000, 'every job to be completed');
    const runs = finished();
    expect(new Set(runs).size).toBe(total);
    expect(runs).toHaveLength(total);
    // A claim whose answer was lost with its socket leaves its jobs running unseen until the lifeline
    // returns them: they may complete on a second attempt, but run to completion only once.
    const [states] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".scheduler_jobs WHERE state <> 'completed'`);
    expect(states!.n).toBe(0);
  }, 60_000);

  /** A job held on `worker` heartbeats past rescueAfter without being rescued, then completes once released. */
  const heldPastRescueAfter = async (leader: TestingModule, worker: TestingModule): Promise<void> => {
    const job = await leader.get(SchedulerService).enqueue('hold');
    await waitFor(() => worker.get(HeldJobs).holds.has(job.id), 5_000, 'the job to start');
    const started = await dbNow();
    await waitFor(async () => (await jobRow(job.id)).beat_ms > started + lifeline.rescueAfter, 10_000, 'heartbeats past rescueAfter');
    expect(await jobRow(job.id)).toMatchObject({ state: 'running', attempt: 1, errors: [] });
    worker.get(HeldJobs).holds.get(job.id)!();
    await waitFor(async () => (await jobRow(job.id)).state === 'completed', 10_000, 'the job to complete');
  };

  it('a role connection limit: the dedicated connections open at start, and heartbeats never fail into a rescue', async () => {
    const role = `cl_${randomBytes(5).toString('hex')}`;
    // Room for the pool's first connection, LISTEN and heartbeats; the test takes everything else the role may open.
    await query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw' CONNECTION LIMIT 5`);
    const roleUrl = await roleOwning(role);
    // The worker first: it builds the tables as their owner.
    const worker = await start({ url: roleUrl, peer: false }, { poolSize: 2 });
    const leader = await start({ queues: false });
    await waitFor(() => leader.get(SchedulerService).isLeader(), 5_000, 'the leader');
    const hogs: pg.Client[] = [];
    cleanups.push(() => Promise.all(hogs.map((c) => c.end())));
    for (;;) {
      const hog = new pg.Client({ connectionString: roleUrl });
      hog.on('error', () => undefined);
      try {
        await hog.connect();
      } catch {
        break;
      }
      hogs.push(hog);
    }
    await heldPastRescueAfter(leader, worker);
  });

  it('a role connection limit too low for the heartbeat connection: it says so, and heartbeats go through the pool', async () => {
    const role = `cl_${randomBytes(5).toString('hex')}`;
    // One connection: the pool's. LISTEN and the heartbeat connection cannot open.
    await query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw' CONNECTION LIMIT 1`);
    const worker = await start({ url: await roleOwning(role), peer: false }, { poolSize: 1 });
    const leader = await start({ queues: false });
    await waitFor(() => leader.get(SchedulerService).isLeader(), 5_000, 'the leader');
    expect(warnings.some((w) => /heartbeat connection could not be opened/.test(w) && /poolSize \+ 3/.test(w))).toBe(true);
    await heldPastRescueAfter(leader, worker);
  });
});
