import type { RateLimitKind } from '../rate-limit/rate-limit.options.js';
import { nextTokenAt, type RateLimitSpec, type RateLimitStatus } from '../rate-limit/token-bucket.js';
import type { ClaimRateLimits, ClaimRequest, JobRateLimits, RateLimitedClaim } from '../store/job-store.js';
import { toJob, type JobRow } from './job-rows.js';
import { candidates } from './sqlite.claim.js';
import type { SqliteConnection } from './sqlite.connection.js';
import type { SqliteJobTable } from './sqlite.job-table.js';

interface BucketRow {
  tokens: number;
  updated_at: number;
  capacity: number;
  refill_per_second: number;
}

/**
 * One token bucket as a row of `rate_buckets`, read and written inside the
 * claim's write transaction: the transaction holds the file's one write
 * lock, so claims of several processes never take the same token.
 */
class StoredBucket {
  private tokens: number;
  private at: number;
  private dirty: boolean;

  constructor(
    private readonly table: SqliteJobTable,
    private readonly kind: RateLimitKind,
    private readonly name: string,
    private spec: RateLimitSpec,
    now: number,
  ) {
    const row = table.sql('SELECT tokens, updated_at, capacity, refill_per_second FROM rate_buckets WHERE kind = ? AND name = ?').get(kind, name) as
      BucketRow | undefined;
    this.tokens = row ? row.tokens : spec.capacity;
    this.at = row ? row.updated_at : now;
    this.dirty = !row;
    // Refilled at the rate it had; a new shape applies from now, never beyond its capacity.
    if (row) this.refill(now, { capacity: row.capacity, refillPerSecond: row.refill_per_second });
    if (row && (row.capacity !== spec.capacity || row.refill_per_second !== spec.refillPerSecond)) {
      this.tokens = Math.min(this.tokens, spec.capacity);
      this.dirty = true;
    }
  }

  whole(now: number): number {
    this.refill(now, this.spec);
    return Math.floor(this.tokens + 1e-9);
  }

  take(now: number): void {
    if (this.whole(now) < 1) return;
    this.tokens -= 1;
    this.dirty = true;
  }

  nextTokenAt(now: number): number {
    this.refill(now, this.spec);
    return nextTokenAt(this.spec, this.tokens + 1e-9, now);
  }

  status(now: number): RateLimitStatus {
    this.refill(now, this.spec);
    return { tokens: this.tokens, capacity: this.spec.capacity, refillPerSecond: this.spec.refillPerSecond };
  }

  save(): void {
    if (!this.dirty) return;
    this.table
      .sql('INSERT OR REPLACE INTO rate_buckets (kind, name, tokens, updated_at, capacity, refill_per_second) VALUES (?, ?, ?, ?, ?, ?)')
      .run(this.kind, this.name, this.tokens, this.at, this.spec.capacity, this.spec.refillPerSecond);
  }

  /** Refills from the claims' own `now` (as the memory store does); time never runs backwards for a bucket. */
  private refill(now: number, spec: RateLimitSpec): void {
    if (now <= this.at) return;
    this.tokens = Math.min(spec.capacity, this.tokens + ((now - this.at) / 1000) * spec.refillPerSecond);
    this.at = now;
    this.dirty = true;
  }
}

/**
 * Rate limits of the SQLite store: one bucket per kind and name for every
 * process that opens the file, debited in the claim's own transaction.
 * @internal
 */
export class SqliteRateLimits implements JobRateLimits {
  /**
   * `clock`: the scheduler's (the store's node identity), read once the
   * claim holds the file's write lock; `null` for a store without one.
   */
  constructor(
    private readonly sqlite: SqliteConnection,
    private readonly table: SqliteJobTable,
    private readonly toIds: (ids: readonly string[] | undefined) => number[] | null,
    private readonly clock: (() => number) | null = null,
  ) {}

  async status(kind: RateLimitKind, name: string, spec: RateLimitSpec, now: Date): Promise<RateLimitStatus> {
    return this.sqlite.write(() => new StoredBucket(this.table, kind, name, spec, now.getTime()).status(now.getTime()));
  }

  async claim(request: ClaimRequest, limits: ClaimRateLimits): Promise<RateLimitedClaim> {
    if (!(request.limit > 0)) return { jobs: [], held: [], retryAt: null };
    const ids = this.toIds(request.ids);
    if (ids !== null && ids.length === 0) return { jobs: [], held: [], retryAt: null };
    return this.sqlite.write(() => this.claimNow(request, limits, ids));
  }

  private claimNow(request: ClaimRequest, limits: ClaimRateLimits, ids: number[] | null): RateLimitedClaim {
    // The tokens are taken now, under the lock, not when the runner sent the claim: a claim that waited
    // for another process's transaction would refill (or start a new bucket) from before its wait and
    // hand out the wait's tokens again on top of those the bucket gave meanwhile.
    const now = Math.max(request.now.getTime(), this.clock?.() ?? -Infinity);
    const limit = Number.isFinite(request.limit) ? Math.ceil(request.limit) : Number.MAX_SAFE_INTEGER;
    const buckets = new Map<string, StoredBucket>();
    const bucket = (kind: RateLimitKind, name: string, spec: RateLimitSpec): StoredBucket => {
      const key = `${kind}\u0000${name}`;
      let found = buckets.get(key);
      if (!found) buckets.set(key, (found = new StoredBucket(this.table, kind, name, spec, now)));
      return found;
    };
    const shared = [limits.global ? bucket('global', '', limits.global) : null, limits.queue ? bucket('queues', request.queue, limits.queue) : null].filter(
      (b): b is StoredBucket => b !== null,
    );
    const paused = this.table.pausedNames();
    const start = request.start ?? Infinity;
    const claimed: JobRow[] = [];
    const held: { id: number; own: StoredBucket | null }[] = [];
    for (const candidate of candidates(this.table, request, ids, paused)) {
      const spec = limits.jobs?.get(candidate.name);
      const own = spec ? bucket('jobs', candidate.name, spec) : null;
      if (own && own.whole(now) < 1) {
        // Its name's bucket is empty: held, but it never holds back jobs of other names.
        if (held.length < limit) held.push({ id: candidate.id, own });
        continue;
      }
      if (shared.some((b) => b.whole(now) < 1)) {
        held.push({ id: candidate.id, own });
        if (claimed.length + held.length >= limit) break;
        continue;
      }
      for (const b of shared) b.take(now);
      own?.take(now);
      claimed.push(this.table.start(candidate.id, request.node, now, claimed.length < start));
      if (claimed.length >= limit) break;
    }
    held.splice(Math.max(0, limit - claimed.length));
    const sharedNext = Math.max(now, ...shared.map((b) => b.nextTokenAt(now)));
    let retryAt = Infinity;
    for (const { own } of held) retryAt = Math.min(retryAt, Math.max(sharedNext, own?.nextTokenAt(now) ?? now));
    for (const b of buckets.values()) b.save();
    return {
      jobs: claimed.map(toJob),
      held: held.map(({ id }) => toJob(this.table.row(id)!)),
      retryAt: retryAt === Infinity ? null : new Date(retryAt),
    };
  }
}
