import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The URL of the test PostgreSQL (see postgres.global-setup.ts). */
export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: the global set-up starts PostgreSQL; run the tests through vitest');
  return url;
}

/** A fresh schema for one test file (or test), dropped by `drop()`. */
export async function createTestSchema(prefix = 't'): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const url = databaseUrl();
  await withClient(url, (c) => c.query(`CREATE SCHEMA "${schema}"`));
  return {
    url,
    schema,
    drop: () => withClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).then(() => undefined),
  };
}

/** Runs `work` on a short-lived client. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
