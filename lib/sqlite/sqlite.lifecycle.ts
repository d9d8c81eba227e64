import { DuplicateJobError, StaleAttemptError } from '../scheduler.errors.js';
import { FREE_HANDBACKS, rescueBackoff, type AttemptRef, type HeartbeatRef } from '../store/job-store.js';
import { MAX_KEPT_ERRORS, type Job, type JobAttemptError, type JobProgress, type JobState } from '../store/job.types.js';
import { storableAttemptError, storableMessage } from '../store/storable-output.js';
import { parseErrors, toJob, toRowId, type JobRow } from './job-rows.js';
import { countKind, withError, type RowPatch, type SqliteJobTable } from './sqlite.job-table.js';

/**
 * A completion the one-statement path may write (see `SqliteLifecycle.completeAlone`): its job's row id, attempt, result as JSON text and time (ms).
 * @internal
 */
export interface UsualCompletion {
  id: number;
  attempt: number;
  result: string | null;
  at: number;
}

const RESURRECTABLE: readonly JobState[] = ['dead', 'discarded', 'cancelled'];

/**
 * The job transitions after a claim, each a function of the rows inside the
 * caller's write transaction, with the memory store's semantics.
 * @internal
 */
export class SqliteLifecycle {
  constructor(private readonly table: SqliteJobTable) {}

  /**
   * The running row an acknowledgement may change, or StaleAttemptError. A
   * job claimed ahead and finished before a heartbeat recorded its start gets
   * its last heartbeat as its start.
   */
  owned(ref: AttemptRef): JobRow {
    const row = this.table.owned(toRowId(ref.id), ref.attempt);
    if (!row) throw new StaleAttemptError(ref.id, ref.attempt);
    return row.started_at === null ? this.table.update(row, { startedAt: row.heartbeat_at }) : row;
  }

  /**
   * The usual completion in one statement, inside the acknowledgements'
   * transaction: a kept job without a unique key, whose completion changes
   * nothing else. Returns false when the general path must decide (a unique
   * key, or a stale ref). The completion is counted at the end of the
   * transaction (see `SqliteJobTable.tallyCompleted`): the caller's
   * transaction must flush it.
   */
  completeAlone(done: UsualCompletion): boolean {
    const { changes } = this.table
      .sql(
        `UPDATE jobs SET state = 'completed', result = ?, finished_at = ?, started_at = coalesce(started_at, heartbeat_at)
         WHERE id = ? AND state = 'running' AND attempt = ? AND unique_key IS NULL`,
      )
      .run(done.result, done.at, done.id, done.attempt);
    if (changes === 0) return false;
    this.table.tallyCompleted(done.id);
    return true;
  }

  /**
   * Usual completions written together, one statement for those of the
   * same attempt, result and time (in a drain, all of them): a statement a
   * job cost a third more than one for the batch. Returns false, having written
   * some of them, when any did not apply: the caller rolls them back (a
   * savepoint) and writes each alone.
   */
  completeAll(done: readonly UsualCompletion[]): boolean {
    const groups = new Map<string, { first: UsualCompletion; ids: number[] }>();
    for (const c of done) {
      const key = `${c.attempt}:${c.at}:${c.result === null ? '-' : `=${c.result}`}`;
      const group = groups.get(key);
      if (group) group.ids.push(c.id);
      else groups.set(key, { first: c, ids: [c.id] });
    }
    const statement = this.table.sql(
      `UPDATE jobs SET state = 'completed', result = ?, finished_at = ?, started_at = coalesce(started_at, heartbeat_at)
       WHERE id IN (SELECT value FROM json_each(?)) AND state = 'running' AND attempt = ? AND unique_key IS NULL`,
    );
    let changes = 0;
    for (const { first, ids } of groups.values()) changes += statement.run(first.result, first.at, JSON.stringify(ids), first.attempt).changes;
    if (changes !== done.length) return false;
    for (const c of done) this.table.tallyCompleted(c.id);
    return true;
  }

  complete(ref: AttemptRef, result: string | null, now: number, forget: boolean): void {
    const row = this.owned(ref);
    if (forget) this.table.forget(row.id);
    else this.table.update(row, { state: 'completed', result, finishedAt: now });
  }

  retry(ref: AttemptRef, runAt: number, error: JobAttemptError): void {
    const row = this.owned(ref);
    this.table.update(row, { state: 'available', runAt, errors: this.errors(row, storableAttemptError(error)) });
  }

  fail(ref: AttemptRef, state: 'dead' | 'discarded', error: JobAttemptError, now: number): void {
    const row = this.owned(ref);
    this.table.update(row, { state, finishedAt: now, errors: this.errors(row, storableAttemptError(error)) });
  }

  /** See `MemoryStore.release`: the interrupted attempt counts, but a last one gets another, {@link FREE_HANDBACKS} times. */
  release(ref: AttemptRef, runAt: number, error: JobAttemptError): void {
    const row = this.owned(ref);
    const kept = parseErrors(row.errors);
    const last = row.attempt >= row.max_attempts;
    const free = countKind(kept, 'shutdown') < FREE_HANDBACKS;
    const errors = withError(kept, storableAttemptError(error), MAX_KEPT_ERRORS);
    if (last && !free) this.table.update(row, { state: 'dead', finishedAt: runAt, errors });
    else this.table.update(row, { state: 'available', runAt, errors, maxAttempts: last ? row.max_attempts + 1 : row.max_attempts });
  }

