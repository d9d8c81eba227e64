import { checkRun, copyRun } from '../workflow-runs.js';
import { DEFAULT_RUN_LIST_LIMIT, FINISHED_RUN_STATES, type NewWorkflowRun, type WorkflowRun, type WorkflowRunFilter } from '../workflow-run.types.js';

/**
 * The workflow runs of a `MemoryStore`. Runs are copied on the way in and
 * out. `update` runs `mutate` and saves its result with no await in between,
 * so in one process (the only place this store is shared) updates of a run
 * are serialised by construction.
 * @internal
 */
export class MemoryWorkflowRuns {
  /** In creation order (ids grow), which `list` walks backwards for "newest first". */
  private readonly runs = new Map<string, WorkflowRun>();
  private lastId = 0;

  create(input: NewWorkflowRun, now: Date): WorkflowRun {
    checkRun(input, 'run');
    const run = copyRun({
      ...input,
      id: String(++this.lastId),
      seq: 0,
      error: null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    });
    this.runs.set(run.id, run);
    return copyRun(run);
  }

  get(id: string): WorkflowRun | null {
    const run = this.runs.get(id);
    return run ? copyRun(run) : null;
  }

  update(id: string, now: Date, mutate: (run: WorkflowRun) => WorkflowRun | null): WorkflowRun | null {
    const current = this.runs.get(id);
    if (!current) return null;
    const next = mutate(copyRun(current));
    if (next === null) return copyRun(current);
    checkRun(next, 'mutate');
    const saved = copyRun({ ...next, id: current.id, createdAt: current.createdAt, updatedAt: now });
    this.runs.set(id, saved);
    return copyRun(saved);
  }

  list(filter: WorkflowRunFilter): WorkflowRun[] {
    const limit = filter.limit ?? DEFAULT_RUN_LIST_LIMIT;
    const found: WorkflowRun[] = [];
    if (!(limit > 0)) return found;
    const after = filter.afterId === undefined ? Infinity : Number(filter.afterId);
    for (const run of [...this.runs.values()].reverse()) {
      if (Number(run.id) >= after) continue;
      if (filter.workflow !== undefined && run.workflow !== filter.workflow) continue;
      if (filter.states !== undefined && !filter.states.includes(run.state)) continue;
      found.push(copyRun(run));
      if (found.length >= limit) break;
    }
    return found;
  }

  /** Oldest `finishedAt` first, then creation order. */
  delete(before: Date, limit: number): number {
    if (!(limit > 0)) return 0;
    const doomed = [...this.runs.values()]
      .filter((run) => FINISHED_RUN_STATES.includes(run.state) && run.finishedAt !== null && run.finishedAt < before)
      .sort((a, b) => (a.finishedAt as Date).getTime() - (b.finishedAt as Date).getTime() || Number(a.id) - Number(b.id))
      .slice(0, Math.ceil(limit));
    for (const run of doomed) this.runs.delete(run.id);
    return doomed.length;
  }
}
