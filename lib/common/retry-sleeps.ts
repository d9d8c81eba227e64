/**
 * Sleeps between retries that a close can cut short: `wakeAll` resolves
 * every sleep under way at once, so a writer retrying through an outage or
 * a busy lock stops waiting as soon as it is told to give up.
 * @internal
 */
export class RetrySleeps {
  private readonly sleepers = new Set<() => void>();

  /** Resolves after `ms`, or at the next {@link wakeAll}. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Ends every sleep under way. */
  wakeAll(): void {
    // oxlint-disable-next-line unicorn/no-useless-spread -- a snapshot: a woken sleeper removes itself from the set
    for (const wake of [...this.sleepers]) wake();
  }
}
