import type { RateLimitSpec } from '../../rate-limit/token-bucket.js';
import type { ClaimRequest } from '../../store/job-store.js';
import { jobColumns } from './job-rows.js';
import type { SqlNames } from './names.js';
import type { Statement } from './statement.js';

/**
 * A bucket a claim locks: kind, name and the shape the caller configures.
 * @internal
 */
export interface BucketRef {
  kind: string;
  name: string;
  spec: RateLimitSpec;
}

/**
 * Tokens held now, refilled from `b.updated_at` by the database's clock (never less than stored: a clock step back refills nothing).
 * @internal
 */
export const refilled = (capacity: string, rate: string): string =>
  `least(${capacity}, b.tokens + greatest(0, date_part('epoch', clock_timestamp() - b.updated_at)) * ${rate})`;

/**
 * The statements of a rate-limited claim (see `PostgresRateLimits`), used only
 * by queues that have a limit: the claim of other queues is not changed.
 * @internal
 */
export function rateLimitStatements(n: SqlNames) {
  return {
    /**
     * Locks the buckets (a missing one is created full) in (kind, name) order,
     * so that claims locking overlapping sets never deadlock, and refills them
     * to the database's clock. ON CONFLICT DO UPDATE locks each existing row
     * and computes its refill from the latest committed version, after any
     * wait: two claims never both spend the same tokens.
     */
    lock: (buckets: readonly BucketRef[]): Statement => ({
      name: n.statement('rate_lock'),
      text: `INSERT INTO ${n.rateBuckets} AS b (kind, name, tokens, capacity, refill_per_second, updated_at)
        SELECT s.kind, s.name, s.capacity, s.capacity, s.rate, clock_timestamp()
        FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[]) AS s(kind, name, capacity, rate)
        ORDER BY s.kind, s.name
        ON CONFLICT (kind, name) DO UPDATE SET
          tokens = ${refilled('EXCLUDED.capacity', 'EXCLUDED.refill_per_second')},
          capacity = EXCLUDED.capacity, refill_per_second = EXCLUDED.refill_per_second,
          updated_at = greatest(b.updated_at, clock_timestamp())
        RETURNING b.kind, b.name, b.tokens`,
      values: [buckets.map((b) => b.kind), buckets.map((b) => b.name), buckets.map((b) => b.spec.capacity), buckets.map((b) => b.spec.refillPerSecond)],
    }),
    /** Debits the locked buckets by what the claim took. */
    debit: (buckets: readonly { kind: string; name: string; taken: number }[]): Statement => ({
      name: n.statement('rate_debit'),
      text: `UPDATE ${n.rateBuckets} b SET tokens = b.tokens - s.taken
        FROM unnest($1::text[], $2::text[], $3::float8[]) AS s(kind, name, taken)
        WHERE b.kind = s.kind AND b.name = s.name`,
      values: [buckets.map((b) => b.kind), buckets.map((b) => b.name), buckets.map((b) => b.taken)],
    }),
    /**
     * The due jobs of the queue a claim would take, in claim order, skipping
     * names whose bucket is empty ($6), so they never fill the window ahead of
     * other names. Locked (SKIP LOCKED, as the claim), so that the claim of
     * the chosen ones in the same transaction finds them still there.
     */
    candidates: (request: ClaimRequest, emptyNames: readonly string[]): Statement => ({
      name: n.statement('rate_candidates'),
      text: `SELECT r.id::text AS id, r.name FROM ${n.ready} r
        WHERE r.queue = $1 AND r.run_at <= $2::timestamptz AND r.priority <= $5
          AND (r.pinned_node IS NULL OR r.pinned_node = $3)
          AND r.name <> ALL($6::text[])
          AND (r.serial_key IS NULL OR NOT EXISTS (SELECT 1 FROM ${n.serialRunning} s WHERE s.serial_key = r.serial_key
            AND coalesce((SELECT h.state FROM ${n.jobs} h WHERE h.id = s.id) = 'running', false)))
          AND (NOT EXISTS (SELECT 1 FROM ${n.scheduleStates} WHERE paused)
            OR NOT EXISTS (SELECT 1 FROM ${n.scheduleStates} p WHERE p.paused AND (p.name = r.name OR p.name = r.schedule)))
        ORDER BY r.priority, r.run_at, r.id
        LIMIT $4
        FOR UPDATE OF r SKIP LOCKED`,
      values: [request.queue, request.now, request.node, request.limit, request.maxPriority ?? 9, emptyNames],
    }),
    /** Jobs by id (those a limit held back), in id order. */
    jobs: (ids: readonly string[]): Statement => ({
      name: n.statement('rate_held'),
      text: `SELECT ${jobColumns('j')} FROM ${n.jobs} j WHERE j.id = ANY($1::bigint[]) ORDER BY j.id`,
      values: [ids],
    }),
    /** A bucket now, without locking or writing it; no row: a full bucket. */
    status: (bucket: BucketRef): Statement => ({
      name: n.statement('rate_status'),
      text: `SELECT ${refilled('$3::float8', '$4::float8')} AS tokens FROM ${n.rateBuckets} b WHERE b.kind = $1 AND b.name = $2`,
      values: [bucket.kind, bucket.name, bucket.spec.capacity, bucket.spec.refillPerSecond],
    }),
  };
}

/**
 * The statements of one store's rate limits.
 * @internal
 */
export type RateLimitStatements = ReturnType<typeof rateLimitStatements>;
