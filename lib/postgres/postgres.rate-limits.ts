import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { RateLimitKind } from '../rate-limit/rate-limit.options.js';
import { nextTokenAt, type RateLimitSpec, type RateLimitStatus } from '../rate-limit/token-bucket.js';
import type { ClaimRateLimits, ClaimRequest, JobRateLimits, RateLimitedClaim } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import type { PostgresContext } from './postgres.context.js';
import { isConnectionError, StoreUnavailableError } from './postgres.errors.js';
import { toClaimedJobs, toJob, type JobRow } from './sql/job-rows.js';
import type { BucketRef, RateLimitStatements } from './sql/rate-limit.sql.js';
import type { Statement } from './sql/statement.js';
import { inTransaction } from './postgres.transaction.js';
import type { ClaimsInDoubt } from './postgres.claim-doubts.js';
import type { ClaimStatement } from './sql/claim.sql.js';

/**
 * What the rate limits of a `PostgresStore` use.
 * @internal
 */
export interface PostgresRateLimitDeps {
  pg: Pick<PostgresContext, 'pool'>;
  sql: RateLimitStatements;
  /** The store's claim, the one every queue runs (restricted to `ids` when given). */
  claim(request: ClaimRequest, ids: readonly string[] | null): ClaimStatement;
  /** The store's claim with shared buckets locked, refilled and debited in the same statement. */
  claimLimited(request: ClaimRequest, buckets: readonly BucketRef[]): ClaimStatement;
  /** Throws StoreUnavailableError unless the store is ready. */
  checkReady(): void;
  /** Whether a failed claim lost a race another claim won at the same instant (it is tried again). */
  lostRace(error: unknown): boolean;
  /** The store's claims whose answer was lost, handed back by their token. */
  doubts: Pick<ClaimsInDoubt, 'lost' | 'settle' | 'size'>;
}

/** The claim statements one attempt sent: their tokens and when (`performance.now()`). */
type Sent = [token: string, at: number][];

/** A claim that lost a race on a running serial key is tried again this often. */
const RACE_RETRIES = 3;

/**
 * One bucket per kind and name for the whole cluster, in a table (migration
 * 8). A rate-limited claim is one transaction: lock and refill the buckets
 * (by the database's clock), claim, debit what was claimed, commit. With
 * queue and global buckets only, the claim is the plain one capped at the
 * whole tokens there are; with name buckets, the queue's due jobs are picked
 * first in claim order (skipping names whose bucket is empty), given the
 * tokens there are, and those are claimed by id. Claims of a queue
 * from many nodes queue up on the bucket rows' locks, so together they never
 * take more than the buckets hold. Queues without a limit never come here.
 * @internal
 */
export class PostgresRateLimits implements JobRateLimits {
  constructor(private readonly deps: PostgresRateLimitDeps) {}

  async status(kind: RateLimitKind, name: string, spec: RateLimitSpec, _now: Date): Promise<RateLimitStatus> {
    this.deps.checkReady();
    const [row] = (await this.query<{ tokens: number }>(this.deps.pg.pool, this.deps.sql.status({ kind, name, spec }))).rows;
    return { tokens: row ? Number(row.tokens) : spec.capacity, capacity: spec.capacity, refillPerSecond: spec.refillPerSecond };
  }

  async claim(request: ClaimRequest, limits: ClaimRateLimits): Promise<RateLimitedClaim> {
    this.deps.checkReady();
    if (!(request.limit > 0)) return { jobs: [], held: [], retryAt: null };
    const limit = Number.isFinite(request.limit) ? Math.ceil(request.limit) : 2 ** 31 - 1;
    const buckets = bucketsOf(request.queue, limits);
    const shared = buckets.every((b) => b.kind !== 'jobs');
    const { doubts } = this.deps;
    if (doubts.size > 0) await doubts.settle();
    for (let attempt = 0; ; attempt++) {
      const sent: Sent = [];
      try {
        if (shared) {
          const claimed = await this.claimShared({ ...request, limit }, buckets, sent);
          if (claimed) return claimed;
        }
        return await inTransaction(this.deps.pg.pool, async (client) => this.claimIn(client, { ...request, limit }, buckets, sent));
      } catch (error) {
        if (attempt < RACE_RETRIES && this.deps.lostRace(error)) continue;
        // Its answer, or its transaction's COMMIT's, may have been lost after the claim took jobs.
        if (error instanceof StoreUnavailableError && sent.length > 0) {
          await doubts.lost(sent);
        }
        throw error;
      }
    }
  }

