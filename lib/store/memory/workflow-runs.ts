import { InvalidArgumentError } from '../../scheduler.errors.js';
import type { NewWorkflowRun, StepRun, WorkflowRun, WorkflowRunFilter, WorkflowRunState } from '../../workflow/workflow.types.js';
import { cloneJson } from '../new-job.js';

/** Every state a run may be in (the PostgreSQL table's CHECK lists the same). */
export const WORKFLOW_RUN_STATES: readonly WorkflowRunState[] = ['scheduled', 'running', 'paused', 'completed', 'failed', 'cancelled'];

/** The states `deleteRuns` may delete. */
export const FINISHED_RUN_STATES: readonly WorkflowRunState[] = ['completed', 'failed', 'cancelled'];

/** `listRuns`' default limit. */
export const DEFAULT_RUN_LIST_LIMIT = 100;

/**
 * Checks what a caller asks a store to keep (`createRun`'s input, `updateRun`'s
 * `mutate` result), so every store refuses the same things before writing.
 * @throws InvalidArgumentError naming `argument`.
 */
export function checkRun(run: Pick<WorkflowRun, 'state'>, argument: 'run' | 'mutate'): void {
  if (run === null || typeof run !== 'object') throw new InvalidArgumentError(argument, 'must give a run object');
  if (typeof (run as { then?: unknown }).then === 'function') {
    throw new InvalidArgumentError(argument, 'must be synchronous (it returned a promise)');
  }
  if (!WORKFLOW_RUN_STATES.includes(run.state)) {
    throw new InvalidArgumentError(argument, `state must be one of ${WORKFLOW_RUN_STATES.join(', ')}, got ${JSON.stringify(run.state)}`);
  }
}

/** A copy of a run that shares nothing with it. */
export function copyRun(run: WorkflowRun): WorkflowRun {
  return {
    id: run.id,
    workflow: run.workflow,
    version: run.version,
    state: run.state,
    context: cloneJson(run.context),
    steps: copySteps(run.steps),
    seq: run.seq,
    error: run.error,
    trace: run.trace ? { traceId: run.trace.traceId, spanId: run.trace.spanId, traceFlags: run.trace.traceFlags } : null,
    runAt: copyDate(run.runAt),
    createdAt: new Date(run.createdAt.getTime()),
    updatedAt: new Date(run.updatedAt.getTime()),
    finishedAt: copyDate(run.finishedAt),
  };
}

function copySteps(steps: Record<string, StepRun>): Record<string, StepRun> {
  // fromEntries defines own properties: a step named "__proto__" stays data.
  return Object.fromEntries(
    Object.entries(steps).map(([name, step]) => [
      name,
      {
        ...step,
        output: step.output === null ? null : cloneJson(step.output),
        startedAt: copyDate(step.startedAt),
        finishedAt: copyDate(step.finishedAt),
      },
    ]),
  );
}

function copyDate(date: Date | null): Date | null {
  return date ? new Date(date.getTime()) : null;
}

/**
 * The workflow runs of a `MemoryStore`. Runs are copied on the way in and
 * out. `update` runs `mutate` and saves its result with no await in between,
 * so in one process (the only place this store is shared) updates of a run
 * are serialised by construction.
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
    for (const run of [...this.runs.values()].reverse()) {
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
