import { randomBytes } from 'node:crypto';
import { Injectable, Logger, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, SchedulerModule, SchedulerService, type JobContext, type SchedulerModuleOptions } from '../../lib/index.js';
import { PostgresPush } from '../../lib/postgres/postgres.push.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { createTestSchema, withClient } from '../support/postgres.js';
import { Outage } from '../support/postgres/outage.js';
import { waitFor } from '../support/wait.js';

@Injectable()
class Jobs {
  runs: { name: string; args: unknown; node: string }[] = [];
  aborted: string[] = [];
  static node = '';
  @Scheduled({ name: 'record' })
  record(ctx: JobContext) {
    this.runs.push({ name: ctx.schedule ?? ctx.name, args: ctx.args, node: Jobs.node });
  }
  gates: (() => void)[] = [];
  @Scheduled({ name: 'gate' })
  gate() {
    return new Promise<string>((resolve) => this.gates.push(() => resolve('opened')));
  }
  /** Ids of the `hold` jobs whose handler started. */
  holding: string[] = [];
  @Scheduled({ name: 'hold' })
  hold(ctx: JobContext) {
    this.holding.push(ctx.id);
    return new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => {
        this.aborted.push(String(ctx.abortReason));
        resolve();
      }),
    );
  }
}

type Db = Awaited<ReturnType<typeof createTestSchema>>;

/** Boots an app on the test schema as a user would (real clock: NOTIFY and leases run in real time). */
async function boot(db: Db, options: Partial<SchedulerModuleOptions> = {}): Promise<TestingModule> {
  const app = await Test.createTestingModule({
    imports: [
      SchedulerModule.forRoot({
        store: { type: 'postgres', url: db.url, schema: db.schema },
        pollInterval: '5s',
        peer: { leaseTtl: '3s' },
        ...options,
      }),
    ],
    providers: [Jobs],
  }).compile();
  await app.init();
  return app;
}

