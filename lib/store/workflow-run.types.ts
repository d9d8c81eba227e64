/**
 * Workflow runs as a store keeps them: one record per run, with each step's
 * state (see `lib/workflow/workflow.types.ts` for the glossary).
 */
import type { JsonObject } from '../common/json.js';

/**
 * State of a whole run.
 * @publicApi
 */
export type WorkflowRunState = 'scheduled' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';

/**
 * State of one step in a run.
 * - `pending`: not started (its job may be queued: see `jobId`).
 * - `running`, `completed`, `failed`.
 * - `skipped`: its `when` was false, or it was skipped by `onError: 'skip'` (see `skipReason`).
 * - `rolled_back`: completed, then compensated by its `rollback`.
 * @publicApi
 */
export type StepState = 'pending' | 'running' | 'completed' | 'skipped' | 'failed' | 'rolled_back';

/**
 * One step's record in a run.
 * @publicApi
 */
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
  /** Rollback progress of a completed step: `null` (not reached), `running`, `failed`, or `done` once the rollback chain has passed it (compensated, or a step with no `rollback`: it stays `completed`). */
  rollback: 'running' | 'done' | 'failed' | null;
  /**
   * Set on the steps completed or still running when their run was
   * cancelled with `rollback: true`, in the cancel's own write: each is
   * compensated once completed (a running one may complete afterwards, its
   * work having returned before it saw the abort), by the cancel's rollback
   * chain or, should that chain never be queued (its node died), by the
   * repair sweep. Absent otherwise.
   */
  rollbackIfCompleted?: boolean;
}

/**
 * A workflow run as the store keeps it.
 * @publicApi
 */
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

/**
 * What `createRun` needs.
 * @publicApi
 */
export type NewWorkflowRun = Pick<WorkflowRun, 'workflow' | 'version' | 'state' | 'context' | 'steps' | 'trace' | 'runAt'>;

/**
 * A filter for listing runs.
 * @publicApi
 */
export interface WorkflowRunFilter {
  workflow?: string;
  states?: readonly WorkflowRunState[];
  /** @default 100 */
  limit?: number;
  /**
   * Keyset paging: only runs older than this id (runs are listed newest
   * first; pass the last id of the previous page). Run ids are numbers in
   * decimal, growing with creation, in every store. @default none
   */
  afterId?: string;
}

/**
 * Every state a run may be in (the PostgreSQL table's CHECK lists the same).
 * @publicApi
 */
export const WORKFLOW_RUN_STATES: readonly WorkflowRunState[] = ['scheduled', 'running', 'paused', 'completed', 'failed', 'cancelled'];

/**
 * The states `deleteRuns` may delete.
 * @publicApi
 */
export const FINISHED_RUN_STATES: readonly WorkflowRunState[] = ['completed', 'failed', 'cancelled'];

/**
 * `listRuns`' default limit.
 * @publicApi
 */
export const DEFAULT_RUN_LIST_LIMIT = 100;
