import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEmbeddedPostgres } from './embedded-postgres.loader.js';

/**
 * Real PostgreSQL for the tests: `DATABASE_URL` when it is set (CI points it
 * at the machine's server); otherwise an embedded PostgreSQL started here,
 * once for the whole run, whose URL the test workers inherit. Never skipped,
 * never faked. See docs/testing.md.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) return async () => {};
  const { EmbeddedPostgres, cleanup } = await loadEmbeddedPostgres();
  const parent = await mkdtemp(join(tmpdir(), 'nestjs-scheduler-pg-'));
  // initdb refuses a data directory whose parent is not traversable by the
  // postgres user; mkdtemp creates 0700.
  await chmod(parent, 0o755);
  const port = 54_000 + Math.floor(Math.random() * 1_000);
  const log: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: true,
    onLog: (message) => void log.push(String(message)),
    onError: (error) => void log.push(String(error)),
  });
  const stop = async (): Promise<void> => {
    await pg.stop();
    await rm(parent, { recursive: true, force: true });
    await cleanup();
  };
  try {
    await pg.initialise();
    await pg.start();
    await pg.createDatabase('test');
  } catch (error) {
    await stop().catch(() => {});
    throw new Error(
      `the embedded PostgreSQL did not start (${(error as Error | undefined)?.message ?? 'the server exited'}). ` +
        'Set DATABASE_URL to a PostgreSQL server you run (see docs/testing.md). Its output:\n' +
        log.join('').slice(-4_000),
    );
  }
  process.env.DATABASE_URL = `postgres://postgres:postgres@127.0.0.1:${port}/test`;
  return stop;
}
