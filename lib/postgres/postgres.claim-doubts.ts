import { performance } from 'node:perf_hooks';

/**
 * Claims whose answer never came: the connection dropped after the claim
 * was sent, so it may have committed, leaving its jobs running under a node
 * that never received them (until rescued, an attempt spent). Each is handed
 * back by its token (`unclaimToken`) at once and again before each later
 * claim, until a hand-back starts after the claim's statement can no longer
 * be running on the server (`statementTimeout` from its send): one that was
 * still committing when the first hand-back looked is caught by a later one.
 * @internal
 */
export class ClaimsInDoubt {
  /** Token → the `performance.now()` after which its claim has surely ended on the server. */
  private readonly tokens = new Map<string, number>();

  constructor(
    private readonly handBack: (token: string) => Promise<unknown>,
    private readonly statementTimeout: number,
  ) {}

  get size(): number {
    return this.tokens.size;
  }

  /** Claims whose answer was lost, each a token and when it was sent (`performance.now()`): handed back now and, until surely ended, before later claims. */
  async lost(sent: Iterable<readonly [token: string, sentAt: number]>): Promise<void> {
    for (const [token, sentAt] of sent) this.tokens.set(token, sentAt + this.statementTimeout);
    await this.settle();
  }

  /** Hands back what each claim in doubt took; never rejects (a claim not handed back now is tried at the next call). */
  async settle(): Promise<void> {
    for (const [token, ended] of this.tokens) {
      const startedAt = performance.now();
      try {
        await this.handBack(token);
      } catch {
        return;
      }
      if (startedAt > ended) this.tokens.delete(token);
    }
  }
}
