import { Logger } from '@nestjs/common';
import type { StoreBundle, StoreContext } from '../store/store-bundle.js';
import type { RedisStoreOptions } from '../store/store-options.js';
import { openRedis } from './redis.client.js';
import { notificationChannel, RedisNotifier } from './redis.notifier.js';
import { RedisPeer } from './redis.peer.js';
import { evictionWarning, persistenceWarning, readPersistence } from './redis.persistence.js';
import { RedisStore } from './redis.store.js';

/**
 * Builds the Redis engine: store, leader lease and pub/sub notifier on one
 * server and key prefix. Warns when the server keeps nothing on disk, or
 * evicts keys under memory pressure (CONFIG disabled: no warning, nothing to tell).
 * @internal
 */
export async function createRedisBundle(options: RedisStoreOptions, context: StoreContext): Promise<StoreBundle> {
  const redis = await openRedis({ ...options, waitForDatabase: options.waitForDatabase ?? true });
  const store = new RedisStore(redis, { maxPayloadBytes: options.maxPayloadBytes });
  const warn = async (): Promise<void> => {
    const logger = new Logger('Scheduler');
    // An evicting policy loses jobs whatever is kept on disk: told even with warnWithoutPersistence: false.
    const eviction = await evictionWarning(redis);
    if (eviction) logger.warn(eviction);
    if (options.warnWithoutPersistence === false) return;
    const warning = persistenceWarning(await readPersistence(redis));
    if (warning) logger.warn(warning);
  };
  // A server not reached yet (waitForDatabase) is asked once it answers.
  if (redis.client.status === 'ready') await warn();
  else redis.client.once('ready', () => void warn().catch(() => undefined));
  const notifier = new RedisNotifier(redis, notificationChannel(redis));
  const peer = new RedisPeer(redis, {
    node: context.node,
    leaseTtl: context.leaseTtl,
    eligible: context.peerEligible,
    notifier,
    channel: notifier.channel,
  });
  return { store, peer, notifier };
}
