/**
 * The shape of one token bucket: it holds at most `capacity` tokens and gains
 * `refillPerSecond` of them each second, continuously (a fraction of a token
 * at a time), never past `capacity`.
 * @publicApi
 */
export interface RateLimitSpec {
  capacity: number;
  refillPerSecond: number;
}

/**
 * A bucket as `scheduler.rateLimits.status()` shows it: `tokens` now (a
 * fraction while one refills), its `capacity`, and how many it gains a second.
 * @publicApi
 */
export interface RateLimitStatus {
  tokens: number;
  capacity: number;
  refillPerSecond: number;
}

/**
 * When a bucket holding `tokens` at `now` (epoch ms) next holds a whole one.
 * @internal
 */
export function nextTokenAt(spec: RateLimitSpec, tokens: number, now: number): number {
  if (tokens >= 1) return now;
  return now + Math.ceil(((1 - tokens) / spec.refillPerSecond) * 1000);
}

/**
 * One token bucket, refilled from the times it is given (an injectable
 * clock's, so tests move time instead of waiting). A bucket starts full. The
 * time never runs backwards for it: a caller whose clock is behind an earlier
 * caller's refills nothing rather than taking tokens back.
 * @internal
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private spec: RateLimitSpec,
    now: number,
  ) {
    this.tokens = spec.capacity;
    this.at = now;
  }

  /** Takes a new shape (a limit changed at runtime), keeping the tokens it holds up to the new capacity. */
  reshape(spec: RateLimitSpec, now: number): void {
    this.refill(now);
    this.spec = spec;
    this.tokens = Math.min(this.tokens, spec.capacity);
  }

  /** Tokens held at `now`, a fraction while one refills. */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** Whole tokens that may be taken at `now`. */
  whole(now: number): number {
    return Math.floor(this.available(now) + 1e-9);
  }

  /** Takes `count` tokens (at most the whole ones held); resolves to how many were taken. */
  take(count: number, now: number): number {
    const taken = Math.max(0, Math.min(count, this.whole(now)));
    this.tokens -= taken;
    return taken;
  }

  /** When the next whole token is there (`now` when one is). */
  nextTokenAt(now: number): number {
    return nextTokenAt(this.spec, this.available(now) + 1e-9, now);
  }

  status(now: number): RateLimitStatus {
    return { tokens: this.available(now), capacity: this.spec.capacity, refillPerSecond: this.spec.refillPerSecond };
  }

  private refill(now: number): void {
    if (now <= this.at) return;
    this.tokens = Math.min(this.spec.capacity, this.tokens + ((now - this.at) / 1000) * this.spec.refillPerSecond);
    this.at = now;
  }
}
