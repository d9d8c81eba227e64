import { afterEach, describe, expect, it } from 'vitest';
import { openRedis } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { newRun } from '../../lib/store/conformance/workflow-run.fixtures.js';
import { newJobInput } from '../../lib/store/index.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';

/**
 * A dataset wiped under a running node (a Redis restart without persistence,
 * a FLUSHALL): the node still holds attempts of the old jobs, so the new
 * dataset must never hand out their ids, fencing tokens or lease tokens
 * again. And a part of one lost (a job hash evicted or deleted by hand).
 */
describe('Redis store after its dataset was wiped', () => {
  const drops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const drop of drops.splice(0)) await drop();
  });

  /** A store on a key prefix of its own, dropped after the test. */
  async function open(label: string) {
    const keys = testKeyPrefix(label);
    const redis = await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix });
    const store = new RedisStore(redis);
    drops.push(async () => {
      await store.close();
      await keys.drop();
    });
    return { keys, redis, store };
  }

  it('gives new jobs, runs and leaderships ids and tokens above the old ones, so that an old attempt acknowledges nothing new', async () => {
    const { keys, redis, store } = await open('wiped');
    const now = new Date();
    const claimAll = () => store.claim({ queue: 'default', limit: 10, node: 'n1', now });
    await store.insert([newJobInput(now), newJobInput(now), newJobInput(now)]);
    const old = await claimAll();
    const oldRun = await store.createRun(newRun(), now);
    const oldLease = Number(await redis.run('schedTakeLease', 'n1', 60_000));

    await keys.drop();

    const inserted = await store.insert([newJobInput(now), newJobInput(now), newJobInput(now)]);
    const fresh = await claimAll();
    expect(fresh).toHaveLength(3);
    const oldIds = old.map((job) => Number(job.id));
    for (const { job } of inserted) expect(Number(job.id)).toBeGreaterThan(Math.max(...oldIds));
    for (const job of fresh) expect(job.fencingToken).toBeGreaterThan(Math.max(...old.map((o) => o.fencingToken)));
    expect(Number((await store.createRun(newRun(), now)).id)).toBeGreaterThan(Number(oldRun.id));
    expect(Number(await redis.run('schedTakeLease', 'n2', 60_000))).toBeGreaterThan(oldLease);

    // The old node's acknowledgements find no job of theirs: refused, and the new jobs stay as they were.
    for (const job of old) {
      await expect(store.complete({ id: job.id, attempt: job.attempt }, { from: 'old' }, now)).rejects.toThrow();
    }
    for (const job of fresh) expect(await store.get(job.id)).toMatchObject({ state: 'running', attempt: 1, result: null });
  });

  it('a job hash gone under its indexes (evicted, deleted by hand) stops neither claims nor rescue passes: its entries leave the indexes', async () => {
    const { redis, store } = await open('dangling');
    const now = new Date();
    const [gone, ...kept] = await store.insert([newJobInput(now), newJobInput(now), newJobInput(now)]);
    await redis.client.del(`${redis.base}job:${gone!.job.id}`);
    const claimed = await store.claim({ queue: 'default', limit: 10, node: 'n1', now });
    expect(claimed.map((job) => job.id)).toEqual(kept.map((r) => r.job.id));
    expect(await redis.client.zscore(`${redis.base}ready:default`, gone!.job.id.padStart(16, '0'))).toBeNull();

    await redis.client.del(`${redis.base}job:${claimed[0]!.id}`);
    const rescued = await store.rescue(new Date(now.getTime() + 60_000), now);
    expect(rescued.map((job) => job.id)).toEqual([claimed[1]!.id]);
    expect(await redis.client.zscore(`${redis.base}running`, claimed[0]!.id)).toBeNull();
  });
});
