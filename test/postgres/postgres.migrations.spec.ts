import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../lib/postgres/migrations/index.js';
import { deadLetterEntriesMigration } from '../../lib/postgres/migrations/010-dead-letter-entries.js';
import { rareFinishedMigration } from '../../lib/postgres/migrations/015-rare-finished.js';
import { breakerVersionsMigration } from '../../lib/postgres/migrations/016-breaker-versions.js';
import { sqlNames } from '../../lib/postgres/sql/names.js';
import { migrate } from '../../lib/postgres/migrations/migrator.js';
import { createSchedulerMigrations } from '../../lib/postgres/migrations/typeorm.migrations.js';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import { InvalidArgumentError, SchedulerConfigError } from '../../lib/scheduler.errors.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { databaseUrl, withClient } from '../support/postgres.js';

const BASE = new Date('2026-01-01T00:00:00Z');
const job = { name: 'work', queue: 'default', args: { n: 1 }, priority: 5, maxAttempts: 3, timeout: null, runAt: BASE };

/** A schema name nobody has created yet; dropped after each test. */
const schemas: string[] = [];
function freshSchema(): string {
  const name = `mig_${randomBytes(6).toString('hex')}`;
  schemas.push(name);
  return name;
}

afterEach(async () => {
  const drop = schemas.splice(0);
  await withClient(databaseUrl(), async (c) => {
    for (const name of drop) await c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  });
});

async function openStore(options: Partial<PostgresStoreOptions>): Promise<PostgresStore> {
  const full: PostgresStoreOptions = { type: 'postgres', url: databaseUrl(), poolSize: 2, ...options };
  return new PostgresStore(await openPostgres(full, 'node'), full);
}

const tables = (schema: string) =>
  withClient(databaseUrl(), async (c) =>
    (await c.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema])).rows.map(
      (r) => r.table_name,
    ),
  );

const columns = (schema: string, table: string) =>
  withClient(databaseUrl(), async (c) =>
    (
      await c.query<{ column_name: string }>('SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY 1', [
        schema,
        table,
      ])
    ).rows.map((r) => r.column_name),
  );
const indexes = (schema: string, table: string) =>
  withClient(databaseUrl(), async (c) =>
    (await c.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY 1', [schema, table])).rows.map(
      (r) => r.indexname,
    ),
  );

