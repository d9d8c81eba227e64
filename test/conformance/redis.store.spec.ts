import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRedis } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { runStoreConformance } from '../../lib/store/index.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';

// A key prefix per test, its keys deleted after it.
runStoreConformance({ describe, it, expect, beforeEach, afterEach }, 'redis', async (options = {}) => {
  const { keyPrefix, drop } = testKeyPrefix('conf');
  const store = new RedisStore(await openRedis({ url: redisUrl(), keyPrefix }), options);
  return { store, cleanup: drop };
});