  /**
   * Queue and global buckets only, as one statement: one round trip, where a
   * transaction takes five. Null when a bucket has no row yet (nothing was
   * claimed): the transaction creates it.
   */
  private async claimShared(request: ClaimRequest, buckets: readonly BucketRef[], sent: Sent): Promise<RateLimitedClaim | null> {
    const statement = this.deps.claimLimited(request, buckets);
    sent.push([statement.token, performance.now()]);
    const [row] = (await this.query<{ jobs: string | null; buckets: BucketRow[] | null }>(this.deps.pg.pool, statement)).rows;
    if (!row || (row.buckets?.length ?? 0) < buckets.length) return null;
    const tokens = new Map(row.buckets!.map((b) => [key(b.kind, b.name), Number(b.tokens)]));
    const jobs = row.jobs ? toClaimedJobs(row.jobs, request.now, request.node, request.start ?? request.limit) : [];
    // Fewer jobs than asked with a bucket short of a token: others may be held back by it.
    const short = buckets.some((b) => tokens.get(key(b.kind, b.name))! + 1e-9 < 1);
    if (jobs.length === request.limit || !short) return { jobs, held: [], retryAt: null };
    const candidates = this.deps.sql.candidates({ ...request, limit: request.limit - jobs.length }, []);
    const held = (await this.query<{ id: string; name: string }>(this.deps.pg.pool, candidates)).rows;
    return {
      jobs,
      held: await this.heldJobs(this.deps.pg.pool, held),
      retryAt: retryAt(
        request.now.getTime(),
        buckets,
        tokens,
        held.map((j) => j.name),
      ),
    };
  }

  private async claimIn(client: pg.PoolClient, request: ClaimRequest, buckets: readonly BucketRef[], sent: Sent): Promise<RateLimitedClaim> {
    const { sql } = this.deps;
    const tokens = new Map<string, number>();
    for (const row of (await this.query<{ kind: string; name: string; tokens: number }>(client, sql.lock(buckets))).rows) {
      tokens.set(key(row.kind, row.name), Number(row.tokens));
    }
    // Whole tokens only; a float just under an integer counts as it.
    const whole = (b: BucketRef) => Math.floor(tokens.get(key(b.kind, b.name))! + 1e-9);
    const shared = buckets.filter((b) => b.kind !== 'jobs');
    const named = buckets.filter((b) => b.kind === 'jobs');
    const empty = named.filter((b) => tokens.get(key(b.kind, b.name))! < 1).map((b) => b.name);
    const budget = Math.min(request.limit, ...shared.map(whole));
    let jobs: Job[] = [];
    let held: { id: string; name: string }[] = [];
    if (named.length === 0) {
      // Queue and global buckets only: the plain claim, capped at the tokens there are.
      if (budget >= 1) jobs = await this.claimJobs(client, { ...request, limit: budget }, null, sent);
      if (budget < request.limit)
        held = (await this.query<{ id: string; name: string }>(client, sql.candidates({ ...request, limit: request.limit - jobs.length }, []))).rows;
    } else {
      const picked = (await this.query<{ id: string; name: string }>(client, sql.candidates(request, empty))).rows;
      let sharedLeft = budget;
      const nameLeft = new Map(named.map((b) => [b.name, whole(b)]));
      const chosen: string[] = [];
      for (const job of picked) {
        const own = nameLeft.get(job.name);
        if (sharedLeft >= 1 && (own === undefined || own >= 1)) {
          chosen.push(job.id);
          sharedLeft--;
          if (own !== undefined) nameLeft.set(job.name, own - 1);
        } else held.push(job);
      }
      if (chosen.length > 0) jobs = await this.claimJobs(client, { ...request, limit: chosen.length }, chosen, sent);
    }
    const taken = new Map<string, number>();
    for (const b of shared) taken.set(key(b.kind, b.name), jobs.length);
    for (const b of named) taken.set(key(b.kind, b.name), 0);
    for (const job of jobs) if (taken.has(key('jobs', job.name))) taken.set(key('jobs', job.name), taken.get(key('jobs', job.name))! + 1);
    const debits = buckets
      .filter((b) => taken.get(key(b.kind, b.name))! > 0)
      .map((b) => ({ kind: b.kind, name: b.name, taken: taken.get(key(b.kind, b.name))! }));
    if (debits.length > 0) await this.query(client, sql.debit(debits));
    for (const d of debits) tokens.set(key(d.kind, d.name), tokens.get(key(d.kind, d.name))! - d.taken);

    const reported = held.slice(0, Math.max(0, request.limit - jobs.length));
    return {
      jobs,
      held: await this.heldJobs(client, reported),
      retryAt: retryAt(request.now.getTime(), buckets, tokens, [...held.map((j) => j.name), ...empty]),
    };
  }

