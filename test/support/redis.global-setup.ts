import { startRedisServer } from './redis-server.js';

/**
 * Real Redis for the tests: `REDIS_URL` when it is set (CI points it at the
 * machine's server); otherwise a `redis-server` from the machine's binary,
 * started here on a free port for the whole run (its URL is inherited by
 * the test workers) and stopped after. Never skipped: without either, the
 * run fails here saying so.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.REDIS_URL) return async () => {};
  const server = await startRedisServer();
  process.env.REDIS_URL = server.url;
  return () => server.stop();
}
