import { createHash } from 'node:crypto';
import { quoteIdent } from '../identifiers.js';
import type { PostgresContext } from '../postgres.context.js';

/**
 * The quoted names every statement builder uses, made once per store from
 * the validated schema and prefix. Builders take identifiers only from here.
 * @internal
 */
export interface SqlNames {
  jobs: string;
  schedules: string;
  scheduleStates: string;
  queueStates: string;
  leases: string;
  migrations: string;
  workflowRuns: string;
  /** Available jobs, in claim order (migration 4). */
  ready: string;
  /** Claimed batches with jobs still running (migration 4). */
  claims: string;
  /** Serial keys of fresh waiting jobs (migration 4; unique keys until migration 7). */
  jobKeys: string;
  /** Unique keys, with what a conflict over each is judged by (migration 7). */
  uniqueKeys: string;
  /** The serial key of each running job (migration 4). */
  serialRunning: string;
  /** Finished jobs per queue and state, in slots (migration 4). */
  queueCounts: string;
  /** Dead jobs (migration 4): their queue, name, error class, death time and alert (migration 10). */
  deadLetters: string;
  /** Idle slots nodes offer per queue, for push (migration 5). */
  offers: string;
  /** Circuit breakers, shared by every node (migration 9). */
  breakers: string;
  /** Token buckets of rate limits, one per kind and name (migration 8). */
  rateBuckets: string;
  /** The live nodes, one row each (migration 14). */
  nodes: string;
  /** Cancelled and discarded jobs: id, queue and state (migration 15). */
  rareFinished: string;
  /** The sequence of fencing tokens, shared by all jobs. */
  fencingSeq: string;
  /** `nextval(…)` of the jobs' id sequence (ids are taken before insert to keep input order). */
  nextJobId: string;
  /** `nextval(…)` of {@link fencingSeq}. */
  nextFencingToken: string;
  /** Quoted, unqualified name of an index or other object created beside the tables. */
  local(suffix: string): string;
  /** {@link local}, schema-qualified (to drop such an object whatever the search_path). */
  qualified(suffix: string): string;
  /**
   * The name of a prepared statement. PostgreSQL keys prepared statements by
   * their first 63 bytes and pg by name per connection, so the name carries a
   * short hash of schema and prefix: two stores in one process (or on one
   * borrowed pool) never clash.
   */
  statement(operation: string): string;
}

/**
 * The {@link SqlNames} of a context.
 * @internal
 */
export function sqlNames(pg: Pick<PostgresContext, 'schema' | 'prefix' | 'table'>): SqlNames {
  const tag = createHash('sha256').update(`${pg.schema}\u0000${pg.prefix}`).digest('hex').slice(0, 12);
  const nextval = (name: string): string => `nextval('${pg.table(name).replace(/'/g, "''")}'::regclass)`;
  return {
    jobs: pg.table('jobs'),
    schedules: pg.table('schedules'),
    scheduleStates: pg.table('schedule_states'),
    queueStates: pg.table('queue_states'),
    leases: pg.table('leases'),
    migrations: pg.table('migrations'),
    workflowRuns: pg.table('workflow_runs'),
    ready: pg.table('ready'),
    claims: pg.table('claims'),
    jobKeys: pg.table('job_keys'),
    uniqueKeys: pg.table('unique_keys'),
    serialRunning: pg.table('serial_running'),
    queueCounts: pg.table('queue_counts'),
    deadLetters: pg.table('dead_letters'),
    offers: pg.table('offers'),
    breakers: pg.table('breakers'),
    rateBuckets: pg.table('rate_buckets'),
    nodes: pg.table('nodes'),
    rareFinished: pg.table('rare_finished'),
    fencingSeq: pg.table('fencing_seq'),
    nextJobId: nextval('jobs_id_seq'),
    nextFencingToken: nextval('fencing_seq'),
    local: (suffix) => quoteIdent(pg.prefix + suffix),
    qualified: (suffix) => pg.table(suffix),
    statement: (operation) => `nss_${tag}_${operation}`,
  };
}

/**
 * Keys (signed 64-bit integers, as text) of the transaction-scoped advisory
 * locks of migrations: one per schema and prefix (all migrations of those
 * tables), and one per schema (its creation, which two prefixes may race for).
 * Always taken in that order, so they cannot deadlock.
 * @internal
 */
export function migrationLockKey(schema: string, prefix?: string): string {
  const scope = prefix === undefined ? `schema\u0000${schema}` : `tables\u0000${schema}\u0000${prefix}`;
  return createHash('sha256').update(`nestjs-scheduler:migrate:${scope}`).digest().readBigInt64BE(0).toString();
}