  /** The held jobs, whole, in the order given. */
  private async heldJobs(on: Pick<pg.Pool, 'query'>, held: readonly { id: string }[]): Promise<Job[]> {
    if (held.length === 0) return [];
    const jobs = (await this.query<JobRow>(on, this.deps.sql.jobs(held.map((j) => j.id)))).rows.map(toJob);
    const order = new Map(held.map((j, i) => [j.id, i]));
    return jobs.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  }

  /** The store's claim (of `ids` only, when given), in this transaction. */
  private async claimJobs(client: pg.PoolClient, request: ClaimRequest, ids: readonly string[] | null, sent: Sent): Promise<Job[]> {
    const statement = this.deps.claim(request, ids);
    sent.push([statement.token, performance.now()]);
    const [row] = (await this.query<{ jobs: string | null }>(client, statement)).rows;
    return row?.jobs ? toClaimedJobs(row.jobs, request.now, request.node, request.start ?? request.limit) : [];
  }

  private async query<T extends object>(on: Pick<pg.Pool, 'query'>, statement: Statement): Promise<pg.QueryResult<T>> {
    try {
      return await on.query<T>(statement);
    } catch (error) {
      if (isConnectionError(error)) throw new StoreUnavailableError('lost the connection to PostgreSQL', { cause: error });
      throw error;
    }
  }
}

/** A bucket as a limited claim leaves it. */
interface BucketRow {
  kind: string;
  name: string;
  tokens: number;
}

function key(kind: string, name: string): string {
  return `${kind}\u0000${name}`;
}

/** The buckets of a claim: global, the queue's, every limited job name. */
function bucketsOf(queue: string, limits: ClaimRateLimits): BucketRef[] {
  const buckets: BucketRef[] = [];
  if (limits.global) buckets.push({ kind: 'global', name: '', spec: limits.global });
  if (limits.queue) buckets.push({ kind: 'queues', name: queue, spec: limits.queue });
  for (const [name, spec] of limits.jobs ?? []) buckets.push({ kind: 'jobs', name, spec });
  return buckets;
}

/**
 * When a held job (or one of a name whose bucket is empty) may first be
 * claimed: the shared buckets and its name's next hold a token. Measured
 * from the database's refill, placed on the caller's clock (which a
 * PostgreSQL node keeps in step with the database's).
 */
function retryAt(now: number, buckets: readonly BucketRef[], tokens: ReadonlyMap<string, number>, waitingNames: readonly string[]): Date | null {
  if (waitingNames.length === 0) return null;
  const next = (b: BucketRef) => nextTokenAt(b.spec, tokens.get(key(b.kind, b.name))! + 1e-9, now);
  const shared = Math.max(now, ...buckets.filter((b) => b.kind !== 'jobs').map(next));
  const byName = new Map(buckets.filter((b) => b.kind === 'jobs').map((b) => [b.name, next(b)]));
  let earliest = Infinity;
  for (const name of waitingNames) earliest = Math.min(earliest, Math.max(shared, byName.get(name) ?? now));
  return new Date(earliest);
}
