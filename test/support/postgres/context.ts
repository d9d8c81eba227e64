import pg from 'pg';
import type { PostgresContext } from '../../../lib/postgres/postgres.context.js';
import { boundSettings, resolveTimeouts, type PostgresTimeoutOptions } from '../../../lib/postgres/postgres.timeouts.js';
import { withClient } from '../postgres.js';

/** A test context: the library's `PostgresContext` plus what the test set-up needs. */
export interface TestContext extends PostgresContext {
  readonly url: string;
}

/**
 * Builds a `PostgresContext` on a test schema, the way `openPostgres` would:
 * its own pool, dedicated clients from `connect()`, tables `"<schema>"."scheduler_<name>"`
 * and a channel unique to the schema, so parallel test files never hear each other.
 * `applicationName` tags the dedicated connections (to find and kill them in pg_stat_activity).
 */
export function createTestContext(
  url: string,
  schema: string,
  node: string,
  options: { applicationName?: string; timeouts?: PostgresTimeoutOptions } = {},
): TestContext {
  const timeouts = resolveTimeouts(options.timeouts ?? {});
  const pool = new pg.Pool({ connectionString: url, max: 3, ...boundSettings(timeouts.pool, timeouts.keepAliveDelay) });
  pool.on('error', () => {}); // an idle client killed by a test must not crash the worker
  return {
    url,
    pool,
    schema,
    prefix: 'scheduler_',
    channel: `scheduler_${schema}`,
    node,
    timeouts,
    table: (name) => `"${schema}"."scheduler_${name}"`,
    async connect(bounds = timeouts.pool) {
      const client = new pg.Client({ connectionString: url, application_name: options.applicationName, ...boundSettings(bounds, timeouts.keepAliveDelay) });
      await client.connect();
      return client;
    },
    close: () => pool.end(),
  };
}

/** The lease table exactly as the shipped migration creates it (a no-op once the migration has run). */
export async function ensureLeaseTable(url: string, schema: string): Promise<void> {
  await withClient(url, (c) =>
    c.query(`CREATE TABLE IF NOT EXISTS "${schema}"."scheduler_leases" (name text PRIMARY KEY, node text NOT NULL, expires_at timestamptz NOT NULL)`),
  );
}
