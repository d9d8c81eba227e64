import { afterEach, it } from 'vitest';
import { openRedis } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';
import { OLD_BREAKER, readsAsVersionZero } from '../support/breakers.js';

const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const drop of drops.splice(0)) await drop();
});

it('Redis: a breaker stored before versions reads as version 0, and its next change raises it', async () => {
  const keys = testKeyPrefix('breaker-versions');
  const redis = await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix });
  const store = new RedisStore(redis);
  drops.push(async () => {
    await store.close();
    await keys.drop();
  });
  await store.init();
  await redis.client.hset(`${redis.base}brk`, 'api', OLD_BREAKER);
  await readsAsVersionZero(store.breakers);
});
