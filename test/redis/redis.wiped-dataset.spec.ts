import { afterEach, describe, expect, it } from 'vitest';
import { openRedis } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { newRun } from '../../lib/store/conformance/workflow-run.fixtures.js';
import { newJobInput } from '../../lib/store/index.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';

/**
 * A dataset wiped under a running node (a Redis restart without persistence,
 * a FLUSHALL): the node still holds attempts of the old jobs, so the new
 * dataset must never hand out their ids, fencing tokens or lease tokens again.
 */
describe('Redis store after its dataset was wiped', () => {
  const drops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const drop of drops.splice(0)) await drop();
  });

  it('gives new jobs, runs and leaderships ids and tokens above the old ones, so that an old attempt acknowledges nothing new', async () => {
    const keys = testKeyPrefix('wiped');
    const redis = await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix });
    const store = new RedisStore(redis);
    drops.push(async () => {
      await store.close();
      await keys.drop();
    });
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
});
