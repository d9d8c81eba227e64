import type { JobRow } from './job-rows.js';

/**
 * The columns a claim reads of each due job, in this order, as an array
 * (better-sqlite3's `.raw(true)`): what its Job needs that the claim neither
 * knows (its queue, its state) nor writes, and last `plain`, 1 when the
 * columns left out hold their usual values (no unique key, pinned node,
 * result, progress, preemptible or finished time; no tags, meta or errors).
 * Why not every column: better-sqlite3 hands each column of each row to
 * JavaScript at about the same cost, null or not, and the full 30 were a
 * claim's largest cost after its update.
 * @internal
 */
export const DUE_COLUMNS =
  'id, name, schedule, args, priority, attempt, max_attempts, timeout_ms, run_at, scheduled_at, inserted_at, misfired, tick_key, serial_key, trace, ' +
  "coalesce(unique_key, pinned_node, result, progress, preemptible, finished_at) IS NULL AND tags = '[]' AND meta = '{}' AND errors = '[]'";

/**
 * The row of an available job of `queue` read as {@link DUE_COLUMNS}, or
 * `null` when it is not plain (the caller reads it whole). Its `node`,
 * `heartbeat_at`, `started_at` and `fencing_token` are not read: the claim
 * that takes the job writes them.
 * @internal
 */
export function dueRow(v: readonly unknown[], queue: string): JobRow | null {
  if (v[15] !== 1) return null;
  return {
    id: v[0] as number,
    name: v[1] as string,
    schedule: v[2] as string | null,
    queue,
    args: v[3] as string,
    state: 'available',
    priority: v[4] as number,
    attempt: v[5] as number,
    max_attempts: v[6] as number,
    timeout_ms: v[7] as number | null,
    run_at: v[8] as number,
    scheduled_at: v[9] as number,
    inserted_at: v[10] as number,
    misfired: v[11] as number,
    started_at: null,
    finished_at: null,
    heartbeat_at: null,
    node: null,
    fencing_token: 0,
    tick_key: v[12] as string | null,
    unique_key: null,
    serial_key: v[13] as string | null,
    pinned_node: null,
    tags: '[]',
    meta: '{}',
    result: null,
    errors: '[]',
    trace: v[14] as string | null,
    progress: null,
    preemptible: null,
  };
}
