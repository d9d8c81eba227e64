import { InvalidArgumentError } from '../scheduler.errors.js';
import { cloneJson } from './new-job.js';
import { WORKFLOW_RUN_STATES, type StepRun, type WorkflowRun } from './workflow-run.types.js';
import { shown } from '../common/shown.js';

/**
 * Checks what a caller asks a store to keep (`createRun`'s input, `updateRun`'s
 * `mutate` result), so every store refuses the same things before writing.
 * @throws InvalidArgumentError naming `argument`.
 * @publicApi
 */
export function checkRun(run: Pick<WorkflowRun, 'state'>, argument: 'run' | 'mutate'): void {
  if (run === null || typeof run !== 'object') throw new InvalidArgumentError(argument, 'must give a run object');
  if (typeof (run as { then?: unknown }).then === 'function') {
    throw new InvalidArgumentError(argument, 'must be synchronous (it returned a promise)');
  }
  if (!WORKFLOW_RUN_STATES.includes(run.state)) {
    throw new InvalidArgumentError(argument, `state must be one of ${WORKFLOW_RUN_STATES.join(', ')}, got ${shown(run.state)}`);
  }
}

/**
 * A copy of a run that shares nothing with it.
 * @publicApi
 */
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
 * A step of a run as a new run stores it (pending, never attempted), with `overrides`.
 * @internal
 */
export function pendingStep(overrides: Partial<StepRun> = {}): StepRun {
  return {
    state: 'pending',
    attempts: 0,
    output: null,
    error: null,
    skipReason: null,
    jobId: null,
    startedAt: null,
    finishedAt: null,
    completedSeq: null,
    rollback: null,
    ...overrides,
  };
}
