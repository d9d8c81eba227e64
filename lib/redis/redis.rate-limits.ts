import { randomUUID } from 'node:crypto';
import type { RateLimitKind } from '../rate-limit/rate-limit.options.js';
import type { RateLimitSpec, RateLimitStatus } from '../rate-limit/token-bucket.js';
import type { ClaimRateLimits, ClaimRequest, JobRateLimits, RateLimitedClaim } from '../store/job-store.js';
import { decodeJobJson } from './redis.codec.js';
import type { RedisConnection } from './redis.client.js';

/**
 * Token buckets shared by every node of a Redis store, refilled from the
 * claims' times: a rate-limited claim is one script (scripts/rate-limit.lua.ts)
 * that refills, claims and debits, so claims from many nodes at once never
 * take more tokens than the buckets hold.
 * @internal
 */
export class RedisRateLimits implements JobRateLimits {
  constructor(private readonly redis: RedisConnection) {}

  async status(kind: RateLimitKind, name: string, spec: RateLimitSpec, now: Date): Promise<RateLimitStatus> {
    const tokens = (await this.redis.run('schedBucket', kind, name, spec.capacity, spec.refillPerSecond, now.getTime())) as string;
    return { tokens: Number(tokens), capacity: spec.capacity, refillPerSecond: spec.refillPerSecond };
  }

  /** `request.ids` and `request.after` are ignored. */
  async claim(request: ClaimRequest, limits: ClaimRateLimits): Promise<RateLimitedClaim> {
    if (!(request.limit > 0)) return { jobs: [], held: [], retryAt: null };
    const limit = Number.isFinite(request.limit) ? Math.ceil(request.limit) : 2 ** 31 - 1;
    const start = request.start === undefined || !Number.isFinite(request.start) ? limit : request.start;
    const spec = (s: RateLimitSpec | undefined): (string | number)[] => (s ? [s.capacity, s.refillPerSecond] : ['', '']);
    const names = [...(limits.jobs ?? new Map<string, RateLimitSpec>())].flatMap(([name, s]) => [name, s.capacity, s.refillPerSecond]);
    const args = [
      request.queue,
      limit,
      request.node,
      request.now.getTime(),
      request.maxPriority ?? 9,
      start,
      randomUUID(),
      ...spec(limits.global),
      ...spec(limits.queue),
      ...names,
    ];
    const [claimed, held, retryAt] = (await this.redis.run('schedClaimLimited', ...args)) as [string[], string[], string];
    return { jobs: claimed.map(decodeJobJson), held: held.map(decodeJobJson), retryAt: retryAt === '' ? null : new Date(Number(retryAt)) };
  }
}
