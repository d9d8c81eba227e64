import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, type SchedulerModuleOptions } from '../../lib/index.js';
import { createTestSchema } from './postgres.js';
import { redisUrl, testKeyPrefix } from './redis.js';

/**
 * A store for one test: the `store` option (with its poll interval), and what
 * removes its data. Apps started with the same options share the store, as
 * nodes (or a restarted node) would: the memory store is one `MemoryStore`.
 */
export interface TestStore {
  options: Pick<SchedulerModuleOptions, 'store' | 'pollInterval'>;
  drop(): Promise<void>;
}

/** Options every store takes, with the same meaning, set by a suite on whichever store it runs (e.g. a small payload limit). */
export interface TestStoreSettings {
  /** The store's `maxPayloadBytes`. @default the store's own (1 MiB) */
  maxPayloadBytes?: number;
}

/** One store an e2e suite runs on: its kind, and what opens a fresh one (`label` names its schema, file or key prefix). */
export interface TestStoreKind {
  kind: 'memory' | 'postgres' | 'sqlite' | 'redis';
  open(label: string, settings?: TestStoreSettings): Promise<TestStore>;
}

/** Which store a suite runs on (see docs/stores.md for where they may differ). */
export type StoreKind = TestStoreKind['kind'];

/**
 * The stores an e2e suite runs on, each opened fresh per test: memory,
 * PostgreSQL (a schema of its own), SQLite (a file in a directory of its
 * own) and Redis (a key prefix of its own). The shared stores poll every
 * 200 ms: their notifiers wake the runners sooner.
 */
export const TEST_STORES: readonly TestStoreKind[] = [
  {
    kind: 'memory',
    open: async (_label, settings = {}) => ({ options: { store: new MemoryStore(settings) }, drop: async () => {} }),
  },
  {
    kind: 'postgres',
    open: async (label, settings = {}) => {
      const db = await createTestSchema(label);
      return { options: { store: { type: 'postgres', url: db.url, schema: db.schema, ...settings }, pollInterval: '200ms' }, drop: () => db.drop() };
    },
  },
  {
    kind: 'sqlite',
    open: async (label, settings = {}) => {
      const dir = await mkdtemp(join(tmpdir(), `scheduler-${label}-`));
      return {
        options: { store: { type: 'sqlite', path: join(dir, 'jobs.db'), ...settings }, pollInterval: '200ms' },
        drop: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    kind: 'redis',
    open: async (label, settings = {}) => {
      const prefix = testKeyPrefix(label);
      return {
        options: { store: { type: 'redis', url: redisUrl(), keyPrefix: prefix.keyPrefix, ...settings }, pollInterval: '200ms' },
        drop: () => prefix.drop(),
      };
    },
  },
];
