/**
 * How many jobs a queue runner claims beyond its free slots. Fast jobs empty
 * the buffer quickly: claim twice as many next time (up to `prefetch`), so a
 * busy queue of short jobs claims in large batches (≈ 20k jobs/s on
 * PostgreSQL here with 200–500 ahead, against ≈ 6k with 10). Slow jobs leave
 * the buffer full for long: halve it (down to the concurrency), so they stay
 * spread over the nodes instead of waiting, claimed, on one.
 * @internal
 */
export class LookAhead {
  /** Jobs claimed ahead right now: between the concurrency and `prefetch`. */
  private ahead: number;
  private lastClaimAt = 0;

  constructor(
    private readonly prefetch: number,
    concurrency: number,
  ) {
    this.ahead = Math.min(prefetch, concurrency);
  }

  /** Half the look-ahead: the next batch is claimed while the buffer still holds this many. */
  get refillAt(): number {
    return Math.ceil(this.ahead / 2);
  }

  /** The look-ahead for a claim made at `now` (epoch ms), adapted to how fast the last batch went. */
  next(now: number, concurrency: number): number {
    if (this.lastClaimAt === 0) return this.ahead;
    const age = now - this.lastClaimAt;
    if (age < 250) this.ahead = Math.min(this.prefetch, Math.max(1, this.ahead * 2));
    else if (age > 2_000) this.ahead = Math.min(this.prefetch, Math.max(concurrency, Math.floor(this.ahead / 2)));
    return this.ahead;
  }

  /** A claim at `now` brought jobs. */
  claimed(now: number): void {
    this.lastClaimAt = now;
  }
}
