import type BetterSqlite3 from 'better-sqlite3';
import type { JobAttemptError, JobState, NewJob } from '../store/job.types.js';
import { FINAL_STATES } from '../store/job.types.js';
import { holderBit, keepsCompleted, uniqueMask } from '../store/unique-states.js';
import { errorsJson, type JobRow } from './job-rows.js';
import type { SqliteConnection } from './sqlite.connection.js';

/** The columns a transition may set, by their Job field. */
const COLUMNS = {
  state: 'state',
  attempt: 'attempt',
  maxAttempts: 'max_attempts',
  runAt: 'run_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  heartbeatAt: 'heartbeat_at',
  node: 'node',
  result: 'result',
  errors: 'errors',
  retryBudget: 'retry_budget',
} as const;

/**
 * A change of one job's row: times in epoch ms, `result` as JSON text, `errors` the whole kept list.
 * @internal
 */
export interface RowPatch {
  state?: JobState;
  attempt?: number;
  maxAttempts?: number;
  runAt?: number;
  startedAt?: number | null;
  finishedAt?: number | null;
  heartbeatAt?: number | null;
  node?: string | null;
  result?: string | null;
  errors?: readonly JobAttemptError[];
  /** The attempts each dead-letter retry grants (set at the first). */
  retryBudget?: number;
}

/**
 * The statements every part of the SQLite store shares: one job's row, its
 * keys, and the bookkeeping a state change brings (dead letters, unique
 * keys). Called inside a write transaction (see `SqliteConnection.write`).
 * @internal
 */
export class SqliteJobTable {
  /** Jobs the open transaction completed and has not counted yet (see {@link tallyCompleted}). */
  private readonly completed: number[] = [];

  constructor(private readonly sqlite: SqliteConnection) {}

  /** A prepared statement, prepared once per text (see `SqliteConnection.statement`). */
  sql(text: string): BetterSqlite3.Statement {
    return this.sqlite.statement(text);
  }

  row(id: number): JobRow | undefined {
    return this.sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  }

  /** The running row an acknowledgement of (`id`, `attempt`) may change. */
  owned(id: number | null, attempt: number): JobRow | undefined {
    if (id === null) return undefined;
    return this.sql(`SELECT * FROM jobs WHERE id = ? AND state = 'running' AND attempt = ?`).get(id, attempt) as JobRow | undefined;
  }

  /** Moves a claimed job to running (attempt + 1, a new fencing token). */
  start(id: number, node: string, now: number, starts: boolean): JobRow {
    const token = (this.sql(`UPDATE counters SET value = value + 1 WHERE name = 'fencing_token' RETURNING value`).get() as { value: number }).value;
    return this.sql(
      `UPDATE jobs SET state = 'running', attempt = attempt + 1, heartbeat_at = ?, started_at = ?, node = ?, fencing_token = ? WHERE id = ? RETURNING *`,
    ).get(now, starts ? now : null, node, token, id) as JobRow;
  }

  /**
   * Moves claimed jobs to running in one statement, in the order given: the
   * first `start` of them start now, and their fencing tokens grow in that
   * order. `rows` are the jobs as read in this transaction, changed in place
   * to what the statement wrote: reading them back (`RETURNING` every
   * column) cost more than reading them whole among the claim's candidates.
   */
  startMany(rows: JobRow[], node: string, now: number, start: number): JobRow[] {
    if (rows.length === 0) return rows;
    const first =
      (this.sql(`UPDATE counters SET value = value + ? WHERE name = 'fencing_token' RETURNING value`).get(rows.length) as { value: number }).value -
      rows.length +
      1;
    const ids = JSON.stringify(rows.map((row) => row.id));
    const { changes } = this.sql(
      `UPDATE jobs SET state = 'running', attempt = attempt + 1, heartbeat_at = ?, node = ?, fencing_token = ? + o.key,
         started_at = CASE WHEN o.key < ? THEN ? ELSE NULL END
       FROM (SELECT key, value FROM json_each(?)) AS o WHERE jobs.id = o.value AND jobs.state = 'available'`,
    ).run(now, node, first, Math.min(start, rows.length), now, ids);
    // Rows read in this write transaction cannot have changed since: a mismatch is a bug, rolled back here.
    if (changes !== rows.length) throw new Error(`claimed ${rows.length} available jobs, but ${changes} were available`);
    rows.forEach((row, i) => {
      row.state = 'running';
      row.attempt += 1;
      row.heartbeat_at = now;
      row.node = node;
      row.fencing_token = first + i;
      row.started_at = i < start ? now : null;
    });
    return rows;
  }

  /** Applies a patch; a move to a final state also does what finishing brings. */
  update(before: JobRow, patch: RowPatch): JobRow {
    const keys = Object.keys(patch) as (keyof RowPatch)[];
    const values = keys.map((key) => (key === 'errors' ? errorsJson(patch.errors ?? []) : patch[key]));
    const assignments = keys.map((key) => `${COLUMNS[key]} = ?`).join(', ');
    const after = this.sql(`UPDATE jobs SET ${assignments} WHERE id = ? RETURNING *`).get(...values, before.id) as JobRow;
    if (after.state !== before.state) {
      this.count(before.queue, before.state, -1);
      this.count(after.queue, after.state, 1);
      if (FINAL_STATES.includes(after.state)) this.finished(after);
    }
    return after;
  }

  /** Deletes a job with its dead letter and the unique key it holds (its tick key goes with the row). */
  forget(id: number): boolean {
    this.sql('DELETE FROM dead_letters WHERE id = ?').run(id);
    this.sql('DELETE FROM unique_keys WHERE id = ?').run(id);
    const gone = this.sql('DELETE FROM jobs WHERE id = ? RETURNING queue, state').get(id) as Pick<JobRow, 'queue' | 'state'> | undefined;
    if (gone) this.count(gone.queue, gone.state, -1);
    return gone !== undefined;
  }

