import type { RateLimitKind } from '../../rate-limit/rate-limit.options.js';
import { TokenBucket, type RateLimitSpec, type RateLimitStatus } from '../../rate-limit/token-bucket.js';
import type { ClaimRateLimits, ClaimRequest, JobRateLimits, RateLimitedClaim } from '../job-store.js';
import type { Job } from '../job.types.js';
import type { ClaimIndex, JobRecord, ParkReason } from './claim-index.js';

/**
 * What the memory store lends its rate limits.
 * @internal
 */
export interface MemoryRateLimitDeps {
  index: ClaimIndex;
  /** Why a due job cannot be claimed apart from rate limits (paused, serial), or `null`. */
  blocker(rec: JobRecord): { reason: ParkReason; key: string } | null;
  /** Moves a job to running for this claim. */
  start(rec: JobRecord, request: ClaimRequest, starts: boolean): void;
  copy(job: Job): Job;
}

/**
 * The memory store's token buckets, and its rate-limited claim. Jobs of a
 * name whose bucket is empty are parked under that name (like a paused
 * name), so they are not walked again on each claim and never stand in
 * front of other names' jobs; they are unparked by the first claim that
 * finds their bucket holding a token again.
 * @internal
 */
export class MemoryRateLimits implements JobRateLimits {
  private readonly buckets = new Map<string, { spec: RateLimitSpec; bucket: TokenBucket }>();
  /** Names with jobs parked for want of a token. */
  private readonly parkedNames = new Set<string>();

  constructor(private readonly deps: MemoryRateLimitDeps) {}

  async status(kind: RateLimitKind, name: string, spec: RateLimitSpec, now: Date): Promise<RateLimitStatus> {
    return this.bucket(kind, name, spec, now.getTime()).status(now.getTime());
  }

  async claim(request: ClaimRequest, limits: ClaimRateLimits): Promise<RateLimitedClaim> {
    const now = request.now.getTime();
    if (!(request.limit > 0)) return { jobs: [], held: [], retryAt: null };
    const shared = [
      limits.global ? this.bucket('global', '', limits.global, now) : null,
      limits.queue ? this.bucket('queues', request.queue, limits.queue, now) : null,
    ].filter((bucket): bucket is TokenBucket => bucket !== null);
    let retryAt = this.unparkRefilled(limits, now);
    const claimed: JobRecord[] = [];
    const held: { rec: JobRecord; bucket: TokenBucket | null }[] = [];
    const candidates = request.ids ? [] : this.deps.index.candidates(request.queue, request.node, now, request.maxPriority ?? 9);
    for (const rec of candidates) {
      const blocker = this.deps.blocker(rec);
      if (blocker) {
        this.deps.index.park(rec, blocker.reason, blocker.key);
        continue;
      }
      const spec = limits.jobs?.get(rec.job.name);
      const own = spec ? this.bucket('jobs', rec.job.name, spec, now) : null;
      if (own && own.whole(now) < 1) {
        this.deps.index.park(rec, 'rate', rec.job.name);
        this.parkedNames.add(rec.job.name);
        if (held.length < request.limit) held.push({ rec, bucket: own });
        continue;
      }
      if (shared.some((bucket) => bucket.whole(now) < 1)) {
        // Back where it was: the shared buckets hold back every job behind it too.
        this.deps.index.add(rec);
        held.push({ rec, bucket: own });
        if (claimed.length + held.length >= request.limit) break;
        continue;
      }
      for (const bucket of shared) bucket.take(1, now);
      own?.take(1, now);
      this.deps.start(rec, request, claimed.length < (request.start ?? Infinity));
      claimed.push(rec);
      if (claimed.length >= request.limit) break;
    }
    held.splice(Math.max(0, request.limit - claimed.length));
    const sharedNext = Math.max(now, ...shared.map((bucket) => bucket.nextTokenAt(now)));
    for (const { bucket } of held) retryAt = Math.min(retryAt, Math.max(sharedNext, bucket?.nextTokenAt(now) ?? now));
    return {
      jobs: claimed.map((rec) => this.deps.copy(rec.job)),
      held: held.map(({ rec }) => this.deps.copy(rec.job)),
      retryAt: retryAt === Infinity ? null : new Date(retryAt),
    };
  }

  /** Returns the parked jobs of names whose bucket holds a token again; the earliest next token of those still empty. */
  private unparkRefilled(limits: ClaimRateLimits, now: number): number {
    let next = Infinity;
    for (const name of this.parkedNames) {
      const spec = limits.jobs?.get(name);
      const bucket = spec ? this.bucket('jobs', name, spec, now) : null;
      if (bucket && bucket.whole(now) < 1) {
        next = Math.min(next, bucket.nextTokenAt(now));
        continue;
      }
      this.parkedNames.delete(name);
      this.deps.index.unpark('rate', name);
    }
    return next;
  }

  private bucket(kind: RateLimitKind, name: string, spec: RateLimitSpec, now: number): TokenBucket {
    const key = `${kind}\u0000${name}`;
    const kept = this.buckets.get(key);
    if (!kept) {
      const bucket = new TokenBucket(spec, now);
      this.buckets.set(key, { spec, bucket });
      return bucket;
    }
    if (kept.spec.capacity !== spec.capacity || kept.spec.refillPerSecond !== spec.refillPerSecond) {
      kept.bucket.reshape(spec, now);
      kept.spec = spec;
    }
    return kept.bucket;
  }
}
