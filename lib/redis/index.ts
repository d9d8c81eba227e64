/**
 * nestjs-scheduler/redis: the Redis engine (store, leader lease, pub/sub
 * notifier) on ioredis. Choose it with `store: { type: 'redis', url }`;
 * import from here to build one yourself. See docs/redis.md.
 */
export { RedisStore, type RedisStoreSettings } from './redis.store.js';
export { RedisPeer, type RedisPeerOptions } from './redis.peer.js';
export { RedisNotifier, notificationChannel } from './redis.notifier.js';
export { openRedis, closeRedis, type RedisConnection, type RedisConnectOptions, type RedisTimeouts } from './redis.client.js';
export { StoreUnavailableError } from '../scheduler.errors.js';
export type { RedisStoreOptions } from '../store/store-options.js';
export type { ModuleImporter } from '../common/optional-package.js';