  /** Adds `delta` to the count of finished jobs of (`queue`, `state`); other states are counted through their indexes. */
  count(queue: string, state: JobState, delta: number): void {
    if (!FINAL_STATES.includes(state)) return;
    this.sql('INSERT INTO queue_counts (queue, state, n) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n').run(queue, state, delta);
  }

  /**
   * Counts a completion written by the one-statement path later, with
   * {@link flushCompleted} at the end of the transaction: one counter write
   * a queue a batch, and no `RETURNING queue` on each completion (SQLite's
   * `RETURNING` is a large share of that statement's cost).
   */
  tallyCompleted(id: number): void {
    this.completed.push(id);
  }

  /** Writes the tallied completions, counted by queue (inside the transaction that made them), and forgets them. */
  flushCompleted(): void {
    if (this.completed.length === 0) return;
    this.sql(
      `INSERT INTO queue_counts (queue, state, n)
       SELECT queue, 'completed', count(*) FROM jobs WHERE id IN (SELECT value FROM json_each(?)) GROUP BY queue
       ON CONFLICT DO UPDATE SET n = n + excluded.n`,
    ).run(JSON.stringify(this.completed));
    this.completed.length = 0;
  }

  /** Forgets the tallied completions of a transaction that did not commit. */
  dropCompleted(): void {
    this.completed.length = 0;
  }

  /**
   * The job holding `key` that blocks a job with these states and period at
   * `now` (ms): one in those states, that took the key less than the period ago.
   */
  uniqueHolder(key: string, spec: Pick<NewJob, 'uniqueStates' | 'uniquePeriod'>, now: number): JobRow | undefined {
    const hold = this.sql('SELECT id, since FROM unique_keys WHERE key = ?').get(key) as { id: number; since: number } | undefined;
    if (!hold) return undefined;
    if (spec.uniquePeriod != null && hold.since + spec.uniquePeriod <= now) return undefined;
    const holder = this.row(hold.id);
    if (!holder) return undefined;
    return (holderBit(holder.state, holder.run_at, now) & uniqueMask(spec.uniqueStates)) !== 0 ? holder : undefined;
  }

  /** `id` holds `key` from `now` (ms), over any earlier holder (the caller checked that none blocks). */
  takeUnique(key: string, id: number, states: NewJob['uniqueStates'], now: number): void {
    this.sql('INSERT OR REPLACE INTO unique_keys (key, id, mask, since) VALUES (?, ?, ?, ?)').run(key, id, uniqueMask(states), now);
  }

  /** The names and schedules paused now. */
  pausedNames(): Set<string> {
    const rows = this.sql('SELECT name FROM schedule_states WHERE paused = 1').all() as { name: string }[];
    return new Set(rows.map((row) => row.name));
  }

  /** Whether a job of this serial key is running. */
  serialRunning(key: string): boolean {
    // The state's IN term repeats the serial index's own, so SQLite uses it (else it scans every running job).
    return this.sql(`SELECT 1 FROM jobs WHERE serial_key = ? AND state IN ('available', 'running') AND state = 'running' LIMIT 1`).get(key) !== undefined;
  }

  /** Whether a paused name or schedule, or a running job of its serial key, holds a due job back. */
  blocked(row: Pick<JobRow, 'name' | 'schedule' | 'serial_key'>, paused: ReadonlySet<string>): boolean {
    if (paused.has(row.name) || (row.schedule !== null && paused.has(row.schedule))) return true;
    return row.serial_key !== null && this.serialRunning(row.serial_key);
  }

  /** A job that reached a final state: a dead one becomes a dead letter; its unique key is freed unless kept. */
  private finished(row: JobRow): void {
    if (row.state === 'dead') {
      const errors = JSON.parse(row.errors) as { errorClass?: string }[];
      this.sql(`INSERT OR REPLACE INTO dead_letters (id, queue, name, error_class, died_at, alert_at, alert_tries) VALUES (?, ?, ?, ?, ?, ?, 0)`).run(
        row.id,
        row.queue,
        row.name,
        errors.at(-1)?.errorClass ?? 'unclassified',
        row.finished_at,
        row.finished_at,
      );
    }
    if (row.unique_key === null) return;
    const hold = this.sql('SELECT id, mask FROM unique_keys WHERE key = ?').get(row.unique_key) as { id: number; mask: number } | undefined;
    if (hold?.id !== row.id) return;
    if (!(row.state === 'completed' && keepsCompleted(hold.mask))) this.sql('DELETE FROM unique_keys WHERE key = ?').run(row.unique_key);
  }
}

/**
 * A job's kept errors with one more (a copy), keeping only the last `max`.
 * @internal
 */
export function withError(errors: readonly JobAttemptError[], error: JobAttemptError, max: number): JobAttemptError[] {
  const { attempt, at, name, message, stack, kind, errorClass } = error;
  const kept = [
    ...errors,
    {
      attempt,
      at: new Date(at.getTime()),
      name,
      message,
      ...(stack === undefined ? {} : { stack }),
      kind,
      ...(errorClass === undefined ? {} : { errorClass }),
    },
  ];
  return kept.slice(Math.max(0, kept.length - max));
}

/**
 * How many kept errors are of `kind` (hand-backs, rescues).
 * @internal
 */
export function countKind(errors: readonly JobAttemptError[], kind: string): number {
  return errors.filter((error) => error.kind === kind).length;
}
