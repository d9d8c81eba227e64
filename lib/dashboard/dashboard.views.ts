import type { JsonValue } from '../common/json.js';
import type { DeadLetter } from '../dead-letters/dead-letter.entry.js';
import type { HealthState } from '../health/health.types.js';
import type { JobInfo, QueueStats } from '../scheduler.types.js';
import type { DeadLetterClass } from '../store/dead-letter-store.js';
import type { Job, JobProgress, JobState, QueueCounts } from '../store/job.types.js';
import type { DashboardActionName } from '../telemetry/scheduler.events.js';
import type { WorkflowDefinition } from '../workflow/workflow.definition.js';
import type { StepRun, StepState, WorkflowRun, WorkflowRunState } from '../workflow/workflow.types.js';
import type { DashboardRedact } from './dashboard.options.js';
import type { DashboardWaitingReason } from './dashboard-waiting.js';
import type { DashboardUiConfig } from './dashboard-ui.options.js';
import { redactJson } from './dashboard.redaction.js';

/** `GET api/config`: what the UI needs to know. Times are ISO strings in every view. @publicApi */
export interface DashboardConfig {
  /** The header (and its value) every action must carry. */
  csrf: { header: string; value: string };
  /** True when no action is allowed to this caller (read-only mode or access). */
  readOnly: boolean;
  /** The actions this caller may take. */
  actions: DashboardActionName[];
  statsCacheMs: number;
  maxPageSize: number;
  /** The UI's options (`null`: `ui: false`). */
  ui: DashboardUiConfig | null;
  /** How the UI follows changes, and its polling period. */
  live: 'sse' | 'poll';
  refreshMs: number;
}

/** Jobs of a queue by state: the store's counts (`available` is due now, `scheduled` due later, retries waiting included). @publicApi */
export type DashboardCounts = Omit<QueueCounts, 'queue'>;

/** One queue. @publicApi */
export interface DashboardQueue {
  queue: string;
  paused: boolean;
  /** This node's concurrency, `null` when it does not run the queue. */
  concurrency: number | null;
  counts: DashboardCounts;
}

/** `GET api/overview`: the shared snapshot. @publicApi */
export interface DashboardOverview {
  /** When the snapshot was read (one per `statsCacheMs` per node). */
  generatedAt: string;
  node: string;
  /** The leader's node name, `null` when none. */
  leader: string | null;
  health: HealthState;
  queues: DashboardQueue[];
  totals: DashboardCounts;
}

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

/** `GET api/schedules`: one schedule. @publicApi */
export interface DashboardSchedule {
  name: string;
  handler: string;
  /** `code` (a decorator or the builder in code) or `runtime` (inserted through the API, kept in the store). */
  origin: 'code' | 'runtime';
  kind: JobInfo['kind'];
  /** The rule as written: cron text, interval, date, or the builder's spec. */
  spec: Pick<JobInfo, 'cron' | 'every' | 'at' | 'schedule'>;
  /** In plain English for a builder schedule (`describe()`), else the rule (`cron "0 6 * * *" (Etc/UTC)`). */
  description: string;
  zone: string | null;
  queue: string;
  overlap: string;
  paused: boolean;
  /** The next five ticks. */
  nextRuns: string[];
}

