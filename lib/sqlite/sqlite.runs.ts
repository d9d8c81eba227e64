import type { JsonObject } from '../common/json.js';
import { checkRun, copyRun } from '../store/workflow-runs.js';
import {
  DEFAULT_RUN_LIST_LIMIT,
  FINISHED_RUN_STATES,
  type NewWorkflowRun,
  type StepRun,
  type WorkflowRun,
  type WorkflowRunFilter,
} from '../store/workflow-run.types.js';
import { toRowId } from './job-rows.js';
import type { SqliteConnection } from './sqlite.connection.js';
import type { SqliteJobTable } from './sqlite.job-table.js';
import { deleteInSlices } from '../store/delete-in-slices.js';

interface RunRow {
  id: number;
  workflow: string;
  version: string;
  state: WorkflowRun['state'];
  context: string;
  steps: string;
  seq: number;
  error: string | null;
  trace: string | null;
  run_at: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** A step as kept in the `steps` column (its times in epoch ms). */
type StoredStep = Omit<StepRun, 'startedAt' | 'finishedAt'> & { startedAt: number | null; finishedAt: number | null };

/**
 * Workflow runs, one row each with its context and steps as JSON. An update
 * is read, `mutate`, write inside one write transaction: the file's one
 * write lock serialises concurrent updates of a run across processes.
 * @internal
 */
export class SqliteRuns {
  constructor(
    private readonly sqlite: SqliteConnection,
    private readonly table: SqliteJobTable,
  ) {}

  async create(input: NewWorkflowRun, now: Date): Promise<WorkflowRun> {
    checkRun(input, 'run');
    const run = copyRun({ ...input, id: '0', seq: 0, error: null, createdAt: now, updatedAt: now, finishedAt: null });
    const values = columns(run);
    const row = await this.sqlite.write(
      () =>
        this.table
          .sql(
            `INSERT INTO workflow_runs (workflow, version, state, context, steps, seq, error, trace, run_at, created_at, updated_at, finished_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
          )
          .get(...values) as RunRow,
    );
    return toRun(row);
  }

  get(id: string): WorkflowRun | null {
    const rowId = toRowId(id);
    const row = rowId === null ? undefined : (this.table.sql('SELECT * FROM workflow_runs WHERE id = ?').get(rowId) as RunRow | undefined);
    return row ? toRun(row) : null;
  }

  async update(id: string, now: Date, mutate: (run: WorkflowRun) => WorkflowRun | null): Promise<WorkflowRun | null> {
    const rowId = toRowId(id);
    if (rowId === null) return null;
    return this.sqlite.write(() => {
      const row = this.table.sql('SELECT * FROM workflow_runs WHERE id = ?').get(rowId) as RunRow | undefined;
      if (!row) return null;
      const current = toRun(row);
      const next = mutate(copyRun(current));
      if (next === null) return current;
      checkRun(next, 'mutate');
      const saved = copyRun({ ...next, id: current.id, createdAt: current.createdAt, updatedAt: now });
      const [workflow, version, state, context, steps, seq, error, trace, runAt, , updatedAt, finishedAt] = columns(saved);
      this.table
        .sql(
          `UPDATE workflow_runs SET workflow = ?, version = ?, state = ?, context = ?, steps = ?, seq = ?, error = ?, trace = ?, run_at = ?,
             updated_at = ?, finished_at = ? WHERE id = ?`,
        )
        .run(workflow, version, state, context, steps, seq, error, trace, runAt, updatedAt, finishedAt, rowId);
      return saved;
    });
  }

  list(filter: WorkflowRunFilter): WorkflowRun[] {
    const limit = filter.limit ?? DEFAULT_RUN_LIST_LIMIT;
    if (!(limit > 0)) return [];
    const parts: string[] = [];
    const values: unknown[] = [];
    if (filter.workflow !== undefined) {
      parts.push('workflow = ?');
      values.push(filter.workflow);
    }
    if (filter.states !== undefined) {
      parts.push('state IN (SELECT value FROM json_each(?))');
      values.push(JSON.stringify(filter.states));
    }
    if (filter.afterId !== undefined) {
      parts.push('id < ?');
      values.push(Number(filter.afterId));
    }
    const clause = parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '';
    const rows = this.table.sql(`SELECT * FROM workflow_runs${clause} ORDER BY id DESC LIMIT ?`).all(...values, Number.isFinite(limit) ? Math.ceil(limit) : -1);
    return (rows as RunRow[]).map(toRun);
  }

  /** In write transactions of 1,000 runs: one holds the file's write lock, and this process, while it runs. */
  async delete(before: Date, limit: number): Promise<number> {
    if (!(limit > 0)) return 0;
    return deleteInSlices(limit, (n) =>
      this.sqlite.write(
        () =>
          this.table
            .sql(
              `DELETE FROM workflow_runs WHERE id IN (SELECT id FROM workflow_runs WHERE finished_at < ? AND state IN (SELECT value FROM json_each(?))
               ORDER BY finished_at, id LIMIT ?)`,
            )
            .run(before.getTime(), JSON.stringify(FINISHED_RUN_STATES), n).changes,
      ),
    );
  }
}

function columns(run: WorkflowRun): unknown[] {
  const steps: Record<string, StoredStep> = {};
  for (const [name, step] of Object.entries(run.steps)) {
    const stored = { ...step, startedAt: step.startedAt?.getTime() ?? null, finishedAt: step.finishedAt?.getTime() ?? null };
    Object.defineProperty(steps, name, { value: stored, enumerable: true, writable: true, configurable: true });
  }
  return [
    run.workflow,
    run.version,
    run.state,
    JSON.stringify(run.context),
    JSON.stringify(steps),
    run.seq,
    run.error,
    run.trace ? JSON.stringify(run.trace) : null,
    run.runAt?.getTime() ?? null,
    run.createdAt.getTime(),
    run.updatedAt.getTime(),
    run.finishedAt?.getTime() ?? null,
  ];
}

function toRun(row: RunRow): WorkflowRun {
  const stored = JSON.parse(row.steps) as Record<string, StoredStep>;
  const steps = Object.fromEntries(
    Object.entries(stored).map(([name, step]) => [
      name,
      {
        ...step,
        startedAt: step.startedAt === null ? null : new Date(step.startedAt),
        finishedAt: step.finishedAt === null ? null : new Date(step.finishedAt),
      },
    ]),
  );
  return {
    id: String(row.id),
    workflow: row.workflow,
    version: row.version,
    state: row.state,
    context: JSON.parse(row.context) as JsonObject,
    steps,
    seq: row.seq,
    error: row.error,
    trace: row.trace === null ? null : (JSON.parse(row.trace) as WorkflowRun['trace']),
    runAt: row.run_at === null ? null : new Date(row.run_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at),
  };
}
