import { MemoryStore } from '../../lib/index.js';
import type { JobStore } from '../../lib/store/index.js';

/**
 * A memory store behind a proxy (a store of the user's own, plugged into the
 * store seam), whose calls can be made to hang: `hang.insert = true` leaves
 * every insert unanswered (the planner's tick waits on it), `hang.claim` every
 * claim, `hang.ping` every ping; `release()` answers what hangs.
 */
export function wedgeable(inner = new MemoryStore()) {
  const hang: Partial<Record<'insert' | 'claim' | 'ping', boolean>> = {};
  const held: (() => void)[] = [];
  const store = new Proxy(inner, {
    getPrototypeOf: () => Object.prototype,
    get: (target, key) => {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      if (key !== 'insert' && key !== 'claim' && key !== 'ping') return bound;
      return (...args: unknown[]) => {
        if (!hang[key]) return bound(...args);
        return new Promise((resolve, reject) => held.push(() => void Promise.resolve(bound(...args)).then(resolve, reject)));
      };
    },
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