describe('migrations', () => {
  it('five nodes booting at once on an empty database apply each migration once', async () => {
    const schema = freshSchema();
    const stores = await Promise.all(Array.from({ length: 5 }, () => openStore({ schema, tablePrefix: 'boot_' })));
    const results = await Promise.allSettled(stores.map((s) => s.init()));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(stores.every((s) => s.ready)).toBe(true);

    const rows = await withClient(databaseUrl(), (c) => c.query(`SELECT id, name FROM "${schema}"."boot_migrations" ORDER BY id`));
    expect(rows.rows).toEqual(MIGRATIONS.map((m) => ({ id: m.id, name: m.name })));
    expect(await tables(schema)).toEqual([
      'boot_breakers',
      'boot_claims',
      'boot_dead_letters',
      'boot_job_keys',
      'boot_jobs',
      'boot_leases',
      'boot_migrations',
      'boot_nodes',
      'boot_offers',
      'boot_queue_counts',
      'boot_queue_states',
      'boot_rare_finished',
      'boot_rate_buckets',
      'boot_ready',
      'boot_schedule_states',
      'boot_schedules',
      'boot_serial_running',
      'boot_unique_keys',
      'boot_workflow_runs',
    ]);
    const [inserted] = await stores[3]!.insert([job]);
    expect((await stores[0]!.get(inserted!.job.id))?.args).toEqual({ n: 1 });
    await Promise.all(stores.map((s) => s.close()));
  });

  it('applies the migrations up to a given one (an older layout), and the rest at the next start', async () => {
    const schema = freshSchema();
    const options: PostgresStoreOptions = { type: 'postgres', url: databaseUrl(), schema, poolSize: 1 };
    const pg = await openPostgres(options, 'node');
    try {
      await expect(migrate(pg, { to: 99 })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await migrate(pg, { to: 1 })).toEqual([1]);
      expect(await migrate(pg, { to: 1 })).toEqual([]);
      expect(await tables(schema)).not.toContain('scheduler_workflow_runs');
      expect(await indexes(schema, 'scheduler_jobs')).toContain('scheduler_jobs_name_idx');
    } finally {
      await pg.close();
    }
    const store = await openStore({ schema });
    await store.init();
    const rows = await withClient(databaseUrl(), (c) => c.query(`SELECT id FROM "${schema}"."scheduler_migrations" ORDER BY id`));
    expect(rows.rows.map((r: { id: number }) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
    await store.close();
    // Never a step back: a target below what is applied changes nothing.
    const again = await openPostgres(options, 'node');
    expect(await migrate(again, { to: 1 })).toEqual([]);
    expect(await tables(schema)).toContain('scheduler_workflow_runs');
    await again.close();
  });

  it('after migration 4, inserts and claims written as an earlier release wrote them fail instead of going unseen', async () => {
    const schema = freshSchema();
    const store = await openStore({ schema });
    await store.init();
    const [stored] = await store.insert([job]);
    await store.close();
    const jobs = `"${schema}".scheduler_jobs`;
    await withClient(databaseUrl(), async (c) => {
      // Migration 3's insert left `state` to its default (now gone): no job without a ready row.
      await expect(
        c.query(`INSERT INTO ${jobs} (name, queue, args, priority, max_attempts, run_at, scheduled_at) VALUES ('old', 'default', '{}', 0, 1, now(), now())`),
      ).rejects.toMatchObject({ code: '23502' });
      // Its claim set `running` on the job row alone: no running job outside a claim.
      await expect(c.query(`UPDATE ${jobs} SET state = 'running', attempt = attempt + 1 WHERE id = $1`, [stored!.job.id])).rejects.toMatchObject({
        code: '23514',
      });
    });
  });

  it('migration 10 fills the dead letters it finds from their jobs, with no alert due', async () => {
    const schema = freshSchema();
    const store = await openStore({ schema });
    await store.init();
    const [a, b] = await store.insert([job, { ...job, queue: 'billing', name: 'charge' }]);
    for (const [inserted, errorClass] of [
      [a!, 'terminal'],
      [b!, undefined],
    ] as const) {
      const [claimed] = await store.claim({ queue: inserted.job.queue, limit: 1, node: 'n', now: BASE });
      const error = { attempt: 1, at: BASE, name: 'Error', message: 'no', kind: 'error', ...(errorClass ? { errorClass } : {}) };
      await store.fail({ id: claimed!.id, attempt: 1 }, 'dead', error, new Date(BASE.getTime() + 1000));
    }
    await store.close();
    // Back to the layout before migration 10, its dead letters as that release kept them (ids only).
    const names = sqlNames({ schema, prefix: 'scheduler_', table: (name) => `"${schema}"."scheduler_${name}"` });
    await withClient(databaseUrl(), async (c) => {
      for (const statement of deadLetterEntriesMigration.down(names)) await c.query(statement);
      await c.query(`DELETE FROM "${schema}".scheduler_migrations WHERE id = 10`);
    });
    const migrated = await openStore({ schema });
    await migrated.init();
    expect(await migrated.deadStats()).toEqual({
      total: 2,
      byQueue: { default: 1, billing: 1 },
      byName: { work: 1, charge: 1 },
      byErrorClass: { terminal: 1, unclassified: 1 },
    });
    expect((await migrated.listDead({ errorClass: 'terminal' }, 10, 0)).map((j) => j.id)).toEqual([a!.job.id]);
    expect(await migrated.takeDeadAlerts(new Date(BASE.getTime() + 60_000), 1000, 10)).toEqual([]);
    await migrated.close();
  });

  it('migration 15 lists the cancelled and discarded jobs it finds, and no other', async () => {
    const schema = freshSchema();
    const store = await openStore({ schema });
    await store.init();
    const [cancelled, discarded, dead, waiting] = await store.insert([job, { ...job, queue: 'billing' }, { ...job, queue: 'billing' }, job]);
    await store.cancel(cancelled!.job.id, BASE, 'stop');
    for (const [inserted, state] of [
      [discarded!, 'discarded'],
      [dead!, 'dead'],
    ] as const) {
      const [claimed] = await store.claim({ queue: 'billing', limit: 1, node: 'n', now: BASE });
      expect(claimed!.id).toBe(inserted.job.id);
      await store.fail({ id: claimed!.id, attempt: 1 }, state, { attempt: 1, at: BASE, name: 'Error', message: 'no', kind: 'error' }, BASE);
    }
    await store.close();
    // Back to migration 14, where no table lists them.
    const names = sqlNames({ schema, prefix: 'scheduler_', table: (name) => `"${schema}"."scheduler_${name}"` });
    await withClient(databaseUrl(), async (c) => {
      for (const statement of rareFinishedMigration.down(names)) await c.query(statement);
      await c.query(`DELETE FROM "${schema}".scheduler_migrations WHERE id = 15`);
    });
    expect(await tables(schema)).not.toContain('scheduler_rare_finished');
    const migrated = await openStore({ schema });
    await migrated.init();
    expect((await migrated.list({ states: ['cancelled', 'discarded'] })).map((j) => j.id)).toEqual([discarded!.job.id, cancelled!.job.id]);
    expect(await migrated.count({ states: ['discarded'], queue: 'billing' })).toBe(1);
    expect(await migrated.count({ states: ['cancelled'], queue: 'billing' })).toBe(0);
    expect(await migrated.get(waiting!.job.id)).toMatchObject({ state: 'available' });
    await migrated.close();
  });

  it('migration 16 keeps each breaker as it was, at version 0, and its next change raises it', async () => {
    const schema = freshSchema();
    const store = await openStore({ schema });
    await store.init();
    const settings = { failureThreshold: 3, successThreshold: 1, resetTimeout: 30_000 };
    await store.breakers.define('api', settings, BASE);
    await store.breakers.record('api', 'failure', false, BASE);
    await store.close();
    // Back to migration 15, where breakers carry no version.
    const names = sqlNames({ schema, prefix: 'scheduler_', table: (name) => `"${schema}"."scheduler_${name}"` });
    await withClient(databaseUrl(), async (c) => {
      for (const statement of breakerVersionsMigration.down(names)) await c.query(statement);
      await c.query(`DELETE FROM "${schema}".scheduler_migrations WHERE id = 16`);
    });
    const migrated = await openStore({ schema });
    await migrated.init();
    expect(await migrated.breakers.list()).toMatchObject([{ name: 'api', state: 'closed', failures: 1, version: 0 }]);
    expect((await migrated.breakers.record('api', 'failure', false, BASE))!.record).toMatchObject({ failures: 2, version: 1 });
    await migrated.close();
  });

  it('keeps two prefixes in one schema apart', async () => {
    const schema = freshSchema();
    const a = await openStore({ schema, tablePrefix: 'a_' });
    const b = await openStore({ schema, tablePrefix: 'b_' });
    await Promise.all([a.init(), b.init()]);
    await a.insert([job]);
    expect(await a.count({})).toBe(1);
    expect(await b.count({})).toBe(0);
    // Same prepared-statement names in one process would clash; they do not.
    expect(await b.claim({ queue: 'default', limit: 5, node: 'n', now: BASE })).toEqual([]);
    expect(await a.claim({ queue: 'default', limit: 5, node: 'n', now: BASE })).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
  });

  it('with migrate: false, refuses to start on missing tables', async () => {
    const schema = freshSchema();
    const store = await openStore({ schema, migrate: false });
    const init = store.init();
    await expect(init).rejects.toBeInstanceOf(SchedulerConfigError);
    await expect(init).rejects.toMatchObject({ option: 'store.migrate' });
    expect(store.ready).toBe(false);
    await store.close();
  });

  it('runs as TypeORM migrations through a DataSource, then serves a store with migrate: false', async () => {
    const schema = freshSchema();
    const migrations = createSchedulerMigrations({ schema, tablePrefix: 'orm_' });
    const names = [
      `Scheduler001Initial_${schema}_orm_1767225600000`,
      `Scheduler002WorkflowRuns_${schema}_orm_1780272000000`,
      `Scheduler003LeanIndexes_${schema}_orm_1796083200000`,
      `Scheduler004ReadyLayout_${schema}_orm_1799020800000`,
      `Scheduler005PushOffers_${schema}_orm_1799107200000`,
      `Scheduler006OfferListeners_${schema}_orm_1799193600000`,
      `Scheduler007UniqueKeys_${schema}_orm_1799280000000`,
      `Scheduler008RateBuckets_${schema}_orm_1799366400000`,
      `Scheduler009CircuitBreakers_${schema}_orm_1799452800000`,
      `Scheduler010DeadLetterEntries_${schema}_orm_1799539200000`,
      `Scheduler011JobProgress_${schema}_orm_1799625600000`,
      `Scheduler012JobPreemptible_${schema}_orm_1799712000000`,
      `Scheduler013JobRetryBudget_${schema}_orm_1799798400000`,
      `Scheduler014Nodes_${schema}_orm_1799884800000`,
      `Scheduler015RareFinished_${schema}_orm_1799971200000`,
      `Scheduler016BreakerVersions_${schema}_orm_1800057600000`,
    ];
    expect(migrations.map((m) => new m().name)).toEqual(names);
    const ds = new DataSource({ type: 'postgres', url: databaseUrl(), migrations, migrationsTableName: `${schema}_typeorm_migrations` });
    await ds.initialize();
    try {
      const ran = await ds.runMigrations({ transaction: 'each' });
      expect(ran.map((m) => m.name)).toEqual(names);
      expect(await tables(schema)).toContain('orm_jobs');
      expect(await tables(schema)).toContain('orm_workflow_runs');

      const store = await openStore({ schema, tablePrefix: 'orm_', migrate: false });
      await store.init();
      const stored = (await store.insert([job]))[0]!.job;
      expect(await store.claim({ queue: 'default', limit: 1, node: 'n', now: BASE })).toMatchObject([{ id: stored.id, attempt: 1 }]);
      await store.close();

      // The built-in migrator sees what TypeORM applied and does nothing more.
      const migrating = await openStore({ schema, tablePrefix: 'orm_' });
      await migrating.init();
      expect(await migrating.count({})).toBe(1);
      await migrating.close();

      expect(await indexes(schema, 'orm_jobs')).toEqual(expect.arrayContaining(['orm_jobs_name_idx', 'orm_jobs_schedule_idx']));
      expect(await indexes(schema, 'orm_jobs')).not.toContain('orm_jobs_runnable_idx');
      expect(await tables(schema)).toContain('orm_ready');
      expect(await tables(schema)).toContain('orm_offers');
      expect(await columns(schema, 'orm_offers')).toContain('listener');
      expect(await columns(schema, 'orm_dead_letters')).toEqual(expect.arrayContaining(['error_class', 'died_at', 'alert_at']));
      expect(await indexes(schema, 'orm_dead_letters')).toContain('orm_dead_letters_died_idx');
      expect(await columns(schema, 'orm_jobs')).toEqual(expect.arrayContaining(['progress', 'preemptible', 'retry_budget']));
      expect(await columns(schema, 'orm_breakers')).toContain('version');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await columns(schema, 'orm_breakers')).not.toContain('version');
      expect(await tables(schema)).toContain('orm_rare_finished');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables(schema)).not.toContain('orm_rare_finished');
      expect(await tables(schema)).toContain('orm_nodes');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables(schema)).not.toContain('orm_nodes');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await columns(schema, 'orm_jobs')).not.toContain('retry_budget');
      expect(await columns(schema, 'orm_jobs')).toContain('preemptible');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await columns(schema, 'orm_jobs')).not.toContain('preemptible');
      expect(await columns(schema, 'orm_jobs')).toContain('progress');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await columns(schema, 'orm_jobs')).not.toContain('progress');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await columns(schema, 'orm_dead_letters')).toEqual(['id']);
      expect(await tables(schema)).toContain('orm_breakers');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables(schema)).not.toContain('orm_breakers');
      expect(await tables(schema)).toContain('orm_rate_buckets');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables(schema)).not.toContain('orm_rate_buckets');
      expect(await tables(schema)).toContain('orm_unique_keys');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables(schema)).not.toContain('orm_unique_keys');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await columns(schema, 'orm_offers')).not.toContain('listener');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables(schema)).not.toContain('orm_offers');
      expect(await tables(schema)).toContain('orm_ready');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables(schema)).not.toContain('orm_ready');
      expect(await indexes(schema, 'orm_jobs')).toContain('orm_jobs_runnable_idx');
      expect(await indexes(schema, 'orm_jobs')).toEqual(expect.arrayContaining(['orm_jobs_finished_name_idx', 'orm_jobs_finished_schedule_idx']));
      expect(await indexes(schema, 'orm_jobs')).not.toContain('orm_jobs_name_idx');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await indexes(schema, 'orm_jobs')).toEqual(expect.arrayContaining(['orm_jobs_name_idx', 'orm_jobs_schedule_idx']));
      expect(await indexes(schema, 'orm_jobs')).not.toContain('orm_jobs_finished_name_idx');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables(schema)).not.toContain('orm_workflow_runs');
      expect(await tables(schema)).toContain('orm_jobs');
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables(schema)).toEqual(['orm_migrations']);
    } finally {
      await ds.query(`DROP TABLE IF EXISTS public."${schema}_typeorm_migrations"`);
      await ds.destroy();
    }
  });
});