/** `GET api/dead-letters`: one dead letter (arguments redacted). @publicApi */
export interface DashboardDeadLetter extends DashboardJobSummary {
  args: JsonValue;
  errorClass: DeadLetterClass;
  firstFailedAt: string;
  lastFailedAt: string;
  /** The last error. */
  error: DashboardAttemptError | null;
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** @internal */
export function countsOf(stats: QueueStats): DashboardCounts {
  const { available, scheduled, running, completed, dead, discarded, cancelled } = stats;
  return { available, scheduled, running, completed, dead, discarded, cancelled };
}

/** @internal */
export function queueView(stats: QueueStats): DashboardQueue {
  return { queue: stats.queue, paused: stats.paused, concurrency: stats.concurrency, counts: countsOf(stats) };
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

function errorView(error: Job['errors'][number]): DashboardAttemptError {
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

/** @internal */
export function scheduleView(info: JobInfo, nextRuns: readonly Date[]): DashboardSchedule {
  const { cron, every, at, schedule } = info;
  const spec: DashboardSchedule['spec'] = {
    ...(cron === undefined ? {} : { cron }),
    ...(every === undefined ? {} : { every }),
    ...(at === undefined ? {} : { at }),
    ...(schedule === undefined ? {} : { schedule }),
  };
  return {
    name: info.name,
    handler: info.handler,
    origin: info.origin === 'runtime' ? 'runtime' : 'code',
    kind: info.kind,
    spec,
    description: info.description,
    zone: info.zone ?? null,
    queue: info.queue,
    overlap: info.overlap,
    paused: info.paused,
    nextRuns: nextRuns.map((date) => date.toISOString()),
  };
}

/** @internal */
export function deadLetterView(entry: DeadLetter<unknown>, redact: DashboardRedact): DashboardDeadLetter {
  const last = entry.errors.at(-1);
  return {
    ...jobSummary(entry),
    args: redactJson(entry.args as JsonValue, redact),
    errorClass: entry.errorClass,
    firstFailedAt: entry.firstFailedAt.toISOString(),
    lastFailedAt: entry.lastFailedAt.toISOString(),
    error: last ? errorView(last) : null,
  };
}

/** A workflow run in a list. @publicApi */
export interface DashboardWorkflowRunSummary {
  id: string;
  workflow: string;
  version: string;
  state: WorkflowRunState;
  /** Why it failed or was cancelled, or `null`. */
  error: string | null;
  /** Its steps by state. */
  steps: Record<StepState, number>;
  /** When a `scheduled` run starts. */
  runAt: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** `GET api/workflows`: one page of runs, newest first; `nextCursor` is `null` on the last. @publicApi */
export interface DashboardWorkflowRunPage {
  runs: DashboardWorkflowRunSummary[];
  nextCursor: string | null;
  limit: number;
}

/** A step of a run: a node of its graph. @publicApi */
export interface DashboardWorkflowNode {
  /** The step's name. */
  id: string;
  state: StepState;
  attempts: number;
  /** Why it was skipped (`condition`, `error`, `dependency`), or `null`. */
  skipReason: StepRun['skipReason'];
  error: string | null;
  /** The job running it now (or last), or `null`. */
  jobId: string | null;
  /** What it returned, redacted. */
  output: JsonValue | null;
  rollback: StepRun['rollback'];
  startedAt: string | null;
  finishedAt: string | null;
  /** Its queue, from the definition; `null` when this node does not know the workflow. */
  queue: string | null;
}

/** An edge of a run's graph: `to` runs after `from` (`after`: after all of them; `afterAny`: after the first of them). @publicApi */
export interface DashboardWorkflowEdge {
  from: string;
  to: string;
  kind: 'after' | 'afterAny';
}

/** `GET api/workflows/:runId`: a run, its context redacted, its graph with each step's state, and the graph as Mermaid text. @publicApi */
export interface DashboardWorkflowRunDetail extends DashboardWorkflowRunSummary {
  context: JsonValue;
  /** The steps in topological order. */
  nodes: DashboardWorkflowNode[];
  edges: DashboardWorkflowEdge[];
  /** A Mermaid flowchart with each step's state marked (`scheduler.workflows.toMermaid(runId)`); `null` when this node does not know the workflow. */
  mermaid: string | null;
  /** The W3C trace id of the run's span. */
  traceId: string | null;
}

const STEP_STATES: readonly StepState[] = ['pending', 'running', 'completed', 'skipped', 'failed', 'rolled_back'];

/** @internal */
export function workflowRunSummary(run: WorkflowRun): DashboardWorkflowRunSummary {
  const steps = Object.fromEntries(STEP_STATES.map((state) => [state, 0])) as Record<StepState, number>;
  for (const step of Object.values(run.steps)) steps[step.state]++;
  return {
    id: run.id,
    workflow: run.workflow,
    version: run.version,
    state: run.state,
    error: run.error,
    steps,
    runAt: iso(run.runAt),
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    finishedAt: iso(run.finishedAt),
  };
}

/** @internal */
export function workflowRunDetail(
  run: WorkflowRun,
  def: WorkflowDefinition | undefined,
  mermaid: string | null,
  redact: DashboardRedact,
): DashboardWorkflowRunDetail {
  // The definition's order when this node knows the workflow (the run's steps otherwise).
  const names = def ? def.order.filter((name) => name in run.steps) : Object.keys(run.steps);
  const nodes = names.map((name): DashboardWorkflowNode => {
    const step = run.steps[name]!;
    return {
      id: name,
      state: step.state,
      attempts: step.attempts,
      skipReason: step.skipReason,
      error: step.error,
      jobId: step.jobId,
      output: step.output === null ? null : redactJson(step.output, redact),
      rollback: step.rollback,
      startedAt: iso(step.startedAt),
      finishedAt: iso(step.finishedAt),
      queue: def?.steps.get(name)?.queue ?? null,
    };
  });
  const edges: DashboardWorkflowEdge[] = [];
  for (const name of names) {
    const step = def?.steps.get(name);
    for (const from of step?.after ?? []) edges.push({ from, to: name, kind: 'after' });
    for (const from of step?.afterAny ?? []) edges.push({ from, to: name, kind: 'afterAny' });
  }
  return {
    ...workflowRunSummary(run),
    context: redactJson(run.context, redact),
    nodes,
    edges,
    mermaid,
    traceId: run.trace?.traceId ?? null,
  };
}
