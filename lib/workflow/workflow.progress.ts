import type { JsonObject } from '../common/json.js';
import type { WorkflowDefinition } from './workflow.definition.js';
import { pendingStep } from '../store/workflow-runs.js';
import type { StepRun, WorkflowRun } from './workflow.types.js';

/**
 * `jobId` of a step whose job is being inserted (the handler then writes the real id).
 * @internal
 */
export const QUEUED = 'queued';

/** Final states of a step. */
const FINAL = new Set(['completed', 'skipped', 'failed', 'rolled_back']);

/** A step that counts as finished for the steps after it: completed, skipped by its condition, or failed under `continue`. */
function finishedForDependents(step: StepRun): boolean {
  return step.state === 'completed' || step.state === 'rolled_back' || step.state === 'failed' || (step.state === 'skipped' && step.skipReason === 'condition');
}

/** Skipped by an error (or because everything it needed was): its dependents skip too. */
function skippedByError(step: StepRun): boolean {
  return step.state === 'skipped' && step.skipReason !== 'condition';
}

/**
 * Whether a pending step can start now, must wait, or is skipped because all it depended on was skipped by an error.
 * @internal
 */
export function readiness(def: WorkflowDefinition, run: WorkflowRun, name: string): 'wait' | 'run' | 'skip' {
  const step = def.steps.get(name)!;
  const after = step.after.map((d) => run.steps[d]!);
  if (after.some((d) => !FINAL.has(d.state))) return 'wait';
  const anyOf = step.afterAny.map((d) => run.steps[d]!);
  if (anyOf.length > 0 && !anyOf.some(finishedForDependents)) {
    return anyOf.every((d) => FINAL.has(d.state)) ? 'skip' : 'wait';
  }
  if (after.length > 0 && after.every(skippedByError) && anyOf.length === 0) return 'skip';
  return 'run';
}

/**
 * What one pass of {@link progress} decided.
 * @internal
 */
export interface Progress {
  /** Steps newly marked as queued: their jobs must be inserted. */
  enqueue: string[];
  skipped: { step: string; reason: 'condition' | 'dependency' }[];
  /** The run reached its end in this pass. */
  completed: boolean;
}

/**
 * Moves a running run forward as far as it can without running a step:
 * skips steps whose `when` is false or whose dependencies were all skipped
 * by errors, marks the steps that can start as queued, and completes the run
 * when every step is final. Mutates `run`; pure otherwise. A `when` that
 * throws counts as false (`onWhenError` reports it).
 * @internal
 */
export function progress(def: WorkflowDefinition, run: WorkflowRun, now: Date, onWhenError: (step: string, error: unknown) => void): Progress {
  const out: Progress = { enqueue: [], skipped: [], completed: false };
  if (run.state !== 'running') return out;
  let changed = true;
  while (changed) {
    changed = false;
    for (const name of def.order) {
      const step = run.steps[name]!;
      if (step.state !== 'pending' || step.jobId !== null) continue;
      const verdict = readiness(def, run, name);
      if (verdict === 'wait') continue;
      if (verdict === 'skip' || !condition(def, name, run.context, onWhenError)) {
        const reason = verdict === 'skip' ? 'dependency' : 'condition';
        run.steps[name] = { ...step, state: 'skipped', skipReason: reason, finishedAt: now };
        out.skipped.push({ step: name, reason });
        changed = true;
        continue;
      }
      run.steps[name] = { ...step, jobId: QUEUED };
      out.enqueue.push(name);
    }
  }
  if (def.order.every((name) => FINAL.has(run.steps[name]!.state))) {
    run.state = 'completed';
    run.finishedAt = now;
    out.completed = true;
  }
  return out;
}

function condition(def: WorkflowDefinition, name: string, context: JsonObject, onError: (step: string, error: unknown) => void): boolean {
  const when = def.steps.get(name)!.when;
  if (!when) return true;
  try {
    return when(context) === true;
  } catch (error) {
    onError(name, error);
    return false;
  }
}

/**
 * The step records of a new run: every step pending.
 * @internal
 */
export function initialSteps(def: WorkflowDefinition): Record<string, StepRun> {
  const steps: Record<string, StepRun> = {};
  for (const name of def.order) steps[name] = pendingStep();
  return steps;
}
