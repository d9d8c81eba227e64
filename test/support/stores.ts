import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SchedulerModuleOptions } from '../../lib/index.js';
import { createTestSchema } from './postgres.js';
import { redisUrl, testKeyPrefix } from './redis.js';

/** A store for one test: the `store` option (with its poll interval), and what removes its data. */
export interface TestStore {
  options: Pick<SchedulerModuleOptions, 'store' | 'pollInterval'>;
  drop(): Promise<void>;
}

/**
 * The stores an e2e suite runs on, each opened fresh per test: memory,
 * PostgreSQL (a schema of its own), SQLite (a file in a directory of its
 * own) and Redis (a key prefix of its own).
 */
export const TEST_STORES = [
  { kind: 'memory', open: async (): Promise<TestStore> => ({ options: {}, drop: async () => {} }) },
  {
    kind: 'postgres',
    open: async (label: string): Promise<TestStore> => {
      const db = await createTestSchema(label);
      return { options: { store: { type: 'postgres', url: db.url, schema: db.schema }, pollInterval: '200ms' }, drop: () => db.drop() };
    },
  },
  {
    kind: 'sqlite',
    open: async (label: string): Promise<TestStore> => {
      const dir = await mkdtemp(join(tmpdir(), `scheduler-${label}-`));
      return {
        options: { store: { type: 'sqlite', path: join(dir, 'jobs.db') }, pollInterval: '200ms' },
        drop: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    kind: 'redis',
    open: async (label: string): Promise<TestStore> => {
      const prefix = testKeyPrefix(label);
      return { options: { store: { type: 'redis', url: redisUrl(), keyPrefix: prefix.keyPrefix }, pollInterval: '200ms' }, drop: () => prefix.drop() };
    },
  },
] as const;
