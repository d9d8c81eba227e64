import type { Clock } from '../clock/clock.js';
import type { Notifier } from '../notifier/notifier.js';
import type { Peer } from '../peer/peer.js';
import type { JobStore } from './job-store.js';

/**
 * What a store engine is given when the scheduler builds it.
 * @publicApi
 */
export interface StoreContext {
  /** This node's name. */
  node: string;
  clock: Clock;
  /** Leadership lease TTL in ms (`peer.leaseTtl`). */
  leaseTtl: number;
  /** Whether this node may become leader (`peer`). */
  peerEligible: boolean;
}

/**
 * A store with the peer and notifier that go with it (Oban's engine, peer
 * and notifier): leadership and wake-ups must reach exactly the nodes that
 * share the store, so they come from the same engine.
 * @publicApi
 */
export interface StoreBundle {
  store: JobStore;
  /** Leadership among the nodes that share `store`. */
  peer: Peer;
  /** Messages among the nodes that share `store`. */
  notifier: Notifier;
}

/**
 * Builds a whole engine from this node's context, for a store whose peer
 * needs the node's name, lease TTL or eligibility (`store: (context) => ({ store, peer, notifier })`).
 * @publicApi
 */
export type StoreFactory = (context: StoreContext) => StoreBundle | Promise<StoreBundle>;

/**
 * `store: { store, peer, notifier }`: a store you built, with the peer and
 * notifier that go with it. `'local'` declares that this process is the only
 * one using the store: the node is leader (unless `peer: false`) and
 * notifications stay in this process. Never say `'local'` for a store that
 * several processes share: each would plan every tick, and a cancel would
 * not reach the node running the job.
 * @publicApi
 */
export interface CustomStoreOption {
  store: JobStore;
  peer: Peer | 'local';
  notifier: Notifier | 'local';
}
