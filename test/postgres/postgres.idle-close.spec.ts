import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Notification } from '../../lib/notifier/notifier.js';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import type { PostgresContext } from '../../lib/postgres/postgres.context.js';
import { HeartbeatConnection } from '../../lib/postgres/postgres.heartbeat.js';
import { SchedulerService } from '../../lib/index.js';
import { PostgresNotifier } from '../../lib/postgres/postgres.notifier.js';
import { PostgresPeer } from '../../lib/postgres/postgres.peer.js';
import { inTransaction } from '../../lib/postgres/postgres.transaction.js';
import { createTestSchema, withClient } from '../support/postgres.js';
import { ensureLeaseTable } from '../support/postgres/context.js';
import { HandNotifier } from '../support/hand-notifier.js';
import { bootApp, HeldJobs } from '../support/postgres/apps.js';
import { sleep, stall, waitFor } from '../support/wait.js';

/** The server closes this role's sessions after this long idle (`idle_session_timeout`, PostgreSQL 14+). */
const IDLE_MS = 300;

/** The same, for the two nodes' test (see there). */
const NODES_IDLE_MS = 1_000;

/** Servers that close idle sessions: a role with `idle_session_timeout` (PostgreSQL 14+) set, as a DBA or a provider sets it. */
describe('PostgreSQL closing idle connections (idle_session_timeout)', () => {
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let role: string;
  let roleUrl: string;
  const admin = (sql: string) => withClient(db.url, (c) => c.query(sql));

  beforeAll(async () => {
    db = await createTestSchema('idle');
    role = `idle_${randomBytes(6).toString('hex')}`;
    await admin(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    await admin(`ALTER SCHEMA "${db.schema}" OWNER TO ${role}`);
    await admin(`ALTER ROLE ${role} SET idle_session_timeout = '${IDLE_MS}ms'`);
    const url = new URL(db.url);
    url.username = role;
    url.password = 'pw';
    roleUrl = url.toString();
    await ensureLeaseTable(roleUrl, db.schema);
  });
  afterAll(async () => {
    await admin(`DROP SCHEMA IF EXISTS "${db.schema}" CASCADE`);
    await admin(`DROP ROLE IF EXISTS ${role}`);
  });

  /** The scheduler's own context for the role, counting the dedicated connections it opens. */
  async function context(node: string): Promise<PostgresContext & { opened: () => number }> {
    const ctx = await openPostgres({ type: 'postgres', url: roleUrl, schema: db.schema, poolSize: 2 }, node);
    onTestFinished(() => ctx.close());
    let opened = 0;
    return Object.assign(Object.create(ctx) as PostgresContext, {
      connect: (...args: Parameters<PostgresContext['connect']>) => (opened++, ctx.connect(...args)),
      opened: () => opened,
    });
  }

  it('a lease renewal sent as the server closes its idle connection goes out again on a new one: the leader does not resign', async () => {
    const warnings: string[] = [];
    vi.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    onTestFinished(() => void vi.restoreAllMocks());
    const ctx = await context('a');
    const notifier = new HandNotifier();
    // A lease long enough that its own timer sends nothing during the test: the renewal below is the only one.
    const peer = new PostgresPeer(ctx, { leaseTtl: 60_000, eligible: true, ready: () => true, notifier });
    const changes: boolean[] = [];
    peer.onChange((leader) => changes.push(leader));
    onTestFinished(() => peer.stop());
    await peer.start();
    expect(peer.isLeader()).toBe(true);
    stall(IDLE_MS * 3);
    notifier.send({ type: 'leader' });
    await waitFor(() => ctx.opened() === 2, 2_000, 'the renewal on a new connection');
    await sleep(200);
    expect(changes).toEqual([true]);
    expect(peer.isLeader()).toBe(true);
    expect(warnings.filter((w) => /lease/.test(w))).toEqual([]);
  });

  it('a leader whose lease connection the server closed while idle still releases its lease when it stops', async () => {
    const ctx = await context('a');
    const peer = new PostgresPeer(ctx, { leaseTtl: 60_000, eligible: true, ready: () => true, notifier: new HandNotifier() });
    await peer.start();
    expect(peer.isLeader()).toBe(true);
    // The server closes the idle lease connection, and the client reads that it did.
    await sleep(IDLE_MS * 3);
    await peer.stop();
    expect((await admin(`SELECT node FROM "${db.schema}".scheduler_leases`)).rows).toEqual([]);
  });

  it('a heartbeat sent as the server closes its idle connection lands on a new one', async () => {
    const ctx = await context('a');
    const heartbeats = new HeartbeatConnection(ctx);
    onTestFinished(() => heartbeats.close());
    await heartbeats.open();
    stall(IDLE_MS * 3);
    const { rows } = await heartbeats.query({ text: 'SELECT 1 AS beat', values: [] });
    expect(rows).toEqual([{ beat: 1 }]);
    expect(ctx.opened()).toBe(2);
  });

  it('a statement or a transaction on a pooled connection the server closed while idle runs on another one', async () => {
    const ctx = await context('a');
    const written = `"${db.schema}".written`;
    await ctx.pool.query(`CREATE TABLE ${written} (n int)`);
    stall(IDLE_MS * 3);
    await ctx.pool.query(`INSERT INTO ${written} VALUES (1)`);
    stall(IDLE_MS * 3);
    await inTransaction(ctx.pool, (client) => client.query(`INSERT INTO ${written} VALUES (2)`));
    const { rows } = await ctx.pool.query<{ n: number }>(`SELECT n FROM ${written} ORDER BY n`);
    expect(rows).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('the LISTEN connection is checked within the server idle timeout: it stays open, nothing is lost, no resync', async () => {
    const warnings: string[] = [];
    vi.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    onTestFinished(() => void vi.restoreAllMocks());
    const ctx = await context('a');
    const notifier = new PostgresNotifier(ctx, { ready: () => true });
    const received: Notification[] = [];
    notifier.subscribe((message) => received.push(message));
    onTestFinished(() => notifier.stop());
    await notifier.start();
    // Several idle timeouts, each of which would have closed a LISTEN session checked every 5 s.
    await sleep(IDLE_MS * 8);
    await withClient(db.url, (c) => c.query('SELECT pg_notify($1, $2)', [ctx.channel, JSON.stringify({ type: 'queues' })]));
    await waitFor(() => received.length > 0, 2_000, 'the notification');
    expect(received).toEqual([{ type: 'queues' }]);
    expect(ctx.opened()).toBe(1);
    expect(warnings).toEqual([]);
  });

  it('two nodes under the role for 11 s: one leader throughout, no warning, every job once, running jobs never rescued', { timeout: 40_000 }, async () => {
    // Over 1 s rather than 300 ms: LISTEN is checked within half of it, and a loaded machine can hold a process (both
    // nodes) for more than 150 ms, which would close both LISTEN sessions; the other connections still idle past it.
    await admin(`ALTER ROLE ${role} SET idle_session_timeout = '${NODES_IDLE_MS}ms'`);
    onTestFinished(() => admin(`ALTER ROLE ${role} SET idle_session_timeout = '${IDLE_MS}ms'`).then(() => undefined));
    const logged: string[] = [];
    for (const level of ['warn', 'error'] as const) {
      vi.spyOn(Logger.prototype, level).mockImplementation((message: unknown) => void logged.push(`${level}: ${String(message)}`));
    }
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    onTestFinished(() => void vi.restoreAllMocks());
    // Lease renewals and heartbeats every 1.5 s, the pool between rounds: the server closes each of them as it idles.
    const apps = [];
    for (let i = 0; i < 2; i++) {
      const app = await bootApp({
        store: { type: 'postgres', url: roleUrl, schema: db.schema, poolSize: 3 },
        peer: { leaseTtl: 4_500 },
        lifeline: { heartbeat: 1_500, rescueAfter: 4_500, interval: 500 },
      });
      onTestFinished(() => app.close());
      apps.push(app);
    }
    const services = apps.map((app) => app.get(SchedulerService));
    await waitFor(() => services.some((s) => s.isLeader()), 5_000, 'a leader');
    const leaders = new Set<number>();
    let gaps = 0;
    const sampler = setInterval(() => {
      const now = services.flatMap((s, i) => (s.isLeader() ? [i] : []));
      if (now.length === 0) gaps++;
      for (const i of now) leaders.add(i);
    }, 50);
    onTestFinished(() => clearInterval(sampler));
    const held = await Promise.all(services.map((s) => s.enqueue('hold')));
    const work: string[] = [];
    for (let round = 0; round < 6; round++) {
      await sleep(1_800);
      work.push((await services[round % 2]!.enqueue('work', { ms: 10 })).id);
    }
    const jobs = apps.map((app) => app.get(HeldJobs));
    await waitFor(() => jobs.flatMap((j) => j.finished).length >= work.length, 5_000, 'the work jobs');
    clearInterval(sampler);
    const { rows } = await withClient(db.url, (c) =>
      c.query(`SELECT state, attempt FROM "${db.schema}".scheduler_jobs WHERE id = ANY($1::bigint[])`, [held.map((j) => j.id)]),
    );
    for (const release of jobs.flatMap((j) => [...j.holds.values()])) release();
    expect(rows).toEqual(held.map(() => ({ state: 'running', attempt: 1 })));
    expect(jobs.flatMap((j) => j.finished).sort()).toEqual([...work].sort());
    expect([leaders.size, gaps]).toEqual([1, 0]);
    expect(
      jobs.flatMap((j) => j.aborted),
      'jobs aborted',
    ).toEqual([]);
    expect(logged, 'warnings and errors logged').toEqual([]);
  });
});
