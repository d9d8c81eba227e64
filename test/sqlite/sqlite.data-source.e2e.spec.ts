import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, SchedulerConfigError, SchedulerModule, SchedulerService, type JobContext, type SchedulerModuleOptions } from '../../lib/index.js';
import { createSqliteBundle } from '../../lib/sqlite/sqlite.bundle.js';
import type { Job } from '../../lib/store/job.types.js';
import { waitFor } from '../support/wait.js';

@Entity('invoices')
class Invoice {
  @PrimaryGeneratedColumn()
  id!: number;
  @Column('text')
  title!: string;
}

/** Whether a transaction is open on the DataSource's connection now (the test's, the only one). */
const inTransaction = (ds: DataSource): boolean =>
  (ds.driver as unknown as { databaseConnection: { inTransaction: boolean } }).databaseConnection.inTransaction;

@Injectable()
class Mailer {
  runs: { id: string; args: unknown; inTransaction: boolean }[] = [];
  /** The DataSource the test runs its transactions on. */
  static dataSource: DataSource;
  @Scheduled({ name: 'mail' })
  mail(ctx: JobContext) {
    this.runs.push({ id: ctx.id, args: ctx.args, inTransaction: inTransaction(Mailer.dataSource) });
  }
}

describe('SchedulerModule on SQLite with a TypeORM DataSource', () => {
  let dir: string;
  let ds: DataSource;
  const apps: TestingModule[] = [];

  /** Boots an app as a user would, on the test's DataSource (real clock). */
  const start = async (store: SchedulerModuleOptions['store'] = { type: 'sqlite', dataSource: ds }): Promise<TestingModule> => {
    const app = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot({ store, pollInterval: '100ms', peer: { leaseTtl: '3s' } })],
      providers: [Mailer],
    }).compile();
    apps.push(app);
    await app.init();
    return app;
  };
  const titles = async (): Promise<string[]> => (await ds.getRepository(Invoice).find({ order: { id: 'ASC' } })).map((i) => i.title);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-ds-e2e-'));
    ds = new DataSource({ type: 'better-sqlite3', database: join(dir, 'app.db'), entities: [Invoice], synchronize: true });
    await ds.initialize();
    Mailer.dataSource = ds;
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    if (ds.isInitialized) await ds.destroy();
    await rm(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('runs jobs, and leaves the DataSource initialised and usable at shutdown', async () => {
    const app = await start();
    const job = await app.get(SchedulerService).enqueue('mail', { to: 'a@example.com' });
    const mailer = app.get(Mailer);
    await waitFor(() => mailer.runs.length > 0, 5_000, 'the job to run');
    expect(mailer.runs).toEqual([{ id: job.id, args: { to: 'a@example.com' }, inTransaction: false }]);
    await app.close();
    apps.splice(0);
    expect(ds.isInitialized).toBe(true);
    await ds.getRepository(Invoice).save({ title: 'after shutdown' });
    expect(await titles()).toEqual(['after shutdown']);
  });

  it('commits a job enqueued with { manager } with the caller row, and rolls both back on a throw', async () => {
    const app = await start();
    const scheduler = app.get(SchedulerService);
    const mailer = app.get(Mailer);
    await expect(
      ds.transaction(async (manager) => {
        await manager.save(Invoice, { title: 'dropped' });
        await scheduler.enqueue('mail', { invoice: 'dropped' }, { manager });
        throw new Error('payment declined');
      }),
    ).rejects.toThrow('payment declined');
    expect(await titles()).toEqual([]);
    expect(await scheduler.history('mail')).toEqual([]);

    const job = await ds.transaction(async (manager) => {
      const invoice = await manager.save(Invoice, { title: 'kept' });
      return scheduler.enqueue('mail', { invoice: invoice.id }, { manager });
    });
    expect(await titles()).toEqual(['kept']);
    await waitFor(() => mailer.runs.length > 0, 5_000, 'the committed job to run');
    expect(mailer.runs.map((r) => r.id)).toEqual([job.id]);
    // The completion is written after the handler returns (with the other acks of its turn): waited for, not raced.
    await waitFor(async () => (await scheduler.history('mail')).length > 0, 5_000, 'the job to be recorded finished');
    expect((await scheduler.history('mail')).map((j) => j.id)).toEqual([job.id]);
  });

  it('starts a job enqueued in a transaction only after the commit, though its queue claims meanwhile', async () => {
    let claimsStarted = 0;
    const claimed: { ids: string[]; inTransaction: boolean }[] = [];
    // The real engine, its claims counted: the test waits until its queue tries while the transaction is open.
    const app = await start(async (context) => {
      const bundle = await createSqliteBundle({ type: 'sqlite', dataSource: ds }, context);
      const claim = bundle.store.claim.bind(bundle.store);
      bundle.store.claim = async (request): Promise<Job[]> => {
        claimsStarted++;
        const jobs = await claim(request);
        claimed.push({ ids: jobs.map((j) => j.id), inTransaction: inTransaction(ds) });
        return jobs;
      };
      return bundle;
    });
    const mailer = app.get(Mailer);
    const scheduler = app.get(SchedulerService);
    const job = await ds.transaction(async (manager) => {
      await manager.save(Invoice, { title: 'order 1' });
      const enqueued = await scheduler.enqueue('mail', { order: 1 }, { manager });
      const before = claimsStarted;
      await waitFor(() => claimsStarted > before, 5_000, 'a claim of the queue while the transaction is open');
      return enqueued;
    });
    await waitFor(() => mailer.runs.length > 0, 5_000, 'the job to run after the commit');
    expect(mailer.runs).toEqual([{ id: job.id, args: { order: 1 }, inTransaction: false }]);
    // Claims asked for while the transaction was open waited for its end: the one that took the job ran after the commit.
    expect(claimed.filter((c) => c.ids.includes(job.id))).toEqual([{ ids: [job.id], inTransaction: false }]);
  });

  it.each([
    ['of another driver', () => new DataSource({ type: 'postgres', url: 'postgres://127.0.0.1:1/none' }), /needs the "better-sqlite3" driver, not "postgres"/],
    ['not initialised', () => new DataSource({ type: 'better-sqlite3', database: join(dir, 'later.db') }), /must be initialized/],
  ])('refuses at start a DataSource %s with a SchedulerConfigError', async (_, make, message) => {
    const error = await start({ type: 'sqlite', dataSource: make() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect(error).toMatchObject({ option: 'store.dataSource' });
    expect((error as Error).message).toMatch(message);
  });
});