  unclaim(refs: readonly AttemptRef[], runAt: number | undefined): number {
    let count = 0;
    for (const ref of refs) {
      const row = this.table.owned(toRowId(ref.id), ref.attempt);
      if (!row) continue;
      const patch: RowPatch = { state: 'available', attempt: row.attempt - 1, startedAt: null, heartbeatAt: null, node: null };
      if (runAt !== undefined) patch.runAt = runAt;
      this.table.update(row, patch);
      count++;
    }
    return count;
  }

  heartbeat(refs: readonly HeartbeatRef[], now: number): AttemptRef[] {
    const lost: AttemptRef[] = [];
    const beat = this.table.sql(`UPDATE jobs SET heartbeat_at = ?, started_at = coalesce(started_at, ?) WHERE id = ? AND state = 'running' AND attempt = ?`);
    for (const ref of refs) {
      const id = toRowId(ref.id);
      const started = ref.startedAt === null ? null : (ref.startedAt ?? now);
      if (id === null || beat.run(now, started, id, ref.attempt).changes === 0) lost.push({ id: ref.id, attempt: ref.attempt });
    }
    return lost;
  }

  /** See `JobStore.saveProgress`: fenced by the attempt, like an acknowledgement. */
  saveProgress(ref: AttemptRef, progress: JobProgress): boolean {
    const id = toRowId(ref.id);
    if (id === null) return false;
    return (
      this.table.sql(`UPDATE jobs SET progress = ? WHERE id = ? AND state = 'running' AND attempt = ?`).run(JSON.stringify(progress), id, ref.attempt).changes >
      0
    );
  }

  cancel(id: string, now: number, reason: string): Job | null {
    const rowId = toRowId(id);
    const row = rowId === null ? undefined : this.table.row(rowId);
    if (!row || (row.state !== 'available' && row.state !== 'running')) return null;
    const error = { kind: 'cancel', name: 'CancelledError', message: storableMessage(reason), attempt: row.attempt, at: new Date(now) };
    this.table.update(row, { state: 'cancelled', finishedAt: now, errors: this.errors(row, error) });
    return toJob(row);
  }

  /** See `JobStore.rescue`; `nodes`, when given, limits it to the jobs of those nodes. */
  rescue(before: number, now: number, nodes?: readonly string[]): Job[] {
    const lost = (
      nodes
        ? this.table.sql(`SELECT * FROM jobs WHERE state = 'running' AND node IN (SELECT value FROM json_each(?)) ORDER BY id`).all(JSON.stringify(nodes))
        : this.table.sql(`SELECT * FROM jobs WHERE state = 'running' AND coalesce(heartbeat_at, started_at) < ? ORDER BY id`).all(before)
    ) as JobRow[];
    return lost.map((row) => toJob(this.rescueOne(row, now)));
  }

  /** @throws DuplicateJobError when another job holding its unique key blocks it. */
  resurrect(id: string, now: number): Job | null {
    const rowId = toRowId(id);
    const row = rowId === null ? undefined : this.table.row(rowId);
    if (!row || !RESURRECTABLE.includes(row.state)) return null;
    if (row.unique_key !== null && this.table.uniqueHolder(row.unique_key, {}, now)) throw new DuplicateJobError(row.unique_key);
    this.table.sql('DELETE FROM dead_letters WHERE id = ?').run(row.id);
    // As many attempts as the job had at its first retry, not its last (grown) budget.
    const { retry_budget: kept } = this.table.sql('SELECT retry_budget FROM jobs WHERE id = ?').get(row.id) as { retry_budget: number | null };
    const retryBudget = kept ?? Math.max(1, row.max_attempts);
    const after = this.table.update(row, { state: 'available', runAt: now, finishedAt: null, maxAttempts: row.attempt + retryBudget, retryBudget });
    if (row.unique_key !== null) this.table.takeUnique(row.unique_key, row.id, null, now);
    return toJob(after);
  }

  private rescueOne(row: JobRow, now: number): JobRow {
    const kept = parseErrors(row.errors);
    const since = new Date((row.heartbeat_at ?? row.started_at)!).toISOString();
    const at = new Date(now);
    if (row.started_at === null && countKind(kept, 'unstarted') < FREE_HANDBACKS) {
      const message = `claimed ahead by a node that stopped before starting it (no heartbeat since ${since}); this attempt is not counted`;
      const errors = withError(kept, { kind: 'unstarted', name: 'RescuedError', message, attempt: row.attempt, at }, MAX_KEPT_ERRORS);
      return this.table.update(row, { state: 'available', runAt: now, maxAttempts: row.max_attempts + 1, errors });
    }
    const delay = rescueBackoff(countKind(kept, 'lease-lost'));
    const errors = withError(
      kept,
      { kind: 'lease-lost', name: 'RescuedError', message: `no heartbeat since ${since}`, attempt: row.attempt, at },
      MAX_KEPT_ERRORS,
    );
    if (row.attempt < row.max_attempts) return this.table.update(row, { state: 'available', runAt: now + delay, errors });
    return this.table.update(row, { state: 'dead', finishedAt: now, errors });
  }

  private errors(row: JobRow, error: JobAttemptError): JobAttemptError[] {
    return withError(parseErrors(row.errors), error, MAX_KEPT_ERRORS);
  }
}
