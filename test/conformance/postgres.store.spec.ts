import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { runStoreConformance } from '../../lib/store/index.js';
import { createTestSchema } from '../support/postgres.js';

// One schema for the file, emptied between tests: migrating a fresh schema
// per test would cost more than the tests themselves.
let schema: Awaited<ReturnType<typeof createTestSchema>>;
let admin: pg.Client;

beforeAll(async () => {
  schema = await createTestSchema('conf');
  admin = new pg.Client({ connectionString: schema.url });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await schema?.drop();
});

runStoreConformance({ describe, it, expect, beforeEach, afterEach }, 'postgres', async (extra = {}) => {
  const options: PostgresStoreOptions = { type: 'postgres', url: schema.url, schema: schema.schema, poolSize: 4, ...extra };
  const store = new PostgresStore(await openPostgres(options, 'node-test'), options);
  return {
    store,
    cleanup: async () => {
      const t = (name: string) => `"${schema.schema}"."scheduler_${name}"`;
      // DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE of 15 tables takes ~80 ms (4 ms this way).
      // The ids restart as TRUNCATE … RESTART IDENTITY would restart them (the sequences the tables own).
      await admin.query(
        [
          ...[
            'jobs',
            'ready',
            'claims',
            'job_keys',
            'unique_keys',
            'serial_running',
            'queue_counts',
            'dead_letters',
            'schedules',
            'schedule_states',
            'queue_states',
            'leases',
            'workflow_runs',
            'breakers',
            'rate_buckets',
          ].map((name) => `DELETE FROM ${t(name)};`),
          `ALTER SEQUENCE ${t('jobs_id_seq')} RESTART; ALTER SEQUENCE ${t('workflow_runs_id_seq')} RESTART;`,
        ].join(' '),
      );
    },
    ageRateLimits: async (ms: number) => {
      await admin.query(`UPDATE "${schema.schema}"."scheduler_rate_buckets" SET updated_at = updated_at - $1 * interval '1 millisecond'`, [ms]);
    },
  };
});
