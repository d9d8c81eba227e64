/** Polls `predicate` every 20 ms until it holds; rejects after `timeoutMs` with `what` in the message. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Tracks the timers set from now on (by the code under test, pg, and the test itself):
 * `pending()` counts those neither fired nor cleared. `restore()` puts the real functions back.
 * (Counting `process.getActiveResourcesInfo()` is not exact: a timer that just fired is still counted for a while.)
 */
export function trackTimers(): { pending(): number; restore(): void } {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<unknown>();
  const set = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = realSet(
      (...a: unknown[]) => {
        live.delete(timer);
        callback(...a);
      },
      ms,
      ...args,
    );
    live.add(timer);
    return timer;
  };
  globalThis.setTimeout = set as unknown as typeof setTimeout;
  globalThis.clearTimeout = ((timer: Parameters<typeof clearTimeout>[0]) => {
    live.delete(timer);
    realClear(timer);
  }) as typeof clearTimeout;
  return {
    pending: () => live.size,
    restore() {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

/**
 * Stalls the event loop for `ms`, as a busy node does: no timer or socket is
 * served meanwhile, so what a server sends (a goodbye before it closes an idle
 * connection) waits unread, and the next command goes out on a connection the
 * client still takes for open.
 */
export function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy on purpose.
  }
}
