import type { StoreBundle, StoreContext } from '../store/store-bundle.js';
import type { PostgresStoreOptions } from '../store/store-options.js';
import { openPostgres } from './postgres.connection.js';
import { PostgresNotifier } from './postgres.notifier.js';
import { PostgresPeer } from './postgres.peer.js';
import { PostgresStore } from './postgres.store.js';

/**
 * Builds the PostgreSQL engine: store, leader lease and LISTEN/NOTIFY notifier on one connection set-up.
 * @internal
 */
export async function createPostgresBundle(options: PostgresStoreOptions, context: StoreContext): Promise<StoreBundle> {
  const pg = await openPostgres(options, context.node);
  const store = new PostgresStore(pg, options);
  const notifier = new PostgresNotifier(pg, { ready: () => store.ready });
  store.push?.hearWith(() => notifier.listener);
  const peer = new PostgresPeer(pg, { leaseTtl: context.leaseTtl, eligible: context.peerEligible, ready: () => store.ready, notifier });
  return { store, peer, notifier };
}
