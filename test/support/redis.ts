import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The URL of the test Redis (see redis.global-setup.ts). */
export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set: the global set-up starts Redis; run the tests through vitest');
  return url;
}

/** A key prefix of its own for one test (or file), and what deletes every key under it. */
export function testKeyPrefix(label = 't'): { keyPrefix: string; drop(): Promise<void> } {
  const keyPrefix = `test-${label}-${randomBytes(6).toString('hex')}`;
  return { keyPrefix, drop: () => dropKeys(keyPrefix) };
}

/** Deletes every key of a store's prefix (`{prefix}:*`). */
export async function dropKeys(keyPrefix: string): Promise<void> {
  const client = new Redis(redisUrl(), { lazyConnect: true });
  await client.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${keyPrefix}}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await client.quit();
  }
}
