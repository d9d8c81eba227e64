import { afterEach, describe, expect, it } from 'vitest';
import { openRedis } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { newJobInput } from '../../lib/store/index.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';

/** Job hashes whose optional fields are absent: a later version may stop writing them, and this one must read them. */
describe('Redis job hashes without their default-valued fields', () => {
  const drops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const drop of drops.splice(0)) await drop();
  });

  it('reads, lists, searches by tag and claims a job whose hash lacks tags, meta, misfired and fencing token', async () => {
    const keys = testKeyPrefix('fields');
    const redis = await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix });
    const store = new RedisStore(redis);
    drops.push(async () => {
      await store.close();
      await keys.drop();
    });
    const now = new Date('2026-12-06T00:00:00.000Z');
    const [tagged, bare] = await store.insert([newJobInput(now, { tags: ['a'], meta: { k: 1 } }), newJobInput(now)]);
    expect(await redis.client.hget(`${redis.base}job:${bare!.job.id}`, 'misfired')).toBeNull();
    await redis.client.hdel(`${redis.base}job:${bare!.job.id}`, 'tags', 'meta', 'fencingToken');

    expect(await store.get(bare!.job.id)).toMatchObject({ tags: [], meta: {}, misfired: false, fencingToken: 0, state: 'available' });
    expect((await store.list({ tags: ['a'] })).map((j) => j.id)).toEqual([tagged!.job.id]);
    expect((await store.list({})).map((j) => j.id).sort()).toEqual([tagged!.job.id, bare!.job.id].sort());
    const claimed = await store.claim({ queue: 'default', limit: 2, node: 'n1', now });
    expect(claimed.map((j) => [j.id, j.tags, j.meta])).toEqual([
      [tagged!.job.id, ['a'], { k: 1 }],
      [bare!.job.id, [], {}],
    ]);
    expect(claimed[1]!.fencingToken).toBeGreaterThan(0);
  });
});
