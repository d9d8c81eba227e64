import type { StoreBundle, StoreContext } from '../store/store-bundle.js';
import type { SqliteStoreOptions } from '../store/store-options.js';
import { openSqlite } from './sqlite.connection.js';
import { SqliteNotifier } from './sqlite.notifier.js';
import { SqlitePeer } from './sqlite.peer.js';
import { SqliteStore } from './sqlite.store.js';

/**
 * Builds the SQLite engine: store, leader lease and notifier on one
 * connection (better-sqlite3 is synchronous: one connection per process
 * serves them all, and sees its own writes): the store's own for `path`,
 * the app DataSource's for `dataSource`.
 * @internal
 */
export async function createSqliteBundle(options: SqliteStoreOptions, context: StoreContext): Promise<StoreBundle> {
  const sqlite = await openSqlite(options);
  const store = new SqliteStore(sqlite, options, { node: context.node, now: () => context.clock.now() });
  const notifier = new SqliteNotifier(sqlite, { node: context.node, interval: options.notifyInterval });
  const peer = new SqlitePeer(sqlite, { node: context.node, leaseTtl: context.leaseTtl, eligible: context.peerEligible, notifier });
  return { store, peer, notifier };
}
