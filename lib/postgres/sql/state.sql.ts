import type { QueueState, ScheduleState } from '../../store/job.types.js';
import type { SqlNames } from './names.js';
import type { Statement } from './statement.js';

/**
 * An upsert of the given columns of one state row: defaults for a new row,
 * and only the columns present in the patch overwritten on an existing one.
 */
function upsert(table: string, name: string, columns: readonly [column: string, value: unknown][]): Statement {
  const values: unknown[] = [name, ...columns.map(([, value]) => value)];
  if (columns.length === 0) {
    return { text: `INSERT INTO ${table} (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, values };
  }
  const list = columns.map(([column]) => column).join(', ');
  const params = columns.map((_, i) => `$${i + 2}`).join(', ');
  const set = columns.map(([column]) => `${column} = EXCLUDED.${column}`).join(', ');
  return { text: `INSERT INTO ${table} (name, ${list}) VALUES ($1, ${params}) ON CONFLICT (name) DO UPDATE SET ${set}`, values };
}

/**
 * Stored schedules, schedule states and queue states.
 * @internal
 */
export function stateStatements(n: SqlNames) {
  return {
    saveSchedule: (name: string, definition: string): Statement => ({
      text: `INSERT INTO ${n.schedules} (name, definition) VALUES ($1, $2::jsonb)
        ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition`,
      values: [name, definition],
    }),
    // The state goes with the schedule (which also resumes it if paused).
    deleteSchedule: (name: string): Statement => ({
      text: `WITH state AS (DELETE FROM ${n.scheduleStates} WHERE name = $1)
        DELETE FROM ${n.schedules} WHERE name = $1`,
      values: [name],
    }),
    listSchedules: (): Statement => ({ text: `SELECT name, definition FROM ${n.schedules}`, values: [], readOnly: true }),
    getScheduleStates: (): Statement => ({
      text: `SELECT name, paused, planned_until FROM ${n.scheduleStates}`,
      values: [],
      readOnly: true,
    }),
    setScheduleState: (name: string, patch: Partial<Omit<ScheduleState, 'name'>>): Statement => {
      const columns: [string, unknown][] = [];
      if (patch.paused !== undefined) columns.push(['paused', patch.paused]);
      if (patch.plannedUntil !== undefined) columns.push(['planned_until', patch.plannedUntil]);
      return upsert(n.scheduleStates, name, columns);
    },
    getQueueStates: (): Statement => ({ text: `SELECT name, paused, concurrency FROM ${n.queueStates}`, values: [], readOnly: true }),
    setQueueState: (name: string, patch: Partial<Omit<QueueState, 'name'>>): Statement => {
      const columns: [string, unknown][] = [];
      if (patch.paused !== undefined) columns.push(['paused', patch.paused]);
      if (patch.concurrency !== undefined) columns.push(['concurrency', patch.concurrency]);
      return upsert(n.queueStates, name, columns);
    },
  };
}