describe('SchedulerModule on PostgreSQL', () => {
  let db: Db;
  const apps: TestingModule[] = [];
  const start = async (options: Partial<SchedulerModuleOptions> = {}) => {
    const app = await boot(db, options);
    apps.push(app);
    return app;
  };
  beforeAll(async () => {
    db = await createTestSchema('e2e');
  });
  afterAll(() => db.drop());
  beforeEach(() => vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await withClient(db.url, (c) =>
      c.query(`DO $$ BEGIN IF to_regclass('"${db.schema}".scheduler_jobs') IS NOT NULL THEN
        TRUNCATE "${db.schema}".scheduler_jobs, "${db.schema}".scheduler_ready, "${db.schema}".scheduler_claims, "${db.schema}".scheduler_job_keys, "${db.schema}".scheduler_unique_keys, "${db.schema}".scheduler_serial_running, "${db.schema}".scheduler_queue_counts, "${db.schema}".scheduler_dead_letters, "${db.schema}".scheduler_schedules, "${db.schema}".scheduler_schedule_states, "${db.schema}".scheduler_queue_states, "${db.schema}".scheduler_offers;
      END IF; END $$`),
    );
    vi.restoreAllMocks();
  });

  it('runs a job enqueued on another node, woken by NOTIFY, long before the poll', async () => {
    const store = { type: 'postgres', url: db.url, schema: db.schema, push: false } as const;
    const worker = await start({ pollInterval: '1h', store });
    const web = await start({ pollInterval: '1h', queues: false, peer: false, store });
    const job = await web.get(SchedulerService).enqueue('record', { via: 'notify' });
    expect(job.state).toBe('available');
    await waitFor(() => worker.get(Jobs).runs.length === 1, 5_000, 'the job to run');
    expect(worker.get(Jobs).runs[0]!.args).toEqual({ via: 'notify' });
  });

  it('pushes a job enqueued on a web node to an idle worker: inserted claimed by it, started there without a claim', async () => {
    const worker = await start({ pollInterval: '1h', nodeName: 'worker-1' });
    const web = await start({ pollInterval: '1h', queues: false, peer: false, nodeName: 'web-1' });
    const offers = async () =>
      withClient(db.url, async (c) => (await c.query(`SELECT node, slots FROM "${db.schema}".scheduler_offers WHERE queue = 'default'`)).rows);
    // The worker offers its slots once its start-up claim has found the queue empty.
    await waitFor(async () => (await offers()).length === 1, 5_000, 'the idle worker to offer');
    expect(await offers()).toEqual([{ node: 'worker-1', slots: 10 }]);
    const job = await web.get(SchedulerService).enqueue('record', { via: 'push' });
    expect(job).toMatchObject({ state: 'running', attempt: 1, node: 'worker-1', startedAt: null });
    await waitFor(() => worker.get(Jobs).runs.length === 1, 5_000, 'the job to run');
    expect(worker.get(Jobs).runs[0]!.args).toEqual({ via: 'push' });
    const scheduler = web.get(SchedulerService);
    const history = async () => (await scheduler.history('record')).find((j) => j.id === job.id);
    await waitFor(async () => (await history()) !== undefined, 5_000, 'its completion');
    expect(await history()).toMatchObject({ state: 'completed', attempt: 1, node: 'worker-1' });

    // A clean stop withdraws the offer: then jobs wait for a claim as before.
    await worker.close();
    apps.splice(apps.indexOf(worker), 1);
    expect(await offers()).toEqual([]);
    expect((await scheduler.enqueue('record', { via: 'none' })).state).toBe('available');
  });

  it('a job pushed to an idle worker and cancelled before the worker took it never runs; the worker emits its job:cancel', async () => {
    const worker = await start({ pollInterval: '1h', nodeName: 'worker-1' });
    const web = await start({ pollInterval: '1h', queues: false, peer: false, nodeName: 'web-1' });
    await waitFor(
      async () => (await withClient(db.url, (c) => c.query(`SELECT 1 FROM "${db.schema}".scheduler_offers WHERE queue = 'default'`))).rowCount === 1,
      5_000,
      'the idle worker to offer',
    );
    // The worker's take waits until the cancel has committed, as a loaded worker's would.
    let cancelled!: () => void;
    const afterCancel = new Promise<void>((resolve) => (cancelled = resolve));
    const take = PostgresPush.prototype.take;
    const held = vi.spyOn(PostgresPush.prototype, 'take').mockImplementation(async function (this: PostgresPush, ...args) {
      await afterCancel;
      return take.apply(this, args);
    });
    const events: { node: string | null; reason: string; startedAt: Date | null }[] = [];
    for (const app of [web, worker]) {
      app.get(SchedulerService).on('job:cancel', (e) => events.push({ node: e.job.node, reason: e.reason, startedAt: e.job.startedAt }));
    }
    const job = await web.get(SchedulerService).enqueue('hold');
    expect(job).toMatchObject({ state: 'running', node: 'worker-1', startedAt: null });
    expect(await web.get(SchedulerService).cancelJob(job.id, { reason: 'not wanted' })).toBe(1);
    cancelled();
    await waitFor(() => events.length > 0, 5_000, 'the job:cancel event');
    expect(held).toHaveBeenCalled();
    // Once, from the node that held it, with the caller's reason; its handler never ran.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events).toEqual([{ node: 'worker-1', reason: 'not wanted', startedAt: null }]);
    expect(worker.get(Jobs).holding).toEqual([]);
    expect(await web.get(SchedulerService).findJob(job.id)).toMatchObject({ state: 'cancelled' });
  });

  it('an idle node runs what it enqueues at once: the job is inserted already claimed by it', async () => {
    const app = await start({ pollInterval: '1h', nodeName: 'node-e2e' });
    const scheduler = app.get(SchedulerService);
    // Until the runner's start-up claim has come back empty, an enqueue goes the usual way.
    let job = await scheduler.enqueue('record', { n: 0 });
    for (let n = 1; job.state !== 'running' && n < 50; n++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      job = await scheduler.enqueue('record', { n });
    }
    expect(job).toMatchObject({ state: 'running', attempt: 1, node: 'node-e2e' });
    expect(job.fencingToken).toBeGreaterThan(0);
    const history = async () => (await scheduler.history('record', { limit: 100 })).find((j) => j.id === job.id);
    await waitFor(async () => (await history()) !== undefined, 5_000, 'its completion');
    expect(await history()).toMatchObject({ state: 'completed', attempt: 1, node: 'node-e2e' });
  });

  it('transactional enqueue through a TypeORM DataSource given with forRootAsync: rollback leaves no job, commit runs it', async () => {
    const ds = new DataSource({ type: 'postgres', url: db.url });
    @Module({ providers: [{ provide: DataSource, useFactory: async () => ds.initialize() }], exports: [DataSource] })
    class DatabaseModule {}
    const app = await Test.createTestingModule({
      imports: [
        DatabaseModule,
        SchedulerModule.forRootAsync({
          imports: [DatabaseModule],
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => ({ store: { type: 'postgres', dataSource, schema: db.schema }, pollInterval: '200ms' }),
        }),
      ],
      providers: [Jobs],
    }).compile();
    await app.init();
    apps.push(app);
    const scheduler = app.get(SchedulerService);
    await expect(
      ds.transaction(async (manager) => {
        await scheduler.enqueue('record', { tx: 'rolled back' }, { manager });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    await ds.transaction((manager) => scheduler.enqueue('record', { tx: 'committed' }, { manager }));
    await waitFor(() => app.get(Jobs).runs.length === 1, 5_000, 'the committed job');
    expect(app.get(Jobs).runs.map((r) => r.args)).toEqual([{ tx: 'committed' }]);
    // The handler has returned; its completion is written in the background.
    await waitFor(async () => (await scheduler.history('record')).length === 1, 5_000, 'the completion');
    expect((await scheduler.history('record')).map((j) => j.args)).toEqual([{ tx: 'committed' }]);
    await app.close();
    apps.pop();
    await ds.destroy();
  });

  it('changes made on one node hold on every node: runtime schedules, queue pause, cancel', async () => {
    const web = await start({ queues: false, peer: false });
    const worker = await start({ pollInterval: '1h' });
    const webApi = web.get(SchedulerService);
    await waitFor(() => worker.get(SchedulerService).isLeader(), 10_000, 'the worker to lead');
    expect(await webApi.leaderNode()).toBe((await worker.get(SchedulerService).healthCheck()).node);

    // A schedule inserted on the web node is planned by the leader.
    await webApi.insert({ name: 'every-second', handler: 'record', every: '1s', args: { from: 'web' } });
    await waitFor(() => worker.get(Jobs).runs.some((r) => r.name === 'every-second'), 10_000, 'a tick of the runtime schedule');
    await webApi.delete('every-second');

    // A queue paused on the web node stops the worker's runner.
    await webApi.pauseQueue('default');
    await waitFor(async () => (await worker.get(SchedulerService).queueStats('default')).paused, 5_000, 'the pause to reach the worker');
    const before = worker.get(Jobs).runs.length;
    await webApi.enqueue('record', { paused: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(worker.get(Jobs).runs.length).toBe(before);
    await webApi.resumeQueue('default');
    await waitFor(() => worker.get(Jobs).runs.some((r) => (r.args as { paused?: boolean }).paused), 5_000, 'the job after resume');

    // A job running on the worker is cancelled from the web node: running, its handler started (a job pushed
    // to the worker is "running" in the store from its insert, before the worker takes it).
    const job = await webApi.enqueue('hold');
    await waitFor(() => worker.get(Jobs).holding.includes(job.id), 5_000, 'the job to run');
    expect((await webApi.runningJobs()).map((j) => j.id)).toContain(job.id);
    expect(await webApi.cancelJob(job.id, { reason: 'operator' })).toBe(1);
    await waitFor(() => worker.get(Jobs).aborted.includes('cancel'), 5_000, 'the abort on the worker');
    expect((await webApi.history('hold'))[0]).toMatchObject({ id: job.id, state: 'cancelled' });
  });

  it('paused and scaled queues are kept across restarts', async () => {
    const first = await start();
    await first.get(SchedulerService).pauseQueue('default');
    await first.get(SchedulerService).scaleQueue('default', 7);
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    const second = await start();
    expect(await second.get(SchedulerService).queueStats('default')).toMatchObject({ paused: true, concurrency: 7 });
  });

  it('a clean shutdown hands leadership over within a second', async () => {
    const a = await start({ peer: { leaseTtl: '30s' } });
    await waitFor(() => a.get(SchedulerService).isLeader(), 10_000, 'a leader');
    const b = await start({ peer: { leaseTtl: '30s' } });
    await a.close();
    apps.splice(apps.indexOf(a), 1);
    await waitFor(() => b.get(SchedulerService).isLeader(), 2_000, 'the follower to take over');
  });

  it('waitForDatabase: a node started while PostgreSQL is unreachable stays up and reports it', async () => {
    const app = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot({ store: { type: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none', schema: db.schema } })],
      providers: [Jobs],
    }).compile();
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    await app.init();
    const health = await app.get(SchedulerService).healthCheck();
    expect(health.status).toBe('down');
    expect(health.store.status).toBe('down');
    await app.close();
  });

  it('a node started while the database is down starts working once it is reachable; an ack made during an outage lands after it', async () => {
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const outage = new Outage(db.url);
    const port = await outage.reservePort();
    const url = new URL(db.url);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    const app = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot({ store: { type: 'postgres', url: url.toString(), schema: db.schema }, pollInterval: '300ms' })],
      providers: [Jobs],
    }).compile();
    await app.init();
    apps.push(app);
    const scheduler = app.get(SchedulerService);
    expect((await scheduler.healthCheck()).status).toBe('down');
    await outage.up();
    await waitFor(async () => (await scheduler.healthCheck()).status === 'up', 15_000, 'the store to become ready');
    const job = await scheduler.enqueue('gate');
    await waitFor(() => app.get(Jobs).gates.length === 1, 5_000, 'the job to start');
    await outage.down();
    // The job ends while the database is unreachable: its acknowledgement waits and is retried.
    app.get(Jobs).gates[0]!();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const state = () =>
      withClient(db.url, async (c) => (await c.query(`SELECT state, result FROM "${db.schema}".scheduler_jobs WHERE id = $1`, [job.id])).rows[0]);
    expect((await state()).state).toBe('running');
    await outage.up();
    await waitFor(async () => (await state()).state === 'completed', 15_000, 'the acknowledgement to land');
    expect((await state()).result).toBe('opened');
    await scheduler.enqueue('record', { after: 'outage' });
    await waitFor(() => app.get(Jobs).runs.some((r) => (r.args as { after?: string }).after === 'outage'), 15_000, 'work after the outage');
    await app.close();
    apps.pop();
    await outage.down();
  });

  it('a node started while the database is down measures its clock against the database before it takes the lease', async () => {
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    // A schema of its own: no lease left by an earlier test's node stands in the way.
    const own = await createTestSchema('e2e_clock');
    const outage = new Outage(own.url);
    const url = new URL(own.url);
    url.hostname = '127.0.0.1';
    url.port = String(await outage.reservePort());
    // A short lease: the peer asks every 500 ms, sooner than the clock's retry (every second).
    const app = await start({ store: { type: 'postgres', url: url.toString(), schema: own.schema }, peer: { leaseTtl: '1500ms' } });
    const scheduler = app.get(SchedulerService);
    // What the node saw, in order: its clock read from the database (clock_timestamp()) and its election.
    const seen: string[] = [];
    const clockNow = PostgresStore.prototype.clockNow;
    vi.spyOn(PostgresStore.prototype, 'clockNow').mockImplementation(async function (this: PostgresStore) {
      const at = await clockNow.call(this);
      seen.push('clock');
      return at;
    });
    scheduler.on('peer:election', () => seen.push('leader'));
    await outage.up();
    try {
      await waitFor(() => scheduler.isLeader(), 15_000, 'the node to lead once the database answers');
      expect(seen.slice(0, 4)).toEqual(['clock', 'clock', 'clock', 'leader']);
      await app.close();
      apps.pop();
    } finally {
      await outage.down();
      await own.drop();
    }
  });

  it('after every connection is killed, the node resumes by itself', async () => {
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    // Every connection of this node (and only of this node: other test files share the server).
    const name = `killed_${randomBytes(4).toString('hex')}`;
    const url = new URL(db.url);
    url.searchParams.set('application_name', name);
    const app = await start({ pollInterval: '300ms', store: { type: 'postgres', url: url.toString(), schema: db.schema } });
    const scheduler = app.get(SchedulerService);
    await scheduler.enqueue('record', { n: 1 });
    await waitFor(() => app.get(Jobs).runs.length === 1, 5_000, 'the first job');
    const killed = await withClient(
      db.url,
      async (c) => (await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name])).rowCount,
    );
    expect(killed).toBeGreaterThanOrEqual(3);
    await waitFor(async () => (await scheduler.healthCheck().catch(() => ({ status: 'down' }))).status === 'up', 10_000, 'the store to answer again');
    await waitFor(
      async () => {
        await scheduler.enqueue('record', { n: 2 }, { unique: 'after-outage' }).catch(() => undefined);
        return app.get(Jobs).runs.some((r) => (r.args as { n: number }).n === 2);
      },
      15_000,
      'a job after the outage',
    );
  });
});
