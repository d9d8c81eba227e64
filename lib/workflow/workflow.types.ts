/**
 * Workflows: DAGs of steps. Glossary
 * - **workflow**: a definition (`@Workflow` class or `workflows.define()`), named and versioned.
 * - **step**: one node of the DAG; each run of it is a job with its own retries, timeout, queue and span.
 * - **run**: one execution of a workflow, persisted with its context and each step's state.
 */
import type { Duration } from '../common/duration.js';
import type { JsonObject } from '../common/json.js';
import type { JobContext } from '../execution/job-context.js';

/** State of a whole run. */
export type WorkflowRunState = 'scheduled' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';

/**
 * State of one step in a run.
 * - `pending`: not started (its job may be queued: see `jobId`).
 * - `running`, `completed`, `failed`.
 * - `skipped`: its `when` was false, or it was skipped by `onError: 'skip'` (see `skipReason`).
 * - `rolled_back`: completed, then compensated by its `rollback`.
 */
export type StepState = 'pending' | 'running' | 'completed' | 'skipped' | 'failed' | 'rolled_back';

/** What to do when a step's retries are spent. */
export type StepErrorPolicy = 'fail' | 'skip' | 'continue';

/** One step's record in a run. */
export interface StepRun {
  state: StepState;
  /** Attempts started. */
  attempts: number;
  /** The object the step returned (merged into the context), or `null`. */
  output: JsonObject | null;
  /** The last error message, or `null`. */
  error: string | null;
  /** Why it was skipped: `condition` (`when` was false), `error` (onError 'skip'), `dependency` (all it depended on was skipped by error). */
  skipReason: 'condition' | 'error' | 'dependency' | null;
  /** The job running this step now (or last), or `null`. */
  jobId: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Order of completion in the run (1, 2, …), used to roll back in reverse; `null` until completed. */
  completedSeq: number | null;
  /** Rollback progress of a completed step: `null`, `running`, `done` or `failed`. */
  rollback: 'running' | 'done' | 'failed' | null;
}

/** A workflow run as the store keeps it. */
export interface WorkflowRun {
  id: string;
  workflow: string;
  /** The definition's version when the run started. */
  version: string;
  state: WorkflowRunState;
  /** The shared context: the start context with every completed step's output merged in. */
  context: JsonObject;
  steps: Record<string, StepRun>;
  /** Completion counter (the last `completedSeq` given). */
  seq: number;
  /** Why the run failed or was cancelled, or `null`. */
  error: string | null;
  /** The workflow span's ids, so step spans join its trace. */
  trace: { traceId: string; spanId: string; traceFlags: number } | null;
  /** When a `scheduled` run starts. */
  runAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** What `createRun` needs. */
export type NewWorkflowRun = Pick<WorkflowRun, 'workflow' | 'version' | 'state' | 'context' | 'steps' | 'trace' | 'runAt'>;

/** A filter for listing runs. */
export interface WorkflowRunFilter {
  workflow?: string;
  states?: readonly WorkflowRunState[];
  /** @default 100 */
  limit?: number;
}

/** What a step method receives: the job's context plus the run's. */
export interface StepContext<TContext extends JsonObject = JsonObject> extends JobContext<unknown> {
  readonly runId: string;
  readonly workflow: string;
  readonly step: string;
  /** The run's context so far (start context + outputs of completed steps). */
  readonly context: TContext;
}

/** Options of `@Step`. */
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

/** When a workflow starts on its own. */
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

/** Options of `@Workflow`. */
export interface WorkflowOptions {
  name: string;
  schedule?: WorkflowSchedule;
  /** @default a hash of the steps and their dependencies */
  version?: string;
}
