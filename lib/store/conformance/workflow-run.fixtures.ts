import type { NewWorkflowRun, StepRun } from '../workflow-run.types.js';
import { pendingStep } from '../workflow-runs.js';

/**
 * A step of a run as stored, pending, with `overrides`.
 * @internal
 */
export const step = (overrides: Partial<StepRun> = {}): StepRun => pendingStep(overrides);

/**
 * A new run of the workflow `onboarding` with two pending steps, with `overrides`.
 * @internal
 */
export const newRun = (overrides: Partial<NewWorkflowRun> = {}): NewWorkflowRun => ({
  workflow: 'onboarding',
  version: 'v1',
  state: 'running',
  context: { user: { id: 7, tags: ['a', 'b'] } },
  steps: { first: step(), second: step() },
  trace: null,
  runAt: null,
  ...overrides,
});
