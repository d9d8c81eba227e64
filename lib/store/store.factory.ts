import { LocalNotifier } from '../notifier/notifier.js';
import { LocalPeer } from '../peer/peer.js';
import { IncompleteStoreError, SchedulerConfigError } from '../scheduler.errors.js';
import type { StoreOption } from '../scheduler.options.js';
import { MemoryStore } from './memory.store.js';
import type { CustomStoreOption, StoreBundle, StoreContext } from './store-bundle.js';
import type { MemoryStoreOptions, PostgresStoreOptions, RedisStoreOptions, SqliteStoreOptions } from './store-options.js';

/**
 * The engine named by the `store` option: always a store with its peer and
 * notifier. The PostgreSQL, Redis and SQLite engines are loaded only when
 * asked for, so apps on the memory store need neither `typeorm`, `pg`,
 * `ioredis` nor `better-sqlite3` installed. A store that
 * comes without a peer or notifier is refused ({@link IncompleteStoreError}):
 * in-process defaults would make every node leader and keep cancels on the
 * node that sent them.
 * @internal
 */
export async function createStore(option: StoreOption, context: StoreContext): Promise<StoreBundle> {
  if (option === 'memory') return localBundle(new MemoryStore(), context);
  if (option instanceof MemoryStore) return localBundle(option, context);
  if (typeof option === 'function') return completeBundle(await option(context), context);
  if (typeof option === 'object' && option !== null && 'type' in option) {
    if (option.type === 'memory') {
      return localBundle(new MemoryStore({ maxPayloadBytes: (option as MemoryStoreOptions).maxPayloadBytes }), context);
    }
    if (option.type === 'postgres') {
      const { createPostgresBundle } = await import('../postgres/postgres.bundle.js');
      return createPostgresBundle(option as PostgresStoreOptions, context);
    }
    if (option.type === 'redis') {
      const { createRedisBundle } = await import('../redis/redis.bundle.js');
      return createRedisBundle(option as RedisStoreOptions, context);
    }
    if (option.type === 'sqlite') {
      const { createSqliteBundle } = await import('../sqlite/sqlite.bundle.js');
      return createSqliteBundle(option as SqliteStoreOptions, context);
    }
  }
  if (typeof option === 'object' && option !== null && 'store' in option) return completeBundle(option, context);
  if (isJobStore(option)) throw new IncompleteStoreError(['peer', 'notifier']);
  throw new SchedulerConfigError('SchedulerModule', 'store', `unknown store ${describe(option)}`);
}

/** The memory store's engine: this process is the whole cluster. */
function localBundle(store: MemoryStore, context: StoreContext): StoreBundle {
  return completeBundle({ store, peer: 'local', notifier: 'local' }, context);
}

/** A user's bundle with `'local'` resolved; refused when a part is missing. */
function completeBundle(bundle: CustomStoreOption | StoreBundle | null | undefined, context: StoreContext): StoreBundle {
  if (!bundle || typeof bundle !== 'object' || !isJobStore(bundle.store)) {
    throw new SchedulerConfigError('SchedulerModule', 'store', 'a custom store option must give { store, peer, notifier } with a JobStore as store');
  }
  const missing = (['peer', 'notifier'] as const).filter((part) => bundle[part] === undefined || bundle[part] === null);
  if (missing.length > 0) throw new IncompleteStoreError(missing);
  return {
    store: bundle.store,
    peer: bundle.peer === 'local' ? new LocalPeer(context.node, context.peerEligible) : bundle.peer,
    notifier: bundle.notifier === 'local' ? new LocalNotifier() : bundle.notifier,
  };
}

function isJobStore(value: unknown): value is StoreBundle['store'] {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { claim?: unknown }).claim === 'function' &&
    typeof (value as { insert?: unknown }).insert === 'function'
  );
}

function describe(value: unknown): string {
  return typeof value === 'object' && value !== null
    ? `object with keys ${Object.keys(value).join(', ') || '(none)'}`
    : (JSON.stringify(value) ?? String(value));
}
