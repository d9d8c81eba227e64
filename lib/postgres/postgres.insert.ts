import type { InsertResult, Job, NewJob } from '../store/job.types.js';
import { buildJob } from '../store/new-job.js';
import { uniqueMask } from '../store/unique-states.js';
import { StoreUnavailableError } from './postgres.errors.js';
import type { InsertBatch, InsertedRow, insertStatements } from './sql/insert.sql.js';
import { toJob, type JobRow } from './sql/job-rows.js';
import type { Statement } from './sql/statement.js';

/** A new job as the claim-at-insert left it (see `InsertOptions.claimFor`); a pushed one is claimed ahead, not started. */
function claimedBy(job: Job, node: string, now: Date, fencingToken: number, started: boolean): void {
  job.state = 'running';
  job.attempt = 1;
  job.startedAt = started ? new Date(now.getTime()) : null;
  job.heartbeatAt = new Date(now.getTime());
  job.node = node;
  job.fencingToken = fencingToken;
}

/** The most jobs one push carries: their ids ride in one NOTIFY, whose payload must stay under 8000 bytes. */
const MAX_PUSH = 100;

/** Whether a batch may be pushed to an idle node (see `InsertOptions.push`): at most {@link MAX_PUSH} jobs of one queue, every one due now, unpinned, without a serial key. */
function pushable(jobs: readonly NewJob[], now: Date): boolean {
  const queue = jobs[0]?.queue;
  return jobs.length <= MAX_PUSH && jobs.every((job) => job.queue === queue && !job.serialKey && !job.pinnedNode && job.runAt.getTime() <= now.getTime());
}

/** Rounds of insert + conflict lookup before giving up on a job whose conflicting job keeps vanishing. */
const INSERT_ROUNDS = 5;

type ConflictRow = JobRow & { ord: number; conflict: 'tick' | 'unique' | 'serial' };

/**
 * Inserts checked jobs (`batch`, see `insertBatch`) and reports, in input
 * order, each new job or the existing one it collided with. One statement
 * when nothing collides; then keys no active job holds are dropped and the
 * collisions looked up. A job that collided with one that is gone by the
 * lookup (finished, deleted) is inserted again.
 * @internal
 */
export async function insertJobs(
  jobs: readonly NewJob[],
  batch: InsertBatch,
  sql: ReturnType<typeof insertStatements>,
  channel: string,
  rows: <T extends object>(statement: Statement) => Promise<T[]>,
  claimFor?: { node: string; now: Date },
  push?: { from: string; now: Date },
  now?: Date,
): Promise<InsertResult[]> {
  const results: (InsertResult | undefined)[] = new Array(jobs.length);
  let todo = jobs.map((_, ord) => ord);
  for (let round = 0; todo.length > 0; round++) {
    if (round === INSERT_ROUNDS) throw new StoreUnavailableError('an insert kept colliding with jobs that then disappeared');
    const keyless = todo.every((ord) => !jobs[ord]!.tickKey && !jobs[ord]!.uniqueKey && !jobs[ord]!.serialKey);
    const part = round === 0 ? batch : { shared: batch.shared, items: todo.map((ord) => batch.items[ord]!) };
    const claiming = claimFor !== undefined && todo.every((ord) => !jobs[ord]!.serialKey);
    // A push is tried on the first round only: a batch that collided is already partly in.
    const pushing = !claiming && round === 0 && push !== undefined && pushable(jobs, push.now);
    const statement = claiming
      ? sql.insertClaimed(part, channel, claimFor.now, claimFor.node, keyless)
      : pushing
        ? sql.insertPushed(part, channel, push.now, push.from, jobs[0]!.queue, keyless)
        : sql.insert(part, channel, keyless);
    const [row] = await rows<InsertedRow>(statement);
    const target = claiming ? claimFor : pushing && row?.pushed_to ? { node: row.pushed_to, now: push.now } : undefined;
    const positions = pgArray(row?.ords);
    const ids = pgArray(row?.ids);
    const tokens = pgArray(row?.tokens);
    for (let k = 0; k < positions.length; k++) {
      const ord = todo[Number(positions[k]) - 1]!;
      const job = buildJob(ids[k]!, jobs[ord]!, new Date(row!.inserted_at_ms!));
      const token = target && tokens.length > 0 ? Number(tokens[k]) : 0;
      if (token > 0) claimedBy(job, target!.node, target!.now, token, claiming);
      results[ord] = { job, inserted: true };
    }
    const skipped = todo.filter((ord) => results[ord] === undefined);
    if (skipped.length === 0) break;
    const probes = skipped.map((ord) => {
      const job = jobs[ord]!;
      const unique = job.uniqueKey != null;
      return {
        ord,
        tick_key: job.tickKey ?? null,
        unique_key: job.uniqueKey ?? null,
        unique_states: unique ? uniqueMask(job.uniqueStates) : null,
        unique_period: unique ? (job.uniquePeriod ?? null) : null,
        unique_since: unique && now ? now.toISOString() : null,
        serial_key: job.serialKey ?? null,
      };
    });
    if (probes.some((p) => p.unique_key !== null || p.serial_key !== null)) await rows(sql.staleKeys(probes));
    for (const row of await rows<ConflictRow>(sql.conflicts(probes))) {
      results[row.ord] = { job: toJob(row), inserted: false, conflict: row.conflict };
    }
    todo = skipped.filter((ord) => results[ord] === undefined);
  }
  return results as InsertResult[];
}

/** The elements of a one-dimensional PostgreSQL array of numbers in text form (`{1,2,3}`); none for NULL. */
function pgArray(text: string | null | undefined): string[] {
  return text ? text.slice(1, -1).split(',') : [];
}
