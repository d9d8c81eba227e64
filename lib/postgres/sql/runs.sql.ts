import type { JsonObject } from '../../common/json.js';
import type { NewWorkflowRun, StepRun, WorkflowRun, WorkflowRunFilter, WorkflowRunState } from '../../store/workflow-run.types.js';
import { toDate, toDateOrNull, toDbCursor } from './job-rows.js';
import type { SqlNames } from './names.js';
import type { Statement } from './statement.js';

/** The columns of a run, listed rather than `*` (see `jobColumns`: prepared statements must keep their result shape). */
const COLUMNS = [
  'id',
  'workflow',
  'version',
  'state',
  'context',
  'steps',
  'seq',
  'error',
  'trace',
  'run_at',
  'created_at',
  'updated_at',
  'finished_at',
] as const;

const columns = (alias: string): string => COLUMNS.map((column) => `${alias}.${column}`).join(', ');

/** A {@link StepRun} as kept in the `steps` jsonb object: dates as ISO text. */
type StoredStepRun = Omit<StepRun, 'startedAt' | 'finishedAt'> & { startedAt?: string | null; finishedAt?: string | null };

/**
 * A run row as pg returns it (default type parsers; tolerant of apps that changed them).
 * @internal
 */
export interface RunRow {
  id: string | number;
  workflow: string;
  version: string;
  state: WorkflowRunState;
  context: JsonObject | null;
  steps: Record<string, StoredStepRun> | null;
  seq: number;
  error: string | null;
  trace: WorkflowRun['trace'];
  run_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
  finished_at: Date | string | null;
}

/**
 * The run a row holds: the id as a string, dates (the steps' too) as `Date`.
 * @internal
 */
export function toRun(row: RunRow): WorkflowRun {
  return {
    id: String(row.id),
    workflow: row.workflow,
    version: row.version,
    state: row.state,
    context: row.context ?? {},
    // fromEntries defines own properties: a step named "__proto__" stays data.
    steps: Object.fromEntries(
      Object.entries(row.steps ?? {}).map(([name, step]) => [
        name,
        { ...step, startedAt: reviveDate(step.startedAt), finishedAt: reviveDate(step.finishedAt) },
      ]),
    ),
    seq: Number(row.seq),
    error: row.error,
    trace: row.trace ? { traceId: row.trace.traceId, spanId: row.trace.spanId, traceFlags: row.trace.traceFlags } : null,
    runAt: toDateOrNull(row.run_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    finishedAt: toDateOrNull(row.finished_at),
  };
}

function reviveDate(value: string | null | undefined): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

/**
 * PostgreSQL's text and jsonb cannot hold U+0000, and saving a run must never
 * fail because of what a step threw, so NULs in error messages become U+FFFD
 * (as for job errors).
 */
const clean = (text: string | null): string | null => (text === null ? null : String(text).replace(/\u0000/g, '\uFFFD'));

/** The steps as jsonb text; `JSON.stringify` writes their dates as ISO text, which {@link toRun} revives. */
function stepsJson(steps: Record<string, StepRun>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(steps).map(([name, step]) => [name, step.error ? { ...step, error: clean(step.error) } : step])));
}

const traceJson = (trace: WorkflowRun['trace']): string | null => (trace ? JSON.stringify(trace) : null);

/**
 * Workflow runs: create, read, the locked read and write of `updateRun`, list and prune.
 * @internal
 */
export function runStatements(n: SqlNames) {
  const insert = `
    INSERT INTO ${n.workflowRuns} AS r (workflow, version, state, context, steps, seq, error, trace, run_at, created_at, updated_at, finished_at)
    VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, 0, NULL, $6::jsonb, $7::timestamptz, $8::timestamptz, $8::timestamptz, NULL)
    RETURNING ${columns('r')}`;
  const get = `SELECT ${columns('r')} FROM ${n.workflowRuns} r WHERE r.id = $1`;
  const update = `
    UPDATE ${n.workflowRuns} r
    SET workflow = $2, version = $3, state = $4, context = $5::jsonb, steps = $6::jsonb, seq = $7, error = $8,
      trace = $9::jsonb, run_at = $10::timestamptz, updated_at = $11::timestamptz, finished_at = $12::timestamptz
    WHERE r.id = $1
    RETURNING ${columns('r')}`;
  // Bounded, oldest first, and SKIP LOCKED: a run being updated right now is
  // left for the next sweep rather than waited on.
  const prune = `
    DELETE FROM ${n.workflowRuns} WHERE id IN (
      SELECT id FROM ${n.workflowRuns}
      WHERE finished_at IS NOT NULL AND finished_at < $1::timestamptz AND state IN ('completed', 'failed', 'cancelled')
      ORDER BY finished_at, id
      LIMIT $2
      FOR UPDATE SKIP LOCKED)`;

  return {
    insert: (run: NewWorkflowRun, now: Date): Statement => ({
      name: n.statement('run_insert'),
      text: insert,
      values: [run.workflow, run.version, run.state, JSON.stringify(run.context), stepsJson(run.steps), traceJson(run.trace), run.runAt, now],
    }),
    get: (id: string): Statement => ({ name: n.statement('run_get'), text: get, values: [id], readOnly: true }),
    /** The run, locked until the transaction ends. */
    lock: (id: string): Statement => ({ name: n.statement('run_lock'), text: `${get} FOR UPDATE`, values: [id] }),
    /** Writes every column but `id` and `created_at`. */
    update: (id: string, run: WorkflowRun, now: Date): Statement => ({
      name: n.statement('run_update'),
      text: update,
      values: [
        id,
        run.workflow,
        run.version,
        run.state,
        JSON.stringify(run.context),
        stepsJson(run.steps),
        run.seq,
        clean(run.error),
        traceJson(run.trace),
        run.runAt,
        now,
        run.finishedAt,
      ],
    }),
    /** Newest (highest id) first; `limit` must be a positive integer or absent. */
    list: (filter: WorkflowRunFilter, limit: number | null): Statement => {
      const values: unknown[] = [];
      const bind = (value: unknown): string => `$${values.push(value)}`;
      const conditions: string[] = [];
      if (filter.workflow !== undefined) conditions.push(`r.workflow = ${bind(filter.workflow)}`);
      if (filter.states !== undefined) conditions.push(`r.state = ANY(${bind([...filter.states])}::text[])`);
      if (filter.afterId !== undefined) conditions.push(`r.id < ${bind(toDbCursor(filter.afterId))}::bigint`);
      const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
      const text = `SELECT ${columns('r')} FROM ${n.workflowRuns} r ${where} ORDER BY r.id DESC${limit === null ? '' : ` LIMIT ${bind(limit)}`}`;
      return { text, values, readOnly: true };
    },
    prune: (before: Date, limit: number): Statement => ({ text: prune, values: [before, limit] }),
  };
}

/**
 * The statements of workflow runs.
 * @internal
 */
export type RunStatements = ReturnType<typeof runStatements>;
