import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SystemClock } from '../../lib/clock/clock.js';
import { createRedisBundle } from '../../lib/redis/redis.bundle.js';
import { openRedis, type RedisConnection } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { StoreUnavailableError } from '../../lib/scheduler.errors.js';
import { newJobInput } from '../../lib/store/index.js';
import type { JobAttemptError } from '../../lib/store/job.types.js';
import { startRedisServer } from '../support/redis-server.js';

const HOUR = 3_600_000;

/**
 * A Redis that refuses writes: `maxmemory` reached under `noeviction`
 * (OOM replies), and a policy that would evict keys. On a server of its own,
 * since it changes the server's configuration.
 */
describe('Redis store when the server refuses writes', () => {
  let server: Awaited<ReturnType<typeof startRedisServer>>;
  let admin: Redis;
  let redis: RedisConnection;
  let store: RedisStore;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    redis = await openRedis({ url: server.url, keyPrefix: 'oom' });
    store = new RedisStore(redis);
  });
  afterAll(async () => {
    await store?.close();
    await admin?.quit();
    await server?.stop();
  });

  /** Makes every write refused: maxmemory below what the server uses now. */
  async function fill(): Promise<void> {
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    await admin.config('SET', 'maxmemory', String(Math.floor(used / 2)));
  }
  const unfill = () => admin.config('SET', 'maxmemory', '0');

  const failure = (attempt: number): JobAttemptError => ({ attempt, at: new Date(), name: 'Error', message: 'failed', kind: 'error' });

  it('refuses enqueues with StoreUnavailableError, writing nothing, and takes them again once memory is back', async () => {
    const now = new Date();
    await store.insert([newJobInput(now)]);
    const before = { all: await admin.zcard('{oom}:all'), seq: await admin.get('{oom}:seq'), keys: (await admin.keys('{oom}:*')).length };
    await fill();
    try {
      for (const jobs of [[newJobInput(now)], [newJobInput(now), newJobInput(now), newJobInput(now)]]) {
        const error = await store.insert(jobs).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect((error as Error).message).toMatch(/out of memory .*maxmemory.*Nothing was written/);
        expect(((error as Error).cause as Error).message).toMatch(/^OOM /);
      }
      expect({ all: await admin.zcard('{oom}:all'), seq: await admin.get('{oom}:seq'), keys: (await admin.keys('{oom}:*')).length }).toEqual(before);
    } finally {
      await unfill();
    }
    expect(await store.insert([newJobInput(now)])).toMatchObject([{ inserted: true }]);
  });

  it('acknowledgements refused for lack of memory wait, and land once memory is back: no job is left running to run twice', async () => {
    const now = new Date();
    await store.insert([newJobInput(now), newJobInput(now), newJobInput(now)]);
    const [a, b, c] = (await store.claim({ queue: 'default', limit: 3, node: 'n', now })).map((job) => ({ id: job.id, attempt: job.attempt }));
    await fill();
    const outcomes: string[] = ['pending', 'pending', 'pending'];
    let acks: Promise<void>[];
    try {
      acks = [
        store.complete(a!, { ok: true }, now),
        store.retry(b!, new Date(now.getTime() + HOUR), failure(b!.attempt)),
        store.fail(c!, 'dead', failure(c!.attempt), now),
      ];
      for (const [i, ack] of acks.entries()) {
        ack.then(
          () => (outcomes[i] = 'written'),
          (error: unknown) => (outcomes[i] = `refused: ${(error as Error).message}`),
        );
      }
      await sleep(700);
      expect(outcomes).toEqual(['pending', 'pending', 'pending']);
      expect(await store.get(a!.id)).toMatchObject({ state: 'running', attempt: 1 });
    } finally {
      await unfill();
    }
    await Promise.all(acks);
    expect(await store.get(a!.id)).toMatchObject({ state: 'completed', attempt: 1, result: { ok: true } });
    expect(await store.get(b!.id)).toMatchObject({ state: 'available', attempt: 1, errors: [{ message: 'failed' }] });
    expect(await store.get(c!.id)).toMatchObject({ state: 'dead', attempt: 1 });
    expect(await store.rescue(new Date(now.getTime() + HOUR), now)).toEqual([]);
  });

  it('warns at start when maxmemory-policy evicts keys, even with warnWithoutPersistence: false', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const context = { node: 'n', clock: new SystemClock(), leaseTtl: 30_000, peerEligible: false };
    try {
      for (const [policy, warns] of [
        ['allkeys-lru', true],
        ['volatile-lru', true],
        ['noeviction', false],
      ] as const) {
        warn.mockClear();
        await admin.config('SET', 'maxmemory-policy', policy);
        const bundle = await createRedisBundle({ type: 'redis', url: server.url, keyPrefix: 'warn', warnWithoutPersistence: false }, context);
        await (bundle.store as RedisStore).close();
        const said = warn.mock.calls.map(([message]) => String(message));
        expect(said.some((m) => m.includes(`maxmemory-policy is ${policy}`))).toBe(warns);
      }
    } finally {
      warn.mockRestore();
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });
});
