import type { ClaimRateLimits, ClaimRequest, JobRateLimits } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';

/**
 * What a queue runner whose jobs are rate limited is given.
 * @internal
 */
export interface QueueRateLimit {
  /** The buckets that apply to the queue's claims. */
  limits: ClaimRateLimits;
  /** Told once per wait of each job a limit held back (`job:skip`, reason `rate_limited`). */
  held(job: Job<unknown>): void;
  /** Wakes the runner at this instant (epoch ms): when a held job's buckets next hold a token. */
  wakeAt(at: number): void;
}

/** Held jobs remembered at most, so that jobs cancelled while they wait cannot grow the set for ever. */
const MAX_REMEMBERED = 10_000;

/**
 * A queue runner's claims through the store's rate limits. A held job is
 * reported the first time a claim holds it back, and again only after it has
 * been claimed (a new wait); the runner is woken when its next token is due,
 * since no insert or acknowledgement announces a refill.
 * @internal
 */
export class RateLimitedClaims {
  private readonly waiting = new Set<string>();
  private lastShort = false;

  constructor(
    private readonly store: JobRateLimits,
    private readonly rate: QueueRateLimit,
  ) {}

  async claim(request: ClaimRequest): Promise<Job<unknown>[]> {
    const { after: _ignored, ...rest } = request;
    const result = await this.store.claim(rest, this.rate.limits);
    if (this.waiting.size > 0) for (const job of result.jobs) this.waiting.delete(job.id);
    for (const job of result.held) {
      if (this.waiting.has(job.id)) continue;
      if (this.waiting.size >= MAX_REMEMBERED) this.waiting.clear();
      this.waiting.add(job.id);
      this.rate.held(job);
    }
    if (result.retryAt) this.rate.wakeAt(result.retryAt.getTime());
    this.lastShort = result.held.length > 0 || result.retryAt !== null;
    return result.jobs;
  }

  /**
   * Whether the last claim found a bucket short (it held jobs back). The
   * runner then claims only its free slots, none ahead into its buffer, until
   * a claim finds tokens enough again: tokens are taken at the claim, and a
   * job buffered with one would start later, alongside jobs claimed with the
   * next ones.
   */
  get short(): boolean {
    return this.lastShort;
  }
}
