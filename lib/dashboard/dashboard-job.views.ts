import type { JsonValue } from '../common/json.js';
import type { Job, JobProgress, JobState } from '../store/job.types.js';
import type { DashboardRedact } from './dashboard.options.js';
import type { DashboardWaitingReason } from './dashboard-waiting.js';
import { redactJson } from './dashboard.redaction.js';
import { iso } from './dashboard-dates.js';

/** A job in a list (no arguments: see the job's detail). @publicApi */
export interface DashboardJobSummary {
  id: string;
  name: string;
  schedule: string | null;
  queue: string;
  state: JobState;
  priority: number;
  attempt: number;
  maxAttempts: number;
  runAt: string;
  insertedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  node: string | null;
  tags: string[];
  progress: JobProgress | null;
}

/** `GET api/jobs`: one page, newest first; `nextCursor` (the `cursor` of the next page) is `null` on the last. @publicApi */
export interface DashboardJobPage {
  jobs: DashboardJobSummary[];
  nextCursor: string | null;
  limit: number;
}

/** One failed attempt of a job. @publicApi */
export interface DashboardAttemptError {
  attempt: number;
  at: string;
  name: string;
  message: string;
  stack: string | null;
  kind: string;
  errorClass: string | null;
}

/** The workflow a job belongs to (from its meta and arguments). @publicApi */
export interface DashboardWorkflowLink {
  workflow: string;
  step: string | null;
  runId: string | null;
}

/** `GET api/jobs/:id`: a job in full, its arguments, result and meta redacted. @publicApi */
export interface DashboardJobDetail extends DashboardJobSummary {
  args: JsonValue;
  result: JsonValue | null;
  meta: JsonValue;
  scheduledAt: string;
  misfired: boolean;
  /** Milliseconds, `null` for none. */
  timeout: number | null;
  heartbeatAt: string | null;
  uniqueKey: string | null;
  /** The attempts' errors, oldest first (the last 20 kept), each with its stack. */
  errors: DashboardAttemptError[];
  /** The W3C trace id of the span that enqueued it. */
  traceId: string | null;
  workflow: DashboardWorkflowLink | null;
  /** Why it does not run, for a job that waits (`available`, due now or later), as far as this node knows; `[]` otherwise. */
  waiting: DashboardWaitingReason[];
}

/** @internal */
export function jobSummary(job: Job<unknown>): DashboardJobSummary {
  return {
    id: job.id,
    name: job.name,
    schedule: job.schedule,
    queue: job.queue,
    state: job.state,
    priority: job.priority,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    runAt: job.runAt.toISOString(),
    insertedAt: job.insertedAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    node: job.node,
    tags: job.tags,
    progress: job.progress,
  };
}

/** @internal */
export function errorView(error: Job['errors'][number]): DashboardAttemptError {
  const { attempt, name, message, kind } = error;
  return { attempt, at: error.at.toISOString(), name, message, stack: error.stack ?? null, kind, errorClass: error.errorClass ?? null };
}

function workflowLink(job: Job<unknown>): DashboardWorkflowLink | null {
  const workflow = job.meta.workflow;
  if (typeof workflow !== 'string') return null;
  const step = job.meta.step;
  const args = job.args as { runId?: unknown } | null;
  const runId = args !== null && typeof args === 'object' && typeof args.runId === 'string' ? args.runId : null;
  return { workflow, step: typeof step === 'string' ? step : null, runId };
}

/** @internal */
export function jobDetail(job: Job<unknown>, redact: DashboardRedact, waiting: DashboardWaitingReason[] = []): DashboardJobDetail {
  return {
    ...jobSummary(job),
    args: redactJson(job.args as JsonValue, redact),
    result: job.result === null ? null : redactJson(job.result, redact),
    meta: redactJson(job.meta, redact),
    scheduledAt: job.scheduledAt.toISOString(),
    misfired: job.misfired,
    timeout: job.timeout,
    heartbeatAt: iso(job.heartbeatAt),
    uniqueKey: job.uniqueKey,
    errors: job.errors.map(errorView),
    traceId: job.trace?.traceId ?? null,
    workflow: workflowLink(job),
    waiting,
  };
}
