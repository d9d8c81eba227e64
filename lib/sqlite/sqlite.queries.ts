import type { JobFilter, JobState, QueueCounts, QueueState, ScheduleState, StoredSchedule } from '../store/job.types.js';
import type { JsonObject, JsonScalar } from '../common/json.js';
import { toJob, type JobRow } from './job-rows.js';
import type { SqliteJobTable } from './sqlite.job-table.js';

/** A WHERE clause for a job filter (`limit` and `order` aside), and its values. */
function where(filter: JobFilter): { clause: string; values: unknown[] } {
  const parts: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, ...given: unknown[]): void => {
    parts.push(sql);
    values.push(...given);
  };
  if (filter.name !== undefined) add('name = ?', filter.name);
  if (filter.nameOrSchedule !== undefined) add('(name = ? OR schedule = ?)', filter.nameOrSchedule, filter.nameOrSchedule);
  if (filter.queue !== undefined) add('queue = ?', filter.queue);
  if (filter.states !== undefined) add('state IN (SELECT value FROM json_each(?))', JSON.stringify(filter.states));
  if (filter.finishedBefore !== undefined) add('finished_at < ?', filter.finishedBefore.getTime());
  if (filter.afterId !== undefined) add(`id ${filter.order === 'asc' ? '>' : '<'} ?`, Number(filter.afterId));
  // instr over lower(): SQLite's lower() folds ASCII only, as the other stores do; no LIKE pattern to escape.
  for (const text of filter.nameContains ?? []) add('instr(lower(name), lower(?)) > 0', text);
  for (const tag of filter.tags ?? []) add('EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?)', tag);
  for (const { path, value } of filter.args ?? []) argsCondition(add, jsonPath(path), value);
  return { clause: parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '', values };
}

/**
 * The value at `path` is `value`, of the same JSON type: json_extract alone
 * answers 1 for `true` and NULL for both `null` and a missing key, so
 * json_type is asked first.
 */
function argsCondition(add: (sql: string, ...given: unknown[]) => void, path: string, value: JsonScalar): void {
  if (value === null) add(`json_type(args, ?) = 'null'`, path);
  else if (typeof value === 'boolean') add(`json_type(args, ?) = '${value ? 'true' : 'false'}'`, path);
  else if (typeof value === 'number') add(`json_type(args, ?) IN ('integer', 'real') AND json_extract(args, ?) = ?`, path, path, value);
  else add(`json_type(args, ?) = 'text' AND json_extract(args, ?) = ?`, path, path, value);
}

/** A JSON path of object keys, each quoted (a key may hold dots, quotes or digits: `$."0"` never indexes an array). */
function jsonPath(keys: readonly string[]): string {
  return `$${keys.map((key) => `."${key.replace(/["\\]/g, (c) => `\\${c}`)}"`).join('')}`;
}

/**
 * Reads of jobs, schedules and queue states, and the deletes that go with
 * them. Reads need no write lock: under WAL each sees the last commit.
 * @internal
 */
export class SqliteQueries {
  constructor(private readonly table: SqliteJobTable) {}

  list(filter: JobFilter): ReturnType<typeof toJob>[] {
    const wanted = filter.limit ?? Infinity;
    if (!(wanted > 0)) return [];
    const limit = Number.isFinite(wanted) ? Math.ceil(wanted) : -1;
    const { clause, values } = where(filter);
    const order = filter.order === 'asc' ? 'ASC' : 'DESC';
    return (this.table.sql(`SELECT * FROM jobs${clause} ORDER BY id ${order} LIMIT ?`).all(...values, limit) as JobRow[]).map(toJob);
  }

  /** Counts the matches, stopping at `cap` (a LIMIT inside, so no more rows are read). */
  count(filter: JobFilter, cap?: number): number {
    const { clause, values } = where(filter);
    if (cap === undefined) return (this.table.sql(`SELECT count(*) AS n FROM jobs${clause}`).get(...values) as { n: number }).n;
    return (this.table.sql(`SELECT count(*) AS n FROM (SELECT 1 FROM jobs${clause} LIMIT ?)`).get(...values, cap) as { n: number }).n;
  }

  /** Oldest `finishedAt` first (only finished jobs have one), as the memory store. */
  pruneIds(states: readonly JobState[], before: number, limit: number): number[] {
    const bounded = Number.isFinite(limit) ? Math.ceil(limit) : -1;
    const rows = this.table
      .sql(`SELECT id FROM jobs WHERE finished_at < ? AND state IN (SELECT value FROM json_each(?)) ORDER BY finished_at, id LIMIT ?`)
      .all(before, JSON.stringify(states), bounded) as { id: number }[];
    return rows.map((row) => row.id);
  }

