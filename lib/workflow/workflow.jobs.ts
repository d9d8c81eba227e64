import type { NewJob } from '../store/job.types.js';
import type { WorkflowDefinition } from './workflow.definition.js';
import type { WorkflowRun } from './workflow.types.js';

/**
 * Internal job names: each step, each rollback chain and each scheduled start is a job.
 * @internal
 */
export const STEP_JOB = '__workflow.step';
/** @internal */
export const ROLLBACK_JOB = '__workflow.rollback';
/** @internal */
export const START_JOB = '__workflow.start';

/**
 * The fields every internal workflow job shares. Start and rollback jobs run
 * on the queue of the workflow's first step, which the app configured.
 * @internal
 */
export function internalJob(name: string, args: { runId: string; step?: string }, run: WorkflowRun, def: WorkflowDefinition, runAt: Date): NewJob {
  return {
    name,
    queue: def.steps.get(def.order[0]!)!.queue,
    args: { ...args },
    priority: 0,
    maxAttempts: 4,
    timeout: null,
    runAt,
    scheduledAt: runAt,
    trace: run.trace,
    meta: { workflow: run.workflow },
  };
}
