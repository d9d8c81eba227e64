import type { InsertResult, Job, NewJob } from '../store/job.types.js';
import { buildJob } from '../store/new-job.js';
import { StoreUnavailableError } from './postgres.errors.js';
import type { insertStatements } from './sql/insert.sql.js';
import { toJob, type JobRow } from './sql/job-rows.js';
import type { Statement } from './sql/statement.js';

/** A new job as the claim-at-insert left it (see `InsertOptions.claimFor`). */
function claimedBy(job: Job, claimFor: { node: string; now: Date }, fencingToken: number): void {
  job.state = 'running';
  job.attempt = 1;
  job.startedAt = new Date(claimFor.now.getTime());
  job.heartbeatAt = new Date(claimFor.now.getTime());
  job.node = claimFor.node;
  job.fencingToken = fencingToken;
}

/** Rounds of insert + conflict lookup before giving up on a job whose conflicting job keeps vanishing. */
const INSERT_ROUNDS = 5;

type ConflictRow = JobRow & { ord: number; conflict: 'tick' | 'unique' | 'serial' };
type InsertedRow = { ord: number; id: string; inserted_at_ms: number; claimed?: boolean; fencing_token?: string | number };

/**
 * Inserts checked jobs (`records`, see `insertRecord`) and reports, in input
 * order, each new job or the existing one it collided with. One statement
 * when nothing collides; a second looks up the collisions. A job that
 * collided with one that is gone by the lookup (finished, deleted) is
 * inserted again.
 */
export async function insertJobs(
  jobs: readonly NewJob[],
  records: readonly string[],
  sql: ReturnType<typeof insertStatements>,
  channel: string,
  rows: <T extends object>(statement: Statement) => Promise<T[]>,
  claimFor?: { node: string; now: Date },
): Promise<InsertResult[]> {
  const results: (InsertResult | undefined)[] = new Array(jobs.length);
  let todo = records.map((_, ord) => ord);
  for (let round = 0; todo.length > 0; round++) {
    if (round === INSERT_ROUNDS) throw new StoreUnavailableError('an insert kept colliding with jobs that then disappeared');
    const keyless = todo.every((ord) => !jobs[ord]!.tickKey && !jobs[ord]!.uniqueKey && !jobs[ord]!.serialKey);
    const batch = todo.map((ord) => records[ord]!);
    const claiming = claimFor !== undefined && todo.every((ord) => !jobs[ord]!.serialKey);
    const statement = claiming ? sql.insertClaimed(batch, channel, claimFor.now, claimFor.node, keyless) : sql.insert(batch, channel, keyless);
    for (const row of await rows<InsertedRow>(statement)) {
      const job = buildJob(String(row.id), jobs[row.ord]!, new Date(Number(row.inserted_at_ms)));
      if (row.claimed && claimFor) claimedBy(job, claimFor, Number(row.fencing_token));
      results[row.ord] = { job, inserted: true };
    }
    const skipped = todo.filter((ord) => results[ord] === undefined);
    if (skipped.length === 0) break;
    const probes = skipped.map((ord) => ({
      ord,
      tick_key: jobs[ord]!.tickKey ?? null,
      unique_key: jobs[ord]!.uniqueKey ?? null,
      serial_key: jobs[ord]!.serialKey ?? null,
    }));
    for (const row of await rows<ConflictRow>(sql.conflicts(probes))) {
      results[row.ord] = { job: toJob(row), inserted: false, conflict: row.conflict };
    }
    todo = skipped.filter((ord) => results[ord] === undefined);
  }
  return results as InsertResult[];
}