  /**
   * One entry per queue that has jobs or a stored state, sorted by name
   * (code-unit order, as the other stores). Queued and running jobs are
   * counted through their partial indexes, finished ones read from their
   * counts: the history is never walked.
   */
  queueCounts(now: number): QueueCounts[] {
    const rows = this.table
      .sql(
        `SELECT queue, CASE WHEN run_at > ? THEN 'scheduled' ELSE 'available' END AS state, count(*) AS n FROM jobs WHERE state = 'available' GROUP BY 1, 2
         UNION ALL SELECT queue, 'running', count(*) FROM jobs WHERE state = 'running' GROUP BY 1
         UNION ALL SELECT queue, state, n FROM queue_counts WHERE n > 0`,
      )
      .all(now) as { queue: string; state: keyof Omit<QueueCounts, 'queue'>; n: number }[];
    const counts = new Map<string, QueueCounts>();
    const entry = (queue: string): QueueCounts => {
      let found = counts.get(queue);
      if (!found) {
        found = { queue, available: 0, scheduled: 0, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 };
        counts.set(queue, found);
      }
      return found;
    };
    for (const row of rows) entry(row.queue)[row.state] += row.n;
    for (const { name } of this.table.sql('SELECT name FROM queue_states').all() as { name: string }[]) entry(name);
    return [...counts.values()].sort((a, b) => compareNames(a.queue, b.queue));
  }

  nextRunAt(queue: string): Date | null {
    // Jobs a paused name or schedule holds back wait on purpose.
    const row = this.table
      .sql(
        `SELECT min(run_at) AS at FROM jobs WHERE queue = ? AND state = 'available'
          AND NOT EXISTS (SELECT 1 FROM schedule_states p WHERE p.paused = 1 AND (p.name = jobs.name OR p.name = jobs.schedule))`,
      )
      .get(queue) as { at: number | null };
    return row.at === null ? null : new Date(row.at);
  }

  listSchedules(): StoredSchedule[] {
    const rows = this.table.sql('SELECT name, definition FROM schedules').all() as { name: string; definition: string }[];
    return rows.map((row) => ({ name: row.name, definition: JSON.parse(row.definition) as JsonObject })).sort((a, b) => compareNames(a.name, b.name));
  }

  scheduleStates(): ScheduleState[] {
    const rows = this.table.sql('SELECT name, paused, planned_until FROM schedule_states').all() as {
      name: string;
      paused: number;
      planned_until: number | null;
    }[];
    return rows
      .map((row) => ({ name: row.name, paused: row.paused === 1, plannedUntil: row.planned_until === null ? null : new Date(row.planned_until) }))
      .sort((a, b) => compareNames(a.name, b.name));
  }

  /** Upserts the fields the patch defines; the others keep their value (or default). */
  setScheduleState(name: string, patch: Partial<Omit<ScheduleState, 'name'>>): void {
    this.table.sql('INSERT OR IGNORE INTO schedule_states (name) VALUES (?)').run(name);
    if (patch.paused !== undefined) this.table.sql('UPDATE schedule_states SET paused = ? WHERE name = ?').run(patch.paused ? 1 : 0, name);
    if (patch.plannedUntil !== undefined) {
      this.table.sql('UPDATE schedule_states SET planned_until = ? WHERE name = ?').run(patch.plannedUntil?.getTime() ?? null, name);
    }
  }

  queueStates(): QueueState[] {
    const rows = this.table.sql('SELECT name, paused, concurrency FROM queue_states').all() as { name: string; paused: number; concurrency: number | null }[];
    return rows.map((row) => ({ name: row.name, paused: row.paused === 1, concurrency: row.concurrency })).sort((a, b) => compareNames(a.name, b.name));
  }

  setQueueState(name: string, patch: Partial<Omit<QueueState, 'name'>>): void {
    this.table.sql('INSERT OR IGNORE INTO queue_states (name) VALUES (?)').run(name);
    if (patch.paused !== undefined) this.table.sql('UPDATE queue_states SET paused = ? WHERE name = ?').run(patch.paused ? 1 : 0, name);
    if (patch.concurrency !== undefined) this.table.sql('UPDATE queue_states SET concurrency = ? WHERE name = ?').run(patch.concurrency, name);
  }
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
