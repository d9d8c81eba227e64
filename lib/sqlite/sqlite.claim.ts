import type { ClaimRequest } from '../store/job-store.js';
import { DUE_COLUMNS, dueRow } from './due-rows.js';
import { JOB_COLUMNS, rowFromValues, type JobRow } from './job-rows.js';
import type { SqliteJobTable } from './sqlite.job-table.js';

const PAGE = 256;
const READY = `SELECT ${DUE_COLUMNS} FROM jobs
  WHERE queue = ? AND state = 'available' AND run_at <= ? AND priority <= ? AND (pinned_node IS NULL OR pinned_node = ?)
    AND (priority, run_at, id) > (?, ?, ?)`;
const BY_IDS = ' AND id IN (SELECT value FROM json_each(?))';
// Blocked jobs are passed over in SQL: read into JavaScript first, each cost a claim what a claimed one does
// (20,000 due jobs of a paused name ahead made every claim of their queue 130 ms of the event loop).
// The state's IN term repeats the serial index's own, so SQLite uses it (else it scans every running job).
const NOT_SERIAL_RUNNING =
  " AND (serial_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs r WHERE r.serial_key = jobs.serial_key AND r.state IN ('available', 'running') AND r.state = 'running'))";
const NOT_PAUSED = ' AND name NOT IN (SELECT value FROM json_each(?)) AND (schedule IS NULL OR schedule NOT IN (SELECT value FROM json_each(?)))';
// `+?`, not `?`: SQLite plans with a bare LIMIT parameter's value, so every new binding of it re-prepared the statement (~20 µs a page).
const ORDER = ' ORDER BY priority, run_at, id LIMIT +?';

/**
 * The due jobs a claim may take, in claim order (priority, run_at, id),
 * read a page at a time from the ready index (see `dueRow`; a row that is
 * not plain is read again whole): a page is read before any of its jobs is
 * changed (better-sqlite3 allows no write while a read is open), and the
 * next page starts after the last key seen. The first page holds
 * `request.limit` rows (each row read costs, so a claim of one reads one),
 * each next one twice as many, up to {@link PAGE}. Jobs of a `paused` name
 * or schedule, or of a serial key with a running job, are not read; one
 * job a serial key within the claim is left to the caller.
 * @internal
 */
export function* candidates(table: SqliteJobTable, request: ClaimRequest, ids: readonly number[] | null, paused: ReadonlySet<string>): Generator<JobRow> {
  const now = request.now.getTime();
  const maxPriority = request.maxPriority ?? 9;
  // Two statements, not one with an empty list: a claim with nothing paused pays nothing for the pauses.
  const statement = table.sql(READY + NOT_SERIAL_RUNNING + (paused.size > 0 ? NOT_PAUSED : '') + (ids ? BY_IDS : '') + ORDER).raw(true);
  const pausedJson = paused.size > 0 ? JSON.stringify([...paused]) : null;
  const whole = table.sql(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`).raw(true);
  let size = Math.min(PAGE, Math.max(1, Math.ceil(request.limit)));
  let cursor: [number, number, number] = [-1, -Infinity, 0];
  for (;;) {
    const args: unknown[] = [request.queue, now, maxPriority, request.node, ...cursor];
    if (pausedJson !== null) args.push(pausedJson, pausedJson);
    if (ids) args.push(JSON.stringify(ids));
    const page = statement.all(...args, size) as unknown[][];
    let last: JobRow | undefined;
    for (const values of page) yield (last = dueRow(values, request.queue) ?? rowFromValues(whole.get(values[0]) as unknown[]));
    if (page.length < size) return;
    cursor = [last!.priority, last!.run_at, last!.id];
    size = Math.min(PAGE, size * 2);
  }
}

/**
 * Claims up to `request.limit` jobs (see `JobStore.claim`) inside the
 * caller's write transaction: the first `request.start` of them start now.
 * The jobs are chosen first and changed after the walk, so the pages read
 * stay as they were.
 * @internal
 */
export function claimJobs(table: SqliteJobTable, request: ClaimRequest, ids: readonly number[] | null): JobRow[] {
  const limit = Number.isFinite(request.limit) ? Math.ceil(request.limit) : Number.MAX_SAFE_INTEGER;
  if (!(limit > 0)) return [];
  const paused = table.pausedNames();
  const chosen: JobRow[] = [];
  // Serial keys taken by this claim: one job per key, even before any of them is running.
  const serials = new Set<string>();
  for (const candidate of candidates(table, request, ids, paused)) {
    if (candidate.serial_key !== null && serials.has(candidate.serial_key)) continue;
    if (candidate.serial_key !== null) serials.add(candidate.serial_key);
    chosen.push(candidate);
    if (chosen.length >= limit) break;
  }
  // One statement for the batch: a claim of 100 jobs was 100 updates.
  return table.startMany(chosen, request.node, request.now.getTime(), request.start ?? Infinity);
}
