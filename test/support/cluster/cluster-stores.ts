import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it, onTestFinished } from 'vitest';
import type { JobStore } from '../../../lib/store/job-store.js';
import type { Job } from '../../../lib/store/job.types.js';
import type { BreakerRecord } from '../../../lib/breakers/circuit-breaker.types.js';
import type { WorkflowRun } from '../../../lib/store/workflow-run.types.js';
import { createTestSchema } from '../postgres.js';
import { redisUrl, testKeyPrefix } from '../redis.js';
import { clusterJobInputs, createLedger, type ClusterJob, type NodeSettings } from './cluster.js';

/** A store the multi-process tests run their nodes on. */
export type ClusterStoreKind = 'postgres' | 'redis' | 'sqlite';

/** Every store whose nodes can share jobs across processes. */
export const CLUSTER_STORES: readonly ClusterStoreKind[] = ['postgres', 'redis', 'sqlite'];

/**
 * `it` inside a `describe.each` over stores when `kind` is one of `stores`,
 * else nothing is declared: a scenario whose code does not depend on the
 * store runs on some of them only (each a few real processes for seconds),
 * so that `npm test` stays within its time.
 */
export function itOn(kind: ClusterStoreKind, stores: readonly ClusterStoreKind[]): typeof it {
  return stores.includes(kind) ? it : ((() => undefined) as unknown as typeof it);
}

/**
 * The jobs of one test on one store, and its ledger (always a PostgreSQL
 * schema of its own, which the nodes' jobs write to whatever the store).
 */
export interface ClusterStore {
  /** The ledger's database and schema. */
  url: string;
  schema: string;
  /** The ledger table, schema-qualified, to name in SQL. */
  ledger: string;
  /** A node's settings on this store. */
  settings(name: string, extra?: Partial<NodeSettings>): NodeSettings;
  /** Inserts jobs as another process would, through the store itself (no scheduler). */
  insert(jobs: readonly ClusterJob[]): Promise<void>;
  /** The jobs of a handler, oldest first. */
  jobs(name: string): Promise<Job[]>;
  /** A workflow run, or `null`. */
  run(id: string): Promise<WorkflowRun | null>;
  /** A circuit breaker as the store keeps it, or `null`. */
  breaker(name: string): Promise<BreakerRecord | null>;
  /** The test's own connection to the store, for what the helpers above do not read. */
  readonly direct: JobStore;
  /** Closes the test's connection and removes the jobs and the ledger (also done when the test finishes, passed or failed). */
  drop(): Promise<void>;
}

/** Opens a fresh store of `kind` (a schema, a key prefix or a file in a temporary directory), with its ledger. */
export async function openClusterStore(kind: ClusterStoreKind, label: string): Promise<ClusterStore> {
  const db = await createTestSchema(label);
  await createLedger(db.url, db.schema);
  const opened = await openJobs(kind, db.url, db.schema, label);
  await opened.store.init();
  let dropped: Promise<void> | undefined;
  const drop = () =>
    (dropped ??= (async () => {
      await opened.store.close();
      await opened.remove();
      await db.drop();
    })());
  // Registered before the test starts its nodes, so it runs after their kill (finish hooks run last-registered first).
  onTestFinished(drop);
  return {
    url: db.url,
    schema: db.schema,
    ledger: `"${db.schema}".ledger`,
    settings: (name, extra = {}) => ({ url: db.url, schema: db.schema, name, ...opened.where, ...extra }),
    async insert(jobs) {
      await opened.store.insert(clusterJobInputs(jobs));
    },
    jobs: (name) => opened.store.list({ name, limit: 100_000, order: 'asc' }),
    run: (id) => opened.store.getRun(id),
    direct: opened.store,
    breaker: async (name) => (await opened.store.breakers!.list()).find((b) => b.name === name) ?? null,
    drop,
  };
}

/** The store of `kind` as the test process opens it, what a node's settings say to share it, and what removes its data. */
async function openJobs(
  kind: ClusterStoreKind,
  url: string,
  schema: string,
  label: string,
): Promise<{ store: JobStore; where: Partial<NodeSettings>; remove(): Promise<void> }> {
  if (kind === 'redis') {
    const { openRedis } = await import('../../../lib/redis/redis.client.js');
    const { RedisStore } = await import('../../../lib/redis/redis.store.js');
    const keys = testKeyPrefix(label);
    const store = new RedisStore(await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix }));
    return { store, where: { redis: { url: redisUrl(), keyPrefix: keys.keyPrefix } }, remove: () => keys.drop() };
  }
  if (kind === 'sqlite') {
    const { openSqlite } = await import('../../../lib/sqlite/sqlite.connection.js');
    const { SqliteStore } = await import('../../../lib/sqlite/sqlite.store.js');
    const dir = await mkdtemp(join(tmpdir(), `scheduler-${label}-`));
    const path = join(dir, 'jobs.db');
    const store = new SqliteStore(await openSqlite({ type: 'sqlite', path }));
    return { store, where: { sqlite: { path } }, remove: () => rm(dir, { recursive: true, force: true }) };
  }
  const { openPostgres } = await import('../../../lib/postgres/postgres.connection.js');
  const { PostgresStore } = await import('../../../lib/postgres/postgres.store.js');
  const store = new PostgresStore(await openPostgres({ type: 'postgres', url, schema }, 'test'), { type: 'postgres', url, schema });
  return { store, where: {}, remove: async () => {} };
}
