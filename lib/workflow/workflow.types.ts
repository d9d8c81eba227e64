/**
 * Workflows: DAGs of steps. Glossary
 * - **workflow**: a definition (`@Workflow` class or `workflows.define()`), named and versioned.
 * - **step**: one node of the DAG; each run of it is a job with its own retries, timeout, queue and span.
 * - **run**: one execution of a workflow, persisted with its context and each step's state.
 */
import type { Duration } from '../common/duration.js';
import type { JsonObject } from '../common/json.js';
import type { JobContext } from '../execution/job-context.js';

export type { WorkflowRunState, StepState, StepRun, WorkflowRun, NewWorkflowRun, WorkflowRunFilter } from '../store/workflow-run.types.js';

/**
 * What to do when a step's retries are spent.
 * @publicApi
 */
export type StepErrorPolicy = 'fail' | 'skip' | 'continue';

/**
 * What a step method receives: the job's context plus the run's.
 * @publicApi
 */
export interface StepContext<TContext extends JsonObject = JsonObject> extends JobContext<unknown> {
  readonly runId: string;
  readonly workflow: string;
  readonly step: string;
  /** The run's context so far (start context + outputs of completed steps). */
  readonly context: TContext;
}

/**
 * Options of `@Step`.
 * @publicApi
 */
export interface StepOptions {
  /** Step name. @default the method name */
  name?: string;
  /** Steps that must all finish first (completed, or skipped by a false `when`; with `onError: 'continue'`, failed). */
  after?: string | string[];
  /** Steps of which the first to finish is enough. */
  afterAny?: string | string[];
  /** Runs the step only when true; a skipped step counts as finished for the steps after it. */
  when?: (context: JsonObject) => boolean;
  /** A method of the same class that compensates this step when the run fails. */
  rollback?: string;
  /** @default '5m' */
  timeout?: Duration;
  /** @default 3 */
  maxRetries?: number;
  /** @default 'fail' */
  onError?: StepErrorPolicy;
  /** @default 'default' */
  queue?: string;
  /** @default 0 */
  priority?: number;
}

/**
 * When a workflow starts on its own.
 * @publicApi
 */
export interface WorkflowSchedule {
  cron?: string | string[];
  zone?: string;
  every?: Duration;
  at?: Date | string;
  /** No run before this time. */
  startAt?: Date | string;
  /** No run after this time. */
  endAt?: Date | string;
}

/**
 * Options of `@Workflow`.
 * @publicApi
 */
export interface WorkflowOptions {
  name: string;
  schedule?: WorkflowSchedule;
  /** @default a hash of the steps and their dependencies */
  version?: string;
}
