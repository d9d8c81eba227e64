import { afterEach, describe, expect, it } from 'vitest';
import { openRedis } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { newJobInput } from '../../lib/store/index.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';

/** Job hashes without their default-valued fields: inserts leave them out (empty tags and meta, a false `misfired`, no fencing token yet), and every reader takes them as the defaults. */
describe('Redis job hashes without their default-valued fields', () => {
  const drops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const drop of drops.splice(0)) await drop();
  });

  it('leaves empty tags and meta, a false misfired and the fencing token out of a new hash, and reads, lists, searches by tag and claims such a job', async () => {
    const keys = testKeyPrefix('fields');
    const redis = await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix });
    const store = new RedisStore(redis);
    drops.push(async () => {
      await store.close();
      await keys.drop();
    });
    const now = new Date('2026-12-06T00:00:00.000Z');
    const [tagged, bare] = await store.insert([newJobInput(now, { tags: ['a'], meta: { k: 1 } }), newJobInput(now)]);
    const fields = (id: string) => redis.client.hkeys(`${redis.base}job:${id}`);
    const bareFields = await fields(bare!.job.id);
    for (const field of ['tags', 'meta', 'misfired', 'fencingToken']) expect(bareFields).not.toContain(field);
    expect(await fields(tagged!.job.id)).toEqual(expect.arrayContaining(['tags', 'meta']));
    expect(bare!.job).toMatchObject({ tags: [], meta: {}, misfired: false, fencingToken: 0 });

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
