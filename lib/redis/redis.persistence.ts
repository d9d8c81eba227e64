import type { RedisConnection } from './redis.client.js';

/**
 * What the server keeps on disk, from `CONFIG GET appendonly` and `save`:
 * `aof` (with its fsync policy), `rdb` (snapshots only), `none`, or
 * `unknown` when CONFIG is disabled (managed services often rename it).
 * @internal
 */
export type RedisPersistence = { kind: 'aof'; fsync: string } | { kind: 'rdb'; save: string } | { kind: 'none' } | { kind: 'unknown'; reason: string };

/**
 * Reads the server's persistence settings.
 * @internal
 */
export async function readPersistence(redis: RedisConnection): Promise<RedisPersistence> {
  try {
    const [, appendonly] = (await redis.client.config('GET', 'appendonly')) as string[];
    if (appendonly === 'yes') {
      const [, fsync] = (await redis.client.config('GET', 'appendfsync')) as string[];
      return { kind: 'aof', fsync: fsync ?? 'everysec' };
    }
    const [, save] = (await redis.client.config('GET', 'save')) as string[];
    return save ? { kind: 'rdb', save } : { kind: 'none' };
  } catch (error) {
    return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The warning for a server whose persistence loses jobs at a restart, or `null`.
 * @internal
 */
export function persistenceWarning(persistence: RedisPersistence): string | null {
  switch (persistence.kind) {
    case 'none':
      return 'the Redis server keeps nothing on disk (appendonly no, no save points): every job is lost when it restarts. Turn on AOF (appendonly yes, appendfsync everysec or always); see docs/redis.md';
    case 'rdb':
      return `the Redis server only takes RDB snapshots (save ${persistence.save}): jobs enqueued since the last one are lost when it restarts. Turn on AOF (appendonly yes); see docs/redis.md`;
    case 'unknown':
      return null;
    case 'aof':
      return persistence.fsync === 'no'
        ? 'the Redis server writes its AOF with appendfsync no: the last seconds of jobs may be lost when the machine fails; see docs/redis.md'
        : null;
  }
}

/**
 * The warning for a server whose `maxmemory-policy` evicts keys, or `null`
 * (`noeviction`, or CONFIG disabled: nothing to tell). Under memory pressure
 * such a policy deletes jobs, or the indexes that point at them, without
 * telling anyone; with `noeviction` the server refuses writes instead, and
 * the store retries its acknowledgements until memory is back.
 * @internal
 */
export async function evictionWarning(redis: RedisConnection): Promise<string | null> {
  let policy: string | undefined;
  try {
    [, policy] = (await redis.client.config('GET', 'maxmemory-policy')) as string[];
  } catch {
    return null;
  }
  if (!policy || policy === 'noeviction') return null;
  return `the Redis server's maxmemory-policy is ${policy}: when it reaches maxmemory it deletes keys, and so loses jobs (or the indexes that point at them) without telling anyone. Set maxmemory-policy noeviction (Redis's default); see docs/redis.md`;
}
