import type pg from 'pg';
import { DEFAULT_RUN_LIST_LIMIT, type NewWorkflowRun, type WorkflowRun, type WorkflowRunFilter } from '../store/workflow-run.types.js';
import { checkRun, copyRun } from '../store/workflow-runs.js';
import type { PostgresContext } from './postgres.context.js';
import { inTransaction } from './postgres.transaction.js';
import { toDbId } from './sql/job-rows.js';
import { toRun, type RunRow, type RunStatements } from './sql/runs.sql.js';
import type { Statement } from './sql/statement.js';

/** Runs a statement on the pool (readiness checked, a lost connection as StoreUnavailableError). */
type Exec = <T extends object>(statement: Statement) => Promise<pg.QueryResult<T>>;

/**
 * The workflow runs of a `PostgresStore` (its `createRun`, `getRun`,
 * `updateRun`, `listRuns` and `deleteRuns`). Run ids are the table's bigint
 * ids as text; an id no run can have is answered without asking the database.
 * @internal
 */
export class PostgresRuns {
  constructor(
    private readonly pg: Pick<PostgresContext, 'pool'>,
    private readonly sql: RunStatements,
    /** Throws StoreUnavailableError unless the store is ready. */
    private readonly checkReady: () => void,
    private readonly exec: Exec,
  ) {}

  async create(run: NewWorkflowRun, now: Date): Promise<WorkflowRun> {
    this.checkReady();
    checkRun(run, 'run');
    const [row] = await this.rows(this.sql.insert(run, now));
    return toRun(row!);
  }

  async get(id: string): Promise<WorkflowRun | null> {
    this.checkReady();
    const dbId = toDbId(id);
    if (dbId === null) return null;
    const [row] = await this.rows(this.sql.get(dbId));
    return row ? toRun(row) : null;
  }

  /**
   * One transaction on one pooled client: lock the row, run `mutate`, write,
   * commit. A failure rolls back (nothing is saved) and rejects: a lost
   * connection with StoreUnavailableError, anything else (a throwing
   * `mutate` included) with its own error. A connection lost during COMMIT
   * leaves unknown whether the write landed.
   */
  async update(id: string, now: Date, mutate: (run: WorkflowRun) => WorkflowRun | null): Promise<WorkflowRun | null> {
    this.checkReady();
    const dbId = toDbId(id);
    if (dbId === null) return null;
    return inTransaction(this.pg.pool, async (client) => {
      // The row lock serialises step completions arriving from many nodes at
      // once: a second updateRun of this run waits here until the first
      // commits, then reads what it wrote, so no mutate works on a stale run
      // and no write is lost.
      const [row] = (await client.query<RunRow>(this.sql.lock(dbId))).rows;
      if (!row) return null;
      const current = toRun(row);
      const next = mutate(copyRun(current));
      if (next === null) return current;
      checkRun(next, 'mutate');
      return toRun((await client.query<RunRow>(this.sql.update(dbId, next, now))).rows[0]!);
    });
  }

  async list(filter: WorkflowRunFilter): Promise<WorkflowRun[]> {
    this.checkReady();
    const requested = filter.limit ?? DEFAULT_RUN_LIST_LIMIT;
    const limit = requested === Infinity ? null : Math.ceil(requested);
    if (limit !== null && !(limit > 0)) return [];
    return (await this.rows(this.sql.list(filter, limit))).map(toRun);
  }

  /** Oldest `finishedAt` first. */
  async delete(before: Date, limit: number): Promise<number> {
    this.checkReady();
    if (!(limit > 0)) return 0;
    const bounded = Number.isFinite(limit) ? Math.ceil(limit) : 2 ** 31 - 1;
    return (await this.exec(this.sql.prune(before, bounded))).rowCount ?? 0;
  }

  private async rows(statement: Statement): Promise<RunRow[]> {
    return (await this.exec<RunRow>(statement)).rows;
  }
}
