import { MemoryStore } from '../../lib/index.js';
import type { JobStore } from '../../lib/store/index.js';
import { interceptedStore } from './intercepted.store.js';

/**
 * A memory store behind a proxy (a store of the user's own, plugged into the
 * store seam), whose calls can be made to hang: `hang.insert = true` leaves
 * every insert unanswered (the planner's tick waits on it), `hang.claim` every
 * claim, and so on for any of its methods (a store out of reach);
 * `release()` answers what hangs.
 */
/** A store method that can be made to hang. */
type Wedged = { [K in keyof JobStore]-?: JobStore[K] extends (...args: never[]) => unknown ? K : never }[keyof JobStore];

export function wedgeable(inner = new MemoryStore()) {
  const hang: Partial<Record<Wedged, boolean>> = {};
  const held: (() => void)[] = [];
  const store = interceptedStore(inner, (key, method) => (...args: unknown[]) => {
    if (!hang[key as Wedged]) return method(...args);
    return new Promise((resolve, reject) => held.push(() => void Promise.resolve(method(...args)).then(resolve, reject)));
  }) as JobStore;
  return {
    option: { store, peer: 'local' as const, notifier: 'local' as const },
    inner,
    hang,
    release() {
      for (const key of Object.keys(hang) as (keyof typeof hang)[]) hang[key] = false;
      for (const answer of held.splice(0)) answer();
    },
  };
}
