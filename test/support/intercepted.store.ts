/** A store method, bound to its store. */
export type StoreMethod = (...args: never[]) => unknown;

/**
 * `inner` behind a proxy (a store of the user's own, plugged into the store
 * seam) whose methods `wrap` may replace: given a method's name and the
 * method bound to `inner`, it returns what to call instead, or `undefined`
 * to keep the method. Properties pass through; the proxy is no instance of
 * `inner`'s class, as a store of the user's own would not be.
 */
export function interceptedStore<S extends object>(inner: S, wrap: (key: string, method: (...args: unknown[]) => unknown) => StoreMethod | undefined): S {
  return new Proxy(inner, {
    getPrototypeOf: () => Object.prototype,
    get: (target, key) => {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      return (typeof key === 'string' && wrap(key, bound)) || bound;
    },
  });
}
